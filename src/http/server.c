// SPDX-License-Identifier: MIT
#include "http.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calcache.h"
#include "civil.h"
#include "kw_buf.h"
#include "policy.h"
#include "sla.h"
#include "sla_json.h"
#include "tz.h"
#include "workflow.h"

#define SESSION_TTL (12 * 3600)

/* A commitment version compiled for clock computations. */
struct compiled {
    int64_t id; /* 0: empty slot */
    struct kw_policy *p;
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
};

#define POLICY_CACHE 8

/* Failed logins are counted per e-mail and per client address in a small
 * table; past the limit within the window, logins are refused (429) until
 * the window has passed, even with the right password. */
#define LOGIN_SLOTS 1024
#define LOGIN_WINDOW (15 * 60)
#define LOGIN_MAX_PER_ACCOUNT 5
#define LOGIN_MAX_PER_ADDRESS 20

struct login_slot {
    uint64_t key; /* hash of "e:" email or "a:" address; 0 = free */
    int64_t since;
    unsigned failures;
};

struct kw_http {
    struct MHD_Daemon *d;
    struct kw_store *st;
    struct kw_now clock;
    FILE *log;
    unsigned port;
    struct kw_tzdb *tz;
    struct compiled pol[POLICY_CACHE]; /* versions in use, replaced round-robin */
    size_t next_pol;
    struct kw_sla sla; /* scratch reused by every clock computation */
    struct login_slot logins[LOGIN_SLOTS];
};

static void compiled_release(struct compiled *c)
{
    for (size_t i = 0; c->p && i < kw_policy_calendar_count(c->p); i++)
        kw_cal_free(c->cals[i]);
    kw_policy_free(c->p);
    memset(c, 0, sizeof(*c));
}

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
 * they are all in use), never the slot `keep`. */
