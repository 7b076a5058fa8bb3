// SPDX-License-Identifier: MIT
/* The call-back desk (回访) and follow-up tasks: the list of tickets whose
 * call-back clock runs, recording a call, a ticket's tasks and marking one
 * done. Staff only (the route table says so); the rules are app/loop.h's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "loop.h"

static struct kw_unit unit_of(struct kw_http *h, struct kw_store *st, int64_t now)
{
    return (struct kw_unit){
        .st = st, .clocks = h->clocks, .sla = &h->wsla, .now = now, .fire_at = KW_STORE_NO_TIME};
}

/* ---- GET /api/v1/callbacks ---- */

#define METRICS_MAX 16
struct metrics {
    struct kw_http *h;
    struct kw_store *st;
    const char *id[METRICS_MAX];
    int64_t commitment[METRICS_MAX];
    size_t n;
};

/* The call-back metric of each commitment version, once per name. */
static bool metric_of(const struct kw_commitment_row *c, void *ctx)
{
    struct metrics *m = ctx;
    if (m->n == METRICS_MAX)
        return false;
    m->commitment[m->n++] = c->id;
    return true;
}

struct row {
    int64_t ticket, deadline;
    char metric[KW_POLICY_ID_MAX], status[16];
};
#define ROWS_MAX 500
struct rows {
    struct row r[ROWS_MAX];
    size_t n;
};

static bool add_row(int64_t ticket, const struct kw_clock_row *c, void *ctx)
{
    struct rows *l = ctx;
    if (l->n == ROWS_MAX)
        return false;
    struct row *r = &l->r[l->n++];
    r->ticket = ticket;
    r->deadline = c->deadline;
    snprintf(r->metric, sizeof(r->metric), "%s", c->metric);
    snprintf(r->status, sizeof(r->status), "%s", c->status);
    return true;
}

static int by_deadline(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int64_t dx = x->deadline == KW_STORE_NO_TIME ? INT64_MAX : x->deadline;
    int64_t dy = y->deadline == KW_STORE_NO_TIME ? INT64_MAX : y->deadline;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    return x->ticket < y->ticket ? -1 : x->ticket > y->ticket;
}

static json_t *row_json(struct kwh_call *x, const struct row *r, int max_attempts)
{
    struct kw_err err = {0};
    struct kw_ticket_row t;
    if (kw_store_ticket_get(x->wk->st, r->ticket, &t, &err) != KW_OK)
        return NULL;
    json_t *j = json_pack(
        "{s:I, s:s, s:I, s:s, s:o, s:o, s:s, s:s, s:o, s:o}", "ticket", (json_int_t)t.id, "title",
        t.title, "org_id", (json_int_t)t.org_id, "level", t.level ? t.level : "", "team_id",
        t.team_id ? json_integer(t.team_id) : json_null(), "assignee_id",
        t.assignee_id ? json_integer(t.assignee_id) : json_null(), "metric", r->metric, "status",
        r->status, "deadline", kwh_instant_json(r->deadline), "left",
        r->deadline == KW_STORE_NO_TIME ? json_null() : json_integer(r->deadline - x->now));
    struct kw_org o;
    json_object_set_new(j, "org_name",
                        kw_store_org_get(x->wk->st,
                                         json_integer_value(json_object_get(j, "org_id")), &o,
                                         &err) == KW_OK
                            ? json_string(o.name)
                            : json_null());
    struct kw_callback_status s;
    if (kw_callback_status_read(x->wk->st, r->ticket, &s, &err) == KW_OK) {
        json_object_set_new(j, "attempts", json_integer(s.attempts));
        json_object_set_new(j, "attempts_left", json_integer(max_attempts - s.attempts));
        json_object_set_new(
            j, "last_call_at",
            kwh_instant_json(s.last_at == KW_NO_TIME ? KW_STORE_NO_TIME : s.last_at));
    }
    return j;
}

