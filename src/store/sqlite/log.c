// SPDX-License-Identifier: MIT
/* The deployment-wide Merkle log: leaves appended in the writer's
 * transaction, the complete subtrees of two leaves or more kept in
 * log_nodes (a leaf's own node is the hash of its data in log_leaves,
 * migration 046; core/merkle.h does the arithmetic), proofs, and the
 * signed checkpoints. */
#include "sqlite_int.h"

#include "merkle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stmt {
    S_SIZE,
    S_LEAF_ADD,
    S_NODE_GET,
    S_NODE_PUT,
    S_EVENT_LEAF,
    S_LEAF,
    S_LEAF_DATA,
    S_CP_ADD,
    S_CP_LAST,
    S_CP_AT,
    S_BACKFILL_PENDING,
    S_BACKFILL_EVENTS,
    S_BACKFILL_DONE,
    S_RECEIPT_OPEN,
    S_RECEIPTS,
    S_RECEIPTS_PENDING,
    S_RECEIPT_GET,
    S_RECEIPT_ISSUE,
    S_CHECK_LEAVES,
    S_CHECK_LEAF_NODES,
    S_CHECK_NODES,
    S_CHECK_CENSUS,
    S_CHECK_CPS,
    S_CHECK_UNLOGGED,
    S_COUNT
};

/* The place of node (level ?1, idx ?2) in log_nodes, its INTEGER PRIMARY
 * KEY (048; 041 kept it as the rowid, which VACUUM renumbers): the last
 * leaf it covers, times 64, plus its level. An append writes the nodes its leaf
 * completes, each with that last leaf and a level one higher, so rows are
 * only ever added at the table's end: one page changed per commit instead
 * of one per level (#20). Level 0 is not stored (046). */
#define NODE_KEY "(((((?2 + 1) << ?1) - 1) << 6) + ?1)"

