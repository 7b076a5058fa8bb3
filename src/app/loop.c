// SPDX-License-Identifier: MIT
/* The wait for confirmation, the call-back desk and follow-up tasks; see
 * loop.h. */
#include "loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "tickets.h"

bool kw_loop_confirm_state(const struct kw_compiled *k, const struct kw_ticket_events *te,
                           struct kw_confirm_plan *plan, bool *reminded)
{
    const struct kw_confirm_terms *t = kw_policy_confirm(k->p);
    if (!t->on || te->feedback_since == KW_NO_TIME || !k->cals[t->calendar])
        return false;
    /* past the horizon (a century away) nothing falls due */
    if (kw_confirm_plan(t, k->cals[t->calendar], te->feedback_since, plan, NULL) != KW_OK)
        return false;
    *reminded = te->reminded;
    return true;
}

int kw_loop_callback_metric(const struct kw_policy *p)
{
    for (size_t m = 0; m < kw_policy_metric_count(p); m++) {
        const char *const *stops;
        size_t n = kw_policy_metric_stops(p, m, &stops);
        for (size_t i = 0; i < n; i++)
            if (strcmp(stops[i], "callback_done") == 0)
                return (int)m;
    }
    return -1;
}

/* Queue notification `kind` about ticket t with event body r. */
static enum kw_code notify(struct kw_store *st, const char *kind, const struct kw_ticket_row *t,
                           const struct kw_event_rec *r, int64_t team, const char *key, int64_t now,
                           struct kw_err *err)
{
    json_t *body = kw_event_encode(r, err);
    if (!body)
        return err->code;
    json_t *note = json_pack("{s:s, s:{s:I, s:s, s:I, s:s}, s:o}", "kind", kind, "ticket", "id",
                             (json_int_t)t->id, "title", t->title, "org_id", (json_int_t)t->org_id,
                             "level", t->level ? t->level : "", "event", body);
    char *payload = note ? json_dumps(note, JSON_COMPACT) : NULL;
    enum kw_code rc =
        payload ? kw_store_outbox_add(st, kind, t->id, t->org_id, team, payload, key, now, err)
                : kw_err_set(err, KW_NOMEM, "", "no memory for the notification");
    free(payload);
    json_decref(note);
    return rc;
}

/* The ticket, which must be in feedback, with its title kept. */
static enum kw_code in_feedback(struct kw_store *st, int64_t ticket, struct kw_ticket_row *t,
                                char *title, size_t cap, struct kw_err *err)
{
    enum kw_code rc = kw_store_ticket_get(st, ticket, t, err);
    if (rc != KW_OK)
        return rc;
    if (!t->state || strcmp(t->state, "feedback") != 0)
        return kw_err_set(err, KW_CONFLICT, "/state",
                          "the ticket is %s: no resolution waits for confirmation",
                          t->state ? t->state : "?");
    snprintf(title, cap, "%s", t->title ? t->title : "");
    t->title = title;
    t->level = NULL;
    t->state = NULL;
    return KW_OK;
}

enum kw_code kw_loop_remind(struct kw_store *st, int64_t ticket, int64_t due, int64_t deadline,
                            int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ticket_row t;
    char title[512], key[96];
    enum kw_code rc = in_feedback(st, ticket, &t, title, sizeof(title), err);
    struct kw_event_rec r = {
        .kind = KW_EVENT_CONFIRM_REMINDER, .due_at = due, .deadline = deadline};
    if (rc == KW_OK)
        rc = kw_app_append(st, ticket, &r, 0, now, NULL, err);
    snprintf(key, sizeof(key), "t%lld-confirm-remind-%lld", (long long)ticket, (long long)due);
    return rc == KW_OK ? notify(st, "confirm_reminder", &t, &r, 0, key, now, err) : rc;
}

enum kw_code kw_loop_timeout(struct kw_store *st, int64_t ticket, int64_t due, int64_t deadline,
                             int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ticket_row t;
    char title[512], key[96];
    enum kw_code rc = in_feedback(st, ticket, &t, title, sizeof(title), err);
    struct kw_event_rec r = {.kind = KW_EVENT_CONFIRM_TIMEOUT, .due_at = due, .deadline = deadline};
    struct kw_event_rec move = {.kind = KW_EVENT_STATE,
                                .state = "archived",
                                .from = "feedback",
                                .reason = "confirmed by timeout"};
    struct kw_event_rec m1 = {.kind = KW_EVENT_MILESTONE, .milestone = "confirmed_by_timeout"};
    struct kw_event_rec m2 = {.kind = KW_EVENT_MILESTONE, .milestone = "closed"};
    /* never customer_confirmed: the customer did not sign */
    if (rc == KW_OK)
        rc = kw_app_append(st, ticket, &r, 0, now, NULL, err);
    if (rc == KW_OK)
        rc = kw_app_append(st, ticket, &move, 0, now, "archived", err);
    if (rc == KW_OK)
        rc = kw_app_append(st, ticket, &m1, 0, now, NULL, err);
    if (rc == KW_OK)
        rc = kw_app_append(st, ticket, &m2, 0, now, NULL, err);
    snprintf(key, sizeof(key), "t%lld-confirm-timeout-%lld", (long long)ticket, (long long)due);
    return rc == KW_OK ? notify(st, "confirm_timeout", &t, &r, 0, key, now, err) : rc;
}

