// SPDX-License-Identifier: MIT
/*
 * people.h - editing and deactivating people and organisations.
 *
 *   action                       admin   manager   agent / customer
 *   edit a person (all fields)   yes     -         -
 *   deactivate / reactivate      yes, not themselves
 *   reset a password             yes     -         -
 *   own name, language, zone     yes     yes       yes
 *   own password (with current)  yes     yes       yes
 *   edit an organisation         yes     yes       -
 *   deactivate an organisation   yes     yes       -
 *
 * Deactivating a person revokes every token they hold (sessions, API
 * tokens) in the same unit; nothing is deleted and their tickets and events
 * stay theirs. A deactivated organisation's customers cannot sign in or use
 * their tokens, and no new ticket is opened for it, until it is activated
 * again. An organisation's tier and region must be values the commitment in
 * force knows (any, when it lists none), its calendar a stored calendar,
 * its account manager an active member of staff.
 */
#ifndef KW_APP_PEOPLE_H
#define KW_APP_PEOPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "kw_crypto.h"

/* A change to a person: NULL and 0 keep; team_id -1 clears, lang or tz ""
 * clear; active -1 keeps, 0 deactivates, 1 activates. password_hash: a new
 * password's argon2id string (kw_auth_user_hash), or NULL. */
struct kw_user_edit {
    const char *email, *name, *role, *skills, *lang, *tz, *password_hash;
    int64_t team_id;
    int active;
};
/* Apply e to person id as who (an admin; a person for themselves only
 * name, lang, tz and, through kw_app_password_change, the password). The
 * role moves between staff roles only (a customer stays a customer);
 * an admin cannot deactivate themselves or give up their own role.
 * *ended (may be NULL): tokens were revoked (the caller tells open
 * streams). KW_FORBIDDEN, KW_NOT_FOUND, KW_INVALID at the member. */
enum kw_code kw_app_user_edit(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                              const struct kw_user_edit *e, bool *ended, struct kw_err *err);

/* who's own new password (an argon2id string; the caller checked the
 * current one): every other session of theirs ends, the one with digest
 * keep (may be NULL) and their API tokens stay. */
enum kw_code kw_app_password_change(struct kw_unit *u, const struct kw_actor *who,
                                    const char *password_hash, const unsigned char *keep,
                                    struct kw_err *err);

/* Whether lang is "zh", "en" or "" (clear) and tz a zone the time-zone
 * database knows (or ""): KW_INVALID at "/lang" or "/tz". */
enum kw_code kw_app_locale_check(struct kw_unit *u, const char *lang, const char *tz,
                                 struct kw_err *err);

/* A change to an organisation: NULL and 0 keep, "" and -1 clear; active as
 * for people. */
struct kw_org_edit {
    const char *name, *tier, *region, *calendar;
    int64_t account_manager_id;
    int active;
};
/* Apply e to organisation id as who (admin or manager): KW_FORBIDDEN,
 * KW_NOT_FOUND, KW_INVALID at "/tier", "/region", "/calendar",
 * "/account_manager_id". *ended (may be NULL): its customers' sessions
 * stopped (or started) working. */
enum kw_code kw_app_org_edit(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                             const struct kw_org_edit *e, bool *ended, struct kw_err *err);

#endif
