// SPDX-License-Identifier: MIT
/*
 * The browser's side of the server: the pages built into the binary, and
 * the live feed of changed tickets as Server-Sent Events.
 *
 * The feed: after each commit the writer hands over the tickets it changed
 * (writer.h); they go into a ring with a running sequence number. Each
 * stream (GET /api/v1/stream) keeps its place in the ring and, woken by a
 * change, sends every ticket changed since as an `event: ticket` with the
 * ticket as GET /tickets/{id} shows it (clocks included), only those the
 * caller may see. A stream that fell behind the ring, or a commit whose
 * changes did not all fit, gets `event: reset` (reload the list). A comment
 * every 15 s keeps proxies and the connection timeout from closing it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

extern const unsigned char kw_web_index[], kw_web_app_js[], kw_web_app_css[];

#define KEEPALIVE_S 15

void kwh_feed_init(struct kwh_feed *f)
{
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &a);
    pthread_condattr_destroy(&a);
}

void kwh_feed_destroy(struct kwh_feed *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

void kwh_feed_publish(const int64_t *tickets, size_t n, bool lost, void *ctx)
{
    struct kwh_feed *f = ctx;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < n; i++)
        f->ring[f->seq++ % FEED_RING] = tickets[i];
    if (lost)
        f->reset_at = f->seq;
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
    uint64_t at; /* the feed's sequence number this stream has sent up to */
    char *out;   /* what is still to be sent */
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
}

/* The events for the changed tickets the caller may see, as one text. */
static char *changes_text(struct stream *s, const int64_t *ids, size_t n)
{
    struct kw_err err = {0};
    struct kw_buf b = {.max = 64u << 20};
    struct kw_http *h = s->h;
    struct kwh_worker *wk = kwh_worker_take(h, &err);
    if (!wk)
        return NULL;
    int64_t now = h->clock.now(h->clock.ctx);
    for (size_t i = 0; i < n; i++) {
        bool again = false;
        for (size_t k = 0; k < i && !again; k++)
            again = ids[k] == ids[i];
        struct kw_ticket_row t;
        if (again || kw_store_ticket_get(wk->st, ids[i], &t, &err) != KW_OK ||
            (s->me.customer && t.org_id != s->me.org_id))
            continue;
        json_t *j = kwh_ticket_with_clocks(h, wk->st, &t, now);
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
    /* too much to send (or nothing visible): */
    if (b.failed || !b.p) {
        bool overflowed = b.failed; /* kw_buf_release clears it */
        kw_buf_release(&b);
        return strdup(overflowed ? "event: reset\ndata: {}\n\n" : ": nothing for you\n\n");
    }
    return b.p;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    struct kwh_feed *f = &s->h->feed;
    while (s->off == s->len) {
        int64_t ids[256];
        size_t n = 0;
        bool reset = false;
        pthread_mutex_lock(&f->mu);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += KEEPALIVE_S;
        int rc = 0;
        while (!f->stop && f->seq == s->at && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
        bool stop = f->stop;
        if (!stop && f->seq != s->at) {
            if (f->seq - s->at > FEED_RING || s->at < f->reset_at) {
                reset = true;
                s->at = f->seq;
            } else {
                while (s->at != f->seq && n < 256)
                    ids[n++] = f->ring[s->at++ % FEED_RING];
            }
        }
        pthread_mutex_unlock(&f->mu);
        if (stop)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (reset)
            stream_set(s, strdup("event: reset\ndata: {}\n\n"));
        else if (n)
            stream_set(s, changes_text(s, ids, n));
        else
            stream_set(s, strdup(": keep-alive\n\n"));
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
    struct kwh_reply fail;
    if (!kwh_is_method(x, "GET"))
        fail = kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
    if (!kwh_is_method(x, "GET") || !kwh_authenticate(x, &fail))
        return kwh_send_reply(x->c, &fail, NULL);
    struct stream *s = calloc(1, sizeof(*s));
    if (!s)
        return MHD_NO;
    s->h = x->h;
    s->me = x->me;
    pthread_mutex_lock(&x->h->feed.mu);
    s->at = x->h->feed.seq;
    pthread_mutex_unlock(&x->h->feed.mu);
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
