// SPDX-License-Identifier: MIT
/* KPI facts: one row per clock run (kpi_runs, migration 017), replaced per
 * ticket in the transaction that projects its clocks; a new ticket's are
 * held until that transaction's commit (kws_runs_flush). */
#include "sqlite_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw_buf.h"

enum stmt {
    S_RUNS_DEL,
    S_RUN_ADD,
    S_RUN_ADD3,
    S_RUNS_HELD_1,
    S_RUNS_HELD_4,
    S_RUNS_HELD_16,
    S_RUNS_SHARED_2,
    S_RUNS_SHARED_2X4,
    S_RUNS_SHARED_3,
    S_RUNS_SHARED_3X4,
    S_RUN_PUT,
    S_RUNS_STORED,
    S_RUN_MEASURE,
    S_RUNS_PERIOD,
    S_RUNS_PERIOD_ANY,
    S_RUNS_TICKET,
    S_RUNS_ALL,
    S_TF_CREATED,
    S_TF_RESOLVED,
    S_TF_REOPENED,
    S_TF_RATED,
    S_TF_OPEN,
    S_TF_TIME,
    S_TF_BACKLOG,
    S_TICKET_STATES,
    S_TICKET_MARKS,
    S_TICKET_MARKS_ALL,
    S_TEAM_COSTS,
    S_TEAM_COST_SET,
    S_TEAM_COST_CLEAR,
    S_TEAM_EXISTS,
    S_COUNT
};

#define TF_COLS                                                                                    \
    "t.id, t.org_id, coalesce(t.commitment_id, 0), coalesce(t.team_id, 0),"                        \
    " coalesce(t.assignee_id, 0), t.level, t.tier, o.name, t.category, t.region, t.channel"
/* rated: the rating's satisfaction and nps; the others have none (0, -1),
 * so their bodies are not parsed for them */
#define TF_RATING                                                                                  \
    "coalesce(json_extract(e.body, '$.satisfaction'), 0), coalesce(json_extract(e.body, '$.nps')," \
    " -1)"
#define TF_EVENTS(type, rating)                                                                    \
    "SELECT " TF_COLS ", e.at, " rating " FROM events e JOIN tickets t"                            \
    " ON t.id = e.ticket_id JOIN orgs o ON o.id = t.org_id WHERE e.type = '" type "'"              \
    " AND e.at >= ?1 AND e.at < ?2 AND (?3 = 0 OR t.org_id = ?3)"
#define TF_FROM " FROM tickets t JOIN orgs o ON o.id = t.org_id"
/* the state at `end` by the events before it (a reopening without one:
 * handling), from kpi_states (migration 037), which holds it per event */
#define TF_STATE_AT_END(end)                                                                       \
    "coalesce((SELECT s.state FROM kpi_states s WHERE s.ticket_id = t.id AND s.at < " end          \
    " ORDER BY s.seq DESC LIMIT 1), 'registered')"
#define TF_STATE_AT TF_STATE_AT_END("?2")
#define TF_OPEN_STATES "('registered', 'analysing', 'handling', 'waiting_customer')"

/* the time entries (not corrections) with their latest correction's seconds */
#define MARKS_TIME                                                                                 \
    "SELECT e.ticket_id, e.seq, e.at, 5, 0, -1, coalesce((SELECT json_extract(c.body,"             \
    " '$.seconds') FROM events c WHERE c.ticket_id = e.ticket_id AND c.type = 'time_spent' AND"    \
    " json_extract(c.body, '$.corrects') = e.seq ORDER BY c.seq DESC LIMIT 1),"                    \
    " json_extract(e.body, '$.seconds'), 0), coalesce(json_extract(e.body, '$.team_id'), 0)"       \
    " FROM events e WHERE e.type = 'time_spent' AND json_extract(e.body, '$.corrects') IS NULL"

#define RUN_COLS                                                                                   \
    "ticket_id, metric, run, org_id, coalesce(commitment_id, 0), status, started_at, stopped_at,"  \
    " deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from,"        \
    " coalesce(team_id, 0), coalesce(assignee_id, 0), calendar, level, tier, organisation,"        \
    " category, region, channel"

#define RUNS_IN_PERIOD                                                                             \
    "(?3 = 0 OR org_id = ?3) AND ((stopped_at >= ?1 AND stopped_at < ?2) OR (breached_at >= ?1"    \
    " AND breached_at < ?2 AND (stopped_at IS NULL OR stopped_at >= ?2)) OR (stopped_at IS NULL"   \
    " AND breached_at IS NULL AND deadline >= ?1 AND deadline < ?2 AND deadline < ?4))"

/* a run's row: its ticket's organisation and commitment version taken from
 * the ticket */
#define RUN_ROW                                                                                    \
    "kpi_runs(ticket_id, metric, run, org_id, commitment_id, status,"                              \
    " started_at, stopped_at, deadline, breached_at, target, working, wall,"                       \
    " paused_wall, measured_at, steady_from, team_id, assignee_id, calendar, level, tier,"         \
    " organisation, category, region, channel) SELECT ?1, ?2, ?3, t.org_id,"                       \
    " t.commitment_id, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?23, nullif(?14, 0),"           \
    " nullif(?15, 0), ?16, ?17, ?18, ?19, ?20, ?21, ?22 FROM tickets t WHERE t.id = ?1"

/* the runs held for the commit (kws_runs_flush): 1, 4 and 16 rows a
 * statement; OR FAIL, since a failure fails the commit anyway: a
 * statement of many rows that could abort would copy each page it changes
 * into the statement journal first */
#define HELD_INSERT                                                                                \
    "INSERT OR FAIL INTO kpi_runs(ticket_id, metric, run, org_id, commitment_id, status,"          \
    " started_at, stopped_at, deadline, breached_at, target, working, wall, paused_wall,"          \
    " measured_at, steady_from, team_id, assignee_id, calendar, level, tier, organisation,"        \
    " category, region, channel) VALUES "
#define HELD_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define HELD_PARAMS 25 /* a row's */
#define HELD_ROW4 HELD_ROW ", " HELD_ROW ", " HELD_ROW ", " HELD_ROW
#define HELD_ROW16 HELD_ROW4 ", " HELD_ROW4 ", " HELD_ROW4 ", " HELD_ROW4

