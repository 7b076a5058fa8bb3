// SPDX-License-Identifier: MIT
/*
 * sqlite_int.h - what the files of the SQLite backend (src/store/sqlite/)
 * share: the layout of struct kw_store, the statement catalogues (one per
 * file, each an `enum stmt` with `[S_X] = "..."` text, all prepared once per
 * connection at open), and the helpers for errors, binding and reading rows.
 * Nothing outside this folder includes it; store.h is the contract.
 */
#ifndef KW_SQLITE_INT_H
#define KW_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* The files with a statement catalogue, in the order they are prepared. */
enum kws_part {
    KWS_DB,
    KWS_TICKETS,
    KWS_EVENTS,
    KWS_AUTH,
    KWS_ORG,
    KWS_OUTBOX,
    KWS_ONCALL,
    KWS_OVERRUNS,
    KWS_LOG,
    KWS_KPI,
    KWS_PEOPLE,
    KWS_ATTACH,
    KWS_VIEWS,
    KWS_NOTIFY,
    KWS_LEDGER,
    KWS_INTAKE,
    KWS_MAIL,
    KWS_WATCH,
    KWS_WATCHERS,
    KWS_LINKS,
    KWS_PARTS
};

struct kws_catalogue {
    const char *const *sql; /* [S_X] = "..." of the file */
    int n;                  /* its S_COUNT */
};
extern const struct kws_catalogue kws_db_sql, kws_tickets_sql, kws_events_sql, kws_auth_sql,
    kws_org_sql, kws_outbox_sql, kws_oncall_sql, kws_overruns_sql, kws_log_sql, kws_kpi_sql,
    kws_people_sql, kws_attach_sql, kws_views_sql, kws_notify_sql, kws_ledger_sql, kws_intake_sql,
    kws_mail_sql, kws_watch_sql, kws_watchers_sql, kws_links_sql;

/* the strings of a KPI run (struct kw_run_row): metric, status, calendar,
 * level, tier, organisation, category, region, channel */
#define KWS_RUN_TEXTS 9

