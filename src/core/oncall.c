// SPDX-License-Identifier: MIT
/* On-call rotas; see oncall.h. */
#include "oncall.h"

#include <stdio.h>
#include <string.h>

#include "civil.h"

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static enum kw_code bad(struct kw_err *err, const char *ptr, const char *msg)
{
    return kw_err_set(err, KW_INVALID, ptr, "%s: %s", ptr[0] ? ptr + 1 : "schedule", msg);
}

static enum kw_code parse_tod(json_t *v, const char *ptr, int32_t *out, struct kw_err *err)
{
    if (!json_is_string(v) ||
        kw_tod_parse(json_string_value(v), json_string_length(v), out, NULL) != KW_OK)
        return bad(err, ptr, "expected a time of day like \"09:00\"");
    return KW_OK;
}

static enum kw_code parse_window(json_t *w, const char *base, struct kw_oncall_window *out,
                                 struct kw_err *err)
{
    char ptr[192];
    json_t *days = json_object_get(w, "days"), *d;
    size_t i;
    if (!json_is_object(w))
        return bad(err, base, "expected {\"days\", \"from\", \"to\"}");
    snprintf(ptr, sizeof(ptr), "%s/days", base);
    if (!json_is_array(days) || json_array_size(days) == 0)
        return bad(err, ptr, "expected a list of days like [\"sat\", \"sun\"]");
    out->days = 0;
    json_array_foreach(days, i, d)
    {
        unsigned k = 0;
        while (k < 7 && !(json_is_string(d) && strcmp(json_string_value(d), day_names[k]) == 0))
            k++;
        if (k == 7) {
            snprintf(ptr, sizeof(ptr), "%s/days/%zu", base, i);
            return bad(err, ptr, "expected mon, tue, wed, thu, fri, sat or sun");
        }
        out->days = (uint8_t)(out->days | (1u << k));
    }
    snprintf(ptr, sizeof(ptr), "%s/from", base);
    if (parse_tod(json_object_get(w, "from"), ptr, &out->from, err) != KW_OK)
        return err->code;
    snprintf(ptr, sizeof(ptr), "%s/to", base);
    return parse_tod(json_object_get(w, "to"), ptr, &out->to, err);
}

static enum kw_code parse_layer(json_t *l, size_t index, struct kw_oncall_layer *out,
                                struct kw_err *err)
{
    char base[32], ptr[96];
    snprintf(base, sizeof(base), "/layers/%zu", index);
    if (!json_is_object(l))
        return bad(err, base, "expected a layer object");
    json_t *v = json_object_get(l, "name"), *people = json_object_get(l, "people"), *p;
    snprintf(out->name, sizeof(out->name), "%s",
             json_is_string(v) && json_string_length(v) < sizeof(out->name) ? json_string_value(v)
                                                                            : "");
    if (!out->name[0])
        snprintf(out->name, sizeof(out->name), "layer %zu", index + 1);
    v = json_object_get(l, "rotation");
    snprintf(ptr, sizeof(ptr), "%s/rotation", base);
    if (json_is_string(v) && strcmp(json_string_value(v), "daily") == 0)
        out->days = 1;
    else if (json_is_string(v) && strcmp(json_string_value(v), "weekly") == 0)
        out->days = 7;
    else
        return bad(err, ptr, "expected daily or weekly");
    v = json_object_get(l, "start");
    snprintf(ptr, sizeof(ptr), "%s/start", base);
    if (!json_is_string(v) ||
        kw_date_parse(json_string_value(v), json_string_length(v), &out->start, NULL) != KW_OK)
        return bad(err, ptr, "expected the first handoff's date like \"2026-01-05\"");
    snprintf(ptr, sizeof(ptr), "%s/handoff", base);
    if (parse_tod(json_object_get(l, "handoff"), ptr, &out->handoff, err) != KW_OK)
        return err->code;
    if (out->handoff >= KW_DAY)
        return bad(err, ptr, "a handoff is a time of day before 24:00");
    snprintf(ptr, sizeof(ptr), "%s/people", base);
    if (!json_is_array(people) || json_array_size(people) == 0 ||
        json_array_size(people) > KW_ONCALL_MAX_PEOPLE)
        return bad(err, ptr, "expected a list of 1 to 64 user ids, in rotation order");
    size_t i;
    json_array_foreach(people, i, p)
    {
        if (!json_is_integer(p) || json_integer_value(p) <= 0) {
            snprintf(ptr, sizeof(ptr), "%s/people/%zu", base, i);
            return bad(err, ptr, "expected a user id");
        }
        out->people[i] = json_integer_value(p);
    }
    out->n_people = json_array_size(people);
    v = json_object_get(l, "restrictions");
    snprintf(ptr, sizeof(ptr), "%s/restrictions", base);
    if (v && (!json_is_array(v) || json_array_size(v) > KW_ONCALL_MAX_WINDOWS))
        return bad(err, ptr, "expected a list of at most 14 windows");
    json_array_foreach(v, i, p)
    {
        snprintf(ptr, sizeof(ptr), "%s/restrictions/%zu", base, i);
        if (parse_window(p, ptr, &out->window[i], err) != KW_OK)
            return err->code;
    }
    out->n_windows = v ? json_array_size(v) : 0;
    return KW_OK;
}

