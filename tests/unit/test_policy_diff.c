// SPDX-License-Identifier: MIT
/* What a new commitment version changes (policy_diff.h): one row per edit a
 * person makes in the editor, with the changes the diff must report, in
 * order, written as "kind subject" lines. */
#include <stdio.h>
#include <stdlib.h>

#include "policy_diff.h"
#include "testutil.h"

#define CAL "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"09:00\",\"18:00\"]]}}"
#define HEAD                                                                                       \
    "\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00Z\","                \
    "\"calendars\":{\"office\":" CAL ",\"24x7\":" CAL "},"
#define LEVELS "\"levels\":[{\"id\":\"L1\",\"label\":{\"zh\":\"一级\",\"en\":\"severe\"}},\"L2\"],"
#define TIERS "\"tiers\":[\"standard\",\"vip\"],"
#define METRICS                                                                                    \
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"       \
    "\"warn_at\":[50,75]},{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"]}],"
#define R_L1                                                                                       \
    "{\"id\":\"L1\",\"when\":{\"level\":\"L1\"},\"calendar\":\"24x7\",\"response\":\"15m\","       \
    "\"resolution\":\"1h\"}"
#define R_VIP                                                                                      \
    "{\"when\":{\"level\":\"L2\",\"tier\":[\"vip\"]},\"calendar\":\"office\",\"response\":"        \
    "\"30m\"}"
#define R_ALL "{\"id\":\"rest\",\"calendar\":\"office\",\"response\":\"2h\",\"resolution\":\"1d\"}"
#define BASE "{" HEAD LEVELS TIERS METRICS "\"targets\":[" R_L1 "," R_VIP "," R_ALL "]}"

static const char *kind_name(enum kw_policy_change_kind k)
{
    static const char *const names[] = {
        "level_added",    "level_removed", "level_relabeled", "metric_added",   "metric_removed",
        "metric_changed", "value_added",   "value_removed",   "rule_added",     "rule_removed",
        "rule_when",      "rule_moved",    "target_added",    "target_removed", "target_changed"};
    return names[k];
}

struct out {
    const struct kw_policy *from, *to;
    char text[2048];
    size_t len;
};

/* "kind subject", one change a line: the level, metric or value, or the
 * rule (by index old>new) and the metric of a target. */
static bool collect(const struct kw_policy_change *c, void *ctx)
{
    struct out *o = ctx;
    char subject[128] = "";
    switch (c->kind) {
    case KW_PCH_LEVEL_ADDED:
    case KW_PCH_LEVEL_RELABELED:
        snprintf(subject, sizeof(subject), "%s", kw_policy_level_id(o->to, (size_t)c->new_i));
        break;
    case KW_PCH_LEVEL_REMOVED:
        snprintf(subject, sizeof(subject), "%s", kw_policy_level_id(o->from, (size_t)c->old_i));
        break;
    case KW_PCH_METRIC_ADDED:
        snprintf(subject, sizeof(subject), "%s", kw_policy_metric_id(o->to, (size_t)c->new_i));
        break;
    case KW_PCH_METRIC_REMOVED:
        snprintf(subject, sizeof(subject), "%s", kw_policy_metric_id(o->from, (size_t)c->old_i));
        break;
    case KW_PCH_METRIC_CHANGED:
        snprintf(subject, sizeof(subject), "%s.%s", kw_policy_metric_id(o->to, (size_t)c->new_i),
                 c->field);
        break;
    case KW_PCH_VALUE_ADDED:
    case KW_PCH_VALUE_REMOVED:
        snprintf(subject, sizeof(subject), "%s=%s", kw_attr_name(c->attr), c->value);
        break;
    default:
        snprintf(subject, sizeof(subject), "%d>%d", c->old_i, c->new_i);
        if (c->new_m >= 0)
            snprintf(subject + strlen(subject), sizeof(subject) - strlen(subject), " %s",
                     kw_policy_metric_id(o->to, (size_t)c->new_m));
        else if (c->old_m >= 0)
            snprintf(subject + strlen(subject), sizeof(subject) - strlen(subject), " %s",
                     kw_policy_metric_id(o->from, (size_t)c->old_m));
    }
    o->len += (size_t)snprintf(o->text + o->len, sizeof(o->text) - o->len, "%s %s\n",
                               kind_name(c->kind), subject);
    return true;
}

