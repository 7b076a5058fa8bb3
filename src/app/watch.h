// SPDX-License-Identifier: MIT
/*
 * watch.h - the watch list (服务黑名单), accident levels and the audit
 * trail (docs/policy.md "The watch list", "Accident levels", "The audit
 * trail"). An organisation whose overruns reach the settings' count within
 * the rolling window is flagged once, its account manager and the managers
 * told (in-app and the outbox's "watch_list"); only a manager's recorded
 * decision clears it. Every administrative change is one audit entry
 * (actor, time, before, after), a leaf of the Merkle log, in the unit's
 * transaction.
 */
#ifndef KW_WATCH_H
#define KW_WATCH_H

#include "app.h"

/* The accident level of a loss (minor units) under s: "major", "serious",
 * "general" (the highest whose threshold, when not 0, the loss reaches), or
 * NULL (no loss recorded: loss < 0, or below every threshold). */
const char *kw_accident_level(const struct kw_watch_settings *s, int64_t loss);

/* Save the settings: admins and managers. Refused with the member's
 * pointer: overruns outside 1-1000, window_months outside 1-120, a
 * threshold below 0, or thresholds set (not 0) out of order (general <=
 * serious <= major). An audit entry ("settings"). */
enum kw_code kw_watch_settings_save(struct kw_unit *u, const struct kw_actor *who,
                                    const struct kw_watch_settings *s, struct kw_err *err);

/* The start of the rolling window ending at now: window_months calendar
 * months (UTC) before it, the day cut to the month's last. */
int64_t kw_watch_window_from(const struct kw_watch_settings *s, int64_t now);

/* An overrun of ticket (organisation org) was just recorded at now (the
 * engine, in its transaction): when the overruns that count reach the
 * setting and org has no open flag, flag it (*flagged true), notify, and
 * audit it (actor 0). */
enum kw_code kw_watch_check(struct kw_store *st, int64_t org, int64_t ticket, int64_t now,
                            bool *flagged, struct kw_err *err);

/* Clear org's flag: admins and managers, with a reason (1-1000 bytes;
 * "/reason"). KW_NOT_FOUND when org is not on the list. Audited. */
enum kw_code kw_watch_clear(struct kw_unit *u, const struct kw_actor *who, int64_t org,
                            const char *reason, struct kw_err *err);

/* Record the loss of overrun (minor units, 0-10^15; -1 removes it):
 * admins and managers. Audited ("overrun", with the level before and
 * after). */
enum kw_code kw_overrun_loss_save(struct kw_unit *u, const struct kw_actor *who, int64_t overrun,
                                  int64_t loss, struct kw_err *err);

/* Append one audit entry: who (actor 0 for the system) changed object of
 * kind by action at now; before and after are JSON texts or NULL. */
enum kw_code kw_audit(struct kw_store *st, const struct kw_actor *who, int64_t now,
                      const char *kind, int64_t object, const char *action, const char *before,
                      const char *after, struct kw_err *err);

/* An audited change in two calls inside the change's unit: the object's
 * state before it (*before, caller frees; NULL when it does not exist yet),
 * then, once changed, the entry with its state after (before may be NULL;
 * it is borrowed). kind and id (or name for a calendar) as for
 * kw_store_audit_row. */
enum kw_code kw_audit_before(struct kw_store *st, const char *kind, int64_t id, const char *name,
                             char **before, struct kw_err *err);
enum kw_code kw_audit_after(struct kw_store *st, const struct kw_actor *who, int64_t now,
                            const char *kind, int64_t id, const char *name, const char *action,
                            const char *before, struct kw_err *err);

#endif
