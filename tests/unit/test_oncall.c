// SPDX-License-Identifier: MIT
/* On-call rotas: layers, handoffs, restrictions, overrides, DST, shifts
 * and located errors. Zones are written by hand here. */
#include <jansson.h>
#include <stdio.h>

#include "oncall.h"
#include "testutil.h"

static const struct kw_tzinfo shanghai = {"Asia/Shanghai", 8 * 3600, 0, NULL};
/* Berlin around the spring change of 2026: +1 h until 29 March 01:00 UTC */
static const struct kw_tz_change berlin_changes[] = {{1774746000, 7200}};
static const struct kw_tzinfo berlin = {"Europe/Berlin", 3600, 1, berlin_changes};

static void load(const char *text, struct kw_oncall *s)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    struct kw_err err = {0};
    if (!doc)
        fail_msg("bad test JSON: %s", jerr.text);
    if (kw_oncall_from_json(doc, s, &err) != KW_OK)
        fail_msg("schedule: %s (%s)", err.msg, err.field);
    json_decref(doc);
}

#define DESK                                                                                       \
    "{\"name\":\"desk\",\"tz\":\"Asia/Shanghai\",\"layers\":["                                     \
    "{\"name\":\"weekly\",\"rotation\":\"weekly\",\"start\":\"2026-01-05\",\"handoff\":\"09:00\"," \
    "\"people\":[3,4,5]},"                                                                         \
    "{\"name\":\"nights\",\"rotation\":\"daily\",\"start\":\"2026-01-05\",\"handoff\":\"18:00\","  \
    "\"people\":[6,7],\"restrictions\":[{\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"],"      \
    "\"from\":\"18:00\",\"to\":\"09:00\"}]}],"                                                     \
    "\"overrides\":[{\"user\":9,\"from\":\"2026-01-06T18:00:00+08:00\","                           \
    "\"to\":\"2026-01-07T09:00:00+08:00\"}]}"

static int64_t who(const struct kw_oncall *s, const struct kw_tzinfo *tz, const char *at,
                   const char **source)
{
    return kw_oncall_who(s, tz, T(at), source);
}

static void test_layers_and_handoffs(void **state)
{
    (void)state;
    static struct kw_oncall s;
    const char *src;
    load(DESK, &s);
    assert_int_equal(who(&s, &shanghai, "2026-01-05T08:59:00+08:00", &src), 0);
    assert_null(src); /* before the rotation starts */
    assert_int_equal(who(&s, &shanghai, "2026-01-05T09:00:00+08:00", &src), 3);
    assert_string_equal(src, "weekly");
    assert_int_equal(who(&s, &shanghai, "2026-01-12T08:59:59+08:00", NULL), 3);
    assert_int_equal(who(&s, &shanghai, "2026-01-12T09:00:00+08:00", NULL), 4);
    assert_int_equal(who(&s, &shanghai, "2026-01-19T09:00:00+08:00", NULL), 5);
    assert_int_equal(who(&s, &shanghai, "2026-01-26T09:00:00+08:00", NULL), 3);
    /* the night layer sits on top on weekday nights */
    assert_int_equal(who(&s, &shanghai, "2026-01-05T18:00:00+08:00", &src), 6);
    assert_string_equal(src, "nights");
    assert_int_equal(who(&s, &shanghai, "2026-01-06T08:59:00+08:00", NULL), 6);
    assert_int_equal(who(&s, &shanghai, "2026-01-06T09:00:00+08:00", NULL), 3);
    assert_int_equal(who(&s, &shanghai, "2026-01-08T18:00:00+08:00", NULL), 7);
    /* Friday night runs into Saturday morning; Saturday evening is not a night */
    assert_int_equal(who(&s, &shanghai, "2026-01-10T02:00:00+08:00", NULL), 6);
    assert_int_equal(who(&s, &shanghai, "2026-01-10T20:00:00+08:00", &src), 3);
    assert_string_equal(src, "weekly");
    /* an override wins for its stretch only */
    assert_int_equal(who(&s, &shanghai, "2026-01-06T20:00:00+08:00", &src), 9);
    assert_string_equal(src, "override");
    assert_int_equal(who(&s, &shanghai, "2026-01-07T09:00:00+08:00", NULL), 3);
}

static void test_dst(void **state)
{
    (void)state;
    static struct kw_oncall s;
    load("{\"name\":\"b\",\"tz\":\"Europe/Berlin\",\"layers\":[{\"rotation\":\"daily\","
         "\"start\":\"2026-03-27\",\"handoff\":\"09:00\",\"people\":[1,2]}]}",
         &s);
    /* 09:00 local is 08:00 UTC before the change and 07:00 UTC after */
    assert_int_equal(who(&s, &berlin, "2026-03-28T07:59:59Z", NULL), 1);
    assert_int_equal(who(&s, &berlin, "2026-03-28T08:00:00Z", NULL), 2);
    assert_int_equal(who(&s, &berlin, "2026-03-29T06:59:59Z", NULL), 2);
    assert_int_equal(who(&s, &berlin, "2026-03-29T07:00:00Z", NULL), 1);
}

