// SPDX-License-Identifier: MIT
/* /api/v1/tickets: create, list, read, change, events, clocks, service
 * nodes and chain verification. Every write is a unit on the writer that
 * appends its events and refreshes the ticket's clock projection in the
 * same transaction. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil.h"
#include "internal.h"
#include "sla_json.h"
#include "confirm.h"
#include "tickets.h"
#include "workflow.h"

/* A unit for an application action on the writer's handle. */
static struct kw_unit unit_of(struct kw_http *h, struct kw_store *st, int64_t now)
{
    return (struct kw_unit){
        .st = st, .clocks = h->clocks, .sla = &h->wsla, .now = now, .fire_at = KW_STORE_NO_TIME};
}

/* ---- reading ---- */

static json_t *ticket_json(const struct kw_ticket_row *t, int64_t now)
{
    char head[2 * KW_HASH_BYTES + 1];
    kwh_hex(t->head, KW_HASH_BYTES, head);
    bool breached = t->breached_at != KW_STORE_NO_TIME ||
                    (t->next_due != KW_STORE_NO_TIME && t->next_due <= now);
    json_t *j =
        json_pack("{s:I, s:I, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)t->id,
                  "org_id", (json_int_t)t->org_id, "commitment_id",
                  kwh_id_or_null(t->commitment_id), "title", t->title, "state", t->state, "level",
                  t->level, "tier", kwh_nullable(t->tier), "category", kwh_nullable(t->category),
                  "region", kwh_nullable(t->region), "channel", kwh_nullable(t->channel));
    json_object_set_new(j, "assignee_id", kwh_id_or_null(t->assignee_id));
    json_object_set_new(j, "team_id", kwh_id_or_null(t->team_id));
    json_object_set_new(j, "due_at", kwh_instant_json(t->next_due));
    json_object_set_new(j, "breached", json_boolean(breached));
    json_object_set_new(j, "breached_at", kwh_instant_json(t->breached_at));
    json_object_set_new(j, "created_at", kwh_instant_json(t->created_at));
    json_object_set_new(j, "updated_at", kwh_instant_json(t->updated_at));
    json_object_set_new(j, "created_by", kwh_id_or_null(t->created_by));
    json_object_set_new(j, "requester_id", kwh_id_or_null(t->requester_id));
    json_object_set_new(j, "events", json_integer(t->last_seq));
    json_object_set_new(j, "chain_head", json_string(head));
    return j;
}

struct clock_ctx {
    json_t *list;
    const struct kw_policy *p;
    bool customer;
    bool hidden_due, hidden_breach; /* a clock hidden from the customer runs / breached */
    bool late_seen;                 /* a clock shown is breached or met late */
    int64_t due, breach;            /* the earliest deadline / breach among the clocks shown */
};

/* Whether a customer may see metric's clock and events (not a staff-only
 * one, like the call-back; p NULL: no commitment, nothing to hide). */
static bool customer_sees(const struct kw_policy *p, const char *metric)
{
    int m = p && metric ? kw_policy_metric_index(p, metric) : -1;
    return m < 0 || !kw_policy_metric_staff_only(p, (size_t)m);
}

/* The highest warning of metric below pct (0: none), from the commitment. */
static int warned_below(const struct kw_policy *p, const char *metric, int pct)
{
    int m = p ? kw_policy_metric_index(p, metric) : -1, warned = 0;
    const uint8_t *w;
    size_t n = m >= 0 ? kw_policy_metric_warn(p, (size_t)m, &w) : 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] < pct)
            warned = w[i];
    return warned;
}

static bool clock_add(const struct kw_clock_row *c, void *ctx)
{
    struct clock_ctx *cc = ctx;
    bool running = strcmp(c->status, "running") == 0, late = strcmp(c->status, "breached") == 0;
    if (cc->customer && !customer_sees(cc->p, c->metric)) {
        cc->hidden_due |= running;
        cc->hidden_breach |= late || strcmp(c->status, "met_late") == 0;
        return true;
    }
    if (running && c->deadline != KW_STORE_NO_TIME &&
        (cc->due == KW_STORE_NO_TIME || c->deadline < cc->due))
        cc->due = c->deadline;
    if (late && c->deadline != KW_STORE_NO_TIME &&
        (cc->breach == KW_STORE_NO_TIME || c->deadline < cc->breach))
        cc->breach = c->deadline;
    cc->late_seen |= late || strcmp(c->status, "met_late") == 0;
    int warned = c->next_pct ? warned_below(cc->p, c->metric, c->next_pct) : 0;
    bool breached = strcmp(c->status, "breached") == 0 || strcmp(c->status, "met_late") == 0;
    json_array_append_new(cc->list,
                          json_pack("{s:s, s:s, s:o, s:o, s:o, s:i, s:s}", "metric", c->metric,
                                    "status", c->status, "deadline", kwh_instant_json(c->deadline),
                                    "next_due", kwh_instant_json(c->next_due), "next_pct",
                                    c->next_pct ? json_integer(c->next_pct) : json_null(),
                                    "warned_pct", warned, "colour",
                                    breached ? "breached"
                                    : warned ? kw_warning_colour(warned)
                                             : "none"));
    return true;
}

/* What a customer does not see: internal notes, the staff-side warnings
 * and escalation steps, and a staff-only clock's breach. */
static bool staff_side_event(const struct kw_policy *p, const char *type, json_t *body)
{
    if (json_is_true(json_object_get(body, "internal")) || strcmp(type, "sla_warning") == 0 ||
        strcmp(type, "escalated") == 0 || strcmp(type, "callback") == 0 ||
        strncmp(type, "task_", 5) == 0 || strcmp(type, "time_spent") == 0)
        return true;
    /* a link to another organisation's ticket: not even its number */
    if ((strcmp(type, "linked") == 0 || strcmp(type, "unlinked") == 0) &&
        json_is_true(json_object_get(body, "cross_org")))
        return true;
    /* what staff noted on a call-back is theirs */
    if (strcmp(type, "rating") == 0 && json_is_string(json_object_get(body, "source")))
        return true;
    return strcmp(type, "sla_breach") == 0 &&
           !customer_sees(p, json_string_value(json_object_get(body, "metric")));
}

/* The events a customer sees of a ticket: how many, the last one's hash
 * and instant (so that their count, chain head and updated_at say nothing
 * of the events they do not see). */
struct seen {
    const struct kw_policy *p;
    int64_t n, at;
    char head[2 * KW_HASH_BYTES + 1];
};

static bool count_seen(const struct kw_stored_event *ev, void *ctx)
{
    struct seen *s = ctx;
    json_t *body = json_loads(ev->body, 0, NULL);
    if (!staff_side_event(s->p, ev->type, body)) {
        s->n++;
        s->at = ev->at;
        kwh_hex(ev->hash, KW_HASH_BYTES, s->head);
    }
    json_decref(body);
    return true;
}

static void customer_counts(struct kw_store *st, const struct kw_policy *p, int64_t ticket,
                            json_t *j)
{
    struct seen s = {.p = p};
    struct kw_err err = {0};
    if (kw_store_events(st, ticket, count_seen, &s, &err) != KW_OK)
        return;
    json_object_set_new(j, "events", json_integer(s.n));
    json_object_set_new(j, "chain_head", json_string(s.head));
    if (s.n)
        json_object_set_new(j, "updated_at", kwh_instant_json(s.at));
}

/* A ticket's clock rows copied out of the store, so that they outlive the
 * read: the create's unit reads them in its transaction (on PostgreSQL
 * from what its projection just wrote, no round trip) and the request
 * answers without reading them again after the commit. */
struct clocks_copy {
    size_t n;
    bool read; /* the rows are the ticket's (else: read them) */
    struct kw_clock_row r[KW_POLICY_MAX_METRICS];
    char metric[KW_POLICY_MAX_METRICS][KW_POLICY_ID_MAX], status[KW_POLICY_MAX_METRICS][16];
};

