// SPDX-License-Identifier: MIT
/* The HTTP server: daemon, worker pool, shared helpers, auth and routing. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "calcache.h"
#include "civil.h"
#include "internal.h"

#define SESSION_TTL (12 * 3600)
#define SESSION_COOKIE "kw_session"

/* Failed logins are counted per e-mail and per client address in a small
 * table; past the limit within the window, logins are refused (429) until
 * the window has passed, even with the right password. */
#define LOGIN_WINDOW (15 * 60)
#define LOGIN_MAX_PER_ACCOUNT 5
#define LOGIN_MAX_PER_ADDRESS 20

/* ---- replies ---- */

struct kwh_reply kwh_problem(const struct kw_err *err)
{
    json_t *j =
        json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", kw_code_title(err->code),
                  "status", kw_code_status(err->code), "detail", err->msg);
    if (j && err->field[0])
        json_object_set_new(j, "pointer", json_string(err->field));
    return (struct kwh_reply){
        .status = (unsigned)kw_code_status(err->code), .json = j, .problem = true};
}

struct kwh_reply kwh_problem_of(enum kw_code code, const char *field, const char *msg)
{
    struct kw_err err;
    kw_err_set(&err, code, field, "%s", msg);
    return kwh_problem(&err);
}

struct kwh_reply kwh_problemf(enum kw_code code, const char *field, const char *fmt, ...)
{
    struct kw_err err = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    snprintf(err.field, sizeof(err.field), "%s", field ? field : "");
    return kwh_problem(&err);
}

struct kwh_reply kwh_ok(unsigned status, json_t *j)
{
    return (struct kwh_reply){.status = status, .json = j};
}

struct kwh_reply kwh_ok_text(const char *ctype, char *text)
{
    if (!text)
        return kwh_problem_of(KW_NOMEM, "", "no memory for the reply");
    return (struct kwh_reply){.status = 200, .text = text, .ctype = ctype};
}

/* ---- small helpers ---- */

void kwh_hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

json_t *kwh_instant_json(int64_t t)
{
    if (t == KW_STORE_NO_TIME)
        return json_null();
    char buf[KW_INSTANT_BUF];
    kw_instant_format_utc(t, buf);
    return json_string(buf);
}

json_t *kwh_nullable(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *kwh_id_or_null(int64_t id)
{
    return id > 0 ? json_integer(id) : json_null();
}

bool kwh_is_method(const struct kwh_call *x, const char *m)
{
    if (strcmp(m, "GET") == 0 && strcmp(x->method, "HEAD") == 0)
        return true;
    return strcmp(x->method, m) == 0;
}

const char *kwh_query(const struct kwh_call *x, const char *name)
{
    return MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, name);
}

/* How deeply the JSON text nests arrays and objects (strings skipped). */
static int json_depth(const char *p, size_t n)
{
    int depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"')
            in_string = true;
        else if (ch == '[' || ch == '{')
            max = ++depth > max ? depth : max;
        else if (ch == ']' || ch == '}')
            depth--;
    }
    return max;
}

#define MAX_JSON_DEPTH 32

