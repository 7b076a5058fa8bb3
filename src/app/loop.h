// SPDX-License-Identifier: MIT
/*
 * loop.h - closing the loop on time (see core/confirm.h): the wait for the
 * customer's confirmation, the satisfaction call-back desk, and follow-up
 * tasks.
 *
 * Same shape as tickets.h: each action runs in a writer unit, reads what it
 * validates there, appends its events through core/event, refreshes the
 * projection and sets u->fire_at. Who may do what:
 *
 *   action            customer   staff   system
 *   remind, timeout   -          -       yes (the engine, when they fall due)
 *   callback          no         yes     -
 *   task done         no         yes     -
 *
 * A follow-up task is an item recorded on the ticket's log (task_opened,
 * task_done), numbered from 1 per ticket, for one person (the team lead),
 * seen by staff only.
 */
#ifndef KW_APP_LOOP_H
#define KW_APP_LOOP_H

#include "app.h"
#include "confirm.h"

/* Where the wait for confirmation of ticket stands, from its events te and
 * commitment k: *plan and *reminded when it is in feedback and the terms
 * set a wait (true); false otherwise. */
bool kw_loop_confirm_state(const struct kw_compiled *k, const struct kw_ticket_events *te,
                           struct kw_confirm_plan *plan, bool *reminded);

/* The engine's side: the reminder (a confirm_reminder event and a
 * confirm_reminder notification) and the timeout (confirm_timeout, the
 * move to archived with reason "confirmed by timeout", the milestones
 * confirmed_by_timeout and closed, a confirm_timeout notification), both
 * by the system, carrying `due`, when they fell due, and the deadline.
 * KW_CONFLICT when the ticket is no longer in feedback. The caller
 * projects afterwards. */
enum kw_code kw_loop_remind(struct kw_store *st, int64_t ticket, int64_t due, int64_t deadline,
                            int64_t now, struct kw_err *err);
enum kw_code kw_loop_timeout(struct kw_store *st, int64_t ticket, int64_t due, int64_t deadline,
                             int64_t now, struct kw_err *err);

/* Record a call-back call on ticket (staff only). The ticket's call-back
 * clock (a metric that callback_done stops) must run: KW_CONFLICT
 * otherwise, or when the customer was reached already or tried
 * callback_attempts times (core/confirm.h has the input's rules). Reached:
 * also the callback_done milestone and, with a satisfaction, a rating with
 * source "callback"; dissatisfied (satisfaction <= 2 or nps <= 6): a
 * follow-up task for the ticket's team lead (*task gets its number, else
 * 0). *attempt gets this call's number. */
enum kw_code kw_ticket_callback(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                const struct kw_callback_in *in, int *attempt, int *task,
                                struct kw_err *err);

/* Mark follow-up task `task` of ticket done (staff only); note may be
 * NULL. KW_NOT_FOUND for no such task, KW_CONFLICT when it is done. */
enum kw_code kw_ticket_task_done(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                 int task, const char *note, struct kw_err *err);

/* ---- reads ---- */

/* The call-back of a ticket since it was last closed: unreached attempts,
 * whether a call reached the customer, and the last call (KW_NO_TIME). */
struct kw_callback_status {
    int attempts, calls;
    bool done;
    int64_t last_at;
};
enum kw_code kw_callback_status_read(struct kw_store *st, int64_t ticket,
                                     struct kw_callback_status *out, struct kw_err *err);

/* A follow-up task as its events tell it; strings live as long as the
 * list (kw_tasks_release). done_at KW_NO_TIME while open. */
#define KW_TASKS_MAX 64
struct kw_task {
    int n;
    const char *kind, *note, *done_note;
    int64_t assignee_id, team_id, opened_at, opened_by, done_at, done_by;
};
struct kw_tasks {
    size_t n;
    struct kw_task t[KW_TASKS_MAX];
    json_t *docs[2 * KW_TASKS_MAX];
    size_t n_docs;
};
enum kw_code kw_tasks_read(struct kw_store *st, int64_t ticket, struct kw_tasks *out,
                           struct kw_err *err);
void kw_tasks_release(struct kw_tasks *l);

/* The metric of k that the callback_done milestone stops (the call-back
 * clock), or -1. */
int kw_loop_callback_metric(const struct kw_policy *p);

#endif
