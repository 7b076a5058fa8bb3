// SPDX-License-Identifier: MIT
/* Saved views of the ticket list: a person's own, or shared with a team
 * (store.h). The rows hold the filters, columns and sort as the caller
 * gave them; what they mean and who may change them is app/views.c's.
 * And staff's in-app notifications, which migration 021's triggers write
 * with each event that calls for one. */
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

/* ---- notifications (written by the triggers of migration 021) ---- */

enum nstmt { N_LIST, N_UNREAD, N_READ_ONE, N_READ_ALL, N_COUNT };

static const char *const nsql[N_COUNT] = {
    [N_LIST] = "SELECT n.id, n.user_id, n.ticket_id, n.seq, n.actor_id, n.at, n.read_at, n.kind,"
               " n.detail, t.title FROM notifications n JOIN tickets t ON t.id = n.ticket_id"
               " JOIN users u ON u.id = n.user_id"
               " WHERE n.user_id = ?1 AND (u.role <> 'customer' OR t.org_id = u.org_id) AND (?2 = "
               "0 OR n.id < ?2) AND (NOT ?3 OR n.read_at IS NULL)"
               " ORDER BY n.id DESC LIMIT ?4",
    [N_UNREAD] = "SELECT count(*) FROM notifications n JOIN tickets t ON t.id = n.ticket_id"
                 " JOIN users u ON u.id = n.user_id WHERE n.user_id = ?1 AND n.read_at IS NULL"
                 " AND (u.role <> 'customer' OR t.org_id = u.org_id)",
    [N_READ_ONE] = ("UPDATE notifications SET read_at = ?3 WHERE id = ?2 AND user_id = ?1"
                    " AND read_at IS NULL"),
    [N_READ_ALL] = "UPDATE notifications SET read_at = ?3 WHERE user_id = ?1 AND read_at IS NULL",
};

const struct kws_catalogue kws_notify_sql = {nsql, N_COUNT};

static sqlite3_stmt *nprep(struct kw_store *st, enum nstmt s)
{
    return kws_prep(st, KWS_NOTIFY, (int)s);
}

static void read_notification(sqlite3_stmt *x, struct kw_notification *n)
{
    n->id = sqlite3_column_int64(x, 0);
    n->user_id = sqlite3_column_int64(x, 1);
    n->ticket_id = sqlite3_column_int64(x, 2);
    n->seq = sqlite3_column_int64(x, 3);
    n->actor_id = sqlite3_column_int64(x, 4);
    n->at = sqlite3_column_int64(x, 5);
    n->read_at = column_instant(x, 6);
    n->kind = column_text(x, 7);
    n->detail = column_text(x, 8);
    n->title = column_text(x, 9);
}
KWS_ROW_MAPPER(read_notification, struct kw_notification)

enum kw_code kw_store_notifications(struct kw_store *st, int64_t user, bool unread_only,
                                    int64_t before, size_t limit,
                                    bool (*fn)(const struct kw_notification *n, void *ctx),
                                    void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = nprep(st, N_LIST);
    sqlite3_bind_int64(x, 1, user);
    sqlite3_bind_int64(x, 2, before);
    sqlite3_bind_int(x, 3, unread_only);
    sqlite3_bind_int64(x, 4, (sqlite3_int64)limit);
    return EACH_ROW(st, x, read_notification, fn, ctx, "list notifications", err);
}

enum kw_code kw_store_notification_unread(struct kw_store *st, int64_t user, int64_t *n,
                                          struct kw_err *err)
{
    sqlite3_stmt *x = nprep(st, N_UNREAD);
    sqlite3_bind_int64(x, 1, user);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count notifications");
}

enum kw_code kw_store_notifications_read(struct kw_store *st, int64_t user, const int64_t *ids,
                                         size_t n, int64_t now, int64_t *changed,
                                         struct kw_err *err)
{
    *changed = 0;
    for (size_t i = 0; i < (n ? n : 1); i++) {
        sqlite3_stmt *x = nprep(st, n ? N_READ_ONE : N_READ_ALL);
        sqlite3_bind_int64(x, 1, user);
        if (n)
            sqlite3_bind_int64(x, 2, ids[i]);
        sqlite3_bind_int64(x, 3, now);
        int rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "mark notifications read");
        *changed += sqlite3_changes(st->db);
    }
    return KW_OK;
}
