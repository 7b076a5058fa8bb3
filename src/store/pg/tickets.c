// SPDX-License-Identifier: MIT
/* Organisations, tickets and their hash-chained events, the change log and
 * the Merkle log's leaves on PostgreSQL. The canonical JSON and the chain
 * hash are core's (core/chain.h), as for SQLite, so the same events give the
 * same hashes on either backend. */
#include "pg_int.h"

#include "chain.h"
#include "chain_check.h"
#include "merkle.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SQLSTATEs the calls tell apart */
#define UNIQUE_VIOLATION "23505"
#define FOREIGN_KEY_VIOLATION "23503"
#define NOT_NULL_VIOLATION "23502"

/* ---- organisations ---- */

enum kw_code kw_store_org_insert(struct kw_store *st, const struct kw_org *org, int64_t now,
                                 int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!org->name || !*org->name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (kwp_text_ok(org->name, "/name", err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_text(&p, org->name);
    kwp_text(&p, org->tier);
    kwp_text(&p, org->region);
    kwp_text(&p, org->calendar);
    kwp_int(&p, org->contract_value_cents);
    kwp_int(&p, now);
    kwp_int(&p, org->account_manager_id);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    char state[6];
    PGresult *res = kwp_run(st, PGS_ORG_INSERT, &p, "insert organisation", state, err);
    enum kw_code rc = KW_OK;
    if (!res && strcmp(state, FOREIGN_KEY_VIOLATION) == 0)
        rc = kw_err_set(err, KW_NOT_FOUND, "/account_manager_id",
                        "account_manager_id: no user %lld", (long long)org->account_manager_id);
    else if (!res)
        rc = KW_STORE;
    else if (PQntuples(res) == 0) /* ON CONFLICT DO NOTHING: the name is taken */
        rc = kw_err_set(err, KW_CONFLICT, "/name", "an organisation named \"%.60s\" exists",
                        org->name);
    else
        *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return kwp_tx_finish(st, outer, rc, err);
}

static void read_org(const PGresult *res, int r, struct kw_org *o)
{
    *o = (struct kw_org){
        .id = kwp_col_int(res, r, 0),
        .name = kwp_col_text(res, r, 1),
        .tier = kwp_col_text(res, r, 2),
        .region = kwp_col_text(res, r, 3),
        .calendar = kwp_col_text(res, r, 4),
        .contract_value_cents = kwp_col_int(res, r, 5),
        .account_manager_id = kwp_col_int(res, r, 6),
        .deactivated_at = kwp_col_instant(res, r, 7),
    };
}

enum kw_code kw_store_orgs(struct kw_store *st, int64_t only, int64_t after, size_t limit,
                           bool (*fn)(const struct kw_org *o, void *ctx), void *ctx,
                           struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, after);
    kwp_int(&p, only);
    kwp_int(&p, (int64_t)limit);
    PGresult *res = kwp_run(st, PGS_ORGS, &p, "list organisations", NULL, err);
    if (!res)
        return err->code;
    /* the callback may call the store: the rows are this call's own */
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_org o;
        read_org(res, r, &o);
        if (!fn(&o, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_org_get(struct kw_store *st, int64_t id, struct kw_org *out,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, PGS_ORG_GET, &p, "read organisation", NULL, err);
    if (!res)
        return err->code;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return kw_err_set(err, KW_NOT_FOUND, "", "no organisation %lld", (long long)id);
    }
    read_org(res, 0, out);
    kwp_lend(st, res); /* the strings live until the next call */
    return KW_OK;
}

enum kw_code kw_store_org_terms(struct kw_store *st, int64_t id, int64_t t, struct kw_org *out,
                                int64_t *commitment, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, t);
    PGresult *res = kwp_run(st, PGS_ORG_TERMS, &p, "read organisation", NULL, err);
    if (!res)
        return err->code;
    *commitment = PQntuples(res) == 1 ? kwp_col_int(res, 0, 8) : 0;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return kw_err_set(err, KW_NOT_FOUND, "", "no organisation %lld", (long long)id);
    }
    read_org(res, 0, out);
    /* the id of the ticket this unit is about to create (struct kw_store) */
    st->next_ticket = st->in_tx ? kwp_col_int(res, 0, 9) : 0;
    kwp_lend(st, res); /* the strings live until the next call */
    return KW_OK;
}

/* ---- the Merkle log's leaves ---- */

/* Every this many changes, the writer deletes the changes older than the
 * newest KW_STORE_CHANGES_KEPT in the same statement (as SQLite's). */
#define PRUNE_EVERY 1024

enum kw_code kwp_node_get(void *ctx, unsigned level, uint64_t index,
                          unsigned char out[KW_MERKLE_HASH], struct kw_err *err)
{
    struct kw_store *st = ctx;
    struct kwp_params p = {0};
    kwp_int(&p, level);
    kwp_int(&p, (int64_t)index);
    PGresult *res = kwp_run(st, PGS_NODE_GET, &p, "read a log node", NULL, err);
    if (!res)
        return KW_STORE;
    bool ok = PQntuples(res) == 1 && kwp_col_bytes(res, 0, 0, out, KW_MERKLE_HASH);
    PQclear(res);
    if (!ok)
        return kw_err_set(err, KW_STORE, "", "the log lacks node (%u, %llu): damaged", level,
                          (unsigned long long)index);
    return KW_OK;
}

_Static_assert(sizeof(((struct kw_store *)0)->frontier[0]) == KW_MERKLE_HASH,
               "the frontier holds log nodes");

/* An append of one leaf: the store, and the nodes it writes (level l at
 * index leaf >> l, l < n), kept to go out in the leaf's one statement. */
