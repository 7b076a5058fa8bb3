// SPDX-License-Identifier: MIT
/* The figures of docs/kpi.md, on hand-computed runs: which runs count in a
 * period, on-time rate, mean/median/p90, SRI, overruns, CSAT and NPS. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kpi.h"
#include "testutil.h"

#define NT KW_KPI_NO_TIME
#define D 86400

/* The period of the examples: Monday 2026-03-02 to Monday 2026-03-09 (UTC). */
static int64_t from, to;

static int setup(void **state)
{
    (void)state;
    from = T("2026-03-02T00:00:00Z");
    to = T("2026-03-09T00:00:00Z");
    return 0;
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t start, stop, breach;
        enum kw_kpi_class want;
    } cases[] = {
        {"stopped in the period before its deadline", -D, H, NT, KW_KPI_MET},
        {"stopped exactly at its deadline (not reached)", 0, 2 * H, NT, KW_KPI_MET},
        {"stopped after its deadline", 0, 3 * H, 2 * H, KW_KPI_MET_LATE},
        {"stopped at the period's first second", -H, 0, NT, KW_KPI_MET},
        {"stopped at the period's end: not in it", 0, 7 * D, NT, KW_KPI_OUT},
        {"stopped before the period", -3 * D, -2 * D, -2 * D - H, KW_KPI_OUT},
        {"breached before, stopped in the period", -3 * D, D, -2 * D, KW_KPI_MET_LATE},
        {"breached in the period, open at its end", 0, NT, D, KW_KPI_BREACHED_OPEN},
        {"breached in the period, stopped after it", 0, 8 * D, D, KW_KPI_BREACHED_OPEN},
        {"breached before the period, still open", -3 * D, NT, -2 * D, KW_KPI_OUT},
        {"breached after the period", 0, NT, 7 * D, KW_KPI_OUT},
        {"running, not breached", 0, NT, NT, KW_KPI_OUT},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_kpi_run r = {
            .started_at = from + cases[i].start,
            .stopped_at = cases[i].stop == NT ? NT : from + cases[i].stop,
            .breached_at = cases[i].breach == NT ? NT : from + cases[i].breach,
            .target = 2 * H,
        };
        enum kw_kpi_class got = kw_kpi_classify(&r, from, to);
        if (got != cases[i].want)
            fail_msg("%s: class %d, want %d", cases[i].name, got, cases[i].want);
    }
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The statistics select their ranks without sorting: the same figures as
 * the sorted values give, for every count from 1 to 300, with many equal
 * values (seconds repeat) and with none. */
static void test_stats_selected_as_sorted(void **state)
{
    (void)state;
    uint64_t seed = 7;
    int64_t v[300], sorted[300];
    for (size_t n = 1; n <= 300; n++) {
        for (int spread = 0; spread < 3; spread++) {
            int64_t range = spread == 0 ? 3 : spread == 1 ? 50 : 1000000;
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                v[i] = (int64_t)((seed >> 33) % (uint64_t)range);
            }
            if (n == 200)
                for (size_t i = 0; i < n; i++)
                    v[i] = (int64_t)i; /* already in order */
            memcpy(sorted, v, n * sizeof(v[0]));
            qsort(sorted, n, sizeof(sorted[0]), by_value);
            double sum = 0;
            for (size_t i = 0; i < n; i++)
                sum += (double)sorted[i];
            double median = n % 2 ? (double)sorted[n / 2]
                                  : ((double)sorted[n / 2 - 1] + (double)sorted[n / 2]) / 2;
            struct kw_kpi_stat s = kw_kpi_stat_i64(v, n);
            assert_true(s.n == n);
            assert_true(s.mean == sum / (double)n);
            assert_true(s.median == median);
            assert_true(s.p90 == (double)sorted[(9 * n + 9) / 10 - 1]);
        }
    }
}

/* Past 2,048 values the ranks are found by narrowing histograms: the same
 * figures as sorted values give, for counts on either side of that, with
 * values all equal, few distinct, a long tail, negative and the extremes
 * of 64 bits, and counts that put the ranks in one bin or in three. */
