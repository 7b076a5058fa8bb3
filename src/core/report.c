// SPDX-License-Identifier: MIT
/* report.c - the service report's fold (report.h, docs/kpi.md). Groups are
 * few (levels x metrics, teams, agents), so they are found by a linear
 * search on their names; runs and facts are many and read once. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int cmp_name(const char *a, const char *b)
{
    if (!a || !b)
        return a ? 1 : b ? -1 : 0; /* none first */
    return strcmp(a, b);
}

static double or_nan(bool has, double v)
{
    return has ? v : NAN;
}

/* ---- groups ---- */

struct grp {
    const char *k1, *k2;
    struct kw_kpi_acc all, resp, resol;
    int64_t *targets;
    size_t ntargets, captargets;
    size_t resolved, reopened, open, clean; /* clean: resolved, not reopened */
    struct kw_kpi_ratings rt;
    const char *team; /* an agent's team: the first seen */
    size_t want[3];   /* stopped runs to come: all, response, resolution */
};

struct grps {
    size_t n, cap;
    struct grp *v;
};

static struct grp *grp_get(struct grps *g, const char *k1, const char *k2)
{
    for (size_t i = 0; i < g->n; i++)
        if (same(g->v[i].k1, k1) && same(g->v[i].k2, k2))
            return &g->v[i];
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        struct grp *v = realloc(g->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n] = (struct grp){.k1 = k1, .k2 = k2};
    return &g->v[g->n++];
}

static void grps_free(struct grps *g)
{
    for (size_t i = 0; i < g->n; i++) {
        kw_kpi_acc_free(&g->v[i].all);
        kw_kpi_acc_free(&g->v[i].resp);
        kw_kpi_acc_free(&g->v[i].resol);
        free(g->v[i].targets);
    }
    free(g->v);
    *g = (struct grps){0};
}

/* Room for n stopped runs in a (kw_kpi_add grows its arrays by doubling
 * otherwise: on a month of 1,000,000 tickets, 100s of MB copied and twice
 * the memory touched). False when out of memory. */
static bool acc_reserve(struct kw_kpi_acc *a, size_t n)
{
    if (n <= a->cap)
        return true;
    int64_t *w = realloc(a->working, n * sizeof(*w));
    if (w)
        a->working = w;
    int64_t *l = w ? realloc(a->wall, n * sizeof(*l)) : NULL;
    if (l)
        a->wall = l;
    double *s = l ? realloc(a->sri, n * sizeof(*s)) : NULL;
    if (!s)
        return false;
    a->sri = s;
    a->cap = n;
    return true;
}

/* Count r's stop in [from, to) towards g's reservation (grp_reserve). */
static void grp_count(struct grp *g, const struct kw_report_run *r, enum kw_kpi_class c)
{
    if (c != KW_KPI_MET && c != KW_KPI_MET_LATE)
        return;
    g->want[0]++;
    g->want[1] += r->kpi == KW_MKPI_RESPONSE;
    g->want[2] += r->kpi == KW_MKPI_RESOLUTION;
}

static bool grp_reserve(struct grp *g)
{
    return acc_reserve(&g->all, g->want[0]) && acc_reserve(&g->resp, g->want[1]) &&
           acc_reserve(&g->resol, g->want[2]);
}

static bool grp_run(struct grp *g, const struct kw_report_run *r, int64_t from, int64_t to,
                    bool keep_target, struct kw_err *err)
{
    if (kw_kpi_add(&g->all, &r->run, from, to, err) != KW_OK)
        return false;
    if (r->kpi == KW_MKPI_RESPONSE && kw_kpi_add(&g->resp, &r->run, from, to, err) != KW_OK)
        return false;
    if (r->kpi == KW_MKPI_RESOLUTION && kw_kpi_add(&g->resol, &r->run, from, to, err) != KW_OK)
        return false;
    if (keep_target && kw_kpi_classify(&r->run, from, to) != KW_KPI_OUT) {
        if (g->ntargets == g->captargets) {
            size_t cap = g->captargets ? 2 * g->captargets : 16;
            int64_t *v = realloc(g->targets, cap * sizeof(*v));
            if (!v)
                return kw_err_set(err, KW_NOMEM, NULL, "out of memory"), false;
            g->targets = v;
            g->captargets = cap;
        }
        g->targets[g->ntargets++] = r->run.target;
    }
    return true;
}

