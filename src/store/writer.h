// SPDX-License-Identifier: MIT
/*
 * writer.h - group commit: one thread owns the database's write connection
 * and runs every write as a unit of work inside a shared transaction.
 *
 * Callers (HTTP handlers on many threads) hand a unit to kw_writer_run and
 * wait. The writer takes every unit queued so far, opens one transaction,
 * runs each unit in its own savepoint (a unit that fails is undone alone;
 * a batch of units that may run again runs them with none, below),
 * commits once, and only then wakes the callers. So a write is acknowledged
 * after the commit that made it durable, and one fsync serves a whole batch
 * (ARCHITECTURE.md decision 8). Units run one at a time, in arrival order, on
 * the writer's connection: a unit reads what the units before it wrote.
 */
#ifndef KW_WRITER_H
#define KW_WRITER_H

#include <stdint.h>

#include "kw_err.h"
#include "store.h"

struct kw_writer;

/* A unit of work: runs on the writer's thread with its store handle, inside
 * a transaction; returns KW_OK or fails with err (then it is rolled back). */
typedef enum kw_code (*kw_write_fn)(struct kw_store *st, void *ctx, struct kw_err *err);

/* Open the store at path for writing (kw_store_open_writer) and start the
 * thread, and another that calls kw_store_maintain every 100 ms on a handle
 * of its own. NULL with err. */
struct kw_writer *kw_writer_start(const char *path, struct kw_err *err);
/* Finish what is queued, then stop the thread and close. Accepts NULL. */
void kw_writer_stop(struct kw_writer *w);

/* Run fn(ctx) in the next batch and wait until that batch committed. KW_OK,
 * or the unit's own error, or KW_STORE when the commit failed (then nothing
 * of the unit is stored). */
enum kw_code kw_writer_run(struct kw_writer *w, kw_write_fn fn, void *ctx, struct kw_err *err);

/* As kw_writer_run, for a unit that may run twice: all it does besides
 * the store is done again when it runs again (outputs overwritten, nothing
 * counted, sent or kept elsewhere), and its result is read only after
 * this returns. A batch of such units runs them with no savepoint
 * (kw_store_unit_whole): a savepoint copies every page its unit changes
 * into the backend's undo record first (SQLite's statement journal). When
 * one fails after it wrote (or one of its calls failed after writing),
 * the transaction is rolled back and every unit of the batch runs again,
 * each in its own savepoint as kw_writer_run's: the others commit once,
 * the failed one leaves nothing. A batch with any other unit, and every
 * batch on PostgreSQL, runs with savepoints. */
enum kw_code kw_writer_run_repeatable(struct kw_writer *w, kw_write_fn fn, void *ctx,
                                      struct kw_err *err);

/* As kw_writer_run, but fn runs in a transaction of its own, with no other
 * unit and no savepoint around it: when it fails, the whole transaction is
 * rolled back. Every page a unit changes inside a savepoint is copied to
 * the backend's undo record first (SQLite's statement journal, which spills
 * to a file past 124 KiB, two system calls a page): a unit that changes
 * hundreds of pages (the engine's firing of 64 tickets) saves that. Nor
 * do the store's calls in it open savepoints of their own
 * (kw_store_whole): one that fails after it wrote something rolls the
 * transaction back, and fn's later calls and the commit fail, so fn fails
 * even if it went on past that call's failure; a caller that must go on
 * past such failures runs it again with kw_writer_run. */
enum kw_code kw_writer_run_alone(struct kw_writer *w, kw_write_fn fn, void *ctx,
                                 struct kw_err *err);

/* Queue fn(ctx) for the next batch and return at once; after that batch
 * committed (or failed), when_done(done_ctx, rc) runs on the writer's thread
 * with rc as kw_writer_run would return it and err (which must live until
 * then) filled. Keep when_done short: the next batch waits for it. KW_OK
 * when queued; else err (the writer is stopping, no memory) and when_done
 * is never called. Thread-safe. */
typedef void (*kw_done_fn)(void *done_ctx, enum kw_code rc);
enum kw_code kw_writer_submit(struct kw_writer *w, kw_write_fn fn, void *ctx, struct kw_err *err,
                              kw_done_fn when_done, void *done_ctx);
/* As kw_writer_submit, for a unit that may run twice (as
 * kw_writer_run_repeatable's: all it does besides the store is done again,
 * and its outputs are read only in when_done or after it). */
enum kw_code kw_writer_submit_repeatable(struct kw_writer *w, kw_write_fn fn, void *ctx,
                                         struct kw_err *err, kw_done_fn when_done, void *done_ctx);

/* Call fn after each commit that stored a unit: a wake-up only (what changed
 * is in the store's change log, kw_store_changes_since, which also holds
 * other processes' commits). Runs on the writer's thread: keep it short.
 * May be set (or cleared with NULL) at any time; a batch already running
 * calls the one it started with, and this returns once that batch is done,
 * so that after kw_writer_listen(w, NULL, NULL) the old ctx may be freed.
 * Not to be called from a listener. */
typedef void (*kw_commit_fn)(void *ctx);
void kw_writer_listen(struct kw_writer *w, kw_commit_fn fn, void *ctx);

/* Histograms of batch sizes (units per commit, at most the bound) and of
 * commit times (ms, at most the bound); the last bucket is the rest. */
#define KW_WRITER_BATCH_BUCKETS 12
#define KW_WRITER_COMMIT_BUCKETS 12
extern const double kw_writer_batch_le[KW_WRITER_BATCH_BUCKETS - 1];
extern const double kw_writer_commit_le_ms[KW_WRITER_COMMIT_BUCKETS - 1];
struct kw_writer_stats {
    uint64_t batches, units, largest;
    uint64_t work_ns, commit_ns;                    /* time running units, and committing (fsync) */
    uint64_t batch_hist[KW_WRITER_BATCH_BUCKETS];   /* batches by size */
    uint64_t commit_hist[KW_WRITER_COMMIT_BUCKETS]; /* batches by commit time */
    uint64_t queued;                                /* units waiting for a batch now */
    uint64_t again; /* batches run without savepoints, then again with them */
};
void kw_writer_stats(struct kw_writer *w, struct kw_writer_stats *out);

#endif
