// SPDX-License-Identifier: MIT
/* SLA clocks of stored tickets; see clocks.h. */
#include "clocks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "calcache.h"
#include "civil.h"
#include "rota.h"
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

/* Note an escalation step taken; doc (may be NULL) owns chain. */
static void step_done(struct kw_ticket_events *te, json_t *doc, const char *chain, int step)
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

static bool load_one(const struct kw_stored_event *se, void *ctx)
{
    static const struct {
        const char *type, *key;
        enum kw_event_type ev;
    } named[] = {
        {"state", "state", KW_EV_STATE},
        {"milestone", "milestone", KW_EV_MILESTONE},
        {"reopened", "state", KW_EV_REOPENED},
    };
    static const enum kw_attr attrs[] = {KW_ATTR_LEVEL,  KW_ATTR_TIER,    KW_ATTR_CATEGORY,
                                         KW_ATTR_REGION, KW_ATTR_CHANNEL, KW_ATTR_ORGANISATION};
    struct kw_ticket_events *te = ctx;
    struct kw_event e = {.at = se->at, .type = KW_EV_COUNT};
    json_t *b = json_loads(se->body, 0, NULL);
    if (strcmp(se->type, "created") == 0) {
        e.type = KW_EV_CREATED;
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
            e.attrs.v[attrs[i]] = json_string_value(json_object_get(b, kw_attr_name(attrs[i])));
    } else if (strcmp(se->type, "level") == 0 || strcmp(se->type, "category") == 0) {
        enum kw_attr a = se->type[0] == 'l' ? KW_ATTR_LEVEL : KW_ATTR_CATEGORY;
        e.type = a == KW_ATTR_LEVEL ? KW_EV_LEVEL : KW_EV_CATEGORY;
        e.attrs.v[a] = json_string_value(json_object_get(b, kw_attr_name(a)));
    } else if (strcmp(se->type, "sla_warning") == 0 || strcmp(se->type, "sla_breach") == 0) {
        if (te->n_fired == KW_FIRED_MAX) { /* keep the latest: the oldest goes */
            json_decref(te->fired[0].doc);
            memmove(te->fired, te->fired + 1, (KW_FIRED_MAX - 1) * sizeof(te->fired[0]));
            te->n_fired--;
        }
        te->fired[te->n_fired].doc = b;
        te->fired[te->n_fired].metric = json_string_value(json_object_get(b, "metric"));
        te->fired[te->n_fired].pct =
            se->type[4] == 'b' ? 100 : (int)json_integer_value(json_object_get(b, "percent"));
        te->fired[te->n_fired++].at = se->at;
        return true;
    }
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strcmp(se->type, named[i].type) == 0) {
            e.type = named[i].ev;
            e.name = json_string_value(json_object_get(b, named[i].key));
        }
    if (e.type == KW_EV_STATE || e.type == KW_EV_REOPENED || e.type == KW_EV_CREATED)
        te->last_move = se->at;
    if (e.type == KW_EV_CREATED)
        te->created_at = se->at;
    if (e.type == KW_EV_MILESTONE && e.name && strcmp(e.name, "acknowledged") == 0 &&
        te->acknowledged_at == KW_NO_TIME)
        te->acknowledged_at = se->at;
    if (strcmp(se->type, "escalated") == 0) {
        step_done(te, b, json_string_value(json_object_get(b, "chain")),
                  (int)json_integer_value(json_object_get(b, "step")));
        return true;
    }
    if (e.type == KW_EV_COUNT) { /* comments, assignments: not for the clocks */
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
static int fired_pct(const struct kw_ticket_events *te, const char *metric,
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
static int64_t next_due(const struct kw_clock *k, int fired, int *pct)
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
static int next_step(const struct kw_compiled *k, const struct kw_escalation *e,
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
static enum kw_code evaluate(struct kw_clocks *c, struct kw_store *st, struct kw_sla *s,
                             int64_t ticket, int64_t commitment, int64_t now,
                             const struct kw_ticket_new *created, struct kw_ticket_events *te,
                             const struct kw_compiled **out, struct kw_err *err)
{
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

static enum kw_code store_projection(struct kw_store *st, int64_t ticket, bool fresh,
                                     const struct kw_compiled *k, const struct kw_sla *s,
                                     const struct kw_ticket_events *te, struct kw_err *err)
{
    struct kw_clock_row rows[KW_POLICY_MAX_METRICS];
    int64_t due = KW_STORE_NO_TIME, breached = KW_STORE_NO_TIME, fire = KW_STORE_NO_TIME;
    for (size_t i = 0; i < s->n; i++) {
        const struct kw_clock *ck = &s->clock[i];
        const char *metric = kw_policy_metric_id(k->p, (size_t)ck->metric);
        int pct;
        int64_t at = next_due(ck, fired_pct(te, metric, ck), &pct);
        rows[i] = (struct kw_clock_row){
            .metric = metric,
            .status = kw_clock_status_name(ck->status),
            .deadline = ck->deadline == KW_NO_TIME ? KW_STORE_NO_TIME : ck->deadline,
            .next_due = at == KW_NO_TIME ? KW_STORE_NO_TIME : at,
            .next_pct = pct,
        };
        if (at != KW_NO_TIME && (fire == KW_STORE_NO_TIME || at < fire))
            fire = at;
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
        if (next_step(k, kw_policy_chain(k->p, i), te, s, &at) >= 0 &&
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
    struct kw_ticket_row t;
    if (kw_store_ticket_get(st, ticket, &t, err) != KW_OK)
        return err->code;
    bool fresh = created != NULL;
    if (!t.commitment_id)
        return kw_store_clocks_put(st, ticket, fresh, NULL, 0, KW_STORE_NO_TIME, KW_STORE_NO_TIME,
                                   KW_STORE_NO_TIME, err);
    struct kw_ticket_events te = {0};
    const struct kw_compiled *k = NULL;
    enum kw_code rc = evaluate(c, st, scratch, ticket, t.commitment_id, now, created, &te, &k, err);
    if (rc == KW_OK)
        rc = store_projection(st, ticket, fresh, k, scratch, &te, err);
    kw_ticket_events_release(&te);
    return rc;
}

/* ---- firing ---- */

struct due {
    int64_t at;
    size_t clock;
    int pct;
};

static int by_time(const void *a, const void *b)
{
    const struct due *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->pct - y->pct;
}

/* The event for one threshold, and the notification it causes. */
static enum kw_code fire_one(struct kw_store *st, const struct kw_ticket_row *t,
                             const struct kw_compiled *k, const struct kw_clock *ck,
                             const struct due *d, int64_t now, struct kw_err *err)
{
    const char *metric = kw_policy_metric_id(k->p, (size_t)ck->metric);
    char when[KW_INSTANT_BUF], deadline[KW_INSTANT_BUF];
    kw_instant_format_utc(d->at, when);
    if (ck->deadline != KW_NO_TIME)
        kw_instant_format_utc(ck->deadline, deadline);
    else
        kw_instant_format_utc(ck->breached_at != KW_NO_TIME ? ck->breached_at : d->at, deadline);
    bool breach = d->pct >= 100;
    json_t *body = breach
                       ? json_pack("{s:s, s:s, s:I, s:s}", "metric", metric, "deadline", deadline,
                                   "target", (json_int_t)ck->target, "breached_at", when)
                       : json_pack("{s:s, s:i, s:s, s:s, s:s, s:I}", "metric", metric, "percent",
                                   d->pct, "colour", kw_warning_colour(d->pct), "reached_at", when,
                                   "deadline", deadline, "target", (json_int_t)ck->target);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    const char *type = breach ? "sla_breach" : "sla_warning";
    enum kw_code rc = text ? kw_store_event_append(st, t->id, type, text, 0, now, NULL, NULL, err)
                           : kw_err_set(err, KW_NOMEM, "", "no memory for the event");
    if (rc == KW_OK) {
        json_t *note =
            json_pack("{s:s, s:{s:I, s:s, s:I, s:s, s:s, s:o, s:o}, s:O, s:s}", "kind", type,
                      "ticket", "id", (json_int_t)t->id, "title", t->title, "org_id",
                      (json_int_t)t->org_id, "level", t->level, "state", t->state, "assignee_id",
                      t->assignee_id ? json_integer(t->assignee_id) : json_null(), "team_id",
                      t->team_id ? json_integer(t->team_id) : json_null(), "event", body,
                      "commitment", kw_policy_name(k->p));
        char *payload = note ? json_dumps(note, JSON_COMPACT) : NULL;
        char key[96];
        /* one notification per ticket, metric, threshold and clock start */
        snprintf(key, sizeof(key), "t%lld-%s-%d-%lld", (long long)t->id, metric, d->pct,
                 (long long)ck->started_at);
        rc = payload ? kw_store_outbox_add(st, type, t->id, t->org_id, t->team_id, payload, key,
                                           now, err)
                     : kw_err_set(err, KW_NOMEM, "", "no memory for the notification");
        free(payload);
        json_decref(note);
    }
    free(text);
    json_decref(body);
    return rc;
}

static bool lead_of(const struct kw_named_row *r, void *ctx)
{
    *(int64_t *)ctx = r->ref;
    return false;
}

/* The person a step names: the assignee, the team lead, the one on call
 * for the ticket's team at level N now; 0 when there is nobody. */
static int64_t resolve(struct kw_clocks *c, struct kw_store *st, const struct kw_ticket_row *t,
                       const struct kw_escalation_step *s, int64_t now)
{
    int64_t user = 0;
    struct kw_err err = {0};
    if (!s->target)
        return 0;
    if (strcmp(s->target, "assignee") == 0)
        user = t->assignee_id;
    else if (strcmp(s->target, "team_lead") == 0 && t->team_id)
        kw_store_teams(st, t->team_id, lead_of, &user, &err);
    else if (s->oncall && t->team_id) {
        struct kw_rota *r = malloc(sizeof(*r));
        if (r && kw_rota_load(st, c->tz, t->team_id, s->oncall, 0, r, &err) == KW_OK)
            user = kw_oncall_who(&r->s, &r->tz, now, NULL);
        free(r);
    }
    if (strcmp(s->target, "account_manager") == 0) {
        struct kw_org o;
        if (kw_store_org_get(st, t->org_id, &o, &err) == KW_OK)
            user = o.account_manager_id;
    }
    return user;
}

/* Append an event by the engine (actor 0); takes body's reference. */
static enum kw_code append_event(struct kw_store *st, int64_t ticket, const char *type,
                                 json_t *body, int64_t now, struct kw_err *err)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(body);
    enum kw_code rc = text ? kw_store_event_append(st, ticket, type, text, 0, now, NULL, NULL, err)
                           : kw_err_set(err, KW_NOMEM, "", "no memory for the event");
    free(text);
    return rc;
}

/* Take step i of chain e (due at `due`): record it, act, and notify. */
static enum kw_code take_step(struct kw_clocks *c, struct kw_store *st, struct kw_ticket_row *t,
                              char *level_buf, const struct kw_compiled *k,
                              const struct kw_escalation *e, int i, int64_t due, int64_t now,
                              bool *changed, struct kw_err *err)
{
    static const char *const actions[] = {"notify", "reassign", "raise_level"};
    const struct kw_escalation_step *s = &e->step[i];
    int64_t user = resolve(c, st, t, s, now);
    char when[KW_INSTANT_BUF];
    kw_instant_format_utc(due, when);
    json_t *body =
        json_pack("{s:s, s:i, s:s, s:o, s:o, s:s}", "chain", e->id, "step", i, "action",
                  actions[s->action], "target", s->target ? json_string(s->target) : json_null(),
                  "user_id", user ? json_integer(user) : json_null(), "due_at", when);
    enum kw_code rc = KW_OK;
    if (s->action == KW_ESC_REASSIGN && (user || s->team)) {
        struct kw_ticket_patch p = {.assignee_id = user ? user : 0, .team_id = s->team};
        int64_t assignee = user ? user : t->assignee_id, team = s->team ? s->team : t->team_id;
        rc = kw_store_ticket_set(st, t->id, &p, err);
        if (rc == KW_OK)
            rc = append_event(st, t->id, "assigned",
                              json_pack("{s:o, s:o}", "assignee_id",
                                        assignee ? json_integer(assignee) : json_null(), "team_id",
                                        team ? json_integer(team) : json_null()),
                              now, err);
        t->assignee_id = assignee;
        t->team_id = team;
    } else if (s->action == KW_ESC_RAISE) {
        int idx = kw_policy_level_index(k->p, t->level);
        if (idx > 0) { /* levels are listed most severe first */
            const char *to = kw_policy_level_id(k->p, (size_t)idx - 1);
            struct kw_ticket_patch p = {.level = to};
            char reason[96];
            snprintf(reason, sizeof(reason), "escalation %s", e->id);
            rc = kw_store_ticket_set(st, t->id, &p, err);
            if (rc == KW_OK)
                rc = append_event(
                    st, t->id, "level",
                    json_pack("{s:s, s:s, s:s}", "level", to, "from", t->level, "reason", reason),
                    now, err);
            json_object_set_new(body, "level", json_string(to));
            snprintf(level_buf, 48, "%s", to);
            t->level = level_buf;
            *changed = true;
        }
    }
    if (rc == KW_OK)
        rc = append_event(st, t->id, "escalated", json_incref(body), now, err);
    if (rc == KW_OK) { /* tell the person (and the subscribed endpoints) */
        struct kw_user_row u;
        json_t *to = user && kw_store_user_get(st, user, &u, NULL) == KW_OK
                         ? json_pack("{s:I, s:s, s:s}", "id", (json_int_t)u.id, "name", u.name,
                                     "email", u.email)
                         : json_null();
        json_t *note = json_pack("{s:s, s:{s:I, s:s, s:I, s:s}, s:O, s:o}", "kind", "escalation",
                                 "ticket", "id", (json_int_t)t->id, "title", t->title, "org_id",
                                 (json_int_t)t->org_id, "level", t->level, "event", body, "to", to);
        char *payload = note ? json_dumps(note, JSON_COMPACT) : NULL;
        char key[160];
        snprintf(key, sizeof(key), "t%lld-%s-step%d-%lld", (long long)t->id, e->id, i,
                 (long long)due);
        rc = payload ? kw_store_outbox_add(st, "escalation", t->id, t->org_id, t->team_id, payload,
                                           key, now, err)
                     : kw_err_set(err, KW_NOMEM, "", "no memory for the notification");
        free(payload);
        json_decref(note);
    }
    json_decref(body);
    return rc;
}

enum kw_code kw_clocks_fire(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                            int64_t ticket, int64_t now, int *fired, struct kw_err *err)
{
    struct kw_ticket_row t;
    *fired = 0;
    if (kw_store_ticket_get(st, ticket, &t, err) != KW_OK)
        return err->code;
    if (!t.commitment_id)
        return KW_OK;
    /* the row's strings die with the next read: keep what the
     * notification needs */
    char title[512], level[48], state[32];
    snprintf(title, sizeof(title), "%s", t.title);
    snprintf(level, sizeof(level), "%s", t.level);
    snprintf(state, sizeof(state), "%s", t.state);
    t.title = title;
    t.level = level;
    t.state = state;
    struct kw_ticket_events te = {0};
    const struct kw_compiled *k = NULL;
    enum kw_code rc = evaluate(c, st, scratch, ticket, t.commitment_id, now, NULL, &te, &k, err);
    struct due due[KW_POLICY_MAX_METRICS * (KW_POLICY_MAX_WARN + 1)];
    size_t n = 0;
    for (size_t i = 0; rc == KW_OK && i < scratch->n; i++) {
        const struct kw_clock *ck = &scratch->clock[i];
        int done = fired_pct(&te, kw_policy_metric_id(k->p, (size_t)ck->metric), ck), pct;
        int64_t at;
        /* every threshold passed by now, in order */
        while ((at = next_due(ck, done, &pct)) != KW_NO_TIME && at <= now) {
            due[n++] = (struct due){at, i, pct};
            done = pct;
        }
    }
    qsort(due, n, sizeof(due[0]), by_time);
    for (size_t i = 0; rc == KW_OK && i < n; i++) {
        const struct kw_clock *ck = &scratch->clock[due[i].clock];
        rc = fire_one(st, &t, k, ck, &due[i], now, err);
        if (rc == KW_OK && due[i].pct >= 100) /* a breach opens an overrun record */
            rc = kw_store_overrun_add(
                st, t.id, t.org_id, t.commitment_id, kw_policy_metric_id(k->p, (size_t)ck->metric),
                ck->breached_at != KW_NO_TIME ? ck->breached_at : ck->deadline, now, err);
        /* what was fired, as the events just written say, for the
         * projection below: the clocks themselves did not change */
        if (te.n_fired == KW_FIRED_MAX) {
            json_decref(te.fired[0].doc);
            memmove(te.fired, te.fired + 1, (KW_FIRED_MAX - 1) * sizeof(te.fired[0]));
            te.n_fired--;
        }
        te.fired[te.n_fired].doc = NULL;
        te.fired[te.n_fired].metric = kw_policy_metric_id(k->p, (size_t)ck->metric);
        te.fired[te.n_fired].pct = due[i].pct;
        te.fired[te.n_fired++].at = now;
    }
    /* escalation steps that fell due, in order across chains */
    bool changed = false;
    char level_buf[48];
    while (rc == KW_OK) {
        const struct kw_escalation *best = NULL;
        int step = -1;
        int64_t at, best_at = 0;
        for (size_t i = 0; i < kw_policy_chain_count(k->p); i++) {
            const struct kw_escalation *e = kw_policy_chain(k->p, i);
            int sn = next_step(k, e, &te, scratch, &at);
            if (sn >= 0 && at <= now && (!best || at < best_at)) {
                best = e;
                step = sn;
                best_at = at;
            }
        }
        if (!best)
            break;
        rc = take_step(c, st, &t, level_buf, k, best, step, best_at, now, &changed, err);
        step_done(&te, NULL, best->id, step);
        n++;
    }
    if (rc == KW_OK && !changed)
        rc = store_projection(st, ticket, false, k, scratch, &te, err);
    kw_ticket_events_release(&te);
    *fired = (int)n;
    if (rc == KW_OK && changed) /* the level moved: the clocks follow it */
        rc = kw_clocks_project(c, st, scratch, ticket, now, NULL, err);
    return rc;
}
