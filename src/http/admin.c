// SPDX-License-Identifier: MIT
/* /api/v1/orgs, /users, /teams, /calendars and /commitments: what the
 * provider's managers set up, and what a customer may read of it (their own
 * organisation and its people, the published commitment and calendars). */
#include <stdlib.h>
#include <string.h>

#include "calcache.h"
#include "calendar_json.h"
#include "civil.h"
#include "ics.h"
#include "internal.h"
#include "letter.h"
#include "policy_json.h"

static struct kwh_reply not_allowed(void)
{
    return kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
}

/* The id after a collection's path ("/123" and nothing else), or 0. */
static int64_t path_id(const char *rest, const char **tail)
{
    char *end = NULL;
    if (rest[0] != '/' || rest[1] < '1' || rest[1] > '9' || strlen(rest) > 40)
        return 0;
    long long id = strtoll(rest + 1, &end, 10);
    *tail = end;
    return end - rest > 19 ? 0 : id;
}

/* ---- organisations ---- */

static json_t *org_json(const struct kw_org *o)
{
    return json_pack("{s:I, s:s, s:o, s:o, s:o, s:I, s:o}", "id", (json_int_t)o->id, "name",
                     o->name, "tier", kwh_nullable(o->tier), "region", kwh_nullable(o->region),
                     "calendar", kwh_nullable(o->calendar), "contract_value_cents",
                     (json_int_t)o->contract_value_cents, "account_manager_id",
                     kwh_id_or_null(o->account_manager_id));
}

struct list {
    json_t *items;
    size_t limit;
    int64_t last;
    bool more;
};

static bool org_add(const struct kw_org *o, void *ctx)
{
    struct list *l = ctx;
    if (json_array_size(l->items) == l->limit)
        return !(l->more = true);
    json_array_append_new(l->items, org_json(o));
    l->last = o->id;
    return true;
}

static json_t *page_of(struct list *l, const char *key)
{
    return json_pack("{s:o, s:o}", key, l->items, "next",
                     l->more ? json_integer(l->last) : json_null());
}

struct org_unit {
    struct kw_org org;
    int64_t now, id;
};

static enum kw_code org_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct org_unit *u = ctx;
    return kw_store_org_insert(st, &u->org, u->now, &u->id, err);
}

static struct kwh_reply org_create(struct kwh_call *x)
{
    static const char *const keys[] = {
        "name", "tier", "region", "calendar", "contract_value_cents", "account_manager_id", NULL};
    struct kwh_reply out;
    if (!kwh_authorise(x, MANAGERS, "only admins and managers manage organisations", &out))
        return out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct org_unit u = {.now = x->now};
    json_t *value = json_object_get(j, "contract_value_cents");
    if (!kwh_only_members(j, keys, &out) || !kwh_opt_string(j, "name", 200, &u.org.name, &out) ||
        !kwh_opt_string(j, "tier", 47, &u.org.tier, &out) ||
        !kwh_opt_string(j, "region", 47, &u.org.region, &out) ||
        !kwh_opt_string(j, "calendar", 47, &u.org.calendar, &out) ||
        !kwh_opt_id(j, "account_manager_id", false, &u.org.account_manager_id, &out))
        goto done;
    if (value && (!json_is_integer(value) || json_integer_value(value) < 0)) {
        out = kwh_problem_of(KW_INVALID, "/contract_value_cents",
                             "contract_value_cents: expected a whole number >= 0");
        goto done;
    }
    u.org.contract_value_cents = value ? json_integer_value(value) : 0;
    if (kwh_write_unit(x, org_unit, &u, &out)) {
        u.org.id = u.id;
        out = kwh_ok(201, org_json(&u.org));
    }
done:
    json_decref(j);
    return out;
}

