// SPDX-License-Identifier: MIT
/* /api/v1/orgs, /users, /teams, /calendars and /commitments: what the
 * provider's managers set up, and what a customer may read of it (their own
 * organisation and its people, the published commitment and calendars). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "calcache.h"
#include "calendars.h"
#include "calendar_json.h"
#include "civil.h"
#include "ics.h"
#include "internal.h"
#include "watch.h"
#include "letter.h"
#include "policy_json.h"
#include "tickets.h"

/* ---- organisations ---- */

static bool org_add(const struct kw_org *o, void *ctx)
{
    return kwh_page_room(ctx) && kwh_page_push(ctx, o->id, kwh_org_json(o));
}

struct org_unit {
    struct kw_org org;
    struct kw_clocks *clocks;
    int64_t now, id;
    struct kw_actor who;
};

static bool calendar_seen(const struct kw_named_row *r, void *ctx)
{
    (void)r;
    *(bool *)ctx = true;
    return true;
}

/* An organisation's terms as the commitment in force and the stored
 * calendars know them: its tier and region are in the commitment's lists
 * (when it has lists), its calendar is a stored calendar or one the
 * commitment names, its account manager is one of the provider's people. */
static enum kw_code org_terms_check(struct org_unit *u, struct kw_store *st, struct kw_err *err)
{
    const struct kw_org *o = &u->org;
    int64_t commitment = 0;
    const struct kw_compiled *c = NULL;
    enum kw_code rc = kw_store_commitment_at(st, u->now, &commitment, err);
    if (rc == KW_OK && commitment && (o->tier || o->region || o->calendar)) {
        c = kw_clocks_commitment(u->clocks, st, commitment, err);
        if (!c)
            return err->code;
    }
    if (rc != KW_OK)
        return rc;
    if (c && o->tier && !kw_policy_attr_known(c->p, KW_ATTR_TIER, o->tier))
        return kw_err_set(err, KW_INVALID, "/tier",
                          "tier: \"%.40s\" is not a tier of the commitment in force (%s %s)",
                          o->tier, kw_policy_name(c->p), kw_policy_version(c->p));
    if (c && o->region && !kw_policy_attr_known(c->p, KW_ATTR_REGION, o->region))
        return kw_err_set(err, KW_INVALID, "/region",
                          "region: \"%.40s\" is not a region of the commitment in force (%s %s)",
                          o->region, kw_policy_name(c->p), kw_policy_version(c->p));
    if (o->calendar) {
        bool known = false;
        for (size_t i = 0; c && i < kw_policy_calendar_count(c->p); i++)
            known = known || strcmp(kw_policy_calendar_name(c->p, i), o->calendar) == 0;
        if (!known &&
            (rc = kw_store_calendars(st, o->calendar, calendar_seen, &known, err)) != KW_OK)
            return rc;
        if (!known)
            return kw_err_set(err, KW_INVALID, "/calendar",
                              "calendar: no stored calendar \"%.40s\" and none of that name in "
                              "the commitment in force (GET /api/v1/calendars)",
                              o->calendar);
    }
    if (o->account_manager_id) {
        struct kw_user_row m;
        rc = kw_store_user_get(st, o->account_manager_id, &m, err);
        if (rc == KW_NOT_FOUND)
            return kw_err_set(err, KW_NOT_FOUND, "/account_manager_id",
                              "account_manager_id: no user %lld", (long long)o->account_manager_id);
        if (rc != KW_OK)
            return rc;
        if (strcmp(m.role, "customer") == 0)
            return kw_err_set(err, KW_INVALID, "/account_manager_id",
                              "account_manager_id: user %lld is a customer; an account manager is "
                              "one of the provider's people",
                              (long long)o->account_manager_id);
    }
    return KW_OK;
}

static enum kw_code org_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct org_unit *u = ctx;
    enum kw_code rc = org_terms_check(u, st, err);
    if (rc == KW_OK)
        rc = kw_store_org_insert(st, &u->org, u->now, &u->id, err);
    return rc != KW_OK ? rc
                       : kw_audit_after(st, &u->who, u->now, "organisation", u->id, NULL, "create",
                                        NULL, err);
}

static const struct kwh_field org_fields[] = {
    {.name = "name", .type = KWH_STR, .max = 200, .offset = offsetof(struct org_unit, org.name)},
    {.name = "tier", .type = KWH_STR, .max = 47, .offset = offsetof(struct org_unit, org.tier)},
    {.name = "region", .type = KWH_STR, .max = 47, .offset = offsetof(struct org_unit, org.region)},
    {.name = "calendar",
     .type = KWH_STR,
     .max = 47,
     .offset = offsetof(struct org_unit, org.calendar)},
    {.name = "contract_value_cents",
     .type = KWH_INT,
     .lo = 0,
     .hi = INT64_MAX,
     .offset = offsetof(struct org_unit, org.contract_value_cents),
     .expect = "expected a whole number >= 0"},
    {.name = "account_manager_id",
     .type = KWH_ID,
     .offset = offsetof(struct org_unit, org.account_manager_id)},
};

