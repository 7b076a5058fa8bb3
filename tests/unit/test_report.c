// SPDX-License-Identifier: MIT
/* The service report's fold (report.h) on a hand-computed week: headline
 * and deltas, levels x metrics, breaches, TOP5, backlog, agents, the radar
 * and the trend. Each expected figure is worked out in the comments and in
 * docs/kpi.md "The service report". */
#include <math.h>
#include <stdlib.h>

#include "report.h"
#include "testutil.h"

#define NT KW_KPI_NO_TIME
#define D 86400

static int64_t from, to;

static int setup(void **state)
{
    (void)state;
    from = T("2026-03-02T00:00:00Z"); /* Monday */
    to = T("2026-03-09T00:00:00Z");
    return 0;
}

static struct kw_report_run run(int64_t ticket, const char *metric, const char *level,
                                const char *agent, int64_t start, int64_t stop, int64_t breach,
                                int64_t target, int64_t working, const char *category,
                                const char *org, const char *reason)
{
    int64_t b = breach == NT ? NT : from + breach;
    return (struct kw_report_run){
        .run = {.started_at = from + start,
                .stopped_at = stop == NT ? NT : from + stop,
                .breached_at = b,
                .target = target,
                .working = working,
                .paused_wall = 0,
                .overrun_working = b != NT && working > target ? working - target : 0},
        .ticket_id = ticket,
        .metric = metric,
        .level = level,
        .category = category,
        .org = org,
        .team = "desk",
        .assignee = agent,
        .reason = reason,
        .kpi = strcmp(metric, "response") == 0     ? KW_MKPI_RESPONSE
               : strcmp(metric, "resolution") == 0 ? KW_MKPI_RESOLUTION
                                                   : KW_MKPI_NONE,
    };
}

static struct kw_report_fact fact(enum kw_report_fact_kind k, int64_t ticket, const char *agent,
                                  int64_t at, int sat, int nps)
{
    return (struct kw_report_fact){.kind = k,
                                   .ticket_id = ticket,
                                   .at = from + at,
                                   .satisfaction = sat,
                                   .nps = nps,
                                   .org = "Acme",
                                   .team = "desk",
                                   .assignee = agent,
                                   .category = "network"};
}

#define CLOSE(got, want)                                                                           \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        if (isnan(w_) ? !isnan(g_) : fabs(g_ - w_) > 1e-9)                                         \
            fail_msg("%s: got %g, want %g (line %d)", #got, g_, w_, __LINE__);                     \
    } while (0)

static void build(struct kw_report *r, bool per_agent, bool with_prev)
{
    static struct kw_report_run runs[6], prev_runs[2];
    static struct kw_report_fact facts[18], prev_facts[1];
    size_t n = 0;
    /* R1 met (SRI 50), R2 met_late by 1 h (SRI 150), R3 met at its deadline */
    runs[n++] = run(1, "response", "L1", "ann", H, 2 * H, NT, 2 * H, H, "network", "Acme", NULL);
    runs[n++] = run(2, "response", "L1", "ann", D, D + 3 * H, D + 2 * H, 2 * H, 3 * H, "network",
                    "Acme", "capacity");
    runs[n++] =
        run(1, "resolution", "L1", "ann", H, 5 * H, NT, 4 * H, 4 * H, "network", "Acme", NULL);
    /* R4 breached Sunday 04:00 and open at the end: 20 h over; R5 met */
    runs[n++] = run(5, "resolution", "L2", "bob", 6 * D, NT, 6 * D + 4 * H, 4 * H, 24 * H,
                    "printing", "Beta", NULL);
    runs[n++] =
        run(3, "response", "L2", "bob", 2 * D, 2 * D + H, NT, 2 * H, H, "printing", "Beta", NULL);
    /* R6 stopped the Sunday before: not in the period */
    runs[n++] = run(9, "response", "L1", "ann", -2 * D, -D, NT, 2 * H, H, "network", "Acme", NULL);
    size_t nf = 0;
    facts[nf++] = fact(KW_RF_CREATED, 1, "ann", H, 0, -1);
    facts[nf++] = fact(KW_RF_CREATED, 2, "ann", D, 0, -1);
    facts[nf++] = fact(KW_RF_CREATED, 3, "bob", 2 * D, 0, -1);
    facts[nf++] = fact(KW_RF_RESOLVED, 1, "ann", 5 * H, 0, -1);
    facts[nf++] = fact(KW_RF_RESOLVED, 1, "ann", 6 * H, 0, -1); /* twice: one ticket */
    facts[nf++] = fact(KW_RF_RESOLVED, 2, "ann", D + 4 * H, 0, -1);
    facts[nf++] = fact(KW_RF_RESOLVED, 3, "bob", 2 * D + 2 * H, 0, -1);
    facts[nf++] = fact(KW_RF_REOPENED, 2, "ann", D + 5 * H, 0, -1);
    facts[nf++] = fact(KW_RF_REOPENED, 2, "ann", D + 7 * H, 0, -1);
    facts[nf++] = fact(KW_RF_RATED, 1, "ann", 7 * H, 5, 10);
    facts[nf++] = fact(KW_RF_RATED, 2, "ann", D + 8 * H, 3, 6);
    facts[nf++] = fact(KW_RF_RATED, 3, "bob", 3 * D, 4, -1);
    facts[nf++] = fact(KW_RF_OPEN, 4, "bob", 6 * D + 12 * H, 0, -1); /* 12 h old */
    facts[nf++] = fact(KW_RF_OPEN, 5, "bob", 2 * D, 0, -1);          /* 5 d */
    facts[nf++] = fact(KW_RF_OPEN, 6, "ann", -10 * D, 0, -1);        /* 17 d */
    facts[nf++] = fact(KW_RF_OPEN, 8, "ann", 5 * D, 0, -1);          /* 2 d */
    struct kw_report_input cur = {from, to, runs, n, facts, nf};
    /* the week before: 1 met, 1 met_late; one ticket created */
    prev_runs[0] =
        run(7, "response", "L1", "ann", -6 * D, -6 * D + H, NT, 2 * H, H, NULL, NULL, NULL);
    prev_runs[1] = run(7, "resolution", "L1", "ann", -6 * D, -5 * D, -6 * D + 4 * H, 4 * H, 24 * H,
                       NULL, NULL, NULL);
    prev_facts[0] = fact(KW_RF_CREATED, 7, "ann", -6 * D, 0, -1);
    struct kw_report_input prev = {from - 7 * D, from, prev_runs, 2, prev_facts, 1};
    int64_t bounds[8];
    for (size_t i = 0; i < 8; i++)
        bounds[i] = from + (int64_t)i * D;
    struct kw_err err = {0};
    if (kw_report_build(&cur, with_prev ? &prev : NULL, bounds, 7, per_agent, r, &err) != KW_OK)
        fail_msg("kw_report_build: %s", err.msg);
}

