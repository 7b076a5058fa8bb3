// SPDX-License-Identifier: MIT
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar_json.h"
#include "civil.h"

/* Milestones and states every policy knows; a policy may declare more. */
static const char *const builtin_milestones[] = {
    "first_response", "acknowledged", "accepted",           "plan_confirmed", "on_site",
    "restored",       "resolved",     "customer_confirmed", "closed",         "callback_done",
};
static const char *const builtin_states[] = {
    "registered", "analysing", "handling", "feedback", "archived", "waiting_customer",
};
/* Reopening takes these back unless the policy lists its own. */
static const char *const default_revoked[] = {
    "restored", "resolved", "customer_confirmed", "closed", "callback_done",
};
static const char *const attr_names[KW_ATTR_COUNT] = {
    "level", "tier", "category", "region", "channel", "organisation",
};
/* The vocabulary a policy may declare per attribute (levels are required). */
static const char *const vocab_keys[KW_ATTR_COUNT] = {
    "levels", "tiers", "categories", "regions", "channels", "organisations",
};

#define SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct names {
    size_t n;
    const char **v; /* strings borrowed from the document */
};

struct item {
    const char *id;
    json_t *label; /* a string, {"zh": ..., "en": ...}, or NULL */
};

struct metric {
    const char *id, *start;
    json_t *label;
    struct names stop, pause;
    size_t n_warn;
    uint8_t warn[KW_POLICY_MAX_WARN];
};

struct rule {
    struct names when[KW_ATTR_COUNT];
    bool names[KW_POLICY_MAX_METRICS];
    int64_t target[KW_POLICY_MAX_METRICS];
    int cal[KW_POLICY_MAX_METRICS];
};

/* A service node the customer sees: reached when `at` happens (created, a
 * milestone or a state). label: a string or {"zh", "en"}; NULL: the id. */
struct node {
    const char *id, *at;
    json_t *label;
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

#define DEFAULT_REOPEN_WINDOW (7 * 86400)

struct kw_policy {
    json_t *doc; /* holds every borrowed string */
    size_t n_chains;
    struct kw_escalation chain[KW_POLICY_MAX_CHAINS];
    int64_t reopen_window;
    size_t n_nodes;
    struct node nodes[KW_POLICY_MAX_NODES];
    const char *name, *version;
    int64_t effective_from;
    enum kw_on_change on_change;
    enum kw_on_reopen on_reopen;
    size_t n_cal;
    const char *cal_name[KW_POLICY_MAX_CALENDARS];
    struct kw_cal_spec cal[KW_POLICY_MAX_CALENDARS];
    size_t n_vocab[KW_ATTR_COUNT]; /* 0: any value (levels always have some) */
    struct item *vocab[KW_ATTR_COUNT];
    struct names milestones, states, revoked; /* declared extras; revoked replaces the default */
    bool has_revoked;
    size_t n_metrics;
    struct metric metric[KW_POLICY_MAX_METRICS];
    size_t n_rules, rules_cap;
    struct rule *rules;
};

/* ---- helpers ---- */

static bool in_names(const struct names *s, const char *v)
{
    for (size_t i = 0; v && i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return true;
    return false;
}

static bool in_list(const char *const *list, size_t n, const char *v)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(list[i], v) == 0)
            return true;
    return false;
}

/* Ids: letters, digits, '_', '-', '.', at most KW_POLICY_ID_MAX-1 bytes. */
static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= KW_POLICY_ID_MAX)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

/* Fill err for the field at JSON pointer ptr, with the message prefixed by the
 * same place written as a path: "/targets/2/when/level/0" becomes
 * "targets[2].when.level[0]". */
static enum kw_code fail(struct kw_err *err, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum kw_code fail(struct kw_err *err, const char *ptr, const char *fmt, ...)
{
    char path[96], msg[192];
    size_t n = 0;
    path[0] = '\0';
    for (const char *p = ptr; *p == '/' && n < sizeof(path) - 1;) {
        const char *seg = p + 1, *next = strchr(seg, '/');
        size_t len = next ? (size_t)(next - seg) : strlen(seg);
        bool index = len > 0 && strspn(seg, "0123456789") >= len;
        int k = index ? snprintf(path + n, sizeof(path) - n, "[%.*s]", (int)len, seg)
                      : snprintf(path + n, sizeof(path) - n, "%s%.*s", n ? "." : "", (int)len, seg);
        if (k < 0)
            break;
        n += (size_t)k;
        if (n >= sizeof(path))
            n = sizeof(path) - 1;
        if (!next)
            break;
        p = next;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return kw_err_set(err, KW_INVALID, ptr, "%s%s%s", path, n ? ": " : "", msg);
}

/* JSON pointers are built by appending a segment (cut, never overflowed). */
#define PTR_MAX 128
static void subs(char *out, const char *base, const char *seg)
{
    if (snprintf(out, PTR_MAX, "%s/%.40s", base, seg) < 0)
        out[0] = '\0';
}

static void subi(char *out, const char *base, size_t i)
{
    if (snprintf(out, PTR_MAX, "%s/%zu", base, i) < 0)
        out[0] = '\0';
}

/* Reject keys of obj not in allowed (NULL-terminated). */
static enum kw_code only_keys(json_t *obj, const char *ptr, const char *const *allowed,
                              struct kw_err *err)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            char p[PTR_MAX], list[160] = "";
            size_t n = 0;
            for (const char *const *a = allowed; *a; a++) {
                int k = snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", *a);
                if (k < 0 || (size_t)k >= sizeof(list) - n)
                    break;
                n += (size_t)k;
            }
            subs(p, ptr, key);
            return fail(err, p, "unknown field (expected %s)", list);
        }
    }
    return KW_OK;
}

