// SPDX-License-Identifier: MIT
/*
 * tickets.h - every change to a ticket, once (see app.h for the shape).
 *
 * Each action runs inside a unit on the writer (store/writer.h): it reads
 * what it validates (the ticket's state, its commitment) in the writer's
 * transaction, so two racing moves cannot both pass; appends the events;
 * refreshes the clock projection; and sets u->fire_at. Who may do what:
 *
 *   action       customer (own organisation only)          staff   system
 *   create       yes, for their organisation, its terms    yes     -
 *   comment      public comments only                      yes     -
 *   move         feedback -> archived (confirm) or
 *                feedback -> handling (reject)             yes     -
 *   milestone    no                                        yes     -
 *   reopen       yes (feedback/archived, within window)    yes     -
 *   rate         yes, once per proposed resolution         no      -
 *   change       title and description of a request still  yes     level,
 *                being worked on (not feedback/archived)           owner
 *   overrun      no (reason, note, follow-up)              yes     -
 *   time         no (time spent, corrections)              yes     -
 *
 * Another organisation's ticket is KW_NOT_FOUND ("no such ticket"), the
 * same as one that does not exist. Errors carry the pointer of the input
 * member at fault: "/to", "/milestone", "/internal", "/level"…
 */
#ifndef KW_APP_TICKETS_H
#define KW_APP_TICKETS_H

#include "app.h"
#include "credit.h"
#include "workflow.h"

/* Append r (encoded by core/event) as an event of ticket by actor at `at`;
 * state (may be NULL) becomes the ticket's state; *seq (when seq is not
 * NULL) gets the event's number. The one way the application layer and the
 * engine write a typed event. */
struct kw_event_rec;
enum kw_code kw_app_append_seq(struct kw_store *st, int64_t ticket, const struct kw_event_rec *r,
                               int64_t actor, int64_t at, const char *state, int64_t *seq,
                               struct kw_err *err);
/* kw_app_append_seq without the event's number. */
enum kw_code kw_app_append(struct kw_store *st, int64_t ticket, const struct kw_event_rec *r,
                           int64_t actor, int64_t at, const char *state, struct kw_err *err);

/* Whether s (UTF-8, may be NULL) is empty or only Unicode spaces (White_Space,
 * the ideographic space, zero-width spaces, BOM): a title that says nothing. */
bool kw_app_blank(const char *s);

/* A new ticket's row as its create wrote it, what kw_store_ticket_get would
 * read in the same unit (strings: the request's or the buffers here), so
 * that the answer needs no read of it. */
struct kw_ticket_made {
    bool set; /* a new ticket (not a used key's, nor a failed create) */
    struct kw_ticket_row row;
    char tier[48], region[48];
};

/* A new ticket. Strings borrowed. org_id: staff must give it; a customer's
 * is their own (0 or the same). tier and region come from the
 * organisation's contract when not given; a customer may not give others.
 * Every attribute must be one the commitment in force knows.
 * requester_id: the customer it is for, a customer of the organisation
 * (KW_INVALID otherwise); a customer's own request is theirs (another is
 * KW_FORBIDDEN), staff may leave it 0 (an alert from monitoring).
 * via: how the request came in ("web" for the browser, "api" for a token):
 * the channel when none is given; a customer's channel is always via
 * (another is KW_FORBIDDEN), staff name how the customer reached them
 * (phone, walk-in, chat, email, monitoring...). */
struct kw_ticket_in {
    int64_t org_id, requester_id;
    const char *title, *level, *tier, *category, *region, *channel, *via;
    const char *description; /* what was reported (may be NULL): in the created event */
    /* may be NULL; a repeat with the same request returns the first ticket,
     * one with another request is KW_UNPROCESSABLE (the digest: tickets.c) */
    const char *idempotency_key;
    struct kw_ticket_made *made; /* out (may be NULL) */
};
enum kw_code kw_ticket_create(struct kw_unit *u, const struct kw_actor *who,
                              const struct kw_ticket_in *in, int64_t *id, bool *existed,
                              struct kw_err *err);

/* A comment; internal: a note for the provider only (staff). */
enum kw_code kw_ticket_comment(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                               const char *text, bool internal, struct kw_err *err);
struct kw_time_in;
/* The same with time spent (time may be NULL or have seconds 0: none), in
 * one unit: the time_spent entry names the comment (kw_ticket_time). */
enum kw_code kw_ticket_comment_time(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                    const char *text, bool internal, const struct kw_time_in *time,
                                    struct kw_err *err);

/* ---- time accounting (docs/kpi.md "Time spent and cost") ---- */

/* Time spent on a ticket (staff only): seconds 1 to 24 h with an optional
 * note. corrects, when not 0, is the seq of an earlier entry of the ticket
 * (not itself a correction) whose seconds this one replaces (0 to 24 h; 0
 * withdraws it): entries are never rewritten. A new entry is charged to
 * the ticket's team now; a correction keeps the entry's team. comment_seq:
 * the reply it is recorded with (0: on its own). Appends a time_spent
 * event. KW_FORBIDDEN for customers and the system, KW_INVALID /seconds,
 * KW_NOT_FOUND /corrects. */
