// SPDX-License-Identifier: MIT
/* The calendar engine's semantics, one row per sentence of the spec. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

#define WEEKDAYS(x) "\"mon\":" x ",\"tue\":" x ",\"wed\":" x ",\"thu\":" x ",\"fri\":" x
#define SPLIT "[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]]"
#define ALLDAY "[[\"00:00\",\"24:00\"]]"

enum {
    CN,
    NY_OFFICE,
    NY_24,
    NY_SUN,
    NY_SUN_GAP,
    NY_SUN_REPEAT,
    BER_SUN,
    BER_24,
    NIGHT,
    UTC_24,
    N_CALS
};

/* CN: 2026 Spring Festival as announced: Feb 15-23 off, Sat Feb 14 and Sat
 * Feb 28 worked; New Year Jan 1-3 off, Sun Jan 4 worked. */
static const char *const cal_json[N_CALS] = {
    [CN] = "{\"name\":\"cn-office\",\"tz\":\"Asia/Shanghai\",\"week\":{" WEEKDAYS(
        SPLIT) "},"
               "\"holidays\":[\"2026-01-01\",\"2026-01-02\",\"2026-01-03\",\"2026-02-15\","
               "\"2026-02-16\",\"2026-02-17\",\"2026-02-18\",\"2026-02-19\",\"2026-02-20\","
               "\"2026-02-21\",\"2026-02-22\",\"2026-02-23\"],"
               "\"extra_workdays\":{\"2026-01-04\":" SPLIT ",\"2026-02-14\":" SPLIT
               ",\"2026-02-28\":" SPLIT "}}",
    [NY_OFFICE] =
        "{\"tz\":\"America/New_York\",\"week\":{" WEEKDAYS("[[\"09:00\",\"17:00\"]]") "}}",
    [NY_24] = "{\"tz\":\"America/New_York\",\"week\":{" WEEKDAYS(ALLDAY) ",\"sat\":" ALLDAY
                                                                         ",\"sun\":" ALLDAY "}}",
    [NY_SUN] = "{\"tz\":\"America/New_York\",\"week\":{\"sun\":[[\"01:00\",\"04:00\"]]}}",
    [NY_SUN_GAP] = "{\"tz\":\"America/New_York\",\"week\":{\"sun\":[[\"02:00\",\"03:00\"]]}}",
    [NY_SUN_REPEAT] = "{\"tz\":\"America/New_York\",\"week\":{\"sun\":[[\"01:00\",\"02:00\"]]}}",
    [BER_SUN] = "{\"tz\":\"Europe/Berlin\",\"week\":{\"sun\":[[\"02:00\",\"03:00\"]]}}",
    [BER_24] = "{\"tz\":\"Europe/Berlin\",\"week\":{" WEEKDAYS(ALLDAY) ",\"sat\":" ALLDAY
                                                                       ",\"sun\":" ALLDAY "}}",
    /* Night shift Mon-Fri 22:00-06:00: Friday's runs into Saturday morning. */
    [NIGHT] = "{\"tz\":\"Asia/Shanghai\",\"week\":{" WEEKDAYS(
        "[[\"22:00\",\"06:00\"]]") "},"
                                   "\"holidays\":[\"2026-03-09\"]}",
    [UTC_24] =
        "{\"tz\":\"UTC\",\"week\":{" WEEKDAYS(ALLDAY) ",\"sat\":" ALLDAY ",\"sun\":" ALLDAY "}}",
};

struct fixture {
    struct kw_tzdb *db;
    struct kw_cal *cal[N_CALS];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->db = kw_tzdb_new();
    for (int i = 0; i < N_CALS; i++)
        f->cal[i] = cal_from(f->db, cal_json[i]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < N_CALS; i++)
        kw_cal_free(f->cal[i]);
    kw_tzdb_free(f->db);
    free(f);
    return 0;
}

