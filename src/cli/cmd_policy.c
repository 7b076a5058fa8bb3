// SPDX-License-Identifier: MIT
/* keepword policy (check, explain, letter) and keepword sla (replay). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calcache.h"
#include "civil.h"
#include "cli.h"
#include "kw_buf.h"
#include "letter.h"
#include "policy.h"
#include "sla.h"
#include "sla_json.h"

static const char usage_policy[] =
    "usage: keepword policy COMMAND FILE.json [OPTIONS]\n"
    "\n"
    "Commitments (服务响应时限承诺书) as policies (docs/policy.md). Commands:\n"
    "  check FILE.json                     validate; print levels x tiers x regions -> targets\n"
    "  explain FILE.json --ticket JSON     which rule sets each metric, and why earlier ones do "
    "not\n"
    "  letter FILE.json [--lang zh|en] [--format md|html]\n"
    "                                      render the commitment letter from the policy\n"
    "Run `keepword policy COMMAND --help` for one command.\n";

static const char usage_check[] =
    "usage: keepword policy check FILE.json\n"
    "\n"
    "Validate a policy (\"-\" reads stdin), compile its calendars, and print its\n"
    "metrics and a table of targets: one row per level, tier and region named in\n"
    "the rules (\"*\" for any other), one column per metric (target and calendar,\n"
    "\"-\" where the metric does not apply). Exit 1 naming the field when invalid.\n";

static const char usage_explain[] =
    "usage: keepword policy explain FILE.json --ticket JSON\n"
    "\n"
    "For a ticket's attributes, e.g.\n"
    "  --ticket "
    "'{\"level\":\"L3\",\"tier\":\"vip\",\"category\":\"technical\",\"region\":\"domestic\"}'\n"
    "print for each metric the rule that sets its target and calendar, and why each\n"
    "earlier rule does not. Keys: level, tier, category, region, channel, organisation.\n";

static const char usage_letter[] =
    "usage: keepword policy letter FILE.json [--lang zh|en] [--format md|html]\n"
    "\n"
    "Render the commitment letter (承诺书) from the policy: provider and scope,\n"
    "levels, targets per tier and region, working hours and holidays, what pauses\n"
    "and stops each clock, version and effective date. Defaults: --lang zh,\n"
    "--format md. The letter and the enforcement come from the same file.\n";

static const char usage_sla[] =
    "usage: keepword sla replay --policy FILE.json [--at INSTANT] [EVENTS.jsonl|-]\n"
    "\n"
    "Read a ticket's events as JSON lines and print its SLA clocks as of --at\n"
    "(default: the last event). Events:\n"
    "  "
    "{\"at\":\"2026-03-02T09:00:00+08:00\",\"type\":\"created\",\"level\":\"L1\",\"tier\":\"vip\"}"
    "\n"
    "  {\"at\":...,\"type\":\"milestone\",\"milestone\":\"first_response\"}\n"
    "  {\"at\":...,\"type\":\"state\",\"state\":\"waiting_customer\"}\n"
    "  {\"at\":...,\"type\":\"level\",\"level\":\"L2\"}   {\"at\":...,\"type\":\"reopened\"}\n"
    "One ticket prints one JSON document with a \"clocks\" array; a stream of\n"
    "several (each starting with created, optionally with a \"ticket\" id) prints\n"
    "one JSON line per ticket. Instants are UTC (Z), durations seconds.\n";

struct loaded {
    struct kw_tzdb *db;
    struct kw_policy *p;
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
};

static void unload(struct loaded *l)
{
    for (size_t i = 0; l->p && i < kw_policy_calendar_count(l->p); i++)
        kw_cal_free(l->cals[i]);
    kw_policy_free(l->p);
    kw_tzdb_free(l->db);
    memset(l, 0, sizeof(*l));
}

static int load(const char *path, struct loaded *l)
{
    struct kw_err err = {0};
    char *text = NULL;
    size_t len = 0;
    memset(l, 0, sizeof(*l));
    if (kw_cli_read_file(path, KW_CLI_MAX_FILE, &text, &len, &err) != KW_OK)
        return kw_cli_fail(NULL, &err);
    l->p = kw_policy_parse(text, len, &err);
    free(text);
    if (!l->p)
        return kw_cli_fail(path, &err);
    l->db = kw_tzdb_new();
    if (!l->db || kw_policy_compile(l->db, l->p, l->cals, &err) != KW_OK) {
        kw_policy_free(l->p);
        kw_tzdb_free(l->db);
        memset(l, 0, sizeof(*l));
        return kw_cli_fail(path, err.msg[0] ? &err : &(struct kw_err){.msg = "out of memory"});
    }
    return KW_EXIT_OK;
}

/* Values of attribute a named by any rule, plus NULL for "any other". */
static size_t mentioned(const struct kw_policy *p, enum kw_attr a, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t r = 0; r < kw_policy_rule_count(p); r++) {
        const char *const *v;
        size_t k = kw_policy_rule_values(p, r, a, &v);
        for (size_t i = 0; i < k; i++) {
            size_t j = 0;
            while (j < n && strcmp(out[j], v[i]) != 0)
                j++;
            if (j == n && n + 1 < cap)
                out[n++] = v[i];
        }
    }
    out[n++] = NULL;
    return n;
}