static const char *const sql[S_COUNT] = {
    [S_SIZE] = "SELECT coalesce(max(idx) + 1, 0) FROM log_leaves",
    [S_LEAF_ADD] =
        "INSERT INTO log_leaves(idx, kind, ticket, seq, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    /* a node's key is its place in append order (migrations 041, 048) */
    [S_NODE_GET] =
        "SELECT hash FROM log_nodes WHERE place = " NODE_KEY " AND level = ?1 AND idx = ?2",
    [S_NODE_PUT] =
        "INSERT INTO log_nodes(place, level, idx, hash) VALUES (" NODE_KEY ", ?1, ?2, ?3)",
    [S_EVENT_LEAF] = "SELECT idx FROM log_leaves WHERE ticket = ?1 AND seq = ?2 AND kind = 'event'",
    [S_LEAF] = "SELECT kind, ticket, seq, data FROM log_leaves WHERE idx = ?1",
    [S_LEAF_DATA] = "SELECT data FROM log_leaves WHERE idx = ?1",
    [S_CP_ADD] = "INSERT INTO log_checkpoints(size, at, note) VALUES (?1, ?2, ?3)",
    [S_CP_LAST] = "SELECT size, at, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
    [S_CP_AT] = "SELECT size, at, note FROM log_checkpoints WHERE size >= ?1 ORDER BY size LIMIT 1",
    [S_BACKFILL_PENDING] = "SELECT v FROM log_meta WHERE k = 'backfill'",
    [S_BACKFILL_EVENTS] = "SELECT ticket_id, seq, hash FROM events ORDER BY at, ticket_id, seq",
    [S_BACKFILL_DONE] = "UPDATE log_meta SET v = 0 WHERE k = 'backfill'",
    [S_RECEIPT_OPEN] =
        "INSERT OR IGNORE INTO receipts(ticket_id, seq, closed_at) VALUES (?1, ?2, ?3)",
    [S_RECEIPTS] = "SELECT ticket_id, seq, closed_at, issued_at, tree_size, receipt_hash FROM "
                   "receipts WHERE ticket_id = ?1 ORDER BY seq",
    [S_RECEIPTS_PENDING] =
        "SELECT ticket_id, seq, closed_at, issued_at, tree_size, receipt_hash "
        "FROM receipts WHERE body IS NULL ORDER BY closed_at, ticket_id LIMIT ?1",
    [S_RECEIPT_GET] = "SELECT ticket_id, seq, closed_at, issued_at, tree_size, receipt_hash, body "
                      "FROM receipts WHERE ticket_id = ?1 AND seq = ?2",
    [S_RECEIPT_ISSUE] = "UPDATE receipts SET issued_at = ?3, tree_size = ?4, receipt_hash = ?5, "
                        "body = ?6 WHERE ticket_id = ?1 AND seq = ?2 AND body IS NULL",
    /* the log's check (kw_store_log_leaves and on): leaves [?1, ?2) with
     * the hash their record keeps, looked up by its key */
    [S_CHECK_LEAVES] = "SELECT l.idx, l.kind, coalesce(l.ticket, 0), coalesce(l.seq, 0), l.data,"
                       " CASE l.kind"
                       " WHEN 'event' THEN (SELECT hash FROM events WHERE ticket_id = l.ticket"
                       " AND seq = l.seq)"
                       " WHEN 'ledger' THEN (SELECT hash FROM ledger WHERE org_id = l.ticket"
                       " AND seq = l.seq)"
                       " WHEN 'audit' THEN (SELECT hash FROM audit WHERE id = l.seq) END"
                       " FROM log_leaves l WHERE l.idx >= ?1 AND l.idx < ?2 ORDER BY l.idx",
    [S_CHECK_LEAF_NODES] =
        "SELECT idx, data FROM log_leaves WHERE idx >= ?2 AND idx < ?3 ORDER BY idx",
    /* nodes (?1, [?2, ?3)) where the proofs look them up: by place */
    [S_CHECK_NODES] = "WITH RECURSIVE k(i) AS (SELECT ?2 WHERE ?2 < ?3 UNION ALL"
                      " SELECT i + 1 FROM k WHERE i + 1 < ?3)"
                      " SELECT n.idx, n.hash FROM k JOIN log_nodes n"
                      " ON n.place = (((((k.i + 1) << ?1) - 1) << 6) + ?1)"
                      " AND n.level = ?1 AND n.idx = k.i ORDER BY k.i",
    [S_CHECK_CENSUS] = "SELECT (SELECT coalesce(max(idx) + 1, 0) FROM log_leaves),"
                       " (SELECT count(*) FROM log_nodes WHERE level > 0)",
    [S_CHECK_CPS] = "SELECT size, at, note FROM log_checkpoints WHERE size >= ?1"
                    " ORDER BY size LIMIT ?2",
    /* an event's leaves through their index; the ledger's and the audit
     * trail's (few) counted in one pass over the leaves */
    [S_CHECK_UNLOGGED] =
        "SELECT * FROM (SELECT 'event' AS kind, e.ticket_id, e.seq, (SELECT count(*)"
        " FROM log_leaves l WHERE l.kind = 'event' AND l.ticket = e.ticket_id"
        " AND l.seq = e.seq) AS c FROM events e) WHERE c <> 1"
        " UNION ALL SELECT kind, t, q, sum(leaf) FROM (SELECT 'ledger' AS kind, org_id AS t,"
        " seq AS q, 0 AS leaf FROM ledger UNION ALL SELECT 'audit', 0, id, 0 FROM audit"
        " UNION ALL SELECT kind, coalesce(ticket, 0), coalesce(seq, 0), 1 FROM log_leaves"
        " WHERE kind IN ('ledger', 'audit')) GROUP BY kind, t, q"
        " HAVING sum(1 - leaf) = 1 AND sum(leaf) <> 1 LIMIT ?1",
};

const struct kws_catalogue kws_log_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_LOG, (int)s);
}

/* For a statement whose parameters are all bound before each step. */
static sqlite3_stmt *bound(struct kw_store *st, enum stmt s)
{
    return kws_prep_bound(st, KWS_LOG, (int)s);
}

_Static_assert(KW_MERKLE_HASH == sizeof(((struct kws_log_node *)0)->hash),
               "a log node's hash fits the edge");

/* The edge kept by the open write transaction (struct kws_log_edge): an
 * append reads the log's size and, for each level its index carries over,
 * the left sibling, the last node of even index written at that level (by
 * this append or an earlier one); look-ups that a firing batch's many
 * appends no longer make (#20). The transaction holds the write lock (BEGIN
 * IMMEDIATE), so the log changes only through this connection; a rollback
 * or a failed append forgets the edge (kws_targets_stale moves tx_seq). */
