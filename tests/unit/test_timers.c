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

/* Every entry is where the index says, and no parent is later than a child. */
static void check(const struct kw_timers *h, const int64_t *want)
{
    size_t n = 0, indexed = 0;
    for (int64_t t = 1; t <= TICKETS; t++)
        n += want[t] != KW_STORE_NO_TIME;
    assert_int_equal(h->n, n);
    for (size_t i = 1; i < h->n; i++)
        assert_true(h->e[(i - 1) / 2].due <= h->e[i].due);
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
    /* taking the earliest each time drains them in order */
    int64_t last = INT64_MIN;
    while (h.n) {
        struct kw_timer top = h.e[0];
        assert_true(top.due >= last);
        last = top.due;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_ticket_one_timer),
        cmocka_unit_test(test_random_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