struct kwh_reply kwh_callbacks_list(struct kwh_call *x)
{
    long long team = 0, limit = 100;
    struct kwh_reply fail;
    if (!kwh_query_int(x, "team_id", 1, INT64_MAX, &team, &fail) ||
        !kwh_query_int(x, "limit", 1, ROWS_MAX, &limit, &fail))
        return fail;
    struct kw_err err = {0};
    struct metrics m = {.h = x->h, .st = x->wk->st};
    if (kw_store_commitments(x->wk->st, metric_of, &m, &err) != KW_OK)
        return kwh_problem(&err);
    /* each commitment's call-back metric, by name: a name listed once */
    const char *names[METRICS_MAX];
    int attempts[METRICS_MAX];
    size_t nn = 0;
    for (size_t i = 0; i < m.n; i++) {
        const struct kw_compiled *k = kwh_policy_for(x->h, x->wk->st, m.commitment[i], &err);
        int mi = k ? kw_loop_callback_metric(k->p) : -1;
        if (mi < 0)
            continue;
        const char *id = kw_policy_metric_id(k->p, (size_t)mi);
        bool seen = false;
        for (size_t j = 0; j < nn && !seen; j++)
            seen = strcmp(names[j], id) == 0;
        if (!seen) {
            attempts[nn] = kw_policy_confirm(k->p)->callback_attempts;
            names[nn++] = id;
        }
    }
    struct rows *l = calloc(1, sizeof(*l));
    if (!l)
        return kwh_problem_of(KW_NOMEM, "", "no memory for the list");
    for (size_t i = 0; i < nn; i++)
        if (kw_store_clock_runs(x->wk->st, names[i], team, (size_t)limit, add_row, l, &err) !=
            KW_OK) {
            free(l);
            return kwh_problem(&err);
        }
    qsort(l->r, l->n, sizeof(l->r[0]), by_deadline);
    json_t *list = json_array();
    for (size_t i = 0; i < l->n && json_array_size(list) < (size_t)limit; i++) {
        int max = 3;
        for (size_t j = 0; j < nn; j++)
            if (strcmp(names[j], l->r[i].metric) == 0)
                max = attempts[j];
        json_t *j = row_json(x, &l->r[i], max);
        /* tried as often as allowed: off the desk (the clock tells the rest) */
        if (j && json_integer_value(json_object_get(j, "attempts_left")) <= 0)
            json_decref(j);
        else if (j)
            json_array_append_new(list, j);
    }
    free(l);
    return kwh_ok(200,
                  json_pack("{s:o, s:o}", "as_of", kwh_instant_json(x->now), "callbacks", list));
}

/* ---- POST /api/v1/tickets/{id}/callbacks ---- */

struct call_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t ticket, now, fire_at;
    struct kw_callback_in in;
    int attempt, task;
};

static enum kw_code call_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct call_unit *c = ctx;
    struct kw_unit u = unit_of(c->h, st, c->now);
    enum kw_code rc =
        kw_ticket_callback(&u, &c->who, c->ticket, &c->in, &c->attempt, &c->task, err);
    c->fire_at = u.fire_at;
    return rc;
}

struct call_in {
    bool reached, has_reached;
    int64_t satisfaction, nps;
    const char *note, *follow_up;
};
#define CALL(m) offsetof(struct call_in, m)
static const struct kwh_field call_fields[] = {
    {.name = "reached", .type = KWH_BOOL, .offset = CALL(reached)},
    {.name = "satisfaction",
     .type = KWH_INT,
     .nullable = true,
     .lo = 1,
     .hi = 5,
     .offset = CALL(satisfaction),
     .expect = "expected a whole number from 1 to 5"},
    {.name = "nps",
     .type = KWH_INT,
     .nullable = true,
     .lo = 0,
     .hi = 10,
     .offset = CALL(nps),
     .expect = "expected a whole number from 0 to 10 (or null)"},
    {.name = "note", .type = KWH_STR, .max = 2000, .offset = CALL(note)},
    {.name = "follow_up", .type = KWH_STR, .max = 2000, .offset = CALL(follow_up)},
};
#undef CALL

struct kwh_reply kwh_ticket_callback(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct call_in in = {.satisfaction = -1, .nps = -1};
    if (!kwh_decode(j, call_fields, KWH_NFIELDS(call_fields), &in, &out))
        goto done;
    if (!json_is_boolean(json_object_get(j, "reached"))) {
        out = kwh_problem_of(KW_INVALID, "/reached",
                             "reached: missing (true when the customer answered, false when not)");
        goto done;
    }
    struct call_unit u = {.h = x->h,
                          .who = kwh_actor(x),
                          .ticket = x->arg.id,
                          .now = x->now,
                          .in = {.reached = in.reached,
                                 .satisfaction = in.satisfaction < 0 ? 0 : (int)in.satisfaction,
                                 .nps = (int)in.nps,
                                 .note = in.note,
                                 .follow_up = in.follow_up}};
    if (kwh_write_unit(x, call_unit, &u, &out)) {
        kw_engine_schedule(x->h->engine, x->arg.id, u.fire_at);
        kwh_log_event(x->h,
                      "mod=callbacks event=callback.recorded ticket=%lld attempt=%d reached=%d "
                      "task=%d actor=%lld",
                      (long long)x->arg.id, u.attempt, (int)u.in.reached, u.task,
                      (long long)x->me.id);
        out = kwh_ok(201, json_pack("{s:I, s:i, s:b, s:o}", "ticket", (json_int_t)x->arg.id,
                                    "attempt", u.attempt, "reached", u.in.reached, "task",
                                    u.task ? json_integer(u.task) : json_null()));
    }
done:
    json_decref(j);
    return out;
}

