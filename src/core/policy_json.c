// SPDX-License-Identifier: MIT
/*
 * policy_json.c - decoding and validating a policy from JSON (docs/policy.md).
 *
 * The document is read top-down in the order docs/policy.md lists it, so the
 * first mistake is the one reported. Every refusal is located: a JSON pointer
 * in err->field and the same place written as a path in err->msg. Strings
 * are copied into the policy's pool (policy_internal.h).
 */
#include "policy_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar_json.h"
#include "civil.h"
#include "credit.h"
#include "policy_internal.h"

/* The vocabulary a policy may declare per attribute (levels are required). */
static const char *const vocab_keys[KW_ATTR_COUNT] = {
    "levels", "tiers", "categories", "regions", "channels", "organisations",
};
static const char *const letter_keys[KW_LETTER_COUNT] = {"provider", "scope", "contact"};

#define DEFAULT_REOPEN_WINDOW (7 * 86400)

/* ---- helpers ---- */

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

/* The policy's own copy of JSON string s. */
static const char *keep(struct kw_policy *p, json_t *s)
{
    const char *v = json_string_value(s);
    return kw_policy_keep(p, v, strlen(v));
}

/* A list of strings (or, with allow_single, one string) into names. */
static enum kw_code string_list(struct kw_policy *p, json_t *v, const char *ptr,
                                struct kw_names *out, bool allow_single, struct kw_err *err)
{
    out->n = 0;
    out->v = NULL;
    if (allow_single && json_is_string(v)) {
        out->v = malloc(sizeof(*out->v));
        if (!out->v)
            return kw_err_set(err, KW_NOMEM, ptr, "no memory");
        out->v[0] = keep(p, v);
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
            char sp[PTR_MAX];
            subi(sp, ptr, i);
            return fail(err, sp, "expected a string");
        }
        out->v[out->n++] = keep(p, s);
    }
    return KW_OK;
}

/* A label: absent, one string for both languages, or {"zh": ..., "en": ...}. */
static enum kw_code label(struct kw_policy *p, json_t *v, const char *ptr, struct kw_label *out,
                          struct kw_err *err)
{
    *out = (struct kw_label){0};
    if (!v)
        return KW_OK;
    if (json_is_string(v)) {
        out->zh = out->en = keep(p, v);
        return KW_OK;
    }
    if (!json_is_object(v))
        return fail(err, ptr, "expected a string or {\"zh\": ..., \"en\": ...}");
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        char kp[PTR_MAX];
        subs(kp, ptr, key);
        if (strcmp(key, "zh") != 0 && strcmp(key, "en") != 0)
            return fail(err, kp, "unknown language (expected zh or en)");
        if (!json_is_string(val))
            return fail(err, kp, "expected a string");
        *(strcmp(key, "zh") == 0 ? &out->zh : &out->en) = keep(p, val);
    }
    return KW_OK;
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

/* v (may be NULL: keep *out) as one of two words, 0 for `a` and 1 for `b`. */
static enum kw_code choice(json_t *v, const char *ptr, const char *a, const char *b, int *out,
                           struct kw_err *err)
{
    if (!v)
        return KW_OK;
    if (json_is_string(v) && strcmp(json_string_value(v), a) == 0)
        *out = 0;
    else if (json_is_string(v) && strcmp(json_string_value(v), b) == 0)
        *out = 1;
    else
        return fail(err, ptr, "expected \"%s\" or \"%s\"", a, b);
    return KW_OK;
}

/* ---- the head of the document ---- */

static enum kw_code name_version(struct kw_policy *p, json_t *doc, struct kw_err *err)
{
    json_t *v = json_object_get(doc, "name");
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 200)
        return fail(err, "/name", "missing: the commitment's name (a string of at most 200 bytes)");
    p->name = keep(p, v);
    v = json_object_get(doc, "version");
    if (!json_is_string(v) || !id_ok(json_string_value(v)))
        return fail(err, "/version", "missing: a version like \"2026.1\" (letters, digits, _ - .)");
    p->version = keep(p, v);
    v = json_object_get(doc, "effective_from");
    if (!json_is_string(v))
        return fail(err, "/effective_from",
                    "missing: an instant like \"2026-01-01T00:00:00+08:00\"");
    struct kw_err e2 = {0};
    if (kw_instant_parse(json_string_value(v), json_string_length(v), &p->effective_from, &e2) !=
        KW_OK)
        return fail(err, "/effective_from", "%s", e2.msg);
    p->effective_from_text = keep(p, v);
    return KW_OK;
}

/* "letter": an object; the letter prints {"zh"|"en": {"provider", "scope",
 * "contact"}} where they are strings and ignores the rest. */
static enum kw_code letter_texts(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    if (!v)
        return KW_OK;
    if (!json_is_object(v))
        return fail(err, "/letter", "expected an object of texts for the letter");
    json_t *zh = json_object_get(v, "zh"), *en = json_object_get(v, "en");
    for (size_t t = 0; t < KW_LETTER_COUNT; t++) {
        json_t *z = json_object_get(zh, letter_keys[t]), *e = json_object_get(en, letter_keys[t]);
        p->letter[t].zh = json_is_string(z) ? keep(p, z) : NULL;
        p->letter[t].en = json_is_string(e) ? keep(p, e) : NULL;
    }
    return KW_OK;
}

/* What level changes and reopening do, and for how long a ticket reopens. */
static enum kw_code behaviour(struct kw_policy *p, json_t *doc, struct kw_err *err)
{
    int change = 0, reopen = 0; /* the first word of each choice */
    if (choice(json_object_get(doc, "on_level_change"), "/on_level_change", "recompute", "keep",
               &change, err) != KW_OK ||
        choice(json_object_get(doc, "on_reopen"), "/on_reopen", "resume", "restart", &reopen,
               err) != KW_OK)
        return KW_INVALID;
    p->on_change = change ? KW_CHANGE_KEEP : KW_CHANGE_RECOMPUTE;
    p->on_reopen = reopen ? KW_REOPEN_RESTART : KW_REOPEN_RESUME;
    p->reopen_window = DEFAULT_REOPEN_WINDOW;
    json_t *v = json_object_get(doc, "reopen_window");
    if (v && duration(v, "/reopen_window", &p->reopen_window, err) != KW_OK)
        return KW_INVALID;
    return KW_OK;
}

