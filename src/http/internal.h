// SPDX-License-Identifier: MIT
/*
 * internal.h - what the HTTP layer's files share (not an interface).
 *
 * Threads: libmicrohttpd's epoll thread pool (a few I/O threads) reads and
 * writes every connection. A GET is answered on its I/O thread; any other
 * request is suspended (MHD_suspend_connection) and queued to the handler
 * threads, which run it, hand its write to the group-commit writer
 * (store/writer.h) and wait for the commit there, then resume it, so no I/O
 * thread ever waits for a commit. A request takes a worker (a read-only use
 * of its own store handle plus clock scratch) from a pool for its duration;
 * the writer's units run on the writer thread with the writer's handle and
 * scratch. Live streams are suspended between sends and woken by the feed's
 * ticker (web.c), so they hold no thread. Compiled commitments are shared
 * (engine/clocks.h). After a write that changed a ticket's clocks, the
 * handler tells the engine when the ticket's next threshold falls due.
 */
#ifndef KW_HTTP_INTERNAL_H
#define KW_HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "app.h"
#include "calendar.h"
#include "clocks.h"
#include "kw_net.h"
#include "engine.h"
#include "http.h"
#include "kw_buf.h"
#include "policy.h"
#include "sla.h"
#include "store.h"
#include "tz.h"
#include "writer.h"

/* What one request thread uses: a store handle and clock scratch. */
struct kwh_worker {
    struct kw_store *st;
    struct kw_sla sla;
    struct magic_set *magic; /* libmagic, opened on first use (attachments.c), or NULL */
    struct kwh_worker *next;
    bool small; /* taken with kwh_worker_take_small */
};

#define LOGIN_SLOTS 1024

struct kwh_login_slot {
    uint64_t key; /* hash of "p:" e-mail and address, or "a:" address; 0 = free */
    int64_t last; /* the last failure (or when the slot was taken) */
    unsigned failures;
};

/* The live feed (web.c): a feeder thread reads the store's change log when
 * the writer committed, when another node announced a commit (PostgreSQL),
 * or every second (commits by other processes), and
 * keeps the changed tickets encoded in a ring the streams copy from. */
struct kwh_feed_item;
struct kwh_feed {
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* on CLOCK_MONOTONIC: the writer committed */
    pthread_cond_t grew; /* on CLOCK_MONOTONIC: the ring grew */
    uint64_t commits;    /* bumped after each commit: a wake-up, nothing more */
    uint64_t grown;      /* bumped when the ring grew */
    bool stop;
    size_t batch_max; /* bytes one stream may send at once; more: `event: reset` */
    struct kwh_feed_item *ring;
    struct kwh_stream *streams; /* the open streams (web.c), a list under mu */
    size_t n_streams;
    pthread_t ticker; /* resumes suspended streams when they have something to send */
    bool ticking;
    int64_t first, next; /* the items held: [first, next), numbered from 0 */
    int64_t at;          /* the feeder's cursor in the change log */
    /* With no stream open the feeder reads nothing: a commit then only marks
     * the cursor behind (under mu), and the first stream to open reads the
     * log's head before it is counted and leaves it in catch_up (caught; the
     * lowest such head; -1: the feeder reads the head itself), where the
     * feeder moves its cursor before its next pass. */
    bool behind, caught;
    int64_t catch_up;
    pthread_t thread;
    bool running;
    pthread_t listener; /* PostgreSQL: other nodes' commits wake the feeder (LISTEN) */
    bool listening;
    _Atomic uint64_t sessions; /* bumped when a session ended here (kwh_sessions_changed) */
};
/* Reads KEEPWORD_STREAM_BATCH_MAX (bytes; for tests) once, here. */
void kwh_feed_init(struct kwh_feed *f);
/* Start the feeder thread (after the worker pool is ready). */
bool kwh_feed_start(struct kw_http *h);
/* Joins the feeder: call kwh_feed_stop first. */
void kwh_feed_destroy(struct kwh_feed *f);
/* A kw_commit_fn (writer.h) with ctx the feed. */
void kwh_feed_publish(void *ctx);
/* A session ended or a user changed (logout, a token revoked, a user
 * changed): open streams check theirs before their next send. */
void kwh_sessions_changed(struct kw_http *h);
/* End the streams and the feeder (at shutdown). */
void kwh_feed_stop(struct kwh_feed *f);

/* ---- limits (limits.c) ---- */
/* One TCP connection (libmicrohttpd's socket context): its peer, and by when
 * the head of its next request must have arrived. */
struct kwh_conn {
    struct kwh_conn *prev, *next; /* in h->conns, under conns_mu */
    int fd;
    bool counted;               /* against its address's limit (not a trusted proxy) */
    _Atomic int64_t head_by_ms; /* CLOCK_MONOTONIC ms; 0: a request is being served */
    char addr[46];              /* the peer, as text */
};
/* Start / stop the sweeper, which cuts connections whose request head is
 * late (slowloris). kwh_conns_start after h->limits is set. */
