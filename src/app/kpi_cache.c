// SPDX-License-Identifier: MIT
/* The clock runs of the KPI facts in memory (kpi_cache.h): a pool of
 * compact records, each ticket's runs side by side, an index by ticket id,
 * and the runs' strings and dimension ids interned as shapes. A ticket's
 * runs written again leave their old records dead in the pool; the pool is
 * compacted when the dead outnumber the live. */
#define _GNU_SOURCE /* MAP_NORESERVE, madvise(MADV_HUGEPAGE) */
#include "kpi_cache.h"

#include <pthread.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BASE 946684800        /* 2000-01-01T00:00:00Z: instants are kept from it */
#define NONE INT32_MIN        /* no instant (KW_STORE_NO_TIME) */
#define DEAD UINT32_MAX       /* a record's shape once its ticket's runs were replaced */
#define NSTR 9                /* the strings of a run (enum str) */
#define MAX_STRINGS 65535     /* ids in 16 bits, 0 for none */
#define MAX_TICKET (1u << 26) /* ticket ids indexed directly (8 bytes each) */
#define PAGE 65536            /* runs read at once when loading */
#define CHANGES 1024          /* changes read at once */
/* kw_kpi_cache_runs_halves: below this many records to read, one thread
 * reads them (a thread's start costs more than it saves) */
#define SPLIT_MIN 16384

enum str {
    S_METRIC,
    S_STATUS,
    S_CALENDAR,
    S_LEVEL,
    S_TIER,
    S_ORGANISATION,
    S_CATEGORY,
    S_REGION,
    S_CHANNEL
};

/* What the runs of a ticket share, mostly: kept once. */
struct shape {
    int64_t org_id, commitment_id, team_id, assignee_id;
    uint16_t s[NSTR]; /* string ids, 0: NULL */
};

/* A shape's strings (its ids' in str[], or NULL), beside it: a run's row
 * takes them as they are, where looking each id up (and testing it for
 * none) was most of row_of, made for each run of a period. */
struct shape_text {
    const char *v[NSTR];
};

struct rec {
    uint32_t ticket, shape, run;
    int32_t started, stopped, deadline, breached, measured, steady; /* from BASE, or NONE */
    int32_t target, working, wall, paused_wall;                     /* seconds */
};
_Static_assert(sizeof(struct rec) == 52, "a run's record is 52 bytes");

struct slice {
    uint32_t first, n; /* the ticket's records in the pool */
    uint32_t gen;      /* bumped each time they are read again (kept measures' tag) */
};

/* A run measured again as of `at`, kept (kw_kpi_cache_measured): valid
 * while tag is the ticket's (the table's loads, the ticket's gen). */
struct measure {
    int64_t ticket, commitment, run, at;
    const void *with;
    const char *metric; /* interned in the measures' strings */
    uint64_t tag;
    bool found, used;
    struct kw_run_row row;
};

/* A ticket's facts (kw_store_ticket_states): its attributes as a shape
 * (metric, status, calendar none), instants from BASE, its states in the
 * state pool (first, n), in seq order. shape DEAD: no such ticket. */
struct tick {
    uint32_t shape, first, mfirst; /* mfirst: its dated facts in their pool (mn of them) */
    int32_t created, updated;
    uint16_t n, mn;
    bool open;
    /* its last state (n > 0) kept here: open_at reads no state for an end
     * after it, most of them */
    bool last_open;
    int32_t last_at;
};

/* One of a ticket's dated facts (kw_store_ticket_marks): a resolved
 * milestone, a reopening, a rating or a time entry, in (kind, at, seq)
 * order. */
struct tmark {
    int32_t at;
    int32_t seconds; /* time: as last corrected */
    uint32_t team;   /* time: the entry's team, 0: none */
    uint8_t kind;    /* enum kw_ticket_fact */
    int8_t satisfaction, nps;
};
_Static_assert(sizeof(struct tmark) == 16, "a dated fact is 16 bytes");

/* The state after one of its state or reopened events. */
struct tstate {
    int32_t at;
    int32_t open;
};

struct kw_kpi_cache {
    pthread_rwlock_t lock;
    _Atomic bool cancel;
    bool loaded, off;
    int64_t watermark;
    struct rec *pool;
    size_t n, cap, dead;
    struct slice *idx; /* by ticket id */
    size_t nidx;
    size_t tickets;
    char **str; /* str[i - 1]: string id i */
    size_t nstr;
    uint32_t *str_slot; /* open addressing: string ids */
    size_t str_cap;
    struct shape *shp;
    struct shape_text *stx; /* stx[i]: shp[i]'s strings (as long as shp) */
    size_t nshp, shp_alloc;
    uint32_t *shp_slot; /* open addressing: shape index + 1 */
    size_t shp_cap;
    struct tick *tk; /* by ticket id */
    size_t ntk, ntickets;
    struct tstate *sp; /* the tickets' states */
    size_t nsp, spcap, spdead;
    struct tmark *mk; /* the tickets' dated facts */
    size_t nmk, mkcap, mkdead;
    int64_t load_ms;
    uint64_t loads, deltas;
    /* the records of pool[0..nix) by day (from BASE) of the instants that
     * make a run count in a period (its stop and its breach, or its
     * deadline: counts()), each day's in pool order: day d - day0's at
     * ix[ixoff[d - day0] .. ixoff[d - day0 + 1]); records added since are
     * read in pool order after them (day_index) */
    uint32_t *ix, *ixoff;
    size_t nix, nixe, ndays;
    int32_t day0;
    struct kw_change ch[CHANGES]; /* read from the change log, under the write lock */
    /* the runs measured again (open addressing), under mlock and the read
     * lock; their strings, never freed before the table (rows given out
     * point to them) */
    pthread_mutex_t mlock;
    uint32_t gen;
    struct measure *ms;
    size_t nms, ms_cap, ms_hits;
    char **mstr;
    size_t nmstr, mstr_cap;
    struct {
        void *p;
        size_t size;
    } spare[2];       /* scratch mappings handed back, under mlock */
    size_t split_min; /* kw_kpi_cache_runs_halves: fewer records, one reader */
};