/* Decode a JSON object body; a located problem otherwise. */
json_t *kwh_body_object(const struct kwh_call *x, struct kwh_reply *fail)
{
    json_error_t jerr;
    if (x->r->body.len == 0) {
        *fail = kwh_problem_of(KW_INVALID, "", "a JSON object body is required");
        return NULL;
    }
    if (json_depth(x->r->body.p, x->r->body.len) > MAX_JSON_DEPTH) {
        *fail =
            kwh_problemf(KW_INVALID, "", "the body nests deeper than %d levels", MAX_JSON_DEPTH);
        return NULL;
    }
    json_t *j = json_loadb(x->r->body.p, x->r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        *fail = kwh_problemf(KW_INVALID, "", "not valid JSON at line %d column %d: %s", jerr.line,
                             jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *fail = kwh_problem_of(KW_INVALID, "", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

bool kwh_query_int(const struct kwh_call *x, const char *name, long long lo, long long hi,
                   long long *out, struct kwh_reply *fail)
{
    const char *v = kwh_query(x, name);
    char *end = NULL;
    if (!v)
        return true;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        *fail = kwh_problemf(KW_INVALID, "", "%s: expected a whole number from %lld to %lld", name,
                             lo, hi);
        return false;
    }
    *out = n;
    return true;
}

bool kwh_opt_string(json_t *j, const char *key, size_t max, const char **out,
                    struct kwh_reply *fail)
{
    json_t *v = json_object_get(j, key);
    char ptr[64];
    snprintf(ptr, sizeof(ptr), "/%s", key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
        *fail = kwh_problemf(KW_INVALID, ptr, "%s: expected a string of 1 to %zu bytes", key, max);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

bool kwh_opt_id(json_t *j, const char *key, bool can_clear, int64_t *out, struct kwh_reply *fail)
{
    json_t *v = json_object_get(j, key);
    char ptr[64];
    snprintf(ptr, sizeof(ptr), "/%s", key);
    if (!v)
        return true;
    if (json_is_null(v) && can_clear) {
        *out = -1;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        *fail =
            kwh_problemf(KW_INVALID, ptr, "%s: expected an id%s", key, can_clear ? " or null" : "");
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

bool kwh_only_members(json_t *j, const char *const *keys, struct kwh_reply *fail)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        bool known = false;
        for (size_t i = 0; keys[i] && !known; i++)
            known = strcmp(k, keys[i]) == 0;
        if (!known) {
            char ptr[80];
            snprintf(ptr, sizeof(ptr), "/%.60s", k);
            *fail = kwh_problemf(KW_INVALID, ptr, "%.60s: not a field of this request", k);
            return false;
        }
    }
    return true;
}

bool kwh_write_unit(struct kwh_call *x, kw_write_fn fn, void *ctx, struct kwh_reply *fail)
{
    struct kw_err err = {0};
    /* read after the commit from a fresh snapshot, and hold no old one
     * while waiting (rows read before this are gone) */
    kw_store_idle(x->wk->st);
    if (kw_writer_run(x->h->w, fn, ctx, &err) == KW_OK)
        return true;
    *fail = kwh_problem(&err);
    return false;
}

/* ---- log ---- */

void kwh_log_event(struct kw_http *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kw_logv(&h->log, KW_LOG_INFO, fmt, ap);
    va_end(ap);
}

static void log_request(struct kw_http *h, const char *method, const char *url, unsigned status,
                        const struct timespec *t0)
{
    if (!kw_log_on(&h->log, KW_LOG_INFO))
        return;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
    /* logfmt; the path is quoted so spaces or quotes in it cannot forge fields */
    char path[260];
    size_t n = 0;
    for (const char *p = url; *p && n < 256; p++)
        path[n++] = *p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ? '_' : *p;
    path[n] = '\0';
    kwh_log_event(h, "mod=http event=http.request method=%s path=\"%s\" status=%u ms=%.2f", method,
                  path, status, ms);
}

/* ---- workers ---- */

struct kwh_worker *kwh_worker_take(struct kw_http *h, struct kw_err *err)
{
    pthread_mutex_lock(&h->pool_mu);
    struct kwh_worker *wk = h->idle;
    if (wk) {
        h->idle = wk->next;
        h->n_idle--;
    }
    pthread_mutex_unlock(&h->pool_mu);
    if (wk)
        return wk;
    wk = calloc(1, sizeof(*wk));
    if (!wk) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the request");
        return NULL;
    }
    wk->st = kw_store_open(h->db, err);
    if (!wk->st) {
        free(wk);
        return NULL;
    }
    kw_sla_init(&wk->sla);
    return wk;
}

static void worker_free(struct kwh_worker *wk)
{
    kw_store_close(wk->st);
    kw_sla_release(&wk->sla);
    free(wk);
}

/* Keep a few handles open for the next requests; close the rest, so that a
 * burst of connections does not leave its memory behind. */
#define IDLE_WORKERS 64

void kwh_worker_give(struct kw_http *h, struct kwh_worker *wk)
{
    kw_store_idle(wk->st);
    pthread_mutex_lock(&h->pool_mu);
    bool keep = h->n_idle < IDLE_WORKERS;
    if (keep) {
        wk->next = h->idle;
        h->idle = wk;
        h->n_idle++;
    }
    pthread_mutex_unlock(&h->pool_mu);
    if (!keep)
        worker_free(wk);
}

/* ---- compiled commitments ---- */

const struct kw_compiled *kwh_policy_for(struct kw_http *h, struct kw_store *st, int64_t id,
                                         struct kw_err *err)
{
    return kw_clocks_commitment(h->clocks, st, id, err);
}

/* ---- authentication ---- */

/* The session: a bearer token, or else the browser's cookie (*cookie). */
static const char *bearer_or_cookie(struct MHD_Connection *c, bool *cookie)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    *cookie = false;
    if (a && strncmp(a, "Bearer ", 7) == 0)
        return a + 7;
    if (a)
        return NULL;
    a = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
    *cookie = a && *a;
    return *cookie ? a : NULL;
}

/* The CSRF token of a cookie session: a hash of the session token, which
 * the page gets from login and /me and sends back as X-CSRF-Token on every
 * request that changes something. Another site can make the browser send
 * the cookie but can read neither. */
static void csrf_of(const char *token, char out[33])
{
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)"keepword-csrf:", 14);
    crypto_generichash_update(&st, (const unsigned char *)token, strlen(token));
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(out, 33, h, sizeof(h));
}

bool kwh_authenticate(struct kwh_call *x, struct kwh_reply *fail)
{
    static const char *const roles[] = {"admin", "manager", "agent", "customer"};
    struct kw_err err = {0};
    struct kw_user_row u;
    bool cookie;
    const char *t = bearer_or_cookie(x->c, &cookie);
    if (!t) {
        *fail = kwh_problem_of(KW_UNAUTHENTICATED, "",
                               "log in first: send Authorization: Bearer TOKEN");
        return false;
    }
    if (cookie && !kwh_is_method(x, "GET") && !kwh_is_method(x, "HEAD")) {
        const char *sent = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "X-CSRF-Token");
        char want[33];
        csrf_of(t, want);
        if (!sent || strlen(sent) != 32 || sodium_memcmp(sent, want, 32) != 0) {
            *fail =
                kwh_problem_of(KW_FORBIDDEN, "",
                               "missing or wrong X-CSRF-Token: a request signed in by the session "
                               "cookie must carry the token login and /me give");
            return false;
        }
    }
    if (kw_store_token_caller(x->wk->st, t, x->now, &u, &err) != KW_OK) {
        *fail = kwh_problem(&err);
        return false;
    }
    x->me =
        (struct kwh_caller){.id = u.id, .org_id = u.org_id, .team_id = u.team_id, .cookie = cookie};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(u.role, roles[i]) == 0)
            x->me.role = (enum kwh_role)i;
    x->me.customer = x->me.role == R_CUSTOMER;
    return true;
}

