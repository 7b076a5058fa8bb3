// SPDX-License-Identifier: MIT
/*
 * copy.c - moving a desk from SQLite to PostgreSQL (kw_store_copy_from,
 * `keepword copy`). The SQLite database is read in one read transaction
 * (a consistent instant, while a server may go on writing to it) and
 * written into the PostgreSQL one in one transaction, table by table in an
 * order that satisfies the foreign keys, as multi-row INSERTs of up to 500
 * rows with text parameters (bytea as binary). Rows keep their ids, so
 * chains, hashes and references stay as they are; each id sequence is then
 * set past its largest id. The events' triggers (notifications, search
 * rows) are off meanwhile: their rows are copied as SQLite wrote them.
 */
#include "pg_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kw_buf.h"
#include "kw_err.h"
#include "merkle.h"

int kwsq_schema_latest(void); /* store.c: SQLite's newest schema version */

/* The tables, in an order that satisfies the foreign keys. select: how to
 * read them from SQLite (NULL: every column). Two references go round in
 * a circle (teams.lead_id and orgs.account_manager_id name users, who name
 * teams and orgs): those columns are written after the users (late). */
static const struct table {
    const char *name;
    const char *select;
    const char *late; /* a column written once the users are there, or NULL */
} tables[] = {
    {"teams", NULL, "lead_id"},
    {"orgs", NULL, "account_manager_id"},
    {"users", NULL, NULL},
    {"calendars", NULL, NULL},
    {"calendar_versions", NULL, NULL},
    {"commitments", NULL, NULL},
    {"tickets", NULL, NULL},
    {"events", NULL, NULL},
    {"clocks", NULL, NULL},
    {"claims", NULL, NULL},
    {"changes", NULL, NULL},
    {"log_leaves", NULL, NULL},
    /* SQLite keeps no leaf's own node since its migration 046 (the hash
     * of the leaf's data); PostgreSQL's appends read them, so they are
     * computed here (leaf_hash below) */
    {"log_nodes",
     "SELECT 0 AS level, idx, kw_merkle_leaf(data) AS hash FROM log_leaves"
     " UNION ALL SELECT level, idx, hash FROM log_nodes WHERE level > 0",
     NULL},
    {"log_checkpoints", NULL, NULL},
    {"tokens", NULL, NULL},
    {"oncall", NULL, NULL},
    {"endpoints", NULL, NULL},
    {"subscriptions", NULL, NULL},
    {"outbox", NULL, NULL},
    {"overruns", NULL, NULL},
    {"kpi_runs", NULL, NULL},
    {"kpi_resolved", NULL, NULL},
    {"kpi_states", NULL, NULL},
    {"views", NULL, NULL},
    {"notifications", NULL, NULL},
    {"watch_settings", NULL, NULL},
    {"watch_flags", NULL, NULL},
    {"audit", NULL, NULL},
    {"attachments", NULL, NULL},
    {"attachment_blobs", NULL, NULL},
    {"contracts", NULL, NULL},
    {"ledger", NULL, NULL},
    {"ledger_requests", NULL, NULL},
    {"period_closes", NULL, NULL},
    {"receipts", NULL, NULL},
    {"intake_sources", NULL, NULL},
    {"alerts", NULL, NULL},
    {"mailboxes", NULL, NULL},
    {"mails", NULL, NULL},
    {"mail_ids", NULL, NULL},
    {"team_costs", NULL, NULL},
    {"watchers", NULL, NULL},
    {"ticket_links", NULL, NULL},
    {"canned_replies", NULL, NULL},
    /* the ids are the order written (the newest texts have the highest);
     * read from search_text, the FTS5 index's content: since SQLite 039 the
     * index's tokenizer is the server's own, which this connection lacks */
    {"search", "SELECT id, ticket, kind, text FROM search_text ORDER BY id", NULL},
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

/* SQLite's tables that are not copied: its migrations' record (PostgreSQL
 * keeps its own), the log's backfill mark (checked to be done), and the
 * search index's own tables (FTS5's shadow tables; since migration 033 the
 * texts are search_text, which "search" above reads (the index's
 * content), and search_upto the index's batch mark). */
static const char *const not_copied[] = {
    "schema_migrations", "log_meta",      "search_data", "search_idx",  "search_content",
    "search_docsize",    "search_config", "search_text", "search_upto",
};

#define BATCH_ROWS 500
#define MAX_PARAMS 60000 /* PostgreSQL takes at most 65,535 per statement */

struct copier {
    struct kw_store *st;
    sqlite3 *src;
    const char *from;
    /* one batch: the values' bytes in buf (offsets, so buf may grow) */
    char *buf;
    size_t len, cap;
    size_t *off;
    int *vlen, *fmt;
    const char **vals;
    size_t nparams_cap;
    char *sql;
    size_t sql_cap;
};

static enum kw_code pg_fail(struct copier *c, PGresult *res, const char *what, struct kw_err *err)
{
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *d = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    char msg[256];
    snprintf(msg, sizeof(msg), "%s%s%s", m ? m : PQerrorMessage(c->st->conn), d ? ": " : "",
             d ? d : "");
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return kw_err_set(err, KW_STORE, "", "%s: %s: %s", c->st->where, what, msg);
}

static enum kw_code sq_fail(struct copier *c, const char *what, struct kw_err *err)
{
    return kw_err_set(err, KW_STORE, "", "%s: %s: %s", c->from, what, sqlite3_errmsg(c->src));
}

/* Run text with no parameters; KW_STORE naming what. */
static enum kw_code pg_do(struct copier *c, const char *text, const char *what, struct kw_err *err)
{
    PGresult *res = PQexec(c->st->conn, text);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    enum kw_code rc = KW_OK;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        rc = pg_fail(c, res, what, err);
    PQclear(res);
    return rc;
}

/* The SQLite database is at the newest schema, its Merkle log complete, and
 * it has no table this file does not know (which would be left behind). */
static enum kw_code source_ok(struct copier *c, struct kw_err *err)
{
    sqlite3_stmt *q = NULL;
    enum kw_code rc = KW_OK;
    int version = 0;
    if (sqlite3_prepare_v2(c->src, "SELECT max(version) FROM schema_migrations", -1, &q, NULL) !=
        SQLITE_OK)
        return kw_err_set(err, KW_INVALID, "/from",
                          "%s: not a keepword database (no schema_migrations table)", c->from);
    if (sqlite3_step(q) == SQLITE_ROW)
        version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (version != kwsq_schema_latest())
        return kw_err_set(err, KW_INVALID, "/from",
                          "%s: schema version %d, but this keepword copies version %d (run "
                          "keepword migrate --db on it first, with the keepword that made it "
                          "if it is newer)",
                          c->from, version, kwsq_schema_latest());
    if (sqlite3_prepare_v2(c->src, "SELECT v FROM log_meta WHERE k = 'backfill'", -1, &q, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) != 0)
            rc = kw_err_set(err, KW_INVALID, "/from",
                            "%s: the Merkle log has events still to append (open it once with "
                            "keepword migrate --db first)",
                            c->from);
        sqlite3_finalize(q);
    }
    if (rc != KW_OK)
        return rc;
    if (sqlite3_prepare_v2(c->src,
                           "SELECT name FROM sqlite_master WHERE type = 'table'"
                           " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                           -1, &q, NULL) != SQLITE_OK)
        return sq_fail(c, "read the list of tables", err);
    while (rc == KW_OK && sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        bool known = false;
        for (size_t i = 0; !known && i < N_TABLES; i++)
            known = strcmp(name, tables[i].name) == 0;
        for (size_t i = 0; !known && i < sizeof(not_copied) / sizeof(not_copied[0]); i++)
            known = strcmp(name, not_copied[i]) == 0;
        if (!known)
            rc = kw_err_set(err, KW_INVALID, "/from",
                            "%s: table %s has no place on PostgreSQL in this keepword", c->from,
                            name);
    }
    sqlite3_finalize(q);
    return rc;
}

/* The PostgreSQL database holds no desk yet: no table has a row (the watch
 * list's settings are the migration's defaults, which the copy replaces). */
static enum kw_code target_empty(struct copier *c, struct kw_err *err)
{
    for (size_t i = 0; i < N_TABLES; i++) {
        if (strcmp(tables[i].name, "watch_settings") == 0)
            continue;
        char q[128];
        snprintf(q, sizeof(q), "SELECT EXISTS (SELECT 1 FROM %s)", tables[i].name);
        PGresult *res = PQexec(c->st->conn, q);
        if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
            enum kw_code rc = pg_fail(c, res, tables[i].name, err);
            PQclear(res);
            return rc;
        }
        bool any = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (any)
            return kw_err_set(err, KW_CONFLICT, "/to",
                              "%s: not empty (table %s has rows); copy needs a database with no "
                              "desk in it (make one with createdb, and do not run keepword init "
                              "on it)",
                              c->st->where, tables[i].name);
    }
    return KW_OK;
}

/* Whether PostgreSQL's column is bytea (sent as binary), and that it
 * exists: a column SQLite has and PostgreSQL lacks is an error. */
static enum kw_code column_types(struct copier *c, const char *table, sqlite3_stmt *q, bool *bytea,
                                 struct kw_err *err)
{
    const char *params[1] = {table};
    PGresult *res = PQexecParams(c->st->conn,
                                 "SELECT column_name, data_type FROM information_schema.columns"
                                 " WHERE table_schema = current_schema() AND table_name = $1",
                                 1, NULL, params, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        enum kw_code rc = pg_fail(c, res, table, err);
        PQclear(res);
        return rc;
    }
    enum kw_code rc = KW_OK;
    for (int col = 0; rc == KW_OK && col < sqlite3_column_count(q); col++) {
        const char *name = sqlite3_column_name(q, col);
        int found = -1;
        for (int r = 0; found < 0 && r < PQntuples(res); r++)
            if (strcmp(PQgetvalue(res, r, 0), name) == 0)
                found = r;
        if (found < 0)
            rc = kw_err_set(err, KW_STORE, "", "%s: table %s has no column %s", c->st->where, table,
                            name);
        else
            bytea[col] = strcmp(PQgetvalue(res, found, 1), "bytea") == 0;
    }
    PQclear(res);
    return rc;
}

/* Send the batch of `rows` rows of ncols columns as one INSERT. */
static enum kw_code flush(struct copier *c, const struct table *t, sqlite3_stmt *q, int ncols,
                          int rows, struct kw_err *err)
{
    /* "$NNNNNN, " per value, "(), " per row, the quoted names once */
    size_t need =
        64 + strlen(t->name) + (size_t)ncols * 72 + (size_t)rows * ((size_t)ncols * 12 + 8);
    if (!kw_grow((void **)&c->sql, &c->sql_cap, need, 1))
        return kw_err_set(err, KW_NOMEM, "", "no memory to copy %s", t->name);
    size_t n = (size_t)snprintf(c->sql, c->sql_cap, "INSERT INTO %s(", t->name);
    for (int col = 0; col < ncols; col++)
        n += (size_t)snprintf(c->sql + n, c->sql_cap - n, "%s\"%s\"", col ? ", " : "",
                              sqlite3_column_name(q, col));
    n += (size_t)snprintf(c->sql + n, c->sql_cap - n, ") VALUES ");
    for (int r = 0; r < rows; r++) {
        n += (size_t)snprintf(c->sql + n, c->sql_cap - n, "%s(", r ? ", " : "");
        for (int col = 0; col < ncols; col++)
            n += (size_t)snprintf(c->sql + n, c->sql_cap - n, "%s$%d", col ? ", " : "",
                                  r * ncols + col + 1);
        n += (size_t)snprintf(c->sql + n, c->sql_cap - n, ")");
    }
    int np = rows * ncols;
    for (int i = 0; i < np; i++)
        c->vals[i] = c->off[i] == (size_t)-1 ? NULL : c->buf + c->off[i];
    PGresult *res = PQexecParams(c->st->conn, c->sql, np, NULL, c->vals, c->vlen, c->fmt, 0);
    enum kw_code rc = KW_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        char what[96];
        snprintf(what, sizeof(what), "copy table %s", t->name);
        rc = pg_fail(c, res, what, err);
    }
    PQclear(res);
    c->len = 0;
    return rc;
}

