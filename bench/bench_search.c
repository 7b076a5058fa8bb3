// SPDX-License-Identifier: MIT
/*
 * make bench: search over BENCH_SEARCH_TICKETS tickets (default 1,000,000)
 * with a title and 3 comments each (one in ten an internal note), in
 * Chinese and English, through store.h (kw_ticket_filter.q) as the API runs
 * it: staff (notes too) and a customer (one organisation of 100), 50 rows.
 * Prints p50/p99 per query for a three-character Chinese word, an English
 * word and a two-character word (targets: p99 <= 50 ms), and the create
 * throughput (a ticket and its first comment per unit, 64 units per
 * commit, BENCH_SEARCH_CREATES of them, default 20,000) with the index
 * maintained and without it (the search table replaced by one that ignores
 * inserts, so the difference is what FTS5 costs; finding the texts in the
 * event is counted in both), three rounds each, alternating, the median
 * (target: with no more than 15 % below without); http_load.sh measures
 * creates over HTTP.
 * BENCH_SEARCH_DB keeps the loaded database at that path (and reuses it).
 * To iterate on one side: BENCH_SEARCH_WHO=staff or customer measures only
 * its searches, BENCH_SEARCH_RUNS (default 100) runs each, and
 * BENCH_SEARCH_CREATES=0 skips the create rounds; BENCH_SEARCH_IDS=1 prints
 * the tickets each search's first three runs found, to compare builds;
 * BENCH_SEARCH_Q=WORDS measures that search only, and BENCH_SEARCH_INDEX=on
 * or off one create round of that side only (to count instructions under
 * callgrind: --toggle-collect=create_rate); BENCH_SEARCH_SQL=SQL is run on
 * the database with the index before its rounds, to try a variant of it.
 * Asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_util.h"
#include "store.h"

/* The search index's tokenizer (src/store/sqlite/search_tok.c), which a
 * connection of our own needs to drop or change the index. */
int kws_search_tokenizer(sqlite3 *db);

/* Words the texts are made of; the measured ones come up in about 1 % of
 * the texts each (the first entries of each list are the frequent ones). */
static const char *const zh[] = {
    "打印机", "网络",   "服务器", "无法", "连接", "登录",   "系统", "数据库", "备份", "邮件",
    "故障",   "升级",   "密码",   "账户", "权限", "报表",   "接口", "超时",   "重启", "硬盘",
    "内存",   "交换机", "防火墙", "证书", "过期", "客户端", "页面", "显示",   "错误", "缓慢",
    "会议室", "投影仪", "电话",   "分行", "柜台", "审批",   "流程", "同步",   "日志", "告警",
};
static const char *const en[] = {
    "printer",   "network", "server",  "cannot",   "connect",  "login",   "system",   "database",
    "backup",    "mail",    "failure", "upgrade",  "password", "account", "access",   "report",
    "interface", "timeout", "restart", "disk",     "memory",   "switch",  "firewall", "certificate",
    "expired",   "client",  "page",    "shows",    "error",    "slow",    "meeting",  "projector",
    "phone",     "branch",  "counter", "approval", "workflow", "sync",    "logs",     "alert",
};
#define NZH (sizeof(zh) / sizeof(zh[0]))
#define NEN (sizeof(en) / sizeof(en[0]))

/* A word: the measured ones (index 0 and 1) at about 1 in 400 words. */
static const char *word(uint64_t *rng)
{
    uint64_t r = splitmix64(rng);
    bool chinese = r & 1;
    size_t n = chinese ? NZH : NEN;
    size_t i = (r >> 1) % 400 < 2 ? (r >> 12) % 2 : 2 + (r >> 12) % (n - 2);
    return chinese ? zh[i] : en[i];
}

static void text(uint64_t *rng, int words, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < words && n + 32 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "", word(rng));
}

static void must(enum kw_code rc, const struct kw_err *err, const char *what)
{
    if (rc != KW_OK) {
        fprintf(stderr, "bench_search: %s: %s\n", what, err->msg);
        exit(1);
    }
}

