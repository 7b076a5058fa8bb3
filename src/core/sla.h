// SPDX-License-Identifier: MIT
/*
 * sla.h - SLA clocks as a pure function of (policy, calendars, events, as-of).
 *
 * A ticket's events, in time order, drive one clock per metric of the policy:
 * the metric's start event starts it, a state listed in pause_when pauses it,
 * one of its stop milestones stops it, a reopen takes back revoked milestones
 * (resume: the stopped gap is left out; restart: a new run from the reopen,
 * with the target in force then). Elapsed
 * time is working time on the clock's calendar, pauses excluded. Attribute
 * changes re-resolve clocks that have not stopped (recompute) or leave them
 * (keep). Same inputs, same clocks. No allocation except the scratch list of
 * gaps kept in struct kw_sla, which is reused from call to call.
 */
#ifndef KW_SLA_H
#define KW_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "kw_err.h"
#include "policy.h"

#define KW_SLA_MAX_EVENTS 100000 /* events of one ticket */

enum kw_event_type {
    KW_EV_CREATED,   /* attrs: the ticket's attributes (level required) */
    KW_EV_LEVEL,     /* attrs.v[KW_ATTR_LEVEL]: the new level */
    KW_EV_CATEGORY,  /* attrs.v[KW_ATTR_CATEGORY]: the new category */
    KW_EV_ATTRS,     /* attrs: the attributes that change (others NULL) */
    KW_EV_STATE,     /* name: the new state */
    KW_EV_MILESTONE, /* name: the milestone reached */
    KW_EV_REOPENED,  /* name: the state after reopening, or NULL for handling */
    KW_EV_COUNT
};

/* One event; strings are borrowed. */
struct kw_event {
    int64_t at;
    enum kw_event_type type;
    struct kw_ticket_attrs attrs;
    const char *name;
};

enum kw_clock_status {
    KW_CLOCK_PENDING, /* applies, not started yet */
    KW_CLOCK_RUNNING,
    KW_CLOCK_PAUSED,
    KW_CLOCK_MET,
    KW_CLOCK_BREACHED, /* reached its deadline and has not stopped */
    KW_CLOCK_MET_LATE, /* stopped after it reached its deadline */
    KW_CLOCK_STATUS_COUNT
};

#define KW_NO_TIME INT64_MIN /* an instant that does not exist (JSON null) */

/* A warning threshold: `at` is when elapsed reached pct % of the target
 * (reached), or when it will if the clock keeps running (projected), or
 * KW_NO_TIME (paused or stopped before it). A threshold, like the deadline,
 * is reached only if the clock runs at that instant: a stop or pause at
 * exactly the crossing does not reach it (then it is reached when the clock
 * runs again, at that instant). */
struct kw_threshold {
    uint8_t pct;
    bool reached;
    int64_t at;
};

struct kw_clock {
    int metric, rule, calendar;
    enum kw_clock_status status;
    int64_t target, elapsed, paused; /* seconds; paused: working seconds spent paused */
    int64_t started_at, deadline, met_at, breached_at; /* or KW_NO_TIME */
    const char *stopped_by; /* the milestone (owned by the policy), or NULL */
    double sri;             /* elapsed / target * 100; negative when target is 0 */
    size_t n_warn;
    struct kw_threshold warn[KW_POLICY_MAX_WARN];
    int64_t next_due; /* the next warning or the breach, or KW_NO_TIME */
    uint8_t next_pct; /* 100 for the breach */
};

struct kw_sla_gap {
    int64_t from, to;
    bool pause;
};

/* One run of a clock: one start-to-stop life (docs/kpi.md). A reopening
 * under restart ends the run and begins the next (the earlier runs are
 * kept); under resume the run goes on. A run the reopening takes back
 * entirely (its start event revoked) is kept only if it had stopped. */
struct kw_sla_run {
    struct kw_clock clock;        /* as it stood at its stop, or as of as_of */
    unsigned seq;                 /* the run's number for its metric, from 0 */
    int64_t stopped_at;           /* KW_NO_TIME: running, paused or breached at as_of */
    int64_t wall;                 /* wall seconds start to stop (or as_of), less paused and
                                   * stopped (resume) wall time */
    int64_t paused_wall;          /* wall seconds paused between start and stop (or as_of) */
    int64_t dims_at;              /* the instant attrs are of: the stop, or as_of */
    struct kw_ticket_attrs attrs; /* the ticket's attributes then (borrowed from the events) */
};

/* The clocks of one ticket, plus scratch reused between calls. Zero it (or
 * kw_sla_init) before the first call; kw_sla_release() when done. */
struct kw_sla {
    size_t n; /* clocks that apply, in the policy's metric order */
    struct kw_clock clock[KW_POLICY_MAX_METRICS];
    /* every run of the clocks that apply and have started, by metric then
     * seq; the last run of each metric is its clock above */
    size_t n_runs;
    struct kw_sla_run *runs;
    struct kw_sla_gap *gaps;
    size_t cap, runs_cap;
};

void kw_sla_init(struct kw_sla *s);
void kw_sla_release(struct kw_sla *s);

/* Compute the clocks of a ticket's events as of instant as_of (events after
 * it are ignored), and every run of them (out->runs). cals[i] is the compiled calendar i of the
 * policy. Events out of order, before created, of unknown names or levels are KW_INVALID naming the
 * event ("events[3]: ..."); as_of before created and calendar horizons are KW_RANGE. */
enum kw_code kw_sla_eval(const struct kw_policy *p, const struct kw_cal *const *cals,
                         const struct kw_event *ev, size_t n, int64_t as_of, struct kw_sla *out,
                         struct kw_err *err);

/* When each service node of the policy was reached by the events (earliest
 * time), or KW_NO_TIME: reached[i] for node i of kw_policy_node_*. A reopening
 * takes back the nodes of milestones it revokes and of the states feedback
 * and archived. */
void kw_nodes_reached(const struct kw_policy *p, const struct kw_event *ev, size_t n,
                      int64_t reached[KW_POLICY_MAX_NODES]);

const char *kw_clock_status_name(enum kw_clock_status s);
const char *kw_event_type_name(enum kw_event_type t);

#endif