/* ---- calendars and vocabularies ---- */

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
        p->cal_name[i] = kw_policy_keep(p, key, strlen(key));
        if (json_is_string(val)) { /* the name of a stored calendar */
            size_t len = json_string_length(val);
            if (len == 0 || len >= KW_CAL_NAME_MAX)
                return fail(err, ptr,
                            "expected the name of a stored calendar (1-%d bytes) or a calendar "
                            "object",
                            KW_CAL_NAME_MAX - 1);
            p->cal_ref[i] = kw_policy_keep(p, json_string_value(val), len);
            continue;
        }
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

/* One entry of levels/tiers/...: an id or {"id", "label", "description"}. */
static enum kw_code vocab_item(struct kw_policy *p, json_t *e, const char *ep,
                               struct kw_vocab_item *out, struct kw_err *err)
{
    static const char *const keys[] = {"id", "label", "description", NULL};
    json_t *id = e;
    out->label = (struct kw_label){0};
    if (json_is_object(e)) {
        struct kw_label desc; /* checked; the letter does not print it */
        char lp[PTR_MAX];
        if (only_keys(e, ep, keys, err) != KW_OK)
            return KW_INVALID;
        id = json_object_get(e, "id");
        subs(lp, ep, "label");
        if (label(p, json_object_get(e, "label"), lp, &out->label, err) != KW_OK)
            return KW_INVALID;
        subs(lp, ep, "description");
        if (label(p, json_object_get(e, "description"), lp, &desc, err) != KW_OK)
            return KW_INVALID;
    }
    if (!json_is_string(id) || !id_ok(json_string_value(id)))
        return fail(err, ep, "expected an id (letters, digits, _ - .) or {\"id\": ...}");
    out->id = keep(p, id);
    return KW_OK;
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
    p->vocab[a] = calloc(n ? n : 1, sizeof(struct kw_vocab_item));
    if (!p->vocab[a])
        return kw_err_set(err, KW_NOMEM, ptr, "no memory");
    for (size_t i = 0; i < n; i++) {
        struct kw_vocab_item *x = &p->vocab[a][i];
        char ep[PTR_MAX];
        subi(ep, ptr, i);
        if (vocab_item(p, json_array_get(v, i), ep, x, err) != KW_OK)
            return KW_INVALID;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->vocab[a][j].id, x->id) == 0)
                return fail(err, ep, "duplicate id \"%s\"", x->id);
        p->n_vocab[a]++;
    }
    return KW_OK;
}

static enum kw_code parse_vocabs(struct kw_policy *p, json_t *doc, struct kw_err *err)
{
    for (int a = 0; a < KW_ATTR_COUNT; a++) {
        json_t *v = json_object_get(doc, vocab_keys[a]);
        if (!v && a == KW_ATTR_LEVEL)
            return fail(err, "/levels",
                        "missing: the levels, like [{\"id\": \"L1\", \"label\": ...}]");
        if (v && parse_vocab(p, (enum kw_attr)a, v, err) != KW_OK)
            return KW_INVALID;
    }
    return KW_OK;
}

/* ---- milestones and states ---- */

static enum kw_code parse_extra_names(struct kw_policy *p, json_t *v, const char *key,
                                      struct kw_names *out, struct kw_err *err)
{
    char ptr[PTR_MAX];
    subs(ptr, "", key);
    if (string_list(p, v, ptr, out, false, err) != KW_OK)
        return KW_INVALID;
    for (size_t i = 0; i < out->n; i++) {
        if (!id_ok(out->v[i])) {
            char base[PTR_MAX];
            subs(base, "", key);
            subi(ptr, base, i);
            return fail(err, ptr, "\"%.40s\" is not a valid name (letters, digits, _ - .)",
                        out->v[i]);
        }
    }
    return KW_OK;
}

/* Declared milestones and states (only new ones), and what reopening revokes. */
static enum kw_code parse_names(struct kw_policy *p, json_t *doc, struct kw_err *err)
{
    json_t *v;
    char ptr[PTR_MAX];
    if ((v = json_object_get(doc, "milestones")) &&
        parse_extra_names(p, v, "milestones", &p->milestones, err) != KW_OK)
        return KW_INVALID;
    if ((v = json_object_get(doc, "states")) &&
        parse_extra_names(p, v, "states", &p->states, err) != KW_OK)
        return KW_INVALID;
    for (size_t i = 0; i < p->milestones.n; i++) {
        if (strcmp(p->milestones.v[i], "created") == 0 ||
            kw_builtin_milestone(p->milestones.v[i])) {
            subi(ptr, "/milestones", i);
            return fail(err, ptr, "\"%s\" is built in; list only new milestones",
                        p->milestones.v[i]);
        }
    }
    if (!(v = json_object_get(doc, "reopen_revokes")))
        return KW_OK;
    if (string_list(p, v, "/reopen_revokes", &p->revoked, false, err) != KW_OK)
        return KW_INVALID;
    p->has_revoked = true;
    for (size_t i = 0; i < p->revoked.n; i++) {
        if (!kw_policy_is_milestone(p, p->revoked.v[i])) {
            subi(ptr, "/reopen_revokes", i);
            return fail(err, ptr, "unknown milestone \"%.40s\"", p->revoked.v[i]);
        }
    }
    return KW_OK;
}

/* What replies mean: the milestones a public staff reply implies, and
 * whether a customer's reply ends waiting for the customer. */
