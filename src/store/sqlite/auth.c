// SPDX-License-Identifier: MIT
/* Users (with the argon2id string app/auth.c made, if any) and tokens
 * (sessions and API tokens, kept as the digests app/auth.c computed). */
#include "sqlite_int.h"

#include <stdio.h>
#include <string.h>

#include "kw_text.h"

/* The columns read_user() reads, in its order (users as u). */
#define USER_COLS                                                                                  \
    "u.id, coalesce(u.org_id, 0), coalesce(u.team_id, 0), u.email, u.name, u.role, u.skills,"      \
    " u.lang, u.tz, u.deactivated_at, " USER_ACTIVE
/* Whether neither the person nor their organisation is deactivated. */
#define USER_ACTIVE                                                                                \
    "(u.deactivated_at IS NULL AND NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = u.org_id"         \
    " AND o.deactivated_at IS NOT NULL))"

enum stmt {
    S_USER_INSERT,
    S_USER_COUNT,
    S_USER_BY_EMAIL,
    S_USER_GET,
    S_USERS,
    S_TOKEN_USER,
    S_TOKEN_REVOKE,
    S_API_TOKEN_INSERT,
    S_TOKENS,
    S_TOKEN_REVOKE_ID,
    S_TOKEN_CALLER,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_USER_INSERT] = "INSERT INTO users(email, name, role, org_id, team_id, password_hash,"
                      " created_at, skills) VALUES (?1, ?2, ?3, nullif(?4, 0), nullif(?5, 0), ?6,"
                      " ?7, coalesce(?8, '[]'))",
    [S_USER_COUNT] = "SELECT count(*) FROM users WHERE role = ?1",
    [S_USER_BY_EMAIL] = "SELECT id, password_hash FROM users WHERE email = ?1",
    [S_USER_GET] = "SELECT " USER_COLS " FROM users u WHERE id = ?1",
    [S_USERS] = "SELECT " USER_COLS " FROM users u WHERE id > ?1 AND (?2 = 0 OR org_id = ?2)"
                " ORDER BY id LIMIT ?3",
    [S_TOKEN_USER] = "SELECT t.user_id FROM tokens t JOIN users u ON u.id = t.user_id"
                     " WHERE t.hash = ?1 AND t.revoked_at IS NULL"
                     " AND (t.expires_at IS NULL OR t.expires_at > ?2) AND " USER_ACTIVE,
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
    [S_API_TOKEN_INSERT] = "INSERT INTO tokens(user_id, hash, kind, label, created_at, expires_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_TOKENS] = "SELECT id, kind, label, created_at, expires_at FROM tokens WHERE user_id = ?1"
                 " AND kind = 'api' AND revoked_at IS NULL"
                 " AND (expires_at IS NULL OR expires_at > ?2) ORDER BY id",
    [S_TOKEN_REVOKE_ID] = "UPDATE tokens SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2"
                          " AND kind = 'api' AND revoked_at IS NULL",
    [S_TOKEN_CALLER] = "SELECT " USER_COLS " FROM tokens t JOIN users u ON u.id = t.user_id"
                       " WHERE t.hash = ?1 AND t.revoked_at IS NULL"
                       " AND (t.expires_at IS NULL OR t.expires_at > ?2) AND " USER_ACTIVE,
};

const struct kws_catalogue kws_auth_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_AUTH, (int)s);
}

/* The columns USER_COLS of the row x is on. */
static void read_user(sqlite3_stmt *x, struct kw_user_row *out)
{
    *out = (struct kw_user_row){
        .id = sqlite3_column_int64(x, 0),
        .org_id = sqlite3_column_int64(x, 1),
        .team_id = sqlite3_column_int64(x, 2),
        .email = (const char *)sqlite3_column_text(x, 3),
        .name = (const char *)sqlite3_column_text(x, 4),
        .role = (const char *)sqlite3_column_text(x, 5),
        .skills = (const char *)sqlite3_column_text(x, 6),
        .lang = (const char *)sqlite3_column_text(x, 7),
        .tz = (const char *)sqlite3_column_text(x, 8),
        .deactivated_at = column_instant(x, 9),
        .active = sqlite3_column_int(x, 10) != 0,
    };
}
KWS_ROW_MAPPER(read_user, struct kw_user_row)

/* What the store itself insists on; the role and the password are
 * app/auth.c's rules (the schema still refuses another role). */
static enum kw_code user_check(const struct kw_user *u, struct kw_err *err)
{
    /* the address goes into SMTP's RCPT TO: RFC 5321 syntax, no controls */
    if (!u->email || strlen(u->email) > 254 || !kw_email_ok(u->email, strlen(u->email)))
        return kw_err_set(err, KW_INVALID, "/email",
                          "email: expected an e-mail address like li.na@example.com (no spaces, "
                          "quotes, brackets or control characters)");
    if (!u->name || !*u->name || kws_text_ok(u->name, "/name", err) != KW_OK)
        return u->name && *u->name ? err->code
                                   : kw_err_set(err, KW_INVALID, "/name", "name: missing");
    return KW_OK;
}

static void read_token(sqlite3_stmt *x, struct kw_token_row *out)
{
    *out = (struct kw_token_row){
        .id = sqlite3_column_int64(x, 0),
        .kind = (const char *)sqlite3_column_text(x, 1),
        .label = (const char *)sqlite3_column_text(x, 2),
        .created_at = sqlite3_column_int64(x, 3),
        .expires_at = column_instant(x, 4),
    };
}
KWS_ROW_MAPPER(read_token, struct kw_token_row)