/* A list of strings (or one string) into names; each must pass check (may be NULL). */
static enum kw_code string_list(json_t *v, const char *ptr, struct names *out, bool allow_single,
                                struct kw_err *err)
{
    out->n = 0;
    out->v = NULL;
    if (allow_single && json_is_string(v)) {
        out->v = malloc(sizeof(*out->v));
        if (!out->v)
            return kw_err_set(err, KW_NOMEM, ptr, "no memory");
        out->v[0] = json_string_value(v);
        out->n = 1;
        return KW_OK;
    }
    if (!json_is_array(v))
        return fail(err, ptr, "expected a list of strings");
    size_t n = json_array_size(v);
    if (n > 4096)
        return fail(err, ptr, "more than 4096 entries");
    out->v = n ? malloc(n * sizeof(*out->v)) : NULL;
    if (n && !out->v)
        return kw_err_set(err, KW_NOMEM, ptr, "no memory");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            char p[PTR_MAX];
            subi(p, ptr, i);
            return fail(err, p, "expected a string");
        }
        out->v[out->n++] = json_string_value(s);
    }
    return KW_OK;
}

static enum kw_code label_ok(json_t *label, const char *ptr, struct kw_err *err)
{
    if (!label || json_is_string(label))
        return KW_OK;
    if (!json_is_object(label))
        return fail(err, ptr, "expected a string or {\"zh\": ..., \"en\": ...}");
    const char *key;
    json_t *val;
    json_object_foreach(label, key, val)
    {
        char p[PTR_MAX];
        subs(p, ptr, key);
        if (strcmp(key, "zh") != 0 && strcmp(key, "en") != 0)
            return fail(err, p, "unknown language (expected zh or en)");
        if (!json_is_string(val))
            return fail(err, p, "expected a string");
    }
    return KW_OK;
}

static const char *label_in(json_t *label, const char *lang, const char *fallback)
{
    if (json_is_string(label))
        return json_string_value(label);
    if (json_is_object(label)) {
        json_t *v = json_object_get(label, lang);
        if (!json_is_string(v))
            v = json_object_get(label, strcmp(lang, "zh") == 0 ? "en" : "zh");
        if (json_is_string(v))
            return json_string_value(v);
    }
    return fallback;
}

/* A duration: seconds (integer >= 0) or text like "15m", "4h", "2d". */
static enum kw_code duration(json_t *v, const char *ptr, int64_t *out, struct kw_err *err)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return fail(err, ptr, "negative duration %lld", (long long)json_integer_value(v));
        *out = json_integer_value(v);
        return KW_OK;
    }
    if (json_is_string(v)) {
        struct kw_err e2 = {0};
        const char *s = json_string_value(v);
        if (s[0] == '-')
            return fail(err, ptr, "negative duration \"%.20s\"", s);
        if (kw_duration_parse(s, json_string_length(v), out, &e2) != KW_OK)
            return fail(err, ptr, "%s", e2.msg);
        return KW_OK;
    }
    return fail(err, ptr, "expected a duration like \"15m\", \"4h\" or seconds");
}

/* ---- parts of the document ---- */

static enum kw_code parse_calendars(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    const char *key;
    json_t *val;
    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail(err, "/calendars", "expected an object of named calendars, at least one");
    if (json_object_size(v) > KW_POLICY_MAX_CALENDARS)
        return fail(err, "/calendars", "more than %d calendars", KW_POLICY_MAX_CALENDARS);
    json_object_foreach(v, key, val)
    {
        char ptr[PTR_MAX];
        subs(ptr, "/calendars", key);
        if (!id_ok(key))
            return fail(err, ptr, "not a valid calendar name (letters, digits, _ - .)");
        size_t i = p->n_cal++;
        p->cal_name[i] = key;
        if (kw_cal_spec_from_json(val, &p->cal[i], err) != KW_OK) {
            char path[PTR_MAX];
            snprintf(path, sizeof(path), "calendars.%.40s", key);
            return kw_err_locate(err, ptr, path);
        }
    }
    return KW_OK;
}

static int calendar_index(const struct kw_policy *p, const char *name)
{
    for (size_t i = 0; name && i < p->n_cal; i++)
        if (strcmp(p->cal_name[i], name) == 0)
            return (int)i;
    return -1;
}

