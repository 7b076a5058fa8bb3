// SPDX-License-Identifier: MIT
/*
 * store.h - Keepword's storage contract (ARCHITECTURE.md decision 5).
 *
 * One interface for every backend: SQLite now (src/store/sqlite/: WAL,
 * foreign keys, numbered migrations applied at open, prepared statements
 * only), PostgreSQL later behind the same calls. Tickets are event-sourced:
 * every change is an event appended with hash = BLAKE2b-256(prev_hash ||
 * canonical event), so a ticket's log is a chain anyone can verify. A write
 * call returns after its transaction committed; called inside a transaction
 * the caller opened (kw_store_begin, as the group-commit writer does), it
 * becomes a savepoint of that transaction and commits with it. A store
 * handle is used by one thread at a time; open one per thread. Several
 * processes may share one database: what one commits, the others see
 * (kw_store_changes_since), and due work is claimed (kw_store_due_claim).
 * Rows read lend their strings until the next call on the handle or
 * kw_store_end_read, whichever comes first, unless a call says otherwise.
 */
#ifndef KW_STORE_H
#define KW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_crypto.h" /* KW_HASH_BYTES, KW_PASSWORD_HASH_BUF */
#include "kw_err.h"

#define KW_STORE_NO_TIME INT64_MIN /* an instant that is not there (SQL NULL) */
#define KW_STORE_TEXT_MAX 4096     /* bytes of a title, name or key */

struct kw_store; /* opaque */

/* Open (creating if needed) the database at path and bring its schema up to
 * date. NULL with err (KW_STORE naming the database and the backend's message). */
struct kw_store *kw_store_open(const char *path, struct kw_err *err);
/* The same for the one handle a group-commit writer (writer.h) commits
 * through: its commits never stop for the backend's upkeep, which someone
 * must then do by calling kw_store_maintain on another handle. */
struct kw_store *kw_store_open_writer(const char *path, struct kw_err *err);
/* Whether a location names a PostgreSQL database (a postgres:// or
 * postgresql:// URL, or a libpq connection string "key=value ...") rather
 * than a SQLite file; kw_store_open opens it with that backend. */
bool kw_store_location_is_pg(const char *location);
/* Accepts NULL. */
void kw_store_close(struct kw_store *st);
/* Let go of what reads lent; the strings of rows read before die. Call
 * between requests and before waiting: a handle that holds on to a read
 * may keep seeing the database as it was. */
void kw_store_end_read(struct kw_store *st);
/* The handle will serve small reads only (a few rows found by key, as a
 * token's check): on SQLite it reads through its page cache and does not
 * map the file. A mapped handle's first read after another handle's commit
 * unmaps the whole file (and maps it again at its next page): a munmap,
 * with the other processors' TLBs flushed, that cost more than the copies
 * it saved (#20). Call once, before the handle's first read. A no-op on
 * PostgreSQL. */
void kw_store_small_reads(struct kw_store *st);

/* Upkeep the backend needs now and then (on SQLite: copy the write-ahead
 * log into the database, truncating the log once it passes 16 MiB and is
 * all copied), on a handle of its own, every 100 ms or so while a writer
 * runs. Never waits for long; a no-op where the backend needs none. out
 * (may be NULL) says what it found. */
/* Rows by state, for metrics: fn("tickets", state, n) for each ticket
 * state in use, then fn("outbox", state, n) for each outbox state. Reads
 * every ticket: meant for a scrape every few seconds, not per request. */
enum kw_code kw_store_census(struct kw_store *st,
                             void (*fn)(const char *table, const char *state, int64_t n, void *ctx),
                             void *ctx, struct kw_err *err);

/* Write a copy of the whole database as it is at one instant to the file
 * `to`, which must not exist (KW_CONFLICT); writers go on meanwhile and
 * nothing they commit after that instant is in the copy. */
enum kw_code kw_store_backup(struct kw_store *st, const char *to, struct kw_err *err);
/* Make the database `db`, which must not exist, from a copy that
 * kw_store_backup wrote. The copy itself is only read. */
enum kw_code kw_store_restore(const char *backup, const char *db, struct kw_err *err);

/* What kw_store_copy_from copied: tables and rows. */
struct kw_store_copied {
    int64_t tables, rows;
};
/* Copy every row of the SQLite database at `from` (only read, in one read
 * transaction; it must be at this build's newest SQLite schema) into st, a
 * PostgreSQL store with no desk in it yet (KW_CONFLICT naming a table that
 * has rows), in one transaction: ids, chains and hashes as they are, each
 * id sequence then set past the largest id. KW_INVALID on a SQLite st;
 * KW_STORE naming the table and PostgreSQL's message if a row is refused
 * (nothing is left behind). out may be NULL. */
enum kw_code kw_store_copy_from(struct kw_store *st, const char *from, struct kw_store_copied *out,
                                struct kw_err *err);

struct kw_store_upkeep {
    int64_t log_pages; /* write-ahead log pages after the upkeep (SQLite), or 0 */
};
enum kw_code kw_store_maintain(struct kw_store *st, struct kw_store_upkeep *out,
                               struct kw_err *err);

/* ---- the change log: which tickets changed, for live feeds ---- */

/* Every unit of work that gives a ticket events (kw_store_event_append,
 * kw_store_ticket_create) adds one change per ticket, numbered by seq in
 * commit order, in the same transaction: a reader in any process sees a
 * change once it is committed. at: the instant of the (last) event. */
struct kw_change {
    int64_t seq, ticket, at;
};
/* The last KW_STORE_CHANGES_KEPT changes are kept at least; the writes that
 * add changes delete older ones now and then. */
#define KW_STORE_CHANGES_KEPT 100000
/* Up to max changes with seq > after, in order, into out; *n gets how many.
 * KW_RANGE when changes after `after` were pruned already (the caller missed
 * some: it should reload and start again from kw_store_changes_head). */
enum kw_code kw_store_changes_since(struct kw_store *st, int64_t after, struct kw_change *out,
                                    size_t max, size_t *n, struct kw_err *err);
/* The latest seq (0 when there is none). */
enum kw_code kw_store_changes_head(struct kw_store *st, int64_t *seq, struct kw_err *err);
/* Wait up to timeout_ms for a commit of any process that added changes.
 * *seq gets the newest seq announced, 0 when none came in time, or -1 when
 * the wait began listening on a new connection (the first call, or after
 * the old connection was lost and reconnected): announcements may have been
 * missed, so read the log from your cursor. A wake-up only: the change log
 * stays the truth. PostgreSQL: LISTEN kw_changes on the handle's own
 * connection (use the handle for nothing else); KW_STORE when the database
 * cannot be reached (wait, then call again). SQLite announces nothing:
 * KW_STORE (other processes' commits are seen by reading the log now and
 * then). */
enum kw_code kw_store_changes_wait(struct kw_store *st, int timeout_ms, int64_t *seq,
                                   struct kw_err *err);

/* Desk-wide singletons (several nodes on one database): the work only one
 * process of a desk does at a time (KW_STORE_SINGLETON_*). *held: whether
 * this handle holds key now, taking it if free (PostgreSQL:
 * pg_try_advisory_lock on the handle's connection, held until it closes or
 * breaks, so another node takes over within its next try after a holder
 * died). Call it before each run of the work, outside a unit of work, on a
 * handle the calling thread owns. SQLite: always held (one process). */
#define KW_STORE_SINGLETON_SIGNER 7238101  /* signs the log's checkpoints */
#define KW_STORE_SINGLETON_REPORTS 7238102 /* queues the weekly and monthly reports */
enum kw_code kw_store_singleton(struct kw_store *st, int64_t key, bool *held, struct kw_err *err);
/* Inside a unit of work: hold the log's lock to its end, so that no other
 * process appends leaves or signs a checkpoint meanwhile (PostgreSQL: the
 * advisory lock leaves are appended under; SQLite: the writer's
 * transaction is exclusive already, nothing to do). Take it in a unit of
 * its own (kw_writer_run_alone) that locks no ticket row after it: on
 * PostgreSQL other transactions take it at their end, holding their rows. */
enum kw_code kw_store_log_lock(struct kw_store *st, struct kw_err *err);

/* The schema version in force, and the newest this build knows. */
int kw_store_schema_version(struct kw_store *st);
int kw_store_schema_latest(void);
/* The newest schema version this build knows for st's backend: SQLite's is
 * kw_store_schema_latest(); PostgreSQL's migrations are numbered on their own. */
int kw_store_schema_newest(struct kw_store *st);

struct kw_org {
    int64_t id;
    const char *name, *tier, *region, *calendar; /* borrowed in, owned by the row out */
    int64_t contract_value_cents;
    int64_t account_manager_id; /* the provider's person for this customer, or 0 */
    int64_t deactivated_at;     /* read back: when it was deactivated, or KW_STORE_NO_TIME */
};

/* Transactions for callers that batch writes (group commit): begin; for each
 * unit of work a savepoint, released with keep = false to undo just that
 * unit; commit makes the whole batch durable at once. */
enum kw_code kw_store_begin(struct kw_store *st, struct kw_err *err);
enum kw_code kw_store_commit(struct kw_store *st, struct kw_err *err); /* rolls back on failure */
void kw_store_rollback(struct kw_store *st);
enum kw_code kw_store_savepoint(struct kw_store *st, struct kw_err *err);
enum kw_code kw_store_release(struct kw_store *st, bool keep, struct kw_err *err);
/* The open transaction (kw_store_begin, no savepoint open) is rolled back
 * whole if its unit fails (kw_writer_run_alone): the store's calls need no
 * savepoints of their own until it ends. A call that fails after it wrote
 * something then rolls the transaction back, and every later call and the
 * commit fail (KW_STORE); one that fails before writing leaves it as it
 * was. SQLite; PostgreSQL has no version (the dispatch's missing one, a
 * no-op). */
void kw_store_whole(struct kw_store *st);
/* Several units in the open transaction undone whole (a writer's batch of
 * units that may run again, kw_writer_run_repeatable): begin the next unit
 * (as kw_store_savepoint would, but with no savepoint; the store's calls
 * in it open none, as after kw_store_whole) and mark what the transaction
 * holds. Call it before each unit and once after the last. False when the
 * transaction was rolled back meanwhile (a call failed after it wrote),
 * when no transaction is open, or on PostgreSQL (the dispatch's missing
 * version): then roll back and run the units again, each in a savepoint. */
bool kw_store_unit_whole(struct kw_store *st);
/* Whether the unit begun by the last kw_store_unit_whole wrote or held
 * anything, or the transaction was rolled back since: a unit that failed
 * and wrote must be undone with the transaction. */
bool kw_store_unit_wrote(struct kw_store *st);
/* Wait for the writes of the open transaction a backend has not sent yet
 * (PostgreSQL sends those whose answer nobody reads with the next statement
 * that needs one): their failure is reported here, not by a later call's
 * statement, so call it before a savepoint's release to learn whether the
 * savepoint's own writes failed (then release it with keep false). On
 * SQLite, whose writes are done when their call returns, KW_OK. */
enum kw_code kw_store_flush(struct kw_store *st, struct kw_err *err);

/* Insert an organisation; KW_CONFLICT when the name is taken. */
enum kw_code kw_store_org_insert(struct kw_store *st, const struct kw_org *org, int64_t now,
                                 int64_t *id, struct kw_err *err);

