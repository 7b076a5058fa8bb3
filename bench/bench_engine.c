// SPDX-License-Identifier: MIT
/*
 * make bench: the engine's timers with BENCH_TICKETS open tickets (default
 * 1,000,000) of three running clocks each. Measures the memory of the timer
 * structure, the time to rebuild it at start, and how late entries fire
 * (p50/p99/max, real clock) over BENCH_SECONDS (default 30) while another
 * thread writes 1,000 ticket updates a second through the same writer.
 * BENCH_DUE tickets (default 1,000) fall due each second, so for a run of
 * BENCH_SECONDS BENCH_TICKETS must be at least BENCH_DUE * BENCH_SECONDS.
 * Also prints the writer's time per unit over the run. Prints numbers and
 * the ratio to each target; asserts nothing. BENCH_DB (a postgres:// URL
 * or libpq string of an empty database, bench/pg_engine.sh) runs it on
 * PostgreSQL instead of a SQLite file in TMPDIR; there the engine fires on
 * BENCH_ENGINE_WRITERS connections of its own (default KW_ENGINE_PG_WRITERS,
 * as `keepword serve`), the first one a writer shared with its deliveries.
 *
 * The tickets are opened so that the first falls due 20 s after the fill
 * would end at 8,000 tickets a second. A fill that takes longer (a busy
 * machine, a slower create) would leave a backlog due at the start, and
 * the figures would measure catching up, not firing on time. So the clock
 * the engine, the updates and this program run on is set back by the
 * seconds the fill overran (plus 10 s for the engine's start): time then
 * runs at the real rate from where a quicker fill would have left it, and
 * no ticket is due before the run starts. The engine counts lateness in
 * that clock's frame (real time shifted by the whole seconds it is off),
 * to the millisecond. The program prints the shift.
 *
 * The updates begin when the engine has started, about 10 s before the
 * first tickets fall due, so that lateness is measured on a desk that is
 * running (its writer's page cache and write-ahead log in use), not on
 * the first seconds of a writer just opened: those fire up to twice as
 * slowly, their page cache's memory touched for the first time (#20).
 * BENCH_COLD=1 begins the updates with the first firings instead, as
 * before 2026-12-03, to measure a node that starts under load.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "clocks.h"
#include "engine.h"
#include "store.h"
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

/* With BENCH_CHAINS=1 each ticket also runs a chain from its response
 * clock's 50 %: on-call level 1 told at once, the team lead after 10 s,
 * the ticket reassigned to on-call after 20 s (a rota look-up, a ticket
 * change and two events), each with a webhook notification. */
static const char chain_json[] =
    ",\"escalations\":[{\"id\":\"warn\",\"when\":{\"metric\":\"response\",\"percent\":50},"
    "\"steps\":[{\"after\":0,\"notify\":\"oncall:1\"},{\"after\":10,\"notify\":\"team_lead\"},"
    "{\"after\":20,\"reassign\":\"oncall:1\"}]}]}";

static const char rota_json[] =
    "{\"name\":\"bench L1\",\"tz\":\"Asia/Shanghai\",\"layers\":[{\"name\":\"days\","
    "\"rotation\":\"daily\",\"start\":\"2026-01-01\",\"handoff\":\"09:00\",\"people\":[%lld,%lld]}]"
    "}";

/* The real clock set back by the fill's overrun (seconds, 0 if none). */
static atomic_llong shift;

static int64_t shifted(void *ctx)
{
    (void)ctx;
    struct timespec t; /* not time(NULL), the coarse clock (cmd_serve.c, wall_now) */
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec - (int64_t)atomic_load(&shift);
}

struct fill {
    struct kw_clocks *clocks;
    struct kw_sla sla;
    long n, org, team, span;
    int64_t now, base;
};

/* Tickets in transactions of 5,000: ticket i opened so that its response
 * clock reaches 50 % at base + (i % span) s, span = n / due per second. */
