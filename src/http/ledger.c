// SPDX-License-Identifier: MIT
/* /api/v1/contracts: an organisation's contracts and their credit ledger
 * (docs/policy.md "Contracts", "The credit ledger"). Staff read every
 * contract, customers their own organisation's (another's is 404); admins
 * and managers write contracts, adjust (above the contract's
 * dual_approval_above a second manager approves: 双签) and settle; a
 * customer claims what is owed. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "internal.h"
#include "watch.h"
#include "kw_buf.h"
#include "ledger.h"
#include "render.h"

struct totals {
    struct kw_ledger_sums s;
    bool ok;
};

static json_t *contract_json(const struct kw_contract *c, const struct kw_ledger_sums *s)
{
    json_t *dep = c->deposit_percent >= 0
                      ? json_pack("{s:I}", "percent", (json_int_t)c->deposit_percent)
                      : json_pack("{s:I}", "amount", (json_int_t)c->deposit_amount);
    int64_t required = kw_contract_deposit_required(c);
    int64_t balance = c->deposit_held - s->from_deposit;
    return json_pack(
        "{s:I, s:I, s:I, s:s, s:o, s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:b, s:I, s:o, s:o, s:o}",
        "id", (json_int_t)c->id, "org_id", (json_int_t)c->org_id, "value", (json_int_t)c->value,
        "currency", c->currency, "period_start", kwh_instant_json(c->period_start), "period_end",
        kwh_instant_json(c->period_end), "billing", c->billing, "commitment_id",
        kwh_id_or_null(c->commitment_id), "deposit_required", dep, "deposit_required_amount",
        (json_int_t)required, "deposit_held", (json_int_t)c->deposit_held, "deposit_balance",
        (json_int_t)balance, "deposit_short", balance < required, "dual_approval_above",
        (json_int_t)c->dual_above, "balance",
        json_pack("{s:I, s:I, s:I, s:I}", "credits", (json_int_t)s->credits, "claimed",
                  (json_int_t)s->claimed, "settled", (json_int_t)s->settled, "owed",
                  (json_int_t)(s->credits - s->settled)),
        "created_at", kwh_instant_json(c->created_at), "updated_at",
        kwh_instant_json(c->updated_at));
}

struct listing {
    struct kwh_page pg;
    struct kw_store *st;
    struct kw_err err;
    bool failed;
};

static bool contract_add(const struct kw_contract *c, void *ctx)
{
    struct listing *l = ctx;
    if (!kwh_page_room(&l->pg))
        return false;
    struct kw_ledger_sums s;
    /* the sums use another statement than the listing's */
    if (kw_store_ledger_sums(l->st, c->id, 0, INT64_MIN, INT64_MAX, &s, &l->err) != KW_OK) {
        l->failed = true;
        return false;
    }
    return kwh_page_push(&l->pg, c->id, contract_json(c, &s));
}

/* Contract id (0: the list) as the caller may see it. */
static struct kwh_reply contracts(struct kwh_call *x, int64_t id)
{
    struct kwh_reply out;
    long long after = 0, org = 0;
    struct listing l = {.st = x->wk->st};
    if (!kwh_query_int(x, "org_id", 1, INT64_MAX, &org, &out))
        return out;
    if (id)
        kwh_page_init(&l.pg, 1);
    else if (!kwh_page_query(x, &l.pg, &after, &out))
        return out;
    if (x->me.customer) {
        if (org && org != x->me.org_id) {
            kwh_page_release(&l.pg);
            return kwh_problem_of(KW_FORBIDDEN, "", "org_id: customers see their own contracts");
        }
        org = x->me.org_id;
    }
    if (kw_store_contracts(x->wk->st, id, org, after, l.pg.limit + 1, contract_add, &l, &l.err) !=
            KW_OK ||
        l.failed) {
        kwh_page_release(&l.pg);
        return kwh_problem(&l.err);
    }
    if (!id)
        return kwh_ok(200, kwh_page_json(&l.pg, "contracts"));
    if (!json_array_size(l.pg.items)) {
        kwh_page_release(&l.pg);
        return kwh_problem_of(KW_NOT_FOUND, "", "no such contract");
    }
    out = kwh_ok(200, json_incref(json_array_get(l.pg.items, 0)));
    kwh_page_release(&l.pg);
    return out;
}

struct kwh_reply kwh_contracts_list(struct kwh_call *x)
{
    return contracts(x, 0);
}

struct kwh_reply kwh_contract_get(struct kwh_call *x)
{
    return contracts(x, x->arg.id);
}

/* ---- writing a contract ---- */

#define UNSET INT64_MIN
struct contract_unit {
    struct kw_actor who;
    int64_t now, id;
    struct kw_contract c; /* fields UNSET / NULL: as they are (PATCH) */
    bool has_deposit;
    int64_t dep_percent, dep_amount;
};

static bool keep(const struct kw_contract *c, void *ctx)
{
    struct kw_contract *into = ctx;
    /* billing is one of two words, kept as literals; the currency is
     * copied by the caller (the row lives during the callback only) */
    *into = (struct kw_contract){
        .id = c->id,
        .org_id = c->org_id,
        .commitment_id = into->commitment_id == UNSET ? c->commitment_id : into->commitment_id,
        .value = into->value == UNSET ? c->value : into->value,
        .currency = into->currency,
        .billing = into->billing ? into->billing
                                 : (strcmp(c->billing, "annual") == 0 ? "annual" : "monthly"),
        .period_start = into->period_start == UNSET ? c->period_start : into->period_start,
        .period_end = into->period_end == UNSET ? c->period_end : into->period_end,
        .deposit_percent = c->deposit_percent,
        .deposit_amount = c->deposit_amount,
        .deposit_held = into->deposit_held == UNSET ? c->deposit_held : into->deposit_held,
        .dual_above = into->dual_above == UNSET ? c->dual_above : into->dual_above,
    };
    return false;
}