static double mean_elapsed(struct kw_kpi_acc *a)
{
    struct kw_kpi_metric m;
    kw_kpi_figures(a, &m);
    return or_nan(m.elapsed.n > 0, m.elapsed.mean);
}

/* ---- the headline of one period ---- */

/* Whether fact i is the first of its kind for its ticket (facts of one kind
 * and ticket come together). */
static bool first_of_ticket(const struct kw_report_input *in, size_t i)
{
    for (size_t j = i; j-- > 0;) {
        if (in->facts[j].ticket_id != in->facts[i].ticket_id)
            return true;
        if (in->facts[j].kind == in->facts[i].kind)
            return false;
    }
    return true;
}

static bool headline(const struct kw_report_input *in, double *h, struct kw_err *err)
{
    struct grps g = {0};
    struct grp *all = grp_get(&g, NULL, NULL);
    if (!all)
        return kw_err_set(err, KW_NOMEM, NULL, "out of memory"), false;
    for (size_t i = 0; i < in->nruns; i++)
        grp_count(all, &in->runs[i], kw_kpi_classify(&in->runs[i].run, in->from, in->to));
    if (!grp_reserve(all))
        return grps_free(&g), kw_err_set(err, KW_NOMEM, NULL, "out of memory"), false;
    for (size_t i = 0; i < in->nruns; i++)
        if (!grp_run(all, &in->runs[i], in->from, in->to, false, err))
            return grps_free(&g), false;
    struct kw_kpi_metric m;
    kw_kpi_figures(&all->all, &m);
    h[KW_RH_ON_TIME] = or_nan(m.on_time_rate >= 0, m.on_time_rate);
    h[KW_RH_BREACHES] = (double)(m.met_late + m.breached_open);
    h[KW_RH_MTTA] = mean_elapsed(&all->resp);
    h[KW_RH_MTTR] = mean_elapsed(&all->resol);
    size_t n[5] = {0};
    for (size_t i = 0; i < in->nfacts; i++) {
        const struct kw_report_fact *f = &in->facts[i];
        if (f->kind == KW_RF_RATED)
            kw_kpi_rating_add(&all->rt, f->satisfaction, f->nps);
        else if (f->kind == KW_RF_CREATED || f->kind == KW_RF_OPEN || first_of_ticket(in, i))
            n[f->kind]++;
    }
    h[KW_RH_CREATED] = (double)n[KW_RF_CREATED];
    h[KW_RH_RESOLVED] = (double)n[KW_RF_RESOLVED];
    h[KW_RH_REOPENED] = (double)n[KW_RF_REOPENED];
    h[KW_RH_BACKLOG] = (double)n[KW_RF_OPEN];
    struct kw_kpi_rating_figures rf;
    kw_kpi_rating_figures(&all->rt, &rf);
    h[KW_RH_CSAT] = or_nan(rf.csat_mean >= 0, rf.csat_mean);
    h[KW_RH_SATISFIED] = or_nan(rf.satisfied_pct >= 0, rf.satisfied_pct);
    h[KW_RH_NPS] = or_nan(rf.nps > KW_KPI_NPS_NULL, rf.nps);
    grps_free(&g);
    return true;
}

/* ---- TOP5 ---- */

struct tally {
    size_t n, cap;
    struct kw_report_top *v;
};

static bool tally_add(struct tally *t, const char *name, int64_t ticket, double v)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].ticket_id == ticket && same(t->v[i].name, name))
            return t->v[i].value += v, true;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        struct kw_report_top *nv = realloc(t->v, cap * sizeof(*nv));
        if (!nv)
            return false;
        t->v = nv;
        t->cap = cap;
    }
    t->v[t->n++] = (struct kw_report_top){.name = name, .ticket_id = ticket, .value = v};
    return true;
}

