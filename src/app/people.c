// SPDX-License-Identifier: MIT
/* Editing and deactivating people and organisations (people.h). */
#include "people.h"

#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "tickets.h"
#include "tz.h"

static bool staff_role(const char *r)
{
    return r && (strcmp(r, "admin") == 0 || strcmp(r, "manager") == 0 || strcmp(r, "agent") == 0);
}

enum kw_code kw_app_locale_check(struct kw_unit *u, const char *lang, const char *tz,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (lang && *lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kw_err_set(err, KW_INVALID, "/lang", "lang: expected zh or en");
    if (tz && *tz) {
        struct kw_tzinfo info;
        if (strlen(tz) > 64 || strstr(tz, "..") ||
            kw_tzdb_get(kw_clocks_tzdb(u->clocks), tz, &info, err) != KW_OK)
            return kw_err_set(err, KW_INVALID, "/tz",
                              "tz: \"%.64s\" is not a time zone (expected a name like "
                              "Asia/Shanghai or UTC)",
                              tz);
    }
    return KW_OK;
}

enum kw_code kw_app_user_edit(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                              const struct kw_user_edit *e, bool *ended, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    bool self = who->id == id && who->role != KW_ROLE_SYSTEM;
    bool admin = who->role == KW_ROLE_ADMIN;
    if (ended)
        *ended = false;
    if (!admin && !self)
        return kw_err_set(err, KW_FORBIDDEN, "", "only admins edit other people");
    if (!admin &&
        (e->email || e->role || e->skills || e->team_id || e->active >= 0 || e->password_hash))
        return kw_err_set(err, KW_FORBIDDEN, "",
                          "you may change your own name, language, time zone and password only");
    struct kw_user_row row;
    enum kw_code rc = kw_store_user_get(u->st, id, &row, err);
    if (rc == KW_NOT_FOUND)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such user");
    if (rc != KW_OK)
        return rc;
    bool customer = strcmp(row.role, "customer") == 0;
    if (e->role && !staff_role(e->role) && strcmp(e->role, "customer") != 0)
        return kw_err_set(err, KW_INVALID, "/role",
                          "role: expected admin, manager, agent or customer");
    if (e->role && (strcmp(e->role, "customer") == 0) != customer)
        return kw_err_set(err, KW_INVALID, "/role",
                          customer ? "role: a customer stays a customer (add a staff account)"
                                   : "role: staff stay staff (add a customer account)");
    if (self && e->role && strcmp(e->role, row.role) != 0)
        return kw_err_set(err, KW_CONFLICT, "/role", "role: you cannot change your own role");
    if (self && e->active == 0)
        return kw_err_set(err, KW_CONFLICT, "/active", "active: you cannot deactivate yourself");
    if (customer && e->team_id > 0)
        return kw_err_set(err, KW_INVALID, "/team_id", "team_id: customers are in no team");
    if (e->name && kw_app_blank(e->name))
        return kw_err_set(err, KW_INVALID, "/name", "name: only spaces");
    if ((rc = kw_app_locale_check(u, e->lang, e->tz, err)) != KW_OK)
        return rc;
    struct kw_user_patch p = {.email = e->email,
                              .name = e->name,
                              .role = e->role,
                              .skills = e->skills,
                              .lang = e->lang,
                              .tz = e->tz,
                              .team_id = e->team_id};
    if ((rc = kw_store_user_set(u->st, id, &p, err)) != KW_OK)
        return rc;
    if (e->password_hash &&
        (rc = kw_store_user_password_set(u->st, id, e->password_hash, NULL, u->now, err)) != KW_OK)
        return rc;
    if (e->active >= 0 &&
        (rc = kw_store_user_activate(u->st, id, e->active == 1, u->now, NULL, err)) != KW_OK)
        return rc;
    if (ended)
        *ended = e->active >= 0 || e->password_hash || e->role;
    return KW_OK;
}

enum kw_code kw_app_password_change(struct kw_unit *u, const struct kw_actor *who,
                                    const char *password_hash, const unsigned char *keep,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (who->role == KW_ROLE_SYSTEM || !password_hash || !*password_hash)
        return kw_err_set(err, KW_INVALID, "/password", "password: missing");
    return kw_store_user_password_set(u->st, who->id, password_hash, keep, u->now, err);
}

/* A stored calendar named name (strings of the row lent during the call). */
static bool calendar_found(const struct kw_named_row *r, void *ctx)
{
    (void)r;
    *(bool *)ctx = true;
    return false;
}

/* v is a value of attribute a the commitment in force at now knows. */
static enum kw_code known(struct kw_unit *u, enum kw_attr a, const char *v, struct kw_err *err)
{
    if (!v || !*v)
        return KW_OK;
    int64_t cid = 0;
    enum kw_code rc = kw_store_commitment_at(u->st, u->now, &cid, err);
    if (rc != KW_OK || !cid)
        return rc;
    const struct kw_compiled *c = kw_clocks_commitment(u->clocks, u->st, cid, err);
    if (!c)
        return err->code;
    if (kw_policy_attr_known(c->p, a, v))
        return KW_OK;
    char ptr[32];
    snprintf(ptr, sizeof(ptr), "/%s", kw_attr_name(a));
    char list[160] = "";
    size_t n = kw_policy_attr_count(c->p, a);
    for (size_t i = 0; i < n && strlen(list) < sizeof(list) - 50; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                 kw_policy_attr_id(c->p, a, i));
    return kw_err_set(err, KW_INVALID, ptr, "%s: \"%.40s\" is not in the commitment (%s %s: %s)",
                      kw_attr_name(a), v, kw_policy_name(c->p), kw_policy_version(c->p), list);
}

enum kw_code kw_app_org_edit(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                             const struct kw_org_edit *e, bool *ended, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (ended)
        *ended = false;
    if (who->role != KW_ROLE_ADMIN && who->role != KW_ROLE_MANAGER)
        return kw_err_set(err, KW_FORBIDDEN, "", "only admins and managers manage organisations");
    struct kw_org o;
    enum kw_code rc = kw_store_org_get(u->st, id, &o, err);
    if (rc == KW_NOT_FOUND)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such organisation");
    if (rc != KW_OK)
        return rc;
    if (e->name && kw_app_blank(e->name))
        return kw_err_set(err, KW_INVALID, "/name", "name: only spaces");
    if ((rc = known(u, KW_ATTR_TIER, e->tier, err)) != KW_OK ||
        (rc = known(u, KW_ATTR_REGION, e->region, err)) != KW_OK)
        return rc;
    if (e->calendar && *e->calendar) {
        bool found = false;
        if ((rc = kw_store_calendars(u->st, e->calendar, calendar_found, &found, err)) != KW_OK)
            return rc;
        if (!found)
            return kw_err_set(err, KW_INVALID, "/calendar",
                              "calendar: no stored calendar \"%.60s\" (see GET /api/v1/calendars)",
                              e->calendar);
    }
    if (e->account_manager_id > 0) {
        struct kw_user_row m;
        rc = kw_store_user_get(u->st, e->account_manager_id, &m, err);
        if (rc == KW_NOT_FOUND || (rc == KW_OK && (!staff_role(m.role) || !m.active)))
            return kw_err_set(err, KW_INVALID, "/account_manager_id",
                              "account_manager_id: %lld is not an active member of staff",
                              (long long)e->account_manager_id);
        if (rc != KW_OK)
            return rc;
    }
    struct kw_org_patch p = {.name = e->name,
                             .tier = e->tier,
                             .region = e->region,
                             .calendar = e->calendar,
                             .account_manager_id = e->account_manager_id};
    if ((rc = kw_store_org_set(u->st, id, &p, err)) != KW_OK)
        return rc;
    bool changed = false;
    if (e->active >= 0 &&
        (rc = kw_store_org_activate(u->st, id, e->active == 1, u->now, &changed, err)) != KW_OK)
        return rc;
    if (ended)
        *ended = changed;
    return KW_OK;
}