struct append {
    struct kw_store *st;
    int n;
    unsigned char hash[65][KW_MERKLE_HASH];
};

/* An append reads the left siblings on its path, which are nodes of the
 * frontier of the log at its size: (level, (size >> level) - 1) for each
 * level whose bit of size is 1. While this transaction holds the log's lock
 * it keeps them: read once from the database, or written by its own
 * appends (node_put), so that its appends after the first read none. */
static bool on_frontier(const struct kw_store *st, unsigned level, uint64_t index)
{
    uint64_t size = (uint64_t)st->log_size;
    return st->log_size >= 0 && level < 64 && (size >> level & 1) && index == (size >> level) - 1;
}

static enum kw_code frontier_get(void *ctx, unsigned level, uint64_t index,
                                 unsigned char out[KW_MERKLE_HASH], struct kw_err *err)
{
    struct kw_store *st = ((struct append *)ctx)->st;
    bool kept = on_frontier(st, level, index);
    if (kept && (st->frontier_known >> level & 1)) {
        memcpy(out, st->frontier[level], KW_MERKLE_HASH);
        return KW_OK;
    }
    enum kw_code rc = kwp_node_get(st, level, index, out, err);
    if (rc == KW_OK && kept) {
        memcpy(st->frontier[level], out, KW_MERKLE_HASH);
        st->frontier_known |= UINT64_C(1) << level;
    }
    return rc;
}

static enum kw_code node_put(void *ctx, unsigned level, uint64_t index,
                             const unsigned char hash[KW_MERKLE_HASH], struct kw_err *err)
{
    struct append *a = ctx;
    struct kw_store *st = a->st;
    /* the one node of an append whose index is even is the top of its path:
     * on the frontier of the log one leaf longer, where a bit of its size
     * turns to 1 (so no bit turns to 1 without its node here) */
    if (level < 64 && !(index & 1)) {
        memcpy(st->frontier[level], hash, KW_MERKLE_HASH);
        st->frontier_known |= UINT64_C(1) << level;
    }
    /* kw_merkle_append puts level 0, 1, ... in turn (PGS_LEAVES_ADD in db.c) */
    if (level != (unsigned)a->n || a->n == (int)(sizeof(a->hash) / sizeof(a->hash[0])))
        return kw_err_set(err, KW_STORE, "", "log node (%u, %llu) out of order", level,
                          (unsigned long long)index);
    memcpy(a->hash[a->n++], hash, KW_MERKLE_HASH);
    return KW_OK;
}

/* Number the log's next leaf (*idx) and compute the nodes its append
 * writes into a, in the open transaction's final step (kwp_log_settle),
 * which holds the log's lock and knows its size and frontier: the lock
 * serialises appends of every node until the transaction ends, so the
 * leaves are numbered in commit order without gaps. The caller writes the
 * leaf and a's nodes, then calls leaf_done with its outcome. */
static enum kw_code leaf_prepare(struct kw_store *st, const void *data, size_t n, int64_t *idx,
                                 struct append *a, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    int64_t size = st->log_size;
    if (size < 0)
        return kw_err_set(err, KW_STORE, "", "%s: the log's size is not known", st->where);
    *idx = size;
    a->st = st;
    a->n = 0;
    unsigned char leaf[KW_MERKLE_HASH];
    kw_merkle_leaf(data, n, leaf);
    enum kw_code rc = kw_merkle_append(frontier_get, node_put, a, (uint64_t)size, leaf, err);
    if (rc != KW_OK)
        st->log_size = -1;
    return rc;
}

/* The leaf numbered idx by leaf_prepare was written (rc KW_OK) or not. */
static enum kw_code leaf_done(struct kw_store *st, int64_t idx, enum kw_code rc)
{
    if (rc == KW_OK && st->log_size >= 0)
        st->log_size = idx + 1;
    else
        st->log_size = -1;
    return rc;
}

enum kw_code kwp_leaf_append(struct kw_store *st, const char *kind, int64_t ticket, int64_t seq,
                             const void *data, size_t n, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_tail *t = &st->tail;
    if (n == 0 || n > sizeof(t->leaf[0].data) || strlen(kind) >= sizeof(t->leaf[0].kind))
        return kw_err_set(err, KW_INVALID, "/data", "a leaf's data is 1 to 64 bytes");
    if (!st->in_tx) { /* a transaction of its own, whose end appends it */
        bool outer;
        if (kwp_tx_begin(st, &outer, err) != KW_OK)
            return err->code;
        return kwp_tx_finish(st, outer, kwp_leaf_append(st, kind, ticket, seq, data, n, err), err);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        if (cap > KWPG_MAX_TAIL)
            return kw_err_set(err, KW_TOO_BIG, "", "%s: more than %d leaves in one transaction",
                              st->where, KWPG_MAX_TAIL);
        struct kwp_leaf_kept *grown = realloc(t->leaf, cap * sizeof(*grown));
        if (!grown)
            return kw_err_set(err, KW_NOMEM, "", "%s: no memory to keep a leaf", st->where);
        t->leaf = grown;
        t->cap = cap;
    }
    struct kwp_leaf_kept *l = &t->leaf[t->n++];
    snprintf(l->kind, sizeof(l->kind), "%s", kind);
    l->ticket = ticket;
    l->seq = seq;
    memcpy(l->data, data, n);
    l->len = n;
    return KW_OK;
}