static int fill(struct kw_store *st, struct fill *f)
{
    struct kw_err err = {0};
    for (long i = 0; i < f->n;) {
        if (kw_store_begin(st, &err) != KW_OK)
            goto fail;
        for (long k = 0; k < 5000 && i < f->n; k++, i++) {
            int64_t id;
            bool existed;
            struct kw_ticket_new t = {.org_id = f->org,
                                      .created_by = 1,
                                      .title = "bench",
                                      .level = "L1",
                                      .at = f->base - 3600 + i % f->span};
            struct kw_ticket_patch team = {.team_id = f->team};
            if (kw_store_ticket_create(st, &t, &id, &existed, &err) != KW_OK ||
                (f->team && kw_store_ticket_set(st, id, &team, &err) != KW_OK) ||
                kw_clocks_project(f->clocks, st, &f->sla, id, f->now, &t, &err) != KW_OK)
                goto fail;
        }
        /* the reads still on a row reset first: a commit with statements on
         * a row cannot checkpoint, and the log grew to 7.4 GB in a 1,000,000
         * ticket fill */
        kw_store_end_read(st);
        if (kw_store_commit(st, &err) != KW_OK)
            goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "bench_engine: %s\n", err.msg);
    return 1;
}

struct updater {
    struct kw_writer *w;
    struct kw_engine *e;
    struct kw_clocks *clocks;
    struct kw_sla sla;
    long n;
    atomic_bool stop;
    atomic_long done, failed;
    uint64_t rng;
    int64_t ticket, fire_at;
};

static enum kw_code update_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct updater *u = ctx;
    int64_t now = shifted(NULL), seq = 0;
    if (kw_store_event_append(st, u->ticket, "comment", "{\"text\":\"bench\"}", 1, now, NULL, &seq,
                              err) != KW_OK ||
        kw_clocks_project_since(u->clocks, st, &u->sla, u->ticket, now, seq, err) != KW_OK)
        return err->code;
    return kw_store_fire_at(st, u->ticket, &u->fire_at, err);
}

/* 1,000 updates a second: a comment on a random ticket, projected as the
 * HTTP layer does (kw_ticket_comment: its KPI runs left as stored), and
 * the engine told. */
static void *update_loop(void *arg)
{
    struct updater *u = arg;
    double t0 = now_s();
    while (!atomic_load(&u->stop)) {
        double due = t0 + (double)u->done / 1000.0, t = now_s();
        if (due > t) {
            struct timespec d = {0, (long)((due - t) * 1e9)};
            nanosleep(&d, NULL);
        }
        u->ticket = 1 + (int64_t)(splitmix64(&u->rng) % (uint64_t)u->n);
        struct kw_err err = {0};
        if (kw_writer_run(u->w, update_unit, u, &err) != KW_OK)
            u->failed++;
        else
            kw_engine_schedule(u->e, u->ticket, u->fire_at);
        u->done++;
    }
    return NULL;
}

/* The process's read and write system calls so far (/proc/self/io's syscr
 * and syscw; 0 when unreadable): the pages SQLite reads with pread and
 * writes with pwrite (the write-ahead log, the statement journal) among
 * them. */
static void io_calls(long long *reads, long long *writes)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[256];
    *reads = *writes = 0;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "syscr:", 6) == 0)
            *reads = atoll(line + 6);
        else if (strncmp(line, "syscw:", 6) == 0)
            *writes = atoll(line + 6);
    if (f)
        fclose(f);
}

