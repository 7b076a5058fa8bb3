// SPDX-License-Identifier: MIT
/* The connection: open (configure, migrate, prepare every catalogue), close,
 * transactions and savepoints, and the helpers the aggregate files share. */
#include "sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kw_buf.h"

enum stmt {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_HAS_ORG, /* in the order of enum kws_table */
    S_HAS_TEAM,
    S_HAS_USER,
    S_HAS_ENDPOINT,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT kw",
    [S_RELEASE] = "RELEASE kw",
    [S_ROLLBACK_TO] = "ROLLBACK TO kw",
    [S_HAS_ORG] = "SELECT 1 FROM orgs WHERE id = ?1",
    [S_HAS_TEAM] = "SELECT 1 FROM teams WHERE id = ?1",
    [S_HAS_USER] = "SELECT 1 FROM users WHERE id = ?1",
    [S_HAS_ENDPOINT] = "SELECT 1 FROM endpoints WHERE id = ?1",
};

const struct kws_catalogue kws_db_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_DB, (int)s);
}

enum kw_code kws_fail(struct kw_store *st, struct kw_err *err, const char *what)
{
    snprintf(st->failed, sizeof(st->failed), "%s: %s", what, sqlite3_errmsg(st->db));
    return kw_err_set(err, KW_STORE, "", "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

/* Run a statement without rows; whether it succeeded. */
static bool exec1(struct kw_store *st, enum stmt s)
{
    sqlite3_stmt *x = prep(st, s);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE;
}

/* BEGIN IMMEDIATE. A read this handle left open (a statement still on a
 * row: store.h lets a caller read, then write, without kw_store_end_read)
 * holds an old snapshot, and once another handle has committed SQLite
 * refuses to make it a write (SQLITE_BUSY_SNAPSHOT): then the read is
 * ended, as the next call on the handle ends what it lent anyway, and the
 * BEGIN is tried once more. */
static bool begin_outer(struct kw_store *st)
{
    kws_targets_stale(st);
    sqlite3_stmt *x = prep(st, S_BEGIN);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return true;
    if (ext != SQLITE_BUSY_SNAPSHOT)
        return false;
    kw_store_end_read(st);
    return exec1(st, S_BEGIN);
}

static const struct kws_catalogue *const catalogues[KWS_PARTS] = {
    [KWS_DB] = &kws_db_sql,
    [KWS_TICKETS] = &kws_tickets_sql,
    [KWS_EVENTS] = &kws_events_sql,
    [KWS_AUTH] = &kws_auth_sql,
    [KWS_ORG] = &kws_org_sql,
    [KWS_OUTBOX] = &kws_outbox_sql,
    [KWS_ONCALL] = &kws_oncall_sql,
    [KWS_OVERRUNS] = &kws_overruns_sql,
    [KWS_LOG] = &kws_log_sql,
    [KWS_KPI] = &kws_kpi_sql,
    [KWS_PEOPLE] = &kws_people_sql,
    [KWS_ATTACH] = &kws_attach_sql,
    [KWS_VIEWS] = &kws_views_sql,
    [KWS_NOTIFY] = &kws_notify_sql,
    [KWS_LEDGER] = &kws_ledger_sql,
    [KWS_INTAKE] = &kws_intake_sql,
    [KWS_MAIL] = &kws_mail_sql,
    [KWS_WATCH] = &kws_watch_sql,
    [KWS_WATCHERS] = &kws_watchers_sql,
    [KWS_LINKS] = &kws_links_sql,
};

enum kw_code kws_each_row(struct kw_store *st, sqlite3_stmt *x,
                          bool (*on_row)(sqlite3_stmt *x, void *arg), void *arg, const char *what,
                          struct kw_err *err)
{
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW)
        if (!on_row(x, arg))
            break;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, what);
}

