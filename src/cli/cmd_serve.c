// SPDX-License-Identifier: MIT
/* keepword serve: the HTTP API on a database, until SIGTERM or SIGINT. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "demo.h"
#include "http.h"
#include "store.h"

static const char usage_serve[] =
    "usage: keepword serve --db PATH [--listen 127.0.0.1:8080] [--demo]\n"
    "\n"
    "Serve the HTTP API on the database at PATH (created and migrated if\n"
    "needed; create the first admin with `keepword init`). Routes so far\n"
    "(docs/api.md): /healthz, /api/v1/auth/login|logout, /api/v1/me,\n"
    "/api/v1/orgs, /api/v1/users, /api/v1/tickets[/{id}[/events]].\n"
    "Logs one logfmt line per request on stderr. --demo first loads a demo\n"
    "into a database without it: the L1-L4 commitment, three customer\n"
    "organisations, agents and tickets in every state (logins *@keepword.demo,\n"
    "it@huaxin.demo, ops@dongfang.demo, it@pacific.demo; password keepword-demo).\n"
    "SIGTERM or SIGINT finishes the requests in flight and exits.\n";

static int64_t wall_now(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

int kw_cmd_serve(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_serve, stdout), KW_EXIT_OK;
    const char *db = NULL, *listen = "127.0.0.1:8080";
    bool demo = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--demo") == 0)
            demo = true;
        else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else
            return kw_cli_usage(usage_serve, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db)
        return kw_cli_usage(usage_serve, "--db PATH is required");
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
    bool loaded = false;
    if (demo && kw_demo_load(st, wall_now(NULL), &loaded, &err) != KW_OK) {
        kw_store_close(st);
        return kw_cli_fail("--demo", &err);
    }
    if (loaded)
        fprintf(stderr, "keepword: demo loaded (logins: manager@keepword.demo, "
                        "li.na@keepword.demo, it@huaxin.demo, ...; password keepword-demo)\n");
    struct kw_http *h = kw_http_start(listen, st, (struct kw_now){wall_now, NULL}, stderr, &err);
    if (!h) {
        kw_store_close(st);
        return kw_cli_fail(NULL, &err);
    }
    char host[64];
    snprintf(host, sizeof(host), "%.*s", (int)(strrchr(listen, ':') - listen), listen);
    fprintf(stderr, "keepword: serving http://%s:%u on %s (schema %d)\n", host, kw_http_port(h), db,
            kw_store_schema_version(st));
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "keepword: %s received, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    kw_http_stop(h);
    kw_store_close(st);
    return KW_EXIT_OK;
}
