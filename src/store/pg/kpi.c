// SPDX-License-Identifier: MIT
/* KPI facts: one row per clock run (kpi_runs), replaced per ticket in the
 * transaction that projects its clocks, as the SQLite backend's kpi.c. */
#include "pg_int.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>

static void read_run(const PGresult *res, int r, struct kw_run_row *out)
{
    *out = (struct kw_run_row){
        .ticket_id = kwp_col_int(res, r, 0),
        .metric = kwp_col_text(res, r, 1),
        .run = kwp_col_int(res, r, 2),
        .org_id = kwp_col_int(res, r, 3),
        .commitment_id = kwp_col_int(res, r, 4),
        .status = kwp_col_text(res, r, 5),
        .started_at = kwp_col_int(res, r, 6),
        .stopped_at = kwp_col_instant(res, r, 7),
        .deadline = kwp_col_instant(res, r, 8),
        .breached_at = kwp_col_instant(res, r, 9),
        .target = kwp_col_int(res, r, 10),
        .working = kwp_col_int(res, r, 11),
        .wall = kwp_col_int(res, r, 12),
        .paused_wall = kwp_col_int(res, r, 13),
        .measured_at = kwp_col_int(res, r, 14),
        .steady_from = kwp_col_int(res, r, 15),
        .team_id = kwp_col_int(res, r, 16),
        .assignee_id = kwp_col_int(res, r, 17),
        .calendar = kwp_col_text(res, r, 18),
        .level = kwp_col_text(res, r, 19),
        .tier = kwp_col_text(res, r, 20),
        .organisation = kwp_col_text(res, r, 21),
        .category = kwp_col_text(res, r, 22),
        .region = kwp_col_text(res, r, 23),
        .channel = kwp_col_text(res, r, 24),
    };
}

enum kw_code kw_store_runs_put(struct kw_store *st, int64_t ticket, bool fresh,
                               const struct kw_run_row *rows, size_t n, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    /* no rows: the old ones' delete alone, a write that fails only if the
     * database is broken (with the next statement); else the insert's */
    if (n == 0)
        return fresh ? KW_OK
                     : kwp_exec_later(st, PGS_RUNS_DEL, &p, "store the ticket's clock runs", err);
    /* the rows as one JSON array, so that they are one statement and one
     * round trip (PGS_RUN_ADD), not one each */
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        const struct kw_run_row *r = &rows[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            a = NULL;
            break;
        }
        json_object_set_new(o, "ticket_id", json_integer(ticket));
        json_object_set_new(o, "clear", json_boolean(!fresh));
        json_object_set_new(o, "metric", kwp_json_text(r->metric));
        json_object_set_new(o, "run", json_integer(r->run));
        json_object_set_new(o, "status", kwp_json_text(r->status));
        json_object_set_new(o, "started_at", json_integer(r->started_at));
        json_object_set_new(o, "stopped_at", kwp_json_instant(r->stopped_at));
        json_object_set_new(o, "deadline", kwp_json_instant(r->deadline));
        json_object_set_new(o, "breached_at", kwp_json_instant(r->breached_at));
        json_object_set_new(o, "target", json_integer(r->target));
        json_object_set_new(o, "working", json_integer(r->working));
        json_object_set_new(o, "wall", json_integer(r->wall));
        json_object_set_new(o, "paused_wall", json_integer(r->paused_wall));
        json_object_set_new(o, "measured_at", json_integer(r->measured_at));
        json_object_set_new(o, "steady_from", json_integer(r->steady_from));
        json_object_set_new(o, "team_id", json_integer(r->team_id));
        json_object_set_new(o, "assignee_id", json_integer(r->assignee_id));
        json_object_set_new(o, "calendar", kwp_json_text(r->calendar));
        json_object_set_new(o, "level", kwp_json_text(r->level));
        json_object_set_new(o, "tier", kwp_json_text(r->tier));
        json_object_set_new(o, "organisation", kwp_json_text(r->organisation));
        json_object_set_new(o, "category", kwp_json_text(r->category));
        json_object_set_new(o, "region", kwp_json_text(r->region));
        json_object_set_new(o, "channel", kwp_json_text(r->channel));
    }
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!text)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the ticket's clock runs");
    kwp_text(&p, text);
    kwp_text(&p, fresh ? "f" : "t"); /* the old ones deleted first */
    if (kwp_pre_locked(st, ticket)) {
        /* the ticket's row is this transaction's (kw_store_prefetch): the
         * insert has its rows and fails only if the database is broken,
         * so it goes out with the next statement, in one with the other
         * tickets' runs kept so (the rows say their ticket) */
        enum kw_code rc = kwp_exec_later_rows(st, PGS_RUNS_MANY, ticket, text,
                                              "store the tickets' clock runs", err);
        free(text);
        if (rc != KW_OK)
            return rc;
    } else {
        PGresult *res = kwp_run(st, PGS_RUN_ADD, &p, "store the ticket's clock runs", NULL, err);
        free(text);
        if (!res)
            return err->code;
        const char *added = PQcmdTuples(res);
        bool none = !added || strtoll(added, NULL, 10) == 0;
        PQclear(res);
        if (none)
            return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    }
    /* written: the runs in memory (app/kpi_cache.c) follow the change log */
    int64_t at = 0;
    for (size_t i = 0; i < n; i++)
        at = rows[i].measured_at > at ? rows[i].measured_at : at;
    return kwp_change_note(st, ticket, at, err);
}

