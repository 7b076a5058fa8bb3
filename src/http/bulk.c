// SPDX-License-Identifier: MIT
/* POST /api/v1/tickets/bulk: assign, move or change the level of up to
 * BULK_MAX tickets at once. One unit on the writer; each ticket in its own
 * savepoint, through the same app/tickets.h actions as one ticket's PATCH
 * and transition, so each ticket gets its own events and a ticket that is
 * refused (unknown, a move the workflow does not allow, a level its
 * commitment does not know) is reported and leaves the others done. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tickets.h"
#include "workflow.h"

#define BULK_MAX 100

struct bulk_item {
    int64_t id, fire_at;
    struct kw_err err; /* code KW_OK: done */
    bool changed;      /* something was written */
};

struct bulk_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t now;
    struct kw_ticket_change c; /* level, assignee, team, reason */
    bool change, move;
    enum kw_state to;
    struct bulk_item item[BULK_MAX];
    size_t n;
};

/* One ticket: the change, then the move (none when it is there already). */
static enum kw_code one(struct bulk_unit *b, struct kw_unit *u, struct bulk_item *it)
{
    struct kw_ticket_row t;
    if (kw_store_ticket_get(u->st, it->id, &t, &it->err) != KW_OK)
        return it->err.code == KW_NOT_FOUND
                   ? kw_err_set(&it->err, KW_NOT_FOUND, "", "no such ticket")
                   : it->err.code;
    bool there = strcmp(t.state, kw_state_name(b->to)) == 0;
    if (b->change && kw_ticket_change(u, &b->who, it->id, &b->c, &it->err) != KW_OK)
        return it->err.code;
    if (b->move && !there) {
        struct kw_move mv;
        if (kw_ticket_move(u, &b->who, it->id, b->to, b->c.reason, &mv, &it->err) != KW_OK)
            return it->err.code;
    }
    return KW_OK;
}

static enum kw_code bulk_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct bulk_unit *b = ctx;
    for (size_t i = 0; i < b->n; i++) {
        struct bulk_item *it = &b->item[i];
        struct kw_unit u = {.st = st,
                            .clocks = b->h->clocks,
                            .sla = &b->h->wsla,
                            .now = b->now,
                            .fire_at = KW_STORE_NO_TIME};
        it->err = (struct kw_err){0};
        if (kw_store_savepoint(st, err) != KW_OK)
            return err->code;
        enum kw_code rc = one(b, &u, it);
        /* its writes not sent yet (PostgreSQL's pipeline) go now: one that
         * fails fails this ticket, not the next one's first statement */
        if (rc == KW_OK)
            rc = kw_store_flush(st, &it->err);
        it->fire_at = u.fire_at;
        if (kw_store_release(st, rc == KW_OK, err) != KW_OK)
            return err->code;
        it->err.code = rc;
    }
    return KW_OK;
}

/* The refusal's stable code, for the UI to say it in the reader's language
 * (docs/api.md "Bulk changes"): what was refused, not the wording. */
static const char *refusal_code(const struct kw_err *e)
{
    static const struct {
        enum kw_code code;
        const char *field, *name;
    } known[] = {
        {KW_NOT_FOUND, "", "not_found"},
        {KW_CONFLICT, "/to", "move_not_allowed"},
        {KW_INVALID, "/to", "move_not_allowed"},
        {KW_INVALID, "/level", "level_unknown"},
        {KW_NOT_FOUND, "/assignee_id", "assignee_unknown"},
        {KW_INVALID, "/assignee_id", "assignee_not_staff"},
        {KW_NOT_FOUND, "/team_id", "team_unknown"},
        {KW_FORBIDDEN, "", "forbidden"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].code == e->code && strcmp(known[i].field, e->field) == 0)
            return known[i].name;
    return "other";
}

struct bulk_in {
    json_t *ids;
    const char *level, *state, *reason;
    int64_t assignee_id, team_id;
};

#define BULK(m) offsetof(struct bulk_in, m)
static const struct kwh_field bulk_fields[] = {
    {.name = "ids",
     .type = KWH_ANY,
     .required = true,
     .offset = BULK(ids),
     .missing = "missing (the tickets, an array of 1 to 100 ids)"},
    {.name = "assignee_id", .type = KWH_ID, .nullable = true, .offset = BULK(assignee_id)},
    {.name = "team_id", .type = KWH_ID, .nullable = true, .offset = BULK(team_id)},
    {.name = "level", .type = KWH_STR, .max = 47, .offset = BULK(level)},
    {.name = "state", .type = KWH_STR, .max = 32, .offset = BULK(state)},
    {.name = "reason", .type = KWH_STR, .max = 2000, .offset = BULK(reason)},
};
#undef BULK

