// SPDX-License-Identifier: MIT
/* The event vocabulary and the chain: every kind's body as stored today,
 * decode(encode(r)) == r, lenient reading of older bodies, strict types,
 * the clock events, and the chain hash pinned against an independent
 * BLAKE2b (Python's hashlib). */
#include <stdio.h>
#include <stdlib.h>

#include "chain.h"
#include "event.h"
#include "testutil.h"

/* Encode r, dump it canonically and compare with the body stored today. */
static void check_encoded(const struct kw_event_rec *r, const char *want)
{
    struct kw_err err = {0};
    json_t *b = kw_event_encode(r, &err);
    if (!b)
        fail_msg("%s: %s", kw_event_kind_name(r->kind), err.msg);
    char *text = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    if (strcmp(text, want) != 0)
        fail_msg("%s:\n got  %s\n want %s", kw_event_kind_name(r->kind), text, want);
    /* and back: the same record, member by member as the kind has them */
    struct kw_event_rec d;
    json_t *hold;
    assert_int_equal(kw_event_decode(kw_event_kind_name(r->kind), text, &d, &hold, &err), KW_OK);
    json_t *again = kw_event_encode(&d, &err);
    char *text2 = json_dumps(again, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text2, text);
    free(text2);
    json_decref(again);
    json_decref(hold);
    free(text);
}

