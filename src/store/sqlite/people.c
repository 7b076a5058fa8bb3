// SPDX-License-Identifier: MIT
/* Editing and deactivating people and organisations. A deactivated person's
 * tokens are revoked in the same transaction; a deactivated organisation's
 * customers are refused by the token look-ups (auth.c) while it lasts.
 * Nothing is ever deleted. */
#include "sqlite_int.h"

#include <string.h>

enum stmt {
    S_USER_SET,
    S_USER_DEACTIVATE,
    S_USER_ACTIVATE,
    S_USER_TOKENS_REVOKE,
    S_USER_PASSWORD,
    S_USER_SESSIONS_REVOKE,
    S_ORG_SET,
    S_ORG_DEACTIVATE,
    S_ORG_ACTIVATE,
    S_USER_EXISTS,
    S_ORG_EXISTS,
    S_COUNT
};

/* NULL keeps a column (coalesce), "" clears the optional ones (nullif). */
static const char *const sql[S_COUNT] = {
    [S_USER_SET] = "UPDATE users SET email = coalesce(?2, email), name = coalesce(?3, name),"
                   " role = coalesce(?4, role), skills = coalesce(?5, skills),"
                   " lang = CASE WHEN ?6 IS NULL THEN lang ELSE nullif(?6, '') END,"
                   " tz = CASE WHEN ?7 IS NULL THEN tz ELSE nullif(?7, '') END,"
                   " team_id = CASE ?8 WHEN 0 THEN team_id WHEN -1 THEN NULL ELSE ?8 END"
                   " WHERE id = ?1",
    [S_USER_DEACTIVATE] = "UPDATE users SET deactivated_at = ?2 WHERE id = ?1"
                          " AND deactivated_at IS NULL",
    [S_USER_ACTIVATE] = "UPDATE users SET deactivated_at = NULL WHERE id = ?1"
                        " AND deactivated_at IS NOT NULL",
    [S_USER_TOKENS_REVOKE] = "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1"
                             " AND revoked_at IS NULL",
    [S_USER_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
    [S_USER_SESSIONS_REVOKE] = "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1"
                               " AND kind = 'session' AND revoked_at IS NULL"
                               " AND (?3 IS NULL OR hash <> ?3)",
    [S_ORG_SET] =
        "UPDATE orgs SET name = coalesce(?2, name),"
        " tier = CASE WHEN ?3 IS NULL THEN tier ELSE nullif(?3, '') END,"
        " region = CASE WHEN ?4 IS NULL THEN region ELSE nullif(?4, '') END,"
        " calendar = CASE WHEN ?5 IS NULL THEN calendar ELSE nullif(?5, '') END,"
        " account_manager_id = CASE ?6 WHEN 0 THEN account_manager_id WHEN -1 THEN NULL ELSE ?6 END"
        " WHERE id = ?1",
    [S_ORG_DEACTIVATE] = "UPDATE orgs SET deactivated_at = ?2 WHERE id = ?1"
                         " AND deactivated_at IS NULL",
    [S_ORG_ACTIVATE] = "UPDATE orgs SET deactivated_at = NULL WHERE id = ?1"
                       " AND deactivated_at IS NOT NULL",
    [S_USER_EXISTS] = "SELECT 1 FROM users WHERE id = ?1",
    [S_ORG_EXISTS] = "SELECT 1 FROM orgs WHERE id = ?1",
};

const struct kws_catalogue kws_people_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_PEOPLE, (int)s);
}

/* Whether row id exists (S_USER_EXISTS or S_ORG_EXISTS); KW_NOT_FOUND
 * naming what when it does not. */
static enum kw_code exists(struct kw_store *st, enum stmt s, int64_t id, const char *what,
                           struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, s);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such %s", what);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read");
}

/* Run x (bound) to its end; KW_STORE on failure. */
static enum kw_code run(struct kw_store *st, sqlite3_stmt *x, const char *what, struct kw_err *err)
{
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, what);
}

