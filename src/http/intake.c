// SPDX-License-Identifier: MIT
/*
 * intake.c - monitoring alerts over HTTP (app/intake.h, docs/channels.md):
 * the intake endpoints for Alertmanager, Grafana and the generic events API,
 * each authenticated by its source's own key (Authorization: Bearer KEY, or
 * routing_key in an events body), with a per-source rate (a token bucket of
 * per_minute events a minute) and a body limit of KWH_INTAKE_MAX_BODY; and
 * the managers' administration of the sources (the key is shown once).
 * The intake runs on its I/O thread (kwh_writes_inline): it reads the source
 * and parses there, and its connection waits suspended for the writer's
 * commit (kwh_write_async), no thread with it.
 * Creating, changing and stopping a source are audit entries (kind
 * "intake_source", docs/policy.md "The audit trail"); the key is never in
 * them, not even its digest ("key": "(set)").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intake.h"
#include "internal.h"
#include "kw_crypto.h"
#include "watch.h"

#define NAME_MAX_BYTES 100
#define RULES_MAX_BYTES 16384

/* ---- the rate: one token bucket per source, in a small table ---- */

/* Whether source id may send one more payload at now_ms (milliseconds on
 * CLOCK_MONOTONIC) at per_minute payloads a minute, a burst of as many;
 * else *retry_s gets when to try again. Slots are reused by the least
 * recently used source when the table is full. */
static bool rate_take(struct kw_http *h, int64_t id, int64_t per_minute, int64_t now_ms,
                      unsigned *retry_s)
{
    pthread_mutex_lock(&h->intake_mu);
    struct kwh_intake_bucket *b = NULL, *oldest = &h->intake_rate[0];
    for (size_t i = 0; i < KWH_INTAKE_BUCKETS && !b; i++) {
        struct kwh_intake_bucket *s = &h->intake_rate[i];
        if (s->source == id)
            b = s;
        else if (s->at_ms < oldest->at_ms)
            oldest = s;
    }
    if (!b) {
        b = oldest;
        *b =
            (struct kwh_intake_bucket){.source = id, .tokens = (double)per_minute, .at_ms = now_ms};
    }
    double rate = (double)per_minute / 60000.0; /* tokens a millisecond */
    b->tokens += (double)(now_ms - b->at_ms) * rate;
    if (b->tokens > (double)per_minute)
        b->tokens = (double)per_minute;
    b->at_ms = now_ms;
    bool ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    else
        *retry_s = (unsigned)((1.0 - b->tokens) / rate / 1000.0) + 1;
    pthread_mutex_unlock(&h->intake_mu);
    return ok;
}

/* ---- the intake ---- */

/* A source as read, copied out of the reader's row. */
struct source_copy {
    struct kw_intake_source s;
    char name[NAME_MAX_BYTES + 1], kind[16], category[48], level[48], on_resolve[16];
    json_t *rules; /* owned */
};

static void source_copy_of(const struct kw_intake_source *s, struct source_copy *c)
{
    c->s = *s;
    snprintf(c->name, sizeof(c->name), "%s", s->name);
    snprintf(c->kind, sizeof(c->kind), "%s", s->kind);
    snprintf(c->category, sizeof(c->category), "%s", s->category ? s->category : "");
    snprintf(c->level, sizeof(c->level), "%s", s->level);
    snprintf(c->on_resolve, sizeof(c->on_resolve), "%s", s->on_resolve);
    c->s.name = c->name;
    c->s.kind = c->kind;
    c->s.category = s->category ? c->category : NULL;
    c->s.level = c->level;
    c->s.on_resolve = c->on_resolve;
    c->s.rules = NULL;
    c->rules = json_loads(s->rules ? s->rules : "[]", 0, NULL);
    if (!c->rules)
        c->rules = json_array();
}

/* One intake request from its parse to its reply: on the heap, since its
 * unit may commit after the handler returned (kwh_write_async). */
struct intake_call {
    struct kw_http *h;
    struct kw_actor who;
    struct kw_intake src;
    struct source_copy sc;
    json_t *body; /* owned: the alerts' strings point into it */
    struct kw_alerts as;
    struct kw_alert_out *outs;
    int64_t now;
    bool events;
};