static int cmd_check(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_check, stdout), KW_EXIT_OK;
    if (argc != 2)
        return kw_cli_usage(usage_check, "policy check takes one FILE.json");
    struct loaded l;
    int rc = load(argv[1], &l);
    if (rc != KW_EXIT_OK)
        return rc;
    const struct kw_policy *p = l.p;
    char dur[32];
    printf("policy \"%s\" version %s, effective from %s: valid\n", kw_policy_name(p),
           kw_policy_version(p), kw_policy_effective_from_text(p));
    printf("on a level change: %s running clocks; on reopening: %s stopped clocks\n",
           kw_policy_on_level_change(p) == KW_CHANGE_RECOMPUTE ? "recompute" : "keep",
           kw_policy_on_reopen(p) == KW_REOPEN_RESUME ? "resume" : "restart");
    printf("calendars:\n");
    for (size_t i = 0; i < kw_policy_calendar_count(p); i++) {
        const struct kw_cal_spec *s = kw_policy_calendar_spec(p, i);
        kw_duration_format(kw_cal_spec_week_seconds(s), dur);
        printf("  %-10s %s, %s a week, %zu holidays, %zu extra workdays\n",
               kw_policy_calendar_name(p, i), s->tz, dur, s->n_holidays, s->n_extra);
    }
    printf("metrics:\n");
    for (size_t m = 0; m < kw_policy_metric_count(p); m++) {
        const char *const *stops, *const *pauses;
        const uint8_t *pct;
        size_t ns = kw_policy_metric_stops(p, m, &stops);
        size_t np = kw_policy_metric_pauses(p, m, &pauses);
        size_t nw = kw_policy_metric_warn(p, m, &pct);
        printf("  %-12s from %s until ", kw_policy_metric_id(p, m), kw_policy_metric_start(p, m));
        for (size_t i = 0; i < ns; i++)
            printf("%s%s", i ? " or " : "", stops[i]);
        if (np) {
            printf("; paused while ");
            for (size_t i = 0; i < np; i++)
                printf("%s%s", i ? " or " : "", pauses[i]);
        }
        if (nw) {
            printf("; warns at ");
            for (size_t i = 0; i < nw; i++)
                printf("%s%u%%", i ? ", " : "", pct[i]);
        }
        printf("\n");
    }
    const char *tiers[64], *regions[64];
    size_t nt = mentioned(p, KW_ATTR_TIER, tiers, 64),
           nr = mentioned(p, KW_ATTR_REGION, regions, 64);
    printf("targets:\n  %-10s %-12s %-14s |", "level", "tier", "region");
    for (size_t m = 0; m < kw_policy_metric_count(p); m++)
        printf(" %-18s", kw_policy_metric_id(p, m));
    printf("\n");
    for (size_t lv = 0; lv < kw_policy_level_count(p); lv++) {
        for (size_t t = 0; t < nt; t++) {
            for (size_t r = 0; r < nr; r++) {
                struct kw_ticket_attrs a = {{0}};
                a.v[KW_ATTR_LEVEL] = kw_policy_level_id(p, lv);
                a.v[KW_ATTR_TIER] = tiers[t];
                a.v[KW_ATTR_REGION] = regions[r];
                printf("  %-10s %-12s %-14s |", kw_policy_level_id(p, lv),
                       tiers[t] ? tiers[t] : "*", regions[r] ? regions[r] : "*");
                for (size_t m = 0; m < kw_policy_metric_count(p); m++) {
                    struct kw_target tg = kw_policy_resolve(p, m, &a);
                    char cell[64] = "-";
                    if (tg.applies) {
                        kw_duration_format(tg.target, dur);
                        snprintf(cell, sizeof(cell), "%s %s", dur,
                                 kw_policy_calendar_name(p, (size_t)tg.calendar));
                    }
                    printf(" %-18s", cell);
                }
                printf("\n");
            }
        }
    }
    size_t other = 0;
    for (size_t r = 0; r < kw_policy_rule_count(p); r++) {
        const char *const *v;
        if (kw_policy_rule_values(p, r, KW_ATTR_CATEGORY, &v) ||
            kw_policy_rule_values(p, r, KW_ATTR_CHANNEL, &v) ||
            kw_policy_rule_values(p, r, KW_ATTR_ORGANISATION, &v))
            other++;
    }
    if (other)
        printf("(%zu rules also test category, channel or organisation; see `keepword policy "
               "explain`)\n",
               other);
    unload(&l);
    return KW_EXIT_OK;
}

