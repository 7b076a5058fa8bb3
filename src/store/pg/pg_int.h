// SPDX-License-Identifier: MIT
/*
 * pg_int.h - what the files of the PostgreSQL backend (src/store/pg/) share:
 * the layout of its handle (one libpq connection), the one statement
 * catalogue (`enum pgs`, every statement prepared at open under its number),
 * parameters as text (bytea as binary), and the helpers for errors and
 * transactions. A forced include (kw_names_pg.h, scripts/store-dispatch.sh)
 * makes the kw_store_* names of store.h this backend's kwpg_* ones, and
 * `struct kw_store` its `struct kwpg_store`; so the backend's own helpers
 * are kwp_*, which no store.h name can become. Nothing outside this folder
 * includes it.
 */
#ifndef KW_PG_INT_H
#define KW_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* A ticket's columns as kwp_read_ticket() reads them (db.c, search.c). */
#define TICKET_COLS                                                                                \
    "id, org_id, coalesce(created_by, 0), created_at, updated_at, last_seq, title, state, level,"  \
    " tier, category, region, channel, head_hash, coalesce(commitment_id, 0),"                     \
    " coalesce(assignee_id, 0), coalesce(team_id, 0), next_due, breached_at,"                      \
    " coalesce(requester_id, 0)"
/* The filters of struct kw_ticket_filter, as the SQLite backend's: $7: 0
 * any, 1 breached, 2 not breached as of $8. */
#define DUE_KEY "coalesce(next_due, 9223372036854775807)"
#define TICKET_FILTER                                                                              \
    "($2 = 0 OR org_id = $2) AND ($3::text IS NULL OR state = $3 OR ($3 = 'open' AND state <> "    \
    "'archived')) AND ($4::text IS NULL OR level = $4)"                                            \
    " AND ($6 = 0 OR assignee_id = $6) AND ($11 = 0 OR team_id = $11)"                             \
    " AND ($7 = 0 OR ($7 = 1) = (breached_at IS NOT NULL OR " DUE_KEY " <= $8))"                   \
    " AND ($9::bigint IS NULL OR next_due < $9) AND ($12::text IS NULL OR category = $12)"         \
    " AND ($13 = 0 OR assignee_id IS NULL)"