/* n tickets (org ids 1..orgs) with `comments` comments each, from id
 * `from`, in transactions of `batch` tickets. */
static void load(struct kw_store *st, int64_t from, int64_t n, int comments, int orgs, int batch,
                 uint64_t *rng)
{
    struct kw_err err = {0};
    char title[256], body[1024], comment[800];
    for (int64_t i = 0; i < n; i++) {
        if (i % batch == 0)
            must(kw_store_begin(st, &err), &err, "begin");
        text(rng, 5, title, sizeof(title));
        struct kw_ticket_new t = {.org_id = 1 + (from + i) % orgs,
                                  .created_by = 1,
                                  .title = title,
                                  .level = "L2",
                                  .at = 1767225600 + from + i};
        int64_t id;
        bool existed;
        must(kw_store_ticket_create(st, &t, &id, &existed, &err), &err, "create");
        for (int c = 0; c < comments; c++) {
            text(rng, 14, comment, sizeof(comment));
            snprintf(body, sizeof(body), "{\"text\":\"%s\",\"internal\":%s}", comment,
                     splitmix64(rng) % 10 == 0 ? "true" : "false");
            must(kw_store_event_append(st, id, "comment", body, 1, t.at + c + 1, NULL, NULL, &err),
                 &err, "comment");
        }
        if (i % batch == batch - 1 || i == n - 1) {
            kw_store_end_read(st); /* so that the commit can checkpoint */
            must(kw_store_commit(st, &err), &err, "commit");
        }
    }
}

static bool count_row(const struct kw_ticket_row *t, void *ctx)
{
    (void)t;
    (*(size_t *)ctx)++;
    return true;
}

/* BENCH_SEARCH_IDS: also print the tickets found (to compare two builds). */
static bool print_row(const struct kw_ticket_row *t, void *ctx)
{
    printf(" %lld", (long long)t->id);
    (*(size_t *)ctx)++;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run the search `runs` times (organisation org, 0: staff); print p50/p99
 * of the wall time and of this thread's CPU time (on a shared machine the
 * wall time also holds the time other processes had the CPU). */
static void measure(struct kw_store *st, const char *name, const char *q, int64_t org, int runs)
{
    double *ms = calloc((size_t)runs, sizeof(double)), *cpu = calloc((size_t)runs, sizeof(double));
    size_t rows = 0;
    struct kw_err err = {0};
    for (int i = 0; i < runs; i++) {
        struct kw_ticket_filter f = {.q = q,
                                     .notes = org == 0,
                                     .org_id = org ? 1 + i % org : 0,
                                     .due_before = KW_STORE_NO_TIME,
                                     .limit = 51};
        rows = 0;
        double t0 = now_s(), c0 = cpu_s();
        bool ids = getenv("BENCH_SEARCH_IDS") && i < 3;
        if (ids)
            printf("ids %s org %lld:", q, (long long)f.org_id);
        must(kw_store_tickets(st, &f, ids ? print_row : count_row, &rows, &err), &err, "search");
        if (ids)
            printf("\n");
        ms[i] = (now_s() - t0) * 1e3;
        cpu[i] = (cpu_s() - c0) * 1e3;
        kw_store_end_read(st);
    }
    qsort(ms, (size_t)runs, sizeof(double), cmp_double);
    qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
    size_t p99 = (size_t)((runs - 1) * 0.99);
    printf("search %-34s %-9s p50 %7.2f ms  p99 %7.2f ms  (target p99 <= 50 ms: %.2fx)  cpu p50 "
           "%6.2f ms  p99 %6.2f ms  rows %zu\n",
           name, org ? "customer" : "staff", ms[runs / 2], ms[p99], ms[p99] / 50.0, cpu[runs / 2],
           cpu[p99], rows);
    free(ms);
    free(cpu);
}

