// SPDX-License-Identifier: MIT
/* engine/clocks on a real store, with "now" passed in: thresholds fire once
 * and in order, a stopped clock fires nothing, escalation chains run their
 * steps in order and stop on acknowledgement, and what is due is projected.
 * (Pauses, holidays and weekends: tests/http/engine.sh.) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "calendars.h"
#include "fire.h"
#include "rota.h"
#include "store.h"
#include "testutil.h"
#include "tickets.h"

#define OFFICE                                                                                     \
    "{\"tz\":\"Asia/Shanghai\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]],\"tue\":[[\"09:00\","     \
    "\"18:00\"]],\"wed\":[[\"09:00\",\"18:00\"]],\"thu\":[[\"09:00\",\"18:00\"]],\"fri\":[["       \
    "\"09:00\",\"18:00\"]],\"sat\":[],\"sun\":[]}}"
static const char policy[] =
    "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00+08:00\","
    "\"calendars\":{\"office\":" OFFICE "},\"levels\":[\"L1\",\"L2\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"
    "\"warn_at\":[50,80]}],\"targets\":[{\"calendar\":\"office\",\"response\":\"2h\"}],"
    "\"escalations\":[{\"id\":\"late\",\"when\":{\"metric\":\"response\",\"percent\":100},"
    "\"steps\":[{\"notify\":\"assignee\"},{\"after\":\"30m\",\"raise_level\":true}]}]}";

struct fx {
    char dir[64], path[128];
    struct kw_store *st;
    struct kw_clocks *c;
    struct kw_sla sla;
    int64_t org, agent;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct kw_err err = {0};
    snprintf(f->dir, sizeof(f->dir), "/tmp/kw-clocks-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/kw.db", f->dir);
    f->st = kw_store_open(f->path, &err);
    f->c = kw_clocks_new(&err);
    kw_sla_init(&f->sla);
    struct kw_org org = {.name = "Acme"};
    struct kw_user agent = {.email = "a@x", .name = "a", .role = "agent"};
    int64_t cid;
    assert_int_equal(kw_store_org_insert(f->st, &org, 0, &f->org, &err), KW_OK);
    assert_int_equal(kw_store_user_insert(f->st, &agent, NULL, 0, &f->agent, &err), KW_OK);
    assert_int_equal(kw_store_commitment_insert(f->st, "t", "1", T("2026-01-01T00:00:00+08:00"),
                                                policy, 0, &cid, &err),
                     KW_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[160];
    kw_sla_release(&f->sla);
    kw_clocks_free(f->c);
    kw_store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

static int64_t open_ticket(struct fx *f, const char *at)
{
    struct kw_ticket_new t = {
        .org_id = f->org, .created_by = f->agent, .title = "x", .level = "L2", .at = T(at)};
    int64_t id;
    bool existed;
    struct kw_err err = {0};
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_OK);
    struct kw_ticket_patch p = {.assignee_id = f->agent};
    assert_int_equal(kw_store_ticket_set(f->st, id, &p, &err), KW_OK);
    assert_int_equal(kw_clocks_project(f->c, f->st, &f->sla, id, T(at), &t, &err), KW_OK);
    return id;
}

static int fire(struct fx *f, int64_t id, const char *now)
{
    int n = -1;
    struct kw_err err = {0};
    if (kw_clocks_fire(f->c, f->st, &f->sla, id, T(now), &n, &err) != KW_OK)
        fail_msg("fire: %s", err.msg);
    return n;
}

/* The office calendar saved again at `now`, Tuesday 2026-03-03 a holiday,
 * in a unit of its own (kw_app_calendar_save: it marks the tickets whose
 * clocks run on it). */
static void tuesday_off(struct fx *f, int64_t now, struct kw_calendar_saved *saved, int64_t *marked)
{
    struct kw_err err = {0};
    const char *tue_off =
        "{\"name\":\"office\",\"tz\":\"Asia/Shanghai\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]],"
        "\"tue\":[[\"09:00\",\"18:00\"]],\"wed\":[[\"09:00\",\"18:00\"]],\"thu\":[[\"09:00\","
        "\"18:00\"]],\"fri\":[[\"09:00\",\"18:00\"]]},\"holidays\":[\"2026-03-03\"]}";
    struct kw_unit u = {.st = f->st, .clocks = f->c, .sla = &f->sla, .now = now};
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    if (kw_app_calendar_save(&u, "office", tue_off, saved, marked, &err) != KW_OK)
        fail_msg("save: %s", err.msg);
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
}

static int64_t fire_at(struct fx *f, int64_t id)
{
    int64_t at;
    struct kw_err err = {0};
    assert_int_equal(kw_store_fire_at(f->st, id, &at, &err), KW_OK);
    return at;
}

/* The engine's events of a ticket as "type:detail" joined by spaces. */
struct trail {
    char text[1024];
};

static bool add_event(const struct kw_stored_event *ev, void *ctx)
{
    struct trail *t = ctx;
    json_t *b = json_loads(ev->body, 0, NULL);
    char item[96] = "";
    if (strcmp(ev->type, "sla_warning") == 0)
        snprintf(item, sizeof(item), "warn%lld ",
                 (long long)json_integer_value(json_object_get(b, "percent")));
    else if (strcmp(ev->type, "sla_breach") == 0)
        snprintf(item, sizeof(item), "breach ");
    else if (strcmp(ev->type, "escalated") == 0)
        snprintf(item, sizeof(item), "step%lld ",
                 (long long)json_integer_value(json_object_get(b, "step")));
    else if (strcmp(ev->type, "confirm_reminder") == 0 || strcmp(ev->type, "confirm_timeout") == 0)
        snprintf(item, sizeof(item), "%s@%s ", ev->type + 8,
                 json_string_value(json_object_get(b, "due_at")));
    else if (strcmp(ev->type, "level") == 0)
        snprintf(item, sizeof(item), "level:%s ", json_string_value(json_object_get(b, "level")));
    strncat(t->text, item, sizeof(t->text) - strlen(t->text) - 1);
    json_decref(b);
    return true;
}