/* The statements, prepared at open as "s<number>". */
enum pgs {
    PGS_BEGIN,
    PGS_COMMIT,
    PGS_ROLLBACK,
    PGS_SAVEPOINT,
    PGS_RELEASE,
    PGS_ROLLBACK_TO,
    PGS_COMMIT_ASYNC,
    PGS_COMMIT_BARRIER,
    PGS_ORG_INSERT,
    PGS_ORGS,
    PGS_ORG_GET,
    PGS_ORG_TERMS,
    PGS_TICKET_BY_KEY,
    PGS_TICKET_INSERT,
    PGS_TICKET_INSERT_AT,
    PGS_TICKET_INSERT_ID,
    PGS_TICKET_HEAD,
    PGS_EVENT_INSERT,
    PGS_EVENT_FIRST,
    PGS_EVENTS,
    PGS_CHANGES_SINCE,
    PGS_CHANGES_FIRST,
    PGS_CHANGES_HEAD,
    PGS_CHANGES_PRUNE,
    PGS_LOG_LOCK,
    PGS_LOG_SIZE,
    PGS_LOG_TAIL,
    PGS_LEAVES_ADD,
    PGS_CHANGES_ADD,
    PGS_AUDIT_LOCK,
    PGS_NODE_GET,
    PGS_TICKET_GET,
    PGS_TICKET_STATE,
    PGS_EVENT_LEAF,
    PGS_LEAF,
    PGS_CP_ADD,
    PGS_CP_LAST,
    PGS_CP_AT,
    PGS_COMMITMENT_INSERT,
    PGS_COMMITMENT_DOC,
    PGS_COMMITMENTS,
    PGS_COMMITMENT_AT,
    PGS_COMMITMENT_USED,
    PGS_USER_INSERT,
    PGS_USER_COUNT,
    PGS_TICKETS,
    PGS_TICKETS_DUE,
    PGS_TICKETS_ASC,
    PGS_TICKETS_DESC,
    /* serve.c: people and tokens, teams and calendars, the clock
     * projection and the engine's schedule */
    PGS_USER_BY_EMAIL,
    PGS_USER_GET,
    PGS_USERS,
    PGS_TOKEN_USER,
    PGS_TOKEN_REVOKE,
    PGS_TOKEN_INSERT,
    PGS_TOKENS,
    PGS_TOKEN_REVOKE_ID,
    PGS_TOKEN_CALLER,
    PGS_TEAM_INSERT,
    PGS_TEAMS,
    PGS_TEAM_GET,
    PGS_CALENDAR_PUT,
    PGS_CALENDARS,
    PGS_CALENDAR_GET,
    PGS_CALENDAR_LATEST,
    PGS_CALENDAR_VERSION_ADD,
    PGS_CALENDAR_VERSIONS,
    PGS_TICKET_SET,
    PGS_CLOCK_PUT,
    PGS_CLOCKS_OF,
    PGS_CLOCK_RUNS,
    PGS_STALE,
    PGS_UNSTOPPED,
    PGS_RESTALE,
    PGS_FIRE_ALL,
    PGS_FIRE_ONE,
    PGS_DUE_CLAIM,
    PGS_CENSUS,
    /* outbox.c: endpoints, subscriptions and the outbox */
    PGS_OUTBOX_ADD,
    PGS_OUTBOX_DUE,
    PGS_OUTBOX_NEXT,
    PGS_OUTBOX_DONE,
    PGS_OUTBOX_LIST,
    PGS_OUTBOX_RETRY,
    PGS_OUTBOX_POSTPONE,
    PGS_ENDPOINT_ADD,
    PGS_ENDPOINTS,
    PGS_ENDPOINT_TEST,
    PGS_ENDPOINT_SET,
    PGS_ENDPOINT_DELETE,
    PGS_ENDPOINT_DROP_PENDING,
    PGS_ENDPOINT_DROP_SUBS,
    PGS_SUB_ADD,
    PGS_SUBS,
    PGS_SUB_DELETE,
    PGS_OUTBOX_PERSON,
    PGS_OUTBOX_HAS,
    PGS_REFS,
    PGS_ONCALL_PUT,
    PGS_ONCALLS,
    /* overruns.c: overruns and what was done about them */
    PGS_OVERRUN_ADD,
    PGS_OVERRUN_STOP,
    PGS_OVERRUNS,
    PGS_OVERRUNS_TICKET,
    PGS_OVERRUN_EXPLAIN,
    PGS_OVERRUN_FOLLOW,
    PGS_OVERRUN_REASONS,
    /* ledger.c: contracts, the credit ledger, periods closed, requests */
    PGS_CONTRACT_INSERT,
    PGS_CONTRACT_UPDATE,
    PGS_CONTRACTS,
    PGS_CONTRACT_AT,
    PGS_AUDIT_CONTRACT, /* the contracts' rows for the audit trail (watch.c) */
    PGS_LEDGER_LOCK,
    PGS_LEDGER_LOCK_READ,
    PGS_LEDGER_HEAD,
    PGS_LEDGER_INSERT,
    PGS_LEDGER,
    PGS_LEDGER_SUMS,
    PGS_LEDGER_CHAIN,
    PGS_REQUEST_ADD,
    PGS_REQUESTS,
    PGS_REQUEST_DECIDE,
    PGS_CLOSE_ADD,
    PGS_CLOSE_COUNT,
    PGS_CLOSE_LAST,
    /* intake.c: alert sources and their alerts */
    PGS_INTAKE_INSERT,
    PGS_INTAKE_BY_DIGEST,
    PGS_INTAKE_BY_ID,
    PGS_INTAKES,
    PGS_INTAKE_DEACTIVATE,
    PGS_INTAKE_UPDATE,
    PGS_INTAKE_REKEY,
    PGS_ALERT_GET,
    PGS_ALERT_PUT,
    /* mail.c: mailboxes, the mails taken, message ids, mail out */
    PGS_MAILBOX_INSERT,
    PGS_MAILBOXES,
    PGS_MAILBOX_STOP,
    PGS_MAILBOX_PASSWORD,
    PGS_MAILBOX_CURSOR,
    PGS_MAIL_SENDER_ADD,
    PGS_MAIL_SENDER_STOP,
    PGS_MAIL_SEEN,
    PGS_MAIL_PUT,
    PGS_MAIL_COUNT,
    PGS_MAIL_ID_GET,
    PGS_MAIL_ID_PUT,
    PGS_MAIL_THREAD,
    PGS_MAIL_READERS,
    PGS_MAIL_QUEUE,
    PGS_MAILBOX_UPDATE,
    PGS_MAILBOX_FETCHED,
    PGS_MAIL_SENDER_SET,
    /* kpi.c: the KPI facts */
    PGS_RUNS_DEL,
    PGS_RUN_ADD,
    PGS_RUNS_MANY,
    PGS_RUNS_PERIOD,
    PGS_RUNS_TICKET,
    PGS_RUNS_ALL,
    PGS_TF_CREATED,
    PGS_TF_RESOLVED,
    PGS_TF_REOPENED,
    PGS_TF_RATED,
    PGS_TF_OPEN,
    PGS_TF_TIME,
    PGS_TF_BACKLOG,
    PGS_TICKET_STATES,
    PGS_TICKET_MARKS,
    PGS_TICKET_MARKS_ALL,
    PGS_RESOLVED_CLEAR,
    PGS_RESOLVED_FILL,
    PGS_STATES_CLEAR,
    PGS_STATES_FILL,
    /* watch.c: the watch list, accident levels and the audit trail */
    PGS_WATCH_SETTINGS,
    PGS_WATCH_SETTING_PUT,
    PGS_WATCH_COUNT,
    PGS_WATCH_FLAG,
    PGS_WATCH_NOTIFY,
    PGS_WATCH_CLEAR,
    PGS_WATCH_FLAGS,
    PGS_WATCH_OPEN,
    PGS_LOSS,
    PGS_LOSS_GET,
    PGS_AUDIT_HEAD,
    PGS_AUDIT_INSERT,
    PGS_AUDIT,
    PGS_AUDIT_CHAIN,
    PGS_AUDIT_CALENDAR, /* the audited tables' rows, by name ($1) or else id ($2) */
    PGS_AUDIT_COMMITMENT,
    PGS_AUDIT_ROTA,
    PGS_AUDIT_ENDPOINT,
    PGS_AUDIT_USER,
    PGS_AUDIT_ORG,
    PGS_AUDIT_TEAM,
    PGS_PRE_TICKETS,
    PGS_PRE_EVENTS,
    PGS_EVENT_CLOCKS,
    PGS_DUE_LOCK,
    PGS_CLAIM_KEEP,
    PGS_COUNT
};
extern const char *const kwp_sql[PGS_COUNT];

