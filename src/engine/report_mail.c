// SPDX-License-Identifier: MIT
/* report_mail.c - queue the service reports that are due (report_mail.h). The
 * subscriptions are copied out first: making a report reads the store. */
#include "report_mail.h"

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "reports.h"
#include "tz.h"

struct sub {
    int64_t user_id, endpoint_id;
    bool weekly, monthly;
    char lang[8], quiet_tz[64];
};
struct subs {
    size_t n, cap;
    struct sub *v;
};

static bool names(const char *events, const char *kind)
{
    json_t *a = json_loads(events ? events : "[]", 0, NULL);
    bool found = false;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) found =
        found || (json_is_string(v) && strcmp(json_string_value(v), kind) == 0);
    json_decref(a);
    return found;
}

static bool sub_row(const struct kw_subscription *s, void *ctx)
{
    struct subs *l = ctx;
    /* only those that name a report: "[]" (every notification) does not,
     * a report is a large mail one asks for */
    bool w = names(s->events, "report_weekly"), m = names(s->events, "report_monthly");
    if (!w && !m)
        return true;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct sub *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    struct sub *c = &l->v[l->n++];
    *c = (struct sub){
        .user_id = s->user_id, .endpoint_id = s->endpoint_id, .weekly = w, .monthly = m};
    snprintf(c->lang, sizeof(c->lang), "%s", s->lang ? s->lang : "");
    snprintf(c->quiet_tz, sizeof(c->quiet_tz), "%s", s->quiet_tz ? s->quiet_tz : "");
    return true;
}

struct put {
    int64_t endpoint_id, user_id, now;
    const char *kind, *payload, *key;
    bool queued;
};

static enum kw_code put_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct put *p = ctx;
    return kw_store_outbox_person(st, p->endpoint_id, p->user_id, p->kind, p->payload, p->key,
                                  p->now, &p->queued, err);
}