static enum kw_code parse_replies(struct kw_policy *p, json_t *doc, struct kw_err *err)
{
    char ptr[PTR_MAX];
    json_t *v = json_object_get(doc, "customer_reply_resumes");
    if (v && !json_is_boolean(v))
        return fail(err, "/customer_reply_resumes", "expected true or false");
    p->reply_stays = v && json_is_false(v);
    if (!(v = json_object_get(doc, "public_reply_implies")))
        return KW_OK;
    if (json_is_array(v) && json_array_size(v) > 8)
        return fail(err, "/public_reply_implies", "expected a list of at most 8 milestones");
    if (string_list(p, v, "/public_reply_implies", &p->implied, false, err) != KW_OK)
        return KW_INVALID;
    p->has_implied = true;
    for (size_t i = 0; i < p->implied.n; i++) {
        subi(ptr, "/public_reply_implies", i);
        if (!kw_policy_is_milestone(p, p->implied.v[i]))
            return fail(err, ptr,
                        "unknown milestone \"%.40s\" (expected a built-in milestone such as "
                        "first_response or acknowledged, or one listed in milestones)",
                        p->implied.v[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->implied.v[j], p->implied.v[i]) == 0)
                return fail(err, ptr, "\"%.40s\" is listed twice", p->implied.v[i]);
    }
    return KW_OK;
}

/* ---- metrics ---- */

static enum kw_code metric_id(struct kw_policy *p, size_t i, json_t *m, const char *ptr,
                              struct kw_err *err)
{
    static const char *const reserved[] = {"id", "when", "calendar", "note"};
    struct kw_metric_def *x = &p->metric[i];
    json_t *id = json_object_get(m, "id");
    char fp[PTR_MAX];
    subs(fp, ptr, "id");
    if (!json_is_string(id) || !id_ok(json_string_value(id)))
        return fail(err, fp, "expected an id (letters, digits, _ - .)");
    x->id = keep(p, id);
    for (size_t j = 0; j < i; j++)
        if (strcmp(p->metric[j].id, x->id) == 0)
            return fail(err, fp, "duplicate metric id \"%s\"", x->id);
    if (kw_list_has(reserved, KW_SIZE(reserved), x->id))
        return fail(err, fp, "\"%s\" is reserved in target rules; choose another id", x->id);
    return KW_OK;
}

/* "start": created or a milestone; "stop": milestones other than the start. */
static enum kw_code metric_start_stop(struct kw_policy *p, struct kw_metric_def *x, json_t *m,
                                      const char *ptr, struct kw_err *err)
{
    json_t *start = json_object_get(m, "start"), *stop = json_object_get(m, "stop");
    char fp[PTR_MAX];
    subs(fp, ptr, "start");
    if (!json_is_string(start))
        return fail(err, fp, "missing: \"created\" or a milestone");
    x->start = keep(p, start);
    if (strcmp(x->start, "created") != 0 && !kw_policy_is_milestone(p, x->start))
        return fail(err, fp, "\"%.40s\" is not \"created\" or a milestone", x->start);
    subs(fp, ptr, "stop");
    if (!stop)
        return fail(err, fp, "missing: the milestones that stop this clock");
    if (string_list(p, stop, fp, &x->stop, true, err) != KW_OK)
        return KW_INVALID;
    if (x->stop.n == 0)
        return fail(err, fp, "metric \"%s\" can never stop: list at least one milestone", x->id);
    for (size_t j = 0; j < x->stop.n; j++) {
        char sp[PTR_MAX];
        subi(sp, fp, j);
        if (!kw_policy_is_milestone(p, x->stop.v[j]))
            return fail(err, sp, "unknown milestone \"%.40s\" (declare it under milestones)",
                        x->stop.v[j]);
        if (strcmp(x->stop.v[j], x->start) == 0)
            return fail(err, sp, "metric \"%s\" can never stop: it starts and stops at \"%s\"",
                        x->id, x->start);
    }
    return KW_OK;
}

/* "pause_when": ticket states during which the clock does not run. */
static enum kw_code metric_pauses(struct kw_policy *p, struct kw_metric_def *x, json_t *pause,
                                  const char *fp, struct kw_err *err)
{
    if (!pause)
        return KW_OK;
    if (string_list(p, pause, fp, &x->pause, true, err) != KW_OK)
        return KW_INVALID;
    for (size_t j = 0; j < x->pause.n; j++) {
        char sp[PTR_MAX];
        subi(sp, fp, j);
        if (!kw_policy_is_state(p, x->pause.v[j]))
            return fail(err, sp, "unknown ticket state \"%.40s\" (declare it under states)",
                        x->pause.v[j]);
    }
    return KW_OK;
}

/* "warn_at": distinct percentages 1-100, kept ascending. */
static enum kw_code metric_warn(struct kw_metric_def *x, json_t *warn, const char *fp,
                                struct kw_err *err)
{
    if (!warn)
        return KW_OK;
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
    return KW_OK;
}

/* "kpi": "response" or "resolution", the figure the metric stands for in
 * MTTA / MTTR (docs/kpi.md); at most one metric of each. */
static enum kw_code metric_kpi(struct kw_policy *p, size_t i, json_t *v, const char *ptr,
                               struct kw_err *err)
{
    char fp[PTR_MAX];
    subs(fp, ptr, "kpi");
    if (!v)
        return KW_OK;
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    enum kw_metric_kpi k = strcmp(s, "response") == 0     ? KW_MKPI_RESPONSE
                           : strcmp(s, "resolution") == 0 ? KW_MKPI_RESOLUTION
                                                          : KW_MKPI_NONE;
    if (k == KW_MKPI_NONE)
        return fail(err, fp,
                    "expected \"response\" (the metric MTTA measures) or \"resolution\" "
                    "(MTTR)");
    for (size_t j = 0; j < i; j++)
        if (p->metric[j].kpi == k)
            return fail(err, fp,
                        "metric \"%s\" is already marked \"%s\": at most one metric "
                        "of each",
                        p->metric[j].id, s);
    p->metric[i].kpi = k;
    return KW_OK;
}