static void test_bodies(void **state)
{
    (void)state;
    struct kw_event_rec r = {.kind = KW_EVENT_CREATED, .title = "Down", .org_id = 2};
    r.attrs.v[KW_ATTR_LEVEL] = "L1";
    r.attrs.v[KW_ATTR_REGION] = "domestic";
    check_encoded(&r, "{\"level\":\"L1\",\"org_id\":2,\"region\":\"domestic\",\"title\":\"Down\"}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_COMMENT, .text = "hi", .internal = true},
                  "{\"internal\":true,\"text\":\"hi\"}");
    check_encoded(
        &(struct kw_event_rec){
            .kind = KW_EVENT_STATE, .state = "handling", .from = "registered", .reason = "on it"},
        "{\"from\":\"registered\",\"reason\":\"on it\",\"state\":\"handling\"}");
    check_encoded(
        &(struct kw_event_rec){.kind = KW_EVENT_REOPENED, .state = "handling", .from = "archived"},
        "{\"from\":\"archived\",\"state\":\"handling\"}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_MILESTONE, .milestone = "on_site"},
                  "{\"milestone\":\"on_site\"}");
    struct kw_event_rec lv = {.kind = KW_EVENT_LEVEL, .from = "L3", .reason = "escalation x"};
    lv.attrs.v[KW_ATTR_LEVEL] = "L2";
    check_encoded(&lv, "{\"from\":\"L3\",\"level\":\"L2\",\"reason\":\"escalation x\"}");
    struct kw_event_rec cat = {.kind = KW_EVENT_CATEGORY};
    cat.attrs.v[KW_ATTR_CATEGORY] = "technical";
    check_encoded(&cat, "{\"category\":\"technical\",\"from\":null}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_ASSIGNED, .assignee_id = 4},
                  "{\"assignee_id\":4,\"team_id\":null}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_RATING, .satisfaction = 5, .nps = -1},
                  "{\"comment\":null,\"nps\":null,\"satisfaction\":5}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_SLA_WARNING,
                                         .metric = "response",
                                         .percent = 75,
                                         .colour = "yellow",
                                         .target = 3600,
                                         .reached_at = T("2026-03-02T01:45:00Z"),
                                         .deadline = T("2026-03-02T02:00:00Z")},
                  "{\"colour\":\"yellow\",\"deadline\":\"2026-03-02T02:00:00Z\","
                  "\"due_at\":\"2026-03-02T01:45:00Z\",\"metric\":"
                  "\"response\",\"percent\":75,\"reached_at\":\"2026-03-02T01:45:00Z\",\"target\":"
                  "3600}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_SLA_BREACH,
                                         .metric = "response",
                                         .target = 3600,
                                         .breached_at = T("2026-03-02T02:00:00Z"),
                                         .deadline = T("2026-03-02T02:00:00Z")},
                  "{\"breached_at\":\"2026-03-02T02:00:00Z\",\"deadline\":\"2026-03-02T02:00:00Z\","
                  "\"due_at\":\"2026-03-02T02:00:00Z\",\"metric\":\"response\",\"target\":3600}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_ESCALATED,
                                         .chain = "l1-breach",
                                         .step = 1,
                                         .action = "notify",
                                         .who = "team_lead",
                                         .due_at = T("2026-03-02T02:00:00Z")},
                  "{\"action\":\"notify\",\"chain\":\"l1-breach\",\"due_at\":\"2026-03-02T02:00:"
                  "00Z\",\"step\":1,\"target\":\"team_lead\",\"user_id\":null}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_OVERRUN_EXPLAINED,
                                         .overrun = 3,
                                         .metric = "resolution",
                                         .reason = "staffing",
                                         .notice_zh = "很抱歉",
                                         .notice_en = "sorry"},
                  "{\"metric\":\"resolution\",\"note\":null,\"notice\":{\"en\":\"sorry\",\"zh\":"
                  "\"很抱歉\"},\"overrun\":3,\"reason\":\"staffing\"}");
    /* closing the loop: a call-back's rating says so, the wait's events,
     * the call, follow-up tasks */
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_RATING,
                                         .satisfaction = 2,
                                         .nps = 4,
                                         .text = "slow",
                                         .source = "callback"},
                  "{\"comment\":\"slow\",\"nps\":4,\"satisfaction\":2,\"source\":\"callback\"}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_CONFIRM_REMINDER,
                                         .due_at = T("2026-03-11T01:45:00Z"),
                                         .deadline = T("2026-03-12T07:00:00Z")},
                  "{\"deadline\":\"2026-03-12T07:00:00Z\",\"due_at\":\"2026-03-11T01:45:00Z\"}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_CONFIRM_TIMEOUT,
                                         .due_at = T("2026-03-12T07:00:00Z"),
                                         .deadline = T("2026-03-12T07:00:00Z")},
                  "{\"deadline\":\"2026-03-12T07:00:00Z\",\"due_at\":\"2026-03-12T07:00:00Z\"}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_CALLBACK, .attempt = 1, .nps = -1},
                  "{\"attempt\":1,\"follow_up\":null,\"note\":null,\"nps\":null,\"reached\":false,"
                  "\"satisfaction\":null}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_CALLBACK,
                                         .attempt = 2,
                                         .reached = true,
                                         .satisfaction = 2,
                                         .nps = 6,
                                         .note = "n",
                                         .follow_up = "f"},
                  "{\"attempt\":2,\"follow_up\":\"f\",\"note\":\"n\",\"nps\":6,\"reached\":true,"
                  "\"satisfaction\":2}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_TASK_OPENED,
                                         .task = 1,
                                         .action = "callback_followup",
                                         .user_id = 7,
                                         .team_id = 2,
                                         .note = "call back"},
                  "{\"assignee_id\":7,\"kind\":\"callback_followup\",\"note\":\"call back\","
                  "\"task\":1,\"team_id\":2}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_TASK_DONE, .task = 1},
                  "{\"note\":null,\"task\":1}");
    /* time accounting: an entry with its reply, and a correction withdrawing one */
    check_encoded(
        &(struct kw_event_rec){
            .kind = KW_EVENT_TIME_SPENT, .seconds = 1800, .team_id = 2, .comment_seq = 5},
        "{\"comment\":5,\"corrects\":null,\"note\":null,\"seconds\":1800,"
        "\"team_id\":2}");
    check_encoded(
        &(struct kw_event_rec){
            .kind = KW_EVENT_TIME_SPENT, .seconds = 0, .corrects = 6, .note = "not this ticket"},
        "{\"comment\":null,\"corrects\":6,\"note\":\"not this ticket\",\"seconds\":0,"
        "\"team_id\":null}");
    /* edits: a region (a clock event), a title with its text before, a requester */
    struct kw_event_rec region = {.kind = KW_EVENT_REGION, .from = "north"};
    region.attrs.v[KW_ATTR_REGION] = "south";
    check_encoded(&region, "{\"from\":\"north\",\"region\":\"south\"}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_EDITED,
                                         .name = "title",
                                         .from = "打印机坏了",
                                         .text = "Printer on 3F jams",
                                         .reason = "typo"},
                  "{\"field\":\"title\",\"from\":\"打印机坏了\",\"reason\":\"typo\","
                  "\"to\":\"Printer on 3F jams\"}");
    check_encoded(
        &(struct kw_event_rec){.kind = KW_EVENT_REQUESTER, .requester_id = 9, .user_id = 0},
        "{\"from\":null,\"requester_id\":9}");
    /* links and merges: a comment moved from a duplicate keeps its author and time */
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_COMMENT,
                                         .text = "same printer",
                                         .moved_from = 7,
                                         .author_id = 3,
                                         .written_at = 86400},
                  "{\"author\":3,\"internal\":false,\"moved_from\":7,\"text\":\"same printer\","
                  "\"written_at\":\"1970-01-02T00:00:00Z\"}");
    check_encoded(
        &(struct kw_event_rec){
            .kind = KW_EVENT_LINKED, .other = 12, .link = "duplicate_of", .cross_org = true},
        "{\"cross_org\":true,\"link\":\"duplicate_of\",\"ticket\":12}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_UNLINKED, .other = 4, .link = "related"},
                  "{\"link\":\"related\",\"ticket\":4}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_MERGED, .other = 4, .link = "into"},
                  "{\"into\":4}");
    check_encoded(&(struct kw_event_rec){.kind = KW_EVENT_MERGED,
                                         .other = 9,
                                         .link = "from",
                                         .task = 2,
                                         .attempt = 1,
                                         .reason = "same outage"},
                  "{\"comments\":2,\"files\":1,\"from\":9,\"reason\":\"same outage\"}");
}

