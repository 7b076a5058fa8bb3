// SPDX-License-Identifier: MIT
/* libFuzzer: any feed either is refused with a message, or plans dates in
 * order, each carrying the marker of its kind as a whole token and not the
 * other; applying the plan and planning again finds every date present. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar_json.h"
#include "ics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CAL[] = "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kw_cal_spec spec;
    struct kw_ics_plan p, again;
    struct kw_err err = {0};
    const struct kw_ics_opts o = {
        .mode = KW_ICS_BY_MARKER, .holiday_marker = "休", .workday_marker = "班"};
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (kw_cal_spec_parse(CAL, strlen(CAL), &spec, &err) != KW_OK)
        abort();
    if (kw_ics_plan(&spec, text, size, &o, &p, &err) != KW_OK) {
        if (!err.msg[0])
            abort(); /* every refusal says why */
        goto out;
    }
    if (p.st.added + p.st.present != p.n_dates)
        abort();
    for (size_t i = 0; i < p.n_dates; i++) {
        const struct kw_ics_date *d = &p.dates[i];
        bool off = kw_ics_has_marker(d->summary, "休"), on = kw_ics_has_marker(d->summary, "班");
        if ((i && p.dates[i - 1].day >= d->day) || off == on ||
            off != (d->kind == KW_ICS_HOLIDAY) || !strstr(d->summary, d->marker))
            abort();
    }
    if (kw_ics_apply(&spec, &p, &spec.week[0], &err) != KW_OK) {
        if (!err.msg[0])
            abort();
        goto out;
    }
    if (kw_ics_plan(&spec, text, size, &o, &again, &err) != KW_OK || again.st.added != 0 ||
        again.st.present != p.n_dates)
        abort(); /* what was imported is there */
    kw_ics_plan_release(&again);
out:
    kw_ics_plan_release(&p);
    kw_cal_spec_release(&spec);
    free(text);
    return 0;
}
