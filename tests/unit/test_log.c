// SPDX-License-Identifier: MIT
/* kw_log: values quoted and escaped so a line stays one line, levels below
 * the minimum skipped without evaluating the arguments. */
#include <stdarg.h>
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

/* kw_log_format's line alone, cut to a short buffer, and several written
 * with one kw_log_write (a request's held lines, then its own): each the
 * line kw_log writes, in the order they were made. */
static size_t format(char *line, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t format(char *line, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = kw_log_format(line, size, KW_LOG_INFO, fmt, ap);
    va_end(ap);
    return n;
}

static void test_format_and_write(void **state)
{
    (void)state;
    static const struct {
        const char *name, *fields, *want; /* want: the line after "Z level=info " */
        size_t size; /* the prefix "ts=2026-...Z level=info " is 39 bytes of it */
    } rows[] = {
        {"plain", "mod=test event=one n=1", "mod=test event=one n=1\n", 256},
        {"a newline in the format", "mod=test\nevent=two\r", "mod=test event=two \n", 256},
        {"cut to fit, still a line", "mod=test event=three what=abcdefghij", "mod=test event=th\n",
         58},
        {"empty fields", "", "\n", 64},
    };
    char text[1024];
    size_t len = 0;
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        char line[256] = {0};
        size_t size = rows[i].size;
        size_t n = format(line, size, "%s", rows[i].fields);
        const char *after = strstr(line, "Z level=info ");
        if (!after || n > size || line[n - 1] != '\n' || strncmp(line, "ts=", 3) != 0 ||
            (size_t)(line + n - after) != strlen(rows[i].want) + 13 ||
            memcmp(after + 13, rows[i].want, strlen(rows[i].want)) != 0)
            fail_msg("%s: got \"%.*s\"", rows[i].name, (int)n, line);
        memcpy(text + len, line, n);
        len += n;
    }
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    assert_non_null(f);
    struct kw_log log = {f, KW_LOG_INFO};
    kw_log_write(&log, text, len);
    kw_log_write(&log, text, 0);
    kw_log_write(NULL, text, len);
    fclose(f);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, text, len);
    free(out);
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
        cmocka_unit_test(test_format_and_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
