// SPDX-License-Identifier: MIT
/*
 * oncall.h - on-call rotas (值班): who is on call at an instant.
 *
 * A schedule is written as JSON in a time zone:
 *
 *   {"name": "Desk L1", "tz": "Asia/Shanghai",
 *    "layers": [
 *      {"name": "weekly", "rotation": "weekly", "start": "2026-01-05",
 *       "handoff": "09:00", "people": [3, 4, 5]},
 *      {"name": "nights", "rotation": "daily", "start": "2026-01-05",
 *       "handoff": "18:00", "people": [6, 7],
 *       "restrictions": [{"days": ["mon","tue","wed","thu","fri"],
 *                         "from": "18:00", "to": "09:00"}]}],
 *    "overrides": [{"user": 9, "from": "2026-03-02T18:00:00+08:00",
 *                   "to": "2026-03-03T09:00:00+08:00"}]}
 *
 * A layer hands over at `handoff` local time every day (daily) or every 7
 * days (weekly) from its `start` date, going round its people in order;
 * before its start it has nobody. Restrictions limit it to windows of local
 * time on the days listed (a window whose end is not after its start runs
 * into the next day). At an instant an override covering it wins; else the
 * last layer listed that has someone then (later layers sit on top of
 * earlier ones, like nights over a weekly rotation). Local times are read
 * through the zone's offsets, so handoffs stay at 09:00 across DST.
 * Pure: the zone comes as a kw_tzinfo value, "now" as an argument.
 */
#ifndef KW_ONCALL_H
#define KW_ONCALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "kw_err.h"

#define KW_ONCALL_MAX_LAYERS 8
#define KW_ONCALL_MAX_PEOPLE 64
#define KW_ONCALL_MAX_WINDOWS 14
#define KW_ONCALL_MAX_OVERRIDES 256

struct kw_oncall_window {
    uint8_t days;     /* bit 0 = Monday ... bit 6 = Sunday */
    int32_t from, to; /* local seconds since midnight; to <= from: into the next day */
};

struct kw_oncall_layer {
    char name[64];
    int64_t start;   /* local date (day number) of the first handoff */
    int32_t handoff; /* local seconds since midnight */
    int32_t days;    /* 1 daily, 7 weekly */
    size_t n_people, n_windows;
    int64_t people[KW_ONCALL_MAX_PEOPLE];
    struct kw_oncall_window window[KW_ONCALL_MAX_WINDOWS];
};

struct kw_oncall_override {
    int64_t user, from, to; /* [from, to) */
};

struct kw_oncall {
    char name[128];
    char tz[KW_CAL_TZ_MAX];
    size_t n_layers, n_overrides;
    struct kw_oncall_layer layer[KW_ONCALL_MAX_LAYERS];
    struct kw_oncall_override override[KW_ONCALL_MAX_OVERRIDES];
};

/* Decode and check a schedule (errors located: "/layers/1/people/0"). */
enum kw_code kw_oncall_from_json(json_t *doc, struct kw_oncall *out, struct kw_err *err);

/* Who is on call at t: the user (0: nobody) and where the answer came from
 * (a layer's name, "override", or NULL). */
int64_t kw_oncall_who(const struct kw_oncall *s, const struct kw_tzinfo *tz, int64_t t,
                      const char **source);

/* Whether t falls in the daily window [from, to) of local time in tz (to <=
 * from: it runs past midnight; from == to: never), and when it ends: *ends
 * gets the next instant the local time is `to` (t itself when outside). */
bool kw_quiet_at(const struct kw_tzinfo *tz, int32_t from, int32_t to, int64_t t, int64_t *ends);

/* The zone's offset at t (seconds east of UTC). */
int32_t kw_oncall_offset(const struct kw_tzinfo *tz, int64_t t);

/* The shifts over [from, to): consecutive stretches with the same person
 * (nobody included), at most cap; *n gets how many. Boundaries are exact
 * at minutes and at override instants. */
struct kw_oncall_shift {
    int64_t from, to, user;
    const char *source;
};
void kw_oncall_shifts(const struct kw_oncall *s, const struct kw_tzinfo *tz, int64_t from,
                      int64_t to, struct kw_oncall_shift *out, size_t cap, size_t *n);

#endif