static void test_deadline(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *name;
        int cal;
        const char *start;
        int64_t work;
        const char *want;
    } cases[] = {
        {"inside the morning shift", CN, "2026-03-02T09:30:00+08:00", 2 * H,
         "2026-03-02T11:30:00+08:00"},
        {"skips the lunch break", CN, "2026-03-02T11:00:00+08:00", 2 * H,
         "2026-03-02T14:30:00+08:00"},
        {"ends exactly at the end of an interval, not after lunch", CN, "2026-03-02T09:00:00+08:00",
         3 * H, "2026-03-02T12:00:00+08:00"},
        {"ends exactly at closing, not the next morning", CN, "2026-03-02T13:30:00+08:00",
         4 * H + 30 * M, "2026-03-02T18:00:00+08:00"},
        {"one second more rolls to the next morning", CN, "2026-03-02T13:30:00+08:00",
         4 * H + 30 * M + 1, "2026-03-03T09:00:01+08:00"},
        {"starts before opening", CN, "2026-03-02T06:00:00+08:00", 1 * H,
         "2026-03-02T10:00:00+08:00"},
        {"starts inside the lunch break", CN, "2026-03-02T12:40:00+08:00", 1 * H,
         "2026-03-02T14:30:00+08:00"},
        {"starts at the end of an interval", CN, "2026-03-02T12:00:00+08:00", 30 * M,
         "2026-03-02T14:00:00+08:00"},
        {"Friday evening to the Monday", CN, "2026-03-06T17:00:00+08:00", 2 * H,
         "2026-03-09T10:00:00+08:00"},
        {"zero inside working time is the start", CN, "2026-03-02T10:15:00+08:00", 0,
         "2026-03-02T10:15:00+08:00"},
        {"zero at an interval's start is the start", CN, "2026-03-02T13:30:00+08:00", 0,
         "2026-03-02T13:30:00+08:00"},
        {"zero at an interval's end is the next start", CN, "2026-03-02T12:00:00+08:00", 0,
         "2026-03-02T13:30:00+08:00"},
        {"zero on a Saturday is Monday's opening", CN, "2026-03-07T10:00:00+08:00", 0,
         "2026-03-09T09:00:00+08:00"},
        /* Spring Festival 2026 */
        {"Friday before the festival runs into the make-up Saturday", CN,
         "2026-02-13T17:00:00+08:00", 4 * H, "2026-02-14T12:00:00+08:00"},
        {"make-up Saturday runs over the whole festival", CN, "2026-02-14T17:00:00+08:00", 2 * H,
         "2026-02-24T10:00:00+08:00"},
        {"start on a holiday", CN, "2026-02-18T10:00:00+08:00", 1 * H, "2026-02-24T10:00:00+08:00"},
        {"zero on a holiday is the next working start", CN, "2026-02-18T10:00:00+08:00", 0,
         "2026-02-24T09:00:00+08:00"},
        {"the Saturday after the festival works", CN, "2026-02-27T17:30:00+08:00", 1 * H,
         "2026-02-28T09:30:00+08:00"},
        {"New Year: Jan 1-3 off, Sunday Jan 4 worked", CN, "2025-12-31T17:00:00+08:00", 2 * H,
         "2026-01-04T10:00:00+08:00"},
        /* DST */
        {"New York office over the spring-forward weekend", NY_OFFICE, "2026-03-06T16:00:00-05:00",
         2 * H, "2026-03-09T10:00:00-04:00"},
        {"New York office over the fall-back weekend", NY_OFFICE, "2026-10-30T16:00:00-04:00",
         2 * H, "2026-11-02T10:00:00-05:00"},
        {"24x7 in New York: the spring-forward day has 23 hours", NY_24,
         "2026-03-08T00:00:00-05:00", 23 * H, "2026-03-09T00:00:00-04:00"},
        {"24x7 in New York: the fall-back day has 25 hours", NY_24, "2026-11-01T00:00:00-04:00",
         25 * H, "2026-11-02T00:00:00-05:00"},
        {"Sunday 01:00-04:00 in New York is 2 real hours in spring", NY_SUN,
         "2026-03-08T00:00:00-05:00", 2 * H, "2026-03-08T04:00:00-04:00"},
        {"Sunday 01:00-04:00 in New York is 4 real hours in autumn", NY_SUN,
         "2026-11-01T00:00:00-04:00", 4 * H, "2026-11-01T04:00:00-05:00"},
        {"the repeated hour: an hour in, still the first 01:xx", NY_SUN,
         "2026-11-01T01:00:00-04:00", 1 * H, "2026-11-01T01:00:00-05:00"},
        {"a 02:00-03:00 shift on the spring-forward day does not exist", NY_SUN_GAP,
         "2026-03-08T00:00:00-05:00", 1, "2026-03-15T02:00:01-04:00"},
        {"Berlin 02:00-03:00 does not exist on 29 March", BER_SUN, "2026-03-29T00:00:00+01:00",
         1 * H, "2026-04-05T03:00:00+02:00"},
        {"Berlin 02:00-03:00 happens twice on 25 October", BER_SUN, "2026-10-25T00:00:00+02:00",
         2 * H, "2026-10-25T03:00:00+01:00"},
        {"Berlin 24x7 across the spring change", BER_24, "2026-03-28T12:00:00+01:00", 24 * H,
         "2026-03-29T13:00:00+02:00"},
        /* Night shifts */
        {"night shift crosses midnight", NIGHT, "2026-03-02T23:00:00+08:00", 3 * H,
         "2026-03-03T02:00:00+08:00"},
        {"Friday's night shift runs into Saturday; the holiday Monday has none", NIGHT,
         "2026-03-06T23:00:00+08:00", 8 * H, "2026-03-10T23:00:00+08:00"},
        {"a holiday Monday has no night shift, Tuesday's follows", NIGHT,
         "2026-03-07T05:00:00+08:00", 2 * H, "2026-03-10T23:00:00+08:00"},
        {"Sunday night before a holiday Monday: Sunday has no shift", NIGHT,
         "2026-03-08T21:00:00+08:00", 1, "2026-03-10T22:00:01+08:00"},
        /* 24x7 and long durations */
        {"24x7 is plain addition", UTC_24, "2026-05-01T10:00:00Z", 90 * M, "2026-05-01T11:30:00Z"},
        {"24x7: ten years of working time", UTC_24, "2026-01-01T00:00:00Z", (int64_t)3652 * 86400,
         "2036-01-01T00:00:00Z"},
        {"five years of office hours", CN, "2026-03-02T09:00:00+08:00", (int64_t)9375 * H, NULL},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        int64_t got = 0, back = -1;
        struct kw_err err = {0};
        const struct kw_cal *cal = f->cal[cases[i].cal];
        int64_t start = T(cases[i].start);
        if (kw_cal_deadline(cal, start, cases[i].work, &got, &err) != KW_OK)
            fail_msg("%s: %s", cases[i].name, err.msg);
        if (cases[i].want && got != T(cases[i].want)) {
            char g[KW_INSTANT_BUF], w[KW_INSTANT_BUF];
            kw_instant_format_local(got, kw_cal_utc_offset(cal, got), g);
            kw_instant_format_local(T(cases[i].want), kw_cal_utc_offset(cal, T(cases[i].want)), w);
            fail_msg("%s: got %s, want %s", cases[i].name, g, w);
        }
        /* The working time from start to the deadline is the work asked for. */
        assert_int_equal(kw_cal_elapsed(cal, start, got, &back, &err), KW_OK);
        if (back != cases[i].work)
            fail_msg("%s: elapsed to the deadline is %lld, want %lld", cases[i].name,
                     (long long)back, (long long)cases[i].work);
    }
}