/* Each handle is used by one thread at a time (store.h), so SQLite's own
 * locking is only cost: multi-thread mode, and no global memory statistics
 * (whose mutex every allocation would take). Once per process.
 * The statement journal is held in memory as one block of this size, and
 * SQLite writes that block to its file in one write when it spills; its
 * unix VFS writes at most 128 KiB at once (os_unix.c, seekAndWriteFd masks
 * the length with 0x1ffff), so a larger block is written short, which
 * SQLite reports as SQLITE_FULL with no failing system call. At 16 MiB every
 * unit that changed more than 4,000 pages failed "database or disk is full"
 * (docs/operations.md, "Engine"). Keep it below 128 KiB. Each page a unit
 * changes is copied into it (4 KiB and its number: 30 fit in 124 KiB, 15
 * in 64 KiB), and once it has spilled, the rest of the batch's units write
 * theirs to the file, two system calls a page: at 64 KiB a create (about
 * 21 pages) spilled and a group commit of 16 made some 40 calls per create,
 * half of the writer's time (#20); at 124 KiB it spills no more. */
#define STMT_JOURNAL_SPILL (124 << 10)
_Static_assert(STMT_JOURNAL_SPILL < (128 << 10), "SQLite writes a spilled block in one write");
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    kws_mem_install();    /* no lookaside in Debian's SQLite (#20) */
    kws_pcache_install(); /* no commit walks the cache after a balance */
    /* the writer's statement journal in memory up to this size (open_store) */
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_SPILL);
    sqlite3_initialize();
}

/* SQLite rolls a whole transaction back by itself after some errors
 * (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM in a statement without a
 * statement journal); a statement run after that is in autocommit mode and
 * would commit on its own, and a SAVEPOINT would begin a transaction that
 * its RELEASE commits. While a caller's transaction is open (kw_store_begin)
 * only its COMMIT may commit: any other commit is turned into a rollback,
 * so nothing is committed behind the batch's back. */
static int commit_guard(void *arg)
{
    const struct kw_store *st = arg;
    return st->batch && !st->committing;
}

/* The caller's transaction (kw_store_begin) is open but SQLite has rolled
 * it back: KW_STORE, and the batch must be given up (writer.c). */
static bool batch_lost(struct kw_store *st)
{
    return st->batch && sqlite3_get_autocommit(st->db);
}

static enum kw_code lost(struct kw_store *st, struct kw_err *err)
{
    return kw_err_set(err, KW_STORE, "", "%s: the transaction was rolled back after: %s", st->path,
                      st->failed[0] ? st->failed : "an error");
}

/* The wait for the log's write lock before a checkpoint: up to 200 ms, in
 * steps of 1 ms. Only another process's write can hold it that long (the
 * server's writer pauses while its upkeep checkpoints, writer.c); then the
 * checkpoint waits for the next turn. */
static int lock_wait(void *arg, int tries)
{
    (void)arg;
    if (tries >= 200)
        return 0;
    nanosleep(&(struct timespec){.tv_nsec = 1000000L}, NULL);
    return 1;
}

/* A PASSIVE checkpoint (copy what no reader still needs, never waiting for
 * readers) with the log's write lock held meanwhile by a handle of its own
 * (st->lock, BEGIN IMMEDIATE, rolled back after), so that no commit, in
 * this process or another, can start the log over while it runs.
 *
 * SQLite before 3.51.3 (Debian 12 has 3.40) has the WAL-reset bug
 * (https://sqlite.org/wal.html#walresetbug): a checkpoint that does not hold
 * the write lock, running while another handle's commit starts the log over,
 * can record the new log's first frames as already copied. Readers then
 * skip them, and the last handle to close deletes the log without copying
 * them: commits acknowledged and lost. The server lost logins' tokens so at
 * about 1 start in 100 (its upkeep's PASSIVE checkpoints every 100 ms
 * against the writer's commits; http_commitments failed in CI). RESTART and
 * TRUNCATE checkpoints take the write lock themselves; a PASSIVE one does
 * not, hence this. SQLITE_BUSY when the lock could not be had: nothing was
 * copied, the next call tries again. */