/* MTTA and MTTR follow the kpi marker, not the metric's id: a metric "ack"
 * marked response counts, one named "response" without the mark does not. */
static void test_kpi_marker(void **state)
{
    (void)state;
    struct kw_report_run runs[3] = {
        run(1, "ack", "L1", "ann", H, 2 * H, NT, 2 * H, H, NULL, NULL, NULL),
        run(2, "response", "L1", "ann", H, 2 * H, NT, 2 * H, 3 * H, NULL, NULL, NULL),
        run(3, "fix", "L1", "ann", H, 5 * H, NT, 4 * H, 2 * H, NULL, NULL, NULL),
    };
    runs[0].kpi = KW_MKPI_RESPONSE;
    runs[1].kpi = KW_MKPI_NONE;
    runs[2].kpi = KW_MKPI_RESOLUTION;
    struct kw_report_input cur = {from, to, runs, 3, NULL, 0};
    struct kw_report r;
    struct kw_err err = {0};
    if (kw_report_build(&cur, NULL, NULL, 0, true, &r, &err) != KW_OK)
        fail_msg("kw_report_build: %s", err.msg);
    CLOSE(r.head[KW_RH_MTTA], H);     /* ack only */
    CLOSE(r.head[KW_RH_MTTR], 2 * H); /* fix */
    kw_report_free(&r);
}

/* The report in parts (as reports.c folds it on two threads) is the report
 * whole: the body without the headline, then the headlines and deltas. */
