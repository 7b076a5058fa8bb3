// SPDX-License-Identifier: MIT
/* /api/v1/endpoints and /api/v1/outbox: where notifications go, and what
 * became of them (the provider's managers only). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalogue.h"
#include "civil.h"
#include "deliver.h"
#include "internal.h"
#include "watch.h"
#include "kw_text.h"

static bool endpoint_add(const struct kw_endpoint *e, void *ctx)
{
    return kwh_page_push(ctx, e->id, kwh_endpoint_json(e));
}

/* "events": a list of the catalogue's notification kinds (empty or absent:
 * all), as text. */
static bool events_of(json_t *v, char **out, struct kwh_reply *fail)
{
    json_t *k;
    size_t i;
    *out = NULL;
    if (!v)
        return true;
    if (!json_is_array(v)) {
        *fail = kwh_problem_of(KW_INVALID, "/events",
                               "events: expected a list of notification kinds (GET /catalogue)");
        return false;
    }
    json_array_foreach(v, i, k)
    {
        if (!kw_notification_known(json_string_value(k))) {
            char ptr[32], list[160] = "";
            for (size_t n = 0; n < kw_notification_count(); n++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", n ? ", " : "",
                         kw_notification_info(n)->id);
            snprintf(ptr, sizeof(ptr), "/events/%zu", i);
            *fail = kwh_problemf(KW_INVALID, ptr, "events[%zu]: expected one of %s", i, list);
            return false;
        }
    }
    *out = json_dumps(v, JSON_COMPACT);
    return *out != NULL;
}

struct endpoint_unit {
    struct kw_endpoint e;
    json_t *events, *secret; /* as sent */
    int64_t now, id;
    bool edit;
    struct kw_actor who;
};

static enum kw_code endpoint_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct endpoint_unit *u = ctx;
    char *before = NULL;
    enum kw_code rc = KW_OK;
    if (u->edit) {
        if ((rc = kw_audit_before(st, "endpoint", u->e.id, NULL, &before, err)) == KW_OK)
            rc = kw_store_endpoint_set(st, &u->e, err);
        u->id = u->e.id;
    } else {
        rc = kw_store_endpoint_add(st, &u->e, u->now, &u->id, err);
    }
    if (rc == KW_OK)
        rc = kw_audit_after(st, &u->who, u->now, "endpoint", u->id, NULL,
                            u->edit ? "update" : "create", before, err);
    free(before);
    return rc;
}

/* An e-mail endpoint's lang=, when given, is zh or en. */
static bool mail_lang_ok(const char *url)
{
    const char *q = strchr(url, '?'), *l = q ? strstr(q, "lang=") : NULL;
    if (!l || (l[-1] != '?' && l[-1] != '&'))
        return true;
    l += 5;
    return (strncmp(l, "zh", 2) == 0 || strncmp(l, "en", 2) == 0) && (l[2] == '\0' || l[2] == '&');
}

/* The addresses in query parameter key= of an smtp URL (comma-separated),
 * each an RFC 5321 mailbox: they become MAIL FROM and RCPT TO lines, so a
 * CR/LF or a bracket would end the command and start another. */
static bool mail_addresses_ok(const char *url, const char *key, struct kwh_reply *out)
{
    size_t klen = strlen(key);
    for (const char *p = strchr(url, '?'); p && *p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, key, klen) != 0 || p[1 + klen] != '=')
            continue;
        const char *v = p + 2 + klen, *end = v + strcspn(v, "&");
        while (v < end) {
            size_t n = strcspn(v, ",&");
            if (n > (size_t)(end - v))
                n = (size_t)(end - v);
            if (!kw_email_ok(v, n)) {
                *out = kwh_problemf(KW_INVALID, "/url",
                                    "url: %s= \"%.*s\" is not an e-mail address (expected "
                                    "a@example.com, several separated by commas)",
                                    key, (int)(n > 80 ? 80 : n), v);
                return false;
            }
            v += n + (v[n] == ',');
        }
    }
    return true;
}