struct kwh_reply kwh_orgs_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct org_unit u = {.clocks = x->h->clocks, .now = x->now, .who = kwh_actor(x)};
    if (kwh_decode(j, org_fields, KWH_NFIELDS(org_fields), &u, &out) &&
        kwh_write_unit(x, org_unit, &u, &out)) {
        u.org.id = u.id;
        out = kwh_ok(201, kwh_org_json(&u.org));
    }
    json_decref(j);
    return out;
}

struct kwh_reply kwh_org_get(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kw_org o;
    /* a customer sees their own organisation; another looks absent */
    if ((x->me.customer && x->arg.id != x->me.org_id) ||
        kw_store_org_get(x->wk->st, x->arg.id, &o, &err) != KW_OK)
        return kwh_problem_of(KW_NOT_FOUND, "", "no such organisation");
    json_t *j = kwh_org_json(&o);
    if (!x->me.customer)
        json_object_set_new(j, "watch_list", kwh_watch_json(x, x->arg.id));
    return kwh_ok(200, j);
}

struct kwh_reply kwh_orgs_list(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    struct kwh_page pg;
    long long after;
    if (!kwh_page_query(x, &pg, &after, &out))
        return out;
    if (kw_store_orgs(x->wk->st, x->me.customer ? x->me.org_id : 0, after, pg.limit + 1, org_add,
                      &pg, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    size_t i;
    json_t *o;
    json_array_foreach(pg.items, i, o) if (!x->me.customer) json_object_set_new(
        o, "watch_list", kwh_watch_json(x, json_integer_value(json_object_get(o, "id"))));
    return kwh_ok(200, kwh_page_json(&pg, "orgs"));
}

/* ---- users ---- */

/* "skills": up to 32 distinct strings of 1 to 47 bytes, as canonical text
 * into *out (caller frees); absent leaves *out NULL. */
bool kwh_skills_of(json_t *v, char **out, struct kwh_reply *fail)
{
    json_t *e;
    size_t i;
    *out = NULL;
    if (!v)
        return true;
    if (!json_is_array(v) || json_array_size(v) > 32) {
        *fail =
            kwh_problem_of(KW_INVALID, "/skills", "skills: expected a list of at most 32 skills");
        return false;
    }
    json_array_foreach(v, i, e)
    {
        bool twice = false;
        for (size_t k = 0; k < i && json_is_string(e); k++)
            twice = twice || json_equal(e, json_array_get(v, k));
        if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 47 ||
            twice) {
            char ptr[32];
            snprintf(ptr, sizeof(ptr), "/skills/%zu", i);
            *fail = kwh_problemf(KW_INVALID, ptr,
                                 "skills[%zu]: expected a skill of 1 to 47 bytes, listed once", i);
            return false;
        }
    }
    *out = json_dumps(v, JSON_COMPACT);
    return *out != NULL;
}

static bool user_add(const struct kw_user_row *u, void *ctx)
{
    return kwh_page_room(ctx) && kwh_page_push(ctx, u->id, kwh_user_json(u));
}

struct user_unit {
    struct kw_user u;
    const char *password;
    json_t *skills; /* as sent */
    char hash[KW_PASSWORD_HASH_BUF];
    int64_t now, id;
    struct kw_actor who;
};

static enum kw_code user_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct user_unit *u = ctx;
    enum kw_code rc =
        kw_store_user_insert(st, &u->u, u->password ? u->hash : NULL, u->now, &u->id, err);
    return rc != KW_OK
               ? rc
               : kw_audit_after(st, &u->who, u->now, "user", u->id, NULL, "create", NULL, err);
}

static const struct kwh_field user_fields[] = {
    {.name = "email", .type = KWH_STR, .max = 254, .offset = offsetof(struct user_unit, u.email)},
    {.name = "name", .type = KWH_STR, .max = 200, .offset = offsetof(struct user_unit, u.name)},
    {.name = "role", .type = KWH_STR, .max = 16, .offset = offsetof(struct user_unit, u.role)},
    {.name = "password",
     .type = KWH_STR,
     .controls = true,
     .max = 1024,
     .offset = offsetof(struct user_unit, password)},
    {.name = "org_id", .type = KWH_ID, .offset = offsetof(struct user_unit, u.org_id)},
    {.name = "team_id", .type = KWH_ID, .offset = offsetof(struct user_unit, u.team_id)},
    {.name = "skills", .type = KWH_ANY, .offset = offsetof(struct user_unit, skills)},
};