static double tv_s(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

/* A team with a lead and a two-person rota, and a webhook endpoint that
 * refuses connections (port 9 on loopback), so that every step writes its
 * notification and the delivery thread works too. */
static enum kw_code chain_setup(struct kw_store *st, int64_t *team, struct kw_err *err)
{
    int64_t people[2], rota, ep;
    static const char *const names[] = {"ann", "bob"};
    for (int i = 0; i < 2; i++) {
        char email[32];
        snprintf(email, sizeof(email), "%s@bench.example", names[i]);
        struct kw_user u = {.email = email, .name = names[i], .role = "agent"};
        if (kw_store_user_insert(st, &u, NULL, 0, &people[i], err) != KW_OK)
            return err->code;
    }
    char spec[512];
    snprintf(spec, sizeof(spec), rota_json, (long long)people[0], (long long)people[1]);
    struct kw_endpoint e = {
        .name = "refused", .kind = "webhook", .url = "http://127.0.0.1:9/", .events = "[]"};
    if (kw_store_team_insert(st, "bench", people[0], 0, team, err) != KW_OK ||
        kw_store_oncall_put(st, "bench L1", *team, 1, spec, 0, &rota, err) != KW_OK ||
        kw_store_endpoint_add(st, &e, 0, &ep, err) != KW_OK)
        return err->code;
    return KW_OK;
}

/* The engine's writers' time and units, summed. */
static void engine_writer_stats(struct kw_writer *ew, struct kw_writer *const xw[KW_ENGINE_FIRERS],
                                struct kw_writer_stats *out)
{
    kw_writer_stats(ew, out);
    for (size_t i = 0; i < KW_ENGINE_FIRERS; i++) {
        struct kw_writer_stats x;
        if (!xw[i])
            continue;
        kw_writer_stats(xw[i], &x);
        out->units += x.units;
        out->work_ns += x.work_ns;
        out->commit_ns += x.commit_ns;
    }
}

int main(void)
{
    const char *env = getenv("BENCH_TICKETS");
    long n = env ? atol(env) : 1000000;
    int seconds = getenv("BENCH_SECONDS") ? atoi(getenv("BENCH_SECONDS")) : 30;
    bool chains = getenv("BENCH_CHAINS") && strcmp(getenv("BENCH_CHAINS"), "1") == 0;
    long due = getenv("BENCH_DUE") ? atol(getenv("BENCH_DUE")) : 1000;
    bool cold = getenv("BENCH_COLD") && strcmp(getenv("BENCH_COLD"), "1") == 0;
    if (due < 1 || n < due || seconds < 1) {
        fprintf(stderr, "bench_engine: BENCH_DUE >= 1, BENCH_TICKETS >= BENCH_DUE and "
                        "BENCH_SECONDS >= 1\n");
        return 2;
    }
    /* TMPDIR=/dev/shm takes the disk's flush times out of the figures */
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[256], path[300], cmd[320];
    snprintf(dir, sizeof(dir), "%s/kw-bench-engine-XXXXXX", tmp);
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/kw.db", dir);
    if (getenv("BENCH_DB") && *getenv("BENCH_DB"))
        snprintf(path, sizeof(path), "%s", getenv("BENCH_DB"));
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err);
    struct kw_clocks *clocks = kw_clocks_new(&err);
    struct kw_org org = {.name = "bench"};
    int64_t org_id = 0, cid = 0, team = 0;
    char policy[2048];
    snprintf(policy, sizeof(policy), "%.*s%s", (int)strlen(policy_json) - (chains ? 1 : 0),
             policy_json, chains ? chain_json : "");
    if (!st || !clocks || kw_store_org_insert(st, &org, 0, &org_id, &err) != KW_OK ||
        kw_store_commitment_insert(st, "bench", "1", 946684800, policy, 0, &cid, &err) != KW_OK ||
        (chains && chain_setup(st, &team, &err) != KW_OK)) {
        fprintf(stderr, "bench_engine: %s\n", err.msg);
        return 1;
    }
    /* the first tickets fall due after the fill (about 20,000 a second on
     * a quiet machine; allow for a busy one) and the start, so that
     * lateness is measured on time, not on backlog */
    struct fill f = {.clocks = clocks,
                     .n = n,
                     .org = org_id,
                     .team = team,
                     .span = n / due,
                     .now = (int64_t)time(NULL)};
    f.base = f.now + n / 8000 + 20;
    kw_sla_init(&f.sla);
    double t0 = now_s();
    if (fill(st, &f) != 0)
        return 1;
    printf("engine: %ld tickets of 3 running clocks%s created and projected in %.1f s\n", n,
           chains ? " and an escalation chain of 3 steps" : "", now_s() - t0);
    kw_sla_release(&f.sla);
    kw_store_close(st);
    /* a fill that ended less than 10 s before the first tickets fall due
     * (a busy machine, a slower create): the clock set back so that it
     * reads base - 10 s now, and runs on from there */
    int64_t left = f.base - (int64_t)time(NULL); /* seconds until the first fall due */
    if (left < 10) {
        atomic_store(&shift, (long long)(10 - left));
        printf("engine: the fill ended %lld s %s the first tickets' due instant: the engine's "
               "clock set back %lld s, so that it starts 10 s before it (no backlog)\n",
               (long long)(left < 0 ? -left : left), left < 0 ? "after" : "before",
               (long long)(10 - left));
    }

    long rss0 = rss_kib();
    struct kw_writer *w = kw_writer_start(path, &err);
    /* on PostgreSQL the engine fires on a writer of its own, as `keepword
     * serve` does (cmd_serve.c), beside the updates' */
    struct kw_writer *ew = w && kw_store_location_is_pg(path) ? kw_writer_start(path, &err) : w;
    struct kw_engine *e = ew ? kw_engine_start(path, ew, clocks, (struct kw_now){shifted, NULL},
                                               NULL, NULL, NULL, &err)
                             : NULL;
    if (!e) {
        fprintf(stderr, "bench_engine: %s\n", err.msg);
        return 1;
    }
    /* the engine's further writers: its units on several connections at once */
    struct kw_writer *xw[KW_ENGINE_FIRERS] = {0};
    long n_ew = getenv("BENCH_ENGINE_WRITERS") ? atol(getenv("BENCH_ENGINE_WRITERS"))
                                               : KW_ENGINE_PG_WRITERS;
    n_ew = ew == w ? 1 : n_ew < 1 ? 1 : n_ew > KW_ENGINE_FIRERS ? KW_ENGINE_FIRERS : n_ew;
    for (long i = 1; i < n_ew; i++)
        if (!(xw[i] = kw_writer_start(path, &err)) || kw_engine_fire_on(e, xw[i], &err) != KW_OK) {
            fprintf(stderr, "bench_engine: %s\n", err.msg);
            return 1;
        }
    if (ew != w)
        printf("engine: fires on %ld connections of its own\n", n_ew);
    struct kw_engine_stats s;
    struct kw_writer_stats w0, w1, e0 = {0}, e1 = {0};
    kw_engine_stats(e, &s);
    printf("engine: timers for %zu tickets: %.1f MiB (%.0f bytes each); process RSS +%.1f MiB\n",
           s.entries, (double)s.bytes / 1048576.0, (double)s.bytes / (double)s.entries,
           (double)(rss_kib() - rss0) / 1024.0);
    printf("engine: rebuilt at start in %.3f s   (target <= 2 s: ratio %.2f)\n", s.rebuild_seconds,
           2.0 / s.rebuild_seconds);

    struct updater u = {.w = w, .e = e, .clocks = clocks, .n = n, .rng = 42};
    kw_sla_init(&u.sla);
    pthread_t th;
    if (shifted(NULL) >= f.base - 1)
        printf("engine: WARNING: the engine's start ended %lld s after the first tickets fell "
               "due: the first firings include a backlog\n",
               (long long)(shifted(NULL) - f.base + 1));
    if (!cold) /* a running desk: updates from the engine's start */
        pthread_create(&th, NULL, update_loop, &u);
    while (shifted(NULL) < f.base)
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    long done0 = atomic_load(&u.done), failed0 = atomic_load(&u.failed);
    kw_writer_stats(w, &w0);
    if (ew != w)
        engine_writer_stats(ew, xw, &e0);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    long long reads0, writes0, reads, writes;
    io_calls(&reads0, &writes0);
    if (cold)
        pthread_create(&th, NULL, update_loop, &u);
    while (shifted(NULL) < f.base + seconds)
        sleep(1);
    atomic_store(&u.stop, true);
    pthread_join(th, NULL);
    kw_engine_stats(e, &s);
    kw_writer_stats(w, &w1);
    if (ew != w)
        engine_writer_stats(ew, xw, &e1);
    getrusage(RUSAGE_SELF, &r1);
    io_calls(&reads, &writes);
    reads -= reads0;
    writes -= writes0;
    printf("engine: %ld updates (%ld failed) at 1000/s while %llu tickets fired (%llu events; "
           "%ld due a second%s) in the %d s after the first fell due%s\n",
           atomic_load(&u.done) - done0, atomic_load(&u.failed) - failed0,
           (unsigned long long)s.fired, (unsigned long long)s.events, due,
           chains ? ", with chains" : "", seconds,
           cold ? " (BENCH_COLD=1: the updates and the writer's first use began with them)" : "");
    double units = w1.units > w0.units ? (double)(w1.units - w0.units) : 1;
    printf("engine: writer busy %.1f s running %llu units (%.1f us each) and %.1f s committing\n",
           (double)(w1.work_ns - w0.work_ns) / 1e9, (unsigned long long)(w1.units - w0.units),
           (double)(w1.work_ns - w0.work_ns) / units / 1e3,
           (double)(w1.commit_ns - w0.commit_ns) / 1e9);
    if (ew != w)
        printf("engine: the engine's own writers busy %.1f s running %llu units (%.1f us each) and "
               "%.1f s committing\n",
               (double)(e1.work_ns - e0.work_ns) / 1e9, (unsigned long long)(e1.units - e0.units),
               (double)(e1.work_ns - e0.work_ns) /
                   (e1.units > e0.units ? (double)(e1.units - e0.units) : 1) / 1e3,
               (double)(e1.commit_ns - e0.commit_ns) / 1e9);
    /* the process's own processor time over the run (every thread): the
     * load of a shared machine changes the wall clock much more than it */
    double cpu = tv_s(&r1.ru_utime) - tv_s(&r0.ru_utime) + tv_s(&r1.ru_stime) - tv_s(&r0.ru_stime);
    double ops = (double)(s.fired + (uint64_t)(atomic_load(&u.done) - done0));
    ops = ops > 0 ? ops : 1;
    printf("engine: processor time over the run %.2f s user, %.2f s system (%.0f us per firing "
           "and update); per firing and update %.1f read and %.1f write system calls\n",
           tv_s(&r1.ru_utime) - tv_s(&r0.ru_utime), tv_s(&r1.ru_stime) - tv_s(&r0.ru_stime),
           cpu * 1e6 / ops, (double)reads / ops, (double)writes / ops);
    double p99 = s.late.p99_ms, max = s.late.max_ms, p99_target = chains ? 200 : 100;
    printf("engine: lateness p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms over the last %zu "
           "firings   (targets p99 <= %.0f ms: ratio %.2f; max <= 1000 ms: ratio %.2f)\n",
           s.late.p50_ms, s.late.p90_ms, p99, max, s.late.window, p99_target,
           p99_target / (p99 > 0 ? p99 : 1), 1000.0 / (max > 0 ? max : 1));
    kw_engine_stop(e);
    for (size_t i = 0; i < KW_ENGINE_FIRERS; i++)
        kw_writer_stop(xw[i]);
    if (ew != w)
        kw_writer_stop(ew);
    kw_writer_stop(w);
    kw_clocks_free(clocks);
    kw_sla_release(&u.sla);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
