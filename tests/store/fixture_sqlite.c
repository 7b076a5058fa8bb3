// SPDX-License-Identifier: MIT
/* The store contract's fixture for SQLite: a fresh database file in its own
 * temporary directory per test; tampering goes through a connection of its
 * own, the way someone holding the file could. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

struct fixture {
    char dir[64], path[128], bad[128];
    struct kw_store *st;
};

struct fixture *fixture_open(void)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        fail_msg("no memory for the fixture");
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/kw-contract-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir))
        fail_msg("mkdtemp %s failed", fx->dir);
    snprintf(fx->path, sizeof(fx->path), "%s/kw.db", fx->dir);
    struct kw_err err = {0};
    fx->st = kw_store_open(fx->path, &err);
    if (!fx->st)
        fail_msg("open %s: %s", fx->path, err.msg);
    return fx;
}

void fixture_close(struct fixture *fx)
{
    if (!fx)
        return;
    kw_store_close(fx->st);
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[160];
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", fx->path, suffix[i]);
        unlink(p);
    }
    if (fx->bad[0])
        unlink(fx->bad);
    rmdir(fx->dir);
    free(fx);
}

struct kw_store *fixture_store(struct fixture *fx)
{
    return fx->st;
}

struct kw_store *fixture_reopen(struct fixture *fx)
{
    kw_store_close(fx->st);
    fx->st = fixture_peer(fx);
    return fx->st;
}

struct kw_store *fixture_peer(struct fixture *fx)
{
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(fx->path, &err);
    if (!st)
        fail_msg("open %s again: %s", fx->path, err.msg);
    return st;
}

const char *fixture_location(struct fixture *fx)
{
    return fx->path;
}

const char *fixture_not_a_store(struct fixture *fx)
{
    snprintf(fx->bad, sizeof(fx->bad), "%s/not-a-db", fx->dir);
    FILE *fp = fopen(fx->bad, "w");
    if (!fp)
        fail_msg("cannot write %s", fx->bad);
    fputs("hello, this is not sqlite at all, just some text that is long enough", fp);
    fclose(fp);
    return fx->bad;
}

void fixture_tamper_event(struct fixture *fx, int64_t ticket, int64_t seq, const char *body,
                          bool *guarded)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *x = NULL;
    if (sqlite3_open(fx->path, &db) != SQLITE_OK)
        fail_msg("tamper: open %s: %s", fx->path, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 5000);
    const char *sql = "UPDATE events SET body = ?3 WHERE ticket_id = ?1 AND seq = ?2";
    for (int round = 0; round < 2; round++) {
        if (sqlite3_prepare_v2(db, sql, -1, &x, NULL) != SQLITE_OK)
            fail_msg("tamper: %s", sqlite3_errmsg(db));
        sqlite3_bind_int64(x, 1, ticket);
        sqlite3_bind_int64(x, 2, seq);
        sqlite3_bind_text(x, 3, body, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(x);
        bool refused = rc != SQLITE_DONE && strstr(sqlite3_errmsg(db), "append-only") != NULL;
        sqlite3_finalize(x);
        if (round == 0) {
            *guarded = refused;
            if (!refused)
                break; /* no guard: the change went through (or failed for another reason) */
            /* the guard is a trigger: someone holding the file can drop it */
            if (sqlite3_exec(db, "DROP TRIGGER events_no_update", NULL, NULL, NULL) != SQLITE_OK)
                fail_msg("tamper: drop the guard: %s", sqlite3_errmsg(db));
        } else if (rc != SQLITE_DONE) {
            fail_msg("tamper: update: %s", sqlite3_errmsg(db));
        }
    }
    if (sqlite3_changes(db) != 1)
        fail_msg("tamper: no event %lld of ticket %lld", (long long)seq, (long long)ticket);
    /* put the guard back, as the next tamperer will find it */
    if (*guarded && sqlite3_exec(db,
                                 "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
                                 " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
                                 NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("tamper: restore the guard: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* Whether needle occurs in the file at path (a missing file holds nothing). */
static bool file_holds(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    size_t cap = 1 << 16, len = 0, nl = strlen(needle);
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += got;
        if (len == cap) {
            char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    fclose(fp);
    if (!buf)
        fail_msg("no memory to read %s", path);
    bool found = false;
    for (size_t i = 0; !found && nl <= len && i <= len - nl; i++)
        found = memcmp(buf + i, needle, nl) == 0;
    free(buf);
    return found;
}

bool fixture_at_rest(struct fixture *fx, const char *text)
{
    /* the main file and its write-ahead log: together all that is kept */
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", fx->path);
    return file_holds(fx->path, text) || file_holds(wal, text);
}

bool fixture_covers(const char *test)
{
    (void)test;
    return true;
}
