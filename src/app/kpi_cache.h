// SPDX-License-Identifier: MIT
/*
 * kpi_cache.h - the KPI facts' clock runs (kpi_runs) kept in memory by a
 * server, as compact records, for GET /kpis (docs/kpi.md, performance).
 *
 * The table is loaded from the store on first use and kept current from the
 * store's change log: every write of a ticket's runs notes the ticket there
 * (kw_store_runs_put), so before each answer the tickets changed since the
 * table's watermark are read again. Changes pruned before they were read (a
 * `kpi rebuild`, a long pause) reload the whole table. One record is 52
 * bytes: instants as seconds from 2000-01-01 in 32 bits, the run's strings
 * and dimension ids as one interned "shape" id. A run that does not fit
 * (an instant outside 1932-2068, an id or a duration past 2^31) turns the
 * table off: the runs are then read from the store, as without it.
 * Beside the runs: one record a ticket (its attributes, creation, states
 * and dated facts: resolved, reopened, rated, time spent), kept current
 * the same way, for the ticket counts, ratings and time spent.
 * Thread-safe: one table per process, shared by the HTTP workers.
 */
#ifndef KW_KPI_CACHE_H
#define KW_KPI_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"
#include "store.h"

struct kw_kpi_cache;

/* An empty table (loaded on first use); NULL when out of memory. */
struct kw_kpi_cache *kw_kpi_cache_new(void);
/* Accepts NULL. */
void kw_kpi_cache_free(struct kw_kpi_cache *c);

/* As kw_store_runs(st, f, ...) with f->any_order (f->ticket 0): the runs
 * that may count in [f->from, f->to) of f->org_id's tickets (0: all), as
 * of the store's change log head read now (never older). The table is
 * brought up to date with st first (st: the caller's reading handle; the
 * load of a whole table reads every run, once). The row lives during fn;
 * fn must not call this again. c NULL: the store is read. */
enum kw_code kw_kpi_cache_runs(struct kw_kpi_cache *c, struct kw_store *st,
                               const struct kw_run_filter *f,
                               bool (*fn)(const struct kw_run_row *r, void *ctx), void *ctx,
                               struct kw_err *err);

/* As kw_kpi_cache_runs, fn also told each run's shape: an id that two
 * runs of the call share only when every field of theirs but the ticket,
 * run, instants and durations is the same (metric, status, calendar,
 * organisation, commitment version, team, assignee and the attribute
 * strings), so a caller can keep what it derives from those once a
 * shape (its group, its metric); ids are small (they count up from 0).
 * KW_KPI_NO_SHAPE for every row when the runs are read from the store. */
#define KW_KPI_NO_SHAPE UINT32_MAX
enum kw_code
kw_kpi_cache_runs_shaped(struct kw_kpi_cache *c, struct kw_store *st, const struct kw_run_filter *f,
                         bool (*fn)(const struct kw_run_row *r, uint32_t shape, void *ctx),
                         void *ctx, struct kw_err *err);

/* As kw_kpi_cache_runs_shaped, read by two threads when there are many
 * runs: fn[0] (with ctx[0]) on the caller's thread, fn[1] (ctx[1]) on
 * another, each given about half of the runs, in no set order (each once).
 * Before, under the table's read lock, prepare(c, nshapes, ctx[0]) may
 * derive what it needs once a shape (shape ids are below nshapes;
 * kw_kpi_cache_shape_row gives a shape's fields), so that fn[1] reads
 * nothing else shared; false: fn[0] gets every run. After both, still
 * under the lock, join(c, ctx[0]) takes in what fn[1] counted. *split
 * tells whether fn[1], prepare and join were used. c NULL, or the table
 * off or not loaded: fn[0] gets the store's rows (no shape). */
struct kw_kpi_halves {
    bool (*prepare)(const struct kw_kpi_cache *c, size_t nshapes, void *ctx);
    bool (*fn[2])(const struct kw_run_row *r, uint32_t shape, void *ctx);
    void *ctx[2];
    void (*join)(const struct kw_kpi_cache *c, void *ctx);
};
enum kw_code kw_kpi_cache_runs_halves(struct kw_kpi_cache *c, struct kw_store *st,
                                      const struct kw_run_filter *f, const struct kw_kpi_halves *hv,
                                      bool *split, struct kw_err *err);
