// SPDX-License-Identifier: MIT
/* /api/v1/overruns: breached commitments (超时处理). The engine opens one
 * per breached clock run; staff record why (a reason category and a note,
 * which the customer is told in Chinese and English on the ticket and
 * through the notification endpoints) and follow it up (root cause,
 * improvement action, owner, due date) until done. Customers read their own
 * organisation's, without the follow-up. */
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "internal.h"
#include "tickets.h"

static const char *state_of(const struct kw_overrun_row *r)
{
    return r->done_at != KW_STORE_NO_TIME ? "done" : r->reason ? "explained" : "open";
}

struct listing {
    json_t *items;
    size_t limit;
    int64_t last, now;
    bool more, customer;
};

static bool overrun_add(const struct kw_overrun_row *r, void *ctx)
{
    struct listing *l = ctx;
    if (json_array_size(l->items) == l->limit)
        return !(l->more = true);
    int64_t end = r->stopped_at != KW_STORE_NO_TIME ? r->stopped_at : l->now;
    json_t *j = json_pack(
        "{s:I, s:I, s:I, s:o, s:s, s:o, s:o, s:I, s:o, s:s, s:o, s:o, s:o}", "id",
        (json_int_t)r->id, "ticket_id", (json_int_t)r->ticket_id, "org_id", (json_int_t)r->org_id,
        "commitment_id", kwh_id_or_null(r->commitment_id), "metric", r->metric, "deadline",
        kwh_instant_json(r->deadline), "stopped_at", kwh_instant_json(r->stopped_at),
        "late_by_seconds", (json_int_t)(end > r->deadline ? end - r->deadline : 0), "recorded_at",
        kwh_instant_json(r->recorded_at), "state", state_of(r), "reason", kwh_nullable(r->reason),
        "note", kwh_nullable(r->note), "explained_at", kwh_instant_json(r->explained_at));
    if (!l->customer)
        json_object_set_new(j, "followup",
                            json_pack("{s:o, s:o, s:o, s:o, s:o}", "rca", kwh_nullable(r->rca),
                                      "action", kwh_nullable(r->action), "owner_id",
                                      kwh_id_or_null(r->owner_id), "due", kwh_instant_json(r->due),
                                      "done_at", kwh_instant_json(r->done_at)));
    json_array_append_new(l->items, j);
    l->last = r->id;
    return true;
}

static struct kwh_reply overrun_list(struct kwh_call *x, int64_t id)
{
    struct kwh_reply out;
    long long org = 0, ticket = 0, after = 0, limit = 100;
    const char *state = kwh_query(x, "state");
    if (!kwh_query_int(x, "org_id", 1, INT64_MAX, &org, &out) ||
        !kwh_query_int(x, "ticket_id", 1, INT64_MAX, &ticket, &out) ||
        !kwh_query_int(x, "after", 0, INT64_MAX, &after, &out) ||
        !kwh_query_int(x, "limit", 1, 500, &limit, &out))
        return out;
    if (state && strcmp(state, "open") != 0 && strcmp(state, "explained") != 0 &&
        strcmp(state, "done") != 0)
        return kwh_problem_of(KW_INVALID, "", "state: expected open, explained or done");
    if (x->me.customer) {
        if (org && org != x->me.org_id)
            return kwh_problem_of(KW_FORBIDDEN, "", "org_id: customers see their own overruns");
        org = x->me.org_id;
    }
    struct kw_overrun_filter f = {.id = id,
                                  .org_id = org,
                                  .ticket_id = ticket,
                                  .after = after,
                                  .metric = kwh_query(x, "metric"),
                                  .state = state,
                                  .limit = (size_t)limit + 1};
    struct listing l = {json_array(), (size_t)limit, 0, x->now, false, x->me.customer};
    struct kw_err err = {0};
    if (kw_store_overruns(x->wk->st, &f, overrun_add, &l, &err) != KW_OK) {
        json_decref(l.items);
        return kwh_problem(&err);
    }
    if (id) {
        out = json_array_size(l.items) ? kwh_ok(200, json_incref(json_array_get(l.items, 0)))
                                       : kwh_problem_of(KW_NOT_FOUND, "", "no such overrun");
        json_decref(l.items);
        return out;
    }
    return kwh_ok(200, json_pack("{s:o, s:o}", "overruns", l.items, "next",
                                 l.more ? json_integer(l.last) : json_null()));
}