bool kwh_conns_start(struct kw_http *h);
void kwh_conns_stop(struct kw_http *h);
/* libmicrohttpd callbacks (MHD_AcceptPolicyCallback, MHD_NotifyConnectionCallback). */
enum MHD_Result kwh_conn_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void kwh_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);
/* The connection's request head arrived (a request is being served), or its
 * reply went out (the next head is due within the request timeout). */
void kwh_conn_busy(struct kw_http *h, struct MHD_Connection *c, bool busy);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t kwh_mono_ms(void);
/* Log a refusal (rate-limited to one line a second per kind). */
void kwh_log_refused(struct kw_http *h, const char *what, const char *addr);

#define KWH_MAX_QUERY_ARGS 256 /* a query with more parameters is refused unread */

/* Request metrics for GET /metrics (metrics.c): per route, counts by
 * status and a latency histogram; updated with atomics, no lock. */
#define KWH_STATUS_N 18 /* the statuses of metrics.c's table, and "other" */
#define KWH_LAT_N 12    /* latency buckets, the last one +Inf */
struct kwh_route_metrics {
    _Atomic uint64_t status[KWH_STATUS_N];
    _Atomic uint64_t lat[KWH_LAT_N];
    _Atomic uint64_t sum_us;
};
enum kwh_metrics_access { KWH_METRICS_LOOPBACK, KWH_METRICS_TOKEN, KWH_METRICS_OFF };
struct kwh_metrics {
    enum kwh_metrics_access access;
    size_t n;                     /* the routes, then "page" and "unmatched" */
    struct kwh_route_metrics *by; /* n of them */
    _Atomic int64_t streams;      /* open /api/v1/stream connections */
};
/* Set up / free h->metrics (n routes + 2). */
bool kwh_metrics_init(struct kwh_metrics *m, enum kwh_metrics_access access);
void kwh_metrics_free(struct kwh_metrics *m);
/* Count one answered request: route index (KWH_ROUTE_PAGE, KWH_ROUTE_NONE
 * or a route of the table), its status and how long it took. */
#define KWH_ROUTE_NONE (-1)
#define KWH_ROUTE_PAGE (-2)
void kwh_metrics_observe(struct kwh_metrics *m, int route, unsigned status, double seconds);
/* The number of routes in the table (routes.c). */
size_t kwh_route_count(void);

/* Requests queued for the handler threads (daemon.c). */
struct kwh_job;
struct kwh_jobs {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct kwh_job *head, *tail;
    bool stop;
    size_t n_threads;
    pthread_t *threads;
    /* units handed to the writer from an I/O thread (kwh_write_async) whose
     * connection is still suspended; stop: no more are handed over */
    size_t n_async;
    bool async_stop;
    pthread_cond_t async_cv; /* n_async reached 0 */
};

/* The rate of one alert source (intake.c): a token bucket. */
#define KWH_INTAKE_BUCKETS 64
#define KWH_INTAKE_MAX_BODY (512u * 1024) /* bytes of an alert payload */
struct kwh_intake_bucket {
    int64_t source; /* 0: free */
    double tokens;
    int64_t at_ms; /* CLOCK_MONOTONIC */
};

struct kw_http {
    struct MHD_Daemon *d;
    struct kw_http_limits limits; /* with the defaults filled in */
    pthread_mutex_t conns_mu;
    struct kwh_conn *conns; /* every open connection */
    size_t n_conns;
    pthread_cond_t sweep_cv;
    bool sweep_stop, sweeping;
    pthread_t sweeper;
    _Atomic int64_t refused_logged_s[3]; /* kwh_log_refused: the last second logged, per kind */
    struct kwh_jobs jobs;
    struct kw_nets proxies; /* trusted reverse proxies (client.c) */
    bool secure_cookies;    /* serve --secure-cookies: always mark them Secure */
    struct kwh_metrics metrics;
    char db[512];
    struct kw_writer *w;
    struct kw_now clock;
    unsigned port;
    struct kw_log log; /* copied at start; log.out NULL: none */
    pthread_mutex_t pool_mu;
    struct kwh_worker *idle, *idle_small; /* the small ones: kwh_worker_take_small */
    size_t n_idle, n_idle_small; /* each kept up to IDLE_WORKERS; more are closed when given back */
    struct kw_clocks *clocks;    /* compiled commitments, the tz database */
    struct kw_engine *engine;    /* timers: what falls due, and the outbox */
    struct kw_sla wsla;          /* scratch of the writer's units (one thread) */
    pthread_mutex_t login_mu;
    struct kwh_login_slot logins[LOGIN_SLOTS];
    struct kwh_feed feed;
    struct kw_kpi_cache *kpi_cache; /* the KPI facts' runs in memory (app/kpi_cache.h), or NULL */
    pthread_t kpi_warm;             /* loads it at start (daemon.c) */
    bool kpi_warming;
    const struct kw_signer *signer; /* the log's key (app/proof.h), or NULL */
    size_t max_attachment;          /* bytes of one upload */
    int64_t max_ticket_attachments; /* bytes of a ticket's files */
    size_t upload_budget;           /* bytes all uploads in flight may hold */
    _Atomic size_t uploading;       /* bytes they hold now */
    const struct kw_nets *allow;    /* where a mailbox's test may connect, or NULL */
    const unsigned char *mail_key;  /* seals mailbox passwords, or NULL */
    pthread_mutex_t intake_mu;      /* intake_rate */
    struct kwh_intake_bucket intake_rate[KWH_INTAKE_BUCKETS];
};

