// SPDX-License-Identifier: MIT
/* Group commit on one writer thread; see writer.h. */
#include "writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 1024 /* units per transaction, so one batch cannot grow without end */

struct unit {
    kw_write_fn fn;
    void *ctx;
    struct kw_err *err;
    enum kw_code rc;
    bool done;
    pthread_cond_t cv;
    struct unit *next;
};

struct kw_writer {
    struct kw_store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct unit *head, *tail;
    bool stop;
    struct kw_writer_stats stats;
};

/* Run one batch (a list of units) in one transaction. */
static void run_batch(struct kw_writer *w, struct unit *batch)
{
    struct kw_err err = {0};
    bool open = kw_store_begin(w->st, &err) == KW_OK;
    for (struct unit *u = batch; u; u = u->next) {
        if (!open) {
            u->rc = kw_err_set(u->err, err.code, "", "%s", err.msg);
            continue;
        }
        struct kw_err serr = {0};
        if (kw_store_savepoint(w->st, &serr) != KW_OK) {
            u->rc = kw_err_set(u->err, serr.code, "", "%s", serr.msg);
            continue;
        }
        u->rc = u->fn(w->st, u->ctx, u->err);
        if (kw_store_release(w->st, u->rc == KW_OK, &serr) != KW_OK && u->rc == KW_OK)
            u->rc = kw_err_set(u->err, serr.code, "", "%s", serr.msg);
    }
    if (open && kw_store_commit(w->st, &err) != KW_OK) {
        for (struct unit *u = batch; u; u = u->next)
            if (u->rc == KW_OK)
                u->rc = kw_err_set(u->err, err.code, "", "%s", err.msg);
    }
}

static void *loop(void *arg)
{
    struct kw_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->work, &w->mu);
        if (!w->head)
            break;
        /* take up to MAX_BATCH units queued so far */
        struct unit *batch = w->head, *last = w->head;
        uint64_t n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->mu);
        run_batch(w, batch);
        pthread_mutex_lock(&w->mu);
        w->stats.batches++;
        w->stats.units += n;
        if (n > w->stats.largest)
            w->stats.largest = n;
        for (struct unit *u = batch, *next; u; u = next) {
            next = u->next; /* u lives on its caller's stack: read next first */
            u->done = true;
            pthread_cond_signal(&u->cv);
        }
    }
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
    w->st = kw_store_open(path, err);
    if (!w->st) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    if (pthread_create(&w->thread, NULL, loop, w) != 0) {
        kw_store_close(w->st);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->mu);
        free(w);
        kw_err_set(err, KW_NOMEM, "", "cannot start the writer thread");
        return NULL;
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
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    kw_store_close(w->st);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

enum kw_code kw_writer_run(struct kw_writer *w, kw_write_fn fn, void *ctx, struct kw_err *err)
{
    struct kw_err local = {0};
    struct unit u = {.fn = fn, .ctx = ctx, .err = err ? err : &local};
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
    pthread_cond_signal(&w->work);
    while (!u.done)
        pthread_cond_wait(&u.cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&u.cv);
    return u.rc;
}

void kw_writer_stats(struct kw_writer *w, struct kw_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}
