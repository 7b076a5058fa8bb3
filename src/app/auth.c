// SPDX-License-Identifier: MIT
/* Accounts and sign-in: the rules, with util/kw_crypto.h doing the
 * cryptography and the store keeping hashes and digests. */
#include "auth.h"

#include <string.h>

#include "app.h"

enum kw_code kw_auth_user_check(const struct kw_user *u, const char *password, struct kw_err *err)
{
    enum kw_role role;
    if (!u->role || !kw_role_parse(u->role, &role))
        return kw_err_set(err, KW_INVALID, "/role",
                          "role: expected admin, manager, agent or customer");
    /* customers belong to an organisation and to no team; the provider's
     * people (admins, managers, agents) to no customer organisation */
    if (role == KW_ROLE_CUSTOMER && u->team_id)
        return kw_err_set(err, KW_INVALID, "/team_id",
                          "team_id: a customer is in no team (teams are the provider's)");
    if (role != KW_ROLE_CUSTOMER && u->org_id)
        return kw_err_set(err, KW_INVALID, "/org_id",
                          "org_id: only customers belong to an organisation (%s is staff)",
                          u->role);
    size_t n = password ? strlen(password) : 0;
    if (password && (n < KW_PASSWORD_MIN || n > KW_PASSWORD_MAX))
        return kw_err_set(err, KW_INVALID, "/password", "password: expected 8 to 1024 bytes");
    return KW_OK;
}

enum kw_code kw_auth_user_hash(const struct kw_user *u, const char *password,
                               char hash[KW_PASSWORD_HASH_BUF], struct kw_err *err)
{
    hash[0] = '\0';
    if (kw_auth_user_check(u, password, err) != KW_OK)
        return err->code;
    return password ? kw_password_hash(password, hash, err) : KW_OK;
}

enum kw_code kw_auth_user_create(struct kw_store *st, const struct kw_user *u, const char *password,
                                 int64_t now, int64_t *id, struct kw_err *err)
{
    char hash[KW_PASSWORD_HASH_BUF];
    if (kw_auth_user_hash(u, password, hash, err) != KW_OK)
        return err->code;
    return kw_store_user_insert(st, u, password ? hash : NULL, now, id, err);
}

enum kw_code kw_auth_password_check(struct kw_store *st, const char *email, const char *password,
                                    int64_t *user_id, struct kw_err *err)
{
    char hash[KW_PASSWORD_HASH_BUF] = "";
    int64_t uid = 0;
    enum kw_code rc = kw_store_user_password(st, email ? email : "", &uid, hash, err);
    if (rc != KW_OK && rc != KW_NOT_FOUND)
        return rc;
    /* Always one verification: against the dummy hash when there is no
     * such user or no password, so that the answer's timing tells nothing. */
    bool ok = kw_password_verify(rc == KW_OK ? hash : NULL, password);
    if (!ok || rc != KW_OK)
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "wrong e-mail or password");
    /* said only to whoever knows the password (app/people.h) */
    struct kw_user_row row;
    if ((rc = kw_store_user_get(st, uid, &row, err)) != KW_OK)
        return rc;
    if (!row.active)
        return kw_err_set(err, KW_FORBIDDEN, "",
                          row.deactivated_at > 0
                              ? "this account is deactivated; ask an administrator"
                              : "this account's organisation is deactivated; ask your provider");
    *user_id = uid;
    return KW_OK;
}

enum kw_code kw_auth_token_issue(struct kw_store *st, int64_t user_id, const char *kind,
                                 const char *label, int64_t now, int64_t expires_at,
                                 char token[KW_TOKEN_BUF], int64_t *token_id, struct kw_err *err)
{
    unsigned char digest[KW_HASH_BYTES];
    if (kw_token_mint(token, err) != KW_OK)
        return err->code;
    kw_token_digest(token, digest);
    return kw_store_token_insert(st, user_id, digest, kind, label, now, expires_at, token_id, err);
}

enum kw_code kw_auth_login(struct kw_store *st, const char *email, const char *password,
                           int64_t now, int64_t ttl, char token[KW_TOKEN_BUF], int64_t *user_id,
                           struct kw_err *err)
{
    if (kw_auth_password_check(st, email, password, user_id, err) != KW_OK)
        return err->code;
    return kw_auth_token_issue(st, *user_id, "session", NULL, now, now + ttl, token, NULL, err);
}

/* The digest of a token that can be one: anything longer than a token was
 * never issued, so it is refused before any look-up. */
static bool digest_of(const char *token, unsigned char digest[KW_HASH_BYTES])
{
    if (!token || strlen(token) >= KW_TOKEN_BUF)
        return false;
    kw_token_digest(token, digest);
    return true;
}

enum kw_code kw_auth_token_user(struct kw_store *st, const char *token, int64_t now,
                                int64_t *user_id, struct kw_err *err)
{
    unsigned char digest[KW_HASH_BYTES];
    if (!digest_of(token, digest))
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "not a valid token");
    return kw_store_token_user(st, digest, now, user_id, err);
}

enum kw_code kw_auth_token_caller(struct kw_store *st, const char *token, int64_t now,
                                  struct kw_user_row *out, struct kw_err *err)
{
    unsigned char digest[KW_HASH_BYTES];
    if (!digest_of(token, digest))
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "not a valid token");
    return kw_store_token_caller(st, digest, now, out, err);
}

enum kw_code kw_auth_token_revoke(struct kw_store *st, const char *token, int64_t now,
                                  struct kw_err *err)
{
    unsigned char digest[KW_HASH_BYTES];
    /* as before: any text is hashed, and an unknown one revokes nothing */
    kw_token_digest(token ? token : "", digest);
    return kw_store_token_revoke(st, digest, now, err);
}
