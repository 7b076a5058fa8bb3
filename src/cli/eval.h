// SPDX-License-Identifier: MIT
/*
 * eval.h - `keepword calendar eval`: a stream of calendar queries as JSON lines.
 *
 * Each input line is one query object; each output line answers it, in order:
 *   {"id": "q1", "calendar": {...}, "op": "deadline", "start": "...", "seconds": 14400}
 *   -> {"id":"q1","result":"2026-02-14T05:30:00Z"}
 * ops: deadline (start, seconds), elapsed (start, end), is_working (start),
 * next_working (start). A bad line yields {"id":...,"error":"...","field":"..."}
 * and the stream goes on. Lines of the usual shape are scanned in place and
 * their calendar looked up by its bytes; anything else goes through jansson.
 */
#ifndef KW_EVAL_H
#define KW_EVAL_H

#include <stdbool.h>
#include <stdio.h>

#include "calcache.h"
#include "kw_buf.h"

#define KW_EVAL_MAX_LINE (16u << 20) /* bytes in one query line */

struct kw_eval_stats {
    size_t lines, errors, fast;
};

/* Answer one query line (no newline) by appending one line, with '\n', to out.
 * fast=false forces the jansson path (tests compare the two). */
void kw_eval_line(struct kw_cal_cache *cache, const char *line, size_t len, bool fast,
                  struct kw_buf *out, struct kw_eval_stats *st);

/* Answer every line of in on out. Blank lines are skipped. Returns 0, or -1
 * with errno set when reading or writing failed. */
int kw_eval_stream(struct kw_cal_cache *cache, FILE *in, FILE *out, struct kw_eval_stats *st);

#endif
