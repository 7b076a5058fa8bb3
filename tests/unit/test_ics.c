// SPDX-License-Identifier: MIT
/* .ics import: the marker rule, and the plan that previews an import. */
#include <stdio.h>
#include <stdlib.h>

#include "ics.h"
#include "testutil.h"

static void test_marker(void **state)
{
    (void)state;
    static const struct {
        const char *name, *summary, *marker;
        bool want;
    } cases[] = {
        {"a marker after a space", "国庆节 休", "休", true},
        {"a make-up day is not a day off", "国庆节调休 班", "休", false},
        {"the make-up day's own marker", "国庆节调休 班", "班", true},
        {"调休 alone carries no 休", "调休", "休", false},
        {"a name ending in 休 carries no 休", "国庆节调休", "休", false},
        {"full-width brackets", "元旦（休）", "休", true},
        {"ASCII brackets", "元旦(休)", "休", true},
        {"lenticular brackets", "春节【班】", "班", true},
        {"an ideographic space", "国庆节　休", "休", true},
        {"the whole summary", "休", "休", true},
        {"a marker in the middle", "春节 补班 第1天/共2天", "补班", true},
        {"补班 is not 班", "春节 补班 第1天/共2天", "班", false},
        {"a word that contains the marker", "休息日", "休", false},
        {"trailing spaces", "元旦 休  ", "休", true},
        {"English markers", "Christmas Day (off)", "off", true},
        {"case matters", "Christmas Day (Off)", "off", false},
        {"an empty summary", "", "休", false},
        {"no summary", NULL, "休", false},
        {"an empty marker never matches", "国庆节 休", "", false},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++)
        if (kw_ics_has_marker(cases[i].summary, cases[i].marker) != cases[i].want)
            fail_msg("%s: \"%s\" carries \"%s\": got %d", cases[i].name,
                     cases[i].summary ? cases[i].summary : "(null)", cases[i].marker,
                     !cases[i].want);
}

