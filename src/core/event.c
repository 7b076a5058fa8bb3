// SPDX-License-Identifier: MIT
#include "event.h"

#include <stdio.h>
#include <string.h>

#include "civil.h"

static const struct {
    const char *type;
    enum kw_event_type clock;
} kinds[KW_EVENT_KIND_COUNT] = {
#define X(name, type, clock) [KW_EVENT_##name] = {type, clock},
    KW_EVENT_MAP(X)
#undef X
};

const char *kw_event_kind_name(enum kw_event_kind k)
{
    return (unsigned)k < KW_EVENT_KIND_COUNT ? kinds[k].type : "?";
}

bool kw_event_kind_parse(const char *type, enum kw_event_kind *out)
{
    for (int k = 0; type && k < KW_EVENT_KIND_COUNT; k++)
        if (strcmp(kinds[k].type, type) == 0) {
            *out = (enum kw_event_kind)k;
            return true;
        }
    return false;
}

/* ---- decoding ---- */

/* A member of the wrong type: KW_INVALID located at it. */
static bool wrong(struct kw_err *err, const char *key, const char *expected)
{
    char ptr[48];
    snprintf(ptr, sizeof(ptr), "/%.40s", key);
    kw_err_set(err, KW_INVALID, ptr, "%s: expected %s", key, expected);
    return false;
}

/* A string member (absent or null: NULL). */
static bool get_str(json_t *o, const char *key, const char **out, struct kw_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return wrong(err, key, "a string");
    *out = json_string_value(v);
    return true;
}

/* An integer member (absent or null: dflt). */
static bool get_int(json_t *o, const char *key, int64_t dflt, int64_t *out, struct kw_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = dflt;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v))
        return wrong(err, key, "a whole number");
    *out = (int64_t)json_integer_value(v);
    return true;
}

static bool get_small(json_t *o, const char *key, int dflt, int *out, struct kw_err *err)
{
    int64_t v;
    if (!get_int(o, key, dflt, &v, err))
        return false;
    if (v < -1000000 || v > 1000000)
        return wrong(err, key, "a number from -1000000 to 1000000");
    *out = (int)v;
    return true;
}

/* An instant member written as ISO 8601 text (absent or null: KW_NO_TIME). */
static bool get_instant(json_t *o, const char *key, int64_t *out, struct kw_err *err)
{
    const char *s;
    *out = KW_NO_TIME;
    if (!get_str(o, key, &s, err))
        return false;
    if (s && kw_instant_parse(s, strlen(s), out, err) != KW_OK) {
        char ptr[48];
        snprintf(ptr, sizeof(ptr), "/%.40s", key);
        kw_err_locate(err, ptr, key);
        return false;
    }
    return true;
}

static bool decode_created(json_t *b, struct kw_event_rec *r, struct kw_err *err)
{
    for (int a = 0; a < KW_ATTR_COUNT; a++)
        if (!get_str(b, kw_attr_name((enum kw_attr)a), &r->attrs.v[a], err))
            return false;
    return get_str(b, "title", &r->title, err) && get_int(b, "org_id", 0, &r->org_id, err) &&
           get_str(b, "description", &r->description, err) &&
           get_int(b, "requester_id", 0, &r->requester_id, err);
}

/* A comment or attachment moved from a merged duplicate (all absent: not). */
static bool decode_moved(json_t *b, struct kw_event_rec *r, struct kw_err *err)
{
    r->written_at = KW_NO_TIME;
    return get_int(b, "moved_from", 0, &r->moved_from, err) &&
           get_int(b, "author", 0, &r->author_id, err) &&
           get_instant(b, "written_at", &r->written_at, err);
}

