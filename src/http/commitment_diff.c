// SPDX-License-Identifier: MIT
/* POST /api/v1/commitments/{id}/diff: what publishing a draft would change
 * against commitment {id} (usually the version in force), for the person
 * about to publish it. The draft is checked as a publication would check it
 * (its calendars too) and nothing is written. The comparison is
 * core/policy_diff; this file only describes each change in JSON. */
#include <stdio.h>
#include <string.h>

#include "clocks.h"
#include "internal.h"
#include "policy_diff.h"
#include "policy_json.h"

struct diff_out {
    const struct kw_policy *from, *to;
    json_t *changes;
};

static json_t *label_json(const char *(*get)(const struct kw_policy *, size_t, const char *),
                          const struct kw_policy *p, size_t i)
{
    return json_pack("{s:s, s:s}", "zh", get(p, i, "zh"), "en", get(p, i, "en"));
}

/* {"id", "label": {"zh", "en"}} of level i of p. */
static json_t *level_json(const struct kw_policy *p, int i)
{
    return json_pack("{s:s, s:o}", "id", kw_policy_level_id(p, (size_t)i), "label",
                     label_json(kw_policy_level_label, p, (size_t)i));
}

static json_t *strings_json(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* {"level": ["L1"], "tier": [...]}: the conditions of rule r ({}: every ticket). */
static json_t *when_json(const struct kw_policy *p, size_t r)
{
    json_t *w = json_object();
    for (int a = 0; a < KW_ATTR_COUNT; a++) {
        const char *const *v;
        size_t n = kw_policy_rule_values(p, r, (enum kw_attr)a, &v);
        if (n > 0)
            json_object_set_new(w, kw_attr_name((enum kw_attr)a), strings_json(v, n));
    }
    return w;
}

static json_t *rule_json(const struct kw_policy *p, int r)
{
    const char *id = kw_policy_rule_id(p, (size_t)r);
    return json_pack("{s:i, s:o, s:o}", "index", r, "id", id ? json_string(id) : json_null(),
                     "when", when_json(p, (size_t)r));
}

/* {"target": seconds, "calendar"} of metric m in rule r, or null. */
static json_t *target_json(const struct kw_policy *p, int r, int m)
{
    int64_t target;
    int cal;
    if (r < 0 || m < 0 || !kw_policy_rule_target(p, (size_t)r, (size_t)m, &target, &cal))
        return json_null();
    return json_pack("{s:I, s:s}", "target", (json_int_t)target, "calendar",
                     kw_policy_calendar_name(p, (size_t)cal));
}

/* {"<metric>": {"target", "calendar"}} of every metric rule r sets. */
static json_t *targets_json(const struct kw_policy *p, int r)
{
    json_t *o = json_object();
    for (size_t m = 0; m < kw_policy_metric_count(p); m++) {
        json_t *t = target_json(p, r, (int)m);
        if (json_is_null(t))
            json_decref(t);
        else
            json_object_set_new(o, kw_policy_metric_id(p, m), t);
    }
    return o;
}

/* Member `field` of metric m of p as the document writes it. */
static json_t *metric_field_json(const struct kw_policy *p, size_t m, const char *field)
{
    const char *const *v;
    if (strcmp(field, "label") == 0)
        return label_json(kw_policy_metric_label, p, m);
    if (strcmp(field, "start") == 0)
        return json_string(kw_policy_metric_start(p, m));
    if (strcmp(field, "stop") == 0) {
        size_t n = kw_policy_metric_stops(p, m, &v);
        return strings_json(v, n);
    }
    if (strcmp(field, "pause_when") == 0) {
        size_t n = kw_policy_metric_pauses(p, m, &v);
        return strings_json(v, n);
    }
    if (strcmp(field, "warn_at") == 0) {
        const uint8_t *pct;
        size_t n = kw_policy_metric_warn(p, m, &pct);
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_integer(pct[i]));
        return a;
    }
    return json_boolean(kw_policy_metric_staff_only(p, m));
}

