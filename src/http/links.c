// SPDX-License-Identifier: MIT
/*
 * links.c - /api/v1/tickets/{id}/links and /merge (app/links.h): a
 * ticket's links with the other ticket's title and state, linking and
 * unlinking, and merging a duplicate into its original. A customer sees
 * a link only when the other ticket is their organisation's too; every
 * write is staff's (the route table).
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "links.h"

struct link_list {
    json_t *list;
    int64_t only_org; /* a customer's organisation: other links are not shown; 0: all */
    int64_t merged_into;
};

static bool link_add_json(const struct kw_link_row *l, void *ctx)
{
    struct link_list *ll = ctx;
    if (strcmp(l->link, "merged_into") == 0)
        ll->merged_into = l->ticket_id;
    if (ll->only_org && l->org_id != ll->only_org)
        return true;
    json_t *j = json_pack("{s:I, s:s, s:s, s:o, s:I, s:o, s:I}", "ticket", (json_int_t)l->ticket_id,
                          "link", l->link, "title", l->title ? l->title : "", "state",
                          kwh_nullable(l->state), "org_id", (json_int_t)l->org_id, "at",
                          kwh_instant_json(l->at), "by", (json_int_t)l->created_by);
    return json_array_append_new(ll->list, j) == 0;
}

json_t *kwh_links_json(struct kwh_call *x, int64_t ticket, int64_t *merged_into)
{
    struct kw_err err = {0};
    struct link_list ll = {json_array(), x->me.customer ? x->me.org_id : 0, 0};
    if (kw_store_links(x->wk->st, ticket, link_add_json, &ll, &err) != KW_OK) {
        json_decref(ll.list);
        return NULL;
    }
    if (merged_into)
        *merged_into = ll.merged_into;
    return ll.list;
}

static struct kwh_reply links_of(struct kwh_call *x, unsigned status)
{
    struct kw_ticket_row t;
    struct kwh_reply fail;
    if (!kwh_visible_ticket(x, x->arg.id, &t, &fail))
        return fail;
    int64_t merged = 0;
    json_t *list = kwh_links_json(x, x->arg.id, &merged);
    if (!list)
        return kwh_problem_of(KW_STORE, "", "the ticket's links could not be read");
    return kwh_ok(status, json_pack("{s:I, s:o, s:o}", "ticket", (json_int_t)x->arg.id, "links",
                                    list, "merged_into", kwh_id_or_null(merged)));
}

struct kwh_reply kwh_links_list(struct kwh_call *x)
{
    return links_of(x, 200);
}

struct link_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t ticket, now;
    bool add;
    struct kw_merged moved;
    int64_t fire_at;
    struct {
        int64_t other, into;
        const char *link, *reason; /* in the request's JSON: gone after body_unit */
    } in;
    char kind[16]; /* in.link, kept for the log line */
};

static struct kw_unit unit(struct link_unit *l, struct kw_store *st)
{
    return (struct kw_unit){.st = st,
                            .clocks = l->h->clocks,
                            .sla = &l->h->wsla,
                            .now = l->now,
                            .fire_at = KW_STORE_NO_TIME};
}

static enum kw_code link_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct link_unit *l = ctx;
    struct kw_unit u = unit(l, st);
    return l->add ? kw_link_add(&u, &l->who, l->ticket, l->in.other, l->in.link, l->in.reason, err)
                  : kw_link_remove(&u, &l->who, l->ticket, l->in.other, l->in.reason, err);
}

#define LINK(m) offsetof(struct link_unit, in.m)
static const struct kwh_field link_fields[] = {
    {.name = "ticket", .type = KWH_ID, .required = true, .offset = LINK(other)},
    {.name = "link",
     .type = KWH_STR,
     .required = true,
     .max = 32,
     .offset = LINK(link),
     .expect = "expected duplicate_of, duplicated_by or related"},
    {.name = "reason", .type = KWH_STR, .max = 2000, .offset = LINK(reason)},
};
static const struct kwh_field merge_fields[] = {
    {.name = "into", .type = KWH_ID, .required = true, .offset = LINK(into)},
    {.name = "reason", .type = KWH_STR, .max = 2000, .offset = LINK(reason)},
};
#undef LINK

