// SPDX-License-Identifier: MIT
/* reports.c - the service report's period and data (reports.h). The runs
 * are copied out of the listing before any is measured again: measuring
 * reads the store, which ends the listing's statement. Strings are
 * interned once in a pool the report borrows from. */
#define _GNU_SOURCE /* mremap, madvise(MADV_HUGEPAGE) */
#include "reports.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "civil.h"

/* ---- periods (local days, as GET /kpis buckets them) ---- */

/* ISO 8601: a week belongs to the year of its Thursday. */
static void week_label(int64_t monday, char *out, size_t cap, bool short_form)
{
    int64_t y;
    unsigned m, d;
    kw_civil_from_days(monday + 3, &y, &m, &d);
    int64_t week = (monday + 3 - kw_days_from_civil(y, 1, 1)) / 7 + 1;
    if (short_form)
        snprintf(out, cap, "W%02d", (int)week);
    else
        snprintf(out, cap, "%04d-W%02d", (int)y, (int)week);
}

static void month_label(int64_t day, char *out, size_t cap)
{
    int64_t y;
    unsigned m, d;
    kw_civil_from_days(day, &y, &m, &d);
    snprintf(out, cap, "%04d-%02u", (int)y, m % 100);
}

static int64_t next_month(int64_t first)
{
    int64_t y;
    unsigned m, d;
    kw_civil_from_days(first, &y, &m, &d);
    return m == 12 ? kw_days_from_civil(y + 1, 1, 1) : kw_days_from_civil(y, m + 1, 1);
}

/* Fill out for the period starting local day `first`. */
static void period_at(enum kw_report_kind kind, int64_t first, const struct kw_tzinfo *tz,
                      const char *tz_name, struct kw_report_period *out)
{
    *out = (struct kw_report_period){.kind = kind};
    snprintf(out->tz, sizeof(out->tz), "%s", tz_name);
    int64_t last, prev;
    if (kind == KW_REPORT_WEEKLY) {
        last = first + 7;
        prev = first - 7;
        week_label(first, out->label, sizeof(out->label), false);
        week_label(prev, out->prev_label, sizeof(out->prev_label), false);
        for (int64_t d = first; d < last; d++) {
            int64_t y;
            unsigned m, dd;
            kw_civil_from_days(d, &y, &m, &dd);
            snprintf(out->blabel[out->nb], sizeof(out->blabel[0]), "%02u-%02u", m % 100, dd % 100);
            out->bounds[out->nb++] = kw_tz_instant(tz, 86400 * d);
        }
    } else {
        last = next_month(first);
        int64_t y;
        unsigned m, dd;
        kw_civil_from_days(first - 1, &y, &m, &dd);
        prev = kw_days_from_civil(y, m, 1);
        month_label(first, out->label, sizeof(out->label));
        month_label(prev, out->prev_label, sizeof(out->prev_label));
        /* ISO weeks, the first and last cut at the month's ends */
        for (int64_t d = first; d < last; d = d - kw_weekday(d) + 7) {
            week_label(d - kw_weekday(d), out->blabel[out->nb], sizeof(out->blabel[0]), true);
            out->bounds[out->nb++] = kw_tz_instant(tz, 86400 * d);
        }
    }
    kw_date_format(first, out->first_day);
    kw_date_format(last - 1, out->last_day);
    out->from = kw_tz_instant(tz, 86400 * first);
    out->to = kw_tz_instant(tz, 86400 * last);
    out->prev_from = kw_tz_instant(tz, 86400 * prev);
    out->bounds[out->nb] = out->to;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

enum kw_code kw_report_period_parse(enum kw_report_kind kind, const char *s,
                                    const struct kw_tzinfo *tz, const char *tz_name,
                                    struct kw_report_period *out, struct kw_err *err)
{
    size_t n = s ? strlen(s) : 0;
    if (kind == KW_REPORT_WEEKLY) {
        if (n != 8 || !digits(s, 4) || s[4] != '-' || s[5] != 'W' || !digits(s + 6, 2))
            return kw_err_set(err, KW_INVALID, "/period",
                              "\"%.40s\" is not an ISO week (expected YYYY-Www, e.g. 2026-W10)",
                              s ? s : "");
        int64_t y = atoi(s), w = atoi(s + 6);
        int64_t jan4 = kw_days_from_civil(y, 1, 4);
        int64_t monday = jan4 - kw_weekday(jan4) + (w - 1) * 7;
        period_at(kind, monday, tz, tz_name, out);
        if (w < 1 || y < 2000 || y > 2099 || strcmp(out->label, s) != 0)
            return kw_err_set(err, KW_INVALID, "/period",
                              "%s: no such ISO week (weeks run 01 to 52 or 53, years 2000-2099)",
                              s);
        return KW_OK;
    }
    if (n != 7 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2))
        return kw_err_set(err, KW_INVALID, "/period",
                          "\"%.40s\" is not a month (expected YYYY-MM, e.g. 2026-03)", s ? s : "");
    int y = atoi(s), m = atoi(s + 5);
    if (m < 1 || m > 12 || y < 2000 || y > 2099)
        return kw_err_set(err, KW_INVALID, "/period",
                          "%s: no such month (expected months 01-12 of years 2000-2099)", s);
    period_at(kind, kw_days_from_civil(y, (unsigned)m, 1), tz, tz_name, out);
    return KW_OK;
}

void kw_report_period_last(enum kw_report_kind kind, int64_t now, const struct kw_tzinfo *tz,
                           const char *tz_name, struct kw_report_period *out)
{
    int64_t today = kw_tz_day(tz, now);
    int64_t first;
    if (kind == KW_REPORT_WEEKLY) {
        first = today - kw_weekday(today) - 7;
    } else {
        int64_t y;
        unsigned m, d;
        kw_civil_from_days(today, &y, &m, &d);
        kw_civil_from_days(kw_days_from_civil(y, m, 1) - 1, &y, &m, &d);
        first = kw_days_from_civil(y, m, 1);
    }
    period_at(kind, first, tz, tz_name, out);
}

int64_t kw_report_due_at(const struct kw_report_period *p, const struct kw_tzinfo *tz)
{
    /* 09:00 on the local day that begins at p->to (a change of offset
     * before 09:00 is counted) */
    return kw_tz_instant(tz, kw_tz_day(tz, p->to) * 86400 + 9 * 3600);
}