static void test_elapsed(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *name;
        int cal;
        const char *t1, *t2;
        int64_t want;
    } cases[] = {
        {"one full office day", CN, "2026-03-02T00:00:00+08:00", "2026-03-03T00:00:00+08:00",
         7 * H + 30 * M},
        {"a week", CN, "2026-03-02T00:00:00+08:00", "2026-03-09T00:00:00+08:00",
         5 * (7 * H + 30 * M)},
        {"the lunch break counts nothing", CN, "2026-03-02T12:00:00+08:00",
         "2026-03-02T13:30:00+08:00", 0},
        {"half-open: [t1, t2) ends at t2", CN, "2026-03-02T11:00:00+08:00",
         "2026-03-02T13:31:00+08:00", 1 * H + 1 * M},
        {"t2 before t1 is zero", CN, "2026-03-03T00:00:00+08:00", "2026-03-02T00:00:00+08:00", 0},
        {"t2 equal to t1 is zero", CN, "2026-03-02T10:00:00+08:00", "2026-03-02T10:00:00+08:00", 0},
        {"Spring Festival fortnight: 7 working days", CN, "2026-02-13T00:00:00+08:00",
         "2026-03-01T00:00:00+08:00", 7 * (7 * H + 30 * M)},
        {"holiday weekdays count nothing", CN, "2026-02-16T00:00:00+08:00",
         "2026-02-21T00:00:00+08:00", 0},
        {"New York 24x7, the spring-forward day", NY_24, "2026-03-08T00:00:00-05:00",
         "2026-03-09T00:00:00-04:00", 23 * H},
        {"New York 24x7, the fall-back day", NY_24, "2026-11-01T00:00:00-04:00",
         "2026-11-02T00:00:00-05:00", 25 * H},
        {"the missing hour contributes nothing", NY_SUN_GAP, "2026-03-08T00:00:00-05:00",
         "2026-03-09T00:00:00-04:00", 0},
        {"the repeated hour counts once per real second", NY_SUN_REPEAT,
         "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 2 * H},
        {"an ordinary Sunday 01:00-02:00 is one hour", NY_SUN_REPEAT, "2026-11-08T00:00:00-05:00",
         "2026-11-09T00:00:00-05:00", 1 * H},
        {"Berlin's missing hour", BER_SUN, "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00",
         0},
        {"Berlin's repeated hour", BER_SUN, "2026-10-25T00:00:00+02:00",
         "2026-10-26T00:00:00+01:00", 2 * H},
        {"Berlin 24x7 day of the autumn change", BER_24, "2026-10-25T00:00:00+02:00",
         "2026-10-26T00:00:00+01:00", 25 * H},
        {"a week of night shifts with a holiday Monday", NIGHT, "2026-03-09T00:00:00+08:00",
         "2026-03-16T00:00:00+08:00", 4 * 8 * H},
        {"24x7 over a century", UTC_24, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z",
         (int64_t)36525 * 86400},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        int64_t got = -1;
        struct kw_err err = {0};
        if (kw_cal_elapsed(f->cal[cases[i].cal], T(cases[i].t1), T(cases[i].t2), &got, &err) !=
            KW_OK)
            fail_msg("%s: %s", cases[i].name, err.msg);
        if (got != cases[i].want)
            fail_msg("%s: got %lld, want %lld", cases[i].name, (long long)got,
                     (long long)cases[i].want);
        /* the same as the working seconds before each end, subtracted (t1 < t2) */
        int64_t w1 = -1, w2 = -1;
        if (kw_cal_worked(f->cal[cases[i].cal], T(cases[i].t1), &w1, &err) != KW_OK ||
            kw_cal_worked(f->cal[cases[i].cal], T(cases[i].t2), &w2, &err) != KW_OK)
            fail_msg("%s: worked: %s", cases[i].name, err.msg);
        if (T(cases[i].t1) < T(cases[i].t2) && w2 - w1 != cases[i].want)
            fail_msg("%s: worked %lld - %lld, want %lld", cases[i].name, (long long)w2,
                     (long long)w1, (long long)cases[i].want);
    }
}