static void test_refusals(void **state)
{
    (void)state;
    struct kw_err err = {0};
    struct kw_event_rec r;
    json_t *hold;
    /* named rows: type, body, code, pointer */
    static const struct {
        const char *name, *type, *body, *field;
    } bad[] = {
        {"an unknown type", "teleported", "{}", "/type"},
        {"a body that is not an object", "comment", "[1]", ""},
        {"text that is not JSON", "comment", "{", ""},
        {"a string member of the wrong type", "state", "{\"state\":3}", "/state"},
        {"an id member of the wrong type", "assigned", "{\"assignee_id\":\"4\"}", "/assignee_id"},
        {"an instant that is not one", "sla_breach", "{\"metric\":\"m\",\"deadline\":\"soon\"}",
         "/deadline"},
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        memset(&err, 0, sizeof(err));
        if (kw_event_decode(bad[i].type, bad[i].body, &r, &hold, &err) != KW_INVALID)
            fail_msg("%s: accepted", bad[i].name);
        assert_null(hold);
        if (strcmp(err.field, bad[i].field) != 0 || !err.msg[0])
            fail_msg("%s: field \"%s\" (%s)", bad[i].name, err.field, err.msg);
    }
    /* what older builds wrote: a state without from, extra members */
    assert_int_equal(
        kw_event_decode("state", "{\"state\":\"analysing\",\"extra\":1}", &r, &hold, &err), KW_OK);
    assert_string_equal(r.state, "analysing");
    assert_null(r.from);
    json_decref(hold);
    /* an encoder refuses a record without what its kind needs */
    assert_null(kw_event_encode(&(struct kw_event_rec){.kind = KW_EVENT_COMMENT}, &err));
    assert_int_equal(err.code, KW_INVALID);
    assert_string_equal(err.msg, "a comment event needs text");
}

static void test_names_and_clocks(void **state)
{
    (void)state;
    enum kw_event_kind k;
    for (int i = 0; i < KW_EVENT_KIND_COUNT; i++) {
        assert_true(kw_event_kind_parse(kw_event_kind_name((enum kw_event_kind)i), &k));
        assert_int_equal(k, i);
    }
    assert_false(kw_event_kind_parse("Comment", &k));
    assert_string_equal(kw_event_kind_name(KW_EVENT_KIND_COUNT), "?");
    /* which kinds the clocks see, and as what */
    static const struct {
        const char *type, *body;
        int clock; /* -1: ignored */
        const char *name;
    } rows[] = {
        {"created", "{\"title\":\"t\",\"level\":\"L2\"}", KW_EV_CREATED, NULL},
        {"state", "{\"state\":\"feedback\"}", KW_EV_STATE, "feedback"},
        {"reopened", "{\"state\":\"handling\"}", KW_EV_REOPENED, "handling"},
        {"milestone", "{\"milestone\":\"resolved\"}", KW_EV_MILESTONE, "resolved"},
        {"level", "{\"level\":\"L1\",\"from\":\"L2\"}", KW_EV_LEVEL, NULL},
        {"category", "{\"category\":\"c\",\"from\":null}", KW_EV_CATEGORY, NULL},
        {"region", "{\"region\":\"south\",\"from\":\"north\"}", KW_EV_ATTRS, NULL},
        {"edited", "{\"field\":\"title\",\"to\":\"x\"}", -1, NULL},
        {"requester", "{\"requester_id\":3}", -1, NULL},
        {"comment", "{\"text\":\"x\"}", -1, NULL},
        {"assigned", "{\"assignee_id\":1}", -1, NULL},
        {"sla_breach", "{\"metric\":\"m\"}", -1, NULL},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        struct kw_event_rec r;
        struct kw_event e;
        json_t *hold;
        assert_int_equal(kw_event_decode(rows[i].type, rows[i].body, &r, &hold, NULL), KW_OK);
        bool seen = kw_event_clock(&r, 42, &e);
        if (seen != (rows[i].clock >= 0))
            fail_msg("%s: clock %d", rows[i].type, seen);
        if (seen) {
            assert_int_equal(e.type, rows[i].clock);
            assert_int_equal(e.at, 42);
            if (rows[i].name)
                assert_string_equal(e.name, rows[i].name);
        }
        if (strcmp(rows[i].type, "created") == 0)
            assert_string_equal(e.attrs.v[KW_ATTR_LEVEL], "L2");
        if (strcmp(rows[i].type, "level") == 0)
            assert_string_equal(e.attrs.v[KW_ATTR_LEVEL], "L1");
        if (strcmp(rows[i].type, "region") == 0) { /* only the region changes */
            assert_string_equal(e.attrs.v[KW_ATTR_REGION], "south");
            assert_null(e.attrs.v[KW_ATTR_LEVEL]);
        }
        json_decref(hold);
    }
}