static bool decode_body(json_t *b, struct kw_event_rec *r, struct kw_err *err)
{
    json_t *v;
    switch (r->kind) {
    case KW_EVENT_CREATED:
        return decode_created(b, r, err);
    case KW_EVENT_COMMENT:
        v = json_object_get(b, "internal");
        r->internal = json_is_true(v);
        return get_str(b, "text", &r->text, err) && decode_moved(b, r, err);
    case KW_EVENT_STATE:
    case KW_EVENT_REOPENED:
        return get_str(b, "state", &r->state, err) && get_str(b, "from", &r->from, err) &&
               get_str(b, "reason", &r->reason, err);
    case KW_EVENT_MILESTONE:
        return get_str(b, "milestone", &r->milestone, err);
    case KW_EVENT_LEVEL:
    case KW_EVENT_CATEGORY: {
        enum kw_attr a = r->kind == KW_EVENT_LEVEL ? KW_ATTR_LEVEL : KW_ATTR_CATEGORY;
        return get_str(b, kw_attr_name(a), &r->attrs.v[a], err) &&
               get_str(b, "from", &r->from, err) && get_str(b, "reason", &r->reason, err);
    }
    case KW_EVENT_ASSIGNED:
        return get_int(b, "assignee_id", 0, &r->assignee_id, err) &&
               get_int(b, "team_id", 0, &r->team_id, err);
    case KW_EVENT_RATING:
        return get_small(b, "satisfaction", 0, &r->satisfaction, err) &&
               get_small(b, "nps", -1, &r->nps, err) && get_str(b, "comment", &r->text, err) &&
               get_str(b, "source", &r->source, err);
    case KW_EVENT_CONFIRM_REMINDER:
    case KW_EVENT_CONFIRM_TIMEOUT:
        return get_instant(b, "due_at", &r->due_at, err) &&
               get_instant(b, "deadline", &r->deadline, err);
    case KW_EVENT_CALLBACK:
        v = json_object_get(b, "reached");
        if (v && !json_is_boolean(v))
            return wrong(err, "reached", "true or false");
        r->reached = json_is_true(v);
        return get_small(b, "attempt", 0, &r->attempt, err) &&
               get_small(b, "satisfaction", 0, &r->satisfaction, err) &&
               get_small(b, "nps", -1, &r->nps, err) && get_str(b, "note", &r->note, err) &&
               get_str(b, "follow_up", &r->follow_up, err);
    case KW_EVENT_TASK_OPENED:
        return get_small(b, "task", 0, &r->task, err) && get_str(b, "kind", &r->action, err) &&
               get_int(b, "assignee_id", 0, &r->user_id, err) &&
               get_int(b, "team_id", 0, &r->team_id, err) && get_str(b, "note", &r->note, err);
    case KW_EVENT_TASK_DONE:
        return get_small(b, "task", 0, &r->task, err) && get_str(b, "note", &r->note, err);
    case KW_EVENT_TIME_SPENT:
        return get_int(b, "seconds", -1, &r->seconds, err) &&
               get_int(b, "team_id", 0, &r->team_id, err) && get_str(b, "note", &r->note, err) &&
               get_int(b, "comment", 0, &r->comment_seq, err) &&
               get_int(b, "corrects", 0, &r->corrects, err);
    case KW_EVENT_SLA_WARNING:
    case KW_EVENT_SLA_BREACH:
        if (!get_str(b, "metric", &r->metric, err) || !get_str(b, "colour", &r->colour, err) ||
            !get_small(b, "percent", r->kind == KW_EVENT_SLA_BREACH ? 100 : 0, &r->percent, err) ||
            !get_int(b, "target", 0, &r->target, err))
            return false;
        return get_instant(b, "reached_at", &r->reached_at, err) &&
               get_instant(b, "deadline", &r->deadline, err) &&
               get_instant(b, "breached_at", &r->breached_at, err) &&
               get_instant(b, "due_at", &r->due_at, err);
    case KW_EVENT_ESCALATED:
        return get_str(b, "chain", &r->chain, err) && get_small(b, "step", 0, &r->step, err) &&
               get_str(b, "action", &r->action, err) && get_str(b, "target", &r->who, err) &&
               get_int(b, "user_id", 0, &r->user_id, err) &&
               get_instant(b, "due_at", &r->due_at, err) &&
               get_str(b, "level", &r->attrs.v[KW_ATTR_LEVEL], err);
    case KW_EVENT_OVERRUN_EXPLAINED:
        v = json_object_get(b, "notice");
        if (v && !json_is_object(v) && !json_is_null(v))
            return kw_err_set(err, KW_INVALID, "/notice", "notice: expected an object"), false;
        return get_int(b, "overrun", 0, &r->overrun, err) &&
               get_str(b, "metric", &r->metric, err) && get_str(b, "reason", &r->reason, err) &&
               get_str(b, "note", &r->note, err) && get_str(v, "zh", &r->notice_zh, err) &&
               get_str(v, "en", &r->notice_en, err);
    case KW_EVENT_REGION:
        return get_str(b, "region", &r->attrs.v[KW_ATTR_REGION], err) &&
               get_str(b, "from", &r->from, err) && get_str(b, "reason", &r->reason, err);
    case KW_EVENT_EDITED:
        return get_str(b, "field", &r->name, err) && get_str(b, "from", &r->from, err) &&
               get_str(b, "to", &r->text, err) && get_str(b, "reason", &r->reason, err);
    case KW_EVENT_REQUESTER:
        return get_int(b, "requester_id", 0, &r->requester_id, err) &&
               get_int(b, "from", 0, &r->user_id, err) && get_str(b, "reason", &r->reason, err);
    case KW_EVENT_ATTACHMENT:
        r->internal = json_is_true(json_object_get(b, "internal"));
        return get_int(b, "attachment", 0, &r->attachment, err) &&
               get_str(b, "name", &r->name, err) &&
               get_str(b, "content_type", &r->content_type, err) &&
               get_int(b, "size", 0, &r->size, err) && get_str(b, "sha256", &r->sha256, err) &&
               get_int(b, "comment", 0, &r->comment_seq, err) && decode_moved(b, r, err);
    case KW_EVENT_LINKED:
    case KW_EVENT_UNLINKED:
        r->cross_org = json_is_true(json_object_get(b, "cross_org"));
        return get_int(b, "ticket", 0, &r->other, err) && get_str(b, "link", &r->link, err) &&
               get_str(b, "reason", &r->reason, err);
    case KW_EVENT_MERGED:
        r->link = json_object_get(b, "into") ? "into" : "from";
        return get_int(b, r->link, 0, &r->other, err) &&
               get_small(b, "comments", 0, &r->task, err) &&
               get_small(b, "files", 0, &r->attempt, err) && get_str(b, "reason", &r->reason, err);
    default:
        return kw_err_set(err, KW_INVALID, "/type", "unknown event kind"), false;
    }
}

