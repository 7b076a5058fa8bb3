// SPDX-License-Identifier: MIT
/*
 * catalogue.h - the names people read, in Chinese and English, for what
 * the workflow and the log know: states, built-in milestones, event types.
 *
 * One catalogue for every channel: the API serves it (GET
 * /api/v1/catalogue) and the web UI takes its labels from there instead of
 * keeping copies. Pure data: static strings, no allocation.
 */
#ifndef KW_CATALOGUE_H
#define KW_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h" /* and through it policy.h: struct kw_label */
#include "workflow.h"

struct kw_label kw_state_label(enum kw_state s);
/* Whether tickets in state s count as open (all but archived). */
bool kw_state_open(enum kw_state s);

/* The built-in milestones every commitment knows, in their order. manual:
 * staff record it (customer_confirmed and closed only follow the
 * customer's confirmation). */
struct kw_milestone_info {
    const char *id;
    struct kw_label label;
    bool manual;
};
size_t kw_milestone_count(void);
const struct kw_milestone_info *kw_milestone_info(size_t i);

struct kw_label kw_event_label(enum kw_event_kind k);

/* The kinds of notification the outbox carries, in their order: what an
 * endpoint or a person may subscribe to ("sla_warning", "sla_breach",
 * "escalation", "overrun_notice", "test"). */
struct kw_notification_info {
    const char *id;
    struct kw_label label;
};
size_t kw_notification_count(void);
const struct kw_notification_info *kw_notification_info(size_t i);
/* Whether id is one of them. */
bool kw_notification_known(const char *id);

#endif