static struct kwh_reply orgs_route(struct kwh_call *x, const char *rest)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    if (!*rest && kwh_is_method(x, "POST"))
        return org_create(x);
    const char *tail = "";
    int64_t id = *rest ? path_id(rest, &tail) : 0;
    if (*rest && (!id || *tail))
        return kwh_problem_of(KW_NOT_FOUND, "", "no such organisation");
    if (!kwh_is_method(x, "GET"))
        return not_allowed();
    if (!kwh_authenticate(x, &out))
        return out;
    if (id) {
        struct kw_org o;
        /* a customer sees their own organisation; another looks absent */
        if ((x->me.customer && id != x->me.org_id) ||
            kw_store_org_get(x->wk->st, id, &o, &err) != KW_OK)
            return kwh_problem_of(KW_NOT_FOUND, "", "no such organisation");
        return kwh_ok(200, org_json(&o));
    }
    long long after = 0, limit = 100;
    if (!kwh_query_int(x, "after", 0, INT64_MAX, &after, &out) ||
        !kwh_query_int(x, "limit", 1, 500, &limit, &out))
        return out;
    struct list l = {json_array(), (size_t)limit, 0, false};
    if (kw_store_orgs(x->wk->st, x->me.customer ? x->me.org_id : 0, after, (size_t)limit + 1,
                      org_add, &l, &err) != KW_OK) {
        json_decref(l.items);
        return kwh_problem(&err);
    }
    return kwh_ok(200, page_of(&l, "orgs"));
}

/* ---- users ---- */

static json_t *user_json(const struct kw_user_row *u)
{
    json_t *skills = json_loads(u->skills ? u->skills : "[]", 0, NULL);
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)u->id, "email",
                     u->email, "name", u->name, "role", u->role, "org_id",
                     kwh_id_or_null(u->org_id), "team_id", kwh_id_or_null(u->team_id), "skills",
                     skills ? skills : json_array());
}

/* "skills": up to 32 distinct strings of 1 to 47 bytes, as canonical text
 * into *out (caller frees); absent leaves *out NULL. */
static bool skills_of(json_t *j, char **out, struct kwh_reply *fail)
{
    json_t *v = json_object_get(j, "skills"), *e;
    size_t i;
    *out = NULL;
    if (!v)
        return true;
    if (!json_is_array(v) || json_array_size(v) > 32) {
        *fail =
            kwh_problem_of(KW_INVALID, "/skills", "skills: expected a list of at most 32 skills");
        return false;
    }
    json_array_foreach(v, i, e)
    {
        bool twice = false;
        for (size_t k = 0; k < i && json_is_string(e); k++)
            twice = twice || json_equal(e, json_array_get(v, k));
        if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 47 ||
            twice) {
            char ptr[32];
            snprintf(ptr, sizeof(ptr), "/skills/%zu", i);
            *fail = kwh_problemf(KW_INVALID, ptr,
                                 "skills[%zu]: expected a skill of 1 to 47 bytes, listed once", i);
            return false;
        }
    }
    *out = json_dumps(v, JSON_COMPACT);
    return *out != NULL;
}

static bool user_add(const struct kw_user_row *u, void *ctx)
{
    struct list *l = ctx;
    if (json_array_size(l->items) == l->limit)
        return !(l->more = true);
    json_array_append_new(l->items, user_json(u));
    l->last = u->id;
    return true;
}

struct user_unit {
    struct kw_user u;
    const char *password;
    char hash[KW_PASSWORD_HASH_BUF];
    int64_t now, id;
};

static enum kw_code user_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct user_unit *u = ctx;
    return kw_store_user_insert_hashed(st, &u->u, u->password ? u->hash : NULL, u->now, &u->id,
                                       err);
}