bool kwh_authorise(struct kwh_call *x, unsigned mask, const char *why, struct kwh_reply *fail)
{
    if (!kwh_authenticate(x, fail))
        return false;
    if (mask & ROLE(x->me.role))
        return true;
    *fail = kwh_problem_of(KW_FORBIDDEN, "", why);
    return false;
}

static uint64_t key_of(const char *kind, const char *s)
{
    uint64_t k = 1469598103934665603ull;
    for (const char *p = kind; *p; p++)
        k = (k ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = s; *p; p++)
        k = (k ^ (unsigned char)*p) * 1099511628211ull;
    return k ? k : 1;
}

/* The slot of key (a fresh one, or the stalest of its neighbourhood when
 * they are all in use), never the slot `keep`. Under login_mu. */
static struct kwh_login_slot *login_slot(struct kw_http *h, uint64_t key, int64_t now,
                                         const struct kwh_login_slot *keep)
{
    struct kwh_login_slot *stalest = NULL;
    for (size_t i = 0; i < 8; i++) {
        struct kwh_login_slot *s = &h->logins[(key + i) % LOGIN_SLOTS];
        if (s->key == key && now - s->since < LOGIN_WINDOW)
            return s;
        if (s != keep && (!stalest || s->key == 0 || now - s->since >= LOGIN_WINDOW ||
                          s->since < stalest->since))
            stalest = s;
    }
    *stalest = (struct kwh_login_slot){key, now, 0};
    return stalest;
}

static void client_address(struct MHD_Connection *c, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  buf, (socklen_t)cap);
}