/* A new ticket's two or three runs that differ only in their metric,
 * deadline and target (the usual first runs: each clock started at the
 * create, on the ticket's calendar), with the other 22 columns bound once
 * for all of them: a parameter bound costs 67 (NULL) to 199 (text)
 * instructions, and a ticket's 75 were a quarter of what writing its runs
 * cost (#20). Ticket t of a statement (0-3) has parameters ?t10 .. ?t31
 * for the shared columns and ?tr1 .. ?tr3 for run r's own (r 4-6: metric,
 * deadline, target); ?010 is ?10. */
#define SP(t, c) "?" #t #c
#define SHARED_A(t, r) SP(t, 10) ", " SP(t, r##1) ", " SP(t, 11) ", " SP(t, 12) ", " SP(t, 13)
#define SHARED_B(t, r) SP(t, 14) ", " SP(t, 15) ", " SP(t, 16) ", " SP(t, r##2) ", " SP(t, 17)
#define SHARED_C(t, r) SP(t, r##3) ", " SP(t, 18) ", " SP(t, 19) ", " SP(t, 20) ", " SP(t, 21)
#define SHARED_D(t) SP(t, 22) ", " SP(t, 23) ", " SP(t, 24) ", " SP(t, 25) ", " SP(t, 26)
#define SHARED_E(t) SP(t, 27) ", " SP(t, 28) ", " SP(t, 29) ", " SP(t, 30) ", " SP(t, 31)
#define SHARED_ROW(t, r)                                                                           \
    "(" SHARED_A(t, r) ", " SHARED_B(t, r) ", " SHARED_C(t, r) ", " SHARED_D(t) ", " SHARED_E(t) ")"
#define SHARED_2(t) SHARED_ROW(t, 4) ", " SHARED_ROW(t, 5)
#define SHARED_3(t) SHARED_2(t) ", " SHARED_ROW(t, 6)
enum { SHARED_MAX = 3, SHARED_TICKETS = 4 }; /* runs a ticket, tickets a statement */

