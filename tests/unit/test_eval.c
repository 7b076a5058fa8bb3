// SPDX-License-Identifier: MIT
/* `calendar eval`: answers, errors, the fast path against jansson's, the cache. */
#include <stdio.h>
#include <stdlib.h>

#include "eval.h"
#include "testutil.h"

#define CAL                                                                                        \
    "{\"tz\":\"Asia/Shanghai\",\"week\":{\"mon\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]],"   \
    "\"tue\":[[\"09:00\",\"18:00\"]]},\"holidays\":[\"2026-03-03\"]}"
/* The same calendar with other key order and spacing. */
#define CAL2                                                                                       \
    "{ \"holidays\": [\"2026-03-03\"], \"week\": {\"tue\": [[\"09:00\",\"18:00\"]], "              \
    "\"mon\": [[\"09:00\",\"12:00\"], [\"13:30\",\"18:00\"]]}, \"tz\": \"Asia/Shanghai\" }"

struct fixture {
    struct kw_tzdb *db;
    struct kw_cal_cache *cache;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->db = kw_tzdb_new();
    f->cache = kw_cal_cache_new(f->db, 4);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kw_cal_cache_free(f->cache);
    kw_tzdb_free(f->db);
    free(f);
    return 0;
}

static const struct {
    const char *name, *line, *want;
} cases[] = {
    {"deadline",
     "{\"id\":\"q1\",\"calendar\":" CAL ",\"op\":\"deadline\",\"start\":"
     "\"2026-03-02T11:00:00+08:00\",\"seconds\":7200}",
     "{\"id\":\"q1\",\"result\":\"2026-03-02T06:30:00Z\"}"},
    {"deadline with a duration string",
     "{\"id\":2,\"calendar\":" CAL ",\"op\":\"deadline\","
     "\"start\":\"2026-03-02T11:00:00+08:00\",\"seconds\":\"2h\"}",
     "{\"id\":2,\"result\":\"2026-03-02T06:30:00Z\"}"},
    {"over the holiday Tuesday to the next Monday",
     "{\"id\":\"q3\",\"op\":\"deadline\",\"seconds\":3600,"
     "\"start\":\"2026-03-02T17:30:00+08:00\",\"calendar\":" CAL "}",
     "{\"id\":\"q3\",\"result\":\"2026-03-09T01:30:00Z\"}"},
    {"elapsed",
     "{\"id\":\"q4\",\"calendar\":" CAL ",\"op\":\"elapsed\",\"start\":"
     "\"2026-03-02T00:00:00+08:00\",\"end\":\"2026-03-11T00:00:00+08:00\"}",
     "{\"id\":\"q4\",\"result\":86400}"},
    {"is_working",
     "{\"id\":null,\"calendar\":" CAL ",\"op\":\"is_working\",\"start\":"
     "\"2026-03-02T12:30:00+08:00\"}",
     "{\"id\":null,\"result\":false}"},
    {"next_working",
     "{\"id\":-1.5,\"calendar\":" CAL ",\"op\":\"next_working\",\"start\":"
     "\"2026-03-02T12:30:00+08:00\"}",
     "{\"id\":-1.5,\"result\":\"2026-03-02T05:30:00Z\"}"},
    {"no id", "{\"calendar\":" CAL ",\"op\":\"is_working\",\"start\":\"2026-03-02T10:00:00Z\"}",
     "{\"id\":null,\"result\":false}"},
    {"an object id goes the slow way",
     "{\"id\":{\"k\":[1,2]},\"calendar\":" CAL ",\"op\":\"is_working\",\"start\":"
     "\"2026-03-02T02:00:00Z\"}",
     "{\"id\":{\"k\":[1,2]},\"result\":true}"},
    {"an escaped id goes the slow way",
     "{\"id\":\"a\\\"b\",\"calendar\":" CAL ",\"op\":\"is_working\",\"start\":"
     "\"2026-03-02T02:00:00Z\"}",
     "{\"id\":\"a\\\"b\",\"result\":true}"},
    /* errors */
    {"not JSON", "{\"id\":\"q\",", "{\"id\":null,\"error\":\"not a valid JSON line"},
    {"not an object", "[1]", "{\"id\":null,\"error\":\"a query must be a JSON object\"}"},
    {"unknown op",
     "{\"id\":\"e1\",\"calendar\":" CAL ",\"op\":\"dedline\",\"start\":\"2026-03-02T02:00:00Z\"}",
     "{\"id\":\"e1\",\"error\":\"op: \\\"dedline\\\" is not an operation"},
    {"missing op", "{\"id\":\"e2\",\"calendar\":" CAL "}",
     "{\"id\":\"e2\",\"error\":\"op: missing"},
    {"missing calendar",
     "{\"id\":\"e3\",\"op\":\"deadline\",\"start\":\"2026-03-02T02:00:00Z\",\"seconds\":1}",
     "{\"id\":\"e3\",\"error\":\"calendar: missing"},
    {"bad calendar names its field",
     "{\"id\":\"e4\",\"calendar\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"25:00\"]]}},"
     "\"op\":\"deadline\",\"start\":\"2026-03-02T02:00:00Z\",\"seconds\":1}",
     "{\"id\":\"e4\",\"error\":\"calendar: week.mon[0]: \\\"25:00\\\" is not a time of day "
     "(expected HH:MM, 00:00-24:00)\",\"field\":\"/calendar/week/mon/0/1\"}"},
    {"unknown zone",
     "{\"id\":\"e5\",\"calendar\":{\"tz\":\"Asia/Atlantis\",\"week\":{}},"
     "\"op\":\"is_working\",\"start\":\"2026-03-02T02:00:00Z\"}",
     "{\"id\":\"e5\",\"error\":\"calendar: tz: unknown time zone"},
    {"start without offset",
     "{\"id\":\"e6\",\"calendar\":" CAL ",\"op\":\"deadline\",\"start\":"
     "\"2026-03-02T09:00:00\",\"seconds\":1}",
     "{\"id\":\"e6\",\"error\":\"start: \\\"2026-03-02T09:00:00\\\" has no UTC offset"},
    {"negative seconds",
     "{\"id\":\"e7\",\"calendar\":" CAL ",\"op\":\"deadline\",\"start\":"
     "\"2026-03-02T09:00:00Z\",\"seconds\":-5}",
     "{\"id\":\"e7\",\"error\":\"seconds: must not be negative\",\"field\":\"/seconds\"}"},
    {"fractional seconds",
     "{\"id\":\"e8\",\"calendar\":" CAL ",\"op\":\"deadline\",\"start\":"
     "\"2026-03-02T09:00:00Z\",\"seconds\":1.5}",
     "{\"id\":\"e8\",\"error\":\"seconds: expected whole working seconds"},
    {"bad duration",
     "{\"id\":\"e9\",\"calendar\":" CAL ",\"op\":\"deadline\",\"start\":"
     "\"2026-03-02T09:00:00Z\",\"seconds\":\"4 hours\"}",
     "{\"id\":\"e9\",\"error\":\"seconds: \\\"4 hours\\\" is not a duration"},
    {"missing end",
     "{\"id\":\"e10\",\"calendar\":" CAL ",\"op\":\"elapsed\",\"start\":"
     "\"2026-03-02T09:00:00Z\"}",
     "{\"id\":\"e10\",\"error\":\"end: missing"},
    {"past the horizon",
     "{\"id\":\"e11\",\"calendar\":" CAL ",\"op\":\"deadline\",\"start\":"
     "\"2099-12-30T09:00:00Z\",\"seconds\":\"30d\"}",
     "{\"id\":\"e11\",\"error\":\"the deadline lies past the calendar's horizon"},
    {"unknown field",
     "{\"id\":\"e12\",\"calendar\":" CAL ",\"op\":\"is_working\",\"start\":"
     "\"2026-03-02T09:00:00Z\",\"at\":1}",
     "{\"id\":\"e12\",\"error\":\"unknown field \\\"at\\\""},
    {"duplicate field", "{\"id\":\"e13\",\"op\":\"is_working\",\"op\":\"elapsed\"}",
     "{\"id\":null,\"error\":\"not a valid JSON line"},
    {"start not a string",
     "{\"id\":\"e14\",\"calendar\":" CAL ",\"op\":\"is_working\",\"start\":5}",
     "{\"id\":\"e14\",\"error\":\"start: expected a string\",\"field\":\"/start\"}"},
    {"invalid UTF-8", "{\"id\":\"\xc3\x28\",\"op\":\"is_working\"}",
     "{\"id\":null,\"error\":\"not a valid JSON line"},
};

