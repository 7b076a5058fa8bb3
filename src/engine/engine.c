// SPDX-License-Identifier: MIT
/* The live engine: timers and delivery; see engine.h. */
#include "engine.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "fire.h"
#include "kw_crypto.h"
#include "periods.h"
#include "report_mail.h"
#include "rota.h"
#include "timers.h"

/* ---- the engine ---- */

#define SET_ASIDE_MAX 16
#define SET_ASIDE_S 60

/* A thread that fires units through a writer: the timer thread on the
 * engine's writer, and one per kw_engine_fire_on on a writer of its own. */
struct firer {
    struct kw_engine *e;
    struct kw_writer *w;      /* borrowed */
    struct kw_sla *sla;       /* scratch of its units (w's thread) */
    struct kw_fire_cache *fc; /* rotas and people of its units (w's thread) */
    struct kw_sla own_sla;    /* sla of a firer not the timer thread */
    pthread_t thread;
    bool started;
};

struct kw_engine {
    char db[512];
    struct kw_writer *w;
    struct kw_clocks *clocks;
    struct kw_now clock;
    struct kw_log log;
    struct kw_nets allow;                 /* special addresses deliveries may reach anyway */
    unsigned char key[KW_SEAL_KEY_BYTES]; /* opens mailboxes' sealed passwords */
    bool has_key;
    struct kw_store *rd;         /* the delivery thread's read handle */
    struct kw_sla sla;           /* scratch of the firing units (writer thread) */
    struct kw_fire_cache *fc;    /* rotas and people of the firing units (writer thread) */
    struct kw_rota_cache *rotas; /* the delivery thread's, for quiet hours */
    pthread_mutex_t mu;
    pthread_cond_t timer_cv, deliver_cv, claim_cv;
    pthread_t timer, deliverer;
    bool stop, kicked, started_timer, started_deliverer;
    struct kw_timers heap; /* hints: when each ticket's next threshold falls due */
    /* firer[0] is the timer thread on w; the others fire on writers of
     * their own (kw_engine_fire_on). A unit claims its hints first
     * (kw_store_due_claim), and while one's unit has taken its hints off
     * the heap and not yet claimed, claiming is set and the others wait:
     * what fills a unit's room past its hints is then no hint another
     * unit holds but not yet claimed. */
    struct firer firer[KW_ENGINE_FIRERS];
    size_t n_firers;
    bool claiming;
    struct kw_engine_stats stats;
    char node[128];                        /* this process, for claims on due work: host:pid */
    double late_ms[KW_ENGINE_LATE_WINDOW]; /* a ring: the last stats.late.count */
    int64_t reports_at; /* when to look for due service reports next (injected clock) */
    bool reports_held;  /* this node queues the reports (KW_STORE_SINGLETON_REPORTS) */
    bool multi;         /* PostgreSQL: other nodes may serve the same desk */
    int64_t sweep_at;   /* multi: when to claim what is due without a hint next */
    int64_t periods_at; /* when to look for billing periods to close next (injected clock) */
    int64_t frame_off;  /* the injected clock less the real one, whole seconds (injected_wall) */
    bool frame_known;
    /* A unit that fails as a whole (its transaction was lost: a ticket
     * whose firing makes the backend roll back) is retried one ticket per
     * unit for as many units as it claimed; a ticket that fails so alone
     * is set aside for SET_ASIDE_S (skipped by the claims), so that it
     * cannot hold up the tickets due after it. Timer thread only. */
    size_t solo;
    size_t n_aside;
    struct {
        int64_t ticket, until;
    } aside[SET_ASIDE_MAX];
};

/* The real clock in the injected clock's frame: the real time shifted by
 * the whole seconds the injected clock is off from it (none for the
 * system clock; a benchmark or a test may shift it), so that lateness and
 * the sleep until the next instant are counted on the clock that decides
 * what is due, to the millisecond. A clock that reads time(NULL) (serve's
 * reads CLOCK_REALTIME, cmd_serve.c, but a test's may not) reads the
 * kernel's coarse clock: for a few milliseconds after a second turns it
 * still says the second before (measured up to 3.3 ms). Taken then, the
 * offset was a second short: a wake at the instant a
 * ticket fell due saw a whole second to go and slept the 250 ms cap, so
 * every second's firings began about 250 ms late (#20). So the offset is
 * learnt only from readings away from a second's turn (50-950 ms into
 * it), and kept meanwhile. Timer thread only. */
#define TURN_NS 50000000L
static struct timespec injected_wall(struct kw_engine *e)
{
    struct timespec a, b;
    int64_t now;
    clock_gettime(CLOCK_REALTIME, &a);
    now = e->clock.now(e->clock.ctx);
    clock_gettime(CLOCK_REALTIME, &b);
    if (!e->frame_known ||
        (a.tv_sec == b.tv_sec && a.tv_nsec >= TURN_NS && b.tv_nsec <= 1000000000L - TURN_NS)) {
        e->frame_off = now - (int64_t)b.tv_sec;
        e->frame_known = true;
    }
    b.tv_sec = (time_t)((int64_t)b.tv_sec + e->frame_off);
    return b;
}

