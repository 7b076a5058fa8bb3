// SPDX-License-Identifier: MIT
/* SLA clocks: the seed examples as fixture policies, tickets that meet,
 * breach, pause over weekends and holidays, change level, reopen. */
#include <stdio.h>
#include <stdlib.h>

#include "policy_json.h"
#include "sla_json.h"
#include "testutil.h"

struct fx {
    struct kw_tzdb *db;
    struct kw_policy *p;
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
    struct kw_sla sla;
    json_t *docs[64]; /* the last replay's events: the runs' attributes point into them */
    size_t ndocs;
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n)
        fail_msg("cannot read %s", path);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Load examples/policies/NAME, with `patch` (JSON object) merged over it. */
static void load(struct fx *f, const char *name, const char *patch)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/examples/policies/%s", KW_SOURCE_DIR, name);
    char *text = slurp(path);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    if (patch) {
        json_t *pj = json_loads(patch, 0, NULL);
        assert_non_null(pj);
        json_object_update(doc, pj);
        json_decref(pj);
    }
    struct kw_err err = {0};
    f->db = kw_tzdb_new();
    f->p = kw_policy_from_json(doc, &err);
    json_decref(doc);
    if (!f->p)
        fail_msg("%s: %s", name, err.msg);
    if (kw_policy_compile(f->db, f->p, f->cals, &err) != KW_OK)
        fail_msg("%s: %s", name, err.msg);
    kw_sla_init(&f->sla);
    f->ndocs = 0;
}

static void drop_docs(struct fx *f)
{
    for (size_t i = 0; i < f->ndocs; i++)
        json_decref(f->docs[i]);
    f->ndocs = 0;
}

static void unload(struct fx *f)
{
    drop_docs(f);
    for (size_t i = 0; i < kw_policy_calendar_count(f->p); i++)
        kw_cal_free(f->cals[i]);
    kw_policy_free(f->p);
    kw_tzdb_free(f->db);
    kw_sla_release(&f->sla);
}

/* Replay events (one JSON object a line) as of `at` (NULL: the last event). */
static enum kw_code replay(struct fx *f, const char *lines, const char *at, struct kw_err *err)
{
    struct kw_event ev[64];
    drop_docs(f);
    json_t **docs = f->docs;
    size_t n = 0;
    char *copy = strdup(lines), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        docs[n] = json_loads(line, 0, &jerr);
        if (!docs[n])
            fail_msg("bad test event %s: %s", line, jerr.text);
        if (kw_event_from_json(docs[n], &ev[n], NULL, err) != KW_OK)
            fail_msg("bad test event %s: %s", line, err->msg);
        n++;
    }
    free(copy);
    enum kw_code rc = kw_sla_eval(f->p, (const struct kw_cal *const *)f->cals, ev, n,
                                  at ? T(at) : ev[n - 1].at, &f->sla, err);
    f->ndocs = n;
    return rc;
}

static const struct kw_clock *clock_of(struct fx *f, const char *metric)
{
    for (size_t i = 0; i < f->sla.n; i++)
        if (strcmp(kw_policy_metric_id(f->p, (size_t)f->sla.clock[i].metric), metric) == 0)
            return &f->sla.clock[i];
    return NULL;
}

static void must_replay(struct fx *f, const char *lines, const char *at)
{
    struct kw_err err = {0};
    if (replay(f, lines, at, &err) != KW_OK)
        fail_msg("replay: %s", err.msg);
}

#define EV(at, rest) "{\"at\":\"" at "\"," rest "}\n"
#define CREATED(at, attrs) EV(at, "\"type\":\"created\"," attrs)
#define MS(at, m) EV(at, "\"type\":\"milestone\",\"milestone\":\"" m "\"")
#define STATE(at, s) EV(at, "\"type\":\"state\",\"state\":\"" s "\"")
#define LEVEL(at, l) EV(at, "\"type\":\"level\",\"level\":\"" l "\"")
#define REOPEN(at) EV(at, "\"type\":\"reopened\"")

static void expect(const struct kw_clock *c, const char *name, enum kw_clock_status status,
                   int64_t target, int64_t elapsed)
{
    if (!c)
        fail_msg("%s: no such clock", name);
    if (c->status != status || c->target != target || c->elapsed != elapsed)
        fail_msg("%s: status %s target %lld elapsed %lld; want %s %lld %lld", name,
                 kw_clock_status_name(c->status), (long long)c->target, (long long)c->elapsed,
                 kw_clock_status_name(status), (long long)target, (long long)elapsed);
}