enum kw_code kwp_change_keep(struct kw_store *st, int64_t ticket, int64_t at, struct kw_err *err)
{
    struct kwp_tail *t = &st->tail;
    if (t->n_changes == t->cap_changes) {
        size_t cap = t->cap_changes ? 2 * t->cap_changes : 64;
        if (cap > KWPG_MAX_TAIL)
            return kw_err_set(err, KW_TOO_BIG, "", "%s: more than %d changes in one transaction",
                              st->where, KWPG_MAX_TAIL);
        struct kwp_change_kept *grown = realloc(t->change, cap * sizeof(*grown));
        if (!grown)
            return kw_err_set(err, KW_NOMEM, "", "%s: no memory to keep a change", st->where);
        t->change = grown;
        t->cap_changes = cap;
    }
    t->change[t->n_changes++] = (struct kwp_change_kept){.ticket = ticket, .at = at};
    return KW_OK;
}

void kwp_tail_track(struct kw_store *st, enum pgs s)
{
    struct kwp_tail *t = &st->tail;
    switch (s) {
    case PGS_BEGIN:
    case PGS_COMMIT:
    case PGS_ROLLBACK:
        t->n = t->n_changes = 0;
        t->depth = 0;
        break;
    case PGS_SAVEPOINT:
        if (t->depth < KWPG_MAX_SAVEPOINTS) {
            t->mark[t->depth].leaves = t->n;
            t->mark[t->depth].changes = t->n_changes;
        }
        t->depth++;
        break;
    case PGS_ROLLBACK_TO:
        if (t->depth > 0) {
            int d = t->depth <= KWPG_MAX_SAVEPOINTS ? t->depth - 1 : KWPG_MAX_SAVEPOINTS - 1;
            if (t->mark[d].leaves < t->n)
                t->n = t->mark[d].leaves;
            if (t->mark[d].changes < t->n_changes)
                t->n_changes = t->mark[d].changes;
        }
        break;
    case PGS_RELEASE:
        if (t->depth > 0)
            t->depth--;
        break;
    default:
        break;
    }
}

void kwp_tail_free(struct kw_store *st)
{
    free(st->tail.leaf);
    free(st->tail.change);
    st->tail = (struct kwp_tail){0};
}

/* Read the log's size and frontier under its lock (PGS_LOG_TAIL) into
 * st->log_size and st->frontier, unless this transaction knows them. */
static enum kw_code tail_read(struct kw_store *st, struct kw_err *err)
{
    if (st->log_size >= 0)
        return KW_OK;
    kwp_defer(st, PGS_LOG_LOCK); /* sent with the read */
    st->log_locked = true;
    PGresult *res = kwp_run(st, PGS_LOG_TAIL, NULL, "read the log's tail", NULL, err);
    if (!res)
        return err->code;
    int64_t size = PQntuples(res) > 0 ? kwp_col_int(res, 0, 0) : -1;
    st->frontier_known = 0;
    bool ok = size >= 0;
    for (int r = 0; ok && r < PQntuples(res); r++) {
        if (PQgetisnull(res, r, 1))
            continue;
        int64_t g = kwp_col_int(res, r, 1);
        ok = g >= 0 && g < 64 && kwp_col_bytes(res, r, 2, st->frontier[g], KW_MERKLE_HASH);
        if (ok)
            st->frontier_known |= UINT64_C(1) << g;
    }
    PQclear(res);
    if (!ok)
        return kw_err_set(err, KW_STORE, "", "%s: the log's frontier is damaged", st->where);
    st->log_size = size;
    return KW_OK;
}

/* Grow a text buffer of *cap bytes to hold need more after len. */
static bool text_room(char **buf, size_t *cap, size_t len, size_t need)
{
    if (len + need <= *cap)
        return true;
    size_t cap2 = 2 * (len + need);
    char *grown = realloc(*buf, cap2);
    if (!grown)
        return false;
    *buf = grown;
    *cap = cap2;
    return true;
}

/* The change rows kept, in one statement with the next. */
static enum kw_code changes_write(struct kw_store *st, struct kw_err *err)
{
    struct kwp_tail *t = &st->tail;
    size_t n = t->n_changes;
    int64_t *v = malloc(2 * n * sizeof(*v));
    char *tickets = malloc(KWP_INT_ARRAY_BYTES(n)), *ats = malloc(KWP_INT_ARRAY_BYTES(n));
    enum kw_code rc = KW_OK;
    if (!v || !tickets || !ats) {
        rc = kw_err_set(err, KW_NOMEM, "", "%s: no memory to record changes", st->where);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = t->change[i].ticket;
        v[n + i] = t->change[i].at;
    }
    kwp_int_array(tickets, v, n);
    kwp_int_array(ats, v + n, n);
    struct kwp_params p = {0};
    kwp_text(&p, tickets);
    kwp_text(&p, ats);
    kwp_int(&p, PRUNE_EVERY);
    kwp_int(&p, KW_STORE_CHANGES_KEPT);
    rc = kwp_exec_later(st, PGS_CHANGES_ADD, &p, "record changes", err);
    if (rc == KW_OK)
        t->n_changes = 0;
out:
    free(v);
    free(tickets);
    free(ats);
    return rc;
}

/* The leaves kept, numbered from st->log_size on, and the nodes their
 * appends write, in one statement with the next. */