static const char *const sql[S_COUNT] = {
    [S_RUNS_DEL] = "DELETE FROM kpi_runs WHERE ticket_id = ?1",
    [S_RUN_ADD] = "INSERT INTO " RUN_ROW,
    /* a new ticket's runs three at a time (its usual three clocks): one
     * statement's start and end instead of three; row j's parameters are
     * S_RUN_ADD's ?2 .. ?23 moved by 22 * j (a compound SELECT, run as a
     * coroutine: VALUES joined with tickets would be copied into a
     * temporary table first, which costs more than the statements saved) */
    [S_RUN_ADD3] =
        "INSERT INTO kpi_runs(ticket_id, metric, run, org_id, commitment_id, status, started_at, "
        "stopped_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, "
        "steady_from, team_id, assignee_id, calendar, level, tier, organisation, category, "
        "region, channel) SELECT ?1, ?2, ?3, t.org_id, t.commitment_id, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11, ?12, ?13, ?23, nullif(?14, 0), nullif(?15, 0), ?16, ?17, ?18, ?19, ?20, ?21, "
        "?22 FROM tickets t WHERE t.id = ?1 UNION ALL SELECT ?1, ?24, ?25, t.org_id, "
        "t.commitment_id, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?45, nullif(?36, 0), "
        "nullif(?37, 0), ?38, ?39, ?40, ?41, ?42, ?43, ?44 FROM tickets t WHERE t.id = ?1 UNION "
        "ALL SELECT ?1, ?46, ?47, t.org_id, t.commitment_id, ?48, ?49, ?50, ?51, ?52, ?53, ?54, "
        "?55, ?56, ?57, ?67, nullif(?58, 0), nullif(?59, 0), ?60, ?61, ?62, ?63, ?64, ?65, ?66 "
        "FROM tickets t WHERE t.id = ?1",
    [S_RUNS_HELD_1] = HELD_INSERT HELD_ROW,
    [S_RUNS_HELD_4] = HELD_INSERT HELD_ROW4,
    [S_RUNS_HELD_16] = HELD_INSERT HELD_ROW16,
    [S_RUNS_SHARED_2] = HELD_INSERT SHARED_2(0),
    [S_RUNS_SHARED_2X4] =
        HELD_INSERT SHARED_2(0) ", " SHARED_2(1) ", " SHARED_2(2) ", " SHARED_2(3),
    [S_RUNS_SHARED_3] = HELD_INSERT SHARED_3(0),
    [S_RUNS_SHARED_3X4] =
        HELD_INSERT SHARED_3(0) ", " SHARED_3(1) ", " SHARED_3(2) ", " SHARED_3(3),
    /* the same, over a stored run whose indexed instants moved */
    [S_RUN_PUT] = "INSERT OR REPLACE INTO " RUN_ROW,
    /* what kw_store_runs_put compares with (the last column: the ticket's
     * organisation and commitment are still the row's) */
    [S_RUNS_STORED] = "SELECT k.metric, k.run, k.status, k.started_at, k.stopped_at, k.deadline,"
                      " k.breached_at, k.target, k.working, k.wall, k.paused_wall, k.measured_at,"
                      " coalesce(k.team_id, 0), coalesce(k.assignee_id, 0), k.calendar, k.level,"
                      " k.tier, k.organisation, k.category, k.region, k.channel, k.steady_from,"
                      " k.org_id = t.org_id AND k.commitment_id IS t.commitment_id FROM kpi_runs k"
                      " JOIN tickets t ON t.id = k.ticket_id WHERE k.ticket_id = ?1",
    /* a run whose indexed columns (stopped_at, breached_at, deadline) and
     * ticket stay: the same numbered parameters as S_RUN_ADD, and no index
     * to update (SQLite leaves an index alone when no column it holds or
     * its WHERE reads is set) */
    [S_RUN_MEASURE] = "UPDATE kpi_runs SET status = ?4, started_at = ?5, target = ?9,"
                      " working = ?10, wall = ?11, paused_wall = ?12, measured_at = ?13,"
                      " team_id = nullif(?14, 0), assignee_id = nullif(?15, 0), calendar = ?16,"
                      " level = ?17, tier = ?18, organisation = ?19, category = ?20, region = ?21,"
                      " channel = ?22, steady_from = ?23 WHERE ticket_id = ?1 AND metric = ?2"
                      " AND run = ?3",
    /* three ranges; the open runs have no index since migration 043, so
     * the plan is one scan of the table in its key's order (no sort) */
    [S_RUNS_PERIOD] = "SELECT " RUN_COLS " FROM kpi_runs WHERE " RUNS_IN_PERIOD
                      " ORDER BY ticket_id, metric, run",
    /* the same in index order: no temporary B-tree to sort (half the
     * statement's time on a month of 1,000,000 tickets), and as three
     * disjoint ranges one after the other (stopped in the period; breached
     * in it and not stopped in it or before; neither), not one OR, whose
     * plan keeps every run's key in a temporary B-tree to list it once: a
     * quarter less CPU on a month of 1,000,000 tickets. The third, the open
     * runs past their deadline whose breach is not recorded yet, scans the
     * table (migration 043 dropped their index, which had an entry for
     * each of a new ticket's runs: 0.1 s more for a month of bench_kpi's
     * 1,000,000 tickets) */
    [S_RUNS_PERIOD_ANY] =
        "SELECT " RUN_COLS " FROM kpi_runs WHERE (?3 = 0 OR org_id = ?3) AND stopped_at >= ?1"
        " AND stopped_at < ?2 UNION ALL SELECT " RUN_COLS " FROM kpi_runs WHERE (?3 = 0 OR"
        " org_id = ?3) AND breached_at >= ?1 AND breached_at < ?2 AND (stopped_at IS NULL OR"
        " stopped_at >= ?2) UNION ALL SELECT " RUN_COLS " FROM kpi_runs WHERE (?3 = 0 OR"
        " org_id = ?3) AND stopped_at IS NULL AND breached_at IS NULL AND deadline >= ?1 AND"
        " deadline < ?2 AND deadline < ?4",
    [S_TF_CREATED] = "SELECT " TF_COLS ", t.created_at, 0, -1" TF_FROM
                     " WHERE t.created_at >= ?1 AND t.created_at < ?2 AND (?3 = 0 OR t.org_id = ?3)"
                     " ORDER BY t.id",
    /* the resolved milestones by time from their own table (kpi_resolved,
     * migration 037), which holds the ticket: no event is read */
    [S_TF_RESOLVED] = "SELECT " TF_COLS ", r.at, 0, -1 FROM kpi_resolved r JOIN tickets t"
                      " ON t.id = r.ticket_id JOIN orgs o ON o.id = t.org_id WHERE r.at >= ?1"
                      " AND r.at < ?2 AND (?3 = 0 OR t.org_id = ?3) ORDER BY t.id, r.at",
    [S_TF_REOPENED] = TF_EVENTS("reopened", "0, -1") " ORDER BY t.id, e.at",
    [S_TF_RATED] = TF_EVENTS("rating", TF_RATING) " ORDER BY t.id, e.at",
    /* a ticket closed now whose last event came before ?2 was closed then
     * (+: a scan, not a range of tickets_by_created holding nearly all) */
    [S_TF_OPEN] = "SELECT " TF_COLS ", t.created_at, 0, -1" TF_FROM
                  " WHERE +t.created_at < ?2 AND (?3 = 0 OR t.org_id = ?3) AND (t.state IN"
                  " ('registered', 'analysing', 'handling', 'waiting_customer') OR t.updated_at"
                  " >= ?2) AND " TF_STATE_AT
                  " IN ('registered', 'analysing', 'handling', 'waiting_customer') ORDER BY t.id",
    /* each entry at its own instant, with its latest correction's seconds */
    [S_TF_TIME] = "SELECT " TF_COLS ", e.at, 0, -1, coalesce((SELECT json_extract(c.body,"
                  " '$.seconds') FROM events c WHERE c.ticket_id = e.ticket_id AND c.type ="
                  " 'time_spent' AND json_extract(c.body, '$.corrects') = e.seq ORDER BY c.seq"
                  " DESC LIMIT 1), json_extract(e.body, '$.seconds'), 0),"
                  " coalesce(json_extract(e.body, '$.team_id'), 0) FROM events e JOIN tickets t"
                  " ON t.id = e.ticket_id JOIN orgs o ON o.id = t.org_id WHERE e.type ="
                  " 'time_spent' AND e.at >= ?1 AND e.at < ?2 AND (?3 = 0 OR t.org_id = ?3)"
                  " AND json_extract(e.body, '$.corrects') IS NULL ORDER BY t.id, e.at",
    /* S_TF_OPEN at each end of the JSON array ?4 (?1: the first, ?2: the
     * last), in one scan of the tickets: a ticket closed now and last
     * changed before the first end, or created after the last, is passed
     * over once, not once an end */
    [S_TF_BACKLOG] = "WITH b(e) AS MATERIALIZED (SELECT value FROM json_each(?4)) SELECT " TF_COLS
                     ", t.created_at, 0, -1, b.e FROM tickets t JOIN orgs o ON o.id = t.org_id"
                     " CROSS JOIN b WHERE +t.created_at < ?2 AND (?3 = 0 OR t.org_id = ?3) AND"
                     " (t.state IN " TF_OPEN_STATES " OR t.updated_at >= ?1) AND t.created_at <"
                     " b.e AND (t.state IN " TF_OPEN_STATES
                     " OR t.updated_at >= b.e) AND " TF_STATE_AT_END("b.e") " IN " TF_OPEN_STATES
                                                                            " ORDER BY t.id",
    /* a page of tickets by id with their states (app/kpi_cache.c) */
    [S_TICKET_STATES] = "SELECT " TF_COLS ", t.created_at, 0, -1, t.updated_at, CASE WHEN t.state"
                        " IN " TF_OPEN_STATES " THEN 1 ELSE 0 END, s.at, CASE WHEN s.state IS"
                        " NULL OR s.state IN " TF_OPEN_STATES " THEN 1 ELSE 0 END FROM (SELECT *"
                        " FROM tickets WHERE id > ?1 ORDER BY id LIMIT ?2) t JOIN orgs o ON"
                        " o.id = t.org_id LEFT JOIN kpi_states s ON s.ticket_id = t.id"
                        " ORDER BY t.id, s.seq",
    /* one ticket's dated facts from its events (on the primary key; a
     * resolved milestone as kpi_resolved holds it), as S_TF_RESOLVED,
     * S_TF_REOPENED, S_TF_RATED and S_TF_TIME give them (app/kpi_cache.c);
     * the kinds are enum kw_ticket_fact's numbers */
    [S_TICKET_MARKS] =
        "SELECT ticket_id, seq, at, 1, 0, -1, 0, 0 FROM events WHERE ticket_id = ?1 AND type ="
        " 'milestone' AND json_extract(body, '$.milestone') = 'resolved' UNION ALL SELECT"
        " ticket_id, seq, at, 2, 0, -1, 0, 0 FROM events WHERE ticket_id = ?1 AND type ="
        " 'reopened' UNION ALL SELECT ticket_id, seq, at, 3, " TF_RATING ", 0, 0 FROM events e"
        " WHERE ticket_id = ?1 AND type = 'rating' UNION ALL " MARKS_TIME " AND e.ticket_id = ?1"
        " ORDER BY 4, 3, 2",
    /* every ticket's, each kind from its own index (kpi_resolved, the
     * partial indexes of migrations 017 and 024) */
    [S_TICKET_MARKS_ALL] = "SELECT ticket_id, seq, at, 1, 0, -1, 0, 0 FROM kpi_resolved UNION ALL"
                           " SELECT ticket_id, seq, at, 2, 0, -1, 0, 0 FROM events WHERE type ="
                           " 'reopened' UNION ALL SELECT ticket_id, seq, at, 3, " TF_RATING
                           ", 0, 0 FROM events e WHERE type = 'rating' UNION ALL " MARKS_TIME,
    [S_TEAM_COSTS] = "SELECT t.id, t.name, c.hourly_minor, c.currency, c.set_at, c.set_by"
                     " FROM teams t LEFT JOIN team_costs c ON c.team_id = t.id ORDER BY t.name",
    [S_TEAM_COST_SET] = "INSERT INTO team_costs(team_id, hourly_minor, currency, set_at, set_by)"
                        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(team_id) DO UPDATE SET"
                        " hourly_minor = ?2, currency = ?3, set_at = ?4, set_by = ?5",
    [S_TEAM_COST_CLEAR] = "DELETE FROM team_costs WHERE team_id = ?1",
    [S_TEAM_EXISTS] = "SELECT 1 FROM teams WHERE id = ?1",
    [S_RUNS_TICKET] = "SELECT " RUN_COLS " FROM kpi_runs WHERE ticket_id = ?1"
                      " ORDER BY ticket_id, metric, run",
    /* a page of every run, on the primary key (app/kpi_cache.c) */
    [S_RUNS_ALL] = "SELECT " RUN_COLS " FROM kpi_runs WHERE ticket_id > ?1"
                   " ORDER BY ticket_id, metric, run LIMIT ?2",
};

