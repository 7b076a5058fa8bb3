// SPDX-License-Identifier: MIT
#include "workflow.h"

#include <stdio.h>
#include <string.h>

#include "civil.h"

static const char *const names[KW_ST_COUNT] = {
    "registered", "analysing", "handling", "feedback", "archived", "waiting_customer",
};

/* allowed[from] is a bit set of the states `from` may move to. */
#define BIT(s) (1u << (s))
static const unsigned allowed[KW_ST_COUNT] = {
    [KW_ST_REGISTERED] = BIT(KW_ST_ANALYSING) | BIT(KW_ST_HANDLING) | BIT(KW_ST_WAITING_CUSTOMER),
    [KW_ST_ANALYSING] = BIT(KW_ST_HANDLING) | BIT(KW_ST_FEEDBACK) | BIT(KW_ST_WAITING_CUSTOMER),
    [KW_ST_HANDLING] = BIT(KW_ST_ANALYSING) | BIT(KW_ST_FEEDBACK) | BIT(KW_ST_WAITING_CUSTOMER),
    [KW_ST_FEEDBACK] = BIT(KW_ST_ARCHIVED) | BIT(KW_ST_HANDLING),
    [KW_ST_ARCHIVED] = 0, /* only a reopening leaves the archive */
    [KW_ST_WAITING_CUSTOMER] = BIT(KW_ST_ANALYSING) | BIT(KW_ST_HANDLING) | BIT(KW_ST_FEEDBACK),
};

const char *kw_state_name(enum kw_state s)
{
    return (unsigned)s < KW_ST_COUNT ? names[s] : "?";
}

unsigned kw_workflow_moves(enum kw_state from)
{
    return (unsigned)from < KW_ST_COUNT ? allowed[from] : 0;
}

bool kw_state_parse(const char *s, size_t len, enum kw_state *out)
{
    for (int i = 0; i < KW_ST_COUNT; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            *out = (enum kw_state)i;
            return true;
        }
    }
    return false;
}

enum kw_code kw_workflow_move(enum kw_state from, enum kw_state to, struct kw_transition *out,
                              struct kw_err *err)
{
    memset(out, 0, sizeof(*out));
    if ((unsigned)from >= KW_ST_COUNT || (unsigned)to >= KW_ST_COUNT)
        return kw_err_set(err, KW_INVALID, "/state", "unknown state");
    if (!(allowed[from] & BIT(to))) {
        char list[160] = "";
        size_t n = 0;
        for (int s = 0; s < KW_ST_COUNT; s++) {
            if (!(allowed[from] & BIT(s)))
                continue;
            int k = snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", names[s]);
            n += k > 0 && (size_t)k < sizeof(list) - n ? (size_t)k : 0;
        }
        if (from == to)
            return kw_err_set(err, KW_CONFLICT, "/state", "the ticket is already %s", names[from]);
        return kw_err_set(err, KW_CONFLICT, "/state", "cannot go from %s to %s (%s%s)", names[from],
                          names[to], n ? "allowed: " : "reopen it first", list);
    }
    if (to == KW_ST_FEEDBACK) {
        out->milestones[out->n++] = "resolved"; /* a resolution is proposed */
    } else if (from == KW_ST_FEEDBACK && to == KW_ST_ARCHIVED) {
        out->milestones[out->n++] = "customer_confirmed"; /* 双签: both sides signed */
        out->milestones[out->n++] = "closed";
    } else if (from == KW_ST_FEEDBACK && to == KW_ST_HANDLING) {
        out->reopens = true; /* the customer rejected the resolution */
    }
    return KW_OK;
}

enum kw_code kw_workflow_reopen(enum kw_state from, int64_t since, int64_t now, int64_t window,
                                struct kw_err *err)
{
    if (from != KW_ST_FEEDBACK && from != KW_ST_ARCHIVED)
        return kw_err_set(err, KW_CONFLICT, "/state",
                          "only a ticket in feedback or archived can be reopened (it is %s)",
                          kw_state_name(from));
    if (window >= 0 && now - since > window) {
        char when[KW_INSTANT_BUF], dur[32];
        kw_instant_format_utc(since, when);
        kw_duration_format(window, dur);
        return kw_err_set(err, KW_CONFLICT, "/state",
                          "the reopen window of %s after %s has passed; open a new ticket", dur,
                          when);
    }
    return KW_OK;
}
