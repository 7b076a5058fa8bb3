// SPDX-License-Identifier: MIT
/*
 * daemon.c - the libmicrohttpd glue: an epoll thread pool does the I/O and
 * answers GETs; every other request is suspended and run on a handler
 * thread, which waits there for its commit and resumes it with the reply
 * (internal.h). Bodies read up to KW_HTTP_MAX_BODY, the worker pool (a store
 * handle and clock scratch per request in flight), the reply on the wire and
 * one logfmt line per request; kw_http_start/stop set up the daemon, the
 * limits and the feed around the writer, commitments and engine the
 * composition root (keepword serve) gives.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "attachments.h"
#include "internal.h"
#include "json_text.h"
#include "kpi_cache.h"

/* ---- log ---- */

void kwh_log_event(struct kw_http *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kw_logv(&h->log, KW_LOG_INFO, fmt, ap);
    va_end(ap);
}

/* The lines r holds, written now (before a line that must follow them). */
static void write_held(struct kw_http *h, struct kwh_req *r)
{
    if (r && r->held_len) {
        kw_log_write(&h->log, r->held, r->held_len);
        r->held_len = 0;
    }
}

void kwh_log_held(struct kw_http *h, struct kwh_req *r, const char *fmt, ...)
{
    if (!kw_log_on(&h->log, KW_LOG_INFO))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    size_t n = kw_log_format(line, sizeof(line), KW_LOG_INFO, fmt, ap);
    va_end(ap);
    if (r && r->held_len + n <= sizeof(r->held)) {
        memcpy(r->held + r->held_len, line, n);
        r->held_len += n;
        return;
    }
    write_held(h, r); /* in the order they were logged */
    kw_log_write(&h->log, line, n);
}

/* A line's text after what is in text already (len bytes of size). */
__attribute__((format(printf, 4, 5))) static size_t add_line(char *text, size_t len, size_t size,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    len += kw_log_format(text + len, size - len, KW_LOG_INFO, fmt, ap);
    va_end(ap);
    return len;
}

/* An answered request: counted for /metrics, and logged, after the lines
 * it held (kwh_log_held) and with them in one write. */
static void log_request(struct kw_http *h, const char *method, const char *url, unsigned status,
                        struct kwh_req *r)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms =
        (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
    kwh_metrics_observe(&h->metrics, r->route, status, ms / 1e3);
    if (!kw_log_on(&h->log, KW_LOG_INFO))
        return;
    /* logfmt; the path is quoted so spaces or quotes in it cannot forge fields */
    char path[260];
    size_t n = 0;
    for (const char *p = url; *p && n < 256; p++)
        path[n++] = *p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ? '_' : *p;
    path[n] = '\0';
    char text[KWH_HELD_MAX + 1024];
    size_t len = r->held_len;
    memcpy(text, r->held, len);
    r->held_len = 0;
    len = add_line(text, len, sizeof(text),
                   "mod=http event=http.request method=%s path=\"%s\" status=%u ms=%.2f", method,
                   path, status, ms);
    kw_log_write(&h->log, text, len);
}

/* ---- workers ---- */

static struct kwh_worker *worker_take(struct kw_http *h, bool small, struct kw_err *err)
{
    struct kwh_worker **idle = small ? &h->idle_small : &h->idle;
    size_t *n = small ? &h->n_idle_small : &h->n_idle;
    pthread_mutex_lock(&h->pool_mu);
    struct kwh_worker *wk = *idle;
    if (wk) {
        *idle = wk->next;
        (*n)--;
    }
    pthread_mutex_unlock(&h->pool_mu);
    if (wk)
        return wk;
    wk = calloc(1, sizeof(*wk));
    if (!wk) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the request");
        return NULL;
    }
    wk->st = kw_store_open(h->db, err);
    if (!wk->st) {
        free(wk);
        return NULL;
    }
    if (small)
        kw_store_small_reads(wk->st);
    wk->small = small;
    kw_sla_init(&wk->sla);
    return wk;
}

struct kwh_worker *kwh_worker_take(struct kw_http *h, struct kw_err *err)
{
    return worker_take(h, false, err);
}

