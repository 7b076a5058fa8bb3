// SPDX-License-Identifier: MIT
/* What the contract suite (tests/store/contract.c) does not say on SQLite:
 * migrations from an old schema, the change log's pruning and units, claims
 * of due work under a lease. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "merkle.h"
#include "store.h"
#include "store_int.h"
#include "sqlutil.h"
#include "testutil.h"
#include "writer.h"

struct fx {
    char dir[64], path[128];
    struct kw_store *st;
    int64_t org;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/kw-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/kw.db", f->dir);
    struct kw_err err = {0};
    f->st = kw_store_open(f->path, &err);
    if (!f->st)
        fail_msg("open: %s", err.msg);
    struct kw_org org = {.name = "Acme", .tier = "vip", .region = "domestic"};
    assert_int_equal(kw_store_org_insert(f->st, &org, 1, &f->org, &err), KW_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    kw_store_close(f->st);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static int64_t new_ticket(struct fx *f, const char *key, bool *existed)
{
    struct kw_ticket_new t = {.org_id = f->org,
                              .created_by = 7,
                              .title = "printer on fire",
                              .level = "L1",
                              .tier = "vip",
                              .idempotency_key = key,
                              .at = T("2026-03-02T01:00:00Z")};
    int64_t id = 0;
    bool e = false;
    struct kw_err err = {0};
    if (kw_store_ticket_create(f->st, &t, &id, existed ? existed : &e, &err) != KW_OK)
        fail_msg("create: %s", err.msg);
    return id;
}

static void test_migrations(void **state)
{
    struct fx *f = *state;
    assert_int_equal(kw_store_schema_version(f->st), kw_store_schema_latest());
    /* Reopening applies nothing twice and keeps the data. */
    kw_store_close(f->st);
    struct kw_err err = {0};
    f->st = kw_store_open(f->path, &err);
    assert_non_null(f->st);
    assert_int_equal(kw_store_schema_version(f->st), kw_store_schema_latest());
    struct kw_org dup = {.name = "Acme"};
    int64_t id;
    assert_int_equal(kw_store_org_insert(f->st, &dup, 2, &id, &err), KW_CONFLICT);
    assert_string_equal(err.field, "/name");
    /* A file that is not a database is refused with its name. */
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/not-a-db", f->dir);
    FILE *fp = fopen(bad, "w");
    fputs("hello, this is not sqlite at all, just some text that is long enough", fp);
    fclose(fp);
    assert_null(kw_store_open(bad, &err));
    assert_int_equal(err.code, KW_STORE);
    assert_non_null(strstr(err.msg, "not-a-db"));
}

extern const char *const kws_migrations[];
int kws_search_tokenizer(sqlite3 *db); /* the store's own (sqlite_int.h) */
static sqlite3 *handle_of(struct kw_store *st);

/* A desk at schema `version` in the file name under the fixture's
 * directory, with the organisation 3 (Acme) and its tickets 5 and 6,
 * foreign keys on, and the search index's tokenizer (search_tok.c, from
 * 39 on) registered on the handle; the store applies the rest when it
 * opens path. */
static sqlite3 *desk_at(struct fx *f, const char *name, char *path, size_t n, int version)
{
    snprintf(path, n, "%s/%s", f->dir, name);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(kws_search_tokenizer(db), SQLITE_OK);
    exec_ok(db, "PRAGMA foreign_keys = ON; CREATE TABLE schema_migrations("
                "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (int v = 0; v < version; v++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES (%d, 0)", v + 1);
        exec_ok(db, kws_migrations[v]);
        exec_ok(db, sql);
    }
    exec_ok(db, "INSERT INTO orgs(id, name, created_at) VALUES (3, 'Acme', 0);"
                "INSERT INTO tickets(id, org_id, title, state, level, created_at, updated_at,"
                " last_seq, head_hash) VALUES (5, 3, 'down', 'registered', 'L1', 0, 0, 0,"
                " x'00'), (6, 3, 'up', 'registered', 'L1', 0, 0, 0, x'00')");
    return db;
}

static sqlite3 *desk_at_38(struct fx *f, const char *name, char *path, size_t n)
{
    return desk_at(f, name, path, n, 38);
}

#define CLOCKS_ROWS                                                                                \
    "SELECT group_concat(ticket_id || ':' || metric || ':' || status || ':' ||"                    \
    " coalesce(deadline, '-') || ':' || coalesce(next_due, '-') || ':' ||"                         \
    " coalesce(next_pct, '-'), ',') FROM (SELECT * FROM clocks ORDER BY ticket_id, metric)"

/* Migration 44 rebuilds clocks without its foreign key to tickets (#20): a
 * desk's rows stay as they were, with the same primary key and NOT NULL
 * columns; a new ticket's three rows, one statement that cannot abort
 * part-way (OR FAIL), leave nothing when one fails and its unit is undone. */
static void test_clocks_migration(void **state)
{
    struct fx *f = *state;
    char path[160], got[512];
    sqlite3 *db = desk_at_38(f, "old.db", path, sizeof(path));
    exec_ok(db, "INSERT INTO clocks VALUES (5, 'response', 'running', 100, 50, 50),"
                " (5, 'resolution', 'met', 200, NULL, NULL),"
                " (6, 'response', 'paused', NULL, NULL, NULL)");
    const char *rows = "5:resolution:met:200:-:-,5:response:running:100:50:50,"
                       "6:response:paused:-:-:-";
    assert_text_of(db, CLOCKS_ROWS, rows);
    assert_text_of(db, "SELECT count(*) FROM pragma_foreign_key_list('clocks')", "1");
    sqlite3_close(db);

    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err); /* migrates to the newest */
    if (!st)
        fail_msg("open: %s", err.msg);
    assert_int_equal(kw_store_schema_version(st), kw_store_schema_latest());
    db = handle_of(st);
    assert_text_of(db, CLOCKS_ROWS, rows);
    assert_text_of(db, "SELECT count(*) FROM pragma_foreign_key_list('clocks')", "0");
    assert_text_of(db,
                   "SELECT group_concat(name || ':' || pk || ':' || \"notnull\", ',')"
                   " FROM pragma_table_info('clocks')",
                   "ticket_id:1:1,metric:2:1,status:0:1,deadline:0:0,next_due:0:0,"
                   "next_pct:0:0");
    assert_non_null(
        strstr(text_of(db, "SELECT sql FROM sqlite_schema WHERE name = 'clocks'", got, sizeof(got)),
               "WITHOUT ROWID"));
    assert_int_equal(sqlite3_exec(db, "INSERT INTO clocks VALUES (5, 'response', 'met', 1, 1, 1)",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);

    /* a new ticket's three rows: the third refused (no status) after the
     * first two were written; its unit undone leaves none of them */
    struct kw_ticket_new t = {.org_id = 3,
                              .created_by = 7,
                              .title = "printer on fire",
                              .level = "L1",
                              .at = T("2026-03-02T01:00:00Z")};
    struct kw_clock_row three[3] = {
        {.metric = "response",
         .status = "running",
         .deadline = 100,
         .next_due = 50,
         .next_pct = 50},
        {.metric = "resolution",
         .status = "running",
         .deadline = 200,
         .next_due = KW_STORE_NO_TIME},
        {.metric = "report", .status = NULL, .deadline = 300, .next_due = KW_STORE_NO_TIME}};
    int64_t id = 0;
    bool existed = false;
    assert_int_equal(kw_store_begin(st, &err), KW_OK);
    assert_int_equal(kw_store_savepoint(st, &err), KW_OK);
    if (kw_store_ticket_create(st, &t, &id, &existed, &err) != KW_OK)
        fail_msg("create: %s", err.msg);
    assert_int_equal(
        kw_store_clocks_put(st, id, true, three, 3, 50, KW_STORE_NO_TIME, KW_STORE_NO_TIME, &err),
        KW_STORE);
    assert_int_equal(kw_store_release(st, false, &err), KW_OK);
    assert_text_of(db, CLOCKS_ROWS, rows);
    /* the next unit writes all three */
    three[2].status = "running";
    assert_int_equal(kw_store_savepoint(st, &err), KW_OK);
    if (kw_store_ticket_create(st, &t, &id, &existed, &err) != KW_OK)
        fail_msg("create: %s", err.msg);
    if (kw_store_clocks_put(st, id, true, three, 3, 50, KW_STORE_NO_TIME, KW_STORE_NO_TIME, &err) !=
        KW_OK)
        fail_msg("clocks: %s", err.msg);
    assert_int_equal(kw_store_release(st, true, &err), KW_OK);
    assert_int_equal(kw_store_commit(st, &err), KW_OK);
    char want[512];
    snprintf(want, sizeof(want),
             "%s,%lld:report:running:300:-:-,%lld:resolution:running:200:-:-,"
             "%lld:response:running:100:50:50",
             rows, (long long)id, (long long)id, (long long)id);
    assert_text_of(db, CLOCKS_ROWS, want);
    assert_text_of(db, "SELECT count(*) FROM pragma_foreign_key_check", "0");
    kw_store_close(st);
}

#define RUNS_ROWS                                                                                  \
    "SELECT group_concat(r, ',') FROM (SELECT quote(ticket_id) || ':' || quote(metric) || ':' ||"  \
    " quote(run) || ':' || quote(org_id) || ':' || quote(commitment_id) || ':' || quote(status)"   \
    " || ':' || quote(started_at) || ':' || quote(stopped_at) || ':' || quote(deadline) || ':' ||" \
    " quote(breached_at) || ':' || quote(target) || ':' || quote(working) || ':' || quote(wall)"   \
    " || ':' || quote(paused_wall) || ':' || quote(measured_at) || ':' || quote(steady_from) ||"   \
    " ':' || quote(calendar) || ':' || quote(level) || ':' || quote(tier) || ':' ||"               \
    " quote(organisation) || ':' || quote(team_id) || ':' || quote(assignee_id) || ':' ||"         \
    " quote(category) || ':' || quote(region) || ':' || quote(channel) AS r FROM kpi_runs"         \
    " ORDER BY ticket_id, metric, run)"
#define RUNS_INDEXES                                                                               \
    "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_schema WHERE type = 'index' AND"   \
    " tbl_name = 'kpi_runs' ORDER BY name)"