/* ---- the pool: interned strings and the input arrays ---- */

struct kw_report_pool {
    size_t ns, caps;
    char **slot; /* open addressing */
    struct kw_report_run *runs[2];
    size_t nruns[2], capruns[2];
    struct kw_report_fact *facts[2];
    size_t nfacts[2], capfacts[2];
    struct {
        int64_t id;
        const char *name;
    } * names[3]; /* teams, people, organisations */
    size_t nnames[3], capnames[3];
    bool nomem;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static const char *intern(struct kw_report_pool *p, const char *s)
{
    if (!s)
        return NULL;
    if (2 * (p->ns + 1) > p->caps) {
        size_t cap = p->caps ? 2 * p->caps : 256;
        char **slot = calloc(cap, sizeof(*slot));
        if (!slot)
            return p->nomem = true, NULL;
        for (size_t i = 0; i < p->caps; i++)
            if (p->slot[i]) {
                size_t j = hash(p->slot[i]) & (cap - 1);
                while (slot[j])
                    j = (j + 1) & (cap - 1);
                slot[j] = p->slot[i];
            }
        free(p->slot);
        p->slot = slot;
        p->caps = cap;
    }
    size_t j = hash(s) & (p->caps - 1);
    for (; p->slot[j]; j = (j + 1) & (p->caps - 1))
        if (strcmp(p->slot[j], s) == 0)
            return p->slot[j];
    if (!(p->slot[j] = strdup(s)))
        return p->nomem = true, NULL;
    p->ns++;
    return p->slot[j];
}

/* The big arrays (a period's runs and facts, the sort's keys: some 100 MB
 * for a month of 1,000,000 tickets) are mapped, not allocated, with huge
 * pages asked for before they are touched: the kernel then faults them in
 * 2 MiB at a time, not 4 KiB (a fault costs some 10 us on a virtual
 * machine; 4 KiB pages made 50,000 faults, a quarter of the report's
 * CPU), and they grow by mremap, which moves pages, not bytes. */
#define HUGE_BYTES ((size_t)2 << 20)

static size_t big_bytes(size_t bytes)
{
    size_t unit = bytes >= HUGE_BYTES ? HUGE_BYTES : 4096;
    return (bytes + unit - 1) / unit * unit;
}

static void advise(void *v, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_BYTES)
        madvise(v, bytes, MADV_HUGEPAGE); /* advice only: its failure costs speed */
#else
    (void)v, (void)bytes;
#endif
}

/* bytes of fresh zeroed memory, or NULL; release with big_free(v, bytes). */
static void *big_alloc(size_t bytes)
{
    bytes = big_bytes(bytes ? bytes : 1);
    void *v = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (v == MAP_FAILED)
        return NULL;
    advise(v, bytes);
    return v;
}

static void big_free(void *v, size_t bytes)
{
    if (v)
        munmap(v, big_bytes(bytes ? bytes : 1));
}

/* grow() for a big array (big_alloc'd, or NULL at *cap 0). */
static void *big_grow(void *v, size_t *cap, size_t n, size_t size, bool *nomem)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? 2 * *cap : 65536 / size + 1;
    if (!v) {
        if (!(v = big_alloc(c * size)))
            return *nomem = true, NULL;
        *cap = c;
        return v;
    }
    size_t bytes = big_bytes(c * size);
    void *nv = mremap(v, big_bytes(*cap * size), bytes, MREMAP_MAYMOVE);
    if (nv == MAP_FAILED)
        return *nomem = true, NULL;
    advise(nv, bytes);
    *cap = c;
    return nv;
}

static void *grow(void *v, size_t *cap, size_t n, size_t size, bool *nomem)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? 2 * *cap : 256;
    void *nv = realloc(v, c * size);
    if (!nv) {
        *nomem = true;
        return NULL;
    }
    *cap = c;
    return nv;
}

static void pool_free(struct kw_report_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->caps; i++)
        free(p->slot[i]);
    free(p->slot);
    for (int k = 0; k < 2; k++) {
        big_free(p->runs[k], p->capruns[k] * sizeof(*p->runs[k]));
        big_free(p->facts[k], p->capfacts[k] * sizeof(*p->facts[k]));
    }
    for (int k = 0; k < 3; k++)
        free(p->names[k]);
    free(p);
}

/* ---- names ---- */

enum { N_TEAM, N_PERSON, N_ORG };

/* Commitment versions compiled before the listings: a run is measured
 * while the store lends its row, when compiling would read the store. */
#define PRECOMPILED_MAX 64
/* People and organisations first met in one listing, named after it */
#define PLACEHOLDERS 256

/* A record whose names are filled in after its listing (the store is not
 * read while it lends a row): run or fact i of period k. */
struct fixup {
    bool fact;
    int k;
    size_t i;
    int64_t org_id, team_id, assignee_id;
};

struct gather {
    struct kw_report_pool *p;
    struct kw_store *st;
    struct kw_clocks *c;
    int k; /* 0: this period, 1: the one before */
    int64_t from, to;
    struct kw_err *err;
    /* the last ticket measured again from its events (its runs as of m_at):
     * a ticket's runs come together, and each is looked up in one measure */
    struct kw_runs_at m;
    int64_t m_ticket, m_at;
    /* the reasons given for the overruns of the kept runs' tickets, in
     * (ticket, metric, deadline) order, read once (reason_of) */
    struct reason *reasons;
    size_t nreasons, capreasons;
    /* the versions compiled up front (NULL: it cannot be read), and what
     * their metrics stand for, by interned metric */
    size_t npol;
    int64_t pol_id[PRECOMPILED_MAX];
    const struct kw_compiled *pol[PRECOMPILED_MAX];
    size_t nkpi;
    struct metric_kpi {
        const struct kw_compiled *k;
        const char *metric;
        enum kw_metric_kpi kpi;
    } kpi[32];
    struct fixup *fix;
    size_t nfix, capfix;
    /* the names not read yet during a listing: placeholders */
    size_t nph;
    char ph[PLACEHOLDERS];
    int phk[PLACEHOLDERS];
    int64_t phid[PLACEHOLDERS];
};