/* levels/tiers/...: a list of ids or {"id":..., "label":...} objects. */
static enum kw_code parse_vocab(struct kw_policy *p, enum kw_attr a, json_t *v, struct kw_err *err)
{
    char ptr[PTR_MAX];
    subs(ptr, "", vocab_keys[a]);
    if (!json_is_array(v) || (a == KW_ATTR_LEVEL && json_array_size(v) == 0))
        return fail(err, ptr, "expected a list of ids or {\"id\": ..., \"label\": ...}%s",
                    a == KW_ATTR_LEVEL ? ", at least one" : "");
    size_t n = json_array_size(v);
    if (n > 4096)
        return fail(err, ptr, "more than 4096 entries");
    p->vocab[a] = calloc(n ? n : 1, sizeof(struct item));
    if (!p->vocab[a])
        return kw_err_set(err, KW_NOMEM, ptr, "no memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i), *id = e;
        char ep[PTR_MAX];
        subi(ep, ptr, i);
        json_t *label = NULL;
        if (json_is_object(e)) {
            static const char *const keys[] = {"id", "label", "description", NULL};
            if (only_keys(e, ep, keys, err) != KW_OK)
                return err ? err->code : KW_INVALID;
            id = json_object_get(e, "id");
            label = json_object_get(e, "label");
            char lp[PTR_MAX];
            subs(lp, ep, "label");
            if (label_ok(label, lp, err) != KW_OK)
                return KW_INVALID;
            subs(lp, ep, "description");
            if (label_ok(json_object_get(e, "description"), lp, err) != KW_OK)
                return KW_INVALID;
        }
        if (!json_is_string(id) || !id_ok(json_string_value(id)))
            return fail(err, ep, "expected an id (letters, digits, _ - .) or {\"id\": ...}");
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->vocab[a][j].id, json_string_value(id)) == 0)
                return fail(err, ep, "duplicate id \"%s\"", json_string_value(id));
        p->vocab[a][i] = (struct item){json_string_value(id), label};
        p->n_vocab[a]++;
    }
    return KW_OK;
}

bool kw_builtin_milestone(const char *name)
{
    return in_list(builtin_milestones, SIZE(builtin_milestones), name);
}

static bool is_milestone(const struct kw_policy *p, const char *name)
{
    return in_list(builtin_milestones, SIZE(builtin_milestones), name) ||
           in_names(&p->milestones, name);
}

static bool is_state(const struct kw_policy *p, const char *name)
{
    return in_list(builtin_states, SIZE(builtin_states), name) || in_names(&p->states, name);
}

static enum kw_code parse_extra_names(json_t *v, const char *key, struct names *out,
                                      struct kw_err *err)
{
    char ptr[PTR_MAX];
    subs(ptr, "", key);
    if (string_list(v, ptr, out, false, err) != KW_OK)
        return KW_INVALID;
    for (size_t i = 0; i < out->n; i++) {
        if (!id_ok(out->v[i])) {
            {
                char base[PTR_MAX];
                subs(base, "", key);
                subi(ptr, base, i);
            }
            return fail(err, ptr, "\"%.40s\" is not a valid name (letters, digits, _ - .)",
                        out->v[i]);
        }
    }
    return KW_OK;
}