enum kw_code kw_event_decode(const char *type, const char *body, struct kw_event_rec *out,
                             json_t **hold, struct kw_err *err)
{
    memset(out, 0, sizeof(*out));
    out->nps = -1;
    out->reached_at = out->deadline = out->breached_at = out->due_at = KW_NO_TIME;
    *hold = NULL;
    if (!kw_event_kind_parse(type, &out->kind))
        return kw_err_set(err, KW_INVALID, "/type", "type: \"%.40s\" is not an event type",
                          type ? type : "");
    json_t *b = json_loads(body ? body : "{}", 0, NULL);
    if (!json_is_object(b)) {
        json_decref(b);
        return kw_err_set(err, KW_INVALID, "", "a %s event's body must be a JSON object", type);
    }
    struct kw_err local = {0};
    if (!decode_body(b, out, err ? err : &local)) {
        json_decref(b);
        return err ? err->code : local.code;
    }
    *hold = b;
    return KW_OK;
}

/* ---- encoding ---- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *id_or_null(int64_t id)
{
    return id > 0 ? json_integer(id) : json_null();
}

static json_t *instant_json(int64_t t)
{
    char buf[KW_INSTANT_BUF];
    if (t == KW_NO_TIME)
        return json_null();
    kw_instant_format_utc(t, buf);
    return json_string(buf);
}

/* Set key to s when s is given. */
static void set_opt(json_t *o, const char *key, const char *s)
{
    if (s)
        json_object_set_new(o, key, json_string(s));
}

/* b with where a merge moved it from, when it was moved (older events
 * and those written on the ticket itself have none of these members). */