/* L1-L4: 15 min / 1 h, 30 min / 4 h, 1 h / 24 h, 5 min / 30 min, 7x24. */
static void test_levels(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "levels.json", NULL);
    static const struct {
        const char *level;
        int64_t response, resolution;
    } rows[] = {
        {"L1", 15 * M, 1 * H}, {"L2", 30 * M, 4 * H}, {"L3", 1 * H, 24 * H}, {"L4", 5 * M, 30 * M}};
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        char ev[256];
        snprintf(ev, sizeof(ev), CREATED("2026-03-07T23:00:00+08:00", "\"level\":\"%s\""),
                 rows[i].level);
        must_replay(&f, ev, "2026-03-07T23:01:00+08:00");
        expect(clock_of(&f, "response"), rows[i].level, KW_CLOCK_RUNNING, rows[i].response, 60);
        expect(clock_of(&f, "resolution"), rows[i].level, KW_CLOCK_RUNNING, rows[i].resolution, 60);
        /* 7x24: a Saturday night counts, deadline is plain addition */
        assert_int_equal(clock_of(&f, "response")->deadline,
                         T("2026-03-07T23:00:00+08:00") + rows[i].response);
    }
    /* L1 met at 10 min; the 50 % warning was passed at 7.5 min. */
    must_replay(&f,
                CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\"")
                    MS("2026-03-02T09:10:00+08:00", "first_response"),
                NULL);
    const struct kw_clock *c = clock_of(&f, "response");
    expect(c, "L1 met", KW_CLOCK_MET, 15 * M, 10 * M);
    assert_int_equal(c->met_at, T("2026-03-02T09:10:00+08:00"));
    assert_true(c->warn[0].reached);
    assert_int_equal(c->warn[0].at, T("2026-03-02T09:07:30+08:00"));
    assert_false(c->warn[1].reached);
    assert_int_equal(c->warn[1].at, KW_NO_TIME);
    assert_true(c->sri > 66.6 && c->sri < 66.7);
    assert_string_equal(c->stopped_by, "first_response");
    /* Met exactly at the deadline is met; a second later is late. */
    must_replay(&f,
                CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\"")
                    MS("2026-03-02T09:15:00+08:00", "first_response"),
                NULL);
    expect(clock_of(&f, "response"), "at the deadline", KW_CLOCK_MET, 15 * M, 15 * M);
    must_replay(&f,
                CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\"")
                    MS("2026-03-02T09:15:01+08:00", "first_response"),
                NULL);
    c = clock_of(&f, "response");
    expect(c, "a second late", KW_CLOCK_MET_LATE, 15 * M, 15 * M + 1);
    assert_int_equal(c->breached_at, T("2026-03-02T09:15:00+08:00"));
    /* Still running after the deadline: breached, with the instant. */
    must_replay(&f, CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\""),
                "2026-03-02T09:20:00+08:00");
    c = clock_of(&f, "response");
    expect(c, "breached", KW_CLOCK_BREACHED, 15 * M, 20 * M);
    assert_int_equal(c->breached_at, T("2026-03-02T09:15:00+08:00"));
    assert_int_equal(c->next_due, KW_NO_TIME);
    unload(&f);
}

/* Every warning threshold is reached in turn; next_due walks them. */
static void test_warnings(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "levels.json", NULL);
    static const struct {
        const char *at;
        int reached;
        const char *next;
        int next_pct;
    } steps[] = {
        {"2026-03-02T09:07:29+08:00", 0, "2026-03-02T09:07:30+08:00", 50},
        {"2026-03-02T09:07:30+08:00", 1, "2026-03-02T09:11:15+08:00", 75},
        {"2026-03-02T09:11:15+08:00", 2, "2026-03-02T09:13:30+08:00", 90},
        {"2026-03-02T09:13:30+08:00", 3, "2026-03-02T09:15:00+08:00", 100},
        {"2026-03-02T09:15:00+08:00", 3, NULL, 0},
    };
    for (size_t i = 0; i < N_ELEMS(steps); i++) {
        must_replay(&f, CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\""), steps[i].at);
        const struct kw_clock *c = clock_of(&f, "response");
        for (int k = 0; k < 3; k++)
            if (c->warn[k].reached != (k < steps[i].reached))
                fail_msg("at %s: warning %d reached=%d", steps[i].at, k, c->warn[k].reached);
        if (steps[i].next) {
            assert_int_equal(c->next_due, T(steps[i].next));
            assert_int_equal(c->next_pct, steps[i].next_pct);
        } else {
            assert_int_equal(c->status, KW_CLOCK_BREACHED);
            assert_int_equal(c->next_due, KW_NO_TIME);
        }
    }
    unload(&f);
}

/* Customer tiers on business hours: standard 24 h, VIP 12 h, strategic 4 h;
 * waiting for the customer pauses the clock over a weekend. */