static void test_is_working_and_next(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *name;
        int cal;
        const char *t;
        bool working;
        const char *next;
    } cases[] = {
        {"an interval's start is working", CN, "2026-03-02T09:00:00+08:00", true,
         "2026-03-02T09:00:00+08:00"},
        {"an interval's end is not", CN, "2026-03-02T12:00:00+08:00", false,
         "2026-03-02T13:30:00+08:00"},
        {"the last second before the end is", CN, "2026-03-02T11:59:59+08:00", true,
         "2026-03-02T11:59:59+08:00"},
        {"a holiday is not", CN, "2026-02-17T10:00:00+08:00", false, "2026-02-24T09:00:00+08:00"},
        {"a make-up Saturday is", CN, "2026-02-14T10:00:00+08:00", true,
         "2026-02-14T10:00:00+08:00"},
        {"Saturday 05:00 after a Friday night shift is", NIGHT, "2026-03-07T05:00:00+08:00", true,
         "2026-03-07T05:00:00+08:00"},
        {"Saturday 06:00 is not", NIGHT, "2026-03-07T06:00:00+08:00", false,
         "2026-03-10T22:00:00+08:00"},
        {"New York Sunday 02:30 on the spring day: no such time, 03:30 EDT is after the shift",
         NY_SUN, "2026-03-08T03:30:00-04:00", true, "2026-03-08T03:30:00-04:00"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        bool w = !cases[i].working;
        int64_t next = 0;
        struct kw_err err = {0};
        const struct kw_cal *cal = f->cal[cases[i].cal];
        assert_int_equal(kw_cal_is_working(cal, T(cases[i].t), &w, &err), KW_OK);
        if (w != cases[i].working)
            fail_msg("%s: is_working says %d", cases[i].name, w);
        assert_int_equal(kw_cal_next_working(cal, T(cases[i].t), &next, &err), KW_OK);
        if (next != T(cases[i].next))
            fail_msg("%s: next_working is off by %lld s", cases[i].name,
                     (long long)(next - T(cases[i].next)));
    }
}

