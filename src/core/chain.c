// SPDX-License-Identifier: MIT
#include "chain.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a body already canonical ----
 * Most bodies come from a JSON tree printed compact with sorted keys (or
 * from kw_canon): they are canonical already, and parsing and printing
 * them again gives the same bytes. scan_* recognise, without building a
 * tree, exactly the texts that jansson would print unchanged; a text they
 * do not recognise (a real number, a key with an escape, deep nesting,
 * any doubt) takes the JSON library's way. */

#define SCAN_DEPTH 32

static const char *scan_value(const char *p, int depth);

/* A string as jansson prints it, from its opening quote; *body and *len
 * get its raw bytes (between the quotes), *plain whether it has no escape. */
static const char *scan_string(const char *p, const char **body, size_t *len, bool *plain)
{
    if (*p++ != '"')
        return NULL;
    const char *from = p;
    *plain = true;
    for (;;) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"')
            break;
        if (ch < 0x20) /* jansson escapes every control character (and NUL ends the text) */
            return NULL;
        if (ch == '\\') {
            *plain = false;
            char e = p[1];
            if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                p += 2;
                continue;
            }
            /* \u00XX for the other control characters, upper-case hex, never NUL */
            if (e != 'u' || p[2] != '0' || p[3] != '0' || (p[4] != '0' && p[4] != '1'))
                return NULL;
            char h = p[5];
            int lo = h >= '0' && h <= '9' ? h - '0' : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            int code = lo < 0 ? -1 : (p[4] - '0') * 16 + lo;
            if (code <= 0 || code == '\b' || code == '\f' || code == '\n' || code == '\r' ||
                code == '\t')
                return NULL;
            p += 6;
            continue;
        }
        if (ch < 0x80) {
            p++;
            continue;
        }
        /* UTF-8 as jansson accepts it: the longest valid prefix of the
         * sequence must take it whole */
        size_t n = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2;
        for (size_t i = 1; i < n; i++)
            if (!p[i])
                return NULL;
        if (kw_utf8_valid_prefix(p, n) != n)
            return NULL;
        p += n;
    }
    *body = from;
    *len = (size_t)(p - from);
    return p + 1;
}

/* An integer as jansson prints it (%lld): no sign on 0, no leading zero,
 * and short enough to be in range; anything else (a real) is not taken. */
static const char *scan_number(const char *p)
{
    const char *q = p;
    if (*q == '-')
        q++;
    if (*q == '0') {
        if (q != p) /* -0 */
            return NULL;
        q++;
    } else if (*q >= '1' && *q <= '9') {
        const char *d = q;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q - d > 18)
            return NULL;
    } else
        return NULL;
    return *q == '.' || *q == 'e' || *q == 'E' ? NULL : q;
}