struct kwh_reply kwh_users_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct user_unit u = {.now = x->now, .who = kwh_actor(x)};
    char *skills = NULL;
    if (!kwh_decode(j, user_fields, KWH_NFIELDS(user_fields), &u, &out) ||
        !kwh_skills_of(u.skills, &skills, &out))
        goto done;
    u.u.skills = skills;
    if (u.u.role && strcmp(u.u.role, "customer") == 0 && !u.u.org_id) {
        out =
            kwh_problem_of(KW_INVALID, "/org_id", "org_id: a customer belongs to an organisation");
        goto done;
    }
    /* the role and password rules, and argon2id, which takes a while and
     * much memory: before the writer */
    struct kw_err err = {0};
    if (kw_auth_user_hash(&u.u, u.password, u.hash, &err) != KW_OK) {
        out = kwh_problem(&err);
        goto done;
    }
    if (kwh_write_unit(x, user_unit, &u, &out)) {
        struct kw_user_row row = {.id = u.id,
                                  .org_id = u.u.org_id,
                                  .team_id = u.u.team_id,
                                  .email = u.u.email,
                                  .name = u.u.name,
                                  .role = u.u.role,
                                  .skills = skills,
                                  .deactivated_at = KW_STORE_NO_TIME,
                                  .active = true};
        out = kwh_ok(201, kwh_user_json(&row));
    }
done:
    free(skills);
    json_decref(j);
    return out;
}

struct kwh_reply kwh_users_list(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    struct kwh_page pg;
    long long org = 0, after;
    if (!kwh_query_int(x, "org_id", 1, INT64_MAX, &org, &out) ||
        !kwh_page_query(x, &pg, &after, &out))
        return out;
    if (x->me.customer) {
        /* customers see the people of their own organisation only */
        if (org && org != x->me.org_id) {
            kwh_page_release(&pg);
            return kwh_problem_of(KW_FORBIDDEN, "", "org_id: customers list their own people");
        }
        org = x->me.org_id;
    }
    if (kw_store_users(x->wk->st, org, after, pg.limit + 1, user_add, &pg, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    return kwh_ok(200, kwh_page_json(&pg, "users"));
}

/* ---- teams ---- */

static bool team_add(const struct kw_named_row *r, void *ctx)
{
    return kwh_page_push(ctx, r->id, kwh_team_json(r->id, r->name, r->ref));
}

struct team_unit {
    const char *name;
    int64_t lead, now, id;
    struct kw_actor who;
};

static enum kw_code team_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct team_unit *u = ctx;
    enum kw_code rc = kw_store_team_insert(st, u->name, u->lead, u->now, &u->id, err);
    return rc != KW_OK
               ? rc
               : kw_audit_after(st, &u->who, u->now, "team", u->id, NULL, "create", NULL, err);
}

struct kwh_reply kwh_teams_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kwh_page pg;
    kwh_page_init(&pg, KWH_ALL);
    if (kw_store_teams(x->wk->st, 0, team_add, &pg, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    return kwh_ok(200, kwh_page_json(&pg, "teams"));
}

static const struct kwh_field team_fields[] = {
    {.name = "name", .type = KWH_STR, .max = 200, .offset = offsetof(struct team_unit, name)},
    {.name = "lead_id", .type = KWH_ID, .offset = offsetof(struct team_unit, lead)},
};

struct kwh_reply kwh_teams_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct team_unit u = {.now = x->now, .who = kwh_actor(x)};
    if (kwh_decode(j, team_fields, KWH_NFIELDS(team_fields), &u, &out) &&
        kwh_write_unit(x, team_unit, &u, &out))
        out = kwh_ok(201, kwh_team_json(u.id, u.name, u.lead));
    json_decref(j);
    return out;
}

/* ---- calendars ---- */

static bool calendar_add(const struct kw_named_row *r, void *ctx)
{
    json_t *spec = json_loads(r->text ? r->text : "{}", 0, NULL);
    json_array_append_new(ctx, json_pack("{s:I, s:s, s:I, s:o}", "id", (json_int_t)r->id, "name",
                                         r->name, "version", (json_int_t)r->ref, "spec",
                                         spec ? spec : json_object()));
    return true;
}

/* Check a spec the way the engine will use it: the zone must exist and the
 * calendar must compile over the horizon. */
static enum kw_code calendar_compiles(struct kw_http *h, const struct kw_cal_spec *spec,
                                      struct kw_cal **out, struct kw_err *err)
{
    struct kw_cal *cal = kw_cal_compile(kw_clocks_tz_lock(h->clocks), spec, err);
    kw_clocks_tz_unlock(h->clocks);
    if (!cal)
        return err->code;
    if (out)
        *out = cal;
    else
        kw_cal_free(cal);
    return KW_OK;
}

struct calendar_unit {
    struct kw_http *h;
    const char *name;
    char *spec;
    int64_t now, marked;
    struct kw_calendar_saved saved;
    struct kw_actor who;
};

/* A new version reaches the commitments that name the calendar
 * (app/calendars.h). */
static enum kw_code calendar_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct calendar_unit *u = ctx;
    struct kw_unit unit = {.st = st, .clocks = u->h->clocks, .sla = &u->h->wsla, .now = u->now};
    char *before = NULL;
    enum kw_code rc = kw_audit_before(st, "calendar", 0, u->name, &before, err);
    if (rc == KW_OK)
        rc = kw_app_calendar_save(&unit, u->name, u->spec, &u->saved, &u->marked, err);
    if (rc == KW_OK)
        rc = kw_audit_after(st, &u->who, u->now, "calendar", 0, u->name,
                            before ? "update" : "create", before, err);
    free(before);
    return rc;
}

