// SPDX-License-Identifier: MIT
/* keepword calendar: check, eval, deadline, elapsed, spans, import-ics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calcache.h"
#include "calendar_json.h"
#include "civil.h"
#include "cli.h"
#include "eval.h"
#include "ics.h"

static const char usage_calendar[] =
    "usage: keepword calendar COMMAND [ARGS]\n"
    "\n"
    "Working-time calendars (docs/calendar.md). Commands:\n"
    "  check FILE.json              validate a calendar and summarise it\n"
    "  deadline CAL.json START DUR  when DUR of working time has passed since START\n"
    "  elapsed CAL.json T1 T2       working time between two instants\n"
    "  spans CAL.json T1 T2         the working intervals between two instants\n"
    "  eval [FILE|-]                answer JSON-line queries (scripts, other tools)\n"
    "  import-ics FEED.ics --as holidays|workdays --into CAL.json\n"
    "                               merge an iCalendar holiday feed into a calendar\n"
    "\n"
    "Instants are ISO 8601 with an offset (2026-02-13T09:30:00+08:00, ...Z) or\n"
    "\"now\"; durations are seconds or like 4h, 30m, 1h30m, 2d (d = 24 working hours).\n"
    "Run `keepword calendar COMMAND --help` for one command.\n";

static const char usage_check[] =
    "usage: keepword calendar check FILE.json\n"
    "\n"
    "Validate a calendar (\"-\" reads stdin) and print a summary: working time per\n"
    "week, holidays, extra workdays, and the first and last dates with working\n"
    "time in the compiled horizon (2000-01-01 to 2100-01-01 UTC).\n"
    "Exit 1 with the error, naming the field, when the calendar is wrong.\n";

static const char usage_deadline[] =
    "usage: keepword calendar deadline CAL.json START DURATION\n"
    "\n"
    "Print the earliest instant at which DURATION of working time has passed since\n"
    "START, in UTC and in the calendar's zone. A deadline that lands at the end of\n"
    "a working interval is that instant. A zero duration gives START when it is\n"
    "working time, else the next start of working time.\n"
    "  keepword calendar deadline office.json 2026-02-13T09:30:00+08:00 4h\n";

static const char usage_elapsed[] =
    "usage: keepword calendar elapsed CAL.json T1 T2\n"
    "\n"
    "Print the working seconds in [T1, T2) (0 when T2 <= T1) and the same as a\n"
    "duration.\n"
    "  keepword calendar elapsed office.json 2026-02-13T09:00:00+08:00 "
    "2026-02-16T09:00:00+08:00\n";

static const char usage_spans[] =
    "usage: keepword calendar spans CAL.json T1 T2\n"
    "\n"
    "List the working intervals inside [T1, T2), one a line, in the calendar's zone:\n"
    "  START END DURATION\n";

static const char usage_eval[] =
    "usage: keepword calendar eval [FILE|-]\n"
    "\n"
    "Read one JSON query a line and write one JSON answer a line, in order:\n"
    "  "
    "{\"id\":\"q1\",\"calendar\":{...},\"op\":\"deadline\",\"start\":\"2026-02-13T09:30:00+08:00\","
    "\"seconds\":14400}\n"
    "  -> {\"id\":\"q1\",\"result\":\"2026-02-14T05:30:00Z\"}\n"
    "  {\"id\":\"q2\",\"calendar\":{...},\"op\":\"elapsed\",\"start\":\"...\",\"end\":\"...\"}\n"
    "  -> {\"id\":\"q2\",\"result\":12345}\n"
    "ops: deadline (start, seconds: a number or a duration like \"4h\"), elapsed\n"
    "(start, end), is_working (start), next_working (start). A bad line is answered\n"
    "with {\"id\":...,\"error\":\"...\",\"field\":\"/json/pointer\"} and the stream goes on.\n"
    "Identical calendars are compiled once. Blank lines are skipped.\n";

static const char usage_import[] =
    "usage: keepword calendar import-ics FEED.ics --as holidays|workdays --into CAL.json\n"
    "                                    [--hours 09:00-18:00[,13:00-17:00]] [--match TEXT]\n"
    "                                    [-o OUT.json]\n"
    "\n"
    "Merge the all-day events of an iCalendar feed into the calendar CAL.json and\n"
    "write the result to stdout, or to OUT.json (which may be CAL.json itself; it is\n"
    "replaced atomically). Multi-day events give every date; yearly RRULEs are\n"
    "expanded to 2100. --as workdays adds extra (make-up) working days with --hours,\n"
    "by default the calendar's Monday hours. --match keeps only events whose SUMMARY\n"
    "carries TEXT as a whole marker: a token between spaces or brackets, so\n"
    "\"国庆节 休\" and \"元旦（休）\" carry 休 but \"国庆节调休\" does not (Chinese feeds\n"
    "mark days off 休 and make-up days 班; docs/calendar.md has the rule). A date\n"
    "that the calendar already has as the other kind is an error.\n";

struct loaded {
    struct kw_tzdb *db;
    struct kw_cal_spec spec;
    struct kw_cal *cal;
};

static void unload(struct loaded *l)
{
    kw_cal_free(l->cal);
    kw_cal_spec_release(&l->spec);
    kw_tzdb_free(l->db);
}

/* Read, check and (when compile) compile a calendar file. Prints the error. */
static int load(const char *path, bool compile, struct loaded *l)
{
    struct kw_err err = {0};
    char *text = NULL;
    size_t len = 0;
    memset(l, 0, sizeof(*l));
    if (kw_cli_read_file(path, KW_CLI_MAX_FILE, &text, &len, &err) != KW_OK)
        return kw_cli_fail(NULL, &err);
    enum kw_code rc = kw_cal_spec_parse(text, len, &l->spec, &err);
    free(text);
    if (rc != KW_OK)
        return kw_cli_fail(path, &err);
    l->db = kw_tzdb_new();
    if (!l->db)
        return kw_cli_fail(path, &(struct kw_err){.msg = "out of memory"});
    if (compile) {
        l->cal = kw_cal_compile(l->db, &l->spec, &err);
        if (!l->cal) {
            unload(l);
            return kw_cli_fail(path, &err);
        }
    } else {
        struct kw_tzinfo tz;
        if (kw_tzdb_get(l->db, l->spec.tz, &tz, &err) != KW_OK) {
            unload(l);
            return kw_cli_fail(path, &err);
        }
    }
    return KW_EXIT_OK;
}

