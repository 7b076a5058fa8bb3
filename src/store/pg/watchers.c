// SPDX-License-Identifier: MIT
/* Watchers of tickets on PostgreSQL (store.h), as the SQLite backend's:
 * one row per ticket and person; their notifications are written by the
 * events' trigger (migration 5); who may watch what is app/watchers.c's.
 * Parameterised statements of their own (PQexecParams), after the
 * deferred BEGIN of the caller's transaction has gone out (kwp_flush). */
#include "pg_int.h"

#include <stdio.h>
#include <string.h>

/* Run text with up to four integer parameters; the result, or NULL with
 * err KW_STORE naming what. */
static PGresult *run(struct kw_store *st, const char *text, int n, const int64_t *v,
                     ExecStatusType want, const char *what, struct kw_err *err)
{
    struct kwp_params p = {0};
    for (int i = 0; i < n; i++)
        kwp_int(&p, v[i]);
    kwp_flush(st);
    PGresult *res = PQexecParams(st->conn, text, p.n, NULL, p.v, p.len, p.fmt, 0);
    if (res && PQresultStatus(res) == want)
        return res;
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    kw_err_set(err, KW_STORE, "", "%s: %s: %s", st->where, what, m ? m : PQerrorMessage(st->conn));
    PQclear(res);
    return NULL;
}

enum kw_code kw_store_watcher_add(struct kw_store *st, int64_t ticket, int64_t user,
                                  int64_t added_by, int64_t at, bool *added, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    /* the references first: a failed INSERT would end the caller's transaction */
    int64_t v[4] = {ticket, user, added_by, at};
    PGresult *res = run(st,
                        "SELECT EXISTS (SELECT 1 FROM tickets WHERE id = $1)"
                        " AND EXISTS (SELECT 1 FROM users WHERE id = $2)",
                        2, v, PGRES_TUPLES_OK, "add watcher", err);
    if (!res)
        return err->code;
    bool there = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!there)
        return kw_err_set(err, KW_NOT_FOUND, "/user_id", "user_id: no such person or ticket");
    res = run(st,
              "INSERT INTO watchers(ticket_id, user_id, added_by, at) VALUES ($1, $2, $3, $4)"
              " ON CONFLICT DO NOTHING",
              4, v, PGRES_COMMAND_OK, "add watcher", err);
    if (!res)
        return err->code;
    *added = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_watcher_remove(struct kw_store *st, int64_t ticket, int64_t user,
                                     bool *removed, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    int64_t v[2] = {ticket, user};
    PGresult *res = run(st, "DELETE FROM watchers WHERE ticket_id = $1 AND user_id = $2", 2, v,
                        PGRES_COMMAND_OK, "remove watcher", err);
    if (!res)
        return err->code;
    *removed = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_watchers(struct kw_store *st, int64_t ticket,
                               bool (*fn)(const struct kw_watcher *w, void *ctx), void *ctx,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = run(st,
                        "SELECT w.ticket_id, w.user_id, w.added_by, w.at, coalesce(u.org_id, 0),"
                        " u.name, u.role FROM watchers w JOIN users u ON u.id = w.user_id"
                        " WHERE w.ticket_id = $1 ORDER BY w.at, w.user_id",
                        1, &ticket, PGRES_TUPLES_OK, "list watchers", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_watcher w = {
            .ticket_id = kwp_col_int(res, r, 0),
            .user_id = kwp_col_int(res, r, 1),
            .added_by = kwp_col_int(res, r, 2),
            .at = kwp_col_int(res, r, 3),
            .org_id = kwp_col_int(res, r, 4),
            .name = kwp_col_text(res, r, 5),
            .role = kwp_col_text(res, r, 6),
        };
        if (!fn(&w, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_watcher_count(struct kw_store *st, int64_t ticket, int64_t *n,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = run(st, "SELECT count(*) FROM watchers WHERE ticket_id = $1", 1, &ticket,
                        PGRES_TUPLES_OK, "count watchers", err);
    if (!res)
        return err->code;
    *n = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}