static void test_parts(void **state)
{
    (void)state;
    struct kw_report_run runs[3] = {
        run(1, "response", "L1", "ann", H, 2 * H, NT, 2 * H, H, NULL, NULL, NULL),
        run(2, "response", "L2", "bob", H, 5 * H, 3 * H, 2 * H, 4 * H, NULL, NULL, NULL),
        run(3, "resolution", "L1", "ann", H, 5 * H, NT, 8 * H, 4 * H, NULL, NULL, NULL),
    };
    runs[0].kpi = runs[1].kpi = KW_MKPI_RESPONSE;
    runs[2].kpi = KW_MKPI_RESOLUTION;
    struct kw_report_input cur = {from, to, runs, 3, NULL, 0};
    struct kw_report_input prev = {from - 7 * D, from, NULL, 0, NULL, 0};
    struct kw_report whole, parts;
    double head[KW_RH_COUNT], before[KW_RH_COUNT];
    assert_int_equal(kw_report_build(&cur, &prev, NULL, 0, true, &whole, NULL), KW_OK);
    assert_int_equal(kw_report_build_body(&cur, NULL, 0, true, &parts, NULL), KW_OK);
    CLOSE(parts.head[KW_RH_ON_TIME], NAN); /* left to the caller */
    CLOSE(parts.delta[KW_RH_CREATED], NAN);
    assert_int_equal(kw_report_headline(&cur, head, NULL), KW_OK);
    assert_int_equal(kw_report_headline(&prev, before, NULL), KW_OK);
    kw_report_heads_set(&parts, head, before);
    for (size_t k = 0; k < KW_RH_COUNT; k++) {
        CLOSE(parts.head[k], whole.head[k]);
        CLOSE(parts.prev[k], whole.prev[k]);
        CLOSE(parts.delta[k], whole.delta[k]);
    }
    assert_int_equal(parts.nlevels, whole.nlevels);
    assert_int_equal(parts.nbreaches, whole.nbreaches);
    assert_int_equal(parts.nagents, whole.nagents);
    kw_report_heads_set(&parts, head, NULL); /* no previous period: no deltas */
    CLOSE(parts.prev[KW_RH_CREATED], NAN);
    CLOSE(parts.delta[KW_RH_CREATED], NAN);
    kw_report_free(&whole);
    kw_report_free(&parts);
}

static void test_headline(void **state)
{
    (void)state;
    struct kw_report r;
    build(&r, true, true);
    CLOSE(r.head[KW_RH_ON_TIME], 60.0); /* R1 R3 R5 of R1-R5 */
    CLOSE(r.head[KW_RH_BREACHES], 2);
    CLOSE(r.head[KW_RH_MTTA], 6000); /* (3600 + 10800 + 3600) / 3 */
    CLOSE(r.head[KW_RH_MTTR], 14400);
    CLOSE(r.head[KW_RH_CREATED], 3);
    CLOSE(r.head[KW_RH_RESOLVED], 3);
    CLOSE(r.head[KW_RH_REOPENED], 1);
    CLOSE(r.head[KW_RH_BACKLOG], 4);
    CLOSE(r.head[KW_RH_CSAT], 4.0);
    CLOSE(r.head[KW_RH_SATISFIED], 66.7);
    CLOSE(r.head[KW_RH_NPS], 0.0); /* one 10, one 6 */
    CLOSE(r.prev[KW_RH_ON_TIME], 50.0);
    CLOSE(r.delta[KW_RH_ON_TIME], 10.0);
    CLOSE(r.delta[KW_RH_CREATED], 2);
    CLOSE(r.prev[KW_RH_CSAT], NAN);
    CLOSE(r.delta[KW_RH_CSAT], NAN); /* no ratings before: no delta */
    kw_report_free(&r);
    build(&r, true, false);
    CLOSE(r.delta[KW_RH_ON_TIME], NAN);
    kw_report_free(&r);
}

static void test_levels_breaches_top(void **state)
{
    (void)state;
    struct kw_report r;
    build(&r, true, true);
    static const struct {
        const char *level, *metric;
        double on_time, target;
    } want[] = {{"L1", "resolution", 100.0, 4 * H},
                {"L1", "response", 50.0, 2 * H},
                {"L2", "resolution", 0.0, 4 * H},
                {"L2", "response", 100.0, 2 * H}};
    assert_int_equal(r.nlevels, N_ELEMS(want));
    for (size_t i = 0; i < N_ELEMS(want); i++) {
        assert_string_equal(r.levels[i].key, want[i].level);
        assert_string_equal(r.levels[i].key2, want[i].metric);
        CLOSE(r.levels[i].m.on_time_rate, want[i].on_time);
        CLOSE(r.levels[i].target_median, want[i].target);
    }
    assert_int_equal(r.nbreaches, 2);
    assert_int_equal(r.breaches[0].run->ticket_id, 5); /* 20 h over first */
    assert_int_equal(r.breaches[0].cls, KW_KPI_BREACHED_OPEN);
    assert_int_equal(r.breaches[0].over_wall, 20 * H);
    assert_int_equal(r.breaches[0].over_working, 20 * H);
    assert_int_equal(r.breaches[1].over_wall, H);
    assert_string_equal(r.breaches[1].run->reason, "capacity");
    /* TOP5: one breach each, names in order (none first) */
    assert_int_equal(r.ntop[KW_RT_CATEGORIES], 2);
    assert_string_equal(r.top[KW_RT_CATEGORIES][0].name, "network");
    assert_int_equal(r.ntop[KW_RT_REASONS], 2);
    assert_null(r.top[KW_RT_REASONS][0].name);
    assert_string_equal(r.top[KW_RT_REASONS][1].name, "capacity");
    assert_string_equal(r.top[KW_RT_ORGS][1].name, "Beta");
    assert_int_equal(r.top[KW_RT_LONGEST][0].ticket_id, 5);
    CLOSE(r.top[KW_RT_LONGEST][0].value, 20 * H);
    assert_int_equal(r.ntop[KW_RT_REOPENED], 1);
    assert_int_equal(r.top[KW_RT_REOPENED][0].ticket_id, 2);
    CLOSE(r.top[KW_RT_REOPENED][0].value, 2);
    /* backlog: 12 h, 2 d, 5 d, 17 d */
    static const int64_t backlog[5] = {1, 1, 1, 1, 4};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(r.backlog[i], backlog[i]);
    /* trend by day: Mon R1 R3, Tue R2 late, Wed R5, Sun R4 breached */
    static const double trend[7] = {100, 0, 100, NAN, NAN, NAN, 0};
    assert_int_equal(r.ntrend, 7);
    for (size_t i = 0; i < 7; i++)
        CLOSE(r.trend[i].on_time, trend[i]);
    kw_report_free(&r);
}