static struct login_slot *login_slot(struct kw_http *h, uint64_t key, int64_t now,
                                     const struct login_slot *keep)
{
    struct login_slot *stalest = NULL;
    for (size_t i = 0; i < 8; i++) {
        struct login_slot *s = &h->logins[(key + i) % LOGIN_SLOTS];
        if (s->key == key && now - s->since < LOGIN_WINDOW)
            return s;
        if (s != keep && (!stalest || s->key == 0 || now - s->since >= LOGIN_WINDOW ||
                          s->since < stalest->since))
            stalest = s;
    }
    *stalest = (struct login_slot){key, now, 0};
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

static struct reply login(struct kw_http *h, struct MHD_Connection *c, const struct req *r)
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
        char token[KW_TOKEN_BUF], addr[64];
        int64_t uid;
        struct kw_err err = {0};
        int64_t now = h->clock.now(h->clock.ctx);
        client_address(c, addr, sizeof(addr));
        struct login_slot *acct = login_slot(h, key_of("e:", json_string_value(email)), now, NULL);
        struct login_slot *from = login_slot(h, key_of("a:", addr), now, acct);
        if (acct->failures >= LOGIN_MAX_PER_ACCOUNT || from->failures >= LOGIN_MAX_PER_ADDRESS) {
            struct login_slot *s = acct->failures >= LOGIN_MAX_PER_ACCOUNT ? acct : from;
            kw_err_set(&err, KW_TOO_MANY, "", "too many failed logins; try again in %lld s",
                       (long long)(s->since + LOGIN_WINDOW - now));
            out = problem(&err);
        } else if (kw_store_login(h->st, json_string_value(email), json_string_value(password), now,
                                  SESSION_TTL, token, &uid, &err) != KW_OK) {
            if (err.code == KW_UNAUTHENTICATED) {
                acct->failures++;
                from->failures++;
            }
            out = problem(&err);
        } else
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

/* ---- tickets ---- */

/* The caller, read once per request (the store's strings do not last). */
struct caller {
    int64_t id, org_id;
    bool customer; /* everyone else works for the provider */
};

static bool caller_of(struct kw_http *h, struct MHD_Connection *c, struct caller *who_out,
                      struct reply *fail)
{
    int64_t uid;
    struct kw_user_row u;
    struct kw_err err = {0};
    if (!who(h, c, &uid, fail))
        return false;
    if (kw_store_user_get(h->st, uid, &u, &err) != KW_OK) {
        *fail = problem(&err);
        return false;
    }
    *who_out = (struct caller){u.id, u.org_id, strcmp(u.role, "customer") == 0};
    return true;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static json_t *instant_json(int64_t t)
{
    char buf[KW_INSTANT_BUF];
    kw_instant_format_utc(t, buf);
    return json_string(buf);
}

static json_t *nullable(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Read a ticket the caller may see: a customer sees only their own
 * organisation's, and another's looks exactly like one that does not exist. */
static bool visible_ticket(struct kw_http *h, const struct caller *who_, int64_t id,
                           struct kw_ticket_row *t, struct reply *fail)
{
    struct kw_err err = {0};
    if (kw_store_ticket_get(h->st, id, t, &err) != KW_OK ||
        (who_->customer && t->org_id != who_->org_id)) {
        *fail = problem_of(KW_NOT_FOUND, "", "no such ticket");
        return false;
    }
    return true;
}

static json_t *ticket_json(const struct kw_ticket_row *t)
{
    char head[2 * KW_HASH_BYTES + 1];
    hex(t->head, KW_HASH_BYTES, head);
    return json_pack("{s:I, s:I, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:s}", "id",
                     (json_int_t)t->id, "org_id", (json_int_t)t->org_id, "commitment_id",
                     t->commitment_id ? json_integer(t->commitment_id) : json_null(), "title",
                     t->title, "state", t->state, "level", t->level, "tier", nullable(t->tier),
                     "category", nullable(t->category), "region", nullable(t->region), "channel",
                     nullable(t->channel), "created_at", instant_json(t->created_at), "updated_at",
                     instant_json(t->updated_at), "events", (json_int_t)t->last_seq, "chain_head",
                     head);
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:s}", "id",
                     (json_int_t)t->id, "org_id", (json_int_t)t->org_id, "title", t->title, "state",
                     t->state, "level", t->level, "tier", nullable(t->tier), "category",
                     nullable(t->category), "region", nullable(t->region), "channel",
                     nullable(t->channel), "created_at", instant_json(t->created_at), "updated_at",
                     instant_json(t->updated_at), "events", (json_int_t)t->last_seq, "chain_head",
                     head);
}

/* An optional string field of at most max bytes; false with a problem. */
static bool opt_string(json_t *j, const char *key, size_t max, const char **out, struct reply *fail)
{
    json_t *v = json_object_get(j, key);
    char ptr[64];
    snprintf(ptr, sizeof(ptr), "/%s", key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
        struct kw_err err;
        kw_err_set(&err, KW_INVALID, ptr, "%s: expected a string of 1 to %zu bytes", key, max);
        *fail = problem(&err);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static struct reply ticket_create(struct kw_http *h, struct MHD_Connection *c, const struct req *r)
{
    struct reply fail;
    struct caller me;
    if (!caller_of(h, c, &me, &fail))
        return fail;
    json_t *j = body_object(r, &fail);
    if (!j)
        return fail;
    struct kw_ticket_new t = {.created_by = me.id, .at = h->clock.now(h->clock.ctx)};
    json_t *org = json_object_get(j, "org_id");
    struct reply out;
    if (!opt_string(j, "title", 500, &t.title, &out) ||
        !opt_string(j, "level", 47, &t.level, &out) || !opt_string(j, "tier", 47, &t.tier, &out) ||
        !opt_string(j, "category", 47, &t.category, &out) ||
        !opt_string(j, "region", 47, &t.region, &out) ||
        !opt_string(j, "channel", 47, &t.channel, &out))
        goto out;
    t.idempotency_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    if (org && !json_is_integer(org)) {
        out = problem_of(KW_INVALID, "/org_id", "org_id: expected an organisation id");
        goto out;
    }
    if (me.customer) {
        /* customers open tickets for their own organisation only */
        if (org && json_integer_value(org) != me.org_id) {
            out = problem_of(KW_FORBIDDEN, "/org_id",
                             "org_id: customers open tickets for their own organisation");
            goto out;
        }
        t.org_id = me.org_id;
    } else if (!org) {
        out = problem_of(KW_INVALID, "/org_id", "org_id: missing (the customer organisation)");
        goto out;
    } else {
        t.org_id = json_integer_value(org);
    }
    int64_t id;
    bool existed;
    struct kw_err err = {0};
    struct kw_ticket_row row;
    if (kw_store_ticket_create(h->st, &t, &id, &existed, &err) != KW_OK ||
        kw_store_ticket_get(h->st, id, &row, &err) != KW_OK) {
        out = problem(&err);
        goto out;
    }
    out = ok(existed ? 200 : 201, ticket_json(&row));
out:
    json_decref(j);
    return out;
}

struct collect {
    json_t *list;
    bool customer;
};

static bool collect_event(const struct kw_stored_event *ev, void *ctx)
{
    struct collect *co = ctx;
    json_t *body = json_loads(ev->body, 0, NULL);
    /* internal notes are for the provider's eyes only */
    if (co->customer && json_is_true(json_object_get(body, "internal"))) {
        json_decref(body);
        return true;
    }
    char h[2 * KW_HASH_BYTES + 1];
    hex(ev->hash, KW_HASH_BYTES, h);
    json_array_append_new(co->list, json_pack("{s:I, s:o, s:s, s:I, s:o, s:s}", "seq",
                                              (json_int_t)ev->seq, "at", instant_json(ev->at),
                                              "type", ev->type, "actor", (json_int_t)ev->actor,
                                              "body", body ? body : json_object(), "hash", h));
    return true;
}

/* Append one event; on success the ticket moved on. */
static bool append(struct kw_http *h, int64_t id, const char *type, json_t *body, int64_t actor,
                   int64_t at, const char *state, struct reply *fail)
{
    char *text = json_dumps(body, JSON_COMPACT);
    struct kw_err err = {0};
    enum kw_code rc =
        text ? kw_store_event_append(h->st, id, type, text, actor, at, state, NULL, &err)
             : kw_err_set(&err, KW_NOMEM, "", "no memory");
    free(text);
    if (rc != KW_OK)
        *fail = problem(&err);
    return rc == KW_OK;
}

static struct reply event_post(struct kw_http *h, const struct caller *me,
                               const struct kw_ticket_row *t_in, const struct req *r)
{
    struct reply out;
    json_t *j = body_object(r, &out);
    if (!j)
        return out;
    int64_t id = t_in->id, now = h->clock.now(h->clock.ctx);
    enum kw_state from;
    kw_state_parse(t_in->state, strlen(t_in->state), &from);
    const char *type = NULL;
    if (!opt_string(j, "type", 32, &type, &out))
        goto done;
    if (!type) {
        out = problem_of(KW_INVALID, "/type", "type: missing (comment, transition, milestone)");
        goto done;
    }
    if (strcmp(type, "comment") == 0) {
        const char *text = NULL;
        if (!opt_string(j, "text", 65536, &text, &out))
            goto done;
        if (!text) {
            out = problem_of(KW_INVALID, "/text", "text: missing");
            goto done;
        }
        json_t *internal = json_object_get(j, "internal");
        if (internal && !json_is_boolean(internal)) {
            out = problem_of(KW_INVALID, "/internal", "internal: expected true or false");
            goto done;
        }
        if (me->customer && json_is_true(internal)) {
            out = problem_of(KW_FORBIDDEN, "/internal", "customers cannot write internal notes");
            goto done;
        }
        json_t *b = json_pack("{s:s, s:b}", "text", text, "internal", json_is_true(internal));
        bool ok_ = append(h, id, "comment", b, me->id, now, NULL, &out);
        json_decref(b);
        if (!ok_)
            goto done;
    } else if (strcmp(type, "transition") == 0) {
        const char *to_name = NULL;
        enum kw_state to;
        struct kw_transition tr;
        struct kw_err err = {0};
        if (!opt_string(j, "to", 32, &to_name, &out))
            goto done;
        if (!to_name || !kw_state_parse(to_name, strlen(to_name), &to)) {
            out = problem_of(KW_INVALID, "/to",
                             "to: expected analysing, handling, feedback, archived or "
                             "waiting_customer");
            goto done;
        }
        /* customers sign off or reject a proposed resolution, nothing else */
        if (me->customer &&
            !(from == KW_ST_FEEDBACK && (to == KW_ST_ARCHIVED || to == KW_ST_HANDLING))) {
            out = problem_of(KW_FORBIDDEN, "/to",
                             "customers can only confirm (archived) or reject (handling) a "
                             "proposed resolution");
            goto done;
        }
        if (kw_workflow_move(from, to, &tr, &err) != KW_OK) {
            out = problem(&err);
            goto done;
        }
        json_t *b =
            json_pack("{s:s, s:s}", "state", kw_state_name(to), "from", kw_state_name(from));
        bool ok_ = append(h, id, tr.reopens ? "reopened" : "state", b, me->id, now,
                          kw_state_name(to), &out);
        json_decref(b);
        for (size_t i = 0; ok_ && i < tr.n; i++) {
            json_t *m = json_pack("{s:s}", "milestone", tr.milestones[i]);
            ok_ = append(h, id, "milestone", m, me->id, now, NULL, &out);
            json_decref(m);
        }
        if (!ok_)
            goto done;
    } else if (strcmp(type, "milestone") == 0) {
        const char *name = NULL;
        if (!opt_string(j, "milestone", 47, &name, &out))
            goto done;
        if (me->customer) {
            out = problem_of(KW_FORBIDDEN, "/type", "milestones are recorded by the provider");
            goto done;
        }
        if (!name || !kw_builtin_milestone(name)) {
            out = problem_of(KW_INVALID, "/milestone",
                             "milestone: expected first_response, acknowledged, accepted, "
                             "plan_confirmed, on_site, restored, resolved, customer_confirmed, "
                             "closed or callback_done");
            goto done;
        }
        json_t *b = json_pack("{s:s}", "milestone", name);
        bool ok_ = append(h, id, "milestone", b, me->id, now, NULL, &out);
        json_decref(b);
        if (!ok_)
            goto done;
    } else {
        out = problem_of(KW_INVALID, "/type", "type: expected comment, transition or milestone");
        goto done;
    }
    struct kw_ticket_row t;
    struct kw_err err = {0};
    out = kw_store_ticket_get(h->st, id, &t, &err) == KW_OK ? ok(201, ticket_json(&t))
                                                            : problem(&err);
done:
    json_decref(j);
    return out;
}

/* ---- organisations and users (the provider's staff manage them) ---- */

static bool role_is(struct kw_http *h, int64_t uid, const char *const *roles, size_t n)
{
    struct kw_user_row u;
    if (kw_store_user_get(h->st, uid, &u, NULL) != KW_OK)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(u.role, roles[i]) == 0)
            return true;
    return false;
}

/* The body of a request only some roles may make: NULL with *fail set when
 * the caller is not logged in (401), has another role (403, `why`), or sent
 * no JSON object (400). */
static json_t *gated_body(struct kw_http *h, struct MHD_Connection *c, const struct req *r,
                          const char *const *roles, size_t n, const char *why, struct reply *fail)
{
    int64_t uid;
    if (!who(h, c, &uid, fail))
        return NULL;
    if (!role_is(h, uid, roles, n)) {
        *fail = problem_of(KW_FORBIDDEN, "", why);
        return NULL;
    }
    return body_object(r, fail);
}

static struct reply org_create(struct kw_http *h, struct MHD_Connection *c, const struct req *r)
{
    static const char *const allowed[] = {"admin", "manager"};
    struct reply out;
    json_t *j =
        gated_body(h, c, r, allowed, 2, "only admins and managers manage organisations", &out);
    if (!j)
        return out;
    struct kw_org org = {0};
    json_t *value = json_object_get(j, "contract_value_cents");
    if (!opt_string(j, "name", 200, &org.name, &out) ||
        !opt_string(j, "tier", 47, &org.tier, &out) ||
        !opt_string(j, "region", 47, &org.region, &out) ||
        !opt_string(j, "calendar", 47, &org.calendar, &out))
        goto done;
    if (value && (!json_is_integer(value) || json_integer_value(value) < 0)) {
        out = problem_of(KW_INVALID, "/contract_value_cents",
                         "contract_value_cents: expected a whole number >= 0");
        goto done;
    }
    org.contract_value_cents = value ? json_integer_value(value) : 0;
    int64_t id;
    struct kw_err err = {0};
    if (kw_store_org_insert(h->st, &org, h->clock.now(h->clock.ctx), &id, &err) != KW_OK)
        out = problem(&err);
    else
        out = ok(201, json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)id, "name", org.name,
                                "tier", nullable(org.tier), "region", nullable(org.region)));
done:
    json_decref(j);
    return out;
}

