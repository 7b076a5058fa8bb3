// SPDX-License-Identifier: MIT
#include "sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

static const char *const status_names[KW_CLOCK_STATUS_COUNT] = {
    "pending", "running", "paused", "met", "breached", "met_late",
};
static const char *const type_names[KW_EV_COUNT] = {
    "created", "level", "category", "attrs", "state", "milestone", "reopened",
};

const char *kw_clock_status_name(enum kw_clock_status s)
{
    return (unsigned)s < KW_CLOCK_STATUS_COUNT ? status_names[s] : "?";
}

const char *kw_event_type_name(enum kw_event_type t)
{
    return (unsigned)t < KW_EV_COUNT ? type_names[t] : "?";
}

void kw_sla_init(struct kw_sla *s)
{
    memset(s, 0, sizeof(*s));
}

void kw_sla_release(struct kw_sla *s)
{
    free(s->gaps);
    free(s->runs);
    kw_sla_init(s);
}

static enum kw_code bad_event(struct kw_err *err, size_t i, const struct kw_event *e,
                              const char *what, const char *name)
{
    char at[KW_INSTANT_BUF];
    kw_instant_format_utc(e->at, at);
    return kw_err_set(err, KW_INVALID, "", "events[%zu] (%s at %s): %s%s%.40s%s", i,
                      kw_event_type_name(e->type), at, what, name ? " \"" : "", name ? name : "",
                      name ? "\"" : "");
}

/* The events must tell a possible story: created first and once, in time
 * order, naming only what the policy knows. */
static enum kw_code check_events(const struct kw_policy *p, const struct kw_event *ev, size_t n,
                                 struct kw_err *err)
{
    if (n == 0)
        return kw_err_set(err, KW_INVALID, "", "no events: a ticket starts with created");
    if (n > KW_SLA_MAX_EVENTS)
        return kw_err_set(err, KW_TOO_BIG, "", "%zu events, at most %d", n, KW_SLA_MAX_EVENTS);
    for (size_t i = 0; i < n; i++) {
        const struct kw_event *e = &ev[i];
        if ((unsigned)e->type >= KW_EV_COUNT)
            return bad_event(err, i, e, "unknown event type", NULL);
        if (i == 0 && e->type != KW_EV_CREATED)
            return bad_event(err, i, e, "the first event must be created", NULL);
        if (i > 0 && e->type == KW_EV_CREATED)
            return bad_event(err, i, e, "a ticket is created once", NULL);
        if (i > 0 && e->at < ev[i - 1].at)
            return bad_event(err, i, e, "out of order: before the event it follows", NULL);
        for (int a = 0; a < KW_ATTR_COUNT; a++) {
            const char *v = e->attrs.v[a];
            if (v && *v && !kw_policy_attr_known(p, (enum kw_attr)a, v)) {
                char what[48];
                snprintf(what, sizeof(what), "unknown %s", kw_attr_name((enum kw_attr)a));
                return bad_event(err, i, e, what, v);
            }
        }
        switch (e->type) {
        case KW_EV_CREATED:
            if (!e->attrs.v[KW_ATTR_LEVEL] || !*e->attrs.v[KW_ATTR_LEVEL])
                return bad_event(err, i, e, "missing level", NULL);
            break;
        case KW_EV_LEVEL:
            if (!e->attrs.v[KW_ATTR_LEVEL] || !*e->attrs.v[KW_ATTR_LEVEL])
                return bad_event(err, i, e, "missing the new level", NULL);
            break;
        case KW_EV_CATEGORY:
            if (!e->attrs.v[KW_ATTR_CATEGORY] || !*e->attrs.v[KW_ATTR_CATEGORY])
                return bad_event(err, i, e, "missing the new category", NULL);
            break;
        case KW_EV_STATE:
            if (!e->name || !kw_policy_is_state(p, e->name))
                return bad_event(err, i, e, "unknown state", e->name ? e->name : "");
            break;
        case KW_EV_MILESTONE:
            if (!e->name || !kw_policy_is_milestone(p, e->name))
                return bad_event(err, i, e, "unknown milestone", e->name ? e->name : "");
            break;
        case KW_EV_REOPENED:
            if (e->name && !kw_policy_is_state(p, e->name))
                return bad_event(err, i, e, "unknown state", e->name);
            break;
        case KW_EV_ATTRS:
        case KW_EV_COUNT:
            break;
        }
    }
    return KW_OK;
}

