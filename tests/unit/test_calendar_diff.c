// SPDX-License-Identifier: MIT
/*
 * Differential test: the compiled calendar against a deliberately simple
 * reference that decides, minute by minute, whether the local wall-clock time
 * of that minute lies inside a shift of its day (or of the day before, for
 * overnight shifts). Shift bounds, zone offsets and transitions are whole
 * minutes, so working time is constant within each minute and the reference
 * is exact. Thousands of random calendars and zones, fixed seed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t below(int64_t n)
{
    return (int64_t)(rnd() % (uint64_t)n);
}

struct ref {
    int64_t from, n;  /* horizon start (UTC, whole minute) and its minutes */
    bool *working;    /* per minute */
    int64_t *prefix;  /* working minutes before minute i */
};

static int32_t offset_at(const struct kw_tzinfo *tz, int64_t t)
{
    int32_t off = tz->initial;
    for (size_t i = 0; i < tz->n && tz->changes[i].at <= t; i++)
        off = tz->changes[i].offset;
    return off;
}

static const struct kw_cal_day *hours(const struct kw_cal_spec *s, int64_t day)
{
    for (size_t i = 0; i < s->n_holidays; i++)
        if (s->holidays[i] == day)
            return NULL;
    for (size_t i = 0; i < s->n_extra; i++)
        if (s->extra[i].day == day)
            return &s->extra[i].hours;
    return &s->week[kw_weekday(day)];
}

static bool ref_working_at(const struct kw_cal_spec *s, const struct kw_tzinfo *tz, int64_t u)
{
    int64_t local = u + offset_at(tz, u);
    int64_t day = kw_day_of(local);
    for (int64_t d = day - 1; d <= day; d++) {
        const struct kw_cal_day *h = hours(s, d);
        for (uint32_t i = 0; h && i < h->n; i++) {
            int64_t into = local - d * KW_DAY;
            if (into >= h->shift[i].start && into < h->shift[i].end)
                return true;
        }
    }
    return false;
}

static void ref_build(struct ref *r, const struct kw_cal_spec *s, const struct kw_tzinfo *tz,
                      int64_t from, int64_t until)
{
    r->from = from;
    r->n = (until - from) / 60;
    r->working = malloc((size_t)r->n * sizeof(bool));
    r->prefix = malloc((size_t)(r->n + 1) * sizeof(int64_t));
    r->prefix[0] = 0;
    for (int64_t i = 0; i < r->n; i++) {
        r->working[i] = ref_working_at(s, tz, from + i * 60);
        r->prefix[i + 1] = r->prefix[i] + r->working[i];
    }
}

static void ref_free(struct ref *r)
{
    free(r->working);
    free(r->prefix);
}

/* Working seconds in [from, t). */
static int64_t ref_w(const struct ref *r, int64_t t)
{
    int64_t k = (t - r->from) / 60, a = r->from + k * 60;
    if (k >= r->n)
        return r->prefix[r->n] * 60;
    return r->prefix[k] * 60 + (r->working[k] ? t - a : 0);
}

static bool ref_is_working(const struct ref *r, int64_t t)
{
    return r->working[(t - r->from) / 60];
}

/* Next working instant at or after t, or -1. */
static int64_t ref_next(const struct ref *r, int64_t t)
{
    if (ref_is_working(r, t))
        return t;
    for (int64_t k = (t - r->from) / 60 + 1; k < r->n; k++)
        if (r->working[k])
            return r->from + k * 60;
    return -1;
}

/* Earliest T >= start with work in [start, T] == w, or -1 past the horizon. */
static int64_t ref_deadline(const struct ref *r, int64_t start, int64_t w)
{
    if (w == 0)
        return ref_next(r, start);
    int64_t target = ref_w(r, start) + w;
    if (target > r->prefix[r->n] * 60)
        return -1;
    for (int64_t k = (start - r->from) / 60; k < r->n; k++) {
        int64_t a = r->from + k * 60;
        if (r->working[k] && ref_w(r, a + 60) >= target)
            return a + (target - ref_w(r, a));
    }
    return -1;
}

static void random_day(struct kw_cal_day *day, int max_shifts)
{
    day->n = 0;
    int want = (int)below(max_shifts + 1);
    for (int tries = 0; tries < 20 && (int)day->n < want; tries++) {
        int32_t start = (int32_t)below(1440) * 60;
        int32_t len = below(4) == 0 ? (int32_t)(1 + below(1440)) * 60 : (int32_t)(1 + below(600)) * 60;
        if (below(8) == 0) { /* whole days */
            start = 0;
            len = 1440 * 60;
        }
        struct kw_cal_shift s = {start, start + len};
        bool clash = false;
        for (uint32_t i = 0; i < day->n && !clash; i++)
            clash = s.start < day->shift[i].end && day->shift[i].start < s.end;
        if (!clash)
            day->shift[day->n++] = s;
    }
}