static struct kwh_reply user_create(struct kwh_call *x)
{
    static const char *const keys[] = {"email",  "name",    "role",   "password",
                                       "org_id", "team_id", "skills", NULL};
    struct kwh_reply out;
    if (!kwh_authorise(x, ROLE(R_ADMIN), "only admins manage users", &out))
        return out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct user_unit u = {.now = x->now};
    char *skills = NULL;
    if (!kwh_only_members(j, keys, &out) || !kwh_opt_string(j, "email", 254, &u.u.email, &out) ||
        !kwh_opt_string(j, "name", 200, &u.u.name, &out) ||
        !kwh_opt_string(j, "role", 16, &u.u.role, &out) ||
        !kwh_opt_string(j, "password", 1024, &u.password, &out) ||
        !kwh_opt_id(j, "org_id", false, &u.u.org_id, &out) ||
        !kwh_opt_id(j, "team_id", false, &u.u.team_id, &out) || !skills_of(j, &skills, &out))
        goto done;
    u.u.skills = skills;
    if (u.u.role && strcmp(u.u.role, "customer") == 0 && !u.u.org_id) {
        out =
            kwh_problem_of(KW_INVALID, "/org_id", "org_id: a customer belongs to an organisation");
        goto done;
    }
    /* argon2id takes a while and much memory: hash before the writer */
    struct kw_err err = {0};
    if (u.password && kw_password_hash(u.password, u.hash, &err) != KW_OK) {
        out = kwh_problem(&err);
        goto done;
    }
    if (kwh_write_unit(x, user_unit, &u, &out)) {
        struct kw_user_row row = {u.id,     u.u.org_id, u.u.team_id, u.u.email,
                                  u.u.name, u.u.role,   skills};
        out = kwh_ok(201, user_json(&row));
    }
done:
    free(skills);
    json_decref(j);
    return out;
}

static struct kwh_reply users_route(struct kwh_call *x, const char *rest)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    if (*rest)
        return kwh_problem_of(KW_NOT_FOUND, "", "no such resource");
    if (kwh_is_method(x, "POST"))
        return user_create(x);
    if (!kwh_is_method(x, "GET"))
        return not_allowed();
    if (!kwh_authenticate(x, &out))
        return out;
    long long org = 0, after = 0, limit = 100;
    if (!kwh_query_int(x, "org_id", 1, INT64_MAX, &org, &out) ||
        !kwh_query_int(x, "after", 0, INT64_MAX, &after, &out) ||
        !kwh_query_int(x, "limit", 1, 500, &limit, &out))
        return out;
    if (x->me.customer) {
        /* customers see the people of their own organisation only */
        if (org && org != x->me.org_id)
            return kwh_problem_of(KW_FORBIDDEN, "", "org_id: customers list their own people");
        org = x->me.org_id;
    }
    struct list l = {json_array(), (size_t)limit, 0, false};
    if (kw_store_users(x->wk->st, org, after, (size_t)limit + 1, user_add, &l, &err) != KW_OK) {
        json_decref(l.items);
        return kwh_problem(&err);
    }
    return kwh_ok(200, page_of(&l, "users"));
}

/* ---- teams ---- */

static bool team_add(const struct kw_named_row *r, void *ctx)
{
    json_array_append_new(ctx, json_pack("{s:I, s:s, s:o}", "id", (json_int_t)r->id, "name",
                                         r->name, "lead_id", kwh_id_or_null(r->ref)));
    return true;
}

struct team_unit {
    const char *name;
    int64_t lead, now, id;
};

static enum kw_code team_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct team_unit *u = ctx;
    return kw_store_team_insert(st, u->name, u->lead, u->now, &u->id, err);
}

