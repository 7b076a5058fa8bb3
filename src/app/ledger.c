// SPDX-License-Identifier: MIT
/* Contracts and the credit ledger (ledger.h). Every amount is computed
 * here once, from core/credit.c, and written as one hash-chained entry
 * whose body says how it was reached. */
#include "ledger.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "credit.h"
#include "watch.h"

static bool manager(const struct kw_actor *who)
{
    return who->role == KW_ROLE_ADMIN || who->role == KW_ROLE_MANAGER;
}

static enum kw_code managers_only(const struct kw_actor *who, const char *why, struct kw_err *err)
{
    return manager(who) ? KW_OK : kw_err_set(err, KW_FORBIDDEN, "", "%s", why);
}

/* ---- contracts ---- */

static bool org_seen(const struct kw_org *o, void *ctx)
{
    (void)o;
    *(bool *)ctx = true;
    return false;
}

static bool commitment_seen(const struct kw_commitment_row *c, void *ctx)
{
    int64_t *want = ctx;
    if (c->id == *want)
        *want = 0;
    return *want != 0;
}

static bool currency_ok(const char *s)
{
    if (!s || strlen(s) != 3)
        return false;
    for (size_t i = 0; i < 3; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    return true;
}

int64_t kw_months_after(int64_t base, int64_t months)
{
    int64_t day = kw_day_of(base), y;
    unsigned m, d;
    kw_civil_from_days(day, &y, &m, &d);
    int64_t mm = (int64_t)m - 1 + months;
    int64_t ny = y + (mm >= 0 ? mm / 12 : -((11 - mm) / 12));
    unsigned nm = (unsigned)(mm - (ny - y) * 12) + 1;
    unsigned last =
        (unsigned)(kw_days_from_civil(nm == 12 ? ny + 1 : ny, nm == 12 ? 1 : nm + 1, 1) -
                   kw_days_from_civil(ny, nm, 1));
    return kw_days_from_civil(ny, nm, d > last ? last : d) * 86400 + (base - day * 86400);
}

void kw_contract_period(const struct kw_contract *c, int64_t t, int64_t *from, int64_t *to)
{
    int64_t step = strcmp(c->billing, "annual") == 0 ? 12 : 1, k = 0;
    *from = c->period_start;
    *to = kw_months_after(c->period_start, step);
    while (*to <= t && *to < c->period_end) {
        k += step;
        *from = *to;
        *to = kw_months_after(c->period_start, k + step);
    }
    if (*to > c->period_end)
        *to = c->period_end;
}

int64_t kw_contract_deposit_required(const struct kw_contract *c)
{
    if (c->deposit_amount >= 0)
        return c->deposit_amount;
    return (c->value * c->deposit_percent * 2 + 100) / 200; /* half up */
}

/* ---- entries ---- */

struct found_contract {
    struct kw_contract c;
    char currency[8], billing[16];
    bool found;
};

static bool keep_contract(const struct kw_contract *c, void *ctx)
{
    struct found_contract *f = ctx;
    f->c = *c;
    snprintf(f->currency, sizeof(f->currency), "%s", c->currency);
    snprintf(f->billing, sizeof(f->billing), "%s", c->billing);
    f->c.currency = f->currency;
    f->c.billing = f->billing;
    f->found = true;
    return false;
}

struct contract_list {
    struct found_contract *v;
    size_t n, cap;
};

static bool collect_contract(const struct kw_contract *c, void *ctx)
{
    struct contract_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct found_contract *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    keep_contract(c, &l->v[l->n++]);
    return true;
}

static enum kw_code contract_get(struct kw_store *st, int64_t id, struct found_contract *f,
                                 const char *field, struct kw_err *err)
{
    f->found = false;
    enum kw_code rc = kw_store_contracts(st, id, 0, 0, 1, keep_contract, f, err);
    if (rc == KW_OK && !f->found)
        rc = kw_err_set(err, KW_NOT_FOUND, field, "no contract %lld", (long long)id);
    return rc;
}

/* Whether contract c's deposit balance is below what it requires, and the
 * balance. */
static enum kw_code deposit_short(struct kw_store *st, const struct kw_contract *c, bool *shortfall,
                                  int64_t *balance, struct kw_err *err)
{
    struct kw_ledger_sums s;
    enum kw_code rc = kw_store_ledger_sums(st, c->id, 0, INT64_MIN, INT64_MAX, &s, err);
    *balance = c->deposit_held - (rc == KW_OK ? s.from_deposit : 0);
    *shortfall = *balance < kw_contract_deposit_required(c);
    return rc;
}

/* When contract id's deposit has just fallen below what it requires (was
 * not short before: was_short false), queue a deposit_low notification for
 * the endpoints and people subscribed to it for the organisation. */
static enum kw_code deposit_alert(struct kw_store *st, int64_t id, bool was_short, int64_t now,
                                  struct kw_err *err)
{
    struct found_contract fc;
    bool shortfall;
    int64_t balance;
    enum kw_code rc = contract_get(st, id, &fc, "", err);
    if (rc == KW_OK)
        rc = deposit_short(st, &fc.c, &shortfall, &balance, err);
    if (rc != KW_OK || was_short || !shortfall)
        return rc;
    struct kw_org o;
    if ((rc = kw_store_org_get(st, fc.c.org_id, &o, err)) != KW_OK)
        return rc;
    json_t *n =
        json_pack("{s:s, s:{s:I, s:s, s:o}, s:{s:I, s:s, s:I, s:I, s:I}}", "kind", "deposit_low",
                  "org", "id", (json_int_t)o.id, "name", o.name, "account_manager_id",
                  o.account_manager_id ? json_integer(o.account_manager_id) : json_null(),
                  "contract", "id", (json_int_t)id, "currency", fc.c.currency, "deposit_held",
                  (json_int_t)fc.c.deposit_held, "deposit_balance", (json_int_t)balance,
                  "deposit_required", (json_int_t)kw_contract_deposit_required(&fc.c));
    char *payload = n ? json_dumps(n, JSON_COMPACT) : NULL;
    json_decref(n);
    if (!payload)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the deposit alert");
    char key[64];
    snprintf(key, sizeof(key), "deposit-%lld-%lld", (long long)id, (long long)now);
    rc = kw_store_outbox_add(st, "deposit_low", 0, fc.c.org_id, 0, payload, key, now, err);
    free(payload);
    return rc;
}

enum kw_code kw_contract_save(struct kw_unit *u, const struct kw_actor *who,
                              const struct kw_contract *c, int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = managers_only(who, "only admins and managers write contracts", err);
    if (rc != KW_OK)
        return rc;
    bool org = false;
    if ((rc = kw_store_orgs(u->st, c->org_id, 0, 1, org_seen, &org, err)) != KW_OK)
        return rc;
    if (!org)
        return kw_err_set(err, KW_NOT_FOUND, "/org_id", "org_id: no organisation %lld",
                          (long long)c->org_id);
    if (c->value <= 0)
        return kw_err_set(err, KW_INVALID, "/value",
                          "value: expected a whole number of minor units above 0");
    if (!currency_ok(c->currency))
        return kw_err_set(err, KW_INVALID, "/currency",
                          "currency: expected three capital letters (ISO 4217, e.g. CNY)");
    if (!c->billing || (strcmp(c->billing, "monthly") != 0 && strcmp(c->billing, "annual") != 0))
        return kw_err_set(err, KW_INVALID, "/billing", "billing: expected monthly or annual");
    if (c->period_end <= c->period_start)
        return kw_err_set(err, KW_INVALID, "/period_end", "period_end: must be after period_start");
    if ((c->deposit_percent >= 0) == (c->deposit_amount >= 0))
        return kw_err_set(err, KW_INVALID, "/deposit_required",
                          "deposit_required: expected exactly one of percent and amount");
    if (c->deposit_percent >= 0 && (c->deposit_percent < 1 || c->deposit_percent > 100))
        return kw_err_set(err, KW_INVALID, "/deposit_required/percent",
                          "deposit_required.percent: expected a whole number from 1 to 100");
    if (c->deposit_held < 0)
        return kw_err_set(err, KW_INVALID, "/deposit_held",
                          "deposit_held: expected a whole number of minor units, 0 or more");
    if (c->dual_above < 0)
        return kw_err_set(err, KW_INVALID, "/dual_approval_above",
                          "dual_approval_above: expected a whole number of minor units, 0 or more");
    if (c->commitment_id) {
        int64_t want = c->commitment_id;
        if ((rc = kw_store_commitments(u->st, commitment_seen, &want, err)) != KW_OK)
            return rc;
        if (want)
            return kw_err_set(err, KW_NOT_FOUND, "/commitment_id",
                              "commitment_id: no commitment %lld", (long long)c->commitment_id);
    }
    bool was_short = false;
    char *snap = NULL; /* the audit trail's before */
    if (c->id) {
        struct found_contract before;
        int64_t balance;
        if ((rc = contract_get(u->st, c->id, &before, "", err)) != KW_OK ||
            (rc = deposit_short(u->st, &before.c, &was_short, &balance, err)) != KW_OK ||
            (rc = kw_audit_before(u->st, "contract", c->id, NULL, &snap, err)) != KW_OK)
            return rc;
        *id = c->id;
        rc = kw_store_contract_update(u->st, c, u->now, err);
    } else
        rc = kw_store_contract_insert(u->st, c, u->now, id, err);
    if (rc == KW_OK)
        rc = kw_audit_after(u->st, who, u->now, "contract", *id, NULL, c->id ? "update" : "create",
                            snap, err);
    free(snap);
    return rc == KW_OK ? deposit_alert(u->st, *id, was_short, u->now, err) : rc;
}

/* Append e with body (taken) as its canonical text. */
static enum kw_code append(struct kw_store *st, struct kw_ledger_row *e, json_t *body, int64_t *id,
                           struct kw_err *err)
{
    json_object_set_new(body, "kind", json_string(e->kind));
    json_object_set_new(body, "contract_id", json_integer(e->contract_id));
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    if (!text)
        return kw_err_set(err, KW_NOMEM, "", "no memory for a ledger entry");
    e->body = text;
    int64_t dummy;
    enum kw_code rc = kw_store_ledger_append(st, e, id ? id : &dummy, err);
    free(text);
    return rc;
}

/* ---- accrual ---- */

/* A stopped late clock keeps its deadline as breached_at (sla.h). */
static int64_t deadline_of(const struct kw_clock *ck)
{
    return ck->deadline != KW_NO_TIME ? ck->deadline : ck->breached_at;
}

static bool take_contract_id(const struct kw_ledger_row *e, void *ctx)
{
    *(int64_t *)ctx = e->contract_id;
    return false;
}

struct overrun_pick {
    struct kw_overrun_row r;
    char metric[64], reason[32];
    bool found;
    int64_t deadline, alt;
};

static bool pick_overrun(const struct kw_overrun_row *r, void *ctx)
{
    struct overrun_pick *p = ctx;
    if (p->deadline != KW_STORE_NO_TIME && r->deadline != p->deadline && r->deadline != p->alt)
        return true;
    p->r = *r;
    snprintf(p->metric, sizeof(p->metric), "%s", r->metric);
    snprintf(p->reason, sizeof(p->reason), "%s", r->reason ? r->reason : "");
    p->r.metric = p->metric;
    p->r.reason = r->reason ? p->reason : NULL;
    p->r.note = p->r.rca = p->r.action = NULL;
    p->found = true;
    return false;
}

/* What an overrun's entries come to so far: credit and remedy quantity. */
struct so_far {
    int64_t amount, quantity;
    size_t n;
    bool stopped;      /* an entry made when the late clock stopped (not at a period close) */
    int64_t closed_to; /* the latest period close an entry measured it to (0: none) */
};

static bool add_so_far(const struct kw_ledger_row *e, void *ctx)
{
    struct so_far *s = ctx;
    s->n++;
    if (!strstr(e->body, "\"period_close\""))
        s->stopped = true;
    else if (strcmp(e->kind, "accrual") == 0 && e->at + 1 > s->closed_to)
        s->closed_to = e->at + 1; /* at the period's last second */
    if (strcmp(e->kind, "accrual") == 0 || strcmp(e->kind, "adjustment") == 0)
        s->amount += e->amount;
    if (strcmp(e->kind, "remedy") == 0)
        s->quantity += e->quantity;
    return true;
}

static enum kw_code overrun_so_far(struct kw_store *st, int64_t overrun, struct so_far *s,
                                   struct kw_err *err)
{
    *s = (struct so_far){0};
    struct kw_ledger_filter f = {
        .overrun_id = overrun, .from = KW_STORE_NO_TIME, .to = KW_STORE_NO_TIME, .limit = SIZE_MAX};
    return kw_store_ledger(st, &f, add_so_far, s, err);
}

/* What run owes under contract c with reason, not counting `own` already
 * accrued for it against the caps. */
static enum kw_code owed(struct kw_store *st, const struct kw_compiled *k,
                         const struct kw_sla_run *run, int64_t ticket, const char *reason,
                         const struct kw_contract *c, int64_t own, int64_t when,
                         struct kw_credit_out *out, struct kw_err *err)
{
    const struct kw_clock *ck = &run->clock;
    int64_t from, to;
    kw_contract_period(c, when, &from, &to); /* the period whose cap counts */
    struct kw_ledger_sums tk, pd;
    enum kw_code rc = kw_store_ledger_sums(st, c->id, ticket, INT64_MIN, INT64_MAX, &tk, err);
    if (rc == KW_OK)
        rc = kw_store_ledger_sums(st, c->id, 0, from, to, &pd, err);
    if (rc != KW_OK)
        return rc;
    struct kw_credit_in in = {
        .metric = ck->metric,
        .attrs = &run->attrs,
        .overrun_wall = run->stopped_at - deadline_of(ck),
        .overrun_working = ck->elapsed > ck->target ? ck->elapsed - ck->target : 0,
        .reason = reason,
        .contract_value = c->value,
        .ticket_accrued = tk.credits - own,
        .period_accrued = pd.credits - own,
    };
    kw_credit_compute(k->p, &in, out);
    return KW_OK;
}

const char *kw_ledger_note_text(const char *note, bool zh)
{
    /* the notes the desk writes itself, in each language; an entry keeps
     * the English one in its hashed body */
    static const struct {
        const char *en, *zh;
    } ours[] = {{KW_LEDGER_NOTE_REASON_CHANGED, "超时原因已变更"}};
    for (size_t k = 0; note && k < sizeof(ours) / sizeof(ours[0]); k++)
        if (strcmp(note, ours[k].en) == 0)
            return zh ? ours[k].zh : ours[k].en;
    return note; /* a person's words stay as typed */
}

static const char *status_name(enum kw_credit_status s)
{
    static const char *const names[] = {"no_rule", "not_late", "excluded",
                                        "owed",    "capped",   "remedy"};
    return names[s];
}

/* The entry (accrual, adjustment or remedy) that brings overrun o from
 * what it has so far to what out says. */
enum why {
    AT_STOP,
    AT_CLOSE,
    REASON_CHANGED,     /* of a run that stopped */
    REASON_CHANGED_OPEN /* of a run still open, accrued at a period close (run->stopped_at) */
};
static enum kw_code settle_up(struct kw_store *st, const struct kw_overrun_row *o,
                              const struct kw_contract *c, const struct kw_sla_run *run,
                              const struct kw_credit_out *out, const struct so_far *sf,
                              enum why why, int64_t actor, int64_t now, struct kw_err *err)
{
    /* the first entry at the stop is written even when it owes 0 (excluded),
     * so that a later reason change finds it; others only for a difference */
    bool first = why == AT_STOP && !sf->stopped;
    struct kw_ledger_row e = {.org_id = o->org_id,
                              .contract_id = c->id,
                              .ticket_id = o->ticket_id,
                              .overrun_id = o->id,
                              .actor = actor,
                              .at = now};
    json_t *b =
        json_pack("{s:I, s:I, s:s, s:s, s:o}", "ticket_id", (json_int_t)o->ticket_id, "overrun_id",
                  (json_int_t)o->id, "metric", o->metric, "status", status_name(out->status),
                  "reason", o->reason ? json_string(o->reason) : json_null());
    if (!b)
        return kw_err_set(err, KW_NOMEM, "", "no memory for a ledger entry");
    json_object_set_new(b, "late_wall_seconds",
                        json_integer(run->stopped_at - deadline_of(&run->clock)));
    json_object_set_new(b, "late_working_seconds",
                        json_integer(run->clock.elapsed > run->clock.target
                                         ? run->clock.elapsed - run->clock.target
                                         : 0));
    if (out->rule >= 0)
        json_object_set_new(b, "rule", json_integer(out->rule));
    if (out->status == KW_CREDIT_REMEDY || sf->quantity != 0) {
        int64_t want = out->status == KW_CREDIT_REMEDY ? out->quantity : 0;
        if (want == sf->quantity && !first) {
            json_decref(b);
            return KW_OK;
        }
        e.kind = "remedy";
        e.quantity = want - sf->quantity;
        if (out->item)
            json_object_set_new(b, "item",
                                json_pack("{s:s, s:s}", "zh", out->item->zh, "en", out->item->en));
        if (out->unit)
            json_object_set_new(b, "unit",
                                json_pack("{s:s, s:s}", "zh", out->unit->zh, "en", out->unit->en));
        json_object_set_new(b, "quantity", json_integer(e.quantity));
    } else {
        if (!first && out->amount == sf->amount) {
            json_decref(b);
            return KW_OK;
        }
        bool changed = why == REASON_CHANGED || why == REASON_CHANGED_OPEN;
        e.kind = changed ? "adjustment" : "accrual";
        e.amount = out->amount - sf->amount;
        json_object_set_new(b, "hours", json_integer(out->hours));
        json_object_set_new(b, "raw", json_integer(out->raw));
        json_object_set_new(b, "owed", json_integer(out->amount));
        json_object_set_new(b, "amount", json_integer(e.amount));
        if (changed)
            json_object_set_new(b, "note", json_string(KW_LEDGER_NOTE_REASON_CHANGED));
    }
    /* measured to a period's end: AT_CLOSE's entry is at its last second;
     * a reason changed on a run still open restates that close, and marks
     * so that the accrual at the stop still comes (add_so_far) */
    if (why == AT_CLOSE || why == REASON_CHANGED_OPEN) {
        char end[KW_INSTANT_BUF];
        kw_instant_format_utc(why == AT_CLOSE ? now + 1 : run->stopped_at, end);
        json_object_set_new(b, "period_close", json_string(end));
    }
    return append(st, &e, b, NULL, err);
}

static const struct kw_sla_run *run_of(const struct kw_compiled *k, const struct kw_sla *s,
                                       const struct kw_overrun_row *o)
{
    for (size_t i = 0; i < s->n_runs; i++) {
        const struct kw_sla_run *r = &s->runs[i];
        if (r->stopped_at != KW_NO_TIME && r->clock.status == KW_CLOCK_MET_LATE &&
            strcmp(kw_policy_metric_id(k->p, (size_t)r->clock.metric), o->metric) == 0 &&
            deadline_of(&r->clock) == o->deadline)
            return r;
    }
    return NULL;
}

enum kw_code kw_ledger_accrue(struct kw_store *st, int64_t ticket, const struct kw_compiled *k,
                              const struct kw_sla *s, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!kw_policy_comp_count(k->p))
        return KW_OK;
    for (size_t i = 0; i < s->n_runs; i++) {
        const struct kw_sla_run *r = &s->runs[i];
        if (r->stopped_at == KW_NO_TIME || r->clock.status != KW_CLOCK_MET_LATE)
            continue;
        struct overrun_pick p = {.deadline = deadline_of(&r->clock), .alt = r->clock.breached_at};
        struct kw_overrun_filter f = {.ticket_id = ticket,
                                      .metric = kw_policy_metric_id(k->p, (size_t)r->clock.metric),
                                      .limit = 64};
        enum kw_code rc = kw_store_overruns(st, &f, pick_overrun, &p, err);
        if (rc != KW_OK)
            return rc;
        if (!p.found)
            continue; /* the engine has not opened its record yet: accrued when it does */
        struct so_far sf;
        if ((rc = overrun_so_far(st, p.r.id, &sf, err)) != KW_OK)
            return rc;
        if (sf.stopped)
            continue; /* accrued at the stop once; a changed reason adjusts it */
        int64_t cid;
        if ((rc = kw_store_contract_at(st, p.r.org_id, r->stopped_at, &cid, err)) != KW_OK)
            return rc;
        if (!cid)
            continue;
        struct found_contract fc;
        if ((rc = contract_get(st, cid, &fc, "", err)) != KW_OK)
            return rc;
        struct kw_credit_out out;
        if ((rc = owed(st, k, r, ticket, p.r.reason, &fc.c, sf.amount, r->stopped_at, &out, err)) !=
            KW_OK)
            return rc;
        if (out.status == KW_CREDIT_NO_RULE || out.status == KW_CREDIT_NOT_LATE)
            continue;
        if ((rc = settle_up(st, &p.r, &fc.c, r, &out, &sf, AT_STOP, 0, r->stopped_at, err)) !=
            KW_OK)
            return rc;
    }
    return KW_OK;
}

