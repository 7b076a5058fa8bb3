// SPDX-License-Identifier: MIT
/* The store contract on SQLite: migrations, tickets, the hash chain,
 * idempotent creates, append-only events, tamper detection. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "testutil.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ticket_and_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering_is_detected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