static bool run_of(const struct kw_run_row *r, void *ctx)
{
    char *out = ctx;
    size_t len = strlen(out);
    snprintf(out + len, 512 - len, "%s%s:%lld:%s:%lld:%lld:%lld:%s:%lld", len ? "," : "", r->metric,
             (long long)r->commitment_id, r->status, (long long)r->stopped_at,
             (long long)r->breached_at, (long long)r->team_id, r->tier ? r->tier : "-",
             (long long)r->steady_from);
    return true;
}

/* Migration 45 rebuilds kpi_runs with no declared types or NOT NULL
 * outside its key (#20): a desk's runs stay as they were, value for value
 * and type for type, with the same key and indexes, and read as before. */
static void test_kpi_runs_migration(void **state)
{
    struct fx *f = *state;
    char path[160], got[1024], indexes[1024];
    sqlite3 *db = desk_at_38(f, "runs.db", path, sizeof(path));
    exec_ok(db, "INSERT INTO kpi_runs VALUES (5, 'response', 0, 3, NULL, 'running', 100,"
                " NULL, 200, NULL, 60, 1, 2, 0, 150, 120, 'office', 'L1', NULL, 'Acme',"
                " NULL, 4, 'hw', NULL, 'web'), (5, 'resolution', 0, 3, 2, 'met', 100, 180,"
                " 300, NULL, 3600, 80, 80, 0, 180, 100, NULL, 'L1', 'gold', 'Acme', 7, NULL,"
                " NULL, 'emea', NULL), (6, 'response', 1, 3, 2, 'breached', 90, NULL, 250,"
                " 250, 60, 160, 170, 10, 260, 255, '24x7', 'L2', NULL, 'Acme', NULL, NULL,"
                " NULL, NULL, 'mail')");
    char rows[1024];
    text_of(db, RUNS_ROWS, rows, sizeof(rows));
    assert_non_null(strstr(rows, "5:'resolution':0:3:2:'met':100:180:300:NULL:3600"));
    sqlite3_close(db);
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err); /* 39 to 44 first */
    if (!st)
        fail_msg("open: %s", err.msg);
    db = handle_of(st);
    assert_int_equal(kw_store_schema_version(st), kw_store_schema_latest());
    assert_text_of(db, RUNS_ROWS, rows);
    assert_text_of(db,
                   "SELECT group_concat(name || ':' || type || ':' || pk || ':' ||"
                   " \"notnull\", ',') FROM pragma_table_info('kpi_runs')",
                   "ticket_id:INTEGER:1:1,metric:TEXT:2:1,run:INTEGER:3:1,org_id::0:0,"
                   "commitment_id::0:0,status::0:0,started_at::0:0,stopped_at::0:0,"
                   "deadline::0:0,breached_at::0:0,target::0:0,working::0:0,wall::0:0,"
                   "paused_wall::0:0,measured_at::0:0,steady_from::0:0,calendar::0:0,"
                   "level::0:0,tier::0:0,organisation::0:0,team_id::0:0,assignee_id::0:0,"
                   "category::0:0,region::0:0,channel::0:0");
    text_of(db, RUNS_INDEXES, indexes, sizeof(indexes));
    assert_string_equal(indexes, /* as 042 made them (043 dropped the third) */
                        "CREATE INDEX kpi_runs_by_breach ON kpi_runs(breached_at) WHERE"
                        " breached_at IS NOT NULL;CREATE INDEX kpi_runs_by_stop ON"
                        " kpi_runs(stopped_at, org_id, commitment_id, status, started_at,"
                        " deadline, breached_at, target, working, wall, paused_wall,"
                        " measured_at, steady_from, team_id, assignee_id, calendar, level, tier,"
                        " organisation, category, region, channel) WHERE stopped_at IS NOT NULL");
    assert_non_null(strstr(
        text_of(db, "SELECT sql FROM sqlite_schema WHERE name = 'kpi_runs'", got, sizeof(got)),
        "WITHOUT ROWID"));
    /* read as before: a ticket's, and a period's (stopped, breached, past due) */
    char read[512] = "";
    assert_int_equal(kw_store_runs(st, &(struct kw_run_filter){.ticket = 5}, run_of, read, &err),
                     KW_OK);
    assert_string_equal(read,
                        "resolution:2:met:180:-9223372036854775808:7:gold:100,"
                        "response:0:running:-9223372036854775808:-9223372036854775808:0:-:120");
    read[0] = 0;
    assert_int_equal(kw_store_runs(st, &(struct kw_run_filter){.from = 150, .to = 300, .now = 1000},
                                   run_of, read, &err),
                     KW_OK);
    assert_string_equal(read,
                        "resolution:2:met:180:-9223372036854775808:7:gold:100,"
                        "response:0:running:-9223372036854775808:-9223372036854775808:0:-:120,"
                        "response:2:breached:-9223372036854775808:250:0:-:255");
    kw_store_close(st);
}

#define TICKETS_ROWS                                                                               \
    "SELECT group_concat(r, ',') FROM (SELECT quote(id) || ':' || quote(org_id) || ':' ||"         \
    " quote(title) || ':' || quote(created_by) || ':' || quote(idempotency_key) || ':' ||"         \
    " quote(head_hash) || ':' || quote(next_due) || ':' || quote(fire_at) || ':' ||"               \
    " quote(request_digest) AS r FROM tickets ORDER BY id)"
#define TICKETS_INDEXES                                                                            \
    "SELECT group_concat(name || '=' || coalesce(sql, ''), ';') FROM (SELECT name, sql FROM"       \
    " sqlite_schema WHERE type = 'index' AND tbl_name = 'tickets' ORDER BY name)"

/* Migration 47 makes the key of a repeated create, (created_by,
 * idempotency_key), a partial unique index of the tickets that have one
 * (#20): the table rebuilt with its foreign keys off (schema.c), the rows,
 * the columns and the other indexes as before, the tables that name a
 * ticket still naming it (a link to a missing ticket written before does
 * not stop it), the keys on again after; a repeated key refused,
 * tickets without one never clash, and the look-up of a repeated create
 * uses the index. */
static void test_tickets_key_migration(void **state)
{
    struct fx *f = *state;
    char path[160], rows[1024], before[1024];
    sqlite3 *db = desk_at_38(f, "key.db", path, sizeof(path));
    exec_ok(db, "UPDATE tickets SET created_by = 7, idempotency_key = 'k-' || id,"
                " request_digest = x'abcd', next_due = 100 + id, fire_at = 50 WHERE id = 5;"
                "INSERT INTO tickets(id, org_id, title, state, level, created_at, updated_at,"
                " last_seq, head_hash, created_by) VALUES (9, 3, 'no key', 'registered', 'L1',"
                " 0, 0, 0, x'01', 7);"
                "INSERT INTO ticket_links(from_id, to_id, kind, created_by, at)"
                " VALUES (5, 6, 'related', 7, 0);"
                /* a link to a missing ticket, written with the keys off
                 * (the sqlite3 shell's default): no reason to refuse */
                "PRAGMA foreign_keys = OFF;"
                "INSERT INTO ticket_links(from_id, to_id, kind, created_by, at)"
                " VALUES (5, 99, 'related', 7, 0)");
    text_of(db, TICKETS_ROWS, rows, sizeof(rows));
    assert_non_null(strstr(rows, "5:3:'down':7:'k-5':X'00':105:50:X'ABCD'"));
    sqlite3_close(db);

    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err);
    if (!st)
        fail_msg("open: %s", err.msg);
    db = handle_of(st);
    assert_int_equal(kw_store_schema_version(st), kw_store_schema_latest());
    assert_text_of(db, TICKETS_ROWS, rows);
    assert_text_of(db, "PRAGMA foreign_keys", "1");
    assert_text_of(db,
                   "SELECT group_concat(\"table\" || ':' || rowid, ',') FROM"
                   " pragma_foreign_key_check",
                   "ticket_links:2");
    assert_text_of(db,
                   "SELECT group_concat(\"table\" || '.' || \"to\", ',') FROM"
                   " pragma_foreign_key_list('ticket_links')",
                   "tickets.id,tickets.id");
    assert_text_of(db,
                   "SELECT group_concat(\"table\", ',') FROM (SELECT \"table\" FROM"
                   " pragma_foreign_key_list('tickets') ORDER BY 1)",
                   "commitments,orgs,teams,users,users");
    assert_text_of(db,
                   "SELECT group_concat(name || ':' || pk || ':' || \"notnull\", ',')"
                   " FROM pragma_table_info('tickets')",
                   "id:1:0,org_id:0:1,commitment_id:0:0,title:0:1,state:0:1,level:0:1,"
                   "tier:0:0,category:0:0,region:0:0,channel:0:0,assignee_id:0:0,"
                   "team_id:0:0,created_by:0:0,idempotency_key:0:0,created_at:0:1,"
                   "updated_at:0:1,last_seq:0:1,head_hash:0:1,next_due:0:0,"
                   "breached_at:0:0,projected_seq:0:1,fire_at:0:0,request_digest:0:0,"
                   "requester_id:0:0");
    text_of(db, TICKETS_INDEXES, before, sizeof(before));
    assert_null(strstr(before, "sqlite_autoindex"));
    assert_non_null(strstr(before, "tickets_by_key=CREATE UNIQUE INDEX tickets_by_key ON"
                                   " tickets(created_by, idempotency_key) WHERE idempotency_key"
                                   " IS NOT NULL"));
    const char *others[] = {
        "tickets_breached=CREATE INDEX tickets_breached ON tickets(id) WHERE breached_at IS NOT "
        "NULL",
        "tickets_by_assignee=CREATE INDEX tickets_by_assignee ON tickets(assignee_id, id) WHERE "
        "assignee_id IS NOT NULL",
        "tickets_by_created=CREATE INDEX tickets_by_created ON tickets(created_at)",
        "tickets_by_due=CREATE INDEX tickets_by_due ON tickets(coalesce(next_due, "
        "9223372036854775807), id)",
        "tickets_by_org=CREATE INDEX tickets_by_org ON tickets(org_id, id)",
        "tickets_by_requester=CREATE INDEX tickets_by_requester ON tickets(requester_id) WHERE "
        "requester_id IS NOT NULL",
        "tickets_fire=CREATE INDEX tickets_fire ON tickets(fire_at) WHERE fire_at IS NOT NULL"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (!strstr(before, others[i]))
            fail_msg("index %s is not as before: %s", others[i], before);
    assert_text_of(db,
                   "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'tickets'"
                   " AND type = 'index'",
                   "8");
    sqlite3_stmt *plan = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT id, request_digest FROM"
                                        " tickets WHERE created_by = 7 AND idempotency_key ="
                                        " 'k-5'",
                                        -1, &plan, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(plan), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(plan, 3), "INDEX tickets_by_key"));
    sqlite3_finalize(plan);
    /* a key again refused; tickets without one never clash */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO tickets(org_id, title, state, level, created_at,"
                                  " updated_at, last_seq, head_hash, created_by, idempotency_key)"
                                  " VALUES (3, 'again', 'registered', 'L1', 0, 0, 0, x'02', 7,"
                                  " 'k-5')",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    exec_ok(db, "INSERT INTO tickets(org_id, title, state, level, created_at, updated_at,"
                " last_seq, head_hash, created_by, idempotency_key) VALUES (3, 'other', "
                "'registered', 'L1', 0, 0, 0, x'02', 8, 'k-5'), (3, 'none', 'registered', 'L1',"
                " 0, 0, 0, x'02', 7, NULL), (3, 'none', 'registered', 'L1', 0, 0, 0, x'02', 7,"
                " NULL)");
    /* the store's own repeated create finds the first */
    int64_t id = 0;
    bool existed = false;
    struct kw_ticket_new t = {.org_id = 3,
                              .created_by = 7,
                              .title = "down",
                              .level = "L1",
                              .idempotency_key = "k-5",
                              .at = T("2026-03-02T01:00:00Z")};
    assert_int_equal(kw_store_ticket_create(st, &t, &id, &existed, &err), KW_OK);
    assert_true(existed);
    assert_int_equal(id, 5);
    kw_store_close(st);
}