static void reschedule(int64_t ticket, int64_t fire_at, void *ctx)
{
    kw_engine_schedule(ctx, ticket, fire_at);
}

/* Store spec under its name; 201 with it. */
static struct kwh_reply calendar_store(struct kwh_call *x, const struct kw_cal_spec *spec,
                                       json_t *extra)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    if (calendar_compiles(x->h, spec, NULL, &err) != KW_OK) {
        json_decref(extra);
        return kwh_problem(&err);
    }
    json_t *canon = kw_cal_spec_to_json(spec);
    struct calendar_unit u = {.h = x->h,
                              .who = kwh_actor(x),
                              .name = spec->name,
                              .spec = canon ? json_dumps(canon, JSON_COMPACT) : NULL,
                              .now = x->now};
    size_t projected = 0;
    if (!u.spec) {
        out = kwh_problem_of(KW_NOMEM, "", "no memory for the calendar");
    } else if (!kwh_write_unit(x, calendar_unit, &u, &out)) {
        /* the cache may hold what the undone unit compiled: compile again */
        kw_clocks_calendar_saved(x->h->clocks, NULL, spec->name, 0, NULL);
    } else if (u.marked &&
               kw_app_catch_up_each(x->h->w, x->h->clocks, &x->h->wsla, x->wk->st, x->now,
                                    reschedule, x->h->engine, &projected, &err) != KW_OK) {
        /* saved; what is left is projected at the next start */
        out = kwh_problem(&err);
    } else {
        json_t *j = json_pack("{s:I, s:s, s:I, s:o, s:b, s:I, s:O}", "id", (json_int_t)u.saved.id,
                              "name", spec->name, "version", (json_int_t)u.saved.version,
                              "saved_at", kwh_instant_json(u.saved.saved_at), "changed",
                              u.saved.added, "reprojected", (json_int_t)projected, "spec", canon);
        if (extra)
            json_object_update(j, extra);
        out = kwh_ok(201, j);
    }
    free(u.spec);
    json_decref(canon);
    json_decref(extra);
    return out;
}

/* The stored spec of calendar name into spec (release it even on failure);
 * KW_NOT_FOUND. */
static enum kw_code calendar_load(struct kwh_call *x, const char *name, struct kw_cal_spec *spec,
                                  struct kw_err *err)
{
    json_t *list = json_array();
    enum kw_code rc = kw_store_calendars(x->wk->st, name, calendar_add, list, err);
    if (rc == KW_OK && json_array_size(list) == 0)
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no calendar \"%.60s\"", name);
    if (rc == KW_OK)
        rc = kw_cal_spec_from_json(json_object_get(json_array_get(list, 0), "spec"), spec, err);
    /* a calendar stored without a name in its spec (older demos) is still
     * the calendar of its stored name */
    if (rc == KW_OK && !spec->name[0])
        snprintf(spec->name, sizeof(spec->name), "%s", name);
    json_decref(list);
    return rc;
}

/* ---- .ics import ---- */

/* The import's options from the query: as=holidays|workdays (match= the
 * marker, none: every all-day event) or as=both (holiday= and workday=,
 * default 休 and 班); dry_run=true|false. */