static bool edge_valid(const struct kw_store *st)
{
    return st->log.ok && st->log.seq == st->tx_seq && !sqlite3_get_autocommit(st->db);
}

/* Node (0, index), the hash of leaf index's data (not stored: 046). */
static enum kw_code leaf_node(struct kw_store *st, uint64_t index,
                              unsigned char out[KW_MERKLE_HASH], struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LEAF_DATA);
    sqlite3_bind_int64(x, 1, (sqlite3_int64)index);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        kw_merkle_leaf(sqlite3_column_blob(x, 0), (size_t)sqlite3_column_bytes(x, 0), out);
        sqlite3_reset(x);
        return KW_OK;
    }
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_STORE, "", "the log lacks leaf %llu: damaged",
                          (unsigned long long)index);
    return kws_fail(st, err, "read a log leaf");
}

static enum kw_code node_get(void *ctx, unsigned level, uint64_t index,
                             unsigned char out[KW_MERKLE_HASH], struct kw_err *err)
{
    struct kw_store *st = ctx;
    const struct kws_log_node *n = level < 64 ? &st->log.last[level][index & 1] : NULL;
    if (n && n->set && n->idx == index && edge_valid(st)) {
        memcpy(out, n->hash, KW_MERKLE_HASH);
        return KW_OK;
    }
    if (level == 0)
        return leaf_node(st, index, out, err);
    sqlite3_stmt *x = prep(st, S_NODE_GET);
    sqlite3_bind_int64(x, 1, level);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)index);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(x, 0) == KW_MERKLE_HASH) {
        memcpy(out, sqlite3_column_blob(x, 0), KW_MERKLE_HASH);
        sqlite3_reset(x);
        return KW_OK;
    }
    sqlite3_reset(x);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return kw_err_set(err, KW_STORE, "", "the log lacks node (%u, %llu): damaged", level,
                          (unsigned long long)index);
    return kws_fail(st, err, "read a log node");
}

static enum kw_code node_put(void *ctx, unsigned level, uint64_t index,
                             const unsigned char hash[KW_MERKLE_HASH], struct kw_err *err)
{
    struct kw_store *st = ctx;
    /* a leaf's node is its data's hash, which leaf_node computes again:
     * a row fewer a create (#20); the edge below keeps it for the next
     * append of this transaction */
    if (level > 0) {
        sqlite3_stmt *x = bound(st, S_NODE_PUT);
        sqlite3_bind_int64(x, 1, level);
        sqlite3_bind_int64(x, 2, (sqlite3_int64)index);
        sqlite3_bind_blob(x, 3, hash, KW_MERKLE_HASH, SQLITE_STATIC);
        int rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "write a log node");
    }
    if (level < 64 && st->log.ok) {
        struct kws_log_node *n = &st->log.last[level][index & 1];
        n->set = true;
        n->idx = index;
        memcpy(n->hash, hash, KW_MERKLE_HASH);
    }
    return KW_OK;
}

static enum kw_code log_size(struct kw_store *st, uint64_t *size, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_SIZE);
    int rc = sqlite3_step(x);
    *size = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read the log's size");
}

static enum kw_code leaf_append(struct kw_store *st, uint64_t idx, const char *kind, int64_t ticket,
                                int64_t seq, const void *data, size_t n, struct kw_err *err);

enum kw_code kws_log_append(struct kw_store *st, const char *kind, int64_t ticket, int64_t seq,
                            const void *data, size_t n, struct kw_err *err)
{
    uint64_t idx;
    if (edge_valid(st))
        idx = st->log.size;
    else {
        st->log.ok = false;
        if (log_size(st, &idx, err) != KW_OK)
            return err->code;
        if (!sqlite3_get_autocommit(st->db)) { /* kept for the transaction's next appends */
            for (size_t l = 0; l < 64; l++)
                st->log.last[l][0].set = st->log.last[l][1].set = false;
            st->log.seq = st->tx_seq;
            st->log.ok = true;
        }
    }
    enum kw_code code = leaf_append(st, idx, kind, ticket, seq, data, n, err);
    if (code != KW_OK)
        st->log.ok = false; /* what it wrote is undone with the caller's rollback */
    else
        st->log.size = idx + 1;
    return code;
}

