// SPDX-License-Identifier: MIT
/* http/json_text: a reply's text is the same bytes json_dumps gives (JSON_COMPACT,
 * JSON_REAL_PRECISION), for awkward strings, every kind of value, and random
 * trees; and NULL where json_dumps gives NULL. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"
#include "kw_buf.h"
#include "testutil.h"

/* j's text from both encoders, compared byte for byte (NULL for NULL). */
static void same(const char *name, json_t *j, int precision)
{
    size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(precision);
    char *want = json_dumps(j, flags);
    size_t len = 12345;
    char *got = kwh_json_text(j, precision, &len);
    if (!want || !got) {
        if (want || got)
            fail_msg("%s: json_dumps gave %s, kwh_json_text %s", name, want ? want : "NULL",
                     got ? got : "NULL");
    } else {
        if (strcmp(want, got) != 0)
            fail_msg("%s:\n  json_dumps    %s\n  kwh_json_text %s", name, want, got);
        assert_int_equal(len, strlen(want));
    }
    free(want);
    free(got);
}

static void test_strings(void **state)
{
    (void)state;
    static const struct {
        const char *name, *s;
        size_t len; /* 0: strlen */
    } cases[] = {
        {"empty", "", 0},
        {"plain ASCII", "Printer on floor 3 is out of toner", 0},
        {"quotes", "say \"hi\" and \"\"", 0},
        {"backslashes", "C:\\path\\to\\x \\\\ end\\", 0},
        {"a slash is not escaped", "a/b </script>", 0},
        {"the named controls", "\b\f\n\r\t", 0},
        {"the other controls", "\x01\x02\x07\x0b\x0e\x1a\x1b\x1f", 0},
        {"a NUL inside", "a\0b", 3},
        {"DEL passes",
         "a\x7f"
         "b",
         0},
        {"U+2028 and U+2029 pass", "line\xe2\x80\xa8sep\xe2\x80\xa9", 0},
        {"CJK", "打印机坏了，请尽快处理", 0},
        {"four-byte UTF-8", "ok \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", 0},
        {"escapes around UTF-8", "\"é\"\n\\ü\\", 0},
        {"an escape first and last", "\nmiddle\t", 0},
        {"only escapes", "\"\\\"\\", 0},
        {"a lone continuation byte", "a\x80z", 0},
        {"an overlong form", "\xc0\xaf", 0},
        {"a surrogate", "\xed\xa0\x80", 0},
        {"past U+10FFFF", "\xf4\x90\x80\x80", 0},
        {"a cut sequence at the end", "abc\xe6\x89", 0},
        {"0xF5 and above", "\xf5\x80\x80\x80", 0},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].s);
        json_t *o = json_object(), *a = json_array();
        json_object_set_new(o, "v", json_stringn_nocheck(cases[i].s, n));
        json_array_append_new(a, json_stringn_nocheck(cases[i].s, n));
        same(cases[i].name, o, 15);
        same(cases[i].name, a, 15);
        /* the same text as a key; one that is not UTF-8 gives NULL here,
         * where jansson writes what it had of the key without its closing
         * quote (`{":true}`, not JSON): keys are literals or pass jansson's
         * own check, so no reply has one */
        json_t *k = json_object();
        json_object_setn_new_nocheck(k, cases[i].s, n, json_true());
        if (kw_utf8_valid_prefix(cases[i].s, n) == n)
            same(cases[i].name, k, 15);
        else
            assert_null(kwh_json_text(k, 15, NULL));
        json_decref(o);
        json_decref(a);
        json_decref(k);
    }
    /* each awkward byte at each place of a 20-byte string, and its neighbours
     * in value (the writer looks at eight bytes at a time) */
    static const char *const odd[] = {
        "\"", "\\", "\x1f", "\x01",     "\n",           "\x7f", " ",   "!",
        "#",  "[",  "]",    "\xc3\xa9", "\xe2\x80\xa8", "\x80", "\xff"};
    for (size_t k = 0; k < N_ELEMS(odd); k++)
        for (size_t at = 0; at < 20; at++) {
            char t[32];
            memset(t, 'a', sizeof(t));
            size_t m = strlen(odd[k]);
            memcpy(t + at, odd[k], m);
            json_t *a = json_array();
            json_array_append_new(a, json_stringn_nocheck(t, 20 + m));
            char name[48];
            snprintf(name, sizeof(name), "odd byte %zu at %zu", k, at);
            same(name, a, 15);
            json_decref(a);
        }
    /* long: 100,000 bytes with an escape every 1,000 */
    char *big = malloc(100001);
    for (size_t i = 0; i < 100000; i++)
        big[i] = i % 1000 == 999 ? '"' : (char)('a' + i % 26);
    big[100000] = '\0';
    json_t *o = json_pack("{s:s}", "long", big);
    same("long", o, 15);
    json_decref(o);
    free(big);
}

