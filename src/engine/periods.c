// SPDX-License-Identifier: MIT
/* The billing periods the engine closes; see periods.h. */
#include "periods.h"

#include "ledger.h"

/* Periods closed in one transaction: a deployment with many contracts
 * (or one that was down for months) catches up over several passes. */
#define CLOSE_BATCH 32

struct close_unit {
    struct kw_clocks *clocks;
    const char *node;
    int64_t now, periods, entries;
};

static enum kw_code close_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct close_unit *c = ctx;
    struct kw_sla sla;
    kw_sla_init(&sla);
    struct kw_unit u = {.st = st, .clocks = c->clocks, .sla = &sla, .now = c->now};
    enum kw_code rc = kw_ledger_close_due(&u, c->node, CLOSE_BATCH, &c->periods, &c->entries, err);
    kw_sla_release(&sla);
    return rc;
}

int64_t kw_periods_close(struct kw_writer *w, struct kw_clocks *clocks, const char *node,
                         int64_t now, const struct kw_log *log)
{
    int64_t closed = 0;
    for (;;) {
        struct close_unit c = {.clocks = clocks, .node = node, .now = now};
        struct kw_err err = {0};
        if (kw_writer_run(w, close_unit, &c, &err) != KW_OK) {
            KW_LOG(log, KW_LOG_ERROR, "mod=engine event=period.close_failed error=%s",
                   KW_LOG_Q(err.msg));
            break;
        }
        if (c.periods)
            KW_LOG(log, KW_LOG_INFO, "mod=engine event=period.closed periods=%lld entries=%lld",
                   (long long)c.periods, (long long)c.entries);
        closed += c.periods;
        if (c.periods < CLOSE_BATCH)
            break;
    }
    return closed;
}
