// SPDX-License-Identifier: MIT
/*
 * periods.h - the engine closes each contract's billing period once it has
 * ended (docs/policy.md "The credit ledger"): a run still breached then
 * accrues what it owes to the period's end, as `keepword credits close`
 * does. A period is recorded closed (period_closes, unique per contract
 * and end) in the transaction that accrues, before accruing, so it is
 * closed once across restarts and nodes; one missed while the server was
 * down is closed when the engine next looks.
 */
#ifndef KW_ENGINE_PERIODS_H
#define KW_ENGINE_PERIODS_H

#include <stdint.h>

#include "clocks.h"
#include "kw_log.h"
#include "writer.h"

/* Close every billing period ended by now and not closed yet, through w
 * (node: who closes, as recorded). Returns how many were closed; failures
 * are logged and tried again on the next call. Writer thread: none held. */
int64_t kw_periods_close(struct kw_writer *w, struct kw_clocks *clocks, const char *node,
                         int64_t now, const struct kw_log *log);

#endif
