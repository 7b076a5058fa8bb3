// SPDX-License-Identifier: MIT
/* The application layer on a real store: who may do what to which
 * organisation's ticket (one table, every action by every kind of actor),
 * the events each action writes, and the rules the channels rely on
 * (implied milestones, rating by the requester's organisation once per
 * proposed resolution, titles that say something, idempotency keys bound to
 * their request, changes as events only when something changed, the reopen
 * window). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "attachments.h"
#include "people.h"
#include "tickets.h"
#include "testutil.h"

static const char policy[] =
    "{\"name\":\"t\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00+08:00\","
    "\"calendars\":{\"all\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"00:00\",\"24:00\"]],"
    "\"tue\":[[\"00:00\",\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\","
    "\"24:00\"]],\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],\"sun\":[["
    "\"00:00\",\"24:00\"]]}}},\"levels\":[\"L1\",\"L2\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"]}],"
    "\"targets\":[{\"calendar\":\"all\",\"response\":\"2h\"}]}";

struct fx {
    char dir[64], path[128];
    struct kw_store *st;
    struct kw_sla sla;
    struct kw_unit u;
    int64_t org, other, team;
    struct kw_actor agent, customer, stranger, system;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct kw_err err = {0};
    snprintf(f->dir, sizeof(f->dir), "/tmp/kw-app-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/kw.db", f->dir);
    f->st = kw_store_open(f->path, &err);
    kw_sla_init(&f->sla);
    f->u = (struct kw_unit){.st = f->st,
                            .clocks = kw_clocks_new(&err),
                            .sla = &f->sla,
                            .now = T("2026-03-02T01:00:00Z")};
    struct kw_org org = {.name = "Acme", .tier = "vip"}, other = {.name = "Other"};
    int64_t cid, agent, customer, stranger;
    struct kw_user a = {.email = "a@x", .name = "a", .role = "agent"};
    assert_int_equal(kw_store_org_insert(f->st, &org, 0, &f->org, &err), KW_OK);
    assert_int_equal(kw_store_org_insert(f->st, &other, 0, &f->other, &err), KW_OK);
    struct kw_user c = {.email = "c@x", .name = "c", .role = "customer", .org_id = f->org};
    struct kw_user s = {.email = "s@x", .name = "s", .role = "customer", .org_id = f->other};
    assert_int_equal(kw_store_user_insert(f->st, &a, NULL, 0, &agent, &err), KW_OK);
    assert_int_equal(kw_store_user_insert(f->st, &c, NULL, 0, &customer, &err), KW_OK);
    assert_int_equal(kw_store_user_insert(f->st, &s, NULL, 0, &stranger, &err), KW_OK);
    assert_int_equal(kw_store_team_insert(f->st, "desk", 0, 0, &f->team, &err), KW_OK);
    assert_int_equal(kw_store_commitment_insert(f->st, "t", "1", T("2026-01-01T00:00:00+08:00"),
                                                policy, 0, &cid, &err),
                     KW_OK);
    f->agent = (struct kw_actor){.id = agent, .role = KW_ROLE_AGENT};
    f->customer = (struct kw_actor){.id = customer, .org_id = f->org, .role = KW_ROLE_CUSTOMER};
    f->stranger = (struct kw_actor){.id = stranger, .org_id = f->other, .role = KW_ROLE_CUSTOMER};
    f->system = KW_ACTOR_SYSTEM;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[160];
    kw_sla_release(&f->sla);
    kw_clocks_free(f->u.clocks);
    kw_store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

static int64_t open_ticket(struct fx *f)
{
    struct kw_ticket_in in = {.org_id = f->org, .title = "Down", .level = "L2"};
    int64_t id;
    bool existed;
    struct kw_err err = {0};
    if (kw_ticket_create(&f->u, &f->agent, &in, &id, &existed, &err) != KW_OK)
        fail_msg("create: %s", err.msg);
    return id;
}

/* The event types of a ticket, space-separated. */
static bool type_add(const struct kw_stored_event *ev, void *ctx)
{
    char *buf = ctx;
    size_t n = strlen(buf);
    snprintf(buf + n, 512 - n, "%s%s", n ? " " : "", ev->type);
    return true;
}

static const char *types(struct fx *f, int64_t id)
{
    static char buf[512];
    buf[0] = '\0';
    assert_int_equal(kw_store_events(f->st, id, type_add, buf, NULL), KW_OK);
    return buf;
}

static struct kw_move mv;

enum act {
    A_COMMENT,
    A_NOTE,
    A_MOVE,
    A_MILESTONE,
    A_RATE,
    A_CHANGE,
    A_EDIT,
    A_REOPEN,
    A_FILE,
    A_FILE_INTERNAL
};

