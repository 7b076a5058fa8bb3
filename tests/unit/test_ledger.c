// SPDX-License-Identifier: MIT
/* Contracts' billing periods and deposits (app/ledger.h, docs/policy.md
 * "Contracts"), and the ledger's hash chain in the store: hand-computed
 * period bounds (months from the start, the 31st cut to a month's last
 * day, annual years, the last period cut at the end), the deposit rounded
 * half up, and an entry changed behind the store's back is found. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "civil.h"
#include "ledger.h"
#include "testutil.h"

static int64_t at(const char *iso)
{
    int64_t t;
    assert_int_equal(kw_instant_parse(iso, strlen(iso), &t, NULL), KW_OK);
    return t;
}

static void test_periods(void **state)
{
    (void)state;
    static const struct {
        const char *name, *billing, *start, *end, *t, *from, *to;
    } rows[] = {
        {"a month from the 1st", "monthly", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z",
         "2026-03-15T12:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"},
        {"the first second of a month is in it", "monthly", "2026-01-01T00:00:00Z",
         "2027-01-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-04-01T00:00:00Z",
         "2026-05-01T00:00:00Z"},
        {"the 31st falls on February's last day", "monthly", "2026-01-31T00:00:00Z",
         "2027-01-31T00:00:00Z", "2026-03-01T00:00:00Z", "2026-02-28T00:00:00Z",
         "2026-03-31T00:00:00Z"},
        {"a leap year's February", "monthly", "2028-01-31T00:00:00Z", "2029-01-01T00:00:00Z",
         "2028-02-15T00:00:00Z", "2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z"},
        {"months keep the start's time of day", "monthly", "2026-01-01T16:00:00Z",
         "2027-01-01T16:00:00Z", "2026-02-01T15:59:59Z", "2026-01-01T16:00:00Z",
         "2026-02-01T16:00:00Z"},
        {"annual: years from the start", "annual", "2026-06-01T00:00:00Z", "2028-06-01T00:00:00Z",
         "2027-07-01T00:00:00Z", "2027-06-01T00:00:00Z", "2028-06-01T00:00:00Z"},
        {"the last period is cut at the end", "monthly", "2026-01-01T00:00:00Z",
         "2026-03-10T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-01T00:00:00Z",
         "2026-03-10T00:00:00Z"},
        {"a short annual contract is one period", "annual", "2026-01-01T00:00:00Z",
         "2026-04-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z",
         "2026-04-01T00:00:00Z"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kw_contract c = {.billing = rows[i].billing,
                                .period_start = at(rows[i].start),
                                .period_end = at(rows[i].end)};
        int64_t from, to;
        kw_contract_period(&c, at(rows[i].t), &from, &to);
        if (from != at(rows[i].from) || to != at(rows[i].to))
            fail_msg("%s: got [%lld, %lld)", rows[i].name, (long long)from, (long long)to);
    }
}

static void test_deposit(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t value, percent, amount, want;
    } rows[] = {
        {"10 % of 1,000,000", 1000000, 10, -1, 100000},
        {"10 % of 5 is 0.5: half up to 1", 5, 10, -1, 1},
        {"10 % of 4 is 0.4: 0", 4, 10, -1, 0},
        {"15 % of 41,666,666 is 6,249,999.9: 6,250,000", 41666666, 15, -1, 6250000},
        {"an amount as it is", 1000000, -1, 12345, 12345},
        {"100 %", 777, 100, -1, 777},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kw_contract c = {.value = rows[i].value,
                                .deposit_percent = rows[i].percent,
                                .deposit_amount = rows[i].amount};
        if (kw_contract_deposit_required(&c) != rows[i].want)
            fail_msg("%s: got %lld", rows[i].name, (long long)kw_contract_deposit_required(&c));
    }
}

/* The chain: entries of two organisations, each chain from seq 1; a body
 * changed with SQL (the triggers dropped) is named by verify. */
static void test_chain(void **state)
{
    (void)state;
    char path[] = "/tmp/kw-ledger-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err);
    assert_non_null(st);
    int64_t org[2], contract[2];
    for (int o = 0; o < 2; o++) {
        char name[8];
        snprintf(name, sizeof(name), "org%d", o);
        struct kw_org row = {.name = name};
        assert_int_equal(kw_store_org_insert(st, &row, 1000, &org[o], &err), KW_OK);
        struct kw_contract c = {.org_id = org[o],
                                .value = 100,
                                .currency = "CNY",
                                .billing = "monthly",
                                .period_start = 0,
                                .period_end = 86400 * 365,
                                .deposit_percent = 10,
                                .deposit_amount = -1,
                                .dual_above = 0};
        assert_int_equal(kw_store_contract_insert(st, &c, 1000, &contract[o], &err), KW_OK);
    }
    for (int i = 0; i < 5; i++) {
        struct kw_ledger_row e = {.org_id = org[i % 2],
                                  .contract_id = contract[i % 2],
                                  .kind = "adjustment",
                                  .amount = 10 * (i + 1),
                                  .actor = 1,
                                  .at = 2000 + i,
                                  .body = "{\"amount\":1,\"note\":\"x\"}"};
        int64_t id;
        assert_int_equal(kw_store_ledger_append(st, &e, &id, &err), KW_OK);
    }
    struct kw_ledger_check chk;
    assert_int_equal(kw_store_ledger_verify(st, 0, &chk, &err), KW_OK);
    assert_int_equal(chk.entries, 5);
    /* one organisation's chain: entries 1, 3 and 5 */
    assert_int_equal(kw_store_ledger_verify(st, org[0], &chk, &err), KW_OK);
    assert_int_equal(chk.entries, 3);
    struct kw_ledger_check none;
    assert_int_equal(kw_store_ledger_verify(st, org[1] + 1000, &none, &err), KW_OK);
    assert_int_equal(none.entries, 0);
    struct kw_ledger_sums s;
    assert_int_equal(kw_store_ledger_sums(st, contract[0], 0, INT64_MIN, INT64_MAX, &s, &err),
                     KW_OK);
    assert_int_equal(s.credits, 10 + 30 + 50);
    uint64_t leaves;
    assert_int_equal(kw_store_log_size(st, &leaves, &err), KW_OK);
    assert_int_equal(leaves, 5);
    kw_store_close(st);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TRIGGER ledger_no_update; UPDATE ledger SET body ="
                                  " '{\"amount\":1,\"note\":\"y\"}' WHERE seq = 2 AND org_id ="
                                  " (SELECT min(org_id) FROM ledger)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    st = kw_store_open(path, &err);
    assert_non_null(st);
    assert_int_equal(kw_store_ledger_verify(st, 0, NULL, &err), KW_CONFLICT);
    assert_non_null(strstr(err.msg, "seq 2"));
    /* the other organisation's chain is intact */
    assert_int_equal(kw_store_ledger_verify(st, org[1], &chk, &err), KW_OK);
    assert_int_equal(chk.entries, 2);
    kw_store_close(st);
    unlink(path);
}

