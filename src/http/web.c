// SPDX-License-Identifier: MIT
/*
 * The browser's side of the server: the pages built into the binary, and
 * the live feed of changed tickets as Server-Sent Events.
 *
 * The feed: the store keeps a change log (store.h, kw_store_changes_since)
 * written with the events, so it holds every process's commits. While a
 * stream is open, one feeder thread reads it when the writer says it
 * committed (a wake-up only) or at the latest every second, and encodes
 * each changed ticket once as GET /tickets/{id} shows it (clocks
 * included), as staff see it and as its organisation's customers see it,
 * into a ring of the last RING changes.
 * Each stream (GET /api/v1/stream) keeps its place in the ring and copies
 * from it what its caller may see (customers: their organisation's tickets,
 * and nothing at all for other organisations' changes) as `event: ticket`.
 * A stream that fell behind the ring (its client reads too slowly), whose
 * copy did not fit its buffer, or whose feeder fell behind what the log
 * keeps, gets `event: reset` (reload the list); no stream ever holds up the
 * writer or the feeder. Before it sends anything a stream checks its
 * session again, and ends when the session has ended (logout, expiry, the
 * user removed or changed). A comment every 15 s keeps proxies and the
 * connection timeout from closing it. A stream sends at most every 100 ms
 * (what changed meanwhile in one send).
 *
 * On PostgreSQL several nodes serve one desk: a listener thread of each
 * node LISTENs on a connection of its own for the change log's
 * announcements (NOTIFY kw_changes with a seq, sent at commit by any node)
 * and wakes the feeder, which reads the log from its cursor as ever; after
 * a lost connection it reconnects and wakes the feeder too, and the poll
 * every second covers a missed announcement. So a write on one node reaches
 * the streams of every node within a fraction of a second.
 *
 * Streams hold no thread: between sends a stream's connection is suspended
 * (its content reader returns 0 after MHD_suspend_connection), and one
 * ticker thread resumes it when it has something to send, when its
 * keep-alive is due, or when its client went away. Streams are limited in
 * all, per user and per client address (429).
 */
#include <errno.h>
#include <sys/socket.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "internal.h"
#include "json_text.h"

extern const unsigned char kw_web_index[], kw_web_app_js[], kw_web_app_css[], kw_web_echarts_js[];

#define KEEPALIVE_S 15
#define POLL_MS 1000          /* other processes' commits are seen within this */
#define BATCH_CHANGES 256     /* changes read per pass */
#define BATCH_MAX (64u << 20) /* bytes of events a stream sends at once; more: `event: reset` */
#define RING 4096             /* changes kept encoded for the streams */
#define GAP_MS 100            /* a stream sends at most this often */
#define RESET_TEXT "event: reset\ndata: {}\n\n"

struct kwh_feed_item {
    int64_t ticket; /* 0: a reset for everyone (the feeder fell behind the log) */
    int64_t org;
    char *text[2]; /* the `event: ticket` as staff / as the organisation's customers see it */
};

static void *feeder(void *arg);
static void *ticker(void *arg);
static void *listener(void *arg);

void kwh_feed_init(struct kwh_feed *f)
{
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &a);
    pthread_cond_init(&f->grew, &a);
    pthread_condattr_destroy(&a);
    /* for tests: a batch limit small enough to overflow (tests/http/web.sh) */
    const char *max = getenv("KEEPWORD_STREAM_BATCH_MAX");
    char *end = NULL;
    unsigned long long v = max ? strtoull(max, &end, 10) : 0;
    f->batch_max = max && end != max && !*end && v > 0 && v < BATCH_MAX ? (size_t)v : BATCH_MAX;
    f->ring = calloc(RING, sizeof(*f->ring));
}

bool kwh_feed_start(struct kw_http *h)
{
    if (!h->feed.ring)
        return false;
    h->feed.running = pthread_create(&h->feed.thread, NULL, feeder, h) == 0;
    h->feed.ticking = h->feed.running && pthread_create(&h->feed.ticker, NULL, ticker, h) == 0;
    if (h->feed.ticking && kw_store_location_is_pg(h->db))
        h->feed.listening = pthread_create(&h->feed.listener, NULL, listener, h) == 0;
    return h->feed.ticking;
}

static void item_clear(struct kwh_feed_item *it)
{
    if (it->text[1] != it->text[0])
        free(it->text[1]);
    free(it->text[0]);
    *it = (struct kwh_feed_item){0};
}