/* kw_merkle_leaf(data): the leaf's node, SHA-256(0x00 || data), as a
 * blob (RFC 6962 2.1; core/merkle.h). */
static void leaf_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    unsigned char h[KW_MERKLE_HASH];
    kw_merkle_leaf(sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]), h);
    sqlite3_result_blob(ctx, h, KW_MERKLE_HASH, SQLITE_TRANSIENT);
}

/* Copy one table; adds its rows to *rows. */
static enum kw_code copy_table(struct copier *c, const struct table *t, int64_t *rows,
                               struct kw_err *err)
{
    char text[256];
    if (t->select)
        snprintf(text, sizeof(text), "%s", t->select);
    else
        snprintf(text, sizeof(text), "SELECT * FROM %s", t->name);
    sqlite3_stmt *q = NULL;
    bool *bytea = NULL;
    enum kw_code rc = KW_OK;
    if (sqlite3_prepare_v2(c->src, text, -1, &q, NULL) != SQLITE_OK) {
        snprintf(text, sizeof(text), "read table %s", t->name);
        return sq_fail(c, text, err);
    }
    int ncols = sqlite3_column_count(q);
    int late = -1;
    for (int col = 0; t->late && col < ncols; col++)
        if (strcmp(sqlite3_column_name(q, col), t->late) == 0)
            late = col;
    bytea = calloc((size_t)ncols + 1, sizeof(*bytea));
    if (!bytea) {
        rc = kw_err_set(err, KW_NOMEM, "", "no memory to copy %s", t->name);
        goto out;
    }
    if ((rc = column_types(c, t->name, q, bytea, err)) != KW_OK)
        goto out;
    int per_batch = MAX_PARAMS / (ncols ? ncols : 1);
    if (per_batch > BATCH_ROWS)
        per_batch = BATCH_ROWS;
    size_t np = (size_t)per_batch * (size_t)ncols;
    if (!kw_grow((void **)&c->off, &c->nparams_cap, np, sizeof(*c->off)) ||
        !(c->vlen = realloc(c->vlen, c->nparams_cap * sizeof(*c->vlen))) ||
        !(c->fmt = realloc(c->fmt, c->nparams_cap * sizeof(*c->fmt))) ||
        !(c->vals = realloc(c->vals, c->nparams_cap * sizeof(*c->vals)))) {
        rc = kw_err_set(err, KW_NOMEM, "", "no memory to copy %s", t->name);
        goto out;
    }
    int in_batch = 0, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        for (int col = 0; col < ncols; col++) {
            size_t i = (size_t)in_batch * (size_t)ncols + (size_t)col;
            int type = sqlite3_column_type(q, col);
            c->fmt[i] = 0;
            c->vlen[i] = 0;
            if (type == SQLITE_NULL || col == late) {
                c->off[i] = (size_t)-1;
                continue;
            }
            const void *v;
            size_t len;
            if (bytea[col]) {
                v = sqlite3_column_blob(q, col);
                len = (size_t)sqlite3_column_bytes(q, col);
                c->fmt[i] = 1;
                c->vlen[i] = (int)len;
            } else {
                v = sqlite3_column_text(q, col);
                len = (size_t)sqlite3_column_bytes(q, col);
                if (memchr(v, '\0', len)) {
                    rc = kw_err_set(err, KW_INVALID, "/from",
                                    "%s: table %s, column %s holds a NUL byte, which "
                                    "PostgreSQL's text cannot",
                                    c->from, t->name, sqlite3_column_name(q, col));
                    goto out;
                }
            }
            if (!kw_grow((void **)&c->buf, &c->cap, c->len + len + 1, 1)) {
                rc = kw_err_set(err, KW_NOMEM, "", "no memory to copy %s", t->name);
                goto out;
            }
            if (len)
                memcpy(c->buf + c->len, v, len);
            c->buf[c->len + len] = '\0';
            c->off[i] = c->len;
            c->len += len + 1;
        }
        (*rows)++;
        if (++in_batch == per_batch) {
            if ((rc = flush(c, t, q, ncols, in_batch, err)) != KW_OK)
                goto out;
            in_batch = 0;
        }
    }
    if (step != SQLITE_DONE) {
        snprintf(text, sizeof(text), "read table %s", t->name);
        rc = sq_fail(c, text, err);
        goto out;
    }
    if (in_batch)
        rc = flush(c, t, q, ncols, in_batch, err);