static enum kw_code leaf_append(struct kw_store *st, uint64_t idx, const char *kind, int64_t ticket,
                                int64_t seq, const void *data, size_t n, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LEAF_ADD);
    sqlite3_bind_int64(x, 1, (sqlite3_int64)idx);
    bind_text(x, 2, kind);
    if (ticket)
        sqlite3_bind_int64(x, 3, ticket);
    if (seq)
        sqlite3_bind_int64(x, 4, seq);
    sqlite3_bind_blob(x, 5, data, (int)n, SQLITE_STATIC);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "append to the log");
    unsigned char leaf[KW_MERKLE_HASH];
    kw_merkle_leaf(data, n, leaf);
    return kw_merkle_append(node_get, node_put, st, idx, leaf, err);
}

enum kw_code kw_store_log_append(struct kw_store *st, const char *kind, const void *data, size_t n,
                                 struct kw_err *err)
{
    if (!kind || (strcmp(kind, "ledger") != 0 && strcmp(kind, "audit") != 0))
        return kw_err_set(err, KW_INVALID, "/kind",
                          "a leaf appended on its own is ledger or audit");
    if (n == 0 || n > sizeof(((struct kw_log_leaf *)0)->data))
        return kw_err_set(err, KW_INVALID, "/data", "a leaf's data is 1 to 64 bytes");
    bool outer;
    if (kws_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kws_tx_finish(st, outer, kws_log_append(st, kind, 0, 0, data, n, err), err);
}

enum kw_code kws_log_backfill(struct kw_store *st, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_BACKFILL_PENDING);
    int rc = sqlite3_step(x);
    bool pending = rc == SQLITE_ROW && sqlite3_column_int64(x, 0) != 0;
    sqlite3_reset(x);
    if (!pending)
        return KW_OK;
    bool outer;
    if (kws_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    enum kw_code code = KW_OK;
    /* inside the transaction: another process may have done it meanwhile */
    x = prep(st, S_BACKFILL_PENDING);
    pending = sqlite3_step(x) == SQLITE_ROW && sqlite3_column_int64(x, 0) != 0;
    sqlite3_reset(x);
    if (pending) {
        /* a statement of its own: the appends reuse the catalogue's */
        sqlite3_stmt *ev = NULL;
        if (sqlite3_prepare_v2(st->db, sql[S_BACKFILL_EVENTS], -1, &ev, NULL) != SQLITE_OK)
            code = kws_fail(st, err, "read events for the log");
        while (code == KW_OK && (rc = sqlite3_step(ev)) == SQLITE_ROW)
            code = kws_log_append(st, "event", sqlite3_column_int64(ev, 0),
                                  sqlite3_column_int64(ev, 1), sqlite3_column_blob(ev, 2),
                                  (size_t)sqlite3_column_bytes(ev, 2), err);
        if (code == KW_OK && rc != SQLITE_DONE)
            code = kws_fail(st, err, "read events for the log");
        sqlite3_finalize(ev);
        if (code == KW_OK) {
            x = prep(st, S_BACKFILL_DONE);
            code = sqlite3_step(x) == SQLITE_DONE ? KW_OK : kws_fail(st, err, "mark the log");
            sqlite3_reset(x);
        }
    }
    return kws_tx_finish(st, outer, code, err);
}

enum kw_code kw_store_log_size(struct kw_store *st, uint64_t *size, struct kw_err *err)
{
    enum kw_code rc = log_size(st, size, err);
    kw_store_end_read(st);
    return rc;
}

/* KW_OK when the log holds at least size leaves; KW_RANGE at field if not. */
static enum kw_code within(struct kw_store *st, uint64_t size, const char *field,
                           struct kw_err *err)
{
    uint64_t have;
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
    if (rc == KW_OK)
        rc = kw_merkle_root(node_get, st, size, root, err);
    kw_store_end_read(st);
    return rc;
}

enum kw_code kw_store_log_inclusion(struct kw_store *st, uint64_t leaf, uint64_t size,
                                    unsigned char path[][KW_MERKLE_HASH], size_t *n,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *n = 0;
    enum kw_code rc = within(st, size, "/size", err);
    if (rc == KW_OK)
        rc = kw_merkle_inclusion(node_get, st, leaf, size, path, n, err);
    kw_store_end_read(st);
    return rc;
}

enum kw_code kw_store_log_consistency(struct kw_store *st, uint64_t from, uint64_t to,
                                      unsigned char path[][KW_MERKLE_HASH], size_t *n,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *n = 0;
    enum kw_code rc = within(st, to, "/to", err);
    if (rc == KW_OK)
        rc = kw_merkle_consistency(node_get, st, from, to, path, n, err);
    kw_store_end_read(st);
    return rc;
}

enum kw_code kw_store_log_leaf(struct kw_store *st, uint64_t idx, struct kw_log_leaf *out,
                               struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LEAF);
    sqlite3_bind_int64(x, 1, (sqlite3_int64)idx);
    int rc = sqlite3_step(x);
    enum kw_code code = KW_OK;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        out->idx = idx;
        snprintf(out->kind, sizeof(out->kind), "%s", (const char *)sqlite3_column_text(x, 0));
        out->ticket = sqlite3_column_int64(x, 1);
        out->seq = sqlite3_column_int64(x, 2);
        int nb = sqlite3_column_bytes(x, 3);
        out->data_len = nb > (int)sizeof(out->data) ? sizeof(out->data) : (size_t)nb;
        memcpy(out->data, sqlite3_column_blob(x, 3), out->data_len);
    } else {
        code = rc == SQLITE_DONE ? kw_err_set(err, KW_NOT_FOUND, "/leaf", "no leaf %llu in the log",
                                              (unsigned long long)idx)
                                 : kws_fail(st, err, "read a log leaf");
    }
    sqlite3_reset(x);
    return code;
}