static void intake_call_free(struct intake_call *c)
{
    if (!c)
        return;
    free(c->outs);
    kw_alerts_release(&c->as);
    json_decref(c->sc.rules);
    json_decref(c->body);
    free(c);
}

static enum kw_code intake_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct intake_call *c = ctx;
    for (size_t i = 0; i < c->as.n; i++) {
        struct kw_unit u = {.st = st,
                            .clocks = c->h->clocks,
                            .sla = &c->h->wsla,
                            .now = c->now,
                            .fire_at = KW_STORE_NO_TIME};
        enum kw_code rc = kw_intake_apply(&u, &c->who, &c->src, &c->as.a[i], &c->outs[i], err);
        if (rc != KW_OK) {
            if (c->as.n > 1 && !strchr(err->msg, '[')) { /* say which alert */
                char msg[sizeof(err->msg)];
                memcpy(msg, err->msg, sizeof(msg));
                int k = snprintf(err->msg, sizeof(err->msg), "alerts[%zu]: ", i);
                if (k > 0 && (size_t)k < sizeof(err->msg))
                    snprintf(err->msg + k, sizeof(err->msg) - (size_t)k, "%.*s",
                             (int)(sizeof(err->msg) - (size_t)k - 1), msg);
            }
            return rc;
        }
    }
    return KW_OK;
}

/* The 202 of a committed payload (or the unit's problem); frees c. */
static struct kwh_reply intake_reply(void *ctx, enum kw_code rc, const struct kw_err *err,
                                     struct kwh_req *r)
{
    struct intake_call *c = ctx;
    struct kwh_reply out;
    if (rc != KW_OK) {
        out = kwh_problem(err);
        intake_call_free(c);
        return out;
    }
    json_t *results = json_array();
    for (size_t i = 0; i < c->as.n; i++) {
        const struct kw_alert_out *o = &c->outs[i];
        if (o->ticket)
            kw_engine_schedule(c->h->engine, o->ticket, o->fire_at);
        json_array_append_new(results,
                              json_pack("{s:s, s:s, s:o}", "dedup_key", c->as.a[i].key, "outcome",
                                        o->outcome, "ticket_id", kwh_id_or_null(o->ticket)));
        if (strcmp(o->outcome, "ignored") != 0)
            kwh_log_held(c->h, r, "mod=intake event=alert.%s source=%lld ticket=%lld", o->outcome,
                         (long long)c->sc.s.id, (long long)o->ticket);
    }
    json_t *body = json_pack("{s:s, s:s, s:o}", "status", "success", "message", "Event processed",
                             "results", results);
    if (c->events && c->as.n == 1) /* PagerDuty's answer names the key (made when none was given) */
        json_object_set_new(body, "dedup_key", json_string(c->as.a[0].key));
    out = kwh_ok(202, body);
    intake_call_free(c);
    return out;
}

/* The key the request came with: Authorization: Bearer KEY, or (events)
 * the body's routing_key. */
static const char *key_of(struct kwh_call *x, json_t *body, bool events)
{
    const char *a = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Authorization");
    if (a && strncasecmp(a, "Bearer ", 7) == 0 && a[7])
        return a + 7;
    return events ? json_string_value(json_object_get(body, "routing_key")) : NULL;
}

bool kwh_writes_inline(const char *method, const char *url)
{
    static const char pre[] = "/api/v1/intake/";
    if (strcmp(method, "POST") != 0)
        return false;
    if (strcmp(url, "/api/v1/tickets") == 0) /* tickets.c, ticket_create */
        return true;
    if (strncmp(url, pre, sizeof(pre) - 1) != 0)
        return false;
    const char *k = url + sizeof(pre) - 1;
    return strcmp(k, "events") == 0 || strcmp(k, "alertmanager") == 0 || strcmp(k, "grafana") == 0;
}