static json_t *moved(json_t *b, const struct kw_event_rec *r)
{
    if (b && r->moved_from) {
        json_object_set_new(b, "moved_from", json_integer(r->moved_from));
        json_object_set_new(b, "author", json_integer(r->author_id));
        json_object_set_new(b, "written_at", instant_json(r->written_at));
    }
    return b;
}

static json_t *encode_created(const struct kw_event_rec *r)
{
    json_t *b = json_object();
    json_object_set_new(b, "title", json_string(r->title));
    for (int a = 0; a < KW_ATTR_COUNT; a++)
        set_opt(b, kw_attr_name((enum kw_attr)a), r->attrs.v[a]);
    json_object_set_new(b, "org_id", json_integer(r->org_id));
    set_opt(b, "description", r->description);
    if (r->requester_id)
        json_object_set_new(b, "requester_id", json_integer(r->requester_id));
    return b;
}

static json_t *encode_sla(const struct kw_event_rec *r)
{
    json_t *b = json_pack("{s:s, s:o, s:I}", "metric", r->metric, "deadline",
                          instant_json(r->deadline), "target", (json_int_t)r->target);
    /* when it fell due; the event's own `at` is when it was fired, later
     * when the server was down at due_at */
    json_object_set_new(
        b, "due_at", instant_json(r->kind == KW_EVENT_SLA_BREACH ? r->breached_at : r->reached_at));
    if (r->kind == KW_EVENT_SLA_BREACH) {
        json_object_set_new(b, "breached_at", instant_json(r->breached_at));
        return b;
    }
    json_object_set_new(b, "percent", json_integer(r->percent));
    json_object_set_new(b, "colour", str_or_null(r->colour));
    json_object_set_new(b, "reached_at", instant_json(r->reached_at));
    return b;
}

static json_t *encode_escalated(const struct kw_event_rec *r)
{
    json_t *b = json_pack("{s:s, s:i, s:s, s:o, s:o, s:o}", "chain", r->chain, "step", r->step,
                          "action", r->action, "target", str_or_null(r->who), "user_id",
                          id_or_null(r->user_id), "due_at", instant_json(r->due_at));
    set_opt(b, "level", r->attrs.v[KW_ATTR_LEVEL]);
    return b;
}

/* The members a kind cannot go without: its name, or NULL when all are there. */
static const char *missing(const struct kw_event_rec *r)
{
    switch (r->kind) {
    case KW_EVENT_CREATED:
        return !r->title ? "title" : !r->attrs.v[KW_ATTR_LEVEL] ? "level" : NULL;
    case KW_EVENT_COMMENT:
        return r->text ? NULL : "text";
    case KW_EVENT_STATE:
    case KW_EVENT_REOPENED:
        return r->state ? NULL : "state";
    case KW_EVENT_MILESTONE:
        return r->milestone ? NULL : "milestone";
    case KW_EVENT_LEVEL:
        return r->attrs.v[KW_ATTR_LEVEL] ? NULL : "level";
    case KW_EVENT_CATEGORY:
        return r->attrs.v[KW_ATTR_CATEGORY] ? NULL : "category";
    case KW_EVENT_SLA_WARNING:
    case KW_EVENT_SLA_BREACH:
    case KW_EVENT_OVERRUN_EXPLAINED:
        return r->metric ? NULL : "metric";
    case KW_EVENT_ESCALATED:
        return !r->chain ? "chain" : !r->action ? "action" : NULL;
    case KW_EVENT_CONFIRM_REMINDER:
    case KW_EVENT_CONFIRM_TIMEOUT:
        return r->due_at == KW_NO_TIME ? "due_at" : r->deadline == KW_NO_TIME ? "deadline" : NULL;
    case KW_EVENT_CALLBACK:
        return r->attempt < 1 ? "attempt" : NULL;
    case KW_EVENT_TASK_OPENED:
        return r->task < 1 ? "task" : !r->action ? "kind" : NULL;
    case KW_EVENT_TASK_DONE:
        return r->task < 1 ? "task" : NULL;
    case KW_EVENT_TIME_SPENT:
        return r->seconds < 0 ? "seconds" : NULL;
    case KW_EVENT_REGION:
        return r->attrs.v[KW_ATTR_REGION] ? NULL : "region";
    case KW_EVENT_EDITED:
        return !r->name ? "field" : !r->text ? "to" : NULL;
    case KW_EVENT_ATTACHMENT:
        return !r->name ? "name" : !r->content_type ? "content_type" : !r->sha256 ? "sha256" : NULL;
    case KW_EVENT_LINKED:
    case KW_EVENT_UNLINKED:
        return r->other < 1 ? "ticket" : !r->link ? "link" : NULL;
    case KW_EVENT_MERGED:
        return r->other < 1                                                       ? "into or from"
               : !r->link || (strcmp(r->link, "into") && strcmp(r->link, "from")) ? "link"
                                                                                  : NULL;
    default:
        return NULL;
    }
}