/* The migrations, in order (generated from src/store/sqlite/migrations). */
extern const char *const kws_migrations[];

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static char *text_of(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *x;
    out[0] = 0;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &x, NULL), SQLITE_OK);
    if (sqlite3_step(x) == SQLITE_ROW && sqlite3_column_text(x, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(x, 0));
    sqlite3_finalize(x);
    return out;
}

/* Migration 28 rebuilds overruns for force_majeure in its CHECK: on a
 * database holding overruns that ledger entries and watch flags point at,
 * every row keeps its id and its columns, and no reference dangles. */
static void test_reason_migration(void **state)
{
    (void)state;
    char path[] = "/tmp/kw-ledger-mig-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA foreign_keys = ON; CREATE TABLE schema_migrations(version INTEGER "
                "PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (int v = 0; v < 26; v++) { /* the schema before force_majeure */
        exec_ok(db, kws_migrations[v]);
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES (%d, 0)", v + 1);
        exec_ok(db, sql);
    }
    exec_ok(db,
            "INSERT INTO orgs(id, name, created_at) VALUES (3, 'Acme', 0);"
            "INSERT INTO tickets(id, org_id, title, state, level, created_at, updated_at,"
            " last_seq, head_hash) VALUES (5, 3, 'down', 'open', 'L1', 0, 0, 0, x'00');"
            "INSERT INTO overruns(id, ticket_id, org_id, metric, deadline, recorded_at, reason,"
            " note, loss) VALUES (7, 5, 3, 'resolution', 100, 100, 'customer', 'theirs', 500000);"
            "INSERT INTO overruns(id, ticket_id, org_id, metric, deadline, recorded_at)"
            " VALUES (9, 5, 3, 'response', 50, 50);"
            "INSERT INTO contracts(id, org_id, value, currency, period_start, period_end,"
            " billing, deposit_percent, dual_above, created_at, updated_at)"
            " VALUES (2, 3, 100, 'CNY', 0, 1000, 'monthly', 10, 0, 0, 0);"
            "INSERT INTO ledger(id, org_id, seq, contract_id, kind, amount, ticket_id,"
            " overrun_id, actor, at, body, hash) VALUES (4, 3, 1, 2, 'accrual', 50, 5, 9, 1,"
            " 300, '{}', x'00');"
            "INSERT INTO watch_flags(id, org_id, flagged_at, ticket_id, overrun_id, overruns,"
            " window_from) VALUES (6, 3, 0, 5, 7, 3, 0)");
    sqlite3_close(db);

    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err); /* migrates to the newest */
    assert_non_null(st);
    assert_true(kw_store_schema_version(st) >= 28);
    kw_store_close(st);

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char got[256];
    assert_string_equal(text_of(db,
                                "SELECT group_concat(id || ':' || metric || ':' ||"
                                " coalesce(reason, '-') || ':' || coalesce(loss, '-'), ',')"
                                " FROM (SELECT * FROM overruns ORDER BY id)",
                                got, sizeof(got)),
                        "7:resolution:customer:500000,9:response:-:-");
    assert_string_equal(
        text_of(db, "SELECT count(*) FROM pragma_foreign_key_check", got, sizeof(got)), "0");
    assert_string_equal(text_of(db,
                                "SELECT (SELECT overrun_id FROM ledger WHERE id = 4) || ',' ||"
                                " (SELECT overrun_id FROM watch_flags WHERE id = 6)",
                                got, sizeof(got)),
                        "9,7");
    assert_string_equal(text_of(db,
                                "SELECT count(*) FROM sqlite_schema WHERE name IN"
                                " ('overruns_by_org', 'sqlite_autoindex_overruns_1',"
                                " 'period_closes') OR name = 'overruns_copy'",
                                got, sizeof(got)),
                        "3");
    exec_ok(db, "UPDATE overruns SET reason = 'force_majeure' WHERE id = 9");
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE overruns SET reason = 'weather' WHERE id = 9", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_deposit),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_reason_migration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
