// SPDX-License-Identifier: MIT
/*
 * make bench: the writer's cost of one create. BENCH_CLIENTS threads
 * (default 16) each open tickets through the writer as the HTTP layer does
 * (kw_ticket_create in a unit: checks, the created event with its hash
 * chain, the projection of three clocks), BENCH_CREATES in all (default
 * 100,000), into a database under TMPDIR (default /tmp; durable commits).
 * Prints creates/s and the writer's time per create, running units and
 * committing (from kw_writer_stats). Prints numbers; asserts nothing.
 * BENCH_NO_LOG=1 runs it without the transparency log (#16: the log's
 * tables replaced by views that ignore inserts, so every leaf lands at index
 * 0; the leaf's hash and two ignored inserts remain, so the difference
 * slightly understates what the log costs); compare a run with and without.
 * BENCH_KEEP=1 keeps the database (its path is printed) to look at after.
 * BENCH_SQL runs its SQL on the new database before the creates: an
 * experiment on the schema (an index dropped, say) to see what it costs a
 * create, never a change to ship.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "app.h"
#include "bench_util.h"
#include "clocks.h"
#include "store.h"
#include "tickets.h"
#include "writer.h"

static const char policy_json[] =
    "{\"name\":\"bench\",\"version\":\"1\",\"effective_from\":\"2000-01-01T00:00:00Z\","
    "\"calendars\":{\"24x7\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"00:00\",\"24:00\"]],"
    "\"tue\":[[\"00:00\",\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\","
    "\"24:00\"]],\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"
    "\"sun\":[[\"00:00\",\"24:00\"]]}}},\"levels\":[\"L1\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"
    "\"warn_at\":[50,75,90]},{\"id\":\"resolution\",\"start\":\"created\",\"stop\":"
    "[\"resolved\"],\"warn_at\":[50,75,90]},{\"id\":\"report\",\"start\":\"created\","
    "\"stop\":[\"callback_done\"],\"warn_at\":[50,75,90]}],"
    "\"targets\":[{\"calendar\":\"24x7\",\"response\":\"2h\",\"resolution\":\"8h\","
    "\"report\":\"24h\"}]}";

struct shared {
    struct kw_writer *w;
    struct kw_clocks *clocks;
    struct kw_sla sla; /* the writer thread's scratch: units run there, one at a time */
    struct kw_actor who;
    int64_t org;
    atomic_long left, failed;
};

struct create {
    struct shared *s;
    struct kw_ticket_in in;
    int64_t id;
};

/* The log's tables replaced by views whose inserts do nothing
 * (BENCH_NO_LOG=1): the log then costs a create nothing but its leaf hash. */
static const char without_log_sql[] =
    "DROP TABLE log_leaves; DROP TABLE log_nodes;"
    "CREATE VIEW log_leaves(idx, kind, ticket, seq, data) AS SELECT 0, '', 0, 0, x'' WHERE 0;"
    "CREATE TRIGGER log_leaves_ignored INSTEAD OF INSERT ON log_leaves BEGIN SELECT 1; END;"
    "CREATE VIEW log_nodes(rowid, level, idx, hash) AS SELECT 0, 0, 0, x'' WHERE 0;"
    "CREATE TRIGGER log_nodes_ignored INSTEAD OF INSERT ON log_nodes BEGIN SELECT 1; END;";

static int run_sql(const char *path, const char *sql, const char *what)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "bench_write: %s: %s\n", what, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static enum kw_code create_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct create *c = ctx;
    struct kw_unit u = {.st = st,
                        .clocks = c->s->clocks,
                        .sla = &c->s->sla,
                        .now = (int64_t)time(NULL),
                        .fire_at = KW_STORE_NO_TIME};
    bool existed;
    return kw_ticket_create(&u, &c->s->who, &c->in, &c->id, &existed, err);
}