static enum kw_code leaves_write(struct kw_store *st, struct kw_err *err)
{
    struct kwp_tail *t = &st->tail;
    size_t n = t->n, n_nodes = 0, cap_nodes = 2 * n + 64;
    int64_t first = st->log_size;
    int64_t *nums = malloc(3 * n * sizeof(*nums));
    int64_t *levels = malloc(cap_nodes * sizeof(*levels)),
            *idxs = malloc(cap_nodes * sizeof(*idxs));
    unsigned char *data = malloc(n * 64), *hashes = malloc(cap_nodes * KW_MERKLE_HASH);
    char *kinds = NULL, *a_ticket = NULL, *a_seq = NULL, *a_len = NULL, *a_level = NULL,
         *a_idx = NULL;
    size_t kinds_cap = 0, kinds_len = 0;
    enum kw_code rc = KW_OK;
    if (!nums || !levels || !idxs || !data || !hashes) {
        rc = kw_err_set(err, KW_NOMEM, "", "%s: no memory to append to the log", st->where);
        goto out;
    }
    memset(data, 0, n * 64);
    for (size_t i = 0; i < n; i++) {
        const struct kwp_leaf_kept *l = &t->leaf[i];
        struct append a;
        int64_t idx = -1;
        rc = leaf_prepare(st, l->data, l->len, &idx, &a, err);
        if (rc == KW_OK && idx != first + (int64_t)i)
            rc = kw_err_set(err, KW_STORE, "", "%s: leaf %lld out of order", st->where,
                            (long long)idx);
        if (rc != KW_OK) {
            st->log_size = -1;
            goto out;
        }
        leaf_done(st, idx, KW_OK);
        if (n_nodes + (size_t)a.n > cap_nodes) {
            size_t cap2 = 2 * (n_nodes + (size_t)a.n);
            int64_t *l2 = realloc(levels, cap2 * sizeof(*l2));
            if (l2)
                levels = l2;
            int64_t *i2 = l2 ? realloc(idxs, cap2 * sizeof(*i2)) : NULL;
            if (i2)
                idxs = i2;
            unsigned char *h2 = i2 ? realloc(hashes, cap2 * KW_MERKLE_HASH) : NULL;
            if (!h2) {
                rc = kw_err_set(err, KW_NOMEM, "", "%s: no memory to append to the log", st->where);
                goto out;
            }
            hashes = h2;
            cap_nodes = cap2;
        }
        for (int g = 0; g < a.n; g++, n_nodes++) {
            levels[n_nodes] = g;
            idxs[n_nodes] = idx >> g;
            memcpy(hashes + n_nodes * KW_MERKLE_HASH, a.hash[g], KW_MERKLE_HASH);
        }
        nums[i] = l->ticket;
        nums[n + i] = l->seq;
        nums[2 * n + i] = (int64_t)l->len;
        memcpy(data + i * 64, l->data, l->len);
        if (!text_room(&kinds, &kinds_cap, kinds_len, sizeof(l->kind) + 3)) {
            rc = kw_err_set(err, KW_NOMEM, "", "%s: no memory to append to the log", st->where);
            goto out;
        }
        kinds_len += (size_t)sprintf(kinds + kinds_len, "%c%s", i ? ',' : '{', l->kind);
    }
    strcpy(kinds + kinds_len, "}");
    a_ticket = malloc(KWP_INT_ARRAY_BYTES(n));
    a_seq = malloc(KWP_INT_ARRAY_BYTES(n));
    a_len = malloc(KWP_INT_ARRAY_BYTES(n));
    a_level = malloc(KWP_INT_ARRAY_BYTES(n_nodes));
    a_idx = malloc(KWP_INT_ARRAY_BYTES(n_nodes));
    if (!a_ticket || !a_seq || !a_len || !a_level || !a_idx) {
        rc = kw_err_set(err, KW_NOMEM, "", "%s: no memory to append to the log", st->where);
        goto out;
    }
    kwp_int_array(a_ticket, nums, n);
    kwp_int_array(a_seq, nums + n, n);
    kwp_int_array(a_len, nums + 2 * n, n);
    kwp_int_array(a_level, levels, n_nodes);
    kwp_int_array(a_idx, idxs, n_nodes);
    struct kwp_params p = {0};
    kwp_int(&p, first);
    kwp_text(&p, kinds);
    kwp_text(&p, a_ticket);
    kwp_text(&p, a_seq);
    kwp_bytes(&p, data, (int)(n * 64));
    kwp_text(&p, a_len);
    kwp_text(&p, a_level);
    kwp_text(&p, a_idx);
    kwp_bytes(&p, hashes, (int)(n_nodes * KW_MERKLE_HASH));
    rc = kwp_exec_later(st, PGS_LEAVES_ADD, &p, "append to the log", err);
    if (rc == KW_OK)
        t->n = 0;
    else
        st->log_size = -1;
out:
    free(nums);
    free(levels);
    free(idxs);
    free(data);
    free(hashes);
    free(kinds);
    free(a_ticket);
    free(a_seq);
    free(a_len);
    free(a_level);
    free(a_idx);
    return rc;
}

enum kw_code kwp_log_settle(struct kw_store *st, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_tail *t = &st->tail;
    if (!st->in_tx || (t->n == 0 && t->n_changes == 0))
        return KW_OK;
    /* the lock, then the change rows and the leaves: numbered in the order
     * the transactions holding it commit (its holder waits for nothing else
     * now, so no transaction waits for it in an order that deadlocks) */
    if (tail_read(st, err) != KW_OK)
        return err->code;
    if (t->n_changes && changes_write(st, err) != KW_OK)
        return err->code;
    if (t->n && leaves_write(st, err) != KW_OK)
        return err->code;
    /* what a rollback to a savepoint undoes now is in the database */
    for (int d = 0; d < t->depth && d < KWPG_MAX_SAVEPOINTS; d++)
        t->mark[d].leaves = t->mark[d].changes = 0;
    return KW_OK;
}

/* ---- tickets ---- */