static bool team_row(const struct kw_named_row *r, void *ctx)
{
    struct kw_report_pool *p = ctx;
    void *v = grow(p->names[N_TEAM], &p->capnames[N_TEAM], p->nnames[N_TEAM],
                   sizeof(*p->names[N_TEAM]), &p->nomem);
    if (!v)
        return false;
    p->names[N_TEAM] = v;
    p->names[N_TEAM][p->nnames[N_TEAM]].id = r->id;
    p->names[N_TEAM][p->nnames[N_TEAM]++].name = intern(p, r->name);
    return !p->nomem;
}

/* The name of id as far as it was read (teams: all of them, at the
 * start); false when a person's or organisation's is not read yet. */
static bool name_known(const struct kw_report_pool *p, int k, int64_t id, const char **name)
{
    *name = NULL;
    if (!id)
        return true;
    for (size_t i = 0; i < p->nnames[k]; i++)
        if (p->names[k][i].id == id)
            return *name = p->names[k][i].name, true;
    return k == N_TEAM;
}

/* Read the name of person or organisation id from the store (NULL: none). */
static const char *name_read(struct gather *g, int k, int64_t id)
{
    struct kw_err err = {0};
    const char *name = NULL;
    if (k == N_PERSON) {
        struct kw_user_row u;
        if (kw_store_user_get(g->st, id, &u, &err) == KW_OK)
            name = intern(g->p, u.name);
    } else {
        struct kw_org o;
        if (kw_store_org_get(g->st, id, &o, &err) == KW_OK)
            name = intern(g->p, o.name);
    }
    return name;
}

static bool name_add(struct kw_report_pool *p, int k, int64_t id, const char *name)
{
    void *v = grow(p->names[k], &p->capnames[k], p->nnames[k], sizeof(*p->names[k]), &p->nomem);
    if (!v)
        return false;
    p->names[k] = v;
    p->names[k][p->nnames[k]].id = id;
    p->names[k][p->nnames[k]++].name = name;
    return true;
}

/* The name of a person or organisation id (read once), or of a team. */
static const char *name_of(struct gather *g, int k, int64_t id)
{
    const char *name = NULL;
    if (name_known(g->p, k, id, &name))
        return name;
    name = name_read(g, k, id);
    name_add(g->p, k, id, name);
    return name;
}

/* The name of id while the store lends a row: known, or a placeholder
 * (a byte of g->ph) that fill_names replaces; false when the placeholders
 * ran out. */
static bool name_listed(struct gather *g, int k, int64_t id, const char **name)
{
    if (name_known(g->p, k, id, name))
        return true;
    if (g->nph == PLACEHOLDERS || !name_add(g->p, k, id, &g->ph[g->nph]))
        return false;
    g->phk[g->nph] = k;
    g->phid[g->nph] = id;
    *name = &g->ph[g->nph++];
    return true;
}

/* Set the three names of a record, or note it for fill_names. */
static void names_or_fixup(struct gather *g, bool fact, int k, size_t i, int64_t org_id,
                           int64_t team_id, int64_t assignee_id, const char **org,
                           const char **team, const char **assignee)
{
    if (name_listed(g, N_ORG, org_id, org) && name_listed(g, N_TEAM, team_id, team) &&
        name_listed(g, N_PERSON, assignee_id, assignee))
        return;
    void *v = grow(g->fix, &g->capfix, g->nfix, sizeof(*g->fix), &g->p->nomem);
    if (!v)
        return;
    g->fix = v;
    g->fix[g->nfix++] = (struct fixup){fact, k, i, org_id, team_id, assignee_id};
}

/* name, or the name read for it when it is a placeholder */
static const char *unplaced(const struct gather *g, const char *name, const char *const *real)
{
    uintptr_t a = (uintptr_t)name, lo = (uintptr_t)g->ph;
    return a >= lo && a < lo + g->nph ? real[a - lo] : name;
}

/* After a listing: read the names it lacked, put them in place of their
 * placeholders (a pass over the records when there were any) and into
 * the records noted. */
static void fill_names(struct gather *g)
{
    struct kw_report_pool *p = g->p;
    const char *real[PLACEHOLDERS];
    for (size_t j = 0; j < g->nph; j++) {
        real[j] = name_read(g, g->phk[j], g->phid[j]);
        for (size_t i = 0; i < p->nnames[g->phk[j]]; i++)
            if (p->names[g->phk[j]][i].id == g->phid[j])
                p->names[g->phk[j]][i].name = real[j];
    }
    for (int k = 0; k < 2 && g->nph; k++) {
        for (size_t i = 0; i < p->nruns[k]; i++) {
            struct kw_report_run *r = &p->runs[k][i];
            r->org = unplaced(g, r->org, real);
            r->team = unplaced(g, r->team, real);
            r->assignee = unplaced(g, r->assignee, real);
        }
        for (size_t i = 0; i < p->nfacts[k]; i++) {
            struct kw_report_fact *r = &p->facts[k][i];
            r->org = unplaced(g, r->org, real);
            r->team = unplaced(g, r->team, real);
            r->assignee = unplaced(g, r->assignee, real);
        }
    }
    g->nph = 0;
    for (size_t j = 0; j < g->nfix; j++) {
        const struct fixup *f = &g->fix[j];
        const char *org = name_of(g, N_ORG, f->org_id), *team = name_of(g, N_TEAM, f->team_id),
                   *assignee = name_of(g, N_PERSON, f->assignee_id);
        if (f->fact) {
            struct kw_report_fact *r = &p->facts[f->k][f->i];
            r->org = org, r->team = team, r->assignee = assignee;
        } else {
            struct kw_report_run *r = &p->runs[f->k][f->i];
            r->org = org, r->team = team, r->assignee = assignee;
        }
    }
    kw_store_end_read(g->st);
    g->nfix = 0;
}

/* ---- runs ---- */

/* A run row kept from the listing to be measured again after it, for
 * period k (strings interned). */
struct raw_run {
    struct kw_run_row r;
    int k;
};
struct raw_runs {
    size_t n, cap;
    struct raw_run *v;
};

static bool copy_run(struct raw_runs *l, struct kw_report_pool *p, const struct kw_run_row *r,
                     int k)
{
    void *v = grow(l->v, &l->cap, l->n, sizeof(*l->v), &p->nomem);
    if (!v)
        return false;
    l->v = v;
    l->v[l->n].k = k;
    struct kw_run_row *c = &l->v[l->n++].r;
    *c = *r;
    const char **f[9] = {&c->metric,       &c->status,   &c->calendar, &c->level,  &c->tier,
                         &c->organisation, &c->category, &c->region,   &c->channel};
    for (int i = 0; i < 9; i++)
        *f[i] = intern(p, *f[i]);
    return !p->nomem;
}

