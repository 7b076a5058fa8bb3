// SPDX-License-Identifier: MIT
/* /api/v1/calendars/{name}/versions and /impact: a stored calendar's
 * versions, and what an edit would reach before it is saved (the rest of
 * /calendars is in admin.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calcache.h"
#include "calendar_json.h"
#include "calendars.h"
#include "internal.h"

static bool version_json(const struct kw_calendar_version *v, void *ctx)
{
    json_t *spec = json_loads(v->spec ? v->spec : "{}", 0, NULL);
    json_array_append_new(ctx, json_pack("{s:I, s:o, s:o}", "version", (json_int_t)v->version,
                                         "saved_at", kwh_instant_json(v->saved_at), "spec",
                                         spec ? spec : json_object()));
    return true;
}

/* GET /calendars/{name}/versions: every version, oldest first. */
struct kwh_reply kwh_calendar_versions(struct kwh_call *x)
{
    struct kw_err err = {0};
    json_t *list = json_array();
    if (kw_store_calendar_versions(x->wk->st, x->arg.name, version_json, list, &err) != KW_OK) {
        json_decref(list);
        return kwh_problem(&err);
    }
    if (json_array_size(list) == 0) {
        json_decref(list);
        return kwh_problemf(KW_NOT_FOUND, "", "no calendar \"%.60s\"", x->arg.name);
    }
    return kwh_ok(200, json_pack("{s:s, s:o}", "calendar", x->arg.name, "versions", list));
}

struct latest {
    char *spec;
    int64_t version;
};

static bool latest_row(const struct kw_named_row *r, void *ctx)
{
    struct latest *l = ctx;
    free(l->spec);
    l->spec = strdup(r->text ? r->text : "");
    l->version = r->ref;
    return true;
}

static bool impact_row(const struct kw_commitment_row *c, int64_t open, void *ctx)
{
    json_t *j = ctx;
    json_array_append_new(json_object_get(j, "commitments"),
                          json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)c->id, "name",
                                    c->name, "version", c->version, "open_tickets",
                                    (json_int_t)open));
    json_object_set_new(
        j, "open_tickets",
        json_integer(json_integer_value(json_object_get(j, "open_tickets")) + (json_int_t)open));
    return true;
}

/* POST /calendars/{name}/impact with the calendar as it would be saved: a
 * dry run. Checks it as a save would, and says whether it changes the
 * latest version, which commitment versions name the calendar and how many
 * of their tickets have clocks that have not stopped (those the edit moves
 * from the instant it is saved). Nothing is written. */
struct kwh_reply kwh_calendar_impact(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct kw_cal_spec spec = {0};
    struct latest l = {0};
    json_t *canon = NULL, *res = NULL;
    char *text = NULL;
    enum kw_code rc = kw_cal_spec_from_json(j, &spec, &err);
    if (rc == KW_OK && spec.name[0] && strcmp(spec.name, x->arg.name) != 0)
        rc = kw_err_set(&err, KW_INVALID, "/name", "name: \"%.60s\" is not the calendar \"%.60s\"",
                        spec.name, x->arg.name);
    if (rc == KW_OK && !spec.name[0])
        snprintf(spec.name, sizeof(spec.name), "%s", x->arg.name);
    if (rc == KW_OK) {
        struct kw_cal *cal = kw_cal_compile(kw_clocks_tz_lock(x->h->clocks), &spec, &err);
        kw_clocks_tz_unlock(x->h->clocks);
        rc = cal ? KW_OK : err.code;
        kw_cal_free(cal);
    }
    if (rc == KW_OK &&
        (!(canon = kw_cal_spec_to_json(&spec)) || !(text = json_dumps(canon, JSON_COMPACT))))
        rc = kw_err_set(&err, KW_NOMEM, "", "no memory for the calendar");
    if (rc == KW_OK)
        rc = kw_store_calendars(x->wk->st, x->arg.name, latest_row, &l, &err);
    if (rc == KW_OK) {
        res = json_pack("{s:s, s:b, s:o, s:b, s:[], s:I}", "calendar", x->arg.name, "exists",
                        l.spec != NULL, "version", l.spec ? json_integer(l.version) : json_null(),
                        "changed", !l.spec || strcmp(l.spec, text) != 0, "commitments",
                        "open_tickets", (json_int_t)0);
        rc = kw_app_calendar_impact(x->wk->st, x->arg.name, impact_row, res, &err);
    }
    out = rc == KW_OK ? kwh_ok(200, json_incref(res)) : kwh_problem(&err);
    json_decref(res);
    json_decref(canon);
    json_decref(j);
    free(text);
    free(l.spec);
    kw_cal_spec_release(&spec);
    return out;
}
