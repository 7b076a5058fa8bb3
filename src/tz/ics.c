// SPDX-License-Identifier: MIT
#include "ics.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

#define MAX_OCCURRENCES 20000 /* per event: a daily RRULE over the horizon is 36525 */

struct days {
    int64_t *d;
    size_t n, cap;
};

static bool add_day(struct days *v, int64_t d)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        if (cap > KW_CAL_MAX_DATES * 2)
            return false;
        int64_t *p = realloc(v->d, cap * sizeof(*p));
        if (!p)
            return false;
        v->d = p;
        v->cap = cap;
    }
    v->d[v->n++] = d;
    return true;
}

static int64_t day_of_ical(struct icaltimetype t)
{
    return kw_days_from_civil(t.year, (unsigned)t.month, (unsigned)t.day);
}

/* Add every date of one occurrence [start, start + ndays). */
static bool add_range(struct days *v, int64_t start, int64_t ndays)
{
    for (int64_t i = 0; i < ndays; i++)
        if (!add_day(v, start + i))
            return false;
    return true;
}

static enum kw_code collect(icalcomponent *ev, struct days *v, struct kw_err *err)
{
    struct icaltimetype st = icalcomponent_get_dtstart(ev);
    struct icaltimetype en = icalcomponent_get_dtend(ev);
    int64_t first = day_of_ical(st);
    int64_t ndays = icaltime_is_null_time(en) ? 1 : day_of_ical(en) - first;
    if (ndays < 1)
        ndays = 1;
    if (ndays > 366)
        return kw_err_set(err, KW_INVALID, NULL,
                          "event \"%.60s\" on %04d-%02d-%02d lasts %lld "
                          "days (more than a year)",
                          icalcomponent_get_summary(ev) ? icalcomponent_get_summary(ev) : "",
                          st.year, st.month, st.day, (long long)ndays);
    icalproperty *rr = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
    if (!rr)
        return add_range(v, first, ndays) ? KW_OK
                                          : kw_err_set(err, KW_TOO_BIG, NULL, "too many dates");
    struct icalrecurrencetype r = icalproperty_get_rrule(rr);
    icalrecur_iterator *it = icalrecur_iterator_new(r, st);
    if (!it)
        return kw_err_set(err, KW_INVALID, NULL, "event \"%.60s\": its RRULE cannot be expanded",
                          icalcomponent_get_summary(ev) ? icalcomponent_get_summary(ev) : "");
    enum kw_code rc = KW_OK;
    int n = 0;
    for (struct icaltimetype t = icalrecur_iterator_next(it);
         !icaltime_is_null_time(t) && t.year < KW_CAL_MAX_YEAR; t = icalrecur_iterator_next(it)) {
        if (++n > MAX_OCCURRENCES || !add_range(v, day_of_ical(t), ndays)) {
            rc = kw_err_set(err, KW_TOO_BIG, NULL, "too many dates from a recurring event");
            break;
        }
    }
    icalrecur_iterator_free(it);
    return rc;
}