/* An overrun's reason by its unique (ticket, metric, deadline) key. */
struct reason {
    int64_t ticket_id, deadline;
    const char *metric, *reason; /* interned */
};

static int by_reason_key(const void *a, const void *b)
{
    const struct reason *x = a, *y = b;
    if (x->ticket_id != y->ticket_id)
        return x->ticket_id < y->ticket_id ? -1 : 1;
    int m = x->metric == y->metric ? 0 : strcmp(x->metric, y->metric);
    if (m)
        return m;
    return (x->deadline > y->deadline) - (x->deadline < y->deadline);
}

static bool reason_row(const struct kw_overrun_row *o, void *ctx)
{
    struct gather *g = ctx;
    void *v = grow(g->reasons, &g->capreasons, g->nreasons, sizeof(*g->reasons), &g->p->nomem);
    if (!v)
        return false;
    g->reasons = v;
    g->reasons[g->nreasons++] = (struct reason){.ticket_id = o->ticket_id,
                                                .deadline = o->deadline,
                                                .metric = intern(g->p, o->metric),
                                                .reason = intern(g->p, o->reason)};
    return !g->p->nomem;
}

/* The reasons of the overruns of tickets first..last, in one read rather
 * than one per late run (a month of 1,000,000 tickets has 100,000s). */
static enum kw_code read_reasons(struct gather *g, int64_t first, int64_t last)
{
    enum kw_code rc = kw_store_overrun_reasons(g->st, first, last, reason_row, g, g->err);
    kw_store_end_read(g->st);
    if (rc == KW_OK && g->p->nomem)
        return kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the overruns");
    if (rc == KW_OK && g->nreasons > 1) /* the store's order, but not relied on */
        qsort(g->reasons, g->nreasons, sizeof(*g->reasons), by_reason_key);
    return rc;
}

/* The reason given for ticket's overrun of metric at deadline; NULL when
 * none was given or there is no such overrun (as GET /overruns has it). */
static const char *reason_of(const struct gather *g, int64_t ticket, const char *metric,
                             int64_t deadline)
{
    struct reason key = {.ticket_id = ticket, .metric = metric, .deadline = deadline};
    const struct reason *r =
        g->nreasons ? bsearch(&key, g->reasons, g->nreasons, sizeof(*g->reasons), by_reason_key)
                    : NULL;
    return r ? r->reason : NULL;
}

/* Whether commitment version id was compiled up front; *k its version
 * (NULL: it could not be read). */
static bool precompiled(const struct gather *g, int64_t id, const struct kw_compiled **k)
{
    for (size_t i = 0; i < g->npol; i++)
        if (g->pol_id[i] == id)
            return *k = g->pol[i], true;
    return false;
}

static bool commitment_row(const struct kw_commitment_row *r, void *ctx)
{
    struct gather *g = ctx;
    if (g->npol == PRECOMPILED_MAX)
        return false;
    g->pol_id[g->npol++] = r->id;
    return true;
}

/* Compile the desk's commitment versions (and none, 0) before the
 * listings; those past PRECOMPILED_MAX are measured after them. */
static void precompile(struct gather *g)
{
    struct kw_err ignore = {0};
    g->pol_id[g->npol++] = 0;
    kw_store_commitments(g->st, commitment_row, g, &ignore);
    kw_store_end_read(g->st);
    for (size_t i = 0; i < g->npol; i++)
        g->pol[i] = kw_clocks_commitment(g->c, g->st, g->pol_id[i], &ignore);
    kw_store_end_read(g->st);
}

/* What metric stands for in version k (the kpi marker); none when the
 * version cannot be read. metric interned. */
static enum kw_metric_kpi kpi_in(struct gather *g, const struct kw_compiled *k, const char *metric)
{
    if (!k)
        return KW_MKPI_NONE;
    for (size_t i = 0; i < g->nkpi; i++)
        if (g->kpi[i].k == k && g->kpi[i].metric == metric)
            return g->kpi[i].kpi;
    int m = kw_policy_metric_index(k->p, metric);
    enum kw_metric_kpi v = m < 0 ? KW_MKPI_NONE : kw_policy_metric_kpi(k->p, (size_t)m);
    if (g->nkpi < sizeof(g->kpi) / sizeof(g->kpi[0]))
        g->kpi[g->nkpi++] = (struct metric_kpi){k, metric, v};
    return v;
}

/* Keep run r of period k, as `then` stood at end (min(to, now)), when it
 * counts in [from, end) (see kpi.h): its record, names and reason to be
 * set by the caller; NULL when it does not count or memory ran out. */
static struct kw_report_run *keep_run(struct gather *g, int k, int64_t from, int64_t end,
                                      const struct kw_run_row *r, const struct kw_run_row *then)
{
    struct kw_report_pool *p = g->p;
    int64_t stop = then->stopped_at;
    if (stop != KW_STORE_NO_TIME && stop >= end)
        stop = KW_STORE_NO_TIME;
    int64_t at = stop != KW_STORE_NO_TIME ? stop : end;
    bool late = then->breached_at != KW_STORE_NO_TIME;
    struct kw_kpi_run run = {
        .started_at = then->started_at,
        .stopped_at = stop,
        .breached_at = then->breached_at,
        .target = then->target,
        .working = then->working,
        .paused_wall = at - then->started_at - then->wall,
        .overrun_working = late && then->working > then->target ? then->working - then->target : 0,
    };
    if (kw_kpi_classify(&run, from, end) == KW_KPI_OUT)
        return NULL;
    void *v = big_grow(p->runs[k], &p->capruns[k], p->nruns[k], sizeof(*p->runs[k]), &p->nomem);
    if (!v)
        return NULL;
    p->runs[k] = v;
    struct kw_report_run *out = &p->runs[k][p->nruns[k]++];
    *out = (struct kw_report_run){.run = run, .ticket_id = r->ticket_id, .run_no = (int)r->run};
    return out;
}