/* The kind and the URL that goes with it; false with the problem. */
static bool endpoint_check(const struct kw_endpoint *e, struct kwh_reply *out)
{
    if (e->url && !kw_url_clean(e->url)) {
        *out = kwh_problem_of(KW_INVALID, "/url",
                              "url: spaces, control characters (CR, LF, ...) and raw non-ASCII "
                              "are not allowed in a URL; percent-encode them");
        return false;
    }
    if (strcmp(e->kind, "webhook") != 0 && strcmp(e->kind, "dingtalk") != 0 &&
        strcmp(e->kind, "feishu") != 0 && strcmp(e->kind, "wecom") != 0 &&
        strcmp(e->kind, "email") != 0) {
        *out = kwh_problem_of(KW_INVALID, "/kind",
                              "kind: expected webhook, dingtalk, feishu, wecom or email");
        return false;
    }
    if (strcmp(e->kind, "email") == 0 &&
        (!e->url || (strncmp(e->url, "smtp://", 7) != 0 && strncmp(e->url, "smtps://", 8) != 0) ||
         !strstr(e->url, "from=") || !mail_lang_ok(e->url))) {
        *out = kwh_problem_of(KW_INVALID, "/url",
                              "url: expected smtp[s]://HOST[:PORT]/?from=ADDRESS[&to=ADDRESS,...]"
                              "[&starttls=1][&lang=zh|en]");
        return false;
    }
    if (strcmp(e->kind, "email") == 0 &&
        (!mail_addresses_ok(e->url, "from", out) || !mail_addresses_ok(e->url, "to", out)))
        return false;
    if (strcmp(e->kind, "email") != 0 &&
        (!e->url || (strncmp(e->url, "http://", 7) != 0 && strncmp(e->url, "https://", 8) != 0))) {
        *out = kwh_problem_of(KW_INVALID, "/url", "url: expected an http:// or https:// URL");
        return false;
    }
    return true;
}

static const struct kwh_field endpoint_fields[] = {
    {.name = "name",
     .type = KWH_STR,
     .required = true,
     .max = 200,
     .offset = offsetof(struct endpoint_unit, e.name)},
    {.name = "kind", .type = KWH_STR, .max = 16, .offset = offsetof(struct endpoint_unit, e.kind)},
    {.name = "url", .type = KWH_STR, .max = 2000, .offset = offsetof(struct endpoint_unit, e.url)},
    {.name = "secret",
     .type = KWH_STR,
     .controls = true,
     .max = 200,
     .offset = offsetof(struct endpoint_unit, e.secret)},
    {.name = "events", .type = KWH_ANY, .offset = offsetof(struct endpoint_unit, events)},
    {.name = "org_id", .type = KWH_ID, .offset = offsetof(struct endpoint_unit, e.org_id)},
    {.name = "team_id", .type = KWH_ID, .offset = offsetof(struct endpoint_unit, e.team_id)},
};

struct kwh_reply kwh_endpoints_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct endpoint_unit u = {.now = x->now, .who = kwh_actor(x)};
    char *events = NULL;
    if (!kwh_decode(j, endpoint_fields, KWH_NFIELDS(endpoint_fields), &u, &out) ||
        !events_of(u.events, &events, &out))
        goto done;
    u.e.events = events;
    if (!u.e.kind)
        u.e.kind = "webhook";
    if (endpoint_check(&u.e, &out) && kwh_write_unit(x, endpoint_unit, &u, &out)) {
        u.e.id = u.id;
        u.e.active = true;
        u.e.has_secret = u.e.secret != NULL;
        out = kwh_ok(201, kwh_endpoint_json(&u.e));
    }
done:
    free(events);
    json_decref(j);
    return out;
}

/* One endpoint as read, its strings copied (the row's die with the call). */
struct endpoint_copy {
    struct kw_endpoint e;
    json_t *keep; /* owns the strings */
};

static bool endpoint_copy(const struct kw_endpoint *e, void *ctx)
{
    struct endpoint_copy *c = ctx;
    c->keep = json_pack("[s, s, s, s]", e->name, e->kind, e->url, e->events ? e->events : "[]");
    c->e = *e;
    if (c->keep) {
        c->e.name = json_string_value(json_array_get(c->keep, 0));
        c->e.kind = json_string_value(json_array_get(c->keep, 1));
        c->e.url = json_string_value(json_array_get(c->keep, 2));
        c->e.events = json_string_value(json_array_get(c->keep, 3));
    }
    return false;
}

