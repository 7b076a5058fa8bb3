// SPDX-License-Identifier: MIT
/* KPI facts (kpi_runs): what the writer keeps incrementally, projection by
 * projection, equals what `keepword kpi rebuild` writes from the events,
 * after a random history of creates, replies, pauses, level and team
 * changes, resolutions, reopenings under resume and under restart, the
 * engine firing breaches, and edits of the stored calendar the commitment
 * names. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "calendars.h"
#include "fire.h"
#include "tickets.h"
#include "testutil.h"

#define OFFICE_WEEK                                                                                \
    "\"mon\":[[\"09:00\",\"18:00\"]],\"tue\":[[\"09:00\",\"18:00\"]],\"wed\":[[\"09:00\","         \
    "\"18:00\"]],\"thu\":[[\"09:00\",\"18:00\"]],\"fri\":[[\"09:00\",\"18:00\"]]"
static const char office[] = "{\"tz\":\"Asia/Shanghai\",\"week\":{" OFFICE_WEEK "}}";
/* %s: on_reopen */
static const char policy_fmt[] =
    "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00+08:00\","
    "\"on_reopen\":\"%s\",\"calendars\":{\"office\":\"office\"},\"levels\":[\"L1\",\"L2\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"]},"
    "{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"],"
    "\"pause_when\":[\"waiting_customer\"]}],"
    "\"targets\":[{\"when\":{\"level\":\"L1\"},\"calendar\":\"office\",\"response\":\"30m\","
    "\"resolution\":\"4h\"},{\"calendar\":\"office\",\"response\":\"2h\",\"resolution\":\"16h\"}]}";

struct fx {
    char dir[64], path[128];
    struct kw_store *st;
    struct kw_sla sla;
    struct kw_unit u;
    int64_t org, team[2], agent_id[2];
    struct kw_actor agent, customer;
};

static void fx_open(struct fx *f, const char *on_reopen)
{
    struct kw_err err = {0};
    snprintf(f->dir, sizeof(f->dir), "/tmp/kw-facts-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/kw.db", f->dir);
    f->st = kw_store_open(f->path, &err);
    if (!f->st)
        fail_msg("open: %s", err.msg);
    kw_sla_init(&f->sla);
    f->u = (struct kw_unit){.st = f->st,
                            .clocks = kw_clocks_new(&err),
                            .sla = &f->sla,
                            .now = T("2026-03-02T08:00:00+08:00")};
    struct kw_org org = {.name = "Acme", .tier = "vip"};
    assert_int_equal(kw_store_org_insert(f->st, &org, 0, &f->org, &err), KW_OK);
    struct kw_user a = {.email = "a@x", .name = "a", .role = "agent"};
    struct kw_user b = {.email = "b@x", .name = "b", .role = "agent"};
    struct kw_user c = {.email = "c@x", .name = "c", .role = "customer", .org_id = f->org};
    int64_t customer;
    assert_int_equal(kw_store_user_insert(f->st, &a, NULL, 0, &f->agent_id[0], &err), KW_OK);
    assert_int_equal(kw_store_user_insert(f->st, &b, NULL, 0, &f->agent_id[1], &err), KW_OK);
    assert_int_equal(kw_store_user_insert(f->st, &c, NULL, 0, &customer, &err), KW_OK);
    assert_int_equal(kw_store_team_insert(f->st, "desk", 0, 0, &f->team[0], &err), KW_OK);
    assert_int_equal(kw_store_team_insert(f->st, "field", 0, 0, &f->team[1], &err), KW_OK);
    struct kw_calendar_saved saved;
    assert_int_equal(kw_store_calendar_save(f->st, "office", office, 0, &saved, &err), KW_OK);
    char policy[2048];
    snprintf(policy, sizeof(policy), policy_fmt, on_reopen);
    int64_t cid;
    if (kw_store_commitment_insert(f->st, "t", "1", T("2026-01-01T00:00:00+08:00"), policy, 0, &cid,
                                   &err) != KW_OK)
        fail_msg("commitment: %s", err.msg);
    f->agent = (struct kw_actor){.id = f->agent_id[0], .role = KW_ROLE_AGENT};
    f->customer = (struct kw_actor){.id = customer, .org_id = f->org, .role = KW_ROLE_CUSTOMER};
}

