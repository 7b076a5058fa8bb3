// SPDX-License-Identifier: MIT
/* Sending notifications; see deliver.h. */
#include "deliver.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "civil.h"
#include "kw_buf.h"
#include "kw_net.h"
#include "kw_text.h"

void kw_webhook_signature(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
}

/* base64 of HMAC-SHA256(key, msg) into out (at least 48 bytes). */
static void hmac_b64(const char *key, const char *msg, char *out, size_t cap)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(out, cap, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
}

/* ---- what a notification says, in Chinese or English ---- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static const char *str_at(json_t *o, const char *key)
{
    return or_empty(json_string_value(json_object_get(o, key)));
}

/* A metric's name for people: the two every commitment has, translated. */
static const char *metric_name(const char *m, bool zh)
{
    if (strcmp(m, "response") == 0)
        return zh ? "响应" : "response";
    if (strcmp(m, "resolution") == 0)
        return zh ? "解决" : "resolution";
    return m;
}

static const char *colour_name(const char *c, bool zh)
{
    if (strcmp(c, "red") == 0)
        return zh ? "红色" : "Red";
    if (strcmp(c, "yellow") == 0)
        return zh ? "黄色" : "Yellow";
    return zh ? "蓝色" : "Blue";
}

static const char *action_name(const char *a, bool zh)
{
    if (strcmp(a, "reassign") == 0)
        return zh ? "转派" : "reassigned";
    if (strcmp(a, "raise_level") == 0)
        return zh ? "提升级别" : "level raised";
    return zh ? "通知" : "notified";
}

/* The one-line headline of a notification in one language, appended to
 * out: user text (titles, notes) is as long as it is, never cut. */