static enum kw_code run(struct fx *f, enum act a, const struct kw_actor *who, int64_t id,
                        struct kw_err *err)
{
    struct kw_ticket_change ch = {.level = "L1"};
    switch (a) {
    case A_COMMENT:
        return kw_ticket_comment(&f->u, who, id, "hello", false, err);
    case A_NOTE:
        return kw_ticket_comment(&f->u, who, id, "psst", true, err);
    case A_MOVE:
        return kw_ticket_move(&f->u, who, id, KW_ST_HANDLING, NULL, &mv, err);
    case A_MILESTONE:
        return kw_ticket_milestone(&f->u, who, id, "first_response", err);
    case A_RATE:
        return kw_ticket_rate(&f->u, who, id, 5, 9, NULL, err);
    case A_CHANGE:
        return kw_ticket_change(&f->u, who, id, &ch, err);
    case A_EDIT:
        return kw_ticket_change(&f->u, who, id,
                                &(struct kw_ticket_change){.title = "Printer on 3F jams"}, err);
    case A_FILE:
    case A_FILE_INTERNAL: {
        struct kw_attachment_in in = {.name = "log.txt",
                                      .content_type = "text/plain",
                                      .data = "x",
                                      .size = 1,
                                      .internal = a == A_FILE_INTERNAL,
                                      .ticket_max = 1 << 20};
        int64_t aid;
        if (kw_attachment_prepare(&in, err) != KW_OK)
            return err->code;
        return kw_ticket_attach(&f->u, who, id, &in, &aid, NULL, err);
    }
    default:
        return kw_ticket_reopen(&f->u, who, id, NULL, &mv, err);
    }
}

static void test_who_may(void **state)
{
    struct fx *f = *state;
    /* on a new (registered) ticket of Acme: the code each actor gets */
    static const struct {
        const char *name;
        enum act a;
        enum kw_code agent, customer, stranger, system;
        const char *customer_field;
    } rows[] = {
        {"comment", A_COMMENT, KW_OK, KW_OK, KW_NOT_FOUND, KW_OK, ""},
        {"internal note", A_NOTE, KW_OK, KW_FORBIDDEN, KW_NOT_FOUND, KW_OK, "/internal"},
        {"move", A_MOVE, KW_OK, KW_FORBIDDEN, KW_NOT_FOUND, KW_OK, "/to"},
        {"milestone", A_MILESTONE, KW_OK, KW_FORBIDDEN, KW_NOT_FOUND, KW_OK, "/type"},
        {"rate before a resolution", A_RATE, KW_FORBIDDEN, KW_CONFLICT, KW_NOT_FOUND, KW_FORBIDDEN,
         "/type"},
        {"change the level", A_CHANGE, KW_OK, KW_FORBIDDEN, KW_NOT_FOUND, KW_OK, "/level"},
        {"edit the title", A_EDIT, KW_OK, KW_OK, KW_NOT_FOUND, KW_FORBIDDEN, ""},
        {"reopen an open ticket", A_REOPEN, KW_CONFLICT, KW_CONFLICT, KW_NOT_FOUND, KW_CONFLICT,
         ""},
        {"attach a file", A_FILE, KW_OK, KW_OK, KW_NOT_FOUND, KW_FORBIDDEN, ""},
        {"attach an internal file", A_FILE_INTERNAL, KW_OK, KW_FORBIDDEN, KW_NOT_FOUND,
         KW_FORBIDDEN, "/internal"},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        const struct kw_actor *who[] = {&f->agent, &f->customer, &f->stranger, &f->system};
        const enum kw_code want[] = {rows[i].agent, rows[i].customer, rows[i].stranger,
                                     rows[i].system};
        for (size_t k = 0; k < 4; k++) {
            int64_t id = open_ticket(f);
            struct kw_err err = {0};
            enum kw_code rc = run(f, rows[i].a, who[k], id, &err);
            if (rc != want[k])
                fail_msg("%s by actor %zu: %s (%s)", rows[i].name, k, kw_code_name(rc), err.msg);
            if (k == 1 && rc != KW_OK)
                assert_string_equal(err.field, rows[i].customer_field);
            if (k == 2 && rc == KW_NOT_FOUND) /* another organisation's: as if it were not there */
                assert_string_equal(err.msg, "no such ticket");
            if (rc != KW_OK) /* a refusal writes nothing */
                assert_string_equal(types(f, id), "created");
        }
    }
}

static void same_str(const char *name, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        fail_msg("%s: made \"%s\", stored \"%s\"", name, a ? a : "(null)", b ? b : "(null)");
}

