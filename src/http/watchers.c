// SPDX-License-Identifier: MIT
/*
 * watchers.c - /api/v1/tickets/{id}/watchers (app/watchers.h): the people
 * who follow a ticket, and following or unfollowing it. POST with no body
 * (or {}) follows as the caller, {"user_id": N} adds N (staff); DELETE
 * with no ?user_id unfollows the caller, ?user_id=N removes N (staff).
 * Each answers the list as GET does: {"watchers": [...], "watching": bool}.
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "watchers.h"

static bool watcher_add(const struct kw_watcher *w, void *ctx)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:o, s:I, s:o}", "user_id", (json_int_t)w->user_id,
                          "name", w->name ? w->name : "", "role", w->role ? w->role : "", "org_id",
                          kwh_id_or_null(w->org_id), "added_by", (json_int_t)w->added_by, "at",
                          kwh_instant_json(w->at));
    return json_array_append_new(ctx, j) == 0;
}

/* The ticket's watchers as the caller may see them: a customer another
 * organisation's ticket is 404. */
static struct kwh_reply watchers_of(struct kwh_call *x, unsigned status)
{
    struct kw_err err = {0};
    struct kw_ticket_row t;
    struct kwh_reply fail;
    if (!kwh_visible_ticket(x, x->arg.id, &t, &fail))
        return fail;
    json_t *list = json_array();
    if (kw_store_watchers(x->wk->st, x->arg.id, watcher_add, list, &err) != KW_OK) {
        json_decref(list);
        return kwh_problem(&err);
    }
    kw_store_end_read(x->wk->st);
    bool watching = false;
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w)
    {
        if (json_integer_value(json_object_get(w, "user_id")) == x->me.id)
            watching = true;
    }
    return kwh_ok(status, json_pack("{s:o, s:b, s:I}", "watchers", list, "watching", watching,
                                    "max", (json_int_t)KW_WATCHERS_MAX));
}

struct kwh_reply kwh_watchers_list(struct kwh_call *x)
{
    return watchers_of(x, 200);
}

struct watch_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t ticket, user, now;
    bool add, changed;
};

static enum kw_code watch_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct watch_unit *w = ctx;
    struct kw_unit u = {.st = st,
                        .clocks = w->h->clocks,
                        .sla = &w->h->wsla,
                        .now = w->now,
                        .fire_at = KW_STORE_NO_TIME};
    return w->add ? kw_watch_add(&u, &w->who, w->ticket, w->user, &w->changed, err)
                  : kw_watch_remove(&u, &w->who, w->ticket, w->user, &w->changed, err);
}

struct watch_in {
    int64_t user_id;
};

static const struct kwh_field watch_fields[] = {
    {.name = "user_id", .type = KWH_ID, .offset = offsetof(struct watch_in, user_id)},
};

static struct kwh_reply watch(struct kwh_call *x, bool add, int64_t user)
{
    struct kwh_reply out;
    struct watch_unit w = {.h = x->h,
                           .who = kwh_actor(x),
                           .ticket = x->arg.id,
                           .user = user,
                           .now = x->now,
                           .add = add};
    if (!kwh_write_unit(x, watch_unit, &w, &out))
        return out;
    if (w.changed)
        kwh_log_event(x->h, "mod=tickets event=%s ticket=%lld user=%lld actor=%lld",
                      add ? "watcher.added" : "watcher.removed", (long long)w.ticket,
                      (long long)(user ? user : x->me.id), (long long)x->me.id);
    return watchers_of(x, add && w.changed ? 201 : 200);
}

struct kwh_reply kwh_watchers_add(struct kwh_call *x)
{
    struct watch_in in = {0};
    if (x->r->body.len) {
        struct kwh_reply out;
        json_t *j = kwh_body_object(x, &out);
        if (!j)
            return out;
        bool ok = kwh_decode(j, watch_fields, KWH_NFIELDS(watch_fields), &in, &out);
        json_decref(j);
        if (!ok)
            return out;
    }
    return watch(x, true, in.user_id);
}

struct kwh_reply kwh_watchers_remove(struct kwh_call *x)
{
    struct kwh_reply out;
    long long user = 0;
    if (!kwh_query_int(x, "user_id", 1, INT64_MAX, &user, &out))
        return out;
    return watch(x, false, user);
}
