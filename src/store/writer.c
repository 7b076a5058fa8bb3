// SPDX-License-Identifier: MIT
/* Group commit on one writer thread; see writer.h. */
#include "writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BATCH 1024 /* units per transaction, so one batch cannot grow without end */
/* Group commit waits this long at most for a batch to fill up to the size of
 * the one before (PostgreSQL's commit_delay, adaptive): under load one fsync
 * then serves more writes; alone, a write never waits. */
#define COMMIT_DELAY_NS 250000L

struct unit {
    kw_write_fn fn;
    void *ctx;
    struct kw_err *err;
    enum kw_code rc;
    bool done;
    pthread_cond_t cv;    /* kw_writer_run's: its caller waits on it */
    kw_done_fn when_done; /* kw_writer_submit's (heap unit): called after the commit */
    void *done_ctx;
    bool alone;      /* kw_writer_run_alone's: a transaction of its own, no savepoint */
    bool repeatable; /* kw_writer_run_repeatable's: may run twice */
    struct unit *next;
};

struct kw_writer {
    struct kw_store *st, *up; /* the writer's handle; the upkeep thread's */
    pthread_t thread, upkeeper;
    pthread_mutex_t mu;
    pthread_cond_t work, tick; /* units queued; the upkeep thread's stop */
    struct unit *head, *tail;
    uint64_t queued, last_batch;
    /* the writer waits on work until this many units are queued (1: for
     * any; the batch before's size: in its commit delay); 0: it is not
     * waiting, and a unit queued needs no signal (#20: each one woke it in
     * its delay, to find the batch not full yet and sleep again) */
    uint64_t wake_at;
    bool stop;
    struct kw_writer_stats stats;
    kw_commit_fn listener;
    void *listener_ctx;
    bool running;       /* a batch runs, with the listener it started with */
    pthread_cond_t ran; /* ... and has ended */
    /* the upkeep checkpoints: the writer begins no batch meanwhile, so no
     * commit of this process starts the log over under a checkpoint (the
     * WAL-reset bug of SQLite before 3.51.3; sqlite/db.c,
     * checkpoint_locked), and none waits on the lock it holds */
    bool upkeep;
    pthread_cond_t upkept;
};

