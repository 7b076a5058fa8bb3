// SPDX-License-Identifier: MIT
/* The engine's timers against a plain array: random sets, moves and
 * removals keep the heap ordered, the index exact, and the earliest first. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "timers.h"

#define TICKETS 3000

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Every entry is where the index says, and no parent comes after a child
 * (by due, then seq). */
static void check(const struct kw_timers *h, const int64_t *want)
{
    size_t n = 0, indexed = 0;
    for (int64_t t = 1; t <= TICKETS; t++)
        n += want[t] != KW_STORE_NO_TIME;
    assert_int_equal(h->n, n);
    for (size_t i = 1; i < h->n; i++) {
        const struct kw_timer *p = &h->e[(i - 1) / 2], *c = &h->e[i];
        assert_true(p->due < c->due || (p->due == c->due && p->seq < c->seq));
    }
    for (size_t i = 0; i < h->n; i++)
        assert_int_equal(h->e[i].due, want[h->e[i].ticket]);
    for (size_t s = 0; s < h->map_cap; s++) {
        if (!h->map[s].pos)
            continue;
        indexed++;
        assert_true(h->map[s].pos <= h->n);
        assert_int_equal(h->e[h->map[s].pos - 1].ticket, h->map[s].ticket);
    }
    assert_int_equal(indexed, h->n);
}

static void test_random_operations(void **state)
{
    (void)state;
    static int64_t want[TICKETS + 1];
    struct kw_timers h = {0};
    for (int64_t t = 0; t <= TICKETS; t++)
        want[t] = KW_STORE_NO_TIME;
    for (int round = 0; round < 40000; round++) {
        int64_t t = 1 + (int64_t)(next() % TICKETS);
        uint64_t op = next() % 10;
        if (op < 6) { /* set or move */
            int64_t due = 1800000000 + (int64_t)(next() % 100000);
            assert_true(kw_timers_set(&h, t, due));
            want[t] = due;
        } else if (op < 8) {
            kw_timers_remove(&h, t);
            want[t] = KW_STORE_NO_TIME;
        } else {
            assert_true(kw_timers_set(&h, t, KW_STORE_NO_TIME));
            want[t] = KW_STORE_NO_TIME;
        }
        if (round % 997 == 0)
            check(&h, want);
    }
    check(&h, want);
    /* taking the earliest each time drains them in order, ties first in
     * first out */
    int64_t last = INT64_MIN;
    uint64_t last_seq = 0;
    while (h.n) {
        struct kw_timer top = h.e[0];
        assert_true(top.due > last || (top.due == last && top.seq > last_seq));
        last = top.due;
        last_seq = top.seq;
        kw_timers_remove(&h, top.ticket);
        want[top.ticket] = KW_STORE_NO_TIME;
    }
    check(&h, want);
    kw_timers_release(&h);
}

static void test_one_ticket_one_timer(void **state)
{
    (void)state;
    struct kw_timers h = {0};
    assert_true(kw_timers_set(&h, 7, 300));
    assert_true(kw_timers_set(&h, 8, 200));
    assert_true(kw_timers_set(&h, 7, 100)); /* moved, not added */
    assert_int_equal(h.n, 2);
    assert_int_equal(h.e[0].ticket, 7);
    kw_timers_remove(&h, 7);
    kw_timers_remove(&h, 7); /* twice is fine */
    kw_timers_remove(&h, 99);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.e[0].ticket, 8);
    kw_timers_release(&h);
}

/* Timers due in the same second fire in the order they were set (a moved
 * timer counts as set anew), whatever their tickets and the heap's shape. */
static void test_ties_first_in_first_out(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t ticket, due;
    } ops[] = {
        {"first at 100", 50, 100},
        {"second at 100", 3, 100},
        {"earlier, set later", 900, 40},
        {"third at 100", 7, 100},
        {"fourth at 100", 1, 100},
        {"later", 2, 200},
        {"moved to 100: behind the fourth", 3, 100},
        {"moved from 200 to 100: last", 2, 100},
    };
    static const int64_t want[] = {900, 50, 7, 1, 3, 2};
    struct kw_timers h = {0};
    for (size_t i = 0; i < N_ELEMS(ops); i++)
        assert_true(kw_timers_set(&h, ops[i].ticket, ops[i].due));
    for (size_t i = 0; i < N_ELEMS(want); i++) {
        assert_true(h.n > 0);
        if (h.e[0].ticket != want[i])
            fail_msg("place %zu: ticket %lld, want %lld", i, (long long)h.e[0].ticket,
                     (long long)want[i]);
        kw_timers_remove(&h, h.e[0].ticket);
    }
    assert_int_equal(h.n, 0);

    /* many equal dues set in a scrambled ticket order come out in that order,
     * also after removals reshaped the heap */
    int64_t order[1000];
    for (int64_t i = 0; i < 1000; i++)
        order[i] = 1 + (i * 7919) % 1000;
    for (size_t i = 0; i < 1000; i++)
        assert_true(kw_timers_set(&h, order[i], 500));
    for (size_t i = 0; i < 1000; i += 3)
        kw_timers_remove(&h, order[i]);
    for (size_t i = 0; i < 1000; i++) {
        if (i % 3 == 0)
            continue;
        assert_int_equal(h.e[0].ticket, order[i]);
        kw_timers_remove(&h, order[i]);
    }
    assert_int_equal(h.n, 0);
    kw_timers_release(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_ticket_one_timer),
        cmocka_unit_test(test_random_operations),
        cmocka_unit_test(test_ties_first_in_first_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
