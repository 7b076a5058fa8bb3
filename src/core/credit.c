// SPDX-License-Identifier: MIT
#include "credit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"

const struct kw_overrun_reason kw_overrun_reasons[KW_OVERRUN_REASONS] = {
    {"technology", "技术原因", "a technical cause"},
    {"staffing", "人员原因", "staffing"},
    {"process", "流程原因", "our process"},
    {"customer", "客户方原因", "a cause on the customer's side"},
    {"third_party", "第三方原因", "a third party"},
    {"force_majeure", "不可抗力", "force majeure"},
};

const struct kw_overrun_reason *kw_overrun_reason_find(const char *id)
{
    for (size_t k = 0; id && k < KW_OVERRUN_REASONS; k++)
        if (strcmp(kw_overrun_reasons[k].id, id) == 0)
            return &kw_overrun_reasons[k];
    return NULL;
}

static bool holds(const struct kw_comp_rule *r, const struct kw_ticket_attrs *t)
{
    for (int a = 0; a < KW_ATTR_COUNT; a++) {
        if (r->when[a].n == 0)
            continue;
        const char *v = t ? t->v[a] : NULL;
        if (!v || !*v || !kw_names_has(&r->when[a], v))
            return false;
    }
    return true;
}

/* value × ppm ÷ 1,000,000 × k, rounded half up (exact: 128-bit). */
static int64_t share(int64_t value, int64_t ppm, int64_t k)
{
    __int128 n = (__int128)value * ppm * k;
    __int128 q = (n + 500000) / 1000000;
    return q > INT64_MAX ? INT64_MAX : (int64_t)q;
}

static int64_t cap_of(const struct kw_cap *c, int64_t value)
{
    return c->share ? share(value, c->v, 1) : c->v;
}

void kw_credit_compute(const struct kw_policy *p, const struct kw_credit_in *in,
                       struct kw_credit_out *out)
{
    memset(out, 0, sizeof(*out));
    out->rule = -1;
    const struct kw_comp_rule *r = NULL;
    for (size_t i = 0; i < p->comp.n && !r; i++)
        if (p->comp.rules[i].metric == in->metric && holds(&p->comp.rules[i], in->attrs)) {
            r = &p->comp.rules[i];
            out->rule = (int)i;
        }
    if (!r) {
        out->status = KW_CREDIT_NO_RULE;
        return;
    }
    int64_t late = r->working ? in->overrun_working : in->overrun_wall;
    if (in->overrun_wall <= 0 || late <= 0) {
        out->status = KW_CREDIT_NOT_LATE;
        return;
    }
    out->hours = late / 3600 + (late % 3600 != 0);
    if (in->reason && kw_names_has(&p->comp.exclude, in->reason)) {
        out->status = KW_CREDIT_EXCLUDED;
        return;
    }
    if (r->kind == KW_COMP_REMEDY) {
        out->status = KW_CREDIT_REMEDY;
        out->item = &r->item;
        out->unit = &r->unit;
        out->quantity = r->quantity;
        return;
    }
    int64_t value = in->contract_value > 0 ? in->contract_value : 0;
    out->raw = r->kind == KW_COMP_PERCENT ? share(value, r->ppm_per_hour, out->hours) : r->amount;
    out->amount = out->raw;
    out->status = KW_CREDIT_OWED;
    const struct kw_cap *caps[2] = {&r->cap_ticket, &p->comp.cap_period};
    const int64_t so_far[2] = {in->ticket_accrued, in->period_accrued};
    for (int i = 0; i < 2; i++) {
        if (!caps[i]->set)
            continue;
        int64_t room = cap_of(caps[i], value) - so_far[i];
        if (room < 0)
            room = 0;
        if (out->amount > room) {
            out->amount = room;
            out->status = KW_CREDIT_CAPPED;
        }
    }
}

size_t kw_policy_comp_count(const struct kw_policy *p)
{
    return p->comp.n;
}

int kw_policy_comp_metric(const struct kw_policy *p, size_t r)
{
    return p->comp.rules[r].metric;
}

size_t kw_policy_comp_values(const struct kw_policy *p, size_t r, enum kw_attr a,
                             const char *const **values)
{
    *values = p->comp.rules[r].when[a].v;
    return p->comp.rules[r].when[a].n;
}

