// SPDX-License-Identifier: MIT
/* /api/v1/oncall: on-call rotas (值班) per team and level; who is on call,
 * and the shifts ahead. Staff read them; managers set them. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "internal.h"
#include "watch.h"
#include "rota.h"

static bool rota_add(const struct kw_oncall_row *r, void *ctx)
{
    json_t *spec = json_loads(r->spec, 0, NULL);
    return kwh_page_push(ctx, r->id,
                         json_pack("{s:I, s:s, s:I, s:i, s:o}", "id", (json_int_t)r->id, "name",
                                   r->name, "team_id", (json_int_t)r->team_id, "level", r->level,
                                   "schedule", spec ? spec : json_null()));
}

struct rota_unit {
    const char *name;
    int64_t team, now, id;
    int level;
    char *spec;
    struct kw_actor who;
};

/* the rota a put replaces: the team's at that level */
static bool rota_seen(const struct kw_oncall_row *r, void *ctx)
{
    *(int64_t *)ctx = r->id;
    return false;
}

static enum kw_code rota_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct rota_unit *u = ctx;
    int64_t old = 0;
    char *before = NULL;
    enum kw_code rc = kw_store_oncalls(st, u->team, u->level, 0, rota_seen, &old, err);
    if (rc == KW_OK && old)
        rc = kw_audit_before(st, "rota", old, NULL, &before, err);
    if (rc == KW_OK)
        rc = kw_store_oncall_put(st, u->name, u->team, u->level, u->spec, u->now, &u->id, err);
    if (rc == KW_OK)
        rc = kw_audit_after(st, &u->who, u->now, "rota", u->id, NULL, before ? "update" : "create",
                            before, err);
    free(before);
    return rc;
}

/* A rota as sent. */
struct rota_in {
    int64_t team, level;
    json_t *schedule;
};

static const struct kwh_field rota_fields[] = {
    {.name = "team_id",
     .type = KWH_ID,
     .required = true,
     .offset = offsetof(struct rota_in, team),
     .missing = "missing (the team on call)"},
    {.name = "level",
     .type = KWH_INT,
     .lo = 1,
     .hi = 9,
     .offset = offsetof(struct rota_in, level),
     .expect = "expected 1 (first line) to 9"},
    {.name = "schedule", .type = KWH_ANY, .offset = offsetof(struct rota_in, schedule)},
};

/* Every person a schedule names is a staff member: an unknown id or a
 * customer is refused at its place ("/schedule/layers/0/people/1"). */
static bool people_check(struct kwh_call *x, const struct kw_oncall *s, struct kwh_reply *fail)
{
    for (size_t i = 0; i < s->n_layers + s->n_overrides; i++) {
        bool layer = i < s->n_layers;
        size_t n = layer ? s->layer[i].n_people : 1;
        for (size_t j = 0; j < n; j++) {
            int64_t id = layer ? s->layer[i].people[j] : s->override[i - s->n_layers].user;
            struct kw_user_row u;
            struct kw_err err = {0};
            enum kw_code rc = kw_store_user_get(x->wk->st, id, &u, &err);
            if (rc == KW_OK && strcmp(u.role, "customer") != 0)
                continue;
            char ptr[96];
            if (layer)
                snprintf(ptr, sizeof(ptr), "/schedule/layers/%zu/people/%zu", i, j);
            else
                snprintf(ptr, sizeof(ptr), "/schedule/overrides/%zu/user", i - s->n_layers);
            if (rc == KW_OK)
                *fail = kwh_problemf(KW_INVALID, ptr,
                                     "schedule: user %lld (%.60s) is a customer; only staff go on "
                                     "call",
                                     (long long)id, u.name);
            else if (rc == KW_NOT_FOUND)
                *fail =
                    kwh_problemf(KW_INVALID, ptr, "schedule: there is no user %lld", (long long)id);
            else
                *fail = kwh_problem(&err);
            return false;
        }
    }
    return true;
}

#define MAX_SHIFTS 512

