// SPDX-License-Identifier: MIT
/* /api/v1/overruns: breached commitments (超时处理). The engine opens one
 * per breached clock run; staff record why (a reason category and a note,
 * which the customer is told in Chinese and English on the ticket and
 * through the notification endpoints) and follow it up (root cause,
 * improvement action, owner, due date) until done. Customers read their own
 * organisation's, without the follow-up. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "internal.h"
#include "tickets.h"
#include "watch.h"

static const char *state_of(const struct kw_overrun_row *r)
{
    return r->done_at != KW_STORE_NO_TIME ? "done" : r->reason ? "explained" : "open";
}

struct listing {
    json_t *items;
    size_t limit;
    int64_t last, now;
    bool more, customer;
    struct kw_watch_settings ws; /* the accident levels */
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
    const char *level = kw_accident_level(&l->ws, r->loss);
    json_object_set_new(j, "loss", r->loss >= 0 ? json_integer(r->loss) : json_null());
    json_object_set_new(j, "accident", kwh_nullable(level));
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
    struct listing l = {json_array(), (size_t)limit, 0, x->now, false, x->me.customer, {0}};
    struct kw_err err = {0};
    if (kw_store_watch_settings(x->wk->st, &l.ws, &err) != KW_OK ||
        kw_store_overruns(x->wk->st, &f, overrun_add, &l, &err) != KW_OK) {
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
    struct kw_http *h;
    struct kw_actor who;
    int64_t id, now;
    const char *reason, *note;
    bool has_followup;
    struct kw_overrun_followup f;
    int64_t loss; /* -2: not given; -1: null (remove it) */
};

static enum kw_code explain_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct explain_unit *e = ctx;
    /* the commitment's clocks word the notice (metric label, local time) */
    struct kw_unit u = {.st = st, .clocks = e->h->clocks, .sla = &e->h->wsla, .now = e->now};
    if (e->loss != -2) {
        enum kw_code rc = kw_overrun_loss_save(&u, &e->who, e->id, e->loss, err);
        if (rc != KW_OK || (!e->reason && !e->note && !e->has_followup))
            return rc;
    }
    return kw_overrun_explain(&u, &e->who, e->id, e->reason, e->note,
                              e->has_followup ? &e->f : NULL, err);
}

#define EXPLAIN(m) offsetof(struct explain_unit, m)
static const struct kwh_field followup_fields[] = {
    {.name = "rca", .type = KWH_STR, .max = 4000, .offset = EXPLAIN(f.rca)},
    {.name = "action", .type = KWH_STR, .max = 4000, .offset = EXPLAIN(f.action)},
    {.name = "owner_id", .type = KWH_ID, .offset = EXPLAIN(f.owner_id)},
    {.name = "due", .type = KWH_TIME, .offset = EXPLAIN(f.due)},
    {.name = "done", .type = KWH_BOOL, .offset = EXPLAIN(f.done)},
};
static const struct kwh_field explain_fields[] = {
    {.name = "reason", .type = KWH_STR, .max = 32, .offset = EXPLAIN(reason)},
    {.name = "note", .type = KWH_STR, .max = 4000, .offset = EXPLAIN(note)},
    {.name = "followup",
     .type = KWH_OBJ,
     .offset = EXPLAIN(has_followup),
     .sub = followup_fields,
     .nsub = KWH_NFIELDS(followup_fields)},
    {.name = "loss",
     .type = KWH_INT,
     .nullable = true,
     .lo = 0,
     .hi = 1000000000000000,
     .offset = EXPLAIN(loss),
     .expect = "expected a loss in minor units, 0-10^15, or null"},
};
#undef EXPLAIN

static struct kwh_reply overrun_patch(struct kwh_call *x, int64_t id)
{
    struct kwh_reply out;
    if (x->me.customer)
        return kwh_problem_of(KW_FORBIDDEN, "", "the provider explains its overruns");
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct explain_unit u = {.h = x->h,
                             .who = kwh_actor(x),
                             .id = id,
                             .now = x->now,
                             .f = {.due = KW_STORE_NO_TIME},
                             .loss = -2};
    if (kwh_decode(j, explain_fields, KWH_NFIELDS(explain_fields), &u, &out) &&
        kwh_write_unit(x, explain_unit, &u, &out)) {
        if (u.reason)
            kw_engine_kick(x->h->engine);
        out = overrun_list(x, id);
    }
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
