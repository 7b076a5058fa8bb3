// SPDX-License-Identifier: MIT
/* Overruns (超时处理) on PostgreSQL: one record per breached clock run,
 * explained to the customer and followed up to done; the same meaning as
 * the SQLite backend's overruns.c. The unique (ticket, metric, deadline)
 * key makes recording one exactly-once across nodes. */
#include "pg_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum kw_code kw_store_overrun_add(struct kw_store *st, int64_t ticket, int64_t org_id,
                                  int64_t commitment_id, const char *metric, int64_t deadline,
                                  int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    kwp_int(&p, org_id);
    kwp_int(&p, commitment_id);
    kwp_text(&p, metric);
    kwp_int(&p, deadline);
    kwp_int(&p, now);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, kwp_exec(st, PGS_OVERRUN_ADD, &p, "record an overrun", err),
                         err);
}

enum kw_code kw_store_overrun_stop(struct kw_store *st, int64_t ticket, const char *metric,
                                   int64_t stopped_at, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    kwp_text(&p, metric);
    kwp_int(&p, stopped_at);
    return kwp_exec(st, PGS_OVERRUN_STOP, &p, "close an overrun", err);
}

enum kw_code kw_store_overruns(struct kw_store *st, const struct kw_overrun_filter *f,
                               bool (*fn)(const struct kw_overrun_row *r, void *ctx), void *ctx,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, f->after);
    kwp_int(&p, f->org_id);
    kwp_int(&p, f->ticket_id);
    kwp_text(&p, f->metric);
    kwp_text(&p, f->state);
    kwp_int(&p, f->id);
    /* no limit (0): 100; SIZE_MAX: all */
    kwp_int(&p, !f->limit ? 100 : f->limit > INT64_MAX ? INT64_MAX : (int64_t)f->limit);
    PGresult *res = kwp_run(st, f->ticket_id ? PGS_OVERRUNS_TICKET : PGS_OVERRUNS, &p,
                            "list overruns", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_overrun_row o = {
            .id = kwp_col_int(res, r, 0),
            .ticket_id = kwp_col_int(res, r, 1),
            .org_id = kwp_col_int(res, r, 2),
            .commitment_id = kwp_col_int(res, r, 3),
            .metric = kwp_col_text(res, r, 4),
            .deadline = kwp_col_int(res, r, 5),
            .stopped_at = kwp_col_instant(res, r, 6),
            .recorded_at = kwp_col_int(res, r, 7),
            .reason = kwp_col_text(res, r, 8),
            .note = kwp_col_text(res, r, 9),
            .explained_at = kwp_col_instant(res, r, 10),
            .rca = kwp_col_text(res, r, 11),
            .action = kwp_col_text(res, r, 12),
            .owner_id = kwp_col_int(res, r, 13),
            .due = kwp_col_instant(res, r, 14),
            .done_at = kwp_col_instant(res, r, 15),
            .loss = kwp_col_int(res, r, 16),
        };
        if (!fn(&o, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_overrun_reasons(struct kw_store *st, int64_t first_ticket,
                                      int64_t last_ticket,
                                      bool (*fn)(const struct kw_overrun_row *r, void *ctx),
                                      void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, first_ticket);
    kwp_int(&p, last_ticket);
    PGresult *res = kwp_run(st, PGS_OVERRUN_REASONS, &p, "list overrun reasons", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_overrun_row o = {
            .ticket_id = kwp_col_int(res, r, 0),
            .metric = kwp_col_text(res, r, 1),
            .deadline = kwp_col_int(res, r, 2),
            .reason = kwp_col_text(res, r, 3),
            .stopped_at = KW_STORE_NO_TIME,
            .explained_at = KW_STORE_NO_TIME,
            .due = KW_STORE_NO_TIME,
            .done_at = KW_STORE_NO_TIME,
            .loss = -1,
        };
        if (!fn(&o, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_overrun_explain(struct kw_store *st, int64_t id, const char *reason,
                                      const char *note, int64_t by, int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_text(&p, reason);
    kwp_text(&p, note);
    kwp_int(&p, by);
    kwp_int(&p, now);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    /* in a savepoint: a reason the table refuses leaves the caller's
     * transaction usable, as on SQLite */
    PGresult *res = kwp_run(st, PGS_OVERRUN_EXPLAIN, &p, "explain an overrun", NULL, err);
    enum kw_code rc = !res ? err->code
                      : kwp_changed(res) == 0
                          ? kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id)
                          : KW_OK;
    return kwp_tx_finish(st, outer, rc, err);
}

enum kw_code kw_store_overrun_follow(struct kw_store *st, int64_t id,
                                     const struct kw_overrun_followup *f, int64_t now,
                                     struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_text(&p, f->rca);
    kwp_text(&p, f->action);
    kwp_int(&p, f->owner_id);
    kwp_instant(&p, f->due);
    kwp_text(&p, f->done ? "true" : "false");
    kwp_int(&p, now);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    char state[6];
    PGresult *res = kwp_run(st, PGS_OVERRUN_FOLLOW, &p, "record a follow-up", state, err);
    enum kw_code rc;
    if (!res && strcmp(state, "23503") == 0) /* foreign_key_violation: the owner */
        rc = kw_err_set(err, KW_NOT_FOUND, "/owner_id", "owner_id: no user %lld",
                        (long long)f->owner_id);
    else if (!res)
        rc = err->code;
    else if (kwp_changed(res) == 0)
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
    else
        rc = KW_OK;
    return kwp_tx_finish(st, outer, rc, err);
}