/* ---- group commit ---- */

struct append_job {
    int64_t ticket;
    int n;
    bool fail; /* append, then fail: the unit must leave nothing behind */
};

struct client {
    struct kw_writer *w;
    int64_t ticket;
    int first, ok, failed;
};

/* The change log: one change per ticket and unit, in commit order; a unit
 * rolled back leaves none. */
static void test_change_log(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t head = -1;
    assert_int_equal(kw_store_changes_head(f->st, &head, &err), KW_OK);
    assert_int_equal(head, 0);
    int64_t a = new_ticket(f, "a", NULL), b = new_ticket(f, "b", NULL);
    int64_t at = T("2026-03-02T02:00:00Z");
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(kw_store_event_append(f->st, a, "comment", "{}", 7, at, NULL, NULL, &err),
                         KW_OK);
    assert_int_equal(kw_store_event_append(f->st, b, "comment", "{}", 7, at, NULL, NULL, &err),
                     KW_OK);
    assert_int_equal(kw_store_release(f->st, true, &err), KW_OK);
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK); /* a unit undone */
    assert_int_equal(kw_store_event_append(f->st, b, "comment", "{}", 7, at, NULL, NULL, &err),
                     KW_OK);
    assert_int_equal(kw_store_release(f->st, false, &err), KW_OK);
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
    struct kw_change ch[8];
    size_t n = 0;
    assert_int_equal(kw_store_changes_since(f->st, 0, ch, 8, &n, &err), KW_OK);
    static const struct {
        const char *name;
        int64_t seq;
        bool is_a;
    } want[] = {
        {"the create of a", 1, true},
        {"the create of b", 2, false},
        {"a's two events in one unit: one change", 3, true},
        {"b in the same unit", 4, false},
    };
    assert_int_equal(n, 4); /* the unit rolled back left nothing */
    for (size_t i = 0; i < n; i++) {
        if (ch[i].seq != want[i].seq || ch[i].ticket != (want[i].is_a ? a : b))
            fail_msg("%s: got seq %lld ticket %lld", want[i].name, (long long)ch[i].seq,
                     (long long)ch[i].ticket);
    }
    assert_int_equal(ch[3].at, at);
    assert_int_equal(kw_store_changes_since(f->st, 2, ch, 1, &n, &err), KW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ch[0].seq, 3);
    assert_int_equal(kw_store_changes_head(f->st, &head, &err), KW_OK);
    assert_int_equal(head, 4);
    assert_int_equal(kw_store_changes_since(f->st, 4, ch, 8, &n, &err), KW_OK);
    assert_int_equal(n, 0);
}

/* Claims on due work: due tickets once per node until the lease runs out
 * or a new schedule ends the claim; the oldest due first. */
static void test_due_claim(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t a = new_ticket(f, "a", NULL), b = new_ticket(f, "b", NULL);
    assert_int_equal(
        kw_store_clocks_put(f->st, a, true, NULL, 0, KW_STORE_NO_TIME, KW_STORE_NO_TIME, 110, &err),
        KW_OK);
    assert_int_equal(
        kw_store_clocks_put(f->st, b, true, NULL, 0, KW_STORE_NO_TIME, KW_STORE_NO_TIME, 100, &err),
        KW_OK);
    static const struct {
        const char *name;
        int64_t now;
        const char *node;
        size_t limit, want;
        int64_t first; /* 1: a, 2: b, 0: none */
    } cases[] = {
        {"nothing due yet", 50, "n1", 10, 0, 0},
        {"the oldest due first, within the limit", 110, "n1", 1, 1, 2},
        {"then the rest", 110, "n1", 10, 2, 2},
        {"a node may claim again what it holds", 111, "n1", 10, 2, 2},
        {"another node waits for the lease", 130, "n2", 10, 0, 0},
        {"and takes over when it runs out", 141, "n2", 10, 2, 2},
        {"the first node then waits in turn", 150, "n1", 10, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ids[10];
        size_t n = 99;
        if (kw_store_due_claim(f->st, cases[i].now, 30, cases[i].node, NULL, 0, cases[i].limit, ids,
                               &n, &err) != KW_OK)
            fail_msg("%s: %s", cases[i].name, err.msg);
        if (n != cases[i].want)
            fail_msg("%s: %zu claimed, want %zu", cases[i].name, n, cases[i].want);
        if (cases[i].want == 1 && ids[0] != (cases[i].first == 1 ? a : b))
            fail_msg("%s: claimed %lld", cases[i].name, (long long)ids[0]);
    }
    /* a new schedule ends the claim: n1 may take a at once */
    assert_int_equal(kw_store_clocks_put(f->st, a, false, NULL, 0, KW_STORE_NO_TIME,
                                         KW_STORE_NO_TIME, 120, &err),
                     KW_OK);
    int64_t ids[10];
    size_t n = 0;
    assert_int_equal(kw_store_due_claim(f->st, 150, 30, "n1", NULL, 0, 10, ids, &n, &err), KW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], a);
}

/* ---- the search index's texts ---- */

/* A new ticket's texts carry the scope its organisation has in the search
 * index, computed without reading the ticket (kws_scope_token) and equal to
 * the SQL's char() that reads it (a comment's, migration 027), on both sides
 * of each character's 6400; in one transaction, put 16, 4 and 1 a statement
 * at the commit, in the order written. */
static void test_search_scope(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = handle_of(f->st);
    static const int64_t orgs[] = {6399, 6400, 40960000 + 6400 + 1};
    for (size_t i = 0; i < 3; i++) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO orgs(id, name, created_at) VALUES (%lld, 'o%zu', 0)",
                 (long long)orgs[i], i);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    struct kw_err err = {0};
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    int64_t want[21][2]; /* ticket, 0 title, 1 description, 2 comment */
    size_t n = 0;
    for (size_t i = 0; i < 9; i++) {
        struct kw_ticket_new t = {.org_id = orgs[i % 3],
                                  .created_by = 7,
                                  .title = "printer on fire",
                                  .description = "smoke from tray 2",
                                  .level = "L1",
                                  .at = T("2026-03-02T01:00:00Z")};
        int64_t id = 0;
        bool existed = false;
        if (kw_store_ticket_create(f->st, &t, &id, &existed, &err) != KW_OK)
            fail_msg("create: %s", err.msg);
        want[n][0] = want[n + 1][0] = id;
        want[n][1] = 0;
        want[n + 1][1] = 1;
        n += 2;
        if (i % 3 == 2) {
            assert_int_equal(kw_store_event_append(f->st, id, "comment", "{\"text\":\"still hot\"}",
                                                   7, t.at, NULL, NULL, &err),
                             KW_OK);
            want[n][0] = id;
            want[n++][1] = 2;
        }
    }
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
    sqlite3_stmt *x = NULL;
    assert_int_equal(sqlite3_prepare_v2(
                         db,
                         "SELECT s.ticket, CASE s.kind WHEN 'title' THEN 0 WHEN 'comment' THEN"
                         " (SELECT count(*) > 0 FROM search_text p WHERE p.ticket = s.ticket"
                         " AND p.kind = 'comment' AND p.id < s.id) + 1 ELSE 9 END,"
                         " s.scope = char(57344 + t.org_id % 6400, 57344 + t.org_id / 6400 % 6400,"
                         " 57344 + t.org_id / 40960000) FROM search_text s JOIN tickets t"
                         " ON t.id = s.ticket ORDER BY s.id",
                         -1, &x, NULL),
                     SQLITE_OK);
    size_t i = 0;
    for (; sqlite3_step(x) == SQLITE_ROW; i++) {
        assert_true(i < n);
        assert_int_equal(sqlite3_column_int64(x, 0), want[i][0]);
        assert_int_equal(sqlite3_column_int64(x, 1), want[i][1]);
        if (!sqlite3_column_int(x, 2))
            fail_msg("text %zu of ticket %lld: not its organisation's scope", i,
                     (long long)want[i][0]);
    }
    sqlite3_finalize(x);
    assert_int_equal(i, n);
}

/* A trigger that refuses every log leaf while the table refuse's on_ is 1
 * (`UPDATE refuse SET on_ = ...` turns it on and off): a store call that
 * fails after it wrote the created event's row. */