/* The ticket as the caller may see it, the JSON body decoded by f into l
 * and fn run on the writer; false with the problem in *out. */
static bool body_unit(struct kwh_call *x, const struct kwh_field *f, size_t n, kw_write_fn fn,
                      struct link_unit *l, struct kwh_reply *out)
{
    struct kw_ticket_row t;
    if (!kwh_visible_ticket(x, x->arg.id, &t, out))
        return false;
    json_t *j = kwh_body_object(x, out);
    if (!j)
        return false;
    bool ok = kwh_decode(j, f, n, l, out) && kwh_write_unit(x, fn, l, out);
    snprintf(l->kind, sizeof(l->kind), "%s", l->in.link ? l->in.link : "");
    l->in.link = l->in.reason = NULL;
    json_decref(j);
    return ok;
}

struct kwh_reply kwh_links_add(struct kwh_call *x)
{
    struct kwh_reply out;
    struct link_unit l = {
        .h = x->h, .who = kwh_actor(x), .ticket = x->arg.id, .now = x->now, .add = true};
    if (!body_unit(x, link_fields, KWH_NFIELDS(link_fields), link_unit, &l, &out))
        return out;
    kwh_log_event(x->h, "mod=tickets event=ticket.linked ticket=%lld other=%lld link=%s actor=%lld",
                  (long long)l.ticket, (long long)l.in.other, l.kind, (long long)x->me.id);
    return links_of(x, 201);
}

struct kwh_reply kwh_links_remove(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_ticket_row t;
    long long other = 0;
    if (!kwh_visible_ticket(x, x->arg.id, &t, &out) ||
        !kwh_query_int(x, "ticket", 1, INT64_MAX, &other, &out))
        return out;
    if (!other)
        return kwh_problem_of(KW_INVALID, "/ticket",
                              "ticket: missing (?ticket=N, the ticket to unlink from)");
    struct link_unit l = {.h = x->h, .who = kwh_actor(x), .ticket = x->arg.id, .now = x->now};
    l.in.other = other;
    if (!kwh_write_unit(x, link_unit, &l, &out))
        return out;
    kwh_log_event(x->h, "mod=tickets event=ticket.unlinked ticket=%lld other=%lld actor=%lld",
                  (long long)l.ticket, other, (long long)x->me.id);
    return links_of(x, 200);
}

static enum kw_code merge_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct link_unit *l = ctx;
    struct kw_unit u = unit(l, st);
    enum kw_code rc = kw_ticket_merge(&u, &l->who, l->ticket, l->in.into, l->in.reason,
                                      l->h->max_ticket_attachments, &l->moved, err);
    l->fire_at = u.fire_at;
    return rc;
}

struct kwh_reply kwh_ticket_merge(struct kwh_call *x)
{
    struct kwh_reply out;
    struct link_unit l = {.h = x->h, .who = kwh_actor(x), .ticket = x->arg.id, .now = x->now};
    if (!body_unit(x, merge_fields, KWH_NFIELDS(merge_fields), merge_unit, &l, &out))
        return out;
    kw_engine_schedule(x->h->engine, l.ticket, l.fire_at);
    kwh_log_event(x->h,
                  "mod=tickets event=ticket.merged ticket=%lld into=%lld comments=%d files=%d "
                  "actor=%lld",
                  (long long)l.ticket, (long long)l.in.into, l.moved.comments, l.moved.files,
                  (long long)x->me.id);
    return kwh_ok(200, json_pack("{s:I, s:I, s:{s:i, s:i, s:i}}", "ticket", (json_int_t)l.ticket,
                                 "merged_into", (json_int_t)l.in.into, "moved", "comments",
                                 l.moved.comments, "files", l.moved.files, "watchers",
                                 l.moved.watchers));
}
