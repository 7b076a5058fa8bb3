// SPDX-License-Identifier: MIT
/*
 * report.h - the weekly and monthly service report (docs/kpi.md "The
 * service report"): headline figures against the previous period, on-time
 * rate by level and metric, breaches with reasons, TOP5 lists,
 * satisfaction, backlog, per-team and per-agent tables and the service
 * quality radar per agent.
 *
 * The caller gathers the clock runs (as they stood at the period's end or
 * their stop, kpi.h) and ticket facts of the period and of the one before,
 * with their dimensions as names; kw_report_build folds them. Strings in the
 * input are borrowed and must outlive the report; the report's arrays are
 * its own (kw_report_free). Pure: no I/O, no clock.
 */
#ifndef KW_REPORT_H
#define KW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi.h"
#include "kw_err.h"
#include "policy.h"

/* One clock run with the ticket's dimensions at its stop (NULL: none). */
struct kw_report_run {
    struct kw_kpi_run run;
    int64_t ticket_id;
    const char *metric, *level, *category, *org, *team, *assignee;
    const char *reason;     /* the overrun's reason category, NULL: not explained */
    enum kw_metric_kpi kpi; /* what the metric stands for (kw_policy_metric_kpi) */
    int run_no;             /* the clock run's number, from 0 per metric: its key's last part */
};

enum kw_report_fact_kind {
    KW_RF_CREATED,
    KW_RF_RESOLVED,
    KW_RF_REOPENED,
    KW_RF_RATED,
    KW_RF_OPEN /* open at the period's end; at: created_at */
};
/* One ticket fact of the period, with the ticket's current dimensions. */
struct kw_report_fact {
    enum kw_report_fact_kind kind;
    int64_t ticket_id, at;
    int satisfaction, nps; /* RATED: 1-5, and 0-10 or < 0 */
    const char *org, *team, *assignee, *category;
};

/* One period's runs and facts; [from, to). */
struct kw_report_input {
    int64_t from, to;
    const struct kw_report_run *runs;
    size_t nruns;
    const struct kw_report_fact *facts;
    size_t nfacts;
};

/* The headline figures; a null figure is NAN. */
enum kw_report_head {
    KW_RH_ON_TIME,   /* on-time rate over every metric's runs, percent */
    KW_RH_MTTA,      /* mean working elapsed of the response metric's stopped runs, s */
    KW_RH_MTTR,      /* same for the resolution metric (kpi marker, policy.h) */
    KW_RH_BREACHES,  /* met_late + breached_open runs */
    KW_RH_CREATED,   /* tickets */
    KW_RH_RESOLVED,  /* tickets */
    KW_RH_REOPENED,  /* tickets */
    KW_RH_BACKLOG,   /* open tickets at the end */
    KW_RH_CSAT,      /* mean 1-5 */
    KW_RH_SATISFIED, /* share of 4-5, percent */
    KW_RH_NPS,       /* -100..100 */
    KW_RH_COUNT
};

/* On-time figures of a (level, metric) or of a team or agent. */
struct kw_report_row {
    const char *key, *key2; /* level and metric; team; agent (NULL: none) */
    struct kw_kpi_metric m; /* over every run of the row (all metrics for teams and agents) */
    double target_median;   /* level x metric: the runs' median target, s; else NAN */
    double mtta, mttr;      /* teams and agents: as the headline; else NAN */
    size_t resolved, reopened, open;
    double csat; /* NAN: no ratings */
};

/* A breach: a met_late or breached_open run. */
struct kw_report_breach {
    const struct kw_report_run *run; /* into the current input */
    enum kw_kpi_class cls;
    int64_t over_wall, over_working; /* past the deadline, s */
};

/* A TOP5 entry: a name (NULL: none / not explained) and its count or size. */
struct kw_report_top {
    const char *name;
    int64_t ticket_id; /* longest overruns and most reopened: the ticket */
    double value;
};
enum kw_report_top_kind {
    KW_RT_CATEGORIES, /* by breaches */
    KW_RT_REASONS,    /* overrun reasons, by breaches */
    KW_RT_ORGS,       /* by breaches */
    KW_RT_LONGEST,    /* breaches by overrun wall seconds */
    KW_RT_REOPENED,   /* tickets by reopenings in the period */
    KW_RT_COUNT
};
#define KW_REPORT_TOP 5

/* The radar's six dimensions, each 0-100 or NAN (docs/kpi.md). */
enum kw_report_axis {
    KW_RA_TIMELINESS,
    KW_RA_RESPONSIVENESS,
    KW_RA_RESOLUTION,
    KW_RA_PROFESSIONALISM,
    KW_RA_FRIENDLINESS,
    KW_RA_WORKLOAD,
    KW_RA_COUNT
};
struct kw_report_radar {
    const char *agent, *team;
    double axis[KW_RA_COUNT];
    size_t handled; /* resolved + open at the end, assigned to the agent */
};

/* A trend bucket: on-time rate of the runs that ended in [from, to). */
struct kw_report_bucket {
    int64_t from, to;
    size_t met, late; /* late: met_late + breached_open */
    double on_time;   /* percent or NAN */
};

struct kw_report {
    int64_t from, to;
    double head[KW_RH_COUNT], prev[KW_RH_COUNT], delta[KW_RH_COUNT];
    size_t nlevels, nteams, nagents, nbreaches, ntrend;
    struct kw_report_row *levels;         /* by level, then metric */
    struct kw_report_row *teams, *agents; /* by name; none when per_agent is false */
    struct kw_report_breach *breaches;    /* longest overrun first */
    struct kw_report_top top[KW_RT_COUNT][KW_REPORT_TOP];
    size_t ntop[KW_RT_COUNT];
    struct kw_kpi_rating_figures ratings;
    int64_t backlog[5];            /* < 1 d, 1-3 d, 3-7 d, > 7 d, total */
    struct kw_report_radar *radar; /* one per agent (agents' order) */
    struct kw_report_bucket *trend;
};

/* Fold cur (and prev, may be NULL: deltas null) into *out. bounds[0..nb]
 * cut cur's period into trend buckets (bounds[0] = cur->from, bounds[nb] =
 * cur->to; nb may be 0). per_agent false: no team, agent or radar rows (a
 * customer's report). KW_NOMEM; *out is released on failure. */
enum kw_code kw_report_build(const struct kw_report_input *cur, const struct kw_report_input *prev,
                             const int64_t *bounds, size_t nb, bool per_agent,
                             struct kw_report *out, struct kw_err *err);
/* kw_report_build in parts, for a caller that folds on two threads: the
 * body (every figure but the headline: head, prev and delta left NAN), the
 * headline figures of one period (reads in only, allocates its own
 * scratch: safe on another thread while the body is built from the same
 * inputs), and the headlines put in with their deltas (prev NULL: none).
 * kw_report_build is the three in a row. KW_NOMEM. */
enum kw_code kw_report_build_body(const struct kw_report_input *cur, const int64_t *bounds,
                                  size_t nb, bool per_agent, struct kw_report *out,
                                  struct kw_err *err);
enum kw_code kw_report_headline(const struct kw_report_input *in, double h[KW_RH_COUNT],
                                struct kw_err *err);
void kw_report_heads_set(struct kw_report *r, const double *head, const double *prev);
void kw_report_free(struct kw_report *r);

/* The radar's friendliness from a CSAT mean, and the others from their
 * parts (docs/kpi.md); NAN when the parts are missing. */
double kw_report_responsiveness(double mean_sri);
double kw_report_workload(size_t handled, double team_median);

#endif
