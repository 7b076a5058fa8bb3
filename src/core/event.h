// SPDX-License-Identifier: MIT
/*
 * event.h - the vocabulary of a ticket's log: every event type Keepword
 * writes, its body as a typed record, one decoder and one encoder.
 *
 * A stored event is (type, body) with the body a JSON object in canonical
 * form (chain.h). This file is the one place that knows which members each
 * type has: the application layer encodes through it, the clock fold, the
 * engine and the API decode through it, and the web UI gets the list from
 * the API's catalogue. Members that a type does not have are left zero /
 * NULL in the record; KW_NO_TIME for instants, 0 for ids ("none").
 *
 * Decoding is lenient about what older builds wrote (a state event without
 * "from", extra members) and strict about types: a member of the wrong JSON
 * type is KW_INVALID naming it. Encoding is exact: decode(encode(r)) == r
 * for every member the type has. Pure: no I/O, no clock, no globals.
 */
#ifndef KW_EVENT_H
#define KW_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kw_err.h"
#include "policy.h"
#include "sla.h"

/* name, stored type, clock event (KW_EV_COUNT: the clocks ignore it) */
#define KW_EVENT_MAP(X)                                                                            \
    X(CREATED, "created", KW_EV_CREATED)                                                           \
    X(COMMENT, "comment", KW_EV_COUNT)                                                             \
    X(STATE, "state", KW_EV_STATE)                                                                 \
    X(MILESTONE, "milestone", KW_EV_MILESTONE)                                                     \
    X(REOPENED, "reopened", KW_EV_REOPENED)                                                        \
    X(LEVEL, "level", KW_EV_LEVEL)                                                                 \
    X(CATEGORY, "category", KW_EV_CATEGORY)                                                        \
    X(ASSIGNED, "assigned", KW_EV_COUNT)                                                           \
    X(RATING, "rating", KW_EV_COUNT)                                                               \
    X(SLA_WARNING, "sla_warning", KW_EV_COUNT)                                                     \
    X(SLA_BREACH, "sla_breach", KW_EV_COUNT)                                                       \
    X(ESCALATED, "escalated", KW_EV_COUNT)                                                         \
    X(OVERRUN_EXPLAINED, "overrun_explained", KW_EV_COUNT)                                         \
    X(CONFIRM_REMINDER, "confirm_reminder", KW_EV_COUNT)                                           \
    X(CONFIRM_TIMEOUT, "confirm_timeout", KW_EV_COUNT)                                             \
    X(CALLBACK, "callback", KW_EV_COUNT)                                                           \
    X(TASK_OPENED, "task_opened", KW_EV_COUNT)                                                     \
    X(TASK_DONE, "task_done", KW_EV_COUNT)                                                         \
    X(ATTACHMENT, "attachment", KW_EV_COUNT)                                                       \
    X(TIME_SPENT, "time_spent", KW_EV_COUNT)                                                       \
    X(REGION, "region", KW_EV_ATTRS)                                                               \
    X(EDITED, "edited", KW_EV_COUNT)                                                               \
    X(REQUESTER, "requester", KW_EV_COUNT)                                                         \
    X(LINKED, "linked", KW_EV_COUNT)                                                               \
    X(UNLINKED, "unlinked", KW_EV_COUNT)                                                           \
    X(MERGED, "merged", KW_EV_COUNT)

enum kw_event_kind {
#define X(name, type, clock) KW_EVENT_##name,
    KW_EVENT_MAP(X)
#undef X
        KW_EVENT_KIND_COUNT
};

/* The stored type of kind ("created"), "?" out of range. */
const char *kw_event_kind_name(enum kw_event_kind k);
/* The kind stored as type; false for a type this build does not know. */
bool kw_event_kind_parse(const char *type, enum kw_event_kind *out);

/* One event's body, typed. Strings are borrowed (from the caller when
 * encoding, from the decoder's json_t when decoding). */
