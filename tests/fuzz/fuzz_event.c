// SPDX-License-Identifier: MIT
/* libFuzzer: a stored event (the first line is its type, the rest its body)
 * either fails to decode with a located reason, or decodes into a record
 * whose encoding decodes to the same encoding again, and whose canonical
 * bytes are stable (what the chain hashes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *encoded(const struct kw_event_rec *r)
{
    struct kw_err err = {0};
    json_t *b = kw_event_encode(r, &err);
    if (!b) {
        if (!err.msg[0])
            abort(); /* every refusal says why */
        return NULL;
    }
    char *text = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    char *nl = strchr(in, '\n');
    const char *type = in, *body = nl ? nl + 1 : "{}";
    if (nl)
        *nl = '\0';
    struct kw_event_rec a, b;
    struct kw_err err = {0};
    json_t *ha = NULL, *hb = NULL;
    /* a body taken as canonical without a tree is what jansson prints back */
    if (kw_chain_is_canonical(body)) {
        json_t *j = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
        char *again = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!again || strcmp(again, body) != 0)
            abort();
        free(again);
        json_decref(j);
    }
    /* half of the runs without an error record: the decoder must cope */
    if (kw_event_decode(type, body, &a, &ha, size % 2 ? NULL : &err) != KW_OK) {
        if (ha || (size % 2 == 0 && !err.msg[0]))
            abort();
        free(in);
        return 0;
    }
    char *ta = encoded(&a);
    if (ta) {
        if (kw_event_decode(kw_event_kind_name(a.kind), ta, &b, &hb, &err) != KW_OK)
            abort(); /* what we write, we read */
        char *tb = encoded(&b);
        char *canon = kw_chain_canonical(ta, &err);
        if (!tb || strcmp(ta, tb) != 0 || !canon || strcmp(canon, ta) != 0)
            abort(); /* the same bytes again, already canonical */
        free(canon);
        free(tb);
    }
    free(ta);
    json_decref(ha);
    json_decref(hb);
    free(in);
    return 0;
}
