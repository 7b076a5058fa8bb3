// SPDX-License-Identifier: MIT
/* Links between tickets and merges; see links.h. */
#include "links.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "tickets.h"
#include "watchers.h"
#include "workflow.h"

/* What this file needs of a ticket, copied out of the row. */
struct side {
    int64_t id, org_id, commitment_id;
    char state[32];
};

/* Read ticket id (staff see every ticket). field: the input member that
 * named it ("" for the path's ticket). */
static enum kw_code side_of(struct kw_unit *u, int64_t id, const char *field, struct side *s,
                            struct kw_err *err)
{
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(u->st, id, &t, err);
    if (rc == KW_NOT_FOUND)
        return *field ? kw_err_set(err, KW_NOT_FOUND, field, "%s: no ticket %lld", field + 1,
                                   (long long)id)
                      : kw_err_set(err, KW_NOT_FOUND, "", "no such ticket");
    if (rc != KW_OK)
        return rc;
    s->id = id;
    s->org_id = t.org_id;
    s->commitment_id = t.commitment_id;
    snprintf(s->state, sizeof(s->state), "%s", t.state ? t.state : "registered");
    return KW_OK;
}

static enum kw_code staff(const struct kw_actor *who, const char *what, struct kw_err *err)
{
    if (kw_actor_customer(who) || who->role == KW_ROLE_SYSTEM)
        return kw_err_set(err, KW_FORBIDDEN, "", "%s", what);
    return KW_OK;
}

static enum kw_code project(struct kw_unit *u, int64_t ticket, struct kw_err *err)
{
    enum kw_code rc = kw_clocks_project(u->clocks, u->st, u->sla, ticket, u->now, NULL, err);
    return rc == KW_OK ? kw_store_fire_at(u->st, ticket, &u->fire_at, err) : rc;
}

static const char *inverse(const char *link)
{
    return strcmp(link, "duplicate_of") == 0    ? "duplicated_by"
           : strcmp(link, "duplicated_by") == 0 ? "duplicate_of"
                                                : link;
}

/* The `linked` / `unlinked` events on both tickets, the clocks projected
 * after them (their projection must not be older than their last event). */
static enum kw_code both_events(struct kw_unit *u, const struct kw_actor *who,
                                enum kw_event_kind kind, const struct side *a, const struct side *b,
                                const char *link, const char *reason, struct kw_err *err)
{
    struct kw_event_rec r = {.kind = kind,
                             .other = b->id,
                             .link = link,
                             .cross_org = a->org_id != b->org_id,
                             .reason = reason};
    enum kw_code rc = kw_app_append(u->st, a->id, &r, who->id, u->now, NULL, err);
    if (rc != KW_OK)
        return rc;
    r.other = a->id;
    r.link = inverse(link);
    if ((rc = kw_app_append(u->st, b->id, &r, who->id, u->now, NULL, err)) != KW_OK)
        return rc;
    rc = project(u, b->id, err);
    return rc == KW_OK ? project(u, a->id, err) : rc;
}

enum kw_code kw_link_add(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                         int64_t other, const char *link, const char *reason, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct side a, b;
    enum kw_code rc = staff(who, "tickets are linked by the provider's staff", err);
    if (rc == KW_OK)
        rc = side_of(u, ticket, "", &a, err);
    if (rc != KW_OK)
        return rc;
    if (!link ||
        (strcmp(link, "duplicate_of") && strcmp(link, "duplicated_by") && strcmp(link, "related")))
        return kw_err_set(err, KW_INVALID, "/link",
                          "link: expected duplicate_of, duplicated_by or related");
    if (other == ticket)
        return kw_err_set(err, KW_INVALID, "/ticket", "ticket: a ticket is not linked to itself");
    if ((rc = side_of(u, other, "/ticket", &b, err)) != KW_OK)
        return rc;
    const char *kind = strcmp(link, "related") == 0 ? "related" : "duplicate";
    bool forward = strcmp(link, "duplicated_by") != 0;
    rc = kw_store_link_add(u->st, forward ? ticket : other, forward ? other : ticket, kind, who->id,
                           u->now, err);
    return rc == KW_OK ? both_events(u, who, KW_EVENT_LINKED, &a, &b, link, reason, err) : rc;
}