enum kw_code kw_store_user_insert(struct kw_store *st, const struct kw_user *u,
                                  const char *password_hash, int64_t now, int64_t *id,
                                  struct kw_err *err)
{
    if (user_check(u, err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_USER_INSERT);
    bind_text(x, 1, u->email);
    bind_text(x, 2, u->name);
    bind_text(x, 3, u->role);
    sqlite3_bind_int64(x, 4, u->org_id);
    sqlite3_bind_int64(x, 5, u->team_id);
    bind_text(x, 6, password_hash);
    sqlite3_bind_int64(x, 7, now);
    bind_text(x, 8, u->skills);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/email", "email: %.80s is taken", u->email);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_CHECK)
        return kw_err_set(err, KW_INVALID, "/role",
                          "role: expected admin, manager, agent or customer");
    if (rc == SQLITE_CONSTRAINT)
        return kws_missing(st,
                           (const struct kws_ref[]){{KWS_ORGS, u->org_id, "/org_id"},
                                                    {KWS_TEAMS, u->team_id, "/team_id"}},
                           2, "no such organisation or team", err);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "insert user");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_user_password(struct kw_store *st, const char *email, int64_t *user_id,
                                    char hash[KW_PASSWORD_HASH_BUF], struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_USER_BY_EMAIL);
    bind_text(x, 1, email);
    int rc = sqlite3_step(x);
    hash[0] = '\0';
    if (rc == SQLITE_ROW) {
        *user_id = sqlite3_column_int64(x, 0);
        if (sqlite3_column_type(x, 1) == SQLITE_TEXT)
            snprintf(hash, KW_PASSWORD_HASH_BUF, "%s", (const char *)sqlite3_column_text(x, 1));
    }
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "/email", "no user with that e-mail");
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read user");
}

enum kw_code kw_store_user_get(struct kw_store *st, int64_t id, struct kw_user_row *out,
                               struct kw_err *err)
{
    /* The statement stays on its row until the next call resets it, which
     * keeps the strings valid as the contract says. */
    sqlite3_stmt *x = prep(st, S_USER_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no user %lld", (long long)id);
    if (rc != SQLITE_ROW)
        return kws_fail(st, err, "read user");
    read_user(x, out);
    return KW_OK;
}

enum kw_code kw_store_users(struct kw_store *st, int64_t org_id, int64_t after, size_t limit,
                            bool (*fn)(const struct kw_user_row *u, void *ctx), void *ctx,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_USERS);
    sqlite3_bind_int64(x, 1, after);
    sqlite3_bind_int64(x, 2, org_id);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)limit);
    return EACH_ROW(st, x, read_user, fn, ctx, "list users", err);
}

enum kw_code kw_store_user_count(struct kw_store *st, const char *role, int64_t *n,
                                 struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_USER_COUNT);
    bind_text(x, 1, role);
    int rc = sqlite3_step(x);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count users");
}

enum kw_code kw_store_token_insert(struct kw_store *st, int64_t user_id,
                                   const unsigned char digest[KW_HASH_BYTES], const char *kind,
                                   const char *label, int64_t now, int64_t expires_at,
                                   int64_t *token_id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_API_TOKEN_INSERT);
    sqlite3_bind_int64(x, 1, user_id);
    sqlite3_bind_blob(x, 2, digest, KW_HASH_BYTES, SQLITE_STATIC);
    bind_text(x, 3, kind);
    bind_text(x, 4, label);
    sqlite3_bind_int64(x, 5, now);
    bind_instant(x, 6, expires_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "store token");
    if (token_id)
        *token_id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_tokens(struct kw_store *st, int64_t user_id, int64_t now,
                             bool (*fn)(const struct kw_token_row *t, void *ctx), void *ctx,
                             struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TOKENS);
    sqlite3_bind_int64(x, 1, user_id);
    sqlite3_bind_int64(x, 2, now);
    return EACH_ROW(st, x, read_token, fn, ctx, "list tokens", err);
}

enum kw_code kw_store_token_revoke_id(struct kw_store *st, int64_t user_id, int64_t token_id,
                                      int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TOKEN_REVOKE_ID);
    sqlite3_bind_int64(x, 1, token_id);
    sqlite3_bind_int64(x, 2, user_id);
    sqlite3_bind_int64(x, 3, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "revoke token");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no token %lld", (long long)token_id);
}

enum kw_code kw_store_token_user(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                 int64_t now, int64_t *user_id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TOKEN_USER);
    sqlite3_bind_blob(x, 1, digest, KW_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *user_id = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "the token is unknown, expired or revoked");
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read token");
}

enum kw_code kw_store_token_caller(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                   int64_t now, struct kw_user_row *out, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TOKEN_CALLER);
    sqlite3_bind_blob(x, 1, digest, KW_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        /* the row stays current until the next call resets the statement */
        read_user(x, out);
        return KW_OK;
    }
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "the token is unknown, expired or revoked");
    return kws_fail(st, err, "read token");
}

enum kw_code kw_store_token_revoke(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                   int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TOKEN_REVOKE);
    sqlite3_bind_blob(x, 1, digest, KW_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "revoke token");
}