struct kw_kpi_cache *kw_kpi_cache_new(void)
{
    struct kw_kpi_cache *c = calloc(1, sizeof(*c));
    if (c && pthread_rwlock_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    if (c && pthread_mutex_init(&c->mlock, NULL) != 0) {
        pthread_rwlock_destroy(&c->lock);
        free(c);
        return NULL;
    }
    /* for tests: two readers on a small table (tests/http/kpi.sh) */
    const char *min = c ? getenv("KEEPWORD_KPI_SPLIT_MIN") : NULL;
    char *end = NULL;
    unsigned long long v = min ? strtoull(min, &end, 10) : 0;
    if (c)
        c->split_min = min && end != min && !*end && v > 0 && v < SPLIT_MIN ? (size_t)v : SPLIT_MIN;
    return c;
}

void kw_kpi_cache_split_min(struct kw_kpi_cache *c, size_t n)
{
    c->split_min = n ? n : SPLIT_MIN;
}

size_t kw_kpi_cache_split_at(const struct kw_kpi_cache *c)
{
    return c ? c->split_min : SPLIT_MIN;
}

static void clear(struct kw_kpi_cache *c)
{
    c->nms = 0; /* (their tags name the loads before: dropped too) */
    if (c->ms)
        memset(c->ms, 0, c->ms_cap * sizeof(*c->ms));
    for (size_t i = 0; i < c->nstr; i++)
        free(c->str[i]);
    free(c->str);
    free(c->str_slot);
    free(c->shp);
    free(c->stx);
    free(c->shp_slot);
    free(c->pool);
    free(c->idx);
    free(c->tk);
    free(c->sp);
    free(c->mk);
    c->mk = NULL;
    free(c->ix);
    free(c->ixoff);
    c->ix = c->ixoff = NULL;
    c->nix = c->nixe = c->ndays = 0;
    c->nmk = c->mkcap = c->mkdead = 0;
    c->tk = NULL;
    c->sp = NULL;
    c->ntk = c->ntickets = c->nsp = c->spcap = c->spdead = 0;
    c->str = NULL;
    c->str_slot = NULL;
    c->shp = NULL;
    c->stx = NULL;
    c->shp_slot = NULL;
    c->pool = NULL;
    c->idx = NULL;
    c->nstr = c->str_cap = c->nshp = c->shp_alloc = c->shp_cap = 0;
    c->n = c->cap = c->dead = c->nidx = c->tickets = 0;
    c->loaded = false;
}

void kw_kpi_cache_free(struct kw_kpi_cache *c)
{
    if (!c)
        return;
    clear(c);
    free(c->ms);
    for (size_t i = 0; i < c->mstr_cap; i++)
        free(c->mstr[i]);
    free(c->mstr);
    for (int i = 0; i < 2; i++)
        if (c->spare[i].p)
            munmap(c->spare[i].p, c->spare[i].size);
    pthread_mutex_destroy(&c->mlock);
    pthread_rwlock_destroy(&c->lock);
    free(c);
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* The id of string s (0 for NULL); false when out of memory or ids. */
static bool str_id(struct kw_kpi_cache *c, const char *s, uint16_t *id)
{
    if (!s) {
        *id = 0;
        return true;
    }
    if (2 * (c->nstr + 1) > c->str_cap) {
        size_t cap = c->str_cap ? 2 * c->str_cap : 256;
        uint32_t *slot = calloc(cap, sizeof(*slot));
        char **str = realloc(c->str, (cap / 2) * sizeof(*str));
        if (!slot || !str) {
            free(slot);
            if (str)
                c->str = str;
            return false;
        }
        c->str = str;
        for (size_t i = 0; i < c->nstr; i++) {
            size_t j = hash_bytes(c->str[i], strlen(c->str[i])) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = (uint32_t)(i + 1);
        }
        free(c->str_slot);
        c->str_slot = slot;
        c->str_cap = cap;
    }
    size_t len = strlen(s), j = hash_bytes(s, len) & (c->str_cap - 1);
    for (; c->str_slot[j]; j = (j + 1) & (c->str_cap - 1))
        if (strcmp(c->str[c->str_slot[j] - 1], s) == 0) {
            *id = (uint16_t)c->str_slot[j];
            return true;
        }
    if (c->nstr == MAX_STRINGS || !(c->str[c->nstr] = strdup(s)))
        return false;
    c->str_slot[j] = (uint32_t)++c->nstr;
    *id = (uint16_t)c->nstr;
    return true;
}

static bool shape_same(const struct shape *a, const struct shape *b)
{
    return a->org_id == b->org_id && a->commitment_id == b->commitment_id &&
           a->team_id == b->team_id && a->assignee_id == b->assignee_id &&
           memcmp(a->s, b->s, sizeof(a->s)) == 0;
}

static uint64_t shape_hash(const struct shape *s)
{
    int64_t v[4] = {s->org_id, s->commitment_id, s->team_id, s->assignee_id};
    return hash_bytes(v, sizeof(v)) ^ (hash_bytes(s->s, sizeof(s->s)) * 31);
}

static bool shape_id(struct kw_kpi_cache *c, const struct shape *s, uint32_t *id)
{
    if (2 * (c->nshp + 1) > c->shp_cap) {
        size_t cap = c->shp_cap ? 2 * c->shp_cap : 1024;
        uint32_t *slot = calloc(cap, sizeof(*slot));
        if (!slot)
            return false;
        for (size_t i = 0; i < c->nshp; i++) {
            size_t j = shape_hash(&c->shp[i]) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = (uint32_t)(i + 1);
        }
        free(c->shp_slot);
        c->shp_slot = slot;
        c->shp_cap = cap;
    }
    size_t j = shape_hash(s) & (c->shp_cap - 1);
    for (; c->shp_slot[j]; j = (j + 1) & (c->shp_cap - 1))
        if (shape_same(&c->shp[c->shp_slot[j] - 1], s)) {
            *id = c->shp_slot[j] - 1;
            return true;
        }
    if (c->nshp == c->shp_alloc) {
        size_t n = c->shp_alloc ? 2 * c->shp_alloc : 1024;
        struct shape *v = realloc(c->shp, n * sizeof(*v));
        if (!v)
            return false;
        c->shp = v;
        struct shape_text *t = realloc(c->stx, n * sizeof(*t));
        if (!t)
            return false; /* (shp longer: harmless) */
        c->stx = t;
        c->shp_alloc = n;
    }
    if (c->nshp >= DEAD - 1)
        return false;
    c->shp[c->nshp] = *s;
    for (int i = 0; i < NSTR; i++)
        c->stx[c->nshp].v[i] = s->s[i] ? c->str[s->s[i] - 1] : NULL;
    c->shp_slot[j] = (uint32_t)++c->nshp;
    *id = (uint32_t)(c->nshp - 1);
    return true;
}

static bool instant32(int64_t t, int32_t *out)
{
    if (t == KW_STORE_NO_TIME) {
        *out = NONE;
        return true;
    }
    int64_t v = t - BASE;
    if (v <= INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

static bool int32_of(int64_t v, int32_t *out)
{
    if (v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

static int64_t instant64(int32_t v)
{
    return v == NONE ? KW_STORE_NO_TIME : (int64_t)BASE + v;
}

/* r as a record; false when it does not fit (or out of memory). */
static bool rec_of(struct kw_kpi_cache *c, const struct kw_run_row *r, struct rec *out)
{
    struct shape s = {r->org_id, r->commitment_id, r->team_id, r->assignee_id, {0}};
    const char *v[NSTR] = {r->metric,       r->status,   r->calendar, r->level,  r->tier,
                           r->organisation, r->category, r->region,   r->channel};
    for (int i = 0; i < NSTR; i++)
        if (!str_id(c, v[i], &s.s[i]))
            return false;
    if (r->ticket_id <= 0 || r->ticket_id >= MAX_TICKET || r->run < 0 || r->run > INT32_MAX)
        return false;
    out->ticket = (uint32_t)r->ticket_id;
    out->run = (uint32_t)r->run;
    return shape_id(c, &s, &out->shape) && instant32(r->started_at, &out->started) &&
           instant32(r->stopped_at, &out->stopped) && instant32(r->deadline, &out->deadline) &&
           instant32(r->breached_at, &out->breached) && instant32(r->measured_at, &out->measured) &&
           instant32(r->steady_from, &out->steady) && int32_of(r->target, &out->target) &&
           int32_of(r->working, &out->working) && int32_of(r->wall, &out->wall) &&
           int32_of(r->paused_wall, &out->paused_wall);
}

static void row_of(const struct kw_kpi_cache *c, const struct rec *x, struct kw_run_row *r)
{
    const struct shape *s = &c->shp[x->shape];
    const char *const *v = c->stx[x->shape].v;
    *r = (struct kw_run_row){
        .ticket_id = x->ticket,
        .run = x->run,
        .org_id = s->org_id,
        .commitment_id = s->commitment_id,
        .metric = v[S_METRIC],
        .status = v[S_STATUS],
        .started_at = instant64(x->started),
        .stopped_at = instant64(x->stopped),
        .deadline = instant64(x->deadline),
        .breached_at = instant64(x->breached),
        .target = x->target,
        .working = x->working,
        .wall = x->wall,
        .paused_wall = x->paused_wall,
        .measured_at = instant64(x->measured),
        .steady_from = instant64(x->steady),
        .team_id = s->team_id,
        .assignee_id = s->assignee_id,
        .calendar = v[S_CALENDAR],
        .level = v[S_LEVEL],
        .tier = v[S_TIER],
        .organisation = v[S_ORGANISATION],
        .category = v[S_CATEGORY],
        .region = v[S_REGION],
        .channel = v[S_CHANNEL],
    };
}

/* The array whose pointer is at v grown (by doubling from 4,096 elements
 * of size bytes) to hold at least need, no more than max: the new elements are the caller's to set;
 * false (*v and *cap as they were) when out of memory or past max. */
static bool grow(void *v, size_t *cap, size_t need, size_t size, size_t max)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    if (n > max)
        return false;
    void *old; /* *v, a pointer to an object type, read and set by its bytes */
    memcpy(&old, v, sizeof(old));
    void *nv = realloc(old, n * size);
    if (!nv)
        return false;
    memcpy(v, &nv, sizeof(nv));
    *cap = n;
    return true;
}

/* Room for more records in the pool, and the index up to ticket t. */
static bool room(struct kw_kpi_cache *c, size_t more, uint32_t t)
{
    size_t nidx = c->nidx;
    if (!grow(&c->pool, &c->cap, c->n + more, sizeof(*c->pool), UINT32_MAX) ||
        !grow(&c->idx, &c->nidx, (size_t)t + 1, sizeof(*c->idx), SIZE_MAX))
        return false;
    memset(c->idx + nidx, 0, (c->nidx - nidx) * sizeof(*c->idx));
    return true;
}

/* Drop the dead records, keeping each ticket's runs side by side. */
static void compact(struct kw_kpi_cache *c)
{
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->pool[i].shape == DEAD)
            continue;
        struct slice *s = &c->idx[c->pool[i].ticket];
        if (s->first == i)
            s->first = (uint32_t)w;
        c->pool[w++] = c->pool[i];
    }
    c->n = w;
    c->dead = 0;
    c->nix = 0; /* the records moved: indexed again (day_index) */
}

/* ---- loading: the records of one ticket at a time ---- */

struct batch {
    struct kw_kpi_cache *c;
    uint32_t ticket; /* whose records are being added */
    size_t first;    /* where they begin in the pool */
    bool fail;
};

/* Close the ticket's records: mark its previous ones dead, index the new. */
static void batch_close(struct batch *b)
{
    struct kw_kpi_cache *c = b->c;
    if (!b->ticket)
        return;
    struct slice *s = &c->idx[b->ticket];
    if (s->n)
        c->tickets--;
    for (uint32_t i = 0; i < s->n; i++)
        c->pool[s->first + i].shape = DEAD;
    c->dead += s->n;
    s->first = (uint32_t)b->first;
    s->n = (uint32_t)(c->n - b->first);
    if (s->n)
        c->tickets++;
    b->ticket = 0;
}

static bool batch_row(const struct kw_run_row *r, void *ctx)
{
    struct batch *b = ctx;
    struct kw_kpi_cache *c = b->c;
    struct rec x;
    if (!rec_of(c, r, &x) || !room(c, 1, x.ticket))
        return !(b->fail = true);
    if (x.ticket != b->ticket) {
        batch_close(b);
        b->ticket = x.ticket;
        b->first = c->n;
    }
    c->pool[c->n++] = x;
    return true;
}

/* Read ticket's runs again (none: its slice is emptied). */
static enum kw_code reload_ticket(struct kw_kpi_cache *c, struct kw_store *st, int64_t ticket,
                                  struct kw_err *err)
{
    if (ticket <= 0 || ticket >= MAX_TICKET) {
        c->off = true;
        return KW_OK;
    }
    struct batch b = {.c = c, .ticket = (uint32_t)ticket, .first = c->n};
    if (!room(c, 0, (uint32_t)ticket)) {
        c->off = true;
        return KW_OK;
    }
    struct kw_run_filter f = {.ticket = ticket};
    enum kw_code rc = kw_store_runs(st, &f, batch_row, &b, err);
    if (rc != KW_OK)
        return rc;
    if (b.fail) {
        c->off = true;
        return KW_OK;
    }
    batch_close(&b);
    c->idx[ticket].gen = ++c->gen; /* its measures kept are stale */
    return KW_OK;
}

/* ---- the tickets' facts: one record a ticket, its states beside ---- */

/* Room for ticket t in the index and for more states in their pool. */
static bool tick_room(struct kw_kpi_cache *c, uint32_t t, size_t states)
{
    size_t ntk = c->ntk;
    if (!grow(&c->tk, &c->ntk, (size_t)t + 1, sizeof(*c->tk), SIZE_MAX))
        return false;
    for (size_t i = ntk; i < c->ntk; i++)
        c->tk[i] = (struct tick){.shape = DEAD};
    return grow(&c->sp, &c->spcap, c->nsp + states, sizeof(*c->sp), UINT32_MAX);
}

/* Forget ticket t's facts (its states left dead in their pool). */
static void tick_drop(struct kw_kpi_cache *c, uint32_t t)
{
    if (t < c->ntk && c->tk[t].shape != DEAD) {
        c->spdead += c->tk[t].n;
        c->mkdead += c->tk[t].mn;
        c->tk[t].mn = 0;
        c->tk[t].shape = DEAD;
        c->ntickets--;
    }
}

struct tbatch {
    struct kw_kpi_cache *c;
    int64_t only; /* reading one ticket again: the rows of others are passed over */
    int64_t last; /* the ticket of the last row */
    size_t count; /* tickets read */
    bool fail;
};

static bool tick_row(const struct kw_ticket_state_row *r, void *ctx)
{
    struct tbatch *b = ctx;
    struct kw_kpi_cache *c = b->c;
    int64_t id = r->t.ticket_id;
    if (b->only && id != b->only)
        return true;
    if (id <= 0 || id >= MAX_TICKET || !tick_room(c, (uint32_t)id, 1))
        return !(b->fail = true);
    struct tick *k = &c->tk[id];
    if (id != b->last) { /* the ticket's first row */
        tick_drop(c, (uint32_t)id);
        struct shape s = {r->t.org_id, r->t.commitment_id, r->t.team_id, r->t.assignee_id, {0}};
        const char *v[NSTR] = {NULL,          NULL,        NULL,
                               r->t.level,    r->t.tier,   r->t.organisation,
                               r->t.category, r->t.region, r->t.channel};
        struct tick n = {.first = (uint32_t)c->nsp, .open = r->open};
        for (int i = 0; i < NSTR; i++)
            if (!str_id(c, v[i], &s.s[i]))
                return !(b->fail = true);
        if (!shape_id(c, &s, &n.shape) || !instant32(r->t.at, &n.created) ||
            !instant32(r->updated_at, &n.updated) || n.created == NONE || n.updated == NONE)
            return !(b->fail = true);
        *k = n;
        c->ntickets++;
        b->last = id;
        b->count++;
    }
    if (r->state_at != KW_STORE_NO_TIME) {
        int32_t at;
        if (!instant32(r->state_at, &at) || k->n == UINT16_MAX || k->first + k->n != c->nsp)
            return !(b->fail = true);
        c->sp[c->nsp++] = (struct tstate){at, r->state_open};
        k->n++;
        k->last_at = at;
        k->last_open = r->state_open;
    }
    return true;
}

/* Read ticket's facts again (none: it is forgotten). */
static enum kw_code reload_tick(struct kw_kpi_cache *c, struct kw_store *st, int64_t ticket,
                                struct kw_err *err)
{
    if (ticket <= 0 || ticket >= MAX_TICKET || !tick_room(c, (uint32_t)ticket, 0)) {
        c->off = true;
        return KW_OK;
    }
    tick_drop(c, (uint32_t)ticket);
    struct tbatch b = {.c = c, .only = ticket};
    enum kw_code rc = kw_store_ticket_states(st, ticket - 1, 1, tick_row, &b, err);
    if (rc == KW_OK && b.fail)
        c->off = true;
    return rc;
}

/* ---- the tickets' dated facts: beside their states ---- */

/* A dated fact as read, with what orders it among its ticket's. */
struct lmark {
    uint32_t ticket, seq;
    struct tmark m;
};

struct mload {
    struct lmark *v;
    size_t n, cap;
    bool fail;
};

static bool mark_row(const struct kw_ticket_mark_row *r, void *ctx)
{
    struct mload *l = ctx;
    struct lmark x = {.m.kind = (uint8_t)r->kind};
    int32_t seconds, team;
    if (r->ticket_id <= 0 || r->ticket_id >= MAX_TICKET || r->seq < 0 || r->seq > UINT32_MAX ||
        !instant32(r->at, &x.m.at) || x.m.at == NONE || !int32_of(r->seconds, &seconds) ||
        !int32_of(r->team_id, &team) || team < 0 || r->satisfaction < INT8_MIN ||
        r->satisfaction > INT8_MAX || r->nps < INT8_MIN || r->nps > INT8_MAX ||
        !grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v), SIZE_MAX))
        return !(l->fail = true);
    x.ticket = (uint32_t)r->ticket_id;
    x.seq = (uint32_t)r->seq;
    x.m.seconds = seconds;
    x.m.team = (uint32_t)team;
    x.m.satisfaction = (int8_t)r->satisfaction;
    x.m.nps = (int8_t)r->nps;
    l->v[l->n++] = x;
    return true;
}

static int by_mark(const void *a, const void *b)
{
    const struct lmark *x = a, *y = b;
    if (x->ticket != y->ticket)
        return x->ticket < y->ticket ? -1 : 1;
    if (x->m.kind != y->m.kind)
        return x->m.kind < y->m.kind ? -1 : 1;
    if (x->m.at != y->m.at)
        return x->m.at < y->m.at ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The dated facts read into l given to their tickets (each ticket's all
 * read, its record made without any): those of a ticket not kept are
 * passed over, as the store's join with the tickets leaves them out;
 * false when out of memory or room. */
static bool marks_place(struct kw_kpi_cache *c, struct mload *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), by_mark);
    if (!grow(&c->mk, &c->mkcap, c->nmk + l->n, sizeof(*c->mk), UINT32_MAX))
        return false;
    for (size_t i = 0, j; i < l->n; i = j) {
        uint32_t t = l->v[i].ticket;
        for (j = i; j < l->n && l->v[j].ticket == t;)
            j++;
        if (t >= c->ntk || c->tk[t].shape == DEAD)
            continue;
        struct tick *k = &c->tk[t];
        if (k->mn || j - i > UINT16_MAX)
            return false;
        k->mfirst = (uint32_t)c->nmk;
        k->mn = (uint16_t)(j - i);
        for (size_t x = i; x < j; x++)
            c->mk[c->nmk++] = l->v[x].m;
    }
    return true;
}