static struct timespec realtime_in(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Tickets fired in one writer unit: small units commit in turn, so the first
 * of a thousand due in the same second are durable sooner (docs/architecture.md). */
#define FIRE_BATCH 64
/* How long a claim on due work holds (kw_store_due_claim): a node that
 * claimed and died is taken over after this. */
#define CLAIM_LEASE_S 30
/* Several nodes: how often each claims due work nobody hinted to it. */
#define SWEEP_S 2

/* The heap is only a hint of when to wake: what fires is what the store
 * hands out as due (kw_store_due_claim), so several processes on one
 * database never fire the same threshold twice. */
struct fire_unit {
    struct kw_engine *e;
    struct firer *f; /* whose writer runs it */
    bool turn;       /* holds e->claiming until its claim returned */
    int64_t now;
    size_t n_hint; /* tickets the heap said were due */
    int64_t hint[FIRE_BATCH];
    bool full;     /* the claim took a whole batch: more is due */
    bool solo;     /* fire one ticket only */
    bool bare;     /* in a transaction of its own, no savepoint (kw_writer_run_alone) */
    size_t n_skip; /* claimed or hinted, but set aside: not fired */
    int64_t skip[SET_ASIDE_MAX];
    size_t n; /* the claimed tickets first, then hinted ones not claimed */
    struct fire_entry {
        int64_t ticket, due, next;
        int events;
        bool claimed, failed;
        char why[sizeof(((struct kw_err *)0)->msg)];
    } t[2 * FIRE_BATCH];
};

static bool skipped(const struct fire_unit *u, int64_t ticket)
{
    for (size_t i = 0; i < u->n_skip; i++)
        if (u->skip[i] == ticket)
            return true;
    return false;
}

static bool claimed(const struct fire_unit *u, size_t n, int64_t ticket)
{
    for (size_t i = 0; i < n; i++)
        if (u->t[i].ticket == ticket)
            return true;
    return false;
}

/* Fire entry i of u (not in a savepoint of its own): a hint not claimed
 * only reads its schedule. */
static enum kw_code fire_ticket(struct kw_store *st, struct fire_unit *u, size_t i,
                                struct kw_err *err)
{
    struct fire_entry *t = &u->t[i];
    if (!t->claimed) /* not due after all, or another node's: its schedule */
        return kw_store_fire_at(st, t->ticket, &t->next, err);
    enum kw_code rc = kw_store_fire_at(st, t->ticket, &t->due, err);
    if (rc == KW_OK)
        rc = kw_clocks_fire_cached(u->e->clocks, st, u->f->sla, u->f->fc, t->ticket, u->now,
                                   &t->events, err);
    if (rc == KW_OK)
        rc = kw_store_fire_at(st, t->ticket, &t->next, err);
    return rc;
}

/* Fire each ticket of u in its own savepoint: one that fails is retried
 * later without holding up the others. */
static enum kw_code fire_each(struct kw_store *st, struct fire_unit *u, struct kw_err *err)
{
    for (size_t i = 0; i < u->n; i++) {
        struct kw_err e2 = {0};
        if (!u->t[i].claimed) {
            if (fire_ticket(st, u, i, err) != KW_OK)
                return err->code;
            continue;
        }
        if (kw_store_savepoint(st, err) != KW_OK)
            return err->code;
        enum kw_code rc = fire_ticket(st, u, i, &e2);
        /* its writes not sent yet go now: one that fails fails this
         * ticket, not the next one's first statement */
        if (rc == KW_OK)
            rc = kw_store_flush(st, &e2);
        if (kw_store_release(st, rc == KW_OK, err) != KW_OK)
            return err->code;
        if (rc != KW_OK) {
            u->t[i].failed = true;
            u->t[i].events = 0;
            u->t[i].next = u->now + 5; /* try again shortly */
            snprintf(u->t[i].why, sizeof(u->t[i].why), "%s", e2.msg);
        }
    }
    return KW_OK;
}

/* The next firer's unit may take its hints off the heap and claim. */
static void claim_turn_end(struct fire_unit *u)
{
    if (!u->turn)
        return;
    pthread_mutex_lock(&u->e->mu);
    u->e->claiming = false;
    u->turn = false;
    pthread_cond_broadcast(&u->e->claim_cv);
    pthread_mutex_unlock(&u->e->mu);
}

/* Claim what is due and fire it; a ticket that fails is retried later
 * without holding up the others. */
static enum kw_code fire_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct fire_unit *u = ctx;
    int64_t ids[FIRE_BATCH + SET_ASIDE_MAX];
    size_t want = u->solo ? 1 : FIRE_BATCH, n = 0, kept = 0;
    u->n = 0;
    /* the tickets set aside are claimed too (their place in the order),
     * but not fired: a claim by this node does not hold this node back.
     * The unit's hints are claimed first: with several firers the oldest
     * due (by ticket id within a second) are mostly another unit's hints
     * (the heap's ties go first-in, first-out), and a hint its unit did
     * not claim costs that unit a read of its schedule and goes back on
     * the heap as due. */
    if (kw_store_due_claim(st, u->now, CLAIM_LEASE_S, u->e->node, u->hint, u->n_hint,
                           want + u->n_skip, ids, &n, err) != KW_OK)
        return err->code;
    u->full = n == want + u->n_skip;
    claim_turn_end(u);
    kw_fire_cache_batch(u->f->fc); /* people are read once per batch */
    for (size_t i = 0; i < n && kept < want; i++)
        if (!skipped(u, ids[i])) {
            u->t[u->n++] = (struct fire_entry){
                .ticket = ids[i], .due = u->now, .next = KW_STORE_NO_TIME, .claimed = true};
            kept++;
        }
    for (size_t i = 0; i < u->n_hint; i++)
        if (!claimed(u, kept, u->hint[i]))
            u->t[u->n++] = (struct fire_entry){.ticket = u->hint[i], .next = KW_STORE_NO_TIME};
    /* the claimed tickets' rows, schedules, heads and events in one read
     * each (PostgreSQL: a round trip per unit, not several per ticket),
     * their rows locked from here to the commit as their appends would */
    int64_t ahead[FIRE_BATCH];
    for (size_t i = 0; i < kept; i++)
        ahead[i] = u->t[i].ticket;
    if (kw_store_prefetch(st, ahead, kept, err) != KW_OK)
        return err->code;
    /* Not solo: all the claimed tickets in a transaction of their own
     * (kw_writer_run_alone), without a savepoint. Under a savepoint SQLite
     * copies each page the first time it is changed to the statement
     * journal, which spills past 124 KiB to a file (two pwrite calls a
     * page): a unit of 64 firings changes some hundreds of pages, and that
     * was most of the writer's write system calls (#20). When one ticket
     * fails the whole transaction is rolled back, and fire() runs the unit
     * again with each ticket in a savepoint of its own (fire_each), so that
     * a firing that fails still fails alone (tests/http/engine_bad.sh). */
    if (u->bare) {
        for (size_t i = 0; i < u->n; i++)
            if (fire_ticket(st, u, i, err) != KW_OK)
                return err->code;
        return KW_OK;
    }
    return fire_each(st, u, err);
}

