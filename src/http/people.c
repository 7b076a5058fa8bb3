// SPDX-License-Identifier: MIT
/* /api/v1/users/{id}, /me (PATCH), /me/password and PATCH /orgs/{id}:
 * editing and deactivating people and organisations (app/people.h). A
 * change that ends sessions tells the open live streams, which check
 * theirs before their next send. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "internal.h"
#include "watch.h"
#include "people.h"

/* ---- people ---- */

struct kwh_reply kwh_user_get(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kw_user_row u;
    if (kw_store_user_get(x->wk->st, x->arg.id, &u, &err) != KW_OK ||
        (x->me.customer && u.org_id != x->me.org_id)) /* another organisation's: absent */
        return kwh_problem_of(KW_NOT_FOUND, "", "no such user");
    return kwh_ok(200, kwh_user_json(&u));
}

/* A person's edit as posted. lang and tz: a string, or null to clear. */
struct user_in {
    const char *email, *name, *role, *password;
    int64_t team_id;
    json_t *skills, *lang, *tz, *active;
};

#define USER(m) offsetof(struct user_in, m)
static const struct kwh_field user_fields[] = {
    {.name = "email", .type = KWH_STR, .max = 254, .offset = USER(email)},
    {.name = "name", .type = KWH_STR, .max = 200, .offset = USER(name)},
    {.name = "role", .type = KWH_STR, .max = 16, .offset = USER(role)},
    {.name = "team_id", .type = KWH_ID, .nullable = true, .offset = USER(team_id)},
    {.name = "skills", .type = KWH_ANY, .offset = USER(skills)},
    {.name = "lang", .type = KWH_ANY, .offset = USER(lang)},
    {.name = "tz", .type = KWH_ANY, .offset = USER(tz)},
    {.name = "active", .type = KWH_ANY, .offset = USER(active)},
    {.name = "password", .type = KWH_STR, .controls = true, .max = 1024, .offset = USER(password)},
};
/* What a person may send about themselves (PATCH /me). */
static const struct kwh_field me_fields[] = {
    {.name = "name", .type = KWH_STR, .max = 200, .offset = USER(name)},
    {.name = "lang", .type = KWH_ANY, .offset = USER(lang)},
    {.name = "tz", .type = KWH_ANY, .offset = USER(tz)},
};

/* A string member that null clears: *out "" for null, the text for a
 * string of 1 to max bytes, NULL when absent. */
static bool clearable(json_t *v, const char *name, size_t max, const char **out,
                      struct kwh_reply *fail)
{
    *out = NULL;
    if (v && json_is_null(v)) {
        *out = "";
        return true;
    }
    return kwh_str_or_null(v, name, max, out, fail);
}

/* "active": true or false into *out (1 / 0), -1 when absent. */
static bool active_of(json_t *v, int *out, struct kwh_reply *fail)
{
    *out = -1;
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        *fail = kwh_problem_of(KW_INVALID, "/active",
                               "active: expected true (active) or false (deactivated)");
        return false;
    }
    *out = json_is_true(v);
    return true;
}

struct user_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t id, now;
    struct kw_user_edit e;
    bool ended;
};

static enum kw_code user_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct user_unit *u = ctx;
    struct kw_unit unit = {.st = st, .clocks = u->h->clocks, .sla = &u->h->wsla, .now = u->now};
    char *before = NULL;
    enum kw_code rc = kw_audit_before(st, "user", u->id, NULL, &before, err);
    if (rc == KW_OK)
        rc = kw_app_user_edit(&unit, &u->who, u->id, &u->e, &u->ended, err);
    if (rc == KW_OK)
        rc = kw_audit_after(st, &u->who, u->now, "user", u->id, NULL, "update", before, err);
    free(before);
    return rc;
}

/* Decode a person's edit with fields f, apply it to id, answer with the
 * person as they are now. */
static struct kwh_reply user_edit(struct kwh_call *x, int64_t id, const struct kwh_field *f,
                                  size_t n)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct user_in in = {0};
    struct user_unit u = {.h = x->h, .who = kwh_actor(x), .id = id, .now = x->now};
    char *skills = NULL;
    char hash[KW_PASSWORD_HASH_BUF];
    if (!kwh_decode(j, f, n, &in, &out) || !kwh_skills_of(in.skills, &skills, &out) ||
        !clearable(in.lang, "lang", 8, &u.e.lang, &out) ||
        !clearable(in.tz, "tz", 64, &u.e.tz, &out) || !active_of(in.active, &u.e.active, &out))
        goto done;
    u.e.email = in.email;
    u.e.name = in.name;
    u.e.role = in.role;
    u.e.skills = skills;
    u.e.team_id = in.team_id;
    if (in.password) {
        /* an admin's reset: the password rules, and argon2id before the writer */
        struct kw_err err = {0};
        struct kw_user probe = {.role = "agent"};
        if (x->me.role != R_ADMIN) {
            out = kwh_problem_of(KW_FORBIDDEN, "/password",
                                 "password: only admins reset passwords (change your own with "
                                 "POST /api/v1/me/password)");
            goto done;
        }
        if (kw_auth_user_hash(&probe, in.password, hash, &err) != KW_OK) {
            out = kwh_problem(&err);
            goto done;
        }
        u.e.password_hash = hash;
    }
    if (!kwh_write_unit(x, user_unit, &u, &out))
        goto done;
    if (u.ended)
        kwh_sessions_changed(x->h);
    struct kw_err err = {0};
    struct kw_user_row row;
    out = kw_store_user_get(x->wk->st, id, &row, &err) == KW_OK ? kwh_ok(200, kwh_user_json(&row))
                                                                : kwh_problem(&err);