static enum kw_code ics_opts(struct kwh_call *x, struct kw_ics_opts *o, bool *dry,
                             struct kw_err *err)
{
    const char *as = kwh_query(x, "as"), *match = kwh_query(x, "match");
    const char *off = kwh_query(x, "holiday"), *on = kwh_query(x, "workday");
    const char *dr = kwh_query(x, "dry_run");
    struct kw_err e = {0};
    *dry = dr && strcmp(dr, "true") == 0;
    if (dr && !*dry && strcmp(dr, "false") != 0)
        return kw_err_set(err, KW_INVALID, "", "dry_run: expected true or false, not \"%.40s\"",
                          dr);
    if (!as)
        return kw_err_set(err, KW_INVALID, "", "as: missing (holidays, workdays or both)");
    if (strcmp(as, "holidays") == 0 || strcmp(as, "workdays") == 0) {
        bool holidays = as[0] == 'h';
        if (off || on)
            return kw_err_set(err, KW_INVALID, "",
                              "%s: only with as=both (with as=%s the marker is match=)",
                              off ? "holiday" : "workday", as);
        if (match && kw_ics_marker_check(match, &e) != KW_OK)
            return kw_err_set(err, KW_INVALID, "", "match: %s", e.msg);
        *o = (struct kw_ics_opts){.mode = holidays ? KW_ICS_AS_HOLIDAYS : KW_ICS_AS_WORKDAYS,
                                  .holiday_marker = holidays ? match : NULL,
                                  .workday_marker = holidays ? NULL : match};
        return KW_OK;
    }
    if (strcmp(as, "both") != 0)
        return kw_err_set(err, KW_INVALID, "",
                          "as: \"%.40s\" is not holidays, workdays or both (by marker)", as);
    if (match)
        return kw_err_set(err, KW_INVALID, "",
                          "match: only with as=holidays or as=workdays (as=both takes holiday= "
                          "and workday=)");
    *o = (struct kw_ics_opts){.mode = KW_ICS_BY_MARKER,
                              .holiday_marker = off ? off : "休",
                              .workday_marker = on ? on : "班"};
    if (kw_ics_marker_check(o->holiday_marker, &e) != KW_OK)
        return kw_err_set(err, KW_INVALID, "", "holiday: %s", e.msg);
    if (kw_ics_marker_check(o->workday_marker, &e) != KW_OK)
        return kw_err_set(err, KW_INVALID, "", "workday: %s", e.msg);
    if (strcmp(o->holiday_marker, o->workday_marker) == 0)
        return kw_err_set(err, KW_INVALID, "",
                          "workday: the same marker as holiday (\"%s\"); they must differ",
                          o->workday_marker);
    return KW_OK;
}

static const char *const SKIP_WHY[] = {
    [KW_ICS_TIMED] = "timed",
    [KW_ICS_NO_MARKER] = "no_marker",
    [KW_ICS_BOTH_MARKERS] = "both_markers",
};

/* What the import adds (or would add): counts, every date with the event and
 * marker it came from, and the events left out with why. */
static json_t *ics_plan_json(const char *name, const char *as, bool dry,
                             const struct kw_ics_plan *p, json_t *workday_hours)
{
    json_t *dates = json_array(), *skips = json_array();
    char d[11];
    for (size_t i = 0; i < p->n_dates; i++) {
        const struct kw_ics_date *x = &p->dates[i];
        kw_date_format(x->day, d);
        json_t *row =
            json_pack("{s:s, s:s, s:s, s:o, s:s}", "date", d, "kind",
                      x->kind == KW_ICS_HOLIDAY ? "holiday" : "workday", "summary", x->summary,
                      "marker", kwh_nullable(x->marker), "status", x->present ? "present" : "new");
        if (x->kind == KW_ICS_WORKDAY && !x->present)
            json_object_set(row, "hours", workday_hours ? workday_hours : json_null());
        json_array_append_new(dates, row);
    }
    for (size_t i = 0; i < p->n_skips; i++) {
        const struct kw_ics_skip *x = &p->skips[i];
        if (x->day)
            kw_date_format(x->day, d);
        json_array_append_new(skips, json_pack("{s:s, s:o, s:s}", "summary", x->summary, "date",
                                               x->day ? json_string(d) : json_null(), "reason",
                                               SKIP_WHY[x->why]));
    }
    return json_pack("{s:s, s:s, s:b, s:{s:I, s:I, s:I, s:I}, s:o, s:o}", "calendar", name, "as",
                     as, "dry_run", dry, "imported", "events", (json_int_t)p->st.events, "added",
                     (json_int_t)p->st.added, "present", (json_int_t)p->st.present, "skipped",
                     (json_int_t)p->st.skipped, "dates", dates, "skipped_events", skips);
}

/* POST /calendars/{name}/ics: merge an iCalendar feed's all-day events, or
 * with dry_run=true only say what would be merged. */