static struct reply user_create(struct kw_http *h, struct MHD_Connection *c, const struct req *r)
{
    static const char *const allowed[] = {"admin"};
    struct reply out;
    json_t *j = gated_body(h, c, r, allowed, 1, "only admins manage users", &out);
    if (!j)
        return out;
    struct kw_user u = {0};
    const char *password = NULL;
    json_t *org = json_object_get(j, "org_id");
    if (!opt_string(j, "email", 254, &u.email, &out) ||
        !opt_string(j, "name", 200, &u.name, &out) || !opt_string(j, "role", 16, &u.role, &out) ||
        !opt_string(j, "password", 1024, &password, &out))
        goto done;
    if (org && !json_is_integer(org)) {
        out = problem_of(KW_INVALID, "/org_id", "org_id: expected an organisation id");
        goto done;
    }
    u.org_id = org ? json_integer_value(org) : 0;
    if (u.role && strcmp(u.role, "customer") == 0 && !u.org_id) {
        out = problem_of(KW_INVALID, "/org_id", "org_id: a customer belongs to an organisation");
        goto done;
    }
    int64_t id;
    struct kw_err err = {0};
    if (kw_store_user_insert(h->st, &u, password, h->clock.now(h->clock.ctx), &id, &err) != KW_OK)
        out = problem(&err);
    else
        out = ok(201,
                 json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)id, "email", u.email, "role",
                           u.role, "org_id", u.org_id ? json_integer(u.org_id) : json_null()));
