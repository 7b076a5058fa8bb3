// SPDX-License-Identifier: MIT
/* Contracts per organisation and the credit ledger: one hash chain per
 * organisation, hashed as ticket events are (core/chain.h) and each entry a
 * leaf of the Merkle log; adjustments waiting for a second manager. */
#include "sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "chain_check.h"

enum stmt {
    S_CONTRACT_INSERT,
    S_CONTRACT_UPDATE,
    S_CONTRACTS,
    S_CONTRACT_AT,
    S_LEDGER_HEAD,
    S_LEDGER_INSERT,
    S_LEDGER,
    S_LEDGER_SUMS,
    S_LEDGER_CHAIN,
    S_REQUEST_ADD,
    S_REQUESTS,
    S_REQUEST_DECIDE,
    S_CLOSE_ADD,
    S_CLOSE_COUNT,
    S_CLOSE_LAST,
    S_COUNT
};

#define CONTRACT_COLS                                                                              \
    "id, org_id, coalesce(commitment_id, 0), value, currency, billing, period_start,"              \
    " period_end, coalesce(deposit_percent, -1), coalesce(deposit_amount, -1), deposit_held,"      \
    " dual_above, created_at, updated_at"
#define LEDGER_COLS                                                                                \
    "id, org_id, seq, coalesce(contract_id, 0), coalesce(ticket_id, 0), coalesce(overrun_id, 0),"  \
    " actor, coalesce(approved_by, 0), at, kind, body, against, amount, quantity, hash"

static const char *const sql[S_COUNT] = {
    [S_CONTRACT_INSERT] =
        "INSERT INTO contracts(org_id, commitment_id, value, currency, billing, period_start,"
        " period_end, deposit_percent, deposit_amount, deposit_held, dual_above, created_at,"
        " updated_at) VALUES (?1, nullif(?2, 0), ?3, ?4, ?5, ?6, ?7, nullif(?8, -1),"
        " nullif(?9, -1), ?10, ?11, ?12, ?12)",
    [S_CONTRACT_UPDATE] = "UPDATE contracts SET commitment_id = nullif(?2, 0), value = ?3,"
                          " currency = ?4, billing = ?5, period_start = ?6, period_end = ?7,"
                          " deposit_percent = nullif(?8, -1), deposit_amount = nullif(?9, -1),"
                          " deposit_held = ?10, dual_above = ?11, updated_at = ?12 WHERE id = ?1",
    [S_CONTRACTS] = "SELECT " CONTRACT_COLS " FROM contracts WHERE (?1 = 0 OR id = ?1)"
                    " AND (?2 = 0 OR org_id = ?2) AND id > ?3 ORDER BY id LIMIT ?4",
    [S_CONTRACT_AT] = "SELECT id FROM contracts WHERE org_id = ?1"
                      " AND period_start <= ?2 AND ?2 < period_end"
                      " ORDER BY period_start DESC, id DESC LIMIT 1",
    [S_LEDGER_HEAD] = "SELECT seq, hash, at FROM ledger WHERE org_id = ?1"
                      " ORDER BY seq DESC LIMIT 1",
    [S_LEDGER_INSERT] = "INSERT INTO ledger(org_id, seq, contract_id, kind, amount, quantity,"
                        " against, ticket_id, overrun_id, actor, approved_by, at, body, hash)"
                        " VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6, ?7, nullif(?8, 0),"
                        " nullif(?9, 0), ?10, nullif(?11, 0), ?12, ?13, ?14)",
    [S_LEDGER] = "SELECT " LEDGER_COLS " FROM ledger WHERE (?1 = 0 OR org_id = ?1)"
                 " AND (?2 = 0 OR contract_id = ?2) AND (?3 = 0 OR overrun_id = ?3)"
                 " AND id > ?4 AND at >= ?5 AND at < ?6 ORDER BY id LIMIT ?7",
    [S_LEDGER_SUMS] =
        "SELECT coalesce(sum(CASE WHEN kind IN ('accrual','adjustment') AND (?2 = 0 OR"
        " ticket_id = ?2) AND at >= ?3 AND at < ?4 THEN amount END), 0),"
        " coalesce(sum(CASE WHEN kind = 'claim' THEN amount END), 0),"
        " coalesce(sum(CASE WHEN kind = 'settlement' THEN amount END), 0),"
        " coalesce(sum(CASE WHEN kind = 'settlement' AND against = 'deposit' THEN amount END), 0)"
        " FROM ledger WHERE contract_id = ?1",
    [S_LEDGER_CHAIN] = "SELECT " LEDGER_COLS " FROM ledger WHERE (?1 = 0 OR org_id = ?1)"
                       " ORDER BY org_id, seq",
    [S_REQUEST_ADD] = "INSERT INTO ledger_requests(contract_id, amount, reason, ticket_id,"
                      " requested_by, requested_at) VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6)",
    [S_REQUESTS] = "SELECT id, contract_id, amount, coalesce(ticket_id, 0), requested_by,"
                   " requested_at, coalesce(decided_by, 0), decided_at, coalesce(entry_id, 0),"
                   " coalesce(approved, -1), reason FROM ledger_requests WHERE (?1 = 0 OR id = ?1)"
                   " AND (?2 = 0 OR contract_id = ?2) AND (NOT ?3 OR decided_at IS NULL)"
                   " ORDER BY id",
    [S_REQUEST_DECIDE] = "UPDATE ledger_requests SET decided_by = ?2, approved = ?3,"
                         " entry_id = nullif(?4, 0), decided_at = ?5"
                         " WHERE id = ?1 AND decided_at IS NULL",
    /* the unique key decides who closes a period: a second is ignored */
    [S_CLOSE_ADD] = "INSERT INTO period_closes(contract_id, period_end, closed_at, closed_by,"
                    " entries) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    [S_CLOSE_COUNT] = "UPDATE period_closes SET entries = ?3 WHERE contract_id = ?1 AND"
                      " period_end = ?2",
    [S_CLOSE_LAST] = "SELECT max(period_end) FROM period_closes WHERE contract_id = ?1",
};

