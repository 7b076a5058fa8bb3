// SPDX-License-Identifier: MIT
/*
 * clocks.h - SLA clocks of stored tickets: compiled commitments and the clock
 * projection kept on every ticket (the engine fires what falls due, engine/fire.h).
 *
 * A commitment version is compiled once (its calendars over the horizon)
 * and kept until the process ends; versions are few and immutable. The
 * projection and the firing run inside a writer unit (store/writer.h), with
 * the writer's store handle and a scratch kw_sla of its own.
 *
 * What falls due: for each running clock the next warning threshold not yet
 * fired, then the breach. Thresholds fired are read from the ticket's own
 * `sla_warning` / `sla_breach` events since the clock (re)started, so a
 * threshold fires once however often the ticket is projected, and what was
 * due while the server was down fires at the next start, in order. A
 * threshold crossed at T is fired at T + 1 (fire_at), when its second is
 * over, so a stop stamped in that second is seen first (sla.h's rule).
 */
#ifndef KW_CLOCKS_H
#define KW_CLOCKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "kw_err.h"
#include "policy.h"
#include "sla.h"
#include "store.h"

/* The versions of a stored calendar a commitment names, as compiled:
 * version[i] counts from since[i] (since[0]: from the start of the horizon)
 * until since[i + 1]. name is NULL for a calendar the commitment embeds. */
struct kw_cal_history {
    const char *name; /* owned by the policy */
    size_t n;
    int64_t *version, *since;
};

/* A commitment version compiled for clock computations. A calendar that
 * names a stored calendar is compiled from all its versions
 * (kw_cal_splice): working time before a save counts on the version then in
 * force, after it on the new one. */
struct kw_compiled {
    int64_t id;
    struct kw_policy *p;
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
    struct kw_cal_history hist[KW_POLICY_MAX_CALENDARS];
};

struct kw_clocks; /* opaque; safe to share between threads */

struct kw_clocks *kw_clocks_new(struct kw_err *err);
void kw_clocks_free(struct kw_clocks *c); /* accepts NULL */

/* Commitment version id, compiled on first use (read with st). */
const struct kw_compiled *kw_clocks_commitment(struct kw_clocks *c, struct kw_store *st, int64_t id,
                                               struct kw_err *err);
/* Stored calendar `name` got version `version` (call inside the unit that
 * saved it, with the writer's st): every cached commitment that names it is
 * compiled again from st and replaces the old, which stays allocated for
 * threads still using it until kw_clocks_free; and a commitment compiled
 * from a handle that does not see that version yet (a reader that started
 * before the commit) is used but not cached. On failure (the new version
 * breaks a commitment) nothing changes and the caller should undo the save.
 * When the unit or its commit failed after all, call with st NULL and
 * version 0: the cached ones naming it are dropped, to be compiled again
 * from what was committed. */
enum kw_code kw_clocks_calendar_saved(struct kw_clocks *c, struct kw_store *st, const char *name,
                                      int64_t version, struct kw_err *err);
/* Compile policy p's calendars into cals and hist as a server does: embedded
 * ones from their spec, stored ones from their versions in st (the latest
 * bound into p for the letter). KW_INVALID at /calendars/NAME for an
 * unknown stored calendar. Caller frees with kw_compiled_calendars_free. */
enum kw_code kw_clocks_compile_calendars(struct kw_clocks *c, struct kw_store *st,
                                         struct kw_policy *p, struct kw_cal **cals,
                                         struct kw_cal_history *hist, struct kw_err *err);
void kw_compiled_calendars_free(const struct kw_policy *p, struct kw_cal **cals,
                                struct kw_cal_history *hist);
/* The commitment versions (ids) whose calendars name stored calendar
 * `name`, found in their documents: fn is called for each with its row. */
enum kw_code kw_clocks_naming(struct kw_store *st, const char *name,
                              bool (*fn)(const struct kw_commitment_row *c, void *ctx), void *ctx,
                              struct kw_err *err);
