// SPDX-License-Identifier: MIT
/* Every change to a ticket, once; see tickets.h. */
#include "tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "event.h"
#include "writer.h"

static const char *const role_names[KW_ROLE_COUNT] = {
#define X(name, text) [KW_ROLE_##name] = text,
    KW_ROLE_MAP(X)
#undef X
};

const char *kw_role_name(enum kw_role r)
{
    return (unsigned)r < KW_ROLE_COUNT ? role_names[r] : "?";
}

bool kw_role_parse(const char *s, enum kw_role *out)
{
    for (int r = 0; s && r < KW_ROLE_SYSTEM; r++)
        if (strcmp(role_names[r], s) == 0) {
            *out = (enum kw_role)r;
            return true;
        }
    return false;
}

bool kw_app_visible(const struct kw_actor *who, int64_t org)
{
    return !kw_actor_customer(who) || who->org_id == org;
}

/* ---- shared steps ---- */

/* Append r as an event of the ticket by who at u->now; state (may be NULL)
 * becomes the ticket's state. */
enum kw_code kw_app_append(struct kw_store *st, int64_t ticket, const struct kw_event_rec *r,
                           int64_t actor, int64_t at, const char *state, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    json_t *body = kw_event_encode(r, err);
    if (!body)
        return err->code;
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    enum kw_code rc = text ? kw_store_event_append(st, ticket, kw_event_kind_name(r->kind), text,
                                                   actor, at, state, NULL, err)
                           : kw_err_set(err, KW_NOMEM, "", "no memory for the event");
    free(text);
    return rc;
}

static enum kw_code append(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                           const struct kw_event_rec *r, const char *state, struct kw_err *err)
{
    return kw_app_append(u->st, ticket, r, who->id, u->now, state, err);
}

/* Refresh the ticket's clock projection and note when its next threshold
 * falls due. */
static enum kw_code project(struct kw_unit *u, int64_t ticket, const struct kw_ticket_new *created,
                            struct kw_err *err)
{
    enum kw_code rc = kw_clocks_project(u->clocks, u->st, u->sla, ticket, u->now, created, err);
    return rc == KW_OK ? kw_store_fire_at(u->st, ticket, &u->fire_at, err) : rc;
}

/* A ticket's facts that an action needs, copied out of the row (whose
 * strings die with the next read). */
struct facts {
    int64_t org_id, commitment_id, assignee_id, team_id;
    enum kw_state state;
    char level[48], category[48];
};

/* Read the ticket as who may see it: another organisation's is not found. */
static enum kw_code read_ticket(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                struct facts *f, struct kw_err *err)
{
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(u->st, ticket, &t, err);
    if (rc == KW_NOT_FOUND || (rc == KW_OK && !kw_app_visible(who, t.org_id)))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such ticket");
    if (rc != KW_OK)
        return rc;
    f->org_id = t.org_id;
    f->commitment_id = t.commitment_id;
    f->assignee_id = t.assignee_id;
    f->team_id = t.team_id;
    if (!t.state || !kw_state_parse(t.state, strlen(t.state), &f->state))
        f->state = KW_ST_REGISTERED;
    snprintf(f->level, sizeof(f->level), "%s", t.level ? t.level : "");
    snprintf(f->category, sizeof(f->category), "%s", t.category ? t.category : "");
    return KW_OK;
}

static enum kw_code staff_only(const struct kw_actor *who, const char *field, const char *why,
                               struct kw_err *err)
{
    return kw_actor_customer(who) ? kw_err_set(err, KW_FORBIDDEN, field, "%s", why) : KW_OK;
}