void kwh_feed_destroy(struct kwh_feed *f)
{
    if (f->running)
        pthread_join(f->thread, NULL);
    if (f->ticking)
        pthread_join(f->ticker, NULL);
    if (f->listening)
        pthread_join(f->listener, NULL);
    for (size_t i = 0; f->ring && i < RING; i++)
        item_clear(&f->ring[i]);
    free(f->ring);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    pthread_cond_destroy(&f->grew);
}

void kwh_feed_publish(void *ctx)
{
    struct kwh_feed *f = ctx;
    pthread_mutex_lock(&f->mu);
    /* nobody listens: no wake-up, and no read of the log per commit (#20:
     * the feeder's read after each create took the WAL index's lock beside
     * the next request's and remapped the file, on a create's path) */
    if (f->n_streams) {
        f->commits++;
        pthread_cond_broadcast(&f->cv);
    } else
        f->behind = true;
    pthread_mutex_unlock(&f->mu);
}

void kwh_sessions_changed(struct kw_http *h)
{
    struct kwh_feed *f = &h->feed;
    atomic_fetch_add(&f->sessions, 1);
    /* wake the streams now, even those with nothing to send: each checks
     * its session (a person deactivated, a password reset) at once */
    pthread_mutex_lock(&f->mu);
    f->grown++;
    pthread_cond_broadcast(&f->grew);
    pthread_mutex_unlock(&f->mu);
}

static void resume_suspended(struct kwh_feed *f);

void kwh_feed_stop(struct kwh_feed *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    /* every suspended stream is resumed here, not by the ticker in its own
     * time: MHD_stop_daemon, which comes next, must find none suspended
     * (libmicrohttpd aborts then); resumed, each ends (stream_read) */
    resume_suspended(f);
    pthread_cond_broadcast(&f->cv);
    pthread_cond_broadcast(&f->grew);
    pthread_mutex_unlock(&f->mu);
}

/* Wait on cv until *seen differs from *now, the feed stops, or POLL_MS. */
static bool feed_wait(struct kwh_feed *f, pthread_cond_t *cv, const uint64_t *now, uint64_t *seen)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += POLL_MS % 1000 * 1000000L;
    until.tv_sec += POLL_MS / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&f->mu);
    int rc = 0;
    while (!f->stop && *now == *seen && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(cv, &f->mu, &until);
    bool stop = f->stop;
    *seen = *now;
    pthread_mutex_unlock(&f->mu);
    return !stop;
}

/* ---- the feeder: each change encoded once ---- */

static char *event_text(json_t *j)
{
    size_t n = 0;
    char *body = j ? kwh_json_text(j, 0, &n) : NULL; /* json_dumps(j, JSON_COMPACT)'s bytes */
    json_decref(j);
    if (!body)
        return NULL;
    char *text = malloc(n + 24);
    if (text)
        snprintf(text, n + 24, "event: ticket\ndata: %s\n\n", body);
    free(body);
    return text;
}

/* Append one item to the ring (under mu), dropping the oldest when full. */
static void ring_add(struct kwh_feed *f, struct kwh_feed_item *it)
{
    struct kwh_feed_item *slot = &f->ring[f->next % RING];
    if (f->next - f->first == RING) {
        item_clear(slot);
        f->first++;
    }
    *slot = *it;
    f->next++;
}