static void test_agents_and_radar(void **state)
{
    (void)state;
    struct kw_report r;
    build(&r, true, true);
    assert_int_equal(r.nteams, 1);
    assert_string_equal(r.teams[0].key, "desk");
    CLOSE(r.teams[0].m.on_time_rate, 60.0);
    assert_int_equal(r.nagents, 2);
    assert_string_equal(r.agents[0].key, "ann");
    CLOSE(r.agents[0].m.on_time_rate, 66.7); /* R1 R3 of R1-R3 */
    CLOSE(r.agents[0].mtta, 7200);           /* (3600 + 10800) / 2 */
    assert_int_equal(r.agents[0].resolved, 2);
    assert_int_equal(r.agents[0].reopened, 1);
    assert_int_equal(r.agents[0].open, 2);
    static const double ann[KW_RA_COUNT] = {
        66.7,  /* timeliness: the on-time rate */
        100.0, /* responsiveness: 200 - mean SRI (50, 150) */
        50.0,  /* resolution: 2 resolved of 4 handled */
        50.0,  /* professionalism: ticket 1 of 1 and 2 not reopened */
        75.0,  /* friendliness: (CSAT 4.0 - 1) x 25 */
        100.0, /* workload: 4 handled, team median 3.5, capped */
    };
    static const double bob[KW_RA_COUNT] = {50.0, 100.0, 33.3, 100.0, 75.0, 85.7};
    for (size_t k = 0; k < KW_RA_COUNT; k++) {
        CLOSE(r.radar[0].axis[k], ann[k]);
        CLOSE(r.radar[1].axis[k], bob[k]);
    }
    assert_int_equal(r.radar[1].handled, 3);
    kw_report_free(&r);
    /* a customer's report: no team, agent or radar rows */
    build(&r, false, true);
    assert_int_equal(r.nteams, 0);
    assert_int_equal(r.nagents, 0);
    CLOSE(r.head[KW_RH_ON_TIME], 60.0);
    kw_report_free(&r);
}

static void test_formulas(void **state)
{
    (void)state;
    CLOSE(kw_report_responsiveness(NAN), NAN);
    CLOSE(kw_report_responsiveness(80), 100);
    CLOSE(kw_report_responsiveness(100), 100);
    CLOSE(kw_report_responsiveness(150), 50);
    CLOSE(kw_report_responsiveness(250), 0);
    CLOSE(kw_report_workload(0, 0), NAN);
    CLOSE(kw_report_workload(2, 0), 100);
    CLOSE(kw_report_workload(3, 4), 75);
    CLOSE(kw_report_workload(9, 4), 100);
}

static void test_nothing(void **state)
{
    (void)state;
    struct kw_report_input in = {from, to, NULL, 0, NULL, 0};
    struct kw_report r;
    assert_int_equal(kw_report_build(&in, &in, NULL, 0, true, &r, NULL), KW_OK);
    CLOSE(r.head[KW_RH_ON_TIME], NAN); /* null, never 100 */
    CLOSE(r.head[KW_RH_MTTA], NAN);
    CLOSE(r.head[KW_RH_CREATED], 0);
    CLOSE(r.delta[KW_RH_CREATED], 0);
    CLOSE(r.head[KW_RH_NPS], NAN);
    assert_int_equal(r.nlevels + r.nagents + r.nbreaches + r.ntrend, 0);
    kw_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_headline),
                                       cmocka_unit_test(test_levels_breaches_top),
                                       cmocka_unit_test(test_agents_and_radar),
                                       cmocka_unit_test(test_formulas),
                                       cmocka_unit_test(test_nothing),
                                       cmocka_unit_test(test_kpi_marker),
                                       cmocka_unit_test(test_parts)};
    return cmocka_run_group_tests(tests, setup, NULL);
}