/* The shifts of s over [from, from + days): {"from","to","shifts":[...]}. */
static json_t *shifts_json(const struct kw_oncall *s, const struct kw_tzinfo *tz, int64_t from,
                           long long days)
{
    struct kw_oncall_shift *sh = malloc(MAX_SHIFTS * sizeof(*sh));
    size_t n = 0;
    if (!sh)
        return NULL;
    kw_oncall_shifts(s, tz, from, from + days * KW_DAY, sh, MAX_SHIFTS, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:o, s:o, s:o, s:o}", "from", kwh_instant_json(sh[i].from), "to",
                            kwh_instant_json(sh[i].to), "user_id", kwh_id_or_null(sh[i].user),
                            "source", kwh_nullable(sh[i].source)));
    free(sh);
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", s->name, "tz", s->tz, "from",
                     kwh_instant_json(from), "to", kwh_instant_json(from + days * KW_DAY), "shifts",
                     list);
}

static bool rota_id(const struct kw_oncall_row *r, void *ctx)
{
    *(int64_t *)ctx = r->id;
    return false;
}

/* dry_run=true: who would be on call over the next `days` (default 14) days
 * under the schedule, and which stored rota it would replace. */
static struct kwh_reply rota_preview(struct kwh_call *x, const struct rota_in *in,
                                     const struct kw_oncall *s)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    struct kw_tzinfo tz;
    long long days = 14;
    int64_t replaces = 0;
    if (!kwh_query_int(x, "days", 1, 62, &days, &out))
        return out;
    if (kw_store_oncalls(x->wk->st, in->team, (int)in->level, 0, rota_id, &replaces, &err) != KW_OK)
        return kwh_problem(&err);
    enum kw_code rc = kw_tzdb_get(kw_clocks_tz_lock(x->h->clocks), s->tz, &tz, &err);
    json_t *j = rc == KW_OK ? shifts_json(s, &tz, x->now, days) : NULL;
    kw_clocks_tz_unlock(x->h->clocks);
    if (rc != KW_OK)
        return kwh_problem(&err);
    if (!j)
        return kwh_problem_of(KW_NOMEM, "", "no memory");
    json_object_set_new(j, "dry_run", json_true());
    json_object_set_new(j, "team_id", json_integer(in->team));
    json_object_set_new(j, "level", json_integer(in->level));
    json_object_set_new(j, "replaces", kwh_id_or_null(replaces));
    return kwh_ok(200, j);
}

/* POST /oncall: set a team's rota for a level; dry_run=true: preview it. */
struct kwh_reply kwh_rotas_put(struct kwh_call *x)
{
    struct kwh_reply out;
    const char *dr = kwh_query(x, "dry_run");
    if (dr && strcmp(dr, "true") != 0 && strcmp(dr, "false") != 0)
        return kwh_problemf(KW_INVALID, "", "dry_run: expected true or false, not \"%.40s\"", dr);
    bool dry = dr && strcmp(dr, "true") == 0;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct rota_in in = {.level = 1};
    struct kw_oncall *s = malloc(sizeof(*s));
    struct kw_err err = {0};
    if (!s) {
        out = kwh_problem_of(KW_NOMEM, "", "no memory");
    } else if (kwh_decode(j, rota_fields, KWH_NFIELDS(rota_fields), &in, &out)) {
        struct rota_unit u = {
            .team = in.team, .level = (int)in.level, .now = x->now, .who = kwh_actor(x)};
        enum kw_code rc = kw_rota_check(kw_clocks_tz_lock(x->h->clocks), in.schedule, s, &err);
        kw_clocks_tz_unlock(x->h->clocks);
        if (rc != KW_OK) {
            char ptr[sizeof(err.field) + 16];
            snprintf(ptr, sizeof(ptr), "/schedule%s", err.field);
            out = kwh_problemf(err.code, ptr, "schedule: %s", err.msg);
        } else if (!people_check(x, s, &out)) {
            /* out says who */
        } else if (dry) {
            out = rota_preview(x, &in, s);
        } else {
            u.name = s->name;
            u.spec = json_dumps(in.schedule, JSON_COMPACT);
            if (!u.spec)
                out = kwh_problem_of(KW_NOMEM, "", "no memory");
            else if (kwh_write_unit(x, rota_unit, &u, &out))
                out = kwh_ok(201, json_pack("{s:I, s:s, s:I, s:i, s:O}", "id", (json_int_t)u.id,
                                            "name", u.name, "team_id", (json_int_t)u.team, "level",
                                            u.level, "schedule", in.schedule));
            free(u.spec);
        }
    }
    free(s);
    json_decref(j);
    return out;
}