static const char *trail(struct fx *f, int64_t id, struct trail *t)
{
    struct kw_err err = {0};
    t->text[0] = '\0';
    assert_int_equal(kw_store_events(f->st, id, add_event, t, &err), KW_OK);
    return t->text;
}

static void test_thresholds_then_chain(void **state)
{
    struct fx *f = *state;
    struct trail t;
    /* Monday 09:00, 2 working hours: 50 % at 10:00, 80 % at 10:36, breach at 11:00 */
    int64_t id = open_ticket(f, "2026-03-02T09:00:00+08:00");
    /* a threshold fires once its second is over */
    assert_int_equal(fire_at(f, id), T("2026-03-02T10:00:01+08:00"));
    assert_int_equal(fire(f, id, "2026-03-02T09:59:59+08:00"), 0);
    assert_int_equal(fire(f, id, "2026-03-02T10:00:00+08:00"), 0);
    assert_int_equal(fire(f, id, "2026-03-02T10:00:01+08:00"), 1);
    assert_int_equal(fire(f, id, "2026-03-02T10:00:01+08:00"), 0); /* once */
    assert_int_equal(fire_at(f, id), T("2026-03-02T10:36:01+08:00"));
    /* late by a long way: 80 % and the breach at once, in order, and the
     * chain's first step with them */
    assert_int_equal(fire(f, id, "2026-03-02T11:10:00+08:00"), 3);
    assert_string_equal(trail(f, id, &t), "warn50 warn80 breach step0 ");
    /* the chain counts from when its threshold fired (11:10), not 11:00 */
    assert_int_equal(fire_at(f, id), T("2026-03-02T11:40:00+08:00"));
    assert_int_equal(fire(f, id, "2026-03-02T11:39:59+08:00"), 0);
    assert_int_equal(fire(f, id, "2026-03-02T11:40:00+08:00"), 1);
    assert_string_equal(trail(f, id, &t), "warn50 warn80 breach step0 level:L1 step1 ");
    assert_int_equal(fire(f, id, "2026-03-02T12:00:00+08:00"), 0);
}

static void test_acknowledgement_stops_the_chain(void **state)
{
    struct fx *f = *state;
    struct trail t;
    struct kw_err err = {0};
    int64_t id = open_ticket(f, "2026-03-02T09:00:00+08:00");
    assert_int_equal(fire(f, id, "2026-03-02T11:00:01+08:00"), 4); /* 50, 80, breach, step 0 */
    assert_int_equal(kw_store_event_append(f->st, id, "milestone",
                                           "{\"milestone\":\"acknowledged\"}", f->agent,
                                           T("2026-03-02T11:10:00+08:00"), NULL, NULL, &err),
                     KW_OK);
    assert_int_equal(
        kw_clocks_project(f->c, f->st, &f->sla, id, T("2026-03-02T11:10:00+08:00"), NULL, &err),
        KW_OK);
    assert_int_equal(fire_at(f, id), KW_STORE_NO_TIME);
    assert_int_equal(fire(f, id, "2026-03-02T12:00:00+08:00"), 0);
    assert_string_equal(trail(f, id, &t), "warn50 warn80 breach step0 ");
}

/* The wait for the customer's confirmation (default: 3 working days on the
 * first calendar, a reminder at half), fired like a threshold: once its
 * second is over, once, and late with the instant it fell due. */
static void test_confirmation_wait(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    struct trail t;
    char buf[32];
    int64_t id = open_ticket(f, "2026-03-02T09:00:00+08:00");
    assert_int_equal(kw_store_event_append(f->st, id, "milestone",
                                           "{\"milestone\":\"first_response\"}", f->agent,
                                           T("2026-03-02T09:10:00+08:00"), NULL, NULL, &err),
                     KW_OK);
    /* Friday 15:00: 3 h that day, 9 h Monday, 9 h Tuesday, 6 h Wednesday:
     * the wait ends Wednesday 15:00, half of its 27 h by Tuesday 10:30 */
    assert_int_equal(kw_store_event_append(f->st, id, "state", "{\"state\":\"feedback\"}", f->agent,
                                           T("2026-03-06T15:00:00+08:00"), "feedback", NULL, &err),
                     KW_OK);
    assert_int_equal(
        kw_clocks_project(f->c, f->st, &f->sla, id, T("2026-03-06T15:00:00+08:00"), NULL, &err),
        KW_OK);
    assert_int_equal(fire_at(f, id), T("2026-03-10T10:30:01+08:00"));
    assert_int_equal(fire(f, id, "2026-03-10T10:30:00+08:00"), 0);
    assert_int_equal(fire(f, id, "2026-03-10T10:30:01+08:00"), 1);
    assert_int_equal(fire(f, id, "2026-03-10T10:30:01+08:00"), 0); /* once */
    assert_string_equal(trail(f, id, &t), "reminder@2026-03-10T02:30:00Z ");
    assert_int_equal(fire_at(f, id), T("2026-03-11T15:00:01+08:00"));
    /* the server was down at the deadline: fired Thursday, due Wednesday */
    assert_int_equal(fire(f, id, "2026-03-12T09:00:00+08:00"), 1);
    assert_string_equal(trail(f, id, &t),
                        "reminder@2026-03-10T02:30:00Z timeout@2026-03-11T07:00:00Z ");
    assert_int_equal(kw_store_ticket_state(f->st, id, buf, sizeof(buf), &err), KW_OK);
    assert_string_equal(buf, "archived");
    assert_int_equal(fire_at(f, id), KW_STORE_NO_TIME);
    assert_int_equal(fire(f, id, "2026-03-20T09:00:00+08:00"), 0);
}