#define KWPG_MAX_PARAMS 32

/* A statement kept to be sent later, with copies of its parameters. */
#define KWPG_MAX_DEFERRED 128
/* Savepoints nested in one transaction whose kept leaves are tracked
 * (struct kwp_tail; deeper ones roll back to the deepest tracked). */
#define KWPG_MAX_SAVEPOINTS 16
/* Leaves, and change rows, one transaction keeps for its end at most. */
#define KWPG_MAX_TAIL 1048576
/* Tickets one kw_store_prefetch reads ahead (the engine's unit: 64). */
#define KWPG_MAX_PREFETCH 96
/* Tickets the open transaction may claim without writing their claims
 * (kw_store_due_claim; the engine's unit and those it sets aside: 80). */
#define KWPG_MAX_CLAIMS 128
struct kwp_pending {
    enum pgs s;
    const char *what; /* static, for the message if it fails */
    int n;
    const char *v[KWPG_MAX_PARAMS];
    int len[KWPG_MAX_PARAMS], fmt[KWPG_MAX_PARAMS];
    char *buf; /* the parameters' bytes (heap), or NULL */
};

struct kw_store {
    PGconn *conn;
    char where[512];        /* the location as given, for messages (no password) */
    bool in_tx;             /* a caller's transaction is open (kw_store_begin) */
    int64_t changed_ticket; /* noted in the change log by the open unit of work, or 0 */
    PGresult *lent;         /* the result whose strings a call lent out */
    /* Statements not sent yet: BEGIN, SAVEPOINT and RELEASE (kwp_defer) and
     * writes whose answer nobody reads (kwp_exec_later); they go out with
     * the next statement in one round trip (libpq's pipeline mode). */
    struct kwp_pending deferred[KWPG_MAX_DEFERRED];
    int n_deferred;
    /* The deferred statement of rows that kwp_exec_later_rows merges the
     * next rows into (its index in deferred, or -1), and the keys (tickets)
     * whose rows it holds. */
    int merge_at, n_merged;
    int64_t merged[KWPG_MAX_PREFETCH];
    /* The Merkle log as this transaction left it while it holds the log's
     * lock: its size (-1: not known) and the right-hand frontier, the
     * nodes an append at that size reads (kwp_leaf_append). Forgotten at
     * every rollback and transaction end. */
    int64_t log_size;
    /* The open transaction asked for the log's lock: its COMMIT is sent
     * without waiting for its flush and followed by a durable barrier
     * (PGS_COMMIT_ASYNC, PGS_COMMIT_BARRIER in kwp_run), so the lock is
     * held to the commit record's insertion, not through its flush. */
    bool log_locked;
    unsigned char frontier[64][32];
    uint64_t frontier_known; /* bit l: frontier[l] is kept */
    /* The log's leaves and the change rows the open transaction appends,
     * kept to its end (kwp_log_settle): there, in a short final step, it
     * takes the log's lock, numbers the leaves and the changes in commit
     * order and writes them, so that two connections' transactions run
     * beside each other and wait for each other only for that step. A
     * rollback forgets them, a rollback to a savepoint those kept since
     * (mark: how many were kept at each open savepoint). */
    struct kwp_tail {
        size_t n, cap;
        struct kwp_leaf_kept {
            char kind[8];
            int64_t ticket, seq;
            unsigned char data[64];
            size_t len;
        } * leaf;
        size_t n_changes, cap_changes;
        struct kwp_change_kept {
            int64_t ticket, at;
        } * change;
        int depth;
        struct {
            size_t leaves, changes;
        } mark[KWPG_MAX_SAVEPOINTS];
    } tail;
    /* The ticket whose fire_at the last call set (kw_store_clocks_put), or
     * 0: a kw_store_fire_at of it right after needs no round trip. Any
     * other statement, sent or deferred, forgets it. */
    int64_t due_ticket, due_fire_at;
    /* and the clock rows that call wrote, in kw_store_ticket_clocks' order,
     * when it wrote few enough (clocks_kept; else that read goes out):
     * while due_ticket is theirs, a read of them needs no round trip */
    bool clocks_kept;
    int n_clocks;
    struct kwp_clock_kept {
        char metric[48], status[16];
        int64_t deadline, next_due;
        int next_pct;
    } clocks[16];
    /* The tickets the open transaction claimed (kw_store_due_claim): their
     * rows are locked FOR UPDATE to its end, which keeps other nodes off
     * them, so no claim row is written for them then. At the commit a
     * claim row is written only for those it did not give a new schedule
     * (kw_store_clocks_put: done), a firing that failed or a ticket set
     * aside, which the claim's lease keeps for this node as before
     * (kwp_claims_keep). A rollback forgets them, a rollback to a
     * savepoint their `done`. */
    struct kwp_claims {
        int n;
        int64_t node, until, now;
        struct kwp_claim {
            int64_t id, fire_at;
            bool done;
        } t[KWPG_MAX_CLAIMS];
    } claims;
    bool listening; /* LISTEN kw_changes sent on this connection (nodes.c) */
    /* A ticket id kw_store_org_terms took from the tickets' sequence in
     * this transaction (it reads an organisation's terms for the create
     * that follows it in a unit), or 0: kw_store_ticket_create numbers its
     * ticket with it, writes the row with its first event's head, and, for
     * a ticket without an idempotency key (whose insert cannot conflict),
     * waits for no answer. A sequence number, not a row: an unused one is a
     * gap, as a rolled-back insert's is. Forgotten by any transaction
     * control (begin, savepoint, release, commit, rollback). */
    int64_t next_ticket;
    /* The tickets the open transaction fires (kw_store_prefetch): their
     * rows (locked FOR UPDATE, with fire_at) and events, read in one
     * statement each; each read of them is served once from here (an
     * append's head as long as this transaction appends), then from the
     * database. A write to the ticket forgets its reads (kwp_pre_forget),
     * a rollback, a rollback to a savepoint and the transaction's end all
     * of them (kwp_pre_drop). */
    struct kwp_pre {
        PGresult *rows, *events; /* PGS_PRE_TICKETS, PGS_PRE_EVENTS */
        int n;
        struct kwp_pre_one {
            int64_t id, fire_at, last_seq, updated_at;
            unsigned char head[KW_HASH_BYTES];
            int row;            /* in rows */
            int ev_first, ev_n; /* in events */
            bool ticket, events, head_ok, fire;
        } t[KWPG_MAX_PREFETCH];
    } pre;
};

