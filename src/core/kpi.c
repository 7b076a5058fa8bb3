// SPDX-License-Identifier: MIT
/*
 * kpi.c - the figures of docs/kpi.md; see kpi.h.
 */
#include "kpi.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum kw_kpi_class kw_kpi_classify(const struct kw_kpi_run *r, int64_t from, int64_t to)
{
    bool stopped = r->stopped_at != KW_KPI_NO_TIME && r->stopped_at < to;
    bool breached = r->breached_at != KW_KPI_NO_TIME && r->breached_at < to;
    if (stopped) {
        if (r->stopped_at < from)
            return KW_KPI_OUT;
        /* the clock's own verdict: met_late exactly when it reached its
         * deadline while running, i.e. stopped after it */
        return breached ? KW_KPI_MET_LATE : KW_KPI_MET;
    }
    return breached && r->breached_at >= from ? KW_KPI_BREACHED_OPEN : KW_KPI_OUT;
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p90 by nearest rank: the ceil(0.9 n)-th smallest, 1-based, in integers */
static size_t p90_index(size_t n)
{
    return (9 * n + 9) / 10 - 1;
}

/* The k-th smallest of v[lo..hi] (0-based, lo <= k <= hi), left at v[k]
 * with nothing larger before it and nothing smaller after it, in v[lo..hi]
 * (Hoare's selection with a three-way partition, so runs of equal seconds
 * cost nothing): linear on average, where a sort of a year's values is not. */
static int64_t select_i64(int64_t *v, size_t lo, size_t hi, size_t k)
{
    while (lo < hi) {
        int64_t a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
        int64_t pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        /* v[lo..lt) < pivot, v[lt..i) == pivot, v(gt..hi] > pivot */
        size_t lt = lo, i = lo, gt = hi;
        while (i <= gt) {
            int64_t x = v[i];
            if (x < pivot) {
                v[i++] = v[lt];
                v[lt++] = x;
            } else if (x > pivot) {
                v[i] = v[gt];
                v[gt] = x;
                if (gt-- == lo)
                    break;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt - 1;
        else if (k > gt)
            lo = gt + 1;
        else
            return pivot;
    }
    return v[k];
}

/* Bins of select_ranks' histograms (16 KiB of counts on the stack), and
 * below how many values it selects instead. */
#define RANK_BINS 4096
#define RANK_MIN 2048

/* The values of ranks k[0..nk) (ascending, each < n; nk <= 3) of v[0..n),
 * whose values lie in [lo, hi], into out[0..nk); v is reordered and, past
 * RANK_MIN values, shortened. Each round counts the values into RANK_BINS
 * bins of equal width over [lo, hi], keeps only those of the bins the ranks
 * fall in (moved to the front of v, in one pass with no branch on the
 * values) and renumbers the ranks among them: two passes over a year's
 * values each round, where selecting each rank by partitions took several
 * with a mispredicted branch a value; the same values. */
static void select_ranks(int64_t *v, size_t n, size_t *k, size_t nk, int64_t lo, int64_t hi,
                         int64_t *out)
{
    uint32_t count[RANK_BINS];
    uint8_t keep[RANK_BINS];
    while (n >= RANK_MIN && lo < hi) {
        uint64_t range = (uint64_t)hi - (uint64_t)lo;
        unsigned shift = 0;
        while ((range >> shift) >= RANK_BINS)
            shift++;
        memset(count, 0, sizeof(count));
        for (size_t i = 0; i < n; i++)
            count[((uint64_t)v[i] - (uint64_t)lo) >> shift]++;
        size_t bin[3], below[3], j = 0, cum = 0;
        for (size_t b = 0; b < RANK_BINS && j < nk; b++) {
            while (j < nk && k[j] < cum + count[b]) {
                bin[j] = b;
                below[j++] = cum;
            }
            cum += count[b];
        }
        memset(keep, 0, sizeof(keep));
        for (j = 0; j < nk; j++)
            keep[bin[j]] = 1;
        size_t m = 0;
        for (size_t j2 = 0; j2 < nk; j2++)
            m += j2 == 0 || bin[j2] != bin[j2 - 1] ? count[bin[j2]] : 0;
        if (m == n)
            break; /* every value in the ranks' bins (few distinct ones): selected */
        m = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t x = v[i];
            v[m] = x;
            m += keep[((uint64_t)x - (uint64_t)lo) >> shift];
        }
        /* rank among the kept: less those below its bin, plus the kept
         * bins' values below it (those of the ranks' lower bins) */
        size_t kept_below = 0;
        for (j = 0; j < nk; j++) {
            if (j > 0 && bin[j] != bin[j - 1])
                kept_below += count[bin[j - 1]];
            k[j] = k[j] - below[j] + kept_below;
        }
        uint64_t top = ((uint64_t)bin[nk - 1] << shift) + (((uint64_t)1 << shift) - 1);
        int64_t nhi = (int64_t)((uint64_t)lo + (top < range ? top : range));
        lo = (int64_t)((uint64_t)lo + ((uint64_t)bin[0] << shift));
        hi = nhi;
        n = m;
    }
    for (size_t j = 0; j < nk; j++)
        out[j] = lo == hi ? lo : select_i64(v, 0, n - 1, k[j]);
}

struct kw_kpi_stat kw_kpi_stat_i64(int64_t *v, size_t n)
{
    struct kw_kpi_stat s = {.n = n};
    if (!n)
        return s;
    /* whole seconds: their sum is exact in 64 bits and so, in any order,
     * the running sum of doubles of the sorted values it replaces (< 2^53) */
    int64_t sum = 0, lo = v[0], hi = v[0];
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    s.mean = (double)sum / (double)n;
    /* only the ranks the figures need: the lower middle for an even n,
     * the upper middle, and p90's nearest rank, never below it */
    size_t mid = n / 2, p = p90_index(n), k[3], nk = 0;
    int64_t at[3];
    if (n % 2 == 0)
        k[nk++] = mid - 1;
    k[nk++] = mid;
    if (p != mid)
        k[nk++] = p;
    select_ranks(v, n, k, nk, lo, hi, at);
    int64_t upper = at[n % 2 == 0 ? 1 : 0];
    s.median = n % 2 ? (double)upper : ((double)at[0] + (double)upper) / 2;
    s.p90 = (double)(p == mid ? upper : at[nk - 1]);
    return s;
}

/* A finite double as an unsigned key in the same order (IEEE 754: the sign
 * bit set for the positive, every bit flipped for the negative). */
static uint64_t key_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

static double double_of(uint64_t k)
{
    uint64_t u = k >> 63 ? k & ~(UINT64_C(1) << 63) : ~k;
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

/* Radix digits of 11 bits (the last 9): six passes at most over the keys,
 * where bytes took eight; 48 KiB of counts on the stack. */
#define DIGIT_BITS 11
#define DIGITS 6

/* v[0..n) sorted as cmp_f64 sorts finite values, by least significant
 * digit first on their keys (a and b: room for n keys each; n < 2^32), a
 * digit at a time, passing over a digit all keys share: linear, where
 * qsort's comparisons of a year's values were a sixth of GET /kpis. Equal
 * keys are equal values (no -0.0 among whole seconds' ratios), so the
 * sorted values and any sum of them in order are the same as qsort's. */
static void radix_f64(double *v, size_t n, uint64_t *a, uint64_t *b)
{
    static const uint64_t mask = (UINT64_C(1) << DIGIT_BITS) - 1;
    uint32_t count[DIGITS][(size_t)1 << DIGIT_BITS];
    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++) {
        a[i] = key_of(v[i]);
        for (unsigned d = 0; d < DIGITS; d++)
            count[d][(a[i] >> (DIGIT_BITS * d)) & mask]++;
    }
    for (unsigned d = 0; d < DIGITS; d++) {
        uint32_t *c = count[d], sum = 0;
        unsigned sh = DIGIT_BITS * d;
        if (c[(a[0] >> sh) & mask] == n)
            continue; /* every key has this digit */
        for (size_t x = 0; x <= mask; x++) {
            uint32_t k = c[x];
            c[x] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            b[c[(a[i] >> sh) & mask]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = double_of(a[i]);
}

struct kw_kpi_stat kw_kpi_stat_f64(double *v, size_t n)
{
    struct kw_kpi_stat s = {.n = n};
    if (!n)
        return s;
    /* many values: radix sorted in two buffers of keys (qsort without them) */
    uint64_t *keys = n >= 1024 && n < UINT32_MAX ? malloc(2 * n * sizeof(*keys)) : NULL;
    if (keys)
        radix_f64(v, n, keys, keys + n);
    else
        qsort(v, n, sizeof(*v), cmp_f64);
    free(keys);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    s.mean = sum / (double)n;
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    s.p90 = v[p90_index(n)];
    return s;
}

double kw_kpi_round1(double x)
{
    return round(x * 10.0) / 10.0;
}

static bool grow(struct kw_kpi_acc *a)
{
    if (a->n < a->cap)
        return true;
    size_t cap = a->cap ? 2 * a->cap : 64;
    int64_t *w = realloc(a->working, cap * sizeof(*w));
    if (!w)
        return false;
    a->working = w;
    int64_t *l = realloc(a->wall, cap * sizeof(*l));
    if (!l)
        return false;
    a->wall = l;
    double *s = realloc(a->sri, cap * sizeof(*s));
    if (!s)
        return false;
    a->sri = s;
    a->cap = cap;
    return true;
}

enum kw_code kw_kpi_add(struct kw_kpi_acc *a, const struct kw_kpi_run *r, int64_t from, int64_t to,
                        struct kw_err *err)
{
    enum kw_kpi_class c = kw_kpi_classify(r, from, to);
    switch (c) {
    case KW_KPI_OUT:
        return KW_OK;
    case KW_KPI_BREACHED_OPEN:
        a->breached_open++;
        a->n_over++;
        a->over_wall += (double)(to - r->breached_at);
        a->over_working += (double)r->overrun_working;
        return KW_OK;
    case KW_KPI_MET:
    case KW_KPI_MET_LATE:
        break;
    }
    if (!grow(a))
        return kw_err_set(err, KW_NOMEM, "", "no memory for the figures");
    if (c == KW_KPI_MET) {
        a->met++;
    } else {
        a->met_late++;
        a->n_over++;
        a->over_wall += (double)(r->stopped_at - r->breached_at);
        a->over_working += (double)r->overrun_working;
    }
    a->working[a->n] = r->working;
    a->wall[a->n] = r->stopped_at - r->started_at - r->paused_wall;
    a->n++;
    if (r->target > 0)
        a->sri[a->n_sri++] = (double)r->working * 100.0 / (double)r->target;
    return KW_OK;
}

void kw_kpi_figures(struct kw_kpi_acc *a, struct kw_kpi_metric *out)
{
    size_t all = a->met + a->met_late + a->breached_open;
    *out = (struct kw_kpi_metric){
        .met = a->met,
        .met_late = a->met_late,
        .breached_open = a->breached_open,
        .on_time_rate = all ? kw_kpi_round1((double)a->met * 100.0 / (double)all) : -1,
        .elapsed = kw_kpi_stat_i64(a->working, a->n),
        .wall = kw_kpi_stat_i64(a->wall, a->n),
        .sri = kw_kpi_stat_f64(a->sri, a->n_sri),
    };
    out->overrun.count = a->n_over;
    if (a->n_over) {
        out->overrun.mean_wall = a->over_wall / (double)a->n_over;
        out->overrun.mean_working = a->over_working / (double)a->n_over;
    }
}

void kw_kpi_acc_free(struct kw_kpi_acc *a)
{
    free(a->working);
    free(a->wall);
    free(a->sri);
    *a = (struct kw_kpi_acc){0};
}

void kw_kpi_rating_add(struct kw_kpi_ratings *r, int satisfaction, int nps)
{
    if (satisfaction >= 1 && satisfaction <= 5) {
        r->csat_n++;
        r->csat_sum += satisfaction;
        r->csat_good += satisfaction >= 4;
    }
    if (nps >= 0 && nps <= 10) {
        r->nps_n++;
        r->nps_promoters += nps >= 9;
        r->nps_detractors += nps <= 6;
    }
}

void kw_kpi_rating_figures(const struct kw_kpi_ratings *r, struct kw_kpi_rating_figures *out)
{
    *out = (struct kw_kpi_rating_figures){
        .csat_count = r->csat_n,
        .nps_count = r->nps_n,
        .csat_mean = -1,
        .satisfied_pct = -1,
        .nps = KW_KPI_NPS_NULL,
    };
    if (r->csat_n) {
        out->csat_mean = (double)r->csat_sum / (double)r->csat_n;
        out->satisfied_pct = kw_kpi_round1((double)r->csat_good * 100.0 / (double)r->csat_n);
    }
    if (r->nps_n)
        out->nps = kw_kpi_round1(((double)r->nps_promoters - (double)r->nps_detractors) * 100.0 /
                                 (double)r->nps_n);
}

void kw_kpi_time_add(struct kw_kpi_time *t, int64_t seconds, int64_t hourly_minor,
                     const char *currency)
{
    if (seconds <= 0)
        return; /* a withdrawn entry */
    t->time_s += seconds;
    if (hourly_minor < 0 || !currency || strlen(currency) != 3) {
        t->uncosted_s += seconds;
        return;
    }
    if (!t->currency[0])
        memcpy(t->currency, currency, 4);
    else if (memcmp(t->currency, currency, 3) != 0)
        t->mixed = true;
    t->cost_x3600 += (double)seconds * (double)hourly_minor;
}

bool kw_kpi_cost_per_ticket(const struct kw_kpi_time *t, int64_t resolved, int64_t *minor)
{
    if (resolved <= 0 || t->mixed || !t->currency[0])
        return false;
    *minor = (int64_t)llround(t->cost_x3600 / 3600.0 / (double)resolved);
    return true;
}