enum kw_code kw_oncall_from_json(json_t *doc, struct kw_oncall *out, struct kw_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(doc))
        return bad(err, "", "expected a JSON object");
    json_t *v = json_object_get(doc, "name"), *layers = json_object_get(doc, "layers"), *e;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) >= sizeof(out->name))
        return bad(err, "/name", "expected a name of 1 to 127 bytes");
    snprintf(out->name, sizeof(out->name), "%s", json_string_value(v));
    v = json_object_get(doc, "tz");
    if (!json_is_string(v) || !kw_cal_tz_name_ok(json_string_value(v), json_string_length(v)))
        return bad(err, "/tz", "expected a time zone like \"Asia/Shanghai\"");
    snprintf(out->tz, sizeof(out->tz), "%s", json_string_value(v));
    if (!json_is_array(layers) || json_array_size(layers) == 0 ||
        json_array_size(layers) > KW_ONCALL_MAX_LAYERS)
        return bad(err, "/layers", "expected a list of 1 to 8 layers");
    size_t i;
    json_array_foreach(layers, i, e)
    {
        if (parse_layer(e, i, &out->layer[i], err) != KW_OK)
            return err->code;
    }
    out->n_layers = json_array_size(layers);
    v = json_object_get(doc, "overrides");
    if (v && (!json_is_array(v) || json_array_size(v) > KW_ONCALL_MAX_OVERRIDES))
        return bad(err, "/overrides", "expected a list of at most 256 overrides");
    json_array_foreach(v, i, e)
    {
        char ptr[64];
        struct kw_oncall_override *o = &out->override[i];
        json_t *user = json_object_get(e, "user"), *from = json_object_get(e, "from"),
               *to = json_object_get(e, "to");
        snprintf(ptr, sizeof(ptr), "/overrides/%zu/user", i);
        if (!json_is_integer(user) || json_integer_value(user) <= 0)
            return bad(err, ptr, "expected a user id");
        o->user = json_integer_value(user);
        snprintf(ptr, sizeof(ptr), "/overrides/%zu/from", i);
        if (!json_is_string(from) ||
            kw_instant_parse(json_string_value(from), json_string_length(from), &o->from, NULL) !=
                KW_OK)
            return bad(err, ptr, "expected an instant like \"2026-03-02T18:00:00+08:00\"");
        snprintf(ptr, sizeof(ptr), "/overrides/%zu/to", i);
        if (!json_is_string(to) ||
            kw_instant_parse(json_string_value(to), json_string_length(to), &o->to, NULL) !=
                KW_OK ||
            o->to <= o->from)
            return bad(err, ptr, "expected an instant after from");
    }
    out->n_overrides = v ? json_array_size(v) : 0;
    return KW_OK;
}