static void test_a_stopped_clock_fires_nothing(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    struct trail t;
    int64_t id = open_ticket(f, "2026-03-02T09:00:00+08:00");
    /* answered at 09:30: nothing is due, then or later */
    assert_int_equal(kw_store_event_append(f->st, id, "milestone",
                                           "{\"milestone\":\"first_response\"}", f->agent,
                                           T("2026-03-02T09:30:00+08:00"), NULL, NULL, &err),
                     KW_OK);
    assert_int_equal(
        kw_clocks_project(f->c, f->st, &f->sla, id, T("2026-03-02T09:30:00+08:00"), NULL, &err),
        KW_OK);
    assert_int_equal(fire_at(f, id), KW_STORE_NO_TIME);
    assert_int_equal(fire(f, id, "2026-03-03T09:00:00+08:00"), 0);
    assert_string_equal(trail(f, id, &t), "");
}

/* What a ticket's events say about one threshold kind ("sla_breach"):
 * how many, and the instant the last one says it fell due and was fired. */
struct fired {
    const char *type;
    int n;
    int64_t due, at;
};

static bool find_fired(const struct kw_stored_event *ev, void *ctx)
{
    struct fired *w = ctx;
    if (strcmp(ev->type, w->type) != 0)
        return true;
    json_t *b = json_loads(ev->body, 0, NULL);
    w->n++;
    w->due = T(json_string_value(json_object_get(b, "due_at")));
    w->at = ev->at;
    json_decref(b);
    return true;
}

static struct fired fired_of(struct fx *f, int64_t id, const char *type)
{
    struct fired w = {type, 0, KW_NO_TIME, KW_NO_TIME};
    struct kw_err err = {0};
    assert_int_equal(kw_store_events(f->st, id, find_fired, &w, &err), KW_OK);
    return w;
}

static void answer(struct fx *f, int64_t id, const char *at)
{
    struct kw_err err = {0};
    assert_int_equal(kw_store_event_append(f->st, id, "milestone",
                                           "{\"milestone\":\"first_response\"}", f->agent, T(at),
                                           NULL, NULL, &err),
                     KW_OK);
    assert_int_equal(kw_clocks_project(f->c, f->st, &f->sla, id, T(at), NULL, &err), KW_OK);
}

static const struct kw_clock *clock_now(struct fx *f, int64_t id, const char *at)
{
    struct kw_err err = {0};
    struct kw_ticket_row t;
    struct kw_ticket_events te = {0};
    const struct kw_compiled *k;
    assert_int_equal(kw_store_ticket_get(f->st, id, &t, &err), KW_OK);
    assert_int_equal(
        kw_clocks_evaluate(f->c, f->st, &f->sla, id, t.commitment_id, T(at), NULL, &te, &k, &err),
        KW_OK);
    kw_ticket_events_release(&te);
    return &f->sla.clock[0];
}

/* The engine's breach and the clock agree, also when the deadline ends a
 * shift (Monday 16:00 + 2 working hours = 18:00) and the answer comes
 * after it with no working time between. */
static void test_breach_and_clock_agree(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    struct kw_ticket_row t;
    /* answered in the deadline's own second: met, and nothing fires */
    int64_t a = open_ticket(f, "2026-03-02T16:00:00+08:00");
    assert_int_equal(fire(f, a, "2026-03-02T17:36:01+08:00"), 2); /* 50 %, 80 % */
    assert_int_equal(fire(f, a, "2026-03-02T18:00:00+08:00"), 0);
    answer(f, a, "2026-03-02T18:00:00+08:00");
    assert_int_equal(fire_at(f, a), KW_STORE_NO_TIME);
    assert_int_equal(fire(f, a, "2026-03-02T18:00:01+08:00"), 0);
    assert_int_equal(fired_of(f, a, "sla_breach").n, 0);
    assert_int_equal(clock_now(f, a, "2026-03-02T18:30:00+08:00")->status, KW_CLOCK_MET);
    /* fired at 18:00:01, answered 18:20: met_late at 18:00, as the event says */
    int64_t b = open_ticket(f, "2026-03-02T16:00:00+08:00");
    assert_int_equal(fire(f, b, "2026-03-02T18:00:01+08:00"), 4); /* 50, 80, breach, step 0 */
    answer(f, b, "2026-03-02T18:20:00+08:00");
    struct fired w = fired_of(f, b, "sla_breach");
    const struct kw_clock *c = clock_now(f, b, "2026-03-02T18:30:00+08:00");
    assert_int_equal(c->status, KW_CLOCK_MET_LATE);
    assert_int_equal(w.n, 1);
    assert_int_equal(c->breached_at, T("2026-03-02T18:00:00+08:00"));
    assert_int_equal(w.due, c->breached_at);
    assert_int_equal(kw_store_ticket_get(f->st, b, &t, &err), KW_OK);
    assert_int_equal(t.breached_at, c->breached_at);
    /* the server was down from 17:00 to Tuesday 09:30, answered meanwhile:
     * the breach fires at the restart, due 18:00, fired 09:30 */
    int64_t d = open_ticket(f, "2026-03-02T16:00:00+08:00");
    answer(f, d, "2026-03-02T18:20:00+08:00");
    assert_int_equal(fire_at(f, d), T("2026-03-02T18:00:01+08:00"));
    /* (a chain follows running clocks only: no step for one that stopped) */
    assert_int_equal(fire(f, d, "2026-03-03T09:30:00+08:00"), 1);
    w = fired_of(f, d, "sla_breach");
    assert_int_equal(w.n, 1);
    assert_int_equal(w.due, T("2026-03-02T18:00:00+08:00"));
    assert_int_equal(w.at, T("2026-03-03T09:30:00+08:00"));
    assert_int_equal(clock_now(f, d, "2026-03-03T09:30:00+08:00")->breached_at, w.due);
}