const struct kws_catalogue kws_kpi_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_KPI, (int)s);
}

/* For a statement whose parameters are all bound before each step. */
static sqlite3_stmt *bound(struct kw_store *st, enum stmt s)
{
    return kws_prep_bound(st, KWS_KPI, (int)s);
}

static void read_run(sqlite3_stmt *x, struct kw_run_row *out)
{
    *out = (struct kw_run_row){
        .ticket_id = sqlite3_column_int64(x, 0),
        .metric = column_text(x, 1),
        .run = sqlite3_column_int64(x, 2),
        .org_id = sqlite3_column_int64(x, 3),
        .commitment_id = sqlite3_column_int64(x, 4),
        .status = column_text(x, 5),
        .started_at = sqlite3_column_int64(x, 6),
        .stopped_at = column_instant(x, 7),
        .deadline = column_instant(x, 8),
        .breached_at = column_instant(x, 9),
        .target = sqlite3_column_int64(x, 10),
        .working = sqlite3_column_int64(x, 11),
        .wall = sqlite3_column_int64(x, 12),
        .paused_wall = sqlite3_column_int64(x, 13),
        .measured_at = sqlite3_column_int64(x, 14),
        .steady_from = sqlite3_column_int64(x, 15),
        .team_id = sqlite3_column_int64(x, 16),
        .assignee_id = sqlite3_column_int64(x, 17),
        .calendar = column_text(x, 18),
        .level = column_text(x, 19),
        .tier = column_text(x, 20),
        .organisation = column_text(x, 21),
        .category = column_text(x, 22),
        .region = column_text(x, 23),
        .channel = column_text(x, 24),
    };
}
KWS_ROW_MAPPER(read_run, struct kw_run_row)

static bool text_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* What stored row x (S_RUNS_STORED) needs to become r. */
enum run_write { RUN_KEEP, RUN_MEASURE, RUN_REPLACE };

static enum run_write run_diff(sqlite3_stmt *x, const struct kw_run_row *r)
{
    if (!sqlite3_column_int(x, 22) || column_instant(x, 4) != r->stopped_at ||
        column_instant(x, 5) != r->deadline || column_instant(x, 6) != r->breached_at)
        return RUN_REPLACE;
    bool same =
        text_same(column_text(x, 2), r->status) && sqlite3_column_int64(x, 3) == r->started_at &&
        sqlite3_column_int64(x, 7) == r->target && sqlite3_column_int64(x, 8) == r->working &&
        sqlite3_column_int64(x, 9) == r->wall && sqlite3_column_int64(x, 10) == r->paused_wall &&
        sqlite3_column_int64(x, 11) == r->measured_at &&
        sqlite3_column_int64(x, 12) == r->team_id &&
        sqlite3_column_int64(x, 13) == r->assignee_id &&
        text_same(column_text(x, 14), r->calendar) && text_same(column_text(x, 15), r->level) &&
        text_same(column_text(x, 16), r->tier) && text_same(column_text(x, 17), r->organisation) &&
        text_same(column_text(x, 18), r->category) && text_same(column_text(x, 19), r->region) &&
        text_same(column_text(x, 20), r->channel) && sqlite3_column_int64(x, 21) == r->steady_from;
    return same ? RUN_KEEP : RUN_MEASURE;
}

