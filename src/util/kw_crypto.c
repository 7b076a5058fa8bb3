// SPDX-License-Identifier: MIT
#include "kw_crypto.h"

#include <sodium.h>

_Static_assert(sizeof(struct kw_hash) >= sizeof(crypto_generichash_state),
               "struct kw_hash is too small for libsodium's state");
_Static_assert(KW_HASH_BYTES >= crypto_generichash_BYTES_MIN &&
                   KW_HASH_BYTES <= crypto_generichash_BYTES_MAX,
               "BLAKE2b cannot give KW_HASH_BYTES");

void kw_hash_init(struct kw_hash *h)
{
    crypto_generichash_init((crypto_generichash_state *)(void *)h->state, NULL, 0, KW_HASH_BYTES);
}

void kw_hash_update(struct kw_hash *h, const void *p, size_t n)
{
    crypto_generichash_update((crypto_generichash_state *)(void *)h->state, p, n);
}

void kw_hash_final(struct kw_hash *h, unsigned char out[KW_HASH_BYTES])
{
    crypto_generichash_final((crypto_generichash_state *)(void *)h->state, out, KW_HASH_BYTES);
}
