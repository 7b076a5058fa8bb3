// SPDX-License-Identifier: MIT
/* /api/v1/kpis and /api/v1/kpis/breaches: the figures of docs/kpi.md over a
 * period, grouped and bucketed. Clock runs come from the KPI facts
 * (kpi_runs); a run that breached in a bucket and had not stopped at its end
 * is measured again from its events as of that end (or now, if earlier), so
 * its overrun is the one at the bucket's end. Ticket counts, ratings and
 * time spent come from the tickets' facts kept in memory (app/kpi_cache.h). Staff see every
 * organisation; a customer only their own, never grouped by assignee. */
#define _GNU_SOURCE /* mremap, madvise(MADV_HUGEPAGE) */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "civil.h"
#include "internal.h"
#include "watch.h"
#include "kpi.h"
#include "kpi_cache.h"
#include "tz.h"

#define MAX_PERIOD_DAYS 366
#define MAX_METRICS 64
#define MAX_GROUPS 20000 /* groups x buckets in one answer */
#define BREACHES_MAX 1000
#define MAX_POLICIES 32 /* commitment versions whose lookups a query keeps */

enum dim {
    D_LEVEL,
    D_TIER,
    D_ORG,
    D_TEAM,
    D_ASSIGNEE,
    D_CATEGORY,
    D_REGION,
    D_CHANNEL,
    D_COMMITMENT,
    D_COUNT
};
static const char *const dim_names[D_COUNT] = {"level",  "tier",     "organisation",
                                               "team",   "assignee", "category",
                                               "region", "channel",  "commitment"};

enum bucket_kind { B_NONE, B_DAY, B_WEEK, B_MONTH };

struct bucket {
    int64_t from, to;
    char label[32];
};

/* A name for an id (teams, people, organisations, commitment versions). */
struct name_cache {
    size_t n, cap;
    struct {
        int64_t id;
        char *name;
    } * v;
};

struct entry {
    char *key; /* bucket and dimension values */
    size_t bucket;
    char *vals[D_COUNT]; /* owned; NULL: none */
    struct kw_kpi_acc acc[MAX_METRICS];
    /* the response and resolution metrics' stopped runs (MTTA, MTTR): only
     * their mean is given, so a count and an exact sum of whole seconds */
    struct marked {
        size_t n;
        int64_t sum;
    } marked[2];
    int64_t created, resolved, reopened, backlog[4];
    int64_t last_resolved, last_reopened; /* the ticket counted last (its events come together) */
    struct kw_kpi_ratings ratings;
    struct kw_kpi_time time;
};

struct kq {
    struct kwh_call *x;
    int64_t from, to, now, org; /* org: a customer's, else 0 */
    const char *tz;
    struct kw_tzinfo tzi;
    enum bucket_kind bk;
    size_t nb;
    struct bucket *b;
    /* the bucket of each whole day from `from` on (nday of them, 0: none),
     * where bucket_of starts: a run's bucket without a search */
    size_t nday;
    uint16_t day_b[MAX_PERIOD_DAYS + 3];
    size_t ndims;
    enum dim dims[D_COUNT];
    size_t nm;
    char *metrics[MAX_METRICS];
    struct name_cache teams, people, orgs, commitments;
    /* the teams' hourly costs (time accounting), read once */
    size_t ncosts;
    struct team_rate {
        int64_t id, hourly; /* hourly < 0: none */
        char currency[4];
    } * costs;
    bool costs_read;
    /* the groups: open addressing on key */
    size_t n, cap;
    struct entry **slot;
    /* each commitment version's compiled policy and its metrics' roles
     * (MTTA, MTTR) by q->metrics index, looked up once, not once a run */
    size_t npol;
    struct pol {
        int64_t id;
        const struct kw_compiled *k;
        signed char role[MAX_METRICS]; /* enum kw_metric_kpi; -1: not looked up */
    } pol[MAX_POLICIES], spare;        /* spare: one more, looked up each time */
    /* per shape of the runs in memory (kw_kpi_cache_runs_shaped): its
     * metric's index in q->metrics (-2: not looked up) and its group in each
     * bucket (cells[shape * nb + b]), found once a shape, not once a run */
    size_t nshapes;
    int *shape_mi;
    struct entry **cells;
    char *slab; /* the figures' arrays (acc_room) */
    /* per shape, its calendar and clock state (carried), looked up once
     * before two readers (side_prepare), or NULL */
    const struct shape_carry *shape_carry;
    size_t nshape_carry;
    size_t slab_size, slab_used;
    struct kw_err err;
    bool failed;
    struct drill *drill; /* GET /kpis/tickets: what is behind one figure of one cell */
};

/* The figures GET /kpis/tickets drills into (docs/kpi.md, "Drilling down"):
 * runs by class, the stopped runs behind elapsed and SRI, the marked runs
 * behind MTTA and MTTR, the tickets behind the ticket counts, the ratings. */
enum figure {
    F_RUNS,
    F_MET,
    F_MET_LATE,
    F_BREACHED_OPEN,
    F_BREACHES,
    F_STOPPED,
    F_MTTA,
    F_MTTR,
    F_CREATED,
    F_RESOLVED,
    F_REOPENED,
    F_BACKLOG,
    F_RATED,
    F_NPS,
    F_COUNT
};
static const char *const figure_names[F_COUNT] = {
    "runs", "met",     "met_late", "breached_open", "breaches", "stopped", "mtta",
    "mttr", "created", "resolved", "reopened",      "backlog",  "rated",   "nps"};

struct drill {
    enum figure fig;
    size_t bucket;             /* the cell's bucket (0 without buckets) */
    const char *want[D_COUNT]; /* the cell's value of each dimension of q->dims; NULL: none */
    size_t count;              /* runs, tickets or ratings behind the figure */
    size_t limit;              /* items kept in the lists */
    json_t *items;             /* runs or ratings, up to limit */
    int64_t *ids;              /* every ticket, unsorted, with repeats */
    size_t nids, cap;
    bool nomem;
};

/* ---- parameters ---- */

static struct kwh_reply bad(const char *param, enum kw_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static struct kwh_reply bad(const char *param, enum kw_code code, const char *fmt, ...)
{
    struct kw_err err = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    snprintf(err.field, sizeof(err.field), "/%s", param);
    struct kwh_reply r = kwh_problem(&err);
    if (r.json)
        json_object_set_new(r.json, "parameter", json_string(param));
    return r;
}

/* The first day of the bucket holding local day d, and of the next one. */
static int64_t bucket_day(enum bucket_kind k, int64_t d, bool next)
{
    int64_t y;
    unsigned m, dd;
    switch (k) {
    case B_WEEK:
        d -= kw_weekday(d);
        return next ? d + 7 : d;
    case B_MONTH:
        kw_civil_from_days(d, &y, &m, &dd);
        if (next && ++m == 13) {
            m = 1;
            y++;
        }
        return kw_days_from_civil(y, m, 1);
    default:
        return next ? d + 1 : d;
    }
}

static void bucket_label(enum bucket_kind k, int64_t d, char *out, size_t cap)
{
    int64_t y;
    unsigned m, dd;
    if (k == B_WEEK) {
        /* ISO 8601: the week belongs to the year of its Thursday */
        int64_t thu = d + 3;
        kw_civil_from_days(thu, &y, &m, &dd);
        int64_t week = (thu - kw_days_from_civil(y, 1, 1)) / 7 + 1;
        snprintf(out, cap, "%04d-W%02d", (int)y, (int)week);
        return;
    }
    kw_civil_from_days(d, &y, &m, &dd);
    if (k == B_MONTH)
        snprintf(out, cap, "%04d-%02u", (int)y, m % 100);
    else
        snprintf(out, cap, "%04d-%02u-%02u", (int)y, m % 100, dd % 100);
}

static bool make_buckets(struct kq *q)
{
    if (q->bk == B_NONE) {
        q->b = calloc(1, sizeof(*q->b));
        if (!q->b)
            return false;
        q->b[0] = (struct bucket){q->from, q->to, ""};
        q->nb = 1;
        return true;
    }
    size_t cap = MAX_PERIOD_DAYS + 2;
    q->b = calloc(cap, sizeof(*q->b));
    if (!q->b)
        return false;
    int64_t d = bucket_day(q->bk, kw_tz_day(&q->tzi, q->from), false);
    while (q->nb < cap) {
        int64_t start = kw_tz_instant(&q->tzi, 86400 * d), nd = bucket_day(q->bk, d, true);
        int64_t end = kw_tz_instant(&q->tzi, 86400 * nd);
        if (start >= q->to)
            break;
        struct bucket *b = &q->b[q->nb++];
        b->from = start < q->from ? q->from : start;
        b->to = end > q->to ? q->to : end;
        bucket_label(q->bk, d, b->label, sizeof(b->label));
        d = nd;
    }
    if (q->to - q->from <= (int64_t)(MAX_PERIOD_DAYS + 2) * 86400) {
        size_t b = 0;
        for (int64_t t = q->from; t < q->to; t += 86400) {
            while (b + 1 < q->nb && q->b[b + 1].from <= t)
                b++;
            q->day_b[q->nday++] = (uint16_t)b;
        }
    }
    return true;
}

/* The bucket holding t (in [from, to)), or q->nb. */
static size_t bucket_of(const struct kq *q, int64_t t)
{
    if (t < q->from || t >= q->to)
        return q->nb;
    if (q->nday) { /* its day's, or a later one that began since */
        size_t b = q->day_b[(t - q->from) / 86400];
        while (b + 1 < q->nb && q->b[b + 1].from <= t)
            b++;
        return b;
    }
    size_t lo = 0, hi = q->nb;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (q->b[mid].from <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static bool metrics_row(const struct kw_commitment_row *c, void *ctx)
{
    struct kq *q = ctx;
    struct kw_err err = {0};
    const struct kw_compiled *k = kwh_policy_for(q->x->h, q->x->wk->st, c->id, &err);
    if (!k)
        return true; /* a version that no longer compiles has no clocks to count */
    for (size_t i = 0; i < kw_policy_metric_count(k->p) && q->nm < MAX_METRICS; i++) {
        const char *id = kw_policy_metric_id(k->p, i);
        bool seen = false;
        for (size_t j = 0; j < q->nm && !seen; j++)
            seen = strcmp(q->metrics[j], id) == 0;
        if (!seen)
            q->metrics[q->nm++] = strdup(id);
    }
    return true;
}

static int metric_index(const struct kq *q, const char *id)
{
    for (size_t i = 0; i < q->nm; i++)
        if (strcmp(q->metrics[i], id) == 0)
            return (int)i;
    return -1;
}

/* The compiled policy of commitment version id (NULL: none compiles), kept
 * in q after its first lookup. */
static struct pol *pol_of(struct kq *q, int64_t id)
{
    for (size_t i = 0; i < q->npol; i++)
        if (q->pol[i].id == id)
            return &q->pol[i];
    struct kw_err err = {0};
    const struct kw_compiled *k = kwh_policy_for(q->x->h, q->x->wk->st, id, &err);
    struct pol *p = q->npol < MAX_POLICIES ? &q->pol[q->npol++] : &q->spare;
    *p = (struct pol){.id = id, .k = k};
    memset(p->role, -1, sizeof(p->role));
    return p;
}

/* Whether commitment version id marks metric mi (of q->metrics) as the
 * response or resolution metric ("kpi", docs/kpi.md). */
static enum kw_metric_kpi role_of(struct kq *q, int64_t id, int mi)
{
    struct pol *p = pol_of(q, id);
    if (p->role[mi] < 0) {
        int m = p->k ? kw_policy_metric_index(p->k->p, q->metrics[mi]) : -1;
        p->role[mi] =
            (signed char)(m < 0 ? KW_MKPI_NONE : kw_policy_metric_kpi(p->k->p, (size_t)m));
    }
    return (enum kw_metric_kpi)p->role[mi];
}

/* from, to, tz, bucket, group_by, metric into q; false with *fail. */
static bool parse(struct kq *q, bool with_groups, struct kwh_reply *fail)
{
    struct kwh_call *x = q->x;
    const char *from = kwh_query(x, "from"), *to = kwh_query(x, "to");
    struct kw_err err = {0};
    if (!from)
        return *fail = bad("from", KW_INVALID,
                           "from: missing (an instant, e.g. 2026-03-01T00:00:00+08:00)"),
               false;
    if (!to)
        return *fail = bad("to", KW_INVALID,
                           "to: missing (an instant, e.g. 2026-04-01T00:00:00+08:00)"),
               false;
    if (kw_instant_parse(from, strlen(from), &q->from, &err) != KW_OK)
        return *fail = bad("from", KW_INVALID, "from: %s", err.msg), false;
    if (kw_instant_parse(to, strlen(to), &q->to, &err) != KW_OK)
        return *fail = bad("to", KW_INVALID, "to: %s", err.msg), false;
    if (q->from >= q->to)
        return *fail = bad("to", KW_INVALID, "to: must be after from (the period is [from, to))"),
               false;
    if (q->to - q->from > (int64_t)MAX_PERIOD_DAYS * 86400)
        return *fail = bad("to", KW_INVALID, "to: the period is at most %d days", MAX_PERIOD_DAYS),
               false;
    q->tz = kwh_query(x, "tz");
    if (!q->tz)
        q->tz = "UTC";
    if (strlen(q->tz) > 64 ||
        kw_tzdb_get(kw_clocks_tzdb(x->h->clocks), q->tz, &q->tzi, &err) != KW_OK)
        return *fail = bad("tz", KW_INVALID,
                           "tz: \"%.64s\" is not a time zone (e.g. Asia/Shanghai, UTC)", q->tz),
               false;
    const char *bucket = kwh_query(x, "bucket");
    if (with_groups && bucket) {
        if (strcmp(bucket, "day") == 0)
            q->bk = B_DAY;
        else if (strcmp(bucket, "week") == 0)
            q->bk = B_WEEK;
        else if (strcmp(bucket, "month") == 0)
            q->bk = B_MONTH;
        else
            return *fail = bad("bucket", KW_INVALID,
                               "bucket: \"%.32s\": expected day, week or month", bucket),
                   false;
    }
    const char *g = with_groups ? kwh_query(x, "group_by") : NULL;
    for (const char *p = g; p && *p;) {
        size_t len = strcspn(p, ",");
        int d = -1;
        for (int i = 0; i < D_COUNT && d < 0; i++)
            if (strlen(dim_names[i]) == len && strncmp(dim_names[i], p, len) == 0)
                d = i;
        if (d < 0)
            return *fail = bad("group_by", KW_INVALID,
                               "group_by: \"%.*s\" is not a dimension (expected level, tier, "
                               "organisation, team, assignee, category, region, channel or "
                               "commitment, comma-separated)",
                               (int)(len > 32 ? 32 : len), p),
                   false;
        for (size_t i = 0; i < q->ndims; i++)
            if (q->dims[i] == (enum dim)d)
                return *fail =
                           bad("group_by", KW_INVALID, "group_by: %s given twice", dim_names[d]),
                       false;
        if (d == D_ASSIGNEE && x->me.customer)
            return *fail = bad("group_by", KW_FORBIDDEN,
                               "group_by: customers see their organisation's figures, not each "
                               "agent's (assignee)"),
                   false;
        q->dims[q->ndims++] = (enum dim)d;
        p += len;
        if (*p == ',')
            p++;
    }
    /* the metrics: those of every commitment version, or the ones asked for */
    if (kw_store_commitments(x->wk->st, metrics_row, q, &err) != KW_OK)
        return *fail = kwh_problem(&err), false;
    const char *m = kwh_query(x, "metric");
    if (m) {
        char *keep[MAX_METRICS];
        size_t nk = 0;
        for (const char *p = m; *p;) {
            size_t len = strcspn(p, ",");
            int found = -1;
            for (size_t i = 0; i < q->nm && found < 0; i++)
                if (strlen(q->metrics[i]) == len && strncmp(q->metrics[i], p, len) == 0)
                    found = (int)i;
            if (found < 0) {
                for (size_t i = 0; i < nk; i++)
                    free(keep[i]);
                return *fail = bad("metric", KW_INVALID,
                                   "metric: \"%.*s\" is not a metric of any commitment",
                                   (int)(len > 40 ? 40 : len), p),
                       false;
            }
            bool dup = false;
            for (size_t i = 0; i < nk && !dup; i++)
                dup = strcmp(keep[i], q->metrics[found]) == 0;
            if (!dup)
                keep[nk++] = strdup(q->metrics[found]);
            p += len;
            if (*p == ',')
                p++;
        }
        for (size_t i = 0; i < q->nm; i++)
            free(q->metrics[i]);
        memcpy(q->metrics, keep, nk * sizeof(keep[0]));
        q->nm = nk;
    }
    if (x->me.customer)
        q->org = x->me.org_id;
    return true;
}

/* ---- names ---- */

static const char *cached(struct name_cache *c, int64_t id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].id == id)
            return c->v[i].name;
    return NULL;
}

static const char *remember(struct name_cache *c, int64_t id, const char *name)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        void *v = realloc(c->v, cap * sizeof(*c->v));
        if (!v)
            return NULL;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n].id = id;
    c->v[c->n].name = strdup(name ? name : "");
    return c->v[c->n++].name;
}

