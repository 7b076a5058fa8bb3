// SPDX-License-Identifier: MIT
/* Every change to a ticket, once; see tickets.h. */
#include "tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "event.h"
#include "kw_buf.h"
#include "kw_crypto.h"
#include "kw_text.h"
#include "ledger.h"
#include "links.h"
#include "mailout.h"
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
    return kw_app_append_seq(st, ticket, r, actor, at, state, NULL, err);
}

enum kw_code kw_app_append_seq(struct kw_store *st, int64_t ticket, const struct kw_event_rec *r,
                               int64_t actor, int64_t at, const char *state, int64_t *seq,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    json_t *body = kw_event_encode(r, err);
    if (!body)
        return err->code;
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    enum kw_code rc = text ? kw_store_event_append(st, ticket, kw_event_kind_name(r->kind), text,
                                                   actor, at, state, seq, err)
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
 * falls due (unless the caller does that itself: kw_unit.project_later). */
static enum kw_code project(struct kw_unit *u, int64_t ticket, struct kw_err *err)
{
    if (u->project_later)
        return KW_OK;
    enum kw_code rc = kw_clocks_project(u->clocks, u->st, u->sla, ticket, u->now, NULL, err);
    return rc == KW_OK ? kw_store_fire_at(u->st, ticket, &u->fire_at, err) : rc;
}

/* project() after a unit whose events on ticket begin at first_seq: the KPI
 * runs are written again only when one of them may change them
 * (kw_clocks_project_since). */
static enum kw_code project_since(struct kw_unit *u, int64_t ticket, int64_t first_seq,
                                  struct kw_err *err)
{
    if (u->project_later)
        return KW_OK;
    enum kw_code rc =
        kw_clocks_project_since(u->clocks, u->st, u->sla, ticket, u->now, first_seq, err);
    return rc == KW_OK ? kw_store_fire_at(u->st, ticket, &u->fire_at, err) : rc;
}

/* A ticket's facts that an action needs, copied out of the row (whose
 * strings die with the next read). */
struct facts {
    int64_t org_id, commitment_id, assignee_id, team_id, requester_id;
    enum kw_state state;
    char level[48], category[48], region[48];
    char title[KW_TICKET_TITLE_MAX + 1];
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
    f->requester_id = t.requester_id;
    if (!t.state || !kw_state_parse(t.state, strlen(t.state), &f->state))
        f->state = KW_ST_REGISTERED;
    snprintf(f->level, sizeof(f->level), "%s", t.level ? t.level : "");
    snprintf(f->category, sizeof(f->category), "%s", t.category ? t.category : "");
    snprintf(f->region, sizeof(f->region), "%s", t.region ? t.region : "");
    snprintf(f->title, sizeof(f->title), "%s", t.title ? t.title : "");
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

/* The length of the Unicode space or invisible separator that s starts with
 * (White_Space, and the zero-width spaces and BOM a paste can bring), or 0. */
static size_t space_len(const unsigned char *s)
{
    if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        return 1;
    if (s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0)) /* NEL, NO-BREAK SPACE */
        return 2;
    if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) /* OGHAM SPACE MARK */
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x80 &&
        ((s[2] >= 0x80 && s[2] <= 0x8D) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
        return 3; /* U+2000-200D (spaces, zero-width), LINE/PARAGRAPH SEPARATOR, NNBSP */
    if (s[0] == 0xE2 && s[1] == 0x81 && (s[2] == 0x9F || s[2] == 0xA0))
        return 3;                                     /* MEDIUM MATHEMATICAL SPACE, WORD JOINER */
    if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) /* IDEOGRAPHIC SPACE (全角空格) */
        return 3;
    if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) /* BOM, ZERO WIDTH NO-BREAK SPACE */
        return 3;
    return 0;
}

/* Whether s (UTF-8) is empty or only spaces: nothing a person could read. */
bool kw_app_blank(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t n; p && *p; p += n)
        if (!(n = space_len(p)))
            return false;
    return true;
}

/* The request digest an Idempotency-Key is stored with: BLAKE2b-256 of the
 * canonical request, the JSON object {"category", "channel", "level",
 * "org_id", "region", "tier", "title"} with sorted keys, no spaces, UTF-8
 * unescaped, absent members as null and org_id the organisation the ticket
 * is for (a customer's own when they leave it out), and requester_id and
 * description when they are given. docs/api.md says so. */
