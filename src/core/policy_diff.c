// SPDX-License-Identifier: MIT
/* What a new commitment version changes (policy_diff.h). Rules are matched
 * first by id, then an unmatched rule by its conditions, since a rule's
 * place in the list decides which ticket it applies to and its id is the
 * name people know it by. */
#include "policy_diff.h"

#include <string.h>

struct run {
    kw_policy_change_fn fn;
    void *ctx;
    int n;
    bool stop;
};

static void emit(struct run *r, struct kw_policy_change c)
{
    if (r->stop)
        return;
    r->n++;
    if (!r->fn(&c, r->ctx))
        r->stop = true;
}

static struct kw_policy_change change(enum kw_policy_change_kind kind, int old_i, int new_i)
{
    return (struct kw_policy_change){
        .kind = kind, .old_i = old_i, .new_i = new_i, .old_m = -1, .new_m = -1};
}

static bool same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Whether the n strings of a are the m strings of b, in any order (the
 * lists are short and hold no value twice). */
static bool same_set(const char *const *a, size_t n, const char *const *b, size_t m)
{
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < m && !found; k++)
            found = strcmp(a[i], b[k]) == 0;
        if (!found)
            return false;
    }
    return true;
}

bool kw_policy_rule_same_when(const struct kw_policy *a, size_t r, const struct kw_policy *b,
                              size_t s)
{
    for (int t = 0; t < KW_ATTR_COUNT; t++) {
        const char *const *x, *const *y;
        size_t n = kw_policy_rule_values(a, r, (enum kw_attr)t, &x);
        size_t m = kw_policy_rule_values(b, s, (enum kw_attr)t, &y);
        if (!same_set(x, n, y, m))
            return false;
    }
    return true;
}

static bool same_label(const char *(*get)(const struct kw_policy *, size_t, const char *),
                       const struct kw_policy *a, size_t i, const struct kw_policy *b, size_t k)
{
    return same_str(get(a, i, "zh"), get(b, k, "zh")) && same_str(get(a, i, "en"), get(b, k, "en"));
}

static void diff_levels(const struct kw_policy *from, const struct kw_policy *to, struct run *r)
{
    for (size_t k = 0; k < kw_policy_level_count(to); k++) {
        int i = kw_policy_level_index(from, kw_policy_level_id(to, k));
        if (i < 0)
            emit(r, change(KW_PCH_LEVEL_ADDED, -1, (int)k));
        else if (!same_label(kw_policy_level_label, from, (size_t)i, to, k))
            emit(r, change(KW_PCH_LEVEL_RELABELED, i, (int)k));
    }
    for (size_t i = 0; i < kw_policy_level_count(from); i++)
        if (kw_policy_level_index(to, kw_policy_level_id(from, i)) < 0)
            emit(r, change(KW_PCH_LEVEL_REMOVED, (int)i, -1));
}

/* Whether member `field` of metric i of a differs in metric k of b. */
static bool metric_differs(const struct kw_policy *a, size_t i, const struct kw_policy *b, size_t k,
                           const char *field)
{
    const char *const *x, *const *y;
    const uint8_t *p, *q;
    size_t n, m;
    switch (field[0] == 's' ? field[1] : field[0]) {
    case 'l': /* label */
        return !same_label(kw_policy_metric_label, a, i, b, k);
    case 't': /* start */
        return !same_str(kw_policy_metric_start(a, i), kw_policy_metric_start(b, k));
    case 'o': /* stop */
        n = kw_policy_metric_stops(a, i, &x);
        m = kw_policy_metric_stops(b, k, &y);
        return !same_set(x, n, y, m);
    case 'p': /* pause_when */
        n = kw_policy_metric_pauses(a, i, &x);
        m = kw_policy_metric_pauses(b, k, &y);
        return !same_set(x, n, y, m);
    case 'w': /* warn_at */
        n = kw_policy_metric_warn(a, i, &p);
        m = kw_policy_metric_warn(b, k, &q);
        return n != m || (n > 0 && memcmp(p, q, n) != 0);
    default: /* staff_only */
        return kw_policy_metric_staff_only(a, i) != kw_policy_metric_staff_only(b, k);
    }
}

static void diff_metrics(const struct kw_policy *from, const struct kw_policy *to, struct run *r)
{
    for (size_t k = 0; k < kw_policy_metric_count(to); k++) {
        int i = kw_policy_metric_index(from, kw_policy_metric_id(to, k));
        if (i < 0) {
            emit(r, change(KW_PCH_METRIC_ADDED, -1, (int)k));
            continue;
        }
        /* each member that differs, so that a label and a stop edited
         * together are both seen */
        static const char *const fields[] = {"label",      "start",   "stop",
                                             "pause_when", "warn_at", "staff_only"};
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            if (!metric_differs(from, (size_t)i, to, k, fields[f]))
                continue;
            struct kw_policy_change c = change(KW_PCH_METRIC_CHANGED, i, (int)k);
            c.field = fields[f];
            emit(r, c);
        }
    }
    for (size_t i = 0; i < kw_policy_metric_count(from); i++)
        if (kw_policy_metric_index(to, kw_policy_metric_id(from, i)) < 0)
            emit(r, change(KW_PCH_METRIC_REMOVED, (int)i, -1));
}

