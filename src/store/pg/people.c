// SPDX-License-Identifier: MIT
/* Editing and deactivating people and organisations on PostgreSQL, and
 * teams' hourly costs, as the SQLite backend's (sqlite/people.c, kpi.c).
 * A deactivated person's tokens are revoked in the same transaction; a
 * deactivated organisation's customers are refused by the token look-ups
 * (serve.c) while it lasts. Nothing is ever deleted. Each write runs in a
 * transaction of its own or a savepoint in the caller's, so a refused one
 * (a taken e-mail: PostgreSQL ends the whole transaction on an error)
 * leaves the caller's unit usable. */
#include "pg_int.h"

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
    S_TEAM_EXISTS,
    S_TEAM_COSTS,
    S_TEAM_COST_SET,
    S_TEAM_COST_CLEAR,
    S_COUNT
};

/* NULL keeps a column (coalesce), "" clears the optional ones (nullif). */
static const char *const sql[S_COUNT] = {
    [S_USER_SET] = "UPDATE users SET email = coalesce($2, email), name = coalesce($3, name),"
                   " role = coalesce($4, role), skills = coalesce($5, skills),"
                   " lang = CASE WHEN $6::text IS NULL THEN lang ELSE nullif($6, '') END,"
                   " tz = CASE WHEN $7::text IS NULL THEN tz ELSE nullif($7, '') END,"
                   " team_id = CASE $8::bigint WHEN 0 THEN team_id WHEN -1 THEN NULL ELSE $8 END"
                   " WHERE id = $1",
    [S_USER_DEACTIVATE] = "UPDATE users SET deactivated_at = $2 WHERE id = $1"
                          " AND deactivated_at IS NULL",
    [S_USER_ACTIVATE] = "UPDATE users SET deactivated_at = NULL WHERE id = $1"
                        " AND deactivated_at IS NOT NULL",
    [S_USER_TOKENS_REVOKE] = "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1"
                             " AND revoked_at IS NULL",
    [S_USER_PASSWORD] = "UPDATE users SET password_hash = $2 WHERE id = $1",
    [S_USER_SESSIONS_REVOKE] = "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1"
                               " AND kind = 'session' AND revoked_at IS NULL"
                               " AND ($3::bytea IS NULL OR hash <> $3)",
    [S_ORG_SET] = "UPDATE orgs SET name = coalesce($2, name),"
                  " tier = CASE WHEN $3::text IS NULL THEN tier ELSE nullif($3, '') END,"
                  " region = CASE WHEN $4::text IS NULL THEN region ELSE nullif($4, '') END,"
                  " calendar = CASE WHEN $5::text IS NULL THEN calendar ELSE nullif($5, '') END,"
                  " account_manager_id = CASE $6::bigint WHEN 0 THEN account_manager_id"
                  " WHEN -1 THEN NULL ELSE $6 END WHERE id = $1",
    [S_ORG_DEACTIVATE] = "UPDATE orgs SET deactivated_at = $2 WHERE id = $1"
                         " AND deactivated_at IS NULL",
    [S_ORG_ACTIVATE] = "UPDATE orgs SET deactivated_at = NULL WHERE id = $1"
                       " AND deactivated_at IS NOT NULL",
    [S_USER_EXISTS] = "SELECT 1 FROM users WHERE id = $1",
    [S_ORG_EXISTS] = "SELECT 1 FROM orgs WHERE id = $1",
    [S_TEAM_EXISTS] = "SELECT 1 FROM teams WHERE id = $1",
    /* byte order, as SQLite's BINARY collation sorts */
    [S_TEAM_COSTS] = "SELECT t.id, t.name, c.hourly_minor, c.currency, c.set_at, c.set_by"
                     " FROM teams t LEFT JOIN team_costs c ON c.team_id = t.id"
                     " ORDER BY t.name COLLATE \"C\", t.id",
    [S_TEAM_COST_SET] = "INSERT INTO team_costs(team_id, hourly_minor, currency, set_at, set_by)"
                        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id) DO UPDATE SET"
                        " hourly_minor = excluded.hourly_minor, currency = excluded.currency,"
                        " set_at = excluded.set_at, set_by = excluded.set_by",
    [S_TEAM_COST_CLEAR] = "DELETE FROM team_costs WHERE team_id = $1",
};

const struct kwp_catalogue kwp_people_sql = {sql, S_COUNT};

/* Run s; the result, or NULL with err KW_STORE (and *state its SQLSTATE). */
static PGresult *run(struct kw_store *st, enum stmt s, const struct kwp_params *p, const char *what,
                     char state[6], struct kw_err *err)
{
    return kwp_run_part(st, KWP_PEOPLE, (int)s, p, what, state, err);
}