static struct kwh_reply intake(struct kwh_call *x, const char *kind)
{
    struct kwh_reply out;
    bool events = strcmp(kind, "events") == 0;
    if (x->r->body.len > KWH_INTAKE_MAX_BODY)
        return kwh_problemf(KW_TOO_BIG, "", "the payload is %zu bytes (at most %u)", x->r->body.len,
                            KWH_INTAKE_MAX_BODY);
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct intake_call *c = calloc(1, sizeof(*c));
    if (!c) {
        json_decref(j);
        return kwh_problem_of(KW_NOMEM, "", "out of memory");
    }
    *c = (struct intake_call){.h = x->h, .body = j, .now = x->now, .events = events};
    struct source_copy *sc = &c->sc;
    struct kw_err err = {0};
    const char *key = key_of(x, j, events);
    if (!key) {
        out = kwh_problem_of(KW_UNAUTHENTICATED, events ? "/routing_key" : "",
                             events ? "routing_key: missing (the source's intake key)"
                                    : "send the source's intake key: Authorization: Bearer KEY");
        goto fail;
    }
    unsigned char digest[KW_HASH_BYTES];
    kw_token_digest(key, digest);
    struct kw_intake_source s;
    if (strlen(key) >= KW_TOKEN_BUF ||
        kw_store_intake_get(x->wk->st, digest, 0, &s, &err) != KW_OK || !s.active) {
        out = kwh_problem_of(KW_UNAUTHENTICATED, events ? "/routing_key" : "",
                             "the intake key is unknown or its source was stopped");
        goto fail;
    }
    source_copy_of(&s, sc);
    if (strcmp(sc->kind, kind) != 0) {
        out = kwh_problemf(KW_INVALID, "",
                           "this key is for a source of kind %s: post to "
                           "/api/v1/intake/%s",
                           sc->kind, sc->kind);
        goto fail;
    }
    unsigned retry = 0;
    if (!rate_take(x->h, sc->s.id, sc->s.per_minute, kwh_mono_ms(), &retry)) {
        out = kwh_problemf(KW_TOO_MANY, "", "source %s sent more than %lld payloads a minute",
                           sc->name, (long long)sc->s.per_minute);
        out.retry_after_s = retry;
        goto fail;
    }
    struct kw_user_row u;
    if (kw_store_user_get(x->wk->st, sc->s.acting_user, &u, &err) != KW_OK || !u.active ||
        (strcmp(u.role, "admin") != 0 && strcmp(u.role, "manager") != 0)) {
        out = kwh_problemf(KW_FORBIDDEN, "",
                           "source %s acts for user %lld, who is no longer an active manager "
                           "(create the source again)",
                           sc->name, (long long)sc->s.acting_user);
        goto fail;
    }
    c->who =
        (struct kw_actor){.id = u.id,
                          .team_id = u.team_id,
                          .role = strcmp(u.role, "admin") == 0 ? KW_ROLE_ADMIN : KW_ROLE_MANAGER};
    if (kw_intake_parse(kind, j, &c->as, &err) != KW_OK) {
        out = kwh_problem(&err);
        goto fail;
    }
    if (c->as.n && !(c->outs = calloc(c->as.n, sizeof(*c->outs)))) {
        out = kwh_problem_of(KW_NOMEM, "", "out of memory");
        goto fail;
    }
    c->src = (struct kw_intake){.id = sc->s.id,
                                .org_id = sc->s.org_id,
                                .team_id = sc->s.team_id,
                                .name = sc->name,
                                .category = sc->s.category,
                                .level = sc->level,
                                .rules = sc->rules,
                                .restore = strcmp(sc->on_resolve, "restored") == 0};
    if (!c->as.n)
        return intake_reply(c, KW_OK, NULL, x->req);
    /* on an I/O thread (kwh_writes_inline) the connection waits suspended
     * for the commit, and the reply is made when the writer resumes it */
    if (kwh_write_async(x, intake_unit, c, intake_reply, &out))
        return (struct kwh_reply){0};
    return out;
fail:
    intake_call_free(c);
    return out;
}

struct kwh_reply kwh_intake_alertmanager(struct kwh_call *x)
{
    return intake(x, "alertmanager");
}

struct kwh_reply kwh_intake_grafana(struct kwh_call *x)
{
    return intake(x, "grafana");
}

struct kwh_reply kwh_intake_events(struct kwh_call *x)
{
    return intake(x, "events");
}