enum kw_code kw_store_user_set(struct kw_store *st, int64_t id, const struct kw_user_patch *p,
                               struct kw_err *err)
{
    if (exists(st, S_USER_EXISTS, id, "user", err) != KW_OK)
        return err->code;
    if (p->email && (!strchr(p->email, '@') || strlen(p->email) > 254))
        return kw_err_set(err, KW_INVALID, "/email", "email: expected an e-mail address");
    if (p->name && (!*p->name || kws_text_ok(p->name, "/name", err) != KW_OK))
        return *p->name ? err->code : kw_err_set(err, KW_INVALID, "/name", "name: missing");
    sqlite3_stmt *x = prep(st, S_USER_SET);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, p->email);
    bind_text(x, 3, p->name);
    bind_text(x, 4, p->role);
    bind_text(x, 5, p->skills);
    bind_text(x, 6, p->lang);
    bind_text(x, 7, p->tz);
    sqlite3_bind_int64(x, 8, p->team_id);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/email", "email: %.80s is taken", p->email);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_CHECK)
        return p->lang && *p->lang && strcmp(p->lang, "zh") && strcmp(p->lang, "en")
                   ? kw_err_set(err, KW_INVALID, "/lang", "lang: expected zh or en")
                   : kw_err_set(err, KW_INVALID, "/role",
                                "role: expected admin, manager, agent or customer");
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                          (long long)p->team_id);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "update user");
}

enum kw_code kw_store_user_activate(struct kw_store *st, int64_t id, bool active, int64_t now,
                                    bool *changed, struct kw_err *err)
{
    if (exists(st, S_USER_EXISTS, id, "user", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, active ? S_USER_ACTIVATE : S_USER_DEACTIVATE);
    sqlite3_bind_int64(x, 1, id);
    if (!active)
        sqlite3_bind_int64(x, 2, now);
    if (run(st, x, "update user", err) != KW_OK)
        return err->code;
    bool did = sqlite3_changes(st->db) > 0;
    if (changed)
        *changed = did;
    if (active)
        return KW_OK;
    /* every token, even when the person was already deactivated: a token
     * issued in between (there should be none) stops too */
    x = prep(st, S_USER_TOKENS_REVOKE);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, now);
    return run(st, x, "revoke tokens", err);
}

enum kw_code kw_store_user_password_set(struct kw_store *st, int64_t id, const char *password_hash,
                                        const unsigned char *keep, int64_t now, struct kw_err *err)
{
    if (exists(st, S_USER_EXISTS, id, "user", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_USER_PASSWORD);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, password_hash && *password_hash ? password_hash : NULL);
    if (run(st, x, "set password", err) != KW_OK)
        return err->code;
    x = prep(st, S_USER_SESSIONS_REVOKE);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, now);
    if (keep)
        sqlite3_bind_blob(x, 3, keep, KW_HASH_BYTES, SQLITE_STATIC);
    return run(st, x, "revoke sessions", err);
}

enum kw_code kw_store_org_set(struct kw_store *st, int64_t id, const struct kw_org_patch *p,
                              struct kw_err *err)
{
    if (exists(st, S_ORG_EXISTS, id, "organisation", err) != KW_OK)
        return err->code;
    if (p->name && (!*p->name || kws_text_ok(p->name, "/name", err) != KW_OK))
        return *p->name ? err->code : kw_err_set(err, KW_INVALID, "/name", "name: missing");
    sqlite3_stmt *x = prep(st, S_ORG_SET);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, p->name);
    bind_text(x, 3, p->tier);
    bind_text(x, 4, p->region);
    bind_text(x, 5, p->calendar);
    sqlite3_bind_int64(x, 6, p->account_manager_id);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/account_manager_id",
                          "account_manager_id: no user %lld", (long long)p->account_manager_id);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_CONFLICT, "/name", "an organisation named \"%.60s\" exists",
                          p->name);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "update organisation");
}

enum kw_code kw_store_org_activate(struct kw_store *st, int64_t id, bool active, int64_t now,
                                   bool *changed, struct kw_err *err)
{
    if (exists(st, S_ORG_EXISTS, id, "organisation", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, active ? S_ORG_ACTIVATE : S_ORG_DEACTIVATE);
    sqlite3_bind_int64(x, 1, id);
    if (!active)
        sqlite3_bind_int64(x, 2, now);
    if (run(st, x, "update organisation", err) != KW_OK)
        return err->code;
    if (changed)
        *changed = sqlite3_changes(st->db) > 0;
    return KW_OK;
}