/* Whether this e-mail or address is locked out; counts a failure when
 * failed. Returns the seconds left of a lockout, or 0. */
static int64_t login_gate(struct kw_http *h, const char *email, const char *addr, int64_t now,
                          bool failed)
{
    pthread_mutex_lock(&h->login_mu);
    struct kwh_login_slot *acct = login_slot(h, key_of("e:", email), now, NULL);
    struct kwh_login_slot *from = login_slot(h, key_of("a:", addr), now, acct);
    int64_t wait = 0;
    if (failed) {
        acct->failures++;
        from->failures++;
    } else if (acct->failures >= LOGIN_MAX_PER_ACCOUNT || from->failures >= LOGIN_MAX_PER_ADDRESS) {
        struct kwh_login_slot *s = acct->failures >= LOGIN_MAX_PER_ACCOUNT ? acct : from;
        wait = s->since + LOGIN_WINDOW - now;
    }
    pthread_mutex_unlock(&h->login_mu);
    return wait;
}

struct issue {
    int64_t uid, now, expires_at, id;
    const char *kind, *label;
    char token[KW_TOKEN_BUF];
};

static enum kw_code issue_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct issue *u = ctx;
    return kw_store_token_issue(st, u->uid, u->kind, u->label, u->now, u->expires_at, u->token,
                                &u->id, err);
}

static struct kwh_reply login(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    static const char *const keys[] = {"email", "password", "cookie", NULL};
    if (!kwh_only_members(j, keys, &out)) {
        json_decref(j);
        return out;
    }
    json_t *email = json_object_get(j, "email"), *password = json_object_get(j, "password");
    json_t *cookie = json_object_get(j, "cookie");
    char addr[64];
    struct kw_err err = {0};
    struct issue u = {.now = x->now, .expires_at = x->now + SESSION_TTL, .kind = "session"};
    client_address(x->c, addr, sizeof(addr));
    if (cookie && !json_is_boolean(cookie)) {
        out = kwh_problem_of(KW_INVALID, "/cookie",
                             "cookie: expected true (a browser session) or false (a bearer token)");
    } else if (!json_is_string(email)) {
        out = kwh_problem_of(KW_INVALID, "/email", "email: expected a string");
    } else if (!json_is_string(password)) {
        out = kwh_problem_of(KW_INVALID, "/password", "password: expected a string");
    } else {
        int64_t wait = login_gate(x->h, json_string_value(email), addr, x->now, false);
        if (wait > 0)
            out = kwh_problemf(KW_TOO_MANY, "", "too many failed logins; try again in %lld s",
                               (long long)wait);
        else if (kw_store_password_check(x->wk->st, json_string_value(email),
                                         json_string_value(password), &u.uid, &err) != KW_OK) {
            if (err.code == KW_UNAUTHENTICATED)
                login_gate(x->h, json_string_value(email), addr, x->now, true);
            out = kwh_problem(&err);
        } else if (!kwh_write_unit(x, issue_unit, &u, &out)) {
            /* out says why */
        } else if (json_is_true(cookie)) {
            /* a browser session: the token only in an HttpOnly cookie */
            char csrf[33];
            csrf_of(u.token, csrf);
            x->set_cookie = malloc(KW_TOKEN_BUF + 96);
            if (x->set_cookie)
                snprintf(x->set_cookie, KW_TOKEN_BUF + 96,
                         SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
                         u.token, SESSION_TTL);
            out = kwh_ok(200, json_pack("{s:s, s:s, s:I, s:I}", "token_type", "cookie",
                                        "csrf_token", csrf, "expires_in", (json_int_t)SESSION_TTL,
                                        "user_id", (json_int_t)u.uid));
        } else {
            out = kwh_ok(200, json_pack("{s:s, s:s, s:I, s:I}", "token", u.token, "token_type",
                                        "Bearer", "expires_in", (json_int_t)SESSION_TTL, "user_id",
                                        (json_int_t)u.uid));
        }
    }
    json_decref(j);
    return out;
}

struct revoke {
    const char *token;
    int64_t now;
};

static enum kw_code revoke_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct revoke *u = ctx;
    return kw_store_token_revoke(st, u->token, u->now, err);
}