static void headline(const char *kind, json_t *p, bool zh, struct kw_buf *out)
{
    json_t *t = json_object_get(p, "ticket"), *e = json_object_get(p, "event");
    long long id = (long long)json_integer_value(json_object_get(t, "id"));
    const char *title = str_at(t, "title"), *metric = metric_name(str_at(e, "metric"), zh);
    const char *deadline = str_at(e, "deadline");
    long long pct = (long long)json_integer_value(json_object_get(e, "percent"));
    if (strcmp(kind, "sla_warning") == 0) {
        const char *colour = colour_name(str_at(e, "colour"), zh);
        if (zh)
            kw_buf_printf(out, "【SLA %s预警】工单 #%lld「%s」%s时限已用 %lld%%，截止 %s", colour,
                          id, title, metric, pct, deadline);
        else
            kw_buf_printf(
                out, "[SLA %s warning] Ticket #%lld \"%s\": %lld%% of the %s time used, due %s",
                colour, id, title, pct, metric, deadline);
    } else if (strcmp(kind, "sla_breach") == 0) {
        if (zh)
            kw_buf_printf(out, "【SLA 超时】工单 #%lld「%s」%s已超过承诺时限（截止 %s）", id, title,
                          metric, deadline);
        else
            kw_buf_printf(out, "[SLA breach] Ticket #%lld \"%s\" missed its %s commitment (due %s)",
                          id, title, metric, deadline);
    } else if (strcmp(kind, "escalation") == 0) {
        const char *who = str_at(json_object_get(p, "to"), "name");
        const char *action = action_name(str_at(e, "action"), zh);
        const char *level = str_at(e, "level");
        int step = (int)json_integer_value(json_object_get(e, "step")) + 1;
        if (zh)
            kw_buf_printf(out, "【升级】工单 #%lld「%s」升级链 %s 第 %d 步：%s%s%s%s%s", id, title,
                          str_at(e, "chain"), step, action, *who ? " " : "", who,
                          *level ? " → " : "", level);
        else
            kw_buf_printf(out, "[Escalation] Ticket #%lld \"%s\": chain %s, step %d: %s%s%s%s%s",
                          id, title, str_at(e, "chain"), step, action, *who ? " " : "", who,
                          *level ? " to " : "", level);
    } else if (strcmp(kind, "confirm_reminder") == 0) {
        if (zh)
            kw_buf_printf(out,
                          "【请确认】工单 #%lld「%s」的处理结果等待您的确认，请于 %s 前确认或驳回",
                          id, title, deadline);
        else
            kw_buf_printf(
                out,
                "[Please confirm] Ticket #%lld \"%s\": the proposed resolution waits for your "
                "confirmation until %s",
                id, title, deadline);
    } else if (strcmp(kind, "confirm_timeout") == 0) {
        if (zh)
            kw_buf_printf(out,
                          "【已关闭】工单 "
                          "#%lld「%s」确认期限（%s）已到，未经您确认已关闭；如未解决可重新打开",
                          id, title, deadline);
        else
            kw_buf_printf(
                out,
                "[Closed] Ticket #%lld \"%s\" was closed without your confirmation: the wait "
                "ended %s; reopen it if the problem is not solved",
                id, title, deadline);
    } else if (strcmp(kind, "task_opened") == 0) {
        if (zh)
            kw_buf_printf(out, "【跟进任务】工单 #%lld「%s」回访不满意：%s", id, title,
                          str_at(e, "note"));
        else
            kw_buf_printf(out, "[Follow-up] Ticket #%lld \"%s\": unhappy call-back: %s", id, title,
                          str_at(e, "note"));
    } else if (strcmp(kind, "deposit_low") == 0) {
        json_t *c = json_object_get(p, "contract");
        const char *org = str_at(json_object_get(p, "org"), "name");
        const char *cur = str_at(c, "currency");
        long long bal = (long long)json_integer_value(json_object_get(c, "deposit_balance"));
        long long req = (long long)json_integer_value(json_object_get(c, "deposit_required"));
        long long cid = (long long)json_integer_value(json_object_get(c, "id"));
        if (zh)
            kw_buf_printf(out,
                          "【保证金不足】%s 合同 #%lld 的保证金余额 %lld 低于合同要求的 %lld（%s "
                          "最小单位）",
                          org, cid, bal, req, cur);
        else
            kw_buf_printf(out,
                          "[Deposit low] %s, contract #%lld: the deposit balance %lld is below the "
                          "%lld the contract requires (%s minor units)",
                          org, cid, bal, req, cur);
    } else if (strcmp(kind, "watch_list") == 0) {
        const char *org = str_at(json_object_get(p, "org"), "name");
        long long n = (long long)json_integer_value(json_object_get(p, "overruns"));
        long long months = (long long)json_integer_value(json_object_get(p, "window_months"));
        if (zh)
            kw_buf_printf(
                out,
                "【服务黑名单】%s 在 %lld 个月内已超时 %lld 次，已列入服务黑名单（工单 #%lld）",
                org, months, n, id);
        else
            kw_buf_printf(out,
                          "[Watch list] %s: %lld overruns within %lld months put the organisation "
                          "on the watch list (ticket #%lld)",
                          org, n, months, id);
    } else if (strcmp(kind, "overrun_notice") == 0) {
        kw_buf_adds(out, str_at(json_object_get(e, "notice"), zh ? "zh" : "en"));
    } else if (strcmp(kind, "report_weekly") == 0 || strcmp(kind, "report_monthly") == 0) {
        bool weekly = kind[7] == 'w';
        json_t *h = json_object_get(p, "headline"), *r = json_object_get(h, "on_time_rate");
        const char *org = str_at(p, "organisation");
        if (zh)
            kw_buf_printf(out, "【%s】%s%s%s", weekly ? "服务周报" : "服务月报",
                          str_at(p, "period"), *org ? " " : "", org);
        else
            kw_buf_printf(out, "[%s] %s%s%s",
                          weekly ? "Weekly service report" : "Monthly service report",
                          str_at(p, "period"), *org ? " " : "", org);
        if (json_is_number(r))
            kw_buf_printf(out, zh ? "：准时率 %.1f%%" : ": on time %.1f%%", json_number_value(r));
    } else if (strcmp(kind, "test") == 0) {
        if (zh)
            kw_buf_printf(out, "Keepword 测试消息（%s）", str_at(p, "at"));
        else
            kw_buf_printf(out, "Keepword test notification (%s)", str_at(p, "at"));
    } else {
        kw_buf_printf(out, "Keepword %s #%lld", kind, id);
    }
}