/* A value of attribute a that commitment knows (any value without one). */
static enum kw_code attr_known(struct kw_unit *u, int64_t commitment, enum kw_attr a, const char *v,
                               struct kw_err *err)
{
    if (!v || !commitment)
        return KW_OK;
    const struct kw_compiled *c = kw_clocks_commitment(u->clocks, u->st, commitment, err);
    if (!c)
        return err->code;
    if (kw_policy_attr_known(c->p, a, v))
        return KW_OK;
    char ptr[32];
    snprintf(ptr, sizeof(ptr), "/%s", kw_attr_name(a));
    return kw_err_set(err, KW_INVALID, ptr, "%s: \"%.40s\" is not in the commitment (%s %s)",
                      kw_attr_name(a), v, kw_policy_name(c->p), kw_policy_version(c->p));
}

/* ---- create ---- */

/* The organisation's contract decides tier and region: copied into the
 * buffers when not given; a customer may not claim others. */
static enum kw_code org_terms(struct kw_unit *u, const struct kw_actor *who,
                              struct kw_ticket_new *t, char *tier, char *region, char *name,
                              struct kw_err *err)
{
    struct kw_org o;
    enum kw_code rc = kw_store_org_get(u->st, t->org_id, &o, err);
    if (rc == KW_NOT_FOUND)
        return kw_err_set(err, KW_NOT_FOUND, "/org_id", "org_id: no organisation %lld",
                          (long long)t->org_id);
    if (rc != KW_OK)
        return rc;
    snprintf(tier, 48, "%s", o.tier ? o.tier : "");
    snprintf(region, 48, "%s", o.region ? o.region : "");
    snprintf(name, 201, "%s", o.name);
    bool other_tier = t->tier && strcmp(t->tier, tier) != 0;
    if (kw_actor_customer(who) && (other_tier || (t->region && strcmp(t->region, region) != 0)))
        return kw_err_set(err, KW_FORBIDDEN, other_tier ? "/tier" : "/region",
                          "tier and region come from your organisation's contract");
    if (!t->tier && tier[0])
        t->tier = tier;
    if (!t->region && region[0])
        t->region = region;
    return KW_OK;
}

static enum kw_code create_checks(struct kw_unit *u, const struct kw_actor *who,
                                  struct kw_ticket_new *t, char *tier, char *region, char *name,
                                  struct kw_err *err)
{
    int64_t commitment = 0;
    enum kw_code rc = kw_store_commitment_at(u->st, u->now, &commitment, err);
    if (rc == KW_OK)
        rc = org_terms(u, who, t, tier, region, name, err);
    static const enum kw_attr checked[] = {KW_ATTR_LEVEL, KW_ATTR_CATEGORY, KW_ATTR_TIER,
                                           KW_ATTR_REGION, KW_ATTR_CHANNEL};
    const char *vals[] = {t->level, t->category, t->tier, t->region, t->channel};
    for (size_t i = 0; rc == KW_OK && i < sizeof(checked) / sizeof(checked[0]); i++)
        rc = attr_known(u, commitment, checked[i], vals[i], err);
    if (rc != KW_OK)
        return rc;
    /* rules may name organisations; a commitment that lists them knows only those */
    struct kw_err ignored;
    t->organisation =
        attr_known(u, commitment, KW_ATTR_ORGANISATION, name, &ignored) == KW_OK ? name : NULL;
    if (!t->title || !*t->title)
        return kw_err_set(err, KW_INVALID, "/title", "title: missing");
    if (!t->level || !*t->level)
        return kw_err_set(err, KW_INVALID, "/level", "level: missing");
    return KW_OK;
}

