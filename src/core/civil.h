// SPDX-License-Identifier: MIT
/*
 * civil.h - dates, times of day, instants and durations at the edges.
 *
 * Dates are days since 1970-01-01 in the proleptic Gregorian calendar;
 * instants are int64 UTC seconds; times of day are seconds since local
 * midnight. Parsers take an explicit length, never read past it, allocate
 * nothing and leave err->field empty: the caller knows where the text was.
 */
#ifndef KW_CIVIL_H
#define KW_CIVIL_H

#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

#define KW_DAY 86400
/* Longest output of the formatters below, with the terminating NUL. */
#define KW_INSTANT_BUF 32

/* Days since 1970-01-01 of year y, month m (1-12), day d (1-31); no checks. */
int64_t kw_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Inverse of kw_days_from_civil. */
void kw_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Day of the week of a day number: 0 = Monday ... 6 = Sunday. */
unsigned kw_weekday(int64_t days);
/* Floor division of an instant into its UTC day. */
int64_t kw_day_of(int64_t t);

/* "YYYY-MM-DD", a real date in years 1900-2199, into a day number. */
enum kw_code kw_date_parse(const char *s, size_t len, int64_t *days, struct kw_err *err);
/* Write "YYYY-MM-DD" and a NUL into buf (at least 11 bytes). */
void kw_date_format(int64_t days, char *buf);

/* "HH:MM" from 00:00 to 24:00 into seconds since midnight. */
enum kw_code kw_tod_parse(const char *s, size_t len, int32_t *secs, struct kw_err *err);
/* Write "HH:MM" (or "HH:MM:SS" when secs is not whole minutes) into buf (>= 9 bytes). */
void kw_tod_format(int32_t secs, char *buf);

/* RFC 3339 / ISO 8601 instant with a zone designator:
 * "2026-02-13T09:30:00+08:00", "...Z", "...+0800", "...+08"; 'T' may be ' ';
 * seconds may be left out ("09:30+08:00") and fractions are truncated. */
enum kw_code kw_instant_parse(const char *s, size_t len, int64_t *out, struct kw_err *err);
/* "2026-02-14T05:30:00Z" into buf (KW_INSTANT_BUF bytes); returns its length. */
size_t kw_instant_format_utc(int64_t t, char *buf);
/* Local form with the offset in seconds east of UTC: "2026-02-14T13:30:00+08:00". */
size_t kw_instant_format_local(int64_t t, int32_t offset, char *buf);

/* A duration of working time: plain seconds ("14400") or units d/h/m/s in
 * descending order ("2d", "4h", "1h30m", "90m", "45s"); d is 24 hours.
 * Negative or overflowing values are KW_INVALID. */
enum kw_code kw_duration_parse(const char *s, size_t len, int64_t *secs, struct kw_err *err);
/* Write a duration with hours as the largest unit ("26h3m4s", "1h30m", "0s")
 * into buf (>= 32 bytes); it parses back to the same seconds. */
void kw_duration_format(int64_t secs, char *buf);

#endif