static enum kw_code parse_metric(struct kw_policy *p, size_t i, json_t *m, struct kw_err *err)
{
    static const char *const keys[] = {"id",         "label",   "start", "stop",
                                       "pause_when", "warn_at", NULL};
    char ptr[PTR_MAX], fp[PTR_MAX];
    struct metric *x = &p->metric[i];
    subi(ptr, "/metrics", i);
    if (!json_is_object(m))
        return fail(err, ptr, "expected an object with id, start, stop");
    if (only_keys(m, ptr, keys, err) != KW_OK)
        return KW_INVALID;
    json_t *id = json_object_get(m, "id"), *start = json_object_get(m, "start");
    subs(fp, ptr, "id");
    if (!json_is_string(id) || !id_ok(json_string_value(id)))
        return fail(err, fp, "expected an id (letters, digits, _ - .)");
    x->id = json_string_value(id);
    for (size_t j = 0; j < i; j++)
        if (strcmp(p->metric[j].id, x->id) == 0)
            return fail(err, fp, "duplicate metric id \"%s\"", x->id);
    static const char *const reserved[] = {"id", "when", "calendar", "note"};
    if (in_list(reserved, SIZE(reserved), x->id))
        return fail(err, fp, "\"%s\" is reserved in target rules; choose another id", x->id);
    x->label = json_object_get(m, "label");
    subs(fp, ptr, "label");
    if (label_ok(x->label, fp, err) != KW_OK)
        return KW_INVALID;
    subs(fp, ptr, "start");
    if (!json_is_string(start))
        return fail(err, fp, "missing: \"created\" or a milestone");
    x->start = json_string_value(start);
    if (strcmp(x->start, "created") != 0 && !is_milestone(p, x->start))
        return fail(err, fp, "\"%.40s\" is not \"created\" or a milestone", x->start);
    subs(fp, ptr, "stop");
    json_t *stop = json_object_get(m, "stop");
    if (!stop)
        return fail(err, fp, "missing: the milestones that stop this clock");
    if (string_list(stop, fp, &x->stop, true, err) != KW_OK)
        return KW_INVALID;
    if (x->stop.n == 0)
        return fail(err, fp, "metric \"%s\" can never stop: list at least one milestone", x->id);
    for (size_t j = 0; j < x->stop.n; j++) {
        char sp[PTR_MAX];
        subi(sp, fp, j);
        if (!is_milestone(p, x->stop.v[j]))
            return fail(err, sp, "unknown milestone \"%.40s\" (declare it under milestones)",
                        x->stop.v[j]);
        if (strcmp(x->stop.v[j], x->start) == 0)
            return fail(err, sp, "metric \"%s\" can never stop: it starts and stops at \"%s\"",
                        x->id, x->start);
    }
    json_t *pause = json_object_get(m, "pause_when");
    subs(fp, ptr, "pause_when");
    if (pause) {
        if (string_list(pause, fp, &x->pause, true, err) != KW_OK)
            return KW_INVALID;
        for (size_t j = 0; j < x->pause.n; j++) {
            char sp[PTR_MAX];
            subi(sp, fp, j);
            if (!is_state(p, x->pause.v[j]))
                return fail(err, sp, "unknown ticket state \"%.40s\" (declare it under states)",
                            x->pause.v[j]);
        }
    }
    json_t *warn = json_object_get(m, "warn_at");
    subs(fp, ptr, "warn_at");
    if (warn) {
        if (!json_is_array(warn))
            return fail(err, fp, "expected a list of percentages like [50, 75, 90]");
        if (json_array_size(warn) > KW_POLICY_MAX_WARN)
            return fail(err, fp, "more than %d warnings", KW_POLICY_MAX_WARN);
        for (size_t j = 0; j < json_array_size(warn); j++) {
            json_t *w = json_array_get(warn, j);
            char sp[PTR_MAX];
            subi(sp, fp, j);
            if (!json_is_integer(w) || json_integer_value(w) < 1 || json_integer_value(w) > 100)
                return fail(err, sp, "a percentage must be a whole number from 1 to 100");
            uint8_t pct = (uint8_t)json_integer_value(w);
            for (size_t k = 0; k < x->n_warn; k++)
                if (x->warn[k] == pct)
                    return fail(err, sp, "%u%% is listed twice", pct);
            /* insertion keeps them ascending */
            size_t k = x->n_warn++;
            while (k > 0 && x->warn[k - 1] > pct) {
                x->warn[k] = x->warn[k - 1];
                k--;
            }
            x->warn[k] = pct;
        }
    }
    return KW_OK;
}

static enum kw_code parse_rule(struct kw_policy *p, size_t i, json_t *r, struct kw_err *err)
{
    char ptr[PTR_MAX], fp[PTR_MAX];
    struct rule *x = &p->rules[i];
    subi(ptr, "/targets", i);
    if (!json_is_object(r))
        return fail(err, ptr, "expected an object like {\"when\": {...}, \"response\": \"15m\"}");
    int rule_cal = -1;
    json_t *cal = json_object_get(r, "calendar");
    if (cal) {
        subs(fp, ptr, "calendar");
        if (!json_is_string(cal) || (rule_cal = calendar_index(p, json_string_value(cal))) < 0)
            return fail(err, fp, "unknown calendar \"%.40s\"",
                        json_is_string(cal) ? json_string_value(cal) : "?");
    } else if (p->n_cal == 1) {
        rule_cal = 0;
    }
    const char *key;
    json_t *val;
    bool any = false;
    json_object_foreach(r, key, val)
    {
        subs(fp, ptr, key);
        if (strcmp(key, "calendar") == 0 || strcmp(key, "id") == 0 || strcmp(key, "note") == 0)
            continue;
        if (strcmp(key, "when") == 0) {
            if (!json_is_object(val))
                return fail(err, fp, "expected an object like {\"level\": [\"L1\"]}");
            const char *ak;
            json_t *av;
            json_object_foreach(val, ak, av)
            {
                char wp[PTR_MAX];
                subs(wp, fp, ak);
                int a = 0;
                while (a < KW_ATTR_COUNT && strcmp(attr_names[a], ak) != 0)
                    a++;
                if (a == KW_ATTR_COUNT)
                    return fail(err, wp,
                                "unknown condition (expected level, tier, category, region, "
                                "channel, organisation)");
                if (string_list(av, wp, &x->when[a], true, err) != KW_OK)
                    return KW_INVALID;
                if (x->when[a].n == 0)
                    return fail(err, wp, "an empty list matches nothing; leave the condition out");
                for (size_t j = 0; j < x->when[a].n; j++) {
                    char vp[PTR_MAX];
                    subi(vp, wp, j);
                    if (!kw_policy_attr_known(p, (enum kw_attr)a, x->when[a].v[j]))
                        return fail(err, vp, "unknown %s \"%.40s\" (declare it under %s)",
                                    attr_names[a], x->when[a].v[j], vocab_keys[a]);
                }
            }
            continue;
        }
        int m = kw_policy_metric_index(p, key);
        if (m < 0)
            return fail(err, fp, "unknown metric \"%.40s\"", key);
        json_t *dur = val;
        int c = rule_cal;
        if (json_is_object(val)) {
            static const char *const keys[] = {"target", "calendar", NULL};
            if (only_keys(val, fp, keys, err) != KW_OK)
                return KW_INVALID;
            dur = json_object_get(val, "target");
            json_t *mc = json_object_get(val, "calendar");
            if (mc) {
                char cp[PTR_MAX];
                subs(cp, fp, "calendar");
                if (!json_is_string(mc) || (c = calendar_index(p, json_string_value(mc))) < 0)
                    return fail(err, cp, "unknown calendar \"%.40s\"",
                                json_is_string(mc) ? json_string_value(mc) : "?");
            }
            char tp[PTR_MAX];
            subs(tp, fp, "target");
            memcpy(fp, tp, sizeof(fp));
        }
        if (duration(dur, fp, &x->target[m], err) != KW_OK)
            return KW_INVALID;
        if (c < 0)
            return fail(err, fp, "no calendar for this target: give \"calendar\" in the rule");
        x->names[m] = true;
        x->cal[m] = c;
        any = true;
    }
    if (!any)
        return fail(err, ptr,
                    "the rule sets no target (name a metric, e.g. \"response\": \"15m\")");
    return KW_OK;
}

