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
struct kwh_worker {
    struct kw_store *st;
    struct kw_sla sla;
    struct kwh_worker *next;
};

#define LOGIN_SLOTS 1024

struct kwh_login_slot {
    uint64_t key; /* hash of "e:" email or "a:" address; 0 = free */
    int64_t since;
    unsigned failures;
};

/* Tickets changed by recent commits (web.c), for the live streams. */
#define FEED_RING 8192
struct kwh_feed {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    uint64_t seq;      /* how many changes so far; ring[i % FEED_RING] */
    uint64_t reset_at; /* changes before this were lost: streams behind it reset */
    bool stop;
    int64_t ring[FEED_RING];
};
void kwh_feed_init(struct kwh_feed *f);
void kwh_feed_destroy(struct kwh_feed *f);
/* A kw_commit_fn (writer.h) with ctx the feed. */
void kwh_feed_publish(const int64_t *tickets, size_t n, bool lost, void *ctx);
/* End the streams (at shutdown). */
void kwh_feed_stop(struct kwh_feed *f);

struct kw_http {
    struct MHD_Daemon *d;
    char db[512];
    struct kw_writer *w;
    struct kw_now clock;
    unsigned port;
    struct kw_log log; /* copied at start; log.out NULL: none */
    pthread_mutex_t pool_mu;
    struct kwh_worker *idle;
    size_t n_idle;            /* kept up to IDLE_WORKERS; more are closed when given back */
    struct kw_clocks *clocks; /* compiled commitments, the tz database */
    struct kw_engine *engine; /* timers: what falls due, and the outbox */
    struct kw_sla wsla;       /* scratch of the writer's units (one thread) */
    pthread_mutex_t login_mu;
    struct kwh_login_slot logins[LOGIN_SLOTS];
    struct kwh_feed feed;
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

/* One request in flight: its body, and when it started. */
struct kwh_req {
    struct kw_buf body;
    bool too_big;
    struct timespec t0;
};

struct kwh_reply {
    unsigned status;
    json_t *json;      /* owned; or NULL with text */
    char *text;        /* owned, a non-JSON body (letter, .ics) */
    const char *ctype; /* of text */
    bool problem;      /* application/problem+json */
};

struct kwh_call {
    struct kw_http *h;
    struct MHD_Connection *c;
    const struct kwh_req *r;
    const char *method;
    struct kwh_worker *wk;
    int64_t now;
    struct kwh_caller me; /* after kwh_authenticate() */
    char *set_cookie;     /* a Set-Cookie header for the reply (owned), or NULL */
};

/* A ticket as the API shows it, with its projected clocks (tickets.c). */
json_t *kwh_ticket_with_clocks(struct kw_http *h, struct kw_store *st,
                               const struct kw_ticket_row *t, int64_t now);

/* ---- replies (server.c) ---- */
struct kwh_reply kwh_problem(const struct kw_err *err);
struct kwh_reply kwh_problem_of(enum kw_code code, const char *field, const char *msg);
struct kwh_reply kwh_problemf(enum kw_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct kwh_reply kwh_ok(unsigned status, json_t *j);
struct kwh_reply kwh_ok_text(const char *ctype, char *text);

/* Queue rep (consumed) with set_cookie (may be NULL). */
enum MHD_Result kwh_send_reply(struct MHD_Connection *c, struct kwh_reply *rep,
                               const char *set_cookie);
struct kwh_worker *kwh_worker_take(struct kw_http *h, struct kw_err *err);
void kwh_worker_give(struct kw_http *h, struct kwh_worker *wk);

/* ---- the browser's side (web.c) ---- */
/* The page or asset at url into out; false when url is none of them. */
bool kwh_web_asset(const char *url, struct kwh_reply *out);
/* GET /api/v1/stream: the live feed as Server-Sent Events. */
enum MHD_Result kwh_web_stream(struct kwh_call *x);

/* ---- request helpers (server.c) ---- */
bool kwh_is_method(const struct kwh_call *x, const char *m);
json_t *kwh_body_object(const struct kwh_call *x, struct kwh_reply *fail);
/* Log in the caller from the bearer token into x->me; 401 otherwise. */
bool kwh_authenticate(struct kwh_call *x, struct kwh_reply *fail);
/* authenticate, then require one of the roles in mask (403 with why). */
bool kwh_authorise(struct kwh_call *x, unsigned mask, const char *why, struct kwh_reply *fail);
/* A query parameter: whole number in [lo, hi] or absent (keeps *out). */
bool kwh_query_int(const struct kwh_call *x, const char *name, long long lo, long long hi,
                   long long *out, struct kwh_reply *fail);
const char *kwh_query(const struct kwh_call *x, const char *name);
/* An optional string member of at most max bytes (NULL when absent). */
bool kwh_opt_string(json_t *j, const char *key, size_t max, const char **out,
                    struct kwh_reply *fail);
/* An optional id member (> 0), or null when nullable (then *out = -1). */
bool kwh_opt_id(json_t *j, const char *key, bool nullable, int64_t *out, struct kwh_reply *fail);
/* Refuse members not in keys (NULL-terminated): 400 naming the first. */
bool kwh_only_members(json_t *j, const char *const *keys, struct kwh_reply *fail);
/* Run fn on the writer; false with the problem when it failed. */
bool kwh_write_unit(struct kwh_call *x, kw_write_fn fn, void *ctx, struct kwh_reply *fail);
void kwh_log_event(struct kw_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

json_t *kwh_instant_json(int64_t t); /* null for KW_STORE_NO_TIME */
json_t *kwh_nullable(const char *s);
json_t *kwh_id_or_null(int64_t id);
void kwh_hex(const unsigned char *b, size_t n, char *out);

/* The compiled commitment id (built on first use with st). */
const struct kw_compiled *kwh_policy_for(struct kw_http *h, struct kw_store *st, int64_t id,
                                         struct kw_err *err);

/* ---- handlers ---- */
struct kwh_reply kwh_tickets_route(struct kwh_call *x,
                                   const char *rest); /* tickets.c, after /tickets */
/* Project the clocks of every ticket whose projection is stale (at start). */
enum kw_code kwh_tickets_catch_up(struct kw_http *h, struct kw_store *st, int64_t now, size_t *done,
                                  struct kw_err *err);
struct kwh_reply kwh_admin_route(struct kwh_call *x, const char *path, bool *matched); /* admin.c */
struct kwh_reply kwh_notify_route(struct kwh_call *x, const char *path,
                                  bool *matched); /* notify.c */
struct kwh_reply kwh_oncall_route(struct kwh_call *x, const char *path,
                                  bool *matched); /* oncall.c */
struct kwh_reply kwh_overruns_route(struct kwh_call *x, const char *path,
                                    bool *matched); /* overruns.c */

#endif
