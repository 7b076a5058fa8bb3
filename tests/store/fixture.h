// SPDX-License-Identifier: MIT
/*
 * fixture.h - what the store contract suite (contract.c) needs from a backend
 * beyond store.h: a fresh, empty database per test, more handles on it (other
 * threads, processes or nodes), and two looks behind the store's back (change
 * a stored event; search what is kept at rest). One fixture_<backend>.c per
 * backend implements it; it is the only test file that knows the backend.
 */
#ifndef KW_STORE_FIXTURE_H
#define KW_STORE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct fixture; /* opaque; one database */

/* Create a fresh, empty database with one handle on it (fixture_store).
 * Fails the test (cmocka) when it cannot. Free with fixture_close(). */
struct fixture *fixture_open(void);
/* Close every handle the fixture made and remove the database. Accepts NULL. */
void fixture_close(struct fixture *fx);
/* The handle the test works with; owned by the fixture. */
struct kw_store *fixture_store(struct fixture *fx);
/* Close the fixture's handle and open a new one on the same database. */
struct kw_store *fixture_reopen(struct fixture *fx);
/* Another handle on the same database, as another process or node would
 * have; caller closes with kw_store_close(). Fails the test when it cannot. */
struct kw_store *fixture_peer(struct fixture *fx);
/* What kw_store_open() and kw_writer_start() take to reach this database. */
const char *fixture_location(struct fixture *fx);
/* A location that holds something that is not a database of ours. */
const char *fixture_not_a_store(struct fixture *fx);

/* Change the body of event seq of ticket behind the store's back, as someone
 * with access to the storage could. *guarded: the backend refused the plain
 * change first (events are append-only), so the hook had to get around it. */
void fixture_tamper_event(struct fixture *fx, int64_t ticket, int64_t seq, const char *body,
                          bool *guarded);
/* Whether text occurs anywhere in what the backend keeps at rest (to check
 * that secrets are stored only as hashes). */
bool fixture_at_rest(struct fixture *fx, const char *text);
/* Whether the backend runs the contract test of that name: all of them,
 * but for a backend still being built, which lists what it implements. */
bool fixture_covers(const char *test);

#endif