struct find_link {
    int64_t other;
    char link[16];
};

static bool find_other(const struct kw_link_row *l, void *ctx)
{
    struct find_link *f = ctx;
    if (l->ticket_id != f->other)
        return true;
    snprintf(f->link, sizeof(f->link), "%s", l->link);
    return false;
}

enum kw_code kw_link_remove(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            int64_t other, const char *reason, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct side a, b;
    enum kw_code rc = staff(who, "tickets are unlinked by the provider's staff", err);
    if (rc == KW_OK)
        rc = side_of(u, ticket, "", &a, err);
    if (rc == KW_OK)
        rc = side_of(u, other, "/ticket", &b, err);
    if (rc != KW_OK)
        return rc;
    struct find_link f = {.other = other};
    if ((rc = kw_store_links(u->st, ticket, find_other, &f, err)) != KW_OK)
        return rc;
    if (!f.link[0])
        return kw_err_set(err, KW_NOT_FOUND, "/ticket", "ticket: #%lld is not linked to #%lld",
                          (long long)ticket, (long long)other);
    bool removed;
    if ((rc = kw_store_link_remove(u->st, ticket, other, &removed, err)) != KW_OK)
        return rc;
    return both_events(u, who, KW_EVENT_UNLINKED, &a, &b, f.link, reason, err);
}

/* ---- merge ---- */

/* A comment or file of the duplicate, to be moved. */
struct item {
    bool file;
    int64_t seq, author, at, attachment, size, comment_seq;
    bool internal;
    char *text, *name, *content_type, *sha256; /* owned */
};

struct items {
    struct item *v;
    size_t n, cap;
    int64_t bytes;
    struct kw_err err;
    bool failed;
};

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool collect(const struct kw_stored_event *ev, void *ctx)
{
    struct items *it = ctx;
    bool comment = strcmp(ev->type, "comment") == 0;
    if (!comment && strcmp(ev->type, "attachment") != 0)
        return true;
    struct kw_event_rec r;
    json_t *hold;
    if (kw_event_decode(ev->type, ev->body, &r, &hold, &it->err) != KW_OK) {
        it->failed = true;
        return false;
    }
    if (it->n == it->cap) {
        size_t cap = it->cap ? 2 * it->cap : 16;
        struct item *v = realloc(it->v, cap * sizeof(*v));
        if (!v) {
            json_decref(hold);
            kw_err_set(&it->err, KW_NOMEM, "", "no memory for the merge");
            it->failed = true;
            return false;
        }
        it->v = v;
        it->cap = cap;
    }
    /* a comment that came with an earlier merge keeps its first author and time */
    struct item *i = &it->v[it->n++];
    *i = (struct item){.file = !comment,
                       .seq = ev->seq,
                       .author = r.moved_from ? r.author_id : ev->actor,
                       .at = r.moved_from && r.written_at != KW_NO_TIME ? r.written_at : ev->at,
                       .attachment = r.attachment,
                       .size = r.size,
                       .comment_seq = r.comment_seq,
                       .internal = r.internal,
                       .text = dup_str(r.text),
                       .name = dup_str(r.name),
                       .content_type = dup_str(r.content_type),
                       .sha256 = dup_str(r.sha256)};
    if (!comment)
        it->bytes += r.size;
    json_decref(hold);
    return true;
}

static void items_release(struct items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].text);
        free(it->v[i].name);
        free(it->v[i].content_type);
        free(it->v[i].sha256);
    }
    free(it->v);
}

/* The seq on the original of the duplicate's comment seq (0: none). */
static int64_t mapped(const struct items *it, const int64_t *to, int64_t seq)
{
    for (size_t i = 0; seq && i < it->n; i++)
        if (!it->v[i].file && it->v[i].seq == seq)
            return to[i];
    return 0;
}

