// SPDX-License-Identifier: MIT
/* On-call rotas, one per team and level (core/oncall.h reads the spec). */
#include "sqlite_int.h"

enum stmt { S_ONCALL_PUT, S_ONCALLS, S_COUNT };

static const char *const sql[S_COUNT] = {
    [S_ONCALL_PUT] = "INSERT INTO oncall(name, team_id, level, spec, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(team_id, level)"
                     " DO UPDATE SET name = excluded.name, spec = excluded.spec RETURNING id",
    [S_ONCALLS] = "SELECT id, name, team_id, level, spec FROM oncall WHERE (?1 = 0 OR team_id = ?1)"
                  " AND (?2 = 0 OR level = ?2) AND (?3 = 0 OR id = ?3) ORDER BY team_id, level",
};

const struct kws_catalogue kws_oncall_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_ONCALL, (int)s);
}

static void read_oncall(sqlite3_stmt *x, struct kw_oncall_row *out)
{
    *out = (struct kw_oncall_row){
        .id = sqlite3_column_int64(x, 0),
        .name = (const char *)sqlite3_column_text(x, 1),
        .team_id = sqlite3_column_int64(x, 2),
        .level = sqlite3_column_int(x, 3),
        .spec = (const char *)sqlite3_column_text(x, 4),
    };
}
KWS_ROW_MAPPER(read_oncall, struct kw_oncall_row)

enum kw_code kw_store_oncall_put(struct kw_store *st, const char *name, int64_t team_id, int level,
                                 const char *spec, int64_t now, int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ONCALL_PUT);
    bind_text(x, 1, name);
    sqlite3_bind_int64(x, 2, team_id);
    sqlite3_bind_int(x, 3, level);
    bind_text(x, 4, spec);
    sqlite3_bind_int64(x, 5, now);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                          (long long)team_id);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "store the rota");
}

enum kw_code kw_store_oncalls(struct kw_store *st, int64_t team_id, int level, int64_t id,
                              bool (*fn)(const struct kw_oncall_row *r, void *ctx), void *ctx,
                              struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ONCALLS);
    sqlite3_bind_int64(x, 1, team_id);
    sqlite3_bind_int(x, 2, level);
    sqlite3_bind_int64(x, 3, id);
    return EACH_ROW(st, x, read_oncall, fn, ctx, "read rotas", err);
}
