// SPDX-License-Identifier: MIT
#include "sla_json.h"

#include <string.h>

#include "civil.h"

enum kw_code kw_event_from_json(json_t *obj, struct kw_event *ev, const char **ticket,
                                struct kw_err *err)
{
    const char *key;
    json_t *val;
    memset(ev, 0, sizeof(*ev));
    if (ticket)
        *ticket = NULL;
    if (!json_is_object(obj))
        return kw_err_set(err, KW_INVALID, "", "an event must be a JSON object");
    json_t *type = json_object_get(obj, "type"), *at = json_object_get(obj, "at");
    if (!json_is_string(type))
        return kw_err_set(err, KW_INVALID, "/type",
                          "type: missing (created, level, category, attrs, state, milestone, "
                          "reopened)");
    int t = 0;
    while (t < KW_EV_COUNT &&
           strcmp(kw_event_type_name((enum kw_event_type)t), json_string_value(type)) != 0)
        t++;
    if (t == KW_EV_COUNT)
        return kw_err_set(err, KW_INVALID, "/type",
                          "type: \"%.40s\" is not an event type (expected created, level, "
                          "category, attrs, state, milestone, reopened)",
                          json_string_value(type));
    ev->type = (enum kw_event_type)t;
    if (!json_is_string(at))
        return kw_err_set(err, KW_INVALID, "/at",
                          "at: missing (an instant like "
                          "2026-03-02T09:00:00+08:00)");
    if (kw_instant_parse(json_string_value(at), json_string_length(at), &ev->at, err) != KW_OK)
        return kw_err_locate(err, "/at", "at");
    json_object_foreach(obj, key, val)
    {
        char ptr[48];
        if (snprintf(ptr, sizeof(ptr), "/%.40s", key) < 0)
            ptr[0] = '\0';
        int a = 0;
        while (a < KW_ATTR_COUNT && strcmp(kw_attr_name((enum kw_attr)a), key) != 0)
            a++;
        if (strcmp(key, "type") == 0 || strcmp(key, "at") == 0 || strcmp(key, "actor") == 0 ||
            strcmp(key, "note") == 0 || strcmp(key, "id") == 0)
            continue;
        if (!json_is_string(val) && !(strcmp(key, "ticket") == 0 && json_is_integer(val)))
            return kw_err_set(err, KW_INVALID, ptr, "%.40s: expected a string", key);
        if (a < KW_ATTR_COUNT) {
            bool allowed = ev->type == KW_EV_CREATED || ev->type == KW_EV_ATTRS ||
                           (ev->type == KW_EV_LEVEL && a == KW_ATTR_LEVEL) ||
                           (ev->type == KW_EV_CATEGORY && a == KW_ATTR_CATEGORY);
            if (!allowed)
                return kw_err_set(err, KW_INVALID, ptr, "%s: not part of a %s event", key,
                                  kw_event_type_name(ev->type));
            ev->attrs.v[a] = json_string_value(val);
        } else if (strcmp(key, "milestone") == 0 && ev->type == KW_EV_MILESTONE) {
            ev->name = json_string_value(val);
        } else if (strcmp(key, "state") == 0 &&
                   (ev->type == KW_EV_STATE || ev->type == KW_EV_REOPENED)) {
            ev->name = json_string_value(val);
        } else if (strcmp(key, "ticket") == 0 && ticket) {
            *ticket = json_is_string(val) ? json_string_value(val) : NULL;
        } else {
            return kw_err_set(err, KW_INVALID, ptr, "unknown field \"%.40s\" for a %s event", key,
                              kw_event_type_name(ev->type));
        }
    }
    if (ev->type == KW_EV_MILESTONE && !ev->name)
        return kw_err_set(err, KW_INVALID, "/milestone", "milestone: missing (which milestone)");
    if (ev->type == KW_EV_STATE && !ev->name)
        return kw_err_set(err, KW_INVALID, "/state", "state: missing (the new state)");
    return KW_OK;
}

static json_t *instant(int64_t t)
{
    char buf[KW_INSTANT_BUF];
    if (t == KW_NO_TIME)
        return json_null();
    kw_instant_format_utc(t, buf);
    return json_string(buf);
}

json_t *kw_sla_to_json(const struct kw_policy *p, const struct kw_sla *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < s->n; i++) {
        const struct kw_clock *c = &s->clock[i];
        json_t *warn = json_array();
        for (size_t k = 0; warn && k < c->n_warn; k++)
            json_array_append_new(warn,
                                  json_pack("{s:i, s:o, s:b}", "percent", (int)c->warn[k].pct, "at",
                                            instant(c->warn[k].at), "reached", c->warn[k].reached));
        json_t *next =
            c->next_due == KW_NO_TIME
                ? json_null()
                : json_pack("{s:o, s:s, s:i}", "at", instant(c->next_due), "kind",
                            c->next_pct >= 100 ? "breach" : "warning", "percent", (int)c->next_pct);
        bool started = c->started_at != KW_NO_TIME;
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
            "metric", kw_policy_metric_id(p, (size_t)c->metric), "status",
            kw_clock_status_name(c->status), "calendar",
            kw_policy_calendar_name(p, (size_t)c->calendar), "rule", (json_int_t)c->rule, "target",
            (json_int_t)c->target, "started_at", instant(c->started_at), "elapsed",
            started ? json_integer(c->elapsed) : json_null(), "paused",
            started ? json_integer(c->paused) : json_null(), "remaining",
            started ? json_integer(c->target - c->elapsed) : json_null(), "deadline",
            instant(c->deadline), "met_at", instant(c->met_at), "stopped_by",
            c->stopped_by ? json_string(c->stopped_by) : json_null(), "breached_at",
            instant(c->breached_at), "sri",
            started && c->sri >= 0 ? json_real((double)(int64_t)(c->sri * 10 + 0.5) / 10)
                                   : json_null(),
            "warnings", warn ? warn : json_null(), "next_due", next ? next : json_null());
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
