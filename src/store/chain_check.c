// SPDX-License-Identifier: MIT
#include "chain_check.h"

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
