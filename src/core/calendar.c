// SPDX-License-Identifier: MIT
#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

/* A compiled span: working time [start, end) with `cum` working seconds
 * before it in the horizon. Spans are sorted, disjoint and never adjacent
 * (touching spans are merged), so every span has end > start. */
struct cspan {
    int64_t start, end, cum;
};

struct kw_cal {
    int64_t from, until, total;
    size_t n;
    struct cspan *s;
    char tz[KW_CAL_TZ_MAX];
    int32_t initial;
    size_t n_changes;
    struct kw_tz_change *changes;
};

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

void kw_cal_spec_release(struct kw_cal_spec *spec)
{
    if (!spec)
        return;
    free(spec->holidays);
    free(spec->extra);
    memset(spec, 0, sizeof(*spec));
}

static int cmp_shift(const void *a, const void *b)
{
    const struct kw_cal_shift *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Check one day's shifts (ptr/path name the day for messages), then sort them. */
static enum kw_code check_day(struct kw_cal_day *day, const char *ptr, const char *path,
                              struct kw_err *err)
{
    char p[96];
    if (day->n > KW_CAL_MAX_SHIFTS)
        return kw_err_set(err, KW_INVALID, ptr, "%s: more than %d intervals in one day", path,
                          KW_CAL_MAX_SHIFTS);
    for (uint32_t i = 0; i < day->n; i++) {
        const struct kw_cal_shift *a = &day->shift[i];
        snprintf(p, sizeof(p), "%s/%u", ptr, i);
        if (a->start < 0 || a->start >= KW_DAY || a->end <= a->start || a->end - a->start > KW_DAY)
            return kw_err_set(err, KW_INVALID, p,
                              "%s[%u]: not an interval within one day (start %d s, end %d s)", path,
                              i, (int)a->start, (int)a->end);
        for (uint32_t j = 0; j < i; j++) {
            const struct kw_cal_shift *b = &day->shift[j];
            if (a->start < b->end && b->start < a->end)
                return kw_err_set(err, KW_INVALID, p, "%s[%u]: overlaps %s[%u]", path, i, path, j);
        }
    }
    qsort(day->shift, day->n, sizeof(day->shift[0]), cmp_shift);
    return KW_OK;
}

struct dated {
    int64_t day;
    size_t idx;
};

static int cmp_dated(const void *a, const void *b)
{
    const struct dated *x = a, *y = b;
    if (x->day != y->day)
        return (x->day > y->day) - (x->day < y->day);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_extra(const void *a, const void *b)
{
    const struct kw_cal_extra *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

static int cmp_day(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (*x > *y) - (*x < *y);
}

/* Sort the holidays; a day listed twice is an error naming its second entry. */
static enum kw_code check_holidays(struct kw_cal_spec *spec, struct kw_err *err)
{
    size_t n = spec->n_holidays;
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = spec->holidays[i - 1] < spec->holidays[i];
    if (sorted)
        return KW_OK;
    struct dated *tmp = malloc(n * sizeof(*tmp));
    if (!tmp)
        return kw_err_set(err, KW_NOMEM, NULL, "no memory to sort %zu holidays", n);
    for (size_t i = 0; i < n; i++)
        tmp[i] = (struct dated){spec->holidays[i], i};
    qsort(tmp, n, sizeof(*tmp), cmp_dated);
    for (size_t i = 1; i < n; i++) {
        if (tmp[i].day == tmp[i - 1].day) {
            char d[11], p[32];
            kw_date_format(tmp[i].day, d);
            size_t second = tmp[i].idx > tmp[i - 1].idx ? tmp[i].idx : tmp[i - 1].idx;
            snprintf(p, sizeof(p), "/holidays/%zu", second);
            free(tmp);
            return kw_err_set(err, KW_INVALID, p, "holidays[%zu]: %s is listed twice", second, d);
        }
    }
    free(tmp);
    qsort(spec->holidays, n, sizeof(spec->holidays[0]), cmp_day);
    return KW_OK;
}

enum kw_code kw_cal_spec_check(struct kw_cal_spec *spec, struct kw_err *err)
{
    enum kw_code rc;
    char ptr[64], path[64];

    for (int d = 0; d < 7; d++) {
        snprintf(ptr, sizeof(ptr), "/week/%s", day_names[d]);
        snprintf(path, sizeof(path), "week.%s", day_names[d]);
        if ((rc = check_day(&spec->week[d], ptr, path, err)) != KW_OK)
            return rc;
    }
    if (spec->n_holidays > KW_CAL_MAX_DATES || spec->n_extra > KW_CAL_MAX_DATES)
        return kw_err_set(err, KW_TOO_BIG, NULL, "more than %d holidays or extra workdays",
                          KW_CAL_MAX_DATES);
    if ((rc = check_holidays(spec, err)) != KW_OK)
        return rc;
    for (size_t i = 0; i < spec->n_extra; i++) {
        char date[11];
        kw_date_format(spec->extra[i].day, date);
        snprintf(ptr, sizeof(ptr), "/extra_workdays/%s", date);
        snprintf(path, sizeof(path), "extra_workdays.%s", date);
        if ((rc = check_day(&spec->extra[i].hours, ptr, path, err)) != KW_OK)
            return rc;
        if (spec->extra[i].hours.n == 0)
            return kw_err_set(err, KW_INVALID, ptr,
                              "%s: an extra workday needs working hours (list a holiday "
                              "under holidays instead)",
                              path);
    }
    if (spec->n_extra > 1)
        qsort(spec->extra, spec->n_extra, sizeof(spec->extra[0]), cmp_extra);
    for (size_t i = 1; i < spec->n_extra; i++) {
        if (spec->extra[i].day == spec->extra[i - 1].day) {
            char date[11];
            kw_date_format(spec->extra[i].day, date);
            return kw_err_set(err, KW_INVALID, "/extra_workdays",
                              "extra_workdays: %s is listed twice", date);
        }
    }
    /* Both lists are sorted now: one merge pass finds a day in both. */
    for (size_t i = 0, j = 0; i < spec->n_holidays && j < spec->n_extra;) {
        if (spec->holidays[i] < spec->extra[j].day) {
            i++;
        } else if (spec->holidays[i] > spec->extra[j].day) {
            j++;
        } else {
            char date[11];
            kw_date_format(spec->holidays[i], date);
            snprintf(ptr, sizeof(ptr), "/extra_workdays/%s", date);
            return kw_err_set(err, KW_INVALID, ptr, "%s is both a holiday and an extra workday",
                              date);
        }
    }
    return KW_OK;
}

bool kw_cal_tz_name_ok(const char *s, size_t len)
{
    if (len == 0 || len >= KW_CAL_TZ_MAX || s[0] == '/' || strstr(s, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    return true;
}

int64_t kw_cal_spec_week_seconds(const struct kw_cal_spec *spec)
{
    int64_t sum = 0;
    for (int d = 0; d < 7; d++)
        for (uint32_t i = 0; i < spec->week[d].n; i++)
            sum += spec->week[d].shift[i].end - spec->week[d].shift[i].start;
    return sum;
}

/* ---- compiling ---- */

/* Number of spans of c that start at or before t (binary search). */
static size_t count_started(const struct kw_cal *c, int64_t t)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->s[mid].start <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct builder {
    struct cspan *s;
    size_t n, cap;
    bool sorted;
};

static bool push(struct builder *b, int64_t start, int64_t end)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        struct cspan *s = realloc(b->s, cap * sizeof(*s));
        if (!s)
            return false;
        b->s = s;
        b->cap = cap;
    }
    if (b->n && start < b->s[b->n - 1].start)
        b->sorted = false;
    b->s[b->n++] = (struct cspan){start, end, 0};
    return true;
}

static int cmp_cspan(const void *a, const void *b)
{
    const struct cspan *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Offset segment k of the zone: [seg_lo(k), seg_lo(k+1)), k in 0..n_changes. */
static int64_t seg_lo(const struct kw_cal *c, size_t k)
{
    return k == 0 ? INT64_MIN : c->changes[k - 1].at;
}

static int64_t seg_hi(const struct kw_cal *c, size_t k)
{
    return k == c->n_changes ? INT64_MAX : c->changes[k].at;
}

static int32_t seg_offset(const struct kw_cal *c, size_t k)
{
    return k == 0 ? c->initial : c->changes[k - 1].offset;
}

/* Index of the segment holding UTC instant t. */
static size_t seg_find(const struct kw_cal *c, int64_t t)
{
    size_t lo = 0, hi = c->n_changes; /* answer in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (c->changes[mid - 1].at <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int32_t kw_cal_utc_offset(const struct kw_cal *cal, int64_t t)
{
    return seg_offset(cal, seg_find(cal, t));
}

/* Append the real instants whose local time lies in [l0, l1), clipped to the
 * horizon. Within a segment of constant offset o, local time is utc + o, so
 * the preimage is [l0 - o, l1 - o) intersected with the segment. Offsets stay
 * within +-26 h, which bounds the segments worth looking at. */
static bool map_local(struct builder *b, const struct kw_cal *c, int64_t l0, int64_t l1)
{
    const int64_t window = 26 * 3600;
    for (size_t k = seg_find(c, l0 - window); k <= c->n_changes && seg_lo(c, k) < l1 + window;
         k++) {
        int32_t o = seg_offset(c, k);
        int64_t a = l0 - o, z = l1 - o;
        if (a < seg_lo(c, k))
            a = seg_lo(c, k);
        if (z > seg_hi(c, k))
            z = seg_hi(c, k);
        if (a < c->from)
            a = c->from;
        if (z > c->until)
            z = c->until;
        if (a < z && !push(b, a, z))
            return false;
    }
    return true;
}

static const struct kw_cal_day *hours_of(const struct kw_cal_spec *spec, int64_t day, size_t *hi,
                                         size_t *xi)
{
    while (*hi < spec->n_holidays && spec->holidays[*hi] < day)
        (*hi)++;
    while (*xi < spec->n_extra && spec->extra[*xi].day < day)
        (*xi)++;
    if (*hi < spec->n_holidays && spec->holidays[*hi] == day)
        return NULL;
    if (*xi < spec->n_extra && spec->extra[*xi].day == day)
        return &spec->extra[*xi].hours;
    return &spec->week[kw_weekday(day)];
}

struct kw_cal *kw_cal_new(const struct kw_cal_spec *spec, const struct kw_tzinfo *tz, int64_t from,
                          int64_t until, struct kw_err *err)
{
    struct builder b = {.sorted = true};
    struct kw_cal *c = calloc(1, sizeof(*c));
    if (!c)
        goto nomem;
    if (from >= until) {
        kw_err_set(err, KW_INVALID, NULL, "empty calendar horizon");
        goto fail;
    }
    c->from = from;
    c->until = until;
    snprintf(c->tz, sizeof(c->tz), "%s", tz->name ? tz->name : "");
    c->initial = tz->initial;
    c->n_changes = tz->n;
    if (tz->n) {
        c->changes = malloc(tz->n * sizeof(*c->changes));
        if (!c->changes)
            goto nomem;
        memcpy(c->changes, tz->changes, tz->n * sizeof(*c->changes));
    }
    int32_t minoff = c->initial, maxoff = c->initial;
    for (size_t k = 0; k < c->n_changes; k++) {
        if (c->changes[k].offset < minoff)
            minoff = c->changes[k].offset;
        if (c->changes[k].offset > maxoff)
            maxoff = c->changes[k].offset;
    }

    /* Shifts belong to the local day they start on and may run one day on,
     * so start two local days before the horizon. */
    size_t hi = 0, xi = 0;
    int64_t last = kw_day_of(until - 1 + maxoff);
    for (int64_t day = kw_day_of(from + minoff) - 2; day <= last; day++) {
        const struct kw_cal_day *h = hours_of(spec, day, &hi, &xi);
        for (uint32_t i = 0; h && i < h->n; i++) {
            int64_t base = day * KW_DAY;
            if (!map_local(&b, c, base + h->shift[i].start, base + h->shift[i].end))
                goto nomem;
        }
    }
    if (!b.sorted)
        qsort(b.s, b.n, sizeof(*b.s), cmp_cspan);

    /* Merge overlapping and touching spans, then accumulate. */
    size_t n = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (n && b.s[i].start <= b.s[n - 1].end) {
            if (b.s[i].end > b.s[n - 1].end)
                b.s[n - 1].end = b.s[i].end;
        } else {
            b.s[n++] = b.s[i];
        }
    }
    if (n == 0) {
        char f[KW_INSTANT_BUF], u[KW_INSTANT_BUF];
        kw_instant_format_utc(from, f);
        kw_instant_format_utc(until, u);
        kw_err_set(err, KW_INVALID, "/week", "the calendar has no working time between %s and %s",
                   f, u);
        goto fail;
    }
    int64_t cum = 0;
    for (size_t i = 0; i < n; i++) {
        b.s[i].cum = cum;
        cum += b.s[i].end - b.s[i].start;
    }
    struct cspan *shrunk = realloc(b.s, n * sizeof(*b.s));
    c->s = shrunk ? shrunk : b.s;
    c->n = n;
    c->total = cum;
    return c;
nomem:
    kw_err_set(err, KW_NOMEM, NULL, "no memory to compile the calendar");
fail:
    free(b.s);
    kw_cal_free(c);
    return NULL;
}

void kw_cal_free(struct kw_cal *cal)
{
    if (!cal)
        return;
    free(cal->s);
    free(cal->changes);
    free(cal);
}

/* Spans of part c inside [lo, hi), clipped, appended to b (merging with the
 * last span when they touch). The caller goes through lo in order. */
static bool splice_part(struct builder *b, const struct kw_cal *c, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return true;
    size_t k = count_started(c, lo);
    for (size_t i = k > 0 && c->s[k - 1].end > lo ? k - 1 : k; i < c->n && c->s[i].start < hi;
         i++) {
        int64_t a = c->s[i].start > lo ? c->s[i].start : lo;
        int64_t z = c->s[i].end < hi ? c->s[i].end : hi;
        if (b->n && a <= b->s[b->n - 1].end) {
            if (z > b->s[b->n - 1].end)
                b->s[b->n - 1].end = z;
        } else if (!push(b, a, z)) {
            return false;
        }
    }
    return true;
}

struct kw_cal *kw_cal_splice(const struct kw_cal *const *parts, const int64_t *since, size_t n,
                             struct kw_err *err)
{
    if (n == 0 || n > KW_CAL_MAX_PARTS) {
        kw_err_set(err, KW_INVALID, NULL, "a spliced calendar needs 1 to %d parts, not %zu",
                   KW_CAL_MAX_PARTS, n);
        return NULL;
    }
    for (size_t i = 1; i < n; i++) {
        if (parts[i]->from != parts[0]->from || parts[i]->until != parts[0]->until) {
            kw_err_set(err, KW_INVALID, NULL, "part %zu has another horizon than part 0", i);
            return NULL;
        }
        if (i > 1 && since[i] < since[i - 1]) {
            kw_err_set(err, KW_INVALID, NULL, "part %zu starts before part %zu", i, i - 1);
            return NULL;
        }
    }
    const struct kw_cal *last = parts[n - 1];
    struct builder b = {.sorted = true};
    struct kw_cal *c = calloc(1, sizeof(*c));
    if (!c)
        goto nomem;
    c->from = last->from;
    c->until = last->until;
    memcpy(c->tz, last->tz, sizeof(c->tz));
    c->initial = last->initial;
    c->n_changes = last->n_changes;
    if (last->n_changes) {
        c->changes = malloc(last->n_changes * sizeof(*c->changes));
        if (!c->changes)
            goto nomem;
        memcpy(c->changes, last->changes, last->n_changes * sizeof(*c->changes));
    }
    for (size_t i = 0; i < n; i++) {
        int64_t lo = i == 0 ? c->from : since[i], hi = i + 1 < n ? since[i + 1] : c->until;
        if (lo < c->from)
            lo = c->from;
        if (hi > c->until)
            hi = c->until;
        if (!splice_part(&b, parts[i], lo, hi))
            goto nomem;
    }
    if (b.n == 0) {
        kw_err_set(err, KW_INVALID, "/week", "the spliced calendar has no working time");
        goto fail;
    }
    int64_t cum = 0;
    for (size_t i = 0; i < b.n; i++) {
        b.s[i].cum = cum;
        cum += b.s[i].end - b.s[i].start;
    }
    struct cspan *shrunk = realloc(b.s, b.n * sizeof(*b.s));
    c->s = shrunk ? shrunk : b.s;
    c->n = b.n;
    c->total = cum;
    return c;
nomem:
    kw_err_set(err, KW_NOMEM, NULL, "no memory to splice the calendar");
fail:
    free(b.s);
    kw_cal_free(c);
    return NULL;
}

/* ---- queries ---- */

static enum kw_code out_of_range(const struct kw_cal *c, int64_t t, struct kw_err *err)
{
    char a[KW_INSTANT_BUF], f[KW_INSTANT_BUF], u[KW_INSTANT_BUF];
    kw_instant_format_utc(t, a);
    kw_instant_format_utc(c->from, f);
    kw_instant_format_utc(c->until, u);
    return kw_err_set(err, KW_RANGE, NULL, "%s is outside the calendar's horizon [%s, %s)", a, f,
                      u);
}

/* Working seconds in [from, t); k = count_started(c, t). */
static int64_t work_until(const struct cspan *s, size_t k, int64_t t)
{
    if (k == 0)
        return 0;
    const struct cspan *p = &s[k - 1];
    return p->cum + (t < p->end ? t : p->end) - p->start;
}

enum kw_code kw_cal_next_working(const struct kw_cal *cal, int64_t t, int64_t *out,
                                 struct kw_err *err)
{
    if (t < cal->from || t >= cal->until)
        return out_of_range(cal, t, err);
    size_t k = count_started(cal, t);
    if (k > 0 && t < cal->s[k - 1].end) {
        *out = t;
        return KW_OK;
    }
    if (k == cal->n) {
        char u[KW_INSTANT_BUF];
        kw_instant_format_utc(cal->until, u);
        return kw_err_set(err, KW_RANGE, NULL, "no working time is left before %s", u);
    }
    *out = cal->s[k].start;
    return KW_OK;
}

enum kw_code kw_cal_is_working(const struct kw_cal *cal, int64_t t, bool *out, struct kw_err *err)
{
    if (t < cal->from || t >= cal->until)
        return out_of_range(cal, t, err);
    size_t k = count_started(cal, t);
    *out = k > 0 && t < cal->s[k - 1].end;
    return KW_OK;
}

enum kw_code kw_cal_deadline(const struct kw_cal *cal, int64_t start, int64_t work, int64_t *out,
                             struct kw_err *err)
{
    if (work < 0)
        return kw_err_set(err, KW_INVALID, NULL, "negative working time: %lld seconds",
                          (long long)work);
    if (work == 0)
        return kw_cal_next_working(cal, start, out, err);
    if (start < cal->from || start > cal->until)
        return out_of_range(cal, start, err);
    size_t k = count_started(cal, start);
    int64_t before = work_until(cal->s, k, start);
    if (work > cal->total - before) {
        char u[KW_INSTANT_BUF];
        kw_instant_format_utc(cal->until, u);
        return kw_err_set(err, KW_RANGE, NULL, "the deadline lies past the calendar's horizon (%s)",
                          u);
    }
    int64_t target = before + work;
    /* The first span whose end reaches target. Deadlines are usually near the
     * start, so gallop forward from it before bisecting. */
    size_t lo = k ? k - 1 : 0, step = 1, hi = lo;
    while (hi < cal->n && cal->s[hi].cum + (cal->s[hi].end - cal->s[hi].start) < target) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    if (hi >= cal->n)
        hi = cal->n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->s[mid].cum + (cal->s[mid].end - cal->s[mid].start) < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    *out = cal->s[lo].start + (target - cal->s[lo].cum);
    return KW_OK;
}

enum kw_code kw_cal_elapsed(const struct kw_cal *cal, int64_t t1, int64_t t2, int64_t *out,
                            struct kw_err *err)
{
    if (t1 < cal->from || t1 > cal->until)
        return out_of_range(cal, t1, err);
    if (t2 < cal->from || t2 > cal->until)
        return out_of_range(cal, t2, err);
    if (t2 <= t1) {
        *out = 0;
        return KW_OK;
    }
    *out = work_until(cal->s, count_started(cal, t2), t2) -
           work_until(cal->s, count_started(cal, t1), t1);
    return KW_OK;
}

enum kw_code kw_cal_worked(const struct kw_cal *cal, int64_t t, int64_t *out, struct kw_err *err)
{
    if (t < cal->from || t > cal->until)
        return out_of_range(cal, t, err);
    *out = work_until(cal->s, count_started(cal, t), t);
    return KW_OK;
}

size_t kw_cal_spans(const struct kw_cal *cal, int64_t t1, int64_t t2, struct kw_span *out,
                    size_t cap)
{
    if (t2 <= t1)
        return 0;
    size_t k = count_started(cal, t1), total = 0;
    size_t i = k > 0 && cal->s[k - 1].end > t1 ? k - 1 : k;
    for (; i < cal->n && cal->s[i].start < t2; i++, total++) {
        if (total < cap) {
            out[total].start = cal->s[i].start > t1 ? cal->s[i].start : t1;
            out[total].end = cal->s[i].end < t2 ? cal->s[i].end : t2;
        }
    }
    return total;
}

void kw_cal_horizon(const struct kw_cal *cal, int64_t *from, int64_t *until)
{
    *from = cal->from;
    *until = cal->until;
}

const char *kw_cal_tz(const struct kw_cal *cal)
{
    return cal->tz;
}

size_t kw_cal_span_count(const struct kw_cal *cal)
{
    return cal->n;
}

size_t kw_cal_memory_bytes(const struct kw_cal *cal)
{
    return sizeof(*cal) + cal->n * sizeof(*cal->s) + cal->n_changes * sizeof(*cal->changes);
}

void kw_cal_covered_days(const struct kw_cal *cal, int64_t *first, int64_t *last)
{
    int64_t a = cal->s[0].start, z = cal->s[cal->n - 1].end - 1;
    *first = kw_day_of(a + kw_cal_utc_offset(cal, a));
    *last = kw_day_of(z + kw_cal_utc_offset(cal, z));
}

int32_t kw_tz_offset(const struct kw_tzinfo *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n; /* changes[0..lo) are at or before t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->changes[mid].at <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? tz->initial : tz->changes[lo - 1].offset;
}

int64_t kw_tz_instant(const struct kw_tzinfo *tz, int64_t local)
{
    int64_t t = local - kw_tz_offset(tz, local - tz->initial);
    return local - kw_tz_offset(tz, t);
}

int64_t kw_tz_day(const struct kw_tzinfo *tz, int64_t t)
{
    return kw_day_of(t + kw_tz_offset(tz, t));
}
