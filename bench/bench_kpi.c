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
 * facts), 1000 tickets a transaction. Prints creates per second in the
 * writer, then what keeping the facts costs creates: BENCH_KPI_CREATES
 * (default 20,000; 0 leaves it out) creates, 1000 a commit, into a fresh
 * database with the facts kept and without them (kpi_runs a virtual table
 * that keeps nothing, kpi_states and kpi_resolved given a trigger that
 * ignores each insert, so the store runs the same statements and the
 * facts' rows and indexes are not written; computing the rows is counted
 * in both), five rounds each, alternating, the median, and how far below
 * the rate without the facts the rate with them is (target: at most 10 %),
 * of wall time and per CPU second of the thread. The creates go through a
 * connection opened as the server's writer is, with the server's upkeep
 * checkpointing the log every 100 ms on a handle of its own beside it;
 * BENCH_KPI_INLINE=1 puts them on a reading connection that checkpoints
 * the log itself (the rounds before 2026-12-02's evening).
 * BENCH_KPI_FACTS=on or off runs one round of that side only (to count
 * instructions under callgrind: --toggle-collect=create_rate), and
 * BENCH_KPI_SQL=SQL is run on the database with the facts before their
 * rounds (a variant of their tables to try). Asserts nothing about speed.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

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

/* What every desk of this bench starts with: an organisation, an agent,
 * four teams and the commitment. */
struct desk {
    struct kw_sla sla;
    struct kw_unit u;
    struct kw_actor who;
    int64_t cid, org, team[4], agent;
    int64_t start, end; /* 2025 */
};

static void desk_open(struct desk *d, struct kw_store *st)
{
    struct kw_err err = {0};
    kw_instant_parse("2025-01-01T00:00:00Z", 20, &d->start, &err);
    kw_instant_parse("2026-01-01T00:00:00Z", 20, &d->end, &err);
    int64_t start = d->start;
    kw_sla_init(&d->sla);
    d->u = (struct kw_unit){.st = st, .clocks = kw_clocks_new(&err), .sla = &d->sla, .now = start};
    struct kw_org o = {.name = "Acme"};
    must(kw_store_org_insert(st, &o, 0, &d->org, &err), &err, "org");
    struct kw_user a = {.email = "agent@bench", .name = "Agent", .role = "agent"};
    must(kw_store_user_insert(st, &a, NULL, 0, &d->agent, &err), &err, "agent");
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "team%d", i + 1);
        must(kw_store_team_insert(st, name, 0, 0, &d->team[i], &err), &err, "team");
    }
    must(kw_store_commitment_insert(st, "bench", "1", 0, policy, 0, &d->cid, &err), &err,
         "commitment");
    d->who = (struct kw_actor){.id = d->agent, .role = KW_ROLE_AGENT};
}

static void desk_close(struct desk *d)
{
    kw_clocks_free(d->u.clocks);
    kw_sla_release(&d->sla);
}

static const char *const levels[] = {"L1", "L2", "L3", "L4"};

/* Create ticket i of n over [start, start + n * step): its id in *id. */
static void create_one(struct desk *d, long i, int64_t start, int64_t step, uint64_t r, int64_t *id)
{
    struct kw_err err = {0};
    d->u.now = start + i * step;
    struct kw_ticket_in in = {.org_id = d->org, .title = "bench", .level = levels[r % 4]};
    bool existed;
    must(kw_store_savepoint(d->u.st, &err), &err, "savepoint");
    must(kw_ticket_create(&d->u, &d->who, &in, id, &existed, &err), &err, "create");
    must(kw_store_release(d->u.st, true, &err), &err, "release");
}

static void commit(struct kw_store *st)
{
    struct kw_err err = {0};
    /* the reads still on a row reset first: a commit with statements on a
     * row cannot checkpoint, and the log would grow to gigabytes */
    kw_store_end_read(st);
    must(kw_store_commit(st, &err), &err, "commit");
}

