// SPDX-License-Identifier: MIT
/* Attachments: a row saying what the file is, and its bytes as a blob in a
 * row of their own (so that lists never read them). Both are append-only
 * (triggers in migration 018). */
#include "sqlite_int.h"

#include <stdlib.h>
#include <string.h>

enum stmt { S_ADD, S_ADD_BLOB, S_GET, S_LIST, S_TOTAL, S_DATA, S_COUNT };

#define COLS                                                                                       \
    "id, ticket_id, coalesce(comment_seq, 0), size, created_by, created_at, name, content_type,"   \
    " declared_type, internal, sha256"

static const char *const sql[S_COUNT] = {
    [S_ADD] = "INSERT INTO attachments(ticket_id, name, content_type, declared_type, size, sha256,"
              " internal, comment_seq, created_by, created_at)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, nullif(?8, 0), ?9, ?10)",
    [S_ADD_BLOB] = "INSERT INTO attachment_blobs(attachment_id, data) VALUES (?1, ?2)",
    [S_GET] = "SELECT " COLS " FROM attachments WHERE id = ?1",
    [S_LIST] = "SELECT " COLS " FROM attachments WHERE ticket_id = ?1 AND (?2 OR internal = 0)"
               " ORDER BY id",
    [S_TOTAL] = "SELECT count(*), coalesce(sum(size), 0) FROM attachments WHERE ticket_id = ?1",
    [S_DATA] = "SELECT data FROM attachment_blobs WHERE attachment_id = ?1",
};

const struct kws_catalogue kws_attach_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_ATTACH, (int)s);
}

static void read_attachment(sqlite3_stmt *x, struct kw_attachment_row *out)
{
    *out = (struct kw_attachment_row){
        .id = sqlite3_column_int64(x, 0),
        .ticket_id = sqlite3_column_int64(x, 1),
        .comment_seq = sqlite3_column_int64(x, 2),
        .size = sqlite3_column_int64(x, 3),
        .created_by = sqlite3_column_int64(x, 4),
        .created_at = sqlite3_column_int64(x, 5),
        .name = column_text(x, 6),
        .content_type = column_text(x, 7),
        .declared_type = column_text(x, 8),
        .internal = sqlite3_column_int(x, 9) != 0,
    };
    const void *h = sqlite3_column_blob(x, 10);
    if (h && sqlite3_column_bytes(x, 10) == KW_SHA256_BYTES)
        memcpy(out->sha256, h, KW_SHA256_BYTES);
}
KWS_ROW_MAPPER(read_attachment, struct kw_attachment_row)

enum kw_code kw_store_attachment_add(struct kw_store *st, const struct kw_attachment_new *a,
                                     int64_t *id, struct kw_err *err)
{
    if (!a->name || !*a->name || !a->content_type)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (kws_text_ok(a->name, "/name", err) != KW_OK)
        return err->code;
    bool outer;
    enum kw_code rc = kws_tx_begin(st, &outer, err);
    if (rc != KW_OK)
        return rc;
    sqlite3_stmt *x = prep(st, S_ADD);
    sqlite3_bind_int64(x, 1, a->ticket);
    bind_text(x, 2, a->name);
    bind_text(x, 3, a->content_type);
    bind_text(x, 4, a->declared_type);
    sqlite3_bind_int64(x, 5, (sqlite3_int64)a->size);
    sqlite3_bind_blob(x, 6, a->sha256, KW_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_int(x, 7, a->internal);
    sqlite3_bind_int64(x, 8, a->comment_seq);
    sqlite3_bind_int64(x, 9, a->created_by);
    sqlite3_bind_int64(x, 10, a->at);
    int step = sqlite3_step(x);
    sqlite3_reset(x);
    if (step == SQLITE_CONSTRAINT)
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no such ticket");
    else if (step != SQLITE_DONE)
        rc = kws_fail(st, err, "insert attachment");
    if (rc == KW_OK) {
        *id = sqlite3_last_insert_rowid(st->db);
        x = prep(st, S_ADD_BLOB);
        sqlite3_bind_int64(x, 1, *id);
        /* a zero-length blob, not NULL, for an empty file */
        sqlite3_bind_blob64(x, 2, a->size ? a->data : "", a->size, SQLITE_STATIC);
        step = sqlite3_step(x);
        sqlite3_reset(x);
        sqlite3_clear_bindings(x); /* let go of the caller's bytes */
        if (step != SQLITE_DONE)
            rc = kws_fail(st, err, "store attachment");
    }
    return kws_tx_finish(st, outer, rc, err);
}

enum kw_code kw_store_attachment_get(struct kw_store *st, int64_t id, struct kw_attachment_row *out,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        read_attachment(x, out); /* strings live until the next call resets x */
        return KW_OK;
    }
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? kw_err_set(err, KW_NOT_FOUND, "", "no such attachment")
                             : kws_fail(st, err, "read attachment");
}

enum kw_code kw_store_attachments(struct kw_store *st, int64_t ticket, bool with_internal,
                                  bool (*fn)(const struct kw_attachment_row *a, void *ctx),
                                  void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LIST);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int(x, 2, with_internal);
    return EACH_ROW(st, x, read_attachment, fn, ctx, "list attachments", err);
}

enum kw_code kw_store_attachment_total(struct kw_store *st, int64_t ticket, int64_t *count,
                                       int64_t *bytes, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TOTAL);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    *bytes = rc == SQLITE_ROW ? sqlite3_column_int64(x, 1) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count attachments");
}

enum kw_code kw_store_attachment_data(struct kw_store *st, int64_t id, void **data, size_t *size,
                                      struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_DATA);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    enum kw_code out = KW_OK;
    *data = NULL;
    *size = 0;
    if (rc == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(x, 0);
        size_t n = (size_t)sqlite3_column_bytes(x, 0);
        *data = malloc(n ? n : 1);
        if (!*data)
            out = kw_err_set(err, KW_NOMEM, "", "no memory for the attachment");
        else if (n)
            memcpy(*data, b, n);
        *size = n;
    } else if (rc == SQLITE_DONE) {
        out = kw_err_set(err, KW_NOT_FOUND, "", "no such attachment");
    } else {
        out = kws_fail(st, err, "read attachment");
    }
    sqlite3_reset(x);
    return out;
}
