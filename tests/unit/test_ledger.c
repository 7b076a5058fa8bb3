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
#include "tickets.h"
#include "sqlutil.h"
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

/* ---- a credit whose overrun's reason changes (docs/policy.md) ----
 * Contract value 1,000,000 minor units; L1's
 * resolution 1 h (wall), 0.5 % of the value per started hour late = 5,000
 * per hour, capped at 2 % = 20,000 per ticket; customer and force majeure
 * excluded. Every amount below is worked out by hand from that. */
static const char comp_policy[] =
    "{\"name\":\"Credits\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","
    "\"calendars\":{\"always\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"00:00\",\"24:00\"]],"
    "\"tue\":[[\"00:00\",\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\","
    "\"24:00\"]],\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],\"sun\":[["
    "\"00:00\",\"24:00\"]]}}},\"levels\":[\"L1\",\"L2\"],"
    "\"metrics\":[{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"]}],"
    "\"targets\":[{\"calendar\":\"always\",\"resolution\":\"1h\"}],"
    "\"compensation\":{\"rules\":[{\"when\":{\"level\":\"L1\"},\"metric\":\"resolution\","
    "\"credit\":{\"percent_per_hour\":0.5,\"hours\":\"wall\",\"cap_per_ticket\":{\"percent\":2}}}],"
    "\"exclude_reasons\":[\"customer\",\"force_majeure\"]}}";

struct book {
    char dir[64];
    struct kw_store *st;
    struct kw_sla sla;
    struct kw_unit u;
    int64_t org, contract;
    struct kw_actor mgr;
};

static void book_open(struct book *b)
{
    struct kw_err err = {0};
    snprintf(b->dir, sizeof(b->dir), "/tmp/kw-ledger-XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/kw.db", b->dir);
    b->st = kw_store_open(path, &err);
    assert_non_null(b->st);
    kw_sla_init(&b->sla);
    b->u = (struct kw_unit){.st = b->st,
                            .clocks = kw_clocks_new(&err),
                            .sla = &b->sla,
                            .now = at("2026-04-01T00:00:00Z")};
    struct kw_org o = {.name = "Acme"};
    struct kw_user m = {.email = "m@x", .name = "m", .role = "manager"};
    int64_t commitment, mid;
    assert_int_equal(kw_store_org_insert(b->st, &o, 0, &b->org, &err), KW_OK);
    assert_int_equal(kw_store_user_insert(b->st, &m, NULL, 0, &mid, &err), KW_OK);
    assert_int_equal(kw_store_commitment_insert(b->st, "Credits", "1", at("2026-01-01T00:00:00Z"),
                                                comp_policy, 0, &commitment, &err),
                     KW_OK);
    b->mgr = (struct kw_actor){.id = mid, .role = KW_ROLE_MANAGER};
    struct kw_contract c = {.org_id = b->org,
                            .commitment_id = commitment,
                            .value = 1000000,
                            .currency = "CNY",
                            .billing = "monthly",
                            .period_start = at("2026-01-01T00:00:00Z"),
                            .period_end = at("2027-01-01T00:00:00Z"),
                            .deposit_percent = 10,
                            .deposit_amount = -1,
                            .dual_above = 0};
    if (kw_contract_save(&b->u, &b->mgr, &c, &b->contract, &err) != KW_OK)
        fail_msg("contract: %s %s", err.field, err.msg);
}