/* The reads kw_store_prefetch kept (tickets.c): each returns false when
 * ticket's is not kept (read it from the database), else serves it and
 * forgets it (the head: kept, kwp_pre_appended moves it on). */
bool kwp_pre_fire_at(struct kw_store *st, int64_t ticket, int64_t *fire_at);
bool kwp_pre_ticket(struct kw_store *st, int64_t ticket, struct kw_ticket_row *out);
bool kwp_pre_events(struct kw_store *st, int64_t ticket,
                    bool (*fn)(const struct kw_stored_event *ev, void *ctx), void *ctx);
/* Whether this transaction holds ticket's row locked by kw_store_prefetch
 * (it exists, and nobody else changes it until the transaction ends). */
bool kwp_pre_locked(struct kw_store *st, int64_t ticket);
/* Ticket was written: its kept reads are forgotten. */
void kwp_pre_forget(struct kw_store *st, int64_t ticket);
/* Everything kept is forgotten (a rollback, a transaction's end). */
void kwp_pre_drop(struct kw_store *st);

/* The statements of a file of its own (people.c, attachments.c, views.c,
 * notifications.c, links.c, receipts.c, log.c), as the SQLite backend's per-file catalogues:
 * prepared at open beside `enum pgs`, as "p<part>_<number>", and run with kwp_run_part(). */