done:
    json_decref(j);
    return out;
}

/* ---- commitments and clocks ---- */

static struct reply commitment_create(struct kw_http *h, struct MHD_Connection *c,
                                      const struct req *r)
{
    static const char *const allowed[] = {"admin", "manager"};
    struct reply out;
    json_t *j =
        gated_body(h, c, r, allowed, 2, "only admins and managers change commitments", &out);
    if (!j)
        return out;
    struct kw_err err = {0};
    struct compiled cp = {0};
    cp.p = kw_policy_from_json(j, &err);
    if (!cp.p || kw_policy_compile(h->tz, cp.p, cp.cals, &err) != KW_OK) {
        out = problem(&err);
        kw_policy_free(cp.p);
        json_decref(j);
        return out;
    }
    char *doc = json_dumps(j, JSON_COMPACT);
    int64_t id;
    if (!doc || kw_store_commitment_insert(h->st, kw_policy_name(cp.p), kw_policy_version(cp.p),
                                           kw_policy_effective_from(cp.p), doc,
                                           h->clock.now(h->clock.ctx), &id, &err) != KW_OK) {
        out = doc ? problem(&err) : problem_of(KW_NOMEM, "", "no memory");
    } else {
        out = ok(201, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)id, "name",
                                kw_policy_name(cp.p), "version", kw_policy_version(cp.p),
                                "effective_from", instant_json(kw_policy_effective_from(cp.p))));
    }
    free(doc);
    compiled_release(&cp);
    json_decref(j);
    return out;
}