struct kwh_reply kwh_calendar_ics(struct kwh_call *x)
{
    struct kwh_reply out = {0};
    struct kw_cal_spec spec = {0};
    struct kw_ics_plan plan = {0};
    struct kw_ics_opts opts = {0};
    struct kw_err err = {0};
    char *text = NULL;
    json_t *canon = NULL;
    bool dry = false;
    enum kw_code rc = KW_OK;
    rc = ics_opts(x, &opts, &dry, &err);
    if (rc == KW_OK && x->r->body.len == 0)
        rc = kw_err_set(&err, KW_INVALID, "", "the body must be an iCalendar (.ics) feed");
    if (rc == KW_OK)
        rc = calendar_load(x, x->arg.name, &spec, &err);
    if (rc == KW_OK && !(text = malloc(x->r->body.len + 1)))
        rc = kw_err_set(&err, KW_NOMEM, "", "no memory for the feed");
    if (rc != KW_OK)
        goto out;
    memcpy(text, x->r->body.p, x->r->body.len);
    text[x->r->body.len] = '\0';
    kw_clocks_tz_lock(x->h->clocks); /* libical is not thread-safe */
    rc = kw_ics_plan(&spec, text, x->r->body.len, &opts, &plan, &err);
    kw_clocks_tz_unlock(x->h->clocks);
    if (rc != KW_OK)
        goto out;
    canon = kw_cal_spec_to_json(&spec);
    json_t *mon = json_object_get(json_object_get(canon, "week"), "mon");
    const char *as = kwh_query(x, "as");
    if (dry) {
        out = kwh_ok(200, ics_plan_json(x->arg.name, as, true, &plan, mon));
        goto out;
    }
    rc = kw_ics_apply(&spec, &plan, &spec.week[0], &err);
    if (rc == KW_OK)
        out = calendar_store(x, &spec, ics_plan_json(x->arg.name, as, false, &plan, mon));
out:
    json_decref(canon);
    free(text);
    kw_ics_plan_release(&plan);
    kw_cal_spec_release(&spec);
    return rc != KW_OK ? kwh_problem(&err) : out;
}

/* GET /calendars/{name}/deadline?from=&duration=: a preview. */
struct kwh_reply kwh_calendar_deadline(struct kwh_call *x)
{
    struct kw_cal_spec spec = {0};
    struct kw_cal *cal = NULL;
    struct kw_err err = {0};
    const char *from = kwh_query(x, "from"), *dur = kwh_query(x, "duration");
    int64_t start = x->now, work = 0, due = 0, elapsed = 0;
    if (from && kw_instant_parse(from, strlen(from), &start, &err) != KW_OK)
        return kwh_problemf(KW_INVALID, "", "from: %s", err.msg);
    if (!dur || kw_duration_parse(dur, strlen(dur), &work, &err) != KW_OK)
        return kwh_problemf(KW_INVALID, "", "duration: %s",
                            dur ? err.msg : "missing (like 4h, 30m, 2d)");
    enum kw_code rc = calendar_load(x, x->arg.name, &spec, &err);
    if (rc == KW_OK)
        rc = calendar_compiles(x->h, &spec, &cal, &err);
    if (rc == KW_OK)
        rc = kw_cal_deadline(cal, start, work, &due, &err);
    if (rc == KW_OK)
        rc = kw_cal_elapsed(cal, start, due, &elapsed, &err);
    struct kwh_reply out =
        rc != KW_OK
            ? kwh_problem(&err)
            : kwh_ok(200, json_pack("{s:s, s:o, s:I, s:o, s:s}", "calendar", x->arg.name, "from",
                                    kwh_instant_json(start), "duration", (json_int_t)work,
                                    "deadline", kwh_instant_json(due), "tz", spec.tz));
    kw_cal_free(cal);
    kw_cal_spec_release(&spec);
    return out;
}

struct kwh_reply kwh_calendars_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    json_t *list = json_array();
    if (kw_store_calendars(x->wk->st, NULL, calendar_add, list, &err) != KW_OK) {
        json_decref(list);
        return kwh_problem(&err);
    }
    return kwh_ok(200, json_pack("{s:o}", "calendars", list));
}

struct kwh_reply kwh_calendars_create(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct kw_cal_spec spec = {0};
    if (kw_cal_spec_from_json(j, &spec, &err) != KW_OK)
        out = kwh_problem(&err);
    else if (!spec.name[0])
        out = kwh_problem_of(KW_INVALID, "/name", "name: missing");
    else
        out = calendar_store(x, &spec, NULL);
    kw_cal_spec_release(&spec);
    json_decref(j);
    return out;
}

