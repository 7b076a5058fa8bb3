// SPDX-License-Identifier: MIT
/* render_pdf.c - the report as a PDF drawn with cairo and pango: A4 pages,
 * the tables with their columns sized to their text, the on-time trend as
 * bars and the radar per agent drawn as vectors. Text is laid out by pango
 * in "Noto Sans CJK SC" (fonts-noto-cjk), which has both scripts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "render_internal.h"

#define PI 3.14159265358979323846

#define PAGE_W 595.0 /* A4, points */
#define PAGE_H 842.0
#define MARGIN 40.0
#define ROW_H 14.0
#define FONT "Noto Sans CJK SC"

struct pdf {
    cairo_t *cr;
    PangoLayout *lay;
    double y;
    int page;
    bool zh;
};

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int len)
{
    struct kw_buf *b = closure;
    kw_buf_add(b, data, len);
    return b->failed ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

static void font(struct pdf *p, double size, bool bold)
{
    PangoFontDescription *fd = pango_font_description_from_string(FONT);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(p->lay, fd);
    pango_font_description_free(fd);
}

/* Text at (x, y) in a box `w` wide (0: as wide as it is), aligned right
 * when `right`; returns the height used. */
static double text(struct pdf *p, double x, double y, double w, const char *s, bool right)
{
    pango_layout_set_text(p->lay, s, -1);
    pango_layout_set_width(p->lay, w > 0 ? (int)(w * PANGO_SCALE) : -1);
    pango_layout_set_ellipsize(p->lay, PANGO_ELLIPSIZE_NONE);
    pango_layout_set_alignment(p->lay, right ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
    int tw, th;
    pango_layout_get_pixel_size(p->lay, &tw, &th);
    cairo_move_to(p->cr, x, y);
    pango_cairo_show_layout(p->cr, p->lay);
    return th;
}

static double measure(struct pdf *p, const char *s)
{
    pango_layout_set_width(p->lay, -1);
    pango_layout_set_text(p->lay, s, -1);
    int tw, th;
    pango_layout_get_pixel_size(p->lay, &tw, &th);
    return tw;
}

static void new_page(struct pdf *p)
{
    if (p->page > 0)
        cairo_show_page(p->cr);
    p->page++;
    p->y = MARGIN;
    char n[32];
    snprintf(n, sizeof(n), "%d", p->page);
    font(p, 7, false);
    cairo_set_source_rgb(p->cr, 0.45, 0.45, 0.45);
    text(p, MARGIN, PAGE_H - MARGIN + 12, PAGE_W - 2 * MARGIN, n, true);
    cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
}

static void need(struct pdf *p, double h)
{
    if (p->y + h > PAGE_H - MARGIN)
        new_page(p);
}

static void draw_table(struct pdf *p, const struct table *tb)
{
    double avail = PAGE_W - 2 * MARGIN, w[MAX_COLS], sum = 0;
    font(p, 7.5, true);
    for (size_t c = 0; c < tb->ncols; c++)
        w[c] = measure(p, tb->cols[c]) + 8;
    font(p, 7.5, false);
    for (size_t r = 0; r < tb->nrows; r++)
        for (size_t c = 0; c < tb->ncols; c++) {
            char s[128];
            cell_format(&tb->rows[r][c], s, sizeof(s));
            double m = measure(p, s) + 8;
            if (m > w[c])
                w[c] = m;
        }
    for (size_t c = 0; c < tb->ncols; c++)
        sum += w[c];
    for (size_t c = 0; c < tb->ncols && sum > avail; c++)
        w[c] *= avail / sum; /* too wide: every column narrower, text wraps */
    need(p, 20 + 2 * ROW_H);
    font(p, 10.5, true);
    p->y += text(p, MARGIN, p->y, avail, tb->title, false) + 3;
    /* header */
    double hh = ROW_H;
    font(p, 7.5, true);
    for (size_t c = 0; c < tb->ncols; c++) {
        pango_layout_set_text(p->lay, tb->cols[c], -1);
        pango_layout_set_width(p->lay, (int)((w[c] - 6) * PANGO_SCALE));
        int tw, th;
        pango_layout_get_pixel_size(p->lay, &tw, &th);
        if (th + 4 > hh)
            hh = th + 4;
    }
    cairo_set_source_rgb(p->cr, 0.95, 0.96, 0.97);
    cairo_rectangle(p->cr, MARGIN, p->y, avail, hh);
    cairo_fill(p->cr);
    cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
    double x = MARGIN;
    for (size_t c = 0; c < tb->ncols; c++) {
        /* a column's heading sits over its values: numbers right, text left */
        bool right = c > 0 && (!tb->nrows || tb->rows[0][c].k != CK_TEXT);
        text(p, x + 3, p->y + 2, w[c] - 6, tb->cols[c], right);
        x += w[c];
    }
    p->y += hh;
    font(p, 7.5, false);
    for (size_t r = 0; r < tb->nrows; r++) {
        need(p, ROW_H);
        x = MARGIN;
        for (size_t c = 0; c < tb->ncols; c++) {
            char s[128];
            cell_format(&tb->rows[r][c], s, sizeof(s));
            text(p, x + 3, p->y + 2, w[c] - 6, s, tb->rows[r][c].k != CK_TEXT);
            x += w[c];
        }
        cairo_set_source_rgb(p->cr, 0.85, 0.85, 0.85);
        cairo_set_line_width(p->cr, 0.5);
        cairo_move_to(p->cr, MARGIN, p->y + ROW_H);
        cairo_line_to(p->cr, MARGIN + avail, p->y + ROW_H);
        cairo_stroke(p->cr);
        cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
        p->y += ROW_H;
    }
    if (!tb->nrows) {
        text(p, MARGIN + 3, p->y + 2, 0, "—", false);
        p->y += ROW_H;
    }
    p->y += 10;
}

static void bar_color(cairo_t *cr, double v)
{
    if (v >= 90)
        cairo_set_source_rgb(cr, 0.18, 0.49, 0.2);
    else if (v >= 70)
        cairo_set_source_rgb(cr, 0.98, 0.66, 0.15);
    else
        cairo_set_source_rgb(cr, 0.78, 0.16, 0.16);
}

static void draw_trend(struct pdf *p, const struct kw_report_doc *d)
{
    const struct kw_report *r = &d->rep;
    if (!r->ntrend)
        return;
    double h = 120, top;
    need(p, h + 30);
    top = p->y;
    double x0 = MARGIN + 24, bw = 44, gap = 16;
    font(p, 7, false);
    cairo_set_line_width(p->cr, 0.5);
    for (int g = 0; g <= 100; g += 25) {
        double y = top + h - g * h / 100;
        cairo_set_source_rgb(p->cr, 0.85, 0.85, 0.85);
        cairo_move_to(p->cr, x0, y);
        cairo_line_to(p->cr, x0 + (bw + gap) * (double)r->ntrend, y);
        cairo_stroke(p->cr);
        cairo_set_source_rgb(p->cr, 0.3, 0.3, 0.3);
        char s[8];
        snprintf(s, sizeof(s), "%d", g);
        text(p, MARGIN, y - 5, 20, s, true);
    }
    for (size_t i = 0; i < r->ntrend; i++) {
        double v = r->trend[i].on_time, x = x0 + gap / 2 + (bw + gap) * (double)i;
        char s[32];
        if (!isnan(v)) {
            double bh = v * h / 100;
            bar_color(p->cr, v);
            cairo_rectangle(p->cr, x, top + h - bh, bw, bh);
            cairo_fill(p->cr);
            snprintf(s, sizeof(s), "%.1f", v);
        } else {
            snprintf(s, sizeof(s), "—");
        }
        cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
        double bh = isnan(v) ? 0 : v * h / 100;
        pango_layout_set_alignment(p->lay, PANGO_ALIGN_CENTER);
        text(p, x - 4, top + h - bh - 11, bw + 8, s, false);
        text(p, x - 4, top + h + 3, bw + 8, d->p.blabel[i], false);
    }
    p->y = top + h + 22;
}

static void draw_radar(struct pdf *p, const struct kw_report_radar *rd, double cx, double cy,
                       double R)
{
    static const enum word axes[KW_RA_COUNT] = {W_TIMELINESS,      W_RESPONSIVENESS, W_RESOLUTION,
                                                W_PROFESSIONALISM, W_FRIENDLINESS,   W_WORKLOAD};
    cairo_t *cr = p->cr;
    cairo_set_line_width(cr, 0.5);
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    for (int ring = 1; ring <= 4; ring++) {
        for (int k = 0; k <= KW_RA_COUNT; k++) {
            double a = -PI / 2 + k * PI / 3, rr = R * ring / 4.0;
            if (k == 0)
                cairo_move_to(cr, cx + rr * cos(a), cy + rr * sin(a));
            else
                cairo_line_to(cr, cx + rr * cos(a), cy + rr * sin(a));
        }
        cairo_stroke(cr);
    }
    for (int k = 0; k < KW_RA_COUNT; k++) {
        double a = -PI / 2 + k * PI / 3;
        double v = isnan(rd->axis[k]) ? 0 : rd->axis[k] / 100.0;
        if (k == 0)
            cairo_move_to(cr, cx + R * v * cos(a), cy + R * v * sin(a));
        else
            cairo_line_to(cr, cx + R * v * cos(a), cy + R * v * sin(a));
    }
    cairo_close_path(cr);
    cairo_set_source_rgba(cr, 0.08, 0.4, 0.75, 0.25);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.08, 0.4, 0.75);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    font(p, 6.5, false);
    for (int k = 0; k < KW_RA_COUNT; k++) {
        double a = -PI / 2 + k * PI / 3;
        char s[96];
        if (isnan(rd->axis[k]))
            snprintf(s, sizeof(s), "%s —", kw_word(axes[k], p->zh));
        else
            snprintf(s, sizeof(s), "%s %.0f", kw_word(axes[k], p->zh), rd->axis[k]);
        double tw = measure(p, s), x = cx + (R + 6) * cos(a), y = cy + (R + 8) * sin(a) - 4;
        if (fabs(cos(a)) < 0.2)
            x -= tw / 2;
        else if (cos(a) < 0)
            x -= tw;
        text(p, x, y, 0, s, false);
    }
    font(p, 8, true);
    double tw = measure(p, rd->agent ? rd->agent : "");
    text(p, cx - tw / 2, cy + R + 14, 0, rd->agent ? rd->agent : "", false);
}

static void draw_radars(struct pdf *p, const struct kw_report_doc *d)
{
    const double cell = (PAGE_W - 2 * MARGIN) / 2, hgt = 165, R = 50;
    for (size_t i = 0; i < d->rep.nagents; i++) {
        size_t col = i % 2;
        if (col == 0)
            need(p, hgt);
        draw_radar(p, &d->rep.radar[i], MARGIN + cell * ((double)col + 0.5), p->y + 80, R);
        if (col == 1 || i + 1 == d->rep.nagents)
            p->y += hgt;
    }
}

enum kw_code render_pdf(const struct kw_report_doc *d, const struct tables *t, bool zh,
                        struct kw_buf *out, struct kw_err *err)
{
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_out, out, PAGE_W, PAGE_H);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return kw_err_set(err, KW_NOMEM, NULL, "pdf: cannot start a document");
    }
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, t->title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "Keepword");
    /* The same report gives the same bytes: the creation date (cairo writes
     * the clock's when none is set) is the figures' instant, min(to, now),
     * as in the XLSX. A document of kw_doc_pdf (d NULL) keeps the clock's. */
    char created[32];
    struct tm tm;
    time_t end = d ? (time_t)d->end : 0;
    if (d && gmtime_r(&end, &tm) && strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm))
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, created);
    struct pdf p = {.cr = cairo_create(s), .zh = zh};
    p.lay = pango_cairo_create_layout(p.cr);
    new_page(&p);
    font(&p, 16, true);
    p.y += text(&p, MARGIN, p.y, PAGE_W - 2 * MARGIN, t->title, false) + 4;
    font(&p, 8, false);
    pango_layout_set_wrap(p.lay, PANGO_WRAP_WORD_CHAR);
    cairo_set_source_rgb(p.cr, 0.33, 0.33, 0.33);
    p.y += text(&p, MARGIN, p.y, PAGE_W - 2 * MARGIN, t->subtitle, false) + 12;
    cairo_set_source_rgb(p.cr, 0.1, 0.1, 0.1);
    for (size_t i = 0; i < t->n; i++) {
        draw_table(&p, &t->t[i]);
        if (d && t->t[i].title == kw_word(W_TREND, zh))
            draw_trend(&p, d);
        if (d && t->t[i].title == kw_word(W_RADAR, zh))
            draw_radars(&p, d);
    }
    g_object_unref(p.lay);
    cairo_destroy(p.cr);
    cairo_surface_finish(s);
    cairo_status_t st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS)
        return kw_err_set(err, st == CAIRO_STATUS_NO_MEMORY ? KW_NOMEM : KW_IO, NULL, "pdf: %s",
                          cairo_status_to_string(st));
    return KW_OK;
}