static void test_chain(void **state)
{
    (void)state;
    struct kw_err err = {0};
    char *c = kw_chain_canonical("{ \"title\": \"Down\", \"org_id\": 2, \"level\": \"L1\" }", &err);
    assert_string_equal(c, "{\"level\":\"L1\",\"org_id\":2,\"title\":\"Down\"}");
    unsigned char prev[KW_HASH_BYTES] = {0}, out[KW_HASH_BYTES];
    /* 2026-03-02T01:00:00Z; hashlib.blake2b(digest_size=32) over the same bytes */
    kw_event_hash(prev, 7, 1, 1772413200, "created", 3, c, out);
    char hex[2 * KW_HASH_BYTES + 1];
    for (size_t i = 0; i < KW_HASH_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    assert_string_equal(hex, "fbaf320a41b83ba988d099a668ffc8cdc3a9185ca8c6329f66f0754c97d607d4");
    free(c);
    assert_null(kw_chain_canonical("{\"a\":1,\"a\":2}", &err));
    assert_int_equal(err.code, KW_INVALID);
    assert_null(kw_chain_canonical("[]", &err));
    c = kw_chain_canonical(NULL, &err);
    assert_string_equal(c, "{}");
    free(c);
}

/* kw_canon writes the bytes kw_chain_canonical gives for the same members
 * (the create path's hashes depend on it): every control character, quotes,
 * backslashes, slashes, DEL and multi-byte UTF-8; a text that is not UTF-8
 * is left to the JSON library. */
static void test_canon_writer(void **state)
{
    (void)state;
    char ctl[40];
    for (int i = 1; i < 32; i++)
        ctl[i - 1] = (char)i;
    snprintf(ctl + 31, sizeof(ctl) - 31, "\"\\/\x7f");
    /* past the 255 bytes a value is copied with its quote at once, and
     * one escaped there (#20) */
    char longer[300], longer_esc[300];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer_esc, longer, sizeof(longer));
    longer_esc[280] = '\n';
    const char *const texts[] = {"",
                                 "Down",
                                 ctl,
                                 "打印机卡纸 \"tray 2\"",
                                 "a\\b/c\u2028d",
                                 "emoji \xF0\x9F\x98\x80 é",
                                 longer,
                                 longer + 45,
                                 longer_esc};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:I}", "title", texts[i], "category", "hw",
                              "org_id", (json_int_t)-42, "description", texts[i], "requester_id",
                              (json_int_t)INT64_MAX);
        char *text = json_dumps(j, JSON_COMPACT);
        struct kw_err err = {0};
        char *want = kw_chain_canonical(text, &err);
        struct kw_canon c;
        kw_canon_begin(&c);
        kw_canon_str(&c, "category", "hw");
        kw_canon_str(&c, "channel", NULL);
        kw_canon_str(&c, "description", texts[i]);
        kw_canon_int(&c, "org_id", -42);
        kw_canon_int(&c, "requester_id", INT64_MAX);
        kw_canon_str(&c, "title", texts[i]);
        char *got = kw_canon_end(&c);
        assert_non_null(want);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
        free(want);
        free(text);
        json_decref(j);
    }
    struct kw_canon c;
    /* a key too long for the member's start at once (none is, today) */
    const char *key = "a_key_of_more_than_sixty_bytes_which_no_event_body_has_today_at_all";
    kw_canon_begin(&c);
    kw_canon_str(&c, key, "v");
    kw_canon_int(&c, "n", 1);
    kw_canon_null(&c, key + 1);
    char *got = kw_canon_end(&c);
    char want[200];
    snprintf(want, sizeof(want), "{\"%s\":\"v\",\"n\":1,\"%s\":null}", key, key + 1);
    assert_string_equal(got, want);
    free(got);
    kw_canon_begin(&c);
    kw_canon_str(&c, "title", "bad \xC3\x28 byte");
    assert_null(kw_canon_end(&c));
    kw_canon_begin(&c);
    char *empty = kw_canon_end(&c);
    assert_string_equal(empty, "{}");
    free(empty);
}

