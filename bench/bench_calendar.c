// SPDX-License-Identifier: MIT
/* make bench: the calendar engine's figures - compile time, memory, and
 * deadline / elapsed / is_working operations per second on one core - with
 * the ratio to each target. Prints numbers; asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calcache.h"
#include "calendar_json.h"
#include "civil.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 42;
static uint64_t next_rand(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Office hours with ~10 public holidays and 3 make-up Saturdays a year. */
static void office_spec(struct kw_cal_spec *s, const char *tz, const int32_t (*shifts)[2],
                        uint32_t nshift, int years)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->tz, sizeof(s->tz), "%s", tz);
    for (int d = 0; d < 5; d++) {
        s->week[d].n = nshift;
        for (uint32_t i = 0; i < nshift; i++)
            s->week[d].shift[i] = (struct kw_cal_shift){shifts[i][0], shifts[i][1]};
    }
    s->holidays = malloc((size_t)years * 10 * sizeof(int64_t));
    s->extra = calloc((size_t)years * 3, sizeof(*s->extra));
    static const unsigned hol[10][2] = {{1, 1}, {2, 16}, {2, 17}, {2, 18}, {4, 5},
                                        {5, 1}, {6, 19}, {10, 1}, {10, 2}, {10, 5}};
    static const unsigned mk[3][2] = {{2, 14}, {4, 26}, {9, 27}};
    for (int y = 0; y < years; y++) {
        for (int i = 0; i < 10; i++)
            s->holidays[s->n_holidays++] = kw_days_from_civil(2026 + y, hol[i][0], hol[i][1]);
        for (int i = 0; i < 3; i++) {
            struct kw_cal_extra *x = &s->extra[s->n_extra++];
            x->day = kw_days_from_civil(2026 + y, mk[i][0], mk[i][1]);
            x->hours = s->week[0];
        }
    }
    struct kw_err err = {0};
    if (kw_cal_spec_check(s, &err) != KW_OK) {
        fprintf(stderr, "bench spec: %s\n", err.msg);
        exit(1);
    }
}

static void ops(const char *label, const struct kw_cal *cal)
{
    enum { N = 1 << 20 };
    int64_t *start = malloc(N * sizeof(int64_t)), *work = malloc(N * sizeof(int64_t));
    int64_t lo = kw_days_from_civil(2020, 1, 1) * KW_DAY, span = 10 * 365 * KW_DAY;
    for (size_t i = 0; i < N; i++) {
        start[i] = lo + (int64_t)(next_rand() % (uint64_t)span);
        work[i] = (int64_t)(next_rand() % (30 * 8 * 3600));
    }
    volatile int64_t sink = 0;
    int64_t out;
    bool w;
    int rounds = 4;
    double t0 = now_s();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < N; i++) {
            kw_cal_deadline(cal, start[i], work[i], &out, NULL);
            sink += out;
        }
    double dl = (double)N * rounds / (now_s() - t0);
    t0 = now_s();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < N; i++) {
            kw_cal_elapsed(cal, start[i], start[i] + work[i] * 3, &out, NULL);
            sink += out;
        }
    double el = (double)N * rounds / (now_s() - t0);
    t0 = now_s();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < N; i++) {
            kw_cal_is_working(cal, start[i], &w, NULL);
            sink += w;
        }
    double iw = (double)N * rounds / (now_s() - t0);
    printf("  %-28s deadline %6.2f M/s (target >= 5 M/s, ratio %.2f)  elapsed %6.2f M/s  "
           "is_working %6.2f M/s  [%zu spans]\n",
           label, dl / 1e6, dl / 5e6, el / 1e6, iw / 1e6, kw_cal_span_count(cal));
    (void)sink;
    free(start);
    free(work);
}

int main(void)
{
    struct kw_err err = {0};
    struct kw_tzdb *db = kw_tzdb_new();
    struct kw_tzinfo tz;
    static const int32_t office[][2] = {{9 * 3600, 12 * 3600}, {13 * 3600 + 1800, 18 * 3600}};
    static const int32_t nine18[][2] = {{9 * 3600, 18 * 3600}};
    static const int32_t split3[][2] = {
        {8 * 3600, 12 * 3600}, {13 * 3600, 17 * 3600}, {18 * 3600, 21 * 3600}};
    static const int32_t allday[][2] = {{0, 86400}};

    printf("calendar engine (one core)\n");
    double t0 = now_s();
    kw_tzdb_get(db, "America/New_York", &tz, &err);
    printf("  tz table, America/New_York 2000-2100 (once per process): %.1f ms, %zu changes\n",
           (now_s() - t0) * 1e3, tz.n);
    kw_tzdb_get(db, "Asia/Shanghai", &tz, &err);

    /* compile: 10 years, median of many runs */
    struct kw_cal_spec spec;
    office_spec(&spec, "Asia/Shanghai", office, 2, 10);
    enum { RUNS = 101 };
    double times[RUNS];
    int64_t from = kw_days_from_civil(2026, 1, 1) * KW_DAY,
            until = kw_days_from_civil(2036, 1, 1) * KW_DAY;
    struct kw_cal *cal = NULL;
    for (int r = 0; r < RUNS; r++) {
        t0 = now_s();
        cal = kw_cal_new(&spec, &tz, from, until, &err);
        times[r] = now_s() - t0;
        if (r + 1 < RUNS)
            kw_cal_free(cal);
    }
    qsort(times, RUNS, sizeof(times[0]), cmp_double);
    printf("  compile, office hours with holidays, 10 years: %.3f ms median (target <= 10 ms, "
           "ratio %.3f), %zu spans, %zu KiB\n",
           times[RUNS / 2] * 1e3, times[RUNS / 2] * 1e3 / 10.0, kw_cal_span_count(cal),
           kw_cal_memory_bytes(cal) / 1024);
    kw_cal_free(cal);
    t0 = now_s();
    cal = kw_cal_compile(db, &spec, &err);
    printf("  compile, same, whole horizon 2000-2100: %.2f ms, %zu spans, %zu KiB\n",
           (now_s() - t0) * 1e3, kw_cal_span_count(cal), kw_cal_memory_bytes(cal) / 1024);
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);

    /* operations over the whole horizon, random instants in 2020-2030 */
    office_spec(&spec, "Asia/Shanghai", nine18, 1, 74);
    cal = kw_cal_compile(db, &spec, &err);
    ops("(a) 9-18 weekdays, holidays", cal);
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);
    office_spec(&spec, "Europe/Berlin", split3, 3, 74);
    cal = kw_cal_compile(db, &spec, &err);
    ops("(b) split shifts, DST zone", cal);
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);
    office_spec(&spec, "UTC", allday, 1, 0);
    for (int d = 5; d < 7; d++)
        spec.week[d] = spec.week[0];
    cal = kw_cal_compile(db, &spec, &err);
    ops("(c) 24x7", cal);
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);
    kw_tzdb_free(db);
    return 0;
}