/* The row a create hands back (kw_ticket_in.made) is the row stored. */
static void test_create_made(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    const struct {
        const char *name;
        const struct kw_actor *who;
        struct kw_ticket_in in;
    } rows[] = {
        {"a customer's, on the organisation's terms",
         &f->customer,
         {.title = "Printer", .level = "L2", .via = "web"}},
        {"staff's, every attribute given",
         &f->agent,
         {.org_id = f->org,
          .title = "Mail down",
          .level = "L1",
          .tier = "vip",
          .category = "software",
          .region = "domestic",
          .channel = "phone",
          .description = "since nine"}},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kw_ticket_made m = {.set = false};
        struct kw_ticket_in in = rows[i].in;
        in.made = &m;
        int64_t id;
        bool existed;
        if (kw_ticket_create(&f->u, rows[i].who, &in, &id, &existed, &err) != KW_OK)
            fail_msg("%s: %s", rows[i].name, err.msg);
        assert_true(m.set);
        struct kw_ticket_row t;
        assert_int_equal(kw_store_ticket_get(f->st, id, &t, &err), KW_OK);
        const struct kw_ticket_row *r = &m.row;
        int64_t made[] = {r->id,         r->org_id,   r->created_by,    r->created_at,
                          r->updated_at, r->last_seq, r->commitment_id, r->assignee_id,
                          r->team_id,    r->next_due, r->breached_at,   r->requester_id},
                stored[] = {t.id,         t.org_id,   t.created_by,    t.created_at,
                            t.updated_at, t.last_seq, t.commitment_id, t.assignee_id,
                            t.team_id,    t.next_due, t.breached_at,   t.requester_id};
        for (size_t k = 0; k < sizeof(made) / sizeof(made[0]); k++)
            if (made[k] != stored[k])
                fail_msg("%s: field %zu: made %lld, stored %lld", rows[i].name, k,
                         (long long)made[k], (long long)stored[k]);
        assert_true(r->commitment_id != 0 && r->next_due != KW_STORE_NO_TIME);
        same_str("title", r->title, t.title);
        same_str("state", r->state, t.state);
        same_str("level", r->level, t.level);
        same_str("tier", r->tier, t.tier);
        same_str("category", r->category, t.category);
        same_str("region", r->region, t.region);
        same_str("channel", r->channel, t.channel);
        assert_memory_equal(r->head, t.head, KW_HASH_BYTES);
        kw_store_end_read(f->st);
        /* the same key again: the first ticket, not made here */
        if (i == 0) {
            in.idempotency_key = "made";
            assert_int_equal(kw_ticket_create(&f->u, rows[i].who, &in, &id, &existed, &err), KW_OK);
            assert_true(m.set);
            assert_int_equal(kw_ticket_create(&f->u, rows[i].who, &in, &id, &existed, &err), KW_OK);
            assert_true(existed);
            assert_false(m.set);
        }
    }
}

