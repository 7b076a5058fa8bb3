// SPDX-License-Identifier: MIT
#include "ics.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

#define MAX_OCCURRENCES 20000 /* per event: a daily RRULE over the horizon is 36525 */
#define MAX_HITS (KW_CAL_MAX_DATES * 2)

/* ---- markers ---- */

/* What separates the tokens of a SUMMARY: white space, brackets and the list
 * punctuation Chinese and Western feeds put between a name and its marker
 * ("国庆节 休", "元旦（休）", "春节【班】", "Christmas (off)"). Keep in step
 * with docs/calendar.md. */
static const char *const SEPARATORS[] = {
    " ",
    "\t",
    "\r",
    "\n",
    "\v",
    "\f",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    ",",
    ";",
    ":",
    "/",
    "|",
    "\xc2\xa0" /* no-break space */,
    "\xe3\x80\x80" /* 　 ideographic space */,
    "（",
    "）",
    "【",
    "】",
    "〔",
    "〕",
    "「",
    "」",
    "『",
    "』",
    "《",
    "》",
    "〈",
    "〉",
    "，",
    "、",
    "；",
    "：",
    "／",
    "｜",
    "·",
    "・",
};

/* The length of the separator starting at s, or 0. */
static size_t separator_at(const char *s)
{
    for (size_t i = 0; i < sizeof(SEPARATORS) / sizeof(SEPARATORS[0]); i++) {
        size_t n = strlen(SEPARATORS[i]);
        if (strncmp(s, SEPARATORS[i], n) == 0)
            return n;
    }
    return 0;
}

bool kw_ics_has_marker(const char *summary, const char *marker)
{
    size_t mlen = marker ? strlen(marker) : 0;
    if (!summary || mlen == 0)
        return false;
    const char *p = summary;
    while (*p) {
        size_t sep = separator_at(p);
        if (sep) {
            p += sep;
            continue;
        }
        const char *tok = p;
        while (*p && !separator_at(p))
            p++;
        if ((size_t)(p - tok) == mlen && memcmp(tok, marker, mlen) == 0)
            return true;
    }
    return false;
}

enum kw_code kw_ics_marker_check(const char *marker, struct kw_err *err)
{
    size_t n = marker ? strlen(marker) : 0;
    if (n == 0)
        return kw_err_set(err, KW_INVALID, NULL, "empty (expected a marker like 休 or 班)");
    if (n > KW_ICS_MARKER_MAX)
        return kw_err_set(err, KW_INVALID, NULL, "longer than %d bytes (expected a marker like 休)",
                          KW_ICS_MARKER_MAX);
    for (const char *p = marker; *p; p++)
        if (separator_at(p))
            return kw_err_set(err, KW_INVALID, NULL,
                              "\"%s\" has a space, bracket or separator in it (a marker is one "
                              "whole token, like 休 in \"国庆节 休\")",
                              marker);
    return KW_OK;
}

/* ---- collecting the dates of the feed ---- */

struct hit {
    int64_t day;
    uint32_t ev; /* index into plan->texts, the event's summary */
    uint8_t kind;
    const char *marker;
};

struct hits {
    struct hit *h;
    size_t n, cap;
};

static bool add_hit(struct hits *v, struct hit x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        if (cap > MAX_HITS)
            return false;
        struct hit *p = realloc(v->h, cap * sizeof(*p));
        if (!p)
            return false;
        v->h = p;
        v->cap = cap;
    }
    v->h[v->n++] = x;
    return true;
}

static int64_t day_of_ical(struct icaltimetype t)
{
    return kw_days_from_civil(t.year, (unsigned)t.month, (unsigned)t.day);
}

/* Add every date of one occurrence [start, start + ndays). */
static bool add_range(struct hits *v, struct hit x, int64_t ndays)
{
    int64_t start = x.day;
    for (int64_t i = 0; i < ndays; i++) {
        x.day = start + i;
        if (!add_hit(v, x))
            return false;
    }
    return true;
}

