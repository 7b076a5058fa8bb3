// SPDX-License-Identifier: MIT
/*
 * policy_diff.h - what a new version of a commitment changes, for a person
 * about to publish it: levels, metrics and vocabulary values added or
 * removed, and rule by rule which targets changed for whom. Rules are
 * matched by id, and rules without one by their conditions; targets are
 * compared as working seconds and calendar names, so "1h" and "60m" are the
 * same target. Pure; allocates nothing: each change is handed to a
 * callback, with indexes into the two policies for the caller to describe.
 */
#ifndef KW_POLICY_DIFF_H
#define KW_POLICY_DIFF_H

#include <stdbool.h>

#include "policy.h"

enum kw_policy_change_kind {
    KW_PCH_LEVEL_ADDED,     /* new_i: the level in the new version */
    KW_PCH_LEVEL_REMOVED,   /* old_i */
    KW_PCH_LEVEL_RELABELED, /* old_i, new_i: its zh or en label changed */
    KW_PCH_METRIC_ADDED,    /* new_i */
    KW_PCH_METRIC_REMOVED,  /* old_i */
    KW_PCH_METRIC_CHANGED,  /* old_i, new_i, field: "label", "start", "stop", "pause_when",
                               "warn_at" or "staff_only" */
    KW_PCH_VALUE_ADDED,     /* attr, value: a value added to a vocabulary */
    KW_PCH_VALUE_REMOVED,   /* attr, value */
    KW_PCH_RULE_ADDED,      /* new_i: a target rule */
    KW_PCH_RULE_REMOVED,    /* old_i */
    KW_PCH_RULE_WHEN,       /* old_i, new_i: the same rule (by id) with other conditions */
    KW_PCH_RULE_MOVED,      /* old_i, new_i: it now comes before or after other rules */
    KW_PCH_TARGET_ADDED,    /* old_i, new_i (rules), new_m: the rule now sets metric new_m */
    KW_PCH_TARGET_REMOVED,  /* old_i, new_i, old_m: it no longer sets old_m */
    KW_PCH_TARGET_CHANGED,  /* old_i, new_i, old_m, new_m: another target or calendar */
};

/* One change. Indexes are -1 where they do not apply; strings are borrowed
 * from the policies (or static) for the duration of the callback. */
struct kw_policy_change {
    enum kw_policy_change_kind kind;
    int old_i, new_i; /* level, metric or rule index in the old / new policy */
    int old_m, new_m; /* the metric of a TARGET_* change */
    enum kw_attr attr;
    const char *value; /* VALUE_*: the value */
    const char *field; /* METRIC_CHANGED: the member that changed */
};

/* Called once per change, in this order: levels, metrics, vocabularies,
 * then the rules in the new version's order (removed rules last). Return
 * false to stop. */
typedef bool (*kw_policy_change_fn)(const struct kw_policy_change *c, void *ctx);

/* Compare from (the version in force) with to (the draft); returns the
 * number of changes reported (0: the same levels, metrics, vocabularies and
 * targets). */
int kw_policy_diff(const struct kw_policy *from, const struct kw_policy *to, kw_policy_change_fn fn,
                   void *ctx);

/* Whether rules r of a and s of b test the same conditions (the same
 * values of each attribute, in any order). */
bool kw_policy_rule_same_when(const struct kw_policy *a, size_t r, const struct kw_policy *b,
                              size_t s);

#endif