static int cmd_explain(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_explain, stdout), KW_EXIT_OK;
    if (argc != 4 || strcmp(argv[2], "--ticket") != 0)
        return kw_cli_usage(usage_explain, "policy explain takes FILE.json --ticket JSON");
    struct kw_err err = {0};
    json_error_t jerr;
    json_t *t = json_loads(argv[3], JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(t)) {
        json_decref(t);
        kw_err_set(&err, KW_INVALID, NULL, "expected a JSON object like {\"level\":\"L3\"}%s%s",
                   t ? "" : ": ", t ? "" : jerr.text);
        return kw_cli_fail("--ticket", &err);
    }
    struct loaded l;
    int rc = load(argv[1], &l);
    if (rc != KW_EXIT_OK) {
        json_decref(t);
        return rc;
    }
    struct kw_ticket_attrs a = {{0}};
    const char *key;
    json_t *val;
    json_object_foreach(t, key, val)
    {
        int i = 0;
        while (i < KW_ATTR_COUNT && strcmp(kw_attr_name((enum kw_attr)i), key) != 0)
            i++;
        if (i == KW_ATTR_COUNT || !json_is_string(val)) {
            kw_err_set(&err, KW_INVALID, NULL,
                       "%s: expected a string under level, tier, category, region, channel or "
                       "organisation",
                       key);
            rc = kw_cli_fail("--ticket", &err);
            goto out;
        }
        if (!kw_policy_attr_known(l.p, (enum kw_attr)i, json_string_value(val))) {
            kw_err_set(&err, KW_INVALID, NULL, "unknown %s \"%s\"", key, json_string_value(val));
            rc = kw_cli_fail("--ticket", &err);
            goto out;
        }
        a.v[i] = json_string_value(val);
    }
    for (size_t m = 0; m < kw_policy_metric_count(l.p); m++) {
        struct kw_target tg = kw_policy_resolve(l.p, m, &a);
        char dur[32], why[256];
        if (tg.applies) {
            const char *id = kw_policy_rule_id(l.p, (size_t)tg.rule);
            kw_duration_format(tg.target, dur);
            printf("%s: %s on %s, from rule %d%s%s%s\n", kw_policy_metric_id(l.p, m), dur,
                   kw_policy_calendar_name(l.p, (size_t)tg.calendar), tg.rule, id ? " (" : "",
                   id ? id : "", id ? ")" : "");
        } else {
            printf("%s: does not apply (no rule sets it for this ticket)\n",
                   kw_policy_metric_id(l.p, m));
        }
        size_t upto = tg.applies ? (size_t)tg.rule : kw_policy_rule_count(l.p);
        for (size_t r = 0; r < upto; r++) {
            const char *id = kw_policy_rule_id(l.p, r);
            kw_policy_rule_explain(l.p, r, m, &a, why, sizeof(why));
            printf("  rule %zu%s%s%s: %s\n", r, id ? " (" : "", id ? id : "", id ? ")" : "", why);
        }
    }
