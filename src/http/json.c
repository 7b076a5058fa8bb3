// SPDX-License-Identifier: MIT
/*
 * json.c - how the API writes values and resources: instants (UTC, ISO
 * 8601, null for none), ids (null for none), the resources more than one
 * handler sends, and pages of rows (a "next" cursor when a row is past the
 * page, so clients ask again with after=next).
 */
#include <stdint.h>
#include <string.h>

#include "civil.h"
#include "internal.h"

void kwh_hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

json_t *kwh_instant_json(int64_t t)
{
    if (t == KW_STORE_NO_TIME)
        return json_null();
    char buf[KW_INSTANT_BUF];
    kw_instant_format_utc(t, buf);
    return json_string(buf);
}

json_t *kwh_nullable(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *kwh_id_or_null(int64_t id)
{
    return id > 0 ? json_integer(id) : json_null();
}

/* ---- pages ---- */

void kwh_page_init(struct kwh_page *pg, size_t limit)
{
    *pg = (struct kwh_page){.items = json_array(), .limit = limit};
}

bool kwh_page_query(const struct kwh_call *x, struct kwh_page *pg, long long *after,
                    struct kwh_reply *fail)
{
    long long limit = 100;
    *after = 0;
    if (!kwh_query_int(x, "after", 0, INT64_MAX, after, fail) ||
        !kwh_query_int(x, "limit", 1, 500, &limit, fail))
        return false;
    kwh_page_init(pg, (size_t)limit);
    return true;
}

bool kwh_page_room(struct kwh_page *pg)
{
    if (json_array_size(pg->items) < pg->limit)
        return true;
    pg->more = true;
    return false;
}

bool kwh_page_push(struct kwh_page *pg, int64_t id, json_t *row)
{
    json_array_append_new(pg->items, row);
    pg->last = id;
    return true;
}

json_t *kwh_page_json(struct kwh_page *pg, const char *key)
{
    json_t *items = pg->items;
    pg->items = NULL;
    if (pg->limit == KWH_ALL)
        return json_pack("{s:o}", key, items);
    return json_pack("{s:o, s:o}", key, items, "next",
                     pg->more ? json_integer(pg->last) : json_null());
}

void kwh_page_release(struct kwh_page *pg)
{
    json_decref(pg->items);
    pg->items = NULL;
}

/* ---- resources ---- */

json_t *kwh_org_json(const struct kw_org *o)
{
    /* deactivated_at > 0: deactivated (an organisation just made has 0) */
    bool off = o->deactivated_at > 0;
    return json_pack(
        "{s:I, s:s, s:o, s:o, s:o, s:I, s:o, s:b, s:o}", "id", (json_int_t)o->id, "name", o->name,
        "tier", kwh_nullable(o->tier), "region", kwh_nullable(o->region), "calendar",
        kwh_nullable(o->calendar), "contract_value_cents", (json_int_t)o->contract_value_cents,
        "account_manager_id", kwh_id_or_null(o->account_manager_id), "active", !off,
        "deactivated_at", kwh_instant_json(off ? o->deactivated_at : KW_STORE_NO_TIME));
}

json_t *kwh_user_json(const struct kw_user_row *u)
{
    json_t *skills = json_loads(u->skills ? u->skills : "[]", 0, NULL);
    bool off = u->deactivated_at > 0;
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "id",
                     (json_int_t)u->id, "email", u->email, "name", u->name, "role", u->role,
                     "org_id", kwh_id_or_null(u->org_id), "team_id", kwh_id_or_null(u->team_id),
                     "skills", skills ? skills : json_array(), "lang", kwh_nullable(u->lang), "tz",
                     kwh_nullable(u->tz), "active", u->active, "deactivated_at",
                     kwh_instant_json(off ? u->deactivated_at : KW_STORE_NO_TIME));
}

json_t *kwh_team_json(int64_t id, const char *name, int64_t lead)
{
    return json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id, "name", name, "lead_id",
                     kwh_id_or_null(lead));
}

json_t *kwh_endpoint_json(const struct kw_endpoint *e)
{
    json_t *events = json_loads(e->events ? e->events : "[]", 0, NULL);
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:b}", "id", (json_int_t)e->id,
                     "name", e->name, "kind", e->kind, "url", e->url, "events",
                     events ? events : json_array(), "org_id", kwh_id_or_null(e->org_id), "team_id",
                     kwh_id_or_null(e->team_id), "active", e->active, "signed", e->has_secret);
}

json_t *kwh_subscription_json(const struct kw_subscription *s)
{
    json_t *events = json_loads(s->events ? s->events : "[]", 0, NULL);
    json_t *quiet = json_null();
    if (s->quiet_tz) {
        char from[16], to[16];
        kw_tod_format(s->quiet_from, from);
        kw_tod_format(s->quiet_to, to);
        quiet = json_pack("{s:s, s:s, s:s}", "tz", s->quiet_tz, "from", from, "to", to);
    }
    return json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)s->id, "user_id",
                     (json_int_t)s->user_id, "endpoint_id", (json_int_t)s->endpoint_id, "events",
                     events ? events : json_array(), "org_id", kwh_id_or_null(s->org_id), "team_id",
                     kwh_id_or_null(s->team_id), "quiet_hours", quiet, "lang",
                     s->lang ? json_string(s->lang) : json_null());
}
