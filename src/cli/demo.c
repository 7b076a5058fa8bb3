// SPDX-License-Identifier: MIT
/* keepword serve --demo: a realistic demo in an empty database - the seeds'
 * L1-L4 commitment (examples/policies/acme.json, built in), three customer
 * organisations of different tiers, agents in two regions, and tickets in
 * every state with clocks met, running, paused and breached. */
#include "demo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "policy.h"
#include "tickets.h"

extern const unsigned char kw_demo_policy[]; /* generated from acme.json */

#define DEMO_PASSWORD "keepword-demo"

struct step {
    int64_t after;    /* seconds after the ticket was opened */
    const char *type; /* "milestone" or "state" */
    const char *name; /* the milestone, or the state moved to */
};

/* A ticket's story; steps end at the first NULL type. */
struct story {
    int org; /* index into orgs */
    const char *title, *level, *category;
    int64_t age; /* opened this many seconds before now */
    struct step steps[6];
};

#define MIN 60
#define HOUR 3600
#define DAY 86400
#define ST(s) s
#define MS(m) m

static const struct story stories[] = {
    {0, "Core banking batch job failed", "L1", "technical", 10 * MIN, {{0}}},
    {0,
     "Online banking login errors",
     "L1",
     "technical",
     40 * MIN,
     {{3 * MIN, "milestone", MS("first_response")}, {5 * MIN, "state", ST("analysing")}}},
    {1,
     "POS terminals offline in 3 stores",
     "L2",
     "technical",
     2 * HOUR,
     {{25 * MIN, "milestone", MS("first_response")},
      {30 * MIN, "state", ST("handling")},
      {50 * MIN, "state", ST("waiting_customer")}}},
    {1,
     "Invoice template question",
     "L4",
     "consultation",
     3 * HOUR,
     {{2 * MIN, "milestone", MS("first_response")},
      {10 * MIN, "state", ST("analysing")},
      {20 * MIN, "state", ST("feedback")}}},
    {2,
     "Contract renewal: add two sites",
     "L3",
     "contract",
     2 * DAY,
     {{30 * MIN, "milestone", MS("first_response")}, {1 * HOUR, "state", ST("analysing")}}},
    {2,
     "Tracking API slow",
     "L2",
     "technical",
     1 * DAY,
     {{45 * MIN, "milestone", MS("first_response")}, {1 * HOUR, "state", ST("handling")}}},
    {0,
     "Card authorisation timeouts",
     "L1",
     "emergency",
     3 * DAY,
     {{5 * MIN, "milestone", MS("first_response")},
      {10 * MIN, "state", ST("handling")},
      {50 * MIN, "state", ST("feedback")},
      {2 * HOUR, "state", ST("archived")}}},
    {1,
     "Loyalty points not credited",
     "L3",
     "technical",
     5 * DAY,
     {{20 * MIN, "milestone", MS("first_response")},
      {1 * HOUR, "state", ST("handling")},
      {1 * DAY, "state", ST("feedback")},
      {2 * DAY, "state", ST("archived")}}},
    {2, "How do I export shipment reports?", "L4", "consultation", 20 * MIN, {{0}}},
    {0, "Security alert: unusual admin logins", "L1", "emergency", 5 * MIN, {{0}}},
    {2, "Customs declaration system unreachable", "L2", "technical", 90 * MIN, {{0}}},
    {1,
     "Payment gateway errors at checkout",
     "L1",
     "technical",
     6 * HOUR,
     {{25 * MIN, "milestone", MS("first_response")}, {1 * HOUR, "state", ST("handling")}}},
};

static const struct {
    const char *name, *tier, *region;
    int64_t value;
} orgs[] = {
    {"Huaxin Bank", "strategic", "domestic", 500000000},
    {"Dongfang Retail", "vip", "domestic", 120000000},
    {"Pacific Freight", "standard", "international", 30000000},
};

/* The provider's two desks, one per region of the organisations. */
static const char *const teams[] = {"Domestic desk 国内服务台", "International desk 国际服务台"};

static const struct {
    const char *email, *name, *role;
    int org;  /* -1: the provider's staff */
    int team; /* -1: none */
} people[] = {
    {"manager@keepword.demo", "Wang Fang (service manager)", "manager", -1, -1},
    {"li.na@keepword.demo", "Li Na (agent, domestic)", "agent", -1, 0},
    {"tom@keepword.demo", "Tom Becker (agent, international)", "agent", -1, 1},
    {"it@huaxin.demo", "Huaxin Bank IT desk", "customer", 0, -1},
    {"ops@dongfang.demo", "Dongfang Retail operations", "customer", 1, -1},
    {"it@pacific.demo", "Pacific Freight IT", "customer", 2, -1},
};