static struct kwh_reply teams_route(struct kwh_call *x, const char *rest)
{
    static const char *const keys[] = {"name", "lead_id", NULL};
    struct kwh_reply out;
    struct kw_err err = {0};
    if (*rest)
        return kwh_problem_of(KW_NOT_FOUND, "", "no such resource");
    if (kwh_is_method(x, "GET")) {
        if (!kwh_authorise(x, STAFF, "teams are the provider's", &out))
            return out;
        json_t *list = json_array();
        if (kw_store_teams(x->wk->st, 0, team_add, list, &err) != KW_OK) {
            json_decref(list);
            return kwh_problem(&err);
        }
        return kwh_ok(200, json_pack("{s:o}", "teams", list));
    }
    if (!kwh_is_method(x, "POST"))
        return not_allowed();
    if (!kwh_authorise(x, MANAGERS, "only admins and managers manage teams", &out))
        return out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct team_unit u = {.now = x->now};
    if (kwh_only_members(j, keys, &out) && kwh_opt_string(j, "name", 200, &u.name, &out) &&
        kwh_opt_id(j, "lead_id", false, &u.lead, &out) && kwh_write_unit(x, team_unit, &u, &out))
        out = kwh_ok(201, json_pack("{s:I, s:s, s:o}", "id", (json_int_t)u.id, "name", u.name,
                                    "lead_id", kwh_id_or_null(u.lead)));
    json_decref(j);
    return out;
}

/* ---- calendars ---- */

static bool calendar_add(const struct kw_named_row *r, void *ctx)
{
    json_t *spec = json_loads(r->text ? r->text : "{}", 0, NULL);
    json_array_append_new(ctx, json_pack("{s:I, s:s, s:o}", "id", (json_int_t)r->id, "name",
                                         r->name, "spec", spec ? spec : json_object()));
    return true;
}

/* Check a spec the way the engine will use it: the zone must exist and the
 * calendar must compile over the horizon. */
static enum kw_code calendar_compiles(struct kw_http *h, const struct kw_cal_spec *spec,
                                      struct kw_cal **out, struct kw_err *err)
{
    struct kw_cal *cal = kw_cal_compile(kw_clocks_tz_lock(h->clocks), spec, err);
    kw_clocks_tz_unlock(h->clocks);
    if (!cal)
        return err->code;
    if (out)
        *out = cal;
    else
        kw_cal_free(cal);
    return KW_OK;
}

struct calendar_unit {
    const char *name;
    char *spec;
    int64_t now, id;
};

static enum kw_code calendar_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct calendar_unit *u = ctx;
    return kw_store_calendar_put(st, u->name, u->spec, u->now, &u->id, err);
}

/* Store spec under its name; 201 with it. */
static struct kwh_reply calendar_store(struct kwh_call *x, const struct kw_cal_spec *spec,
                                       json_t *extra)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    if (calendar_compiles(x->h, spec, NULL, &err) != KW_OK) {
        json_decref(extra);
        return kwh_problem(&err);
    }
    json_t *canon = kw_cal_spec_to_json(spec);
    struct calendar_unit u = {spec->name, canon ? json_dumps(canon, JSON_COMPACT) : NULL, x->now,
                              0};
    if (!u.spec)
        out = kwh_problem_of(KW_NOMEM, "", "no memory for the calendar");
    else if (kwh_write_unit(x, calendar_unit, &u, &out)) {
        json_t *j =
            json_pack("{s:I, s:s, s:O}", "id", (json_int_t)u.id, "name", spec->name, "spec", canon);
        if (extra)
            json_object_update(j, extra);
        out = kwh_ok(201, j);
    }
    free(u.spec);
    json_decref(canon);
    json_decref(extra);
    return out;
}

/* The stored spec of calendar name; false with 404. */
static bool calendar_load(struct kwh_call *x, const char *name, struct kw_cal_spec *spec,
                          struct kwh_reply *fail)
{
    json_t *list = json_array();
    struct kw_err err = {0};
    bool found = false;
    if (kw_store_calendars(x->wk->st, name, calendar_add, list, &err) != KW_OK)
        *fail = kwh_problem(&err);
    else if (json_array_size(list) == 0)
        *fail = kwh_problemf(KW_NOT_FOUND, "", "no calendar \"%.60s\"", name);
    else if (kw_cal_spec_from_json(json_object_get(json_array_get(list, 0), "spec"), spec, &err) !=
             KW_OK)
        *fail = kwh_problem(&err);
    else
        found = true;
    json_decref(list);
    return found;
}

