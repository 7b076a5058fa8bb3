// SPDX-License-Identifier: MIT
/*
 * escalation.h - escalation chains of a policy ("escalations", docs/policy.md).
 *
 * When a clock of `metric` reaches `percent` (100: the breach) or, with metric
 * -1, when the ticket has not been acknowledged `unacknowledged` seconds after
 * it was created, a chain runs its steps in order, each `after` seconds after
 * that: notify someone (assignee, team_lead, account_manager, oncall:N),
 * reassign the ticket (oncall:N, team:ID) or raise its level. A chain stops
 * once the ticket is acknowledged or its metric's clock has stopped. Chains
 * belong to the policy and are immutable; durations are seconds.
 */
#ifndef KW_ESCALATION_H
#define KW_ESCALATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KW_POLICY_MAX_CHAINS 16
#define KW_POLICY_MAX_STEPS 8

struct kw_policy;

enum kw_esc_action { KW_ESC_NOTIFY, KW_ESC_REASSIGN, KW_ESC_RAISE };

struct kw_escalation_step {
    int64_t after;
    enum kw_esc_action action;
    const char *target; /* as written, owned by the policy (NULL to raise the level) */
    int oncall;         /* N of oncall:N, or 0 */
    int64_t team;       /* ID of team:ID, or 0 */
};

struct kw_escalation {
    const char *id; /* owned by the policy */
    int metric;     /* index, or -1: the unacknowledged trigger */
    int percent;
    int64_t unacknowledged;
    size_t n_steps;
    struct kw_escalation_step step[KW_POLICY_MAX_STEPS];
};

/* The chains of p, in the order the policy lists them (borrowed). */
size_t kw_policy_chain_count(const struct kw_policy *p);
const struct kw_escalation *kw_policy_chain(const struct kw_policy *p, size_t i);

/* Whether t names someone to escalate to: assignee, team_lead,
 * account_manager, oncall:N (N 1-9) or team:ID (ID >= 1). Sets *oncall and
 * *team to N and ID, or 0. */
bool kw_escalation_target_parse(const char *t, int *oncall, int64_t *team);
/* Whether a chain may start when metric m reaches percent: at the breach
 * (100) or at one of the metric's warn_at percentages. */
bool kw_escalation_percent_ok(const struct kw_policy *p, size_t m, int percent);

#endif
