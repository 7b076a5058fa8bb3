// SPDX-License-Identifier: MIT
/*
 * kw_log.h - logfmt lines: `ts=2026-05-04T01:30:00.123Z level=info ` and the
 * caller's fields (`mod=engine event=fired ticket=7`), UTC with milliseconds.
 *
 * A line is built on the stack (at most 1024 bytes, longer ones are cut) and
 * written with one call, so lines from many threads never mix. KW_LOG checks
 * the level before its arguments are evaluated or anything is formatted.
 * Free text goes through KW_LOG_Q, which quotes and escapes it: a quote or a
 * newline in a value can neither end the line nor forge a field. Never log
 * secrets.
 */
#ifndef KW_LOG_H
#define KW_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

enum kw_log_level { KW_LOG_DEBUG, KW_LOG_INFO, KW_LOG_WARN, KW_LOG_ERROR };

/* Where lines go and which: a plain value, copied by whoever keeps it. */
struct kw_log {
    FILE *out;             /* borrowed; NULL: log nothing */
    enum kw_log_level min; /* lines below this level are not written */
};

/* Whether a line at level would be written (log may be NULL). */
bool kw_log_on(const struct kw_log *log, enum kw_log_level level);
/* Write one line at level with the fields in fmt (printf; values that may
 * hold spaces, quotes or newlines go through KW_LOG_Q). Safe from any thread
 * (stdio locks the stream for the write). */
void kw_log(const struct kw_log *log, enum kw_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void kw_logv(const struct kw_log *log, enum kw_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Log only when the level is on: the arguments are not even evaluated. */
#define KW_LOG(log, level, ...)                                                                    \
    do {                                                                                           \
        if (kw_log_on((log), (level)))                                                             \
            kw_log((log), (level), __VA_ARGS__);                                                   \
    } while (0)

/* s (NULL: "") as a logfmt value in buf: in double quotes, with \" \\ \n \r
 * \t and \u00XX for other control bytes; cut to fit size (at least 8) and
 * then ending in `..."`. Returns buf. */
const char *kw_log_quote(char *buf, size_t size, const char *s);
#define KW_LOG_QSIZE 400
/* s quoted in a buffer that lives until the end of the enclosing block. */
#define KW_LOG_Q(s) kw_log_quote((char[KW_LOG_QSIZE]){0}, KW_LOG_QSIZE, (s))

/* A line's start, "ts=YYYY-MM-DDTHH:MM:SS.mmmZ level=NAME ", for the UTC
 * instant wall, into out (at least KW_LOG_PREFIX_MAX bytes, NUL-terminated);
 * returns its length. */
#define KW_LOG_PREFIX_MAX 64
size_t kw_log_prefix(char *out, const struct timespec *wall, enum kw_log_level level);

/* One line as kw_log writes it (its instant read now, the fields in fmt,
 * cut to fit, ending in a newline; no NUL) into line, of size bytes (at
 * least KW_LOG_PREFIX_MAX + 2); returns its length. For a caller that
 * writes several lines with one kw_log_write. */
size_t kw_log_format(char *line, size_t size, enum kw_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
/* Write len bytes of whole lines (kw_log_format's) with one call, so that
 * lines from other threads never fall between them. Any thread. */
void kw_log_write(const struct kw_log *log, const char *text, size_t len);

/* "debug", "info", "warn" or "error"; false for anything else. */
bool kw_log_level_parse(const char *s, enum kw_log_level *out);
/* The level's name, as written after level=. */
const char *kw_log_level_name(enum kw_log_level level);

#endif