enum kw_code kw_ticket_create(struct kw_unit *u, const struct kw_actor *who,
                              const struct kw_ticket_in *in, int64_t *id, bool *existed,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_ticket_new t = {
        .org_id = in->org_id,
        .created_by = who->id,
        .title = in->title,
        .level = in->level,
        .tier = in->tier,
        .category = in->category,
        .region = in->region,
        .channel = in->channel,
        .idempotency_key = in->idempotency_key,
        .at = u->now,
    };
    char tier[48], region[48], name[201];
    *existed = false;
    u->fire_at = KW_STORE_NO_TIME;
    if (who->role == KW_ROLE_SYSTEM)
        return kw_err_set(err, KW_FORBIDDEN, "", "tickets are opened by people");
    if (kw_actor_customer(who)) { /* customers open tickets for their own organisation only */
        if (t.org_id && t.org_id != who->org_id)
            return kw_err_set(err, KW_FORBIDDEN, "/org_id",
                              "org_id: customers open tickets for their own organisation");
        t.org_id = who->org_id;
    } else if (!t.org_id)
        return kw_err_set(err, KW_INVALID, "/org_id",
                          "org_id: missing (the customer organisation)");
    enum kw_code rc = create_checks(u, who, &t, tier, region, name, err);
    if (rc == KW_OK)
        rc = kw_store_ticket_create(u->st, &t, id, existed, err);
    if (rc == KW_OK && !*existed)
        rc = project(u, *id, &t, err);
    return rc;
}

/* ---- the log: comments, moves, milestones, ratings ---- */

enum kw_code kw_ticket_comment(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                               const char *text, bool internal, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct facts f;
    enum kw_code rc = read_ticket(u, who, ticket, &f, err);
    if (rc != KW_OK)
        return rc;
    if (!text || !*text)
        return kw_err_set(err, KW_INVALID, "/text", "text: missing");
    if (internal &&
        (rc = staff_only(who, "/internal", "customers cannot write internal notes", err)) != KW_OK)
        return rc;
    struct kw_event_rec r = {.kind = KW_EVENT_COMMENT, .text = text, .internal = internal};
    if ((rc = append(u, who, ticket, &r, NULL, err)) != KW_OK)
        return rc;
    return project(u, ticket, NULL, err);
}

/* A refused move is about the input's "to" (a reopen has none). */
static enum kw_code about_to(enum kw_code rc, const char *field, struct kw_err *err)
{
    if (rc == KW_CONFLICT && strcmp(err->field, "/state") == 0)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return rc;
}

unsigned kw_app_moves(const struct kw_actor *who, enum kw_state from)
{
    unsigned moves = kw_workflow_moves(from);
    if (kw_actor_customer(who)) /* customers sign off or reject a proposed resolution */
        moves &= from == KW_ST_FEEDBACK ? (1u << KW_ST_ARCHIVED) | (1u << KW_ST_HANDLING) : 0;
    return moves;
}

enum kw_code kw_ticket_move(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            enum kw_state to, const char *reason, struct kw_move *out,
                            struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct facts f;
    struct kw_transition tr;
    enum kw_code rc = read_ticket(u, who, ticket, &f, err);
    if (rc != KW_OK)
        return rc;
    out->from = f.state;
    out->to = to;
    if (to == KW_ST_REGISTERED)
        return kw_err_set(err, KW_INVALID, "/to",
                          "to: expected analysing, handling, feedback, archived or "
                          "waiting_customer");
    if (kw_actor_customer(who) && !(kw_app_moves(who, f.state) & (1u << to)))
        return kw_err_set(err, KW_FORBIDDEN, "/to",
                          "customers can only confirm (archived) or reject (handling) a "
                          "proposed resolution, or reopen");
    if ((rc = kw_workflow_move(f.state, to, &tr, err)) != KW_OK)
        return about_to(rc, "/to", err);
    struct kw_event_rec r = {.kind = tr.reopens ? KW_EVENT_REOPENED : KW_EVENT_STATE,
                             .state = kw_state_name(to),
                             .from = kw_state_name(f.state),
                             .reason = reason};
    rc = append(u, who, ticket, &r, kw_state_name(to), err);
    for (size_t i = 0; rc == KW_OK && i < tr.n; i++) {
        struct kw_event_rec m = {.kind = KW_EVENT_MILESTONE, .milestone = tr.milestones[i]};
        rc = append(u, who, ticket, &m, NULL, err);
    }
    return rc == KW_OK ? project(u, ticket, NULL, err) : rc;
}