void kw_writer_listen(struct kw_writer *w, kw_commit_fn fn, void *ctx)
{
    pthread_mutex_lock(&w->mu);
    w->listener = fn;
    w->listener_ctx = ctx;
    while (w->running) /* it may still call the listener it started with */
        pthread_cond_wait(&w->ran, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

/* The CLOCK_REALTIME instant ns nanoseconds (< 1 s) from now, for
 * pthread_cond_timedwait. */
/* The bucket of v: the first whose bound is at least v, or the last. */
static size_t bucket_of(const double *le, size_t n, double v)
{
    size_t i = 0;
    while (i < n - 1 && v > le[i])
        i++;
    return i;
}

static struct timespec in_ns(long ns)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += ns;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static uint64_t ns_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (uint64_t)((t1.tv_sec - t0->tv_sec) * 1000000000L + (t1.tv_nsec - t0->tv_nsec));
}

/* How a batch's run without savepoints ended (run_whole). */
enum whole_end {
    WHOLE_DONE,  /* every unit ran */
    WHOLE_NONE,  /* nothing ran: the backend has no such runs (PostgreSQL) */
    WHOLE_AGAIN, /* a unit failed after it wrote, or a call rolled the transaction back */
};

static bool all_repeatable(const struct unit *batch)
{
    for (const struct unit *u = batch; u; u = u->next)
        if (!u->repeatable)
            return false;
    return true;
}

/* Run the units of a batch (every one repeatable) in the open transaction
 * with no savepoint (#20: the savepoints' copies of the pages each unit
 * touched were 6 % of a create's instructions). A unit that fails before
 * it writes anything fails alone, as in its savepoint; any other failure
 * is WHOLE_AGAIN. */
static enum whole_end run_whole(struct kw_writer *w, struct unit *batch)
{
    for (struct unit *u = batch; u; u = u->next) {
        if (!kw_store_unit_whole(w->st))
            return u == batch ? WHOLE_NONE : WHOLE_AGAIN;
        u->rc = u->fn(w->st, u->ctx, u->err);
        if (u->rc != KW_OK && kw_store_unit_wrote(w->st))
            return WHOLE_AGAIN;
    }
    /* the last unit may have gone on past a call that rolled back */
    return kw_store_unit_whole(w->st) ? WHOLE_DONE : WHOLE_AGAIN;
}

/* Run one batch (a list of units) in one transaction; *work and *commit get
 * the nanoseconds spent running units and committing. A savepoint that
 * cannot begin or end means the transaction is not what the units think:
 * the backend may have rolled it back after an error (SQLite does after
 * SQLITE_FULL or an I/O error; docs/operations.md, "Engine"). Then the
 * whole batch is rolled back and every unit fails, those already run and
 * those not run yet: none is committed without the others it was reported
 * with, and the next batch begins a transaction of its own. A batch of
 * repeatable units runs first with no savepoint (run_whole); *again is set
 * when it had to be run again with them. */
static void run_batch(struct kw_writer *w, struct unit *batch, kw_commit_fn listener,
                      void *listener_ctx, uint64_t *work, uint64_t *commit, bool *again)
{
    struct unit *each = batch; /* the units run in a savepoint each */
    struct kw_err err = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool open = kw_store_begin(w->st, &err) == KW_OK;
    bool lost = false;  /* err: why the transaction is given up */
    if (batch->alone) { /* a batch of its own (loop): undone with its transaction */
        if (open)       /* the store's calls open no savepoints in it */
            kw_store_whole(w->st);
        if (!open)
            batch->rc = kw_err_set(batch->err, err.code, "", "%s", err.msg);
        else if ((batch->rc = batch->fn(w->st, batch->ctx, batch->err)) != KW_OK) {
            kw_store_rollback(w->st);
            open = false;
        }
        each = NULL;
    } else if (open && all_repeatable(batch)) {
        enum whole_end end = run_whole(w, batch);
        if (end == WHOLE_DONE)
            each = NULL;
        else if (end == WHOLE_AGAIN) { /* all of it again, a savepoint each */
            *again = true;
            kw_store_rollback(w->st);
            open = kw_store_begin(w->st, &err) == KW_OK;
        }
    }
    for (struct unit *u = each; u; u = u->next) {
        if (!open || lost) {
            u->rc = kw_err_set(u->err, err.code, "", "%s", err.msg);
            continue;
        }
        struct kw_err serr = {0};
        if (kw_store_savepoint(w->st, &serr) != KW_OK) {
            err = serr;
            lost = true;
            u->rc = kw_err_set(u->err, serr.code, "", "%s", serr.msg);
            continue;
        }
        u->rc = u->fn(w->st, u->ctx, u->err);
        if (kw_store_release(w->st, u->rc == KW_OK, &serr) != KW_OK) {
            err = serr;
            lost = true;
            if (u->rc == KW_OK)
                u->rc = kw_err_set(u->err, serr.code, "", "%s", serr.msg);
        }
    }
    if (open && lost) {
        kw_store_rollback(w->st);
        for (struct unit *u = batch; u; u = u->next)
            if (u->rc == KW_OK)
                u->rc = kw_err_set(u->err, err.code, "", "%s", err.msg);
        open = false;
    }
    *work = ns_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (open && kw_store_commit(w->st, &err) != KW_OK) {
        for (struct unit *u = batch; u; u = u->next)
            if (u->rc == KW_OK)
                u->rc = kw_err_set(u->err, err.code, "", "%s", err.msg);
    }
    *commit = ns_since(&t0);
    kw_store_end_read(w->st); /* hold no read snapshot between batches */
    bool any = false;
    for (struct unit *u = batch; u && !any; u = u->next)
        any = u->rc == KW_OK;
    if (listener && any)
        listener(listener_ctx);
}

static void *loop(void *arg)
{
    struct kw_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        w->wake_at = 1;
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->work, &w->mu);
        w->wake_at = 0;
        if (!w->head)
            break;
        if (w->queued < w->last_batch && !w->stop && !w->head->alone) {
            struct timespec until = in_ns(COMMIT_DELAY_NS);
            w->wake_at = w->last_batch;
            while (w->queued < w->last_batch && !w->stop &&
                   pthread_cond_timedwait(&w->work, &w->mu, &until) == 0)
                ;
            w->wake_at = 0;
        }
        while (w->upkeep) /* units queued meanwhile join this batch */
            pthread_cond_wait(&w->upkept, &w->mu);
        /* take up to MAX_BATCH units queued so far */
        struct unit *batch = w->head, *last = w->head;
        uint64_t n = 1;
        /* a unit that runs alone is a batch of its own (kw_writer_run_alone) */
        while (!batch->alone && last->next && !last->next->alone && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        w->queued -= n;
        w->last_batch = n;
        kw_commit_fn listener = w->listener; /* set at any time, under mu */
        void *listener_ctx = w->listener_ctx;
        w->running = true;
        pthread_mutex_unlock(&w->mu);
        uint64_t work, commit;
        bool again = false;
        run_batch(w, batch, listener, listener_ctx, &work, &commit, &again);
        /* the submitted units' callbacks, outside the lock: each may take
         * locks of its own (an HTTP daemon's, to resume a connection) */
        struct unit **keep = &batch;
        for (struct unit *u = batch, *next; u; u = next) {
            next = u->next;
            if (!u->when_done) {
                keep = &u->next;
                continue;
            }
            *keep = next;
            u->when_done(u->done_ctx, u->rc);
            free(u);
        }
        pthread_mutex_lock(&w->mu);
        w->running = false;
        pthread_cond_broadcast(&w->ran);
        w->stats.work_ns += work;
        w->stats.commit_ns += commit;
        w->stats.batches++;
        w->stats.again += again;
        w->stats.units += n;
        if (n > w->stats.largest)
            w->stats.largest = n;
        w->stats.batch_hist[bucket_of(kw_writer_batch_le, KW_WRITER_BATCH_BUCKETS, (double)n)]++;
        w->stats.commit_hist[bucket_of(kw_writer_commit_le_ms, KW_WRITER_COMMIT_BUCKETS,
                                       (double)commit / 1e6)]++;
        for (struct unit *u = batch, *next; u; u = next) {
            next = u->next; /* u lives on its caller's stack: read next first */
            u->done = true;
            pthread_cond_signal(&u->cv);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* The store's upkeep (kw_store_maintain: on SQLite, checkpoints) on w->up,
 * with the writer paused between its batches. */
static void upkeep(struct kw_writer *w)
{
    w->upkeep = true;
    while (w->running)
        pthread_cond_wait(&w->ran, &w->mu);
    pthread_mutex_unlock(&w->mu);
    kw_store_maintain(w->up, NULL, NULL);
    pthread_mutex_lock(&w->mu);
    w->upkeep = false;
    pthread_cond_broadcast(&w->upkept);
}

/* The store's upkeep every 100 ms on a handle of its own. */
static void *upkeep_loop(void *arg)
{
    struct kw_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec until = in_ns(100000000L);
        pthread_cond_timedwait(&w->tick, &w->mu, &until);
        if (w->stop)
            break;
        upkeep(w);
    }
    upkeep(w);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct kw_writer *kw_writer_start(const char *path, struct kw_err *err)
{
    struct kw_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the writer");
        return NULL;
    }
    w->st = kw_store_open_writer(path, err);
    w->up = w->st ? kw_store_open(path, err) : NULL;
    if (!w->up) {
        kw_store_close(w->st);
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->tick, NULL);
    pthread_cond_init(&w->ran, NULL);
    pthread_cond_init(&w->upkept, NULL);
    if (pthread_create(&w->thread, NULL, loop, w) != 0) {
        kw_store_close(w->st);
        kw_store_close(w->up);
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->tick);
        pthread_cond_destroy(&w->ran);
        pthread_cond_destroy(&w->upkept);
        pthread_mutex_destroy(&w->mu);
        free(w);
        kw_err_set(err, KW_NOMEM, "", "cannot start the writer thread");
        return NULL;
    }
    if (pthread_create(&w->upkeeper, NULL, upkeep_loop, w) != 0) {
        /* no upkeep thread: the writer then commits through the ordinary
         * handle, whose commits do the upkeep themselves. No unit can be
         * queued before this returns, so the writer thread is not using
         * w->st yet; the mutex publishes the swap to it. */
        pthread_mutex_lock(&w->mu);
        struct kw_store *st = w->st;
        w->st = w->up;
        w->up = NULL;
        pthread_mutex_unlock(&w->mu);
        kw_store_close(st);
    }
    return w;
}

void kw_writer_stop(struct kw_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->work);
    pthread_cond_signal(&w->tick);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    if (w->up) {
        pthread_join(w->upkeeper, NULL);
        kw_store_close(w->up);
    }
    kw_store_close(w->st);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->tick);
    pthread_cond_destroy(&w->ran);
    pthread_cond_destroy(&w->upkept);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* A unit was queued (under mu): wake the writer only if it waits for it. */
