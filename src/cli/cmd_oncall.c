// SPDX-License-Identifier: MIT
/* keepword oncall: who is on call for a team, and the shifts ahead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "cli.h"
#include "rota.h"

static const char usage_oncall[] =
    "usage: keepword oncall who TEAM --db PATH [--level N] [--at INSTANT]\n"
    "       keepword oncall shifts TEAM --db PATH [--level N] [--from INSTANT] [--days N]\n"
    "\n"
    "TEAM is a team's id or name. `who` prints who is on call for the team's rota\n"
    "at level N (default 1, the first line) at the instant (default now): the\n"
    "user's id, name and e-mail, and the layer or override that put them there.\n"
    "`shifts` prints one line per shift over the next N days (default 14): from,\n"
    "to (UTC and the rota's local time), who. Rotas are set through the API\n"
    "(POST /api/v1/oncall; docs/api.md). Exit status 1 when the team or its rota\n"
    "does not exist.\n";

struct team_match {
    const char *want;
    int64_t id;
};

static bool match_team(const struct kw_named_row *r, void *ctx)
{
    struct team_match *m = ctx;
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)r->id);
    if (strcmp(r->name, m->want) == 0 || strcmp(num, m->want) == 0) {
        m->id = r->id;
        return false;
    }
    return true;
}

static void print_person(struct kw_store *st, int64_t user)
{
    struct kw_user_row u;
    if (!user)
        printf("nobody");
    else if (kw_store_user_get(st, user, &u, NULL) == KW_OK)
        printf("%lld %s <%s>", (long long)user, u.name, u.email);
    else
        printf("%lld (no such user)", (long long)user);
}

int kw_cmd_oncall(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_oncall, stdout), KW_EXIT_OK;
    if (argc < 3 || (strcmp(argv[1], "who") != 0 && strcmp(argv[1], "shifts") != 0))
        return kw_cli_usage(usage_oncall, "expected `who TEAM` or `shifts TEAM`");
    bool list = strcmp(argv[1], "shifts") == 0;
    const char *db = NULL, *at_text = NULL;
    long level = 1, days = 14;
    for (int i = 3; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(argv[i], "--db") == 0 && v)
            db = argv[++i];
        else if ((strcmp(argv[i], "--at") == 0 || strcmp(argv[i], "--from") == 0) && v)
            at_text = argv[++i];
        else if (strcmp(argv[i], "--level") == 0 && v && (level = strtol(v, &end, 10)) >= 1 &&
                 level <= 9 && !*end)
            i++;
        else if (strcmp(argv[i], "--days") == 0 && v && (days = strtol(v, &end, 10)) >= 1 &&
                 days <= 62 && !*end)
            i++;
        else
            return kw_cli_usage(usage_oncall, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db)
        return kw_cli_usage(usage_oncall, "--db PATH is required");
    struct kw_err err = {0};
    int64_t at = (int64_t)time(NULL);
    if (at_text && kw_instant_parse(at_text, strlen(at_text), &at, &err) != KW_OK)
        return kw_cli_fail(list ? "--from" : "--at", &err);
    struct kw_store *st = kw_store_open(db, &err);
    if (!st)
        return kw_cli_fail(NULL, &err);
    struct team_match m = {argv[2], 0};
    struct kw_tzdb *tzdb = kw_tzdb_new();
    struct kw_rota *r = malloc(sizeof(*r));
    int rc = KW_EXIT_OK;
    if (!tzdb || !r) {
        kw_err_set(&err, KW_NOMEM, "", "no memory");
        rc = kw_cli_fail(NULL, &err);
    } else if (kw_store_teams(st, 0, match_team, &m, &err) != KW_OK) {
        rc = kw_cli_fail(NULL, &err);
    } else if (!m.id) {
        kw_err_set(&err, KW_NOT_FOUND, "", "no team \"%.60s\"", argv[2]);
        rc = kw_cli_fail(NULL, &err);
    } else if (kw_rota_load(st, tzdb, m.id, (int)level, 0, r, &err) != KW_OK) {
        rc = kw_cli_fail(NULL, &err);
    } else if (!list) {
        const char *source = NULL;
        int64_t user = kw_oncall_who(&r->s, &r->tz, at, &source);
        print_person(st, user);
        printf("%s%s%s\n", source ? " (" : "", source ? source : "", source ? ")" : "");
    } else {
        struct kw_oncall_shift *sh = malloc(512 * sizeof(*sh));
        size_t n = 0;
        if (sh)
            kw_oncall_shifts(&r->s, &r->tz, at, at + days * KW_DAY, sh, 512, &n);
        for (size_t i = 0; i < n; i++) {
            char a[KW_INSTANT_BUF], b[KW_INSTANT_BUF];
            kw_instant_format_local(sh[i].from, kw_oncall_offset(&r->tz, sh[i].from), a);
            kw_instant_format_local(sh[i].to, kw_oncall_offset(&r->tz, sh[i].to), b);
            printf("%s  %s  ", a, b);
            print_person(st, sh[i].user);
            printf("%s%s%s\n", sh[i].source ? " (" : "", sh[i].source ? sh[i].source : "",
                   sh[i].source ? ")" : "");
        }
        free(sh);
    }
    free(r);
    kw_tzdb_free(tzdb);
    kw_store_close(st);
    return rc;
}
