// SPDX-License-Identifier: MIT
/* reports.c - the service report's period and data (reports.h). The runs
 * are copied out of the listing before any is measured again: measuring
 * reads the store, which ends the listing's statement. Strings are
 * interned once in a pool the report borrows from. */
#include "reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                      const char *tzname, struct kw_report_period *out)
{
    *out = (struct kw_report_period){.kind = kind};
    snprintf(out->tz, sizeof(out->tz), "%s", tzname);
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
                                    const struct kw_tzinfo *tz, const char *tzname,
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
        period_at(kind, monday, tz, tzname, out);
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
    period_at(kind, kw_days_from_civil(y, (unsigned)m, 1), tz, tzname, out);
    return KW_OK;
}

void kw_report_period_last(enum kw_report_kind kind, int64_t now, const struct kw_tzinfo *tz,
                           const char *tzname, struct kw_report_period *out)
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
    period_at(kind, first, tz, tzname, out);
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

/* Room for want elements in v (at *cap) at once: no copying on the way up
 * when the count is known (a month's runs on 1,000,000 tickets: 100s of
 * MB copied otherwise). v itself, maybe NULL, when it has the room already
 * or memory ran out (*nomem then set, v kept for its owner to free). */
static void *reserve(void *v, size_t *cap, size_t want, size_t size, bool *nomem)
{
    if (want <= *cap)
        return v;
    void *nv = realloc(v, want * size);
    if (!nv) {
        *nomem = true;
        return v;
    }
    *cap = want;
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
        free(p->runs[k]);
        free(p->facts[k]);
    }
    for (int k = 0; k < 3; k++)
        free(p->names[k]);
    free(p);
}

/* ---- names ---- */

enum { N_TEAM, N_PERSON, N_ORG };