static void wake(struct kw_writer *w)
{
    if (w->wake_at && w->queued >= w->wake_at)
        pthread_cond_signal(&w->work);
}

static enum kw_code run_unit(struct kw_writer *w, kw_write_fn fn, void *ctx, bool alone,
                             bool repeatable, struct kw_err *err)
{
    struct kw_err local = {0};
    struct unit u = {
        .fn = fn, .ctx = ctx, .err = err ? err : &local, .alone = alone, .repeatable = repeatable};
    pthread_cond_init(&u.cv, NULL);
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        pthread_cond_destroy(&u.cv);
        return kw_err_set(err, KW_STORE, "", "the server is stopping");
    }
    if (w->tail)
        w->tail->next = &u;
    else
        w->head = &u;
    w->tail = &u;
    w->queued++;
    wake(w);
    while (!u.done)
        pthread_cond_wait(&u.cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&u.cv);
    return u.rc;
}

enum kw_code kw_writer_run(struct kw_writer *w, kw_write_fn fn, void *ctx, struct kw_err *err)
{
    return run_unit(w, fn, ctx, false, false, err);
}

enum kw_code kw_writer_run_repeatable(struct kw_writer *w, kw_write_fn fn, void *ctx,
                                      struct kw_err *err)
{
    return run_unit(w, fn, ctx, false, true, err);
}

