// SPDX-License-Identifier: MIT
/*
 * kw_buf.h - a growable byte buffer with a maximum, and arrays grown by
 * doubling.
 *
 * Appends never overflow: past `max` bytes (or when memory runs out) the
 * buffer stops growing and remembers the failure in `failed`; callers check
 * once at the end. The text is always NUL-terminated when p is not NULL.
 */
#ifndef KW_BUF_H
#define KW_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct kw_buf {
    char *p;
    size_t len, cap, max; /* max 0 means 1 GiB */
    bool failed;
};

/* Release the memory; the buffer may be reused after (empty). */
void kw_buf_release(struct kw_buf *b);
void kw_buf_add(struct kw_buf *b, const void *data, size_t len);
/* Make room for extra more bytes at once (a body of known length); false,
 * and failed, past max or without memory. */
bool kw_buf_reserve(struct kw_buf *b, size_t extra);
void kw_buf_adds(struct kw_buf *b, const char *s);
void kw_buf_printf(struct kw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s (NULL: nothing) with <, >, & and " as HTML character references. */
void kw_buf_html(struct kw_buf *b, const char *s);
/* Append s as a JSON string literal with its quotes; invalid UTF-8 becomes U+FFFD. */
void kw_buf_json_string(struct kw_buf *b, const char *s, size_t len);
/* The escape jansson's encoder writes for c, a byte that needs one (below
 * U+0020, `"` or `\`): \" \\ \b \f \n \r \t, else \u00XX in upper-case
 * hex; written to out, its length returned (2 or 6). The hash chain's
 * canonical bodies and the replies' text (json_text.c) use it alike. */
size_t kw_json_escape(unsigned char c, char out[6]);
/* Grow the array at *p (room for *cap elements of size bytes) by doubling,
 * from 64, to hold at least need; false, with *p and *cap as they were, when
 * memory runs out. */
bool kw_grow(void **p, size_t *cap, size_t need, size_t size);
/* Length of the valid UTF-8 prefix of s, or len when all of it is valid
 * (no overlongs, surrogates or code points past U+10FFFF). */
size_t kw_utf8_valid_prefix(const char *s, size_t len);

#endif
