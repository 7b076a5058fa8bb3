// SPDX-License-Identifier: MIT
/* The watch list (服务黑名单), accident levels and the audit trail on
 * PostgreSQL: the same meaning as the SQLite backend's watch.c. The audit
 * trail is one hash chain, hashed and canonicalised as SQLite's (so the
 * same changes give the same hashes), each entry a leaf of the Merkle log. */
#include "pg_int.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_chain.h"
#include "chain.h"

/* PostgreSQL's type oids (pg_type.h) of the columns the audited rows have */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
};

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
    KW_ERR_ENSURE(err);
    /* the migration's defaults, should a row be missing */
    *out = (struct kw_watch_settings){3, 12, 50000000, 0, 1};
    PGresult *res =
        kwp_run(st, PGS_WATCH_SETTINGS, NULL, "read the watch list's settings", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *k = kwp_col_text(res, r, 0);
        for (size_t i = 0; k && i < N_SETTINGS; i++)
            if (strcmp(k, settings[i].key) == 0)
                *(int64_t *)((char *)out + settings[i].off) = kwp_col_int(res, r, 1);
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_watch_settings_put(struct kw_store *st, const struct kw_watch_settings *s,
                                         struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    enum kw_code code = KW_OK;
    for (size_t i = 0; code == KW_OK && i < N_SETTINGS; i++) {
        struct kwp_params p = {0};
        kwp_text(&p, settings[i].key);
        kwp_int(&p, *(const int64_t *)((const char *)s + settings[i].off));
        code = kwp_exec(st, PGS_WATCH_SETTING_PUT, &p, "save the watch list's settings", err);
    }
    return kwp_tx_finish(st, outer, code, err);
}

enum kw_code kw_store_watch_count(struct kw_store *st, int64_t org_id, int64_t from, int64_t now,
                                  int64_t *n, int64_t *since, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, org_id);
    kwp_int(&p, from);
    kwp_int(&p, now);
    PGresult *res = kwp_run(st, PGS_WATCH_COUNT, &p, "count the overruns", NULL, err);
    if (!res)
        return err->code;
    *n = kwp_col_int(res, 0, 0);
    *since = kwp_col_int(res, 0, 1);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_watch_flag(struct kw_store *st, const struct kw_watch_flag *f, int64_t *id,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, f->org_id);
    kwp_int(&p, f->flagged_at);
    kwp_int(&p, f->ticket_id);
    kwp_int(&p, f->overrun_id);
    kwp_int(&p, f->overruns);
    kwp_int(&p, f->window_from);
    PGresult *res = kwp_run(st, PGS_WATCH_FLAG, &p, "flag the organisation", NULL, err);
    if (!res)
        return kwp_tx_finish(st, outer, err->code, err);
    *id = PQntuples(res) ? kwp_col_int(res, 0, 0) : 0;
    PQclear(res);
    if (!*id || !f->ticket_id)
        return kwp_tx_finish(st, outer, KW_OK, err);
    p = (struct kwp_params){0};
    kwp_int(&p, f->org_id);
    kwp_int(&p, f->ticket_id);
    kwp_int(&p, f->flagged_at);
    return kwp_tx_finish(st, outer,
                         kwp_exec(st, PGS_WATCH_NOTIFY, &p, "notify the watch list", err), err);
}

enum kw_code kw_store_watch_clear(struct kw_store *st, int64_t org_id, int64_t by,
                                  const char *reason, int64_t now, int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, org_id);
    kwp_int(&p, by);
    kwp_int(&p, now);
    kwp_text(&p, reason);
    PGresult *res = kwp_run(st, PGS_WATCH_CLEAR, &p, "clear the watch list's flag", NULL, err);
    if (!res)
        return err->code;
    bool found = PQntuples(res) > 0;
    if (found)
        *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return found ? KW_OK
                 : kw_err_set(err, KW_NOT_FOUND, "", "organisation %lld is not on the watch list",
                              (long long)org_id);
}