/* Move the duplicate's comments and files onto the original, in order. */
static enum kw_code move_items(struct kw_unit *u, const struct kw_actor *who, int64_t dup,
                               int64_t into, struct items *it, struct kw_merged *out,
                               struct kw_err *err)
{
    int64_t *to = calloc(it->n ? it->n : 1, sizeof(*to));
    if (!to)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the merge");
    enum kw_code rc = KW_OK;
    for (size_t i = 0; rc == KW_OK && i < it->n; i++) {
        const struct item *m = &it->v[i];
        struct kw_event_rec r = {.kind = m->file ? KW_EVENT_ATTACHMENT : KW_EVENT_COMMENT,
                                 .text = m->text,
                                 .internal = m->internal,
                                 .moved_from = dup,
                                 .author_id = m->author,
                                 .written_at = m->at};
        if (m->file) {
            int64_t comment = mapped(it, to, m->comment_seq), id = 0;
            rc = kw_store_attachment_copy(u->st, m->attachment, into, comment, m->author, u->now,
                                          &id, err);
            r.attachment = id;
            r.name = m->name;
            r.content_type = m->content_type;
            r.size = m->size;
            r.sha256 = m->sha256;
            r.comment_seq = comment;
            out->files++;
        } else {
            out->comments++;
        }
        if (rc == KW_OK)
            rc = kw_app_append_seq(u->st, into, &r, who->id, u->now, NULL, &to[i], err);
    }
    free(to);
    return rc;
}

struct people {
    int64_t v[KW_WATCHERS_MAX + 1];
    size_t n;
};

static bool person(const struct kw_watcher *w, void *ctx)
{
    struct people *p = ctx;
    if (p->n < KW_WATCHERS_MAX)
        p->v[p->n++] = w->user_id;
    return true;
}

/* The duplicate's watchers and requester follow the original (as many as
 * it has room for). */
static enum kw_code add_watchers(struct kw_unit *u, const struct kw_actor *who, int64_t dup,
                                 int64_t into, int64_t requester, struct kw_merged *out,
                                 struct kw_err *err)
{
    struct people p = {.n = 0};
    enum kw_code rc = kw_store_watchers(u->st, dup, person, &p, err);
    if (rc != KW_OK)
        return rc;
    if (requester)
        p.v[p.n++] = requester;
    for (size_t i = 0; i < p.n; i++) {
        struct kw_user_row usr;
        int64_t n = 0;
        bool added = false;
        if ((rc = kw_store_user_get(u->st, p.v[i], &usr, err)) != KW_OK)
            return rc;
        if (!usr.active)
            continue;
        if ((rc = kw_store_watcher_count(u->st, into, &n, err)) != KW_OK)
            return rc;
        if (n >= KW_WATCHERS_MAX)
            break;
        if ((rc = kw_store_watcher_add(u->st, into, p.v[i], who->id, u->now, &added, err)) != KW_OK)
            return rc;
        out->watchers += added;
    }
    return KW_OK;
}

struct stops {
    char metric[16][48];
    size_t n;
};

static bool still_running(const struct kw_clock_row *c, void *ctx)
{
    struct stops *s = ctx;
    if (s->n < 16 && c->metric && c->status &&
        (strcmp(c->status, kw_clock_status_name(KW_CLOCK_RUNNING)) == 0 ||
         strcmp(c->status, kw_clock_status_name(KW_CLOCK_PAUSED)) == 0 ||
         strcmp(c->status, kw_clock_status_name(KW_CLOCK_BREACHED)) == 0))
        snprintf(s->metric[s->n++], sizeof(s->metric[0]), "%s", c->metric);
    return true;
}

/* Close the duplicate: each clock that still runs stops with its stop
 * milestone ("resolved" when it is one of them, else its first; each
 * milestone once), then the ticket is archived. */