static const struct kwh_field patch_fields[] = {
    {.name = "name", .type = KWH_STR, .max = 200, .offset = offsetof(struct endpoint_unit, e.name)},
    {.name = "kind", .type = KWH_STR, .max = 16, .offset = offsetof(struct endpoint_unit, e.kind)},
    {.name = "url", .type = KWH_STR, .max = 2000, .offset = offsetof(struct endpoint_unit, e.url)},
    {.name = "secret", .type = KWH_ANY, .offset = offsetof(struct endpoint_unit, secret)},
    {.name = "events", .type = KWH_ANY, .offset = offsetof(struct endpoint_unit, events)},
    {.name = "org_id",
     .type = KWH_ID,
     .nullable = true,
     .offset = offsetof(struct endpoint_unit, e.org_id)},
    {.name = "team_id",
     .type = KWH_ID,
     .nullable = true,
     .offset = offsetof(struct endpoint_unit, e.team_id)},
    {.name = "active", .type = KWH_BOOL, .offset = offsetof(struct endpoint_unit, e.active)},
};

/* PATCH /endpoints/{id}: change what is sent; the rest stays. "secret":
 * null removes it; org_id, team_id: null means any. */
struct kwh_reply kwh_endpoint_patch(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    struct endpoint_copy cur = {.keep = NULL};
    if (kw_store_endpoints(x->wk->st, x->arg.id, endpoint_copy, &cur, &err) != KW_OK)
        return kwh_problem(&err);
    kw_store_end_read(x->wk->st);
    if (!cur.keep)
        return kwh_problemf(KW_NOT_FOUND, "", "no endpoint %lld", (long long)x->arg.id);
    json_t *j = kwh_body_object(x, &out);
    char *events = NULL;
    if (!j) {
        json_decref(cur.keep);
        return out;
    }
    struct endpoint_unit u = {.e = cur.e, .now = x->now, .edit = true, .who = kwh_actor(x)};
    u.e.secret = NULL; /* kept: has_secret */
    if (!kwh_decode(j, patch_fields, KWH_NFIELDS(patch_fields), &u, &out) ||
        !events_of(u.events, &events, &out))
        goto done;
    if (u.events)
        u.e.events = events;
    if (u.e.org_id < 0)
        u.e.org_id = 0;
    if (u.e.team_id < 0)
        u.e.team_id = 0;
    if (u.secret && json_is_null(u.secret)) {
        u.e.has_secret = false;
    } else if (u.secret && (!json_is_string(u.secret) || !json_string_length(u.secret) ||
                            json_string_length(u.secret) > 200)) {
        out = kwh_problem_of(KW_INVALID, "/secret",
                             "secret: expected a string of 1 to 200 bytes, or null to remove it");
        goto done;
    } else if (u.secret) {
        u.e.secret = json_string_value(u.secret);
        u.e.has_secret = true;
    }
    if (endpoint_check(&u.e, &out) && kwh_write_unit(x, endpoint_unit, &u, &out))
        out = kwh_ok(200, kwh_endpoint_json(&u.e));
done:
    free(events);
    json_decref(j);
    json_decref(cur.keep);
    return out;
}

static enum kw_code delete_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    const struct kwh_call *x = ctx;
    char *before = NULL;
    struct kw_actor who = kwh_actor(x);
    enum kw_code rc = kw_audit_before(st, "endpoint", x->arg.id, NULL, &before, err);
    if (rc == KW_OK)
        rc = kw_store_endpoint_delete(st, x->arg.id, x->now, err);
    if (rc == KW_OK)
        rc = kw_audit_after(st, &who, x->now, "endpoint", x->arg.id, NULL, "delete", before, err);
    free(before);
    return rc;
}

/* DELETE /endpoints/{id}: gone from the list; the outbox keeps its history. */
struct kwh_reply kwh_endpoint_delete(struct kwh_call *x)
{
    struct kwh_reply out;
    return kwh_write_unit(x, delete_unit, x, &out) ? kwh_ok(204, NULL) : out;
}

struct test_unit {
    int64_t id, now, row;
    char *payload;
    char key[64];
};

static enum kw_code test_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct test_unit *u = ctx;
    return kw_store_endpoint_test(st, u->id, u->payload, u->key, u->now, &u->row, err);
}