static void forget(struct name_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].name);
    free(c->v);
}

static bool team_row(const struct kw_named_row *r, void *ctx)
{
    remember(ctx, r->id, r->name);
    return true;
}

static bool commitment_row(const struct kw_commitment_row *c, void *ctx)
{
    char name[300];
    snprintf(name, sizeof(name), "%s %s", c->name, c->version);
    remember(ctx, c->id, name);
    return true;
}

static const char *name_of(struct kq *q, enum dim d, int64_t id)
{
    if (!id)
        return NULL;
    struct kw_store *st = q->x->wk->st;
    struct kw_err err = {0};
    const char *n;
    switch (d) {
    case D_TEAM:
        if (!q->teams.n)
            kw_store_teams(st, 0, team_row, &q->teams, &err);
        return cached(&q->teams, id);
    case D_COMMITMENT:
        if (!q->commitments.n)
            kw_store_commitments(st, commitment_row, &q->commitments, &err);
        return cached(&q->commitments, id);
    case D_ASSIGNEE:
        if ((n = cached(&q->people, id)))
            return n;
        struct kw_user_row u;
        return remember(&q->people, id,
                        kw_store_user_get(st, id, &u, &err) == KW_OK ? u.name : NULL);
    case D_ORG:
        if ((n = cached(&q->orgs, id)))
            return n;
        struct kw_org o;
        return remember(&q->orgs, id, kw_store_org_get(st, id, &o, &err) == KW_OK ? o.name : NULL);
    default:
        return NULL;
    }
}

/* ---- the groups ---- */

struct dims {
    const char *v[D_COUNT];
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The group of bucket b with these dimension values (created on first use);
 * NULL when out of memory or too many. */
static struct entry *group(struct kq *q, size_t b, const struct dims *d)
{
    /* the bucket's number, then each value after a unit separator (a
     * record separator for none), cut at the key's size: as snprintf
     * would write it, without its cost once a run */
    char key[2048], digits[24];
    size_t len = 0, nd = 0;
    for (size_t v = b; nd == 0 || v; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    while (nd)
        key[len++] = digits[--nd];
    for (size_t i = 0; i < q->ndims && len < sizeof(key) - 1; i++) {
        const char *v = d->v[q->dims[i]];
        if (!v)
            v = "\x1e";
        key[len++] = '\x1f';
        size_t n = strlen(v);
        if (n > sizeof(key) - 1 - len)
            n = sizeof(key) - 1 - len;
        memcpy(key + len, v, n);
        len += n;
    }
    key[len] = '\0';
    if (q->n * 2 >= q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct entry **slot = calloc(cap, sizeof(*slot));
        if (!slot)
            return NULL;
        for (size_t i = 0; i < q->cap; i++)
            if (q->slot[i]) {
                size_t k = hash(q->slot[i]->key) & (cap - 1);
                while (slot[k])
                    k = (k + 1) & (cap - 1);
                slot[k] = q->slot[i];
            }
        free(q->slot);
        q->slot = slot;
        q->cap = cap;
    }
    size_t k = hash(key) & (q->cap - 1);
    while (q->slot[k]) {
        if (strcmp(q->slot[k]->key, key) == 0)
            return q->slot[k];
        k = (k + 1) & (q->cap - 1);
    }
    if (q->n >= MAX_GROUPS)
        return NULL;
    struct entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->key = strdup(key))) {
        free(e);
        return NULL;
    }
    e->bucket = b;
    e->last_resolved = e->last_reopened = -1;
    for (size_t i = 0; i < q->ndims; i++) {
        const char *v = d->v[q->dims[i]];
        e->vals[q->dims[i]] = v ? strdup(v) : NULL;
    }
    q->slot[k] = e;
    q->n++;
    return e;
}

static struct entry *group_or_fail(struct kq *q, size_t b, const struct dims *d)
{
    struct entry *e = group(q, b, d);
    if (!e && !q->failed) {
        q->failed = true;
        kw_err_set(&q->err, q->n >= MAX_GROUPS ? KW_TOO_BIG : KW_NOMEM, "/group_by",
                   "group_by: more than %d groups; group by fewer dimensions or use fewer buckets",
                   MAX_GROUPS);
    }
    return e;
}

static void run_dims(struct kq *q, const struct kw_run_row *r, struct dims *d)
{
    *d = (struct dims){0};
    d->v[D_LEVEL] = r->level;
    d->v[D_TIER] = r->tier;
    d->v[D_CATEGORY] = r->category;
    d->v[D_REGION] = r->region;
    d->v[D_CHANNEL] = r->channel;
    for (size_t i = 0; i < q->ndims; i++) {
        enum dim k = q->dims[i];
        if (k == D_TEAM)
            d->v[k] = name_of(q, k, r->team_id);
        else if (k == D_ASSIGNEE)
            d->v[k] = name_of(q, k, r->assignee_id);
        else if (k == D_ORG)
            d->v[k] = name_of(q, k, r->org_id);
        else if (k == D_COMMITMENT)
            d->v[k] = name_of(q, k, r->commitment_id);
    }
}

static void fact_dims(struct kq *q, const struct kw_ticket_fact_row *r, struct dims *d)
{
    struct kw_run_row rr = {.level = r->level,
                            .tier = r->tier,
                            .category = r->category,
                            .region = r->region,
                            .channel = r->channel,
                            .team_id = r->team_id,
                            .assignee_id = r->assignee_id,
                            .org_id = r->org_id,
                            .commitment_id = r->commitment_id};
    run_dims(q, &rr, d);
}

/* Room for shape in q's per-shape arrays; false past what they may hold
 * (then the run is grouped by its values) or out of memory. */
#define MAX_CELLS ((size_t)1 << 22) /* shapes x buckets */

static bool shape_room(struct kq *q, uint32_t shape)
{
    if (shape == KW_KPI_NO_SHAPE || ((size_t)shape + 1) * q->nb > MAX_CELLS)
        return false;
    if (shape < q->nshapes)
        return true;
    size_t n = q->nshapes ? q->nshapes : 256;
    while (n <= shape)
        n *= 2;
    if (n * q->nb > MAX_CELLS)
        n = MAX_CELLS / q->nb;
    int *mi = realloc(q->shape_mi, n * sizeof(*mi));
    if (!mi)
        return false;
    q->shape_mi = mi;
    struct entry **cells = realloc(q->cells, n * q->nb * sizeof(*cells));
    if (!cells)
        return false;
    q->cells = cells;
    for (size_t i = q->nshapes; i < n; i++)
        mi[i] = -2;
    memset(cells + q->nshapes * q->nb, 0, (n - q->nshapes) * q->nb * sizeof(*cells));
    q->nshapes = n;
    return true;
}

