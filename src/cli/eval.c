// SPDX-License-Identifier: MIT
#include "eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

/* A query as read from either path. Text fields point into the line (fast
 * path) or into jansson strings (slow path); none is NUL-terminated. */
struct query {
    const char *id; /* raw JSON of the id, or NULL */
    size_t id_len;
    const char *cal_text; /* fast path: raw JSON of the calendar */
    size_t cal_len;
    json_t *cal_json; /* slow path */
    bool has_cal;
    const char *op, *start, *end, *secs_text;
    size_t op_len, start_len, end_len, secs_len;
    bool has_secs, secs_is_int;
    int64_t secs;
};

static const char expected_fields[] = "id, calendar, op, start, end, seconds";

/* ---- the answer, shared by both paths ---- */

static void put_head(struct kw_buf *out, const struct query *q)
{
    kw_buf_adds(out, "{\"id\":");
    if (q->id)
        kw_buf_add(out, q->id, q->id_len);
    else
        kw_buf_adds(out, "null");
}

static void put_error(struct kw_buf *out, const struct query *q, const struct kw_err *err,
                      struct kw_eval_stats *st)
{
    put_head(out, q);
    kw_buf_adds(out, ",\"error\":");
    kw_buf_json_string(out, err->msg, strlen(err->msg));
    if (err->field[0]) {
        kw_buf_adds(out, ",\"field\":");
        kw_buf_json_string(out, err->field, strlen(err->field));
    }
    kw_buf_adds(out, "}\n");
    st->errors++;
}

static bool is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

static enum kw_code need_instant(const char *s, size_t len, const char *name, int64_t *t,
                                 struct kw_err *err)
{
    char ptr[16];
    snprintf(ptr, sizeof(ptr), "/%s", name);
    if (!s)
        return kw_err_set(err, KW_INVALID, ptr,
                          "%s: missing (an instant like "
                          "2026-02-13T09:30:00+08:00)",
                          name);
    if (kw_instant_parse(s, len, t, err) != KW_OK)
        return kw_err_locate(err, ptr, name);
    return KW_OK;
}

static void answer(struct kw_cal_cache *cache, const struct query *q, struct kw_buf *out,
                   struct kw_eval_stats *st)
{
    struct kw_err err = {0};
    const struct kw_cal *cal = NULL;
    int64_t t1 = 0, t2 = 0, secs = 0, res = 0;
    char when[KW_INSTANT_BUF];
    bool working = false;
    enum { DEADLINE, ELAPSED, IS_WORKING, NEXT_WORKING } op;

    if (!q->op) {
        kw_err_set(&err, KW_INVALID, "/op",
                   "op: missing (deadline, elapsed, is_working or next_working)");
        goto fail;
    }
    if (is(q->op, q->op_len, "deadline"))
        op = DEADLINE;
    else if (is(q->op, q->op_len, "elapsed"))
        op = ELAPSED;
    else if (is(q->op, q->op_len, "is_working"))
        op = IS_WORKING;
    else if (is(q->op, q->op_len, "next_working"))
        op = NEXT_WORKING;
    else {
        kw_err_set(&err, KW_INVALID, "/op",
                   "op: \"%.*s\" is not an operation (expected deadline, elapsed, is_working "
                   "or next_working)",
                   (int)(q->op_len > 32 ? 32 : q->op_len), q->op);
        goto fail;
    }
    if (!q->has_cal) {
        kw_err_set(&err, KW_INVALID, "/calendar", "calendar: missing (an inline calendar object)");
        goto fail;
    }
    cal = q->cal_text ? kw_cal_cache_text(cache, q->cal_text, q->cal_len, &err)
                      : kw_cal_cache_json(cache, q->cal_json, &err);
    if (!cal) {
        kw_err_locate(&err, "/calendar", "calendar");
        goto fail;
    }
    if (need_instant(q->start, q->start_len, "start", &t1, &err) != KW_OK)
        goto fail;
    switch (op) {
    case DEADLINE:
        if (!q->has_secs) {
            kw_err_set(&err, KW_INVALID, "/seconds",
                       "seconds: missing (working seconds, or a duration like \"4h\")");
            goto fail;
        }
        secs = q->secs;
        if (!q->secs_is_int && kw_duration_parse(q->secs_text, q->secs_len, &secs, &err) != KW_OK) {
            kw_err_locate(&err, "/seconds", "seconds");
            goto fail;
        }
        if (secs < 0) {
            kw_err_set(&err, KW_INVALID, "/seconds", "seconds: must not be negative");
            goto fail;
        }
        if (kw_cal_deadline(cal, t1, secs, &res, &err) != KW_OK)
            goto fail;
        kw_instant_format_utc(res, when);
        put_head(out, q);
        kw_buf_printf(out, ",\"result\":\"%s\"}\n", when);
        return;
    case ELAPSED:
        if (need_instant(q->end, q->end_len, "end", &t2, &err) != KW_OK ||
            kw_cal_elapsed(cal, t1, t2, &res, &err) != KW_OK)
            goto fail;
        put_head(out, q);
        kw_buf_printf(out, ",\"result\":%lld}\n", (long long)res);
        return;
    case IS_WORKING:
        if (kw_cal_is_working(cal, t1, &working, &err) != KW_OK)
            goto fail;
        put_head(out, q);
        kw_buf_printf(out, ",\"result\":%s}\n", working ? "true" : "false");
        return;
    case NEXT_WORKING:
        if (kw_cal_next_working(cal, t1, &res, &err) != KW_OK)
            goto fail;
        kw_instant_format_utc(res, when);
        put_head(out, q);
        kw_buf_printf(out, ",\"result\":\"%s\"}\n", when);
        return;
    }
fail:
    put_error(out, q, &err, st);
}

