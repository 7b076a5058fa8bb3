// SPDX-License-Identifier: MIT
#include "calendar_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

static const char *const day_keys[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* Decode one day's list of ["HH:MM","HH:MM"] pairs. ptr/path name the list. */
static enum kw_code day_from_json(const json_t *arr, struct kw_cal_day *day, const char *ptr,
                                  const char *path, struct kw_err *err)
{
    char p[96];
    if (!json_is_array(arr))
        return kw_err_set(err, KW_INVALID, ptr,
                          "%s: expected a list of intervals like [[\"09:00\",\"18:00\"]]", path);
    size_t n = json_array_size(arr);
    if (n > KW_CAL_MAX_SHIFTS)
        return kw_err_set(err, KW_INVALID, ptr, "%s: %zu intervals, at most %d in one day", path, n,
                          KW_CAL_MAX_SHIFTS);
    day->n = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        const json_t *iv = json_array_get(arr, i);
        int32_t t[2];
        snprintf(p, sizeof(p), "%s/%zu", ptr, i);
        if (!json_is_array(iv) || json_array_size(iv) != 2 ||
            !json_is_string(json_array_get(iv, 0)) || !json_is_string(json_array_get(iv, 1)))
            return kw_err_set(err, KW_INVALID, p,
                              "%s[%zu]: expected an interval like [\"09:00\", \"18:00\"]", path, i);
        for (size_t k = 0; k < 2; k++) {
            const json_t *s = json_array_get(iv, k);
            if (kw_tod_parse(json_string_value(s), json_string_length(s), &t[k], err) != KW_OK) {
                char pk[112], where[96];
                snprintf(pk, sizeof(pk), "%s/%zu", p, k);
                snprintf(where, sizeof(where), "%s[%zu]", path, i);
                return kw_err_locate(err, pk, where);
            }
        }
        if (t[0] == KW_DAY)
            return kw_err_set(err, KW_INVALID, p, "%s[%zu]: \"24:00\" can only end an interval",
                              path, i);
        if (t[1] == t[0])
            return kw_err_set(err, KW_INVALID, p,
                              "%s[%zu]: end equals start (an interval cannot be empty; "
                              "write 00:00-24:00 for a whole day)",
                              path, i);
        /* An end before the start runs past midnight into the next day. */
        day->shift[i] = (struct kw_cal_shift){t[0], t[1] < t[0] ? t[1] + KW_DAY : t[1]};
    }
    return KW_OK;
}

static enum kw_code unknown_key(const char *key, const char *ptr, const char *path,
                                const char *expected, struct kw_err *err)
{
    char p[96];
    snprintf(p, sizeof(p), "%s/%.40s", ptr, key);
    return kw_err_set(err, KW_INVALID, p, "%s%sunknown field \"%.40s\" (expected %s)", path,
                      *path ? ": " : "", key, expected);
}

