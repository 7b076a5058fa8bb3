// SPDX-License-Identifier: MIT
/* keepword serve: the HTTP API on a database, until SIGTERM or SIGINT. */
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "cli.h"
#include "demo.h"
#include "http.h"
#include "kw_log.h"
#include "store.h"
#include "writer.h"

static const char usage_serve[] =
    "usage: keepword serve --db PATH [--listen 127.0.0.1:8080] [--demo]\n"
    "                      [--log-level debug|info|warn|error]\n"
    "                      [--fake-clock FILE]\n"
    "\n"
    "Serve the web UI (at /) and the HTTP API on the database at PATH (created\n"
    "and migrated if needed; create the first admin with `keepword init`).\n"
    "The UI's pages are built in; browsers sign in with a session cookie and a\n"
    "CSRF token. Routes (docs/api.md,\n"
    "and GET /api/v1/openapi.json): /healthz, /api/v1/auth/login|logout,\n"
    "/api/v1/me, /api/v1/tokens, /api/v1/tickets[/{id}[/events|/sla|/nodes|\n"
    "/verify]], /api/v1/orgs, /api/v1/users, /api/v1/teams, /api/v1/calendars,\n"
    "/api/v1/commitments, /api/v1/endpoints, /api/v1/outbox, /api/v1/subscriptions,\n"
    "/api/v1/oncall, /api/v1/overruns, /api/v1/stream (changed tickets as\n"
    "Server-Sent Events). Each connection is served on its own\n"
    "thread; writes are committed in batches by one writer and answered after\n"
    "the commit. The engine fires SLA warnings, breaches and escalation steps at\n"
    "their instants (what fell due while the server was down fires at start)\n"
    "and delivers notifications (webhook, DingTalk, Feishu, WeCom, e-mail).\n"
    "--fake-clock FILE (for tests) reads \"now\" from FILE, an instant like\n"
    "2026-03-02T09:00:00+08:00, on every use instead of the system clock.\n"
    "Logs one logfmt line per request, per ticket state change, per firing and\n"
    "per delivery attempt on stderr (failures at level=error); --log-level\n"
    "drops the lines below a level (default info).\n"
    "--demo first loads a demo into a database without it: the L1-L4\n"
    "commitment, three customer organisations, two desks of agents and 36\n"
    "tickets in every state, its calendars and a rota per desk (logins\n"
    "*@keepword.demo, it@huaxin.demo,\n"
    "ops@dongfang.demo, it@pacific.demo; password keepword-demo).\n"
    "SIGTERM or SIGINT finishes the requests in flight and exits.\n";

static int64_t wall_now(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

/* A clock read from a file (tests move it by rewriting the file). */
struct file_clock {
    const char *path;
    _Atomic int64_t last; /* the last instant read, for a file caught mid-write */
};

/* The instant written in the file; the last one read when the file cannot
 * be read or parsed right now, the system clock before any was read. */
static int64_t file_now(void *ctx)
{
    struct file_clock *fc = ctx;
    char buf[64];
    int64_t t;
    FILE *f = fopen(fc->path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    if (n > 0 && kw_instant_parse(buf, n, &t, NULL) == KW_OK) {
        fc->last = t;
        return t;
    }
    return fc->last ? fc->last : wall_now(NULL);
}

int kw_cmd_serve(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_serve, stdout), KW_EXIT_OK;
    const char *db = NULL, *listen = "127.0.0.1:8080";
    const char *fake = NULL;
    bool demo = false;
    struct kw_log log = {stderr, KW_LOG_INFO};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--demo") == 0)
            demo = true;
        else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--fake-clock") == 0 && i + 1 < argc)
            fake = argv[++i];
        else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
            if (!kw_log_level_parse(argv[++i], &log.min))
                return kw_cli_usage(
                    usage_serve, "--log-level: \"%s\" is not debug, info, warn or error", argv[i]);
        } else
            return kw_cli_usage(usage_serve, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db)
        return kw_cli_usage(usage_serve, "--db PATH is required");
    /* one connection, one thread: without a cap glibc gives each its own
     * malloc arena, and memory freed in one is not reused by another */
    mallopt(M_ARENA_MAX, 4);
    /* Block the stop signals before the server thread starts, so that it
     * inherits the mask and only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(db, &err);
    if (!st)
        return kw_cli_fail(NULL, &err);
    struct kw_now clock = {wall_now, NULL};
    struct file_clock fc = {fake, 0};
    if (fake)
        clock = (struct kw_now){file_now, &fc};
    bool loaded = false;
    if (demo && kw_demo_load(st, clock.now(clock.ctx), &loaded, &err) != KW_OK) {
        kw_store_close(st);
        return kw_cli_fail("--demo", &err);
    }
    if (loaded)
        fprintf(stderr, "keepword: demo loaded (logins: manager@keepword.demo, "
                        "li.na@keepword.demo, it@huaxin.demo, ...; password keepword-demo)\n");
    int schema = kw_store_schema_version(st);
    kw_store_close(st); /* the server opens its own handles */
    struct kw_http *h = kw_http_start(listen, db, clock, &log, &err);
    if (!h)
        return kw_cli_fail(NULL, &err);
    char host[64];
    snprintf(host, sizeof(host), "%.*s", (int)(strrchr(listen, ':') - listen), listen);
    fprintf(stderr, "keepword: serving http://%s:%u on %s (schema %d)\n", host, kw_http_port(h), db,
            schema);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "keepword: %s received, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    struct kw_writer_stats ws;
    kw_http_writer_stats(h, &ws);
    kw_http_stop(h);
    fprintf(stderr,
            "keepword: stopped (%llu writes in %llu commits, largest %llu; writer busy %.3f s "
            "running writes, %.3f s committing)\n",
            (unsigned long long)ws.units, (unsigned long long)ws.batches,
            (unsigned long long)ws.largest, (double)ws.work_ns / 1e9, (double)ws.commit_ns / 1e9);
    return KW_EXIT_OK;
}