/* The database at path without a search index: the FTS5 table replaced by
 * one that ignores what is written to it (the store writes the same
 * statements, the index does no work; its hidden column `search`, which
 * MATCH names, an ordinary one; search_text's index, which a search
 * names, on the empty table). */
static void drop_index(const char *path)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK || kws_search_tokenizer(db) != SQLITE_OK ||
        sqlite3_exec(
            db,
            "DROP TABLE search; CREATE TABLE search(text, scope, ticket, kind, search);"
            " CREATE TRIGGER search_off BEFORE INSERT ON search"
            " BEGIN SELECT RAISE(IGNORE); END;"
            " DROP TABLE IF EXISTS search_text; CREATE TABLE search_text(id INTEGER PRIMARY KEY,"
            " text, scope, ticket, kind); CREATE TRIGGER search_text_off BEFORE INSERT"
            " ON search_text BEGIN SELECT RAISE(IGNORE); END;"
            " CREATE INDEX search_text_by_scope ON search_text(scope, id, kind, ticket, text);",
            NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_search: drop the index: %s\n", msg ? msg : sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_close(db);
}

/* MATCH on an ordinary table calls a function match(): the store prepares
 * its search statements when it opens, so every connection of this process
 * gets one (that finds nothing) for the database without the index. */
static void no_match(sqlite3_context *c, int n, sqlite3_value **v)
{
    (void)n;
    (void)v;
    sqlite3_result_int(c, 0);
}

static int add_match(sqlite3 *db, const char **msg, const struct sqlite3_api_routines *api)
{
    (void)msg;
    (void)api;
    return sqlite3_create_function(db, "match", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                   no_match, NULL, NULL);
}

/* Creates per second into a fresh database at path, with the index
 * maintained or not: of wall time, and of this thread's CPU time in *cpu. */
static double create_rate(const char *path, int64_t n, bool index, double *cpu)
{
    struct kw_err err = {0};
    unlink(path);
    struct kw_store *st = kw_store_open(path, &err);
    if (!st)
        must(KW_STORE, &err, "open");
    struct kw_org o = {.name = "Acme"};
    int64_t org;
    must(kw_store_org_insert(st, &o, 0, &org, &err), &err, "org");
    const char *variant = getenv("BENCH_SEARCH_SQL");
    if (index && variant) { /* a variant of the index to try */
        kw_store_close(st);
        sqlite3 *db = NULL;
        char *msg = NULL;
        if (sqlite3_open(path, &db) != SQLITE_OK || kws_search_tokenizer(db) != SQLITE_OK ||
            sqlite3_exec(db, variant, NULL, NULL, &msg) != SQLITE_OK) {
            fprintf(stderr, "bench_search: BENCH_SEARCH_SQL: %s\n", msg ? msg : "open");
            exit(1);
        }
        sqlite3_close(db);
        if (!(st = kw_store_open(path, &err)))
            must(KW_STORE, &err, "open");
    }
    if (!index) {
        kw_store_close(st);
        drop_index(path);
        sqlite3_auto_extension((void (*)(void))add_match);
        if (!(st = kw_store_open(path, &err)))
            must(KW_STORE, &err, "open");
    }
    uint64_t rng = 42;
    double t0 = now_s(), c0 = cpu_s();
    load(st, 0, n, 1, 1, 64, &rng);
    double rate = (double)n / (now_s() - t0);
    *cpu = (double)n / (cpu_s() - c0);
    kw_store_close(st);
    sqlite3_reset_auto_extension();
    return rate;
}