static void test_tiers_and_pauses(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "tiers.json", NULL);
    static const struct {
        const char *tier;
        int64_t target;
        const char *deadline;
    } rows[] = {
        /* Friday 2026-03-06 16:00; 2 working hours left that day */
        {"strategic", 4 * H, "2026-03-09T11:00:00+08:00"},
        {"vip", 12 * H, "2026-03-10T11:30:00+08:00"},
        {"standard", 24 * H, "2026-03-11T17:30:00+08:00"},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        char ev[256];
        snprintf(ev, sizeof(ev),
                 CREATED("2026-03-06T16:00:00+08:00", "\"level\":\"P3\",\"tier\":\"%s\""),
                 rows[i].tier);
        must_replay(&f, ev, "2026-03-06T16:00:00+08:00");
        const struct kw_clock *c = clock_of(&f, "resolution");
        expect(c, rows[i].tier, KW_CLOCK_RUNNING, rows[i].target, 0);
        if (c->deadline != T(rows[i].deadline))
            fail_msg("%s: deadline off by %lld s", rows[i].tier,
                     (long long)(c->deadline - T(rows[i].deadline)));
    }
    /* Strategic: 1 h worked Friday, then waiting for the customer from Friday
     * 17:00 to Monday 10:00: 2 working hours paused (Fri 17-18, Mon 9-10). */
    const char *ev = CREATED("2026-03-06T16:00:00+08:00", "\"level\":\"P3\",\"tier\":\"strategic\"")
        STATE("2026-03-06T17:00:00+08:00", "waiting_customer");
    must_replay(&f, ev, "2026-03-09T09:30:00+08:00");
    const struct kw_clock *c = clock_of(&f, "resolution");
    expect(c, "paused over the weekend", KW_CLOCK_PAUSED, 4 * H, 1 * H);
    assert_int_equal(c->paused, 90 * M);
    assert_int_equal(c->deadline, KW_NO_TIME); /* unknown while paused */
    assert_int_equal(c->next_due, KW_NO_TIME);
    char ev2[1024];
    snprintf(ev2, sizeof(ev2), "%s%s", ev, STATE("2026-03-09T10:00:00+08:00", "handling"));
    must_replay(&f, ev2, "2026-03-09T10:00:00+08:00");
    c = clock_of(&f, "resolution");
    expect(c, "resumed", KW_CLOCK_RUNNING, 4 * H, 1 * H);
    assert_int_equal(c->paused, 2 * H);
    /* 3 h left from Monday 10:00: 10-12, 13:30-14:30 */
    assert_int_equal(c->deadline, T("2026-03-09T14:30:00+08:00"));
    unload(&f);
}

/* Spring Festival: holidays and the make-up Saturdays, via the calendar. */
static void test_holidays_and_makeup_days(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "tiers.json", NULL);
    must_replay(&f, CREATED("2026-02-13T17:00:00+08:00", "\"level\":\"P3\",\"tier\":\"strategic\""),
                "2026-02-13T17:00:00+08:00");
    /* Fri 17-18 (1 h), make-up Sat 14 Feb 09-12 (3 h): due Saturday noon. */
    assert_int_equal(clock_of(&f, "resolution")->deadline, T("2026-02-14T12:00:00+08:00"));
    must_replay(&f, CREATED("2026-02-14T17:00:00+08:00", "\"level\":\"P3\",\"tier\":\"strategic\""),
                "2026-02-20T12:00:00+08:00");
    const struct kw_clock *c = clock_of(&f, "resolution");
    /* 1 h on the Saturday, nothing over the festival; due Tue 24 Feb 12:00. */
    expect(c, "over the festival", KW_CLOCK_RUNNING, 4 * H, 1 * H);
    assert_int_equal(c->deadline, T("2026-02-24T12:00:00+08:00"));
    /* Paused from the make-up Saturday 17:00 across the festival to Tue 24 Feb
     * 10:00: only Sat 17-18 and Tue 9-10 are paused working time. */
    must_replay(&f,
                CREATED("2026-02-14T16:00:00+08:00", "\"level\":\"P3\",\"tier\":\"strategic\"")
                    STATE("2026-02-14T17:00:00+08:00", "waiting_customer")
                        STATE("2026-02-24T10:00:00+08:00", "handling"),
                NULL);
    c = clock_of(&f, "resolution");
    expect(c, "paused over the festival", KW_CLOCK_RUNNING, 4 * H, 1 * H);
    assert_int_equal(c->paused, 2 * H);
    assert_int_equal(c->deadline, T("2026-02-24T14:30:00+08:00"));
    unload(&f);
}

/* 3-6-12 by region, on 7x24. */
static void test_regions(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "regions-3-6-12.json", NULL);
    static const struct {
        const char *region;
        int64_t target;
    } rows[] = {{"domestic", 3 * H}, {"international", 6 * H}, {"special_line", 12 * H}};
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        char ev[256];
        snprintf(ev, sizeof(ev),
                 CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"fault\",\"region\":\"%s\""),
                 rows[i].region);
        must_replay(&f, ev, "2026-03-02T10:00:00+08:00");
        expect(clock_of(&f, "restore"), rows[i].region, KW_CLOCK_RUNNING, rows[i].target, 1 * H);
    }
    /* A region corrected while the clock runs (the "region" event of an
     * edit, an attrs event to the clocks): the target is re-resolved under
     * on_level_change recompute, measured from the same start. */
    must_replay(
        &f,
        CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"fault\",\"region\":\"domestic\"")
            EV("2026-03-02T09:30:00+08:00", "\"type\":\"attrs\",\"region\":\"special_line\""),
        "2026-03-02T10:00:00+08:00");
    expect(clock_of(&f, "restore"), "region corrected", KW_CLOCK_RUNNING, 12 * H, 1 * H);
    /* A ticket with no region gets no restore clock at all. */
    must_replay(&f, CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"fault\""), NULL);
    assert_int_equal(f.sla.n, 0);
    unload(&f);
}