struct kwh_worker *kwh_worker_take_small(struct kw_http *h, struct kw_err *err)
{
    return worker_take(h, true, err);
}

static void worker_free(struct kwh_worker *wk)
{
    kwh_worker_magic_close(wk);
    kw_store_close(wk->st);
    kw_sla_release(&wk->sla);
    free(wk);
}

/* Load the KPI runs kept in memory (app/kpi_cache.h) in the background at
 * start, with a handle of its own, so the first GET /kpis finds them. */
static void *kpi_warm(void *arg)
{
    struct kw_http *h = arg;
    struct kw_err err = {0};
    struct kwh_worker *wk = kwh_worker_take(h, &err);
    if (!wk)
        return NULL;
    if (kw_kpi_cache_warm(h->kpi_cache, wk->st, &err) != KW_OK)
        kwh_log_event(h, "mod=http event=kpi.cache.failed msg=\"%s\"", err.msg);
    else {
        struct kw_kpi_cache_stats s;
        kw_kpi_cache_stats(h->kpi_cache, &s);
        if (s.loads)
            kwh_log_event(h,
                          "mod=http event=kpi.cache.loaded runs=%zu tickets=%zu marks=%zu "
                          "shapes=%zu bytes=%zu ms=%lld",
                          s.runs, s.tickets, s.marks, s.shapes, s.bytes, (long long)s.load_ms);
        else if (s.off)
            kwh_log_event(h, "mod=http event=kpi.cache.off");
    }
    /* closed, not kept for a request: it has read (and SQLite has mapped)
     * the whole database, and its next read after any write would unmap
     * all of it first, some 40 ms of the first request's time on
     * 1,000,000 tickets; closing it here pays that on this thread */
    worker_free(wk);
    return NULL;
}

/* Keep a few handles open for the next requests; close the rest, so that a
 * burst of connections does not leave its memory behind. */
#define IDLE_WORKERS 64

void kwh_worker_give(struct kw_http *h, struct kwh_worker *wk)
{
    kw_store_end_read(wk->st);
    struct kwh_worker **idle = wk->small ? &h->idle_small : &h->idle;
    size_t *n = wk->small ? &h->n_idle_small : &h->n_idle;
    pthread_mutex_lock(&h->pool_mu);
    bool keep = *n < IDLE_WORKERS;
    if (keep) {
        wk->next = *idle;
        *idle = wk;
        (*n)++;
    }
    pthread_mutex_unlock(&h->pool_mu);
    if (!keep)
        worker_free(wk);
}

/* ---- compiled commitments ---- */

const struct kw_compiled *kwh_policy_for(struct kw_http *h, struct kw_store *st, int64_t id,
                                         struct kw_err *err)
{
    return kw_clocks_commitment(h->clocks, st, id, err);
}