/* ---- administration ---- */

static json_t *source_json(const struct kw_intake_source *s)
{
    json_t *rules = json_loads(s->rules ? s->rules : "[]", 0, NULL);
    return json_pack("{s:I, s:s, s:s, s:I, s:o, s:o, s:s, s:o, s:s, s:I, s:b, s:o, s:s}", "id",
                     (json_int_t)s->id, "name", s->name, "kind", s->kind, "org_id",
                     (json_int_t)s->org_id, "team_id", kwh_id_or_null(s->team_id), "category",
                     kwh_nullable(s->category), "level", s->level, "rules",
                     rules ? rules : json_array(), "on_resolve", s->on_resolve, "per_minute",
                     (json_int_t)s->per_minute, "active", s->active, "created_at",
                     kwh_instant_json(s->created_at), "url_path",
                     strcmp(s->kind, "alertmanager") == 0 ? "/api/v1/intake/alertmanager"
                     : strcmp(s->kind, "grafana") == 0    ? "/api/v1/intake/grafana"
                                                          : "/api/v1/intake/events");
}

static bool push_source(const struct kw_intake_source *s, void *ctx)
{
    json_array_append_new(ctx, source_json(s));
    return true;
}

struct kwh_reply kwh_intake_sources_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    json_t *list = json_array();
    if (kw_store_intakes(x->wk->st, push_source, list, &err) != KW_OK) {
        json_decref(list);
        return kwh_problem(&err);
    }
    return kwh_ok(200, json_pack("{s:o}", "sources", list));
}

/* ---- the audit trail: a source's settings before and after ---- */

/* Source id as an audit snapshot, read in the unit (caller frees; NULL
 * when there is no such source): what a manager set, the rules nested as
 * JSON, never the key nor its digest ("key": key, "(set)" or "(changed)"). */
static enum kw_code source_snapshot(struct kw_store *st, int64_t id, const char *key, char **json,
                                    struct kw_err *err)
{
    *json = NULL;
    struct kw_intake_source s;
    enum kw_code rc = kw_store_intake_get(st, NULL, id, &s, err);
    if (rc == KW_NOT_FOUND)
        return KW_OK;
    if (rc != KW_OK)
        return rc;
    json_t *rules = json_loads(s.rules ? s.rules : "[]", 0, NULL);
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:I, s:o, s:o, s:s, s:o, s:s, s:I, s:b, s:I}", "id", (json_int_t)s.id,
        "name", s.name, "kind", s.kind, "key", key, "org_id", (json_int_t)s.org_id, "team_id",
        kwh_id_or_null(s.team_id), "category", kwh_nullable(s.category), "level", s.level, "rules",
        rules ? rules : json_array(), "on_resolve", s.on_resolve, "per_minute",
        (json_int_t)s.per_minute, "active", s.active, "acting_user", (json_int_t)s.acting_user);
    *json = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return *json ? KW_OK : kw_err_set(err, KW_NOMEM, "", "no memory for the audit trail");
}

/* Write the entry of a change to source id made in this unit: before (NULL
 * for a new one, borrowed) and the source as it is now; nothing when the
 * change left it as it was. */
static enum kw_code source_audit(struct kw_store *st, const struct kw_actor *who, int64_t now,
                                 int64_t id, const char *action, const char *before,
                                 const char *key, struct kw_err *err)
{
    char *after = NULL;
    enum kw_code rc = source_snapshot(st, id, key, &after, err);
    if (rc == KW_OK && !(before && after && strcmp(before, after) == 0))
        rc = kw_audit(st, who, now, "intake_source", id, action, before, after, err);
    free(after);
    return rc;
}

struct source_unit {
    struct kw_intake_source s;
    unsigned char digest[KW_HASH_BYTES];
    json_t *rules; /* borrowed from the body */
    int64_t id, now;
    struct kw_actor who;
};

static enum kw_code source_insert(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct source_unit *c = ctx;
    enum kw_code rc = kw_store_intake_insert(st, &c->s, c->digest, &c->id, err);
    return rc == KW_OK ? source_audit(st, &c->who, c->now, c->id, "create", NULL, "(set)", err)
                       : rc;
}

