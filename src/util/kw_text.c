// SPDX-License-Identifier: MIT
#include "kw_text.h"

#include <string.h>

/* atext (RFC 5322 3.2.3), and any byte of a UTF-8 sequence (RFC 6531). */
static bool atext(unsigned char c)
{
    if (c >= 0x80)
        return true;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool label_char(unsigned char c)
{
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

bool kw_email_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *at = memchr(p, '@', len);
    if (!at)
        return false;
    size_t local = (size_t)(at - p), domain = len - local - 1;
    if (local == 0 || local > 64 || domain == 0 || domain > 253)
        return false;
    /* Dot-string: atoms separated by single dots */
    for (size_t i = 0; i < local; i++) {
        if (p[i] == '.') {
            if (i == 0 || i + 1 == local || p[i + 1] == '.')
                return false;
        } else if (!atext(p[i]))
            return false;
    }
    /* Domain: sub-domains of let-dig [ldh-str], separated by single dots */
    const unsigned char *d = at + 1;
    size_t start = 0;
    for (size_t i = 0; i <= domain; i++) {
        if (i < domain && d[i] != '.') {
            if (!label_char(d[i]))
                return false;
            continue;
        }
        size_t n = i - start;
        if (n == 0 || n > 63 || d[start] == '-' || d[i - 1] == '-')
            return false;
        start = i + 1;
    }
    return true;
}

bool kw_url_clean(const char *url)
{
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F)
            return false;
    return true;
}

bool kw_text_has_control(const char *s, size_t len, bool lines)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
            if (!lines)
                return true;
        } else if (p[i] < 0x20 || p[i] == 0x7f ||
                   (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f))
            return true;
    }
    return false;
}

char *kw_text_one_line(char *s)
{
    unsigned char *r = (unsigned char *)s, *w = r;
    bool run = false;
    while (*r) {
        size_t n = *r < 0x20 || *r == 0x7f                        ? 1
                   : r[0] == 0xc2 && r[1] >= 0x80 && r[1] <= 0x9f ? 2
                                                                  : 0;
        if (n) {
            if (!run)
                *w++ = ' ';
            run = true;
            r += n;
        } else {
            run = false;
            *w++ = *r++;
        }
    }
    *w = '\0';
    return s;
}

size_t kw_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* back over continuation bytes to the start of the character at n */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}
