// SPDX-License-Identifier: MIT
/* Dates, times of day, instants and durations at the edges. */
#include <stdio.h>

#include "testutil.h"

static void test_civil_days(void **state)
{
    (void)state;
    assert_int_equal(kw_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(kw_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(kw_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(kw_weekday(kw_days_from_civil(2026, 2, 14)), 5); /* a Saturday */
    assert_int_equal(kw_weekday(kw_days_from_civil(1900, 1, 1)), 0);  /* a Monday */
    assert_int_equal(kw_day_of(-1), -1);
    assert_int_equal(kw_day_of(86399), 0);
    /* Round trip over four centuries, leap days included. */
    for (int64_t d = kw_days_from_civil(1900, 1, 1); d < kw_days_from_civil(2300, 1, 1); d++) {
        int64_t y;
        unsigned m, dd;
        kw_civil_from_days(d, &y, &m, &dd);
        if (kw_days_from_civil(y, m, dd) != d)
            fail_msg("day %lld does not round-trip", (long long)d);
    }
}

static void test_instants(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        int64_t want;
    } cases[] = {
        {"2026-02-13T09:30:00+08:00", true, 1770946200},
        {"2026-02-13T01:30:00Z", true, 1770946200},
        {"2026-02-13t01:30:00z", true, 1770946200},
        {"2026-02-13 01:30:00Z", true, 1770946200},
        {"2026-02-13T09:30+08:00", true, 1770946200},
        {"2026-02-13T09:30:00+0800", true, 1770946200},
        {"2026-02-13T09:30:00+08", true, 1770946200},
        {"2026-02-13T09:30:00.999+08:00", true, 1770946200},
        {"2026-02-12T20:30:00-05:00", true, 1770946200},
        {"2028-02-29T00:00:00Z", true, 1835395200},
        {"1969-12-31T23:59:59Z", true, -1},
        {"2026-02-13T09:30:00", false, 0},
        {"2026-02-13", false, 0},
        {"2026-02-30T00:00:00Z", false, 0},
        {"2027-02-29T00:00:00Z", false, 0},
        {"2026-02-13T24:00:00Z", false, 0},
        {"2026-02-13T09:60:00Z", false, 0},
        {"2026-02-13T09:30:60Z", false, 0},
        {"2026-02-13T09:30:00+19:00", false, 0},
        {"2026-02-13T09:30:00.Z", false, 0},
        {"2026-02-13T09:30:00Zjunk", false, 0},
        {"", false, 0},
        {"now", false, 0},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        int64_t got = 0;
        struct kw_err err = {0};
        enum kw_code rc = kw_instant_parse(cases[i].text, strlen(cases[i].text), &got, &err);
        if (!cases[i].ok) {
            if (rc == KW_OK)
                fail_msg("\"%s\" accepted as %lld", cases[i].text, (long long)got);
            assert_true(strlen(err.msg) > 0);
        } else if (rc != KW_OK || got != cases[i].want) {
            fail_msg("\"%s\": rc %d got %lld want %lld (%s)", cases[i].text, rc, (long long)got,
                     (long long)cases[i].want, err.msg);
        }
    }
    struct kw_err err = {0};
    int64_t t;
    assert_int_equal(kw_instant_parse("2026-02-13T09:30:00", 19, &t, &err), KW_INVALID);
    assert_non_null(strstr(err.msg, "has no UTC offset"));
    /* Parsers read only len bytes. */
    assert_int_equal(kw_instant_parse("2026-02-13T09:30:00Z trailing", 20, &t, NULL), KW_OK);

    char buf[KW_INSTANT_BUF];
    kw_instant_format_utc(1770946200, buf);
    assert_string_equal(buf, "2026-02-13T01:30:00Z");
    kw_instant_format_local(1770946200, 8 * H, buf);
    assert_string_equal(buf, "2026-02-13T09:30:00+08:00");
    kw_instant_format_local(1770946200, -(9 * H + 30 * M), buf);
    assert_string_equal(buf, "2026-02-12T16:00:00-09:30");
    kw_instant_format_utc(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t want; /* -1: rejected */
    } cases[] = {
        {"14400", 14400},
        {"0", 0},
        {"4h", 4 * H},
        {"30m", 30 * M},
        {"2d", 2 * 86400},
        {"1h30m", 90 * M},
        {"1d2h3m4s", 93784},
        {"90m", 90 * M},
        {"45s", 45},
        {"", -1},
        {"h", -1},
        {"4", 4},
        {"4x", -1},
        {"30m1h", -1},
        {"1h1h", -1},
        {"-5", -1},
        {"1.5h", -1},
        {"4 h", -1},
        {"99999999999999999999", -1},
        {"9223372036854775807d", -1},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        int64_t got = -7;
        enum kw_code rc = kw_duration_parse(cases[i].text, strlen(cases[i].text), &got, NULL);
        if (cases[i].want == -1 ? rc == KW_OK : (rc != KW_OK || got != cases[i].want))
            fail_msg("\"%s\": rc %d got %lld want %lld", cases[i].text, rc, (long long)got,
                     (long long)cases[i].want);
    }
    char buf[32];
    kw_duration_format(93784, buf);
    assert_string_equal(buf, "26h3m4s");
    int64_t back;
    assert_int_equal(kw_duration_parse(buf, strlen(buf), &back, NULL), KW_OK);
    assert_int_equal(back, 93784);
    kw_duration_format(0, buf);
    assert_string_equal(buf, "0s");
    kw_duration_format(7 * H + 30 * M, buf);
    assert_string_equal(buf, "7h30m");
}

static void test_dates_and_times_of_day(void **state)
{
    (void)state;
    int64_t d;
    int32_t s;
    char buf[11];
    assert_int_equal(kw_date_parse("2026-02-16", 10, &d, NULL), KW_OK);
    kw_date_format(d, buf);
    assert_string_equal(buf, "2026-02-16");
    assert_int_equal(kw_date_parse("2026-2-16", 9, &d, NULL), KW_INVALID);
    assert_int_equal(kw_date_parse("2026-02-16 ", 11, &d, NULL), KW_INVALID);
    assert_int_equal(kw_date_parse("2200-01-01", 10, &d, NULL), KW_INVALID);
    assert_int_equal(kw_tod_parse("24:00", 5, &s, NULL), KW_OK);
    assert_int_equal(s, 86400);
    assert_int_equal(kw_tod_parse("00:00", 5, &s, NULL), KW_OK);
    assert_int_equal(s, 0);
    assert_int_equal(kw_tod_parse("23:59", 5, &s, NULL), KW_OK);
    assert_int_equal(kw_tod_parse("24:01", 5, &s, NULL), KW_INVALID);
    assert_int_equal(kw_tod_parse("12:00:00", 8, &s, NULL), KW_INVALID);
    assert_int_equal(kw_tod_parse("1200", 4, &s, NULL), KW_INVALID);
    char tb[9];
    kw_tod_format(13 * H + 30 * M, tb);
    assert_string_equal(tb, "13:30");
    kw_tod_format(86400, tb);
    assert_string_equal(tb, "24:00");
}

static void test_errors(void **state)
{
    (void)state;
    struct kw_err err = {0};
    assert_int_equal(kw_err_set(&err, KW_INVALID, "/x", "bad %d", 1), KW_INVALID);
    assert_string_equal(err.field, "/x");
    kw_err_locate(&err, "/a", "a");
    assert_string_equal(err.field, "/a/x");
    assert_string_equal(err.msg, "a: bad 1");
    assert_int_equal(kw_code_status(KW_NOT_FOUND), 404);
    assert_string_equal(kw_code_name(KW_RANGE), "RANGE");
    assert_int_equal(kw_err_set(NULL, KW_IO, NULL, "x"), KW_IO);
    /* Long text is cut, never overflowed. */
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kw_err_set(&err, KW_INVALID, big, "%s", big);
    assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
    assert_int_equal(strlen(err.field), sizeof(err.field) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_days), cmocka_unit_test(test_instants),
        cmocka_unit_test(test_durations),  cmocka_unit_test(test_dates_and_times_of_day),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