struct kw_store {
    sqlite3 *db;
    sqlite3_stmt **stmt[KWS_PARTS]; /* each catalogue, prepared at open */
    /* the catalogues' statements taken (kws_prep) since the last
     * kw_store_end_read, each once (listed[part][s] says it is in used):
     * only these can be on a row, so only these are looked at there */
    bool *listed[KWS_PARTS];
    struct kws_used {
        sqlite3_stmt *x;
        bool *listed;
    } * used; /* room for every statement of every catalogue */
    size_t n_used;
    char path[256];
    int64_t changed_ticket; /* noted in the change log by the open unit of work, or 0 */
    /* the ticket the open transaction inserted last with its projection's
     * due columns (kw_ticket_new.due_known), and those, or 0 (tickets.c):
     * kw_store_clocks_put(fresh) with the same leaves the row alone */
    struct kws_fresh_due {
        int64_t ticket, next_due, breached_at, fire_at;
    } fresh_due;
    /* the ticket the open transaction inserted last with the commitment its
     * creator read (kw_ticket_new.commitment_read), its organisation and
     * that commitment (0: none), or 0: a new ticket's runs take them from
     * here instead of reading the row, and wait for the commit (kpi.c,
     * runs_hold; #20, #15) */
    struct kws_fresh_row {
        int64_t ticket, org_id, commitment_id;
    } fresh_row;
    /* the id the open write transaction's next new ticket gets, max(id) + 1,
     * known since its last insert (tickets.c): valid while seq is tx_seq
     * (a rollback moves it) and id is not 0; the transaction holds the
     * write lock, and only kw_store_ticket_create inserts tickets (#20) */
    struct kws_next_ticket {
        uint64_t seq;
        int64_t id;
    } next_ticket;
    /* a caller's transaction is open (kw_store_begin), and its own COMMIT
     * runs: no other commit may happen meanwhile (db.c, commit_guard) */
    bool batch, committing;
    /* a commit's automatic checkpoint could not run (statements on a row):
     * kw_store_end_read runs it (wal_owed, db.c) */
    bool wal_owed;
    /* a handle of its own that holds the log's write lock while this one
     * checkpoints (db.c, checkpoint_locked), opened at the first one */
    sqlite3 *lock;
    char failed[160]; /* what failed last (kws_fail), to say why a batch was lost */
    /* What the open transaction holds for its commit, in the order it
     * wrote them: searchable texts, on their way to the index (events.c),
     * and new tickets' KPI runs (kpi.c), whose strings are in run_text;
     * runs [0, runs_done) are in kpi_runs already (a write or read of the
     * runs came first). A mark per open savepoint says how far each went
     * when it began (to drop a unit's own when it is undone: db.c). */
    struct kws_text {
        int64_t ticket;
        const char *kind; /* static: "title", "comment", "note" */
        char *text;
        char scope[10]; /* kws_scope_token of the ticket's organisation, or "": read it */
    } * texts;
    size_t n_texts, cap_texts;
    struct kws_held_run {
        struct kw_run_row r; /* its strings NULL: at text[i] - 1 in run_text (0: NULL) */
        size_t text[KWS_RUN_TEXTS];
    } * runs;
    size_t n_runs, cap_runs, runs_done;
    char *run_text;
    size_t n_run_text, cap_run_text;
    struct kws_mark {
        size_t texts, runs, runs_done, run_text;
        int64_t changes; /* sqlite3_total_changes64 then */
    } * marks;
    size_t n_marks, cap_marks;
    /* A caller's savepoint (kw_store_savepoint: a writer's unit) is the
     * newest, and nothing was written or held since it began (its changes
     * counted then): a store call's own savepoint would begin where it
     * did, so kws_tx_begin takes it as its own instead of opening one,
     * and rolls back to it on failure (#20: the savepoint's statements and
     * the pages it copied were 1.5 % of a create). tx_depth: the
     * kws_tx_begin savepoints open, elided_at: the depth of the one that
     * took the caller's (0: none). */
    bool unit_fresh;
    int64_t unit_changes;
    size_t tx_depth, elided_at;
    /* The open transaction is undone whole when its unit fails
     * (kw_store_whole: a writer's unit run alone): store calls open no
     * savepoint, and one that fails after it wrote or held something rolls
     * the transaction back, so that nothing half done can be committed
     * (#20: each savepoint copied the pages its call changed into the
     * statement journal). Until the transaction's end. A writer's batch
     * run so (kw_store_unit_whole) marks what the transaction held at
     * each unit's start in unit_mark. */
    bool whole;
    struct kws_mark unit_mark;
    /* where the open write transaction's notifications go (outbox.c): read
     * once per transaction at its first notification, valid while tx_seq
     * is what it was then; tx_seq moves at each begin, each rollback and
     * each change to an endpoint or a subscription (kws_targets_stale) */
    struct kws_targets *targets;
    uint64_t tx_seq;
    /* the Merkle log's size and the last two nodes written at each level
     * (an append writes a node, then reads its left sibling, the one
     * written before it), as the open write transaction left them
     * (log.c): valid while seq is tx_seq and ok */
    struct kws_log_edge {
        uint64_t seq, size;
        bool ok;
        struct kws_log_node {
            bool set;
            uint64_t idx;
            unsigned char hash[32];
        } last[64][2]; /* [level][idx & 1] */
    } log;
};

/* The notification targets read so far are stale (outbox.c): a
 * transaction began or rolled back, an endpoint or a subscription changed. */
static inline void kws_targets_stale(struct kw_store *st)
{
    st->tx_seq++;
}
/* Frees the targets' memory (kw_store_close). */
void kws_targets_free(struct kw_store *st);

/* What the open transaction holds for its commit (db.c): flush writes it,
 * just before each commit and in the transaction; mark notes a savepoint
 * begun (KW_NOMEM: do not begin it); undo ends the innermost (keep false:
 * what it held is dropped, and its runs written since are held again, as
 * its rollback took them out); forget drops it all (a transaction begun or
 * rolled back). */
enum kw_code kws_held_flush(struct kw_store *st, struct kw_err *err);
enum kw_code kws_held_mark(struct kw_store *st, struct kw_err *err);
void kws_held_undo(struct kw_store *st, bool keep);
void kws_held_forget(struct kw_store *st);
/* Their two kinds: the searchable texts (events.c; drop keeps the first
 * n) and the new tickets' runs (kpi.c; flush writes those not written yet). */
enum kw_code kws_search_flush(struct kw_store *st, struct kw_err *err);
void kws_search_drop(struct kw_store *st, size_t n);
enum kw_code kws_runs_flush(struct kw_store *st, struct kw_err *err);
/* Register kw_trigram, the search index's FTS5 tokenizer (search_tok.c),
 * on db: every connection that reads or writes the index (or drops it)
 * needs it. An SQLite result code. */
int kws_search_tokenizer(sqlite3 *db);
/* The writer's VFS (walbuf.c): the default one whose WAL files write the
 * frames of a commit in one call at its sync; its name, registered at the
 * first call, or NULL (the default VFS then). Needs synchronous=FULL. */
