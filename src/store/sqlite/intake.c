// SPDX-License-Identifier: MIT
/* Monitoring intake: alert sources (by their key's digest) and the alerts
 * they opened, one row per (source, dedup key). */
#include "sqlite_int.h"

enum stmt {
    S_INSERT,
    S_BY_DIGEST,
    S_BY_ID,
    S_ALL,
    S_DEACTIVATE,
    S_ALERT_GET,
    S_ALERT_PUT,
    S_UPDATE,
    S_REKEY,
    S_COUNT
};

#define COLS                                                                                       \
    "SELECT id, name, kind, acting_user, org_id, team_id, category, level, rules, on_resolve,"     \
    " per_minute, active, created_at FROM intake_sources"

static const char *const sql[S_COUNT] = {
    [S_INSERT] = "INSERT INTO intake_sources(name, kind, key_digest, acting_user, org_id, team_id,"
                 " category, level, rules, on_resolve, per_minute, created_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [S_BY_DIGEST] = COLS " WHERE key_digest = ?1",
    [S_BY_ID] = COLS " WHERE id = ?1",
    [S_ALL] = COLS " ORDER BY id",
    [S_UPDATE] = "UPDATE intake_sources SET name = ?2, org_id = ?3, team_id = ?4, category = ?5,"
                 " level = ?6, rules = ?7, on_resolve = ?8, per_minute = ?9 WHERE id = ?1",
    [S_DEACTIVATE] = "UPDATE intake_sources SET active = 0 WHERE id = ?1",
    [S_REKEY] = "UPDATE intake_sources SET key_digest = ?2 WHERE id = ?1",
    [S_ALERT_GET] = "SELECT ticket_id, open, repeats, updated_at FROM alerts"
                    " WHERE source_id = ?1 AND dedup_key = ?2",
    [S_ALERT_PUT] = "INSERT OR REPLACE INTO alerts(source_id, dedup_key, ticket_id, open, repeats,"
                    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

const struct kws_catalogue kws_intake_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_INTAKE, (int)s);
}

static void read_source(sqlite3_stmt *x, struct kw_intake_source *out)
{
    *out = (struct kw_intake_source){
        .id = sqlite3_column_int64(x, 0),
        .name = column_text(x, 1),
        .kind = column_text(x, 2),
        .acting_user = sqlite3_column_int64(x, 3),
        .org_id = sqlite3_column_int64(x, 4),
        .team_id = sqlite3_column_int64(x, 5),
        .category = column_text(x, 6),
        .level = column_text(x, 7),
        .rules = column_text(x, 8),
        .on_resolve = column_text(x, 9),
        .per_minute = sqlite3_column_int64(x, 10),
        .active = sqlite3_column_int(x, 11) != 0,
        .created_at = sqlite3_column_int64(x, 12),
    };
}
KWS_ROW_MAPPER(read_source, struct kw_intake_source)

enum kw_code kw_store_intake_insert(struct kw_store *st, const struct kw_intake_source *s,
                                    const unsigned char digest[KW_HASH_BYTES], int64_t *id,
                                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_INSERT);
    bind_text(x, 1, s->name);
    bind_text(x, 2, s->kind);
    sqlite3_bind_blob(x, 3, digest, KW_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(x, 4, s->acting_user);
    sqlite3_bind_int64(x, 5, s->org_id);
    if (s->team_id > 0)
        sqlite3_bind_int64(x, 6, s->team_id);
    else
        sqlite3_bind_null(x, 6);
    bind_text(x, 7, s->category);
    bind_text(x, 8, s->level);
    bind_text(x, 9, s->rules ? s->rules : "[]");
    bind_text(x, 10, s->on_resolve ? s->on_resolve : "restored");
    sqlite3_bind_int64(x, 11, s->per_minute);
    sqlite3_bind_int64(x, 12, s->created_at);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(st->db);
        return KW_OK;
    }
    if (ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/name", "name: a source named \"%s\" exists", s->name);
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/org_id",
                          "org_id or team_id: no such organisation or team");
    return kws_fail(st, err, "store the alert source");
}