/* Read ticket's dated facts again, once its record is (reload_tick). */
static enum kw_code reload_marks(struct kw_kpi_cache *c, struct kw_store *st, int64_t ticket,
                                 struct kw_err *err)
{
    if (ticket <= 0 || (size_t)ticket >= c->ntk || c->tk[ticket].shape == DEAD)
        return KW_OK;
    struct mload l = {0};
    enum kw_code rc = kw_store_ticket_marks(st, ticket, mark_row, &l, err);
    if (rc == KW_OK && (l.fail || !marks_place(c, &l)))
        c->off = true;
    free(l.v);
    return rc;
}

/* Every ticket's dated facts, once their records are (load_ticks). */
static enum kw_code load_marks(struct kw_kpi_cache *c, struct kw_store *st, struct kw_err *err)
{
    struct mload l = {0};
    enum kw_code rc = kw_store_ticket_marks(st, 0, mark_row, &l, err);
    if (rc == KW_OK && (l.fail || !marks_place(c, &l)))
        c->off = true;
    free(l.v);
    return rc;
}

/* Drop the dead dated facts, each ticket's still side by side. */
static void compact_marks(struct kw_kpi_cache *c)
{
    size_t cap = c->nmk - c->mkdead + 1;
    struct tmark *v = malloc(cap * sizeof(*v));
    if (!v)
        return;
    size_t w = 0;
    for (size_t t = 0; t < c->ntk; t++) {
        struct tick *k = &c->tk[t];
        if (k->shape == DEAD || !k->mn)
            continue;
        memcpy(v + w, c->mk + k->mfirst, k->mn * sizeof(*v));
        k->mfirst = (uint32_t)w;
        w += k->mn;
    }
    free(c->mk);
    c->mk = v;
    c->nmk = w;
    c->mkcap = cap;
    c->mkdead = 0;
}