static bool clock_keep(const struct kw_clock_row *c, void *ctx)
{
    struct clocks_copy *k = ctx;
    if (k->n == KW_POLICY_MAX_METRICS || strlen(c->metric) >= sizeof(k->metric[0]) ||
        strlen(c->status) >= sizeof(k->status[0])) {
        k->read = false; /* more than a commitment has: read them after all */
        return false;
    }
    size_t i = k->n++;
    k->r[i] = *c;
    k->r[i].metric = strcpy(k->metric[i], c->metric);
    k->r[i].status = strcpy(k->status[i], c->status);
    return true;
}

static enum kw_code clocks_copy_get(struct kw_store *st, int64_t id, struct clocks_copy *k,
                                    struct kw_err *err)
{
    k->n = 0;
    k->read = true;
    enum kw_code rc = kw_store_ticket_clocks(st, id, clock_keep, k, err);
    if (rc != KW_OK)
        k->read = false;
    return rc;
}

/* kwh_ticket_with_clocks, and *due: the ticket's due as the JSON says it
 * (a customer's from their clocks alone); kept: its clocks as read before
 * (NULL or not read: read them now). */
static json_t *with_clocks(struct kw_http *h, struct kw_store *st, bool customer,
                           const struct kw_ticket_row *t, int64_t now,
                           const struct clocks_copy *kept, int64_t *due)
{
    json_t *j = ticket_json(t, now);
    struct kw_err err = {0};
    const struct kw_compiled *c =
        t->commitment_id ? kwh_policy_for(h, st, t->commitment_id, &err) : NULL;
    struct clock_ctx cc = {json_array(), c ? c->p : NULL, customer, .due = KW_STORE_NO_TIME,
                           .breach = KW_STORE_NO_TIME};
    if (kept && kept->read)
        for (size_t i = 0; i < kept->n && clock_add(&kept->r[i], &cc); i++)
            ;
    else
        kw_store_ticket_clocks(st, t->id, clock_add, &cc, &err);
    json_object_set_new(j, "clocks", cc.list);
    if (customer)
        customer_counts(st, c ? c->p : NULL, t->id, j);
    /* The ticket's due and breach figures come from all its clocks: a
     * customer's, when a clock hidden from them counts there, from theirs
     * alone (a met_late clock keeps no breach instant: then only "breached") */
    *due = t->next_due;
    if (cc.hidden_due) {
        json_object_set_new(j, "due_at", kwh_instant_json(cc.due));
        *due = cc.due;
    }
    if (cc.hidden_due || cc.hidden_breach) {
        bool breached = cc.late_seen || (cc.due != KW_STORE_NO_TIME && cc.due <= now);
        json_object_set_new(j, "breached", json_boolean(breached));
        if (cc.hidden_breach)
            json_object_set_new(j, "breached_at", kwh_instant_json(cc.breach));
    }
    return j;
}

json_t *kwh_ticket_with_clocks(struct kw_http *h, struct kw_store *st, bool customer,
                               const struct kw_ticket_row *t, int64_t now)
{
    int64_t due;
    return with_clocks(h, st, customer, t, now, NULL, &due);
}

bool kwh_visible_ticket(struct kwh_call *x, int64_t id, struct kw_ticket_row *t,
                        struct kwh_reply *fail)
{
    struct kw_err err = {0};
    enum kw_code rc = kw_store_ticket_get(x->wk->st, id, t, &err);
    if (rc == KW_OK && (!x->me.customer || t->org_id == x->me.org_id))
        return true;
    *fail = rc == KW_OK || rc == KW_NOT_FOUND ? kwh_problem_of(KW_NOT_FOUND, "", "no such ticket")
                                              : kwh_problem(&err);
    return false;
}

/* What a new ticket's reply to a member of staff names, read by its
 * create unit in the writer's transaction (create_unit): the requester's
 * name and the organisation's watch-list flag, each a JSON value or null.
 * With them and the clocks kept, the reply runs no statement, so its
 * worker begins no read transaction after the commit (each one that
 * follows another handle's commit drops SQLite's map of the file, a
 * munmap with its TLB shootdown, and maps it again; #20). */
struct reply_reads {
    json_t *requester, *watch; /* owned by whoever holds the struct */
};

/* One ticket for the caller: with its clocks and the moves the caller may
 * make (allowed_moves, the application layer's rule). kept: its clocks as
 * read before (NULL: read them); created: a ticket just created, which
 * nothing links to yet (its links are not read) and nobody is assigned
 * to; pre: what a new ticket's unit read for the reply (NULL: read it). */
static json_t *ticket_for_kept(struct kwh_call *x, const struct kw_ticket_row *t,
                               const struct clocks_copy *kept, bool created,
                               const struct reply_reads *pre)
{
    int64_t due;
    json_t *j = with_clocks(x->h, x->wk->st, x->me.customer, t, x->now, kept, &due),
           *moves = json_array();
    /* t's strings ended with the clocks' read (store.h): the state as copied */
    const char *state = json_string_value(json_object_get(j, "state"));
    enum kw_state st;
    struct kw_actor who = kwh_actor(x);
    unsigned m = state && kw_state_parse(state, strlen(state), &st) ? kw_app_moves(&who, st) : 0;
    for (int s = 0; s < KW_ST_COUNT; s++)
        if (m & (1u << s))
            json_array_append_new(moves, json_string(kw_state_name((enum kw_state)s)));
    json_object_set_new(j, "allowed_moves", moves);
    /* the name of whoever handles it: what a customer may know of the staff */
    struct kw_user_row u;
    struct kw_err err = {0};
    int64_t assignee = t->assignee_id, requester = t->requester_id;
    bool named = assignee && kw_store_user_get(x->wk->st, assignee, &u, &err) == KW_OK;
    json_object_set_new(j, "assignee_name", named ? json_string(u.name) : json_null());
    /* the customer it is for: their own organisation's person */
    if (pre)
        json_object_set(j, "requester_name", pre->requester);
    else {
        named = requester && kw_store_user_get(x->wk->st, requester, &u, &err) == KW_OK;
        json_object_set_new(j, "requester_name", named ? json_string(u.name) : json_null());
    }
    if (pre && !x->me.customer) /* the organisation's watch-list flag, for staff */
        json_object_set(j, "watch_list", pre->watch);
    else if (!x->me.customer)
        json_object_set_new(j, "watch_list", kwh_watch_json(x, t->org_id));
    /* a merged duplicate points at its original (always the same organisation's) */
    int64_t merged = 0;
    if (!created)
        json_decref(kwh_links_json(x, json_integer_value(json_object_get(j, "id")), &merged));
    json_object_set_new(j, "merged_into", kwh_id_or_null(merged));
    return j;
}

static json_t *ticket_for(struct kwh_call *x, const struct kw_ticket_row *t)
{
    return ticket_for_kept(x, t, NULL, false, NULL);
}

static struct kwh_reply ticket_reply(struct kwh_call *x, unsigned status, int64_t id)
{
    struct kw_ticket_row t;
    struct kw_err err = {0};
    if (kw_store_ticket_get(x->wk->st, id, &t, &err) != KW_OK)
        return kwh_problem(&err);
    return kwh_ok(status, ticket_for(x, &t));
}

/* A ticket row copied out of the store, so that it outlives the read: the
 * writer hands a new ticket back this way, and the request answers without
 * reading it again (a read after a commit costs a fresh snapshot). */
struct ticket_copy {
    struct kw_ticket_row r;
    char title[KW_STORE_TEXT_MAX + 1], state[32], level[48], tier[48], category[48], region[48],
        channel[48];
};

static const char *keep_str(char *buf, size_t cap, const char *s)
{
    if (!s)
        return NULL;
    snprintf(buf, cap, "%s", s);
    return buf;
}

static enum kw_code ticket_copy_get(struct kw_store *st, int64_t id, struct ticket_copy *c,
                                    struct kw_err *err)
{
    if (kw_store_ticket_get(st, id, &c->r, err) != KW_OK)
        return err->code;
    c->r.title = keep_str(c->title, sizeof(c->title), c->r.title);
    c->r.state = keep_str(c->state, sizeof(c->state), c->r.state);
    c->r.level = keep_str(c->level, sizeof(c->level), c->r.level);
    c->r.tier = keep_str(c->tier, sizeof(c->tier), c->r.tier);
    c->r.category = keep_str(c->category, sizeof(c->category), c->r.category);
    c->r.region = keep_str(c->region, sizeof(c->region), c->r.region);
    c->r.channel = keep_str(c->channel, sizeof(c->channel), c->r.channel);
    return KW_OK;
}

