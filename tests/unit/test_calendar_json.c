// SPDX-License-Identifier: MIT
/* The calendar's JSON form: every bad input names its field; round trips. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

#define OK_WEEK "\"week\":{\"mon\":[[\"09:00\",\"18:00\"]]}"

static void test_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *name, *json, *field, *msg;
    } cases[] = {
        {"not JSON", "{\"tz\":", "", "not valid JSON"},
        {"not an object", "[1,2]", "", "must be a JSON object"},
        {"missing tz", "{" OK_WEEK "}", "/tz", "tz: missing"},
        {"tz not a name", "{\"tz\":\"../etc/passwd\"," OK_WEEK "}", "/tz", "IANA time zone"},
        {"tz not a string", "{\"tz\":8," OK_WEEK "}", "/tz", "IANA time zone"},
        {"missing week", "{\"tz\":\"UTC\"}", "/week", "week: missing"},
        {"unknown top-level field", "{\"tz\":\"UTC\"," OK_WEEK ",\"holiday\":[]}", "/holiday",
         "unknown field \"holiday\""},
        {"unknown weekday", "{\"tz\":\"UTC\",\"week\":{\"monday\":[]}}", "/week/monday",
         "week: unknown field \"monday\""},
        {"hour 25",
         "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"12:00\"],[\"13:00\",\"25:00\"]]}}",
         "/week/mon/1/1", "week.mon[1]: \"25:00\" is not a time of day"},
        {"minute 60", "{\"tz\":\"UTC\",\"week\":{\"tue\":[[\"09:60\",\"12:00\"]]}}",
         "/week/tue/0/0", "week.tue[0]: \"09:60\" is not a time of day"},
        {"24:30", "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"24:30\"]]}}", "/week/mon/0/1",
         "not a time of day"},
        {"9:00 without a leading zero",
         "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"9:00\",\"18:00\"]]}}", "/week/mon/0/0",
         "expected HH:MM"},
        {"24:00 as a start", "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"24:00\",\"06:00\"]]}}",
         "/week/mon/0", "\"24:00\" can only end an interval"},
        {"end equal to start", "{\"tz\":\"UTC\",\"week\":{\"wed\":[[\"09:00\",\"09:00\"]]}}",
         "/week/wed/0", "week.wed[0]: end equals start"},
        {"interval not a pair", "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\"]]}}", "/week/mon/0",
         "expected an interval"},
        {"interval of numbers", "{\"tz\":\"UTC\",\"week\":{\"mon\":[[9,18]]}}", "/week/mon/0",
         "expected an interval"},
        {"day not a list", "{\"tz\":\"UTC\",\"week\":{\"mon\":\"09:00-18:00\"}}", "/week/mon",
         "week.mon: expected a list"},
        {"overlapping intervals",
         "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"12:00\"],[\"11:00\",\"14:00\"]]}}",
         "/week/mon/1", "week.mon[1]: overlaps week.mon[0]"},
        {"a night shift overlapping the same day's morning",
         "{\"tz\":\"UTC\",\"week\":{\"fri\":[[\"20:00\",\"06:00\"],[\"21:00\",\"22:00\"]]}}",
         "/week/fri/1", "overlaps week.fri[0]"},
        {"too many intervals",
         "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"00:00\",\"00:01\"],[\"00:02\",\"00:03\"],"
         "[\"00:04\",\"00:05\"],[\"00:06\",\"00:07\"],[\"00:08\",\"00:09\"],[\"00:10\",\"00:11\"],"
         "[\"00:12\",\"00:13\"],[\"00:14\",\"00:15\"],[\"00:16\",\"00:17\"],[\"00:18\",\"00:19\"],"
         "[\"00:20\",\"00:21\"],[\"00:22\",\"00:23\"],[\"00:24\",\"00:25\"],[\"00:26\",\"00:27\"],"
         "[\"00:28\",\"00:29\"],[\"00:30\",\"00:31\"],[\"00:32\",\"00:33\"]]}}",
         "/week/mon", "at most 16"},
        {"invalid date", "{\"tz\":\"UTC\"," OK_WEEK ",\"holidays\":[\"2026-02-30\"]}",
         "/holidays/0", "holidays[0]: \"2026-02-30\" is not a date"},
        {"not a leap year", "{\"tz\":\"UTC\"," OK_WEEK ",\"holidays\":[\"2027-02-29\"]}",
         "/holidays/0", "is not a date"},
        {"date in another format", "{\"tz\":\"UTC\"," OK_WEEK ",\"holidays\":[\"2026/02/16\"]}",
         "/holidays/0", "expected YYYY-MM-DD"},
        {"date out of range", "{\"tz\":\"UTC\"," OK_WEEK ",\"holidays\":[\"1800-01-01\"]}",
         "/holidays/0", "outside years 1900-2199"},
        {"holiday not a string", "{\"tz\":\"UTC\"," OK_WEEK ",\"holidays\":[20260216]}",
         "/holidays/0", "expected a date string"},
        {"holidays not a list", "{\"tz\":\"UTC\"," OK_WEEK ",\"holidays\":\"2026-02-16\"}",
         "/holidays", "expected a list of dates"},
        {"duplicate holiday",
         "{\"tz\":\"UTC\"," OK_WEEK ",\"holidays\":[\"2026-02-17\",\"2026-02-16\",\"2026-02-17\"]}",
         "/holidays/2", "holidays[2]: 2026-02-17 is listed twice"},
        {"extra workday with a bad date",
         "{\"tz\":\"UTC\"," OK_WEEK ",\"extra_workdays\":{\"2026-13-01\":[[\"09:00\",\"18:00\"]]}}",
         "/extra_workdays/2026-13-01", "extra_workdays.2026-13-01: \"2026-13-01\" is not a date"},
        {"extra workday with no hours",
         "{\"tz\":\"UTC\"," OK_WEEK ",\"extra_workdays\":{\"2026-02-14\":[]}}",
         "/extra_workdays/2026-02-14", "needs working hours"},
        {"extra workday with a bad time",
         "{\"tz\":\"UTC\"," OK_WEEK ",\"extra_workdays\":{\"2026-02-14\":[[\"09:00\",\"1800\"]]}}",
         "/extra_workdays/2026-02-14/0/1", "extra_workdays.2026-02-14[0]: \"1800\""},
        {"a holiday that is also an extra workday",
         "{\"tz\":\"UTC\"," OK_WEEK ",\"holidays\":[\"2026-02-14\"],"
         "\"extra_workdays\":{\"2026-02-14\":[[\"09:00\",\"18:00\"]]}}",
         "/extra_workdays/2026-02-14", "2026-02-14 is both a holiday and an extra workday"},
        {"duplicate key", "{\"tz\":\"UTC\",\"tz\":\"UTC\"," OK_WEEK "}", "", "duplicate"},
        {"name too long",
         "{\"tz\":\"UTC\"," OK_WEEK ",\"name\":\"0123456789012345678901234567890123456789"
         "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234"
         "56789\"}",
         "/name", "name: expected a string of at most 127 bytes"},
        {"invalid UTF-8", "{\"tz\":\"UTC\"," OK_WEEK ",\"name\":\"\xff\"}", "", "not valid JSON"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_cal_spec spec;
        struct kw_err err = {0};
        enum kw_code rc = kw_cal_spec_parse(cases[i].json, strlen(cases[i].json), &spec, &err);
        if (rc == KW_OK) {
            kw_cal_spec_release(&spec);
            fail_msg("%s: accepted", cases[i].name);
        }
        if (strcmp(err.field, cases[i].field) != 0)
            fail_msg("%s: field \"%s\", want \"%s\" (%s)", cases[i].name, err.field, cases[i].field,
                     err.msg);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].name, err.msg, cases[i].msg);
    }
}

static void test_unknown_zone(void **state)
{
    (void)state;
    struct kw_tzdb *db = kw_tzdb_new();
    struct kw_cal_spec spec;
    struct kw_err err = {0};
    const char *json = "{\"tz\":\"Mars/Olympus_Mons\"," OK_WEEK "}";
    assert_int_equal(kw_cal_spec_parse(json, strlen(json), &spec, &err), KW_OK);
    assert_null(kw_cal_compile(db, &spec, &err));
    assert_string_equal(err.field, "/tz");
    assert_non_null(strstr(err.msg, "unknown time zone \"Mars/Olympus_Mons\""));
    kw_cal_spec_release(&spec);
    kw_tzdb_free(db);
}

static void test_good_input_and_round_trip(void **state)
{
    (void)state;
    static const char *const good[] = {
        ("{\"name\":\"cn\",\"tz\":\"Asia/Shanghai\",\"week\":{\"mon\":[[\"13:30\",\"18:00\"],"
         "[\"09:00\",\"12:00\"]],\"sat\":[],\"sun\":[]},\"holidays\":[\"2026-02-17\","
         "\"2026-02-16\"],\"extra_workdays\":{\"2026-02-14\":[[\"09:00\",\"18:00\"]]}}"),
        ("{\"tz\":\"UTC\",\"week\":{\"fri\":[[\"22:00\",\"06:00\"]],\"sat\":[[\"00:00\",\"24:00\"]]"
         ","
         "\"sun\":[[\"22:00\",\"00:00\"]]}}"),
        "{\"tz\":\"Europe/Berlin\",\"week\":{\"mon\":[[\"00:00\",\"23:59\"]]},\"holidays\":[]}",
    };
    for (size_t i = 0; i < N_ELEMS(good); i++) {
        struct kw_cal_spec a, b;
        struct kw_err err = {0};
        if (kw_cal_spec_parse(good[i], strlen(good[i]), &a, &err) != KW_OK)
            fail_msg("case %zu: %s", i, err.msg);
        json_t *j = kw_cal_spec_to_json(&a);
        assert_non_null(j);
        char *text = json_dumps(j, JSON_COMPACT);
        assert_int_equal(kw_cal_spec_parse(text, strlen(text), &b, &err), KW_OK);
        json_t *j2 = kw_cal_spec_to_json(&b);
        char *text2 = json_dumps(j2, JSON_COMPACT);
        assert_string_equal(text, text2); /* encode(decode(encode(x))) == encode(x) */
        assert_memory_equal(a.week, b.week, sizeof(a.week));
        assert_int_equal(a.n_holidays, b.n_holidays);
        free(text);
        free(text2);
        json_decref(j);
        json_decref(j2);
        kw_cal_spec_release(&a);
        kw_cal_spec_release(&b);
    }
    /* Shifts and holidays come out sorted; overnight ends come back as written. */
    struct kw_cal_spec s;
    assert_int_equal(kw_cal_spec_parse(good[0], strlen(good[0]), &s, NULL), KW_OK);
    assert_int_equal(s.week[0].shift[0].start, 9 * H);
    assert_true(s.holidays[0] < s.holidays[1]);
    json_t *j = kw_cal_spec_to_json(&s);
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(strstr(text, "\"holidays\":[\"2026-02-16\",\"2026-02-17\"]"));
    free(text);
    json_decref(j);
    kw_cal_spec_release(&s);
    assert_int_equal(kw_cal_spec_parse(good[1], strlen(good[1]), &s, NULL), KW_OK);
    assert_int_equal(s.week[4].shift[0].end, 30 * H);
    assert_int_equal(s.week[6].shift[0].end, 24 * H);
    j = kw_cal_spec_to_json(&s);
    text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(strstr(text, "\"fri\":[[\"22:00\",\"06:00\"]]"));
    assert_non_null(strstr(text, "\"sun\":[[\"22:00\",\"24:00\"]]"));
    free(text);
    json_decref(j);
    kw_cal_spec_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_unknown_zone),
        cmocka_unit_test(test_good_input_and_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
