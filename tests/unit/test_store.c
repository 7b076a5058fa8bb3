// SPDX-License-Identifier: MIT
/* The store contract on SQLite: migrations, tickets, the hash chain,
 * idempotent creates, append-only events, tamper detection. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <pthread.h>

#include "store.h"
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

static void test_ticket_and_chain(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id = new_ticket(f, NULL, NULL), seq = 0;
    char st[32];
    assert_int_equal(kw_store_ticket_state(f->st, id, st, sizeof(st), &err), KW_OK);
    assert_string_equal(st, "registered");
    assert_int_equal(kw_store_event_append(f->st, id, "milestone",
                                           "{\"milestone\":\"first_response\"}", 3,
                                           T("2026-03-02T01:05:00Z"), NULL, &seq, &err),
                     KW_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(kw_store_event_append(f->st, id, "state", "{\"state\":\"analysing\"}", 3,
                                           T("2026-03-02T01:06:00Z"), "analysing", &seq, &err),
                     KW_OK);
    assert_int_equal(seq, 3);
    assert_int_equal(kw_store_ticket_state(f->st, id, st, sizeof(st), &err), KW_OK);
    assert_string_equal(st, "analysing");
    unsigned char head[KW_HASH_BYTES];
    assert_int_equal(kw_store_verify(f->st, id, head, &err), KW_OK);
    /* Bodies are stored canonically: sorted keys, compact. */
    assert_int_equal(kw_store_event_append(f->st, id, "comment", "{ \"z\": 1, \"a\": \"x\" }", 3,
                                           T("2026-03-02T01:07:00Z"), NULL, &seq, &err),
                     KW_OK);
    assert_int_equal(kw_store_verify(f->st, id, head, &err), KW_OK);
    /* Errors */
    assert_int_equal(kw_store_event_append(f->st, 999, "comment", "{}", 3, 0, NULL, &seq, &err),
                     KW_NOT_FOUND);
    assert_int_equal(kw_store_event_append(f->st, id, "comment", "[1]", 3, 0, NULL, &seq, &err),
                     KW_INVALID);
    struct kw_ticket_new t = {.org_id = 4242, .title = "x", .level = "L1"};
    bool existed;
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_NOT_FOUND);
    assert_string_equal(err.field, "/org_id");
    t.org_id = f->org;
    t.title = "";
    assert_int_equal(kw_store_ticket_create(f->st, &t, &id, &existed, &err), KW_INVALID);
    assert_string_equal(err.field, "/title");
}

/* ---- group commit ---- */

struct append_job {
    int64_t ticket;
    int n;
    bool fail; /* append, then fail: the unit must leave nothing behind */
};

static enum kw_code append_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct append_job *j = ctx;
    char body[64];
    snprintf(body, sizeof(body), "{\"text\":\"n%d\"}", j->n);
    if (kw_store_event_append(st, j->ticket, "comment", body, 1, T("2026-03-02T02:00:00Z"), NULL,
                              NULL, err) != KW_OK)
        return err->code;
    return j->fail ? kw_err_set(err, KW_CONFLICT, "", "unit %d fails on purpose", j->n) : KW_OK;
}

struct client {
    struct kw_writer *w;
    int64_t ticket;
    int first, ok, failed;
};

static void *client_run(void *arg)
{
    struct client *c = arg;
    for (int i = 0; i < 50; i++) {
        struct append_job j = {c->ticket, c->first + i, (c->first + i) % 10 == 3};
        struct kw_err err = {0};
        if (kw_writer_run(c->w, append_unit, &j, &err) == KW_OK)
            c->ok++;
        else if (err.code == KW_CONFLICT)
            c->failed++;
    }
    return NULL;
}

static void test_writer_batches(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id = new_ticket(f, NULL, NULL);
    struct kw_writer *w = kw_writer_start(f->path, &err);
    assert_non_null(w);
    struct client c[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        c[i] = (struct client){w, id, i * 1000, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, client_run, &c[i]), 0);
    }
    int ok = 0, failed = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ok += c[i].ok;
        failed += c[i].failed;
    }
    struct kw_writer_stats stats;
    kw_writer_stats(w, &stats);
    kw_writer_stop(w);
    /* every unit answered; the failing ones (n % 10 == 3) left nothing */
    assert_int_equal(ok, 8 * 45);
    assert_int_equal(failed, 8 * 5);
    assert_int_equal(stats.units, 400);
    assert_true(stats.batches <= stats.units);
    struct kw_ticket_row row;
    assert_int_equal(kw_store_ticket_get(f->st, id, &row, &err), KW_OK);
    assert_int_equal(row.last_seq, 1 + 8 * 45);
    assert_int_equal(kw_store_verify(f->st, id, NULL, &err), KW_OK);
}

static void test_events_stay_in_time_order(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id = new_ticket(f, NULL, NULL);
    /* the clock stepped back: the event takes the last event's instant */
    assert_int_equal(kw_store_event_append(f->st, id, "comment", "{}", 3, T("2026-03-02T00:00:00Z"),
                                           NULL, NULL, &err),
                     KW_OK);
    struct kw_ticket_row row;
    assert_int_equal(kw_store_ticket_get(f->st, id, &row, &err), KW_OK);
    assert_int_equal(row.updated_at, T("2026-03-02T01:00:00Z"));
}