enum kw_code kw_ticket_reopen(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                              const char *reason, struct kw_move *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct facts f;
    enum kw_code rc = read_ticket(u, who, ticket, &f, err);
    if (rc != KW_OK)
        return rc;
    out->from = f.state;
    out->to = KW_ST_HANDLING;
    int64_t window = 7 * 86400;
    if (f.commitment_id) {
        const struct kw_compiled *c = kw_clocks_commitment(u->clocks, u->st, f.commitment_id, err);
        if (!c)
            return err->code;
        window = kw_policy_reopen_window(c->p);
    }
    struct kw_ticket_events te = {0};
    rc = kw_ticket_events_load(u->st, ticket, &te, err);
    int64_t since = te.last_move;
    kw_ticket_events_release(&te);
    if (rc != KW_OK)
        return rc;
    if ((rc = kw_workflow_reopen(f.state, since, u->now, window, err)) != KW_OK)
        return about_to(rc, "", err);
    struct kw_event_rec r = {.kind = KW_EVENT_REOPENED,
                             .state = kw_state_name(KW_ST_HANDLING),
                             .from = kw_state_name(f.state),
                             .reason = reason};
    if ((rc = append(u, who, ticket, &r, kw_state_name(KW_ST_HANDLING), err)) != KW_OK)
        return rc;
    return project(u, ticket, NULL, err);
}

enum kw_code kw_ticket_milestone(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                 const char *milestone, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct facts f;
    enum kw_code rc = read_ticket(u, who, ticket, &f, err);
    if (rc == KW_OK)
        rc = staff_only(who, "/type", "milestones are recorded by the provider", err);
    if (rc != KW_OK)
        return rc;
    /* the built-in milestones, and those the ticket's commitment adds */
    const struct kw_compiled *c = NULL;
    if (f.commitment_id && !(c = kw_clocks_commitment(u->clocks, u->st, f.commitment_id, err)))
        return err->code;
    if (!milestone ||
        !(c ? kw_policy_is_milestone(c->p, milestone) : kw_builtin_milestone(milestone)))
        return kw_err_set(err, KW_INVALID, "/milestone",
                          "milestone: expected first_response, acknowledged, accepted, "
                          "plan_confirmed, on_site, restored, resolved, customer_confirmed, "
                          "closed, callback_done or one the commitment declares");
    struct kw_event_rec r = {.kind = KW_EVENT_MILESTONE, .milestone = milestone};
    if ((rc = append(u, who, ticket, &r, NULL, err)) != KW_OK)
        return rc;
    return project(u, ticket, NULL, err);
}

enum kw_code kw_ticket_rate(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            int satisfaction, int nps, const char *comment, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct facts f;
    enum kw_code rc = read_ticket(u, who, ticket, &f, err);
    if (rc != KW_OK)
        return rc;
    if (satisfaction < 1 || satisfaction > 5)
        return kw_err_set(err, KW_INVALID, "/satisfaction", "satisfaction: expected 1 to 5");
    if (nps < -1 || nps > 10)
        return kw_err_set(err, KW_INVALID, "/nps", "nps: expected 0 to 10 (or null)");
    if (f.state != KW_ST_FEEDBACK && f.state != KW_ST_ARCHIVED)
        return kw_err_set(err, KW_CONFLICT, "/type",
                          "the service is rated once a resolution is proposed (state feedback "
                          "or archived); this ticket is %s",
                          kw_state_name(f.state));
    struct kw_event_rec r = {
        .kind = KW_EVENT_RATING, .satisfaction = satisfaction, .nps = nps, .text = comment};
    if ((rc = append(u, who, ticket, &r, NULL, err)) != KW_OK)
        return rc;
    return project(u, ticket, NULL, err);
}

/* ---- level, category, assignee, team ---- */

static bool count(const struct kw_named_row *r, void *ctx)
{
    (void)r;
    ++*(int *)ctx;
    return true;
}

