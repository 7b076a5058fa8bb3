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

/* A callback for kw_store_events with a struct kw_chain_check as ctx:
 * false (and bad_seq, why) at the first event missing or not matching
 * its hash. */
bool kw_chain_check_one(const struct kw_stored_event *ev, void *ctx);

#endif
