// SPDX-License-Identifier: MIT
/*
 * request.c - what handlers use to read a request and write a reply:
 * problem replies (RFC 9457), query parameters, the JSON body (nesting
 * capped before jansson parses it) and its members, and writes through the
 * group-commit writer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil.h"
#include "internal.h"
#include "kw_text.h"

/* ---- replies ---- */

struct kwh_reply kwh_problem(const struct kw_err *err)
{
    json_t *j =
        json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", kw_code_title(err->code),
                  "status", kw_code_status(err->code), "detail", err->msg);
    if (j && err->field[0])
        json_object_set_new(j, "pointer", json_string(err->field));
    return (struct kwh_reply){
        .status = (unsigned)kw_code_status(err->code), .json = j, .problem = true};
}

struct kwh_reply kwh_problem_of(enum kw_code code, const char *field, const char *msg)
{
    struct kw_err err;
    kw_err_set(&err, code, field, "%s", msg);
    return kwh_problem(&err);
}

struct kwh_reply kwh_problemf(enum kw_code code, const char *field, const char *fmt, ...)
{
    struct kw_err err = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    snprintf(err.field, sizeof(err.field), "%s", field ? field : "");
    return kwh_problem(&err);
}

struct kwh_reply kwh_ok(unsigned status, json_t *j)
{
    return (struct kwh_reply){.status = status, .json = j};
}

struct kwh_reply kwh_ok_text(const char *ctype, char *text)
{
    if (!text)
        return kwh_problem_of(KW_NOMEM, "", "no memory for the reply");
    return (struct kwh_reply){.status = 200, .text = text, .ctype = ctype};
}

bool kwh_is_method(const struct kwh_call *x, const char *m)
{
    if (strcmp(m, "GET") == 0 && strcmp(x->method, "HEAD") == 0)
        return true;
    return strcmp(x->method, m) == 0;
}

const char *kwh_query(const struct kwh_call *x, const char *name)
{
    return MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, name);
}

/* How deeply the JSON text nests arrays and objects (strings skipped). */
static int json_depth(const char *p, size_t n)
{
    int depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"')
            in_string = true;
        else if (ch == '[' || ch == '{')
            max = ++depth > max ? depth : max;
        else if (ch == ']' || ch == '}')
            depth--;
    }
    return max;
}

#define MAX_JSON_DEPTH 32

/* Whether a Content-Type header names JSON: application/json or a
 * +json type (application/merge-patch+json), parameters allowed. */
bool kwh_media_is_json(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    if (n >= 12 && strncasecmp(ct, "application/", 12) == 0) {
        const char *sub = ct + 12;
        size_t m = n - 12;
        if (m == 4 && strncasecmp(sub, "json", 4) == 0)
            return true;
        if (m > 5 && strncasecmp(sub + m - 5, "+json", 5) == 0)
            return true;
    }
    return false;
}

/* Decode a JSON object body; a located problem otherwise. The body must
 * say it is JSON: a form on another site can post text/plain or a form
 * encoding without asking, but not application/json (docs/api.md). */
