// SPDX-License-Identifier: MIT
/*
 * store.h - Keepword's storage contract (ARCHITECTURE.md decision 5).
 *
 * One interface for every backend: SQLite now (sqlite.c: WAL, foreign keys,
 * numbered migrations applied at open, prepared statements only), PostgreSQL
 * later behind the same calls. Tickets are event-sourced: every change is an
 * event appended with hash = BLAKE2b-256(prev_hash || canonical event), so a
 * ticket's log is a chain anyone can verify. A call returns only after its
 * transaction committed. A store handle is used by one thread at a time.
 */
#ifndef KW_STORE_H
#define KW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

#define KW_HASH_BYTES 32
#define KW_STORE_TEXT_MAX 4096 /* bytes of a title, name or key */

struct kw_store; /* opaque */

/* Open (creating if needed) the database at path and bring its schema up to
 * date. NULL with err (KW_STORE naming the file and SQLite's message). */
struct kw_store *kw_store_open(const char *path, struct kw_err *err);
/* Accepts NULL. */
void kw_store_close(struct kw_store *st);
/* The schema version in force, and the newest this build knows. */
int kw_store_schema_version(struct kw_store *st);
int kw_store_schema_latest(void);

struct kw_org {
    int64_t id;
    const char *name, *tier, *region, *calendar; /* borrowed in, owned by the row out */
    int64_t contract_value_cents;
};

/* Insert an organisation; KW_CONFLICT when the name is taken. */
enum kw_code kw_store_org_insert(struct kw_store *st, const struct kw_org *org, int64_t now,
                                 int64_t *id, struct kw_err *err);

/* A new ticket; strings borrowed. idempotency_key may be NULL; with a key,
 * a second create by the same creator returns the first ticket (*existed). */
struct kw_ticket_new {
    int64_t org_id, created_by;
    const char *title, *level, *tier, *category, *region, *channel, *idempotency_key;
    int64_t at;
};

/* Create the ticket and its `created` event in one transaction; the ticket
 * follows the commitment version in force at t->at for the rest of its life.
 * KW_NOT_FOUND for an unknown organisation. */
enum kw_code kw_store_ticket_create(struct kw_store *st, const struct kw_ticket_new *t, int64_t *id,
                                    bool *existed, struct kw_err *err);

/* Append one event to a ticket's chain. body is a JSON object (text); it is
 * stored in canonical form (sorted keys, compact). state, when not NULL,
 * becomes the ticket's state in the same transaction. *seq gets the event's
 * number (1 is `created`). KW_NOT_FOUND for an unknown ticket. */
enum kw_code kw_store_event_append(struct kw_store *st, int64_t ticket, const char *type,
                                   const char *body, int64_t actor, int64_t at, const char *state,
                                   int64_t *seq, struct kw_err *err);

/* One stored event, as given to a reader (valid during the callback only). */
struct kw_stored_event {
    int64_t ticket, seq, at, actor;
    const char *type, *body;
    unsigned char hash[KW_HASH_BYTES];
};

/* Call fn for each event of a ticket in order; stops when fn returns false. */
enum kw_code kw_store_events(struct kw_store *st, int64_t ticket,
                             bool (*fn)(const struct kw_stored_event *ev, void *ctx), void *ctx,
                             struct kw_err *err);

/* Recompute the ticket's chain from its events and compare with what is
 * stored. KW_CONFLICT naming the first event that does not match. *head
 * (may be NULL) gets the chain head. */
enum kw_code kw_store_verify(struct kw_store *st, int64_t ticket, unsigned char *head,
                             struct kw_err *err);

/* ---- commitments (policy versions) ---- */

/* Store a validated policy document (text) as name/version effective from
 * the given instant. KW_CONFLICT when that name and version exist. */
enum kw_code kw_store_commitment_insert(struct kw_store *st, const char *name, const char *version,
                                        int64_t effective_from, const char *doc, int64_t now,
                                        int64_t *id, struct kw_err *err);
