// SPDX-License-Identifier: MIT
/*
 * Differential test: the compiled calendar (kw_cal_new and its queries)
 * against a deliberately simple reference model that lives here.
 *
 * The reference never builds spans. It walks the horizon one real minute at a
 * time and asks whether the local wall-clock time of that minute (utc plus the
 * offset the kw_tzinfo table gives for it) lies inside an interval of its
 * local day or of the day before (an interval belongs to the day it starts on
 * and may run up to 24 h on), honouring holidays and extra workdays. Every
 * shift bound, zone offset, zone change and the horizon itself are whole
 * minutes, so working time is constant within each minute and the per-minute
 * model is exact to the second. Queries are answered from it by definition:
 * working seconds in [from, t) from prefix sums, a deadline by bisecting the
 * seconds for the earliest T with the wanted working time in [start, T].
 *
 * Random calendars (0-4 intervals a weekday, overnight and whole-day
 * intervals, touching intervals, holidays, extra workdays) in random zones
 * (fixed offsets, or up to six changes of +-30 min, +-1 h, +-1:30, +-2 h and a
 * Samoa-style whole day, some minutes apart), then real zones over the 2026
 * changes. Fixed seed; to reproduce one failing calendar run
 * KW_CAL_DIFF_SEED=<seed> KW_CAL_DIFF_ONLY=<iteration> test_calendar_diff,
 * and KW_CAL_DIFF_ROUNDS=<n> runs more random calendars.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

#define DEFAULT_SEED 0x6b7763616c646966ull
#define DEFAULT_ROUNDS 2000
#define MAX_CHANGES 6
#define REAL_ROUNDS 20 /* random calendars per real zone and horizon */

/* ---- a small PRNG: splitmix64 ---- */

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *g)
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n <= 1. */
static int64_t below(struct rng *g, int64_t n)
{
    return n <= 1 ? 0 : (int64_t)(rnd(g) % (uint64_t)n);
}

/* Uniform in [lo, hi]. */
static int64_t between(struct rng *g, int64_t lo, int64_t hi)
{
    return lo + below(g, hi - lo + 1);
}

