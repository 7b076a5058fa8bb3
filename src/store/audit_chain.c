// SPDX-License-Identifier: MIT
#include "audit_chain.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"

char *kw_audit_body(const struct kw_audit_row *a, struct kw_err *err)
{
    json_t *before = a->before ? json_loads(a->before, JSON_DECODE_ANY, NULL) : json_null();
    json_t *after = a->after ? json_loads(a->after, JSON_DECODE_ANY, NULL) : json_null();
    if (!before || !after) {
        json_decref(before);
        json_decref(after);
        kw_err_set(err, KW_INVALID, "", "an audit change's before and after are JSON");
        return NULL;
    }
    json_t *o =
        json_pack("{s:s, s:I, s:s, s:o, s:o}", "kind", a->kind, "object", (json_int_t)a->object,
                  "action", a->action, "before", before, "after", after);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
        kw_err_set(err, KW_NOMEM, "", "no memory for an audit change");
        return NULL;
    }
    char *canon = kw_chain_canonical(text, err);
    free(text);
    return canon;
}

bool kw_audit_check_one(struct kw_audit_check *c, int64_t id, int64_t at, int64_t actor,
                        const char *body, const unsigned char *hash, struct kw_err *err)
{
    char *canon = body ? kw_chain_canonical(body, NULL) : NULL;
    unsigned char h[KW_HASH_BYTES];
    bool ok = canon && id == c->seq + 1 && hash;
    if (ok) {
        kw_event_hash(c->prev, 0, id, at, "audit", actor, canon, h);
        /* the hashes are no secret: a plain comparison will do */
        ok = memcmp(h, hash, KW_HASH_BYTES) == 0 && strcmp(canon, body) == 0;
    }
    free(canon);
    if (!ok) {
        kw_err_set(err, KW_CONFLICT, "", "audit trail: entry %lld does not match its hash chain%s",
                   (long long)id, id != c->seq + 1 ? " (an entry before it is missing)" : "");
        return false;
    }
    c->seq = id;
    memcpy(c->prev, h, KW_HASH_BYTES);
    return true;
}

bool kw_audit_secret_column(const char *col)
{
    return strstr(col, "password") || strstr(col, "secret") || strstr(col, "token") ||
           strstr(col, "digest");
}