/* ---- create ---- */

struct create_unit {
    struct kw_http *h;
    struct kw_actor who;
    struct kw_ticket_in in;
    int64_t id, now, fire_at;
    bool existed;
    struct ticket_copy row;     /* out, unless made.set */
    struct kw_ticket_made made; /* out: a new ticket's row, as its create wrote it */
    struct clocks_copy clocks;  /* out */
    bool pre_read;              /* out: pre holds a new ticket's reply reads (staff's) */
    struct reply_reads pre;     /* out; freed by create_done */
};

static void reply_reads_release(struct reply_reads *pre)
{
    json_decref(pre->requester);
    json_decref(pre->watch);
    *pre = (struct reply_reads){0};
}

/* What a new ticket's reply to staff would read, read here in the unit's
 * transaction (struct reply_reads): a read there costs the writer no new
 * snapshot. A customer's reply reads their events anyway (customer_counts). */
static void reply_reads_get(struct kw_store *st, struct create_unit *c)
{
    const struct kw_ticket_row *t = &c->made.row;
    struct kw_user_row u;
    struct kw_err err = {0};
    bool named = t->requester_id && kw_store_user_get(st, t->requester_id, &u, &err) == KW_OK;
    c->pre.requester = named ? json_string(u.name) : json_null();
    c->pre.watch = kwh_watch_flag(st, t->org_id);
    c->pre_read = true;
}

static enum kw_code create_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct create_unit *c = ctx;
    struct kw_unit u = unit_of(c->h, st, c->now);
    c->in.made = &c->made;
    c->pre_read = false; /* a unit run again sets every output afresh */
    reply_reads_release(&c->pre);
    enum kw_code rc = kw_ticket_create(&u, &c->who, &c->in, &c->id, &c->existed, err);
    c->fire_at = u.fire_at;
    /* the clocks first: right after the projection wrote them, PostgreSQL
     * answers from what it wrote (src/store/pg/pg_int.h) */
    if (rc == KW_OK)
        rc = clocks_copy_get(st, c->id, &c->clocks, err);
    if (rc == KW_OK && c->made.set) { /* a new ticket: no read of what the unit wrote */
        if (!kw_actor_customer(&c->who))
            reply_reads_get(st, c);
        return rc;
    }
    return rc == KW_OK ? ticket_copy_get(st, c->id, &c->row, err) : rc;
}

#define CREATE(m) offsetof(struct create_unit, in.m)
static const struct kwh_field create_fields[] = {
    {.name = "title", .type = KWH_STR, .line = true, .max = 500, .offset = CREATE(title)},
    {.name = "level", .type = KWH_STR, .max = 47, .offset = CREATE(level)},
    {.name = "tier", .type = KWH_STR, .max = 47, .offset = CREATE(tier)},
    {.name = "category", .type = KWH_STR, .max = 47, .offset = CREATE(category)},
    {.name = "region", .type = KWH_STR, .max = 47, .offset = CREATE(region)},
    {.name = "channel", .type = KWH_STR, .max = 47, .offset = CREATE(channel)},
    {.name = "org_id", .type = KWH_ID, .offset = CREATE(org_id)},
    {.name = "requester_id", .type = KWH_ID, .offset = CREATE(requester_id)},
    {.name = "description", .type = KWH_STR, .max = 65536, .offset = CREATE(description)},
};
#undef CREATE

/* A create handed to the writer (kwh_write_async_repeatable): the unit,
 * the body its strings point into, and who asked, kept until the reply. */
struct create_call {
    struct create_unit u;
    json_t *body;
    struct kwh_caller me;
};

/* The reply of a create once its unit committed (or failed): on the I/O
 * thread the writer resumed, or on the caller's (kwh_write_async). The
 * ticket is read with a worker of its own, a small one (a few rows by key,
 * if any: struct reply_reads): the request's was given back when its
 * handler returned. Frees ctx. */
static struct kwh_reply create_done(void *ctx, enum kw_code rc, const struct kw_err *err,
                                    struct kwh_req *r)
{
    struct create_call *cc = ctx;
    struct create_unit *c = &cc->u;
    struct kwh_reply out;
    struct kw_err werr = {0};
    struct kwh_call x = {.h = c->h, .now = c->now, .me = cc->me, .authed = true};
    if (rc != KW_OK)
        out = kwh_problem(err);
    else {
        if (!c->existed)
            kw_engine_schedule(c->h->engine, c->id, c->fire_at);
        const struct kw_ticket_row *row = c->made.set ? &c->made.row : &c->row.r;
        if (!c->existed)
            kwh_log_held(c->h, r,
                         "mod=tickets event=ticket.created ticket=%lld org=%lld actor=%lld",
                         (long long)c->id, (long long)row->org_id, (long long)cc->me.id);
        if ((x.wk = kwh_worker_take_small(c->h, &werr)) == NULL)
            out = kwh_problem(&werr);
        else {
            out = kwh_ok(c->existed ? 200 : 201, ticket_for_kept(&x, row, &c->clocks, !c->existed,
                                                                 c->pre_read ? &c->pre : NULL));
            kwh_worker_give(c->h, x.wk);
        }
    }
    reply_reads_release(&c->pre);
    json_decref(cc->body);
    free(cc);
    return out;
}

/* On its I/O thread (kwh_writes_inline): nothing waits for the commit; the
 * connection is suspended until the writer resumes it. */
static struct kwh_reply ticket_create(struct kwh_call *x)
{
    struct kwh_reply out;
    if (!kwh_authenticate(x, &out))
        return out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct create_call *cc = calloc(1, sizeof(*cc));
    if (!cc) {
        json_decref(j);
        return kwh_problem_of(KW_NOMEM, "", "out of memory");
    }
    cc->body = j;
    cc->me = x->me;
    struct create_unit *c = &cc->u;
    *c = (struct create_unit){
        .h = x->h, .who = kwh_actor(x), .now = x->now, .fire_at = KW_STORE_NO_TIME};
    struct kw_ticket_in *t = &c->in;
    if (!kwh_decode(j, create_fields, KWH_NFIELDS(create_fields), c, &out))
        goto fail;
    /* the connection's, which stays while it is suspended */
    t->idempotency_key = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Idempotency-Key");
    t->via = x->me.cookie ? "web" : "api"; /* the browser, or a program with a token */
    if (t->idempotency_key && (!*t->idempotency_key || strlen(t->idempotency_key) > 200)) {
        out = kwh_problem_of(KW_INVALID, "", "Idempotency-Key: expected 1 to 200 bytes");
        goto fail;
    }
    /* create_unit may run twice: it sets every output afresh */
    if (kwh_write_async_repeatable(x, create_unit, cc, create_done, &out))
        return (struct kwh_reply){0};
    return out;
fail:
    json_decref(j);
    free(cc);
    return out;
}

/* ---- list ---- */

struct page {
    json_t *list;
    size_t limit;
    int64_t now, last, last_due;
    bool more;
    struct kwh_call *clocks;   /* include=clocks: read them with this call's handle */
    struct kwh_call *customer; /* a customer's list: each ticket as they see it */
    int breached;              /* a customer's breached= (1 true, 2 false), on what they see */
    const char *q;             /* a search: each ticket gets its `match` */
    /* A customer's list by due, or with due_before: the projection's due
     * counts every clock, a staff-only one too, so their tickets are
     * collected and ordered on the due they see (a superset comes from
     * the store: their due is never before the projection's). */
    int64_t due_before; /* theirs, or KW_STORE_NO_TIME */
    int order;          /* 1 by due (cursor), -1 by due descending (offset), 0 as read */
    size_t skip;        /* rows they see before the page (an offset) */
    struct due_row {
        int64_t due, id; /* due: INT64_MAX for none */
        json_t *j;
    } * rows;
    size_t n, cap;
};