enum kwh_role { R_ADMIN, R_MANAGER, R_AGENT, R_CUSTOMER };
#define ROLE(r) (1u << (r))
#define STAFF (ROLE(R_ADMIN) | ROLE(R_MANAGER) | ROLE(R_AGENT))
#define MANAGERS (ROLE(R_ADMIN) | ROLE(R_MANAGER))

struct kwh_caller {
    int64_t id, org_id, team_id;
    enum kwh_role role;
    bool customer;
    bool cookie; /* signed in by the browser's session cookie (then CSRF-checked) */
};

struct kwh_reply {
    unsigned status;
    char allow[48];         /* with a 405: the Allow header (the path's methods) */
    json_t *json;           /* owned; or NULL with text */
    char *text;             /* owned, a non-JSON body (letter, .ics) */
    const char *fixed;      /* or a body built into the binary, never freed */
    const char *cache;      /* a Cache-Control header (NULL: no-store) */
    size_t text_len;        /* its bytes (0: strlen(text)); a file's bytes may hold NULs */
    char *disposition;      /* owned, a Content-Disposition header (files), or NULL */
    char file_type[128];    /* a file's media type (with disposition), or "" */
    const char *ctype;      /* of text */
    bool problem;           /* application/problem+json */
    unsigned retry_after_s; /* > 0: a Retry-After header */
};

/* Bytes of log lines a request holds for its own line: a create's is about
 * 100, and struct kwh_req stays within malloc's per-thread cache (1,032
 * bytes; past it each request's allocation takes its arena's lock). */
#define KWH_HELD_MAX 256

/* One request in flight: its body, when it started, and (for a request run
 * on a handler thread) its reply, ready when done. */
struct kwh_req {
    struct kw_buf body;
    bool too_big;
    bool refused;    /* an upload refused once its small body is read (rep holds the answer) */
    bool upload;     /* an attachment upload: body.max is the attachment limit */
    size_t reserved; /* bytes of h->uploading this request holds */
    struct timespec t0;
    bool started;       /* handle() has seen its head */
    bool too_many_args; /* more than KWH_MAX_QUERY_ARGS: the query was dropped unread */
    int route;          /* the route table's index, or KWH_ROUTE_NONE / KWH_ROUTE_PAGE */
    bool queued;        /* handed to a handler thread (the connection is suspended) */
    _Atomic bool done;  /* its reply is ready: rep, set_cookie */
    struct kwh_reply rep;
    char *set_cookie;
    /* kwh_write_async: the unit's outcome and what makes the reply of it
     * (on the I/O thread, once resumed); cont also frees cont_ctx */
    struct MHD_Connection *conn;
    struct kw_http *h;
    struct kwh_reply (*cont)(void *cont_ctx, enum kw_code rc, const struct kw_err *err,
                             struct kwh_req *r);
    void *cont_ctx;
    enum kw_code rc;
    struct kw_err err;
    /* lines logged while its reply was made (kwh_log_held), written with
     * its request line in one write: a create's two lines cost one write
     * and one turn of the log's lock, not two (#20) */
    char held[KWH_HELD_MAX];
    size_t held_len;
};

/* A path's parameters, parsed once by the router (routes.c). */
struct kwh_args {
    int64_t id;                 /* {id} */
    char name[KW_CAL_NAME_MAX]; /* {name}, a calendar's */
};

struct kwh_call {
    struct kw_http *h;
    struct MHD_Connection *c;
    const struct kwh_req *r;
    const char *method;
    struct kwh_worker *wk;
    int64_t now;
    struct kwh_args arg;
    bool authed;          /* x->me is the caller */
    struct kwh_caller me; /* after kwh_authenticate() */
    char *set_cookie;     /* a Set-Cookie header for the reply (owned), or NULL */
    int route;            /* the route matched (kwh_dispatch), or KWH_ROUTE_NONE */
    unsigned status;      /* a streamer's: the status it queued (0: 200) */
    struct kwh_req *req;  /* on an I/O thread's write route (kwh_writes_inline): its request */
    bool pending;         /* kwh_write_async suspended it: the reply comes later */
};