enum kw_code kw_store_intake_get(struct kw_store *st, const unsigned char *digest, int64_t id,
                                 struct kw_intake_source *out, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, digest ? S_BY_DIGEST : S_BY_ID);
    if (digest)
        sqlite3_bind_blob(x, 1, digest, KW_HASH_BYTES, SQLITE_STATIC);
    else
        sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        read_source(x, out); /* the strings stay valid until x is next reset */
        return KW_OK;
    }
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such alert source");
    return kws_fail(st, err, "read the alert source");
}

enum kw_code kw_store_intakes(struct kw_store *st,
                              bool (*fn)(const struct kw_intake_source *s, void *ctx), void *ctx,
                              struct kw_err *err)
{
    return EACH_ROW(st, prep(st, S_ALL), read_source, fn, ctx, "read alert sources", err);
}

enum kw_code kw_store_intake_deactivate(struct kw_store *st, int64_t id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_DEACTIVATE);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "stop the alert source");
    if (sqlite3_changes(st->db) == 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such alert source");
    return KW_OK;
}

enum kw_code kw_store_intake_rekey(struct kw_store *st, int64_t id,
                                   const unsigned char digest[KW_HASH_BYTES], struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_REKEY);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_blob(x, 2, digest, KW_HASH_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "change the alert source's key");
    if (sqlite3_changes(st->db) == 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such alert source");
    return KW_OK;
}

enum kw_code kw_store_intake_update(struct kw_store *st, const struct kw_intake_source *s,
                                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_UPDATE);
    sqlite3_bind_int64(x, 1, s->id);
    bind_text(x, 2, s->name);
    sqlite3_bind_int64(x, 3, s->org_id);
    if (s->team_id > 0)
        sqlite3_bind_int64(x, 4, s->team_id);
    else
        sqlite3_bind_null(x, 4);
    bind_text(x, 5, s->category);
    bind_text(x, 6, s->level);
    bind_text(x, 7, s->rules ? s->rules : "[]");
    bind_text(x, 8, s->on_resolve ? s->on_resolve : "restored");
    sqlite3_bind_int64(x, 9, s->per_minute);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE) {
        if (ext == SQLITE_CONSTRAINT_UNIQUE)
            return kw_err_set(err, KW_CONFLICT, "/name", "name: a source named \"%s\" exists",
                              s->name);
        if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
            return kw_err_set(err, KW_NOT_FOUND, "/org_id",
                              "org_id or team_id: no such organisation or team");
        return kws_fail(st, err, "change the alert source");
    }
    if (sqlite3_changes(st->db) == 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such alert source");
    return KW_OK;
}

enum kw_code kw_store_alert_get(struct kw_store *st, int64_t source, const char *key,
                                struct kw_alert_row *out, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ALERT_GET);
    sqlite3_bind_int64(x, 1, source);
    bind_text(x, 2, key);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *out = (struct kw_alert_row){
            .ticket_id = sqlite3_column_int64(x, 0),
            .open = sqlite3_column_int(x, 1) != 0,
            .repeats = sqlite3_column_int64(x, 2),
            .updated_at = sqlite3_column_int64(x, 3),
        };
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such alert");
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read the alert");
}

enum kw_code kw_store_alert_put(struct kw_store *st, int64_t source, const char *key,
                                const struct kw_alert_row *a, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ALERT_PUT);
    sqlite3_bind_int64(x, 1, source);
    bind_text(x, 2, key);
    sqlite3_bind_int64(x, 3, a->ticket_id);
    sqlite3_bind_int(x, 4, a->open);
    sqlite3_bind_int64(x, 5, a->repeats);
    sqlite3_bind_int64(x, 6, a->updated_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "store the alert");
}
