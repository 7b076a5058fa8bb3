// SPDX-License-Identifier: MIT
/*
 * render.h - the service report (app/reports.h) as a document: HTML, CSV,
 * XLSX (libxlsxwriter) or PDF (cairo and pango, charts drawn), in Chinese
 * or English.
 *
 * Every format draws the same tables (render_tables.c builds them once
 * from the report: figures rounded as docs/kpi.md says, durations in hours
 * with one decimal, a null figure as "—"); HTML and PDF add the on-time
 * trend as bars and the radar per agent.
 */
#ifndef KW_RENDER_H
#define KW_RENDER_H

#include <stdbool.h>

#include "kw_buf.h"
#include "kw_err.h"
#include "reports.h"

enum kw_report_fmt { KW_FMT_HTML, KW_FMT_PDF, KW_FMT_CSV, KW_FMT_XLSX };

/* "html", "pdf", "csv", "xlsx"; false for anything else. */
bool kw_report_fmt_parse(const char *s, enum kw_report_fmt *out);
const char *kw_report_fmt_name(enum kw_report_fmt f);
/* The media type ("application/pdf", "text/html; charset=utf-8", ...). */
const char *kw_report_fmt_type(enum kw_report_fmt f);

/* Append d drawn in format f, in Chinese (zh) or English, to out. KW_NOMEM,
 * KW_IO when a library fails (the message says which). */
enum kw_code kw_report_render(const struct kw_report_doc *d, enum kw_report_fmt f, bool zh,
                              struct kw_buf *out, struct kw_err *err);

/* A document of plain tables drawn like the report (the credit statement):
 * each cell is text (NULL: "—"); bit c of right puts column c on the right,
 * as numbers are. */
struct kw_doc_table {
    const char *title;
    size_t ncols, nrows; /* ncols 1 to 10 */
    const char *cols[10];
    unsigned right;
    const char *const *cells; /* nrows * ncols, row by row; borrowed */
};
/* Append title, subtitle and the n tables (at most 24) as A4 PDF pages
 * (render_pdf.c) to out. A cell longer than 95 bytes is cut with "…".
 * KW_NOMEM, KW_IO when cairo fails. */
enum kw_code kw_doc_pdf(const char *title, const char *subtitle, const struct kw_doc_table *t,
                        size_t n, struct kw_buf *out, struct kw_err *err);

/* The report's file name: "keepword-weekly-2026-W10-en.pdf" (into buf). */
void kw_report_file_name(const struct kw_report_doc *d, enum kw_report_fmt f, bool zh, char *buf,
                         size_t cap);

#endif
