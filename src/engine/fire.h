// SPDX-License-Identifier: MIT
/*
 * fire.h - firing what falls due on a ticket: warning and breach thresholds
 * of its clocks, and the steps of its escalation chains.
 *
 * Runs inside a writer unit with the writer's store handle and a scratch
 * kw_sla. The thresholds are the engine's own events (sla_warning,
 * sla_breach, escalated, with the notifications they cause); what a step
 * does to the ticket (reassign, raise the level) is the application
 * layer's kw_ticket_change, done by the system actor, as any other change.
 */
#ifndef KW_FIRE_H
#define KW_FIRE_H

#include "clocks.h"
#include "event.h"

/* What the firings of one thread share: compiled rotas kept between
 * batches (engine/rota.h: compiled again when a rota's stored document
 * changed), and the people a batch's steps name (who is told, a team's
 * lead, an organisation's account manager), each read once per batch. One
 * per firing thread (the writer's); not thread-safe. */
struct kw_fire_cache;
struct kw_fire_cache *kw_fire_cache_new(void);     /* NULL: no memory */
void kw_fire_cache_free(struct kw_fire_cache *fc); /* accepts NULL */
/* A new batch (a new transaction): forget the people read, which may have
 * changed since; the rotas stay (each look-up checks its document). */
void kw_fire_cache_batch(struct kw_fire_cache *fc);
struct kw_fire_cache_stats {
    uint64_t rota_compiled, rota_hits; /* rota look-ups that compiled / found it compiled */
    uint64_t people_read, people_hits; /* people (and leads, managers) read / found read */
};
void kw_fire_cache_stats(const struct kw_fire_cache *fc, struct kw_fire_cache_stats *out);

/* Fire what is due on ticket at now: one `sla_warning` event per warning
 * threshold reached and not yet fired (percent, colour, metric, when it was
 * reached) and one `sla_breach` for a deadline passed, each with the
 * notifications it causes in the outbox (a breach also opens an overrun
 * record); then the escalation steps due, in order across chains; then
 * project again. *fired gets how many thresholds and steps fired. */
enum kw_code kw_clocks_fire(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                            int64_t ticket, int64_t now, int *fired, struct kw_err *err);
/* The same with a cache (NULL: read and compile everything afresh, as
 * kw_clocks_fire does); call kw_fire_cache_batch first in each batch. */
enum kw_code kw_clocks_fire_cached(struct kw_clocks *c, struct kw_store *st, struct kw_sla *scratch,
                                   struct kw_fire_cache *fc, int64_t ticket, int64_t now,
                                   int *fired, struct kw_err *err);
/* The canonical text of a threshold's or an escalation step's event (the
 * bytes kw_event_encode's tree prints with sorted keys), written directly;
 * the caller frees it. Other kinds, and a record the JSON library must
 * judge (a member missing, a string not UTF-8), take kw_event_encode's
 * way: NULL with err set as it sets it. */
char *kw_fire_event_text(const struct kw_event_rec *r, struct kw_err *err);

#endif