/* ---- the fold for one metric ---- */

enum phase { NOT_STARTED, RUNNING, PAUSED, STOPPED };

struct fold {
    const struct kw_policy *p;
    const struct kw_cal *const *cals;
    size_t m;
    struct kw_sla *out;
    enum phase phase;
    struct kw_ticket_attrs attrs, stop_attrs; /* now, and at the stop */
    unsigned seq;                             /* runs of this metric ended so far */
    enum kw_code rc;                          /* the first error of a run ended by a reopen */
    struct kw_err *err;
    const char *state;
    struct kw_target res;
    int64_t started_at, stop_at, pause_from;
    const char *stopped_by;
    size_t ngaps;
    bool nomem;
};

static bool pauses(const struct fold *f, const char *state)
{
    const char *const *list;
    size_t n = kw_policy_metric_pauses(f->p, f->m, &list);
    for (size_t i = 0; state && i < n; i++)
        if (strcmp(list[i], state) == 0)
            return true;
    return false;
}

/* The policy's own copy of milestone if it stops this metric, else NULL
 * (clocks point at policy strings, never at event strings). */
static const char *stops(const struct fold *f, const char *milestone)
{
    const char *const *list;
    size_t n = kw_policy_metric_stops(f->p, f->m, &list);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], milestone) == 0)
            return list[i];
    return NULL;
}

static void add_gap(struct fold *f, int64_t from, int64_t to, bool pause)
{
    struct kw_sla *s = f->out;
    if (to <= from)
        return;
    if (f->ngaps == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct kw_sla_gap *g = realloc(s->gaps, cap * sizeof(*g));
        if (!g) {
            f->nomem = true;
            return;
        }
        s->gaps = g;
        s->cap = cap;
    }
    s->gaps[f->ngaps++] = (struct kw_sla_gap){from, to, pause};
}

static void resolve(struct fold *f)
{
    f->res = kw_policy_resolve(f->p, f->m, &f->attrs);
}

/* Begin running at t (or paused, when the ticket is in a pausing state). */
static void start(struct fold *f, int64_t t)
{
    f->started_at = t;
    f->ngaps = 0;
    f->stopped_by = NULL;
    f->phase = RUNNING;
    if (pauses(f, f->state)) {
        f->phase = PAUSED;
        f->pause_from = t;
    }
}

static void set_state(struct fold *f, int64_t t, const char *state)
{
    f->state = state;
    bool p = pauses(f, state);
    if (f->phase == RUNNING && p) {
        f->phase = PAUSED;
        f->pause_from = t;
    } else if (f->phase == PAUSED && !p) {
        add_gap(f, f->pause_from, t, true);
        f->phase = RUNNING;
    }
}

static void merge_attrs(struct fold *f, const struct kw_ticket_attrs *a)
{
    for (int i = 0; i < KW_ATTR_COUNT; i++)
        if (a->v[i])
            f->attrs.v[i] = a->v[i];
}

static enum kw_code finish(struct fold *f, const struct kw_cal *cal, int64_t t, struct kw_clock *c,
                           struct kw_err *err);

/* Keep clock c, the run the fold holds, measured to end (its stop or as-of),
 * with the ticket's attributes then. */