/* Read the log after the feeder's cursor and encode what changed. */
static void feed_pass(struct kw_http *h, struct kwh_worker *wk)
{
    struct kwh_feed *f = &h->feed;
    struct kw_err err = {0};
    struct kw_change ch[BATCH_CHANGES];
    pthread_mutex_lock(&f->mu);
    bool listened = f->n_streams > 0, behind = listened && f->behind;
    int64_t catch_up = f->caught ? f->catch_up : -1;
    if (behind) {
        f->behind = f->caught = false;
        f->catch_up = 0;
    }
    pthread_mutex_unlock(&f->mu);
    if (!listened)
        return; /* nobody listens: the first stream to open sets the cursor (catch_up) */
    if (behind && catch_up >= 0) {
        if (catch_up > f->at) /* the log's head as the first stream read it when it opened */
            f->at = catch_up;
    } else if (behind)
        kw_store_changes_head(wk->st, &f->at, &err);
    for (size_t n = BATCH_CHANGES; n == BATCH_CHANGES;) {
        n = 0;
        enum kw_code rc = kw_store_changes_since(wk->st, f->at, ch, BATCH_CHANGES, &n, &err);
        if (rc == KW_RANGE) { /* fell behind what the log keeps: everyone reloads */
            kw_store_changes_head(wk->st, &f->at, &err);
            struct kwh_feed_item reset = {0};
            pthread_mutex_lock(&f->mu);
            ring_add(f, &reset);
            f->grown++;
            pthread_cond_broadcast(&f->grew);
            pthread_mutex_unlock(&f->mu);
            break;
        }
        if (rc != KW_OK || !n)
            break;
        f->at = ch[n - 1].seq;
        int64_t now = h->clock.now(h->clock.ctx);
        struct kwh_feed_item items[BATCH_CHANGES];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            bool again = false;
            for (size_t m = i + 1; m < n && !again; m++)
                again = ch[m].ticket == ch[i].ticket; /* its last change will do */
            struct kw_ticket_row t;
            if (again || kw_store_ticket_get(wk->st, ch[i].ticket, &t, &err) != KW_OK)
                continue;
            struct kwh_feed_item it = {.ticket = t.id, .org = t.org_id};
            it.text[0] = event_text(kwh_ticket_with_clocks(h, wk->st, false, &t, now));
            /* the row's strings lasted until the store was read again: read it again */
            if (kw_store_ticket_get(wk->st, it.ticket, &t, &err) == KW_OK)
                it.text[1] = event_text(kwh_ticket_with_clocks(h, wk->st, true, &t, now));
            if (it.text[0] && it.text[1])
                items[k++] = it;
            else
                item_clear(&it);
        }
        kw_store_end_read(wk->st);
        pthread_mutex_lock(&f->mu);
        for (size_t i = 0; i < k; i++)
            ring_add(f, &items[i]);
        f->grown++;
        pthread_cond_broadcast(&f->grew);
        pthread_mutex_unlock(&f->mu);
    }
    kw_store_end_read(wk->st);
}

static void *feeder(void *arg)
{
    struct kw_http *h = arg;
    struct kwh_feed *f = &h->feed;
    struct kw_err err = {0};
    uint64_t seen = 0;
    struct kwh_worker *wk = NULL;
    while (!wk && !f->stop) { /* the store may be busy at start */
        wk = kwh_worker_take(h, &err);
        if (!wk)
            feed_wait(f, &f->cv, &f->commits, &seen);
    }
    if (!wk)
        return NULL;
    kw_store_changes_head(wk->st, &f->at, &err);
    kw_store_end_read(wk->st);
    while (feed_wait(f, &f->cv, &f->commits, &seen))
        feed_pass(h, wk);
    kwh_worker_give(h, wk);
    return NULL;
}

/* ---- the listener: other nodes' commits (PostgreSQL) ---- */

static bool feed_stopped(struct kwh_feed *f)
{
    pthread_mutex_lock(&f->mu);
    bool stop = f->stop;
    pthread_mutex_unlock(&f->mu);
    return stop;
}

static void *listener(void *arg)
{
    struct kw_http *h = arg;
    struct kwh_feed *f = &h->feed;
    struct kw_store *st = NULL;
    bool failing = false;
    while (!feed_stopped(f)) {
        struct kw_err err = {0};
        int64_t seq = 0;
        if (!st)
            st = kw_store_open(h->db, &err);
        if (!st || kw_store_changes_wait(st, POLL_MS, &seq, &err) != KW_OK) {
            if (!failing) /* once per outage; the feeder's poll goes on meanwhile */
                KW_LOG(&h->log, KW_LOG_WARN, "mod=http event=feed.listen_failed error=%s",
                       KW_LOG_Q(err.msg));
            failing = true;
            uint64_t same = 0;
            feed_wait(f, &f->cv, &same, &same); /* a second, or until the feed stops */
            continue;
        }
        if (failing)
            KW_LOG(&h->log, KW_LOG_INFO, "mod=http event=feed.listening");
        failing = false;
        if (seq) /* announced, or listening anew: the feeder reads from its cursor */
            kwh_feed_publish(f);
    }
    kw_store_close(st);
    return NULL;
}

/* ---- one stream ---- */

