// SPDX-License-Identifier: MIT
/*
 * ics.h - plan and merge an iCalendar (.ics) holiday feed into a calendar spec.
 *
 * All-day events (DTSTART;VALUE=DATE) become holidays, or extra workdays with
 * given hours; an event spanning several days gives every date up to DTEND
 * (exclusive); RRULEs are expanded up to the calendar horizon. Timed events
 * are skipped: a feed of public holidays has none. Which events count is
 * decided by markers, whole tokens of the SUMMARY (kw_ics_has_marker; the
 * rule is written out in docs/calendar.md). Importing is two steps: a plan
 * (what would be added, from which event, by which marker) that changes
 * nothing, then applying it. libical is not thread-safe: callers serialise.
 */
#ifndef KW_ICS_H
#define KW_ICS_H

#include <stdbool.h>
#include <stddef.h>

#include "calendar.h"
#include "kw_err.h"

#define KW_ICS_MARKER_MAX 32 /* bytes of a marker */
#define KW_ICS_MAX_SKIPS 200 /* skipped events listed in a plan (all are counted) */

struct kw_ics_stats {
    size_t events;  /* all-day events that matched */
    size_t added;   /* dates new to the calendar */
    size_t present; /* dates it already had as the same kind */
    size_t skipped; /* events skipped: timed, or without the marker */
};

enum kw_ics_mode {
    KW_ICS_AS_HOLIDAYS, /* matching events are holidays */
    KW_ICS_AS_WORKDAYS, /* matching events are make-up workdays */
    KW_ICS_BY_MARKER,   /* each event is what its marker says */
};

struct kw_ics_opts {
    enum kw_ics_mode mode;
    /* AS_HOLIDAYS uses holiday_marker, AS_WORKDAYS workday_marker: NULL takes
     * every all-day event. BY_MARKER needs both. Borrowed for the plan's life. */
    const char *holiday_marker, *workday_marker;
};

enum kw_ics_kind { KW_ICS_HOLIDAY, KW_ICS_WORKDAY };
enum kw_ics_skip_why { KW_ICS_TIMED, KW_ICS_NO_MARKER, KW_ICS_BOTH_MARKERS };

struct kw_ics_date {
    int64_t day; /* days since 1970-01-01 */
    enum kw_ics_kind kind;
    bool present;        /* the calendar has the date as this kind already */
    const char *summary; /* the event's SUMMARY ("" when it has none); the plan owns it */
    const char *marker;  /* the marker that matched, NULL when every event counts */
};

struct kw_ics_skip {
    int64_t day; /* the event's first date (0 when it has no DTSTART) */
    enum kw_ics_skip_why why;
    const char *summary;
};

struct kw_ics_plan {
    struct kw_ics_opts opts;
    struct kw_ics_date *dates; /* sorted by day, one row per date */
    size_t n_dates;
    struct kw_ics_skip *skips; /* in feed order, at most KW_ICS_MAX_SKIPS */
    size_t n_skips;
    struct kw_ics_stats st;
    char **texts; /* the summaries, owned */
    size_t n_texts;
};

/* Whether summary carries marker as a whole token: tokens are what lies
 * between separators (white space, brackets, a few punctuation marks), so
 * "国庆节 休" and "元旦（休）" carry 休 but "国庆节调休" does not. */
bool kw_ics_has_marker(const char *summary, const char *marker);

/* Check a marker given by a user: non-empty, at most KW_ICS_MARKER_MAX
 * bytes, no separator in it (it could never be a whole token). */
enum kw_code kw_ics_marker_check(const char *marker, struct kw_err *err);

/* Plan importing the feed `text` (NUL-terminated, len bytes) into spec,
 * which is only read. A date of the feed that the calendar has as the other
 * kind, or that the feed gives as both kinds, is KW_CONFLICT naming it. A
 * plan with no dates is not an error. Release *out even on failure. */
enum kw_code kw_ics_plan(const struct kw_cal_spec *spec, const char *text, size_t len,
                         const struct kw_ics_opts *opts, struct kw_ics_plan *out,
                         struct kw_err *err);

/* Add the plan's new dates to spec (the spec the plan was made from);
 * hours: the make-up workdays' hours. KW_INVALID when the feed had no
 * matching event or workdays have no hours; spec is unchanged on any error. */
enum kw_code kw_ics_apply(struct kw_cal_spec *spec, const struct kw_ics_plan *plan,
                          const struct kw_cal_day *hours, struct kw_err *err);

/* Accepts a zeroed plan. */
void kw_ics_plan_release(struct kw_ics_plan *plan);

/* Plan and apply in one step (the CLI): as_holidays picks the mode, match
 * the marker (NULL: every all-day event). */
enum kw_code kw_ics_merge(struct kw_cal_spec *spec, const char *text, size_t len, bool as_holidays,
                          const struct kw_cal_day *hours, const char *match,
                          struct kw_ics_stats *st, struct kw_err *err);

#endif
