// SPDX-License-Identifier: MIT
/* Compensation owed by late clocks (docs/policy.md "Compensation"), on
 * hand-computed amounts: a share per started hour (working or wall), fixed
 * credits, per-ticket and per-period caps, remedies, excluded reasons, a
 * reason changed after accrual, rounding half up, and the rules' checks. */
#include <string.h>

#include "credit.h"
#include "letter.h"
#include "testutil.h"

static const char doc[] =
    "{\"name\":\"c\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00+08:00\","
    "\"calendars\":{\"office\":{\"tz\":\"Asia/"
    "Shanghai\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]]}}},"
    "\"levels\":[\"L1\",\"L2\",\"L3\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"]},"
    "{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"]}],"
    "\"targets\":[{\"response\":\"1h\",\"resolution\":\"8h\"}],"
    "\"compensation\":{"
    " \"rules\":["
    "  {\"when\":{\"level\":\"L1\"},\"metric\":\"resolution\","
    "   "
    "\"credit\":{\"percent_per_hour\":0.5,\"hours\":\"working\",\"cap_per_ticket\":{\"percent\":10}"
    "}},"
    "  {\"when\":{\"level\":\"L1\"},\"metric\":\"response\","
    "   \"credit\":{\"amount\":50000}},"
    "  {\"when\":{\"level\":\"L2\"},\"metric\":\"resolution\","
    "   \"remedy\":{\"item\":{\"zh\":\"延长保修\",\"en\":\"extended warranty\"},\"quantity\":30,"
    "   \"unit\":{\"zh\":\"天\",\"en\":\"days\"}}},"
    "  {\"when\":{\"level\":\"L3\"},\"metric\":\"resolution\","
    "   \"credit\":{\"percent_per_hour\":0.125,\"hours\":\"wall\"}}],"
    " \"cap_per_period\":{\"amount\":1000000},"
    " \"exclude_reasons\":[\"customer\",\"third_party\",\"force_majeure\"]}}";

static struct kw_policy *pol;
static const struct kw_ticket_attrs l1 = {.v[KW_ATTR_LEVEL] = "L1"};
static const struct kw_ticket_attrs l2 = {.v[KW_ATTR_LEVEL] = "L2"};
static const struct kw_ticket_attrs l3 = {.v[KW_ATTR_LEVEL] = "L3"};