/* Load a rota (by id, or by team_id and level from the query). */
static bool rota_of(struct kwh_call *x, int64_t id, struct kw_rota *r, struct kwh_reply *fail)
{
    long long team = 0, level = 1;
    struct kw_err err = {0};
    if (!id && (!kwh_query_int(x, "team_id", 1, INT64_MAX, &team, fail) ||
                !kwh_query_int(x, "level", 1, 9, &level, fail)))
        return false;
    if (!id && !team) {
        *fail = kwh_problem_of(KW_INVALID, "", "team_id: missing (whose rota)");
        return false;
    }
    enum kw_code rc =
        kw_rota_load(x->wk->st, kw_clocks_tz_lock(x->h->clocks), team, (int)level, id, r, &err);
    kw_clocks_tz_unlock(x->h->clocks);
    if (rc != KW_OK)
        *fail = kwh_problem(&err);
    return rc == KW_OK;
}

static json_t *person(struct kwh_call *x, int64_t user)
{
    struct kw_user_row u;
    if (!user || kw_store_user_get(x->wk->st, user, &u, NULL) != KW_OK)
        return json_null();
    return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)u.id, "name", u.name, "email", u.email);
}

static struct kwh_reply who(struct kwh_call *x, struct kw_rota *r)
{
    struct kwh_reply out;
    int64_t at = x->now;
    if (!kwh_query_instant(x, "at", &at, &out))
        return out;
    const char *source = NULL;
    int64_t user = kw_oncall_who(&r->s, &r->tz, at, &source);
    return kwh_ok(200, json_pack("{s:I, s:I, s:i, s:o, s:o, s:o, s:o}", "rota", (json_int_t)r->id,
                                 "team_id", (json_int_t)r->team_id, "level", r->level, "at",
                                 kwh_instant_json(at), "user_id", kwh_id_or_null(user), "user",
                                 person(x, user), "source", kwh_nullable(source)));
}

static struct kwh_reply shifts(struct kwh_call *x, struct kw_rota *r)
{
    struct kwh_reply out;
    int64_t from = x->now;
    long long days = 14;
    if (!kwh_query_instant(x, "from", &from, &out) || !kwh_query_int(x, "days", 1, 62, &days, &out))
        return out;
    json_t *j = shifts_json(&r->s, &r->tz, from, days);
    if (!j)
        return kwh_problem_of(KW_NOMEM, "", "no memory");
    json_object_set_new(j, "rota", json_integer(r->id));
    return kwh_ok(200, j);
}

struct kwh_reply kwh_rotas_list(struct kwh_call *x)
{
    struct kwh_reply out;
    long long team = 0;
    struct kw_err err = {0};
    if (!kwh_query_int(x, "team_id", 1, INT64_MAX, &team, &out))
        return out;
    struct kwh_page pg;
    kwh_page_init(&pg, KWH_ALL);
    if (kw_store_oncalls(x->wk->st, team, 0, 0, rota_add, &pg, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    return kwh_ok(200, kwh_page_json(&pg, "rotas"));
}

/* Answer with fn over the rota x->arg.id (0: by team_id and level). */
static struct kwh_reply with_rota(struct kwh_call *x,
                                  struct kwh_reply (*fn)(struct kwh_call *x, struct kw_rota *r))
{
    struct kwh_reply out;
    struct kw_rota *r = malloc(sizeof(*r));
    if (!r)
        return kwh_problem_of(KW_NOMEM, "", "no memory");
    if (rota_of(x, x->arg.id, r, &out))
        out = fn(x, r);
    free(r);
    return out;
}

struct kwh_reply kwh_oncall_who(struct kwh_call *x)
{
    return with_rota(x, who);
}

struct kwh_reply kwh_rota_who(struct kwh_call *x)
{
    return with_rota(x, who);
}

struct kwh_reply kwh_rota_shifts(struct kwh_call *x)
{
    return with_rota(x, shifts);
}