/* Measure run r (a copy from the listing) as of min(to, now) of period
 * g->k, reading the store if need be, and keep it when it counts. An open
 * run, or one that stopped after the period's end, is carried from its
 * stored measure (kw_clocks_run_carried) as GET /kpis does, or else
 * measured again from its ticket's events. */
static enum kw_code add_run(struct gather *g, struct kw_sla *scratch, const struct kw_run_row *r,
                            int64_t now)
{
    struct kw_report_pool *p = g->p;
    int64_t end = g->to < now ? g->to : now;
    const struct kw_run_row *then = r;
    struct kw_run_row fast;
    struct kw_err ignore = {0};
    const struct kw_compiled *k = kw_clocks_commitment(g->c, g->st, r->commitment_id, &ignore);
    bool later = r->stopped_at == KW_STORE_NO_TIME || r->stopped_at >= end;
    if (later && k && kw_clocks_run_carried(k, r, end, &fast)) {
        then = &fast;
    } else if (later) {
        if (!g->m_ticket || g->m_ticket != r->ticket_id || g->m_at != end) {
            kw_runs_at_release(&g->m);
            g->m_ticket = 0;
            if (kw_clocks_runs_at(g->c, g->st, scratch, r->ticket_id, r->commitment_id, end, &g->m,
                                  g->err) != KW_OK)
                return g->err ? g->err->code : KW_STORE;
            g->m_ticket = r->ticket_id;
            g->m_at = end;
        }
        then = NULL;
        for (size_t i = 0; i < g->m.n; i++)
            if (g->m.rows[i].run == r->run && strcmp(g->m.rows[i].metric, r->metric) == 0)
                then = &g->m.rows[i];
    }
    struct kw_report_run *out = then ? keep_run(g, g->k, g->from, end, r, then) : NULL;
    if (out) {
        k = kw_clocks_commitment(g->c, g->st, r->commitment_id, &ignore);
        out->metric = r->metric;
        out->level = r->level;
        out->category = r->category;
        out->org = name_of(g, N_ORG, r->org_id);
        out->team = name_of(g, N_TEAM, r->team_id);
        out->assignee = name_of(g, N_PERSON, r->assignee_id);
        out->kpi = kpi_in(g, k, r->metric);
    }
    return p->nomem ? kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the report") : KW_OK;
}

/* Whether run r is one kw_store_runs lists for [from, to) at now (the
 * store's test, store.h), so one listing serves both periods. */
static bool run_in(const struct kw_run_row *r, int64_t from, int64_t to, int64_t now)
{
    const int64_t none = KW_STORE_NO_TIME;
    if (r->stopped_at != none && r->stopped_at >= from && r->stopped_at < to)
        return true;
    if (r->breached_at != none && r->breached_at >= from && r->breached_at < to &&
        (r->stopped_at == none || r->stopped_at >= to))
        return true;
    return r->stopped_at == none && r->breached_at == none && r->deadline != none &&
           r->deadline >= from && r->deadline < to && r->deadline < now;
}

/* The listing of both periods' runs: each run that needs no read of the
 * store (stopped before the period's end, or open and carried on its
 * calendar) is kept as it is listed, straight into its period's records
 * (no copy of the rows: a month of 1,000,000 tickets lists some 490,000);
 * the others are copied to be measured after the listing. */
struct lister {
    struct gather *g;
    const int64_t (*span)[2];
    int64_t now;
    struct raw_runs later;
};

static bool list_run(const struct kw_run_row *r, void *ctx)
{
    struct lister *l = ctx;
    struct gather *g = l->g;
    struct kw_report_pool *p = g->p;
    for (int k = 0; k < 2 && !p->nomem; k++) {
        int64_t from = l->span[k][0], end = l->span[k][1] < l->now ? l->span[k][1] : l->now;
        if (!run_in(r, from, end, l->now))
            continue;
        const struct kw_compiled *cm = NULL;
        struct kw_run_row fast;
        const struct kw_run_row *then = NULL;
        if (precompiled(g, r->commitment_id, &cm)) {
            if (r->stopped_at != KW_STORE_NO_TIME && r->stopped_at < end)
                then = r;
            else if (cm && kw_clocks_run_carried(cm, r, end, &fast))
                then = &fast; /* open, or stopped after the period's end */
        }
        if (!then) {
            copy_run(&l->later, p, r, k);
            continue;
        }
        struct kw_report_run *out = keep_run(g, k, from, end, r, then);
        if (!out)
            continue;
        out->metric = intern(p, r->metric);
        out->level = intern(p, r->level);
        out->category = intern(p, r->category);
        out->kpi = kpi_in(g, cm, out->metric);
        names_or_fixup(g, false, k, p->nruns[k] - 1, r->org_id, r->team_id, r->assignee_id,
                       &out->org, &out->team, &out->assignee);
    }
    return !p->nomem;
}

/* The store's (ticket, metric, run) order, which the figures follow (a
 * ticket's runs side by side); sorted here rather than by the store, which
 * reads them faster unsorted, and as small keys, not the records. The key
 * is unique; the metric compares as SQL's BINARY collation does (bytes);
 * metrics are interned, so mostly the same pointer. */
struct run_key {
    int64_t ticket_id, run;
    const char *metric;
    size_t i; /* the record before the sort */
};

static int by_run(const void *a, const void *b)
{
    const struct run_key *x = a, *y = b;
    if (x->ticket_id != y->ticket_id)
        return x->ticket_id < y->ticket_id ? -1 : 1;
    int m = x->metric == y->metric ? 0 : strcmp(x->metric, y->metric);
    if (m)
        return m;
    return (x->run > y->run) - (x->run < y->run);
}

static int by_later(const void *a, const void *b)
{
    const struct raw_run *x = a, *y = b;
    if (x->k != y->k)
        return x->k - y->k;
    struct run_key kx = {x->r.ticket_id, x->r.run, x->r.metric, 0},
                   ky = {y->r.ticket_id, y->r.run, y->r.metric, 0};
    return by_run(&kx, &ky);
}

/* The keys of n records as unsigned integers in the same order: the
 * ticket's offset from the least, then the metric's rank among the few
 * metrics (by bytes), then the run's number; false when there are too
 * many metrics or the three do not fit in 64 bits (then compared). */
