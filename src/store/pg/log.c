// SPDX-License-Identifier: MIT
/* The Merkle log's reads and checkpoints, commitments, and tickets read
 * back, on PostgreSQL: the same meaning as the SQLite backend's log.c,
 * org.c and tickets.c. */
#include "pg_int.h"

#include "kw_text.h"
#include "merkle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the Merkle log ---- */

static enum kw_code log_size(struct kw_store *st, uint64_t *size, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    /* this transaction's own leaves count: appended first, under the lock */
    if (kwp_log_settle(st, err) != KW_OK)
        return err->code;
    PGresult *res = kwp_run(st, PGS_LOG_SIZE, NULL, "read the log's size", NULL, err);
    if (!res)
        return err->code;
    *size = (uint64_t)kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_log_size(struct kw_store *st, uint64_t *size, struct kw_err *err)
{
    return log_size(st, size, err);
}

enum kw_code kw_store_log_append(struct kw_store *st, const char *kind, const void *data, size_t n,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!kind || (strcmp(kind, "ledger") != 0 && strcmp(kind, "audit") != 0))
        return kw_err_set(err, KW_INVALID, "/kind",
                          "a leaf appended on its own is ledger or audit");
    if (n == 0 || n > sizeof(((struct kw_log_leaf *)0)->data))
        return kw_err_set(err, KW_INVALID, "/data", "a leaf's data is 1 to 64 bytes");
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, kwp_leaf_append(st, kind, 0, 0, data, n, err), err);
}

/* KW_OK when the log holds at least size leaves; KW_RANGE at field if not. */
static enum kw_code within(struct kw_store *st, uint64_t size, const char *field,
                           struct kw_err *err)
{
    uint64_t have = 0;
    if (log_size(st, &have, err) != KW_OK)
        return err->code;
    if (size > have)
        return kw_err_set(err, KW_RANGE, field, "the log has %llu leaves, not %llu",
                          (unsigned long long)have, (unsigned long long)size);
    return KW_OK;
}

enum kw_code kw_store_log_root(struct kw_store *st, uint64_t size,
                               unsigned char root[KW_MERKLE_HASH], struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = within(st, size, "/size", err);
    return rc == KW_OK ? kw_merkle_root(kwp_node_get, st, size, root, err) : rc;
}

enum kw_code kw_store_log_inclusion(struct kw_store *st, uint64_t leaf, uint64_t size,
                                    unsigned char path[][KW_MERKLE_HASH], size_t *n,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *n = 0;
    enum kw_code rc = within(st, size, "/size", err);
    return rc == KW_OK ? kw_merkle_inclusion(kwp_node_get, st, leaf, size, path, n, err) : rc;
}

enum kw_code kw_store_log_consistency(struct kw_store *st, uint64_t from, uint64_t to,
                                      unsigned char path[][KW_MERKLE_HASH], size_t *n,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *n = 0;
    enum kw_code rc = within(st, to, "/to", err);
    return rc == KW_OK ? kw_merkle_consistency(kwp_node_get, st, from, to, path, n, err) : rc;
}

/* The bytes of a bytea column in text form ("\x..."), up to cap; how many. */
static size_t col_bytea(const PGresult *res, int row, int col, unsigned char *out, size_t cap)
{
    const char *s = kwp_col_text(res, row, col);
    size_t len = s && strncmp(s, "\\x", 2) == 0 ? (strlen(s) - 2) / 2 : 0;
    if (len > cap)
        len = cap;
    return len && kwp_col_bytes_prefix(s, out, len) ? len : 0;
}

enum kw_code kw_store_log_leaf(struct kw_store *st, uint64_t idx, struct kw_log_leaf *out,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_log_settle(st, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, (int64_t)idx);
    PGresult *res = kwp_run(st, PGS_LEAF, &p, "read a log leaf", NULL, err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 1) {
        memset(out, 0, sizeof(*out));
        out->idx = idx;
        snprintf(out->kind, sizeof(out->kind), "%s", kwp_col_text(res, 0, 0));
        out->ticket = kwp_col_int(res, 0, 1);
        out->seq = kwp_col_int(res, 0, 2);
        out->data_len = col_bytea(res, 0, 3, out->data, sizeof(out->data));
    } else {
        rc = kw_err_set(err, KW_NOT_FOUND, "/leaf", "no leaf %llu in the log",
                        (unsigned long long)idx);
    }
    PQclear(res);
    return rc;
}