/* metric_index of r's metric, once a shape */
static int shape_metric(struct kq *q, const struct kw_run_row *r, uint32_t shape)
{
    if (!shape_room(q, shape))
        return metric_index(q, r->metric);
    if (q->shape_mi[shape] == -2)
        q->shape_mi[shape] = metric_index(q, r->metric);
    return q->shape_mi[shape];
}

/* The group of bucket b of run r (of that shape), found once a shape. */
static struct entry *run_group(struct kq *q, const struct kw_run_row *r, uint32_t shape, size_t b)
{
    struct dims d;
    if (!shape_room(q, shape)) {
        run_dims(q, r, &d);
        return group_or_fail(q, b, &d);
    }
    struct entry **e = &q->cells[(size_t)shape * q->nb + b];
    if (!*e) {
        run_dims(q, r, &d);
        *e = group_or_fail(q, b, &d);
    }
    return *e;
}

/* ---- the runs ---- */

static struct kw_kpi_run kpi_run(const struct kw_run_row *r)
{
    int64_t end = r->stopped_at != KW_STORE_NO_TIME ? r->stopped_at : r->measured_at;
    bool late = r->breached_at != KW_STORE_NO_TIME;
    return (struct kw_kpi_run){
        .started_at = r->started_at,
        .stopped_at = r->stopped_at,
        .breached_at = r->breached_at,
        .target = r->target,
        .working = r->working,
        /* wall leaves out what the clock was paused, and under resume the
         * stretch it stood stopped (docs/kpi.md) */
        .paused_wall = end - r->started_at - r->wall,
        .overrun_working = late && r->working > r->target ? r->working - r->target : 0,
    };
}

/* The run r as it stood at `at` (from its ticket's events), into *out
 * (strings valid until m is released); false when it had not started. */
static bool measure_at(struct kq *q, const struct kw_run_row *r, int64_t at, struct kw_runs_at *m,
                       const struct kw_run_row **out)
{
    struct kw_err err = {0};
    if (kw_clocks_runs_at(q->x->h->clocks, q->x->wk->st, &q->x->wk->sla, r->ticket_id,
                          r->commitment_id, at, m, &err) != KW_OK) {
        if (!q->failed) {
            q->failed = true;
            q->err = err;
        }
        return false;
    }
    for (size_t i = 0; i < m->n; i++)
        if (m->rows[i].run == r->run && strcmp(m->rows[i].metric, r->metric) == 0) {
            m->rows[i].ticket_id = r->ticket_id;
            m->rows[i].org_id = r->org_id;
            m->rows[i].commitment_id = r->commitment_id;
            *out = &m->rows[i];
            return true;
        }
    return false;
}

/* A run's measure carried to `at` from its stored one: what
 * kw_clocks_run_carried gives of it (its rule: a stopped run ran steadily
 * from steady_from to its stop and is carried back from there, an open one
 * stood as it was since its ticket's last event), from its shape's
 * calendar and clock state looked up once a shape (struct shape_carry),
 * not by name and string for each run, and without a row made. A year's
 * GET carries some 700,000 open runs of the 1,000,000-ticket desk to their
 * deadline's month and back every run breached in one month and stopped in
 * a later one. The rule's arithmetic is kw_clocks_carry's. */

/* A shape's calendar in its commitment version's compiled policy (NULL:
 * none, or not looked up) and its clock's state: running (1: running or
 * breached), paused (2) or neither (0). */
struct shape_carry {
    const struct kw_cal *cal;
    int state;
    /* kw_cal_worked at each bucket's end (the end a run is carried to),
     * one array a calendar; NO_WORKED where out of its horizon */
    const int64_t *worked;
};
#define NO_WORKED INT64_MIN

/* The working seconds of sc's calendar between `at`, the end of bucket b,
 * and t (kw_cal_elapsed in the order they come), from the one end worked
 * out once for the bucket: the other read by halves in the calendar. */
static bool elapsed_from_end(const struct shape_carry *sc, size_t b, int64_t at, int64_t t,
                             int64_t *w)
{
    int64_t wt;
    if (!sc->worked || sc->worked[b] == NO_WORKED)
        return kw_cal_elapsed(sc->cal, t < at ? t : at, t < at ? at : t, w, NULL) == KW_OK;
    if (kw_cal_worked(sc->cal, t, &wt, NULL) != KW_OK)
        return false;
    *w = t < at ? sc->worked[b] - wt : wt - sc->worked[b];
    return true;
}

/* false where the rule does not apply, or its calendar is not known here:
 * then kw_clocks_run_carried decides */
static bool carried(const struct shape_carry *sc, const struct kw_run_row *r, size_t b, int64_t at,
                    struct kw_run_carry *out)
{
    int64_t w = 0;
    if (!sc || !sc->cal || at < r->steady_from)
        return false;
    bool running = sc->state == 1;
    if (r->stopped_at != KW_STORE_NO_TIME) { /* carried back from its stop */
        if (at >= r->stopped_at || !elapsed_from_end(sc, b, at, r->stopped_at, &w))
            return false;
        running = true;
    } else if (sc->state == 0 || (running && !elapsed_from_end(sc, b, at, r->measured_at, &w))) {
        return false;
    }
    *out = kw_clocks_carry(r, running, at, w);
    return true;
}

static const struct shape_carry *shape_carry(const struct kq *q, uint32_t shape)
{
    return shape < q->nshape_carry ? &q->shape_carry[shape] : NULL;
}

/* An open run carried to `at` from its stored measure (kw_clocks_run_carried);
 * shape: the listed run's (KW_KPI_NO_SHAPE: none). */
static bool measured_since(struct kq *q, const struct kw_run_row *r, size_t b, int64_t at,
                           uint32_t shape, struct kw_run_row *out)
{
    struct kw_run_carry c;
    if (carried(shape_carry(q, shape), r, b, at, &c)) {
        /* the row kw_clocks_run_carried makes, but for a stopped run's
         * deadline when it had not breached by `at`: such a run counts
         * nowhere (breached_open), so it is not projected */
        *out = *r;
        out->working = c.working;
        out->wall = c.wall;
        out->paused_wall = c.paused_wall;
        out->measured_at = at;
        out->breached_at = c.breached_at;
        if (r->stopped_at != KW_STORE_NO_TIME) {
            out->stopped_at = KW_STORE_NO_TIME;
            out->status = c.breached_at != KW_STORE_NO_TIME ? "breached" : "running";
            out->deadline = c.breached_at;
        }
        return true;
    }
    return kw_clocks_run_carried(pol_of(q, r->commitment_id)->k, r, at, out);
}

/* Where a breach-open run is counted: the bucket of its breach, if it had
 * not stopped by the bucket's end (measured again as of then). fn gets the
 * run as it stood then, the bucket and its end as the period's. False,
 * with nothing counted, when the run must be measured again from its
 * ticket's events and !may_read (a listing of the store is under way). */
/* listed: r is the listed row carried to `end` (every field but its
 * measure the same), not one measured again from the events. shape: r's in
 * the table in memory (KW_KPI_NO_SHAPE: none or not known). */
typedef void (*open_fn)(struct kq *q, const struct kw_run_row *r, bool listed, size_t b,
                        int64_t end, void *ctx);

static bool breached_open(struct kq *q, const struct kw_run_row *r, uint32_t shape, open_fn fn,
                          void *ctx, bool may_read)
{
    int64_t breach = r->breached_at;
    if (breach == KW_STORE_NO_TIME && r->stopped_at == KW_STORE_NO_TIME &&
        r->deadline != KW_STORE_NO_TIME && r->deadline < q->now)
        breach = r->deadline; /* the engine has not fired it yet: measure to see */
    size_t b = breach == KW_STORE_NO_TIME ? q->nb : bucket_of(q, breach);
    if (b == q->nb)
        return true;
    int64_t end = q->b[b].to < q->now ? q->b[b].to : q->now;
    if (r->stopped_at != KW_STORE_NO_TIME && r->stopped_at < q->b[b].to)
        return true;        /* stopped in the bucket: met_late there */
    struct kw_run_row fast; /* carried to `end` from its stored measure (also back from
                             * its stop): read from no event */
    if (measured_since(q, r, b, end, shape, &fast)) {
        if (fast.breached_at != KW_STORE_NO_TIME && fast.breached_at >= q->b[b].from &&
            fast.breached_at < q->b[b].to)
            fn(q, &fast, true, b, end, ctx);
        return true;
    }
    if (!may_read)
        return false;
    /* measured again: kept in memory from an earlier answer while the
     * ticket has not changed (kw_kpi_cache_measured), else from its events */
    struct kw_kpi_cache *kc = q->x->h->kpi_cache;
    struct kw_run_row kept;
    bool found = false;
    uint64_t tag;
    const struct kw_run_row *then = NULL;
    struct kw_runs_at m = {0};
    bool was_read = false;
    const void *with = pol_of(q, r->commitment_id)->k;
    if (kw_kpi_cache_measured(kc, r->ticket_id, r->commitment_id, with, r->metric, r->run, end,
                              &kept, &found, &tag)) {
        then = found ? &kept : NULL;
    } else {
        was_read = true;
        if (!measure_at(q, r, end, &m, &then))
            then = NULL;
        if (!q->failed) /* (a failed read keeps nothing) */
            kw_kpi_cache_measure_keep(kc, tag, r->ticket_id, r->commitment_id, with, r->metric,
                                      r->run, end, then);
    }
    if (then && then->breached_at != KW_STORE_NO_TIME && then->breached_at >= q->b[b].from &&
        then->breached_at < q->b[b].to)
        fn(q, then, false, b, end, ctx);
    if (was_read)
        kw_runs_at_release(&m);
    return true;
}

/* Count run r in e: under its metric, and under MTTA or MTTR when its
 * commitment version marks the metric so ("kpi", docs/kpi.md). */
static void drill_run(struct kq *q, struct entry *e, const struct kw_run_row *r,
                      enum kw_kpi_class cls, enum kw_metric_kpi role);

/* The accumulators' arrays of stopped runs' values (a year's: some 100 MB
 * on 1,000,000 tickets) grow here before kw_kpi_add would: past BIG_BYTES
 * they are mapped with huge pages asked for and grow by mremap, which
 * moves pages, not bytes (kw_kpi_add's realloc copied each array at every
 * doubling, into fresh 4 KiB pages each faulted in at some 10 us on this
 * virtual machine: a fifth of a year's GET). acc_free releases them. */
#define BIG_BYTES ((size_t)2 << 20)

static void *big_map(size_t bytes)
{
    void *w = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(w, bytes, MADV_HUGEPAGE); /* advice only: its failure costs speed */
#endif
    return w;
}

/* The query's arena for those arrays (GET /kpis from the table in
 * memory): one mapping sized for every run of the table (48 bytes each:
 * three 8-byte values, twice for the doublings), huge pages asked for, so
 * that arrays of a few hundred KB, which realloc grew into fresh 4 KiB
 * pages (a fifth of a year's GET, in page faults), are faulted in 2 MiB
 * at a time. Taken by bumping; an array that doubles takes a new piece
 * and leaves the old. When it is full, arrays go on as below. */
static void slab_open(struct kq *q, size_t runs)
{
    /* kept mapped between answers (kw_kpi_cache_scratch): fresh pages
     * faulted in and zeroed cost more than the figures themselves */
    q->slab = kw_kpi_cache_scratch(q->x->h->kpi_cache, KW_KPI_SCRATCH_BYTES(runs), &q->slab_size);
    q->slab_used = 0; /* (NULL: the arrays are allocated one by one) */
}

static bool in_slab(const struct kq *q, const void *p)
{
    return q->slab && (const char *)p >= q->slab && (const char *)p < q->slab + q->slab_size;
}

/* Room for one more stopped run in a; false when out of memory (then each
 * array is still a->cap long, or longer where it fits the same release). */