static bool one_in(struct rng *g, int64_t n)
{
    return below(g, n) == 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* ---- the reference ---- */

/* Offset east of UTC at t, straight from the table. */
static int32_t ref_offset(const struct kw_tzinfo *tz, int64_t t)
{
    int32_t off = tz->initial;
    for (size_t i = 0; i < tz->n && tz->changes[i].at <= t; i++)
        off = tz->changes[i].offset;
    return off;
}

/* The intervals a local date works, or NULL for a holiday. */
static const struct kw_cal_day *ref_hours(const struct kw_cal_spec *s, int64_t day)
{
    for (size_t i = 0; i < s->n_holidays; i++)
        if (s->holidays[i] == day)
            return NULL;
    for (size_t i = 0; i < s->n_extra; i++)
        if (s->extra[i].day == day)
            return &s->extra[i].hours;
    return &s->week[kw_weekday(day)];
}

/* Whether `into` (local seconds since the start of a date) lies in one of
 * that date's intervals. */
static bool ref_in(const struct kw_cal_day *h, int64_t into)
{
    for (uint32_t i = 0; h && i < h->n; i++)
        if (into >= h->shift[i].start && into < h->shift[i].end)
            return true;
    return false;
}

struct ref {
    int64_t from, until, n; /* horizon (whole minutes) and its minutes */
    unsigned char *work;    /* minute i, [from + 60 i, from + 60 i + 60), is working */
    int64_t *before;        /* working minutes before minute i; n + 1 entries */
    int64_t *next;          /* first working minute >= i, or n; n + 1 entries */
    struct kw_span *runs;   /* maximal runs of working time, in order */
    size_t n_runs;
};

static void ref_build(struct ref *r, const struct kw_cal_spec *s, const struct kw_tzinfo *tz,
                      int64_t from, int64_t until)
{
    r->from = from;
    r->until = until;
    r->n = (until - from) / M;
    r->work = malloc((size_t)r->n + 1);
    r->before = malloc(((size_t)r->n + 1) * sizeof(int64_t));
    r->next = malloc(((size_t)r->n + 1) * sizeof(int64_t));
    r->runs = malloc(((size_t)r->n / 2 + 1) * sizeof(struct kw_span));
    assert_non_null(r->work);
    assert_non_null(r->before);
    assert_non_null(r->next);
    assert_non_null(r->runs);
    size_t ci = 0; /* changes in force: changes[0 .. ci) */
    int64_t today = INT64_MIN;
    const struct kw_cal_day *h_yesterday = NULL, *h_today = NULL;
    r->before[0] = 0;
    for (int64_t i = 0; i < r->n; i++) {
        int64_t u = from + i * M;
        while (ci < tz->n && tz->changes[ci].at <= u)
            ci++;
        int32_t off = ci ? tz->changes[ci - 1].offset : tz->initial;
        /* The local time lies in an interval of its own date or of the date
         * before (intervals run up to 24 h past their start). */
        int64_t local = u + off;
        if (kw_day_of(local) != today) {
            today = kw_day_of(local);
            h_yesterday = ref_hours(s, today - 1);
            h_today = ref_hours(s, today);
        }
        r->work[i] = ref_in(h_yesterday, local - (today - 1) * KW_DAY) ||
                     ref_in(h_today, local - today * KW_DAY);
        r->before[i + 1] = r->before[i] + r->work[i];
    }
    r->next[r->n] = r->n;
    for (int64_t i = r->n - 1; i >= 0; i--)
        r->next[i] = r->work[i] ? i : r->next[i + 1];
    r->n_runs = 0;
    for (int64_t i = 0; i < r->n;) {
        if (!r->work[i]) {
            i++;
            continue;
        }
        int64_t j = i;
        while (j < r->n && r->work[j])
            j++;
        r->runs[r->n_runs++] = (struct kw_span){from + i * M, from + j * M};
        i = j;
    }
}

static void ref_free(struct ref *r)
{
    free(r->work);
    free(r->before);
    free(r->next);
    free(r->runs);
}

/* Working seconds in [from, t), for t in [from, until]. */
static int64_t ref_w(const struct ref *r, int64_t t)
{
    int64_t k = (t - r->from) / M;
    if (k >= r->n)
        return r->before[r->n] * M;
    return r->before[k] * M + (r->work[k] ? (t - r->from) % M : 0);
}

static int64_t ref_total(const struct ref *r)
{
    return r->before[r->n] * M;
}

static bool ref_working(const struct ref *r, int64_t t)
{
    return r->work[(t - r->from) / M];
}

/* First working instant at or after t (t in [from, until)), or -1. */
static int64_t ref_next(const struct ref *r, int64_t t)
{
    if (ref_working(r, t))
        return t;
    int64_t k = r->next[(t - r->from) / M + 1];
    return k < r->n ? r->from + k * M : -1;
}

/* The earliest T >= start with `work` working seconds in [start, T], or -1
 * when the horizon ends first. Working time in [start, T] grows by one per
 * working second, so the first T reaching it has it exactly. */
static int64_t ref_deadline(const struct ref *r, int64_t start, int64_t work)
{
    if (work == 0)
        return ref_next(r, start);
    int64_t target = ref_w(r, start) + work;
    if (ref_w(r, r->until) < target)
        return -1;
    int64_t lo = start, hi = r->until; /* ref_w(hi) >= target */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ref_w(r, mid) >= target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int64_t ref_elapsed(const struct ref *r, int64_t t1, int64_t t2)
{
    return t2 > t1 ? ref_w(r, t2) - ref_w(r, t1) : 0;
}

/* The reference's runs clipped to [t1, t2), into out; returns how many. */
static size_t ref_spans(const struct ref *r, int64_t t1, int64_t t2, struct kw_span *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_runs; i++) {
        int64_t a = r->runs[i].start > t1 ? r->runs[i].start : t1;
        int64_t z = r->runs[i].end < t2 ? r->runs[i].end : t2;
        if (a < z)
            out[n++] = (struct kw_span){a, z};
    }
    return n;
}

/* ---- what is under test, for messages ---- */

struct ctx {
    const char *label;
    uint64_t seed;
    long iter;
    const struct kw_cal_spec *spec;
    const struct kw_tzinfo *tz;
    int64_t from, until;
};

/* "1767225600 (2026-01-01T00:00:00Z)" from a ring of buffers, for messages. */
static const char *at(int64_t t)
{
    static char ring[8][64];
    static unsigned next;
    char *b = ring[next++ % 8], iso[KW_INSTANT_BUF];
    if (t < -100000000000 || t > 100000000000) { /* an unset result */
        snprintf(b, 64, "%" PRId64, t);
        return b;
    }
    kw_instant_format_utc(t, iso);
    snprintf(b, 64, "%" PRId64 " (%s)", t, iso);
    return b;
}

static void describe_day(const char *name, const struct kw_cal_day *d)
{
    print_error("  %s:", name);
    for (uint32_t i = 0; i < d->n; i++) {
        int32_t a = d->shift[i].start, z = d->shift[i].end;
        print_error(" {%d, %d} %02d:%02d-%02d:%02d%s", (int)a, (int)z, (int)(a / 3600),
                    (int)(a % 3600 / 60), (int)(z % KW_DAY / 3600), (int)(z % 3600 / 60),
                    z > KW_DAY ? "(+1)" : "");
    }
    print_error("\n");
}

static void describe(const struct ctx *c)
{
    static const char *const wd[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    char date[11];
    print_error("--- %s: seed 0x%016" PRIx64 " iteration %ld\n", c->label, c->seed, c->iter);
    print_error("horizon [%s, ", at(c->from));
    print_error("%s)\n", at(c->until));
    print_error("zone %s: initial %d s\n", c->tz->name ? c->tz->name : "?", (int)c->tz->initial);
    for (size_t i = 0; i < c->tz->n; i++)
        if (c->tz->changes[i].at > c->from - 3 * KW_DAY && c->tz->changes[i].at < c->until + KW_DAY)
            print_error("  from %s: %d s\n", at(c->tz->changes[i].at),
                        (int)c->tz->changes[i].offset);
    for (int d = 0; d < 7; d++)
        describe_day(wd[d], &c->spec->week[d]);
    print_error("holidays:");
    for (size_t i = 0; i < c->spec->n_holidays; i++) {
        kw_date_format(c->spec->holidays[i], date);
        print_error(" %s (%" PRId64 ")", date, c->spec->holidays[i]);
    }
    print_error("\n");
    for (size_t i = 0; i < c->spec->n_extra; i++) {
        char name[40];
        kw_date_format(c->spec->extra[i].day, date);
        snprintf(name, sizeof(name), "extra %s (%" PRId64 ")", date, c->spec->extra[i].day);
        describe_day(name, &c->spec->extra[i].hours);
    }
}

static void mismatch(const struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mismatch(const struct ctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    describe(c);
    fail_msg("%s (seed 0x%016" PRIx64 " iteration %ld): %s", c->label, c->seed, c->iter, msg);
}

/* The reference is exact only on a whole-minute grid: make sure the horizon,
 * the offsets in force in it and the changes inside it are on one. (A real
 * zone's table reaches far beyond the horizon; only this part matters.) */
static void check_grid(const struct ctx *c)
{
    if (c->from % M || c->until % M || c->until <= c->from || ref_offset(c->tz, c->from) % M)
        fail_msg("%s: horizon or zone off the minute grid", c->label);
    for (size_t i = 0; i < c->tz->n; i++) {
        const struct kw_tz_change *ch = &c->tz->changes[i];
        if (i && ch->at <= c->tz->changes[i - 1].at)
            fail_msg("%s: zone change %zu out of order", c->label, i);
        if (ch->at >= c->from && ch->at < c->until && (ch->at % M || ch->offset % M))
            fail_msg("%s: zone change %zu (%s) off the minute grid", c->label, i, at(ch->at));
    }
    for (int d = 0; d < 7 + (int)c->spec->n_extra; d++) {
        const struct kw_cal_day *h = d < 7 ? &c->spec->week[d] : &c->spec->extra[d - 7].hours;
        for (uint32_t i = 0; i < h->n; i++)
            if (h->shift[i].start % M || h->shift[i].end % M)
                fail_msg("%s: interval off the minute grid", c->label);
    }
}

/* ---- the comparisons ---- */

struct stats {
    long calendars, compiled, invalid, instants, queries;
};

static void expect_code(const struct ctx *c, enum kw_code got, enum kw_code want, const char *what,
                        int64_t t)
{
    if (got != want)
        mismatch(c, "%s at %s: code %s, want %s", what, at(t), kw_code_name(got),
                 kw_code_name(want));
}

/* kw_cal_spans over [t1, t2) against the reference, once to count and once
 * into a buffer of random capacity (entries past it must stay untouched). */
static void check_spans(const struct ctx *c, const struct ref *r, const struct kw_cal *cal,
                        struct rng *g, int64_t t1, int64_t t2, struct kw_span *want,
                        struct kw_span *got, struct stats *st)
{
    size_t nw = t2 > t1 ? ref_spans(r, t1, t2, want) : 0;
    size_t n = kw_cal_spans(cal, t1, t2, NULL, 0);
    if (n != nw)
        mismatch(c, "spans(%s, %s) counts %zu, want %zu", at(t1), at(t2), n, nw);
    size_t cap = one_in(g, 3) ? (size_t)below(g, (int64_t)nw + 1) : nw;
    for (size_t i = 0; i <= cap; i++)
        got[i] = (struct kw_span){INT64_MIN, INT64_MIN};
    n = kw_cal_spans(cal, t1, t2, got, cap);
    if (n != nw)
        mismatch(c, "spans(%s, %s) with cap %zu returns %zu, want %zu", at(t1), at(t2), cap, n, nw);
    for (size_t i = 0; i < cap && i < nw; i++)
        if (got[i].start != want[i].start || got[i].end != want[i].end)
            mismatch(c, "spans(%s, %s)[%zu] = [%s, %s), want [%s, %s)", at(t1), at(t2), i,
                     at(got[i].start), at(got[i].end), at(want[i].start), at(want[i].end));
    if (got[cap].start != INT64_MIN)
        mismatch(c, "spans(%s, %s) wrote past its capacity %zu", at(t1), at(t2), cap);
    st->queries += 2;
}

static void check_deadline(const struct ctx *c, const struct ref *r, const struct kw_cal *cal,
                           int64_t t, int64_t work, struct stats *st)
{
    struct kw_err err = {0};
    int64_t got = INT64_MIN, want = ref_deadline(r, t, work);
    enum kw_code rc = kw_cal_deadline(cal, t, work, &got, &err);
    if (want < 0 && rc != KW_RANGE)
        mismatch(c,
                 "deadline(%s, %" PRId64 ") = %s (code %s), want KW_RANGE (%" PRId64
                 " s left in the horizon)",
                 at(t), work, at(got), kw_code_name(rc), ref_w(r, r->until) - ref_w(r, t));
    if (want >= 0 && (rc != KW_OK || got != want))
        mismatch(c, "deadline(%s, %" PRId64 ") = %s (code %s: %s), want %s", at(t), work, at(got),
                 kw_code_name(rc), err.msg, at(want));
    st->queries++;
}

static void check_elapsed(const struct ctx *c, const struct ref *r, const struct kw_cal *cal,
                          int64_t t1, int64_t t2, struct stats *st)
{
    struct kw_err err = {0};
    int64_t got = INT64_MIN, want = ref_elapsed(r, t1, t2);
    enum kw_code rc = kw_cal_elapsed(cal, t1, t2, &got, &err);
    if (rc != KW_OK || got != want)
        mismatch(c, "elapsed(%s, %s) = %" PRId64 " (code %s: %s), want %" PRId64, at(t1), at(t2),
                 got, kw_code_name(rc), err.msg, want);
    st->queries++;
}

/* A random edge of a reference run: a start or an end. */
static int64_t run_edge(const struct ref *r, struct rng *g)
{
    const struct kw_span *s = &r->runs[below(g, (int64_t)r->n_runs)];
    return one_in(g, 2) ? s->start : s->end;
}

/* Every query at instant t in [from, until). */
static void check_instant(const struct ctx *c, const struct ref *r, const struct kw_cal *cal,
                          struct rng *g, int64_t t, struct kw_span *want, struct kw_span *got,
                          struct stats *st)
{
    struct kw_err err = {0};
    if (kw_cal_utc_offset(cal, t) != ref_offset(c->tz, t))
        mismatch(c, "utc_offset(%s) = %d, want %d", at(t), (int)kw_cal_utc_offset(cal, t),
                 (int)ref_offset(c->tz, t));

    bool w = false;
    expect_code(c, kw_cal_is_working(cal, t, &w, &err), KW_OK, "is_working", t);
    if (w != ref_working(r, t))
        mismatch(c, "is_working(%s) = %d, want %d", at(t), w, ref_working(r, t));

    int64_t next = INT64_MIN, want_next = ref_next(r, t);
    enum kw_code rc = kw_cal_next_working(cal, t, &next, &err);
    if (want_next < 0 ? rc != KW_RANGE : rc != KW_OK || next != want_next)
        mismatch(c, "next_working(%s) = %s (code %s), want %s", at(t), at(next), kw_code_name(rc),
                 want_next < 0 ? "KW_RANGE" : at(want_next));
    st->queries += 3;

    /* Deadlines: nothing, a little, the rest of the horizon exactly, a second
     * more, and amounts that end exactly at the edges of runs. */
    int64_t rem = ref_w(r, r->until) - ref_w(r, t);
    int64_t works[] = {0,
                       1,
                       59,
                       60,
                       61,
                       between(g, 1, 3600),
                       between(g, 1, 12 * 3600),
                       rem > 0 ? between(g, 1, rem) : 0,
                       rem,
                       rem + 1,
                       rem + between(g, 1, 1000000),
                       ref_elapsed(r, t, run_edge(r, g)),
                       ref_elapsed(r, t, run_edge(r, g)),
                       ref_elapsed(r, t, run_edge(r, g)) + (one_in(g, 2) ? 1 : -1)};
    for (size_t i = 0; i < N_ELEMS(works); i++)
        if (works[i] >= 0)
            check_deadline(c, r, cal, t, works[i], st);

    /* Elapsed to itself, its neighbours, anywhere, the end, and run edges. */
    int64_t t2s[] = {t,
                     t - 1,
                     t + 1,
                     between(g, c->from, c->until),
                     c->until,
                     t + between(g, 0, 3 * KW_DAY),
                     run_edge(r, g),
                     run_edge(r, g) + (one_in(g, 2) ? 1 : -1)};
    for (size_t i = 0; i < N_ELEMS(t2s); i++)
        if (t2s[i] >= c->from && t2s[i] <= c->until)
            check_elapsed(c, r, cal, t, t2s[i], st);

    /* Spans: short windows, anywhere after t, to the end. */
    int64_t ends[] = {t + between(g, 1, 2 * KW_DAY), between(g, t, c->until), c->until,
                      run_edge(r, g)};
    for (size_t i = 0; i < N_ELEMS(ends); i++)
        if (ends[i] <= c->until)
            check_spans(c, r, cal, g, t, ends[i], want, got, st);
    st->instants++;
}

/* Compile the calendar of c and compare it with the reference everywhere
 * interesting. */
static void check_calendar(const struct ctx *c, struct rng *g, struct stats *st)
{
    struct kw_err err = {0};
    struct ref r;
    check_grid(c);
    ref_build(&r, c->spec, c->tz, c->from, c->until);
    st->calendars++;
    struct kw_cal *cal = kw_cal_new(c->spec, c->tz, c->from, c->until, &err);
    if (!cal) {
        if (err.code != KW_INVALID)
            mismatch(c, "kw_cal_new failed with %s: %s", kw_code_name(err.code), err.msg);
        if (r.n_runs)
            mismatch(c, "kw_cal_new: \"%s\", but the reference works %" PRId64 " s, first [%s, %s)",
                     err.msg, ref_total(&r), at(r.runs[0].start), at(r.runs[0].end));
        st->invalid++;
        ref_free(&r);
        return;
    }
    if (!r.n_runs)
        mismatch(c, "compiled, but the reference has no working time");
    st->compiled++;

    /* The calendar as a whole. */
    int64_t f, u, all = -1;
    kw_cal_horizon(cal, &f, &u);
    if (f != c->from || u != c->until)
        mismatch(c, "horizon [%s, %s)", at(f), at(u));
    if (kw_cal_span_count(cal) != r.n_runs)
        mismatch(c, "span_count %zu, want %zu (maximal runs)", kw_cal_span_count(cal), r.n_runs);
    check_elapsed(c, &r, cal, c->from, c->until, st);
    int64_t first, last, z = r.runs[r.n_runs - 1].end - 1;
    kw_cal_covered_days(cal, &first, &last);
    int64_t want_first = kw_day_of(r.runs[0].start + ref_offset(c->tz, r.runs[0].start));
    int64_t want_last = kw_day_of(z + ref_offset(c->tz, z));
    if (first != want_first || last != want_last)
        mismatch(c, "covered_days %" PRId64 "..%" PRId64 ", want %" PRId64 "..%" PRId64, first,
                 last, want_first, want_last);
    expect_code(c, kw_cal_elapsed(cal, c->from, c->until, &all, &err), KW_OK, "elapsed", c->from);
    check_deadline(c, &r, cal, c->from, all, st);

    /* Outside the horizon. */
    bool w;
    int64_t out;
    expect_code(c, kw_cal_is_working(cal, c->from - 1, &w, &err), KW_RANGE, "is_working",
                c->from - 1);
    expect_code(c, kw_cal_is_working(cal, c->until, &w, &err), KW_RANGE, "is_working", c->until);
    expect_code(c, kw_cal_next_working(cal, c->from - 1, &out, &err), KW_RANGE, "next_working",
                c->from - 1);
    expect_code(c, kw_cal_next_working(cal, c->until, &out, &err), KW_RANGE, "next_working",
                c->until);
    expect_code(c, kw_cal_deadline(cal, c->from - 1, 0, &out, &err), KW_RANGE, "deadline 0",
                c->from - 1);
    expect_code(c, kw_cal_deadline(cal, c->from - 1, 60, &out, &err), KW_RANGE, "deadline 60",
                c->from - 1);
    expect_code(c, kw_cal_deadline(cal, c->until, 0, &out, &err), KW_RANGE, "deadline 0", c->until);
    expect_code(c, kw_cal_deadline(cal, c->until, 60, &out, &err), KW_RANGE, "deadline 60",
                c->until);
    expect_code(c, kw_cal_deadline(cal, c->from, -1, &out, &err), KW_INVALID, "deadline -1",
                c->from);
    expect_code(c, kw_cal_elapsed(cal, c->from - 1, c->from, &out, &err), KW_RANGE, "elapsed",
                c->from - 1);
    expect_code(c, kw_cal_elapsed(cal, c->from, c->until + 1, &out, &err), KW_RANGE, "elapsed",
                c->until + 1);
    st->queries += 11;

    /* The instants: horizon ends, run edges and their neighbours, zone
     * changes and their neighbours, and random ones. */
    int64_t ts[160];
    size_t n = 0;
    ts[n++] = c->from;
    ts[n++] = c->from + 1;
    ts[n++] = c->until - 1;
    ts[n++] = c->until - M;
    for (int i = 0; i < 8; i++) {
        int64_t e = run_edge(&r, g);
        for (int64_t d = -1; d <= 1; d++)
            ts[n++] = e + d;
    }
    for (size_t i = 0; i < c->tz->n && n < N_ELEMS(ts) - 40; i++) {
        int64_t ch = c->tz->changes[i].at;
        if (ch >= c->from && ch <= c->until)
            for (int64_t d = -1; d <= 1; d++)
                ts[n++] = ch + d;
    }
    for (int i = 0; i < 10; i++)
        ts[n++] = between(g, c->from, c->until - 1);
    for (int i = 0; i < 6; i++)
        ts[n++] = c->from + below(g, r.n) * M;
    struct kw_span *want = malloc((r.n_runs + 1) * sizeof(*want));
    struct kw_span *got = malloc((r.n_runs + 1) * sizeof(*got));
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < n; i++)
        if (ts[i] >= c->from && ts[i] < c->until)
            check_instant(c, &r, cal, g, ts[i], want, got, st);

    /* Spans over more than the horizon: all of its runs, clipped to it. */
    check_spans(c, &r, cal, g, c->from - 2 * KW_DAY, c->until + 2 * KW_DAY, want, got, st);
    check_spans(c, &r, cal, g, c->from - 2 * KW_DAY, c->from + between(g, 0, r.n) * M, want, got,
                st);
    check_spans(c, &r, cal, g, c->from + below(g, r.n) * M, c->until + 1, want, got, st);
    free(want);
    free(got);
    kw_cal_free(cal);
    ref_free(&r);
}

/* ---- random calendars ---- */

/* Add [start, end) to a day if it is a valid interval clear of the others. */
static void try_add(struct kw_cal_day *d, int32_t start, int32_t end)
{
    if (d->n >= KW_CAL_MAX_SHIFTS || start < 0 || start >= KW_DAY || end <= start ||
        end - start > KW_DAY)
        return;
    for (uint32_t i = 0; i < d->n; i++)
        if (start < d->shift[i].end && d->shift[i].start < end)
            return;
    d->shift[d->n++] = (struct kw_cal_shift){start, end};
}

/* Up to `want` intervals on a grid of `grain` seconds, in random order. */
static void random_day(struct rng *g, struct kw_cal_day *d, int32_t grain, uint32_t want)
{
    const int32_t slots = KW_DAY / grain;
    memset(d, 0, sizeof(*d));
    for (int tries = 0; tries < 40 && d->n < want; tries++) {
        int32_t s = (int32_t)below(g, slots) * grain, e;
        int64_t kind = below(g, 12);
        if (kind == 5 && d->n == 0)
            kind = 6;
        switch (kind) {
        case 0: /* the whole day */
            s = 0;
            e = KW_DAY;
            break;
        case 1: /* 24 hours from s, into the next day */
            e = s + KW_DAY;
            break;
        case 2:
        case 3: /* overnight: evening to some time next morning */
            s = (int32_t)between(g, slots / 2, slots - 1) * grain;
            e = KW_DAY + (int32_t)between(g, 1, s / grain) * grain;
            break;
        case 4: /* up to 24:00 */
            e = KW_DAY;
            break;
        case 5: { /* touching another interval of the day, after or before it */
            const struct kw_cal_shift *o = &d->shift[below(g, d->n)];
            int32_t len = (int32_t)between(g, 1, 8 * 3600 / grain) * grain;
            s = one_in(g, 2) ? o->end : o->start - len;
            e = s + len;
            break;
        }
        case 6: /* the small hours, where zones change */
            s = (int32_t)below(g, 4 * 3600 / grain) * grain;
            e = s + (int32_t)between(g, 1, 4 * 3600 / grain) * grain;
            break;
        default:
            e = s + (int32_t)between(g, 1, 10 * 3600 / grain) * grain;
            break;
        }
        try_add(d, s, e);
    }
}

static bool has_day(const int64_t *days, size_t n, int64_t day)
{
    for (size_t i = 0; i < n; i++)
        if (days[i] == day)
            return true;
    return false;
}

/* A random checked spec for a horizon over local dates [d0, d1]. */
static void random_spec(struct rng *g, struct kw_cal_spec *s, int64_t d0, int64_t d1)
{
    static const int32_t grains[] = {60, 60, 900, 1800, 3600, 3600};
    const int32_t grain = grains[below(g, N_ELEMS(grains))];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "random");
    bool idle_week = one_in(g, 12);
    for (int d = 0; d < 7; d++)
        random_day(g, &s->week[d], grain, idle_week ? 0 : (uint32_t)below(g, 5));

    /* Holidays: a few, or now and then every date of the horizon. */
    size_t want = one_in(g, 15) ? (size_t)(d1 - d0 + 1) : (size_t)below(g, 8);
    s->holidays = malloc((want + 1) * sizeof(int64_t));
    assert_non_null(s->holidays);
    for (size_t i = 0; i < want; i++) {
        int64_t day = want > 8 ? d0 + (int64_t)i : between(g, d0, d1);
        if (!has_day(s->holidays, s->n_holidays, day))
            s->holidays[s->n_holidays++] = day;
    }
    size_t n_extra = (size_t)below(g, 5);
    s->extra = calloc(n_extra + 1, sizeof(*s->extra));
    assert_non_null(s->extra);
    for (size_t i = 0; i < n_extra; i++) {
        int64_t day = between(g, d0, d1);
        bool taken = has_day(s->holidays, s->n_holidays, day);
        for (size_t j = 0; j < s->n_extra; j++)
            taken = taken || s->extra[j].day == day;
        if (taken)
            continue;
        struct kw_cal_extra *x = &s->extra[s->n_extra++];
        x->day = day;
        while (x->hours.n == 0)
            random_day(g, &x->hours, grain, (uint32_t)between(g, 1, 3));
    }
    struct kw_err err = {0};
    if (kw_cal_spec_check(s, &err) != KW_OK)
        fail_msg("random spec rejected: %s (%s)", err.msg, err.field);
}

struct zone {
    struct kw_tz_change ch[MAX_CHANGES];
    struct kw_tzinfo tz;
};

/* A fixed offset, or up to MAX_CHANGES changes from two days before the
 * horizon to a day after it, some placed where the local clock shows a whole
 * hour, some minutes apart. Offsets stay within +-15 h. */
static void random_zone(struct rng *g, struct zone *z, int64_t from, int64_t until)
{
    static const int32_t units[] = {60, 900, 1800, 3600, 3600};
    static const int32_t steps[] = {3600, -3600, 1800, -1800, 5400, -5400, 7200, -7200, 60, 0};
    const int32_t unit = units[below(g, N_ELEMS(units))], lim = 15 * 3600;
    int32_t off = (int32_t)between(g, -12 * 3600 / unit, 14 * 3600 / unit) * unit;
    z->tz = (struct kw_tzinfo){.name = "Test/Random", .initial = off, .changes = z->ch};
    size_t want = one_in(g, 4) ? 0 : (size_t)between(g, 1, MAX_CHANGES);
    int64_t lo = from - 2 * KW_DAY, span_min = (until + KW_DAY - lo) / M;
    int64_t ats[MAX_CHANGES];
    for (size_t i = 0; i < want; i++) {
        if (i && one_in(g, 4))
            ats[i] = ats[i - 1] + between(g, 1, 180) * M; /* close behind another */
        else
            ats[i] = lo + below(g, span_min) * M;
    }
    /* insertion sort */
    for (size_t i = 1; i < want; i++)
        for (size_t j = i; j > 0 && ats[j] < ats[j - 1]; j--) {
            int64_t t = ats[j];
            ats[j] = ats[j - 1];
            ats[j - 1] = t;
        }
    bool on_the_hour = one_in(g, 2);
    for (size_t i = 0; i < want; i++) {
        int64_t t = ats[i];
        if (on_the_hour)
            t -= ((t + off) % 3600 + 3600) % 3600;
        if (z->tz.n && t <= z->ch[z->tz.n - 1].at)
            continue;
        int32_t step = one_in(g, 20) ? (off < 0 ? 24 * 3600 : -24 * 3600) /* Samoa 2011 */
                                     : steps[below(g, N_ELEMS(steps))];
        if (off + step > lim || off + step < -lim)
            step = -step;
        if (off + step > lim || off + step < -lim)
            step = 0;
        off += step;
        z->ch[z->tz.n++] = (struct kw_tz_change){t, off};
    }
}

static void test_random_calendars_and_zones(void **state)
{
    (void)state;
    const uint64_t seed = env_u64("KW_CAL_DIFF_SEED", DEFAULT_SEED);
    const long rounds = (long)env_u64("KW_CAL_DIFF_ROUNDS", DEFAULT_ROUNDS);
    const long only = (long)env_u64("KW_CAL_DIFF_ONLY", (uint64_t)-1);
    struct stats st = {0};
    for (long iter = 0; iter < rounds; iter++) {
        if (only >= 0 && iter != only)
            continue;
        struct rng g = {seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(iter + 1))};
        int64_t day0 = kw_days_from_civil(2024, 1, 1) + below(&g, 6 * 365);
        int64_t from = day0 * KW_DAY + below(&g, 1440) * M, minutes;
        if (one_in(&g, 16))
            minutes = between(&g, 1, 720); /* a few minutes to half a day */
        else if (one_in(&g, 25))
            minutes = between(&g, 10, 35) * 1440 + below(&g, 1440); /* weeks */
        else
            minutes = between(&g, 0, 4) * 1440 + between(&g, 720, 1440); /* days */
        int64_t until = from + minutes * M;
        struct zone z;
        random_zone(&g, &z, from, until);
        struct kw_cal_spec spec;
        random_spec(&g, &spec, kw_day_of(from) - 2, kw_day_of(until) + 2);
        struct ctx c = {"random", seed, iter, &spec, &z.tz, from, until};
        check_calendar(&c, &g, &st);
        kw_cal_spec_release(&spec);
    }
    print_message("      %ld calendars (%ld compiled, %ld without working time), %ld instants, "
                  "%ld queries agree with the reference\n",
                  st.calendars, st.compiled, st.invalid, st.instants, st.queries);
    if (only < 0 && rounds >= DEFAULT_ROUNDS) {
        assert_true(st.compiled > rounds / 2);
        assert_true(st.invalid > 0);
    }
}