static enum kw_code week_from_json(json_t *week, struct kw_cal_spec *spec, struct kw_err *err)
{
    const char *key;
    json_t *val;
    if (!json_is_object(week))
        return kw_err_set(err, KW_INVALID, "/week",
                          "week: expected an object with keys mon, tue, wed, thu, fri, sat, sun");
    json_object_foreach(week, key, val)
    {
        int d = 0;
        while (d < 7 && strcmp(key, day_keys[d]) != 0)
            d++;
        if (d == 7)
            return unknown_key(key, "/week", "week", "mon, tue, wed, thu, fri, sat, sun", err);
        char ptr[32], path[32];
        snprintf(ptr, sizeof(ptr), "/week/%s", key);
        snprintf(path, sizeof(path), "week.%s", key);
        enum kw_code rc = day_from_json(val, &spec->week[d], ptr, path, err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

static enum kw_code holidays_from_json(const json_t *arr, struct kw_cal_spec *spec,
                                       struct kw_err *err)
{
    if (!json_is_array(arr))
        return kw_err_set(err, KW_INVALID, "/holidays",
                          "holidays: expected a list of dates like [\"2026-02-16\"]");
    size_t n = json_array_size(arr);
    if (n > KW_CAL_MAX_DATES)
        return kw_err_set(err, KW_TOO_BIG, "/holidays", "holidays: %zu dates, at most %d", n,
                          KW_CAL_MAX_DATES);
    if (n == 0)
        return KW_OK;
    spec->holidays = malloc(n * sizeof(*spec->holidays));
    if (!spec->holidays)
        return kw_err_set(err, KW_NOMEM, "/holidays", "no memory for %zu holidays", n);
    spec->n_holidays = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(arr, i);
        char ptr[32], path[32];
        snprintf(ptr, sizeof(ptr), "/holidays/%zu", i);
        snprintf(path, sizeof(path), "holidays[%zu]", i);
        if (!json_is_string(s))
            return kw_err_set(err, KW_INVALID, ptr,
                              "%s: expected a date string like "
                              "\"2026-02-16\"",
                              path);
        if (kw_date_parse(json_string_value(s), json_string_length(s), &spec->holidays[i], err) !=
            KW_OK)
            return kw_err_locate(err, ptr, path);
    }
    return KW_OK;
}

static enum kw_code extra_from_json(json_t *obj, struct kw_cal_spec *spec, struct kw_err *err)
{
    const char *key;
    json_t *val;
    if (!json_is_object(obj))
        return kw_err_set(err, KW_INVALID, "/extra_workdays",
                          "extra_workdays: expected an object like "
                          "{\"2026-02-14\": [[\"09:00\",\"18:00\"]]}");
    size_t n = json_object_size(obj);
    if (n > KW_CAL_MAX_DATES)
        return kw_err_set(err, KW_TOO_BIG, "/extra_workdays",
                          "extra_workdays: %zu dates, at most %d", n, KW_CAL_MAX_DATES);
    if (n == 0)
        return KW_OK;
    spec->extra = calloc(n, sizeof(*spec->extra));
    if (!spec->extra)
        return kw_err_set(err, KW_NOMEM, "/extra_workdays", "no memory for %zu dates", n);
    json_object_foreach(obj, key, val)
    {
        char ptr[96], path[96];
        snprintf(ptr, sizeof(ptr), "/extra_workdays/%.40s", key);
        snprintf(path, sizeof(path), "extra_workdays.%.40s", key);
        struct kw_cal_extra *x = &spec->extra[spec->n_extra++];
        if (kw_date_parse(key, strlen(key), &x->day, err) != KW_OK)
            return kw_err_locate(err, ptr, path);
        enum kw_code rc = day_from_json(val, &x->hours, ptr, path, err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

enum kw_code kw_cal_spec_from_json(json_t *obj, struct kw_cal_spec *spec, struct kw_err *err)
{
    const char *key;
    json_t *val;
    enum kw_code rc = KW_INVALID;

    memset(spec, 0, sizeof(*spec));
    if (!json_is_object(obj))
        return kw_err_set(err, KW_INVALID, "", "a calendar must be a JSON object");
    json_object_foreach(obj, key, val)
    {
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(val) || json_string_length(val) >= KW_CAL_NAME_MAX) {
                rc = kw_err_set(err, KW_INVALID, "/name",
                                "name: expected a string of at most %d "
                                "bytes",
                                KW_CAL_NAME_MAX - 1);
                goto fail;
            }
            memcpy(spec->name, json_string_value(val), json_string_length(val) + 1);
        } else if (strcmp(key, "tz") == 0) {
            if (!json_is_string(val) ||
                !kw_cal_tz_name_ok(json_string_value(val), json_string_length(val))) {
                rc = kw_err_set(err, KW_INVALID, "/tz",
                                "tz: expected an IANA time zone name like \"Asia/Shanghai\"");
                goto fail;
            }
            memcpy(spec->tz, json_string_value(val), json_string_length(val) + 1);
        } else if (strcmp(key, "week") == 0) {
            if ((rc = week_from_json(val, spec, err)) != KW_OK)
                goto fail;
        } else if (strcmp(key, "holidays") == 0) {
            if ((rc = holidays_from_json(val, spec, err)) != KW_OK)
                goto fail;
        } else if (strcmp(key, "extra_workdays") == 0) {
            if ((rc = extra_from_json(val, spec, err)) != KW_OK)
                goto fail;
        } else {
            rc = unknown_key(key, "", "", "name, tz, week, holidays, extra_workdays", err);
            goto fail;
        }
    }
    if (!spec->tz[0]) {
        rc = kw_err_set(err, KW_INVALID, "/tz",
                        "tz: missing (an IANA time zone name like \"Asia/Shanghai\")");
        goto fail;
    }
    if (!json_object_get(obj, "week")) {
        rc = kw_err_set(err, KW_INVALID, "/week", "week: missing (the weekly working hours)");
        goto fail;
    }
    if ((rc = kw_cal_spec_check(spec, err)) != KW_OK)
        goto fail;
    return KW_OK;
fail:
    kw_cal_spec_release(spec);
    return rc;
}

enum kw_code kw_cal_spec_parse(const char *text, size_t len, struct kw_cal_spec *spec,
                               struct kw_err *err)
{
    json_error_t jerr;
    memset(spec, 0, sizeof(*spec));
    if (len > KW_CAL_JSON_MAX_BYTES)
        return kw_err_set(err, KW_TOO_BIG, "", "calendar is %zu bytes, at most %u", len,
                          KW_CAL_JSON_MAX_BYTES);
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return kw_err_set(err, KW_INVALID, "", "not valid JSON at line %d column %d: %s", jerr.line,
                          jerr.column, jerr.text);
    enum kw_code rc = kw_cal_spec_from_json(root, spec, err);
    json_decref(root);
    return rc;
}

static json_t *day_to_json(const struct kw_cal_day *day)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < day->n; i++) {
        char a[9], b[9];
        int32_t end = day->shift[i].end;
        kw_tod_format(day->shift[i].start, a);
        kw_tod_format(end > KW_DAY ? end - KW_DAY : end, b);
        if (json_array_append_new(arr, json_pack("[ss]", a, b)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *kw_cal_spec_to_json(const struct kw_cal_spec *spec)
{
    json_t *root = json_object(), *week = json_object(), *hol = json_array(),
           *extra = json_object();
    bool ok = root && week && hol && extra;
    if (ok && spec->name[0])
        ok = json_object_set_new(root, "name", json_string(spec->name)) == 0;
    ok = ok && json_object_set_new(root, "tz", json_string(spec->tz)) == 0;
    for (int d = 0; ok && d < 7; d++)
        ok = json_object_set_new(week, day_keys[d], day_to_json(&spec->week[d])) == 0;
    for (size_t i = 0; ok && i < spec->n_holidays; i++) {
        char date[11];
        kw_date_format(spec->holidays[i], date);
        ok = json_array_append_new(hol, json_string(date)) == 0;
    }
    for (size_t i = 0; ok && i < spec->n_extra; i++) {
        char date[11];
        kw_date_format(spec->extra[i].day, date);
        ok = json_object_set_new(extra, date, day_to_json(&spec->extra[i].hours)) == 0;
    }
    if (ok) {
        ok = json_object_set(root, "week", week) == 0 &&
             json_object_set(root, "holidays", hol) == 0 &&
             json_object_set(root, "extra_workdays", extra) == 0;
    }
    json_decref(week);
    json_decref(hol);
    json_decref(extra);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}
