// SPDX-License-Identifier: MIT
/* keepword credits close: close a billing period of every contract, so
 * that a run still breached at its end accrues what it owes to then
 * (docs/policy.md "The credit ledger"). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "cli.h"
#include "clocks.h"
#include "ledger.h"
#include "store.h"

static const char usage[] =
    "usage: keepword credits close --db PATH --period YYYY-MM[-DD] [--at INSTANT]\n"
    "\n"
    "Closes the billing period holding the day --period names (YYYY-MM: its\n"
    "first day) of every contract in force then: each overrun still open at\n"
    "the period's end (its clock not stopped) accrues what it owes measured\n"
    "to that end, less what earlier closes accrued; when its clock stops, the\n"
    "rest accrues. Run it after a period has ended (e.g. from cron on the\n"
    "1st): a contract whose period has not ended by now (or --at INSTANT) is\n"
    "left for later, and when none has ended it is refused.\n"
    "Running it twice writes nothing the second time. Safe while a server\n"
    "runs (one transaction). Prints how many contracts were closed and how\n"
    "many ledger entries written.\n";

static int close_period(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage, stdout), KW_EXIT_OK;
    const char *db = NULL, *at = NULL, *period = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
            at = argv[++i];
        else if (strcmp(argv[i], "--period") == 0 && i + 1 < argc)
            period = argv[++i];
        else
            return kw_cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db)
        return kw_cli_usage(usage, "--db PATH is required");
    if (!period)
        return kw_cli_usage(usage, "--period YYYY-MM is required");
    struct kw_err err = {0};
    int64_t now = (int64_t)time(NULL), day;
    char date[16];
    size_t n = strlen(period);
    snprintf(date, sizeof(date), n == 7 ? "%s-01" : "%s", period);
    if ((n != 7 && n != 10) || kw_date_parse(date, strlen(date), &day, &err) != KW_OK)
        return kw_cli_usage(usage, "--period: \"%s\" is not a month YYYY-MM or a day YYYY-MM-DD",
                            period);
    if (at && kw_instant_parse(at, strlen(at), &now, &err) != KW_OK)
        return kw_cli_fail("--at", &err);
    struct kw_store *st = kw_store_open(db, &err);
    if (!st)
        return kw_cli_fail(NULL, &err);
    struct kw_sla sla;
    kw_sla_init(&sla);
    struct kw_unit u = {.st = st, .clocks = kw_clocks_new(&err), .sla = &sla, .now = now};
    int64_t entries = 0, contracts = 0;
    int rc = KW_EXIT_OK;
    if (!u.clocks || kw_store_begin(st, &err) != KW_OK)
        rc = kw_cli_fail("credits close", &err);
    else if (kw_ledger_close(&u, day, &entries, &contracts, &err) != KW_OK) {
        kw_store_rollback(st);
        rc = kw_cli_fail("credits close", &err);
    } else if (kw_store_commit(st, &err) != KW_OK)
        rc = kw_cli_fail("credits close", &err);
    else
        printf("%s: billing period holding %s: %lld contract(s) closed, %lld ledger entries "
               "written\n",
               db, date, (long long)contracts, (long long)entries);
    kw_sla_release(&sla);
    kw_clocks_free(u.clocks);
    kw_store_close(st);
    return rc;
}

static const char credits_usage[] =
    "usage: keepword credits close --db PATH --period YYYY-MM[-DD] [--at INSTANT]\n"
    "\n"
    "  close   accrue the credits of runs still breached at a billing period's end\n";

int kw_cmd_credits(int argc, char **argv)
{
    static const struct kw_cli_cmd cmds[] = {{"close", close_period}};
    return kw_cli_dispatch(argc, argv, credits_usage, "credits", cmds, 1);
}