static void test_spans(void **state)
{
    struct fixture *f = *state;
    struct kw_span s[8];
    /* Fri 13 Feb 10:00 .. Wed 25 Feb 00:00: Fri (10-12, 13:30-18), Sat 14 (two), Tue 24 (two). */
    size_t n = kw_cal_spans(f->cal[CN], T("2026-02-13T10:00:00+08:00"),
                            T("2026-02-25T00:00:00+08:00"), s, N_ELEMS(s));
    assert_int_equal(n, 6);
    assert_int_equal(s[0].start, T("2026-02-13T10:00:00+08:00")); /* clipped */
    assert_int_equal(s[0].end, T("2026-02-13T12:00:00+08:00"));
    assert_int_equal(s[2].start, T("2026-02-14T09:00:00+08:00"));
    assert_int_equal(s[4].start, T("2026-02-24T09:00:00+08:00"));
    assert_int_equal(s[5].end, T("2026-02-24T18:00:00+08:00"));
    /* Counting without storing, and a cap smaller than the count. */
    assert_int_equal(kw_cal_spans(f->cal[CN], T("2026-02-13T10:00:00+08:00"),
                                  T("2026-02-25T00:00:00+08:00"), NULL, 0),
                     6);
    assert_int_equal(kw_cal_spans(f->cal[CN], T("2026-02-13T10:00:00+08:00"),
                                  T("2026-02-25T00:00:00+08:00"), s, 2),
                     6);
    assert_int_equal(s[1].end, T("2026-02-13T18:00:00+08:00"));
    /* 24x7: adjacent days merge into one span. */
    n = kw_cal_spans(f->cal[UTC_24], T("2026-01-01T00:00:00Z"), T("2027-01-01T00:00:00Z"), s, 8);
    assert_int_equal(n, 1);
    assert_int_equal(s[0].end - s[0].start, 365 * 86400);
    /* A range in a lunch break has none. */
    assert_int_equal(kw_cal_spans(f->cal[CN], T("2026-03-02T12:00:00+08:00"),
                                  T("2026-03-02T13:30:00+08:00"), s, 8),
                     0);
}