done:
    free(skills);
    json_decref(j);
    return out;
}

struct kwh_reply kwh_user_patch(struct kwh_call *x)
{
    return user_edit(x, x->arg.id, user_fields, KWH_NFIELDS(user_fields));
}

struct kwh_reply kwh_me_patch(struct kwh_call *x)
{
    return user_edit(x, x->me.id, me_fields, KWH_NFIELDS(me_fields));
}

/* ---- one's own password ---- */

struct password_in {
    const char *current, *password;
};

static const struct kwh_field password_fields[] = {
    {.name = "current_password",
     .type = KWH_STR,
     .controls = true,
     .required = true,
     .max = 1024,
     .offset = offsetof(struct password_in, current),
     .missing = "missing (your password now)"},
    {.name = "password",
     .type = KWH_STR,
     .controls = true,
     .required = true,
     .max = 1024,
     .offset = offsetof(struct password_in, password),
     .missing = "missing (the new password)"},
};

struct password_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t now;
    const char *hash;
    unsigned char keep[KW_HASH_BYTES];
    bool has_keep;
};

static enum kw_code password_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct password_unit *u = ctx;
    struct kw_unit unit = {.st = st, .clocks = u->h->clocks, .sla = &u->h->wsla, .now = u->now};
    return kw_app_password_change(&unit, &u->who, u->hash, u->has_keep ? u->keep : NULL, err);
}

struct kwh_reply kwh_me_password(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct password_in in = {0};
    struct kw_err err = {0};
    struct kw_user_row me;
    char email[256], hash[KW_PASSWORD_HASH_BUF];
    int64_t uid = 0;
    if (!kwh_decode(j, password_fields, KWH_NFIELDS(password_fields), &in, &out))
        goto done;
    if (kw_store_user_get(x->wk->st, x->me.id, &me, &err) != KW_OK) {
        out = kwh_problem(&err);
        goto done;
    }
    snprintf(email, sizeof(email), "%s", me.email);
    struct kw_user probe = {.role = "agent"};
    if (kw_auth_password_check(x->wk->st, email, in.current, &uid, &err) != KW_OK ||
        uid != x->me.id) {
        out = kwh_problem_of(KW_FORBIDDEN, "/current_password",
                             "current_password: that is not your password now");
        goto done;
    }
    if (kw_auth_user_hash(&probe, in.password, hash, &err) != KW_OK) {
        out = kwh_problem(&err);
        goto done;
    }
    struct password_unit u = {.h = x->h, .who = kwh_actor(x), .now = x->now, .hash = hash};
    const char *token = kwh_session_token(x->c);
    if (token && strlen(token) < KW_TOKEN_BUF) {
        kw_token_digest(token, u.keep); /* this session goes on */
        u.has_keep = true;
    }
    if (kwh_write_unit(x, password_unit, &u, &out)) {
        kwh_sessions_changed(x->h);
        out = kwh_ok(204, NULL);
    }
done:
    json_decref(j);
    return out;
}

/* ---- organisations ---- */

struct org_in {
    const char *name;
    int64_t account_manager_id;
    json_t *tier, *region, *calendar, *active;
};

#define ORG(m) offsetof(struct org_in, m)
static const struct kwh_field org_fields[] = {
    {.name = "name", .type = KWH_STR, .max = 200, .offset = ORG(name)},
    {.name = "tier", .type = KWH_ANY, .offset = ORG(tier)},
    {.name = "region", .type = KWH_ANY, .offset = ORG(region)},
    {.name = "calendar", .type = KWH_ANY, .offset = ORG(calendar)},
    {.name = "account_manager_id",
     .type = KWH_ID,
     .nullable = true,
     .offset = ORG(account_manager_id)},
    {.name = "active", .type = KWH_ANY, .offset = ORG(active)},
};

struct org_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t id, now;
    struct kw_org_edit e;
    bool ended;
};

static enum kw_code org_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct org_unit *u = ctx;
    struct kw_unit unit = {.st = st, .clocks = u->h->clocks, .sla = &u->h->wsla, .now = u->now};
    char *before = NULL;
    enum kw_code rc = kw_audit_before(st, "organisation", u->id, NULL, &before, err);
    if (rc == KW_OK)
        rc = kw_app_org_edit(&unit, &u->who, u->id, &u->e, &u->ended, err);
    if (rc == KW_OK)
        rc =
            kw_audit_after(st, &u->who, u->now, "organisation", u->id, NULL, "update", before, err);
    free(before);
    return rc;
}

struct kwh_reply kwh_org_patch(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct org_in in = {0};
    struct org_unit u = {.h = x->h, .who = kwh_actor(x), .id = x->arg.id, .now = x->now};
    if (kwh_decode(j, org_fields, KWH_NFIELDS(org_fields), &in, &out) &&
        clearable(in.tier, "tier", 47, &u.e.tier, &out) &&
        clearable(in.region, "region", 47, &u.e.region, &out) &&
        clearable(in.calendar, "calendar", 47, &u.e.calendar, &out) &&
        active_of(in.active, &u.e.active, &out)) {
        u.e.name = in.name;
        u.e.account_manager_id = in.account_manager_id;
        if (kwh_write_unit(x, org_unit, &u, &out)) {
            if (u.ended)
                kwh_sessions_changed(x->h);
            struct kw_err err = {0};
            struct kw_org o;
            out = kw_store_org_get(x->wk->st, x->arg.id, &o, &err) == KW_OK
                      ? kwh_ok(200, kwh_org_json(&o))
                      : kwh_problem(&err);
        }
    }
    json_decref(j);
    return out;
}