enum kwp_part {
    KWP_PEOPLE,
    KWP_ATTACH,
    KWP_VIEWS,
    KWP_NOTIFY,
    KWP_LINKS,
    KWP_RECEIPTS,
    KWP_LOG,
    KWP_PARTS
};
struct kwp_catalogue {
    const char *const *sql; /* [S_X] = "..." of the file */
    int n;                  /* its S_COUNT */
};
extern const struct kwp_catalogue kwp_people_sql, kwp_attach_sql, kwp_views_sql, kwp_notify_sql,
    kwp_links_sql, kwp_receipts_sql, kwp_log_sql;

/* Parameters of one statement: text (NULL: SQL NULL) or binary bytes;
 * binary_result asks for the result's columns in binary (a bytea's bytes
 * as they are, not as hex text). */
struct kwp_params {
    int n;
    const char *v[KWPG_MAX_PARAMS];
    int len[KWPG_MAX_PARAMS], fmt[KWPG_MAX_PARAMS];
    char num[KWPG_MAX_PARAMS][24];
    bool binary_result;
};
void kwp_int(struct kwp_params *p, int64_t v);
void kwp_text(struct kwp_params *p, const char *s);
void kwp_bytes(struct kwp_params *p, const void *b, int n);
/* The array literal "{a,b,...}" of v[0..n) (a bigint[] parameter) into
 * buf, which holds KWP_INT_ARRAY_BYTES(n) bytes; its length. */
#define KWP_INT_ARRAY_BYTES(n) ((n)*21 + 3) /* "-9223372036854775808," each */
size_t kwp_int_array(char *buf, const int64_t *v, size_t n);
/* an instant: KW_STORE_NO_TIME is SQL NULL */
void kwp_instant(struct kwp_params *p, int64_t t);

/* Run statement s with p (may be NULL). The result on success (caller
 * clears it with PQclear); NULL with err KW_STORE saying what failed and
 * PostgreSQL's message, and *sqlstate (may be NULL) its SQLSTATE ("" if
 * none: the connection failed). */