static void test_horizon(void **state)
{
    struct fixture *f = *state;
    struct kw_err err = {0};
    int64_t out;
    bool w;
    const struct kw_cal *cn = f->cal[CN];
    assert_int_equal(kw_cal_deadline(cn, T("1999-12-31T00:00:00Z"), 60, &out, &err), KW_RANGE);
    assert_non_null(strstr(err.msg, "outside the calendar's horizon"));
    assert_int_equal(kw_cal_deadline(cn, T("2099-12-31T00:00:00Z"), 30 * 86400, &out, &err),
                     KW_RANGE);
    assert_non_null(strstr(err.msg, "past the calendar's horizon"));
    assert_int_equal(kw_cal_deadline(cn, T("2026-01-05T00:00:00Z"), -1, &out, &err), KW_INVALID);
    assert_int_equal(
        kw_cal_elapsed(cn, T("2026-01-05T00:00:00Z"), T("2101-01-01T00:00:00Z"), &out, &err),
        KW_RANGE);
    assert_int_equal(kw_cal_worked(cn, T("2101-01-01T00:00:00Z"), &out, &err), KW_RANGE);
    assert_int_equal(kw_cal_worked(cn, T("1999-12-31T00:00:00Z"), &out, &err), KW_RANGE);
    assert_int_equal(kw_cal_is_working(cn, T("2100-01-01T00:00:00Z"), &w, &err), KW_RANGE);
    assert_int_equal(kw_cal_next_working(cn, T("2099-12-31T12:00:00Z"), &out, &err), KW_RANGE);
    /* The whole horizon is usable: a deadline of every working second there is. */
    int64_t from, until, all;
    kw_cal_horizon(f->cal[UTC_24], &from, &until);
    assert_int_equal(kw_cal_elapsed(f->cal[UTC_24], from, until, &all, &err), KW_OK);
    assert_int_equal(kw_cal_deadline(f->cal[UTC_24], from, all, &out, &err), KW_OK);
    assert_int_equal(out, until);
}

static void test_no_working_time_is_an_error(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "{\"tz\":\"UTC\",\"week\":{}}",
        "{\"tz\":\"UTC\",\"week\":{\"mon\":[]},\"extra_workdays\":{\"1990-01-01\":"
        "[[\"09:00\",\"10:00\"]]}}",
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        struct kw_cal_spec spec;
        struct kw_err err = {0};
        assert_int_equal(kw_cal_spec_parse(bad[i], strlen(bad[i]), &spec, &err), KW_OK);
        assert_null(kw_cal_compile(f->db, &spec, &err));
        assert_int_equal(err.code, KW_INVALID);
        assert_non_null(strstr(err.msg, "no working time"));
        kw_cal_spec_release(&spec);
    }
    /* One extra workday alone is enough. */
    const char *one = "{\"tz\":\"UTC\",\"week\":{},\"extra_workdays\":{\"2030-06-01\":"
                      "[[\"09:00\",\"10:00\"]]}}";
    struct kw_cal *cal = cal_from(f->db, one);
    int64_t out;
    assert_int_equal(kw_cal_deadline(cal, T("2026-01-01T00:00:00Z"), 3600, &out, NULL), KW_OK);
    assert_int_equal(out, T("2030-06-01T10:00:00Z"));
    kw_cal_free(cal);
}