struct kwh_reply kwh_calendar_get(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    json_t *list = json_array();
    if (kw_store_calendars(x->wk->st, x->arg.name, calendar_add, list, &err) != KW_OK) {
        json_decref(list);
        return kwh_problem(&err);
    }
    out = json_array_size(list)
              ? kwh_ok(200, json_incref(json_array_get(list, 0)))
              : kwh_problemf(KW_NOT_FOUND, "", "no calendar \"%.60s\"", x->arg.name);
    json_decref(list);
    return out;
}

/* ---- commitments ---- */

static bool commitment_add(const struct kw_commitment_row *c, void *ctx)
{
    return kwh_page_push(ctx, c->id,
                         json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)c->id, "name",
                                   c->name, "version", c->version, "effective_from",
                                   kwh_instant_json(c->effective_from), "created_at",
                                   kwh_instant_json(c->created_at)));
}

struct commitment_unit {
    const char *name, *version;
    char *doc;
    int64_t from, now, id;
    struct kw_actor who;
};

static enum kw_code commitment_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct commitment_unit *u = ctx;
    enum kw_code rc =
        kw_store_commitment_insert(st, u->name, u->version, u->from, u->doc, u->now, &u->id, err);
    return rc != KW_OK ? rc
                       : kw_audit_after(st, &u->who, u->now, "commitment", u->id, NULL, "create",
                                        NULL, err);
}

struct kwh_reply kwh_commitments_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct kw_err err = {0};
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
    struct kw_cal_history hist[KW_POLICY_MAX_CALENDARS];
    struct kw_policy *p = kw_policy_from_json(j, &err);
    enum kw_code rc = KW_OK;
    if (p) { /* embedded calendars compile; stored ones exist (and compile) */
        rc = kw_clocks_compile_calendars(x->h->clocks, x->wk->st, p, cals, hist, &err);
        if (rc == KW_OK)
            kw_compiled_calendars_free(p, cals, hist);
    }
    if (!p || rc != KW_OK) {
        out = kwh_problem(&err);
    } else {
        struct commitment_unit u = {kw_policy_name(p),
                                    kw_policy_version(p),
                                    json_dumps(j, JSON_COMPACT),
                                    kw_policy_effective_from(p),
                                    x->now,
                                    0,
                                    kwh_actor(x)};
        if (!u.doc)
            out = kwh_problem_of(KW_NOMEM, "", "no memory");
        else if (kwh_write_unit(x, commitment_unit, &u, &out))
            out = kwh_ok(201, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)u.id, "name",
                                        u.name, "version", u.version, "effective_from",
                                        kwh_instant_json(u.from)));
        free(u.doc);
    }
    kw_policy_free(p);
    json_decref(j);
    return out;
}

/* ---- what a customer reads of the commitments ---- */

/* Whether the caller may read commitment id: staff any; a customer the one
 * in force and those their organisation's tickets follow. */
static bool commitment_visible(struct kwh_call *x, int64_t id, int64_t in_force)
{
    struct kw_err err = {0};
    bool used = false;
    if (!x->me.customer || id == in_force)
        return true;
    return kw_store_commitment_used(x->wk->st, id, x->me.org_id, &used, &err) == KW_OK && used;
}

struct visible_page {
    struct kwh_call *x;
    struct kwh_page *pg;
    int64_t in_force;
};

static bool commitment_add_visible(const struct kw_commitment_row *c, void *ctx)
{
    struct visible_page *v = ctx;
    return !commitment_visible(v->x, c->id, v->in_force) || commitment_add(c, v->pg);
}

/* Of rules (targets or compensation rules), drop those whose `when`
 * names other organisations; one naming theirs among others names theirs
 * alone. */
static void only_mine(json_t *rules, json_t *mine)
{
    for (size_t i = json_array_size(rules); i-- > 0;) {
        json_t *when = json_object_get(json_array_get(rules, i), "when");
        json_t *names = json_object_get(when, "organisation");
        if (!names)
            continue;
        bool ours = json_equal(names, mine);
        for (size_t k = 0; json_is_array(names) && k < json_array_size(names); k++)
            ours = ours || json_equal(json_array_get(names, k), mine);
        if (ours)
            json_object_set(when, "organisation", mine);
        else
            json_array_remove(rules, i);
    }
}

/* A customer's view of a commitment document: without the list of
 * organisations, without the target and compensation rules that name other
 * organisations and without the escalation chains (the provider's own
 * procedure). */
static void customer_view(json_t *doc, const char *org)
{
    json_t *mine = json_string(org);
    json_object_del(doc, "organisations");
    json_object_del(doc, "escalations");
    only_mine(json_object_get(doc, "targets"), mine);
    json_t *comp = json_object_get(doc, "compensation");
    only_mine(json_object_get(comp, "rules"), mine);
    if (comp && json_array_size(json_object_get(comp, "rules")) == 0)
        json_object_del(doc, "compensation"); /* none of its rules is theirs */
    json_decref(mine);
}

