// SPDX-License-Identifier: MIT
/*
 * kw_err.h - error codes and the error record every fallible call fills.
 *
 * Codes form one append-only table (they are logged, stored and sent), each
 * with its HTTP status and title. The record is fixed-size so the error path
 * never allocates; `field` is a JSON pointer to the offending input for
 * problem+json, `msg` one lower-case line saying what was wrong and expected.
 */
#ifndef KW_ERR_H
#define KW_ERR_H

/* X(name, http_status, title). Append only. */
#define KW_ERR_MAP(X)                                                                              \
    X(OK, 200, "ok")                                                                               \
    X(INVALID, 400, "invalid input")                                                               \
    X(FORBIDDEN, 403, "forbidden")                                                                 \
    X(NOT_FOUND, 404, "not found")                                                                 \
    X(CONFLICT, 409, "conflict")                                                                   \
    X(TOO_BIG, 413, "too large")                                                                   \
    X(RANGE, 422, "out of range")                                                                  \
    X(NOMEM, 503, "out of memory")                                                                 \
    X(STORE, 500, "storage failure")                                                               \
    X(IO, 500, "input/output failure")                                                             \
    X(UNAUTHENTICATED, 401, "unauthenticated")                                                     \
    X(METHOD, 405, "method not allowed")                                                           \
    X(TOO_MANY, 429, "too many requests")                                                          \
    X(MEDIA_TYPE, 415, "unsupported media type")                                                   \
    X(UNPROCESSABLE, 422, "unprocessable content")

enum kw_code {
#define X(name, status, title) KW_##name,
    KW_ERR_MAP(X)
#undef X
        KW_CODE_COUNT
};

struct kw_err {
    enum kw_code code;
    char field[64]; /* JSON pointer to the bad input ("/week/mon/1"), or "" */
    char msg[192];  /* one line, lower case, no final period */
};

/* Fill *err (err may be NULL) and return code, so callers can write
 * `return kw_err_set(err, KW_INVALID, "/due_at", "not ISO 8601: '%s'", s);`.
 * Text longer than the record is cut, never overflowed. */
enum kw_code kw_err_set(struct kw_err *err, enum kw_code code, const char *field, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

/* For a function that reads err->code after a callee failed: make err a
 * record on the stack when the caller passed NULL. Use once, first thing. */
#define KW_ERR_ENSURE(err)                                                                         \
    struct kw_err err##_ensured = {0};                                                             \
    if (!(err))                                                                                    \
    (err) = &err##_ensured

/* Prefix err->field with `ptr` and err->msg with "`path`: " (both may be NULL),
 * for callers that locate an error found by a callee. Returns err->code. */
enum kw_code kw_err_locate(struct kw_err *err, const char *ptr, const char *path);

/* Stable name ("INVALID"), HTTP status and title of a code. */
const char *kw_code_name(enum kw_code code);
int kw_code_status(enum kw_code code);
const char *kw_code_title(enum kw_code code);

#endif