static bool read_ids(json_t *ids, struct bulk_unit *b, struct kwh_reply *fail)
{
    if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > BULK_MAX) {
        *fail = json_is_array(ids) && json_array_size(ids) > BULK_MAX
                    ? kwh_problemf(KW_TOO_BIG, "/ids",
                                   "ids: %zu tickets; at most %d in one call (send the rest in "
                                   "another)",
                                   json_array_size(ids), BULK_MAX)
                    : kwh_problem_of(KW_INVALID, "/ids", "ids: expected an array of 1 to 100 ids");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        char ptr[16];
        snprintf(ptr, sizeof(ptr), "/ids/%zu", i);
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            *fail = kwh_problemf(KW_INVALID, ptr, "ids[%zu]: expected a ticket id", i);
            return false;
        }
        int64_t id = json_integer_value(v);
        for (size_t j = 0; j < i; j++)
            if (b->item[j].id == id) {
                *fail = kwh_problemf(KW_INVALID, ptr, "ids[%zu]: ticket %lld is named twice", i,
                                     (long long)id);
                return false;
            }
        b->item[i].id = id;
    }
    b->n = json_array_size(ids);
    return true;
}

struct kwh_reply kwh_tickets_bulk(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct bulk_in in = {0};
    struct bulk_unit *b = calloc(1, sizeof(*b));
    if (!b) {
        json_decref(j);
        return kwh_problem_of(KW_NOMEM, "", "no memory for the tickets");
    }
    if (!kwh_decode(j, bulk_fields, KWH_NFIELDS(bulk_fields), &in, &out) ||
        !read_ids(in.ids, b, &out))
        goto out;
    if (in.state && !kw_state_parse(in.state, strlen(in.state), &b->to)) {
        out = kwh_problem_of(KW_INVALID, "/state",
                             "state: expected analysing, handling, feedback, archived or "
                             "waiting_customer");
        goto out;
    }
    b->h = x->h;
    b->who = kwh_actor(x);
    b->now = x->now;
    b->c = (struct kw_ticket_change){.level = in.level,
                                     .reason = in.reason,
                                     .assignee_id = in.assignee_id,
                                     .team_id = in.team_id};
    b->change = in.level || in.assignee_id || in.team_id;
    b->move = in.state != NULL;
    if (!b->change && !b->move) {
        out = kwh_problem_of(KW_INVALID, "",
                             "nothing to change: give assignee_id, team_id, level or state");
        goto out;
    }
    if (!kwh_write_unit(x, bulk_unit, b, &out))
        goto out;
    json_t *list = json_array();
    size_t done = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct bulk_item *it = &b->item[i];
        json_t *r = json_pack("{s:I}", "id", (json_int_t)it->id);
        if (it->err.code == KW_OK) {
            done++;
            kw_engine_schedule(x->h->engine, it->id, it->fire_at);
            struct kw_ticket_row t;
            struct kw_err err = {0};
            json_object_set_new(r, "status", json_integer(200));
            if (kw_store_ticket_get(x->wk->st, it->id, &t, &err) == KW_OK) {
                json_object_set_new(r, "state", json_string(t.state));
                json_object_set_new(r, "level", json_string(t.level));
                json_object_set_new(r, "assignee_id", kwh_id_or_null(t.assignee_id));
                json_object_set_new(r, "team_id", kwh_id_or_null(t.team_id));
            }
        } else {
            struct kwh_reply p = kwh_problem(&it->err);
            const char *code = refusal_code(&it->err);
            json_object_set_new(r, "status", json_integer(p.status));
            json_object_set_new(r, "code", json_string(code));
            json_object_set(r, "detail", json_object_get(p.json, "detail"));
            struct kw_ticket_row t;
            struct kw_err err = {0};
            if (strcmp(code, "move_not_allowed") == 0 &&
                kw_store_ticket_get(x->wk->st, it->id, &t, &err) == KW_OK)
                json_object_set_new(r, "state", json_string(t.state));
            json_object_set(r, "pointer", json_object_get(p.json, "pointer"));
            json_decref(p.json);
        }
        json_array_append_new(list, r);
    }
    kw_store_end_read(x->wk->st);
    kwh_log_event(x->h, "mod=tickets event=tickets.bulk actor=%lld tickets=%zu done=%zu",
                  (long long)x->me.id, b->n, done);
    out = kwh_ok(200, json_pack("{s:o, s:I, s:I}", "results", list, "done", (json_int_t)done,
                                "refused", (json_int_t)(b->n - done)));
out:
    free(b);
    json_decref(j);
    return out;
}
