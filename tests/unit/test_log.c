// SPDX-License-Identifier: MIT
/* kw_log: values quoted and escaped so a line stays one line, levels below
 * the minimum skipped without evaluating the arguments. */
#include <stdio.h>
#include <stdlib.h>

#include "kw_log.h"
#include "testutil.h"

static void test_quote(void **state)
{
    (void)state;
    static const struct {
        const char *name, *in, *want;
        size_t size;
    } rows[] = {
        {"plain", "disk full", "\"disk full\"", 64},
        {"empty", "", "\"\"", 64},
        {"NULL", NULL, "\"\"", 64},
        {"quote and backslash", "a \"b\" c\\d", "\"a \\\"b\\\" c\\\\d\"", 64},
        {"newline stays escaped", "one\ntwo\r\tthree", "\"one\\ntwo\\r\\tthree\"", 64},
        {"other control bytes", "bell\a del\x7f", "\"bell\\u0007 del\\u007f\"", 64},
        {"forged field", "x\" level=debug", "\"x\\\" level=debug\"", 64},
        {"UTF-8 kept", "\xe5\x93\x8d\xe5\xba\x94", "\"\xe5\x93\x8d\xe5\xba\x94\"", 64},
        {"cut to fit", "abcdefghijklmnop", "\"abcdefghij...\"", 16},
        {"cut before a UTF-8 sequence", "abcdefgh\xe5\x93\x8d", "\"abcdefgh...\"", 16},
        {"fits exactly", "abcdefghij", "\"abcdefghij\"", 16},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        char buf[64];
        const char *got = kw_log_quote(buf, rows[i].size, rows[i].in);
        if (strcmp(got, rows[i].want) != 0 || strlen(got) >= rows[i].size)
            fail_msg("%s: got %s, want %s", rows[i].name, got, rows[i].want);
    }
}

static int evaluated;
static const char *counted(const char *s)
{
    evaluated++;
    return s;
}

static void test_levels_and_lines(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    struct kw_log log = {f, KW_LOG_WARN};
    KW_LOG(&log, KW_LOG_INFO, "mod=test event=skipped what=%s", counted("x"));
    assert_int_equal(evaluated, 0); /* arguments not evaluated below the level */
    KW_LOG(&log, KW_LOG_ERROR, "mod=test event=failed error=%s", KW_LOG_Q("bad \"input\"\nnext"));
    KW_LOG(&log, KW_LOG_WARN, "mod=test event=warned n=%d", 3);
    KW_LOG(NULL, KW_LOG_ERROR, "mod=test event=nowhere");
    fclose(f);
    /* two lines, each with a timestamp and its level */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 2);
    assert_int_equal(text[len - 1], '\n');
    assert_int_equal(strncmp(text, "ts=", 3), 0);
    assert_non_null(strstr(text, "Z level=error mod=test event=failed "
                                 "error=\"bad \\\"input\\\"\\nnext\"\n"));
    assert_non_null(strstr(text, "Z level=warn mod=test event=warned n=3\n"));
    free(text);

    enum kw_log_level lv;
    assert_true(kw_log_level_parse("debug", &lv) && lv == KW_LOG_DEBUG);
    assert_true(kw_log_level_parse("error", &lv) && lv == KW_LOG_ERROR);
    assert_false(kw_log_level_parse("verbose", &lv));
}

/* A line's start, written by hand, against what snprintf writes. */
static void test_prefix(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        time_t sec;
        long nsec;
        enum kw_log_level level;
    } cases[] = {
        {"the epoch", 0, 0, KW_LOG_INFO},
        {"a plain instant", 1796289925, 458000000, KW_LOG_INFO},
        {"the last millisecond of a year", 1798761599, 999999999, KW_LOG_ERROR},
        {"a leap day", 1709164800 + 86399, 1000000, KW_LOG_WARN},
        {"a single-digit millisecond", 1796289925, 7000000, KW_LOG_DEBUG},
        {"year 9999", 253402300799, 500000000, KW_LOG_INFO},
        {"past year 9999 (snprintf's)", 253402300800, 0, KW_LOG_INFO},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct timespec wall = {.tv_sec = cases[i].sec, .tv_nsec = cases[i].nsec};
        struct tm tm;
        gmtime_r(&wall.tv_sec, &tm);
        char want[KW_LOG_PREFIX_MAX], got[KW_LOG_PREFIX_MAX];
        snprintf(want, sizeof(want), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 wall.tv_nsec / 1000000, kw_log_level_name(cases[i].level));
        size_t n = kw_log_prefix(got, &wall, cases[i].level);
        if (strcmp(want, got) != 0 || n != strlen(want))
            fail_msg("%s: want \"%s\", got \"%s\" (%zu)", cases[i].name, want, got, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_levels_and_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