/* A random spec with holidays and extra workdays around [day0, day0 + days). */
static void random_spec(struct kw_cal_spec *s, int64_t day0, int64_t days)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->tz, sizeof(s->tz), "X");
    for (int d = 0; d < 7; d++)
        random_day(&s->week[d], below(5) == 0 ? 0 : 3);
    s->n_holidays = (size_t)below(6);
    s->holidays = malloc((s->n_holidays + 1) * sizeof(int64_t));
    size_t nh = 0;
    for (size_t i = 0; i < s->n_holidays; i++) {
        int64_t d = day0 - 1 + below(days + 2);
        bool dup = false;
        for (size_t j = 0; j < nh; j++)
            dup = dup || s->holidays[j] == d;
        if (!dup)
            s->holidays[nh++] = d;
    }
    s->n_holidays = nh;
    size_t nx = (size_t)below(4);
    s->extra = calloc(nx + 1, sizeof(*s->extra));
    for (size_t i = 0; i < nx; i++) {
        int64_t d = day0 - 1 + below(days + 2);
        bool dup = false;
        for (size_t j = 0; j < nh; j++)
            dup = dup || s->holidays[j] == d;
        for (size_t j = 0; j < s->n_extra; j++)
            dup = dup || s->extra[j].day == d;
        if (dup)
            continue;
        s->extra[s->n_extra].day = d;
        do
            random_day(&s->extra[s->n_extra].hours, 2);
        while (s->extra[s->n_extra].hours.n == 0);
        s->n_extra++;
    }
    struct kw_err err = {0};
    if (kw_cal_spec_check(s, &err) != KW_OK)
        fail_msg("random spec rejected: %s", err.msg);
}

static void describe(const struct kw_cal_spec *s, const struct kw_tzinfo *tz, int64_t from,
                     int64_t until)
{
    json_t *j = kw_cal_spec_to_json(s);
    char *text = json_dumps(j, JSON_COMPACT);
    print_error("calendar %s\nzone initial %d, %zu changes:", text, tz->initial, tz->n);
    for (size_t i = 0; i < tz->n; i++)
        print_error(" %lld:%d", (long long)tz->changes[i].at, tz->changes[i].offset);
    print_error("\nhorizon %lld..%lld\n", (long long)from, (long long)until);
    free(text);
    json_decref(j);
}

/* Compare every query at random instants (and at span edges). Returns the
 * number of queries checked. */
static size_t compare(const struct kw_cal_spec *s, const struct kw_tzinfo *tz, int64_t from,
                      int64_t until, int queries, const char *label)
{
    struct kw_err err = {0};
    struct ref r;
    ref_build(&r, s, tz, from, until);
    struct kw_cal *cal = kw_cal_new(s, tz, from, until, &err);
    if (!cal) {
        if (r.prefix[r.n] != 0) {
            describe(s, tz, from, until);
            fail_msg("%s: compile failed (%s) but the reference has working time", label, err.msg);
        }
        ref_free(&r);
        return 0;
    }
    if (r.prefix[r.n] == 0) {
        describe(s, tz, from, until);
        fail_msg("%s: compiled, but the reference has no working time", label);
    }
    size_t checked = 0;
    int64_t span = until - from;
    for (int q = 0; q < queries; q++) {
        int64_t t1 = from + below(span), t2 = from + below(span + 1);
        if (below(3) == 0) /* land on a minute edge, where shifts begin and end */
            t1 -= (t1 - from) % 60;
        int64_t got, want;
        bool w;
        /* elapsed */
        assert_int_equal(kw_cal_elapsed(cal, t1, t2, &got, &err), KW_OK);
        want = t2 > t1 ? ref_w(&r, t2) - ref_w(&r, t1) : 0;
        if (got != want) {
            describe(s, tz, from, until);
            fail_msg("%s: elapsed(%lld, %lld) = %lld, want %lld", label, (long long)t1,
                     (long long)t2, (long long)got, (long long)want);
        }
        /* is_working / next_working */
        assert_int_equal(kw_cal_is_working(cal, t1, &w, &err), KW_OK);
        if (w != ref_is_working(&r, t1)) {
            describe(s, tz, from, until);
            fail_msg("%s: is_working(%lld) = %d", label, (long long)t1, w);
        }
        want = ref_next(&r, t1);
        enum kw_code rc = kw_cal_next_working(cal, t1, &got, &err);
        if ((want < 0) != (rc == KW_RANGE) || (want >= 0 && got != want)) {
            describe(s, tz, from, until);
            fail_msg("%s: next_working(%lld) = %lld (rc %d), want %lld", label, (long long)t1,
                     (long long)got, rc, (long long)want);
        }
        /* deadline: zero, small, large, and past the horizon */
        int64_t works[] = {0, 1 + below(3600), below(r.prefix[r.n] * 60 + 1),
                           r.prefix[r.n] * 60 + 1};
        for (size_t k = 0; k < N_ELEMS(works); k++) {
            want = ref_deadline(&r, t1, works[k]);
            rc = kw_cal_deadline(cal, t1, works[k], &got, &err);
            if ((want < 0) != (rc == KW_RANGE) || (want >= 0 && (rc != KW_OK || got != want))) {
                describe(s, tz, from, until);
                fail_msg("%s: deadline(%lld, %lld) = %lld (rc %d: %s), want %lld", label,
                         (long long)t1, (long long)works[k], (long long)got, rc, err.msg,
                         (long long)want);
            }
        }
        /* spans: the reference's maximal runs of working minutes, clipped */
        if (t2 > t1) {
            struct kw_span sp[64];
            size_t n = kw_cal_spans(cal, t1, t2, sp, N_ELEMS(sp)), m = 0;
            int64_t t = t1;
            while (t < t2) {
                if (!ref_is_working(&r, t)) {
                    t = t - (t - from) % 60 + 60;
                    continue;
                }
                int64_t a = t;
                while (t < t2 && ref_is_working(&r, t))
                    t = t - (t - from) % 60 + 60;
                int64_t z = t < t2 ? t : t2;
                if (m < N_ELEMS(sp) && m < n && (sp[m].start != a || sp[m].end != z)) {
                    describe(s, tz, from, until);
                    fail_msg("%s: spans(%lld, %lld)[%zu] = [%lld, %lld), want [%lld, %lld)", label,
                             (long long)t1, (long long)t2, m, (long long)sp[m].start,
                             (long long)sp[m].end, (long long)a, (long long)z);
                }
                m++;
            }
            if (m != n) {
                describe(s, tz, from, until);
                fail_msg("%s: spans(%lld, %lld): %zu, want %zu", label, (long long)t1,
                         (long long)t2, n, m);
            }
        }
        checked++;
    }
    kw_cal_free(cal);
    ref_free(&r);
    return checked;
}