/* POST /calendars/{name}/ics: merge an iCalendar feed's all-day events. */
static struct kwh_reply calendar_ics(struct kwh_call *x, const char *name)
{
    struct kwh_reply out;
    struct kw_cal_spec spec = {0};
    struct kw_ics_stats stats = {0};
    struct kw_err err = {0};
    const char *as = kwh_query(x, "as"), *match = kwh_query(x, "match");
    if (!as || (strcmp(as, "holidays") != 0 && strcmp(as, "workdays") != 0))
        return kwh_problem_of(KW_INVALID, "", "as: expected holidays or workdays");
    if (x->r->body.len == 0)
        return kwh_problem_of(KW_INVALID, "", "the body must be an iCalendar (.ics) feed");
    if (!calendar_load(x, name, &spec, &out))
        return out;
    char *text = malloc(x->r->body.len + 1);
    if (!text) {
        kw_cal_spec_release(&spec);
        return kwh_problem_of(KW_NOMEM, "", "no memory for the feed");
    }
    memcpy(text, x->r->body.p, x->r->body.len);
    text[x->r->body.len] = '\0';
    kw_clocks_tz_lock(x->h->clocks); /* libical is not thread-safe */
    enum kw_code rc = kw_ics_merge(&spec, text, x->r->body.len, strcmp(as, "holidays") == 0,
                                   &spec.week[0], match, &stats, &err);
    kw_clocks_tz_unlock(x->h->clocks);
    free(text);
    if (rc != KW_OK)
        out = kwh_problem(&err);
    else
        out = calendar_store(x, &spec,
                             json_pack("{s:{s:I, s:I, s:I, s:I}}", "imported", "events",
                                       (json_int_t)stats.events, "added", (json_int_t)stats.added,
                                       "present", (json_int_t)stats.present, "skipped",
                                       (json_int_t)stats.skipped));
    kw_cal_spec_release(&spec);
    return out;
}

/* GET /calendars/{name}/deadline?from=&duration=: a preview. */
static struct kwh_reply calendar_deadline(struct kwh_call *x, const char *name)
{
    struct kwh_reply out;
    struct kw_cal_spec spec = {0};
    struct kw_err err = {0};
    const char *from = kwh_query(x, "from"), *dur = kwh_query(x, "duration");
    int64_t start = x->now, work = 0, due = 0, elapsed = 0;
    if (from && kw_instant_parse(from, strlen(from), &start, &err) != KW_OK)
        return kwh_problemf(KW_INVALID, "", "from: %s", err.msg);
    if (!dur || kw_duration_parse(dur, strlen(dur), &work, &err) != KW_OK)
        return kwh_problemf(KW_INVALID, "", "duration: %s",
                            dur ? err.msg : "missing (like 4h, 30m, 2d)");
    if (!calendar_load(x, name, &spec, &out))
        return out;
    struct kw_cal *cal = NULL;
    if (calendar_compiles(x->h, &spec, &cal, &err) != KW_OK ||
        kw_cal_deadline(cal, start, work, &due, &err) != KW_OK ||
        kw_cal_elapsed(cal, start, due, &elapsed, &err) != KW_OK)
        out = kwh_problem(&err);
    else
        out = kwh_ok(200, json_pack("{s:s, s:o, s:I, s:o, s:s}", "calendar", name, "from",
                                    kwh_instant_json(start), "duration", (json_int_t)work,
                                    "deadline", kwh_instant_json(due), "tz", spec.tz));
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);
    return out;
}