/* A commitment naming a stored calendar: a holiday saved ahead of a running
 * deadline moves it (and the engine's schedule) from the save on, the
 * clock says it used both versions, and a clock that stopped before the
 * save keeps its result and its one version. */
static const char named[] =
    "{\"name\":\"t\",\"version\":\"2\",\"effective_from\":\"2026-02-01T00:00:00+08:00\","
    "\"calendars\":{\"office\":\"office\"},\"levels\":[\"L2\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"]}],"
    "\"targets\":[{\"calendar\":\"office\",\"response\":\"2h\"}]}";

/* The ticket's one run as stored, its strings copied into r's buffers. */
struct one_run {
    struct kw_run_row row;
    char metric[32], status[32], calendar[32];
    size_t n;
};

static bool keep_run(const struct kw_run_row *r, void *ctx)
{
    struct one_run *o = ctx;
    o->row = *r;
    snprintf(o->metric, sizeof(o->metric), "%s", r->metric);
    snprintf(o->status, sizeof(o->status), "%s", r->status);
    snprintf(o->calendar, sizeof(o->calendar), "%s", r->calendar ? r->calendar : "");
    o->row.metric = o->metric;
    o->row.status = o->status;
    o->row.calendar = r->calendar ? o->calendar : NULL;
    o->row.level = o->row.tier = o->row.organisation = o->row.category = o->row.region =
        o->row.channel = NULL;
    o->n++;
    return true;
}

static void run_of(struct fx *f, int64_t id, struct one_run *o)
{
    struct kw_err err = {0};
    memset(o, 0, sizeof(*o));
    assert_int_equal(kw_store_runs(f->st, &(struct kw_run_filter){.ticket = id}, keep_run, o, &err),
                     KW_OK);
    assert_int_equal(o->n, 1);
}

/* The ticket's one run carried from its stored measure to `at` equals the
 * run measured again from the events as of `at`; its working seconds. */
static int64_t carried_is_measured(struct fx *f, int64_t id, const struct one_run *o, int64_t at)
{
    struct kw_err err = {0};
    struct kw_ticket_row t;
    assert_int_equal(kw_store_ticket_get(f->st, id, &t, &err), KW_OK);
    int64_t cid = t.commitment_id;
    const struct kw_compiled *k = kw_clocks_commitment(f->c, f->st, cid, &err);
    assert_non_null(k);
    struct kw_run_row carried;
    assert_true(kw_clocks_run_carried(k, &o->row, at, &carried));
    struct kw_runs_at again = {0};
    assert_int_equal(kw_clocks_runs_at(f->c, f->st, &f->sla, id, cid, at, &again, &err), KW_OK);
    assert_int_equal(again.n, 1);
    const struct kw_run_row *m = &again.rows[0];
    assert_int_equal(carried.working, m->working);
    assert_int_equal(carried.wall, m->wall);
    assert_int_equal(carried.paused_wall, m->paused_wall);
    assert_int_equal(carried.deadline, m->deadline);
    assert_int_equal(carried.breached_at, m->breached_at);
    assert_string_equal(carried.status, m->status);
    assert_int_equal(carried.assignee_id, m->assignee_id);
    kw_runs_at_release(&again);
    return carried.working;
}

/* A warning's firing leaves the KPI facts as the last projection measured
 * them (the run carried to the firing's instant is what measuring it again
 * gives); the breach measures them again (#20, engine7). */
static void test_a_warning_keeps_the_runs(void **state)
{
    struct fx *f = *state;
    int64_t id = open_ticket(f, "2026-03-02T09:00:00+08:00");
    struct one_run before, after;
    run_of(f, id, &before);
    assert_int_equal(before.row.measured_at, T("2026-03-02T09:00:00+08:00"));
    assert_int_equal(fire(f, id, "2026-03-02T10:00:02+08:00"), 1); /* 50 % */
    run_of(f, id, &after);
    assert_int_equal(after.row.measured_at, before.row.measured_at);
    assert_int_equal(after.row.working, before.row.working);
    assert_string_equal(after.status, "running");
    assert_int_equal(carried_is_measured(f, id, &after, T("2026-03-02T10:00:02+08:00")), 3602);
    /* 80 % and the breach: measured again, breached */
    assert_true(fire(f, id, "2026-03-02T11:00:02+08:00") >= 2);
    run_of(f, id, &after);
    assert_int_equal(after.row.measured_at, T("2026-03-02T11:00:02+08:00"));
    assert_true(after.row.breached_at != KW_STORE_NO_TIME);
    assert_string_equal(after.status, "breached");
}

/* A comment or a note leaves the KPI facts as the last projection measured
 * them (carried to its instant, the run is what measuring it again gives),
 * unless a clock breached with no breach fired yet; a unit that also
 * assigns the ticket, or a staff reply (first_response), measures them
 * again (#20, engine8). */
