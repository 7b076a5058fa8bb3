// SPDX-License-Identifier: MIT
#include "chain.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

char *kw_chain_canonical(const char *body, struct kw_err *err)
{
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

static void canon_key(struct kw_canon *c, const char *key)
{
    if (c->b.len > 1)
        kw_buf_add(&c->b, ",", 1);
    kw_buf_add(&c->b, "\"", 1);
    kw_buf_adds(&c->b, key); /* the caller's fixed keys: nothing to escape */
    kw_buf_add(&c->b, "\":", 2);
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
    canon_key(c, key);
    kw_buf_add(&c->b, "\"", 1);
    /* as jansson's dump: \\ \" and the short escapes, other control
     * characters as \u00XX (upper-case hex), the rest as it is */
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)val[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        kw_buf_add(&c->b, val + run, i - run);
        run = i + 1;
        char esc[8];
        const char *short_esc = ch == '"'    ? "\\\""
                                : ch == '\\' ? "\\\\"
                                : ch == '\b' ? "\\b"
                                : ch == '\f' ? "\\f"
                                : ch == '\n' ? "\\n"
                                : ch == '\r' ? "\\r"
                                : ch == '\t' ? "\\t"
                                             : NULL;
        if (!short_esc) {
            snprintf(esc, sizeof(esc), "\\u%04X", ch);
            short_esc = esc;
        }
        kw_buf_adds(&c->b, short_esc);
    }
    kw_buf_add(&c->b, val + run, len - run);
    kw_buf_add(&c->b, "\"", 1);
}

void kw_canon_int(struct kw_canon *c, const char *key, int64_t val)
{
    canon_key(c, key);
    kw_buf_printf(&c->b, "%lld", (long long)val);
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