/* The document of commitment id; caller frees *doc. KW_NOT_FOUND. */
enum kw_code kw_store_commitment_doc(struct kw_store *st, int64_t id, char **doc,
                                     struct kw_err *err);

/* A ticket as read back (strings valid until the next call on st). */
struct kw_ticket_row {
    int64_t id, org_id, created_by, created_at, updated_at, last_seq;
    int64_t commitment_id; /* the version in force when it was created, or 0 */
    const char *title, *state, *level, *tier, *category, *region, *channel; /* may be NULL */
    unsigned char head[KW_HASH_BYTES];
};
/* Read ticket id. KW_NOT_FOUND. */
enum kw_code kw_store_ticket_get(struct kw_store *st, int64_t id, struct kw_ticket_row *out,
                                 struct kw_err *err);

/* Which tickets to list: NULL / 0 fields match anything. Tickets come in id
 * order after `after` (a cursor: the last id of the previous page). */
struct kw_ticket_filter {
    int64_t org_id, after;
    const char *state, *level;
    size_t limit; /* 1-500 */
};
/* Call fn for each ticket that matches (the row is valid during the call);
 * stops early when fn returns false. */
enum kw_code kw_store_tickets(struct kw_store *st, const struct kw_ticket_filter *f,
                              bool (*fn)(const struct kw_ticket_row *t, void *ctx), void *ctx,
                              struct kw_err *err);

/* The ticket's current state into buf (cap bytes). KW_NOT_FOUND. */
enum kw_code kw_store_ticket_state(struct kw_store *st, int64_t ticket, char *buf, size_t cap,
                                   struct kw_err *err);

/* ---- users and tokens ---- */

#define KW_TOKEN_BUF 64 /* a token as text, with the NUL */

struct kw_user {
    int64_t id, org_id, team_id;     /* 0: none */
    const char *email, *name, *role; /* role: admin, manager, agent, customer */
};

/* Insert a user; password (may be NULL: cannot log in) is stored as an
 * argon2id hash. KW_CONFLICT for a taken e-mail, KW_INVALID for a bad role or
 * a password shorter than 8 bytes. */
enum kw_code kw_store_user_insert(struct kw_store *st, const struct kw_user *u,
                                  const char *password, int64_t now, int64_t *id,
                                  struct kw_err *err);
/* A user as read back (strings valid until the next call on st). */
struct kw_user_row {
    int64_t id, org_id, team_id;
    const char *email, *name, *role;
};
/* Read user id. KW_NOT_FOUND. */
enum kw_code kw_store_user_get(struct kw_store *st, int64_t id, struct kw_user_row *out,
                               struct kw_err *err);
/* How many users have role (for `keepword init`). */
enum kw_code kw_store_user_count(struct kw_store *st, const char *role, int64_t *n,
                                 struct kw_err *err);

/* Check e-mail and password and issue a session token valid for ttl seconds
 * into token (KW_TOKEN_BUF bytes). KW_UNAUTHENTICATED, the same for an unknown
 * e-mail and a wrong password, taking the same time. Only the token's hash is
 * stored. */
enum kw_code kw_store_login(struct kw_store *st, const char *email, const char *password,
                            int64_t now, int64_t ttl, char *token, int64_t *user_id,
                            struct kw_err *err);
/* The user a token belongs to, if it is neither expired nor revoked. */
enum kw_code kw_store_token_user(struct kw_store *st, const char *token, int64_t now,
                                 int64_t *user_id, struct kw_err *err);
/* Revoke a token (logout). Unknown tokens are fine. */
enum kw_code kw_store_token_revoke(struct kw_store *st, const char *token, int64_t now,
                                   struct kw_err *err);

/* The hash of an event after prev: BLAKE2b-256 over prev, the ticket id, seq,
 * instant (64-bit big-endian each), type, a NUL, actor (big-endian), body. */
void kw_event_hash(const unsigned char prev[KW_HASH_BYTES], int64_t ticket, int64_t seq, int64_t at,
                   const char *type, int64_t actor, const char *body,
                   unsigned char out[KW_HASH_BYTES]);

#endif
