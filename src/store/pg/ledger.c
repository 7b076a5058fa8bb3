// SPDX-License-Identifier: MIT
/* Contracts and the credit ledger on PostgreSQL, with the same meaning as
 * the SQLite backend's ledger.c: one hash chain per organisation, hashed as
 * ticket events are (core/chain.h) so that a ledger copied from SQLite
 * verifies unchanged, each entry a leaf of the Merkle log. Nodes append to
 * one organisation's chain in turn (its row is locked while one appends);
 * a billing period is closed once (its unique key) and an adjustment
 * request decided once, whichever node comes first. */
#include "pg_int.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "chain_check.h"

int64_t kwp_changed(PGresult *res)
{
    const char *n = PQcmdTuples(res);
    int64_t v = n && *n ? strtoll(n, NULL, 10) : 0;
    PQclear(res);
    return v;
}

static int64_t capped(size_t n)
{
    return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* ---- contracts ---- */

static void contract_params(struct kwp_params *p, int64_t first, const struct kw_contract *c,
                            int64_t now)
{
    kwp_int(p, first);
    kwp_int(p, c->commitment_id);
    kwp_int(p, c->value);
    kwp_text(p, c->currency);
    kwp_text(p, c->billing);
    kwp_int(p, c->period_start);
    kwp_int(p, c->period_end);
    kwp_int(p, c->deposit_percent);
    kwp_int(p, c->deposit_amount);
    kwp_int(p, c->deposit_held);
    kwp_int(p, c->dual_above);
    kwp_int(p, now);
}

enum kw_code kw_store_contract_insert(struct kw_store *st, const struct kw_contract *c, int64_t now,
                                      int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    contract_params(&p, c->org_id, c, now);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    PGresult *res = kwp_run(st, PGS_CONTRACT_INSERT, &p, "insert a contract", NULL, err);
    if (res) {
        *id = kwp_col_int(res, 0, 0);
        PQclear(res);
    }
    return kwp_tx_finish(st, outer, res ? KW_OK : err->code, err);
}

enum kw_code kw_store_contract_update(struct kw_store *st, const struct kw_contract *c, int64_t now,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    contract_params(&p, c->id, c, now);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    PGresult *res = kwp_run(st, PGS_CONTRACT_UPDATE, &p, "update a contract", NULL, err);
    enum kw_code rc = !res ? err->code
                      : kwp_changed(res) == 0
                          ? kw_err_set(err, KW_NOT_FOUND, "", "no contract %lld", (long long)c->id)
                          : KW_OK;
    return kwp_tx_finish(st, outer, rc, err);
}

enum kw_code kw_store_contracts(struct kw_store *st, int64_t id, int64_t org_id, int64_t after,
                                size_t limit, bool (*fn)(const struct kw_contract *c, void *ctx),
                                void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, org_id);
    kwp_int(&p, after);
    kwp_int(&p, capped(limit));
    PGresult *res = kwp_run(st, PGS_CONTRACTS, &p, "list contracts", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_contract c = {
            .id = kwp_col_int(res, r, 0),
            .org_id = kwp_col_int(res, r, 1),
            .commitment_id = kwp_col_int(res, r, 2),
            .value = kwp_col_int(res, r, 3),
            .currency = kwp_col_text(res, r, 4),
            .billing = kwp_col_text(res, r, 5),
            .period_start = kwp_col_int(res, r, 6),
            .period_end = kwp_col_int(res, r, 7),
            .deposit_percent = kwp_col_int(res, r, 8),
            .deposit_amount = kwp_col_int(res, r, 9),
            .deposit_held = kwp_col_int(res, r, 10),
            .dual_above = kwp_col_int(res, r, 11),
            .created_at = kwp_col_int(res, r, 12),
            .updated_at = kwp_col_int(res, r, 13),
        };
        if (!fn(&c, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_contract_at(struct kw_store *st, int64_t org_id, int64_t t, int64_t *id,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, org_id);
    kwp_int(&p, t);
    PGresult *res = kwp_run(st, PGS_CONTRACT_AT, &p, "find a contract", NULL, err);
    if (!res)
        return err->code;
    *id = PQntuples(res) ? kwp_col_int(res, 0, 0) : 0;
    PQclear(res);
    return KW_OK;
}

/* ---- the ledger ---- */

/* Inside a write transaction, lock the ledgers a read looks at: of org_id,
 * of contract_id's organisation, of overrun_id's (0: none). Several nodes
 * compute an accrual from what was accrued so far and append the rest;
 * read under the lock, two never append the same rest twice. */
static enum kw_code lock_for_read(struct kw_store *st, int64_t org_id, int64_t contract_id,
                                  int64_t overrun_id, struct kw_err *err)
{
    if (!st->in_tx || (!org_id && !contract_id && !overrun_id))
        return KW_OK;
    struct kwp_params p = {0};
    kwp_int(&p, org_id);
    kwp_int(&p, contract_id);
    kwp_int(&p, overrun_id);
    return kwp_exec(st, PGS_LEDGER_LOCK_READ, &p, "lock the ledger", err);
}

static void read_entry(const PGresult *res, int r, struct kw_ledger_row *out)
{
    *out = (struct kw_ledger_row){
        .id = kwp_col_int(res, r, 0),
        .org_id = kwp_col_int(res, r, 1),
        .seq = kwp_col_int(res, r, 2),
        .contract_id = kwp_col_int(res, r, 3),
        .ticket_id = kwp_col_int(res, r, 4),
        .overrun_id = kwp_col_int(res, r, 5),
        .actor = kwp_col_int(res, r, 6),
        .approved_by = kwp_col_int(res, r, 7),
        .at = kwp_col_int(res, r, 8),
        .kind = kwp_col_text(res, r, 9),
        .body = kwp_col_text(res, r, 10),
        .against = kwp_col_text(res, r, 11),
        .amount = kwp_col_int(res, r, 12),
        .quantity = kwp_col_int(res, r, 13),
    };
    kwp_col_bytes(res, r, 14, out->hash, KW_HASH_BYTES); /* else all zero: fails a check */
}

/* Append e inside an open transaction. */
static enum kw_code ledger_append(struct kw_store *st, const struct kw_ledger_row *e, int64_t *id,
                                  struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, e->org_id);
    PGresult *res = kwp_run(st, PGS_LEDGER_LOCK, &p, "lock the organisation's ledger", NULL, err);
    if (!res)
        return err->code;
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found)
        return kw_err_set(err, KW_NOT_FOUND, "/org_id", "org_id: no organisation %lld",
                          (long long)e->org_id);
    res = kwp_run(st, PGS_LEDGER_HEAD, &p, "read the ledger's head", NULL, err);
    if (!res)
        return err->code;
    unsigned char prev[KW_HASH_BYTES] = {0}, hash[KW_HASH_BYTES];
    int64_t seq = 1, at = e->at;
    if (PQntuples(res)) {
        seq = kwp_col_int(res, 0, 0) + 1;
        kwp_col_bytes(res, 0, 1, prev, KW_HASH_BYTES);
        /* a chain is in time order even if the clock steps back */
        if (at < kwp_col_int(res, 0, 2))
            at = kwp_col_int(res, 0, 2);
    }
    PQclear(res);
    char *canon = kw_chain_canonical(e->body, err);
    if (!canon)
        return err->code;
    kw_event_hash(prev, e->org_id, seq, at, e->kind, e->actor, canon, hash);
    p = (struct kwp_params){0};
    kwp_int(&p, e->org_id);
    kwp_int(&p, seq);
    kwp_int(&p, e->contract_id);
    kwp_text(&p, e->kind);
    kwp_int(&p, e->amount);
    kwp_int(&p, e->quantity);
    kwp_text(&p, e->against);
    kwp_int(&p, e->ticket_id);
    kwp_int(&p, e->overrun_id);
    kwp_int(&p, e->actor);
    kwp_int(&p, e->approved_by);
    kwp_int(&p, at);
    kwp_text(&p, canon);
    kwp_bytes(&p, hash, KW_HASH_BYTES);
    res = kwp_run(st, PGS_LEDGER_INSERT, &p, "append a ledger entry", NULL, err);
    free(canon);
    if (!res)
        return err->code;
    *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return kwp_leaf_append(st, "ledger", e->org_id, seq, hash, KW_HASH_BYTES, err);
}

enum kw_code kw_store_ledger_append(struct kw_store *st, const struct kw_ledger_row *e, int64_t *id,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, ledger_append(st, e, id, err), err);
}

