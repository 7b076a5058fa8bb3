// SPDX-License-Identifier: MIT
/*
 * kw_crypto.h - the hash behind Keepword's tamper-evident records, so that
 * core (the chain) and every store backend hash the same bytes the same way.
 *
 * BLAKE2b with a 32-byte output (libsodium's crypto_generichash). A state
 * lives on the caller's stack; no allocation, safe from any thread.
 */
#ifndef KW_CRYPTO_H
#define KW_CRYPTO_H

#include <stdalign.h>
#include <stddef.h>

#define KW_HASH_BYTES 32

/* Opaque room for libsodium's state (checked against it in kw_crypto.c). */
struct kw_hash {
    alignas(64) unsigned char state[384];
};

void kw_hash_init(struct kw_hash *h);
void kw_hash_update(struct kw_hash *h, const void *p, size_t n);
void kw_hash_final(struct kw_hash *h, unsigned char out[KW_HASH_BYTES]);

#endif