static enum kw_code request_digest(const struct kw_ticket_in *in, int64_t org,
                                   unsigned char out[KW_HASH_BYTES], struct kw_err *err)
{
    json_t *j = json_object();
    const char *const keys[] = {"title", "level", "tier", "category", "region", "channel"};
    const char *const vals[] = {in->title,    in->level,  in->tier,
                                in->category, in->region, in->channel};
    for (size_t i = 0; j && i < sizeof(keys) / sizeof(keys[0]); i++)
        json_object_set_new(j, keys[i], vals[i] ? json_string(vals[i]) : json_null());
    if (j)
        json_object_set_new(j, "org_id", json_integer(org));
    if (j && in->requester_id) /* only when given: older keys' digests stay the same */
        json_object_set_new(j, "requester_id", json_integer(in->requester_id));
    if (j && in->description)
        json_object_set_new(j, "description", json_string(in->description));
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!text)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the request digest");
    struct kw_hash h;
    kw_hash_init(&h);
    kw_hash_update(&h, text, strlen(text));
    kw_hash_final(&h, out);
    free(text);
    return KW_OK;
}

/* s (NULL: "") into dst of cap bytes, cut to fit as snprintf would: three
 * snprintf calls were 1,600 instructions of every create (#20). */
static void copy_text(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strnlen(s, cap - 1) : 0;
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

/* The organisation's contract decides tier and region: copied into the
 * buffers when not given; a customer may not claim others. *commitment:
 * the version in force now, read with the organisation. */
static enum kw_code org_terms(struct kw_unit *u, const struct kw_actor *who,
                              struct kw_ticket_new *t, char *tier, char *region, char *name,
                              int64_t *commitment, struct kw_err *err)
{
    struct kw_org o;
    enum kw_code rc = kw_store_org_terms(u->st, t->org_id, u->now, &o, commitment, err);
    if (rc == KW_NOT_FOUND)
        return kw_err_set(err, KW_NOT_FOUND, "/org_id", "org_id: no organisation %lld",
                          (long long)t->org_id);
    if (rc != KW_OK)
        return rc;
    if (o.deactivated_at > 0) /* app/people.h: no new tickets meanwhile */
        return kw_err_set(err, KW_CONFLICT, "/org_id", "org_id: organisation %lld is deactivated",
                          (long long)t->org_id);
    copy_text(tier, 48, o.tier);
    copy_text(region, 48, o.region);
    copy_text(name, 201, o.name);
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

/* The customer staff log a ticket for must be a customer of its
 * organisation. */
static enum kw_code requester_ok(struct kw_unit *u, int64_t org, int64_t requester,
                                 struct kw_err *err)
{
    struct kw_user_row r;
    enum kw_code rc = kw_store_user_get(u->st, requester, &r, err);
    if (rc == KW_NOT_FOUND || (rc == KW_OK && (strcmp(r.role, "customer") != 0 || r.org_id != org)))
        return kw_err_set(err, KW_INVALID, "/requester_id",
                          "requester_id: user %lld is not a customer of organisation %lld",
                          (long long)requester, (long long)org);
    return rc;
}

static enum kw_code create_checks(struct kw_unit *u, const struct kw_actor *who,
                                  struct kw_ticket_new *t, char *tier, char *region, char *name,
                                  struct kw_err *err)
{
    int64_t commitment = 0;
    enum kw_code rc = org_terms(u, who, t, tier, region, name, &commitment, err);
    static const enum kw_attr checked[] = {KW_ATTR_LEVEL, KW_ATTR_CATEGORY, KW_ATTR_TIER,
                                           KW_ATTR_REGION, KW_ATTR_CHANNEL};
    const char *vals[] = {t->level, t->category, t->tier, t->region, t->channel};
    for (size_t i = 0; rc == KW_OK && i < sizeof(checked) / sizeof(checked[0]); i++)
        rc = attr_known(u, commitment, checked[i], vals[i], err);
    if (rc != KW_OK)
        return rc;
    /* the ticket follows the version checked, and its projection needs no read of it */
    t->commitment_read = true;
    t->commitment_id = commitment;
    t->org_read = true; /* read with its terms in this transaction */
    /* rules may name organisations; a commitment that lists them knows only those */
    struct kw_err ignored;
    t->organisation =
        attr_known(u, commitment, KW_ATTR_ORGANISATION, name, &ignored) == KW_OK ? name : NULL;
    if (!t->title || !*t->title)
        return kw_err_set(err, KW_INVALID, "/title", "title: missing");
    if (kw_app_blank(t->title))
        return kw_err_set(err, KW_INVALID, "/title",
                          "title: only spaces; say in a few words what is wrong");
    if (!t->level || !*t->level)
        return kw_err_set(err, KW_INVALID, "/level", "level: missing");
    return KW_OK;
}

/* The row t's insert wrote as id, with its projection's due and breach
 * (u->sla holds the clocks evaluated, when it follows a commitment). */
static void made(struct kw_unit *u, const struct kw_ticket_new *t, int64_t id,
                 struct kw_ticket_made *m)
{
    struct kw_ticket_row *r = &m->row;
    if ((t->tier && strlen(t->tier) >= sizeof(m->tier)) ||
        (t->region && strlen(t->region) >= sizeof(m->region)))
        return; /* not set: the caller reads it */
    r->id = id;
    r->org_id = t->org_id;
    r->created_by = t->created_by;
    r->created_at = r->updated_at = t->at; /* the created event's instant */
    r->last_seq = 1;
    r->commitment_id = t->commitment_id;
    r->assignee_id = r->team_id = 0;
    r->requester_id = t->requester_id;
    r->next_due = r->breached_at = KW_STORE_NO_TIME;
    if (t->commitment_id)
        kw_clocks_due(u->sla, &r->next_due, &r->breached_at);
    r->title = t->title;
    r->state = kw_state_name(KW_ST_REGISTERED);
    r->level = t->level;
    r->tier = t->tier ? strcpy(m->tier, t->tier) : NULL;
    r->category = t->category;
    r->region = t->region ? strcpy(m->region, t->region) : NULL;
    r->channel = t->channel;
    r->match = NULL;
    m->set = true;
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
        .requester_id = in->requester_id,
        .description = in->description,
        .idempotency_key = in->idempotency_key,
        .at = u->now,
    };
    char tier[48], region[48], name[201];
    unsigned char digest[KW_HASH_BYTES];
    *existed = false;
    u->fire_at = KW_STORE_NO_TIME;
    if (in->made)
        in->made->set = false;
    if (who->role == KW_ROLE_SYSTEM)
        return kw_err_set(err, KW_FORBIDDEN, "", "tickets are opened by people");
    if (kw_actor_customer(who)) { /* customers open tickets for their own organisation only */
        if (t.org_id && t.org_id != who->org_id)
            return kw_err_set(err, KW_FORBIDDEN, "/org_id",
                              "org_id: customers open tickets for their own organisation");
        if (t.requester_id && t.requester_id != who->id)
            return kw_err_set(err, KW_FORBIDDEN, "/requester_id",
                              "requester_id: customers open requests for themselves");
        if (in->via && t.channel && strcmp(t.channel, in->via) != 0)
            return kw_err_set(err, KW_FORBIDDEN, "/channel",
                              "channel: a customer's request comes in by %s", in->via);
        t.org_id = who->org_id;
        t.requester_id = who->id;
    } else if (!t.org_id)
        return kw_err_set(err, KW_INVALID, "/org_id",
                          "org_id: missing (the customer organisation)");
    if (!t.channel)
        t.channel = in->via;
    if (kw_app_blank(t.description)) /* nothing said: no description */
        t.description = NULL;
    enum kw_code rc = KW_OK;
    if (t.requester_id && !kw_actor_customer(who))
        rc = requester_ok(u, t.org_id, t.requester_id, err);
    if (rc == KW_OK && in->idempotency_key &&
        (rc = request_digest(in, t.org_id, digest, err)) == KW_OK)
        t.request_digest = digest;
    if (rc == KW_OK)
        rc = create_checks(u, who, &t, tier, region, name, err);
    if (in->made)
        t.head = in->made->row.head;
    /* the projection before the insert, so that the row is written with
     * its due columns once (#20) */
    struct kw_clocks_new pn = {0};
    if (rc == KW_OK)
        kw_clocks_prepare_new(u->clocks, u->st, u->sla, u->now, &t, &pn);
    if (rc == KW_OK)
        rc = kw_store_ticket_create(u->st, &t, id, existed, err);
    if (rc == KW_OK && !*existed) {
        rc = kw_clocks_project_new(u->clocks, u->st, u->sla, *id, u->now, &t, &pn, err);
        if (rc == KW_OK && pn.ready) /* stored as computed: no read */
            u->fire_at = t.fire_at;
        else if (rc == KW_OK)
            rc = kw_store_fire_at(u->st, *id, &u->fire_at, err);
    }
    kw_clocks_new_release(&pn);
    if (rc == KW_OK && !*existed && in->made)
        made(u, &t, *id, in->made);
    return rc;
}

/* ---- the log: comments, moves, milestones, ratings ---- */

/* Whether milestone m stands on the ticket: recorded and not taken back
 * by a reopening since (p NULL: nothing is taken back). */
static bool holds(const struct kw_policy *p, const struct kw_ticket_events *te, const char *m)
{
    bool held = false;
    for (size_t i = 0; i < te->n; i++) {
        const struct kw_event *e = &te->ev[i];
        if (e->type == KW_EV_MILESTONE && strcmp(e->name, m) == 0)
            held = true;
        else if (e->type == KW_EV_REOPENED && p && kw_policy_reopen_revokes(p, m))
            held = false;
    }
    return held;
}

/* The state the ticket was in before it last began waiting for the
 * customer, if the workflow lets it go back there; else handling. */
static enum kw_state before_waiting(const struct kw_ticket_events *te)
{
    enum kw_state s = KW_ST_HANDLING;
    for (size_t i = te->n; i-- > 0;) {
        const struct kw_event *e = &te->ev[i];
        if ((e->type != KW_EV_STATE && e->type != KW_EV_REOPENED) || !e->name ||
            strcmp(e->name, kw_state_name(KW_ST_WAITING_CUSTOMER)) != 0)
            continue;
        const char *from = json_string_value(json_object_get(te->docs[i], "from"));
        enum kw_state prev;
        if (from && kw_state_parse(from, strlen(from), &prev) &&
            (kw_workflow_moves(KW_ST_WAITING_CUSTOMER) & (1u << prev)))
            s = prev;
        break;
    }
    return s;
}

/* What a public reply means (the commitment's public_reply_implies and
 * customer_reply_resumes): staff's records the milestones it implies that
 * do not stand yet; a customer's to a ticket waiting for them moves it
 * back to the state it was in before waiting, so the clocks run again. */
static enum kw_code reply_means(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                const struct facts *f, struct kw_err *err)
{
    bool customer = kw_actor_customer(who);
    if (customer && f->state != KW_ST_WAITING_CUSTOMER)
        return KW_OK;
    const struct kw_compiled *c = NULL;
    if (f->commitment_id && !(c = kw_clocks_commitment(u->clocks, u->st, f->commitment_id, err)))
        return err->code;
    const struct kw_policy *p = c ? c->p : NULL;
    const char *const *implied;
    size_t n = customer ? 0 : kw_policy_reply_implies(p, &implied);
    if (customer ? !kw_policy_customer_reply_resumes(p) : n == 0)
        return KW_OK;
    struct kw_ticket_events te = {0};
    enum kw_code rc = kw_ticket_events_load(u->st, ticket, &te, err);
    for (size_t i = 0; rc == KW_OK && i < n; i++) {
        if (holds(p, &te, implied[i]))
            continue;
        struct kw_event_rec m = {.kind = KW_EVENT_MILESTONE, .milestone = implied[i]};
        rc = append(u, who, ticket, &m, NULL, err);
    }
    if (rc == KW_OK && customer) {
        enum kw_state to = before_waiting(&te);
        struct kw_event_rec r = {.kind = KW_EVENT_STATE,
                                 .state = kw_state_name(to),
                                 .from = kw_state_name(KW_ST_WAITING_CUSTOMER),
                                 .reason = "customer_reply"};
        rc = append(u, who, ticket, &r, kw_state_name(to), err);
    }
    kw_ticket_events_release(&te);
    return rc;
}

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
    /* a merged duplicate's conversation lives on its original, for every
     * channel */
    if ((rc = kw_ticket_refuse_merged(u->st, ticket, f.state == KW_ST_ARCHIVED, "comment on",
                                      "comments", err)) != KW_OK)
        return rc;
    struct kw_event_rec r = {.kind = KW_EVENT_COMMENT, .text = text, .internal = internal};
    int64_t seq = 0;
    if ((rc = kw_app_append_seq(u->st, ticket, &r, who->id, u->now, NULL, &seq, err)) != KW_OK)
        return rc;
    if (!internal && (rc = reply_means(u, who, ticket, &f, err)) != KW_OK)
        return rc;
    /* a comment alone changes no clock: the KPI runs stay as stored unless
     * the reply meant a milestone or a move (reply_means) */
    if ((rc = project_since(u, ticket, seq, err)) != KW_OK)
        return rc;
    /* a public staff reply on a ticket that came by mail is mailed back */
    return internal || kw_actor_customer(who) ? KW_OK
                                              : kw_mailout_reply(u, ticket, who->id, text, err);
}

