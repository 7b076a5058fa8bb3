// SPDX-License-Identifier: MIT
/* Watchers of tickets (store.h): one row per ticket and person. Their
 * notifications are written by migration 023's triggers with the events;
 * who may watch what is app/watchers.c's. */
#include "sqlite_int.h"

enum stmt { S_ADD, S_REMOVE, S_LIST, S_COUNT_OF, S_COUNT };

static const char *const sql[S_COUNT] = {
    [S_ADD] = "INSERT OR IGNORE INTO watchers(ticket_id, user_id, added_by, at)"
              " VALUES (?1, ?2, ?3, ?4)",
    [S_REMOVE] = "DELETE FROM watchers WHERE ticket_id = ?1 AND user_id = ?2",
    [S_LIST] = "SELECT w.ticket_id, w.user_id, w.added_by, w.at, coalesce(u.org_id, 0), u.name,"
               " u.role FROM watchers w JOIN users u ON u.id = w.user_id"
               " WHERE w.ticket_id = ?1 ORDER BY w.at, w.user_id",
    [S_COUNT_OF] = "SELECT count(*) FROM watchers WHERE ticket_id = ?1",
};

const struct kws_catalogue kws_watchers_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_WATCHERS, (int)s);
}

enum kw_code kw_store_watcher_add(struct kw_store *st, int64_t ticket, int64_t user,
                                  int64_t added_by, int64_t at, bool *added, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ADD);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, user);
    sqlite3_bind_int64(x, 3, added_by);
    sqlite3_bind_int64(x, 4, at);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/user_id", "user_id: no such person or ticket");
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "add watcher");
    *added = sqlite3_changes(st->db) > 0;
    return KW_OK;
}

enum kw_code kw_store_watcher_remove(struct kw_store *st, int64_t ticket, int64_t user,
                                     bool *removed, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_REMOVE);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, user);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "remove watcher");
    *removed = sqlite3_changes(st->db) > 0;
    return KW_OK;
}

static void read_watcher(sqlite3_stmt *x, struct kw_watcher *w)
{
    w->ticket_id = sqlite3_column_int64(x, 0);
    w->user_id = sqlite3_column_int64(x, 1);
    w->added_by = sqlite3_column_int64(x, 2);
    w->at = sqlite3_column_int64(x, 3);
    w->org_id = sqlite3_column_int64(x, 4);
    w->name = column_text(x, 5);
    w->role = column_text(x, 6);
}
KWS_ROW_MAPPER(read_watcher, struct kw_watcher)

enum kw_code kw_store_watchers(struct kw_store *st, int64_t ticket,
                               bool (*fn)(const struct kw_watcher *w, void *ctx), void *ctx,
                               struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LIST);
    sqlite3_bind_int64(x, 1, ticket);
    return EACH_ROW(st, x, read_watcher, fn, ctx, "list watchers", err);
}

enum kw_code kw_store_watcher_count(struct kw_store *st, int64_t ticket, int64_t *n,
                                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COUNT_OF);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count watchers");
}
