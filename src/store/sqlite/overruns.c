// SPDX-License-Identifier: MIT
/* Overruns (超时处理): one record per breached clock run, explained to the
 * customer and followed up to done. */
#include "sqlite_int.h"

enum stmt {
    S_OVERRUN_ADD,
    S_OVERRUN_STOP,
    S_OVERRUNS,
    S_OVERRUNS_TICKET,
    S_OVERRUN_EXPLAIN,
    S_OVERRUN_FOLLOW,
    S_OVERRUN_REASONS,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_OVERRUN_ADD] = "INSERT INTO overruns(ticket_id, org_id, commitment_id, metric, deadline,"
                      " recorded_at) VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6)"
                      " ON CONFLICT DO NOTHING",
    [S_OVERRUN_STOP] = "UPDATE overruns SET stopped_at = ?3 WHERE ticket_id = ?1 AND metric = ?2"
                       " AND stopped_at IS NULL",
#define OVERRUN_COLS                                                                               \
    "SELECT id, ticket_id, org_id, coalesce(commitment_id, 0), metric, deadline, stopped_at,"      \
    " recorded_at, reason, note, explained_at, rca, action, coalesce(owner_id, 0), due, done_at,"  \
    " coalesce(loss, -1) FROM overruns"
#define OVERRUN_FILTER                                                                             \
    " id > ?1 AND (?2 = 0 OR org_id = ?2) AND (?3 = 0 OR ticket_id = ?3)"                          \
    " AND (?4 IS NULL OR metric = ?4) AND (?5 IS NULL OR (?5 = 'open' AND reason"                  \
    " IS NULL) OR (?5 = 'explained' AND reason IS NOT NULL AND done_at IS NULL)"                   \
    " OR (?5 = 'done' AND done_at IS NOT NULL)) AND (?6 = 0 OR id = ?6) ORDER BY id LIMIT ?7"
    [S_OVERRUNS] = OVERRUN_COLS " WHERE" OVERRUN_FILTER,
    /* one ticket's on the (ticket_id, metric, deadline) index: the filter
     * above alone walks the table by id for each (a report or the breaches
     * list asks once per late run) */
    [S_OVERRUNS_TICKET] = OVERRUN_COLS " WHERE ticket_id = ?3 AND" OVERRUN_FILTER,
    [S_OVERRUN_EXPLAIN] = "UPDATE overruns SET reason = ?2, note = ?3, explained_by = ?4,"
                          " explained_at = ?5 WHERE id = ?1",
    [S_OVERRUN_FOLLOW] = "UPDATE overruns SET rca = coalesce(?2, rca), action = coalesce(?3,"
                         " action), owner_id = coalesce(nullif(?4, 0), owner_id),"
                         " due = coalesce(?5, due), done_at = CASE WHEN ?6 THEN"
                         " coalesce(done_at, ?7) ELSE done_at END WHERE id = ?1",
    /* a range of the (ticket_id, metric, deadline) index, in its order */
    [S_OVERRUN_REASONS] = "SELECT ticket_id, metric, deadline, reason FROM overruns"
                          " WHERE ticket_id >= ?1 AND ticket_id <= ?2 AND reason IS NOT NULL"
                          " ORDER BY ticket_id, metric, deadline",
};

const struct kws_catalogue kws_overruns_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_OVERRUNS, (int)s);
}

static void read_overrun(sqlite3_stmt *x, struct kw_overrun_row *out)
{
    *out = (struct kw_overrun_row){
        .id = sqlite3_column_int64(x, 0),
        .ticket_id = sqlite3_column_int64(x, 1),
        .org_id = sqlite3_column_int64(x, 2),
        .commitment_id = sqlite3_column_int64(x, 3),
        .metric = (const char *)sqlite3_column_text(x, 4),
        .deadline = sqlite3_column_int64(x, 5),
        .stopped_at = column_instant(x, 6),
        .recorded_at = sqlite3_column_int64(x, 7),
        .reason = (const char *)sqlite3_column_text(x, 8),
        .note = (const char *)sqlite3_column_text(x, 9),
        .explained_at = column_instant(x, 10),
        .rca = (const char *)sqlite3_column_text(x, 11),
        .action = (const char *)sqlite3_column_text(x, 12),
        .owner_id = sqlite3_column_int64(x, 13),
        .due = column_instant(x, 14),
        .done_at = column_instant(x, 15),
        .loss = sqlite3_column_int64(x, 16),
    };
}
KWS_ROW_MAPPER(read_overrun, struct kw_overrun_row)

