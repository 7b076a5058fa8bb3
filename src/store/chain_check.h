// SPDX-License-Identifier: MIT
/*
 * chain_check.h - checking a ticket's hash chain event by event, the same
 * for every backend's kw_store_verify: each event's seq is the next one,
 * and its hash is kw_event_hash of the previous hash and its canonical
 * fields (core/chain.h).
 */
#ifndef KW_CHAIN_CHECK_H
#define KW_CHAIN_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct kw_chain_check {
    unsigned char prev[KW_HASH_BYTES]; /* the last good event's hash (zeros first) */
    int64_t expect_seq;                /* start at 1 */
    int64_t bad_seq;                   /* the first event that failed, and why */
    const char *why;
};

/* The created event's body in canonical form, the same for every backend
 * (so the same hash): what the clocks need (see sla_json.h). The caller
 * frees it; NULL and err (KW_INVALID at the field, or KW_NOMEM) when a text
 * is not UTF-8 or memory ran out: nothing is dropped from the body. */
char *kw_created_body(const struct kw_ticket_new *t, struct kw_err *err);

/* A callback for kw_store_events with a struct kw_chain_check as ctx:
 * false (and bad_seq, why) at the first event missing or not matching
 * its hash. */
bool kw_chain_check_one(const struct kw_stored_event *ev, void *ctx);

/* The credit ledger's chains (kw_store_ledger_verify), entries in
 * (organisation, seq) order: each organisation's chain starts at seq 1
 * from zeros, each body is canonical and each hash kw_event_hash of the
 * previous one with the organisation in the ticket's place. Start with
 * org -1, rc KW_OK and err (not NULL) set. */
struct kw_ledger_chain_check {
    int64_t org, seq, entries;
    unsigned char prev[KW_HASH_BYTES]; /* the last good entry's hash */
    struct kw_err *err;
    enum kw_code rc; /* KW_CONFLICT naming the first entry that fails */
};
/* A callback for the entries with a struct kw_ledger_chain_check as ctx:
 * false at the first entry that does not match. */
bool kw_ledger_check_one(const struct kw_ledger_row *e, void *ctx);

#endif