/* Every ticket's facts, a page of tickets at a time. */
static enum kw_code load_ticks(struct kw_kpi_cache *c, struct kw_store *st, struct kw_err *err)
{
    int64_t after = 0;
    for (;;) {
        if (c->cancel)
            return KW_OK;
        struct tbatch b = {.c = c};
        enum kw_code rc = kw_store_ticket_states(st, after, PAGE, tick_row, &b, err);
        if (rc != KW_OK)
            return rc;
        if (b.fail) {
            c->off = true;
            return KW_OK;
        }
        if (b.count < PAGE)
            return KW_OK;
        after = b.last;
    }
}

/* Drop the dead states, each ticket's still side by side. */
static void compact_ticks(struct kw_kpi_cache *c)
{
    size_t cap = c->nsp - c->spdead + 1;
    struct tstate *v = malloc(cap * sizeof(*v));
    if (!v)
        return;
    size_t w = 0;
    for (size_t t = 0; t < c->ntk; t++) {
        struct tick *k = &c->tk[t];
        if (k->shape == DEAD)
            continue;
        memcpy(v + w, c->sp + k->first, k->n * sizeof(*v));
        k->first = (uint32_t)w;
        w += k->n;
    }
    free(c->sp);
    c->sp = v;
    c->nsp = w;
    c->spcap = cap;
    c->spdead = 0;
}

_Static_assert(sizeof(struct kw_ticket_fact_row) == 136, "fact_of sets each of its fields");

/* Every field set one by one: a compound literal zeroed the row first
 * (a `rep stos` of its 136 bytes, half of this function's time, once for
 * each ticket and dated fact of a period). */
static void fact_of(const struct kw_kpi_cache *c, int64_t id, const struct tick *k,
                    struct kw_ticket_fact_row *r)
{
    const struct shape *s = &c->shp[k->shape];
    r->ticket_id = id;
    r->org_id = s->org_id;
    r->commitment_id = s->commitment_id;
    r->team_id = s->team_id;
    r->assignee_id = s->assignee_id;
    r->at = instant64(k->created);
    r->satisfaction = 0;
    r->nps = -1;
    r->seconds = 0;
    r->entry_team_id = 0;
    r->as_of = 0;
    const char *const *v = c->stx[k->shape].v;
    r->level = v[S_LEVEL];
    r->tier = v[S_TIER];
    r->organisation = v[S_ORGANISATION];
    r->category = v[S_CATEGORY];
    r->region = v[S_REGION];
    r->channel = v[S_CHANNEL];
    r->shape = k->shape + 1;
}

/* Open at e by its states: the one after its last event (by seq) before
 * e, registered when none (kw_store_ticket_backlog's test). */
