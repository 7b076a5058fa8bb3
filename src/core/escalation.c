// SPDX-License-Identifier: MIT
/*
 * escalation.c - escalation chains: what a step may target, when a chain may
 * start, and the accessors. policy_json.c decodes "escalations" with these.
 */
#include "escalation.h"

#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

bool kw_escalation_target_parse(const char *t, int *oncall, int64_t *team)
{
    char *end = NULL;
    *oncall = 0;
    *team = 0;
    if (strcmp(t, "assignee") == 0 || strcmp(t, "team_lead") == 0 ||
        strcmp(t, "account_manager") == 0)
        return true;
    if (strncmp(t, "oncall:", 7) == 0) {
        long n = strtol(t + 7, &end, 10);
        *oncall = (int)n;
        return end != t + 7 && !*end && n >= 1 && n <= 9;
    }
    if (strncmp(t, "team:", 5) == 0) {
        long long n = strtoll(t + 5, &end, 10);
        *team = n;
        return end != t + 5 && !*end && n >= 1;
    }
    return false;
}

bool kw_escalation_percent_ok(const struct kw_policy *p, size_t m, int percent)
{
    if (percent == 100)
        return true;
    for (size_t k = 0; k < p->metric[m].n_warn; k++)
        if (p->metric[m].warn[k] == percent)
            return true;
    return false;
}

size_t kw_policy_chain_count(const struct kw_policy *p)
{
    return p->n_chains;
}

const struct kw_escalation *kw_policy_chain(const struct kw_policy *p, size_t i)
{
    return &p->chain[i];
}