char *kw_notification_text(const char *kind, const char *payload, const char *lang)
{
    json_t *p = json_loads(payload, 0, NULL);
    struct kw_buf b = {0};
    if (lang && (strcmp(lang, "zh") == 0 || strcmp(lang, "en") == 0))
        headline(kind, p, lang[0] == 'z', &b);
    else {
        headline(kind, p, true, &b);
        kw_buf_adds(&b, "\n");
        headline(kind, p, false, &b);
    }
    json_decref(p);
    if (b.failed || !b.p) {
        kw_buf_release(&b);
        return NULL;
    }
    return b.p;
}

/* An instant of the payload ("2026-11-30T09:00:00Z") in the reader's zone,
 * "2026-11-30 17:00 (Asia/Shanghai)", into buf; without a zone (or not an
 * instant) as it is. */
static const char *reader_time(const char *iso, const struct kw_tzinfo *zone, char *buf, size_t cap)
{
    int64_t t;
    char local[KW_INSTANT_BUF];
    if (!zone || !*iso || kw_instant_parse(iso, strlen(iso), &t, NULL) != KW_OK)
        return iso;
    kw_instant_format_local(t, kw_tz_offset(zone, t), local);
    /* "2026-11-30T17:00:00+08:00" -> "2026-11-30 17:00" */
    snprintf(buf, cap, "%.10s %.5s (%s)", local, local + 11, zone->name ? zone->name : "");
    return buf;
}

/* The e-mail in one language: the headline, then the facts a person acts
 * on, times in zone (NULL: as stored, UTC). */
static void mail_part(const char *kind, json_t *p, bool zh, const struct kw_tzinfo *zone,
                      struct kw_buf *out)
{
    json_t *t = json_object_get(p, "ticket"), *e = json_object_get(p, "event");
    headline(kind, p, zh, out);
    kw_buf_adds(out, "\r\n\r\n");
    if (strncmp(kind, "report_", 7) == 0) {
        /* the headline figures; the rest is in the PDF attached */
        static const struct {
            const char *key, *zh, *en;
            int kind; /* 0 percent, 1 hours, 2 count, 3 two decimals, 4 one decimal */
        } rows[] = {
            {"on_time_rate", "准时率", "On-time rate", 0},
            {"on_time_rate_previous", "上期准时率", "Previous period", 0},
            {"mtta", "平均响应时间（小时）", "MTTA (h)", 1},
            {"mttr", "平均解决时间（小时）", "MTTR (h)", 1},
            {"breaches", "超时次数", "Breaches", 2},
            {"created", "新建工单", "Tickets created", 2},
            {"resolved", "已解决工单", "Tickets resolved", 2},
            {"backlog", "期末积压", "Backlog at the end", 2},
            {"csat", "满意度均分", "CSAT mean", 3},
            {"nps", "NPS", "NPS", 4},
        };
        json_t *h = json_object_get(p, "headline");
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            json_t *v = json_object_get(h, rows[i].key);
            double x = json_number_value(v);
            kw_buf_printf(out, "%s%s", zh ? rows[i].zh : rows[i].en, zh ? "：" : ": ");
            if (!json_is_number(v))
                kw_buf_adds(out, "—\r\n");
            else if (rows[i].kind == 0)
                kw_buf_printf(out, "%.1f%%\r\n", x);
            else if (rows[i].kind == 1)
                kw_buf_printf(out, "%.1f\r\n", x / 3600.0);
            else if (rows[i].kind == 2)
                kw_buf_printf(out, "%.0f\r\n", x);
            else
                kw_buf_printf(out, rows[i].kind == 3 ? "%.2f\r\n" : "%.1f\r\n", x);
        }
        kw_buf_printf(out, "\r\n%s %s\r\n",
                      zh ? "完整报告见附件：" : "The full report is attached:",
                      str_at(json_object_get(p, "attachment"), "name"));
        kw_buf_printf(out, "\r\n%s\r\n",
                      zh ? "—— Keepword 服务台（此邮件由系统自动发送）"
                         : "-- Keepword service desk (sent automatically)");
        return;
    }
    const char *labels[][2] = {{"工单", "Ticket"}, {"级别", "Level"},  {"指标", "Metric"},
                               {"截止", "Due"},    {"原因", "Reason"}, {"发生于", "At"}};
    char due[96], at[96];
    const char *values[6] = {NULL,
                             str_at(t, "level"),
                             metric_name(str_at(e, "metric"), zh),
                             reader_time(str_at(e, "deadline"), zone, due, sizeof(due)),
                             str_at(e, "reason"),
                             reader_time(str_at(e, "due_at"), zone, at, sizeof(at))};
    for (size_t i = 0; i < 6; i++) {
        if (i == 0)
            kw_buf_printf(out, "%s%s#%lld %s\r\n", labels[i][zh ? 0 : 1], zh ? "：" : ": ",
                          (long long)json_integer_value(json_object_get(t, "id")),
                          str_at(t, "title"));
        else if (*values[i])
            kw_buf_printf(out, "%s%s%s\r\n", labels[i][zh ? 0 : 1], zh ? "：" : ": ", values[i]);
    }
    kw_buf_printf(out, "\r\n%s\r\n",
                  zh ? "—— Keepword 服务台（此邮件由系统自动发送）"
                     : "-- Keepword service desk (sent automatically)");
}

