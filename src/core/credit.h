// SPDX-License-Identifier: MIT
/*
 * credit.h - what a late clock owes under the commitment's compensation
 * rules (docs/policy.md "Compensation"): a credit (a share of the contract's
 * value per started hour late, or a fixed amount) within its caps, or a
 * remedy item, unless the overrun's reason is excluded.
 *
 * Amounts are integers in the contract's minor units (fen, cents); a share
 * is rounded half up once, when the accrual is computed. Pure: no I/O, no
 * clock, no globals.
 */
#ifndef KW_CREDIT_H
#define KW_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/* Why a clock ran late, as staff record it on the overrun (超时原因): the
 * vocabulary of exclude_reasons too. */
#define KW_OVERRUN_REASONS 6
struct kw_overrun_reason {
    const char *id, *zh, *en;
};
extern const struct kw_overrun_reason kw_overrun_reasons[KW_OVERRUN_REASONS];
/* The reason called id, or NULL. */
const struct kw_overrun_reason *kw_overrun_reason_find(const char *id);

/* One late clock run, and what was already accrued against the caps. */
struct kw_credit_in {
    int metric;                             /* the metric's index in the policy */
    const struct kw_ticket_attrs *attrs;    /* the ticket's, for the rules' conditions */
    int64_t overrun_wall;                   /* seconds past the deadline, wall clock */
    int64_t overrun_working;                /* the same on the clock's calendar */
    const char *reason;                     /* the overrun's reason, or NULL */
    int64_t contract_value;                 /* minor units, per billing period */
    int64_t ticket_accrued, period_accrued; /* credits already owed: this ticket, this period */
};

enum kw_credit_status {
    KW_CREDIT_NO_RULE,  /* no compensation rule for this metric and ticket */
    KW_CREDIT_NOT_LATE, /* the run was not late */
    KW_CREDIT_EXCLUDED, /* the reason is one the commitment excludes */
    KW_CREDIT_OWED,     /* a credit, the whole of it */
    KW_CREDIT_CAPPED,   /* a credit, cut by a cap (possibly to 0) */
    KW_CREDIT_REMEDY,   /* a remedy item is owed */
};

struct kw_credit_out {
    enum kw_credit_status status;
    int rule;                           /* the compensation rule that applied, or -1 */
    int64_t hours;                      /* started hours late, on the rule's basis */
    int64_t raw;                        /* the credit before caps */
    int64_t amount;                     /* the credit owed */
    const struct kw_label *item, *unit; /* a remedy */
    int64_t quantity;
};

void kw_credit_compute(const struct kw_policy *p, const struct kw_credit_in *in,
                       struct kw_credit_out *out);

/* For the letter and the API: the commitment's compensation. */
size_t kw_policy_comp_count(const struct kw_policy *p);
/* Rule r: its metric index, and a one-line description in lang ("zh" or
 * "en") written into buf (cap bytes): "0.5% of the contract value per
 * started working hour late, at most 10% per ticket". */
int kw_policy_comp_metric(const struct kw_policy *p, size_t r);
void kw_policy_comp_describe(const struct kw_policy *p, size_t r, const char *lang, char *buf,
                             size_t cap);
/* The rule's conditions (as kw_policy_rule_values for targets). */
size_t kw_policy_comp_values(const struct kw_policy *p, size_t r, enum kw_attr a,
                             const char *const **values);
/* The period cap and the excluded reasons, described in lang (buf empty
 * when there are none). */
void kw_policy_comp_terms(const struct kw_policy *p, const char *lang, char *buf, size_t cap);

#endif
