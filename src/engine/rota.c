// SPDX-License-Identifier: MIT
/* Stored on-call rotas; see rota.h. */
#include "rota.h"

#include <string.h>

enum kw_code kw_rota_check(struct kw_tzdb *tzdb, json_t *doc, struct kw_oncall *out,
                           struct kw_err *err)
{
    struct kw_tzinfo tz;
    if (kw_oncall_from_json(doc, out, err) != KW_OK)
        return err->code;
    return kw_tzdb_get(tzdb, out->tz, &tz, err);
}

struct found {
    struct kw_rota *out;
    json_t *doc;
    int n;
};

static bool take(const struct kw_oncall_row *r, void *ctx)
{
    struct found *f = ctx;
    f->out->id = r->id;
    f->out->team_id = r->team_id;
    f->out->level = r->level;
    f->doc = json_loads(r->spec, 0, NULL);
    f->n++;
    return false;
}

enum kw_code kw_rota_load(struct kw_store *st, struct kw_tzdb *tzdb, int64_t team_id, int level,
                          int64_t id, struct kw_rota *out, struct kw_err *err)
{
    struct found f = {out, NULL, 0};
    if (kw_store_oncalls(st, id > 0 ? 0 : team_id, id > 0 ? 0 : level, id, take, &f, err) != KW_OK)
        return err->code;
    if (!f.n)
        return id > 0 ? kw_err_set(err, KW_NOT_FOUND, "", "no rota %lld", (long long)id)
                      : kw_err_set(err, KW_NOT_FOUND, "", "team %lld has no rota for level %d",
                                   (long long)team_id, level);
    enum kw_code rc =
        f.doc ? kw_oncall_from_json(f.doc, &out->s, err)
              : kw_err_set(err, KW_STORE, "", "rota %lld is damaged", (long long)out->id);
    json_decref(f.doc);
    if (rc != KW_OK)
        return rc;
    return kw_tzdb_get(tzdb, out->s.tz, &out->tz, err);
}