static bool parse_when(const char *s, int64_t *t, struct kw_err *err)
{
    if (strcmp(s, "now") == 0) {
        *t = (int64_t)time(NULL);
        return true;
    }
    return kw_instant_parse(s, strlen(s), t, err) == KW_OK;
}

static void print_instant(const struct kw_cal *cal, int64_t t, const char *suffix)
{
    char utc[KW_INSTANT_BUF], local[KW_INSTANT_BUF];
    kw_instant_format_utc(t, utc);
    kw_instant_format_local(t, kw_cal_utc_offset(cal, t), local);
    printf("%s (%s %s)%s", utc, local, kw_cal_tz(cal), suffix);
}

static int cmd_check(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_check, stdout), KW_EXIT_OK;
    if (argc != 2)
        return kw_cli_usage(usage_check, "calendar check takes one FILE.json");
    struct loaded l;
    int rc = load(argv[1], true, &l);
    if (rc != KW_EXIT_OK)
        return rc;
    static const char *const names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    char dur[32], a[11], b[11];
    int64_t first, last, from, until;
    kw_duration_format(kw_cal_spec_week_seconds(&l.spec), dur);
    printf("calendar \"%s\" (%s) is valid\n", l.spec.name, l.spec.tz);
    printf("  working time per week: %s (", dur);
    for (int d = 0; d < 7; d++) {
        int64_t s = 0;
        for (uint32_t i = 0; i < l.spec.week[d].n; i++)
            s += l.spec.week[d].shift[i].end - l.spec.week[d].shift[i].start;
        kw_duration_format(s, dur);
        printf("%s%s %s", d ? ", " : "", names[d], s ? dur : "-");
    }
    printf(")\n  holidays: %zu, extra workdays: %zu\n", l.spec.n_holidays, l.spec.n_extra);
    kw_cal_covered_days(l.cal, &first, &last);
    kw_cal_horizon(l.cal, &from, &until);
    kw_date_format(first, a);
    kw_date_format(last, b);
    printf("  working time from %s to %s (%zu spans, %zu KiB compiled)\n", a, b,
           kw_cal_span_count(l.cal), (kw_cal_memory_bytes(l.cal) + 1023) / 1024);
    unload(&l);
    return KW_EXIT_OK;
}

static int cmd_deadline(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_deadline, stdout), KW_EXIT_OK;
    if (argc != 4)
        return kw_cli_usage(usage_deadline, "calendar deadline takes CAL.json START DURATION");
    struct kw_err err = {0};
    int64_t start, secs, at;
    if (!parse_when(argv[2], &start, &err))
        return kw_cli_fail("START", &err);
    if (kw_duration_parse(argv[3], strlen(argv[3]), &secs, &err) != KW_OK)
        return kw_cli_fail("DURATION", &err);
    struct loaded l;
    int rc = load(argv[1], true, &l);
    if (rc != KW_EXIT_OK)
        return rc;
    if (kw_cal_deadline(l.cal, start, secs, &at, &err) != KW_OK)
        rc = kw_cli_fail(NULL, &err);
    else
        print_instant(l.cal, at, "\n");
    unload(&l);
    return rc;
}