static enum kw_code parse_metric(struct kw_policy *p, size_t i, json_t *m, struct kw_err *err)
{
    static const char *const keys[] = {"id",      "label",      "start", "stop", "pause_when",
                                       "warn_at", "staff_only", "kpi",   NULL};
    char ptr[PTR_MAX], fp[PTR_MAX];
    struct kw_metric_def *x = &p->metric[i];
    subi(ptr, "/metrics", i);
    if (!json_is_object(m))
        return fail(err, ptr, "expected an object with id, start, stop");
    if (only_keys(m, ptr, keys, err) != KW_OK || metric_id(p, i, m, ptr, err) != KW_OK)
        return KW_INVALID;
    subs(fp, ptr, "label");
    if (label(p, json_object_get(m, "label"), fp, &x->label, err) != KW_OK ||
        metric_start_stop(p, x, m, ptr, err) != KW_OK)
        return KW_INVALID;
    subs(fp, ptr, "pause_when");
    if (metric_pauses(p, x, json_object_get(m, "pause_when"), fp, err) != KW_OK)
        return KW_INVALID;
    /* the call-back (a clock that starts at closing) is the provider's
     * own follow-up: staff-only unless the commitment says otherwise */
    json_t *so = json_object_get(m, "staff_only");
    subs(fp, ptr, "staff_only");
    if (so && !json_is_boolean(so))
        return fail(err, fp, "expected true or false");
    x->staff_only = so ? json_is_true(so) : strcmp(x->start, "closed") == 0;
    if (metric_kpi(p, i, json_object_get(m, "kpi"), ptr, err) != KW_OK)
        return KW_INVALID;
    subs(fp, ptr, "warn_at");
    return metric_warn(x, json_object_get(m, "warn_at"), fp, err);
}

static enum kw_code parse_metrics(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(err, "/metrics",
                    "missing: a list of metrics, like [{\"id\": \"response\", "
                    "\"start\": \"created\", \"stop\": [\"first_response\"]}]");
    if (json_array_size(v) > KW_POLICY_MAX_METRICS)
        return fail(err, "/metrics", "more than %d metrics", KW_POLICY_MAX_METRICS);
    for (size_t i = 0; i < json_array_size(v); i++, p->n_metrics++)
        if (parse_metric(p, i, json_array_get(v, i), err) != KW_OK)
            return KW_INVALID;
    return KW_OK;
}

/* ---- target rules ---- */

/* The rule's "calendar", else the only calendar there is, else -1. */
static enum kw_code rule_calendar(const struct kw_policy *p, json_t *r, const char *ptr, int *out,
                                  struct kw_err *err)
{
    json_t *cal = json_object_get(r, "calendar");
    *out = -1;
    if (cal) {
        char fp[PTR_MAX];
        subs(fp, ptr, "calendar");
        if (!json_is_string(cal) || (*out = calendar_index(p, json_string_value(cal))) < 0)
            return fail(err, fp, "unknown calendar \"%.40s\"",
                        json_is_string(cal) ? json_string_value(cal) : "?");
    } else if (p->n_cal == 1) {
        *out = 0;
    }
    return KW_OK;
}

/* "when": {attribute: declared value or list of them}. */
static enum kw_code rule_when(struct kw_policy *p, struct kw_rule *x, json_t *val, const char *fp,
                              struct kw_err *err)
{
    const char *ak;
    json_t *av;
    if (!json_is_object(val))
        return fail(err, fp, "expected an object like {\"level\": [\"L1\"]}");
    json_object_foreach(val, ak, av)
    {
        char wp[PTR_MAX];
        subs(wp, fp, ak);
        int a = 0;
        while (a < KW_ATTR_COUNT && strcmp(kw_attr_name((enum kw_attr)a), ak) != 0)
            a++;
        if (a == KW_ATTR_COUNT)
            return fail(err, wp,
                        "unknown condition (expected level, tier, category, region, "
                        "channel, organisation)");
        if (string_list(p, av, wp, &x->when[a], true, err) != KW_OK)
            return KW_INVALID;
        if (x->when[a].n == 0)
            return fail(err, wp, "an empty list matches nothing; leave the condition out");
        for (size_t j = 0; j < x->when[a].n; j++) {
            char vp[PTR_MAX];
            subi(vp, wp, j);
            if (!kw_policy_attr_known(p, (enum kw_attr)a, x->when[a].v[j]))
                return fail(err, vp, "unknown %s \"%.40s\" (declare it under %s)",
                            kw_attr_name((enum kw_attr)a), x->when[a].v[j], vocab_keys[a]);
        }
    }
    return KW_OK;
}

/* metric: a duration, or {"target": duration, "calendar": name}. */
static enum kw_code rule_target(const struct kw_policy *p, struct kw_rule *x, const char *key,
                                json_t *val, const char *ptr, int rule_cal, struct kw_err *err)
{
    char fp[PTR_MAX];
    subs(fp, ptr, key);
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
        if (json_object_get(val, "calendar") && rule_calendar(p, val, fp, &c, err) != KW_OK)
            return KW_INVALID;
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
    return KW_OK;
}

static enum kw_code parse_rule(struct kw_policy *p, size_t i, json_t *r, struct kw_err *err)
{
    char ptr[PTR_MAX];
    struct kw_rule *x = &p->rules[i];
    subi(ptr, "/targets", i);
    if (!json_is_object(r))
        return fail(err, ptr, "expected an object like {\"when\": {...}, \"response\": \"15m\"}");
    int rule_cal;
    if (rule_calendar(p, r, ptr, &rule_cal, err) != KW_OK)
        return KW_INVALID;
    json_t *id = json_object_get(r, "id");
    x->id = json_is_string(id) ? keep(p, id) : NULL;
    const char *key;
    json_t *val;
    bool any = false;
    json_object_foreach(r, key, val)
    {
        if (strcmp(key, "calendar") == 0 || strcmp(key, "id") == 0 || strcmp(key, "note") == 0)
            continue;
        if (strcmp(key, "when") == 0) {
            char fp[PTR_MAX];
            subs(fp, ptr, key);
            if (rule_when(p, x, val, fp, err) != KW_OK)
                return KW_INVALID;
            continue;
        }
        if (rule_target(p, x, key, val, ptr, rule_cal, err) != KW_OK)
            return KW_INVALID;
        any = true;
    }
    if (!any)
        return fail(err, ptr,
                    "the rule sets no target (name a metric, e.g. \"response\": \"15m\")");
    return KW_OK;
}