static int by_value(const void *a, const void *b)
{
    const struct kw_report_top *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    int c = cmp_name(x->name, y->name);
    return c ? c : (x->ticket_id > y->ticket_id) - (x->ticket_id < y->ticket_id);
}

static void tally_top(struct tally *t, struct kw_report *out, enum kw_report_top_kind k)
{
    if (t->n)
        qsort(t->v, t->n, sizeof(*t->v), by_value);
    out->ntop[k] = t->n < KW_REPORT_TOP ? t->n : KW_REPORT_TOP;
    if (out->ntop[k])
        memcpy(out->top[k], t->v, out->ntop[k] * sizeof(*t->v));
    free(t->v);
    *t = (struct tally){0};
}

static int by_overrun(const void *a, const void *b)
{
    const struct kw_report_breach *x = a, *y = b;
    if (x->over_wall != y->over_wall)
        return x->over_wall > y->over_wall ? -1 : 1;
    if (x->run->ticket_id != y->run->ticket_id)
        return x->run->ticket_id < y->run->ticket_id ? -1 : 1;
    return cmp_name(x->run->metric, y->run->metric);
}

static int by_keys(const void *a, const void *b)
{
    const struct grp *x = a, *y = b;
    int c = cmp_name(x->k1, y->k1);
    return c ? c : cmp_name(x->k2, y->k2);
}

static int by_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int by_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* ---- the radar's formulas (docs/kpi.md) ---- */

double kw_report_responsiveness(double mean_sri)
{
    if (isnan(mean_sri))
        return NAN;
    double v = 200.0 - mean_sri;
    return kw_kpi_round1(v < 0 ? 0 : v > 100 ? 100 : v);
}

double kw_report_workload(size_t handled, double team_median)
{
    if (isnan(team_median) || (handled == 0 && team_median <= 0))
        return NAN;
    if (team_median <= 0)
        return 100;
    double v = 100.0 * (double)handled / team_median;
    return kw_kpi_round1(v > 100 ? 100 : v);
}

static double pct(size_t part, size_t whole)
{
    return whole ? kw_kpi_round1(100.0 * (double)part / (double)whole) : NAN;
}

/* ---- rows ---- */

static void row_of(struct grp *g, struct kw_report_row *r, bool level)
{
    *r = (struct kw_report_row){.key = g->k1, .key2 = g->k2};
    kw_kpi_figures(&g->all, &r->m);
    r->target_median = NAN;
    r->mtta = r->mttr = NAN;
    if (level && g->ntargets) {
        struct kw_kpi_stat s = kw_kpi_stat_i64(g->targets, g->ntargets);
        r->target_median = s.median;
    }
    if (!level) {
        r->mtta = mean_elapsed(&g->resp);
        r->mttr = mean_elapsed(&g->resol);
    }
    r->resolved = g->resolved;
    r->reopened = g->reopened;
    r->open = g->open;
    struct kw_kpi_rating_figures rf;
    kw_kpi_rating_figures(&g->rt, &rf);
    r->csat = or_nan(rf.csat_mean >= 0, rf.csat_mean);
}

static bool has_reopen(const int64_t *v, size_t n, int64_t ticket)
{
    return n && bsearch(&ticket, v, n, sizeof(*v), by_i64) != NULL;
}

void kw_report_free(struct kw_report *r)
{
    if (!r)
        return;
    free(r->levels);
    free(r->teams);
    free(r->agents);
    free(r->breaches);
    free(r->radar);
    free(r->trend);
    *r = (struct kw_report){0};
}

enum kw_code kw_report_headline(const struct kw_report_input *in, double h[KW_RH_COUNT],
                                struct kw_err *err)
{
    return headline(in, h, err) ? KW_OK : (err && err->code != KW_OK ? err->code : KW_NOMEM);
}

void kw_report_heads_set(struct kw_report *r, const double *head, const double *prev)
{
    for (size_t k = 0; k < KW_RH_COUNT; k++) {
        r->head[k] = head[k];
        r->prev[k] = prev ? prev[k] : NAN;
        r->delta[k] = prev ? kw_kpi_round1(head[k] - prev[k]) : NAN; /* NAN stays NAN */
    }
}