/* Which versions of its stored calendar clock ck of k used as of as_of: the
 * versions in force during its run (from its start to its stop; a clock
 * still running or paused also the one in force now). JSON array of
 * {"calendar", "version", "from", "until"} (instants, null: open), or JSON
 * null for an embedded calendar. */
json_t *kw_clock_calendar_versions(const struct kw_compiled *k, const struct kw_clock *ck);

/* The time-zone database behind calendars is not thread-safe: hold this
 * lock around kw_cal_compile, kw_policy_compile and libical parsing. */
struct kw_tzdb *kw_clocks_tz_lock(struct kw_clocks *c);
void kw_clocks_tz_unlock(struct kw_clocks *c);
/* The database itself, for kw_tzdb_get (which is thread-safe) only. */
struct kw_tzdb *kw_clocks_tzdb(struct kw_clocks *c);

/* A ticket's events as the clocks see them. Bodies stay alive in docs. */
#define KW_FIRED_MAX 64
struct kw_ticket_events {
    struct kw_event *ev;
    json_t **docs;
    size_t n, cap;
    int64_t last_move;                   /* when the state last changed (for the reopen window) */
    int64_t created_at, acknowledged_at; /* KW_NO_TIME when not (yet) */
    /* when the ticket last entered feedback, while it is there (else
     * KW_NO_TIME), and whether the customer was reminded since */
    int64_t feedback_since;
    bool reminded;
    size_t n_steps; /* escalation steps taken ("escalated" events), the last 64 */
    struct {
        json_t *doc;
        const char *chain; /* owned by doc, or by the policy */
        int step;
    } steps[64];
    size_t n_fired; /* sla_warning / sla_breach events, the last KW_FIRED_MAX */
    struct {
        json_t *doc;
        const char *metric; /* owned by doc */
        int pct;
        int64_t at;
    } fired[KW_FIRED_MAX];
    /* "assigned" events in order: who had the ticket from when (for the
     * KPI facts' assignee and team at a run's stop) */
    size_t n_assign, cap_assign;
    struct kw_assignment {
        int64_t at, assignee_id, team_id;
    } * assign;
    bool nomem;
    /* kw_clocks_project_since's unit: in, the number of its first event
     * (0: none); out, the instant of the ticket's last event before it
     * (KW_NO_TIME: none) and whether one of the unit's may change a KPI
     * run (a clock event, an assignment, the creation, or one this build
     * cannot read) */
    int64_t unit_seq, before_unit;
    bool unit_moves;
};
enum kw_code kw_ticket_events_load(struct kw_store *st, int64_t ticket,
                                   struct kw_ticket_events *out, struct kw_err *err);
void kw_ticket_events_release(struct kw_ticket_events *te);

/* The colour of a warning at pct: blue below 75, yellow below 90, red. */
const char *kw_warning_colour(int pct);

/* Recompute ticket's clocks as of now and store the projection (clocks
 * rows, the ticket's next breach deadline, first breach and the instant the
 * next threshold falls due). created: the ticket was just created with
 * these attributes, its only event (spares reading it back; and the row,
 * when created->commitment_read says which commitment it follows). Writer
 * only. */
enum kw_code kw_clocks_project(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                               int64_t ticket, int64_t now, const struct kw_ticket_new *created,
                               struct kw_err *err);

/* As kw_clocks_project, after a unit whose events on ticket begin at
 * number first_seq: when none of them may change a KPI run (a comment, a
 * note: no clock event, assignment or creation) the runs are left as the
 * last projection stored them, as kw_clocks_store_fired leaves them, and
 * are written again otherwise, or when a clock breached with no breach
 * fired yet, or a stored calendar of the commitment got a version at or
 * after the ticket's last event before the unit's. Writer only. */