/* Where one of q's words (separated by spaces or U+3000) first occurs in
 * text, ASCII case folded; *len gets the word's length. NULL: none. */
/* The length of the space at p (ASCII space, tab, or U+3000), or 0; byte
 * by byte, since the text may end within three bytes. */
static size_t space_at(const char *p)
{
    if (*p == ' ' || *p == '\t')
        return 1;
    const unsigned char *u = (const unsigned char *)p;
    return u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80 ? 3 : 0;
}

static const char *first_word(const char *text, const char *q, size_t *len)
{
    const char *best = NULL;
    for (const char *p = q; *p;) {
        size_t sp = space_at(p);
        if (sp) {
            p += sp;
            continue;
        }
        const char *w = p;
        while (*p && !space_at(p))
            p++;
        size_t n = (size_t)(p - w);
        for (const char *t = text; *t && (!best || t < best); t++)
            if (strncasecmp(t, w, n) == 0) {
                best = t;
                *len = n;
                break;
            }
    }
    return best;
}

/* The excerpt of a search's matching text that the list shows: the text
 * around the first word of q found in it, at most about 240 bytes, cut at
 * character boundaries, with "…" where it was cut. */
static json_t *excerpt(const char *text, const char *q)
{
    enum { BEFORE = 60, SPAN = 240 };
    size_t n = strlen(text), wlen = 0;
    const char *at = first_word(text, q, &wlen);
    size_t from = at && (size_t)(at - text) > BEFORE ? (size_t)(at - text) - BEFORE : 0;
    while (from > 0 && ((unsigned char)text[from] & 0xC0) == 0x80)
        from--;
    size_t to = from + SPAN < n ? from + SPAN : n;
    while (to < n && ((unsigned char)text[to] & 0xC0) == 0x80)
        to--;
    char buf[SPAN + 16];
    snprintf(buf, sizeof(buf), "%s%.*s%s", from ? "…" : "", (int)(to - from), text + from,
             to < n ? "…" : "");
    return json_string(buf);
}

static bool page_add(const struct kw_ticket_row *t, void *ctx)
{
    struct page *pg = ctx;
    json_t *j;
    if (pg->customer) {
        /* their clocks decide breached (a staff-only clock's breach is not
         * theirs), as in kwh_ticket_with_clocks */
        int64_t due;
        j = with_clocks(pg->customer->h, pg->customer->wk->st, true, t, pg->now, NULL, &due);
        if ((pg->breached && json_is_true(json_object_get(j, "breached")) != (pg->breached == 1)) ||
            (pg->due_before != KW_STORE_NO_TIME &&
             (due == KW_STORE_NO_TIME || due >= pg->due_before))) {
            json_decref(j);
            return true;
        }
        if (pg->skip) {
            pg->skip--;
            json_decref(j);
            return true;
        }
        if (!pg->clocks)
            json_object_del(j, "clocks");
        if (pg->order) {
            if (pg->n == pg->cap) {
                size_t cap = pg->cap ? 2 * pg->cap : 64;
                struct due_row *r = realloc(pg->rows, cap * sizeof(*r));
                if (!r) {
                    json_decref(j);
                    return false;
                }
                pg->rows = r;
                pg->cap = cap;
            }
            pg->rows[pg->n++] =
                (struct due_row){due == KW_STORE_NO_TIME ? INT64_MAX : due, t->id, j};
            return true;
        }
    } else
        j = pg->clocks
                ? kwh_ticket_with_clocks(pg->clocks->h, pg->clocks->wk->st, false, t, pg->now)
                : ticket_json(t, pg->now);
    if (json_array_size(pg->list) == pg->limit) {
        json_decref(j);
        pg->more = true; /* one row past the page: there is a next page */
        return false;
    }
    if (pg->q)
        json_object_set_new(j, "match", t->match ? excerpt(t->match, pg->q) : json_null());
    json_array_append_new(pg->list, j);
    pg->last = t->id;
    pg->last_due = t->next_due;
    return true;
}

static int due_rows_cmp(const void *a, const void *b)
{
    const struct due_row *x = a, *y = b;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* A customer's page by due (struct page): of the rows collected, those
 * after the cursor (after_due, after) ascending, or from offset on
 * descending, into pg->list; the `next` of the page. */
static json_t *due_page(struct page *pg, int64_t after_due, int64_t after, size_t offset)
{
    qsort(pg->rows, pg->n, sizeof(pg->rows[0]), due_rows_cmp);
    size_t from = 0, shown = 0;
    if (pg->order > 0)
        while (from < pg->n && (pg->rows[from].due < after_due ||
                                (pg->rows[from].due == after_due && pg->rows[from].id <= after)))
            from++;
    else
        from = offset;
    struct due_row last = {0, -1, NULL};
    for (size_t i = from; i < pg->n; i++) {
        struct due_row *r = &pg->rows[pg->order > 0 ? i : pg->n - 1 - i];
        if (shown < pg->limit) {
            json_array_append_new(pg->list, r->j);
            last = *r;
            shown++;
        } else {
            pg->more = true;
            json_decref(r->j);
        }
        r->j = NULL;
    }
    for (size_t i = 0; i < pg->n; i++) /* those before the page */
        json_decref(pg->rows[i].j);
    free(pg->rows);
    pg->rows = NULL;
    if (!pg->more || last.id < 0)
        return json_null();
    if (pg->order < 0)
        return json_integer((json_int_t)(offset + shown));
    char buf[48];
    if (last.due == INT64_MAX)
        snprintf(buf, sizeof(buf), "-:%lld", (long long)last.id);
    else
        snprintf(buf, sizeof(buf), "%lld:%lld", (long long)last.due, (long long)last.id);
    return json_string(buf);
}

/* The cursor of a list sorted by due: "DUE:ID", DUE in seconds or "-". */
static bool due_cursor(const char *v, int64_t *due, int64_t *id)
{
    const char *colon = strchr(v, ':');
    char *end = NULL;
    if (!colon)
        return false;
    if (colon - v == 1 && v[0] == '-')
        *due = KW_STORE_NO_TIME;
    else {
        errno = 0;
        long long d = strtoll(v, &end, 10);
        if (end != colon || end == v || errno == ERANGE)
            return false;
        *due = d;
    }
    errno = 0;
    long long n = strtoll(colon + 1, &end, 10);
    if (*end || end == colon + 1 || n < 0 || errno == ERANGE || colon[1] < '0' || colon[1] > '9')
        return false;
    *id = n;
    return true;
}

/* A bad query parameter name: 400 naming it (docs/api.md). */
static struct kwh_reply bad_parameter(const char *name, const char *msg)
{
    struct kwh_reply r = kwh_problemf(KW_INVALID, "", "%s: %s", name, msg);
    if (r.json)
        json_object_set_new(r.json, "parameter", json_string(name));
    return r;
}

#define Q_MAX 500 /* bytes of a search */

/* Whether s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * surrogates or code points past U+10FFFF). */
static bool utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p++;
        size_t more = c < 0x80                 ? 0
                      : c >= 0xC2 && c <= 0xDF ? 1
                      : c >= 0xE0 && c <= 0xEF ? 2
                      : c >= 0xF0 && c <= 0xF4 ? 3
                                               : 9;
        if (more == 9 || (size_t)(end - p) < more)
            return false;
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range (Table 3-7) */
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        else if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        for (size_t i = 0; i < more; i++, p++)
            if (*p < (i ? 0x80 : lo) || *p > (i ? 0xBF : hi))
                return false;
    }
    return true;
}

/* q as the store takes it: 1 to Q_MAX bytes of UTF-8 without control
 * characters (words: store.h). NULL with *fail set when it is not. */
static bool search_ok(const char *q, struct kwh_reply *fail)
{
    size_t n = strlen(q); /* (a %00 is left encoded: daemon.c) */
    if (n > Q_MAX) {
        *fail = bad_parameter("q", "at most 500 bytes");
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)q; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            *fail = bad_parameter("q", "control characters (tabs, line breaks) are not searched "
                                       "for; send the words separated by spaces");
            return false;
        }
    if (!utf8_ok(q, n)) {
        *fail = bad_parameter("q", "not UTF-8");
        return false;
    }
    return true;
}