#define RADIX_METRICS 64
static bool packed_keys(const struct kw_report_run *v, size_t n, uint64_t *key)
{
    const char *metric[RADIX_METRICS];
    size_t nm = 0;
    int64_t lo = v[0].ticket_id, hi = v[0].ticket_id;
    int run_max = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].run_no < 0)
            return false;
        lo = v[i].ticket_id < lo ? v[i].ticket_id : lo;
        hi = v[i].ticket_id > hi ? v[i].ticket_id : hi;
        run_max = v[i].run_no > run_max ? v[i].run_no : run_max;
        size_t m = 0;
        while (m < nm && metric[m] != v[i].metric)
            m++;
        if (m == nm && nm == RADIX_METRICS)
            return false;
        if (m == nm)
            metric[nm++] = v[i].metric;
    }
    /* the metrics by bytes: insertion sort of a few */
    for (size_t i = 1; i < nm; i++)
        for (size_t j = i; j > 0 && strcmp(metric[j - 1], metric[j]) > 0; j--) {
            const char *t = metric[j];
            metric[j] = metric[j - 1];
            metric[j - 1] = t;
        }
    unsigned rbits = 0, mbits = 0, tbits = 0;
    while (rbits < 64 && ((uint64_t)run_max >> rbits))
        rbits++;
    while (mbits < 64 && ((uint64_t)(nm - 1) >> mbits))
        mbits++;
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    while (tbits < 64 && (span >> tbits))
        tbits++;
    if (rbits + mbits + tbits > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint64_t m = 0;
        while (metric[m] != v[i].metric)
            m++;
        key[i] = ((uint64_t)v[i].ticket_id - (uint64_t)lo) << mbits << rbits | m << rbits |
                 (uint64_t)v[i].run_no;
    }
    return true;
}

/* Least significant digit first radix sort of n (key, record) pairs,
 * through tmp: 11 bits a pass, only as many passes as the keys have. */
struct packed {
    uint64_t key;
    size_t i;
};
static struct packed *radix_sort(struct packed *v, struct packed *tmp, size_t n)
{
    uint64_t all = 0;
    for (size_t i = 0; i < n; i++)
        all |= v[i].key;
    for (unsigned shift = 0; shift < 64 && (all >> shift); shift += 11) {
        size_t count[2048] = {0};
        for (size_t i = 0; i < n; i++)
            count[(v[i].key >> shift) & 2047]++;
        for (size_t d = 0, sum = 0; d < 2048; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(v[i].key >> shift) & 2047]++] = v[i];
        struct packed *t = v;
        v = tmp;
        tmp = t;
    }
    return v;
}

/* Put period k's records in (ticket, metric, run) order: the keys are
 * sorted (by radix when they pack into 64 bits: a tenth of qsort's time
 * on a month of 1,000,000 tickets), then the records moved along the
 * permutation's cycles, in place. */
static bool sort_runs(struct kw_report_pool *p, int k)
{
    size_t n = p->nruns[k];
    struct kw_report_run *v = p->runs[k];
    if (n < 2)
        return true;
    size_t *from = big_alloc(n * sizeof(*from));
    uint64_t *key = big_alloc(n * sizeof(*key));
    struct packed *pk = key ? big_alloc(2 * n * sizeof(*pk)) : NULL;
    bool ok = from && key && pk;
    if (ok && packed_keys(v, n, key)) {
        for (size_t i = 0; i < n; i++)
            pk[i] = (struct packed){key[i], i};
        const struct packed *sorted = radix_sort(pk, pk + n, n);
        for (size_t j = 0; j < n; j++)
            from[j] = sorted[j].i;
    } else if (ok) {
        struct run_key *order = malloc(n * sizeof(*order));
        if ((ok = order != NULL)) {
            for (size_t i = 0; i < n; i++)
                order[i] = (struct run_key){v[i].ticket_id, v[i].run_no, v[i].metric, i};
            qsort(order, n, sizeof(*order), by_run);
            for (size_t j = 0; j < n; j++)
                from[j] = order[j].i;
        }
        free(order);
    }
    big_free(pk, 2 * n * sizeof(*pk));
    big_free(key, n * sizeof(*key));
    for (size_t j = 0; ok && j < n; j++) {
        if (from[j] == SIZE_MAX)
            continue;
        struct kw_report_run tmp = v[j];
        for (size_t cur = j;;) {
            size_t src = from[cur];
            from[cur] = SIZE_MAX;
            if (src == j) {
                v[cur] = tmp;
                break;
            }
            v[cur] = v[src];
            cur = src;
        }
    }
    big_free(from, n * sizeof(*from));
    return ok;
}

/* ---- ticket facts ---- */

/* One kind's listing over both periods: each row goes straight to its
 * period's facts (by its instant, or for the backlog by the end it was
 * read at), in the store's order. */
struct fact_ctx {
    struct gather *g;
    enum kw_report_fact_kind kind;
    bool open;
    int64_t from, ends[2]; /* from: this period's start */
};

static bool put_fact(const struct kw_ticket_fact_row *r, void *ctx)
{
    struct fact_ctx *f = ctx;
    struct kw_report_pool *p = f->g->p;
    int k = !f->open                 ? (r->at >= f->from ? 0 : 1)
            : r->as_of == f->ends[0] ? 0
            : r->as_of == f->ends[1] ? 1
                                     : -1;
    if (k < 0)
        return true;
    void *v = big_grow(p->facts[k], &p->capfacts[k], p->nfacts[k], sizeof(*p->facts[k]), &p->nomem);
    if (!v)
        return false;
    p->facts[k] = v;
    struct kw_report_fact *out = &p->facts[k][p->nfacts[k]++];
    *out = (struct kw_report_fact){
        .kind = f->kind,
        .ticket_id = r->ticket_id,
        .at = r->at,
        .satisfaction = r->satisfaction,
        .nps = r->nps,
        .category = intern(p, r->category),
    };
    names_or_fixup(f->g, true, k, p->nfacts[k] - 1, r->org_id, r->team_id, r->assignee_id,
                   &out->org, &out->team, &out->assignee);
    return !p->nomem;
}

/* The ticket facts of both periods: those at an instant in [from, to)
 * (created, resolved, reopened, rated) are read once over [prev_from, end)
 * and split at from, keeping the store's order in each; the backlog is
 * the state at each period's end, both ends in one read, split by as_of.
 *
 * They are read by a facts job, on a thread of its own with a read handle
 * of its own while the runs are listed (the two reads are some 40 % of
 * the report each, and independent), into rows of its own: the pool and
 * the names are the gathering thread's, which puts the rows in after the
 * runs, in the store's order, as if it had read them itself. */
