// SPDX-License-Identifier: MIT
/* The closed loop: every pair of states, what each move implies, reopening. */
#include <stdio.h>

#include "testutil.h"
#include "workflow.h"

static void test_moves(void **state)
{
    (void)state;
    /* The whole table: 'y' allowed, '.' refused. Rows from, columns to, in
     * enum order: registered analysing handling feedback archived waiting. */
    static const char *const table[KW_ST_COUNT] = {
        ".yy..y", /* registered */
        "..yy.y", /* analysing */
        ".y.y.y", /* handling */
        "..y.y.", /* feedback: confirmed -> archived, rejected -> handling */
        "......", /* archived: only reopen */
        ".yyy..", /* waiting_customer */
    };
    for (int a = 0; a < KW_ST_COUNT; a++) {
        for (int b = 0; b < KW_ST_COUNT; b++) {
            struct kw_transition t;
            struct kw_err err = {0};
            enum kw_code rc = kw_workflow_move((enum kw_state)a, (enum kw_state)b, &t, &err);
            bool want = table[a][b] == 'y';
            if ((rc == KW_OK) != want)
                fail_msg("%s -> %s: rc %d (%s)", kw_state_name((enum kw_state)a),
                         kw_state_name((enum kw_state)b), rc, err.msg);
            if (!want) {
                assert_int_equal(rc, KW_CONFLICT);
                assert_string_equal(err.field, "/state");
            }
        }
    }
    struct kw_transition t;
    struct kw_err err = {0};
    assert_int_equal(kw_workflow_move(KW_ST_REGISTERED, KW_ST_ARCHIVED, &t, &err), KW_CONFLICT);
    assert_string_equal(err.msg, "cannot go from registered to archived (allowed: analysing, "
                                 "handling, waiting_customer)");
    assert_int_equal(kw_workflow_move(KW_ST_ARCHIVED, KW_ST_HANDLING, &t, &err), KW_CONFLICT);
    assert_string_equal(err.msg, "cannot go from archived to handling (reopen it first)");
    assert_int_equal(kw_workflow_move(KW_ST_HANDLING, KW_ST_HANDLING, &t, &err), KW_CONFLICT);
    assert_string_equal(err.msg, "the ticket is already handling");
    /* implied milestones */
    assert_int_equal(kw_workflow_move(KW_ST_HANDLING, KW_ST_FEEDBACK, &t, NULL), KW_OK);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.milestones[0], "resolved");
    assert_int_equal(kw_workflow_move(KW_ST_FEEDBACK, KW_ST_ARCHIVED, &t, NULL), KW_OK);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.milestones[0], "customer_confirmed");
    assert_string_equal(t.milestones[1], "closed");
    assert_int_equal(kw_workflow_move(KW_ST_FEEDBACK, KW_ST_HANDLING, &t, NULL), KW_OK);
    assert_true(t.reopens);
    assert_int_equal(kw_workflow_move(KW_ST_REGISTERED, KW_ST_ANALYSING, &t, NULL), KW_OK);
    assert_int_equal(t.n, 0);
    assert_false(t.reopens);
}

static void test_names(void **state)
{
    (void)state;
    for (int s = 0; s < KW_ST_COUNT; s++) {
        enum kw_state got;
        const char *n = kw_state_name((enum kw_state)s);
        assert_true(kw_state_parse(n, strlen(n), &got));
        assert_int_equal(got, s);
    }
    enum kw_state got;
    assert_false(kw_state_parse("closed", 6, &got));
    assert_false(kw_state_parse("handlin", 7, &got));
}

static void test_reopen(void **state)
{
    (void)state;
    struct kw_err err = {0};
    int64_t since = T("2026-03-02T10:00:00Z"), week = 7 * 86400;
    assert_int_equal(kw_workflow_reopen(KW_ST_ARCHIVED, since, since + week, week, &err), KW_OK);
    assert_int_equal(kw_workflow_reopen(KW_ST_FEEDBACK, since, since + 60, week, &err), KW_OK);
    assert_int_equal(kw_workflow_reopen(KW_ST_ARCHIVED, since, since + week + 1, week, &err),
                     KW_CONFLICT);
    assert_string_equal(err.msg, "the reopen window of 168h after 2026-03-02T10:00:00Z has "
                                 "passed; open a new ticket");
    assert_int_equal(kw_workflow_reopen(KW_ST_HANDLING, since, since, week, &err), KW_CONFLICT);
    assert_non_null(strstr(err.msg, "only a ticket in feedback or archived"));
    /* a negative window means no limit */
    assert_int_equal(kw_workflow_reopen(KW_ST_ARCHIVED, since, since + 100 * week, -1, &err),
                     KW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moves),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