/* Fire what is due (the hints taken off the heap, which is unlocked
 * meanwhile), and put the tickets' next instants back as hints. */
/* When the ticket set aside is let go again, or 0. */
static int64_t aside_until(const struct kw_engine *e, int64_t ticket)
{
    for (size_t i = 0; i < e->n_aside; i++)
        if (e->aside[i].ticket == ticket)
            return e->aside[i].until;
    return 0;
}

/* After the unit u failed as a whole: one ticket at a time for as many
 * units as it claimed, and a ticket that failed so alone is set aside;
 * whether it was (the other tickets need not wait then). */
static bool isolate(struct kw_engine *e, const struct fire_unit *u, const char *why)
{
    size_t n = 0;
    for (size_t i = 0; i < u->n; i++)
        n += u->t[i].claimed;
    if (!u->solo) {
        e->solo = n;
        return false;
    }
    if (n != 1 || e->n_aside == SET_ASIDE_MAX)
        return false;
    e->aside[e->n_aside].ticket = u->t[0].ticket;
    e->aside[e->n_aside++].until = u->now + SET_ASIDE_S;
    KW_LOG(&e->log, KW_LOG_ERROR,
           "mod=engine event=fire.failed ticket=%lld set_aside_s=%d error=%s",
           (long long)u->t[0].ticket, SET_ASIDE_S, KW_LOG_Q(why));
    return true;
}

/* Whether t, still due after u's firing, is looked at again only in a
 * second rather than at once:
 * - a hint not claimed while the claim had room is another node's;
 * - a ticket claimed whose firing moved nothing (nothing fired and its
 *   schedule still due at the instant it was claimed for: a threshold at
 *   now itself, not over until this second is, or a ticket without a
 *   commitment), else each pass of a firer claims it again in a unit of
 *   its own (620 to 1,943 units in 3 s in pg_store's
 *   test_engine_writers). A firing that moved something and left another
 *   step due stays due at once: making those wait a second too cost p99
 *   at 1,000,000 tickets with chains (302 and 228 ms against 185, branch
 *   pg15). */
static bool look_in_a_second(const struct fire_unit *u, const struct fire_entry *t)
{
    if (t->next == KW_STORE_NO_TIME || t->next > u->now)
        return false;
    if (!t->claimed)
        return !u->full;
    return !t->failed && !t->events && t->next == t->due;
}

