// SPDX-License-Identifier: MIT
/*
 * cli.h - shared pieces of the keepword command line.
 *
 * Exit codes: 0 success, 1 the input was wrong (one line on stderr says
 * why), 2 the command line itself was wrong (usage on stderr).
 */
#ifndef KW_CLI_H
#define KW_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "kw_err.h"

enum { KW_EXIT_OK = 0, KW_EXIT_INPUT = 1, KW_EXIT_USAGE = 2 };

#define KW_CLI_MAX_FILE (64u << 20) /* bytes read from one input file */

/* Read all of path ("-" is stdin), at most max bytes, NUL-terminated.
 * Caller frees *data. KW_IO / KW_TOO_BIG with a message naming the file. */
enum kw_code kw_cli_read_file(const char *path, size_t max, char **data, size_t *len,
                              struct kw_err *err);
/* Write data to path atomically (temp file + rename), or to stdout for "-". */
enum kw_code kw_cli_write_file(const char *path, const char *data, size_t len, struct kw_err *err);
/* Print "keepword: <what>: <msg>" (what may be NULL) and return KW_EXIT_INPUT. */
int kw_cli_fail(const char *what, const struct kw_err *err);
/* Print "keepword: <msg>\n<usage>" and return KW_EXIT_USAGE. */
int kw_cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv has -h or --help. */
bool kw_cli_wants_help(int argc, char **argv);

/* A subcommand table and its dispatcher: argv[1] names the command, which
 * gets argc-1, argv+1. No command or help prints usage; an unknown one is a
 * usage error naming it ("unknown `what` command"). */
struct kw_cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
};
int kw_cli_dispatch(int argc, char **argv, const char *usage, const char *what,
                    const struct kw_cli_cmd *cmds, size_t n);

int kw_cmd_calendar(int argc, char **argv);
int kw_cmd_policy(int argc, char **argv);
int kw_cmd_sla(int argc, char **argv);
int kw_cmd_migrate(int argc, char **argv);
int kw_cmd_init(int argc, char **argv);
int kw_cmd_serve(int argc, char **argv);
int kw_cmd_verify(int argc, char **argv);
int kw_cmd_backup(int argc, char **argv);
int kw_cmd_restore(int argc, char **argv);
int kw_cmd_copy(int argc, char **argv);
int kw_cmd_oncall(int argc, char **argv);
int kw_cmd_log(int argc, char **argv);
int kw_cmd_receipt(int argc, char **argv);
int kw_cmd_kpi(int argc, char **argv);
int kw_cmd_credits(int argc, char **argv);
int kw_cmd_report(int argc, char **argv);
/* Hidden: the HTTP routes, "METHOD PATH" a line (tests/http/run.sh checks them
 * against docs/openapi.json). */
int kw_cmd_routes(int argc, char **argv);

#endif