struct currency_copy {
    char cur[8];
    bool found;
};

static bool keep_currency(const struct kw_contract *c, void *ctx)
{
    struct currency_copy *k = ctx;
    snprintf(k->cur, sizeof(k->cur), "%s", c->currency);
    k->found = true;
    return false;
}

static enum kw_code contract_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct contract_unit *cu = ctx;
    struct kw_unit u = {.st = st, .now = cu->now};
    struct kw_contract c = cu->c;
    struct currency_copy cc = {.found = false};
    if (cu->id) {
        enum kw_code rc = kw_store_contracts(st, cu->id, 0, 0, 1, keep_currency, &cc, err);
        if (rc != KW_OK)
            return rc;
        if (!cc.found)
            return kw_err_set(err, KW_NOT_FOUND, "", "no such contract");
        c.org_id = 0;
        if ((rc = kw_store_contracts(st, cu->id, 0, 0, 1, keep, &c, err)) != KW_OK)
            return rc;
        if (!c.currency)
            c.currency = cc.cur;
    } else {
        if (c.value == UNSET)
            return kw_err_set(err, KW_INVALID, "/value", "value: missing");
        if (c.period_start == UNSET)
            return kw_err_set(err, KW_INVALID, "/period_start", "period_start: missing");
        if (c.period_end == UNSET)
            return kw_err_set(err, KW_INVALID, "/period_end", "period_end: missing");
        if (c.commitment_id == UNSET)
            c.commitment_id = 0;
        if (c.deposit_held == UNSET)
            c.deposit_held = 0;
        if (c.dual_above == UNSET)
            c.dual_above = 100000;
        if (!cu->has_deposit)
            return kw_err_set(err, KW_INVALID, "/deposit_required", "deposit_required: missing");
    }
    if (cu->has_deposit) {
        c.deposit_percent = cu->dep_percent;
        c.deposit_amount = cu->dep_amount;
    }
    return kw_contract_save(&u, &cu->who, &c, &cu->id, err);
}

#define CU(m) offsetof(struct contract_unit, m)
static const struct kwh_field deposit_fields[] = {
    {.name = "percent", .type = KWH_INT, .lo = 1, .hi = 100, .offset = CU(dep_percent)},
    {.name = "amount", .type = KWH_INT, .lo = 0, .hi = 1000000000000000, .offset = CU(dep_amount)},
};
static const struct kwh_field contract_fields[] = {
    {.name = "org_id", .type = KWH_ID, .offset = CU(c.org_id)},
    {.name = "value", .type = KWH_INT, .lo = 1, .hi = 1000000000000000, .offset = CU(c.value)},
    {.name = "currency",
     .type = KWH_STR,
     .max = 3,
     .offset = CU(c.currency),
     .expect = "expected three capital letters (ISO 4217, e.g. CNY)"},
    {.name = "period_start", .type = KWH_TIME, .offset = CU(c.period_start)},
    {.name = "period_end", .type = KWH_TIME, .offset = CU(c.period_end)},
    {.name = "billing", .type = KWH_STR, .max = 16, .offset = CU(c.billing)},
    {.name = "commitment_id", .type = KWH_ID, .nullable = true, .offset = CU(c.commitment_id)},
    {.name = "deposit_required",
     .type = KWH_OBJ,
     .offset = CU(has_deposit),
     .sub = deposit_fields,
     .nsub = KWH_NFIELDS(deposit_fields)},
    {.name = "deposit_held",
     .type = KWH_INT,
     .lo = 0,
     .hi = 1000000000000000,
     .offset = CU(c.deposit_held)},
    {.name = "dual_approval_above",
     .type = KWH_INT,
     .lo = 0,
     .hi = 1000000000000000,
     .offset = CU(c.dual_above)},
};
#undef CU

static struct kwh_reply contract_write(struct kwh_call *x, int64_t id)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct contract_unit cu = {
        .who = kwh_actor(x),
        .now = x->now,
        .id = id,
        .c = {.commitment_id = UNSET,
              .value = UNSET,
              .period_start = UNSET,
              .period_end = UNSET,
              .deposit_held = UNSET,
              .dual_above = UNSET},
        .dep_percent = -1,
        .dep_amount = -1,
    };
    bool ok = kwh_decode(j, contract_fields, KWH_NFIELDS(contract_fields), &cu, &out);
    if (ok && id && json_object_get(j, "org_id"))
        ok = (out = kwh_problem_of(KW_INVALID, "/org_id",
                                   "org_id: a contract stays with its organisation"),
              false);
    if (ok && !id && !cu.c.org_id)
        ok = (out = kwh_problem_of(KW_INVALID, "/org_id", "org_id: missing"), false);
    if (ok && cu.c.commitment_id == -1)
        cu.c.commitment_id = 0;
    if (ok && kwh_write_unit(x, contract_unit, &cu, &out)) {
        out = contracts(x, cu.id);
        if (!id && out.status == 200)
            out.status = 201;
    }
    json_decref(j);
    return out;
}

struct kwh_reply kwh_contracts_create(struct kwh_call *x)
{
    return contract_write(x, 0);
}