static void fx_close(struct fx *f)
{
    char cmd[160];
    kw_sla_release(&f->sla);
    kw_clocks_free(f->u.clocks);
    kw_store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the facts as text, one line a run, to compare ---- */

struct text {
    char *s;
    size_t len, cap;
    bool stopped_only; /* leave out open runs (measured at another instant) */
};

static void put(struct text *t, const char *line)
{
    size_t n = strlen(line);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    memcpy(t->s + t->len, line, n + 1);
    t->len += n;
}

static void run_line(const struct kw_run_row *r, char *buf, size_t cap)
{
#define S(x) ((x) ? (x) : "-")
    snprintf(buf, cap,
             "%lld %s %lld org=%lld c=%lld %s start=%lld stop=%lld dl=%lld br=%lld tg=%lld "
             "w=%lld wall=%lld pw=%lld at=%lld sf=%lld team=%lld who=%lld %s %s %s %s %s %s %s\n",
             (long long)r->ticket_id, r->metric, (long long)r->run, (long long)r->org_id,
             (long long)r->commitment_id, r->status, (long long)r->started_at,
             (long long)r->stopped_at, (long long)r->deadline, (long long)r->breached_at,
             (long long)r->target, (long long)r->working, (long long)r->wall,
             (long long)r->paused_wall, (long long)r->measured_at, (long long)r->steady_from,
             (long long)r->team_id, (long long)r->assignee_id, S(r->calendar), S(r->level),
             S(r->tier), S(r->organisation), S(r->category), S(r->region), S(r->channel));
#undef S
}

static bool add_run(const struct kw_run_row *r, void *ctx)
{
    struct text *t = ctx;
    if (t->stopped_only && r->stopped_at == KW_STORE_NO_TIME)
        return true;
    char line[512];
    run_line(r, line, sizeof(line));
    put(t, line);
    return true;
}

static void facts_of(struct fx *f, int64_t ticket, struct text *t)
{
    struct kw_err err = {0};
    assert_int_equal(
        kw_store_runs(f->st, &(struct kw_run_filter){.ticket = ticket}, add_run, t, &err), KW_OK);
}

/* ---- a stopped run as it stood before its stop ---- */

struct stopped_runs {
    size_t n;
    struct kw_run_row v[64];
    char str[64][9][24]; /* each row's strings, which the store's do not outlive */
};

static bool keep_stopped(const struct kw_run_row *r, void *ctx)
{
    struct stopped_runs *s = ctx;
    if (r->stopped_at == KW_STORE_NO_TIME || s->n == 64)
        return true;
    struct kw_run_row *c = &s->v[s->n];
    *c = *r;
    const char **f[9] = {&c->metric,       &c->status,   &c->calendar, &c->level,  &c->tier,
                         &c->organisation, &c->category, &c->region,   &c->channel};
    for (int i = 0; i < 9; i++)
        if (*f[i]) {
            snprintf(s->str[s->n][i], sizeof(s->str[0][0]), "%s", *f[i]);
            *f[i] = s->str[s->n][i];
        }
    s->n++;
    return true;
}

/* Every stopped run of ticket carried back from its stop (GET /kpis: one
 * that breached in a bucket and stopped after its end) equals the run
 * measured again from the events as of each instant tried (from the
 * instant it stood running from to just before its stop), but for
 * steady_from, which only an open run's measure reads; *carried counts
 * them, *refused the instants the row says it cannot carry to. */
static void carry_back(struct fx *f, int64_t ticket, size_t *carried, size_t *refused)
{
    struct kw_err err = {0};
    struct kw_ticket_row t;
    assert_int_equal(kw_store_ticket_get(f->st, ticket, &t, &err), KW_OK);
    const struct kw_compiled *k = kw_clocks_commitment(f->u.clocks, f->st, t.commitment_id, &err);
    assert_non_null(k);
    struct stopped_runs *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(
        kw_store_runs(f->st, &(struct kw_run_filter){.ticket = ticket}, keep_stopped, s, &err),
        KW_OK);
    for (size_t i = 0; i < s->n; i++) {
        struct kw_run_row r = s->v[i];
        int64_t span = r.stopped_at - r.steady_from;
        int64_t at[] = {
            r.steady_from, r.steady_from + span / 3, r.steady_from + span / 2, r.stopped_at - 1,
            r.stopped_at,  r.steady_from - 1,        r.breached_at + 1};
        for (size_t a = 0; a < sizeof(at) / sizeof(at[0]); a++) {
            struct kw_run_row back;
            if (!kw_clocks_run_carried(k, &r, at[a], &back)) {
                (*refused)++;
                continue;
            }
            assert_true(at[a] >= r.steady_from && at[a] < r.stopped_at);
            struct kw_runs_at m;
            if (kw_clocks_runs_at(f->u.clocks, f->st, &f->sla, ticket, t.commitment_id, at[a], &m,
                                  &err) != KW_OK)
                fail_msg("runs at: %s", err.msg);
            const struct kw_run_row *then = NULL;
            for (size_t j = 0; j < m.n; j++)
                if (m.rows[j].run == r.run && strcmp(m.rows[j].metric, r.metric) == 0)
                    then = &m.rows[j];
            assert_non_null(then);
            struct kw_run_row want = *then;
            want.ticket_id = r.ticket_id;
            want.org_id = r.org_id;
            want.commitment_id = r.commitment_id;
            want.steady_from = back.steady_from = 0;
            char a1[512], a2[512];
            run_line(&back, a1, sizeof(a1));
            run_line(&want, a2, sizeof(a2));
            if (strcmp(a1, a2) != 0)
                fail_msg("ticket %lld as of %lld:\ncarried back: %sfrom the events: %s",
                         (long long)ticket, (long long)at[a], a1, a2);
            (*carried)++;
            kw_runs_at_release(&m);
        }
    }
    free(s);
}

/* ---- the random history ---- */

/* Each step is a unit of work in a savepoint, as on the writer; every 50
 * steps a commit (the history's transactions). */
static void try_begin(struct fx *f)
{
    struct kw_err err = {0};
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
}

static void end(struct fx *f, enum kw_code rc)
{
    struct kw_err err = {0};
    assert_int_equal(kw_store_release(f->st, rc == KW_OK, &err), KW_OK);
}

/* Project the tickets a calendar edit marked, as the server's catch-up does. */
static void catch_up(struct fx *f)
{
    struct kw_err err = {0};
    int64_t ids[64];
    size_t n = 0;
    assert_int_equal(kw_store_stale(f->st, 0, 64, ids, &n, &err), KW_OK);
    for (size_t i = 0; i < n; i++)
        if (kw_clocks_project(f->u.clocks, f->st, &f->sla, ids[i], f->u.now, NULL, &err) != KW_OK)
            fail_msg("catch up: %s", err.msg);
}

static void step(struct fx *f, int64_t *tickets, size_t *nt, unsigned *seed)
{
    struct kw_err err = {0};
    enum kw_code rc = KW_OK;
    int64_t id = *nt ? tickets[(size_t)rand_r(seed) % *nt] : 0;
    int what = *nt < 2 ? 0 : rand_r(seed) % 14;
    struct kw_move mv;
    try_begin(f);
    switch (what) {
    case 0: {
        if (*nt == 40)
            break;
        struct kw_ticket_in in = {
            .org_id = f->org, .title = "Down", .level = rand_r(seed) % 2 ? "L1" : "L2"};
        bool existed;
        rc = kw_ticket_create(&f->u, &f->agent, &in, &tickets[*nt], &existed, &err);
        if (rc == KW_OK)
            (*nt)++;
        break;
    }
    case 1:
        rc = kw_ticket_comment(&f->u, &f->agent, id, "on it", false, &err);
        break;
    case 2:
    case 3: {
        static const enum kw_state to[] = {KW_ST_ANALYSING, KW_ST_HANDLING, KW_ST_WAITING_CUSTOMER,
                                           KW_ST_HANDLING,  KW_ST_FEEDBACK, KW_ST_ARCHIVED};
        rc = kw_ticket_move(&f->u, &f->agent, id, to[(size_t)rand_r(seed) % 6], NULL, &mv, &err);
        break;
    }
    case 4:
        rc = kw_ticket_milestone(&f->u, &f->agent, id, "resolved", &err);
        break;
    case 5:
        rc = kw_ticket_milestone(&f->u, &f->agent, id, "first_response", &err);
        break;
    case 6:
    case 7:
        rc = kw_ticket_reopen(&f->u, rand_r(seed) % 2 ? &f->agent : &f->customer, id, "again", &mv,
                              &err);
        break;
    case 8: {
        struct kw_ticket_change ch = {.level = rand_r(seed) % 2 ? "L1" : "L2"};
        rc = kw_ticket_change(&f->u, &f->agent, id, &ch, &err);
        break;
    }
    case 9:
    case 10: {
        int k = rand_r(seed) % 3;
        struct kw_ticket_change ch = {.assignee_id = k == 2 ? -1 : f->agent_id[k],
                                      .team_id = f->team[rand_r(seed) % 2]};
        rc = kw_ticket_change(&f->u, &f->agent, id, &ch, &err);
        break;
    }
    case 11: {
        int fired;
        rc = kw_clocks_fire(f->u.clocks, f->st, &f->sla, id, f->u.now, &fired, &err);
        break;
    }
    case 12: {
        /* the calendar gets, or loses, a holiday a few days ahead */
        char spec[512], day[16];
        int64_t ahead = f->u.now + (int64_t)(rand_r(seed) % 5) * 86400;
        time_t tt = (time_t)ahead;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        if (rand_r(seed) % 2)
            snprintf(spec, sizeof(spec),
                     "{\"name\":\"office\",\"tz\":\"Asia/Shanghai\",\"week\":{" OFFICE_WEEK
                     "},\"holidays\":[\"%s\"]}",
                     day);
        else
            snprintf(spec, sizeof(spec),
                     "{\"name\":\"office\",\"tz\":\"Asia/Shanghai\",\"week\":{" OFFICE_WEEK "}}");
        struct kw_calendar_saved saved;
        int64_t marked;
        rc = kw_app_calendar_save(&f->u, "office", spec, &saved, &marked, &err);
        break;
    }
    default:
        break;
    }
    end(f, rc);
    if (what == 12 && rc == KW_OK)
        catch_up(f);
}

/* Steps of a history: fewer in the sanitizer builds, where each costs ten
 * times as much (the same seeds, so the same first steps). */
#ifdef KW_SLOW_BUILD
#define HISTORY_STEPS 250
#else
#define HISTORY_STEPS 400
#endif

/* back: the writer's clock steps back now and then (NTP, or another node's
 * clock on PostgreSQL): an event is then stamped at its ticket's last one,
 * and the facts must be measured as of that, not of the clock. */
static void history(const char *on_reopen, unsigned seed, bool back)
{
    struct fx f;
    fx_open(&f, on_reopen);
    int64_t tickets[40];
    size_t nt = 0;
    struct kw_err err = {0};
    for (int i = 0; i < HISTORY_STEPS; i++) {
        if (i % 50 == 0)
            assert_int_equal(kw_store_begin(f.st, &err), KW_OK);
        f.u.now += 60 * (1 + rand_r(&seed) % 90);
        if (back && rand_r(&seed) % 4 == 0)
            f.u.now -= 60 * (1 + rand_r(&seed) % 120);
        step(&f, tickets, &nt, &seed);
        if (i % 50 == 49)
            assert_int_equal(kw_store_commit(f.st, &err), KW_OK);
    }
    /* each ticket's facts, measured again as of its last projection (the
     * instant its open runs were measured at), equal the incremental ones */
    size_t runs = 0, restarted = 0, stopped = 0;
    struct text inc = {0}, re = {0}, inc_stopped = {.stopped_only = true},
                re_stopped = {.stopped_only = true};
    for (size_t i = 0; i < nt; i++) {
        struct text one = {0};
        facts_of(&f, tickets[i], &one);
        facts_of(&f, tickets[i], &inc_stopped);
        int64_t measured = f.u.now;
        const char *at = one.s ? strstr(one.s, "stop=-9223372036854775808") : NULL;
        if (at)
            measured = strtoll(strstr(at, " at=") + 4, NULL, 10);
        struct kw_ticket_row t;
        assert_int_equal(kw_store_ticket_get(f.st, tickets[i], &t, &err), KW_OK);
        struct kw_runs_at r;
        if (kw_clocks_runs_at(f.u.clocks, f.st, &f.sla, tickets[i], t.commitment_id, measured, &r,
                              &err) != KW_OK)
            fail_msg("runs at: %s", err.msg);
        struct text again = {0};
        for (size_t k = 0; k < r.n; k++) {
            r.rows[k].ticket_id = tickets[i];
            r.rows[k].org_id = f.org;
            r.rows[k].commitment_id = t.commitment_id;
        }
        /* the store's order: metric, then run */
        for (const char *m = "resolution"; m; m = strcmp(m, "resolution") == 0 ? "response" : NULL)
            for (size_t k = 0; k < r.n; k++)
                if (strcmp(r.rows[k].metric, m) == 0)
                    add_run(&r.rows[k], &again);
        for (size_t k = 0; k < r.n; k++) {
            restarted += r.rows[k].run > 0;
            stopped += r.rows[k].stopped_at != KW_STORE_NO_TIME;
        }
        runs += r.n;
        kw_runs_at_release(&r);
        if (strcmp(one.s ? one.s : "", again.s ? again.s : "") != 0)
            fail_msg("ticket %lld (%s, seed %u):\nincremental:\n%s\nfrom the events:\n%s",
                     (long long)tickets[i], on_reopen, seed, one.s ? one.s : "",
                     again.s ? again.s : "");
        put(&inc, one.s ? one.s : "");
        free(one.s);
        free(again.s);
    }
    size_t carried = 0, refused = 0;
    for (size_t i = 0; i < nt; i++)
        carry_back(&f, tickets[i], &carried, &refused);
    assert_true(carried >= 5);
    assert_true(refused >= 5);
    /* keepword kpi rebuild: the stopped runs are the same rows exactly */
    size_t rt = 0, rr = 0;
    if (kw_clocks_runs_rebuild(f.u.clocks, f.st, &f.sla, f.u.now, &rt, &rr, &err) != KW_OK)
        fail_msg("rebuild: %s", err.msg);
    assert_int_equal(rt, nt);
    assert_int_equal(rr, runs);
    for (size_t i = 0; i < nt; i++) {
        facts_of(&f, tickets[i], &re);
        facts_of(&f, tickets[i], &re_stopped);
    }
    assert_string_equal(inc_stopped.s ? inc_stopped.s : "", re_stopped.s ? re_stopped.s : "");
    /* the history did what it is for */
    assert_true(nt >= 10);
    assert_true(stopped >= 5);
    /* (the sanitizer builds' shorter histories that step back reopen none under restart) */
    if (strcmp(on_reopen, "restart") == 0 && !back)
        assert_true(restarted >= 1);
    free(inc.s);
    free(re.s);
    free(inc_stopped.s);
    free(re_stopped.s);
    fx_close(&f);
}

static void test_resume(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 2; seed++)
        history("resume", seed, false);
}

static void test_restart(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 2; seed++)
        history("restart", seed, false);
}

static void test_clock_steps_back(void **state)
{
    (void)state;
    history("resume", 3, true);
    history("restart", 4, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_clock_steps_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
