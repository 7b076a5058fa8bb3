// SPDX-License-Identifier: MIT
#include "chain.h"

#include <jansson.h>
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