/* "0.5%" from ppm (up to four decimals, no trailing zeros). */
static void percent(int64_t ppm, char *buf, size_t cap)
{
    int64_t whole = ppm / 10000, frac = ppm % 10000;
    if (!frac) {
        snprintf(buf, cap, "%" PRId64 "%%", whole);
        return;
    }
    char f[8];
    snprintf(f, sizeof(f), "%04" PRId64, frac);
    for (int i = 3; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
    snprintf(buf, cap, "%" PRId64 ".%s%%", whole, f);
}

/* "1,234.50" from minor units. */
static void money(int64_t v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRId64 ".%02" PRId64, v / 100, v % 100);
}

static void cap_words(const struct kw_cap *c, bool zh, char *buf, size_t cap)
{
    char v[32];
    if (c->share) {
        percent(c->v, v, sizeof(v));
        snprintf(buf, cap, zh ? "合同金额的 %s" : "%s of the contract value", v);
    } else {
        money(c->v, v, sizeof(v));
        snprintf(buf, cap, "%s", v);
    }
}

void kw_policy_comp_describe(const struct kw_policy *p, size_t r, const char *lang, char *buf,
                             size_t cap)
{
    const struct kw_comp_rule *x = &p->comp.rules[r];
    bool zh = lang && strncmp(lang, "zh", 2) == 0;
    char a[48], c[96] = "";
    if (x->cap_ticket.set) {
        char cw[80];
        cap_words(&x->cap_ticket, zh, cw, sizeof(cw));
        snprintf(c, sizeof(c), zh ? "，每单不超过%s" : ", at most %s per ticket", cw);
    }
    switch (x->kind) {
    case KW_COMP_PERCENT:
        percent(x->ppm_per_hour, a, sizeof(a));
        if (zh)
            snprintf(buf, cap, "每超时一小时（%s，不足一小时按一小时计）赔付合同金额的 %s%s",
                     x->working ? "按服务时间" : "按自然时间", a, c);
        else
            snprintf(buf, cap, "%s of the contract value per started %s hour late%s", a,
                     x->working ? "working" : "wall-clock", c);
        break;
    case KW_COMP_AMOUNT:
        money(x->amount, a, sizeof(a));
        snprintf(buf, cap, zh ? "一次性赔付 %s%s" : "a credit of %s%s", a, c);
        break;
    case KW_COMP_REMEDY:
        snprintf(buf, cap, "%s × %" PRId64 "%s%s", kw_label_pick(&x->item, zh ? "zh" : "en", ""),
                 x->quantity, kw_label_pick(&x->unit, zh ? "zh" : "en", "")[0] ? " " : "",
                 kw_label_pick(&x->unit, zh ? "zh" : "en", ""));
        break;
    }
}

void kw_policy_comp_terms(const struct kw_policy *p, const char *lang, char *buf, size_t cap)
{
    bool zh = lang && strncmp(lang, "zh", 2) == 0;
    size_t n = 0;
    buf[0] = '\0';
    if (p->comp.cap_period.set) {
        char cw[80];
        cap_words(&p->comp.cap_period, zh, cw, sizeof(cw));
        int k = snprintf(buf, cap,
                         zh ? "每个计费周期的赔付合计不超过%s。"
                            : "Credits in one billing period total at most %s. ",
                         cw);
        n = k > 0 && (size_t)k < cap ? (size_t)k : n;
    }
    if (p->comp.exclude.n) {
        int k = snprintf(buf + n, cap - n, "%s",
                         zh ? "以下原因造成的超时不予赔付："
                            : "No compensation is owed for overruns caused by: ");
        n += k > 0 && (size_t)k < cap - n ? (size_t)k : 0;
        for (size_t i = 0; i < p->comp.exclude.n && n < cap; i++) {
            const struct kw_overrun_reason *why = kw_overrun_reason_find(p->comp.exclude.v[i]);
            k = snprintf(buf + n, cap - n, "%s%s", i ? (zh ? "、" : ", ") : "",
                         why ? (zh ? why->zh : why->en) : p->comp.exclude.v[i]);
            n += k > 0 && (size_t)k < cap - n ? (size_t)k : 0;
        }
        if (n < cap)
            snprintf(buf + n, cap - n, "%s", zh ? "。" : ".");
    }
}