/* ---- API tokens for integrations: /api/v1/tokens[/{id}] ---- */

static bool token_add(const struct kw_token_row *t, void *ctx)
{
    json_array_append_new(ctx, json_pack("{s:I, s:o, s:o, s:o}", "id", (json_int_t)t->id, "label",
                                         kwh_nullable(t->label), "created_at",
                                         kwh_instant_json(t->created_at), "expires_at",
                                         kwh_instant_json(t->expires_at)));
    return true;
}

struct token_revoke {
    int64_t uid, id, now;
};

static enum kw_code token_revoke_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct token_revoke *u = ctx;
    return kw_store_token_revoke_id(st, u->uid, u->id, u->now, err);
}

static struct kwh_reply tokens_route(struct kwh_call *x, const char *rest)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    if (!kwh_authenticate(x, &out))
        return out;
    if (!*rest && kwh_is_method(x, "GET")) {
        json_t *list = json_array();
        if (kw_store_tokens(x->wk->st, x->me.id, x->now, token_add, list, &err) != KW_OK) {
            json_decref(list);
            return kwh_problem(&err);
        }
        return kwh_ok(200, json_pack("{s:o}", "tokens", list));
    }
    if (!*rest && kwh_is_method(x, "POST")) {
        static const char *const keys[] = {"label", "expires_in_days", NULL};
        json_t *j = kwh_body_object(x, &out);
        if (!j)
            return out;
        struct issue u = {.uid = x->me.id, .now = x->now, .kind = "api"};
        json_t *days = json_object_get(j, "expires_in_days");
        u.expires_at = KW_STORE_NO_TIME;
        if (!kwh_only_members(j, keys, &out) || !kwh_opt_string(j, "label", 200, &u.label, &out)) {
        } else if (!u.label) {
            out = kwh_problem_of(KW_INVALID, "/label", "label: missing (what the token is for)");
        } else if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
                            json_integer_value(days) > 3650)) {
            out = kwh_problem_of(KW_INVALID, "/expires_in_days",
                                 "expires_in_days: expected a whole number from 1 to 3650");
        } else {
            if (days)
                u.expires_at = x->now + json_integer_value(days) * 86400;
            if (kwh_write_unit(x, issue_unit, &u, &out))
                out = kwh_ok(201, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)u.id, "token",
                                            u.token, "label", u.label, "expires_at",
                                            kwh_instant_json(u.expires_at)));
        }
        json_decref(j);
        return out;
    }
    if (*rest == '/' && kwh_is_method(x, "DELETE")) {
        char *end = NULL;
        long long id = strtoll(rest + 1, &end, 10);
        if (rest[1] < '0' || rest[1] > '9' || *end || id <= 0)
            return kwh_problem_of(KW_NOT_FOUND, "", "no such token");
        struct token_revoke u = {x->me.id, id, x->now};
        if (!kwh_write_unit(x, token_revoke_unit, &u, &out))
            return out;
        return kwh_ok(204, NULL);
    }
    return kwh_problem_of(*rest && *rest != '/' ? KW_NOT_FOUND : KW_METHOD, "",
                          *rest && *rest != '/' ? "no such resource"
                                                : "this method is not allowed here");
}

/* ---- routing ---- */

static struct kwh_reply me(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_user_row u;
    struct kw_err err = {0};
    if (!kwh_authenticate(x, &fail))
        return fail;
    if (kw_store_user_get(x->wk->st, x->me.id, &u, &err) != KW_OK)
        return kwh_problem(&err);
    json_t *skills = json_loads(u.skills ? u.skills : "[]", 0, NULL);
    json_t *j =
        json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)u.id, "email", u.email,
                  "name", u.name, "role", u.role, "org_id", kwh_id_or_null(u.org_id), "team_id",
                  kwh_id_or_null(u.team_id), "skills", skills ? skills : json_array());
    bool cookie;
    const char *t = bearer_or_cookie(x->c, &cookie);
    if (j && cookie) { /* the page, reloaded, finds its CSRF token here */
        char csrf[33];
        csrf_of(t, csrf);
        json_object_set_new(j, "csrf_token", json_string(csrf));
    }
    return kwh_ok(200, j);
}

