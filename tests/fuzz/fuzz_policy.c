// SPDX-License-Identifier: MIT
/* libFuzzer: any text either is refused with a reason (the same verdict when
 * the caller passes no kw_err), or decodes into a policy whose every query
 * holds together: resolution picks a rule that explains itself as matching,
 * with a calendar that exists, and the letter renders in both languages and
 * formats. The policy has no encoder, so there is no round trip to check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "letter.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A ticket that meets rule r's conditions, with the first non-empty value of
 * each; false when a condition has none (an empty value matches nothing). */
static bool ticket_for(const struct kw_policy *p, size_t r, struct kw_ticket_attrs *t)
{
    *t = (struct kw_ticket_attrs){0};
    for (int a = 0; a < KW_ATTR_COUNT; a++) {
        const char *const *v;
        size_t n = kw_policy_rule_values(p, r, (enum kw_attr)a, &v);
        for (size_t i = 0; i < n && !t->v[a]; i++)
            t->v[a] = v[i][0] ? v[i] : NULL;
        if (n && !t->v[a])
            return false;
    }
    return true;
}

static void check_resolution(const struct kw_policy *p)
{
    char why[256];
    for (size_t r = 0; r < kw_policy_rule_count(p); r++) {
        struct kw_ticket_attrs t;
        if (!ticket_for(p, r, &t))
            continue;
        for (size_t m = 0; m < kw_policy_metric_count(p); m++) {
            struct kw_target got = kw_policy_resolve(p, m, &t);
            int64_t target;
            int cal;
            bool names = kw_policy_rule_target(p, r, m, &target, &cal);
            if (names && (!got.applies || got.rule < 0 || (size_t)got.rule > r))
                abort(); /* rule r matches t, so it or an earlier rule sets m */
            if (!got.applies)
                continue;
            if (got.calendar < 0 || (size_t)got.calendar >= kw_policy_calendar_count(p) ||
                got.target < 0)
                abort();
            if (!kw_policy_rule_explain(p, (size_t)got.rule, m, &t, why, sizeof(why)))
                abort(); /* the chosen rule says it matches */
        }
    }
}

static void check_queries(const struct kw_policy *p)
{
    for (size_t i = 0; i < kw_policy_level_count(p); i++)
        if (!kw_policy_level_label(p, i, "zh") || !kw_policy_level_label(p, i, "en"))
            abort(); /* a level without a label reads as its id */
    for (size_t i = 0; i < kw_policy_node_count(p); i++)
        if (!kw_policy_node_label(p, i, "en") || !kw_policy_node_at(p, i))
            abort();
    for (size_t i = 0; i < kw_policy_chain_count(p); i++) {
        const struct kw_escalation *e = kw_policy_chain(p, i);
        if (e->metric >= (int)kw_policy_metric_count(p) || e->n_steps == 0 ||
            e->n_steps > KW_POLICY_MAX_STEPS)
            abort();
    }
    if (!kw_policy_effective_from_text(p))
        abort();
}

static void check_letter(const struct kw_policy *p)
{
    for (int i = 0; i < 4; i++) {
        struct kw_buf b = {0};
        kw_letter_render(p, i & 1 ? "en" : "zh", i & 2, &b);
        if (b.failed || b.len == 0)
            abort();
        kw_buf_release(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kw_err err = {0};
    struct kw_policy *p = kw_policy_parse((const char *)data, size, &err);
    struct kw_policy *q = kw_policy_parse((const char *)data, size, NULL);
    if (!p != !q)
        abort(); /* the verdict does not depend on wanting the reason */
    kw_policy_free(q);
    if (!p) {
        if (err.code == KW_OK || !err.msg[0])
            abort(); /* every refusal says why */
        if (err.field[0] && err.field[0] != '/')
            abort(); /* and where, as a JSON pointer */
        return 0;
    }
    check_resolution(p);
    check_queries(p);
    check_letter(p);
    kw_policy_free(p);
    return 0;
}
