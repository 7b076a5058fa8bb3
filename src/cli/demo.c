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

#include "policy.h"

extern const unsigned char kw_demo_policy[]; /* generated from acme.json */

#define DEMO_PASSWORD "keepword-demo"

struct step {
    int64_t after; /* seconds after the ticket was opened */
    const char *type, *body, *state;
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
#define ST(s) "{\"state\":\"" s "\"}"
#define MS(m) "{\"milestone\":\"" m "\"}"

static const struct story stories[] = {
    {0, "Core banking batch job failed", "L1", "technical", 10 * MIN, {{0}}},
    {0,
     "Online banking login errors",
     "L1",
     "technical",
     40 * MIN,
     {{3 * MIN, "milestone", MS("first_response"), NULL},
      {5 * MIN, "state", ST("analysing"), "analysing"}}},
    {1,
     "POS terminals offline in 3 stores",
     "L2",
     "technical",
     2 * HOUR,
     {{25 * MIN, "milestone", MS("first_response"), NULL},
      {30 * MIN, "state", ST("handling"), "handling"},
      {50 * MIN, "state", ST("waiting_customer"), "waiting_customer"}}},
    {1,
     "Invoice template question",
     "L4",
     "consultation",
     3 * HOUR,
     {{2 * MIN, "milestone", MS("first_response"), NULL},
      {10 * MIN, "state", ST("analysing"), "analysing"},
      {20 * MIN, "state", ST("feedback"), "feedback"},
      {20 * MIN, "milestone", MS("resolved"), NULL}}},
    {2,
     "Contract renewal: add two sites",
     "L3",
     "contract",
     2 * DAY,
     {{30 * MIN, "milestone", MS("first_response"), NULL},
      {1 * HOUR, "state", ST("analysing"), "analysing"}}},
    {2,
     "Tracking API slow",
     "L2",
     "technical",
     1 * DAY,
     {{45 * MIN, "milestone", MS("first_response"), NULL},
      {1 * HOUR, "state", ST("handling"), "handling"}}},
    {0,
     "Card authorisation timeouts",
     "L1",
     "emergency",
     3 * DAY,
     {{5 * MIN, "milestone", MS("first_response"), NULL},
      {10 * MIN, "state", ST("handling"), "handling"},
      {50 * MIN, "state", ST("feedback"), "feedback"},
      {50 * MIN, "milestone", MS("resolved"), NULL},
      {2 * HOUR, "state", ST("archived"), "archived"},
      {2 * HOUR, "milestone", MS("closed"), NULL}}},
    {1,
     "Loyalty points not credited",
     "L3",
     "technical",
     5 * DAY,
     {{20 * MIN, "milestone", MS("first_response"), NULL},
      {1 * HOUR, "state", ST("handling"), "handling"},
      {1 * DAY, "state", ST("feedback"), "feedback"},
      {1 * DAY, "milestone", MS("resolved"), NULL},
      {2 * DAY, "state", ST("archived"), "archived"},
      {2 * DAY, "milestone", MS("closed"), NULL}}},
    {2, "How do I export shipment reports?", "L4", "consultation", 20 * MIN, {{0}}},
    {0, "Security alert: unusual admin logins", "L1", "emergency", 5 * MIN, {{0}}},
    {2, "Customs declaration system unreachable", "L2", "technical", 90 * MIN, {{0}}},
    {1,
     "Payment gateway errors at checkout",
     "L1",
     "technical",
     6 * HOUR,
     {{25 * MIN, "milestone", MS("first_response"), NULL},
      {1 * HOUR, "state", ST("handling"), "handling"}}},
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

/* Assign a ticket that is being worked on to its region's desk and agent. */
static enum kw_code assign(struct kw_store *st, int64_t ticket, int64_t agent, int64_t team,
                           int64_t at, struct kw_err *err)
{
    char body[96];
    struct kw_ticket_patch p = {.assignee_id = agent, .team_id = team};
    snprintf(body, sizeof(body), "{\"assignee_id\":%lld,\"team_id\":%lld}", (long long)agent,
             (long long)team);
    if (kw_store_ticket_set(st, ticket, &p, err) != KW_OK)
        return err->code;
    return kw_store_event_append(st, ticket, "assigned", body, agent, at, NULL, NULL, err);
}

/* Open one story's ticket at t0 and play its steps. */
static enum kw_code tell(struct kw_store *st, const struct story *s, int64_t t0,
                         const int64_t *org_ids, const int64_t *customer, const int64_t *agents,
                         const int64_t *team, struct kw_err *err)
{
    int64_t tid;
    bool existed;
    enum kw_code rc;
    struct kw_ticket_new t = {.org_id = org_ids[s->org],
                              .created_by = customer[s->org],
                              .title = s->title,
                              .level = s->level,
                              .tier = orgs[s->org].tier,
                              .category = s->category,
                              .region = orgs[s->org].region,
                              .channel = "web",
                              .at = t0};
    if ((rc = kw_store_ticket_create(st, &t, &tid, &existed, err)) != KW_OK)
        return rc;
    int desk = strcmp(orgs[s->org].region, "international") == 0;
    int64_t agent = agents[desk];
    if (s->steps[0].type &&
        (rc = assign(st, tid, agent, team[desk], t0 + s->steps[0].after / 2, err)) != KW_OK)
        return rc;
    for (size_t k = 0; k < 6 && s->steps[k].type; k++) {
        const struct step *e = &s->steps[k];
        if ((rc = kw_store_event_append(st, tid, e->type, e->body, agent, t0 + e->after, e->state,
                                        NULL, err)) != KW_OK)
            return rc;
    }
    return KW_OK;
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
    const char *doc = (const char *)kw_demo_policy;
    struct kw_policy *p = kw_policy_parse(doc, strlen(doc), err);
    if (!p)
        return err ? err->code : KW_INVALID;
    rc = kw_store_commitment_insert(st, kw_policy_name(p), kw_policy_version(p),
                                    kw_policy_effective_from(p), doc, now, &id, err);
    kw_policy_free(p);
    if (rc != KW_OK)
        return rc;
    /* its calendars also as named calendars, to edit and preview */
    json_t *root = json_loads(doc, 0, NULL), *cals = json_object_get(root, "calendars"), *spec;
    const char *name;
    json_object_foreach(cals, name, spec)
    {
        char *text = json_dumps(spec, JSON_COMPACT);
        int64_t cal;
        rc = text ? kw_store_calendar_put(st, name, text, now, &cal, err) : KW_NOMEM;
        free(text);
        if (rc != KW_OK)
            break;
    }
    json_decref(root);
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
        if ((rc = kw_store_user_insert(st, &u, DEMO_PASSWORD, now, &id, err)) != KW_OK)
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
    for (size_t k = 0; k < sizeof(earlier) / sizeof(earlier[0]); k++) {
        for (size_t i = 0; i < sizeof(stories) / sizeof(stories[0]); i++) {
            if ((rc = tell(st, &stories[i], now - stories[i].age - earlier[k], ids, customer,
                           agents, team, err)) != KW_OK)
                return rc;
        }
    }
    *loaded = true;
    return KW_OK;
}
