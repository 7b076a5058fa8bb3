// SPDX-License-Identifier: MIT
/* keepword report weekly|monthly: the service report of one ISO week or
 * month (docs/kpi.md "The service report") as HTML, PDF, CSV or XLSX. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "cli.h"
#include "clocks.h"
#include "render.h"
#include "reports.h"
#include "store.h"
#include "tz.h"

static const char usage[] =
    "usage: keepword report weekly|monthly --db PATH --period PERIOD [--format FORMAT]\n"
    "                       [--lang zh|en] [--tz ZONE] [--org ID] [--at INSTANT] -o FILE\n"
    "\n"
    "Writes the weekly or monthly service report (docs/kpi.md \"The service\n"
    "report\"): headline figures against the previous period, on-time rate by\n"
    "level and metric, breaches with reasons, TOP5 lists, satisfaction and NPS,\n"
    "backlog and aging, per-team and per-agent tables and the service quality\n"
    "radar per agent.\n"
    "\n"
    "  --period PERIOD  an ISO week for weekly (2026-W10), a month for monthly\n"
    "                   (2026-03), local to --tz\n"
    "  --format FORMAT  html (the default), pdf, csv or xlsx\n"
    "  --lang zh|en     the report's language (default en)\n"
    "  --tz ZONE        the IANA time zone the period is in (default UTC)\n"
    "  --org ID         only organisation ID's tickets, without the team and\n"
    "                   agent tables and the radar (what its customers see)\n"
    "  --at INSTANT     the figures as of INSTANT (ISO 8601; default now): a\n"
    "                   period not over by then ends there\n"
    "  -o FILE          where to write it (- for standard output)\n";

static int write_file(const char *path, const struct kw_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (!f) {
        struct kw_err err = {.code = KW_IO};
        snprintf(err.msg, sizeof(err.msg), "cannot write %s", path);
        return kw_cli_fail("-o", &err);
    }
    bool ok = fwrite(b->p, 1, b->len, f) == b->len;
    ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
    if (!ok) {
        struct kw_err err = {.code = KW_IO};
        snprintf(err.msg, sizeof(err.msg), "cannot write %s", path);
        return kw_cli_fail("-o", &err);
    }
    return KW_EXIT_OK;
}

static int run(enum kw_report_kind kind, int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage, stdout), KW_EXIT_OK;
    const char *db = NULL, *period = NULL, *fmt = "html", *lang = "en", *tz = "UTC", *org = NULL,
               *at = NULL, *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char **opt = strcmp(argv[i], "--db") == 0       ? &db
                           : strcmp(argv[i], "--period") == 0 ? &period
                           : strcmp(argv[i], "--format") == 0 ? &fmt
                           : strcmp(argv[i], "--lang") == 0   ? &lang
                           : strcmp(argv[i], "--tz") == 0     ? &tz
                           : strcmp(argv[i], "--org") == 0    ? &org
                           : strcmp(argv[i], "--at") == 0     ? &at
                           : strcmp(argv[i], "-o") == 0       ? &file
                           : strcmp(argv[i], "--output") == 0 ? &file
                                                              : NULL;
        if (!opt)
            return kw_cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
        if (i + 1 >= argc)
            return kw_cli_usage(usage, "%s needs a value", argv[i]);
        *opt = argv[++i];
    }
    if (!db)
        return kw_cli_usage(usage, "--db PATH is required");
    if (!period)
        return kw_cli_usage(usage, "--period is required (%s)",
                            kind == KW_REPORT_WEEKLY ? "an ISO week, e.g. 2026-W10"
                                                     : "a month, e.g. 2026-03");
    if (!file)
        return kw_cli_usage(usage, "-o FILE is required (- for standard output)");
    enum kw_report_fmt f;
    if (!kw_report_fmt_parse(fmt, &f))
        return kw_cli_usage(usage, "--format: \"%s\" is not html, pdf, csv or xlsx", fmt);
    if (strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kw_cli_usage(usage, "--lang: \"%s\" is not zh or en", lang);
    int64_t org_id = 0;
    if (org) {
        char *end;
        long long v = strtoll(org, &end, 10);
        if (*org == '\0' || *end != '\0' || v <= 0)
            return kw_cli_usage(usage, "--org: \"%s\" is not an organisation id", org);
        org_id = v;
    }
    struct kw_err err = {0};
    int64_t now = (int64_t)time(NULL);
    if (at && kw_instant_parse(at, strlen(at), &now, &err) != KW_OK)
        return kw_cli_fail("--at", &err);
    struct kw_tzdb *tzdb = kw_tzdb_new();
    struct kw_tzinfo tzi;
    if (!tzdb || kw_tzdb_get(tzdb, tz, &tzi, &err) != KW_OK) {
        kw_tzdb_free(tzdb);
        if (!err.msg[0])
            snprintf(err.msg, sizeof(err.msg), "out of memory");
        return kw_cli_fail("--tz", &err);
    }
    struct kw_report_period p;
    if (kw_report_period_parse(kind, period, &tzi, tz, &p, &err) != KW_OK) {
        kw_tzdb_free(tzdb);
        return kw_cli_fail("--period", &err);
    }
    int rc = KW_EXIT_OK;
    struct kw_store *st = kw_store_open(db, &err);
    if (!st) {
        kw_tzdb_free(tzdb);
        return kw_cli_fail(NULL, &err);
    }
    struct kw_org o;
    if (org_id && kw_store_org_get(st, org_id, &o, &err) != KW_OK) {
        rc = kw_cli_fail("--org", &err);
        kw_store_close(st);
        kw_tzdb_free(tzdb);
        return rc;
    }
    struct kw_clocks *c = kw_clocks_new(&err);
    struct kw_sla sla;
    kw_sla_init(&sla);
    struct kw_report_doc d;
    struct kw_buf out = {.max = 256u << 20};
    if (!c || kw_report_doc_make(c, st, db, &sla, &p, org_id, org_id == 0, now, &d, &err) != KW_OK)
        rc = kw_cli_fail(kind == KW_REPORT_WEEKLY ? "report weekly" : "report monthly", &err);
    else if (kw_report_render(&d, f, strcmp(lang, "zh") == 0, &out, &err) != KW_OK)
        rc = kw_cli_fail(fmt, &err);
    else
        rc = write_file(file, &out);
    if (c)
        kw_report_doc_release(&d);
    kw_buf_release(&out);
    kw_sla_release(&sla);
    kw_clocks_free(c);
    kw_store_close(st);
    kw_tzdb_free(tzdb);
    return rc;
}

static int weekly(int argc, char **argv)
{
    return run(KW_REPORT_WEEKLY, argc, argv);
}

static int monthly(int argc, char **argv)
{
    return run(KW_REPORT_MONTHLY, argc, argv);
}

static const char report_usage[] =
    "usage: keepword report weekly|monthly --db PATH --period PERIOD [--format FORMAT] -o FILE\n"
    "\n"
    "  weekly    the service report of an ISO week (2026-W10)\n"
    "  monthly   the service report of a month (2026-03)\n";

int kw_cmd_report(int argc, char **argv)
{
    static const struct kw_cli_cmd cmds[] = {{"weekly", weekly}, {"monthly", monthly}};
    return kw_cli_dispatch(argc, argv, report_usage, "report", cmds, 2);
}
