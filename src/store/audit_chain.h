// SPDX-License-Identifier: MIT
/*
 * audit_chain.h - the audit trail's hash chain, the same for every
 * backend: the canonical body an entry is hashed over, the check of one
 * entry against the one before it, and which columns an audit snapshot of
 * a row leaves out.
 */
#ifndef KW_AUDIT_CHAIN_H
#define KW_AUDIT_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* {"kind","object","action","before","after"} in canonical form (before
 * and after are JSON texts, NULL is null), as the chain hashes it; the
 * caller frees it. NULL (and err) when before or after is not JSON. */
char *kw_audit_body(const struct kw_audit_row *a, struct kw_err *err);

/* Walking the trail in order: start zeroed. */
struct kw_audit_check {
    unsigned char prev[KW_HASH_BYTES]; /* the last good entry's hash */
    int64_t seq;                       /* and its id */
};

/* Entry id (at, actor, body as stored, hash: NULL when the stored hash
 * has the wrong size) must follow c's last one and match its hash, its body
 * already canonical; true and c advanced, or false and err (KW_CONFLICT). */
bool kw_audit_check_one(struct kw_audit_check *c, int64_t id, int64_t at, int64_t actor,
                        const char *body, const unsigned char *hash, struct kw_err *err);

/* A column whose value an audit snapshot never shows (passwords, secrets,
 * tokens, digests). */
bool kw_audit_secret_column(const char *col);

#endif