/* Copy s into a cell's text, cut at a character boundary with "…" when it
 * is longer than the cell holds (pango draws only valid UTF-8). */
static void cell_text(struct cell *c, const char *s)
{
    size_t n = strlen(s), cap = sizeof(c->s);
    if (n < cap) {
        memcpy(c->s, s, n + 1);
        return;
    }
    size_t k = cap - sizeof("…");
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--; /* back to the start of a UTF-8 sequence */
    memcpy(c->s, s, k);
    memcpy(c->s + k, "…", sizeof("…"));
}

enum kw_code kw_doc_pdf(const char *title, const char *subtitle, const struct kw_doc_table *dt,
                        size_t n, struct kw_buf *out, struct kw_err *err)
{
    if (n > MAX_TABLES)
        return kw_err_set(err, KW_TOO_BIG, NULL, "pdf: %zu tables, at most %d", n, MAX_TABLES);
    struct tables t = {.n = 0};
    snprintf(t.title, sizeof(t.title), "%s", title);
    snprintf(t.subtitle, sizeof(t.subtitle), "%s", subtitle ? subtitle : "");
    enum kw_code rc = KW_OK;
    for (size_t i = 0; i < n && rc == KW_OK; i++) {
        struct table *tb = &t.t[t.n];
        if (dt[i].ncols == 0 || dt[i].ncols > MAX_COLS) {
            rc = kw_err_set(err, KW_INVALID, NULL, "pdf: a table of %zu columns (1 to %d)",
                            dt[i].ncols, MAX_COLS);
            break;
        }
        *tb = (struct table){.title = dt[i].title, .ncols = dt[i].ncols, .nrows = dt[i].nrows};
        memcpy(tb->cols, dt[i].cols, dt[i].ncols * sizeof(tb->cols[0]));
        tb->rows = dt[i].nrows ? calloc(dt[i].nrows, sizeof(*tb->rows)) : NULL;
        if (dt[i].nrows && !tb->rows) {
            rc = kw_err_set(err, KW_NOMEM, NULL, "out of memory for the document's tables");
            break;
        }
        t.n++;
        for (size_t r = 0; r < dt[i].nrows; r++)
            for (size_t c = 0; c < dt[i].ncols; c++) {
                const char *s = dt[i].cells[r * dt[i].ncols + c];
                struct cell *cl = &tb->rows[r][c];
                cl->k = !s ? CK_NULL : dt[i].right & (1u << c) ? CK_RTEXT : CK_TEXT;
                if (s)
                    cell_text(cl, s);
            }
    }
    if (rc == KW_OK)
        rc = render_pdf(NULL, &t, false, out, err);
    tables_free(&t);
    if (rc == KW_OK && out->failed)
        rc = kw_err_set(err, KW_NOMEM, NULL, "out of memory for the document");
    return rc;
}
