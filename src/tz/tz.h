// SPDX-License-Identifier: MIT
/*
 * tz.h - time-zone offsets from the system tz database, through libical.
 *
 * A zone is loaded once per database handle into the offset table the
 * calendar compiler takes (struct kw_tzinfo), covering the default calendar
 * horizon (2000-2100) with a day of margin. Transitions are found by sampling
 * each UTC day and bisecting to the second, so two transitions less than a day
 * apart would be missed; no zone has had such a pair since 2000.
 */
#ifndef KW_TZ_H
#define KW_TZ_H

#include "calendar.h"
#include "kw_err.h"

struct kw_tzdb; /* opaque; caches loaded zones; safe to share between threads */

/* NULL when out of memory. Free with kw_tzdb_free() (accepts NULL). */
struct kw_tzdb *kw_tzdb_new(void);
void kw_tzdb_free(struct kw_tzdb *db);

/* Fill *out with zone `name` ("Asia/Shanghai", "UTC"). The arrays it points
 * to are owned by db and live until kw_tzdb_free(). KW_INVALID with field
 * "/tz" for a zone the database does not know. Thread-safe. */
enum kw_code kw_tzdb_get(struct kw_tzdb *db, const char *name, struct kw_tzinfo *out,
                         struct kw_err *err);

#endif
