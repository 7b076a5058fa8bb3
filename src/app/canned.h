// SPDX-License-Identifier: MIT
/*
 * canned.h - canned replies: a team's texts in Chinese and English with
 * placeholders for the ticket's fields (docs/api.md "Canned replies").
 *
 *   action              admin, manager     agent                 customer
 *   read, use           every team's       every team's          no
 *   create, change,     every team's       their team's when     no
 *   delete                                 they lead it
 *
 * A placeholder is {{name}} with one of the names of KW_CANNED_MAP; any
 * other {{...}} is refused when the reply is saved, so what is stored
 * always renders. Rendering fills each from values the caller gathered.
 */
#ifndef KW_APP_CANNED_H
#define KW_APP_CANNED_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

#define KW_CANNED_TEXT_MAX 8000 /* bytes of one language's text */
#define KW_CANNED_NAME_MAX 100  /* bytes of a reply's name */

/* X(name, placeholder, what it is: the docs and the admin page say it) */
#define KW_CANNED_MAP(X)                                                                           \
    X(TICKET_ID, "ticket.id", "the ticket's number")                                               \
    X(TICKET_TITLE, "ticket.title", "its title")                                                   \
    X(TICKET_LEVEL, "ticket.level", "its level")                                                   \
    X(TICKET_CATEGORY, "ticket.category", "its category")                                          \
    X(TICKET_REGION, "ticket.region", "its region")                                                \
    X(TICKET_STATE, "ticket.state", "its state, in the reply's language")                          \
    X(TICKET_DUE, "ticket.due", "the earliest deadline of a running clock")                        \
    X(DUE_RESPONSE, "due.response", "the response clock's deadline")                               \
    X(DUE_RESOLUTION, "due.resolution", "the resolution clock's deadline")                         \
    X(REQUESTER_NAME, "requester.name", "the customer it is for")                                  \
    X(ORG_NAME, "org.name", "the customer's organisation")                                         \
    X(ASSIGNEE_NAME, "assignee.name", "who handles it")                                            \
    X(TEAM_NAME, "team.name", "the team it is with")                                               \
    X(AGENT_NAME, "agent.name", "the staff member taking the reply")

enum kw_canned_field {
#define X(name, ph, what) KW_CANNED_##name,
    KW_CANNED_MAP(X)
#undef X
        KW_CANNED_FIELD_COUNT
};

/* The placeholder's name ("ticket.id") and what it is; NULL out of range. */
const char *kw_canned_placeholder(enum kw_canned_field f);
const char *kw_canned_placeholder_about(enum kw_canned_field f);

/* Check one language's text: not blank, at most KW_CANNED_TEXT_MAX bytes,
 * every {{...}} a known placeholder (spaces inside the braces allowed).
 * KW_INVALID at field naming the first unknown one. */
enum kw_code kw_canned_check(const char *text, const char *field, struct kw_err *err);

/* text with each placeholder replaced by v[field] (NULL: "—"); a new
 * string the caller frees, NULL without memory. */
char *kw_canned_render(const char *text, const char *const v[KW_CANNED_FIELD_COUNT]);

/* Create (c->id 0: *id gets the new id) or replace reply c->id as who at
 * u->now, after checking the name and both texts. KW_FORBIDDEN for who
 * may not manage the team's replies (for a change: the old team's and the
 * new one's), KW_NOT_FOUND at "/team_id" for an unknown team. */
enum kw_code kw_canned_put(struct kw_unit *u, const struct kw_actor *who, const struct kw_canned *c,
                           int64_t *id, struct kw_err *err);
/* Delete reply id. */
enum kw_code kw_canned_delete(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                              struct kw_err *err);

#endif
