// SPDX-License-Identifier: MIT
/*
 * calcache.h - compiled calendars by content.
 *
 * Compiling a calendar takes milliseconds; a query takes nanoseconds. The
 * cache maps a calendar's JSON text to its compiled form twice over: by the
 * exact bytes seen (no parsing on a hit) and by the canonical JSON of the
 * decoded spec (so the same calendar written with other spacing or key order
 * is compiled once too). Entries live until the cache is freed; past
 * `max_entries` distinct calendars the oldest compiled one is dropped.
 * Not thread-safe: one cache per thread.
 */
#ifndef KW_CALCACHE_H
#define KW_CALCACHE_H

#include <jansson.h>
#include <stddef.h>

#include "calendar.h"
#include "policy.h"
#include "kw_err.h"
#include "tz.h"

struct kw_cal_cache;

/* db is borrowed and must outlive the cache. NULL when out of memory. */
struct kw_cal_cache *kw_cal_cache_new(struct kw_tzdb *db, size_t max_entries);
void kw_cal_cache_free(struct kw_cal_cache *cache);

/* The compiled calendar of a JSON object given as text. The result is owned
 * by the cache and valid until the next call (it may be evicted after).
 * NULL with err filled (field pointers relative to the calendar). */
const struct kw_cal *kw_cal_cache_text(struct kw_cal_cache *cache, const char *text, size_t len,
                                       struct kw_err *err);
/* The same for an already decoded object. */
const struct kw_cal *kw_cal_cache_json(struct kw_cal_cache *cache, json_t *obj, struct kw_err *err);

/* Compile a checked spec over the default horizon (2000-01-01 to 2100-01-01
 * UTC) with zones from db. Caller frees with kw_cal_free(). */
struct kw_cal *kw_cal_compile(struct kw_tzdb *db, const struct kw_cal_spec *spec,
                              struct kw_err *err);

/* Compile every calendar of policy p into cals (room for
 * kw_policy_calendar_count(p) entries; caller frees each with kw_cal_free).
 * On failure nothing is left allocated; err points at /calendars/NAME/...
 * A stored calendar (kw_policy_calendar_ref) compiles its bound spec, and is
 * KW_INVALID when none is bound (app/clocks.h compiles stored ones with their
 * versions). */
enum kw_code kw_policy_compile(struct kw_tzdb *db, const struct kw_policy *p, struct kw_cal **cals,
                               struct kw_err *err);

/* Compilations done so far (cache misses), for tests and benchmarks. */
size_t kw_cal_cache_compiles(const struct kw_cal_cache *cache);

#endif