int32_t kw_oncall_offset(const struct kw_tzinfo *tz, int64_t t)
{
    return kw_tz_offset(tz, t);
}

static bool in_days(uint8_t days, int64_t day)
{
    return (days >> kw_weekday(day)) & 1u;
}

static bool admitted(const struct kw_oncall_layer *l, int64_t day, int32_t tod)
{
    if (l->n_windows == 0)
        return true;
    for (size_t i = 0; i < l->n_windows; i++) {
        const struct kw_oncall_window *w = &l->window[i];
        if (w->to > w->from) {
            if (in_days(w->days, day) && tod >= w->from && tod < w->to)
                return true;
        } else if ((in_days(w->days, day) && tod >= w->from) ||
                   (in_days(w->days, day - 1) && tod < w->to)) {
            return true;
        }
    }
    return false;
}

int64_t kw_oncall_who(const struct kw_oncall *s, const struct kw_tzinfo *tz, int64_t t,
                      const char **source)
{
    for (size_t i = s->n_overrides; i-- > 0;) { /* the last listed wins */
        if (s->override[i].from <= t && t < s->override[i].to) {
            if (source)
                *source = "override";
            return s->override[i].user;
        }
    }
    int64_t local = t + kw_oncall_offset(tz, t);
    int64_t day = local >= 0 ? local / KW_DAY : -((-local + KW_DAY - 1) / KW_DAY);
    int32_t tod = (int32_t)(local - day * KW_DAY);
    for (size_t i = s->n_layers; i-- > 0;) { /* later layers sit on top */
        const struct kw_oncall_layer *l = &s->layer[i];
        int64_t shift_day = day - (tod < l->handoff ? 1 : 0);
        if (shift_day < l->start || !admitted(l, day, tod))
            continue;
        int64_t k = (shift_day - l->start) / l->days;
        if (source)
            *source = l->name;
        return l->people[(size_t)(k % (int64_t)l->n_people)];
    }
    if (source)
        *source = NULL;
    return 0;
}

void kw_oncall_shifts(const struct kw_oncall *s, const struct kw_tzinfo *tz, int64_t from,
                      int64_t to, struct kw_oncall_shift *out, size_t cap, size_t *n)
{
    *n = 0;
    for (int64_t t = from; t < to && *n <= cap;) {
        const char *source;
        int64_t who = kw_oncall_who(s, tz, t, &source);
        if (*n > 0 && out[*n - 1].user == who && out[*n - 1].source == source) {
            out[*n - 1].to = t;
        } else if (*n < cap) {
            out[(*n)++] = (struct kw_oncall_shift){t, t, who, source};
        } else {
            break;
        }
        /* the answer can change only at a minute or at an override's edge */
        int64_t next = t - (t % 60 + 60) % 60 + 60;
        for (size_t i = 0; i < s->n_overrides; i++) {
            if (s->override[i].from > t && s->override[i].from < next)
                next = s->override[i].from;
            if (s->override[i].to > t && s->override[i].to < next)
                next = s->override[i].to;
        }
        t = next < to ? next : to;
        out[*n - 1].to = t;
    }
}

bool kw_quiet_at(const struct kw_tzinfo *tz, int32_t from, int32_t to, int64_t t, int64_t *ends)
{
    int64_t local = t + kw_oncall_offset(tz, t);
    int32_t tod = (int32_t)(((local % KW_DAY) + KW_DAY) % KW_DAY);
    bool in = from < to ? tod >= from && tod < to : from != to && (tod >= from || tod < to);
    *ends = t;
    if (in) {
        int64_t wait = ((int64_t)to - tod + KW_DAY) % KW_DAY;
        /* local time is read at the end too: a DST change in between moves it */
        int64_t end = t + wait;
        *ends = end + (kw_oncall_offset(tz, t) - kw_oncall_offset(tz, end));
    }
    return in;
}