/* Remove the database at path with its log and shared memory. */
static void remove_db(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char *f = malloc(strlen(path) + 5);
        if (!f)
            exit(1);
        strcpy(f, path);
        strcat(f, suffix[i]);
        unlink(f);
        free(f);
    }
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The facts left out: a virtual table module, "nofacts", that takes each
 * insert (counted as a change, as the store checks) and keeps nothing, in
 * place of kpi_runs (its columns as the module's arguments); kpi_states and
 * kpi_resolved, whose inserts are not counted, ignore theirs by trigger. */
struct nofacts_cursor {
    sqlite3_vtab_cursor base;
};

static int nofacts_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                           sqlite3_vtab **out, char **msg)
{
    (void)aux;
    (void)msg;
    sqlite3_str *sql = sqlite3_str_new(db);
    sqlite3_str_appendall(sql, "CREATE TABLE x(");
    for (int i = 3; i < argc; i++)
        sqlite3_str_appendf(sql, "%s%s", i > 3 ? ", " : "", argv[i]);
    sqlite3_str_appendall(sql, ")");
    char *decl = sqlite3_str_finish(sql);
    int rc = decl ? sqlite3_declare_vtab(db, decl) : SQLITE_NOMEM;
    sqlite3_free(decl);
    if (rc != SQLITE_OK)
        return rc;
    *out = sqlite3_malloc(sizeof(**out));
    if (!*out)
        return SQLITE_NOMEM;
    memset(*out, 0, sizeof(**out));
    return SQLITE_OK;
}

static int nofacts_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

static int nofacts_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    (void)vt;
    info->estimatedCost = 1;
    info->estimatedRows = 1;
    return SQLITE_OK;
}

static int nofacts_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    (void)vt;
    *out = sqlite3_malloc(sizeof(struct nofacts_cursor));
    if (!*out)
        return SQLITE_NOMEM;
    memset(*out, 0, sizeof(struct nofacts_cursor));
    return SQLITE_OK;
}

static int nofacts_close(sqlite3_vtab_cursor *c)
{
    sqlite3_free(c);
    return SQLITE_OK;
}

static int nofacts_filter(sqlite3_vtab_cursor *c, int idx, const char *idx_s, int argc,
                          sqlite3_value **argv)
{
    (void)c;
    (void)idx;
    (void)idx_s;
    (void)argc;
    (void)argv;
    return SQLITE_OK;
}

static int nofacts_next(sqlite3_vtab_cursor *c)
{
    (void)c;
    return SQLITE_OK;
}

static int nofacts_eof(sqlite3_vtab_cursor *c)
{
    (void)c;
    return 1;
}

static int nofacts_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int i)
{
    (void)c;
    (void)i;
    sqlite3_result_null(ctx);
    return SQLITE_OK;
}

static int nofacts_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *rowid)
{
    (void)c;
    *rowid = 0;
    return SQLITE_OK;
}

static int nofacts_update(sqlite3_vtab *vt, int argc, sqlite3_value **argv, sqlite3_int64 *rowid)
{
    (void)vt;
    (void)argc;
    (void)argv;
    *rowid = 1;
    return SQLITE_OK;
}

static const sqlite3_module nofacts_module = {
    .xCreate = nofacts_connect,
    .xConnect = nofacts_connect,
    .xBestIndex = nofacts_best_index,
    .xDisconnect = nofacts_disconnect,
    .xDestroy = nofacts_disconnect,
    .xOpen = nofacts_open,
    .xClose = nofacts_close,
    .xFilter = nofacts_filter,
    .xNext = nofacts_next,
    .xEof = nofacts_eof,
    .xColumn = nofacts_column,
    .xRowid = nofacts_rowid,
    .xUpdate = nofacts_update,
};

/* Every connection of this process gets the module (the store opens its own). */
static int add_nofacts(sqlite3 *db, const char **msg, const struct sqlite3_api_routines *api)
{
    (void)msg;
    (void)api;
    return sqlite3_create_module(db, "nofacts", &nofacts_module, NULL);
}

/* The database at path without the KPI facts: kpi_runs replaced by a table
 * of the module "nofacts" with its columns, the others' inserts ignored. */