enum kw_code kw_store_log_event_leaf(struct kw_store *st, int64_t ticket, int64_t seq,
                                     uint64_t *idx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_EVENT_LEAF);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, seq);
    int rc = sqlite3_step(x);
    enum kw_code code = KW_OK;
    if (rc == SQLITE_ROW)
        *idx = (uint64_t)sqlite3_column_int64(x, 0);
    else
        code = rc == SQLITE_DONE
                   ? kw_err_set(err, KW_NOT_FOUND, "", "event %lld/%lld is not in the log",
                                (long long)ticket, (long long)seq)
                   : kws_fail(st, err, "find an event's leaf");
    sqlite3_reset(x);
    return code;
}

enum kw_code kw_store_log_checkpoint_add(struct kw_store *st, uint64_t size, int64_t at,
                                         const char *note, struct kw_err *err)
{
    bool outer;
    if (kws_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_CP_ADD);
    sqlite3_bind_int64(x, 1, (sqlite3_int64)size);
    sqlite3_bind_int64(x, 2, at);
    bind_text(x, 3, note);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    enum kw_code code = KW_OK;
    if (rc == SQLITE_CONSTRAINT)
        code = kw_err_set(err, KW_CONFLICT, "", "a checkpoint of size %llu exists",
                          (unsigned long long)size);
    else if (rc != SQLITE_DONE)
        code = kws_fail(st, err, "store a checkpoint");
    return kws_tx_finish(st, outer, code, err);
}

static enum kw_code read_cp(struct kw_store *st, sqlite3_stmt *x, struct kw_log_checkpoint *out,
                            struct kw_err *err)
{
    int rc = sqlite3_step(x);
    enum kw_code code = KW_OK;
    memset(out, 0, sizeof(*out));
    if (rc == SQLITE_ROW) {
        out->size = (uint64_t)sqlite3_column_int64(x, 0);
        out->at = sqlite3_column_int64(x, 1);
        out->note = strdup((const char *)sqlite3_column_text(x, 2));
        if (!out->note)
            code = kw_err_set(err, KW_NOMEM, "", "no memory for a checkpoint");
    } else if (rc == SQLITE_DONE) {
        code = kw_err_set(err, KW_NOT_FOUND, "", "no checkpoint signed yet");
    } else {
        code = kws_fail(st, err, "read a checkpoint");
    }
    sqlite3_reset(x);
    return code;
}

enum kw_code kw_store_log_checkpoint_last(struct kw_store *st, struct kw_log_checkpoint *out,
                                          struct kw_err *err)
{
    return read_cp(st, prep(st, S_CP_LAST), out, err);
}

