// SPDX-License-Identifier: MIT
#include "tz.h"

#include <libical/ical.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

struct zone {
    char name[KW_CAL_TZ_MAX];
    int32_t initial;
    size_t n;
    struct kw_tz_change *changes;
};

struct kw_tzdb {
    pthread_mutex_t lock; /* libical's zone cache is not thread-safe either */
    size_t n, cap;
    struct zone *zones;
};

struct kw_tzdb *kw_tzdb_new(void)
{
    struct kw_tzdb *db = calloc(1, sizeof(*db));
    if (db)
        pthread_mutex_init(&db->lock, NULL);
    return db;
}

void kw_tzdb_free(struct kw_tzdb *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n; i++)
        free(db->zones[i].changes);
    free(db->zones);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

/* UTC offset of zone z at instant t, in seconds east of UTC. */
static int32_t offset_at(icaltimezone *z, int64_t t)
{
    int64_t days = kw_day_of(t), sod = t - days * KW_DAY, y;
    unsigned m, d;
    kw_civil_from_days(days, &y, &m, &d);
    struct icaltimetype tt = icaltime_null_time();
    tt.year = (int)y;
    tt.month = (int)m;
    tt.day = (int)d;
    tt.hour = (int)(sod / 3600);
    tt.minute = (int)(sod / 60 % 60);
    tt.second = (int)(sod % 60);
    tt.zone = icaltimezone_get_utc_timezone();
    int is_dst = 0;
    return icaltimezone_get_utc_offset_of_utc_time(z, &tt, &is_dst);
}

static enum kw_code unknown_zone(const char *name, struct kw_err *err)
{
    return kw_err_set(err, KW_INVALID, "/tz",
                      "tz: unknown time zone \"%.60s\" (expected an IANA name like "
                      "\"Asia/Shanghai\")",
                      name);
}

static enum kw_code load(const char *name, struct zone *out, struct kw_err *err)
{
    icaltimezone *z = NULL;
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || strcmp(name, "GMT") == 0)
        z = icaltimezone_get_utc_timezone();
    else
        z = icaltimezone_get_builtin_timezone(name);
    if (!z)
        return unknown_zone(name, err);
    const int64_t lo = kw_days_from_civil(KW_CAL_MIN_YEAR, 1, 1) * KW_DAY - 3 * KW_DAY;
    const int64_t hi = kw_days_from_civil(KW_CAL_MAX_YEAR, 1, 1) * KW_DAY + 3 * KW_DAY;
    size_t cap = 0;
    int32_t prev = offset_at(z, lo);
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->initial = prev;
    /* Sample each day; bisect a day whose two ends differ to the first
     * second of the new offset, then go on from there (so two changes within
     * one day are both found). */
    for (int64_t a = lo; a < hi;) {
        int64_t b = a + KW_DAY;
        if (offset_at(z, b) == prev) {
            a = b;
            continue;
        }
        while (b - a > 1) { /* offset(a) == prev, offset(b) != prev */
            int64_t mid = a + (b - a) / 2;
            if (offset_at(z, mid) == prev)
                a = mid;
            else
                b = mid;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 256;
            struct kw_tz_change *c = realloc(out->changes, cap * sizeof(*c));
            if (!c) {
                free(out->changes);
                return kw_err_set(err, KW_NOMEM, "/tz", "no memory for zone %s", name);
            }
            out->changes = c;
        }
        prev = offset_at(z, b);
        out->changes[out->n++] = (struct kw_tz_change){b, prev};
        a = b;
    }
    return KW_OK;
}

enum kw_code kw_tzdb_get(struct kw_tzdb *db, const char *name, struct kw_tzinfo *out,
                         struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    pthread_mutex_lock(&db->lock);
    size_t i = 0;
    while (i < db->n && strcmp(db->zones[i].name, name) != 0)
        i++;
    if (i == db->n) {
        if (!kw_cal_tz_name_ok(name, strlen(name))) {
            rc = unknown_zone(name, err);
            goto out;
        }
        if (db->n == db->cap) {
            size_t cap = db->cap ? db->cap * 2 : 8;
            struct zone *zs = realloc(db->zones, cap * sizeof(*zs));
            if (!zs) {
                rc = kw_err_set(err, KW_NOMEM, "/tz", "no memory for zone %s", name);
                goto out;
            }
            db->zones = zs;
            db->cap = cap;
        }
        struct zone z = {0};
        if ((rc = load(name, &z, err)) != KW_OK)
            goto out;
        db->zones[db->n++] = z;
    }
    *out = (struct kw_tzinfo){
        .name = db->zones[i].name,
        .initial = db->zones[i].initial,
        .n = db->zones[i].n,
        .changes = db->zones[i].changes,
    };
out:
    pthread_mutex_unlock(&db->lock);
    return rc;
}
