// SPDX-License-Identifier: MIT
/* /api/v1/notifications: in-app notifications (store.h: written
 * with the events that call for them), newest first, and marking them
 * read. Each person sees and marks only their own. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct inbox {
    json_t *list;
    size_t limit;
    int64_t last;
    bool more;
    struct kwh_call *x;
};

static bool inbox_add(const struct kw_notification *n, void *ctx)
{
    struct inbox *in = ctx;
    if (json_array_size(in->list) == in->limit) {
        in->more = true;
        return false;
    }
    json_t *j =
        json_pack("{s:I, s:I, s:s, s:I, s:s, s:o, s:o, s:b, s:o, s:o}", "id", (json_int_t)n->id,
                  "ticket_id", (json_int_t)n->ticket_id, "title", n->title ? n->title : "", "seq",
                  (json_int_t)n->seq, "kind", n->kind, "actor_id", kwh_id_or_null(n->actor_id),
                  "at", kwh_instant_json(n->at), "read", n->read_at != KW_STORE_NO_TIME, "read_at",
                  kwh_instant_json(n->read_at), "detail", kwh_nullable(n->detail));
    json_array_append_new(in->list, j);
    in->last = n->id;
    return true;
}

/* actor_name of each: the one who acted (0: Keepword itself, null). */
static void name_actors(struct kwh_call *x, json_t *list)
{
    size_t i;
    json_t *n;
    json_array_foreach(list, i, n)
    {
        json_int_t who = json_integer_value(json_object_get(n, "actor_id"));
        struct kw_user_row u;
        struct kw_err err = {0};
        bool named = who && kw_store_user_get(x->wk->st, who, &u, &err) == KW_OK;
        json_object_set_new(n, "actor_name", named ? json_string(u.name) : json_null());
    }
}

struct kwh_reply kwh_notifications_list(struct kwh_call *x)
{
    struct kwh_reply fail;
    long long after = 0, limit = 50;
    const char *unread = kwh_query(x, "unread");
    if (!kwh_query_int(x, "after", 1, INT64_MAX, &after, &fail) ||
        !kwh_query_int(x, "limit", 1, 200, &limit, &fail))
        return fail;
    if (unread && strcmp(unread, "true") != 0 && strcmp(unread, "false") != 0)
        return kwh_problem_of(KW_INVALID, "", "unread: expected true or false");
    struct inbox in = {.list = json_array(), .limit = (size_t)limit, .x = x};
    struct kw_err err = {0};
    int64_t count = 0;
    if (kw_store_notifications(x->wk->st, x->me.id, unread && strcmp(unread, "true") == 0, after,
                               (size_t)limit + 1, inbox_add, &in, &err) != KW_OK ||
        kw_store_notification_unread(x->wk->st, x->me.id, &count, &err) != KW_OK) {
        json_decref(in.list);
        return kwh_problem(&err);
    }
    name_actors(x, in.list);
    return kwh_ok(200, json_pack("{s:o, s:I, s:o}", "notifications", in.list, "unread",
                                 (json_int_t)count, "next",
                                 in.more ? json_integer(in.last) : json_null()));
}

#define READ_MAX 500

struct read_unit {
    int64_t user, now, ids[READ_MAX], changed;
    size_t n;
};

static enum kw_code read_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct read_unit *r = ctx;
    return kw_store_notifications_read(st, r->user, r->ids, r->n, r->now, &r->changed, err);
}

struct read_in {
    json_t *ids;
    bool all;
};

static const struct kwh_field read_fields[] = {
    {.name = "ids", .type = KWH_ANY, .offset = offsetof(struct read_in, ids)},
    {.name = "all", .type = KWH_BOOL, .offset = offsetof(struct read_in, all)},
};

struct kwh_reply kwh_notifications_read(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct read_in in = {0};
    struct read_unit *r = calloc(1, sizeof(*r));
    if (!r) {
        json_decref(j);
        return kwh_problem_of(KW_NOMEM, "", "no memory");
    }
    if (!kwh_decode(j, read_fields, KWH_NFIELDS(read_fields), &in, &out))
        goto out;
    if (!in.ids == !in.all) {
        out = kwh_problem_of(KW_INVALID, in.ids ? "/all" : "/ids",
                             "give either ids (the notifications to mark read) or all: true");
        goto out;
    }
    if (in.ids) {
        if (!json_is_array(in.ids) || !json_array_size(in.ids) ||
            json_array_size(in.ids) > READ_MAX) {
            out =
                json_is_array(in.ids) && json_array_size(in.ids) > READ_MAX
                    ? kwh_problemf(KW_TOO_BIG, "/ids", "ids: at most %d in one call", READ_MAX)
                    : kwh_problem_of(KW_INVALID, "/ids", "ids: expected an array of 1 to 500 ids");
            goto out;
        }
        size_t i;
        json_t *v;
        json_array_foreach(in.ids, i, v)
        {
            if (!json_is_integer(v) || json_integer_value(v) < 1) {
                char ptr[16];
                snprintf(ptr, sizeof(ptr), "/ids/%zu", i);
                out = kwh_problemf(KW_INVALID, ptr, "ids[%zu]: expected a notification id", i);
                goto out;
            }
            r->ids[i] = json_integer_value(v);
        }
        r->n = json_array_size(in.ids);
    }
    r->user = x->me.id;
    r->now = x->now;
    if (kwh_write_unit(x, read_unit, r, &out)) {
        int64_t unread = 0;
        struct kw_err err = {0};
        if (kw_store_notification_unread(x->wk->st, x->me.id, &unread, &err) != KW_OK)
            out = kwh_problem(&err);
        else
            out = kwh_ok(200, json_pack("{s:I, s:I}", "marked", (json_int_t)r->changed, "unread",
                                        (json_int_t)unread));
    }
out:
    free(r);
    json_decref(j);
    return out;
}