#define SRC(m) offsetof(struct source_unit, s.m)
static const struct kwh_field source_fields[] = {
    {.name = "name", .type = KWH_STR, .required = true, .max = NAME_MAX_BYTES, .offset = SRC(name)},
    {.name = "kind",
     .type = KWH_STR,
     .required = true,
     .max = 15,
     .offset = SRC(kind),
     .missing = "missing (alertmanager, grafana or events)"},
    {.name = "org_id", .type = KWH_ID, .required = true, .offset = SRC(org_id)},
    {.name = "team_id", .type = KWH_ID, .offset = SRC(team_id)},
    {.name = "category", .type = KWH_STR, .max = 47, .offset = SRC(category)},
    {.name = "level", .type = KWH_STR, .required = true, .max = 47, .offset = SRC(level)},
    {.name = "rules", .type = KWH_ANY, .offset = offsetof(struct source_unit, rules)},
    {.name = "on_resolve", .type = KWH_STR, .max = 15, .offset = SRC(on_resolve)},
    {.name = "per_minute", .type = KWH_INT, .lo = 1, .hi = 60000, .offset = SRC(per_minute)},
};
#undef SRC

static bool team_seen(const struct kw_named_row *r, void *ctx)
{
    (void)r;
    *(bool *)ctx = true;
    return false;
}

/* Whether organisation org and team (0: none) exist; 404 naming field. */
static bool refs_exist(struct kwh_call *x, int64_t org, int64_t team, const char *where,
                       struct kwh_reply *fail)
{
    struct kw_err err = {0};
    struct kw_org o;
    if (org && kw_store_org_get(x->wk->st, org, &o, &err) != KW_OK) {
        *fail =
            kwh_problemf(KW_INVALID, "", "%sorg_id: no organisation %lld", where, (long long)org);
        return false;
    }
    bool seen = false;
    if (team && (kw_store_teams(x->wk->st, team, team_seen, &seen, &err) != KW_OK || !seen)) {
        *fail = kwh_problemf(KW_INVALID, "", "%steam_id: no team %lld", where, (long long)team);
        return false;
    }
    return true;
}

/* Check a source's on_resolve, its rules (NULL: none) and the organisations
 * and teams it names; *rules_text gets the rules to store (caller frees; the
 * empty list when NULL). false with the problem. */
static bool source_check(struct kwh_call *x, const struct kw_intake_source *s, json_t *rules,
                         char **rules_text, struct kwh_reply *out)
{
    struct kw_err err = {0};
    if (strcmp(s->on_resolve, "restored") != 0 && strcmp(s->on_resolve, "comment") != 0) {
        *out =
            kwh_problem_of(KW_INVALID, "/on_resolve", "on_resolve: expected restored or comment");
        return false;
    }
    if (rules && kw_intake_rules_check(rules, &err) != KW_OK) {
        if (!err.field[0]) { /* "rules[N].member: ..." points at /rules/N */
            size_t n = strtoul(err.msg + 6, NULL, 10);
            snprintf(err.field, sizeof(err.field), "/rules/%zu", n);
        }
        *out = kwh_problem(&err);
        return false;
    }
    if (!refs_exist(x, s->org_id, s->team_id, "", out))
        return false;
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        char where[32];
        snprintf(where, sizeof(where), "rules[%zu].", i);
        json_t *o = json_object_get(r, "org_id"), *t = json_object_get(r, "team_id");
        if (!refs_exist(x, o ? json_integer_value(o) : 0, t ? json_integer_value(t) : 0, where,
                        out))
            return false;
    }
    kw_store_end_read(x->wk->st);
    json_t *none = rules ? NULL : json_array();
    *rules_text = json_dumps(rules ? rules : none, JSON_COMPACT);
    json_decref(none);
    if (!*rules_text || strlen(*rules_text) > RULES_MAX_BYTES) {
        *out = kwh_problemf(KW_TOO_BIG, "/rules", "rules: more than %d bytes", RULES_MAX_BYTES);
        return false;
    }
    return true;
}