static struct kwh_reply route(struct kwh_call *x, const char *url)
{
    struct kwh_reply out;
    if (x->r->too_big)
        return kwh_problemf(KW_TOO_BIG, "", "the body is larger than %u bytes", KW_HTTP_MAX_BODY);
    if ((strcmp(url, "/healthz") == 0 || strcmp(url, "/api/v1/openapi.json") == 0) &&
        !kwh_is_method(x, "GET"))
        return kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
    if (strcmp(url, "/healthz") == 0)
        return kwh_ok(200, json_pack("{s:s, s:i}", "status", "ok", "schema",
                                     kw_store_schema_version(x->wk->st)));
    if (strcmp(url, "/api/v1/openapi.json") == 0) {
        json_t *doc = json_loads((const char *)kw_openapi, 0, NULL);
        return doc ? kwh_ok(200, doc)
                   : kwh_problem_of(KW_STORE, "", "the API description is damaged");
    }
    if (strcmp(url, "/api/v1/auth/login") == 0)
        return kwh_is_method(x, "POST")
                   ? login(x)
                   : kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
    if (strcmp(url, "/api/v1/auth/logout") == 0) {
        if (!kwh_is_method(x, "POST"))
            return kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
        if (!kwh_authenticate(x, &out))
            return out;
        bool cookie;
        struct revoke u = {bearer_or_cookie(x->c, &cookie), x->now};
        if (!kwh_write_unit(x, revoke_unit, &u, &out))
            return out;
        if (cookie)
            x->set_cookie =
                strdup(SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        return kwh_ok(204, NULL);
    }
    if (strcmp(url, "/api/v1/me") == 0)
        return kwh_is_method(x, "GET")
                   ? me(x)
                   : kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
    if (strncmp(url, "/api/v1/tokens", 14) == 0 && (url[14] == '\0' || url[14] == '/'))
        return tokens_route(x, url + 14);
    if (strncmp(url, "/api/v1/tickets", 15) == 0 && (url[15] == '\0' || url[15] == '/'))
        return kwh_tickets_route(x, url + 15);
    bool matched = false;
    out = kwh_admin_route(x, url, &matched);
    if (!matched)
        out = kwh_notify_route(x, url, &matched);
    if (!matched)
        out = kwh_oncall_route(x, url, &matched);
    if (!matched)
        out = kwh_overruns_route(x, url, &matched);
    if (matched)
        return out;
    return kwh_problem_of(KW_NOT_FOUND, "", "no such resource");
}

enum MHD_Result kwh_send_reply(struct MHD_Connection *c, struct kwh_reply *rep,
                               const char *set_cookie)
{
    char *text = rep->text ? rep->text : rep->json ? json_dumps(rep->json, JSON_COMPACT) : NULL;
    json_decref(rep->json);
    char empty[1] = "";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        text ? strlen(text) : 0, text ? text : empty, MHD_RESPMEM_MUST_COPY);
    free(text);
    if (!resp)
        return MHD_NO;
    if (rep->status != 204)
        MHD_add_response_header(resp, "Content-Type",
                                rep->ctype     ? rep->ctype
                                : rep->problem ? "application/problem+json"
                                               : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (rep->ctype && strncmp(rep->ctype, "text/html", 9) == 0) {
        /* the pages run only their own scripts and styles, and nobody frames them */
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                                "base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    if (set_cookie)
        MHD_add_response_header(resp, "Set-Cookie", set_cookie);
    enum MHD_Result ret = MHD_queue_response(c, rep->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    struct kw_http *h = cls;
    struct kwh_req *r = *con_cls;
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
    struct kw_err err = {0};
    struct kwh_call x = {
        .h = h, .c = c, .r = r, .method = method, .now = h->clock.now(h->clock.ctx)};
    x.wk = kwh_worker_take(h, &err);
    enum MHD_Result ret;
    struct kwh_reply rep;
    if (x.wk && strcmp(url, "/api/v1/stream") == 0) {
        ret = kwh_web_stream(&x); /* its reads happen later, on workers of their own */
        kwh_worker_give(h, x.wk);
        log_request(h, method, url, 200, &r->t0);
        return ret;
    }
    if (x.wk && strncmp(url, "/api/", 5) != 0 && strcmp(url, "/healthz") != 0 &&
        (kwh_is_method(&x, "GET") || kwh_is_method(&x, "HEAD")) && kwh_web_asset(url, &rep)) {
        /* a page */
    } else
        rep = x.wk ? route(&x, url) : kwh_problem(&err);
    if (x.wk)
        kwh_worker_give(h, x.wk);
    unsigned status = rep.status;
    ret = kwh_send_reply(c, &rep, x.set_cookie);
    free(x.set_cookie);
    log_request(h, method, url, status, &r->t0);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    struct kwh_req *r = *con_cls;
    if (r) {
        kw_buf_release(&r->body);
        free(r);
    }
    *con_cls = NULL;
}

static bool parse_listen(const char *listen, struct sockaddr_in *addr)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    *addr = (struct sockaddr_in){.sin_family = AF_INET};
    if (!colon || (size_t)(colon - listen) >= sizeof(host) || !end || *end || port < 0 ||
        port > 65535)
        return false;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    addr->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1;
}

struct kw_http *kw_http_start(const char *listen, const char *db, struct kw_now clock,
                              const struct kw_log *log, struct kw_err *err)
{
    struct sockaddr_in addr;
    if (!parse_listen(listen, &addr)) {
        kw_err_set(err, KW_INVALID, "",
                   "--listen: \"%.60s\" is not IPV4:PORT (like 127.0.0.1:8080)", listen);
        return NULL;
    }
    struct kw_http *h = calloc(1, sizeof(*h));
    if (!h || strlen(db) >= sizeof(h->db)) {
        free(h);
        kw_err_set(err, KW_NOMEM, "", "no memory for the server, or the path is too long");
        return NULL;
    }
    snprintf(h->db, sizeof(h->db), "%s", db);
    h->clock = clock;
    if (log)
        h->log = *log;
    pthread_mutex_init(&h->pool_mu, NULL);
    pthread_mutex_init(&h->login_mu, NULL);
    kw_sla_init(&h->wsla);
    h->clocks = kw_clocks_new(err);
    kwh_feed_init(&h->feed);
    h->w = h->clocks ? kw_writer_start(db, err) : NULL;
    if (!h->w)
        goto fail;
    kw_writer_listen(h->w, kwh_feed_publish, &h->feed);
    struct kwh_worker *wk = kwh_worker_take(h, err);
    size_t projected = 0;
    enum kw_code rc =
        wk ? kwh_tickets_catch_up(h, wk->st, clock.now(clock.ctx), &projected, err) : KW_NOMEM;
    if (wk)
        kwh_worker_give(h, wk);
    if (rc != KW_OK)
        goto fail;
    if (projected)
        kwh_log_event(h, "mod=tickets event=tickets.projected count=%zu", projected);
    h->engine = kw_engine_start(db, h->w, h->clocks, clock, &h->log, err);
    if (!h->engine)
        goto fail;
    h->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_THREAD_STACK_SIZE,
        (size_t)(256 * 1024), MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)512, MHD_OPTION_END);
    if (!h->d) {
        kw_err_set(err, KW_IO, "", "cannot listen on %s (address in use, or not this host's)",
                   listen);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : ntohs(addr.sin_port);
    return h;
fail:
    kw_http_stop(h);
    return NULL;
}

void kw_http_stop(struct kw_http *h)
{
    if (!h)
        return;
    kwh_feed_stop(&h->feed); /* the live streams end */
    if (h->d)
        MHD_stop_daemon(h->d); /* waits for the connection threads */
    kw_engine_stop(h->engine);
    kw_writer_stop(h->w);
    while (h->idle) {
        struct kwh_worker *wk = h->idle;
        h->idle = wk->next;
        worker_free(wk);
    }
    kw_clocks_free(h->clocks);
    kw_sla_release(&h->wsla);
    pthread_mutex_destroy(&h->pool_mu);
    pthread_mutex_destroy(&h->login_mu);
    kwh_feed_destroy(&h->feed);
    free(h);
}

unsigned kw_http_port(const struct kw_http *h)
{
    return h->port;
}

void kw_http_writer_stats(struct kw_http *h, struct kw_writer_stats *out)
{
    kw_writer_stats(h->w, out);
}
