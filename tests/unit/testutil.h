// SPDX-License-Identifier: MIT
/* Shared helpers of the unit tests: instants from text, calendars from JSON. */
#ifndef KW_TESTUTIL_H
#define KW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "calcache.h"
#include "calendar.h"
#include "calendar_json.h"
#include "civil.h"
#include "tz.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define H 3600
#define M 60

/* Parse an ISO 8601 instant or fail the test. */
static inline int64_t T(const char *s)
{
    int64_t t = 0;
    struct kw_err err = {0};
    if (kw_instant_parse(s, strlen(s), &t, &err) != KW_OK)
        fail_msg("bad instant in test: %s: %s", s, err.msg);
    return t;
}

/* Compile a calendar from JSON text over the default horizon, or fail. */
static inline struct kw_cal *cal_from(struct kw_tzdb *db, const char *json)
{
    struct kw_cal_spec spec;
    struct kw_err err = {0};
    if (kw_cal_spec_parse(json, strlen(json), &spec, &err) != KW_OK)
        fail_msg("bad calendar in test: %s (%s)", err.msg, err.field);
    struct kw_cal *cal = kw_cal_compile(db, &spec, &err);
    kw_cal_spec_release(&spec);
    if (!cal)
        fail_msg("calendar does not compile: %s", err.msg);
    return cal;
}

#endif