/* ---- escalation chains ---- */

/* A target: assignee, team_lead, account_manager, oncall:N or team:ID. */
static bool target_ok(const char *t, int *oncall, int64_t *team)
{
    char *end = NULL;
    *oncall = 0;
    *team = 0;
    if (strcmp(t, "assignee") == 0 || strcmp(t, "team_lead") == 0 ||
        strcmp(t, "account_manager") == 0)
        return true;
    if (strncmp(t, "oncall:", 7) == 0) {
        long n = strtol(t + 7, &end, 10);
        *oncall = (int)n;
        return end != t + 7 && !*end && n >= 1 && n <= 9;
    }
    if (strncmp(t, "team:", 5) == 0) {
        long long n = strtoll(t + 5, &end, 10);
        *team = n;
        return end != t + 5 && !*end && n >= 1;
    }
    return false;
}

static enum kw_code parse_step(json_t *v, const char *base, struct kw_escalation_step *st,
                               struct kw_err *err)
{
    static const char *const keys[] = {"after", "notify", "reassign", "raise_level", NULL};
    char ptr[PTR_MAX + 128];
    if (!json_is_object(v))
        return fail(err, base, "expected {\"after\", and notify, reassign or raise_level}");
    if (only_keys(v, base, keys, err) != KW_OK)
        return err->code;
    snprintf(ptr, sizeof(ptr), "%s/after", base);
    json_t *after = json_object_get(v, "after");
    st->after = 0;
    if (after && duration(after, ptr, &st->after, err) != KW_OK)
        return err->code;
    json_t *notify = json_object_get(v, "notify"), *reassign = json_object_get(v, "reassign"),
           *raise = json_object_get(v, "raise_level");
    if ((notify != NULL) + (reassign != NULL) + (raise != NULL) != 1)
        return fail(err, base, "a step does one thing: notify, reassign or raise_level");
    if (raise) {
        if (!json_is_true(raise))
            return fail(err, base, "raise_level: expected true");
        st->action = KW_ESC_RAISE;
        st->target = NULL;
        return KW_OK;
    }
    json_t *t = notify ? notify : reassign;
    snprintf(ptr, sizeof(ptr), "%s/%s", base, notify ? "notify" : "reassign");
    st->action = notify ? KW_ESC_NOTIFY : KW_ESC_REASSIGN;
    if (!json_is_string(t) || !target_ok(json_string_value(t), &st->oncall, &st->team) ||
        (reassign && !st->oncall && !st->team))
        return fail(err, ptr,
                    notify ? "expected assignee, team_lead, account_manager or oncall:N"
                           : "expected oncall:N or team:ID");
    st->target = json_string_value(t);
    return KW_OK;
}