static const enum kw_ticket_fact fact_kinds[] = {KW_TF_CREATED, KW_TF_RESOLVED, KW_TF_REOPENED,
                                                 KW_TF_RATED, KW_TF_OPEN};
#define NKINDS (sizeof(fact_kinds) / sizeof(fact_kinds[0]))

/* A fact row as read (category interned in the job's own pool). */
struct raw_fact {
    int64_t ticket_id, org_id, team_id, assignee_id, at, as_of;
    int satisfaction, nps;
    const char *category;
};

struct facts_job {
    /* in */
    const char *db;        /* NULL: read on the gathering thread's handle */
    int64_t org, from, to; /* the instants read: [from, to) */
    int64_t split;         /* this period's start: a fact before it is the last period's */
    int64_t ends[2];       /* the backlog's: this period's end, the last one's */
    /* out */
    struct kw_report_pool strings; /* the rows' categories */
    struct raw_fact *rows[NKINDS];
    size_t nrows[NKINDS], caprows[NKINDS];
    bool done; /* read; else read it on the gathering thread's handle */
    enum kw_code rc;
    struct kw_err err;
    pthread_t thread;
    bool started;
};

struct raw_ctx {
    struct facts_job *j;
    size_t kind;
};

static bool raw_fact_row(const struct kw_ticket_fact_row *r, void *ctx)
{
    struct raw_ctx *c = ctx;
    struct facts_job *j = c->j;
    size_t i = c->kind;
    void *v =
        big_grow(j->rows[i], &j->caprows[i], j->nrows[i], sizeof(*j->rows[i]), &j->strings.nomem);
    if (!v)
        return false;
    j->rows[i] = v;
    j->rows[i][j->nrows[i]++] = (struct raw_fact){.ticket_id = r->ticket_id,
                                                  .org_id = r->org_id,
                                                  .team_id = r->team_id,
                                                  .assignee_id = r->assignee_id,
                                                  .at = r->at,
                                                  .as_of = r->as_of,
                                                  .satisfaction = r->satisfaction,
                                                  .nps = r->nps,
                                                  .category = intern(&j->strings, r->category)};
    return !j->strings.nomem;
}

/* Read the job's facts on st into its rows. */
static enum kw_code facts_read(struct facts_job *j, struct kw_store *st)
{
    enum kw_code rc = KW_OK;
    for (size_t i = 0; i < NKINDS && rc == KW_OK; i++) {
        struct raw_ctx c = {j, i};
        rc = fact_kinds[i] == KW_TF_OPEN
                 ? kw_store_ticket_backlog(st, j->ends, 2, j->org, raw_fact_row, &c, &j->err)
                 : kw_store_ticket_facts(st, fact_kinds[i], j->from, j->to, j->org, raw_fact_row,
                                         &c, &j->err);
        kw_store_end_read(st);
        if (rc == KW_OK && j->strings.nomem)
            rc = kw_err_set(&j->err, KW_NOMEM, NULL, "out of memory for the report");
    }
    return rc;
}

static void *facts_thread(void *v)
{
    struct facts_job *j = v;
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(j->db, &err);
    if (!st)
        return NULL; /* not done: the gathering thread reads them */
    j->rc = facts_read(j, st);
    j->done = true;
    kw_store_close(st);
    return NULL;
}

static void facts_job_start(struct facts_job *j)
{
    if (j->db && pthread_create(&j->thread, NULL, facts_thread, j) == 0)
        j->started = true;
}

/* Wait for the job; read its facts on st if it could not. */
static enum kw_code facts_job_finish(struct facts_job *j, struct kw_store *st)
{
    if (j->started)
        pthread_join(j->thread, NULL);
    j->started = false;
    if (!j->done) {
        for (size_t i = 0; i < NKINDS; i++)
            j->nrows[i] = 0;
        j->rc = facts_read(j, st);
        j->done = true;
    }
    return j->rc;
}

static void facts_job_release(struct facts_job *j)
{
    if (j->started)
        pthread_join(j->thread, NULL);
    for (size_t i = 0; i < NKINDS; i++)
        big_free(j->rows[i], j->caprows[i] * sizeof(*j->rows[i]));
    for (size_t i = 0; i < j->strings.caps; i++)
        free(j->strings.slot[i]);
    free(j->strings.slot);
}

/* Put the job's rows in the pool, kind by kind, naming each kind's after it. */
static enum kw_code put_facts(struct gather *g, struct facts_job *j)
{
    struct kw_report_pool *p = g->p;
    for (size_t i = 0; i < NKINDS; i++) {
        struct fact_ctx f = {.g = g,
                             .kind = (enum kw_report_fact_kind)i,
                             .open = fact_kinds[i] == KW_TF_OPEN,
                             .from = j->split,
                             .ends = {j->ends[0], j->ends[1]}};
        for (size_t n = 0; n < j->nrows[i]; n++) {
            const struct raw_fact *w = &j->rows[i][n];
            struct kw_ticket_fact_row r = {.ticket_id = w->ticket_id,
                                           .org_id = w->org_id,
                                           .team_id = w->team_id,
                                           .assignee_id = w->assignee_id,
                                           .at = w->at,
                                           .as_of = w->as_of,
                                           .satisfaction = w->satisfaction,
                                           .nps = w->nps,
                                           .category = w->category};
            if (!put_fact(&r, &f))
                break;
        }
        fill_names(g);
        if (p->nomem)
            return kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the report");
    }
    return KW_OK;
}

/* Both periods, span[0] this one and span[1] the one before: the runs that
 * may count in either are listed once (over [prev_from, end), a superset
 * of both), each kept in its period as listed or measured after the
 * listing, then put in the store's order, and the late ones given their
 * overrun's reason. */
