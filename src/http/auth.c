// SPDX-License-Identifier: MIT
/*
 * auth.c - who is calling: bearer tokens and the browser's session cookie
 * (with its CSRF token), login with throttling of failed attempts, logout,
 * /me and the integration tokens under /tokens.
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "internal.h"

#define SESSION_TTL (12 * 3600)
#define SESSION_COOKIE "kw_session"

/* Failed logins are counted per pair of e-mail and client address, and per
 * address (docs/operations.md). A pair gets LOGIN_FREE failures, then
 * waits 10, 20, 40 ... seconds after each further failure, at most
 * LOGIN_MAX_WAIT; an address that failed LOGIN_ADDRESS_FREE times (on any
 * accounts) waits a second after each further failure. Someone guessing one
 * account's password from elsewhere never locks out its owner; a counter is
 * forgotten LOGIN_WINDOW after its last failure, and a pair's at its login. */
#define LOGIN_WINDOW (15 * 60)
#define LOGIN_FREE 5
#define LOGIN_FIRST_WAIT 10
#define LOGIN_MAX_WAIT (15 * 60)
#define LOGIN_ADDRESS_FREE 100

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

const char *kwh_session_token(struct MHD_Connection *c)
{
    bool cookie;
    return bearer_or_cookie(c, &cookie);
}

bool kwh_authenticate(struct kwh_call *x, struct kwh_reply *fail)
{
    static const char *const roles[] = {"admin", "manager", "agent", "customer"};
    struct kw_err err = {0};
    struct kw_user_row u;
    bool cookie;
    if (x->authed) /* the router did, before the handler */
        return true;
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
    if (kw_auth_token_caller(x->wk->st, t, x->now, &u, &err) != KW_OK) {
        *fail = kwh_problem(&err);
        return false;
    }
    x->me =
        (struct kwh_caller){.id = u.id, .org_id = u.org_id, .team_id = u.team_id, .cookie = cookie};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(u.role, roles[i]) == 0)
            x->me.role = (enum kwh_role)i;
    x->me.customer = x->me.role == R_CUSTOMER;
    x->authed = true;
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

static uint64_t key_of(const char *kind, const char *s, const char *t)
{
    uint64_t k = 1469598103934665603ull;
    for (const char *p = kind; *p; p++)
        k = (k ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = s; *p; p++)
        k = (k ^ (unsigned char)*p) * 1099511628211ull;
    k = (k ^ 0xffu) * 1099511628211ull; /* between s and t: no byte of text */
    for (const char *p = t; *p; p++)
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
        if (s->key == key && now - s->last < LOGIN_WINDOW)
            return s;
        if (s != keep &&
            (!stalest || s->key == 0 || now - s->last >= LOGIN_WINDOW || s->last < stalest->last))
            stalest = s;
    }
    *stalest = (struct kwh_login_slot){key, now, 0};
    return stalest;
}

/* Seconds the slot must still wait before its next try: `free` failures
 * are allowed, then LOGIN_FIRST_WAIT << k s (at most cap) after the k-th
 * more. */
static int64_t backoff(const struct kwh_login_slot *s, unsigned free, int64_t cap, int64_t now)
{
    if (s->failures < free)
        return 0;
    unsigned k = s->failures - free;
    int64_t wait = k >= 20 ? cap : (int64_t)LOGIN_FIRST_WAIT << k;
    if (wait > cap)
        wait = cap;
    return s->last + wait > now ? s->last + wait - now : 0;
}

enum gate { GATE_ASK, GATE_FAILED, GATE_PASSED };

/* Before a try (GATE_ASK): the seconds this e-mail from this address must
 * still wait, or 0. After it: count the failure, or forget the pair's. */
