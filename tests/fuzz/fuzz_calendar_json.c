// SPDX-License-Identifier: MIT
/* libFuzzer: any text either fails to decode with a located error, or decodes
 * into a spec whose canonical encoding decodes to the same encoding again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kw_cal_spec a, b;
    struct kw_err err = {0};
    if (kw_cal_spec_parse((const char *)data, size, &a, &err) != KW_OK) {
        if (!err.msg[0])
            abort(); /* every refusal says why */
        return 0;
    }
    json_t *ja = kw_cal_spec_to_json(&a);
    char *ta = json_dumps(ja, JSON_COMPACT | JSON_SORT_KEYS);
    if (kw_cal_spec_parse(ta, strlen(ta), &b, &err) != KW_OK)
        abort(); /* what we write, we read */
    json_t *jb = kw_cal_spec_to_json(&b);
    char *tb = json_dumps(jb, JSON_COMPACT | JSON_SORT_KEYS);
    if (strcmp(ta, tb) != 0 || memcmp(a.week, b.week, sizeof(a.week)) != 0 ||
        a.n_holidays != b.n_holidays || a.n_extra != b.n_extra)
        abort();
    free(ta);
    free(tb);
    json_decref(ja);
    json_decref(jb);
    kw_cal_spec_release(&a);
    kw_cal_spec_release(&b);
    return 0;
}
