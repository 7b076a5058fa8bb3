// SPDX-License-Identifier: MIT
/*
 * policy_internal.h - the layout of a policy, shared by the files that build
 * and read it (policy.c, policy_json.c, escalation.c). Callers outside
 * src/core use policy.h.
 *
 * Every string a policy holds lives in its string pool, copied while the
 * document is decoded and freed with the policy. Arrays of names are
 * malloc'd; their strings are in the pool.
 */
#ifndef KW_POLICY_INTERNAL_H
#define KW_POLICY_INTERNAL_H

#include "policy.h"

#define KW_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct kw_names {
    size_t n;
    const char **v;
};

/* A declared level, tier, region, ... */
struct kw_vocab_item {
    const char *id;
    struct kw_label label; /* both NULL: the id */
};

struct kw_metric_def {
    const char *id, *start;
    struct kw_label label;
    struct kw_names stop, pause;
    size_t n_warn;
    uint8_t warn[KW_POLICY_MAX_WARN]; /* ascending */
    bool staff_only;                  /* hidden from customers */
    enum kw_metric_kpi kpi;           /* the "kpi" marker; NONE when absent */
};

struct kw_rule {
    const char *id; /* NULL when the rule has none */
    struct kw_names when[KW_ATTR_COUNT];
    bool names[KW_POLICY_MAX_METRICS];
    int64_t target[KW_POLICY_MAX_METRICS];
    int cal[KW_POLICY_MAX_METRICS];
};

/* A service node the customer sees: reached when `at` happens (created, a
 * milestone or a state). */
struct kw_node {
    const char *id, *at;
    struct kw_label label; /* both NULL: the id */
};

/* Compensation (docs/policy.md "Compensation"): a cap is a share of the
 * contract's value (ppm: millionths) or an amount (minor units). */
struct kw_cap {
    bool set, share;
    int64_t v;
};
enum kw_comp_kind { KW_COMP_PERCENT, KW_COMP_AMOUNT, KW_COMP_REMEDY };
struct kw_comp_rule {
    struct kw_names when[KW_ATTR_COUNT];
    int metric;
    enum kw_comp_kind kind;
    int64_t ppm_per_hour; /* PERCENT: of the contract's value per started hour late */
    bool working;         /* hours on the clock's calendar (else wall hours) */
    int64_t amount;       /* AMOUNT: minor units */
    struct kw_cap cap_ticket;
    struct kw_label item, unit; /* REMEDY */
    int64_t quantity;
};
struct kw_compensation {
    size_t n;
    struct kw_comp_rule *rules;
    struct kw_cap cap_period;
    struct kw_names exclude; /* overrun reasons that owe nothing */
};

struct kw_pool_block;

struct kw_policy {
    struct kw_pool_block *pool; /* holds every string */
    bool pool_failed;           /* a copy ran out of memory */
    size_t n_chains;
    struct kw_escalation chain[KW_POLICY_MAX_CHAINS];
    int64_t reopen_window;
    struct kw_confirm_terms confirm; /* confirm_within, callback_attempts */
    size_t n_nodes;
    struct kw_node nodes[KW_POLICY_MAX_NODES];
    const char *name, *version, *effective_from_text;
    int64_t effective_from;
    struct kw_label description;
    struct kw_label letter[KW_LETTER_COUNT];
    enum kw_on_change on_change;
    enum kw_on_reopen on_reopen;
    size_t n_cal;
    const char *cal_name[KW_POLICY_MAX_CALENDARS];
    struct kw_cal_spec cal[KW_POLICY_MAX_CALENDARS];
    const char *cal_ref[KW_POLICY_MAX_CALENDARS]; /* a stored calendar's name, or NULL */
    bool cal_bound[KW_POLICY_MAX_CALENDARS];      /* cal holds the ref's spec */
    size_t n_vocab[KW_ATTR_COUNT];                /* 0: any value (levels always have some) */
    struct kw_vocab_item *vocab[KW_ATTR_COUNT];
    struct kw_names milestones, states, revoked; /* declared extras; revoked replaces the default */
    bool has_revoked;
    struct kw_names implied; /* public_reply_implies, when has_implied */
    bool has_implied;
    bool reply_stays; /* customer_reply_resumes: false */
    size_t n_metrics;
    struct kw_metric_def metric[KW_POLICY_MAX_METRICS];
    size_t n_rules, rules_cap;
    struct kw_rule *rules;
    struct kw_compensation comp;
};

/* Copy len bytes of s into p's pool, NUL-terminated. When memory runs out
 * returns "" and sets p->pool_failed (the decoder reports KW_NOMEM). */
const char *kw_policy_keep(struct kw_policy *p, const char *s, size_t len);

/* Whether v (may be NULL: false) is one of the names. */
bool kw_names_has(const struct kw_names *s, const char *v);
bool kw_list_has(const char *const *list, size_t n, const char *v);

#endif
