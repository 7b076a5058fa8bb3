// SPDX-License-Identifier: MIT
/*
 * calendars.h - stored calendars: saving a version, and what it reaches.
 *
 * A stored calendar is a named object with versions (store.h). A commitment
 * that names it (docs/policy.md) counts working time before a save on the
 * version then in force and after it on the new one (core kw_cal_splice), so
 * an edit applies from the instant it is saved: clocks that have not stopped
 * get new deadlines and warnings, what was measured before the save stays,
 * and stopped clocks keep their results.
 */
#ifndef KW_APP_CALENDARS_H
#define KW_APP_CALENDARS_H

#include <stdint.h>

#include "app.h"
#include "kw_err.h"
#include "store.h"

/* Save spec (the calendar's canonical JSON text) as calendar name's next
 * version at u->now, inside unit u (the writer's transaction). When it adds
 * a version, the cached commitments naming the calendar are compiled again
 * and the tickets of every commitment naming it whose clocks have not all
 * stopped are marked for projection (*marked gets how many); run
 * kw_app_catch_up_each after the commit to project them (a restart does it
 * too). KW_INVALID (at /calendars/...) when the new version breaks a
 * commitment; nothing is saved then. */
enum kw_code kw_app_calendar_save(struct kw_unit *u, const char *name, const char *spec,
                                  struct kw_calendar_saved *out, int64_t *marked,
                                  struct kw_err *err);

/* What an edit of calendar name reaches, before saving it: fn is called for
 * each commitment version that names it, with the number of its tickets
 * whose clocks have not all stopped. Reads st only. */
enum kw_code kw_app_calendar_impact(struct kw_store *st, const char *name,
                                    bool (*fn)(const struct kw_commitment_row *c, int64_t open,
                                               void *ctx),
                                    void *ctx, struct kw_err *err);

#endif
