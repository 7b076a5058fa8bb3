// SPDX-License-Identifier: MIT
/*
 * policy.c - the policy model: its string pool, accessors, and resolution
 * (the first rule whose conditions hold and that names the metric). Decoding
 * is in policy_json.c, escalation chains in escalation.c. Queries allocate
 * nothing.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* Milestones and states every policy knows; a policy may declare more. */
static const char *const builtin_milestones[] = {
    "first_response",
    "acknowledged",
    "accepted",
    "plan_confirmed",
    "on_site",
    "restored",
    "resolved",
    "customer_confirmed",
    "closed",
    "callback_done",
    "confirmed_by_timeout",
};
static const char *const builtin_states[] = {
    "registered", "analysing", "handling", "feedback", "archived", "waiting_customer",
};
/* Reopening takes these back unless the policy lists its own. */
static const char *const default_revoked[] = {
    "restored", "resolved", "customer_confirmed", "closed", "callback_done", "confirmed_by_timeout",
};
static const char *const attr_names[KW_ATTR_COUNT] = {
    "level", "tier", "category", "region", "channel", "organisation",
};

/* The nodes of a commitment that lists none: the closed loop as the
 * customer follows it. */
static const struct {
    const char *id, *at, *zh, *en;
} default_nodes[] = {
    {"registered", "created", "登记", "Registered"},
    {"responded", "first_response", "响应", "First response"},
    {"analysing", "analysing", "分析", "Analysis"},
    {"handling", "handling", "处理", "Handling"},
    {"resolved", "resolved", "反馈", "Resolution proposed"},
    {"confirmed", "customer_confirmed", "确认", "Confirmed"},
    {"archived", "closed", "归档", "Archived"},
};

/* ---- strings ---- */

/* The pool grows by blocks that never move, so the strings handed out stay
 * put; a policy's strings are freed together with it. */
struct kw_pool_block {
    struct kw_pool_block *next;
    size_t used, cap;
    char data[];
};

#define POOL_BLOCK 4096

const char *kw_policy_keep(struct kw_policy *p, const char *s, size_t len)
{
    struct kw_pool_block *b = p->pool;
    if (!b || b->cap - b->used <= len) {
        size_t cap = len >= POOL_BLOCK ? len + 1 : POOL_BLOCK;
        b = malloc(sizeof(*b) + cap);
        if (!b) {
            p->pool_failed = true;
            return "";
        }
        b->next = p->pool;
        b->used = 0;
        b->cap = cap;
        p->pool = b;
    }
    char *out = b->data + b->used;
    memcpy(out, s, len);
    out[len] = '\0';
    b->used += len + 1;
    return out;
}

bool kw_names_has(const struct kw_names *s, const char *v)
{
    for (size_t i = 0; v && i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return true;
    return false;
}

bool kw_list_has(const char *const *list, size_t n, const char *v)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(list[i], v) == 0)
            return true;
    return false;
}

const char *kw_label_pick(const struct kw_label *l, const char *lang, const char *fallback)
{
    const char *v;
    if (lang && strcmp(lang, "zh") == 0)
        v = l->zh ? l->zh : l->en;
    else if (lang && strcmp(lang, "en") == 0)
        v = l->en ? l->en : l->zh;
    else
        v = l->zh;
    return v ? v : fallback;
}

void kw_policy_free(struct kw_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < KW_POLICY_MAX_CALENDARS; i++)
        kw_cal_spec_release(&p->cal[i]);
    for (int a = 0; a < KW_ATTR_COUNT; a++)
        free(p->vocab[a]);
    free(p->milestones.v);
    free(p->states.v);
    free(p->revoked.v);
    free(p->implied.v);
    for (size_t m = 0; m < KW_POLICY_MAX_METRICS; m++) {
        free(p->metric[m].stop.v);
        free(p->metric[m].pause.v);
    }
    for (size_t r = 0; r < p->rules_cap; r++)
        for (int a = 0; a < KW_ATTR_COUNT; a++)
            free(p->rules[r].when[a].v);
    free(p->rules);
    for (size_t r = 0; r < p->comp.n; r++)
        for (int a = 0; a < KW_ATTR_COUNT; a++)
            free(p->comp.rules[r].when[a].v);
    free(p->comp.rules);
    free(p->comp.exclude.v);
    for (struct kw_pool_block *b = p->pool, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(p);
}