static int64_t login_gate(struct kw_http *h, const char *email, const char *addr, int64_t now,
                          enum gate g)
{
    pthread_mutex_lock(&h->login_mu);
    struct kwh_login_slot *pair = login_slot(h, key_of("p:", email, addr), now, NULL);
    struct kwh_login_slot *from = login_slot(h, key_of("a:", addr, ""), now, pair);
    int64_t wait = 0;
    if (g == GATE_FAILED) {
        pair->failures++;
        from->failures++;
        pair->last = from->last = now;
    } else if (g == GATE_PASSED) {
        *pair = (struct kwh_login_slot){0};
    } else {
        wait = backoff(pair, LOGIN_FREE, LOGIN_MAX_WAIT, now);
        int64_t w2 = backoff(from, LOGIN_ADDRESS_FREE, 1, now); /* 1 s: the cap */
        if (w2 > wait)
            wait = w2;
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
    return kw_auth_token_issue(st, u->uid, u->kind, u->label, u->now, u->expires_at, u->token,
                               &u->id, err);
}

/* A login as posted. */
struct login_in {
    const char *email, *password;
    bool cookie;
};

static const struct kwh_field login_fields[] = {
    {.name = "email",
     .type = KWH_STR,
     .required = true,
     .max = 254,
     .offset = offsetof(struct login_in, email)},
    {.name = "password",
     .type = KWH_STR,
     .controls = true,
     .required = true,
     .max = 1024,
     .offset = offsetof(struct login_in, password)},
    {.name = "cookie",
     .type = KWH_BOOL,
     .offset = offsetof(struct login_in, cookie),
     .expect = "expected true (a browser session) or false (a bearer token)"},
};

/* Whether a request for a cookie session comes from another site: the
 * browser says so in Sec-Fetch-Site, or its Origin names another host than
 * the one asked (a page elsewhere could otherwise sign the victim's
 * browser into the attacker's account). */
static bool cross_site(struct MHD_Connection *c)
{
    const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return true;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!origin)
        return false;
    const char *o = strstr(origin, "://");
    return !host || !o || strcmp(o + 3, host) != 0;
}

/* The e-mail as the throttle keys it: lower case, so that the case of its
 * letters does not make new pairs. */
static void email_key(const char *email, char *buf, size_t cap)
{
    size_t i = 0;
    for (; email[i] && i + 1 < cap; i++)
        buf[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] - 'A' + 'a' : email[i]);
    buf[i] = '\0';
}

static struct kwh_reply login_as(struct kwh_call *x, const struct login_in *in)
{
    char addr[INET6_ADDRSTRLEN + 1], email[256];
    struct kw_err err = {0};
    struct kwh_reply out;
    struct issue u = {.now = x->now, .expires_at = x->now + SESSION_TTL, .kind = "session"};
    if (in->cookie && cross_site(x->c))
        return kwh_problem_of(KW_FORBIDDEN, "",
                              "a browser session can only be opened from Keepword's own pages");
    kwh_client_address(x->h, x->c, addr, sizeof(addr));
    email_key(in->email, email, sizeof(email));
    int64_t wait = login_gate(x->h, email, addr, x->now, GATE_ASK);
    if (wait > 0)
        return kwh_problemf(KW_TOO_MANY, "", "too many failed logins; try again in %lld s",
                            (long long)wait);
    if (kw_auth_password_check(x->wk->st, in->email, in->password, &u.uid, &err) != KW_OK) {
        /* the wait runs from the failure's answer, not from the request's
         * arrival (the password's hash takes its time) */
        if (err.code == KW_UNAUTHENTICATED)
            login_gate(x->h, email, addr, x->h->clock.now(x->h->clock.ctx), GATE_FAILED);
        return kwh_problem(&err);
    }
    login_gate(x->h, email, addr, x->now, GATE_PASSED);
    if (!kwh_write_unit(x, issue_unit, &u, &out))
        return out;
    if (!in->cookie)
        return kwh_ok(200, json_pack("{s:s, s:s, s:I, s:I}", "token", u.token, "token_type",
                                     "Bearer", "expires_in", (json_int_t)SESSION_TTL, "user_id",
                                     (json_int_t)u.uid));
    /* a browser session: the token only in an HttpOnly cookie */
    char csrf[33];
    csrf_of(u.token, csrf);
    x->set_cookie = malloc(KW_TOKEN_BUF + 104);
    if (x->set_cookie)
        snprintf(x->set_cookie, KW_TOKEN_BUF + 104,
                 SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", u.token,
                 SESSION_TTL, kwh_over_tls(x) ? "; Secure" : "");
    return kwh_ok(200,
                  json_pack("{s:s, s:s, s:I, s:I}", "token_type", "cookie", "csrf_token", csrf,
                            "expires_in", (json_int_t)SESSION_TTL, "user_id", (json_int_t)u.uid));
}

struct kwh_reply kwh_login(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct login_in in = {0};
    if (kwh_decode(j, login_fields, KWH_NFIELDS(login_fields), &in, &out))
        out = login_as(x, &in);
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
    return kw_auth_token_revoke(st, u->token, u->now, err);
}

