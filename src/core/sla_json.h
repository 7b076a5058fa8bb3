// SPDX-License-Identifier: MIT
/*
 * sla_json.h - the JSON forms of ticket events and SLA clocks (docs/policy.md).
 *
 * Event: {"at": "2026-03-02T09:00:00+08:00", "type": "created", "level": "L1",
 *         "tier": "vip", ...} | {"type": "milestone", "milestone": "first_response"}
 *       | {"type": "state", "state": "waiting_customer"} | {"type": "level", "level": "L2"}
 *       | {"type": "category", "category": ...} | {"type": "attrs", ...} | {"type": "reopened"}
 * Clocks are encoded with instants as UTC "Z" strings and durations in seconds.
 */
#ifndef KW_SLA_JSON_H
#define KW_SLA_JSON_H

#include <jansson.h>

#include "sla.h"

/* Decode one event object. Strings are borrowed from obj, which must outlive
 * ev. *ticket (may be NULL) gets the optional "ticket" id. Unknown fields are
 * refused; "actor", "note" and "id" are accepted and ignored. */
enum kw_code kw_event_from_json(json_t *obj, struct kw_event *ev, const char **ticket,
                                struct kw_err *err);

/* Encode the clocks as an array of objects; NULL when out of memory. */
json_t *kw_sla_to_json(const struct kw_policy *p, const struct kw_sla *s);

#endif