/* assignee_id: an id, "me" (the caller) or "none" (nobody assigned). */
static bool query_assignee(struct kwh_call *x, struct kw_ticket_filter *f, struct kwh_reply *fail)
{
    const char *v = kwh_query(x, "assignee_id");
    long long id = 0;
    if (v && strcmp(v, "me") == 0)
        f->assignee_id = x->me.id;
    else if (v && strcmp(v, "none") == 0)
        f->unassigned = true;
    else if (!kwh_query_int(x, "assignee_id", 1, INT64_MAX, &id, fail)) {
        json_decref(fail->json); /* replaced by one that names me and none */
        *fail = bad_parameter("assignee_id", "expected a user id, me or none");
        return false;
    } else
        f->assignee_id = id;
    return true;
}

/* The states a list asks for: a state's id, open (any but archived),
 * resolved (a resolution is proposed: feedback) or closed (archived). */
static bool query_state(struct kwh_call *x, struct kw_ticket_filter *f, struct kwh_reply *fail)
{
    enum kw_state st;
    f->state = kwh_query(x, "state");
    if (!f->state || strcmp(f->state, "open") == 0)
        return true;
    if (strcmp(f->state, "resolved") == 0)
        f->state = "feedback";
    else if (strcmp(f->state, "closed") == 0)
        f->state = "archived";
    else if (!kw_state_parse(f->state, strlen(f->state), &st)) {
        *fail = kwh_problem_of(KW_INVALID, "",
                               "state: expected registered, analysing, handling, feedback, "
                               "archived, waiting_customer, open (any but archived), resolved "
                               "(feedback) or closed (archived)");
        return false;
    }
    return true;
}

static struct kwh_reply ticket_list(struct kwh_call *x)
{
    struct kwh_reply fail;
    if (!kwh_authenticate(x, &fail))
        return fail;
    long long org = 0, limit = 50, after = 0, team = 0;
    struct kw_ticket_filter f = {
        .now = x->now, .due_before = KW_STORE_NO_TIME, .after_due = KW_STORE_NO_TIME};
    const char *sort = kwh_query(x, "sort"), *breached = kwh_query(x, "breached"),
               *cursor = kwh_query(x, "after");
    f.q = kwh_query(x, "q");
    f.by_due = sort && strcmp(sort, "due") == 0;
    if (f.q && sort && strcmp(sort, "relevance") != 0)
        return kwh_problem_of(KW_INVALID, "",
                              "sort: a search (q) comes in order of relevance (sort=relevance)");
    /* id and due page by cursor; the other orders (KW_TICKET_ORDERS, "-"
     * first for descending) by offset, as a search does */
    if (!f.q && sort && !f.by_due && strcmp(sort, "id") != 0) {
        static const char *const orders[] = {"title",   "state", "level", "updated",
                                             "created", "id",    "due"};
        bool known = false;
        for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
            known |= strcmp(sort + (sort[0] == '-'), orders[i]) == 0;
        if (!known)
            return kwh_problem_of(KW_INVALID, "",
                                  "sort: expected id, due (time to breach), title, state, level, "
                                  "updated or created (- first for descending) or, with q, "
                                  "relevance");
        f.order = sort;
    }
    if ((f.q && !search_ok(f.q, &fail)) || !kwh_query_int(x, "org_id", 1, INT64_MAX, &org, &fail) ||
        !kwh_query_int(x, "limit", 1, 500, &limit, &fail) || !query_assignee(x, &f, &fail) ||
        !kwh_query_int(x, "team_id", 1, INT64_MAX, &team, &fail) ||
        !kwh_query_instant(x, "due_before", &f.due_before, &fail) || !query_state(x, &f, &fail))
        return fail;
    f.category = kwh_query(x, "category");
    if (f.category && (strlen(f.category) == 0 || strlen(f.category) > 47))
        return kwh_problem_of(KW_INVALID, "", "category: expected a category id");
    if (f.q) {
        /* a search pages by offset: `next` is how many rows came before */
        if (!kwh_query_int(x, "after", 0, KW_SEARCH_RANKED, &after, &fail))
            return fail;
        f.offset = (size_t)after;
        f.notes = !x->me.customer; /* internal notes are the provider's */
    } else if (f.order) {
        if (!kwh_query_int(x, "after", 0, INT64_MAX, &after, &fail))
            return fail;
        f.offset = (size_t)after;
    } else if (f.by_due && cursor) {
        if (!due_cursor(cursor, &f.after_due, &f.after))
            return kwh_problem_of(KW_INVALID, "",
                                  "after: expected the `next` of the previous page");
        if (f.after_due == KW_STORE_NO_TIME)
            f.after_due = INT64_MAX;
    } else if (!f.by_due && !kwh_query_int(x, "after", 0, INT64_MAX, &after, &fail))
        return fail;
    if (f.by_due && !cursor) {
        f.after_due = INT64_MIN; /* from the start */
        f.after = -1;
    }
    if (!f.by_due)
        f.after = after;
    if (breached && strcmp(breached, "true") != 0 && strcmp(breached, "false") != 0)
        return kwh_problem_of(KW_INVALID, "", "breached: expected true or false");
    f.breached = !breached ? 0 : strcmp(breached, "true") == 0 ? 1 : 2;
    f.org_id = org;
    f.team_id = team;
    f.limit = (size_t)limit + 1;
    f.level = kwh_query(x, "level");
    if (f.level && (strlen(f.level) == 0 || strlen(f.level) > 47))
        return kwh_problem_of(KW_INVALID, "", "level: expected a level id");
    if (x->me.customer) {
        /* a customer lists their own organisation's tickets, nothing else */
        if (org && org != x->me.org_id)
            return kwh_problem_of(KW_FORBIDDEN, "", "org_id: customers list their own tickets");
        f.org_id = x->me.org_id;
    }
    const char *include = kwh_query(x, "include");
    if (include && strcmp(include, "clocks") != 0)
        return kwh_problem_of(KW_INVALID, "", "include: expected clocks");
    struct page pg = {.list = json_array(),
                      .limit = (size_t)limit,
                      .now = x->now,
                      .last_due = KW_STORE_NO_TIME,
                      .clocks = include ? x : NULL,
                      .customer = x->me.customer ? x : NULL,
                      .q = f.q,
                      .due_before = KW_STORE_NO_TIME};
    int64_t due_after = f.after_due, id_after = f.after;
    size_t offset = f.offset;
    bool by_due_desc = f.order && strcmp(f.order, "-due") == 0;
    if (x->me.customer && (f.by_due || by_due_desc || f.due_before != KW_STORE_NO_TIME)) {
        /* what a customer sees due: from their clocks alone (struct page) */
        pg.due_before = f.due_before;
        if (f.by_due || by_due_desc) {
            pg.order = by_due_desc ? -1 : 1;
            f.by_due = false;
            f.order = NULL;
            f.after = 0;
            f.offset = 0;
        }
        f.limit = (size_t)INT64_MAX;
    }
    if (x->me.customer && f.breached) {
        /* the projection's breached counts every clock: a superset of the
         * customer's breached tickets, so it narrows only breached=true;
         * their own clocks decide in page_add, with no limit on the rows */
        pg.breached = f.breached;
        if (f.breached == 2)
            f.breached = 0;
        f.limit = (size_t)INT64_MAX;
    }
    if (f.limit == (size_t)INT64_MAX && !pg.order) {
        /* some rows read may not be theirs: the offset counts what they see */
        pg.skip = f.offset;
        f.offset = 0;
    }
    struct kw_err err = {0};
    if (kw_store_tickets(x->wk->st, &f, page_add, &pg, &err) != KW_OK) {
        for (size_t i = 0; i < pg.n; i++)
            json_decref(pg.rows[i].j);
        free(pg.rows);
        json_decref(pg.list);
        return strcmp(err.field, "/q") == 0 ? bad_parameter("q", err.msg + 3) : kwh_problem(&err);
    }
    json_t *next = json_null();
    if (pg.order)
        next = due_page(&pg, due_after, id_after, offset);
    else if (pg.more && (f.q || f.order))
        next = json_integer((json_int_t)(offset + (size_t)limit));
    else if (pg.more && !f.by_due)
        next = json_integer(pg.last);
    else if (pg.more) {
        char buf[48];
        if (pg.last_due == KW_STORE_NO_TIME)
            snprintf(buf, sizeof(buf), "-:%lld", (long long)pg.last);
        else
            snprintf(buf, sizeof(buf), "%lld:%lld", (long long)pg.last_due, (long long)pg.last);
        next = json_string(buf);
    }
    return kwh_ok(200, json_pack("{s:o, s:o, s:o}", "tickets", pg.list, "next", next, "as_of",
                                 kwh_instant_json(x->now)));
}

