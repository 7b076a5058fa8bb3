// SPDX-License-Identifier: MIT
/*
 * app.h - the application layer: who acts, and the unit every write rule
 * runs in.
 *
 * Every change to a ticket is one function of app/tickets.h, called by
 * every channel alike: the HTTP handlers, the engine's escalation steps, the
 * CLI and the demo loader, and any future intake (e-mail, alerts). Each
 * takes the unit (the writer's store handle inside a transaction, the
 * compiled commitments, the clock scratch and "now"), the acting principal
 * and a typed input; it decides whether that principal may do it to that
 * ticket, writes the events through core/event's encoder, refreshes the
 * ticket's clock projection, and returns KW_OK or a located kw_err (the
 * pointer names the input member at fault, as an HTTP body would spell it).
 * Nothing here reads the wall clock or knows HTTP.
 *
 * Threads: a unit is used by one thread (the writer's) at a time.
 */
#ifndef KW_APP_H
#define KW_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "clocks.h"
#include "kw_err.h"
#include "sla.h"
#include "store.h"

/* The roles, in the order of their stored names (users.role). */
#define KW_ROLE_MAP(X)                                                                             \
    X(ADMIN, "admin")                                                                              \
    X(MANAGER, "manager")                                                                          \
    X(AGENT, "agent")                                                                              \
    X(CUSTOMER, "customer")                                                                        \
    X(SYSTEM, "system") /* the engine and importers: never a stored user */

enum kw_role {
#define X(name, text) KW_ROLE_##name,
    KW_ROLE_MAP(X)
#undef X
        KW_ROLE_COUNT
};

const char *kw_role_name(enum kw_role r);
/* A stored role ("admin", "manager", "agent", "customer"); false otherwise
 * (the system role is never stored). */
bool kw_role_parse(const char *s, enum kw_role *out);

/* Who acts. id 0 with KW_ROLE_SYSTEM is the engine (actor 0 in events). */
struct kw_actor {
    int64_t id, org_id, team_id; /* org_id: a customer's organisation */
    enum kw_role role;
};

static inline bool kw_actor_customer(const struct kw_actor *a)
{
    return a->role == KW_ROLE_CUSTOMER;
}

/* The engine as an actor. */
#define KW_ACTOR_SYSTEM ((struct kw_actor){.role = KW_ROLE_SYSTEM})

/* Everything a write rule needs. st: the writer's handle inside a
 * transaction; clocks: the compiled commitments; sla: scratch of this
 * thread; now: when the action happens (the instant of its events). After
 * an action, fire_at is when the ticket's next threshold falls due
 * (KW_STORE_NO_TIME: nothing), for the engine once the unit has committed.
 * project_later: the caller projects the ticket's clocks itself before the
 * unit ends (the engine, after an escalation step's change), so the action
 * leaves its projection and fire_at out instead of computing them twice. */
struct kw_unit {
    struct kw_store *st;
    struct kw_clocks *clocks;
    struct kw_sla *sla;
    int64_t now;
    int64_t fire_at; /* out */
    bool project_later;
};

/* Whether the actor may see the ticket of organisation org: staff see every
 * ticket, a customer only their own organisation's. */
bool kw_app_visible(const struct kw_actor *who, int64_t org);

#endif