/* ---- accessors ---- */

const char *kw_policy_name(const struct kw_policy *p)
{
    return p->name;
}

const char *kw_policy_version(const struct kw_policy *p)
{
    return p->version;
}

int64_t kw_policy_effective_from(const struct kw_policy *p)
{
    return p->effective_from;
}

const char *kw_policy_effective_from_text(const struct kw_policy *p)
{
    return p->effective_from_text;
}

enum kw_on_change kw_policy_on_level_change(const struct kw_policy *p)
{
    return p->on_change;
}

enum kw_on_reopen kw_policy_on_reopen(const struct kw_policy *p)
{
    return p->on_reopen;
}

const char *kw_policy_description(const struct kw_policy *p, const char *lang)
{
    return kw_label_pick(&p->description, lang, NULL);
}

const char *kw_policy_letter_text(const struct kw_policy *p, enum kw_letter_text t,
                                  const char *lang)
{
    return (unsigned)t < KW_LETTER_COUNT ? kw_label_pick(&p->letter[t], lang, NULL) : NULL;
}

size_t kw_policy_calendar_count(const struct kw_policy *p)
{
    return p->n_cal;
}

const char *kw_policy_calendar_name(const struct kw_policy *p, size_t i)
{
    return p->cal_name[i];
}

const struct kw_cal_spec *kw_policy_calendar_spec(const struct kw_policy *p, size_t i)
{
    return p->cal_ref[i] && !p->cal_bound[i] ? NULL : &p->cal[i];
}

const char *kw_policy_calendar_ref(const struct kw_policy *p, size_t i)
{
    return p->cal_ref[i];
}

enum kw_code kw_policy_calendar_bind(struct kw_policy *p, size_t i, const struct kw_cal_spec *spec,
                                     struct kw_err *err)
{
    struct kw_cal_spec copy = *spec;
    copy.holidays = NULL;
    copy.extra = NULL;
    if (spec->n_holidays && !(copy.holidays = malloc(spec->n_holidays * sizeof(*copy.holidays))))
        return kw_err_set(err, KW_NOMEM, "", "no memory for calendar %s", p->cal_name[i]);
    if (spec->n_extra && !(copy.extra = malloc(spec->n_extra * sizeof(*copy.extra)))) {
        free(copy.holidays);
        return kw_err_set(err, KW_NOMEM, "", "no memory for calendar %s", p->cal_name[i]);
    }
    if (spec->n_holidays)
        memcpy(copy.holidays, spec->holidays, spec->n_holidays * sizeof(*copy.holidays));
    if (spec->n_extra)
        memcpy(copy.extra, spec->extra, spec->n_extra * sizeof(*copy.extra));
    kw_cal_spec_release(&p->cal[i]);
    p->cal[i] = copy;
    p->cal_bound[i] = true;
    return KW_OK;
}

size_t kw_policy_level_count(const struct kw_policy *p)
{
    return p->n_vocab[KW_ATTR_LEVEL];
}

const char *kw_policy_level_id(const struct kw_policy *p, size_t i)
{
    return p->vocab[KW_ATTR_LEVEL][i].id;
}

const char *kw_policy_level_label(const struct kw_policy *p, size_t i, const char *lang)
{
    const struct kw_vocab_item *x = &p->vocab[KW_ATTR_LEVEL][i];
    return kw_label_pick(&x->label, lang, x->id);
}

size_t kw_policy_metric_count(const struct kw_policy *p)
{
    return p->n_metrics;
}

const char *kw_policy_metric_id(const struct kw_policy *p, size_t m)
{
    return p->metric[m].id;
}

const char *kw_policy_metric_label(const struct kw_policy *p, size_t m, const char *lang)
{
    return kw_label_pick(&p->metric[m].label, lang, p->metric[m].id);
}

const char *kw_policy_metric_start(const struct kw_policy *p, size_t m)
{
    return p->metric[m].start;
}

size_t kw_policy_metric_stops(const struct kw_policy *p, size_t m, const char *const **stops)
{
    *stops = p->metric[m].stop.v;
    return p->metric[m].stop.n;
}

