// SPDX-License-Identifier: MIT
/*
 * auth.h - the rules of accounts and sign-in, above any store backend.
 *
 * A password is kept as an argon2id string, a token (session or API) as the
 * digest of its text (util/kw_crypto.h); the store keeps and finds those and
 * nothing else. Here: what a new user's role and password must be, logging
 * in (an unknown e-mail, a user without a password and a wrong password all
 * take one argon2id verification and give one answer), issuing, resolving
 * and revoking tokens. Tokens are returned once, to the caller, and never
 * stored. Threads: as the store handle passed in (one thread at a time).
 */
#ifndef KW_APP_AUTH_H
#define KW_APP_AUTH_H

#include <stdint.h>

#include "kw_crypto.h"
#include "kw_err.h"
#include "store.h"

#define KW_PASSWORD_MIN 8    /* bytes */
#define KW_PASSWORD_MAX 1024 /* bytes */

/* Whether u's role may be stored and password (NULL: none, the user cannot
 * log in) is 8 to 1024 bytes. KW_INVALID at "/role" or "/password". */
enum kw_code kw_auth_user_check(const struct kw_user *u, const char *password, struct kw_err *err);
/* kw_auth_user_check, then password's argon2id string into hash ("" when
 * password is NULL). Slow: call it before, not inside, a write transaction. */
enum kw_code kw_auth_user_hash(const struct kw_user *u, const char *password,
                               char hash[KW_PASSWORD_HASH_BUF], struct kw_err *err);
/* Both, then kw_store_user_insert: for the CLI and the demo loader, which
 * hold no writer. Errors of either. */
enum kw_code kw_auth_user_create(struct kw_store *st, const struct kw_user *u, const char *password,
                                 int64_t now, int64_t *id, struct kw_err *err);

/* The user whose e-mail and password these are. KW_UNAUTHENTICATED "wrong
 * e-mail or password" for an unknown e-mail, a user without a password and
 * a wrong password alike, each after one argon2id verification; then
 * KW_FORBIDDEN for a deactivated user or organisation. Slow: call it on a
 * reader, outside the writer. */
enum kw_code kw_auth_password_check(struct kw_store *st, const char *email, const char *password,
                                    int64_t *user_id, struct kw_err *err);
/* Mint a token of kind "session" or "api" for user_id into token (shown
 * once; only its digest is stored). label may be NULL; expires_at may be
 * KW_STORE_NO_TIME: never; token_id may be NULL. */
enum kw_code kw_auth_token_issue(struct kw_store *st, int64_t user_id, const char *kind,
                                 const char *label, int64_t now, int64_t expires_at,
                                 char token[KW_TOKEN_BUF], int64_t *token_id, struct kw_err *err);
/* kw_auth_password_check, then a session token valid for ttl seconds. */
enum kw_code kw_auth_login(struct kw_store *st, const char *email, const char *password,
                           int64_t now, int64_t ttl, char token[KW_TOKEN_BUF], int64_t *user_id,
                           struct kw_err *err);
/* The user a live token (neither expired nor revoked at now) belongs to.
 * KW_UNAUTHENTICATED for anything else, a NULL or over-long token too. */
enum kw_code kw_auth_token_user(struct kw_store *st, const char *token, int64_t now,
                                int64_t *user_id, struct kw_err *err);
/* The same, reading the user (strings as kw_store_token_caller lends them). */
enum kw_code kw_auth_token_caller(struct kw_store *st, const char *token, int64_t now,
                                  struct kw_user_row *out, struct kw_err *err);
/* Revoke a token (logout). Unknown tokens (NULL too) are fine. */
enum kw_code kw_auth_token_revoke(struct kw_store *st, const char *token, int64_t now,
                                  struct kw_err *err);

#endif