/* A new ticket; strings borrowed. idempotency_key may be NULL; with a key,
 * a second create by the same creator returns the first ticket (*existed)
 * when its request_digest is the first one's, and is KW_UNPROCESSABLE when
 * it differs (the key was used for another request). request_digest
 * (KW_HASH_BYTES, borrowed, or NULL: none) is stored with the key; a
 * ticket stored without one answers any digest. */
struct kw_ticket_new {
    int64_t org_id, created_by;
    int64_t requester_id;    /* the customer it is for (0: none); the caller checks it */
    const char *description; /* what was reported, in the created event (may be NULL) */
    const char *title, *level, *tier, *category, *region, *channel, *idempotency_key;
    const unsigned char *request_digest;
    const char *organisation; /* for rules on the organisation (the created event only) */
    int64_t at;
    /* commitment_read: commitment_id is the version in force at `at` as the
     * caller read it in this transaction (kw_store_commitment_at; 0: none),
     * and the ticket follows that one (on SQLite, whose one writer's
     * transaction sees no other, a lookup answers the same); else the store
     * looks it up */
    bool commitment_read;
    int64_t commitment_id;
    /* org_read: the caller read organisation org_id in this transaction
     * (kw_store_org_terms) and it exists: the store need not look it up
     * again (#20; the foreign key still holds the row to it) */
    bool org_read;
    /* out (may be NULL): a new ticket's chain head, its created event's
     * hash (left alone when the key was used: *existed or an error) */
    unsigned char *head;
    /* due_known: next_due, breached_at and fire_at (KW_STORE_NO_TIME: none)
     * are the new ticket's projection, computed before its insert, that the
     * caller stores with kw_store_clocks_put(fresh) in the same transaction:
     * a store may write them with the row so that it is written once (#20;
     * SQLite does, PostgreSQL writes them at kw_store_clocks_put) */
    bool due_known;
    int64_t next_due, breached_at, fire_at;
};

/* Create the ticket and its `created` event in one transaction; the ticket
 * follows the commitment version in force at t->at for the rest of its life.
 * KW_NOT_FOUND for an unknown organisation. */
enum kw_code kw_store_ticket_create(struct kw_store *st, const struct kw_ticket_new *t, int64_t *id,
                                    bool *existed, struct kw_err *err);

/* Append one event to a ticket's chain; an instant before the ticket's last
 * event is taken as that event's (a ticket's events stay in time order when
 * the clock steps back). body is a JSON object (text); it is
 * stored in canonical form (sorted keys, compact). state, when not NULL,
 * becomes the ticket's state in the same transaction. *seq gets the event's
 * number (1 is `created`). KW_NOT_FOUND for an unknown ticket. The text
 * a created (title) or comment event (text, internal or not) carries is
 * added to the search index (kw_ticket_filter.q) in the same transaction. */
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

/* ---- the deployment-wide Merkle log (docs/receipts.md) ---- */

/* Every ticket event is a leaf (its data: the event's chain hash), appended
 * in the transaction that writes the event; ledger entries and
 * administrative changes will be too. */
struct kw_log_leaf {
    uint64_t idx;
    char kind[16]; /* "event", "ledger", "audit" */
    int64_t ticket, seq;
    unsigned char data[64];
    size_t data_len;
};
struct kw_log_checkpoint {
    uint64_t size;
    int64_t at;
    char *note; /* the signed note; the caller frees it */
};

/* Append a leaf of another kind ("ledger", "audit"; events are appended
 * by the event writes themselves): data is up to 64 bytes, its hash. */
enum kw_code kw_store_log_append(struct kw_store *st, const char *kind, const void *data, size_t n,
                                 struct kw_err *err);
/* The number of leaves. */
enum kw_code kw_store_log_size(struct kw_store *st, uint64_t *size, struct kw_err *err);
/* The root of the first size leaves (KW_RANGE past the log's size). */
enum kw_code kw_store_log_root(struct kw_store *st, uint64_t size, unsigned char root[32],
                               struct kw_err *err);
/* Inclusion and consistency proofs (core/merkle.h); KW_RANGE past the
 * log's size, KW_INVALID for sizes the proof cannot take. */
enum kw_code kw_store_log_inclusion(struct kw_store *st, uint64_t leaf, uint64_t size,
                                    unsigned char path[][32], size_t *n, struct kw_err *err);
enum kw_code kw_store_log_consistency(struct kw_store *st, uint64_t from, uint64_t to,
                                      unsigned char path[][32], size_t *n, struct kw_err *err);
enum kw_code kw_store_log_leaf(struct kw_store *st, uint64_t idx, struct kw_log_leaf *out,
                               struct kw_err *err);
/* The leaf of event (ticket, seq). KW_NOT_FOUND when there is none. */
enum kw_code kw_store_log_event_leaf(struct kw_store *st, int64_t ticket, int64_t seq,
                                     uint64_t *idx, struct kw_err *err);
/* Keep a signed checkpoint of the first size leaves (KW_CONFLICT when one
 * of that size exists). */
enum kw_code kw_store_log_checkpoint_add(struct kw_store *st, uint64_t size, int64_t at,
                                         const char *note, struct kw_err *err);
/* The latest checkpoint; the first one covering at least size leaves.
 * KW_NOT_FOUND when there is none. */
enum kw_code kw_store_log_checkpoint_last(struct kw_store *st, struct kw_log_checkpoint *out,
                                          struct kw_err *err);
enum kw_code kw_store_log_checkpoint_covering(struct kw_store *st, uint64_t size,
                                              struct kw_log_checkpoint *out, struct kw_err *err);

/* ---- the log's check (`keepword verify`): paged reads of all of it ---- */

/* A leaf and the record it names, as that record's table keeps it: an
 * event (ticket, seq), a ledger entry (its organisation in ticket, seq)
 * or an audit entry (seq); found false when there is no such record. */
struct kw_log_leaf_record {
    struct kw_log_leaf leaf;
    bool found;
    unsigned char hash[KW_HASH_BYTES]; /* the record's stored chain hash */
};
/* The most leaves or nodes a page of the log's check reads (n below). */
#define KW_STORE_LOG_PAGE_MAX 10000
/* Call fn for each leaf of index in [from, from + n) the log holds, in
 * index order (an index without a leaf is skipped: the caller sees the
 * gap); stops when fn returns false. One statement; n up to
 * KW_STORE_LOG_PAGE_MAX. */
enum kw_code kw_store_log_leaves(struct kw_store *st, uint64_t from, uint64_t n,
                                 bool (*fn)(const struct kw_log_leaf_record *r, void *ctx),
                                 void *ctx, struct kw_err *err);
/* Call fn for each stored node (level, idx), idx in [from, from + n), in
 * index order, as a proof would read it (SQLite: by its place, 048; level
 * 0 is the hash of the leaf's data there, 046); an index without a node is
 * skipped. One statement; n up to KW_STORE_LOG_PAGE_MAX. */
enum kw_code kw_store_log_nodes(struct kw_store *st, unsigned level, uint64_t from, uint64_t n,
                                bool (*fn)(uint64_t idx, const unsigned char hash[32], void *ctx),
                                void *ctx, struct kw_err *err);
/* The log's size (its last leaf's index + 1) and the number of nodes it
 * keeps above level 0, read at one instant; *lowest: the lowest level it
 * keeps rows of (SQLite 1, 046: a leaf's node is its data's hash, which
 * kw_store_log_nodes computes; PostgreSQL 0). */
enum kw_code kw_store_log_census(struct kw_store *st, uint64_t *size, uint64_t *nodes,
                                 unsigned *lowest, struct kw_err *err);
/* Call fn for each checkpoint of size >= from in size order, up to limit
 * (cp->note borrowed during the call); stops when fn returns false. */
enum kw_code kw_store_log_checkpoints(struct kw_store *st, uint64_t from, size_t limit,
                                      bool (*fn)(const struct kw_log_checkpoint *cp, void *ctx),
                                      void *ctx, struct kw_err *err);
/* Call fn for each event, ledger entry and audit entry that the log does
 * not hold exactly once (leaves: how many leaves name it), up to limit;
 * kind "event", "ledger" or "audit", ticket as in struct kw_log_leaf. */
enum kw_code kw_store_log_unlogged(struct kw_store *st, size_t limit,
                                   bool (*fn)(const char *kind, int64_t ticket, int64_t seq,
                                              int64_t leaves, void *ctx),
                                   void *ctx, struct kw_err *err);

/* The receipt issued at a ticket's closure (docs/receipts.md): due from
 * the transaction whose event (seq) archives the ticket, its bytes kept
 * once made (issued_at KW_STORE_NO_TIME and receipt_hash "" until then). */
struct kw_receipt_row {
    int64_t ticket_id, seq, closed_at, issued_at, tree_size;
    char receipt_hash[65]; /* hex SHA-256 */
};
/* Ticket's receipts in seq order; with ticket 0, the pending ones of all
 * tickets, oldest closure first, at most limit. fn returns false to stop. */
enum kw_code kw_store_receipts(struct kw_store *st, int64_t ticket, size_t limit,
                               bool (*fn)(const struct kw_receipt_row *r, void *ctx), void *ctx,
                               struct kw_err *err);
/* Receipt (ticket, seq) into *out and its bytes into *body (NULL while it
 * is pending; the caller frees it). KW_NOT_FOUND when there is none. */
enum kw_code kw_store_receipt_get(struct kw_store *st, int64_t ticket, int64_t seq,
                                  struct kw_receipt_row *out, char **body, struct kw_err *err);
/* Keep body as receipt (r->ticket_id, r->seq) with r's issued_at,
 * tree_size and receipt_hash, unless it was issued already (then nothing
 * changes: the first bytes stay; read them back with kw_store_receipt_get). */
enum kw_code kw_store_receipt_issue(struct kw_store *st, const struct kw_receipt_row *r,
                                    const char *body, struct kw_err *err);

/* ---- commitments (policy versions) ---- */

/* Store a validated policy document (text) as name/version effective from
 * the given instant. KW_CONFLICT when that name and version exist. */
enum kw_code kw_store_commitment_insert(struct kw_store *st, const char *name, const char *version,
                                        int64_t effective_from, const char *doc, int64_t now,
                                        int64_t *id, struct kw_err *err);
/* Whether a ticket of organisation org_id follows commitment id. */
enum kw_code kw_store_commitment_used(struct kw_store *st, int64_t id, int64_t org_id, bool *used,
                                      struct kw_err *err);
/* The document of commitment id; caller frees *doc. KW_NOT_FOUND. */
enum kw_code kw_store_commitment_doc(struct kw_store *st, int64_t id, char **doc,
                                     struct kw_err *err);

/* Call fn for organisations in id order after `after` (only: that one,
 * 0: all), at most limit. */
enum kw_code kw_store_orgs(struct kw_store *st, int64_t only, int64_t after, size_t limit,
                           bool (*fn)(const struct kw_org *o, void *ctx), void *ctx,
                           struct kw_err *err);
/* Read organisation id (strings valid until the next call on st or
 * kw_store_end_read). KW_NOT_FOUND. */
enum kw_code kw_store_org_get(struct kw_store *st, int64_t id, struct kw_org *out,
                              struct kw_err *err);
/* What a new ticket of organisation id at t depends on: *commitment as
 * kw_store_commitment_at(t) answers and the organisation as
 * kw_store_org_get(id) reads it (its errors, KW_NOT_FOUND; *commitment set
 * then too), in one round trip where the backend has them (PostgreSQL). */