enum kw_code kw_ticket_comment_time(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                    const char *text, bool internal, const struct kw_time_in *time,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc;
    /* refuse the time before the comment is written: one answer, no half */
    if (time && time->seconds &&
        (rc = staff_only(who, "/time_spent", "customers do not record time spent", err)) != KW_OK)
        return rc;
    if ((rc = kw_ticket_comment(u, who, ticket, text, internal, err)) != KW_OK || !time ||
        !time->seconds)
        return rc;
    struct kw_ticket_row t;
    if ((rc = kw_store_ticket_get(u->st, ticket, &t, err)) != KW_OK)
        return rc;
    struct kw_time_in in = *time;
    in.comment_seq = t.last_seq; /* the comment just written */
    in.corrects = 0;
    rc = kw_ticket_time(u, who, ticket, &in, err);
    if (rc != KW_OK && strncmp(err->field, "/seconds", 8) == 0)
        snprintf(err->field, sizeof(err->field), "/time_spent");
    return rc;
}

/* The time_spent entry at seq, found among the ticket's events. */
struct entry_find {
    int64_t seq, team_id;
    bool found, correction;
};

static bool entry_of(const struct kw_stored_event *ev, void *ctx)
{
    struct entry_find *f = ctx;
    if (ev->seq != f->seq)
        return true;
    struct kw_event_rec r;
    json_t *hold = NULL;
    if (strcmp(ev->type, "time_spent") == 0 &&
        kw_event_decode(ev->type, ev->body, &r, &hold, NULL) == KW_OK) {
        f->found = true;
        f->correction = r.corrects != 0;
        f->team_id = r.team_id;
    }
    json_decref(hold);
    return false;
}