static enum kw_code append_after(struct kw_store *st, int64_t ticket, int64_t n,
                                 const unsigned char prev[KW_HASH_BYTES], int64_t last_at,
                                 const char *type, const char *body, int64_t actor, int64_t at,
                                 const char *state, int64_t *seq, unsigned char *head,
                                 bool head_written, struct kw_err *err);
static struct kwp_pre_one *pre_find(struct kw_store *st, int64_t ticket);

/* The insert's parameters $1 to $12, as every PGS_TICKET_INSERT* takes them. */
static void insert_params(struct kwp_params *p, const struct kw_ticket_new *t)
{
    kwp_int(p, t->org_id);
    kwp_text(p, t->title);
    kwp_text(p, t->level);
    kwp_text(p, t->tier);
    kwp_text(p, t->category);
    kwp_text(p, t->region);
    kwp_text(p, t->channel);
    kwp_int(p, t->created_by);
    kwp_text(p, t->idempotency_key);
    kwp_int(p, t->at);
    if (t->idempotency_key && t->request_digest)
        kwp_bytes(p, t->request_digest, KW_HASH_BYTES);
    else
        kwp_text(p, NULL);
    kwp_int(p, t->requester_id);
}

/* The insert failed with SQLSTATE state: no organisation, or the store. */
static enum kw_code insert_failed(const struct kw_ticket_new *t, const char *state,
                                  struct kw_err *err)
{
    return strcmp(state, NOT_NULL_VIOLATION) == 0
               ? kw_err_set(err, KW_NOT_FOUND, "/org_id", "org_id: no organisation %lld",
                            (long long)t->org_id)
               : KW_STORE;
}

/* The insert found t's idempotency key used: the ticket that has it. */
static enum kw_code existing(struct kw_store *st, const struct kw_ticket_new *t, int64_t *id,
                             bool *existed, struct kw_err *err)
{
    /* the key was used (by this creator, maybe on another node at the
     * same moment: ON CONFLICT waited for that commit) */
    struct kwp_params p = {0};
    kwp_int(&p, t->created_by);
    kwp_text(&p, t->idempotency_key);
    PGresult *res = kwp_run(st, PGS_TICKET_BY_KEY, &p, "read ticket by key", NULL, err);
    if (!res)
        return KW_STORE;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return kw_err_set(err, KW_STORE, "", "%s: idempotency key vanished", st->where);
    }
    *id = kwp_col_int(res, 0, 0);
    /* the key answers the request it was first used with; a row from
     * before digests were kept (NULL) answers any */
    unsigned char digest[KW_HASH_BYTES];
    bool other = t->request_digest && !PQgetisnull(res, 0, 1) &&
                 (!kwp_col_bytes(res, 0, 1, digest, KW_HASH_BYTES) ||
                  memcmp(digest, t->request_digest, KW_HASH_BYTES) != 0);
    PQclear(res);
    *existed = !other;
    if (other)
        return kw_err_set(err, KW_UNPROCESSABLE, "",
                          "Idempotency-Key: already used for a different request (ticket "
                          "%lld); use a new key for a new ticket",
                          (long long)*id);
    return KW_OK;
}

/* Create t as ticket id (reserved by kw_store_org_terms), its row written
 * with its first event's head, so that the event's statement writes no
 * second version of it (PGS_EVENT_FIRST). Without an idempotency key the
 * insert cannot conflict (tickets_by_key covers keyed rows only) and the
 * organisation was just read in this transaction (organisations are never
 * deleted), so it goes out with the next statement as the event does: a
 * failure there (a broken database) fails that statement and so the
 * transaction. With a key, its answer (inserted or not) is waited for. */
static enum kw_code create_numbered(struct kw_store *st, const struct kw_ticket_new *t,
                                    const char *text, int64_t id, int64_t *out, bool *existed,
                                    struct kw_err *err)
{
    static const unsigned char zero[KW_HASH_BYTES];
    unsigned char hash[KW_HASH_BYTES];
    kw_event_hash(zero, id, 1, t->at, "created", t->created_by, text, hash);
    struct kwp_params p = {0};
    insert_params(&p, t);
    kwp_int(&p, t->commitment_id);
    kwp_int(&p, id);
    kwp_bytes(&p, hash, KW_HASH_BYTES);
    if (!t->idempotency_key) {
        if (kwp_exec_later(st, PGS_TICKET_INSERT_ID, &p, "insert ticket", err) != KW_OK)
            return err->code;
    } else {
        char state[6];
        PGresult *res = kwp_run(st, PGS_TICKET_INSERT_ID, &p, "insert ticket", state, err);
        if (!res)
            return insert_failed(t, state, err);
        bool inserted = PQntuples(res) == 1;
        PQclear(res);
        if (!inserted)
            return existing(st, t, out, existed, err);
    }
    *out = id;
    return append_after(st, id, 1, zero, t->at, "created", text, t->created_by, t->at, NULL, NULL,
                        t->head, true, err);
}

/* The rest of a create, in the transaction begun: a ticket numbered by
 * kw_store_org_terms, or one whose insert gives its id. */