/* Subject (cut at a character boundary to fit) and body of the e-mail in
 * lang ("zh", "en", NULL: both). */
static void mail_text(const char *kind, json_t *p, const char *lang, const struct kw_tzinfo *zone,
                      char *subject, size_t scap, struct kw_buf *body)
{
    bool both = !lang, zh = lang && lang[0] == 'z';
    struct kw_buf line = {0};
    headline(kind, p, both || zh, &line);
    size_t n = line.p ? kw_utf8_cut(line.p, line.len, scap - 1) : 0;
    snprintf(subject, scap, "%.*s", (int)n, line.p ? line.p : "");
    kw_buf_release(&line);
    if (!both) {
        mail_part(kind, p, zh, zone, body);
        return;
    }
    mail_part(kind, p, true, zone, body);
    kw_buf_adds(body, "\r\n----------------------------------------\r\n\r\n");
    mail_part(kind, p, false, zone, body);
}

/* The robot's message body and the URL with its signature, per channel. */
static char *robot_body(const struct kw_delivery *d, char *url, size_t cap)
{
    char *text = kw_notification_text(d->kind, d->payload, d->lang);
    if (!text)
        return NULL;
    json_t *b = NULL;
    long long now_s = (long long)time(NULL);
    if (strcmp(d->channel, "dingtalk") == 0) {
        /* DingTalk: sign = base64(HMAC-SHA256(secret, timestamp_ms "\n" secret)) in the URL */
        b = json_pack("{s:s, s:{s:s}}", "msgtype", "text", "text", "content", text);
        if (d->secret && *d->secret) {
            char msg[256], sig[64], *esc;
            long long ms = now_s * 1000;
            snprintf(msg, sizeof(msg), "%lld\n%s", ms, d->secret);
            hmac_b64(d->secret, msg, sig, sizeof(sig));
            esc = curl_easy_escape(NULL, sig, 0);
            snprintf(url, cap, "%s%ctimestamp=%lld&sign=%s", d->url,
                     strchr(d->url, '?') ? '&' : '?', ms, esc ? esc : "");
            curl_free(esc);
        }
    } else if (strcmp(d->channel, "feishu") == 0) {
        /* Feishu / Lark: sign = base64(HMAC-SHA256(key: timestamp "\n" secret, msg: "")) in the
         * body */
        b = json_pack("{s:s, s:{s:s}}", "msg_type", "text", "content", "text", text);
        if (b && d->secret && *d->secret) {
            char key[256], sig[64], ts[24];
            snprintf(key, sizeof(key), "%lld\n%s", now_s, d->secret);
            hmac_b64(key, "", sig, sizeof(sig));
            snprintf(ts, sizeof(ts), "%lld", now_s);
            json_object_set_new(b, "timestamp", json_string(ts));
            json_object_set_new(b, "sign", json_string(sig));
        }
    } else { /* WeCom group robot: the key is in the URL, no signature */
        b = json_pack("{s:s, s:{s:s}}", "msgtype", "text", "text", "content", text);
    }
    free(text);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return body;
}

/* The answer's body, read up to 4 KiB to find the robot's error code; none
 * of it is kept beyond a short, cleaned message (the reply of a server the
 * endpoint points at is not shown to whoever set the endpoint up). */
struct answer {
    char buf[4096];
    size_t len;
};