enum MHD_Result kwh_send_reply(struct MHD_Connection *c, struct kwh_reply *rep,
                               const char *set_cookie)
{
    /* the bytes json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15)) gave */
    size_t len = 0;
    char *text = rep->text ? rep->text : rep->json ? kwh_json_text(rep->json, 15, &len) : NULL;
    if (rep->text)
        len = rep->text_len ? rep->text_len : strlen(rep->text);
    json_decref(rep->json);
    char empty[1] = "";
    /* the reply takes the buffer: a file is not copied once more */
    struct MHD_Response *resp =
        rep->fixed ? MHD_create_response_from_buffer(
                         strlen(rep->fixed), (void *)(uintptr_t)rep->fixed, MHD_RESPMEM_PERSISTENT)
        : text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)
               : MHD_create_response_from_buffer(0, empty, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(text);
        free(rep->disposition);
        return MHD_NO;
    }
    if (rep->disposition) {
        /* a file someone uploaded: saved, never shown as a page of ours */
        MHD_add_response_header(resp, "Content-Disposition", rep->disposition);
        MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; sandbox");
        free(rep->disposition);
    }
    if (rep->status != 204)
        MHD_add_response_header(resp, "Content-Type",
                                rep->file_type[0] ? rep->file_type
                                : rep->ctype      ? rep->ctype
                                : rep->problem    ? "application/problem+json"
                                                  : "application/json");
    MHD_add_response_header(resp, "Cache-Control", rep->cache ? rep->cache : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (rep->ctype && strncmp(rep->ctype, "text/html", 9) == 0) {
        /* the pages run only their own scripts and styles, and nobody frames them */
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                                "base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    if (set_cookie)
        MHD_add_response_header(resp, "Set-Cookie", set_cookie);
    if (rep->allow[0])
        MHD_add_response_header(resp, "Allow", rep->allow);
    if (rep->retry_after_s) {
        char secs[16];
        snprintf(secs, sizeof(secs), "%u", rep->retry_after_s);
        MHD_add_response_header(resp, "Retry-After", secs);
    }
    enum MHD_Result ret = MHD_queue_response(c, rep->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Answer the request in x (a route's handler, a page or a problem) into
 * r->rep and r->set_cookie; or, for a stream, queue it: true then (x->r is r). Runs on
 * an I/O thread (GET) or a handler thread (the rest). */
static bool answer(struct kwh_call *x, struct kwh_req *r, const char *url,
                   enum MHD_Result *streamed)
{
    struct kw_http *h = x->h;
    struct kw_err err = {0};
    /* an inline write (x->req: a create, the intake) reads a few rows by
     * key before it hands its unit over: a small handle, never mapped */
    x->wk = x->req ? kwh_worker_take_small(h, &err) : kwh_worker_take(h, &err);
    kwh_streamer stream = NULL;
    bool page = x->wk && strncmp(url, "/api/", 5) != 0 && strcmp(url, "/healthz") != 0 &&
                kwh_is_method(x, "GET") && kwh_web_asset(url, &r->rep);
    if (page)
        r->route = KWH_ROUTE_PAGE;
    if (!x->wk)
        r->rep = kwh_problem(&err);
    else if (!page && (stream = kwh_dispatch(x, url, &r->rep)) != NULL) {
        r->route = x->route;
        *streamed = stream(x); /* it queues its own reply (x->status), and feeds it later */
        kwh_worker_give(h, x->wk);
        return true;
    }
    if (x->wk)
        kwh_worker_give(h, x->wk);
    if (!page)
        r->route = x->route;
    r->set_cookie = x->set_cookie;
    return false;
}

/* Queue the reply made for r and log the request. */
static enum MHD_Result reply(struct kw_http *h, struct MHD_Connection *c, const char *method,
                             const char *url, struct kwh_req *r)
{
    unsigned status = r->rep.status;
    enum MHD_Result ret = kwh_send_reply(c, &r->rep, r->set_cookie);
    r->rep = (struct kwh_reply){0};
    free(r->set_cookie);
    r->set_cookie = NULL;
    log_request(h, method, url, status, r);
    return ret;
}

bool kwh_is_upload(const char *method, const char *url)
{
    static const char pre[] = "/api/v1/tickets/", post[] = "/attachments";
    if (strcmp(method, "POST") != 0 || strncmp(url, pre, sizeof(pre) - 1) != 0)
        return false;
    const char *p = url + sizeof(pre) - 1;
    size_t digits = strspn(p, "0123456789");
    return digits > 0 && strcmp(p + digits, post) == 0;
}

/* Answer an upload at once, before its body is read (MHD then closes the
 * connection rather than read what nobody wants). */
static enum MHD_Result refuse_now(struct kw_http *h, struct MHD_Connection *c, const char *method,
                                  const char *url, struct kwh_req *r, struct kwh_reply rep,
                                  unsigned retry_after_s)
{
    unsigned status = rep.status;
    rep.retry_after_s = retry_after_s;
    enum MHD_Result ret = kwh_send_reply(c, &rep, NULL);
    log_request(h, method, url, status, r);
    return ret;
}

/* Refuse an upload after reading its body, when it is small and on its
 * way: a client that is still sending when the answer comes and the
 * connection closes with its bytes unread may be reset by the kernel and
 * lose the answer (curl: "(56) Recv failure"). Up to KWH_UPLOAD_DRAIN
 * bytes are read and thrown away, then the refusal is sent (handle());
 * a larger or chunked body, or a client that waits for "100 Continue"
 * (and so sends nothing), is answered at once. */
#define KWH_UPLOAD_DRAIN (1024 * 1024)

static enum MHD_Result refuse_after_body(struct kw_http *h, struct MHD_Connection *c,
                                         const char *method, const char *url, struct kwh_req *r,
                                         struct kwh_reply rep, unsigned long long length)
{
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
    if (length == 0 || length > KWH_UPLOAD_DRAIN ||
        (expect && strcasecmp(expect, "100-continue") == 0))
        return refuse_now(h, c, method, url, r, rep, 0);
    r->rep = rep;
    r->refused = true;
    return MHD_YES;
}

/* ---- handler threads: what is not a GET runs here, suspended off the I/O
 * threads while it waits for its commit ---- */

#define HANDLER_THREADS 64

struct kwh_job {
    struct kwh_job *next;
    struct MHD_Connection *c;
    const char *url, *method; /* the connection's, stable while it is suspended */
    struct kwh_req *r;
};

static void *handler_thread(void *arg)
{
    struct kw_http *h = arg;
    struct kwh_jobs *q = &h->jobs;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stop)
            pthread_cond_wait(&q->cv, &q->mu);
        struct kwh_job *j = q->head;
        if (!j)
            break; /* stopping, and nothing is left */
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        pthread_mutex_unlock(&q->mu);
        struct kwh_call x = {.h = h,
                             .c = j->c,
                             .r = j->r,
                             .method = j->method,
                             .now = h->clock.now(h->clock.ctx),
                             .route = KWH_ROUTE_NONE};
        enum MHD_Result streamed;
        if (answer(&x, j->r, j->url, &streamed)) /* no stream route takes anything but GET */
            j->r->rep = kwh_problemf(KW_METHOD, "", "a stream is read with GET");
        atomic_store(&j->r->done, true);
        MHD_resume_connection(j->c); /* its I/O thread sends the reply */
        free(j);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Hand the request to a handler thread; false when stopping (answer it here). */
static bool enqueue(struct kw_http *h, struct MHD_Connection *c, const char *url,
                    const char *method, struct kwh_req *r)
{
    struct kwh_job *j = malloc(sizeof(*j));
    if (!j)
        return false;
    *j = (struct kwh_job){.c = c, .url = url, .method = method, .r = r};
    struct kwh_jobs *q = &h->jobs;
    pthread_mutex_lock(&q->mu);
    bool ok = !q->stop && q->n_threads;
    if (ok) {
        /* suspended before any handler thread can resume it */
        r->queued = true;
        MHD_suspend_connection(c);
        if (q->tail)
            q->tail->next = j;
        else
            q->head = j;
        q->tail = j;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    if (!ok)
        free(j);
    return ok;
}

static bool jobs_start(struct kw_http *h)
{
    struct kwh_jobs *q = &h->jobs;
    q->threads = calloc(HANDLER_THREADS, sizeof(*q->threads));
    if (!q->threads)
        return false;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    for (; q->n_threads < HANDLER_THREADS; q->n_threads++)
        if (pthread_create(&q->threads[q->n_threads], &a, handler_thread, h) != 0)
            break;
    pthread_attr_destroy(&a);
    return q->n_threads > 0;
}

/* ---- write units handed over from an I/O thread: the writer resumes the
 * connection after its commit, and no thread waits for it in between
 * (a thread switch less each way than through a handler thread) ---- */

static void async_done(void *ctx, enum kw_code rc)
{
    struct kwh_req *r = ctx;
    struct MHD_Connection *c = r->conn;
    struct kwh_jobs *q = &r->h->jobs;
    r->rc = rc;
    atomic_store(&r->done, true);
    MHD_resume_connection(c); /* r may be gone from here on */
    pthread_mutex_lock(&q->mu);
    if (--q->n_async == 0)
        pthread_cond_broadcast(&q->async_cv);
    pthread_mutex_unlock(&q->mu);
}

static bool write_async(struct kwh_call *x, kw_write_fn fn, void *ctx, bool repeatable,
                        kwh_cont_fn cont, struct kwh_reply *out)
{
    struct kw_http *h = x->h;
    struct kwh_jobs *q = &h->jobs;
    struct kwh_req *r = x->req;
    bool hand = false;
    if (r) {
        pthread_mutex_lock(&q->mu);
        hand = !q->async_stop;
        q->n_async += hand;
        pthread_mutex_unlock(&q->mu);
    }
    if (!hand) {
        kw_store_end_read(x->wk->st); /* hold no snapshot while waiting */
        struct kw_err err = {0};
        enum kw_code rc =
            (repeatable ? kw_writer_run_repeatable : kw_writer_run)(h->w, fn, ctx, &err);
        *out = cont(ctx, rc, &err, NULL);
        return false;
    }
    r->conn = x->c;
    r->h = h;
    r->cont = cont;
    r->cont_ctx = ctx;
    r->err = (struct kw_err){0};
    r->queued = true;
    /* the worker (and its snapshot) is given back as soon as the handler
     * returns, on this thread: no kw_store_end_read here as well */
    MHD_suspend_connection(x->c); /* before the writer can resume it */
    x->pending = true;
    if ((repeatable ? kw_writer_submit_repeatable : kw_writer_submit)(h->w, fn, ctx, &r->err,
                                                                      async_done, r) != KW_OK)
        async_done(r, r->err.code ? r->err.code : KW_STORE);
    return true;
}

bool kwh_write_async(struct kwh_call *x, kw_write_fn fn, void *ctx, kwh_cont_fn cont,
                     struct kwh_reply *out)
{
    return write_async(x, fn, ctx, false, cont, out);
}

bool kwh_write_async_repeatable(struct kwh_call *x, kw_write_fn fn, void *ctx, kwh_cont_fn cont,
                                struct kwh_reply *out)
{
    return write_async(x, fn, ctx, true, cont, out);
}

/* Run what is queued, then end the handler threads. */
static void jobs_stop(struct kw_http *h)
{
    struct kwh_jobs *q = &h->jobs;
    if (!q->threads)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    free(q->threads);
    q->threads = NULL;
    q->n_threads = 0;
}

/* The first call of an attachment upload: its body may be up to the
 * attachment limit, and all uploads in flight together hold at most
 * h->upload_budget bytes, so memory stays bounded however many arrive at
 * once. A declared length past the limit is refused before a byte is read. */
static enum MHD_Result upload_start(struct kw_http *h, struct MHD_Connection *c, const char *url,
                                    const char *method, struct kwh_req *r)
{
    r->upload = true;
    r->body.max = h->max_attachment + 1; /* kw_buf keeps a NUL after the bytes */
    /* who asks, before a byte of the body is read: nobody without a login
     * (or a cookie session without its CSRF token) holds upload memory */
    struct kw_err err = {0};
    struct kwh_reply fail;
    struct kwh_call x = {
        .h = h, .c = c, .r = r, .method = method, .now = h->clock.now(h->clock.ctx)};
    x.wk = kwh_worker_take(h, &err);
    if (!x.wk)
        return refuse_now(h, c, method, url, r, kwh_problem(&err), 0);
    bool in = kwh_authenticate(&x, &fail);
    kwh_worker_give(h, x.wk);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    char *end = NULL;
    unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
    bool known = cl && end && end != cl && *end == '\0';
    if (!in)
        return refuse_after_body(h, c, method, url, r, fail, known ? n : ULLONG_MAX);
    if (known && n > h->max_attachment)
        return refuse_now(
            h, c, method, url, r,
            kwh_problemf(KW_TOO_BIG, "",
                         "the file is %llu bytes, more than the limit of %zu bytes per file "
                         "(serve --max-attachment)",
                         n, h->max_attachment),
            0);
    size_t want = known ? (size_t)n : h->max_attachment;
    size_t held = atomic_fetch_add(&h->uploading, want);
    if (held + want > h->upload_budget && held > 0) {
        atomic_fetch_sub(&h->uploading, want);
        return refuse_now(
            h, c, method, url, r,
            kwh_problem_of(KW_TOO_MANY, "", "too many uploads at once; try again in a few seconds"),
            5);
    }
    r->reserved = want;
    if (known && n)
        kw_buf_reserve(&r->body, (size_t)n); /* one allocation, not a doubling series */
    return MHD_YES;
}

static struct kwh_req *request_new(void)
{
    struct kwh_req *r = calloc(1, sizeof(*r));
    if (r) {
        r->body.max = KW_HTTP_MAX_BODY;
        r->route = KWH_ROUTE_NONE;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
    }
    return r;
}

/* A request's line has arrived, before libmicrohttpd splits its query into
 * parameters: each takes a record from the connection's 64 KiB of memory,
 * and when they run out (about 1,000 of them) libmicrohttpd 0.9.75 closes
 * the connection without an answer. So a query with more parameters than
 * any route reads is cut off here, unread (its '?' stays and ends the
 * target), and refused (400) once the head is in. */
static void *request_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    struct kwh_req *r = request_new();
    char *q = strchr(uri, '?'); /* libmicrohttpd's own buffer, ours until the reply */
    if (!r || !q)
        return r;
    size_t n = 1;
    for (const char *p = q + 1; (p = strchr(p, '&')) != NULL; p++)
        n++;
    if (n > KWH_MAX_QUERY_ARGS) {
        r->too_many_args = true;
        q[1] = '\0';
    }
    return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    struct kw_http *h = cls;
    struct kwh_req *r = *con_cls;
    if (!r && !(r = *con_cls = request_new()))
        return MHD_NO;
    if (!r->started) {
        r->started = true;
        kwh_conn_busy(h, c, true); /* its head arrived in time */
        if (r->too_many_args)
            return refuse_now(
                h, c, method, url, r,
                kwh_problemf(KW_INVALID, "", "more than %d query parameters", KWH_MAX_QUERY_ARGS),
                0);
        if (kwh_is_upload(method, url))
            return upload_start(h, c, url, method, r);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big && !r->refused)
            kw_buf_add(&r->body, upload, *upload_size);
        r->too_big = r->too_big || r->body.failed;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->refused) /* refuse_after_body(): its body is read, now the answer */
        return reply(h, c, method, url, r);
    if (r->queued) { /* resumed: its handler thread or write unit is done, or woken early */
        if (!atomic_load(&r->done))
            return MHD_YES;
        if (r->cont) { /* kwh_write_async's unit committed: its reply, made here */
            kwh_cont_fn cont = r->cont;
            r->cont = NULL;
            r->rep = cont(r->cont_ctx, r->rc, &r->err, r);
        }
        return reply(h, c, method, url, r);
    }
    bool inline_write = kwh_writes_inline(method, url);
    if (!inline_write && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
        enqueue(h, c, url, method, r))
        return MHD_YES;
    struct kwh_call x = {.h = h,
                         .c = c,
                         .r = r,
                         .method = method,
                         .now = h->clock.now(h->clock.ctx),
                         .route = KWH_ROUTE_NONE,
                         .req = inline_write ? r : NULL};
    enum MHD_Result streamed;
    if (answer(&x, r, url, &streamed)) {
        log_request(h, method, url, x.status ? x.status : 200, r);
        return streamed;
    }
    if (x.pending) /* suspended; the writer resumes it after its commit */
        return MHD_YES;
    return reply(h, c, method, url, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    (void)code;
    struct kw_http *h = cls;
    struct kwh_req *r = *con_cls;
    if (r) {
        if (r->reserved)
            atomic_fetch_sub(&h->uploading, r->reserved);
        if (r->cont) { /* closed before its reply was made: still free what it holds */
            struct kwh_reply lost = r->cont(r->cont_ctx, r->rc, &r->err, NULL);
            json_decref(lost.json);
            free(lost.text);
        }
        write_held(h, r); /* answered with no request line */
        kw_buf_release(&r->body);
        json_decref(r->rep.json);
        free(r->rep.text);
        free(r->rep.disposition);
        free(r->set_cookie);
        free(r);
    }
    *con_cls = NULL;
    kwh_conn_busy(h, c, false); /* the next request's head is due */
}

/* Percent-decoding of the path and the query's names and values, except
 * that text holding an encoded NUL ("%00") is left encoded: decoded, it
 * would cut the text short ("/tickets/1%00/events" read as ticket 1). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    for (const char *p = s; (p = strchr(p, '%')) != NULL; p++)
        if (p[1] == '0' && p[2] == '0')
            return strlen(s);
    return MHD_http_unescape(s);
}

/* libmicrohttpd's own messages (a full connection table, a failed accept),
 * as warnings on the server's log. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct kw_http *h = cls;
    if (!kw_log_on(&h->log, KW_LOG_WARN))
        return;
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            *p = '_';
    KW_LOG(&h->log, KW_LOG_WARN, "mod=http event=http.mhd msg=\"%s\"", msg);
}

/* Four I/O threads per processor, 4 to 16: they also answer the reads, and
 * a read that waits on the disk holds its thread's other connections. */
static unsigned io_threads(void)
{
    long n = 4 * sysconf(_SC_NPROCESSORS_ONLN);
    return n < 4 ? 4u : n > 16 ? 16u : (unsigned)n;
}

/* Each connection is a descriptor: lift the soft limit towards what the
 * connections, the database handles and the logs need. */
static void raise_fd_limit(unsigned connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)connections + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static bool parse_listen(const char *listen, struct sockaddr_in *addr)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    *addr = (struct sockaddr_in){.sin_family = AF_INET};
    if (!colon || (size_t)(colon - listen) >= sizeof(host) || !end || *end || port < 0 ||
        port > 65535)
        return false;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    addr->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1;
}

struct kw_http *kw_http_start(const char *listen, const struct kw_http_deps *d, struct kw_err *err)
{
    struct sockaddr_in addr;
    if (!parse_listen(listen, &addr)) {
        kw_err_set(err, KW_INVALID, "",
                   "--listen: \"%.60s\" is not IPV4:PORT (like 127.0.0.1:8080)", listen);
        return NULL;
    }
    struct kw_http *h = calloc(1, sizeof(*h));
    if (!h || strlen(d->db) >= sizeof(h->db)) {
        free(h);
        kw_err_set(err, KW_NOMEM, "", "no memory for the server, or the path is too long");
        return NULL;
    }
    snprintf(h->db, sizeof(h->db), "%s", d->db);
    if (d->trusted_proxies && kw_nets_parse(d->trusted_proxies, &h->proxies, err) != KW_OK) {
        kw_err_locate(err, "", "--trusted-proxy");
        free(h);
        return NULL;
    }
    enum kwh_metrics_access access = KWH_METRICS_LOOPBACK;
    if (d->metrics && strcmp(d->metrics, "token") == 0)
        access = KWH_METRICS_TOKEN;
    else if (d->metrics && strcmp(d->metrics, "off") == 0)
        access = KWH_METRICS_OFF;
    else if (d->metrics && strcmp(d->metrics, "loopback") != 0) {
        kw_err_set(err, KW_INVALID, "", "--metrics: \"%.40s\" is not loopback, token or off",
                   d->metrics);
        free(h);
        return NULL;
    }
    if (!kwh_metrics_init(&h->metrics, access)) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the server's metrics");
        free(h);
        return NULL;
    }
    h->limits = KW_HTTP_LIMITS_DEFAULT;
    const struct kw_http_limits *l = &d->limits;
    if (l->max_connections)
        h->limits.max_connections = l->max_connections;
    if (l->max_per_address)
        h->limits.max_per_address = l->max_per_address;
    if (l->max_streams)
        h->limits.max_streams = l->max_streams;
    if (l->max_streams_per_user)
        h->limits.max_streams_per_user = l->max_streams_per_user;
    if (l->max_streams_per_address)
        h->limits.max_streams_per_address = l->max_streams_per_address;
    if (l->idle_timeout_s)
        h->limits.idle_timeout_s = l->idle_timeout_s;
    if (l->request_timeout_s)
        h->limits.request_timeout_s = l->request_timeout_s;
    h->secure_cookies = d->secure_cookies;
    h->signer = d->signer;
    h->allow = d->allow;
    h->mail_key = d->mail_key;
    h->max_attachment = d->max_attachment ? d->max_attachment : KW_ATTACHMENT_MAX_DEFAULT;
    h->max_ticket_attachments =
        d->max_ticket_attachments ? d->max_ticket_attachments : KW_ATTACHMENT_TICKET_DEFAULT;
    /* four files of the largest size at once, and at least 64 MiB */
    h->upload_budget =
        h->max_attachment > ((size_t)16 << 20) ? 4 * h->max_attachment : (size_t)64 << 20;
    h->clock = d->clock;
    if (d->log)
        h->log = *d->log;
    h->w = d->w;
    h->clocks = d->clocks;
    h->engine = d->engine;
    pthread_mutex_init(&h->pool_mu, NULL);
    pthread_mutex_init(&h->login_mu, NULL);
    h->kpi_cache = kw_kpi_cache_new(); /* NULL: GET /kpis reads the store */
    pthread_mutex_init(&h->intake_mu, NULL);
    pthread_mutex_init(&h->conns_mu, NULL);
    pthread_mutex_init(&h->jobs.mu, NULL);
    pthread_cond_init(&h->jobs.cv, NULL);
    pthread_cond_init(&h->jobs.async_cv, NULL);
    kw_sla_init(&h->wsla);
    kwh_feed_init(&h->feed);
    if (!kwh_feed_start(h) || !jobs_start(h) || !kwh_conns_start(h)) {
        kw_err_set(err, KW_NOMEM, "", "cannot start the live feed or the server's threads");
        kw_http_stop(h);
        return NULL;
    }
    kw_writer_listen(h->w, kwh_feed_publish, &h->feed);
    h->kpi_warming = h->kpi_cache && pthread_create(&h->kpi_warm, NULL, kpi_warm, h) == 0;
    raise_fd_limit(h->limits.max_connections);
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG,
        0, kwh_conn_accept, h, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, io_threads(),
        MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_NOTIFY_CONNECTION, kwh_conn_notify, h,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_URI_LOG_CALLBACK, request_begin,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, h->limits.idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        h->limits.max_connections, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)4096, MHD_OPTION_END);
    if (!h->d) {
        kw_err_set(err, KW_IO, "", "cannot listen on %s (address in use, or not this host's)",
                   listen);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : ntohs(addr.sin_port);
    return h;
fail:
    kw_http_stop(h);
    return NULL;
}

void kw_http_stop(struct kw_http *h)
{
    if (!h)
        return;
    if (h->d) {
        MHD_socket fd = MHD_quiesce_daemon(h->d); /* no new connections */
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
    kwh_feed_stop(&h->feed);         /* the live streams are woken, and end */
    jobs_stop(h);                    /* the requests queued are answered; later ones here */
    pthread_mutex_lock(&h->jobs.mu); /* the units handed over commit, and resume theirs */
    h->jobs.async_stop = true;
    while (h->jobs.n_async)
        pthread_cond_wait(&h->jobs.async_cv, &h->jobs.mu);
    pthread_mutex_unlock(&h->jobs.mu);
    if (h->d)
        MHD_stop_daemon(h->d); /* nothing is suspended any more */
    kwh_conns_stop(h);
    if (h->w)
        kw_writer_listen(h->w, NULL, NULL);
    if (h->kpi_warming) {
        kw_kpi_cache_cancel(h->kpi_cache);
        pthread_join(h->kpi_warm, NULL);
    }
    kwh_feed_destroy(&h->feed); /* joins the feeder, which gives its worker back */
    while (h->idle) {
        struct kwh_worker *wk = h->idle;
        h->idle = wk->next;
        worker_free(wk);
    }
    while (h->idle_small) {
        struct kwh_worker *wk = h->idle_small;
        h->idle_small = wk->next;
        worker_free(wk);
    }
    kw_sla_release(&h->wsla);
    pthread_mutex_destroy(&h->pool_mu);
    pthread_mutex_destroy(&h->login_mu);
    kw_kpi_cache_free(h->kpi_cache);
    pthread_mutex_destroy(&h->intake_mu);
    pthread_mutex_destroy(&h->conns_mu);
    pthread_mutex_destroy(&h->jobs.mu);
    pthread_cond_destroy(&h->jobs.cv);
    pthread_cond_destroy(&h->jobs.async_cv);
    kwh_metrics_free(&h->metrics);
    free(h);
}

unsigned kw_http_port(const struct kw_http *h)
{
    return h->port;
}