/* Hand-built specs and zones: the core needs no tz database. */
static void test_fixed_offset_zone(void **state)
{
    (void)state;
    struct kw_cal_spec spec = {.tz = "X"};
    spec.week[0] = (struct kw_cal_day){1, {{9 * H, 17 * H}}};
    struct kw_tz_change ch[] = {{T("2026-03-02T12:00:00Z"), 2 * H}};
    struct kw_tzinfo tz = {.name = "X", .initial = 1 * H, .n = 1, .changes = ch};
    struct kw_err err = {0};
    assert_int_equal(kw_cal_spec_check(&spec, &err), KW_OK);
    struct kw_cal *cal =
        kw_cal_new(&spec, &tz, T("2026-02-01T00:00:00Z"), T("2026-04-01T00:00:00Z"), &err);
    assert_non_null(cal);
    /* Monday 2 March: 09:00+01 = 08:00Z; the offset changes at 12:00Z (13:00 local
     * becomes 14:00 local), so 17:00 local +02 is 15:00Z: 7 real hours. */
    int64_t w;
    assert_int_equal(
        kw_cal_elapsed(cal, T("2026-03-02T00:00:00Z"), T("2026-03-03T00:00:00Z"), &w, &err), KW_OK);
    assert_int_equal(w, 7 * H);
    assert_int_equal(kw_cal_utc_offset(cal, T("2026-03-02T11:59:59Z")), 1 * H);
    assert_int_equal(kw_cal_utc_offset(cal, T("2026-03-02T12:00:00Z")), 2 * H);
    assert_string_equal(kw_cal_tz(cal), "X");
    kw_cal_free(cal);
    kw_cal_free(NULL);
    kw_cal_spec_release(&spec);
}

/* An edited calendar (kw_cal_splice): working time before the save instant
 * is counted on the old version, after it on the new one. */
#define CN_EARLY                                                                                   \
    "{\"tz\":\"Asia/Shanghai\",\"week\":{" WEEKDAYS(                                               \
        "[[\"08:00\",\"12:00\"],[\"13:00\",\"17:00\"]]") "}}"
#define CN_TUE_OFF                                                                                 \
    "{\"tz\":\"Asia/Shanghai\",\"week\":{" WEEKDAYS(SPLIT) "},\"holidays\":[\"2026-03-03\"]}"