static const char *const kinds[] = {
    [KW_PCH_LEVEL_ADDED] = "level_added",
    [KW_PCH_LEVEL_REMOVED] = "level_removed",
    [KW_PCH_LEVEL_RELABELED] = "level_relabeled",
    [KW_PCH_METRIC_ADDED] = "metric_added",
    [KW_PCH_METRIC_REMOVED] = "metric_removed",
    [KW_PCH_METRIC_CHANGED] = "metric_changed",
    [KW_PCH_VALUE_ADDED] = "value_added",
    [KW_PCH_VALUE_REMOVED] = "value_removed",
    [KW_PCH_RULE_ADDED] = "rule_added",
    [KW_PCH_RULE_REMOVED] = "rule_removed",
    [KW_PCH_RULE_WHEN] = "rule_when",
    [KW_PCH_RULE_MOVED] = "rule_moved",
    [KW_PCH_TARGET_ADDED] = "target_added",
    [KW_PCH_TARGET_REMOVED] = "target_removed",
    [KW_PCH_TARGET_CHANGED] = "target_changed",
};
_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == KW_PCH_TARGET_CHANGED + 1,
               "a name for every change");

static bool describe(const struct kw_policy_change *c, void *ctx)
{
    struct diff_out *d = ctx;
    json_t *j = json_pack("{s:s}", "change", kinds[c->kind]);
    switch (c->kind) {
    case KW_PCH_LEVEL_ADDED:
        json_object_set_new(j, "level", level_json(d->to, c->new_i));
        break;
    case KW_PCH_LEVEL_REMOVED:
        json_object_set_new(j, "level", level_json(d->from, c->old_i));
        break;
    case KW_PCH_LEVEL_RELABELED:
        json_object_set_new(j, "level", json_string(kw_policy_level_id(d->to, (size_t)c->new_i)));
        json_object_set_new(j, "old", label_json(kw_policy_level_label, d->from, (size_t)c->old_i));
        json_object_set_new(j, "new", label_json(kw_policy_level_label, d->to, (size_t)c->new_i));
        break;
    case KW_PCH_METRIC_ADDED:
    case KW_PCH_METRIC_REMOVED: {
        const struct kw_policy *p = c->kind == KW_PCH_METRIC_ADDED ? d->to : d->from;
        size_t m = (size_t)(c->kind == KW_PCH_METRIC_ADDED ? c->new_i : c->old_i);
        json_object_set_new(j, "metric", json_string(kw_policy_metric_id(p, m)));
        json_object_set_new(j, "label", label_json(kw_policy_metric_label, p, m));
        break;
    }
    case KW_PCH_METRIC_CHANGED:
        json_object_set_new(j, "metric", json_string(kw_policy_metric_id(d->to, (size_t)c->new_i)));
        json_object_set_new(j, "field", json_string(c->field));
        json_object_set_new(j, "old", metric_field_json(d->from, (size_t)c->old_i, c->field));
        json_object_set_new(j, "new", metric_field_json(d->to, (size_t)c->new_i, c->field));
        break;
    case KW_PCH_VALUE_ADDED:
    case KW_PCH_VALUE_REMOVED:
        json_object_set_new(j, "attribute", json_string(kw_attr_name(c->attr)));
        json_object_set_new(j, "value", json_string(c->value));
        break;
    case KW_PCH_RULE_ADDED:
        json_object_set_new(j, "rule", rule_json(d->to, c->new_i));
        json_object_set_new(j, "targets", targets_json(d->to, c->new_i));
        break;
    case KW_PCH_RULE_REMOVED:
        json_object_set_new(j, "rule", rule_json(d->from, c->old_i));
        json_object_set_new(j, "targets", targets_json(d->from, c->old_i));
        break;
    case KW_PCH_RULE_WHEN:
        json_object_set_new(j, "rule", rule_json(d->to, c->new_i));
        json_object_set_new(j, "old",
                            json_pack("{s:o}", "when", when_json(d->from, (size_t)c->old_i)));
        json_object_set_new(j, "new",
                            json_pack("{s:o}", "when", when_json(d->to, (size_t)c->new_i)));
        break;
    case KW_PCH_RULE_MOVED:
        json_object_set_new(j, "rule", rule_json(d->to, c->new_i));
        json_object_set_new(j, "old", json_pack("{s:i}", "index", c->old_i));
        json_object_set_new(j, "new", json_pack("{s:i}", "index", c->new_i));
        break;
    case KW_PCH_TARGET_ADDED:
    case KW_PCH_TARGET_REMOVED:
    case KW_PCH_TARGET_CHANGED:
        json_object_set_new(j, "rule", rule_json(d->to, c->new_i));
        json_object_set_new(j, "metric",
                            json_string(c->new_m >= 0
                                            ? kw_policy_metric_id(d->to, (size_t)c->new_m)
                                            : kw_policy_metric_id(d->from, (size_t)c->old_m)));
        json_object_set_new(j, "old", target_json(d->from, c->old_i, c->old_m));
        json_object_set_new(j, "new", target_json(d->to, c->new_i, c->new_m));
        break;
    }
    json_array_append_new(d->changes, j);
    return true;
}