out:
    json_decref(t);
    unload(&l);
    return rc;
}

static int cmd_letter(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_letter, stdout), KW_EXIT_OK;
    const char *file = NULL, *lang = "zh", *format = "md";
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--lang") == 0 || strcmp(argv[i], "--format") == 0) && i + 1 < argc) {
            *(strcmp(argv[i], "--lang") == 0 ? &lang : &format) = argv[i + 1];
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return kw_cli_usage(usage_letter, "unknown option %s", argv[i]);
        } else if (!file) {
            file = argv[i];
        } else {
            return kw_cli_usage(usage_letter, "policy letter takes one FILE.json");
        }
    }
    if (!file)
        return kw_cli_usage(usage_letter, "policy letter takes one FILE.json");
    if (strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kw_cli_usage(usage_letter, "--lang takes zh or en, not \"%s\"", lang);
    bool html = strcmp(format, "html") == 0;
    if (!html && strcmp(format, "md") != 0)
        return kw_cli_usage(usage_letter, "--format takes md or html, not \"%s\"", format);
    struct loaded l;
    int rc = load(file, &l);
    if (rc != KW_EXIT_OK)
        return rc;
    struct kw_buf out = {0};
    kw_letter_render(l.p, lang, html, &out);
    if (out.failed || fwrite(out.p, 1, out.len, stdout) != out.len) {
        rc = kw_cli_fail(NULL, &(struct kw_err){.msg = "cannot write the letter"});
    }
    kw_buf_release(&out);
    unload(&l);
    return rc;
}

/* ---- sla replay ---- */

struct ticket {
    size_t n, cap;
    struct kw_event *ev;
    json_t **docs; /* keep the strings alive */
    const char *id;
    size_t first_line;
    bool bad;
};

static void ticket_reset(struct ticket *t)
{
    for (size_t i = 0; i < t->n; i++)
        json_decref(t->docs[i]);
    t->n = 0;
    t->id = NULL;
    t->bad = false;
}

static bool ticket_add(struct ticket *t, const struct kw_event *e, json_t *doc)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        struct kw_event *ev = realloc(t->ev, cap * sizeof(*ev));
        if (!ev)
            return false;
        t->ev = ev;
        json_t **docs = realloc(t->docs, cap * sizeof(*docs));
        if (!docs)
            return false;
        t->docs = docs;
        t->cap = cap;
    }
    t->ev[t->n] = *e;
    t->docs[t->n++] = doc;
    return true;
}

/* The clocks of one ticket as a JSON object, or {"ticket":..,"error":..}
 * (also told on stderr). *ok says which. */
static json_t *replay_one(const struct loaded *l, const struct ticket *t, bool has_at, int64_t at,
                          struct kw_sla *sla, bool *ok)
{
    struct kw_err err = {0};
    int64_t as_of = has_at ? at : t->ev[t->n - 1].at;
    char when[KW_INSTANT_BUF];
    kw_instant_format_utc(as_of, when);
    json_t *id = t->id ? json_string(t->id) : json_null();
    *ok = kw_sla_eval(l->p, (const struct kw_cal *const *)l->cals, t->ev, t->n, as_of, sla, &err) ==
          KW_OK;
    if (*ok)
        return json_pack("{s:o, s:s, s:s, s:s, s:o}", "ticket", id, "policy", kw_policy_name(l->p),
                         "version", kw_policy_version(l->p), "as_of", when, "clocks",
                         kw_sla_to_json(l->p, sla));
    fprintf(stderr, "keepword: ticket from line %zu: %s\n", t->first_line, err.msg);
    return json_pack("{s:o, s:s}", "ticket", id, "error", err.msg);
}

