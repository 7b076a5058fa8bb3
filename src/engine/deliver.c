// SPDX-License-Identifier: MIT
/* Sending notifications; see deliver.h. */
#include "deliver.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- the chat robots' message ---- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* One line a person reads in a group chat, in Chinese and English. */
void kw_notification_text(const char *kind, const char *payload, char *out, size_t cap)
{
    json_t *p = json_loads(payload, 0, NULL);
    json_t *t = json_object_get(p, "ticket"), *e = json_object_get(p, "event");
    long long id = (long long)json_integer_value(json_object_get(t, "id"));
    const char *title = json_string_value(json_object_get(t, "title"));
    const char *metric = json_string_value(json_object_get(e, "metric"));
    const char *deadline = json_string_value(json_object_get(e, "deadline"));
    if (strcmp(kind, "sla_warning") == 0) {
        const char *colour = json_string_value(json_object_get(e, "colour"));
        const char *zh = colour && strcmp(colour, "red") == 0      ? "红色"
                         : colour && strcmp(colour, "yellow") == 0 ? "黄色"
                                                                   : "蓝色";
        snprintf(out, cap,
                 "【SLA %s预警 / %s warning】工单 #%lld「%s」%s 已用 %lld%% / %lld%% of the %s "
                 "time used; 截止 due %s",
                 zh, colour ? colour : "", id, title ? title : "", metric ? metric : "",
                 (long long)json_integer_value(json_object_get(e, "percent")),
                 (long long)json_integer_value(json_object_get(e, "percent")), metric ? metric : "",
                 deadline ? deadline : "");
    } else if (strcmp(kind, "sla_breach") == 0) {
        snprintf(out, cap,
                 "【SLA 超时 / breach】工单 #%lld「%s」%s 已超过承诺时限 / missed its %s "
                 "commitment, due %s",
                 id, title ? title : "", metric ? metric : "", metric ? metric : "",
                 deadline ? deadline : "");
    } else if (strcmp(kind, "overrun_notice") == 0) {
        json_t *n = json_object_get(e, "notice");
        snprintf(out, cap, "%s / %s", or_empty(json_string_value(json_object_get(n, "zh"))),
                 or_empty(json_string_value(json_object_get(n, "en"))));
    } else {
        snprintf(out, cap, "Keepword 测试消息 / test notification (%s)",
                 or_empty(json_string_value(json_object_get(p, "at"))));
    }
    json_decref(p);
}

/* The robot's message body and the URL with its signature, per channel. */
static char *robot_body(const struct kw_delivery *d, char *url, size_t cap)
{
    char text[2048];
    kw_notification_text(d->kind, d->payload, text, sizeof(text));
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
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return body;
}

/* The answer's body, kept up to 4 KiB (the robots say errors in it). */
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

/* A robot answers 200 with {"errcode":0} (DingTalk, WeCom) or {"code":0}
 * (Feishu); anything else is a failure it explains. */
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
        snprintf(why, cap, "the robot refused: %s", msg ? msg : a->len ? a->buf : "no answer");
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

/* Send d as an e-mail: the URL is smtp[s]://HOST[:PORT]/?from=A&to=B[,C]
 * [&starttls=1]; the secret, when set, is "user:password". An escalation
 * also goes to the person it names. */
static bool deliver_mail(const struct kw_delivery *d, char *why, size_t cap)
{
    char server[512], from[256], to[1024], tls[8], text[2048], subject[128];
    snprintf(server, sizeof(server), "%.*s", (int)strcspn(d->url, "?"), d->url);
    size_t sl = strlen(server);
    if (sl > 8 && server[sl - 1] == '/')
        server[sl - 1] = '\0';
    query_value(d->url, "from", from, sizeof(from));
    query_value(d->url, "to", to, sizeof(to));
    query_value(d->url, "starttls", tls, sizeof(tls));
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
    kw_notification_text(d->kind, d->payload, text, sizeof(text));
    /* the subject as an RFC 2047 encoded word: it may be Chinese */
    snprintf(subject, sizeof(subject), "Keepword %s #%lld", d->kind,
             (long long)json_integer_value(json_object_get(json_object_get(p, "ticket"), "id")));
    char subj64[256];
    sodium_bin2base64(subj64, sizeof(subj64), (const unsigned char *)subject, strlen(subject),
                      sodium_base64_VARIANT_ORIGINAL);
    char *details = p ? json_dumps(p, JSON_INDENT(2)) : NULL;
    json_decref(p);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    size_t cap_msg = strlen(text) + (details ? strlen(details) : 0) + 2048;
    char *msg = malloc(cap_msg);
    if (!msg) {
        free(details);
        snprintf(why, cap, "no memory for the message");
        return false;
    }
    snprintf(msg, cap_msg,
             "Date: %s\r\nFrom: <%s>\r\nTo: %s\r\nSubject: =?UTF-8?B?%s?=\r\n"
             "Message-ID: <%s@keepword>\r\nX-Keepword-Event: %s\r\nX-Keepword-Delivery: %s\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n\r\n%s\r\n",
             date, from, to, subj64, d->key, d->kind, d->key, text, details ? details : "");
    free(details);
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    char addr[300], *save = NULL;
    for (char *a = strtok_r(to, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        snprintf(addr, sizeof(addr), "<%s>", a);
        rcpt = curl_slist_append(rcpt, addr);
    }
    char mail_from[300];
    snprintf(mail_from, sizeof(mail_from), "<%s>", from);
    struct upload up = {msg, strlen(msg)};
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
        if (strcmp(tls, "1") == 0)
            curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        if (d->secret && strchr(d->secret, ':'))
            curl_easy_setopt(c, CURLOPT_USERPWD, d->secret);
        rc = curl_easy_perform(c);
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    free(msg);
    if (rc != CURLE_OK) {
        snprintf(why, cap, "%s", curl_easy_strerror(rc));
        return false;
    }
    return true;
}

bool kw_deliver(const struct kw_delivery *d, char *why, size_t cap)
{
    if (strcmp(d->channel, "email") == 0)
        return deliver_mail(d, why, cap);
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
        snprintf(why, cap, "%s", curl_easy_strerror(rc));
        return false;
    }
    if (status < 200 || status > 299) {
        snprintf(why, cap, "the endpoint answered %ld", status);
        return false;
    }
    return webhook || robot_ok(&a, why, cap);
}