static enum kw_code create_in(struct kw_store *st, const struct kw_ticket_new *t, const char *text,
                              int64_t reserved, bool outer, int64_t *id, bool *existed,
                              struct kw_err *err)
{
    if (reserved > 0 && t->commitment_read && !outer)
        return create_numbered(st, t, text, reserved, id, existed, err);
    struct kwp_params p = {0};
    PGresult *res;
    insert_params(&p, t);
    if (t->commitment_read)
        kwp_int(&p, t->commitment_id);
    char state[6];
    if (!(res = kwp_run(st, t->commitment_read ? PGS_TICKET_INSERT : PGS_TICKET_INSERT_AT, &p,
                        "insert ticket", state, err)))
        return insert_failed(t, state, err);
    bool inserted = PQntuples(res) == 1;
    if (inserted)
        *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    if (!inserted)
        return existing(st, t, id, existed, err);
    /* the row this transaction just inserted, locked by it and seen by no
     * other: its head is the insert's (no event yet, the zero hash, at) */
    static const unsigned char zero[KW_HASH_BYTES];
    return append_after(st, *id, 1, zero, t->at, "created", text, t->created_by, t->at, NULL, NULL,
                        t->head, false, err);
}

enum kw_code kw_store_ticket_create(struct kw_store *st, const struct kw_ticket_new *t, int64_t *id,
                                    bool *existed, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *existed = false;
    int64_t reserved = st->next_ticket; /* once, whatever happens next */
    st->next_ticket = 0;
    if (!t->title || !*t->title)
        return kw_err_set(err, KW_INVALID, "/title", "title: missing");
    if (!t->level || !*t->level)
        return kw_err_set(err, KW_INVALID, "/level", "level: missing");
    if (kwp_text_ok(t->title, "/title", err) != KW_OK ||
        kwp_text_ok(t->idempotency_key, "/idempotency_key", err) != KW_OK)
        return err->code;
    /* the created event's body, as every backend writes it (chain_check.c):
     * a text that is not UTF-8 is refused before anything is written */
    char *text = kw_created_body(t, err);
    if (!text)
        return err->code;
    bool outer;
    enum kw_code rc = kwp_tx_begin(st, &outer, err);
    if (rc == KW_OK)
        rc = kwp_tx_finish(st, outer, create_in(st, t, text, reserved, outer, id, existed, err),
                           err);
    free(text);
    return rc;
}

/* ---- events ---- */

/* Record in the change log that ticket changed, once per ticket and unit
 * of work, at the transaction's end (kwp_log_settle): under the log's
 * lock, so that the change numbers commit in order across nodes. */
enum kw_code kwp_change_note(struct kw_store *st, int64_t ticket, int64_t at, struct kw_err *err)
{
    if (st->changed_ticket == ticket)
        return KW_OK;
    if (!st->in_tx) { /* a transaction of its own, whose end writes it */
        bool outer;
        if (kwp_tx_begin(st, &outer, err) != KW_OK)
            return err->code;
        return kwp_tx_finish(st, outer, kwp_change_note(st, ticket, at, err), err);
    }
    if (kwp_change_keep(st, ticket, at, err) != KW_OK)
        return err->code;
    st->changed_ticket = ticket;
    return KW_OK;
}

enum kw_code kwp_append(struct kw_store *st, int64_t ticket, const char *type, const char *body,
                        int64_t actor, int64_t at, const char *state, int64_t *seq,
                        struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    unsigned char prev[KW_HASH_BYTES];
    struct kwp_pre_one *kept = pre_find(st, ticket);
    if (kept && kept->head_ok) /* read and locked ahead (kw_store_prefetch) */
        return append_after(st, ticket, kept->last_seq + 1, kept->head, kept->updated_at, type,
                            body, actor, at, state, seq, NULL, false, err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res = kwp_run(st, PGS_TICKET_HEAD, &p, "read ticket", NULL, err);
    if (!res)
        return KW_STORE;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    }
    int64_t n = kwp_col_int(res, 0, 0) + 1;
    bool head_ok = kwp_col_bytes(res, 0, 1, prev, KW_HASH_BYTES);
    int64_t last_at = kwp_col_int(res, 0, 2);
    PQclear(res);
    if (!head_ok)
        return kw_err_set(err, KW_STORE, "", "ticket %lld has a damaged chain head",
                          (long long)ticket);
    return append_after(st, ticket, n, prev, last_at, type, body, actor, at, state, seq, NULL,
                        false, err);
}

/* Append event n of ticket, whose chain's head is prev at last_at, the
 * ticket's row locked by this transaction (kwp_append); head_written: the
 * row already has this event as its head (PGS_TICKET_INSERT_ID). */
static enum kw_code append_after(struct kw_store *st, int64_t ticket, int64_t n,
                                 const unsigned char prev[KW_HASH_BYTES], int64_t last_at,
                                 const char *type, const char *body, int64_t actor, int64_t at,
                                 const char *state, int64_t *seq, unsigned char *head,
                                 bool head_written, struct kw_err *err)
{
    unsigned char hash[KW_HASH_BYTES];
    /* a ticket's events are in time order even if the clock steps back */
    if (at < last_at)
        at = last_at;
    char *canon = kw_chain_canonical(body, err);
    if (!canon)
        return err->code;
    kw_event_hash(prev, ticket, n, at, type, actor, canon, hash);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    kwp_int(&p, n);
    kwp_int(&p, at);
    kwp_text(&p, type);
    kwp_int(&p, actor);
    kwp_text(&p, canon);
    kwp_bytes(&p, hash, KW_HASH_BYTES);
    kwp_text(&p, state);
    /* the change log has the ticket once per unit of work (as events.c of
     * the SQLite backend); its row and the event's leaf are written at the
     * transaction's end (kwp_log_settle) */
    bool change = st->changed_ticket != ticket;
    enum kw_code rc = kwp_leaf_append(st, "event", ticket, n, hash, KW_HASH_BYTES, err);
    if (rc == KW_OK && change)
        rc = kwp_change_keep(st, ticket, at, err);
    /* under the ticket's row lock: it fails only if the database is
     * broken, so it goes out with the next statement */
    if (rc == KW_OK)
        rc = kwp_exec_later(st, head_written ? PGS_EVENT_FIRST : PGS_EVENT_INSERT, &p,
                            "insert event", err);
    free(canon);
    if (rc != KW_OK)
        return rc;
    if (change)
        st->changed_ticket = ticket;
    struct kwp_pre_one *kept = pre_find(st, ticket);
    if (kept) { /* its row as this append leaves it; its other reads are stale */
        kwp_pre_forget(st, ticket);
        kept->last_seq = n;
        kept->updated_at = at;
        memcpy(kept->head, hash, KW_HASH_BYTES);
    }
    /* whatever path closes a ticket, its receipt is due (docs/receipts.md) */
    if (state && strcmp(state, "archived") == 0 &&
        kwp_receipt_open(st, ticket, n, at, err) != KW_OK)
        return err->code;
    if (seq)
        *seq = n;
    if (head)
        memcpy(head, hash, KW_HASH_BYTES);
    return KW_OK;
}

