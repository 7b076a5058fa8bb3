// SPDX-License-Identifier: MIT
/*
 * workflow.h - the ticket's closed loop 登记 → 分析 → 处理 → 反馈 → 归档.
 *
 * States: registered → analysing → handling → feedback (a resolution is
 * proposed and awaits the customer's confirmation, 双签确认) → archived, plus
 * waiting_customer (which pauses the clocks that pause on it). A customer who
 * rejects the proposed resolution sends the ticket from feedback back to
 * handling; feedback and archived tickets can be reopened within a window.
 * Transitions imply milestones for the SLA clocks. Pure: no I/O, no clock.
 */
#ifndef KW_WORKFLOW_H
#define KW_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

enum kw_state {
    KW_ST_REGISTERED,
    KW_ST_ANALYSING,
    KW_ST_HANDLING,
    KW_ST_FEEDBACK,
    KW_ST_ARCHIVED,
    KW_ST_WAITING_CUSTOMER,
    KW_ST_COUNT
};

/* What a transition means for the clocks: the milestones it reaches, in
 * order, and whether it takes back revoked milestones like a reopening does
 * (a rejected resolution). Strings are static. */
struct kw_transition {
    size_t n;
    const char *milestones[2];
    bool reopens;
};

const char *kw_state_name(enum kw_state s);
/* The states `from` may move to, as a bit set (bit s for state s). */
unsigned kw_workflow_moves(enum kw_state from);
/* The state named s (len bytes); false for an unknown name. */
bool kw_state_parse(const char *s, size_t len, enum kw_state *out);

/* Check the move from -> to and describe it. KW_CONFLICT naming both states
 * and what is allowed from `from` ("cannot go from registered to archived
 * (allowed: analysing, handling, waiting_customer)"). */
enum kw_code kw_workflow_move(enum kw_state from, enum kw_state to, struct kw_transition *out,
                              struct kw_err *err);

/* May a ticket in state `from`, there since `since`, be reopened at `now`
 * with a window of `window` seconds? KW_CONFLICT with the reason otherwise. */
enum kw_code kw_workflow_reopen(enum kw_state from, int64_t since, int64_t now, int64_t window,
                                struct kw_err *err);

#endif