struct kwh_stream {
    struct kwh_stream *lprev, *lnext; /* in f->streams, under f->mu */
    struct kw_http *h;
    struct MHD_Connection *c;
    int fd;         /* the connection's socket (peeked while suspended) */
    bool suspended; /* under f->mu: waiting for the ticker to resume it */
    bool gone;      /* under f->mu: its client closed the connection */
    struct kwh_caller me;
    char addr[46];            /* the client's address (X-Forwarded-For from a trusted proxy) */
    char token[KW_TOKEN_BUF]; /* the session, checked again before each send */
    int64_t next;             /* the ring's next item for this stream */
    int64_t quiet_ms;         /* when it last sent something (kwh_mono_ms) */
    int64_t filled_ms;        /* when it last copied from the ring */
    int64_t peeked_ms;        /* when the ticker last looked for a closed peer */
    struct timespec checked;  /* when its session was last checked */
    uint64_t sessions;        /* the feed's session changes seen then */
    struct kw_buf out;        /* what is still to be sent */
    size_t off;
};

/* Resume every suspended stream (f->mu held). */
static void resume_suspended(struct kwh_feed *f)
{
    for (struct kwh_stream *s = f->streams; s; s = s->lnext)
        if (s->suspended) {
            s->suspended = false;
            MHD_resume_connection(s->c);
        }
}

static void stream_free(void *cls)
{
    struct kwh_stream *s = cls;
    struct kwh_feed *f = &s->h->feed;
    pthread_mutex_lock(&f->mu);
    if (s->lprev)
        s->lprev->lnext = s->lnext;
    else
        f->streams = s->lnext;
    if (s->lnext)
        s->lnext->lprev = s->lprev;
    f->n_streams--;
    pthread_mutex_unlock(&f->mu);
    atomic_fetch_sub(&s->h->metrics.streams, 1);
    kw_buf_release(&s->out);
    sodium_memzero(s->token, sizeof(s->token));
    free(s);
}

/* Copy what the stream may see from the ring into its buffer (which is
 * empty), or a reset when it fell behind or the copy did not fit. Under mu. */
static void stream_fill(struct kwh_stream *s)
{
    struct kwh_feed *f = &s->h->feed;
    bool reset = false;
    s->out = (struct kw_buf){.max = f->batch_max};
    if (s->next < f->first) {
        reset = true;
        s->next = f->next;
    }
    for (; s->next < f->next && !reset; s->next++) {
        const struct kwh_feed_item *it = &f->ring[s->next % RING];
        if (!it->ticket)
            reset = true;
        else if (!s->me.customer)
            kw_buf_adds(&s->out, it->text[0]);
        else if (it->org == s->me.org_id)
            kw_buf_adds(&s->out, it->text[1]);
        reset = reset || s->out.failed;
    }
    if (reset) {
        s->next = f->next;
        kw_buf_release(&s->out);
        kw_buf_adds(&s->out, RESET_TEXT);
    }
}

/* Whether the stream's session still holds, as the same user and role:
 * asked of the store when a session ended in this process since the last
 * check (logout, a revoked token), or a second after it (other processes,
 * expiry), so a thousand streams do not each read the store per change. */
static bool session_holds(struct kwh_stream *s, const struct timespec *now_mono)
{
    uint64_t gen = atomic_load(&s->h->feed.sessions);
    if (gen == s->sessions && now_mono->tv_sec - s->checked.tv_sec < 1)
        return true;
    s->sessions = gen;
    s->checked = *now_mono;
    struct kw_err err = {0};
    struct kwh_worker *wk = kwh_worker_take(s->h, &err);
    if (!wk)
        return true; /* cannot tell now: the next send asks again */
    struct kw_user_row u;
    int64_t now = s->h->clock.now(s->h->clock.ctx);
    bool ok = kw_auth_token_caller(wk->st, s->token, now, &u, &err) == KW_OK && u.id == s->me.id &&
              u.org_id == s->me.org_id && (strcmp(u.role, "customer") == 0) == s->me.customer;
    kw_store_end_read(wk->st);
    kwh_worker_give(s->h, wk);
    return ok;
}

/* When a suspended stream is due to be woken (ms, kwh_mono_ms): GAP_MS after
 * its last copy when the ring grew since (a stream sends at most every
 * GAP_MS: what changed meanwhile goes in one send), else when its keep-alive
 * comment is due. Under mu. */
static int64_t stream_due(const struct kwh_stream *s, struct kwh_feed *f)
{
    if (atomic_load(&f->sessions) != s->sessions)
        return 0; /* a session ended somewhere: is it this stream's? */
    if (s->next < f->next)
        return s->filled_ms + GAP_MS;
    return s->quiet_ms + KEEPALIVE_S * 1000;
}