static enum kw_code parse_escalations(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    static const char *const keys[] = {"id", "when", "steps", NULL};
    if (!v)
        return KW_OK;
    if (!json_is_array(v) || json_array_size(v) > KW_POLICY_MAX_CHAINS)
        return fail(err, "/escalations", "expected a list of at most %d chains",
                    KW_POLICY_MAX_CHAINS);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *c = json_array_get(v, i), *when, *steps, *x;
        struct kw_escalation *e = &p->chain[i];
        char ptr[PTR_MAX], sub[PTR_MAX + 32];
        subi(ptr, "/escalations", i);
        if (!json_is_object(c))
            return fail(err, ptr, "expected {\"id\", \"when\", \"steps\"}");
        if (only_keys(c, ptr, keys, err) != KW_OK)
            return err->code;
        x = json_object_get(c, "id");
        snprintf(sub, sizeof(sub), "%s/id", ptr);
        if (!json_is_string(x) || !id_ok(json_string_value(x)))
            return fail(err, sub, "missing: an id (letters, digits, _ - .)");
        e->id = json_string_value(x);
        when = json_object_get(c, "when");
        snprintf(sub, sizeof(sub), "%s/when", ptr);
        json_t *metric = json_object_get(when, "metric"), *pct = json_object_get(when, "percent"),
               *unack = json_object_get(when, "unacknowledged");
        if (json_is_object(when) && unack && !metric && !pct) {
            e->metric = -1;
            if (duration(unack, sub, &e->unacknowledged, err) != KW_OK)
                return err->code;
        } else if (json_is_object(when) && json_is_string(metric) && !unack) {
            e->metric = kw_policy_metric_index(p, json_string_value(metric));
            if (e->metric < 0)
                return fail(err, sub, "unknown metric \"%.40s\"", json_string_value(metric));
            e->percent = pct ? (int)json_integer_value(pct) : 100;
            if (pct && (!json_is_integer(pct) || e->percent < 1 || e->percent > 100))
                return fail(err, sub, "percent: expected 1 to 100 (100: the breach)");
            bool listed = e->percent == 100;
            for (size_t k = 0; k < p->metric[e->metric].n_warn; k++)
                listed = listed || p->metric[e->metric].warn[k] == e->percent;
            if (!listed)
                return fail(err, sub, "percent %d is not a warn_at of %s", e->percent,
                            p->metric[e->metric].id);
        } else {
            return fail(err, sub,
                        "expected {\"metric\": ID, \"percent\": N} or "
                        "{\"unacknowledged\": DURATION}");
        }
        steps = json_object_get(c, "steps");
        snprintf(sub, sizeof(sub), "%s/steps", ptr);
        if (!json_is_array(steps) || json_array_size(steps) == 0 ||
            json_array_size(steps) > KW_POLICY_MAX_STEPS)
            return fail(err, sub, "expected a list of 1 to %d steps", KW_POLICY_MAX_STEPS);
        for (size_t k = 0; k < json_array_size(steps); k++) {
            char sp[PTR_MAX + 96];
            snprintf(sp, sizeof(sp), "%s/%zu", sub, k);
            if (parse_step(json_array_get(steps, k), sp, &e->step[k], err) != KW_OK)
                return err->code;
            if (k > 0 && e->step[k].after < e->step[k - 1].after)
                return fail(err, sp, "steps run in order: after must not go down");
        }
        e->n_steps = json_array_size(steps);
    }
    p->n_chains = json_array_size(v);
    return KW_OK;
}

size_t kw_policy_chain_count(const struct kw_policy *p)
{
    return p->n_chains;
}

const struct kw_escalation *kw_policy_chain(const struct kw_policy *p, size_t i)
{
    return &p->chain[i];
}

/* ---- service nodes ---- */

static enum kw_code parse_nodes(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    static const char *const keys[] = {"id", "label", "at", NULL};
    if (!v)
        return KW_OK;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > KW_POLICY_MAX_NODES)
        return fail(err, "/service_nodes",
                    "expected a list of 1 to %d nodes, like [{\"id\": \"registered\", "
                    "\"label\": {\"zh\": \"登记\", \"en\": \"Registered\"}, \"at\": "
                    "\"created\"}]",
                    KW_POLICY_MAX_NODES);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        char ptr[PTR_MAX], fp[PTR_MAX + 16];
        subi(ptr, "/service_nodes", i);
        if (!json_is_object(e))
            return fail(err, ptr, "expected an object with id, label and at");
        if (only_keys(e, ptr, keys, err) != KW_OK)
            return err->code;
        json_t *id = json_object_get(e, "id"), *at = json_object_get(e, "at");
        snprintf(fp, sizeof(fp), "%s/id", ptr);
        if (!json_is_string(id) || !id_ok(json_string_value(id)))
            return fail(err, fp, "missing: an id (letters, digits, _ - .)");
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->nodes[k].id, json_string_value(id)) == 0)
                return fail(err, fp, "\"%s\" is listed twice", p->nodes[k].id);
        snprintf(fp, sizeof(fp), "%s/at", ptr);
        const char *a = json_string_value(at);
        if (!a || (strcmp(a, "created") != 0 && !is_milestone(p, a) && !is_state(p, a)))
            return fail(err, fp, "expected created, a milestone or a state");
        snprintf(fp, sizeof(fp), "%s/label", ptr);
        if (label_ok(json_object_get(e, "label"), fp, err) != KW_OK)
            return err->code;
        p->nodes[i] = (struct node){json_string_value(id), a, json_object_get(e, "label")};
    }
    p->n_nodes = json_array_size(v);
    return KW_OK;
}

size_t kw_policy_node_count(const struct kw_policy *p)
{
    return p->n_nodes ? p->n_nodes : SIZE(default_nodes);
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
        return label_in(p->nodes[i].label, lang, p->nodes[i].id);
    return lang && strncmp(lang, "zh", 2) == 0 ? default_nodes[i].zh : default_nodes[i].en;
}

int64_t kw_policy_reopen_window(const struct kw_policy *p)
{
    return p->reopen_window;
}

/* ---- the document ---- */