const struct kws_catalogue kws_ledger_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_LEDGER, (int)s);
}

static void read_contract(sqlite3_stmt *x, struct kw_contract *out)
{
    *out = (struct kw_contract){
        .id = sqlite3_column_int64(x, 0),
        .org_id = sqlite3_column_int64(x, 1),
        .commitment_id = sqlite3_column_int64(x, 2),
        .value = sqlite3_column_int64(x, 3),
        .currency = column_text(x, 4),
        .billing = column_text(x, 5),
        .period_start = sqlite3_column_int64(x, 6),
        .period_end = sqlite3_column_int64(x, 7),
        .deposit_percent = sqlite3_column_int64(x, 8),
        .deposit_amount = sqlite3_column_int64(x, 9),
        .deposit_held = sqlite3_column_int64(x, 10),
        .dual_above = sqlite3_column_int64(x, 11),
        .created_at = sqlite3_column_int64(x, 12),
        .updated_at = sqlite3_column_int64(x, 13),
    };
}
KWS_ROW_MAPPER(read_contract, struct kw_contract)

static void bind_contract(sqlite3_stmt *x, const struct kw_contract *c, int64_t now)
{
    sqlite3_bind_int64(x, 2, c->commitment_id);
    sqlite3_bind_int64(x, 3, c->value);
    bind_text(x, 4, c->currency);
    bind_text(x, 5, c->billing);
    sqlite3_bind_int64(x, 6, c->period_start);
    sqlite3_bind_int64(x, 7, c->period_end);
    sqlite3_bind_int64(x, 8, c->deposit_percent);
    sqlite3_bind_int64(x, 9, c->deposit_amount);
    sqlite3_bind_int64(x, 10, c->deposit_held);
    sqlite3_bind_int64(x, 11, c->dual_above);
    sqlite3_bind_int64(x, 12, now);
}

enum kw_code kw_store_contract_insert(struct kw_store *st, const struct kw_contract *c, int64_t now,
                                      int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CONTRACT_INSERT);
    sqlite3_bind_int64(x, 1, c->org_id);
    bind_contract(x, c, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "insert a contract");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_contract_update(struct kw_store *st, const struct kw_contract *c, int64_t now,
                                      struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CONTRACT_UPDATE);
    sqlite3_bind_int64(x, 1, c->id);
    bind_contract(x, c, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "update a contract");
    if (sqlite3_changes(st->db) == 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "no contract %lld", (long long)c->id);
    return KW_OK;
}

enum kw_code kw_store_contracts(struct kw_store *st, int64_t id, int64_t org_id, int64_t after,
                                size_t limit, bool (*fn)(const struct kw_contract *c, void *ctx),
                                void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CONTRACTS);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, org_id);
    sqlite3_bind_int64(x, 3, after);
    sqlite3_bind_int64(x, 4, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    return EACH_ROW(st, x, read_contract, fn, ctx, "list contracts", err);
}

enum kw_code kw_store_contract_at(struct kw_store *st, int64_t org_id, int64_t t, int64_t *id,
                                  struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CONTRACT_AT);
    sqlite3_bind_int64(x, 1, org_id);
    sqlite3_bind_int64(x, 2, t);
    int rc = sqlite3_step(x);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "find a contract");
}

/* ---- the ledger ---- */