int main(void)
{
    const char *env = getenv("BENCH_SEARCH_TICKETS"), *keep = getenv("BENCH_SEARCH_DB");
    int64_t n = env ? atoll(env) : 1000000;
    char dir[] = "/tmp/kw-bench-search-XXXXXX", path[512];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/search.db", dir);
    const char *db = keep ? keep : path;
    struct kw_err err = {0};
    bool fresh = access(db, F_OK) != 0;
    struct kw_store *st = kw_store_open(db, &err);
    if (!st)
        must(KW_STORE, &err, "open");
    if (fresh) {
        for (int i = 0; i < 100; i++) {
            char name[32];
            snprintf(name, sizeof(name), "org %d", i);
            struct kw_org o = {.name = name};
            int64_t id;
            must(kw_store_org_insert(st, &o, 0, &id, &err), &err, "org");
        }
        uint64_t rng = 7;
        double t0 = now_s();
        load(st, 0, n, 3, 100, 1000, &rng);
        double s = now_s() - t0;
        printf("search load: %lld tickets with 3 comments each in %.1f s (%.0f tickets/s, %.0f "
               "events/s, index maintained)\n",
               (long long)n, s, (double)n / s, 4.0 * (double)n / s);
    }
    static const struct {
        const char *name, *q;
    } queries[] = {
        {"3-char Chinese word (打印机)", "打印机"},
        {"English word (printer)", "printer"},
        {"2-char word (网络)", "网络"},
        {"two words (服务器 timeout)", "服务器 timeout"},
        {"rare (no match: 不存在)", "不存在"},
    };
    const char *who = getenv("BENCH_SEARCH_WHO"), *renv = getenv("BENCH_SEARCH_RUNS");
    int runs = renv && atoi(renv) > 0 ? atoi(renv) : 100;
    const char *only = getenv("BENCH_SEARCH_Q");
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        if (only && strcmp(only, queries[i].q) != 0)
            continue;
        if (!who || strcmp(who, "staff") == 0)
            measure(st, queries[i].name, queries[i].q, 0, runs);
        if (!who || strcmp(who, "customer") == 0)
            measure(st, queries[i].name, queries[i].q, 100, runs);
    }
    kw_store_close(st);
    char create[512]; /* not in path: db may point at it */
    snprintf(create, sizeof(create), "%s/create.db", dir);
    const char *cenv = getenv("BENCH_SEARCH_CREATES");
    int64_t creates = cenv ? atoll(cenv) : 20000;
    const char *side = getenv("BENCH_SEARCH_INDEX");
    if (creates > 0 && side) { /* one round of one side, for a profiler */
        double cpu;
        double rate = create_rate(create, creates, strcmp(side, "off") != 0, &cpu);
        printf("search create (index %s, one round): %.0f/s, per CPU second %.0f/s\n", side, rate,
               cpu);
    } else if (creates > 0) { /* 0: the searches only */
        double with[3], without[3], with_cpu[3], without_cpu[3];
        for (int r = 0; r < 3; r++) { /* alternating, so that the machine's load hits both */
            with[r] = create_rate(create, creates, true, &with_cpu[r]);
            without[r] = create_rate(create, creates, false, &without_cpu[r]);
        }
        qsort(with, 3, sizeof(double), cmp_double);
        qsort(without, 3, sizeof(double), cmp_double);
        qsort(with_cpu, 3, sizeof(double), cmp_double);
        qsort(without_cpu, 3, sizeof(double), cmp_double);
        printf(
            "search create (ticket + first comment, 64 per commit, median of 3): index maintained "
            "%.0f/s, without %.0f/s: %.1f %% below (target <= 15 %%); per CPU second %.0f/s and "
            "%.0f/s: %.1f %% below\n",
            with[1], without[1], 100.0 * (1.0 - with[1] / without[1]), with_cpu[1], without_cpu[1],
            100.0 * (1.0 - with_cpu[1] / without_cpu[1]));
    }
    unlink(create);
    char wal[600];
    snprintf(wal, sizeof(wal), "%s/create.db-wal", dir);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s/create.db-shm", dir);
    unlink(wal);
    if (!keep) {
        unlink(db);
        snprintf(wal, sizeof(wal), "%s-wal", db);
        unlink(wal);
        snprintf(wal, sizeof(wal), "%s-shm", db);
        unlink(wal);
    }
    rmdir(dir);
    return 0;
}
