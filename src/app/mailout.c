// SPDX-License-Identifier: MIT
/* Mail out: staff replies and acknowledgements mailed to a ticket's
 * readers through the mailbox its mail came by; see mailout.h. */
#include "mailout.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "clocks.h"
#include "kw_buf.h"
#include "kw_text.h"
#include "policy.h"
#include "tz.h"

#define READERS_MAX 32

struct reader {
    int64_t user_id;
    char address[256], name[128], lang[4], tz[64];
};

struct readers {
    struct reader r[READERS_MAX];
    size_t n;
};

static bool take_reader(const struct kw_mail_reader *r, void *ctx)
{
    struct readers *l = ctx;
    if (!r->address || strlen(r->address) >= sizeof(l->r[0].address))
        return true;
    for (size_t i = 0; i < l->n; i++) /* the requester and a sender may be one person */
        if (strcmp(l->r[i].address, r->address) == 0)
            return true;
    struct reader *o = &l->r[l->n++];
    *o = (struct reader){.user_id = r->user_id};
    snprintf(o->address, sizeof(o->address), "%s", r->address);
    snprintf(o->name, sizeof(o->name), "%s", r->name ? r->name : "");
    snprintf(o->lang, sizeof(o->lang), "%s", r->lang ? r->lang : "");
    snprintf(o->tz, sizeof(o->tz), "%s", r->tz ? r->tz : "");
    return l->n < READERS_MAX;
}

/* Whether s has a CJK ideograph (U+4E00-U+9FFF: UTF-8 lead bytes E4-E9). */
static bool has_chinese(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0xE4 && (unsigned char)*s <= 0xE9)
            return true;
    return false;
}