static void refuse_leaves(sqlite3 *db, bool on)
{
    char sql[320];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE refuse(on_ INTEGER); INSERT INTO refuse VALUES (%d);"
             "CREATE TRIGGER refuse_leaf BEFORE INSERT ON log_leaves"
             " WHEN (SELECT on_ FROM refuse) BEGIN SELECT RAISE(ABORT, 'refused'); END",
             on);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* A store call at the start of a unit takes the unit's savepoint as its
 * own (kws_tx_begin): when it fails after writing (here the created
 * event's log leaf is refused), what it wrote and held is undone, the
 * unit's savepoint stays open, and the unit goes on; a unit that failed
 * is undone whole, and the next starts as fresh. */
static void test_unit_takes_savepoint(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = handle_of(f->st);
    refuse_leaves(db, true);
    struct kw_ticket_new t = {.org_id = f->org,
                              .created_by = 7,
                              .title = "printer on fire",
                              .description = "smoke from tray 2",
                              .level = "L1",
                              .at = T("2026-03-02T01:00:00Z")};
    struct kw_err err = {0};
    int64_t id = 0;
    bool existed = false;
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    /* a unit: the create fails at its leaf, then one succeeds */
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_STORE);
    assert_int_equal(sqlite3_exec(db, "UPDATE refuse SET on_ = 0", NULL, NULL, NULL), SQLITE_OK);
    t.title = "second";
    if (kw_store_ticket_create(f->st, &t, &id, &existed, &err) != KW_OK)
        fail_msg("create: %s", err.msg);
    assert_int_equal(kw_store_release(f->st, true, &err), KW_OK);
    /* a unit that fails: its ticket is undone with it */
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
    t.title = "undone";
    int64_t gone = 0;
    assert_int_equal(kw_store_ticket_create(f->st, &t, &gone, &existed, &err), KW_OK);
    assert_int_equal(kw_store_release(f->st, false, &err), KW_OK);
    /* the next unit's create takes its savepoint afresh */
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
    t.title = "third";
    int64_t third = 0;
    assert_int_equal(kw_store_ticket_create(f->st, &t, &third, &existed, &err), KW_OK);
    assert_int_equal(kw_store_release(f->st, true, &err), KW_OK);
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
    sqlite3_stmt *x = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT (SELECT group_concat(title, ',') FROM (SELECT title FROM tickets"
                           " ORDER BY id)), (SELECT count(*) FROM events),"
                           " (SELECT count(*) FROM log_leaves), (SELECT group_concat(text, ',')"
                           " FROM (SELECT text FROM search_text ORDER BY id))",
                           -1, &x, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(x), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(x, 0), "second,third");
    assert_int_equal(sqlite3_column_int(x, 1), 2);
    assert_int_equal(sqlite3_column_int(x, 2), 2);
    assert_string_equal((const char *)sqlite3_column_text(x, 3),
                        "second,smoke from tray 2,third,smoke from tray 2");
    sqlite3_finalize(x);
    assert_int_equal(kw_store_verify(f->st, id, NULL, &err), KW_OK);
    assert_int_equal(kw_store_verify(f->st, third, NULL, &err), KW_OK);
}

/* A new ticket's id inside a transaction (#20): after the transaction's
 * first insert it is known without a read, and is still max(id) + 1 when a
 * unit's ticket was undone (a savepoint rolled back, a create that failed
 * at its leaf after its row) and in the next transaction: no id is skipped,
 * and every chain, hashed with its ticket's id, verifies. */
static void test_next_ticket_id(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = handle_of(f->st);
    refuse_leaves(db, false);
    struct kw_ticket_new t = {.org_id = f->org,
                              .created_by = 7,
                              .title = "printer on fire",
                              .level = "L1",
                              .at = T("2026-03-02T01:00:00Z")};
    struct kw_err err = {0};
    int64_t a = 0, b = 0, gone = 0, c = 0, d = 0, e = 0;
    bool existed = false;
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
    assert_int_equal(kw_store_ticket_create(f->st, &t, &a, &existed, &err), KW_OK);
    assert_int_equal(kw_store_ticket_create(f->st, &t, &b, &existed, &err), KW_OK);
    assert_int_equal(kw_store_release(f->st, true, &err), KW_OK);
    assert_int_equal(b, a + 1);
    /* a unit undone: its ticket's id is the next one's again */
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
    assert_int_equal(kw_store_ticket_create(f->st, &t, &gone, &existed, &err), KW_OK);
    assert_int_equal(gone, b + 1);
    assert_int_equal(kw_store_release(f->st, false, &err), KW_OK);
    assert_int_equal(kw_store_savepoint(f->st, &err), KW_OK);
    assert_int_equal(kw_store_ticket_create(f->st, &t, &c, &existed, &err), KW_OK);
    assert_int_equal(c, b + 1);
    /* a create refused at its leaf, after its row: undone, id not taken */
    assert_int_equal(sqlite3_exec(db, "UPDATE refuse SET on_ = 1", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(kw_store_ticket_create(f->st, &t, &gone, &existed, &err), KW_STORE);
    assert_int_equal(sqlite3_exec(db, "UPDATE refuse SET on_ = 0", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(kw_store_ticket_create(f->st, &t, &d, &existed, &err), KW_OK);
    assert_int_equal(d, c + 1);
    assert_int_equal(kw_store_release(f->st, true, &err), KW_OK);
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
    /* the next transaction reads it again */
    assert_int_equal(kw_store_ticket_create(f->st, &t, &e, &existed, &err), KW_OK);
    assert_int_equal(e, d + 1);
    sqlite3_stmt *x = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), max(id) - min(id) + 1 FROM tickets"
                                        " WHERE id >= ?1",
                                        -1, &x, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(x, 1, a);
    assert_int_equal(sqlite3_step(x), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(x, 0), 5);
    assert_int_equal(sqlite3_column_int(x, 1), 5);
    sqlite3_finalize(x);
    const int64_t kept[] = {a, b, c, d, e};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (kw_store_verify(f->st, kept[i], NULL, &err) != KW_OK)
            fail_msg("ticket %lld: %s", (long long)kept[i], err.msg);
}

/* Titles of the tickets in id order, and the events' and leaves' counts. */
static void tickets_are(sqlite3 *db, const char *titles, int events, int leaves)
{
    sqlite3_stmt *x = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT (SELECT group_concat(title, ',') FROM (SELECT title FROM tickets"
                           " ORDER BY id)), (SELECT count(*) FROM events),"
                           " (SELECT count(*) FROM log_leaves)",
                           -1, &x, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(x), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(x, 0), titles);
    assert_int_equal(sqlite3_column_int(x, 1), events);
    assert_int_equal(sqlite3_column_int(x, 2), leaves);
    sqlite3_finalize(x);
}

/* A transaction undone whole when its unit fails (kw_store_whole, #20):
 * its store calls open no savepoints. One that fails before it writes
 * leaves the transaction as it was, and the unit goes on; one that fails
 * after it wrote rolls the transaction back, and every later call and the
 * commit fail, so nothing half done is committed even when the unit goes
 * on past the failure. */
static void test_whole_transaction(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = handle_of(f->st);
    refuse_leaves(db, false);
    struct kw_ticket_new t = {.org_id = f->org,
                              .created_by = 7,
                              .title = "A",
                              .level = "L1",
                              .at = T("2026-03-02T01:00:00Z")};
    struct kw_err err = {0};
    int64_t a = 0, id = 0;
    bool existed = false;
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    kw_store_whole(f->st);
    assert_int_equal(kw_store_ticket_create(f->st, &t, &a, &existed, &err), KW_OK);
    /* refused before it writes: the unit goes on */
    assert_int_equal(kw_store_event_append(f->st, a + 100, "comment", "{\"text\":\"x\"}", 7,
                                           T("2026-03-02T02:00:00Z"), NULL, NULL, &err),
                     KW_NOT_FOUND);
    t.title = "B";
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_OK);
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
    tickets_are(db, "A,B", 2, 2);
    /* refused at its leaf, after its event's row: the transaction is gone */
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    kw_store_whole(f->st);
    t.title = "C";
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE refuse SET on_ = 1", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(kw_store_event_append(f->st, a, "comment", "{\"text\":\"x\"}", 7,
                                           T("2026-03-02T02:00:00Z"), NULL, NULL, &err),
                     KW_STORE);
    t.title = "D"; /* a unit that went on past the failure */
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_STORE);
    assert_int_equal(kw_store_commit(f->st, &err), KW_STORE);
    assert_int_equal(sqlite3_exec(db, "UPDATE refuse SET on_ = 0", NULL, NULL, NULL), SQLITE_OK);
    tickets_are(db, "A,B", 2, 2);
    /* the next transaction is an ordinary one again */
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    t.title = "E";
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_OK);
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
    tickets_are(db, "A,B,E", 3, 3);
    assert_int_equal(kw_store_verify(f->st, a, NULL, &err), KW_OK);
    assert_int_equal(kw_store_verify(f->st, id, NULL, &err), KW_OK);
}

/* ---- a batch whose transaction SQLite rolled back by itself ---- */

/* The unit's SQLite handle: a writer's units get the handle store.h hands
 * out (store_int.h), whose SQLite store begins with its sqlite3 pointer
 * (src/store/sqlite/sqlite_int.h). */
static sqlite3 *handle_of(struct kw_store *st)
{
    return *(sqlite3 **)st->sq;
}

struct lost_unit {
    const char *org;     /* inserted by the unit */
    bool overflow;       /* then a statement fails SQLITE_FULL and rolls all back */
    const char *after;   /* and one more organisation after that, if set */
    struct kw_writer *w; /* for the thread */
    struct gate *gate;   /* the first unit's: runs alone until the others are queued */
    enum kw_code rc;
};

/* Until n units wait for the writer's next batch. */
static void wait_queued(struct kw_writer *w, uint64_t n)
{
    struct kw_writer_stats ws;
    for (kw_writer_stats(w, &ws); ws.queued < n; kw_writer_stats(w, &ws))
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
}

/* A batch made up in a known order: a first unit holds the writer until
 * the others are queued behind it, in the order they were started. */
struct gate {
    struct kw_writer *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running;    /* the first unit runs */
    uint64_t others; /* the units queued behind it */
};

/* The first unit's part: say it runs, then hold the writer until every
 * other unit waits for the next batch. */
static void gate_hold(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->running = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    wait_queued(g->w, g->others);
}

/* Run n units, each on a thread of its own (fn on the i-th of args, size
 * bytes each; the first's unit calls gate_hold): the first in a batch
 * alone, then the others in one batch, in their order. */
static void run_queued(struct gate *g, size_t n, void *(*fn)(void *), void *args, size_t size)
{
    pthread_t t[16];
    assert_true(n >= 2 && n <= 16);
    g->running = false;
    g->others = n - 1;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, fn, (char *)args + i * size), 0);
        if (i == 0) { /* the first runs alone, */
            pthread_mutex_lock(&g->mu);
            while (!g->running)
                pthread_cond_wait(&g->cv, &g->mu);
            pthread_mutex_unlock(&g->mu);
        } else if (i < n - 1) {   /* the others queue up behind it in this order */
            wait_queued(g->w, i); /* (the first ends once the last is queued) */
        }
    }
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