static void test_stats_many_selected_as_sorted(void **state)
{
    (void)state;
    static const size_t ns[] = {2047, 2048, 2049, 5000, 5001, 70000, 100001};
    uint64_t seed = 13;
    for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
        size_t n = ns[t];
        for (int spread = 0; spread < 6; spread++) {
            int64_t *v = malloc(n * sizeof(*v)), *sorted = malloc(n * sizeof(*v));
            assert_non_null(v);
            assert_non_null(sorted);
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                uint64_t r = seed >> 33;
                switch (spread) {
                case 0: /* all equal */
                    v[i] = 3600;
                    break;
                case 1: /* few values */
                    v[i] = (int64_t)(r % 7) * 60;
                    break;
                case 2: /* most short, a long tail (seconds of a year) */
                    v[i] = r % 10 ? (int64_t)(r % 7200) : (int64_t)(r % 31536000);
                    break;
                case 3: /* back in time too */
                    v[i] = (int64_t)(r % 3000000) - 1000000;
                    break;
                case 4: /* the extremes of 64 bits among small values */
                    v[i] = i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : (int64_t)(r % 100);
                    break;
                default: /* spread over 2^40 */
                    v[i] = (int64_t)(seed >> 24);
                }
            }
            memcpy(sorted, v, n * sizeof(*v));
            qsort(sorted, n, sizeof(*v), by_value);
            double median = n % 2 ? (double)sorted[n / 2]
                                  : ((double)sorted[n / 2 - 1] + (double)sorted[n / 2]) / 2;
            double mean = 0;
            if (spread != 4) { /* (the extremes' sum overflows: not a figure) */
                int64_t sum = 0;
                for (size_t i = 0; i < n; i++)
                    sum += sorted[i];
                mean = (double)sum / (double)n;
            }
            struct kw_kpi_stat s = kw_kpi_stat_i64(v, n);
            assert_true(s.n == n);
            assert_true(spread == 4 || s.mean == mean);
            assert_true(s.median == median);
            assert_true(s.p90 == (double)sorted[(9 * n + 9) / 10 - 1]);
            free(v);
            free(sorted);
        }
    }
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* SRI values (ratios of whole seconds) sorted by radix as by qsort: the
 * same order, so the same mean summed in order, median and p90; negative,
 * repeated and one-byte-apart values, and counts on either side of 1,024 */
static void test_stats_f64_radix_as_qsort(void **state)
{
    (void)state;
    static const size_t ns[] = {1, 2, 1023, 1024, 1025, 5000, 70000};
    uint64_t seed = 11;
    for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
        size_t n = ns[t];
        for (int spread = 0; spread < 3; spread++) {
            double *v = malloc(n * sizeof(*v)), *sorted = malloc(n * sizeof(*v));
            assert_non_null(v);
            assert_non_null(sorted);
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                int64_t working = (int64_t)((seed >> 33) % (spread == 0 ? 5u : 3000000u));
                if (spread == 2 && i % 7 == 0)
                    working = -working; /* back in time */
                int64_t target = spread == 1 ? 1800 + (int64_t)(seed >> 60) : 3600;
                v[i] = (double)working * 100.0 / (double)target;
            }
            memcpy(sorted, v, n * sizeof(*v));
            qsort(sorted, n, sizeof(*v), by_double);
            double sum = 0;
            for (size_t i = 0; i < n; i++)
                sum += sorted[i];
            struct kw_kpi_stat s = kw_kpi_stat_f64(v, n);
            assert_true(memcmp(v, sorted, n * sizeof(*v)) == 0);
            assert_true(s.mean == sum / (double)n);
            assert_true(s.median ==
                        (n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2));
            assert_true(s.p90 == sorted[(9 * n + 9) / 10 - 1]);
            free(v);
            free(sorted);
        }
    }
}

