// SPDX-License-Identifier: MIT
/* Saved views: the rules of views.h over the store's rows. */
#include "views.h"

static bool manages(const struct kw_actor *who)
{
    return who->role == KW_ROLE_ADMIN || who->role == KW_ROLE_MANAGER;
}

static bool is_staff(const struct kw_actor *who)
{
    return manages(who) || who->role == KW_ROLE_AGENT;
}

bool kw_app_view_visible(const struct kw_actor *who, const struct kw_view *v)
{
    if (!is_staff(who))
        return false;
    return v->owner_id == who->id ||
           (v->team_id && (manages(who) || (who->team_id && v->team_id == who->team_id)));
}

/* Whether who may change or delete v: their own; a shared one if they
 * manage. KW_NOT_FOUND or KW_FORBIDDEN otherwise. */
static enum kw_code may_change(const struct kw_actor *who, const struct kw_view *v,
                               struct kw_err *err)
{
    if (!kw_app_view_visible(who, v))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such view");
    if (v->owner_id != who->id && !manages(who))
        return kw_err_set(err, KW_FORBIDDEN, "",
                          "only its owner, a manager or an admin changes a shared view");
    return KW_OK;
}

enum kw_code kw_app_view_save(struct kw_unit *u, const struct kw_actor *who,
                              const struct kw_view *v, int64_t *id, struct kw_err *err)
{
    if (!is_staff(who))
        return kw_err_set(err, KW_FORBIDDEN, "", "saved views are for the provider's people");
    if (v->team_id && !manages(who) && v->team_id != who->team_id)
        return kw_err_set(err, KW_FORBIDDEN, "/team_id",
                          who->team_id ? "team_id: an agent shares views with their own team only"
                                       : "team_id: you are in no team to share a view with");
    struct kw_view row = *v;
    if (v->id) {
        struct kw_view old;
        if (kw_store_view_get(u->st, v->id, &old, err) != KW_OK)
            return err->code;
        if (may_change(who, &old, err) != KW_OK)
            return err->code;
        row.owner_id = old.owner_id;
        row.updated_at = u->now;
        *id = v->id;
        return kw_store_view_update(u->st, &row, err);
    }
    int64_t n = 0;
    if (kw_store_view_count(u->st, who->id, &n, err) != KW_OK)
        return err->code;
    if (n >= KW_VIEWS_MAX)
        return kw_err_set(err, KW_CONFLICT, "",
                          "you keep %d views already, the most one person may: delete one first",
                          KW_VIEWS_MAX);
    row.owner_id = who->id;
    row.created_at = row.updated_at = u->now;
    return kw_store_view_insert(u->st, &row, id, err);
}

enum kw_code kw_app_view_delete(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                                struct kw_err *err)
{
    struct kw_view old;
    if (!is_staff(who))
        return kw_err_set(err, KW_FORBIDDEN, "", "saved views are for the provider's people");
    if (kw_store_view_get(u->st, id, &old, err) != KW_OK)
        return err->code;
    if (may_change(who, &old, err) != KW_OK)
        return err->code;
    return kw_store_view_delete(u->st, id, err);
}