static void fire(struct kw_engine *e, struct fire_unit *u)
{
    struct kw_err err = {0};
    struct kw_writer *w = u->f->w;
    pthread_mutex_lock(&e->mu); /* the tickets set aside and solo: every firer's */
    size_t kept = 0;            /* the tickets set aside until after now */
    for (size_t i = 0; i < e->n_aside; i++)
        if (e->aside[i].until > u->now)
            e->aside[kept++] = e->aside[i];
    e->n_aside = kept;
    u->n_skip = 0;
    for (size_t i = 0; i < e->n_aside; i++)
        u->skip[u->n_skip++] = e->aside[i].ticket;
    u->solo = e->solo > 0;
    u->n = 0; /* a unit its batch never ran claimed nothing */
    if (e->solo)
        e->solo--;
    u->bare = !u->solo;
    pthread_mutex_unlock(&e->mu);
    enum kw_code rc =
        u->bare ? kw_writer_run_alone(w, fire_unit, u, &err) : kw_writer_run(w, fire_unit, u, &err);
    claim_turn_end(u);            /* a unit its writer never ran */
    if (rc != KW_OK && u->bare) { /* undone: again, each ticket in a savepoint */
        u->bare = false;
        u->n = 0;
        err = (struct kw_err){0};
        rc = kw_writer_run(w, fire_unit, u, &err);
    }
    pthread_mutex_lock(&e->mu);
    struct timespec wall = injected_wall(e); /* lateness: due to committed */
    if (rc != KW_OK) {
        KW_LOG(&e->log, KW_LOG_ERROR, "mod=engine event=fire.failed tickets=%zu error=%s",
               u->n_hint, KW_LOG_Q(err.msg));
        /* nothing of the unit is stored: the hints again, shortly (at
         * once when the ticket that failed it is set aside) */
        int64_t again = isolate(e, u, err.msg) ? u->now : u->now + 5;
        u->n = 0;
        for (size_t i = 0; i < u->n_hint; i++)
            u->t[u->n++] = (struct fire_entry){.ticket = u->hint[i], .next = again};
    }
    for (size_t i = 0; i < u->n; i++) { /* a ticket set aside: hinted again when let go */
        int64_t until = aside_until(e, u->t[i].ticket);
        if (until && !u->t[i].claimed)
            u->t[i].next = until;
    }
    pthread_mutex_unlock(&e->mu);
    int events = 0;
    size_t fired = 0;
    for (size_t i = 0; i < u->n; i++) {
        if (u->t[i].failed)
            KW_LOG(&e->log, KW_LOG_ERROR, "mod=engine event=fire.failed ticket=%lld error=%s",
                   (long long)u->t[i].ticket, KW_LOG_Q(u->t[i].why));
        else if (u->t[i].events)
            KW_LOG(&e->log, KW_LOG_INFO, "mod=engine event=fired ticket=%lld events=%d",
                   (long long)u->t[i].ticket, u->t[i].events);
        events += u->t[i].events;
        if (look_in_a_second(u, &u->t[i]))
            u->t[i].next = u->now + 1;
    }
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < u->n; i++) {
        kw_timers_set(&e->heap, u->t[i].ticket, u->t[i].next);
        if (!u->t[i].claimed)
            continue;
        fired++;
        e->late_ms[e->stats.late.count++ % KW_ENGINE_LATE_WINDOW] =
            (double)(wall.tv_sec - u->t[i].due) * 1e3 + (double)wall.tv_nsec / 1e6;
    }
    e->stats.fired += fired;
    e->stats.events += (uint64_t)events;
    if (events)
        e->kicked = true;
    pthread_cond_signal(&e->deliver_cv);
    pthread_mutex_unlock(&e->mu);
}

/* A firer's loop: the timer thread (firer[0], which also sweeps) and each
 * writer of kw_engine_fire_on's take the next FIRE_BATCH due hints off the
 * heap in turn and fire them, each through its own writer, so several
 * units run at once on several connections; the claims' row locks (FOR
 * UPDATE SKIP LOCKED) keep a ticket in one of them. */
static void *timer_loop(void *arg)
{
    struct firer *f = arg;
    struct kw_engine *e = f->e;
    bool sweeps = f == &e->firer[0];
    struct fire_unit *u = malloc(sizeof(*u));
    pthread_mutex_lock(&e->mu);
    while (!e->stop && u) {
        int64_t now = e->clock.now(e->clock.ctx);
        bool due = e->heap.n && e->heap.e[0].due <= now;
        if ((due || (sweeps && e->multi && now >= e->sweep_at)) && e->claiming) {
            pthread_cond_wait(&e->claim_cv, &e->mu); /* another unit's claim first */
            continue;
        }
        if (due) {
            /* everything due now, in order of due time, one transaction */
            u->e = e;
            u->f = f;
            u->now = now;
            u->n_hint = 0;
            while (u->n_hint < FIRE_BATCH && e->heap.n && e->heap.e[0].due <= now) {
                int64_t ticket = e->heap.e[0].ticket;
                kw_timers_remove(&e->heap, ticket);
                u->hint[u->n_hint++] = ticket;
            }
            u->turn = e->claiming = e->n_firers > 1;
            pthread_mutex_unlock(&e->mu);
            fire(e, u);
            pthread_mutex_lock(&e->mu);
            continue;
        }
        if (sweeps && e->multi && now >= e->sweep_at) {
            /* what other nodes scheduled is not in this heap: claim what
             * is due every SWEEP_S anyway, so a node that died leaves
             * nothing unfired (docs/operations.md, "Several nodes") */
            *u = (struct fire_unit){.e = e, .f = f, .now = now};
            u->turn = e->claiming = e->n_firers > 1;
            pthread_mutex_unlock(&e->mu);
            fire(e, u);
            pthread_mutex_lock(&e->mu);
            e->sweep_at = u->full ? now : now + SWEEP_S;
            continue;
        }
        /* sleep until the top is due (the real clock in the injected
         * clock's frame), and look at the injected clock at least every
         * 250 ms */
        int64_t wait_ms = 250;
        if (e->heap.n) {
            struct timespec wall = injected_wall(e);
            int64_t to_due = (e->heap.e[0].due - wall.tv_sec) * 1000 - wall.tv_nsec / 1000000;
            if (to_due < wait_ms)
                wait_ms = to_due > 0 ? to_due : 1;
        }
        struct timespec until = realtime_in(wait_ms);
        pthread_cond_timedwait(&e->timer_cv, &e->mu, &until);
    }
    pthread_mutex_unlock(&e->mu);
    free(u);
    return NULL;
}

/* ---- delivery ---- */

#define BATCH 16