static void test_create(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id;
    bool existed;
    /* a customer's ticket is their organisation's, on its terms */
    struct kw_ticket_in in = {.title = "Printer", .level = "L2"};
    assert_int_equal(kw_ticket_create(&f->u, &f->customer, &in, &id, &existed, &err), KW_OK);
    struct kw_ticket_row t;
    assert_int_equal(kw_store_ticket_get(f->st, id, &t, &err), KW_OK);
    assert_int_equal(t.org_id, f->org);
    assert_string_equal(t.tier, "vip");
    kw_store_end_read(f->st);
    in.org_id = f->other;
    assert_int_equal(kw_ticket_create(&f->u, &f->customer, &in, &id, &existed, &err), KW_FORBIDDEN);
    assert_string_equal(err.field, "/org_id");
    in = (struct kw_ticket_in){.title = "Printer", .level = "L2", .tier = "strategic"};
    assert_int_equal(kw_ticket_create(&f->u, &f->customer, &in, &id, &existed, &err), KW_FORBIDDEN);
    assert_string_equal(err.field, "/tier");
    /* staff name the organisation; attributes must be the commitment's */
    in = (struct kw_ticket_in){.title = "Printer", .level = "L2"};
    assert_int_equal(kw_ticket_create(&f->u, &f->agent, &in, &id, &existed, &err), KW_INVALID);
    assert_string_equal(err.msg, "org_id: missing (the customer organisation)");
    in.org_id = f->org;
    in.level = "L9";
    assert_int_equal(kw_ticket_create(&f->u, &f->agent, &in, &id, &existed, &err), KW_INVALID);
    assert_string_equal(err.field, "/level");
    assert_string_equal(err.msg, "level: \"L9\" is not in the commitment (t 1)");
    in.level = NULL;
    assert_int_equal(kw_ticket_create(&f->u, &f->agent, &in, &id, &existed, &err), KW_INVALID);
    assert_string_equal(err.msg, "level: missing");
    in.org_id = 999;
    in.level = "L2";
    assert_int_equal(kw_ticket_create(&f->u, &f->agent, &in, &id, &existed, &err), KW_NOT_FOUND);
    assert_string_equal(err.field, "/org_id");
    assert_int_equal(kw_ticket_create(&f->u, &f->system, &in, &id, &existed, &err), KW_FORBIDDEN);
    /* the same idempotency key gives the first ticket back */
    in = (struct kw_ticket_in){
        .org_id = f->org, .title = "Once", .level = "L2", .idempotency_key = "k1"};
    int64_t first;
    assert_int_equal(kw_ticket_create(&f->u, &f->agent, &in, &first, &existed, &err), KW_OK);
    assert_false(existed);
    /* the projection is there at once, with the breach to fire (once
     * its second is over) */
    assert_int_equal(f->u.fire_at, T("2026-03-02T03:00:01Z"));
    assert_int_equal(kw_ticket_create(&f->u, &f->agent, &in, &id, &existed, &err), KW_OK);
    assert_true(existed);
    assert_int_equal(id, first);
    assert_int_equal(f->u.fire_at, KW_STORE_NO_TIME); /* nothing new to schedule */
    /* the same key with another request is refused, and writes nothing */
    static const struct {
        const char *name, *title, *tier, *channel;
    } other[] = {
        {"another title", "Twice", NULL, NULL},
        {"a member added", "Once", "vip", NULL},
        {"another member added", "Once", NULL, "web"},
    };
    for (size_t i = 0; i < N_ELEMS(other); i++) {
        struct kw_ticket_in o = in;
        o.title = other[i].title;
        o.tier = other[i].tier;
        o.channel = other[i].channel;
        if (kw_ticket_create(&f->u, &f->agent, &o, &id, &existed, &err) != KW_UNPROCESSABLE)
            fail_msg("%s: %s", other[i].name, err.msg);
        assert_false(existed);
        assert_non_null(strstr(err.msg, "Idempotency-Key: already used for a different request"));
    }
    /* a key is the caller's: another person's same key is a new ticket */
    in.org_id = 0;
    assert_int_equal(kw_ticket_create(&f->u, &f->customer, &in, &id, &existed, &err), KW_OK);
    assert_false(existed);
    assert_true(id != first);
    /* a customer's own organisation, left out or named, is the same request */
    in.org_id = f->org;
    assert_int_equal(kw_ticket_create(&f->u, &f->customer, &in, &first, &existed, &err), KW_OK);
    assert_true(existed);
    assert_int_equal(first, id);
}

/* Staff log a ticket for a customer of the organisation, by the channel
 * the customer used; a customer's request is their own, by the channel it
 * came in by. */
static void test_requester_and_channel(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id;
    bool existed;
    const struct {
        const char *name;
        const struct kw_actor *who;
        struct kw_ticket_in in;
        enum kw_code want;
        const char *field, *channel; /* the channel stored (when KW_OK) */
        bool requester;              /* the customer is the requester (when KW_OK) */
    } rows[] = {
        {"staff log a phone call for a customer",
         &f->agent,
         {.org_id = f->org, .requester_id = f->customer.id, .channel = "phone", .via = "web"},
         KW_OK,
         "",
         "phone",
         true},
        {"staff without a channel: how the request came in",
         &f->agent,
         {.org_id = f->org, .via = "api"},
         KW_OK,
         "",
         "api",
         false},
        {"a requester of another organisation",
         &f->agent,
         {.org_id = f->org, .requester_id = f->stranger.id},
         KW_INVALID,
         "/requester_id",
         NULL,
         false},
        {"a requester who is staff",
         &f->agent,
         {.org_id = f->org, .requester_id = f->agent.id},
         KW_INVALID,
         "/requester_id",
         NULL,
         false},
        {"an unknown requester",
         &f->agent,
         {.org_id = f->org, .requester_id = 9999},
         KW_INVALID,
         "/requester_id",
         NULL,
         false},
        {"a customer's request is theirs, by the way it came",
         &f->customer,
         {.via = "web"},
         KW_OK,
         "",
         "web",
         true},
        {"a customer may repeat that channel",
         &f->customer,
         {.via = "api", .channel = "api"},
         KW_OK,
         "",
         "api",
         true},
        {"but not name another",
         &f->customer,
         {.via = "web", .channel = "phone"},
         KW_FORBIDDEN,
         "/channel",
         NULL,
         false},
        {"nor another requester",
         &f->customer,
         {.requester_id = f->stranger.id, .via = "web"},
         KW_FORBIDDEN,
         "/requester_id",
         NULL,
         false},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        struct kw_ticket_in in = rows[i].in;
        in.title = "Call";
        in.level = "L2";
        err = (struct kw_err){0};
        enum kw_code rc = kw_ticket_create(&f->u, rows[i].who, &in, &id, &existed, &err);
        if (rc != rows[i].want || strcmp(err.field, rows[i].field) != 0)
            fail_msg("%s: got %d (%s %s)", rows[i].name, rc, err.field, err.msg);
        if (rc != KW_OK)
            continue;
        struct kw_ticket_row t;
        assert_int_equal(kw_store_ticket_get(f->st, id, &t, &err), KW_OK);
        if (strcmp(t.channel, rows[i].channel) != 0 ||
            t.requester_id != (rows[i].requester ? f->customer.id : 0))
            fail_msg("%s: channel %s, requester %lld", rows[i].name, t.channel,
                     (long long)t.requester_id);
        kw_store_end_read(f->st);
    }
}