/* What became of the test so far. */
struct attempt {
    int64_t id;
    int attempts;
    char state[16], error[256];
    bool found;
};

static bool attempt_of(const struct kw_outbox_row *r, void *ctx)
{
    struct attempt *a = ctx;
    if (r->id == a->id) {
        a->found = true;
        a->attempts = r->attempts;
        snprintf(a->state, sizeof(a->state), "%s", r->state);
        snprintf(a->error, sizeof(a->error), "%s", r->last_error ? r->last_error : "");
    }
    return false;
}

/* POST /endpoints/{id}/test: a "test" notification through the outbox, as
 * every notification goes; the answer waits for the engine's first attempt
 * (up to the delivery timeout and a little) and says what became of it. */
struct kwh_reply kwh_endpoint_test(struct kwh_call *x)
{
    int64_t id = x->arg.id;
    struct kwh_reply out;
    char at[KW_INSTANT_BUF];
    kw_instant_format_utc(x->now, at);
    struct test_unit u = {.id = id, .now = x->now};
    /* each test is its own delivery, even two in one second (a double
     * click): the key takes the real clock's nanoseconds too */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(u.key, sizeof(u.key), "test-%lld-%lld.%09ld", (long long)id, (long long)x->now,
             (long)ts.tv_nsec);
    json_t *p = json_pack("{s:s, s:s, s:I}", "kind", "test", "at", at, "by", (json_int_t)x->me.id);
    u.payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!u.payload)
        return kwh_problem_of(KW_NOMEM, "", "no memory");
    if (!kwh_write_unit(x, test_unit, &u, &out)) {
        free(u.payload);
        return out;
    }
    free(u.payload);
    kw_engine_kick(x->h->engine);
    struct attempt a = {.id = u.row};
    struct kw_err err = {0};
    for (int waited = 0; waited < KW_DELIVER_TIMEOUT_MS + 5000; waited += 50) {
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
        a.found = false;
        enum kw_code rc =
            kw_store_outbox_list(x->wk->st, NULL, 0, u.row - 1, 1, attempt_of, &a, &err);
        kw_store_end_read(x->wk->st);
        if (rc != KW_OK)
            return kwh_problem(&err);
        if (a.found && a.attempts > 0)
            break;
    }
    bool tried = a.found && a.attempts > 0, ok = tried && strcmp(a.state, "delivered") == 0;
    return kwh_ok(tried ? 200 : 202,
                  json_pack("{s:I, s:I, s:s, s:s, s:b, s:o}", "endpoint", (json_int_t)id, "id",
                            (json_int_t)u.row, "key", u.key, "state", a.found ? a.state : "pending",
                            "delivered", ok, "error",
                            tried && !ok && a.error[0] ? json_string(a.error) : json_null()));
}

struct kwh_reply kwh_endpoints_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kwh_page pg;
    kwh_page_init(&pg, KWH_ALL);
    if (kw_store_endpoints(x->wk->st, 0, endpoint_add, &pg, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    return kwh_ok(200, kwh_page_json(&pg, "endpoints"));
}

/* ---- the outbox ---- */

static bool outbox_add(const struct kw_outbox_row *r, void *ctx)
{
    if (!kwh_page_room(ctx))
        return false;
    json_t *payload = json_loads(r->payload ? r->payload : "null", JSON_DECODE_ANY, NULL);
    /* a report's PDF is mailed, not listed: its size stays */
    json_object_del(json_object_get(payload, "attachment"), "base64");
    return kwh_page_push(
        ctx, r->id,
        json_pack("{s:I, s:I, s:s, s:o, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o}", "id",
                  (json_int_t)r->id, "endpoint_id", (json_int_t)r->endpoint_id, "kind", r->kind,
                  "ticket_id", kwh_id_or_null(r->ticket_id), "key", r->key, "state", r->state,
                  "attempts", r->attempts, "next_at",
                  strcmp(r->state, "pending") == 0 ? kwh_instant_json(r->next_at) : json_null(),
                  "last_error", kwh_nullable(r->last_error), "created_at",
                  kwh_instant_json(r->created_at), "delivered_at",
                  kwh_instant_json(r->delivered_at), "payload", payload ? payload : json_null()));
}

struct retry_unit {
    int64_t id, now;
};

static enum kw_code retry_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct retry_unit *u = ctx;
    return kw_store_outbox_retry(st, u->id, u->now, err);
}