/* A due notification copied out of the store's row. */
struct due_item {
    struct kw_delivery d;
    char *payload, *key, *url, *secret, *kind, *channel, *email, *quiet_tz, *user_tz;
};

struct due_list {
    size_t n;
    struct due_item item[BATCH];
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool collect(const struct kw_delivery *d, void *ctx)
{
    struct due_list *l = ctx;
    if (l->n == BATCH)
        return false;
    struct due_item *it = &l->item[l->n++];
    it->payload = dup_or_null(d->payload);
    it->key = dup_or_null(d->key);
    it->url = dup_or_null(d->url);
    it->secret = dup_or_null(d->secret);
    it->kind = dup_or_null(d->kind);
    it->channel = dup_or_null(d->channel);
    it->email = dup_or_null(d->user_email);
    it->quiet_tz = dup_or_null(d->quiet_tz);
    it->user_tz = dup_or_null(d->user_tz);
    it->d = *d;
    it->d.user_email = it->email;
    it->d.quiet_tz = it->quiet_tz;
    it->d.user_tz = it->user_tz;
    it->d.lang = !d->lang ? NULL : strcmp(d->lang, "zh") == 0 ? "zh" : "en"; /* outlives the row */
    it->d.payload = it->payload ? it->payload : "";
    it->d.key = it->key ? it->key : "";
    it->d.url = it->url ? it->url : "";
    it->d.secret = it->secret;
    it->d.kind = it->kind ? it->kind : "";
    it->d.channel = it->channel ? it->channel : "";
    return true;
}

/* What became of one attempt: delivered, failed (retry at next_at, or
 * dead), or held back by quiet hours until next_at. */
struct outcome {
    int64_t id, next_at, now;
    const char *state; /* NULL: postponed */
    char why[256];
};

struct results {
    struct outcome o[BATCH];
    size_t n;
};

/* A batch's attempts recorded in one unit (one commit for all of them). */
static enum kw_code results_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct results *r = ctx;
    for (size_t i = 0; i < r->n; i++) {
        const struct outcome *o = &r->o[i];
        enum kw_code rc = o->state
                              ? kw_store_outbox_done(st, o->id, o->state, o->why[0] ? o->why : NULL,
                                                     o->next_at, o->now, err)
                              : kw_store_outbox_postpone(st, o->id, o->next_at, err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

struct rota_ids {
    size_t n;
    int level[16];
};

static bool rota_id(const struct kw_oncall_row *r, void *ctx)
{
    struct rota_ids *ids = ctx;
    if (ids->n < 16)
        ids->level[ids->n++] = r->level;
    return true;
}

/* Whether user is on call now in one of their team's rotas. */
static bool on_call(struct kw_engine *e, int64_t user, int64_t team, int64_t now)
{
    struct rota_ids ids = {0};
    struct kw_err err = {0};
    bool on = false;
    if (!team || kw_store_oncalls(e->rd, team, 0, 0, rota_id, &ids, &err) != KW_OK)
        return false;
    const struct kw_rota *r;
    for (size_t i = 0; i < ids.n && !on; i++)
        on = kw_rota_cached(e->rotas, e->rd, kw_clocks_tzdb(e->clocks), team, ids.level[i], &r,
                            &err) == KW_OK &&
             kw_oncall_who(&r->s, &r->tz, now, NULL) == user;
    kw_store_end_read(e->rd);
    return on;
}

/* When a person's quiet hours end, if now is inside them and they are not
 * on call; KW_STORE_NO_TIME otherwise. */
static int64_t quiet_until(struct kw_engine *e, const struct kw_delivery *d, int64_t now)
{
    struct kw_tzinfo tz;
    if (!d->user_id || !d->quiet_tz ||
        kw_tzdb_get(kw_clocks_tzdb(e->clocks), d->quiet_tz, &tz, NULL) != KW_OK)
        return KW_STORE_NO_TIME;
    int64_t ends;
    if (!kw_quiet_at(&tz, d->quiet_from, d->quiet_to, now, &ends) ||
        on_call(e, d->user_id, d->user_team, now))
        return KW_STORE_NO_TIME;
    return ends;
}

/* One due notification on its way out: what prepare() found (held back by
 * quiet hours, or to be sent as plain with the reader's zone) and whether
 * kw_deliver() got it there. */
struct sending {
    struct kw_delivery plain;
    struct kw_tzinfo zone;
    bool zoned, held, send, ok;
    size_t after; /* put off behind this item's failure; its own index: not */
    char secret[600];
};

/* Before sending, in the delivery thread (its reads use the engine's
 * connection and rota cache): hold back, or unseal a mailbox's password. */
static void prepare(struct kw_engine *e, const struct kw_delivery *d, struct outcome *o,
                    struct sending *s)
{
    int64_t until = quiet_until(e, d, e->clock.now(e->clock.ctx));
    *o = (struct outcome){.id = d->id, .next_at = until};
    s->held = until != KW_STORE_NO_TIME;
    s->send = s->ok = false;
    if (s->held) {
        KW_LOG(&e->log, KW_LOG_INFO, "mod=engine event=delivery.quiet id=%lld user=%lld until=%lld",
               (long long)d->id, (long long)d->user_id, (long long)until);
        return;
    }
    /* times in a person's mail in their zone: theirs, else their quiet hours' */
    const char *tz = d->user_tz ? d->user_tz : d->quiet_tz;
    s->zoned = tz && kw_tzdb_get(kw_clocks_tzdb(e->clocks), tz, &s->zone, NULL) == KW_OK;
    /* a sending mailbox's login is "username:" and its sealed password */
    s->plain = *d;
    const char *colon = d->secret && strcmp(d->kind, "email") == 0 ? strchr(d->secret, ':') : NULL;
    s->send = true;
    if (colon && kw_sealed(colon + 1)) {
        struct kw_err err = {0};
        size_t n = (size_t)(colon + 1 - d->secret);
        if (n >= 300 || !e->has_key ||
            kw_unseal(e->key, colon + 1, s->secret + n, sizeof(s->secret) - n, &err) != KW_OK) {
            snprintf(o->why, sizeof(o->why), "the mailbox's password: %s",
                     e->has_key ? err.msg : "sealed, and the server has no mail key");
            s->send = false;
        } else {
            memcpy(s->secret, d->secret, n);
            s->plain.secret = s->secret;
        }
    }
}

/* After sending: when to try again, the log line and the counters. */
static void settle(struct kw_engine *e, const struct kw_delivery *d, struct results *res,
                   struct outcome *o, struct sending *s)
{
    kw_wipe(s->secret, sizeof(s->secret));
    if (s->held)
        return;
    if (s->after != (size_t)(o - res->o)) {
        /* retried with the failed one, after it: not an attempt */
        o->next_at = res->o[s->after].next_at;
        KW_LOG(&e->log, KW_LOG_INFO,
               "mod=engine event=delivery.deferred id=%lld endpoint=%lld until=%lld",
               (long long)d->id, (long long)d->endpoint_id, (long long)o->next_at);
        return;
    }
    bool ok = s->ok;
    int64_t now = e->clock.now(e->clock.ctx);
    int tries = d->attempts + 1;
    int64_t backoff = KW_DELIVERY_BACKOFF;
    for (int i = 1; i < tries && backoff < KW_DELIVERY_BACKOFF_MAX; i++)
        backoff *= 2;
    if (backoff > KW_DELIVERY_BACKOFF_MAX)
        backoff = KW_DELIVERY_BACKOFF_MAX;
    o->next_at = now + backoff;
    o->now = now;
    o->state = ok ? "delivered" : tries >= KW_DELIVERY_TRIES ? "dead" : "pending";
    if (ok)
        o->why[0] = '\0';
    if (ok)
        KW_LOG(&e->log, KW_LOG_INFO,
               "mod=engine event=delivery id=%lld endpoint=%lld kind=%s attempt=%d state=%s",
               (long long)d->id, (long long)d->endpoint_id, d->kind, tries, o->state);
    else
        KW_LOG(&e->log, KW_LOG_ERROR,
               "mod=engine event=delivery id=%lld endpoint=%lld kind=%s attempt=%d state=%s "
               "error=%s",
               (long long)d->id, (long long)d->endpoint_id, d->kind, tries, o->state,
               KW_LOG_Q(o->why));
    pthread_mutex_lock(&e->mu);
    if (ok)
        e->stats.delivered++;
    else
        e->stats.failed++;
    pthread_mutex_unlock(&e->mu);
}

/* A batch's sending: the notifications of one receiver go one after
 * another in the batch's order (it sees a ticket's warning before its
 * breach), different receivers at once on up to SENDERS threads, so one
 * that is slow or down (up to the 5 s timeout per attempt) holds up only
 * its own; after a receiver's failure its later ones in the batch are not
 * tried but wait for its retry (no attempt counted). */
#define SENDERS 8

/* One receiver: an endpoint, or a person's subscription to it (one person's
 * bad address does not hold up the others of an e-mail endpoint). */
static bool same_receiver(const struct kw_delivery *a, const struct kw_delivery *b)
{
    return a->endpoint_id == b->endpoint_id && a->user_id == b->user_id;
}

struct send_job {
    struct kw_engine *e;
    const struct due_list *l;
    struct results *res;
    struct sending *s;
    size_t first[BATCH], groups; /* each receiver's first item */
    atomic_size_t next;
};

static void *send_groups(void *arg)
{
    struct send_job *j = arg;
    for (size_t g; (g = atomic_fetch_add(&j->next, 1)) < j->groups;) {
        const struct kw_delivery *first = &j->l->item[j->first[g]].d;
        size_t failed = j->l->n;
        for (size_t i = j->first[g]; i < j->l->n; i++) {
            struct sending *s = &j->s[i];
            if (!same_receiver(&j->l->item[i].d, first) || s->held)
                continue;
            if (failed < j->l->n) {
                s->after = failed;
                continue;
            }
            if (s->send)
                s->ok = kw_deliver(&s->plain, s->zoned ? &s->zone : NULL, &j->e->allow,
                                   j->res->o[i].why, sizeof(j->res->o[i].why));
            if (!s->ok && first->endpoint_id)
                failed = i;
        }
    }
    return NULL;
}

static void send_batch(struct kw_engine *e, const struct due_list *l, struct results *res)
{
    struct sending s[BATCH];
    struct send_job j = {.e = e, .l = l, .res = res, .s = s};
    atomic_init(&j.next, 0);
    for (size_t i = 0; i < l->n; i++) {
        prepare(e, &l->item[i].d, &res->o[i], &s[i]);
        s[i].after = i;
        size_t k = 0;
        while (k < i && !same_receiver(&l->item[k].d, &l->item[i].d))
            k++;
        if (k == i)
            j.first[j.groups++] = i;
    }
    pthread_t t[SENDERS - 1];
    size_t started = 0;
    while (started < SENDERS - 1 && started + 1 < j.groups &&
           pthread_create(&t[started], NULL, send_groups, &j) == 0)
        started++;
    send_groups(&j);
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    for (size_t i = 0; i < l->n; i++)
        settle(e, &l->item[i].d, res, &res->o[i], &s[i]);
}

static void *deliver_loop(void *arg)
{
    struct kw_engine *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        e->kicked = false;
        pthread_mutex_unlock(&e->mu);
        struct due_list l = {0};
        struct kw_err err = {0};
        int64_t now = e->clock.now(e->clock.ctx);
        /* the weekly and monthly reports: looked for once a minute; what
         * is queued goes out in this same pass */
        if (now >= e->reports_at) {
            /* several nodes: one queues them (the holder of the singleton);
             * the others try to take it every 5 s, so one takes over soon
             * after the holder stopped or died */
            bool held = true;
            if (kw_store_singleton(e->rd, KW_STORE_SINGLETON_REPORTS, &held, &err) != KW_OK) {
                KW_LOG(&e->log, KW_LOG_ERROR, "mod=engine event=reports.unlocked error=%s",
                       KW_LOG_Q(err.msg));
                err = (struct kw_err){0};
            }
            if (held != e->reports_held)
                KW_LOG(&e->log, KW_LOG_INFO, "mod=engine event=%s",
                       held ? "reports.taken" : "reports.lost");
            e->reports_held = held;
            if (held)
                kw_reports_queue(e->rd, e->w, e->clocks, now, &e->log);
            e->reports_at = now + (held ? 60 : 5);
        }
        /* billing periods that ended: also once a minute (on every node:
         * a period's close is recorded under a unique key first, so one
         * node closes it) */
        if (now >= e->periods_at) {
            kw_periods_close(e->w, e->clocks, e->node, now, &e->log);
            e->periods_at = now + 60;
        }
        if (kw_store_outbox_due(e->rd, now, BATCH, collect, &l, &err) != KW_OK)
            KW_LOG(&e->log, KW_LOG_ERROR, "mod=engine event=outbox.unreadable error=%s",
                   KW_LOG_Q(err.msg));
        kw_store_end_read(e->rd);
        struct results res = {.n = l.n};
        send_batch(e, &l, &res);
        for (size_t i = 0; i < l.n; i++) {
            free(l.item[i].payload);
            free(l.item[i].key);
            free(l.item[i].url);
            free(l.item[i].secret);
            free(l.item[i].kind);
            free(l.item[i].channel);
            free(l.item[i].email);
            free(l.item[i].quiet_tz);
            free(l.item[i].user_tz);
        }
        /* an attempt not recorded is made again: at least once */
        if (l.n && kw_writer_run(e->w, results_unit, &res, &err) != KW_OK)
            KW_LOG(&e->log, KW_LOG_ERROR, "mod=engine event=delivery.unrecorded count=%zu error=%s",
                   l.n, KW_LOG_Q(err.msg));
        pthread_mutex_lock(&e->mu);
        if (l.n == BATCH || e->kicked || e->stop)
            continue; /* more may be due */
        /* retries fall due by the injected clock: look again every 250 ms */
        struct timespec until = realtime_in(250);
        pthread_cond_timedwait(&e->deliver_cv, &e->mu, &until);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ---- start, stop ---- */

static bool load_entry(int64_t ticket, int64_t fire_at, void *ctx)
{
    return kw_timers_set(ctx, ticket, fire_at);
}

struct kw_engine *kw_engine_start(const char *db, struct kw_writer *w, struct kw_clocks *clocks,
                                  struct kw_now clock, const struct kw_log *log,
                                  const struct kw_nets *allow, const unsigned char *key,
                                  struct kw_err *err)
{
    struct kw_engine *e = calloc(1, sizeof(*e));
    if (!e || strlen(db) >= sizeof(e->db)) {
        free(e);
        kw_err_set(err, KW_NOMEM, "", "no memory for the engine");
        return NULL;
    }
    snprintf(e->db, sizeof(e->db), "%s", db);
    char host[64] = "localhost";
    gethostname(host, sizeof(host) - 1);
    snprintf(e->node, sizeof(e->node), "%s:%ld", host, (long)getpid());
    e->w = w;
    e->multi = kw_store_location_is_pg(db);
    e->reports_held = !e->multi; /* logged when it changes: only where it can */
    e->clocks = clocks;
    e->clock = clock;
    if (log)
        e->log = *log;
    if (allow)
        e->allow = *allow;
    if (key) {
        memcpy(e->key, key, KW_SEAL_KEY_BYTES);
        e->has_key = true;
    }
    kw_sla_init(&e->sla);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->timer_cv, NULL);
    pthread_cond_init(&e->deliver_cv, NULL);
    pthread_cond_init(&e->claim_cv, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    e->fc = kw_fire_cache_new();
    e->rotas = kw_rota_cache_new();
    if (!e->fc || !e->rotas) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the engine");
        kw_engine_stop(e);
        return NULL;
    }
    e->rd = kw_store_open(db, err);
    if (!e->rd) {
        kw_engine_stop(e);
        return NULL;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (kw_store_fire_all(e->rd, load_entry, &e->heap, err) != KW_OK) {
        kw_engine_stop(e);
        return NULL;
    }
    kw_store_end_read(e->rd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    e->stats.rebuild_seconds =
        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    KW_LOG(&e->log, KW_LOG_INFO, "mod=engine event=engine.started timers=%zu rebuild_ms=%.1f",
           e->heap.n, e->stats.rebuild_seconds * 1e3);
    e->firer[0] = (struct firer){.e = e, .w = w, .sla = &e->sla, .fc = e->fc};
    e->n_firers = 1;
    e->started_timer = pthread_create(&e->timer, NULL, timer_loop, &e->firer[0]) == 0;
    e->started_deliverer = pthread_create(&e->deliverer, NULL, deliver_loop, e) == 0;
    if (!e->started_timer || !e->started_deliverer) {
        kw_err_set(err, KW_NOMEM, "", "cannot start the engine's threads");
        kw_engine_stop(e);
        return NULL;
    }
    return e;
}

void kw_engine_stop(struct kw_engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    pthread_cond_broadcast(&e->timer_cv);
    pthread_cond_broadcast(&e->claim_cv);
    pthread_cond_signal(&e->deliver_cv);
    pthread_mutex_unlock(&e->mu);
    if (e->started_timer)
        pthread_join(e->timer, NULL);
    for (size_t i = 1; i < e->n_firers; i++) {
        if (e->firer[i].started)
            pthread_join(e->firer[i].thread, NULL);
        kw_fire_cache_free(e->firer[i].fc);
        kw_sla_release(&e->firer[i].own_sla);
    }
    if (e->started_deliverer)
        pthread_join(e->deliverer, NULL);
    kw_store_close(e->rd);
    kw_fire_cache_free(e->fc);
    kw_rota_cache_free(e->rotas);
    kw_sla_release(&e->sla);
    kw_timers_release(&e->heap);
    pthread_cond_destroy(&e->timer_cv);
    pthread_cond_destroy(&e->deliver_cv);
    pthread_cond_destroy(&e->claim_cv);
    pthread_mutex_destroy(&e->mu);
    curl_global_cleanup();
    free(e);
}

enum kw_code kw_engine_fire_on(struct kw_engine *e, struct kw_writer *w, struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    pthread_mutex_lock(&e->mu);
    struct firer *f = &e->firer[e->n_firers];
    if (e->n_firers == KW_ENGINE_FIRERS) {
        rc = kw_err_set(err, KW_INVALID, "", "the engine fires on at most %d writers",
                        KW_ENGINE_FIRERS);
        goto out;
    }
    *f = (struct firer){.e = e, .w = w, .sla = &f->own_sla, .fc = kw_fire_cache_new()};
    kw_sla_init(&f->own_sla);
    /* counted before its thread starts, so that stop joins it and frees
     * what it has even when it did not start */
    e->n_firers++;
    if (!f->fc) {
        rc = kw_err_set(err, KW_NOMEM, "", "no memory for the engine's firer");
        goto out;
    }
    f->started = pthread_create(&f->thread, NULL, timer_loop, f) == 0;
    if (!f->started)
        rc = kw_err_set(err, KW_NOMEM, "", "cannot start the engine's firer thread");
out:
    pthread_mutex_unlock(&e->mu);
    return rc;
}

void kw_engine_schedule(struct kw_engine *e, int64_t ticket, int64_t fire_at)
{
    pthread_mutex_lock(&e->mu);
    bool was_top = e->heap.n && e->heap.e[0].ticket == ticket;
    kw_timers_set(&e->heap, ticket, fire_at);
    if (was_top || (e->heap.n && e->heap.e[0].ticket == ticket))
        pthread_cond_signal(&e->timer_cv);
    pthread_mutex_unlock(&e->mu);
}

void kw_engine_kick(struct kw_engine *e)
{
    pthread_mutex_lock(&e->mu);
    e->kicked = true;
    pthread_cond_signal(&e->deliver_cv);
    pthread_mutex_unlock(&e->mu);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void kw_engine_stats(struct kw_engine *e, struct kw_engine_stats *out)
{
    /* copy the window under the lock, sort it outside */
    double *late = malloc(sizeof(e->late_ms));
    pthread_mutex_lock(&e->mu);
    *out = e->stats;
    out->entries = e->heap.n;
    out->bytes =
        e->heap.cap * sizeof(struct kw_timer) + e->heap.map_cap * sizeof(struct kw_timer_slot);
    size_t m =
        out->late.count < KW_ENGINE_LATE_WINDOW ? (size_t)out->late.count : KW_ENGINE_LATE_WINDOW;
    if (late)
        memcpy(late, e->late_ms, m * sizeof(*late));
    pthread_mutex_unlock(&e->mu);
    if (!late || !m) {
        free(late);
        return;
    }
    qsort(late, m, sizeof(*late), by_value);
    out->late.window = m;
    out->late.p50_ms = late[(m - 1) / 2];
    out->late.p90_ms = late[(size_t)((double)(m - 1) * 0.90)];
    out->late.p99_ms = late[(size_t)((double)(m - 1) * 0.99)];
    out->late.max_ms = late[m - 1];
    free(late);
}
