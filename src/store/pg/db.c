// SPDX-License-Identifier: MIT
/* The PostgreSQL connection: open (connect, migrate under an advisory lock,
 * prepare the catalogue), close, transactions and savepoints, parameters and
 * columns, and the statement catalogue itself. A write is acknowledged after
 * its COMMIT returned, which with PostgreSQL's synchronous_commit = on (the
 * default; docs/operations.md) is after the commit record is on disk. */
#include "pg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *const kwp_sql[PGS_COUNT] = {
    [PGS_BEGIN] = "BEGIN",
    [PGS_COMMIT] = "COMMIT",
    [PGS_ROLLBACK] = "ROLLBACK",
    [PGS_SAVEPOINT] = "SAVEPOINT kw",
    [PGS_RELEASE] = "RELEASE SAVEPOINT kw",
    [PGS_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT kw",
    [PGS_ORG_INSERT] = "INSERT INTO orgs(name, tier, region, calendar, contract_value_cents,"
                       " created_at, account_manager_id) VALUES ($1, $2, $3, $4, $5, $6,"
                       " nullif($7::bigint, 0)) ON CONFLICT (name) DO NOTHING RETURNING id",
    [PGS_ORGS] = "SELECT id, name, tier, region, calendar, contract_value_cents,"
                 " coalesce(account_manager_id, 0), deactivated_at FROM orgs"
                 " WHERE id > $1 AND ($2 = 0 OR id = $2) ORDER BY id LIMIT $3",
    [PGS_ORG_GET] = "SELECT id, name, tier, region, calendar, contract_value_cents,"
                    " coalesce(account_manager_id, 0), deactivated_at FROM orgs WHERE id = $1",
    [PGS_ORG_EXISTS] = "SELECT 1 FROM orgs WHERE id = $1",
    [PGS_TICKET_BY_KEY] =
        "SELECT id, request_digest FROM tickets WHERE created_by = $1 AND idempotency_key = $2",
    [PGS_TICKET_INSERT] =
        "INSERT INTO tickets(org_id, title, state, level, tier, category, region, channel,"
        " created_by, idempotency_key, created_at, updated_at, last_seq, head_hash, commitment_id,"
        " request_digest, requester_id)"
        " VALUES ($1, $2, 'registered', $3, $4, $5, $6, $7, $8, $9, $10, $10, 0,"
        " '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,"
        " (SELECT id FROM commitments WHERE effective_from <= $10"
        "  ORDER BY effective_from DESC, id DESC LIMIT 1), $11, nullif($12::bigint, 0))"
        " ON CONFLICT (created_by, idempotency_key) DO NOTHING RETURNING id",
    /* FOR UPDATE: two nodes appending to one ticket take turns, so each
     * event's prev is the head the other committed */
    [PGS_TICKET_HEAD] =
        "SELECT last_seq, head_hash, updated_at FROM tickets WHERE id = $1 FOR UPDATE",
    [PGS_TICKET_ADVANCE] = "UPDATE tickets SET last_seq = $2, head_hash = $3, updated_at = $4,"
                           " state = coalesce($5, state) WHERE id = $1",
    [PGS_EVENT_INSERT] = "INSERT INTO events(ticket_id, seq, at, type, actor_id, body, hash)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [PGS_EVENTS] = "SELECT seq, at, type, actor_id, body, hash, ticket_id FROM events"
                   " WHERE ticket_id = $1 ORDER BY seq",
    [PGS_CHANGE_ADD] = "INSERT INTO changes(ticket, at) VALUES ($1, $2) RETURNING seq",
    [PGS_CHANGES_SINCE] =
        "SELECT seq, ticket, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
    [PGS_CHANGES_FIRST] = "SELECT min(seq) FROM changes",
    [PGS_CHANGES_HEAD] = "SELECT coalesce(max(seq), 0) FROM changes",
    [PGS_CHANGES_PRUNE] = "DELETE FROM changes WHERE seq <= $1",
    /* the Merkle log has one writer at a time across all nodes: this lock,
     * held to the end of the transaction that appends */
    [PGS_LOG_LOCK] = "SELECT pg_advisory_xact_lock(7238001)",
    [PGS_LOG_SIZE] = "SELECT coalesce(max(idx) + 1, 0) FROM log_leaves",
    [PGS_LEAF_ADD] = "INSERT INTO log_leaves(idx, kind, ticket, seq, data)"
                     " VALUES ($1, $2, nullif($3::bigint, 0), nullif($4::bigint, 0), $5)",
    [PGS_NODE_GET] = "SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2",
    [PGS_NODE_PUT] = "INSERT INTO log_nodes(level, idx, hash) VALUES ($1, $2, $3)",
    [PGS_TICKET_GET] = "SELECT " TICKET_COLS " FROM tickets WHERE id = $1",
    [PGS_TICKET_STATE] = "SELECT state FROM tickets WHERE id = $1",
    [PGS_EVENT_LEAF] = "SELECT idx FROM log_leaves WHERE ticket = $1 AND seq = $2"
                       " AND kind = 'event'",
    [PGS_LEAF] = "SELECT kind, coalesce(ticket, 0), coalesce(seq, 0), data FROM log_leaves"
                 " WHERE idx = $1",
    [PGS_CP_ADD] = "INSERT INTO log_checkpoints(size, at, note) VALUES ($1, $2, $3)"
                   " ON CONFLICT (size) DO NOTHING",
    [PGS_CP_LAST] = "SELECT size, at, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
    [PGS_CP_AT] = "SELECT size, at, note FROM log_checkpoints WHERE size >= $1 ORDER BY size"
                  " LIMIT 1",
    [PGS_COMMITMENT_INSERT] = "INSERT INTO commitments(name, version, effective_from, doc,"
                              " created_at) VALUES ($1, $2, $3, $4, $5)"
                              " ON CONFLICT (name, version) DO NOTHING RETURNING id",
    [PGS_COMMITMENT_DOC] = "SELECT doc FROM commitments WHERE id = $1",
    [PGS_COMMITMENTS] = "SELECT id, name, version, effective_from, created_at FROM commitments"
                        " ORDER BY effective_from, id",
    [PGS_COMMITMENT_AT] = "SELECT id FROM commitments WHERE effective_from <= $1"
                          " ORDER BY effective_from DESC, id DESC LIMIT 1",
    [PGS_USER_INSERT] = "INSERT INTO users(email, name, role, org_id, team_id, password_hash,"
                        " created_at, skills) VALUES ($1, $2, $3, nullif($4::bigint, 0),"
                        " nullif($5::bigint, 0), $6, $7, coalesce($8, '[]'))"
                        " ON CONFLICT (email) DO NOTHING RETURNING id",
    [PGS_USER_COUNT] = "SELECT count(*) FROM users WHERE role = $1",
    /* $10 (the due cursor) is the other listing's: typed here so that both
     * take the same parameters */
    [PGS_TICKETS] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER
                    " AND id > $1 AND ($10::bigint IS NULL OR true) ORDER BY id LIMIT $5",
    [PGS_TICKETS_DUE] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER " AND (" DUE_KEY
                        ", id) > ($10, $1) ORDER BY " DUE_KEY ", id LIMIT $5",
    [PGS_COMMITMENT_USED] = "SELECT EXISTS(SELECT 1 FROM tickets WHERE org_id = $1"
                            " AND commitment_id = $2)",
};