static void test_splice(void **state)
{
    struct fixture *f = *state;
    struct kw_err err = {0};
    struct kw_cal *early = cal_from(f->db, CN_EARLY), *tue_off = cal_from(f->db, CN_TUE_OFF);
    struct kw_cal *old = f->cal[CN];
    const struct kw_cal *hours[] = {old, early}, *holiday[] = {old, tue_off};
    int64_t mid_shift[] = {0, T("2026-03-02T10:30:00+08:00")};
    int64_t afternoon[] = {0, T("2026-03-02T15:00:00+08:00")};
    int64_t later[] = {0, T("2026-06-01T00:00:00+08:00")};
    struct kw_cal *s_hours = kw_cal_splice(hours, mid_shift, 2, &err);
    struct kw_cal *s_holiday = kw_cal_splice(holiday, afternoon, 2, &err);
    struct kw_cal *s_later = kw_cal_splice(holiday, later, 2, &err);
    struct kw_cal *s_one = kw_cal_splice(hours, mid_shift, 1, &err);
    assert_non_null(s_hours);
    assert_non_null(s_holiday);
    assert_non_null(s_later);
    assert_non_null(s_one);
    static const struct {
        const char *name;
        int which; /* 0: hours edited at 10:30, 1: Tuesday made a holiday at 15:00 Monday,
                      2: that holiday saved in June, 3: one part */
        const char *start;
        int64_t work;
        const char *want;
    } deadlines[] = {
        {"a save in the middle of a shift: old hours up to it, new after", 0,
         "2026-03-02T09:30:00+08:00", 4 * H, "2026-03-02T14:30:00+08:00"},
        {"a clock started after the save runs on the new hours alone", 0,
         "2026-03-02T16:00:00+08:00", 2 * H, "2026-03-03T09:00:00+08:00"},
        {"a clock started the working day before (a make-up Saturday) keeps the old hours until "
         "the save",
         0, "2026-02-28T17:00:00+08:00", 3 * H, "2026-03-02T11:00:00+08:00"},
        {"a holiday added ahead of a running deadline moves it a day", 1,
         "2026-03-02T17:00:00+08:00", 2 * H, "2026-03-04T10:00:00+08:00"},
        {"the same holiday saved after the deadline leaves it", 2, "2026-03-02T17:00:00+08:00",
         2 * H, "2026-03-03T10:00:00+08:00"},
        {"one part is that part", 3, "2026-03-02T17:00:00+08:00", 2 * H,
         "2026-03-03T10:00:00+08:00"},
    };
    const struct kw_cal *which[] = {s_hours, s_holiday, s_later, s_one};
    for (size_t i = 0; i < sizeof(deadlines) / sizeof(deadlines[0]); i++) {
        int64_t got = 0;
        if (kw_cal_deadline(which[deadlines[i].which], T(deadlines[i].start), deadlines[i].work,
                            &got, &err) != KW_OK)
            fail_msg("%s: %s", deadlines[i].name, err.msg);
        if (got != T(deadlines[i].want))
            fail_msg("%s: got %lld, want %lld", deadlines[i].name, (long long)got,
                     (long long)T(deadlines[i].want));
    }
    /* Nothing measured before the save changes: the working time up to it is
     * the old calendar's, whatever the new version says. */
    int64_t a, b;
    assert_int_equal(kw_cal_elapsed(s_hours, T("2026-02-02T00:00:00+08:00"),
                                    T("2026-03-02T10:30:00+08:00"), &a, &err),
                     KW_OK);
    assert_int_equal(kw_cal_elapsed(old, T("2026-02-02T00:00:00+08:00"),
                                    T("2026-03-02T10:30:00+08:00"), &b, &err),
                     KW_OK);
    assert_int_equal(a, b);
    /* Monday: 09:00-10:30 old, 10:30-12:00 and 13:00-17:00 new: 7 h */
    assert_int_equal(kw_cal_elapsed(s_hours, T("2026-03-02T00:00:00+08:00"),
                                    T("2026-03-03T00:00:00+08:00"), &a, &err),
                     KW_OK);
    assert_int_equal(a, 7 * H);
    /* the two versions' shifts touch at the save: one span 09:00-12:00 */
    struct kw_span sp[4];
    assert_int_equal(kw_cal_spans(s_hours, T("2026-03-02T00:00:00+08:00"),
                                  T("2026-03-02T12:30:00+08:00"), sp, 4),
                     1);
    assert_int_equal(sp[0].start, T("2026-03-02T09:00:00+08:00"));
    assert_int_equal(sp[0].end, T("2026-03-02T12:00:00+08:00"));
    bool working;
    assert_int_equal(kw_cal_is_working(s_holiday, T("2026-03-03T10:00:00+08:00"), &working, &err),
                     KW_OK);
    assert_false(working);
    assert_string_equal(kw_cal_tz(s_holiday), "Asia/Shanghai");

    /* a bad list of parts is refused */
    int64_t backwards[] = {0, T("2026-03-02T15:00:00+08:00"), T("2026-03-01T15:00:00+08:00")};
    const struct kw_cal *three[] = {old, early, tue_off};
    assert_null(kw_cal_splice(three, backwards, 3, &err));
    assert_int_equal(err.code, KW_INVALID);
    assert_null(kw_cal_splice(three, backwards, 0, &err));
    assert_int_equal(err.code, KW_INVALID);
    kw_cal_free(s_hours);
    kw_cal_free(s_holiday);
    kw_cal_free(s_later);
    kw_cal_free(s_one);
    kw_cal_free(early);
    kw_cal_free(tue_off);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_elapsed),
        cmocka_unit_test(test_is_working_and_next),
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_horizon),
        cmocka_unit_test(test_no_working_time_is_an_error),
        cmocka_unit_test(test_fixed_offset_zone),
        cmocka_unit_test(test_splice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
