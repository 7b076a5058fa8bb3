// SPDX-License-Identifier: MIT
#include "kw_crypto.h"

#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(struct kw_hash) >= sizeof(crypto_generichash_state),
               "struct kw_hash is too small for libsodium's state");
_Static_assert(KW_HASH_BYTES >= crypto_generichash_BYTES_MIN &&
                   KW_HASH_BYTES <= crypto_generichash_BYTES_MAX,
               "BLAKE2b cannot give KW_HASH_BYTES");
_Static_assert(KW_PASSWORD_HASH_BUF == crypto_pwhash_STRBYTES, "password hash buffer");
_Static_assert(KW_TOKEN_BUF > KW_TOKEN_LEN, "token buffer");

/* An argon2id hash of "not a password" with libsodium's interactive limits
 * (m=64 MiB, t=2), the cost of every stored hash: verifying against it
 * takes as long as verifying a real one. tests/unit/test_auth.c checks that
 * the limits still match libsodium's. A constant, so nothing is made on
 * first use (the store used to make one per connection). */
static const char dummy_hash[] = "$argon2id$v=19$m=65536,t=2,p=1$u/fKPq1BoNuLYioOQDyI8Q$"
                                 "RdXTv3l55LD3G41M7euFkNUYRRabbOUqbEbndR4t5rE";

enum kw_code kw_crypto_init(struct kw_err *err)
{
    /* sodium_init is idempotent and thread-safe */
    if (sodium_init() < 0)
        return kw_err_set(err, KW_STORE, "", "libsodium failed to initialise");
    return KW_OK;
}

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

enum kw_code kw_password_hash(const char *password, char out[KW_PASSWORD_HASH_BUF],
                              struct kw_err *err)
{
    if (kw_crypto_init(err) != KW_OK)
        return err ? err->code : KW_STORE;
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return kw_err_set(err, KW_NOMEM, "", "no memory to hash the password");
    return KW_OK;
}

bool kw_password_verify(const char *hash, const char *password)
{
    bool real = hash && *hash;
    if (!password)
        password = "";
    bool ok = crypto_pwhash_str_verify(real ? hash : dummy_hash, password, strlen(password)) == 0;
    return real && ok;
}

enum kw_code kw_token_mint(char out[KW_TOKEN_BUF], struct kw_err *err)
{
    unsigned char raw[32];
    if (kw_crypto_init(err) != KW_OK)
        return err ? err->code : KW_STORE;
    randombytes_buf(raw, sizeof(raw));
    memcpy(out, "kw_", 3);
    sodium_bin2base64(out + 3, KW_TOKEN_BUF - 3, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    return KW_OK;
}

void kw_token_digest(const char *token, unsigned char out[KW_HASH_BYTES])
{
    /* unkeyed BLAKE2b of the text, without its NUL: what tokens.hash holds */
    crypto_generichash(out, KW_HASH_BYTES, (const unsigned char *)token, strlen(token), NULL, 0);
}

void kw_sha256(const void *p, size_t n, unsigned char out[KW_SHA256_LEN])
{
    crypto_hash_sha256(out, p, (unsigned long long)n);
}