out:
    sqlite3_finalize(q);
    free(bytea);
    return rc;
}

/* Write the late column of t (see tables[]) row by row. */
static enum kw_code copy_late(struct copier *c, const struct table *t, struct kw_err *err)
{
    char text[256];
    snprintf(text, sizeof(text), "SELECT id, %s FROM %s WHERE %s IS NOT NULL", t->late, t->name,
             t->late);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(c->src, text, -1, &q, NULL) != SQLITE_OK)
        return sq_fail(c, "read the references of teams and organisations", err);
    snprintf(text, sizeof(text), "UPDATE %s SET %s = $2 WHERE id = $1", t->name, t->late);
    enum kw_code rc = KW_OK;
    int step;
    while (rc == KW_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *p[2] = {(const char *)sqlite3_column_text(q, 0),
                            (const char *)sqlite3_column_text(q, 1)};
        PGresult *res = PQexecParams(c->st->conn, text, 2, NULL, p, NULL, NULL, 0);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            char what[96];
            snprintf(what, sizeof(what), "copy %s.%s", t->name, t->late);
            rc = pg_fail(c, res, what, err);
        }
        PQclear(res);
    }
    sqlite3_finalize(q);
    return rc;
}

/* Set every id sequence of our tables past the largest id copied. */
static enum kw_code sequences(struct copier *c, struct kw_err *err)
{
    PGresult *res =
        PQexec(c->st->conn, "SELECT table_name, column_name FROM information_schema.columns"
                            " WHERE table_schema = current_schema()"
                            " AND column_default LIKE 'nextval(%' ORDER BY table_name");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        enum kw_code rc = pg_fail(c, res, "read the id sequences", err);
        PQclear(res);
        return rc;
    }
    enum kw_code rc = KW_OK;
    for (int r = 0; rc == KW_OK && r < PQntuples(res); r++) {
        const char *t = PQgetvalue(res, r, 0), *col = PQgetvalue(res, r, 1);
        char q[512];
        /* names from the catalogue of our own schema, quoted all the same */
        snprintf(q, sizeof(q),
                 "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'),"
                 " coalesce((SELECT max(\"%s\") FROM \"%s\"), 1),"
                 " (SELECT max(\"%s\") FROM \"%s\") IS NOT NULL)",
                 t, col, col, t, col, t);
        rc = pg_do(c, q, "set the id sequences", err);
    }
    PQclear(res);
    return rc;
}