static void test_answers_both_paths(void **state)
{
    struct fixture *f = *state;
    for (int fast = 0; fast < 2; fast++) {
        for (size_t i = 0; i < N_ELEMS(cases); i++) {
            struct kw_buf out = {0};
            struct kw_eval_stats st = {0};
            kw_eval_line(f->cache, cases[i].line, strlen(cases[i].line), fast, &out, &st);
            assert_non_null(out.p);
            assert_true(out.len > 0 && out.p[out.len - 1] == '\n');
            if (strncmp(out.p, cases[i].want, strlen(cases[i].want)) != 0)
                fail_msg("%s (%s path):\n got  %s want %s", cases[i].name, fast ? "fast" : "slow",
                         out.p, cases[i].want);
            /* Every answer is one valid JSON object. */
            json_error_t jerr;
            json_t *j = json_loadb(out.p, out.len, 0, &jerr);
            if (!json_is_object(j))
                fail_msg("%s: answer is not JSON: %s", cases[i].name, out.p);
            assert_int_equal(json_object_get(j, "error") != NULL, st.errors == 1);
            json_decref(j);
            kw_buf_release(&out);
        }
    }
}

static void test_fast_path_is_taken(void **state)
{
    struct fixture *f = *state;
    struct kw_buf out = {0};
    struct kw_eval_stats st = {0};
    kw_eval_line(f->cache, cases[0].line, strlen(cases[0].line), true, &out, &st);
    kw_eval_line(f->cache, cases[7].line, strlen(cases[7].line), true, &out, &st);
    assert_int_equal(st.lines, 2);
    assert_int_equal(st.fast, 1); /* the object id went to jansson */
    kw_buf_release(&out);
}