/* A run's strings (KWS_RUN_TEXTS), in kws_held_run.text's order. */
static const size_t run_texts[KWS_RUN_TEXTS] = {
    offsetof(struct kw_run_row, metric),   offsetof(struct kw_run_row, status),
    offsetof(struct kw_run_row, calendar), offsetof(struct kw_run_row, level),
    offsetof(struct kw_run_row, tier),     offsetof(struct kw_run_row, organisation),
    offsetof(struct kw_run_row, category), offsetof(struct kw_run_row, region),
    offsetof(struct kw_run_row, channel),
};

static const char *run_text(const struct kw_run_row *r, size_t i)
{
    return *(const char *const *)(const void *)((const char *)r + run_texts[i]);
}

static void run_text_clear(struct kw_run_row *r, size_t i)
{
    *(const char **)(void *)((char *)r + run_texts[i]) = NULL;
}

/* Hold the runs of a ticket this transaction just inserted (fresh_row: its
 * organisation and commitment) for its commit (#15): written one by one in
 * the unit, each new ticket's rows and their index entries were pages
 * copied into the unit's savepoint journal and a statement of their own,
 * about a third of what keeping the facts cost a create. */
static enum kw_code runs_hold(struct kw_store *st, int64_t ticket, const struct kw_run_row *rows,
                              size_t n, struct kw_err *err)
{
    if (!n)
        return KW_OK;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < KWS_RUN_TEXTS; j++) {
            const char *t = run_text(&rows[i], j);
            bytes += t ? strlen(t) + 1 : 0;
        }
    if (!kw_grow((void **)&st->runs, &st->cap_runs, st->n_runs + n, sizeof(*st->runs)) ||
        !kw_grow((void **)&st->run_text, &st->cap_run_text, st->n_run_text + bytes, 1))
        return kw_err_set(err, KW_NOMEM, "", "no memory for the ticket's clock runs");
    int64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        struct kws_held_run *h = &st->runs[st->n_runs++];
        h->r = rows[i];
        h->r.ticket_id = ticket;
        h->r.org_id = st->fresh_row.org_id;
        h->r.commitment_id = st->fresh_row.commitment_id;
        for (size_t j = 0; j < KWS_RUN_TEXTS; j++) {
            const char *t = run_text(&h->r, j);
            h->text[j] = 0;
            if (i && j && t && text_same(t, run_text(&rows[i - 1], j))) {
                h->text[j] = h[-1].text[j]; /* held once: equal texts, equal offsets */
            } else if (t) {
                size_t len = strlen(t) + 1;
                memcpy(st->run_text + st->n_run_text, t, len);
                h->text[j] = st->n_run_text + 1;
                st->n_run_text += len;
            }
            run_text_clear(&h->r, j);
        }
        at = rows[i].measured_at > at ? rows[i].measured_at : at;
    }
    return kws_change_note(st, ticket, at, err);
}

/* Whether ticket has runs held and not written yet. */
static bool held(const struct kw_store *st, int64_t ticket)
{
    for (size_t i = st->runs_done; i < st->n_runs; i++)
        if (st->runs[i].r.ticket_id == ticket)
            return true;
    return false;
}

/* An id, 0 as NULL (none). */
static void bind_id(sqlite3_stmt *x, int i, int64_t id)
{
    if (id)
        sqlite3_bind_int64(x, i, id);
    else
        sqlite3_bind_null(x, i);
}

/* Bind held run h as the row whose first parameter is p + 1. */
static void bind_held(struct kw_store *st, sqlite3_stmt *x, int p, const struct kws_held_run *h)
{
    const char *t[KWS_RUN_TEXTS];
    for (size_t j = 0; j < KWS_RUN_TEXTS; j++)
        t[j] = h->text[j] ? st->run_text + h->text[j] - 1 : NULL;
    const struct kw_run_row *r = &h->r;
    sqlite3_bind_int64(x, p + 1, r->ticket_id);
    bind_text(x, p + 2, t[0]);
    sqlite3_bind_int64(x, p + 3, r->run);
    sqlite3_bind_int64(x, p + 4, r->org_id);
    bind_id(x, p + 5, r->commitment_id);
    bind_text(x, p + 6, t[1]);
    sqlite3_bind_int64(x, p + 7, r->started_at);
    bind_instant(x, p + 8, r->stopped_at);
    bind_instant(x, p + 9, r->deadline);
    bind_instant(x, p + 10, r->breached_at);
    sqlite3_bind_int64(x, p + 11, r->target);
    sqlite3_bind_int64(x, p + 12, r->working);
    sqlite3_bind_int64(x, p + 13, r->wall);
    sqlite3_bind_int64(x, p + 14, r->paused_wall);
    sqlite3_bind_int64(x, p + 15, r->measured_at);
    sqlite3_bind_int64(x, p + 16, r->steady_from);
    bind_id(x, p + 17, r->team_id);
    bind_id(x, p + 18, r->assignee_id);
    for (int j = 2; j < KWS_RUN_TEXTS; j++)
        bind_text(x, p + 17 + j, t[j]);
}

/* Whether held runs a and b (of one ticket) differ at most in their
 * metric, deadline and target: SHARED_ROW's shared columns. */
static bool shared_same(const struct kws_held_run *a, const struct kws_held_run *b)
{
    const struct kw_run_row *x = &a->r, *y = &b->r;
    for (size_t j = 1; j < KWS_RUN_TEXTS; j++) /* all but the metric: offsets (runs_hold) */
        if (a->text[j] != b->text[j])
            return false;
    return x->ticket_id == y->ticket_id && x->run == y->run && x->org_id == y->org_id &&
           x->commitment_id == y->commitment_id && x->started_at == y->started_at &&
           x->stopped_at == y->stopped_at && x->breached_at == y->breached_at &&
           x->working == y->working && x->wall == y->wall && x->paused_wall == y->paused_wall &&
           x->measured_at == y->measured_at && x->steady_from == y->steady_from &&
           x->team_id == y->team_id && x->assignee_id == y->assignee_id;
}

/* How many held runs from i make one SHARED_ROW group: 2 or 3 of one
 * ticket sharing their columns, all its runs from i (so that the ticket's
 * groups are the same however the batch falls), or 1. */
static size_t shared_group(const struct kw_store *st, size_t i)
{
    size_t g = 1;
    while (i + g < st->n_runs && st->runs[i + g].r.ticket_id == st->runs[i].r.ticket_id) {
        if (g == SHARED_MAX || !shared_same(&st->runs[i], &st->runs[i + g]))
            return 1;
        g++;
    }
    return g;
}