/* For tests: kw_kpi_cache_runs_halves splits from n records to read on
 * (0: the default, 16,384; the environment's KEEPWORD_KPI_SPLIT_MIN sets
 * it for a server). */
void kw_kpi_cache_split_min(struct kw_kpi_cache *c, size_t n);
/* That number (c NULL: the default), for GET /kpis' other work in two
 * threads (its figures, from 4 values a record on). */
size_t kw_kpi_cache_split_at(const struct kw_kpi_cache *c);
/* The fields of a run of that shape (metric, status, calendar, ids and
 * attribute strings; no ticket, run, instants or durations): under the
 * read lock (prepare, join). */
void kw_kpi_cache_shape_row(const struct kw_kpi_cache *c, uint32_t shape, struct kw_run_row *r);
/* Runs measured again from their ticket's events as of an instant (GET
 * /kpis: a run that breached in a bucket and had not stopped at its end),
 * kept for the next answers until the ticket is read again from the
 * change log (any event of it, or its runs written again) or the table is
 * loaded again (past 131,072 kept, all are dropped). `with`: what the measure was made with (the
 * compiled commitment version, which a calendar's new version replaces), part of the key.
 * kw_kpi_cache_measured: true when the measure of (ticket, commitment version, metric, run) as of
 * `at` is kept: *found whether the run had started then, and then the run as it stood in *out (its
 * strings live as long as c); false otherwise, with *tag set for kw_kpi_cache_measure_keep, which
 * keeps the measure made after (r NULL: not started; r's strings are copied) unless the ticket
 * changed since the tag was taken. Thread-safe; c NULL: nothing kept. */
bool kw_kpi_cache_measured(struct kw_kpi_cache *c, int64_t ticket, int64_t commitment,
                           const void *with, const char *metric, int64_t run, int64_t at,
                           struct kw_run_row *out, bool *found, uint64_t *tag);
void kw_kpi_cache_measure_keep(struct kw_kpi_cache *c, uint64_t tag, int64_t ticket,
                               int64_t commitment, const void *with, const char *metric,
                               int64_t run, int64_t at, const struct kw_run_row *r);

/* Scratch memory for an answer's arrays, kept mapped between answers so
 * that its pages, once faulted in, are not faulted in (and zeroed) again
 * at each GET: kw_kpi_cache_scratch gives a mapping of at least `bytes`
 * (contents unspecified; *size its length), NULL when out of memory;
 * kw_kpi_cache_scratch_give hands it back (up to two are kept, the rest
 * unmapped). Thread-safe; c NULL: mapped and unmapped each time. */
void *kw_kpi_cache_scratch(struct kw_kpi_cache *c, size_t bytes, size_t *size);
/* What GET /kpis takes for an answer's arrays, for `runs` runs in the table
 * (kw_kpi_cache_warm maps it and faults it in once loaded). */
#define KW_KPI_SCRATCH_BYTES(runs) (48 * (size_t)(runs) + ((size_t)2 << 20))
void kw_kpi_cache_scratch_give(struct kw_kpi_cache *c, void *p, size_t size);

/* As kw_store_ticket_facts(st, KW_TF_CREATED, ...) and
 * kw_store_ticket_backlog: the tickets created in [from, to), and those
 * open at each of ends[0..n), from the tickets' facts kept beside the runs
 * (the same rows in the same order), current as kw_kpi_cache_runs is. */
enum kw_code kw_kpi_cache_created(struct kw_kpi_cache *c, struct kw_store *st, int64_t from,
                                  int64_t to, int64_t org_id,
                                  bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                  void *ctx, struct kw_err *err);
enum kw_code kw_kpi_cache_backlog(struct kw_kpi_cache *c, struct kw_store *st, const int64_t *ends,
                                  size_t n, int64_t org_id,
                                  bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                  void *ctx, struct kw_err *err);