/* Shared by elapsed and spans: CAL T1 T2. */
static int load_range(int argc, char **argv, const char *usage, struct loaded *l, int64_t *t1,
                      int64_t *t2)
{
    struct kw_err err = {0};
    memset(l, 0, sizeof(*l));
    if (argc != 4)
        return kw_cli_usage(usage, "calendar %s takes CAL.json T1 T2", argv[0]);
    if (!parse_when(argv[2], t1, &err))
        return kw_cli_fail("T1", &err);
    if (!parse_when(argv[3], t2, &err))
        return kw_cli_fail("T2", &err);
    return load(argv[1], true, l);
}

static int cmd_elapsed(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_elapsed, stdout), KW_EXIT_OK;
    struct loaded l;
    struct kw_err err = {0};
    int64_t t1, t2, secs;
    int rc = load_range(argc, argv, usage_elapsed, &l, &t1, &t2);
    if (rc != KW_EXIT_OK)
        return rc;
    if (kw_cal_elapsed(l.cal, t1, t2, &secs, &err) != KW_OK) {
        rc = kw_cli_fail(NULL, &err);
    } else {
        char dur[32];
        kw_duration_format(secs, dur);
        printf("%lld (%s)\n", (long long)secs, dur);
    }
    unload(&l);
    return rc;
}

static int cmd_spans(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_spans, stdout), KW_EXIT_OK;
    struct loaded l;
    int64_t t1, t2, from, until;
    int rc = load_range(argc, argv, usage_spans, &l, &t1, &t2);
    if (rc != KW_EXIT_OK)
        return rc;
    kw_cal_horizon(l.cal, &from, &until);
    if (t1 < from)
        t1 = from;
    if (t2 > until)
        t2 = until;
    size_t n = kw_cal_spans(l.cal, t1, t2, NULL, 0);
    struct kw_span *s = n ? malloc(n * sizeof(*s)) : NULL;
    if (n && !s) {
        unload(&l);
        return kw_cli_fail(NULL, &(struct kw_err){.msg = "out of memory"});
    }
    kw_cal_spans(l.cal, t1, t2, s, n);
    for (size_t i = 0; i < n; i++) {
        char a[KW_INSTANT_BUF], b[KW_INSTANT_BUF], dur[32];
        kw_instant_format_local(s[i].start, kw_cal_utc_offset(l.cal, s[i].start), a);
        kw_instant_format_local(s[i].end, kw_cal_utc_offset(l.cal, s[i].end - 1), b);
        kw_duration_format(s[i].end - s[i].start, dur);
        printf("%s %s %s\n", a, b, dur);
    }
    free(s);
    unload(&l);
    return KW_EXIT_OK;
}

static int cmd_eval(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_eval, stdout), KW_EXIT_OK;
    if (argc > 2)
        return kw_cli_usage(usage_eval, "calendar eval takes at most one FILE");
    const char *path = argc == 2 ? argv[1] : "-";
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        struct kw_err err;
        kw_err_set(&err, KW_IO, NULL, "cannot open it");
        return kw_cli_fail(path, &err);
    }
    struct kw_tzdb *db = kw_tzdb_new();
    struct kw_cal_cache *cache = db ? kw_cal_cache_new(db, 64) : NULL;
    struct kw_eval_stats st = {0};
    int rc = KW_EXIT_OK;
    if (!cache || kw_eval_stream(cache, in, stdout, &st) != 0) {
        perror("keepword: calendar eval");
        rc = KW_EXIT_INPUT;
    }
    kw_cal_cache_free(cache);
    kw_tzdb_free(db);
    if (in != stdin)
        fclose(in);
    return rc;
}

/* "09:00-18:00,13:00-17:00" into a day's shifts, as the JSON form would give. */
static bool parse_hours(const char *s, struct kw_cal_day *day, struct kw_err *err)
{
    char json[1024];
    size_t n = 0;
    n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"tz\":\"UTC\",\"week\":{\"mon\":[");
    for (const char *p = s; *p;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *dash = memchr(p, '-', (size_t)(end - p));
        if (!dash || n + (size_t)(end - p) + 16 > sizeof(json)) {
            kw_err_set(err, KW_INVALID, NULL,
                       "\"%s\" is not a list of hours (expected like 09:00-18:00,13:00-17:00)", s);
            return false;
        }
        n +=
            (size_t)snprintf(json + n, sizeof(json) - n, "%s[\"%.*s\",\"%.*s\"]", p == s ? "" : ",",
                             (int)(dash - p), p, (int)(end - dash - 1), dash + 1);
        p = comma ? comma + 1 : end;
    }
    n += (size_t)snprintf(json + n, sizeof(json) - n, "]}}");
    struct kw_cal_spec spec;
    if (kw_cal_spec_parse(json, n, &spec, err) != KW_OK)
        return false;
    *day = spec.week[0];
    kw_cal_spec_release(&spec);
    return true;
}

