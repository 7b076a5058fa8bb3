// SPDX-License-Identifier: MIT
/*
 * bench_kpi.c - builds a desk for the KPI benchmark (bench/kpi.sh) and
 * measures what keeping the KPI facts costs a create.
 *
 * usage: bench_kpi DB [TICKETS]   (default 20000; the target is
 * 1,000,000 over a year). TICKETS tickets spread evenly over 2025 on one
 * commitment with three metrics (response, resolution, confirmation), four
 * levels and four teams, each created, assigned, replied to, 9 in 10
 * resolved and 3 in 10 of those confirmed, through the application layer
 * as the server does (every write projects the clocks and writes the
 * facts), 1000 tickets a transaction. Prints creates per second, and the
 * writer time per ticket of writing its facts (kw_store_runs_put) against
 * that of a whole create. Asserts nothing about speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "civil.h"
#include "tickets.h"

static const char policy[] =
    "{\"name\":\"bench\",\"version\":\"1\",\"effective_from\":\"2024-01-01T00:00:00Z\","
    "\"calendars\":{\"office\":{\"tz\":\"Asia/Shanghai\",\"week\":{\"mon\":[[\"09:00\","
    "\"18:00\"]],\"tue\":[[\"09:00\",\"18:00\"]],\"wed\":[[\"09:00\",\"18:00\"]],\"thu\":[["
    "\"09:00\",\"18:00\"]],\"fri\":[[\"09:00\",\"18:00\"]]}}},\"levels\":[\"L1\",\"L2\",\"L3\","
    "\"L4\"],\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":["
    "\"first_response\"]},{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"],"
    "\"pause_when\":[\"waiting_customer\"]},{\"id\":\"confirmation\",\"start\":\"resolved\","
    "\"stop\":[\"closed\"]}],\"targets\":[{\"when\":{\"level\":\"L1\"},\"calendar\":\"office\","
    "\"response\":\"15m\",\"resolution\":\"4h\",\"confirmation\":\"1d\"},{\"when\":{\"level\":"
    "\"L2\"},\"calendar\":\"office\",\"response\":\"30m\",\"resolution\":\"8h\","
    "\"confirmation\":\"1d\"},{\"calendar\":\"office\",\"response\":\"2h\",\"resolution\":"
    "\"3d\",\"confirmation\":\"2d\"}]}";

static void must(enum kw_code rc, const struct kw_err *err, const char *what)
{
    if (rc != KW_OK) {
        fprintf(stderr, "bench_kpi: %s: %s\n", what, err->msg);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_kpi DB [TICKETS]\n");
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(argv[1], &err);
    if (!st)
        must(KW_STORE, &err, "open");
    struct kw_sla sla;
    kw_sla_init(&sla);
    int64_t start = 0, end = 0, cid, org, team[4], agent;
    kw_instant_parse("2025-01-01T00:00:00Z", 20, &start, &err);
    kw_instant_parse("2026-01-01T00:00:00Z", 20, &end, &err);
    struct kw_unit u = {.st = st, .clocks = kw_clocks_new(&err), .sla = &sla, .now = start};
    struct kw_org o = {.name = "Acme"};
    must(kw_store_org_insert(st, &o, 0, &org, &err), &err, "org");
    struct kw_user a = {.email = "agent@bench", .name = "Agent", .role = "agent"};
    must(kw_store_user_insert(st, &a, NULL, 0, &agent, &err), &err, "agent");
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "team%d", i + 1);
        must(kw_store_team_insert(st, name, 0, 0, &team[i], &err), &err, "team");
    }
    must(kw_store_commitment_insert(st, "bench", "1", 0, policy, 0, &cid, &err), &err,
         "commitment");
    struct kw_actor who = {.id = agent, .role = KW_ROLE_AGENT};
    static const char *const levels[] = {"L1", "L2", "L3", "L4"};
    uint64_t seed = 42;
    double t_create = 0, t_all = 0;
    double t0 = now_s();
    int64_t step = (end - start) / (n ? n : 1);
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0)
            must(kw_store_begin(st, &err), &err, "begin");
        int64_t created = start + i * step;
        uint64_t r = splitmix64(&seed);
        u.now = created;
        struct kw_ticket_in in = {.org_id = org, .title = "bench", .level = levels[r % 4]};
        int64_t id;
        bool existed;
        double c0 = now_s();
        must(kw_store_savepoint(st, &err), &err, "savepoint");
        must(kw_ticket_create(&u, &who, &in, &id, &existed, &err), &err, "create");
        must(kw_store_release(st, true, &err), &err, "release");
        t_create += now_s() - c0;
        struct kw_ticket_change ch = {.team_id = team[(r >> 8) % 4], .assignee_id = agent};
        u.now = created + 60;
        must(kw_ticket_change(&u, &who, id, &ch, &err), &err, "assign");
        u.now = created + (int64_t)((r >> 16) % 7200);
        must(kw_ticket_comment(&u, &who, id, "on it", false, &err), &err, "reply");
        struct kw_move mv;
        must(kw_ticket_move(&u, &who, id, KW_ST_HANDLING, NULL, &mv, &err), &err, "handle");
        if ((r >> 32) % 10 < 9) {
            u.now += (int64_t)((r >> 40) % (5 * 86400));
            must(kw_ticket_move(&u, &who, id, KW_ST_FEEDBACK, NULL, &mv, &err), &err, "resolve");
            if ((r >> 48) % 10 < 3) {
                u.now += 3600;
                must(kw_ticket_move(&u, &who, id, KW_ST_ARCHIVED, NULL, &mv, &err), &err, "close");
            }
        }
        if (i % 1000 == 999 || i == n - 1) {
            /* the reads still on a row reset first: a commit with statements
             * on a row cannot checkpoint, and the log would grow to gigabytes */
            kw_store_end_read(st);
            must(kw_store_commit(st, &err), &err, "commit");
        }
    }
    t_all = now_s() - t0;
    /* the facts alone: the rows a create writes (as of its creation),
     * computed first, then written again as a create writes them */
    long k = n < 5000 ? n : 5000;
    double t_facts = 0;
    must(kw_store_begin(st, &err), &err, "begin");
    for (long id = 1; id <= k; id++) {
        struct kw_runs_at ra;
        must(kw_clocks_runs_at(u.clocks, st, &sla, id, cid, start + (id - 1) * step, &ra, &err),
             &err, "runs");
        must(kw_store_runs_put(st, id, false, NULL, 0, &err), &err, "runs clear");
        free(ra.rows); /* made again below, timed */
        ra.rows = NULL;
        double f0 = now_s();
        must(kw_clocks_runs(kw_clocks_commitment(u.clocks, st, cid, &err), &sla, &ra.te, &ra.rows,
                            &ra.n, &err) == KW_OK
                 ? kw_store_runs_put(st, id, true, ra.rows, ra.n, &err)
                 : err.code,
             &err, "runs put");
        t_facts += now_s() - f0;
        kw_runs_at_release(&ra);
    }
    kw_store_rollback(st);
    printf("bench_kpi: %ld tickets over 2025 (3 metrics), built in %.1f s\n", n, t_all);
    printf("bench_kpi: create %.0f per second in the writer (%.1f us each, facts included)\n",
           n / t_create, t_create / (double)n * 1e6);
    printf("bench_kpi: writing a ticket's facts alone: %.1f us = %.1f %% of a create "
           "(target: create throughput at most 10 %% lower)\n",
           t_facts / (double)k * 1e6, t_facts / (double)k / (t_create / (double)n) * 100);
    kw_clocks_free(u.clocks);
    kw_sla_release(&sla);
    kw_store_close(st);
    return 0;
}