static bool acc_room(struct kq *q, struct kw_kpi_acc *a)
{
    if (a->n < a->cap)
        return true;
    size_t cap = a->cap ? 2 * a->cap : 64, old = a->cap * 8, bytes = cap * 8;
    void **v[3] = {(void **)&a->working, (void **)&a->wall, (void **)&a->sri};
    _Static_assert(sizeof(*a->working) == 8 && sizeof(*a->sri) == 8, "8-byte values");
    bool slab = in_slab(q, a->working);
    if ((a->cap == 0 || slab) && q->slab && q->slab_size - q->slab_used >= 3 * bytes) {
        char *p = q->slab + q->slab_used;
        q->slab_used += 3 * bytes;
        for (int i = 0; i < 3; i++) {
            if (old)
                memcpy(p + (size_t)i * bytes, *v[i], old);
            *v[i] = p + (size_t)i * bytes;
        }
        a->cap = cap;
        return true;
    }
    if (slab) { /* the arena is full: taken out of it, as acc_free releases */
        void *w[3] = {NULL, NULL, NULL};
        for (int i = 0; i < 3; i++)
            if (!(w[i] = bytes >= BIG_BYTES ? big_map(bytes) : malloc(bytes))) {
                for (int j = 0; j < i; j++)
                    bytes >= BIG_BYTES ? (void)munmap(w[j], bytes) : free(w[j]);
                return false;
            }
        for (int i = 0; i < 3; i++) {
            memcpy(w[i], *v[i], old);
            *v[i] = w[i];
        }
        a->cap = cap;
        return true;
    }
    if (bytes < BIG_BYTES) {
        for (int i = 0; i < 3; i++) {
            void *w = realloc(*v[i], bytes);
            if (!w)
                return false;
            *v[i] = w;
        }
    } else if (old >= BIG_BYTES) {
        for (int i = 0; i < 3; i++) {
            void *w = mremap(*v[i], old, bytes, MREMAP_MAYMOVE);
            if (w == MAP_FAILED)
                return false; /* (the grown ones keep a tail past a->cap) */
#ifdef MADV_HUGEPAGE
            madvise(w, bytes, MADV_HUGEPAGE);
#endif
            *v[i] = w;
        }
    } else { /* from the heap to mappings: all three, or none */
        void *w[3] = {NULL, NULL, NULL};
        for (int i = 0; i < 3; i++)
            if (!(w[i] = big_map(bytes))) {
                for (int j = 0; j < i; j++)
                    munmap(w[j], bytes);
                return false;
            }
        for (int i = 0; i < 3; i++) {
            if (old)
                memcpy(w[i], *v[i], old);
            free(*v[i]);
            *v[i] = w[i];
        }
    }
    a->cap = cap;
    return true;
}

static void acc_free(struct kq *q, struct kw_kpi_acc *a)
{
    void *v[3] = {a->working, a->wall, a->sri};
    for (int i = 0; i < 3 && !in_slab(q, v[0]); i++) {
        if (a->cap * 8 >= BIG_BYTES)
            munmap(v[i], a->cap * 8);
        else
            free(v[i]);
    }
    *a = (struct kw_kpi_acc){0};
}

static void count_run(struct kq *q, struct entry *e, int mi, const struct kw_run_row *r,
                      int64_t from, int64_t to)
{
    struct kw_kpi_run k = kpi_run(r);
    if (!acc_room(q, &e->acc[mi])) {
        q->failed = true;
        kw_err_set(&q->err, KW_NOMEM, "", "no memory for the figures");
        return;
    }
    if (kw_kpi_add(&e->acc[mi], &k, from, to, &q->err) != KW_OK) {
        q->failed = true;
        return;
    }
    enum kw_metric_kpi role = role_of(q, r->commitment_id, mi);
    enum kw_kpi_class cls =
        q->drill || role != KW_MKPI_NONE ? kw_kpi_classify(&k, from, to) : KW_KPI_OUT;
    if (q->drill)
        drill_run(q, e, r, cls, role);
    if (role != KW_MKPI_NONE && (cls == KW_KPI_MET || cls == KW_KPI_MET_LATE)) {
        struct marked *m = &e->marked[role == KW_MKPI_RESPONSE ? 0 : 1];
        m->n++;
        m->sum += k.working;
    }
}

/* ctx: the listed run's shape (NULL: none); a run measured again from
 * its events may have other values, so it is grouped by them. */
static void count_open(struct kq *q, const struct kw_run_row *r, bool listed, size_t b, int64_t end,
                       void *ctx)
{
    uint32_t shape = ctx && listed ? *(const uint32_t *)ctx : KW_KPI_NO_SHAPE;
    int mi = shape_metric(q, r, shape);
    struct entry *e = mi < 0 ? NULL : run_group(q, r, shape, b);
    if (e)
        count_run(q, e, mi, r, q->b[b].from, end);
}

/* Count run r (of that shape) where it stopped; false when its breach must
 * yet be counted from its ticket's events and !may_read (see
 * breached_open). */
static bool count_stop_and_breach(struct kq *q, const struct kw_run_row *r, int mi, bool may_read,
                                  uint32_t shape)
{
    size_t b = r->stopped_at == KW_STORE_NO_TIME ? q->nb : bucket_of(q, r->stopped_at);
    if (b < q->nb) {
        struct entry *e = run_group(q, r, shape, b);
        if (e)
            count_run(q, e, mi, r, q->b[b].from, q->b[b].to);
    }
    return breached_open(q, r, shape, count_open, &shape, may_read);
}

static bool run_row(const struct kw_run_row *r, void *ctx)
{
    struct kq *q = ctx;
    int mi = metric_index(q, r->metric);
    if (mi >= 0)
        count_stop_and_breach(q, r, mi, true, KW_KPI_NO_SHAPE);
    return !q->failed;
}

/* The runs of the period are copied out first: measuring one again reads
 * the store, which ends the listing's statement. Their strings (metric,
 * status, calendar, level, ...) take few values: each is kept once. */
struct run_list {
    size_t n, cap;
    struct kw_run_row *v;
    size_t ns, caps;
    char **slot; /* the strings, open addressing */
    bool nomem;
};

static const char *intern(struct run_list *l, const char *s)
{
    if (!s)
        return NULL;
    if (2 * (l->ns + 1) > l->caps) {
        size_t cap = l->caps ? 2 * l->caps : 64;
        char **slot = calloc(cap, sizeof(*slot));
        if (!slot)
            return l->nomem = true, NULL;
        for (size_t i = 0; i < l->caps; i++)
            if (l->slot[i]) {
                size_t j = hash(l->slot[i]) & (cap - 1);
                while (slot[j])
                    j = (j + 1) & (cap - 1);
                slot[j] = l->slot[i];
            }
        free(l->slot);
        l->slot = slot;
        l->caps = cap;
    }
    size_t j = hash(s) & (l->caps - 1);
    for (; l->slot[j]; j = (j + 1) & (l->caps - 1))
        if (strcmp(l->slot[j], s) == 0)
            return l->slot[j];
    if (!(l->slot[j] = strdup(s)))
        return l->nomem = true, NULL;
    l->ns++;
    return l->slot[j];
}

static bool copy_run(const struct kw_run_row *r, void *ctx)
{
    struct run_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct kw_run_row *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return !(l->nomem = true);
        l->v = v;
        l->cap = cap;
    }
    struct kw_run_row *c = &l->v[l->n++];
    *c = *r;
    const char **f[9] = {&c->metric,       &c->status,   &c->calendar, &c->level,  &c->tier,
                         &c->organisation, &c->category, &c->region,   &c->channel};
    for (int i = 0; i < 9; i++)
        *f[i] = intern(l, *f[i]);
    return !l->nomem;
}

static void free_runs(struct run_list *l)
{
    for (size_t i = 0; i < l->caps; i++)
        free(l->slot[i]);
    free(l->slot);
    free(l->v);
}

/* any_order: the caller's figures do not depend on the order of the runs
 * (GET /kpis: counts, sums of whole seconds and sorted statistics), so the
 * store need not sort them; the lists of breaches and of a drill keep
 * their (ticket, metric, run) order. */
static enum kw_code read_runs(struct kq *q, struct run_list *l, bool any_order)
{
    struct kw_run_filter f = {
        .from = q->from, .to = q->to, .now = q->now, .org_id = q->org, .any_order = any_order};
    if (kw_store_runs(q->x->wk->st, &f, copy_run, l, &q->err) != KW_OK)
        return q->err.code;
    kw_store_end_read(q->x->wk->st);
    return l->nomem ? kw_err_set(&q->err, KW_NOMEM, "", "no memory for the clock runs") : KW_OK;
}

/* GET /kpis counts each run as the store lists it, in the order it reads
 * them fastest (its figures do not depend on the order): no copy of a
 * year's runs. Only a run whose breach must be measured again from its
 * ticket's events (reading the store, which would end the listing) is kept,
 * and its breach counted after the listing. */
struct stream {
    struct kq *q;
    struct run_list later;
};

static bool stream_run(const struct kw_run_row *r, uint32_t shape, void *ctx)
{
    struct stream *s = ctx;
    int mi = shape_metric(s->q, r, shape);
    if (mi >= 0 && !count_stop_and_breach(s->q, r, mi, false, shape) && !copy_run(r, &s->later))
        return false;
    return !s->q->failed;
}

/* ---- the runs read by two threads (kw_kpi_cache_runs_halves) ---- */

/* What the second reader needs of a shape, looked up once before by the
 * first (it reads nothing shared that changes: no group, no store, no
 * lookup kept in q): its metric's index in q->metrics (< 0: not counted),
 * its MTTA/MTTR role and its commitment version's compiled policy. */
struct side_shape {
    int mi;
    enum kw_metric_kpi role;
    const struct kw_compiled *k;
    struct shape_carry carry;
};

/* The second reader's figures of one shape in one bucket: what count_run
 * would add to that shape's group there, taken in after (side_join). */
struct side_cell {
    struct side_cell *next;
    uint32_t shape;
    size_t b;
    struct kw_kpi_acc acc;
    struct marked marked[2];
};

struct side {
    const struct kq *q;
    const struct side_shape *ss;
    size_t nss;
    struct side_cell **cells; /* nss x q->nb, NULL until counted there */
    struct side_cell *list;   /* every cell, in no set order */
    struct run_list later;    /* breaches to measure again from the events */
    struct run_list whole;    /* runs of a shape not looked up: counted by the first */
    bool failed;
    struct kw_err err;
};

/* The first reader's context: the stream, and the second's. */
struct halves {
    struct stream s;
    struct side side;
    struct side_shape *ss;
    struct shape_carry *carry;        /* each shape's ss[].carry, for the first (q->shape_carry) */
    int64_t **worked;                 /* shape_carry.worked of each calendar (nworked) */
    const struct kw_cal **worked_cal; /* and its calendar */
    size_t nworked;
};

static void side_fail(struct side *s, enum kw_code code, const char *what)
{
    if (!s->failed)
        kw_err_set(&s->err, code, "", "%s", what);
    s->failed = true;
}

/* count_run on the second reader: run k into its cell of (shape, b). */
static void side_count_k(struct side *s, uint32_t shape, size_t b, const struct kw_kpi_run *k,
                         int64_t from, int64_t to)
{
    struct side_cell **c = &s->cells[(size_t)shape * s->q->nb + b];
    if (!*c) {
        if (!(*c = calloc(1, sizeof(**c))))
            return side_fail(s, KW_NOMEM, "no memory for the figures");
        (*c)->shape = shape;
        (*c)->b = b;
        (*c)->next = s->list;
        s->list = *c;
    }
    if (kw_kpi_add(&(*c)->acc, k, from, to, &s->err) != KW_OK) {
        s->failed = true;
        return;
    }
    enum kw_metric_kpi role = s->ss[shape].role;
    if (role == KW_MKPI_NONE)
        return;
    enum kw_kpi_class cls = kw_kpi_classify(k, from, to);
    if (cls == KW_KPI_MET || cls == KW_KPI_MET_LATE) {
        struct marked *m = &(*c)->marked[role == KW_MKPI_RESPONSE ? 0 : 1];
        m->n++;
        m->sum += k->working;
    }
}

