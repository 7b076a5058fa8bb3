// SPDX-License-Identifier: MIT
/*
 * bench_calendar - the calendar engine's figures on one core: zone table
 * build, compile time and size, and deadline / elapsed / is_working
 * operations per second at random instants. One figure a line, with its unit,
 * its target and the ratio figure/target where there is a target. Prints
 * numbers and asserts nothing; query failures are counted and printed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "calcache.h"
#include "calendar.h"
#include "civil.h"
#include "tz.h"

#define H 3600
#define COMPILE_RUNS 201   /* kw_cal_new over 10 years, median taken */
#define HORIZON_RUNS 21    /* kw_cal_compile over 2000-2100, median taken */
#define QUERIES (1u << 20) /* pre-generated random queries per calendar */
#define PASSES 5           /* timed passes over them; the median pass counts */
#define COMPILE_TARGET_MS 10.0
#define OPS_TARGET 5e6 /* deadline computations per second per core */

/* fixed seed: every run times the same inputs */
static uint64_t rng_state = 0x4B57u;
static uint64_t next_rand(void)
{
    return splitmix64(&rng_state);
}

/* Uniform in [lo, hi). */
static int64_t rand_in(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next_rand() % (uint64_t)(hi - lo));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(v[0]), cmp_double);
    return v[n / 2];
}

static void die(const char *what, const struct kw_err *err)
{
    fprintf(stderr, "bench_calendar: %s: %s\n", what, err->msg);
    exit(1);
}

static int64_t utc_day(int y, unsigned m, unsigned d)
{
    return kw_days_from_civil(y, m, d);
}

/* Counts print whole; measurements with three decimals. */
static int decimals(double value)
{
    return value == (double)(long long)value ? 0 : 3;
}

/* A figure with no target. */
static void figure(const char *name, double value, const char *unit)
{
    printf("%-44s %12.*f %-8s (no target)\n", name, decimals(value), value, unit);
}

/* A figure against a target; at_most: lower is better. */
static void against(const char *name, double value, const char *unit, double target, bool at_most)
{
    bool met = at_most ? value <= target : value >= target;
    printf("%-44s %12.*f %-8s (target %s %g %s, ratio %.3f, %s)\n", name, decimals(value), value,
           unit, at_most ? "<=" : ">=", target, unit, value / target, met ? "met" : "NOT MET");
}

/*
 * A spec with `hours` on the weekdays set in `days` (bit 0 = Monday) and, for
 * each year in [y0, y1), ten public holidays and three make-up Saturdays
 * worked with Monday's hours. The Saturdays are the first on or after
 * Feb 7, Apr 20 and Sep 20, which never meet a holiday below.
 */
static void make_spec(struct kw_cal_spec *s, const char *tz, const struct kw_cal_day *hours,
                      unsigned days, int y0, int y1)
{
    static const unsigned hol[10][2] = {{1, 1}, {2, 16}, {2, 17}, {2, 18}, {4, 5},
                                        {5, 1}, {6, 19}, {10, 1}, {10, 2}, {10, 5}};
    static const unsigned make_up[3][2] = {{2, 7}, {4, 20}, {9, 20}};
    struct kw_err err = {0};

    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "bench");
    snprintf(s->tz, sizeof(s->tz), "%s", tz);
    for (int d = 0; d < 7; d++)
        if (days & (1u << d))
            s->week[d] = *hours;
    size_t years = y1 > y0 ? (size_t)(y1 - y0) : 0;
    if (years) {
        s->holidays = malloc(years * 10 * sizeof(*s->holidays));
        s->extra = calloc(years * 3, sizeof(*s->extra));
        if (!s->holidays || !s->extra) {
            fprintf(stderr, "bench_calendar: out of memory\n");
            exit(1);
        }
    }
    for (int y = y0; y < y1; y++) {
        for (int i = 0; i < 10; i++)
            s->holidays[s->n_holidays++] = utc_day(y, hol[i][0], hol[i][1]);
        for (int i = 0; i < 3; i++) {
            int64_t day = utc_day(y, make_up[i][0], make_up[i][1]);
            while (kw_weekday(day) != 5)
                day++;
            s->extra[s->n_extra++] = (struct kw_cal_extra){.day = day, .hours = *hours};
        }
    }
    if (kw_cal_spec_check(s, &err) != KW_OK)
        die("spec", &err);
}

static struct kw_cal_day day_of(const int32_t (*iv)[2], uint32_t n)
{
    struct kw_cal_day d = {.n = n};
    for (uint32_t i = 0; i < n; i++)
        d.shift[i] = (struct kw_cal_shift){iv[i][0], iv[i][1]};
    return d;
}