static void test_marker_check(void **state)
{
    (void)state;
    static const struct {
        const char *name, *marker, *msg; /* msg: NULL when accepted */
    } cases[] = {
        {"one character", "休", NULL},
        {"a word", "补班", NULL},
        {"empty", "", "empty"},
        {"a space", "国庆 休", "one whole token"},
        {"a bracket", "（休）", "one whole token"},
        {"too long", "0123456789012345678901234567890123", "longer than 32 bytes"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_err err = {0};
        enum kw_code rc = kw_ics_marker_check(cases[i].marker, &err);
        if (cases[i].msg == NULL ? rc != KW_OK : rc != KW_INVALID || !strstr(err.msg, cases[i].msg))
            fail_msg("%s: got %d \"%s\"", cases[i].name, rc, err.msg);
    }
}

/* A feed in the shapes real Chinese holiday calendars use. */
#define EV(uid, from, to, summary)                                                                 \
    "BEGIN:VEVENT\r\nUID:" uid "\r\nDTSTART;VALUE=DATE:" from "\r\nDTEND;VALUE=DATE:" to           \
    "\r\nSUMMARY:" summary "\r\nEND:VEVENT\r\n"
static const char FEED[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" EV(
    "1", "20260101", "20260104", "元旦（休）") EV("2", "20260104", "20260105", "元旦 班")
    EV("3", "20261001", "20261008", "国庆节 休") EV("4", "20260927", "20260928", "国庆节调休 班")
        EV("5", "20261010", "20261011", "国庆节调休")
            EV("6", "20261005", "20261006",
               "重阳 休") "BEGIN:VEVENT\r\nUID:7\r\nDTSTART:20261009T090000Z\r\nSUMMARY:会议 休\r\n"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n";

static void load_spec(struct kw_cal_spec *spec, const char *json)
{
    struct kw_err err = {0};
    if (kw_cal_spec_parse(json, strlen(json), spec, &err) != KW_OK)
        fail_msg("bad calendar in test: %s", err.msg);
}

#define OFFICE                                                                                     \
    "{\"name\":\"office\",\"tz\":\"Asia/Shanghai\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]],"     \
    "\"tue\":[[\"09:00\",\"18:00\"]]},\"holidays\":[\"2026-10-01\"]"

static void test_plan_by_marker(void **state)
{
    (void)state;
    struct kw_cal_spec spec;
    struct kw_ics_plan p;
    struct kw_err err = {0};
    load_spec(&spec, OFFICE "}");
    struct kw_ics_opts o = {
        .mode = KW_ICS_BY_MARKER, .holiday_marker = "休", .workday_marker = "班"};
    if (kw_ics_plan(&spec, FEED, strlen(FEED), &o, &p, &err) != KW_OK)
        fail_msg("plan: %s", err.msg);
    static const struct {
        const char *date, *summary, *marker;
        enum kw_ics_kind kind;
        bool present;
    } want[] = {
        {"2026-01-01", "元旦（休）", "休", KW_ICS_HOLIDAY, false},
        {"2026-01-02", "元旦（休）", "休", KW_ICS_HOLIDAY, false},
        {"2026-01-03", "元旦（休）", "休", KW_ICS_HOLIDAY, false},
        {"2026-01-04", "元旦 班", "班", KW_ICS_WORKDAY, false},
        {"2026-09-27", "国庆节调休 班", "班", KW_ICS_WORKDAY, false},
        {"2026-10-01", "国庆节 休", "休", KW_ICS_HOLIDAY, true},
        {"2026-10-02", "国庆节 休", "休", KW_ICS_HOLIDAY, false},
        {"2026-10-03", "国庆节 休", "休", KW_ICS_HOLIDAY, false},
        {"2026-10-04", "国庆节 休", "休", KW_ICS_HOLIDAY, false},
        {"2026-10-05", "国庆节 休", "休", KW_ICS_HOLIDAY, false}, /* 重阳 休 too: first names it */
        {"2026-10-06", "国庆节 休", "休", KW_ICS_HOLIDAY, false},
        {"2026-10-07", "国庆节 休", "休", KW_ICS_HOLIDAY, false},
    };
    assert_int_equal(p.n_dates, N_ELEMS(want));
    for (size_t i = 0; i < N_ELEMS(want); i++) {
        char d[11];
        kw_date_format(p.dates[i].day, d);
        if (strcmp(d, want[i].date) != 0 || strcmp(p.dates[i].summary, want[i].summary) != 0 ||
            strcmp(p.dates[i].marker, want[i].marker) != 0 || p.dates[i].kind != want[i].kind ||
            p.dates[i].present != want[i].present)
            fail_msg("row %zu: got %s \"%s\" by %s kind %d present %d, want %s \"%s\"", i, d,
                     p.dates[i].summary, p.dates[i].marker, p.dates[i].kind, p.dates[i].present,
                     want[i].date, want[i].summary);
    }
    assert_int_equal(p.st.events, 5);
    assert_int_equal(p.st.added, 11);
    assert_int_equal(p.st.present, 1);
    assert_int_equal(p.st.skipped, 2);
    assert_int_equal(p.n_skips, 2);
    assert_string_equal(p.skips[0].summary, "国庆节调休");
    assert_int_equal(p.skips[0].why, KW_ICS_NO_MARKER);
    assert_string_equal(p.skips[1].summary, "会议 休");
    assert_int_equal(p.skips[1].why, KW_ICS_TIMED);

    /* Applying adds exactly the new dates, with Monday's hours for make-up days. */
    if (kw_ics_apply(&spec, &p, &spec.week[0], &err) != KW_OK)
        fail_msg("apply: %s", err.msg);
    assert_int_equal(spec.n_holidays, 10);
    assert_int_equal(spec.n_extra, 2);
    assert_int_equal(spec.extra[0].hours.n, 1);
    kw_ics_plan_release(&p);
    kw_cal_spec_release(&spec);
}

static void test_plan_one_kind(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum kw_ics_mode mode;
        const char *marker;
        size_t dates, skipped;
    } cases[] = {
        {"holidays by 休 leave out 调休 and 班", KW_ICS_AS_HOLIDAYS, "休", 10, 4},
        {"workdays by 班", KW_ICS_AS_WORKDAYS, "班", 2, 5},
        {"no marker takes every all-day event", KW_ICS_AS_WORKDAYS, NULL, 13, 1},
        {"a marker nobody carries", KW_ICS_AS_HOLIDAYS, "Weihnachten", 0, 7},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_cal_spec spec;
        struct kw_ics_plan p;
        struct kw_err err = {0};
        load_spec(&spec, "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]]}}");
        struct kw_ics_opts o = {.mode = cases[i].mode,
                                .holiday_marker = cases[i].marker,
                                .workday_marker = cases[i].marker};
        if (kw_ics_plan(&spec, FEED, strlen(FEED), &o, &p, &err) != KW_OK)
            fail_msg("%s: %s", cases[i].name, err.msg);
        if (p.n_dates != cases[i].dates || p.st.skipped != cases[i].skipped)
            fail_msg("%s: %zu dates, %zu skipped", cases[i].name, p.n_dates, p.st.skipped);
        if (cases[i].dates == 0) {
            enum kw_code rc = kw_ics_apply(&spec, &p, &spec.week[0], &err);
            if (rc != KW_INVALID || !strstr(err.msg, "carries the marker \"Weihnachten\""))
                fail_msg("%s: apply got %d \"%s\"", cases[i].name, rc, err.msg);
            assert_int_equal(spec.n_holidays, 0);
        }
        kw_ics_plan_release(&p);
        kw_cal_spec_release(&spec);
    }
}