static int checkpoint_locked(struct kw_store *st, int *log, int *done)
{
    *log = *done = 0;
    if (!st->lock) {
        if (sqlite3_open_v2(st->path, &st->lock, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
            sqlite3_close(st->lock);
            st->lock = NULL;
            return SQLITE_CANTOPEN;
        }
        sqlite3_busy_handler(st->lock, lock_wait, NULL);
    }
    int rc = sqlite3_exec(st->lock, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, log, done);
    sqlite3_exec(st->lock, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* A checkpoint after commits (wal_grew, kw_store_end_read): one that could
 * not run now (a statement still on a row, or the write lock taken) is
 * owed, and runs at the next kw_store_end_read. */
static void checkpoint_owed(struct kw_store *st)
{
    int log, done;
    int rc = checkpoint_locked(st, &log, &done);
    st->wal_owed = rc == SQLITE_LOCKED || rc == SQLITE_BUSY;
}

/* After each commit of a connection other than the writer's, in place of
 * SQLite's automatic checkpoint (which this hook replaces, at the same
 * 1,000 pages, and which is PASSIVE without the write lock:
 * checkpoint_locked): a commit made while a statement is still on a row
 * cannot checkpoint (SQLITE_LOCKED), and SQLite does not try again when the
 * statement is reset, so a command that writes in many transactions and
 * reads between them (`kpi rebuild`, a fill) grew the log to gigabytes,
 * copying nothing into the database until it closed. What could not run
 * here is owed, and kw_store_end_read runs it. */
static int wal_grew(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct kw_store *st = arg;
    (void)db;
    (void)name;
    if (pages >= 1000)
        checkpoint_owed(st);
    return SQLITE_OK;
}

/* The wait for a lock another handle holds, up to 5 s in all as
 * sqlite3_busy_timeout(5000), but in steps of 50 us doubling to 1 ms
 * instead of SQLite's 1, 2, 5, 10, 15, 20, 25 ... 100 ms: the upkeep's
 * RESTART checkpoint (kw_store_maintain) holds the write lock for about a
 * millisecond while readers leave the log, and the writer, meeting it,
 * slept 1 + 2 + 5 + 10 ms before it looked again (every create waiting
 * behind it, #20). */
static int busy_wait(void *arg, int tries)
{
    (void)arg;
    long step_us = tries < 5 ? 50L << tries : 1000L;
    long slept_us = tries < 5 ? 50L * ((1L << tries) - 1) : 1550L + 1000L * (tries - 5);
    if (slept_us >= 5000000L)
        return 0;
    nanosleep(&(struct timespec){.tv_nsec = step_us * 1000L}, NULL);
    return 1;
}

static struct kw_store *open_store(const char *path, bool writer, struct kw_err *err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    struct kw_store *st = calloc(1, sizeof(*st));
    if (!st) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the store");
        return NULL;
    }
    snprintf(st->path, sizeof(st->path), "%s", path);
    /* the writer's WAL frames go out in one write per commit (walbuf.c) */
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        writer ? kws_walbuf_vfs() : NULL) != SQLITE_OK) {
        kws_fail(st, err, "open");
        goto fail;
    }
    sqlite3_busy_handler(st->db, busy_wait, NULL);
    sqlite3_commit_hook(st->db, commit_guard, st);
    if (kws_search_tokenizer(st->db) != SQLITE_OK) { /* before the migrations use it */
        kws_fail(st, err, "register the search tokenizer");
        goto fail;
    }
    /* WAL: readers never block the writer; synchronous=FULL: a committed
     * write survives power loss, since writes are acknowledged after commit
     * (and the writer's VFS, walbuf.c, writes what it gathered at that
     * sync, before the WAL index shows the frames to readers). */
    if (sqlite3_exec(st->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                     " PRAGMA temp_store=MEMORY;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        kws_fail(st, err, "configure");
        goto fail;
    }
    /* The writer runs each unit in a savepoint (and the engine each ticket
     * of a unit in one more): every page a unit changes goes to the
     * statement journal, and each statement that needs one (an upsert, a
     * delete, an insert from a select) truncates it at its end. In memory
     * (temp_store=MEMORY) that truncation walks the journal from its start,
     * so a unit's cost grew with the square of the pages it changed (44 %
     * of a busy engine's time); held in memory up to
     * 64 KiB as one block (SQLITE_CONFIG_STMTJRNL_SPILL) and in a file
     * beyond, it is at most one ftruncate. */
    /* The writer's page cache: 64 MiB instead of SQLite's 2 MiB, which
     * cannot hold even the B-trees' interior pages of a 1,000,000-ticket
     * desk (a gigabyte). At 20,000 tickets a
     * firing or update read 9.1 pages with pread before, 8.0 after (#20).
     * Pages are taken as used, not up front. */
    if (writer && sqlite3_exec(st->db, "PRAGMA temp_store=FILE; PRAGMA cache_size=-65536", NULL,
                               NULL, NULL) != SQLITE_OK) {
        kws_fail(st, err, "configure");
        goto fail;
    }
    /* A reading connection maps the file (up to 1 GiB) instead of copying
     * each page from the OS cache into SQLite's 2 MiB one: a monthly report
     * on 1,000,000 tickets spent 1.7-3.3 s of system time in pread and page
     * faults, ~1.0 s mapped (#15). The writer maps it too, up to SQLite's
     * limit (2 GiB): a page it only reads (its SELECTs' cursors) and has not
     * cached is read through the map, with no system call and no copy into
     * its cache; a page it changes is read into the cache as before (#20: at
     * 1,000,000 tickets, past its 64 MiB cache, 6.4 reads a firing). */
    if (sqlite3_exec(st->db, writer ? "PRAGMA mmap_size=2147418112" : "PRAGMA mmap_size=1073741824",
                     NULL, NULL, NULL) != SQLITE_OK) {
        kws_fail(st, err, "configure");
        goto fail;
    }
    if (!writer)
        sqlite3_wal_hook(st->db, wal_grew, st);
    if (kws_migrate(st, err) != KW_OK)
        goto fail;
    size_t all = 0;
    for (int p = 0; p < KWS_PARTS; p++)
        all += (size_t)catalogues[p]->n;
    st->used = calloc(all ? all : 1, sizeof(*st->used));
    if (!st->used) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the store");
        goto fail;
    }
    for (int p = 0; p < KWS_PARTS; p++) {
        const struct kws_catalogue *c = catalogues[p];
        st->stmt[p] = calloc((size_t)c->n, sizeof(*st->stmt[p]));
        st->listed[p] = calloc((size_t)c->n ? (size_t)c->n : 1, sizeof(*st->listed[p]));
        if (!st->stmt[p] || !st->listed[p]) {
            kw_err_set(err, KW_NOMEM, "", "no memory for the store");
            goto fail;
        }
        for (int s = 0; s < c->n; s++)
            if (sqlite3_prepare_v3(st->db, c->sql[s], -1, SQLITE_PREPARE_PERSISTENT,
                                   &st->stmt[p][s], NULL) != SQLITE_OK) {
                kws_fail(st, err, c->sql[s]);
                goto fail;
            }
    }
    if (kws_log_backfill(st, err) != KW_OK)
        goto fail;
    return st;
fail:
    kw_store_close(st);
    return NULL;
}

