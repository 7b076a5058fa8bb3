// SPDX-License-Identifier: MIT
/* The wait for confirmation and the call-back's rules; see confirm.h. */
#include "confirm.h"

#include <string.h>

#define DAY 86400

/* The UTC instant of local second `sec` of local date `day`, in cal's zone
 * (the offset in force near it; a skipped hour maps past the gap). */
static int64_t utc_of(const struct kw_cal *cal, int64_t day, int64_t sec)
{
    int64_t local = day * DAY + sec;
    int32_t off = kw_cal_utc_offset(cal, local);
    return local - kw_cal_utc_offset(cal, local - off);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The end of n working days from start (see confirm.h). */
static enum kw_code working_days(const struct kw_cal *cal, int64_t start, int n, int64_t *out,
                                 struct kw_err *err)
{
    int64_t local = start + kw_cal_utc_offset(cal, start);
    int64_t day = floor_div(local, DAY), tod = local - day * DAY;
    struct kw_span sp[KW_CAL_MAX_SHIFTS * 2];
    size_t k = 0;
    /* a year of holidays in a row is far beyond any calendar we accept */
    for (int found = 0, tries = 0; found < n; tries++) {
        if (tries > 366 + 7 * n)
            return kw_err_set(err, KW_RANGE, "/confirm_within",
                              "no %d working days after the resolution on this calendar", n);
        day++;
        k = kw_cal_spans(cal, utc_of(cal, day, 0), utc_of(cal, day + 1, 0), sp,
                         (sizeof(sp) / sizeof(sp[0])));
        if (k > 0)
            found++;
    }
    if (k > (sizeof(sp) / sizeof(sp[0])))
        k = (sizeof(sp) / sizeof(sp[0]));
    int64_t at = utc_of(cal, day, tod);
    if (at < sp[0].start) {
        *out = sp[0].start;
        return KW_OK;
    }
    for (size_t i = 0; i < k; i++)
        if (at < sp[i].end) {
            *out = at < sp[i].start ? sp[i].start : at;
            return KW_OK;
        }
    *out = sp[k - 1].end; /* a shorter day: its end */
    return KW_OK;
}

enum kw_code kw_confirm_plan(const struct kw_confirm_terms *t, const struct kw_cal *cal,
                             int64_t since, struct kw_confirm_plan *out, struct kw_err *err)
{
    *out = (struct kw_confirm_plan){since, KW_NO_TIME, KW_NO_TIME};
    if (!t->on)
        return kw_err_set(err, KW_INVALID, "/confirm_within", "the commitment sets no wait");
    enum kw_code rc;
    int64_t total;
    if (t->working_days > 0) {
        if ((rc = kw_cal_next_working(cal, since, &out->start, err)) != KW_OK ||
            (rc = working_days(cal, out->start, t->working_days, &out->deadline, err)) != KW_OK ||
            (rc = kw_cal_elapsed(cal, out->start, out->deadline, &total, err)) != KW_OK)
            return rc;
    } else {
        total = t->work;
        if ((rc = kw_cal_deadline(cal, since, t->work, &out->deadline, err)) != KW_OK)
            return rc;
    }
    if (t->remind_pct > 0 && total > 0)
        return kw_cal_deadline(cal, out->start, total * t->remind_pct / 100, &out->remind_at, err);
    return KW_OK;
}

int64_t kw_confirm_next(const struct kw_confirm_plan *p, bool reminded, enum kw_confirm_due *kind)
{
    if (!reminded && p->remind_at != KW_NO_TIME && p->remind_at < p->deadline) {
        *kind = KW_CONFIRM_DUE_REMIND;
        return p->remind_at;
    }
    *kind = KW_CONFIRM_DUE_TIMEOUT;
    return p->deadline;
}

enum kw_confirm_outcome kw_confirm_outcome(const struct kw_event *ev, size_t n, int64_t *at)
{
    enum kw_confirm_outcome o = KW_CONFIRM_OPEN;
    *at = KW_NO_TIME;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type == KW_EV_REOPENED ||
            (ev[i].type == KW_EV_MILESTONE && ev[i].name && strcmp(ev[i].name, "resolved") == 0)) {
            o = KW_CONFIRM_OPEN;
            *at = KW_NO_TIME;
        } else if (ev[i].type == KW_EV_MILESTONE && ev[i].name &&
                   (strcmp(ev[i].name, "customer_confirmed") == 0 ||
                    strcmp(ev[i].name, "confirmed_by_timeout") == 0)) {
            o = ev[i].name[0] == 'c' && ev[i].name[1] == 'u' ? KW_CONFIRM_CUSTOMER
                                                             : KW_CONFIRM_TIMEOUT;
            *at = ev[i].at;
        }
    }
    return o;
}

static bool too_long(const char *s)
{
    return s && strlen(s) > 2000;
}

enum kw_code kw_callback_check(const struct kw_callback_in *in, int made, bool done, int max,
                               struct kw_err *err)
{
    if (done)
        return kw_err_set(err, KW_CONFLICT, "/reached",
                          "the call-back is done: the customer was reached already");
    if (made >= max)
        return kw_err_set(err, KW_CONFLICT, "/reached",
                          "the customer was tried %d times, the most the commitment allows "
                          "(callback_attempts: %d)",
                          made, max);
    if (too_long(in->note))
        return kw_err_set(err, KW_INVALID, "/note", "note: at most 2000 bytes");
    if (too_long(in->follow_up))
        return kw_err_set(err, KW_INVALID, "/follow_up", "follow_up: at most 2000 bytes");
    if (!in->reached) {
        if (in->satisfaction != 0)
            return kw_err_set(err, KW_INVALID, "/satisfaction",
                              "a customer who was not reached gives no satisfaction");
        if (in->nps != -1)
            return kw_err_set(err, KW_INVALID, "/nps",
                              "a customer who was not reached gives no nps");
        return KW_OK;
    }
    if (in->satisfaction < 1 || in->satisfaction > 5)
        return kw_err_set(err, KW_INVALID, "/satisfaction",
                          "satisfaction: expected a whole number from 1 to 5");
    if (in->nps < -1 || in->nps > 10)
        return kw_err_set(err, KW_INVALID, "/nps", "nps: expected a whole number from 0 to 10");
    return KW_OK;
}

bool kw_callback_dissatisfied(int satisfaction, int nps)
{
    return (satisfaction >= 1 && satisfaction <= 2) || (nps >= 0 && nps <= 6);
}
