// SPDX-License-Identifier: MIT
/* The commitment document: every validation error is located; rules resolve
 * first-match per metric; explanations; versions by effective date. */
#include <stdio.h>
#include <stdlib.h>

#include "calcache.h"
#include "kw_buf.h"
#include "letter.h"
#include "policy_json.h"
#include "tz.h"
#include "testutil.h"

#define CAL "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]]}}"
#define HEAD                                                                                       \
    "\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","                \
    "\"calendars\":{\"office\":" CAL ",\"24x7\":" CAL "},"                                         \
    "\"levels\":[\"L1\",\"L2\",\"L3\"],\"tiers\":[\"standard\",\"vip\"],"
#define METRICS                                                                                    \
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"       \
    "\"warn_at\":[50,75]},{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"],"   \
    "\"pause_when\":[\"waiting_customer\"]}],"
#define RULES                                                                                      \
    "\"targets\":[{\"when\":{\"level\":\"L1\"},\"calendar\":\"24x7\",\"response\":\"15m\"}]"

#define NODE "{\"id\":\"n\",\"at\":\"created\"}"

static void test_bad_policies(void **state)
{
    (void)state;
    static const struct {
        const char *name, *json, *field, *msg;
    } cases[] = {
        {"not JSON", "{", "", "not valid JSON"},
        {"staff_only that is not true or false",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_"
         "response\"],\"staff_only\":\"yes\"}]," RULES "}",
         "/metrics/0/staff_only", "expected true"},
        {"a kpi marker that names no figure",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_"
         "response\"],\"kpi\":\"speed\"}]," RULES "}",
         "/metrics/0/kpi", "expected \"response\""},
        {"two metrics marked as the response metric",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_"
         "response\"],\"kpi\":\"response\"},{\"id\":\"ack\",\"start\":\"created\",\"stop\":"
         "[\"first_response\"],\"kpi\":\"response\"}]," RULES "}",
         "/metrics/1/kpi", "at most one metric of each"},
        {"an escalation on an unknown metric",
         "{" HEAD METRICS RULES ",\"escalations\":[{\"id\":\"e\",\"when\":{\"metric\":\"x\"},"
         "\"steps\":[{\"notify\":\"assignee\"}]}]}",
         "/escalations/0/when", "unknown metric"},
        {"an escalation on a threshold the metric does not have",
         "{" HEAD METRICS RULES ",\"escalations\":[{\"id\":\"e\",\"when\":{\"metric\":"
         "\"response\",\"percent\":60},\"steps\":[{\"notify\":\"assignee\"}]}]}",
         "/escalations/0/when", "not a warn_at"},
        {"a step that does two things",
         "{" HEAD METRICS RULES ",\"escalations\":[{\"id\":\"e\",\"when\":{\"unacknowledged\":"
         "\"15m\"},\"steps\":[{\"notify\":\"assignee\",\"raise_level\":true}]}]}",
         "/escalations/0/steps/0", "one thing"},
        {"steps out of order",
         "{" HEAD METRICS RULES ",\"escalations\":[{\"id\":\"e\",\"when\":{\"unacknowledged\":"
         "\"15m\"},\"steps\":[{\"after\":\"30m\",\"notify\":\"assignee\"},{\"after\":"
         "\"10m\",\"notify\":\"oncall:2\"}]}]}",
         "/escalations/0/steps/1", "in order"},
        {"an unknown notify target",
         "{" HEAD METRICS RULES ",\"escalations\":[{\"id\":\"e\",\"when\":{\"unacknowledged\":"
         "\"15m\"},\"steps\":[{\"notify\":\"oncall:0\"}]}]}",
         "/escalations/0/steps/0/notify", "expected assignee"},
        {"bad reopen window", "{" HEAD METRICS RULES ",\"reopen_window\":\"soon\"}",
         "/reopen_window", "duration"},
        {"a reply implying an unknown milestone",
         "{" HEAD METRICS RULES ",\"public_reply_implies\":[\"first_response\",\"hello\"]}",
         "/public_reply_implies/1", "unknown milestone \"hello\""},
        {"a reply implying one milestone twice",
         "{" HEAD METRICS RULES ",\"public_reply_implies\":[\"acknowledged\",\"acknowledged\"]}",
         "/public_reply_implies/1", "listed twice"},
        {"public_reply_implies is a list",
         "{" HEAD METRICS RULES ",\"public_reply_implies\":\"first_response\"}",
         "/public_reply_implies", "expected a list of strings"},
        {"staff_only is true or false",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":"
         "[\"first_response\"],\"staff_only\":1}]," RULES "}",
         "/metrics/0/staff_only", "expected true or false"},
        {"customer_reply_resumes is true or false",
         "{" HEAD METRICS RULES ",\"customer_reply_resumes\":\"yes\"}", "/customer_reply_resumes",
         "expected true or false"},
        {"too many service nodes",
         "{" HEAD METRICS RULES ",\"service_nodes\":[" NODE "," NODE "," NODE "," NODE "," NODE
         "," NODE "," NODE "," NODE "," NODE "," NODE "," NODE "," NODE "," NODE "]}",
         "/service_nodes", "1 to 12 nodes"},
        {"a node reached by nothing known",
         "{" HEAD METRICS RULES ",\"service_nodes\":[{\"id\":\"x\",\"at\":\"teleported\"}]}",
         "/service_nodes/0/at", "a milestone or a state"},
        {"a node listed twice", "{" HEAD METRICS RULES ",\"service_nodes\":[" NODE "," NODE "]}",
         "/service_nodes/1/id", "listed twice"},
        {"unknown field", "{" HEAD METRICS RULES ",\"colour\":1}", "/colour", "unknown field"},
        {"no name", "{\"version\":\"1\"}", "/name", "name: missing"},
        {"bad effective date",
         "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01\"}", "/effective_from",
         "effective_from: \"2026-01-01\" is not an ISO 8601 instant"},
        {"unknown calendar in a rule",
         "{" HEAD METRICS "\"targets\":[{\"calendar\":\"weekend\",\"response\":\"1h\"}]}",
         "/targets/0/calendar", "targets[0].calendar: unknown calendar \"weekend\""},
        {"unknown calendar in a metric target",
         "{" HEAD METRICS
         "\"targets\":[{\"response\":{\"target\":\"1h\",\"calendar\":\"nights\"}}]}",
         "/targets/0/response/calendar", "unknown calendar \"nights\""},
        {"unknown metric in a rule",
         "{" HEAD METRICS "\"targets\":[{\"calendar\":\"office\",\"respnse\":\"1h\"}]}",
         "/targets/0/respnse", "targets[0].respnse: unknown metric \"respnse\""},
        {"unknown level in a rule",
         "{" HEAD METRICS "\"targets\":[{\"when\":{\"level\":[\"L1\",\"L9\"]},\"calendar\":"
         "\"office\",\"response\":\"1h\"}]}",
         "/targets/0/when/level/1", "targets[0].when.level[1]: unknown level \"L9\""},
        {"unknown tier in a rule",
         "{" HEAD METRICS "\"targets\":[{\"when\":{\"tier\":\"gold\"},\"calendar\":\"office\","
         "\"response\":\"1h\"}]}",
         "/targets/0/when/tier/0", "unknown tier \"gold\""},
        {"unknown condition",
         "{" HEAD METRICS "\"targets\":[{\"when\":{\"priority\":\"P1\"},\"calendar\":\"office\","
         "\"response\":\"1h\"}]}",
         "/targets/0/when/priority", "unknown condition"},
        {"negative duration",
         "{" HEAD METRICS "\"targets\":[{\"calendar\":\"office\",\"response\":\"-15m\"}]}",
         "/targets/0/response", "negative duration"},
        {"negative seconds",
         "{" HEAD METRICS "\"targets\":[{\"calendar\":\"office\",\"response\":-900}]}",
         "/targets/0/response", "negative duration -900"},
        {"unparseable duration",
         "{" HEAD METRICS "\"targets\":[{\"calendar\":\"office\",\"response\":\"15 minutes\"}]}",
         "/targets/0/response", "targets[0].response: \"15 minutes\" is not a duration"},
        {"no calendar when there are several",
         "{" HEAD METRICS "\"targets\":[{\"response\":\"15m\"}]}", "/targets/0/response",
         "no calendar for this target"},
        {"a rule without targets",
         "{" HEAD METRICS "\"targets\":[{\"when\":{\"level\":\"L1\"},\"calendar\":\"office\"}]}",
         "/targets/0", "the rule sets no target"},
        {"a metric that can never stop",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[]}]," RULES
         "}",
         "/metrics/0/stop", "can never stop"},
        {"a metric without stop",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\"}]," RULES "}",
         "/metrics/0/stop", "missing: the milestones that stop this clock"},
        {"a metric stopped by its own start",
         "{" HEAD
         "\"metrics\":[{\"id\":\"response\",\"start\":\"closed\",\"stop\":[\"closed\"]}]," RULES
         "}",
         "/metrics/0/stop/0", "can never stop: it starts and stops at \"closed\""},
        {"a stop that is no milestone",
         "{" HEAD
         "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"lunch\"]}]," RULES
         "}",
         "/metrics/0/stop/0", "unknown milestone \"lunch\""},
        {"a pause that is no state",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":"
         "[\"first_response\"],\"pause_when\":[\"sleeping\"]}]," RULES "}",
         "/metrics/0/pause_when/0", "unknown ticket state \"sleeping\""},
        {"duplicate metric ids",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":"
         "[\"first_response\"]},{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"resolved\"]}"
         "]," RULES "}",
         "/metrics/1/id", "duplicate metric id \"response\""},
        {"duplicate level ids",
         "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","
         "\"calendars\":{\"office\":" CAL "},\"levels\":[\"L1\",\"L1\"]}",
         "/levels/1", "duplicate id \"L1\""},
        {"percentage above 100",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":"
         "[\"first_response\"],\"warn_at\":[50,150]}]," RULES "}",
         "/metrics/0/warn_at/1", "from 1 to 100"},
        {"percentage zero",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":"
         "[\"first_response\"],\"warn_at\":[0]}]," RULES "}",
         "/metrics/0/warn_at/0", "from 1 to 100"},
        {"percentage twice",
         "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":"
         "[\"first_response\"],\"warn_at\":[50,50]}]," RULES "}",
         "/metrics/0/warn_at/1", "50% is listed twice"},
        {"a bad calendar inside",
         "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","
         "\"calendars\":{\"office\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"25:00\"]]}}}}",
         "/calendars/office/week/mon/0/1", "calendars.office: week.mon[0]: \"25:00\""},
        {"bad on_level_change", "{" HEAD METRICS RULES ",\"on_level_change\":\"ignore\"}",
         "/on_level_change", "expected \"recompute\" or \"keep\""},
        {"bad on_reopen", "{" HEAD METRICS RULES ",\"on_reopen\":\"forget\"}", "/on_reopen",
         "expected \"resume\" or \"restart\""},
        {"redeclared built-in milestone", "{" HEAD METRICS RULES ",\"milestones\":[\"resolved\"]}",
         "/milestones/0", "built in"},
        {"no levels",
         "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","
         "\"calendars\":{\"office\":" CAL "}}",
         "/levels", "levels: missing"},
        {"no targets", "{" HEAD METRICS "\"targets\":[]}", "/targets", "targets: missing"},
        {"an empty stored calendar name",
         "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","
         "\"calendars\":{\"office\":\"\"},\"levels\":[\"L1\"]," METRICS RULES "}",
         "/calendars/office", "the name of a stored calendar"},
        {"a calendar that is neither an object nor a name",
         "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","
         "\"calendars\":{\"office\":7},\"levels\":[\"L1\"]," METRICS RULES "}",
         "/calendars/office", ""},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_err err = {0};
        struct kw_policy *p = kw_policy_parse(cases[i].json, strlen(cases[i].json), &err);
        if (p) {
            kw_policy_free(p);
            fail_msg("%s: accepted", cases[i].name);
        }
        if (strcmp(err.field, cases[i].field) != 0)
            fail_msg("%s: field \"%s\", want \"%s\" (%s)", cases[i].name, err.field, cases[i].field,
                     err.msg);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].name, err.msg, cases[i].msg);
    }
}

