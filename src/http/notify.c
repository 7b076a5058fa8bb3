// SPDX-License-Identifier: MIT
/* /api/v1/endpoints and /api/v1/outbox: where notifications go, and what
 * became of them (the provider's managers only). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "internal.h"

static const char *const kinds[] = {"sla_warning", "sla_breach", "escalation", "overrun_notice",
                                    "test"};

static bool endpoint_add(const struct kw_endpoint *e, void *ctx)
{
    return kwh_page_push(ctx, e->id, kwh_endpoint_json(e));
}

/* "events": a list of the kinds above (empty or absent: all), as text. */
static bool events_of(json_t *v, char **out, struct kwh_reply *fail)
{
    json_t *k;
    size_t i;
    *out = NULL;
    if (!v)
        return true;
    if (!json_is_array(v)) {
        *fail = kwh_problem_of(KW_INVALID, "/events", "events: expected a list of event kinds");
        return false;
    }
    json_array_foreach(v, i, k)
    {
        bool known = false;
        for (size_t n = 0; json_is_string(k) && n < sizeof(kinds) / sizeof(kinds[0]); n++)
            known = known || strcmp(json_string_value(k), kinds[n]) == 0;
        if (!known) {
            char ptr[32];
            snprintf(ptr, sizeof(ptr), "/events/%zu", i);
            *fail = kwh_problemf(
                KW_INVALID, ptr,
                "events[%zu]: expected sla_warning, sla_breach, escalation, overrun_notice or test",
                i);
            return false;
        }
    }
    *out = json_dumps(v, JSON_COMPACT);
    return *out != NULL;
}

struct endpoint_unit {
    struct kw_endpoint e;
    json_t *events; /* as sent */
    int64_t now, id;
};

static enum kw_code endpoint_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct endpoint_unit *u = ctx;
    return kw_store_endpoint_add(st, &u->e, u->now, &u->id, err);
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
    struct endpoint_unit u = {.now = x->now};
    char *events = NULL;
    if (!kwh_decode(j, endpoint_fields, KWH_NFIELDS(endpoint_fields), &u, &out) ||
        !events_of(u.events, &events, &out))
        goto done;
    u.e.events = events;
    if (!u.e.kind)
        u.e.kind = "webhook";
    if (strcmp(u.e.kind, "webhook") != 0 && strcmp(u.e.kind, "dingtalk") != 0 &&
        strcmp(u.e.kind, "feishu") != 0 && strcmp(u.e.kind, "wecom") != 0 &&
        strcmp(u.e.kind, "email") != 0) {
        out = kwh_problem_of(KW_INVALID, "/kind",
                             "kind: expected webhook, dingtalk, feishu, wecom or email");
    } else if (strcmp(u.e.kind, "email") == 0 &&
               (!u.e.url ||
                (strncmp(u.e.url, "smtp://", 7) != 0 && strncmp(u.e.url, "smtps://", 8) != 0) ||
                !strstr(u.e.url, "from=") || !mail_lang_ok(u.e.url))) {
        out = kwh_problem_of(KW_INVALID, "/url",
                             "url: expected smtp[s]://HOST[:PORT]/?from=ADDRESS[&to=ADDRESS,...]"
                             "[&starttls=1][&lang=zh|en]");
    } else if (strcmp(u.e.kind, "email") != 0 &&
               (!u.e.url ||
                (strncmp(u.e.url, "http://", 7) != 0 && strncmp(u.e.url, "https://", 8) != 0))) {
        out = kwh_problem_of(KW_INVALID, "/url", "url: expected an http:// or https:// URL");
    } else if (kwh_write_unit(x, endpoint_unit, &u, &out)) {
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

struct test_unit {
    int64_t id, now;
    char *payload;
    char key[64];
};

static enum kw_code test_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct test_unit *u = ctx;
    return kw_store_endpoint_test(st, u->id, u->payload, u->key, u->now, err);
}

/* POST /endpoints/{id}/test: a "test" notification through the outbox. */
struct kwh_reply kwh_endpoint_test(struct kwh_call *x)
{
    int64_t id = x->arg.id;
    struct kwh_reply out;
    char at[KW_INSTANT_BUF];
    kw_instant_format_utc(x->now, at);
    struct test_unit u = {id, x->now, NULL, ""};
    snprintf(u.key, sizeof(u.key), "test-%lld-%lld", (long long)id, (long long)x->now);
    json_t *p = json_pack("{s:s, s:s, s:I}", "kind", "test", "at", at, "by", (json_int_t)x->me.id);
    u.payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!u.payload)
        return kwh_problem_of(KW_NOMEM, "", "no memory");
    if (kwh_write_unit(x, test_unit, &u, &out)) {
        kw_engine_kick(x->h->engine);
        out = kwh_ok(202, json_pack("{s:I, s:s}", "endpoint", (json_int_t)id, "key", u.key));
    }
    free(u.payload);
    return out;
}

struct kwh_reply kwh_endpoints_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kwh_page pg;
    kwh_page_init(&pg, KWH_ALL);
    if (kw_store_endpoints(x->wk->st, endpoint_add, &pg, &err) != KW_OK) {
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

static enum kw_code sub_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct sub_unit *u = ctx;
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