/* ---- explaining and following up ---- */

struct explain_unit {
    struct kw_actor who;
    int64_t id, now;
    const char *reason, *note;
    bool has_followup;
    struct kw_overrun_followup f;
};

static enum kw_code explain_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct explain_unit *e = ctx;
    struct kw_unit u = {.st = st, .now = e->now};
    return kw_overrun_explain(&u, &e->who, e->id, e->reason, e->note,
                              e->has_followup ? &e->f : NULL, err);
}

static struct kwh_reply overrun_patch(struct kwh_call *x, int64_t id)
{
    static const char *const keys[] = {"reason", "note", "followup", NULL};
    static const char *const fkeys[] = {"rca", "action", "owner_id", "due", "done", NULL};
    struct kwh_reply out;
    if (x->me.customer)
        return kwh_problem_of(KW_FORBIDDEN, "", "the provider explains its overruns");
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct explain_unit u = {.who = {.id = x->me.id,
                                     .org_id = x->me.org_id,
                                     .role = x->me.customer ? KW_ROLE_CUSTOMER : KW_ROLE_AGENT},
                             .id = id,
                             .now = x->now,
                             .f = {.due = KW_STORE_NO_TIME}};
    json_t *fu = json_object_get(j, "followup");
    struct kw_err err = {0};
    if (!kwh_only_members(j, keys, &out) || !kwh_opt_string(j, "reason", 32, &u.reason, &out) ||
        !kwh_opt_string(j, "note", 4000, &u.note, &out))
        goto done;
    if (fu) {
        const char *due = NULL;
        json_t *dn = json_object_get(fu, "done");
        if (!json_is_object(fu)) {
            out = kwh_problem_of(KW_INVALID, "/followup", "followup: expected an object");
            goto done;
        }
        if (!kwh_only_members(fu, fkeys, &out) ||
            !kwh_opt_string(fu, "rca", 4000, &u.f.rca, &out) ||
            !kwh_opt_string(fu, "action", 4000, &u.f.action, &out) ||
            !kwh_opt_id(fu, "owner_id", false, &u.f.owner_id, &out) ||
            !kwh_opt_string(fu, "due", 40, &due, &out)) {
            /* the pointers name followup's members */
            if (out.json && json_object_get(out.json, "pointer")) {
                char ptr[96];
                snprintf(ptr, sizeof(ptr), "/followup%s",
                         json_string_value(json_object_get(out.json, "pointer")));
                json_object_set_new(out.json, "pointer", json_string(ptr));
            }
            goto done;
        }
        if (due && kw_instant_parse(due, strlen(due), &u.f.due, &err) != KW_OK) {
            out = kwh_problemf(KW_INVALID, "/followup/due", "followup.due: %s", err.msg);
            goto done;
        }
        if (dn && !json_is_boolean(dn)) {
            out = kwh_problem_of(KW_INVALID, "/followup/done",
                                 "followup.done: expected true or false");
            goto done;
        }
        u.f.done = json_is_true(dn);
        u.has_followup = true;
    }
    if (kwh_write_unit(x, explain_unit, &u, &out)) {
        if (u.reason)
            kw_engine_kick(x->h->engine);
        out = overrun_list(x, id);
    }
done:
    json_decref(j);
    return out;
}

/* ---- routing under /api/v1/overruns (the table is in routes.c) ---- */

struct kwh_reply kwh_overruns_list(struct kwh_call *x)
{
    return overrun_list(x, 0);
}

struct kwh_reply kwh_overrun_get(struct kwh_call *x)
{
    return overrun_list(x, x->arg.id);
}

struct kwh_reply kwh_overrun_patch(struct kwh_call *x)
{
    return overrun_patch(x, x->arg.id);
}