static enum kw_code lost_fn(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct lost_unit *u = ctx;
    if (u->gate) {
        gate_hold(u->gate);
        return KW_OK;
    }
    struct kw_org org = {.name = u->org, .tier = "vip", .region = "domestic"};
    int64_t id;
    enum kw_code rc = kw_store_org_insert(st, &org, 1, &id, err);
    if (rc != KW_OK || !u->overflow)
        return rc;
    /* a database that may not grow: an insert without a statement journal
     * then fails SQLITE_FULL, and SQLite rolls the whole transaction back */
    sqlite3 *db = handle_of(st);
    assert_int_equal(sqlite3_exec(db, "PRAGMA max_page_count = 1", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "INSERT INTO filler(v) VALUES (randomblob(100000))", NULL, NULL, NULL),
        SQLITE_FULL);
    assert_true(sqlite3_get_autocommit(db));
    assert_int_equal(sqlite3_exec(db, "PRAGMA max_page_count = 4294967294", NULL, NULL, NULL),
                     SQLITE_OK);
    /* a unit that does not notice goes on writing: in autocommit mode this
     * would commit at once, behind the batch's back */
    struct kw_org after = {.name = u->after, .tier = "vip", .region = "domestic"};
    (void)kw_store_org_insert(st, &after, 1, &id, err);
    return KW_OK; /* and says all went well */
}

static void *lost_thread(void *arg)
{
    struct lost_unit *u = arg;
    struct kw_err err = {0};
    u->rc = kw_writer_run(u->w, lost_fn, u, &err);
    return NULL;
}

static int64_t orgs_named(const char *path, const char *name)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *x;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM orgs WHERE name = ?1", -1, &x, NULL),
        SQLITE_OK);
    sqlite3_bind_text(x, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(x), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(x, 0);
    sqlite3_finalize(x);
    sqlite3_close(db);
    return n;
}

/* A unit after which SQLite has rolled the batch's transaction back (here
 * SQLITE_FULL): every unit of that batch fails, those before it and after
 * it; nothing of any is committed, not even what a unit wrote after the
 * rollback; and the next batch works. */
static void test_writer_lost_transaction(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    assert_int_equal(
        sqlite3_exec(handle_of(f->st), "CREATE TABLE filler(v BLOB)", NULL, NULL, NULL), SQLITE_OK);
    struct kw_writer *w = kw_writer_start(f->path, &err);
    if (!w)
        fail_msg("writer: %s", err.msg);
    struct gate g = {.w = w, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct lost_unit u[] = {
        {.gate = &g},
        {.org = "Before"},
        {.org = "Overflowing", .overflow = true, .after = "Behind the batch"},
        {.org = "After"},
    };
    enum { N = sizeof(u) / sizeof(u[0]) };
    for (size_t i = 0; i < N; i++)
        u[i].w = w;
    run_queued(&g, N, lost_thread, u, sizeof(u[0]));
    struct kw_writer_stats ws;
    kw_writer_stats(w, &ws);
    assert_int_equal(ws.batches, 2); /* the first unit, then the three together */
    assert_int_equal(u[0].rc, KW_OK);
    for (size_t i = 1; i < N; i++)
        if (u[i].rc == KW_OK)
            fail_msg("unit %zu (%s) reported committed", i, u[i].org);
    static const char *const gone[] = {"Before", "Overflowing", "Behind the batch", "After"};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
        if (orgs_named(f->path, gone[i]) != 0)
            fail_msg("%s was committed", gone[i]);
    /* the next batch begins a transaction of its own */
    struct lost_unit next = {.org = "Next", .w = w};
    lost_thread(&next);
    assert_int_equal(next.rc, KW_OK);
    assert_int_equal(orgs_named(f->path, "Next"), 1);
    kw_writer_stop(w);
}

/* A trigger that refuses the log leaf of every event of a ticket titled
 * "refused": its create fails after it wrote the ticket's and the created
 * event's rows. */
static void refuse_titled(sqlite3 *db)
{
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER refuse_titled BEFORE INSERT ON log_leaves"
                                  " WHEN (SELECT title FROM tickets WHERE id = NEW.ticket) ="
                                  " 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
}

/* RFC 6962's hash of leaves [a, b) given their leaf hashes. */
static void tree_hash(unsigned char (*leaf)[32], uint64_t a, uint64_t b, unsigned char out[32])
{
    if (b - a == 1) {
        memcpy(out, leaf[a], 32);
        return;
    }
    uint64_t k = 1;
    while (k < b - a - k)
        k <<= 1;
    unsigned char l[32], r[32];
    tree_hash(leaf, a, a + k, l);
    tree_hash(leaf, a + k, b, r);
    kw_merkle_node(l, r, out);
}

/* The log holds one leaf per event, each the event's chain hash, and its
 * stored root is the one its leaves make; every ticket's chain verifies. */
static void log_whole(struct fx *f, sqlite3 *db)
{
    struct kw_err err = {0};
    uint64_t size = 0;
    assert_int_equal(kw_store_log_size(f->st, &size, &err), KW_OK);
    sqlite3_stmt *x = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT count(*) FROM events), (SELECT count(*)"
                                        " FROM log_leaves l JOIN events e ON e.ticket_id = l.ticket"
                                        " AND e.seq = l.seq AND e.hash = l.data)",
                                        -1, &x, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(x), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(x, 0), (int64_t)size);
    assert_int_equal(sqlite3_column_int64(x, 1), (int64_t)size);
    sqlite3_finalize(x);
    unsigned char(*leaf)[32] = calloc(size + 1, 32);
    assert_non_null(leaf);
    for (uint64_t i = 0; i < size; i++) {
        struct kw_log_leaf l;
        assert_int_equal(kw_store_log_leaf(f->st, i, &l, &err), KW_OK);
        kw_merkle_leaf(l.data, l.data_len, leaf[i]);
    }
    unsigned char want[32], got[32];
    if (size) {
        tree_hash(leaf, 0, size, want);
        assert_int_equal(kw_store_log_root(f->st, size, got, &err), KW_OK);
        assert_memory_equal(got, want, 32);
    }
    free(leaf);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT id FROM tickets", -1, &x, NULL), SQLITE_OK);
    while (sqlite3_step(x) == SQLITE_ROW)
        if (kw_store_verify(f->st, sqlite3_column_int64(x, 0), NULL, &err) != KW_OK)
            fail_msg("ticket %lld: %s", (long long)sqlite3_column_int64(x, 0), err.msg);
    sqlite3_finalize(x);
}

/* n leaves' data (8 bytes of 'a', 'b', ...) and their leaf hashes, the
 * first `stored` of them put in log_leaves as audit leaves 0, 1, ... */
static void log_leaves_put(sqlite3 *db, unsigned char (*data)[8], unsigned char (*leaf)[32], int n,
                           int stored)
{
    sqlite3_stmt *x = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO log_leaves(idx, kind, data)"
                                        " VALUES (?1, 'audit', ?2)",
                                        -1, &x, NULL),
                     SQLITE_OK);
    for (int i = 0; i < n; i++) {
        memset(data[i], 'a' + i, sizeof(data[i]));
        kw_merkle_leaf(data[i], sizeof(data[i]), leaf[i]);
        if (i >= stored)
            continue;
        sqlite3_bind_int(x, 1, i);
        sqlite3_bind_blob(x, 2, data[i], sizeof(data[i]), SQLITE_STATIC);
        assert_int_equal(sqlite3_step(x), SQLITE_DONE);
        sqlite3_reset(x);
    }
    sqlite3_finalize(x);
}

/* Migration 46 drops the log's level-0 nodes (#20): a leaf's node is the
 * hash of its data, computed when read. A desk at schema 38 with a log of
 * five leaves and its eight nodes, migrated: no level-0 row left, the three
 * above as they were; the root, every leaf's inclusion proof and the
 * consistency of 3 with 5 as the leaves make them; a sixth leaf appended in
 * a transaction of its own (its left sibling read from its leaf) and a
 * seventh stored as the nodes they complete. */
