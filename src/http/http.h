// SPDX-License-Identifier: MIT
/*
 * http.h - the HTTP API server (libmicrohttpd + jansson), under /api/v1.
 *
 * Bodies are read up to a limit (413 past it); every error is
 * application/problem+json (RFC 9457) with the code's status and title, a
 * one-line detail and, for bad input, a JSON pointer to the field. One line
 * of logfmt per request (and per ticket state change) goes to the log
 * stream. Each connection is served on its own thread with its own read
 * handle on the database; every write goes through one writer thread that
 * commits in batches and answers only after the commit (store/writer.h).
 */
#ifndef KW_HTTP_H
#define KW_HTTP_H

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

/* Listen on host:port (an IPv4 address) and serve the database at db
 * (opened here: one writer, readers as needed). clock.now must be safe to
 * call from any thread. log (copied) may be NULL. NULL with err when the address is
 * bad or taken, or the database cannot be opened. */
struct kw_http *kw_http_start(const char *listen, const char *db, struct kw_now clock,
                              const struct kw_log *log, struct kw_err *err);
/* Stop accepting, finish what is in flight, free. Accepts NULL. */
void kw_http_stop(struct kw_http *h);
/* The port actually bound (useful with port 0). */
unsigned kw_http_port(const struct kw_http *h);
/* The group-commit writer's figures so far (store/writer.h). */
struct kw_writer_stats;
void kw_http_writer_stats(struct kw_http *h, struct kw_writer_stats *out);

#endif