size_t kw_policy_metric_pauses(const struct kw_policy *p, size_t m, const char *const **states)
{
    *states = p->metric[m].pause.v;
    return p->metric[m].pause.n;
}

size_t kw_policy_metric_warn(const struct kw_policy *p, size_t m, const uint8_t **pct)
{
    *pct = p->metric[m].warn;
    return p->metric[m].n_warn;
}

size_t kw_policy_rule_count(const struct kw_policy *p)
{
    return p->n_rules;
}

size_t kw_policy_rule_values(const struct kw_policy *p, size_t r, enum kw_attr a,
                             const char *const **values)
{
    *values = p->rules[r].when[a].v;
    return p->rules[r].when[a].n;
}

const char *kw_policy_rule_id(const struct kw_policy *p, size_t r)
{
    return p->rules[r].id;
}

const char *kw_policy_attr_label(const struct kw_policy *p, enum kw_attr a, const char *id,
                                 const char *lang)
{
    for (size_t i = 0; i < p->n_vocab[a]; i++)
        if (strcmp(p->vocab[a][i].id, id) == 0)
            return kw_label_pick(&p->vocab[a][i].label, lang, id);
    return id;
}

size_t kw_policy_attr_count(const struct kw_policy *p, enum kw_attr a)
{
    return p->n_vocab[a];
}

const char *kw_policy_attr_id(const struct kw_policy *p, enum kw_attr a, size_t i)
{
    return p->vocab[a][i].id;
}

bool kw_policy_rule_target(const struct kw_policy *p, size_t r, size_t m, int64_t *target,
                           int *calendar)
{
    if (!p->rules[r].names[m])
        return false;
    *target = p->rules[r].target[m];
    *calendar = p->rules[r].cal[m];
    return true;
}

int kw_policy_metric_index(const struct kw_policy *p, const char *id)
{
    for (size_t m = 0; id && m < p->n_metrics; m++)
        if (p->metric[m].id && strcmp(p->metric[m].id, id) == 0)
            return (int)m;
    return -1;
}

int kw_policy_level_index(const struct kw_policy *p, const char *id)
{
    for (size_t i = 0; id && i < p->n_vocab[KW_ATTR_LEVEL]; i++)
        if (strcmp(p->vocab[KW_ATTR_LEVEL][i].id, id) == 0)
            return (int)i;
    return -1;
}

bool kw_builtin_milestone(const char *name)
{
    return kw_list_has(builtin_milestones, KW_SIZE(builtin_milestones), name);
}

bool kw_policy_is_milestone(const struct kw_policy *p, const char *name)
{
    return kw_builtin_milestone(name) || kw_names_has(&p->milestones, name);
}

bool kw_policy_is_state(const struct kw_policy *p, const char *name)
{
    return kw_list_has(builtin_states, KW_SIZE(builtin_states), name) ||
           kw_names_has(&p->states, name);
}

bool kw_policy_reopen_revokes(const struct kw_policy *p, const char *name)
{
    if (p->has_revoked)
        return kw_names_has(&p->revoked, name);
    return kw_list_has(default_revoked, KW_SIZE(default_revoked), name);
}

size_t kw_policy_reply_implies(const struct kw_policy *p, const char *const **out)
{
    static const char *const fallback[] = {"first_response"};
    if (!p || !p->has_implied) {
        *out = fallback;
        return 1;
    }
    *out = p->implied.v;
    return p->implied.n;
}

bool kw_policy_metric_staff_only(const struct kw_policy *p, size_t m)
{
    return m < p->n_metrics && p->metric[m].staff_only;
}

enum kw_metric_kpi kw_policy_metric_kpi(const struct kw_policy *p, size_t m)
{
    if (!p || m >= p->n_metrics)
        return KW_MKPI_NONE;
    if (p->metric[m].kpi != KW_MKPI_NONE)
        return p->metric[m].kpi;
    static const char *const ids[] = {
        [KW_MKPI_RESPONSE] = "response", [KW_MKPI_RESOLUTION] = "resolution"};
    for (int k = KW_MKPI_RESPONSE; k <= KW_MKPI_RESOLUTION; k++) {
        if (strcmp(p->metric[m].id, ids[k]) != 0)
            continue;
        for (size_t j = 0; j < p->n_metrics; j++)
            if (p->metric[j].kpi == (enum kw_metric_kpi)k)
                return KW_MKPI_NONE; /* another metric carries the marker */
        return (enum kw_metric_kpi)k;
    }
    return KW_MKPI_NONE;
}