static int cmd_replay(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_sla, stdout), KW_EXIT_OK;
    const char *policy = NULL, *at_text = NULL, *file = "-";
    bool has_file = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            policy = argv[++i];
        } else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            at_text = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return kw_cli_usage(usage_sla, "unknown option %s", argv[i]);
        } else if (!has_file) {
            file = argv[i];
            has_file = true;
        } else {
            return kw_cli_usage(usage_sla, "sla replay takes one EVENTS.jsonl");
        }
    }
    if (!policy)
        return kw_cli_usage(usage_sla, "sla replay needs --policy FILE.json");
    struct kw_err err = {0};
    int64_t at = 0;
    if (at_text && kw_instant_parse(at_text, strlen(at_text), &at, &err) != KW_OK)
        return kw_cli_fail("--at", &err);
    char *text = NULL;
    size_t len = 0;
    if (kw_cli_read_file(file, KW_CLI_MAX_FILE, &text, &len, &err) != KW_OK)
        return kw_cli_fail(NULL, &err);
    struct loaded l;
    int rc = load(policy, &l);
    if (rc != KW_EXIT_OK) {
        free(text);
        return rc;
    }
    struct ticket t = {0};
    struct kw_sla sla;
    kw_sla_init(&sla);
    json_t *results = json_array();
    size_t lineno = 0;
    bool ok = true, one;
    for (char *line = text, *next; line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        lineno++;
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (strspn(line, " \t") >= n)
            continue;
        json_error_t jerr;
        json_t *doc = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
        struct kw_event e;
        const char *id = NULL;
        if (!doc)
            kw_err_set(&err, KW_INVALID, NULL, "not valid JSON: %s", jerr.text);
        if (!doc || kw_event_from_json(doc, &e, &id, &err) != KW_OK) {
            json_decref(doc);
            fprintf(stderr, "keepword: %s: line %zu: %s\n", file, lineno, err.msg);
            rc = KW_EXIT_INPUT;
            break; /* a stream with a broken line is not replayed in part */
        }
        if (e.type == KW_EV_CREATED && t.n) {
            json_array_append_new(results, replay_one(&l, &t, at_text != NULL, at, &sla, &one));
            ok = ok && one;
            ticket_reset(&t);
        }
        if (t.n == 0) {
            t.first_line = lineno;
            t.id = id;
        }
        if (!ticket_add(&t, &e, doc)) {
            json_decref(doc);
            rc = kw_cli_fail(NULL, &(struct kw_err){.msg = "out of memory"});
            break;
        }
    }
    if (rc == KW_EXIT_OK && t.n) {
        json_array_append_new(results, replay_one(&l, &t, at_text != NULL, at, &sla, &one));
        ok = ok && one;
    }
    if (rc == KW_EXIT_OK && json_array_size(results) == 0) {
        kw_err_set(&err, KW_INVALID, NULL, "no events (a ticket starts with created)");
        rc = kw_cli_fail(file, &err);
    }
    /* One ticket: one document. Several: one line each. */
    size_t i;
    json_t *r;
    bool many = json_array_size(results) > 1;
    json_array_foreach(results, i, r)
    {
        if (rc != KW_EXIT_OK || (!many && json_object_get(r, "error")))
            break;
        char *s = json_dumps(r, (many ? JSON_COMPACT : JSON_INDENT(2)) | JSON_REAL_PRECISION(10));
        if (s)
            printf("%s\n", s);
        free(s);
    }
    if (rc == KW_EXIT_OK && !ok)
        rc = KW_EXIT_INPUT;
    json_decref(results);
    ticket_reset(&t);
    free(t.ev);
    free(t.docs);
    kw_sla_release(&sla);
    unload(&l);
    free(text);
    return rc;
}

int kw_cmd_policy(int argc, char **argv)
{
    static const struct kw_cli_cmd cmds[] = {
        {"check", cmd_check}, {"explain", cmd_explain}, {"letter", cmd_letter}};
    return kw_cli_dispatch(argc, argv, usage_policy, "policy", cmds,
                           sizeof(cmds) / sizeof(cmds[0]));
}

int kw_cmd_sla(int argc, char **argv)
{
    static const struct kw_cli_cmd cmds[] = {{"replay", cmd_replay}};
    return kw_cli_dispatch(argc, argv, usage_sla, "sla", cmds, sizeof(cmds) / sizeof(cmds[0]));
}