struct gather {
    struct kw_report_pool *p;
    struct kw_store *st;
    int k; /* 0: this period, 1: the one before */
    int64_t from, to;
    struct kw_err *err;
    /* the last ticket measured again from its events (its runs as of m_at):
     * a ticket's runs come together, and each is looked up in one measure */
    struct kw_runs_at m;
    int64_t m_ticket, m_at;
    /* the reasons given for the overruns of the listed runs' tickets, in
     * (ticket, metric, deadline) order, read once (reason_of) */
    struct reason *reasons;
    size_t nreasons, capreasons;
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

/* The name of a person or organisation id (read once), or of a team. */
static const char *name_of(struct gather *g, int k, int64_t id)
{
    struct kw_report_pool *p = g->p;
    if (!id)
        return NULL;
    for (size_t i = 0; i < p->nnames[k]; i++)
        if (p->names[k][i].id == id)
            return p->names[k][i].name;
    if (k == N_TEAM)
        return NULL;
    struct kw_err err = {0};
    const char *name = NULL;
    if (k == N_PERSON) {
        struct kw_user_row u;
        if (kw_store_user_get(g->st, id, &u, &err) == KW_OK)
            name = intern(p, u.name);
    } else {
        struct kw_org o;
        if (kw_store_org_get(g->st, id, &o, &err) == KW_OK)
            name = intern(p, o.name);
    }
    void *v = grow(p->names[k], &p->capnames[k], p->nnames[k], sizeof(*p->names[k]), &p->nomem);
    if (!v)
        return NULL;
    p->names[k] = v;
    p->names[k][p->nnames[k]].id = id;
    p->names[k][p->nnames[k]++].name = name;
    return name;
}

/* ---- runs ---- */

/* A run row kept between the listing and the measuring (ids, not names:
 * names are read after the listing). */
struct raw_run {
    struct kw_run_row r; /* strings interned */
};
struct raw_runs {
    size_t n, cap;
    struct raw_run *v;
    struct kw_report_pool *p;
};

static bool copy_run(const struct kw_run_row *r, void *ctx)
{
    struct raw_runs *l = ctx;
    void *v = grow(l->v, &l->cap, l->n, sizeof(*l->v), &l->p->nomem);
    if (!v)
        return false;
    l->v = v;
    struct kw_run_row *c = &l->v[l->n++].r;
    *c = *r;
    const char **f[9] = {&c->metric,       &c->status,   &c->calendar, &c->level,  &c->tier,
                         &c->organisation, &c->category, &c->region,   &c->channel};
    for (int i = 0; i < 9; i++)
        *f[i] = intern(l->p, *f[i]);
    return !l->p->nomem;
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

/* What r's metric stands for in its commitment version (the kpi marker);
 * none when the version cannot be read. */
static enum kw_metric_kpi metric_kpi(struct gather *g, struct kw_clocks *c,
                                     const struct kw_run_row *r)
{
    struct kw_err ignore = {0};
    const struct kw_compiled *k = kw_clocks_commitment(c, g->st, r->commitment_id, &ignore);
    if (!k)
        return KW_MKPI_NONE;
    int m = kw_policy_metric_index(k->p, r->metric);
    return m < 0 ? KW_MKPI_NONE : kw_policy_metric_kpi(k->p, (size_t)m);
}

/* An open run carried to `at` from its stored measure (kw_clocks_run_carried),
 * as GET /kpis does. */
static bool measured_since(struct gather *g, struct kw_clocks *c, const struct kw_run_row *r,
                           int64_t at, struct kw_run_row *out)
{
    struct kw_err err = {0};
    const struct kw_compiled *k = kw_clocks_commitment(c, g->st, r->commitment_id, &err);
    return k && kw_clocks_run_carried(k, r, at, out);
}

/* Whether r counts in [from, to) as it stands (see kpi.h); an open run or
 * one that stopped after `to` is measured again as of min(to, now). */
static enum kw_code add_run(struct gather *g, struct kw_clocks *c, struct kw_sla *scratch,
                            const struct kw_run_row *r, int64_t now)
{
    struct kw_report_pool *p = g->p;
    int64_t end = g->to < now ? g->to : now;
    const struct kw_run_row *then = r;
    struct kw_run_row fast;
    if (r->stopped_at == KW_STORE_NO_TIME && measured_since(g, c, r, end, &fast)) {
        then = &fast;
    } else if (r->stopped_at == KW_STORE_NO_TIME || r->stopped_at >= end) {
        if (!g->m_ticket || g->m_ticket != r->ticket_id || g->m_at != end) {
            kw_runs_at_release(&g->m);
            g->m_ticket = 0;
            if (kw_clocks_runs_at(c, g->st, scratch, r->ticket_id, r->commitment_id, end, &g->m,
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
    if (then) {
        int64_t stop = then->stopped_at;
        if (stop != KW_STORE_NO_TIME && stop >= end)
            stop = KW_STORE_NO_TIME;
        int64_t at = stop != KW_STORE_NO_TIME ? stop : end;
        bool late = then->breached_at != KW_STORE_NO_TIME;
        struct kw_kpi_run k = {
            .started_at = then->started_at,
            .stopped_at = stop,
            .breached_at = then->breached_at,
            .target = then->target,
            .working = then->working,
            .paused_wall = at - then->started_at - then->wall,
            .overrun_working =
                late && then->working > then->target ? then->working - then->target : 0,
        };
        if (kw_kpi_classify(&k, g->from, end) != KW_KPI_OUT) {
            const char *reason =
                late ? reason_of(g, r->ticket_id, r->metric, then->breached_at) : NULL;
            void *v = grow(p->runs[g->k], &p->capruns[g->k], p->nruns[g->k], sizeof(*p->runs[g->k]),
                           &p->nomem);
            if (v) {
                p->runs[g->k] = v;
                p->runs[g->k][p->nruns[g->k]++] = (struct kw_report_run){
                    .run = k,
                    .ticket_id = r->ticket_id,
                    .metric = r->metric,
                    .level = r->level,
                    .category = r->category,
                    .org = name_of(g, N_ORG, r->org_id),
                    .team = name_of(g, N_TEAM, r->team_id),
                    .assignee = name_of(g, N_PERSON, r->assignee_id),
                    .reason = reason,
                    .kpi = metric_kpi(g, c, r),
                };
            }
        }
    }
    return p->nomem ? kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the report") : KW_OK;
}

/* ---- ticket facts ---- */

struct fact_ctx {
    struct gather *g;
    enum kw_report_fact_kind kind;
    struct kw_ticket_fact_row *rows;
    size_t n, cap;
};

static bool copy_fact(const struct kw_ticket_fact_row *r, void *ctx)
{
    struct fact_ctx *f = ctx;
    void *v = grow(f->rows, &f->cap, f->n, sizeof(*f->rows), &f->g->p->nomem);
    if (!v)
        return false;
    f->rows = v;
    f->rows[f->n] = *r;
    f->rows[f->n].category = intern(f->g->p, r->category);
    f->n++;
    return !f->g->p->nomem;
}

/* Copy the rows of f (those marked in mine; NULL: all) into the report's
 * facts of period k. */
static void keep_facts(struct gather *g, int k, const struct fact_ctx *f, const bool *mine)
{
    struct kw_report_pool *p = g->p;
    size_t n = 0;
    for (size_t j = 0; j < f->n; j++)
        n += !mine || mine[j];
    p->facts[k] =
        reserve(p->facts[k], &p->capfacts[k], p->nfacts[k] + n, sizeof(*p->facts[k]), &p->nomem);
    for (size_t j = 0; j < f->n && !p->nomem; j++) {
        const struct kw_ticket_fact_row *r = &f->rows[j];
        if (mine && !mine[j])
            continue;
        void *v = grow(p->facts[k], &p->capfacts[k], p->nfacts[k], sizeof(*p->facts[k]), &p->nomem);
        if (!v)
            break;
        p->facts[k] = v;
        p->facts[k][p->nfacts[k]++] = (struct kw_report_fact){
            .kind = f->kind,
            .ticket_id = r->ticket_id,
            .at = r->at,
            .satisfaction = r->satisfaction,
            .nps = r->nps,
            .org = name_of(g, N_ORG, r->org_id),
            .team = name_of(g, N_TEAM, r->team_id),
            .assignee = name_of(g, N_PERSON, r->assignee_id),
            .category = r->category,
        };
    }
}

/* The ticket facts of both periods: those at an instant in [from, to)
 * (created, resolved, reopened, rated) are read once over [prev_from, end)
 * and split at from, keeping the store's order in each; the backlog is
 * the state at each period's end, both ends in one read, split by as_of. */
static enum kw_code read_facts(struct gather *g, const int64_t span[2][2], int64_t org)
{
    static const enum kw_ticket_fact kinds[] = {KW_TF_CREATED, KW_TF_RESOLVED, KW_TF_REOPENED,
                                                KW_TF_RATED, KW_TF_OPEN};
    struct kw_report_pool *p = g->p;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        bool open = kinds[i] == KW_TF_OPEN;
        struct fact_ctx f = {.g = g, .kind = (enum kw_report_fact_kind)i};
        const int64_t ends[2] = {span[0][1], span[1][1]};
        enum kw_code rc = open ? kw_store_ticket_backlog(g->st, ends, 2, org, copy_fact, &f, g->err)
                               : kw_store_ticket_facts(g->st, kinds[i], span[1][0], span[0][1], org,
                                                       copy_fact, &f, g->err);
        kw_store_end_read(g->st);
        if (rc == KW_OK) {
            bool *mine = malloc((f.n ? f.n : 1) * sizeof(*mine));
            if (!mine)
                p->nomem = true;
            for (int k = 0; mine && k < 2; k++) {
                for (size_t j = 0; j < f.n; j++)
                    mine[j] = open ? f.rows[j].as_of == ends[k]
                                   : (f.rows[j].at >= span[0][0]) == (k == 0);
                keep_facts(g, k, &f, mine);
            }
            free(mine);
        }
        free(f.rows);
        if (rc != KW_OK)
            return rc;
        if (p->nomem)
            return kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the report");
    }
    return KW_OK;
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

/* The store's (ticket, metric, run) order, which the figures follow (a
 * ticket's runs side by side); sorted here rather than by the store, which
 * reads them faster unsorted, and as small keys, not the rows (a fifth of
 * the bytes to move). The key is unique; the metric compares as SQL's
 * BINARY collation does (bytes); metrics are interned, so mostly the same
 * pointer. */
struct run_key {
    int64_t ticket_id, run;
    const char *metric;
    size_t i; /* the row in the listing */
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

/* Both periods, span[0] this one and span[1] the one before: the runs that
 * may count in either are listed once (over [prev_from, end), a superset
 * of both) and each period takes its own in the store's order. */
static enum kw_code read_periods(struct gather *g, struct kw_clocks *c, struct kw_sla *scratch,
                                 const int64_t span[2][2], int64_t org, int64_t now)
{
    struct raw_runs l = {.p = g->p};
    int64_t end = span[0][1] < now ? span[0][1] : now;
    struct kw_run_filter f = {
        .from = span[1][0], .to = end, .now = now, .org_id = org, .any_order = true};
    enum kw_code rc = kw_store_runs(g->st, &f, copy_run, &l, g->err);
    kw_store_end_read(g->st);
    if (rc == KW_OK && g->p->nomem)
        rc = kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the clock runs");
    struct run_key *order = NULL;
    if (rc == KW_OK && !(order = malloc((l.n ? l.n : 1) * sizeof(*order))))
        rc = kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the clock runs");
    for (size_t i = 0; rc == KW_OK && i < l.n; i++)
        order[i] = (struct run_key){l.v[i].r.ticket_id, l.v[i].r.run, l.v[i].r.metric, i};
    if (rc == KW_OK && l.n > 1)
        qsort(order, l.n, sizeof(*order), by_run);
    if (rc == KW_OK && l.n)
        rc = read_reasons(g, order[0].ticket_id, order[l.n - 1].ticket_id);
    for (int k = 0; k < 2 && rc == KW_OK; k++) {
        g->k = k;
        g->from = span[k][0];
        g->to = span[k][1];
        int64_t to = g->to < now ? g->to : now;
        size_t n = 0;
        for (size_t i = 0; i < l.n; i++)
            n += run_in(&l.v[i].r, g->from, to, now);
        g->p->runs[k] = reserve(g->p->runs[k], &g->p->capruns[k], g->p->nruns[k] + n,
                                sizeof(*g->p->runs[k]), &g->p->nomem);
        if (g->p->nomem)
            rc = kw_err_set(g->err, KW_NOMEM, NULL, "out of memory for the clock runs");
        for (size_t i = 0; rc == KW_OK && i < l.n; i++) {
            const struct kw_run_row *r = &l.v[order[i].i].r;
            if (run_in(r, g->from, to, now))
                rc = add_run(g, c, scratch, r, now);
        }
    }
    free(order);
    kw_runs_at_release(&g->m);
    g->m_ticket = 0;
    free(l.v);
    free(g->reasons);
    g->reasons = NULL;
    g->nreasons = g->capreasons = 0;
    int64_t ends[2][2] = {{span[0][0], end}, {span[1][0], span[1][1] < now ? span[1][1] : now}};
    return rc == KW_OK ? read_facts(g, (const int64_t(*)[2])ends, org) : rc;
}

enum kw_code kw_report_doc_make(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                                const struct kw_report_period *p, int64_t org_id, bool per_agent,
                                int64_t now, struct kw_report_doc *out, struct kw_err *err)
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
    struct gather g = {.p = pool, .st = st, .err = err};
    if (org_id)
        out->org_name = name_of(&g, N_ORG, org_id);
    int64_t spans[2][2] = {{p->from, p->to}, {p->prev_from, p->from}};
    enum kw_code rc = read_periods(&g, c, scratch, (const int64_t(*)[2])spans, org_id, now);
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
    return kw_report_build(&cur, &prev, bounds, nb, per_agent, &out->rep, err);
}

void kw_report_doc_release(struct kw_report_doc *d)
{
    if (!d)
        return;
    kw_report_free(&d->rep);
    pool_free(d->pool);
    d->pool = NULL;
}