/* An assignee must be the provider's staff; a team must exist. */
static enum kw_code check_assignment(struct kw_store *st, const struct kw_ticket_change *c,
                                     struct kw_err *err)
{
    struct kw_user_row u;
    if (c->assignee_id > 0) {
        if (kw_store_user_get(st, c->assignee_id, &u, err) != KW_OK)
            return kw_err_set(err, KW_NOT_FOUND, "/assignee_id", "assignee_id: no user %lld",
                              (long long)c->assignee_id);
        if (strcmp(u.role, "customer") == 0)
            return kw_err_set(err, KW_INVALID, "/assignee_id",
                              "assignee_id: tickets are assigned to staff, not customers");
    }
    if (c->team_id > 0) {
        int found = 0;
        enum kw_code rc = kw_store_teams(st, c->team_id, count, &found, err);
        if (rc != KW_OK)
            return rc;
        if (!found)
            return kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                              (long long)c->team_id);
    }
    return KW_OK;
}

/* The events saying what changed (the row is already changed). */
static enum kw_code change_events(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                  const struct facts *f, const struct kw_ticket_change *c,
                                  struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    if (c->level && strcmp(c->level, f->level) != 0) {
        struct kw_event_rec r = {.kind = KW_EVENT_LEVEL, .from = f->level, .reason = c->reason};
        r.attrs.v[KW_ATTR_LEVEL] = c->level;
        rc = append(u, who, ticket, &r, NULL, err);
    }
    if (rc == KW_OK && c->category && strcmp(c->category, f->category) != 0) {
        struct kw_event_rec r = {.kind = KW_EVENT_CATEGORY,
                                 .from = f->category[0] ? f->category : NULL};
        r.attrs.v[KW_ATTR_CATEGORY] = c->category;
        rc = append(u, who, ticket, &r, NULL, err);
    }
    int64_t assignee = c->assignee_id < 0 ? 0 : c->assignee_id ? c->assignee_id : f->assignee_id;
    int64_t team = c->team_id < 0 ? 0 : c->team_id ? c->team_id : f->team_id;
    if (rc == KW_OK && (assignee != f->assignee_id || team != f->team_id)) {
        struct kw_event_rec r = {
            .kind = KW_EVENT_ASSIGNED, .assignee_id = assignee, .team_id = team};
        rc = append(u, who, ticket, &r, NULL, err);
    }
    return rc;
}

enum kw_code kw_ticket_change(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                              const struct kw_ticket_change *c, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct facts f;
    enum kw_code rc = staff_only(who, "", "customers cannot change a ticket's level or owner", err);
    if (rc == KW_OK)
        rc = read_ticket(u, who, ticket, &f, err);
    if (rc == KW_OK)
        rc = attr_known(u, f.commitment_id, KW_ATTR_LEVEL, c->level, err);
    if (rc == KW_OK)
        rc = attr_known(u, f.commitment_id, KW_ATTR_CATEGORY, c->category, err);
    if (rc == KW_OK)
        rc = check_assignment(u->st, c, err);
    if (rc != KW_OK)
        return rc;
    struct kw_ticket_patch p = {.level = c->level,
                                .category = c->category,
                                .assignee_id = c->assignee_id,
                                .team_id = c->team_id};
    if ((rc = kw_store_ticket_set(u->st, ticket, &p, err)) != KW_OK ||
        (rc = change_events(u, who, ticket, &f, c, err)) != KW_OK)
        return rc;
    return project(u, ticket, NULL, err);
}

/* ---- overruns ---- */

const struct kw_overrun_reason kw_overrun_reasons[KW_OVERRUN_REASONS] = {
    {"technology", "技术原因", "a technical cause"},
    {"staffing", "人员原因", "staffing"},
    {"process", "流程原因", "our process"},
    {"customer", "客户方原因", "a cause on the customer's side"},
    {"third_party", "第三方原因", "a third party"},
};

/* The row, with its metric copied: the row's strings die with the call. */
struct first {
    struct kw_overrun_row r;
    char metric[64];
};

