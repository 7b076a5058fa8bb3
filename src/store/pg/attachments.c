// SPDX-License-Identifier: MIT
/* Attachments on PostgreSQL, as the SQLite backend's: a row saying what the
 * file is, and its bytes as bytea in a row of their own (attachment_blobs,
 * migration 5), so that lists never read them; both append-only (its
 * triggers). bytea rather than large objects: the bytes are capped by
 * --max-attachment far below bytea's 1 GB, go in and out with the row's
 * transaction, and pg_dump and `keepword copy` take them like any column
 * (docs/operations.md). Parameters and the bytes' result are binary, so a
 * file crosses the wire as it is, not as hex. */
#include "pg_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum stmt { S_ADD, S_GET, S_LIST, S_TOTAL, S_DATA, S_COUNT };

#define COLS                                                                                       \
    "id, ticket_id, coalesce(comment_seq, 0), size, created_by, created_at, name, content_type,"   \
    " declared_type, internal, sha256"

static const char *const sql[S_COUNT] = {
    /* the row and its bytes in one statement, only for a ticket that is
     * there (no row back: none), so a refusal fails no transaction */
    [S_ADD] = "WITH a AS (INSERT INTO attachments(ticket_id, name, content_type, declared_type,"
              " size, sha256, internal, comment_seq, created_by, created_at)"
              " SELECT $1::bigint, $2::text, $3::text, $4::text, $5::bigint, $6::bytea,"
              " $7::boolean, nullif($8::bigint, 0), $9::bigint, $10::bigint"
              " WHERE EXISTS (SELECT 1 FROM tickets WHERE id = $1) RETURNING id),"
              " b AS (INSERT INTO attachment_blobs(attachment_id, data)"
              " SELECT id, $11::bytea FROM a) SELECT id FROM a",
    [S_GET] = "SELECT " COLS " FROM attachments WHERE id = $1",
    [S_LIST] = "SELECT " COLS " FROM attachments WHERE ticket_id = $1"
               " AND ($2::boolean OR NOT internal) ORDER BY id",
    [S_TOTAL] = "SELECT count(*), coalesce(sum(size), 0) FROM attachments WHERE ticket_id = $1",
    [S_DATA] = "SELECT data FROM attachment_blobs WHERE attachment_id = $1",
};

const struct kwp_catalogue kwp_attach_sql = {sql, S_COUNT};

static PGresult *run(struct kw_store *st, enum stmt s, const struct kwp_params *p, const char *what,
                     struct kw_err *err)
{
    return kwp_run_part(st, KWP_ATTACH, (int)s, p, what, NULL, err);
}

/* Row r of res (the columns COLS) into out; strings lent from res. */
static void read_attachment(const PGresult *res, int r, struct kw_attachment_row *out)
{
    *out = (struct kw_attachment_row){
        .id = kwp_col_int(res, r, 0),
        .ticket_id = kwp_col_int(res, r, 1),
        .comment_seq = kwp_col_int(res, r, 2),
        .size = kwp_col_int(res, r, 3),
        .created_by = kwp_col_int(res, r, 4),
        .created_at = kwp_col_int(res, r, 5),
        .name = kwp_col_text(res, r, 6),
        .content_type = kwp_col_text(res, r, 7),
        .declared_type = kwp_col_text(res, r, 8),
        .internal = strcmp(PQgetvalue(res, r, 9), "t") == 0,
    };
    kwp_col_bytes(res, r, 10, out->sha256, KW_SHA256_BYTES);
}

enum kw_code kw_store_attachment_add(struct kw_store *st, const struct kw_attachment_new *a,
                                     int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!a->name || !*a->name || !a->content_type)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (kwp_text_ok(a->name, "/name", err) != KW_OK)
        return err->code;
    if (a->size > INT_MAX) /* libpq's parameter lengths are int */
        return kw_err_set(err, KW_TOO_BIG, "", "the file is larger than %d bytes", INT_MAX);
    struct kwp_params p = {0};
    kwp_int(&p, a->ticket);
    kwp_text(&p, a->name);
    kwp_text(&p, a->content_type);
    kwp_text(&p, a->declared_type);
    kwp_int(&p, (int64_t)a->size);
    kwp_bytes(&p, a->sha256, KW_SHA256_BYTES);
    kwp_text(&p, a->internal ? "t" : "f");
    kwp_int(&p, a->comment_seq);
    kwp_int(&p, a->created_by);
    kwp_int(&p, a->at);
    /* a zero-length bytea, not NULL, for an empty file */
    kwp_bytes(&p, a->size ? a->data : "", (int)a->size);
    PGresult *res = run(st, S_ADD, &p, "store attachment", err);
    if (!res)
        return err->code;
    bool added = PQntuples(res) == 1;
    if (added)
        *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return added ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such ticket");
}

enum kw_code kw_store_attachment_get(struct kw_store *st, int64_t id, struct kw_attachment_row *out,
                                     struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = run(st, S_GET, &p, "read attachment", err);
    if (!res)
        return err->code;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return kw_err_set(err, KW_NOT_FOUND, "", "no such attachment");
    }
    read_attachment(res, 0, out);
    kwp_lend(st, res); /* its strings live until the next call (store.h) */
    return KW_OK;
}

enum kw_code kw_store_attachments(struct kw_store *st, int64_t ticket, bool with_internal,
                                  bool (*fn)(const struct kw_attachment_row *a, void *ctx),
                                  void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    kwp_text(&p, with_internal ? "t" : "f");
    PGresult *res = run(st, S_LIST, &p, "list attachments", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_attachment_row a;
        read_attachment(res, r, &a);
        if (!fn(&a, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_attachment_total(struct kw_store *st, int64_t ticket, int64_t *count,
                                       int64_t *bytes, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    *count = *bytes = 0;
    PGresult *res = run(st, S_TOTAL, &p, "count attachments", err);
    if (!res)
        return err->code;
    *count = kwp_col_int(res, 0, 0);
    *bytes = kwp_col_int(res, 0, 1);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_attachment_data(struct kw_store *st, int64_t id, void **data, size_t *size,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *data = NULL;
    *size = 0;
    struct kwp_params p = {.binary_result = true};
    kwp_int(&p, id);
    PGresult *res = run(st, S_DATA, &p, "read attachment", err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 0) {
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no such attachment");
    } else {
        size_t n = (size_t)PQgetlength(res, 0, 0);
        *data = malloc(n ? n : 1);
        if (!*data)
            rc = kw_err_set(err, KW_NOMEM, "", "no memory for the attachment");
        else if (n)
            memcpy(*data, PQgetvalue(res, 0, 0), n);
        *size = *data ? n : 0;
    }
    PQclear(res);
    return rc;
}