enum kw_code kw_store_log_event_leaf(struct kw_store *st, int64_t ticket, int64_t seq,
                                     uint64_t *idx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_log_settle(st, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    kwp_int(&p, seq);
    PGresult *res = kwp_run(st, PGS_EVENT_LEAF, &p, "find an event's leaf", NULL, err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 1)
        *idx = (uint64_t)kwp_col_int(res, 0, 0);
    else
        rc = kw_err_set(err, KW_NOT_FOUND, "", "event %lld/%lld is not in the log",
                        (long long)ticket, (long long)seq);
    PQclear(res);
    return rc;
}

enum kw_code kw_store_log_checkpoint_add(struct kw_store *st, uint64_t size, int64_t at,
                                         const char *note, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, (int64_t)size);
    kwp_int(&p, at);
    kwp_text(&p, note);
    PGresult *res = kwp_run(st, PGS_CP_ADD, &p, "store a checkpoint", NULL, err);
    if (!res)
        return err->code;
    bool added = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!added)
        return kw_err_set(err, KW_CONFLICT, "", "a checkpoint of size %llu exists",
                          (unsigned long long)size);
    return KW_OK;
}

static enum kw_code read_cp(struct kw_store *st, enum pgs s, const struct kwp_params *p,
                            struct kw_log_checkpoint *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    memset(out, 0, sizeof(*out));
    PGresult *res = kwp_run(st, s, p, "read a checkpoint", NULL, err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 1) {
        out->size = (uint64_t)kwp_col_int(res, 0, 0);
        out->at = kwp_col_int(res, 0, 1);
        out->note = strdup(kwp_col_text(res, 0, 2));
        if (!out->note)
            rc = kw_err_set(err, KW_NOMEM, "", "no memory for a checkpoint");
    } else {
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no checkpoint signed yet");
    }
    PQclear(res);
    return rc;
}

enum kw_code kw_store_log_checkpoint_last(struct kw_store *st, struct kw_log_checkpoint *out,
                                          struct kw_err *err)
{
    return read_cp(st, PGS_CP_LAST, NULL, out, err);
}

enum kw_code kw_store_log_checkpoint_covering(struct kw_store *st, uint64_t size,
                                              struct kw_log_checkpoint *out, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, (int64_t)size);
    return read_cp(st, PGS_CP_AT, &p, out, err);
}

/* ---- the log's check (`keepword verify`) ---- */

enum stmt { S_LEAVES, S_NODES, S_CENSUS, S_CPS, S_UNLOGGED, S_COUNT };

static const char *const sql[S_COUNT] = {
    /* leaves [$1, $2) with the hash their record keeps, by its key */
    [S_LEAVES] = "SELECT l.idx, l.kind, coalesce(l.ticket, 0), coalesce(l.seq, 0), l.data,"
                 " CASE l.kind"
                 " WHEN 'event' THEN (SELECT hash FROM events WHERE ticket_id = l.ticket"
                 " AND seq = l.seq)"
                 " WHEN 'ledger' THEN (SELECT hash FROM ledger WHERE org_id = l.ticket"
                 " AND seq = l.seq)"
                 " WHEN 'audit' THEN (SELECT hash FROM audit WHERE id = l.seq) END"
                 " FROM log_leaves l WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx",
    [S_NODES] = "SELECT idx, hash FROM log_nodes WHERE level = $1 AND idx >= $2 AND idx < $3"
                " ORDER BY idx",
    [S_CENSUS] = "SELECT (SELECT coalesce(max(idx) + 1, 0) FROM log_leaves),"
                 " (SELECT count(*) FROM log_nodes WHERE level > 0)",
    [S_CPS] = "SELECT size, at, note FROM log_checkpoints WHERE size >= $1 ORDER BY size LIMIT $2",
    /* events without a leaf (a hash anti-join over the leaves' partial
     * index: counting each event's leaves through it, one probe an event,
     * took about twice as long at 1,000,000), events with two or more
     * (the leaves grouped in that index's order), and the ledger's and the
     * audit trail's (few) counted in one pass over the leaves */
    [S_UNLOGGED] =
        "SELECT 'event'::text, e.ticket_id, e.seq, 0 FROM events e WHERE NOT EXISTS"
        " (SELECT 1 FROM log_leaves l WHERE l.kind = 'event' AND l.ticket = e.ticket_id"
        " AND l.seq = e.seq)"
        " UNION ALL SELECT 'event', ticket, seq, count(*) FROM log_leaves WHERE kind = 'event'"
        " GROUP BY ticket, seq HAVING count(*) > 1"
        " UNION ALL SELECT kind, t, q, sum(leaf) FROM (SELECT 'ledger'::text AS kind,"
        " org_id AS t, seq AS q, 0 AS leaf FROM ledger UNION ALL SELECT 'audit', 0, id, 0"
        " FROM audit UNION ALL SELECT kind, coalesce(ticket, 0), coalesce(seq, 0), 1"
        " FROM log_leaves WHERE kind IN ('ledger', 'audit')) y GROUP BY kind, t, q"
        " HAVING sum(1 - leaf) = 1 AND sum(leaf) <> 1 LIMIT $1",
};