static void test_idempotent_create(void **state)
{
    struct fx *f = *state;
    bool existed = true;
    int64_t a = new_ticket(f, "retry-1", &existed);
    assert_false(existed);
    int64_t b = new_ticket(f, "retry-1", &existed);
    assert_true(existed);
    assert_int_equal(a, b);
    int64_t c = new_ticket(f, "retry-2", &existed);
    assert_false(existed);
    assert_int_not_equal(a, c);
}

static void test_tampering_is_detected(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id = new_ticket(f, NULL, NULL), seq;
    kw_store_event_append(f->st, id, "comment", "{\"text\":\"all good\"}", 3,
                          T("2026-03-02T02:00:00Z"), NULL, &seq, &err);
    kw_store_event_append(f->st, id, "milestone", "{\"milestone\":\"resolved\"}", 3,
                          T("2026-03-02T03:00:00Z"), NULL, &seq, &err);
    assert_int_equal(kw_store_verify(f->st, id, NULL, &err), KW_OK);
    /* The database refuses changes to events... */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    char *msg = NULL;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE events SET body = '{\"text\":\"never mind\"}' WHERE ticket_id = %lld AND "
             "seq = 2",
             (long long)id);
    assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    /* ...and someone who drops the guard is still found out. */
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER events_no_update", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(kw_store_verify(f->st, id, NULL, &err), KW_CONFLICT);
    assert_non_null(strstr(err.msg, "event 2 does not match its hash"));
}

static void test_users_and_tokens(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t admin, who = 0;
    struct kw_user u = {.email = "boss@example.com", .name = "Boss", .role = "admin"};
    assert_int_equal(kw_store_user_insert(f->st, &u, "correct horse", 1, &admin, &err), KW_OK);
    assert_int_equal(kw_store_user_insert(f->st, &u, "correct horse", 1, &who, &err), KW_CONFLICT);
    assert_string_equal(err.field, "/email");
    struct kw_user bad = {.email = "x@example.com", .name = "X", .role = "root"};
    assert_int_equal(kw_store_user_insert(f->st, &bad, NULL, 1, &who, &err), KW_INVALID);
    assert_string_equal(err.field, "/role");
    bad.role = "agent";
    assert_int_equal(kw_store_user_insert(f->st, &bad, "short", 1, &who, &err), KW_INVALID);
    assert_string_equal(err.field, "/password");
    bad.org_id = 999;
    assert_int_equal(kw_store_user_insert(f->st, &bad, NULL, 1, &who, &err), KW_NOT_FOUND);
    int64_t n;
    assert_int_equal(kw_store_user_count(f->st, "admin", &n, &err), KW_OK);
    assert_int_equal(n, 1);
    /* the stored password is an argon2id hash, never the password */
    sqlite3 *db;
    sqlite3_stmt *x;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "SELECT password_hash FROM users", -1, &x, NULL);
    assert_int_equal(sqlite3_step(x), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(x, 0), "$argon2id$"));
    sqlite3_finalize(x);

    char token[KW_TOKEN_BUF];
    assert_int_equal(
        kw_store_login(f->st, "boss@example.com", "wrong horse", 10, 3600, token, &who, &err),
        KW_UNAUTHENTICATED);
    assert_string_equal(err.msg, "wrong e-mail or password");
    assert_int_equal(
        kw_store_login(f->st, "nobody@example.com", "correct horse", 10, 3600, token, &who, &err),
        KW_UNAUTHENTICATED);
    assert_string_equal(err.msg, "wrong e-mail or password");
    assert_int_equal(
        kw_store_login(f->st, "boss@example.com", "correct horse", 10, 3600, token, &who, &err),
        KW_OK);
    assert_int_equal(who, admin);
    assert_int_equal(strncmp(token, "kw_", 3), 0);
    assert_int_equal(strlen(token), 46);
    /* only the token's hash is stored */
    sqlite3_prepare_v2(db, "SELECT count(*) FROM tokens WHERE hash = ?1", -1, &x, NULL);
    sqlite3_bind_text(x, 1, token, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(x), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(x, 0), 0);
    sqlite3_finalize(x);
    sqlite3_close(db);
    who = 0;
    assert_int_equal(kw_store_token_user(f->st, token, 100, &who, &err), KW_OK);
    assert_int_equal(who, admin);
    assert_int_equal(kw_store_token_user(f->st, token, 3610, &who, &err), KW_UNAUTHENTICATED);
    assert_int_equal(kw_store_token_user(f->st, "kw_forged", 100, &who, &err), KW_UNAUTHENTICATED);
    assert_int_equal(kw_store_token_revoke(f->st, token, 200, &err), KW_OK);
    assert_int_equal(kw_store_token_user(f->st, token, 201, &who, &err), KW_UNAUTHENTICATED);
    assert_int_equal(kw_code_status(KW_UNAUTHENTICATED), 401);
}

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
        if (kw_store_due_claim(f->st, cases[i].now, 30, cases[i].node, cases[i].limit, ids, &n,
                               &err) != KW_OK)
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
    assert_int_equal(kw_store_due_claim(f->st, 150, 30, "n1", 10, ids, &n, &err), KW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ticket_and_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_stay_in_time_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering_is_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_and_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_claim, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
