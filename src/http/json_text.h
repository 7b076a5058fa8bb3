// SPDX-License-Identifier: MIT
/*
 * json_text.h - a reply's JSON text, written without jansson's encoder.
 *
 * The same bytes as json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(p))
 * (jansson 2.14): keys in their order of insertion, no spaces, strings with
 * only `"`, `\` and the control characters escaped (\b \f \n \r \t, the rest
 * \u00XX) and other UTF-8 passed through, integers in decimal, reals as
 * jansson writes them. One difference: a key that is not UTF-8 gives NULL,
 * where jansson writes the text without the key's closing quote (keys are
 * literals or passed jansson's check). json_dumps escapes a string a character at a time
 * through a callback: 52,300 instructions for a created ticket's 700 bytes
 * (#20).
 */
#ifndef KWH_JSON_TEXT_H
#define KWH_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* The text of j (an object or an array) and its length in *len (may be
 * NULL), NUL-terminated; reals with `precision` significant digits (0:
 * jansson's 17). NULL where json_dumps gives NULL: j neither an object nor
 * an array, a string or key that is not UTF-8, or no memory. Caller frees
 * with free(). Safe from any thread for a j no other thread changes. */
char *kwh_json_text(json_t *j, int precision, size_t *len);

#endif