static json_t *encode_body(const struct kw_event_rec *r)
{
    json_t *b;
    switch (r->kind) {
    case KW_EVENT_CREATED:
        return encode_created(r);
    case KW_EVENT_COMMENT:
        return moved(json_pack("{s:s, s:b}", "text", r->text, "internal", r->internal), r);
    case KW_EVENT_STATE:
    case KW_EVENT_REOPENED:
        b = json_pack("{s:s}", "state", r->state);
        set_opt(b, "from", r->from);
        set_opt(b, "reason", r->reason);
        return b;
    case KW_EVENT_MILESTONE:
        return json_pack("{s:s}", "milestone", r->milestone);
    case KW_EVENT_LEVEL:
    case KW_EVENT_CATEGORY: {
        const char *key = r->kind == KW_EVENT_LEVEL ? "level" : "category";
        b = json_pack("{s:s, s:o}", key,
                      r->attrs.v[r->kind == KW_EVENT_LEVEL ? KW_ATTR_LEVEL : KW_ATTR_CATEGORY],
                      "from", str_or_null(r->from));
        set_opt(b, "reason", r->reason);
        return b;
    }
    case KW_EVENT_ASSIGNED:
        return json_pack("{s:o, s:o}", "assignee_id", id_or_null(r->assignee_id), "team_id",
                         id_or_null(r->team_id));
    case KW_EVENT_RATING:
        b = json_pack("{s:i, s:o, s:o}", "satisfaction", r->satisfaction, "nps",
                      r->nps < 0 ? json_null() : json_integer(r->nps), "comment",
                      str_or_null(r->text));
        set_opt(b, "source", r->source);
        return b;
    case KW_EVENT_CONFIRM_REMINDER:
    case KW_EVENT_CONFIRM_TIMEOUT:
        return json_pack("{s:o, s:o}", "due_at", instant_json(r->due_at), "deadline",
                         instant_json(r->deadline));
    case KW_EVENT_CALLBACK:
        return json_pack("{s:i, s:b, s:o, s:o, s:o, s:o}", "attempt", r->attempt, "reached",
                         r->reached, "satisfaction",
                         r->satisfaction > 0 ? json_integer(r->satisfaction) : json_null(), "nps",
                         r->nps < 0 ? json_null() : json_integer(r->nps), "note",
                         str_or_null(r->note), "follow_up", str_or_null(r->follow_up));
    case KW_EVENT_TASK_OPENED:
        return json_pack("{s:i, s:s, s:o, s:o, s:o}", "task", r->task, "kind", r->action,
                         "assignee_id", id_or_null(r->user_id), "team_id", id_or_null(r->team_id),
                         "note", str_or_null(r->note));
    case KW_EVENT_TASK_DONE:
        return json_pack("{s:i, s:o}", "task", r->task, "note", str_or_null(r->note));
    case KW_EVENT_TIME_SPENT:
        return json_pack("{s:I, s:o, s:o, s:o, s:o}", "seconds", (json_int_t)r->seconds, "team_id",
                         id_or_null(r->team_id), "note", str_or_null(r->note), "comment",
                         id_or_null(r->comment_seq), "corrects", id_or_null(r->corrects));
    case KW_EVENT_SLA_WARNING:
    case KW_EVENT_SLA_BREACH:
        return encode_sla(r);
    case KW_EVENT_ESCALATED:
        return encode_escalated(r);
    case KW_EVENT_ATTACHMENT:
        return moved(json_pack("{s:I, s:s, s:s, s:I, s:s, s:b, s:o}", "attachment",
                               (json_int_t)r->attachment, "name", r->name, "content_type",
                               r->content_type, "size", (json_int_t)r->size, "sha256", r->sha256,
                               "internal", r->internal, "comment", id_or_null(r->comment_seq)),
                     r);
    case KW_EVENT_LINKED:
    case KW_EVENT_UNLINKED:
        b = json_pack("{s:I, s:s}", "ticket", (json_int_t)r->other, "link", r->link);
        if (b && r->cross_org)
            json_object_set_new(b, "cross_org", json_true());
        set_opt(b, "reason", r->reason);
        return b;
    case KW_EVENT_MERGED:
        b = json_pack("{s:I}", strcmp(r->link, "into") == 0 ? "into" : "from",
                      (json_int_t)r->other);
        if (b && strcmp(r->link, "from") == 0) {
            json_object_set_new(b, "comments", json_integer(r->task));
            json_object_set_new(b, "files", json_integer(r->attempt));
        }
        set_opt(b, "reason", r->reason);
        return b;
    case KW_EVENT_REGION:
        b = json_pack("{s:s, s:o}", "region", r->attrs.v[KW_ATTR_REGION], "from",
                      str_or_null(r->from));
        set_opt(b, "reason", r->reason);
        return b;
    case KW_EVENT_EDITED:
        b = json_pack("{s:s, s:o, s:s}", "field", r->name, "from", str_or_null(r->from), "to",
                      r->text);
        set_opt(b, "reason", r->reason);
        return b;
    case KW_EVENT_REQUESTER:
        b = json_pack("{s:o, s:o}", "requester_id", id_or_null(r->requester_id), "from",
                      id_or_null(r->user_id));
        set_opt(b, "reason", r->reason);
        return b;
    case KW_EVENT_OVERRUN_EXPLAINED:
        return json_pack("{s:I, s:s, s:o, s:o, s:{s:o, s:o}}", "overrun", (json_int_t)r->overrun,
                         "metric", r->metric, "reason", str_or_null(r->reason), "note",
                         str_or_null(r->note), "notice", "zh", str_or_null(r->notice_zh), "en",
                         str_or_null(r->notice_en));
    default:
        return NULL;
    }
}

