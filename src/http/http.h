// SPDX-License-Identifier: MIT
/*
 * http.h - the HTTP API server (libmicrohttpd + jansson), under /api/v1.
 *
 * Bodies are read up to a limit (413 past it); every error is
 * application/problem+json (RFC 9457) with the code's status and title, a
 * one-line detail and, for bad input, a JSON pointer to the field. One line
 * of logfmt per request (and per ticket state change) goes to the log
 * stream. Connections are served by a few event-driven I/O threads
 * (libmicrohttpd's epoll thread pool); a read is answered on them, a write is
 * suspended off them while a handler thread hands it to the one writer
 * thread, which commits in batches and answers only after the commit
 * (store/writer.h). Live streams hold no thread. Connections and streams are
 * limited per client address, per user and overall (struct kw_http_limits).
 */
#ifndef KW_HTTP_H
#define KW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h" /* struct kw_now */
#include "kw_err.h"
#include "kw_log.h"
#include "store.h"

#define KW_HTTP_MAX_BODY (1u << 20) /* bytes of a request body */

struct kw_http; /* opaque */

/* The OpenAPI document served at /api/v1/openapi.json (NUL-terminated JSON);
 * the binary links it in from docs/openapi.json. */
extern const unsigned char kw_openapi[];

/* What one client may hold, and how long a connection may idle; 0 in any
 * field means its default (KW_HTTP_LIMITS_DEFAULT, docs/operations.md). */
struct kw_http_limits {
    unsigned max_connections;         /* open TCP connections in all */
    unsigned max_per_address;         /* connections from one peer address (trusted
                                         proxies are exempt: their clients vary) */
    unsigned max_streams;             /* open /api/v1/stream in all */
    unsigned max_streams_per_user;    /* streams of one user */
    unsigned max_streams_per_address; /* streams of one client address (X-Forwarded-For
                                         from a trusted proxy) */
    unsigned idle_timeout_s;          /* nothing sent or received this long: closed */
    unsigned request_timeout_s;       /* a request's line and headers must arrive within
                                         this of the connection opening or its last reply */
};
#define KW_HTTP_LIMITS_DEFAULT                                                                     \
    ((struct kw_http_limits){.max_connections = 4096,                                              \
                             .max_per_address = 256,                                               \
                             .max_streams = 1024,                                                  \
                             .max_streams_per_user = 8,                                            \
                             .max_streams_per_address = 64,                                        \
                             .idle_timeout_s = 30,                                                 \
                             .request_timeout_s = 15})

/* What the server is given by its composition root (keepword serve): it
 * owns none of them, and they must outlive it. */
struct kw_clocks;
struct kw_signer;

struct kw_http_deps {
    const char *db;           /* readers open their own handles on it */
    struct kw_writer *w;      /* every write goes through it */
    struct kw_clocks *clocks; /* compiled commitments (app/clocks.h) */
    struct kw_engine *engine; /* told when a ticket's next threshold falls due */
    struct kw_now clock;      /* now must be safe to call from any thread */
    const struct kw_log *log; /* copied; may be NULL: no log */
    /* reverse proxies whose X-Forwarded-For is believed, "ADDR[/BITS], ..."
     * (docs/operations.md); NULL or "": none */
    const char *trusted_proxies;
    /* who may read GET /metrics: "loopback" (NULL: the default), "token"
     * (an admin's token) or "off" */
    const char *metrics;
    /* mark session cookies Secure always (the site is served over TLS); they
     * are also when a trusted proxy says X-Forwarded-Proto: https */
    bool secure_cookies;
    /* the Merkle log's signing key (app/proof.h): checkpoints and receipts;
     * NULL: the /log routes and receipts answer 404 */
    const struct kw_signer *signer;
    /* where a mailbox's "test" may connect (engine/fetch.h); NULL: public
     * addresses only */
    const struct kw_nets *allow;
    /* the key mailbox passwords are sealed with (KW_SEAL_KEY_BYTES,
     * borrowed); NULL: mailboxes cannot be created or tested */
    const unsigned char *mail_key;
    struct kw_http_limits limits; /* zeros: the defaults */
    /* bytes of one attachment (0: KW_ATTACHMENT_MAX_DEFAULT, 20 MiB) and of
     * all of a ticket's (0: KW_ATTACHMENT_TICKET_DEFAULT, 200 MiB); serve
     * --max-attachment and --max-ticket-attachments */
    size_t max_attachment;
    int64_t max_ticket_attachments;
};

/* Listen on host:port (an IPv4 address) and serve d->db with d's writer,
 * commitments and engine; the live feed wakes on the writer's commits.
 * NULL with err when the address is bad or taken. */
struct kw_http *kw_http_start(const char *listen, const struct kw_http_deps *d, struct kw_err *err);
/* Stop accepting, finish what is in flight, free what the server made (not
 * its deps). Accepts NULL. */
void kw_http_stop(struct kw_http *h);
/* Issue the receipts due at closure that are still pending (docs/receipts.md),
 * a batch of at most 16, oldest closure first, signing a checkpoint when
 * none covers a closing event; *issued says how many. Safe from any thread;
 * the server's signer calls it after each checkpoint. */
enum kw_code kw_http_issue_receipts(struct kw_http *h, int64_t now, size_t *issued,
                                    struct kw_err *err);
/* The port actually bound (useful with port 0). */
unsigned kw_http_port(const struct kw_http *h);
/* Route i of the server's table (in docs/openapi.json's order): its method
 * and path pattern ("/api/v1/tickets/{id}/events"; its first *path_n bytes:
 * a pattern may go on with its query template), and the query parameters it
 * takes, comma-separated up to a "}" ("after,limit}", "}" for none); static
 * strings; false past the last. For `serve --help` and the OpenAPI check. */
bool kw_http_route(size_t i, const char **method, const char **path, int *path_n,
                   const char **query);

#endif
