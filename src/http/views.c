// SPDX-License-Identifier: MIT
/* /api/v1/views: saved views of the ticket list (app/views.h), and
 * /api/v1/tickets/bulk: one change to many tickets, each in its own
 * savepoint of one unit on the writer, so that each ticket gets its own
 * events and a refused ticket leaves the others done. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tickets.h"
#include "views.h"
#include "workflow.h"

/* ---- what a view may hold: the list's filters, columns and sorts ---- */

/* The filters a view keeps, as the #/tickets page and GET /tickets name
 * them (docs/api.md). */
static const char *const filter_keys[] = {"view",    "q",        "state",    "level",      "org_id",
                                          "team_id", "category", "breached", "assignee_id"};
static const char *const builtin_views[] = {"open", "resolved",   "closed",   "all",
                                            "mine", "unassigned", "breached", "due_today"};
static const char *const column_keys[] = {"id",      "title",    "org",      "level",
                                          "state",   "assignee", "due",      "updated",
                                          "created", "channel",  "category", "requester"};
static const char *const sort_keys[] = {"id",  "title",   "state",  "level",
                                        "due", "updated", "created"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

/* A whole number > 0 written as a JSON integer or a decimal string. */
static bool id_value(json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) > 0;
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 19 || *s == '0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

#define FILTER_VALUE_MAX 200

static bool check_filters(json_t *f, struct kwh_reply *fail)
{
    if (!json_is_object(f)) {
        *fail = kwh_problem_of(KW_INVALID, "/filters", "filters: expected an object");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(f, k, v)
    {
        char ptr[64];
        snprintf(ptr, sizeof(ptr), "/filters/%.40s", k);
        if (!one_of(k, filter_keys, N(filter_keys))) {
            *fail = kwh_problemf(KW_INVALID, ptr,
                                 "filters: %.40s is not a filter (expected view, q, state, level, "
                                 "org_id, team_id, category, breached or assignee_id)",
                                 k);
            return false;
        }
        const char *s = json_string_value(v);
        bool ok;
        if (strcmp(k, "org_id") == 0 || strcmp(k, "team_id") == 0)
            ok = id_value(v);
        else if (strcmp(k, "assignee_id") == 0)
            ok = id_value(v) || (s && (strcmp(s, "me") == 0 || strcmp(s, "none") == 0));
        else if (!s || !*s || strlen(s) > FILTER_VALUE_MAX)
            ok = false;
        else if (strcmp(k, "view") == 0)
            ok = one_of(s, builtin_views, N(builtin_views));
        else if (strcmp(k, "breached") == 0)
            ok = strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
        else if (strcmp(k, "state") == 0) {
            enum kw_state st;
            ok = one_of(s, (const char *const[]){"open", "resolved", "closed"}, 3) ||
                 kw_state_parse(s, strlen(s), &st);
        } else
            ok = strcmp(k, "q") == 0 || strlen(s) <= 47;
        if (!ok) {
            *fail = kwh_problemf(
                KW_INVALID, ptr, "filters.%.40s: %s", k,
                strcmp(k, "view") == 0 ? "expected open, resolved, closed, all, mine, unassigned, "
                                         "breached or due_today"
                : strcmp(k, "assignee_id") == 0 ? "expected a user id, me or none"
                : strcmp(k, "org_id") == 0 || strcmp(k, "team_id") == 0 ? "expected an id"
                : strcmp(k, "breached") == 0                            ? "expected true or false"
                : strcmp(k, "state") == 0 ? "expected a state, open, resolved or closed"
                                          : "expected a string of 1 to 200 bytes (47 for an id)");
            return false;
        }
    }
    return true;
}

static bool check_columns(json_t *c, struct kwh_reply *fail)
{
    if (!json_is_array(c) || json_array_size(c) > N(column_keys)) {
        *fail =
            kwh_problemf(KW_INVALID, "/columns",
                         "columns: expected an array of at most %zu column names", N(column_keys));
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(c, i, v)
    {
        const char *s = json_string_value(v);
        bool again = false;
        for (size_t j = 0; s && j < i; j++)
            again |= strcmp(s, json_string_value(json_array_get(c, j))) == 0;
        if (!s || !one_of(s, column_keys, N(column_keys)) || again) {
            char ptr[32];
            snprintf(ptr, sizeof(ptr), "/columns/%zu", i);
            *fail = kwh_problemf(KW_INVALID, ptr,
                                 again ? "columns[%zu]: named twice"
                                       : "columns[%zu]: expected id, title, org, level, state, "
                                         "assignee, due, updated, created, channel, category or "
                                         "requester",
                                 i);
            return false;
        }
    }
    return true;
}

static bool check_sort(const char *s, struct kwh_reply *fail)
{
    if (!s || one_of(s + (s[0] == '-'), sort_keys, N(sort_keys)))
        return true;
    *fail = kwh_problem_of(KW_INVALID, "/sort",
                           "sort: expected id, title, state, level, due, updated or created, "
                           "- first for descending");
    return false;
}

/* ---- the views ---- */

static json_t *view_json(const struct kw_view *v, const struct kw_actor *who)
{
    json_t *j = json_pack("{s:I, s:s, s:I, s:o, s:b}", "id", (json_int_t)v->id, "name", v->name,
                          "owner_id", (json_int_t)v->owner_id, "team_id",
                          kwh_id_or_null(v->team_id), "shared", v->team_id != 0);
    json_object_set_new(j, "filters", json_loads(v->filters, 0, NULL));
    json_object_set_new(j, "columns", json_loads(v->columns, 0, NULL));
    json_object_set_new(j, "sort", kwh_nullable(v->sort));
    bool manages = who->role == KW_ROLE_ADMIN || who->role == KW_ROLE_MANAGER;
    json_object_set_new(j, "editable",
                        json_boolean(v->owner_id == who->id || (v->team_id && manages)));
    json_object_set_new(j, "created_at", kwh_instant_json(v->created_at));
    json_object_set_new(j, "updated_at", kwh_instant_json(v->updated_at));
    return j;
}

struct list_ctx {
    json_t *list;
    const struct kw_actor *who;
};

static bool list_add(const struct kw_view *v, void *ctx)
{
    struct list_ctx *l = ctx;
    json_array_append_new(l->list, view_json(v, l->who));
    return true;
}

struct kwh_reply kwh_views_list(struct kwh_call *x)
{
    struct kw_actor who = kwh_actor(x);
    struct list_ctx l = {json_array(), &who};
    struct kw_err err = {0};
    bool manages = who.role == KW_ROLE_ADMIN || who.role == KW_ROLE_MANAGER;
    if (kw_store_views(x->wk->st, who.id, who.team_id, manages, list_add, &l, &err) != KW_OK) {
        json_decref(l.list);
        return kwh_problem(&err);
    }
    return kwh_ok(200, json_pack("{s:o}", "views", l.list));
}

/* A view as read, copied so that it outlives the read. */
struct view_copy {
    struct kw_view v;
    char *name, *filters, *columns, *sort;
};

static void view_copy_free(struct view_copy *c)
{
    free(c->name);
    free(c->filters);
    free(c->columns);
    free(c->sort);
}

static enum kw_code view_read(struct kwh_call *x, int64_t id, struct view_copy *c,
                              struct kw_err *err)
{
    struct kw_actor who = kwh_actor(x);
    if (kw_store_view_get(x->wk->st, id, &c->v, err) != KW_OK)
        return err->code;
    if (!kw_app_view_visible(&who, &c->v))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such view");
    c->v.name = c->name = strdup(c->v.name);
    c->v.filters = c->filters = strdup(c->v.filters);
    c->v.columns = c->columns = strdup(c->v.columns);
    c->v.sort = c->sort = c->v.sort ? strdup(c->v.sort) : NULL;
    kw_store_end_read(x->wk->st);
    if (!c->name || !c->filters || !c->columns || (c->v.sort && !c->sort)) {
        view_copy_free(c);
        return kw_err_set(err, KW_NOMEM, "", "no memory for the view");
    }
    return KW_OK;
}

struct kwh_reply kwh_view_get(struct kwh_call *x)
{
    struct view_copy c = {0};
    struct kw_err err = {0};
    if (view_read(x, x->arg.id, &c, &err) != KW_OK)
        return kwh_problem(&err);
    struct kw_actor who = kwh_actor(x);
    struct kwh_reply out = kwh_ok(200, view_json(&c.v, &who));
    view_copy_free(&c);
    return out;
}

struct view_in {
    const char *name;
    int64_t team_id;
    json_t *filters, *columns, *sort;
};

#define VIEW(m) offsetof(struct view_in, m)
static const struct kwh_field view_fields[] = {
    {.name = "name", .type = KWH_STR, .max = 80, .offset = VIEW(name)},
    {.name = "team_id", .type = KWH_ID, .nullable = true, .offset = VIEW(team_id)},
    {.name = "filters", .type = KWH_ANY, .offset = VIEW(filters)},
    {.name = "columns", .type = KWH_ANY, .offset = VIEW(columns)},
    {.name = "sort", .type = KWH_ANY, .offset = VIEW(sort)},
};
#undef VIEW

struct save_unit {
    struct kw_http *h;
    struct kw_actor who;
    struct kw_view v;
    int64_t id, now;
};

static enum kw_code save_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct save_unit *s = ctx;
    struct kw_unit u = {.st = st, .now = s->now, .fire_at = KW_STORE_NO_TIME};
    return kw_app_view_save(&u, &s->who, &s->v, &s->id, err);
}

/* Decode a view's body over base (a new view: empty) and save it. */
static struct kwh_reply view_save(struct kwh_call *x, const struct kw_view *base, unsigned status)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct view_in in = {0};
    char *filters = NULL, *columns = NULL;
    if (!kwh_decode(j, view_fields, KWH_NFIELDS(view_fields), &in, &out))
        goto out;
    struct save_unit s = {.h = x->h, .who = kwh_actor(x), .v = *base, .now = x->now};
    if (in.name)
        s.v.name = in.name;
    if (!s.v.name || kw_app_blank(s.v.name)) {
        out = kwh_problem_of(KW_INVALID, "/name", "name: missing (1 to 80 bytes)");
        goto out;
    }
    if (in.team_id)
        s.v.team_id = in.team_id < 0 ? 0 : in.team_id;
    if (in.filters) {
        if (!check_filters(in.filters, &out))
            goto out;
        s.v.filters = filters = json_dumps(in.filters, JSON_COMPACT | JSON_SORT_KEYS);
    }
    if (in.columns) {
        if (!check_columns(in.columns, &out))
            goto out;
        s.v.columns = columns = json_dumps(in.columns, JSON_COMPACT);
    }
    if (in.sort) {
        if (!json_is_null(in.sort) && !json_is_string(in.sort)) {
            out = kwh_problem_of(KW_INVALID, "/sort", "sort: expected a column name or null");
            goto out;
        }
        s.v.sort = json_string_value(in.sort);
        if (!check_sort(s.v.sort, &out))
            goto out;
    }
    if ((in.filters && !filters) || (in.columns && !columns)) {
        out = kwh_problem_of(KW_NOMEM, "", "no memory for the view");
        goto out;
    }
    if (kwh_write_unit(x, save_unit, &s, &out)) {
        struct view_copy c = {0};
        struct kw_err err = {0};
        if (view_read(x, s.id, &c, &err) != KW_OK)
            out = kwh_problem(&err);
        else {
            out = kwh_ok(status, view_json(&c.v, &s.who));
            view_copy_free(&c);
        }
    }
out:
    free(filters);
    free(columns);
    json_decref(j);
    return out;
}

struct kwh_reply kwh_views_create(struct kwh_call *x)
{
    struct kw_view none = {0};
    return view_save(x, &none, 201);
}

struct kwh_reply kwh_view_patch(struct kwh_call *x)
{
    struct view_copy c = {0};
    struct kw_err err = {0};
    if (view_read(x, x->arg.id, &c, &err) != KW_OK)
        return kwh_problem(&err);
    struct kwh_reply out = view_save(x, &c.v, 200);
    view_copy_free(&c);
    return out;
}

struct delete_unit {
    struct kw_actor who;
    int64_t id, now;
};

static enum kw_code delete_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct delete_unit *d = ctx;
    struct kw_unit u = {.st = st, .now = d->now, .fire_at = KW_STORE_NO_TIME};
    return kw_app_view_delete(&u, &d->who, d->id, err);
}

struct kwh_reply kwh_view_delete(struct kwh_call *x)
{
    struct kwh_reply out;
    struct delete_unit d = {.who = kwh_actor(x), .id = x->arg.id, .now = x->now};
    return kwh_write_unit(x, delete_unit, &d, &out) ? kwh_ok(204, NULL) : out;
}