json_t *kwh_body_object(const struct kwh_call *x, struct kwh_reply *fail)
{
    json_error_t jerr;
    if (x->r->body.len == 0) {
        *fail = kwh_problem_of(KW_INVALID, "", "a JSON object body is required");
        return NULL;
    }
    const char *ct = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Content-Type");
    if (!kwh_media_is_json(ct)) {
        *fail = kwh_problem_of(KW_MEDIA_TYPE, "",
                               ct ? "the body must be sent with Content-Type: application/json"
                                  : "the body has no Content-Type: send application/json");
        return NULL;
    }
    if (json_depth(x->r->body.p, x->r->body.len) > MAX_JSON_DEPTH) {
        *fail =
            kwh_problemf(KW_INVALID, "", "the body nests deeper than %d levels", MAX_JSON_DEPTH);
        return NULL;
    }
    json_t *j = json_loadb(x->r->body.p, x->r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        *fail = kwh_problemf(KW_INVALID, "", "not valid JSON at line %d column %d: %s", jerr.line,
                             jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *fail = kwh_problem_of(KW_INVALID, "", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

bool kwh_query_int(const struct kwh_call *x, const char *name, long long lo, long long hi,
                   long long *out, struct kwh_reply *fail)
{
    const char *v = kwh_query(x, name);
    char *end = NULL;
    if (!v)
        return true;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    /* an optional minus, then digits only: no plus, space or overflow (which
     * strtoll would clamp to the largest number) */
    bool digits = (*v >= '0' && *v <= '9') || (*v == '-' && v[1] >= '0' && v[1] <= '9');
    if (!digits || *end || errno == ERANGE || n < lo || n > hi) {
        char ptr[64];
        snprintf(ptr, sizeof(ptr), "/%s", name); /* the parameter, as the pointer */
        *fail = kwh_problemf(KW_INVALID, ptr, "%s: expected a whole number from %lld to %lld", name,
                             lo, hi);
        return false;
    }
    *out = n;
    return true;
}

bool kwh_query_instant(const struct kwh_call *x, const char *name, int64_t *out,
                       struct kwh_reply *fail)
{
    const char *v = kwh_query(x, name);
    struct kw_err err = {0};
    if (!v)
        return true;
    if (kw_instant_parse(v, strlen(v), out, &err) != KW_OK) {
        *fail = kwh_problemf(KW_INVALID, "", "%s: %s", name, err.msg);
        return false;
    }
    return true;
}

static bool field_known(const struct kwh_field *f, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, key) == 0)
            return true;
    return false;
}

/* Where a member is, as a JSON pointer ("/followup/due") and as the name
 * its messages start with ("followup.due"); objects nest one level deep
 * (the outer name is cut at 18 bytes). */
struct place {
    char ptr[80], name[80];
};

static struct place place_in(const struct place *outer, const char *key)
{
    struct place p;
    snprintf(p.ptr, sizeof(p.ptr), "%.18s/%.60s", outer->ptr, key);
    snprintf(p.name, sizeof(p.name), "%.18s%s%.60s", outer->name, outer->name[0] ? "." : "", key);
    return p;
}

static bool decode_at(json_t *obj, const struct kwh_field *f, size_t n, char *out,
                      const struct place *at, struct kwh_reply *fail);

/* Whether string v holds a control character (kw_text_has_control: tabs
 * and line breaks too when line, one line of text); then *fail refuses it
 * at ptr, member name. */
static bool has_control(json_t *v, bool line, const char *ptr, const char *name,
                        struct kwh_reply *fail)
{
    if (!kw_text_has_control(json_string_value(v), json_string_length(v), !line))
        return false;
    *fail = kwh_problemf(KW_INVALID, ptr, "%s: control characters are not allowed%s", name,
                         line ? " (one line of text)" : " (only tabs and line breaks)");
    return true;
}

/* Whether v is what f asks for; stores it at out + f->offset (a KWH_OBJ
 * decodes its members, which may fill *fail: then *done). */
static bool field_take(const struct kwh_field *f, json_t *v, char *out, const struct place *at,
                       bool *done, struct kwh_reply *fail)
{
    void *to = out + f->offset;
    if (json_is_null(v) && f->nullable && (f->type == KWH_ID || f->type == KWH_INT)) {
        *(int64_t *)to = -1;
        return true;
    }
    switch (f->type) {
    case KWH_STR:
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > f->max)
            return false;
        if (!f->controls && has_control(v, f->line, at->ptr, at->name, fail)) {
            *done = true;
            return true;
        }
        *(const char **)to = json_string_value(v);
        return true;
    case KWH_ID:
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return false;
        *(int64_t *)to = json_integer_value(v);
        return true;
    case KWH_INT:
        if (!json_is_integer(v) || json_integer_value(v) < f->lo || json_integer_value(v) > f->hi)
            return false;
        *(int64_t *)to = json_integer_value(v);
        return true;
    case KWH_BOOL:
        if (!json_is_boolean(v))
            return false;
        *(bool *)to = json_is_true(v);
        return true;
    case KWH_ANY:
        *(json_t **)to = v;
        return true;
    case KWH_TIME: {
        struct kw_err err = {0};
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 40)
            return false;
        if (kw_instant_parse(json_string_value(v), json_string_length(v), to, &err) != KW_OK) {
            *fail = kwh_problemf(KW_INVALID, at->ptr, "%s: %s", at->name, err.msg);
            *done = true;
        }
        return true;
    }
    case KWH_OBJ:
        if (!json_is_object(v))
            return false;
        *(bool *)to = true;
        *done = !decode_at(v, f->sub, f->nsub, out, at, fail);
        return true;
    }
    return false;
}