static bool first_row(const struct kw_overrun_row *r, void *ctx)
{
    struct first *f = ctx;
    f->r = *r;
    snprintf(f->metric, sizeof(f->metric), "%s", r->metric);
    f->r.metric = f->metric;
    f->r.reason = f->r.note = f->r.rca = f->r.action = NULL;
    return false;
}

/* How the customer reads an overrun's clock: the metric's label in both
 * languages and the deadline in the local time of the clock's calendar
 * ("2026-11-21 11:43" and "Asia/Shanghai, UTC+08:00"). Without the
 * commitment (or the clock) the metric's id and UTC. */
struct overrun_words {
    const char *zh, *en;
    char when[24], zone_zh[96], zone_en[96];
};

static void overrun_words(struct kw_unit *u, const struct kw_overrun_row *o,
                          struct overrun_words *w)
{
    struct kw_err err = {0};
    const struct kw_compiled *k = NULL;
    struct kw_ticket_events te = {0};
    int32_t offset = 0;
    const char *tz = "UTC";
    w->zh = w->en = o->metric;
    if (o->commitment_id && u->clocks && u->sla &&
        kw_clocks_evaluate(u->clocks, u->st, u->sla, o->ticket_id, o->commitment_id, u->now, NULL,
                           &te, &k, &err) == KW_OK) {
        int m = kw_policy_metric_index(k->p, o->metric);
        if (m >= 0) {
            w->zh = kw_policy_metric_label(k->p, (size_t)m, "zh");
            w->en = kw_policy_metric_label(k->p, (size_t)m, "en");
        }
        for (size_t i = 0; i < u->sla->n; i++) {
            const struct kw_clock *c = &u->sla->clock[i];
            if (c->metric == m && c->calendar >= 0 && k->cals[c->calendar]) {
                tz = kw_policy_calendar_spec(k->p, (size_t)c->calendar)->tz;
                offset = kw_cal_utc_offset(k->cals[c->calendar], o->deadline);
            }
        }
    }
    kw_ticket_events_release(&te);
    char local[KW_INSTANT_BUF];
    kw_instant_format_local(o->deadline, offset, local);
    /* "2026-11-21T11:43:49+08:00" -> "2026-11-21 11:43" */
    snprintf(w->when, sizeof(w->when), "%.10s %.5s", local, local + 11);
    int32_t a = offset < 0 ? -offset : offset;
    char utc[16];
    snprintf(utc, sizeof(utc), "UTC%c%02d:%02d", offset < 0 ? '-' : '+', (int)(a / 3600),
             (int)(a % 3600 / 60));
    snprintf(w->zone_zh, sizeof(w->zone_zh), "%s，%s", tz, utc);
    snprintf(w->zone_en, sizeof(w->zone_en), "%s, %s", tz, utc);
}