struct kw_store *kw_store_open(const char *path, struct kw_err *err)
{
    return open_store(path, false, err);
}

void kw_store_end_read(struct kw_store *st)
{
    /* a statement left on a row holds the read snapshot and lends its text;
     * only such a statement (busy) needs a reset, and only one taken since
     * the last call can be on a row: resetting every slot of every
     * catalogue was 23,000 instructions per writer batch, walking the
     * connection's 258 statements 14,800 (#20); and outside a transaction
     * a statement holding a row holds a read transaction, so with none
     * open there is nothing to reset */
    bool none =
        sqlite3_get_autocommit(st->db) && sqlite3_txn_state(st->db, NULL) == SQLITE_TXN_NONE;
    for (size_t i = 0; i < st->n_used; i++) {
        if (!none && sqlite3_stmt_busy(st->used[i].x))
            sqlite3_reset(st->used[i].x);
        *st->used[i].listed = false;
    }
    st->n_used = 0;
    if (st->wal_owed && sqlite3_get_autocommit(st->db))
        checkpoint_owed(st);
}

void kw_store_small_reads(struct kw_store *st)
{
    /* a setting, no data: if it fails the handle maps as before */
    sqlite3_exec(st->db, "PRAGMA mmap_size=0", NULL, NULL, NULL);
}

void kw_store_close(struct kw_store *st)
{
    if (!st)
        return;
    for (int p = 0; p < KWS_PARTS; p++) {
        for (int s = 0; st->stmt[p] && s < catalogues[p]->n; s++)
            sqlite3_finalize(st->stmt[p][s]);
        free(st->stmt[p]);
        free(st->listed[p]);
    }
    free(st->used);
    sqlite3_close(st->lock);
    sqlite3_close(st->db);
    kws_targets_free(st);
    kws_held_forget(st);
    free(st->texts);
    free(st->runs);
    free(st->run_text);
    free(st->marks);
    free(st);
}

