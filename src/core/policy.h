// SPDX-License-Identifier: MIT
/*
 * policy.h - the commitment (服务响应时限承诺书) as a machine-readable policy.
 *
 * A policy names its calendars, levels, metrics (clocks: when each starts,
 * what stops it, which ticket states pause it, at which percentages it
 * warns) and an ordered list of target rules. For each metric the first rule
 * whose conditions all hold and that names the metric sets the target and
 * calendar; a metric no rule names does not apply to that ticket. The JSON
 * form is in docs/policy.md; policy_json.h decodes it. Pure: the caller
 * compiles the calendars (kw_policy_calendar_spec) and passes them to the
 * clock functions by index. A policy owns every string it hands out: they
 * live as long as the policy, whatever became of the document it came from.
 */
#ifndef KW_POLICY_H
#define KW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "escalation.h"
#include "kw_err.h"

#define KW_POLICY_MAX_METRICS 16
#define KW_POLICY_MAX_WARN 8
#define KW_POLICY_MAX_RULES 1024
#define KW_POLICY_MAX_CALENDARS 32
#define KW_POLICY_MAX_NODES 12 /* service nodes a customer follows */
#define KW_POLICY_ID_MAX 48    /* bytes of an id, with the NUL */

/* Ticket attributes that rules test. */
enum kw_attr {
    KW_ATTR_LEVEL,
    KW_ATTR_TIER,
    KW_ATTR_CATEGORY,
    KW_ATTR_REGION,
    KW_ATTR_CHANNEL,
    KW_ATTR_ORGANISATION,
    KW_ATTR_COUNT
};

/* What a level (or other attribute) change does to clocks that have not
 * stopped, and what reopening does to a clock a revoked milestone stopped. */
enum kw_on_change { KW_CHANGE_RECOMPUTE, KW_CHANGE_KEEP };
enum kw_on_reopen { KW_REOPEN_RESUME, KW_REOPEN_RESTART };

struct kw_policy; /* opaque, immutable once parsed */

/* The attributes of a ticket; NULL (or "") for unknown. Borrowed strings. */
struct kw_ticket_attrs {
    const char *v[KW_ATTR_COUNT];
};

/* The target a ticket gets for one metric. */
struct kw_target {
    bool applies;
    int rule;       /* index of the rule that set it, or -1 */
    int64_t target; /* working seconds */
    int calendar;   /* index into the policy's calendars */
};

/* A text in both languages; either may be NULL. A label written as one
 * string has the same text in both. Owned by the policy. */
struct kw_label {
    const char *zh, *en;
};
/* The text in lang ("zh": zh, else en; "en": en, else zh; any other lang or
 * NULL: zh), or fallback when there is none. */
const char *kw_label_pick(const struct kw_label *l, const char *lang, const char *fallback);

/* Decode and validate a policy from JSON text of len bytes (duplicate keys
 * rejected; policy_json.c). Errors are located ("/targets/2/when/level/0",
 * "targets[2].when.level[0]: unknown level \"L9\""). Free with
 * kw_policy_free(). kw_policy_from_json (policy_json.h) takes a parsed document. */
struct kw_policy *kw_policy_parse(const char *text, size_t len, struct kw_err *err);
/* Accepts NULL. */
void kw_policy_free(struct kw_policy *p);

const char *kw_policy_name(const struct kw_policy *p);
const char *kw_policy_version(const struct kw_policy *p);
int64_t kw_policy_effective_from(const struct kw_policy *p);
enum kw_on_change kw_policy_on_level_change(const struct kw_policy *p);
enum kw_on_reopen kw_policy_on_reopen(const struct kw_policy *p);
/* effective_from as the policy wrote it, with its offset
 * ("2026-01-01T00:00:00+08:00"). */
const char *kw_policy_effective_from_text(const struct kw_policy *p);

/* Texts of the optional "letter" object: {"zh": {"provider": ..., "scope":
 * ..., "contact": ...}, "en": {...}}. Other members are ignored. */
