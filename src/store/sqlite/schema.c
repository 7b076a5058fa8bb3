// SPDX-License-Identifier: MIT
/* Migrations: the numbered files in migrations/, embedded at build time
 * (CMakeLists.txt), applied in order at open, each in its own transaction. */
#include "sqlite_int.h"

#include <stdio.h>
#include <string.h>

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

/* A migration that rebuilds a table which other tables name in their
 * foreign keys (047, tickets) has this line: it runs with the keys'
 * enforcement off, since DROP TABLE of a parent deletes its rows first and
 * fails on their children, and foreign_keys takes effect only outside a
 * transaction; the keys are checked before its COMMIT (SQLite's procedure:
 * lang_altertable.html, "Making Other Kinds Of Table Schema Changes"). A
 * row that already named a missing one (written with the keys off, by the
 * sqlite3 shell say) is no reason to refuse an upgrade: the check asks
 * that the migration added none. */
#define KEYS_OFF "\n-- keepword: foreign keys off while this runs\n"

/* How many rows PRAGMA foreign_key_check finds naming a missing one, or
 * -1 when it cannot say. */
static int64_t keys_broken(sqlite3 *db)
{
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_foreign_key_check", -1, &x, NULL) !=
        SQLITE_OK)
        return -1;
    int64_t n = sqlite3_step(x) == SQLITE_ROW ? sqlite3_column_int64(x, 0) : -1;
    sqlite3_finalize(x);
    return n;
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
        bool off = strstr(kws_migrations[v], KEYS_OFF) != NULL;
        enum kw_code rc = KW_OK;
        int64_t broken = 0;
        if ((off &&
             sqlite3_exec(st->db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL) != SQLITE_OK) ||
            sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            (off && (broken = keys_broken(st->db)) < 0) ||
            sqlite3_exec(st->db, kws_migrations[v], NULL, NULL, NULL) != SQLITE_OK)
            rc = kws_fail(st, err, "migration");
        else if (off && keys_broken(st->db) != broken)
            rc = kw_err_set(err, KW_STORE, "",
                            "%s: migration %d: a foreign key no longer holds "
                            "(PRAGMA foreign_key_check)",
                            st->path, v + 1);
        else if (sqlite3_exec(st->db, ins, NULL, NULL, NULL) != SQLITE_OK ||
                 sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            rc = kws_fail(st, err, "migration");
        if (rc != KW_OK)
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        if (off && sqlite3_exec(st->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK &&
            rc == KW_OK)
            rc = kws_fail(st, err, "turn the foreign keys on again");
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}