/* Generated from migrations/NNN-*.sql (CMakeLists.txt): migration i brings
 * the schema to version i+1. Append only. */
extern const char *const kwpg_migrations[];
extern const int kwpg_migrations_n;

/* Any number that names the migration lock among a database's advisory locks. */
#define MIGRATE_LOCK "7238000"

/* ---- parameters and columns ---- */

void kwp_int(struct kwp_params *p, int64_t v)
{
    int i = p->n++;
    snprintf(p->num[i], sizeof(p->num[i]), "%" PRId64, v);
    p->v[i] = p->num[i];
    p->len[i] = 0;
    p->fmt[i] = 0;
}

void kwp_text(struct kwp_params *p, const char *s)
{
    int i = p->n++;
    p->v[i] = s;
    p->len[i] = 0;
    p->fmt[i] = 0;
}

void kwp_bytes(struct kwp_params *p, const void *b, int n)
{
    int i = p->n++;
    p->v[i] = b;
    p->len[i] = n;
    p->fmt[i] = 1;
}

void kwp_instant(struct kwp_params *p, int64_t t)
{
    if (t == KW_STORE_NO_TIME)
        kwp_text(p, NULL);
    else
        kwp_int(p, t);
}

int64_t kwp_col_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int64_t kwp_col_instant(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? KW_STORE_NO_TIME : kwp_col_int(res, row, col);
}