enum kw_code kw_store_org_terms(struct kw_store *st, int64_t id, int64_t t, struct kw_org *out,
                                int64_t *commitment, struct kw_err *err);

/* A row with an id, a name and either a text (calendars: the spec) or a
 * reference (teams: the lead's user id, 0 for none). */
struct kw_named_row {
    int64_t id, ref;
    const char *name, *text;
};
/* Teams (only: that one, 0: all); KW_CONFLICT for a taken name. */
enum kw_code kw_store_team_insert(struct kw_store *st, const char *name, int64_t lead_id,
                                  int64_t now, int64_t *id, struct kw_err *err);
enum kw_code kw_store_teams(struct kw_store *st, int64_t only,
                            bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                            struct kw_err *err);
/* Calendars by name, each with its versions. Saving spec (JSON text) under
 * name makes it the calendar's next version, saved at now (or at the
 * previous version's instant, should the clock have stepped back), unless
 * it equals the latest version (then nothing is added: added false). The
 * first save creates the calendar as version 1. Versions are never changed
 * or deleted. */
struct kw_calendar_saved {
    int64_t id, version, saved_at; /* the calendar, its latest version and when that was saved */
    bool added;
};
enum kw_code kw_store_calendar_save(struct kw_store *st, const char *name, const char *spec,
                                    int64_t now, struct kw_calendar_saved *out, struct kw_err *err);
/* The same, giving only the calendar's id. */
enum kw_code kw_store_calendar_put(struct kw_store *st, const char *name, const char *spec,
                                   int64_t now, int64_t *id, struct kw_err *err);
/* Calendars (only: that name, NULL: all, by name): text is the latest
 * version's spec, ref the latest version's number. */
enum kw_code kw_store_calendars(struct kw_store *st, const char *only,
                                bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                                struct kw_err *err);
/* The versions of calendar name, oldest first (none for an unknown name). */
struct kw_calendar_version {
    int64_t calendar_id, version, saved_at;
    const char *name, *spec;
};
enum kw_code kw_store_calendar_versions(struct kw_store *st, const char *name,
                                        bool (*fn)(const struct kw_calendar_version *v, void *ctx),
                                        void *ctx, struct kw_err *err);

/* The commitment version in force at t (the latest effective_from <= t),
 * as a new ticket would follow it; 0 when there is none. */
enum kw_code kw_store_commitment_at(struct kw_store *st, int64_t t, int64_t *id,
                                    struct kw_err *err);
/* Commitment versions in order of effect (strings valid during the call). */
struct kw_commitment_row {
    int64_t id, effective_from, created_at;
    const char *name, *version;
};
enum kw_code kw_store_commitments(struct kw_store *st,
                                  bool (*fn)(const struct kw_commitment_row *c, void *ctx),
                                  void *ctx, struct kw_err *err);

/* A ticket as read back (strings valid until the next call on st or
 * kw_store_end_read). */
struct kw_ticket_row {
    int64_t id, org_id, created_by, created_at, updated_at, last_seq;
    int64_t commitment_id;        /* the version in force when it was created, or 0 */
    int64_t assignee_id, team_id; /* 0: none */
    int64_t next_due;             /* earliest breach deadline of a running clock, or NO_TIME */
    int64_t breached_at;          /* the first breach recorded, or NO_TIME */
    int64_t requester_id;         /* the customer it is for, or 0 */
    const char *title, *state, *level, *tier, *category, *region, *channel; /* may be NULL */
    unsigned char head[KW_HASH_BYTES];
    /* from a search (kw_ticket_filter.q): the ticket's newest matching text
     * (its title, a comment or a note the search may see); else NULL */
    const char *match;
};
/* Read ticket id. KW_NOT_FOUND. */
enum kw_code kw_store_ticket_get(struct kw_store *st, int64_t id, struct kw_ticket_row *out,
                                 struct kw_err *err);

/* Which tickets to list: NULL / 0 fields match anything. Tickets come in id
 * order after `after` (a cursor: the last id of the previous page), or with
 * by_due in order of next_due (tickets without a running clock last), then
 * id, after (after_due, after): after_due is the cursor row's next_due,
 * INT64_MAX for one without; (INT64_MIN, -1) starts at the beginning. breached: 1 only breached, 2
 * only not, as of now (a running clock past its deadline counts). due_before: next_due earlier than
 * it (KW_STORE_NO_TIME: any). */
struct kw_ticket_filter {
    int64_t org_id, after, assignee_id, team_id, now, due_before, after_due;
    const char *state, *level; /* state "open": any but archived */
    const char *category;
    bool unassigned; /* only tickets nobody is assigned to (assignee_id is then ignored) */
    int breached;
    bool by_due;
    size_t limit; /* 1-500 */
    /* Search (NULL: none): up to KW_SEARCH_TERMS terms separated by spaces
     * (ASCII or U+3000), each at most KW_SEARCH_TERM_MAX bytes; a ticket
     * matches when one of its texts (the title, a public comment, with
     * notes also an internal note) contains every term, case-insensitively
     * for ASCII. Only the newest KW_SEARCH_RANKED matching texts (of the
     * tickets the other filters let through) are ranked: a ticket whose
     * title matches first, then by how many of its texts match, then
     * the one with the newest matching text. Terms of one or two characters
     * (trigram indexes need three) are looked for in the newest
     * KW_SEARCH_SCAN texts only (of org_id's texts, with org_id). With q, rows come in that order,
     * after skipping `offset` of them; by_due, after and after_due are ignored. */
    const char *q;
    bool notes;
    size_t offset;
    /* order (NULL: by id, or by_due): one of KW_TICKET_ORDERS, "-" first
     * for descending, then id; rows come after skipping `offset` of them
     * (after, after_due and by_due are then ignored). Without q only. */
    const char *order;
};
/* The orders of kw_ticket_filter.order: a ticket's id, title, state,
 * level, next deadline (none last), last change and creation. */
#define KW_TICKET_ORDERS "id, title, state, level, due, updated, created"
#define KW_SEARCH_TERMS 6
#define KW_SEARCH_TERM_MAX 200
#define KW_SEARCH_RANKED 2000
#define KW_SEARCH_SCAN 50000
/* Call fn for each ticket that matches (the row is valid during the call);
 * stops early when fn returns false. KW_INVALID (field "/q") for a q with
 * no term, too many terms or a term too long; (field "/sort") for an order
 * that is not one of KW_TICKET_ORDERS. */
enum kw_code kw_store_tickets(struct kw_store *st, const struct kw_ticket_filter *f,
                              bool (*fn)(const struct kw_ticket_row *t, void *ctx), void *ctx,
                              struct kw_err *err);

/* Change the ticket row's level, category, title and region (NULL: keep),
 * assignee and team (0: keep, -1: clear), requester (0: keep). The events
 * saying so are the caller's (and with them the search index: an "edited"
 * event's text is indexed like the created event's). */
struct kw_ticket_patch {
    const char *level, *category, *title, *region;
    int64_t assignee_id, team_id, requester_id;
};
enum kw_code kw_store_ticket_set(struct kw_store *st, int64_t id, const struct kw_ticket_patch *p,
                                 struct kw_err *err);

/* The projection of a ticket's SLA clocks: one row per clock (its status,
 * deadline, and next due instant with the percentage due then, 100 for the
 * breach), and on the ticket its next breach deadline, first breach and
 * fire_at: when the engine should fire its next threshold (the engine's
 * schedule: one second after the threshold's instant, see app/clocks.h).
 * fresh: the ticket has no rows yet (just created). */
struct kw_clock_row {
    const char *metric, *status;
    int64_t deadline, next_due; /* or KW_STORE_NO_TIME */
    int next_pct;
};
enum kw_code kw_store_clocks_put(struct kw_store *st, int64_t ticket, bool fresh,
                                 const struct kw_clock_row *rows, size_t n, int64_t next_due,
                                 int64_t breached_at, int64_t fire_at, struct kw_err *err);

/* The ticket's projected clocks, earliest deadline first. */
enum kw_code kw_store_ticket_clocks(struct kw_store *st, int64_t ticket,
                                    bool (*fn)(const struct kw_clock_row *c, void *ctx), void *ctx,
                                    struct kw_err *err);

/* Tickets whose projected clock of `metric` runs (running or breached),
 * of team team_id (0: any), earliest deadline first, at most limit: fn
 * gets the ticket id and that clock's row. For the call-back desk. */
enum kw_code
kw_store_clock_runs(struct kw_store *st, const char *metric, int64_t team_id, size_t limit,
                    bool (*fn)(int64_t ticket, const struct kw_clock_row *c, void *ctx), void *ctx,
                    struct kw_err *err);

/* Up to max ids after `after` of tickets whose clock projection is older
 * than their last event (written by an older build, or by a tool that
 * appended without projecting); *n gets how many. */
enum kw_code kw_store_stale(struct kw_store *st, int64_t after, size_t max, int64_t *ids, size_t *n,
                            struct kw_err *err);

/* Tickets of commitment version commitment_id with a clock that has not
 * stopped (pending, running, paused or breached): *n gets how many. */
enum kw_code kw_store_clocks_unstopped(struct kw_store *st, int64_t commitment_id, int64_t *n,
                                       struct kw_err *err);
/* Mark those tickets' projection as stale (kw_store_stale finds them), so
 * that they are projected again, by a pass after a calendar they use
 * changed or at the next start. *n gets how many were marked. */
enum kw_code kw_store_clocks_restale(struct kw_store *st, int64_t commitment_id, int64_t *n,
                                     struct kw_err *err);

/* The ticket's current state into buf (cap bytes). KW_NOT_FOUND. */
enum kw_code kw_store_ticket_state(struct kw_store *st, int64_t ticket, char *buf, size_t cap,
                                   struct kw_err *err);

/* ---- users and tokens ----
 *
 * The store keeps what app/auth.h computes: a user's password as an
 * argon2id string (util/kw_crypto.h), a token as its KW_HASH_BYTES digest.
 * No backend hashes, mints or verifies anything; the rules (password
 * length, roles, equal time for unknown e-mails) are app/auth.h's. */

struct kw_user {
    int64_t id, org_id, team_id;     /* 0: none */
    const char *email, *name, *role; /* role: admin, manager, agent, customer */
    const char *skills;              /* a JSON array of strings, or NULL: none */
};

/* Insert a user with password_hash (an argon2id string from
 * kw_password_hash, kept as given; NULL: the user cannot log in).
 * KW_CONFLICT for a taken e-mail, KW_INVALID for a bad e-mail, name or role,
 * KW_NOT_FOUND for an unknown organisation or team. */
enum kw_code kw_store_user_insert(struct kw_store *st, const struct kw_user *u,
                                  const char *password_hash, int64_t now, int64_t *id,
                                  struct kw_err *err);
/* The id and stored password hash of the user with e-mail email; hash is ""
 * for a user without a password. KW_NOT_FOUND for an unknown e-mail. */
enum kw_code kw_store_user_password(struct kw_store *st, const char *email, int64_t *user_id,
                                    char hash[KW_PASSWORD_HASH_BUF], struct kw_err *err);
/* A user as read back (strings valid until the next call on st or
 * kw_store_end_read). */