const struct kwp_catalogue kwp_log_sql = {sql, S_COUNT};

static PGresult *run(struct kw_store *st, enum stmt s, const struct kwp_params *p, const char *what,
                     struct kw_err *err)
{
    return kwp_run_part(st, KWP_LOG, (int)s, p, what, NULL, err);
}

enum kw_code kw_store_log_leaves(struct kw_store *st, uint64_t from, uint64_t n,
                                 bool (*fn)(const struct kw_log_leaf_record *r, void *ctx),
                                 void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (n > KW_STORE_LOG_PAGE_MAX)
        return kw_err_set(err, KW_INVALID, "/n", "a page of the log is 1 to %d leaves",
                          KW_STORE_LOG_PAGE_MAX);
    if (kwp_log_settle(st, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, (int64_t)from);
    kwp_int(&p, (int64_t)(from + n));
    PGresult *res = run(st, S_LEAVES, &p, "read the log's leaves", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_log_leaf_record x = {.leaf.idx = (uint64_t)kwp_col_int(res, r, 0)};
        snprintf(x.leaf.kind, sizeof(x.leaf.kind), "%s", kwp_col_text(res, r, 1));
        x.leaf.ticket = kwp_col_int(res, r, 2);
        x.leaf.seq = kwp_col_int(res, r, 3);
        x.leaf.data_len = col_bytea(res, r, 4, x.leaf.data, sizeof(x.leaf.data));
        x.found = !PQgetisnull(res, r, 5);
        if (x.found && !kwp_col_bytes(res, r, 5, x.hash, KW_HASH_BYTES))
            memset(x.hash, 0, sizeof(x.hash));
        if (!fn(&x, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_log_nodes(struct kw_store *st, unsigned level, uint64_t from, uint64_t n,
                                bool (*fn)(uint64_t idx, const unsigned char hash[32], void *ctx),
                                void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (n > KW_STORE_LOG_PAGE_MAX || level > 62)
        return kw_err_set(err, KW_INVALID, "/n",
                          "a page of the log is 1 to %d nodes of level 0 to 62",
                          KW_STORE_LOG_PAGE_MAX);
    if (kwp_log_settle(st, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, level);
    kwp_int(&p, (int64_t)from);
    kwp_int(&p, (int64_t)(from + n));
    PGresult *res = run(st, S_NODES, &p, "read the log's nodes", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        unsigned char h[KW_MERKLE_HASH] = {0};
        if (!kwp_col_bytes(res, r, 1, h, KW_MERKLE_HASH))
            memset(h, 0, sizeof(h));
        if (!fn((uint64_t)kwp_col_int(res, r, 0), h, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_log_census(struct kw_store *st, uint64_t *size, uint64_t *nodes,
                                 unsigned *lowest, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *lowest = 0; /* every node is a row, a leaf's too */
    if (kwp_log_settle(st, err) != KW_OK)
        return err->code;
    PGresult *res = run(st, S_CENSUS, NULL, "count the log", err);
    if (!res)
        return err->code;
    *size = (uint64_t)kwp_col_int(res, 0, 0);
    *nodes = (uint64_t)kwp_col_int(res, 0, 1);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_log_checkpoints(struct kw_store *st, uint64_t from, size_t limit,
                                      bool (*fn)(const struct kw_log_checkpoint *cp, void *ctx),
                                      void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, (int64_t)from);
    kwp_int(&p, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    PGresult *res = run(st, S_CPS, &p, "read the log's checkpoints", err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_log_checkpoint cp = {.size = (uint64_t)kwp_col_int(res, r, 0),
                                       .at = kwp_col_int(res, r, 1),
                                       .note = strdup(kwp_col_text(res, r, 2))};
        if (!cp.note) {
            rc = kw_err_set(err, KW_NOMEM, "", "no memory for a checkpoint");
            break;
        }
        bool more = fn(&cp, ctx);
        free(cp.note);
        if (!more)
            break;
    }
    PQclear(res);
    return rc;
}

enum kw_code kw_store_log_unlogged(struct kw_store *st, size_t limit,
                                   bool (*fn)(const char *kind, int64_t ticket, int64_t seq,
                                              int64_t leaves, void *ctx),
                                   void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_log_settle(st, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    PGresult *res = run(st, S_UNLOGGED, &p, "find records the log lacks", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++)
        if (!fn(kwp_col_text(res, r, 0), kwp_col_int(res, r, 1), kwp_col_int(res, r, 2),
                kwp_col_int(res, r, 3), ctx))
            break;
    PQclear(res);
    return KW_OK;
}

/* ---- commitments ---- */

enum kw_code kw_store_commitment_insert(struct kw_store *st, const char *name, const char *version,
                                        int64_t effective_from, const char *doc, int64_t now,
                                        int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, name);
    kwp_text(&p, version);
    kwp_int(&p, effective_from);
    kwp_text(&p, doc);
    kwp_int(&p, now);
    PGresult *res = kwp_run(st, PGS_COMMITMENT_INSERT, &p, "insert commitment", NULL, err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 1)
        *id = kwp_col_int(res, 0, 0);
    else
        rc = kw_err_set(err, KW_CONFLICT, "/version",
                        "version %.40s of \"%.60s\" exists; give the new one its own version",
                        version, name);
    PQclear(res);
    return rc;
}

enum kw_code kw_store_commitment_doc(struct kw_store *st, int64_t id, char **doc,
                                     struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, PGS_COMMITMENT_DOC, &p, "read commitment", NULL, err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) != 1)
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no commitment %lld", (long long)id);
    else if (!(*doc = strdup(kwp_col_text(res, 0, 0))))
        rc = kw_err_set(err, KW_NOMEM, "", "no memory");
    PQclear(res);
    return rc;
}

enum kw_code kw_store_commitments(struct kw_store *st,
                                  bool (*fn)(const struct kw_commitment_row *c, void *ctx),
                                  void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = kwp_run(st, PGS_COMMITMENTS, NULL, "list commitments", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_commitment_row c = {
            .id = kwp_col_int(res, r, 0),
            .name = kwp_col_text(res, r, 1),
            .version = kwp_col_text(res, r, 2),
            .effective_from = kwp_col_int(res, r, 3),
            .created_at = kwp_col_int(res, r, 4),
        };
        if (!fn(&c, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_commitment_at(struct kw_store *st, int64_t t, int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, t);
    PGresult *res = kwp_run(st, PGS_COMMITMENT_AT, &p, "read commitments", NULL, err);
    if (!res)
        return err->code;
    *id = PQntuples(res) == 1 ? kwp_col_int(res, 0, 0) : 0;
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_commitment_used(struct kw_store *st, int64_t id, int64_t org_id, bool *used,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, org_id);
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, PGS_COMMITMENT_USED, &p, "read commitment use", NULL, err);
    if (!res)
        return err->code;
    *used = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return KW_OK;
}

/* ---- tickets read back ---- */

void kwp_read_ticket(const PGresult *res, int r, struct kw_ticket_row *out)
{
    *out = (struct kw_ticket_row){
        .id = kwp_col_int(res, r, 0),
        .org_id = kwp_col_int(res, r, 1),
        .created_by = kwp_col_int(res, r, 2),
        .created_at = kwp_col_int(res, r, 3),
        .updated_at = kwp_col_int(res, r, 4),
        .last_seq = kwp_col_int(res, r, 5),
        .title = kwp_col_text(res, r, 6),
        .state = kwp_col_text(res, r, 7),
        .level = kwp_col_text(res, r, 8),
        .tier = kwp_col_text(res, r, 9),
        .category = kwp_col_text(res, r, 10),
        .region = kwp_col_text(res, r, 11),
        .channel = kwp_col_text(res, r, 12),
        .commitment_id = kwp_col_int(res, r, 14),
        .assignee_id = kwp_col_int(res, r, 15),
        .team_id = kwp_col_int(res, r, 16),
        .next_due = kwp_col_instant(res, r, 17),
        .breached_at = kwp_col_instant(res, r, 18),
        .requester_id = kwp_col_int(res, r, 19),
    };
    kwp_col_bytes(res, r, 13, out->head, KW_HASH_BYTES);
}

enum kw_code kw_store_tickets(struct kw_store *st, const struct kw_ticket_filter *f,
                              bool (*fn)(const struct kw_ticket_row *t, void *ctx), void *ctx,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (f->q)
        return kwp_search(st, f, fn, ctx, err);
    enum pgs s = f->by_due ? PGS_TICKETS_DUE : PGS_TICKETS;
    int key = 0;
    if (f->order) {
        static const char *const keys[] = {"id",  "title",   "state",  "level",
                                           "due", "updated", "created"};
        bool desc = f->order[0] == '-';
        key = -1;
        for (int i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++)
            if (strcmp(f->order + desc, keys[i]) == 0)
                key = i;
        if (key < 0)
            return kw_err_set(err, KW_INVALID, "/sort",
                              "sort: expected one of %s, - first for descending", KW_TICKET_ORDERS);
        s = desc ? PGS_TICKETS_DESC : PGS_TICKETS_ASC;
    }
    struct kwp_params p = {0};
    /* ordered: rows after skipping `offset` (store.h); else after the id */
    kwp_int(&p, f->order ? (int64_t)f->offset : f->after);
    kwp_int(&p, f->org_id);
    kwp_text(&p, f->state);
    kwp_text(&p, f->level);
    kwp_int(&p, (int64_t)(f->limit ? f->limit : 50));
    kwp_int(&p, f->assignee_id);
    kwp_int(&p, f->breached);
    kwp_int(&p, f->now);
    kwp_instant(&p, f->due_before);
    kwp_int(&p, f->after_due);
    kwp_int(&p, f->team_id);
    kwp_text(&p, f->category);
    kwp_int(&p, f->unassigned);
    if (f->order)
        kwp_int(&p, key);
    PGresult *res = kwp_run(st, s, &p, "list tickets", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_ticket_row t;
        kwp_read_ticket(res, r, &t);
        if (!fn(&t, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_ticket_get(struct kw_store *st, int64_t id, struct kw_ticket_row *out,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_pre_ticket(st, id, out)) /* read ahead (kw_store_prefetch) */
        return KW_OK;
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, PGS_TICKET_GET, &p, "read ticket", NULL, err);
    if (!res)
        return err->code;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)id);
    }
    kwp_read_ticket(res, 0, out);
    kwp_lend(st, res); /* the strings live until the next call */
    return KW_OK;
}

enum kw_code kw_store_ticket_state(struct kw_store *st, int64_t ticket, char *buf, size_t cap,
                                   struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res = kwp_run(st, PGS_TICKET_STATE, &p, "read ticket", NULL, err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 1)
        snprintf(buf, cap, "%s", kwp_col_text(res, 0, 0));
    else
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    PQclear(res);
    return rc;
}

/* ---- people ---- */

enum kw_code kw_store_user_insert(struct kw_store *st, const struct kw_user *u,
                                  const char *password_hash, int64_t now, int64_t *id,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    /* the address goes into SMTP's RCPT TO: RFC 5321 syntax, no controls */
    if (!u->email || strlen(u->email) > 254 || !kw_email_ok(u->email, strlen(u->email)))
        return kw_err_set(err, KW_INVALID, "/email",
                          "email: expected an e-mail address like li.na@example.com (no spaces, "
                          "quotes, brackets or control characters)");
    if (!u->name || !*u->name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (kwp_text_ok(u->name, "/name", err) != KW_OK)
        return err->code;
    /* which reference is missing, at its field (a foreign key's failure
     * would not say) */
    if (kwp_refs(st, (const int64_t[4]){u->org_id, u->team_id, 0, 0},
                 (const char *const[4]){"/org_id", "/team_id", "", ""}, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_text(&p, u->email);
    kwp_text(&p, u->name);
    kwp_text(&p, u->role);
    kwp_int(&p, u->org_id);
    kwp_int(&p, u->team_id);
    kwp_text(&p, password_hash);
    kwp_int(&p, now);
    kwp_text(&p, u->skills);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    char state[6];
    PGresult *res = kwp_run(st, PGS_USER_INSERT, &p, "insert user", state, err);
    enum kw_code rc = KW_OK;
    if (!res && strcmp(state, "23514") == 0) /* check_violation: the role */
        rc = kw_err_set(err, KW_INVALID, "/role",
                        "role: expected admin, manager, agent or customer");
    else if (!res && strcmp(state, "23503") == 0) /* foreign_key_violation */
        rc = kw_err_set(err, KW_NOT_FOUND, "/org_id", "no such organisation or team");
    else if (!res)
        rc = KW_STORE;
    else if (PQntuples(res) == 0)
        rc = kw_err_set(err, KW_CONFLICT, "/email", "email: %.80s is taken", u->email);
    else
        *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return kwp_tx_finish(st, outer, rc, err);
}

enum kw_code kw_store_user_count(struct kw_store *st, const char *role, int64_t *n,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, role);
    PGresult *res = kwp_run(st, PGS_USER_COUNT, &p, "count users", NULL, err);
    if (!res)
        return err->code;
    *n = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}