static void book_close(struct book *b)
{
    char cmd[96];
    kw_sla_release(&b->sla);
    kw_clocks_free(b->u.clocks);
    kw_store_close(b->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", b->dir);
    assert_int_equal(system(cmd), 0);
}

static bool take_overrun(const struct kw_overrun_row *r, void *ctx)
{
    *(int64_t *)ctx = r->id;
    return false;
}

/* An L1 ticket created at t whose resolution clock breaches (its overrun
 * recorded at the deadline, as the engine does); the overrun's id. */
static int64_t late_ticket(struct book *b, const char *t, int64_t *ticket)
{
    struct kw_err err = {0};
    bool existed;
    b->u.now = at(t);
    struct kw_ticket_in in = {.org_id = b->org, .title = "Down", .level = "L1"};
    if (kw_ticket_create(&b->u, &b->mgr, &in, ticket, &existed, &err) != KW_OK)
        fail_msg("create: %s", err.msg);
    struct kw_ticket_row row;
    assert_int_equal(kw_store_ticket_get(b->st, *ticket, &row, &err), KW_OK);
    assert_int_equal(kw_store_overrun_add(b->st, *ticket, b->org, row.commitment_id, "resolution",
                                          at(t) + 3600, at(t) + 3600, &err),
                     KW_OK);
    struct kw_overrun_filter f = {.ticket_id = *ticket, .limit = 1};
    int64_t id = 0;
    assert_int_equal(kw_store_overruns(b->st, &f, take_overrun, &id, &err), KW_OK);
    assert_true(id > 0);
    return id;
}

static void explain(struct book *b, int64_t overrun, const char *reason, const char *t)
{
    struct kw_err err = {0};
    b->u.now = at(t);
    if (kw_overrun_explain(&b->u, &b->mgr, overrun, reason, "why", NULL, &err) != KW_OK)
        fail_msg("explain %s: %s", reason, err.msg);
}

static void resolve(struct book *b, int64_t ticket, const char *t)
{
    struct kw_err err = {0};
    b->u.now = at(t);
    if (kw_ticket_milestone(&b->u, &b->mgr, ticket, "resolved", &err) != KW_OK)
        fail_msg("resolve: %s", err.msg);
}

static void close_april(struct book *b)
{
    struct kw_err err = {0};
    int64_t entries, contracts;
    b->u.now = at("2026-05-01T00:05:00Z");
    if (kw_ledger_close(&b->u, at("2026-04-30T00:00:00Z") / 86400, &entries, &contracts, &err) !=
        KW_OK)
        fail_msg("close: %s", err.msg);
}

/* The overrun's entries as "kind amount [close]" lines, in order. */
struct lines {
    char s[512];
};
static bool line_add(const struct kw_ledger_row *e, void *ctx)
{
    struct lines *l = ctx;
    size_t n = strlen(l->s);
    snprintf(l->s + n, sizeof(l->s) - n, "%s%s %lld%s", n ? ", " : "", e->kind,
             (long long)e->amount, strstr(e->body, "\"period_close\"") ? " close" : "");
    return true;
}

static const char *lines_of(struct book *b, int64_t overrun)
{
    static struct lines l;
    l.s[0] = 0;
    struct kw_ledger_filter f = {
        .overrun_id = overrun, .from = KW_STORE_NO_TIME, .to = KW_STORE_NO_TIME, .limit = 100};
    assert_int_equal(kw_store_ledger(b->st, &f, line_add, &l, NULL), KW_OK);
    return l.s;
}

static void test_reason_changes(void **state)
{
    (void)state;
    static const struct {
        const char *name, *created;
        bool close_april;      /* April's period close while the run is open */
        const char *before[2]; /* reason, when: before the stop ("" none) */
        const char *resolved;
        const char *after[2]; /* reason, when: after the stop ("" none) */
        const char *want_before, *want;
    } rows[] = {
        {"stopped, then excluded: an adjustment brings it to 0",
         "2026-04-02T08:00:00Z",
         false,
         {"", ""},
         "2026-04-02T10:30:00Z",
         {"customer", "2026-04-02T11:00:00Z"},
         "", /* 1 h 30 min late: 2 started hours = 10,000 */
         "accrual 10000, adjustment -10000"},
        {"excluded while open, nothing accrued yet: the stop accrues under it",
         "2026-04-03T08:00:00Z",
         false,
         {"force_majeure", "2026-04-03T09:30:00Z"},
         "2026-04-03T11:30:00Z",
         {"staffing", "2026-04-03T12:00:00Z"},
         "",
         /* 2 h 30 min late: 3 started hours = 15,000, owed only once not excluded */
         "accrual 0, adjustment 15000"},
        {"the cap holds when a reason restores it",
         "2026-04-04T08:00:00Z",
         false,
         {"customer", "2026-04-04T09:10:00Z"},
         "2026-04-04T14:30:00Z",
         {"technology", "2026-04-04T15:00:00Z"},
         "",
         /* 5 h 30 min late: 6 hours = 30,000, capped at 2 % = 20,000 */
         "accrual 0, adjustment 20000"},
        {"open at April's close, then excluded: adjusted at once, the stop adds nothing",
         "2026-04-30T22:00:00Z",
         true,
         {"force_majeure", "2026-05-01T00:10:00Z"},
         "2026-05-01T00:20:00Z",
         {"technology", "2026-05-01T00:30:00Z"},
         /* 1 h late at the close = 5,000; excluded: -5,000 measured to the close */
         "accrual 5000 close, adjustment -5000 close",
         /* stopped 1 h 20 min late: 0 under force majeure; then 2 hours = 10,000 */
         "accrual 5000 close, adjustment -5000 close, accrual 0, adjustment 10000"},
        {"open at April's close, reason not excluded either way: no line",
         "2026-04-30T21:30:00Z",
         true,
         {"staffing", "2026-05-01T00:10:00Z"},
         "2026-05-01T01:00:00Z",
         {"", ""},
         /* 1 h 30 min late at the close: 2 hours = 10,000; the new reason owes the same */
         "accrual 10000 close",
         /* stopped 2 h 30 min late: 3 hours = 15,000, the rest 5,000 at the stop */
         "accrual 10000 close, accrual 5000"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct book b;
        book_open(&b);
        int64_t ticket, ov = late_ticket(&b, rows[i].created, &ticket);
        if (rows[i].close_april)
            close_april(&b);
        if (rows[i].before[0][0])
            explain(&b, ov, rows[i].before[0], rows[i].before[1]);
        if (strcmp(lines_of(&b, ov), rows[i].want_before) != 0)
            fail_msg("%s: before the stop: got \"%s\", want \"%s\"", rows[i].name, lines_of(&b, ov),
                     rows[i].want_before);
        resolve(&b, ticket, rows[i].resolved);
        if (rows[i].after[0][0])
            explain(&b, ov, rows[i].after[0], rows[i].after[1]);
        if (strcmp(lines_of(&b, ov), rows[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", rows[i].name, lines_of(&b, ov), rows[i].want);
        book_close(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periods),        cmocka_unit_test(test_deposit),
        cmocka_unit_test(test_chain),          cmocka_unit_test(test_reason_migration),
        cmocka_unit_test(test_reason_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