static bool has_value(const struct kw_policy *p, enum kw_attr a, const char *v)
{
    for (size_t i = 0; i < kw_policy_attr_count(p, a); i++)
        if (strcmp(kw_policy_attr_id(p, a, i), v) == 0)
            return true;
    return false;
}

/* Each value of attribute a that p lists and q does not, as a change of kind. */
static void values_only_in(const struct kw_policy *p, const struct kw_policy *q, enum kw_attr a,
                           enum kw_policy_change_kind kind, struct run *r)
{
    for (size_t k = 0; k < kw_policy_attr_count(p, a); k++) {
        if (has_value(q, a, kw_policy_attr_id(p, a, k)))
            continue;
        struct kw_policy_change c = change(kind, -1, -1);
        c.attr = a;
        c.value = kw_policy_attr_id(p, a, k);
        emit(r, c);
    }
}

static void diff_values(const struct kw_policy *from, const struct kw_policy *to, struct run *r)
{
    for (int t = KW_ATTR_TIER; t < KW_ATTR_COUNT; t++) {
        values_only_in(to, from, (enum kw_attr)t, KW_PCH_VALUE_ADDED, r);
        values_only_in(from, to, (enum kw_attr)t, KW_PCH_VALUE_REMOVED, r);
    }
}

/* The targets of matched rules ri (from) and rk (to). */
static void diff_targets(const struct kw_policy *from, size_t ri, const struct kw_policy *to,
                         size_t rk, struct run *r)
{
    for (size_t k = 0; k < kw_policy_metric_count(to); k++) {
        int i = kw_policy_metric_index(from, kw_policy_metric_id(to, k));
        int64_t was = 0, now = 0;
        int wcal = 0, ncal = 0;
        bool had = i >= 0 && kw_policy_rule_target(from, ri, (size_t)i, &was, &wcal);
        bool has = kw_policy_rule_target(to, rk, k, &now, &ncal);
        struct kw_policy_change c = change(KW_PCH_TARGET_CHANGED, (int)ri, (int)rk);
        c.old_m = had ? i : -1;
        c.new_m = has ? (int)k : -1;
        if (has && !had)
            c.kind = KW_PCH_TARGET_ADDED;
        else if (had && !has)
            c.kind = KW_PCH_TARGET_REMOVED;
        else if (!has || (was == now && same_str(kw_policy_calendar_name(from, (size_t)wcal),
                                                 kw_policy_calendar_name(to, (size_t)ncal))))
            continue;
        emit(r, c);
    }
    /* metrics the new version no longer has */
    for (size_t i = 0; i < kw_policy_metric_count(from); i++) {
        int64_t was;
        int wcal;
        if (kw_policy_metric_index(to, kw_policy_metric_id(from, i)) >= 0 ||
            !kw_policy_rule_target(from, ri, i, &was, &wcal))
            continue;
        struct kw_policy_change c = change(KW_PCH_TARGET_REMOVED, (int)ri, (int)rk);
        c.old_m = (int)i;
        emit(r, c);
    }
}

static void diff_rules(const struct kw_policy *from, const struct kw_policy *to, struct run *r)
{
    size_t nf = kw_policy_rule_count(from), nt = kw_policy_rule_count(to);
    int match[KW_POLICY_MAX_RULES]; /* of each rule of to: its rule in from, or -1 */
    bool taken[KW_POLICY_MAX_RULES] = {false};
    for (size_t k = 0; k < nt; k++) {
        match[k] = -1;
        const char *id = kw_policy_rule_id(to, k);
        for (size_t i = 0; id && i < nf && match[k] < 0; i++)
            if (!taken[i] && same_str(kw_policy_rule_id(from, i), id)) {
                match[k] = (int)i;
                taken[i] = true;
            }
    }
    for (size_t k = 0; k < nt; k++)
        for (size_t i = 0; i < nf && match[k] < 0; i++)
            if (!taken[i] && kw_policy_rule_same_when(from, i, to, k)) {
                match[k] = (int)i;
                taken[i] = true;
            }
    for (size_t k = 0, rank = 0; k < nt; k++) {
        if (match[k] < 0) {
            emit(r, change(KW_PCH_RULE_ADDED, -1, (int)k));
            continue;
        }
        size_t i = (size_t)match[k], old_rank = 0;
        for (size_t j = 0; j < i; j++)
            old_rank += taken[j];
        if (!kw_policy_rule_same_when(from, i, to, k))
            emit(r, change(KW_PCH_RULE_WHEN, (int)i, (int)k));
        if (old_rank != rank)
            emit(r, change(KW_PCH_RULE_MOVED, (int)i, (int)k));
        rank++;
        diff_targets(from, i, to, k, r);
    }
    for (size_t i = 0; i < nf; i++)
        if (!taken[i])
            emit(r, change(KW_PCH_RULE_REMOVED, (int)i, -1));
}

int kw_policy_diff(const struct kw_policy *from, const struct kw_policy *to, kw_policy_change_fn fn,
                   void *ctx)
{
    struct run r = {fn, ctx, 0, false};
    diff_levels(from, to, &r);
    diff_metrics(from, to, &r);
    diff_values(from, to, &r);
    diff_rules(from, to, &r);
    return r.n;
}
