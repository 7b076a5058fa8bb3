// SPDX-License-Identifier: MIT
/* libFuzzer: the HTTP layer's JSON body decoder (kwh_decode), which every
 * body goes through, with a table of every field type. Any JSON object is
 * either refused with a 400 that points at a member, or decodes into values
 * within the table's limits: strings of 1 to max bytes, ids > 0 (or -1 for a
 * nullable null), whole numbers within [lo, hi], instants that format. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
    const char *title, *note;
    int64_t id, nid, n, nn, at;
    bool flag, has_sub;
    json_t *any;
    int64_t sub_n;
    const char *sub_s;
};

static const struct kwh_field sub[] = {
    {.name = "n", .type = KWH_INT, .lo = 0, .hi = 59, .offset = offsetof(struct in, sub_n)},
    {.name = "s",
     .type = KWH_STR,
     .max = 8,
     .required = true,
     .offset = offsetof(struct in, sub_s)},
};
static const struct kwh_field fields[] = {
    {.name = "title",
     .type = KWH_STR,
     .required = true,
     .max = 40,
     .offset = offsetof(struct in, title)},
    {.name = "note", .type = KWH_STR, .max = 2000, .offset = offsetof(struct in, note)},
    {.name = "id", .type = KWH_ID, .offset = offsetof(struct in, id)},
    {.name = "nid", .type = KWH_ID, .nullable = true, .offset = offsetof(struct in, nid)},
    {.name = "n", .type = KWH_INT, .lo = 1, .hi = 5, .offset = offsetof(struct in, n)},
    {.name = "nn",
     .type = KWH_INT,
     .lo = 0,
     .hi = 10,
     .nullable = true,
     .offset = offsetof(struct in, nn)},
    {.name = "flag", .type = KWH_BOOL, .offset = offsetof(struct in, flag)},
    {.name = "any", .type = KWH_ANY, .offset = offsetof(struct in, any)},
    {.name = "at", .type = KWH_TIME, .offset = offsetof(struct in, at)},
    {.name = "sub", .type = KWH_OBJ, .sub = sub, .nsub = 2, .offset = offsetof(struct in, has_sub)},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return 0;
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    struct in in = {.id = 0, .nid = 0, .n = 0, .nn = 0, .at = INT64_MIN, .sub_n = 0};
    struct kwh_reply fail = {0};
    if (!kwh_decode(j, fields, KWH_NFIELDS(fields), &in, &fail)) {
        /* a 400 problem naming the member at fault */
        json_t *ptr = fail.json ? json_object_get(fail.json, "pointer") : NULL;
        if (fail.status != 400 || !fail.problem || !json_is_string(ptr) ||
            json_string_value(ptr)[0] != '/')
            abort();
        json_decref(fail.json);
        json_decref(j);
        return 0;
    }
    size_t len = in.title ? strlen(in.title) : 0;
    if (len < 1 || len > 40)
        abort();
    if (in.note && (strlen(in.note) < 1 || strlen(in.note) > 2000))
        abort();
    json_t *nid = json_object_get(j, "nid");
    if (in.id < 0 || in.nid < -1 || (in.nid == 0 && nid && !json_is_null(nid)))
        abort();
    if (json_object_get(j, "n") && (in.n < 1 || in.n > 5))
        abort();
    if (in.nn < -1 || in.nn > 10)
        abort();
    if (in.has_sub && (!in.sub_s || strlen(in.sub_s) > 8 || in.sub_n < 0 || in.sub_n > 59))
        abort();
    if (in.at != INT64_MIN) {
        char buf[KW_INSTANT_BUF];
        kw_instant_format_utc(in.at, buf);
    }
    json_decref(j);
    return 0;
}