static void test_log_nodes_migration(void **state)
{
    struct fx *f = *state;
    char path[160];
    sqlite3 *db = desk_at_38(f, "log.db", path, sizeof(path));
    unsigned char data[7][8], leaf[7][32];
    log_leaves_put(db, data, leaf, 7, 5);
    sqlite3_stmt *x = NULL;
    /* the nodes of five leaves as 38 kept them: (0, 0-4), (1, 0-1), (2, 0) */
    unsigned char n10[32], n11[32], n20[32];
    kw_merkle_node(leaf[0], leaf[1], n10);
    kw_merkle_node(leaf[2], leaf[3], n11);
    kw_merkle_node(n10, n11, n20);
    const struct {
        int level, idx;
        const unsigned char *hash;
    } nodes[] = {{0, 0, leaf[0]}, {0, 1, leaf[1]}, {0, 2, leaf[2]}, {0, 3, leaf[3]},
                 {0, 4, leaf[4]}, {1, 0, n10},     {1, 1, n11},     {2, 0, n20}};
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO log_nodes VALUES (?1, ?2, ?3)", -1, &x, NULL),
        SQLITE_OK);
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        sqlite3_bind_int(x, 1, nodes[i].level);
        sqlite3_bind_int(x, 2, nodes[i].idx);
        sqlite3_bind_blob(x, 3, nodes[i].hash, 32, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(x), SQLITE_DONE);
        sqlite3_reset(x);
    }
    sqlite3_finalize(x);
    char above[256];
    text_of(db,
            "SELECT group_concat(level || ':' || idx || ':' || hex(hash), ',') FROM"
            " (SELECT * FROM log_nodes WHERE level > 0 ORDER BY level, idx)",
            above, sizeof(above));
    sqlite3_close(db);

    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err);
    if (!st)
        fail_msg("open: %s", err.msg);
    db = handle_of(st);
    assert_int_equal(kw_store_schema_version(st), kw_store_schema_latest());
    assert_text_of(db, "SELECT count(*) FROM log_nodes WHERE level = 0", "0");
    assert_text_of(db,
                   "SELECT group_concat(level || ':' || idx || ':' || hex(hash), ',')"
                   " FROM (SELECT * FROM log_nodes ORDER BY level, idx)",
                   above);
    unsigned char want[32], root[32], root3[32], path_[KW_MERKLE_MAX_PROOF][32];
    size_t n = 0;
    assert_int_equal(kw_store_log_root(st, 5, root, &err), KW_OK);
    tree_hash(leaf, 0, 5, want);
    assert_memory_equal(root, want, 32);
    for (uint64_t i = 0; i < 5; i++) {
        assert_int_equal(kw_store_log_inclusion(st, i, 5, path_, &n, &err), KW_OK);
        if (!kw_merkle_verify_inclusion(i, 5, leaf[i], path_, n, root))
            fail_msg("the inclusion proof of leaf %llu does not verify", (unsigned long long)i);
    }
    tree_hash(leaf, 0, 3, root3);
    assert_int_equal(kw_store_log_consistency(st, 3, 5, path_, &n, &err), KW_OK);
    assert_true(kw_merkle_verify_consistency(3, 5, root3, root, path_, n));

    /* leaf 5 completes (1, 2) from leaf 4's node, which no row holds */
    assert_int_equal(kw_store_log_append(st, "audit", data[5], sizeof(data[5]), &err), KW_OK);
    assert_int_equal(kw_store_log_append(st, "audit", data[6], sizeof(data[6]), &err), KW_OK);
    assert_text_of(db,
                   "SELECT group_concat(level || ':' || idx, ',') FROM"
                   " (SELECT * FROM log_nodes ORDER BY level, idx)",
                   "1:0,1:1,1:2,2:0");
    assert_int_equal(kw_store_log_root(st, 7, root, &err), KW_OK);
    tree_hash(leaf, 0, 7, want);
    assert_memory_equal(root, want, 32);
    for (uint64_t i = 0; i < 7; i++) {
        assert_int_equal(kw_store_log_inclusion(st, i, 7, path_, &n, &err), KW_OK);
        if (!kw_merkle_verify_inclusion(i, 7, leaf[i], path_, n, root))
            fail_msg("the inclusion proof of leaf %llu does not verify", (unsigned long long)i);
    }
    kw_store_close(st);
}

/* The root of a store's log of `size` leaves, and every leaf's inclusion
 * proof against it, as the leaves make them. */
static void log_proves(struct kw_store *st, unsigned char (*leaf)[32], uint64_t size)
{
    struct kw_err err = {0};
    unsigned char want[32], root[32], path[KW_MERKLE_MAX_PROOF][32];
    size_t n = 0;
    if (kw_store_log_root(st, size, root, &err) != KW_OK)
        fail_msg("the root of %llu leaves: %s", (unsigned long long)size, err.msg);
    tree_hash(leaf, 0, size, want);
    assert_memory_equal(root, want, 32);
    for (uint64_t i = 0; i < size; i++) {
        assert_int_equal(kw_store_log_inclusion(st, i, size, path, &n, &err), KW_OK);
        if (!kw_merkle_verify_inclusion(i, size, leaf[i], path, n, root))
            fail_msg("the inclusion proof of leaf %llu does not verify", (unsigned long long)i);
    }
}

/* Migration 48 keeps a log node's place in append order (041's rowid) in
 * an INTEGER PRIMARY KEY, which VACUUM keeps: a desk at 47 with a log of
 * nine leaves, vacuumed (its nodes' rowids numbered afresh, so 47's store
 * finds none of them), is mended by the migration; the log proves what its
 * leaves make, and still does after a VACUUM at 48. */
static void test_log_place_migration(void **state)
{
    struct fx *f = *state;
    char path[160];
    sqlite3 *db = desk_at(f, "place.db", path, sizeof(path), 47);
    enum { LEAVES = 9 };
    unsigned char data[LEAVES][8], leaf[LEAVES][32];
    log_leaves_put(db, data, leaf, LEAVES, LEAVES);
    sqlite3_stmt *x = NULL;
    /* the complete subtrees of two leaves or more, at 041's rowids */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO log_nodes(rowid, level, idx, hash) VALUES"
                                        " (((((?2 + 1) << ?1) - 1) << 6) + ?1, ?1, ?2, ?3)",
                                        -1, &x, NULL),
                     SQLITE_OK);
    int nodes = 0;
    for (int level = 1; (1 << level) <= LEAVES; level++)
        for (int idx = 0; (idx + 1) << level <= LEAVES; idx++) {
            unsigned char h[32];
            tree_hash(leaf, (uint64_t)idx << level, (uint64_t)(idx + 1) << level, h);
            sqlite3_bind_int(x, 1, level);
            sqlite3_bind_int(x, 2, idx);
            sqlite3_bind_blob(x, 3, h, 32, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(x), SQLITE_DONE);
            sqlite3_reset(x);
            nodes++;
        }
    sqlite3_finalize(x);
    assert_int_equal(nodes, 7);
    exec_ok(db, "VACUUM");
    assert_text_of(db, "SELECT group_concat(rowid, ',') FROM log_nodes", "1,2,3,4,5,6,7");
    sqlite3_close(db);

    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err);
    if (!st)
        fail_msg("open: %s", err.msg);
    assert_int_equal(kw_store_schema_version(st), kw_store_schema_latest());
    db = handle_of(st);
    assert_text_of(db,
                   "SELECT count(*) FROM log_nodes"
                   " WHERE place = ((((idx + 1) << level) - 1) << 6) + level",
                   "7");
    assert_text_of(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'log_nodes_no_update'",
                   "1");
    log_proves(st, leaf, LEAVES);
    kw_store_close(st);

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "VACUUM");
    sqlite3_close(db);
    st = kw_store_open(path, &err);
    if (!st)
        fail_msg("open: %s", err.msg);
    log_proves(st, leaf, LEAVES);
    kw_store_close(st);
}

/* Units of one transaction undone whole (kw_store_unit_whole, #20): each
 * begins with no savepoint; one whose call fails before it writes wrote
 * nothing and the transaction goes on; one whose call fails after it
 * wrote has rolled the transaction back, which the next unit's start
 * says. */
static void test_units_whole(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = handle_of(f->st);
    refuse_titled(db);
    int64_t first = new_ticket(f, NULL, NULL);
    struct kw_ticket_new t = {.org_id = f->org,
                              .created_by = 7,
                              .title = "A",
                              .level = "L1",
                              .at = T("2026-03-02T01:00:00Z")};
    struct kw_err err = {0};
    int64_t id = 0;
    bool existed = false;
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    assert_true(kw_store_unit_whole(f->st));
    assert_false(kw_store_unit_wrote(f->st));
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_OK);
    assert_true(kw_store_unit_wrote(f->st));
    assert_true(kw_store_unit_whole(f->st));
    assert_int_equal(kw_store_event_append(f->st, id + 100, "comment", "{\"text\":\"x\"}", 7,
                                           T("2026-03-02T02:00:00Z"), NULL, NULL, &err),
                     KW_NOT_FOUND);
    assert_false(kw_store_unit_wrote(f->st)); /* refused before it wrote */
    assert_true(kw_store_unit_whole(f->st));
    t.title = "refused";
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_STORE);
    assert_true(kw_store_unit_wrote(f->st));
    assert_false(kw_store_unit_whole(f->st)); /* the transaction is gone */
    kw_store_rollback(f->st);
    tickets_are(db, "printer on fire", 1, 1);
    /* and the next is whole again */
    assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
    assert_true(kw_store_unit_whole(f->st));
    t.title = "B";
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_OK);
    assert_true(kw_store_unit_whole(f->st));
    assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
    tickets_are(db, "printer on fire,B", 2, 2);
    assert_int_equal(kw_store_verify(f->st, first, NULL, &err), KW_OK);
    log_whole(f, db);
}

/* A writer's unit that creates a ticket titled title; with missing, it
 * first comments on a ticket that is not there (refused before writing). */
struct again_unit {
    const char *title;
    bool repeatable, missing, fail_after; /* fail_after: fails after its create */
    struct kw_writer *w;
    struct gate *gate; /* the first unit's: runs alone until the others are queued */
    int runs;
    int64_t id;
    enum kw_code rc;
};

static enum kw_code again_fn(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct again_unit *u = ctx;
    u->runs++;
    if (u->gate)
        gate_hold(u->gate);
    if (u->missing) {
        enum kw_code rc = kw_store_event_append(st, 1000000, "comment", "{\"text\":\"x\"}", 7,
                                                T("2026-03-02T02:00:00Z"), NULL, NULL, err);
        if (rc != KW_OK)
            return rc;
    }
    struct kw_ticket_new t = {.org_id = 1,
                              .created_by = 7,
                              .title = u->title,
                              .level = "L1",
                              .at = T("2026-03-02T01:00:00Z")};
    bool existed = false;
    enum kw_code rc = kw_store_ticket_create(st, &t, &u->id, &existed, err);
    if (rc == KW_OK && u->fail_after)
        return kw_err_set(err, KW_CONFLICT, "", "changed its mind");
    return rc;
}

static void *again_thread(void *arg)
{
    struct again_unit *u = arg;
    struct kw_err err = {0};
    u->rc = u->repeatable ? kw_writer_run_repeatable(u->w, again_fn, u, &err)
                          : kw_writer_run(u->w, again_fn, u, &err);
    return NULL;
}

