// SPDX-License-Identifier: MIT
/* libFuzzer: the in-place fast path and the jansson path of `calendar eval`
 * agree on every line: both answer with one JSON object, both succeed or both
 * fail, and successful answers (id and result) are equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kw_tzdb *db;
static struct kw_cal_cache *cache;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        db = kw_tzdb_new();
        cache = kw_cal_cache_new(db, 8);
    }
    if (memchr(data, '\n', size))
        return 0; /* one line at a time, as the stream gives them */
    struct kw_buf fast = {0}, slow = {0};
    struct kw_eval_stats st = {0};
    kw_eval_line(cache, (const char *)data, size, true, &fast, &st);
    kw_eval_line(cache, (const char *)data, size, false, &slow, &st);
    json_t *jf = json_loadb(fast.p, fast.len, 0, NULL);
    json_t *js = json_loadb(slow.p, slow.len, 0, NULL);
    if (!json_is_object(jf) || !json_is_object(js))
        abort();
    bool ef = json_object_get(jf, "error") != NULL, es = json_object_get(js, "error") != NULL;
    if (ef != es)
        abort();
    if (!ef && !json_equal(jf, js))
        abort();
    json_decref(jf);
    json_decref(js);
    kw_buf_release(&fast);
    kw_buf_release(&slow);
    return 0;
}