/* Refresh the projection and note when the next threshold falls due. */
static enum kw_code project(struct kw_unit *u, int64_t ticket, struct kw_err *err)
{
    enum kw_code rc = kw_clocks_project(u->clocks, u->st, u->sla, ticket, u->now, NULL, err);
    return rc == KW_OK ? kw_store_fire_at(u->st, ticket, &u->fire_at, err) : rc;
}

/* ---- the call-back ---- */

static bool status_scan(const struct kw_stored_event *ev, void *ctx)
{
    struct kw_callback_status *s = ctx;
    struct kw_event_rec r;
    json_t *b;
    if (kw_event_decode(ev->type, ev->body, &r, &b, NULL) != KW_OK)
        return true;
    if ((r.kind == KW_EVENT_MILESTONE && r.milestone && strcmp(r.milestone, "closed") == 0) ||
        r.kind == KW_EVENT_REOPENED)
        *s =
            (struct kw_callback_status){.last_at = KW_NO_TIME}; /* a new closing, a new call-back */
    else if (r.kind == KW_EVENT_CALLBACK) {
        s->calls++;
        s->attempts += !r.reached;
        s->done = s->done || r.reached;
        s->last_at = ev->at;
    }
    json_decref(b);
    return true;
}

enum kw_code kw_callback_status_read(struct kw_store *st, int64_t ticket,
                                     struct kw_callback_status *out, struct kw_err *err)
{
    *out = (struct kw_callback_status){.last_at = KW_NO_TIME};
    return kw_store_events(st, ticket, status_scan, out, err);
}

struct clock_find {
    const char *metric;
    bool runs;
};

static bool clock_row(const struct kw_clock_row *c, void *ctx)
{
    struct clock_find *f = ctx;
    if (strcmp(c->metric, f->metric) == 0)
        f->runs = strcmp(c->status, "running") == 0 || strcmp(c->status, "breached") == 0;
    return true;
}

static bool lead_row(const struct kw_named_row *r, void *ctx)
{
    *(int64_t *)ctx = r->ref;
    return false;
}

enum kw_code kw_ticket_callback(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                const struct kw_callback_in *in, int *attempt, int *task,
                                struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ticket_row t;
    *attempt = *task = 0;
    enum kw_code rc = kw_store_ticket_get(u->st, ticket, &t, err);
    if (rc == KW_NOT_FOUND || (rc == KW_OK && !kw_app_visible(who, t.org_id)))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such ticket");
    if (rc != KW_OK)
        return rc;
    if (kw_actor_customer(who) || who->role == KW_ROLE_SYSTEM)
        return kw_err_set(err, KW_FORBIDDEN, "", "call-backs are recorded by the provider's staff");
    int64_t team = t.team_id, commitment = t.commitment_id;
    const struct kw_compiled *k =
        commitment ? kw_clocks_commitment(u->clocks, u->st, commitment, err) : NULL;
    if (commitment && !k)
        return err->code;
    int m = k ? kw_loop_callback_metric(k->p) : -1;
    struct clock_find f = {m >= 0 ? kw_policy_metric_id(k->p, (size_t)m) : "", false};
    if (m >= 0 && (rc = kw_store_ticket_clocks(u->st, ticket, clock_row, &f, err)) != KW_OK)
        return rc;
    struct kw_callback_status s;
    if ((rc = kw_callback_status_read(u->st, ticket, &s, err)) != KW_OK)
        return rc;
    if (!f.runs && !s.done)
        return kw_err_set(err, KW_CONFLICT, "",
                          "no call-back is due on this ticket: its call-back clock does not run "
                          "(it starts when the ticket is closed)");
    int max = k ? kw_policy_confirm(k->p)->callback_attempts : 3;
    if ((rc = kw_callback_check(in, s.attempts, s.done, max, err)) != KW_OK)
        return rc;
    *attempt = s.calls + 1;
    struct kw_event_rec r = {.kind = KW_EVENT_CALLBACK,
                             .attempt = *attempt,
                             .reached = in->reached,
                             .satisfaction = in->satisfaction,
                             .nps = in->nps,
                             .note = in->note,
                             .follow_up = in->follow_up};
    if ((rc = kw_app_append(u->st, ticket, &r, who->id, u->now, NULL, err)) != KW_OK ||
        !in->reached)
        return rc == KW_OK ? project(u, ticket, err) : rc;
    struct kw_event_rec done = {.kind = KW_EVENT_MILESTONE, .milestone = "callback_done"};
    struct kw_event_rec rating = {.kind = KW_EVENT_RATING,
                                  .satisfaction = in->satisfaction,
                                  .nps = in->nps,
                                  .text = in->note,
                                  .source = "callback"};
    if ((rc = kw_app_append(u->st, ticket, &done, who->id, u->now, NULL, err)) != KW_OK ||
        (rc = kw_app_append(u->st, ticket, &rating, who->id, u->now, NULL, err)) != KW_OK)
        return rc;
    if (kw_callback_dissatisfied(in->satisfaction, in->nps)) {
        struct kw_tasks l;
        if ((rc = kw_tasks_read(u->st, ticket, &l, err)) != KW_OK)
            return rc;
        *task = (int)l.n + 1;
        kw_tasks_release(&l);
        if (*task > KW_TASKS_MAX)
            return kw_err_set(err, KW_CONFLICT, "", "the ticket has %d tasks, the most it keeps",
                              KW_TASKS_MAX);
        int64_t lead = 0;
        if (team && (rc = kw_store_teams(u->st, team, lead_row, &lead, err)) != KW_OK)
            return rc;
        char text[2200];
        snprintf(text, sizeof(text), "%s",
                 in->follow_up && *in->follow_up ? in->follow_up
                                                 : "dissatisfied call-back: follow up with the "
                                                   "customer");
        struct kw_event_rec op = {.kind = KW_EVENT_TASK_OPENED,
                                  .task = *task,
                                  .action = "callback_followup",
                                  .user_id = lead,
                                  .team_id = team,
                                  .note = text};
        char title[512], key[96];
        if ((rc = kw_store_ticket_get(u->st, ticket, &t, err)) != KW_OK)
            return rc;
        snprintf(title, sizeof(title), "%s", t.title ? t.title : "");
        t.title = title;
        t.level = NULL;
        snprintf(key, sizeof(key), "t%lld-task-%d", (long long)ticket, *task);
        if ((rc = kw_app_append(u->st, ticket, &op, who->id, u->now, NULL, err)) != KW_OK ||
            (rc = notify(u->st, "task_opened", &t, &op, team, key, u->now, err)) != KW_OK)
            return rc;
    }
    return project(u, ticket, err);
}