/* u[0] runs alone, then u[1..n) in one batch, in that order. */
static void run_units(struct kw_writer *w, struct again_unit *u, size_t n)
{
    struct gate g = {.w = w, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    u[0].gate = &g;
    for (size_t i = 0; i < n; i++)
        u[i].w = w;
    run_queued(&g, n, again_thread, u, sizeof(u[0]));
}

/* A batch of units that may run again runs them with no savepoint
 * (kw_writer_run_repeatable, #20). One that fails before it writes fails
 * alone; one that fails after it wrote (its ticket's log leaf refused)
 * sends the whole batch round again, a savepoint each: the others commit
 * once, the failed one leaves nothing, the chains and the log are whole;
 * as does one that fails after its calls succeeded.
 * A batch with a unit that may not run twice keeps the savepoints. */
static void test_writer_runs_again(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    sqlite3 *db = handle_of(f->st);
    refuse_titled(db);
    struct kw_writer *w = kw_writer_start(f->path, &err);
    if (!w)
        fail_msg("writer: %s", err.msg);
    struct again_unit a[] = {
        {.title = "first", .repeatable = true},
        {.title = "A", .repeatable = true},
        {.title = "not there", .repeatable = true, .missing = true},
        {.title = "B", .repeatable = true},
    };
    run_units(w, a, N_ELEMS(a));
    struct kw_writer_stats ws;
    kw_writer_stats(w, &ws);
    assert_int_equal(ws.batches, 2);
    assert_int_equal(ws.again, 0);
    static const enum kw_code want_a[] = {KW_OK, KW_OK, KW_NOT_FOUND, KW_OK};
    for (size_t i = 0; i < N_ELEMS(a); i++) {
        assert_int_equal(a[i].rc, want_a[i]);
        assert_int_equal(a[i].runs, 1);
    }
    tickets_are(db, "first,A,B", 3, 3);
    struct again_unit b[] = {
        {.title = "second", .repeatable = true},
        {.title = "C", .repeatable = true},
        {.title = "refused", .repeatable = true},
        {.title = "not there", .repeatable = true, .missing = true},
        {.title = "D", .repeatable = true},
    };
    run_units(w, b, N_ELEMS(b));
    kw_writer_stats(w, &ws);
    assert_int_equal(ws.batches, 4);
    assert_int_equal(ws.again, 1);
    static const enum kw_code want_b[] = {KW_OK, KW_OK, KW_STORE, KW_NOT_FOUND, KW_OK};
    static const int runs_b[] = {1, 2, 2, 1, 1}; /* up to the refused one, then all again */
    for (size_t i = 0; i < N_ELEMS(b); i++) {
        if (b[i].rc != want_b[i] || b[i].runs != runs_b[i])
            fail_msg("unit %zu (%s): rc %d, ran %d times", i, b[i].title, b[i].rc, b[i].runs);
    }
    tickets_are(db, "first,A,B,second,C,D", 6, 6);
    /* a unit that fails after its calls succeeded: the same */
    struct again_unit d[] = {
        {.title = "fourth", .repeatable = true},
        {.title = "G", .repeatable = true},
        {.title = "undone", .repeatable = true, .fail_after = true},
        {.title = "H", .repeatable = true},
    };
    run_units(w, d, N_ELEMS(d));
    kw_writer_stats(w, &ws);
    assert_int_equal(ws.again, 2);
    static const enum kw_code want_d[] = {KW_OK, KW_OK, KW_CONFLICT, KW_OK};
    static const int runs_d[] = {1, 2, 2, 1};
    for (size_t i = 0; i < N_ELEMS(d); i++) {
        if (d[i].rc != want_d[i] || d[i].runs != runs_d[i])
            fail_msg("unit %zu (%s): rc %d, ran %d times", i, d[i].title, d[i].rc, d[i].runs);
    }
    tickets_are(db, "first,A,B,second,C,D,fourth,G,H", 9, 9);
    /* a unit that may not run twice: savepoints, each unit once */
    struct again_unit c[] = {
        {.title = "third", .repeatable = true},
        {.title = "E", .repeatable = true},
        {.title = "refused"},
        {.title = "F", .repeatable = true},
    };
    run_units(w, c, N_ELEMS(c));
    kw_writer_stats(w, &ws);
    assert_int_equal(ws.again, 2);
    static const enum kw_code want_c[] = {KW_OK, KW_OK, KW_STORE, KW_OK};
    for (size_t i = 0; i < N_ELEMS(c); i++) {
        assert_int_equal(c[i].rc, want_c[i]);
        assert_int_equal(c[i].runs, 1);
    }
    kw_writer_stop(w);
    tickets_are(db, "first,A,B,second,C,D,fourth,G,H,third,E,F", 12, 12);
    log_whole(f, db);
}

/* A command that writes in many transactions and commits with a read still
 * on a row (kw_store_ticket_get lends its row's text until kw_store_end_read)
 * keeps its log short: the commit cannot checkpoint then, kw_store_end_read
 * does what it could not. (Before, a 1,000,000-ticket fill left a log of
 * gigabytes and a database of one page until it closed.) */
static void test_checkpoint_owed(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    struct stat db0, db1, log;
    assert_int_equal(stat(f->path, &db0), 0);
    int64_t first = new_ticket(f, NULL, NULL);
    char key[32];
    for (int tx = 0; tx < 4; tx++) {
        assert_int_equal(kw_store_begin(f->st, &err), KW_OK);
        struct kw_ticket_row row;
        assert_int_equal(kw_store_ticket_get(f->st, first, &row, &err), KW_OK);
        for (int i = 0; i < 1000; i++) {
            snprintf(key, sizeof(key), "k%d-%d", tx, i);
            new_ticket(f, key, NULL);
        }
        assert_int_equal(kw_store_commit(f->st, &err), KW_OK);
        kw_store_end_read(f->st);
    }
    assert_int_equal(stat(f->path, &db1), 0);
    assert_int_equal(stat(wal, &log), 0);
    /* copied into the database (2.9 MB; it stayed one page before), and the
     * log started over rather than grown by each transaction's pages (about
     * 1,060 of 4 KiB each: 4.4 MB, 17 MB before) */
    assert_true(db1.st_size > db0.st_size + 1024 * 1024);
    assert_true(log.st_size < 6 * 1024 * 1024);
}

/* The upkeep starts a long log over without truncating it (#20): the
 * writer's next commit writes the log from its start, into the file's
 * pages as they are, and the writer keeps its page cache (TRUNCATE
 * rewrote the log's header from the upkeep's handle: the writer, seeing
 * it changed, dropped its cache and read every page again). */
static void test_log_restarts(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    struct kw_store *up = f->st, *w = kw_store_open_writer(f->path, &err);
    assert_non_null(w);
    f->st = w; /* new_ticket creates on the writer's handle */
    int64_t first = new_ticket(f, NULL, NULL);
    char key[32];
    for (int tx = 0; tx < 24; tx++) { /* about 6,000 pages of log */
        assert_int_equal(kw_store_begin(w, &err), KW_OK);
        for (int i = 0; i < 1000; i++) {
            snprintf(key, sizeof(key), "r%d-%d", tx, i);
            new_ticket(f, key, NULL);
        }
        assert_int_equal(kw_store_commit(w, &err), KW_OK);
        kw_store_end_read(w);
    }
    struct stat log0, log1;
    assert_int_equal(stat(wal, &log0), 0);
    assert_true(log0.st_size > 16 * 1024 * 1024); /* past 4,096 pages: started over */
    struct kw_store_upkeep out;
    assert_int_equal(kw_store_maintain(up, &out, &err), KW_OK);
    /* the writer's next unit: a ticket read and one created */
    int cur = 0, hi = 0, before;
    assert_int_equal(sqlite3_db_status(handle_of(w), SQLITE_DBSTATUS_CACHE_MISS, &before, &hi, 0),
                     SQLITE_OK);
    assert_int_equal(kw_store_begin(w, &err), KW_OK);
    struct kw_ticket_row row;
    assert_int_equal(kw_store_ticket_get(w, first, &row, &err), KW_OK);
    new_ticket(f, "after", NULL);
    kw_store_end_read(w);
    assert_int_equal(kw_store_commit(w, &err), KW_OK);
    assert_int_equal(sqlite3_db_status(handle_of(w), SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 0),
                     SQLITE_OK);
    if (cur - before > 8)
        fail_msg("the writer read %d pages again: its cache was dropped", cur - before);
    /* written from the log's start, into the file as it was */
    assert_int_equal(stat(wal, &log1), 0);
    assert_int_equal(log1.st_size, log0.st_size);
    assert_int_equal(kw_store_maintain(up, &out, &err), KW_OK);
    assert_true(out.log_pages > 0 && out.log_pages < 100);
    f->st = up;
    kw_store_close(w);
}

/* A checkpoint copies nothing while another handle holds the log's write
 * lock, and copies once it is let go: SQLite before 3.51.3 loses commits
 * when a checkpoint without that lock runs as a commit starts the log over
 * (the WAL-reset bug; sqlite/db.c, checkpoint_locked). */
static void test_checkpoint_holds_write_lock(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    struct kw_store *up = f->st, *w = kw_store_open_writer(f->path, &err);
    assert_non_null(w);
    f->st = w;
    assert_int_equal(kw_store_begin(w, &err), KW_OK);
    new_ticket(f, "in the log", NULL);
    assert_int_equal(kw_store_commit(w, &err), KW_OK);
    kw_store_end_read(w);
    sqlite3 *other;
    assert_int_equal(sqlite3_open_v2(f->path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct kw_store_upkeep out = {.log_pages = -1};
    assert_int_equal(kw_store_maintain(up, &out, &err), KW_OK);
    assert_int_equal(out.log_pages, 0); /* not run: the next turn tries again */
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(kw_store_maintain(up, &out, &err), KW_OK);
    assert_true(out.log_pages > 0);
    sqlite3_close(other);
    f->st = up;
    kw_store_close(w);
}

struct alone_unit {
    const char *org; /* inserted, unless this is the first */
    bool alone;      /* run with kw_writer_run_alone */
    bool fail;       /* fails after its insert */
    struct kw_writer *w;
    struct gate *gate; /* the first unit's: runs alone until the others are queued */
    enum kw_code rc;
};

static enum kw_code alone_fn(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct alone_unit *u = ctx;
    if (u->gate) {
        gate_hold(u->gate);
        return KW_OK;
    }
    struct kw_org org = {.name = u->org, .tier = "vip", .region = "domestic"};
    int64_t id;
    enum kw_code rc = kw_store_org_insert(st, &org, 1, &id, err);
    if (rc == KW_OK && u->fail)
        return kw_err_set(err, KW_INVALID, "", "refused after its insert");
    return rc;
}

static void *alone_thread(void *arg)
{
    struct alone_unit *u = arg;
    struct kw_err err = {0};
    u->rc = u->alone ? kw_writer_run_alone(u->w, alone_fn, u, &err)
                     : kw_writer_run(u->w, alone_fn, u, &err);
    return NULL;
}

/* A unit run with kw_writer_run_alone is a batch of its own, queued in its
 * place: the units before it commit before it, those after it after it;
 * one that fails leaves nothing of itself (its transaction rolled back)
 * and takes no other unit with it (#20: the engine's firing units). */
static void test_writer_alone(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    struct kw_writer *w = kw_writer_start(f->path, &err);
    if (!w)
        fail_msg("writer: %s", err.msg);
    struct gate g = {.w = w, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct alone_unit u[] = {
        {.gate = &g},
        {.org = "Shared before"},
        {.org = "Alone and failing", .alone = true, .fail = true},
        {.org = "Alone", .alone = true},
        {.org = "Shared after"},
        {.org = "Shared failing", .fail = true},
        {.org = "Shared last"},
    };
    enum { N = sizeof(u) / sizeof(u[0]) };
    for (size_t i = 0; i < N; i++)
        u[i].w = w;
    run_queued(&g, N, alone_thread, u, sizeof(u[0]));
    struct kw_writer_stats ws;
    kw_writer_stats(w, &ws);
    /* the first; "Shared before"; each alone one; the three shared after */
    assert_int_equal(ws.batches, 5);
    for (size_t i = 1; i < N; i++) {
        assert_int_equal(u[i].rc, u[i].fail ? KW_INVALID : KW_OK);
        if (orgs_named(f->path, u[i].org) != (u[i].fail ? 0 : 1))
            fail_msg("%s: %s", u[i].org, u[i].fail ? "committed" : "not committed");
    }
    kw_writer_stop(w);
}

/* ---- the page cache's lock page (src/store/sqlite/pcache.c) ---- */

unsigned kws_pcache_key(unsigned pgno, int page_size);

struct notes {
    int n;
    int64_t id[4];
    char kind[4][24];
};

static bool note(const struct kw_notification *n, void *ctx)
{
    struct notes *ns = ctx;
    if (ns->n < 4) {
        ns->id[ns->n] = n->id;
        snprintf(ns->kind[ns->n], sizeof(ns->kind[0]), "%s", n->kind);
    }
    ns->n++;
    return true;
}

/* A warning and a customer's public comment tell the assignee and the
 * staff who watch the ticket once each, in the order of their ids (the
 * notifications' ids follow it, as the UNION's temporary B-tree gave them
 * before): an assignee who watches too is told once, a customer who
 * watches is not told of the warning. */
static void test_notify_once_in_order(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t who[3], cust = 0;
    static const char *const names[] = {"ann", "bob", "cid"};
    for (int i = 0; i < 3; i++) {
        char email[32];
        snprintf(email, sizeof(email), "%s@n.example", names[i]);
        struct kw_user u = {.email = email, .name = names[i], .role = "agent"};
        assert_int_equal(kw_store_user_insert(f->st, &u, NULL, 0, &who[i], &err), KW_OK);
    }
    struct kw_user cu = {
        .email = "dee@n.example", .name = "dee", .role = "customer", .org_id = f->org};
    assert_int_equal(kw_store_user_insert(f->st, &cu, NULL, 0, &cust, &err), KW_OK);
    int64_t t = new_ticket(f, NULL, NULL);
    struct kw_ticket_patch p = {.assignee_id = who[1]}; /* bob: between ann and cid */
    assert_int_equal(kw_store_ticket_set(f->st, t, &p, &err), KW_OK);
    const int64_t watching[] = {who[2], who[1], cust, who[0]}; /* not in id order */
    for (size_t i = 0; i < 4; i++) {
        bool added = false;
        assert_int_equal(kw_store_watcher_add(f->st, t, watching[i], who[0], 100, &added, &err),
                         KW_OK);
        assert_true(added);
    }
    assert_int_equal(kw_store_event_append(f->st, t, "sla_warning",
                                           "{\"metric\":\"response\",\"percent\":50}", 0, 200, NULL,
                                           NULL, &err),
                     KW_OK);
    assert_int_equal(kw_store_event_append(f->st, t, "comment",
                                           "{\"internal\":false,\"text\":\"still broken\"}", cust,
                                           201, NULL, NULL, &err),
                     KW_OK);
    int64_t warned[3], replied[3];
    for (int i = 0; i < 3; i++) {
        struct notes ns = {0};
        assert_int_equal(kw_store_notifications(f->st, who[i], false, 0, 10, note, &ns, &err),
                         KW_OK);
        assert_int_equal(ns.n, 2); /* newest first */
        assert_string_equal(ns.kind[0], "customer_reply");
        assert_string_equal(ns.kind[1], "sla_warning");
        replied[i] = ns.id[0];
        warned[i] = ns.id[1];
    }
    assert_true(warned[0] < warned[1] && warned[1] < warned[2]);
    assert_true(replied[0] < replied[1] && replied[1] < replied[2]);
    assert_true(warned[2] < replied[0]);
    struct notes ns = {0};
    assert_int_equal(kw_store_notifications(f->st, cust, false, 0, 10, note, &ns, &err), KW_OK);
    assert_int_equal(ns.n, 0); /* the author of the comment; clocks are not a customer's */
}

/* SQLite's balance swaps two pages' numbers through the lock page's (the
 * page of byte 2^30); the cache holds that one number as 0, so no commit
 * walks the whole cache for it, and every other number as it is. */
/* SQLite's blocks as its allocator hands them out (mem.c, #20): each holds
 * at least what was asked, keeps its bytes when it grows or shrinks, across
 * the cached sizes and past them, and may be freed on another thread than
 * the one that took it, including one that has ended with blocks kept. */
static void *alloc_on_thread(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < 64; i++) {
        blocks[i] = sqlite3_malloc(16 * i + 5);
        if (blocks[i])
            memset(blocks[i], i, (size_t)(16 * i + 5));
    }
    void *kept = sqlite3_malloc(100); /* freed here: kept until the thread ends */
    sqlite3_free(kept);
    return NULL;
}

static void fill(unsigned char *p, int n, int seed)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static bool filled(const unsigned char *p, int n, int seed)
{
    for (int i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return false;
    return true;
}

static void test_sqlite_allocator(void **state)
{
    (void)state; /* the fixture opened a store: SQLite is set up */
    for (int n = 1; n < 2600; n += 13) {
        unsigned char *p = sqlite3_malloc(n);
        assert_non_null(p);
        assert_true(sqlite3_msize(p) >= (sqlite3_uint64)n);
        fill(p, n, n);
        unsigned char *q = sqlite3_realloc(p, 2 * n + 1); /* a larger class, or past them */
        assert_non_null(q);
        assert_true(sqlite3_msize(q) >= (sqlite3_uint64)(2 * n + 1));
        if (!filled(q, n, n))
            fail_msg("%d bytes grown to %d: changed", n, 2 * n + 1);
        fill(q, 2 * n + 1, n + 1);
        unsigned char *r = sqlite3_realloc(q, n / 2 + 1);
        assert_non_null(r);
        if (!filled(r, n / 2 + 1, n + 1))
            fail_msg("%d bytes shrunk to %d: changed", 2 * n + 1, n / 2 + 1);
        sqlite3_free(r);
        /* taken again at once: as it was asked for */
        unsigned char *s = sqlite3_malloc(n);
        assert_non_null(s);
        assert_true(sqlite3_msize(s) >= (sqlite3_uint64)n);
        sqlite3_free(s);
    }
    void *blocks[64] = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, alloc_on_thread, blocks), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    for (int i = 0; i < 64; i++) {
        assert_non_null(blocks[i]);
        const unsigned char *b = blocks[i];
        for (int j = 0; j < 16 * i + 5; j++)
            if (b[j] != (unsigned char)i)
                fail_msg("block %d from the ended thread: byte %d changed", i, j);
        sqlite3_free(blocks[i]);
    }
    sqlite3_free(NULL);
}

static void test_lock_page_key(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned pgno;
        int page_size;
        unsigned key;
    } rows[] = {
        {"the lock page at 4 KiB", 262145, 4096, 0},
        {"the page before it", 262144, 4096, 262144},
        {"the page after it", 262146, 4096, 262146},
        {"the lock page at 1 KiB", 1048577, 1024, 0},
        {"4 KiB's lock page at 1 KiB", 262145, 1024, 262145},
        {"the lock page at 64 KiB", 16385, 65536, 0},
        {"page one", 1, 4096, 1},
        {"no page size", 262145, 0, 262145},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (kws_pcache_key(rows[i].pgno, rows[i].page_size) != rows[i].key)
            fail_msg("%s: key %u, want %u", rows[i].name,
                     kws_pcache_key(rows[i].pgno, rows[i].page_size), rows[i].key);
}

/* Through that cache: B-trees split in random order (every balance that
 * swaps page numbers goes through the lock page's), a savepoint of each
 * second transaction undone after its splits, every transaction
 * committed; the database is whole and holds the rows kept, also read
 * from a new handle. */
static void test_cache_balances(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = handle_of(f->st);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE churn(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID;"
                                  "CREATE INDEX churn_v ON churn(substr(v, 1, 40))",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    for (int tx = 0; tx < 20; tx++) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "BEGIN IMMEDIATE;"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
                 " INSERT INTO churn SELECT randomblob(16), randomblob(200) FROM n;"
                 "SAVEPOINT s;"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
                 " INSERT INTO churn SELECT randomblob(16), randomblob(200) FROM n;"
                 "%s s; COMMIT",
                 tx % 2 ? "ROLLBACK TO s; RELEASE" : "RELEASE");
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            fail_msg("transaction %d: %s", tx, sqlite3_errmsg(db));
    }
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    sqlite3 *const dbs[] = {db, other};
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *x = NULL;
        assert_int_equal(sqlite3_prepare_v2(dbs[i], "SELECT count(*) FROM churn", -1, &x, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(x), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(x, 0), 20 * 300 + 10 * 300);
        sqlite3_finalize(x);
        assert_int_equal(sqlite3_prepare_v2(dbs[i], "PRAGMA integrity_check", -1, &x, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(x), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(x, 0), "ok");
        sqlite3_finalize(x);
    }
    sqlite3_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clocks_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kpi_runs_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tickets_key_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_lost_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_units_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_once_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_runs_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_owed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_holds_write_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unit_takes_savepoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_ticket_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_nodes_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_place_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_allocator, setup, teardown),
        cmocka_unit_test(test_lock_page_key),
        cmocka_unit_test_setup_teardown(test_cache_balances, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
