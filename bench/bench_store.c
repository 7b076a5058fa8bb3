// SPDX-License-Identifier: MIT
/* make bench: durable ticket creates through store.h, the group-commit
 * writer's way (a transaction of BENCH_STORE_BATCH units, default 32, each
 * a savepoint), BENCH_STORE_CREATES of them (default 20,000), on a fresh
 * SQLite file, and on PostgreSQL too when BENCH_PG holds a connection string
 * to an empty database (tests/pg/cluster.sh start makes one). Used for the
 * A/B of the backend dispatch (src/store/README.md). Prints numbers and
 * asserts nothing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "store.h"

static int run(const char *name, const char *location, int n, int batch)
{
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(location, &err);
    if (!st)
        return fprintf(stderr, "bench_store: %s\n", err.msg), 1;
    struct kw_org o = {.name = "Acme"};
    int64_t org = 0;
    if (kw_store_org_insert(st, &o, 1, &org, &err) != KW_OK)
        return fprintf(stderr, "bench_store: %s\n", err.msg), kw_store_close(st), 1;
    struct kw_ticket_new t = {
        .org_id = org, .created_by = 1, .title = "printer on fire", .level = "L1", .at = 1000};
    double t0 = now_s();
    for (int i = 0; i < n; i += batch) {
        if (kw_store_begin(st, &err) != KW_OK)
            break;
        for (int j = 0; j < batch && i + j < n; j++) {
            int64_t id;
            bool existed;
            if (kw_store_savepoint(st, &err) != KW_OK ||
                kw_store_ticket_create(st, &t, &id, &existed, &err) != KW_OK ||
                kw_store_release(st, true, &err) != KW_OK)
                break;
        }
        if (err.code != KW_OK || kw_store_commit(st, &err) != KW_OK)
            break;
    }
    double dt = now_s() - t0;
    kw_store_close(st);
    if (err.code != KW_OK)
        return fprintf(stderr, "bench_store: %s\n", err.msg), 1;
    printf("store %-10s %6d durable creates in transactions of %d: %8.0f/s\n", name, n, batch,
           n / dt);
    return 0;
}

int main(void)
{
    const char *e = getenv("BENCH_STORE_CREATES");
    int n = e ? atoi(e) : 20000;
    e = getenv("BENCH_STORE_BATCH");
    int batch = e ? atoi(e) : 32;
    if (n < 1 || batch < 1)
        return fprintf(stderr, "bench_store: BENCH_STORE_CREATES and _BATCH are >= 1\n"), 2;
    char dir[] = "/tmp/kwbench-store-XXXXXX", path[64], side[80];
    if (!mkdtemp(dir))
        return perror("mkdtemp"), 1;
    snprintf(path, sizeof(path), "%s/kw.db", dir);
    int rc = run("sqlite", path, n, batch);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof(side), "%s%s", path, suffix[i]);
        unlink(side);
    }
    rmdir(dir);
    const char *pg = getenv("BENCH_PG");
    if (rc == 0 && pg && *pg)
        rc = run("postgresql", pg, n, batch);
    return rc;
}