/* 1-5-15 and the 4-hour package: several milestones on one ticket. */
static void test_milestones(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "milestones.json", NULL);
    must_replay(&f,
                CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"major\"")
                    MS("2026-03-02T09:00:40+08:00", "acknowledged")
                        MS("2026-03-02T09:06:00+08:00", "accepted")
                            MS("2026-03-02T09:14:00+08:00", "plan_confirmed"),
                NULL);
    assert_int_equal(f.sla.n, 3);
    expect(clock_of(&f, "acknowledge"), "1", KW_CLOCK_MET, 1 * M, 40);
    expect(clock_of(&f, "expert"), "5", KW_CLOCK_MET_LATE, 5 * M, 6 * M);
    expect(clock_of(&f, "plan"), "15", KW_CLOCK_MET, 15 * M, 14 * M);
    must_replay(&f,
                CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"urgent\"")
                    MS("2026-03-02T09:20:00+08:00", "first_response"),
                "2026-03-02T10:00:00+08:00");
    assert_int_equal(f.sla.n, 3);
    expect(clock_of(&f, "response"), "30m", KW_CLOCK_MET, 30 * M, 20 * M);
    expect(clock_of(&f, "plan"), "2h", KW_CLOCK_RUNNING, 2 * H, 1 * H);
    expect(clock_of(&f, "resolution"), "4h", KW_CLOCK_RUNNING, 4 * H, 1 * H);
    assert_null(clock_of(&f, "acknowledge"));
    unload(&f);
}

/* "2 working hours" on the office calendar next to a 7x24 clock. */
static void test_business_time_next_to_24x7(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "business-hours.json", NULL);
    must_replay(&f, CREATED("2026-03-06T17:00:00+08:00", "\"level\":\"routine\""),
                "2026-03-07T17:00:00+08:00");
    const struct kw_clock *r = clock_of(&f, "response"), *s = clock_of(&f, "resolution");
    expect(r, "office", KW_CLOCK_RUNNING, 2 * H, 1 * H);
    assert_int_equal(r->deadline, T("2026-03-09T10:00:00+08:00"));
    /* 24 real hours later the 7x24 clock is at its target: breached, while
     * the business-hours clock has used 1 of its 2 hours. */
    expect(s, "24x7", KW_CLOCK_BREACHED, 24 * H, 24 * H);
    assert_int_equal(s->deadline, T("2026-03-07T17:00:00+08:00"));
    unload(&f);
}

/* Satisfaction call-back within 24 h of closing; pending until then. */
static void test_callback(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "acme.json", NULL);
    const char *ev = CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L2\"")
        MS("2026-03-02T09:10:00+08:00", "first_response")
            MS("2026-03-02T11:00:00+08:00", "resolved");
    must_replay(&f, ev, NULL);
    const struct kw_clock *c = clock_of(&f, "callback");
    assert_non_null(c);
    assert_int_equal(c->status, KW_CLOCK_PENDING);
    assert_int_equal(c->started_at, KW_NO_TIME);
    char more[1024];
    snprintf(more, sizeof(more), "%s%s%s", ev, MS("2026-03-02T12:00:00+08:00", "closed"),
             MS("2026-03-03T10:00:00+08:00", "callback_done"));
    must_replay(&f, more, NULL);
    expect(clock_of(&f, "callback"), "call-back", KW_CLOCK_MET, 24 * H, 22 * H);
    unload(&f);
}

/* A level change mid-way: recompute from the original start, or keep. */
static void test_level_change(void **state)
{
    (void)state;
    const char *ev = CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L3\"")
        LEVEL("2026-03-02T09:20:00+08:00", "L1");
    struct fx f;
    load(&f, "levels.json", NULL);
    must_replay(&f, ev, "2026-03-02T09:20:00+08:00");
    /* Raised to L1 after 20 min: against L1's 15 min, already breached. */
    const struct kw_clock *c = clock_of(&f, "response");
    expect(c, "recompute", KW_CLOCK_BREACHED, 15 * M, 20 * M);
    assert_int_equal(c->breached_at, T("2026-03-02T09:15:00+08:00"));
    assert_int_equal(c->started_at, T("2026-03-02T09:00:00+08:00"));
    /* A clock that already stopped keeps what it had. */
    char stopped[1024];
    snprintf(stopped, sizeof(stopped), "%s%s",
             CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L3\"")
                 MS("2026-03-02T09:20:00+08:00", "first_response"),
             LEVEL("2026-03-02T09:30:00+08:00", "L1"));
    must_replay(&f, stopped, NULL);
    expect(clock_of(&f, "response"), "stopped before", KW_CLOCK_MET, 1 * H, 20 * M);
    expect(clock_of(&f, "resolution"), "running", KW_CLOCK_RUNNING, 1 * H, 30 * M);
    unload(&f);

    load(&f, "levels.json", "{\"on_level_change\":\"keep\"}");
    must_replay(&f, ev, "2026-03-02T09:20:00+08:00");
    expect(clock_of(&f, "response"), "keep", KW_CLOCK_RUNNING, 1 * H, 20 * M);
    expect(clock_of(&f, "resolution"), "keep", KW_CLOCK_RUNNING, 24 * H, 20 * M);
    unload(&f);
}

