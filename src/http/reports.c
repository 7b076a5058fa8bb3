// SPDX-License-Identifier: MIT
/* GET /api/v1/reports/weekly and /monthly: the service report (docs/kpi.md
 * "The service report") as HTML, PDF, CSV or XLSX. Staff see every
 * organisation (or one, with org_id) with the team and agent tables and the
 * radar; a customer sees only their own organisation and no per-agent
 * figure. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "render.h"
#include "reports.h"

static struct kwh_reply report(struct kwh_call *x, enum kw_report_kind kind)
{
    const char *period = kwh_query(x, "period"), *format = kwh_query(x, "format"),
               *lang = kwh_query(x, "lang"), *tz = kwh_query(x, "tz");
    struct kw_err err = {0};
    if (!period)
        return kwh_problemf(KW_INVALID, "/period", "period: missing (%s)",
                            kind == KW_REPORT_WEEKLY ? "an ISO week, e.g. 2026-W10"
                                                     : "a month, e.g. 2026-03");
    enum kw_report_fmt f = KW_FMT_HTML;
    if (format && !kw_report_fmt_parse(format, &f))
        return kwh_problemf(KW_INVALID, "/format", "format is html, pdf, csv or xlsx, not '%.40s'",
                            format);
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kwh_problemf(KW_INVALID, "/lang", "lang is zh or en, not '%.40s'", lang);
    long long org = 0;
    struct kwh_reply fail;
    if (kwh_query(x, "org_id") && !kwh_query_int(x, "org_id", 1, INT64_MAX, &org, &fail))
        return fail;
    if (x->me.customer) {
        if (org && org != x->me.org_id)
            return kwh_problemf(KW_FORBIDDEN, "/org_id",
                                "a customer sees only their own organisation's report");
        org = x->me.org_id;
    }
    /* the caller's own language and zone, unless asked for others */
    char my_lang[8] = "", my_tz[64] = "";
    struct kw_user_row u;
    if (kw_store_user_get(x->wk->st, x->me.id, &u, &err) == KW_OK) {
        snprintf(my_lang, sizeof(my_lang), "%s", u.lang ? u.lang : "");
        snprintf(my_tz, sizeof(my_tz), "%s", u.tz ? u.tz : "");
    }
    kw_store_end_read(x->wk->st);
    bool zh = lang ? strcmp(lang, "zh") == 0 : strcmp(my_lang, "en") != 0;
    if (!tz)
        tz = my_tz[0] ? my_tz : "UTC";
    struct kw_tzinfo tzi;
    if (kw_tzdb_get(kw_clocks_tzdb(x->h->clocks), tz, &tzi, &err) != KW_OK)
        return kwh_problemf(KW_INVALID, "/tz",
                            "tz: \"%.60s\" is not a time zone (e.g. Asia/Shanghai)", tz);
    struct kw_report_period p;
    if (kw_report_period_parse(kind, period, &tzi, tz, &p, &err) != KW_OK)
        return kwh_problem(&err);
    if (org) {
        struct kw_org o;
        if (kw_store_org_get(x->wk->st, org, &o, &err) != KW_OK)
            return kwh_problemf(KW_NOT_FOUND, "/org_id", "no organisation %lld", org);
        kw_store_end_read(x->wk->st);
    }
    struct kw_report_doc d;
    enum kw_code rc = kw_report_doc_make(x->h->clocks, x->wk->st, x->h->db, &x->wk->sla, &p, org,
                                         !x->me.customer, x->now, &d, &err);
    struct kw_buf out = {.max = 256u << 20};
    if (rc == KW_OK)
        rc = kw_report_render(&d, f, zh, &out, &err);
    char name[128];
    kw_report_file_name(&d, f, zh, name, sizeof(name));
    kw_report_doc_release(&d);
    if (rc != KW_OK) {
        kw_buf_release(&out);
        return kwh_problem(&err);
    }
    struct kwh_reply rep = {.status = 200, .text = out.p, .text_len = out.len};
    if (f == KW_FMT_HTML) {
        rep.ctype = kw_report_fmt_type(f); /* a page of ours: the pages' CSP */
        return rep;
    }
    snprintf(rep.file_type, sizeof(rep.file_type), "%s", kw_report_fmt_type(f));
    size_t dn = strlen(name) + 32;
    if ((rep.disposition = malloc(dn)))
        snprintf(rep.disposition, dn, "attachment; filename=\"%s\"", name);
    return rep;
}

struct kwh_reply kwh_report_weekly(struct kwh_call *x)
{
    return report(x, KW_REPORT_WEEKLY);
}

struct kwh_reply kwh_report_monthly(struct kwh_call *x)
{
    return report(x, KW_REPORT_MONTHLY);
}
