// SPDX-License-Identifier: MIT
/*
 * reports.h - the weekly and monthly service report's period and data
 * (docs/kpi.md "The service report"): a period is an ISO week
 * ("2026-W10") or a month ("2026-03") local to a time zone; the data are
 * the clock runs and ticket facts of the period and of the one before it,
 * read from the store (open breached runs measured again as of the
 * period's end), with names for teams, people and organisations, folded by
 * core/report.h. Renderers (src/report/) draw it.
 */
#ifndef KW_APP_REPORTS_H
#define KW_APP_REPORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "clocks.h"
#include "report.h"
#include "store.h"

enum kw_report_kind { KW_REPORT_WEEKLY, KW_REPORT_MONTHLY };

#define KW_REPORT_MAX_BUCKETS 8
struct kw_report_period {
    enum kw_report_kind kind;
    char label[16], prev_label[16];   /* "2026-W10" / "2026-03" */
    char tz[64];                      /* the zone's name */
    char first_day[16], last_day[16]; /* local dates, YYYY-MM-DD, both in the period */
    int64_t from, to, prev_from;      /* [from, to), and the one before: [prev_from, from) */
    size_t nb;                        /* trend buckets: days of a week, weeks of a month */
    int64_t bounds[KW_REPORT_MAX_BUCKETS + 1];
    char blabel[KW_REPORT_MAX_BUCKETS][16]; /* "03-02" (a day), "W10" (a week) */
};

/* Parse period s ("2026-W10" weekly, "2026-03" monthly) in zone tz (named
 * tzname). KW_INVALID at "/period" with what was expected. */
enum kw_code kw_report_period_parse(enum kw_report_kind kind, const char *s,
                                    const struct kw_tzinfo *tz, const char *tzname,
                                    struct kw_report_period *out, struct kw_err *err);
/* The last period of kind that ended at or before now, in tz. */
void kw_report_period_last(enum kw_report_kind kind, int64_t now, const struct kw_tzinfo *tz,
                           const char *tzname, struct kw_report_period *out);

/* When the report of period p is mailed: 09:00 local (in tz) on the day
 * after it, the Monday of the next week or the 1st of the next month. */
int64_t kw_report_due_at(const struct kw_report_period *p, const struct kw_tzinfo *tz);

struct kw_report_pool; /* the data's strings and arrays */
struct kw_report_doc {
    struct kw_report_period p;
    int64_t now, end;     /* end: min(to, now), the instant the figures stand at */
    const char *org_name; /* the organisation the report is limited to, or NULL: all */
    bool per_agent;       /* teams, agents and the radar are in it */
    struct kw_report rep;
    struct kw_report_pool *pool;
};

/* Read and fold the report of period p at now, of org_id's tickets (0:
 * all); per_agent false leaves out teams, agents and the radar (a
 * customer's report). db (may be NULL): the database st reads, on which a
 * second thread opens a read handle of its own to read the ticket facts
 * while st lists the runs (NULL, or when it cannot: st reads both, one
 * after the other). KW_RANGE at "/period" for a period not begun; store
 * errors. Release out with kw_report_doc_release, also on failure. */
enum kw_code kw_report_doc_make(struct kw_clocks *c, struct kw_store *st, const char *db,
                                struct kw_sla *scratch, const struct kw_report_period *p,
                                int64_t org_id, bool per_agent, int64_t now,
                                struct kw_report_doc *out, struct kw_err *err);
void kw_report_doc_release(struct kw_report_doc *d);

#endif