/* Instant t as "YYYY-MM-DD HH:MM (Zone)" in zone tz, else fallback, else UTC. */
static void local_time(struct kw_unit *u, const char *tz, const char *fallback, int64_t t,
                       char *out, size_t cap)
{
    struct kw_tzinfo z;
    struct kw_err e = {0};
    int32_t off = 0;
    const char *name = "UTC";
    if (tz && *tz && kw_tzdb_get(kw_clocks_tzdb(u->clocks), tz, &z, &e) == KW_OK)
        name = tz, off = kw_tz_offset(&z, t);
    else if (fallback && *fallback &&
             kw_tzdb_get(kw_clocks_tzdb(u->clocks), fallback, &z, &e) == KW_OK)
        name = fallback, off = kw_tz_offset(&z, t);
    time_t s = (time_t)(t + off);
    struct tm tm;
    char when[32];
    gmtime_r(&s, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
    snprintf(out, cap, "%s (%s)", when, name);
}

/* A target in seconds as words: "15 minutes", "2 hours 30 minutes", "1 day". */
static void duration_words(int64_t s, bool zh, char *out, size_t cap)
{
    long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
    size_t n = 0;
    out[0] = '\0';
    if (d && n < cap)
        n += (size_t)snprintf(out + n, cap - n, zh ? "%lld 天" : "%lld day%s", d,
                              zh || d == 1 ? "" : "s");
    if (h && n < cap)
        n += (size_t)snprintf(out + n, cap - n, zh ? "%s%lld 小时" : "%s%lld hour%s", n ? " " : "",
                              h, zh || h == 1 ? "" : "s");
    if ((m || (!d && !h)) && n < cap)
        snprintf(out + n, cap - n, zh ? "%s%lld 分钟" : "%s%lld minute%s", n ? " " : "", m,
                 zh || m == 1 ? "" : "s");
}

/* What every message of one ticket shares. */
struct batch {
    struct kw_unit *u;
    int64_t ticket;
    char title[512];
    struct kw_mail_thread th;
    struct readers readers;
    const char *zone; /* the fallback zone, or NULL */
};

/* Read the ticket's thread and readers: false (and KW_OK) when it is not
 * answered by mail. */
static enum kw_code batch_open(struct kw_unit *u, int64_t ticket, struct batch *b, bool *go,
                               struct kw_err *err)
{
    b->u = u;
    b->ticket = ticket;
    *go = false;
    enum kw_code rc = kw_store_mail_thread(u->st, ticket, &b->th, err);
    if (rc != KW_OK || !b->th.endpoint_id)
        return rc;
    struct kw_ticket_row t;
    if ((rc = kw_store_ticket_get(u->st, ticket, &t, err)) != KW_OK)
        return rc;
    snprintf(b->title, sizeof(b->title), "%s", t.title ? t.title : "");
    b->readers.n = 0;
    if ((rc = kw_store_mail_readers(u->st, ticket, take_reader, &b->readers, err)) != KW_OK)
        return rc;
    *go = b->readers.n > 0;
    return KW_OK;
}

/* Queue one message to reader r, its text body (released here): its
 * Message-ID recorded as the ticket's. */
static enum kw_code queue(struct batch *b, const struct reader *r, const char *kind, bool zh,
                          const char *subject, struct kw_buf *body, struct kw_err *err)
{
    if (body->failed || !body->p) {
        kw_buf_release(body);
        return kw_err_set(err, KW_NOMEM, "", "no memory for the mail");
    }
    unsigned char rnd[8];
    char hex[17], mid[400];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    const char *at = strchr(b->th.reply_from, '@');
    snprintf(mid, sizeof(mid), "kw.%lld.%s@%s", (long long)b->ticket, hex,
             at ? at + 1 : "keepword");
    json_t *p = json_pack("{s:s, s:{s:I, s:s}, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:b}", "kind",
                          kind, "ticket", "id", (json_int_t)b->ticket, "title", b->title, "to",
                          "email", r->address, "name", r->name, "lang", zh ? "zh" : "en", "subject",
                          subject, "text", body->p, "message_id", mid, "in_reply_to", b->th.last_id,
                          "auto", strcmp(kind, "mail_ack") == 0);
    char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    enum kw_code rc = !payload ? kw_err_set(err, KW_NOMEM, "", "no memory for the mail")
                               : kw_store_mail_queue(b->u->st, b->th.endpoint_id, b->ticket, kind,
                                                     payload, mid, b->u->now, err);
    free(payload);
    kw_buf_release(body);
    if (rc == KW_OK)
        rc = kw_store_mail_id_put(b->u->st, mid, b->ticket, err);
    return rc;
}

static bool reader_zh(const struct batch *b, const struct reader *r)
{
    return r->lang[0] ? r->lang[0] == 'z' : has_chinese(b->title);
}

enum kw_code kw_mailout_reply(struct kw_unit *u, int64_t ticket, int64_t author, const char *text,
                              struct kw_err *err)
{
    struct batch *b = calloc(1, sizeof(*b));
    if (!b)
        return kw_err_set(err, KW_NOMEM, "", "out of memory");
    bool go;
    char who[128] = "";
    struct kw_user_row a;
    enum kw_code rc = batch_open(u, ticket, b, &go, err);
    if (rc == KW_OK && go && kw_store_user_get(u->st, author, &a, err) == KW_OK)
        snprintf(who, sizeof(who), "%s", a.name ? a.name : "");
    for (size_t i = 0; rc == KW_OK && go && i < b->readers.n; i++) {
        const struct reader *r = &b->readers.r[i];
        bool zh = reader_zh(b, r);
        char subject[700], when[96];
        snprintf(subject, sizeof(subject), "Re: [KW#%lld] %s", (long long)ticket, b->title);
        local_time(u, r->tz, NULL, u->now, when, sizeof(when));
        struct kw_buf body = {0};
        kw_buf_printf(&body, "%s\r\n\r\n-- \r\n", text);
        if (zh)
            kw_buf_printf(&body,
                          "%s%sKeepword 服务台\r\n工单 #%lld：%s\r\n回复时间：%s\r\n"
                          "直接回复此邮件即可补充工单，请保留主题中的 [KW#%lld]。\r\n",
                          who, *who ? "，" : "", (long long)ticket, b->title, when,
                          (long long)ticket);
        else
            kw_buf_printf(&body,
                          "%s%sKeepword service desk\r\nTicket #%lld: %s\r\nReplied: %s\r\n"
                          "Reply to this e-mail to add to the ticket; keep [KW#%lld] in the "
                          "subject.\r\n",
                          who, *who ? ", " : "", (long long)ticket, b->title, when,
                          (long long)ticket);
        rc = queue(b, r, "mail_reply", zh, subject, &body, err);
    }
    free(b);
    return rc;
}

/* The response clock of ticket: its target (working seconds), deadline and
 * calendar zone; *target 0 when the commitment sets none. */
static enum kw_code response_of(struct kw_unit *u, int64_t ticket, int64_t *target,
                                int64_t *deadline, char *zone, size_t cap, struct kw_err *err)
{
    *target = 0;
    *deadline = KW_STORE_NO_TIME;
    zone[0] = '\0';
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(u->st, ticket, &t, err);
    if (rc != KW_OK || !t.commitment_id)
        return rc;
    char level[48], tier[48], category[48], region[48], channel[48], org[256];
    snprintf(level, sizeof(level), "%s", t.level ? t.level : "");
    snprintf(tier, sizeof(tier), "%s", t.tier ? t.tier : "");
    snprintf(category, sizeof(category), "%s", t.category ? t.category : "");
    snprintf(region, sizeof(region), "%s", t.region ? t.region : "");
    snprintf(channel, sizeof(channel), "%s", t.channel ? t.channel : "");
    int64_t org_id = t.org_id, commitment = t.commitment_id;
    struct kw_org o;
    org[0] = '\0';
    if (kw_store_org_get(u->st, org_id, &o, err) == KW_OK)
        snprintf(org, sizeof(org), "%s", o.name ? o.name : "");
    const struct kw_compiled *k = kw_clocks_commitment(u->clocks, u->st, commitment, err);
    if (!k)
        return err->code;
    struct kw_ticket_attrs at = {{0}};
    at.v[KW_ATTR_LEVEL] = *level ? level : NULL;
    at.v[KW_ATTR_TIER] = *tier ? tier : NULL;
    at.v[KW_ATTR_CATEGORY] = *category ? category : NULL;
    at.v[KW_ATTR_REGION] = *region ? region : NULL;
    at.v[KW_ATTR_CHANNEL] = *channel ? channel : NULL;
    at.v[KW_ATTR_ORGANISATION] = *org ? org : NULL;
    for (size_t m = 0; m < kw_policy_metric_count(k->p); m++) {
        const char *const *stops;
        size_t n = kw_policy_metric_stops(k->p, m, &stops);
        bool response = false;
        for (size_t i = 0; i < n; i++)
            response = response || strcmp(stops[i], "first_response") == 0;
        struct kw_target tg = response ? kw_policy_resolve(k->p, m, &at) : (struct kw_target){0};
        if (!tg.applies)
            continue;
        *target = tg.target;
        const struct kw_cal_spec *spec = kw_policy_calendar_spec(k->p, (size_t)tg.calendar);
        if (spec)
            snprintf(zone, cap, "%s", spec->tz);
        if (k->cals[tg.calendar]) {
            int64_t d;
            if (kw_cal_deadline(k->cals[tg.calendar], u->now, tg.target, &d, NULL) == KW_OK)
                *deadline = d;
        }
        break;
    }
    return KW_OK;
}

enum kw_code kw_mailout_ack(struct kw_unit *u, int64_t ticket, struct kw_err *err)
{
    struct batch *b = calloc(1, sizeof(*b));
    if (!b)
        return kw_err_set(err, KW_NOMEM, "", "out of memory");
    bool go;
    int64_t target = 0, deadline = KW_STORE_NO_TIME;
    char zone[64];
    enum kw_code rc = batch_open(u, ticket, b, &go, err);
    if (rc == KW_OK && go && !b->th.ack)
        go = false;
    if (rc == KW_OK && go)
        rc = response_of(u, ticket, &target, &deadline, zone, sizeof(zone), err);
    for (size_t i = 0; rc == KW_OK && go && i < b->readers.n; i++) {
        const struct reader *r = &b->readers.r[i];
        bool zh = reader_zh(b, r);
        char subject[700], within[64] = "", by[96] = "";
        snprintf(subject, sizeof(subject), "%s[KW#%lld] %s",
                 zh ? "已受理：" : "Received: ", (long long)ticket, b->title);
        if (target > 0)
            duration_words(target, zh, within, sizeof(within));
        if (deadline != KW_STORE_NO_TIME)
            local_time(u, r->tz, zone, deadline, by, sizeof(by));
        struct kw_buf body = {0};
        if (zh) {
            kw_buf_printf(&body, "%s%s您好：\r\n\r\n我们已收到您的请求，工单号 #%lld（%s）。\r\n",
                          r->name, *r->name ? "，" : "", (long long)ticket, b->title);
            if (*within)
                kw_buf_printf(&body, "按照您的服务承诺，我们将在 %s内响应%s%s%s。\r\n", within,
                              *by ? "（最迟 " : "", by, *by ? "）" : "");
            kw_buf_printf(&body,
                          "\r\n补充信息请直接回复此邮件，并保留主题中的 [KW#%lld]。\r\n\r\n"
                          "—— Keepword 服务台（此邮件由系统自动发送）\r\n",
                          (long long)ticket);
        } else {
            kw_buf_printf(&body,
                          "Hello%s%s,\r\n\r\nWe received your request as ticket #%lld (%s).\r\n",
                          *r->name ? " " : "", r->name, (long long)ticket, b->title);
            if (*within)
                kw_buf_printf(&body,
                              "Under your service commitment we will respond within %s%s%s%s.\r\n",
                              within, *by ? " (by " : "", by, *by ? " at the latest)" : "");
            kw_buf_printf(&body,
                          "\r\nTo add to it, reply to this e-mail and keep [KW#%lld] in the "
                          "subject.\r\n\r\n-- Keepword service desk (sent automatically)\r\n",
                          (long long)ticket);
        }
        rc = queue(b, r, "mail_ack", zh, subject, &body, err);
    }
    free(b);
    return rc;
}
