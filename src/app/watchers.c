// SPDX-License-Identifier: MIT
/* Who may follow which ticket; see watchers.h. */
#include "watchers.h"

#include <string.h>

/* The ticket as who may see it: its organisation in *org. */
static enum kw_code ticket_org(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                               int64_t *org, struct kw_err *err)
{
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(u->st, ticket, &t, err);
    if (rc == KW_NOT_FOUND || (rc == KW_OK && !kw_app_visible(who, t.org_id)))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such ticket");
    if (rc == KW_OK)
        *org = t.org_id;
    return rc;
}

/* A customer acts only on themselves. */
static enum kw_code self_only(const struct kw_actor *who, int64_t user, struct kw_err *err)
{
    if (kw_actor_customer(who) && user != who->id)
        return kw_err_set(err, KW_FORBIDDEN, "/user_id",
                          "customers follow and unfollow tickets only for themselves");
    if (who->role == KW_ROLE_SYSTEM && user == 0)
        return kw_err_set(err, KW_INVALID, "/user_id",
                          "user_id: missing (the system follows "
                          "nothing itself)");
    return KW_OK;
}

enum kw_code kw_watch_add(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                          int64_t user, bool *added, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *added = false;
    int64_t org = 0, n = 0;
    if (!user)
        user = who->id;
    enum kw_code rc = ticket_org(u, who, ticket, &org, err);
    if (rc == KW_OK)
        rc = self_only(who, user, err);
    if (rc != KW_OK)
        return rc;
    struct kw_user_row p;
    if ((rc = kw_store_user_get(u->st, user, &p, err)) != KW_OK)
        return rc == KW_NOT_FOUND ? kw_err_set(err, KW_NOT_FOUND, "/user_id",
                                               "user_id: no person %lld", (long long)user)
                                  : rc;
    if (!p.active)
        return kw_err_set(err, KW_INVALID, "/user_id", "user_id: %.80s is deactivated", p.name);
    if (strcmp(p.role, "customer") == 0 && p.org_id != org)
        return kw_err_set(err, KW_INVALID, "/user_id",
                          "user_id: %.80s is a customer of another organisation (only the "
                          "provider's staff and the ticket organisation's people may watch it)",
                          p.name);
    if ((rc = kw_store_watcher_count(u->st, ticket, &n, err)) != KW_OK)
        return rc;
    if ((rc = kw_store_watcher_add(u->st, ticket, user, who->id, u->now, added, err)) != KW_OK)
        return rc;
    if (*added && n >= KW_WATCHERS_MAX)
        return kw_err_set(err, KW_TOO_BIG, "/user_id", "a ticket has at most %d watchers",
                          KW_WATCHERS_MAX);
    return KW_OK;
}

enum kw_code kw_watch_remove(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                             int64_t user, bool *removed, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *removed = false;
    int64_t org = 0;
    if (!user)
        user = who->id;
    enum kw_code rc = ticket_org(u, who, ticket, &org, err);
    if (rc == KW_OK)
        rc = self_only(who, user, err);
    return rc == KW_OK ? kw_store_watcher_remove(u->st, ticket, user, removed, err) : rc;
}
