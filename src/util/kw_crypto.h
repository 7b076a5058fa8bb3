// SPDX-License-Identifier: MIT
/*
 * kw_crypto.h - Keepword's cryptography, in one place, so that core (the
 * chain), the application layer and every store backend agree on the bytes.
 *
 * The record hash: BLAKE2b with a 32-byte output (libsodium's
 * crypto_generichash). Passwords: argon2id strings (libsodium's
 * crypto_pwhash_str, interactive limits). Tokens: "kw_" and 32 random bytes
 * in unpadded URL-safe base64; only their digest (the record hash of the
 * token's text) is ever stored. Nothing here allocates on the caller's
 * behalf or keeps state; safe from any thread.
 */
#ifndef KW_CRYPTO_H
#define KW_CRYPTO_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>

#include "kw_err.h"

#define KW_HASH_BYTES 32
#define KW_PASSWORD_HASH_BUF 128 /* an argon2id string with its NUL (crypto_pwhash_STRBYTES) */
#define KW_TOKEN_BUF 64          /* a token as text, with the NUL */
#define KW_TOKEN_LEN 46          /* "kw_" and 43 characters of base64 */

/* Pick libsodium's fastest implementations; call once at start (the
 * binary's main does). Everything here also works without it, and the
 * calls that need it (hashing a password, minting a token) make it
 * themselves. KW_STORE when libsodium cannot start. */
enum kw_code kw_crypto_init(struct kw_err *err);

/* Opaque room for libsodium's state (checked against it in kw_crypto.c). */
struct kw_hash {
    alignas(64) unsigned char state[384];
};

void kw_hash_init(struct kw_hash *h);
void kw_hash_update(struct kw_hash *h, const void *p, size_t n);
void kw_hash_final(struct kw_hash *h, unsigned char out[KW_HASH_BYTES]);

/* Hash password (any length; the rules on length are the caller's) into an
 * argon2id string. Slow (tens of milliseconds, 64 MiB): call it outside
 * any transaction. KW_NOMEM, or KW_STORE when libsodium cannot start. */
enum kw_code kw_password_hash(const char *password, char out[KW_PASSWORD_HASH_BUF],
                              struct kw_err *err);
/* Whether password (NULL: "") matches the argon2id string hash. hash NULL
 * or "" (no password) is false after checking against a fixed dummy hash of
 * the same cost, so that "no such user" takes as long as "wrong password". */
bool kw_password_verify(const char *hash, const char *password);

/* A new random token into out (KW_TOKEN_LEN characters and a NUL). KW_STORE
 * when libsodium cannot start. */
enum kw_code kw_token_mint(char out[KW_TOKEN_BUF], struct kw_err *err);
/* The digest a token is stored and looked up by: the record hash (BLAKE2b,
 * 32 bytes, no key) of the token's text. */
void kw_token_digest(const char *token, unsigned char out[KW_HASH_BYTES]);
/* SHA-256 (FIPS 180-4) of n bytes at p into out: the digest files are known
 * by (attachments), which anyone can recompute with sha256sum, and the hash
 * of the deployment-wide Merkle log (RFC 6962/9162) and of signed notes'
 * key ids. OpenSSL's libcrypto (the processor's SHA extensions where it has
 * them); everything else here is libsodium's. */
#define KW_SHA256_BYTES 32
#define KW_SHA256_LEN KW_SHA256_BYTES
void kw_sha256(const void *p, size_t n, unsigned char out[KW_SHA256_BYTES]);
/* SHA-256 of the concatenation of a and b (either may be empty). */
void kw_sha256_2(const void *a, size_t na, const void *b, size_t nb,
                 unsigned char out[KW_SHA256_BYTES]);
/* SHA-256 of the one byte tag, then a, then b (b may be NULL with nb 0). */
void kw_sha256_tagged(unsigned char tag, const void *a, size_t na, const void *b, size_t nb,
                      unsigned char out[KW_SHA256_BYTES]);

/* Ed25519 (libsodium's crypto_sign): the log's signing key. */
#define KW_ED25519_PUBLIC 32
#define KW_ED25519_SECRET 64 /* libsodium's form: the seed, then the public key */
#define KW_ED25519_SIG 64
/* A new key pair. KW_STORE when libsodium cannot start. */
enum kw_code kw_ed25519_keypair(unsigned char pub[KW_ED25519_PUBLIC],
                                unsigned char sec[KW_ED25519_SECRET], struct kw_err *err);
/* The key pair of a 32-byte seed (RFC 8032's private key). */
void kw_ed25519_seed_keypair(const unsigned char seed[32], unsigned char pub[KW_ED25519_PUBLIC],
                             unsigned char sec[KW_ED25519_SECRET]);
void kw_ed25519_sign(const unsigned char sec[KW_ED25519_SECRET], const void *msg, size_t n,
                     unsigned char sig[KW_ED25519_SIG]);
bool kw_ed25519_verify(const unsigned char pub[KW_ED25519_PUBLIC], const void *msg, size_t n,
                       const unsigned char sig[KW_ED25519_SIG]);
/* Wipe n bytes of secret material (not optimised away). */
void kw_wipe(void *p, size_t n);

/* Standard base64 with padding (RFC 4648 section 4), as signed notes use.
 * kw_b64_len is the text length for n bytes, without the NUL. */
size_t kw_b64_len(size_t n);
/* Encode n bytes into out (room for kw_b64_len(n) + 1). */
void kw_b64_encode(const void *p, size_t n, char *out);
/* Decode the whole of text[0..len) into out (room for cap bytes); the
 * number of bytes, or -1 when the text is not canonical padded base64 or
 * does not fit. */
long kw_b64_decode(const char *text, size_t len, unsigned char *out, size_t cap);

/* Secrets kept at rest (mailbox passwords): libsodium's crypto_secretbox
 * (XSalsa20-Poly1305) under a 32-byte key from a key file, as the text
 * "sb1:" and the padded base64 of a random 24-byte nonce and the box. */
#define KW_SEAL_KEY_BYTES 32
#define KW_SEAL_PREFIX "sb1:"
/* The sealed text of a secret of n bytes, with its NUL. */
#define KW_SEAL_BUF(n) (4 + (((24 + 16 + (n)) + 2) / 3) * 4 + 1)
/* Seal plain (at most 255 bytes) into out (room for cap bytes, at least
 * KW_SEAL_BUF(strlen(plain))). KW_INVALID when it does not fit. */
enum kw_code kw_seal(const unsigned char key[KW_SEAL_KEY_BYTES], const char *plain, char *out,
                     size_t cap, struct kw_err *err);
/* Whether s is sealed text (starts with "sb1:"). */
bool kw_sealed(const char *s);
/* Open sealed text into out (room for cap bytes, NUL-terminated). KW_INVALID
 * when it is not sealed text, was sealed under another key or was altered,
 * or does not fit. */
enum kw_code kw_unseal(const unsigned char key[KW_SEAL_KEY_BYTES], const char *sealed, char *out,
                       size_t cap, struct kw_err *err);

#endif