/* Who acts in the demo, by the application layer's rules like anyone. */
struct cast {
    struct kw_unit u;
    const int64_t *org_ids, *customer, *agents, *team;
};

/* One step of a story by the agent at `at`. */
static enum kw_code act(struct cast *c, const struct kw_actor *agent, int64_t tid,
                        const struct step *e, int64_t at, struct kw_err *err)
{
    c->u.now = at;
    if (strcmp(e->type, "milestone") == 0)
        return kw_ticket_milestone(&c->u, agent, tid, e->name, err);
    struct kw_move m;
    enum kw_state to;
    if (!kw_state_parse(e->name, strlen(e->name), &to))
        return kw_err_set(err, KW_INVALID, "", "demo: no state %s", e->name);
    return kw_ticket_move(&c->u, agent, tid, to, NULL, &m, err);
}

/* Open one story's ticket at t0 (by the customer), assign it to its
 * region's desk and agent once work starts, and play its steps. */
static enum kw_code tell(struct cast *c, const struct story *s, int64_t t0, int64_t now,
                         struct kw_err *err)
{
    int64_t tid;
    bool existed;
    int desk = strcmp(orgs[s->org].region, "international") == 0;
    struct kw_actor customer = {
        .id = c->customer[s->org], .org_id = c->org_ids[s->org], .role = KW_ROLE_CUSTOMER};
    struct kw_actor agent = {
        .id = c->agents[desk], .team_id = c->team[desk], .role = KW_ROLE_AGENT};
    struct kw_ticket_in t = {.org_id = c->org_ids[s->org],
                             .title = s->title,
                             .level = s->level,
                             .tier = orgs[s->org].tier,
                             .category = s->category,
                             .region = orgs[s->org].region,
                             .channel = "web"};
    c->u.now = t0;
    enum kw_code rc = kw_ticket_create(&c->u, &customer, &t, &tid, &existed, err);
    if (rc == KW_OK && s->steps[0].type) {
        struct kw_ticket_change a = {.assignee_id = agent.id, .team_id = agent.team_id};
        c->u.now = t0 + s->steps[0].after / 2;
        rc = kw_ticket_change(&c->u, &agent, tid, &a, err);
    }
    for (size_t k = 0; rc == KW_OK && k < 6 && s->steps[k].type; k++)
        rc = act(c, &agent, tid, &s->steps[k], t0 + s->steps[k].after, err);
    /* the clocks as of now, as a server starting on this database shows them */
    return rc == KW_OK ? kw_clocks_project(c->u.clocks, c->u.st, c->u.sla, tid, now, NULL, err)
                       : rc;
}