struct kw_user_row {
    int64_t id, org_id, team_id;
    const char *email, *name, *role, *skills; /* skills: a JSON array */
    const char *lang, *tz;                    /* "zh"/"en" and an IANA zone, or NULL: not set */
    int64_t deactivated_at; /* the person's, or KW_STORE_NO_TIME (0 from older callers) */
    bool active;            /* neither the person nor their organisation is deactivated */
};
/* Read user id. KW_NOT_FOUND. */
enum kw_code kw_store_user_get(struct kw_store *st, int64_t id, struct kw_user_row *out,
                               struct kw_err *err);
/* Users in id order after `after` (org_id: of that organisation, 0: all). */
enum kw_code kw_store_users(struct kw_store *st, int64_t org_id, int64_t after, size_t limit,
                            bool (*fn)(const struct kw_user_row *u, void *ctx), void *ctx,
                            struct kw_err *err);
/* How many users have role (for `keepword init`). */
enum kw_code kw_store_user_count(struct kw_store *st, const char *role, int64_t *n,
                                 struct kw_err *err);

/* Keep a token of kind "session" or "api" for user_id by its digest
 * (kw_token_digest; the token itself is never stored). label may be NULL;
 * expires_at may be KW_STORE_NO_TIME: never. token_id may be NULL. */
enum kw_code kw_store_token_insert(struct kw_store *st, int64_t user_id,
                                   const unsigned char digest[KW_HASH_BYTES], const char *kind,
                                   const char *label, int64_t now, int64_t expires_at,
                                   int64_t *token_id, struct kw_err *err);
/* A user's live API tokens (never the token itself, which is not kept). */
struct kw_token_row {
    int64_t id, created_at, expires_at;
    const char *kind, *label;
};
enum kw_code kw_store_tokens(struct kw_store *st, int64_t user_id, int64_t now,
                             bool (*fn)(const struct kw_token_row *t, void *ctx), void *ctx,
                             struct kw_err *err);
/* Revoke the user's token token_id; KW_NOT_FOUND when it is not theirs. */
enum kw_code kw_store_token_revoke_id(struct kw_store *st, int64_t user_id, int64_t token_id,
                                      int64_t now, struct kw_err *err);
/* The user the token with this digest belongs to, if it is neither expired
 * nor revoked at now and the user (and their organisation) is active;
 * KW_UNAUTHENTICATED otherwise. */
enum kw_code kw_store_token_user(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                 int64_t now, int64_t *user_id, struct kw_err *err);
/* The same, reading the user in one look-up (strings valid until the next
 * call on st or kw_store_end_read). KW_UNAUTHENTICATED otherwise. */
enum kw_code kw_store_token_caller(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                   int64_t now, struct kw_user_row *out, struct kw_err *err);
/* Revoke the token with this digest (logout). Unknown digests are fine. */
enum kw_code kw_store_token_revoke(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                   int64_t now, struct kw_err *err);

/* ---- the live engine ---- */

/* Every ticket with something due, and when: the hints an engine builds
 * its timers from at start (the store stays the authority: what fires is
 * what kw_store_due_claim hands out). */
enum kw_code kw_store_fire_all(struct kw_store *st,
                               bool (*fn)(int64_t ticket, int64_t fire_at, void *ctx), void *ctx,
                               struct kw_err *err);
/* When ticket's next threshold falls due (KW_STORE_NO_TIME: nothing). */
enum kw_code kw_store_fire_at(struct kw_store *st, int64_t ticket, int64_t *fire_at,
                              struct kw_err *err);
/* Hints one kw_store_due_claim looks at; those past them are ignored. */
#define KW_STORE_CLAIM_HINTS 128
/* Claim due work for node (a name for this process): up to limit tickets
 * whose next threshold fell due by now and that no other node holds are
 * marked as node's until now + lease_s; their ids go into tickets, *n gets
 * how many. The hinted tickets (hints, n_hints of them; NULL if none) that
 * are due and free come first, then the others, oldest due first: so
 * each of a node's writers claims what its engine handed that writer, not
 * the next one's. Call inside the transaction that then fires
 * them: a claim ends when that transaction gives the ticket its new
 * schedule (kw_store_clocks_put), or when the lease runs out (the node died
 * first). A node may claim again what it holds. On SQLite one INSERT ...
 * RETURNING in the caller's transaction (one writer at a time anyway); on
 * PostgreSQL the due rows are selected FOR UPDATE SKIP LOCKED, so nodes
 * and writers never wait for, or fire, each other's tickets. */
enum kw_code kw_store_due_claim(struct kw_store *st, int64_t now, int64_t lease_s, const char *node,
                                const int64_t *hints, size_t n_hints, size_t limit,
                                int64_t *tickets, size_t *n, struct kw_err *err);
/* Tickets the open transaction is about to fire (claimed by it with
 * kw_store_due_claim): a backend may read their rows, schedules, chain
 * heads and events now, n at a time, locking the rows as an append would,
 * so that the reads of each that follow (kw_store_fire_at,
 * kw_store_ticket_get, kw_store_events, an append's head) wait for no
 * answer. Each of those reads is served so once, and a write to the
 * ticket, a rollback to a savepoint or the transaction's end forgets what
 * was read; what it returns is what the read itself would have returned.
 * Outside a transaction, and on SQLite (whose reads are local), it does
 * nothing. */
enum kw_code kw_store_prefetch(struct kw_store *st, const int64_t *tickets, size_t n,
                               struct kw_err *err);

/* Where notifications go. kind: webhook, email, dingtalk, feishu, wecom;
 * events: a JSON array of event kinds ("[]": all); org_id, team_id: only
 * that organisation's / team's tickets (0: any). */
struct kw_endpoint {
    int64_t id, org_id, team_id;
    const char *name, *kind, *url, *secret, *events;
    bool active, has_secret;
};
enum kw_code kw_store_endpoint_add(struct kw_store *st, const struct kw_endpoint *e, int64_t now,
                                   int64_t *id, struct kw_err *err);
/* Endpoints not deleted (id: that one only; 0: all), in id order (the
 * secret is never read back: has_secret). */
enum kw_code kw_store_endpoints(struct kw_store *st, int64_t id,
                                bool (*fn)(const struct kw_endpoint *e, void *ctx), void *ctx,
                                struct kw_err *err);
/* Replace endpoint e->id's name, kind, url, events, org, team and active
 * flag; its secret becomes e->secret when that is not NULL, is kept when
 * e->has_secret, else removed. KW_NOT_FOUND (also when deleted). */
enum kw_code kw_store_endpoint_set(struct kw_store *st, const struct kw_endpoint *e,
                                   struct kw_err *err);
/* Delete endpoint id: it is no longer listed and receives nothing, its
 * pending notifications become dead letters ("endpoint deleted") and
 * people's subscriptions to it end; the outbox keeps what was sent. */
enum kw_code kw_store_endpoint_delete(struct kw_store *st, int64_t id, int64_t now,
                                      struct kw_err *err);
/* Queue a "test" notification for endpoint id, due now; *row (may be
 * NULL) gets its outbox id. KW_NOT_FOUND (also when deleted). */
enum kw_code kw_store_endpoint_test(struct kw_store *st, int64_t id, const char *payload,
                                    const char *key, int64_t now, int64_t *row, struct kw_err *err);

/* Queue a notification of kind about ticket for every active endpoint that
 * subscribes to it, due now; key identifies the notification (a second add
 * with the same key and endpoint is ignored). Use inside the transaction
 * that writes the event causing it. */
enum kw_code kw_store_outbox_add(struct kw_store *st, const char *kind, int64_t ticket,
                                 int64_t org_id, int64_t team_id, const char *payload,
                                 const char *key, int64_t now, struct kw_err *err);
/* Queue a notification of kind for person user_id through endpoint_id
 * alone (the weekly and monthly reports: e-mail goes to the person's
 * address), due now, unless one with key was queued for that endpoint
 * before, in any state: *queued (may be NULL) says whether it was. */
enum kw_code kw_store_outbox_person(struct kw_store *st, int64_t endpoint_id, int64_t user_id,
                                    const char *kind, const char *payload, const char *key,
                                    int64_t now, bool *queued, struct kw_err *err);
/* Whether a notification with key was ever queued for endpoint_id. */
enum kw_code kw_store_outbox_has(struct kw_store *st, int64_t endpoint_id, const char *key,
                                 bool *has, struct kw_err *err);
/* Pending notifications due by now, oldest first, with their endpoint. */
struct kw_delivery {
    int64_t id, endpoint_id;
    int attempts;
    const char *kind, *payload, *key, *channel, *url, *secret;
    /* for a person's subscription: who (0: none), their address and team,
     * and their quiet hours (quiet_tz NULL: none) */
    int64_t user_id, user_team;
    const char *user_email, *quiet_tz;
    int32_t quiet_from, quiet_to;
    const char *lang;    /* the person's language, "zh" or "en" (NULL: both) */
    const char *user_tz; /* the person's own zone (NULL: none) */
};
enum kw_code kw_store_outbox_due(struct kw_store *st, int64_t now, size_t limit,
                                 bool (*fn)(const struct kw_delivery *d, void *ctx), void *ctx,
                                 struct kw_err *err);
/* The earliest next attempt of a pending notification (or NO_TIME). */
enum kw_code kw_store_outbox_next(struct kw_store *st, int64_t *next_at, struct kw_err *err);
/* Record an attempt: state "delivered", "pending" (retry at next_at) or
 * "dead"; error may be NULL. Ignored unless the row is pending. */
enum kw_code kw_store_outbox_done(struct kw_store *st, int64_t id, const char *state,
                                  const char *error, int64_t next_at, int64_t now,
                                  struct kw_err *err);
/* The outbox for the API: state (NULL: any), ticket (0: any), id order. */
struct kw_outbox_row {
    int64_t id, endpoint_id, ticket_id, next_at, created_at, delivered_at;
    int attempts;
    const char *kind, *key, *state, *last_error, *payload;
};
enum kw_code kw_store_outbox_list(struct kw_store *st, const char *state, int64_t ticket,
                                  int64_t after, size_t limit,
                                  bool (*fn)(const struct kw_outbox_row *r, void *ctx), void *ctx,
                                  struct kw_err *err);
/* Send a dead notification again from now. KW_NOT_FOUND (also when its
 * endpoint was deleted). */
enum kw_code kw_store_outbox_retry(struct kw_store *st, int64_t id, int64_t now,
                                   struct kw_err *err);

/* ---- on-call rotas (core/oncall.h), one per team and level ---- */

/* Store (or replace) the rota of team_id at level; spec is its JSON. */
enum kw_code kw_store_oncall_put(struct kw_store *st, const char *name, int64_t team_id, int level,
                                 const char *spec, int64_t now, int64_t *id, struct kw_err *err);
struct kw_oncall_row {
    int64_t id, team_id;
    int level;
    const char *name, *spec;
};
/* Rotas of team_id (0: all) at level (0: all), or the one with id (0: any). */
enum kw_code kw_store_oncalls(struct kw_store *st, int64_t team_id, int level, int64_t id,
                              bool (*fn)(const struct kw_oncall_row *r, void *ctx), void *ctx,
                              struct kw_err *err);

/* ---- overruns (超时处理): a breached clock run and what was done ---- */

/* Record that ticket's metric passed its deadline (once per deadline). */
enum kw_code kw_store_overrun_add(struct kw_store *st, int64_t ticket, int64_t org_id,
                                  int64_t commitment_id, const char *metric, int64_t deadline,
                                  int64_t now, struct kw_err *err);