/* Bind held run h's shared columns for ticket t of a SHARED_* statement,
 * and those of its runs h[0 .. g). */
static void bind_shared(struct kw_store *st, sqlite3_stmt *x, int t, const struct kws_held_run *h,
                        size_t g)
{
    const char *s[KWS_RUN_TEXTS];
    for (size_t j = 0; j < KWS_RUN_TEXTS; j++)
        s[j] = h->text[j] ? st->run_text + h->text[j] - 1 : NULL;
    const struct kw_run_row *r = &h->r;
    int p = 100 * t;
    sqlite3_bind_int64(x, p + 10, r->ticket_id);
    sqlite3_bind_int64(x, p + 11, r->run);
    sqlite3_bind_int64(x, p + 12, r->org_id);
    bind_id(x, p + 13, r->commitment_id);
    bind_text(x, p + 14, s[1]);
    sqlite3_bind_int64(x, p + 15, r->started_at);
    bind_instant(x, p + 16, r->stopped_at);
    bind_instant(x, p + 17, r->breached_at);
    sqlite3_bind_int64(x, p + 18, r->working);
    sqlite3_bind_int64(x, p + 19, r->wall);
    sqlite3_bind_int64(x, p + 20, r->paused_wall);
    sqlite3_bind_int64(x, p + 21, r->measured_at);
    sqlite3_bind_int64(x, p + 22, r->steady_from);
    bind_id(x, p + 23, r->team_id);
    bind_id(x, p + 24, r->assignee_id);
    for (size_t j = 2; j < KWS_RUN_TEXTS; j++)
        bind_text(x, p + 23 + (int)j, s[j]);
    for (size_t k = 0; k < g; k++) {
        int q = p + 10 * (4 + (int)k);
        bind_text(x, q + 1, st->run_text + h[k].text[0] - 1);
        bind_instant(x, q + 2, h[k].r.deadline);
        sqlite3_bind_int64(x, q + 3, h[k].r.target);
    }
}

enum kw_code kws_runs_flush(struct kw_store *st, struct kw_err *err)
{
    while (st->runs_done < st->n_runs) {
        size_t i = st->runs_done, g = shared_group(st, i), k = 0;
        sqlite3_stmt *x;
        if (g > 1) { /* up to SHARED_TICKETS tickets of g runs each */
            size_t n = 1;
            while (n < SHARED_TICKETS && i + n * g < st->n_runs && shared_group(st, i + n * g) == g)
                n++;
            n = n == SHARED_TICKETS ? n : 1;
            x = bound(st, g == 2 ? (n > 1 ? S_RUNS_SHARED_2X4 : S_RUNS_SHARED_2)
                                 : (n > 1 ? S_RUNS_SHARED_3X4 : S_RUNS_SHARED_3));
            for (size_t t = 0; t < n; t++)
                bind_shared(st, x, (int)t, &st->runs[i + t * g], g);
            k = n * g;
        } else { /* runs of no group: 16, 4 or 1 a statement, as many as come */
            size_t left = 1;
            while (left < 16 && i + left < st->n_runs && shared_group(st, i + left) == 1)
                left++;
            k = left >= 16 ? 16 : left >= 4 ? 4 : 1;
            x = bound(st, k == 16 ? S_RUNS_HELD_16 : k == 4 ? S_RUNS_HELD_4 : S_RUNS_HELD_1);
            for (size_t j = 0; j < k; j++)
                bind_held(st, x, HELD_PARAMS * (int)j, &st->runs[i + j]);
        }
        int rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "store the new tickets' clock runs");
        st->runs_done += k;
    }
    if (!st->n_marks) /* no savepoint can take them out again */
        st->n_runs = st->runs_done = st->n_run_text = 0;
    return KW_OK;
}

#define RUNS_COMPARED 64 /* runs compared with what is stored; more are all written again */

enum kw_code kw_store_runs_put(struct kw_store *st, int64_t ticket, bool fresh,
                               const struct kw_run_row *rows, size_t n, struct kw_err *err)
{
    sqlite3_stmt *x;
    int rc = SQLITE_DONE;
    /* a ticket this transaction just inserted: its runs wait for the
     * commit; a ticket whose runs wait is written with them first */
    if (fresh && st->fresh_row.ticket == ticket) {
        st->fresh_row.ticket = 0; /* once */
        return runs_hold(st, ticket, rows, n, err);
    }
    if (held(st, ticket) && kws_runs_flush(st, err) != KW_OK)
        return err->code;
    /* Each projection of a ticket gives all its runs again, most of them
     * as stored or only measured later: a run stored as it would be
     * written is left alone, one measured again is updated without its
     * indexes, and only a run whose indexed instants moved is written
     * again. When a stored run is no longer given, all are replaced. */
    unsigned char how[RUNS_COMPARED];
    bool clear = !fresh;
    memset(how, RUN_REPLACE, sizeof(how));
    if (!fresh && n <= RUNS_COMPARED) {
        x = prep(st, S_RUNS_STORED);
        sqlite3_bind_int64(x, 1, ticket);
        clear = false;
        while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
            const char *metric = column_text(x, 0);
            int64_t run = sqlite3_column_int64(x, 1);
            size_t i = 0;
            while (i < n && !(rows[i].run == run && text_same(metric, rows[i].metric)))
                i++;
            if (i == n)
                clear = true; /* a run no longer given */
            else
                how[i] = (unsigned char)run_diff(x, &rows[i]);
        }
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "read the ticket's clock runs");
        if (clear)
            memset(how, RUN_REPLACE, sizeof(how));
    }
    if (clear) {
        x = prep(st, S_RUNS_DEL);
        sqlite3_bind_int64(x, 1, ticket);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    for (size_t i = 0; rc == SQLITE_DONE && i < n;) {
        enum run_write w = i < RUNS_COMPARED ? (enum run_write)how[i] : RUN_REPLACE;
        if (w == RUN_KEEP) {
            i++;
            continue;
        }
        /* a new ticket's runs in threes, in the same order */
        size_t k = fresh && n - i >= 3 ? 3 : 1;
        x = prep(st, k == 3             ? S_RUN_ADD3
                     : w == RUN_MEASURE ? S_RUN_MEASURE
                     : clear || fresh   ? S_RUN_ADD
                                        : S_RUN_PUT);
        sqlite3_bind_int64(x, 1, ticket);
        for (size_t j = 0; j < k; j++, i++) {
            const struct kw_run_row *r = &rows[i];
            int p = 22 * (int)j; /* S_RUN_ADD3's row j */
            bind_text(x, p + 2, r->metric);
            sqlite3_bind_int64(x, p + 3, r->run);
            bind_text(x, p + 4, r->status);
            sqlite3_bind_int64(x, p + 5, r->started_at);
            if (w == RUN_REPLACE) {
                bind_instant(x, p + 6, r->stopped_at);
                bind_instant(x, p + 7, r->deadline);
                bind_instant(x, p + 8, r->breached_at);
            }
            sqlite3_bind_int64(x, p + 9, r->target);
            sqlite3_bind_int64(x, p + 10, r->working);
            sqlite3_bind_int64(x, p + 11, r->wall);
            sqlite3_bind_int64(x, p + 12, r->paused_wall);
            sqlite3_bind_int64(x, p + 13, r->measured_at);
            sqlite3_bind_int64(x, p + 14, r->team_id);
            sqlite3_bind_int64(x, p + 15, r->assignee_id);
            bind_text(x, p + 16, r->calendar);
            bind_text(x, p + 17, r->level);
            bind_text(x, p + 18, r->tier);
            bind_text(x, p + 19, r->organisation);
            bind_text(x, p + 20, r->category);
            bind_text(x, p + 21, r->region);
            bind_text(x, p + 22, r->channel);
            sqlite3_bind_int64(x, p + 23, r->steady_from);
        }
        rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc == SQLITE_DONE && sqlite3_changes(st->db) == 0)
            return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    }
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "store the ticket's clock runs");
    /* written: the runs in memory (app/kpi_cache.c) follow the change log
     * (once per ticket and unit: nothing more on a create) */
    bool wrote = clear;
    for (size_t i = 0; i < n && !wrote; i++)
        wrote = i >= RUNS_COMPARED || how[i] != RUN_KEEP;
    int64_t at = 0;
    for (size_t i = 0; i < n; i++)
        at = rows[i].measured_at > at ? rows[i].measured_at : at;
    return wrote ? kws_change_note(st, ticket, at, err) : KW_OK;
}

