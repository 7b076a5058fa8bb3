// SPDX-License-Identifier: MIT
/* Saved views of the ticket list: a person's own, or shared with a team
 * (store.h). The rows hold the filters, columns and sort as the caller
 * gave them; what they mean and who may change them is app/views.c's. */
#include "sqlite_int.h"

#include <string.h>

enum stmt { S_INSERT, S_UPDATE, S_DELETE, S_GET, S_LIST, S_COUNT_OF, S_COUNT };

#define VIEW_COLS                                                                                  \
    "id, owner_id, coalesce(team_id, 0), created_at, updated_at, name, filters, columns, sort"

static const char *const sql[S_COUNT] = {
    [S_INSERT] = "INSERT INTO views(owner_id, team_id, name, filters, columns, sort, created_at,"
                 " updated_at) VALUES (?1, nullif(?2, 0), ?3, ?4, ?5, ?6, ?7, ?7)",
    [S_UPDATE] = "UPDATE views SET team_id = nullif(?2, 0), name = ?3, filters = ?4,"
                 " columns = ?5, sort = ?6, updated_at = ?7 WHERE id = ?1",
    [S_DELETE] = "DELETE FROM views WHERE id = ?1",
    [S_GET] = "SELECT " VIEW_COLS " FROM views WHERE id = ?1",
    [S_LIST] = "SELECT " VIEW_COLS " FROM views WHERE owner_id = ?1"
               " OR (team_id IS NOT NULL AND (?3 OR team_id = ?2)) ORDER BY name, id",
    [S_COUNT_OF] = "SELECT count(*) FROM views WHERE owner_id = ?1",
};

const struct kws_catalogue kws_views_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_VIEWS, (int)s);
}

static void read_view(sqlite3_stmt *x, struct kw_view *v)
{
    v->id = sqlite3_column_int64(x, 0);
    v->owner_id = sqlite3_column_int64(x, 1);
    v->team_id = sqlite3_column_int64(x, 2);
    v->created_at = sqlite3_column_int64(x, 3);
    v->updated_at = sqlite3_column_int64(x, 4);
    v->name = column_text(x, 5);
    v->filters = column_text(x, 6);
    v->columns = column_text(x, 7);
    v->sort = column_text(x, 8);
}
KWS_ROW_MAPPER(read_view, struct kw_view)

/* Bind ?2 .. ?7 of S_INSERT / S_UPDATE and run it. */
static enum kw_code write_view(struct kw_store *st, sqlite3_stmt *x, const struct kw_view *v,
                               int64_t at, struct kw_err *err)
{
    sqlite3_bind_int64(x, 2, v->team_id);
    bind_text(x, 3, v->name);
    bind_text(x, 4, v->filters ? v->filters : "{}");
    bind_text(x, 5, v->columns ? v->columns : "[]");
    bind_text(x, 6, v->sort);
    sqlite3_bind_int64(x, 7, at);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/name", "name: you already have a view called %.80s",
                          v->name);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                          (long long)v->team_id);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "write view");
}

enum kw_code kw_store_view_insert(struct kw_store *st, const struct kw_view *v, int64_t *id,
                                  struct kw_err *err)
{
    if (kws_text_ok(v->name, "/name", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_INSERT);
    sqlite3_bind_int64(x, 1, v->owner_id);
    if (write_view(st, x, v, v->created_at, err) != KW_OK)
        return err->code;
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_view_update(struct kw_store *st, const struct kw_view *v, struct kw_err *err)
{
    if (kws_text_ok(v->name, "/name", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_UPDATE);
    sqlite3_bind_int64(x, 1, v->id);
    if (write_view(st, x, v, v->updated_at, err) != KW_OK)
        return err->code;
    return sqlite3_changes(st->db) ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such view");
}

enum kw_code kw_store_view_delete(struct kw_store *st, int64_t id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_DELETE);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "delete view");
    return sqlite3_changes(st->db) ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such view");
}

enum kw_code kw_store_view_get(struct kw_store *st, int64_t id, struct kw_view *out,
                               struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such view");
    if (rc != SQLITE_ROW)
        return kws_fail(st, err, "read view");
    read_view(x, out); /* valid until the statement's next reset */
    return KW_OK;
}

enum kw_code kw_store_views(struct kw_store *st, int64_t owner, int64_t team, bool all_shared,
                            bool (*fn)(const struct kw_view *v, void *ctx), void *ctx,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LIST);
    sqlite3_bind_int64(x, 1, owner);
    sqlite3_bind_int64(x, 2, team);
    sqlite3_bind_int(x, 3, all_shared);
    return EACH_ROW(st, x, read_view, fn, ctx, "list views", err);
}

enum kw_code kw_store_view_count(struct kw_store *st, int64_t owner, int64_t *n, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COUNT_OF);
    sqlite3_bind_int64(x, 1, owner);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count views");
}
