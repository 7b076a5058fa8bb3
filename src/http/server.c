// SPDX-License-Identifier: MIT
#include "http.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kw_buf.h"

#define SESSION_TTL (12 * 3600)

struct kw_http {
    struct MHD_Daemon *d;
    struct kw_store *st;
    struct kw_clock clock;
    FILE *log;
    unsigned port;
};

/* One request in flight: its body, and when it started. */
struct req {
    struct kw_buf body;
    bool too_big;
    struct timespec t0;
};

struct reply {
    unsigned status;
    json_t *json; /* owned */
    bool problem; /* application/problem+json */
};

static struct reply problem(const struct kw_err *err)
{
    json_t *j =
        json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", kw_code_title(err->code),
                  "status", kw_code_status(err->code), "detail", err->msg);
    if (j && err->field[0])
        json_object_set_new(j, "pointer", json_string(err->field));
    return (struct reply){(unsigned)kw_code_status(err->code), j, true};
}

static struct reply problem_of(enum kw_code code, const char *field, const char *msg)
{
    struct kw_err err;
    kw_err_set(&err, code, field, "%s", msg);
    return problem(&err);
}

static struct reply ok(unsigned status, json_t *j)
{
    return (struct reply){status, j, false};
}

/* The bearer token of the request, or NULL. */
static const char *bearer(struct MHD_Connection *c)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!a || strncmp(a, "Bearer ", 7) != 0)
        return NULL;
    return a + 7;
}