struct kw_policy *kw_policy_from_json(json_t *doc, struct kw_err *err)
{
    static const char *const keys[] = {"name",
                                       "version",
                                       "effective_from",
                                       "description",
                                       "letter",
                                       "calendars",
                                       "levels",
                                       "tiers",
                                       "categories",
                                       "regions",
                                       "channels",
                                       "organisations",
                                       "milestones",
                                       "states",
                                       "reopen_revokes",
                                       "metrics",
                                       "targets",
                                       "on_level_change",
                                       "on_reopen",
                                       "reopen_window",
                                       "service_nodes",
                                       "escalations",
                                       NULL};
    struct kw_policy *p = calloc(1, sizeof(*p));
    json_t *v;
    if (!p) {
        kw_err_set(err, KW_NOMEM, NULL, "no memory for the policy");
        return NULL;
    }
    p->doc = json_incref(doc);
    if (!json_is_object(doc)) {
        fail(err, "", "a policy must be a JSON object");
        goto fail;
    }
    if (only_keys(doc, "", keys, err) != KW_OK)
        goto fail;
    v = json_object_get(doc, "name");
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 200) {
        fail(err, "/name", "missing: the commitment's name (a string of at most 200 bytes)");
        goto fail;
    }
    p->name = json_string_value(v);
    v = json_object_get(doc, "version");
    if (!json_is_string(v) || !id_ok(json_string_value(v))) {
        fail(err, "/version", "missing: a version like \"2026.1\" (letters, digits, _ - .)");
        goto fail;
    }
    p->version = json_string_value(v);
    v = json_object_get(doc, "effective_from");
    if (!json_is_string(v)) {
        fail(err, "/effective_from", "missing: an instant like \"2026-01-01T00:00:00+08:00\"");
        goto fail;
    }
    struct kw_err e2 = {0};
    if (kw_instant_parse(json_string_value(v), json_string_length(v), &p->effective_from, &e2) !=
        KW_OK) {
        fail(err, "/effective_from", "%s", e2.msg);
        goto fail;
    }
    if (label_ok(json_object_get(doc, "description"), "/description", err) != KW_OK)
        goto fail;
    v = json_object_get(doc, "letter");
    if (v && !json_is_object(v)) {
        fail(err, "/letter", "expected an object of texts for the letter");
        goto fail;
    }
    v = json_object_get(doc, "on_level_change");
    if (v) {
        if (json_is_string(v) && strcmp(json_string_value(v), "recompute") == 0)
            p->on_change = KW_CHANGE_RECOMPUTE;
        else if (json_is_string(v) && strcmp(json_string_value(v), "keep") == 0)
            p->on_change = KW_CHANGE_KEEP;
        else {
            fail(err, "/on_level_change", "expected \"recompute\" or \"keep\"");
            goto fail;
        }
    }
    v = json_object_get(doc, "on_reopen");
    if (v) {
        if (json_is_string(v) && strcmp(json_string_value(v), "resume") == 0)
            p->on_reopen = KW_REOPEN_RESUME;
        else if (json_is_string(v) && strcmp(json_string_value(v), "restart") == 0)
            p->on_reopen = KW_REOPEN_RESTART;
        else {
            fail(err, "/on_reopen", "expected \"resume\" or \"restart\"");
            goto fail;
        }
    }
    p->reopen_window = DEFAULT_REOPEN_WINDOW;
    if ((v = json_object_get(doc, "reopen_window")) &&
        duration(v, "/reopen_window", &p->reopen_window, err) != KW_OK)
        goto fail;
    if (parse_calendars(p, json_object_get(doc, "calendars"), err) != KW_OK)
        goto fail;
    for (int a = 0; a < KW_ATTR_COUNT; a++) {
        v = json_object_get(doc, vocab_keys[a]);
        if (!v && a == KW_ATTR_LEVEL) {
            fail(err, "/levels", "missing: the levels, like [{\"id\": \"L1\", \"label\": ...}]");
            goto fail;
        }
        if (v && parse_vocab(p, (enum kw_attr)a, v, err) != KW_OK)
            goto fail;
    }
    if ((v = json_object_get(doc, "milestones")) &&
        parse_extra_names(v, "milestones", &p->milestones, err) != KW_OK)
        goto fail;
    if ((v = json_object_get(doc, "states")) &&
        parse_extra_names(v, "states", &p->states, err) != KW_OK)
        goto fail;
    for (size_t i = 0; i < p->milestones.n; i++) {
        if (strcmp(p->milestones.v[i], "created") == 0 ||
            in_list(builtin_milestones, SIZE(builtin_milestones), p->milestones.v[i])) {
            char ptr[PTR_MAX];
            subi(ptr, "/milestones", i);
            fail(err, ptr, "\"%s\" is built in; list only new milestones", p->milestones.v[i]);
            goto fail;
        }
    }
    if ((v = json_object_get(doc, "reopen_revokes"))) {
        if (string_list(v, "/reopen_revokes", &p->revoked, false, err) != KW_OK)
            goto fail;
        p->has_revoked = true;
        for (size_t i = 0; i < p->revoked.n; i++) {
            if (!is_milestone(p, p->revoked.v[i])) {
                char ptr[PTR_MAX];
                subi(ptr, "/reopen_revokes", i);
                fail(err, ptr, "unknown milestone \"%.40s\"", p->revoked.v[i]);
                goto fail;
            }
        }
    }
    v = json_object_get(doc, "metrics");
    if (!json_is_array(v) || json_array_size(v) == 0) {
        fail(err, "/metrics",
             "missing: a list of metrics, like [{\"id\": \"response\", "
             "\"start\": \"created\", \"stop\": [\"first_response\"]}]");
        goto fail;
    }
    if (json_array_size(v) > KW_POLICY_MAX_METRICS) {
        fail(err, "/metrics", "more than %d metrics", KW_POLICY_MAX_METRICS);
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(v); i++, p->n_metrics++)
        if (parse_metric(p, i, json_array_get(v, i), err) != KW_OK)
            goto fail;
    p->n_metrics = json_array_size(v);
    v = json_object_get(doc, "targets");
    if (!json_is_array(v) || json_array_size(v) == 0) {
        fail(err, "/targets", "missing: a list of target rules");
        goto fail;
    }
    if (json_array_size(v) > KW_POLICY_MAX_RULES) {
        fail(err, "/targets", "more than %d rules", KW_POLICY_MAX_RULES);
        goto fail;
    }
    p->rules = calloc(json_array_size(v), sizeof(*p->rules));
    p->rules_cap = p->rules ? json_array_size(v) : 0;
    if (!p->rules) {
        kw_err_set(err, KW_NOMEM, NULL, "no memory for the rules");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(v); i++, p->n_rules++)
        if (parse_rule(p, i, json_array_get(v, i), err) != KW_OK)
            goto fail;
    if (parse_nodes(p, json_object_get(doc, "service_nodes"), err) != KW_OK)
        goto fail;
    if (parse_escalations(p, json_object_get(doc, "escalations"), err) != KW_OK)
        goto fail;
    return p;