enum kw_code kw_report_build(const struct kw_report_input *cur, const struct kw_report_input *prev,
                             const int64_t *bounds, size_t nb, bool per_agent,
                             struct kw_report *out, struct kw_err *err)
{
    double head[KW_RH_COUNT], before[KW_RH_COUNT];
    enum kw_code rc = kw_report_build_body(cur, bounds, nb, per_agent, out, err);
    if (rc == KW_OK && (rc = kw_report_headline(cur, head, err)) == KW_OK && prev)
        rc = kw_report_headline(prev, before, err);
    if (rc != KW_OK) {
        kw_report_free(out);
        return rc;
    }
    kw_report_heads_set(out, head, prev ? before : NULL);
    return KW_OK;
}

enum kw_code kw_report_build_body(const struct kw_report_input *cur, const int64_t *bounds,
                                  size_t nb, bool per_agent, struct kw_report *out,
                                  struct kw_err *err)
{
    *out = (struct kw_report){.from = cur->from, .to = cur->to};
    struct grps levels = {0}, teams = {0}, agents = {0};
    struct tally t[KW_RT_COUNT] = {{0}};
    int64_t *reopens = NULL;
    size_t nreopens = 0;
    size_t *handled = NULL;
    bool ok = false;

    for (size_t k = 0; k < KW_RH_COUNT; k++)
        out->head[k] = out->prev[k] = out->delta[k] = NAN;

    /* runs: levels x metrics, teams, agents, breaches, trend */
    out->breaches = calloc(cur->nruns ? cur->nruns : 1, sizeof(*out->breaches));
    out->trend = calloc(nb ? nb : 1, sizeof(*out->trend));
    if (!out->breaches || !out->trend)
        goto nomem;
    for (size_t b = 0; b < nb; b++)
        out->trend[b] = (struct kw_report_bucket){.from = bounds[b], .to = bounds[b + 1]};
    out->ntrend = nb;
    /* how many stopped runs each group takes, so each is sized once */
    for (size_t i = 0; i < cur->nruns; i++) {
        const struct kw_report_run *r = &cur->runs[i];
        enum kw_kpi_class c = kw_kpi_classify(&r->run, cur->from, cur->to);
        struct grp *g = grp_get(&levels, r->level, r->metric);
        if (!g)
            goto nomem;
        grp_count(g, r, c);
        g->ntargets += c != KW_KPI_OUT; /* counted here, reset below */
        if (!per_agent)
            continue;
        if (!(g = grp_get(&teams, r->team, NULL)))
            goto nomem;
        grp_count(g, r, c);
        if (r->assignee) {
            if (!(g = grp_get(&agents, r->assignee, NULL)))
                goto nomem;
            grp_count(g, r, c);
        }
    }
    for (size_t i = 0; i < levels.n; i++) {
        struct grp *g = &levels.v[i];
        size_t n = g->ntargets;
        g->ntargets = 0;
        if (!grp_reserve(g) || (n && !(g->targets = malloc(n * sizeof(*g->targets)))))
            goto nomem;
        g->captargets = n;
    }
    for (size_t i = 0; i < teams.n; i++)
        if (!grp_reserve(&teams.v[i]))
            goto nomem;
    for (size_t i = 0; i < agents.n; i++)
        if (!grp_reserve(&agents.v[i]))
            goto nomem;
    for (size_t i = 0; i < cur->nruns; i++) {
        const struct kw_report_run *r = &cur->runs[i];
        struct grp *g = grp_get(&levels, r->level, r->metric);
        if (!g || !grp_run(g, r, cur->from, cur->to, true, err))
            goto nomem;
        if (per_agent) {
            g = grp_get(&teams, r->team, NULL);
            if (!g || !grp_run(g, r, cur->from, cur->to, false, err))
                goto nomem;
            if (r->assignee) {
                g = grp_get(&agents, r->assignee, NULL);
                if (!g || !grp_run(g, r, cur->from, cur->to, false, err))
                    goto nomem;
                if (!g->team)
                    g->team = r->team;
            }
        }
        for (size_t b = 0; b < nb; b++) {
            enum kw_kpi_class c = kw_kpi_classify(&r->run, bounds[b], bounds[b + 1]);
            if (c == KW_KPI_MET)
                out->trend[b].met++;
            else if (c != KW_KPI_OUT)
                out->trend[b].late++;
        }
        enum kw_kpi_class c = kw_kpi_classify(&r->run, cur->from, cur->to);
        if (c != KW_KPI_MET_LATE && c != KW_KPI_BREACHED_OPEN)
            continue;
        int64_t end = c == KW_KPI_MET_LATE ? r->run.stopped_at : cur->to;
        struct kw_report_breach *br = &out->breaches[out->nbreaches++];
        *br = (struct kw_report_breach){.run = r,
                                        .cls = c,
                                        .over_wall = end - r->run.breached_at,
                                        .over_working = r->run.overrun_working};
        if (!tally_add(&t[KW_RT_CATEGORIES], r->category, 0, 1) ||
            !tally_add(&t[KW_RT_REASONS], r->reason, 0, 1) ||
            !tally_add(&t[KW_RT_ORGS], r->org, 0, 1))
            goto nomem;
    }
    for (size_t b = 0; b < nb; b++)
        out->trend[b].on_time = pct(out->trend[b].met, out->trend[b].met + out->trend[b].late);
    if (out->nbreaches)
        qsort(out->breaches, out->nbreaches, sizeof(*out->breaches), by_overrun);
    for (size_t i = 0; i < out->nbreaches && i < KW_REPORT_TOP; i++)
        if (!tally_add(&t[KW_RT_LONGEST], out->breaches[i].run->metric,
                       out->breaches[i].run->ticket_id, (double)out->breaches[i].over_wall))
            goto nomem;