static enum kw_code measure_to(struct kw_unit *u, const struct kw_contract *c,
                               const struct kw_overrun_row *o, int64_t to, enum why why,
                               int64_t actor, int64_t *entries, struct kw_err *err);

enum kw_code kw_ledger_reason_changed(struct kw_unit *u, const struct kw_actor *who,
                                      int64_t overrun, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct overrun_pick p = {.deadline = KW_STORE_NO_TIME};
    struct kw_overrun_filter f = {.id = overrun, .limit = 1};
    enum kw_code rc = kw_store_overruns(u->st, &f, pick_overrun, &p, err);
    if (rc != KW_OK || !p.found)
        return rc;
    struct so_far sf;
    if ((rc = overrun_so_far(u->st, overrun, &sf, err)) != KW_OK || (!sf.stopped && !sf.closed_to))
        return rc; /* nothing accrued yet: the accrual at the stop will see the reason */
    struct kw_ledger_filter lf = {
        .overrun_id = overrun, .from = KW_STORE_NO_TIME, .to = KW_STORE_NO_TIME, .limit = 1};
    int64_t contract_id = 0;
    if ((rc = kw_store_ledger(u->st, &lf, take_contract_id, &contract_id, err)) != KW_OK)
        return rc;
    struct found_contract fc;
    if ((rc = contract_get(u->st, contract_id, &fc, "", err)) != KW_OK)
        return rc;
    if (!sf.stopped) { /* still open, accrued at a period close: restate that */
        int64_t n = 0;
        return measure_to(u, &fc.c, &p.r, sf.closed_to, REASON_CHANGED_OPEN, who->id, &n, err);
    }
    struct kw_ticket_row t;
    if ((rc = kw_store_ticket_get(u->st, p.r.ticket_id, &t, err)) != KW_OK)
        return rc;
    int64_t commitment = t.commitment_id;
    if (!commitment)
        return KW_OK;
    struct kw_ticket_events te = {0};
    const struct kw_compiled *k = NULL;
    rc = kw_clocks_evaluate(u->clocks, u->st, u->sla, p.r.ticket_id, commitment,
                            kw_clocks_live_at(&t, u->now), NULL, &te, &k, err);
    const struct kw_sla_run *run = rc == KW_OK ? run_of(k, u->sla, &p.r) : NULL;
    struct kw_credit_out out;
    if (run)
        rc = owed(u->st, k, run, p.r.ticket_id, p.r.reason, &fc.c, sf.amount, run->stopped_at, &out,
                  err);
    if (run && rc == KW_OK)
        rc = settle_up(u->st, &p.r, &fc.c, run, &out, &sf, REASON_CHANGED, who->id, u->now, err);
    kw_ticket_events_release(&te);
    return rc;
}

