// SPDX-License-Identifier: MIT
/* The wait for confirmation and the call-back's rules (core/confirm.h),
 * one row per sentence of docs/policy.md. */
#include <stdlib.h>

#include "testutil.h"

#include "confirm.h"

/* 09:00-12:00 and 13:30-18:00 Asia/Shanghai, Tuesday 2026-03-10 a holiday */
#define SPLIT "[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]]"
static const char office[] =
    "{\"tz\":\"Asia/Shanghai\",\"week\":{\"mon\":" SPLIT ",\"tue\":" SPLIT ",\"wed\":" SPLIT
    ",\"thu\":" SPLIT ",\"fri\":[[\"09:00\",\"12:00\"]]},\"holidays\":[\"2026-03-10\"]}";

struct fixture {
    struct kw_tzdb *db;
    struct kw_cal *cal;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->db = kw_tzdb_new();
    f->cal = cal_from(f->db, office);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kw_cal_free(f->cal);
    kw_tzdb_free(f->db);
    free(f);
    return 0;
}

static void test_plan(void **state)
{
    const struct fixture *f = *state;
    static const struct {
        const char *name;
        int days;
        int64_t work;
        int pct;
        const char *since, *start, *remind, *deadline;
    } rows[] = {
        {"3 working days skip the weekend and the holiday, same time of day", 3, 0, 50,
         "2026-03-05T15:00:00+08:00", "2026-03-05T15:00:00+08:00", "2026-03-09T12:00:00+08:00",
         "2026-03-11T15:00:00+08:00"},
        {"a start outside working hours counts from the next working instant", 1, 0, 50,
         "2026-03-07T10:00:00+08:00", "2026-03-09T09:00:00+08:00", "2026-03-09T14:15:00+08:00",
         "2026-03-11T09:00:00+08:00"},
        {"a shorter day (Friday mornings only) ends at its last working instant", 1, 0, 0,
         "2026-03-05T15:00:00+08:00", "2026-03-05T15:00:00+08:00", NULL,
         "2026-03-06T12:00:00+08:00"},
        {"a working-time target ends where that much working time has passed", 0, 4 * 3600, 25,
         "2026-03-06T11:00:00+08:00", "2026-03-06T11:00:00+08:00", "2026-03-06T12:00:00+08:00",
         "2026-03-09T12:00:00+08:00"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kw_confirm_terms t = {.on = true,
                                     .working_days = rows[i].days,
                                     .work = rows[i].work,
                                     .remind_pct = rows[i].pct};
        struct kw_confirm_plan p;
        struct kw_err err = {0};
        if (kw_confirm_plan(&t, f->cal, T(rows[i].since), &p, &err) != KW_OK)
            fail_msg("%s: %s", rows[i].name, err.msg);
        if (p.start != T(rows[i].start) || p.deadline != T(rows[i].deadline) ||
            p.remind_at != (rows[i].remind ? T(rows[i].remind) : KW_NO_TIME))
            fail_msg("%s: start %lld deadline %lld remind %lld", rows[i].name, (long long)p.start,
                     (long long)p.deadline, (long long)p.remind_at);
    }
    struct kw_confirm_terms off = {.on = false};
    struct kw_confirm_plan p;
    assert_int_equal(kw_confirm_plan(&off, f->cal, 0, &p, NULL), KW_INVALID);
}

/* The commitment's terms: defaults, choices, and what is refused, located. */
#define DOC(extra)                                                                                 \
    "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","               \
    "\"calendars\":{\"office\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"17:00\"]]}},"       \
    "\"24x7\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"00:00\",\"24:00\"]]}}},\"levels\":[\"L1\"],"   \
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"]}],"     \
    "\"targets\":[{\"calendar\":\"office\",\"response\":\"1h\"}]" extra "}"

static void test_terms(void **state)
{
    (void)state;
    static const struct {
        const char *name, *json;
        bool on;
        int days, cal, pct, attempts;
        int64_t work;
    } ok[] = {
        {"3 working days on the first calendar, a reminder at half, 3 attempts", DOC(""), true, 3,
         0, 50, 3, 0},
        {"a working-time target on a named calendar, no reminder",
         DOC(",\"confirm_within\":{\"target\":\"4h\",\"calendar\":\"24x7\",\"remind_at\":null},"
             "\"callback_attempts\":5"),
         true, 0, 1, 0, 5, 4 * 3600},
        {"false: no wait ends", DOC(",\"confirm_within\":false"), false, 3, 0, 50, 3, 0},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct kw_err err = {0};
        struct kw_policy *p = kw_policy_parse(ok[i].json, strlen(ok[i].json), &err);
        if (!p)
            fail_msg("%s: %s", ok[i].name, err.msg);
        const struct kw_confirm_terms *t = kw_policy_confirm(p);
        if (t->on != ok[i].on || t->working_days != ok[i].days || t->calendar != ok[i].cal ||
            t->remind_pct != ok[i].pct || t->callback_attempts != ok[i].attempts ||
            t->work != ok[i].work)
            fail_msg("%s: on %d days %d cal %d pct %d attempts %d work %lld", ok[i].name, t->on,
                     t->working_days, t->calendar, t->remind_pct, t->callback_attempts,
                     (long long)t->work);
        kw_policy_free(p);
    }
    static const struct {
        const char *name, *json, *field;
    } bad[] = {
        {"a number", DOC(",\"confirm_within\":3"), "/confirm_within"},
        {"no working days", DOC(",\"confirm_within\":{\"working_days\":0}"),
         "/confirm_within/working_days"},
        {"both forms", DOC(",\"confirm_within\":{\"working_days\":1,\"target\":\"1h\"}"),
         "/confirm_within/target"},
        {"a zero target", DOC(",\"confirm_within\":{\"target\":0}"), "/confirm_within/target"},
        {"an unknown calendar", DOC(",\"confirm_within\":{\"calendar\":\"moon\"}"),
         "/confirm_within/calendar"},
        {"a reminder at 100 %", DOC(",\"confirm_within\":{\"remind_at\":100}"),
         "/confirm_within/remind_at"},
        {"an unknown member", DOC(",\"confirm_within\":{\"soon\":1}"), "/confirm_within/soon"},
        {"no attempts", DOC(",\"callback_attempts\":0"), "/callback_attempts"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kw_err err = {0};
        struct kw_policy *p = kw_policy_parse(bad[i].json, strlen(bad[i].json), &err);
        if (p || strcmp(err.field, bad[i].field) != 0)
            fail_msg("%s: got \"%s\" (%s)", bad[i].name, err.field, err.msg);
        kw_policy_free(p);
    }
}

static void test_next(void **state)
{
    (void)state;
    struct kw_confirm_plan p = {100, 200, 300};
    enum kw_confirm_due k;
    assert_int_equal(kw_confirm_next(&p, false, &k), 200);
    assert_int_equal(k, KW_CONFIRM_DUE_REMIND);
    assert_int_equal(kw_confirm_next(&p, true, &k), 300);
    assert_int_equal(k, KW_CONFIRM_DUE_TIMEOUT);
    p.remind_at = KW_NO_TIME;
    assert_int_equal(kw_confirm_next(&p, false, &k), 300);
    assert_int_equal(k, KW_CONFIRM_DUE_TIMEOUT);
}

static void test_outcome(void **state)
{
    (void)state;
    struct kw_event ev[] = {
        {.at = 1, .type = KW_EV_CREATED},
        {.at = 2, .type = KW_EV_MILESTONE, .name = "resolved"},
        {.at = 3, .type = KW_EV_MILESTONE, .name = "confirmed_by_timeout"},
        {.at = 4, .type = KW_EV_REOPENED, .name = "handling"},
        {.at = 5, .type = KW_EV_MILESTONE, .name = "resolved"},
        {.at = 6, .type = KW_EV_MILESTONE, .name = "customer_confirmed"},
    };
    int64_t at;
    assert_int_equal(kw_confirm_outcome(ev, 2, &at), KW_CONFIRM_OPEN);
    assert_int_equal(kw_confirm_outcome(ev, 3, &at), KW_CONFIRM_TIMEOUT);
    assert_int_equal(at, 3);
    assert_int_equal(kw_confirm_outcome(ev, 4, &at), KW_CONFIRM_OPEN);
    assert_int_equal(kw_confirm_outcome(ev, 6, &at), KW_CONFIRM_CUSTOMER);
    assert_int_equal(at, 6);
}

static void test_callback(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        struct kw_callback_in in;
        int made;
        bool done;
        enum kw_code want;
        const char *field;
    } rows[] = {
        {"reached with a satisfaction", {true, 4, 9, NULL, NULL}, 0, false, KW_OK, ""},
        {"reached without an nps", {true, 4, -1, NULL, NULL}, 2, false, KW_OK, ""},
        {"reached needs a satisfaction",
         {true, 0, -1, NULL, NULL},
         0,
         false,
         KW_INVALID,
         "/satisfaction"},
        {"satisfaction above 5", {true, 6, -1, NULL, NULL}, 0, false, KW_INVALID, "/satisfaction"},
        {"nps above 10", {true, 3, 11, NULL, NULL}, 0, false, KW_INVALID, "/nps"},
        {"not reached gives no satisfaction",
         {false, 3, -1, NULL, NULL},
         0,
         false,
         KW_INVALID,
         "/satisfaction"},
        {"not reached gives no nps", {false, 0, 5, NULL, NULL}, 0, false, KW_INVALID, "/nps"},
        {"not reached, a retry", {false, 0, -1, "no answer", NULL}, 2, false, KW_OK, ""},
        {"tried as often as allowed",
         {false, 0, -1, NULL, NULL},
         3,
         false,
         KW_CONFLICT,
         "/reached"},
        {"done once", {true, 5, -1, NULL, NULL}, 0, true, KW_CONFLICT, "/reached"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kw_err err = {0};
        enum kw_code rc = kw_callback_check(&rows[i].in, rows[i].made, rows[i].done, 3, &err);
        if (rc != rows[i].want || strcmp(err.field, rows[i].field) != 0)
            fail_msg("%s: got %d at \"%s\" (%s)", rows[i].name, rc, err.field, err.msg);
    }
    static const struct {
        int sat, nps;
        bool want;
    } d[] = {{1, -1, true}, {2, 10, true}, {3, -1, false}, {3, 6, true},
             {5, 7, false}, {4, 0, true},  {0, -1, false}};
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        if (kw_callback_dissatisfied(d[i].sat, d[i].nps) != d[i].want)
            fail_msg("dissatisfied(%d, %d) should be %d", d[i].sat, d[i].nps, d[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
        cmocka_unit_test(test_terms),
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_outcome),
        cmocka_unit_test(test_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