/* The members of the two documents the changes above do not describe and
 * that differ (escalations, compensation, letter, ...), by name. */
static json_t *other_members(json_t *old, json_t *draft)
{
    static const char *const covered[] = {"name",       "version",  "effective_from", "levels",
                                          "metrics",    "targets",  "tiers",          "regions",
                                          "categories", "channels", "organisations"};
    json_t *names = json_array(), *both = json_object();
    json_object_update(both, old);
    json_object_update(both, draft);
    const char *k;
    json_t *v;
    json_object_foreach(both, k, v)
    {
        bool skip = false;
        for (size_t i = 0; i < sizeof(covered) / sizeof(covered[0]) && !skip; i++)
            skip = strcmp(k, covered[i]) == 0;
        json_t *a = json_object_get(old, k), *b = json_object_get(draft, k);
        if (!skip && !(a && b && json_equal(a, b)))
            json_array_append_new(names, json_string(k));
    }
    json_decref(both);
    return names;
}

struct kwh_reply kwh_commitment_diff(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    const struct kw_compiled *c = kwh_policy_for(x->h, x->wk->st, x->arg.id, &err);
    if (!c)
        return kwh_problem(&err);
    char *stored = NULL;
    if (kw_store_commitment_doc(x->wk->st, x->arg.id, &stored, &err) != KW_OK)
        return kwh_problem(&err);
    json_t *old = json_loads(stored, 0, NULL);
    free(stored);
    json_t *j = kwh_body_object(x, &out);
    if (!j || !old) {
        json_decref(old);
        json_decref(j);
        return j ? kwh_problem_of(KW_STORE, "", "the stored commitment is damaged") : out;
    }
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
    struct kw_cal_history hist[KW_POLICY_MAX_CALENDARS];
    struct kw_policy *p = kw_policy_from_json(j, &err);
    enum kw_code rc =
        p ? kw_clocks_compile_calendars(x->h->clocks, x->wk->st, p, cals, hist, &err) : KW_INVALID;
    if (rc != KW_OK) {
        out = kwh_problem(&err);
    } else {
        kw_compiled_calendars_free(p, cals, hist);
        struct diff_out d = {c->p, p, json_array()};
        kw_policy_diff(c->p, p, describe, &d);
        out = kwh_ok(200, json_pack("{s:{s:I, s:s, s:s, s:o}, s:{s:s, s:s, s:o}, s:o, s:o}", "from",
                                    "id", (json_int_t)c->id, "name", kw_policy_name(c->p),
                                    "version", kw_policy_version(c->p), "effective_from",
                                    kwh_instant_json(kw_policy_effective_from(c->p)), "to", "name",
                                    kw_policy_name(p), "version", kw_policy_version(p),
                                    "effective_from", kwh_instant_json(kw_policy_effective_from(p)),
                                    "changes", d.changes, "other", other_members(old, j)));
    }
    kw_policy_free(p);
    json_decref(old);
    json_decref(j);
    return out;
}
