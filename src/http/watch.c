// SPDX-License-Identifier: MIT
/* /api/v1/watch-list, /api/v1/orgs/{id}/watch-list/clear and
 * /api/v1/audit: the watch list (服务黑名单) with its settings (the
 * accident levels' thresholds too), the recorded decision that takes an
 * organisation off it, and the audit trail of administrative changes
 * (app/watch.h). The flag is the provider's: staff see it on the
 * organisation and its tickets, customers never. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "watch.h"

static json_t *flag_json(const struct kw_watch_flag *f)
{
    return json_pack("{s:I, s:I, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "id", (json_int_t)f->id,
                     "org_id", (json_int_t)f->org_id, "org_name", f->org_name ? f->org_name : "",
                     "flagged_at", kwh_instant_json(f->flagged_at), "ticket_id",
                     kwh_id_or_null(f->ticket_id), "overruns", (json_int_t)f->overruns,
                     "counted_from", kwh_instant_json(f->window_from), "cleared_at",
                     kwh_instant_json(f->cleared_at), "cleared_by", kwh_id_or_null(f->cleared_by),
                     "reason", kwh_nullable(f->reason));
}

static bool flag_add(const struct kw_watch_flag *f, void *ctx)
{
    json_array_append_new(ctx, flag_json(f));
    return true;
}

static bool flag_keep(const struct kw_watch_flag *f, void *ctx)
{
    *(json_t **)ctx = flag_json(f);
    return false;
}

json_t *kwh_watch_flag(struct kw_store *st, int64_t org)
{
    json_t *j = NULL;
    struct kw_err err = {0};
    if (kw_store_watch_flags(st, org, true, flag_keep, &j, &err) != KW_OK) {
        json_decref(j);
        return json_null(); /* a failed read shows no flag rather than no page */
    }
    return j ? j : json_null();
}

json_t *kwh_watch_json(struct kwh_call *x, int64_t org)
{
    return x->me.customer ? json_null() : kwh_watch_flag(x->wk->st, org);
}

struct kwh_reply kwh_watch_list(struct kwh_call *x)
{
    struct kwh_reply out;
    long long org = 0;
    const char *all = kwh_query(x, "all");
    if (!kwh_query_int(x, "org_id", 1, INT64_MAX, &org, &out))
        return out;
    if (all && strcmp(all, "true") != 0 && strcmp(all, "false") != 0)
        return kwh_problem_of(KW_INVALID, "/all", "all: expected true or false");
    struct kw_watch_settings s;
    struct kw_err err = {0};
    json_t *flags = json_array();
    if (kw_store_watch_settings(x->wk->st, &s, &err) != KW_OK ||
        kw_store_watch_flags(x->wk->st, org, !(all && strcmp(all, "true") == 0), flag_add, flags,
                             &err) != KW_OK) {
        json_decref(flags);
        return kwh_problem(&err);
    }
    return kwh_ok(200,
                  json_pack("{s:o, s:I, s:I}", "flags", flags, "overruns", (json_int_t)s.overruns,
                            "window_months", (json_int_t)s.window_months));
}

static json_t *settings_json(const struct kw_watch_settings *s)
{
    return json_pack("{s:I, s:I, s:{s:I, s:I, s:I}}", "overruns", (json_int_t)s->overruns,
                     "window_months", (json_int_t)s->window_months, "accident", "major",
                     (json_int_t)s->accident_major, "serious", (json_int_t)s->accident_serious,
                     "general", (json_int_t)s->accident_general);
}

struct kwh_reply kwh_watch_settings_get(struct kwh_call *x)
{
    struct kw_watch_settings s;
    struct kw_err err = {0};
    if (kw_store_watch_settings(x->wk->st, &s, &err) != KW_OK)
        return kwh_problem(&err);
    return kwh_ok(200, settings_json(&s));
}

struct settings_unit {
    struct kw_actor who;
    int64_t now;
    struct kw_watch_settings s;
    bool has_accident;
};

static enum kw_code settings_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct settings_unit *su = ctx;
    struct kw_unit u = {.st = st, .now = su->now};
    return kw_watch_settings_save(&u, &su->who, &su->s, err);
}

#define SU(m) offsetof(struct settings_unit, m)
static const struct kwh_field accident_fields[] = {
    {.name = "major",
     .type = KWH_INT,
     .lo = 0,
     .hi = 1000000000000000,
     .offset = SU(s.accident_major)},
    {.name = "serious",
     .type = KWH_INT,
     .lo = 0,
     .hi = 1000000000000000,
     .offset = SU(s.accident_serious)},
    {.name = "general",
     .type = KWH_INT,
     .lo = 0,
     .hi = 1000000000000000,
     .offset = SU(s.accident_general)},
};
static const struct kwh_field settings_fields[] = {
    {.name = "overruns", .type = KWH_INT, .lo = 1, .hi = 1000, .offset = SU(s.overruns)},
    {.name = "window_months", .type = KWH_INT, .lo = 1, .hi = 120, .offset = SU(s.window_months)},
    {.name = "accident",
     .type = KWH_OBJ,
     .offset = SU(has_accident),
     .sub = accident_fields,
     .nsub = KWH_NFIELDS(accident_fields)},
};
#undef SU