static void test_blank_title(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *name, *title;
        bool blank;
    } rows[] = {
        {"empty", "", true},
        {"spaces", "   ", true},
        {"tabs and newlines", "\t\r\n \v\f", true},
        {"no-break space", "\xC2\xA0", true},
        {"ideographic space (全角空格)", "\xE3\x80\x80\xE3\x80\x80", true},
        {"en quad to hair space", "\xE2\x80\x80\xE2\x80\x8A", true},
        {"zero width space and BOM", "\xE2\x80\x8B\xEF\xBB\xBF", true},
        {"line and paragraph separators", "\xE2\x80\xA8\xE2\x80\xA9", true},
        {"narrow no-break and medium mathematical space", "\xE2\x80\xAF\xE2\x81\x9F", true},
        {"a word between spaces", "  VPN down  ", false},
        {"Chinese after an ideographic space", "\xE3\x80\x80\xE6\x96\xAD\xE7\xBD\x91", false},
        {"a dot", ".", false},
        {"a letter after a no-break space", "\xC2\xA0x", false},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        if (kw_app_blank(rows[i].title) != rows[i].blank)
            fail_msg("%s: blank should be %d", rows[i].name, rows[i].blank);
        struct kw_ticket_in in = {.org_id = f->org, .title = rows[i].title, .level = "L2"};
        struct kw_err err = {0};
        int64_t id;
        bool existed;
        enum kw_code rc = kw_ticket_create(&f->u, &f->agent, &in, &id, &existed, &err);
        if (rc != (rows[i].blank ? KW_INVALID : KW_OK))
            fail_msg("%s: %s (%s)", rows[i].name, kw_code_name(rc), err.msg);
        if (rows[i].blank)
            assert_string_equal(err.field, "/title");
    }
}

/* Rate ticket id as who; the code. */
static enum kw_code rate(struct fx *f, const struct kw_actor *who, int64_t id, int satisfaction,
                         struct kw_err *err)
{
    return kw_ticket_rate(&f->u, who, id, satisfaction, -1, NULL, err);
}