struct kwh_reply kwh_contract_patch(struct kwh_call *x)
{
    return contract_write(x, x->arg.id);
}

/* ---- the ledger ---- */

static bool entry_add(const struct kw_ledger_row *e, void *ctx)
{
    struct kwh_page *pg = ctx;
    if (!kwh_page_room(pg))
        return false;
    char hash[2 * KW_HASH_BYTES + 1];
    kwh_hex(e->hash, KW_HASH_BYTES, hash);
    json_t *body = json_loads(e->body, 0, NULL);
    json_t *j =
        json_pack("{s:I, s:I, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o}", "id",
                  (json_int_t)e->id, "seq", (json_int_t)e->seq, "kind", e->kind, "amount",
                  (json_int_t)e->amount, "quantity", (json_int_t)e->quantity, "against",
                  kwh_nullable(e->against), "ticket_id", kwh_id_or_null(e->ticket_id), "overrun_id",
                  kwh_id_or_null(e->overrun_id), "actor", kwh_id_or_null(e->actor), "approved_by",
                  kwh_id_or_null(e->approved_by), "at", kwh_instant_json(e->at), "hash", hash,
                  "body", body ? body : json_null());
    return kwh_page_push(pg, e->id, j);
}

/* Whether the caller may see contract id: 404 for another organisation's
 * (a customer) and for none. */
static bool org_of(const struct kw_contract *c, void *ctx)
{
    *(int64_t *)ctx = c->org_id;
    return false;
}

static bool contract_visible(struct kwh_call *x, int64_t id, struct kwh_reply *fail)
{
    int64_t org = 0;
    struct kw_err err = {0};
    if (kw_store_contracts(x->wk->st, id, 0, 0, 1, org_of, &org, &err) != KW_OK) {
        *fail = kwh_problem(&err);
        return false;
    }
    if (!org || (x->me.customer && org != x->me.org_id)) {
        *fail = kwh_problem_of(KW_NOT_FOUND, "", "no such contract");
        return false;
    }
    return true;
}

struct kwh_reply kwh_contract_ledger(struct kwh_call *x)
{
    struct kwh_reply out;
    long long after = 0;
    if (!contract_visible(x, x->arg.id, &out))
        return out;
    struct kwh_page pg;
    if (!kwh_page_query(x, &pg, &after, &out))
        return out;
    struct kw_ledger_filter f = {.contract_id = x->arg.id,
                                 .after = after,
                                 .from = KW_STORE_NO_TIME,
                                 .to = KW_STORE_NO_TIME,
                                 .limit = pg.limit + 1};
    struct kw_err err = {0};
    if (kw_store_ledger(x->wk->st, &f, entry_add, &pg, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    return kwh_ok(200, kwh_page_json(&pg, "entries"));
}

/* The check of the contract's ledger chain (the organisation's: one chain
 * per organisation) from its first entry: 200 either way, "ok" false with
 * the first entry that does not match its hash. */
struct kwh_reply kwh_contract_ledger_verify(struct kwh_call *x)
{
    struct kwh_reply out;
    if (!contract_visible(x, x->arg.id, &out))
        return out;
    int64_t org = 0;
    struct kw_err err = {0};
    if (kw_store_contracts(x->wk->st, x->arg.id, 0, 0, 1, org_of, &org, &err) != KW_OK)
        return kwh_problem(&err);
    struct kw_ledger_check chk = {0};
    enum kw_code rc = kw_store_ledger_verify(x->wk->st, org, &chk, &err);
    if (rc != KW_OK && rc != KW_CONFLICT)
        return kwh_problem(&err);
    char head[2 * KW_HASH_BYTES + 1];
    kwh_hex(chk.head, KW_HASH_BYTES, head);
    json_t *j =
        json_pack("{s:I, s:I, s:b, s:I, s:s, s:o, s:o}", "contract_id", (json_int_t)x->arg.id,
                  "org_id", (json_int_t)org, "ok", rc == KW_OK, "entries", (json_int_t)chk.entries,
                  "head", head, "problem", rc == KW_OK ? json_null() : json_string(err.msg),
                  "checked_at", kwh_instant_json(x->now));
    return j ? kwh_ok(200, j) : kwh_problem_of(KW_NOMEM, "", "no memory for the check");
}

/* ---- adjustments, approvals, claims, settlements ---- */

struct money_unit {
    struct kw_actor who;
    struct kw_clocks *clocks;
    struct kw_sla *sla;
    int64_t now, contract, amount, ticket, entry, request;
    const char *reason, *against, *invoice;
    bool approve, has_approve;
    enum { M_ADJUST, M_DECIDE, M_CLAIM, M_SETTLE } what;
};

static enum kw_code money_write(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct money_unit *m = ctx;
    struct kw_unit u = {.st = st, .clocks = m->clocks, .sla = m->sla, .now = m->now};
    switch (m->what) {
    case M_ADJUST:
        return kw_ledger_adjust(&u, &m->who, m->contract, m->amount, m->reason, m->ticket,
                                &m->entry, &m->request, err);
    case M_DECIDE:
        return kw_ledger_decide(&u, &m->who, m->request, m->approve, &m->entry, err);
    case M_CLAIM:
        return kw_ledger_claim(&u, &m->who, m->contract, m->amount, m->reason, &m->entry, err);
    case M_SETTLE:
        return kw_ledger_settle(&u, &m->who, m->contract, m->amount, m->against, m->invoice,
                                &m->entry, err);
    }
    return KW_INVALID;
}

/* Each credit write is also an audit entry ("credit", on the contract; a
 * decision on the request's contract): what was asked and what came of it. */
static enum kw_code money_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    static const char *const actions[] = {"adjust", "decide", "claim", "settle"};
    struct money_unit *m = ctx;
    enum kw_code rc = money_write(st, m, err);
    if (rc != KW_OK)
        return rc;
    json_t *a = json_pack("{s:o, s:o, s:o}", "entry_id", kwh_id_or_null(m->entry), "request_id",
                          kwh_id_or_null(m->request), "amount",
                          m->what == M_DECIDE ? json_null() : json_integer(m->amount));
    if (a && m->reason)
        json_object_set_new(a, m->what == M_CLAIM ? "note" : "reason", json_string(m->reason));
    if (a && m->against)
        json_object_set_new(a, "against", json_string(m->against));
    if (a && m->invoice)
        json_object_set_new(a, "invoice", json_string(m->invoice));
    if (a && m->what == M_DECIDE)
        json_object_set_new(a, "approved", json_boolean(m->approve));
    char *after = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!after)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the audit entry");
    rc = kw_audit(st, &m->who, m->now, "credit", m->what == M_DECIDE ? 0 : m->contract,
                  actions[m->what], NULL, after, err);
    free(after);
    return rc;
}

