// SPDX-License-Identifier: MIT
/*
 * logkey.h - the Merkle log's private key file (cmd_log.c): made by
 * `keepword init` (mode 0600, never overwritten), read by `serve` and
 * `keepword log`.
 */
#ifndef KW_LOGKEY_H
#define KW_LOGKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "kw_crypto.h"
#include "kw_err.h"
#include "proof.h"

/* The key file's path: given, or the database's path and ".log-key". */
void kw_cli_log_key_path(const char *db, const char *given, char *out, size_t cap);
/* Read the key at path into s; when there is none and make, make a new
 * one (origin "keepword/" and 12 hex digits) and write it. KW_IO naming the
 * file when it cannot be read or written, or may be read by others. */
enum kw_code kw_cli_log_key(const char *path, bool make, struct kw_signer *s, bool *made,
                            struct kw_err *err);

/* The mailboxes' key file (docs/channels.md): beside the log key, its path
 * with ".log-key" replaced by ".mail-key" (or ".mail-key" added). */
void kw_cli_mail_key_path(const char *log_key_path, char *out, size_t cap);
/* Read the 32-byte key that seals mailbox passwords from path (base64 on
 * one line); when there is none and make, make a new random one and write
 * it (mode 0600). KW_IO naming the file when it cannot be read or written,
 * may be read by others, or does not hold a key. */
enum kw_code kw_cli_mail_key(const char *path, bool make, unsigned char key[KW_SEAL_KEY_BYTES],
                             bool *made, struct kw_err *err);

#endif