static void side_count(struct side *s, uint32_t shape, size_t b, const struct kw_run_row *r,
                       int64_t from, int64_t to)
{
    struct kw_kpi_run k = kpi_run(r);
    side_count_k(s, shape, b, &k, from, to);
}

/* stream_run on the second reader: count_stop_and_breach with what the
 * first looked up for the shape; a breach to measure again from the
 * events is kept for the first, after the listing. */
static bool side_run(const struct kw_run_row *r, uint32_t shape, void *ctx)
{
    struct side *s = ctx;
    const struct kq *q = s->q;
    if (shape >= s->nss) {
        if (!copy_run(r, &s->whole))
            side_fail(s, KW_NOMEM, "no memory for the clock runs");
        return !s->failed;
    }
    if (s->ss[shape].mi < 0)
        return true;
    size_t b = r->stopped_at == KW_STORE_NO_TIME ? q->nb : bucket_of(q, r->stopped_at);
    if (b < q->nb)
        side_count(s, shape, b, r, q->b[b].from, q->b[b].to);
    /* breached_open, as the first reader does it */
    int64_t breach = r->breached_at;
    if (breach == KW_STORE_NO_TIME && r->stopped_at == KW_STORE_NO_TIME &&
        r->deadline != KW_STORE_NO_TIME && r->deadline < q->now)
        breach = r->deadline;
    b = breach == KW_STORE_NO_TIME ? q->nb : bucket_of(q, breach);
    if (b == q->nb || (r->stopped_at != KW_STORE_NO_TIME && r->stopped_at < q->b[b].to))
        return !s->failed;
    int64_t end = q->b[b].to < q->now ? q->b[b].to : q->now;
    struct kw_run_carry cr;
    if (carried(&s->ss[shape].carry, r, b, end, &cr)) {
        /* counted if it had breached in the bucket by `end`: kpi_run of
         * the carried row (measured_since), with no row made */
        if (cr.breached_at != KW_STORE_NO_TIME && cr.breached_at >= q->b[b].from &&
            cr.breached_at < q->b[b].to) {
            struct kw_kpi_run k = {
                .started_at = r->started_at,
                .stopped_at = KW_STORE_NO_TIME,
                .breached_at = cr.breached_at,
                .target = r->target,
                .working = cr.working,
                .paused_wall = end - r->started_at - cr.wall,
                .overrun_working = cr.working > r->target ? cr.working - r->target : 0,
            };
            side_count_k(s, shape, b, &k, q->b[b].from, end);
        }
        return !s->failed;
    }
    struct kw_run_row fast;
    if (kw_clocks_run_carried(s->ss[shape].k, r, end, &fast)) {
        if (fast.breached_at != KW_STORE_NO_TIME && fast.breached_at >= q->b[b].from &&
            fast.breached_at < q->b[b].to)
            side_count(s, shape, b, &fast, q->b[b].from, end);
    } else if (!copy_run(r, &s->later)) {
        side_fail(s, KW_NOMEM, "no memory for the clock runs");
    }
    return !s->failed;
}

/* sc's worked seconds at each bucket's end: its calendar's array, made
 * for the first shape on it; false when out of memory. */
static bool worked_at_ends(const struct kq *q, struct halves *h, struct shape_carry *sc)
{
    for (size_t i = 0; i < h->nworked; i++)
        if (h->worked_cal[i] == sc->cal) {
            sc->worked = h->worked[i];
            return true;
        }
    int64_t *w = malloc(q->nb * sizeof(*w));
    if (!w)
        return false;
    for (size_t b = 0; b < q->nb; b++) {
        int64_t end = q->b[b].to < q->now ? q->b[b].to : q->now;
        if (kw_cal_worked(sc->cal, end, &w[b], NULL) != KW_OK)
            w[b] = NO_WORKED;
    }
    h->worked_cal[h->nworked] = sc->cal;
    h->worked[h->nworked++] = w;
    sc->worked = w;
    return true;
}

/* Before the readers start: each shape's metric, role and policy, looked
 * up by the first (pol_of and role_of may read the store). */
static bool side_prepare(const struct kw_kpi_cache *c, size_t nshapes, void *ctx)
{
    struct halves *h = ctx;
    struct kq *q = h->s.q;
    if (q->drill || nshapes == 0 || nshapes * q->nb > MAX_CELLS ||
        !shape_room(q, (uint32_t)(nshapes - 1)))
        return false;
    h->ss = malloc(nshapes * sizeof(*h->ss));
    h->carry = malloc(nshapes * sizeof(*h->carry));
    h->worked = calloc(nshapes, sizeof(*h->worked));
    h->worked_cal = calloc(nshapes, sizeof(*h->worked_cal));
    h->side.cells = calloc(nshapes * q->nb, sizeof(*h->side.cells));
    if (!h->ss || !h->carry || !h->worked || !h->worked_cal || !h->side.cells)
        return false;
    for (size_t i = 0; i < nshapes; i++) {
        struct kw_run_row r;
        kw_kpi_cache_shape_row(c, (uint32_t)i, &r);
        int mi = r.metric ? shape_metric(q, &r, (uint32_t)i) : -1;
        h->ss[i] = (struct side_shape){.mi = mi, .role = KW_MKPI_NONE};
        if (mi >= 0) {
            h->ss[i].role = role_of(q, r.commitment_id, mi);
            const struct kw_compiled *k = pol_of(q, r.commitment_id)->k;
            h->ss[i].k = k;
            /* the first of that name, as kw_clocks_run_carried finds it */
            struct shape_carry *sc = &h->ss[i].carry;
            for (size_t j = 0; k && r.calendar && !sc->cal && j < kw_policy_calendar_count(k->p);
                 j++)
                if (strcmp(kw_policy_calendar_name(k->p, j), r.calendar) == 0)
                    sc->cal = k->cals[j];
            sc->state = !r.status                                                               ? 0
                        : strcmp(r.status, "running") == 0 || strcmp(r.status, "breached") == 0 ? 1
                        : strcmp(r.status, "paused") == 0                                       ? 2
                                                                                                : 0;
        }
        if (h->ss[i].carry.cal && !worked_at_ends(q, h, &h->ss[i].carry))
            return false;
        h->carry[i] = h->ss[i].carry;
    }
    h->side.ss = h->ss;
    h->side.nss = nshapes;
    q->shape_carry = h->carry;
    q->nshape_carry = nshapes;
    return true;
}

/* Room for `need` values in a (acc_room, doubling). */
static bool acc_reserve(struct kq *q, struct kw_kpi_acc *a, size_t need)
{
    size_t n = a->n;
    while (a->cap < need) {
        a->n = a->cap;
        bool ok = acc_room(q, a);
        a->n = n;
        if (!ok)
            return false;
    }
    return true;
}

/* After both readers, under the table's read lock: the second's cells
 * into their groups (as count_run would have put each of its runs: the
 * figures do not depend on the order of the runs, and the sums of whole
 * seconds are exact). */
static void side_join(const struct kw_kpi_cache *c, void *ctx)
{
    struct halves *h = ctx;
    struct kq *q = h->s.q;
    struct side *s = &h->side;
    if (s->failed && !q->failed) {
        q->failed = true;
        q->err = s->err;
    }
    for (struct side_cell *x = s->list; x && !q->failed; x = x->next) {
        struct kw_run_row r;
        kw_kpi_cache_shape_row(c, x->shape, &r);
        struct entry *e = run_group(q, &r, x->shape, x->b);
        if (!e)
            break;
        struct kw_kpi_acc *a = &e->acc[s->ss[x->shape].mi], *y = &x->acc;
        if (y->n && !acc_reserve(q, a, a->n + y->n)) {
            q->failed = true;
            kw_err_set(&q->err, KW_NOMEM, "", "no memory for the figures");
            break;
        }
        if (y->n) {
            memcpy(a->working + a->n, y->working, y->n * sizeof(*y->working));
            memcpy(a->wall + a->n, y->wall, y->n * sizeof(*y->wall));
            memcpy(a->sri + a->n_sri, y->sri, y->n_sri * sizeof(*y->sri));
        }
        a->n += y->n;
        a->n_sri += y->n_sri;
        a->met += y->met;
        a->met_late += y->met_late;
        a->breached_open += y->breached_open;
        a->n_over += y->n_over;
        a->over_wall += y->over_wall;
        a->over_working += y->over_working;
        for (int i = 0; i < 2; i++) {
            e->marked[i].n += x->marked[i].n;
            e->marked[i].sum += x->marked[i].sum;
        }
    }
    for (size_t i = 0; i < s->whole.n && !q->failed; i++)
        stream_run(&s->whole.v[i], KW_KPI_NO_SHAPE, &h->s);
    for (size_t i = 0; i < s->later.n && !h->s.later.nomem; i++)
        copy_run(&s->later.v[i], &h->s.later);
}

static void side_free(struct halves *h)
{
    for (struct side_cell *x = h->side.list, *next; x; x = next) {
        next = x->next;
        kw_kpi_acc_free(&x->acc);
        free(x);
    }
    free(h->side.cells);
    free_runs(&h->side.later);
    free_runs(&h->side.whole);
    free(h->ss);
    free(h->carry);
    for (size_t i = 0; i < h->nworked; i++)
        free(h->worked[i]);
    free(h->worked);
    free(h->worked_cal);
    h->s.q->shape_carry = NULL;
    h->s.q->nshape_carry = 0;
}

static enum kw_code stream_runs(struct kq *q)
{
    struct halves h = {.s = {.q = q}};
    h.side.q = q;
    struct stream *s = &h.s;
    struct kw_kpi_cache_stats cs;
    kw_kpi_cache_stats(q->x->h->kpi_cache, &cs);
    if (cs.loads && !cs.off && !q->slab)
        slab_open(q, cs.runs);
    struct kw_run_filter f = {
        .from = q->from, .to = q->to, .now = q->now, .org_id = q->org, .any_order = true};
    struct kw_kpi_halves hv = {.prepare = side_prepare,
                               .fn = {stream_run, side_run},
                               .ctx = {&h, &h.side},
                               .join = side_join};
    bool split;
    enum kw_code rc =
        kw_kpi_cache_runs_halves(q->x->h->kpi_cache, q->x->wk->st, &f, &hv, &split, &q->err);
    kw_store_end_read(q->x->wk->st);
    if (rc == KW_OK && s->later.nomem)
        rc = kw_err_set(&q->err, KW_NOMEM, "", "no memory for the clock runs");
    for (size_t i = 0; rc == KW_OK && i < s->later.n && !q->failed; i++)
        breached_open(q, &s->later.v[i], KW_KPI_NO_SHAPE, count_open, NULL, true);
    free_runs(&s->later);
    side_free(&h);
    return rc;
}

/* ---- drilling down: what is behind one figure of one cell ---- */

/* Whether group e is the drill's cell: its bucket and each of its values. */
static bool drill_cell(const struct kq *q, const struct entry *e)
{
    const struct drill *d = q->drill;
    if (e->bucket != d->bucket)
        return false;
    for (size_t i = 0; i < q->ndims; i++) {
        const char *v = e->vals[q->dims[i]], *w = d->want[q->dims[i]];
        if ((v == NULL) != (w == NULL) || (v && strcmp(v, w) != 0))
            return false;
    }
    return true;
}

static void drill_ticket(struct drill *d, int64_t id)
{
    if (d->nids == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        int64_t *v = realloc(d->ids, cap * sizeof(*v));
        if (!v) {
            d->nomem = true;
            return;
        }
        d->ids = v;
        d->cap = cap;
    }
    d->ids[d->nids++] = id;
}