/* Real zones from the system database: first that their tables hold the 2026
 * changes, then random calendars over a few days around each change (and one
 * over all of 2026 per zone). */
static void test_real_zones(void **state)
{
    (void)state;
    static const struct {
        const char *zone, *at;
        int32_t before, after;
    } changes[] = {
        {"America/New_York", "2026-03-08T07:00:00Z", -5 * 3600, -4 * 3600},
        {"America/New_York", "2026-11-01T06:00:00Z", -4 * 3600, -5 * 3600},
        {"Europe/Berlin", "2026-03-29T01:00:00Z", 3600, 7200},
        {"Europe/Berlin", "2026-10-25T01:00:00Z", 7200, 3600},
        {"Australia/Lord_Howe", "2026-04-04T15:00:00Z", 39600, 37800}, /* back 30 min */
        {"Australia/Lord_Howe", "2026-10-03T15:30:00Z", 37800, 39600}, /* on 30 min */
    };
    const uint64_t seed = env_u64("KW_CAL_DIFF_SEED", DEFAULT_SEED);
    struct kw_tzdb *db = kw_tzdb_new();
    assert_non_null(db);
    struct stats st = {0};
    long iter = 0;
    for (size_t k = 0; k < N_ELEMS(changes); k++, iter++) {
        struct kw_tzinfo tz;
        struct kw_err err = {0};
        if (kw_tzdb_get(db, changes[k].zone, &tz, &err) != KW_OK)
            fail_msg("%s: %s", changes[k].zone, err.msg);
        int64_t t = T(changes[k].at);
        if (ref_offset(&tz, t - 1) != changes[k].before || ref_offset(&tz, t) != changes[k].after)
            fail_msg("%s at %s: offsets %d then %d, want %d then %d", changes[k].zone,
                     changes[k].at, (int)ref_offset(&tz, t - 1), (int)ref_offset(&tz, t),
                     (int)changes[k].before, (int)changes[k].after);
        for (int i = 0; i <= REAL_ROUNDS; i++, iter++) {
            struct rng g = {seed ^ 0x5245414c5a4f4e45ull ^ (uint64_t)iter * 0x9E3779B9ull};
            int64_t from, until;
            if (i < REAL_ROUNDS) {
                from = (kw_day_of(t) - between(&g, 0, 4)) * KW_DAY + below(&g, 1440) * M;
                until = (from > t ? from : t) + between(&g, 1, 6 * 1440) * M;
            } else if (k % 2 == 0) {
                from = T("2026-01-01T00:00:00Z");
                until = T("2027-01-01T00:00:00Z");
            } else {
                continue;
            }
            struct kw_cal_spec spec;
            random_spec(&g, &spec, kw_day_of(from) - 2, kw_day_of(until) + 2);
            snprintf(spec.tz, sizeof(spec.tz), "%s", changes[k].zone);
            struct ctx c = {changes[k].zone, seed, iter, &spec, &tz, from, until};
            check_calendar(&c, &g, &st);
            kw_cal_spec_release(&spec);
        }
    }
    kw_tzdb_free(db);
    print_message("      %ld calendars (%ld compiled), %ld instants, %ld queries agree\n",
                  st.calendars, st.compiled, st.instants, st.queries);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_calendars_and_zones),
        cmocka_unit_test(test_real_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