static bool open_at(const struct kw_kpi_cache *c, const struct tick *k, int64_t e)
{
    int64_t created = instant64(k->created), updated = instant64(k->updated);
    if (created >= e || (!k->open && updated < e))
        return false;
    if (k->n && instant64(k->last_at) < e)
        return k->last_open;
    const struct tstate *s = c->sp + k->first;
    for (uint32_t i = k->n; i-- > 0;)
        if (instant64(s[i].at) < e)
            return s[i].open != 0;
    return true;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void day_index(struct kw_kpi_cache *c);

/* Every run, a page at a time on the primary key; the change log's head
 * is read first, so what is written meanwhile comes again as a change. */
static enum kw_code load(struct kw_kpi_cache *c, struct kw_store *st, struct kw_err *err)
{
    int64_t t0 = mono_ms(), head = 0;
    clear(c);
    enum kw_code rc = kw_store_changes_head(st, &head, err);
    int64_t after = 0;
    size_t limit = PAGE;
    while (rc == KW_OK) {
        if (c->cancel) {
            kw_store_end_read(st);
            clear(c);
            return KW_OK;
        }
        struct batch b = {.c = c};
        struct kw_run_filter f = {.all = true, .after_ticket = after, .limit = limit};
        size_t n0 = c->n;
        rc = kw_store_runs(st, &f, batch_row, &b, err);
        if (rc != KW_OK)
            break;
        if (b.fail) {
            c->off = true;
            break;
        }
        size_t got = c->n - n0;
        if (got < limit) { /* the last page: every ticket in it is complete */
            batch_close(&b);
            break;
        }
        /* a full page: its last ticket may go on; read it with the next */
        c->n = b.first;
        b.ticket = 0;
        if (b.first == n0) { /* the whole page was one ticket's */
            limit *= 2;
            continue;
        }
        after = c->pool[c->n - 1].ticket;
        limit = PAGE;
    }
    kw_store_end_read(st);
    if (rc == KW_OK && !c->off && !c->cancel) {
        rc = load_ticks(c, st, err);
        if (rc == KW_OK && !c->off && !c->cancel)
            rc = load_marks(c, st, err);
        kw_store_end_read(st);
    }
    if (rc != KW_OK || c->off || c->cancel) {
        clear(c);
        return rc;
    }
    /* the pool grew by doubling: give back what the load left unused */
    struct rec *fit = c->n ? realloc(c->pool, c->n * sizeof(*fit)) : NULL;
    if (fit) {
        c->pool = fit;
        c->cap = c->n;
    }
    day_index(c);
    c->watermark = head;
    c->loaded = true;
    c->loads++;
    c->load_ms = mono_ms() - t0;
    return KW_OK;
}

/* Read the tickets changed since the watermark again; all of it when the
 * changes were pruned before they were read. */
/* ---- the records by day ---- */

static int32_t day_of(int32_t v)
{
    return v >= 0 ? v / 86400 : -(int32_t)((-(int64_t)v + 86399) / 86400);
}

/* The days x is indexed under (counts()'s instants: its stop and its
 * breach, or its deadline): 0, 1 or 2 of them, in ascending order. */
static int key_days(const struct rec *x, int32_t d[2])
{
    int n = 0;
    if (x->stopped != NONE) {
        int32_t s = day_of(x->stopped);
        if (x->breached != NONE) {
            int32_t b = day_of(x->breached);
            if (b != s) {
                d[n++] = b < s ? b : s;
                d[n++] = b < s ? s : b;
                return n;
            }
        }
        d[n++] = s;
    } else if (x->breached != NONE) {
        d[n++] = day_of(x->breached);
    } else if (x->deadline != NONE) {
        d[n++] = day_of(x->deadline);
    }
    return n;
}

/* Index the pool's records by day (a counting sort, each day's in pool
 * order), once loaded, after a compaction moved them, or when those added
 * since the last index are more than an eighth of them; out of memory: no
 * index (every record is read in pool order). Under the write lock. */
static void day_index(struct kw_kpi_cache *c)
{
    if (c->ix && c->n - c->nix <= c->n / 8 + 4096)
        return;
    free(c->ix);
    free(c->ixoff);
    c->ix = c->ixoff = NULL;
    c->nix = c->nixe = c->ndays = 0;
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    size_t ne = 0;
    for (size_t i = 0; i < c->n; i++) {
        int32_t d[2];
        int k = c->pool[i].shape == DEAD ? 0 : key_days(&c->pool[i], d);
        for (int j = 0; j < k; j++) {
            lo = d[j] < lo ? d[j] : lo;
            hi = d[j] > hi ? d[j] : hi;
        }
        ne += (size_t)k;
    }
    if (ne > UINT32_MAX)
        return;
    size_t ndays = ne ? (size_t)((int64_t)hi - lo + 1) : 0;
    uint32_t *off = calloc(ndays + 2, sizeof(*off));
    uint32_t *ix = ne ? malloc(ne * sizeof(*ix)) : NULL;
    if (!off || (ne && !ix)) {
        free(off);
        free(ix);
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        int32_t d[2];
        int k = c->pool[i].shape == DEAD ? 0 : key_days(&c->pool[i], d);
        for (int j = 0; j < k; j++)
            off[d[j] - lo + 2]++;
    }
    for (size_t d = 2; d < ndays + 2; d++)
        off[d] += off[d - 1];
    for (size_t i = 0; i < c->n; i++) { /* off[d - lo + 1]: where day d's next goes */
        int32_t d[2];
        int k = c->pool[i].shape == DEAD ? 0 : key_days(&c->pool[i], d);
        for (int j = 0; j < k; j++)
            ix[off[d[j] - lo + 1]++] = (uint32_t)i;
    }
    c->ix = ix;
    c->ixoff = off; /* now off[d - lo] .. off[d - lo + 1] */
    c->nixe = ne;
    c->ndays = ndays;
    c->day0 = lo;
    c->nix = c->n;
}

static enum kw_code update(struct kw_kpi_cache *c, struct kw_store *st, struct kw_err *err)
{
    if (!c->loaded)
        return load(c, st, err);
    struct kw_change *ch = c->ch;
    enum kw_code rc = KW_OK;
    for (;;) {
        size_t n = 0;
        rc = kw_store_changes_since(st, c->watermark, ch, CHANGES, &n, err);
        if (rc == KW_RANGE) {
            kw_store_end_read(st);
            return load(c, st, err);
        }
        if (rc != KW_OK || n == 0)
            break;
        for (size_t i = 0; i < n && rc == KW_OK && !c->off; i++)
            if (i == 0 || ch[i].ticket != ch[i - 1].ticket) {
                rc = reload_ticket(c, st, ch[i].ticket, err);
                if (rc == KW_OK && !c->off)
                    rc = reload_tick(c, st, ch[i].ticket, err);
                if (rc == KW_OK && !c->off)
                    rc = reload_marks(c, st, ch[i].ticket, err);
            }
        if (rc != KW_OK || c->off)
            break;
        c->watermark = ch[n - 1].seq;
        c->deltas++;
    }
    kw_store_end_read(st);
    if (rc == KW_OK && !c->off && c->dead > 4096 && c->dead > c->n / 2)
        compact(c);
    if (rc == KW_OK && !c->off && c->spdead > 4096 && c->spdead > c->nsp / 2)
        compact_ticks(c);
    if (rc == KW_OK && !c->off && c->mkdead > 4096 && c->mkdead > c->nmk / 2)
        compact_marks(c);
    if (rc == KW_OK && !c->off)
        day_index(c);
    if (c->off)
        clear(c);
    return rc;
}

static bool counts(const struct kw_kpi_cache *c, const struct rec *x, const struct kw_run_filter *f)
{
    if (f->org_id && c->shp[x->shape].org_id != f->org_id)
        return false;
    int64_t stop = instant64(x->stopped), breach = instant64(x->breached);
    /* the store's three disjoint ranges (kw_store_runs, any_order) */
    if (x->stopped != NONE)
        return (stop >= f->from && stop < f->to) ||
               (x->breached != NONE && breach >= f->from && breach < f->to && stop >= f->to);
    if (x->breached != NONE)
        return breach >= f->from && breach < f->to;
    int64_t deadline = instant64(x->deadline);
    return x->deadline != NONE && deadline >= f->from && deadline < f->to && deadline < f->now;
}

/* A store's row to a caller of kw_kpi_cache_runs_shaped: no shape. */
struct unshaped {
    bool (*fn)(const struct kw_run_row *r, uint32_t shape, void *ctx);
    void *ctx;
};

static bool unshaped_row(const struct kw_run_row *r, void *ctx)
{
    struct unshaped *u = ctx;
    return u->fn(r, KW_KPI_NO_SHAPE, u->ctx);
}

/* kw_kpi_cache_runs' caller under the shaped one */
struct shapeless {
    bool (*fn)(const struct kw_run_row *r, void *ctx);
    void *ctx;
};

static bool shapeless_row(const struct kw_run_row *r, uint32_t shape, void *ctx)
{
    (void)shape;
    struct shapeless *u = ctx;
    return u->fn(r, u->ctx);
}

enum kw_code kw_kpi_cache_runs(struct kw_kpi_cache *c, struct kw_store *st,
                               const struct kw_run_filter *f,
                               bool (*fn)(const struct kw_run_row *r, void *ctx), void *ctx,
                               struct kw_err *err)
{
    struct shapeless u = {fn, ctx};
    return kw_kpi_cache_runs_shaped(c, st, f, shapeless_row, &u, err);
}

/* The records of pool[ia..iz) that count for f, to fn in pool order;
 * false when fn stopped. Under the read lock. */
static bool scan_pool(const struct kw_kpi_cache *c, const struct kw_run_filter *f, size_t ia,
                      size_t iz, bool (*fn)(const struct kw_run_row *r, uint32_t shape, void *ctx),
                      void *ctx)
{
    for (size_t i = ia; i < iz; i++) {
        const struct rec *x = &c->pool[i];
        if (x->shape == DEAD || !counts(c, x, f))
            continue;
        struct kw_run_row r;
        row_of(c, x, &r);
        if (!fn(&r, x->shape, ctx))
            return false;
    }
    return true;
}

/* The indexed records of days dlo..dhi at ix[ea..ez) that count for f, each
 * once: under the first of its days from dlo on (key_days); false when fn
 * stopped. Under the read lock. */
static bool scan_days(const struct kw_kpi_cache *c, const struct kw_run_filter *f, int64_t dlo,
                      int64_t dhi, size_t ea, size_t ez,
                      bool (*fn)(const struct kw_run_row *r, uint32_t shape, void *ctx), void *ctx)
{
    for (int64_t d = dlo; d <= dhi; d++) {
        size_t lo = c->ixoff[d - c->day0], hi = c->ixoff[d - c->day0 + 1];
        lo = lo > ea ? lo : ea;
        hi = hi < ez ? hi : ez;
        for (size_t e = lo; e < hi; e++) {
            const struct rec *x = &c->pool[c->ix[e]];
            int32_t k[2];
            int nk = x->shape == DEAD ? 0 : key_days(x, k);
            if (nk == 0 || (nk == 2 && k[0] >= dlo && k[0] != d) || !counts(c, x, f))
                continue;
            struct kw_run_row r;
            row_of(c, x, &r);
            if (!fn(&r, x->shape, ctx))
                return false;
        }
    }
    return true;
}

/* What one reader of kw_kpi_cache_runs_halves reads: the indexed records
 * ix[ea..ez) of days dlo..dhi, then pool[ia..iz). */
struct half {
    const struct kw_kpi_cache *c;
    const struct kw_run_filter *f;
    int64_t dlo, dhi;
    size_t ea, ez, ia, iz;
    bool (*fn)(const struct kw_run_row *r, uint32_t shape, void *ctx);
    void *ctx;
};

static void *half_read(void *arg)
{
    struct half *h = arg;
    if (h->ea < h->ez && !scan_days(h->c, h->f, h->dlo, h->dhi, h->ea, h->ez, h->fn, h->ctx))
        return NULL;
    scan_pool(h->c, h->f, h->ia, h->iz, h->fn, h->ctx);
    return NULL;
}

/* The records to read for f, as two halves (the second empty when one
 * thread reads them all); under the read lock. */
static void halves_of(const struct kw_kpi_cache *c, const struct kw_run_filter *f, bool split,
                      struct half h[2])
{
    /* the indexed records of the period's days (a day more each side:
     * whole days, rounded either way), each once: under the first of its
     * days from there on (key_days), then those added since the index;
     * all in pool order when those days hold more than half of them (a
     * year's: read in order) */
    h[0].dlo = h[1].dlo = 0;
    h[0].dhi = h[1].dhi = -1;
    h[0].ea = h[0].ez = h[1].ea = h[1].ez = 0;
    h[0].ia = 0;
    h[0].iz = c->n;
    h[1].ia = h[1].iz = 0;
    if (c->ixoff && c->ndays && f->to > f->from) {
        int64_t lo = (f->from - BASE) / 86400 - 1, hi = (f->to - 1 - BASE) / 86400 + 1;
        int64_t last = c->day0 + (int64_t)c->ndays - 1;
        int64_t dlo = lo > c->day0 ? lo : c->day0, dhi = hi < last ? hi : last;
        size_t a = dlo <= dhi ? c->ixoff[dlo - c->day0] : 0;
        size_t z = dlo <= dhi ? c->ixoff[dhi - c->day0 + 1] : 0;
        if (z - a <= c->nix / 2) {
            size_t m = split && z - a >= c->split_min ? a + (z - a) / 2 : z;
            h[0].dlo = h[1].dlo = dlo;
            h[0].dhi = h[1].dhi = dhi;
            h[0].ea = a;
            h[0].ez = h[1].ea = m;
            h[1].ez = z;
            h[0].ia = c->nix; /* then those added since the index */
            return;
        }
    }
    if (split && c->n >= c->split_min) {
        h[0].iz = h[1].ia = c->n / 2;
        h[1].iz = c->n;
    }
}

/* Bring c up to date for an answer: false when the store must be read
 * (c off, or not loaded); then the read lock is not held. */
static bool current(struct kw_kpi_cache *c, struct kw_store *st, enum kw_code *rc,
                    struct kw_err *err)
{
    pthread_rwlock_wrlock(&c->lock);
    *rc = c->off ? KW_OK : update(c, st, err);
    pthread_rwlock_unlock(&c->lock);
    if (*rc != KW_OK)
        return false;
    pthread_rwlock_rdlock(&c->lock);
    if (c->off || !c->loaded) {
        pthread_rwlock_unlock(&c->lock);
        return false;
    }
    return true;
}

enum kw_code
kw_kpi_cache_runs_shaped(struct kw_kpi_cache *c, struct kw_store *st, const struct kw_run_filter *f,
                         bool (*fn)(const struct kw_run_row *r, uint32_t shape, void *ctx),
                         void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_run_filter any = *f;
    any.any_order = true;
    struct unshaped u = {fn, ctx};
    enum kw_code rc = KW_OK;
    if (!c || f->ticket || f->all || !current(c, st, &rc, err))
        return rc != KW_OK ? rc : kw_store_runs(st, &any, unshaped_row, &u, err);
    struct half h[2];
    halves_of(c, f, false, h);
    h[0].c = c;
    h[0].f = f;
    h[0].fn = fn;
    h[0].ctx = ctx;
    half_read(&h[0]);
    pthread_rwlock_unlock(&c->lock);
    return KW_OK;
}

void kw_kpi_cache_shape_row(const struct kw_kpi_cache *c, uint32_t shape, struct kw_run_row *r)
{
    struct rec x = {.shape = shape,
                    .started = NONE,
                    .stopped = NONE,
                    .deadline = NONE,
                    .breached = NONE,
                    .measured = NONE,
                    .steady = NONE};
    row_of(c, &x, r);
}

enum kw_code kw_kpi_cache_runs_halves(struct kw_kpi_cache *c, struct kw_store *st,
                                      const struct kw_run_filter *f, const struct kw_kpi_halves *hv,
                                      bool *split, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *split = false;
    enum kw_code rc = KW_OK;
    if (!c || f->ticket || f->all || !current(c, st, &rc, err)) {
        if (rc != KW_OK)
            return rc;
        struct kw_run_filter any = *f;
        any.any_order = true;
        struct unshaped u = {hv->fn[0], hv->ctx[0]};
        return kw_store_runs(st, &any, unshaped_row, &u, err);
    }
    struct half h[2];
    halves_of(c, f, true, h);
    bool two = h[1].ea < h[1].ez || h[1].ia < h[1].iz;
    if (two && !hv->prepare(c, c->nshp, hv->ctx[0]))
        two = false;
    if (!two) /* all to the first reader */
        halves_of(c, f, false, h);
    for (int i = 0; i < 2; i++) {
        h[i].c = c;
        h[i].f = f;
        h[i].fn = hv->fn[i];
        h[i].ctx = hv->ctx[i];
    }
    pthread_t t;
    bool started = two && pthread_create(&t, NULL, half_read, &h[1]) == 0;
    half_read(&h[0]);
    if (started)
        pthread_join(t, NULL);
    else if (two) /* no thread: read after the first half */
        half_read(&h[1]);
    if (two)
        hv->join(c, hv->ctx[0]);
    *split = two;
    pthread_rwlock_unlock(&c->lock);
    return KW_OK;
}

/* kw_store_ticket_facts' rows of one kind to a caller of kw_kpi_cache_marks */
struct kind_ctx {
    enum kw_ticket_fact kind;
    bool (*fn)(enum kw_ticket_fact kind, const struct kw_ticket_fact_row *r, void *ctx);
    void *ctx;
    bool go;
};

static bool kind_row(const struct kw_ticket_fact_row *r, void *ctx)
{
    struct kind_ctx *k = ctx;
    return k->go = k->fn(k->kind, r, k->ctx);
}

enum kw_code kw_kpi_cache_created(struct kw_kpi_cache *c, struct kw_store *st, int64_t from,
                                  int64_t to, int64_t org_id,
                                  bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                  void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = KW_OK;
    if (!c || !current(c, st, &rc, err))
        return rc != KW_OK
                   ? rc
                   : kw_store_ticket_facts(st, KW_TF_CREATED, from, to, org_id, fn, ctx, err);
    for (size_t t = 0; t < c->ntk; t++) {
        const struct tick *k = &c->tk[t];
        if (k->shape == DEAD || (org_id && c->shp[k->shape].org_id != org_id))
            continue;
        int64_t created = instant64(k->created);
        if (created < from || created >= to)
            continue;
        struct kw_ticket_fact_row r;
        fact_of(c, (int64_t)t, k, &r);
        if (!fn(&r, ctx))
            break;
    }
    pthread_rwlock_unlock(&c->lock);
    return KW_OK;
}

enum kw_code kw_kpi_cache_backlog(struct kw_kpi_cache *c, struct kw_store *st, const int64_t *ends,
                                  size_t n, int64_t org_id,
                                  bool (*fn)(const struct kw_ticket_fact_row *r, void *ctx),
                                  void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = KW_OK;
    if (n == 0)
        return KW_OK;
    if (!c || n > KW_BACKLOG_ENDS_MAX || !current(c, st, &rc, err))
        return rc != KW_OK ? rc : kw_store_ticket_backlog(st, ends, n, org_id, fn, ctx, err);
    int64_t hi = ends[0];
    for (size_t i = 1; i < n; i++)
        hi = ends[i] > hi ? ends[i] : hi;
    bool go = true;
    for (size_t t = 0; t < c->ntk && go; t++) {
        const struct tick *k = &c->tk[t];
        if (k->shape == DEAD || (org_id && c->shp[k->shape].org_id != org_id) ||
            instant64(k->created) >= hi)
            continue;
        for (size_t i = 0; i < n && go; i++) {
            if (!open_at(c, k, ends[i]))
                continue;
            struct kw_ticket_fact_row r;
            fact_of(c, (int64_t)t, k, &r);
            r.as_of = ends[i];
            go = fn(&r, ctx);
        }
    }
    pthread_rwlock_unlock(&c->lock);
    return KW_OK;
}

/* Tallies past this many counters (4 bytes each) are not made: the rows
 * are listed instead. */
#define TALLY_MAX ((size_t)1 << 24)

/* The ticket-fact row of shape sh, for a tally's counts (ticket and instant 0). */
static void shape_fact(const struct kw_kpi_cache *c, size_t sh, struct kw_ticket_fact_row *r)
{
    struct tick k = {.shape = (uint32_t)sh};
    fact_of(c, 0, &k, r);
    r->at = 0;
}

/* A tally of `per_shape` zeroed counters for each shape of an up-to-date
 * c, under its read lock (*counted set), or NULL: with *rc set when the
 * store failed, else KW_OK and the rows must be listed instead (c off or
 * not loaded, too many counters, no memory), the lock not held. */
static uint32_t *tally_begin(struct kw_kpi_cache *c, struct kw_store *st, size_t per_shape,
                             bool *counted, enum kw_code *rc, struct kw_err *err)
{
    *rc = KW_OK;
    if (!current(c, st, rc, err))
        return NULL;
    size_t cells = c->nshp * per_shape;
    uint32_t *cnt = cells && cells <= TALLY_MAX ? calloc(cells, sizeof(*cnt)) : NULL;
    if (!cnt) {
        pthread_rwlock_unlock(&c->lock);
        return NULL;
    }
    *counted = true;
    return cnt;
}

enum kw_code kw_kpi_cache_backlog_counts(struct kw_kpi_cache *c, struct kw_store *st,
                                         const int64_t *ends, size_t n, int64_t org_id,
                                         const int64_t ages[KW_KPI_AGES - 1],
                                         bool (*fn)(const struct kw_ticket_fact_row *r, size_t end,
                                                    const uint32_t counts[KW_KPI_AGES], void *ctx),
                                         void *ctx, bool *counted, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = KW_OK;
    *counted = false;
    if (!c || n == 0 || n > KW_BACKLOG_ENDS_MAX)
        return KW_OK;
    for (size_t i = 1; i < n; i++)
        if (ends[i] < ends[i - 1])
            return KW_OK;
    uint32_t *cnt = tally_begin(c, st, n * KW_KPI_AGES, counted, &rc, err);
    if (!cnt)
        return rc;
    size_t ns = c->nshp;
    for (size_t t = 0; t < c->ntk; t++) {
        const struct tick *k = &c->tk[t];
        if (k->shape == DEAD || (org_id && c->shp[k->shape].org_id != org_id))
            continue;
        int64_t created = instant64(k->created), updated = instant64(k->updated);
        /* the ends after its creation (ascending: the first found by halves)
         * until, closed now, the first after its last change (open_at) */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ends[mid] > created)
                hi = mid;
            else
                lo = mid + 1;
        }
        uint32_t *row = cnt + (size_t)k->shape * n * KW_KPI_AGES;
        for (size_t i = lo; i < n && (k->open || updated >= ends[i]); i++) {
            if (!open_at(c, k, ends[i]))
                continue;
            int64_t age = ends[i] - created;
            size_t a = 0;
            while (a < KW_KPI_AGES - 1 && age >= ages[a])
                a++;
            row[i * KW_KPI_AGES + a]++;
        }
    }
    bool go = true;
    for (size_t sh = 0; sh < ns && go; sh++) {
        const uint32_t *row = cnt + sh * n * KW_KPI_AGES;
        struct kw_ticket_fact_row r;
        bool made = false;
        for (size_t i = 0; i < n && go; i++) {
            const uint32_t *v = row + i * KW_KPI_AGES;
            bool any = false;
            for (size_t a = 0; a < KW_KPI_AGES; a++)
                any = any || v[a];
            if (!any)
                continue;
            if (!made) {
                shape_fact(c, sh, &r);
                made = true;
            }
            r.as_of = ends[i];
            go = fn(&r, i, v, ctx);
        }
    }
    free(cnt);
    pthread_rwlock_unlock(&c->lock);
    return KW_OK;
}

