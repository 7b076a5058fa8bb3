// SPDX-License-Identifier: MIT
/*
 * metrics.c - GET /metrics in the Prometheus text format (version 0.0.4):
 * requests by route and status with a latency histogram, the writer's
 * batches and commit times, the engine's timers, firings, lateness and
 * deliveries, open streams, tickets by state and the outbox by state.
 * Who may read it: loopback clients only (the default), holders of an
 * admin's token, or nobody (`serve --metrics`, docs/operations.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const unsigned statuses[KWH_STATUS_N - 1] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                                    409, 413, 415, 422, 429, 500, 503, 504};
static const double lat_le[KWH_LAT_N - 1] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,   0.25,   0.5,   1,    2.5};

bool kwh_metrics_init(struct kwh_metrics *m, enum kwh_metrics_access access)
{
    m->access = access;
    m->n = kwh_route_count() + 2;
    m->by = calloc(m->n, sizeof(*m->by));
    atomic_init(&m->streams, 0);
    return m->by != NULL;
}

void kwh_metrics_free(struct kwh_metrics *m)
{
    free(m->by);
    m->by = NULL;
}

/* The slot of a route index: the table's routes, then page, then none. */
static size_t slot_of(const struct kwh_metrics *m, int route)
{
    if (route >= 0 && (size_t)route < m->n - 2)
        return (size_t)route;
    return route == KWH_ROUTE_PAGE ? m->n - 2 : m->n - 1;
}