/* The compiled commitment version id, from the cache or the store. */
static const struct compiled *policy_for(struct kw_http *h, int64_t id, struct kw_err *err)
{
    for (size_t i = 0; i < POLICY_CACHE; i++)
        if (h->pol[i].id == id)
            return &h->pol[i];
    char *doc = NULL;
    if (kw_store_commitment_doc(h->st, id, &doc, err) != KW_OK)
        return NULL;
    struct compiled *c = &h->pol[h->next_pol];
    h->next_pol = (h->next_pol + 1) % POLICY_CACHE;
    compiled_release(c);
    c->p = kw_policy_parse(doc, strlen(doc), err);
    free(doc);
    if (!c->p || kw_policy_compile(h->tz, c->p, c->cals, err) != KW_OK) {
        kw_policy_free(c->p);
        c->p = NULL;
        return NULL;
    }
    c->id = id;
    return c;
}

/* The stored events as clock events; the bodies stay alive in docs. */
struct to_clock {
    struct kw_event *ev;
    json_t **docs;
    size_t n, cap;
    bool nomem;
};

static bool to_clock_event(const struct kw_stored_event *se, void *ctx)
{
    struct to_clock *tc = ctx;
    struct kw_event e = {.at = se->at};
    json_t *b = json_loads(se->body, 0, NULL);
    if (strcmp(se->type, "created") == 0) {
        static const enum kw_attr attrs[] = {KW_ATTR_LEVEL, KW_ATTR_TIER, KW_ATTR_CATEGORY,
                                             KW_ATTR_REGION, KW_ATTR_CHANNEL};
        e.type = KW_EV_CREATED;
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
            e.attrs.v[attrs[i]] = json_string_value(json_object_get(b, kw_attr_name(attrs[i])));
    } else if (strcmp(se->type, "state") == 0) {
        e.type = KW_EV_STATE;
        e.name = json_string_value(json_object_get(b, "state"));
    } else if (strcmp(se->type, "milestone") == 0) {
        e.type = KW_EV_MILESTONE;
        e.name = json_string_value(json_object_get(b, "milestone"));
    } else if (strcmp(se->type, "reopened") == 0) {
        e.type = KW_EV_REOPENED;
        e.name = json_string_value(json_object_get(b, "state"));
    } else {
        json_decref(b); /* comments and the like do not move clocks */
        return true;
    }
    if (tc->n == tc->cap) {
        size_t cap = tc->cap ? tc->cap * 2 : 32;
        struct kw_event *ev = realloc(tc->ev, cap * sizeof(*ev));
        json_t **docs = ev ? realloc(tc->docs, cap * sizeof(*docs)) : NULL;
        if (ev)
            tc->ev = ev;
        if (!ev || !docs) {
            json_decref(b);
            tc->nomem = true;
            return false;
        }
        tc->docs = docs;
        tc->cap = cap;
    }
    tc->ev[tc->n] = e;
    tc->docs[tc->n++] = b;
    return true;
}