static enum kw_code close_dup(struct kw_unit *u, const struct kw_actor *who, const struct side *d,
                              struct kw_err *err)
{
    struct stops s = {.n = 0};
    enum kw_code rc = kw_store_ticket_clocks(u->st, d->id, still_running, &s, err);
    if (rc != KW_OK)
        return rc;
    const struct kw_compiled *c = NULL;
    if (s.n && d->commitment_id &&
        !(c = kw_clocks_commitment(u->clocks, u->st, d->commitment_id, err)))
        return err->code;
    const char *done[16];
    size_t nd = 0;
    for (size_t i = 0; c && i < s.n; i++) {
        int m = kw_policy_metric_index(c->p, s.metric[i]);
        const char *const *stops;
        size_t n = m < 0 ? 0 : kw_policy_metric_stops(c->p, (size_t)m, &stops);
        if (n == 0)
            continue;
        const char *stop = stops[0]; /* "resolved" when it is one: the original resolves it */
        for (size_t k = 0; k < n; k++)
            if (strcmp(stops[k], "resolved") == 0)
                stop = stops[k];
        bool seen = false;
        for (size_t k = 0; k < nd; k++)
            seen = seen || strcmp(done[k], stop) == 0;
        if (seen)
            continue;
        done[nd++] = stop;
        struct kw_event_rec r = {.kind = KW_EVENT_MILESTONE, .milestone = stop};
        if ((rc = kw_app_append(u->st, d->id, &r, who->id, u->now, NULL, err)) != KW_OK)
            return rc;
    }
    const char *archived = kw_state_name(KW_ST_ARCHIVED);
    struct kw_event_rec r = {
        .kind = KW_EVENT_STATE, .state = archived, .from = d->state, .reason = "merged"};
    return kw_app_append(u->st, d->id, &r, who->id, u->now, archived, err);
}

struct merged_of {
    int64_t into;
};

static bool merged_into(const struct kw_link_row *l, void *ctx)
{
    struct merged_of *m = ctx;
    if (strcmp(l->link, "merged_into") == 0) {
        m->into = l->ticket_id;
        return false;
    }
    return true;
}

/* The original named by the duplicate's own `merged` event ({"into": N}):
 * read from the ticket's events, which every backend keeps (the links
 * table is SQLite's only so far). */
static bool merge_event(const struct kw_stored_event *ev, void *ctx)
{
    if (strcmp(ev->type, "merged") != 0)
        return true;
    json_t *b = json_loads(ev->body, 0, NULL);
    json_t *into = json_object_get(b, "into");
    if (json_is_integer(into))
        *(int64_t *)ctx = json_integer_value(into);
    json_decref(b);
    return *(int64_t *)ctx == 0;
}

enum kw_code kw_ticket_merged_into(struct kw_store *st, int64_t ticket, int64_t *into,
                                   struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *into = 0;
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(st, ticket, &t, err);
    if (rc != KW_OK || !t.state || strcmp(t.state, kw_state_name(KW_ST_ARCHIVED)) != 0)
        return rc;
    return kw_store_events(st, ticket, merge_event, into, err);
}

enum kw_code kw_ticket_refuse_merged(struct kw_store *st, int64_t ticket, bool archived,
                                     const char *instead, const char *what, struct kw_err *err)
{
    int64_t into = 0;
    enum kw_code rc = archived ? kw_ticket_merged_into(st, ticket, &into, err) : KW_OK;
    if (rc != KW_OK || !into)
        return rc;
    return kw_err_set(err, KW_CONFLICT, "",
                      "#%lld was merged into #%lld: %s #%lld (a merged duplicate takes no %s)",
                      (long long)ticket, (long long)into, instead, (long long)into, what);
}