/* The overrun_explained event and the overrun_notice it causes. */
static enum kw_code explained(struct kw_unit *u, const struct kw_actor *who,
                              const struct kw_overrun_row *o, const struct kw_overrun_reason *why,
                              const char *note, struct kw_err *err)
{
    char zh[1024], en[1024];
    struct overrun_words w;
    overrun_words(u, o, &w);
    snprintf(zh, sizeof(zh), "很抱歉：工单 #%lld 的%s未能在承诺时限（%s，%s）内完成，原因：%s。%s",
             (long long)o->ticket_id, w.zh, w.when, w.zone_zh, why->zh, note ? note : "");
    snprintf(en, sizeof(en),
             "We are sorry: ticket #%lld missed its %s commitment (due %s, %s) because of %s. %s",
             (long long)o->ticket_id, w.en, w.when, w.zone_en, why->en, note ? note : "");
    struct kw_event_rec r = {.kind = KW_EVENT_OVERRUN_EXPLAINED,
                             .overrun = o->id,
                             .metric = o->metric,
                             .reason = why->id,
                             .note = note,
                             .notice_zh = zh,
                             .notice_en = en};
    json_t *body = kw_event_encode(&r, err);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    enum kw_code rc = text ? kw_store_event_append(u->st, o->ticket_id, "overrun_explained", text,
                                                   who->id, u->now, NULL, NULL, err)
                           : kw_err_set(err, KW_NOMEM, "", "no memory");
    if (rc == KW_OK) {
        json_t *n = json_pack("{s:s, s:{s:I}, s:O}", "kind", "overrun_notice", "ticket", "id",
                              (json_int_t)o->ticket_id, "event", body);
        char *payload = n ? json_dumps(n, JSON_COMPACT) : NULL;
        char key[64];
        snprintf(key, sizeof(key), "overrun-%lld-%lld", (long long)o->id, (long long)u->now);
        rc = payload ? kw_store_outbox_add(u->st, "overrun_notice", o->ticket_id, o->org_id, 0,
                                           payload, key, u->now, err)
                     : kw_err_set(err, KW_NOMEM, "", "no memory");
        free(payload);
        json_decref(n);
    }
    free(text);
    json_decref(body);
    return rc;
}

enum kw_code kw_overrun_explain(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                                const char *reason, const char *note,
                                const struct kw_overrun_followup *f, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    const struct kw_overrun_reason *why = NULL;
    enum kw_code rc = staff_only(who, "", "the provider explains its overruns", err);
    if (rc != KW_OK)
        return rc;
    for (size_t k = 0; reason && k < KW_OVERRUN_REASONS; k++)
        if (strcmp(reason, kw_overrun_reasons[k].id) == 0)
            why = &kw_overrun_reasons[k];
    if (reason && !why)
        return kw_err_set(err, KW_INVALID, "/reason",
                          "reason: expected technology, staffing, process, customer or "
                          "third_party");
    if (note && !reason)
        return kw_err_set(err, KW_INVALID, "/reason", "reason: give the category with the note");
    if (!reason && !f)
        return kw_err_set(err, KW_INVALID, "", "nothing to change: give a reason or a followup");
    struct first one = {.r = {.id = 0}};
    struct kw_overrun_filter filter = {.id = id, .limit = 1};
    if ((rc = kw_store_overruns(u->st, &filter, first_row, &one, err)) != KW_OK)
        return rc;
    if (!one.r.id)
        return kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
    if (f && (rc = kw_store_overrun_follow(u->st, id, f, u->now, err)) != KW_OK)
        return rc;
    if (!why)
        return KW_OK;
    if ((rc = kw_store_overrun_explain(u->st, id, why->id, note, who->id, u->now, err)) != KW_OK)
        return rc;
    return explained(u, who, &one.r, why, note, err);
}

/* ---- catching up the projection at start ---- */

struct catch_up {
    struct kw_unit u;
    const int64_t *ids;
    size_t n;
};

static enum kw_code catch_up_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct catch_up *c = ctx;
    c->u.st = st;
    for (size_t i = 0; i < c->n; i++) {
        enum kw_code rc =
            kw_clocks_project(c->u.clocks, st, c->u.sla, c->ids[i], c->u.now, NULL, err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

enum kw_code kw_app_catch_up(struct kw_writer *w, struct kw_clocks *clocks, struct kw_sla *sla,
                             struct kw_store *reader, int64_t now, size_t *done, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    int64_t ids[256], after = 0;
    size_t n;
    *done = 0;
    do {
        enum kw_code rc = kw_store_stale(reader, after, 256, ids, &n, err);
        kw_store_end_read(reader);
        struct catch_up c = {.u = {.clocks = clocks, .sla = sla, .now = now}, .ids = ids, .n = n};
        if (rc == KW_OK && n)
            rc = kw_writer_run(w, catch_up_unit, &c, err);
        if (rc != KW_OK)
            return rc;
        *done += n;
        after = n ? ids[n - 1] : after;
    } while (n);
    return KW_OK;
}