/* ---- fast path: the usual shape, scanned in place ----
 * Anything unusual (escapes or non-ASCII in plain fields, unknown or repeated
 * keys, ids that are not strings or numbers, malformed text) returns false
 * and the line goes to jansson, which gives the error if there is one. */

static const char *ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* p at '"'. Returns the end of the string, or NULL. *plain: ASCII, no escapes. */
static const char *skip_string(const char *p, const char *e, bool *plain)
{
    *plain = true;
    for (p++; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            *plain = false;
            if (++p == e)
                return NULL;
        } else if (c >= 0x80) {
            *plain = false;
        }
    }
    return NULL;
}

/* A JSON number per RFC 8259; *integer when it has no fraction or exponent. */
static const char *skip_number(const char *p, const char *e, bool *integer)
{
    *integer = true;
    if (p < e && *p == '-')
        p++;
    if (p == e || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        *integer = false;
        const char *d = ++p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        *integer = false;
        if (++p < e && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

/* p at '{'. Finds the matching '}' by structure only; jansson validates the
 * text when the cache has not seen it. */
static const char *skip_object(const char *p, const char *e)
{
    int depth = 0;
    bool plain;
    for (; p < e; p++) {
        if (*p == '"') {
            p = skip_string(p, e, &plain);
            if (!p)
                return NULL;
            p--;
        } else if (*p == '{' || *p == '[') {
            if (++depth > 64)
                return NULL;
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return *p == '}' ? p + 1 : NULL;
        }
    }
    return NULL;
}

static bool parse_int(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == len || len - i > 18)
        return false;
    for (; i < len; i++)
        v = v * 10 + (s[i] - '0');
    *out = neg ? -v : v;
    return true;
}

static bool scan_fast(const char *line, size_t len, struct query *q)
{
    const char *p = line, *e = line + len;
    unsigned seen = 0;
    bool plain, integer;

    p = ws(p, e);
    if (p == e || *p++ != '{')
        return false;
    p = ws(p, e);
    if (p < e && *p == '}')
        return ws(p + 1, e) == e;
    for (;;) {
        if (p == e || *p != '"')
            return false;
        const char *k = p + 1, *ke = skip_string(p, e, &plain);
        if (!ke || !plain)
            return false;
        size_t klen = (size_t)(ke - 1 - k);
        p = ws(ke, e);
        if (p == e || *p++ != ':')
            return false;
        p = ws(p, e);
        if (p == e)
            return false;
        const char *v = p, *ve;
        unsigned bit;
        if (is(k, klen, "id")) {
            bit = 1;
            if (*p == '"') {
                ve = skip_string(p, e, &plain);
                if (!plain)
                    return false;
            } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
                /* Integers echo as written; jansson re-encodes anything else. */
                ve = skip_number(p, e, &integer);
                if (!ve || !integer || ve - p > 18)
                    return false;
            } else if (e - p >= 4 && memcmp(p, "null", 4) == 0) {
                ve = p + 4;
            } else {
                return false;
            }
            if (!ve)
                return false;
            q->id = v;
            q->id_len = (size_t)(ve - v);
        } else if (is(k, klen, "calendar")) {
            bit = 2;
            if (*p != '{' || !(ve = skip_object(p, e)))
                return false;
            q->cal_text = v;
            q->cal_len = (size_t)(ve - v);
            q->has_cal = true;
        } else if (is(k, klen, "seconds")) {
            bit = 4;
            if (*p == '"') {
                ve = skip_string(p, e, &plain);
                if (!ve || !plain)
                    return false;
                q->secs_text = v + 1;
                q->secs_len = (size_t)(ve - v - 2);
            } else {
                ve = skip_number(p, e, &integer);
                if (!ve || !integer || !parse_int(v, (size_t)(ve - v), &q->secs))
                    return false;
                q->secs_is_int = true;
            }
            q->has_secs = true;
        } else {
            const char **dst;
            size_t *dlen;
            if (is(k, klen, "op"))
                bit = 8, dst = &q->op, dlen = &q->op_len;
            else if (is(k, klen, "start"))
                bit = 16, dst = &q->start, dlen = &q->start_len;
            else if (is(k, klen, "end"))
                bit = 32, dst = &q->end, dlen = &q->end_len;
            else
                return false;
            if (*p != '"')
                return false;
            ve = skip_string(p, e, &plain);
            if (!ve || !plain)
                return false;
            *dst = v + 1;
            *dlen = (size_t)(ve - v - 2);
        }
        if (seen & bit)
            return false;
        seen |= bit;
        p = ws(ve, e);
        if (p == e)
            return false;
        if (*p == '}')
            return ws(p + 1, e) == e;
        if (*p++ != ',')
            return false;
        p = ws(p, e);
    }
}

/* ---- slow path: jansson ---- */

static void answer_slow(struct kw_cal_cache *cache, const char *line, size_t len,
                        struct kw_buf *out, struct kw_eval_stats *st)
{
    struct query q = {0};
    struct kw_err err = {0};
    json_error_t jerr;
    char *id = NULL;
    const char *key;
    json_t *val;

    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        kw_err_set(&err, KW_INVALID, "", "not a valid JSON line (column %d): %s", jerr.column,
                   jerr.text);
        put_error(out, &q, &err, st);
        return;
    }
    if (!json_is_object(root)) {
        kw_err_set(&err, KW_INVALID, "", "a query must be a JSON object");
        goto fail;
    }
    val = json_object_get(root, "id");
    if (val && (id = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT)) != NULL) {
        q.id = id;
        q.id_len = strlen(id);
    }
    json_object_foreach(root, key, val)
    {
        const char **dst = NULL;
        size_t *dlen = NULL;
        if (strcmp(key, "id") == 0) {
            continue;
        } else if (strcmp(key, "calendar") == 0) {
            q.cal_json = val;
            q.has_cal = true;
            continue;
        } else if (strcmp(key, "seconds") == 0) {
            q.has_secs = true;
            if (json_is_integer(val)) {
                q.secs = json_integer_value(val);
                q.secs_is_int = true;
            } else if (json_is_string(val)) {
                q.secs_text = json_string_value(val);
                q.secs_len = json_string_length(val);
            } else {
                kw_err_set(&err, KW_INVALID, "/seconds",
                           "seconds: expected whole working seconds or a duration like \"4h\"");
                goto fail;
            }
            continue;
        } else if (strcmp(key, "op") == 0) {
            dst = &q.op, dlen = &q.op_len;
        } else if (strcmp(key, "start") == 0) {
            dst = &q.start, dlen = &q.start_len;
        } else if (strcmp(key, "end") == 0) {
            dst = &q.end, dlen = &q.end_len;
        } else {
            kw_err_set(&err, KW_INVALID, "", "unknown field \"%.40s\" (expected %s)", key,
                       expected_fields);
            goto fail;
        }
        if (!json_is_string(val)) {
            kw_err_set(&err, KW_INVALID, "", "%s: expected a string", key);
            snprintf(err.field, sizeof(err.field), "/%s", key);
            goto fail;
        }
        *dst = json_string_value(val);
        *dlen = json_string_length(val);
    }
    answer(cache, &q, out, st);
    goto out;