/* Whether row id exists (S_USER_EXISTS, S_ORG_EXISTS or S_TEAM_EXISTS);
 * KW_NOT_FOUND saying "no such <what>" when it does not. */
static enum kw_code exists(struct kw_store *st, enum stmt s, int64_t id, const char *what,
                           struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = run(st, s, &p, "read", NULL, err);
    if (!res)
        return err->code;
    bool there = PQntuples(res) > 0;
    PQclear(res);
    return there ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such %s", what);
}

/* Run s for its effect; *changed (may be NULL): whether it changed a row. */
static enum kw_code change(struct kw_store *st, enum stmt s, const struct kwp_params *p,
                           const char *what, char state[6], bool *changed, struct kw_err *err)
{
    PGresult *res = run(st, s, p, what, state, err);
    if (!res)
        return err->code;
    if (changed)
        *changed = strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    return KW_OK;
}

/* change() in a transaction of its own or a savepoint in the caller's, so
 * that a refused write (state: its SQLSTATE) leaves the caller's usable. */
static enum kw_code change_alone(struct kw_store *st, enum stmt s, const struct kwp_params *p,
                                 const char *what, char state[6], struct kw_err *err)
{
    bool outer;
    enum kw_code rc = kwp_tx_begin(st, &outer, err);
    if (rc != KW_OK)
        return rc;
    rc = change(st, s, p, what, state, NULL, err);
    return kwp_tx_finish(st, outer, rc, err); /* keeps err: a rollback reports nothing */
}

enum kw_code kw_store_user_set(struct kw_store *st, int64_t id, const struct kw_user_patch *p,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (exists(st, S_USER_EXISTS, id, "user", err) != KW_OK)
        return err->code;
    if (p->email && (!strchr(p->email, '@') || strlen(p->email) > 254))
        return kw_err_set(err, KW_INVALID, "/email", "email: expected an e-mail address");
    if (p->name && (!*p->name || kwp_text_ok(p->name, "/name", err) != KW_OK))
        return *p->name ? err->code : kw_err_set(err, KW_INVALID, "/name", "name: missing");
    struct kwp_params q = {0};
    kwp_int(&q, id);
    kwp_text(&q, p->email);
    kwp_text(&q, p->name);
    kwp_text(&q, p->role);
    kwp_text(&q, p->skills);
    kwp_text(&q, p->lang);
    kwp_text(&q, p->tz);
    kwp_int(&q, p->team_id);
    char state[6] = "";
    enum kw_code rc = change_alone(st, S_USER_SET, &q, "update user", state, err);
    if (rc != KW_OK && strcmp(state, "23505") == 0) /* unique_violation: the e-mail */
        rc = kw_err_set(err, KW_CONFLICT, "/email", "email: %.80s is taken", p->email);
    else if (rc != KW_OK && strcmp(state, "23514") == 0) /* check_violation */
        rc = p->lang && *p->lang && strcmp(p->lang, "zh") && strcmp(p->lang, "en")
                 ? kw_err_set(err, KW_INVALID, "/lang", "lang: expected zh or en")
                 : kw_err_set(err, KW_INVALID, "/role",
                              "role: expected admin, manager, agent or customer");
    else if (rc != KW_OK && strcmp(state, "23503") == 0) /* foreign_key_violation */
        rc = kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                        (long long)p->team_id);
    return rc;
}

enum kw_code kw_store_user_activate(struct kw_store *st, int64_t id, bool active, int64_t now,
                                    bool *changed, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (exists(st, S_USER_EXISTS, id, "user", err) != KW_OK)
        return err->code;
    bool outer, did = false;
    enum kw_code rc = kwp_tx_begin(st, &outer, err);
    if (rc != KW_OK)
        return rc;
    struct kwp_params p = {0};
    kwp_int(&p, id);
    if (!active)
        kwp_int(&p, now);
    rc = change(st, active ? S_USER_ACTIVATE : S_USER_DEACTIVATE, &p, "update user", NULL, &did,
                err);
    /* every token, even when the person was already deactivated: a token
     * issued in between (there should be none) stops too */
    if (rc == KW_OK && !active)
        rc = change(st, S_USER_TOKENS_REVOKE, &p, "revoke tokens", NULL, NULL, err);
    rc = kwp_tx_finish(st, outer, rc, err);
    if (rc == KW_OK && changed)
        *changed = did;
    return rc;
}