/* Collect the dates of the matching all-day events of one VCALENDAR. */
static enum kw_code scan(icalcomponent *cal, const char *match, struct days *v,
                         struct kw_ics_stats *st, struct kw_err *err)
{
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
        const char *summary = icalcomponent_get_summary(ev);
        struct icaltimetype start = icalcomponent_get_dtstart(ev);
        if (icaltime_is_null_time(start) || !start.is_date ||
            (match && (!summary || !strstr(summary, match)))) {
            st->skipped++;
            continue;
        }
        st->events++;
        enum kw_code rc = collect(ev, v, err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (*x > *y) - (*x < *y);
}

static bool in_holidays(const struct kw_cal_spec *s, int64_t d)
{
    return s->n_holidays &&
           bsearch(&d, s->holidays, s->n_holidays, sizeof(*s->holidays), cmp_i64) != NULL;
}

static bool in_extra(const struct kw_cal_spec *s, int64_t d)
{
    size_t lo = 0, hi = s->n_extra;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->extra[mid].day < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_extra && s->extra[lo].day == d;
}

enum kw_code kw_ics_merge(struct kw_cal_spec *spec, const char *text, size_t len, bool as_holidays,
                          const struct kw_cal_day *hours, const char *match,
                          struct kw_ics_stats *st, struct kw_err *err)
{
    struct days v = {0};
    enum kw_code rc = KW_OK;
    memset(st, 0, sizeof(*st));
    if (len == 0 || strlen(text) != len)
        return kw_err_set(err, KW_INVALID, NULL, "not an iCalendar file (empty, or NUL bytes)");
    icalcomponent *root = icalparser_parse_string(text);
    if (!root || (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT &&
                  icalcomponent_isa(root) != ICAL_XROOT_COMPONENT)) {
        rc = kw_err_set(err, KW_INVALID, NULL, "not an iCalendar file (expected BEGIN:VCALENDAR)");
        goto out;
    }
    /* A file with several VCALENDARs parses into an XROOT holding them. */
    if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
        rc = scan(root, match, &v, st, err);
    } else {
        for (icalcomponent *cal = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
             cal && rc == KW_OK;
             cal = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
            rc = scan(cal, match, &v, st, err);
    }
    if (rc != KW_OK)
        goto out;
    if (st->events == 0 || v.n == 0) {
        rc = kw_err_set(err, KW_INVALID, NULL, "the feed has no all-day events%s%s%s",
                        match ? " whose summary contains \"" : "", match ? match : "",
                        match ? "\"" : "");
        goto out;
    }
    qsort(v.d, v.n, sizeof(*v.d), cmp_i64);
    size_t uniq = 0;
    for (size_t i = 0; i < v.n; i++)
        if (uniq == 0 || v.d[uniq - 1] != v.d[i])
            v.d[uniq++] = v.d[i];
    v.n = uniq;

    /* Check every date before changing anything. */
    size_t fresh = 0;
    for (size_t i = 0; i < v.n; i++) {
        bool same = as_holidays ? in_holidays(spec, v.d[i]) : in_extra(spec, v.d[i]);
        bool other = as_holidays ? in_extra(spec, v.d[i]) : in_holidays(spec, v.d[i]);
        if (other) {
            char d[11];
            kw_date_format(v.d[i], d);
            rc =
                kw_err_set(err, KW_CONFLICT, NULL, "%s from the feed is %s in the calendar already",
                           d, as_holidays ? "an extra workday" : "a holiday");
            goto out;
        }
        if (same)
            st->present++;
        else
            v.d[fresh++] = v.d[i];
    }
    st->added = fresh;
    if (fresh == 0)
        goto out;
    if (as_holidays) {
        if (spec->n_holidays + fresh > KW_CAL_MAX_DATES) {
            rc = kw_err_set(err, KW_TOO_BIG, NULL, "more than %d holidays", KW_CAL_MAX_DATES);
            goto out;
        }
        int64_t *h = realloc(spec->holidays, (spec->n_holidays + fresh) * sizeof(*h));
        if (!h) {
            rc = kw_err_set(err, KW_NOMEM, NULL, "no memory for %zu holidays", fresh);
            goto out;
        }
        memcpy(h + spec->n_holidays, v.d, fresh * sizeof(*h));
        spec->holidays = h;
        spec->n_holidays += fresh;
    } else {
        if (spec->n_extra + fresh > KW_CAL_MAX_DATES) {
            rc = kw_err_set(err, KW_TOO_BIG, NULL, "more than %d extra workdays", KW_CAL_MAX_DATES);
            goto out;
        }
        struct kw_cal_extra *x = realloc(spec->extra, (spec->n_extra + fresh) * sizeof(*x));
        if (!x) {
            rc = kw_err_set(err, KW_NOMEM, NULL, "no memory for %zu extra workdays", fresh);
            goto out;
        }
        for (size_t i = 0; i < fresh; i++)
            x[spec->n_extra + i] = (struct kw_cal_extra){.day = v.d[i], .hours = *hours};
        spec->extra = x;
        spec->n_extra += fresh;
    }
    rc = kw_cal_spec_check(spec, err); /* sorts the merged lists */
out:
    if (root)
        icalcomponent_free(root);
    free(v.d);
    return rc;
}
