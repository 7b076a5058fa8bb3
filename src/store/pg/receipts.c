// SPDX-License-Identifier: MIT
/* The receipts issued at a ticket's closure on PostgreSQL (docs/receipts.md,
 * migration 8), as the SQLite backend's (sqlite/log.c): one row is due from
 * the transaction whose event archives the ticket (tickets.c), and the
 * signer's holder fills it in once (http/proof.c); the first bytes kept
 * stay (the UPDATE only takes a row still pending, and the table's trigger
 * refuses any change to an issued one). Two nodes racing to issue the same
 * receipt: the second's UPDATE waits for the first's row lock, finds the
 * body set, and changes nothing. */
#include "pg_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stmt { S_OPEN, S_LIST, S_PENDING, S_GET, S_ISSUE, S_COUNT };

#define COLS "ticket_id, seq, closed_at, issued_at, tree_size, receipt_hash"

static const char *const sql[S_COUNT] = {
    [S_OPEN] = "INSERT INTO receipts(ticket_id, seq, closed_at) VALUES ($1, $2, $3)"
               " ON CONFLICT DO NOTHING",
    [S_LIST] = "SELECT " COLS " FROM receipts WHERE ticket_id = $1 ORDER BY seq",
    [S_PENDING] = "SELECT " COLS " FROM receipts WHERE body IS NULL"
                  " ORDER BY closed_at, ticket_id LIMIT $1",
    [S_GET] = "SELECT " COLS ", body FROM receipts WHERE ticket_id = $1 AND seq = $2",
    [S_ISSUE] = "UPDATE receipts SET issued_at = $3, tree_size = $4, receipt_hash = $5,"
                " body = $6 WHERE ticket_id = $1 AND seq = $2 AND body IS NULL",
};

const struct kwp_catalogue kwp_receipts_sql = {sql, S_COUNT};

static PGresult *run(struct kw_store *st, enum stmt s, const struct kwp_params *p, const char *what,
                     struct kw_err *err)
{
    return kwp_run_part(st, KWP_RECEIPTS, (int)s, p, what, NULL, err);
}

enum kw_code kwp_receipt_open(struct kw_store *st, int64_t ticket, int64_t seq, int64_t at,
                              struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    kwp_int(&p, seq);
    kwp_int(&p, at);
    PGresult *res = run(st, S_OPEN, &p, "open a receipt", err);
    if (!res)
        return err->code;
    PQclear(res);
    return KW_OK;
}

static void receipt_row(const PGresult *res, int r, struct kw_receipt_row *out)
{
    *out = (struct kw_receipt_row){.ticket_id = kwp_col_int(res, r, 0),
                                   .seq = kwp_col_int(res, r, 1),
                                   .closed_at = kwp_col_int(res, r, 2),
                                   .issued_at = kwp_col_instant(res, r, 3),
                                   .tree_size = kwp_col_int(res, r, 4)};
    const char *h = kwp_col_text(res, r, 5);
    snprintf(out->receipt_hash, sizeof(out->receipt_hash), "%s", h ? h : "");
}

enum kw_code kw_store_receipts(struct kw_store *st, int64_t ticket, size_t limit,
                               bool (*fn)(const struct kw_receipt_row *r, void *ctx), void *ctx,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket ? ticket : (limit > INT64_MAX ? INT64_MAX : (int64_t)limit));
    PGresult *res = run(st, ticket ? S_LIST : S_PENDING, &p, "read receipts", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_receipt_row row;
        receipt_row(res, r, &row);
        if (!fn(&row, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_receipt_get(struct kw_store *st, int64_t ticket, int64_t seq,
                                  struct kw_receipt_row *out, char **body, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *body = NULL;
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    kwp_int(&p, seq);
    PGresult *res = run(st, S_GET, &p, "read a receipt", err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 0) {
        rc = kw_err_set(err, KW_NOT_FOUND, "", "ticket %lld has no receipt issued at event %lld",
                        (long long)ticket, (long long)seq);
    } else {
        receipt_row(res, 0, out);
        const char *b = kwp_col_text(res, 0, 6);
        if (b && !(*body = strdup(b)))
            rc = kw_err_set(err, KW_NOMEM, "", "no memory for a receipt");
    }
    PQclear(res);
    return rc;
}

enum kw_code kw_store_receipt_issue(struct kw_store *st, const struct kw_receipt_row *r,
                                    const char *body, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, r->ticket_id);
    kwp_int(&p, r->seq);
    kwp_int(&p, r->issued_at);
    kwp_int(&p, r->tree_size);
    kwp_text(&p, r->receipt_hash);
    kwp_text(&p, body);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    PGresult *res = run(st, S_ISSUE, &p, "keep a receipt", err);
    enum kw_code rc = res ? KW_OK : err->code;
    PQclear(res);
    return kwp_tx_finish(st, outer, rc, err);
}