static struct kw_policy *acme(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/examples/policies/acme.json", KW_SOURCE_DIR);
    json_t *doc = json_load_file(path, 0, NULL);
    struct kw_err err = {0};
    struct kw_policy *p = kw_policy_from_json(doc, &err);
    json_decref(doc);
    if (!p)
        fail_msg("acme.json: %s", err.msg);
    return p;
}

/* What the model hands out: texts with their language fallbacks, the
 * effective date as written, rule ids, escalation targets. The policy owns
 * them: the text it came from is gone by the time they are read. */
static void test_texts(void **state)
{
    (void)state;
    char *text = strdup(
        "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T08:00:00+08:00\","
        "\"description\":\"one text\",\"letter\":{\"en\":{\"provider\":\"P\",\"scope\":5},"
        "\"zh\":{\"contact\":\"联系\"},\"fr\":{}},\"calendars\":{\"c\":" CAL "},"
        "\"levels\":[{\"id\":\"L1\",\"label\":{\"en\":\"only en\"}},{\"id\":\"L2\",\"label\":"
        "\"both\"},\"L3\"],\"metrics\":[{\"id\":\"response\",\"start\":\"created\","
        "\"stop\":[\"first_response\"],\"warn_at\":[50]}],\"targets\":[{\"id\":\"r0\","
        "\"when\":{\"level\":\"L1\"},\"response\":\"1h\"},{\"id\":7,\"response\":\"2h\"}],"
        "\"escalations\":[{\"id\":\"e\",\"when\":{\"metric\":\"response\",\"percent\":50},"
        "\"steps\":[{\"notify\":\"oncall:3\"},{\"after\":\"5m\",\"reassign\":\"team:42\"}]}]}");
    struct kw_err err = {0};
    struct kw_policy *p = kw_policy_parse(text, strlen(text), &err);
    memset(text, 'x', strlen(text));
    free(text);
    if (!p)
        fail_msg("%s", err.msg);
    const struct kw_escalation *e = kw_policy_chain(p, 0);
    static const char *const none = "(none)";
#define OR_NONE(s) ((s) ? (s) : none)
    const struct {
        const char *name, *got, *want;
    } cases[] = {
        {"effective_from as written", kw_policy_effective_from_text(p),
         "2026-01-01T08:00:00+08:00"},
        {"one description for both languages", kw_policy_description(p, "zh"), "one text"},
        {"letter text in its language", kw_policy_letter_text(p, KW_LETTER_PROVIDER, "en"), "P"},
        {"letter text from the other language", kw_policy_letter_text(p, KW_LETTER_PROVIDER, "zh"),
         "P"},
        {"a letter text that is no string is none",
         OR_NONE(kw_policy_letter_text(p, KW_LETTER_SCOPE, "en")), none},
        {"contact only in Chinese", kw_policy_letter_text(p, KW_LETTER_CONTACT, "en"), "联系"},
        {"label only in English, asked in Chinese", kw_policy_level_label(p, 0, "zh"), "only en"},
        {"label for both languages", kw_policy_level_label(p, 1, "en"), "both"},
        {"no label: the id", kw_policy_level_label(p, 2, "zh"), "L3"},
        {"rule id", kw_policy_rule_id(p, 0), "r0"},
        {"a rule id that is no string is none", OR_NONE(kw_policy_rule_id(p, 1)), none},
        {"chain id", e->id, "e"},
        {"step target as written", e->step[1].target, "team:42"},
    };
#undef OR_NONE
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(cases[i].got, cases[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name, cases[i].got, cases[i].want);
    assert_int_equal(e->step[0].oncall, 3);
    assert_int_equal(e->step[1].team, 42);
    assert_int_equal(e->step[1].after, 300);
    kw_policy_free(p);
}

/* Escalation targets: who a step may notify or hand the ticket to. */
static void test_escalation_targets(void **state)
{
    (void)state;
    static const struct {
        const char *name, *target;
        bool ok;
        int oncall;
        int64_t team;
    } cases[] = {
        {"the assignee", "assignee", true, 0, 0},
        {"the account manager", "account_manager", true, 0, 0},
        {"an on-call rota", "oncall:9", true, 9, 0},
        {"on-call rotas count from 1", "oncall:0", false, 0, 0},
        {"at most 9 rotas", "oncall:10", false, 10, 0},
        {"a team", "team:12", true, 0, 12},
        {"a team id is a number", "team:x", false, 0, 0},
        {"nothing after the number", "team:1x", false, 0, 1},
        {"no one else", "boss", false, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int oncall = -1;
        int64_t team = -1;
        bool ok = kw_escalation_target_parse(cases[i].target, &oncall, &team);
        if (ok != cases[i].ok || oncall != cases[i].oncall || team != cases[i].team)
            fail_msg("%s: got %d, oncall %d, team %lld", cases[i].name, ok, oncall,
                     (long long)team);
    }
}

static void test_resolution(void **state)
{
    (void)state;
    struct kw_policy *p = acme();
    static const struct {
        const char *level, *tier, *metric;
        int rule;
        int64_t target;
        const char *calendar;
    } cases[] = {
        {"L1", NULL, "response", 0, 15 * M, "24x7"},
        {"L1", "strategic", "resolution", 0, 1 * H, "24x7"},
        {"L3", "strategic", "response", 2, 30 * M, "office"},
        {"L3", "vip", "resolution", 3, 12 * H, "office"},
        {"L3", "standard", "resolution", 4, 24 * H, "office"},
        {"L3", NULL, "resolution", 4, 24 * H, "office"},
        {"L4", NULL, "response", 5, 5 * M, "office"},
        {"L2", NULL, "callback", 6, 24 * H, "24x7"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_ticket_attrs a = {{0}};
        a.v[KW_ATTR_LEVEL] = cases[i].level;
        a.v[KW_ATTR_TIER] = cases[i].tier;
        int m = kw_policy_metric_index(p, cases[i].metric);
        struct kw_target t = kw_policy_resolve(p, (size_t)m, &a);
        if (!t.applies || t.rule != cases[i].rule || t.target != cases[i].target ||
            strcmp(kw_policy_calendar_name(p, (size_t)t.calendar), cases[i].calendar) != 0)
            fail_msg("%s/%s/%s: rule %d target %lld", cases[i].level,
                     cases[i].tier ? cases[i].tier : "-", cases[i].metric, t.rule,
                     (long long)t.target);
    }
    /* explanations */
    struct kw_ticket_attrs a = {{0}};
    a.v[KW_ATTR_LEVEL] = "L3";
    a.v[KW_ATTR_TIER] = "vip";
    char why[256];
    int resp = kw_policy_metric_index(p, "response"), cb = kw_policy_metric_index(p, "callback");
    assert_false(kw_policy_rule_explain(p, 0, (size_t)resp, &a, why, sizeof(why)));
    assert_string_equal(why, "level L3 is not L1");
    assert_false(kw_policy_rule_explain(p, 2, (size_t)resp, &a, why, sizeof(why)));
    assert_string_equal(why, "tier vip is not strategic");
    assert_true(kw_policy_rule_explain(p, 3, (size_t)resp, &a, why, sizeof(why)));
    assert_false(kw_policy_rule_explain(p, 0, (size_t)cb, &a, why, sizeof(why)));
    assert_string_equal(why, "names no target for callback");
    a.v[KW_ATTR_TIER] = NULL;
    assert_false(kw_policy_rule_explain(p, 2, (size_t)resp, &a, why, sizeof(why)));
    assert_string_equal(why, "needs tier strategic; the ticket has none");
    assert_string_equal(kw_policy_level_label(p, 0, "en"), "L1 severe");
    assert_string_equal(kw_policy_level_label(p, 0, "zh"), "一级事件（严重）");
    assert_true(kw_policy_reopen_revokes(p, "resolved"));
    assert_false(kw_policy_reopen_revokes(p, "first_response"));
    kw_policy_free(p);
}

static void test_versions(void **state)
{
    (void)state;
#define VERSION(v, eff)                                                                            \
    "{\"name\":\"t\",\"version\":\"" v "\",\"effective_from\":\"" eff "\","                        \
    "\"calendars\":{\"c\":" CAL "},\"levels\":[\"L1\"]," METRICS                                   \
    "\"targets\":[{\"response\":\"1h\"}]}"
    const char *a = VERSION("2026.1", "2026-01-01T00:00:00+08:00");
    const char *b = VERSION("2027.1", "2027-01-01T00:00:00+08:00");
    struct kw_err err = {0};
    struct kw_policy *pa = kw_policy_parse(a, strlen(a), &err);
    struct kw_policy *pb = kw_policy_parse(b, strlen(b), &err);
    const struct kw_policy *v[2] = {pb, pa};
    assert_non_null(v[0]);
    assert_non_null(v[1]);
    assert_int_equal(kw_policy_pick(v, 2, T("2026-06-01T00:00:00Z")), 1);
    assert_int_equal(kw_policy_pick(v, 2, T("2026-12-31T16:00:00Z")), 0); /* upgrade day */
    assert_int_equal(kw_policy_pick(v, 2, T("2026-12-31T15:59:59Z")), 1);
    assert_int_equal(kw_policy_pick(v, 2, T("2025-06-01T00:00:00Z")), -1);
    kw_policy_free(pa);
    kw_policy_free(pb);
}

/* Every example policy is valid (they are what a new user copies). */
static void test_examples_are_valid(void **state)
{
    (void)state;
    static const char *const files[] = {"acme.json",           "levels.json",
                                        "tiers.json",          "milestones.json",
                                        "regions-3-6-12.json", "business-hours.json"};
    for (size_t i = 0; i < N_ELEMS(files); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/examples/policies/%s", KW_SOURCE_DIR, files[i]);
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        if (!doc)
            fail_msg("%s: %s", files[i], jerr.text);
        struct kw_err err = {0};
        struct kw_policy *p = kw_policy_from_json(doc, &err);
        json_decref(doc);
        if (!p)
            fail_msg("%s: %s", files[i], err.msg);
        kw_policy_free(p);
    }
}

/* What replies mean: the defaults, a declared milestone, switched off. */
static void test_replies(void **state)
{
    (void)state;
    static const struct {
        const char *name, *extra, *implies; /* implies: joined by spaces */
        bool resumes;
    } rows[] = {
        {"defaults", "", "first_response", true},
        {"switched off", ",\"public_reply_implies\":[],\"customer_reply_resumes\":false", "",
         false},
        {"a declared milestone",
         ",\"milestones\":[\"replied\"],\"public_reply_implies\":[\"acknowledged\",\"replied\"]",
         "acknowledged replied", true},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        char doc[2048];
        snprintf(doc, sizeof(doc), "{" HEAD METRICS RULES "%s}", rows[i].extra);
        struct kw_err err = {0};
        struct kw_policy *p = kw_policy_parse(doc, strlen(doc), &err);
        if (!p)
            fail_msg("%s: %s", rows[i].name, err.msg);
        const char *const *m;
        size_t n = kw_policy_reply_implies(p, &m);
        char got[128] = "";
        for (size_t k = 0; k < n; k++)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "", m[k]);
        if (strcmp(got, rows[i].implies) != 0)
            fail_msg("%s: implies \"%s\", want \"%s\"", rows[i].name, got, rows[i].implies);
        assert_int_equal(kw_policy_customer_reply_resumes(p), rows[i].resumes);
        kw_policy_free(p);
    }
    const char *const *m;
    assert_int_equal(kw_policy_reply_implies(NULL, &m), 1); /* no commitment: the default */
    assert_string_equal(m[0], "first_response");
    assert_true(kw_policy_customer_reply_resumes(NULL));
}

/* Staff-only clocks: the call-back by default, any by choice. */
static void test_staff_only(void **state)
{
    (void)state;
    static const char doc[] =
        "{" HEAD "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":"
        "[\"first_response\"]},{\"id\":\"callback\",\"start\":\"closed\",\"stop\":"
        "[\"callback_done\"]},{\"id\":\"internal\",\"start\":\"created\",\"stop\":"
        "[\"resolved\"],\"staff_only\":true},{\"id\":\"shown\",\"start\":\"closed\",\"stop\":"
        "[\"callback_done\"],\"staff_only\":false}]," RULES "}";
    struct kw_err err = {0};
    struct kw_policy *p = kw_policy_parse(doc, strlen(doc), &err);
    if (!p)
        fail_msg("%s", err.msg);
    static const struct {
        const char *metric;
        bool staff_only;
    } rows[] = {{"response", false}, {"callback", true}, {"internal", true}, {"shown", false}};
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        int m = kw_policy_metric_index(p, rows[i].metric);
        assert_true(m >= 0);
        if (kw_policy_metric_staff_only(p, (size_t)m) != rows[i].staff_only)
            fail_msg("%s: staff_only %d", rows[i].metric, !rows[i].staff_only);
    }
    kw_policy_free(p);
}

/* The kpi marker says which metric MTTA and MTTR measure; a commitment
 * that marks none keeps the metric ids response and resolution. */
static void test_kpi_marker(void **state)
{
    (void)state;
    static const struct {
        const char *name, *metrics;
        const char *metric[3];
        enum kw_metric_kpi want[3];
    } cases[] = {
        {"markers name the metrics",
         "{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"]},"
         "{\"id\":\"ack\",\"start\":\"created\",\"stop\":[\"first_response\"],"
         "\"kpi\":\"response\"},{\"id\":\"fix\",\"start\":\"created\",\"stop\":"
         "[\"resolved\"],\"kpi\":\"resolution\"}",
         {"response", "ack", "fix"},
         {KW_MKPI_NONE, KW_MKPI_RESPONSE, KW_MKPI_RESOLUTION}},
        {"no markers: the ids response and resolution",
         "{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"]},"
         "{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"]},"
         "{\"id\":\"fix\",\"start\":\"created\",\"stop\":[\"resolved\"]}",
         {"response", "resolution", "fix"},
         {KW_MKPI_RESPONSE, KW_MKPI_RESOLUTION, KW_MKPI_NONE}},
        {"a marker for one figure leaves the other to its id",
         "{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"]},"
         "{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"]},"
         "{\"id\":\"fix\",\"start\":\"created\",\"stop\":[\"resolved\"],"
         "\"kpi\":\"resolution\"}",
         {"response", "resolution", "fix"},
         {KW_MKPI_RESPONSE, KW_MKPI_NONE, KW_MKPI_RESOLUTION}},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        char doc[2048];
        snprintf(doc, sizeof(doc), "{" HEAD "\"metrics\":[%s]," RULES "}", cases[i].metrics);
        struct kw_err err = {0};
        struct kw_policy *p = kw_policy_parse(doc, strlen(doc), &err);
        if (!p)
            fail_msg("%s: %s %s", cases[i].name, err.field, err.msg);
        for (size_t j = 0; j < 3; j++) {
            int m = kw_policy_metric_index(p, cases[i].metric[j]);
            assert_true(m >= 0);
            if (kw_policy_metric_kpi(p, (size_t)m) != cases[i].want[j])
                fail_msg("%s: %s is %d, want %d", cases[i].name, cases[i].metric[j],
                         (int)kw_policy_metric_kpi(p, (size_t)m), (int)cases[i].want[j]);
        }
        kw_policy_free(p);
    }
}

