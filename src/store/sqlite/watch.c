// SPDX-License-Identifier: MIT
/* The watch list (服务黑名单): the settings, the count of overruns that
 * flag an organisation, the flags and their clearing; the loss recorded on
 * an overrun (accident levels); the audit trail of administrative changes,
 * one hash chain whose entries are leaves of the Merkle log. */
#include "sqlite_int.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit_chain.h"
#include "chain.h"

enum stmt {
    S_SETTINGS,
    S_SETTING_PUT,
    S_COUNT_OVERRUNS,
    S_FLAG,
    S_FLAG_NOTIFY,
    S_CLEAR,
    S_FLAGS,
    S_LOSS,
    S_LOSS_GET,
    S_AUDIT_HEAD,
    S_AUDIT_INSERT,
    S_AUDIT,
    S_AUDIT_CHAIN,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_SETTINGS] = "SELECT k, v FROM watch_settings",
    [S_SETTING_PUT] = "INSERT INTO watch_settings(k, v) VALUES (?1, ?2)"
                      " ON CONFLICT(k) DO UPDATE SET v = excluded.v",
    /* ?2: the window's start; the last clearing moves it on */
    [S_COUNT_OVERRUNS] = "SELECT count(*), max(?2, coalesce((SELECT max(cleared_at) FROM"
                         " watch_flags WHERE org_id = ?1), ?2)) FROM overruns WHERE org_id = ?1"
                         " AND deadline <= ?3 AND deadline >= max(?2, coalesce((SELECT"
                         " max(cleared_at) FROM watch_flags WHERE org_id = ?1), ?2))"
                         " AND coalesce(reason, '') <> 'customer'",
    [S_FLAG] = "INSERT INTO watch_flags(org_id, flagged_at, ticket_id, overrun_id, overruns,"
               " window_from) VALUES (?1, ?2, nullif(?3, 0), nullif(?4, 0), ?5, ?6)"
               " ON CONFLICT DO NOTHING",
    [S_FLAG_NOTIFY] = "INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at,"
                      " detail) SELECT u.id, ?2, (SELECT coalesce(max(seq), 0) FROM events"
                      " WHERE ticket_id = ?2), 'watch_list', 0, ?3, o.name FROM users u, orgs o"
                      " WHERE o.id = ?1 AND u.deactivated_at IS NULL AND (u.role = 'manager'"
                      " OR u.id = o.account_manager_id) AND u.role <> 'customer'",
    [S_CLEAR] = "UPDATE watch_flags SET cleared_at = ?3, cleared_by = ?2, reason = ?4"
                " WHERE org_id = ?1 AND cleared_at IS NULL RETURNING id",
    [S_FLAGS] = "SELECT f.id, f.org_id, f.flagged_at, coalesce(f.ticket_id, 0),"
                " coalesce(f.overrun_id, 0), f.overruns, f.window_from, f.cleared_at,"
                " coalesce(f.cleared_by, 0), f.reason, o.name FROM watch_flags f"
                " JOIN orgs o ON o.id = f.org_id WHERE (?1 = 0 OR f.org_id = ?1)"
                " AND (NOT ?2 OR f.cleared_at IS NULL) ORDER BY f.id DESC",
    [S_LOSS] = "UPDATE overruns SET loss = nullif(?2, -1), loss_by = ?3, loss_at = ?4"
               " WHERE id = ?1",
    [S_LOSS_GET] = "SELECT coalesce(loss, -1) FROM overruns WHERE id = ?1",
    [S_AUDIT_HEAD] = "SELECT id, hash, at FROM audit ORDER BY id DESC LIMIT 1",
    [S_AUDIT_INSERT] = "INSERT INTO audit(id, at, actor, kind, object, action, body, hash)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_AUDIT] = "SELECT id, actor, object, at, kind, action, body -> '$.before',"
                " body -> '$.after', hash FROM audit WHERE (?1 IS NULL OR kind = ?1)"
                " AND (?2 = 0 OR actor = ?2) AND at >= ?3 AND at < ?4 AND (?5 = 0 OR id < ?5)"
                " ORDER BY id DESC LIMIT ?6",
    [S_AUDIT_CHAIN] = "SELECT id, at, actor, body, hash FROM audit ORDER BY id",
};

const struct kws_catalogue kws_watch_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_WATCH, (int)s);
}