enum kw_code kw_store_event_append(struct kw_store *st, int64_t ticket, const char *type,
                                   const char *body, int64_t actor, int64_t at, const char *state,
                                   int64_t *seq, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    /* A ticket of the engine's unit (read and locked ahead in the caller's
     * transaction, kw_store_prefetch): no savepoint of its own. Its writes
     * go out with the next statement that needs an answer, after the
     * savepoint's release, so the savepoint could not catch their failure
     * anyway, and it cost the server two statements and a subtransaction
     * a firing. A failure fails the caller's transaction (the engine then
     * fires each ticket in a savepoint of its own, fire_each). */
    if (st->in_tx && kwp_pre_locked(st, ticket))
        return kwp_append(st, ticket, type, body, actor, at, state, seq, err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, kwp_append(st, ticket, type, body, actor, at, state, seq, err),
                         err);
}

/* Row r of a PGS_EVENTS-shaped answer (its text lent from res). */
static void event_of(const PGresult *res, int r, struct kw_stored_event *ev)
{
    *ev = (struct kw_stored_event){
        .ticket = kwp_col_int(res, r, 6),
        .seq = kwp_col_int(res, r, 0),
        .at = kwp_col_int(res, r, 1),
        .type = kwp_col_text(res, r, 2),
        .actor = kwp_col_int(res, r, 3),
        .body = kwp_col_text(res, r, 4),
    };
    if (!kwp_col_bytes(res, r, 5, ev->hash, KW_HASH_BYTES))
        memset(ev->hash, 0, KW_HASH_BYTES);
}