/* A calendar may name a stored calendar: its spec is unknown until the
 * caller binds one (a server reads the store); commands that read only the
 * file refuse it with a message saying why. */
static void test_stored_calendars(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","
        "\"calendars\":{\"office\":\"Shanghai office\",\"24x7\":" CAL "},"
        "\"levels\":[\"L1\"]," METRICS
        "\"targets\":[{\"calendar\":\"office\",\"response\":\"1h\"}]}";
    struct kw_err err = {0};
    struct kw_policy *p = kw_policy_parse(doc, strlen(doc), &err);
    if (!p)
        fail_msg("%s", err.msg);
    assert_string_equal(kw_policy_calendar_name(p, 0), "office");
    assert_string_equal(kw_policy_calendar_ref(p, 0), "Shanghai office");
    assert_null(kw_policy_calendar_spec(p, 0));
    assert_null(kw_policy_calendar_ref(p, 1));
    assert_non_null(kw_policy_calendar_spec(p, 1));
    struct kw_tzdb *db = kw_tzdb_new();
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
    assert_int_equal(kw_policy_compile(db, p, cals, &err), KW_INVALID);
    assert_string_equal(err.field, "/calendars/office");
    assert_non_null(strstr(err.msg, "calendars.office: names the stored calendar \"Shanghai "
                                    "office\", which only a server"));
    struct kw_buf b = {0}; /* the letter names it */
    kw_letter_render(p, "en", false, &b);
    assert_false(b.failed);
    assert_non_null(strstr(b.p, "Shanghai office"));
    kw_buf_release(&b);
    struct kw_cal_spec spec = {.tz = "Asia/Shanghai"};
    spec.week[0] = (struct kw_cal_day){1, {{9 * 3600, 18 * 3600}}};
    int64_t hol = 20517; /* 2026-03-05 */
    spec.holidays = &hol;
    spec.n_holidays = 1;
    assert_int_equal(kw_policy_calendar_bind(p, 0, &spec, &err), KW_OK);
    assert_string_equal(kw_policy_calendar_spec(p, 0)->tz, "Asia/Shanghai");
    assert_int_equal(kw_policy_calendar_spec(p, 0)->n_holidays, 1);
    assert_true(kw_policy_calendar_spec(p, 0)->holidays != &hol); /* a copy */
    assert_int_equal(kw_policy_compile(db, p, cals, &err), KW_OK);
    kw_cal_free(cals[0]);
    kw_cal_free(cals[1]);
    kw_tzdb_free(db);
    kw_policy_free(p);
}

