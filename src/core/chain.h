// SPDX-License-Identifier: MIT
/*
 * chain.h - the exact bytes of a ticket's tamper-evident log.
 *
 * Each event is stored with its body in canonical JSON (an object, keys
 * sorted by byte, compact, UTF-8 as jansson writes it) and
 *
 *   hash = BLAKE2b-256(prev ‖ ticket ‖ seq ‖ at ‖ type NUL ‖ actor ‖ body)
 *
 * with ticket, seq, at and actor as 64-bit big-endian integers and prev the
 * previous event's hash (32 zero bytes before the first). Every store
 * backend, receipts and verifiers use these two functions, so they agree on
 * every byte. Pure: no I/O, no clock, no globals.
 */
#ifndef KW_CHAIN_H
#define KW_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "kw_buf.h"
#include "kw_crypto.h"
#include "kw_err.h"

/* The canonical form of body (a JSON object as text; NULL is "{}"), as a
 * new string the caller frees. NULL with KW_INVALID when body is not one
 * JSON object (or repeats a key), KW_NOMEM. */
char *kw_chain_canonical(const char *body, struct kw_err *err);
/* Whether body is already in canonical form (kw_chain_canonical would give
 * it back unchanged), found without a JSON tree. False for some canonical
 * texts too (real numbers, escaped keys, nesting deeper than 32): those
 * take the JSON library's way. */
bool kw_chain_is_canonical(const char *body);

/* Writing a canonical body directly, without building a JSON tree (the
 * hot path of a create): the same bytes kw_chain_canonical gives, strings
 * escaped as jansson escapes them. Members must be added in byte order of
 * their keys (the caller's keys are fixed; a test compares with
 * kw_chain_canonical). A NULL string value adds nothing; kw_canon_null adds
 * a member whose value is null. */
struct kw_canon {
    struct kw_buf b;
    bool bad; /* a string that is not UTF-8 (jansson refuses it) */
};

void kw_canon_begin(struct kw_canon *c);
void kw_canon_str(struct kw_canon *c, const char *key, const char *val);
void kw_canon_int(struct kw_canon *c, const char *key, int64_t val);
void kw_canon_null(struct kw_canon *c, const char *key);
/* The body as a new string the caller frees; NULL when a string was not
 * UTF-8 or memory ran out (then take the JSON library's way, which says
 * which). Releases the buffer either way. */
char *kw_canon_end(struct kw_canon *c);

/* The hash of an event after prev (see above); body is its canonical text. */
void kw_event_hash(const unsigned char prev[KW_HASH_BYTES], int64_t ticket, int64_t seq, int64_t at,
                   const char *type, int64_t actor, const char *body,
                   unsigned char out[KW_HASH_BYTES]);

#endif
