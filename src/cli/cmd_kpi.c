// SPDX-License-Identifier: MIT
/* keepword kpi rebuild: write the KPI facts (one row per clock run,
 * docs/kpi.md) of every ticket again from its events. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "cli.h"
#include "clocks.h"
#include "store.h"

static const char usage[] =
    "usage: keepword kpi rebuild --db PATH [--at INSTANT]\n"
    "\n"
    "Writes the KPI facts of every ticket again from its events: one row per\n"
    "run of each SLA clock (docs/kpi.md). The server keeps them up to date\n"
    "as tickets change; rebuild after restoring an old backup or to check\n"
    "them. Open runs are measured as of now, or --at INSTANT (ISO 8601, e.g.\n"
    "2026-03-02T09:00:00+08:00). Safe while a server runs: each ticket's\n"
    "rows are replaced at once, 500 tickets a transaction. Prints how many\n"
    "tickets and runs were written.\n";

static int rebuild(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage, stdout), KW_EXIT_OK;
    const char *db = NULL, *at = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
            at = argv[++i];
        else
            return kw_cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db)
        return kw_cli_usage(usage, "--db PATH is required");
    struct kw_err err = {0};
    int64_t now = (int64_t)time(NULL);
    if (at && kw_instant_parse(at, strlen(at), &now, &err) != KW_OK)
        return kw_cli_fail("--at", &err);
    struct kw_store *st = kw_store_open(db, &err);
    if (!st)
        return kw_cli_fail(NULL, &err);
    struct kw_clocks *c = kw_clocks_new(&err);
    struct kw_sla sla;
    kw_sla_init(&sla);
    size_t tickets = 0, runs = 0;
    int rc = KW_EXIT_OK;
    if (!c || kw_clocks_runs_rebuild(c, st, &sla, now, &tickets, &runs, &err) != KW_OK)
        rc = kw_cli_fail("kpi rebuild", &err);
    else
        printf("%s: KPI facts rebuilt: %zu tickets, %zu runs\n", db, tickets, runs);
    kw_sla_release(&sla);
    kw_clocks_free(c);
    kw_store_close(st);
    return rc;
}

static const char kpi_usage[] = "usage: keepword kpi rebuild --db PATH [--at INSTANT]\n"
                                "\n"
                                "  rebuild   write the KPI facts of every ticket again from its "
                                "events\n";

int kw_cmd_kpi(int argc, char **argv)
{
    static const struct kw_cli_cmd cmds[] = {{"rebuild", rebuild}};
    return kw_cli_dispatch(argc, argv, kpi_usage, "kpi", cmds, 1);
}