/* ---- events ---- */

struct collect {
    json_t *list;
    bool customer;
    const struct kw_policy *p; /* the ticket's commitment, or NULL */
    int64_t shown;             /* events shown so far: a customer's seq */
};

static bool collect_event(const struct kw_stored_event *ev, void *ctx)
{
    struct collect *co = ctx;
    json_t *body = json_loads(ev->body, 0, NULL);
    if (co->customer && staff_side_event(co->p, ev->type, body)) {
        json_decref(body);
        return true;
    }
    /* a customer's events are numbered 1, 2, ... without gaps: the gaps
     * would count the internal notes and staff-side events */
    int64_t seq = co->customer ? ++co->shown : ev->seq;
    char h[2 * KW_HASH_BYTES + 1];
    kwh_hex(ev->hash, KW_HASH_BYTES, h);
    json_array_append_new(co->list, json_pack("{s:I, s:o, s:s, s:I, s:o, s:s}", "seq",
                                              (json_int_t)seq, "at", kwh_instant_json(ev->at),
                                              "type", ev->type, "actor", (json_int_t)ev->actor,
                                              "body", body ? body : json_object(), "hash", h));
    return true;
}

/* "actor_name" on each event: the display name of the person who acted,
 * when the caller may know it (staff: anyone; a customer: the provider's
 * staff and the people of their own organisation), else null; the same
 * as "author_name" for a comment or file a merge moved (body.author).
 * Never an e-mail address. One look-up per person. */
static json_t *name_for(struct kwh_call *x, json_t *names, json_int_t who)
{
    char key[24];
    snprintf(key, sizeof(key), "%lld", (long long)who);
    json_t *name = json_object_get(names, key);
    if (!name) {
        struct kw_user_row u;
        struct kw_err err = {0};
        bool known = who > 0 && kw_store_user_get(x->wk->st, who, &u, &err) == KW_OK;
        bool may = known &&
                   (!x->me.customer || strcmp(u.role, "customer") != 0 || u.org_id == x->me.org_id);
        name = may && u.name ? json_string(u.name) : json_null();
        json_object_set_new(names, key, name);
    }
    return name;
}

static void actor_names(struct kwh_call *x, json_t *events)
{
    json_t *names = json_object(), *ev;
    size_t i;
    json_array_foreach(events, i, ev)
    {
        json_object_set(ev, "actor_name",
                        name_for(x, names, json_integer_value(json_object_get(ev, "actor"))));
        json_t *author = json_object_get(json_object_get(ev, "body"), "author");
        if (json_is_integer(author))
            json_object_set(ev, "author_name", name_for(x, names, json_integer_value(author)));
    }
    json_decref(names);
}

enum ev_kind { EV_COMMENT, EV_TRANSITION, EV_MILESTONE, EV_REOPEN, EV_RATING, EV_TIME };

/* One POST /tickets/{id}/events, decoded: an application action to run. */
struct event_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t ticket, now;
    enum ev_kind kind;
    bool internal;
    enum kw_state to;
    const char *text, *milestone, *reason;
    int satisfaction, nps;  /* a rating: 1-5, 0-10 or -1: not given */
    struct kw_time_in time; /* time, or a comment's time_spent (seconds 0: none) */
    struct kw_move move;    /* out */
    bool moved;             /* out */
    int64_t fire_at;        /* out */
};

static enum kw_code event_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct event_unit *e = ctx;
    struct kw_unit u = unit_of(e->h, st, e->now);
    enum kw_code rc;
    switch (e->kind) {
    case EV_COMMENT:
        rc = kw_ticket_comment_time(&u, &e->who, e->ticket, e->text, e->internal, &e->time, err);
        break;
    case EV_TIME:
        rc = kw_ticket_time(&u, &e->who, e->ticket, &e->time, err);
        break;
    case EV_MILESTONE:
        rc = kw_ticket_milestone(&u, &e->who, e->ticket, e->milestone, err);
        break;
    case EV_REOPEN:
        rc = kw_ticket_reopen(&u, &e->who, e->ticket, e->reason, &e->move, err);
        e->moved = rc == KW_OK;
        break;
    case EV_RATING:
        rc = kw_ticket_rate(&u, &e->who, e->ticket, e->satisfaction, e->nps, e->text, err);
        break;
    default:
        rc = kw_ticket_move(&u, &e->who, e->ticket, e->to, e->reason, &e->move, err);
        e->moved = rc == KW_OK;
        break;
    }
    e->fire_at = u.fire_at;
    return rc;
}

/* An event as posted: one table for every type (a member another type
 * uses is checked and then ignored); what each type needs is checked after. */
struct event_in {
    const char *type, *reason, *text, *to, *milestone, *note;
    bool internal, has_time;
    int64_t satisfaction, nps;
    int64_t seconds, minutes, corrects;   /* time; -1: not given */
    int64_t spent_seconds, spent_minutes; /* a comment's time_spent; -1: not given */
};

#define EVENT(m) offsetof(struct event_in, m)
static const struct kwh_field time_spent_fields[] = {
    {.name = "seconds", .type = KWH_INT, .lo = 0, .hi = 1000000000, .offset = EVENT(spent_seconds)},
    {.name = "minutes", .type = KWH_INT, .lo = 0, .hi = 10000000, .offset = EVENT(spent_minutes)},
};
static const struct kwh_field event_fields[] = {
    {.name = "type",
     .type = KWH_STR,
     .required = true,
     .max = 32,
     .offset = EVENT(type),
     .missing = "missing (comment, transition, milestone, reopen, rating or time)"},
    {.name = "reason", .type = KWH_STR, .max = 2000, .offset = EVENT(reason)},
    {.name = "text", .type = KWH_STR, .max = 65536, .offset = EVENT(text)},
    {.name = "internal", .type = KWH_BOOL, .offset = EVENT(internal)},
    {.name = "to", .type = KWH_STR, .max = 32, .offset = EVENT(to)},
    {.name = "milestone", .type = KWH_STR, .max = 47, .offset = EVENT(milestone)},
    /* the ranges are kw_ticket_rate's; these bounds keep the values ints */
    {.name = "satisfaction",
     .type = KWH_INT,
     .lo = -1000,
     .hi = 1000,
     .offset = EVENT(satisfaction),
     .expect = "expected 1 to 5"},
    {.name = "nps",
     .type = KWH_INT,
     .nullable = true,
     .lo = -1000,
     .hi = 1000,
     .offset = EVENT(nps),
     .expect = "expected 0 to 10 (or null)"},
    /* time (and a comment's time_spent): the range is kw_ticket_time's */
    {.name = "seconds", .type = KWH_INT, .lo = 0, .hi = 1000000000, .offset = EVENT(seconds)},
    {.name = "minutes", .type = KWH_INT, .lo = 0, .hi = 10000000, .offset = EVENT(minutes)},
    {.name = "corrects", .type = KWH_ID, .offset = EVENT(corrects)},
    {.name = "note", .type = KWH_STR, .max = 2000, .offset = EVENT(note)},
    {.name = "time_spent",
     .type = KWH_OBJ,
     .offset = EVENT(has_time),
     .sub = time_spent_fields,
     .nsub = 2},
};
#undef EVENT

#define RATING_TEXT_MAX 2000

/* Seconds from seconds or minutes (exactly one), into *out; field names
 * the object ("" or "/time_spent"). */