/* Whether the peer of a suspended stream closed its side (libmicrohttpd
 * does not look at a suspended connection). */
static bool peer_gone(int fd)
{
    char b;
    if (fd < 0)
        return false;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* The content reader, on the connection's I/O thread: what is buffered, or
 * the next send when one is due; otherwise the connection is suspended
 * (0 bytes) until the ticker resumes it, so a stream holds no thread. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct kwh_stream *s = cls;
    struct kwh_feed *f = &s->h->feed;
    while (s->off == s->out.len) {
        kw_buf_release(&s->out);
        s->off = 0;
        int64_t now = kwh_mono_ms();
        pthread_mutex_lock(&f->mu);
        if (f->stop || s->gone) {
            bool gone = s->gone;
            pthread_mutex_unlock(&f->mu);
            return gone ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
        }
        bool news = s->next < f->next;
        if (news && now - s->filled_ms >= GAP_MS) {
            s->filled_ms = now;
            stream_fill(s);
        } else if (!news && now - s->quiet_ms >= KEEPALIVE_S * 1000) {
            kw_buf_adds(&s->out, ": keep-alive\n\n");
        } else if (atomic_load(&f->sessions) != s->sessions) {
            /* a session ended somewhere: checked below, with nothing to send */
        } else {
            /* suspended under mu: the ticker resumes only what it saw suspended */
            s->suspended = true;
            s->peeked_ms = now;
            MHD_suspend_connection(s->c);
            pthread_cond_broadcast(&f->grew); /* the ticker learns its due time */
            pthread_mutex_unlock(&f->mu);
            return 0;
        }
        pthread_mutex_unlock(&f->mu);
        if (s->out.failed)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (!s->out.len) {
            /* nothing to send, but a session ended somewhere: is it ours? */
            if (atomic_load(&f->sessions) != s->sessions && !session_holds(s, &t))
                return MHD_CONTENT_READER_END_OF_STREAM;
            continue; /* nothing for this caller: suspended above next time round */
        }
        if (!session_holds(s, &t))
            return MHD_CONTENT_READER_END_OF_STREAM; /* logged out, expired, removed */
        pthread_mutex_lock(&f->mu);                  /* the ticker reads it */
        s->quiet_ms = now;
        pthread_mutex_unlock(&f->mu);
    }
    size_t take = s->out.len - s->off < max ? s->out.len - s->off : max;
    memcpy(buf, s->out.p + s->off, take);
    s->off += take;
    return (ssize_t)take;
}

/* The ticker: resumes each suspended stream when it is due (the ring grew,
 * its keep-alive, its peer gone, or the feed stopping), and sleeps until the
 * next one is due or the ring grows. One thread for all the streams. */