static int cmd_import_ics(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_import, stdout), KW_EXIT_OK;
    const char *feed = NULL, *as = NULL, *into = NULL, *hours = NULL, *match = NULL, *out = "-";
    for (int i = 1; i < argc; i++) {
        const char **opt = NULL;
        if (strcmp(argv[i], "--as") == 0)
            opt = &as;
        else if (strcmp(argv[i], "--into") == 0)
            opt = &into;
        else if (strcmp(argv[i], "--hours") == 0)
            opt = &hours;
        else if (strcmp(argv[i], "--match") == 0)
            opt = &match;
        else if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0)
            opt = &out;
        else if (argv[i][0] == '-' && argv[i][1])
            return kw_cli_usage(usage_import, "unknown option %s", argv[i]);
        else if (!feed)
            feed = argv[i];
        else
            return kw_cli_usage(usage_import, "import-ics takes one FEED.ics");
        if (opt) {
            if (++i == argc)
                return kw_cli_usage(usage_import, "%s needs a value", argv[i - 1]);
            *opt = argv[i];
        }
    }
    if (!feed || !as || !into)
        return kw_cli_usage(usage_import, "import-ics needs FEED.ics, --as and --into");
    bool holidays = strcmp(as, "holidays") == 0;
    if (!holidays && strcmp(as, "workdays") != 0)
        return kw_cli_usage(usage_import, "--as takes holidays or workdays, not \"%s\"", as);

    struct kw_err err = {0};
    struct loaded l;
    struct kw_cal_day day = {0};
    struct kw_ics_stats st;
    char *text = NULL, *json = NULL;
    size_t len = 0;
    int rc = load(into, false, &l);
    if (rc != KW_EXIT_OK)
        return rc;
    if (match && kw_ics_marker_check(match, &err) != KW_OK) {
        rc = kw_cli_fail("--match", &err);
        goto out;
    }
    if (!holidays) {
        if (hours && !parse_hours(hours, &day, &err)) {
            rc = kw_cli_fail("--hours", &err);
            goto out;
        }
        if (!hours)
            day = l.spec.week[0];
        if (day.n == 0) {
            kw_err_set(&err, KW_INVALID, NULL,
                       "the calendar has no Monday hours to copy: give --hours 09:00-18:00");
            rc = kw_cli_fail(NULL, &err);
            goto out;
        }
    }
    if (kw_cli_read_file(feed, KW_CLI_MAX_FILE, &text, &len, &err) != KW_OK) {
        rc = kw_cli_fail(NULL, &err);
        goto out;
    }
    if (kw_ics_merge(&l.spec, text, len, holidays, &day, match, &st, &err) != KW_OK) {
        rc = kw_cli_fail(feed, &err);
        goto out;
    }
    json_t *obj = kw_cal_spec_to_json(&l.spec);
    json = obj ? json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (!json) {
        rc = kw_cli_fail(NULL, &(struct kw_err){.msg = "out of memory"});
        goto out;
    }
    size_t jlen = strlen(json);
    json[jlen++] = '\n'; /* replaces the NUL: written by length */
    if (kw_cli_write_file(out, json, jlen, &err) != KW_OK) {
        rc = kw_cli_fail(NULL, &err);
        goto out;
    }
    fprintf(stderr,
            "keepword: %zu %s added from %zu events (%zu already there, %zu events "
            "skipped)\n",
            st.added, holidays ? "holidays" : "extra workdays", st.events, st.present, st.skipped);
out:
    free(json);
    free(text);
    unload(&l);
    return rc;
}

int kw_cmd_calendar(int argc, char **argv)
{
    static const struct kw_cli_cmd cmds[] = {
        {"check", cmd_check}, {"deadline", cmd_deadline}, {"elapsed", cmd_elapsed},
        {"spans", cmd_spans}, {"eval", cmd_eval},         {"import-ics", cmd_import_ics},
    };
    return kw_cli_dispatch(argc, argv, usage_calendar, "calendar", cmds,
                           sizeof(cmds) / sizeof(cmds[0]));
}