static bool time_amount(int64_t seconds, int64_t minutes, const char *field, int64_t *out,
                        struct kwh_reply *fail)
{
    if ((seconds < 0) == (minutes < 0)) {
        *fail = kwh_problemf(KW_INVALID, *field ? field : "/seconds",
                             "%s: give the time as seconds or as minutes (one of them), e.g. "
                             "{\"minutes\": 15}",
                             *field ? field + 1 : "seconds");
        return false;
    }
    if (minutes > KW_TIME_MAX_SECONDS / 60) { /* named as given: not as the seconds it makes */
        char ptr[32];
        snprintf(ptr, sizeof(ptr), "%s/minutes", field);
        *fail = kwh_problemf(KW_INVALID, ptr,
                             "minutes: %lld is out of range (at most %d, 24 h per entry)",
                             (long long)minutes, KW_TIME_MAX_SECONDS / 60);
        return false;
    }
    *out = seconds >= 0 ? seconds : minutes * 60;
    return true;
}

static bool parse_event(json_t *j, struct event_unit *u, struct kwh_reply *out)
{
    struct event_in in = {.satisfaction = 0,
                          .nps = -1,
                          .seconds = -1,
                          .minutes = -1,
                          .spent_seconds = -1,
                          .spent_minutes = -1};
    if (!kwh_decode(j, event_fields, KWH_NFIELDS(event_fields), &in, out))
        return false;
    u->reason = in.reason;
    u->text = in.text;
    u->internal = in.internal;
    u->milestone = in.milestone;
    u->satisfaction = (int)in.satisfaction;
    u->nps = (int)in.nps;
    if (strcmp(in.type, "comment") == 0) {
        u->kind = EV_COMMENT;
        if (in.has_time &&
            !time_amount(in.spent_seconds, in.spent_minutes, "/time_spent", &u->time.seconds, out))
            return false;
        u->time.note = NULL;
    } else if (strcmp(in.type, "time") == 0) {
        u->kind = EV_TIME;
        if (!time_amount(in.seconds, in.minutes, "", &u->time.seconds, out))
            return false;
        u->time.note = in.note;
        u->time.corrects = in.corrects > 0 ? in.corrects : 0;
    } else if (strcmp(in.type, "milestone") == 0)
        u->kind = EV_MILESTONE;
    else if (strcmp(in.type, "reopen") == 0)
        u->kind = EV_REOPEN;
    else if (strcmp(in.type, "rating") == 0) {
        u->kind = EV_RATING;
        if (!json_object_get(j, "satisfaction")) {
            *out = kwh_problem_of(KW_INVALID, "/satisfaction", "satisfaction: expected 1 to 5");
            return false;
        }
        if (in.text && strlen(in.text) > RATING_TEXT_MAX) {
            *out = kwh_problemf(KW_INVALID, "/text", "text: expected a string of 1 to %d bytes",
                                RATING_TEXT_MAX);
            return false;
        }
    } else if (strcmp(in.type, "transition") == 0) {
        u->kind = EV_TRANSITION;
        if (!in.to || !kw_state_parse(in.to, strlen(in.to), &u->to) || u->to == KW_ST_REGISTERED) {
            *out = kwh_problem_of(KW_INVALID, "/to",
                                  "to: expected analysing, handling, feedback, archived or "
                                  "waiting_customer");
            return false;
        }
    } else {
        *out = kwh_problem_of(KW_INVALID, "/type",
                              "type: expected comment, transition, milestone, reopen, rating or "
                              "time");
        return false;
    }
    return true;
}

static struct kwh_reply event_post(struct kwh_call *x, int64_t id)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct event_unit u = {.h = x->h, .who = kwh_actor(x), .ticket = id, .now = x->now};
    if (parse_event(j, &u, &out) && kwh_write_unit(x, event_unit, &u, &out)) {
        kw_engine_schedule(x->h->engine, id, u.fire_at);
        if (u.moved)
            kwh_log_event(x->h,
                          "mod=tickets event=ticket.state ticket=%lld from=%s to=%s actor=%lld",
                          (long long)id, kw_state_name(u.move.from), kw_state_name(u.move.to),
                          (long long)x->me.id);
        out = ticket_reply(x, 201, id);
    }
    json_decref(j);
    return out;
}

/* ---- PATCH: title, description, level, category, region, requester, assignee, team ---- */

struct patch_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t ticket, now, fire_at;
    struct kw_ticket_change c;
};

static enum kw_code patch_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct patch_unit *p = ctx;
    struct kw_unit u = unit_of(p->h, st, p->now);
    enum kw_code rc = kw_ticket_change(&u, &p->who, p->ticket, &p->c, err);
    p->fire_at = u.fire_at;
    return rc;
}

#define PATCH(m) offsetof(struct patch_unit, c.m)
static const struct kwh_field patch_fields[] = {
    {.name = "level", .type = KWH_STR, .max = 47, .offset = PATCH(level)},
    {.name = "category", .type = KWH_STR, .max = 47, .offset = PATCH(category)},
    {.name = "reason", .type = KWH_STR, .max = 2000, .offset = PATCH(reason)},
    {.name = "assignee_id", .type = KWH_ID, .nullable = true, .offset = PATCH(assignee_id)},
    {.name = "team_id", .type = KWH_ID, .nullable = true, .offset = PATCH(team_id)},
    {.name = "title",
     .type = KWH_STR,
     .line = true,
     .max = KW_TICKET_TITLE_MAX,
     .offset = PATCH(title)},
    {.name = "description", .type = KWH_STR, .max = 65536, .offset = PATCH(description)},
    {.name = "region", .type = KWH_STR, .max = 47, .offset = PATCH(region)},
    {.name = "requester_id", .type = KWH_ID, .offset = PATCH(requester_id)},
};
#undef PATCH

static struct kwh_reply ticket_patch(struct kwh_call *x, const struct kw_ticket_row *t)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out); /* who may change what: kw_ticket_change */
    if (!j)
        return out;
    struct patch_unit u = {.h = x->h, .who = kwh_actor(x), .ticket = t->id, .now = x->now};
    if (kwh_decode(j, patch_fields, KWH_NFIELDS(patch_fields), &u, &out) &&
        kwh_write_unit(x, patch_unit, &u, &out)) {
        kw_engine_schedule(x->h->engine, t->id, u.fire_at);
        out = ticket_reply(x, 200, t->id);
    }
    json_decref(j);
    return out;
}

/* ---- clocks and service nodes ---- */

/* zh or en: ?lang= (NULL when it is neither), else Accept-Language. */
static const char *lang_of(const struct kwh_call *x)
{
    const char *q = kwh_query(x, "lang");
    if (q)
        return strcmp(q, "zh") == 0 ? "zh" : strcmp(q, "en") == 0 ? "en" : NULL;
    const char *a = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Accept-Language");
    return a && strncmp(a, "zh", 2) == 0 ? "zh" : "en";
}

/* The ticket's events as clock events and its compiled commitment. */
static enum kw_code clock_inputs(struct kwh_call *x, int64_t id, int64_t commitment,
                                 struct kw_ticket_events *tc, const struct kw_compiled **c,
                                 struct kw_err *err)
{
    *c = kwh_policy_for(x->h, x->wk->st, commitment, err);
    if (!*c)
        return err->code;
    return kw_ticket_events_load(x->wk->st, id, tc, err);
}

/* What a customer is shown of the clocks: not the provider's own
 * (staff_only metrics), and no SRI (the provider's internal measure). */
static void for_customer(const struct kw_policy *p, json_t *clocks)
{
    for (size_t i = json_array_size(clocks); i-- > 0;) {
        json_t *c = json_array_get(clocks, i);
        int m = kw_policy_metric_index(p, json_string_value(json_object_get(c, "metric")));
        if (m >= 0 && kw_policy_metric_staff_only(p, (size_t)m))
            json_array_remove(clocks, i);
        else
            json_object_del(c, "sri");
    }
}

