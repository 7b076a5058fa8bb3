// SPDX-License-Identifier: MIT
/*
 * intake.h - monitoring alerts into tickets (docs/channels.md).
 *
 * A payload of one source (Alertmanager webhook version 4, Grafana's
 * webhook, or the generic events API modelled on PagerDuty Events v2) is
 * read into alerts: an action (trigger, acknowledge, resolve), a dedup key
 * (Alertmanager's and Grafana's fingerprint, the events API's dedup_key),
 * a summary, details and labels. Each alert is applied in the writer's unit
 * with the source's manager as the actor and channel "monitoring": a trigger
 * opens a ticket, or adds to the one its key opened while that is open; a
 * resolve records an internal note and (on_resolve "restored") the restored
 * milestone, after which a trigger opens a new ticket; an acknowledge is a
 * note. Organisation, team, category and level come from the source's
 * mapping rules (the first matching rule that sets a field), else from the
 * source's defaults.
 */
#ifndef KW_APP_INTAKE_H
#define KW_APP_INTAKE_H

#include <jansson.h>

#include "app.h"

#define KW_INTAKE_MAX_ALERTS 1000 /* alerts in one payload */
#define KW_INTAKE_MAX_RULES 64
#define KW_INTAKE_KEY_MAX 255 /* bytes of a dedup key */

enum kw_alert_action { KW_ALERT_TRIGGER, KW_ALERT_ACK, KW_ALERT_RESOLVE };

/* One alert; the strings live in doc (owned by the kw_alerts). */
struct kw_alert_in {
    enum kw_alert_action action;
    const char *key, *summary, *details; /* details may be NULL */
    json_t *labels;                      /* an object of strings, for the rules */
    bool key_made;                       /* the events API gave none: one was made */
};
struct kw_alerts {
    size_t n;
    struct kw_alert_in *a; /* caller frees with kw_alerts_release */
    json_t *keep;          /* what the strings point into */
};
void kw_alerts_release(struct kw_alerts *as);

/* Read body (a payload of kind "alertmanager", "grafana" or "events") into
 * out. KW_INVALID with the pointer of the member at fault. */
enum kw_code kw_intake_parse(const char *kind, json_t *body, struct kw_alerts *out,
                             struct kw_err *err);

/* Whether rules is a valid rule list: an array of at most
 * KW_INTAKE_MAX_RULES objects, each {"match": {label: value, ...} (1 to 16
 * non-empty strings: a label without a value is refused at "/rules/N/match"),
 * and one or more of "level", "category" (strings), "org_id", "team_id"
 * (ids)}. KW_INVALID naming "/rules/N/...". */
enum kw_code kw_intake_rules_check(json_t *rules, struct kw_err *err);

/* A source as the unit applies it: rules parsed (borrowed). */
struct kw_intake {
    int64_t id, org_id, team_id;
    const char *name, *category, *level;
    json_t *rules;
    bool restore; /* on_resolve "restored" */
};
/* What an alert did: "created", "updated", "acknowledged", "resolved" or
 * "ignored" (nothing open to acknowledge or resolve), and on which ticket
 * (0: none). */
struct kw_alert_out {
    const char *outcome;
    int64_t ticket, fire_at;
};
/* Apply alert a of source s by who (the source's manager). */
enum kw_code kw_intake_apply(struct kw_unit *u, const struct kw_actor *who,
                             const struct kw_intake *s, const struct kw_alert_in *a,
                             struct kw_alert_out *out, struct kw_err *err);

#endif