/* Read ticket id as the caller may see it into *t (tickets.c): a customer
 * sees only their own organisation's, another's is the same 404 ("no such
 * ticket") as one that does not exist; false with *fail set otherwise. */
bool kwh_visible_ticket(struct kwh_call *x, int64_t id, struct kw_ticket_row *t,
                        struct kwh_reply *fail);
/* A ticket as the API shows it, with its projected clocks (tickets.c); a
 * customer sees no staff-only clock (the call-back). */
json_t *kwh_ticket_with_clocks(struct kw_http *h, struct kw_store *st, bool customer,
                               const struct kw_ticket_row *t, int64_t now);

/* ---- replies (request.c) ---- */
struct kwh_reply kwh_problem(const struct kw_err *err);
struct kwh_reply kwh_problem_of(enum kw_code code, const char *field, const char *msg);
struct kwh_reply kwh_problemf(enum kw_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct kwh_reply kwh_ok(unsigned status, json_t *j);
struct kwh_reply kwh_ok_text(const char *ctype, char *text);

/* ---- the daemon (daemon.c) ---- */
/* Whether method and url are an attachment upload (a larger body). */
bool kwh_is_upload(const char *method, const char *url);
/* Queue rep (consumed) with set_cookie (may be NULL). */
enum MHD_Result kwh_send_reply(struct MHD_Connection *c, struct kwh_reply *rep,
                               const char *set_cookie);
struct kwh_worker *kwh_worker_take(struct kw_http *h, struct kw_err *err);
/* A worker whose handle serves small reads only (kw_store_small_reads): a
 * few rows by key, as an inline write's token check and its reply. */
struct kwh_worker *kwh_worker_take_small(struct kw_http *h, struct kw_err *err);
/* Give a worker back (to the pool it was taken from). */
void kwh_worker_give(struct kw_http *h, struct kwh_worker *wk);
/* Close the worker's libmagic handle, if any (attachments.c). */
void kwh_worker_magic_close(struct kwh_worker *wk);
/* One logfmt line on the server's log (if any). */
void kwh_log_event(struct kw_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As kwh_log_event, but the line is held by r and written with r's request
 * line, in one write (at once when r is NULL or holds no more). On the
 * thread that answers r. */
void kwh_log_held(struct kw_http *h, struct kwh_req *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The compiled commitment id (built on first use with st). */
const struct kw_compiled *kwh_policy_for(struct kw_http *h, struct kw_store *st, int64_t id,
                                         struct kw_err *err);

/* ---- who is calling (auth.c) ---- */
/* Log in the caller from the bearer token or session cookie (CSRF-checked
 * for writes) into x->me; 401 (403 for the CSRF token) otherwise. Once a
 * call is authenticated, again is a no-op. */
bool kwh_authenticate(struct kwh_call *x, struct kwh_reply *fail);
/* authenticate, then require one of the roles in mask (403 with why). */
bool kwh_authorise(struct kwh_call *x, unsigned mask, const char *why, struct kwh_reply *fail);

/* ---- the browser's side (web.c) ---- */
/* The page or asset at url into out; false when url is none of them. */
bool kwh_web_asset(const char *url, struct kwh_reply *out);
/* GET /api/v1/stream: the live feed as Server-Sent Events (caller checked). */
enum MHD_Result kwh_web_stream(struct kwh_call *x);

/* ---- reading the request (request.c) ---- */
bool kwh_is_method(const struct kwh_call *x, const char *m);
json_t *kwh_body_object(const struct kwh_call *x, struct kwh_reply *fail);
/* A query parameter: whole number in [lo, hi] or absent (keeps *out). */
bool kwh_query_int(const struct kwh_call *x, const char *name, long long lo, long long hi,
                   long long *out, struct kwh_reply *fail);
const char *kwh_query(const struct kwh_call *x, const char *name);
/* A query parameter: an ISO 8601 instant or absent (keeps *out). */
bool kwh_query_instant(const struct kwh_call *x, const char *name, int64_t *out,
                       struct kwh_reply *fail);
/* A member of a JSON body, for kwh_decode. */
enum kwh_ftype {
    KWH_STR,  /* const char * (borrowed from the body): 1 to max bytes; null is absent */
    KWH_ID,   /* int64_t: an id, > 0 (nullable: null stores -1) */
    KWH_INT,  /* int64_t: a whole number from lo to hi (nullable: null stores -1) */
    KWH_BOOL, /* bool */
    KWH_ANY,  /* json_t * (borrowed): any value, the handler checks it */
    KWH_TIME, /* int64_t: an ISO 8601 instant (a string of 1 to 40 bytes); null is absent */
    KWH_OBJ,  /* bool (present): an object whose members sub[0..nsub) decodes into out */
};
struct kwh_field {
    const char *name;
    enum kwh_ftype type;
    bool required; /* absent (or null): 400 "NAME: missing" */
    bool nullable; /* KWH_ID, KWH_INT: null is a value (-1), "clear it" */
    size_t max;    /* KWH_STR: bytes */
    /* KWH_STR: a control character (kw_text_has_control) is refused, 400
     * "NAME: control characters are not allowed"; tabs and line breaks
     * too when line (one line of text), none when controls (a password) */
    bool line, controls;
    long long lo, hi;    /* KWH_INT: inclusive */
    size_t offset;       /* where in out: offsetof(struct x, member) */
    const char *expect;  /* the wording after "NAME: " of a wrong value, or NULL: the usual */
    const char *missing; /* the wording after "NAME: " when required and absent, or NULL */
    const struct kwh_field *sub; /* KWH_OBJ: its members (offsets into the same out) */
    size_t nsub;
};
/* Decode the members of obj that f[0..n) names into out, leaving absent ones
 * as they were: 400 with a JSON pointer naming the first member that is not
 * in the table, then the first of the wrong type or range (in the table's
 * order; a KWH_OBJ member is decoded the same way where it stands, its
 * members named "/outer/inner" and "outer.inner"), then the first required
 * one missing. */
bool kwh_decode(json_t *obj, const struct kwh_field *f, size_t n, void *out,
                struct kwh_reply *fail);
#define KWH_NFIELDS(f) (sizeof(f) / sizeof((f)[0]))
/* A member decoded as KWH_ANY that is a string of 1 to max bytes or null
 * ("none"): absent (v NULL) keeps *out, null sets it to NULL, a string sets
 * it (borrowed from v). false with a 400 naming "/name". */
bool kwh_str_or_null(json_t *v, const char *name, size_t max, const char **out,
                     struct kwh_reply *fail);
/* Run fn on the writer; false with the problem when it failed. */
bool kwh_write_unit(struct kwh_call *x, kw_write_fn fn, void *ctx, struct kwh_reply *fail);
/* The same for a unit that may run twice (kw_writer_run_repeatable: all it
 * does besides the store is done again, its outputs read after this). */
bool kwh_write_repeatable(struct kwh_call *x, kw_write_fn fn, void *ctx, struct kwh_reply *fail);
/* The reply of a write unit that ended with rc (err: its problem); frees
 * ctx. Runs on an I/O thread (or the caller's, see kwh_write_async). r is
 * the request it answers, for kwh_log_held (NULL: none, or its connection
 * has gone). */
typedef struct kwh_reply (*kwh_cont_fn)(void *ctx, enum kw_code rc, const struct kw_err *err,
                                        struct kwh_req *r);
/* Run fn(ctx) on the writer and answer with cont(ctx, ...), which takes
 * ctx (heap, and what it points to must live until cont). On an I/O
 * thread's write route (x->req set) nothing waits: the connection is
 * suspended, the unit queued, x->pending set and true returned (the
 * handler then returns any reply, unused); after the commit the writer
 * resumes the connection and its I/O thread calls cont. Elsewhere the
 * unit runs now and *out = cont(...): false. (daemon.c) */
bool kwh_write_async(struct kwh_call *x, kw_write_fn fn, void *ctx, kwh_cont_fn cont,
                     struct kwh_reply *out);
/* The same for a unit that may run twice (kw_writer_submit_repeatable). */
bool kwh_write_async_repeatable(struct kwh_call *x, kw_write_fn fn, void *ctx, kwh_cont_fn cont,
                                struct kwh_reply *out);
/* Whether a POST to url is run on its I/O thread up to its write unit
 * (kwh_write_async) rather than on a handler thread (intake.c): the
 * monitoring intake and a ticket's create, short requests at a high
 * rate. */
bool kwh_writes_inline(const char *method, const char *url);

/* ---- values, resources and pages as JSON (json.c) ---- */
json_t *kwh_instant_json(int64_t t); /* null for KW_STORE_NO_TIME */
json_t *kwh_nullable(const char *s);
json_t *kwh_id_or_null(int64_t id);
void kwh_hex(const unsigned char *b, size_t n, char *out); /* out: 2n + 1 bytes */
json_t *kwh_org_json(const struct kw_org *o);
json_t *kwh_user_json(const struct kw_user_row *u);
json_t *kwh_team_json(int64_t id, const char *name, int64_t lead);
json_t *kwh_endpoint_json(const struct kw_endpoint *e);
json_t *kwh_subscription_json(const struct kw_subscription *s);

/* Rows collected for a reply: at most limit of them, and whether one more
 * exists (then "next" is the last id, to ask again with after=next). A row
 * callback reads `return kwh_page_room(pg) && kwh_page_push(pg, id, json);`
 * and the store is asked for limit + 1 rows. */
#define KWH_ALL SIZE_MAX /* no paging: every row, and no "next" */
struct kwh_page {
    json_t *items; /* owned */
    size_t limit;
    int64_t last; /* the id of the last row in items */
    bool more;
};
void kwh_page_init(struct kwh_page *pg, size_t limit);
/* Query after (0..INT64_MAX, default 0) and limit (1..500, default 100);
 * a page of limit. 400 otherwise (then pg is not initialised). */
bool kwh_page_query(const struct kwh_call *x, struct kwh_page *pg, long long *after,
                    struct kwh_reply *fail);
/* Whether another row fits; false (and more) when the page is full. */
bool kwh_page_room(struct kwh_page *pg);
/* Append row (taken) as the row with id; true. */
bool kwh_page_push(struct kwh_page *pg, int64_t id, json_t *row);
/* {key: [rows], "next": id or null} ({key: [rows]} for KWH_ALL); takes the rows. */
json_t *kwh_page_json(struct kwh_page *pg, const char *key);
/* Drop the rows (on a failed read). */
void kwh_page_release(struct kwh_page *pg);

/* The caller (after login) as the application layer's actor (auth.c). */
struct kw_actor kwh_actor(const struct kwh_call *x);

/* ---- routing (routes.c) ---- */
typedef struct kwh_reply (*kwh_handler)(struct kwh_call *x);
typedef enum MHD_Result (*kwh_streamer)(struct kwh_call *x);

#define KWH_PUBLIC 0u                         /* no login needed */
#define KWH_ANYONE (STAFF | ROLE(R_CUSTOMER)) /* any caller who logged in */

/* One row of the route table. roles: KWH_PUBLIC, or the roles let in (401
 * without a login, 403 with why for the others); the handler then finds
 * the caller in x->me and the path's parameters in x->arg. */
struct kwh_route {
    const char *method, *path; /* "GET", "/api/v1/tickets/{id}/events" */
    kwh_handler fn;            /* or NULL with stream */
    kwh_streamer stream;       /* a reply it queues itself (Server-Sent Events) */
    unsigned roles;
    const char *why;
};

/* Route the request for url: the reply into *rep (413, 404, 405, 401, 403
 * or the handler's), or, for a stream route the caller may use, its
 * streamer (then *rep is unset and the caller runs it). */
kwh_streamer kwh_dispatch(struct kwh_call *x, const char *url, struct kwh_reply *rep);

/* ---- handlers, by file (the paths are in routes.c) ---- */
/* catalogue.c */
struct kwh_reply kwh_catalogue(struct kwh_call *x);
/* auth.c */
struct kwh_reply kwh_login(struct kwh_call *x);
struct kwh_reply kwh_metrics_get(struct kwh_call *x);
/* The client's address as text: the peer, or what a trusted proxy says in
 * X-Forwarded-For (client.c). */
void kwh_client_address(const struct kw_http *h, struct MHD_Connection *c, char *buf, size_t cap);
/* Whether the browser reached us over TLS: serve --secure-cookies, or a
 * trusted proxy's X-Forwarded-Proto: https (client.c). Session cookies are
 * then marked Secure. */
bool kwh_over_tls(const struct kwh_call *x);
/* The session token the request came with: a bearer token, or else the
 * browser's session cookie; NULL when none (auth.c). */
const char *kwh_session_token(struct MHD_Connection *c);
/* Whether a Content-Type value names JSON (request.c). */
bool kwh_media_is_json(const char *ct);
struct kwh_reply kwh_logout(struct kwh_call *x);
struct kwh_reply kwh_me(struct kwh_call *x);
struct kwh_reply kwh_tokens_list(struct kwh_call *x);
struct kwh_reply kwh_tokens_create(struct kwh_call *x);
struct kwh_reply kwh_token_delete(struct kwh_call *x);
/* tickets.c */
struct kwh_reply kwh_tickets_list(struct kwh_call *x);
struct kwh_reply kwh_tickets_create(struct kwh_call *x);
struct kwh_reply kwh_ticket_get(struct kwh_call *x);
struct kwh_reply kwh_ticket_patch(struct kwh_call *x);
struct kwh_reply kwh_ticket_events(struct kwh_call *x);
struct kwh_reply kwh_ticket_event_post(struct kwh_call *x);
struct kwh_reply kwh_ticket_sla(struct kwh_call *x);
/* kpi.c */
struct kwh_reply kwh_kpis(struct kwh_call *x);
/* The teams' hourly costs (time accounting): list, set, clear. */
struct kwh_reply kwh_team_costs(struct kwh_call *x);
struct kwh_reply kwh_team_cost_put(struct kwh_call *x);
struct kwh_reply kwh_team_cost_delete(struct kwh_call *x);
struct kwh_reply kwh_kpi_breaches(struct kwh_call *x);
/* The tickets (and runs or ratings) behind one figure of one cell of GET
 * /kpis: the dashboard's drill-down (docs/kpi.md). */
struct kwh_reply kwh_kpi_tickets(struct kwh_call *x);
/* reports.c */
struct kwh_reply kwh_report_weekly(struct kwh_call *x);
struct kwh_reply kwh_report_monthly(struct kwh_call *x);
struct kwh_reply kwh_ticket_nodes(struct kwh_call *x);
struct kwh_reply kwh_ticket_verify(struct kwh_call *x);
/* proof.c */
struct kwh_reply kwh_log_key(struct kwh_call *x);
struct kwh_reply kwh_log_checkpoint(struct kwh_call *x);
struct kwh_reply kwh_log_inclusion(struct kwh_call *x);
struct kwh_reply kwh_log_consistency(struct kwh_call *x);
struct kwh_reply kwh_ticket_receipt(struct kwh_call *x);
struct kwh_reply kwh_ticket_receipts(struct kwh_call *x);
/* admin.c */
struct kwh_reply kwh_orgs_list(struct kwh_call *x);
struct kwh_reply kwh_orgs_create(struct kwh_call *x);
struct kwh_reply kwh_org_get(struct kwh_call *x);
struct kwh_reply kwh_users_list(struct kwh_call *x);
struct kwh_reply kwh_users_create(struct kwh_call *x);
struct kwh_reply kwh_teams_list(struct kwh_call *x);
struct kwh_reply kwh_teams_create(struct kwh_call *x);
struct kwh_reply kwh_calendars_list(struct kwh_call *x);
struct kwh_reply kwh_calendars_create(struct kwh_call *x);
struct kwh_reply kwh_calendar_get(struct kwh_call *x);
struct kwh_reply kwh_calendar_deadline(struct kwh_call *x);
struct kwh_reply kwh_calendar_ics(struct kwh_call *x);
struct kwh_reply kwh_calendar_versions(struct kwh_call *x);
struct kwh_reply kwh_calendar_impact(struct kwh_call *x);
struct kwh_reply kwh_commitments_list(struct kwh_call *x);
struct kwh_reply kwh_commitments_create(struct kwh_call *x);
struct kwh_reply kwh_commitment_get(struct kwh_call *x);
struct kwh_reply kwh_commitment_letter(struct kwh_call *x);
/* commitment_diff.c */
struct kwh_reply kwh_commitment_diff(struct kwh_call *x);
/* notify.c */
struct kwh_reply kwh_endpoints_list(struct kwh_call *x);
struct kwh_reply kwh_endpoints_create(struct kwh_call *x);
struct kwh_reply kwh_endpoint_test(struct kwh_call *x);
struct kwh_reply kwh_endpoint_patch(struct kwh_call *x);
struct kwh_reply kwh_endpoint_delete(struct kwh_call *x);
struct kwh_reply kwh_outbox_list(struct kwh_call *x);
struct kwh_reply kwh_outbox_retry(struct kwh_call *x);
struct kwh_reply kwh_subscriptions_list(struct kwh_call *x);
struct kwh_reply kwh_subscriptions_create(struct kwh_call *x);
struct kwh_reply kwh_subscription_delete(struct kwh_call *x);
/* oncall.c */
struct kwh_reply kwh_rotas_list(struct kwh_call *x);
struct kwh_reply kwh_rotas_put(struct kwh_call *x);
struct kwh_reply kwh_oncall_who(struct kwh_call *x);
struct kwh_reply kwh_rota_who(struct kwh_call *x);
struct kwh_reply kwh_rota_shifts(struct kwh_call *x);
/* "skills": up to 32 distinct strings of 1 to 47 bytes, as canonical text
 * into *out (caller frees); absent leaves *out NULL (admin.c). */
bool kwh_skills_of(json_t *v, char **out, struct kwh_reply *fail);
/* people.c: editing people and organisations (app/people.h) */
struct kwh_reply kwh_user_get(struct kwh_call *x);
struct kwh_reply kwh_user_patch(struct kwh_call *x);
struct kwh_reply kwh_me_patch(struct kwh_call *x);
struct kwh_reply kwh_me_password(struct kwh_call *x);
struct kwh_reply kwh_org_patch(struct kwh_call *x);
/* attachments.c: files on tickets (app/attachments.h) */
struct kwh_reply kwh_attachment_post(struct kwh_call *x);
struct kwh_reply kwh_attachments_list(struct kwh_call *x);
struct kwh_reply kwh_attachment_get(struct kwh_call *x);
/* links.c: links between tickets and merges (app/links.h) */
struct kwh_reply kwh_links_list(struct kwh_call *x);
struct kwh_reply kwh_links_add(struct kwh_call *x);
struct kwh_reply kwh_links_remove(struct kwh_call *x);
struct kwh_reply kwh_ticket_merge(struct kwh_call *x);
/* The ticket's links as the caller may see them (a customer: only to their
 * organisation's tickets), NULL when they could not be read; *merged_into
 * (may be NULL) the ticket it was merged into, or 0. */
json_t *kwh_links_json(struct kwh_call *x, int64_t ticket, int64_t *merged_into);
/* canned.c: canned replies (app/canned.h) */
struct kwh_reply kwh_canned_list(struct kwh_call *x);
struct kwh_reply kwh_canned_create(struct kwh_call *x);
struct kwh_reply kwh_canned_get(struct kwh_call *x);
struct kwh_reply kwh_canned_patch(struct kwh_call *x);
struct kwh_reply kwh_canned_delete(struct kwh_call *x);
struct kwh_reply kwh_ticket_canned(struct kwh_call *x);
/* views.c: saved views of the ticket list (app/views.h) */
struct kwh_reply kwh_views_list(struct kwh_call *x);
struct kwh_reply kwh_views_create(struct kwh_call *x);
struct kwh_reply kwh_view_get(struct kwh_call *x);
struct kwh_reply kwh_view_patch(struct kwh_call *x);
struct kwh_reply kwh_view_delete(struct kwh_call *x);
/* watchers.c: who follows a ticket (app/watchers.h) */
struct kwh_reply kwh_watchers_list(struct kwh_call *x);
struct kwh_reply kwh_watchers_add(struct kwh_call *x);
struct kwh_reply kwh_watchers_remove(struct kwh_call *x);
/* inbox.c: in-app notifications */
struct kwh_reply kwh_notifications_list(struct kwh_call *x);
struct kwh_reply kwh_notifications_read(struct kwh_call *x);
/* bulk.c: one change to many tickets */
struct kwh_reply kwh_tickets_bulk(struct kwh_call *x);
/* overruns.c */
struct kwh_reply kwh_overruns_list(struct kwh_call *x);
/* callbacks.c: the call-back desk and follow-up tasks */
struct kwh_reply kwh_callbacks_list(struct kwh_call *x);
struct kwh_reply kwh_ticket_callback(struct kwh_call *x);
struct kwh_reply kwh_ticket_tasks(struct kwh_call *x);
struct kwh_reply kwh_ticket_task_done(struct kwh_call *x);
struct kwh_reply kwh_overrun_get(struct kwh_call *x);
struct kwh_reply kwh_overrun_patch(struct kwh_call *x);
/* ledger.c */
/* watch.c: the watch list and the audit trail */
struct kwh_reply kwh_watch_list(struct kwh_call *x);
struct kwh_reply kwh_watch_settings_get(struct kwh_call *x);
struct kwh_reply kwh_watch_settings_put(struct kwh_call *x);
struct kwh_reply kwh_org_watch_clear(struct kwh_call *x);
struct kwh_reply kwh_audit_list(struct kwh_call *x);
/* org's open watch-list flag for staff (null for customers and none) */
json_t *kwh_watch_json(struct kwh_call *x, int64_t org);
/* org's open watch-list flag read with st (any thread that holds st; the
 * writer's inside a unit), or null: none, or the read failed. */
json_t *kwh_watch_flag(struct kw_store *st, int64_t org);
struct kwh_reply kwh_contracts_list(struct kwh_call *x);
struct kwh_reply kwh_contracts_create(struct kwh_call *x);
struct kwh_reply kwh_contract_get(struct kwh_call *x);
struct kwh_reply kwh_contract_patch(struct kwh_call *x);
struct kwh_reply kwh_contract_ledger(struct kwh_call *x);
struct kwh_reply kwh_contract_ledger_verify(struct kwh_call *x);
struct kwh_reply kwh_contract_statement(struct kwh_call *x);
struct kwh_reply kwh_contract_adjust(struct kwh_call *x);
struct kwh_reply kwh_contract_claim(struct kwh_call *x);
struct kwh_reply kwh_contract_settle(struct kwh_call *x);
struct kwh_reply kwh_adjustments_list(struct kwh_call *x);
struct kwh_reply kwh_adjustment_decide(struct kwh_call *x);
/* intake.c: monitoring alerts (app/intake.h) and their sources */
struct kwh_reply kwh_intake_alertmanager(struct kwh_call *x);
struct kwh_reply kwh_intake_grafana(struct kwh_call *x);
struct kwh_reply kwh_intake_events(struct kwh_call *x);
struct kwh_reply kwh_intake_sources_list(struct kwh_call *x);
struct kwh_reply kwh_intake_sources_create(struct kwh_call *x);
struct kwh_reply kwh_intake_source_delete(struct kwh_call *x);
struct kwh_reply kwh_intake_source_patch(struct kwh_call *x);
struct kwh_reply kwh_intake_source_rekey(struct kwh_call *x);
/* mailboxes.c: e-mail in (engine/fetch.h, app/mailin.h) */
struct kwh_reply kwh_mailboxes_list(struct kwh_call *x);
struct kwh_reply kwh_mailboxes_create(struct kwh_call *x);
struct kwh_reply kwh_mailbox_delete(struct kwh_call *x);
struct kwh_reply kwh_mailbox_patch(struct kwh_call *x);
struct kwh_reply kwh_mailbox_test(struct kwh_call *x);

#endif