enum kw_letter_text { KW_LETTER_PROVIDER, KW_LETTER_SCOPE, KW_LETTER_CONTACT, KW_LETTER_COUNT };
/* Text t in lang ("zh" or "en"), falling back to the other language; NULL
 * when neither has it. */
const char *kw_policy_letter_text(const struct kw_policy *p, enum kw_letter_text t,
                                  const char *lang);

/* Calendars: count, name and spec of calendar i (borrowed). A calendar may
 * be embedded (a calendar object) or name a stored calendar (a string,
 * kw_policy_calendar_ref); the spec of a stored one is NULL until the
 * caller, who can read the store, binds its latest version. */
size_t kw_policy_calendar_count(const struct kw_policy *p);
const char *kw_policy_calendar_name(const struct kw_policy *p, size_t i);
const struct kw_cal_spec *kw_policy_calendar_spec(const struct kw_policy *p, size_t i);
/* The stored calendar calendar i names, or NULL when it is embedded. */
const char *kw_policy_calendar_ref(const struct kw_policy *p, size_t i);
/* Give calendar i (a stored one) the spec of its latest version, copied, for
 * the letter and the commands that print calendars. Call before the policy
 * is shared between threads. KW_NOMEM. */
enum kw_code kw_policy_calendar_bind(struct kw_policy *p, size_t i, const struct kw_cal_spec *spec,
                                     struct kw_err *err);

/* What a metric measures for MTTA and MTTR ("kpi" on a metric). */
enum kw_metric_kpi { KW_MKPI_NONE, KW_MKPI_RESPONSE, KW_MKPI_RESOLUTION };

/* Levels, metrics and rules by index. */
size_t kw_policy_level_count(const struct kw_policy *p);
const char *kw_policy_level_id(const struct kw_policy *p, size_t i);
/* Label in lang ("zh", "en"), falling back to the other language, then the id. */
const char *kw_policy_level_label(const struct kw_policy *p, size_t i, const char *lang);
size_t kw_policy_metric_count(const struct kw_policy *p);
const char *kw_policy_metric_id(const struct kw_policy *p, size_t m);
const char *kw_policy_metric_label(const struct kw_policy *p, size_t m, const char *lang);
/* The event that starts metric m ("created" or a milestone) and its stops. */
const char *kw_policy_metric_start(const struct kw_policy *p, size_t m);
size_t kw_policy_metric_stops(const struct kw_policy *p, size_t m, const char *const **stops);
size_t kw_policy_metric_pauses(const struct kw_policy *p, size_t m, const char *const **states);
/* Warning percentages of metric m, ascending (1-99; 100 is the breach). */
size_t kw_policy_metric_warn(const struct kw_policy *p, size_t m, const uint8_t **pct);
size_t kw_policy_rule_count(const struct kw_policy *p);
/* The rule's "id" if it has one, else NULL. */
const char *kw_policy_rule_id(const struct kw_policy *p, size_t r);
/* The description of the policy in lang, or NULL. */
const char *kw_policy_description(const struct kw_policy *p, const char *lang);
/* Label of value `id` of attribute a in lang (the id when it has none). */
const char *kw_policy_attr_label(const struct kw_policy *p, enum kw_attr a, const char *id,
                                 const char *lang);
/* Declared values of attribute a (0 when the policy declares none). */
size_t kw_policy_attr_count(const struct kw_policy *p, enum kw_attr a);
const char *kw_policy_attr_id(const struct kw_policy *p, enum kw_attr a, size_t i);
/* Values rule r tests for attribute a (n = 0: any value). */
size_t kw_policy_rule_values(const struct kw_policy *p, size_t r, enum kw_attr a,
                             const char *const **values);
/* Whether rule r names metric m, and then its target and calendar. */
bool kw_policy_rule_target(const struct kw_policy *p, size_t r, size_t m, int64_t *target,
                           int *calendar);