const char *kwp_col_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool kwp_col_bytes(const PGresult *res, int row, int col, unsigned char *out, size_t n)
{
    /* results are text: bytea comes as "\x" and two hex digits a byte */
    const char *s = kwp_col_text(res, row, col);
    if (!s || strncmp(s, "\\x", 2) != 0 || strlen(s) != 2 + 2 * n)
        return false;
    return kwp_col_bytes_prefix(s, out, n);
}

bool kwp_col_bytes_prefix(const char *s, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* ---- running statements ---- */

/* PostgreSQL's message without its trailing newline. */
static const char *pg_message(const struct kw_store *st, const PGresult *res, char *buf, size_t n)
{
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(buf, n, "%s", m ? m : PQerrorMessage(st->conn));
    for (char *c = buf; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' '; /* one line (libpq's connection errors have several) */
    size_t len = strlen(buf);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    return buf;
}

void kwp_lend(struct kw_store *st, PGresult *res)
{
    PQclear(st->lent);
    st->lent = res;
}

PGresult *kwp_run(struct kw_store *st, enum pgs s, const struct kwp_params *p, const char *what,
                  char sqlstate[6], struct kw_err *err)
{
    char name[16];
    snprintf(name, sizeof(name), "s%d", (int)s);
    kwp_lend(st, NULL); /* what the last call lent dies now (store.h) */
    PGresult *res = PQexecPrepared(st->conn, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                                   p ? p->fmt : NULL, 0);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        if (sqlstate)
            sqlstate[0] = '\0';
        return res;
    }
    const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (sqlstate)
        snprintf(sqlstate, 6, "%s", code ? code : "");
    char msg[160];
    kw_err_set(err, KW_STORE, "", "%s: %s: %s", st->where, what,
               pg_message(st, res, msg, sizeof(msg)));
    PQclear(res);
    return NULL;
}

enum kw_code kwp_exec(struct kw_store *st, enum pgs s, const struct kwp_params *p, const char *what,
                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = kwp_run(st, s, p, what, NULL, err);
    PQclear(res);
    return res ? KW_OK : err->code;
}

enum kw_code kwp_text_ok(const char *s, const char *field, struct kw_err *err)
{
    if (s && strlen(s) > KW_STORE_TEXT_MAX)
        return kw_err_set(err, KW_TOO_BIG, field, "%s: longer than %d bytes", field + 1,
                          KW_STORE_TEXT_MAX);
    return KW_OK;
}

/* ---- open and close ---- */

/* Run text (one or more statements of our own, no parameters); KW_STORE. */
static enum kw_code plain(struct kw_store *st, const char *text, const char *what,
                          struct kw_err *err)
{
    PGresult *res = PQexec(st->conn, text);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    enum kw_code rc = KW_OK;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        char msg[160];
        rc = kw_err_set(err, KW_STORE, "", "%s: %s: %s", st->where, what,
                        pg_message(st, res, msg, sizeof(msg)));
    }
    PQclear(res);
    return rc;
}

int kw_store_schema_newest(struct kw_store *st)
{
    (void)st;
    return kwpg_migrations_n;
}

int kw_store_schema_version(struct kw_store *st)
{
    PGresult *res = PQexec(st->conn, "SELECT max(version) FROM schema_migrations");
    int v = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                ? (int)kwp_col_int(res, 0, 0)
                : 0;
    PQclear(res);
    return v;
}

/* Bring the schema up to date: every node may open at once, so the whole
 * upgrade is one transaction under an advisory lock (DDL is transactional
 * in PostgreSQL: a failed migration leaves nothing behind). */