static size_t keep(char *p, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    size_t take = size * n;
    if (take > sizeof(a->buf) - 1 - a->len)
        take = sizeof(a->buf) - 1 - a->len;
    memcpy(a->buf + a->len, p, take);
    a->len += take;
    a->buf[a->len] = '\0';
    return size * n;
}

/* s as one short line: controls become spaces, at most 120 bytes, cut at a
 * character boundary, invalid UTF-8 ends it. */
static void clean_line(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s);
    n = kw_utf8_valid_prefix(s, n);
    n = kw_utf8_cut(s, n, cap - 1 < 120 ? cap - 1 : 120);
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    out[n] = '\0';
}

/* A robot answers 200 with {"errcode":0} (DingTalk, WeCom) or {"code":0}
 * (Feishu); anything else is a failure it explains in its errmsg or msg. */
static bool robot_ok(const struct answer *a, char *why, size_t cap)
{
    json_t *j = json_loads(a->buf, 0, NULL);
    json_t *code = json_object_get(j, "errcode");
    if (!code)
        code = json_object_get(j, "code");
    if (!code)
        code = json_object_get(j, "StatusCode");
    bool ok = json_is_integer(code) && json_integer_value(code) == 0;
    if (!ok) {
        const char *msg = json_string_value(json_object_get(j, "errmsg"));
        if (!msg)
            msg = json_string_value(json_object_get(j, "msg"));
        char line[128];
        clean_line(msg ? msg : "", line, sizeof(line));
        if (msg)
            snprintf(why, cap, "the robot refused: %s", line);
        else
            snprintf(why, cap, "the robot's answer has no error code (%s)",
                     !j ? "not JSON" : "no errcode or code");
    }
    json_decref(j);
    return ok;
}

/* ---- e-mail ---- */

/* The message being uploaded to the SMTP server. */
struct upload {
    const char *p;
    size_t left;
};

static size_t feed(char *buf, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t take = size * n < u->left ? size * n : u->left;
    memcpy(buf, u->p, take);
    u->p += take;
    u->left -= take;
    return take;
}

/* The value of `key` in the URL's query into out ("" when absent). */
static void query_value(const char *url, const char *key, char *out, size_t cap)
{
    const char *q = strchr(url, '?');
    size_t n = strlen(key);
    out[0] = '\0';
    for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, key, n) == 0 && p[1 + n] == '=') {
            const char *v = p + 2 + n, *end = strchr(v, '&');
            size_t len = end ? (size_t)(end - v) : strlen(v);
            snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), v);
            return;
        }
    }
}

/* Where a delivery may connect: checked on the address each connection is
 * about to be made to, after the name was resolved, on every attempt (so a
 * name re-pointed at a private address between attempts is still refused). */
struct guard {
    const struct kw_nets *allow;
    char refused[96]; /* the last address refused and why, or "" */
};