struct kwh_reply kwh_outbox_list(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    const char *state = kwh_query(x, "state");
    struct kwh_page pg;
    long long ticket = 0, after;
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "delivered") != 0 &&
        strcmp(state, "dead") != 0)
        return kwh_problem_of(KW_INVALID, "", "state: expected pending, delivered or dead");
    if (!kwh_query_int(x, "ticket_id", 1, INT64_MAX, &ticket, &out) ||
        !kwh_page_query(x, &pg, &after, &out))
        return out;
    if (kw_store_outbox_list(x->wk->st, state, ticket, after, pg.limit + 1, outbox_add, &pg,
                             &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    return kwh_ok(200, kwh_page_json(&pg, "notifications"));
}

/* POST /outbox/{id}/retry: a dead letter back to pending. */
struct kwh_reply kwh_outbox_retry(struct kwh_call *x)
{
    struct kwh_reply out;
    struct retry_unit u = {x->arg.id, x->now};
    if (!kwh_write_unit(x, retry_unit, &u, &out))
        return out;
    kw_engine_kick(x->h->engine);
    return kwh_ok(202, json_pack("{s:I, s:s}", "id", (json_int_t)x->arg.id, "state", "pending"));
}

/* ---- people's subscriptions ---- */

static bool subscription_add(const struct kw_subscription *s, void *ctx)
{
    return kwh_page_push(ctx, s->id, kwh_subscription_json(s));
}

struct sub_unit {
    struct kw_subscription s;
    int64_t user;                  /* as sent, or 0 */
    json_t *events, *quiet, *lang; /* as sent */
    int64_t now, id;
};

/* A customer's subscription is to their own organisation's tickets (the
 * org_id filter is theirs, set when not given) and to no team of the
 * provider's: what reaches them is what they may read. */
static enum kw_code sub_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct sub_unit *u = ctx;
    struct kw_user_row who;
    enum kw_code rc = kw_store_user_get(st, u->s.user_id, &who, err);
    if (rc == KW_NOT_FOUND)
        return kw_err_set(err, KW_NOT_FOUND, "/user_id", "user_id: no user %lld",
                          (long long)u->s.user_id);
    if (rc != KW_OK)
        return rc;
    if (strcmp(who.role, "customer") == 0) {
        if (u->s.org_id && u->s.org_id != who.org_id)
            return kw_err_set(err, KW_FORBIDDEN, "/org_id",
                              "org_id: a customer subscribes only to their own organisation's "
                              "tickets (organisation %lld)",
                              (long long)who.org_id);
        if (u->s.team_id)
            return kw_err_set(err, KW_INVALID, "/team_id",
                              "team_id: teams are the provider's; a customer's subscription "
                              "names none");
        u->s.org_id = who.org_id;
    }
    return kw_store_subscription_put(st, &u->s, u->now, &u->id, err);
}

struct sub_delete {
    int64_t id, user;
};

static enum kw_code sub_delete_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct sub_delete *d = ctx;
    return kw_store_subscription_delete(st, d->id, d->user, err);
}

/* "quiet_hours": {"tz", "from", "to"} into s; absent leaves none. */
static bool quiet_of(struct kwh_call *x, json_t *q, struct kw_subscription *s,
                     struct kwh_reply *fail)
{
    struct kw_tzinfo tz;
    struct kw_err err = {0};
    if (!q || json_is_null(q))
        return true;
    const char *zone = json_string_value(json_object_get(q, "tz"));
    const char *from = json_string_value(json_object_get(q, "from"));
    const char *to = json_string_value(json_object_get(q, "to"));
    if (!json_is_object(q) || !zone ||
        kw_tzdb_get(kw_clocks_tzdb(x->h->clocks), zone, &tz, &err) != KW_OK) {
        *fail = kwh_problem_of(KW_INVALID, "/quiet_hours/tz",
                               "quiet_hours.tz: expected a time zone like \"Asia/Shanghai\"");
        return false;
    }
    if (!from || kw_tod_parse(from, strlen(from), &s->quiet_from, NULL) != KW_OK ||
        s->quiet_from >= 86400) {
        *fail = kwh_problem_of(KW_INVALID, "/quiet_hours/from",
                               "quiet_hours.from: expected a time of day like \"22:00\"");
        return false;
    }
    if (!to || kw_tod_parse(to, strlen(to), &s->quiet_to, NULL) != KW_OK || s->quiet_to >= 86400) {
        *fail = kwh_problem_of(KW_INVALID, "/quiet_hours/to",
                               "quiet_hours.to: expected a time of day like \"08:00\"");
        return false;
    }
    s->quiet_tz = zone;
    return true;
}

