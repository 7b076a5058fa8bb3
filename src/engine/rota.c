// SPDX-License-Identifier: MIT
/* Stored on-call rotas; see rota.h. */
#include "rota.h"

#include <stdlib.h>
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

/* ---- the cache ---- */

struct cached {
    int64_t team_id;
    int level;
    char *spec; /* the document compiled into r */
    struct kw_rota r;
};

struct kw_rota_cache {
    struct cached *e[KW_ROTA_CACHE_MAX];
    size_t n, next;       /* entries; the one to replace when full */
    struct kw_rota spare; /* for a rota compiled but not kept */
    uint64_t compiled, hits;
};

struct kw_rota_cache *kw_rota_cache_new(void)
{
    return calloc(1, sizeof(struct kw_rota_cache));
}

void kw_rota_cache_free(struct kw_rota_cache *rc)
{
    if (!rc)
        return;
    for (size_t i = 0; i < rc->n; i++) {
        free(rc->e[i]->spec);
        free(rc->e[i]);
    }
    free(rc);
}

void kw_rota_cache_counts(const struct kw_rota_cache *rc, uint64_t *compiled, uint64_t *hits)
{
    *compiled = rc->compiled;
    *hits = rc->hits;
}

/* The stored row of the rota looked up: whether it is the document the
 * cached entry was compiled from, or a copy of it to compile. */
struct lookup {
    const struct cached *have;
    int64_t id;
    bool found, same;
    char *spec;
};

static bool compare(const struct kw_oncall_row *r, void *ctx)
{
    struct lookup *l = ctx;
    l->found = true;
    l->id = r->id;
    l->same = l->have && l->have->spec && r->spec && strcmp(l->have->spec, r->spec) == 0;
    if (!l->same && r->spec)
        l->spec = strdup(r->spec);
    return false;
}

/* Compile spec (the row of rota id, team_id at level) into out. */
static enum kw_code compile(struct kw_tzdb *tzdb, const char *spec, int64_t id, int64_t team_id,
                            int level, struct kw_rota *out, struct kw_err *err)
{
    json_t *doc = json_loads(spec, 0, NULL);
    *out = (struct kw_rota){.id = id, .team_id = team_id, .level = level};
    enum kw_code rc = doc ? kw_oncall_from_json(doc, &out->s, err)
                          : kw_err_set(err, KW_STORE, "", "rota %lld is damaged", (long long)id);
    json_decref(doc);
    return rc == KW_OK ? kw_tzdb_get(tzdb, out->s.tz, &out->tz, err) : rc;
}

enum kw_code kw_rota_cached(struct kw_rota_cache *rc, struct kw_store *st, struct kw_tzdb *tzdb,
                            int64_t team_id, int level, const struct kw_rota **out,
                            struct kw_err *err)
{
    struct cached *c = NULL;
    for (size_t i = 0; i < rc->n && !c; i++)
        if (rc->e[i]->team_id == team_id && rc->e[i]->level == level)
            c = rc->e[i];
    struct lookup l = {.have = c};
    if (kw_store_oncalls(st, team_id, level, 0, compare, &l, err) != KW_OK)
        return err->code;
    if (!l.found)
        return kw_err_set(err, KW_NOT_FOUND, "", "team %lld has no rota for level %d",
                          (long long)team_id, level);
    if (l.same && c->r.id == l.id) {
        rc->hits++;
        *out = &c->r;
        return KW_OK;
    }
    if (!l.spec)
        return kw_err_set(err, KW_NOMEM, "", "no memory for rota %lld", (long long)l.id);
    rc->compiled++;
    if (!c && rc->n < KW_ROTA_CACHE_MAX && (c = calloc(1, sizeof(*c))))
        rc->e[rc->n++] = c;
    else if (!c && rc->n == KW_ROTA_CACHE_MAX) {
        c = rc->e[rc->next]; /* full: replace the entries in turn */
        rc->next = (rc->next + 1) % KW_ROTA_CACHE_MAX;
    }
    struct kw_rota *into = c ? &c->r : &rc->spare;
    enum kw_code code = compile(tzdb, l.spec, l.id, team_id, level, into, err);
    if (!c || code != KW_OK) {
        /* not kept: an entry that failed to compile is forgotten */
        if (c) {
            free(c->spec);
            c->spec = NULL;
            c->team_id = 0;
            c->level = 0;
        }
        free(l.spec);
        *out = code == KW_OK ? into : NULL;
        return code;
    }
    free(c->spec);
    c->spec = l.spec;
    c->team_id = team_id;
    c->level = level;
    *out = &c->r;
    return KW_OK;
}
