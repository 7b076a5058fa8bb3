// SPDX-License-Identifier: MIT
/*
 * fire.h - firing what falls due on a ticket: warning and breach thresholds
 * of its clocks, and the steps of its escalation chains.
 *
 * Runs inside a writer unit with the writer's store handle and a scratch
 * kw_sla. The thresholds are the engine's own events (sla_warning,
 * sla_breach, escalated, with the notifications they cause); what a step
 * does to the ticket (reassign, raise the level) is the application
 * layer's kw_ticket_change, done by the system actor, as any other change.
 */
#ifndef KW_FIRE_H
#define KW_FIRE_H

#include "clocks.h"

/* Fire what is due on ticket at now: one `sla_warning` event per warning
 * threshold reached and not yet fired (percent, colour, metric, when it was
 * reached) and one `sla_breach` for a deadline passed, each with the
 * notifications it causes in the outbox (a breach also opens an overrun
 * record); then the escalation steps due, in order across chains; then
 * project again. *fired gets how many thresholds and steps fired. */
enum kw_code kw_clocks_fire(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                            int64_t ticket, int64_t now, int *fired, struct kw_err *err);

#endif