const char *kws_walbuf_vfs(void);
/* SQLite's allocator: malloc behind a small cache of freed blocks per
 * thread (mem.c); installed once, before sqlite3_initialize, and not in a
 * sanitizer's build. */
void kws_mem_install(void);
/* SQLite's page cache with the lock page's number held as 0 (pcache.c):
 * installed once, before sqlite3_initialize; SQLite's own if that fails. */
void kws_pcache_install(void);
/* The key that cache holds page pgno under, at page_size bytes a page. */
unsigned kws_pcache_key(unsigned pgno, int page_size);

/* KW_STORE naming the file, what failed and SQLite's message; returns it. */
enum kw_code kws_fail(struct kw_store *st, struct kw_err *err, const char *what);
/* Note ticket in the change log, once per unit of work (events.c). */
enum kw_code kws_change_note(struct kw_store *st, int64_t ticket, int64_t at, struct kw_err *err);
/* After a write failed on a reference: KW_NOT_FOUND at the field of the
 * first of refs[0..n) (an id of 0 or less: none given) that names no row ("team_id: no
 * team 7"), or with fallback as the message when each one is there. */
enum kws_table { KWS_ORGS, KWS_TEAMS, KWS_USERS, KWS_ENDPOINTS };
struct kws_ref {
    enum kws_table table;
    int64_t id;
    const char *field; /* a JSON pointer: "/team_id" */
};
enum kw_code kws_missing(struct kw_store *st, const struct kws_ref *refs, size_t n,
                         const char *fallback, struct kw_err *err);
/* Statement s of a file's catalogue, reset and with no bindings. */
static inline sqlite3_stmt *kws_prep(struct kw_store *st, enum kws_part part, int s)
{
    sqlite3_stmt *x = st->stmt[part][s];
    if (!st->listed[part][s]) {
        st->listed[part][s] = true;
        st->used[st->n_used++] = (struct kws_used){x, &st->listed[part][s]};
    }
    sqlite3_reset(x);
    sqlite3_clear_bindings(x);
    return x;
}
/* The same for a caller that binds every parameter before each step: the
 * bindings left from the last use are all replaced, so they are not
 * cleared first (sqlite3_clear_bindings visits each parameter: 400 in a
 * batch of held runs; #20). */
static inline sqlite3_stmt *kws_prep_bound(struct kw_store *st, enum kws_part part, int s)
{
    sqlite3_stmt *x = st->stmt[part][s];
    if (!st->listed[part][s]) {
        st->listed[part][s] = true;
        st->used[st->n_used++] = (struct kws_used){x, &st->listed[part][s]};
    }
    sqlite3_reset(x);
    return x;
}
/* Bring the schema up to date (schema.c). */
enum kw_code kws_migrate(struct kw_store *st, struct kw_err *err);
/* KW_TOO_BIG when s is longer than KW_STORE_TEXT_MAX (field: a JSON pointer). */
enum kw_code kws_text_ok(const char *s, const char *field, struct kw_err *err);

/* Open a transaction, or a savepoint when one is already open (a caller's
 * transaction, such as a group-commit batch); *outer says which. */
enum kw_code kws_tx_begin(struct kw_store *st, bool *outer, struct kw_err *err);
/* Commit or roll back what kws_tx_begin opened, by rc; returns the outcome. */
enum kw_code kws_tx_finish(struct kw_store *st, bool outer, enum kw_code rc, struct kw_err *err);

/* Append one event inside an open transaction (events.c). */
enum kw_code kws_append(struct kw_store *st, int64_t ticket, const char *type, const char *body,
                        int64_t actor, int64_t at, const char *state, int64_t *seq,
                        struct kw_err *err);
/* The same with a body already in canonical form (kw_canon: the create
 * path writes it without a JSON tree). texts: a created event's title and
 * description (either may be NULL) for the search index, as they are in
 * canon, so it is not parsed again; NULL to read them from canon. */
enum kw_code kws_append_canonical(struct kw_store *st, int64_t ticket, const char *type,
                                  const char *canon, const char *const texts[2], int64_t actor,
                                  int64_t at, const char *state, int64_t *seq, struct kw_err *err);
/* The first event of a ticket whose row was just inserted with last_seq 1,
 * head_hash hash (kw_event_hash over a zero head, seq 1, at, type, actor
 * and canon) and updated_at at: the same rows as kws_append_canonical,
 * without reading the head or writing it again (#20). org: the ticket's
 * organisation, its texts' scope in the search index. */
