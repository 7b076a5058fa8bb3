// SPDX-License-Identifier: MIT
/* Canned replies: the placeholders, who manages them; see canned.h. */
#include "canned.h"

#include <stdlib.h>
#include <string.h>

#include "tickets.h"

static const struct {
    const char *name, *about;
} fields[KW_CANNED_FIELD_COUNT] = {
#define X(n, ph, what) [KW_CANNED_##n] = {ph, what},
    KW_CANNED_MAP(X)
#undef X
};

const char *kw_canned_placeholder(enum kw_canned_field f)
{
    return (unsigned)f < KW_CANNED_FIELD_COUNT ? fields[f].name : NULL;
}

const char *kw_canned_placeholder_about(enum kw_canned_field f)
{
    return (unsigned)f < KW_CANNED_FIELD_COUNT ? fields[f].about : NULL;
}

/* The placeholder between p and the "}}" at end (spaces trimmed), or -1. */
static int field_of(const char *p, const char *end)
{
    while (p < end && *p == ' ')
        p++;
    while (end > p && end[-1] == ' ')
        end--;
    for (int f = 0; f < KW_CANNED_FIELD_COUNT; f++)
        if (strlen(fields[f].name) == (size_t)(end - p) &&
            memcmp(fields[f].name, p, (size_t)(end - p)) == 0)
            return f;
    return -1;
}

enum kw_code kw_canned_check(const char *text, const char *field, struct kw_err *err)
{
    const char *name = field[0] == '/' ? field + 1 : field;
    if (!text || kw_app_blank(text))
        return kw_err_set(err, KW_INVALID, field, "%s: missing (the reply's text)", name);
    if (strlen(text) > KW_CANNED_TEXT_MAX)
        return kw_err_set(err, KW_TOO_BIG, field, "%s: longer than %d bytes", name,
                          KW_CANNED_TEXT_MAX);
    for (const char *p = strstr(text, "{{"); p; p = strstr(p, "{{")) {
        const char *end = strstr(p + 2, "}}");
        if (!end)
            return kw_err_set(err, KW_INVALID, field,
                              "%s: a placeholder opened with {{ is not closed with }}", name);
        if (field_of(p + 2, end) < 0)
            return kw_err_set(err, KW_INVALID, field,
                              "%s: {{%.*s}} is not a placeholder (expected ticket.id, "
                              "ticket.title, ticket.level, ticket.category, ticket.region, "
                              "ticket.state, ticket.due, due.response, due.resolution, "
                              "requester.name, org.name, assignee.name, team.name or agent.name)",
                              name, (int)(end - p - 2 > 40 ? 40 : end - p - 2), p + 2);
        p = end + 2;
    }
    return KW_OK;
}

char *kw_canned_render(const char *text, const char *const v[KW_CANNED_FIELD_COUNT])
{
    size_t cap = strlen(text) + 1, n = 0;
    for (int f = 0; f < KW_CANNED_FIELD_COUNT; f++) /* the longest expansion, at most once each */
        cap += v[f] ? strlen(v[f]) : 4;
    cap *= 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        const char *open = strstr(p, "{{"), *end = open ? strstr(open + 2, "}}") : NULL;
        size_t plain = end ? (size_t)(open - p) : strlen(p);
        int f = end ? field_of(open + 2, end) : -1;
        const char *value = f >= 0 ? (v[f] ? v[f] : "—") : NULL;
        size_t len = f >= 0 ? strlen(value) : end ? (size_t)(end + 2 - open) : 0;
        if (n + plain + len + 1 > cap) {
            cap = 2 * (n + plain + len + 1);
            char *more = realloc(out, cap);
            if (!more) {
                free(out);
                return NULL;
            }
            out = more;
        }
        memcpy(out + n, p, plain);
        n += plain;
        if (!end)
            break;
        memcpy(out + n, f >= 0 ? value : open, len);
        n += len;
        p = end + 2;
    }
    out[n] = '\0';
    return out;
}

struct lead {
    int64_t id;
    bool found;
};

static bool lead_of(const struct kw_named_row *r, void *ctx)
{
    struct lead *l = ctx;
    l->id = r->ref;
    l->found = true;
    return false;
}

/* Whether who manages team's replies: admins and managers every team's,
 * an agent the team they lead. */
static enum kw_code may_manage(struct kw_unit *u, const struct kw_actor *who, int64_t team,
                               struct kw_err *err)
{
    if (kw_actor_customer(who) || who->role == KW_ROLE_SYSTEM)
        return kw_err_set(err, KW_FORBIDDEN, "", "canned replies are the provider's");
    if (team <= 0)
        return kw_err_set(err, KW_INVALID, "/team_id", "team_id: missing (the team it is for)");
    struct lead l = {0};
    enum kw_code rc = team > 0 ? kw_store_teams(u->st, team, lead_of, &l, err) : KW_OK;
    if (rc != KW_OK)
        return rc;
    if (!l.found)
        return kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld", (long long)team);
    if (who->role == KW_ROLE_ADMIN || who->role == KW_ROLE_MANAGER || l.id == who->id)
        return KW_OK;
    return kw_err_set(err, KW_FORBIDDEN, "/team_id",
                      "team_id: only admins, managers and the team's lead manage its canned "
                      "replies");
}

enum kw_code kw_canned_put(struct kw_unit *u, const struct kw_actor *who, const struct kw_canned *c,
                           int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc;
    if (c->id) {
        struct kw_canned old;
        if ((rc = kw_store_canned_get(u->st, c->id, &old, err)) != KW_OK)
            return rc;
        int64_t team = old.team_id;
        if ((rc = may_manage(u, who, team, err)) != KW_OK)
            return rc;
    }
    if ((rc = may_manage(u, who, c->team_id, err)) != KW_OK)
        return rc;
    if (!c->name || kw_app_blank(c->name))
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (strlen(c->name) > KW_CANNED_NAME_MAX || strpbrk(c->name, "\r\n\t"))
        return kw_err_set(err, KW_INVALID, "/name", "name: one line of at most %d bytes",
                          KW_CANNED_NAME_MAX);
    if ((rc = kw_canned_check(c->body_zh, "/body_zh", err)) != KW_OK ||
        (rc = kw_canned_check(c->body_en, "/body_en", err)) != KW_OK)
        return rc;
    struct kw_canned w = *c;
    w.created_by = who->id;
    w.created_at = w.updated_at = u->now;
    if (c->id) {
        *id = c->id;
        return kw_store_canned_update(u->st, &w, err);
    }
    return kw_store_canned_insert(u->st, &w, id, err);
}

enum kw_code kw_canned_delete(struct kw_unit *u, const struct kw_actor *who, int64_t id,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_canned old;
    enum kw_code rc = kw_store_canned_get(u->st, id, &old, err);
    if (rc == KW_OK)
        rc = may_manage(u, who, old.team_id, err);
    return rc == KW_OK ? kw_store_canned_delete(u->st, id, err) : rc;
}
