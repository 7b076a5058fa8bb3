// SPDX-License-Identifier: MIT
/*
 * watchers.h - who may follow which ticket (docs/policy.md "Watchers").
 *
 *   action                    staff (admin, manager, agent)     customer
 *   follow / unfollow         themselves, and add or remove     themselves, on their
 *                             any active staff member or        own organisation's
 *                             customer of the ticket's org      tickets
 *
 * A ticket has at most KW_WATCHERS_MAX watchers. Another organisation's
 * ticket is KW_NOT_FOUND ("no such ticket") for a customer. Following is
 * not an event on the ticket: it changes what its watchers are told, not
 * the ticket (the store's notifications, store.h).
 */
#ifndef KW_APP_WATCHERS_H
#define KW_APP_WATCHERS_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"

#define KW_WATCHERS_MAX 50

/* user (0: who) follows ticket from u->now; *added false when they already
 * did. KW_FORBIDDEN for a customer naming someone else, KW_NOT_FOUND /
 * KW_INVALID at "/user_id" for an unknown, deactivated or other
 * organisation's person, KW_TOO_BIG past KW_WATCHERS_MAX. */
enum kw_code kw_watch_add(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                          int64_t user, bool *added, struct kw_err *err);
/* user (0: who) stops following ticket; *removed false when they did not. */
enum kw_code kw_watch_remove(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                             int64_t user, bool *removed, struct kw_err *err);

#endif