enum kw_code kw_kpi_cache_created_counts(struct kw_kpi_cache *c, struct kw_store *st,
                                         const int64_t *starts, size_t n, int64_t to,
                                         int64_t org_id,
                                         bool (*fn)(const struct kw_ticket_fact_row *r,
                                                    size_t bucket, uint32_t count, void *ctx),
                                         void *ctx, bool *counted, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = KW_OK;
    *counted = false;
    if (!c || n == 0 || to <= starts[n - 1])
        return KW_OK;
    for (size_t i = 1; i < n; i++)
        if (starts[i] <= starts[i - 1])
            return KW_OK;
    uint32_t *cnt = tally_begin(c, st, n, counted, &rc, err);
    if (!cnt)
        return rc;
    size_t ns = c->nshp;
    for (size_t t = 0; t < c->ntk; t++) {
        const struct tick *k = &c->tk[t];
        if (k->shape == DEAD || (org_id && c->shp[k->shape].org_id != org_id))
            continue;
        int64_t created = instant64(k->created);
        if (created < starts[0] || created >= to)
            continue;
        size_t lo = 0, hi = n; /* the last start not after it */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (starts[mid] <= created)
                lo = mid;
            else
                hi = mid;
        }
        cnt[(size_t)k->shape * n + lo]++;
    }
    bool go = true;
    for (size_t sh = 0; sh < ns && go; sh++) {
        struct kw_ticket_fact_row r;
        bool made = false;
        for (size_t i = 0; i < n && go; i++) {
            uint32_t v = cnt[sh * n + i];
            if (!v)
                continue;
            if (!made) {
                shape_fact(c, sh, &r);
                made = true;
            }
            go = fn(&r, i, v, ctx);
        }
    }
    free(cnt);
    pthread_rwlock_unlock(&c->lock);
    return KW_OK;
}