void kwh_metrics_observe(struct kwh_metrics *m, int route, unsigned status, double seconds)
{
    if (!m->by)
        return;
    struct kwh_route_metrics *r = &m->by[slot_of(m, route)];
    size_t s = 0;
    while (s < KWH_STATUS_N - 1 && statuses[s] != status)
        s++;
    atomic_fetch_add_explicit(&r->status[s], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < KWH_LAT_N - 1 && seconds > lat_le[b])
        b++;
    atomic_fetch_add_explicit(&r->lat[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, (uint64_t)(seconds * 1e6), memory_order_relaxed);
}

static void route_labels(const struct kwh_metrics *m, size_t i, char *buf, size_t cap)
{
    const char *method, *path, *query;
    int n;
    if (i < m->n - 2 && kw_http_route(i, &method, &path, &n, &query))
        snprintf(buf, cap, "method=\"%s\",route=\"%.*s\"", method, n, path);
    else
        snprintf(buf, cap, "method=\"\",route=\"%s\"", i == m->n - 2 ? "page" : "unmatched");
}

static void put_requests(struct kw_buf *b, const struct kwh_metrics *m)
{
    char labels[200];
    kw_buf_printf(
        b, "# HELP keepword_http_requests_total HTTP requests answered, by route and status.\n"
           "# TYPE keepword_http_requests_total counter\n");
    for (size_t i = 0; i < m->n; i++) {
        route_labels(m, i, labels, sizeof(labels));
        for (size_t s = 0; s < KWH_STATUS_N; s++) {
            uint64_t v = atomic_load_explicit(&m->by[i].status[s], memory_order_relaxed);
            if (!v)
                continue;
            if (s < KWH_STATUS_N - 1)
                kw_buf_printf(b, "keepword_http_requests_total{%s,status=\"%u\"} %llu\n", labels,
                              statuses[s], (unsigned long long)v);
            else
                kw_buf_printf(b, "keepword_http_requests_total{%s,status=\"other\"} %llu\n", labels,
                              (unsigned long long)v);
        }
    }
    kw_buf_printf(
        b, "# HELP keepword_http_request_duration_seconds Time from the request's first byte "
           "to its answer, by route.\n"
           "# TYPE keepword_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n; i++) {
        uint64_t cum = 0, lat[KWH_LAT_N];
        for (size_t k = 0; k < KWH_LAT_N; k++) {
            lat[k] = atomic_load_explicit(&m->by[i].lat[k], memory_order_relaxed);
            cum += lat[k];
        }
        if (!cum)
            continue;
        route_labels(m, i, labels, sizeof(labels));
        cum = 0;
        for (size_t k = 0; k < KWH_LAT_N; k++) {
            cum += lat[k];
            if (k < KWH_LAT_N - 1)
                kw_buf_printf(b,
                              "keepword_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
                              labels, lat_le[k], (unsigned long long)cum);
            else
                kw_buf_printf(
                    b, "keepword_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
                    labels, (unsigned long long)cum);
        }
        kw_buf_printf(b, "keepword_http_request_duration_seconds_sum{%s} %.6f\n", labels,
                      (double)atomic_load_explicit(&m->by[i].sum_us, memory_order_relaxed) / 1e6);
        kw_buf_printf(b, "keepword_http_request_duration_seconds_count{%s} %llu\n", labels,
                      (unsigned long long)cum);
    }
}

static void put_hist(struct kw_buf *b, const char *name, const char *help, const double *le,
                     double scale, const uint64_t *hist, size_t n, double sum)
{
    kw_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (size_t k = 0; k < n; k++) {
        cum += hist[k];
        if (k < n - 1)
            kw_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, le[k] * scale,
                          (unsigned long long)cum);
        else
            kw_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    kw_buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

static void put_writer(struct kw_buf *b, struct kw_writer *w)
{
    struct kw_writer_stats ws;
    kw_writer_stats(w, &ws);
    kw_buf_printf(
        b,
        "# HELP keepword_writer_units_total Units of work (writes) committed by the writer.\n"
        "# TYPE keepword_writer_units_total counter\nkeepword_writer_units_total %llu\n"
        "# HELP keepword_writer_largest_batch The most units one commit has held.\n"
        "# TYPE keepword_writer_largest_batch gauge\nkeepword_writer_largest_batch %llu\n"
        "# HELP keepword_writer_work_seconds_total Time the writer spent running units.\n"
        "# TYPE keepword_writer_work_seconds_total counter\n"
        "keepword_writer_work_seconds_total %.6f\n",
        (unsigned long long)ws.units, (unsigned long long)ws.largest, (double)ws.work_ns / 1e9);
    put_hist(b, "keepword_writer_batch_units", "Units per commit (group commit).",
             kw_writer_batch_le, 1, ws.batch_hist, KW_WRITER_BATCH_BUCKETS, (double)ws.units);
    put_hist(b, "keepword_writer_commit_seconds", "Time to commit a batch (the fsync).",
             kw_writer_commit_le_ms, 1e-3, ws.commit_hist, KW_WRITER_COMMIT_BUCKETS,
             (double)ws.commit_ns / 1e9);
}

static void put_engine(struct kw_buf *b, struct kw_engine *e)
{
    struct kw_engine_stats es;
    kw_engine_stats(e, &es);
    kw_buf_printf(
        b,
        "# HELP keepword_engine_timers Tickets with a threshold to fire (timer entries).\n"
        "# TYPE keepword_engine_timers gauge\nkeepword_engine_timers %zu\n"
        "# HELP keepword_engine_fired_total Tickets fired (warnings, breaches, steps).\n"
        "# TYPE keepword_engine_fired_total counter\nkeepword_engine_fired_total %llu\n"
        "# HELP keepword_engine_events_total Events the engine appended.\n"
        "# TYPE keepword_engine_events_total counter\nkeepword_engine_events_total %llu\n",
        es.entries, (unsigned long long)es.fired, (unsigned long long)es.events);
    kw_buf_printf(
        b,
        "# HELP keepword_engine_lateness_seconds From a threshold's due second to the commit "
        "that fired it, over the last %zu firings.\n"
        "# TYPE keepword_engine_lateness_seconds summary\n"
        "keepword_engine_lateness_seconds{quantile=\"0.5\"} %.3f\n"
        "keepword_engine_lateness_seconds{quantile=\"0.9\"} %.3f\n"
        "keepword_engine_lateness_seconds{quantile=\"0.99\"} %.3f\n"
        "keepword_engine_lateness_seconds{quantile=\"1\"} %.3f\n"
        "keepword_engine_lateness_seconds_count %llu\n",
        es.late.window, es.late.p50_ms / 1e3, es.late.p90_ms / 1e3, es.late.p99_ms / 1e3,
        es.late.max_ms / 1e3, (unsigned long long)es.late.count);
    kw_buf_printf(b,
                  "# HELP keepword_deliveries_total Notification delivery attempts, by outcome.\n"
                  "# TYPE keepword_deliveries_total counter\n"
                  "keepword_deliveries_total{outcome=\"ok\"} %llu\n"
                  "keepword_deliveries_total{outcome=\"failed\"} %llu\n",
                  (unsigned long long)es.delivered, (unsigned long long)es.failed);
}

struct census {
    struct kw_buf *b;
    const char *table; /* the last table written a header for */
};

static void census_row(const char *table, const char *state, int64_t n, void *ctx)
{
    struct census *c = ctx;
    bool tickets = strcmp(table, "tickets") == 0;
    if (!c->table || strcmp(c->table, table) != 0) {
        c->table = tickets ? "tickets" : "outbox";
        if (tickets)
            kw_buf_printf(c->b, "# HELP keepword_tickets Tickets by state.\n"
                                "# TYPE keepword_tickets gauge\n");
        else
            kw_buf_printf(c->b, "# HELP keepword_outbox Notifications by state (pending is the "
                                "outbox's depth).\n# TYPE keepword_outbox gauge\n");
    }
    /* states are the workflow's and the outbox's own words: no quoting needed,
     * but nothing else may pass into the label */
    char safe[48];
    size_t k = 0;
    for (const char *p = state ? state : ""; *p && k < sizeof(safe) - 1; p++)
        safe[k++] = (*p >= 'a' && *p <= 'z') || *p == '_' ? *p : '_';
    safe[k] = '\0';
    kw_buf_printf(c->b, "keepword_%s{state=\"%s\"} %lld\n", tickets ? "tickets" : "outbox", safe,
                  (long long)n);
}

static bool loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

struct kwh_reply kwh_metrics_get(struct kwh_call *x)
{
    struct kwh_metrics *m = &x->h->metrics;
    struct kwh_reply fail;
    char addr[64];
    switch (m->access) {
    case KWH_METRICS_OFF:
        return kwh_problem_of(KW_NOT_FOUND, "", "metrics are switched off (serve --metrics off)");
    case KWH_METRICS_LOOPBACK:
        kwh_client_address(x->h, x->c, addr, sizeof(addr));
        if (!loopback(addr))
            return kwh_problem_of(KW_FORBIDDEN, "",
                                  "metrics are served to loopback clients only (serve --metrics)");
        break;
    case KWH_METRICS_TOKEN:
        if (!kwh_authenticate(x, &fail))
            return fail;
        if (x->me.role != R_ADMIN)
            return kwh_problem_of(KW_FORBIDDEN, "", "metrics are for admins");
        break;
    }
    struct kw_buf b = {.max = 4u << 20};
    put_requests(&b, m);
    kw_buf_printf(&b,
                  "# HELP keepword_streams Open live streams (/api/v1/stream).\n"
                  "# TYPE keepword_streams gauge\nkeepword_streams %lld\n",
                  (long long)atomic_load(&m->streams));
    put_writer(&b, x->h->w);
    if (x->h->engine)
        put_engine(&b, x->h->engine);
    struct kw_err err = {0};
    struct census c = {.b = &b};
    enum kw_code rc = kw_store_census(x->wk->st, census_row, &c, &err);
    kw_store_end_read(x->wk->st);
    if (rc != KW_OK || b.failed) {
        kw_buf_release(&b);
        return rc != KW_OK ? kwh_problem(&err)
                           : kwh_problem_of(KW_NOMEM, "", "no memory for the metrics");
    }
    kw_buf_add(&b, "", 1); /* NUL */
    return kwh_ok_text("text/plain; version=0.0.4; charset=utf-8", b.p);
}