static enum kw_code migrate(struct kw_store *st, struct kw_err *err)
{
    if (plain(st,
              "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
              " CREATE TABLE IF NOT EXISTS schema_migrations("
              "version integer PRIMARY KEY, applied_at bigint NOT NULL)",
              "create schema_migrations", err) != KW_OK)
        goto fail;
    int have = kw_store_schema_version(st);
    if (have > kwpg_migrations_n) {
        kw_err_set(err, KW_STORE, "",
                   "%s: schema version %d is newer than this build knows (%d); use a newer "
                   "keepword",
                   st->where, have, kwpg_migrations_n);
        goto fail;
    }
    for (int v = have; v < kwpg_migrations_n; v++) {
        char what[64], ins[128];
        snprintf(what, sizeof(what), "migration %d", v + 1);
        snprintf(ins, sizeof(ins),
                 "INSERT INTO schema_migrations VALUES (%d, extract(epoch FROM now())::bigint)",
                 v + 1);
        if (plain(st, kwpg_migrations[v], what, err) != KW_OK || plain(st, ins, what, err) != KW_OK)
            goto fail;
    }
    if (plain(st, "COMMIT", "commit the migrations", err) == KW_OK)
        return KW_OK;
fail:
    PQclear(PQexec(st->conn, "ROLLBACK"));
    return err ? err->code : KW_STORE;
}

/* Whether the database is one of ours or empty: a database with tables of
 * something else is refused rather than mixed with ours. */
static enum kw_code ours_or_empty(struct kw_store *st, struct kw_err *err)
{
    PGresult *res = PQexec(st->conn, "SELECT to_regclass('schema_migrations') IS NOT NULL,"
                                     " (SELECT count(*) FROM pg_tables"
                                     "  WHERE schemaname = current_schema())");
    bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    bool ours = ok && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    int64_t tables = ok ? kwp_col_int(res, 0, 1) : 0;
    PQclear(res);
    if (!ok)
        return plain(st, "SELECT 1", "read the catalogue", err);
    if (!ours && tables > 0)
        return kw_err_set(err, KW_STORE, "",
                          "%s: not a keepword database (it has %lld other tables and no "
                          "schema_migrations)",
                          st->where, (long long)tables);
    return KW_OK;
}

/* The location as given, for messages, with any password replaced by "***":
 * a URL's user:password@, or a password=... keyword. */
static void redact(const char *loc, char *out, size_t cap)
{
    snprintf(out, cap, "%s", loc);
    char *p, *end;
    if ((p = strstr(out, "://")) != NULL) {
        char *at = strchr(p + 3, '@'), *colon = strchr(p + 3, ':');
        if (at && colon && colon < at && (end = at) > colon + 1) {
            memmove(colon + 4, end, strlen(end) + 1);
            memcpy(colon + 1, "***", 3);
        }
    }
    if ((p = strstr(out, "password")) != NULL && (p = strchr(p, '=')) != NULL) {
        p++;
        while (*p == ' ')
            p++;
        if (*p == '\'') {
            end = p + 1;
            while (*end && *end != '\'')
                end += end[0] == '\\' && end[1] ? 2 : 1;
            if (*end)
                end++;
        } else {
            end = p;
            while (*end && *end != ' ' && *end != '&')
                end++;
        }
        if (end > p && strlen(out) + 3 < cap) {
            memmove(p + 3, end, strlen(end) + 1);
            memcpy(p, "***", 3);
        }
    }
    /* a URL's query: password=... stops at & (handled above) */
}

struct kw_store *kw_store_open(const char *conninfo, struct kw_err *err)
{
    struct kw_store *st = calloc(1, sizeof(*st));
    if (!st) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the store");
        return NULL;
    }
    st->conn = PQconnectdb(conninfo);
    if (!st->conn) {
        kw_err_set(err, KW_NOMEM, "", "no memory for a PostgreSQL connection");
        goto fail;
    }
    redact(conninfo, st->where, sizeof(st->where));
    if (PQstatus(st->conn) != CONNECTION_OK) {
        char msg[160];
        kw_err_set(err, KW_STORE, "", "%s: connect: %s", st->where,
                   pg_message(st, NULL, msg, sizeof(msg)));
        goto fail;
    }
    if (plain(st, "SET client_min_messages = warning; SET TIME ZONE 'UTC'", "configure", err) !=
            KW_OK ||
        ours_or_empty(st, err) != KW_OK || migrate(st, err) != KW_OK)
        goto fail;
    for (int s = 0; s < PGS_COUNT; s++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", s);
        PGresult *res = PQprepare(st->conn, name, kwp_sql[s], 0, NULL);
        bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) {
            char msg[160];
            kw_err_set(err, KW_STORE, "", "%s: prepare %.40s: %s", st->where, kwp_sql[s],
                       pg_message(st, res, msg, sizeof(msg)));
        }
        PQclear(res);
        if (!ok)
            goto fail;
    }
    return st;