enum kw_code kw_kpi_cache_marks(struct kw_kpi_cache *c, struct kw_store *st, int64_t from,
                                int64_t to, int64_t org_id,
                                bool (*fn)(enum kw_ticket_fact kind,
                                           const struct kw_ticket_fact_row *r, void *ctx),
                                void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = KW_OK;
    if (!c || !current(c, st, &rc, err)) {
        static const enum kw_ticket_fact kinds[] = {KW_TF_RESOLVED, KW_TF_REOPENED, KW_TF_RATED,
                                                    KW_TF_TIME};
        for (size_t i = 0; rc == KW_OK && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            struct kind_ctx kc = {kinds[i], fn, ctx, true};
            rc = kw_store_ticket_facts(st, kinds[i], from, to, org_id, kind_row, &kc, err);
            if (!kc.go)
                break;
        }
        return rc;
    }
    bool go = true;
    for (size_t t = 0; t < c->ntk && go; t++) {
        const struct tick *k = &c->tk[t];
        if (!k->mn || k->shape == DEAD || (org_id && c->shp[k->shape].org_id != org_id))
            continue;
        const struct tmark *m = c->mk + k->mfirst;
        for (uint16_t i = 0; i < k->mn && go; i++) {
            int64_t at = instant64(m[i].at);
            if (at < from || at >= to)
                continue;
            struct kw_ticket_fact_row r;
            fact_of(c, (int64_t)t, k, &r);
            r.at = at;
            if (m[i].kind == KW_TF_RATED) {
                r.satisfaction = m[i].satisfaction;
                r.nps = m[i].nps;
            } else if (m[i].kind == KW_TF_TIME) {
                r.seconds = m[i].seconds;
                r.entry_team_id = m[i].team;
            }
            go = fn((enum kw_ticket_fact)m[i].kind, &r, ctx);
        }
    }
    pthread_rwlock_unlock(&c->lock);
    return KW_OK;
}

/* ---- runs measured again, kept ---- */

#define MAX_MEASURES ((size_t)1 << 17) /* kept at once (some 69 MB); then all are dropped */
#define MAX_MSTR 65536                 /* their distinct strings */

/* s interned among the measures' strings (NULL: none, or when full). */
static const char *mstr_of(struct kw_kpi_cache *c, const char *s, bool *fail)
{
    if (!s)
        return NULL;
    if (2 * (c->nmstr + 1) > c->mstr_cap) {
        size_t cap = c->mstr_cap ? 2 * c->mstr_cap : 256;
        char **slot = cap / 2 > MAX_MSTR ? NULL : calloc(cap, sizeof(*slot));
        if (!slot)
            return *fail = true, NULL;
        for (size_t i = 0; i < c->mstr_cap; i++)
            if (c->mstr[i]) {
                size_t j = hash_bytes(c->mstr[i], strlen(c->mstr[i])) & (cap - 1);
                while (slot[j])
                    j = (j + 1) & (cap - 1);
                slot[j] = c->mstr[i];
            }
        free(c->mstr);
        c->mstr = slot;
        c->mstr_cap = cap;
    }
    size_t j = hash_bytes(s, strlen(s)) & (c->mstr_cap - 1);
    for (; c->mstr[j]; j = (j + 1) & (c->mstr_cap - 1))
        if (strcmp(c->mstr[j], s) == 0)
            return c->mstr[j];
    if (!(c->mstr[j] = strdup(s)))
        return *fail = true, NULL;
    c->nmstr++;
    return c->mstr[j];
}

static uint64_t measure_hash(int64_t ticket, int64_t commitment, const char *metric, int64_t run,
                             int64_t at)
{
    int64_t v[4] = {ticket, commitment, run, at}; /* (`with` is not hashed: one a commitment) */
    return hash_bytes(v, sizeof(v)) ^ (hash_bytes(metric, strlen(metric)) * 31);
}

/* The slot of the key: its measure, or the empty slot it would take
 * (NULL without a table). Under mlock. */
static struct measure *measure_slot(struct kw_kpi_cache *c, int64_t ticket, int64_t commitment,
                                    const void *with, const char *metric, int64_t run, int64_t at)
{
    if (!c->ms_cap)
        return NULL;
    size_t j = measure_hash(ticket, commitment, metric, run, at) & (c->ms_cap - 1);
    for (;; j = (j + 1) & (c->ms_cap - 1)) {
        struct measure *m = &c->ms[j];
        if (!m->used || (m->ticket == ticket && m->commitment == commitment && m->run == run &&
                         m->at == at && m->with == with && strcmp(m->metric, metric) == 0))
            return m;
    }
}