static void test_a_comment_keeps_the_runs(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    struct kw_user c = {.email = "c@x", .name = "c", .role = "customer", .org_id = f->org};
    struct kw_actor agent = {.id = f->agent, .role = KW_ROLE_AGENT};
    struct kw_actor customer = {.org_id = f->org, .role = KW_ROLE_CUSTOMER};
    assert_int_equal(kw_store_user_insert(f->st, &c, NULL, 0, &customer.id, &err), KW_OK);
    int64_t id = open_ticket(f, "2026-03-02T09:00:00+08:00");
    struct kw_unit u = {
        .st = f->st, .clocks = f->c, .sla = &f->sla, .now = T("2026-03-02T09:40:00+08:00")};
    struct one_run r;
    /* a note, and the customer's comment (not waiting for them) */
    assert_int_equal(kw_ticket_comment(&u, &agent, id, "looking", true, &err), KW_OK);
    u.now = T("2026-03-02T10:20:00+08:00");
    assert_int_equal(kw_ticket_comment(&u, &customer, id, "any news?", false, &err), KW_OK);
    run_of(f, id, &r);
    assert_int_equal(r.row.measured_at, T("2026-03-02T09:00:00+08:00"));
    assert_string_equal(r.status, "running");
    carried_is_measured(f, id, &r, T("2026-03-02T10:20:00+08:00"));
    assert_int_equal(fire_at(f, id), T("2026-03-02T10:00:01+08:00")); /* projected all the same */
    /* past the deadline (11:00) with no breach fired: measured again */
    u.now = T("2026-03-02T11:30:00+08:00");
    assert_int_equal(kw_ticket_comment(&u, &agent, id, "still on it", true, &err), KW_OK);
    run_of(f, id, &r);
    assert_int_equal(r.row.measured_at, T("2026-03-02T11:30:00+08:00"));
    assert_string_equal(r.status, "breached");
    /* the breach fired (measured again): the next note keeps them */
    assert_true(fire(f, id, "2026-03-02T11:30:01+08:00") >= 3);
    u.now = T("2026-03-02T11:50:00+08:00");
    assert_int_equal(kw_ticket_comment(&u, &agent, id, "nearly", true, &err), KW_OK);
    run_of(f, id, &r);
    assert_int_equal(r.row.measured_at, T("2026-03-02T11:30:01+08:00"));
    carried_is_measured(f, id, &r, T("2026-03-02T11:50:00+08:00"));
    /* a comment and an assignment in one unit: measured again */
    int64_t seq = 0, at = T("2026-03-02T12:10:00+08:00");
    struct kw_event_rec note = {.kind = KW_EVENT_COMMENT, .text = "yours", .internal = true};
    struct kw_event_rec given = {.kind = KW_EVENT_ASSIGNED, .assignee_id = f->agent};
    assert_int_equal(kw_app_append_seq(f->st, id, &note, f->agent, at, NULL, &seq, &err), KW_OK);
    assert_int_equal(kw_app_append(f->st, id, &given, f->agent, at, NULL, &err), KW_OK);
    assert_int_equal(kw_clocks_project_since(f->c, f->st, &f->sla, id, at, seq, &err), KW_OK);
    run_of(f, id, &r);
    assert_int_equal(r.row.measured_at, at);
    assert_int_equal(r.row.assignee_id, f->agent);
    /* a staff reply means first_response: measured again, stopped */
    u.now = T("2026-03-02T12:30:00+08:00");
    assert_int_equal(kw_ticket_comment(&u, &agent, id, "fixed", false, &err), KW_OK);
    run_of(f, id, &r);
    assert_int_equal(r.row.stopped_at, T("2026-03-02T12:30:00+08:00"));
    assert_string_equal(r.status, "met_late");
}

static const char named_warn[] =
    "{\"name\":\"t\",\"version\":\"3\",\"effective_from\":\"2026-02-15T00:00:00+08:00\","
    "\"calendars\":{\"office\":\"office\"},\"levels\":[\"L2\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"
    "\"warn_at\":[50,80]}],\"targets\":[{\"calendar\":\"office\",\"response\":\"2h\"}]}";

/* A stored calendar saved after the ticket's last event (its clocks not
 * projected on it yet, until the catch-up): a warning's firing measures
 * the KPI facts again; the next, after that firing's event, leaves them. */
static void test_a_saved_calendar_measures_the_runs_again(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    struct kw_calendar_saved saved;
    int64_t cid, marked = 0;
    assert_int_equal(kw_store_calendar_save(f->st, "office", OFFICE, 0, &saved, &err), KW_OK);
    assert_int_equal(kw_store_commitment_insert(f->st, "t", "3", T("2026-02-15T00:00:00+08:00"),
                                                named_warn, 0, &cid, &err),
                     KW_OK);
    int64_t id = open_ticket(f, "2026-03-02T09:00:00+08:00");
    tuesday_off(f, T("2026-03-02T09:30:00+08:00"), &saved, &marked);
    assert_int_equal(marked, 1);
    struct one_run r;
    assert_int_equal(fire(f, id, "2026-03-02T10:00:02+08:00"), 1); /* 50 % */
    run_of(f, id, &r);
    assert_int_equal(r.row.measured_at, T("2026-03-02T10:00:02+08:00"));
    assert_int_equal(fire(f, id, "2026-03-02T10:36:02+08:00"), 1); /* 80 % */
    run_of(f, id, &r);
    assert_int_equal(r.row.measured_at, T("2026-03-02T10:00:02+08:00"));
}