enum kw_code kw_demo_load(struct kw_store *st, int64_t now, bool *loaded, struct kw_err *err)
{
    enum kw_code rc;
    int64_t ids[3], id;
    *loaded = false;
    /* The first organisation doubles as the marker: when it exists the demo
     * (or real data under that name) is there, and nothing is added. */
    struct kw_org first = {.name = orgs[0].name,
                           .tier = orgs[0].tier,
                           .region = orgs[0].region,
                           .contract_value_cents = orgs[0].value};
    if ((rc = kw_store_org_insert(st, &first, now, &ids[0], err)) == KW_CONFLICT)
        return KW_OK;
    if (rc != KW_OK)
        return rc;
    /* The commitment's calendars become stored calendars, each with its
     * name, and the commitment names them instead of embedding copies: an
     * edit on the Calendars page then reaches the demo's tickets. */
    json_t *root = json_loads((const char *)kw_demo_policy, 0, NULL);
    json_t *cals = json_object_get(root, "calendars"), *spec;
    const char *name;
    if (!root || !json_is_object(cals)) {
        json_decref(root);
        return kw_err_set(err, KW_INVALID, "/calendars",
                          "the built-in commitment has no calendars");
    }
    json_object_foreach(cals, name, spec)
    {
        json_object_set_new(spec, "name", json_string(name));
        char *text = json_dumps(spec, JSON_COMPACT);
        int64_t cal;
        rc = text ? kw_store_calendar_put(st, name, text, now, &cal, err)
                  : kw_err_set(err, KW_NOMEM, "", "no memory for the demo");
        free(text);
        if (rc != KW_OK)
            break;
        json_object_set_new(cals, name, json_string(name));
    }
    char *doc = rc == KW_OK ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (rc != KW_OK)
        return rc;
    struct kw_policy *p = doc ? kw_policy_parse(doc, strlen(doc), err) : NULL;
    if (!p) {
        free(doc);
        return doc ? (err ? err->code : KW_INVALID)
                   : kw_err_set(err, KW_NOMEM, "", "no memory for the demo");
    }
    rc = kw_store_commitment_insert(st, kw_policy_name(p), kw_policy_version(p),
                                    kw_policy_effective_from(p), doc, now, &id, err);
    kw_policy_free(p);
    free(doc);
    if (rc != KW_OK)
        return rc;
    for (size_t i = 1; i < sizeof(orgs) / sizeof(orgs[0]); i++) {
        struct kw_org o = {.name = orgs[i].name,
                           .tier = orgs[i].tier,
                           .region = orgs[i].region,
                           .contract_value_cents = orgs[i].value};
        if ((rc = kw_store_org_insert(st, &o, now, &ids[i], err)) != KW_OK)
            return rc;
    }
    int64_t customer[3] = {0}, team[2] = {0}, agents[2] = {0}, manager = 0;
    for (size_t i = 0; i < 2; i++)
        if ((rc = kw_store_team_insert(st, teams[i], 0, now, &team[i], err)) != KW_OK)
            return rc;
    for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
        struct kw_user u = {.email = people[i].email,
                            .name = people[i].name,
                            .role = people[i].role,
                            .org_id = people[i].org >= 0 ? ids[people[i].org] : 0,
                            .team_id = people[i].team >= 0 ? team[people[i].team] : 0};
        if ((rc = kw_auth_user_create(st, &u, DEMO_PASSWORD, now, &id, err)) != KW_OK)
            return rc;
        if (strcmp(people[i].role, "manager") == 0)
            manager = id;
        if (people[i].org >= 0)
            customer[people[i].org] = id;
        else if (people[i].team >= 0)
            agents[people[i].team] = id;
    }
    /* a rota for each desk: the two agents take turns by day at 09:00,
     * the manager covers weekend nights */
    for (size_t i = 0; i < 2; i++) {
        char rspec[512];
        int64_t rota;
        snprintf(rspec, sizeof(rspec),
                 "{\"name\":\"%s L1\",\"tz\":\"%s\",\"layers\":[{\"name\":\"days\","
                 "\"rotation\":\"daily\",\"start\":\"2026-01-05\",\"handoff\":\"09:00\","
                 "\"people\":[%lld,%lld]},{\"name\":\"weekend nights\",\"rotation\":\"weekly\","
                 "\"start\":\"2026-01-05\",\"handoff\":\"09:00\",\"people\":[%lld],"
                 "\"restrictions\":[{\"days\":[\"sat\",\"sun\"],\"from\":\"20:00\","
                 "\"to\":\"08:00\"}]}]}",
                 i ? "International desk" : "Domestic desk", i ? "Europe/Berlin" : "Asia/Shanghai",
                 (long long)agents[i], (long long)agents[1 - i], (long long)manager);
        if ((rc = kw_store_oncall_put(st, i ? "International desk L1" : "Domestic desk L1", team[i],
                                      1, rspec, now, &rota, err)) != KW_OK)
            return rc;
    }
    /* Each story happens now, and happened before: two and nine days
     * earlier, which leaves clocks met, running, paused and breached. */
    static const int64_t earlier[] = {0, 2 * DAY, 9 * DAY};
    struct kw_sla sla;
    kw_sla_init(&sla);
    struct cast c = {.u = {.st = st, .clocks = kw_clocks_new(err), .sla = &sla},
                     .org_ids = ids,
                     .customer = customer,
                     .agents = agents,
                     .team = team};
    rc = c.u.clocks ? KW_OK : KW_NOMEM;
    for (size_t k = 0; rc == KW_OK && k < sizeof(earlier) / sizeof(earlier[0]); k++)
        for (size_t i = 0; rc == KW_OK && i < sizeof(stories) / sizeof(stories[0]); i++)
            rc = tell(&c, &stories[i], now - stories[i].age - earlier[k], now, err);
    kw_clocks_free(c.u.clocks);
    kw_sla_release(&sla);
    if (rc != KW_OK)
        return rc;
    *loaded = true;
    return KW_OK;
}
