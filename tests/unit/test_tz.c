// SPDX-License-Identifier: MIT
/* Zone offsets from the system tz database (through libical). */
#include <stdio.h>

#include "testutil.h"

/* The offset in force at t according to a loaded table. */
static int32_t offset_at(const struct kw_tzinfo *tz, int64_t t)
{
    int32_t off = tz->initial;
    for (size_t i = 0; i < tz->n && tz->changes[i].at <= t; i++)
        off = tz->changes[i].offset;
    return off;
}

static void test_transitions(void **state)
{
    (void)state;
    struct kw_tzdb *db = kw_tzdb_new();
    static const struct {
        const char *zone, *at; /* the first second of the new offset */
        int32_t before, after;
    } cases[] = {
        {"America/New_York", "2026-03-08T07:00:00Z", -5 * H, -4 * H},
        {"America/New_York", "2026-11-01T06:00:00Z", -4 * H, -5 * H},
        {"America/New_York", "2099-03-08T07:00:00Z", -5 * H, -4 * H},
        {"Europe/Berlin", "2026-03-29T01:00:00Z", 1 * H, 2 * H},
        {"Europe/Berlin", "2026-10-25T01:00:00Z", 2 * H, 1 * H},
        {"Australia/Lord_Howe", "2026-04-04T15:00:00Z", 11 * H, 10 * H + 30 * M},
        {"Asia/Kolkata", "2026-01-01T00:00:00Z", 5 * H + 30 * M, 5 * H + 30 * M},
        {"Asia/Shanghai", "2026-07-01T00:00:00Z", 8 * H, 8 * H},
        {"UTC", "2026-07-01T00:00:00Z", 0, 0},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_tzinfo tz;
        struct kw_err err = {0};
        if (kw_tzdb_get(db, cases[i].zone, &tz, &err) != KW_OK)
            fail_msg("%s: %s", cases[i].zone, err.msg);
        int64_t t = T(cases[i].at);
        if (offset_at(&tz, t - 1) != cases[i].before || offset_at(&tz, t) != cases[i].after)
            fail_msg("%s at %s: %d -> %d, want %d -> %d", cases[i].zone, cases[i].at,
                     offset_at(&tz, t - 1), offset_at(&tz, t), cases[i].before, cases[i].after);
        assert_string_equal(tz.name, cases[i].zone);
    }
    /* Zones without DST have no changes in the horizon; New York two a year. */
    struct kw_tzinfo sh, ny, again;
    assert_int_equal(kw_tzdb_get(db, "Asia/Shanghai", &sh, NULL), KW_OK);
    assert_int_equal(sh.n, 0);
    assert_int_equal(kw_tzdb_get(db, "America/New_York", &ny, NULL), KW_OK);
    assert_int_equal(ny.n, 200);
    for (size_t i = 1; i < ny.n; i++)
        assert_true(ny.changes[i - 1].at < ny.changes[i].at);
    /* Loaded once: the same table comes back. */
    assert_int_equal(kw_tzdb_get(db, "America/New_York", &again, NULL), KW_OK);
    assert_ptr_equal(again.changes, ny.changes);
    kw_tzdb_free(db);
}

static void test_unknown(void **state)
{
    (void)state;
    struct kw_tzdb *db = kw_tzdb_new();
    static const char *const bad[] = {"Mars/Olympus_Mons", "asia/shanghai", "", "Etc/../UTC"};
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        struct kw_tzinfo tz;
        struct kw_err err = {0};
        if (kw_tzdb_get(db, bad[i], &tz, &err) != KW_INVALID)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_string_equal(err.field, "/tz");
        assert_non_null(strstr(err.msg, "unknown time zone"));
    }
    kw_tzdb_free(db);
    kw_tzdb_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