/* Reopening a resolved ticket: resume (the gap does not count) or restart. */
static void test_reopen(void **state)
{
    (void)state;
    const char *ev = CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L2\"")
        MS("2026-03-02T09:10:00+08:00", "first_response")
            MS("2026-03-02T11:00:00+08:00", "resolved") REOPEN("2026-03-02T15:00:00+08:00");
    struct fx f;
    load(&f, "levels.json", NULL);
    must_replay(&f, ev, "2026-03-02T16:00:00+08:00");
    /* resume: 2 h before resolving + 1 h since reopening */
    const struct kw_clock *c = clock_of(&f, "resolution");
    expect(c, "resume", KW_CLOCK_RUNNING, 4 * H, 3 * H);
    assert_int_equal(c->started_at, T("2026-03-02T09:00:00+08:00"));
    assert_int_equal(c->deadline, T("2026-03-02T17:00:00+08:00"));
    assert_int_equal(c->paused, 0); /* the stopped gap is not a pause */
    /* first_response is not taken back by a reopen */
    expect(clock_of(&f, "response"), "response stays", KW_CLOCK_MET, 30 * M, 10 * M);
    unload(&f);

    load(&f, "levels.json", "{\"on_reopen\":\"restart\"}");
    must_replay(&f, ev, "2026-03-02T16:00:00+08:00");
    c = clock_of(&f, "resolution");
    expect(c, "restart", KW_CLOCK_RUNNING, 4 * H, 1 * H);
    assert_int_equal(c->started_at, T("2026-03-02T15:00:00+08:00"));
    unload(&f);

    /* The call-back clock starts at closing; reopening takes it back. */
    load(&f, "acme.json", NULL);
    must_replay(&f,
                CREATED("2026-03-02T09:00:00+08:00",
                        "\"level\":\"L2\"") MS("2026-03-02T11:00:00+08:00", "resolved")
                    MS("2026-03-02T12:00:00+08:00", "closed") REOPEN("2026-03-02T13:00:00+08:00"),
                NULL);
    assert_int_equal(clock_of(&f, "callback")->status, KW_CLOCK_PENDING);
    unload(&f);
}

/* Service nodes: the built-in seven, a commitment's own, and reopening. */
static void test_service_nodes(void **state)
{
    (void)state;
    struct fx f;
    struct kw_event ev[8];
    int64_t reached[KW_POLICY_MAX_NODES];
    load(&f, "levels.json", NULL);
    assert_int_equal(kw_policy_node_count(f.p), 7);
    assert_string_equal(kw_policy_node_label(f.p, 0, "zh"), "登记");
    assert_string_equal(kw_policy_node_label(f.p, 6, "en"), "Archived");
    assert_int_equal(kw_policy_reopen_window(f.p), 7 * 86400);
    unload(&f);

    load(&f, "levels.json",
         "{\"reopen_window\":\"3d\",\"service_nodes\":["
         "{\"id\":\"in\",\"label\":{\"zh\":\"受理\",\"en\":\"Received\"},\"at\":\"created\"},"
         "{\"id\":\"work\",\"at\":\"handling\"},"
         "{\"id\":\"fixed\",\"at\":\"resolved\"},"
         "{\"id\":\"closed\",\"at\":\"archived\"}]}");
    assert_int_equal(kw_policy_reopen_window(f.p), 3 * 86400);
    assert_int_equal(kw_policy_node_count(f.p), 4);
    assert_string_equal(kw_policy_node_label(f.p, 0, "zh"), "受理");
    assert_string_equal(kw_policy_node_label(f.p, 1, "en"), "work"); /* no label: the id */
    const int64_t t0 = T("2026-03-02T09:00:00+08:00");
    ev[0] = (struct kw_event){.at = t0, .type = KW_EV_CREATED};
    ev[1] = (struct kw_event){.at = t0 + 60, .type = KW_EV_STATE, .name = "handling"};
    ev[2] = (struct kw_event){.at = t0 + 120, .type = KW_EV_MILESTONE, .name = "resolved"};
    ev[3] = (struct kw_event){.at = t0 + 180, .type = KW_EV_STATE, .name = "archived"};
    ev[4] = (struct kw_event){.at = t0 + 240, .type = KW_EV_STATE, .name = "handling"};
    kw_nodes_reached(f.p, ev, 4, reached);
    assert_int_equal(reached[0], t0);
    assert_int_equal(reached[1], t0 + 60);
    assert_int_equal(reached[2], t0 + 120);
    assert_int_equal(reached[3], t0 + 180);
    /* reopening takes back the resolution and the archive; handling keeps
     * its first time */
    ev[4] = (struct kw_event){.at = t0 + 240, .type = KW_EV_REOPENED};
    kw_nodes_reached(f.p, ev, 5, reached);
    assert_int_equal(reached[1], t0 + 60);
    assert_int_equal(reached[2], KW_NO_TIME);
    assert_int_equal(reached[3], KW_NO_TIME);
    unload(&f);
}