PGresult *kwp_run(struct kw_store *st, enum pgs s, const struct kwp_params *p, const char *what,
                  char sqlstate[6], struct kw_err *err);
/* kwp_run for statement s of a file's own catalogue (part). */
PGresult *kwp_run_part(struct kw_store *st, enum kwp_part part, int s, const struct kwp_params *p,
                       const char *what, char sqlstate[6], struct kw_err *err);
/* Run statement s for its effect only; KW_OK or KW_STORE. */
enum kw_code kwp_exec(struct kw_store *st, enum pgs s, const struct kwp_params *p, const char *what,
                      struct kw_err *err);
/* Run statement s (no parameters, no rows: BEGIN, SAVEPOINT, RELEASE)
 * with the next statement, in the same round trip; its failure is that
 * statement's (`what` names s in the message). */
void kwp_defer(struct kw_store *st, enum pgs s);
/* kwp_exec_later of statement s whose one parameter is rows, a JSON array
 * of objects (kept for later only), for key (a ticket): merged into the
 * same statement kept for later, as one array, when nothing but other
 * tables' writes was kept since (no BEGIN, savepoint or release, no
 * statement of the same table, which must not be moved past) and the
 * statement holds no rows of key yet; so a unit's rows of that table go
 * out as one statement instead of one for each ticket. */
enum kw_code kwp_exec_later_rows(struct kw_store *st, enum pgs s, int64_t key, const char *rows,
                                 const char *what, struct kw_err *err);
/* Run write statement s with p (copied) later, with the next statement
 * that needs an answer, or at the unit's end or the commit, whichever
 * comes first; inside a transaction only (else now, as kwp_exec). Its
 * failure fails that statement and the transaction: for writes that do
 * not fail but for a broken database (no SQLSTATE a caller tells apart).
 * KW_NOMEM when its parameters cannot be copied. */
enum kw_code kwp_exec_later(struct kw_store *st, enum pgs s, const struct kwp_params *p,
                            const char *what, struct kw_err *err);

/* kwp_exec_later of PGS_CLOCK_PUT with p (its parameters, the ticket
 * first): merged with the ticket's event kept for later (PGS_EVENT_INSERT)
 * into one statement (PGS_EVENT_CLOCKS) when nothing but outbox rows was
 * kept after that event (a firing's: its event, its notifications, its
 * clocks), else kept on its own. */
enum kw_code kwp_exec_later_clocks(struct kw_store *st, const struct kwp_params *p,
                                   struct kw_err *err);

/* Before the open transaction's COMMIT: its claims of tickets it gave no
 * new schedule become claim rows (PGS_CLAIM_KEEP, sent with the COMMIT),
 * and all its claims are forgotten. KW_NOMEM (the transaction then fails). */
enum kw_code kwp_claims_keep(struct kw_store *st, struct kw_err *err);
/* Ticket got a new schedule in the open transaction: its claim ends. */
void kwp_claim_done(struct kw_store *st, int64_t ticket);

/* Keep res as the result whose strings the call hands out (until the next
 * call on st or kw_store_end_read). */
void kwp_lend(struct kw_store *st, PGresult *res);

/* JSON values for a statement's JSON parameter (json_to_recordset): a
 * text (NULL: null; its bytes as they are) and an instant (NO_TIME: null).
 * NULL when out of memory (json_object_set_new then fails). */
struct json_t;
struct json_t *kwp_json_text(const char *s);
struct json_t *kwp_json_instant(int64_t t);

/* Column readers: an integer (NULL: 0), an instant (NULL: NO_TIME), a text
 * (NULL: NULL; lent from res), bytea of exactly n bytes into out (false
 * otherwise). */
int64_t kwp_col_int(const PGresult *res, int row, int col);
int64_t kwp_col_instant(const PGresult *res, int row, int col);
const char *kwp_col_text(const PGresult *res, int row, int col);
bool kwp_col_bytes(const PGresult *res, int row, int col, unsigned char *out, size_t n);
/* The first n bytes of a bytea's text s ("\x" and at least 2n hex digits). */
bool kwp_col_bytes_prefix(const char *s, unsigned char *out, size_t n);