bool kw_policy_customer_reply_resumes(const struct kw_policy *p)
{
    return !p || !p->reply_stays;
}

bool kw_policy_attr_known(const struct kw_policy *p, enum kw_attr a, const char *value)
{
    if (p->n_vocab[a] == 0)
        return a != KW_ATTR_LEVEL;
    for (size_t i = 0; i < p->n_vocab[a]; i++)
        if (strcmp(p->vocab[a][i].id, value) == 0)
            return true;
    return false;
}

const char *kw_attr_name(enum kw_attr a)
{
    return (unsigned)a < KW_ATTR_COUNT ? attr_names[a] : "?";
}

int64_t kw_policy_reopen_window(const struct kw_policy *p)
{
    return p->reopen_window;
}

const struct kw_confirm_terms *kw_policy_confirm(const struct kw_policy *p)
{
    return &p->confirm;
}

/* ---- service nodes ---- */

size_t kw_policy_node_count(const struct kw_policy *p)
{
    return p->n_nodes ? p->n_nodes : KW_SIZE(default_nodes);
}

const char *kw_policy_node_id(const struct kw_policy *p, size_t i)
{
    return p->n_nodes ? p->nodes[i].id : default_nodes[i].id;
}

const char *kw_policy_node_at(const struct kw_policy *p, size_t i)
{
    return p->n_nodes ? p->nodes[i].at : default_nodes[i].at;
}

const char *kw_policy_node_label(const struct kw_policy *p, size_t i, const char *lang)
{
    if (p->n_nodes)
        return kw_label_pick(&p->nodes[i].label, lang, p->nodes[i].id);
    return lang && strncmp(lang, "zh", 2) == 0 ? default_nodes[i].zh : default_nodes[i].en;
}

/* ---- resolution ---- */

static bool rule_holds(const struct kw_rule *r, const struct kw_ticket_attrs *t, int *failed)
{
    for (int a = 0; a < KW_ATTR_COUNT; a++) {
        if (r->when[a].n == 0)
            continue;
        const char *v = t->v[a];
        if (!v || !*v || !kw_names_has(&r->when[a], v)) {
            *failed = a;
            return false;
        }
    }
    return true;
}

struct kw_target kw_policy_resolve(const struct kw_policy *p, size_t m,
                                   const struct kw_ticket_attrs *t)
{
    for (size_t r = 0; r < p->n_rules; r++) {
        int failed;
        if (p->rules[r].names[m] && rule_holds(&p->rules[r], t, &failed))
            return (struct kw_target){true, (int)r, p->rules[r].target[m], p->rules[r].cal[m]};
    }
    return (struct kw_target){.applies = false, .rule = -1, .calendar = -1};
}

bool kw_policy_rule_explain(const struct kw_policy *p, size_t r, size_t m,
                            const struct kw_ticket_attrs *t, char *buf, size_t cap)
{
    const struct kw_rule *x = &p->rules[r];
    int a = 0;
    if (!x->names[m]) {
        snprintf(buf, cap, "names no target for %s", p->metric[m].id);
        return false;
    }
    if (rule_holds(x, t, &a)) {
        snprintf(buf, cap, "matches");
        return true;
    }
    size_t n = 0;
    for (size_t i = 0; i < x->when[a].n && n < cap; i++) {
        int k = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", x->when[a].v[i]);
        n += k < 0 ? 0 : (size_t)k;
    }
    char list[128];
    snprintf(list, sizeof(list), "%s", buf);
    if (!t->v[a] || !*t->v[a])
        snprintf(buf, cap, "needs %s %s; the ticket has none", attr_names[a], list);
    else
        snprintf(buf, cap, "%s %s is not %s%s", attr_names[a], t->v[a],
                 x->when[a].n > 1 ? "one of " : "", list);
    return false;
}

int kw_policy_pick(const struct kw_policy *const *versions, size_t n, int64_t t)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t e = versions[i]->effective_from;
        if (e <= t && (best < 0 || e >= versions[best]->effective_from))
            best = (int)i;
    }
    return best;
}
