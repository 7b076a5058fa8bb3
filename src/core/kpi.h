// SPDX-License-Identifier: MIT
/*
 * kpi.h - the figures of docs/kpi.md over clock runs and ratings: on-time
 * rate, elapsed working and wall time, SRI, overruns, CSAT and NPS.
 *
 * A period is [from, to). Each clock run is given as it stood at `to` (or at
 * its stop, if it stopped before): kw_kpi_classify says whether and how it
 * counts in the period, and an accumulator gathers the runs of one group and
 * one metric and turns them into the figures. Medians are the middle value
 * or the mean of the two middle values; p90 is the nearest rank (the
 * ceil(0.9 n)-th smallest). Percentages are rounded to one decimal, halves
 * away from zero. Pure: no I/O, no clock; the accumulator grows with malloc.
 */
#ifndef KW_KPI_H
#define KW_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

/* One run of one clock, as it stood at the end of the period. Instants are
 * Unix seconds or KW_KPI_NO_TIME. */
#define KW_KPI_NO_TIME INT64_MIN
struct kw_kpi_run {
    int64_t started_at;
    int64_t stopped_at;      /* NO_TIME (or at or after the end): not stopped at the end */
    int64_t breached_at;     /* its deadline, if the clock reached it (status breached or
                              * met_late, docs/policy.md), else NO_TIME */
    int64_t target;          /* working seconds */
    int64_t working;         /* working seconds elapsed: to the stop, or to the end */
    int64_t paused_wall;     /* wall seconds paused between start and stop (or end) */
    int64_t overrun_working; /* working seconds past the deadline, to the stop or end */
};

enum kw_kpi_class {
    KW_KPI_OUT,           /* does not count in the period */
    KW_KPI_MET,           /* stopped in the period, at or before its deadline */
    KW_KPI_MET_LATE,      /* stopped in the period, after its deadline */
    KW_KPI_BREACHED_OPEN, /* breached in the period, not stopped at its end */
};

enum kw_kpi_class kw_kpi_classify(const struct kw_kpi_run *r, int64_t from, int64_t to);

/* Mean, median and p90 of n values (n == 0: all three are null). */
struct kw_kpi_stat {
    size_t n;
    double mean, median, p90;
};

/* The figures of one metric in one group (docs/kpi.md). A rate or mean over
 * nothing is null: on_time_rate < 0, stat.n == 0, overrun.count == 0. */
struct kw_kpi_metric {
    size_t met, met_late, breached_open;
    double on_time_rate; /* percent, one decimal; < 0 when there are no runs */
    struct kw_kpi_stat elapsed, wall, sri;
    struct {
        size_t count;
        double mean_wall, mean_working;
    } overrun;
};

struct kw_kpi_acc {
    size_t met, met_late, breached_open;
    size_t n, cap, n_sri;
    int64_t *working, *wall;
    double *sri;
    size_t n_over;
    double over_wall, over_working;
};

/* Count run r in [from, to) if it counts there; KW_NOMEM when out of memory. */
enum kw_code kw_kpi_add(struct kw_kpi_acc *a, const struct kw_kpi_run *r, int64_t from, int64_t to,
                        struct kw_err *err);
/* The figures so far (sorts the accumulator's values in place). */
void kw_kpi_figures(struct kw_kpi_acc *a, struct kw_kpi_metric *out);
void kw_kpi_acc_free(struct kw_kpi_acc *a);

/* Ratings given in the period: satisfaction 1-5, nps 0-10 or < 0 for none. */
struct kw_kpi_ratings {
    size_t csat_n, csat_good, nps_n, nps_promoters, nps_detractors;
    int64_t csat_sum;
};
struct kw_kpi_rating_figures {
    size_t csat_count, nps_count;
    double csat_mean;     /* < 0: null */
    double satisfied_pct; /* share of 4-5, percent; < 0: null */
    double nps;           /* % of 9-10 minus % of 0-6; null (< -100) when none */
};
void kw_kpi_rating_add(struct kw_kpi_ratings *r, int satisfaction, int nps);
void kw_kpi_rating_figures(const struct kw_kpi_ratings *r, struct kw_kpi_rating_figures *out);
#define KW_KPI_NPS_NULL (-1000.0)

/* Time spent and its cost (docs/kpi.md "Time spent and cost"): each entry's
 * seconds at the hourly cost of the team it was recorded for (hourly_minor
 * < 0 or currency NULL: that team has no cost; the time counts, uncosted). */
#define KW_KPI_HOURLY_MAX 100000000 /* minor units per hour */
struct kw_kpi_time {
    int64_t time_s, uncosted_s;
    double cost_x3600; /* sum of seconds x hourly minor units: exact below 2^53 */
    char currency[4];  /* of the first costed entry, "" before */
    bool mixed;        /* costed entries in more than one currency */
};
void kw_kpi_time_add(struct kw_kpi_time *t, int64_t seconds, int64_t hourly_minor,
                     const char *currency);
/* Cost per ticket resolved, in minor units of t->currency (halves away from
 * zero) into *minor; false (null) when no ticket was resolved, no costed
 * time was recorded, or the costs are in more than one currency. */
bool kw_kpi_cost_per_ticket(const struct kw_kpi_time *t, int64_t resolved, int64_t *minor);

/* Statistics of v[0..n) (sorted in place) and one-decimal rounding. */
struct kw_kpi_stat kw_kpi_stat_i64(int64_t *v, size_t n);
struct kw_kpi_stat kw_kpi_stat_f64(double *v, size_t n);
double kw_kpi_round1(double x);

#endif