/* ---- adjustments, 双签, claims and settlements ---- */

static enum kw_code adjustment(struct kw_store *st, const struct kw_contract *c, int64_t amount,
                               const char *reason, int64_t ticket, int64_t by, int64_t approved_by,
                               int64_t now, int64_t *entry, struct kw_err *err)
{
    struct kw_ledger_row e = {.org_id = c->org_id,
                              .contract_id = c->id,
                              .kind = "adjustment",
                              .amount = amount,
                              .ticket_id = ticket,
                              .actor = by,
                              .approved_by = approved_by,
                              .at = now};
    json_t *b = json_pack("{s:I, s:s}", "amount", (json_int_t)amount, "note", reason);
    if (b && ticket)
        json_object_set_new(b, "ticket_id", json_integer(ticket));
    if (b && approved_by)
        json_object_set_new(b, "approved_by", json_integer(approved_by));
    if (!b)
        return kw_err_set(err, KW_NOMEM, "", "no memory for a ledger entry");
    return append(st, &e, b, entry, err);
}

static bool ticket_of_org(struct kw_store *st, int64_t ticket, int64_t org)
{
    struct kw_ticket_row t;
    return kw_store_ticket_get(st, ticket, &t, NULL) == KW_OK && t.org_id == org;
}

enum kw_code kw_ledger_adjust(struct kw_unit *u, const struct kw_actor *who, int64_t contract,
                              int64_t amount, const char *reason, int64_t ticket, int64_t *entry,
                              int64_t *request, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *entry = *request = 0;
    enum kw_code rc = managers_only(who, "only admins and managers adjust credits", err);
    if (rc != KW_OK)
        return rc;
    struct found_contract fc;
    if ((rc = contract_get(u->st, contract, &fc, "", err)) != KW_OK)
        return rc;
    if (amount == 0 || amount < -1000000000000000 || amount > 1000000000000000)
        return kw_err_set(err, KW_INVALID, "/amount",
                          "amount: expected a whole number of minor units other than 0");
    if (!reason || !*reason)
        return kw_err_set(err, KW_INVALID, "/reason", "reason: missing (say why it is adjusted)");
    if (ticket && !ticket_of_org(u->st, ticket, fc.c.org_id))
        return kw_err_set(err, KW_NOT_FOUND, "/ticket_id",
                          "ticket_id: no ticket %lld of the contract's organisation",
                          (long long)ticket);
    if ((amount < 0 ? -amount : amount) <= fc.c.dual_above)
        return adjustment(u->st, &fc.c, amount, reason, ticket, who->id, 0, u->now, entry, err);
    struct kw_ledger_request r = {.contract_id = contract,
                                  .amount = amount,
                                  .reason = reason,
                                  .ticket_id = ticket,
                                  .requested_by = who->id,
                                  .requested_at = u->now};
    return kw_store_ledger_request_add(u->st, &r, request, err);
}