static struct reply ticket_sla(struct kw_http *h, int64_t id, int64_t commitment)
{
    struct kw_err err = {0};
    int64_t now = h->clock.now(h->clock.ctx);
    if (!commitment)
        return ok(200, json_pack("{s:I, s:n, s:o, s:[]}", "ticket", (json_int_t)id, "commitment",
                                 "as_of", instant_json(now), "clocks"));
    const struct compiled *c = policy_for(h, commitment, &err);
    if (!c)
        return problem(&err);
    struct to_clock tc = {0};
    struct reply out;
    if (kw_store_events(h->st, id, to_clock_event, &tc, &err) != KW_OK)
        out = problem(&err);
    else if (tc.nomem)
        out = problem_of(KW_NOMEM, "", "no memory for the ticket's events");
    else if (kw_sla_eval(c->p, (const struct kw_cal *const *)c->cals, tc.ev, tc.n, now, &h->sla,
                         &err) != KW_OK)
        out = problem(&err);
    else
        out = ok(200, json_pack("{s:I, s:{s:I, s:s, s:s}, s:o, s:o}", "ticket", (json_int_t)id,
                                "commitment", "id", (json_int_t)commitment, "name",
                                kw_policy_name(c->p), "version", kw_policy_version(c->p), "as_of",
                                instant_json(now), "clocks", kw_sla_to_json(c->p, &h->sla)));
    for (size_t i = 0; i < tc.n; i++)
        json_decref(tc.docs[i]);
    free(tc.ev);
    free(tc.docs);
    return out;
}