fail:
    kw_store_close(st);
    return NULL;
}

struct kw_store *kw_store_open_writer(const char *conninfo, struct kw_err *err)
{
    /* PostgreSQL's upkeep (checkpoints, autovacuum) is the server's own */
    return kw_store_open(conninfo, err);
}

void kw_store_close(struct kw_store *st)
{
    if (!st)
        return;
    PQclear(st->lent);
    PQfinish(st->conn);
    free(st);
}

void kw_store_end_read(struct kw_store *st)
{
    kwp_lend(st, NULL);
}

enum kw_code kw_store_maintain(struct kw_store *st, struct kw_store_upkeep *out, struct kw_err *err)
{
    (void)st;
    (void)err;
    if (out)
        *out = (struct kw_store_upkeep){0};
    return KW_OK;
}

/* ---- transactions ---- */

enum kw_code kwp_tx_begin(struct kw_store *st, bool *outer, struct kw_err *err)
{
    *outer = !st->in_tx;
    if (*outer)
        st->in_tx = true;
    enum kw_code rc = kwp_exec(st, *outer ? PGS_BEGIN : PGS_SAVEPOINT, NULL, "begin", err);
    if (rc != KW_OK && *outer)
        st->in_tx = false;
    return rc;
}

enum kw_code kwp_tx_finish(struct kw_store *st, bool outer, enum kw_code rc, struct kw_err *err)
{
    if (!outer) {
        if (rc != KW_OK) {
            kwp_exec(st, PGS_ROLLBACK_TO, NULL, "roll back", NULL);
            st->changed_ticket = 0; /* its change row is gone too */
        }
        if (kwp_exec(st, PGS_RELEASE, NULL, "release savepoint", rc == KW_OK ? err : NULL) !=
                KW_OK &&
            rc == KW_OK)
            rc = KW_STORE;
        return rc;
    }
    st->in_tx = false;
    st->changed_ticket = 0;
    if (rc == KW_OK && kwp_exec(st, PGS_COMMIT, NULL, "commit", err) != KW_OK)
        rc = KW_STORE;
    if (rc != KW_OK)
        kwp_exec(st, PGS_ROLLBACK, NULL, "roll back", NULL);
    return rc;
}

enum kw_code kw_store_begin(struct kw_store *st, struct kw_err *err)
{
    st->changed_ticket = 0;
    if (kwp_exec(st, PGS_BEGIN, NULL, "begin", err) != KW_OK)
        return KW_STORE;
    st->in_tx = true;
    return KW_OK;
}

enum kw_code kw_store_commit(struct kw_store *st, struct kw_err *err)
{
    st->changed_ticket = 0;
    st->in_tx = false;
    if (kwp_exec(st, PGS_COMMIT, NULL, "commit", err) == KW_OK)
        return KW_OK;
    kwp_exec(st, PGS_ROLLBACK, NULL, "roll back", NULL);
    return KW_STORE;
}

void kw_store_rollback(struct kw_store *st)
{
    st->changed_ticket = 0;
    if (st->in_tx)
        kwp_exec(st, PGS_ROLLBACK, NULL, "roll back", NULL);
    st->in_tx = false;
}

enum kw_code kw_store_savepoint(struct kw_store *st, struct kw_err *err)
{
    st->changed_ticket = 0;
    return kwp_exec(st, PGS_SAVEPOINT, NULL, "savepoint", err);
}

enum kw_code kw_store_release(struct kw_store *st, bool keep, struct kw_err *err)
{
    st->changed_ticket = 0;
    if (!keep)
        kwp_exec(st, PGS_ROLLBACK_TO, NULL, "roll back to savepoint", NULL);
    return kwp_exec(st, PGS_RELEASE, NULL, "release savepoint", err);
}
