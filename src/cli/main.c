// SPDX-License-Identifier: MIT
/* keepword: one binary, subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kw_crypto.h"

#ifndef KW_VERSION
#define KW_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: keepword COMMAND [ARGS]\n"
    "\n"
    "Keepword enforces published service commitments: response and resolution\n"
    "targets measured in working time. Commands:\n"
    "  calendar   working-time calendars: check, deadline, elapsed, spans, eval,\n"
    "             import-ics\n"
    "  policy     commitments: check, explain, letter\n"
    "  sla        SLA clocks: replay a ticket's events\n"
    "  init       create the database and its first admin account\n"
    "  migrate    create or upgrade the database schema\n"
    "  verify     check the hash chains of stored tickets\n"
    "  backup     copy the database while it serves, and check the copy\n"
    "  restore    make a database from a backup\n"
    "  copy       move a desk from SQLite to PostgreSQL\n"
    "  log        the signed Merkle log: its public key, a checkpoint now\n"
    "  receipt    verify a ticket's service receipt offline\n"
    "  oncall     who is on call for a team, and the shifts ahead\n"
    "  kpi        KPI facts: rebuild them from the events\n"
    "  credits    the credit ledger: close a billing period\n"
    "  report     the weekly and monthly service report: html, pdf, csv, xlsx\n"
    "  serve      the HTTP API: tickets, clocks, commitments, calendars, users\n"
    "  help       this text, or `keepword help COMMAND`\n"
    "  version    print the version\n"
    "\n"
    "Run `keepword COMMAND --help` for one command.\n";

static const struct kw_cli_cmd cmds[] = {
    {"calendar", kw_cmd_calendar}, {"policy", kw_cmd_policy},   {"sla", kw_cmd_sla},
    {"init", kw_cmd_init},         {"migrate", kw_cmd_migrate}, {"verify", kw_cmd_verify},
    {"serve", kw_cmd_serve},       {"oncall", kw_cmd_oncall},   {"backup", kw_cmd_backup},
    {"restore", kw_cmd_restore},   {"log", kw_cmd_log},         {"receipt", kw_cmd_receipt},
    {"kpi", kw_cmd_kpi},           {"credits", kw_cmd_credits}, {"report", kw_cmd_report},
    {"copy", kw_cmd_copy},         {"routes", kw_cmd_routes}, /* hidden: for tests/http/run.sh */
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

#ifdef KW_SANITIZE
/* LeakSanitizer: what cairo, pango and fontconfig keep for the life of the
 * process (font caches, fontconfig's configuration, made by the first
 * report PDF) is theirs, not a leak of ours. Read by LSan at start. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcairo.so\nleak:libfontconfig.so\nleak:libpango\nleak:libharfbuzz.so\n"
           "leak:libglib-2.0.so\nleak:libgobject-2.0.so\n";
}
#endif

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return KW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    struct kw_err err = {0};
    if (kw_crypto_init(&err) != KW_OK)
        return kw_cli_fail(NULL, &err);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        for (size_t i = 0; argc > 2 && i < N_CMDS; i++) {
            if (strcmp(argv[2], cmds[i].name) == 0) {
                char help[] = "--help";
                char *args[] = {argv[2], help, NULL};
                return cmds[i].run(2, args);
            }
        }
        if (argc > 2 && strcmp(cmd, "help") == 0 && strcmp(argv[2], "help") != 0 &&
            strcmp(argv[2], "version") != 0)
            return kw_cli_usage(usage, "unknown command \"%s\"", argv[2]);
        fputs(usage, stdout);
        return KW_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("keepword %s\n", KW_VERSION);
        return KW_EXIT_OK;
    }
    for (size_t i = 0; i < N_CMDS; i++)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].run(argc - 1, argv + 1);
    return kw_cli_usage(usage, "unknown command \"%s\"", cmd);
}