enum kw_code kw_store_watch_flags(struct kw_store *st, int64_t org_id, bool open_only,
                                  bool (*fn)(const struct kw_watch_flag *f, void *ctx), void *ctx,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, org_id);
    bool one = org_id > 0 && open_only; /* at most one row: watch_flags_open */
    if (!one)
        kwp_int(&p, open_only);
    PGresult *res =
        kwp_run(st, one ? PGS_WATCH_OPEN : PGS_WATCH_FLAGS, &p, "list the watch list", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_watch_flag f = {
            .id = kwp_col_int(res, r, 0),
            .org_id = kwp_col_int(res, r, 1),
            .flagged_at = kwp_col_int(res, r, 2),
            .ticket_id = kwp_col_int(res, r, 3),
            .overrun_id = kwp_col_int(res, r, 4),
            .overruns = kwp_col_int(res, r, 5),
            .window_from = kwp_col_int(res, r, 6),
            .cleared_at = kwp_col_instant(res, r, 7),
            .cleared_by = kwp_col_int(res, r, 8),
            .reason = kwp_col_text(res, r, 9),
            .org_name = kwp_col_text(res, r, 10),
        };
        if (!fn(&f, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_overrun_loss(struct kw_store *st, int64_t id, int64_t loss, int64_t by,
                                   int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, loss);
    kwp_int(&p, by);
    kwp_int(&p, now);
    PGresult *res = kwp_run(st, PGS_LOSS, &p, "record the loss", NULL, err);
    if (!res)
        return err->code;
    const char *changed = PQcmdTuples(res);
    bool none = !changed || strtoll(changed, NULL, 10) == 0;
    PQclear(res);
    return none ? kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id) : KW_OK;
}

enum kw_code kw_store_overrun_loss_get(struct kw_store *st, int64_t id, int64_t *loss,
                                       struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, PGS_LOSS_GET, &p, "read the loss", NULL, err);
    if (!res)
        return err->code;
    bool found = PQntuples(res) > 0;
    if (found)
        *loss = kwp_col_int(res, 0, 0);
    PQclear(res);
    return found ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
}

/* Inside an open transaction: the audit trail's lock serialises the
 * appends of every node, so the chain has no forks and its seq no gaps
 * (its leaf goes to the log at the transaction's end, kwp_log_settle). */
static enum kw_code audit_append(struct kw_store *st, const struct kw_audit_row *a, int64_t *id,
                                 struct kw_err *err)
{
    if (kwp_exec(st, PGS_AUDIT_LOCK, NULL, "lock the audit trail", err) != KW_OK)
        return err->code;
    PGresult *res = kwp_run(st, PGS_AUDIT_HEAD, NULL, "read the audit trail's head", NULL, err);
    if (!res)
        return err->code;
    unsigned char prev[KW_HASH_BYTES] = {0}, hash[KW_HASH_BYTES];
    int64_t seq = 1, at = a->at;
    bool head_ok = true;
    if (PQntuples(res) > 0) {
        seq = kwp_col_int(res, 0, 0) + 1;
        head_ok = kwp_col_bytes(res, 0, 1, prev, KW_HASH_BYTES);
        if (at < kwp_col_int(res, 0, 2)) /* in time order even if the clock steps back */
            at = kwp_col_int(res, 0, 2);
    }
    PQclear(res);
    if (!head_ok)
        return kw_err_set(err, KW_STORE, "", "the audit trail has a damaged head");
    char *canon = kw_audit_body(a, err);
    if (!canon)
        return err->code;
    kw_event_hash(prev, 0, seq, at, "audit", a->actor, canon, hash);
    struct kwp_params p = {0};
    kwp_int(&p, seq);
    kwp_int(&p, at);
    kwp_int(&p, a->actor);
    kwp_text(&p, a->kind);
    kwp_int(&p, a->object);
    kwp_text(&p, a->action);
    kwp_text(&p, canon);
    kwp_bytes(&p, hash, KW_HASH_BYTES);
    enum kw_code rc = kwp_exec(st, PGS_AUDIT_INSERT, &p, "append to the audit trail", err);
    free(canon);
    if (rc != KW_OK)
        return rc;
    if (id)
        *id = seq;
    return kwp_leaf_append(st, "audit", 0, seq, hash, KW_HASH_BYTES, err);
}

enum kw_code kw_store_audit_append(struct kw_store *st, const struct kw_audit_row *a, int64_t *id,
                                   struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!a->kind || !a->action)
        return kw_err_set(err, KW_INVALID, "", "an audit change has a kind and an action");
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, audit_append(st, a, id, err), err);
}

