// SPDX-License-Identifier: MIT
#include "kw_buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool kw_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need && n <= SIZE_MAX / 2)
        n *= 2;
    if (n < need || n > SIZE_MAX / size)
        return false;
    void *q = realloc(*p, n * size);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

static bool reserve(struct kw_buf *b, size_t extra)
{
    size_t max = b->max ? b->max : (size_t)1 << 30;
    if (b->failed)
        return false;
    if (extra > max || b->len + 1 > max - extra) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > max) /* need <= max: the doubling stops at the maximum */
        cap = max;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

bool kw_buf_reserve(struct kw_buf *b, size_t extra)
{
    return reserve(b, extra);
}

void kw_buf_release(struct kw_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void kw_buf_add(struct kw_buf *b, const void *data, size_t len)
{
    if (!reserve(b, len))
        return;
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void kw_buf_adds(struct kw_buf *b, const char *s)
{
    kw_buf_add(b, s, strlen(s));
}

void kw_buf_printf(struct kw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 if it is not valid (RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || n > len)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F))
        return 0; /* overlong, surrogate, or past U+10FFFF */
    return n;
}

size_t kw_utf8_valid_prefix(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

void kw_buf_json_string(struct kw_buf *b, const char *s, size_t len)
{
    kw_buf_add(b, "\"", 1);
    size_t i = 0, run = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        if (n && c >= 0x20 && c != '"' && c != '\\') {
            i += n;
            continue;
        }
        kw_buf_add(b, s + run, i - run);
        if (!n) {
            kw_buf_adds(b, "\xEF\xBF\xBD"); /* U+FFFD for a byte that is not UTF-8 */
            i++;
        } else if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            kw_buf_add(b, e, 2);
            i++;
        } else {
            kw_buf_printf(b, "\\u%04x", c);
            i++;
        }
        run = i;
    }
    kw_buf_add(b, s + run, i - run);
    kw_buf_add(b, "\"", 1);
}

size_t kw_json_escape(unsigned char c, char out[6])
{
    static const char hex[] = "0123456789ABCDEF";
    out[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        out[1] = (char)c;
        return 2;
    case '\b':
        out[1] = 'b';
        return 2;
    case '\f':
        out[1] = 'f';
        return 2;
    case '\n':
        out[1] = 'n';
        return 2;
    case '\r':
        out[1] = 'r';
        return 2;
    case '\t':
        out[1] = 't';
        return 2;
    default:
        memcpy(out + 1, "u00", 3);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
        return 6;
    }
}

void kw_buf_html(struct kw_buf *b, const char *s)
{
    for (; s && *s; s++) {
        size_t run = strcspn(s, "<>&\"");
        kw_buf_add(b, s, run);
        s += run;
        if (!*s)
            break;
        kw_buf_adds(b, *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" : "&quot;");
    }
}