static void test_a_saved_calendar_reaches_running_clocks(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    struct kw_calendar_saved saved;
    int64_t cid, marked = -1;
    assert_int_equal(kw_store_calendar_save(f->st, "office", OFFICE, 0, &saved, &err), KW_OK);
    assert_int_equal(kw_store_commitment_insert(f->st, "t", "2", T("2026-02-01T00:00:00+08:00"),
                                                named, 0, &cid, &err),
                     KW_OK);
    int64_t running = open_ticket(f, "2026-03-02T17:00:00+08:00");
    int64_t done = open_ticket(f, "2026-03-02T09:00:00+08:00");
    int64_t seq;
    assert_int_equal(kw_store_event_append(f->st, done, "milestone",
                                           "{\"milestone\":\"first_response\"}", 0,
                                           T("2026-03-02T10:00:00+08:00"), NULL, &seq, &err),
                     KW_OK);
    assert_int_equal(
        kw_clocks_project(f->c, f->st, &f->sla, done, T("2026-03-02T10:00:00+08:00"), NULL, &err),
        KW_OK);
    assert_int_equal(fire_at(f, running),
                     T("2026-03-03T10:00:01+08:00")); /* fired after its second */

    /* Monday 17:30: Tuesday becomes a holiday */
    const int64_t saved_at = T("2026-03-02T17:30:00+08:00");
    tuesday_off(f, saved_at, &saved, &marked);
    assert_int_equal(saved.version, 2);
    assert_int_equal(marked, 1); /* the running one; the stopped one keeps its projection */
    int64_t stale[4];
    size_t n = 0;
    assert_int_equal(kw_store_stale(f->st, 0, 4, stale, &n, &err), KW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(stale[0], running);
    assert_int_equal(kw_clocks_project(f->c, f->st, &f->sla, running, saved_at, NULL, &err), KW_OK);
    assert_int_equal(fire_at(f, running), T("2026-03-04T10:00:01+08:00"));

    const struct kw_compiled *k = kw_clocks_commitment(f->c, f->st, cid, &err);
    assert_non_null(k);
    struct kw_ticket_events te = {0};
    assert_int_equal(
        kw_clocks_evaluate(f->c, f->st, &f->sla, running, cid, saved_at, NULL, &te, &k, &err),
        KW_OK);
    kw_ticket_events_release(&te);
    json_t *used = kw_clock_calendar_versions(k, &f->sla.clock[0]);
    char *v = json_dumps(used, JSON_COMPACT);
    json_decref(used);
    assert_string_equal(v, "[{\"calendar\":\"office\",\"version\":1,\"from\":null,\"until\":"
                           "\"2026-03-02T09:30:00Z\"},{\"calendar\":\"office\",\"version\":2,"
                           "\"from\":\"2026-03-02T09:30:00Z\",\"until\":null}]");
    free(v);
    assert_int_equal(
        kw_clocks_evaluate(f->c, f->st, &f->sla, done, cid, saved_at, NULL, &te, &k, &err), KW_OK);
    kw_ticket_events_release(&te);
    assert_int_equal(f->sla.clock[0].status, KW_CLOCK_MET);
    assert_int_equal(f->sla.clock[0].elapsed, 3600);
    used = kw_clock_calendar_versions(k, &f->sla.clock[0]);
    v = json_dumps(used, JSON_COMPACT);
    json_decref(used);
    assert_string_equal(v, "[{\"calendar\":\"office\",\"version\":1,\"from\":null,\"until\":"
                           "\"2026-03-02T09:30:00Z\"}]");
    free(v);
    /* the letter shows the latest version's holidays */
    assert_int_equal(kw_policy_calendar_spec(k->p, 0)->n_holidays, 1);
}

/* ---- batches with a cache: rotas and people (engine/fire.h) ---- */

/* From April a second version: at 50 % of the response clock the one on
 * call is told, the team lead 10 minutes later, and after 20 minutes the
 * ticket goes to the one on call then. */
static const char policy2[] =
    "{\"name\":\"t\",\"version\":\"2\",\"effective_from\":\"2026-04-01T00:00:00+08:00\","
    "\"calendars\":{\"office\":" OFFICE "},\"levels\":[\"L1\",\"L2\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"
    "\"warn_at\":[50]}],\"targets\":[{\"calendar\":\"office\",\"response\":\"2h\"}],"
    "\"escalations\":[{\"id\":\"oncall\",\"when\":{\"metric\":\"response\",\"percent\":50},"
    "\"steps\":[{\"after\":0,\"notify\":\"oncall:1\"},{\"after\":\"10m\",\"notify\":"
    "\"team_lead\"},{\"after\":\"20m\",\"reassign\":\"oncall:1\"}]}]}";

static const char rota_of[] =
    "{\"name\":\"night\",\"tz\":\"Asia/Shanghai\",\"layers\":[{\"name\":\"all\",\"rotation\":"
    "\"daily\",\"start\":\"2026-01-01\",\"handoff\":\"09:00\",\"people\":[%lld]}]}";

static int64_t person_named(struct fx *f, const char *name)
{
    char email[64];
    snprintf(email, sizeof(email), "%s@x", name);
    struct kw_user u = {.email = email, .name = name, .role = "agent"};
    int64_t id;
    struct kw_err err = {0};
    assert_int_equal(kw_store_user_insert(f->st, &u, NULL, 0, &id, &err), KW_OK);
    return id;
}

static void put_rota(struct kw_store *st, int64_t team, int64_t who)
{
    char spec[512];
    int64_t id;
    struct kw_err err = {0};
    snprintf(spec, sizeof(spec), rota_of, (long long)who);
    assert_int_equal(kw_store_oncall_put(st, "night", team, 1, spec, 0, &id, &err), KW_OK);
}

/* The cache compiles a rota once per stored document: a look-up after a
 * change (from this handle or another, as another process) compiles the
 * new one. */
static void test_rota_cache_invalidation(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t ann = person_named(f, "ann"), bob = person_named(f, "bob"), team, other;
    assert_int_equal(kw_store_team_insert(f->st, "night", ann, 0, &team, &err), KW_OK);
    assert_int_equal(kw_store_team_insert(f->st, "day", ann, 0, &other, &err), KW_OK);
    struct kw_rota_cache *rc = kw_rota_cache_new();
    struct kw_tzdb *tz = kw_clocks_tzdb(f->c);
    const struct kw_rota *r;
    uint64_t compiled, hits;
    int64_t now = T("2026-04-06T12:00:00+08:00");
    assert_int_equal(kw_rota_cached(rc, f->st, tz, team, 1, &r, &err), KW_NOT_FOUND);
    assert_string_equal(err.msg, "team 1 has no rota for level 1");
    put_rota(f->st, team, ann);
    struct kw_store *peer = kw_store_open(f->path, &err);
    assert_non_null(peer);
    const struct {
        const char *name;
        struct kw_store *st; /* the one that changes it; NULL: none */
        int64_t to, want;
        uint64_t compiled, hits;
    } rows[] = {
        {"the first look-up compiles", NULL, 0, 0, 1, 0},
        {"the same document again: compiled already", NULL, 0, 0, 1, 1},
        {"changed here", f->st, bob, bob, 2, 1},
        {"unchanged", NULL, 0, bob, 2, 2},
        {"changed by another handle", peer, ann, ann, 3, 2},
        {"saved again with the same document", f->st, ann, ann, 3, 3},
    };
    int64_t who = ann;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].st)
            put_rota(rows[i].st, team, rows[i].to);
        if (rows[i].want)
            who = rows[i].want;
        if (kw_rota_cached(rc, f->st, tz, team, 1, &r, &err) != KW_OK)
            fail_msg("%s: %s", rows[i].name, err.msg);
        kw_store_end_read(f->st);
        if (kw_oncall_who(&r->s, &r->tz, now, NULL) != who)
            fail_msg("%s: on call %lld, want %lld", rows[i].name,
                     (long long)kw_oncall_who(&r->s, &r->tz, now, NULL), (long long)who);
        kw_rota_cache_counts(rc, &compiled, &hits);
        if (compiled != rows[i].compiled || hits != rows[i].hits)
            fail_msg("%s: compiled %llu, hits %llu; want %llu, %llu", rows[i].name,
                     (unsigned long long)compiled, (unsigned long long)hits,
                     (unsigned long long)rows[i].compiled, (unsigned long long)rows[i].hits);
    }
    /* another team's rota is another entry */
    put_rota(f->st, other, bob);
    assert_int_equal(kw_rota_cached(rc, f->st, tz, other, 1, &r, &err), KW_OK);
    assert_int_equal(kw_oncall_who(&r->s, &r->tz, now, NULL), bob);
    assert_int_equal(kw_rota_cached(rc, f->st, tz, team, 1, &r, &err), KW_OK);
    assert_int_equal(kw_oncall_who(&r->s, &r->tz, now, NULL), ann);
    kw_rota_cache_counts(rc, &compiled, &hits);
    assert_int_equal(compiled, 4);
    kw_store_close(peer);
    kw_rota_cache_free(rc);
}