static void test_rating(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id = open_ticket(f);
    assert_int_equal(kw_ticket_move(&f->u, &f->agent, id, KW_ST_HANDLING, NULL, &mv, &err), KW_OK);
    assert_int_equal(kw_ticket_move(&f->u, &f->agent, id, KW_ST_FEEDBACK, NULL, &mv, &err), KW_OK);
    const char *before = "created state state milestone";
    assert_string_equal(types(f, id), before);
    /* only the requester's organisation rates: not the provider's people */
    struct kw_actor manager = {.id = f->agent.id, .role = KW_ROLE_MANAGER};
    struct kw_actor admin = {.id = f->agent.id, .role = KW_ROLE_ADMIN};
    static const struct {
        const char *name;
        int who; /* 0 agent, 1 manager, 2 admin, 3 system, 4 another organisation */
        enum kw_code want;
        const char *field;
    } refused[] = {
        {"an agent", 0, KW_FORBIDDEN, "/type"},
        {"a manager", 1, KW_FORBIDDEN, "/type"},
        {"an admin", 2, KW_FORBIDDEN, "/type"},
        {"the system", 3, KW_FORBIDDEN, "/type"},
        {"another organisation's customer (as if there were no ticket)", 4, KW_NOT_FOUND, ""},
    };
    const struct kw_actor *who[] = {&f->agent, &manager, &admin, &f->system, &f->stranger};
    for (size_t i = 0; i < N_ELEMS(refused); i++) {
        enum kw_code rc = rate(f, who[refused[i].who], id, 5, &err);
        if (rc != refused[i].want)
            fail_msg("%s: %s (%s)", refused[i].name, kw_code_name(rc), err.msg);
        assert_string_equal(err.field, refused[i].field);
    }
    assert_non_null(strstr((rate(f, &f->agent, id, 5, &err), err.msg),
                           "rated by the customer who asked for it"));
    assert_string_equal(types(f, id), before); /* refusals write nothing */
    /* the customer rates once per resolution, in feedback or archived */
    assert_int_equal(rate(f, &f->customer, id, 4, &err), KW_OK);
    assert_int_equal(rate(f, &f->customer, id, 5, &err), KW_CONFLICT);
    assert_string_equal(err.field, "/type");
    assert_string_equal(err.msg, "this resolution is rated already (satisfaction 4); a ticket is "
                                 "rated once per resolution");
    assert_int_equal(kw_ticket_move(&f->u, &f->customer, id, KW_ST_ARCHIVED, NULL, &mv, &err),
                     KW_OK);
    assert_int_equal(rate(f, &f->customer, id, 5, &err), KW_CONFLICT); /* archiving is no new one */
    /* reopened: no rating while it is worked on; resolved again: a new one */
    assert_int_equal(kw_ticket_reopen(&f->u, &f->customer, id, "again", &mv, &err), KW_OK);
    assert_int_equal(rate(f, &f->customer, id, 5, &err), KW_CONFLICT);
    assert_non_null(strstr(err.msg, "once a resolution is proposed"));
    assert_int_equal(kw_ticket_move(&f->u, &f->agent, id, KW_ST_FEEDBACK, NULL, &mv, &err), KW_OK);
    assert_int_equal(rate(f, &f->customer, id, 2, &err), KW_OK);
    assert_int_equal(rate(f, &f->customer, id, 2, &err), KW_CONFLICT);
    /* a rejected resolution is a reopening too */
    assert_int_equal(kw_ticket_move(&f->u, &f->customer, id, KW_ST_HANDLING, "no", &mv, &err),
                     KW_OK);
    assert_int_equal(kw_ticket_move(&f->u, &f->agent, id, KW_ST_FEEDBACK, NULL, &mv, &err), KW_OK);
    assert_int_equal(rate(f, &f->customer, id, 3, &err), KW_OK);
    /* another customer of the same organisation rates the same resolution: refused */
    struct kw_actor colleague = f->customer;
    colleague.id = f->customer.id + 100;
    assert_int_equal(rate(f, &colleague, id, 5, &err), KW_CONFLICT);
}

static void test_loop(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id = open_ticket(f);
    assert_int_equal(kw_ticket_move(&f->u, &f->agent, id, KW_ST_FEEDBACK, NULL, &mv, &err),
                     KW_CONFLICT); /* registered -> feedback is not a move */
    assert_string_equal(err.field, "/to");
    assert_int_equal(kw_ticket_move(&f->u, &f->agent, id, KW_ST_HANDLING, NULL, &mv, &err), KW_OK);
    assert_int_equal(kw_ticket_move(&f->u, &f->agent, id, KW_ST_FEEDBACK, "fixed", &mv, &err),
                     KW_OK);
    assert_int_equal(mv.from, KW_ST_HANDLING);
    /* the customer rates and confirms: the implied milestones follow */
    assert_int_equal(kw_ticket_rate(&f->u, &f->customer, id, 6, -1, NULL, &err), KW_INVALID);
    assert_string_equal(err.field, "/satisfaction");
    assert_int_equal(kw_ticket_rate(&f->u, &f->customer, id, 5, 11, NULL, &err), KW_INVALID);
    assert_string_equal(err.field, "/nps");
    assert_int_equal(kw_ticket_rate(&f->u, &f->customer, id, 5, 10, "great", &err), KW_OK);
    assert_int_equal(kw_ticket_move(&f->u, &f->customer, id, KW_ST_ARCHIVED, NULL, &mv, &err),
                     KW_OK);
    assert_string_equal(types(f, id), "created state state milestone rating state milestone "
                                      "milestone");
    /* reopened within the window; after it, refused */
    f->u.now += 3600;
    assert_int_equal(kw_ticket_reopen(&f->u, &f->customer, id, "again", &mv, &err), KW_OK);
    assert_int_equal(mv.to, KW_ST_HANDLING);
    assert_int_equal(kw_ticket_move(&f->u, &f->agent, id, KW_ST_FEEDBACK, NULL, &mv, &err), KW_OK);
    f->u.now += 30 * 86400;
    assert_int_equal(kw_ticket_reopen(&f->u, &f->customer, id, NULL, &mv, &err), KW_CONFLICT);
    assert_string_equal(err.field, "");
    f->u.now = T("2026-03-02T01:00:00Z");
}

