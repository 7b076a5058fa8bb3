// SPDX-License-Identifier: MIT
#include "kw_crypto.h"

/* SHA-256 through OpenSSL's own functions (SHA256_Init and the rest,
 * deprecated in 3.0 in favour of EVP but kept): they use the processor's
 * SHA extensions where it has them, about four times faster than
 * libsodium's portable C for the log's 65-byte nodes (#20), and need no
 * context allocated or fetched, as EVP's do (its reused context cost half
 * as much again in a loop of node hashes). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
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

_Static_assert(KW_SHA256_BYTES == SHA256_DIGEST_LENGTH, "SHA-256 digest size");

void kw_sha256(const void *p, size_t n, unsigned char out[KW_SHA256_BYTES])
{
    SHA256(p, n, out);
}

void kw_sha256_2(const void *a, size_t na, const void *b, size_t nb,
                 unsigned char out[KW_SHA256_BYTES])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    if (na)
        SHA256_Update(&c, a, na);
    if (nb)
        SHA256_Update(&c, b, nb);
    SHA256_Final(out, &c);
}

void kw_sha256_tagged(unsigned char tag, const void *a, size_t na, const void *b, size_t nb,
                      unsigned char out[KW_SHA256_BYTES])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, &tag, 1);
    if (na)
        SHA256_Update(&c, a, na);
    if (nb)
        SHA256_Update(&c, b, nb);
    SHA256_Final(out, &c);
}

_Static_assert(KW_ED25519_PUBLIC == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key");
_Static_assert(KW_ED25519_SECRET == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key");
_Static_assert(KW_ED25519_SIG == crypto_sign_BYTES, "Ed25519 signature");

enum kw_code kw_ed25519_keypair(unsigned char pub[KW_ED25519_PUBLIC],
                                unsigned char sec[KW_ED25519_SECRET], struct kw_err *err)
{
    if (kw_crypto_init(err) != KW_OK)
        return err ? err->code : KW_STORE;
    crypto_sign_keypair(pub, sec);
    return KW_OK;
}

void kw_ed25519_seed_keypair(const unsigned char seed[32], unsigned char pub[KW_ED25519_PUBLIC],
                             unsigned char sec[KW_ED25519_SECRET])
{
    crypto_sign_seed_keypair(pub, sec, seed);
}

void kw_ed25519_sign(const unsigned char sec[KW_ED25519_SECRET], const void *msg, size_t n,
                     unsigned char sig[KW_ED25519_SIG])
{
    crypto_sign_detached(sig, NULL, msg, n, sec);
}

bool kw_ed25519_verify(const unsigned char pub[KW_ED25519_PUBLIC], const void *msg, size_t n,
                       const unsigned char sig[KW_ED25519_SIG])
{
    return crypto_sign_verify_detached(sig, msg, n, pub) == 0;
}

void kw_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

size_t kw_b64_len(size_t n)
{
    return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) - 1;
}

void kw_b64_encode(const void *p, size_t n, char *out)
{
    sodium_bin2base64(out, kw_b64_len(n) + 1, p, n, sodium_base64_VARIANT_ORIGINAL);
}

long kw_b64_decode(const char *text, size_t len, unsigned char *out, size_t cap)
{
    size_t n = 0;
    const char *end = NULL;
    if (len % 4 != 0)
        return -1;
    if (sodium_base642bin(out, cap, text, len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        end != text + len)
        return -1;
    return (long)n;
}

_Static_assert(crypto_secretbox_KEYBYTES == KW_SEAL_KEY_BYTES, "secretbox key size");
_Static_assert(crypto_secretbox_NONCEBYTES == 24 && crypto_secretbox_MACBYTES == 16,
               "KW_SEAL_BUF's sizes");

enum kw_code kw_seal(const unsigned char key[KW_SEAL_KEY_BYTES], const char *plain, char *out,
                     size_t cap, struct kw_err *err)
{
    size_t n = strlen(plain);
    if (n > 255 || cap < KW_SEAL_BUF(n))
        return kw_err_set(err, KW_INVALID, "", "a secret to seal is too long");
    if (sodium_init() < 0)
        return kw_err_set(err, KW_STORE, "", "libsodium cannot start");
    unsigned char box[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 255];
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, box,
                          key);
    memcpy(out, KW_SEAL_PREFIX, 4);
    kw_b64_encode(box, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n, out + 4);
    return KW_OK;
}

bool kw_sealed(const char *s)
{
    return s && strncmp(s, KW_SEAL_PREFIX, 4) == 0;
}

enum kw_code kw_unseal(const unsigned char key[KW_SEAL_KEY_BYTES], const char *sealed, char *out,
                       size_t cap, struct kw_err *err)
{
    unsigned char box[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 256];
    long n =
        kw_sealed(sealed) ? kw_b64_decode(sealed + 4, strlen(sealed + 4), box, sizeof(box)) : -1;
    if (n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return kw_err_set(err, KW_INVALID, "", "not a sealed secret");
    size_t plain = (size_t)n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (plain + 1 > cap)
        return kw_err_set(err, KW_INVALID, "", "a sealed secret is too long");
    if (crypto_secretbox_open_easy((unsigned char *)out, box + crypto_secretbox_NONCEBYTES,
                                   (unsigned long long)n - crypto_secretbox_NONCEBYTES, box,
                                   key) != 0) {
        kw_wipe(out, cap);
        return kw_err_set(err, KW_INVALID, "",
                          "cannot open a sealed secret: it was sealed under another key (the "
                          "mail key file changed) or altered");
    }
    out[plain] = '\0';
    return KW_OK;
}