enum kw_code kws_text_ok(const char *s, const char *field, struct kw_err *err)
{
    if (s && strlen(s) > KW_STORE_TEXT_MAX)
        return kw_err_set(err, KW_TOO_BIG, field, "%s: longer than %d bytes", field + 1,
                          KW_STORE_TEXT_MAX);
    return KW_OK;
}

enum kw_code kws_missing(struct kw_store *st, const struct kws_ref *refs, size_t n,
                         const char *fallback, struct kw_err *err)
{
    static const char *const what[] = {"organisation", "team", "user", "endpoint"};
    for (size_t i = 0; i < n; i++) {
        if (refs[i].id <= 0)
            continue;
        sqlite3_stmt *x = prep(st, (enum stmt)(S_HAS_ORG + (int)refs[i].table));
        sqlite3_bind_int64(x, 1, refs[i].id);
        int rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc == SQLITE_DONE)
            return kw_err_set(err, KW_NOT_FOUND, refs[i].field, "%s: no %s %lld", refs[i].field + 1,
                              what[refs[i].table], (long long)refs[i].id);
        if (rc != SQLITE_ROW)
            return kws_fail(st, err, "look up a reference");
    }
    return kw_err_set(err, KW_NOT_FOUND, "", "%s", fallback);
}

enum kw_code kws_held_flush(struct kw_store *st, struct kw_err *err)
{
    enum kw_code rc = kws_runs_flush(st, err);
    return rc == KW_OK ? kws_search_flush(st, err) : rc;
}

enum kw_code kws_held_mark(struct kw_store *st, struct kw_err *err)
{
    if (!kw_grow((void **)&st->marks, &st->cap_marks, st->n_marks + 1, sizeof(*st->marks)))
        return kw_err_set(err, KW_NOMEM, "", "no memory for a savepoint");
    st->marks[st->n_marks++] = (struct kws_mark){st->n_texts, st->n_runs, st->runs_done,
                                                 st->n_run_text, sqlite3_total_changes64(st->db)};
    return KW_OK;
}

void kws_held_undo(struct kw_store *st, bool keep)
{
    if (!st->n_marks)
        return;
    const struct kws_mark *m = &st->marks[--st->n_marks];
    if (keep)
        return;
    kws_search_drop(st, m->texts);
    /* the rollback took out the runs written since the mark */
    st->n_runs = m->runs;
    st->runs_done = m->runs_done;
    st->n_run_text = m->run_text;
}

void kws_held_forget(struct kw_store *st)
{
    kws_search_drop(st, 0);
    st->n_runs = st->runs_done = st->n_run_text = 0;
    st->n_marks = 0;
}

/* Whether the caller's savepoint is the newest and nothing was written
 * or held since it began (struct kw_store's unit_fresh). */
static bool unit_untouched(struct kw_store *st)
{
    if (!st->unit_fresh || !st->n_marks || sqlite3_total_changes64(st->db) != st->unit_changes)
        return false;
    const struct kws_mark *m = &st->marks[st->n_marks - 1];
    return m->texts == st->n_texts && m->runs == st->n_runs && m->runs_done == st->runs_done &&
           m->run_text == st->n_run_text;
}

/* Forget what the open transaction wrote and held since the newest mark,
 * and keep the mark (its savepoint stays open after ROLLBACK TO). */
static void back_to_mark(struct kw_store *st)
{
    exec1(st, S_ROLLBACK_TO);
    kws_targets_stale(st);
    st->changed_ticket = 0; /* its change row is gone too */
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    const struct kws_mark *m = &st->marks[st->n_marks - 1];
    kws_search_drop(st, m->texts);
    st->n_runs = m->runs;
    st->runs_done = m->runs_done;
    st->n_run_text = m->run_text;
}

/* No caller's savepoint to take, no store call's open (a transaction's
 * boundary). */
static void units_forget(struct kw_store *st)
{
    st->unit_fresh = false;
    st->whole = false;
    st->tx_depth = st->elided_at = 0;
}

void kw_store_whole(struct kw_store *st)
{
    st->whole = st->batch && !sqlite3_get_autocommit(st->db) && !st->tx_depth;
}

/* What the transaction holds now, to compare with a mark. */
static struct kws_mark mark_now(struct kw_store *st)
{
    return (struct kws_mark){st->n_texts, st->n_runs, st->runs_done, st->n_run_text,
                             sqlite3_total_changes64(st->db)};
}