static void *ticker(void *arg)
{
    struct kw_http *h = arg;
    struct kwh_feed *f = &h->feed;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        int64_t now = kwh_mono_ms(), wake = now + POLL_MS;
        for (struct kwh_stream *s = f->streams; s; s = s->lnext) {
            if (!s->suspended)
                continue;
            int64_t due = f->stop ? now : stream_due(s, f);
            if (due > now && now - s->peeked_ms >= 1000) {
                s->peeked_ms = now;
                if (peer_gone(s->fd)) {
                    s->gone = true; /* resumed, it ends itself and is freed */
                    due = now;
                }
            }
            if (due <= now) {
                s->suspended = false;
                MHD_resume_connection(s->c);
            } else if (due < wake)
                wake = due;
        }
        if (f->stop)
            break;
        if (wake - now > 1000)
            wake = now + 1000; /* peers are looked at once a second */
        struct timespec until = {.tv_sec = (time_t)(wake / 1000),
                                 .tv_nsec = (long)(wake % 1000) * 1000000L};
        pthread_cond_timedwait(&f->grew, &f->mu, &until);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* 429 with why, and a Retry-After. */
static enum MHD_Result refuse(struct kwh_call *x, const char *limit, const char *addr,
                              const char *msg)
{
    kwh_log_refused(x->h, limit, addr);
    struct kwh_reply rep = kwh_problemf(KW_TOO_MANY, "", "%s", msg);
    rep.retry_after_s = KEEPALIVE_S;
    x->status = rep.status;
    return kwh_send_reply(x->c, &rep, NULL);
}

enum MHD_Result kwh_web_stream(struct kwh_call *x)
{
    struct kw_http *h = x->h;
    struct kwh_feed *f = &h->feed;
    const struct kw_http_limits *l = &h->limits;
    char addr[46];
    kwh_client_address(h, x->c, addr, sizeof(addr));
    size_t mine = 0, here = 0;
    pthread_mutex_lock(&f->mu);
    for (const struct kwh_stream *o = f->streams; o; o = o->lnext) {
        mine += o->me.id == x->me.id;
        here += strcmp(o->addr, addr) == 0;
    }
    size_t all = f->n_streams;
    pthread_mutex_unlock(&f->mu);
    /* counted, then added below: two opened at the same instant may both
     * pass; the caps are about holding hundreds, not one more */
    char msg[160];
    if (all >= l->max_streams) {
        snprintf(msg, sizeof(msg),
                 "the server has %u live streams open, its limit: try again later", l->max_streams);
        return refuse(x, "streams", addr, msg);
    }
    if (mine >= l->max_streams_per_user) {
        snprintf(msg, sizeof(msg),
                 "you have %u live streams open, the limit per user: close one (another tab or "
                 "window) and try again",
                 l->max_streams_per_user);
        return refuse(x, "streams_per_user", addr, msg);
    }
    if (here >= l->max_streams_per_address) {
        snprintf(msg, sizeof(msg),
                 "your address has %u live streams open, the limit per address: close one and "
                 "try again",
                 l->max_streams_per_address);
        return refuse(x, "streams_per_address", addr, msg);
    }
    struct kwh_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return MHD_NO;
    s->h = h;
    s->c = x->c;
    s->me = x->me;
    snprintf(s->addr, sizeof(s->addr), "%s", addr);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(x->c, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? ci->connect_fd : -1;
    const char *token = kwh_session_token(x->c);
    snprintf(s->token, sizeof(s->token), "%s", token ? token : "");
    clock_gettime(CLOCK_MONOTONIC, &s->checked);
    s->quiet_ms = s->filled_ms = s->peeked_ms = kwh_mono_ms();
    s->sessions = atomic_load(&f->sessions);
    kw_buf_adds(&s->out, "retry: 2000\nevent: hello\ndata: {}\n\n");
    /* the log's head before the stream is counted: if the feeder's cursor
     * stood still while no stream was open, it moves here, and what
     * commits from now on reaches this stream (kwh_feed_publish) */
    struct kw_err err = {0};
    int64_t head = -1;
    if (kw_store_changes_head(x->wk->st, &head, &err) != KW_OK)
        head = -1; /* the feeder reads the head itself */
    atomic_fetch_add(&h->metrics.streams, 1);
    pthread_mutex_lock(&f->mu); /* from here on: what changes after this */
    if (f->behind && (!f->caught || head < f->catch_up)) {
        f->caught = true;
        f->catch_up = head;
    }
    s->next = f->next;
    s->lnext = f->streams;
    if (f->streams)
        f->streams->lprev = s;
    f->streams = s;
    f->n_streams++;
    pthread_mutex_unlock(&f->mu);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s, stream_free);
    if (!r) {
        stream_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result ret = MHD_queue_response(x->c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the pages ---- */

bool kwh_web_asset(const char *url, struct kwh_reply *out)
{
    static const struct {
        const char *path, *ctype;
        const unsigned char *body;
        const char *cache; /* NULL: no-store (ours change with every upgrade) */
    } assets[] = {
        {"/", "text/html; charset=utf-8", kw_web_index, NULL},
        {"/assets/app.js", "text/javascript; charset=utf-8", kw_web_app_js, NULL},
        {"/assets/app.css", "text/css; charset=utf-8", kw_web_app_css, NULL},
        /* Apache ECharts (web/package-lock.json), loaded by the dashboard:
         * 1.1 MB that changes only with its pinned version, kept by the
         * browser for a day */
        {"/assets/echarts.min.js", "text/javascript; charset=utf-8", kw_web_echarts_js,
         "public, max-age=86400"},
    };
    for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
        if (strcmp(url, assets[i].path) == 0) {
            /* sent from the binary as it is, not copied */
            *out = (struct kwh_reply){.status = 200,
                                      .fixed = (const char *)assets[i].body,
                                      .ctype = assets[i].ctype,
                                      .cache = assets[i].cache};
            return true;
        }
    return false;
}