enum kw_code kw_store_log_checkpoint_covering(struct kw_store *st, uint64_t size,
                                              struct kw_log_checkpoint *out, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CP_AT);
    sqlite3_bind_int64(x, 1, (sqlite3_int64)size);
    return read_cp(st, x, out, err);
}

/* ---- the log's check ---- */

enum kw_code kw_store_log_leaves(struct kw_store *st, uint64_t from, uint64_t n,
                                 bool (*fn)(const struct kw_log_leaf_record *r, void *ctx),
                                 void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (n > KW_STORE_LOG_PAGE_MAX)
        return kw_err_set(err, KW_INVALID, "/n", "a page of the log is 1 to %d leaves",
                          KW_STORE_LOG_PAGE_MAX);
    sqlite3_stmt *x = prep(st, S_CHECK_LEAVES);
    sqlite3_bind_int64(x, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)(from + n));
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_log_leaf_record r = {.leaf.idx = (uint64_t)sqlite3_column_int64(x, 0)};
        const char *kind = (const char *)sqlite3_column_text(x, 1);
        snprintf(r.leaf.kind, sizeof(r.leaf.kind), "%s", kind ? kind : "");
        r.leaf.ticket = sqlite3_column_int64(x, 2);
        r.leaf.seq = sqlite3_column_int64(x, 3);
        int nb = sqlite3_column_bytes(x, 4);
        r.leaf.data_len = nb > (int)sizeof(r.leaf.data) ? sizeof(r.leaf.data) : (size_t)nb;
        if (r.leaf.data_len)
            memcpy(r.leaf.data, sqlite3_column_blob(x, 4), r.leaf.data_len);
        r.found = sqlite3_column_type(x, 5) != SQLITE_NULL;
        if (r.found && sqlite3_column_bytes(x, 5) == KW_HASH_BYTES)
            memcpy(r.hash, sqlite3_column_blob(x, 5), KW_HASH_BYTES);
        if (!fn(&r, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read the log's leaves");
}

enum kw_code kw_store_log_nodes(struct kw_store *st, unsigned level, uint64_t from, uint64_t n,
                                bool (*fn)(uint64_t idx, const unsigned char hash[32], void *ctx),
                                void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (n > KW_STORE_LOG_PAGE_MAX || level > 62)
        return kw_err_set(err, KW_INVALID, "/n",
                          "a page of the log is 1 to %d nodes of level "
                          "0 to 62",
                          KW_STORE_LOG_PAGE_MAX);
    /* level 0 is not kept (046): the proofs hash each leaf's data */
    sqlite3_stmt *x = prep(st, level == 0 ? S_CHECK_LEAF_NODES : S_CHECK_NODES);
    if (level > 0)
        sqlite3_bind_int64(x, 1, level);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)from);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)(from + n));
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        unsigned char h[KW_MERKLE_HASH] = {0};
        if (level == 0)
            kw_merkle_leaf(sqlite3_column_blob(x, 1), (size_t)sqlite3_column_bytes(x, 1), h);
        else if (sqlite3_column_bytes(x, 1) == KW_MERKLE_HASH)
            memcpy(h, sqlite3_column_blob(x, 1), KW_MERKLE_HASH);
        if (!fn((uint64_t)sqlite3_column_int64(x, 0), h, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read the log's nodes");
}

enum kw_code kw_store_log_census(struct kw_store *st, uint64_t *size, uint64_t *nodes,
                                 unsigned *lowest, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *lowest = 1; /* 046 */
    sqlite3_stmt *x = prep(st, S_CHECK_CENSUS);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(x, 0);
        *nodes = (uint64_t)sqlite3_column_int64(x, 1);
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count the log");
}

enum kw_code kw_store_log_checkpoints(struct kw_store *st, uint64_t from, size_t limit,
                                      bool (*fn)(const struct kw_log_checkpoint *cp, void *ctx),
                                      void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    sqlite3_stmt *x = prep(st, S_CHECK_CPS);
    sqlite3_bind_int64(x, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(x, 2, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    int rc;
    enum kw_code code = KW_OK;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        const char *note = (const char *)sqlite3_column_text(x, 2);
        struct kw_log_checkpoint cp = {.size = (uint64_t)sqlite3_column_int64(x, 0),
                                       .at = sqlite3_column_int64(x, 1),
                                       .note = strdup(note ? note : "")};
        if (!cp.note) {
            code = kw_err_set(err, KW_NOMEM, "", "no memory for a checkpoint");
            break;
        }
        bool more = fn(&cp, ctx);
        free(cp.note);
        if (!more) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(x);
    if (code != KW_OK)
        return code;
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read the log's checkpoints");
}

enum kw_code kw_store_log_unlogged(struct kw_store *st, size_t limit,
                                   bool (*fn)(const char *kind, int64_t ticket, int64_t seq,
                                              int64_t leaves, void *ctx),
                                   void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    sqlite3_stmt *x = prep(st, S_CHECK_UNLOGGED);
    sqlite3_bind_int64(x, 1, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        if (!fn((const char *)sqlite3_column_text(x, 0), sqlite3_column_int64(x, 1),
                sqlite3_column_int64(x, 2), sqlite3_column_int64(x, 3), ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "find records the log lacks");
}

/* ---- receipts issued at closure ---- */

enum kw_code kws_receipt_open(struct kw_store *st, int64_t ticket, int64_t seq, int64_t at,
                              struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_RECEIPT_OPEN);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, seq);
    sqlite3_bind_int64(x, 3, at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "open a receipt");
}

static void receipt_row(sqlite3_stmt *x, struct kw_receipt_row *r)
{
    *r = (struct kw_receipt_row){.ticket_id = sqlite3_column_int64(x, 0),
                                 .seq = sqlite3_column_int64(x, 1),
                                 .closed_at = sqlite3_column_int64(x, 2),
                                 .issued_at = column_instant(x, 3),
                                 .tree_size = sqlite3_column_int64(x, 4)};
    const char *h = column_text(x, 5);
    snprintf(r->receipt_hash, sizeof(r->receipt_hash), "%s", h ? h : "");
}

struct receipt_walk {
    bool (*fn)(const struct kw_receipt_row *r, void *ctx);
    void *ctx;
};

static bool receipt_each(sqlite3_stmt *x, void *arg)
{
    struct receipt_walk *w = arg;
    struct kw_receipt_row r;
    receipt_row(x, &r);
    return w->fn(&r, w->ctx);
}

enum kw_code kw_store_receipts(struct kw_store *st, int64_t ticket, size_t limit,
                               bool (*fn)(const struct kw_receipt_row *r, void *ctx), void *ctx,
                               struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, ticket ? S_RECEIPTS : S_RECEIPTS_PENDING);
    if (ticket)
        sqlite3_bind_int64(x, 1, ticket);
    else
        sqlite3_bind_int64(x, 1, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    struct receipt_walk w = {fn, ctx};
    return kws_each_row(st, x, receipt_each, &w, "read receipts", err);
}

enum kw_code kw_store_receipt_get(struct kw_store *st, int64_t ticket, int64_t seq,
                                  struct kw_receipt_row *out, char **body, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_RECEIPT_GET);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, seq);
    int rc = sqlite3_step(x);
    enum kw_code code = KW_OK;
    *body = NULL;
    if (rc == SQLITE_ROW) {
        receipt_row(x, out);
        const char *b = column_text(x, 6);
        if (b && !(*body = strdup(b)))
            code = kw_err_set(err, KW_NOMEM, "", "no memory for a receipt");
    } else if (rc == SQLITE_DONE) {
        code = kw_err_set(err, KW_NOT_FOUND, "", "ticket %lld has no receipt issued at event %lld",
                          (long long)ticket, (long long)seq);
    } else {
        code = kws_fail(st, err, "read a receipt");
    }
    sqlite3_reset(x);
    return code;
}

enum kw_code kw_store_receipt_issue(struct kw_store *st, const struct kw_receipt_row *r,
                                    const char *body, struct kw_err *err)
{
    bool outer;
    if (kws_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_RECEIPT_ISSUE);
    sqlite3_bind_int64(x, 1, r->ticket_id);
    sqlite3_bind_int64(x, 2, r->seq);
    sqlite3_bind_int64(x, 3, r->issued_at);
    sqlite3_bind_int64(x, 4, r->tree_size);
    bind_text(x, 5, r->receipt_hash);
    bind_text(x, 6, body);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return kws_tx_finish(st, outer, rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "keep a receipt"),
                         err);
}