static int64_t day_seconds(const struct kw_cal_day *d)
{
    int64_t sum = 0;
    for (uint32_t i = 0; i < d->n; i++)
        sum += d->shift[i].end - d->shift[i].start;
    return sum;
}

/* Section 1: zone tables, and compile time and size. */
static void bench_compile(struct kw_tzdb *db)
{
    static const int32_t office[][2] = {{9 * H, 12 * H}, {13 * H + 1800, 18 * H}};
    struct kw_cal_day hours = day_of(office, 2);
    struct kw_tzinfo tz;
    struct kw_err err = {0};
    struct kw_cal_spec spec;
    double t[COMPILE_RUNS];
    struct kw_cal *cal = NULL;

    printf("== zone tables (built once per process and zone, 2000-2100)\n");
    double t0 = now_s();
    if (kw_tzdb_get(db, "America/New_York", &tz, &err) != KW_OK)
        die("America/New_York", &err);
    figure("tz first get America/New_York", (now_s() - t0) * 1e3, "ms");
    figure("tz America/New_York offset changes", (double)tz.n, "changes");
    t0 = now_s();
    if (kw_tzdb_get(db, "Asia/Shanghai", &tz, &err) != KW_OK)
        die("Asia/Shanghai", &err);
    figure("tz first get Asia/Shanghai", (now_s() - t0) * 1e3, "ms");
    t0 = now_s();
    for (int i = 0; i < 1000; i++)
        kw_tzdb_get(db, "Asia/Shanghai", &tz, NULL);
    figure("tz cached get Asia/Shanghai", (now_s() - t0) * 1e6 / 1000, "us");

    printf("== compile: Asia/Shanghai, Mon-Fri 09:00-12:00 + 13:30-18:00,\n"
           "   10 holidays + 3 make-up Saturdays a year\n");
    make_spec(&spec, "Asia/Shanghai", &hours, 0x1f, 2026, 2036);
    int64_t from = utc_day(2026, 1, 1) * KW_DAY, until = utc_day(2036, 1, 1) * KW_DAY;
    for (int r = 0; r < COMPILE_RUNS; r++) {
        t0 = now_s();
        cal = kw_cal_new(&spec, &tz, from, until, &err);
        t[r] = now_s() - t0;
        if (!cal)
            die("kw_cal_new", &err);
        if (r + 1 < COMPILE_RUNS)
            kw_cal_free(cal);
    }
    char name[64];
    snprintf(name, sizeof(name), "compile 2026-2036 (median of %d)", COMPILE_RUNS);
    against(name, median(t, COMPILE_RUNS) * 1e3, "ms", COMPILE_TARGET_MS, true);
    figure("compile 2026-2036 spans", (double)kw_cal_span_count(cal), "spans");
    figure("compile 2026-2036 memory", (double)kw_cal_memory_bytes(cal), "bytes");
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);

    make_spec(&spec, "Asia/Shanghai", &hours, 0x1f, KW_CAL_MIN_YEAR, KW_CAL_MAX_YEAR);
    for (int r = 0; r < HORIZON_RUNS; r++) {
        t0 = now_s();
        cal = kw_cal_compile(db, &spec, &err);
        t[r] = now_s() - t0;
        if (!cal)
            die("kw_cal_compile", &err);
        if (r + 1 < HORIZON_RUNS)
            kw_cal_free(cal);
    }
    snprintf(name, sizeof(name), "compile 2000-2100 (median of %d)", HORIZON_RUNS);
    figure(name, median(t, HORIZON_RUNS) * 1e3, "ms");
    figure("compile 2000-2100 spans", (double)kw_cal_span_count(cal), "spans");
    figure("compile 2000-2100 memory", (double)kw_cal_memory_bytes(cal), "bytes");
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);
}

/* Random queries, generated before any timing. */
struct queries {
    int64_t *start, *work, *end;
};

