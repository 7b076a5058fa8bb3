// SPDX-License-Identifier: MIT
/*
 * ics.h - merge an iCalendar (.ics) holiday feed into a calendar spec.
 *
 * All-day events (DTSTART;VALUE=DATE) become holidays, or extra workdays with
 * given hours; an event spanning several days gives every date up to DTEND
 * (exclusive); RRULEs are expanded up to the calendar horizon. Timed events
 * are counted and skipped: a feed of public holidays has none.
 */
#ifndef KW_ICS_H
#define KW_ICS_H

#include <stdbool.h>
#include <stddef.h>

#include "calendar.h"
#include "kw_err.h"

struct kw_ics_stats {
    size_t events;  /* all-day events that matched */
    size_t added;   /* dates new to the calendar */
    size_t present; /* dates it already had as the same kind */
    size_t skipped; /* events skipped: timed, or SUMMARY not matching */
};

/* Merge the feed `text` (NUL-terminated, len bytes) into spec. hours: the
 * extra workdays' hours (ignored for holidays). match: only events whose
 * SUMMARY contains it (NULL for all). A date that is already of the other
 * kind is an error naming it; spec is unchanged on any error. */
enum kw_code kw_ics_merge(struct kw_cal_spec *spec, const char *text, size_t len, bool as_holidays,
                          const struct kw_cal_day *hours, const char *match,
                          struct kw_ics_stats *st, struct kw_err *err);

#endif