static const struct {
    const char *key;
    size_t off;
} settings[] = {
    {"overruns", offsetof(struct kw_watch_settings, overruns)},
    {"window_months", offsetof(struct kw_watch_settings, window_months)},
    {"accident_major", offsetof(struct kw_watch_settings, accident_major)},
    {"accident_serious", offsetof(struct kw_watch_settings, accident_serious)},
    {"accident_general", offsetof(struct kw_watch_settings, accident_general)},
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

enum kw_code kw_store_watch_settings(struct kw_store *st, struct kw_watch_settings *out,
                                     struct kw_err *err)
{
    /* the migration's defaults, should a row be missing */
    *out = (struct kw_watch_settings){3, 12, 50000000, 0, 1};
    sqlite3_stmt *x = prep(st, S_SETTINGS);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(x, 0);
        for (size_t i = 0; k && i < N_SETTINGS; i++)
            if (strcmp(k, settings[i].key) == 0)
                *(int64_t *)((char *)out + settings[i].off) = sqlite3_column_int64(x, 1);
    }
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read the watch list's settings");
}

enum kw_code kw_store_watch_settings_put(struct kw_store *st, const struct kw_watch_settings *s,
                                         struct kw_err *err)
{
    bool outer;
    if (kws_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    enum kw_code code = KW_OK;
    for (size_t i = 0; code == KW_OK && i < N_SETTINGS; i++) {
        sqlite3_stmt *x = prep(st, S_SETTING_PUT);
        bind_text(x, 1, settings[i].key);
        sqlite3_bind_int64(x, 2, *(const int64_t *)((const char *)s + settings[i].off));
        int rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            code = kws_fail(st, err, "save the watch list's settings");
    }
    return kws_tx_finish(st, outer, code, err);
}

enum kw_code kw_store_watch_count(struct kw_store *st, int64_t org_id, int64_t from, int64_t now,
                                  int64_t *n, int64_t *since, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COUNT_OVERRUNS);
    sqlite3_bind_int64(x, 1, org_id);
    sqlite3_bind_int64(x, 2, from);
    sqlite3_bind_int64(x, 3, now);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        *n = sqlite3_column_int64(x, 0);
        *since = sqlite3_column_int64(x, 1);
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count the overruns");
}

enum kw_code kw_store_watch_flag(struct kw_store *st, const struct kw_watch_flag *f, int64_t *id,
                                 struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_FLAG);
    sqlite3_bind_int64(x, 1, f->org_id);
    sqlite3_bind_int64(x, 2, f->flagged_at);
    sqlite3_bind_int64(x, 3, f->ticket_id);
    sqlite3_bind_int64(x, 4, f->overrun_id);
    sqlite3_bind_int64(x, 5, f->overruns);
    sqlite3_bind_int64(x, 6, f->window_from);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "flag the organisation");
    *id = sqlite3_changes(st->db) ? sqlite3_last_insert_rowid(st->db) : 0;
    if (!*id || !f->ticket_id)
        return KW_OK;
    x = prep(st, S_FLAG_NOTIFY);
    sqlite3_bind_int64(x, 1, f->org_id);
    sqlite3_bind_int64(x, 2, f->ticket_id);
    sqlite3_bind_int64(x, 3, f->flagged_at);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "notify the watch list");
}

enum kw_code kw_store_watch_clear(struct kw_store *st, int64_t org_id, int64_t by,
                                  const char *reason, int64_t now, int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CLEAR);
    sqlite3_bind_int64(x, 1, org_id);
    sqlite3_bind_int64(x, 2, by);
    sqlite3_bind_int64(x, 3, now);
    bind_text(x, 4, reason);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(x, 0);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "clear the watch list's flag");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "organisation %lld is not on the watch list",
                            (long long)org_id);
}

static void read_flag(sqlite3_stmt *x, struct kw_watch_flag *out)
{
    *out = (struct kw_watch_flag){
        .id = sqlite3_column_int64(x, 0),
        .org_id = sqlite3_column_int64(x, 1),
        .flagged_at = sqlite3_column_int64(x, 2),
        .ticket_id = sqlite3_column_int64(x, 3),
        .overrun_id = sqlite3_column_int64(x, 4),
        .overruns = sqlite3_column_int64(x, 5),
        .window_from = sqlite3_column_int64(x, 6),
        .cleared_at = column_instant(x, 7),
        .cleared_by = sqlite3_column_int64(x, 8),
        .reason = (const char *)sqlite3_column_text(x, 9),
        .org_name = (const char *)sqlite3_column_text(x, 10),
    };
}
KWS_ROW_MAPPER(read_flag, struct kw_watch_flag)