struct request_pick {
    struct kw_ledger_request r;
    char reason[4096];
    bool found;
};

static bool pick_request(const struct kw_ledger_request *r, void *ctx)
{
    struct request_pick *p = ctx;
    p->r = *r;
    snprintf(p->reason, sizeof(p->reason), "%s", r->reason);
    p->r.reason = p->reason;
    p->found = true;
    return false;
}

enum kw_code kw_ledger_decide(struct kw_unit *u, const struct kw_actor *who, int64_t request,
                              bool approve, int64_t *entry, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *entry = 0;
    enum kw_code rc = managers_only(who, "only admins and managers approve adjustments", err);
    if (rc != KW_OK)
        return rc;
    struct request_pick *p = calloc(1, sizeof(*p));
    if (!p)
        return kw_err_set(err, KW_NOMEM, "", "no memory");
    rc = kw_store_ledger_requests(u->st, request, 0, false, pick_request, p, err);
    if (rc == KW_OK && !p->found)
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no adjustment request %lld", (long long)request);
    if (rc == KW_OK && p->r.decided_at != KW_STORE_NO_TIME)
        rc = kw_err_set(err, KW_CONFLICT, "", "adjustment request %lld was decided already",
                        (long long)request);
    if (rc == KW_OK && p->r.requested_by == who->id)
        rc = kw_err_set(err, KW_FORBIDDEN, "",
                        "a second manager approves: the one who asked cannot (双签)");
    struct found_contract fc;
    if (rc == KW_OK)
        rc = contract_get(u->st, p->r.contract_id, &fc, "", err);
    if (rc == KW_OK && approve)
        rc = adjustment(u->st, &fc.c, p->r.amount, p->r.reason, p->r.ticket_id, p->r.requested_by,
                        who->id, u->now, entry, err);
    if (rc == KW_OK)
        rc = kw_store_ledger_request_decide(u->st, request, who->id, approve, *entry, u->now, err);
    free(p);
    return rc;
}