/* "lang": "zh" or "en" (null or absent: both languages). */
static bool lang_of(json_t *v, const char **lang, struct kwh_reply *fail)
{
    const char *s = json_string_value(v);
    *lang = NULL;
    if (!v || json_is_null(v))
        return true;
    if (s && (strcmp(s, "zh") == 0 || strcmp(s, "en") == 0)) {
        *lang = strcmp(s, "zh") == 0 ? "zh" : "en";
        return true;
    }
    *fail = kwh_problem_of(KW_INVALID, "/lang", "lang: expected \"zh\" or \"en\" (null: both)");
    return false;
}

static bool manager(const struct kwh_call *x)
{
    return x->me.role == R_ADMIN || x->me.role == R_MANAGER;
}

struct kwh_reply kwh_subscriptions_list(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    long long user = x->me.id;
    if (manager(x) && !kwh_query_int(x, "user_id", 0, INT64_MAX, &user, &out))
        return out;
    struct kwh_page pg;
    kwh_page_init(&pg, KWH_ALL);
    if (kw_store_subscriptions(x->wk->st, user, subscription_add, &pg, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    return kwh_ok(200, kwh_page_json(&pg, "subscriptions"));
}

static const struct kwh_field sub_fields[] = {
    {.name = "endpoint_id", .type = KWH_ID, .offset = offsetof(struct sub_unit, s.endpoint_id)},
    {.name = "events", .type = KWH_ANY, .offset = offsetof(struct sub_unit, events)},
    {.name = "org_id", .type = KWH_ID, .offset = offsetof(struct sub_unit, s.org_id)},
    {.name = "team_id", .type = KWH_ID, .offset = offsetof(struct sub_unit, s.team_id)},
    {.name = "user_id", .type = KWH_ID, .offset = offsetof(struct sub_unit, user)},
    {.name = "quiet_hours", .type = KWH_ANY, .offset = offsetof(struct sub_unit, quiet)},
    {.name = "lang", .type = KWH_ANY, .offset = offsetof(struct sub_unit, lang)},
};

struct kwh_reply kwh_subscriptions_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct sub_unit u = {.s = {.user_id = x->me.id}, .now = x->now};
    char *events = NULL;
    if (!kwh_decode(j, sub_fields, KWH_NFIELDS(sub_fields), &u, &out) ||
        !events_of(u.events, &events, &out) || !quiet_of(x, u.quiet, &u.s, &out) ||
        !lang_of(u.lang, &u.s.lang, &out)) {
        /* out says why */
    } else if (u.user && u.user != x->me.id && !manager(x)) {
        /* before "missing" below, as ever: whose subscription it is comes first */
        out = kwh_problem_of(KW_FORBIDDEN, "/user_id",
                             "user_id: managers subscribe others; you subscribe yourself");
    } else if (!u.s.endpoint_id) {
        out = kwh_problem_of(KW_INVALID, "/endpoint_id",
                             "endpoint_id: missing (the channel, e.g. the e-mail endpoint)");
    } else {
        u.s.events = events;
        if (u.user)
            u.s.user_id = u.user;
        if (kwh_write_unit(x, sub_unit, &u, &out)) {
            u.s.id = u.id;
            out = kwh_ok(201, kwh_subscription_json(&u.s));
        }
    }
    free(events);
    json_decref(j);
    return out;
}

/* DELETE /subscriptions/{id}: one's own; managers anyone's. */
struct kwh_reply kwh_subscription_delete(struct kwh_call *x)
{
    struct kwh_reply out;
    struct sub_delete d = {x->arg.id, manager(x) ? 0 : x->me.id};
    return kwh_write_unit(x, sub_delete_unit, &d, &out) ? kwh_ok(204, NULL) : out;
}