bool kw_store_unit_whole(struct kw_store *st)
{
    st->changed_ticket = 0; /* a unit's boundary, as kw_store_savepoint's */
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    units_forget(st);
    if (!st->batch || sqlite3_get_autocommit(st->db) || st->n_marks)
        return false;
    st->whole = true;
    st->unit_mark = mark_now(st);
    return true;
}

bool kw_store_unit_wrote(struct kw_store *st)
{
    if (batch_lost(st) || !st->batch)
        return true;
    struct kws_mark m = mark_now(st), *was = &st->unit_mark;
    return m.changes != was->changes || m.texts != was->texts || m.runs != was->runs ||
           m.runs_done != was->runs_done || m.run_text != was->run_text;
}

/* The end of a store call's part of a transaction undone whole
 * (st->whole): it began at the newest mark. One that failed after it wrote
 * or held something rolls the transaction back (every later call and the
 * commit then fail: batch_lost); one that failed before leaves it as it
 * was. */
static enum kw_code whole_finish(struct kw_store *st, enum kw_code rc, struct kw_err *err)
{
    if (st->tx_depth)
        st->tx_depth--;
    if (batch_lost(st) || !st->n_marks) /* a call it made rolled it back */
        return rc == KW_OK ? lost(st, err) : rc;
    const struct kws_mark *m = &st->marks[st->n_marks - 1];
    bool moved = sqlite3_total_changes64(st->db) != m->changes || m->texts != st->n_texts ||
                 m->runs != st->n_runs || m->runs_done != st->runs_done ||
                 m->run_text != st->n_run_text;
    if (rc == KW_OK || !moved) {
        kws_held_undo(st, true);
        return rc;
    }
    if (!st->failed[0])
        snprintf(st->failed, sizeof(st->failed), "a store call failed after it wrote");
    exec1(st, S_ROLLBACK);
    kws_targets_stale(st);
    st->changed_ticket = 0;
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    kws_held_forget(st);
    return rc;
}

enum kw_code kws_tx_begin(struct kw_store *st, bool *outer, struct kw_err *err)
{
    if (batch_lost(st))
        return lost(st, err);
    *outer = sqlite3_get_autocommit(st->db) != 0;
    if (*outer) {
        units_forget(st);
        kws_held_forget(st);
    } else if (unit_untouched(st)) {
        st->unit_fresh = false; /* the calls it makes open their own */
        st->elided_at = ++st->tx_depth;
        return KW_OK;
    } else if (st->whole) { /* undone with the transaction: a mark only */
        if (kws_held_mark(st, err) != KW_OK)
            return err->code;
        st->tx_depth++;
        return KW_OK;
    } else {
        st->unit_fresh = false;
        if (kws_held_mark(st, err) != KW_OK)
            return err->code;
    }
    if (!(*outer ? begin_outer(st) : exec1(st, S_SAVEPOINT))) {
        if (!*outer)
            kws_held_undo(st, true);
        return kws_fail(st, err, "begin");
    }
    if (!*outer)
        st->tx_depth++;
    return KW_OK;
}

enum kw_code kws_tx_finish(struct kw_store *st, bool outer, enum kw_code rc, struct kw_err *err)
{
    if (!outer && st->whole)
        return whole_finish(st, rc, err);
    if (!outer && st->elided_at && st->elided_at == st->tx_depth) {
        /* the caller's savepoint, taken by kws_tx_begin: kept open */
        st->elided_at = 0;
        st->tx_depth--;
        if (rc != KW_OK) {
            back_to_mark(st);
            st->unit_fresh = true; /* as it began */
            st->unit_changes = sqlite3_total_changes64(st->db);
        }
        return rc;
    }
    if (!outer) {
        if (st->tx_depth)
            st->tx_depth--;
        if (rc != KW_OK) {
            exec1(st, S_ROLLBACK_TO);
            kws_targets_stale(st);
            st->changed_ticket = 0; /* its change row is gone too */
            st->fresh_due.ticket = 0;
            st->fresh_row.ticket = 0;
        }
        kws_held_undo(st, rc == KW_OK); /* and what it held for the commit */
        if (!exec1(st, S_RELEASE) && rc == KW_OK)
            rc = kws_fail(st, err, "release savepoint");
        return rc;
    }
    st->changed_ticket = 0;
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    units_forget(st);
    if (rc == KW_OK)
        rc = kws_held_flush(st, err);
    if (rc == KW_OK && !exec1(st, S_COMMIT))
        rc = kws_fail(st, err, "commit");
    if (rc != KW_OK) {
        exec1(st, S_ROLLBACK);
        kws_targets_stale(st);
        kws_held_forget(st);
    }
    return rc;
}