/* The late clock stopped at stopped_at (the overrun is then fixed in size). */
enum kw_code kw_store_overrun_stop(struct kw_store *st, int64_t ticket, const char *metric,
                                   int64_t stopped_at, struct kw_err *err);
struct kw_overrun_row {
    int64_t id, ticket_id, org_id, commitment_id, owner_id;
    int64_t deadline, stopped_at, recorded_at, explained_at, due, done_at; /* or NO_TIME */
    const char *metric, *reason, *note, *rca, *action;
    int64_t loss; /* the loss recorded (minor units), or -1 */
};
/* state: "open" (no reason yet), "explained" (a reason, follow-up not
 * done), "done", or NULL; 0 / NULL fields match anything. */
struct kw_overrun_filter {
    int64_t id, org_id, ticket_id, after;
    const char *metric, *state;
    size_t limit;
};
enum kw_code kw_store_overruns(struct kw_store *st, const struct kw_overrun_filter *f,
                               bool (*fn)(const struct kw_overrun_row *r, void *ctx), void *ctx,
                               struct kw_err *err);
/* The overruns of tickets first_ticket..last_ticket (inclusive) that were
 * given a reason, in (ticket_id, metric as bytes, deadline) order, one
 * query (the service report's breaches: the reason of each late run). Only
 * ticket_id, metric, deadline and reason are set; rows borrowed for fn. */
enum kw_code kw_store_overrun_reasons(struct kw_store *st, int64_t first_ticket,
                                      int64_t last_ticket,
                                      bool (*fn)(const struct kw_overrun_row *r, void *ctx),
                                      void *ctx, struct kw_err *err);
/* The reason category and the note the customer is told. KW_NOT_FOUND. */
enum kw_code kw_store_overrun_explain(struct kw_store *st, int64_t id, const char *reason,
                                      const char *note, int64_t by, int64_t now,
                                      struct kw_err *err);
/* The follow-up: NULL / 0 / NO_TIME fields are kept; done closes it. */
struct kw_overrun_followup {
    const char *rca, *action;
    int64_t owner_id, due;
    bool done;
};
enum kw_code kw_store_overrun_follow(struct kw_store *st, int64_t id,
                                     const struct kw_overrun_followup *f, int64_t now,
                                     struct kw_err *err);

/* ---- the watch list (服务黑名单), accident levels and the audit trail
 * (docs/policy.md "The watch list", "Accident levels", "The audit trail") ---- */

/* The deployment's settings: overruns within window_months flag an
 * organisation; the smallest recorded loss (minor units) of each accident
 * level, 0 where a level is not given by amount. */
struct kw_watch_settings {
    int64_t overruns, window_months;
    int64_t accident_major, accident_serious, accident_general;
};
enum kw_code kw_store_watch_settings(struct kw_store *st, struct kw_watch_settings *out,
                                     struct kw_err *err);
/* Replace the settings (checking them is the caller's). */
enum kw_code kw_store_watch_settings_put(struct kw_store *st, const struct kw_watch_settings *s,
                                         struct kw_err *err);
/* How many overruns of org_id count toward the watch list at now: a
 * deadline in [from, now] and after the organisation's last cleared flag
 * (*since gets max(from, that clearing)), the reason not "customer". */
enum kw_code kw_store_watch_count(struct kw_store *st, int64_t org_id, int64_t from, int64_t now,
                                  int64_t *n, int64_t *since, struct kw_err *err);
/* A flag on an organisation; cleared_at NO_TIME (cleared_by 0, reason
 * NULL) while it is open. Strings lent during the callback. */
struct kw_watch_flag {
    int64_t id, org_id, flagged_at, ticket_id, overrun_id, overruns, window_from;
    int64_t cleared_at, cleared_by;
    const char *reason, *org_name;
};
/* Raise f's flag unless org_id has an open one (*id then 0), and write a
 * "watch_list" in-app notification (detail: the organisation's name) about
 * f->ticket_id for the organisation's account manager and every active
 * manager. */
enum kw_code kw_store_watch_flag(struct kw_store *st, const struct kw_watch_flag *f, int64_t *id,
                                 struct kw_err *err);
/* Clear org_id's open flag by user by with reason at now; *id: the flag.
 * KW_NOT_FOUND when there is no open flag. */
enum kw_code kw_store_watch_clear(struct kw_store *st, int64_t org_id, int64_t by,
                                  const char *reason, int64_t now, int64_t *id, struct kw_err *err);
/* Flags of org_id (0: all), only open ones with open_only, newest first. */
enum kw_code kw_store_watch_flags(struct kw_store *st, int64_t org_id, bool open_only,
                                  bool (*fn)(const struct kw_watch_flag *f, void *ctx), void *ctx,
                                  struct kw_err *err);
/* Record the loss (minor units, >= 0; -1 removes it) on overrun id.
 * KW_NOT_FOUND. */
enum kw_code kw_store_overrun_loss(struct kw_store *st, int64_t id, int64_t loss, int64_t by,
                                   int64_t now, struct kw_err *err);
/* The loss recorded on overrun id: *loss -1 when none. KW_NOT_FOUND. */
enum kw_code kw_store_overrun_loss_get(struct kw_store *st, int64_t id, int64_t *loss,
                                       struct kw_err *err);

/* An administrative change: kind (what was changed: "calendar",
 * "commitment", "rota", "endpoint", "user", "organisation", "contract",
 * "credit", "watch_list", "settings"), object (its id, 0: none), action
 * ("create", "update", "delete", ...), before and after (JSON texts or
 * NULL), by actor at at. The store chains it (one deployment-wide chain,
 * hashed as a ticket event with organisation 0 and the change's seq) and
 * appends the hash to the Merkle log, in the caller's transaction. */
struct kw_audit_row {
    int64_t id, actor, object, at;
    const char *kind, *action, *before, *after;
    unsigned char hash[KW_HASH_BYTES];
};
enum kw_code kw_store_audit_append(struct kw_store *st, const struct kw_audit_row *a, int64_t *id,
                                   struct kw_err *err);
/* Recompute the audit trail's hash chain; KW_CONFLICT naming the first
 * entry whose hash does not match (changed, removed or reordered). *n: how
 * many entries were checked. */
enum kw_code kw_store_audit_verify(struct kw_store *st, int64_t *n, struct kw_err *err);
/* The stored row of an administrative object as a JSON object text (the
 * caller frees it), for an audit entry's before and after: kind
 * "calendar" (by name), "commitment", "rota", "endpoint", "user",
 * "organisation", "contract" or "team" (by id). Secrets are left out (a
 * password's hash, an endpoint's secret and its URL's query); JSON texts
 * (a calendar's spec, a commitment's document) are nested as JSON. *json
 * NULL when there is no such row; KW_INVALID for another kind. */
enum kw_code kw_store_audit_row(struct kw_store *st, const char *kind, int64_t id, const char *name,
                                char **json, struct kw_err *err);
/* Changes of kind (NULL: all) by actor (0: anyone) with at in [from, to),
 * id < before (0: from the newest), newest first, at most limit. */
struct kw_audit_filter {
    const char *kind;
    int64_t actor, from, to, before;
    size_t limit;
};
enum kw_code kw_store_audit(struct kw_store *st, const struct kw_audit_filter *f,
                            bool (*fn)(const struct kw_audit_row *a, void *ctx), void *ctx,
                            struct kw_err *err);

/* ---- KPI facts: one row per run of each clock (docs/kpi.md) ---- */

/* A clock run as the facts keep it. A stopped run (stopped_at set) is fixed;
 * an open one is measured as of measured_at: working and wall elapsed,
 * paused wall time, status and deadline then. The dimensions are the
 * ticket's at the stop (or at measured_at). Strings borrowed in, lent out. */
struct kw_run_row {
    int64_t ticket_id, run, org_id, commitment_id; /* run: from 0 per metric; commitment 0: none */
    const char *metric, *status;                   /* status: a clock status (sla.h) */
    int64_t started_at, stopped_at, deadline, breached_at; /* or KW_STORE_NO_TIME */
    int64_t target, working, wall, paused_wall;            /* seconds */
    int64_t measured_at;
    int64_t steady_from;          /* open: no event of its ticket since, so it ran (or stood
                                   * still) from then to measured_at; stopped: it ran with no
                                   * event of its ticket from then to its stop, or its stop */
    int64_t team_id, assignee_id; /* 0: none */
    const char *calendar, *level, *tier, *organisation, *category, *region, *channel; /* or NULL */
};
/* Replace ticket's runs by rows[0..n); org_id and commitment_id are taken
 * from the ticket. Call in the transaction that projects its clocks. fresh:
 * the ticket has no runs yet (just created), so none are looked for. A
 * write that changes a stored run also notes the ticket in the change log
 * (kw_store_changes_since), so a copy of the runs kept in memory
 * (app/kpi_cache.h) sees it, however the projection came about. */
enum kw_code kw_store_runs_put(struct kw_store *st, int64_t ticket, bool fresh,
                               const struct kw_run_row *rows, size_t n, struct kw_err *err);
/* The runs that may count in [from, to) (docs/kpi.md): stopped in it, or
 * breached in it and not stopped before to, or open without a recorded
 * breach and a deadline in it before now (the breach not fired yet); of
 * org_id's tickets (0: all). With ticket != 0: all that ticket's runs
 * instead. In (ticket, metric, run) order, or with any_order in whatever
 * order the store reads them fastest (a caller whose figures do not depend
 * on it); the row lives during fn. */
struct kw_run_filter {
    int64_t from, to, now, org_id, ticket;
    bool any_order;
    /* all: instead, every run of the tickets after after_ticket, in
     * (ticket, metric, run) order, at most limit of them (0: no limit); a
     * caller paging on tickets drops the last ticket of a full page */
    bool all;
    int64_t after_ticket;
    size_t limit;
};
enum kw_code kw_store_runs(struct kw_store *st, const struct kw_run_filter *f,
                           bool (*fn)(const struct kw_run_row *r, void *ctx), void *ctx,
                           struct kw_err *err);

/* Tickets for the KPI ticket counts and ratings (docs/kpi.md), each with
 * the ticket's current attributes: created in [from, to) (at: when);
 * resolved (a "resolved" milestone), reopened, rated in [from, to) (at: the
 * event's instant, one row per event; rated: satisfaction 1-5 and nps 0-10
 * or -1); open at `to` (created before it and, by the events before it, in
 * registered, analysing, handling or waiting_customer: at is created_at).
 * In ticket order, then time; org_id 0: all organisations. */
enum kw_ticket_fact {
    KW_TF_CREATED,
    KW_TF_RESOLVED,
    KW_TF_REOPENED,
    KW_TF_RATED,
    KW_TF_OPEN,
    KW_TF_TIME /* time entries recorded in the period, as corrected (docs/kpi.md) */
};
struct kw_ticket_fact_row {
    int64_t ticket_id, org_id, commitment_id, team_id, assignee_id, at;
    int satisfaction, nps;
    /* KW_TF_TIME: the entry's seconds (its latest correction's, if any) and
     * the team it was recorded for (0: none); else 0 */
    int64_t seconds, entry_team_id;
    int64_t as_of; /* kw_store_ticket_backlog: the end it is open at; else 0 */
    const char *level, *tier, *organisation, *category, *region, *channel; /* or NULL */
    /* 0 from the store; from the facts kept in memory (app/kpi_cache.h),
     * 1 + the id of the ticket's attributes as interned there (the shape
     * of kw_kpi_cache_runs_shaped: equal ids, equal attributes and ids) */
    uint32_t shape;
};
enum kw_code kw_store_ticket_facts(struct kw_store *st, enum kw_ticket_fact kind, int64_t from,
                                   int64_t to, int64_t org_id,
                                   bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                   void *ctx, struct kw_err *err);