static struct kwh_reply calendars_route(struct kwh_call *x, const char *rest)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    if (!kwh_authenticate(x, &out))
        return out;
    bool get = kwh_is_method(x, "GET");
    if (!*rest && get) {
        json_t *list = json_array();
        if (kw_store_calendars(x->wk->st, NULL, calendar_add, list, &err) != KW_OK) {
            json_decref(list);
            return kwh_problem(&err);
        }
        return kwh_ok(200, json_pack("{s:o}", "calendars", list));
    }
    if (!*rest && kwh_is_method(x, "POST")) {
        if (!kwh_authorise(x, MANAGERS, "only admins and managers manage calendars", &out))
            return out;
        json_t *j = kwh_body_object(x, &out);
        if (!j)
            return out;
        struct kw_cal_spec spec = {0};
        if (kw_cal_spec_from_json(j, &spec, &err) != KW_OK)
            out = kwh_problem(&err);
        else if (!spec.name[0])
            out = kwh_problem_of(KW_INVALID, "/name", "name: missing");
        else
            out = calendar_store(x, &spec, NULL);
        kw_cal_spec_release(&spec);
        json_decref(j);
        return out;
    }
    if (*rest != '/' || strlen(rest) > KW_CAL_NAME_MAX + 16)
        return *rest ? kwh_problem_of(KW_NOT_FOUND, "", "no such resource") : not_allowed();
    char name[KW_CAL_NAME_MAX];
    const char *slash = strchr(rest + 1, '/');
    size_t n = slash ? (size_t)(slash - rest - 1) : strlen(rest + 1);
    if (n == 0 || n >= sizeof(name))
        return kwh_problem_of(KW_NOT_FOUND, "", "no such calendar");
    memcpy(name, rest + 1, n);
    name[n] = '\0';
    const char *sub = slash ? slash : "";
    if (!*sub && get) {
        json_t *list = json_array();
        if (kw_store_calendars(x->wk->st, name, calendar_add, list, &err) != KW_OK) {
            json_decref(list);
            return kwh_problem(&err);
        }
        out = json_array_size(list) ? kwh_ok(200, json_incref(json_array_get(list, 0)))
                                    : kwh_problemf(KW_NOT_FOUND, "", "no calendar \"%.60s\"", name);
        json_decref(list);
        return out;
    }
    if (strcmp(sub, "/deadline") == 0 && get)
        return calendar_deadline(x, name);
    if (strcmp(sub, "/ics") == 0 && kwh_is_method(x, "POST")) {
        if (!kwh_authorise(x, MANAGERS, "only admins and managers manage calendars", &out))
            return out;
        return calendar_ics(x, name);
    }
    return strcmp(sub, "/deadline") == 0 || strcmp(sub, "/ics") == 0 || !*sub
               ? not_allowed()
               : kwh_problem_of(KW_NOT_FOUND, "", "no such resource");
}

/* ---- commitments ---- */

static bool commitment_add(const struct kw_commitment_row *c, void *ctx)
{
    json_array_append_new(ctx, json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)c->id,
                                         "name", c->name, "version", c->version, "effective_from",
                                         kwh_instant_json(c->effective_from), "created_at",
                                         kwh_instant_json(c->created_at)));
    return true;
}

struct commitment_unit {
    const char *name, *version;
    char *doc;
    int64_t from, now, id;
};

static enum kw_code commitment_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct commitment_unit *u = ctx;
    return kw_store_commitment_insert(st, u->name, u->version, u->from, u->doc, u->now, &u->id,
                                      err);
}

static struct kwh_reply commitment_create(struct kwh_call *x)
{
    struct kwh_reply out;
    if (!kwh_authorise(x, MANAGERS, "only admins and managers change commitments", &out))
        return out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct kw_err err = {0};
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
    struct kw_policy *p = kw_policy_from_json(j, &err);
    enum kw_code rc = KW_OK;
    if (p) {
        rc = kw_policy_compile(kw_clocks_tz_lock(x->h->clocks), p, cals, &err);
        kw_clocks_tz_unlock(x->h->clocks);
        for (size_t i = 0; rc == KW_OK && i < kw_policy_calendar_count(p); i++)
            kw_cal_free(cals[i]);
    }
    if (!p || rc != KW_OK) {
        out = kwh_problem(&err);
    } else {
        struct commitment_unit u = {kw_policy_name(p),
                                    kw_policy_version(p),
                                    json_dumps(j, JSON_COMPACT),
                                    kw_policy_effective_from(p),
                                    x->now,
                                    0};
        if (!u.doc)
            out = kwh_problem_of(KW_NOMEM, "", "no memory");
        else if (kwh_write_unit(x, commitment_unit, &u, &out))
            out = kwh_ok(201, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)u.id, "name",
                                        u.name, "version", u.version, "effective_from",
                                        kwh_instant_json(u.from)));
        free(u.doc);
    }
    kw_policy_free(p);
    json_decref(j);
    return out;
}