    /* facts: reopenings first (professionalism looks them up), then the rest */
    reopens = malloc((cur->nfacts ? cur->nfacts : 1) * sizeof(*reopens));
    if (!reopens)
        goto nomem;
    for (size_t i = 0; i < cur->nfacts; i++)
        if (cur->facts[i].kind == KW_RF_REOPENED) {
            reopens[nreopens++] = cur->facts[i].ticket_id;
            if (!tally_add(&t[KW_RT_REOPENED], cur->facts[i].category, cur->facts[i].ticket_id, 1))
                goto nomem;
        }
    if (nreopens)
        qsort(reopens, nreopens, sizeof(*reopens), by_i64);
    for (size_t i = 0; i < cur->nfacts; i++) {
        const struct kw_report_fact *f = &cur->facts[i];
        if (f->kind == KW_RF_CREATED)
            continue;
        if (f->kind == KW_RF_OPEN) {
            size_t a = (size_t)(cur->to - f->at < 0 ? 0 : cur->to - f->at);
            out->backlog[a < 86400 ? 0 : a < 3 * 86400 ? 1 : a < 7 * 86400 ? 2 : 3]++;
            out->backlog[4]++;
        }
        if (!per_agent)
            continue;
        if (f->kind != KW_RF_RATED && f->kind != KW_RF_OPEN && !first_of_ticket(cur, i))
            continue;
        struct grp *g[2] = {grp_get(&teams, f->team, NULL),
                            f->assignee ? grp_get(&agents, f->assignee, NULL) : NULL};
        if (!g[0] || (f->assignee && !g[1]))
            goto nomem;
        for (size_t k = 0; k < 2 && g[k]; k++) {
            if (k == 1 && !g[k]->team)
                g[k]->team = f->team;
            if (f->kind == KW_RF_RATED)
                kw_kpi_rating_add(&g[k]->rt, f->satisfaction, f->nps);
            else if (f->kind == KW_RF_OPEN)
                g[k]->open++;
            else if (f->kind == KW_RF_REOPENED)
                g[k]->reopened++;
            else if (f->kind == KW_RF_RESOLVED) {
                g[k]->resolved++;
                if (!has_reopen(reopens, nreopens, f->ticket_id))
                    g[k]->clean++;
            }
        }
    }
    struct kw_kpi_ratings all = {0};
    for (size_t i = 0; i < cur->nfacts; i++)
        if (cur->facts[i].kind == KW_RF_RATED)
            kw_kpi_rating_add(&all, cur->facts[i].satisfaction, cur->facts[i].nps);
    kw_kpi_rating_figures(&all, &out->ratings);

