// SPDX-License-Identifier: MIT
/* render_xlsx.c - the report as an XLSX workbook (libxlsxwriter): a sheet
 * per table, numbers as numbers (hours, percentages, counts) with their
 * format, and the on-time trend as a column chart. libxlsxwriter 1.1.4
 * writes only to a file: a private temporary file, read back and removed.
 * The same report gives the same bytes: the workbook's creation time is the
 * instant its figures stand at, not the clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "render_internal.h"

/* The first 31 characters of a title, as a sheet name (Excel's limit). */
static void sheet_name(const char *title, char *out, size_t cap)
{
    size_t n = 0, chars = 0;
    for (; title[n] && chars < 31 && n + 4 < cap; chars++) {
        size_t len = 1;
        while ((title[n + len] & 0xC0) == 0x80)
            len++;
        n += len;
    }
    memcpy(out, title, n);
    out[n] = '\0';
}

static enum kw_code read_back(const char *path, struct kw_buf *out, struct kw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kw_err_set(err, KW_IO, NULL, "xlsx: cannot read the workbook back");
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        kw_buf_add(out, chunk, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    return bad ? kw_err_set(err, KW_IO, NULL, "xlsx: cannot read the workbook back") : KW_OK;
}

enum kw_code render_xlsx(const struct kw_report_doc *d, const struct tables *t, bool zh,
                         struct kw_buf *out, struct kw_err *err)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/keepword-report-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return kw_err_set(err, KW_IO, NULL, "xlsx: cannot make a temporary file in %s",
                          dir && *dir ? dir : "/tmp");
    close(fd);
    lxw_workbook *wb = workbook_new(path);
    if (!wb) {
        unlink(path);
        return kw_err_set(err, KW_NOMEM, NULL, "xlsx: cannot start a workbook");
    }
    /* docProps/core.xml's created and modified (libxlsxwriter writes the
     * clock's time when this is 0): the figures' instant, min(to, now) */
    lxw_doc_properties props = {.created = (time_t)d->end};
    workbook_set_properties(wb, &props);
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    lxw_format *head = workbook_add_format(wb);
    format_set_bold(head);
    format_set_bg_color(head, 0xF3F5F8);
    format_set_bottom(head, LXW_BORDER_THIN);
    lxw_format *f1 = workbook_add_format(wb), *f2 = workbook_add_format(wb),
               *f0 = workbook_add_format(wb);
    format_set_num_format(f1, "0.0");
    format_set_num_format(f2, "0.00");
    format_set_num_format(f0, "0");
    for (size_t i = 0; i < t->n; i++) {
        const struct table *tb = &t->t[i];
        char name[128];
        sheet_name(tb->title, name, sizeof(name));
        lxw_worksheet *ws = workbook_add_worksheet(wb, name);
        if (!ws)
            continue;
        worksheet_write_string(ws, 0, 0, tb->title, bold);
        worksheet_write_string(ws, 1, 0, i == 0 ? t->title : "", NULL);
        if (i == 0)
            worksheet_write_string(ws, 2, 0, t->subtitle, NULL);
        lxw_row_t top = 4;
        for (size_t c = 0; c < tb->ncols; c++) {
            worksheet_write_string(ws, top, (lxw_col_t)c, tb->cols[c], head);
            worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c == 0 ? 24 : 14, NULL);
        }
        for (size_t r = 0; r < tb->nrows; r++) {
            for (size_t c = 0; c < tb->ncols; c++) {
                const struct cell *cl = &tb->rows[r][c];
                lxw_row_t y = (lxw_row_t)(top + 1 + r);
                lxw_col_t x = (lxw_col_t)c;
                switch (cl->k) {
                case CK_NULL:
                    break; /* empty: no value */
                case CK_TEXT:
                case CK_RTEXT:
                    worksheet_write_string(ws, y, x, cl->s, NULL);
                    break;
                case CK_INT:
                case CK_DINT:
                    worksheet_write_number(ws, y, x, cl->v, f0);
                    break;
                case CK_HOURS:
                    worksheet_write_number(ws, y, x, cl->v / 3600.0, f1);
                    break;
                case CK_DEC:
                    worksheet_write_number(ws, y, x, cl->v, f2);
                    break;
                default:
                    worksheet_write_number(ws, y, x, cl->v, f1);
                }
            }
        }
        if (tb->title == kw_word(W_TREND, zh) && tb->nrows) {
            lxw_chart *ch = workbook_add_chart(wb, LXW_CHART_COLUMN);
            lxw_chart_series *s = chart_add_series(ch, NULL, NULL);
            lxw_row_t last = (lxw_row_t)(top + tb->nrows);
            chart_series_set_categories(s, name, top + 1, 0, last, 0);
            chart_series_set_values(s, name, top + 1, 3, last, 3);
            chart_series_set_name(s, tb->cols[3]);
            chart_title_set_name(ch, tb->title);
            chart_axis_set_min(ch->y_axis, 0);
            chart_axis_set_max(ch->y_axis, 100);
            chart_legend_set_position(ch, LXW_CHART_LEGEND_NONE);
            worksheet_insert_chart(ws, (lxw_row_t)(last + 2), 0, ch);
        }
    }
    lxw_error e = workbook_close(wb);
    enum kw_code rc = e == LXW_NO_ERROR ? read_back(path, out, err)
                                        : kw_err_set(err, KW_IO, NULL, "xlsx: %s", lxw_strerror(e));
    unlink(path);
    return rc;
}
