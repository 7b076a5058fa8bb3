// SPDX-License-Identifier: MIT
/* SLA clocks of stored tickets; see clocks.h. */
#include "clocks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calcache.h"
#include "calendar_json.h"
#include "civil.h"
#include "event.h"
#include "ledger.h"
#include "loop.h"
#include "tz.h"

struct kw_clocks {
    pthread_mutex_t mu; /* tz and the cache */
    struct kw_tzdb *tz;
    struct kw_compiled **pol;
    size_t n, cap;
    struct kw_compiled **retired; /* replaced after a calendar edit; other threads may hold them */
    size_t n_retired, cap_retired;
    struct {
        char name[KW_CAL_NAME_MAX];
        int64_t version;
    } saved[64]; /* the latest version of stored calendars saved here, the most recent 64 */
    size_t n_saved;
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

void kw_compiled_calendars_free(const struct kw_policy *p, struct kw_cal **cals,
                                struct kw_cal_history *hist)
{
    for (size_t i = 0; p && i < kw_policy_calendar_count(p); i++) {
        kw_cal_free(cals[i]);
        cals[i] = NULL;
        free(hist[i].version);
        free(hist[i].since);
        hist[i] = (struct kw_cal_history){0};
    }
}

static void compiled_free(struct kw_compiled *k)
{
    if (!k)
        return;
    kw_compiled_calendars_free(k->p, k->cals, k->hist);
    kw_policy_free(k->p);
    free(k);
}

void kw_clocks_free(struct kw_clocks *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        compiled_free(c->pol[i]);
    for (size_t i = 0; i < c->n_retired; i++)
        compiled_free(c->retired[i]);
    free(c->pol);
    free(c->retired);
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

/* ---- stored calendars and their versions ---- */

struct versions {
    struct kw_clocks *c;
    struct kw_cal *acc; /* the versions so far, spliced */
    int64_t *version, *since;
    size_t n, cap;
    struct kw_cal_spec latest;
    struct kw_err *err;
    enum kw_code rc;
};

/* One version more: compiled and spliced onto the ones before at its
 * saved_at, one at a time, so that at most three compiled calendars are
 * held however many versions there are. */
static bool version_row(const struct kw_calendar_version *v, void *ctx)
{
    struct versions *x = ctx;
    struct kw_cal_spec spec = {0};
    struct kw_cal *part = NULL;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 8;
        int64_t *version = realloc(x->version, cap * sizeof(*version));
        if (version)
            x->version = version;
        int64_t *since = version ? realloc(x->since, cap * sizeof(*since)) : NULL;
        if (!since) {
            x->rc = kw_err_set(x->err, KW_NOMEM, "", "no memory for the calendar's versions");
            return false;
        }
        x->since = since;
        x->cap = cap;
    }
    json_t *j = json_loads(v->spec, 0, NULL);
    if (!j) {
        x->rc = kw_err_set(x->err, KW_STORE, "", "version %lld is damaged", (long long)v->version);
        return false;
    }
    x->rc = kw_cal_spec_from_json(j, &spec, x->err);
    json_decref(j);
    if (x->rc == KW_OK && !(part = kw_cal_compile(x->c->tz, &spec, x->err)))
        x->rc = x->err->code;
    if (x->rc == KW_OK && x->acc) {
        const struct kw_cal *two[] = {x->acc, part};
        int64_t since[] = {0, v->saved_at};
        struct kw_cal *joined = kw_cal_splice(two, since, 2, x->err);
        kw_cal_free(part);
        part = joined;
        if (!joined)
            x->rc = x->err->code;
    }
    if (x->rc != KW_OK) {
        kw_cal_spec_release(&spec);
        return false;
    }
    kw_cal_free(x->acc);
    x->acc = part;
    x->version[x->n] = v->version;
    x->since[x->n++] = v->saved_at;
    kw_cal_spec_release(&x->latest);
    x->latest = spec;
    return true;
}

/* Calendar i of p names a stored calendar: compile it from its versions.
 * Under c->mu. */
static enum kw_code compile_stored(struct kw_clocks *c, struct kw_store *st, struct kw_policy *p,
                                   size_t i, struct kw_cal **cal, struct kw_cal_history *hist,
                                   struct kw_err *err)
{
    const char *name = kw_policy_calendar_ref(p, i);
    struct versions x = {.c = c, .err = err};
    enum kw_code rc = kw_store_calendar_versions(st, name, version_row, &x, err);
    if (rc == KW_OK)
        rc = x.rc;
    if (rc == KW_OK && x.n == 0)
        rc = kw_err_set(err, KW_INVALID, "", "no stored calendar \"%.60s\" (see /api/v1/calendars)",
                        name);
    if (rc == KW_OK)
        rc = kw_policy_calendar_bind(p, i, &x.latest, err);
    kw_cal_spec_release(&x.latest);
    if (rc != KW_OK) {
        kw_cal_free(x.acc);
        free(x.version);
        free(x.since);
        return rc;
    }
    *cal = x.acc;
    *hist = (struct kw_cal_history){.name = name, .n = x.n, .version = x.version, .since = x.since};
    return KW_OK;
}

/* Under c->mu (the tz database). */
static enum kw_code compile_calendars(struct kw_clocks *c, struct kw_store *st, struct kw_policy *p,
                                      struct kw_cal **cals, struct kw_cal_history *hist,
                                      struct kw_err *err)
{
    size_t n = kw_policy_calendar_count(p);
    for (size_t i = 0; i < n; i++) {
        cals[i] = NULL;
        hist[i] = (struct kw_cal_history){0};
    }
    for (size_t i = 0; i < n; i++) {
        enum kw_code rc = KW_OK;
        if (kw_policy_calendar_ref(p, i))
            rc = compile_stored(c, st, p, i, &cals[i], &hist[i], err);
        else if (!(cals[i] = kw_cal_compile(c->tz, kw_policy_calendar_spec(p, i), err)))
            rc = err->code;
        if (rc != KW_OK) {
            char ptr[96], path[96];
            snprintf(ptr, sizeof(ptr), "/calendars/%.40s", kw_policy_calendar_name(p, i));
            snprintf(path, sizeof(path), "calendars.%.40s", kw_policy_calendar_name(p, i));
            kw_err_locate(err, ptr, path);
            kw_compiled_calendars_free(p, cals, hist);
            return rc;
        }
    }
    return KW_OK;
}

enum kw_code kw_clocks_compile_calendars(struct kw_clocks *c, struct kw_store *st,
                                         struct kw_policy *p, struct kw_cal **cals,
                                         struct kw_cal_history *hist, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    pthread_mutex_lock(&c->mu);
    enum kw_code rc = compile_calendars(c, st, p, cals, hist, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Commitment id, compiled (not cached). Under c->mu. */
static struct kw_compiled *compile_one(struct kw_clocks *c, struct kw_store *st, int64_t id,
                                       struct kw_err *err)
{
    char *doc = NULL;
    struct kw_compiled *k = calloc(1, sizeof(*k));
    if (!k) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the commitment");
        return NULL;
    }
    if (kw_store_commitment_doc(st, id, &doc, err) != KW_OK) {
        free(k);
        return NULL;
    }
    k->p = kw_policy_parse(doc, strlen(doc), err);
    free(doc);
    /* compile_calendars frees what it made when it fails */
    if (!k->p || compile_calendars(c, st, k->p, k->cals, k->hist, err) != KW_OK) {
        kw_policy_free(k->p);
        free(k);
        return NULL;
    }
    k->id = id;
    return k;
}

/* Room for `more` retired commitments. Under c->mu. */
static bool retired_room(struct kw_clocks *c, size_t more)
{
    if (c->n_retired + more <= c->cap_retired)
        return true;
    size_t cap = (c->n_retired + more) * 2;
    struct kw_compiled **grown = realloc(c->retired, cap * sizeof(*grown));
    if (!grown)
        return false;
    c->retired = grown;
    c->cap_retired = cap;
    return true;
}

/* The slot of calendar name in c->saved, or -1. Under c->mu. */
static int saved_slot(const struct kw_clocks *c, const char *name)
{
    for (size_t i = 0; i < c->n_saved; i++)
        if (strcmp(c->saved[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Whether k was compiled without a version of a stored calendar saved
 * here. Under c->mu. */
static bool behind(const struct kw_clocks *c, const struct kw_compiled *k)
{
    for (size_t i = 0; i < kw_policy_calendar_count(k->p); i++) {
        const struct kw_cal_history *h = &k->hist[i];
        int slot = h->name ? saved_slot(c, h->name) : -1;
        if (slot >= 0 && h->n && h->version[h->n - 1] < c->saved[slot].version)
            return true;
    }
    return false;
}

/* Compile version id and add it to the cache. Under c->mu. */
static const struct kw_compiled *compile(struct kw_clocks *c, struct kw_store *st, int64_t id,
                                         struct kw_err *err)
{
    if (c->n == c->cap && c->cap > 4096) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the commitment");
        return NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap * 2 + 8;
        struct kw_compiled **grown = realloc(c->pol, cap * sizeof(*grown));
        if (!grown) {
            kw_err_set(err, KW_NOMEM, "", "no memory for the commitment");
            return NULL;
        }
        c->pol = grown;
        c->cap = cap;
    }
    struct kw_compiled *k = compile_one(c, st, id, err);
    if (!k)
        return NULL;
    if (behind(c, k)) { /* st does not see a version saved here yet: use it, do not keep it */
        if (!retired_room(c, 1)) {
            compiled_free(k);
            kw_err_set(err, KW_NOMEM, "", "no memory for the commitment");
            return NULL;
        }
        c->retired[c->n_retired++] = k;
        return k;
    }
    c->pol[c->n++] = k;
    return k;
}

static bool names(const struct kw_compiled *k, const char *name)
{
    for (size_t i = 0; i < kw_policy_calendar_count(k->p); i++)
        if (k->hist[i].name && strcmp(k->hist[i].name, name) == 0)
            return true;
    return false;
}

enum kw_code kw_clocks_calendar_saved(struct kw_clocks *c, struct kw_store *st, const char *name,
                                      int64_t version, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = KW_OK;
    pthread_mutex_lock(&c->mu);
    /* remember the version first: what compile_one makes below sees it */
    int slot = saved_slot(c, name);
    if (slot < 0 && c->n_saved == sizeof(c->saved) / sizeof(c->saved[0])) {
        memmove(c->saved, c->saved + 1, sizeof(c->saved) - sizeof(c->saved[0]));
        c->n_saved--;
    }
    if (slot < 0) {
        slot = (int)c->n_saved++;
        snprintf(c->saved[slot].name, sizeof(c->saved[slot].name), "%s", name);
    }
    int64_t was = c->saved[slot].version;
    c->saved[slot].version = version;
    size_t n = c->n;
    /* compile every replacement first, so that a failure changes nothing */
    struct kw_compiled **fresh = calloc(n ? n : 1, sizeof(*fresh));
    if (!fresh || !retired_room(c, n))
        rc = kw_err_set(err, KW_NOMEM, "", "no memory for the commitments");
    for (size_t i = 0; rc == KW_OK && st && i < n; i++)
        if (names(c->pol[i], name) && !(fresh[i] = compile_one(c, st, c->pol[i]->id, err)))
            rc = err->code;
    if (rc == KW_OK) {
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            if (!names(c->pol[i], name)) {
                c->pol[kept++] = c->pol[i];
                continue;
            }
            /* a thread may still be using the old one: keep it until the end */
            c->retired[c->n_retired++] = c->pol[i];
            if (fresh[i])
                c->pol[kept++] = fresh[i];
            fresh[i] = NULL;
        }
        c->n = kept;
    }
    for (size_t i = 0; fresh && i < n; i++)
        compiled_free(fresh[i]);
    free(fresh);
    if (rc != KW_OK)
        c->saved[slot].version = was;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- which commitments name a stored calendar ---- */

struct naming {
    struct kw_store *st;
    const char *name;
    bool (*fn)(const struct kw_commitment_row *c, void *ctx);
    void *ctx;
    int64_t ids[1024];
    size_t n;
};

static bool naming_row(const struct kw_commitment_row *c, void *ctx)
{
    struct naming *x = ctx;
    if (x->n < sizeof(x->ids) / sizeof(x->ids[0]))
        x->ids[x->n++] = c->id;
    return true;
}

/* Whether document doc names stored calendar name. */
static bool doc_names(const char *doc, const char *name)
{
    json_t *j = json_loads(doc, 0, NULL), *val;
    const char *key;
    bool found = false;
    json_object_foreach(json_object_get(j, "calendars"), key, val)
    {
        if (json_is_string(val) && strcmp(json_string_value(val), name) == 0)
            found = true;
    }
    json_decref(j);
    return found;
}

struct first_row {
    int64_t id;
    bool (*fn)(const struct kw_commitment_row *c, void *ctx);
    void *ctx;
    bool go_on;
};

static bool call_for(const struct kw_commitment_row *c, void *ctx)
{
    struct first_row *x = ctx;
    if (c->id == x->id)
        x->go_on = x->fn(c, x->ctx);
    return true;
}

enum kw_code kw_clocks_naming(struct kw_store *st, const char *name,
                              bool (*fn)(const struct kw_commitment_row *c, void *ctx), void *ctx,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct naming *x = calloc(1, sizeof(*x));
    if (!x)
        return kw_err_set(err, KW_NOMEM, "", "no memory");
    /* ids first: a row's strings die with the next call on st */
    enum kw_code rc = kw_store_commitments(st, naming_row, x, err);
    size_t n = 0;
    for (size_t i = 0; rc == KW_OK && i < x->n; i++) {
        char *doc = NULL;
        if ((rc = kw_store_commitment_doc(st, x->ids[i], &doc, err)) != KW_OK)
            break;
        if (doc_names(doc, name))
            x->ids[n++] = x->ids[i];
        free(doc);
    }
    for (size_t i = 0; rc == KW_OK && i < n; i++) {
        struct first_row f = {x->ids[i], fn, ctx, true};
        rc = kw_store_commitments(st, call_for, &f, err);
        if (!f.go_on)
            break;
    }
    free(x);
    return rc;
}

json_t *kw_clock_calendar_versions(const struct kw_compiled *k, const struct kw_clock *ck)
{
    const struct kw_cal_history *h = &k->hist[ck->calendar];
    if (!h->name)
        return json_null();
    json_t *list = json_array();
    if (ck->started_at == KW_NO_TIME)
        return list;
    bool stopped = ck->status == KW_CLOCK_MET || ck->status == KW_CLOCK_MET_LATE;
    for (size_t i = 0; i < h->n; i++) {
        int64_t from = i == 0 ? KW_NO_TIME : h->since[i];
        int64_t until = i + 1 < h->n ? h->since[i + 1] : KW_NO_TIME;
        if (until != KW_NO_TIME && until <= ck->started_at)
            continue; /* replaced before the run began */
        if (stopped && ck->met_at != KW_NO_TIME && from != KW_NO_TIME && from >= ck->met_at)
            continue; /* saved after the clock stopped */
        char f[KW_INSTANT_BUF], u[KW_INSTANT_BUF];
        if (from != KW_NO_TIME)
            kw_instant_format_utc(from, f);
        if (until != KW_NO_TIME)
            kw_instant_format_utc(until, u);
        json_array_append_new(list,
                              json_pack("{s:s, s:I, s:o, s:o}", "calendar", h->name, "version",
                                        (json_int_t)h->version[i], "from",
                                        from == KW_NO_TIME ? json_null() : json_string(f), "until",
                                        until == KW_NO_TIME ? json_null() : json_string(u)));
    }
    return list;
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

/* Whether an event of kind r may change a KPI run: the runs are measured
 * from the clock events, the assignments and the creation only
 * (kw_clocks_runs), as load_one keeps them. */
static bool moves_runs(const struct kw_event_rec *r)
{
    struct kw_event e;
    return r->kind == KW_EVENT_CREATED || r->kind == KW_EVENT_ASSIGNED || kw_event_clock(r, 0, &e);
}

static bool load_one(const struct kw_stored_event *se, void *ctx)
{
    struct kw_ticket_events *te = ctx;
    struct kw_event_rec r;
    struct kw_event e;
    json_t *b;
    bool unit = te->unit_seq > 0 && se->seq >= te->unit_seq;
    if (te->unit_seq > 0 && !unit)
        te->before_unit = se->at;
    /* a type this build does not know, or a damaged body: not for the clocks */
    if (kw_event_decode(se->type, se->body, &r, &b, NULL) != KW_OK) {
        te->unit_moves |= unit;
        return true;
    }
    te->unit_moves |= unit && moves_runs(&r);
    switch (r.kind) {
    case KW_EVENT_SLA_WARNING:
    case KW_EVENT_SLA_BREACH:
        kw_ticket_events_fired(te, b, r.metric, r.kind == KW_EVENT_SLA_BREACH ? 100 : r.percent,
                               se->at);
        return true;
    case KW_EVENT_ESCALATED:
        kw_ticket_events_step_done(te, b, r.chain, r.step);
        return true;
    case KW_EVENT_ASSIGNED:
        if (te->n_assign == te->cap_assign) {
            size_t cap = te->cap_assign ? te->cap_assign * 2 : 8;
            struct kw_assignment *a = realloc(te->assign, cap * sizeof(*a));
            if (!a) {
                json_decref(b);
                te->nomem = true;
                return false;
            }
            te->assign = a;
            te->cap_assign = cap;
        }
        te->assign[te->n_assign++] = (struct kw_assignment){se->at, r.assignee_id, r.team_id};
        json_decref(b);
        return true;
    case KW_EVENT_CREATED:
        te->created_at = se->at;
        te->last_move = se->at;
        break;
    case KW_EVENT_STATE:
    case KW_EVENT_REOPENED:
        te->last_move = se->at;
        te->feedback_since = r.state && strcmp(r.state, "feedback") == 0 ? se->at : KW_NO_TIME;
        te->reminded = false;
        break;
    case KW_EVENT_CONFIRM_REMINDER:
        te->reminded = true;
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
    out->created_at = out->acknowledged_at = out->feedback_since = out->before_unit = KW_NO_TIME;
    out->unit_moves = false;
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
    free(te->assign);
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

int64_t kw_clocks_live_at(const struct kw_ticket_row *t, int64_t now)
{
    return t->updated_at > now ? t->updated_at : now;
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
    te->acknowledged_at = te->feedback_since = KW_NO_TIME;
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

/* For a stopped run: the instant from which it stood running, with no
 * event of its ticket (clock events and assignments), up to its stop, so
 * that its measure at any instant in between is carried back from its stop
 * (kw_clocks_run_carried). Its stop when it cannot be: it stood paused then
 * (a state its metric pauses in: while a run has started and not stopped it
 * is paused exactly when the ticket's state is one, sla.c), or an
 * assignment or attribute change came at the stop's own instant (in the
 * stop's dimensions, not in those of any instant before it). */
static int64_t stood_running_from(const struct kw_compiled *k, const struct kw_sla_run *r,
                                  const struct kw_ticket_events *te)
{
    int64_t stop = r->stopped_at, from = r->clock.started_at;
    /* the events and the assignments before the stop (both in time
     * order), found by halves: a ticket may have many, and many runs */
    size_t lo = 0, hi = te->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (te->ev[mid].at < stop)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t p = lo;
    for (size_t e = p; e < te->n && te->ev[e].at == stop; e++)
        if (te->ev[e].type == KW_EV_LEVEL || te->ev[e].type == KW_EV_CATEGORY ||
            te->ev[e].type == KW_EV_ATTRS)
            return stop;
    if (p && te->ev[p - 1].at > from)
        from = te->ev[p - 1].at;
    const char *state = "registered";
    for (size_t e = p; e-- > 0;)
        if (te->ev[e].type == KW_EV_STATE || te->ev[e].type == KW_EV_REOPENED) {
            state = te->ev[e].type == KW_EV_STATE ? te->ev[e].name
                    : te->ev[e].name              ? te->ev[e].name
                                                  : "handling";
            break;
        }
    lo = 0;
    hi = te->n_assign;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (te->assign[mid].at < stop)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < te->n_assign && te->assign[lo].at == stop)
        return stop;
    if (lo && te->assign[lo - 1].at > from)
        from = te->assign[lo - 1].at;
    const char *const *pauses;
    size_t np = kw_policy_metric_pauses(k->p, (size_t)r->clock.metric, &pauses);
    for (size_t i = 0; state && i < np; i++)
        if (strcmp(pauses[i], state) == 0)
            return stop;
    return from < stop ? from : stop;
}

enum kw_code kw_clocks_runs(const struct kw_compiled *k, const struct kw_sla *s,
                            const struct kw_ticket_events *te, struct kw_run_row **rows, size_t *n,
                            struct kw_err *err)
{
    *n = 0;
    *rows = s->n_runs ? calloc(s->n_runs, sizeof(**rows)) : NULL;
    if (s->n_runs && !*rows)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the clock runs");
    for (size_t i = 0; i < s->n_runs; i++) {
        const struct kw_sla_run *r = &s->runs[i];
        const struct kw_clock *ck = &r->clock;
        /* who had the ticket at the run's stop (or now): the last assignment by then */
        int64_t assignee = 0, team = 0;
        for (size_t a = 0; a < te->n_assign && te->assign[a].at <= r->dims_at; a++) {
            assignee = te->assign[a].assignee_id;
            team = te->assign[a].team_id;
        }
        /* an open run has stood as it is since the last clock event by then;
         * a stopped one ran from `steady` to its stop (stood_running_from) */
        int64_t steady = r->stopped_at;
        if (steady != KW_NO_TIME) {
            steady = stood_running_from(k, r, te);
        } else {
            steady = te->created_at;
            for (size_t e = te->n; e-- > 0;)
                if (te->ev[e].at <= r->dims_at) {
                    steady = te->ev[e].at;
                    break;
                }
        }
        const char *const *v = r->attrs.v;
        (*rows)[(*n)++] = (struct kw_run_row){
            .metric = kw_policy_metric_id(k->p, (size_t)ck->metric),
            .run = r->seq,
            .status = kw_clock_status_name(ck->status),
            .started_at = ck->started_at,
            .stopped_at = r->stopped_at,
            .deadline = ck->deadline,
            .breached_at = ck->breached_at,
            .target = ck->target,
            .working = ck->elapsed,
            .wall = r->wall,
            .paused_wall = r->paused_wall,
            .measured_at = r->dims_at,
            .steady_from = steady,
            .team_id = team,
            .assignee_id = assignee,
            .calendar = kw_policy_calendar_name(k->p, (size_t)ck->calendar),
            .level = v[KW_ATTR_LEVEL],
            .tier = v[KW_ATTR_TIER],
            .organisation = v[KW_ATTR_ORGANISATION],
            .category = v[KW_ATTR_CATEGORY],
            .region = v[KW_ATTR_REGION],
            .channel = v[KW_ATTR_CHANNEL],
        };
    }
    return KW_OK;
}

void kw_clocks_due(const struct kw_sla *s, int64_t *due, int64_t *breached)
{
    *due = *breached = KW_STORE_NO_TIME;
    for (size_t i = 0; i < s->n; i++) {
        const struct kw_clock *ck = &s->clock[i];
        if (ck->status == KW_CLOCK_RUNNING && ck->deadline != KW_NO_TIME &&
            (*due == KW_STORE_NO_TIME || ck->deadline < *due))
            *due = ck->deadline;
        if (ck->breached_at != KW_NO_TIME &&
            (ck->status == KW_CLOCK_BREACHED || ck->status == KW_CLOCK_MET_LATE) &&
            (*breached == KW_STORE_NO_TIME || ck->breached_at < *breached))
            *breached = ck->breached_at;
    }
}

/* The projection of the evaluated clocks s: their rows, the ticket's due
 * columns and the instant its next threshold or step falls due. */
static void projection_of(const struct kw_compiled *k, const struct kw_sla *s,
                          const struct kw_ticket_events *te, struct kw_clock_row *rows,
                          int64_t *due, int64_t *breached, int64_t *fire_at)
{
    int64_t fire = KW_STORE_NO_TIME;
    kw_clocks_due(s, due, breached);
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
    }
    for (size_t i = 0; i < kw_policy_chain_count(k->p); i++) {
        int64_t at;
        if (kw_chain_next_step(k, kw_policy_chain(k->p, i), te, s, &at) >= 0 &&
            (fire == KW_STORE_NO_TIME || at < fire))
            fire = at;
    }
    struct kw_confirm_plan plan;
    bool reminded;
    if (kw_loop_confirm_state(k, te, &plan, &reminded)) { /* fired like a threshold */
        enum kw_confirm_due kind;
        int64_t at = kw_confirm_next(&plan, reminded, &kind);
        if (fire == KW_STORE_NO_TIME || at + 1 < fire)
            fire = at + 1;
    }
    *fire_at = fire;
}

/* Store the projection (projection_of's rows, due, breached and fire) and
 * the KPI facts of the evaluated clocks s. */
static enum kw_code projection_put(struct kw_store *st, int64_t ticket, bool fresh, bool runs,
                                   const struct kw_compiled *k, const struct kw_sla *s,
                                   const struct kw_ticket_events *te,
                                   const struct kw_clock_row *rows, int64_t due, int64_t breached,
                                   int64_t fire, struct kw_err *err)
{
    for (size_t i = 0; !fresh && i < s->n; i++) /* a late clock that stopped: size fixed */
        if (s->clock[i].status == KW_CLOCK_MET_LATE && s->clock[i].met_at != KW_NO_TIME &&
            kw_store_overrun_stop(st, ticket, rows[i].metric, s->clock[i].met_at, err) != KW_OK)
            return err->code;
    /* what a late run that stopped owes, once, in the same transaction */
    if (!fresh && kw_ledger_accrue(st, ticket, k, s, err) != KW_OK)
        return err->code;
    struct kw_run_row *list;
    size_t n_runs;
    if (runs && kw_clocks_runs(k, s, te, &list, &n_runs, err) != KW_OK)
        return err->code;
    enum kw_code rc = runs ? kw_store_runs_put(st, ticket, fresh, list, n_runs, err) : KW_OK;
    if (runs)
        free(list);
    if (rc != KW_OK)
        return rc;
    return kw_store_clocks_put(st, ticket, fresh, rows, s->n, due, breached, fire, err);
}

/* Store the projection of the evaluated clocks s, and their KPI facts
 * when runs. */
static enum kw_code store_evaluated(struct kw_store *st, int64_t ticket, bool fresh, bool runs,
                                    const struct kw_compiled *k, const struct kw_sla *s,
                                    const struct kw_ticket_events *te, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_clock_row rows[KW_POLICY_MAX_METRICS];
    int64_t due, breached, fire;
    projection_of(k, s, te, rows, &due, &breached, &fire);
    return projection_put(st, ticket, fresh, runs, k, s, te, rows, due, breached, fire, err);
}

enum kw_code kw_clocks_store_projection(struct kw_store *st, int64_t ticket, bool fresh,
                                        const struct kw_compiled *k, const struct kw_sla *s,
                                        const struct kw_ticket_events *te, struct kw_err *err)
{
    return store_evaluated(st, ticket, fresh, true, k, s, te, err);
}

/* Whether a stored calendar of k got a version at or after `at`. */
static bool calendar_saved_since(const struct kw_compiled *k, int64_t at)
{
    for (size_t i = 0; i < kw_policy_calendar_count(k->p); i++)
        for (size_t v = 0; v < k->hist[i].n; v++)
            if (k->hist[i].since[v] >= at)
                return true;
    return false;
}

enum kw_code kw_clocks_store_fired(struct kw_store *st, int64_t ticket, int64_t last_event,
                                   const struct kw_compiled *k, const struct kw_sla *s,
                                   const struct kw_ticket_events *te, struct kw_err *err)
{
    /* a calendar saved since the ticket's last event may have moved its
     * clocks without projecting it yet (kw_store_clocks_restale, until the
     * catch-up): measured again */
    return store_evaluated(st, ticket, false, calendar_saved_since(k, last_event), k, s, te, err);
}

/* Whether a clock of s breached with no breach of its run fired yet: its
 * runs may have been stored running (a breach's firing measures them
 * again, engine/fire.c). */
static bool breach_unfired(const struct kw_compiled *k, const struct kw_sla *s,
                           const struct kw_ticket_events *te)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct kw_clock *ck = &s->clock[i];
        if (ck->status == KW_CLOCK_BREACHED &&
            kw_clock_fired_pct(te, kw_policy_metric_id(k->p, (size_t)ck->metric), ck) < 100)
            return true;
    }
    return false;
}

enum kw_code kw_clocks_project_since(struct kw_clocks *c, struct kw_store *st,
                                     struct kw_sla *scratch, int64_t ticket, int64_t now,
                                     int64_t first_seq, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ticket_row t;
    if (kw_store_ticket_get(st, ticket, &t, err) != KW_OK)
        return err->code;
    if (!t.commitment_id || first_seq <= 0)
        return kw_clocks_project(c, st, scratch, ticket, now, NULL, err);
    struct kw_ticket_events te = {.unit_seq = first_seq};
    const struct kw_compiled *k = NULL;
    enum kw_code rc = kw_clocks_evaluate(c, st, scratch, ticket, t.commitment_id,
                                         kw_clocks_live_at(&t, now), NULL, &te, &k, err);
    /* an open run's stored measure carried to now is what measuring it
     * again gives while no event changed it (kw_clocks_run_carried); a
     * calendar saved since the last event before the unit's may have moved
     * the clocks without projecting them yet (kw_clocks_store_fired) */
    bool runs = te.unit_moves || te.before_unit == KW_NO_TIME ||
                (rc == KW_OK &&
                 (calendar_saved_since(k, te.before_unit) || breach_unfired(k, scratch, &te)));
    if (rc == KW_OK)
        rc = store_evaluated(st, ticket, false, runs, k, scratch, &te, err);
    kw_ticket_events_release(&te);
    return rc;
}

void kw_clocks_prepare_new(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                           int64_t now, struct kw_ticket_new *created, struct kw_clocks_new *pn)
{
    created->due_known = false;
    if (!created->commitment_read)
        return;
    created->next_due = created->breached_at = created->fire_at = KW_STORE_NO_TIME;
    if (created->commitment_id) {
        /* as kw_clocks_project evaluates it (its row's updated_at: created->at) */
        int64_t live = created->at > now ? created->at : now;
        struct kw_err ignored; /* the projection after the insert says it again */
        if (kw_clocks_evaluate(c, st, scratch, 0, created->commitment_id, live, created, &pn->te,
                               &pn->k, &ignored) != KW_OK)
            return;
        projection_of(pn->k, scratch, &pn->te, pn->rows, &created->next_due, &created->breached_at,
                      &created->fire_at);
    }
    pn->ready = created->due_known = true;
    return;
}

enum kw_code kw_clocks_project(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                               int64_t ticket, int64_t now, const struct kw_ticket_new *created,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    /* a ticket just created with the commitment its creator read: its row
     * says nothing more (updated_at is its creation), so it is not read */
    struct kw_ticket_row t = {0};
    if (created && created->commitment_read) {
        t.commitment_id = created->commitment_id;
        t.updated_at = created->at;
    } else if (kw_store_ticket_get(st, ticket, &t, err) != KW_OK)
        return err->code;
    bool fresh = created != NULL;
    if (!t.commitment_id && !fresh && kw_store_runs_put(st, ticket, false, NULL, 0, err) != KW_OK)
        return err->code;
    if (!t.commitment_id)
        return kw_store_clocks_put(st, ticket, fresh, NULL, 0, KW_STORE_NO_TIME, KW_STORE_NO_TIME,
                                   KW_STORE_NO_TIME, err);
    struct kw_ticket_events te = {0};
    const struct kw_compiled *k = NULL;
    enum kw_code rc = kw_clocks_evaluate(c, st, scratch, ticket, t.commitment_id,
                                         kw_clocks_live_at(&t, now), created, &te, &k, err);
    if (rc == KW_OK)
        rc = kw_clocks_store_projection(st, ticket, fresh, k, scratch, &te, err);
    kw_ticket_events_release(&te);
    return rc;
}

enum kw_code kw_clocks_runs_at(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                               int64_t ticket, int64_t commitment, int64_t as_of,
                               struct kw_runs_at *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    memset(out, 0, sizeof(*out));
    if (!commitment)
        return KW_OK;
    const struct kw_compiled *k = NULL;
    if (kw_clocks_evaluate(c, st, scratch, ticket, commitment, as_of, NULL, &out->te, &k, err) !=
        KW_OK)
        return err->code;
    return kw_clocks_runs(k, scratch, &out->te, &out->rows, &out->n, err);
}

void kw_runs_at_release(struct kw_runs_at *r)
{
    kw_ticket_events_release(&r->te);
    free(r->rows);
    r->rows = NULL;
    r->n = 0;
}

/* A stopped run that ran from steady_from to its stop, as it stood at `at`
 * in between: its measure at the stop carried back (nothing else about it
 * changed in that stretch, kw_clocks_runs), still running or breached. */
static bool carried_back(const struct kw_cal *cal, const struct kw_run_row *r, int64_t at,
                         struct kw_run_row *out)
{
    int64_t w = 0;
    struct kw_err err = {0};
    if (kw_cal_elapsed(cal, at, r->stopped_at, &w, &err) != KW_OK)
        return false;
    struct kw_run_carry c = kw_clocks_carry(r, true, at, w);
    *out = *r;
    out->stopped_at = KW_STORE_NO_TIME;
    out->working = c.working;
    out->wall = c.wall;
    out->measured_at = at;
    /* as sla.c measures a running clock as of `at`: breached when its
     * deadline was crossed by then (at `at` itself included), else the
     * deadline projected from `at` */
    out->breached_at = c.breached_at;
    out->status = out->breached_at != KW_STORE_NO_TIME ? "breached" : "running";
    out->deadline = out->breached_at;
    if (out->breached_at == KW_STORE_NO_TIME &&
        kw_cal_deadline(cal, at, r->target - out->working, &out->deadline, &err) != KW_OK)
        out->deadline = KW_STORE_NO_TIME;
    return true;
}

bool kw_clocks_run_carried(const struct kw_compiled *k, const struct kw_run_row *r, int64_t at,
                           struct kw_run_row *out)
{
    bool stopped = r->stopped_at != KW_STORE_NO_TIME;
    if (stopped && (at < r->steady_from || at >= r->stopped_at || !r->calendar))
        return false;
    bool running =
        stopped || strcmp(r->status, "running") == 0 || strcmp(r->status, "breached") == 0;
    if (at < r->steady_from || !r->calendar || (!running && strcmp(r->status, "paused") != 0))
        return false;
    struct kw_err err = {0};
    const struct kw_cal *cal = NULL;
    for (size_t i = 0; k && i < kw_policy_calendar_count(k->p); i++)
        if (strcmp(kw_policy_calendar_name(k->p, i), r->calendar) == 0)
            cal = k->cals[i];
    if (!cal)
        return false;
    if (stopped)
        return carried_back(cal, r, at, out);
    int64_t w = 0, d = at - r->measured_at; /* d < 0: back in time */
    if (running && kw_cal_elapsed(cal, d < 0 ? at : r->measured_at, d < 0 ? r->measured_at : at, &w,
                                  &err) != KW_OK)
        return false;
    struct kw_run_carry c = kw_clocks_carry(r, running, at, w);
    *out = *r;
    out->working = c.working;
    out->wall = c.wall;
    out->paused_wall = c.paused_wall;
    out->measured_at = at;
    out->breached_at = c.breached_at;
    return true;
}

struct kw_run_carry kw_clocks_carry(const struct kw_run_row *r, bool running, int64_t at, int64_t w)
{
    struct kw_run_carry c = {.paused_wall = r->paused_wall, .breached_at = r->breached_at};
    if (r->stopped_at != KW_STORE_NO_TIME) { /* back from its stop, where it ran */
        c.working = r->working - w;
        c.wall = r->wall - (r->stopped_at - at);
    } else {
        int64_t d = at - r->measured_at; /* d < 0: back in time */
        c.working = r->working + (d < 0 ? -w : w);
        c.wall = r->wall + (running ? d : 0);
        c.paused_wall = r->paused_wall + (running ? 0 : d);
        /* a running clock breaches at its deadline: not yet, back before it */
        if (c.breached_at == KW_STORE_NO_TIME && running && r->deadline != KW_STORE_NO_TIME &&
            r->deadline <= at)
            c.breached_at = r->deadline;
    }
    if (c.breached_at != KW_STORE_NO_TIME && c.breached_at > at)
        c.breached_at = KW_STORE_NO_TIME;
    return c;
}

#define REBUILD_BATCH 500
struct rebuild_page {
    size_t n;
    int64_t id[REBUILD_BATCH], commitment[REBUILD_BATCH], updated[REBUILD_BATCH];
};

static bool rebuild_row(const struct kw_ticket_row *t, void *ctx)
{
    struct rebuild_page *p = ctx;
    p->id[p->n] = t->id;
    p->commitment[p->n] = t->commitment_id;
    p->updated[p->n++] = t->updated_at;
    return p->n < REBUILD_BATCH;
}

enum kw_code kw_clocks_runs_rebuild(struct kw_clocks *c, struct kw_store *st,
                                    struct kw_sla *scratch, int64_t now, size_t *tickets,
                                    size_t *runs, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    size_t nt = 0, nr = 0;
    struct rebuild_page *page = malloc(sizeof(*page));
    if (!page)
        return kw_err_set(err, KW_NOMEM, "", "no memory to rebuild the KPI facts");
    /* the resolved milestones' facts first, in their own transaction */
    enum kw_code rc = kw_store_begin(st, err);
    if (rc == KW_OK && (rc = kw_store_resolved_rebuild(st, err)) != KW_OK)
        kw_store_rollback(st);
    else if (rc == KW_OK)
        rc = kw_store_commit(st, err);
    for (int64_t after = 0; rc == KW_OK;) {
        page->n = 0;
        struct kw_ticket_filter f = {
            .after = after, .limit = REBUILD_BATCH, .due_before = KW_STORE_NO_TIME};
        if ((rc = kw_store_tickets(st, &f, rebuild_row, page, err)) != KW_OK || page->n == 0)
            break;
        if ((rc = kw_store_begin(st, err)) != KW_OK)
            break;
        for (size_t i = 0; i < page->n && rc == KW_OK; i++) {
            struct kw_runs_at r;
            int64_t as_of = page->updated[i] > now ? page->updated[i] : now;
            rc =
                kw_clocks_runs_at(c, st, scratch, page->id[i], page->commitment[i], as_of, &r, err);
            if (rc == KW_OK)
                rc = kw_store_runs_put(st, page->id[i], false, r.rows, r.n, err);
            if (rc != KW_OK) {
                char where[48];
                snprintf(where, sizeof(where), "ticket %lld", (long long)page->id[i]);
                kw_err_locate(err, NULL, where);
            }
            nr += r.n;
            kw_runs_at_release(&r);
        }
        if (rc != KW_OK) {
            kw_store_rollback(st);
            break;
        }
        if ((rc = kw_store_commit(st, err)) != KW_OK)
            break;
        nt += page->n;
        after = page->id[page->n - 1];
        kw_store_end_read(st);
    }
    free(page);
    if (tickets)
        *tickets = nt;
    if (runs)
        *runs = nr;
    return rc;
}

enum kw_code kw_clocks_project_new(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                                   int64_t ticket, int64_t now, const struct kw_ticket_new *created,
                                   struct kw_clocks_new *pn, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!pn->ready)
        return kw_clocks_project(c, st, scratch, ticket, now, created, err);
    /* evaluated before the insert (scratch holds it): stored as computed then */
    if (!pn->k)
        return kw_store_clocks_put(st, ticket, true, NULL, 0, KW_STORE_NO_TIME, KW_STORE_NO_TIME,
                                   KW_STORE_NO_TIME, err);
    return projection_put(st, ticket, true, true, pn->k, scratch, &pn->te, pn->rows,
                          created->next_due, created->breached_at, created->fire_at, err);
}

void kw_clocks_new_release(struct kw_clocks_new *pn)
{
    kw_ticket_events_release(&pn->te);
    pn->ready = false;
    pn->k = NULL;
}