fail:
    if (err && err->code == KW_OK)
        err->code = KW_INVALID;
    kw_policy_free(p);
    return NULL;
}

struct kw_policy *kw_policy_parse(const char *text, size_t len, struct kw_err *err)
{
    json_error_t jerr;
    if (len > (64u << 20)) {
        kw_err_set(err, KW_TOO_BIG, "", "policy is %zu bytes, at most 64 MiB", len);
        return NULL;
    }
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        kw_err_set(err, KW_INVALID, "", "not valid JSON at line %d column %d: %s", jerr.line,
                   jerr.column, jerr.text);
        return NULL;
    }
    struct kw_policy *p = kw_policy_from_json(doc, err);
    json_decref(doc);
    return p;
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
    for (size_t m = 0; m < KW_POLICY_MAX_METRICS; m++) {
        free(p->metric[m].stop.v);
        free(p->metric[m].pause.v);
    }
    for (size_t r = 0; r < p->rules_cap; r++)
        for (int a = 0; a < KW_ATTR_COUNT; a++)
            free(p->rules[r].when[a].v);
    free(p->rules);
    json_decref(p->doc);
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

enum kw_on_change kw_policy_on_level_change(const struct kw_policy *p)
{
    return p->on_change;
}

enum kw_on_reopen kw_policy_on_reopen(const struct kw_policy *p)
{
    return p->on_reopen;
}

json_t *kw_policy_doc(const struct kw_policy *p)
{
    return p->doc;
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
    return &p->cal[i];
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
    return label_in(p->vocab[KW_ATTR_LEVEL][i].label, lang, p->vocab[KW_ATTR_LEVEL][i].id);
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
    return label_in(p->metric[m].label, lang, p->metric[m].id);
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
    json_t *id = json_object_get(json_array_get(json_object_get(p->doc, "targets"), r), "id");
    return json_is_string(id) ? json_string_value(id) : NULL;
}

const char *kw_policy_description(const struct kw_policy *p, const char *lang)
{
    return label_in(json_object_get(p->doc, "description"), lang, NULL);
}

const char *kw_policy_attr_label(const struct kw_policy *p, enum kw_attr a, const char *id,
                                 const char *lang)
{
    for (size_t i = 0; i < p->n_vocab[a]; i++)
        if (strcmp(p->vocab[a][i].id, id) == 0)
            return label_in(p->vocab[a][i].label, lang, id);
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

bool kw_policy_is_milestone(const struct kw_policy *p, const char *name)
{
    return is_milestone(p, name);
}

bool kw_policy_is_state(const struct kw_policy *p, const char *name)
{
    return is_state(p, name);
}

bool kw_policy_reopen_revokes(const struct kw_policy *p, const char *name)
{
    if (p->has_revoked)
        return in_names(&p->revoked, name);
    return in_list(default_revoked, SIZE(default_revoked), name);
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

/* ---- resolution ---- */

static bool rule_holds(const struct rule *r, const struct kw_ticket_attrs *t, int *failed)
{
    for (int a = 0; a < KW_ATTR_COUNT; a++) {
        if (r->when[a].n == 0)
            continue;
        const char *v = t->v[a];
        if (!v || !*v || !in_names(&r->when[a], v)) {
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
    const struct rule *x = &p->rules[r];
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
    char list[PTR_MAX];
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