enum kw_code kw_store_watch_flags(struct kw_store *st, int64_t org_id, bool open_only,
                                  bool (*fn)(const struct kw_watch_flag *f, void *ctx), void *ctx,
                                  struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_FLAGS);
    sqlite3_bind_int64(x, 1, org_id);
    sqlite3_bind_int(x, 2, open_only);
    return EACH_ROW(st, x, read_flag, fn, ctx, "list the watch list", err);
}

enum kw_code kw_store_overrun_loss(struct kw_store *st, int64_t id, int64_t loss, int64_t by,
                                   int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LOSS);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, loss);
    sqlite3_bind_int64(x, 3, by);
    sqlite3_bind_int64(x, 4, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "record the loss");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
}

enum kw_code kw_store_overrun_loss_get(struct kw_store *st, int64_t id, int64_t *loss,
                                       struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LOSS_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *loss = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read the loss");
}

enum kw_code kw_store_audit_append(struct kw_store *st, const struct kw_audit_row *a, int64_t *id,
                                   struct kw_err *err)
{
    unsigned char prev[KW_HASH_BYTES] = {0}, hash[KW_HASH_BYTES];
    sqlite3_stmt *x = prep(st, S_AUDIT_HEAD);
    int rc = sqlite3_step(x);
    int64_t seq = 1, at = a->at;
    if (rc == SQLITE_ROW) {
        seq = sqlite3_column_int64(x, 0) + 1;
        if (sqlite3_column_bytes(x, 1) == KW_HASH_BYTES)
            memcpy(prev, sqlite3_column_blob(x, 1), KW_HASH_BYTES);
        if (at < sqlite3_column_int64(x, 2)) /* in time order even if the clock steps back */
            at = sqlite3_column_int64(x, 2);
    }
    sqlite3_reset(x);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kws_fail(st, err, "read the audit trail's head");
    char *canon = kw_audit_body(a, err);
    if (!canon)
        return err ? err->code : KW_INVALID;
    kw_event_hash(prev, 0, seq, at, "audit", a->actor, canon, hash);
    x = prep(st, S_AUDIT_INSERT);
    sqlite3_bind_int64(x, 1, seq);
    sqlite3_bind_int64(x, 2, at);
    sqlite3_bind_int64(x, 3, a->actor);
    bind_text(x, 4, a->kind);
    sqlite3_bind_int64(x, 5, a->object);
    bind_text(x, 6, a->action);
    bind_text(x, 7, canon);
    sqlite3_bind_blob(x, 8, hash, KW_HASH_BYTES, SQLITE_STATIC);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    free(canon);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "append to the audit trail");
    if (id)
        *id = seq;
    return kws_log_append(st, "audit", 0, seq, hash, KW_HASH_BYTES, err);
}

static void read_audit(sqlite3_stmt *x, struct kw_audit_row *out)
{
    *out = (struct kw_audit_row){
        .id = sqlite3_column_int64(x, 0),
        .actor = sqlite3_column_int64(x, 1),
        .object = sqlite3_column_int64(x, 2),
        .at = sqlite3_column_int64(x, 3),
        .kind = (const char *)sqlite3_column_text(x, 4),
        .action = (const char *)sqlite3_column_text(x, 5),
        .before = (const char *)sqlite3_column_text(x, 6),
        .after = (const char *)sqlite3_column_text(x, 7),
    };
    if (sqlite3_column_bytes(x, 8) == KW_HASH_BYTES)
        memcpy(out->hash, sqlite3_column_blob(x, 8), KW_HASH_BYTES);
}
KWS_ROW_MAPPER(read_audit, struct kw_audit_row)