static enum kw_code keep_run(struct fold *f, const struct kw_clock *c, int64_t end,
                             const struct kw_ticket_attrs *attrs, struct kw_err *err)
{
    struct kw_sla *s = f->out;
    if (s->n_runs == s->runs_cap) {
        size_t cap = s->runs_cap ? s->runs_cap * 2 : 8;
        struct kw_sla_run *r = realloc(s->runs, cap * sizeof(*r));
        if (!r)
            return kw_err_set(err, KW_NOMEM, "", "no memory for the clock's runs");
        s->runs = r;
        s->runs_cap = cap;
    }
    int64_t paused = 0, stopped = 0;
    for (size_t g = 0; g < f->ngaps; g++) {
        int64_t w = s->gaps[g].to - s->gaps[g].from;
        if (s->gaps[g].pause)
            paused += w;
        else
            stopped += w;
    }
    s->runs[s->n_runs++] = (struct kw_sla_run){
        .clock = *c,
        .seq = f->seq,
        .stopped_at = f->phase == STOPPED ? f->stop_at : KW_NO_TIME,
        .wall = end - c->started_at - paused - stopped,
        .paused_wall = paused,
        .dims_at = end,
        .attrs = *attrs,
    };
    return KW_OK;
}

/* A reopening ends the stopped run the fold holds (restart, or its start
 * taken back): keep it as it stood at its stop. */
static void end_run(struct fold *f, int64_t t)
{
    if (f->phase != STOPPED || f->rc != KW_OK)
        return;
    struct kw_clock c;
    f->rc = finish(f, f->cals[f->res.calendar], t, &c, f->err);
    if (f->rc == KW_OK)
        f->rc = keep_run(f, &c, f->stop_at, &f->stop_attrs, f->err);
    f->seq++;
}

static void step(struct fold *f, const struct kw_event *e)
{
    const char *start_ev = kw_policy_metric_start(f->p, f->m);
    bool recompute = kw_policy_on_level_change(f->p) == KW_CHANGE_RECOMPUTE;
    switch (e->type) {
    case KW_EV_CREATED:
        f->attrs = e->attrs;
        f->state = "registered";
        resolve(f);
        if (strcmp(start_ev, "created") == 0)
            start(f, e->at);
        break;
    case KW_EV_LEVEL:
    case KW_EV_CATEGORY:
    case KW_EV_ATTRS:
        merge_attrs(f, &e->attrs);
        /* keep: a clock's target is fixed when it starts */
        if (f->phase == NOT_STARTED || (recompute && f->phase != STOPPED))
            resolve(f);
        break;
    case KW_EV_STATE:
        set_state(f, e->at, e->name);
        break;
    case KW_EV_MILESTONE:
        if (f->phase == NOT_STARTED && strcmp(e->name, start_ev) == 0) {
            start(f, e->at);
        } else if ((f->phase == RUNNING || f->phase == PAUSED) && stops(f, e->name)) {
            if (f->phase == PAUSED)
                add_gap(f, f->pause_from, e->at, true);
            f->stop_at = e->at;
            f->stop_attrs = f->attrs;
            f->stopped_by = stops(f, e->name);
            f->phase = STOPPED;
        }
        break;
    case KW_EV_REOPENED: {
        const char *state = e->name ? e->name : "handling";
        if (f->phase != NOT_STARTED && kw_policy_reopen_revokes(f->p, start_ev)) {
            /* the event that started this clock is taken back: wait for it again */
            end_run(f, e->at);
            f->phase = NOT_STARTED;
            f->ngaps = 0;
            f->state = state;
            resolve(f);
            break;
        }
        if (f->phase == STOPPED && kw_policy_reopen_revokes(f->p, f->stopped_by)) {
            if (kw_policy_on_reopen(f->p) == KW_REOPEN_RESTART) {
                /* a new run: the target and calendar in force now, also
                 * under keep (which fixes them per run) */
                end_run(f, e->at);
                f->state = state;
                start(f, e->at);
                resolve(f);
                break;
            }
            add_gap(f, f->stop_at, e->at, false);
            f->stopped_by = NULL;
            f->phase = RUNNING;
            f->state = NULL;
            set_state(f, e->at, state);
            if (recompute)
                resolve(f);
            break;
        }
        set_state(f, e->at, state);
        break;
    }
    case KW_EV_COUNT:
        break;
    }
}

