// SPDX-License-Identifier: MIT
/*
 * calendar.h - business calendars compiled into UTC working spans.
 *
 * A spec (time zone, weekly hours with split and overnight shifts, holidays,
 * extra working days) is compiled once over a horizon into sorted, disjoint,
 * non-adjacent UTC spans, each with the working seconds accumulated before it.
 * Working time is the set of real instants whose local wall-clock time lies in
 * a working interval, so a skipped DST hour contributes nothing and a repeated
 * hour counts once per real second. Queries are O(log n), allocate nothing,
 * never read the wall clock, and are safe from any thread on a compiled
 * calendar. Instants are int64 UTC seconds; durations are working seconds.
 */
#ifndef KW_CALENDAR_H
#define KW_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

#define KW_CAL_MAX_SHIFTS 16    /* intervals in one day */
#define KW_CAL_MAX_DATES 100000 /* holidays, and extra workdays */
#define KW_CAL_NAME_MAX 128     /* bytes, with the NUL */
#define KW_CAL_TZ_MAX 64        /* bytes, with the NUL */
#define KW_CAL_MIN_YEAR 2000    /* default horizon: 2000-01-01T00:00:00Z ... */
#define KW_CAL_MAX_YEAR 2100    /* ... up to 2100-01-01T00:00:00Z, exclusive */

/* One working interval of a day in local seconds since that day's midnight.
 * end > start; end may pass 86400 (an overnight shift ends the next day). */
struct kw_cal_shift {
    int32_t start, end;
};

/* The working intervals of one day, sorted by start, not overlapping. */
struct kw_cal_day {
    uint32_t n;
    struct kw_cal_shift shift[KW_CAL_MAX_SHIFTS];
};

/* A date (days since 1970-01-01) that works with its own hours. */
struct kw_cal_extra {
    int64_t day;
    struct kw_cal_day hours;
};

/* A calendar as written. Arrays are owned by the spec; release with
 * kw_cal_spec_release(). holidays and extra are sorted by day, unique, and
 * no day is in both (kw_cal_spec_check() enforces this). */
struct kw_cal_spec {
    char name[KW_CAL_NAME_MAX];
    char tz[KW_CAL_TZ_MAX];
    struct kw_cal_day week[7]; /* 0 = Monday ... 6 = Sunday */
    int64_t *holidays;
    size_t n_holidays;
    struct kw_cal_extra *extra;
    size_t n_extra;
};

/* A time zone's UTC offsets over a horizon: `initial` (seconds east of UTC)
 * until changes[0].at, then changes[i].offset from changes[i].at on. Borrowed;
 * built by the tz layer (src/tz) from the system tz database. */
struct kw_tz_change {
    int64_t at;
    int32_t offset;
};
struct kw_tzinfo {
    const char *name;
    int32_t initial;
    size_t n;
    const struct kw_tz_change *changes;
};

/* The UTC offset (seconds east) in force at instant t. */
int32_t kw_tz_offset(const struct kw_tzinfo *tz, int64_t t);
/* The instant a local wall time happens: local is seconds since
 * 1970-01-01T00:00 local (day * 86400 + time of day); a wall time a change
 * of offset skips gives the first instant after the gap. */
int64_t kw_tz_instant(const struct kw_tzinfo *tz, int64_t local);
/* The local day (days since 1970-01-01) instant t falls on. */
int64_t kw_tz_day(const struct kw_tzinfo *tz, int64_t t);

/* A working span [start, end) in UTC seconds. */
struct kw_span {
    int64_t start, end;
};

struct kw_cal; /* opaque */

/* Free the spec's arrays and zero it. Accepts a zeroed spec. */
void kw_cal_spec_release(struct kw_cal_spec *spec);
/* Sort and check a spec built by hand: shifts per day (no overlap, end >
 * start, at most one day long), dates unique, no holiday that is also an
 * extra workday. Errors name the field ("/holidays/3"). */