json_t *kw_event_encode(const struct kw_event_rec *r, struct kw_err *err)
{
    if ((unsigned)r->kind >= KW_EVENT_KIND_COUNT) {
        kw_err_set(err, KW_INVALID, "/type", "unknown event kind");
        return NULL;
    }
    const char *m = missing(r);
    if (m) {
        kw_err_set(err, KW_INVALID, "", "a %s event needs %s", kinds[r->kind].type, m);
        return NULL;
    }
    json_t *b = encode_body(r);
    if (!b)
        kw_err_set(err, KW_NOMEM, "", "no memory for the event");
    return b;
}

bool kw_event_clock(const struct kw_event_rec *r, int64_t at, struct kw_event *out)
{
    if ((unsigned)r->kind >= KW_EVENT_KIND_COUNT || kinds[r->kind].clock == KW_EV_COUNT)
        return false;
    memset(out, 0, sizeof(*out));
    out->at = at;
    out->type = kinds[r->kind].clock;
    switch (r->kind) {
    case KW_EVENT_CREATED:
        out->attrs = r->attrs;
        break;
    case KW_EVENT_LEVEL:
        out->attrs.v[KW_ATTR_LEVEL] = r->attrs.v[KW_ATTR_LEVEL];
        break;
    case KW_EVENT_CATEGORY:
        out->attrs.v[KW_ATTR_CATEGORY] = r->attrs.v[KW_ATTR_CATEGORY];
        break;
    case KW_EVENT_REGION:
        out->attrs.v[KW_ATTR_REGION] = r->attrs.v[KW_ATTR_REGION];
        break;
    case KW_EVENT_MILESTONE:
        out->name = r->milestone;
        break;
    default: /* state, reopened */
        out->name = r->state;
        break;
    }
    return true;
}