/* Fill the clock from the folded state, measuring on calendar cal up to t. */
static enum kw_code finish(struct fold *f, const struct kw_cal *cal, int64_t t, struct kw_clock *c,
                           struct kw_err *err)
{
    const uint8_t *pct;
    size_t nwarn = kw_policy_metric_warn(f->p, f->m, &pct);
    memset(c, 0, sizeof(*c));
    c->metric = (int)f->m;
    c->rule = f->res.rule;
    c->calendar = f->res.calendar;
    c->target = f->res.target;
    c->started_at = c->deadline = c->met_at = c->breached_at = c->next_due = KW_NO_TIME;
    c->sri = -1;
    c->n_warn = nwarn;
    for (size_t k = 0; k < nwarn; k++)
        c->warn[k] = (struct kw_threshold){pct[k], false, KW_NO_TIME};
    if (f->phase == NOT_STARTED) {
        c->status = KW_CLOCK_PENDING;
        return KW_OK;
    }
    c->started_at = f->started_at;
    c->stopped_by = f->stopped_by;
    int64_t end = f->phase == STOPPED ? f->stop_at : t;
    if (f->phase == PAUSED)
        add_gap(f, f->pause_from, t, true);
    if (f->nomem)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the clock's pauses");

    /* Walk the running stretches between gaps; note where elapsed crosses
     * each warning and the target (the breach, at index nwarn). A threshold
     * is reached only if the clock runs at its crossing instant: a stretch
     * [a, z) that a pause or a stop ends at z runs before z, not at z, so
     * its crossings count when < z; the last stretch of a running clock
     * runs up to as-of t inclusive. A crossing the clock sat on while
     * paused or stopped (elapsed already at the need) is reached when it
     * runs again, at the start of the next stretch (docs/policy.md). */
    int64_t need[KW_POLICY_MAX_WARN + 1], cross[KW_POLICY_MAX_WARN + 1];
    size_t nneed = nwarn + 1, found = 0;
    for (size_t k = 0; k < nwarn; k++)
        need[k] = c->target / 100 * pct[k] + c->target % 100 * pct[k] / 100;
    need[nwarn] = c->target;
    int64_t acc = 0, cursor = f->started_at;
    enum kw_code rc;
    for (size_t g = 0; g <= f->ngaps; g++) {
        int64_t a = cursor, z = g < f->ngaps ? f->out->gaps[g].from : end, w = 0;
        bool upto = g == f->ngaps && f->phase == RUNNING; /* runs at z itself */
        if (g < f->ngaps) {
            cursor = f->out->gaps[g].to;
            if (f->out->gaps[g].pause) {
                int64_t pw;
                if ((rc = kw_cal_elapsed(cal, f->out->gaps[g].from, f->out->gaps[g].to, &pw,
                                         err)) != KW_OK)
                    return rc;
                c->paused += pw;
            }
        }
        if ((rc = kw_cal_elapsed(cal, a, z, &w, err)) != KW_OK)
            return rc;
        while (found < nneed && need[found] <= acc + w) {
            int64_t x = a;
            if (need[found] > acc &&
                (rc = kw_cal_deadline(cal, a, need[found] - acc, &x, err)) != KW_OK)
                return rc;
            if (x > z || (x == z && !upto))
                break;
            cross[found++] = x;
        }
        acc += w;
    }
    c->elapsed = acc;
    /* Thresholds not reached yet: projected while running, unknown otherwise. */
    for (size_t k = found; k < nneed; k++) {
        cross[k] = KW_NO_TIME;
        if (f->phase == RUNNING && kw_cal_deadline(cal, t, need[k] - acc, &cross[k], NULL) != KW_OK)
            cross[k] = KW_NO_TIME;
    }
    for (size_t k = 0; k < nwarn; k++) {
        c->warn[k].reached = k < found;
        c->warn[k].at = cross[k];
    }
    bool breached = found == nneed;
    if (c->target > 0)
        c->sri = (double)acc * 100.0 / (double)c->target;
    if (f->phase == STOPPED) {
        c->met_at = f->stop_at;
        /* late when the deadline was reached by the rule above, even if
         * no working time passed between it and the stop */
        c->status = breached ? KW_CLOCK_MET_LATE : KW_CLOCK_MET;
        if (c->status == KW_CLOCK_MET_LATE)
            c->breached_at = cross[nwarn];
        return KW_OK;
    }
    c->deadline = cross[nwarn];
    if (breached) {
        c->status = KW_CLOCK_BREACHED;
        c->breached_at = cross[nwarn];
    } else {
        c->status = f->phase == PAUSED ? KW_CLOCK_PAUSED : KW_CLOCK_RUNNING;
        if (f->phase == RUNNING) {
            c->next_due = cross[found];
            c->next_pct = found < nwarn ? pct[found] : 100;
        }
    }
    return KW_OK;
}

