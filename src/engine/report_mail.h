// SPDX-License-Identifier: MIT
/*
 * report_mail.h - the weekly and monthly service reports mailed to the people
 * who subscribed to them (docs/kpi.md "Scheduled delivery").
 *
 * A person's subscription (store.h, POST /api/v1/subscriptions) naming
 * "report_weekly" or "report_monthly" in its events gets, through its
 * e-mail endpoint, the report of the last week on Monday 09:00 and of the
 * last month on the 1st at 09:00, in the person's zone (their tz, else the
 * subscription's quiet-hours zone, else UTC) and language (the
 * subscription's, else theirs, else zh), the PDF attached: staff the whole
 * desk's, a customer their organisation's. The outbox row's key names the
 * period and the person, and a row is never queued twice for one key, so
 * each period goes out once, also across restarts; a report not sent when
 * due (the server was down) goes out when the engine next looks.
 */
#ifndef KW_ENGINE_REPORT_MAIL_H
#define KW_ENGINE_REPORT_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "clocks.h"
#include "kw_log.h"
#include "store.h"
#include "writer.h"

/* Queue every report due at now that was not queued before: read with rd,
 * written through w. Returns how many were queued; failures are logged
 * (and tried again on the next call). */
size_t kw_reports_queue(struct kw_store *rd, struct kw_writer *w, struct kw_clocks *clocks,
                        int64_t now, const struct kw_log *log);

#endif
