// SPDX-License-Identifier: MIT
/* make bench: SLA clock replays per second, and the cost of recomputing the
 * clocks of a million tickets after a policy change. Prints numbers and
 * ratios to the targets; asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "calcache.h"
#include "civil.h"
#include "policy.h"
#include "sla.h"

#define EVENTS 20

/* fixed seed: every run times the same inputs */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    return splitmix64(&rng_state);
}

static const char policy_json[] =
    "{\"name\":\"bench\",\"version\":\"1\",\"effective_from\":\"2026-01-01T00:00:00+08:00\","
    "\"calendars\":{\"office\":{\"tz\":\"Asia/Shanghai\",\"week\":{"
    "\"mon\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]],\"tue\":[[\"09:00\",\"12:00\"],[\"13:"
    "30\",\"18:00\"]],"
    "\"wed\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]],\"thu\":[[\"09:00\",\"12:00\"],[\"13:"
    "30\",\"18:00\"]],"
    "\"fri\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]]},"
    "\"holidays\":[\"2026-02-16\",\"2026-02-17\",\"2026-02-18\",\"2026-05-01\",\"2026-10-01\"],"
    "\"extra_workdays\":{\"2026-02-14\":[[\"09:00\",\"18:00\"]]}}},"
    "\"levels\":[\"L1\",\"L2\",\"L3\"],"
    "\"metrics\":["
    "{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],\"warn_at\":[50,75,"
    "90]},"
    "{\"id\":\"plan\",\"start\":\"created\",\"stop\":[\"plan_confirmed\"],\"warn_at\":[80]},"
    "{\"id\":\"resolution\",\"start\":\"created\",\"stop\":[\"resolved\"],\"pause_when\":["
    "\"waiting_customer\"],\"warn_at\":[75,90]},"
    "{\"id\":\"callback\",\"start\":\"closed\",\"stop\":[\"callback_done\"]}],"
    "\"targets\":[{\"when\":{\"level\":\"L1\"},\"response\":\"15m\",\"plan\":\"1h\",\"resolution\":"
    "\"4h\",\"callback\":\"24h\"},"
    "{\"when\":{\"level\":\"L2\"},\"response\":\"30m\",\"plan\":\"2h\",\"resolution\":\"8h\","
    "\"callback\":\"24h\"},"
    "{\"response\":\"1h\",\"plan\":\"4h\",\"resolution\":\"24h\",\"callback\":\"24h\"}]}";

/* A ticket of EVENTS events over a few working days. */
static void make_ticket(struct kw_event *ev)
{
    static const char *const levels[] = {"L1", "L2", "L3"};
    int64_t t = kw_days_from_civil(2026, 1, 5) * KW_DAY + (int64_t)(next_rand() % (300 * 86400));
    size_t n = 0;
    ev[n++] = (struct kw_event){
        .at = t, .type = KW_EV_CREATED, .attrs.v[KW_ATTR_LEVEL] = levels[next_rand() % 3]};
#define NEXT(type_, name_)                                                                         \
    do {                                                                                           \
        t += 60 + (int64_t)(next_rand() % 7200);                                                   \
        ev[n++] = (struct kw_event){.at = t, .type = type_, .name = name_};                        \
    } while (0)
    NEXT(KW_EV_MILESTONE, "first_response");
    NEXT(KW_EV_STATE, "analysing");
    NEXT(KW_EV_STATE, "handling");
    NEXT(KW_EV_STATE, "waiting_customer");
    NEXT(KW_EV_STATE, "handling");
    NEXT(KW_EV_MILESTONE, "plan_confirmed");
    NEXT(KW_EV_STATE, "waiting_customer");
    NEXT(KW_EV_STATE, "handling");
    t += 600;
    ev[n++] = (struct kw_event){.at = t, .type = KW_EV_LEVEL, .attrs.v[KW_ATTR_LEVEL] = "L2"};
    NEXT(KW_EV_STATE, "waiting_customer");
    NEXT(KW_EV_STATE, "handling");
    NEXT(KW_EV_MILESTONE, "resolved");
    NEXT(KW_EV_STATE, "feedback");
    NEXT(KW_EV_REOPENED, NULL);
    NEXT(KW_EV_STATE, "waiting_customer");
    NEXT(KW_EV_STATE, "handling");
    NEXT(KW_EV_MILESTONE, "resolved");
    NEXT(KW_EV_MILESTONE, "closed");
    NEXT(KW_EV_MILESTONE, "callback_done");
#undef NEXT
    if (n != EVENTS)
        abort();
}

int main(void)
{
    struct kw_err err = {0};
    struct kw_tzdb *db = kw_tzdb_new();
    struct kw_policy *p = kw_policy_parse(policy_json, strlen(policy_json), &err);
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
    if (!p || kw_policy_compile(db, p, cals, &err) != KW_OK) {
        fprintf(stderr, "bench policy: %s\n", err.msg);
        return 1;
    }
    enum { TICKETS = 10000 };
    struct kw_event(*tickets)[EVENTS] = malloc(sizeof(*tickets) * TICKETS);
    for (size_t i = 0; i < TICKETS; i++)
        make_ticket(tickets[i]);
    struct kw_sla sla;
    kw_sla_init(&sla);
    volatile int64_t sink = 0;
    /* warm up, and check every ticket replays */
    for (size_t i = 0; i < TICKETS; i++) {
        if (kw_sla_eval(p, (const struct kw_cal *const *)cals, tickets[i], EVENTS,
                        tickets[i][EVENTS - 1].at, &sla, &err) != KW_OK) {
            fprintf(stderr, "ticket %zu: %s\n", i, err.msg);
            return 1;
        }
        sink += (int64_t)sla.n;
    }
    printf("sla replay (%d events, 4 metrics, business calendar with holidays, one core)\n",
           EVENTS);
    size_t rounds = 50;
    double t0 = now_s();
    for (size_t r = 0; r < rounds; r++)
        for (size_t i = 0; i < TICKETS; i++) {
            kw_sla_eval(p, (const struct kw_cal *const *)cals, tickets[i], EVENTS,
                        tickets[i][EVENTS - 1].at + 3600, &sla, NULL);
            sink += sla.clock[0].elapsed;
        }
    double dt = now_s() - t0, per_s = (double)(rounds * TICKETS) / dt;
    printf("  replays per second:            %10.0f   target >= 200000   ratio %.2f\n", per_s,
           per_s / 200000.0);
    printf("  time per replay:               %10.2f us\n", dt / (double)(rounds * TICKETS) * 1e6);

    /* A policy change recomputes every ticket's clocks: one million replays. */
    t0 = now_s();
    for (size_t i = 0; i < 1000000; i++) {
        const struct kw_event *ev = tickets[i % TICKETS];
        kw_sla_eval(p, (const struct kw_cal *const *)cals, ev, EVENTS, ev[EVENTS - 1].at, &sla,
                    NULL);
        sink += sla.clock[0].elapsed;
    }
    dt = now_s() - t0;
    printf("  recompute 1,000,000 tickets:   %10.2f s    target < 5 s       ratio %.2f\n", dt,
           dt / 5.0);
    (void)sink;
    kw_sla_release(&sla);
    free(tickets);
    for (size_t i = 0; i < kw_policy_calendar_count(p); i++)
        kw_cal_free(cals[i]);
    kw_policy_free(p);
    kw_tzdb_free(db);
    return 0;
}