/* The Markdown letter lets no HTML, link, image or code from the policy
 * through, and keeps each text on its line. */
static void test_letter_markdown_escapes(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"name\":\"<script>alert(1)</script>\",\"version\":\"1\","
        "\"effective_from\":\"2026-01-01T00:00:00Z\",\"calendars\":{\"24x7\":" CAL "},"
        "\"letter\":{\"en\":{\"provider\":\"[click](javascript:alert(1)) ![x](http://e/x.png)\","
        "\"scope\":\"`code` <img src=x onerror=alert(1)> \\\\<b>\\n# heading &amp;\"}},"
        "\"levels\":[{\"id\":\"L1\",\"label\":\"<b>one</b>|two\"}]," METRICS
        "\"targets\":[{\"calendar\":\"24x7\",\"response\":\"1h\"}]}";
    struct kw_err err = {0};
    struct kw_policy *p = kw_policy_parse(doc, strlen(doc), &err);
    if (!p)
        fail_msg("%s", err.msg);
    struct kw_buf b = {0};
    kw_letter_render(p, "en", false, &b);
    assert_false(b.failed);
    static const struct {
        const char *name, *absent;
    } rows[] = {
        {"no raw tag from the name", "<script>"},
        {"no raw tag from a letter text", "<img"},
        {"no raw tag from a label", "<b>"},
        {"no link", "[click](javascript"},
        {"no image", "![x]("},
        {"no code span", "`code`"},
        {"a newline in a text does not start a heading", "\n# heading"},
        {"an entity is not decoded", " &amp;\n"},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++)
        if (strstr(b.p, rows[i].absent))
            fail_msg("%s: \"%s\" in the letter:\n%s", rows[i].name, rows[i].absent, b.p);
    assert_non_null(strstr(b.p, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(b.p, "\\[click\\](javascript:alert(1))"));
    assert_non_null(strstr(b.p, "&amp;amp;"));
    kw_buf_release(&b);
    kw_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_policies),
        cmocka_unit_test(test_letter_markdown_escapes),
        cmocka_unit_test(test_texts),
        cmocka_unit_test(test_escalation_targets),
        cmocka_unit_test(test_resolution),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_examples_are_valid),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_staff_only),
        cmocka_unit_test(test_kpi_marker),
        cmocka_unit_test(test_stored_calendars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