/* ---- API tokens for integrations: /api/v1/tokens[/{id}] ---- */

static bool token_add(const struct kw_token_row *t, void *ctx)
{
    return kwh_page_push(ctx, t->id,
                         json_pack("{s:I, s:o, s:o, s:o}", "id", (json_int_t)t->id, "label",
                                   kwh_nullable(t->label), "created_at",
                                   kwh_instant_json(t->created_at), "expires_at",
                                   kwh_instant_json(t->expires_at)));
}

struct token_revoke {
    int64_t uid, id, now;
};

static enum kw_code token_revoke_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct token_revoke *u = ctx;
    return kw_store_token_revoke_id(st, u->uid, u->id, u->now, err);
}

struct kwh_reply kwh_tokens_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kwh_page pg;
    kwh_page_init(&pg, KWH_ALL);
    if (kw_store_tokens(x->wk->st, x->me.id, x->now, token_add, &pg, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    return kwh_ok(200, kwh_page_json(&pg, "tokens"));
}

/* A token as asked for. */
struct token_in {
    const char *label;
    int64_t days;
};

static const struct kwh_field token_fields[] = {
    {.name = "label",
     .type = KWH_STR,
     .required = true,
     .max = 200,
     .offset = offsetof(struct token_in, label),
     .missing = "missing (what the token is for)"},
    {.name = "expires_in_days",
     .type = KWH_INT,
     .lo = 1,
     .hi = 3650,
     .offset = offsetof(struct token_in, days)},
};

struct kwh_reply kwh_tokens_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct token_in in = {0};
    if (kwh_decode(j, token_fields, KWH_NFIELDS(token_fields), &in, &out)) {
        struct issue u = {.uid = x->me.id,
                          .now = x->now,
                          .kind = "api",
                          .label = in.label,
                          .expires_at = in.days ? x->now + in.days * 86400 : KW_STORE_NO_TIME};
        if (kwh_write_unit(x, issue_unit, &u, &out))
            out = kwh_ok(201,
                         json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)u.id, "token", u.token,
                                   "label", u.label, "expires_at", kwh_instant_json(u.expires_at)));
    }
    json_decref(j);
    return out;
}

struct kwh_reply kwh_token_delete(struct kwh_call *x)
{
    struct kwh_reply out;
    struct token_revoke u = {x->me.id, x->arg.id, x->now};
    if (!kwh_write_unit(x, token_revoke_unit, &u, &out))
        return out;
    kwh_sessions_changed(x->h);
    return kwh_ok(204, NULL);
}

struct kwh_reply kwh_me(struct kwh_call *x)
{
    struct kw_user_row u;
    struct kw_err err = {0};
    if (kw_store_user_get(x->wk->st, x->me.id, &u, &err) != KW_OK)
        return kwh_problem(&err);
    json_t *j = kwh_user_json(&u);
    bool cookie;
    const char *t = bearer_or_cookie(x->c, &cookie);
    if (j && cookie) { /* the page, reloaded, finds its CSRF token here */
        char csrf[33];
        csrf_of(t, csrf);
        json_object_set_new(j, "csrf_token", json_string(csrf));
    }
    return kwh_ok(200, j);
}

struct kwh_reply kwh_logout(struct kwh_call *x)
{
    struct kwh_reply out;
    bool cookie;
    struct revoke u = {bearer_or_cookie(x->c, &cookie), x->now};
    if (!kwh_write_unit(x, revoke_unit, &u, &out))
        return out;
    kwh_sessions_changed(x->h);
    if (cookie)
        x->set_cookie =
            strdup(kwh_over_tls(x)
                       ? SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
                       : SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return kwh_ok(204, NULL);
}

/* The caller as the application layer's actor. */
struct kw_actor kwh_actor(const struct kwh_call *x)
{
    static const enum kw_role roles[] = {
        [R_ADMIN] = KW_ROLE_ADMIN,
        [R_MANAGER] = KW_ROLE_MANAGER,
        [R_AGENT] = KW_ROLE_AGENT,
        [R_CUSTOMER] = KW_ROLE_CUSTOMER,
    };
    return (struct kw_actor){.id = x->me.id,
                             .org_id = x->me.org_id,
                             .team_id = x->me.team_id,
                             .role = roles[x->me.role]};
}