enum kw_code kw_sla_eval(const struct kw_policy *p, const struct kw_cal *const *cals,
                         const struct kw_event *ev, size_t n, int64_t as_of, struct kw_sla *out,
                         struct kw_err *err)
{
    enum kw_code rc = check_events(p, ev, n, err);
    out->n = 0;
    if (rc != KW_OK)
        return rc;
    if (as_of < ev[0].at) {
        char a[KW_INSTANT_BUF], c[KW_INSTANT_BUF];
        kw_instant_format_utc(as_of, a);
        kw_instant_format_utc(ev[0].at, c);
        return kw_err_set(err, KW_RANGE, "", "as of %s the ticket did not exist yet (created %s)",
                          a, c);
    }
    size_t live = 0;
    while (live < n && ev[live].at <= as_of)
        live++;
    out->n_runs = 0;
    for (size_t m = 0; m < kw_policy_metric_count(p); m++) {
        struct fold f = {
            .p = p, .cals = cals, .m = m, .out = out, .phase = NOT_STARTED, .err = err};
        size_t run0 = out->n_runs;
        for (size_t i = 0; i < live && f.rc == KW_OK; i++)
            step(&f, &ev[i]);
        if (!f.res.applies) {
            out->n_runs = run0; /* runs of a clock that no longer applies go with it */
            continue;
        }
        rc = f.rc;
        if (rc == KW_OK)
            rc = finish(&f, cals[f.res.calendar], as_of, &out->clock[out->n], err);
        if (rc == KW_OK && f.phase != NOT_STARTED)
            rc = keep_run(&f, &out->clock[out->n], f.phase == STOPPED ? f.stop_at : as_of,
                          f.phase == STOPPED ? &f.stop_attrs : &f.attrs, err);
        if (rc != KW_OK) {
            char path[64];
            snprintf(path, sizeof(path), "metric %s", kw_policy_metric_id(p, m));
            return kw_err_locate(err, NULL, path);
        }
        out->n++;
    }
    return KW_OK;
}

/* ---- service nodes ---- */

static void reach(const struct kw_policy *p, const char *what, int64_t at,
                  int64_t reached[KW_POLICY_MAX_NODES])
{
    for (size_t i = 0; what && i < kw_policy_node_count(p); i++)
        if (reached[i] == KW_NO_TIME && strcmp(kw_policy_node_at(p, i), what) == 0)
            reached[i] = at;
}

void kw_nodes_reached(const struct kw_policy *p, const struct kw_event *ev, size_t n,
                      int64_t reached[KW_POLICY_MAX_NODES])
{
    size_t count = kw_policy_node_count(p);
    for (size_t i = 0; i < count; i++)
        reached[i] = KW_NO_TIME;
    for (size_t e = 0; e < n; e++) {
        switch (ev[e].type) {
        case KW_EV_CREATED:
            reach(p, "created", ev[e].at, reached);
            reach(p, "registered", ev[e].at, reached);
            break;
        case KW_EV_STATE:
        case KW_EV_MILESTONE:
            reach(p, ev[e].name, ev[e].at, reached);
            break;
        case KW_EV_REOPENED:
            for (size_t i = 0; i < count; i++) {
                const char *at = kw_policy_node_at(p, i);
                if (kw_policy_reopen_revokes(p, at) || strcmp(at, "feedback") == 0 ||
                    strcmp(at, "archived") == 0)
                    reached[i] = KW_NO_TIME;
            }
            reach(p, ev[e].name ? ev[e].name : "handling", ev[e].at, reached);
            break;
        default:
            break;
        }
    }
}