/* GET /api/v1/tickets?state=&level=&org_id=&limit=&after= */
struct page {
    json_t *list;
    size_t limit;
    int64_t last;
    bool more;
};

static bool page_add(const struct kw_ticket_row *t, void *ctx)
{
    struct page *pg = ctx;
    if (json_array_size(pg->list) == pg->limit) {
        pg->more = true; /* one row past the page: there is a next page */
        return false;
    }
    json_array_append_new(pg->list, ticket_json(t));
    pg->last = t->id;
    return true;
}

/* A query parameter that is a whole number in [lo, hi]; absent is fine. */
static bool query_int(struct MHD_Connection *c, const char *name, long long lo, long long hi,
                      long long *out, struct reply *fail)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    char *end = NULL;
    if (!v)
        return true;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        struct kw_err err;
        kw_err_set(&err, KW_INVALID, "", "%s: expected a whole number from %lld to %lld", name, lo,
                   hi);
        *fail = problem(&err);
        return false;
    }
    *out = n;
    return true;
}

static struct reply ticket_list(struct kw_http *h, struct MHD_Connection *c)
{
    struct reply fail;
    struct caller me;
    if (!caller_of(h, c, &me, &fail))
        return fail;
    long long org = 0, limit = 50, after = 0;
    if (!query_int(c, "org_id", 1, INT64_MAX, &org, &fail) ||
        !query_int(c, "limit", 1, 500, &limit, &fail) ||
        !query_int(c, "after", 0, INT64_MAX, &after, &fail))
        return fail;
    struct kw_ticket_filter f = {.org_id = org, .after = after, .limit = (size_t)limit + 1};
    f.state = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
    f.level = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "level");
    enum kw_state st;
    if (f.state && !kw_state_parse(f.state, strlen(f.state), &st))
        return problem_of(KW_INVALID, "",
                          "state: expected registered, analysing, handling, feedback, archived "
                          "or waiting_customer");
    if (f.level && (strlen(f.level) == 0 || strlen(f.level) > 47))
        return problem_of(KW_INVALID, "", "level: expected a level id");
    if (me.customer) {
        /* a customer lists their own organisation's tickets, nothing else */
        if (org && org != me.org_id)
            return problem_of(KW_FORBIDDEN, "", "org_id: customers list their own tickets");
        f.org_id = me.org_id;
    }
    struct page pg = {json_array(), (size_t)limit, 0, false};
    struct kw_err err = {0};
    if (kw_store_tickets(h->st, &f, page_add, &pg, &err) != KW_OK) {
        json_decref(pg.list);
        return problem(&err);
    }
    return ok(200, json_pack("{s:o, s:o}", "tickets", pg.list, "next",
                             pg.more ? json_integer(pg.last) : json_null()));
}

