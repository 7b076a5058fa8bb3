// SPDX-License-Identifier: MIT
/*
 * views.h - saved views of the ticket list: who may keep, share, change and
 * delete them.
 *
 *   action                         admin, manager   agent         customer
 *   keep views of one's own        yes              yes           -
 *   share a view with a team       any team         their own     -
 *   see a shared view              every one        their team's  -
 *   change or delete a view        their own, and   their own     -
 *                                  every shared one
 *
 * A person keeps at most KW_VIEWS_MAX views. A view someone may not see is
 * KW_NOT_FOUND ("no such view"), one they see but may not change
 * KW_FORBIDDEN. What the filters, columns and sort mean is the list's
 * (http/views.c checks them against it).
 */
#ifndef KW_APP_VIEWS_H
#define KW_APP_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"

#define KW_VIEWS_MAX 50

/* Whether who may see view v (their own, or shared with a team they see). */
bool kw_app_view_visible(const struct kw_actor *who, const struct kw_view *v);

/* Save v as who at u->now: v->id 0 is a new view of who's (*id gets its
 * id), else a change to view v->id, which keeps its owner. v->team_id: 0
 * keeps it to its owner, a team shares it. */
enum kw_code kw_app_view_save(struct kw_unit *u, const struct kw_actor *who,
                              const struct kw_view *v, int64_t *id, struct kw_err *err);

/* Delete view id as who. */
enum kw_code kw_app_view_delete(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                                struct kw_err *err);

#endif
