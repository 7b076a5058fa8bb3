// SPDX-License-Identifier: MIT
/* /api/v1/oncall: on-call rotas (值班) per team and level; who is on call,
 * and the shifts ahead. Staff read them; managers set them. */
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "internal.h"
#include "rota.h"

static bool rota_add(const struct kw_oncall_row *r, void *ctx)
{
    json_t *spec = json_loads(r->spec, 0, NULL);
    json_array_append_new(ctx, json_pack("{s:I, s:s, s:I, s:i, s:o}", "id", (json_int_t)r->id,
                                         "name", r->name, "team_id", (json_int_t)r->team_id,
                                         "level", r->level, "schedule", spec ? spec : json_null()));
    return true;
}

struct rota_unit {
    const char *name;
    int64_t team, now, id;
    int level;
    char *spec;
};

static enum kw_code rota_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct rota_unit *u = ctx;
    return kw_store_oncall_put(st, u->name, u->team, u->level, u->spec, u->now, &u->id, err);
}

static struct kwh_reply rota_put(struct kwh_call *x)
{
    static const char *const keys[] = {"team_id", "level", "schedule", NULL};
    struct kwh_reply out;
    if (!kwh_authorise(x, MANAGERS, "only admins and managers set rotas", &out))
        return out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct rota_unit u = {.now = x->now, .level = 1};
    json_t *level = json_object_get(j, "level"), *spec = json_object_get(j, "schedule");
    struct kw_oncall *s = malloc(sizeof(*s));
    struct kw_err err = {0};
    if (!s) {
        out = kwh_problem_of(KW_NOMEM, "", "no memory");
    } else if (!kwh_only_members(j, keys, &out) ||
               !kwh_opt_id(j, "team_id", false, &u.team, &out)) {
    } else if (!u.team) {
        out = kwh_problem_of(KW_INVALID, "/team_id", "team_id: missing (the team on call)");
    } else if (level && (!json_is_integer(level) || json_integer_value(level) < 1 ||
                         json_integer_value(level) > 9)) {
        out = kwh_problem_of(KW_INVALID, "/level", "level: expected 1 (first line) to 9");
    } else {
        u.level = level ? (int)json_integer_value(level) : 1;
        enum kw_code rc = kw_rota_check(kw_clocks_tz_lock(x->h->clocks), spec, s, &err);
        kw_clocks_tz_unlock(x->h->clocks);
        if (rc != KW_OK) {
            char ptr[sizeof(err.field) + 16];
            snprintf(ptr, sizeof(ptr), "/schedule%s", err.field);
            out = kwh_problemf(err.code, ptr, "schedule: %s", err.msg);
        } else {
            u.name = s->name;
            u.spec = json_dumps(spec, JSON_COMPACT);
            if (u.spec && kwh_write_unit(x, rota_unit, &u, &out))
                out = kwh_ok(201, json_pack("{s:I, s:s, s:I, s:i, s:O}", "id", (json_int_t)u.id,
                                            "name", u.name, "team_id", (json_int_t)u.team, "level",
                                            u.level, "schedule", spec));
            free(u.spec);
        }
    }
    free(s);
    json_decref(j);
    return out;
}

static bool query_instant(const struct kwh_call *x, const char *name, int64_t *t,
                          struct kwh_reply *fail)
{
    const char *v = kwh_query(x, name);
    struct kw_err err = {0};
    if (v && kw_instant_parse(v, strlen(v), t, &err) != KW_OK) {
        *fail = kwh_problemf(KW_INVALID, "", "%s: %s", name, err.msg);
        return false;
    }
    return true;
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
    if (!query_instant(x, "at", &at, &out))
        return out;
    const char *source = NULL;
    int64_t user = kw_oncall_who(&r->s, &r->tz, at, &source);
    return kwh_ok(200, json_pack("{s:I, s:I, s:i, s:o, s:o, s:o, s:o}", "rota", (json_int_t)r->id,
                                 "team_id", (json_int_t)r->team_id, "level", r->level, "at",
                                 kwh_instant_json(at), "user_id", kwh_id_or_null(user), "user",
                                 person(x, user), "source", kwh_nullable(source)));
}

#define MAX_SHIFTS 512

static struct kwh_reply shifts(struct kwh_call *x, struct kw_rota *r)
{
    struct kwh_reply out;
    int64_t from = x->now;
    long long days = 14;
    if (!query_instant(x, "from", &from, &out) || !kwh_query_int(x, "days", 1, 62, &days, &out))
        return out;
    struct kw_oncall_shift *sh = malloc(MAX_SHIFTS * sizeof(*sh));
    size_t n = 0;
    if (!sh)
        return kwh_problem_of(KW_NOMEM, "", "no memory");
    kw_oncall_shifts(&r->s, &r->tz, from, from + days * KW_DAY, sh, MAX_SHIFTS, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:o, s:o, s:o, s:o}", "from", kwh_instant_json(sh[i].from), "to",
                            kwh_instant_json(sh[i].to), "user_id", kwh_id_or_null(sh[i].user),
                            "source", kwh_nullable(sh[i].source)));
    free(sh);
    return kwh_ok(200, json_pack("{s:I, s:s, s:s, s:o, s:o, s:o}", "rota", (json_int_t)r->id,
                                 "name", r->s.name, "tz", r->s.tz, "from", kwh_instant_json(from),
                                 "to", kwh_instant_json(from + days * KW_DAY), "shifts", list));
}

struct kwh_reply kwh_oncall_route(struct kwh_call *x, const char *path, bool *matched)
{
    struct kwh_reply out;
    *matched = strncmp(path, "/api/v1/oncall", 14) == 0 && (path[14] == '\0' || path[14] == '/');
    if (!*matched)
        return (struct kwh_reply){0};
    const char *rest = path + 14;
    if (!*rest && kwh_is_method(x, "POST"))
        return rota_put(x);
    if (!kwh_authorise(x, STAFF, "rotas are the provider's", &out))
        return out;
    if (!kwh_is_method(x, "GET"))
        return kwh_problem_of(*rest && strcmp(rest, "/who") != 0 && !strstr(rest, "/shifts")
                                  ? KW_NOT_FOUND
                                  : KW_METHOD,
                              "", "this method is not allowed here");
    if (!*rest) {
        long long team = 0;
        struct kw_err err = {0};
        if (!kwh_query_int(x, "team_id", 1, INT64_MAX, &team, &out))
            return out;
        json_t *list = json_array();
        if (kw_store_oncalls(x->wk->st, team, 0, 0, rota_add, list, &err) != KW_OK) {
            json_decref(list);
            return kwh_problem(&err);
        }
        return kwh_ok(200, json_pack("{s:o}", "rotas", list));
    }
    struct kw_rota *r = malloc(sizeof(*r));
    if (!r)
        return kwh_problem_of(KW_NOMEM, "", "no memory");
    char *end = NULL;
    long long id = rest[0] == '/' ? strtoll(rest + 1, &end, 10) : 0;
    if (strcmp(rest, "/who") == 0)
        out = rota_of(x, 0, r, &out) ? who(x, r) : out;
    else if (id > 0 && end && strcmp(end, "/shifts") == 0)
        out = rota_of(x, id, r, &out) ? shifts(x, r) : out;
    else if (id > 0 && end && strcmp(end, "/who") == 0)
        out = rota_of(x, id, r, &out) ? who(x, r) : out;
    else
        out = kwh_problem_of(KW_NOT_FOUND, "", "no such resource");
    free(r);
    return out;
}