/* One batch as the engine fires it: one transaction, the cache told, each
 * ticket in its own savepoint. How many thresholds and steps fired. */
static int fire_batch(struct fx *f, struct kw_fire_cache *fc, const int64_t *ids, size_t n,
                      const char *now)
{
    struct kw_err err = {0};
    int total = 0;
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    kw_fire_cache_batch(fc);
    for (size_t i = 0; i < n; i++) {
        int k = -1;
        assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
        if (kw_clocks_fire_cached(f->c, f->st, &f->sla, fc, ids[i], T(now), &k, &err) != KW_OK)
            fail_msg("fire %lld: %s", (long long)ids[i], err.msg);
        assert_int_equal(kw_store_release(f->st, true, &err), KW_OK);
        total += k;
    }
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
    return total;
}

/* Each escalated event of a ticket as "stepN:user" joined by spaces. */
static bool add_step(const struct kw_stored_event *ev, void *ctx)
{
    struct trail *t = ctx;
    if (strcmp(ev->type, "escalated") != 0)
        return true;
    json_t *b = json_loads(ev->body, 0, NULL);
    char item[64];
    snprintf(item, sizeof(item), "step%lld:%lld ",
             (long long)json_integer_value(json_object_get(b, "step")),
             (long long)json_integer_value(json_object_get(b, "user_id")));
    strncat(t->text, item, sizeof(t->text) - strlen(t->text) - 1);
    json_decref(b);
    return true;
}

/* Tickets fired in batches with a cache: every threshold and step once and
 * in order however often a batch fires again; a rota changed between
 * batches names its new person at the next step; the rota compiled once per
 * document and each person read once per batch. */