enum kw_code kw_store_ledger(struct kw_store *st, const struct kw_ledger_filter *f,
                             bool (*fn)(const struct kw_ledger_row *e, void *ctx), void *ctx,
                             struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (lock_for_read(st, f->org_id, f->contract_id, f->overrun_id, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, f->org_id);
    kwp_int(&p, f->contract_id);
    kwp_int(&p, f->overrun_id);
    kwp_int(&p, f->after);
    kwp_int(&p, f->from == KW_STORE_NO_TIME ? INT64_MIN : f->from);
    kwp_int(&p, f->to == KW_STORE_NO_TIME ? INT64_MAX : f->to);
    kwp_int(&p, capped(f->limit));
    PGresult *res = kwp_run(st, PGS_LEDGER, &p, "list the ledger", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_ledger_row e;
        read_entry(res, r, &e);
        if (!fn(&e, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_ledger_sums(struct kw_store *st, int64_t contract_id, int64_t ticket,
                                  int64_t from, int64_t to, struct kw_ledger_sums *out,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (lock_for_read(st, 0, contract_id, 0, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, contract_id);
    kwp_int(&p, ticket);
    kwp_int(&p, from);
    kwp_int(&p, to);
    PGresult *res = kwp_run(st, PGS_LEDGER_SUMS, &p, "sum the ledger", NULL, err);
    if (!res)
        return err->code;
    *out = (struct kw_ledger_sums){
        .credits = kwp_col_int(res, 0, 0),
        .claimed = kwp_col_int(res, 0, 1),
        .settled = kwp_col_int(res, 0, 2),
        .from_deposit = kwp_col_int(res, 0, 3),
    };
    PQclear(res);
    return KW_OK;
}

_Static_assert(sizeof(((struct kw_ledger_check *)0)->head) == KW_HASH_BYTES,
               "the head holds one chain hash");

/* entries read a page at a time: a long ledger is not held in memory whole */
#define CHAIN_PAGE 1000

enum kw_code kw_store_ledger_verify(struct kw_store *st, int64_t org_id,
                                    struct kw_ledger_check *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ledger_chain_check c = {.org = -1, .err = err, .rc = KW_OK};
    enum kw_code rc = KW_OK;
    int64_t last_org = INT64_MIN, last_seq = INT64_MIN;
    for (bool more = true; more && rc == KW_OK && c.rc == KW_OK;) {
        struct kwp_params p = {0};
        kwp_int(&p, org_id);
        kwp_int(&p, last_org);
        kwp_int(&p, last_seq);
        kwp_int(&p, CHAIN_PAGE);
        PGresult *res = kwp_run(st, PGS_LEDGER_CHAIN, &p, "verify the ledger", NULL, err);
        if (!res) {
            rc = err->code;
            break;
        }
        int n = PQntuples(res);
        for (int r = 0; r < n; r++) {
            struct kw_ledger_row e;
            read_entry(res, r, &e);
            last_org = e.org_id;
            last_seq = e.seq;
            if (!kw_ledger_check_one(&e, &c))
                break;
        }
        more = n == CHAIN_PAGE;
        PQclear(res);
    }
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
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, r->contract_id);
    kwp_int(&p, r->amount);
    kwp_text(&p, r->reason);
    kwp_int(&p, r->ticket_id);
    kwp_int(&p, r->requested_by);
    kwp_int(&p, r->requested_at);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    PGresult *res = kwp_run(st, PGS_REQUEST_ADD, &p, "request an adjustment", NULL, err);
    if (res) {
        *id = kwp_col_int(res, 0, 0);
        PQclear(res);
    }
    return kwp_tx_finish(st, outer, res ? KW_OK : err->code, err);
}

enum kw_code kw_store_ledger_requests(struct kw_store *st, int64_t id, int64_t contract_id,
                                      bool pending,
                                      bool (*fn)(const struct kw_ledger_request *r, void *ctx),
                                      void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, contract_id);
    kwp_text(&p, pending ? "true" : "false");
    PGresult *res = kwp_run(st, PGS_REQUESTS, &p, "list adjustment requests", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_ledger_request q = {
            .id = kwp_col_int(res, r, 0),
            .contract_id = kwp_col_int(res, r, 1),
            .amount = kwp_col_int(res, r, 2),
            .ticket_id = kwp_col_int(res, r, 3),
            .requested_by = kwp_col_int(res, r, 4),
            .requested_at = kwp_col_int(res, r, 5),
            .decided_by = kwp_col_int(res, r, 6),
            .decided_at = kwp_col_instant(res, r, 7),
            .entry_id = kwp_col_int(res, r, 8),
            .approved = (int)kwp_col_int(res, r, 9),
            .reason = kwp_col_text(res, r, 10),
        };
        if (!fn(&q, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_ledger_request_decide(struct kw_store *st, int64_t id, int64_t by,
                                            bool approved, int64_t entry_id, int64_t now,
                                            struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, by);
    kwp_text(&p, approved ? "true" : "false");
    kwp_int(&p, entry_id);
    kwp_int(&p, now);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    PGresult *res = kwp_run(st, PGS_REQUEST_DECIDE, &p, "decide an adjustment request", NULL, err);
    enum kw_code rc = !res                    ? err->code
                      : kwp_changed(res) == 0 ? kw_err_set(err, KW_CONFLICT, "",
                                                           "adjustment request %lld was decided "
                                                           "already",
                                                           (long long)id)
                                              : KW_OK;
    return kwp_tx_finish(st, outer, rc, err);
}

/* ---- billing periods closed ---- */

enum kw_code kw_store_period_close_add(struct kw_store *st, int64_t contract, int64_t period_end,
                                       int64_t closed_at, const char *by, int64_t entries,
                                       bool *first, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, contract);
    kwp_int(&p, period_end);
    kwp_int(&p, closed_at);
    kwp_text(&p, by);
    kwp_int(&p, entries);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    PGresult *res = kwp_run(st, PGS_CLOSE_ADD, &p, "record a billing period closed", NULL, err);
    if (res)
        *first = kwp_changed(res) == 1;
    return kwp_tx_finish(st, outer, res ? KW_OK : err->code, err);
}

enum kw_code kw_store_period_close_count(struct kw_store *st, int64_t contract, int64_t period_end,
                                         int64_t entries, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, contract);
    kwp_int(&p, period_end);
    kwp_int(&p, entries);
    return kwp_exec(st, PGS_CLOSE_COUNT, &p, "count a billing period's entries", err);
}

enum kw_code kw_store_period_close_last(struct kw_store *st, int64_t contract, int64_t *period_end,
                                        struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, contract);
    PGresult *res = kwp_run(st, PGS_CLOSE_LAST, &p, "read the billing periods closed", NULL, err);
    if (!res)
        return err->code;
    *period_end = kwp_col_instant(res, 0, 0);
    PQclear(res);
    return KW_OK;
}