enum kw_code kw_clocks_project_since(struct kw_clocks *c, struct kw_store *st,
                                     struct kw_sla *scratch, int64_t ticket, int64_t now,
                                     int64_t first_seq, struct kw_err *err);

/* A ticket about to be inserted as created (kw_ticket_create), its
 * projection computed before the insert so that its row is written once
 * (#20): kw_clocks_prepare_new evaluates its clocks into scratch (when
 * created->commitment_read) and sets created's due columns (due_known);
 * after the insert as ticket, kw_clocks_project_new stores the rest as
 * kw_clocks_project(created) would (which it calls when nothing was
 * prepared: an evaluation that failed is evaluated and reported there).
 * pn starts zeroed ({0}); scratch must not be used in between;
 * kw_clocks_new_release frees pn.
 * Writer only. */
struct kw_clocks_new {
    bool ready;
    const struct kw_compiled *k; /* NULL: the ticket follows no commitment */
    struct kw_ticket_events te;
    struct kw_clock_row rows[KW_POLICY_MAX_METRICS];
};
void kw_clocks_prepare_new(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                           int64_t now, struct kw_ticket_new *created, struct kw_clocks_new *pn);
enum kw_code kw_clocks_project_new(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                                   int64_t ticket, int64_t now, const struct kw_ticket_new *created,
                                   struct kw_clocks_new *pn, struct kw_err *err);
void kw_clocks_new_release(struct kw_clocks_new *pn);

/* ---- for the engine's firing (engine/fire.c) ---- */

/* Note an escalation step taken / a threshold fired in te; doc (may be
 * NULL) owns the strings and is released with te. */
void kw_ticket_events_step_done(struct kw_ticket_events *te, json_t *doc, const char *chain,
                                int step);
void kw_ticket_events_fired(struct kw_ticket_events *te, json_t *doc, const char *metric, int pct,
                            int64_t at);
/* The highest threshold fired for clock k (of metric) since it (re)started. */
int kw_clock_fired_pct(const struct kw_ticket_events *te, const char *metric,
                       const struct kw_clock *k);
/* The next threshold of k above `fired` (*pct, 100 for the breach) and when
 * it falls due; KW_NO_TIME when nothing will. */
int64_t kw_clock_next_threshold(const struct kw_clock *k, int fired, int *pct);
/* The next step of chain e not taken yet (-1: none) and when it is due. */
int kw_chain_next_step(const struct kw_compiled *k, const struct kw_escalation *e,
                       const struct kw_ticket_events *te, const struct kw_sla *s, int64_t *due);
/* The instant a live evaluation of ticket t is as of: now, or its last
 * event's instant when the clock has stepped back behind it (an event is
 * stamped no earlier than its ticket's last, kw_store_event_append, and
 * kw_sla_eval ignores the events after the instant it is given: measured at
 * now, an answer stamped later would not count). */
int64_t kw_clocks_live_at(const struct kw_ticket_row *t, int64_t now);

/* Evaluate ticket's clocks (commitment version `commitment`) as of now into
 * s, loading its events into te (or from created alone); *out gets the
 * compiled commitment. */
enum kw_code kw_clocks_evaluate(struct kw_clocks *c, struct kw_store *st, struct kw_sla *s,
                                int64_t ticket, int64_t commitment, int64_t now,
                                const struct kw_ticket_new *created, struct kw_ticket_events *te,
                                const struct kw_compiled **out, struct kw_err *err);
/* The KPI facts of the runs in s (store.h's kw_run_row, one per run; the
 * strings borrowed from k and te): *rows (caller frees with free()) and *n.
 * KW_NOMEM. */
enum kw_code kw_clocks_runs(const struct kw_compiled *k, const struct kw_sla *s,
                            const struct kw_ticket_events *te, struct kw_run_row **rows, size_t *n,
                            struct kw_err *err);
/* A ticket's KPI facts as of an instant: its runs measured then (rows
 * borrow strings from te and the compiled commitment). */
