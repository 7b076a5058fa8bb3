// SPDX-License-Identifier: MIT
/*
 * timers.h - the engine's timers: at most one (due, ticket) per ticket, in a
 * binary min-heap on (due, seq), with a hash map (open addressing, linear probing,
 * backward-shift deletion) from ticket to its place in the heap, so that a
 * ticket's timer is moved or removed in O(log n). seq numbers the calls to
 * kw_timers_set, so timers due in the same second come out first in, first
 * out, as in libuv (a moved timer counts as set anew). Zero a struct
 * kw_timers before use; not thread-safe (the engine holds its lock).
 */
#ifndef KW_TIMERS_H
#define KW_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h" /* KW_STORE_NO_TIME */

struct kw_timer {
    int64_t due, ticket;
    uint64_t seq; /* breaks ties on due: the earlier set comes first */
};

struct kw_timer_slot {
    int64_t ticket;
    size_t pos; /* place in the heap + 1; 0: empty */
};

struct kw_timers {
    struct kw_timer *e; /* e[0] is the earliest */
    size_t n, cap;
    struct kw_timer_slot *map;
    size_t map_cap; /* a power of two, at least twice n */
    uint64_t seq;   /* the next timer's seq */
};

/* Set ticket's timer to due (KW_STORE_NO_TIME removes it), behind any
 * timers already due then. false when out of memory (the timers are
 * unchanged). */
bool kw_timers_set(struct kw_timers *h, int64_t ticket, int64_t due);
/* Remove ticket's timer, if it has one. */
void kw_timers_remove(struct kw_timers *h, int64_t ticket);
void kw_timers_release(struct kw_timers *h);

#endif