/* What is owed under c and not yet claimed / settled. */
static enum kw_code open_amounts(struct kw_store *st, const struct kw_contract *c,
                                 struct kw_ledger_sums *s, struct kw_err *err)
{
    return kw_store_ledger_sums(st, c->id, 0, INT64_MIN, INT64_MAX, s, err);
}

enum kw_code kw_ledger_claim(struct kw_unit *u, const struct kw_actor *who, int64_t contract,
                             int64_t amount, const char *note, int64_t *entry, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct found_contract fc;
    enum kw_code rc = contract_get(u->st, contract, &fc, "", err);
    if (rc != KW_OK)
        return rc;
    if (kw_actor_customer(who) ? who->org_id != fc.c.org_id : !manager(who))
        return kw_actor_customer(who)
                   ? kw_err_set(err, KW_NOT_FOUND, "", "no contract %lld", (long long)contract)
                   : kw_err_set(err, KW_FORBIDDEN, "",
                                "the customer claims, or a manager on their behalf");
    struct kw_ledger_sums s;
    if ((rc = open_amounts(u->st, &fc.c, &s, err)) != KW_OK)
        return rc;
    int64_t open = s.credits - s.claimed;
    if (amount <= 0 || amount > open)
        return kw_err_set(err, KW_INVALID, "/amount",
                          "amount: expected a whole number of minor units from 1 to %lld "
                          "(owed and not yet claimed)",
                          (long long)(open > 0 ? open : 0));
    struct kw_ledger_row e = {.org_id = fc.c.org_id,
                              .contract_id = contract,
                              .kind = "claim",
                              .amount = amount,
                              .actor = who->id,
                              .at = u->now};
    json_t *b = json_pack("{s:I}", "amount", (json_int_t)amount);
    if (b && note)
        json_object_set_new(b, "note", json_string(note));
    if (!b)
        return kw_err_set(err, KW_NOMEM, "", "no memory for a ledger entry");
    return append(u->st, &e, b, entry, err);
}