/* Write the tickets' KPI facts (kpi_resolved, kpi_states: the resolved
 * milestones, the state after each state or reopened event) again from
 * the events, in the caller's transaction (`keepword kpi rebuild`). */
enum kw_code kw_store_resolved_rebuild(struct kw_store *st, struct kw_err *err);
/* The tickets open at each of ends[0..n) (KW_TF_OPEN's rows at each end:
 * as_of says which, at is created_at), in one pass over the tickets instead
 * of one per end; in ticket order, then the order of ends. n <= 400. */
#define KW_BACKLOG_ENDS_MAX 400
enum kw_code kw_store_ticket_backlog(struct kw_store *st, const int64_t *ends, size_t n,
                                     int64_t org_id,
                                     bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                     void *ctx, struct kw_err *err);

/* The tickets after ticket id `after` (at most limit of them, by id) with
 * the states after their state and reopened events (kpi_states), for a copy
 * kept in memory (app/kpi_cache.h): one row per state in (ticket, seq)
 * order, and one row for a ticket without any (state_at KW_STORE_NO_TIME).
 * t is as KW_TF_CREATED gives it (at: created_at); open: the ticket's
 * state now is open (registered, analysing, handling, waiting_customer);
 * state_open: the state after that event is, or is NULL (then counted as
 * registered, as kw_store_ticket_backlog does). */
struct kw_ticket_state_row {
    struct kw_ticket_fact_row t;
    int64_t updated_at, state_at;
    bool open, state_open;
};
enum kw_code kw_store_ticket_states(struct kw_store *st, int64_t after, size_t limit,
                                    bool (*fn)(const struct kw_ticket_state_row *r, void *ctx),
                                    void *ctx, struct kw_err *err);

/* A ticket's dated KPI facts, for a copy kept in memory (app/kpi_cache.h):
 * its resolved milestones, reopenings, ratings (satisfaction 1-5, nps 0-10
 * or -1) and time entries (seconds as last corrected, the entry's team, 0:
 * none; corrections are no entries), each with its event's seq and
 * instant, exactly the rows kw_store_ticket_facts gives for these kinds
 * (without the ticket's attributes). ticket != 0: that ticket's, in
 * (kind, at, seq) order; ticket 0: every ticket's, in no order (one pass
 * over each kind's index, for a load). The row lives during fn. */
struct kw_ticket_mark_row {
    int64_t ticket_id, seq, at;
    enum kw_ticket_fact kind; /* KW_TF_RESOLVED, _REOPENED, _RATED or _TIME */
    int satisfaction, nps;    /* rated; else 0, -1 */
    int64_t seconds, team_id; /* time; else 0 */
};
enum kw_code kw_store_ticket_marks(struct kw_store *st, int64_t ticket,
                                   bool (*fn)(const struct kw_ticket_mark_row *r, void *ctx),
                                   void *ctx, struct kw_err *err);

/* ---- team costs (time accounting, docs/kpi.md) ---- */

/* A team's hourly cost: minor units of currency (ISO 4217, 3 letters). */
struct kw_team_cost {
    int64_t team_id, hourly_minor, set_at, set_by;
    const char *team, *currency; /* currency NULL: no cost set */
};
/* Set team_id's hourly cost (hourly_minor >= 0, currency 3 capital
 * letters), or clear it (currency NULL). KW_NOT_FOUND for an unknown team. */
enum kw_code kw_store_team_cost_set(struct kw_store *st, int64_t team_id, int64_t hourly_minor,
                                    const char *currency, int64_t by, int64_t now,
                                    struct kw_err *err);
/* Every team with its cost (none set: currency NULL), by name. */
enum kw_code kw_store_team_costs(struct kw_store *st,
                                 bool (*fn)(const struct kw_team_cost *r, void *ctx), void *ctx,
                                 struct kw_err *err);

/* ---- people's subscriptions ---- */

/* A person's own subscription: notifications of the kinds in events ("[]":
 * all), of org_id's / team_id's tickets (0: any), through endpoint_id (its
 * channel; e-mail goes to the person's address), held back during quiet
 * hours (local seconds since midnight in quiet_tz; to <= from runs past
 * midnight) unless the person is on call. One per person and endpoint. */
struct kw_subscription {
    int64_t id, user_id, endpoint_id, org_id, team_id;
    const char *events, *quiet_tz;
    int32_t quiet_from, quiet_to;
    const char *lang; /* "zh", "en" or NULL: both */
};
enum kw_code kw_store_subscription_put(struct kw_store *st, const struct kw_subscription *s,
                                       int64_t now, int64_t *id, struct kw_err *err);
/* user_id 0: everyone's. */
enum kw_code kw_store_subscriptions(struct kw_store *st, int64_t user_id,
                                    bool (*fn)(const struct kw_subscription *s, void *ctx),
                                    void *ctx, struct kw_err *err);
/* Delete subscription id (of user_id, or anyone's with 0). KW_NOT_FOUND. */
enum kw_code kw_store_subscription_delete(struct kw_store *st, int64_t id, int64_t user_id,
                                          struct kw_err *err);
/* Hold a pending notification back until next_at (quiet hours). */
enum kw_code kw_store_outbox_postpone(struct kw_store *st, int64_t id, int64_t next_at,
                                      struct kw_err *err);

/* ---- people and organisations: edits and deactivation ---- */

/* Change user id: NULL strings and 0 ids keep what is there; team_id -1
 * and lang or tz "" clear. skills: a JSON array's text. The values are
 * checked as kw_store_user_insert checks them (KW_INVALID, KW_CONFLICT for
 * a taken e-mail, KW_NOT_FOUND for an unknown team); KW_NOT_FOUND for an
 * unknown user. Whether lang and tz are languages and zones is the
 * caller's to check. */
struct kw_user_patch {
    const char *email, *name, *role, *skills, *lang, *tz;
    int64_t team_id;
};
enum kw_code kw_store_user_set(struct kw_store *st, int64_t id, const struct kw_user_patch *p,
                               struct kw_err *err);
/* Deactivate user id at now (active false): it is marked, and every token
 * it holds (sessions and API tokens) is revoked in the same transaction;
 * or activate it again (its old tokens stay revoked). Nothing is deleted.
 * *changed (may be NULL): whether it was not so already. KW_NOT_FOUND. */
enum kw_code kw_store_user_activate(struct kw_store *st, int64_t id, bool active, int64_t now,
                                    bool *changed, struct kw_err *err);
/* Replace user id's password hash (an argon2id string) and revoke its
 * session tokens but the one with digest keep (may be NULL: all of them);
 * API tokens stay. KW_NOT_FOUND. */
enum kw_code kw_store_user_password_set(struct kw_store *st, int64_t id, const char *password_hash,
                                        const unsigned char *keep, int64_t now, struct kw_err *err);
/* Change organisation id: NULL strings and a 0 id keep, "" and -1 clear
 * (tier, region, calendar; account_manager_id). The name must stay unique
 * (KW_CONFLICT); an unknown account manager is KW_NOT_FOUND at
 * "/account_manager_id". Checking values against commitments and calendars
 * is the caller's. KW_NOT_FOUND for an unknown organisation. */
struct kw_org_patch {
    const char *name, *tier, *region, *calendar;
    int64_t account_manager_id;
};
enum kw_code kw_store_org_set(struct kw_store *st, int64_t id, const struct kw_org_patch *p,
                              struct kw_err *err);
/* Deactivate organisation id at now (active false), or activate it again:
 * its customers' tokens do not work meanwhile (they are not revoked).
 * *changed as for users. KW_NOT_FOUND. */
enum kw_code kw_store_org_activate(struct kw_store *st, int64_t id, bool active, int64_t now,
                                   bool *changed, struct kw_err *err);

/* ---- attachments: files on tickets ----
 *
 * An attachment is its bytes and a row saying what they are; both are
 * written once and never changed or deleted. The ticket's `attachment`
 * event (the caller's, in the same unit) records the same SHA-256 in the
 * hash chain. The SQLite backend keeps the bytes as a blob beside the row;
 * another backend may keep them elsewhere behind these calls. */
#define KW_SHA256_BYTES 32
struct kw_attachment_new {
    int64_t ticket, created_by, at;
    int64_t comment_seq;             /* the comment event it belongs to, or 0: the ticket's */
    const char *name, *content_type; /* the file name as given; the sniffed type */
    const char *declared_type;       /* the Content-Type sent, or NULL */
    bool internal;                   /* for the provider's eyes only */
    const void *data;                /* size bytes, borrowed */
    size_t size;
    unsigned char sha256[KW_SHA256_BYTES];
};
/* Store a new attachment; *id gets its id. KW_NOT_FOUND for an unknown
 * ticket. */
enum kw_code kw_store_attachment_add(struct kw_store *st, const struct kw_attachment_new *a,
                                     int64_t *id, struct kw_err *err);
/* An attachment as read back (strings valid until the next call on st or
 * kw_store_end_read). */
struct kw_attachment_row {
    int64_t id, ticket_id, comment_seq, size, created_by, created_at;
    const char *name, *content_type, *declared_type; /* declared_type may be NULL */
    bool internal;
    unsigned char sha256[KW_SHA256_BYTES];
};
/* Read attachment id (not its bytes). KW_NOT_FOUND. */
enum kw_code kw_store_attachment_get(struct kw_store *st, int64_t id, struct kw_attachment_row *out,
                                     struct kw_err *err);
/* The ticket's attachments in id order; internal ones only with
 * with_internal. */
enum kw_code kw_store_attachments(struct kw_store *st, int64_t ticket, bool with_internal,
                                  bool (*fn)(const struct kw_attachment_row *a, void *ctx),
                                  void *ctx, struct kw_err *err);
/* How many attachments the ticket has and their bytes in all. */
enum kw_code kw_store_attachment_total(struct kw_store *st, int64_t ticket, int64_t *count,
                                       int64_t *bytes, struct kw_err *err);
/* The bytes of attachment id into *data (caller frees with free(); a
 * 0-byte file gives a 1-byte allocation) and *size. KW_NOT_FOUND. */
enum kw_code kw_store_attachment_data(struct kw_store *st, int64_t id, void **data, size_t *size,
                                      struct kw_err *err);

/* ---- saved views of the ticket list ----
 *
 * A view is a person's (team_id 0) or shared with a team (team_id): its
 * name (unique per owner), the list's filters (a JSON object's text), the
 * columns shown (a JSON array's text) and the sort (NULL: the default).
 * Whether the values mean anything, and who may do what, is the caller's. */
struct kw_view {
    int64_t id, owner_id, team_id, created_at, updated_at;
    const char *name, *filters, *columns, *sort;
};
/* Store a new view at v->created_at; *id gets its id. KW_CONFLICT at
 * "/name" when the owner has a view of that name; KW_NOT_FOUND at
 * "/team_id" for an unknown team. */