static enum kw_code collect(icalcomponent *ev, struct hit x, struct hits *v, struct kw_err *err)
{
    struct icaltimetype st = icalcomponent_get_dtstart(ev);
    struct icaltimetype en = icalcomponent_get_dtend(ev);
    const char *summary = icalcomponent_get_summary(ev) ? icalcomponent_get_summary(ev) : "";
    int64_t first = day_of_ical(st);
    int64_t ndays = icaltime_is_null_time(en) ? 1 : day_of_ical(en) - first;
    if (ndays < 1)
        ndays = 1;
    if (ndays > 366)
        return kw_err_set(err, KW_INVALID, NULL,
                          "event \"%.60s\" on %04d-%02d-%02d lasts %lld "
                          "days (more than a year)",
                          summary, st.year, st.month, st.day, (long long)ndays);
    icalproperty *rr = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
    x.day = first;
    if (!rr)
        return add_range(v, x, ndays) ? KW_OK : kw_err_set(err, KW_TOO_BIG, NULL, "too many dates");
    struct icalrecurrencetype r = icalproperty_get_rrule(rr);
    icalrecur_iterator *it = icalrecur_iterator_new(r, st);
    if (!it)
        return kw_err_set(err, KW_INVALID, NULL, "event \"%.60s\": its RRULE cannot be expanded",
                          summary);
    enum kw_code rc = KW_OK;
    int n = 0;
    for (struct icaltimetype t = icalrecur_iterator_next(it);
         !icaltime_is_null_time(t) && t.year < KW_CAL_MAX_YEAR; t = icalrecur_iterator_next(it)) {
        x.day = day_of_ical(t);
        if (++n > MAX_OCCURRENCES || !add_range(v, x, ndays)) {
            rc = kw_err_set(err, KW_TOO_BIG, NULL, "too many dates from a recurring event");
            break;
        }
    }
    icalrecur_iterator_free(it);
    return rc;
}

static bool skip(struct kw_ics_plan *p, int64_t day, enum kw_ics_skip_why why, const char *summary)
{
    p->st.skipped++;
    if (p->n_skips == KW_ICS_MAX_SKIPS)
        return true;
    if (!p->skips && !(p->skips = calloc(KW_ICS_MAX_SKIPS, sizeof(*p->skips))))
        return false;
    p->skips[p->n_skips++] = (struct kw_ics_skip){.day = day, .why = why, .summary = summary};
    return true;
}

/* Keep a copy of an event's summary; its index in *ev. */
static bool keep_text(struct kw_ics_plan *p, const char *s, uint32_t *ev)
{
    if (p->n_texts >= UINT32_MAX)
        return false;
    char **t = realloc(p->texts, (p->n_texts + 1) * sizeof(*t));
    if (!t)
        return false;
    p->texts = t;
    if (!(t[p->n_texts] = strdup(s ? s : "")))
        return false;
    *ev = (uint32_t)p->n_texts++;
    return true;
}

/* Which kind an event is, and by which marker; false to skip it (*why). */
static bool classify(const struct kw_ics_opts *o, const char *summary, struct hit *x,
                     enum kw_ics_skip_why *why)
{
    *why = KW_ICS_NO_MARKER;
    switch (o->mode) {
    case KW_ICS_AS_HOLIDAYS:
    case KW_ICS_AS_WORKDAYS: {
        const char *m = o->mode == KW_ICS_AS_HOLIDAYS ? o->holiday_marker : o->workday_marker;
        x->kind = o->mode == KW_ICS_AS_HOLIDAYS ? KW_ICS_HOLIDAY : KW_ICS_WORKDAY;
        x->marker = m;
        return !m || kw_ics_has_marker(summary, m);
    }
    case KW_ICS_BY_MARKER: {
        bool off = kw_ics_has_marker(summary, o->holiday_marker);
        bool on = kw_ics_has_marker(summary, o->workday_marker);
        if (off && on)
            *why = KW_ICS_BOTH_MARKERS;
        x->kind = off ? KW_ICS_HOLIDAY : KW_ICS_WORKDAY;
        x->marker = off ? o->holiday_marker : o->workday_marker;
        return off != on;
    }
    }
    return false;
}