struct kwh_reply kwh_intake_sources_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct source_unit c = {.s = {.per_minute = 600, .on_resolve = "restored"}};
    char key[KW_TOKEN_BUF], *rules_text = NULL;
    struct kw_err err = {0};
    if (!kwh_decode(j, source_fields, KWH_NFIELDS(source_fields), &c, &out))
        goto done;
    if (strcmp(c.s.kind, "alertmanager") != 0 && strcmp(c.s.kind, "grafana") != 0 &&
        strcmp(c.s.kind, "events") != 0) {
        out = kwh_problem_of(KW_INVALID, "/kind", "kind: expected alertmanager, grafana or events");
        goto done;
    }
    if (c.rules && json_is_null(c.rules))
        c.rules = NULL;
    if (!source_check(x, &c.s, c.rules, &rules_text, &out))
        goto done;
    c.s.rules = rules_text;
    c.s.acting_user = x->me.id;
    c.s.created_at = x->now;
    c.s.active = true;
    if (kw_token_mint(key, &err) != KW_OK) {
        out = kwh_problem(&err);
        goto done;
    }
    kw_token_digest(key, c.digest);
    c.who = kwh_actor(x);
    c.now = x->now;
    if (kwh_write_unit(x, source_insert, &c, &out)) {
        c.s.id = c.id;
        if (!c.s.rules)
            c.s.rules = "[]";
        json_t *body = source_json(&c.s);
        json_object_set_new(body, "key", json_string(key));
        out = kwh_ok(201, body);
        kwh_log_event(x->h, "mod=intake event=source.created source=%lld kind=%s actor=%lld",
                      (long long)c.id, c.s.kind, (long long)x->me.id);
    }
done:
    free(rules_text);
    json_decref(j);
    return out;
}

struct stop_unit {
    int64_t id, now;
    struct kw_actor who;
};

static enum kw_code source_stop(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct stop_unit *c = ctx;
    char *before = NULL;
    enum kw_code rc = source_snapshot(st, c->id, "(set)", &before, err);
    if (rc == KW_OK)
        rc = kw_store_intake_deactivate(st, c->id, err);
    if (rc == KW_OK)
        rc = source_audit(st, &c->who, c->now, c->id, "deactivate", before, "(set)", err);
    free(before);
    return rc;
}

struct kwh_reply kwh_intake_source_delete(struct kwh_call *x)
{
    struct kwh_reply out;
    struct stop_unit c = {.id = x->arg.id, .now = x->now, .who = kwh_actor(x)};
    if (!kwh_write_unit(x, source_stop, &c, &out))
        return out;
    kwh_log_event(x->h, "mod=intake event=source.stopped source=%lld actor=%lld", (long long)c.id,
                  (long long)x->me.id);
    return kwh_ok(204, NULL);
}

/* ---- a new key for a source ---- */

struct rekey_unit {
    int64_t id, now;
    struct kw_actor who;
    unsigned char digest[KW_HASH_BYTES];
};

static enum kw_code source_rekey(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct rekey_unit *c = ctx;
    struct kw_intake_source s;
    enum kw_code rc = kw_store_intake_get(st, NULL, c->id, &s, err);
    if (rc != KW_OK)
        return rc == KW_NOT_FOUND ? kw_err_set(err, KW_NOT_FOUND, "", "no such alert source") : rc;
    if (!s.active)
        return kw_err_set(err, KW_CONFLICT, "",
                          "the alert source was stopped: create a new one instead");
    char *before = NULL;
    rc = source_snapshot(st, c->id, "(set)", &before, err);
    if (rc == KW_OK)
        rc = kw_store_intake_rekey(st, c->id, c->digest, err);
    if (rc == KW_OK)
        rc = source_audit(st, &c->who, c->now, c->id, "rekey", before, "(changed)", err);
    free(before);
    return rc;
}

/* POST /intake/sources/{id}/key: a new key, shown once in the answer; the
 * old key is refused from the commit on (a leaked key is replaced without
 * losing the source's alerts and their tickets). */