fail:
    put_error(out, &q, &err, st);
out:
    free(id);
    json_decref(root);
}

void kw_eval_line(struct kw_cal_cache *cache, const char *line, size_t len, bool fast,
                  struct kw_buf *out, struct kw_eval_stats *st)
{
    struct query q = {0};
    st->lines++;
    if (len > KW_EVAL_MAX_LINE) {
        struct kw_err err;
        kw_err_set(&err, KW_TOO_BIG, "", "query line is %zu bytes, at most %u", len,
                   KW_EVAL_MAX_LINE);
        put_error(out, &q, &err, st);
        return;
    }
    if (fast && scan_fast(line, len, &q)) {
        st->fast++;
        answer(cache, &q, out, st);
        return;
    }
    answer_slow(cache, line, len, out, st);
}

/* Answer one line of the stream (newline stripped), or skip it when blank. */
static void stream_line(struct kw_cal_cache *cache, const char *p, size_t len, struct kw_buf *out,
                        struct kw_eval_stats *st)
{
    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i < len)
        kw_eval_line(cache, p, len, true, out, st);
}

static void stream_too_long(struct kw_buf *out, struct kw_eval_stats *st)
{
    struct query q = {0};
    struct kw_err err;
    st->lines++;
    kw_err_set(&err, KW_TOO_BIG, "", "query line is longer than %u bytes", KW_EVAL_MAX_LINE);
    put_error(out, &q, &err, st);
}