/* Berlin DST through the calendar: 24x7 across the spring change. */
static void test_dst(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "levels.json",
         "{\"calendars\":{\"24x7\":{\"tz\":\"Europe/"
         "Berlin\",\"week\":{\"mon\":[[\"00:00\",\"24:00\"]],"
         "\"tue\":[[\"00:00\",\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\",\"24:"
         "00\"]],"
         "\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],\"sun\":[[\"00:00\",\"24:"
         "00\"]]}},"
         "\"office\":{\"tz\":\"Europe/Berlin\",\"week\":{\"sun\":[[\"01:00\",\"04:00\"]]}}}}");
    must_replay(&f, CREATED("2026-03-29T01:30:00+01:00", "\"level\":\"L2\""),
                "2026-03-29T01:30:00+01:00");
    /* 4 h of real time: local 01:30 CET + 4 h = 06:30 CEST */
    assert_int_equal(clock_of(&f, "resolution")->deadline, T("2026-03-29T06:30:00+02:00"));
    unload(&f);
}

static void test_bad_events(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "acme.json", NULL);
    static const struct {
        const char *name, *events, *msg;
    } cases[] = {
        {"not created first", MS("2026-03-02T09:00:00+08:00", "first_response"),
         "events[0] (milestone at 2026-03-02T01:00:00Z): the first event must be created"},
        {"out of order",
         CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\"")
             MS("2026-03-02T08:59:59+08:00", "first_response"),
         "events[1] (milestone at 2026-03-02T00:59:59Z): out of order"},
        {"created twice",
         CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\"")
             CREATED("2026-03-02T09:01:00+08:00", "\"level\":\"L1\""),
         "a ticket is created once"},
        {"unknown milestone",
         CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\"")
             MS("2026-03-02T09:01:00+08:00", "lunch"),
         "unknown milestone \"lunch\""},
        {"unknown state",
         CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\"")
             STATE("2026-03-02T09:01:00+08:00", "napping"),
         "unknown state \"napping\""},
        {"unknown level", CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L9\""),
         "unknown level \"L9\""},
        {"unknown tier", CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\",\"tier\":\"gold\""),
         "unknown tier \"gold\""},
        {"no level", CREATED("2026-03-02T09:00:00+08:00", "\"tier\":\"vip\""), "missing level"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_err err = {0};
        if (replay(&f, cases[i].events, NULL, &err) == KW_OK)
            fail_msg("%s: accepted", cases[i].name);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].name, err.msg, cases[i].msg);
    }
    struct kw_err err = {0};
    assert_int_equal(replay(&f, CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L1\""),
                            "2026-03-01T00:00:00Z", &err),
                     KW_RANGE);
    assert_non_null(strstr(err.msg, "did not exist yet"));
    /* Bad event JSON */
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"at\":\"2026-03-02T09:00:00Z\"}", "type: missing"},
        {"{\"type\":\"created\",\"level\":\"L1\"}", "at: missing"},
        {"{\"type\":\"created\",\"at\":\"yesterday\"}", "at: \"yesterday\" is not an ISO 8601"},
        {"{\"type\":\"coffee\",\"at\":\"2026-03-02T09:00:00Z\"}", "not an event type"},
        {"{\"type\":\"milestone\",\"at\":\"2026-03-02T09:00:00Z\"}", "milestone: missing"},
        {"{\"type\":\"state\",\"at\":\"2026-03-02T09:00:00Z\",\"level\":\"L1\"}",
         "not part of a state event"},
        {"{\"type\":\"created\",\"at\":\"2026-03-02T09:00:00Z\",\"priority\":\"P1\"}",
         "unknown field \"priority\""},
        {"{\"type\":\"created\",\"at\":\"2026-03-02T09:00:00Z\",\"level\":1}",
         "level: expected a string"},
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        json_t *j = json_loads(bad[i].json, 0, NULL);
        struct kw_event e;
        struct kw_err e2 = {0};
        if (kw_event_from_json(j, &e, NULL, &e2) == KW_OK)
            fail_msg("%s: accepted", bad[i].json);
        if (!strstr(e2.msg, bad[i].msg))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].json, e2.msg, bad[i].msg);
        json_decref(j);
    }
    unload(&f);
}

/* Instants decide: a threshold (a warning, the deadline) is reached only if
 * the clock runs at its crossing instant. Office 09:00-12:00 and
 * 13:30-18:00 Asia/Shanghai, response and resolution 1 h, warnings at
 * 50/75/90 % (response) and 75/90 % (resolution, paused while waiting). */