static void read_entry(sqlite3_stmt *x, struct kw_ledger_row *out)
{
    *out = (struct kw_ledger_row){
        .id = sqlite3_column_int64(x, 0),
        .org_id = sqlite3_column_int64(x, 1),
        .seq = sqlite3_column_int64(x, 2),
        .contract_id = sqlite3_column_int64(x, 3),
        .ticket_id = sqlite3_column_int64(x, 4),
        .overrun_id = sqlite3_column_int64(x, 5),
        .actor = sqlite3_column_int64(x, 6),
        .approved_by = sqlite3_column_int64(x, 7),
        .at = sqlite3_column_int64(x, 8),
        .kind = column_text(x, 9),
        .body = column_text(x, 10),
        .against = column_text(x, 11),
        .amount = sqlite3_column_int64(x, 12),
        .quantity = sqlite3_column_int64(x, 13),
    };
    if (sqlite3_column_bytes(x, 14) == KW_HASH_BYTES)
        memcpy(out->hash, sqlite3_column_blob(x, 14), KW_HASH_BYTES);
}
KWS_ROW_MAPPER(read_entry, struct kw_ledger_row)

enum kw_code kw_store_ledger_append(struct kw_store *st, const struct kw_ledger_row *e, int64_t *id,
                                    struct kw_err *err)
{
    unsigned char prev[KW_HASH_BYTES] = {0}, hash[KW_HASH_BYTES];
    sqlite3_stmt *x = prep(st, S_LEDGER_HEAD);
    sqlite3_bind_int64(x, 1, e->org_id);
    int rc = sqlite3_step(x);
    int64_t seq = 1, at = e->at;
    if (rc == SQLITE_ROW) {
        seq = sqlite3_column_int64(x, 0) + 1;
        if (sqlite3_column_bytes(x, 1) == KW_HASH_BYTES)
            memcpy(prev, sqlite3_column_blob(x, 1), KW_HASH_BYTES);
        /* a chain is in time order even if the clock steps back */
        if (at < sqlite3_column_int64(x, 2))
            at = sqlite3_column_int64(x, 2);
    }
    sqlite3_reset(x);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kws_fail(st, err, "read the ledger's head");
    char *canon = kw_chain_canonical(e->body, err);
    if (!canon)
        return err ? err->code : KW_INVALID;
    kw_event_hash(prev, e->org_id, seq, at, e->kind, e->actor, canon, hash);
    x = prep(st, S_LEDGER_INSERT);
    sqlite3_bind_int64(x, 1, e->org_id);
    sqlite3_bind_int64(x, 2, seq);
    sqlite3_bind_int64(x, 3, e->contract_id);
    bind_text(x, 4, e->kind);
    sqlite3_bind_int64(x, 5, e->amount);
    sqlite3_bind_int64(x, 6, e->quantity);
    bind_text(x, 7, e->against);
    sqlite3_bind_int64(x, 8, e->ticket_id);
    sqlite3_bind_int64(x, 9, e->overrun_id);
    sqlite3_bind_int64(x, 10, e->actor);
    sqlite3_bind_int64(x, 11, e->approved_by);
    sqlite3_bind_int64(x, 12, at);
    bind_text(x, 13, canon);
    sqlite3_bind_blob(x, 14, hash, KW_HASH_BYTES, SQLITE_STATIC);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    free(canon);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "append a ledger entry");
    *id = sqlite3_last_insert_rowid(st->db);
    return kws_log_append(st, "ledger", e->org_id, seq, hash, KW_HASH_BYTES, err);
}

enum kw_code kw_store_ledger(struct kw_store *st, const struct kw_ledger_filter *f,
                             bool (*fn)(const struct kw_ledger_row *e, void *ctx), void *ctx,
                             struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LEDGER);
    sqlite3_bind_int64(x, 1, f->org_id);
    sqlite3_bind_int64(x, 2, f->contract_id);
    sqlite3_bind_int64(x, 3, f->overrun_id);
    sqlite3_bind_int64(x, 4, f->after);
    sqlite3_bind_int64(x, 5, f->from == KW_STORE_NO_TIME ? INT64_MIN : f->from);
    sqlite3_bind_int64(x, 6, f->to == KW_STORE_NO_TIME ? INT64_MAX : f->to);
    sqlite3_bind_int64(x, 7, f->limit > INT64_MAX ? INT64_MAX : (int64_t)f->limit);
    return EACH_ROW(st, x, read_entry, fn, ctx, "list the ledger", err);
}

enum kw_code kw_store_ledger_sums(struct kw_store *st, int64_t contract_id, int64_t ticket,
                                  int64_t from, int64_t to, struct kw_ledger_sums *out,
                                  struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LEDGER_SUMS);
    sqlite3_bind_int64(x, 1, contract_id);
    sqlite3_bind_int64(x, 2, ticket);
    sqlite3_bind_int64(x, 3, from);
    sqlite3_bind_int64(x, 4, to);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *out = (struct kw_ledger_sums){
            .credits = sqlite3_column_int64(x, 0),
            .claimed = sqlite3_column_int64(x, 1),
            .settled = sqlite3_column_int64(x, 2),
            .from_deposit = sqlite3_column_int64(x, 3),
        };
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "sum the ledger");
}

