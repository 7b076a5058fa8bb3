// SPDX-License-Identifier: MIT
/*
 * engine.h - the live part: what falls due fires on time, exactly once,
 * and the notifications it causes are delivered.
 *
 * Timers: one entry per ticket with something due (its next warning
 * threshold or breach, engine/clocks.h), in a min-heap indexed by ticket,
 * rebuilt from the store at start. The heap is only a hint of when to wake:
 * a thread sleeps until the earliest entry is due (checking the injected
 * clock at least every 250 ms, so that a fake clock moved by a test is
 * noticed), then, through the writer, claims what the store says is due
 * (kw_store_due_claim, so two processes never fire the same) and fires it: the
 * `sla_warning` / `sla_breach` events and their outbox rows commit in one
 * transaction, and the ticket's next entry is scheduled. What fell due while
 * the server was down fires at start, in order of due time.
 *
 * Delivery: another thread sends due outbox rows (webhooks signed with
 * HMAC-SHA256, engine/deliver.h), records each attempt through the writer,
 * retries with exponential backoff and gives up after KW_DELIVERY_TRIES
 * attempts (state "dead", visible in the API, retried on demand).
 */
#ifndef KW_ENGINE_H
#define KW_ENGINE_H

#include <stdint.h>

#include "fire.h"
#include "kw_err.h"
#include "kw_log.h"
#include "kw_net.h"
#include "writer.h"

/* "Now" is injected: the engine and the server read time only through this.
 * now() must be safe to call from any thread. */
struct kw_now {
    int64_t (*now)(void *ctx); /* UTC seconds */
    void *ctx;
};

#define KW_DELIVERY_TRIES 6    /* attempts before a notification is dead */
#define KW_DELIVERY_BACKOFF 10 /* seconds before the first retry; doubles */
#define KW_DELIVERY_BACKOFF_MAX 3600

struct kw_engine;

/* Load the schedule from the database at db and start both threads. log
 * (copied; may be NULL) gets a logfmt line per firing and per delivery,
 * failures at level=error. allow (copied; may be NULL: none) are the
 * loopback, private, ... networks deliveries may reach (engine/deliver.h).
 * key (KW_SEAL_KEY_BYTES, copied; NULL: none) opens the sealed passwords
 * of the mailboxes that send mail (docs/channels.md). */
struct kw_engine *kw_engine_start(const char *db, struct kw_writer *w, struct kw_clocks *clocks,
                                  struct kw_now clock, const struct kw_log *log,
                                  const struct kw_nets *allow, const unsigned char *key,
                                  struct kw_err *err);
/* Stop both threads (what is in flight finishes). Accepts NULL. */
void kw_engine_stop(struct kw_engine *e);

/* Fire due tickets also through w (borrowed; a writer of its own
 * connection, stopped after the engine): a thread of its own takes the next
 * due hints beside the timer thread's, so its units run at the same time
 * as theirs (PostgreSQL; the claims' row locks keep a ticket in one unit).
 * At most KW_ENGINE_FIRERS writers in all, w included. KW_INVALID past
 * that, KW_NOMEM. Call from the thread that started the engine. */
#define KW_ENGINE_FIRERS 8
/* How many writers `keepword serve` gives the engine on PostgreSQL. */
#define KW_ENGINE_PG_WRITERS 4
enum kw_code kw_engine_fire_on(struct kw_engine *e, struct kw_writer *w, struct kw_err *err);

/* After a committed write: ticket's next threshold falls due at fire_at
 * (KW_STORE_NO_TIME: nothing is due). */
void kw_engine_schedule(struct kw_engine *e, int64_t ticket, int64_t fire_at);
/* New outbox rows were committed: look for due deliveries now. */
void kw_engine_kick(struct kw_engine *e);

struct kw_engine_stats {
    size_t entries, bytes;      /* timer entries and the memory they take */
    double rebuild_seconds;     /* loading the schedule at start */
    uint64_t fired, events;     /* tickets fired, events appended */
    uint64_t delivered, failed; /* delivery attempts that succeeded / failed */
    /* lateness of firings: ms from the due second to the commit of the unit
     * that fired them (the real clock in the injected clock's frame: shifted
     * by the whole seconds the injected clock is off from it). count is every firing since start;
     * the percentiles and max are over the last KW_ENGINE_LATE_WINDOW of them (all 0 when there are
     * none, or no memory to sort them). */
    struct {
        uint64_t count;
        size_t window;
        double p50_ms, p90_ms, p99_ms, max_ms;
    } late;
};
#define KW_ENGINE_LATE_WINDOW 65536
/* Fill *out. Safe from any thread; sorts a copy of the window. */
void kw_engine_stats(struct kw_engine *e, struct kw_engine_stats *out);

#endif