/* ---- tasks ---- */

static json_t *tasks_json(const struct kw_tasks *l)
{
    json_t *list = json_array();
    for (size_t i = 0; i < l->n; i++) {
        const struct kw_task *t = &l->t[i];
        bool done = t->done_at != KW_NO_TIME;
        json_array_append_new(
            list,
            json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:I, s:b, s:o, s:o, s:o}", "task", t->n,
                      "kind", t->kind ? t->kind : "", "note", kwh_nullable(t->note), "assignee_id",
                      t->assignee_id ? json_integer(t->assignee_id) : json_null(), "team_id",
                      t->team_id ? json_integer(t->team_id) : json_null(), "opened_at",
                      kwh_instant_json(t->opened_at), "opened_by", (json_int_t)t->opened_by, "done",
                      done, "done_at", kwh_instant_json(done ? t->done_at : KW_STORE_NO_TIME),
                      "done_by", done ? json_integer(t->done_by) : json_null(), "done_note",
                      kwh_nullable(t->done_note)));
    }
    return list;
}

static bool ticket_seen(struct kwh_call *x, struct kwh_reply *fail)
{
    struct kw_ticket_row t;
    struct kw_err err = {0};
    enum kw_code rc = kw_store_ticket_get(x->wk->st, x->arg.id, &t, &err);
    if (rc != KW_OK) {
        *fail = rc == KW_NOT_FOUND ? kwh_problem_of(KW_NOT_FOUND, "", "no such ticket")
                                   : kwh_problem(&err);
        return false;
    }
    return true;
}

struct kwh_reply kwh_ticket_tasks(struct kwh_call *x)
{
    struct kwh_reply fail;
    if (!ticket_seen(x, &fail))
        return fail;
    struct kw_tasks *l = malloc(sizeof(*l));
    struct kw_err err = {0};
    if (!l)
        return kwh_problem_of(KW_NOMEM, "", "no memory for the tasks");
    if (kw_tasks_read(x->wk->st, x->arg.id, l, &err) != KW_OK) {
        kw_tasks_release(l);
        free(l);
        return kwh_problem(&err);
    }
    json_t *list = tasks_json(l);
    kw_tasks_release(l);
    free(l);
    return kwh_ok(200, json_pack("{s:I, s:o}", "ticket", (json_int_t)x->arg.id, "tasks", list));
}

struct done_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t ticket, now, fire_at, task;
    const char *note;
};

static enum kw_code done_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct done_unit *d = ctx;
    struct kw_unit u = unit_of(d->h, st, d->now);
    enum kw_code rc = kw_ticket_task_done(&u, &d->who, d->ticket, (int)d->task, d->note, err);
    d->fire_at = u.fire_at;
    return rc;
}

#define DONE(m) offsetof(struct done_unit, m)
static const struct kwh_field done_fields[] = {
    {.name = "task",
     .type = KWH_INT,
     .required = true,
     .lo = 1,
     .hi = KW_TASKS_MAX,
     .offset = DONE(task),
     .expect = "expected the task's number (from 1)"},
    {.name = "note", .type = KWH_STR, .max = 2000, .offset = DONE(note)},
};
#undef DONE

struct kwh_reply kwh_ticket_task_done(struct kwh_call *x)
{
    struct kwh_reply out;
    if (!ticket_seen(x, &out))
        return out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct done_unit u = {.h = x->h, .who = kwh_actor(x), .ticket = x->arg.id, .now = x->now};
    if (kwh_decode(j, done_fields, KWH_NFIELDS(done_fields), &u, &out) &&
        kwh_write_unit(x, done_unit, &u, &out)) {
        kw_engine_schedule(x->h->engine, x->arg.id, u.fire_at);
        out = kwh_ticket_tasks(x);
    }
    json_decref(j);
    return out;
}