static void drill_run(struct kq *q, struct entry *e, const struct kw_run_row *r,
                      enum kw_kpi_class cls, enum kw_metric_kpi role)
{
    struct drill *d = q->drill;
    bool stopped = cls == KW_KPI_MET || cls == KW_KPI_MET_LATE, want;
    switch (d->fig) {
    case F_RUNS:
        want = cls != KW_KPI_OUT;
        break;
    case F_MET:
        want = cls == KW_KPI_MET;
        break;
    case F_MET_LATE:
        want = cls == KW_KPI_MET_LATE;
        break;
    case F_BREACHED_OPEN:
        want = cls == KW_KPI_BREACHED_OPEN;
        break;
    case F_BREACHES:
        want = cls == KW_KPI_MET_LATE || cls == KW_KPI_BREACHED_OPEN;
        break;
    case F_STOPPED:
        want = stopped;
        break;
    case F_MTTA:
        want = stopped && role == KW_MKPI_RESPONSE;
        break;
    case F_MTTR:
        want = stopped && role == KW_MKPI_RESOLUTION;
        break;
    default:
        want = false;
    }
    if (!want || !drill_cell(q, e))
        return;
    static const char *const names[] = {"out", "met", "met_late", "breached_open"};
    d->count++;
    drill_ticket(d, r->ticket_id);
    if (json_array_size(d->items) < d->limit)
        json_array_append_new(d->items, json_pack("{s:I, s:s, s:I, s:s}", "ticket_id",
                                                  (json_int_t)r->ticket_id, "metric", r->metric,
                                                  "run", (json_int_t)r->run, "class", names[cls]));
}

static void drill_fact(struct kq *q, struct entry *e, enum kw_ticket_fact kind,
                       const struct kw_ticket_fact_row *r)
{
    struct drill *d = q->drill;
    bool want = (kind == KW_TF_CREATED && d->fig == F_CREATED) ||
                (kind == KW_TF_RESOLVED && d->fig == F_RESOLVED) ||
                (kind == KW_TF_REOPENED && d->fig == F_REOPENED) ||
                (kind == KW_TF_OPEN && d->fig == F_BACKLOG) ||
                (kind == KW_TF_RATED && (d->fig == F_RATED || (d->fig == F_NPS && r->nps >= 0)));
    if (!want || !drill_cell(q, e))
        return;
    drill_ticket(d, r->ticket_id);
    if (kind != KW_TF_RATED)
        return; /* a ticket counts once: counted when the list is made unique */
    d->count++;
    if (json_array_size(d->items) < d->limit)
        json_array_append_new(
            d->items, json_pack("{s:I, s:o, s:i, s:o}", "ticket_id", (json_int_t)r->ticket_id, "at",
                                kwh_instant_json(r->at), "satisfaction", r->satisfaction, "nps",
                                r->nps >= 0 ? json_integer(r->nps) : json_null()));
}

/* ---- tickets and ratings ---- */

struct fact_ctx {
    struct kq *q;
    enum kw_ticket_fact kind;
};

/* The group of bucket b of r, a ticket of a shape (r->shape != 0): found
 * once a shape, as run_group. */
static struct entry *fact_group(struct kq *q, const struct kw_ticket_fact_row *r, size_t b)
{
    struct entry **cell =
        shape_room(q, r->shape - 1) ? &q->cells[(size_t)(r->shape - 1) * q->nb + b] : NULL;
    if (cell && *cell)
        return *cell;
    struct dims d;
    fact_dims(q, r, &d);
    struct entry *e = group_or_fail(q, b, &d);
    if (cell)
        *cell = e;
    return e;
}

/* ages (seconds) of the backlog's classes: < 1 d, 1-3 d, 3-7 d, > 7 d (docs/kpi.md) */
static const int64_t backlog_ages[KW_KPI_AGES - 1] = {86400, 3 * 86400, 7 * 86400};

static size_t backlog_age(int64_t age)
{
    size_t a = 0;
    while (a < KW_KPI_AGES - 1 && age >= backlog_ages[a])
        a++;
    return a;
}

static bool fact_row(const struct kw_ticket_fact_row *r, void *ctx)
{
    struct fact_ctx *c = ctx;
    struct kq *q = c->q;
    /* open: the bucket whose end (or now) it was open at, which is in it */
    size_t b = bucket_of(q, c->kind == KW_TF_OPEN ? r->as_of - 1 : r->at);
    if (b >= q->nb)
        return true;
    struct dims d;
    struct kw_ticket_fact_row charged;
    if (c->kind == KW_TF_TIME) { /* time goes by the team it was recorded for */
        charged = *r;
        charged.team_id = r->entry_team_id;
        r = &charged;
    }
    struct entry *e;
    if (c->kind != KW_TF_TIME && r->shape) { /* grouped once a shape (run_group) */
        e = fact_group(q, r, b);
    } else {
        fact_dims(q, r, &d);
        e = group_or_fail(q, b, &d);
    }
    if (!e)
        return false;
    switch (c->kind) {
    case KW_TF_TIME: {
        const struct team_rate *rate = NULL;
        for (size_t i = 0; i < q->ncosts && !rate; i++)
            if (q->costs[i].id == r->team_id)
                rate = &q->costs[i];
        kw_kpi_time_add(&e->time, r->seconds, rate ? rate->hourly : -1,
                        rate ? rate->currency : NULL);
        break;
    }
    case KW_TF_CREATED:
        e->created++;
        break;
    case KW_TF_RESOLVED:
        if (e->last_resolved != r->ticket_id)
            e->resolved++;
        e->last_resolved = r->ticket_id;
        break;
    case KW_TF_REOPENED:
        if (e->last_reopened != r->ticket_id)
            e->reopened++;
        e->last_reopened = r->ticket_id;
        break;
    case KW_TF_RATED:
        kw_kpi_rating_add(&e->ratings, r->satisfaction, r->nps);
        break;
    case KW_TF_OPEN: {
        int64_t end = q->b[b].to < q->now ? q->b[b].to : q->now, age = end - r->at;
        e->backlog[backlog_age(age)]++;
        break;
    }
    }
    if (q->drill)
        drill_fact(q, e, c->kind, r);
    return true;
}

/* The backlog counted by the table in memory (kw_kpi_cache_backlog_counts):
 * ends[i] is the end of the bucket it is in (or now), as for fact_row. */
static bool backlog_counted(const struct kw_ticket_fact_row *r, size_t i,
                            const uint32_t counts[KW_KPI_AGES], void *ctx)
{
    struct kq *q = ctx;
    size_t b = bucket_of(q, r->as_of - 1);
    if (b >= q->nb)
        return true;
    struct entry *e = fact_group(q, r, b);
    if (!e)
        return false;
    (void)i;
    for (size_t a = 0; a < KW_KPI_AGES; a++)
        e->backlog[a] += counts[a];
    return true;
}

static bool cost_row(const struct kw_team_cost *r, void *ctx)
{
    struct kq *q = ctx;
    if (!r->currency)
        return true;
    void *v = realloc(q->costs, (q->ncosts + 1) * sizeof(*q->costs));
    if (!v)
        return false;
    q->costs = v;
    q->costs[q->ncosts] = (struct team_rate){.id = r->team_id, .hourly = r->hourly_minor};
    snprintf(q->costs[q->ncosts++].currency, 4, "%s", r->currency);
    return true;
}

/* The tickets created, counted by the table in memory
 * (kw_kpi_cache_created_counts): bucket b's as fact_row counts them. */
static bool created_counted(const struct kw_ticket_fact_row *r, size_t b, uint32_t count, void *ctx)
{
    struct kq *q = ctx;
    struct entry *e = b < q->nb ? fact_group(q, r, b) : NULL;
    if (!e)
        return b >= q->nb;
    e->created += count;
    return true;
}

/* fact_row for a dated fact of any kind (kw_kpi_cache_marks) */
static bool mark_row(enum kw_ticket_fact kind, const struct kw_ticket_fact_row *r, void *ctx)
{
    struct fact_ctx c = {ctx, kind};
    return fact_row(r, &c);
}

static enum kw_code read_tickets(struct kq *q)
{
    struct kw_store *st = q->x->wk->st;
    if (!q->costs_read && kw_store_team_costs(st, cost_row, q, &q->err) != KW_OK)
        return q->err.code;
    q->costs_read = true;
    /* created, then resolved, reopened, rated and time spent: from the
     * facts kept in memory, current to the change log (app/kpi_cache.h) */
    struct fact_ctx c = {q, KW_TF_CREATED};
    /* counted by bucket and shape, without a row for each ticket, unless
     * a drill-down lists them */
    int64_t starts[KW_BACKLOG_ENDS_MAX];
    bool made = false;
    if (!q->drill && q->nb <= KW_BACKLOG_ENDS_MAX) {
        for (size_t b = 0; b < q->nb; b++)
            starts[b] = q->b[b].from;
        if (kw_kpi_cache_created_counts(q->x->h->kpi_cache, st, starts, q->nb, q->to, q->org,
                                        created_counted, q, &made, &q->err) != KW_OK ||
            q->failed)
            return q->err.code;
    }
    if (!made && (kw_kpi_cache_created(q->x->h->kpi_cache, st, q->from, q->to, q->org, fact_row, &c,
                                       &q->err) != KW_OK ||
                  q->failed))
        return q->err.code;
    if (kw_kpi_cache_marks(q->x->h->kpi_cache, st, q->from, q->to, q->org, mark_row, q, &q->err) !=
            KW_OK ||
        q->failed)
        return q->err.code;
    /* the backlog at the end of each bucket (now, for one not over yet),
     * all in one pass over the tickets */
    int64_t ends[KW_BACKLOG_ENDS_MAX];
    size_t n = 0;
    for (size_t b = 0; b < q->nb && n < KW_BACKLOG_ENDS_MAX && q->b[b].from < q->now; b++)
        ends[n++] = q->b[b].to < q->now ? q->b[b].to : q->now;
    /* counted by shape, without a row for each open ticket, unless a
     * drill-down lists them */
    bool counted = false;
    enum kw_code rc = KW_OK;
    if (!q->drill)
        rc = kw_kpi_cache_backlog_counts(q->x->h->kpi_cache, st, ends, n, q->org, backlog_ages,
                                         backlog_counted, q, &counted, &q->err);
    c = (struct fact_ctx){q, KW_TF_OPEN};
    if (rc == KW_OK && !counted)
        rc = kw_kpi_cache_backlog(q->x->h->kpi_cache, st, ends, n, q->org, fact_row, &c, &q->err);
    if (rc != KW_OK)
        return q->err.code;
    return q->failed ? q->err.code : KW_OK;
}

/* ---- the answer ---- */

static json_t *num_or_null(bool has, double v)
{
    return has ? json_real(v) : json_null();
}

static json_t *seconds(bool has, double v)
{
    return has ? json_integer((json_int_t)llround(v)) : json_null();
}

static json_t *stat_json(const struct kw_kpi_stat *s, bool pct)
{
    if (pct)
        return json_pack("{s:o, s:o, s:o}", "mean", num_or_null(s->n, kw_kpi_round1(s->mean)),
                         "median", num_or_null(s->n, kw_kpi_round1(s->median)), "p90",
                         num_or_null(s->n, kw_kpi_round1(s->p90)));
    return json_pack("{s:o, s:o, s:o}", "mean", seconds(s->n, s->mean), "median",
                     seconds(s->n, s->median), "p90", seconds(s->n, s->p90));
}

/* m: a's figures (kw_kpi_figures), or NULL: computed here. */
static json_t *metric_json(struct kw_kpi_acc *a, const struct kw_kpi_metric *fig)
{
    struct kw_kpi_metric m;
    if (fig)
        m = *fig;
    else
        kw_kpi_figures(a, &m);
    return json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:{s:I, s:o, s:o}}", "met",
                     (json_int_t)m.met, "met_late", (json_int_t)m.met_late, "breached_open",
                     (json_int_t)m.breached_open, "on_time_rate",
                     num_or_null(m.on_time_rate >= 0, m.on_time_rate), "elapsed",
                     stat_json(&m.elapsed, false), "wall", stat_json(&m.wall, false), "sri",
                     stat_json(&m.sri, true), "overrun", "count", (json_int_t)m.overrun.count,
                     "mean_wall", seconds(m.overrun.count, m.overrun.mean_wall), "mean_working",
                     seconds(m.overrun.count, m.overrun.mean_working));
}