enum kw_code kw_ticket_time(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            const struct kw_time_in *in, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct facts f;
    enum kw_code rc = read_ticket(u, who, ticket, &f, err);
    if (rc != KW_OK)
        return rc;
    if ((rc = staff_only(who, "", "customers do not record time spent", err)) != KW_OK)
        return rc;
    if (who->role == KW_ROLE_SYSTEM)
        return kw_err_set(err, KW_FORBIDDEN, "", "time spent is recorded by a person");
    int64_t min = in->corrects ? 0 : 1;
    if (in->seconds < min || in->seconds > KW_TIME_MAX_SECONDS)
        return kw_err_set(err, KW_INVALID, "/seconds",
                          "seconds: %lld is out of range (expected %lld to %d, at most 24 h per "
                          "entry%s)",
                          (long long)in->seconds, (long long)min, KW_TIME_MAX_SECONDS,
                          in->corrects ? "; 0 withdraws the entry" : "");
    struct kw_event_rec r = {.kind = KW_EVENT_TIME_SPENT,
                             .seconds = in->seconds,
                             .team_id = f.team_id,
                             .note = in->note && *in->note ? in->note : NULL,
                             .comment_seq = in->comment_seq,
                             .corrects = in->corrects};
    if (in->corrects) {
        struct entry_find e = {.seq = in->corrects};
        if ((rc = kw_store_events(u->st, ticket, entry_of, &e, err)) != KW_OK)
            return rc;
        if (!e.found)
            return kw_err_set(err, KW_NOT_FOUND, "/corrects",
                              "corrects: event %lld of ticket %lld is not a time entry",
                              (long long)in->corrects, (long long)ticket);
        if (e.correction)
            return kw_err_set(err, KW_INVALID, "/corrects",
                              "corrects: event %lld is itself a correction; give the seq of the "
                              "entry it corrects",
                              (long long)in->corrects);
        r.team_id = e.team_id; /* the time stays charged where it was spent */
    }
    return append(u, who, ticket, &r, NULL, err);
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
    return rc == KW_OK ? project(u, ticket, err) : rc;
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
    return project(u, ticket, err);
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
    if (strcmp(milestone, "confirmed_by_timeout") == 0)
        return kw_err_set(err, KW_INVALID, "/milestone",
                          "confirmed_by_timeout is recorded only when the wait for the "
                          "customer's confirmation runs out");
    struct kw_event_rec r = {.kind = KW_EVENT_MILESTONE, .milestone = milestone};
    if ((rc = append(u, who, ticket, &r, NULL, err)) != KW_OK)
        return rc;
    return project(u, ticket, err);
}