static enum kw_code parse_rules(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(err, "/targets", "missing: a list of target rules");
    if (json_array_size(v) > KW_POLICY_MAX_RULES)
        return fail(err, "/targets", "more than %d rules", KW_POLICY_MAX_RULES);
    p->rules = calloc(json_array_size(v), sizeof(*p->rules));
    p->rules_cap = p->rules ? json_array_size(v) : 0;
    if (!p->rules)
        return kw_err_set(err, KW_NOMEM, NULL, "no memory for the rules");
    for (size_t i = 0; i < json_array_size(v); i++, p->n_rules++)
        if (parse_rule(p, i, json_array_get(v, i), err) != KW_OK)
            return KW_INVALID;
    return KW_OK;
}

/* ---- service nodes ---- */

static enum kw_code parse_node(struct kw_policy *p, size_t i, json_t *e, struct kw_err *err)
{
    static const char *const keys[] = {"id", "label", "at", NULL};
    char ptr[PTR_MAX], fp[PTR_MAX + 16];
    subi(ptr, "/service_nodes", i);
    if (!json_is_object(e))
        return fail(err, ptr, "expected an object with id, label and at");
    if (only_keys(e, ptr, keys, err) != KW_OK)
        return KW_INVALID;
    json_t *id = json_object_get(e, "id"), *at = json_object_get(e, "at");
    snprintf(fp, sizeof(fp), "%s/id", ptr);
    if (!json_is_string(id) || !id_ok(json_string_value(id)))
        return fail(err, fp, "missing: an id (letters, digits, _ - .)");
    for (size_t k = 0; k < i; k++)
        if (strcmp(p->nodes[k].id, json_string_value(id)) == 0)
            return fail(err, fp, "\"%s\" is listed twice", p->nodes[k].id);
    snprintf(fp, sizeof(fp), "%s/at", ptr);
    const char *a = json_string_value(at);
    if (!a ||
        (strcmp(a, "created") != 0 && !kw_policy_is_milestone(p, a) && !kw_policy_is_state(p, a)))
        return fail(err, fp, "expected created, a milestone or a state");
    snprintf(fp, sizeof(fp), "%s/label", ptr);
    struct kw_node *x = &p->nodes[i];
    if (label(p, json_object_get(e, "label"), fp, &x->label, err) != KW_OK)
        return KW_INVALID;
    x->id = keep(p, id);
    x->at = keep(p, at);
    return KW_OK;
}

static enum kw_code parse_nodes(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    if (!v)
        return KW_OK;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > KW_POLICY_MAX_NODES)
        return fail(err, "/service_nodes",
                    "expected a list of 1 to %d nodes, like [{\"id\": \"registered\", "
                    "\"label\": {\"zh\": \"登记\", \"en\": \"Registered\"}, \"at\": "
                    "\"created\"}]",
                    KW_POLICY_MAX_NODES);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (parse_node(p, i, json_array_get(v, i), err) != KW_OK)
            return KW_INVALID;
    p->n_nodes = json_array_size(v);
    return KW_OK;
}

/* ---- escalation chains (escalation.h) ---- */

static enum kw_code parse_step(struct kw_policy *p, json_t *v, const char *base,
                               struct kw_escalation_step *st, struct kw_err *err)
{
    static const char *const keys[] = {"after", "notify", "reassign", "raise_level", NULL};
    char ptr[PTR_MAX + 128];
    if (!json_is_object(v))
        return fail(err, base, "expected {\"after\", and notify, reassign or raise_level}");
    if (only_keys(v, base, keys, err) != KW_OK)
        return KW_INVALID;
    snprintf(ptr, sizeof(ptr), "%s/after", base);
    json_t *after = json_object_get(v, "after");
    st->after = 0;
    if (after && duration(after, ptr, &st->after, err) != KW_OK)
        return KW_INVALID;
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
    if (!json_is_string(t) ||
        !kw_escalation_target_parse(json_string_value(t), &st->oncall, &st->team) ||
        (reassign && !st->oncall && !st->team))
        return fail(err, ptr,
                    notify ? "expected assignee, team_lead, account_manager or oncall:N"
                           : "expected oncall:N or team:ID");
    st->target = keep(p, t);
    return KW_OK;
}

/* "when": {"metric": ID, "percent": N} or {"unacknowledged": DURATION}. */
static enum kw_code chain_trigger(const struct kw_policy *p, struct kw_escalation *e, json_t *when,
                                  const char *sub, struct kw_err *err)
{
    json_t *metric = json_object_get(when, "metric"), *pct = json_object_get(when, "percent"),
           *unack = json_object_get(when, "unacknowledged");
    if (json_is_object(when) && unack && !metric && !pct) {
        e->metric = -1;
        return duration(unack, sub, &e->unacknowledged, err);
    }
    if (!json_is_object(when) || !json_is_string(metric) || unack)
        return fail(err, sub,
                    "expected {\"metric\": ID, \"percent\": N} or "
                    "{\"unacknowledged\": DURATION}");
    e->metric = kw_policy_metric_index(p, json_string_value(metric));
    if (e->metric < 0)
        return fail(err, sub, "unknown metric \"%.40s\"", json_string_value(metric));
    e->percent = pct ? (int)json_integer_value(pct) : 100;
    if (pct && (!json_is_integer(pct) || e->percent < 1 || e->percent > 100))
        return fail(err, sub, "percent: expected 1 to 100 (100: the breach)");
    if (!kw_escalation_percent_ok(p, (size_t)e->metric, e->percent))
        return fail(err, sub, "percent %d is not a warn_at of %s", e->percent,
                    p->metric[e->metric].id);
    return KW_OK;
}