/* Lines are found with memchr in large blocks read with fread and answered in
 * place; a line cut by a block boundary is moved to the front. At most
 * KW_EVAL_MAX_LINE bytes of one line are held: a longer one is skipped to its
 * newline and answered with an error. */
int kw_eval_stream(struct kw_cal_cache *cache, FILE *in, FILE *out, struct kw_eval_stats *st)
{
    size_t cap = 1u << 20, have = 0;
    char *blk = malloc(cap);
    struct kw_buf buf = {0};
    bool skipping = false, eof = false;
    int rc = 0;

    if (!blk)
        return -1;
    while (!eof && rc == 0) {
        if (have == cap) {
            /* one line fills the block: grow up to the limit, then skip it */
            if (cap > KW_EVAL_MAX_LINE) {
                skipping = true;
                have = 0;
            } else {
                char *p = realloc(blk, cap * 2);
                if (!p) {
                    rc = -1;
                    break;
                }
                blk = p;
                cap *= 2;
            }
        }
        size_t got = fread(blk + have, 1, cap - have, in);
        if (got == 0) {
            eof = true;
            if (ferror(in))
                rc = -1;
        }
        size_t end = have + got, start = 0;
        for (;;) {
            char *nl = memchr(blk + start, '\n', end - start);
            if (!nl)
                break;
            size_t len = (size_t)(nl - (blk + start));
            if (skipping) {
                stream_too_long(&buf, st);
                skipping = false;
            } else {
                stream_line(cache, blk + start, len, &buf, st);
            }
            start += len + 1;
        }
        if (eof && start < end && !skipping)
            stream_line(cache, blk + start, end - start, &buf, st); /* no final newline */
        else if (eof && skipping)
            stream_too_long(&buf, st);
        memmove(blk, blk + start, end - start);
        have = skipping ? 0 : end - start;
        if (buf.len >= 1u << 16 || eof) {
            if (buf.len && fwrite(buf.p, 1, buf.len, out) != buf.len)
                rc = -1;
            buf.len = 0;
        }
    }
    if (rc == 0 && fflush(out) != 0)
        rc = -1;
    free(blk);
    kw_buf_release(&buf);
    return rc;
}
