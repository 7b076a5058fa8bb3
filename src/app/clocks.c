// SPDX-License-Identifier: MIT
/* SLA clocks of stored tickets; see clocks.h. */
#include "clocks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "calcache.h"
#include "civil.h"
#include "event.h"
#include "tz.h"

struct kw_clocks {
    pthread_mutex_t mu; /* tz and the cache */
    struct kw_tzdb *tz;
    struct kw_compiled **pol;
    size_t n, cap;
};

struct kw_clocks *kw_clocks_new(struct kw_err *err)
{
    struct kw_clocks *c = calloc(1, sizeof(*c));
    if (c)
        c->tz = kw_tzdb_new();
    if (!c || !c->tz) {
        free(c);
        kw_err_set(err, KW_NOMEM, "", "no memory for the clocks");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void compiled_free(struct kw_compiled *k)
{
    for (size_t i = 0; k->p && i < kw_policy_calendar_count(k->p); i++)
        kw_cal_free(k->cals[i]);
    kw_policy_free(k->p);
    free(k);
}

void kw_clocks_free(struct kw_clocks *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        compiled_free(c->pol[i]);
    free(c->pol);
    kw_tzdb_free(c->tz);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

struct kw_tzdb *kw_clocks_tz_lock(struct kw_clocks *c)
{
    pthread_mutex_lock(&c->mu);
    return c->tz;
}

void kw_clocks_tz_unlock(struct kw_clocks *c)
{
    pthread_mutex_unlock(&c->mu);
}

struct kw_tzdb *kw_clocks_tzdb(struct kw_clocks *c)
{
    return c->tz;
}

/* Compile version id and add it to the cache. Under c->mu. */
static const struct kw_compiled *compile(struct kw_clocks *c, struct kw_store *st, int64_t id,
                                         struct kw_err *err)
{
    char *doc = NULL;
    struct kw_compiled *k = calloc(1, sizeof(*k));
    if (!k || (c->n == c->cap && c->cap > 4096)) {
        free(k);
        kw_err_set(err, KW_NOMEM, "", "no memory for the commitment");
        return NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap * 2 + 8;
        struct kw_compiled **grown = realloc(c->pol, cap * sizeof(*grown));
        if (!grown) {
            free(k);
            kw_err_set(err, KW_NOMEM, "", "no memory for the commitment");
            return NULL;
        }
        c->pol = grown;
        c->cap = cap;
    }
    if (kw_store_commitment_doc(st, id, &doc, err) != KW_OK) {
        free(k);
        return NULL;
    }
    k->p = kw_policy_parse(doc, strlen(doc), err);
    free(doc);
    /* kw_policy_compile frees what it made when it fails */
    if (!k->p || kw_policy_compile(c->tz, k->p, k->cals, err) != KW_OK) {
        kw_policy_free(k->p);
        free(k);
        return NULL;
    }
    k->id = id;
    c->pol[c->n++] = k;
    return k;
}

const struct kw_compiled *kw_clocks_commitment(struct kw_clocks *c, struct kw_store *st, int64_t id,
                                               struct kw_err *err)
{
    const struct kw_compiled *found = NULL;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n && !found; i++)
        if (c->pol[i]->id == id)
            found = c->pol[i];
    if (!found)
        found = compile(c, st, id, err);
    pthread_mutex_unlock(&c->mu);
    return found;
}

/* ---- a ticket's events as the clocks see them ---- */

static bool add_event(struct kw_ticket_events *te, const struct kw_event *e, json_t *doc)
{
    if (te->n == te->cap) {
        size_t cap = te->cap ? te->cap * 2 : 32;
        struct kw_event *ev = realloc(te->ev, cap * sizeof(*ev));
        json_t **docs = ev ? realloc(te->docs, cap * sizeof(*docs)) : NULL;
        if (ev)
            te->ev = ev;
        if (!ev || !docs)
            return false;
        te->docs = docs;
        te->cap = cap;
    }
    te->ev[te->n] = *e;
    te->docs[te->n++] = doc;
    return true;
}

void kw_ticket_events_step_done(struct kw_ticket_events *te, json_t *doc, const char *chain,
                                int step)
{
    if (te->n_steps == 64) {
        json_decref(te->steps[0].doc);
        memmove(te->steps, te->steps + 1, 63 * sizeof(te->steps[0]));
        te->n_steps--;
    }
    te->steps[te->n_steps].doc = doc;
    te->steps[te->n_steps].chain = chain;
    te->steps[te->n_steps++].step = step;
}

/* Note a threshold fired (sla_warning / sla_breach); doc (may be NULL)
 * owns metric. Keeps the latest KW_FIRED_MAX: the oldest goes. */
void kw_ticket_events_fired(struct kw_ticket_events *te, json_t *doc, const char *metric, int pct,
                            int64_t at)
{
    if (te->n_fired == KW_FIRED_MAX) {
        json_decref(te->fired[0].doc);
        memmove(te->fired, te->fired + 1, (KW_FIRED_MAX - 1) * sizeof(te->fired[0]));
        te->n_fired--;
    }
    te->fired[te->n_fired].doc = doc;
    te->fired[te->n_fired].metric = metric;
    te->fired[te->n_fired].pct = pct;
    te->fired[te->n_fired++].at = at;
}

static bool load_one(const struct kw_stored_event *se, void *ctx)
{
    struct kw_ticket_events *te = ctx;
    struct kw_event_rec r;
    struct kw_event e;
    json_t *b;
    /* a type this build does not know, or a damaged body: not for the clocks */
    if (kw_event_decode(se->type, se->body, &r, &b, NULL) != KW_OK)
        return true;
    switch (r.kind) {
    case KW_EVENT_SLA_WARNING:
    case KW_EVENT_SLA_BREACH:
        kw_ticket_events_fired(te, b, r.metric, r.kind == KW_EVENT_SLA_BREACH ? 100 : r.percent,
                               se->at);
        return true;
    case KW_EVENT_ESCALATED:
        kw_ticket_events_step_done(te, b, r.chain, r.step);
        return true;
    case KW_EVENT_CREATED:
        te->created_at = se->at;
        te->last_move = se->at;
        break;
    case KW_EVENT_STATE:
    case KW_EVENT_REOPENED:
        te->last_move = se->at;
        break;
    case KW_EVENT_MILESTONE:
        if (r.milestone && strcmp(r.milestone, "acknowledged") == 0 &&
            te->acknowledged_at == KW_NO_TIME)
            te->acknowledged_at = se->at;
        break;
    default:
        break;
    }
    if (!kw_event_clock(&r, se->at, &e)) { /* comments, assignments: not for the clocks */
        json_decref(b);
        return true;
    }
    if (!add_event(te, &e, b)) {
        json_decref(b);
        te->nomem = true;
        return false;
    }
    return true;
}

enum kw_code kw_ticket_events_load(struct kw_store *st, int64_t ticket,
                                   struct kw_ticket_events *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    out->created_at = out->acknowledged_at = KW_NO_TIME;
    if (kw_store_events(st, ticket, load_one, out, err) != KW_OK)
        return err->code;
    return out->nomem ? kw_err_set(err, KW_NOMEM, "", "no memory for the ticket's events") : KW_OK;
}

void kw_ticket_events_release(struct kw_ticket_events *te)
{
    for (size_t i = 0; i < te->n; i++)
        json_decref(te->docs[i]);
    for (size_t i = 0; i < te->n_fired; i++)
        json_decref(te->fired[i].doc);
    for (size_t i = 0; i < te->n_steps; i++)
        json_decref(te->steps[i].doc);
    free(te->ev);
    free(te->docs);
    memset(te, 0, sizeof(*te));
}

const char *kw_warning_colour(int pct)
{
    return pct < 75 ? "blue" : pct < 90 ? "yellow" : "red";
}

/* ---- what falls due ---- */

/* The highest threshold fired for clock k since it (re)started. */
int kw_clock_fired_pct(const struct kw_ticket_events *te, const char *metric,
                       const struct kw_clock *k)
{
    int pct = 0;
    for (size_t i = 0; i < te->n_fired; i++)
        if (te->fired[i].metric && strcmp(te->fired[i].metric, metric) == 0 &&
            (k->started_at == KW_NO_TIME || te->fired[i].at >= k->started_at) &&
            te->fired[i].pct > pct)
            pct = te->fired[i].pct;
    return pct;
}

/* The next threshold of k above `fired` and when it falls due (KW_NO_TIME:
 * nothing will). Running clocks warn and breach; a clock already past its
 * target warns for what it passed, then breaches; one that stopped late
 * only breaches. */
int64_t kw_clock_next_threshold(const struct kw_clock *k, int fired, int *pct)
{
    *pct = 0;
    bool running = k->status == KW_CLOCK_RUNNING || k->status == KW_CLOCK_BREACHED;
    if (!running && k->status != KW_CLOCK_MET_LATE)
        return KW_NO_TIME;
    int best = 101;
    int64_t at = KW_NO_TIME;
    for (size_t i = 0; running && i < k->n_warn; i++)
        if (k->warn[i].pct > fired && k->warn[i].pct < best && k->warn[i].at != KW_NO_TIME) {
            best = k->warn[i].pct;
            at = k->warn[i].at;
        }
    if (at != KW_NO_TIME) {
        *pct = best;
        return at;
    }
    if (fired >= 100)
        return KW_NO_TIME;
    *pct = 100;
    if (k->status == KW_CLOCK_RUNNING)
        return k->deadline;
    return k->breached_at;
}

/* ---- escalation chains ---- */

/* When chain e started on the ticket, or KW_NO_TIME. */
static int64_t chain_start(const struct kw_compiled *k, const struct kw_escalation *e,
                           const struct kw_ticket_events *te)
{
    if (e->metric < 0) {
        if (te->created_at == KW_NO_TIME)
            return KW_NO_TIME;
        int64_t at = te->created_at + e->unacknowledged;
        return te->acknowledged_at != KW_NO_TIME && te->acknowledged_at <= at ? KW_NO_TIME : at;
    }
    const char *metric = kw_policy_metric_id(k->p, (size_t)e->metric);
    for (size_t i = te->n_fired; i-- > 0;)
        if (te->fired[i].pct == e->percent && te->fired[i].metric &&
            strcmp(te->fired[i].metric, metric) == 0)
            return te->fired[i].at;
    return KW_NO_TIME;
}

/* A chain stops once the ticket is acknowledged or its metric's clock
 * stopped. */
static bool chain_stopped(const struct kw_escalation *e, const struct kw_ticket_events *te,
                          const struct kw_sla *s)
{
    if (te->acknowledged_at != KW_NO_TIME)
        return true;
    for (size_t i = 0; e->metric >= 0 && i < s->n; i++)
        if (s->clock[i].metric == e->metric &&
            (s->clock[i].status == KW_CLOCK_MET || s->clock[i].status == KW_CLOCK_MET_LATE))
            return true;
    return false;
}

/* The next step of chain e not taken yet (-1: none) and when it is due. */
int kw_chain_next_step(const struct kw_compiled *k, const struct kw_escalation *e,
                       const struct kw_ticket_events *te, const struct kw_sla *s, int64_t *due)
{
    int64_t start = chain_start(k, e, te);
    if (start == KW_NO_TIME || chain_stopped(e, te, s))
        return -1;
    for (size_t i = 0; i < e->n_steps; i++) {
        bool taken = false;
        for (size_t d = 0; d < te->n_steps && !taken; d++)
            taken = te->steps[d].chain && strcmp(te->steps[d].chain, e->id) == 0 &&
                    te->steps[d].step == (int)i;
        if (!taken) {
            *due = start + e->step[i].after;
            return (int)i;
        }
    }
    return -1;
}

/* Evaluate ticket's clocks as of now into scratch. */
enum kw_code kw_clocks_evaluate(struct kw_clocks *c, struct kw_store *st, struct kw_sla *s,
                                int64_t ticket, int64_t commitment, int64_t now,
                                const struct kw_ticket_new *created, struct kw_ticket_events *te,
                                const struct kw_compiled **out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    const struct kw_compiled *k = kw_clocks_commitment(c, st, commitment, err);
    if (!k)
        return err->code;
    *out = k;
    te->acknowledged_at = KW_NO_TIME;
    if (created) {
        te->created_at = created->at;
        struct kw_event first = {.at = created->at, .type = KW_EV_CREATED};
        first.attrs.v[KW_ATTR_LEVEL] = created->level;
        first.attrs.v[KW_ATTR_TIER] = created->tier;
        first.attrs.v[KW_ATTR_CATEGORY] = created->category;
        first.attrs.v[KW_ATTR_REGION] = created->region;
        first.attrs.v[KW_ATTR_CHANNEL] = created->channel;
        first.attrs.v[KW_ATTR_ORGANISATION] = created->organisation;
        return kw_sla_eval(k->p, (const struct kw_cal *const *)k->cals, &first, 1, now, s, err);
    }
    if (kw_ticket_events_load(st, ticket, te, err) != KW_OK)
        return err->code;
    return kw_sla_eval(k->p, (const struct kw_cal *const *)k->cals, te->ev, te->n, now, s, err);
}

enum kw_code kw_clocks_store_projection(struct kw_store *st, int64_t ticket, bool fresh,
                                        const struct kw_compiled *k, const struct kw_sla *s,
                                        const struct kw_ticket_events *te, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_clock_row rows[KW_POLICY_MAX_METRICS];
    int64_t due = KW_STORE_NO_TIME, breached = KW_STORE_NO_TIME, fire = KW_STORE_NO_TIME;
    for (size_t i = 0; i < s->n; i++) {
        const struct kw_clock *ck = &s->clock[i];
        const char *metric = kw_policy_metric_id(k->p, (size_t)ck->metric);
        int pct;
        int64_t at = kw_clock_next_threshold(ck, kw_clock_fired_pct(te, metric, ck), &pct);
        rows[i] = (struct kw_clock_row){
            .metric = metric,
            .status = kw_clock_status_name(ck->status),
            .deadline = ck->deadline == KW_NO_TIME ? KW_STORE_NO_TIME : ck->deadline,
            .next_due = at == KW_NO_TIME ? KW_STORE_NO_TIME : at,
            .next_pct = pct,
        };
        /* fired once its second is over: a stop or pause stamped in the
         * crossing's own second comes first and means not reached (sla.h) */
        if (at != KW_NO_TIME && (fire == KW_STORE_NO_TIME || at + 1 < fire))
            fire = at + 1;
        if (ck->status == KW_CLOCK_RUNNING && ck->deadline != KW_NO_TIME &&
            (due == KW_STORE_NO_TIME || ck->deadline < due))
            due = ck->deadline;
        if (ck->breached_at != KW_NO_TIME &&
            (ck->status == KW_CLOCK_BREACHED || ck->status == KW_CLOCK_MET_LATE) &&
            (breached == KW_STORE_NO_TIME || ck->breached_at < breached))
            breached = ck->breached_at;
    }
    for (size_t i = 0; i < kw_policy_chain_count(k->p); i++) {
        int64_t at;
        if (kw_chain_next_step(k, kw_policy_chain(k->p, i), te, s, &at) >= 0 &&
            (fire == KW_STORE_NO_TIME || at < fire))
            fire = at;
    }
    for (size_t i = 0; !fresh && i < s->n; i++) /* a late clock that stopped: size fixed */
        if (s->clock[i].status == KW_CLOCK_MET_LATE && s->clock[i].met_at != KW_NO_TIME &&
            kw_store_overrun_stop(st, ticket, rows[i].metric, s->clock[i].met_at, err) != KW_OK)
            return err->code;
    return kw_store_clocks_put(st, ticket, fresh, rows, s->n, due, breached, fire, err);
}

enum kw_code kw_clocks_project(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                               int64_t ticket, int64_t now, const struct kw_ticket_new *created,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ticket_row t;
    if (kw_store_ticket_get(st, ticket, &t, err) != KW_OK)
        return err->code;
    bool fresh = created != NULL;
    if (!t.commitment_id)
        return kw_store_clocks_put(st, ticket, fresh, NULL, 0, KW_STORE_NO_TIME, KW_STORE_NO_TIME,
                                   KW_STORE_NO_TIME, err);
    struct kw_ticket_events te = {0};
    const struct kw_compiled *k = NULL;
    enum kw_code rc =
        kw_clocks_evaluate(c, st, scratch, ticket, t.commitment_id, now, created, &te, &k, err);
    if (rc == KW_OK)
        rc = kw_clocks_store_projection(st, ticket, fresh, k, scratch, &te, err);
    kw_ticket_events_release(&te);
    return rc;
}