enum kw_code kw_store_runs(struct kw_store *st, const struct kw_run_filter *f,
                           bool (*fn)(const struct kw_run_row *r, void *ctx), void *ctx,
                           struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    enum pgs s = f->ticket ? PGS_RUNS_TICKET : PGS_RUNS_PERIOD;
    if (f->all) {
        kwp_int(&p, f->after_ticket);
        kwp_int(&p, f->limit ? (int64_t)f->limit : INT64_MAX);
        s = PGS_RUNS_ALL;
    } else if (f->ticket)
        kwp_int(&p, f->ticket);
    else {
        kwp_int(&p, f->from);
        kwp_int(&p, f->to);
        kwp_int(&p, f->org_id);
        kwp_int(&p, f->now);
    }
    PGresult *res = kwp_run(st, s, &p, "read clock runs", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_run_row row;
        read_run(res, r, &row);
        if (!fn(&row, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

static void read_fact(const PGresult *res, int r, struct kw_ticket_fact_row *t)
{
    *t = (struct kw_ticket_fact_row){
        .ticket_id = kwp_col_int(res, r, 0),
        .org_id = kwp_col_int(res, r, 1),
        .commitment_id = kwp_col_int(res, r, 2),
        .team_id = kwp_col_int(res, r, 3),
        .assignee_id = kwp_col_int(res, r, 4),
        .level = kwp_col_text(res, r, 5),
        .tier = kwp_col_text(res, r, 6),
        .organisation = kwp_col_text(res, r, 7),
        .category = kwp_col_text(res, r, 8),
        .region = kwp_col_text(res, r, 9),
        .channel = kwp_col_text(res, r, 10),
        .at = kwp_col_int(res, r, 11),
        .satisfaction = (int)kwp_col_int(res, r, 12),
        .nps = (int)kwp_col_int(res, r, 13),
    };
}

enum kw_code kw_store_resolved_rebuild(struct kw_store *st, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    const char *what = "rebuild the tickets' KPI facts";
    static const enum pgs steps[] = {PGS_RESOLVED_CLEAR, PGS_RESOLVED_FILL, PGS_STATES_CLEAR,
                                     PGS_STATES_FILL};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (kwp_exec(st, steps[i], &p, what, err) != KW_OK)
            return err->code;
    return KW_OK;
}

enum kw_code kw_store_ticket_backlog(struct kw_store *st, const int64_t *ends, size_t n,
                                     int64_t org_id,
                                     bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                     void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (n == 0)
        return KW_OK;
    if (n > KW_BACKLOG_ENDS_MAX)
        return kw_err_set(err, KW_INVALID, "", "at most %d ends", KW_BACKLOG_ENDS_MAX);
    char list[KWP_INT_ARRAY_BYTES(KW_BACKLOG_ENDS_MAX)];
    kwp_int_array(list, ends, n);
    int64_t lo = ends[0], hi = ends[0];
    for (size_t i = 0; i < n; i++) {
        lo = ends[i] < lo ? ends[i] : lo;
        hi = ends[i] > hi ? ends[i] : hi;
    }
    struct kwp_params p = {0};
    kwp_int(&p, lo);
    kwp_int(&p, hi);
    kwp_int(&p, org_id);
    kwp_text(&p, list);
    PGresult *res = kwp_run(st, PGS_TF_BACKLOG, &p, "read the backlog for the KPIs", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_ticket_fact_row t;
        read_fact(res, r, &t);
        t.as_of = kwp_col_int(res, r, 14);
        if (!fn(&t, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_ticket_states(struct kw_store *st, int64_t after, size_t limit,
                                    bool (*fn)(const struct kw_ticket_state_row *r, void *ctx),
                                    void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, after);
    kwp_int(&p, limit ? (int64_t)limit : INT64_MAX);
    PGresult *res =
        kwp_run(st, PGS_TICKET_STATES, &p, "read the tickets' states for the KPIs", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_ticket_state_row t = {0};
        read_fact(res, r, &t.t);
        t.updated_at = kwp_col_int(res, r, 14);
        t.open = kwp_col_int(res, r, 15) != 0;
        t.state_at = PQgetisnull(res, r, 16) ? KW_STORE_NO_TIME : kwp_col_int(res, r, 16);
        t.state_open = kwp_col_int(res, r, 17) != 0;
        if (!fn(&t, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_ticket_marks(struct kw_store *st, int64_t ticket,
                                   bool (*fn)(const struct kw_ticket_mark_row *r, void *ctx),
                                   void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    if (ticket)
        kwp_int(&p, ticket);
    PGresult *res = kwp_run(st, ticket ? PGS_TICKET_MARKS : PGS_TICKET_MARKS_ALL, &p,
                            "read the tickets' dated facts for the KPIs", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_ticket_mark_row m = {
            .ticket_id = kwp_col_int(res, r, 0),
            .seq = kwp_col_int(res, r, 1),
            .at = kwp_col_int(res, r, 2),
            .kind = (enum kw_ticket_fact)kwp_col_int(res, r, 3),
            .satisfaction = (int)kwp_col_int(res, r, 4),
            .nps = (int)kwp_col_int(res, r, 5),
            .seconds = kwp_col_int(res, r, 6),
            .team_id = kwp_col_int(res, r, 7),
        };
        if (!fn(&m, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_ticket_facts(struct kw_store *st, enum kw_ticket_fact kind, int64_t from,
                                   int64_t to, int64_t org_id,
                                   bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                   void *ctx, struct kw_err *err)
{
    static const enum pgs of[] = {
        [KW_TF_CREATED] = PGS_TF_CREATED,   [KW_TF_RESOLVED] = PGS_TF_RESOLVED,
        [KW_TF_REOPENED] = PGS_TF_REOPENED, [KW_TF_RATED] = PGS_TF_RATED,
        [KW_TF_OPEN] = PGS_TF_OPEN,         [KW_TF_TIME] = PGS_TF_TIME};
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, from);
    kwp_int(&p, to);
    kwp_int(&p, org_id);
    PGresult *res = kwp_run(st, of[kind], &p, "read tickets for the KPIs", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_ticket_fact_row t;
        read_fact(res, r, &t);
        if (PQnfields(res) > 15) { /* time entries */
            t.seconds = kwp_col_int(res, r, 14);
            t.entry_team_id = kwp_col_int(res, r, 15);
        }
        if (!fn(&t, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}