enum kw_code kw_cal_spec_check(struct kw_cal_spec *spec, struct kw_err *err);
/* Whether s looks like an IANA zone name: letters, digits, / _ - +, no "..",
 * no leading "/", shorter than KW_CAL_TZ_MAX. Says nothing of its existence. */
bool kw_cal_tz_name_ok(const char *s, size_t len);
/* Working seconds in an ordinary week of the spec (ignores DST). */
int64_t kw_cal_spec_week_seconds(const struct kw_cal_spec *spec);

/* Compile spec in zone tz over [from, until). KW_INVALID if it has no working
 * time in that range; KW_NOMEM. Free with kw_cal_free(). */
struct kw_cal *kw_cal_new(const struct kw_cal_spec *spec, const struct kw_tzinfo *tz, int64_t from,
                          int64_t until, struct kw_err *err);
/* Accepts NULL. */
void kw_cal_free(struct kw_cal *cal);

/* A calendar edited over time: parts[0] counts before since[1], parts[i]
 * from since[i] until since[i+1], the last part from its since on (since[0]
 * is ignored; since is non-decreasing, an empty stretch is allowed). Working
 * time before an edit is thus counted on the version then in force and
 * after it on the new one, so no working second already measured changes.
 * The parts share one horizon; zone offsets are the last part's. At most
 * KW_CAL_MAX_PARTS parts. KW_INVALID for a bad list, KW_NOMEM. Free with
 * kw_cal_free(); the parts stay the caller's. */
#define KW_CAL_MAX_PARTS 4096
struct kw_cal *kw_cal_splice(const struct kw_cal *const *parts, const int64_t *since, size_t n,
                             struct kw_err *err);

/* The instant at which `work` working seconds have passed since `start`: the
 * earliest T >= start with working time in [start, T] equal to work. For 0,
 * start itself when working, else the next start of working time. KW_RANGE
 * outside the horizon, KW_INVALID for negative work. */
enum kw_code kw_cal_deadline(const struct kw_cal *cal, int64_t start, int64_t work, int64_t *out,
                             struct kw_err *err);
/* Working seconds in [t1, t2); 0 when t2 <= t1. KW_RANGE outside the horizon. */
enum kw_code kw_cal_elapsed(const struct kw_cal *cal, int64_t t1, int64_t t2, int64_t *out,
                            struct kw_err *err);
/* Working seconds in [the horizon's start, t): kw_cal_elapsed(t1, t2) is
 * kw_cal_worked(t2) - kw_cal_worked(t1) for t1 < t2 (one end worked out
 * once for many runs). KW_RANGE outside the horizon. */
enum kw_code kw_cal_worked(const struct kw_cal *cal, int64_t t, int64_t *out, struct kw_err *err);
/* Whether t is working time. KW_RANGE outside the horizon. */
enum kw_code kw_cal_is_working(const struct kw_cal *cal, int64_t t, bool *out, struct kw_err *err);
/* The first working instant at or after t. KW_RANGE when none is left in the horizon. */
enum kw_code kw_cal_next_working(const struct kw_cal *cal, int64_t t, int64_t *out,
                                 struct kw_err *err);
/* Working spans inside [t1, t2), clipped to it: writes up to `cap` into out
 * (may be NULL when cap is 0) and returns how many there are in all. */
size_t kw_cal_spans(const struct kw_cal *cal, int64_t t1, int64_t t2, struct kw_span *out,
                    size_t cap);

/* The compiled horizon [from, until). */
void kw_cal_horizon(const struct kw_cal *cal, int64_t *from, int64_t *until);
/* Offset east of UTC in force at t, and the zone name (owned by cal). */
int32_t kw_cal_utc_offset(const struct kw_cal *cal, int64_t t);
const char *kw_cal_tz(const struct kw_cal *cal);
/* Number of compiled spans and bytes held, for diagnostics and benchmarks. */
size_t kw_cal_span_count(const struct kw_cal *cal);
size_t kw_cal_memory_bytes(const struct kw_cal *cal);
/* First and last local dates (day numbers) with working time in the horizon. */
void kw_cal_covered_days(const struct kw_cal *cal, int64_t *first, int64_t *last);

#endif
