// SPDX-License-Identifier: MIT
/* render_text.c - the report as an HTML page (tables, the on-time trend as
 * bars and the radar per agent in inline SVG: one self-contained file that
 * works offline and mails as is) and as CSV (RFC 4180: each table under its
 * title line, a blank line between; a UTF-8 byte order mark so spreadsheet
 * programs read Chinese right). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

#define PI 3.14159265358979323846

/* Kept the same as the .kw-report rules at the end of web/app.css. */
static const char css[] =
    "body.kw-report{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:1rem auto;"
    "max-width:64rem;padding:0 1rem;color:#222;background:#fff}"
    ".kw-report h1{font-size:1.5rem;margin:.2rem 0}"
    ".kw-report h2{font-size:1.1rem;margin:1.4rem 0 .4rem}"
    ".kw-report .sub{color:#555;font-size:.9rem}.kw-report .scroll{overflow-x:auto}"
    ".kw-report table{border-collapse:collapse;font-size:.9rem}"
    ".kw-report th,.kw-report td{border-bottom:1px solid #ddd;padding:.25rem .6rem;"
    "text-align:left;white-space:nowrap}"
    ".kw-report td.n,.kw-report th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".kw-report th{background:#f3f5f8}"
    ".kw-report .chart,.kw-report .radar svg{max-width:100%;height:auto}"
    ".kw-report .radars{display:flex;flex-wrap:wrap;gap:1rem}.kw-report .radar{margin:0}"
    ".kw-report figcaption{text-align:center;font-weight:600}";

static void svg_trend(const struct kw_report_doc *d, struct kw_buf *b)
{
    const struct kw_report *r = &d->rep;
    if (!r->ntrend)
        return;
    int w = 60 * (int)r->ntrend + 40, h = 180;
    kw_buf_printf(b,
                  "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                  "role=\"img\">",
                  w, h, w, h);
    for (int g = 0; g <= 100; g += 50)
        kw_buf_printf(b,
                      "<line x1=\"30\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                      "<text x=\"26\" y=\"%d\" text-anchor=\"end\" font-size=\"10\">%d</text>",
                      w, 150 - g * 130 / 100, 150 - g * 130 / 100, 154 - g * 130 / 100, g);
    for (size_t i = 0; i < r->ntrend; i++) {
        double v = r->trend[i].on_time;
        int x = 40 + 60 * (int)i;
        if (!isnan(v)) {
            int bh = (int)lround(v * 130.0 / 100.0);
            kw_buf_printf(b,
                          "<rect x=\"%d\" y=\"%d\" width=\"36\" height=\"%d\" fill=\"%s\"/>"
                          "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                          "font-size=\"10\">%.1f</text>",
                          x, 150 - bh, bh,
                          v >= 90   ? "#2e7d32"
                          : v >= 70 ? "#f9a825"
                                    : "#c62828",
                          x + 18, 146 - bh, v);
        } else {
            kw_buf_printf(b,
                          "<text x=\"%d\" y=\"146\" text-anchor=\"middle\" "
                          "font-size=\"10\">—</text>",
                          x + 18);
        }
        kw_buf_printf(b, "<text x=\"%d\" y=\"166\" text-anchor=\"middle\" font-size=\"10\">",
                      x + 18);
        kw_buf_html(b, d->p.blabel[i]);
        kw_buf_adds(b, "</text>");
    }
    kw_buf_adds(b, "</svg>");
}

static void svg_radar(const struct kw_report_radar *rd, bool zh, struct kw_buf *b)
{
    static const enum word axes[KW_RA_COUNT] = {W_TIMELINESS,      W_RESPONSIVENESS, W_RESOLUTION,
                                                W_PROFESSIONALISM, W_FRIENDLINESS,   W_WORKLOAD};
    const double cx = 180, cy = 105, R = 70;
    kw_buf_adds(b, "<figure class=\"radar\"><svg viewBox=\"0 0 360 215\" width=\"360\" "
                   "height=\"215\" role=\"img\">");
    for (int ring = 1; ring <= 4; ring++) {
        kw_buf_adds(b, "<polygon fill=\"none\" stroke=\"#ddd\" points=\"");
        for (int k = 0; k < KW_RA_COUNT; k++) {
            double a = -PI / 2 + k * PI / 3, rr = R * ring / 4.0;
            kw_buf_printf(b, "%.1f,%.1f ", cx + rr * cos(a), cy + rr * sin(a));
        }
        kw_buf_adds(b, "\"/>");
    }
    kw_buf_adds(b, "<polygon fill=\"rgba(21,101,192,.25)\" stroke=\"#1565c0\" points=\"");
    for (int k = 0; k < KW_RA_COUNT; k++) {
        double a = -PI / 2 + k * PI / 3;
        double v = isnan(rd->axis[k]) ? 0 : rd->axis[k] / 100.0;
        kw_buf_printf(b, "%.1f,%.1f ", cx + R * v * cos(a), cy + R * v * sin(a));
    }
    kw_buf_adds(b, "\"/>");
    for (int k = 0; k < KW_RA_COUNT; k++) {
        double a = -PI / 2 + k * PI / 3;
        double x = cx + (R + 14) * cos(a), y = cy + (R + 14) * sin(a) + 4;
        const char *anchor = fabs(cos(a)) < 0.2 ? "middle" : cos(a) > 0 ? "start" : "end";
        kw_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"10\">", x, y,
                      anchor);
        kw_buf_html(b, kw_word(axes[k], zh));
        if (isnan(rd->axis[k]))
            kw_buf_adds(b, " —");
        else
            kw_buf_printf(b, " %.0f", rd->axis[k]);
        kw_buf_adds(b, "</text>");
    }
    kw_buf_adds(b, "</svg><figcaption>");
    kw_buf_html(b, rd->agent ? rd->agent : "");
    kw_buf_adds(b, "</figcaption></figure>");
}

