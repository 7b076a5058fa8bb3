// SPDX-License-Identifier: MIT
#include "civil.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Howard Hinnant's days_from_civil / civil_from_days: exact for the whole
 * proleptic Gregorian calendar with eras of 400 years (146097 days). */
int64_t kw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;
    const int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void kw_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const int64_t doe = days - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

unsigned kw_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int64_t w = (days + 3) % 7;
    return (unsigned)(w < 0 ? w + 7 : w);
}

int64_t kw_day_of(int64_t t)
{
    return t >= 0 ? t / KW_DAY : -((-t + KW_DAY - 1) / KW_DAY);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned char n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* Read exactly `n` ASCII digits at s[*i]; false if any is not a digit. */
static bool digits(const char *s, size_t len, size_t *i, unsigned n, int64_t *out)
{
    int64_t v = 0;
    if (*i + n > len)
        return false;
    for (unsigned k = 0; k < n; k++) {
        char c = s[*i + k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *i += n;
    *out = v;
    return true;
}

/* Print at most 40 bytes of untrusted text for an error message. */
#define SHOWN(len) ((int)((len) > 40 ? 40 : (len)))

/* Parse the date part at s[*i]; year range 0000-9999. */
static bool date_at(const char *s, size_t len, size_t *i, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t mm, dd;
    if (!digits(s, len, i, 4, y) || *i >= len || s[(*i)++] != '-' || !digits(s, len, i, 2, &mm) ||
        *i >= len || s[(*i)++] != '-' || !digits(s, len, i, 2, &dd))
        return false;
    if (mm < 1 || mm > 12 || dd < 1 || dd > month_days(*y, (unsigned)mm))
        return false;
    *m = (unsigned)mm;
    *d = (unsigned)dd;
    return true;
}

enum kw_code kw_date_parse(const char *s, size_t len, int64_t *days, struct kw_err *err)
{
    size_t i = 0;
    int64_t y;
    unsigned m, d;
    if (!date_at(s, len, &i, &y, &m, &d) || i != len)
        return kw_err_set(err, KW_INVALID, NULL,
                          "\"%.*s\" is not a date (expected YYYY-MM-DD, a real calendar day)",
                          SHOWN(len), s);
    if (y < 1900 || y > 2199)
        return kw_err_set(err, KW_INVALID, NULL, "\"%.*s\" is outside years 1900-2199", SHOWN(len),
                          s);
    *days = kw_days_from_civil(y, m, d);
    return KW_OK;
}

void kw_date_format(int64_t days, char *buf)
{
    int64_t y;
    unsigned m, d;
    kw_civil_from_days(days, &y, &m, &d);
    if (snprintf(buf, 11, "%04" PRId64 "-%02u-%02u", y % 10000, m % 100, d % 100) < 0)
        buf[0] = '\0';
}

enum kw_code kw_tod_parse(const char *s, size_t len, int32_t *secs, struct kw_err *err)
{
    size_t i = 0;
    int64_t h, mi;
    if (!digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || !digits(s, len, &i, 2, &mi) ||
        i != len || mi > 59 || h > 24 || (h == 24 && mi != 0))
        return kw_err_set(err, KW_INVALID, NULL,
                          "\"%.*s\" is not a time of day (expected HH:MM, 00:00-24:00)", SHOWN(len),
                          s);
    *secs = (int32_t)(h * 3600 + mi * 60);
    return KW_OK;
}

void kw_tod_format(int32_t secs, char *buf)
{
    int n;
    secs = secs < 0 ? 0 : secs % (100 * 3600);
    if (secs % 60)
        n = snprintf(buf, 9, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
                     (int)(secs % 60));
    else
        n = snprintf(buf, 9, "%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60));
    if (n < 0)
        buf[0] = '\0';
}

enum kw_code kw_instant_parse(const char *s, size_t len, int64_t *out, struct kw_err *err)
{
    size_t i = 0;
    int64_t y, h, mi, sec = 0, oh = 0, om = 0;
    unsigned m, d;
    int sign = 0;

    if (!date_at(s, len, &i, &y, &m, &d) || i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        goto bad;
    i++;
    if (!digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || !digits(s, len, &i, 2, &mi))
        goto bad;
    if (i < len && s[i] == ':') {
        i++;
        if (!digits(s, len, &i, 2, &sec))
            goto bad;
        if (i < len && (s[i] == '.' || s[i] == ',')) {
            size_t start = ++i;
            while (i < len && s[i] >= '0' && s[i] <= '9')
                i++;
            if (i == start)
                goto bad;
        }
    }
    if (h > 23 || mi > 59 || sec > 59)
        goto bad;
    if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i++] == '-' ? -1 : 1;
        if (!digits(s, len, &i, 2, &oh))
            goto bad;
        if (i < len && s[i] == ':')
            i++;
        if (i < len && !digits(s, len, &i, 2, &om))
            goto bad;
        if (oh > 18 || om > 59)
            goto bad;
    } else {
        if (i == len)
            return kw_err_set(err, KW_INVALID, NULL,
                              "\"%.*s\" has no UTC offset (add Z or an offset like +08:00)",
                              SHOWN(len), s);
        goto bad;
    }
    if (i != len)
        goto bad;
    *out = kw_days_from_civil(y, m, d) * KW_DAY + h * 3600 + mi * 60 + sec -
           sign * (oh * 3600 + om * 60);
    return KW_OK;
bad:
    return kw_err_set(err, KW_INVALID, NULL,
                      "\"%.*s\" is not an ISO 8601 instant (expected like "
                      "2026-02-13T09:30:00+08:00)",
                      SHOWN(len), s);
}

static size_t format_at(int64_t local, char *buf, size_t cap)
{
    int64_t days = kw_day_of(local), sod = local - days * KW_DAY, y;
    unsigned m, d;
    kw_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, cap, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d", y, m, d, (int)(sod / 3600),
                     (int)(sod / 60 % 60), (int)(sod % 60));
    return n < 0 ? 0 : (size_t)n;
}

size_t kw_instant_format_utc(int64_t t, char *buf)
{
    size_t n = format_at(t, buf, KW_INSTANT_BUF);
    if (n + 2 > KW_INSTANT_BUF)
        return n;
    buf[n++] = 'Z';
    buf[n] = '\0';
    return n;
}

size_t kw_instant_format_local(int64_t t, int32_t offset, char *buf)
{
    size_t n = format_at(t + offset, buf, KW_INSTANT_BUF);
    int32_t a = offset < 0 ? -offset : offset;
    int k = snprintf(buf + n, KW_INSTANT_BUF - n, "%c%02d:%02d", offset < 0 ? '-' : '+',
                     (int)(a / 3600), (int)(a / 60 % 60));
    return n + (k < 0 ? 0 : (size_t)k);
}

enum kw_code kw_duration_parse(const char *s, size_t len, int64_t *secs, struct kw_err *err)
{
    static const struct {
        char unit;
        int64_t mult;
    } units[] = {{'d', KW_DAY}, {'h', 3600}, {'m', 60}, {'s', 1}};
    size_t i = 0, next_unit = 0;
    int64_t total = 0;
    bool any = false;

    if (len == 0)
        goto bad;
    while (i < len) {
        int64_t v = 0;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                goto big;
            v = v * 10 + (s[i++] - '0');
        }
        if (i == start)
            goto bad;
        int64_t mult = 1;
        if (i == len && !any) {
            /* a bare number is seconds */
        } else {
            if (i == len)
                goto bad;
            size_t u = next_unit;
            while (u < 4 && units[u].unit != s[i])
                u++;
            if (u == 4)
                goto bad;
            mult = units[u].mult;
            next_unit = u + 1;
            i++;
        }
        if (v > (INT64_MAX - total) / mult)
            goto big;
        total += v * mult;
        any = true;
    }
    *secs = total;
    return KW_OK;
big:
    return kw_err_set(err, KW_INVALID, NULL, "duration \"%.*s\" is too large", SHOWN(len), s);
bad:
    return kw_err_set(err, KW_INVALID, NULL,
                      "\"%.*s\" is not a duration (expected seconds or like 4h, 30m, 1h30m, 2d)",
                      SHOWN(len), s);
}

void kw_duration_format(int64_t secs, char *buf)
{
    /* Hours are the largest unit shown: "24h" of a business calendar is
     * three working days, and "1d" would read as one. */
    static const struct {
        char unit;
        int64_t mult;
    } units[] = {{'h', 3600}, {'m', 60}, {'s', 1}};
    size_t n = 0;
    if (secs <= 0) {
        snprintf(buf, 32, "%s", secs == 0 ? "0s" : "-");
        return;
    }
    for (size_t u = 0; u < 3 && secs > 0; u++) {
        if (secs >= units[u].mult) {
            int k = snprintf(buf + n, 32 - n, "%" PRId64 "%c", secs / units[u].mult, units[u].unit);
            n += k < 0 ? 0 : (size_t)k;
            secs %= units[u].mult;
        }
    }
}
