// SPDX-License-Identifier: MIT
/*
 * confirm.h - closing the loop on time: how long a proposed resolution waits
 * for the customer's confirmation (双签确认) and the satisfaction call-back
 * (满意回访) that follows the closing.
 *
 * The wait starts when the ticket enters feedback and is measured on one
 * calendar of the commitment (policy.h, struct kw_confirm_terms): a working
 * time, or N working days. A reminder falls due at a share of it, and at its
 * end the ticket is archived as confirmed by timeout, never as the
 * customer's confirmation. Pure: no I/O, no clock, no globals; instants are
 * UTC seconds.
 */
#ifndef KW_CONFIRM_H
#define KW_CONFIRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "kw_err.h"
#include "policy.h"
#include "sla.h"

/* The instants of one wait that began at `since` (the move to feedback):
 * start, the first working instant at or after since; remind_at (KW_NO_TIME
 * when the terms have no reminder) and deadline, where the wait ends.
 *
 * N working days end on the Nth date after start's local date that has
 * working time, at start's local time of day (a shorter day: at its last
 * working instant; before its first shift: at its start; in a break: when
 * work resumes). A working time ends where that much working time has
 * passed since `since`. The reminder falls where remind_pct % of the
 * working time between start and deadline has passed. KW_RANGE past the
 * calendar's horizon; KW_INVALID for terms that are off. */
struct kw_confirm_plan {
    int64_t start, remind_at, deadline;
};
enum kw_code kw_confirm_plan(const struct kw_confirm_terms *t, const struct kw_cal *cal,
                             int64_t since, struct kw_confirm_plan *out, struct kw_err *err);

/* What is due next of plan p, given whether the reminder was sent: *kind
 * gets KW_CONFIRM_DUE_REMIND or KW_CONFIRM_DUE_TIMEOUT and the return is
 * its instant (like a threshold, it is fired once its second is over). */
enum kw_confirm_due { KW_CONFIRM_DUE_REMIND, KW_CONFIRM_DUE_TIMEOUT };
int64_t kw_confirm_next(const struct kw_confirm_plan *p, bool reminded, enum kw_confirm_due *kind);

/* How the latest proposed resolution ended, from the ticket's clock events
 * (a reopening or a rejection starts afresh): by the customer's own
 * confirmation, by the wait running out, or not (yet). *at gets when. */
enum kw_confirm_outcome { KW_CONFIRM_OPEN, KW_CONFIRM_CUSTOMER, KW_CONFIRM_TIMEOUT };
enum kw_confirm_outcome kw_confirm_outcome(const struct kw_event *ev, size_t n, int64_t *at);

/* One call-back call as staff record it. satisfaction 1-5 (0: not given),
 * nps 0-10 (-1: not given); strings borrowed, may be NULL. */
struct kw_callback_in {
    bool reached;
    int satisfaction, nps;
    const char *note, *follow_up;
};
/* Whether the call may be recorded: a reached customer gives a
 * satisfaction (1-5) and may give an NPS (0-10); an unreached one gives
 * neither (KW_INVALID at the member). made: unreached attempts so far,
 * done: a call already reached the customer, max: callback_attempts
 * (KW_CONFLICT when done or when made >= max). Texts at most 2000 bytes. */
enum kw_code kw_callback_check(const struct kw_callback_in *in, int made, bool done, int max,
                               struct kw_err *err);
/* A dissatisfied answer: satisfaction 1-2 or NPS 0-6 (a detractor). */
bool kw_callback_dissatisfied(int satisfaction, int nps);

#endif