static void test_plan_refusals(void **state)
{
    (void)state;
    static const char both[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" EV(
        "1", "20261001", "20261002", "国庆节 休")
        EV("2", "20261001", "20261002", "国庆节 班") "END:VCALENDAR\r\n";
    static const char bracketed[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" EV(
        "1", "20261001", "20261002", "国庆节 休 班") "END:VCALENDAR\r\n";
    static const struct {
        const char *name, *spec, *feed;
        enum kw_ics_mode mode;
        enum kw_code want;
        const char *msg;
    } cases[] = {
        {"not a calendar", OFFICE "}", "hello", KW_ICS_BY_MARKER, KW_INVALID,
         "not an iCalendar file"},
        {"empty", OFFICE "}", "", KW_ICS_BY_MARKER, KW_INVALID, "not an iCalendar file"},
        {"a date the feed gives as both kinds", OFFICE "}", both, KW_ICS_BY_MARKER, KW_CONFLICT,
         "2026-10-01 is a holiday in the feed (\"国庆节 休\") and an extra workday"},
        {"a make-up day the calendar has as a holiday", OFFICE "}", FEED, KW_ICS_AS_WORKDAYS,
         KW_CONFLICT, "2026-10-01 from the feed is a holiday in the calendar already"},
        {"an event with both markers is skipped", OFFICE "}", bracketed, KW_ICS_BY_MARKER, KW_OK,
         NULL},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_cal_spec spec;
        struct kw_ics_plan p;
        struct kw_err err = {0};
        load_spec(&spec, cases[i].spec);
        struct kw_ics_opts o = {.mode = cases[i].mode,
                                .holiday_marker = cases[i].mode == KW_ICS_BY_MARKER ? "休" : NULL,
                                .workday_marker = cases[i].mode == KW_ICS_BY_MARKER ? "班" : NULL};
        enum kw_code rc = kw_ics_plan(&spec, cases[i].feed, strlen(cases[i].feed), &o, &p, &err);
        if (rc != cases[i].want || (cases[i].msg && !strstr(err.msg, cases[i].msg)))
            fail_msg("%s: got %d \"%s\"", cases[i].name, rc, err.msg);
        if (rc == KW_OK &&
            (p.n_dates != 0 || p.n_skips != 1 || p.skips[0].why != KW_ICS_BOTH_MARKERS))
            fail_msg("%s: %zu dates, %zu skips", cases[i].name, p.n_dates, p.n_skips);
        kw_ics_plan_release(&p);
        kw_cal_spec_release(&spec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marker),         cmocka_unit_test(test_marker_check),
        cmocka_unit_test(test_plan_by_marker), cmocka_unit_test(test_plan_one_kind),
        cmocka_unit_test(test_plan_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