/* "steps": 1 to KW_POLICY_MAX_STEPS, their "after" never going down. */
static enum kw_code chain_steps(struct kw_policy *p, struct kw_escalation *e, json_t *steps,
                                const char *sub, struct kw_err *err)
{
    if (!json_is_array(steps) || json_array_size(steps) == 0 ||
        json_array_size(steps) > KW_POLICY_MAX_STEPS)
        return fail(err, sub, "expected a list of 1 to %d steps", KW_POLICY_MAX_STEPS);
    for (size_t k = 0; k < json_array_size(steps); k++) {
        char sp[PTR_MAX + 96];
        snprintf(sp, sizeof(sp), "%s/%zu", sub, k);
        if (parse_step(p, json_array_get(steps, k), sp, &e->step[k], err) != KW_OK)
            return KW_INVALID;
        if (k > 0 && e->step[k].after < e->step[k - 1].after)
            return fail(err, sp, "steps run in order: after must not go down");
    }
    e->n_steps = json_array_size(steps);
    return KW_OK;
}

static enum kw_code parse_chain(struct kw_policy *p, size_t i, json_t *c, struct kw_err *err)
{
    static const char *const keys[] = {"id", "when", "steps", NULL};
    struct kw_escalation *e = &p->chain[i];
    char ptr[PTR_MAX], sub[PTR_MAX + 32];
    subi(ptr, "/escalations", i);
    if (!json_is_object(c))
        return fail(err, ptr, "expected {\"id\", \"when\", \"steps\"}");
    if (only_keys(c, ptr, keys, err) != KW_OK)
        return KW_INVALID;
    json_t *id = json_object_get(c, "id");
    snprintf(sub, sizeof(sub), "%s/id", ptr);
    if (!json_is_string(id) || !id_ok(json_string_value(id)))
        return fail(err, sub, "missing: an id (letters, digits, _ - .)");
    e->id = keep(p, id);
    snprintf(sub, sizeof(sub), "%s/when", ptr);
    if (chain_trigger(p, e, json_object_get(c, "when"), sub, err) != KW_OK)
        return KW_INVALID;
    snprintf(sub, sizeof(sub), "%s/steps", ptr);
    return chain_steps(p, e, json_object_get(c, "steps"), sub, err);
}

static enum kw_code parse_escalations(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    if (!v)
        return KW_OK;
    if (!json_is_array(v) || json_array_size(v) > KW_POLICY_MAX_CHAINS)
        return fail(err, "/escalations", "expected a list of at most %d chains",
                    KW_POLICY_MAX_CHAINS);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (parse_chain(p, i, json_array_get(v, i), err) != KW_OK)
            return KW_INVALID;
    p->n_chains = json_array_size(v);
    return KW_OK;
}

/* ---- compensation (docs/policy.md "Compensation") ---- */

/* A percentage (0 < x <= 100, at most four decimals) as ppm of the value. */
static enum kw_code percent_ppm(json_t *v, const char *ptr, int64_t *out, struct kw_err *err)
{
    double x = json_number_value(v);
    double scaled = x * 10000.0;
    int64_t ppm = (int64_t)(scaled + 0.5);
    if (!json_is_number(v) || !(x > 0) || x > 100 || scaled - (double)ppm > 1e-6 ||
        (double)ppm - scaled > 1e-6)
        return fail(err, ptr,
                    "expected a percentage above 0, at most 100, with at most four "
                    "decimals (0.5 is 0.5%%)");
    *out = ppm;
    return KW_OK;
}

/* An amount in minor units: a whole number above 0. */
static enum kw_code amount(json_t *v, const char *ptr, int64_t *out, struct kw_err *err)
{
    if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
        json_integer_value(v) > INT64_MAX / 1000000)
        return fail(err, ptr,
                    "expected an amount in the contract's minor units (fen, cents): a "
                    "whole number above 0");
    *out = json_integer_value(v);
    return KW_OK;
}

/* {"percent": x} of the contract's value, or {"amount": n}. */
static enum kw_code comp_cap(json_t *v, const char *ptr, struct kw_cap *out, struct kw_err *err)
{
    static const char *const keys[] = {"percent", "amount", NULL};
    char sp[PTR_MAX];
    if (!json_is_object(v) || json_object_size(v) != 1 || only_keys(v, ptr, keys, err) != KW_OK)
        return fail(err, ptr,
                    "expected {\"percent\": 10} (of the contract's value) or "
                    "{\"amount\": 100000} (minor units)");
    out->set = true;
    out->share = json_object_get(v, "percent") != NULL;
    subs(sp, ptr, out->share ? "percent" : "amount");
    return out->share ? percent_ppm(json_object_get(v, "percent"), sp, &out->v, err)
                      : amount(json_object_get(v, "amount"), sp, &out->v, err);
}