static enum kw_code read_periods(struct gather *g, struct kw_sla *scratch, const int64_t span[2][2],
                                 int64_t org, int64_t now, const char *db)
{
    struct kw_report_pool *p = g->p;
    int64_t end = span[0][1] < now ? span[0][1] : now;
    /* the ticket facts: this period's up to its end, the last one's */
    struct facts_job *j = calloc(1, sizeof(*j));
    if (!j)
        return kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the report");
    *j = (struct facts_job){.db = db,
                            .org = org,
                            .from = span[1][0],
                            .to = end,
                            .split = span[0][0],
                            .ends = {end, span[1][1] < now ? span[1][1] : now}};
    facts_job_start(j);
    precompile(g);
    struct lister l = {.g = g, .span = span, .now = now};
    struct kw_run_filter f = {
        .from = span[1][0], .to = end, .now = now, .org_id = org, .any_order = true};
    enum kw_code rc = kw_store_runs(g->st, &f, list_run, &l, g->err);
    kw_store_end_read(g->st);
    if (rc == KW_OK && p->nomem)
        rc = kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the clock runs");
    if (rc == KW_OK)
        fill_names(g);
    /* the runs measured again, a ticket's together */
    if (rc == KW_OK && l.later.n > 1)
        qsort(l.later.v, l.later.n, sizeof(*l.later.v), by_later);
    for (size_t i = 0; rc == KW_OK && i < l.later.n; i++) {
        g->k = l.later.v[i].k;
        g->from = span[g->k][0];
        g->to = span[g->k][1];
        rc = add_run(g, scratch, &l.later.v[i].r, now);
    }
    kw_runs_at_release(&g->m);
    g->m_ticket = 0;
    free(l.later.v);
    for (int k = 0; k < 2 && rc == KW_OK; k++)
        if (!sort_runs(p, k))
            rc = kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the clock runs");
    /* the reasons of the late runs' overruns */
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (int k = 0; k < 2 && rc == KW_OK; k++)
        for (size_t i = 0; i < p->nruns[k]; i++)
            if (p->runs[k][i].run.breached_at != KW_STORE_NO_TIME) {
                int64_t t = p->runs[k][i].ticket_id;
                first = t < first ? t : first;
                last = t > last ? t : last;
            }
    if (rc == KW_OK && first <= last)
        rc = read_reasons(g, first, last);
    for (int k = 0; k < 2 && rc == KW_OK && g->nreasons; k++)
        for (size_t i = 0; i < p->nruns[k]; i++) {
            struct kw_report_run *r = &p->runs[k][i];
            if (r->run.breached_at != KW_STORE_NO_TIME)
                r->reason = reason_of(g, r->ticket_id, r->metric, r->run.breached_at);
        }
    free(g->reasons);
    g->reasons = NULL;
    g->nreasons = g->capreasons = 0;
    if (rc == KW_OK && (rc = facts_job_finish(j, g->st)) != KW_OK)
        *g->err = j->err;
    if (rc == KW_OK)
        rc = put_facts(g, j);
    facts_job_release(j);
    free(j);
    free(g->fix);
    g->fix = NULL;
    g->nfix = g->capfix = 0;
    return rc;
}

/* The headline figures of both periods, folded apart from the body. */
struct heads {
    const struct kw_report_input *cur, *prev;
    double head[KW_RH_COUNT], before[KW_RH_COUNT];
    enum kw_code rc;
    struct kw_err err;
    pthread_t thread;
};

static void *heads_thread(void *v)
{
    struct heads *h = v;
    h->rc = kw_report_headline(h->cur, h->head, &h->err);
    if (h->rc == KW_OK)
        h->rc = kw_report_headline(h->prev, h->before, &h->err);
    return NULL;
}

enum kw_code kw_report_doc_make(struct kw_clocks *c, struct kw_store *st, const char *db,
                                struct kw_sla *scratch, const struct kw_report_period *p,
                                int64_t org_id, bool per_agent, int64_t now,
                                struct kw_report_doc *out, struct kw_err *err)
{
    struct kw_err local = {0};
    if (!err)
        err = &local;
    *out = (struct kw_report_doc){.p = *p, .now = now, .per_agent = per_agent};
    out->end = p->to < now ? p->to : now;
    if (p->from >= now)
        return kw_err_set(err, KW_RANGE, "/period", "%s has not begun yet", p->label);
    if (!(out->pool = calloc(1, sizeof(*out->pool))))
        return kw_err_set(err, KW_NOMEM, NULL, "out of memory for the report");
    struct kw_report_pool *pool = out->pool;
    if (kw_store_teams(st, 0, team_row, pool, err) != KW_OK)
        return err->code;
    kw_store_end_read(st);
    struct gather g = {.p = pool, .st = st, .c = c, .err = err};
    if (org_id)
        out->org_name = name_of(&g, N_ORG, org_id);
    int64_t spans[2][2] = {{p->from, p->to}, {p->prev_from, p->from}};
    enum kw_code rc = read_periods(&g, scratch, (const int64_t(*)[2])spans, org_id, now, db);
    kw_store_end_read(st);
    if (rc != KW_OK)
        return rc;
    struct kw_report_input cur = {p->from,        out->end,       pool->runs[0],
                                  pool->nruns[0], pool->facts[0], pool->nfacts[0]};
    struct kw_report_input prev = {p->prev_from,   p->from,        pool->runs[1],
                                   pool->nruns[1], pool->facts[1], pool->nfacts[1]};
    /* the trend's buckets up to now */
    size_t nb = 0;
    int64_t bounds[KW_REPORT_MAX_BUCKETS + 1];
    for (size_t b = 0; b < p->nb && p->bounds[b] < out->end; b++) {
        bounds[b] = p->bounds[b];
        bounds[b + 1] = p->bounds[b + 1] < out->end ? p->bounds[b + 1] : out->end;
        nb++;
    }
    /* the headlines of both periods on a thread of their own while the body
     * is folded (both only read the inputs) */
    struct heads h = {.cur = &cur, .prev = &prev};
    bool apart = pthread_create(&h.thread, NULL, heads_thread, &h) == 0;
    if (!apart)
        heads_thread(&h);
    rc = kw_report_build_body(&cur, bounds, nb, per_agent, &out->rep, err);
    if (apart)
        pthread_join(h.thread, NULL);
    if (rc == KW_OK && h.rc != KW_OK) {
        kw_report_free(&out->rep);
        *err = h.err;
        rc = h.rc;
    }
    if (rc == KW_OK)
        kw_report_heads_set(&out->rep, h.head, h.before);
    return rc;
}

void kw_report_doc_release(struct kw_report_doc *d)
{
    if (!d)
        return;
    kw_report_free(&d->rep);
    pool_free(d->pool);
    d->pool = NULL;
}
