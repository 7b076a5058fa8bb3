// SPDX-License-Identifier: MIT
/* libFuzzer: the text forms of time (instants, durations, dates, times of
 * day). Any input either is refused with a reason or parses to a value whose
 * formatted text parses back to the same value; the parsers never read past
 * the length they are given (the input is not NUL-terminated here). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes, so ASan sees a read past the end */
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    struct kw_err err = {0};
    char buf[64];

    int64_t t, t2;
    if (kw_instant_parse(s, size, &t, &err) == KW_OK) {
        size_t n = kw_instant_format_utc(t, buf);
        if (kw_instant_parse(buf, n, &t2, NULL) != KW_OK || t2 != t)
            abort();
        n = kw_instant_format_local(t, 8 * 3600 + 1800, buf);
        if (kw_instant_parse(buf, n, &t2, NULL) != KW_OK || t2 != t)
            abort();
    } else if (!err.msg[0]) {
        abort(); /* refused without a reason */
    }

    int64_t d, d2;
    err.msg[0] = '\0';
    if (kw_duration_parse(s, size, &d, &err) == KW_OK) {
        if (d < 0)
            abort();
        kw_duration_format(d, buf);
        if (kw_duration_parse(buf, strlen(buf), &d2, NULL) != KW_OK || d2 != d)
            abort();
    } else if (!err.msg[0]) {
        abort();
    }

    int64_t day, day2;
    if (kw_date_parse(s, size, &day, NULL) == KW_OK) {
        kw_date_format(day, buf);
        if (kw_date_parse(buf, strlen(buf), &day2, NULL) != KW_OK || day2 != day)
            abort();
        int64_t y;
        unsigned m, dd;
        kw_civil_from_days(day, &y, &m, &dd);
        if (kw_days_from_civil(y, m, dd) != day || m < 1 || m > 12 || dd < 1 || dd > 31)
            abort();
    }

    int32_t tod, tod2;
    if (kw_tod_parse(s, size, &tod, NULL) == KW_OK) {
        if (tod < 0 || tod > 86400)
            abort();
        kw_tod_format(tod, buf);
        if (kw_tod_parse(buf, strlen(buf), &tod2, NULL) != KW_OK || tod2 != tod)
            abort();
    }
    free(s);
    return 0;
}