/* Whether the ticket was rated since it was last reopened. */
struct rated {
    bool rated;
    int satisfaction;
};

static bool rated_scan(const struct kw_stored_event *ev, void *ctx)
{
    struct rated *r = ctx;
    if (strcmp(ev->type, kw_event_kind_name(KW_EVENT_REOPENED)) == 0)
        r->rated = false;
    else if (strcmp(ev->type, kw_event_kind_name(KW_EVENT_RATING)) == 0) {
        json_t *b = json_loads(ev->body, 0, NULL);
        /* what the customer told a call-back is not their own rating */
        if (json_is_string(json_object_get(b, "source"))) {
            json_decref(b);
            return true;
        }
        r->rated = true;
        r->satisfaction = (int)json_integer_value(json_object_get(b, "satisfaction"));
        json_decref(b);
    }
    return true;
}

enum kw_code kw_ticket_rate(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            int satisfaction, int nps, const char *comment, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct facts f;
    enum kw_code rc = read_ticket(u, who, ticket, &f, err);
    if (rc != KW_OK)
        return rc;
    if (!kw_actor_customer(who))
        return kw_err_set(err, KW_FORBIDDEN, "/type",
                          "the service is rated by the customer who asked for it; the provider's "
                          "people cannot rate their own work");
    if (satisfaction < 1 || satisfaction > 5)
        return kw_err_set(err, KW_INVALID, "/satisfaction", "satisfaction: expected 1 to 5");
    if (nps < -1 || nps > 10)
        return kw_err_set(err, KW_INVALID, "/nps", "nps: expected 0 to 10 (or null)");
    if (f.state != KW_ST_FEEDBACK && f.state != KW_ST_ARCHIVED)
        return kw_err_set(err, KW_CONFLICT, "/type",
                          "the service is rated once a resolution is proposed (state feedback "
                          "or archived); this ticket is %s",
                          kw_state_name(f.state));
    /* once per resolution: only a reopening (or a rejected resolution, which
     * is one) leads back to work and to another resolution to rate */
    struct rated seen = {0};
    if ((rc = kw_store_events(u->st, ticket, rated_scan, &seen, err)) != KW_OK)
        return rc;
    if (seen.rated)
        return kw_err_set(err, KW_CONFLICT, "/type",
                          "this resolution is rated already (satisfaction %d); a ticket is rated "
                          "once per resolution",
                          seen.satisfaction);
    struct kw_event_rec r = {
        .kind = KW_EVENT_RATING, .satisfaction = satisfaction, .nps = nps, .text = comment};
    if ((rc = append(u, who, ticket, &r, NULL, err)) != KW_OK)
        return rc;
    return project(u, ticket, err);
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

/* Whether text s (UTF-8, checked by the JSON parser) is free of control
 * characters: C0 (a description may keep tab, line feed and carriage
 * return), DEL and C1 (U+0080-U+009F, UTF-8 C2 80-C2 9F). */
static enum kw_code plain_text(const char *field, const char *s, bool lines, struct kw_err *err)
{
    if (kw_text_has_control(s, strlen(s), lines))
        return kw_err_set(err, KW_INVALID, field, "%s: control characters are not allowed%s",
                          field + 1,
                          lines ? " (only tabs and line breaks)" : " (one line of text)");
    return KW_OK;
}

/* The ticket's description now: the last edit's, else what was reported
 * with the ticket (*out NULL: none). */
struct described {
    char *text;
    bool failed;
};

static bool description_of(const struct kw_stored_event *ev, void *ctx)
{
    struct described *d = ctx;
    bool created = strcmp(ev->type, "created") == 0;
    if (!created && strcmp(ev->type, "edited") != 0)
        return true;
    json_t *b = json_loads(ev->body, 0, NULL);
    const char *field = json_string_value(json_object_get(b, "field"));
    if (created || (field && strcmp(field, "description") == 0)) {
        const char *v = json_string_value(json_object_get(b, created ? "description" : "to"));
        free(d->text);
        d->text = v ? strdup(v) : NULL;
        d->failed |= v && !d->text;
    }
    json_decref(b);
    return true;
}

/* Who may change what (docs/policy.md "Editing a ticket"): staff every
 * field; a customer only the title and description, while the provider
 * still works on it (not once a resolution is proposed); nobody edits the
 * title, description, region or requester of an archived ticket. */
static enum kw_code may_change(const struct kw_actor *who, const struct facts *f,
                               const struct kw_ticket_change *c, struct kw_err *err)
{
    bool text = c->title || c->description;
    bool edit = text || c->region || c->requester_id;
    if (kw_actor_customer(who)) {
        static const char *const staff[] = {"/level",        "/category",    "/region",
                                            "/requester_id", "/assignee_id", "/team_id"};
        bool given[] = {c->level,        c->category,    c->region,
                        c->requester_id, c->assignee_id, c->team_id};
        for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
            if (given[i])
                return kw_err_set(err, KW_FORBIDDEN, staff[i],
                                  "%s: customers change only the title and description of their "
                                  "requests",
                                  staff[i] + 1);
        if (!text)
            return kw_err_set(err, KW_INVALID, "", "nothing to change (title, description)");
        if (f->state == KW_ST_FEEDBACK || f->state == KW_ST_ARCHIVED)
            return kw_err_set(err, KW_CONFLICT, c->title ? "/title" : "/description",
                              "the request is %s: its title and description are kept as they "
                              "were resolved (add a comment, or reject the resolution)",
                              kw_state_name(f->state));
    }
    if (edit && f->state == KW_ST_ARCHIVED)
        return kw_err_set(err, KW_CONFLICT, "",
                          "the ticket is archived: reopen it to change its title, description, "
                          "region or requester");
    return KW_OK;
}

static enum kw_code check_edit(struct kw_unit *u, const struct facts *f,
                               const struct kw_ticket_change *c, struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    if (c->title) {
        if (kw_app_blank(c->title))
            return kw_err_set(err, KW_INVALID, "/title",
                              "title: only spaces; say in a few words what is wrong");
        if (strlen(c->title) > KW_TICKET_TITLE_MAX)
            return kw_err_set(err, KW_TOO_BIG, "/title", "title: longer than %d bytes",
                              KW_TICKET_TITLE_MAX);
        rc = plain_text("/title", c->title, false, err);
    }
    if (rc == KW_OK && c->description)
        rc = plain_text("/description", c->description, true, err);
    if (rc == KW_OK && c->region && !*c->region)
        rc = kw_err_set(err, KW_INVALID, "/region", "region: empty (give one of the commitment's)");
    if (rc == KW_OK)
        rc = attr_known(u, f->commitment_id, KW_ATTR_REGION, c->region, err);
    if (rc == KW_OK && c->requester_id > 0)
        rc = requester_ok(u, f->org_id, c->requester_id, err);
    if (rc == KW_OK && c->requester_id < 0)
        rc = kw_err_set(err, KW_INVALID, "/requester_id",
                        "requester_id: a ticket keeps a requester once it has one (name another)");
    return rc;
}

/* The title and description events (the row is already changed). */
static enum kw_code text_events(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                const struct facts *f, const struct kw_ticket_change *c,
                                struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    if (c->title && strcmp(c->title, f->title) != 0) {
        struct kw_event_rec r = {.kind = KW_EVENT_EDITED,
                                 .name = "title",
                                 .from = f->title,
                                 .text = c->title,
                                 .reason = c->reason};
        rc = append(u, who, ticket, &r, NULL, err);
    }
    if (rc != KW_OK || !c->description)
        return rc;
    struct described d = {0};
    rc = kw_store_events(u->st, ticket, description_of, &d, err);
    if (rc == KW_OK && d.failed)
        rc = kw_err_set(err, KW_NOMEM, "", "no memory for the description");
    if (rc == KW_OK && strcmp(d.text ? d.text : "", c->description) != 0) {
        struct kw_event_rec r = {.kind = KW_EVENT_EDITED,
                                 .name = "description",
                                 .from = d.text,
                                 .text = c->description,
                                 .reason = c->reason};
        rc = append(u, who, ticket, &r, NULL, err);
    }
    free(d.text);
    return rc;
}

/* The events saying what changed (the row is already changed). */
static enum kw_code change_events(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                                  const struct facts *f, const struct kw_ticket_change *c,
                                  struct kw_err *err)
{
    enum kw_code rc = text_events(u, who, ticket, f, c, err);
    if (rc == KW_OK && c->level && strcmp(c->level, f->level) != 0) {
        struct kw_event_rec r = {.kind = KW_EVENT_LEVEL, .from = f->level, .reason = c->reason};
        r.attrs.v[KW_ATTR_LEVEL] = c->level;
        rc = append(u, who, ticket, &r, NULL, err);
    }
    if (rc == KW_OK && c->category && strcmp(c->category, f->category) != 0) {
        struct kw_event_rec r = {.kind = KW_EVENT_CATEGORY,
                                 .from = f->category[0] ? f->category : NULL,
                                 .reason = c->reason};
        r.attrs.v[KW_ATTR_CATEGORY] = c->category;
        rc = append(u, who, ticket, &r, NULL, err);
    }
    if (rc == KW_OK && c->region && strcmp(c->region, f->region) != 0) {
        struct kw_event_rec r = {
            .kind = KW_EVENT_REGION, .from = f->region[0] ? f->region : NULL, .reason = c->reason};
        r.attrs.v[KW_ATTR_REGION] = c->region;
        rc = append(u, who, ticket, &r, NULL, err);
    }
    if (rc == KW_OK && c->requester_id > 0 && c->requester_id != f->requester_id) {
        struct kw_event_rec r = {.kind = KW_EVENT_REQUESTER,
                                 .requester_id = c->requester_id,
                                 .user_id = f->requester_id,
                                 .reason = c->reason};
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
    enum kw_code rc =
        who->role == KW_ROLE_SYSTEM && (c->title || c->description || c->region || c->requester_id)
            ? kw_err_set(err, KW_FORBIDDEN, "", "tickets are edited by people")
            : KW_OK;
    if (rc == KW_OK)
        rc = read_ticket(u, who, ticket, &f, err);
    if (rc == KW_OK)
        rc = may_change(who, &f, c, err);
    if (rc == KW_OK)
        rc = attr_known(u, f.commitment_id, KW_ATTR_LEVEL, c->level, err);
    if (rc == KW_OK)
        rc = attr_known(u, f.commitment_id, KW_ATTR_CATEGORY, c->category, err);
    if (rc == KW_OK)
        rc = check_edit(u, &f, c, err);
    if (rc == KW_OK)
        rc = check_assignment(u->st, c, err);
    if (rc != KW_OK)
        return rc;
    struct kw_ticket_patch p = {.level = c->level,
                                .category = c->category,
                                .title = c->title,
                                .region = c->region,
                                .assignee_id = c->assignee_id,
                                .team_id = c->team_id,
                                .requester_id = c->requester_id};
    if ((rc = kw_store_ticket_set(u->st, ticket, &p, err)) != KW_OK ||
        (rc = change_events(u, who, ticket, &f, c, err)) != KW_OK)
        return rc;
    return project(u, ticket, err);
}

/* ---- overruns ---- */

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
    /* the note is the user's, up to the request's limit: the notice holds
     * all of it (no fixed buffer to cut it, least of all inside a character) */
    struct kw_buf zh = {0}, en = {0};
    struct overrun_words w;
    overrun_words(u, o, &w);
    kw_buf_printf(&zh, "很抱歉：工单 #%lld 的%s未能在承诺时限（%s，%s）内完成，原因：%s。",
                  (long long)o->ticket_id, w.zh, w.when, w.zone_zh, why->zh);
    kw_buf_printf(
        &en, "We are sorry: ticket #%lld missed its %s commitment (due %s, %s) because of %s. ",
        (long long)o->ticket_id, w.en, w.when, w.zone_en, why->en);
    kw_buf_adds(&zh, note ? note : "");
    kw_buf_adds(&en, note ? note : "");
    if (zh.failed || en.failed || !zh.p || !en.p) {
        kw_buf_release(&zh);
        kw_buf_release(&en);
        return kw_err_set(err, KW_NOMEM, "", "no memory for the notice");
    }
    struct kw_event_rec r = {.kind = KW_EVENT_OVERRUN_EXPLAINED,
                             .overrun = o->id,
                             .metric = o->metric,
                             .reason = why->id,
                             .note = note,
                             .notice_zh = zh.p,
                             .notice_en = en.p};
    json_t *body = kw_event_encode(&r, err);
    kw_buf_release(&zh);
    kw_buf_release(&en);
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
                          "reason: expected technology, staffing, process, customer, "
                          "third_party or force_majeure");
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
    /* a credit accrued under the old reason is computed again (ledger.h) */
    if ((rc = kw_ledger_reason_changed(u, who, id, err)) != KW_OK)
        return rc;
    return explained(u, who, &one.r, why, note, err);
}

