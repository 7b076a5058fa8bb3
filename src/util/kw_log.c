// SPDX-License-Identifier: MIT
/* logfmt lines with levels; see kw_log.h. */
#include "kw_log.h"

#include <string.h>
#include <time.h>

static const char *const names[] = {"debug", "info", "warn", "error"};
_Static_assert(sizeof(names) / sizeof(names[0]) == KW_LOG_ERROR + 1, "a name per level");

const char *kw_log_level_name(enum kw_log_level level)
{
    return (unsigned)level <= KW_LOG_ERROR ? names[level] : "error";
}

bool kw_log_level_parse(const char *s, enum kw_log_level *out)
{
    for (unsigned i = 0; i <= KW_LOG_ERROR; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum kw_log_level)i;
            return true;
        }
    }
    return false;
}

bool kw_log_on(const struct kw_log *log, enum kw_log_level level)
{
    return log && log->out && level >= log->min;
}

/* Two digits of v (0-99) at p. */
static char *two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* The digits written by hand: snprintf's were more than half of a line's
 * cost (3,800 instructions of about 7,600, #20), two lines a create. */
size_t kw_log_prefix(char *out, const struct timespec *wall, enum kw_log_level level)
{
    struct tm tm;
    gmtime_r(&wall->tv_sec, &tm);
    int year = tm.tm_year + 1900;
    const char *name = kw_log_level_name(level);
    if (year < 0 || year > 9999)
        return (size_t)snprintf(out, KW_LOG_PREFIX_MAX,
                                "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ", year,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                wall->tv_nsec / 1000000, name);
    char *p = out;
    memcpy(p, "ts=", 3);
    p = two(p + 3, year / 100);
    p = two(p, year % 100);
    *p++ = '-';
    p = two(p, tm.tm_mon + 1);
    *p++ = '-';
    p = two(p, tm.tm_mday);
    *p++ = 'T';
    p = two(p, tm.tm_hour);
    *p++ = ':';
    p = two(p, tm.tm_min);
    *p++ = ':';
    p = two(p, tm.tm_sec);
    int ms = (int)(wall->tv_nsec / 1000000);
    *p++ = '.';
    *p++ = (char)('0' + ms / 100);
    p = two(p, ms % 100);
    memcpy(p, "Z level=", 8);
    p += 8;
    size_t k = strlen(name);
    memcpy(p, name, k);
    p += k;
    *p++ = ' ';
    *p = '\0';
    return (size_t)(p - out);
}

size_t kw_log_format(char *line, size_t size, enum kw_log_level level, const char *fmt, va_list ap)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    size_t n = kw_log_prefix(line, &wall, level);
    int m = vsnprintf(line + n, size - n - 1, fmt, ap);
    size_t room = size - n - 2;
    size_t len = n + (m < 0 ? 0 : (size_t)m <= room ? (size_t)m : room);
    /* a newline in the caller's own format would split the line */
    for (size_t i = n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    return len;
}

void kw_log_write(const struct kw_log *log, const char *text, size_t len)
{
    if (!log || !log->out || !len)
        return;
    fwrite(text, 1, len, log->out); /* stdio locks the stream for the call */
    fflush(log->out);
}

void kw_logv(const struct kw_log *log, enum kw_log_level level, const char *fmt, va_list ap)
{
    if (!kw_log_on(log, level))
        return;
    /* the line is built first and written with one call, so that lines
     * from many threads never mix and each costs one write */
    char line[1024];
    kw_log_write(log, line, kw_log_format(line, sizeof(line), level, fmt, ap));
}

void kw_log(const struct kw_log *log, enum kw_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kw_logv(log, level, fmt, ap);
    va_end(ap);
}

const char *kw_log_quote(char *buf, size_t size, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    buf[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char esc[7] = {'\\', 0};
        size_t k = 2;
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                k = 6;
            } else {
                esc[0] = (char)*p;
                k = 1;
            }
        }
        /* keep room for `..."` and the NUL */
        if (n + k + 5 > size) {
            /* not in the middle of a UTF-8 sequence */
            while (n > 1 && ((unsigned char)buf[n - 1] & 0xC0) == 0x80)
                n--;
            if (n > 1 && (unsigned char)buf[n - 1] >= 0xC0)
                n--;
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        memcpy(buf + n, esc, k);
        n += k;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}