/* ---- follow-up tasks ---- */

static bool task_row(const struct kw_stored_event *ev, void *ctx)
{
    struct kw_tasks *l = ctx;
    struct kw_event_rec r;
    json_t *b;
    if (strncmp(ev->type, "task_", 5) != 0 ||
        kw_event_decode(ev->type, ev->body, &r, &b, NULL) != KW_OK)
        return true;
    if (l->n_docs == 2 * KW_TASKS_MAX) {
        json_decref(b);
        return false;
    }
    l->docs[l->n_docs++] = b;
    if (r.kind == KW_EVENT_TASK_OPENED && l->n < KW_TASKS_MAX)
        l->t[l->n++] = (struct kw_task){.n = r.task,
                                        .kind = r.action,
                                        .note = r.note,
                                        .assignee_id = r.user_id,
                                        .team_id = r.team_id,
                                        .opened_at = ev->at,
                                        .opened_by = ev->actor,
                                        .done_at = KW_NO_TIME};
    else if (r.kind == KW_EVENT_TASK_DONE)
        for (size_t i = 0; i < l->n; i++)
            if (l->t[i].n == r.task) {
                l->t[i].done_at = ev->at;
                l->t[i].done_by = ev->actor;
                l->t[i].done_note = r.note;
            }
    return true;
}

enum kw_code kw_tasks_read(struct kw_store *st, int64_t ticket, struct kw_tasks *out,
                           struct kw_err *err)
{
    memset(out, 0, sizeof(*out));
    return kw_store_events(st, ticket, task_row, out, err);
}

void kw_tasks_release(struct kw_tasks *l)
{
    for (size_t i = 0; i < l->n_docs; i++)
        json_decref(l->docs[i]);
    memset(l, 0, sizeof(*l));
}

enum kw_code kw_ticket_task_done(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                 int task, const char *note, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(u->st, ticket, &t, err);
    if (rc == KW_NOT_FOUND || (rc == KW_OK && !kw_app_visible(who, t.org_id)))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such ticket");
    if (rc != KW_OK)
        return rc;
    if (kw_actor_customer(who) || who->role == KW_ROLE_SYSTEM)
        return kw_err_set(err, KW_FORBIDDEN, "", "follow-up tasks are the provider's staff's");
    if (note && strlen(note) > 2000)
        return kw_err_set(err, KW_INVALID, "/note", "note: at most 2000 bytes");
    struct kw_tasks l;
    if ((rc = kw_tasks_read(u->st, ticket, &l, err)) != KW_OK)
        return rc;
    const struct kw_task *found = NULL;
    for (size_t i = 0; i < l.n; i++)
        if (l.t[i].n == task)
            found = &l.t[i];
    bool done = found && found->done_at != KW_NO_TIME;
    kw_tasks_release(&l);
    if (!found)
        return kw_err_set(err, KW_NOT_FOUND, "", "ticket %lld has no task %d", (long long)ticket,
                          task);
    if (done)
        return kw_err_set(err, KW_CONFLICT, "", "task %d is done already", task);
    struct kw_event_rec r = {.kind = KW_EVENT_TASK_DONE, .task = task, .note = note};
    if ((rc = kw_app_append(u->st, ticket, &r, who->id, u->now, NULL, err)) != KW_OK)
        return rc;
    return project(u, ticket, err);
}