/* The tickets created in [starts[0], to) counted by bucket and shape
 * (their attributes), bucket i the last whose start is not after the
 * creation (starts ascending, to after the last): for each shape and
 * bucket with any, fn gets a row of that shape (ticket_id and at 0), i and
 * how many; in no set order. *counted false when they were not counted (c
 * NULL, off, not loaded, starts not ascending, the tally too big): then
 * list the rows with kw_kpi_cache_created. */
enum kw_code kw_kpi_cache_created_counts(struct kw_kpi_cache *c, struct kw_store *st,
                                         const int64_t *starts, size_t n, int64_t to,
                                         int64_t org_id,
                                         bool (*fn)(const struct kw_ticket_fact_row *r,
                                                    size_t bucket, uint32_t count, void *ctx),
                                         void *ctx, bool *counted, struct kw_err *err);

/* kw_kpi_cache_backlog counted rather than listed (no row per open
 * ticket): for each end i and each shape of ticket attributes with tickets
 * open at ends[i], fn gets a row of that shape (ticket_id and at 0, as_of
 * ends[i]), i, and how many by age (ends[i] - created): counts[a] those
 * below ages[a] and not below ages[a - 1], counts[KW_KPI_AGES - 1] the
 * rest; in no set order. ends ascending. *counted false when they were not
 * counted (c NULL, off, not loaded, ends not ascending, the tally too big):
 * then list the rows with kw_kpi_cache_backlog. */
#define KW_KPI_AGES 4
enum kw_code kw_kpi_cache_backlog_counts(struct kw_kpi_cache *c, struct kw_store *st,
                                         const int64_t *ends, size_t n, int64_t org_id,
                                         const int64_t ages[KW_KPI_AGES - 1],
                                         bool (*fn)(const struct kw_ticket_fact_row *r, size_t end,
                                                    const uint32_t counts[KW_KPI_AGES], void *ctx),
                                         void *ctx, bool *counted, struct kw_err *err);

/* As kw_store_ticket_facts(st, kind, from, to, org_id, ...) for the kinds
 * KW_TF_RESOLVED, KW_TF_REOPENED, KW_TF_RATED and KW_TF_TIME (the same rows,
 * fn told each one's kind), from the tickets' dated facts kept beside their
 * states (kw_store_ticket_marks), current as kw_kpi_cache_runs is: in
 * ticket order, then kind and time (the store's: kind by kind). */
enum kw_code kw_kpi_cache_marks(struct kw_kpi_cache *c, struct kw_store *st, int64_t from,
                                int64_t to, int64_t org_id,
                                bool (*fn)(enum kw_ticket_fact kind,
                                           const struct kw_ticket_fact_row *r, void *ctx),
                                void *ctx, struct kw_err *err);

/* Load the table now unless it is loaded (a server's warm-up thread, with
 * a handle of its own), so the first GET /kpis does not wait for it, and
 * fault in the scratch its arrays take (KW_KPI_SCRATCH_BYTES, kept: RSS). Gives
 * up between two pages once kw_kpi_cache_cancel was called. */
enum kw_code kw_kpi_cache_warm(struct kw_kpi_cache *c, struct kw_store *st, struct kw_err *err);
/* Stop a load under way (the server is stopping); any thread. */
void kw_kpi_cache_cancel(struct kw_kpi_cache *c);

/* What the table holds, for logs and benchmarks. */
struct kw_kpi_cache_stats {
    size_t runs, tickets, shapes, strings;
    size_t facts, states; /* tickets whose facts are kept, their states */
    size_t marks;         /* their dated facts (resolved, reopened, rated, time) */
    size_t bytes;         /* allocated for records, index and interned values */
    int64_t watermark;    /* the change log's seq it is current to */
    int64_t load_ms;      /* the last full load's wall time */
    uint64_t loads, deltas;
    size_t measures, measure_hits; /* runs measured again kept, and answers taken from them */
    bool off;                      /* a run did not fit: the store is read */
};
void kw_kpi_cache_stats(struct kw_kpi_cache *c, struct kw_kpi_cache_stats *out);

#endif