/* The caller's organisation's name, for customer_view ("" when unknown). */
static void my_org_name(struct kwh_call *x, char *out, size_t cap)
{
    struct kw_err err = {0};
    struct kw_org o;
    out[0] = '\0';
    if (kw_store_org_get(x->wk->st, x->me.org_id, &o, &err) == KW_OK && o.name)
        snprintf(out, cap, "%s", o.name);
}

/* Commitment id's document as the caller may read it, or NULL with *fail
 * (404 for one a customer may not read). */
static json_t *commitment_doc_for(struct kwh_call *x, int64_t id, struct kwh_reply *fail)
{
    struct kw_err err = {0};
    int64_t in_force = 0;
    char *doc = NULL;
    if (x->me.customer && kw_store_commitment_at(x->wk->st, x->now, &in_force, &err) != KW_OK) {
        *fail = kwh_problem(&err);
        return NULL;
    }
    if (!commitment_visible(x, id, in_force)) {
        *fail = kwh_problem_of(KW_NOT_FOUND, "", "no such commitment");
        return NULL;
    }
    if (kw_store_commitment_doc(x->wk->st, id, &doc, &err) != KW_OK) {
        *fail = kwh_problem(&err);
        return NULL;
    }
    json_t *j = json_loads(doc, 0, NULL);
    free(doc);
    if (!j) {
        *fail = kwh_problem_of(KW_STORE, "", "the stored commitment is damaged");
        return NULL;
    }
    if (x->me.customer) {
        char org[201];
        my_org_name(x, org, sizeof(org));
        customer_view(j, org);
    }
    return j;
}

/* The letter of the customer's view of commitment id (lang, html). */
static struct kwh_reply customer_letter(struct kwh_call *x, int64_t id, const char *lang, bool html)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    json_t *j = commitment_doc_for(x, id, &out);
    if (!j)
        return out;
    struct kw_cal *cals[KW_POLICY_MAX_CALENDARS];
    struct kw_cal_history hist[KW_POLICY_MAX_CALENDARS];
    struct kw_policy *p = kw_policy_from_json(j, &err);
    json_decref(j);
    if (!p || kw_clocks_compile_calendars(x->h->clocks, x->wk->st, p, cals, hist, &err) != KW_OK) {
        kw_policy_free(p);
        return kwh_problem(&err);
    }
    kw_compiled_calendars_free(p, cals, hist);
    struct kw_buf b = {0};
    kw_letter_render(p, lang, html, &b);
    kw_policy_free(p);
    char *text = b.failed ? NULL : strndup(b.p ? b.p : "", b.len);
    kw_buf_release(&b);
    return kwh_ok_text(html ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8", text);
}

struct kwh_reply kwh_commitments_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kwh_page pg;
    kwh_page_init(&pg, KWH_ALL);
    int64_t current = 0;
    kw_store_commitment_at(x->wk->st, x->now, &current, &err);
    struct visible_page v = {x, &pg, current};
    if (kw_store_commitments(x->wk->st, commitment_add_visible, &v, &err) != KW_OK) {
        kwh_page_release(&pg);
        return kwh_problem(&err);
    }
    json_t *j = kwh_page_json(&pg, "commitments");
    json_object_set_new(j, "in_force", kwh_id_or_null(current));
    return kwh_ok(200, j);
}

struct kwh_reply kwh_commitment_get(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = commitment_doc_for(x, x->arg.id, &out);
    return j ? kwh_ok(200, j) : out;
}

/* GET /commitments/{id}/letter?lang=zh|en&format=md|html */
struct kwh_reply kwh_commitment_letter(struct kwh_call *x)
{
    int64_t id = x->arg.id;
    struct kw_err err = {0};
    const char *lang = kwh_query(x, "lang"), *format = kwh_query(x, "format");
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kwh_problem_of(KW_INVALID, "", "lang: expected zh or en");
    if (format && strcmp(format, "md") != 0 && strcmp(format, "html") != 0)
        return kwh_problem_of(KW_INVALID, "", "format: expected md or html");
    bool html = format && strcmp(format, "html") == 0;
    if (x->me.customer)
        return customer_letter(x, id, lang ? lang : "zh", html);
    const struct kw_compiled *c = kwh_policy_for(x->h, x->wk->st, id, &err);
    if (!c)
        return kwh_problem(&err);
    struct kw_buf b = {0};
    kw_letter_render(c->p, lang ? lang : "zh", html, &b);
    char *text = b.failed ? NULL : strndup(b.p ? b.p : "", b.len);
    kw_buf_release(&b);
    return kwh_ok_text(html ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8", text);
}