static void test_change(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id = open_ticket(f);
    struct kw_ticket_change ch = {.assignee_id = f->customer.id};
    assert_int_equal(kw_ticket_change(&f->u, &f->agent, id, &ch, &err), KW_INVALID);
    assert_string_equal(err.field, "/assignee_id");
    ch = (struct kw_ticket_change){.team_id = 4242};
    assert_int_equal(kw_ticket_change(&f->u, &f->agent, id, &ch, &err), KW_NOT_FOUND);
    assert_string_equal(err.field, "/team_id");
    ch = (struct kw_ticket_change){.category = "nope"};
    assert_int_equal(kw_ticket_change(&f->u, &f->agent, id, &ch, &err), KW_OK); /* no vocabulary */
    /* one event per real change, none when nothing changes */
    ch = (struct kw_ticket_change){
        .level = "L1", .assignee_id = f->agent.id, .team_id = f->team, .reason = "VIP"};
    assert_int_equal(kw_ticket_change(&f->u, &f->agent, id, &ch, &err), KW_OK);
    assert_int_equal(kw_ticket_change(&f->u, &f->agent, id, &ch, &err), KW_OK);
    assert_string_equal(types(f, id), "created category level assigned");
    ch = (struct kw_ticket_change){.assignee_id = -1};
    assert_int_equal(kw_ticket_change(&f->u, &f->system, id, &ch, &err), KW_OK);
    struct kw_ticket_row t;
    assert_int_equal(kw_store_ticket_get(f->st, id, &t, &err), KW_OK);
    assert_int_equal(t.assignee_id, 0);
    assert_int_equal(t.team_id, f->team);
    assert_string_equal(t.level, "L1");
    kw_store_end_read(f->st);
}

/* Files: the per-ticket total is checked in the unit; a file of an internal
 * note is internal; the event carries the SHA-256. */
static void test_attachments(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t id = open_ticket(f), aid = 0;
    bool internal = false;
    struct kw_attachment_in in = {.name = "a.bin",
                                  .content_type = "application/octet-stream",
                                  .data = "0123456789",
                                  .size = 10,
                                  .internal = -1,
                                  .ticket_max = 15};
    assert_int_equal(kw_attachment_prepare(&in, &err), KW_OK);
    assert_int_equal(kw_ticket_attach(&f->u, &f->customer, id, &in, &aid, &internal, &err), KW_OK);
    assert_false(internal);
    assert_string_equal(types(f, id), "created attachment");
    err = (struct kw_err){0};
    assert_int_equal(kw_ticket_attach(&f->u, &f->agent, id, &in, &aid, &internal, &err),
                     KW_TOO_BIG);
    assert_string_equal(types(f, id), "created attachment");
    /* a file of an internal note */
    assert_int_equal(kw_ticket_comment(&f->u, &f->agent, id, "note", true, &err), KW_OK);
    in.comment_seq = 3;
    in.size = 2;
    assert_int_equal(kw_attachment_prepare(&in, &err), KW_OK);
    assert_int_equal(kw_ticket_attach(&f->u, &f->agent, id, &in, &aid, &internal, &err), KW_OK);
    assert_true(internal);
    struct kw_attachment_row row;
    assert_int_equal(kw_store_attachment_get(f->st, aid, &row, &err), KW_OK);
    assert_true(kw_attachment_visible(&f->agent, f->org, &row));
    assert_false(kw_attachment_visible(&f->customer, f->org, &row));
    err = (struct kw_err){0};
    assert_int_equal(kw_ticket_attach(&f->u, &f->customer, id, &in, &aid, &internal, &err),
                     KW_NOT_FOUND); /* the customer does not see the note */
    assert_string_equal(err.field, "/comment");
    in.comment_seq = 1; /* created, not a comment */
    assert_int_equal(kw_ticket_attach(&f->u, &f->agent, id, &in, &aid, &internal, &err),
                     KW_NOT_FOUND);
    struct kw_attachment_in raw = {.name = "x", .data = "", .size = 0, .ticket_max = 9};
    assert_int_equal(kw_ticket_attach(&f->u, &f->agent, id, &raw, &aid, NULL, &err), KW_INVALID);
}