enum kw_code kw_store_copy_from(struct kw_store *st, const char *from, struct kw_store_copied *out,
                                struct kw_err *err)
{
    struct copier c = {.st = st, .from = from};
    struct kw_store_copied done = {0};
    enum kw_code rc = KW_OK;
    bool pg_tx = false;
    if (out)
        *out = done;
    struct stat sb;
    if (stat(from, &sb) != 0 || !S_ISREG(sb.st_mode))
        return kw_err_set(err, KW_NOT_FOUND, "/from", "%s: no such database file", from);
    if (sqlite3_open_v2(from, &c.src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = sq_fail(&c, "open", err);
        goto out;
    }
    sqlite3_busy_timeout(c.src, 5000);
    if (sqlite3_create_function(c.src, "kw_merkle_leaf", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, leaf_hash, NULL, NULL) != SQLITE_OK) {
        rc = sq_fail(&c, "register the log's leaf hash", err);
        goto out;
    }
    /* one read transaction: the copy is the database as at one instant */
    if (sqlite3_exec(c.src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
        SQLITE_OK) {
        rc = sq_fail(&c, "begin a read", err);
        goto out;
    }
    if ((rc = source_ok(&c, err)) != KW_OK)
        goto out;
    if ((rc = pg_do(&c, "BEGIN", "begin", err)) != KW_OK)
        goto out;
    pg_tx = true;
    /* the notifications and search rows the events' triggers would write
     * again are copied as they are */
    if ((rc = target_empty(&c, err)) != KW_OK ||
        (rc = pg_do(&c,
                    "ALTER TABLE events DISABLE TRIGGER events_notify;"
                    " ALTER TABLE events DISABLE TRIGGER events_notify_sla;"
                    " ALTER TABLE events DISABLE TRIGGER events_search;"
                    " ALTER TABLE events DISABLE TRIGGER kpi_resolved_add;"
                    " ALTER TABLE events DISABLE TRIGGER kpi_states_add;"
                    " DELETE FROM watch_settings",
                    "make ready to copy (the owner of the tables must run the copy)", err)) !=
            KW_OK)
        goto out;
    for (size_t i = 0; i < N_TABLES; i++) {
        if ((rc = copy_table(&c, &tables[i], &done.rows, err)) != KW_OK)
            goto out;
        done.tables++;
        if (strcmp(tables[i].name, "users") == 0)
            for (size_t j = 0; j < i; j++)
                if (tables[j].late && (rc = copy_late(&c, &tables[j], err)) != KW_OK)
                    goto out;
    }
    if ((rc = sequences(&c, err)) != KW_OK ||
        (rc = pg_do(&c,
                    "ALTER TABLE events ENABLE TRIGGER events_notify;"
                    " ALTER TABLE events ENABLE TRIGGER events_notify_sla;"
                    " ALTER TABLE events ENABLE TRIGGER events_search;"
                    " ALTER TABLE events ENABLE TRIGGER kpi_resolved_add;"
                    " ALTER TABLE events ENABLE TRIGGER kpi_states_add",
                    "turn the events' triggers on again", err)) != KW_OK)
        goto out;
    rc = pg_do(&c, "COMMIT", "commit the copy", err);
    pg_tx = false;
out:
    if (pg_tx)
        PQclear(PQexec(st->conn, "ROLLBACK"));
    if (c.src) {
        sqlite3_exec(c.src, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(c.src);
    }
    free(c.buf);
    free(c.off);
    free(c.vlen);
    free(c.fmt);
    free(c.vals);
    free(c.sql);
    if (rc == KW_OK && out)
        *out = done;
    return rc;
}

/* keepword backup writes a SQLite file, a copy of a SQLite database at one
 * instant: a PostgreSQL database is copied with its own tools instead
 * (pg_dump, which reads one snapshot while nodes go on writing;
 * docs/operations.md "Backups"). */
enum kw_code kw_store_backup(struct kw_store *st, const char *to, struct kw_err *err)
{
    (void)st;
    (void)to;
    return kw_err_set(err, KW_INVALID, "",
                      "backup copies a SQLite database only: back up a PostgreSQL database "
                      "with pg_dump (docs/operations.md \"Backups\")");
}