static void test_random_calendars_and_zones(void **state)
{
    (void)state;
    rng_state = 20260214;
    size_t checked = 0;
    for (int iter = 0; iter < 1500; iter++) {
        int64_t day0 = kw_days_from_civil(2026, 1, 1) + below(330);
        int64_t days = 7 + below(21);
        int64_t from = day0 * KW_DAY + below(1440) * 60, until = from + days * KW_DAY;
        struct kw_cal_spec s;
        random_spec(&s, day0, days);
        /* a zone: fixed, or with up to three changes inside the horizon */
        struct kw_tz_change ch[3];
        struct kw_tzinfo tz = {.name = "X", .initial = (int32_t)(below(105) - 48) * 15 * 60};
        size_t nch = (size_t)below(4);
        int64_t at = from;
        int32_t off = tz.initial;
        for (size_t i = 0; i < nch; i++) {
            at += 60 * (1 + below((until - at) / 60 / 2 + 1));
            static const int32_t steps[] = {3600, -3600, 1800, -1800, 5400, -5400};
            off += steps[below(6)];
            ch[i] = (struct kw_tz_change){at, off};
        }
        tz.n = nch;
        tz.changes = ch;
        char label[32];
        snprintf(label, sizeof(label), "iteration %d", iter);
        checked += compare(&s, &tz, from, until, 12, label);
        kw_cal_spec_release(&s);
    }
    print_message("      %zu random queries agree with the reference\n", checked);
    assert_true(checked > 10000);
}

static void test_real_zones(void **state)
{
    (void)state;
    rng_state = 7;
    struct kw_tzdb *db = kw_tzdb_new();
    static const struct {
        const char *zone, *from;
    } cases[] = {
        {"America/New_York", "2026-02-25T00:00:00Z"},
        {"America/New_York", "2026-10-20T00:00:00Z"},
        {"Europe/Berlin", "2026-03-18T00:00:00Z"},
        {"Europe/Berlin", "2026-10-14T00:00:00Z"},
        {"Australia/Lord_Howe", "2026-03-28T00:00:00Z"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_tzinfo tz;
        assert_int_equal(kw_tzdb_get(db, cases[i].zone, &tz, NULL), KW_OK);
        for (int k = 0; k < 40; k++) {
            int64_t from = T(cases[i].from), until = from + 28 * KW_DAY;
            struct kw_cal_spec s;
            random_spec(&s, kw_day_of(from), 28);
            /* shifts around the changes: 00:00-04:00 on Sundays, often */
            if (below(2))
                s.week[6] = (struct kw_cal_day){1, {{0, 4 * 3600}}};
            snprintf(s.tz, sizeof(s.tz), "%s", cases[i].zone);
            compare(&s, &tz, from, until, 20, cases[i].zone);
            kw_cal_spec_release(&s);
        }
    }
    kw_tzdb_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_calendars_and_zones),
        cmocka_unit_test(test_real_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