enum kw_code kw_store_user_password_set(struct kw_store *st, int64_t id, const char *password_hash,
                                        const unsigned char *keep, int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (exists(st, S_USER_EXISTS, id, "user", err) != KW_OK)
        return err->code;
    bool outer;
    enum kw_code rc = kwp_tx_begin(st, &outer, err);
    if (rc != KW_OK)
        return rc;
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_text(&p, password_hash && *password_hash ? password_hash : NULL);
    rc = change(st, S_USER_PASSWORD, &p, "set password", NULL, NULL, err);
    if (rc == KW_OK) {
        struct kwp_params q = {0};
        kwp_int(&q, id);
        kwp_int(&q, now);
        if (keep)
            kwp_bytes(&q, keep, KW_HASH_BYTES);
        else
            kwp_text(&q, NULL);
        rc = change(st, S_USER_SESSIONS_REVOKE, &q, "revoke sessions", NULL, NULL, err);
    }
    return kwp_tx_finish(st, outer, rc, err);
}

enum kw_code kw_store_org_set(struct kw_store *st, int64_t id, const struct kw_org_patch *p,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (exists(st, S_ORG_EXISTS, id, "organisation", err) != KW_OK)
        return err->code;
    if (p->name && (!*p->name || kwp_text_ok(p->name, "/name", err) != KW_OK))
        return *p->name ? err->code : kw_err_set(err, KW_INVALID, "/name", "name: missing");
    struct kwp_params q = {0};
    kwp_int(&q, id);
    kwp_text(&q, p->name);
    kwp_text(&q, p->tier);
    kwp_text(&q, p->region);
    kwp_text(&q, p->calendar);
    kwp_int(&q, p->account_manager_id);
    char state[6] = "";
    enum kw_code rc = change_alone(st, S_ORG_SET, &q, "update organisation", state, err);
    if (rc != KW_OK && strcmp(state, "23503") == 0) /* foreign_key_violation */
        rc = kw_err_set(err, KW_NOT_FOUND, "/account_manager_id",
                        "account_manager_id: no user %lld", (long long)p->account_manager_id);
    else if (rc != KW_OK && strcmp(state, "23505") == 0) /* unique_violation: the name */
        rc = kw_err_set(err, KW_CONFLICT, "/name", "an organisation named \"%.60s\" exists",
                        p->name);
    return rc;
}

enum kw_code kw_store_org_activate(struct kw_store *st, int64_t id, bool active, int64_t now,
                                   bool *changed, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (exists(st, S_ORG_EXISTS, id, "organisation", err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, id);
    if (!active)
        kwp_int(&p, now);
    bool did = false;
    if (change(st, active ? S_ORG_ACTIVATE : S_ORG_DEACTIVATE, &p, "update organisation", NULL,
               &did, err) != KW_OK)
        return err->code;
    if (changed)
        *changed = did;
    return KW_OK;
}

/* ---- team costs ---- */

enum kw_code kw_store_team_cost_set(struct kw_store *st, int64_t team_id, int64_t hourly_minor,
                                    const char *currency, int64_t by, int64_t now,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, team_id);
    PGresult *res = run(st, S_TEAM_EXISTS, &p, "read team", NULL, err);
    if (!res)
        return err->code;
    bool there = PQntuples(res) > 0;
    PQclear(res);
    if (!there)
        return kw_err_set(err, KW_NOT_FOUND, "", "no team %lld", (long long)team_id);
    if (currency) {
        kwp_int(&p, hourly_minor);
        kwp_text(&p, currency);
        kwp_int(&p, now);
        kwp_int(&p, by);
    }
    char state[6] = "";
    enum kw_code rc = change_alone(st, currency ? S_TEAM_COST_SET : S_TEAM_COST_CLEAR, &p,
                                   "set team cost", state, err);
    if (rc != KW_OK && strcmp(state, "23514") == 0) /* check_violation */
        rc = kw_err_set(err, KW_INVALID, "/hourly_minor", "hourly_minor: expected 0 or more");
    return rc;
}

enum kw_code kw_store_team_costs(struct kw_store *st,
                                 bool (*fn)(const struct kw_team_cost *r, void *ctx), void *ctx,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = run(st, S_TEAM_COSTS, NULL, "list team costs", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_team_cost c = {
            .team_id = kwp_col_int(res, r, 0),
            .team = kwp_col_text(res, r, 1),
            .hourly_minor = kwp_col_int(res, r, 2),
            .currency = kwp_col_text(res, r, 3),
            .set_at = kwp_col_int(res, r, 4),
            .set_by = kwp_col_int(res, r, 5),
        };
        if (!fn(&c, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}