static void html_table(const struct table *tb, struct kw_buf *b)
{
    kw_buf_adds(b, "<section><h2>");
    kw_buf_html(b, tb->title);
    kw_buf_adds(b, "</h2><div class=\"scroll\"><table><thead><tr>");
    for (size_t i = 0; i < tb->ncols; i++) {
        bool right = i > 0 && (!tb->nrows || tb->rows[0][i].k != CK_TEXT);
        kw_buf_adds(b, right ? "<th class=\"n\">" : "<th>");
        kw_buf_html(b, tb->cols[i]);
        kw_buf_adds(b, "</th>");
    }
    kw_buf_adds(b, "</tr></thead><tbody>");
    for (size_t r = 0; r < tb->nrows; r++) {
        kw_buf_adds(b, "<tr>");
        for (size_t i = 0; i < tb->ncols; i++) {
            char s[128];
            cell_format(&tb->rows[r][i], s, sizeof(s));
            kw_buf_adds(b, tb->rows[r][i].k == CK_TEXT ? "<td>" : "<td class=\"n\">");
            kw_buf_html(b, s);
            kw_buf_adds(b, "</td>");
        }
        kw_buf_adds(b, "</tr>");
    }
    if (!tb->nrows)
        kw_buf_printf(b, "<tr><td colspan=\"%zu\">—</td></tr>", tb->ncols);
    kw_buf_adds(b, "</tbody></table></div>");
}

enum kw_code render_html(const struct kw_report_doc *d, const struct tables *t, bool zh,
                         struct kw_buf *out, struct kw_err *err)
{
    (void)err;
    kw_buf_printf(out,
                  "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>",
                  zh ? "zh-CN" : "en");
    kw_buf_html(out, t->title);
    /* the rules inline for the file (mailed, saved), and the same in
     * web/app.css for the page the server serves (its CSP allows no inline
     * style) */
    kw_buf_adds(out, "</title><link rel=\"stylesheet\" href=\"/assets/app.css\"><style>");
    kw_buf_adds(out, css);
    kw_buf_adds(out, "</style></head><body class=\"kw-report\"><header><h1>");
    kw_buf_html(out, t->title);
    kw_buf_adds(out, "</h1><p class=\"sub\">");
    kw_buf_html(out, t->subtitle);
    kw_buf_adds(out, "</p></header><main>");
    for (size_t i = 0; i < t->n; i++) {
        html_table(&t->t[i], out);
        if (t->t[i].title == kw_word(W_TREND, zh))
            svg_trend(d, out);
        if (t->t[i].title == kw_word(W_RADAR, zh) && d->rep.nagents) {
            kw_buf_adds(out, "<div class=\"radars\">");
            for (size_t a = 0; a < d->rep.nagents; a++)
                svg_radar(&d->rep.radar[a], zh, out);
            kw_buf_adds(out, "</div>");
        }
        kw_buf_adds(out, "</section>");
    }
    kw_buf_adds(out, "</main></body></html>\n");
    return KW_OK;
}

static void csv_cell(struct kw_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        kw_buf_adds(b, s);
        return;
    }
    kw_buf_adds(b, "\"");
    for (; *s; s++) {
        if (*s == '"')
            kw_buf_adds(b, "\"");
        kw_buf_add(b, s, 1);
    }
    kw_buf_adds(b, "\"");
}

enum kw_code render_csv(const struct tables *t, struct kw_buf *out, struct kw_err *err)
{
    (void)err;
    kw_buf_adds(out, "\xEF\xBB\xBF");
    csv_cell(out, t->title);
    kw_buf_adds(out, "\r\n");
    csv_cell(out, t->subtitle);
    kw_buf_adds(out, "\r\n");
    for (size_t i = 0; i < t->n; i++) {
        const struct table *tb = &t->t[i];
        kw_buf_adds(out, "\r\n");
        csv_cell(out, tb->title);
        kw_buf_adds(out, "\r\n");
        for (size_t c = 0; c < tb->ncols; c++) {
            if (c)
                kw_buf_adds(out, ",");
            csv_cell(out, tb->cols[c]);
        }
        kw_buf_adds(out, "\r\n");
        for (size_t r = 0; r < tb->nrows; r++) {
            for (size_t c = 0; c < tb->ncols; c++) {
                char s[128];
                const struct cell *cl = &tb->rows[r][c];
                if (c)
                    kw_buf_adds(out, ",");
                if (cl->k == CK_NULL)
                    continue; /* empty: no value */
                cell_format(cl, s, sizeof(s));
                csv_cell(out, s);
            }
            kw_buf_adds(out, "\r\n");
        }
    }
    return KW_OK;
}