enum kw_code kw_store_runs(struct kw_store *st, const struct kw_run_filter *f,
                           bool (*fn)(const struct kw_run_row *r, void *ctx), void *ctx,
                           struct kw_err *err)
{
    if (kws_runs_flush(st, err) != KW_OK) /* this transaction's are read too */
        return err->code;
    sqlite3_stmt *x;
    if (f->all) {
        x = prep(st, S_RUNS_ALL);
        sqlite3_bind_int64(x, 1, f->after_ticket);
        sqlite3_bind_int64(x, 2, f->limit ? (sqlite3_int64)f->limit : -1);
    } else if (f->ticket) {
        x = prep(st, S_RUNS_TICKET);
        sqlite3_bind_int64(x, 1, f->ticket);
    } else {
        x = prep(st, f->any_order ? S_RUNS_PERIOD_ANY : S_RUNS_PERIOD);
        sqlite3_bind_int64(x, 1, f->from);
        sqlite3_bind_int64(x, 2, f->to);
        sqlite3_bind_int64(x, 3, f->org_id);
        sqlite3_bind_int64(x, 4, f->now);
    }
    return EACH_ROW(st, x, read_run, fn, ctx, "read clock runs", err);
}

static void read_fact(sqlite3_stmt *x, struct kw_ticket_fact_row *out)
{
    *out = (struct kw_ticket_fact_row){
        .ticket_id = sqlite3_column_int64(x, 0),
        .org_id = sqlite3_column_int64(x, 1),
        .commitment_id = sqlite3_column_int64(x, 2),
        .team_id = sqlite3_column_int64(x, 3),
        .assignee_id = sqlite3_column_int64(x, 4),
        .level = column_text(x, 5),
        .tier = column_text(x, 6),
        .organisation = column_text(x, 7),
        .category = column_text(x, 8),
        .region = column_text(x, 9),
        .channel = column_text(x, 10),
        .at = sqlite3_column_int64(x, 11),
        .satisfaction = sqlite3_column_int(x, 12),
        .nps = sqlite3_column_int(x, 13),
    };
    if (sqlite3_column_count(x) > 15) { /* time entries */
        out->seconds = sqlite3_column_int64(x, 14);
        out->entry_team_id = sqlite3_column_int64(x, 15);
    }
}
KWS_ROW_MAPPER(read_fact, struct kw_ticket_fact_row)

enum kw_code kw_store_ticket_facts(struct kw_store *st, enum kw_ticket_fact kind, int64_t from,
                                   int64_t to, int64_t org_id,
                                   bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                   void *ctx, struct kw_err *err)
{
    static const enum stmt of[] = {
        [KW_TF_CREATED] = S_TF_CREATED,   [KW_TF_RESOLVED] = S_TF_RESOLVED,
        [KW_TF_REOPENED] = S_TF_REOPENED, [KW_TF_RATED] = S_TF_RATED,
        [KW_TF_OPEN] = S_TF_OPEN,         [KW_TF_TIME] = S_TF_TIME};
    sqlite3_stmt *x = prep(st, of[kind]);
    sqlite3_bind_int64(x, 1, from);
    sqlite3_bind_int64(x, 2, to);
    sqlite3_bind_int64(x, 3, org_id);
    return EACH_ROW(st, x, read_fact, fn, ctx, "read tickets for the KPIs", err);
}

enum kw_code kw_store_resolved_rebuild(struct kw_store *st, struct kw_err *err)
{
    if (sqlite3_exec(st->db,
                     "DELETE FROM kpi_resolved; INSERT INTO kpi_resolved(at, ticket_id, seq)"
                     " SELECT at, ticket_id, seq FROM events WHERE type = 'milestone' AND"
                     " json_extract(body, '$.milestone') = 'resolved'; DELETE FROM kpi_states;"
                     " INSERT INTO kpi_states(ticket_id, seq, at, state) SELECT ticket_id, seq,"
                     " at, CASE WHEN type = 'reopened' THEN coalesce(json_extract(body,"
                     " '$.state'), 'handling') ELSE json_extract(body, '$.state') END FROM events"
                     " WHERE type IN ('state', 'reopened')",
                     NULL, NULL, NULL) != SQLITE_OK)
        return kws_fail(st, err, "rebuild the tickets' KPI facts");
    return KW_OK;
}

