// SPDX-License-Identifier: MIT
/* Monitoring intake on PostgreSQL: alert sources (by their key's digest)
 * and the alerts they opened, one row per (source, dedup key); the same
 * meaning as the SQLite backend's intake.c. */
#include "pg_int.h"

#include <stdlib.h>
#include <string.h>

static void read_source(const PGresult *res, int r, struct kw_intake_source *out)
{
    *out = (struct kw_intake_source){
        .id = kwp_col_int(res, r, 0),
        .name = kwp_col_text(res, r, 1),
        .kind = kwp_col_text(res, r, 2),
        .acting_user = kwp_col_int(res, r, 3),
        .org_id = kwp_col_int(res, r, 4),
        .team_id = kwp_col_int(res, r, 5),
        .category = kwp_col_text(res, r, 6),
        .level = kwp_col_text(res, r, 7),
        .rules = kwp_col_text(res, r, 8),
        .on_resolve = kwp_col_text(res, r, 9),
        .per_minute = kwp_col_int(res, r, 10),
        .active = strcmp(PQgetvalue(res, r, 11), "t") == 0,
        .created_at = kwp_col_int(res, r, 12),
    };
}

enum kw_code kw_store_intake_insert(struct kw_store *st, const struct kw_intake_source *s,
                                    const unsigned char digest[KW_HASH_BYTES], int64_t *id,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, s->name);
    kwp_text(&p, s->kind);
    kwp_bytes(&p, digest, KW_HASH_BYTES);
    kwp_int(&p, s->acting_user);
    kwp_int(&p, s->org_id);
    kwp_int(&p, s->team_id);
    kwp_text(&p, s->category);
    kwp_text(&p, s->level);
    kwp_text(&p, s->rules ? s->rules : "[]");
    kwp_text(&p, s->on_resolve ? s->on_resolve : "restored");
    kwp_int(&p, s->per_minute);
    kwp_int(&p, s->created_at);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    char state[6];
    PGresult *res = kwp_run(st, PGS_INTAKE_INSERT, &p, "store the alert source", state, err);
    enum kw_code rc = KW_OK;
    if (res) {
        *id = kwp_col_int(res, 0, 0);
        PQclear(res);
    } else if (strcmp(state, "23505") == 0) /* unique_violation */
        rc = kw_err_set(err, KW_CONFLICT, "/name", "name: a source named \"%s\" exists", s->name);
    else if (strcmp(state, "23503") == 0) /* foreign_key_violation */
        rc = kw_err_set(err, KW_NOT_FOUND, "/org_id",
                        "org_id or team_id: no such organisation or team");
    else
        rc = err->code;
    return kwp_tx_finish(st, outer, rc, err);
}

enum kw_code kw_store_intake_get(struct kw_store *st, const unsigned char *digest, int64_t id,
                                 struct kw_intake_source *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    if (digest)
        kwp_bytes(&p, digest, KW_HASH_BYTES);
    else
        kwp_int(&p, id);
    PGresult *res = kwp_run(st, digest ? PGS_INTAKE_BY_DIGEST : PGS_INTAKE_BY_ID, &p,
                            "read the alert source", NULL, err);
    if (!res)
        return err->code;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return kw_err_set(err, KW_NOT_FOUND, "", "no such alert source");
    }
    read_source(res, 0, out);
    kwp_lend(st, res); /* its strings live until the next call on st */
    return KW_OK;
}

enum kw_code kw_store_intakes(struct kw_store *st,
                              bool (*fn)(const struct kw_intake_source *s, void *ctx), void *ctx,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = kwp_run(st, PGS_INTAKES, NULL, "read alert sources", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_intake_source s;
        read_source(res, r, &s);
        if (!fn(&s, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_intake_deactivate(struct kw_store *st, int64_t id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, PGS_INTAKE_DEACTIVATE, &p, "stop the alert source", NULL, err);
    if (!res)
        return err->code;
    return kwp_changed(res) ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such alert source");
}

enum kw_code kw_store_intake_rekey(struct kw_store *st, int64_t id,
                                   const unsigned char digest[KW_HASH_BYTES], struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_bytes(&p, digest, KW_HASH_BYTES);
    PGresult *res = kwp_run(st, PGS_INTAKE_REKEY, &p, "change the alert source's key", NULL, err);
    if (!res)
        return err->code;
    return kwp_changed(res) ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such alert source");
}

enum kw_code kw_store_intake_update(struct kw_store *st, const struct kw_intake_source *s,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, s->id);
    kwp_text(&p, s->name);
    kwp_int(&p, s->org_id);
    kwp_int(&p, s->team_id > 0 ? s->team_id : 0);
    kwp_text(&p, s->category);
    kwp_text(&p, s->level);
    kwp_text(&p, s->rules ? s->rules : "[]");
    kwp_text(&p, s->on_resolve ? s->on_resolve : "restored");
    kwp_int(&p, s->per_minute);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    char state[6];
    PGresult *res = kwp_run(st, PGS_INTAKE_UPDATE, &p, "change the alert source", state, err);
    enum kw_code rc = KW_OK;
    if (res) {
        if (!kwp_changed(res)) /* clears res */
            rc = kw_err_set(err, KW_NOT_FOUND, "", "no such alert source");
    } else if (strcmp(state, "23505") == 0) /* unique_violation */
        rc = kw_err_set(err, KW_CONFLICT, "/name", "name: a source named \"%s\" exists", s->name);
    else if (strcmp(state, "23503") == 0) /* foreign_key_violation */
        rc = kw_err_set(err, KW_NOT_FOUND, "/org_id",
                        "org_id or team_id: no such organisation or team");
    else
        rc = err->code;
    return kwp_tx_finish(st, outer, rc, err);
}

enum kw_code kw_store_alert_get(struct kw_store *st, int64_t source, const char *key,
                                struct kw_alert_row *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, source);
    kwp_text(&p, key);
    PGresult *res = kwp_run(st, PGS_ALERT_GET, &p, "read the alert", NULL, err);
    if (!res)
        return err->code;
    bool found = PQntuples(res) > 0;
    if (found)
        *out = (struct kw_alert_row){
            .ticket_id = kwp_col_int(res, 0, 0),
            .open = strcmp(PQgetvalue(res, 0, 1), "t") == 0,
            .repeats = kwp_col_int(res, 0, 2),
            .updated_at = kwp_col_int(res, 0, 3),
        };
    PQclear(res);
    return found ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such alert");
}

enum kw_code kw_store_alert_put(struct kw_store *st, int64_t source, const char *key,
                                const struct kw_alert_row *a, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, source);
    kwp_text(&p, key);
    kwp_int(&p, a->ticket_id);
    kwp_text(&p, a->open ? "true" : "false");
    kwp_int(&p, a->repeats);
    kwp_int(&p, a->updated_at);
    return kwp_exec(st, PGS_ALERT_PUT, &p, "store the alert", err);
}