struct kwh_reply kwh_intake_source_rekey(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    struct rekey_unit c = {.id = x->arg.id, .now = x->now, .who = kwh_actor(x)};
    char key[KW_TOKEN_BUF];
    if (kw_token_mint(key, &err) != KW_OK)
        return kwh_problem(&err);
    kw_token_digest(key, c.digest);
    if (!kwh_write_unit(x, source_rekey, &c, &out))
        return out;
    struct kw_intake_source s;
    if (kw_store_intake_get(x->wk->st, NULL, c.id, &s, &err) != KW_OK)
        return kwh_problem(&err);
    json_t *body = source_json(&s);
    kw_store_end_read(x->wk->st);
    json_object_set_new(body, "key", json_string(key));
    kwh_log_event(x->h, "mod=intake event=source.rekeyed source=%lld actor=%lld", (long long)c.id,
                  (long long)x->me.id);
    return kwh_ok(200, body);
}

/* ---- PATCH: the mapping rules and defaults of a source ---- */

struct patch_unit {
    struct kw_intake_source s;
    json_t *rules, *category; /* borrowed from the body; category null clears it */
    int64_t now;
    struct kw_actor who;
};

#define PSRC(m) offsetof(struct patch_unit, s.m)
static const struct kwh_field patch_fields[] = {
    {.name = "name", .type = KWH_STR, .max = NAME_MAX_BYTES, .offset = PSRC(name)},
    {.name = "org_id", .type = KWH_ID, .offset = PSRC(org_id)},
    {.name = "team_id", .type = KWH_ID, .nullable = true, .offset = PSRC(team_id)},
    {.name = "category", .type = KWH_ANY, .offset = offsetof(struct patch_unit, category)},
    {.name = "level", .type = KWH_STR, .max = 47, .offset = PSRC(level)},
    {.name = "rules", .type = KWH_ANY, .offset = offsetof(struct patch_unit, rules)},
    {.name = "on_resolve", .type = KWH_STR, .max = 15, .offset = PSRC(on_resolve)},
    {.name = "per_minute", .type = KWH_INT, .lo = 1, .hi = 60000, .offset = PSRC(per_minute)},
};
#undef PSRC

static enum kw_code source_update(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct patch_unit *c = ctx;
    char *before = NULL;
    enum kw_code rc = source_snapshot(st, c->s.id, "(set)", &before, err);
    if (rc == KW_OK)
        rc = kw_store_intake_update(st, &c->s, err);
    if (rc == KW_OK)
        rc = source_audit(st, &c->who, c->now, c->s.id, "update", before, "(set)", err);
    free(before);
    return rc;
}

/* PATCH /intake/sources/{id}: change the defaults and the mapping rules
 * (rules replaces the whole list); kind and key stay. */
struct kwh_reply kwh_intake_source_patch(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    struct kw_intake_source row;
    if (kw_store_intake_get(x->wk->st, NULL, x->arg.id, &row, &err) != KW_OK)
        return kwh_problem(&err);
    struct source_copy cur;
    source_copy_of(&row, &cur);
    kw_store_end_read(x->wk->st);
    json_t *j = kwh_body_object(x, &out);
    char *rules_text = NULL;
    if (!j) {
        json_decref(cur.rules);
        return out;
    }
    struct patch_unit c = {.s = cur.s};
    if (!kwh_decode(j, patch_fields, KWH_NFIELDS(patch_fields), &c, &out))
        goto done;
    if (c.s.team_id < 0)
        c.s.team_id = 0;
    if (!kwh_str_or_null(c.category, "category", 47, &c.s.category, &out))
        goto done;
    json_t *rules = c.rules && !json_is_null(c.rules) ? c.rules : c.rules ? NULL : cur.rules;
    if (!source_check(x, &c.s, rules, &rules_text, &out))
        goto done;
    c.s.rules = rules_text;
    c.who = kwh_actor(x);
    c.now = x->now;
    if (kwh_write_unit(x, source_update, &c, &out)) {
        out = kwh_ok(200, source_json(&c.s));
        kwh_log_event(x->h, "mod=intake event=source.changed source=%lld actor=%lld",
                      (long long)c.s.id, (long long)x->me.id);
    }
done:
    free(rules_text);
    json_decref(j);
    json_decref(cur.rules);
    return out;
}