static int setup(void **state)
{
    (void)state;
    struct kw_err err = {0};
    pol = kw_policy_parse(doc, strlen(doc), &err);
    if (!pol)
        fail_msg("%s: %s", err.field, err.msg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kw_policy_free(pol);
    return 0;
}

#define RESOLUTION 1
#define RESPONSE 0
#define H 3600

static struct kw_credit_out run(int metric, const struct kw_ticket_attrs *a, int64_t wall,
                                int64_t working, const char *reason, int64_t value, int64_t ticket,
                                int64_t period)
{
    struct kw_credit_in in = {metric, a, wall, working, reason, value, ticket, period};
    struct kw_credit_out out;
    kw_credit_compute(pol, &in, &out);
    return out;
}

static void test_share_per_started_hour(void **state)
{
    (void)state;
    /* L1 resolution: 0.5% of 2,000,000.00 (200,000,000 fen) per started
     * working hour. 2 h 10 min working late (5 h wall): 3 started hours =
     * 1.5% = 3,000,000 fen. */
    struct kw_credit_out o = run(RESOLUTION, &l1, 5 * H, 2 * H + 600, NULL, 200000000, 0, 0);
    assert_int_equal(o.status, KW_CREDIT_CAPPED);
    assert_int_equal(o.rule, 0);
    assert_int_equal(o.hours, 3);
    assert_int_equal(o.raw, 3000000);
    assert_int_equal(o.amount, 1000000); /* cut by the period cap of 1,000,000 */
    /* one second late is one started hour */
    o = run(RESOLUTION, &l1, 1, 1, NULL, 100000, 0, 0);
    assert_int_equal(o.hours, 1);
    assert_int_equal(o.amount, 500); /* 0.5% of 100,000 */
    /* exactly 2 h late is 2 started hours, not 3 */
    o = run(RESOLUTION, &l1, 2 * H, 2 * H, NULL, 100000, 0, 0);
    assert_int_equal(o.hours, 2);
    assert_int_equal(o.amount, 1000);
    /* rounding half up once: 0.5% × 1 h of 333 = 1.665 → 2; of 301 = 1.505 → 2; of 299 → 1.495 → 1
     */
    assert_int_equal(run(RESOLUTION, &l1, H, H, NULL, 333, 0, 0).amount, 2);
    assert_int_equal(run(RESOLUTION, &l1, H, H, NULL, 301, 0, 0).amount, 2);
    assert_int_equal(run(RESOLUTION, &l1, H, H, NULL, 299, 0, 0).amount, 1);
    assert_int_equal(run(RESOLUTION, &l1, H, H, NULL, 100, 0, 0).amount, 1); /* 0.5 → 1 */
    /* L3: 0.125% per started wall hour; working time is ignored */
    o = run(RESOLUTION, &l3, 3 * H + 1, 0 + 1, NULL, 800000, 0, 0);
    assert_int_equal(o.hours, 4);
    assert_int_equal(o.amount, 4000); /* 0.5% of 800,000 */
    /* a huge contract does not overflow */
    o = run(RESOLUTION, &l3, 1000 * H, 1, NULL, INT64_MAX / 1000000, 0, 0);
    assert_int_equal(o.status, KW_CREDIT_CAPPED);
    assert_int_equal(o.amount, 1000000);
}

static void test_caps(void **state)
{
    (void)state;
    /* per ticket 10% of 1,000,000 = 100,000; 30 working hours late owe 15% */
    struct kw_credit_out o = run(RESOLUTION, &l1, 40 * H, 30 * H, NULL, 1000000, 0, 0);
    assert_int_equal(o.raw, 150000);
    assert_int_equal(o.amount, 100000);
    assert_int_equal(o.status, KW_CREDIT_CAPPED);
    /* 60,000 already owed on the ticket: 40,000 left */
    o = run(RESOLUTION, &l1, 40 * H, 30 * H, NULL, 1000000, 60000, 60000);
    assert_int_equal(o.amount, 40000);
    /* the period's cap (1,000,000) nearly spent by other tickets */
    o = run(RESOLUTION, &l1, 40 * H, 30 * H, NULL, 1000000, 0, 990000);
    assert_int_equal(o.amount, 10000);
    o = run(RESOLUTION, &l1, 40 * H, 30 * H, NULL, 1000000, 0, 1200000);
    assert_int_equal(o.amount, 0);
    assert_int_equal(o.status, KW_CREDIT_CAPPED);
    /* under both caps: all of it */
    o = run(RESOLUTION, &l1, 2 * H, 2 * H, NULL, 1000000, 0, 0);
    assert_int_equal(o.status, KW_CREDIT_OWED);
    assert_int_equal(o.amount, 10000);
}

static void test_fixed_remedy_and_none(void **state)
{
    (void)state;
    struct kw_credit_out o = run(RESPONSE, &l1, 600, 600, NULL, 1000000, 0, 0);
    assert_int_equal(o.status, KW_CREDIT_OWED);
    assert_int_equal(o.amount, 50000);
    assert_int_equal(o.hours, 1);
    o = run(RESOLUTION, &l2, 3 * H, 3 * H, NULL, 1000000, 0, 0);
    assert_int_equal(o.status, KW_CREDIT_REMEDY);
    assert_int_equal(o.amount, 0);
    assert_int_equal(o.quantity, 30);
    assert_string_equal(kw_label_pick(o.item, "en", ""), "extended warranty");
    assert_string_equal(kw_label_pick(o.unit, "zh", ""), "天");
    /* no rule for L2 response */
    assert_int_equal(run(RESPONSE, &l2, H, H, NULL, 1000000, 0, 0).status, KW_CREDIT_NO_RULE);
    /* a ticket without a level matches no rule with a level condition */
    struct kw_ticket_attrs none = {0};
    assert_int_equal(run(RESOLUTION, &none, H, H, NULL, 1000000, 0, 0).status, KW_CREDIT_NO_RULE);
    /* not late: nothing */
    assert_int_equal(run(RESOLUTION, &l1, 0, 0, NULL, 1000000, 0, 0).status, KW_CREDIT_NOT_LATE);
    /* late on the wall clock but not in working time (e.g. over a weekend) */
    assert_int_equal(run(RESOLUTION, &l1, 5 * H, 0, NULL, 1000000, 0, 0).status,
                     KW_CREDIT_NOT_LATE);
}

static void test_exclusions_and_reason_change(void **state)
{
    (void)state;
    /* accrued first with no reason; the reason becomes customer:
     * the credit is now 0, so the ledger adjusts by -10,000 */
    struct kw_credit_out before = run(RESOLUTION, &l1, 2 * H, 2 * H, NULL, 1000000, 0, 0);
    struct kw_credit_out after = run(RESOLUTION, &l1, 2 * H, 2 * H, "customer", 1000000, 0, 0);
    assert_int_equal(before.amount, 10000);
    assert_int_equal(after.status, KW_CREDIT_EXCLUDED);
    assert_int_equal(after.amount, 0);
    assert_int_equal(after.amount - before.amount, -10000);
    /* a remedy is excluded the same way; a reason not listed owes */
    assert_int_equal(run(RESOLUTION, &l2, H, H, "third_party", 1, 0, 0).status, KW_CREDIT_EXCLUDED);
    assert_int_equal(run(RESOLUTION, &l1, H, H, "staffing", 100000, 0, 0).amount, 500);
    /* force majeure (不可抗力) is a reason exclusions name like any other */
    struct kw_credit_out fm = run(RESOLUTION, &l1, 2 * H, 2 * H, "force_majeure", 1000000, 0, 0);
    assert_int_equal(fm.status, KW_CREDIT_EXCLUDED);
    assert_int_equal(fm.amount, 0);
}

static void test_letter_says_the_same(void **state)
{
    (void)state;
    struct kw_buf b = {0};
    kw_letter_render(pol, "en", false, &b);
    assert_non_null(strstr(b.p, "Compensation for late service"));
    assert_non_null(strstr(b.p, "0.5% of the contract value per started working hour late, at "
                                "most 10% of the contract value per ticket"));
    assert_non_null(strstr(b.p, "0.125% of the contract value per started wall-clock hour late"));
    assert_non_null(strstr(b.p, "a credit of 500.00"));
    assert_non_null(strstr(b.p, "extended warranty × 30 days"));
    assert_non_null(strstr(b.p, "Credits in one billing period total at most 10000.00"));
    assert_non_null(
        strstr(b.p, "caused by: a cause on the customer's side, a third party, force majeure."));
    kw_buf_release(&b);
    kw_letter_render(pol, "zh", true, &b);
    assert_non_null(strstr(b.p, "超时赔付"));
    assert_non_null(strstr(b.p, "每超时一小时（按服务时间，不足一小时按一小时计）赔付合同金额的 "
                                "0.5%，每单不超过合同金额的 10%"));
    assert_non_null(strstr(b.p, "延长保修 × 30 天"));
    assert_non_null(strstr(b.p, "不予赔付：客户方原因、第三方原因、不可抗力。"));
    kw_buf_release(&b);
}

static void test_bad_rules(void **state)
{
    (void)state;
    static const struct {
        const char *comp, *field;
    } bad[] = {
        {"{\"rules\":[]}", "/compensation/rules"},
        {"{\"rules\":[{\"metric\":\"nope\",\"credit\":{\"amount\":1}}]}",
         "/compensation/rules/0/metric"},
        {"{\"rules\":[{\"metric\":\"response\"}]}", "/compensation/rules/0"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"amount\":1},\"remedy\":{\"item\":"
         "\"x\"}}]}",
         "/compensation/rules/0"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"percent_per_hour\":0.5}}]}",
         "/compensation/rules/0/credit/hours"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"percent_per_hour\":0.00001,"
         "\"hours\":\"wall\"}}]}",
         "/compensation/rules/0/credit/percent_per_hour"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"percent_per_hour\":101,"
         "\"hours\":\"wall\"}}]}",
         "/compensation/rules/0/credit/percent_per_hour"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"amount\":-5}}]}",
         "/compensation/rules/0/credit/amount"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"amount\":5,\"cap_per_ticket\":"
         "{\"percent\":0}}}]}",
         "/compensation/rules/0/credit/cap_per_ticket/percent"},
        {"{\"rules\":[{\"metric\":\"response\",\"when\":{\"level\":\"L9\"},\"credit\":{"
         "\"amount\":5}}]}",
         "/compensation/rules/0/when/level/0"},
        {"{\"rules\":[{\"metric\":\"response\",\"remedy\":{\"quantity\":2}}]}",
         "/compensation/rules/0/remedy/item"},
        {"{\"rules\":[{\"metric\":\"response\",\"remedy\":{\"item\":\"x\",\"quantity\":0}}]}",
         "/compensation/rules/0/remedy/quantity"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"amount\":5}}],\"cap_per_period\":5}",
         "/compensation/cap_per_period"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"amount\":5}}],\"extra\":1}",
         "/compensation/extra"},
        {"{\"rules\":[{\"metric\":\"response\",\"credit\":{\"amount\":5}}],"
         "\"exclude_reasons\":[\"customer\",\"weather\"]}",
         "/compensation/exclude_reasons/1"},
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        char text[2048];
        snprintf(text, sizeof(text),
                 "{\"name\":\"c\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","
                 "\"calendars\":{\"c\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]]}}"
                 "},\"levels\":[\"L1\"],\"metrics\":[{\"id\":\"response\",\"start\":\"created\","
                 "\"stop\":[\"first_response\"]}],\"targets\":[{\"response\":\"1h\"}],"
                 "\"compensation\":%s}",
                 bad[i].comp);
        struct kw_err err = {0};
        struct kw_policy *p = kw_policy_parse(text, strlen(text), &err);
        if (p)
            fail_msg("case %zu accepted: %s", i, bad[i].comp);
        if (strcmp(err.field, bad[i].field) != 0)
            fail_msg("case %zu: field %s, want %s (%s)", i, err.field, bad[i].field, err.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_per_started_hour),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_fixed_remedy_and_none),
        cmocka_unit_test(test_exclusions_and_reason_change),
        cmocka_unit_test(test_letter_says_the_same),
        cmocka_unit_test(test_bad_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