/* The refusal of a wrong value of f, at `at`. */
static struct kwh_reply wrong(const struct kwh_field *f, const struct place *at)
{
    const char *orn = f->nullable ? " or null" : "";
    if (f->expect)
        return kwh_problemf(KW_INVALID, at->ptr, "%s: %s", at->name, f->expect);
    switch (f->type) {
    case KWH_STR:
        return kwh_problemf(KW_INVALID, at->ptr, "%s: expected a string of 1 to %zu bytes",
                            at->name, f->max);
    case KWH_INT:
        return kwh_problemf(KW_INVALID, at->ptr, "%s: expected a whole number from %lld to %lld%s",
                            at->name, f->lo, f->hi, orn);
    case KWH_ID:
        return kwh_problemf(KW_INVALID, at->ptr, "%s: expected an id%s", at->name, orn);
    case KWH_BOOL:
        return kwh_problemf(KW_INVALID, at->ptr, "%s: expected true or false", at->name);
    case KWH_TIME:
        return kwh_problemf(KW_INVALID, at->ptr,
                            "%s: expected an ISO 8601 instant (like 2026-06-01T09:00:00Z)",
                            at->name);
    default:
        return kwh_problemf(KW_INVALID, at->ptr, "%s: expected an object", at->name);
    }
}

static bool decode_at(json_t *obj, const struct kwh_field *f, size_t n, char *out,
                      const struct place *at, struct kwh_reply *fail)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (!field_known(f, n, k)) {
            struct place p = place_in(at, k);
            *fail = kwh_problemf(KW_INVALID, p.ptr, "%s: not a field of this request", p.name);
            return false;
        }
    }
    /* the types first, in the table's order; then what is missing */
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(obj, f[i].name);
        if (!v || (json_is_null(v) && (f[i].type == KWH_STR || f[i].type == KWH_TIME)))
            continue;
        struct place p = place_in(at, f[i].name);
        bool done = false;
        if (!field_take(&f[i], v, out, &p, &done, fail)) {
            *fail = wrong(&f[i], &p);
            return false;
        }
        if (done)
            return false;
    }
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(obj, f[i].name);
        if (!f[i].required || (v && !json_is_null(v)))
            continue;
        struct place p = place_in(at, f[i].name);
        *fail = kwh_problemf(KW_INVALID, p.ptr, "%s: %s", p.name,
                             f[i].missing ? f[i].missing : "missing");
        return false;
    }
    return true;
}

bool kwh_decode(json_t *obj, const struct kwh_field *f, size_t n, void *out, struct kwh_reply *fail)
{
    static const struct place top = {"", ""};
    return decode_at(obj, f, n, out, &top, fail);
}

static bool write_unit(struct kwh_call *x, kw_write_fn fn, void *ctx, bool repeatable,
                       struct kwh_reply *fail)
{
    struct kw_err err = {0};
    /* read after the commit from a fresh snapshot, and hold no old one
     * while waiting (rows read before this are gone) */
    kw_store_end_read(x->wk->st);
    if ((repeatable ? kw_writer_run_repeatable : kw_writer_run)(x->h->w, fn, ctx, &err) == KW_OK)
        return true;
    *fail = kwh_problem(&err);
    return false;
}

bool kwh_write_unit(struct kwh_call *x, kw_write_fn fn, void *ctx, struct kwh_reply *fail)
{
    return write_unit(x, fn, ctx, false, fail);
}

bool kwh_write_repeatable(struct kwh_call *x, kw_write_fn fn, void *ctx, struct kwh_reply *fail)
{
    return write_unit(x, fn, ctx, true, fail);
}

bool kwh_str_or_null(json_t *v, const char *name, size_t max, const char **out,
                     struct kwh_reply *fail)
{
    if (!v)
        return true;
    if (json_is_null(v)) {
        *out = NULL;
        return true;
    }
    char ptr[64];
    snprintf(ptr, sizeof(ptr), "/%s", name);
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max) {
        *fail = kwh_problemf(KW_INVALID, ptr, "%s: expected a string of 1 to %zu bytes, or null",
                             name, max);
        return false;
    }
    if (has_control(v, false, ptr, name, fail))
        return false;
    *out = json_string_value(v);
    return true;
}
