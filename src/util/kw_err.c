// SPDX-License-Identifier: MIT
#include "kw_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int status;
    const char *title;
} codes[] = {
#define X(name, status, title) {#name, status, title},
    KW_ERR_MAP(X)
#undef X
};
_Static_assert(sizeof(codes) / sizeof(codes[0]) == KW_CODE_COUNT, "code table out of step");

enum kw_code kw_err_set(struct kw_err *err, enum kw_code code, const char *field, const char *fmt,
                        ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

enum kw_code kw_err_locate(struct kw_err *err, const char *ptr, const char *path)
{
    if (!err)
        return KW_INVALID;
    char tmp[sizeof(err->msg)];
    if (ptr && *ptr) {
        memcpy(tmp, err->field,
               sizeof(tmp) < sizeof(err->field) ? sizeof(tmp) : sizeof(err->field));
        tmp[sizeof(err->field) - 1] = '\0';
        if (snprintf(err->field, sizeof(err->field), "%s%s", ptr, tmp) < 0)
            err->field[0] = '\0';
    }
    if (path && *path) {
        memcpy(tmp, err->msg, sizeof(tmp));
        if (snprintf(err->msg, sizeof(err->msg), "%s: %s", path, tmp) < 0)
            err->msg[0] = '\0';
    }
    return err->code;
}

const char *kw_code_name(enum kw_code code)
{
    return (unsigned)code < KW_CODE_COUNT ? codes[code].name : "UNKNOWN";
}

int kw_code_status(enum kw_code code)
{
    return (unsigned)code < KW_CODE_COUNT ? codes[code].status : 500;
}

const char *kw_code_title(enum kw_code code)
{
    return (unsigned)code < KW_CODE_COUNT ? codes[code].title : "unknown error";
}