/* /api/v1/tickets/{id}[/events] */
static struct reply ticket_routes(struct kw_http *h, struct MHD_Connection *c, const char *method,
                                  const char *rest, const struct req *r)
{
    struct reply fail;
    struct caller me;
    char *end = NULL;
    if (*rest < '0' || *rest > '9' || strlen(rest) > 40)
        return problem_of(KW_NOT_FOUND, "", "no such ticket");
    long long id = strtoll(rest, &end, 10);
    bool events = strcmp(end, "/events") == 0, clocks = strcmp(end, "/sla") == 0;
    if ((*end && !events && !clocks) || end - rest > 18)
        return problem_of(KW_NOT_FOUND, "", "no such resource");
    if (!caller_of(h, c, &me, &fail))
        return fail;
    struct kw_ticket_row t;
    if (!visible_ticket(h, &me, id, &t, &fail))
        return fail;
    if (clocks && strcmp(method, "GET") == 0)
        return ticket_sla(h, id, t.commitment_id);
    if (!events && !clocks && strcmp(method, "GET") == 0)
        return ok(200, ticket_json(&t));
    if (events && strcmp(method, "GET") == 0) {
        struct collect co = {json_array(), me.customer};
        struct kw_err err = {0};
        if (kw_store_events(h->st, id, collect_event, &co, &err) != KW_OK) {
            json_decref(co.list);
            return problem(&err);
        }
        return ok(200, json_pack("{s:I, s:o}", "ticket", (json_int_t)id, "events", co.list));
    }
    if (events && strcmp(method, "POST") == 0) {
        struct kw_ticket_row copy = t;
        char state[32];
        snprintf(state, sizeof(state), "%s", t.state); /* the row's strings do not last */
        copy.state = state;
        return event_post(h, &me, &copy, r);
    }
    return problem_of(KW_METHOD, "", "this method is not allowed here");
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
    if (strcmp(url, "/api/v1/openapi.json") == 0 && get) {
        json_t *doc = json_loads((const char *)kw_openapi, 0, NULL);
        return doc ? ok(200, doc) : problem_of(KW_STORE, "", "the API description is damaged");
    }
    if (strcmp(url, "/api/v1/auth/login") == 0 && post)
        return login(h, c, r);
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
    if (strcmp(url, "/api/v1/tickets") == 0 && post)
        return ticket_create(h, c, r);
    if (strcmp(url, "/api/v1/tickets") == 0 && get)
        return ticket_list(h, c);
    if (strcmp(url, "/api/v1/orgs") == 0 && post)
        return org_create(h, c, r);
    if (strcmp(url, "/api/v1/commitments") == 0 && post)
        return commitment_create(h, c, r);
    if (strcmp(url, "/api/v1/users") == 0 && post)
        return user_create(h, c, r);
    if (strncmp(url, "/api/v1/tickets/", 16) == 0)
        return ticket_routes(h, c, method, url + 16, r);
    static const char *const known[] = {"/healthz",     "/api/v1/auth/login", "/api/v1/auth/logout",
                                        "/api/v1/me",   "/api/v1/tickets",    "/api/v1/orgs",
                                        "/api/v1/users"};
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

struct kw_http *kw_http_start(const char *listen, struct kw_store *st, struct kw_now clock,
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
    h->tz = kw_tzdb_new();
    kw_sla_init(&h->sla);
    if (!h->tz) {
        free(h);
        kw_err_set(err, KW_NOMEM, "", "no memory for the server");
        return NULL;
    }
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_END);
    if (!h->d) {
        kw_tzdb_free(h->tz);
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
    for (size_t i = 0; i < POLICY_CACHE; i++)
        compiled_release(&h->pol[i]);
    kw_sla_release(&h->sla);
    kw_tzdb_free(h->tz);
    free(h);
}

unsigned kw_http_port(const struct kw_http *h)
{
    return h->port;
}