/* Index of metric `id`, level `id`, or -1. */
int kw_policy_metric_index(const struct kw_policy *p, const char *id);
int kw_policy_level_index(const struct kw_policy *p, const char *id);
/* Whether `name` is a milestone (built-in or declared) / a ticket state. */
bool kw_policy_is_milestone(const struct kw_policy *p, const char *name);
bool kw_policy_is_state(const struct kw_policy *p, const char *name);
/* How long after feedback or archiving a ticket may be reopened (seconds;
 * "reopen_window", default 7 days). */
int64_t kw_policy_reopen_window(const struct kw_policy *p);

/* How long a proposed resolution waits for the customer ("confirm_within";
 * docs/policy.md): either working_days (> 0) or work (working seconds) on
 * calendar (an index), a reminder at remind_pct % of that wait (0: none);
 * on false, no wait ends. And how many times staff may try to reach a
 * customer for the call-back ("callback_attempts", 1-20, default 3). */
struct kw_confirm_terms {
    bool on;
    int working_days;
    int64_t work;
    int calendar;
    int remind_pct;
    int callback_attempts;
};
const struct kw_confirm_terms *kw_policy_confirm(const struct kw_policy *p);

/* The service nodes the customer follows ("service_nodes", at most 12; a
 * built-in list of seven when the commitment has none): id, label in lang,
 * and what reaches the node: "created", a milestone or a state. */
size_t kw_policy_node_count(const struct kw_policy *p);
const char *kw_policy_node_id(const struct kw_policy *p, size_t i);
const char *kw_policy_node_label(const struct kw_policy *p, size_t i, const char *lang);
const char *kw_policy_node_at(const struct kw_policy *p, size_t i);

/* Escalation chains: escalation.h. */

/* Whether reopening a ticket revokes milestone `name` (resolved, closed, ...). */
bool kw_policy_reopen_revokes(const struct kw_policy *p, const char *name);
/* What a public reply by staff implies ("public_reply_implies"): the
 * milestones the first such reply records, once each; default
 * first_response, none when the commitment lists none. p may be NULL (a
 * ticket without a commitment: the default). Strings owned by the policy. */
size_t kw_policy_reply_implies(const struct kw_policy *p, const char *const **out);
/* Whether a customer's reply to a ticket waiting for them moves it back to
 * the state it was in before waiting ("customer_reply_resumes", default
 * true; p may be NULL). */
bool kw_policy_customer_reply_resumes(const struct kw_policy *p);
/* Whether metric m's clock is for staff only ("staff_only"; default: true
 * for a clock that starts at closed, the call-back): a customer sees
 * neither the clock nor its events. */
bool kw_policy_metric_staff_only(const struct kw_policy *p, size_t m);
/* The figure metric m stands for in the KPIs and the service report
 * (docs/kpi.md "MTTA / MTTR"): its "kpi" marker; when no metric of the
 * policy carries that marker, the metric whose id is "response" or
 * "resolution" stands for it (commitments written before the marker). */
enum kw_metric_kpi kw_policy_metric_kpi(const struct kw_policy *p, size_t m);
/* Whether value is allowed for attribute a (any value when the policy
 * declares no list of tiers, regions, ...). */
bool kw_policy_attr_known(const struct kw_policy *p, enum kw_attr a, const char *value);

/* Resolve metric m for a ticket: the first rule whose conditions hold and
 * that names m. No allocation. */
struct kw_target kw_policy_resolve(const struct kw_policy *p, size_t m,
                                   const struct kw_ticket_attrs *t);
/* Why rule r does not set metric m for t: writes a one-line reason into buf
 * ("level L3 is not one of L1, L2") and returns false; true when it does. */
bool kw_policy_rule_explain(const struct kw_policy *p, size_t r, size_t m,
                            const struct kw_ticket_attrs *t, char *buf, size_t cap);

/* Of n policy versions, the one in force at instant t (latest effective_from
 * <= t); -1 when none is. */
int kw_policy_pick(const struct kw_policy *const *versions, size_t n, int64_t t);

/* Whether name is one of the milestones every policy knows. */
bool kw_builtin_milestone(const char *name);

/* Attribute names as in JSON ("level", "tier", ...). */
const char *kw_attr_name(enum kw_attr a);

#endif