static void make_queries(struct queries *q, int64_t work_day)
{
    const int64_t lo = utc_day(2020, 1, 1) * KW_DAY, hi = utc_day(2030, 1, 1) * KW_DAY;
    q->start = malloc(QUERIES * sizeof(int64_t));
    q->work = malloc(QUERIES * sizeof(int64_t));
    q->end = malloc(QUERIES * sizeof(int64_t));
    if (!q->start || !q->work || !q->end) {
        fprintf(stderr, "bench_calendar: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < QUERIES; i++) {
        q->start[i] = rand_in(lo, hi);
        q->work[i] = rand_in(0, 30 * work_day + 1); /* 0 to 30 working days */
        q->end[i] = q->start[i] + rand_in(0, 45 * KW_DAY + 1);
    }
}

static void free_queries(struct queries *q)
{
    free(q->start);
    free(q->work);
    free(q->end);
}

enum op { DEADLINE, ELAPSED, IS_WORKING };

/* Operations per second of one pass over all queries; *bad counts failures. */
static double pass(const struct kw_cal *cal, const struct queries *q, enum op op, size_t *bad)
{
    volatile int64_t sink = 0;
    int64_t sum = 0, out = 0;
    size_t fails = 0;
    bool w = false;
    double t0 = now_s();
    switch (op) {
    case DEADLINE:
        for (size_t i = 0; i < QUERIES; i++) {
            fails += kw_cal_deadline(cal, q->start[i], q->work[i], &out, NULL) != KW_OK;
            sum += out;
        }
        break;
    case ELAPSED:
        for (size_t i = 0; i < QUERIES; i++) {
            fails += kw_cal_elapsed(cal, q->start[i], q->end[i], &out, NULL) != KW_OK;
            sum += out;
        }
        break;
    case IS_WORKING:
        for (size_t i = 0; i < QUERIES; i++) {
            fails += kw_cal_is_working(cal, q->start[i], &w, NULL) != KW_OK;
            sum += w;
        }
        break;
    }
    double dt = now_s() - t0;
    sink = sum;
    (void)sink;
    *bad += fails;
    return (double)QUERIES / dt;
}

/* Section 2 and 3 for one calendar over the default horizon. */
static void bench_ops(struct kw_tzdb *db, const char *label, const char *tz,
                      const struct kw_cal_day *hours, unsigned days, bool holidays)
{
    static const char *const op_name[] = {"deadline", "elapsed", "is_working"};
    struct kw_cal_spec spec;
    struct kw_err err = {0};
    struct queries q;
    char name[96];

    make_spec(&spec, tz, hours, days, holidays ? KW_CAL_MIN_YEAR : 0,
              holidays ? KW_CAL_MAX_YEAR : 0);
    struct kw_cal *cal = kw_cal_compile(db, &spec, &err);
    if (!cal)
        die(label, &err);
    printf("== %s (%s, 2000-2100, %zu spans)\n", label, tz, kw_cal_span_count(cal));
    make_queries(&q, day_seconds(hours));
    for (int op = DEADLINE; op <= IS_WORKING; op++) {
        double r[PASSES];
        size_t bad = 0;
        pass(cal, &q, (enum op)op, &bad); /* warm caches and branch predictors */
        bad = 0;
        for (int p = 0; p < PASSES; p++)
            r[p] = pass(cal, &q, (enum op)op, &bad);
        snprintf(name, sizeof(name), "%s ops/s", op_name[op]);
        if (op == IS_WORKING)
            figure(name, median(r, PASSES) / 1e6, "M/s");
        else
            against(name, median(r, PASSES) / 1e6, "M/s", OPS_TARGET / 1e6, false);
        if (bad) {
            snprintf(name, sizeof(name), "%s failed queries", op_name[op]);
            figure(name, (double)bad, "queries");
        }
    }
    free_queries(&q);
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);
}

int main(void)
{
    static const int32_t nine18[][2] = {{9 * H, 18 * H}};
    static const int32_t split[][2] = {{8 * H, 12 * H}, {13 * H, 17 * H}, {18 * H, 21 * H}};
    static const int32_t whole[][2] = {{0, 24 * H}};
    struct kw_cal_day a = day_of(nine18, 1), b = day_of(split, 3), c = day_of(whole, 1);

    struct kw_tzdb *db = kw_tzdb_new();
    if (!db) {
        fprintf(stderr, "bench_calendar: out of memory\n");
        return 1;
    }
    printf("bench_calendar: one core, gcc %s; random starts 2020-2030, work 0-30 working days,\n"
           "elapsed ends 0-45 days after the start; %u queries, median of %d passes\n",
           __VERSION__, QUERIES, PASSES);
    bench_compile(db);
    bench_ops(db, "(a) Mon-Fri 09:00-18:00 with holidays", "Asia/Shanghai", &a, 0x1f, true);
    bench_ops(db, "(b) Mon-Fri 08-12, 13-17, 18-21 with holidays", "America/New_York", &b, 0x1f,
              true);
    bench_ops(db, "(c) 24x7", "Asia/Shanghai", &c, 0x7f, false);
    kw_tzdb_free(db);
    return 0;
}
