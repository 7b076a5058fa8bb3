// SPDX-License-Identifier: MIT
/*
 * letter.h - the commitment letter (服务响应时限承诺书) rendered from a policy.
 *
 * Markdown or a standalone HTML page, in Chinese or English: title, version
 * and effective date, provider and scope, levels, targets per rule, how each
 * clock counts, working hours and holidays of every calendar, what a level
 * change and a reopening do, contact. Texts come from the policy's labels and
 * its optional "letter" object; everything from the policy is escaped.
 */
#ifndef KW_LETTER_H
#define KW_LETTER_H

#include <stdbool.h>

#include "kw_buf.h"
#include "policy.h"

/* Append the letter to out (check out->failed). lang: "zh" or "en". */
void kw_letter_render(const struct kw_policy *p, const char *lang, bool html, struct kw_buf *out);

#endif
