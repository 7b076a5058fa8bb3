// SPDX-License-Identifier: MIT
/* The engine's timers: a min-heap indexed by ticket; see timers.h. */
#include "timers.h"

#include <stdlib.h>

static size_t slot_of(const struct kw_timers *h, int64_t ticket)
{
    uint64_t k = (uint64_t)ticket * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(k >> 20) & (h->map_cap - 1);
    while (h->map[i].pos && h->map[i].ticket != ticket)
        i = (i + 1) & (h->map_cap - 1);
    return i;
}

static bool map_grow(struct kw_timers *h)
{
    size_t cap = h->map_cap ? h->map_cap * 2 : 1024;
    struct kw_timer_slot *old = h->map;
    size_t old_cap = h->map_cap;
    h->map = calloc(cap, sizeof(*h->map));
    if (!h->map) {
        h->map = old;
        return false;
    }
    h->map_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].pos)
            h->map[slot_of(h, old[i].ticket)] = old[i];
    free(old);
    return true;
}

/* Remove the slot at i, shifting back the run after it (no tombstones). */
static void map_delete(struct kw_timers *h, size_t i)
{
    size_t mask = h->map_cap - 1;
    h->map[i].pos = 0;
    for (size_t j = (i + 1) & mask; h->map[j].pos; j = (j + 1) & mask) {
        uint64_t k = (uint64_t)h->map[j].ticket * 0x9E3779B97F4A7C15ull;
        size_t home = (size_t)(k >> 20) & mask;
        /* move j back to i when its home is not within (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            h->map[i] = h->map[j];
            h->map[j].pos = 0;
            i = j;
        }
    }
}

/* The heap's order: due, then seq (first in, first out among equals). */
static bool before(const struct kw_timer *a, const struct kw_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(struct kw_timers *h, size_t i, struct kw_timer e)
{
    h->e[i] = e;
    h->map[slot_of(h, e.ticket)].pos = i + 1;
}

static void sift_up(struct kw_timers *h, size_t i)
{
    struct kw_timer e = h->e[i];
    while (i > 0 && before(&e, &h->e[(i - 1) / 2])) {
        place(h, i, h->e[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(h, i, e);
}

static void sift_down(struct kw_timers *h, size_t i)
{
    struct kw_timer e = h->e[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(&h->e[c + 1], &h->e[c]))
            c++;
        if (!before(&h->e[c], &e))
            break;
        place(h, i, h->e[c]);
        i = c;
    }
    place(h, i, e);
}

void kw_timers_remove(struct kw_timers *h, int64_t ticket)
{
    if (!h->map_cap)
        return;
    size_t s = slot_of(h, ticket);
    if (!h->map[s].pos)
        return;
    size_t i = h->map[s].pos - 1;
    map_delete(h, s);
    struct kw_timer last = h->e[--h->n];
    if (i == h->n)
        return;
    h->e[i] = last;
    h->map[slot_of(h, last.ticket)].pos = i + 1;
    sift_up(h, i);
    sift_down(h, h->map[slot_of(h, last.ticket)].pos - 1);
}

/* Set ticket's due instant (KW_STORE_NO_TIME removes it). */
bool kw_timers_set(struct kw_timers *h, int64_t ticket, int64_t due)
{
    if (due == KW_STORE_NO_TIME) {
        kw_timers_remove(h, ticket);
        return true;
    }
    if ((h->n + 1) * 2 > h->map_cap && !map_grow(h))
        return false;
    size_t s = slot_of(h, ticket);
    if (h->map[s].pos) {
        size_t i = h->map[s].pos - 1;
        h->e[i].due = due;
        h->e[i].seq = h->seq++;
        sift_up(h, i);
        sift_down(h, h->map[slot_of(h, ticket)].pos - 1);
        return true;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        struct kw_timer *e = realloc(h->e, cap * sizeof(*e));
        if (!e)
            return false;
        h->e = e;
        h->cap = cap;
    }
    h->map[s] = (struct kw_timer_slot){ticket, h->n + 1};
    h->e[h->n] = (struct kw_timer){due, ticket, h->seq++};
    sift_up(h, h->n++);
    return true;
}

void kw_timers_release(struct kw_timers *h)
{
    free(h->e);
    free(h->map);
    *h = (struct kw_timers){0};
}