/* The calls below are the boundaries of a caller's units of work: each
 * forgets which ticket's change the unit noted (events.c, note_change). */
enum kw_code kw_store_begin(struct kw_store *st, struct kw_err *err)
{
    st->changed_ticket = 0;
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    st->failed[0] = '\0';
    kws_held_forget(st);
    units_forget(st);
    if (!begin_outer(st))
        return kws_fail(st, err, "begin");
    st->batch = true;
    return KW_OK;
}

enum kw_code kw_store_commit(struct kw_store *st, struct kw_err *err)
{
    st->changed_ticket = 0;
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    units_forget(st);
    enum kw_code rc = batch_lost(st) ? lost(st, err) : kws_held_flush(st, err);
    if (rc == KW_OK) {
        st->committing = true;
        bool done = exec1(st, S_COMMIT);
        st->committing = false;
        if (done) {
            st->batch = false;
            return KW_OK;
        }
        rc = kws_fail(st, err, "commit");
    }
    st->batch = false;
    if (!sqlite3_get_autocommit(st->db))
        exec1(st, S_ROLLBACK);
    kws_targets_stale(st);
    kws_held_forget(st);
    return rc;
}

void kw_store_rollback(struct kw_store *st)
{
    st->changed_ticket = 0;
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    units_forget(st);
    st->batch = false;
    kws_held_forget(st);
    kws_targets_stale(st);
    if (!sqlite3_get_autocommit(st->db))
        exec1(st, S_ROLLBACK);
}

enum kw_code kw_store_savepoint(struct kw_store *st, struct kw_err *err)
{
    st->changed_ticket = 0;
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    units_forget(st);
    if (batch_lost(st))
        return lost(st, err);
    if (kws_held_mark(st, err) != KW_OK)
        return err->code;
    if (exec1(st, S_SAVEPOINT)) {
        st->unit_fresh = true;
        st->unit_changes = sqlite3_total_changes64(st->db);
        return KW_OK;
    }
    kws_held_undo(st, true);
    return kws_fail(st, err, "savepoint");
}

enum kw_code kw_store_release(struct kw_store *st, bool keep, struct kw_err *err)
{
    st->changed_ticket = 0;
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    units_forget(st);
    if (!keep) {
        exec1(st, S_ROLLBACK_TO);
        kws_targets_stale(st);
    }
    kws_held_undo(st, keep);
    if (batch_lost(st))
        return lost(st, err);
    return exec1(st, S_RELEASE) ? KW_OK : kws_fail(st, err, "release savepoint");
}

struct kw_store *kw_store_open_writer(const char *path, struct kw_err *err)
{
    struct kw_store *st = open_store(path, true, err);
    /* By default a commit that grows the write-ahead log past 1000 pages
     * copies it into the database on the spot; the writer's commits leave
     * that to kw_store_maintain on another handle, so they stay short. */
    if (st)
        sqlite3_wal_autocheckpoint(st->db, 0);
    /* A log that a large transaction grew past 64 MiB is cut back to that
     * when it starts over (kw_store_maintain restarts it, never truncates). */
    if (st &&
        sqlite3_exec(st->db, "PRAGMA journal_size_limit=67108864", NULL, NULL, NULL) != SQLITE_OK) {
        kws_fail(st, err, "configure");
        kw_store_close(st);
        return NULL;
    }
    return st;
}