static const char *scan_object(const char *p, int depth)
{
    if (*p++ != '{' || depth > SCAN_DEPTH)
        return NULL;
    if (*p == '}')
        return p + 1;
    const char *prev = NULL;
    size_t prev_len = 0;
    for (;;) {
        const char *key;
        size_t len;
        bool plain;
        p = scan_string(p, &key, &len, &plain);
        if (!p || !plain || *p++ != ':')
            return NULL;
        /* keys in strictly increasing byte order: sorted, none repeated */
        if (prev) {
            int c = memcmp(prev, key, prev_len < len ? prev_len : len);
            if (c > 0 || (c == 0 && prev_len >= len))
                return NULL;
        }
        prev = key;
        prev_len = len;
        p = scan_value(p, depth + 1);
        if (!p)
            return NULL;
        if (*p == '}')
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *scan_value(const char *p, int depth)
{
    const char *body;
    size_t len;
    bool plain;
    switch (*p) {
    case '{':
        return scan_object(p, depth);
    case '[':
        if (depth > SCAN_DEPTH)
            return NULL;
        p++;
        if (*p == ']')
            return p + 1;
        for (;;) {
            p = scan_value(p, depth + 1);
            if (!p)
                return NULL;
            if (*p == ']')
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    case '"':
        return scan_string(p, &body, &len, &plain);
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return scan_number(p);
    }
}

bool kw_chain_is_canonical(const char *body)
{
    const char *end = body ? scan_object(body, 0) : NULL;
    return end && *end == '\0';
}

char *kw_chain_canonical(const char *body, struct kw_err *err)
{
    if (kw_chain_is_canonical(body)) {
        size_t n = strlen(body) + 1;
        char *s = malloc(n);
        if (!s)
            kw_err_set(err, KW_NOMEM, "", "no memory for the event");
        else
            memcpy(s, body, n);
        return s;
    }
    json_error_t jerr;
    json_t *j = json_loads(body ? body : "{}", JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        kw_err_set(err, KW_INVALID, "", "an event body must be a JSON object");
        return NULL;
    }
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (!s)
        kw_err_set(err, KW_NOMEM, "", "no memory for the event");
    return s;
}

void kw_canon_begin(struct kw_canon *c)
{
    *c = (struct kw_canon){0};
    kw_buf_add(&c->b, "{", 1);
}

/* The member's start: a comma after the first, the key (the caller's
 * fixed keys: nothing to escape), the colon and then open, one more byte
 * ('"' before a string, or nothing: 0), in one addition to the buffer: a
 * created event's body was 29 of them, half its cost (#20). */
static void canon_key(struct kw_canon *c, const char *key, char then)
{
    char head[64];
    size_t klen = strlen(key), n = 0;
    if (klen + 5 > sizeof(head)) { /* never so long; as it was written before */
        if (c->b.len > 1)
            kw_buf_add(&c->b, ",", 1);
        kw_buf_add(&c->b, "\"", 1);
        kw_buf_add(&c->b, key, klen);
        kw_buf_add(&c->b, "\":", 2);
        if (then)
            kw_buf_add(&c->b, &then, 1);
        return;
    }
    if (c->b.len > 1)
        head[n++] = ',';
    head[n++] = '"';
    memcpy(head + n, key, klen);
    n += klen;
    head[n++] = '"';
    head[n++] = ':';
    if (then)
        head[n++] = then;
    kw_buf_add(&c->b, head, n);
}

void kw_canon_str(struct kw_canon *c, const char *key, const char *val)
{
    if (!val)
        return;
    size_t len = strlen(val);
    if (kw_utf8_valid_prefix(val, len) != len) {
        c->bad = true;
        return;
    }
    canon_key(c, key, '"');
    /* as jansson's dump: \\ \" and the short escapes, other control
     * characters as \u00XX (upper-case hex), the rest as it is */
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)val[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        kw_buf_add(&c->b, val + run, i - run);
        run = i + 1;
        char esc[6];
        kw_buf_add(&c->b, esc, kw_json_escape(ch, esc));
    }
    if (run == 0) { /* nothing escaped (the usual text): the value and its quote at once */
        char tail[256];
        if (len < sizeof(tail)) {
            memcpy(tail, val, len);
            tail[len] = '"';
            kw_buf_add(&c->b, tail, len + 1);
            return;
        }
    }
    kw_buf_add(&c->b, val + run, len - run);
    kw_buf_add(&c->b, "\"", 1);
}

void kw_canon_int(struct kw_canon *c, const char *key, int64_t val)
{
    canon_key(c, key, 0);
    /* in decimal as "%lld" prints it, without vsnprintf (#20) */
    char d[24];
    size_t i = sizeof(d);
    uint64_t u = val < 0 ? 0 - (uint64_t)val : (uint64_t)val;
    do
        d[--i] = (char)('0' + (int)(u % 10));
    while ((u /= 10) != 0);
    if (val < 0)
        d[--i] = '-';
    kw_buf_add(&c->b, d + i, sizeof(d) - i);
}

void kw_canon_null(struct kw_canon *c, const char *key)
{
    canon_key(c, key, 0);
    kw_buf_add(&c->b, "null", 4);
}

char *kw_canon_end(struct kw_canon *c)
{
    kw_buf_add(&c->b, "}", 1);
    if (c->bad || c->b.failed) {
        kw_buf_release(&c->b);
        return NULL;
    }
    char *s = c->b.p;
    c->b = (struct kw_buf){0};
    return s;
}

static void put_be64(struct kw_hash *h, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    kw_hash_update(h, b, sizeof(b));
}

void kw_event_hash(const unsigned char prev[KW_HASH_BYTES], int64_t ticket, int64_t seq, int64_t at,
                   const char *type, int64_t actor, const char *body,
                   unsigned char out[KW_HASH_BYTES])
{
    struct kw_hash h;
    kw_hash_init(&h);
    kw_hash_update(&h, prev, KW_HASH_BYTES);
    put_be64(&h, ticket);
    put_be64(&h, seq);
    put_be64(&h, at);
    kw_hash_update(&h, type, strlen(type) + 1);
    put_be64(&h, actor);
    kw_hash_update(&h, body, strlen(body));
    kw_hash_final(&h, out);
}