struct kw_event_rec {
    enum kw_event_kind kind;
    /* created: the ticket's attributes (level required) and title, org;
     * level / category: attrs.v[LEVEL] / attrs.v[CATEGORY] is the new value;
     * escalated: attrs.v[LEVEL] is the level raised to (or NULL) */
    struct kw_ticket_attrs attrs;
    const char *title;
    int64_t org_id;
    /* created: what the customer reported, when given with the ticket
     * (staff logging a call), and the customer it is for (0: none) */
    const char *description;
    int64_t requester_id;
    /* comment: its text; rating: the customer's comment (may be NULL) */
    const char *text;
    bool internal; /* comment: for the provider's eyes only */
    /* state, reopened: the new state; from: the state before (level,
     * category: the value before; may be NULL); reason: why (may be NULL) */
    const char *state, *from, *reason;
    const char *milestone;        /* milestone */
    int64_t assignee_id, team_id; /* assigned: 0 for none */
    int satisfaction, nps;        /* rating, callback: 1-5 (0 none), and 0-10 or -1 for none */
    /* rating: who gave it, "callback" (told to staff on a call-back) or
     * NULL (the customer's own, as older builds wrote it) */
    const char *source;
    /* callback: the attempt (from 1), whether the customer was reached, the
     * notes (note) and the follow-up asked for (may be NULL) */
    bool reached;
    int attempt;
    const char *follow_up;
    /* confirm_reminder, confirm_timeout: due_at is when it fell due, deadline
     * when the wait for the customer's confirmation ends.
     * task_opened: task (its number on the ticket, from 1), action (what
     * kind: "callback_followup"), user_id (who it is for, 0: nobody),
     * team_id, note (what to do); task_done: task, note (may be NULL) */
    int task;
    /* sla_warning, sla_breach: the clock's metric, threshold and instants
     * (the body's due_at, when it fell due, is reached_at / breached_at;
     * the event's own time is when the engine fired it); overrun_explained:
     * metric too */
    const char *metric, *colour;
    int percent;
    int64_t target; /* seconds of working time */
    int64_t reached_at, deadline, breached_at;
    /* escalated: chain id, step (from 0), action, who it names (a role like
     * "team_lead", or NULL), the person it resolved to (0: nobody), due */
    const char *chain, *action, *who;
    int step;
    int64_t user_id, due_at;
    /* overrun_explained: the overrun, its reason category, the note and
     * the notice told to the customer in both languages */
    int64_t overrun;
    const char *note, *notice_zh, *notice_en;
    /* attachment: its id, file name, sniffed type, size in bytes, SHA-256
     * (64 hex digits), the comment it belongs to (its seq, 0: none), and
     * `internal` above (a file of an internal note) */
    int64_t attachment, size, comment_seq;
    const char *name, *content_type, *sha256;
    /* time_spent: seconds of work (1 to 24 h; a correction 0 to 24 h),
     * team_id (the ticket's team when it was recorded, 0: none), note,
     * comment_seq (the reply it was recorded with, 0: none), and the seq of
     * the entry it corrects (0: a new entry; its seconds replace that
     * entry's, docs/kpi.md "Time spent") */
    int64_t seconds, corrects;
    /* region: attrs.v[REGION] is the new value, from the one before (may
     * be NULL), reason. edited: name is the field ("title" or
     * "description"), from the text before (may be NULL: none), text the
     * text after, reason. requester: requester_id the customer it is for
     * now, user_id the one before (0: none), reason. */
    /* comment, attachment moved by a merge: moved_from the duplicate it was
     * on (0: not moved), author_id who wrote it there, written_at when.
     * linked / unlinked: other the ticket at the other end, link
     * "duplicate_of", "duplicated_by" or "related" as seen from this
     * ticket, cross_org when the two are of different organisations (a
     * customer never sees such an event), reason. merged: other the
     * ticket, link "into" (on the duplicate, which closes) or "from" (on
     * the original), task the comments and attempt the files moved (on
     * the original), reason. */
    int64_t moved_from, author_id, written_at, other;
    const char *link;
    bool cross_org;
};

/* The body of type as a record. *hold gets the JSON the record's strings
 * point into (json_decref it when done; NULL on failure). KW_INVALID for
 * an unknown type, a body that is not a JSON object, or a member of the
 * wrong type (err names it). */
enum kw_code kw_event_decode(const char *type, const char *body, struct kw_event_rec *out,
                             json_t **hold, struct kw_err *err);

/* The body of r as a new JSON object (the caller owns it), with exactly
 * the members of r's kind. NULL with KW_INVALID when a required member is
 * missing, KW_NOMEM. */
json_t *kw_event_encode(const struct kw_event_rec *r, struct kw_err *err);

/* The event as the clocks see it (struct kw_event of sla.h, strings
 * borrowed from r); false when the clocks ignore this kind. */
bool kw_event_clock(const struct kw_event_rec *r, int64_t at, struct kw_event *out);

#endif