static void test_instants(void **state)
{
    (void)state;
    struct fx f;
    load(&f, "business-hours.json",
         "{\"targets\":[{\"calendar\":\"office\",\"response\":\"1h\",\"resolution\":\"1h\"}]}");
#define MON(hm) "2026-03-02T" hm "+08:00"
    static const struct {
        const char *name, *events, *as_of, *metric;
        enum kw_clock_status status;
        int64_t elapsed;
        const char *breached_at; /* NULL: none */
        int warned;              /* response warnings reached; -1: not checked */
    } rows[] = {
        {"due 18:00, answered 18:20: late although no working time passed",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"") MS(MON("18:20:00"), "first_response"),
         NULL, "response", KW_CLOCK_MET_LATE, 1 * H, "2026-03-02T10:00:00Z", 3},
        {"answered at the deadline second: met",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"") MS(MON("18:00:00"), "first_response"),
         NULL, "response", KW_CLOCK_MET, 1 * H, NULL, 3},
        {"answered a second before: met",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"") MS(MON("17:59:59"), "first_response"),
         NULL, "response", KW_CLOCK_MET, 1 * H - 1, NULL, 3},
        {"still running at the deadline second: breached",
         CREATED(MON("17:00:00"), "\"level\":\"routine\""), MON("18:00:00"), "response",
         KW_CLOCK_BREACHED, 1 * H, "2026-03-02T10:00:00Z", 3},
        {"a second before the deadline: running", CREATED(MON("17:00:00"), "\"level\":\"routine\""),
         MON("17:59:59"), "response", KW_CLOCK_RUNNING, 1 * H - 1, NULL, 3},
        {"due 12:00 before lunch, answered 12:40",
         CREATED(MON("11:00:00"), "\"level\":\"routine\"") MS(MON("12:40:00"), "first_response"),
         NULL, "response", KW_CLOCK_MET_LATE, 1 * H, "2026-03-02T04:00:00Z", 3},
        {"due Friday 18:00, answered Saturday",
         CREATED("2026-03-06T17:00:00+08:00", "\"level\":\"routine\"")
             MS("2026-03-07T10:00:00+08:00", "first_response"),
         NULL, "response", KW_CLOCK_MET_LATE, 1 * H, "2026-03-06T10:00:00Z", 3},
        {"a stop at the 50 % instant does not reach it",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"") MS(MON("17:30:00"), "first_response"),
         NULL, "response", KW_CLOCK_MET, 30 * M, NULL, 0},
        {"a second later it does",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"") MS(MON("17:30:01"), "first_response"),
         NULL, "response", KW_CLOCK_MET, 30 * M + 1, NULL, 1},
        {"paused at the deadline second: not reached while paused",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"")
             STATE(MON("18:00:00"), "waiting_customer"),
         MON("20:00:00"), "resolution", KW_CLOCK_PAUSED, 1 * H, NULL, -1},
        {"paused at the deadline, resumed at 20:00: reached at the resume",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"")
             STATE(MON("18:00:00"), "waiting_customer") STATE(MON("20:00:00"), "handling"),
         "2026-03-03T10:00:00+08:00", "resolution", KW_CLOCK_BREACHED, 2 * H,
         "2026-03-02T12:00:00Z", -1},
        {"paused at 18:20, after the deadline: reached at 18:00",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"")
             STATE(MON("18:20:00"), "waiting_customer"),
         MON("20:00:00"), "resolution", KW_CLOCK_BREACHED, 1 * H, "2026-03-02T10:00:00Z", -1},
        {"paused at the deadline, resolved while paused: met",
         CREATED(MON("17:00:00"), "\"level\":\"routine\"")
             STATE(MON("18:00:00"), "waiting_customer") MS(MON("20:00:00"), "resolved"),
         NULL, "resolution", KW_CLOCK_MET, 1 * H, NULL, -1},
    };
#undef MON
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        must_replay(&f, rows[i].events, rows[i].as_of);
        const struct kw_clock *c = clock_of(&f, rows[i].metric);
        expect(c, rows[i].name, rows[i].status, 1 * H, rows[i].elapsed);
        int64_t want = rows[i].breached_at ? T(rows[i].breached_at) : KW_NO_TIME;
        if (c->breached_at != want)
            fail_msg("%s: breached_at %lld, want %lld", rows[i].name, (long long)c->breached_at,
                     (long long)want);
        int warned = 0;
        for (size_t k = 0; k < c->n_warn; k++)
            warned += c->warn[k].reached;
        if (rows[i].warned >= 0 && warned != rows[i].warned)
            fail_msg("%s: %d warnings reached, want %d", rows[i].name, warned, rows[i].warned);
    }
    /* the example of the docs: SRI 100 although late */
    must_replay(&f,
                CREATED("2026-03-02T17:00:00+08:00", "\"level\":\"routine\"")
                    MS("2026-03-02T18:20:00+08:00", "first_response"),
                NULL);
    assert_true(clock_of(&f, "response")->sri == 100.0);
    /* the deadline that ends a working interval is that end, not the next morning */
    must_replay(&f, CREATED("2026-03-02T17:00:00+08:00", "\"level\":\"routine\""), NULL);
    assert_int_equal(clock_of(&f, "response")->deadline, T("2026-03-02T18:00:00+08:00"));
    must_replay(&f, CREATED("2026-03-02T11:00:00+08:00", "\"level\":\"routine\""), NULL);
    assert_int_equal(clock_of(&f, "response")->deadline, T("2026-03-02T12:00:00+08:00"));
    unload(&f);
}

/* keep + restart: a reopening starts a new run, with the target of the
 * level in force then; resume goes on with the run's own target. */
