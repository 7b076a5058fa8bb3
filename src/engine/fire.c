// SPDX-License-Identifier: MIT
/* Firing what falls due; see fire.h. */
#include "fire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "chain.h"
#include "civil.h"
#include "event.h"
#include "kw_buf.h"
#include "loop.h"
#include "rota.h"
#include "tickets.h"
#include "watch.h"

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

/* ---- notifications, written as text ----
 * A notification is the ticket's summary, the event's canonical text as
 * recorded (the same members, keys in byte order) and who it is for:
 * written directly, not built as a JSON tree and printed (that was about a
 * tenth of a firing's instructions). */

/* The pieces are appended as they are: kw_buf_printf's vsnprintf was
 * 36,000 instructions per fired ticket, the event's text copied through
 * "%s" the most of it (#20). */
static void note_key(struct kw_buf *b, const char *key)
{
    kw_buf_add(b, ",\"", 2);
    kw_buf_adds(b, key);
    kw_buf_add(b, "\":", 2);
}

/* id in decimal, as "%lld" prints it */
static void note_int(struct kw_buf *b, int64_t id)
{
    char d[24];
    size_t i = sizeof(d);
    uint64_t u = id < 0 ? 0 - (uint64_t)id : (uint64_t)id;
    do
        d[--i] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (id < 0)
        d[--i] = '-';
    kw_buf_add(b, d + i, sizeof(d) - i);
}

static void note_str(struct kw_buf *b, const char *key, const char *val)
{
    note_key(b, key);
    if (val)
        kw_buf_json_string(b, val, strlen(val));
    else
        kw_buf_adds(b, "null");
}

static void note_id(struct kw_buf *b, const char *key, int64_t id)
{
    note_key(b, key);
    if (id)
        note_int(b, id);
    else
        kw_buf_adds(b, "null");
}

/* {"kind":…,"ticket":{"id":…,"title":…,"org_id":…,"level":…[,"state":…,
 * "assignee_id":…,"team_id":…]},"event":<event>: the caller ends it. */
static void note_begin(struct kw_buf *b, const char *kind, const struct kw_ticket_row *t, bool full,
                       const char *event)
{
    kw_buf_adds(b, "{\"kind\":");
    kw_buf_json_string(b, kind, strlen(kind));
    kw_buf_adds(b, ",\"ticket\":{\"id\":");
    note_int(b, t->id);
    note_str(b, "title", t->title);
    note_key(b, "org_id");
    note_int(b, t->org_id);
    note_str(b, "level", t->level);
    if (full) {
        note_str(b, "state", t->state);
        note_id(b, "assignee_id", t->assignee_id);
        note_id(b, "team_id", t->team_id);
    }
    kw_buf_adds(b, "},\"event\":");
    kw_buf_adds(b, event);
}

/* The notification's text as a new string the caller frees; NULL when
 * memory ran out. */
static char *note_end(struct kw_buf *b)
{
    kw_buf_adds(b, "}");
    if (b->failed) {
        kw_buf_release(b);
        return NULL;
    }
    return b->p;
}