#define MU(m) offsetof(struct money_unit, m)
#define AMOUNT_MAX 1000000000000000LL
static const struct kwh_field adjust_fields[] = {
    {.name = "amount",
     .type = KWH_INT,
     .required = true,
     .lo = -AMOUNT_MAX,
     .hi = AMOUNT_MAX,
     .offset = MU(amount)},
    {.name = "reason", .type = KWH_STR, .required = true, .max = 2000, .offset = MU(reason)},
    {.name = "ticket_id", .type = KWH_ID, .offset = MU(ticket)},
};
static const struct kwh_field decide_fields[] = {
    {.name = "approve", .type = KWH_BOOL, .offset = MU(approve)},
};
static const struct kwh_field claim_fields[] = {
    {.name = "amount",
     .type = KWH_INT,
     .required = true,
     .lo = 1,
     .hi = AMOUNT_MAX,
     .offset = MU(amount)},
    {.name = "note", .type = KWH_STR, .max = 2000, .offset = MU(reason)},
};
static const struct kwh_field settle_fields[] = {
    {.name = "amount",
     .type = KWH_INT,
     .required = true,
     .lo = 1,
     .hi = AMOUNT_MAX,
     .offset = MU(amount)},
    {.name = "against",
     .type = KWH_STR,
     .required = true,
     .max = 16,
     .offset = MU(against),
     .expect = "expected invoice or deposit"},
    {.name = "invoice", .type = KWH_STR, .max = 100, .offset = MU(invoice)},
};
#undef MU

static struct kwh_reply money(struct kwh_call *x, struct money_unit *m, const struct kwh_field *f,
                              size_t n)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    m->who = kwh_actor(x);
    m->now = x->now;
    m->clocks = x->h->clocks;
    m->sla = &x->h->wsla;
    bool ok = kwh_decode(j, f, n, m, &out);
    if (ok && m->what == M_DECIDE && !json_is_boolean(json_object_get(j, "approve")))
        ok = (out = kwh_problem_of(KW_INVALID, "/approve", "approve: missing (true or false)"),
              false);
    if (ok && kwh_write_unit(x, money_unit, m, &out)) {
        if (m->entry)
            out = kwh_ok(
                m->what == M_DECIDE ? 200 : 201,
                json_pack("{s:s, s:I}", "status", "recorded", "entry_id", (json_int_t)m->entry));
        else
            out = kwh_ok(m->what == M_DECIDE ? 200 : 202,
                         m->what == M_DECIDE
                             ? json_pack("{s:s}", "status", "refused")
                             : json_pack("{s:s, s:I}", "status", "awaiting_second_manager",
                                         "request_id", (json_int_t)m->request));
    }
    json_decref(j);
    return out;
}

struct kwh_reply kwh_contract_adjust(struct kwh_call *x)
{
    struct money_unit m = {.what = M_ADJUST, .contract = x->arg.id};
    return money(x, &m, adjust_fields, KWH_NFIELDS(adjust_fields));
}

struct kwh_reply kwh_contract_claim(struct kwh_call *x)
{
    struct kwh_reply out;
    if (!contract_visible(x, x->arg.id, &out))
        return out;
    struct money_unit m = {.what = M_CLAIM, .contract = x->arg.id};
    return money(x, &m, claim_fields, KWH_NFIELDS(claim_fields));
}

struct kwh_reply kwh_contract_settle(struct kwh_call *x)
{
    struct money_unit m = {.what = M_SETTLE, .contract = x->arg.id};
    return money(x, &m, settle_fields, KWH_NFIELDS(settle_fields));
}

struct kwh_reply kwh_adjustment_decide(struct kwh_call *x)
{
    struct money_unit m = {.what = M_DECIDE, .request = x->arg.id};
    return money(x, &m, decide_fields, KWH_NFIELDS(decide_fields));
}

static bool request_add(const struct kw_ledger_request *r, void *ctx)
{
    json_array_append_new(
        ctx, json_pack("{s:I, s:I, s:I, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "id",
                       (json_int_t)r->id, "contract_id", (json_int_t)r->contract_id, "amount",
                       (json_int_t)r->amount, "reason", r->reason, "ticket_id",
                       kwh_id_or_null(r->ticket_id), "requested_by", (json_int_t)r->requested_by,
                       "requested_at", kwh_instant_json(r->requested_at), "decided_by",
                       kwh_id_or_null(r->decided_by), "decided_at", kwh_instant_json(r->decided_at),
                       "approved", r->approved < 0 ? json_null() : json_boolean(r->approved),
                       "entry_id", kwh_id_or_null(r->entry_id)));
    return true;
}