static json_t *num(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

/* The payload: what the mail says, and the PDF. NULL: out of memory. */
static char *payload_of(const struct kw_report_doc *d, const char *lang, const struct kw_buf *pdf,
                        const char *file)
{
    size_t n = sodium_base64_encoded_len(pdf->len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(n);
    if (!b64)
        return NULL;
    sodium_bin2base64(b64, n, (const unsigned char *)pdf->p, pdf->len,
                      sodium_base64_VARIANT_ORIGINAL);
    const double *h = d->rep.head;
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}, "
        "s:{s:s, s:s, s:I, s:s}}",
        "report", d->p.kind == KW_REPORT_WEEKLY ? "weekly" : "monthly", "period", d->p.label, "tz",
        d->p.tz, "lang", lang, "organisation", d->org_name ? json_string(d->org_name) : json_null(),
        "headline", "on_time_rate", num(h[KW_RH_ON_TIME]), "on_time_rate_previous",
        num(d->rep.prev[KW_RH_ON_TIME]), "mtta", num(h[KW_RH_MTTA]), "mttr", num(h[KW_RH_MTTR]),
        "breaches", num(h[KW_RH_BREACHES]), "created", num(h[KW_RH_CREATED]), "resolved",
        num(h[KW_RH_RESOLVED]), "backlog", num(h[KW_RH_BACKLOG]), "csat", num(h[KW_RH_CSAT]), "nps",
        num(h[KW_RH_NPS]), "attachment", "name", file, "type", "application/pdf", "bytes",
        (json_int_t)pdf->len, "base64", b64);
    free(b64);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* Queue one person's report of kind if due and not queued yet. */
static bool one(struct kw_store *rd, struct kw_writer *w, struct kw_clocks *clocks,
                struct kw_sla *scratch, const struct sub *s, enum kw_report_kind kind, int64_t now,
                const struct kw_log *log)
{
    struct kw_err err = {0};
    struct kw_user_row u;
    if (kw_store_user_get(rd, s->user_id, &u, &err) != KW_OK || !u.active) {
        kw_store_end_read(rd);
        return false;
    }
    char tz[64], lang[8];
    bool customer = strcmp(u.role, "customer") == 0;
    int64_t org = customer ? u.org_id : 0;
    snprintf(tz, sizeof(tz), "%s", u.tz && *u.tz ? u.tz : s->quiet_tz[0] ? s->quiet_tz : "UTC");
    snprintf(lang, sizeof(lang), "%s", s->lang[0] ? s->lang : u.lang && *u.lang ? u.lang : "zh");
    kw_store_end_read(rd);
    struct kw_tzinfo tzi;
    if (kw_tzdb_get(kw_clocks_tzdb(clocks), tz, &tzi, &err) != KW_OK &&
        kw_tzdb_get(kw_clocks_tzdb(clocks), "UTC", &tzi, &err) != KW_OK)
        return false;
    struct kw_report_period p;
    kw_report_period_last(kind, now, &tzi, tz, &p);
    if (now < kw_report_due_at(&p, &tzi))
        return false;
    const char *kname = kind == KW_REPORT_WEEKLY ? "report_weekly" : "report_monthly";
    char key[128];
    snprintf(key, sizeof(key), "%s/%s/u%lld", kname, p.label, (long long)s->user_id);
    bool has = false;
    enum kw_code rc = kw_store_outbox_has(rd, s->endpoint_id, key, &has, &err);
    kw_store_end_read(rd);
    if (rc != KW_OK || has)
        return false;
    struct kw_report_doc d;
    struct kw_buf pdf = {.max = 64u << 20};
    char file[128] = "", *payload = NULL;
    bool zh = strcmp(lang, "en") != 0;
    rc = kw_report_doc_make(clocks, rd, NULL, scratch, &p, org, !customer, now, &d, &err);
    kw_store_end_read(rd);
    if (rc == KW_OK)
        rc = kw_report_render(&d, KW_FMT_PDF, zh, &pdf, &err);
    if (rc == KW_OK) {
        kw_report_file_name(&d, KW_FMT_PDF, zh, file, sizeof(file));
        if (!(payload = payload_of(&d, zh ? "zh" : "en", &pdf, file)))
            rc = kw_err_set(&err, KW_NOMEM, NULL, "no memory for the report's mail");
    }
    kw_report_doc_release(&d);
    kw_buf_release(&pdf);
    struct put put = {.endpoint_id = s->endpoint_id,
                      .user_id = s->user_id,
                      .now = now,
                      .kind = kname,
                      .payload = payload,
                      .key = key};
    if (rc == KW_OK)
        rc = kw_writer_run(w, put_unit, &put, &err);
    free(payload);
    if (rc != KW_OK) {
        KW_LOG(log, KW_LOG_ERROR, "mod=engine event=report.failed user=%lld period=%s error=%s",
               (long long)s->user_id, p.label, KW_LOG_Q(err.msg));
        return false;
    }
    if (put.queued)
        KW_LOG(log, KW_LOG_INFO, "mod=engine event=report.queued user=%lld report=%s period=%s",
               (long long)s->user_id, kname, p.label);
    return put.queued;
}

size_t kw_reports_queue(struct kw_store *rd, struct kw_writer *w, struct kw_clocks *clocks,
                        int64_t now, const struct kw_log *log)
{
    struct subs l = {0};
    struct kw_err err = {0};
    if (kw_store_subscriptions(rd, 0, sub_row, &l, &err) != KW_OK)
        KW_LOG(log, KW_LOG_ERROR, "mod=engine event=report.unreadable error=%s", KW_LOG_Q(err.msg));
    kw_store_end_read(rd);
    struct kw_sla scratch;
    kw_sla_init(&scratch);
    size_t queued = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i].weekly)
            queued += one(rd, w, clocks, &scratch, &l.v[i], KW_REPORT_WEEKLY, now, log);
        if (l.v[i].monthly)
            queued += one(rd, w, clocks, &scratch, &l.v[i], KW_REPORT_MONTHLY, now, log);
    }
    kw_sla_release(&scratch);
    free(l.v);
    return queued;
}