enum kw_code kw_store_audit(struct kw_store *st, const struct kw_audit_filter *f,
                            bool (*fn)(const struct kw_audit_row *a, void *ctx), void *ctx,
                            struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, f->kind);
    kwp_int(&p, f->actor);
    kwp_int(&p, f->from == KW_STORE_NO_TIME ? INT64_MIN : f->from);
    kwp_int(&p, f->to == KW_STORE_NO_TIME ? INT64_MAX : f->to);
    kwp_int(&p, f->before);
    kwp_int(&p, f->limit > INT64_MAX ? INT64_MAX : (int64_t)f->limit);
    PGresult *res = kwp_run(st, PGS_AUDIT, &p, "list the audit trail", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_audit_row a = {
            .id = kwp_col_int(res, r, 0),
            .actor = kwp_col_int(res, r, 1),
            .object = kwp_col_int(res, r, 2),
            .at = kwp_col_int(res, r, 3),
            .kind = kwp_col_text(res, r, 4),
            .action = kwp_col_text(res, r, 5),
            .before = kwp_col_text(res, r, 6),
            .after = kwp_col_text(res, r, 7),
        };
        if (!kwp_col_bytes(res, r, 8, a.hash, KW_HASH_BYTES))
            memset(a.hash, 0, sizeof(a.hash));
        if (!fn(&a, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

/* kind -> the statement reading its table: a fixed list, so no table's
 * name is input. */
static const struct {
    const char *kind;
    int stmt; /* an enum pgs, or -1: no such table on PostgreSQL */
} audited[] = {
    {"calendar", PGS_AUDIT_CALENDAR}, {"commitment", PGS_AUDIT_COMMITMENT},
    {"rota", PGS_AUDIT_ROTA},         {"endpoint", PGS_AUDIT_ENDPOINT},
    {"user", PGS_AUDIT_USER},         {"organisation", PGS_AUDIT_ORG},
    {"contract", PGS_AUDIT_CONTRACT}, {"team", PGS_AUDIT_TEAM},
};

/* Column i of row 0 as SQLite's audit_row gives it: integers as numbers
 * (booleans 0 or 1, as SQLite stores them), texts as strings or nested
 * JSON, a URL without its query; bytea left out (NULL). */
static json_t *column_json(const PGresult *res, int i, const char *col)
{
    if (PQgetisnull(res, 0, i))
        return json_null();
    const char *v = PQgetvalue(res, 0, i);
    switch (PQftype(res, i)) {
    case OID_BOOL:
        return json_integer(*v == 't');
    case OID_BYTEA:
        return NULL; /* hashes and bytes: not a state anyone edits */
    case OID_INT8:
    case OID_INT2:
    case OID_INT4:
        return json_integer(strtoll(v, NULL, 10));
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        return json_real(strtod(v, NULL));
    default:
        break;
    }
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

enum kw_code kw_store_audit_row(struct kw_store *st, const char *kind, int64_t id, const char *name,
                                char **json, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *json = NULL;
    int stmt = -2;
    for (size_t i = 0; kind && i < sizeof(audited) / sizeof(audited[0]); i++)
        if (strcmp(kind, audited[i].kind) == 0)
            stmt = audited[i].stmt;
    if (stmt == -2)
        return kw_err_set(err, KW_INVALID, "/kind", "%s: not an audited kind", kind ? kind : "");
    if (stmt < 0)
        return KW_OK;
    struct kwp_params p = {0};
    kwp_text(&p, name);
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, (enum pgs)stmt, &p, "read a row for the audit trail", NULL, err);
    if (!res)
        return err->code;
    enum kw_code code = KW_OK;
    if (PQntuples(res) > 0) {
        json_t *o = json_object();
        for (int i = 0; o && i < PQnfields(res); i++) {
            const char *col = PQfname(res, i);
            json_t *v = kw_audit_secret_column(col) ? NULL : column_json(res, i, col);
            if (v)
                json_object_set_new(o, col, v);
        }
        *json = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
        if (!*json)
            code = kw_err_set(err, KW_NOMEM, "", "no memory for the audit trail");
    }
    PQclear(res);
    return code;
}

enum kw_code kw_store_audit_verify(struct kw_store *st, int64_t *n, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *n = 0;
    PGresult *res = kwp_run(st, PGS_AUDIT_CHAIN, NULL, "verify the audit trail", NULL, err);
    if (!res)
        return err->code;
    struct kw_audit_check c = {0};
    unsigned char stored[KW_HASH_BYTES];
    enum kw_code rc = KW_OK;
    for (int r = 0; r < PQntuples(res); r++) {
        bool sized = kwp_col_bytes(res, r, 4, stored, KW_HASH_BYTES);
        if (!kw_audit_check_one(&c, kwp_col_int(res, r, 0), kwp_col_int(res, r, 1),
                                kwp_col_int(res, r, 2), kwp_col_text(res, r, 3),
                                sized ? stored : NULL, err)) {
            rc = err->code;
            break;
        }
    }
    PQclear(res);
    *n = c.seq;
    return rc;
}