enum kw_code kw_writer_run_alone(struct kw_writer *w, kw_write_fn fn, void *ctx, struct kw_err *err)
{
    return run_unit(w, fn, ctx, true, false, err);
}

static enum kw_code submit(struct kw_writer *w, kw_write_fn fn, void *ctx, bool repeatable,
                           struct kw_err *err, kw_done_fn when_done, void *done_ctx)
{
    struct unit *u = calloc(1, sizeof(*u));
    if (!u)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the write");
    *u = (struct unit){.fn = fn,
                       .ctx = ctx,
                       .err = err,
                       .when_done = when_done,
                       .done_ctx = done_ctx,
                       .repeatable = repeatable};
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        free(u);
        return kw_err_set(err, KW_STORE, "", "the server is stopping");
    }
    if (w->tail)
        w->tail->next = u;
    else
        w->head = u;
    w->tail = u;
    w->queued++;
    wake(w);
    pthread_mutex_unlock(&w->mu);
    return KW_OK;
}

enum kw_code kw_writer_submit(struct kw_writer *w, kw_write_fn fn, void *ctx, struct kw_err *err,
                              kw_done_fn when_done, void *done_ctx)
{
    return submit(w, fn, ctx, false, err, when_done, done_ctx);
}

enum kw_code kw_writer_submit_repeatable(struct kw_writer *w, kw_write_fn fn, void *ctx,
                                         struct kw_err *err, kw_done_fn when_done, void *done_ctx)
{
    return submit(w, fn, ctx, true, err, when_done, done_ctx);
}

const double kw_writer_batch_le[KW_WRITER_BATCH_BUCKETS - 1] = {1,  2,   4,   8,   16,  32,
                                                                64, 128, 256, 512, 1024};
const double kw_writer_commit_le_ms[KW_WRITER_COMMIT_BUCKETS - 1] = {0.5, 1,   2,   5,   10,  25,
                                                                     50,  100, 250, 500, 1000};

void kw_writer_stats(struct kw_writer *w, struct kw_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    out->queued = w->queued;
    pthread_mutex_unlock(&w->mu);
}