/* fig: e's figures by metric (figures_all), or NULL */
static json_t *entry_json(struct kq *q, struct entry *e, const struct kw_kpi_metric *fig)
{
    json_t *key = json_object(), *metrics = json_object();
    for (size_t i = 0; i < q->ndims; i++)
        json_object_set_new(key, dim_names[q->dims[i]], kwh_nullable(e->vals[q->dims[i]]));
    for (size_t i = 0; i < q->nm; i++)
        json_object_set_new(metrics, q->metrics[i], metric_json(&e->acc[i], fig ? &fig[i] : NULL));
    struct kw_kpi_rating_figures rf;
    kw_kpi_rating_figures(&e->ratings, &rf);
    int64_t *bl = e->backlog;
    return json_pack(
        "{s:o, s:o, s:o, s:{s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}},"
        " s:{s:I, s:o, s:o}, s:{s:I, s:o}}",
        "key", key, "bucket", q->bk == B_NONE ? json_null() : json_string(q->b[e->bucket].label),
        "metrics", metrics, "tickets", "created", (json_int_t)e->created, "resolved",
        (json_int_t)e->resolved, "reopened", (json_int_t)e->reopened, "backlog", "total",
        (json_int_t)(bl[0] + bl[1] + bl[2] + bl[3]), "under_1d", (json_int_t)bl[0], "1d_to_3d",
        (json_int_t)bl[1], "3d_to_7d", (json_int_t)bl[2], "over_7d", (json_int_t)bl[3], "csat",
        "count", (json_int_t)rf.csat_count, "mean",
        num_or_null(rf.csat_mean >= 0, round(rf.csat_mean * 100.0) / 100.0), "satisfied_pct",
        num_or_null(rf.satisfied_pct >= 0, rf.satisfied_pct), "nps", "count",
        (json_int_t)rf.nps_count, "score", num_or_null(rf.nps > KW_KPI_NPS_NULL + 1, rf.nps));
}

/* MTTA and MTTR: the mean elapsed of the marked metrics' stopped runs (as
 * kw_kpi_stat_i64 takes it: the exact sum over the count). */
static json_t *mean_elapsed(const struct marked *m)
{
    return seconds(m->n > 0, m->n ? (double)m->sum / (double)m->n : 0);
}

/* Time spent and cost per ticket: the provider's, not shown to customers. */
static void time_json(json_t *j, const struct entry *e)
{
    int64_t minor;
    json_object_set_new(j, "time_spent_s", json_integer((json_int_t)e->time.time_s));
    json_object_set_new(j, "uncosted_s", json_integer((json_int_t)e->time.uncosted_s));
    json_object_set_new(
        j, "cost_per_ticket",
        kw_kpi_cost_per_ticket(&e->time, e->resolved, &minor)
            ? json_pack("{s:I, s:s}", "minor", (json_int_t)minor, "currency", e->time.currency)
            : json_null());
}

/* The figures of every group's metrics (kw_kpi_figures: the medians' and
 * p90s' selections and the SRI's sort, some 15 % of a year's GET), by two
 * threads when there are many values: the second takes the groups and
 * metrics at the end that hold about half of them. Each is computed from
 * its own group's values alone, so the answer is the same. */
/* from 4 values a record the runs' readers split from (65,536; fewer: one thread) */

struct fig_part {
    struct entry **all;
    size_t nm, a, z; /* items a..z: group i / nm, metric i % nm */
    struct kw_kpi_metric *fig;
};

static void *fig_part(void *arg)
{
    struct fig_part *p = arg;
    for (size_t i = p->a; i < p->z; i++)
        kw_kpi_figures(&p->all[i / p->nm]->acc[i % p->nm], &p->fig[i]);
    return NULL;
}

static void figures_all(struct entry **all, size_t n, size_t nm, size_t min,
                        struct kw_kpi_metric *fig)
{
    size_t items = n * nm, total = 0;
    for (size_t i = 0; i < items; i++)
        total += all[i / nm]->acc[i % nm].n + all[i / nm]->acc[i % nm].n_sri;
    struct fig_part p[2] = {{all, nm, 0, items, fig}, {all, nm, items, items, fig}};
    if (total >= min) {
        size_t sum = 0, k = items;
        while (k > 0 && 2 * sum < total) {
            k--;
            sum += all[k / nm]->acc[k % nm].n + all[k / nm]->acc[k % nm].n_sri;
        }
        p[0].z = p[1].a = k;
    }
    pthread_t t;
    bool two = p[1].a < p[1].z && pthread_create(&t, NULL, fig_part, &p[1]) == 0;
    if (!two)
        p[0].z = items;
    fig_part(&p[0]);
    if (two)
        pthread_join(t, NULL);
}

static int by_bucket_key(const void *a, const void *b)
{
    const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return strcmp(x->key, y->key);
}

static void kq_release(struct kq *q)
{
    for (size_t i = 0; i < q->cap; i++) {
        struct entry *e = q->slot[i];
        if (!e)
            continue;
        for (size_t m = 0; m < MAX_METRICS; m++)
            acc_free(q, &e->acc[m]);
        for (int d = 0; d < D_COUNT; d++)
            free(e->vals[d]);
        free(e->key);
        free(e);
    }
    free(q->slot);
    kw_kpi_cache_scratch_give(q->x->h->kpi_cache, q->slab, q->slab_size);
    free(q->shape_mi);
    free(q->cells);
    for (size_t i = 0; i < q->nm; i++)
        free(q->metrics[i]);
    forget(&q->teams);
    forget(&q->people);
    forget(&q->orgs);
    forget(&q->commitments);
    free(q->costs);
    free(q->b);
}

struct kwh_reply kwh_kpis(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kq q = {.x = x, .now = x->now};
    if (!parse(&q, true, &out) ||
        (!make_buckets(&q) && (out = kwh_problem_of(KW_NOMEM, "", "no memory")).status)) {
        kq_release(&q);
        return out;
    }
    /* with no grouping, every bucket is in the answer, empty or not */
    for (size_t b = 0; q.ndims == 0 && b < q.nb; b++)
        if (!group_or_fail(&q, b, &(struct dims){0}))
            break;
    enum kw_code rc = q.failed ? q.err.code : stream_runs(&q);
    if (rc == KW_OK && !q.failed)
        rc = read_tickets(&q);
    if (rc != KW_OK || q.failed) {
        out = kwh_problem(&q.err);
        kq_release(&q);
        return out;
    }
    struct entry **all = malloc((q.n ? q.n : 1) * sizeof(*all));
    size_t n = 0;
    for (size_t i = 0; all && i < q.cap; i++)
        if (q.slot[i])
            all[n++] = q.slot[i];
    if (!all) {
        kq_release(&q);
        return kwh_problem_of(KW_NOMEM, "", "no memory for the answer");
    }
    qsort(all, n, sizeof(*all), by_bucket_key);
    /* (out of memory for them: computed one by one below) */
    struct kw_kpi_metric *fig = n && q.nm ? malloc(n * q.nm * sizeof(*fig)) : NULL;
    if (fig)
        figures_all(all, n, q.nm, 4 * kw_kpi_cache_split_at(x->h->kpi_cache), fig);
    json_t *groups = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *g = entry_json(&q, all[i], fig ? fig + i * q.nm : NULL);
        json_object_set_new(g, "mtta", mean_elapsed(&all[i]->marked[0]));
        json_object_set_new(g, "mttr", mean_elapsed(&all[i]->marked[1]));
        if (!x->me.customer)
            time_json(g, all[i]);
        json_array_append_new(groups, g);
    }
    free(all);
    free(fig);
    json_t *metrics = json_array();
    for (size_t i = 0; i < q.nm; i++)
        json_array_append_new(metrics, json_string(q.metrics[i]));
    json_t *j = json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "from", kwh_instant_json(q.from),
                          "to", kwh_instant_json(q.to), "tz", q.tz, "bucket",
                          q.bk == B_NONE   ? json_null()
                          : q.bk == B_DAY  ? json_string("day")
                          : q.bk == B_WEEK ? json_string("week")
                                           : json_string("month"),
                          "group_by", json_array(), "metrics", metrics, "groups", groups);
    for (size_t i = 0; i < q.ndims; i++)
        json_array_append_new(json_object_get(j, "group_by"), json_string(dim_names[q.dims[i]]));
    kq_release(&q);
    return kwh_ok(200, j);
}

/* ---- the breaches behind met_late and breached_open ---- */

struct breach_list {
    json_t *items;
    size_t limit;
    bool more;
};

static json_t *overrun_of(struct kq *q, const struct kw_run_row *r);

static json_t *breach_json(struct kq *q, const struct kw_run_row *r, const char *cls, int64_t end)
{
    struct kw_kpi_run k = kpi_run(r);
    json_t *j = json_pack(
        "{s:I, s:s, s:I, s:s, s:o, s:o, s:o, s:I, s:I, s:{s:I, s:I}, s:o, s:o, s:o, s:o, s:o}",
        "ticket_id", (json_int_t)r->ticket_id, "metric", r->metric, "run", (json_int_t)r->run,
        "class", cls, "started_at", kwh_instant_json(r->started_at), "deadline",
        kwh_instant_json(r->breached_at), "stopped_at",
        kwh_instant_json(strcmp(cls, "met_late") == 0 ? r->stopped_at : KW_STORE_NO_TIME), "target",
        (json_int_t)r->target, "elapsed", (json_int_t)r->working, "overrun", "wall",
        (json_int_t)(end - r->breached_at), "working", (json_int_t)k.overrun_working, "level",
        kwh_nullable(r->level), "category", kwh_nullable(r->category), "organisation",
        kwh_nullable(name_of(q, D_ORG, r->org_id)), "team",
        kwh_nullable(name_of(q, D_TEAM, r->team_id)), "record", overrun_of(q, r));
    if (!q->x->me.customer)
        json_object_set_new(j, "assignee", kwh_nullable(name_of(q, D_ASSIGNEE, r->assignee_id)));
    return j;
}

struct overrun_find {
    int64_t deadline;
    json_t *found;
    bool customer;
    struct kw_watch_settings ws; /* the accident levels */
};

static bool overrun_match(const struct kw_overrun_row *o, void *ctx)
{
    struct overrun_find *f = ctx;
    if (o->deadline != f->deadline || f->found)
        return true;
    f->found = json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)o->id, "state",
                         o->done_at != KW_STORE_NO_TIME ? "done"
                         : o->reason                    ? "explained"
                                                        : "open",
                         "reason", kwh_nullable(o->reason), "note", kwh_nullable(o->note));
    json_object_set_new(f->found, "loss", o->loss >= 0 ? json_integer(o->loss) : json_null());
    json_object_set_new(f->found, "accident", kwh_nullable(kw_accident_level(&f->ws, o->loss)));
    if (!f->customer)
        json_object_set_new(f->found, "followup",
                            json_pack("{s:o, s:o, s:o}", "rca", kwh_nullable(o->rca), "action",
                                      kwh_nullable(o->action), "done_at",
                                      kwh_instant_json(o->done_at)));
    return true;
}

/* The overrun record (超时处理) of this run's deadline, or null. */
static json_t *overrun_of(struct kq *q, const struct kw_run_row *r)
{
    struct overrun_find f = {r->breached_at, NULL, q->x->me.customer, {0}};
    struct kw_overrun_filter of = {.ticket_id = r->ticket_id, .metric = r->metric, .limit = 100};
    struct kw_err err = {0};
    if (kw_store_watch_settings(q->x->wk->st, &f.ws, &err) == KW_OK)
        kw_store_overruns(q->x->wk->st, &of, overrun_match, &f, &err);
    return f.found ? f.found : json_null();
}

