// SPDX-License-Identifier: MIT
/* render_internal.h - the report as tables of typed cells, shared by the
 * four formats (render.h), and the zh/en words they use. */
#ifndef KW_RENDER_INTERNAL_H
#define KW_RENDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "render.h"

#define MAX_COLS 10
#define MAX_TABLES 24
#define MAX_BREACH_ROWS 50 /* the longest; the rest are counted in a last row */

enum cell_kind {
    CK_NULL,  /* "—" */
    CK_TEXT,  /* s */
    CK_INT,   /* v, a count */
    CK_PCT,   /* v, percent, one decimal */
    CK_HOURS, /* v in seconds, shown in hours with one decimal */
    CK_DEC,   /* v, two decimals (CSAT) */
    CK_ONE,   /* v, one decimal (NPS, radar) */
    CK_DELTA, /* v, signed, one decimal */
    CK_DINT,  /* v, signed, whole (a change of a count) */
    CK_RTEXT, /* s, aligned right like a number (an amount already written out) */
};
struct cell {
    enum cell_kind k;
    double v;
    char s[96];
};
struct table {
    const char *title;
    size_t ncols;
    const char *cols[MAX_COLS];
    size_t nrows, cap;
    struct cell (*rows)[MAX_COLS];
};
struct tables {
    char title[128], subtitle[512];
    size_t n;
    struct table t[MAX_TABLES];
    bool nomem;
};

/* The words of the report (zh, en). */
enum word {
    W_WEEKLY,
    W_MONTHLY,
    W_PERIOD,
    W_PREVIOUS,
    W_TZ,
    W_ORG_ALL,
    W_ORG,
    W_AS_OF,
    W_HEADLINE,
    W_FIGURE,
    W_THIS,
    W_PREV,
    W_CHANGE,
    W_ON_TIME,
    W_MTTA,
    W_MTTR,
    W_BREACHES,
    W_CREATED,
    W_RESOLVED,
    W_REOPENED,
    W_BACKLOG,
    W_CSAT,
    W_SATISFIED,
    W_NPS,
    W_TREND,
    W_BUCKET,
    W_MET,
    W_LATE,
    W_COMMITMENT,
    W_LEVEL,
    W_METRIC,
    W_TARGET_H,
    W_MET_LATE,
    W_BREACHED_OPEN,
    W_MEAN_ELAPSED_H,
    W_MEAN_SRI,
    W_BREACH_LIST,
    W_TICKET,
    W_STATUS,
    W_OVER_WALL_H,
    W_OVER_WORKING_H,
    W_REASON,
    W_NOT_EXPLAINED,
    W_MORE,
    W_TOP_CATEGORIES,
    W_TOP_REASONS,
    W_TOP_ORGS,
    W_TOP_LONGEST,
    W_TOP_REOPENED,
    W_RANK,
    W_NAME,
    W_COUNT,
    W_OVER_H,
    W_TIMES_REOPENED,
    W_SATISFACTION,
    W_RATINGS,
    W_CSAT_MEAN,
    W_NPS_RATINGS,
    W_AGING,
    W_AGE,
    W_TICKETS,
    W_UNDER_1D,
    W_1D_3D,
    W_3D_7D,
    W_OVER_7D,
    W_TOTAL,
    W_TEAMS,
    W_TEAM,
    W_AGENTS,
    W_AGENT,
    W_MTTA_H,
    W_MTTR_H,
    W_OPEN,
    W_RADAR,
    W_TIMELINESS,
    W_RESPONSIVENESS,
    W_RESOLUTION,
    W_PROFESSIONALISM,
    W_FRIENDLINESS,
    W_WORKLOAD,
    W_HANDLED,
    W_CATEGORY,
    W_NONE,
    W_COUNT_
};
const char *kw_word(enum word w, bool zh);

/* Build the tables of d (t->nomem on failure); free with tables_free. */
void tables_build(const struct kw_report_doc *d, bool zh, struct tables *t);
void tables_free(struct tables *t);
/* A cell as text ("60.0%", "1.7", "—"). */
void cell_format(const struct cell *c, char *buf, size_t cap);

enum kw_code render_html(const struct kw_report_doc *d, const struct tables *t, bool zh,
                         struct kw_buf *out, struct kw_err *err);
enum kw_code render_csv(const struct tables *t, struct kw_buf *out, struct kw_err *err);
enum kw_code render_xlsx(const struct kw_report_doc *d, const struct tables *t, bool zh,
                         struct kw_buf *out, struct kw_err *err);
/* d NULL: the tables alone, no charts (kw_doc_pdf). */
enum kw_code render_pdf(const struct kw_report_doc *d, const struct tables *t, bool zh,
                        struct kw_buf *out, struct kw_err *err);

#endif