enum kw_code kw_store_audit(struct kw_store *st, const struct kw_audit_filter *f,
                            bool (*fn)(const struct kw_audit_row *a, void *ctx), void *ctx,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_AUDIT);
    bind_text(x, 1, f->kind);
    sqlite3_bind_int64(x, 2, f->actor);
    sqlite3_bind_int64(x, 3, f->from == KW_STORE_NO_TIME ? INT64_MIN : f->from);
    sqlite3_bind_int64(x, 4, f->to == KW_STORE_NO_TIME ? INT64_MAX : f->to);
    sqlite3_bind_int64(x, 5, f->before);
    sqlite3_bind_int64(x, 6, f->limit > INT64_MAX ? INT64_MAX : (int64_t)f->limit);
    return EACH_ROW(st, x, read_audit, fn, ctx, "list the audit trail", err);
}

/* kind -> table: a fixed list, so the table's name is never input */
static const struct {
    const char *kind, *table;
} audited[] = {
    {"calendar", "calendars"}, {"commitment", "commitments"},
    {"rota", "oncall"},        {"endpoint", "endpoints"},
    {"user", "users"},         {"organisation", "orgs"},
    {"contract", "contracts"}, {"team", "teams"},
};

static json_t *column_json(sqlite3_stmt *x, int i, const char *col)
{
    switch (sqlite3_column_type(x, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(x, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(x, i));
    case SQLITE_TEXT: {
        const char *v = (const char *)sqlite3_column_text(x, i);
        if (strcmp(col, "url") == 0) { /* a webhook's key may ride in its query */
            const char *q = strchr(v, '?');
            return q ? json_stringn(v, (size_t)(q - v)) : json_string(v);
        }
        if (*v == '{' || *v == '[') { /* a JSON text: nested, so before and after compare */
            json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
            if (j)
                return j;
        }
        return json_string(v);
    }
    case SQLITE_BLOB:
        return NULL; /* hashes and bytes: not a state anyone edits */
    default:
        return json_null();
    }
}

enum kw_code kw_store_audit_row(struct kw_store *st, const char *kind, int64_t id, const char *name,
                                char **json, struct kw_err *err)
{
    *json = NULL;
    const char *table = NULL;
    for (size_t i = 0; kind && i < sizeof(audited) / sizeof(audited[0]); i++)
        if (strcmp(kind, audited[i].kind) == 0)
            table = audited[i].table;
    if (!table)
        return kw_err_set(err, KW_INVALID, "/kind", "%s: not an audited kind", kind ? kind : "");
    char q[96];
    snprintf(q, sizeof(q), "SELECT * FROM %s WHERE %s = ?1", table, name ? "name" : "id");
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(st->db, q, -1, &x, NULL) != SQLITE_OK)
        return kws_fail(st, err, "read a row for the audit trail");
    if (name)
        sqlite3_bind_text(x, 1, name, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    enum kw_code code = KW_OK;
    if (rc == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; o && i < sqlite3_column_count(x); i++) {
            const char *col = sqlite3_column_name(x, i);
            json_t *v = kw_audit_secret_column(col) ? NULL : column_json(x, i, col);
            if (v)
                json_object_set_new(o, col, v);
        }
        *json = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
        if (!*json)
            code = kw_err_set(err, KW_NOMEM, "", "no memory for the audit trail");
    } else if (rc != SQLITE_DONE) {
        code = kws_fail(st, err, "read a row for the audit trail");
    }
    sqlite3_finalize(x);
    return code;
}

struct audit_check {
    struct kw_audit_check chain;
    struct kw_err *err;
    enum kw_code rc;
};

static bool audit_check_row(sqlite3_stmt *x, void *arg)
{
    struct audit_check *c = arg;
    bool sized = sqlite3_column_bytes(x, 4) == KW_HASH_BYTES;
    if (kw_audit_check_one(&c->chain, sqlite3_column_int64(x, 0), sqlite3_column_int64(x, 1),
                           sqlite3_column_int64(x, 2), (const char *)sqlite3_column_text(x, 3),
                           sized ? sqlite3_column_blob(x, 4) : NULL, c->err))
        return true;
    c->rc = c->err->code;
    return false;
}

enum kw_code kw_store_audit_verify(struct kw_store *st, int64_t *n, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct audit_check c = {.err = err, .rc = KW_OK};
    enum kw_code rc = kws_each_row(st, prep(st, S_AUDIT_CHAIN), audit_check_row, &c,
                                   "verify the audit trail", err);
    *n = c.chain.seq;
    return rc != KW_OK ? rc : c.rc;
}