/* GET /commitments/{id}/letter?lang=zh|en&format=md|html */
static struct kwh_reply commitment_letter(struct kwh_call *x, int64_t id)
{
    struct kw_err err = {0};
    const char *lang = kwh_query(x, "lang"), *format = kwh_query(x, "format");
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kwh_problem_of(KW_INVALID, "", "lang: expected zh or en");
    if (format && strcmp(format, "md") != 0 && strcmp(format, "html") != 0)
        return kwh_problem_of(KW_INVALID, "", "format: expected md or html");
    const struct kw_compiled *c = kwh_policy_for(x->h, x->wk->st, id, &err);
    if (!c)
        return kwh_problem(&err);
    bool html = format && strcmp(format, "html") == 0;
    struct kw_buf b = {0};
    kw_letter_render(c->p, lang ? lang : "zh", html, &b);
    char *text = b.failed ? NULL : strndup(b.p ? b.p : "", b.len);
    kw_buf_release(&b);
    return kwh_ok_text(html ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8", text);
}

static struct kwh_reply commitments_route(struct kwh_call *x, const char *rest)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    if (!*rest && kwh_is_method(x, "POST"))
        return commitment_create(x);
    if (!kwh_authenticate(x, &out))
        return out;
    if (!*rest) {
        if (!kwh_is_method(x, "GET"))
            return not_allowed();
        json_t *list = json_array();
        if (kw_store_commitments(x->wk->st, commitment_add, list, &err) != KW_OK) {
            json_decref(list);
            return kwh_problem(&err);
        }
        int64_t current = 0;
        kw_store_commitment_at(x->wk->st, x->now, &current, &err);
        return kwh_ok(
            200, json_pack("{s:o, s:o}", "commitments", list, "in_force", kwh_id_or_null(current)));
    }
    const char *tail = "";
    int64_t id = path_id(rest, &tail);
    if (!id || (*tail && strcmp(tail, "/letter") != 0))
        return kwh_problem_of(KW_NOT_FOUND, "", "no such commitment");
    if (!kwh_is_method(x, "GET"))
        return not_allowed();
    if (*tail)
        return commitment_letter(x, id);
    char *doc = NULL;
    if (kw_store_commitment_doc(x->wk->st, id, &doc, &err) != KW_OK)
        return kwh_problem(&err);
    json_t *j = json_loads(doc, 0, NULL);
    free(doc);
    return j ? kwh_ok(200, j) : kwh_problem_of(KW_STORE, "", "the stored commitment is damaged");
}

struct kwh_reply kwh_admin_route(struct kwh_call *x, const char *path, bool *matched)
{
    static const struct {
        const char *prefix;
        struct kwh_reply (*fn)(struct kwh_call *x, const char *rest);
    } routes[] = {
        {"/api/v1/orgs", orgs_route},
        {"/api/v1/users", users_route},
        {"/api/v1/teams", teams_route},
        {"/api/v1/calendars", calendars_route},
        {"/api/v1/commitments", commitments_route},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t n = strlen(routes[i].prefix);
        if (strncmp(path, routes[i].prefix, n) == 0 && (path[n] == '\0' || path[n] == '/')) {
            *matched = true;
            return routes[i].fn(x, path + n);
        }
    }
    *matched = false;
    return (struct kwh_reply){0};
}