static void two_digits(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* kw_instant_format_utc's text for years 0000-9999, digits written in
 * place: its snprintf of six fields was about 4,000 instructions, three
 * per threshold event (#20). Other years go through it. */
static size_t format_utc(int64_t t, char *buf)
{
    int64_t days = kw_day_of(t), sod = t - days * KW_DAY, y;
    unsigned m, d;
    kw_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return kw_instant_format_utc(t, buf);
    memcpy(buf, "0000-00-00T00:00:00Z", 21);
    two_digits(buf, (unsigned)(y / 100));
    two_digits(buf + 2, (unsigned)(y % 100));
    two_digits(buf + 5, m);
    two_digits(buf + 8, d);
    two_digits(buf + 11, (unsigned)(sod / 3600));
    two_digits(buf + 14, (unsigned)(sod / 60 % 60));
    two_digits(buf + 17, (unsigned)(sod % 60));
    return 20;
}

/* An instant member as kw_event_encode writes it: UTC ISO 8601, or null. */
static void canon_instant(struct kw_canon *c, const char *key, int64_t t)
{
    char buf[KW_INSTANT_BUF];
    if (t == KW_NO_TIME) {
        kw_canon_null(c, key);
        return;
    }
    format_utc(t, buf);
    kw_canon_str(c, key, buf);
}

static void canon_str_or_null(struct kw_canon *c, const char *key, const char *v)
{
    if (v)
        kw_canon_str(c, key, v);
    else
        kw_canon_null(c, key);
}

/* The members of encode_sla and encode_escalated (core/event.c) in byte
 * order of their keys: a firing's two events were a JSON tree built,
 * printed and freed (about 30,000 instructions each, #20). */
char *kw_fire_event_text(const struct kw_event_rec *r, struct kw_err *err)
{
    struct kw_canon c;
    bool breach = r->kind == KW_EVENT_SLA_BREACH;
    char *text = NULL;
    if ((r->kind == KW_EVENT_SLA_WARNING || breach) && r->metric) {
        kw_canon_begin(&c);
        if (breach)
            canon_instant(&c, "breached_at", r->breached_at);
        else
            canon_str_or_null(&c, "colour", r->colour);
        canon_instant(&c, "deadline", r->deadline);
        canon_instant(&c, "due_at", breach ? r->breached_at : r->reached_at);
        kw_canon_str(&c, "metric", r->metric);
        if (!breach) {
            kw_canon_int(&c, "percent", r->percent);
            canon_instant(&c, "reached_at", r->reached_at);
        }
        kw_canon_int(&c, "target", r->target);
        text = kw_canon_end(&c);
    } else if (r->kind == KW_EVENT_ESCALATED && r->chain && r->action) {
        kw_canon_begin(&c);
        kw_canon_str(&c, "action", r->action);
        kw_canon_str(&c, "chain", r->chain);
        canon_instant(&c, "due_at", r->due_at);
        kw_canon_str(&c, "level", r->attrs.v[KW_ATTR_LEVEL]); /* only when given */
        kw_canon_int(&c, "step", r->step);
        canon_str_or_null(&c, "target", r->who);
        if (r->user_id > 0)
            kw_canon_int(&c, "user_id", r->user_id);
        else
            kw_canon_null(&c, "user_id");
        text = kw_canon_end(&c);
    }
    if (text)
        return text;
    json_t *body = kw_event_encode(r, err);
    text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (body && !text)
        kw_err_set(err, KW_NOMEM, "", "no memory for the event");
    json_decref(body);
    return text;
}

/* The event for one threshold, and the notification it causes. */
static enum kw_code fire_one(struct kw_store *st, const struct kw_ticket_row *t,
                             const struct kw_compiled *k, const struct kw_clock *ck,
                             const struct due *d, int64_t now, struct kw_err *err)
{
    const char *metric = kw_policy_metric_id(k->p, (size_t)ck->metric);
    bool breach = d->pct >= 100;
    struct kw_event_rec r = {.kind = breach ? KW_EVENT_SLA_BREACH : KW_EVENT_SLA_WARNING,
                             .metric = metric,
                             .target = ck->target,
                             .deadline = ck->deadline != KW_NO_TIME      ? ck->deadline
                                         : ck->breached_at != KW_NO_TIME ? ck->breached_at
                                                                         : d->at};
    if (breach)
        r.breached_at = d->at;
    else {
        r.percent = d->pct;
        r.colour = kw_warning_colour(d->pct);
        r.reached_at = d->at;
    }
    char *text = kw_fire_event_text(&r, err);
    const char *type = kw_event_kind_name(r.kind);
    enum kw_code rc =
        text ? kw_store_event_append(st, t->id, type, text, 0, now, NULL, NULL, err) : err->code;
    if (rc == KW_OK) {
        struct kw_buf b = {0};
        note_begin(&b, type, t, true, text);
        note_str(&b, "commitment", kw_policy_name(k->p));
        char *payload = note_end(&b);
        char key[96];
        /* one notification per ticket, metric, threshold and clock start */
        snprintf(key, sizeof(key), "t%lld-%s-%d-%lld", (long long)t->id, metric, d->pct,
                 (long long)ck->started_at);
        rc = payload ? kw_store_outbox_add(st, type, t->id, t->org_id, t->team_id, payload, key,
                                           now, err)
                     : kw_err_set(err, KW_NOMEM, "", "no memory for the notification");
        free(payload);
    }
    free(text);
    return rc;
}

/* ---- the cache ---- */

/* What a batch read about a person, a team or an organisation. */
struct known {
    char kind;          /* 'u' a person, 't' a team's lead, 'o' an organisation's account manager */
    int64_t id, ref;    /* ref: the lead, the account manager (0: none) */
    char *name, *email; /* a person's; NULL when there is no such person */
};

#define KNOWN_MAX 256 /* per batch; more are read each time */

struct kw_fire_cache {
    struct kw_rota_cache *rotas;
    struct known known[KNOWN_MAX];
    size_t n_known;
    uint64_t people_read, people_hits;
};

struct kw_fire_cache *kw_fire_cache_new(void)
{
    struct kw_fire_cache *fc = calloc(1, sizeof(*fc));
    if (fc && !(fc->rotas = kw_rota_cache_new())) {
        free(fc);
        return NULL;
    }
    return fc;
}

void kw_fire_cache_batch(struct kw_fire_cache *fc)
{
    for (size_t i = 0; i < fc->n_known; i++) {
        free(fc->known[i].name);
        free(fc->known[i].email);
    }
    fc->n_known = 0;
}

void kw_fire_cache_free(struct kw_fire_cache *fc)
{
    if (!fc)
        return;
    kw_fire_cache_batch(fc);
    kw_rota_cache_free(fc->rotas);
    free(fc);
}

void kw_fire_cache_stats(const struct kw_fire_cache *fc, struct kw_fire_cache_stats *out)
{
    *out = (struct kw_fire_cache_stats){.people_read = fc->people_read,
                                        .people_hits = fc->people_hits};
    kw_rota_cache_counts(fc->rotas, &out->rota_compiled, &out->rota_hits);
}

static struct known *known_find(struct kw_fire_cache *fc, char kind, int64_t id)
{
    for (size_t i = 0; fc && i < fc->n_known; i++)
        if (fc->known[i].kind == kind && fc->known[i].id == id) {
            fc->people_hits++;
            return &fc->known[i];
        }
    return NULL;
}

/* Remember what was read (copies the strings); when the batch's room or
 * memory is out, it is simply read again next time. */
static void known_add(struct kw_fire_cache *fc, const struct known *k)
{
    if (!fc)
        return;
    fc->people_read++;
    if (fc->n_known == KNOWN_MAX)
        return;
    struct known *to = &fc->known[fc->n_known];
    *to = *k;
    to->name = k->name ? strdup(k->name) : NULL;
    to->email = k->email ? strdup(k->email) : NULL;
    if ((k->name && !to->name) || (k->email && !to->email)) {
        free(to->name);
        free(to->email);
        return;
    }
    fc->n_known++;
}

static bool lead_of(const struct kw_named_row *r, void *ctx)
{
    *(int64_t *)ctx = r->ref;
    return false;
}

/* The lead of team (0: none), read once per batch. */
static int64_t team_lead(struct kw_fire_cache *fc, struct kw_store *st, int64_t team)
{
    struct known *k = known_find(fc, 't', team);
    if (k)
        return k->ref;
    int64_t user = 0;
    struct kw_err err = {0};
    if (kw_store_teams(st, team, lead_of, &user, &err) != KW_OK)
        return 0; /* not remembered: read again next time */
    known_add(fc, &(struct known){.kind = 't', .id = team, .ref = user});
    return user;
}

/* The account manager of org (0: none), read once per batch. */
static int64_t account_manager(struct kw_fire_cache *fc, struct kw_store *st, int64_t org)
{
    struct known *k = known_find(fc, 'o', org);
    if (k)
        return k->ref;
    struct kw_org o;
    struct kw_err err = {0};
    enum kw_code rc = kw_store_org_get(st, org, &o, &err);
    if (rc != KW_OK && rc != KW_NOT_FOUND)
        return 0;
    int64_t user = rc == KW_OK ? o.account_manager_id : 0;
    known_add(fc, &(struct known){.kind = 'o', .id = org, .ref = user});
    return user;
}

/* Person id's name and e-mail for a notification: false when there is no
 * such person. *name and *email are valid until the next read on st or
 * the next batch. */
static bool person(struct kw_fire_cache *fc, struct kw_store *st, int64_t id, const char **name,
                   const char **email)
{
    struct known *k = known_find(fc, 'u', id);
    if (!k) {
        struct kw_user_row ur;
        struct kw_err err = {0};
        enum kw_code rc = kw_store_user_get(st, id, &ur, &err);
        if (rc != KW_OK && rc != KW_NOT_FOUND)
            return false;
        struct known add = {.kind = 'u', .id = id};
        if (rc == KW_OK) {
            add.name = (char *)(uintptr_t)ur.name;
            add.email = (char *)(uintptr_t)ur.email;
        }
        known_add(fc, &add);
        *name = add.name;
        *email = add.email;
        return rc == KW_OK;
    }
    *name = k->name;
    *email = k->email;
    return k->name != NULL;
}

/* The person a step names: the assignee, the team lead, the one on call
 * for the ticket's team at level N now; 0 when there is nobody. */
static int64_t resolve(struct kw_clocks *c, struct kw_store *st, struct kw_fire_cache *fc,
                       const struct kw_ticket_row *t, const struct kw_escalation_step *s,
                       int64_t now)
{
    int64_t user = 0;
    struct kw_err err = {0};
    if (!s->target)
        return 0;
    if (strcmp(s->target, "assignee") == 0)
        user = t->assignee_id;
    else if (strcmp(s->target, "team_lead") == 0 && t->team_id)
        user = team_lead(fc, st, t->team_id);
    else if (s->oncall && t->team_id && fc) {
        const struct kw_rota *r;
        if (kw_rota_cached(fc->rotas, st, kw_clocks_tzdb(c), t->team_id, s->oncall, &r, &err) ==
            KW_OK)
            user = kw_oncall_who(&r->s, &r->tz, now, NULL);
    } else if (s->oncall && t->team_id) {
        struct kw_rota *r = malloc(sizeof(*r));
        if (r && kw_rota_load(st, kw_clocks_tzdb(c), t->team_id, s->oncall, 0, r, &err) == KW_OK)
            user = kw_oncall_who(&r->s, &r->tz, now, NULL);
        free(r);
    }
    if (strcmp(s->target, "account_manager") == 0)
        user = account_manager(fc, st, t->org_id);
    return user;
}

/* What step s changes on the ticket, as the system's kw_ticket_change
 * (with a scratch of its own: the caller's still holds the clocks being
 * fired), without its projection: the caller stores the ticket's once
 * after all its due steps (a raised level: projected again from the
 * events). A change the ticket refuses (a team that is gone, a person who
 * is no longer staff) is left out; the step is still taken. */
static enum kw_code step_change(struct kw_clocks *c, struct kw_store *st, struct kw_ticket_row *t,
                                char *level_buf, const struct kw_compiled *k,
                                const struct kw_escalation *e, int64_t user, int64_t now,
                                struct kw_event_rec *step, bool *changed, bool *moved,
                                struct kw_err *err)
{
    const struct kw_escalation_step *s = &e->step[step->step];
    struct kw_ticket_change ch = {0};
    char reason[96];
    if (s->action == KW_ESC_REASSIGN && (user || s->team)) {
        ch.assignee_id = user;
        ch.team_id = s->team;
    } else if (s->action == KW_ESC_RAISE) {
        int idx = kw_policy_level_index(k->p, t->level);
        if (idx <= 0) /* levels are listed most severe first */
            return KW_OK;
        ch.level = kw_policy_level_id(k->p, (size_t)idx - 1);
        snprintf(reason, sizeof(reason), "escalation %s", e->id);
        ch.reason = reason;
    } else
        return KW_OK;
    struct kw_sla sla;
    kw_sla_init(&sla);
    /* kw_clocks_fire_cached projects the ticket once after its steps */
    struct kw_unit u = {.st = st, .clocks = c, .sla = &sla, .now = now, .project_later = true};
    const struct kw_actor system = KW_ACTOR_SYSTEM;
    enum kw_code rc = kw_ticket_change(&u, &system, t->id, &ch, err);
    kw_sla_release(&sla);
    if (rc == KW_INVALID || rc == KW_NOT_FOUND)
        return KW_OK;
    if (rc == KW_OK && ch.assignee_id)
        t->assignee_id = ch.assignee_id;
    if (rc == KW_OK && ch.team_id)
        t->team_id = ch.team_id;
    if (rc == KW_OK)
        *moved = true; /* an assignment: the runs' dimensions may follow */
    if (rc == KW_OK && ch.level) {
        step->attrs.v[KW_ATTR_LEVEL] = ch.level;
        snprintf(level_buf, 48, "%s", ch.level);
        t->level = level_buf;
        *changed = true;
    }
    return rc;
}

/* Take step i of chain e (due at `due`): act, record it, and notify. */
static enum kw_code take_step(struct kw_clocks *c, struct kw_store *st, struct kw_fire_cache *fc,
                              struct kw_ticket_row *t, char *level_buf, const struct kw_compiled *k,
                              const struct kw_escalation *e, int i, int64_t due, int64_t now,
                              bool *changed, bool *moved, struct kw_err *err)
{
    static const char *const actions[] = {"notify", "reassign", "raise_level"};
    const struct kw_escalation_step *s = &e->step[i];
    int64_t user = resolve(c, st, fc, t, s, now);
    struct kw_event_rec r = {.kind = KW_EVENT_ESCALATED,
                             .chain = e->id,
                             .step = i,
                             .action = actions[s->action],
                             .who = s->target,
                             .user_id = user,
                             .due_at = due};
    enum kw_code rc = step_change(c, st, t, level_buf, k, e, user, now, &r, changed, moved, err);
    /* the event encoded once: its text recorded, and in the notification */
    char *text = rc == KW_OK ? kw_fire_event_text(&r, err) : NULL;
    if (rc == KW_OK)
        rc = !text ? err->code
                   : kw_store_event_append(st, t->id, kw_event_kind_name(r.kind), text, 0, now,
                                           NULL, NULL, err);
    if (rc != KW_OK) {
        free(text);
        return rc;
    }
    /* tell the person (and the subscribed endpoints) */
    const char *name, *email;
    struct kw_buf b = {0};
    note_begin(&b, "escalation", t, false, text);
    free(text);
    if (user && person(fc, st, user, &name, &email)) {
        kw_buf_adds(&b, ",\"to\":{\"id\":");
        note_int(&b, user);
        note_str(&b, "name", name);
        note_str(&b, "email", email);
        kw_buf_adds(&b, "}");
    } else
        kw_buf_adds(&b, ",\"to\":null");
    char *payload = note_end(&b);
    char key[160];
    snprintf(key, sizeof(key), "t%lld-%s-step%d-%lld", (long long)t->id, e->id, i, (long long)due);
    rc = payload ? kw_store_outbox_add(st, "escalation", t->id, t->org_id, t->team_id, payload, key,
                                       now, err)
                 : kw_err_set(err, KW_NOMEM, "", "no memory for the notification");
    free(payload);
    return rc;
}

enum kw_code kw_clocks_fire(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                            int64_t ticket, int64_t now, int *fired, struct kw_err *err)
{
    return kw_clocks_fire_cached(c, st, scratch, NULL, ticket, now, fired, err);
}

enum kw_code kw_clocks_fire_cached(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                                   struct kw_fire_cache *fc, int64_t ticket, int64_t now,
                                   int *fired, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
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
    now = kw_clocks_live_at(&t, now); /* the clock may have stepped back behind its events */
    enum kw_code rc =
        kw_clocks_evaluate(c, st, scratch, ticket, t.commitment_id, now, NULL, &te, &k, err);
    struct due due[KW_POLICY_MAX_METRICS * (KW_POLICY_MAX_WARN + 1)];
    size_t n = 0;
    for (size_t i = 0; rc == KW_OK && i < scratch->n; i++) {
        const struct kw_clock *ck = &scratch->clock[i];
        int done = kw_clock_fired_pct(&te, kw_policy_metric_id(k->p, (size_t)ck->metric), ck), pct;
        int64_t at;
        /* every threshold whose second is over by now, in order: one
         * reached at now could still be undone by a stop stamped now */
        while ((at = kw_clock_next_threshold(ck, done, &pct)) != KW_NO_TIME && at < now) {
            due[n++] = (struct due){at, i, pct};
            done = pct;
        }
    }
    qsort(due, n, sizeof(due[0]), by_time);
    /* the KPI facts are written again only when a run may have changed
     * otherwise than by being measured later: a breach, a step that
     * changed the ticket (kw_clocks_store_fired) */
    bool moved = false;
    for (size_t i = 0; rc == KW_OK && i < n; i++) {
        const struct kw_clock *ck = &scratch->clock[due[i].clock];
        rc = fire_one(st, &t, k, ck, &due[i], now, err);
        moved |= due[i].pct >= 100;
        if (rc == KW_OK && due[i].pct >= 100) /* a breach opens an overrun record */
            rc = kw_store_overrun_add(
                st, t.id, t.org_id, t.commitment_id, kw_policy_metric_id(k->p, (size_t)ck->metric),
                ck->breached_at != KW_NO_TIME ? ck->breached_at : ck->deadline, now, err);
        if (rc == KW_OK && due[i].pct >= 100) { /* and may put the organisation on the watch list */
            bool flagged;
            rc = kw_watch_check(st, t.org_id, t.id, now, &flagged, err);
        }
        /* what was fired, as the events just written say, for the
         * projection below: the clocks themselves did not change */
        kw_ticket_events_fired(&te, NULL, kw_policy_metric_id(k->p, (size_t)ck->metric), due[i].pct,
                               now);
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
            int sn = kw_chain_next_step(k, e, &te, scratch, &at);
            if (sn >= 0 && at <= now && (!best || at < best_at)) {
                best = e;
                step = sn;
                best_at = at;
            }
        }
        if (!best)
            break;
        rc =
            take_step(c, st, fc, &t, level_buf, k, best, step, best_at, now, &changed, &moved, err);
        kw_ticket_events_step_done(&te, NULL, best->id, step);
        n++;
    }
    /* the wait for the customer's confirmation: the reminder, then the
     * timeout, each once its second is over (like a threshold) */
    struct kw_confirm_plan plan;
    bool reminded;
    while (rc == KW_OK && kw_loop_confirm_state(k, &te, &plan, &reminded)) {
        enum kw_confirm_due kind;
        int64_t at = kw_confirm_next(&plan, reminded, &kind);
        if (at >= now)
            break;
        if (kind == KW_CONFIRM_DUE_REMIND) {
            rc = kw_loop_remind(st, ticket, at, plan.deadline, now, err);
            te.reminded = true;
        } else {
            rc = kw_loop_timeout(st, ticket, at, plan.deadline, now, err);
            te.feedback_since = KW_NO_TIME;
            changed = true; /* archived and closed: the clocks follow */
        }
        n++;
    }
    if (rc == KW_OK && !changed)
        rc = moved ? kw_clocks_store_projection(st, ticket, false, k, scratch, &te, err)
                   : kw_clocks_store_fired(st, ticket, t.updated_at, k, scratch, &te, err);
    kw_ticket_events_release(&te);
    *fired = (int)n;
    if (rc == KW_OK && changed) /* the level moved: the clocks follow it */
        rc = kw_clocks_project(c, st, scratch, ticket, now, NULL, err);
    return rc;
}