static void test_stats(void **state)
{
    (void)state;
    /* odd count: the middle value; p90 of 5 is the 5th (ceil 4.5) */
    int64_t a[] = {50, 10, 40, 20, 30};
    struct kw_kpi_stat s = kw_kpi_stat_i64(a, 5);
    assert_int_equal(s.n, 5);
    assert_true(s.mean == 30 && s.median == 30 && s.p90 == 50);
    /* even count: the mean of the two middle values; p90 of 10 is the 9th */
    int64_t b[] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
    s = kw_kpi_stat_i64(b, 10);
    assert_true(s.mean == 5.5 && s.median == 5.5 && s.p90 == 9);
    /* p90 of 11 is the 10th (ceil 9.9); of 1 the only one */
    int64_t c[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    assert_true(kw_kpi_stat_i64(c, 11).p90 == 10);
    int64_t d[] = {42};
    s = kw_kpi_stat_i64(d, 1);
    assert_true(s.mean == 42 && s.median == 42 && s.p90 == 42);
    /* nothing: n == 0 (null in the API) */
    assert_int_equal(kw_kpi_stat_i64(NULL, 0).n, 0);
    double e[] = {150.0, 50.0};
    s = kw_kpi_stat_f64(e, 2);
    assert_true(s.mean == 100 && s.median == 100 && s.p90 == 150);
    /* one decimal, halves away from zero */
    assert_true(kw_kpi_round1(66.66666) == 66.7);
    assert_true(kw_kpi_round1(12.25) == 12.3);
    assert_true(kw_kpi_round1(-12.25) == -12.3);
    assert_true(kw_kpi_round1(100.0) == 100.0);
}

/* The worked example of docs/kpi.md: four runs of a response clock with a
 * 2 h target on a 24x7 calendar (working time == wall time but for pauses). */
static void test_worked_example(void **state)
{
    (void)state;
    const struct kw_kpi_run runs[] = {
        /* A: answered after 1 h */
        {.started_at = from + H,
         .stopped_at = from + 2 * H,
         .breached_at = NT,
         .target = 2 * H,
         .working = H},
        /* B: answered after 3 h of which 30 min paused: 2.5 h working, 30 min over */
        {.started_at = from + D,
         .stopped_at = from + D + 3 * H,
         .breached_at = from + D + 150 * M,
         .target = 2 * H,
         .working = 150 * M,
         .paused_wall = 30 * M,
         .overrun_working = 30 * M},
        /* C: breached on Sunday 2026-03-08 at 20:00, still open at the end:
         * 4 h over in wall and working time */
        {.started_at = from + 6 * D + 18 * H,
         .stopped_at = NT,
         .breached_at = from + 6 * D + 20 * H,
         .target = 2 * H,
         .working = 6 * H,
         .overrun_working = 4 * H},
        /* D: answered exactly at its deadline (2 h): met */
        {.started_at = from + 2 * D,
         .stopped_at = from + 2 * D + 2 * H,
         .breached_at = NT,
         .target = 2 * H,
         .working = 2 * H},
        /* E: stopped the week before: not counted */
        {.started_at = from - D,
         .stopped_at = from - D + H,
         .breached_at = NT,
         .target = 2 * H,
         .working = H},
    };
    struct kw_kpi_acc acc = {0};
    struct kw_err err = {0};
    for (size_t i = 0; i < N_ELEMS(runs); i++)
        assert_int_equal(kw_kpi_add(&acc, &runs[i], from, to, &err), KW_OK);
    struct kw_kpi_metric m;
    kw_kpi_figures(&acc, &m);
    assert_int_equal(m.met, 2);
    assert_int_equal(m.met_late, 1);
    assert_int_equal(m.breached_open, 1);
    assert_true(m.on_time_rate == 50.0); /* 2 / 4 */
    /* elapsed over the three that stopped: 1 h, 2 h, 2.5 h */
    assert_int_equal(m.elapsed.n, 3);
    assert_true(fabs(m.elapsed.mean - (H + 2 * H + 150 * M) / 3.0) < 1e-9);
    assert_true(m.elapsed.median == 2 * H && m.elapsed.p90 == 150 * M);
    /* wall: 1 h, 2 h, 3 h - 30 min paused = 2.5 h: the same here */
    assert_true(m.wall.median == 2 * H && m.wall.p90 == 150 * M);
    /* SRI: 50, 100, 125 */
    assert_true(m.sri.mean == (50 + 100 + 125) / 3.0 && m.sri.median == 100 && m.sri.p90 == 125);
    /* overruns: B 30 min wall (stop - deadline) and working; C 4 h to the end */
    assert_int_equal(m.overrun.count, 2);
    assert_true(m.overrun.mean_wall == (30 * M + 4 * H) / 2.0);
    assert_true(m.overrun.mean_working == (30 * M + 4 * H) / 2.0);
    kw_kpi_acc_free(&acc);
}

static void test_nothing_is_null_not_100(void **state)
{
    (void)state;
    struct kw_kpi_acc acc = {0};
    struct kw_kpi_metric m;
    kw_kpi_figures(&acc, &m);
    assert_true(m.on_time_rate < 0);
    assert_int_equal(m.elapsed.n + m.wall.n + m.sri.n + m.overrun.count, 0);
    /* a breached-open run alone: 0 %, and no elapsed figures */
    struct kw_kpi_run r = {.started_at = from,
                           .stopped_at = NT,
                           .breached_at = from + H,
                           .target = H,
                           .working = 2 * H,
                           .overrun_working = H};
    struct kw_err err = {0};
    assert_int_equal(kw_kpi_add(&acc, &r, from, to, &err), KW_OK);
    kw_kpi_figures(&acc, &m);
    assert_true(m.on_time_rate == 0.0);
    assert_int_equal(m.elapsed.n, 0);
    kw_kpi_acc_free(&acc);
}

static void test_many_runs_grow(void **state)
{
    (void)state;
    struct kw_kpi_acc acc = {0};
    struct kw_err err = {0};
    /* 1000 met runs of 1..1000 s and one target-less run (no SRI) */
    for (int64_t i = 1; i <= 1000; i++) {
        struct kw_kpi_run r = {.started_at = from,
                               .stopped_at = from + i,
                               .breached_at = NT,
                               .target = 2000,
                               .working = i};
        assert_int_equal(kw_kpi_add(&acc, &r, from, to, &err), KW_OK);
    }
    struct kw_kpi_run z = {.started_at = from, .stopped_at = from, .breached_at = NT};
    assert_int_equal(kw_kpi_add(&acc, &z, from, to, &err), KW_OK);
    struct kw_kpi_metric m;
    kw_kpi_figures(&acc, &m);
    assert_int_equal(m.met, 1001);
    assert_true(m.on_time_rate == 100.0);
    assert_int_equal(m.elapsed.n, 1001);
    assert_true(m.elapsed.median == 500 && m.elapsed.p90 == 900);
    assert_int_equal(m.sri.n, 1000);
    assert_true(m.sri.median == 25.025 && m.sri.p90 == 45);
    kw_kpi_acc_free(&acc);
}

static void test_ratings(void **state)
{
    (void)state;
    struct kw_kpi_ratings r = {0};
    struct kw_kpi_rating_figures f;
    kw_kpi_rating_figures(&r, &f);
    assert_true(f.csat_mean < 0 && f.satisfied_pct < 0 && f.nps == KW_KPI_NPS_NULL);
    /* 5 (nps 10), 4 (nps 9), 3 (nps 7), 2 (no nps), 1 (nps 0), 5 (nps 6) */
    const int sat[] = {5, 4, 3, 2, 1, 5}, nps[] = {10, 9, 7, -1, 0, 6};
    for (size_t i = 0; i < N_ELEMS(sat); i++)
        kw_kpi_rating_add(&r, sat[i], nps[i]);
    kw_kpi_rating_add(&r, 0, 11); /* out of range: ignored */
    kw_kpi_rating_figures(&r, &f);
    assert_int_equal(f.csat_count, 6);
    assert_true(f.csat_mean == 20.0 / 6.0);
    assert_true(f.satisfied_pct == 50.0); /* 3 of 6 */
    assert_int_equal(f.nps_count, 5);
    assert_true(f.nps == 0.0); /* 2 promoters, 2 detractors of 5 */
}

/* docs/kpi.md "Time spent and cost", the worked example: desk costs
 * 120.00 CNY an hour, field 300.00, night has no cost set. */
static void test_time_and_cost(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t seconds, hourly;
        const char *currency;
    } entries[] = {
        {"30 min by desk", 1800, 12000, "CNY"},
        {"45 min by desk", 2700, 12000, "CNY"},
        {"2 h by field, corrected to 1 h (the correction's seconds count)", 3600, 30000, "CNY"},
        {"20 min by night, which has no cost", 1200, -1, NULL},
        {"an entry withdrawn (corrected to 0)", 0, 12000, "CNY"},
    };
    struct kw_kpi_time t = {0};
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
        kw_kpi_time_add(&t, entries[i].seconds, entries[i].hourly, entries[i].currency);
    assert_int_equal(t.time_s, 9300);
    assert_int_equal(t.uncosted_s, 1200);
    int64_t minor = 0;
    /* 0.5 h x 12000 + 0.75 h x 12000 + 1 h x 30000 = 45000, over 3 tickets */
    assert_true(kw_kpi_cost_per_ticket(&t, 3, &minor));
    assert_int_equal(minor, 15000);
    assert_string_equal(t.currency, "CNY");
    /* over 7 tickets: 6428.57... -> 6429 */
    assert_true(kw_kpi_cost_per_ticket(&t, 7, &minor));
    assert_int_equal(minor, 6429);
    /* no ticket resolved: null, not infinite */
    assert_false(kw_kpi_cost_per_ticket(&t, 0, &minor));
    /* nothing costed: null */
    struct kw_kpi_time none = {0};
    kw_kpi_time_add(&none, 600, -1, NULL);
    assert_int_equal(none.time_s, 600);
    assert_false(kw_kpi_cost_per_ticket(&none, 2, &minor));
    /* two currencies: no sum that means anything */
    kw_kpi_time_add(&t, 3600, 5000, "EUR");
    assert_true(t.mixed);
    assert_false(kw_kpi_cost_per_ticket(&t, 3, &minor));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_stats_selected_as_sorted),
        cmocka_unit_test(test_stats_many_selected_as_sorted),
        cmocka_unit_test(test_stats_f64_radix_as_qsort),
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_nothing_is_null_not_100),
        cmocka_unit_test(test_many_runs_grow),
        cmocka_unit_test(test_ratings),
        cmocka_unit_test(test_time_and_cost),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