static void read_backlog(sqlite3_stmt *x, struct kw_ticket_fact_row *out)
{
    read_fact(x, out);
    out->as_of = sqlite3_column_int64(x, 14);
}
KWS_ROW_MAPPER(read_backlog, struct kw_ticket_fact_row)

enum kw_code kw_store_ticket_backlog(struct kw_store *st, const int64_t *ends, size_t n,
                                     int64_t org_id,
                                     bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                     void *ctx, struct kw_err *err)
{
    if (n == 0)
        return KW_OK;
    if (n > KW_BACKLOG_ENDS_MAX)
        return kw_err_set(err, KW_INVALID, "", "at most %d ends", KW_BACKLOG_ENDS_MAX);
    char list[KW_BACKLOG_ENDS_MAX * 21 + 2];
    size_t len = 0;
    int64_t lo = ends[0], hi = ends[0];
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%c%lld", i ? ',' : '[',
                                (long long)ends[i]);
        lo = ends[i] < lo ? ends[i] : lo;
        hi = ends[i] > hi ? ends[i] : hi;
    }
    snprintf(list + len, sizeof(list) - len, "]");
    sqlite3_stmt *x = prep(st, S_TF_BACKLOG);
    sqlite3_bind_int64(x, 1, lo);
    sqlite3_bind_int64(x, 2, hi);
    sqlite3_bind_int64(x, 3, org_id);
    sqlite3_bind_text(x, 4, list, -1, SQLITE_TRANSIENT);
    return EACH_ROW(st, x, read_backlog, fn, ctx, "read the backlog for the KPIs", err);
}

static void read_state(sqlite3_stmt *x, struct kw_ticket_state_row *out)
{
    *out = (struct kw_ticket_state_row){0};
    read_fact(x, &out->t);
    out->t.seconds = out->t.entry_team_id = 0; /* (not time entries' columns) */
    out->updated_at = sqlite3_column_int64(x, 14);
    out->open = sqlite3_column_int(x, 15) != 0;
    out->state_at =
        sqlite3_column_type(x, 16) == SQLITE_NULL ? KW_STORE_NO_TIME : sqlite3_column_int64(x, 16);
    out->state_open = sqlite3_column_int(x, 17) != 0;
}
KWS_ROW_MAPPER(read_state, struct kw_ticket_state_row)

enum kw_code kw_store_ticket_states(struct kw_store *st, int64_t after, size_t limit,
                                    bool (*fn)(const struct kw_ticket_state_row *r, void *ctx),
                                    void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TICKET_STATES);
    sqlite3_bind_int64(x, 1, after);
    sqlite3_bind_int64(x, 2, limit ? (sqlite3_int64)limit : -1);
    return EACH_ROW(st, x, read_state, fn, ctx, "read the tickets' states for the KPIs", err);
}

_Static_assert(KW_TF_RESOLVED == 1 && KW_TF_REOPENED == 2 && KW_TF_RATED == 3 && KW_TF_TIME == 5,
               "S_TICKET_MARKS writes the kinds as numbers");

static void read_mark(sqlite3_stmt *x, struct kw_ticket_mark_row *out)
{
    *out = (struct kw_ticket_mark_row){
        .ticket_id = sqlite3_column_int64(x, 0),
        .seq = sqlite3_column_int64(x, 1),
        .at = sqlite3_column_int64(x, 2),
        .kind = (enum kw_ticket_fact)sqlite3_column_int(x, 3),
        .satisfaction = sqlite3_column_int(x, 4),
        .nps = sqlite3_column_int(x, 5),
        .seconds = sqlite3_column_int64(x, 6),
        .team_id = sqlite3_column_int64(x, 7),
    };
}
KWS_ROW_MAPPER(read_mark, struct kw_ticket_mark_row)

enum kw_code kw_store_ticket_marks(struct kw_store *st, int64_t ticket,
                                   bool (*fn)(const struct kw_ticket_mark_row *r, void *ctx),
                                   void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, ticket ? S_TICKET_MARKS : S_TICKET_MARKS_ALL);
    if (ticket)
        sqlite3_bind_int64(x, 1, ticket);
    return EACH_ROW(st, x, read_mark, fn, ctx, "read the tickets' dated facts for the KPIs", err);
}

enum kw_code kw_store_team_cost_set(struct kw_store *st, int64_t team_id, int64_t hourly_minor,
                                    const char *currency, int64_t by, int64_t now,
                                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TEAM_EXISTS);
    sqlite3_bind_int64(x, 1, team_id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no team %lld", (long long)team_id);
    if (rc != SQLITE_ROW)
        return kws_fail(st, err, "read team");
    x = prep(st, currency ? S_TEAM_COST_SET : S_TEAM_COST_CLEAR);
    sqlite3_bind_int64(x, 1, team_id);
    if (currency) {
        sqlite3_bind_int64(x, 2, hourly_minor);
        sqlite3_bind_text(x, 3, currency, -1, SQLITE_STATIC);
        sqlite3_bind_int64(x, 4, now);
        sqlite3_bind_int64(x, 5, by);
    }
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    sqlite3_clear_bindings(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "set team cost");
}

static void read_cost(sqlite3_stmt *x, struct kw_team_cost *out)
{
    *out = (struct kw_team_cost){
        .team_id = sqlite3_column_int64(x, 0),
        .team = column_text(x, 1),
        .hourly_minor = sqlite3_column_int64(x, 2),
        .currency = column_text(x, 3),
        .set_at = sqlite3_column_int64(x, 4),
        .set_by = sqlite3_column_int64(x, 5),
    };
}
KWS_ROW_MAPPER(read_cost, struct kw_team_cost)

enum kw_code kw_store_team_costs(struct kw_store *st,
                                 bool (*fn)(const struct kw_team_cost *r, void *ctx), void *ctx,
                                 struct kw_err *err)
{
    return EACH_ROW(st, prep(st, S_TEAM_COSTS), read_cost, fn, ctx, "list team costs", err);
}