struct kwh_reply kwh_watch_settings_put(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct settings_unit su = {.who = kwh_actor(x)};
    struct kw_err err = {0};
    if (kw_store_watch_settings(x->wk->st, &su.s, &err) != KW_OK) {
        json_decref(j);
        return kwh_problem(&err);
    }
    su.now = x->now;
    /* members left out keep their values */
    bool ok = kwh_decode(j, settings_fields, KWH_NFIELDS(settings_fields), &su, &out);
    if (ok && kwh_write_unit(x, settings_unit, &su, &out))
        out = kwh_ok(200, settings_json(&su.s));
    json_decref(j);
    return out;
}

struct clear_unit {
    struct kw_actor who;
    int64_t now, org;
    const char *reason;
};

static enum kw_code clear_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct clear_unit *c = ctx;
    struct kw_unit u = {.st = st, .now = c->now};
    return kw_watch_clear(&u, &c->who, c->org, c->reason, err);
}

static const struct kwh_field clear_fields[] = {
    {.name = "reason",
     .type = KWH_STR,
     .required = true,
     .max = 1000,
     .offset = offsetof(struct clear_unit, reason),
     .missing = "missing (why the organisation comes off the watch list)"},
};

struct kwh_reply kwh_org_watch_clear(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct clear_unit c = {.who = kwh_actor(x), .now = x->now, .org = x->arg.id};
    if (kwh_decode(j, clear_fields, KWH_NFIELDS(clear_fields), &c, &out) &&
        kwh_write_unit(x, clear_unit, &c, &out)) {
        json_t *flags = json_array();
        struct kw_err err = {0};
        if (kw_store_watch_flags(x->wk->st, c.org, false, flag_add, flags, &err) != KW_OK) {
            json_decref(flags);
            out = kwh_problem(&err);
        } else {
            out = kwh_ok(200, json_incref(json_array_get(flags, 0)));
            json_decref(flags);
        }
    }
    json_decref(j);
    return out;
}

/* ---- the audit trail ---- */

struct audit_page {
    json_t *items;
    size_t limit;
    int64_t last;
    bool more;
};

static json_t *json_or_null(const char *text)
{
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : json_null();
}

static bool audit_add(const struct kw_audit_row *a, void *ctx)
{
    struct audit_page *p = ctx;
    if (json_array_size(p->items) == p->limit)
        return !(p->more = true);
    char hex[2 * KW_HASH_BYTES + 1];
    for (size_t i = 0; i < KW_HASH_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", a->hash[i]);
    json_array_append_new(p->items, json_pack("{s:I, s:o, s:o, s:s, s:o, s:s, s:o, s:o, s:s}", "id",
                                              (json_int_t)a->id, "at", kwh_instant_json(a->at),
                                              "actor", kwh_id_or_null(a->actor), "kind", a->kind,
                                              "object", kwh_id_or_null(a->object), "action",
                                              a->action, "before", json_or_null(a->before), "after",
                                              json_or_null(a->after), "hash", hex));
    p->last = a->id;
    return true;
}

struct kwh_reply kwh_audit_list(struct kwh_call *x)
{
    struct kwh_reply out;
    long long actor = 0, before = 0, limit = 100;
    struct kw_audit_filter f = {
        .kind = kwh_query(x, "kind"), .from = KW_STORE_NO_TIME, .to = KW_STORE_NO_TIME};
    if (!kwh_query_int(x, "actor", 1, INT64_MAX, &actor, &out) ||
        !kwh_query_int(x, "before", 1, INT64_MAX, &before, &out) ||
        !kwh_query_int(x, "limit", 1, 500, &limit, &out) ||
        !kwh_query_instant(x, "from", &f.from, &out) || !kwh_query_instant(x, "to", &f.to, &out))
        return out;
    if (f.kind && (!*f.kind || strlen(f.kind) > 32))
        return kwh_problem_of(KW_INVALID, "/kind", "kind: expected a kind of change (1-32 bytes)");
    if (f.from != KW_STORE_NO_TIME && f.to != KW_STORE_NO_TIME && f.to <= f.from)
        return kwh_problem_of(KW_INVALID, "/to", "to: expected an instant after from");
    f.actor = actor;
    f.before = before;
    f.limit = (size_t)limit + 1;
    struct audit_page p = {json_array(), (size_t)limit, 0, false};
    struct kw_err err = {0};
    if (kw_store_audit(x->wk->st, &f, audit_add, &p, &err) != KW_OK) {
        json_decref(p.items);
        return kwh_problem(&err);
    }
    return kwh_ok(200, json_pack("{s:o, s:o}", "changes", p.items, "next",
                                 p.more ? json_integer(p.last) : json_null()));
}