/* A body taken as canonical without a JSON tree is exactly what the JSON
 * library prints back, and one it would change is not taken (one row per
 * case: the text, and whether the fast way may take it). */
static void test_canonical_fast(void **state)
{
    (void)state;
    static const struct {
        const char *name, *body;
        bool fast;
    } rows[] = {
        {"empty", "{}", true},
        {"sorted", "{\"a\":1,\"b\":\"x\",\"c\":null,\"d\":true,\"e\":false}", true},
        {"nested", "{\"a\":{\"b\":[1,-2,{\"c\":[]}],\"d\":{}},\"e\":[\"x\",[]]}", true},
        {"escapes", "{\"t\":\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001F\"}", true},
        {"utf8", "{\"t\":\"\xE6\x89\x93 \xF0\x9F\x98\x80 \x7f /\"}", true},
        {"int64", "{\"a\":-922337203685477580,\"b\":0}", true},
        {"prefix keys", "{\"a\":1,\"ab\":2,\"b\":3}", true},
        {"unsorted", "{\"b\":1,\"a\":2}", false},
        {"repeated", "{\"a\":1,\"a\":1}", false},
        {"spaces", "{ \"a\": 1 }", false},
        {"real", "{\"a\":1.5}", false},
        {"exponent", "{\"a\":1e3}", false},
        {"minus zero", "{\"a\":-0}", false},
        {"long int", "{\"a\":12345678901234567890}", false},
        {"lower hex", "{\"a\":\"\\u001f\"}", false},
        {"short as u", "{\"a\":\"\\u000A\"}", false},
        {"nul", "{\"a\":\"\\u0000\"}", false},
        {"slash escaped", "{\"a\":\"\\/\"}", false},
        {"non-ascii u", "{\"a\":\"\\u00e9\"}", false},
        {"raw control", "{\"a\":\"\x01\"}", false},
        {"bad utf8", "{\"a\":\"\xC3\x28\"}", false},
        {"surrogate", "{\"a\":\"\xED\xA0\x80\"}", false},
        {"escaped key", "{\"a\\n\":1}", false},
        {"trailing", "{\"a\":1} ", false},
        {"array", "[1]", false},
        {"leading zero", "{\"a\":01}", false},
        {"truncated", "{\"a\":\"x", false},
        {"true prefix", "{\"a\":tru}", false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool fast = kw_chain_is_canonical(rows[i].body);
        if (fast != rows[i].fast)
            fail_msg("%s: taken as canonical %d, expected %d", rows[i].name, fast, rows[i].fast);
        json_t *j = json_loads(rows[i].body, JSON_REJECT_DUPLICATES, NULL);
        char *lib = json_is_object(j) ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        struct kw_err err = {0};
        char *got = kw_chain_canonical(rows[i].body, &err);
        if (fast && (!lib || strcmp(lib, rows[i].body) != 0))
            fail_msg("%s: the JSON library prints %s", rows[i].name, lib ? lib : "(refused)");
        if ((lib == NULL) != (got == NULL) || (lib && strcmp(lib, got) != 0))
            fail_msg("%s: canonical %s, the JSON library %s", rows[i].name, got ? got : "(none)",
                     lib ? lib : "(none)");
        free(got);
        free(lib);
        json_decref(j);
    }
    assert_false(kw_chain_is_canonical(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_writer), cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_refusals),     cmocka_unit_test(test_names_and_clocks),
        cmocka_unit_test(test_chain),        cmocka_unit_test(test_canonical_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