enum kw_code kw_store_view_insert(struct kw_store *st, const struct kw_view *v, int64_t *id,
                                  struct kw_err *err);
/* Replace view v->id's name, team, filters, columns and sort (updated_at
 * from v). KW_NOT_FOUND, KW_CONFLICT and the team as for insert. */
enum kw_code kw_store_view_update(struct kw_store *st, const struct kw_view *v, struct kw_err *err);
/* Delete view id. KW_NOT_FOUND. */
enum kw_code kw_store_view_delete(struct kw_store *st, int64_t id, struct kw_err *err);
/* Read view id (strings valid until the next call on st). KW_NOT_FOUND. */
enum kw_code kw_store_view_get(struct kw_store *st, int64_t id, struct kw_view *out,
                               struct kw_err *err);
/* The views of owner and those shared with team (0: none), or with
 * all_shared every shared view, by name then id. */
enum kw_code kw_store_views(struct kw_store *st, int64_t owner, int64_t team, bool all_shared,
                            bool (*fn)(const struct kw_view *v, void *ctx), void *ctx,
                            struct kw_err *err);
/* How many views owner has. */
enum kw_code kw_store_view_count(struct kw_store *st, int64_t owner, int64_t *n,
                                 struct kw_err *err);

/* ---- in-app notifications ----
 *
 * Written by the store in the transaction that appends the event, however
 * it is appended: "assigned" for the person a ticket is assigned to (not
 * when they assign themselves), "sla_warning" and "sla_breach" for the
 * ticket's assignee and the staff who watch it, "customer_reply" for them
 * when a customer adds a public comment; for the ticket's watchers but the
 * author, "comment" for any other comment (customers: public ones only)
 * and "state" for a move or reopen. detail: the metric, the comment's first
 * 200 characters, the new state (NULL for assigned). A customer's list
 * holds only their organisation's tickets. */
struct kw_notification {
    int64_t id, user_id, ticket_id, seq, actor_id, at, read_at; /* read_at NO_TIME: unread */
    const char *kind, *detail, *title;                          /* title: the ticket's */
};
/* user's notifications, newest first, older than before (0: from the
 * newest); only unread ones with unread_only; up to limit. */
enum kw_code kw_store_notifications(struct kw_store *st, int64_t user, bool unread_only,
                                    int64_t before, size_t limit,
                                    bool (*fn)(const struct kw_notification *n, void *ctx),
                                    void *ctx, struct kw_err *err);
/* How many of user's notifications are unread. */
enum kw_code kw_store_notification_unread(struct kw_store *st, int64_t user, int64_t *n,
                                          struct kw_err *err);
/* Mark user's notifications ids[0..n) read at now (n 0: every unread one);
 * ids that are not user's are left alone. *changed: how many were marked. */
enum kw_code kw_store_notifications_read(struct kw_store *st, int64_t user, const int64_t *ids,
                                         size_t n, int64_t now, int64_t *changed,
                                         struct kw_err *err);
/* ---- watchers: people who follow a ticket (docs/policy.md "Watchers") ----
 *
 * Who may watch which ticket is the caller's (app/watchers.c). The store
 * writes the watchers' notifications with the events (above: "comment",
 * "state", and the staff among them also the assignee's kinds but
 * "assigned"). Strings lent out during the callback. */
struct kw_watcher {
    int64_t ticket_id, user_id, added_by, at, org_id; /* org_id: the person's (0: staff) */
    const char *name, *role;
};
/* user watches ticket from at, added by added_by; *added is false (and
 * nothing changes) when they watch it already. */
enum kw_code kw_store_watcher_add(struct kw_store *st, int64_t ticket, int64_t user,
                                  int64_t added_by, int64_t at, bool *added, struct kw_err *err);
/* user no longer watches ticket; *removed is false when they did not. */
enum kw_code kw_store_watcher_remove(struct kw_store *st, int64_t ticket, int64_t user,
                                     bool *removed, struct kw_err *err);
/* ticket's watchers, in the order they began watching. */
enum kw_code kw_store_watchers(struct kw_store *st, int64_t ticket,
                               bool (*fn)(const struct kw_watcher *w, void *ctx), void *ctx,
                               struct kw_err *err);
/* How many watch ticket. */
enum kw_code kw_store_watcher_count(struct kw_store *st, int64_t ticket, int64_t *n,
                                    struct kw_err *err);

/* ---- links between tickets, merges, canned replies ----
 *
 * One link per pair of tickets: a duplicate (from the duplicate to its
 * original), related (no direction), or merged (from a duplicate merged
 * into its original; never removed). Who may link what, and the events on
 * both tickets, are the caller's (app/links.c). */
struct kw_link_row {
    int64_t ticket_id; /* the ticket at the other end */
    int64_t org_id, created_by, at;
    /* as seen from the ticket asked about: "duplicate_of", "duplicated_by",
     * "related", "merged_into", "merged_from" */
    const char *link;
    const char *title, *state; /* the other ticket's */
};
/* Link from -> to as kind ("duplicate", "related" or "merged"; related is
 * stored either way round). KW_CONFLICT at "/ticket" when the two are
 * linked already, either way; KW_NOT_FOUND for an unknown ticket. */
enum kw_code kw_store_link_add(struct kw_store *st, int64_t from, int64_t to, const char *kind,
                               int64_t by, int64_t at, struct kw_err *err);
/* Remove the duplicate or related link between a and b, either way;
 * *removed false when there was none. KW_CONFLICT for a merge. */
enum kw_code kw_store_link_remove(struct kw_store *st, int64_t a, int64_t b, bool *removed,
                                  struct kw_err *err);
/* The ticket's links, the other ticket's id order (strings lent during the
 * callback). */
enum kw_code kw_store_links(struct kw_store *st, int64_t ticket,
                            bool (*fn)(const struct kw_link_row *l, void *ctx), void *ctx,
                            struct kw_err *err);
/* A copy of attachment id (its row and bytes) on ticket, belonging to its
 * comment comment_seq (0: the ticket's), added by `by` at `at`: what a
 * merge moves. *new_id gets the copy's id. KW_NOT_FOUND. */
enum kw_code kw_store_attachment_copy(struct kw_store *st, int64_t id, int64_t ticket,
                                      int64_t comment_seq, int64_t by, int64_t at, int64_t *new_id,
                                      struct kw_err *err);

/* A team's canned reply: its name (unique in the team) and its text in
 * Chinese and English, placeholders kept as written (app/canned.h). */
struct kw_canned {
    int64_t id, team_id, created_by, created_at, updated_at;
    const char *name, *body_zh, *body_en;
    const char *team; /* read back: the team's name */
};
/* Store a new reply at c->created_at; *id gets its id. KW_CONFLICT at
 * "/name" for a name the team has, KW_NOT_FOUND at "/team_id". */
enum kw_code kw_store_canned_insert(struct kw_store *st, const struct kw_canned *c, int64_t *id,
                                    struct kw_err *err);
/* Replace reply c->id's team, name and texts (updated_at from c). As
 * insert, and KW_NOT_FOUND for an unknown reply. */
enum kw_code kw_store_canned_update(struct kw_store *st, const struct kw_canned *c,
                                    struct kw_err *err);
/* Delete reply id. KW_NOT_FOUND. */
enum kw_code kw_store_canned_delete(struct kw_store *st, int64_t id, struct kw_err *err);
/* Read reply id (strings valid until the next call on st). KW_NOT_FOUND. */
enum kw_code kw_store_canned_get(struct kw_store *st, int64_t id, struct kw_canned *out,
                                 struct kw_err *err);
/* The replies of team (0: every team's), by team then name. */
enum kw_code kw_store_canned_list(struct kw_store *st, int64_t team,
                                  bool (*fn)(const struct kw_canned *c, void *ctx), void *ctx,
                                  struct kw_err *err);

/* ---- contracts and the credit ledger (docs/policy.md "Contracts") ----
 *
 * A contract of an organisation: value per billing period in minor units
 * of currency (three capital letters), the period [period_start,
 * period_end), billing "monthly" or "annual", the commitment it follows
 * (0: none), the deposit required (deposit_percent of value, or
 * deposit_amount; -1: not that one) and held, and dual_above: a manual
 * adjustment of more than this (either sign) needs a second manager.
 * Checking the values is the caller's (app/ledger.c). Strings borrowed in,
 * lent out during the callback. */
struct kw_contract {
    int64_t id, org_id, commitment_id;
    int64_t value;
    const char *currency, *billing;
    int64_t period_start, period_end;
    int64_t deposit_percent, deposit_amount, deposit_held, dual_above;
    int64_t created_at, updated_at;
};
/* Insert c (its id is ignored); *id gets the new one. */
enum kw_code kw_store_contract_insert(struct kw_store *st, const struct kw_contract *c, int64_t now,
                                      int64_t *id, struct kw_err *err);
/* Replace every field of contract c->id but the organisation. KW_NOT_FOUND. */
enum kw_code kw_store_contract_update(struct kw_store *st, const struct kw_contract *c, int64_t now,
                                      struct kw_err *err);
/* Contracts of org_id (0: all; id != 0: only that one), id > after, at
 * most limit, in id order. */
enum kw_code kw_store_contracts(struct kw_store *st, int64_t id, int64_t org_id, int64_t after,
                                size_t limit, bool (*fn)(const struct kw_contract *c, void *ctx),
                                void *ctx, struct kw_err *err);
/* The id of the contract of org_id in force at t (period_start <= t <
 * period_end, the latest started), 0 when there is none. */
enum kw_code kw_store_contract_at(struct kw_store *st, int64_t org_id, int64_t t, int64_t *id,
                                  struct kw_err *err);

/* A ledger entry. kind: "accrual", "adjustment", "claim", "settlement" or
 * "remedy"; amount in minor units (credits owed are positive, a claim or
 * settlement the amount claimed or settled); quantity for a remedy; body:
 * the entry's canonical JSON (core/chain.h), made by the caller. The store
 * gives it the next seq of the organisation's chain, hashes it as a ticket
 * event is hashed (the organisation in the ticket's place, kind as the
 * type) and appends the hash to the Merkle log, in the caller's
 * transaction. */
struct kw_ledger_row {
    int64_t id, org_id, seq, contract_id, ticket_id, overrun_id, actor, approved_by, at;
    const char *kind, *body;
    const char *against; /* a settlement's: "invoice" or "deposit"; else NULL */
    int64_t amount, quantity;
    unsigned char hash[KW_HASH_BYTES];
};
enum kw_code kw_store_ledger_append(struct kw_store *st, const struct kw_ledger_row *e, int64_t *id,
                                    struct kw_err *err);
/* Entries of contract_id (0: any) of org_id (0: any), overrun_id (0: any),
 * with at in [from, to), id > after, at most limit, in id order. */
struct kw_ledger_filter {
    int64_t org_id, contract_id, overrun_id, after, from, to;
    size_t limit;
};
enum kw_code kw_store_ledger(struct kw_store *st, const struct kw_ledger_filter *f,
                             bool (*fn)(const struct kw_ledger_row *e, void *ctx), void *ctx,
                             struct kw_err *err);
/* Sums of a contract's entries: credits (accruals and adjustments) on
 * ticket (0: all tickets) and in [from, to); claimed; settled against the
 * deposit ("deposit") or all settled. */