/* The ticket's tag now: the table's loads and the ticket's gen. Under
 * the read lock. */
static uint64_t tag_of(const struct kw_kpi_cache *c, int64_t ticket)
{
    uint32_t gen = ticket > 0 && (size_t)ticket < c->nidx ? c->idx[ticket].gen : 0;
    return (c->loads << 32) | gen;
}

bool kw_kpi_cache_measured(struct kw_kpi_cache *c, int64_t ticket, int64_t commitment,
                           const void *with, const char *metric, int64_t run, int64_t at,
                           struct kw_run_row *out, bool *found, uint64_t *tag)
{
    *tag = 0;
    if (!c || !metric)
        return false;
    pthread_rwlock_rdlock(&c->lock);
    bool kept = false;
    if (c->loaded && !c->off) {
        *tag = tag_of(c, ticket) | (UINT64_C(1) << 63); /* (0: nothing to keep) */
        pthread_mutex_lock(&c->mlock);
        struct measure *m = measure_slot(c, ticket, commitment, with, metric, run, at);
        if (m && m->used && m->tag == *tag) {
            kept = true;
            *found = m->found;
            if (m->found)
                *out = m->row;
            c->ms_hits++;
        }
        pthread_mutex_unlock(&c->mlock);
    }
    pthread_rwlock_unlock(&c->lock);
    return kept;
}

/* Room for one more measure (the table doubled; past MAX_MEASURES every
 * measure is dropped). Under mlock. */
static bool measure_room(struct kw_kpi_cache *c)
{
    if (2 * (c->nms + 1) <= c->ms_cap)
        return true;
    if (c->ms_cap >= 2 * MAX_MEASURES) {
        memset(c->ms, 0, c->ms_cap * sizeof(*c->ms));
        c->nms = 0;
        return true;
    }
    size_t cap = c->ms_cap ? 2 * c->ms_cap : 4096;
    struct measure *v = calloc(cap, sizeof(*v)), *old = c->ms;
    if (!v)
        return false;
    size_t n = c->ms_cap;
    c->ms = v;
    c->ms_cap = cap;
    for (size_t i = 0; i < n; i++)
        if (old[i].used)
            *measure_slot(c, old[i].ticket, old[i].commitment, old[i].with, old[i].metric,
                          old[i].run, old[i].at) = old[i];
    free(old);
    return true;
}

void kw_kpi_cache_measure_keep(struct kw_kpi_cache *c, uint64_t tag, int64_t ticket,
                               int64_t commitment, const void *with, const char *metric,
                               int64_t run, int64_t at, const struct kw_run_row *r)
{
    if (!c || !tag || !metric)
        return;
    pthread_rwlock_rdlock(&c->lock);
    /* kept only if the ticket was not read again since the tag: a measure
     * of events older than what the table holds would be kept as current */
    if (c->loaded && !c->off && tag == (tag_of(c, ticket) | (UINT64_C(1) << 63))) {
        pthread_mutex_lock(&c->mlock);
        bool fail = false;
        struct measure m = {.ticket = ticket,
                            .commitment = commitment,
                            .with = with,
                            .run = run,
                            .at = at,
                            .metric = mstr_of(c, metric, &fail),
                            .tag = tag,
                            .found = r != NULL,
                            .used = true};
        if (r) {
            m.row = *r;
            const char **f[9] = {&m.row.metric,   &m.row.status, &m.row.calendar,
                                 &m.row.level,    &m.row.tier,   &m.row.organisation,
                                 &m.row.category, &m.row.region, &m.row.channel};
            for (int i = 0; i < 9; i++)
                *f[i] = mstr_of(c, *f[i], &fail);
        }
        if (!fail && measure_room(c)) {
            struct measure *slot = measure_slot(c, ticket, commitment, with, metric, run, at);
            if (!slot->used)
                c->nms++;
            *slot = m;
        }
        pthread_mutex_unlock(&c->mlock);
    }
    pthread_rwlock_unlock(&c->lock);
}

/* ---- scratch memory ---- */

#define SCRATCH_UNIT ((size_t)2 << 20) /* a huge page */

void *kw_kpi_cache_scratch(struct kw_kpi_cache *c, size_t bytes, size_t *size)
{
    bytes = (bytes + SCRATCH_UNIT - 1) / SCRATCH_UNIT * SCRATCH_UNIT;
    if (c) {
        pthread_mutex_lock(&c->mlock);
        for (int i = 0; i < 2; i++)
            if (c->spare[i].p && c->spare[i].size >= bytes) {
                void *p = c->spare[i].p;
                *size = c->spare[i].size;
                c->spare[i].p = NULL;
                pthread_mutex_unlock(&c->mlock);
                return p;
            }
        pthread_mutex_unlock(&c->mlock);
    }
    /* reserved, not committed: only the pages written are taken */
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: its failure costs speed */
#endif
    *size = bytes;
    return p;
}

void kw_kpi_cache_scratch_give(struct kw_kpi_cache *c, void *p, size_t size)
{
    if (!p)
        return;
    if (c) {
        pthread_mutex_lock(&c->mlock);
        /* the larger ones are kept: a smaller one is unmapped instead */
        int k = !c->spare[0].p                        ? 0
                : !c->spare[1].p                      ? 1
                : c->spare[0].size < c->spare[1].size ? 0
                                                      : 1;
        if (!c->spare[k].p || c->spare[k].size < size) {
            void *old = c->spare[k].p;
            size_t old_size = c->spare[k].size;
            c->spare[k].p = p;
            c->spare[k].size = size;
            p = old;
            size = old_size;
        }
        pthread_mutex_unlock(&c->mlock);
    }
    if (p)
        munmap(p, size);
}

enum kw_code kw_kpi_cache_warm(struct kw_kpi_cache *c, struct kw_store *st, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!c)
        return KW_OK;
    pthread_rwlock_wrlock(&c->lock);
    bool loading = !c->off && !c->loaded;
    enum kw_code rc = loading ? load(c, st, err) : KW_OK;
    size_t runs = c->n - c->dead;
    loading = loading && rc == KW_OK && c->loaded && !c->off;
    pthread_rwlock_unlock(&c->lock);
    /* the scratch an answer takes (KW_KPI_SCRATCH_BYTES) faulted in now,
     * and kept: the first GET /kpis would spend a third of its time
     * having its pages zeroed */
    size_t size = 0;
    void *p = loading ? kw_kpi_cache_scratch(c, KW_KPI_SCRATCH_BYTES(runs), &size) : NULL;
    for (size_t o = 0; p && o < size; o += 4096)
        ((volatile char *)p)[o] = 0;
    kw_kpi_cache_scratch_give(c, p, size);
    return rc;
}

void kw_kpi_cache_cancel(struct kw_kpi_cache *c)
{
    if (c)
        c->cancel = true;
}

void kw_kpi_cache_stats(struct kw_kpi_cache *c, struct kw_kpi_cache_stats *out)
{
    *out = (struct kw_kpi_cache_stats){0};
    if (!c)
        return;
    pthread_rwlock_rdlock(&c->lock);
    pthread_mutex_lock(&c->mlock);
    size_t nms = c->nms, hits = c->ms_hits, ms_bytes = c->ms_cap * sizeof(struct measure);
    pthread_mutex_unlock(&c->mlock);
    size_t strings = 0;
    for (size_t i = 0; i < c->nstr; i++)
        strings += strlen(c->str[i]) + 1;
    *out = (struct kw_kpi_cache_stats){
        .runs = c->n - c->dead,
        .facts = c->ntickets,
        .states = c->nsp - c->spdead,
        .marks = c->nmk - c->mkdead,
        .tickets = c->tickets,
        .shapes = c->nshp,
        .strings = c->nstr,
        .bytes = c->cap * sizeof(struct rec) + c->nidx * sizeof(struct slice) +
                 c->shp_alloc * (sizeof(struct shape) + sizeof(struct shape_text)) +
                 c->shp_cap * sizeof(uint32_t) +
                 c->str_cap * (sizeof(uint32_t) + sizeof(char *) / 2) + strings +
                 c->ntk * sizeof(struct tick) + c->spcap * sizeof(struct tstate) +
                 c->mkcap * sizeof(struct tmark) + ms_bytes +
                 (c->nixe + (c->ixoff ? c->ndays + 2 : 0)) * sizeof(uint32_t),
        .watermark = c->watermark,
        .load_ms = c->load_ms,
        .loads = c->loads,
        .deltas = c->deltas,
        .measures = nms,
        .measure_hits = hits,
        .off = c->off,
    };
    pthread_rwlock_unlock(&c->lock);
}
