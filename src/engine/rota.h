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

/* Check a schedule document, zone included. */
enum kw_code kw_rota_check(struct kw_tzdb *tzdb, json_t *doc, struct kw_oncall *out,
                           struct kw_err *err);

#endif