enum kw_code kw_ledger_settle(struct kw_unit *u, const struct kw_actor *who, int64_t contract,
                              int64_t amount, const char *against, const char *ref, int64_t *entry,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = managers_only(who, "only admins and managers settle credits", err);
    if (rc != KW_OK)
        return rc;
    struct found_contract fc;
    if ((rc = contract_get(u->st, contract, &fc, "", err)) != KW_OK)
        return rc;
    bool deposit = against && strcmp(against, "deposit") == 0;
    if (!against || (!deposit && strcmp(against, "invoice") != 0))
        return kw_err_set(err, KW_INVALID, "/against", "against: expected invoice or deposit");
    if (!deposit && (!ref || !*ref))
        return kw_err_set(err, KW_INVALID, "/invoice", "invoice: missing (the invoice's number)");
    struct kw_ledger_sums s;
    if ((rc = open_amounts(u->st, &fc.c, &s, err)) != KW_OK)
        return rc;
    int64_t open = s.credits - s.settled;
    if (amount <= 0 || amount > open)
        return kw_err_set(err, KW_INVALID, "/amount",
                          "amount: expected a whole number of minor units from 1 to %lld "
                          "(owed and not yet settled)",
                          (long long)(open > 0 ? open : 0));
    if (deposit && amount > fc.c.deposit_held - s.from_deposit)
        return kw_err_set(err, KW_INVALID, "/amount",
                          "amount: the deposit holds %lld (minor units); settle the rest "
                          "against an invoice",
                          (long long)(fc.c.deposit_held - s.from_deposit));
    struct kw_ledger_row e = {.org_id = fc.c.org_id,
                              .contract_id = contract,
                              .kind = "settlement",
                              .against = deposit ? "deposit" : "invoice",
                              .amount = amount,
                              .actor = who->id,
                              .at = u->now};
    json_t *b = json_pack("{s:I, s:s}", "amount", (json_int_t)amount, "against", e.against);
    if (b && ref && *ref)
        json_object_set_new(b, "invoice", json_string(ref));
    if (!b)
        return kw_err_set(err, KW_NOMEM, "", "no memory for a ledger entry");
    bool was_short;
    int64_t balance;
    if ((rc = deposit_short(u->st, &fc.c, &was_short, &balance, err)) != KW_OK) {
        json_decref(b);
        return rc;
    }
    if ((rc = append(u->st, &e, b, entry, err)) != KW_OK)
        return rc;
    return deposit ? deposit_alert(u->st, contract, was_short, u->now, err) : KW_OK;
}