static enum kw_code comp_rule(struct kw_policy *p, size_t i, json_t *r, struct kw_err *err)
{
    static const char *const keys[] = {"when", "metric", "credit", "remedy", "note", NULL};
    static const char *const credit_keys[] = {"percent_per_hour", "hours", "amount",
                                              "cap_per_ticket", NULL};
    static const char *const remedy_keys[] = {"item", "quantity", "unit", NULL};
    char ptr[PTR_MAX], fp[PTR_MAX];
    struct kw_comp_rule *x = &p->comp.rules[i];
    subi(ptr, "/compensation/rules", i);
    if (!json_is_object(r))
        return fail(err, ptr,
                    "expected an object like {\"when\": {...}, \"metric\": "
                    "\"resolution\", \"credit\": {...}}");
    if (only_keys(r, ptr, keys, err) != KW_OK)
        return KW_INVALID;
    json_t *when = json_object_get(r, "when");
    if (when) {
        /* the conditions of a target rule, with the same checks */
        struct kw_rule tmp = {0};
        subs(fp, ptr, "when");
        enum kw_code rc = rule_when(p, &tmp, when, fp, err);
        memcpy(x->when, tmp.when, sizeof(x->when));
        if (rc != KW_OK)
            return rc;
    }
    subs(fp, ptr, "metric");
    json_t *m = json_object_get(r, "metric");
    x->metric = json_is_string(m) ? kw_policy_metric_index(p, json_string_value(m)) : -1;
    if (x->metric < 0)
        return fail(err, fp, "expected one of the commitment's metrics");
    json_t *credit = json_object_get(r, "credit"), *remedy = json_object_get(r, "remedy");
    if (!credit == !remedy)
        return fail(err, ptr, "a rule gives either a \"credit\" or a \"remedy\"");
    if (credit) {
        subs(fp, ptr, "credit");
        if (!json_is_object(credit) || only_keys(credit, fp, credit_keys, err) != KW_OK)
            return fail(err, fp,
                        "expected {\"percent_per_hour\": 0.5, \"hours\": \"working\"} "
                        "or {\"amount\": 50000}");
        json_t *pph = json_object_get(credit, "percent_per_hour");
        json_t *amt = json_object_get(credit, "amount");
        json_t *hours = json_object_get(credit, "hours");
        char sp[PTR_MAX];
        if (!pph == !amt)
            return fail(err, fp, "a credit is either \"percent_per_hour\" or \"amount\"");
        if (pph) {
            x->kind = KW_COMP_PERCENT;
            subs(sp, fp, "percent_per_hour");
            if (percent_ppm(pph, sp, &x->ppm_per_hour, err) != KW_OK)
                return KW_INVALID;
            subs(sp, fp, "hours");
            const char *h = json_string_value(hours);
            if (!h || (strcmp(h, "working") != 0 && strcmp(h, "wall") != 0))
                return fail(err, sp,
                            "say which hours count: \"working\" (on the clock's "
                            "calendar) or \"wall\"");
            x->working = strcmp(h, "working") == 0;
        } else {
            x->kind = KW_COMP_AMOUNT;
            subs(sp, fp, "amount");
            if (amount(amt, sp, &x->amount, err) != KW_OK)
                return KW_INVALID;
            /* started hours are reported on the wall clock unless said */
            const char *h = json_string_value(hours);
            if (hours && (!h || (strcmp(h, "working") != 0 && strcmp(h, "wall") != 0))) {
                subs(sp, fp, "hours");
                return fail(err, sp, "expected \"working\" or \"wall\"");
            }
            x->working = h && strcmp(h, "working") == 0;
        }
        json_t *c = json_object_get(credit, "cap_per_ticket");
        subs(sp, fp, "cap_per_ticket");
        if (c && comp_cap(c, sp, &x->cap_ticket, err) != KW_OK)
            return KW_INVALID;
    } else {
        x->kind = KW_COMP_REMEDY;
        subs(fp, ptr, "remedy");
        if (!json_is_object(remedy) || only_keys(remedy, fp, remedy_keys, err) != KW_OK)
            return fail(err, fp,
                        "expected {\"item\": {\"zh\": ..., \"en\": ...}, \"quantity\": "
                        "30, \"unit\": {...}}");
        char sp[PTR_MAX];
        subs(sp, fp, "item");
        if (!json_object_get(remedy, "item"))
            return fail(err, sp, "missing: what is given (a text, or {\"zh\", \"en\"})");
        if (label(p, json_object_get(remedy, "item"), sp, &x->item, err) != KW_OK)
            return KW_INVALID;
        subs(sp, fp, "unit");
        if (label(p, json_object_get(remedy, "unit"), sp, &x->unit, err) != KW_OK)
            return KW_INVALID;
        subs(sp, fp, "quantity");
        json_t *q = json_object_get(remedy, "quantity");
        x->quantity = q ? json_integer_value(q) : 1;
        if ((q && !json_is_integer(q)) || x->quantity < 1 || x->quantity > 1000000)
            return fail(err, sp, "expected a whole number from 1 to 1000000");
    }
    return KW_OK;
}

static enum kw_code parse_compensation(struct kw_policy *p, json_t *v, struct kw_err *err)
{
    static const char *const keys[] = {"rules", "cap_per_period", "exclude_reasons", NULL};
    if (!v)
        return KW_OK;
    if (!json_is_object(v))
        return fail(err, "/compensation",
                    "expected {\"rules\": [...], \"cap_per_period\": "
                    "{...}, \"exclude_reasons\": [...]}");
    if (only_keys(v, "/compensation", keys, err) != KW_OK)
        return KW_INVALID;
    json_t *rules = json_object_get(v, "rules");
    if (!json_is_array(rules) || json_array_size(rules) == 0 ||
        json_array_size(rules) > KW_POLICY_MAX_RULES)
        return fail(err, "/compensation/rules", "expected a list of 1 to %d rules",
                    KW_POLICY_MAX_RULES);
    p->comp.rules = calloc(json_array_size(rules), sizeof(*p->comp.rules));
    if (!p->comp.rules)
        return kw_err_set(err, KW_NOMEM, NULL, "no memory for the compensation rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        p->comp.n = i + 1; /* freed with the policy even when it fails */
        if (comp_rule(p, i, json_array_get(rules, i), err) != KW_OK)
            return KW_INVALID;
    }
    json_t *c = json_object_get(v, "cap_per_period");
    if (c && comp_cap(c, "/compensation/cap_per_period", &p->comp.cap_period, err) != KW_OK)
        return KW_INVALID;
    json_t *ex = json_object_get(v, "exclude_reasons");
    if (ex &&
        string_list(p, ex, "/compensation/exclude_reasons", &p->comp.exclude, true, err) != KW_OK)
        return KW_INVALID;
    for (size_t i = 0; i < p->comp.exclude.n; i++)
        if (!kw_overrun_reason_find(p->comp.exclude.v[i])) {
            char ep[PTR_MAX];
            subi(ep, "/compensation/exclude_reasons", i);
            return fail(err, ep,
                        "unknown overrun reason \"%.40s\" (expected technology, staffing, "
                        "process, customer, third_party or force_majeure)",
                        p->comp.exclude.v[i]);
        }
    return KW_OK;
}

