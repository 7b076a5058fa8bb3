// SPDX-License-Identifier: MIT
#include "chain_check.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "kw_buf.h"

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

char *kw_created_body(const struct kw_ticket_new *t, struct kw_err *err)
{
    struct kw_canon c;
    kw_canon_begin(&c); /* members in byte order of their keys */
    kw_canon_str(&c, "category", t->category);
    kw_canon_str(&c, "channel", t->channel);
    kw_canon_str(&c, "description", t->description);
    kw_canon_str(&c, "level", t->level);
    kw_canon_int(&c, "org_id", t->org_id);
    kw_canon_str(&c, "organisation", t->organisation);
    kw_canon_str(&c, "region", t->region);
    if (t->requester_id)
        kw_canon_int(&c, "requester_id", t->requester_id);
    kw_canon_str(&c, "tier", t->tier);
    kw_canon_str(&c, "title", t->title);
    char *text = kw_canon_end(&c);
    if (text)
        return text;
    if (!c.bad)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the event"), NULL;
    const char *const fields[] = {"/title",    "/description", "/level",   "/tier",
                                  "/category", "/region",      "/channel", "/organisation"};
    const char *const vals[] = {t->title,    t->description, t->level,   t->tier,
                                t->category, t->region,      t->channel, t->organisation};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (vals[i] && kw_utf8_valid_prefix(vals[i], strlen(vals[i])) != strlen(vals[i]))
            return kw_err_set(err, KW_INVALID, fields[i], "%s: not UTF-8", fields[i] + 1), NULL;
    kw_err_set(err, KW_INVALID, "", "a text of the ticket is not UTF-8");
    return NULL;
}