_Static_assert(sizeof(((struct kw_ledger_check *)0)->head) == KW_HASH_BYTES,
               "the head holds one chain hash");

enum kw_code kw_store_ledger_verify(struct kw_store *st, int64_t org_id,
                                    struct kw_ledger_check *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ledger_chain_check c = {.org = -1, .err = err, .rc = KW_OK};
    sqlite3_stmt *x = prep(st, S_LEDGER_CHAIN);
    sqlite3_bind_int64(x, 1, org_id);
    enum kw_code rc =
        EACH_ROW(st, x, read_entry, kw_ledger_check_one, &c, "verify the ledger", err);
    if (out) {
        out->entries = c.entries;
        memcpy(out->head, c.prev, KW_HASH_BYTES);
    }
    return rc != KW_OK ? rc : c.rc;
}

/* ---- adjustments waiting for a second manager ---- */

enum kw_code kw_store_ledger_request_add(struct kw_store *st, const struct kw_ledger_request *r,
                                         int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_REQUEST_ADD);
    sqlite3_bind_int64(x, 1, r->contract_id);
    sqlite3_bind_int64(x, 2, r->amount);
    bind_text(x, 3, r->reason);
    sqlite3_bind_int64(x, 4, r->ticket_id);
    sqlite3_bind_int64(x, 5, r->requested_by);
    sqlite3_bind_int64(x, 6, r->requested_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "request an adjustment");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

static void read_request(sqlite3_stmt *x, struct kw_ledger_request *out)
{
    *out = (struct kw_ledger_request){
        .id = sqlite3_column_int64(x, 0),
        .contract_id = sqlite3_column_int64(x, 1),
        .amount = sqlite3_column_int64(x, 2),
        .ticket_id = sqlite3_column_int64(x, 3),
        .requested_by = sqlite3_column_int64(x, 4),
        .requested_at = sqlite3_column_int64(x, 5),
        .decided_by = sqlite3_column_int64(x, 6),
        .decided_at = column_instant(x, 7),
        .entry_id = sqlite3_column_int64(x, 8),
        .approved = sqlite3_column_int(x, 9),
        .reason = column_text(x, 10),
    };
}
KWS_ROW_MAPPER(read_request, struct kw_ledger_request)

enum kw_code kw_store_ledger_requests(struct kw_store *st, int64_t id, int64_t contract_id,
                                      bool pending,
                                      bool (*fn)(const struct kw_ledger_request *r, void *ctx),
                                      void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_REQUESTS);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, contract_id);
    sqlite3_bind_int(x, 3, pending);
    return EACH_ROW(st, x, read_request, fn, ctx, "list adjustment requests", err);
}

enum kw_code kw_store_ledger_request_decide(struct kw_store *st, int64_t id, int64_t by,
                                            bool approved, int64_t entry_id, int64_t now,
                                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_REQUEST_DECIDE);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, by);
    sqlite3_bind_int(x, 3, approved);
    sqlite3_bind_int64(x, 4, entry_id);
    sqlite3_bind_int64(x, 5, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "decide an adjustment request");
    if (sqlite3_changes(st->db) == 0)
        return kw_err_set(err, KW_CONFLICT, "", "adjustment request %lld was decided already",
                          (long long)id);
    return KW_OK;
}

/* ---- billing periods closed ---- */

enum kw_code kw_store_period_close_add(struct kw_store *st, int64_t contract, int64_t period_end,
                                       int64_t closed_at, const char *by, int64_t entries,
                                       bool *first, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CLOSE_ADD);
    sqlite3_bind_int64(x, 1, contract);
    sqlite3_bind_int64(x, 2, period_end);
    sqlite3_bind_int64(x, 3, closed_at);
    bind_text(x, 4, by);
    sqlite3_bind_int64(x, 5, entries);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "record a billing period closed");
    *first = sqlite3_changes(st->db) == 1;
    return KW_OK;
}

enum kw_code kw_store_period_close_count(struct kw_store *st, int64_t contract, int64_t period_end,
                                         int64_t entries, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CLOSE_COUNT);
    sqlite3_bind_int64(x, 1, contract);
    sqlite3_bind_int64(x, 2, period_end);
    sqlite3_bind_int64(x, 3, entries);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "count a billing period's entries");
}

enum kw_code kw_store_period_close_last(struct kw_store *st, int64_t contract, int64_t *period_end,
                                        struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CLOSE_LAST);
    sqlite3_bind_int64(x, 1, contract);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *period_end = column_instant(x, 0);
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read the billing periods closed");
}