static curl_socket_t open_guarded(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct guard *g = ctx;
    (void)purpose;
    const char *kind = kw_addr_special(&a->addr);
    if (kind && !kw_nets_has(g->allow, &a->addr)) {
        char text[64];
        kw_addr_text(&a->addr, text, sizeof(text));
        snprintf(g->refused, sizeof(g->refused), "%s (%s)", text, kind);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static void guard_on(CURL *c, struct guard *g)
{
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, g);
}

/* Why a transfer failed: the guard's refusal first, then curl's reason. */
static void failure(const struct guard *g, CURLcode rc, char *why, size_t cap)
{
    if (g->refused[0])
        snprintf(why, cap,
                 "refused to connect to %s: loopback, private, link-local and multicast "
                 "addresses need serve --allow-destination",
                 g->refused);
    else
        snprintf(why, cap, "%s", curl_easy_strerror(rc));
}

/* Whether each comma-separated address of list is an RFC 5321 mailbox. */
static bool addresses_ok(const char *list)
{
    for (const char *a = list; *a;) {
        size_t n = strcspn(a, ",");
        if (!kw_email_ok(a, n))
            return false;
        a += n + (a[n] == ',');
    }
    return true;
}

static bool smtp_send(const char *server, const char *from, char *to, const char *tls,
                      const char *secret, const struct kw_buf *msg, const struct kw_nets *allow,
                      char *why, size_t cap);

/* Now as an RFC 5322 Date (UTC). */
static void mail_date(char *out, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* RFC 2045: base64 text b64 in lines of at most 76 characters. */
static void add_base64_lines(struct kw_buf *msg, const char *b64)
{
    for (size_t n = strlen(b64), i = 0; i < n; i += 76) {
        kw_buf_add(msg, b64 + i, n - i < 76 ? n - i : 76);
        kw_buf_adds(msg, "\r\n");
    }
}

/* Send msg (released here) when it was built whole (built, and no
 * allocation of msg failed). */
static bool send_built(const char *server, const char *from, char *to, const char *tls,
                       const char *secret, struct kw_buf *msg, bool built,
                       const struct kw_nets *allow, char *why, size_t cap)
{
    bool sent = false;
    if (!built || msg->failed || !msg->p)
        snprintf(why, cap, "no memory for the message");
    else
        sent = smtp_send(server, from, to, tls, secret, msg, allow, why, cap);
    kw_buf_release(msg);
    return sent;
}

/* Whether s may go into a header: no line breaks or other controls. */
static bool header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Mail out (app/mailout.h): the payload holds the reader's message, ready
 * (subject, text, our message_id, in_reply_to); the endpoint's URL the
 * mailbox's SMTP server and from=. One recipient: payload.to.email. */
static bool deliver_reply(const struct kw_delivery *d, const char *server, const char *from,
                          const char *tls, const struct kw_nets *allow, char *why, size_t cap)
{
    json_t *p = json_loads(d->payload, 0, NULL);
    char to[300];
    snprintf(to, sizeof(to), "%s", str_at(json_object_get(p, "to"), "email"));
    const char *subject = str_at(p, "subject"), *mid = str_at(p, "message_id"),
               *parent = str_at(p, "in_reply_to"), *text = str_at(p, "text");
    if (!to[0] || !addresses_ok(to) || strchr(to, ',') || !*mid || !header_safe(mid) ||
        !header_safe(parent) || strpbrk(mid, "<> ") || strpbrk(parent, "<> ")) {
        json_decref(p);
        snprintf(why, cap, "the mail names no valid recipient or message id");
        return false;
    }
    char date[64];
    mail_date(date, sizeof(date));
    struct kw_buf msg = {0};
    /* RFC 2047: the subject in encoded words of at most 75 characters,
     * each of whole characters (45 bytes or fewer: 60 in base64) */
    kw_buf_printf(&msg, "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject:", date, from, to);
    size_t left = kw_utf8_cut(subject, strlen(subject), 900);
    for (const char *q = subject; left;) {
        size_t n = kw_utf8_cut(q, left, 45);
        char word[64];
        if (!n) /* not UTF-8: the rest is left out */
            break;
        sodium_bin2base64(word, sizeof(word), (const unsigned char *)q, n,
                          sodium_base64_VARIANT_ORIGINAL);
        kw_buf_printf(&msg, "%s=?UTF-8?B?%s?=", q == subject ? " " : "\r\n ", word);
        q += n;
        left -= n;
    }
    kw_buf_printf(&msg, "\r\nMessage-ID: <%s>\r\n", mid);
    if (*parent)
        kw_buf_printf(&msg, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", parent, parent);
    if (json_is_true(json_object_get(p, "auto"))) /* RFC 3834: no auto-reply to it */
        kw_buf_adds(&msg, "Auto-Submitted: auto-replied\r\n");
    kw_buf_printf(
        &msg,
        "X-Keepword-Ticket: %lld\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n",
        (long long)json_integer_value(json_object_get(json_object_get(p, "ticket"), "id")));
    /* base64 body (RFC 2045, lines of 76): a staff member's text may have
     * lines of any length and a lone "." */
    size_t tn = strlen(text), bn = sodium_base64_encoded_len(tn, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(bn);
    if (b64) {
        sodium_bin2base64(b64, bn, (const unsigned char *)text, tn, sodium_base64_VARIANT_ORIGINAL);
        add_base64_lines(&msg, b64);
    }
    free(b64);
    json_decref(p);
    return send_built(server, from, to, tls, d->secret, &msg, b64 != NULL, allow, why, cap);
}

/* Send d as an e-mail: the URL is smtp[s]://HOST[:PORT]/?from=A&to=B[,C]
 * [&starttls=1][&lang=zh|en]; the secret, when set, is "user:password". A
 * person's subscription may ask for one language; otherwise the endpoint's
 * lang=, otherwise both, Chinese first. An escalation
 * also goes to the person it names. */
static bool deliver_mail(const struct kw_delivery *d, const struct kw_tzinfo *zone,
                         const struct kw_nets *allow, char *why, size_t cap)
{
    char server[512], from[256], to[1024], tls[8], lang[8], subject[160];
    snprintf(server, sizeof(server), "%.*s", (int)strcspn(d->url, "?"), d->url);
    size_t sl = strlen(server);
    if (sl > 8 && server[sl - 1] == '/')
        server[sl - 1] = '\0';
    query_value(d->url, "from", from, sizeof(from));
    query_value(d->url, "to", to, sizeof(to));
    query_value(d->url, "starttls", tls, sizeof(tls));
    if (strncmp(d->kind, "mail_", 5) == 0) {
        if (!from[0] || !kw_url_clean(server) || !addresses_ok(from)) {
            snprintf(why, cap, "the mailbox's SMTP server or reply_from is not a valid address");
            return false;
        }
        return deliver_reply(d, server, from, tls, allow, why, cap);
    }
    json_t *p = json_loads(d->payload, 0, NULL);
    const char *person = json_string_value(json_object_get(json_object_get(p, "to"), "email"));
    if (d->user_email) /* a person's own subscription: to them alone */
        snprintf(to, sizeof(to), "%s", d->user_email);
    else if (person) {
        size_t n = strlen(to);
        snprintf(to + n, sizeof(to) - n, "%s%s", n ? "," : "", person);
    }
    if (!from[0] || !to[0]) {
        json_decref(p);
        snprintf(why, cap, "the endpoint names no %s", from[0] ? "recipient" : "sender (from=)");
        return false;
    }
    /* they become MAIL FROM and RCPT TO lines and headers: an address
     * stored before these were checked is not sent */
    if (!kw_url_clean(server) || !addresses_ok(from) || !addresses_ok(to)) {
        json_decref(p);
        snprintf(why, cap, "the endpoint's server, sender or a recipient is not a valid address");
        return false;
    }
    /* the person's language, else the endpoint's (lang= in its URL), else both */
    query_value(d->url, "lang", lang, sizeof(lang));
    const char *in = d->lang                                              ? d->lang
                     : strcmp(lang, "zh") == 0 || strcmp(lang, "en") == 0 ? lang
                                                                          : NULL;
    struct kw_buf text = {0};
    mail_text(d->kind, p, in, zone, subject, sizeof(subject), &text);
    /* the subject as an RFC 2047 encoded word: it may be Chinese */
    char subj64[256];
    sodium_bin2base64(subj64, sizeof(subj64), (const unsigned char *)subject, strlen(subject),
                      sodium_base64_VARIANT_ORIGINAL);
    /* a file to attach (the service reports' PDF): a multipart message,
     * and the details leave the file's bytes out */
    json_t *att = json_incref(json_object_get(p, "attachment"));
    const char *att_b64 = str_at(att, "base64");
    if (*att_b64)
        json_object_del(p, "attachment");
    char *details = p ? json_dumps(p, JSON_INDENT(2)) : NULL;
    json_decref(p);
    char date[64];
    mail_date(date, sizeof(date));
    struct kw_buf msg = {0};
    kw_buf_printf(&msg,
                  "Date: %s\r\nFrom: <%s>\r\nTo: %s\r\nSubject: =?UTF-8?B?%s?=\r\n"
                  "Message-ID: <%s@keepword>\r\nX-Keepword-Event: %s\r\nX-Keepword-Delivery: "
                  "%s\r\nMIME-Version: 1.0\r\n",
                  date, from, to, subj64, d->key, d->kind, d->key);
    /* the boundary: a string base64 and the text never hold */
    static const char boundary[] = "=_keepword_part_=";
    if (*att_b64)
        kw_buf_printf(&msg, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n",
                      boundary, boundary);
    kw_buf_adds(&msg, "Content-Type: text/plain; charset=UTF-8\r\n"
                      "Content-Transfer-Encoding: 8bit\r\n\r\n");
    kw_buf_add(&msg, text.p ? text.p : "", text.len);
    kw_buf_printf(&msg, "\r\n\r\n详情 / Details (JSON):\r\n%s\r\n", details ? details : "");
    free(details);
    if (*att_b64) {
        /* RFC 2045: base64 in lines of at most 76 characters */
        kw_buf_printf(&msg,
                      "\r\n--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
                      "Content-Disposition: attachment; filename=\"%s\"\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n",
                      boundary, str_at(att, "type"), str_at(att, "name"), str_at(att, "name"));
        add_base64_lines(&msg, att_b64);
        kw_buf_printf(&msg, "--%s--\r\n", boundary);
    }
    json_decref(att);
    bool built = !text.failed;
    kw_buf_release(&text);
    return send_built(server, from, to, tls, d->secret, &msg, built, allow, why, cap);
}

/* Send message msg over SMTP to server, from from to the comma-separated
 * list to (changed), STARTTLS required when tls is "1", logging in with
 * secret "user:password" when it has one. */
static bool smtp_send(const char *server, const char *from, char *to, const char *tls,
                      const char *secret, const struct kw_buf *msg, const struct kw_nets *allow,
                      char *why, size_t cap)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    char addr[300], *save = NULL;
    for (char *a = strtok_r(to, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        snprintf(addr, sizeof(addr), "<%s>", a);
        rcpt = curl_slist_append(rcpt, addr);
    }
    char mail_from[300];
    snprintf(mail_from, sizeof(mail_from), "<%s>", from);
    struct upload up = {msg->p, msg->len};
    struct guard g = {.allow = allow};
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (c) {
        curl_easy_setopt(c, CURLOPT_URL, server);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)KW_DELIVER_TIMEOUT_MS);
        guard_on(c, &g);
        if (strcmp(tls, "1") == 0)
            curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        if (secret && strchr(secret, ':'))
            curl_easy_setopt(c, CURLOPT_USERPWD, secret);
        rc = curl_easy_perform(c);
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        failure(&g, rc, why, cap);
        return false;
    }
    return true;
}

bool kw_deliver(const struct kw_delivery *d, const struct kw_tzinfo *zone,
                const struct kw_nets *allow, char *why, size_t cap)
{
    if (!kw_url_clean(d->url)) {
        snprintf(why, cap, "the endpoint's URL has spaces or control characters");
        return false;
    }
    if (strcmp(d->channel, "email") == 0)
        return deliver_mail(d, zone, allow, why, cap);
    bool webhook = strcmp(d->channel, "webhook") == 0;
    if (!webhook && strcmp(d->channel, "dingtalk") != 0 && strcmp(d->channel, "feishu") != 0 &&
        strcmp(d->channel, "wecom") != 0) {
        snprintf(why, cap, "channel %s is not supported", d->channel);
        return false;
    }
    CURL *c = curl_easy_init();
    char url[4096], event[96], delivery[160], sig[100];
    snprintf(url, sizeof(url), "%s", d->url); /* DingTalk adds its signature below */
    char *robot = webhook ? NULL : robot_body(d, url, sizeof(url));
    if (!c || (!webhook && !robot)) {
        curl_easy_cleanup(c);
        free(robot);
        snprintf(why, cap, "no memory for the request");
        return false;
    }
    snprintf(event, sizeof(event), "X-Keepword-Event: %s", d->kind);
    snprintf(delivery, sizeof(delivery), "X-Keepword-Delivery: %s", d->key);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "User-Agent: keepword");
    h = curl_slist_append(h, event);
    h = curl_slist_append(h, delivery);
    const char *body = webhook ? d->payload : robot;
    if (webhook && d->secret && *d->secret) {
        char mac[72];
        kw_webhook_signature(d->secret, body, strlen(body), mac);
        snprintf(sig, sizeof(sig), "X-Keepword-Signature: %s", mac);
        h = curl_slist_append(h, sig);
    }
    struct answer a = {.len = 0};
    struct guard g = {.allow = allow};
    guard_on(c, &g);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)KW_DELIVER_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(robot);
    if (rc != CURLE_OK) {
        failure(&g, rc, why, cap);
        return false;
    }
    if (status < 200 || status > 299) {
        snprintf(why, cap, "the endpoint answered %ld", status);
        return false;
    }
    return webhook || robot_ok(&a, why, cap);
}