static enum kw_code merge_checks(struct kw_unit *u, const struct kw_actor *who,
                                 const struct side *d, const struct side *o, struct kw_err *err)
{
    struct merged_of m = {0};
    enum kw_code rc = kw_store_links(u->st, d->id, merged_into, &m, err);
    if (rc != KW_OK)
        return rc;
    (void)who;
    const char *archived = kw_state_name(KW_ST_ARCHIVED);
    if (m.into)
        return kw_err_set(err, KW_CONFLICT, "", "#%lld was merged into #%lld already",
                          (long long)d->id, (long long)m.into);
    if (strcmp(d->state, archived) == 0)
        return kw_err_set(err, KW_CONFLICT, "",
                          "#%lld is archived (closed): only an open ticket is merged",
                          (long long)d->id);
    if (strcmp(o->state, archived) == 0)
        return kw_err_set(err, KW_CONFLICT, "/into",
                          "into: #%lld is archived (closed); merge into an open ticket",
                          (long long)o->id);
    if (d->org_id != o->org_id)
        return kw_err_set(err, KW_CONFLICT, "/into",
                          "into: #%lld is another organisation's ticket (only tickets of one "
                          "organisation are merged; link them instead)",
                          (long long)o->id);
    return KW_OK;
}

enum kw_code kw_ticket_merge(struct kw_unit *u, const struct kw_actor *who, int64_t dup,
                             int64_t into, const char *reason, int64_t max_bytes,
                             struct kw_merged *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *out = (struct kw_merged){0};
    struct side d, o;
    enum kw_code rc = staff(who, "tickets are merged by the provider's staff", err);
    if (rc == KW_OK)
        rc = side_of(u, dup, "", &d, err);
    if (rc != KW_OK)
        return rc;
    if (into == dup)
        return kw_err_set(err, KW_INVALID, "/into", "into: a ticket is not merged into itself");
    if ((rc = side_of(u, into, "/into", &o, err)) != KW_OK ||
        (rc = merge_checks(u, who, &d, &o, err)) != KW_OK)
        return rc;
    struct kw_ticket_row t;
    if ((rc = kw_store_ticket_get(u->st, dup, &t, err)) != KW_OK)
        return rc;
    int64_t requester = t.requester_id;
    struct items it = {0};
    rc = kw_store_events(u->st, dup, collect, &it, err);
    if (rc == KW_OK && it.failed)
        rc = kw_err_set(err, it.err.code, "", "%s", it.err.msg);
    int64_t count = 0, bytes = 0;
    if (rc == KW_OK)
        rc = kw_store_attachment_total(u->st, into, &count, &bytes, err);
    if (rc == KW_OK && it.bytes && bytes + it.bytes > max_bytes)
        rc = kw_err_set(err, KW_TOO_BIG, "/into",
                        "into: #%lld's files with #%lld's would be %lld bytes (at most %lld)",
                        (long long)into, (long long)dup, (long long)(bytes + it.bytes),
                        (long long)max_bytes);
    if (rc == KW_OK)
        rc = move_items(u, who, dup, into, &it, out, err);
    items_release(&it);
    if (rc != KW_OK)
        return rc;
    bool removed;
    if ((rc = kw_store_link_remove(u->st, dup, into, &removed, err)) != KW_OK ||
        (rc = kw_store_link_add(u->st, dup, into, "merged", who->id, u->now, err)) != KW_OK ||
        (rc = add_watchers(u, who, dup, into, requester, out, err)) != KW_OK)
        return rc;
    struct kw_event_rec from = {.kind = KW_EVENT_MERGED,
                                .other = dup,
                                .link = "from",
                                .task = out->comments,
                                .attempt = out->files,
                                .reason = reason};
    if ((rc = kw_app_append(u->st, into, &from, who->id, u->now, NULL, err)) != KW_OK ||
        (rc = project(u, into, err)) != KW_OK)
        return rc;
    struct kw_event_rec to = {
        .kind = KW_EVENT_MERGED, .other = into, .link = "into", .reason = reason};
    if ((rc = kw_app_append(u->st, dup, &to, who->id, u->now, NULL, err)) != KW_OK ||
        (rc = close_dup(u, who, &d, err)) != KW_OK)
        return rc;
    return project(u, dup, err);
}