#define KW_TIME_MAX_SECONDS 86400
struct kw_time_in {
    int64_t seconds, corrects, comment_seq;
    const char *note;
};
enum kw_code kw_ticket_time(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            const struct kw_time_in *in, struct kw_err *err);

/* What a move did: the state before and after. */
struct kw_move {
    enum kw_state from, to;
};
/* The states who may move a ticket in state `from` to, as a bit set (bit s
 * for state s): the workflow's moves for staff; for a customer only the
 * confirmation (archived) and rejection (handling) of a proposed
 * resolution. The same rule kw_ticket_move enforces. */
unsigned kw_app_moves(const struct kw_actor *who, enum kw_state from);

/* Move to state `to` (the implied milestones follow: resolved on feedback;
 * customer_confirmed and closed on archiving from feedback; feedback ->
 * handling is a rejection and reopens). reason may be NULL. */
enum kw_code kw_ticket_move(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            enum kw_state to, const char *reason, struct kw_move *out,
                            struct kw_err *err);
/* Reopen from feedback or archived within the commitment's window. */
enum kw_code kw_ticket_reopen(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                              const char *reason, struct kw_move *out, struct kw_err *err);
/* Record a milestone: a built-in one or one the ticket's commitment adds. */
enum kw_code kw_ticket_milestone(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                 const char *milestone, struct kw_err *err);
/* Rate the service: satisfaction 1-5, nps 0-10 or -1 (not given), comment
 * may be NULL. Only the requester's organisation rates (its customers:
 * staff and the system are KW_FORBIDDEN), once the ticket is in feedback or
 * archived, and once per resolution: a second rating is KW_CONFLICT until
 * the ticket is reopened (or the resolution rejected) and resolved again. */
enum kw_code kw_ticket_rate(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            int satisfaction, int nps, const char *comment, struct kw_err *err);

/* Change level, category, region, title and description (NULL: keep),
 * assignee and team (0: keep, -1: clear), requester (0: keep). The
 * assignee must be staff, the team must exist, the requester a customer of
 * the ticket's organisation; a level, category or region must be one the
 * ticket's commitment knows; a title is one line of at most
 * KW_TICKET_TITLE_MAX bytes, not blank; a description has no control
 * characters but tabs and line breaks. Each real change is one event
 * (edited, level, category, region, requester, assigned) with reason (may
 * be NULL); a level, category or region change re-resolves the targets as
 * the commitment's on_level_change says (docs/policy.md). Customers: title
 * and description only (KW_FORBIDDEN naming another field), not in
 * feedback or archived (KW_CONFLICT); nobody edits an archived ticket's
 * title, description, region or requester (KW_CONFLICT). */
#define KW_TICKET_TITLE_MAX 500
struct kw_ticket_change {
    const char *level, *category, *reason;
    const char *title, *description, *region;
    int64_t assignee_id, team_id, requester_id;
};
enum kw_code kw_ticket_change(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                              const struct kw_ticket_change *c, struct kw_err *err);

/* ---- overruns (超时处理) ---- */

/* The reason categories of an overrun, with their names in both languages
 * (KW_OVERRUN_REASONS, kw_overrun_reasons): core/credit.h. */

/* Explain overrun id (reason: one of kw_overrun_reasons, note told to the
 * customer; both may be NULL) and/or record its follow-up (when f is not
 * NULL). Explaining appends an overrun_explained event on the ticket with
 * the notice in both languages and queues an overrun_notice. */
enum kw_code kw_overrun_explain(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                                const char *reason, const char *note,
                                const struct kw_overrun_followup *f, struct kw_err *err);

/* Project the clocks of every ticket whose projection is older than its
 * last event (at start: written by an older build or an importer), in units
 * of up to 256 on the writer. *done gets how many. */
struct kw_writer;
enum kw_code kw_app_catch_up(struct kw_writer *w, struct kw_clocks *clocks, struct kw_sla *sla,
                             struct kw_store *reader, int64_t now, size_t *done,
                             struct kw_err *err);
/* The same, also after a calendar edit marked tickets (app/calendars.h):
 * fn (may be NULL) gets each projected ticket and when its next threshold
 * now falls due (KW_STORE_NO_TIME: nothing), after its unit committed, for
 * the engine's schedule. */
enum kw_code kw_app_catch_up_each(struct kw_writer *w, struct kw_clocks *clocks, struct kw_sla *sla,
                                  struct kw_store *reader, int64_t now,
                                  void (*fn)(int64_t ticket, int64_t fire_at, void *ctx), void *ctx,
                                  size_t *done, struct kw_err *err);

#endif