static void test_keep_restart(void **state)
{
    (void)state;
    const char *ev = CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L3\"")
        MS("2026-03-02T09:30:00+08:00", "resolved") LEVEL("2026-03-02T10:00:00+08:00", "L1")
            REOPEN("2026-03-02T11:00:00+08:00");
    struct fx f;
    load(&f, "levels.json", "{\"on_level_change\":\"keep\",\"on_reopen\":\"restart\"}");
    must_replay(&f, ev, "2026-03-02T11:30:00+08:00");
    const struct kw_clock *c = clock_of(&f, "resolution");
    expect(c, "restart under keep", KW_CLOCK_RUNNING, 1 * H, 30 * M);
    assert_int_equal(c->started_at, T("2026-03-02T11:00:00+08:00"));
    assert_int_equal(c->deadline, T("2026-03-02T12:00:00+08:00"));
    unload(&f);
    load(&f, "levels.json", "{\"on_level_change\":\"keep\",\"on_reopen\":\"resume\"}");
    must_replay(&f, ev, "2026-03-02T11:30:00+08:00");
    expect(clock_of(&f, "resolution"), "resume under keep", KW_CLOCK_RUNNING, 24 * H, 60 * M);
    unload(&f);
}

/* The runs of a clock (docs/kpi.md): restart keeps the earlier run with its
 * stop, its attributes then and its paused wall time; resume continues the
 * one run, leaving the stopped gap out of its wall time. */
static const struct kw_sla_run *run_of(struct fx *f, const char *metric, unsigned seq)
{
    for (size_t i = 0; i < f->sla.n_runs; i++)
        if (f->sla.runs[i].seq == seq &&
            strcmp(kw_policy_metric_id(f->p, (size_t)f->sla.runs[i].clock.metric), metric) == 0)
            return &f->sla.runs[i];
    return NULL;
}

static void test_runs(void **state)
{
    (void)state;
    /* L2 resolution: 4 h on 7x24. Paused 30 min, resolved after 5 h wall
     * (4.5 h working: met_late), level raised to L1 after the stop, reopened. */
    const char *ev = CREATED("2026-03-02T09:00:00+08:00", "\"level\":\"L2\"")
        STATE("2026-03-02T10:00:00+08:00", "waiting_customer")
            STATE("2026-03-02T10:30:00+08:00", "handling")
                MS("2026-03-02T14:00:00+08:00", "resolved") LEVEL("2026-03-02T14:30:00+08:00", "L1")
                    REOPEN("2026-03-02T15:00:00+08:00");
    struct fx f;
    load(&f, "levels.json", "{\"on_reopen\":\"restart\"}");
    must_replay(&f, ev, "2026-03-02T16:00:00+08:00");
    const struct kw_sla_run *r0 = run_of(&f, "resolution", 0), *r1 = run_of(&f, "resolution", 1);
    assert_non_null(r0);
    assert_non_null(r1);
    assert_null(run_of(&f, "resolution", 2));
    assert_int_equal(r0->clock.status, KW_CLOCK_MET_LATE);
    assert_int_equal(r0->stopped_at, T("2026-03-02T14:00:00+08:00"));
    assert_int_equal(r0->clock.elapsed, 4 * H + 30 * M);
    assert_int_equal(r0->clock.breached_at, T("2026-03-02T13:30:00+08:00"));
    assert_int_equal(r0->paused_wall, 30 * M);
    assert_int_equal(r0->wall, 4 * H + 30 * M);
    assert_string_equal(r0->attrs.v[KW_ATTR_LEVEL], "L2"); /* at the stop */
    assert_int_equal(r0->dims_at, r0->stopped_at);
    /* the new run: L1's 1 h target from the reopening, running */
    assert_int_equal(r1->clock.status, KW_CLOCK_BREACHED);
    assert_int_equal(r1->clock.started_at, T("2026-03-02T15:00:00+08:00"));
    assert_int_equal(r1->clock.target, 1 * H);
    assert_int_equal(r1->stopped_at, KW_NO_TIME);
    assert_int_equal(r1->wall, 1 * H);
    assert_string_equal(r1->attrs.v[KW_ATTR_LEVEL], "L1");
    /* the response clock (no first response yet): one run, breached at 09:15: the raise to L1
     * recomputes it */
    assert_int_equal(run_of(&f, "response", 0)->clock.status, KW_CLOCK_BREACHED);
    assert_int_equal(run_of(&f, "response", 0)->clock.breached_at, T("2026-03-02T09:15:00+08:00"));
    assert_null(run_of(&f, "response", 1));
    unload(&f);

    /* resume: one run, the stopped hour left out of its wall time */
    load(&f, "levels.json", NULL);
    must_replay(&f, ev, "2026-03-02T16:00:00+08:00");
    r0 = run_of(&f, "resolution", 0);
    assert_null(run_of(&f, "resolution", 1));
    assert_int_equal(r0->stopped_at, KW_NO_TIME);
    assert_int_equal(r0->paused_wall, 30 * M);
    assert_int_equal(r0->wall, 7 * H - 30 * M - 1 * H);
    assert_int_equal(r0->dims_at, T("2026-03-02T16:00:00+08:00"));
    unload(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_tiers_and_pauses),
        cmocka_unit_test(test_holidays_and_makeup_days),
        cmocka_unit_test(test_regions),
        cmocka_unit_test(test_milestones),
        cmocka_unit_test(test_business_time_next_to_24x7),
        cmocka_unit_test(test_callback),
        cmocka_unit_test(test_level_change),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_dst),
        cmocka_unit_test(test_service_nodes),
        cmocka_unit_test(test_bad_events),
        cmocka_unit_test(test_instants),
        cmocka_unit_test(test_keep_restart),
        cmocka_unit_test(test_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