/* People and organisations: who may edit what, and what deactivation does. */
static void test_people(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t admin_id = 0, token_id = 0;
    struct kw_user a = {.email = "boss@x", .name = "boss", .role = "admin"};
    assert_int_equal(kw_store_user_insert(f->st, &a, NULL, 0, &admin_id, &err), KW_OK);
    struct kw_actor admin = {.id = admin_id, .role = KW_ROLE_ADMIN};
    struct kw_actor manager = {.id = admin_id + 100, .role = KW_ROLE_MANAGER};
    static const struct {
        const char *name;
        int who; /* 0 admin, 1 the agent themselves, 2 the customer */
        struct kw_user_edit e;
        int target; /* 0 the agent, 1 the admin, 2 the customer */
        enum kw_code want;
        const char *field;
    } rows[] = {
        {"an admin renames the agent", 0, {.name = "Li", .active = -1}, 0, KW_OK, ""},
        {"the agent renames themselves", 1, {.name = "Li Na", .active = -1}, 0, KW_OK, ""},
        {"the agent sets their zone",
         1,
         {.tz = "Asia/Shanghai", .lang = "zh", .active = -1},
         0,
         KW_OK,
         ""},
        {"but not their role", 1, {.role = "admin", .active = -1}, 0, KW_FORBIDDEN, ""},
        {"nor anyone else's name", 2, {.name = "x", .active = -1}, 0, KW_FORBIDDEN, ""},
        {"an unknown zone", 0, {.tz = "Mars/Base", .active = -1}, 0, KW_INVALID, "/tz"},
        {"an unknown language", 0, {.lang = "fr", .active = -1}, 0, KW_INVALID, "/lang"},
        {"staff do not become customers",
         0,
         {.role = "customer", .active = -1},
         0,
         KW_INVALID,
         "/role"},
        {"customers do not become staff",
         0,
         {.role = "agent", .active = -1},
         2,
         KW_INVALID,
         "/role"},
        {"customers are in no team", 0, {.team_id = 1, .active = -1}, 2, KW_INVALID, "/team_id"},
        {"an admin keeps their own role",
         0,
         {.role = "agent", .active = -1},
         1,
         KW_CONFLICT,
         "/role"},
        {"an admin does not deactivate themselves", 0, {.active = 0}, 1, KW_CONFLICT, "/active"},
        {"a name of only spaces", 0, {.name = " ", .active = -1}, 0, KW_INVALID, "/name"},
    };
    const struct kw_actor *who[] = {&admin, &f->agent, &f->customer};
    const int64_t target[] = {f->agent.id, admin_id, f->customer.id};
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        err = (struct kw_err){0};
        enum kw_code rc = kw_app_user_edit(&f->u, who[rows[i].who], target[rows[i].target],
                                           &rows[i].e, NULL, &err);
        if (rc != rows[i].want)
            fail_msg("%s: %s (%s)", rows[i].name, kw_code_name(rc), err.msg);
        if (rc != KW_OK)
            assert_string_equal(err.field, rows[i].field);
    }
    struct kw_user_row r;
    assert_int_equal(kw_store_user_get(f->st, f->agent.id, &r, &err), KW_OK);
    assert_string_equal(r.name, "Li Na");
    assert_string_equal(r.tz, "Asia/Shanghai");
    /* deactivation ends their tokens */
    unsigned char d[KW_HASH_BYTES] = {7};
    assert_int_equal(kw_store_token_insert(f->st, f->agent.id, d, "api", "ci", 0, KW_STORE_NO_TIME,
                                           &token_id, &err),
                     KW_OK);
    bool ended = false;
    struct kw_user_edit off = {.active = 0};
    assert_int_equal(kw_app_user_edit(&f->u, &admin, f->agent.id, &off, &ended, &err), KW_OK);
    assert_true(ended);
    int64_t uid;
    assert_int_equal(kw_store_token_user(f->st, d, 1, &uid, &err), KW_UNAUTHENTICATED);

    /* organisations */
    struct kw_org_edit oe = {.calendar = "nowhere", .active = -1};
    assert_int_equal(kw_app_org_edit(&f->u, &f->agent, f->org, &oe, NULL, &err), KW_FORBIDDEN);
    assert_int_equal(kw_app_org_edit(&f->u, &manager, f->org, &oe, NULL, &err), KW_INVALID);
    assert_string_equal(err.field, "/calendar");
    oe = (struct kw_org_edit){.account_manager_id = f->customer.id, .active = -1};
    assert_int_equal(kw_app_org_edit(&f->u, &manager, f->org, &oe, NULL, &err), KW_INVALID);
    assert_string_equal(err.field, "/account_manager_id");
    oe = (struct kw_org_edit){.account_manager_id = admin_id, .tier = "gold", .active = 0};
    assert_int_equal(kw_app_org_edit(&f->u, &manager, f->org, &oe, &ended, &err), KW_OK);
    assert_true(ended);
    struct kw_ticket_in in = {.org_id = f->org, .title = "Down", .level = "L2"};
    int64_t id;
    bool existed;
    err = (struct kw_err){0};
    assert_int_equal(kw_ticket_create(&f->u, &admin, &in, &id, &existed, &err), KW_CONFLICT);
    assert_string_equal(err.field, "/org_id");
    oe = (struct kw_org_edit){.active = 1};
    assert_int_equal(kw_app_org_edit(&f->u, &manager, f->org, &oe, NULL, &err), KW_OK);
    assert_int_equal(kw_ticket_create(&f->u, &admin, &in, &id, &existed, &err), KW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_who_may, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_made, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requester_and_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blank_title, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attachments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_people, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