    /* the tables, in name order */
    if (levels.n)
        qsort(levels.v, levels.n, sizeof(*levels.v), by_keys);
    if (teams.n)
        qsort(teams.v, teams.n, sizeof(*teams.v), by_keys);
    if (agents.n)
        qsort(agents.v, agents.n, sizeof(*agents.v), by_keys);
    out->levels = calloc(levels.n ? levels.n : 1, sizeof(*out->levels));
    out->teams = calloc(teams.n ? teams.n : 1, sizeof(*out->teams));
    out->agents = calloc(agents.n ? agents.n : 1, sizeof(*out->agents));
    out->radar = calloc(agents.n ? agents.n : 1, sizeof(*out->radar));
    handled = calloc(agents.n ? agents.n : 1, sizeof(*handled));
    if (!out->levels || !out->teams || !out->agents || !out->radar || !handled)
        goto nomem;
    for (size_t i = 0; i < levels.n; i++)
        row_of(&levels.v[i], &out->levels[i], true);
    for (size_t i = 0; i < teams.n; i++)
        row_of(&teams.v[i], &out->teams[i], false);
    out->nlevels = levels.n;
    out->nteams = teams.n;
    out->nagents = agents.n;

    /* the radar: workload against the median of the agent's team */
    size_t *peers = calloc(agents.n ? agents.n : 1, sizeof(*peers));
    if (!peers)
        goto nomem;
    for (size_t i = 0; i < agents.n; i++)
        handled[i] = agents.v[i].resolved + agents.v[i].open;
    for (size_t i = 0; i < agents.n; i++) {
        struct grp *g = &agents.v[i];
        row_of(g, &out->agents[i], false);
        size_t np = 0;
        for (size_t j = 0; j < agents.n; j++)
            if (same(agents.v[j].team, g->team))
                peers[np++] = handled[j];
        qsort(peers, np, sizeof(*peers), by_size);
        double median = np % 2 ? (double)peers[np / 2]
                               : ((double)peers[np / 2 - 1] + (double)peers[np / 2]) / 2.0;
        struct kw_kpi_metric resp;
        kw_kpi_figures(&g->resp, &resp);
        double csat = out->agents[i].csat;
        struct kw_report_radar *rd = &out->radar[i];
        *rd = (struct kw_report_radar){.agent = g->k1, .team = g->team, .handled = handled[i]};
        rd->axis[KW_RA_TIMELINESS] =
            out->agents[i].m.on_time_rate >= 0 ? out->agents[i].m.on_time_rate : NAN;
        rd->axis[KW_RA_RESPONSIVENESS] = kw_report_responsiveness(resp.sri.n ? resp.sri.mean : NAN);
        rd->axis[KW_RA_RESOLUTION] = pct(g->resolved, handled[i]);
        rd->axis[KW_RA_PROFESSIONALISM] = pct(g->clean, g->resolved);
        rd->axis[KW_RA_FRIENDLINESS] = isnan(csat) ? NAN : kw_kpi_round1((csat - 1.0) * 25.0);
        rd->axis[KW_RA_WORKLOAD] = kw_report_workload(handled[i], median);
    }
    free(peers);

    for (size_t k = 0; k < KW_RT_COUNT; k++)
        tally_top(&t[k], out, (enum kw_report_top_kind)k);
    ok = true;
    goto out;
nomem:
    if (!err || err->code == KW_OK)
        kw_err_set(err, KW_NOMEM, NULL, "out of memory");
out:
    for (size_t k = 0; k < KW_RT_COUNT; k++)
        free(t[k].v);
    grps_free(&levels);
    grps_free(&teams);
    grps_free(&agents);
    free(reopens);
    free(handled);
    if (!ok)
        kw_report_free(out);
    return ok ? KW_OK : (err && err->code != KW_OK ? err->code : KW_NOMEM);
}