enum kw_code kw_store_events(struct kw_store *st, int64_t ticket,
                             bool (*fn)(const struct kw_stored_event *ev, void *ctx), void *ctx,
                             struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_pre_events(st, ticket, fn, ctx)) /* read ahead (kw_store_prefetch) */
        return KW_OK;
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res = kwp_run(st, PGS_EVENTS, &p, "read events", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_stored_event ev;
        event_of(res, r, &ev);
        if (!fn(&ev, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_verify(struct kw_store *st, int64_t ticket, unsigned char *head,
                             struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_chain_check v = {.expect_seq = 1};
    unsigned char stored[KW_HASH_BYTES] = {0};
    /* the head and the events as of one instant: the head's row lock (a
     * transaction of its own, or the caller's) holds appends back meanwhile */
    bool outer = !st->in_tx;
    if (outer)
        kwp_defer(st, PGS_BEGIN); /* sent with the head's read */
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res = kwp_run(st, PGS_TICKET_HEAD, &p, "read ticket", NULL, err);
    enum kw_code rc = KW_OK;
    int64_t last = 0;
    if (!res)
        rc = KW_STORE;
    else if (PQntuples(res) == 0)
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    else {
        last = kwp_col_int(res, 0, 0);
        kwp_col_bytes(res, 0, 1, stored, KW_HASH_BYTES);
    }
    PQclear(res);
    if (rc == KW_OK)
        rc = kw_store_events(st, ticket, kw_chain_check_one, &v, err);
    /* a transaction of its own changed nothing: ended by ROLLBACK, which
     * does not wait for a flush of the WAL as a COMMIT of the row lock's
     * transaction id would (a copy's check of 1,000,000 chains) */
    if (outer)
        kwp_exec(st, PGS_ROLLBACK, NULL, "end verify", NULL);
    if (rc != KW_OK)
        return rc;
    if (!v.why && v.expect_seq - 1 != last) {
        v.bad_seq = v.expect_seq;
        v.why = "is missing";
    }
    if (!v.why && memcmp(v.prev, stored, KW_HASH_BYTES) != 0) {
        v.bad_seq = last;
        v.why = "is not the ticket's recorded chain head";
    }
    if (v.why)
        return kw_err_set(err, KW_CONFLICT, "", "ticket %lld: event %lld %s", (long long)ticket,
                          (long long)v.bad_seq, v.why);
    if (head)
        memcpy(head, v.prev, KW_HASH_BYTES);
    return KW_OK;
}

/* ---- the change log ---- */

enum kw_code kw_store_changes_since(struct kw_store *st, int64_t after, struct kw_change *out,
                                    size_t max, size_t *n, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *n = 0;
    struct kwp_params p = {0};
    kwp_int(&p, after);
    kwp_int(&p, (int64_t)max);
    PGresult *res = kwp_run(st, PGS_CHANGES_SINCE, &p, "read changes", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++)
        out[(*n)++] = (struct kw_change){
            .seq = kwp_col_int(res, r, 0),
            .ticket = kwp_col_int(res, r, 1),
            .at = kwp_col_int(res, r, 2),
        };
    PQclear(res);
    if (!*n || out[0].seq == after + 1)
        return KW_OK;
    /* seq has gaps (rolled back rows, the sequence's cache): changes were
     * missed only if the oldest kept is past after + 1 */
    if (!(res = kwp_run(st, PGS_CHANGES_FIRST, NULL, "read changes", NULL, err)))
        return err->code;
    int64_t first = kwp_col_int(res, 0, 0);
    PQclear(res);
    if (first > after + 1) {
        *n = 0;
        return kw_err_set(err, KW_RANGE, "",
                          "changes after %lld were pruned (the oldest kept is %lld)",
                          (long long)after, (long long)first);
    }
    return KW_OK;
}

enum kw_code kw_store_changes_head(struct kw_store *st, int64_t *seq, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = kwp_run(st, PGS_CHANGES_HEAD, NULL, "read changes", NULL, err);
    if (!res)
        return err->code;
    *seq = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}

/* ---- a firing unit's reads, ahead (kw_store_prefetch) ---- */

void kwp_pre_drop(struct kw_store *st)
{
    PQclear(st->pre.rows);
    PQclear(st->pre.events);
    st->pre.rows = st->pre.events = NULL;
    st->pre.n = 0;
}

static struct kwp_pre_one *pre_find(struct kw_store *st, int64_t ticket)
{
    /* the rows are in id order */
    int lo = 0, hi = st->pre.n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (st->pre.t[mid].id < ticket)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < st->pre.n && st->pre.t[lo].id == ticket)
        return &st->pre.t[lo];
    return NULL;
}

enum kw_code kw_store_prefetch(struct kw_store *st, const int64_t *tickets, size_t n,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    kwp_pre_drop(st);
    if (!st->in_tx || n == 0) /* outside a transaction no lock would hold */
        return KW_OK;
    if (n > KWPG_MAX_PREFETCH)
        n = KWPG_MAX_PREFETCH; /* the others are read one by one */
    char *list = malloc(KWP_INT_ARRAY_BYTES(n));
    if (!list)
        return kw_err_set(err, KW_NOMEM, "", "no memory to read tickets ahead");
    kwp_int_array(list, tickets, n);
    struct kwp_params p = {0};
    kwp_text(&p, list);
    PGresult *rows = kwp_run(st, PGS_PRE_TICKETS, &p, "read tickets", NULL, err);
    PGresult *events = rows ? kwp_run(st, PGS_PRE_EVENTS, &p, "read events", NULL, err) : NULL;
    free(list);
    if (!events) {
        PQclear(rows);
        return err->code;
    }
    int nr = PQntuples(rows), ne = PQntuples(events), e = 0;
    for (int r = 0; r < nr && r < KWPG_MAX_PREFETCH; r++) {
        struct kwp_pre_one *t = &st->pre.t[r];
        *t = (struct kwp_pre_one){.id = kwp_col_int(rows, r, 0),
                                  .updated_at = kwp_col_int(rows, r, 4),
                                  .last_seq = kwp_col_int(rows, r, 5),
                                  .fire_at = kwp_col_instant(rows, r, 20),
                                  .row = r,
                                  .ticket = true,
                                  .fire = true};
        /* a damaged head is left to the append's own read, which says so */
        t->head_ok = kwp_col_bytes(rows, r, 13, t->head, KW_HASH_BYTES);
        while (e < ne && kwp_col_int(events, e, 6) < t->id)
            e++;
        t->ev_first = e;
        while (e < ne && kwp_col_int(events, e, 6) == t->id)
            e++;
        t->ev_n = e - t->ev_first;
        /* the events as read must end at the head as read */
        t->events = t->ev_n == t->last_seq;
    }
    st->pre.rows = rows;
    st->pre.events = events;
    st->pre.n = nr < KWPG_MAX_PREFETCH ? nr : KWPG_MAX_PREFETCH;
    return KW_OK;
}

bool kwp_pre_fire_at(struct kw_store *st, int64_t ticket, int64_t *fire_at)
{
    struct kwp_pre_one *t = pre_find(st, ticket);
    if (!t || !t->fire)
        return false;
    t->fire = false;
    *fire_at = t->fire_at;
    return true;
}

bool kwp_pre_ticket(struct kw_store *st, int64_t ticket, struct kw_ticket_row *out)
{
    struct kwp_pre_one *t = pre_find(st, ticket);
    if (!t || !t->ticket)
        return false;
    t->ticket = false;
    kwp_lend(st, NULL); /* as a read's call: what the last one lent dies now */
    kwp_read_ticket(st->pre.rows, t->row, out);
    return true;
}

bool kwp_pre_events(struct kw_store *st, int64_t ticket,
                    bool (*fn)(const struct kw_stored_event *ev, void *ctx), void *ctx)
{
    struct kwp_pre_one *t = pre_find(st, ticket);
    if (!t || !t->events)
        return false;
    t->events = false;
    kwp_lend(st, NULL);
    const PGresult *res = st->pre.events;
    for (int r = t->ev_first; r < t->ev_first + t->ev_n; r++) {
        struct kw_stored_event ev;
        event_of(res, r, &ev);
        if (!fn(&ev, ctx))
            break;
    }
    return true;
}

bool kwp_pre_locked(struct kw_store *st, int64_t ticket)
{
    return st->in_tx && pre_find(st, ticket) != NULL;
}

void kwp_pre_forget(struct kw_store *st, int64_t ticket)
{
    struct kwp_pre_one *t = pre_find(st, ticket);
    if (t)
        t->ticket = t->events = t->fire = false;
}
