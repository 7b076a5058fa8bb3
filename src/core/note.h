// SPDX-License-Identifier: MIT
/*
 * note.h - signed notes and log checkpoints in the C2SP formats
 * (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), Ed25519 signatures.
 *
 * A checkpoint is the text
 *
 *   <origin>\n<size in decimal>\n<base64 of the root hash>\n
 *
 * and a signed note is a text ending in a newline, a blank line, and one
 * signature line per signer:
 *
 *   — <key name> <base64 of (key id ‖ Ed25519 signature of the text)>\n
 *
 * The key id is the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public
 * key); a verifier key is written "<name>+<key id in hex>+<base64 of (0x01 ‖
 * public key)>". Pure: no I/O, no clock, no globals.
 */
#ifndef KW_NOTE_H
#define KW_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_buf.h"
#include "kw_crypto.h"
#include "kw_err.h"
#include "merkle.h"

#define KW_NOTE_NAME_MAX 128 /* a key name or origin, bytes */

struct kw_note_key {
    char name[KW_NOTE_NAME_MAX + 1];
    unsigned char pub[KW_ED25519_PUBLIC];
    uint32_t id; /* the key id, big-endian bytes as a number */
};

/* Whether name is a valid key name or origin: 1..KW_NOTE_NAME_MAX bytes of
 * printable UTF-8, no spaces, no '+'. */
bool kw_note_name_ok(const char *name);

/* Fill key from name and the public key (computes the id). KW_INVALID for
 * a bad name. */
enum kw_code kw_note_key_make(struct kw_note_key *key, const char *name,
                              const unsigned char pub[KW_ED25519_PUBLIC], struct kw_err *err);
/* Append the verifier key text of key to out. */
void kw_note_verifier(struct kw_buf *out, const struct kw_note_key *key);
/* Parse a verifier key text. KW_INVALID with a message saying what is wrong. */
enum kw_code kw_note_verifier_parse(const char *text, struct kw_note_key *key, struct kw_err *err);

/* The private key file's text (the Go reference's signer key form):
 * "PRIVATE+KEY+<name>+<key id in hex>+<base64 of (0x01 ‖ 32-byte seed)>". */
void kw_note_signer_text(struct kw_buf *out, const struct kw_note_key *key,
                         const unsigned char seed[32]);
/* Parse it (trailing whitespace allowed): key and the 64-byte secret key.
 * KW_INVALID naming what is wrong. */
enum kw_code kw_note_signer_parse(const char *text, struct kw_note_key *key,
                                  unsigned char sec[KW_ED25519_SECRET], struct kw_err *err);

/* Append the signed note of text (which must end in "\n" and hold no blank
 * line) under key/sec to out. KW_INVALID for a text that cannot be a note. */
enum kw_code kw_note_sign(struct kw_buf *out, const char *text, size_t len,
                          const struct kw_note_key *key, const unsigned char sec[KW_ED25519_SECRET],
                          struct kw_err *err);

/* Check the signed note note[0..len) against key: the length of its text
 * (the signed part, with its final newline) in *text_len. KW_INVALID with a
 * message naming the fault: not a signed note, no signature by key, a bad
 * signature. Signature lines by other keys are ignored. */
enum kw_code kw_note_open(const char *note, size_t len, const struct kw_note_key *key,
                          size_t *text_len, struct kw_err *err);

/* A checkpoint's contents. */
struct kw_checkpoint {
    char origin[KW_NOTE_NAME_MAX + 1];
    uint64_t size;
    unsigned char root[KW_MERKLE_HASH];
};

/* Append the checkpoint text of cp to out. */
void kw_checkpoint_text(struct kw_buf *out, const struct kw_checkpoint *cp);
/* Parse a checkpoint text (text[0..len), extension lines after the third
 * are allowed and ignored). KW_INVALID naming the bad line. */
enum kw_code kw_checkpoint_parse(const char *text, size_t len, struct kw_checkpoint *cp,
                                 struct kw_err *err);

#endif