/* ---- catching up the projection at start ---- */

struct catch_up {
    struct kw_unit u;
    const int64_t *ids;
    int64_t *fire_at;
    size_t n;
};

static enum kw_code catch_up_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct catch_up *c = ctx;
    c->u.st = st;
    for (size_t i = 0; i < c->n; i++) {
        enum kw_code rc =
            kw_clocks_project(c->u.clocks, st, c->u.sla, c->ids[i], c->u.now, NULL, err);
        if (rc == KW_OK)
            rc = kw_store_fire_at(st, c->ids[i], &c->fire_at[i], err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

enum kw_code kw_app_catch_up_each(struct kw_writer *w, struct kw_clocks *clocks, struct kw_sla *sla,
                                  struct kw_store *reader, int64_t now,
                                  void (*fn)(int64_t ticket, int64_t fire_at, void *ctx), void *ctx,
                                  size_t *done, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    int64_t ids[256], fire_at[256], after = 0;
    size_t n;
    *done = 0;
    do {
        enum kw_code rc = kw_store_stale(reader, after, 256, ids, &n, err);
        kw_store_end_read(reader);
        struct catch_up c = {.u = {.clocks = clocks, .sla = sla, .now = now},
                             .ids = ids,
                             .fire_at = fire_at,
                             .n = n};
        if (rc == KW_OK && n)
            rc = kw_writer_run(w, catch_up_unit, &c, err);
        if (rc != KW_OK)
            return rc;
        for (size_t i = 0; fn && i < n; i++)
            fn(ids[i], fire_at[i], ctx);
        *done += n;
        after = n ? ids[n - 1] : after;
    } while (n);
    return KW_OK;
}

enum kw_code kw_app_catch_up(struct kw_writer *w, struct kw_clocks *clocks, struct kw_sla *sla,
                             struct kw_store *reader, int64_t now, size_t *done, struct kw_err *err)
{
    return kw_app_catch_up_each(w, clocks, sla, reader, now, NULL, NULL, done, err);
}
