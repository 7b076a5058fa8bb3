// SPDX-License-Identifier: MIT
/* rota.h - stored on-call rotas (core/oncall.h) with their zone, for the
 * HTTP API, the CLI and escalation. */
#ifndef KW_ROTA_H
#define KW_ROTA_H

#include <stdint.h>

#include "kw_err.h"
#include "oncall.h"
#include "store.h"
#include "tz.h"

struct kw_rota {
    int64_t id, team_id;
    int level;
    struct kw_oncall s; /* the schedule */
    struct kw_tzinfo tz;
};

/* The rota of team_id at level, or the one with id when id > 0 (team_id
 * and level are then ignored). KW_NOT_FOUND naming what is missing. */
enum kw_code kw_rota_load(struct kw_store *st, struct kw_tzdb *tzdb, int64_t team_id, int level,
                          int64_t id, struct kw_rota *out, struct kw_err *err);

/* Compiled rotas kept between look-ups, for one thread at a time (the
 * engine's firing units). A look-up still reads the rota's stored row (one
 * small read), and compiles it only when its document differs from the one
 * compiled before: a rota saved since, by this process or another, is
 * compiled again, so a change is seen at the next look-up. At most
 * KW_ROTA_CACHE_MAX rotas are kept; more are compiled on each look-up. */
#define KW_ROTA_CACHE_MAX 64
struct kw_rota_cache;
struct kw_rota_cache *kw_rota_cache_new(void);     /* NULL: no memory */
void kw_rota_cache_free(struct kw_rota_cache *rc); /* accepts NULL */
/* The rota of team_id at level as stored in st now, as kw_rota_load (the
 * same errors). *out is the cache's: valid until the next call with rc. */
enum kw_code kw_rota_cached(struct kw_rota_cache *rc, struct kw_store *st, struct kw_tzdb *tzdb,
                            int64_t team_id, int level, const struct kw_rota **out,
                            struct kw_err *err);
/* How many look-ups compiled a rota, and how many found it compiled. */
void kw_rota_cache_counts(const struct kw_rota_cache *rc, uint64_t *compiled, uint64_t *hits);

/* Check a schedule document, zone included. */
enum kw_code kw_rota_check(struct kw_tzdb *tzdb, json_t *doc, struct kw_oncall *out,
                           struct kw_err *err);

#endif