static void *client(void *arg)
{
    struct shared *s = arg;
    struct create c = {.s = s,
                       .in = {.org_id = s->org,
                              .title = "printer on the third floor is jammed",
                              .level = "L1",
                              .via = "api",
                              .description = "it says paper jam in tray 2 but there is no paper"}};
    while (atomic_fetch_sub(&s->left, 1) > 0) {
        struct kw_err err = {0};
        if (kw_writer_run_repeatable(s->w, create_unit, &c, &err) != KW_OK &&
            atomic_fetch_add(&s->failed, 1) == 0)
            fprintf(stderr, "bench_write: %s\n", err.msg);
    }
    return NULL;
}

int main(void)
{
    long creates = getenv("BENCH_CREATES") ? atol(getenv("BENCH_CREATES")) : 100000;
    int clients = getenv("BENCH_CLIENTS") ? atoi(getenv("BENCH_CLIENTS")) : 16;
    if (creates < 1 || clients < 1 || clients > 1024) {
        fprintf(stderr, "bench_write: BENCH_CREATES >= 1 and BENCH_CLIENTS 1-1024\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[256], path[300], cmd[320];
    snprintf(dir, sizeof(dir), "%s/kw-bench-write-XXXXXX", tmp);
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/kw.db", dir);
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err);
    struct kw_org org = {.name = "bench"};
    struct kw_user agent = {.email = "agent@bench.example", .name = "agent", .role = "agent"};
    int64_t org_id = 0, cid = 0, agent_id = 0;
    if (!st || kw_store_org_insert(st, &org, 0, &org_id, &err) != KW_OK ||
        kw_store_commitment_insert(st, "bench", "1", 946684800, policy_json, 0, &cid, &err) !=
            KW_OK ||
        kw_store_user_insert(st, &agent, NULL, 0, &agent_id, &err) != KW_OK) {
        fprintf(stderr, "bench_write: %s\n", err.msg);
        return 1;
    }
    kw_store_close(st);
    bool no_log = getenv("BENCH_NO_LOG") && strcmp(getenv("BENCH_NO_LOG"), "1") == 0;
    if (no_log && run_sql(path, without_log_sql, "without the log") != 0)
        return 1;
    const char *experiment = getenv("BENCH_SQL");
    if (experiment && *experiment && run_sql(path, experiment, "BENCH_SQL") != 0)
        return 1;
    struct shared s = {.who = {.id = agent_id, .role = KW_ROLE_AGENT}, .org = org_id};
    s.clocks = kw_clocks_new(&err);
    s.w = s.clocks ? kw_writer_start(path, &err) : NULL;
    if (!s.w) {
        fprintf(stderr, "bench_write: %s\n", err.msg);
        return 1;
    }
    kw_sla_init(&s.sla);
    atomic_store(&s.left, creates);
    pthread_t *th = calloc((size_t)clients, sizeof(*th));
    double t0 = now_s();
    for (int i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, client, &s);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    double secs = now_s() - t0;
    struct kw_writer_stats ws;
    kw_writer_stats(s.w, &ws);
    kw_writer_stop(s.w);
    double units = ws.units ? (double)ws.units : 1;
    printf("write: %ld creates from %d threads in %.1f s%s: %.0f/s (%ld failed; %llu commits, "
           "largest %llu)\n",
           creates, clients, secs,
           no_log                      ? " without the log"
           : experiment && *experiment ? " after BENCH_SQL"
                                       : "",
           (double)creates / secs, atomic_load(&s.failed), (unsigned long long)ws.batches,
           (unsigned long long)ws.largest);
    double per = (double)(ws.work_ns + ws.commit_ns) / units / 1e3;
    printf("write: writer time per create %.1f us (%.1f us running the unit, %.1f us committing)"
           "   (target <= 25 us: ratio %.2f)\n",
           per, (double)ws.work_ns / units / 1e3, (double)ws.commit_ns / units / 1e3, 25.0 / per);
    kw_sla_release(&s.sla);
    kw_clocks_free(s.clocks);
    free(th);
    if (getenv("BENCH_KEEP") && strcmp(getenv("BENCH_KEEP"), "1") == 0) {
        printf("write: kept %s\n", path);
        return 0;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