/* Collect the dates of the matching all-day events of one VCALENDAR. */
static enum kw_code scan(icalcomponent *cal, struct kw_ics_plan *p, struct hits *v,
                         struct kw_err *err)
{
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
        const char *summary = icalcomponent_get_summary(ev);
        struct icaltimetype start = icalcomponent_get_dtstart(ev);
        struct hit x = {0};
        enum kw_ics_skip_why why = KW_ICS_TIMED;
        bool dated = !icaltime_is_null_time(start);
        bool take = dated && start.is_date && classify(&p->opts, summary, &x, &why);
        if (!keep_text(p, summary, &x.ev))
            return kw_err_set(err, KW_NOMEM, NULL, "no memory for the feed's events");
        if (!take) {
            if (!skip(p, dated ? day_of_ical(start) : 0, why, p->texts[x.ev]))
                return kw_err_set(err, KW_NOMEM, NULL, "no memory for the feed's events");
            continue;
        }
        p->st.events++;
        enum kw_code rc = collect(ev, x, v, err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

static int cmp_hit(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->day != y->day)
        return (x->day > y->day) - (x->day < y->day);
    return (x->ev > y->ev) - (x->ev < y->ev);
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

static const char *kind_name(uint8_t kind)
{
    return kind == KW_ICS_HOLIDAY ? "a holiday" : "an extra workday";
}

/* One row per date; a date given as both kinds is a conflict. */
static enum kw_code settle(const struct kw_cal_spec *spec, struct kw_ics_plan *p, struct hits *v,
                           struct kw_err *err)
{
    if (v->n == 0)
        return KW_OK; /* nothing matched: an empty plan (qsort wants an array) */
    qsort(v->h, v->n, sizeof(*v->h), cmp_hit);
    if (!(p->dates = calloc(v->n, sizeof(*p->dates))))
        return kw_err_set(err, KW_NOMEM, NULL, "no memory for %zu dates", v->n);
    for (size_t i = 0; i < v->n; i++) {
        const struct hit *x = &v->h[i];
        char d[11];
        if (p->n_dates && p->dates[p->n_dates - 1].day == x->day) {
            const struct kw_ics_date *was = &p->dates[p->n_dates - 1];
            if ((uint8_t)was->kind == x->kind)
                continue; /* two events on one date: the first one names it */
            kw_date_format(x->day, d);
            return kw_err_set(
                err, KW_CONFLICT, NULL, "%s is %s in the feed (\"%.40s\") and %s (\"%.40s\")", d,
                kind_name((uint8_t)was->kind), was->summary, kind_name(x->kind), p->texts[x->ev]);
        }
        bool same = x->kind == KW_ICS_HOLIDAY ? in_holidays(spec, x->day) : in_extra(spec, x->day);
        bool other = x->kind == KW_ICS_HOLIDAY ? in_extra(spec, x->day) : in_holidays(spec, x->day);
        if (other) {
            kw_date_format(x->day, d);
            return kw_err_set(err, KW_CONFLICT, NULL,
                              "%s from the feed is %s in the calendar already (event \"%.40s\")", d,
                              kind_name(x->kind == KW_ICS_HOLIDAY), p->texts[x->ev]);
        }
        p->dates[p->n_dates++] = (struct kw_ics_date){.day = x->day,
                                                      .kind = (enum kw_ics_kind)x->kind,
                                                      .present = same,
                                                      .summary = p->texts[x->ev],
                                                      .marker = x->marker};
        if (same)
            p->st.present++;
        else
            p->st.added++;
    }
    return KW_OK;
}

enum kw_code kw_ics_plan(const struct kw_cal_spec *spec, const char *text, size_t len,
                         const struct kw_ics_opts *opts, struct kw_ics_plan *p, struct kw_err *err)
{
    struct hits v = {0};
    enum kw_code rc = KW_OK;
    icalcomponent *root = NULL;
    *p = (struct kw_ics_plan){.opts = *opts};
    if (opts->mode == KW_ICS_BY_MARKER && (!opts->holiday_marker || !opts->workday_marker))
        return kw_err_set(err, KW_INVALID, NULL, "importing by marker needs both markers");
    if (len == 0 || strlen(text) != len)
        return kw_err_set(err, KW_INVALID, NULL, "not an iCalendar file (empty, or NUL bytes)");
    root = icalparser_parse_string(text);
    if (!root || (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT &&
                  icalcomponent_isa(root) != ICAL_XROOT_COMPONENT)) {
        rc = kw_err_set(err, KW_INVALID, NULL, "not an iCalendar file (expected BEGIN:VCALENDAR)");
        goto out;
    }
    /* A file with several VCALENDARs parses into an XROOT holding them. */
    if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
        rc = scan(root, p, &v, err);
    } else {
        for (icalcomponent *cal = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
             cal && rc == KW_OK;
             cal = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
            rc = scan(cal, p, &v, err);
    }
    if (rc == KW_OK)
        rc = settle(spec, p, &v, err);
out:
    if (root)
        icalcomponent_free(root);
    free(v.h);
    return rc;
}

void kw_ics_plan_release(struct kw_ics_plan *p)
{
    for (size_t i = 0; i < p->n_texts; i++)
        free(p->texts[i]);
    free(p->texts);
    free(p->dates);
    free(p->skips);
    *p = (struct kw_ics_plan){0};
}

/* "whose summary carries the marker 休", "", or "with the marker 休 or 班". */
static void what_matched(const struct kw_ics_opts *o, char *buf, size_t cap)
{
    const char *m = o->mode == KW_ICS_AS_HOLIDAYS   ? o->holiday_marker
                    : o->mode == KW_ICS_AS_WORKDAYS ? o->workday_marker
                                                    : NULL;
    if (o->mode == KW_ICS_BY_MARKER)
        snprintf(buf, cap, " whose summary carries the marker \"%s\" or \"%s\"", o->holiday_marker,
                 o->workday_marker);
    else if (m)
        snprintf(buf, cap, " whose summary carries the marker \"%s\"", m);
    else
        buf[0] = '\0';
}

enum kw_code kw_ics_apply(struct kw_cal_spec *spec, const struct kw_ics_plan *p,
                          const struct kw_cal_day *hours, struct kw_err *err)
{
    size_t nh = 0, nw = 0;
    if (p->st.events == 0 || p->n_dates == 0) {
        char what[128];
        what_matched(&p->opts, what, sizeof(what));
        return kw_err_set(err, KW_INVALID, NULL, "the feed has no all-day events%s", what);
    }
    for (size_t i = 0; i < p->n_dates; i++)
        if (!p->dates[i].present)
            *(p->dates[i].kind == KW_ICS_HOLIDAY ? &nh : &nw) += 1;
    if (nw && (!hours || hours->n == 0))
        return kw_err_set(err, KW_INVALID, NULL,
                          "the make-up workdays need hours and the calendar has no Monday hours "
                          "to give them");
    if (spec->n_holidays + nh > KW_CAL_MAX_DATES)
        return kw_err_set(err, KW_TOO_BIG, NULL, "more than %d holidays", KW_CAL_MAX_DATES);
    if (spec->n_extra + nw > KW_CAL_MAX_DATES)
        return kw_err_set(err, KW_TOO_BIG, NULL, "more than %d extra workdays", KW_CAL_MAX_DATES);
    if (nh + nw == 0)
        return KW_OK;
    /* Allocate both before changing either, so a failure leaves spec alone. */
    int64_t *h = malloc((spec->n_holidays + nh) * sizeof(*h));
    struct kw_cal_extra *x = malloc((spec->n_extra + nw) * sizeof(*x));
    if (!h || !x) {
        free(h);
        free(x);
        return kw_err_set(err, KW_NOMEM, NULL, "no memory for %zu dates", nh + nw);
    }
    if (spec->n_holidays)
        memcpy(h, spec->holidays, spec->n_holidays * sizeof(*h));
    if (spec->n_extra)
        memcpy(x, spec->extra, spec->n_extra * sizeof(*x));
    size_t ih = spec->n_holidays, ix = spec->n_extra;
    for (size_t i = 0; i < p->n_dates; i++) {
        const struct kw_ics_date *d = &p->dates[i];
        if (d->present)
            continue;
        if (d->kind == KW_ICS_HOLIDAY)
            h[ih++] = d->day;
        else
            x[ix++] = (struct kw_cal_extra){.day = d->day, .hours = *hours};
    }
    struct kw_cal_spec old = *spec;
    spec->holidays = h;
    spec->n_holidays = ih;
    spec->extra = x;
    spec->n_extra = ix;
    enum kw_code rc = kw_cal_spec_check(spec, err); /* sorts the merged lists */
    if (rc != KW_OK) {
        *spec = old;
        free(h);
        free(x);
        return rc;
    }
    free(old.holidays);
    free(old.extra);
    return KW_OK;
}

enum kw_code kw_ics_merge(struct kw_cal_spec *spec, const char *text, size_t len, bool as_holidays,
                          const struct kw_cal_day *hours, const char *match,
                          struct kw_ics_stats *st, struct kw_err *err)
{
    struct kw_ics_opts o = {.mode = as_holidays ? KW_ICS_AS_HOLIDAYS : KW_ICS_AS_WORKDAYS,
                            .holiday_marker = as_holidays ? match : NULL,
                            .workday_marker = as_holidays ? NULL : match};
    struct kw_ics_plan p;
    enum kw_code rc = KW_OK;
    if (match)
        rc = kw_ics_marker_check(match, err);
    if (rc == KW_OK)
        rc = kw_ics_plan(spec, text, len, &o, &p, err);
    else
        p = (struct kw_ics_plan){0};
    if (rc == KW_OK)
        rc = kw_ics_apply(spec, &p, hours, err);
    *st = p.st;
    kw_ics_plan_release(&p);
    return rc;
}