struct kw_runs_at {
    struct kw_ticket_events te;
    struct kw_run_row *rows;
    size_t n;
};
/* Ticket's runs as of as_of (its commitment version `commitment`, 0: none,
 * then no runs), from its events. Release out with kw_runs_at_release,
 * also after a failure. */
enum kw_code kw_clocks_runs_at(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                               int64_t ticket, int64_t commitment, int64_t as_of,
                               struct kw_runs_at *out, struct kw_err *err);
void kw_runs_at_release(struct kw_runs_at *r);
/* An open run (a row of the KPI facts) stood as it is, running or paused,
 * from r->steady_from on with no event of its ticket (every event projects
 * the ticket again): its measure at r->measured_at carried forward or back
 * to `at` on its own calendar (k: its commitment version compiled, which
 * holds the calendar's versions), into *out (strings borrowed from r).
 * A stopped run ran from r->steady_from to its stop with no event: for
 * `at` in between, its measure at the stop carried back (still running, or
 * breached). False when `at` is before steady_from (or, stopped, at or
 * after the stop), the run is neither open nor stopped after at, or its
 * calendar is not k's: then it must be measured again from the events. */
bool kw_clocks_run_carried(const struct kw_compiled *k, const struct kw_run_row *r, int64_t at,
                           struct kw_run_row *out);
/* The measure kw_clocks_run_carried gives run r carried to `at` (at or
 * after r->steady_from; a stopped run's before its stop), once w is known:
 * the working seconds of its calendar between `at` and its stop (a stopped
 * run) or its stored measure (an open one; 0 unless running: running or
 * breached, else paused). For a caller that finds w its own way (GET
 * /kpis: from a calendar's worked seconds at a bucket's end). */
struct kw_run_carry {
    int64_t working, wall, paused_wall, breached_at;
};
struct kw_run_carry kw_clocks_carry(const struct kw_run_row *r, bool running, int64_t at,
                                    int64_t w);
/* Write every ticket's KPI facts again from its events, measured as of now
 * (or the ticket's last event, if later), in transactions of 500 tickets
 * (each ticket's rows replaced at once). *tickets and *runs (may be NULL)
 * get how many. `keepword kpi rebuild`. */
enum kw_code kw_clocks_runs_rebuild(struct kw_clocks *c, struct kw_store *st,
                                    struct kw_sla *scratch, int64_t now, size_t *tickets,
                                    size_t *runs, struct kw_err *err);
/* The next breach deadline (the earliest running clock's) and the first
 * breach of the evaluated clocks s, as kw_clocks_store_projection stores
 * them on the ticket; KW_STORE_NO_TIME for none. */
void kw_clocks_due(const struct kw_sla *s, int64_t *due, int64_t *breached);

/* Store the projection of the evaluated clocks s (and the next escalation
 * step) on the ticket, and its KPI facts (kw_store_runs_put). */
enum kw_code kw_clocks_store_projection(struct kw_store *st, int64_t ticket, bool fresh,
                                        const struct kw_compiled *k, const struct kw_sla *s,
                                        const struct kw_ticket_events *te, struct kw_err *err);
/* As kw_clocks_store_projection, but the KPI facts are left as the last
 * projection stored them: for the engine's firing of warnings, steps that
 * change nothing on the ticket and reminders, after which every run is the
 * same but measured later (no clock event, no breach, no new dimension),
 * and an open run's stored measure is carried to any later instant
 * (kw_clocks_run_carried) as if measured again. Unless a stored calendar
 * of k got a version at or after last_event (the ticket's last event
 * before the firing's): its clocks may have moved since it was last
 * projected, and the facts are written again. */
enum kw_code kw_clocks_store_fired(struct kw_store *st, int64_t ticket, int64_t last_event,
                                   const struct kw_compiled *k, const struct kw_sla *s,
                                   const struct kw_ticket_events *te, struct kw_err *err);

#endif