enum kw_code kws_append_first(struct kw_store *st, int64_t ticket, int64_t org, const char *type,
                              const char *canon, const char *const texts[2], int64_t actor,
                              int64_t at, const unsigned char hash[KW_HASH_BYTES],
                              struct kw_err *err);

/* Append a leaf to the Merkle log inside an open transaction (log.c):
 * kind "event" (ticket, seq and the event's chain hash as data), "ledger"
 * or "audit". */
enum kw_code kws_log_append(struct kw_store *st, const char *kind, int64_t ticket, int64_t seq,
                            const void *data, size_t n, struct kw_err *err);
/* Record that event seq closed ticket (its receipt is due, pending), in
 * the closing event's transaction (log.c). */
enum kw_code kws_receipt_open(struct kw_store *st, int64_t ticket, int64_t seq, int64_t at,
                              struct kw_err *err);
/* Put the events written before the log existed into it, once (log.c). */
enum kw_code kws_log_backfill(struct kw_store *st, struct kw_err *err);

static inline void bind_text(sqlite3_stmt *x, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(x, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(x, i);
}

/* Instants: SQL NULL is KW_STORE_NO_TIME. */
static inline void bind_instant(sqlite3_stmt *x, int i, int64_t t)
{
    if (t == KW_STORE_NO_TIME)
        sqlite3_bind_null(x, i);
    else
        sqlite3_bind_int64(x, i, t);
}

static inline int64_t column_instant(sqlite3_stmt *x, int i)
{
    return sqlite3_column_type(x, i) == SQLITE_NULL ? KW_STORE_NO_TIME : sqlite3_column_int64(x, i);
}

static inline const char *column_text(sqlite3_stmt *x, int i)
{
    return (const char *)sqlite3_column_text(x, i);
}

/* Step x through its rows, calling on_row(x, arg) on each until it returns
 * false; then reset x. KW_STORE (saying what was being done) on an error. */
enum kw_code kws_each_row(struct kw_store *st, sqlite3_stmt *x,
                          bool (*on_row)(sqlite3_stmt *x, void *arg), void *arg, const char *what,
                          struct kw_err *err);

/* A ticket's organisation as the search index's scope column holds it
 * (migration 027; kws_scope_token() writes the same characters). */
#define KWS_SEARCH_SCOPE                                                                           \
    "char(57344 + org_id % 6400, 57344 + org_id / 6400 % 6400, 57344 + org_id / 40960000)"
/* The organisations kws_scope_token writes as KWS_SEARCH_SCOPE does (past
 * 6400^3 the SQL's third character leaves the Private Use Area). */
#define KWS_SCOPE_ORGS 262144000000LL

/* An organisation's scope in the search index (migration 027): three
 * characters of the Private Use Area, U+E000 + id % 6400, + id / 6400 %
 * 6400, + id / 6400^2, so that each organisation has a trigram of its own
 * and its texts are one doclist; the migration computes it with char().
 * Out: the UTF-8 of the three characters and a NUL. */
static inline void kws_scope_token(int64_t org, char out[10])
{
    uint64_t v = (uint64_t)org;
    for (int i = 0; i < 3; i++, v /= 6400) {
        unsigned cp = 0xE000u + (unsigned)(v % 6400);
        out[3 * i] = (char)(0xE0 | cp >> 12);
        out[3 * i + 1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[3 * i + 2] = (char)(0x80 | (cp & 0x3F));
    }
    out[9] = 0;
}

/* KWS_ROW_MAPPER(map, type): for a `static void map(sqlite3_stmt *x, type
 * *out)` reading the current row, define map_row, which reads the row into a
 * local and hands it to a caller's typed callback (struct map_cb), so that
 * each list is one line:
 *     return EACH_ROW(st, x, map, fn, ctx, "list things", err);
 * The row lives during the callback only. */
#define KWS_ROW_MAPPER(map, type)                                                                  \
    struct map##_cb {                                                                              \
        bool (*fn)(const type *row, void *ctx);                                                    \
        void *ctx;                                                                                 \
    };                                                                                             \
    static bool map##_row(sqlite3_stmt *x, void *arg)                                              \
    {                                                                                              \
        const struct map##_cb *cb = arg;                                                           \
        type row;                                                                                  \
        map(x, &row);                                                                              \
        return cb->fn(&row, cb->ctx);                                                              \
    }
#define EACH_ROW(st, x, map, fn, ctx, what, err)                                                   \
    kws_each_row((st), (x), map##_row, &(struct map##_cb){(fn), (ctx)}, (what), (err))

#endif
