// SPDX-License-Identifier: MIT
/*
 * internal.h - what the HTTP layer's files share (not an interface).
 *
 * Threads: libmicrohttpd runs each connection on its own thread. A request
 * takes a worker (a read-only use of its own store handle plus clock
 * scratch) from a pool for its duration, and hands every write to the
 * group-commit writer (store/writer.h), whose units run on the writer thread
 * with the writer's handle and scratch. Compiled commitments are shared
 * (engine/clocks.h). After a write that changed a ticket's clocks, the
 * handler tells the engine when the ticket's next threshold falls due.
 */
#ifndef KW_HTTP_INTERNAL_H
#define KW_HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "calendar.h"
#include "clocks.h"
#include "engine.h"
#include "http.h"
#include "kw_buf.h"
#include "policy.h"
#include "sla.h"
#include "store.h"
#include "tz.h"
#include "writer.h"

/* What one request thread uses: a store handle and clock scratch. */
struct worker {
    struct kw_store *st;
    struct kw_sla sla;
    struct worker *next;
};

#define LOGIN_SLOTS 1024

struct login_slot {
    uint64_t key; /* hash of "e:" email or "a:" address; 0 = free */
    int64_t since;
    unsigned failures;
};

/* Tickets changed by recent commits (web.c), for the live streams. */
#define FEED_RING 8192
struct feed {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    uint64_t seq;      /* how many changes so far; ring[i % FEED_RING] */
    uint64_t reset_at; /* changes before this were lost: streams behind it reset */
    bool stop;
    int64_t ring[FEED_RING];
};
void feed_init(struct feed *f);
void feed_destroy(struct feed *f);
/* A kw_commit_fn (writer.h) with ctx the feed. */
void feed_publish(const int64_t *tickets, size_t n, bool lost, void *ctx);
/* End the streams (at shutdown). */
void feed_stop(struct feed *f);

struct kw_http {
    struct MHD_Daemon *d;
    char db[512];
    struct kw_writer *w;
    struct kw_now clock;
    unsigned port;
    FILE *log;
    pthread_mutex_t pool_mu;
    struct worker *idle;
    size_t n_idle;            /* kept up to IDLE_WORKERS; more are closed when given back */
    struct kw_clocks *clocks; /* compiled commitments, the tz database */
    struct kw_engine *engine; /* timers: what falls due, and the outbox */
    struct kw_sla wsla;       /* scratch of the writer's units (one thread) */
    pthread_mutex_t login_mu;
    struct login_slot logins[LOGIN_SLOTS];
    struct feed feed;
};

enum role { R_ADMIN, R_MANAGER, R_AGENT, R_CUSTOMER };
#define ROLE(r) (1u << (r))
#define STAFF (ROLE(R_ADMIN) | ROLE(R_MANAGER) | ROLE(R_AGENT))
#define MANAGERS (ROLE(R_ADMIN) | ROLE(R_MANAGER))

struct caller {
    int64_t id, org_id, team_id;
    enum role role;
    bool customer;
    bool cookie; /* signed in by the browser's session cookie (then CSRF-checked) */
};

/* One request in flight: its body, and when it started. */
struct req {
    struct kw_buf body;
    bool too_big;
    struct timespec t0;
};

struct reply {
    unsigned status;
    json_t *json;      /* owned; or NULL with text */
    char *text;        /* owned, a non-JSON body (letter, .ics) */
    const char *ctype; /* of text */
    bool problem;      /* application/problem+json */
};

struct call {
    struct kw_http *h;
    struct MHD_Connection *c;
    const struct req *r;
    const char *method;
    struct worker *wk;
    int64_t now;
    struct caller me; /* after authenticate() */
    char *set_cookie; /* a Set-Cookie header for the reply (owned), or NULL */
};

/* A ticket as the API shows it, with its projected clocks (tickets.c). */
json_t *ticket_with_clocks(struct kw_http *h, struct kw_store *st, const struct kw_ticket_row *t,
                           int64_t now);

/* ---- replies (server.c) ---- */
struct reply problem(const struct kw_err *err);
struct reply problem_of(enum kw_code code, const char *field, const char *msg);
struct reply problemf(enum kw_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct reply ok(unsigned status, json_t *j);
struct reply ok_text(const char *ctype, char *text);

/* Queue rep (consumed) with set_cookie (may be NULL). */
enum MHD_Result send_reply(struct MHD_Connection *c, struct reply *rep, const char *set_cookie);
struct worker *worker_take(struct kw_http *h, struct kw_err *err);
void worker_give(struct kw_http *h, struct worker *wk);

/* ---- the browser's side (web.c) ---- */
/* The page or asset at url into out; false when url is none of them. */
bool web_asset(const char *url, struct reply *out);
/* GET /api/v1/stream: the live feed as Server-Sent Events. */
enum MHD_Result web_stream(struct call *x);

/* ---- request helpers (server.c) ---- */
bool is_method(const struct call *x, const char *m);
json_t *body_object(const struct call *x, struct reply *fail);
/* Log in the caller from the bearer token into x->me; 401 otherwise. */
bool authenticate(struct call *x, struct reply *fail);
/* authenticate, then require one of the roles in mask (403 with why). */
bool authorise(struct call *x, unsigned mask, const char *why, struct reply *fail);
/* A query parameter: whole number in [lo, hi] or absent (keeps *out). */
bool query_int(const struct call *x, const char *name, long long lo, long long hi, long long *out,
               struct reply *fail);
const char *query(const struct call *x, const char *name);
/* An optional string member of at most max bytes (NULL when absent). */
bool opt_string(json_t *j, const char *key, size_t max, const char **out, struct reply *fail);
/* An optional id member (> 0), or null when nullable (then *out = -1). */
bool opt_id(json_t *j, const char *key, bool nullable, int64_t *out, struct reply *fail);
/* Refuse members not in keys (NULL-terminated): 400 naming the first. */
bool only_members(json_t *j, const char *const *keys, struct reply *fail);
/* Run fn on the writer; false with the problem when it failed. */
bool write_unit(struct call *x, kw_write_fn fn, void *ctx, struct reply *fail);
void log_event(struct kw_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

json_t *instant_json(int64_t t); /* null for KW_STORE_NO_TIME */
json_t *nullable(const char *s);
json_t *id_or_null(int64_t id);
void hex(const unsigned char *b, size_t n, char *out);

/* The compiled commitment id (built on first use with st). */
const struct kw_compiled *policy_for(struct kw_http *h, struct kw_store *st, int64_t id,
                                     struct kw_err *err);

/* ---- handlers ---- */
struct reply tickets_route(struct call *x, const char *rest); /* tickets.c, after /tickets */
/* Project the clocks of every ticket whose projection is stale (at start). */
enum kw_code tickets_catch_up(struct kw_http *h, struct kw_store *st, int64_t now, size_t *done,
                              struct kw_err *err);
struct reply admin_route(struct call *x, const char *path, bool *matched);    /* admin.c */
struct reply notify_route(struct call *x, const char *path, bool *matched);   /* notify.c */
struct reply oncall_route(struct call *x, const char *path, bool *matched);   /* oncall.c */
struct reply overruns_route(struct call *x, const char *path, bool *matched); /* overruns.c */

#endif