/* ---- confirmation and call-back ---- */

/* "confirm_within": false, or {"working_days": N | "target": duration,
 * "calendar": name, "remind_at": percent}; default 3 working days on the
 * first calendar with a reminder at 50 %. "callback_attempts": 1-20. */
static enum kw_code parse_confirm(struct kw_policy *p, json_t *doc, struct kw_err *err)
{
    static const char *const keys[] = {"working_days", "target", "calendar", "remind_at", NULL};
    struct kw_confirm_terms *c = &p->confirm;
    *c = (struct kw_confirm_terms){
        .on = true, .working_days = 3, .remind_pct = 50, .callback_attempts = 3};
    json_t *v = json_object_get(doc, "callback_attempts");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 20))
        return fail(err, "/callback_attempts", "expected a whole number from 1 to 20");
    if (v)
        c->callback_attempts = (int)json_integer_value(v);
    v = json_object_get(doc, "confirm_within");
    if (!v)
        return KW_OK;
    if (json_is_false(v)) {
        c->on = false;
        return KW_OK;
    }
    if (!json_is_object(v))
        return fail(err, "/confirm_within",
                    "expected false or an object like {\"working_days\": 3, \"calendar\": "
                    "\"office\", \"remind_at\": 50}");
    if (only_keys(v, "/confirm_within", keys, err) != KW_OK)
        return KW_INVALID;
    json_t *days = json_object_get(v, "working_days"), *target = json_object_get(v, "target");
    if (days && target)
        return fail(err, "/confirm_within/target", "give working_days or target, not both");
    if (days) {
        if (!json_is_integer(days) || json_integer_value(days) < 1 ||
            json_integer_value(days) > 365)
            return fail(err, "/confirm_within/working_days",
                        "expected a whole number of working days from 1 to 365");
        c->working_days = (int)json_integer_value(days);
    } else if (target) {
        if (duration(target, "/confirm_within/target", &c->work, err) != KW_OK)
            return KW_INVALID;
        if (c->work <= 0)
            return fail(err, "/confirm_within/target", "expected a duration above zero");
        c->working_days = 0;
    }
    json_t *cal = json_object_get(v, "calendar");
    if (cal &&
        (!json_is_string(cal) || (c->calendar = calendar_index(p, json_string_value(cal))) < 0))
        return fail(err, "/confirm_within/calendar", "expected the name of one of the calendars");
    json_t *pct = json_object_get(v, "remind_at");
    if (pct && !json_is_null(pct) &&
        (!json_is_integer(pct) || json_integer_value(pct) < 1 || json_integer_value(pct) > 99))
        return fail(err, "/confirm_within/remind_at",
                    "expected a percentage from 1 to 99, or null for no reminder");
    c->remind_pct = !pct ? 50 : json_is_null(pct) ? 0 : (int)json_integer_value(pct);
    return KW_OK;
}

/* ---- the document ---- */

/* The members of a policy, in the order docs/policy.md lists them. */
static const char *const doc_keys[] = {"name",
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
                                       "public_reply_implies",
                                       "customer_reply_resumes",
                                       "compensation",
                                       "confirm_within",
                                       "callback_attempts",
                                       NULL};

static enum kw_code parse_doc(struct kw_policy *p, json_t *doc, struct kw_err *err)
{
    if (!json_is_object(doc))
        return fail(err, "", "a policy must be a JSON object");
    if (only_keys(doc, "", doc_keys, err) != KW_OK || name_version(p, doc, err) != KW_OK ||
        label(p, json_object_get(doc, "description"), "/description", &p->description, err) !=
            KW_OK ||
        letter_texts(p, json_object_get(doc, "letter"), err) != KW_OK ||
        behaviour(p, doc, err) != KW_OK ||
        parse_calendars(p, json_object_get(doc, "calendars"), err) != KW_OK ||
        parse_vocabs(p, doc, err) != KW_OK || parse_names(p, doc, err) != KW_OK ||
        parse_replies(p, doc, err) != KW_OK || parse_confirm(p, doc, err) != KW_OK ||
        parse_metrics(p, json_object_get(doc, "metrics"), err) != KW_OK ||
        parse_rules(p, json_object_get(doc, "targets"), err) != KW_OK ||
        parse_nodes(p, json_object_get(doc, "service_nodes"), err) != KW_OK ||
        parse_escalations(p, json_object_get(doc, "escalations"), err) != KW_OK ||
        parse_compensation(p, json_object_get(doc, "compensation"), err) != KW_OK)
        return KW_INVALID;
    return KW_OK;
}

struct kw_policy *kw_policy_from_json(json_t *doc, struct kw_err *err)
{
    struct kw_policy *p = calloc(1, sizeof(*p));
    if (!p) {
        kw_err_set(err, KW_NOMEM, NULL, "no memory for the policy");
        return NULL;
    }
    if (parse_doc(p, doc, err) == KW_OK && !p->pool_failed)
        return p;
    /* A string that could not be copied may have failed a check on its way:
     * out of memory is the true reason. */
    if (p->pool_failed)
        kw_err_set(err, KW_NOMEM, NULL, "no memory for the policy");
    else if (err && err->code == KW_OK)
        err->code = KW_INVALID;
    kw_policy_free(p);
    return NULL;
}

struct kw_policy *kw_policy_parse(const char *text, size_t len, struct kw_err *err)
{
    json_error_t jerr;
    if (len > KW_POLICY_JSON_MAX_BYTES) {
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
