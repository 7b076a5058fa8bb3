// SPDX-License-Identifier: MIT
/* Shared helpers of the unit tests that look into a SQLite database
 * directly: run SQL or fail the test, one value of a query as text. */
#ifndef KW_SQLUTIL_H
#define KW_SQLUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>
#include <sqlite3.h>

/* Run sql on db (any number of statements) or fail the test. */
static inline void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* The first column of the first row of a query on db, as text in out ("" for
 * no row or NULL). */
static inline const char *text_of(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *x = NULL;
    out[0] = 0;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &x, NULL), SQLITE_OK);
    if (sqlite3_step(x) == SQLITE_ROW && sqlite3_column_text(x, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(x, 0));
    sqlite3_finalize(x);
    return out;
}

/* That text is want, or fail the test at the caller's line. */
#define assert_text_of(db, sql, want)                                                              \
    do {                                                                                           \
        char got_[4096];                                                                           \
        assert_string_equal(text_of((db), (sql), got_, sizeof(got_)), (want));                     \
    } while (0)

#endif
