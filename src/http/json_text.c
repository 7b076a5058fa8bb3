// SPDX-License-Identifier: MIT
/*
 * json_text.c - a reply's JSON text in one pass over the tree (json_text.h):
 * strings copied in runs, escaped where RFC 8259 requires it, exactly where
 * jansson 2.14's dump.c escapes them, so every reply keeps its bytes.
 */
#include "json_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kw_buf.h"

/* the text grows in a kw_buf (its failure kept until the end) */
static void put(struct kw_buf *o, const void *s, size_t n)
{
    kw_buf_add(o, s, n);
}

static void put_char(struct kw_buf *o, char c)
{
    kw_buf_add(o, &c, 1);
}

/* A string literal: jansson writes `"` and `\` escaped, \b \f \n \r \t for
 * those controls and \u00XX (upper-case hex) for the other characters below
 * U+0020, and everything else as it is, U+007F and U+2028 included; it
 * fails on a string that is not UTF-8 (overlong forms, surrogates and code
 * points past U+10FFFF included), and so does this. */
/* Whether none of the 8 bytes in w needs a look (a control, `"`, `\`, or
 * a byte of a multi-byte sequence): the "has a byte less than" test of
 * each, exact for the word as a whole. */
static bool plain8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    return (((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w & ~q & ~b & high) == 0 &&
           (w & high) == 0;
}

static bool put_string(struct kw_buf *o, const char *s, size_t n)
{
    put_char(o, '"');
    size_t i = 0, run = 0;
    while (i < n) {
        if (n - i >= 8) { /* eight plain bytes at once */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (plain8(w)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (c >= 0x80) { /* the sequence its first byte announces, checked whole */
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (k > n - i || kw_utf8_valid_prefix(s + i, k) != k)
                return false;
            i += k;
            continue;
        }
        put(o, s + run, i - run);
        char e[6];
        size_t len = kw_json_escape(c, e);
        put(o, e, len);
        run = ++i;
    }
    put(o, s + run, n - run);
    put_char(o, '"');
    return true;
}

static void put_integer(struct kw_buf *o, json_int_t v)
{
    char b[24];
    size_t k = sizeof(b);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        b[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        b[--k] = '-';
    put(o, b + k, sizeof(b) - k);
}

static bool put_value(struct kw_buf *o, json_t *j, size_t flags)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        put_char(o, '{');
        for (void *it = json_object_iter(j); it;) {
            if (!put_string(o, json_object_iter_key(it), json_object_iter_key_len(it)))
                return false;
            put_char(o, ':');
            if (!put_value(o, json_object_iter_value(it), flags))
                return false;
            if ((it = json_object_iter_next(j, it)) != NULL)
                put_char(o, ',');
        }
        put_char(o, '}');
        return true;
    }
    case JSON_ARRAY: {
        put_char(o, '[');
        for (size_t i = 0, n = json_array_size(j); i < n; i++) {
            if (i)
                put_char(o, ',');
            if (!put_value(o, json_array_get(j, i), flags))
                return false;
        }
        put_char(o, ']');
        return true;
    }
    case JSON_STRING:
        return put_string(o, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        put_integer(o, json_integer_value(j));
        return true;
    case JSON_REAL: {
        /* rare in a reply: jansson's own digits (%.*g, ".0" added, the
         * exponent's '+' and leading zeros taken off) */
        char b[64];
        size_t n = json_dumpb(j, b, sizeof(b), flags | JSON_ENCODE_ANY);
        if (!n || n > sizeof(b))
            return false;
        put(o, b, n);
        return true;
    }
    case JSON_TRUE:
        put(o, "true", 4);
        return true;
    case JSON_FALSE:
        put(o, "false", 5);
        return true;
    case JSON_NULL:
        put(o, "null", 4);
        return true;
    }
    return false;
}

char *kwh_json_text(json_t *j, int precision, size_t *len)
{
    if (!json_is_object(j) && !json_is_array(j))
        return NULL;
    struct kw_buf o = {0};
    size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(precision);
    if (!put_value(&o, j, flags) || o.failed) {
        kw_buf_release(&o);
        return NULL;
    }
    if (len)
        *len = o.len;
    return o.p; /* NUL-terminated, as a kw_buf always is */
}