static void list_open(struct kq *q, const struct kw_run_row *r, bool listed, size_t b, int64_t end,
                      void *ctx)
{
    (void)b, (void)listed;
    struct breach_list *l = ctx;
    if (json_array_size(l->items) == l->limit) {
        l->more = true;
        return;
    }
    json_array_append_new(l->items, breach_json(q, r, "breached_open", end));
}

struct kwh_reply kwh_kpi_breaches(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kq q = {.x = x, .now = x->now};
    long long limit = 500;
    if (!kwh_query_int(x, "limit", 1, BREACHES_MAX, &limit, &out))
        return out;
    if (!parse(&q, false, &out) ||
        (!make_buckets(&q) && (out = kwh_problem_of(KW_NOMEM, "", "no memory")).status)) {
        kq_release(&q);
        return out;
    }
    struct run_list runs = {0};
    enum kw_code rc = read_runs(&q, &runs, false);
    struct breach_list l = {json_array(), (size_t)limit, false};
    for (size_t i = 0; rc == KW_OK && i < runs.n && !q.failed && !l.more; i++) {
        const struct kw_run_row *r = &runs.v[i];
        if (metric_index(&q, r->metric) < 0)
            continue;
        if (r->stopped_at != KW_STORE_NO_TIME && r->stopped_at >= q.from && r->stopped_at < q.to &&
            r->breached_at != KW_STORE_NO_TIME) {
            if (json_array_size(l.items) == l.limit)
                l.more = true;
            else
                json_array_append_new(l.items, breach_json(&q, r, "met_late", r->stopped_at));
        }
        breached_open(&q, r, KW_KPI_NO_SHAPE, list_open, &l, true);
    }
    free_runs(&runs);
    if (rc != KW_OK || q.failed) {
        json_decref(l.items);
        out = kwh_problem(&q.err);
        kq_release(&q);
        return out;
    }
    json_t *j = json_pack("{s:o, s:o, s:o, s:b}", "from", kwh_instant_json(q.from), "to",
                          kwh_instant_json(q.to), "breaches", l.items, "truncated", l.more);
    kq_release(&q);
    return kwh_ok(200, j);
}

/* ---- GET /kpis/tickets: the tickets behind one figure of one cell ---- */

#define DRILL_LIMIT_MAX 1000

static int by_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The cell: bucket and at (its label), and a value per dimension given
 * (empty: not set); false with *fail. */
static bool drill_parse(struct kq *q, struct drill *d, struct kwh_reply *fail)
{
    struct kwh_call *x = q->x;
    const char *f = kwh_query(x, "figure"), *at = kwh_query(x, "at");
    if (!f)
        return *fail = bad("figure", KW_INVALID,
                           "figure: missing (runs, met, met_late, breached_open, breaches, "
                           "stopped, mtta, mttr, created, resolved, reopened, backlog, rated "
                           "or nps)"),
               false;
    d->fig = F_COUNT;
    for (int i = 0; i < F_COUNT; i++)
        if (strcmp(figure_names[i], f) == 0)
            d->fig = (enum figure)i;
    if (d->fig == F_COUNT)
        return *fail = bad("figure", KW_INVALID,
                           "figure: \"%.32s\" is not a figure (expected runs, met, met_late, "
                           "breached_open, breaches, stopped, mtta, mttr, created, resolved, "
                           "reopened, backlog, rated or nps)",
                           f),
               false;
    if (q->bk != B_NONE && !at)
        return *fail = bad("at", KW_INVALID,
                           "at: missing (the bucket's label, e.g. 2026-W10, 2026-03 or "
                           "2026-03-02)"),
               false;
    if (q->bk == B_NONE && at)
        return *fail = bad("at", KW_INVALID,
                           "at: names a bucket: give bucket (day, week or "
                           "month) too"),
               false;
    d->bucket = q->nb;
    for (size_t b = 0; at && b < q->nb && d->bucket == q->nb; b++)
        if (strcmp(q->b[b].label, at) == 0)
            d->bucket = b;
    if (!at)
        d->bucket = 0;
    if (d->bucket == q->nb)
        return *fail = bad("at", KW_INVALID,
                           "at: \"%.32s\" is not a bucket of the period (expected a label "
                           "GET /kpis gives, e.g. 2026-W10)",
                           at),
               false;
    for (int i = 0; i < D_COUNT; i++) {
        const char *v = kwh_query(x, dim_names[i]);
        if (!v)
            continue;
        if (i == D_ASSIGNEE && x->me.customer)
            return *fail = bad("assignee", KW_FORBIDDEN,
                               "assignee: customers see their organisation's figures, not "
                               "each agent's"),
                   false;
        q->dims[q->ndims++] = (enum dim)i;
        d->want[i] = *v ? v : NULL;
    }
    return true;
}

struct kwh_reply kwh_kpi_tickets(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kq q = {.x = x, .now = x->now};
    struct drill d = {0};
    long long limit = 500;
    if (!kwh_query_int(x, "limit", 1, DRILL_LIMIT_MAX, &limit, &out))
        return out;
    d.limit = (size_t)limit;
    if (!parse(&q, true, &out) ||
        (!make_buckets(&q) && (out = kwh_problem_of(KW_NOMEM, "", "no memory")).status) ||
        !drill_parse(&q, &d, &out)) {
        kq_release(&q);
        return out;
    }
    d.items = json_array();
    q.drill = &d;
    enum kw_code rc = KW_OK;
    if (d.fig <= F_MTTR) {
        struct run_list runs = {0};
        rc = read_runs(&q, &runs, false);
        for (size_t i = 0; rc == KW_OK && i < runs.n && !q.failed; i++)
            run_row(&runs.v[i], &q);
        free_runs(&runs);
    } else
        rc = read_tickets(&q);
    if (rc == KW_OK && !q.failed && d.nomem)
        rc = kw_err_set(&q.err, KW_NOMEM, "", "no memory for the tickets");
    if (rc != KW_OK || q.failed) {
        out = kwh_problem(&q.err);
        goto out;
    }
    /* each ticket once, by id, with what a list shows of it */
    if (d.nids)
        qsort(d.ids, d.nids, sizeof(*d.ids), by_id);
    size_t n = 0;
    for (size_t i = 0; i < d.nids; i++)
        if (!n || d.ids[n - 1] != d.ids[i])
            d.ids[n++] = d.ids[i];
    if (d.fig >= F_CREATED && d.fig <= F_BACKLOG)
        d.count = n; /* each ticket once, as GET /kpis counts them */
    json_t *tickets = json_array(), *cell = json_object();
    for (size_t i = 0; i < n && i < d.limit; i++) {
        struct kw_ticket_row t;
        struct kw_err err = {0};
        if (kw_store_ticket_get(x->wk->st, d.ids[i], &t, &err) != KW_OK)
            continue; /* erased since: nothing to show */
        json_array_append_new(tickets, json_pack("{s:I, s:s?, s:s?, s:s?, s:o}", "id",
                                                 (json_int_t)t.id, "title", t.title, "state",
                                                 t.state, "level", t.level, "organisation",
                                                 kwh_nullable(name_of(&q, D_ORG, t.org_id))));
    }
    kw_store_end_read(x->wk->st);
    for (size_t i = 0; i < q.ndims; i++)
        json_object_set_new(cell, dim_names[q.dims[i]], kwh_nullable(d.want[q.dims[i]]));
    json_t *j =
        json_pack("{s:o, s:o, s:s, s:o, s:s, s:o, s:I, s:I, s:o, s:b}", "from",
                  kwh_instant_json(q.from), "to", kwh_instant_json(q.to), "tz", q.tz, "bucket",
                  q.bk == B_NONE ? json_null() : json_string(q.b[d.bucket].label), "figure",
                  figure_names[d.fig], "cell", cell, "count", (json_int_t)d.count, "ticket_count",
                  (json_int_t)n, "tickets", tickets, "truncated", n > d.limit || d.count > d.limit);
    json_object_set(j, d.fig >= F_RATED ? "ratings" : "runs", d.items);
    if (d.fig >= F_CREATED && d.fig <= F_BACKLOG)
        json_object_del(j, "runs");
    out = kwh_ok(200, j);
out:
    json_decref(d.items);
    free(d.ids);
    kq_release(&q);
    return out;
}

/* ---- team costs (time accounting) ---- */

static bool cost_json(const struct kw_team_cost *r, void *ctx)
{
    json_array_append_new(
        ctx, json_pack("{s:I, s:s, s:o}", "team_id", (json_int_t)r->team_id, "team",
                       r->team ? r->team : "", "hourly_cost",
                       r->currency
                           ? json_pack("{s:I, s:s, s:o, s:I}", "minor", (json_int_t)r->hourly_minor,
                                       "currency", r->currency, "set_at",
                                       kwh_instant_json(r->set_at), "set_by", (json_int_t)r->set_by)
                           : json_null()));
    return true;
}

struct kwh_reply kwh_team_costs(struct kwh_call *x)
{
    struct kw_err err = {0};
    json_t *items = json_array();
    if (kw_store_team_costs(x->wk->st, cost_json, items, &err) != KW_OK) {
        json_decref(items);
        return kwh_problem(&err);
    }
    return kwh_ok(200, json_pack("{s:o}", "teams", items));
}

struct cost_unit {
    int64_t team, minor, by, now;
    const char *currency; /* NULL: clear */
};

static enum kw_code cost_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct cost_unit *u = ctx;
    return kw_store_team_cost_set(st, u->team, u->minor, u->currency, u->by, u->now, err);
}

static const struct kwh_field cost_fields[] = {
    {.name = "minor",
     .type = KWH_INT,
     .required = true,
     .lo = 0,
     .hi = KW_KPI_HOURLY_MAX,
     .offset = offsetof(struct cost_unit, minor),
     .expect = "expected the hourly cost in minor units (cents, fen), 0 to 100000000",
     .missing = "missing (the hourly cost in minor units, e.g. 12000 for 120.00)"},
    {.name = "currency",
     .type = KWH_STR,
     .required = true,
     .max = 3,
     .offset = offsetof(struct cost_unit, currency),
     .missing = "missing (ISO 4217, e.g. CNY)"},
};

static struct kwh_reply cost_reply(struct kwh_call *x, int64_t team)
{
    struct kw_err err = {0};
    json_t *items = json_array();
    enum kw_code rc = kw_store_team_costs(x->wk->st, cost_json, items, &err);
    json_t *found = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) if (json_integer_value(json_object_get(v, "team_id")) == team)
        found = json_incref(v);
    json_decref(items);
    if (rc != KW_OK || !found) {
        json_decref(found);
        return rc != KW_OK ? kwh_problem(&err) : kwh_problem_of(KW_NOT_FOUND, "", "no such team");
    }
    return kwh_ok(200, found);
}

struct kwh_reply kwh_team_cost_put(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct cost_unit u = {.team = x->arg.id, .by = x->me.id, .now = x->now};
    bool ok = kwh_decode(j, cost_fields, KWH_NFIELDS(cost_fields), &u, &out);
    if (ok) {
        const char *c = u.currency;
        bool iso = strlen(c) == 3;
        for (size_t i = 0; iso && i < 3; i++)
            iso = c[i] >= 'A' && c[i] <= 'Z';
        if (!iso) {
            out = kwh_problemf(KW_INVALID, "/currency",
                               "currency: \"%.8s\" is not an ISO 4217 code (three capital "
                               "letters, e.g. CNY)",
                               c);
            ok = false;
        }
    }
    ok = ok && kwh_write_unit(x, cost_unit, &u, &out);
    json_decref(j);
    return ok ? cost_reply(x, u.team) : out;
}

struct kwh_reply kwh_team_cost_delete(struct kwh_call *x)
{
    struct kwh_reply out;
    struct cost_unit u = {.team = x->arg.id, .by = x->me.id, .now = x->now};
    return kwh_write_unit(x, cost_unit, &u, &out) ? cost_reply(x, u.team) : out;
}
