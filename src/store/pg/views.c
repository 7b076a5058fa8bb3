// SPDX-License-Identifier: MIT
/* Saved views of the ticket list on PostgreSQL, as the SQLite backend's
 * (sqlite/views.c): a person's own, or shared with a team. The rows hold
 * the filters, columns and sort as the caller gave them; what they mean and
 * who may change them is app/views.c's. A write runs in a transaction of
 * its own or a savepoint in the caller's, so a refused one (a taken name)
 * leaves the caller's unit usable. */
#include "pg_int.h"

#include <stdlib.h>
#include <string.h>

enum stmt { S_INSERT, S_UPDATE, S_DELETE, S_GET, S_LIST, S_COUNT_OF, S_COUNT };

#define VIEW_COLS                                                                                  \
    "id, owner_id, coalesce(team_id, 0), created_at, updated_at, name, filters, columns, sort"

static const char *const sql[S_COUNT] = {
    [S_INSERT] = "INSERT INTO views(owner_id, team_id, name, filters, columns, sort, created_at,"
                 " updated_at) VALUES ($1, nullif($2::bigint, 0), $3, $4, $5, $6, $7, $7)"
                 " RETURNING id",
    [S_UPDATE] = "UPDATE views SET team_id = nullif($2::bigint, 0), name = $3, filters = $4,"
                 " columns = $5, sort = $6, updated_at = $7 WHERE id = $1",
    [S_DELETE] = "DELETE FROM views WHERE id = $1",
    [S_GET] = "SELECT " VIEW_COLS " FROM views WHERE id = $1",
    /* by name in byte order, as SQLite's BINARY collation sorts */
    [S_LIST] = "SELECT " VIEW_COLS " FROM views WHERE owner_id = $1"
               " OR (team_id IS NOT NULL AND ($3::boolean OR team_id = $2))"
               " ORDER BY name COLLATE \"C\", id",
    [S_COUNT_OF] = "SELECT count(*) FROM views WHERE owner_id = $1",
};

const struct kwp_catalogue kwp_views_sql = {sql, S_COUNT};

static PGresult *run(struct kw_store *st, enum stmt s, const struct kwp_params *p, const char *what,
                     char state[6], struct kw_err *err)
{
    return kwp_run_part(st, KWP_VIEWS, (int)s, p, what, state, err);
}

static void read_view(const PGresult *res, int r, struct kw_view *v)
{
    *v = (struct kw_view){
        .id = kwp_col_int(res, r, 0),
        .owner_id = kwp_col_int(res, r, 1),
        .team_id = kwp_col_int(res, r, 2),
        .created_at = kwp_col_int(res, r, 3),
        .updated_at = kwp_col_int(res, r, 4),
        .name = kwp_col_text(res, r, 5),
        .filters = kwp_col_text(res, r, 6),
        .columns = kwp_col_text(res, r, 7),
        .sort = kwp_col_text(res, r, 8),
    };
}

/* Run S_INSERT (first: the owner) or S_UPDATE (first: the view's id) with
 * v's values at `at`, in a transaction or savepoint; *rows gets how many
 * rows it wrote, *id (may be NULL) the new row's id. KW_CONFLICT for a taken name, KW_NOT_FOUND for
 * an unknown team, as the SQLite backend reads its constraints. */
static enum kw_code write_view(struct kw_store *st, enum stmt s, int64_t first,
                               const struct kw_view *v, int64_t at, int64_t *rows, int64_t *id,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_text_ok(v->name, "/name", err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, first);
    kwp_int(&p, v->team_id);
    kwp_text(&p, v->name);
    kwp_text(&p, v->filters ? v->filters : "{}");
    kwp_text(&p, v->columns ? v->columns : "[]");
    kwp_text(&p, v->sort);
    kwp_int(&p, at);
    bool outer;
    enum kw_code rc = kwp_tx_begin(st, &outer, err);
    if (rc != KW_OK)
        return rc;
    char state[6] = "";
    PGresult *res = run(st, s, &p, "write view", state, err);
    if (res) {
        *rows = strtoll(PQcmdTuples(res), NULL, 10);
        if (id && PQntuples(res) == 1)
            *id = kwp_col_int(res, 0, 0);
        PQclear(res);
    } else if (strcmp(state, "23505") == 0) { /* unique_violation: (owner, name) */
        rc = kw_err_set(err, KW_CONFLICT, "/name", "name: you already have a view called %.80s",
                        v->name);
    } else if (strcmp(state, "23503") == 0) { /* foreign_key_violation */
        rc = kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                        (long long)v->team_id);
    } else {
        rc = err->code;
    }
    return kwp_tx_finish(st, outer, rc, err);
}

enum kw_code kw_store_view_insert(struct kw_store *st, const struct kw_view *v, int64_t *id,
                                  struct kw_err *err)
{
    int64_t rows = 0;
    return write_view(st, S_INSERT, v->owner_id, v, v->created_at, &rows, id, err);
}

enum kw_code kw_store_view_update(struct kw_store *st, const struct kw_view *v, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    int64_t rows = 0;
    if (write_view(st, S_UPDATE, v->id, v, v->updated_at, &rows, NULL, err) != KW_OK)
        return err->code;
    return rows ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such view");
}

enum kw_code kw_store_view_delete(struct kw_store *st, int64_t id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = run(st, S_DELETE, &p, "delete view", NULL, err);
    if (!res)
        return err->code;
    bool gone = strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    return gone ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such view");
}

enum kw_code kw_store_view_get(struct kw_store *st, int64_t id, struct kw_view *out,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = run(st, S_GET, &p, "read view", NULL, err);
    if (!res)
        return err->code;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return kw_err_set(err, KW_NOT_FOUND, "", "no such view");
    }
    read_view(res, 0, out);
    kwp_lend(st, res); /* its strings live until the next call (store.h) */
    return KW_OK;
}

enum kw_code kw_store_views(struct kw_store *st, int64_t owner, int64_t team, bool all_shared,
                            bool (*fn)(const struct kw_view *v, void *ctx), void *ctx,
                            struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, owner);
    kwp_int(&p, team);
    kwp_text(&p, all_shared ? "t" : "f");
    PGresult *res = run(st, S_LIST, &p, "list views", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_view v;
        read_view(res, r, &v);
        if (!fn(&v, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_view_count(struct kw_store *st, int64_t owner, int64_t *n, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, owner);
    PGresult *res = run(st, S_COUNT_OF, &p, "count views", NULL, err);
    if (!res)
        return err->code;
    *n = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}
