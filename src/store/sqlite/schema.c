// SPDX-License-Identifier: MIT
/* Migrations: the numbered files in migrations/, embedded at build time
 * (CMakeLists.txt), applied in order at open, each in its own transaction. */
#include "sqlite_int.h"

#include <stdio.h>

/* Generated from migrations/NNN-*.sql (CMakeLists.txt): migration i brings
 * the schema to version i+1. Append only. */
extern const char *const kws_migrations[];
extern const int kws_migrations_n;
#define N_MIGRATIONS kws_migrations_n

int kw_store_schema_latest(void)
{
    return N_MIGRATIONS;
}

int kw_store_schema_newest(struct kw_store *st)
{
    (void)st;
    return N_MIGRATIONS;
}

int kw_store_schema_version(struct kw_store *st)
{
    sqlite3_stmt *x;
    int v = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_migrations", -1, &x, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(x) == SQLITE_ROW)
            v = sqlite3_column_int(x, 0);
        sqlite3_finalize(x);
    }
    return v;
}

enum kw_code kws_migrate(struct kw_store *st, struct kw_err *err)
{
    if (sqlite3_exec(st->db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations("
                     "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return kws_fail(st, err, "create schema_migrations");
    int have = kw_store_schema_version(st);
    if (have > N_MIGRATIONS)
        return kw_err_set(err, KW_STORE, "",
                          "%s: schema version %d is newer than this build knows (%d); "
                          "use a newer keepword",
                          st->path, have, N_MIGRATIONS);
    for (int v = have; v < N_MIGRATIONS; v++) {
        char ins[128];
        snprintf(ins, sizeof(ins),
                 "INSERT INTO schema_migrations VALUES (%d, CAST(strftime('%%s','now') AS "
                 "INTEGER))",
                 v + 1);
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->db, kws_migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->db, ins, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            enum kw_code rc = kws_fail(st, err, "migration");
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return KW_OK;
}