/* ---- a billing period closed with runs still breached ---- */

struct close_ctx {
    struct kw_unit *u;
    int64_t day, entries, runs;
    struct kw_err *err;
    enum kw_code rc;
};

struct open_overruns {
    struct kw_overrun_row *r;
    size_t n, cap;
    char (*metric)[64];
    char (*reason)[32];
};

static bool collect_open(const struct kw_overrun_row *r, void *ctx)
{
    struct open_overruns *o = ctx;
    if (r->stopped_at != KW_STORE_NO_TIME)
        return true;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct kw_overrun_row *nr = realloc(o->r, cap * sizeof(*nr));
        char(*nm)[64] = nr ? realloc(o->metric, cap * sizeof(*nm)) : NULL;
        char(*ns)[32] = nm ? realloc(o->reason, cap * sizeof(*ns)) : NULL;
        if (nr)
            o->r = nr;
        if (nm)
            o->metric = nm;
        if (ns)
            o->reason = ns;
        if (!ns)
            return false;
        o->cap = cap;
    }
    o->r[o->n] = *r;
    snprintf(o->metric[o->n], 64, "%s", r->metric);
    snprintf(o->reason[o->n], 32, "%s", r->reason ? r->reason : "");
    o->n++;
    return true;
}

/* Accrue overrun o (open at to) as if it stopped at to: at a period's
 * close (AT_CLOSE, at its last second, by Keepword), or again when its
 * reason changed while it is still open (REASON_CHANGED_OPEN, by actor at
 * u->now, an adjustment). */
static enum kw_code measure_to(struct kw_unit *u, const struct kw_contract *c,
                               const struct kw_overrun_row *o, int64_t to, enum why why,
                               int64_t actor, int64_t *entries, struct kw_err *err)
{
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(u->st, o->ticket_id, &t, err);
    if (rc != KW_OK || !t.commitment_id)
        return rc;
    struct kw_ticket_events te = {0};
    const struct kw_compiled *k = NULL;
    rc = kw_clocks_evaluate(u->clocks, u->st, u->sla, o->ticket_id, t.commitment_id, to, NULL, &te,
                            &k, err);
    const struct kw_sla_run *run = NULL;
    for (size_t i = 0; rc == KW_OK && i < u->sla->n_runs; i++) {
        const struct kw_sla_run *r = &u->sla->runs[i];
        if (r->stopped_at == KW_NO_TIME && r->clock.status == KW_CLOCK_BREACHED &&
            strcmp(kw_policy_metric_id(k->p, (size_t)r->clock.metric), o->metric) == 0 &&
            deadline_of(&r->clock) == o->deadline)
            run = r;
    }
    struct so_far sf;
    if (run && rc == KW_OK)
        rc = overrun_so_far(u->st, o->id, &sf, err);
    if (run && rc == KW_OK && !sf.stopped) {
        int64_t when = why == AT_CLOSE ? to - 1 : u->now;
        struct kw_sla_run at_close = *run;
        at_close.stopped_at = to; /* measured to the period's end */
        struct kw_credit_out out;
        rc = owed(u->st, k, &at_close, o->ticket_id, o->reason, c, sf.amount, to - 1, &out, err);
        if (rc == KW_OK && out.status != KW_CREDIT_NO_RULE && out.status != KW_CREDIT_NOT_LATE &&
            (out.status == KW_CREDIT_REMEDY ? out.quantity != sf.quantity
                                            : out.amount != sf.amount)) {
            /* a close's at the period's last second, so that it counts in
             * that period; a changed reason's when it changed */
            rc = settle_up(u->st, o, c, &at_close, &out, &sf, why, actor, when, err);
            *entries += rc == KW_OK;
        }
    }
    kw_ticket_events_release(&te);
    return rc;
}