static void drop_facts(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *x = NULL;
    char *msg = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT group_concat(name, ', ') FROM pragma_table_info('kpi_runs')",
                           -1, &x, NULL) != SQLITE_OK ||
        sqlite3_step(x) != SQLITE_ROW) {
        fprintf(stderr, "bench_kpi: facts off: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    char *sql =
        sqlite3_mprintf("DROP TABLE kpi_runs; CREATE VIRTUAL TABLE kpi_runs USING nofacts(%s);"
                        " CREATE TRIGGER kpi_states_off BEFORE INSERT ON kpi_states"
                        " BEGIN SELECT RAISE(IGNORE); END;"
                        " CREATE TRIGGER kpi_resolved_off BEFORE INSERT ON kpi_resolved"
                        " BEGIN SELECT RAISE(IGNORE); END;",
                        (const char *)sqlite3_column_text(x, 0));
    sqlite3_finalize(x);
    if (!sql || sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_kpi: facts off: %s\n", msg ? msg : "no memory");
        exit(1);
    }
    sqlite3_free(sql);
    sqlite3_close(db);
}

/* The server's upkeep (store/writer.c): the log checkpointed every 100 ms
 * on a handle of its own, while the writer's connection commits. */
struct upkeep {
    struct kw_store *st;
    pthread_mutex_t mu;
    pthread_cond_t tick;
    bool stop;
};

static void *upkeep_loop(void *arg)
{
    struct upkeep *u = arg;
    pthread_mutex_lock(&u->mu);
    while (!u->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&u->tick, &u->mu, &until);
        if (u->stop)
            break;
        pthread_mutex_unlock(&u->mu);
        kw_store_maintain(u->st, NULL, NULL);
        pthread_mutex_lock(&u->mu);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

/* The connection the creates go through: the server's writer's (its page
 * cache, no checkpoint of its own), or with inline_cp a reading one that
 * checkpoints the log itself after a commit past 1,000 pages. */
static struct kw_store *open_for_creates(const char *path, bool inline_cp, struct kw_err *err)
{
    return inline_cp ? kw_store_open(path, err) : kw_store_open_writer(path, err);
}

/* Creates per second into a fresh database at path, the facts kept or not
 * (their tables ignoring inserts), on a connection opened as the server's
 * writer is (its page cache, no checkpoint of its own) with the server's
 * upkeep beside it; BENCH_KPI_INLINE=1: on a reading connection that
 * checkpoints the log itself after a commit past 1,000 pages (the rounds
 * before 2026-12-02, evening). Of wall time, and of this thread's CPU
 * time in *cpu. */
static double create_rate(const char *path, long n, bool facts, double *cpu)
{
    struct kw_err err = {0};
    bool inline_cp = getenv("BENCH_KPI_INLINE") && strcmp(getenv("BENCH_KPI_INLINE"), "1") == 0;
    remove_db(path);
    struct kw_store *st = open_for_creates(path, inline_cp, &err);
    if (!st)
        must(KW_STORE, &err, "open");
    /* facts off, or a variant of their tables to try: made on the
     * closed database, then opened again */
    const char *variant = getenv("BENCH_KPI_SQL");
    if (!facts || variant) {
        kw_store_close(st);
        if (!facts) {
            sqlite3_auto_extension((void (*)(void))add_nofacts);
            drop_facts(path);
        } else {
            sqlite3 *db = NULL;
            char *msg = NULL;
            if (sqlite3_open(path, &db) != SQLITE_OK ||
                sqlite3_exec(db, variant, NULL, NULL, &msg) != SQLITE_OK) {
                fprintf(stderr, "bench_kpi: BENCH_KPI_SQL: %s\n", msg ? msg : sqlite3_errmsg(db));
                exit(1);
            }
            sqlite3_close(db);
        }
        if (!(st = open_for_creates(path, inline_cp, &err)))
            must(KW_STORE, &err, "open");
    }
    struct upkeep up = {.mu = PTHREAD_MUTEX_INITIALIZER, .tick = PTHREAD_COND_INITIALIZER};
    pthread_t upt;
    if (!inline_cp) {
        if (!(up.st = kw_store_open(path, &err)))
            must(KW_STORE, &err, "open the upkeep's handle");
        if (pthread_create(&upt, NULL, upkeep_loop, &up) != 0) {
            fprintf(stderr, "bench_kpi: no thread for the upkeep\n");
            exit(1);
        }
    }
    struct desk d;
    desk_open(&d, st);
    uint64_t seed = 42;
    int64_t start = d.start, step = (d.end - start) / (n ? n : 1), id;
    double t0 = now_s(), c0 = cpu_s();
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0)
            must(kw_store_begin(st, &err), &err, "begin");
        create_one(&d, i, start, step, splitmix64(&seed), &id);
        if (i % 1000 == 999 || i == n - 1)
            commit(st);
    }
    double rate = (double)n / (now_s() - t0);
    *cpu = (double)n / (cpu_s() - c0);
    if (!inline_cp) {
        pthread_mutex_lock(&up.mu);
        up.stop = true;
        pthread_cond_signal(&up.tick);
        pthread_mutex_unlock(&up.mu);
        pthread_join(upt, NULL);
        kw_store_close(up.st);
    }
    desk_close(&d);
    kw_store_close(st);
    sqlite3_reset_auto_extension();
    return rate;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The facts' cost on creates: ROUNDS rounds of each side, alternating. */
#define ROUNDS 5
static void facts_cost(const char *db, long n)
{
    char *path = malloc(strlen(db) + sizeof(".creates"));
    if (!path)
        exit(1);
    strcpy(path, db);
    strcat(path, ".creates");
    double rate[2][ROUNDS], cpu[2][ROUNDS];
    for (int round = 0; round < ROUNDS; round++)
        for (int side = 0; side < 2; side++)
            rate[side][round] = create_rate(path, n, side == 0, &cpu[side][round]);
    remove_db(path);
    free(path);
    /* each round's pair too: the machine's speed drifts between rounds */
    printf("bench_kpi: rounds, facts kept/without per second:");
    for (int round = 0; round < ROUNDS; round++)
        printf(" %.0f/%.0f (%.1f %%)", rate[0][round], rate[1][round],
               (1 - rate[0][round] / rate[1][round]) * 100);
    printf("\n");
    for (int side = 0; side < 2; side++) {
        qsort(rate[side], ROUNDS, sizeof(double), cmp_double);
        qsort(cpu[side], ROUNDS, sizeof(double), cmp_double);
    }
    int m = ROUNDS / 2;
    printf("bench_kpi: creates (%ld, 1000 per commit, median of %d): facts kept %.0f/s, without "
           "%.0f/s: %.1f %% below (target <= 10 %%); per CPU second %.0f/s and %.0f/s: %.1f %% "
           "below\n",
           n, ROUNDS, rate[0][m], rate[1][m], (1 - rate[0][m] / rate[1][m]) * 100, cpu[0][m],
           cpu[1][m], (1 - cpu[0][m] / cpu[1][m]) * 100);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_kpi DB [TICKETS]\n");
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
    const char *cenv = getenv("BENCH_KPI_CREATES");
    long creates = cenv ? strtol(cenv, NULL, 10) : 20000;
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(argv[1], &err);
    if (!st)
        must(KW_STORE, &err, "open");
    struct desk d;
    desk_open(&d, st);
    struct kw_unit *u = &d.u;
    uint64_t seed = 42;
    double t_create = 0, t_all = 0;
    double t0 = now_s();
    int64_t start = d.start, step = (d.end - start) / (n ? n : 1);
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0)
            must(kw_store_begin(st, &err), &err, "begin");
        int64_t created = start + i * step;
        uint64_t r = splitmix64(&seed);
        int64_t id;
        double c0 = now_s();
        create_one(&d, i, start, step, r, &id);
        t_create += now_s() - c0;
        struct kw_ticket_change ch = {.team_id = d.team[(r >> 8) % 4], .assignee_id = d.agent};
        u->now = created + 60;
        must(kw_ticket_change(u, &d.who, id, &ch, &err), &err, "assign");
        u->now = created + (int64_t)((r >> 16) % 7200);
        must(kw_ticket_comment(u, &d.who, id, "on it", false, &err), &err, "reply");
        struct kw_move mv;
        must(kw_ticket_move(u, &d.who, id, KW_ST_HANDLING, NULL, &mv, &err), &err, "handle");
        if ((r >> 32) % 10 < 9) {
            u->now += (int64_t)((r >> 40) % (5 * 86400));
            must(kw_ticket_move(u, &d.who, id, KW_ST_FEEDBACK, NULL, &mv, &err), &err, "resolve");
            if ((r >> 48) % 10 < 3) {
                u->now += 3600;
                must(kw_ticket_move(u, &d.who, id, KW_ST_ARCHIVED, NULL, &mv, &err), &err, "close");
            }
        }
        if (i % 1000 == 999 || i == n - 1)
            commit(st);
    }
    t_all = now_s() - t0;
    printf("bench_kpi: %ld tickets over 2025 (3 metrics), built in %.1f s\n", n, t_all);
    printf("bench_kpi: create %.0f per second in the writer (%.1f us each, facts included)\n",
           n / t_create, t_create / (double)n * 1e6);
    desk_close(&d);
    kw_store_close(st);
    const char *side = getenv("BENCH_KPI_FACTS");
    if (creates > 0 && side) {
        char *path = malloc(strlen(argv[1]) + sizeof(".creates"));
        if (!path)
            return 1;
        strcpy(path, argv[1]);
        strcat(path, ".creates");
        double cpu, rate = create_rate(path, creates, strcmp(side, "off") != 0, &cpu);
        printf("bench_kpi: creates (facts %s, one round): %.0f/s, per CPU second %.0f/s\n", side,
               rate, cpu);
        remove_db(path);
        free(path);
    } else if (creates > 0) {
        facts_cost(argv[1], creates);
    }
    return 0;
}