enum kw_code kw_store_maintain(struct kw_store *st, struct kw_store_upkeep *out, struct kw_err *err)
{
    struct kw_store_upkeep up = {0};
    /* PASSIVE: copy what no reader still needs, never waiting for them
     * (with the write lock held: checkpoint_locked). */
    int log = 0, done = 0;
    int rc = checkpoint_locked(st, &log, &done);
    /* Readers that never stop, and a writer that commits while the copy
     * runs, keep the log from starting over, so a log that has grown past
     * 16 MiB and is all copied is restarted: RESTART takes the write lock
     * (the server's writer is paused meanwhile, writer.c), waits for the
     * readers to leave the log, then the writer's next commit writes it
     * again from its start (readers are not blocked). Holding the write
     * lock, it is safe from the WAL-reset bug (checkpoint_locked), unless
     * it cannot have the lock within the busy wait (5 s: only another
     * process's transaction holds it that long), when it copies as PASSIVE
     * does. Not TRUNCATE: that also rewrote the log's header from this
     * handle, and the writer, seeing it changed, dropped its whole page
     * cache (a firing's or update's pages read again with pread), and the
     * file's pages were given back and taken again at each commit's write
     * (in tmpfs 11 % of the writer's time, #20). The file stays as large
     * as the log grew, at most the writer's journal_size_limit after a
     * restart (kw_store_open_writer). */
    if (rc == SQLITE_OK && log > 4096 && done == log)
        rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    up.log_pages = log;
    if (out)
        *out = up;
    if (rc == SQLITE_CANTOPEN) /* the lock's own handle: the main one has no message */
        return kw_err_set(err, KW_STORE, "",
                          "%s: checkpoint: cannot open a second handle on the"
                          " database to hold its write lock",
                          st->path);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? KW_OK : kws_fail(st, err, "checkpoint");
}

/* ---- backups ---- */

/* Remove a database file that was being made, with its companions. */
static void remove_db(const char *path)
{
    char side[sizeof(((struct kw_store *)0)->path) + 8];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-journal", path);
    unlink(side);
}

/* Copy the database `src` into the new file `to`, in one step: the source
 * is read in one read transaction, so the copy is of one instant (in WAL
 * mode writers are not held up; stepping in pieces would start over each
 * time another connection writes). */
static enum kw_code copy_into_new(sqlite3 *src, const char *to, struct kw_err *err)
{
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return kw_err_set(err, errno == EEXIST ? KW_CONFLICT : KW_IO, "", "%s: %s", to,
                          errno == EEXIST ? "already exists: choose a new file" : strerror(errno));
    close(fd);
    sqlite3 *dst = NULL;
    enum kw_code rc = KW_OK;
    if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = kw_err_set(err, KW_IO, "", "%s: %s", to, dst ? sqlite3_errmsg(dst) : "cannot open");
    } else {
        sqlite3_busy_timeout(src, 5000);
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        int step = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
        if (b)
            sqlite3_backup_finish(b);
        if (step != SQLITE_DONE)
            rc = kw_err_set(
                err, step == SQLITE_NOTADB ? KW_INVALID : KW_IO, "", "copy to %s: %s", to,
                step == SQLITE_NOTADB ? "the source is not a database" : sqlite3_errmsg(dst));
    }
    if (dst && sqlite3_close(dst) != SQLITE_OK && rc == KW_OK)
        rc = kw_err_set(err, KW_IO, "", "%s: could not be closed cleanly", to);
    if (rc != KW_OK)
        remove_db(to);
    return rc;
}

enum kw_code kw_store_backup(struct kw_store *st, const char *to, struct kw_err *err)
{
    kw_store_end_read(st);
    return copy_into_new(st->db, to, err);
}

enum kw_code kw_store_restore(const char *backup, const char *db, struct kw_err *err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    if (access(backup, R_OK) != 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "%s: %s", backup, strerror(errno));
    /* immutable: a backup is a closed file; read it without locks or a
     * write-ahead log, so nothing is created beside it */
    char uri[3 * sizeof(((struct kw_store *)0)->path) + 32] = "file:";
    size_t n = strlen(uri);
    for (const unsigned char *p = (const unsigned char *)backup; *p; p++) {
        if (n + 4 >= sizeof(uri))
            return kw_err_set(err, KW_TOO_BIG, "", "%.60s...: the path is too long", backup);
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/-._~", *p))
            uri[n++] = (char)*p;
        else
            n += (size_t)snprintf(uri + n, 4, "%%%02X", *p);
    }
    snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
    sqlite3 *src = NULL;
    enum kw_code rc;
    if (sqlite3_open_v2(uri, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
        rc =
            kw_err_set(err, KW_IO, "", "%s: %s", backup, src ? sqlite3_errmsg(src) : "cannot open");
    else
        rc = copy_into_new(src, db, err);
    sqlite3_close(src);
    return rc;
}