/* Decode a JSON object body; a located problem otherwise. */
static json_t *body_object(const struct req *r, struct reply *fail)
{
    json_error_t jerr;
    if (r->body.len == 0) {
        *fail = problem_of(KW_INVALID, "", "a JSON object body is required");
        return NULL;
    }
    json_t *j = json_loadb(r->body.p, r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        struct kw_err err;
        kw_err_set(&err, KW_INVALID, "", "not valid JSON at line %d column %d: %s", jerr.line,
                   jerr.column, jerr.text);
        *fail = problem(&err);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *fail = problem_of(KW_INVALID, "", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

static struct reply login(struct kw_http *h, const struct req *r)
{
    struct reply fail;
    json_t *j = body_object(r, &fail);
    if (!j)
        return fail;
    json_t *email = json_object_get(j, "email"), *password = json_object_get(j, "password");
    struct reply out;
    if (!json_is_string(email)) {
        out = problem_of(KW_INVALID, "/email", "email: expected a string");
    } else if (!json_is_string(password)) {
        out = problem_of(KW_INVALID, "/password", "password: expected a string");
    } else {
        char token[KW_TOKEN_BUF];
        int64_t uid;
        struct kw_err err = {0};
        int64_t now = h->clock.now(h->clock.ctx);
        if (kw_store_login(h->st, json_string_value(email), json_string_value(password), now,
                           SESSION_TTL, token, &uid, &err) != KW_OK)
            out = problem(&err);
        else
            out = ok(200,
                     json_pack("{s:s, s:s, s:I, s:I}", "token", token, "token_type", "Bearer",
                               "expires_in", (json_int_t)SESSION_TTL, "user_id", (json_int_t)uid));
    }
    json_decref(j);
    return out;
}

/* The user behind the request's token, or a 401 problem. */
static bool who(struct kw_http *h, struct MHD_Connection *c, int64_t *uid, struct reply *fail)
{
    struct kw_err err = {0};
    const char *t = bearer(c);
    if (!t) {
        *fail =
            problem_of(KW_UNAUTHENTICATED, "", "log in first: send Authorization: Bearer TOKEN");
        return false;
    }
    if (kw_store_token_user(h->st, t, h->clock.now(h->clock.ctx), uid, &err) != KW_OK) {
        *fail = problem(&err);
        return false;
    }
    return true;
}

static struct reply route(struct kw_http *h, struct MHD_Connection *c, const char *method,
                          const char *url, const struct req *r)
{
    struct reply fail;
    int64_t uid;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    if (r->too_big) {
        struct kw_err err;
        kw_err_set(&err, KW_TOO_BIG, "", "the body is larger than %u bytes", KW_HTTP_MAX_BODY);
        return problem(&err);
    }
    if (strcmp(url, "/healthz") == 0 && get)
        return ok(
            200, json_pack("{s:s, s:i}", "status", "ok", "schema", kw_store_schema_version(h->st)));
    if (strcmp(url, "/api/v1/auth/login") == 0 && post)
        return login(h, r);
    if (strcmp(url, "/api/v1/auth/logout") == 0 && post) {
        if (!who(h, c, &uid, &fail))
            return fail;
        struct kw_err err = {0};
        if (kw_store_token_revoke(h->st, bearer(c), h->clock.now(h->clock.ctx), &err) != KW_OK)
            return problem(&err);
        return ok(204, NULL);
    }
    if (strcmp(url, "/api/v1/me") == 0 && get) {
        if (!who(h, c, &uid, &fail))
            return fail;
        struct kw_user_row u;
        struct kw_err err = {0};
        if (kw_store_user_get(h->st, uid, &u, &err) != KW_OK)
            return problem(&err);
        return ok(200, json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)u.id, "email",
                                 u.email, "name", u.name, "role", u.role, "org_id",
                                 u.org_id ? json_integer(u.org_id) : json_null()));
    }
    static const char *const known[] = {"/healthz", "/api/v1/auth/login", "/api/v1/auth/logout",
                                        "/api/v1/me"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(url, known[i]) == 0)
            return problem_of(KW_METHOD, "", "this method is not allowed here");
    return problem_of(KW_NOT_FOUND, "", "no such resource");
}

static void log_line(struct kw_http *h, const char *method, const char *url, unsigned status,
                     const struct timespec *t0)
{
    if (!h->log)
        return;
    struct timespec t1, wall;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_REALTIME, &wall);
    struct tm tm;
    gmtime_r(&wall.tv_sec, &tm);
    double ms = (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
    /* logfmt; the path is quoted so spaces or quotes in it cannot forge fields */
    fprintf(h->log,
            "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=info mod=http event=http.request "
            "method=%s path=\"",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            wall.tv_nsec / 1000000, method);
    for (const char *p = url; *p && p - url < 256; p++)
        fputc(*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ? '_' : *p, h->log);
    fprintf(h->log, "\" status=%u ms=%.2f\n", status, ms);
    fflush(h->log);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    struct kw_http *h = cls;
    struct req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->body.max = KW_HTTP_MAX_BODY;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big)
            kw_buf_add(&r->body, upload, *upload_size);
        r->too_big = r->too_big || r->body.failed;
        *upload_size = 0;
        return MHD_YES;
    }
    struct reply rep = route(h, c, method, url, r);
    char *text = rep.json ? json_dumps(rep.json, JSON_COMPACT) : NULL;
    json_decref(rep.json);
    char empty[1] = "";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        text ? strlen(text) : 0, text ? text : empty, MHD_RESPMEM_MUST_COPY);
    free(text);
    if (!resp)
        return MHD_NO;
    if (rep.status != 204)
        MHD_add_response_header(resp, "Content-Type",
                                rep.problem ? "application/problem+json" : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, rep.status, resp);
    MHD_destroy_response(resp);
    log_line(h, method, url, rep.status, &r->t0);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    struct req *r = *con_cls;
    if (r) {
        kw_buf_release(&r->body);
        free(r);
    }
    *con_cls = NULL;
}

struct kw_http *kw_http_start(const char *listen, struct kw_store *st, struct kw_clock clock,
                              FILE *log, struct kw_err *err)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    struct sockaddr_in addr = {.sin_family = AF_INET};
    if (!colon || (size_t)(colon - listen) >= sizeof(host) || !end || *end || port < 0 ||
        port > 65535)
        goto bad;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        goto bad;
    addr.sin_port = htons((uint16_t)port);
    struct kw_http *h = calloc(1, sizeof(*h));
    if (!h) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the server");
        return NULL;
    }
    h->st = st;
    h->clock = clock;
    h->log = log;
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_END);
    if (!h->d) {
        free(h);
        kw_err_set(err, KW_IO, "", "cannot listen on %s (address in use, or not this host's)",
                   listen);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : (unsigned)port;
    return h;
bad:
    kw_err_set(err, KW_INVALID, "", "--listen: \"%.60s\" is not IPV4:PORT (like 127.0.0.1:8080)",
               listen);
    return NULL;
}

void kw_http_stop(struct kw_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}

unsigned kw_http_port(const struct kw_http *h)
{
    return h->port;
}
