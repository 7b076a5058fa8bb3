// SPDX-License-Identifier: MIT
/*
 * canned.c - canned replies (app/canned.h): /api/v1/canned for the teams'
 * texts, and /api/v1/tickets/{id}/canned for the replies a ticket's page
 * offers and one of them rendered for the ticket, its placeholders filled
 * with what the staff member may see, in the language asked for or the
 * requester's, times in the requester's zone.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canned.h"
#include "catalogue.h"
#include "internal.h"
#include "tz.h"
#include "workflow.h"

static json_t *canned_json(const struct kw_canned *c)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "id", (json_int_t)c->id,
                     "team_id", (json_int_t)c->team_id, "team", c->team ? c->team : "", "name",
                     c->name ? c->name : "", "body_zh", c->body_zh ? c->body_zh : "", "body_en",
                     c->body_en ? c->body_en : "", "created_by", (json_int_t)c->created_by,
                     "created_at", kwh_instant_json(c->created_at), "updated_at",
                     kwh_instant_json(c->updated_at));
}

static bool canned_add(const struct kw_canned *c, void *ctx)
{
    return json_array_append_new(ctx, canned_json(c)) == 0;
}

static json_t *placeholders(void)
{
    json_t *a = json_array();
    for (int f = 0; f < KW_CANNED_FIELD_COUNT; f++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "name",
                                           kw_canned_placeholder((enum kw_canned_field)f), "about",
                                           kw_canned_placeholder_about((enum kw_canned_field)f)));
    return a;
}

static struct kwh_reply list_of(struct kwh_call *x, int64_t team)
{
    struct kw_err err = {0};
    json_t *list = json_array();
    if (kw_store_canned_list(x->wk->st, team, canned_add, list, &err) != KW_OK) {
        json_decref(list);
        return kwh_problem(&err);
    }
    return kwh_ok(200, json_pack("{s:o, s:o}", "canned", list, "placeholders", placeholders()));
}

struct kwh_reply kwh_canned_list(struct kwh_call *x)
{
    struct kwh_reply out;
    long long team = 0;
    if (!kwh_query_int(x, "team_id", 1, INT64_MAX, &team, &out))
        return out;
    return list_of(x, team);
}

static struct kwh_reply one(struct kwh_call *x, unsigned status, int64_t id)
{
    struct kw_err err = {0};
    struct kw_canned c;
    if (kw_store_canned_get(x->wk->st, id, &c, &err) != KW_OK)
        return kwh_problem(&err);
    return kwh_ok(status, canned_json(&c));
}

struct kwh_reply kwh_canned_get(struct kwh_call *x)
{
    return one(x, 200, x->arg.id);
}

struct canned_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t now, id;
    bool remove;
    struct kw_canned c;
};

static enum kw_code canned_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct canned_unit *c = ctx;
    struct kw_unit u = {.st = st,
                        .clocks = c->h->clocks,
                        .sla = &c->h->wsla,
                        .now = c->now,
                        .fire_at = KW_STORE_NO_TIME};
    return c->remove ? kw_canned_delete(&u, &c->who, c->id, err)
                     : kw_canned_put(&u, &c->who, &c->c, &c->id, err);
}

#define CAN(m) offsetof(struct canned_unit, c.m)
static const struct kwh_field canned_fields[] = {
    {.name = "team_id", .type = KWH_ID, .required = true, .offset = CAN(team_id)},
    {.name = "name",
     .type = KWH_STR,
     .required = true,
     .max = KW_CANNED_NAME_MAX,
     .offset = CAN(name)},
    {.name = "body_zh",
     .type = KWH_STR,
     .required = true,
     .max = KW_CANNED_TEXT_MAX,
     .offset = CAN(body_zh)},
    {.name = "body_en",
     .type = KWH_STR,
     .required = true,
     .max = KW_CANNED_TEXT_MAX,
     .offset = CAN(body_en)},
};
#undef CAN

/* POST (id 0) or PATCH reply id: a PATCH keeps what it does not name. */
static struct kwh_reply put(struct kwh_call *x, int64_t id)
{
    struct kwh_reply out;
    struct canned_unit c = {.h = x->h, .who = kwh_actor(x), .now = x->now};
    char *keep[3] = {NULL, NULL, NULL};
    if (id) {
        struct kw_err err = {0};
        struct kw_canned old;
        if (kw_store_canned_get(x->wk->st, id, &old, &err) != KW_OK)
            return kwh_problem(&err);
        c.c = old;
        c.c.id = id;
        keep[0] = strdup(old.name ? old.name : "");
        keep[1] = strdup(old.body_zh ? old.body_zh : "");
        keep[2] = strdup(old.body_en ? old.body_en : "");
        c.c.name = keep[0], c.c.body_zh = keep[1], c.c.body_en = keep[2];
        kw_store_end_read(x->wk->st);
    }
    json_t *j = kwh_body_object(x, &out);
    bool ok = false;
    if (j) {
        struct kwh_field f[KWH_NFIELDS(canned_fields)];
        memcpy(f, canned_fields, sizeof(f));
        for (size_t i = 0; id && i < KWH_NFIELDS(f); i++)
            f[i].required = false;
        ok = kwh_decode(j, f, KWH_NFIELDS(f), &c, &out) && kwh_write_unit(x, canned_unit, &c, &out);
        json_decref(j);
    }
    for (int i = 0; i < 3; i++)
        free(keep[i]);
    if (!ok)
        return out;
    kwh_log_event(x->h, "mod=canned event=%s id=%lld actor=%lld",
                  id ? "canned.changed" : "canned.created", (long long)c.id, (long long)x->me.id);
    return one(x, id ? 200 : 201, c.id);
}

