// SPDX-License-Identifier: MIT
/*
 * calendar_json.h - the JSON form of a calendar spec (docs/calendar.md).
 *
 * {"name": "cn-office", "tz": "Asia/Shanghai",
 *  "week": {"mon": [["09:00","12:00"],["13:30","18:00"]], ..., "sun": []},
 *  "holidays": ["2026-02-16"], "extra_workdays": {"2026-02-14": [["09:00","18:00"]]}}
 *
 * Errors carry a JSON pointer relative to the calendar object and a message
 * that names the field ("week.mon[1]: ..."). Pure: no I/O.
 */
#ifndef KW_CALENDAR_JSON_H
#define KW_CALENDAR_JSON_H

#include <jansson.h>

#include "calendar.h"

/* Limits applied while decoding, before anything is allocated. */
#define KW_CAL_JSON_MAX_BYTES (16u << 20)

/* Decode and check a calendar object (not modified) into *spec (zeroed first; release with
 * kw_cal_spec_release() on success; nothing to release on failure). The time
 * zone is only checked for shape here: the tz layer knows which zones exist. */
enum kw_code kw_cal_spec_from_json(json_t *obj, struct kw_cal_spec *spec, struct kw_err *err);
/* The same from text of `len` bytes (UTF-8, duplicate keys rejected). */
enum kw_code kw_cal_spec_parse(const char *text, size_t len, struct kw_cal_spec *spec,
                               struct kw_err *err);
/* Encode a checked spec in the canonical form (every weekday present, dates
 * sorted). Returns a new reference, or NULL when out of memory. */
json_t *kw_cal_spec_to_json(const struct kw_cal_spec *spec);

#endif