static void test_values(void **state)
{
    (void)state;
    static const struct {
        const char *name, *json; /* parsed by jansson, then written by both */
    } cases[] = {
        {"an empty object", "{}"},
        {"an empty array", "[]"},
        {"nested empties", "{\"a\":{},\"b\":[],\"c\":[{}, []]}"},
        {"literals", "[true,false,null]"},
        {"integers", "[0,1,-1,9,10,-10,1234567890,9223372036854775807,-9223372036854775808]"},
        {"reals", "[0.0,-0.0,1.0,0.1,-2.5,1e20,1.5e-7,3.141592653589793,123456789012345678.0,"
                  "1e300,4.9e-324,0.30000000000000004]"},
        {"keys in their order", "{\"z\":1,\"a\":2,\"m\":{\"y\":[1,{\"b\":null}],\"x\":\"s\"}}"},
        {"a created ticket's shape",
         "{\"id\":202,\"org_id\":1,\"commitment_id\":null,\"title\":\"load c3 n17\","
         "\"state\":\"new\",\"level\":\"L3\",\"created_at\":\"2026-12-03T09:25:25Z\","
         "\"clocks\":[{\"metric\":\"first_response\",\"status\":\"running\",\"due_at\":"
         "\"2026-12-03T13:25:25Z\",\"percent\":12.5}],\"allowed_moves\":[\"open\",\"closed\"],"
         "\"watch_list\":false}"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        json_error_t e;
        json_t *j = json_loads(cases[i].json, 0, &e);
        if (!j)
            fail_msg("%s: bad JSON in the test: %s", cases[i].name, e.text);
        same(cases[i].name, j, 15);
        same(cases[i].name, j, 0);
        same(cases[i].name, j, 3);
        json_decref(j);
    }
    /* reals jansson's parser would not give */
    json_t *a = json_pack("[f,f,f,f]", 1e-5, 100.0, 1e15, 1e16);
    same("reals at the exponent's edges", a, 15);
    json_decref(a);
    /* an object whose keys were deleted and set again keeps jansson's order */
    json_t *o = json_pack("{s:i,s:i,s:i}", "a", 1, "b", 2, "c", 3);
    json_object_del(o, "a");
    json_object_set_new(o, "a", json_integer(4));
    json_object_set_new(o, "b", json_integer(5));
    same("keys deleted and set again", o, 15);
    json_decref(o);
    /* not an object or an array: NULL from both */
    json_t *s = json_string("x"), *n = json_integer(1);
    same("a string alone", s, 15);
    same("an integer alone", n, 15);
    json_decref(s);
    json_decref(n);
    /* a string that is not UTF-8 deep inside: NULL from both */
    json_t *deep = json_pack("{s:[i,{s:o}]}", "a", 1, "b", json_stringn_nocheck("\xff", 1));
    same("not UTF-8 deep inside", deep, 15);
    json_decref(deep);
}

/* ---- random trees ---- */

static uint64_t rnd_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (uint32_t)(rnd_state >> 32);
}

/* Random bytes, mostly text: ASCII, escapes, UTF-8 and, unless valid, now
 * and then a byte that is not UTF-8. */
static size_t rnd_text(char *b, size_t cap, bool valid)
{
    static const char *const bits[] = {
        "a",    "Z", " ",  "\"", "\\",           "/",    "\n",   "\t", "\x01", "\x1f",
        "\x7f", "é", "中", "😀",  "\xe2\x80\xa8", "\x80", "\xc3", "0"};
    size_t n = 0, parts = rnd() % 12;
    for (size_t i = 0; i < parts; i++) {
        const char *p = bits[rnd() % N_ELEMS(bits)];
        if ((p[0] == '\x80' || p[0] == '\xc3') && (valid || rnd() % 8)) /* now and then */
            p = "x";
        size_t k = strlen(p);
        if (n + k >= cap)
            break;
        memcpy(b + n, p, k);
        n += k;
    }
    return n;
}

static json_t *rnd_tree(int depth)
{
    char b[64];
    switch (depth > 3 ? 2 + rnd() % 5 : rnd() % 7) {
    case 0: {
        json_t *o = json_object();
        for (uint32_t i = 0, n = rnd() % 5; i < n; i++) {
            size_t k = rnd_text(b, sizeof(b), true); /* keys: above */
            json_object_setn_new_nocheck(o, b, k, rnd_tree(depth + 1));
        }
        return o;
    }
    case 1: {
        json_t *a = json_array();
        for (uint32_t i = 0, n = rnd() % 5; i < n; i++)
            json_array_append_new(a, rnd_tree(depth + 1));
        return a;
    }
    case 2:
        return json_stringn_nocheck(b, rnd_text(b, sizeof(b), false));
    case 3:
        return json_integer((json_int_t)(((uint64_t)rnd() << 32) | rnd()) >> (rnd() % 64));
    case 4:
        return json_real((double)(int32_t)rnd() / (double)(1 + rnd() % 100000) *
                         pow(10, (int)(rnd() % 40) - 20));
    case 5:
        return rnd() % 2 ? json_true() : json_false();
    default:
        return json_null();
    }
}

static void test_random_trees(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *j = json_object();
        json_object_set_new(j, "t", rnd_tree(0));
        char name[32];
        snprintf(name, sizeof(name), "random tree %d", i);
        same(name, j, i % 2 ? 15 : 0);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_random_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