/* How many rows the write statement of res changed; clears res (ledger.c). */
int64_t kwp_changed(PGresult *res);

/* KW_TOO_BIG when s is longer than KW_STORE_TEXT_MAX (field: a JSON pointer). */
enum kw_code kwp_text_ok(const char *s, const char *field, struct kw_err *err);
/* Note ticket in the change log, once per unit of work (tickets.c). */
enum kw_code kwp_change_note(struct kw_store *st, int64_t ticket, int64_t at, struct kw_err *err);

/* A transaction, or a savepoint in the caller's (*outer says which), and
 * its end by rc: as the SQLite backend's kws_tx_begin / kws_tx_finish. */
enum kw_code kwp_tx_begin(struct kw_store *st, bool *outer, struct kw_err *err);
enum kw_code kwp_tx_finish(struct kw_store *st, bool outer, enum kw_code rc, struct kw_err *err);

/* Whether the rows a write refers to are there (ids <= 0: none): an
 * organisation, a team, a user, an endpoint not deleted; KW_NOT_FOUND
 * naming the first missing one at its field (fields: the four JSON
 * pointers, "/org_id" etc.). Checked before the write, since a failed
 * statement would end the caller's whole transaction on PostgreSQL. */
enum kw_code kwp_refs(struct kw_store *st, const int64_t ids[4], const char *const fields[4],
                      struct kw_err *err);

/* Read row r of a ticket listing (the columns of PGS_TICKET_GET) into out;
 * strings lent from res (log.c). */
void kwp_read_ticket(const PGresult *res, int r, struct kw_ticket_row *out);

/* The Merkle log's nodes, for core/merkle.h (ctx: the store; tickets.c). */
enum kw_code kwp_node_get(void *ctx, unsigned level, uint64_t index, unsigned char out[32],
                          struct kw_err *err);
/* Keep a leaf for the open transaction's final step (kwp_log_settle);
 * outside a transaction, append it in one of its own (tickets.c). */
enum kw_code kwp_leaf_append(struct kw_store *st, const char *kind, int64_t ticket, int64_t seq,
                             const void *data, size_t n, struct kw_err *err);

/* The open transaction's final step (tickets.c): take the log's lock,
 * number the leaves and change rows it kept in commit order, and write
 * them with the next statement (its COMMIT). Also run before a read of
 * the log inside the transaction, which must see its leaves; after it the
 * transaction holds the lock to its end. Nothing to do when it kept none.
 * KW_STORE (the lock or the log's tail could not be read), KW_NOMEM. */
enum kw_code kwp_log_settle(struct kw_store *st, struct kw_err *err);
/* Note ticket's change (at) for the final step (tickets.c). */
enum kw_code kwp_change_keep(struct kw_store *st, int64_t ticket, int64_t at, struct kw_err *err);
/* Transaction control as it moves the kept leaves' savepoint marks:
 * PGS_BEGIN, PGS_SAVEPOINT, PGS_RELEASE, PGS_ROLLBACK_TO, PGS_COMMIT,
 * PGS_ROLLBACK (tickets.c). */
void kwp_tail_track(struct kw_store *st, enum pgs s);
/* Free the kept leaves' memory (at close). */
void kwp_tail_free(struct kw_store *st);

/* Send the deferred statements now (before a statement of no catalogue
 * number, run with PQexecParams, that must be inside the transaction). */
void kwp_flush(struct kw_store *st);

/* kw_store_tickets with f->q: the search (search.c). */
enum kw_code kwp_search(struct kw_store *st, const struct kw_ticket_filter *f,
                        bool (*fn)(const struct kw_ticket_row *t, void *ctx), void *ctx,
                        struct kw_err *err);

/* Append one event inside an open transaction (tickets.c). */
enum kw_code kwp_append(struct kw_store *st, int64_t ticket, const char *type, const char *body,
                        int64_t actor, int64_t at, const char *state, int64_t *seq,
                        struct kw_err *err);

/* The receipt of ticket's closing event seq is due (receipts.c): inside the
 * open transaction of the event that archives it (tickets.c). */
enum kw_code kwp_receipt_open(struct kw_store *st, int64_t ticket, int64_t seq, int64_t at,
                              struct kw_err *err);

#endif
