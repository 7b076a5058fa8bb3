// SPDX-License-Identifier: MIT
/*
 * The browser's side of the server: the pages built into the binary, and
 * the live feed of changed tickets as Server-Sent Events.
 *
 * The feed: the store keeps a change log (store.h, kw_store_changes_since)
 * written with the events, so it holds every process's commits. Each stream
 * (GET /api/v1/stream) keeps its cursor in it and reads on from there when
 * the writer says it committed (a wake-up only) or at the latest every
 * second, sending each ticket changed since as an `event: ticket` with the
 * ticket as GET /tickets/{id} shows it (clocks included), only those the
 * caller may see (customers: their organisation's). A stream whose cursor
 * fell behind what the log keeps, or whose batch did not fit its buffer,
 * gets `event: reset` (reload the list). A comment every 15 s keeps proxies
 * and the connection timeout from closing it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

extern const unsigned char kw_web_index[], kw_web_app_js[], kw_web_app_css[];

#define KEEPALIVE_S 15
#define POLL_MS 1000          /* other processes' commits are seen within this */
#define BATCH_CHANGES 256     /* changes read per pass */
#define BATCH_MAX (64u << 20) /* bytes of events per pass; more: `event: reset` */

void kwh_feed_init(struct kwh_feed *f)
{
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &a);
    pthread_condattr_destroy(&a);
    /* for tests: a batch limit small enough to overflow (tests/http/web.sh) */
    const char *max = getenv("KEEPWORD_STREAM_BATCH_MAX");
    char *end = NULL;
    unsigned long long v = max ? strtoull(max, &end, 10) : 0;
    f->batch_max = max && end != max && !*end && v > 0 && v < BATCH_MAX ? (size_t)v : BATCH_MAX;
}

void kwh_feed_destroy(struct kwh_feed *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

void kwh_feed_publish(void *ctx)
{
    struct kwh_feed *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->commits++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void kwh_feed_stop(struct kwh_feed *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* ---- one stream ---- */

struct stream {
    struct kw_http *h;
    struct kwh_caller me;
    int64_t at;            /* the change log's seq this stream has sent up to */
    uint64_t commits;      /* the feed's wake-ups seen */
    struct timespec quiet; /* when it last sent something (CLOCK_MONOTONIC) */
    char *out;             /* what is still to be sent */
    size_t len, off;
};

static void stream_free(void *cls)
{
    struct stream *s = cls;
    free(s->out);
    free(s);
}

static void stream_set(struct stream *s, char *text)
{
    free(s->out);
    s->out = text;
    s->len = text ? strlen(text) : 0;
    s->off = 0;
    clock_gettime(CLOCK_MONOTONIC, &s->quiet);
}

#define RESET_TEXT "event: reset\ndata: {}\n\n"

/* The events for the changes after the stream's cursor that the caller may
 * see, as one text, moving the cursor past them; NULL when there are none
 * (or the log cannot be read now: the next pass tries again). */
static char *changes_text(struct stream *s)
{
    struct kw_err err = {0};
    struct kw_http *h = s->h;
    struct kwh_worker *wk = kwh_worker_take(h, &err);
    if (!wk)
        return NULL;
    struct kw_change ch[BATCH_CHANGES];
    size_t n = 0;
    enum kw_code rc = kw_store_changes_since(wk->st, s->at, ch, BATCH_CHANGES, &n, &err);
    if (rc == KW_RANGE) { /* fell behind what the log keeps: start again from its head */
        int64_t head = s->at;
        if (kw_store_changes_head(wk->st, &head, &err) == KW_OK)
            s->at = head;
        kwh_worker_give(h, wk);
        return strdup(RESET_TEXT);
    }
    if (rc != KW_OK || !n) {
        kwh_worker_give(h, wk);
        return NULL;
    }
    s->at = ch[n - 1].seq;
    struct kw_buf b = {.max = h->feed.batch_max};
    int64_t now = h->clock.now(h->clock.ctx);
    for (size_t i = 0; i < n && !b.failed; i++) {
        bool again = false;
        for (size_t k = 0; k < i && !again; k++)
            again = ch[k].ticket == ch[i].ticket;
        struct kw_ticket_row t;
        if (again || kw_store_ticket_get(wk->st, ch[i].ticket, &t, &err) != KW_OK ||
            (s->me.customer && t.org_id != s->me.org_id))
            continue;
        json_t *j = kwh_ticket_with_clocks(h, wk->st, &t, now, s->me.customer);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (text) {
            kw_buf_adds(&b, "event: ticket\ndata: ");
            kw_buf_adds(&b, text);
            kw_buf_adds(&b, "\n\n");
        }
        free(text);
    }
    kwh_worker_give(h, wk);
    if (b.failed || !b.p) {         /* too much to send (or nothing visible): */
        bool overflowed = b.failed; /* kw_buf_release clears it */
        kw_buf_release(&b);
        return strdup(overflowed ? RESET_TEXT : ": nothing for you\n\n");
    }
    return b.p;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    struct kwh_feed *f = &s->h->feed;
    while (s->off == s->len) {
        /* wait for a commit, or a second at most (other processes) */
        pthread_mutex_lock(&f->mu);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += POLL_MS % 1000 * 1000000L;
        until.tv_sec += POLL_MS / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        int rc = 0;
        while (!f->stop && f->commits == s->commits && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
        bool stop = f->stop;
        s->commits = f->commits;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            return MHD_CONTENT_READER_END_OF_STREAM;
        char *text = changes_text(s);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (text)
            stream_set(s, text);
        else if (t.tv_sec - s->quiet.tv_sec >= KEEPALIVE_S)
            stream_set(s, strdup(": keep-alive\n\n"));
        else
            continue;
        if (!s->out)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t take = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->out + s->off, take);
    s->off += take;
    return (ssize_t)take;
}

enum MHD_Result kwh_web_stream(struct kwh_call *x)
{
    struct stream *s = calloc(1, sizeof(*s));
    if (!s)
        return MHD_NO;
    s->h = x->h;
    s->me = x->me;
    pthread_mutex_lock(&x->h->feed.mu);
    s->commits = x->h->feed.commits;
    pthread_mutex_unlock(&x->h->feed.mu);
    struct kw_err err = {0}; /* from here on: what changes after this */
    if (kw_store_changes_head(x->wk->st, &s->at, &err) != KW_OK) {
        free(s);
        struct kwh_reply fail = kwh_problem(&err);
        return kwh_send_reply(x->c, &fail, NULL);
    }
    stream_set(s, strdup("retry: 2000\nevent: hello\ndata: {}\n\n"));
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
    } assets[] = {
        {"/", "text/html; charset=utf-8", kw_web_index},
        {"/assets/app.js", "text/javascript; charset=utf-8", kw_web_app_js},
        {"/assets/app.css", "text/css; charset=utf-8", kw_web_app_css},
    };
    for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
        if (strcmp(url, assets[i].path) == 0) {
            *out = kwh_ok_text(assets[i].ctype, strdup((const char *)assets[i].body));
            return true;
        }
    return false;
}