/* Close contract c's billing period ending at to: each overrun of its
 * organisation still open with a deadline before to accrues to then. */
static enum kw_code close_contract(struct kw_unit *u, const struct kw_contract *c, int64_t to,
                                   int64_t *entries, struct kw_err *err)
{
    struct open_overruns o = {0};
    struct kw_overrun_filter f = {.org_id = c->org_id, .limit = SIZE_MAX};
    enum kw_code rc = kw_store_overruns(u->st, &f, collect_open, &o, err);
    for (size_t j = 0; rc == KW_OK && j < o.n; j++) {
        o.r[j].metric = o.metric[j];
        o.r[j].reason = o.reason[j][0] ? o.reason[j] : NULL;
        o.r[j].note = o.r[j].rca = o.r[j].action = NULL;
        if (o.r[j].deadline < to)
            rc = measure_to(u, c, &o.r[j], to, AT_CLOSE, 0, entries, err);
    }
    free(o.r);
    free(o.metric);
    free(o.reason);
    return rc;
}

enum kw_code kw_ledger_close(struct kw_unit *u, int64_t day, int64_t *entries, int64_t *contracts,
                             struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *entries = *contracts = 0;
    struct contract_list l = {0};
    int64_t open_until = 0;
    enum kw_code rc = kw_store_contracts(u->st, 0, 0, 0, SIZE_MAX, collect_contract, &l, err);
    for (size_t i = 0; rc == KW_OK && i < l.n; i++) {
        struct kw_contract *c = &l.v[i].c;
        c->currency = l.v[i].currency;
        c->billing = l.v[i].billing;
        int64_t t = day * 86400, from, to;
        if (t < c->period_start || t >= c->period_end)
            continue;
        kw_contract_period(c, t, &from, &to);
        if (to > u->now) { /* not ended yet: closed another time */
            open_until = open_until && open_until < to ? open_until : to;
            continue;
        }
        ++*contracts;
        int64_t before = *entries;
        bool first = false;
        rc = close_contract(u, c, to, entries, err);
        /* recorded, so that the engine does not close it again (closing
         * twice writes nothing anyway) */
        if (rc == KW_OK)
            rc = kw_store_period_close_add(u->st, c->id, to, u->now, "keepword credits close",
                                           *entries - before, &first, err);
    }
    free(l.v);
    if (rc == KW_OK && !*contracts && open_until) {
        char end[KW_INSTANT_BUF];
        kw_instant_format_utc(open_until, end);
        return kw_err_set(err, KW_INVALID, "/period",
                          "that billing period has not ended (it ends %s, after now): close a "
                          "period once it has ended",
                          end);
    }
    return rc;
}

enum kw_code kw_ledger_close_due(struct kw_unit *u, const char *by, size_t limit, int64_t *periods,
                                 int64_t *entries, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *periods = *entries = 0;
    struct contract_list l = {0};
    enum kw_code rc = kw_store_contracts(u->st, 0, 0, 0, SIZE_MAX, collect_contract, &l, err);
    for (size_t i = 0; rc == KW_OK && i < l.n && (size_t)*periods < limit; i++) {
        struct kw_contract *c = &l.v[i].c;
        c->currency = l.v[i].currency;
        c->billing = l.v[i].billing;
        int64_t last;
        rc = kw_store_period_close_last(u->st, c->id, &last, err);
        /* the period after the last one closed, or the contract's first */
        int64_t t = rc == KW_OK && last != KW_STORE_NO_TIME && last > c->period_start
                        ? last
                        : c->period_start;
        while (rc == KW_OK && t < c->period_end && (size_t)*periods < limit) {
            int64_t from, to;
            kw_contract_period(c, t, &from, &to);
            if (to > u->now || to <= t)
                break;
            /* the key first: whoever records the period's close closes it */
            bool first = false;
            int64_t before = *entries;
            rc = kw_store_period_close_add(u->st, c->id, to, u->now, by, 0, &first, err);
            if (rc == KW_OK && first) {
                rc = close_contract(u, c, to, entries, err);
                if (rc == KW_OK)
                    rc = kw_store_period_close_count(u->st, c->id, to, *entries - before, err);
                ++*periods;
            }
            t = to;
        }
    }
    free(l.v);
    return rc;
}