struct kwh_reply kwh_adjustments_list(struct kwh_call *x)
{
    long long contract = 0;
    struct kwh_reply out;
    if (!kwh_query_int(x, "contract_id", 1, INT64_MAX, &contract, &out))
        return out;
    const char *state = kwh_query(x, "state");
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "all") != 0)
        return kwh_problem_of(KW_INVALID, "", "state: expected pending or all");
    bool pending = !state || strcmp(state, "pending") == 0;
    json_t *items = json_array();
    struct kw_err err = {0};
    if (kw_store_ledger_requests(x->wk->st, 0, contract, pending, request_add, items, &err) !=
        KW_OK) {
        json_decref(items);
        return kwh_problem(&err);
    }
    return kwh_ok(200, json_pack("{s:o}", "adjustments", items));
}

/* ---- the statement of a billing period ---- */

/* A CSV field (RFC 4180): quoted, quotes doubled; a leading =, +, - or @
 * gets a ' so that a spreadsheet does not run it as a formula. */
static void csv(struct kw_buf *b, const char *s)
{
    kw_buf_adds(b, "\"");
    if (s &&
        (*s == '=' || *s == '+' || *s == '@' || (*s == '-' && s[1] && (s[1] < '0' || s[1] > '9'))))
        kw_buf_adds(b, "'");
    for (; s && *s; s++)
        kw_buf_adds(b, *s == '"' ? "\"\"" : (char[]){*s, 0});
    kw_buf_adds(b, "\"");
}

struct statement {
    json_t *entries;
    struct kw_ledger_sums in;
};

static bool statement_add(const struct kw_ledger_row *e, void *ctx)
{
    struct statement *s = ctx;
    if (strcmp(e->kind, "accrual") == 0 || strcmp(e->kind, "adjustment") == 0)
        s->in.credits += e->amount;
    else if (strcmp(e->kind, "claim") == 0)
        s->in.claimed += e->amount;
    else if (strcmp(e->kind, "settlement") == 0) {
        s->in.settled += e->amount;
        if (e->against && strcmp(e->against, "deposit") == 0)
            s->in.from_deposit += e->amount;
    }
    struct kwh_page pg = {.items = s->entries, .limit = SIZE_MAX};
    return entry_add(e, &pg);
}

/* Each entry on an overrun gets the loss recorded on it ("loss", minor
 * units, or null) and its accident level ("accident_level": major,
 * serious, general or null; docs/policy.md "Accident levels"). */
static enum kw_code accident_levels(struct kw_store *st, json_t *entries, struct kw_err *err)
{
    struct kw_watch_settings ws;
    enum kw_code rc = kw_store_watch_settings(st, &ws, err);
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        if (rc != KW_OK)
            break;
        json_t *ov = json_object_get(e, "overrun_id");
        int64_t loss = -1;
        if (json_is_integer(ov))
            rc = kw_store_overrun_loss_get(st, json_integer_value(ov), &loss, err);
        const char *level = kw_accident_level(&ws, loss);
        json_object_set_new(e, "loss", loss >= 0 ? json_integer(loss) : json_null());
        json_object_set_new(e, "accident_level", level ? json_string(level) : json_null());
    }
    return rc;
}

/* "1,234.56" of minor units (two decimals; the currency beside it). */
static void money_text(char *buf, size_t cap, int64_t minor)
{
    uint64_t a = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    snprintf(buf, cap, "%s%llu.%02llu", minor < 0 ? "-" : "", (unsigned long long)(a / 100),
             (unsigned long long)(a % 100));
}

static struct kwh_reply statement_csv(json_t *st, bool zh)
{
    struct kw_buf b = {0};
    const char *cur = json_string_value(json_object_get(st, "currency"));
    kw_buf_adds(&b, "seq,at,kind,amount_minor,currency,quantity,against,ticket_id,overrun_id,"
                    "actor,approved_by,detail,hash,loss_minor,accident_level\r\n");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(st, "entries"), i, e)
    {
        json_t *body = json_object_get(e, "body");
        const char *note =
            kw_ledger_note_text(json_string_value(json_object_get(body, "note")), zh);
        const char *inv = json_string_value(json_object_get(body, "invoice"));
        const char *status = json_string_value(json_object_get(body, "status"));
        kw_buf_printf(&b, "%lld,%s,%s,%lld,%s,%lld,",
                      (long long)json_integer_value(json_object_get(e, "seq")),
                      json_string_value(json_object_get(e, "at")),
                      json_string_value(json_object_get(e, "kind")),
                      (long long)json_integer_value(json_object_get(e, "amount")), cur,
                      (long long)json_integer_value(json_object_get(e, "quantity")));
        kw_buf_adds(&b, json_string_value(json_object_get(e, "against"))
                            ? json_string_value(json_object_get(e, "against"))
                            : "");
        static const char *const ids[] = {"ticket_id", "overrun_id", "actor", "approved_by"};
        for (size_t k = 0; k < 4; k++) {
            json_t *v = json_object_get(e, ids[k]);
            if (json_is_integer(v))
                kw_buf_printf(&b, ",%lld", (long long)json_integer_value(v));
            else
                kw_buf_adds(&b, ",");
        }
        kw_buf_adds(&b, ",");
        csv(&b, note ? note : inv ? inv : status ? status : "");
        kw_buf_printf(&b, ",%s,", json_string_value(json_object_get(e, "hash")));
        if (json_is_integer(json_object_get(e, "loss")))
            kw_buf_printf(&b, "%lld", (long long)json_integer_value(json_object_get(e, "loss")));
        const char *level = json_string_value(json_object_get(e, "accident_level"));
        kw_buf_printf(&b, ",%s\r\n", level ? level : "");
    }
    if (b.failed || !b.p) {
        kw_buf_release(&b);
        return kwh_problem_of(KW_NOMEM, "", "no memory for the statement");
    }
    struct kwh_reply r = kwh_ok_text("text/csv; charset=utf-8", b.p);
    return r;
}