static void test_identical_calendars_compile_once(void **state)
{
    struct fixture *f = *state;
    struct kw_cal_cache *cache = kw_cal_cache_new(f->db, 4);
    const char *lines[] = {
        "{\"id\":1,\"calendar\":" CAL ",\"op\":\"is_working\",\"start\":\"2026-03-02T02:00:00Z\"}",
        "{\"id\":2,\"calendar\":" CAL ",\"op\":\"is_working\",\"start\":\"2026-03-02T03:00:00Z\"}",
        "{\"id\":3,\"calendar\":" CAL2 ",\"op\":\"is_working\",\"start\":\"2026-03-02T03:00:00Z\"}",
        "{\"id\":4,\"calendar\":" CAL2 ",\"op\":\"is_working\",\"start\":\"2026-03-02T03:00:00Z\"}",
    };
    struct kw_buf out = {0};
    struct kw_eval_stats st = {0};
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < N_ELEMS(lines); i++)
            kw_eval_line(cache, lines[i], strlen(lines[i]), round != 1, &out, &st);
    assert_int_equal(st.errors, 0);
    assert_int_equal(kw_cal_cache_compiles(cache), 1);
    /* More distinct calendars than entries: old ones are dropped, answers stay right. */
    for (int i = 0; i < 10; i++) {
        char line[512];
        snprintf(
            line, sizeof(line),
            "{\"id\":%d,\"calendar\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"0%d:00\",\"10:00\"]]}},"
            "\"op\":\"elapsed\",\"start\":\"2026-03-02T00:00:00Z\",\"end\":\"2026-03-03T00:00:"
            "00Z\"}",
            i, i);
        out.len = 0;
        kw_eval_line(cache, line, strlen(line), true, &out, &st);
        char want[64];
        snprintf(want, sizeof(want), "{\"id\":%d,\"result\":%d}\n", i, (10 - i) * 3600);
        assert_string_equal(out.p, want);
    }
    assert_int_equal(kw_cal_cache_compiles(cache), 11);
    out.len = 0;
    kw_eval_line(cache, lines[0], strlen(lines[0]), true, &out, &st);
    assert_string_equal(out.p, "{\"id\":1,\"result\":true}\n");
    kw_buf_release(&out);
    kw_cal_cache_free(cache);
}

/* Run the stream over text; the caller frees *out_text. */
static void run_stream(struct fixture *f, char *text, size_t len, char **out_text,
                       struct kw_eval_stats *st)
{
    FILE *in = fmemopen(text, len, "r");
    size_t out_len = 0;
    FILE *out = open_memstream(out_text, &out_len);
    assert_int_equal(kw_eval_stream(f->cache, in, out, st), 0);
    fclose(in);
    fclose(out);
}

static void test_stream(void **state)
{
    struct fixture *f = *state;
    char in_text[4096];
    snprintf(in_text, sizeof(in_text),
             "%s\n\n   \ngarbage\r\n%s\n{\"id\":\"last\",\"calendar\":" CAL
             ",\"op\":\"is_working\",\"start\":\"2026-03-02T02:00:00Z\"}",
             cases[0].line, cases[3].line);
    char *out_text = NULL;
    struct kw_eval_stats st = {0};
    run_stream(f, in_text, strlen(in_text), &out_text, &st);
    assert_int_equal(st.lines, 4); /* blank lines are skipped */
    assert_int_equal(st.errors, 1);
    char want[1024];
    snprintf(want, sizeof(want), "%s\n{\"id\":null,\"error\":", cases[0].want);
    assert_memory_equal(out_text, want, strlen(want));
    assert_non_null(strstr(out_text, "\n{\"id\":\"q4\",\"result\":86400}\n"
                                     "{\"id\":\"last\",\"result\":true}\n"));
    free(out_text);
}

/* A line past the limit is answered with an error and the stream goes on;
 * a last line without a newline is answered too. */
static void test_stream_limits(void **state)
{
    struct fixture *f = *state;
    size_t big = KW_EVAL_MAX_LINE + 100;
    const char *tail = "{\"id\":\"after\",\"calendar\":" CAL
                       ",\"op\":\"is_working\",\"start\":\"2026-03-02T02:00:00Z\"}";
    size_t n = big + 1 + strlen(tail);
    char *text = malloc(n);
    memset(text, 'x', big);
    text[0] = '{';
    text[big] = '\n';
    memcpy(text + big + 1, tail, strlen(tail)); /* no final newline */
    char *out_text = NULL;
    struct kw_eval_stats st = {0};
    run_stream(f, text, n, &out_text, &st);
    assert_int_equal(st.lines, 2);
    assert_int_equal(st.errors, 1);
    assert_non_null(strstr(out_text, "{\"id\":null,\"error\":\"query line is"));
    assert_non_null(strstr(out_text, "\n{\"id\":\"after\",\"result\":true}\n"));
    free(out_text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_both_paths),
        cmocka_unit_test(test_fast_path_is_taken),
        cmocka_unit_test(test_identical_calendars_compile_once),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_stream_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
