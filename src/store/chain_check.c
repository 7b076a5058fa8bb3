// SPDX-License-Identifier: MIT
#include "chain_check.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"

bool kw_chain_check_one(const struct kw_stored_event *ev, void *ctx)
{
    struct kw_chain_check *v = ctx;
    unsigned char h[KW_HASH_BYTES];
    if (ev->seq != v->expect_seq) {
        v->bad_seq = v->expect_seq;
        v->why = "is missing";
        return false;
    }
    kw_event_hash(v->prev, ev->ticket, ev->seq, ev->at, ev->type ? ev->type : "", ev->actor,
                  ev->body ? ev->body : "", h);
    /* the hashes are no secret: a plain comparison will do */
    if (memcmp(h, ev->hash, KW_HASH_BYTES) != 0) {
        v->bad_seq = ev->seq;
        v->why = "does not match its hash (changed after it was written)";
        return false;
    }
    memcpy(v->prev, h, KW_HASH_BYTES);
    v->expect_seq++;
    return true;
}

bool kw_ledger_check_one(const struct kw_ledger_row *e, void *ctx)
{
    struct kw_ledger_chain_check *c = ctx;
    if (e->org_id != c->org) {
        c->org = e->org_id;
        c->seq = 0;
        memset(c->prev, 0, sizeof(c->prev));
    }
    unsigned char h[KW_HASH_BYTES];
    char *canon = e->body ? kw_chain_canonical(e->body, NULL) : NULL;
    bool ok = canon && e->seq == c->seq + 1;
    if (ok) {
        kw_event_hash(c->prev, e->org_id, e->seq, e->at, e->kind, e->actor, canon, h);
        ok = memcmp(h, e->hash, KW_HASH_BYTES) == 0 && strcmp(canon, e->body) == 0;
    }
    free(canon);
    if (!ok) {
        c->rc = kw_err_set(c->err, KW_CONFLICT, "",
                           "ledger of organisation %lld: entry %lld (seq %lld) does not match "
                           "its hash chain",
                           (long long)e->org_id, (long long)e->id, (long long)e->seq);
        return false;
    }
    c->seq = e->seq;
    c->entries++;
    memcpy(c->prev, e->hash, KW_HASH_BYTES);
    return true;
}
