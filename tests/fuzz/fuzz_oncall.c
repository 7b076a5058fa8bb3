// SPDX-License-Identifier: MIT
/* libFuzzer: the rota document (on-call schedule). Any text is refused with
 * a located reason, or decodes into a schedule whose answers hold together:
 * who is on call is nobody, an override's user or one of a layer's people;
 * the shifts over a week are in order, touch end to end, and each says the
 * same person as kw_oncall_who at its start. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oncall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct kw_tz_change berlin_changes[] = {{1774746000, 7200}, {1792890000, 3600}};
static const struct kw_tzinfo zones[] = {
    {"Asia/Shanghai", 8 * 3600, 0, NULL},
    {"Europe/Berlin", 3600, 2, berlin_changes},
};

static bool known(const struct kw_oncall *s, int64_t user)
{
    if (user == 0)
        return true;
    for (size_t i = 0; i < s->n_overrides; i++)
        if (s->override[i].user == user)
            return true;
    for (size_t l = 0; l < s->n_layers; l++)
        for (size_t p = 0; p < s->layer[l].n_people; p++)
            if (s->layer[l].people[p] == user)
                return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!doc)
        return 0;
    static struct kw_oncall s; /* large: not on the stack */
    struct kw_err err = {0};
    if (kw_oncall_from_json(doc, &s, &err) != KW_OK) {
        json_decref(doc);
        if (!err.msg[0])
            abort();
        return 0;
    }
    json_decref(doc);
    const struct kw_tzinfo *tz = &zones[size % 2];
    const int64_t from = 1774569600; /* 2026-03-27T00:00:00Z, across Berlin's change */
    for (int64_t t = from; t < from + 8 * 86400; t += 3 * 3600 + 7 * 60) {
        const char *src = NULL;
        int64_t who = kw_oncall_who(&s, tz, t, &src);
        if (!known(&s, who))
            abort();
    }
    static struct kw_oncall_shift sh[512];
    size_t n = 0;
    kw_oncall_shifts(&s, tz, from, from + 7 * 86400, sh, 512, &n);
    if (n > 512)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (sh[i].from >= sh[i].to || (i && sh[i].from != sh[i - 1].to) ||
            (i == 0 && sh[i].from != from) || !known(&s, sh[i].user))
            abort();
        const char *src = NULL;
        if (kw_oncall_who(&s, tz, sh[i].from, &src) != sh[i].user)
            abort();
    }
    return 0;
}