enum kw_code kw_store_overrun_add(struct kw_store *st, int64_t ticket, int64_t org_id,
                                  int64_t commitment_id, const char *metric, int64_t deadline,
                                  int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_ADD);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, org_id);
    sqlite3_bind_int64(x, 3, commitment_id);
    bind_text(x, 4, metric);
    sqlite3_bind_int64(x, 5, deadline);
    sqlite3_bind_int64(x, 6, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "record an overrun");
}

enum kw_code kw_store_overrun_stop(struct kw_store *st, int64_t ticket, const char *metric,
                                   int64_t stopped_at, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_STOP);
    sqlite3_bind_int64(x, 1, ticket);
    bind_text(x, 2, metric);
    sqlite3_bind_int64(x, 3, stopped_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "close an overrun");
}

enum kw_code kw_store_overruns(struct kw_store *st, const struct kw_overrun_filter *f,
                               bool (*fn)(const struct kw_overrun_row *r, void *ctx), void *ctx,
                               struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, f->ticket_id ? S_OVERRUNS_TICKET : S_OVERRUNS);
    sqlite3_bind_int64(x, 1, f->after);
    sqlite3_bind_int64(x, 2, f->org_id);
    sqlite3_bind_int64(x, 3, f->ticket_id);
    bind_text(x, 4, f->metric);
    bind_text(x, 5, f->state);
    sqlite3_bind_int64(x, 6, f->id);
    sqlite3_bind_int64(x, 7, (sqlite3_int64)(f->limit ? f->limit : 100));
    return EACH_ROW(st, x, read_overrun, fn, ctx, "list overruns", err);
}

static void read_reason(sqlite3_stmt *x, struct kw_overrun_row *out)
{
    *out = (struct kw_overrun_row){
        .ticket_id = sqlite3_column_int64(x, 0),
        .metric = (const char *)sqlite3_column_text(x, 1),
        .deadline = sqlite3_column_int64(x, 2),
        .reason = (const char *)sqlite3_column_text(x, 3),
        .stopped_at = KW_STORE_NO_TIME,
        .explained_at = KW_STORE_NO_TIME,
        .due = KW_STORE_NO_TIME,
        .done_at = KW_STORE_NO_TIME,
        .loss = -1,
    };
}
KWS_ROW_MAPPER(read_reason, struct kw_overrun_row)

enum kw_code kw_store_overrun_reasons(struct kw_store *st, int64_t first_ticket,
                                      int64_t last_ticket,
                                      bool (*fn)(const struct kw_overrun_row *r, void *ctx),
                                      void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_REASONS);
    sqlite3_bind_int64(x, 1, first_ticket);
    sqlite3_bind_int64(x, 2, last_ticket);
    return EACH_ROW(st, x, read_reason, fn, ctx, "list overrun reasons", err);
}

enum kw_code kw_store_overrun_explain(struct kw_store *st, int64_t id, const char *reason,
                                      const char *note, int64_t by, int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_EXPLAIN);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, reason);
    bind_text(x, 3, note);
    sqlite3_bind_int64(x, 4, by);
    sqlite3_bind_int64(x, 5, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "explain an overrun");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
}

enum kw_code kw_store_overrun_follow(struct kw_store *st, int64_t id,
                                     const struct kw_overrun_followup *f, int64_t now,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_FOLLOW);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, f->rca);
    bind_text(x, 3, f->action);
    sqlite3_bind_int64(x, 4, f->owner_id);
    bind_instant(x, 5, f->due);
    sqlite3_bind_int(x, 6, f->done);
    sqlite3_bind_int64(x, 7, now);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/owner_id", "owner_id: no user %lld",
                          (long long)f->owner_id);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "record a follow-up");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
}