/* An entry's kind in the statement's language. */
static const char *kind_word(const char *kind, bool zh)
{
    static const struct {
        const char *id, *cn;
    } kinds[] = {{"accrual", "计提"},
                 {"adjustment", "调整"},
                 {"claim", "索赔"},
                 {"settlement", "结算"},
                 {"remedy", "补偿项目"}};
    for (size_t k = 0; zh && kind && k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (strcmp(kinds[k].id, kind) == 0)
            return kinds[k].cn;
    return kind ? kind : "";
}

/* An entry's accident level and the loss it is for ("major accident
 * (loss 600000.00 CNY)"), or "" when it has none. */
static void level_text(json_t *e, const char *cur, bool zh, char *buf, size_t cap)
{
    static const struct {
        const char *id, *en, *cn;
    } levels[] = {{"major", "major accident", "重大事故"},
                  {"serious", "serious accident", "严重事故"},
                  {"general", "general accident", "一般事故"}};
    const char *level = json_string_value(json_object_get(e, "accident_level"));
    buf[0] = 0;
    for (size_t k = 0; level && k < sizeof(levels) / sizeof(levels[0]); k++)
        if (strcmp(levels[k].id, level) == 0) {
            char m[48];
            money_text(m, sizeof(m), json_integer_value(json_object_get(e, "loss")));
            snprintf(buf, cap, "%s (%s %s %s)", zh ? levels[k].cn : levels[k].en,
                     zh ? "损失" : "loss", m, cur ? cur : "");
        }
}

/* An entry's amount ("-12.50 CNY") or a remedy's quantity ("× 2"). */
static void amount_text(json_t *e, const char *cur, char *buf, size_t cap)
{
    if (strcmp(json_string_value(json_object_get(e, "kind")), "remedy") == 0) {
        snprintf(buf, cap, "× %lld", (long long)json_integer_value(json_object_get(e, "quantity")));
        return;
    }
    char m[48];
    money_text(m, sizeof(m), json_integer_value(json_object_get(e, "amount")));
    snprintf(buf, cap, "%s %s", m, cur ? cur : "");
}

/* What an entry is about: a remedy's item, a note, an invoice. */
static void detail_text(json_t *e, bool zh, char *buf, size_t cap)
{
    json_t *body = json_object_get(e, "body");
    const char *item =
        json_string_value(json_object_get(json_object_get(body, "item"), zh ? "zh" : "en"));
    const char *note = kw_ledger_note_text(json_string_value(json_object_get(body, "note")), zh);
    const char *inv = json_string_value(json_object_get(body, "invoice"));
    snprintf(buf, cap, "%s%s%s%s%s", item ? item : "", item && note ? " " : "", note ? note : "",
             (item || note) && inv ? " " : "", inv ? inv : "");
}

/* The statement's summary lines: label and where the figure is. */
static const struct {
    const char *en, *cn, *part, *key;
} summary[] = {
    {"Period from (UTC)", "周期开始（UTC）", "period", "from"},
    {"to (exclusive)", "周期结束（不含）", "period", "to"},
    {"Credits owed before", "期初应赔付", "opening", "credits"},
    {"Credits in the period", "本期应赔付", "in_period", "credits"},
    {"Claimed in the period", "本期索赔", "in_period", "claimed"},
    {"Settled in the period", "本期结算", "in_period", "settled"},
    {"Still owed at the end", "期末尚欠", "closing", "owed"},
    {"Deposit balance at the end", "期末保证金余额", "closing", "deposit_balance"},
    {"Deposit required", "应缴保证金", "closing", "deposit_required"},
};

static void summary_text(json_t *st, size_t i, char *buf, size_t cap)
{
    json_t *v = json_object_get(json_object_get(st, summary[i].part), summary[i].key);
    if (json_is_integer(v)) {
        char m[48];
        money_text(m, sizeof(m), json_integer_value(v));
        snprintf(buf, cap, "%s %s", m, json_string_value(json_object_get(st, "currency")));
    } else {
        snprintf(buf, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
    }
}

static struct kwh_reply statement_html(json_t *st, const char *org, bool zh)
{
    struct kw_buf b = {0};
#define L(en, cn) (zh ? (cn) : (en))
    const char *cur = json_string_value(json_object_get(st, "currency"));
    kw_buf_printf(&b,
                  "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width\">"
                  "<link rel=\"stylesheet\" href=\"/assets/app.css\"><title>%s</title></head>"
                  "<body class=\"receipt\"><main><h1>%s: ",
                  zh ? "zh-CN" : "en", L("Credit statement", "赔付对账单"),
                  L("Credit statement", "赔付对账单"));
    kw_buf_html(&b, org);
    kw_buf_adds(&b, "</h1><dl>");
    char m[256];
    for (size_t i = 0; i < sizeof(summary) / sizeof(summary[0]); i++) {
        kw_buf_printf(&b, "<dt>%s</dt><dd>", L(summary[i].en, summary[i].cn));
        summary_text(st, i, m, sizeof(m));
        kw_buf_html(&b, m);
        kw_buf_adds(&b, "</dd>");
    }
    kw_buf_printf(&b,
                  "</dl><table><thead><tr><th>#</th><th>%s</th><th>%s</th><th>%s</th>"
                  "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
                  L("At (UTC)", "时间（UTC）"), L("Entry", "类型"), L("Amount", "金额"),
                  L("Ticket", "工单"), L("Accident level", "事故等级"), L("Detail", "说明"),
                  L("Hash", "哈希"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(st, "entries"), i, e)
    {
        kw_buf_printf(&b, "<tr><td>%lld</td><td>",
                      (long long)json_integer_value(json_object_get(e, "seq")));
        kw_buf_html(&b, json_string_value(json_object_get(e, "at")));
        kw_buf_printf(&b, "</td><td>%s</td><td class=\"num\">",
                      kind_word(json_string_value(json_object_get(e, "kind")), zh));
        amount_text(e, cur, m, sizeof(m));
        kw_buf_html(&b, m);
        kw_buf_adds(&b, "</td><td>");
        if (json_is_integer(json_object_get(e, "ticket_id")))
            kw_buf_printf(&b, "#%lld",
                          (long long)json_integer_value(json_object_get(e, "ticket_id")));
        kw_buf_adds(&b, "</td><td>");
        level_text(e, cur, zh, m, sizeof(m));
        kw_buf_html(&b, m);
        kw_buf_adds(&b, "</td><td>");
        char detail[4200];
        detail_text(e, zh, detail, sizeof(detail));
        kw_buf_html(&b, detail);
        kw_buf_adds(&b, "</td><td><code>");
        char h12[13];
        snprintf(h12, sizeof(h12), "%s", json_string_value(json_object_get(e, "hash")));
        kw_buf_html(&b, h12);
        kw_buf_adds(&b, "…</code></td></tr>");
    }
    kw_buf_adds(&b, "</tbody></table></main></body></html>\n");
#undef L
    if (b.failed || !b.p) {
        kw_buf_release(&b);
        return kwh_problem_of(KW_NOMEM, "", "no memory for the statement");
    }
    return kwh_ok_text("text/html; charset=utf-8", b.p);
}

/* The statement as A4 PDF pages drawn like the service report
 * (report/render.h): the summary, then one line per entry with its
 * accident level. */
static struct kwh_reply statement_pdf(json_t *st, const char *org, bool zh, int64_t contract)
{
#define L(en, cn) (zh ? (cn) : (en))
    const char *cur = json_string_value(json_object_get(st, "currency"));
    json_t *entries = json_object_get(st, "entries");
    size_t ns = sizeof(summary) / sizeof(summary[0]), ne = json_array_size(entries);
    enum { COLS = 7, W = 128 };
    char(*text)[W] = calloc(2 * ns + COLS * ne + 1, W);
    const char **cells = calloc(2 * ns + COLS * ne + 1, sizeof(*cells));
    struct kw_buf out = {0};
    struct kw_err err = {0};
    struct kwh_reply rep;
    if (!text || !cells) {
        rep = kwh_problem_of(KW_NOMEM, "", "no memory for the statement");
        goto out;
    }
    for (size_t i = 0; i < ns; i++) {
        cells[2 * i] = L(summary[i].en, summary[i].cn);
        summary_text(st, i, text[2 * i + 1], W);
        cells[2 * i + 1] = text[2 * i + 1];
    }
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        size_t at = 2 * ns + COLS * i;
        snprintf(text[at], W, "%lld", (long long)json_integer_value(json_object_get(e, "seq")));
        snprintf(text[at + 1], W, "%s", json_string_value(json_object_get(e, "at")));
        snprintf(text[at + 2], W, "%s",
                 kind_word(json_string_value(json_object_get(e, "kind")), zh));
        amount_text(e, cur, text[at + 3], W);
        if (json_is_integer(json_object_get(e, "ticket_id")))
            snprintf(text[at + 4], W, "#%lld",
                     (long long)json_integer_value(json_object_get(e, "ticket_id")));
        level_text(e, cur, zh, text[at + 5], W);
        detail_text(e, zh, text[at + 6], W);
        for (size_t c = 0; c < COLS; c++)
            cells[at + c] = text[at + c]; /* none: blank (a "—" would align right) */
    }
    const struct kw_doc_table tables[] = {
        {.title = L("Summary", "汇总"),
         .ncols = 2,
         .nrows = ns,
         .cols = {L("Item", "项目"), L("Amount", "金额")},
         .right = 1u << 1,
         .cells = cells},
        {.title = L("Entries in the period", "本期明细"),
         .ncols = COLS,
         .nrows = ne,
         .cols = {"#", L("At (UTC)", "时间（UTC）"), L("Entry", "类型"), L("Amount", "金额"),
                  L("Ticket", "工单"), L("Accident level", "事故等级"), L("Detail", "说明")},
         .right = 1u << 3,
         .cells = cells + 2 * ns},
    };
    char title[256], sub[256];
    snprintf(title, sizeof(title), "%s: %s", L("Credit statement", "赔付对账单"), org);
    snprintf(sub, sizeof(sub), "%s #%lld · %s %s – %s (UTC) · %s", L("Contract", "合同"),
             (long long)contract, L("period", "周期"),
             json_string_value(json_object_get(json_object_get(st, "period"), "from")),
             json_string_value(json_object_get(json_object_get(st, "period"), "to")), cur);
    if (kw_doc_pdf(title, sub, tables, 2, &out, &err) != KW_OK) {
        kw_buf_release(&out);
        rep = kwh_problem(&err);
        goto out;
    }
    rep = (struct kwh_reply){.status = 200, .text = out.p, .text_len = out.len};
    snprintf(rep.file_type, sizeof(rep.file_type), "application/pdf");
    char day[11] = "";
    snprintf(day, sizeof(day), "%s",
             json_string_value(json_object_get(json_object_get(st, "period"), "from")));
    if ((rep.disposition = malloc(96)))
        snprintf(rep.disposition, 96, "attachment; filename=\"statement-%lld-%s-%s.pdf\"",
                 (long long)contract, day, zh ? "zh" : "en");
out:
    free(text);
    free(cells);
    return rep;
#undef L
}

struct kwh_reply kwh_contract_statement(struct kwh_call *x)
{
    struct kwh_reply out;
    const char *format = kwh_query(x, "format"), *lang = kwh_query(x, "lang");
    const char *at = kwh_query(x, "at");
    if (format && strcmp(format, "json") != 0 && strcmp(format, "html") != 0 &&
        strcmp(format, "csv") != 0 && strcmp(format, "pdf") != 0)
        return kwh_problemf(KW_INVALID, "/format", "format is json, html, csv or pdf, not '%.40s'",
                            format);
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kwh_problemf(KW_INVALID, "/lang", "lang is zh or en, not '%.40s'", lang);
    int64_t day = kw_day_of(x->now);
    struct kw_err err = {0};
    if (at && kw_date_parse(at, strlen(at), &day, &err) != KW_OK)
        return kwh_problemf(KW_INVALID, "/at", "at: expected a date YYYY-MM-DD, not '%.40s'", at);
    if (!contract_visible(x, x->arg.id, &out))
        return out;
    struct kw_contract c = {.commitment_id = UNSET,
                            .value = UNSET,
                            .period_start = UNSET,
                            .period_end = UNSET,
                            .deposit_held = UNSET,
                            .dual_above = UNSET};
    struct currency_copy cc = {.found = false};
    if (kw_store_contracts(x->wk->st, x->arg.id, 0, 0, 1, keep_currency, &cc, &err) != KW_OK ||
        kw_store_contracts(x->wk->st, x->arg.id, 0, 0, 1, keep, &c, &err) != KW_OK)
        return kwh_problem(&err);
    c.currency = cc.cur;
    int64_t t = day * 86400, from, to;
    if (t < c.period_start || t >= c.period_end)
        return kwh_problem_of(KW_INVALID, "/at",
                              "at: a day within the contract (period_start to period_end)");
    kw_contract_period(&c, t, &from, &to);
    /* the opening balance: every entry before from */
    struct statement open = {.entries = json_array()}, in = {.entries = json_array()};
    struct kw_ledger_filter f = {
        .contract_id = c.id, .from = KW_STORE_NO_TIME, .to = from, .limit = SIZE_MAX};
    enum kw_code rc = kw_store_ledger(x->wk->st, &f, statement_add, &open, &err);
    f.from = from;
    f.to = to;
    if (rc == KW_OK)
        rc = kw_store_ledger(x->wk->st, &f, statement_add, &in, &err);
    json_decref(open.entries);
    if (rc != KW_OK) {
        json_decref(in.entries);
        return kwh_problem(&err);
    }
    if ((rc = accident_levels(x->wk->st, in.entries, &err)) != KW_OK) {
        json_decref(in.entries);
        return kwh_problem(&err);
    }
    int64_t credits = open.in.credits + in.in.credits, settled = open.in.settled + in.in.settled;
    int64_t deposit = c.deposit_held - open.in.from_deposit - in.in.from_deposit;
    json_t *st = json_pack(
        "{s:I, s:I, s:s, s:{s:o, s:o}, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, "
        "s:I, s:I, s:I}, s:o}",
        "contract_id", (json_int_t)c.id, "org_id", (json_int_t)c.org_id, "currency", cc.cur,
        "period", "from", kwh_instant_json(from), "to", kwh_instant_json(to), "opening", "credits",
        (json_int_t)open.in.credits, "claimed", (json_int_t)open.in.claimed, "settled",
        (json_int_t)open.in.settled, "in_period", "credits", (json_int_t)in.in.credits, "claimed",
        (json_int_t)in.in.claimed, "settled", (json_int_t)in.in.settled, "closing", "credits",
        (json_int_t)credits, "claimed", (json_int_t)(open.in.claimed + in.in.claimed), "settled",
        (json_int_t)settled, "owed", (json_int_t)(credits - settled), "deposit_balance",
        (json_int_t)deposit, "deposit_required", (json_int_t)kw_contract_deposit_required(&c),
        "entries", in.entries);
    if (!format || strcmp(format, "json") == 0)
        return kwh_ok(200, st);
    if (strcmp(format, "csv") == 0) {
        out = statement_csv(st, lang && strcmp(lang, "zh") == 0); /* CSV: English by default */
        json_decref(st);
        return out;
    }
    struct kw_org o;
    const char *name = kw_store_org_get(x->wk->st, c.org_id, &o, NULL) == KW_OK ? o.name : "";
    bool zh = !lang || strcmp(lang, "zh") == 0;
    out = strcmp(format, "pdf") == 0 ? statement_pdf(st, name, zh, c.id)
                                     : statement_html(st, name, zh);
    json_decref(st);
    return out;
}