static void test_batch_firing_order_and_once(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t cid, team;
    assert_int_equal(kw_store_commitment_insert(f->st, "t", "2", T("2026-04-01T00:00:00+08:00"),
                                                policy2, 0, &cid, &err),
                     KW_OK);
    int64_t ann = person_named(f, "ann"), bob = person_named(f, "bob"),
            lead = person_named(f, "lead");
    assert_int_equal(kw_store_team_insert(f->st, "night", lead, 0, &team, &err), KW_OK);
    put_rota(f->st, team, ann);
    int64_t ids[6];
    for (size_t i = 0; i < 6; i++) {
        struct kw_ticket_new t = {.org_id = f->org,
                                  .created_by = f->agent,
                                  .title = "x",
                                  .level = "L2",
                                  .at = T("2026-04-06T09:00:00+08:00")};
        bool existed;
        assert_int_equal(kw_store_ticket_create(f->st, &t, &ids[i], &existed, &err), KW_OK);
        struct kw_ticket_patch p = {.team_id = team};
        assert_int_equal(kw_store_ticket_set(f->st, ids[i], &p, &err), KW_OK);
        assert_int_equal(kw_clocks_project(f->c, f->st, &f->sla, ids[i], t.at, &t, &err), KW_OK);
    }
    struct kw_fire_cache *fc = kw_fire_cache_new();
    const struct {
        const char *name, *now;
        int64_t rota; /* who the rota names from this batch on; 0: unchanged */
        int fired;
    } rows[] = {
        {"nothing is due before 50 %", "2026-04-06T10:00:00+08:00", 0, 0},
        {"50 % and the first step, to the one on call", "2026-04-06T10:00:01+08:00", 0, 12},
        {"the same instant again fires nothing", "2026-04-06T10:00:01+08:00", 0, 0},
        {"the team lead 10 minutes on", "2026-04-06T10:10:01+08:00", bob, 6},
        {"again, nothing", "2026-04-06T10:15:00+08:00", 0, 0},
        {"reassigned to the one on call now", "2026-04-06T10:20:01+08:00", 0, 6},
        {"the breach at 11:00; the chain is done", "2026-04-06T12:00:00+08:00", 0, 6},
        {"nothing after", "2026-04-06T15:00:00+08:00", 0, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].rota)
            put_rota(f->st, team, rows[i].rota);
        int got = fire_batch(f, fc, ids, 6, rows[i].now);
        if (got != rows[i].fired)
            fail_msg("%s: fired %d, want %d", rows[i].name, got, rows[i].fired);
    }
    char want[128];
    snprintf(want, sizeof(want), "step0:%lld step1:%lld step2:%lld ", (long long)ann,
             (long long)lead, (long long)bob);
    for (size_t i = 0; i < 6; i++) {
        struct trail t = {.text = ""};
        assert_int_equal(kw_store_events(f->st, ids[i], add_step, &t, &err), KW_OK);
        assert_string_equal(t.text, want);
        struct kw_ticket_row row;
        assert_int_equal(kw_store_ticket_get(f->st, ids[i], &row, &err), KW_OK);
        assert_int_equal(row.assignee_id, bob);
        assert_int_equal(fire_at(f, ids[i]), KW_STORE_NO_TIME);
    }
    /* two rota documents, each compiled once; four people (ann, the
     * team, its lead, bob) each read once in the batch that needed them */
    struct kw_fire_cache_stats cs;
    kw_fire_cache_stats(fc, &cs);
    assert_int_equal(cs.rota_compiled, 2);
    assert_int_equal(cs.rota_hits, 10);
    assert_int_equal(cs.people_read, 4);
    assert_int_equal(cs.people_hits, 20);
    kw_fire_cache_free(fc);
}

/* The firing's events written directly are the bytes of kw_event_encode's
 * tree printed with sorted keys, one row per case. */
static void test_fire_event_text(void **state)
{
    (void)state;
    const struct {
        const char *name;
        struct kw_event_rec r;
    } rows[] = {
        {"a warning",
         {.kind = KW_EVENT_SLA_WARNING,
          .metric = "response",
          .target = 3600,
          .percent = 75,
          .colour = "amber",
          .reached_at = 1767225600,
          .deadline = 1767229200}},
        {"a warning without a colour",
         {.kind = KW_EVENT_SLA_WARNING,
          .metric = "res\"olution",
          .target = 0,
          .percent = 50,
          .reached_at = 1767225600,
          .deadline = KW_NO_TIME}},
        {"instants at the ends of years 0000-9999 and before 1970",
         {.kind = KW_EVENT_SLA_WARNING,
          .metric = "response",
          .target = 1,
          .percent = 90,
          .colour = "red",
          .reached_at = -62167219200,
          .deadline = 253402300799}},
        {"an instant before 1970 and one after 9999",
         {.kind = KW_EVENT_SLA_BREACH,
          .metric = "response",
          .target = 1,
          .breached_at = -1,
          .deadline = 253402300800}},
        {"a breach",
         {.kind = KW_EVENT_SLA_BREACH,
          .metric = "response",
          .target = 7200,
          .breached_at = 1767229200,
          .deadline = 1767229200}},
        {"a step that notifies nobody",
         {.kind = KW_EVENT_ESCALATED,
          .chain = "p1",
          .step = 0,
          .action = "notify",
          .due_at = 1767226500}},
        {"a step that reassigns",
         {.kind = KW_EVENT_ESCALATED,
          .chain = "p1",
          .step = 1,
          .action = "reassign",
          .who = "on_call",
          .user_id = 42,
          .due_at = 1767226500}},
        {"a step that raises the level",
         {.kind = KW_EVENT_ESCALATED,
          .chain = "\u9ad8\tp",
          .step = 2,
          .action = "raise_level",
          .who = "team_lead",
          .user_id = 7,
          .due_at = 1767226500,
          .attrs.v[KW_ATTR_LEVEL] = "P1"}},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kw_err err = {0};
        json_t *body = kw_event_encode(&rows[i].r, &err);
        assert_non_null(body);
        char *want = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        char *got = kw_fire_event_text(&rows[i].r, &err);
        if (!got || strcmp(got, want) != 0)
            fail_msg("%s: %s, expected %s", rows[i].name, got ? got : "(null)", want);
        free(got);
        free(want);
        json_decref(body);
    }
    struct kw_err err = {0};
    struct kw_event_rec bad = {.kind = KW_EVENT_ESCALATED, .action = "notify"};
    assert_null(kw_fire_event_text(&bad, &err)); /* kw_event_encode's refusal */
    assert_int_equal(err.code, KW_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fire_event_text),
        cmocka_unit_test_setup_teardown(test_thresholds_then_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acknowledgement_stops_the_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_stopped_clock_fires_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_confirmation_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breach_and_clock_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_saved_calendar_reaches_running_clocks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rota_cache_invalidation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_firing_order_and_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_warning_keeps_the_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_comment_keeps_the_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_saved_calendar_measures_the_runs_again, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