struct kwh_reply kwh_canned_create(struct kwh_call *x)
{
    return put(x, 0);
}

struct kwh_reply kwh_canned_patch(struct kwh_call *x)
{
    return put(x, x->arg.id);
}

struct kwh_reply kwh_canned_delete(struct kwh_call *x)
{
    struct kwh_reply out;
    struct canned_unit c = {
        .h = x->h, .who = kwh_actor(x), .now = x->now, .id = x->arg.id, .remove = true};
    if (!kwh_write_unit(x, canned_unit, &c, &out))
        return out;
    kwh_log_event(x->h, "mod=canned event=canned.deleted id=%lld actor=%lld", (long long)c.id,
                  (long long)x->me.id);
    return kwh_ok(204, NULL);
}

/* ---- a reply for a ticket ---- */

/* What the placeholders become, each copied out of the rows read. */
struct values {
    char v[KW_CANNED_FIELD_COUNT][512];
    bool set[KW_CANNED_FIELD_COUNT];
    char lang[4], tz[64];
};

static void put_value(struct values *vs, enum kw_canned_field f, const char *s)
{
    if (!s || !*s)
        return;
    snprintf(vs->v[f], sizeof(vs->v[f]), "%s", s);
    vs->set[f] = true;
}

/* Instant t as "YYYY-MM-DD HH:MM (Zone)" in vs->tz (UTC when none). */
static void put_time(struct kw_http *h, struct values *vs, enum kw_canned_field f, int64_t t)
{
    if (t == KW_STORE_NO_TIME)
        return;
    struct kw_tzinfo z;
    struct kw_err e = {0};
    const char *name = "UTC";
    int32_t off = 0;
    if (vs->tz[0] && kw_tzdb_get(kw_clocks_tzdb(h->clocks), vs->tz, &z, &e) == KW_OK)
        name = vs->tz, off = kw_tz_offset(&z, t);
    time_t s = (time_t)(t + off);
    struct tm tm;
    char when[32], out[128];
    gmtime_r(&s, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
    snprintf(out, sizeof(out), "%s (%s)", when, name);
    put_value(vs, f, out);
}

struct clock_scan {
    struct kw_http *h;
    struct values *vs;
    const struct kw_policy *p;
};

static bool clock_value(const struct kw_clock_row *c, void *ctx)
{
    struct clock_scan *cs = ctx;
    int m = cs->p && c->metric ? kw_policy_metric_index(cs->p, c->metric) : -1;
    enum kw_metric_kpi k = m >= 0 ? kw_policy_metric_kpi(cs->p, (size_t)m) : KW_MKPI_NONE;
    if (k == KW_MKPI_RESPONSE && !cs->vs->set[KW_CANNED_DUE_RESPONSE])
        put_time(cs->h, cs->vs, KW_CANNED_DUE_RESPONSE, c->deadline);
    if (k == KW_MKPI_RESOLUTION && !cs->vs->set[KW_CANNED_DUE_RESOLUTION])
        put_time(cs->h, cs->vs, KW_CANNED_DUE_RESOLUTION, c->deadline);
    return true;
}

static bool team_name(const struct kw_named_row *r, void *ctx)
{
    put_value(ctx, KW_CANNED_TEAM_NAME, r->name);
    return false;
}

/* Gather the values for ticket t as staff caller x sees it. lang: the
 * asked-for language or NULL (then the requester's, else zh). */
static void gather(struct kwh_call *x, const struct kw_ticket_row *row, const char *lang,
                   struct values *vs)
{
    struct kw_store *st = x->wk->st;
    struct kw_err err = {0};
    struct kw_ticket_row t = *row;
    char num[24], state[32];
    snprintf(num, sizeof(num), "%lld", (long long)t.id);
    put_value(vs, KW_CANNED_TICKET_ID, num);
    snprintf(state, sizeof(state), "%s", t.state ? t.state : "");
    put_value(vs, KW_CANNED_TICKET_TITLE, t.title);
    put_value(vs, KW_CANNED_TICKET_LEVEL, t.level);
    put_value(vs, KW_CANNED_TICKET_CATEGORY, t.category);
    put_value(vs, KW_CANNED_TICKET_REGION, t.region);
    int64_t org = t.org_id, requester = t.requester_id, assignee = t.assignee_id, team = t.team_id,
            next_due = t.next_due, commitment = t.commitment_id, id = t.id;
    struct kw_user_row u;
    snprintf(vs->lang, sizeof(vs->lang), "%s", lang ? lang : "");
    if (requester && kw_store_user_get(st, requester, &u, &err) == KW_OK) {
        put_value(vs, KW_CANNED_REQUESTER_NAME, u.name);
        if (!lang && u.lang)
            snprintf(vs->lang, sizeof(vs->lang), "%s", u.lang);
        if (u.tz)
            snprintf(vs->tz, sizeof(vs->tz), "%s", u.tz);
    }
    if (!vs->lang[0])
        snprintf(vs->lang, sizeof(vs->lang), "zh");
    if (kw_store_user_get(st, x->me.id, &u, &err) == KW_OK) {
        put_value(vs, KW_CANNED_AGENT_NAME, u.name);
        if (!vs->tz[0] && u.tz) /* no zone of the reader's: the writer's */
            snprintf(vs->tz, sizeof(vs->tz), "%s", u.tz);
    }
    if (assignee && kw_store_user_get(st, assignee, &u, &err) == KW_OK)
        put_value(vs, KW_CANNED_ASSIGNEE_NAME, u.name);
    struct kw_org o;
    if (kw_store_org_get(st, org, &o, &err) == KW_OK)
        put_value(vs, KW_CANNED_ORG_NAME, o.name);
    if (team)
        kw_store_teams(st, team, team_name, vs, &err);
    enum kw_state s;
    if (kw_state_parse(state, strlen(state), &s)) {
        struct kw_label l = kw_state_label(s);
        put_value(vs, KW_CANNED_TICKET_STATE, strcmp(vs->lang, "en") == 0 ? l.en : l.zh);
    }
    put_time(x->h, vs, KW_CANNED_TICKET_DUE, next_due);
    const struct kw_compiled *c = commitment ? kwh_policy_for(x->h, st, commitment, &err) : NULL;
    struct clock_scan cs = {x->h, vs, c ? c->p : NULL};
    kw_store_ticket_clocks(st, id, clock_value, &cs, &err);
}

struct kwh_reply kwh_ticket_canned(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_ticket_row t;
    long long reply = 0;
    if (!kwh_visible_ticket(x, x->arg.id, &t, &out) ||
        !kwh_query_int(x, "reply", 1, INT64_MAX, &reply, &out))
        return out;
    const char *lang = kwh_query(x, "lang");
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kwh_problem_of(KW_INVALID, "/lang", "lang: expected zh or en");
    if (!reply) { /* the replies the ticket's page offers: its team's first */
        int64_t team = t.team_id;
        struct kwh_reply all = list_of(x, 0);
        if (all.status != 200)
            return all;
        json_t *list = json_object_get(all.json, "canned"), *sorted = json_array(), *c;
        size_t i;
        for (int pass = 0; pass < 2; pass++)
            json_array_foreach(list, i, c)
            {
                bool own = json_integer_value(json_object_get(c, "team_id")) == team;
                if (own == (pass == 0))
                    json_array_append(sorted, c);
            }
        json_object_set_new(all.json, "canned", sorted);
        json_object_set_new(all.json, "team_id", kwh_id_or_null(team));
        return all;
    }
    struct values *vs = calloc(1, sizeof(*vs));
    if (!vs)
        return kwh_problem_of(KW_NOMEM, "", "no memory for the reply");
    gather(x, &t, lang, vs);
    struct kw_canned c;
    struct kw_err err = {0};
    if (kw_store_canned_get(x->wk->st, reply, &c, &err) != KW_OK) {
        free(vs);
        if (err.code == KW_NOT_FOUND)
            kw_err_set(&err, KW_NOT_FOUND, "/reply", "reply: no canned reply %lld", reply);
        return kwh_problem(&err);
    }
    const char *v[KW_CANNED_FIELD_COUNT];
    for (int f = 0; f < KW_CANNED_FIELD_COUNT; f++)
        v[f] = vs->set[f] ? vs->v[f] : NULL;
    bool en = strcmp(vs->lang, "en") == 0;
    char *text = kw_canned_render(en ? c.body_en : c.body_zh, v);
    json_t *j =
        text ? json_pack("{s:I, s:I, s:s, s:s, s:s, s:o}", "ticket", (json_int_t)x->arg.id, "reply",
                         (json_int_t)reply, "name", c.name, "lang", en ? "en" : "zh", "text", text,
                         "time_zone", vs->tz[0] ? json_string(vs->tz) : json_string("UTC"))
             : NULL;
    free(text);
    free(vs);
    return j ? kwh_ok(200, j) : kwh_problem_of(KW_NOMEM, "", "no memory for the reply");
}