static struct kw_policy *parse(const char *json)
{
    struct kw_err err = {0};
    struct kw_policy *p = kw_policy_parse(json, strlen(json), &err);
    if (!p)
        fail_msg("bad policy in test: %s (%s)", err.msg, err.field);
    return p;
}

static void test_diff(void **state)
{
    (void)state;
    static const struct {
        const char *name, *to, *want;
    } cases[] = {
        {"nothing changed", BASE, ""},
        {"the same targets written otherwise (60m is 1h; a one-value list is the value)",
         "{" HEAD LEVELS TIERS METRICS "\"targets\":[{\"id\":\"L1\",\"when\":{\"level\":[\"L1\"]},"
         "\"calendar\":\"24x7\",\"response\":900,\"resolution\":\"60m\"}," R_VIP "," R_ALL "]}",
         ""},
        {"a target changed in the targets table",
         "{" HEAD LEVELS TIERS METRICS "\"targets\":[{\"id\":\"L1\",\"when\":{\"level\":\"L1\"},"
         "\"calendar\":\"24x7\",\"response\":\"10m\",\"resolution\":\"1h\"}," R_VIP "," R_ALL "]}",
         "target_changed 0>0 response\n"},
        {"only the calendar of one metric changed",
         "{" HEAD LEVELS TIERS METRICS "\"targets\":[{\"id\":\"L1\",\"when\":{\"level\":\"L1\"},"
         "\"calendar\":\"24x7\",\"response\":\"15m\",\"resolution\":{\"target\":\"1h\","
         "\"calendar\":\"office\"}}," R_VIP "," R_ALL "]}",
         "target_changed 0>0 resolution\n"},
        {"a target added to and one removed from rules",
         "{" HEAD LEVELS TIERS METRICS "\"targets\":[{\"id\":\"L1\",\"when\":{\"level\":\"L1\"},"
         "\"calendar\":\"24x7\",\"response\":\"15m\"},{\"when\":{\"level\":\"L2\",\"tier\":"
         "\"vip\"},\"calendar\":\"office\",\"response\":\"30m\",\"resolution\":\"8h\"}," R_ALL "]}",
         "target_removed 0>0 resolution\ntarget_added 1>1 resolution\n"},
        {"the conditions of a rule with an id changed",
         "{" HEAD LEVELS TIERS METRICS "\"targets\":[{\"id\":\"L1\",\"when\":{\"level\":\"L1\","
         "\"tier\":\"vip\"},\"calendar\":\"24x7\",\"response\":\"15m\",\"resolution\":\"1h\"}"
         "," R_VIP "," R_ALL "]}",
         "rule_when 0>0\n"},
        {"a rule added at the top moves none of the others",
         "{" HEAD LEVELS TIERS METRICS "\"targets\":[{\"when\":{\"tier\":\"vip\"},\"calendar\":"
         "\"24x7\",\"response\":\"5m\"}," R_L1 "," R_VIP "," R_ALL "]}",
         "rule_added -1>0\n"},
        {"a rule removed", "{" HEAD LEVELS TIERS METRICS "\"targets\":[" R_L1 "," R_ALL "]}",
         "rule_removed 1>-1\n"},
        {"two rules swapped",
         "{" HEAD LEVELS TIERS METRICS "\"targets\":[" R_VIP "," R_L1 "," R_ALL "]}",
         "rule_moved 1>0\nrule_moved 0>1\n"},
        {"a rule without an id whose conditions changed is another rule",
         "{" HEAD LEVELS TIERS METRICS "\"targets\":[" R_L1 ",{\"when\":{\"level\":\"L1\",\"tier\":"
         "[\"vip\"]},\"calendar\":\"office\",\"response\":\"30m\"}," R_ALL "]}",
         "rule_added -1>1\nrule_removed 1>-1\n"},
        {"a level added, one relabelled, a tier added",
         "{" HEAD "\"levels\":[{\"id\":\"L1\",\"label\":{\"zh\":\"一级事件\",\"en\":\"severe\"}},"
         "\"L2\",\"L3\"],\"tiers\":[\"standard\",\"vip\",\"gold\"]," METRICS "\"targets\":[" R_L1
         "," R_VIP "," R_ALL "]}",
         "level_relabeled L1\nlevel_added L3\nvalue_added tier=gold\n"},
        {"a level and a tier removed with the rule that used them",
         "{" HEAD "\"levels\":[{\"id\":\"L1\",\"label\":{\"zh\":\"一级\",\"en\":\"severe\"}}],"
         "\"tiers\":[\"standard\"]," METRICS "\"targets\":[" R_L1 "," R_ALL "]}",
         "level_removed L2\nvalue_removed tier=vip\nrule_removed 1>-1\n"},
        {"a metric added with its targets, the other's warnings changed",
         "{" HEAD LEVELS TIERS
         "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"
         "\"warn_at\":[50,90],\"label\":\"first reply\"},{\"id\":\"resolution\",\"start\":"
         "\"created\",\"stop\":[\"resolved\"]},{\"id\":\"onsite\",\"start\":\"created\",\"stop\":"
         "[\"on_site\"]}],\"targets\":[" R_L1 "," R_VIP ",{\"id\":\"rest\",\"calendar\":\"office\","
         "\"response\":\"2h\",\"resolution\":\"1d\",\"onsite\":\"1d\"}]}",
         "metric_changed response.label\nmetric_changed response.warn_at\nmetric_added onsite\n"
         "target_added 2>2 onsite\n"},
        {"a metric removed takes its targets",
         "{" HEAD LEVELS TIERS
         "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"
         "\"warn_at\":[50,75]}],\"targets\":[{\"id\":\"L1\",\"when\":{\"level\":\"L1\"},"
         "\"calendar\":\"24x7\",\"response\":\"15m\"}," R_VIP ",{\"id\":\"rest\",\"calendar\":"
         "\"office\",\"response\":\"2h\"}]}",
         "metric_removed resolution\ntarget_removed 0>0 resolution\ntarget_removed 2>2 "
         "resolution\n"},
    };
    struct kw_policy *from = parse(BASE);
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct kw_policy *to = parse(cases[i].to);
        struct out o = {.from = from, .to = to};
        int n = kw_policy_diff(from, to, collect, &o);
        if (strcmp(o.text, cases[i].want) != 0)
            fail_msg("%s:\nwant:\n%sgot:\n%s", cases[i].name, cases[i].want, o.text);
        int lines = 0;
        for (const char *s = o.text; *s; s++)
            lines += *s == '\n';
        assert_int_equal(n, lines);
        kw_policy_free(to);
    }
    kw_policy_free(from);
}

static bool stop_at_first(const struct kw_policy_change *c, void *ctx)
{
    (void)c;
    (*(int *)ctx)++;
    return false;
}

/* The callback stops the walk; an edit both ways is symmetric. */
static void test_stop_and_reverse(void **state)
{
    (void)state;
    struct kw_policy *a = parse(BASE);
    struct kw_policy *b = parse("{" HEAD LEVELS TIERS METRICS "\"targets\":[" R_ALL "]}");
    int calls = 0;
    assert_int_equal(kw_policy_diff(a, b, stop_at_first, &calls), 1);
    assert_int_equal(calls, 1);
    struct out o = {.from = b, .to = a};
    kw_policy_diff(b, a, collect, &o);
    assert_string_equal(o.text, "rule_added -1>0\nrule_added -1>1\n");
    kw_policy_free(a);
    kw_policy_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_stop_and_reverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