static struct kwh_reply ticket_sla(struct kwh_call *x, int64_t id, int64_t commitment)
{
    if (!commitment)
        return kwh_ok(200, json_pack("{s:I, s:n, s:o, s:[]}", "ticket", (json_int_t)id,
                                     "commitment", "as_of", kwh_instant_json(x->now), "clocks"));
    struct kw_ticket_events tc = {0};
    const struct kw_compiled *c = NULL;
    struct kwh_reply out = {0};
    struct kw_err err = {0};
    enum kw_code rc = clock_inputs(x, id, commitment, &tc, &c, &err);
    if (rc == KW_OK)
        rc = kw_sla_eval(c->p, (const struct kw_cal *const *)c->cals, tc.ev, tc.n, x->now,
                         &x->wk->sla, &err);
    if (rc == KW_OK) {
        /* which versions of a stored calendar each clock was measured on */
        json_t *clocks = kw_sla_to_json(c->p, &x->wk->sla);
        for (size_t i = 0; i < x->wk->sla.n; i++)
            json_object_set_new(json_array_get(clocks, i), "calendar_versions",
                                kw_clock_calendar_versions(c, &x->wk->sla.clock[i]));
        if (x->me.customer)
            for_customer(c->p, clocks);
        out = kwh_ok(200, json_pack("{s:I, s:{s:I, s:s, s:s}, s:o, s:o}", "ticket", (json_int_t)id,
                                    "commitment", "id", (json_int_t)commitment, "name",
                                    kw_policy_name(c->p), "version", kw_policy_version(c->p),
                                    "as_of", kwh_instant_json(x->now), "clocks", clocks));
    }
    kw_ticket_events_release(&tc);
    return rc != KW_OK ? kwh_problem(&err) : out;
}

static struct kwh_reply ticket_nodes(struct kwh_call *x, int64_t id, int64_t commitment)
{
    if (!commitment)
        return kwh_ok(200,
                      json_pack("{s:I, s:[], s:n}", "ticket", (json_int_t)id, "nodes", "next"));
    struct kw_ticket_events tc = {0};
    const struct kw_compiled *c = NULL;
    struct kwh_reply out = {0};
    struct kw_err err = {0};
    const char *lang = lang_of(x), *next = NULL;
    enum kw_code rc = lang ? clock_inputs(x, id, commitment, &tc, &c, &err)
                           : kw_err_set(&err, KW_INVALID, "", "lang: expected zh or en");
    if (rc == KW_OK) {
        int64_t reached[KW_POLICY_MAX_NODES], ended;
        kw_nodes_reached(c->p, tc.ev, tc.n, reached);
        enum kw_confirm_outcome how = kw_confirm_outcome(tc.ev, tc.n, &ended);
        json_t *list = json_array();
        for (size_t i = 0; i < kw_policy_node_count(c->p); i++) {
            bool done = reached[i] != KW_NO_TIME;
            const char *nid = kw_policy_node_id(c->p, i),
                       *label = kw_policy_node_label(c->p, i, lang);
            /* the customer never confirmed: the node says so, never "confirmed" */
            if (how == KW_CONFIRM_TIMEOUT && !done &&
                strcmp(kw_policy_node_at(c->p, i), "customer_confirmed") == 0) {
                nid = "closed_unconfirmed";
                label = strcmp(lang, "zh") == 0 ? "未经确认关闭" : "Closed without confirmation";
                done = true;
                reached[i] = ended;
            }
            if (!done && !next)
                next = nid;
            json_array_append_new(
                list,
                json_pack("{s:s, s:s, s:b, s:o}", "id", nid, "label", label, "reached", done,
                          "reached_at", kwh_instant_json(done ? reached[i] : KW_STORE_NO_TIME)));
        }
        static const char *const outcomes[] = {NULL, "customer", "timeout"};
        out = kwh_ok(200, json_pack("{s:I, s:s, s:o, s:o, s:o}", "ticket", (json_int_t)id, "lang",
                                    lang, "nodes", list, "next", kwh_nullable(next), "confirmation",
                                    kwh_nullable(outcomes[how])));
    }
    kw_ticket_events_release(&tc);
    return rc != KW_OK ? kwh_problem(&err) : out;
}

static struct kwh_reply ticket_verify(struct kwh_call *x, int64_t id)
{
    unsigned char head[KW_HASH_BYTES];
    char hx[2 * KW_HASH_BYTES + 1];
    struct kw_err err = {0};
    enum kw_code rc = kw_store_verify(x->wk->st, id, head, &err);
    if (rc == KW_CONFLICT)
        return kwh_ok(200, json_pack("{s:I, s:b, s:s}", "ticket", (json_int_t)id, "valid", 0,
                                     "detail", err.msg));
    if (rc != KW_OK)
        return kwh_problem(&err);
    kwh_hex(head, KW_HASH_BYTES, hx);
    json_t *j =
        json_pack("{s:I, s:b, s:s}", "ticket", (json_int_t)id, "valid", 1, "chain_head", hx);
    if (x->me.customer) { /* the whole chain verified; the count and head of what they see */
        struct kw_ticket_row t;
        const struct kw_compiled *c = NULL;
        if (kw_store_ticket_get(x->wk->st, id, &t, &err) == KW_OK && t.commitment_id)
            c = kwh_policy_for(x->h, x->wk->st, t.commitment_id, &err);
        struct seen s = {.p = c ? c->p : NULL};
        kw_store_events(x->wk->st, id, count_seen, &s, &err);
        json_object_set_new(j, "chain_head", json_string(s.head));
        json_object_set_new(j, "events", json_integer(s.n));
    }
    return kwh_ok(200, j);
}

/* ---- routing under /api/v1/tickets (the table is in routes.c) ---- */

struct kwh_reply kwh_tickets_list(struct kwh_call *x)
{
    return ticket_list(x);
}

struct kwh_reply kwh_tickets_create(struct kwh_call *x)
{
    return ticket_create(x);
}

/* Ticket x->arg.id, when the caller may see it (404 otherwise). */
static bool ticket_of(struct kwh_call *x, struct kw_ticket_row *t, struct kwh_reply *fail)
{
    return kwh_authenticate(x, fail) && kwh_visible_ticket(x, x->arg.id, t, fail);
}

struct kwh_reply kwh_ticket_get(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_ticket_row t;
    if (!ticket_of(x, &t, &fail))
        return fail;
    return kwh_ok(200, ticket_for(x, &t));
}

struct kwh_reply kwh_ticket_patch(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_ticket_row t;
    return ticket_of(x, &t, &fail) ? ticket_patch(x, &t) : fail;
}

struct kwh_reply kwh_ticket_events(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_ticket_row t;
    if (!ticket_of(x, &t, &fail))
        return fail;
    struct kw_err err = {0};
    const struct kw_compiled *c = x->me.customer && t.commitment_id
                                      ? kwh_policy_for(x->h, x->wk->st, t.commitment_id, &err)
                                      : NULL;
    if (x->me.customer && t.commitment_id && !c) /* what to hide is unknown: show nothing */
        return kwh_problem(&err);
    struct collect co = {json_array(), x->me.customer, c ? c->p : NULL, 0};
    if (kw_store_events(x->wk->st, x->arg.id, collect_event, &co, &err) != KW_OK) {
        json_decref(co.list);
        return kwh_problem(&err);
    }
    actor_names(x, co.list);
    return kwh_ok(200, json_pack("{s:I, s:o}", "ticket", (json_int_t)x->arg.id, "events", co.list));
}

struct kwh_reply kwh_ticket_event_post(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_ticket_row t;
    return ticket_of(x, &t, &fail) ? event_post(x, x->arg.id) : fail;
}

struct kwh_reply kwh_ticket_sla(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_ticket_row t;
    return ticket_of(x, &t, &fail) ? ticket_sla(x, x->arg.id, t.commitment_id) : fail;
}

struct kwh_reply kwh_ticket_nodes(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_ticket_row t;
    return ticket_of(x, &t, &fail) ? ticket_nodes(x, x->arg.id, t.commitment_id) : fail;
}

struct kwh_reply kwh_ticket_verify(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_ticket_row t;
    return ticket_of(x, &t, &fail) ? ticket_verify(x, x->arg.id) : fail;
}