static void test_shifts(void **state)
{
    (void)state;
    static struct kw_oncall s;
    struct kw_oncall_shift sh[32];
    size_t n;
    load(DESK, &s);
    kw_oncall_shifts(&s, &shanghai, T("2026-01-06T00:00:00+08:00"), T("2026-01-08T00:00:00+08:00"),
                     sh, 32, &n);
    /* night 6 until 09:00, weekly 3, override 9 from 18:00 to 09:00, 3,
     * then the night layer (its third day: 6 again) from 18:00 */
    assert_int_equal(n, 5);
    assert_int_equal(sh[0].user, 6);
    assert_int_equal(sh[0].to, T("2026-01-06T09:00:00+08:00"));
    assert_int_equal(sh[1].user, 3);
    assert_int_equal(sh[2].user, 9);
    assert_int_equal(sh[2].from, T("2026-01-06T18:00:00+08:00"));
    assert_int_equal(sh[2].to, T("2026-01-07T09:00:00+08:00"));
    assert_int_equal(sh[3].user, 3);
    assert_int_equal(sh[4].user, 6);
    assert_int_equal(sh[4].from, T("2026-01-07T18:00:00+08:00"));
    assert_int_equal(sh[4].to, T("2026-01-08T00:00:00+08:00"));
}

static void test_quiet_hours(void **state)
{
    (void)state;
    int64_t ends;
    const int32_t h22 = 22 * 3600, h8 = 8 * 3600;
    /* a night window: in at 23:00 and at 07:59, out at 08:00 and at 21:59 */
    assert_true(kw_quiet_at(&shanghai, h22, h8, T("2026-05-05T23:00:00+08:00"), &ends));
    assert_int_equal(ends, T("2026-05-06T08:00:00+08:00"));
    assert_true(kw_quiet_at(&shanghai, h22, h8, T("2026-05-06T07:59:00+08:00"), &ends));
    assert_int_equal(ends, T("2026-05-06T08:00:00+08:00"));
    assert_false(kw_quiet_at(&shanghai, h22, h8, T("2026-05-06T08:00:00+08:00"), &ends));
    assert_int_equal(ends, T("2026-05-06T08:00:00+08:00"));
    assert_false(kw_quiet_at(&shanghai, h22, h8, T("2026-05-06T21:59:59+08:00"), &ends));
    /* a day window, and an empty one */
    assert_true(
        kw_quiet_at(&shanghai, 12 * 3600, 14 * 3600, T("2026-05-06T13:00:00+08:00"), &ends));
    assert_int_equal(ends, T("2026-05-06T14:00:00+08:00"));
    assert_false(kw_quiet_at(&shanghai, h8, h8, T("2026-05-06T08:00:00+08:00"), &ends));
    /* across the spring change in Berlin: the night ends at 08:00 local, CEST */
    assert_true(kw_quiet_at(&berlin, h22, h8, T("2026-03-28T23:00:00+01:00"), &ends));
    assert_int_equal(ends, T("2026-03-29T08:00:00+02:00"));
}

static void test_bad_schedules(void **state)
{
    (void)state;
    static const struct {
        const char *json, *field;
    } cases[] = {
        {"[]", ""},
        {"{\"tz\":\"UTC\",\"layers\":[]}", "/name"},
        {"{\"name\":\"x\",\"tz\":\"../etc\",\"layers\":[]}", "/tz"},
        {"{\"name\":\"x\",\"tz\":\"UTC\",\"layers\":[]}", "/layers"},
        {"{\"name\":\"x\",\"tz\":\"UTC\",\"layers\":[{\"rotation\":\"hourly\"}]}",
         "/layers/0/rotation"},
        {"{\"name\":\"x\",\"tz\":\"UTC\",\"layers\":[{\"rotation\":\"daily\",\"start\":\"2026-"
         "02-30\"}]}",
         "/layers/0/start"},
        {"{\"name\":\"x\",\"tz\":\"UTC\",\"layers\":[{\"rotation\":\"daily\",\"start\":\"2026-"
         "01-01\",\"handoff\":\"9am\"}]}",
         "/layers/0/handoff"},
        {"{\"name\":\"x\",\"tz\":\"UTC\",\"layers\":[{\"rotation\":\"daily\",\"start\":\"2026-"
         "01-01\",\"handoff\":\"09:00\",\"people\":[1,\"bob\"]}]}",
         "/layers/0/people/1"},
        {"{\"name\":\"x\",\"tz\":\"UTC\",\"layers\":[{\"rotation\":\"daily\",\"start\":\"2026-"
         "01-01\",\"handoff\":\"09:00\",\"people\":[1],\"restrictions\":[{\"days\":[\"sun\","
         "\"funday\"],\"from\":\"00:00\",\"to\":\"24:00\"}]}]}",
         "/layers/0/restrictions/0/days/1"},
        {"{\"name\":\"x\",\"tz\":\"UTC\",\"layers\":[{\"rotation\":\"daily\",\"start\":\"2026-"
         "01-01\",\"handoff\":\"09:00\",\"people\":[1]}],\"overrides\":[{\"user\":2,\"from\":"
         "\"2026-01-02T00:00:00Z\",\"to\":\"2026-01-01T00:00:00Z\"}]}",
         "/overrides/0/to"},
    };
    static struct kw_oncall s;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        json_t *doc = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        struct kw_err err = {0};
        assert_non_null(doc);
        if (kw_oncall_from_json(doc, &s, &err) != KW_INVALID ||
            strcmp(err.field, cases[i].field) != 0)
            fail_msg("case %zu: field \"%s\" (%s), want \"%s\"", i, err.field, err.msg,
                     cases[i].field);
        json_decref(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_and_handoffs),
        cmocka_unit_test(test_dst),
        cmocka_unit_test(test_shifts),
        cmocka_unit_test(test_quiet_hours),
        cmocka_unit_test(test_bad_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