struct kw_ledger_sums {
    int64_t credits, claimed, settled, from_deposit;
};
enum kw_code kw_store_ledger_sums(struct kw_store *st, int64_t contract_id, int64_t ticket,
                                  int64_t from, int64_t to, struct kw_ledger_sums *out,
                                  struct kw_err *err);
/* Recompute the ledger chain of organisation org_id (0: every
 * organisation's); KW_CONFLICT naming the first entry whose hash does not
 * match. out (may be NULL) gets the entries checked and the hash of the
 * last one (all zero when there are none), also when the check fails. */
struct kw_ledger_check {
    int64_t entries;
    unsigned char head[32]; /* KW_HASH_BYTES */
};
enum kw_code kw_store_ledger_verify(struct kw_store *st, int64_t org_id,
                                    struct kw_ledger_check *out, struct kw_err *err);

/* The billing periods closed (docs/policy.md "The credit ledger"): one row
 * per contract and period end, unique. _add records contract's period
 * ending at period_end as closed at closed_at by by (a name) with entries
 * written; *first is false (and nothing changes) when it was recorded
 * already. _count sets the entries of a recorded one. _last gives the
 * latest period end recorded for contract (KW_STORE_NO_TIME: none). */
enum kw_code kw_store_period_close_add(struct kw_store *st, int64_t contract, int64_t period_end,
                                       int64_t closed_at, const char *by, int64_t entries,
                                       bool *first, struct kw_err *err);
enum kw_code kw_store_period_close_count(struct kw_store *st, int64_t contract, int64_t period_end,
                                         int64_t entries, struct kw_err *err);
enum kw_code kw_store_period_close_last(struct kw_store *st, int64_t contract, int64_t *period_end,
                                        struct kw_err *err);

/* An adjustment waiting for a second manager (双签). */
struct kw_ledger_request {
    int64_t id, contract_id, amount, ticket_id, requested_by, requested_at;
    int64_t decided_by, decided_at, entry_id; /* 0 / NO_TIME while pending */
    int approved;                             /* -1 pending, 0 refused, 1 approved */
    const char *reason;
};
enum kw_code kw_store_ledger_request_add(struct kw_store *st, const struct kw_ledger_request *r,
                                         int64_t *id, struct kw_err *err);
/* Requests of contract_id (0: all), id (0: all), pending only, in id order. */
enum kw_code kw_store_ledger_requests(struct kw_store *st, int64_t id, int64_t contract_id,
                                      bool pending,
                                      bool (*fn)(const struct kw_ledger_request *r, void *ctx),
                                      void *ctx, struct kw_err *err);
/* Decide request id once: KW_CONFLICT when it was decided already. */
enum kw_code kw_store_ledger_request_decide(struct kw_store *st, int64_t id, int64_t by,
                                            bool approved, int64_t entry_id, int64_t now,
                                            struct kw_err *err);

/* ---- monitoring intake: alert sources and their alerts ---- */

/* An alert source (docs/channels.md): kind "alertmanager", "grafana" or
 * "events"; found by its key's digest (kw_token_digest); it acts for
 * acting_user. team_id 0 and category NULL: none by default. rules: a JSON
 * array (app/intake.h checks it). on_resolve "restored" or "comment". */
struct kw_intake_source {
    int64_t id, acting_user, org_id, team_id, per_minute, created_at;
    const char *name, *kind, *category, *level, *rules, *on_resolve;
    bool active;
};
/* Insert s (its id is ignored) with the key's digest; *id gets the new id.
 * KW_CONFLICT for a name in use, KW_NOT_FOUND for an unknown org or team. */
enum kw_code kw_store_intake_insert(struct kw_store *st, const struct kw_intake_source *s,
                                    const unsigned char digest[KW_HASH_BYTES], int64_t *id,
                                    struct kw_err *err);
/* The source with this key digest, or with this id (digest NULL); strings
 * valid until the next call on st. KW_NOT_FOUND. */
enum kw_code kw_store_intake_get(struct kw_store *st, const unsigned char *digest, int64_t id,
                                 struct kw_intake_source *out, struct kw_err *err);
/* Every source in id order. */
enum kw_code kw_store_intakes(struct kw_store *st,
                              bool (*fn)(const struct kw_intake_source *s, void *ctx), void *ctx,
                              struct kw_err *err);
/* Stop source id (its key is refused from then on). KW_NOT_FOUND. */
enum kw_code kw_store_intake_deactivate(struct kw_store *st, int64_t id, struct kw_err *err);
/* Replace what a manager may edit of source s->id: name, org_id, team_id,
 * category, level, rules, on_resolve, per_minute (its kind and key stay).
 * KW_NOT_FOUND, KW_CONFLICT for a name in use. */
enum kw_code kw_store_intake_update(struct kw_store *st, const struct kw_intake_source *s,
                                    struct kw_err *err);
/* Give source id a new key (its digest): the old key is refused from then
 * on. KW_NOT_FOUND. */
enum kw_code kw_store_intake_rekey(struct kw_store *st, int64_t id,
                                   const unsigned char digest[KW_HASH_BYTES], struct kw_err *err);

/* One dedup key of a source: the ticket it opened, whether the alert is
 * open there, how many repeats it had. */
struct kw_alert_row {
    int64_t ticket_id, repeats, updated_at;
    bool open;
};
/* KW_NOT_FOUND when the source never saw the key. */
enum kw_code kw_store_alert_get(struct kw_store *st, int64_t source, const char *key,
                                struct kw_alert_row *out, struct kw_err *err);
/* Insert or replace the row of (source, key). */
enum kw_code kw_store_alert_put(struct kw_store *st, int64_t source, const char *key,
                                const struct kw_alert_row *a, struct kw_err *err);

/* ---- e-mail in: mailboxes, the mails taken, message ids of tickets ---- */

/* A mailbox (docs/channels.md): url "imap://host[:port]" or "imaps://...",
 * its login, folder; new mail opens tickets of org_id (unknown senders:
 * "triage", or "refuse") acting as acting_user. */
struct kw_mailbox {
    int64_t id, acting_user, org_id, max_bytes, per_sender_hour, poll_s;
    int64_t uidvalidity, last_uid, created_at;
    const char *name, *url, *username, *password, *folder, *category, *level, *reply_from, *unknown,
        *last_error;
    bool active;
    /* mail out: the SMTP server replies go through (NULL: the mailbox only
     * reads), logging in as username; ack: new tickets by mail are
     * acknowledged */
    const char *smtp_url;
    bool ack;
    /* mails refused (kept from blocking the rest, outcome "failed: ..."):
     * how many, and the newest one's UID and outcome (NULL: none) */
    int64_t failed, last_failed_uid;
    const char *last_failed;
    /* new tickets go to team_id (0: none); fetched_at: when the fetcher last
     * went to the server (KW_STORE_NO_TIME: never; last_error says how it
     * went); taken: mails recorded, created: tickets they opened */
    int64_t team_id, fetched_at, taken, created;
};
enum kw_code kw_store_mailbox_insert(struct kw_store *st, const struct kw_mailbox *m, int64_t *id,
                                     struct kw_err *err);
/* Every mailbox in id order (active_only: the active ones). */
enum kw_code kw_store_mailboxes(struct kw_store *st, bool active_only,
                                bool (*fn)(const struct kw_mailbox *m, void *ctx), void *ctx,
                                struct kw_err *err);
enum kw_code kw_store_mailbox_deactivate(struct kw_store *st, int64_t id, struct kw_err *err);
/* Replace what a manager may edit of mailbox m->id: name, url, username,
 * password (the sealed text), folder, org_id, team_id, category, level,
 * reply_from, unknown, max_bytes, per_sender_hour, poll_s, smtp_url, ack;
 * the mailbox's sender (its outbox endpoint) follows smtp_url and
 * reply_from. KW_NOT_FOUND, KW_CONFLICT for a name in use. */
enum kw_code kw_store_mailbox_update(struct kw_store *st, const struct kw_mailbox *m,
                                     struct kw_err *err);
/* Record that the fetcher went to mailbox id's server at `at`. */
enum kw_code kw_store_mailbox_fetched(struct kw_store *st, int64_t id, int64_t at,
                                      struct kw_err *err);
/* Replace mailbox id's stored password with password (the sealed text the
 * server keeps: docs/channels.md). KW_NOT_FOUND when there is no such mailbox. */
enum kw_code kw_store_mailbox_password(struct kw_store *st, int64_t id, const char *password,
                                       struct kw_err *err);
/* Where fetching stands: the folder's UIDVALIDITY, the last UID taken, and
 * the last error (NULL: none). */
enum kw_code kw_store_mailbox_cursor(struct kw_store *st, int64_t id, int64_t uidvalidity,
                                     int64_t last_uid, const char *last_error, struct kw_err *err);
/* Whether the mailbox took message_id already. */
enum kw_code kw_store_mail_seen(struct kw_store *st, int64_t mailbox, const char *message_id,
                                bool *seen, struct kw_err *err);
/* Record a mail taken: its outcome ("created", "comment", "refused: ..."),
 * ticket 0: none. */
enum kw_code kw_store_mail_put(struct kw_store *st, int64_t mailbox, const char *message_id,
                               int64_t uid, const char *sender, int64_t ticket, const char *outcome,
                               int64_t at, struct kw_err *err);
/* How many mails the mailbox took from sender since `since`. */
enum kw_code kw_store_mail_count(struct kw_store *st, int64_t mailbox, const char *sender,
                                 int64_t since, int64_t *n, struct kw_err *err);
/* The ticket a message id belongs to (0: none), and record one. */
enum kw_code kw_store_mail_ticket(struct kw_store *st, const char *message_id, int64_t *ticket,
                                  struct kw_err *err);
enum kw_code kw_store_mail_id_put(struct kw_store *st, const char *message_id, int64_t ticket,
                                  struct kw_err *err);

/* ---- mail out (docs/channels.md "Mail out") ---- */

/* How ticket's mail thread stands: the mailbox of the newest mail taken
 * onto it (one that sends first: its endpoint, reply_from, ack) and that
 * mail's message id ("" when longer than the buffer). mailbox_id 0: no
 * mail; endpoint_id 0: the mailbox does not send. */
struct kw_mail_thread {
    int64_t mailbox_id, endpoint_id;
    bool ack;
    char reply_from[256], last_id[256];
};
enum kw_code kw_store_mail_thread(struct kw_store *st, int64_t ticket, struct kw_mail_thread *out,
                                  struct kw_err *err);
/* Who mail about ticket goes to: its requester, and each sender of a mail
 * that opened it or was taken onto it as a customer's comment (not staff,
 * not the senders of notes), and its watchers who are active customers of
 * its organisation; user_id 0, name, lang and tz NULL for a sender who is
 * no user. Lower-case addresses, each once. */
struct kw_mail_reader {
    int64_t user_id;
    const char *address, *name, *lang, *tz;
};
enum kw_code kw_store_mail_readers(struct kw_store *st, int64_t ticket,
                                   bool (*fn)(const struct kw_mail_reader *r, void *ctx), void *ctx,
                                   struct kw_err *err);
/* Queue mail of kind ("mail_reply", "mail_ack") about ticket through
 * endpoint_id, due now, once per key. */
enum kw_code kw_store_mail_queue(struct kw_store *st, int64_t endpoint_id, int64_t ticket,
                                 const char *kind, const char *payload, const char *key,
                                 int64_t now, struct kw_err *err);

#endif
