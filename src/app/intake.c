// SPDX-License-Identifier: MIT
/* Monitoring alerts into tickets (intake.h). Formats: Alertmanager's
 * webhook (version "4"), Grafana's unified alerting webhook (the same
 * alerts with fingerprints), and PagerDuty Events v2's shape for the
 * generic API (routing_key, event_action, dedup_key, payload). */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw_buf.h"
#include "kw_crypto.h"
#include "kw_text.h"
#include "tickets.h"

#define TITLE_MAX 500     /* bytes of a ticket's title (the API's limit) */
#define DETAILS_MAX 16384 /* bytes of the description made of an alert */

void kw_alerts_release(struct kw_alerts *as)
{
    free(as->a);
    json_decref(as->keep);
    *as = (struct kw_alerts){0};
}

/* A copy of s cut to max bytes at a character boundary, kept in keep. */
static const char *keep_cut(json_t *keep, const char *s, size_t max)
{
    size_t n = kw_utf8_cut(s, strlen(s), max);
    json_t *j = json_stringn(s, n);
    if (!j) /* not UTF-8: refused before (jansson checked the body) */
        return NULL;
    json_array_append_new(keep, j);
    return json_string_value(j);
}

/* keep_cut of s as a title: one line (kw_text_one_line), at most
 * TITLE_MAX bytes. */
static const char *keep_title(json_t *keep, const char *s)
{
    size_t n = kw_utf8_cut(s, strlen(s), TITLE_MAX);
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    memcpy(t, s, n);
    t[n] = '\0';
    const char *out = keep_cut(keep, kw_text_one_line(t), TITLE_MAX);
    free(t);
    return out;
}

static const char *str_of(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

/* An object of labels as "k=v, k=v" (sorted by key for a stable text). */
static void labels_text(struct kw_buf *b, json_t *labels)
{
    const char **keys = NULL;
    size_t n = json_object_size(labels), i = 0;
    if (n == 0 || !(keys = calloc(n, sizeof(*keys))))
        return;
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v) keys[i++] = k;
    for (size_t a = 1; a < n; a++) /* insertion sort: a few labels */
        for (size_t c = a; c > 0 && strcmp(keys[c - 1], keys[c]) > 0; c--) {
            const char *t = keys[c];
            keys[c] = keys[c - 1];
            keys[c - 1] = t;
        }
    for (i = 0; i < n; i++) {
        const char *s = json_string_value(json_object_get(labels, keys[i]));
        kw_buf_printf(b, "%s%s=%s", i ? ", " : "", keys[i], s ? s : "");
    }
    free(keys);
}

/* Labels: only string members are kept (Alertmanager's are all strings;
 * the events API's custom_details may hold numbers, kept as text). */
static json_t *labels_of(json_t *o)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        char num[32];
        if (json_is_string(v))
            json_object_set(out, k, v);
        else if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
            json_object_set_new(out, k, json_string(num));
        } else if (json_is_boolean(v))
            json_object_set_new(out, k, json_string(json_is_true(v) ? "true" : "false"));
    }
    return out;
}

static bool labels_ok(json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) if (!json_is_string(v)) return false;
    return true;
}

/* One alert of an Alertmanager or Grafana payload (alerts[i]). */
static enum kw_code one_am(json_t *keep, json_t *al, size_t i, bool grafana,
                           struct kw_alert_in *out, struct kw_err *err)
{
    if (!json_is_object(al))
        return kw_err_set(err, KW_INVALID, "", "alerts[%zu]: expected an object", i);
    const char *status = str_of(al, "status");
    json_t *labels = json_object_get(al, "labels"), *ann = json_object_get(al, "annotations");
    if (!status || (strcmp(status, "firing") != 0 && strcmp(status, "resolved") != 0))
        return kw_err_set(err, KW_INVALID, "", "alerts[%zu].status: expected firing or resolved",
                          i);
    if (!json_is_object(labels) || !labels_ok(labels))
        return kw_err_set(err, KW_INVALID, "", "alerts[%zu].labels: expected an object of strings",
                          i);
    if (ann && !json_is_null(ann) && (!json_is_object(ann) || !labels_ok(ann)))
        return kw_err_set(err, KW_INVALID, "",
                          "alerts[%zu].annotations: expected an object of strings", i);
    out->action = strcmp(status, "firing") == 0 ? KW_ALERT_TRIGGER : KW_ALERT_RESOLVE;
    const char *fp = str_of(al, "fingerprint");
    struct kw_buf b = {.max = 4 * DETAILS_MAX};
    if (!fp) { /* Alertmanager before 0.19 sent none: the labels are the alert's identity */
        labels_text(&b, labels);
        unsigned char h[KW_HASH_BYTES];
        kw_token_digest(b.len ? b.p : "", h);
        char hex[17];
        for (int k = 0; k < 8; k++)
            snprintf(hex + 2 * k, 3, "%02x", h[k]);
        fp = keep_cut(keep, hex, 16);
        b.len = 0;
    }
    if (strlen(fp) > KW_INTAKE_KEY_MAX) {
        kw_buf_release(&b);
        return kw_err_set(err, KW_INVALID, "", "alerts[%zu].fingerprint: more than %d bytes", i,
                          KW_INTAKE_KEY_MAX);
    }
    out->key = fp;
    const char *name = str_of(labels, "alertname");
    const char *sum = ann ? str_of(ann, "summary") : NULL;
    if (!sum && ann)
        sum = str_of(ann, "description");
    if (!sum && ann)
        sum = str_of(ann, "message");
    if (name && sum)
        kw_buf_printf(&b, "%s: %s", name, sum);
    else
        kw_buf_printf(&b, "%s", name ? name : sum ? sum : "alert");
    /* a title is one line: a description's line breaks become spaces */
    out->summary = keep_title(keep, b.len ? b.p : "alert");
    b.len = 0;
    kw_buf_printf(&b, "%s alert %s\nlabels: ", grafana ? "Grafana" : "Alertmanager", status);
    labels_text(&b, labels);
    const char *k;
    json_t *v;
    json_object_foreach(ann, k, v) kw_buf_printf(&b, "\n%s: %s", k, json_string_value(v));
    static const char *const extra[] = {"startsAt", "endsAt",     "generatorURL", "dashboardURL",
                                        "panelURL", "silenceURL", "valueString"};
    for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
        const char *s = str_of(al, extra[e]);
        if (s && strcmp(s, "0001-01-01T00:00:00Z") != 0) /* Alertmanager's "not ended" */
            kw_buf_printf(&b, "\n%s: %s", extra[e], s);
    }
    out->details = b.len ? keep_cut(keep, b.p, DETAILS_MAX) : NULL;
    kw_buf_release(&b);
    out->labels = labels;
    return out->summary ? KW_OK : kw_err_set(err, KW_NOMEM, "", "out of memory");
}

static enum kw_code parse_am(json_t *body, bool grafana, struct kw_alerts *out, struct kw_err *err)
{
    json_t *alerts = json_object_get(body, "alerts");
    if (!json_is_array(alerts))
        return kw_err_set(err, KW_INVALID, "/alerts",
                          grafana ? "alerts: missing (expected Grafana's unified alerting "
                                    "webhook, with an array of alerts)"
                                  : "alerts: missing (expected Alertmanager's webhook payload, "
                                    "version 4)");
    const char *version = str_of(body, "version");
    if (!grafana && version && strcmp(version, "4") != 0)
        return kw_err_set(err, KW_INVALID, "/version",
                          "version: \"%s\" is not a webhook version this server reads "
                          "(expected \"4\")",
                          version);
    size_t n = json_array_size(alerts);
    if (n > KW_INTAKE_MAX_ALERTS)
        return kw_err_set(err, KW_TOO_BIG, "/alerts", "alerts: %zu of them (at most %d)", n,
                          KW_INTAKE_MAX_ALERTS);
    if (n && !(out->a = calloc(n, sizeof(*out->a))))
        return kw_err_set(err, KW_NOMEM, "", "out of memory");
    for (size_t i = 0; i < n; i++) {
        enum kw_code rc = one_am(out->keep, json_array_get(alerts, i), i, grafana, &out->a[i], err);
        if (rc != KW_OK) {
            if (rc == KW_INVALID)
                snprintf(err->field, sizeof(err->field), "/alerts/%zu", i);
            return rc;
        }
        out->n++;
    }
    return KW_OK;
}

/* PagerDuty Events v2's shape (its limits: dedup_key 255 bytes, summary
 * 1,024). routing_key was checked by the caller (it is the source's key). */
static enum kw_code parse_events(json_t *body, struct kw_alerts *out, struct kw_err *err)
{
    const char *action = str_of(body, "event_action");
    struct kw_alert_in a = {0};
    if (!action)
        return kw_err_set(err, KW_INVALID, "/event_action",
                          "event_action: missing (expected trigger, acknowledge or resolve)");
    if (strcmp(action, "trigger") == 0)
        a.action = KW_ALERT_TRIGGER;
    else if (strcmp(action, "acknowledge") == 0)
        a.action = KW_ALERT_ACK;
    else if (strcmp(action, "resolve") == 0)
        a.action = KW_ALERT_RESOLVE;
    else
        return kw_err_set(err, KW_INVALID, "/event_action",
                          "event_action: \"%.40s\" (expected trigger, acknowledge or resolve)",
                          action);
    json_t *dk = json_object_get(body, "dedup_key");
    if (dk && !json_is_null(dk) &&
        (!json_is_string(dk) || !*json_string_value(dk) ||
         strlen(json_string_value(dk)) > KW_INTAKE_KEY_MAX))
        return kw_err_set(err, KW_INVALID, "/dedup_key", "dedup_key: expected 1 to %d bytes",
                          KW_INTAKE_KEY_MAX);
    a.key = json_string_value(dk);
    json_t *p = json_object_get(body, "payload");
    if (a.action != KW_ALERT_TRIGGER) {
        if (!a.key)
            return kw_err_set(err, KW_INVALID, "/dedup_key",
                              "dedup_key: missing (an acknowledge or resolve names the alert "
                              "its trigger opened)");
        a.summary = a.key;
        a.labels = json_object();
        json_array_append_new(out->keep, a.labels);
    } else {
        if (!json_is_object(p))
            return kw_err_set(err, KW_INVALID, "/payload",
                              "payload: missing (expected summary, source and severity)");
        const char *sum = str_of(p, "summary"), *src = str_of(p, "source"),
                   *sev = str_of(p, "severity");
        if (!sum || strlen(sum) > 1024)
            return kw_err_set(err, KW_INVALID, "/payload/summary",
                              "payload.summary: expected 1 to 1024 bytes");
        if (!src || strlen(src) > 255)
            return kw_err_set(err, KW_INVALID, "/payload/source",
                              "payload.source: expected 1 to 255 bytes (the affected system)");
        static const char *const sevs[] = {"critical", "error", "warning", "info"};
        bool known = false;
        for (size_t i = 0; sev && i < 4; i++)
            known = known || strcmp(sev, sevs[i]) == 0;
        if (!known)
            return kw_err_set(err, KW_INVALID, "/payload/severity",
                              "payload.severity: expected critical, error, warning or info");
        json_t *cd = json_object_get(p, "custom_details");
        a.labels = json_is_object(cd) ? labels_of(cd) : json_object();
        static const char *const fields[] = {"severity", "source", "component", "group", "class"};
        for (size_t i = 0; i < 5; i++) {
            const char *s = str_of(p, fields[i]);
            if (s)
                json_object_set_new(a.labels, fields[i], json_string(s));
        }
        json_array_append_new(out->keep, a.labels);
        a.summary = keep_title(out->keep, sum);
        struct kw_buf b = {.max = 4 * DETAILS_MAX};
        kw_buf_printf(&b, "%s\nseverity: %s\nsource: %s", sum, sev, src);
        const char *ts = str_of(p, "timestamp");
        if (ts)
            kw_buf_printf(&b, "\ntimestamp: %s", ts);
        if (json_object_size(a.labels)) {
            kw_buf_printf(&b, "\nlabels: ");
            labels_text(&b, a.labels);
        }
        a.details = b.len ? keep_cut(out->keep, b.p, DETAILS_MAX) : NULL;
        kw_buf_release(&b);
        if (!a.key) { /* a trigger without a key always opens a new alert */
            char t[KW_TOKEN_BUF];
            if (kw_token_mint(t, err) != KW_OK)
                return err->code;
            a.key = keep_cut(out->keep, t, KW_INTAKE_KEY_MAX);
            a.key_made = true;
        }
    }
    if (!(out->a = calloc(1, sizeof(*out->a))))
        return kw_err_set(err, KW_NOMEM, "", "out of memory");
    out->a[0] = a;
    out->n = 1;
    return KW_OK;
}

enum kw_code kw_intake_parse(const char *kind, json_t *body, struct kw_alerts *out,
                             struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *out = (struct kw_alerts){.keep = json_array()};
    if (!out->keep)
        return kw_err_set(err, KW_NOMEM, "", "out of memory");
    enum kw_code rc;
    if (!json_is_object(body))
        rc = kw_err_set(err, KW_INVALID, "", "expected a JSON object");
    else if (strcmp(kind, "events") == 0)
        rc = parse_events(body, out, err);
    else
        rc = parse_am(body, strcmp(kind, "grafana") == 0, out, err);
    if (rc != KW_OK)
        kw_alerts_release(out);
    return rc;
}

enum kw_code kw_intake_rules_check(json_t *rules, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!json_is_array(rules) || json_array_size(rules) > KW_INTAKE_MAX_RULES)
        return kw_err_set(err, KW_INVALID, "/rules", "rules: expected an array of at most %d rules",
                          KW_INTAKE_MAX_RULES);
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *m = json_object_get(r, "match");
        size_t nm = json_object_size(m);
        if (!json_is_object(r) || !json_is_object(m) || nm < 1 || nm > 16 || !labels_ok(m))
            return kw_err_set(err, KW_INVALID, "",
                              "rules[%zu].match: expected an object of 1 to 16 label values "
                              "(strings)",
                              i);
        /* a label written without "=value" would match only an empty label,
         * which Alertmanager and Grafana never send (an empty label is no
         * label): refuse it rather than keep a rule that never fires */
        const char *mk;
        json_t *mv;
        json_object_foreach(m, mk, mv)
        {
            if (!*mk || !*json_string_value(mv)) {
                kw_err_set(err, KW_INVALID, "",
                           "rules[%zu].match: %s%.40s%s has no %s (expected "
                           "label=value, e.g. severity=critical)",
                           i, *mk ? "label \"" : "a label", mk, *mk ? "\"" : "",
                           *mk ? "value" : "name");
                snprintf(err->field, sizeof(err->field), "/rules/%zu/match", i);
                return KW_INVALID;
            }
        }
        bool sets = false;
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v)
        {
            bool str = strcmp(k, "level") == 0 || strcmp(k, "category") == 0;
            bool id = strcmp(k, "org_id") == 0 || strcmp(k, "team_id") == 0;
            if (strcmp(k, "match") == 0)
                continue;
            if (!str && !id)
                return kw_err_set(err, KW_INVALID, "",
                                  "rules[%zu].%.40s: not a rule member (expected match, level, "
                                  "category, org_id, team_id)",
                                  i, k);
            if (str &&
                (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 47))
                return kw_err_set(err, KW_INVALID, "", "rules[%zu].%s: expected 1 to 47 bytes", i,
                                  k);
            if (id && (!json_is_integer(v) || json_integer_value(v) < 1))
                return kw_err_set(err, KW_INVALID, "", "rules[%zu].%s: expected an id", i, k);
            sets = true;
        }
        if (!sets)
            return kw_err_set(err, KW_INVALID, "",
                              "rules[%zu]: sets nothing (expected level, category, org_id or "
                              "team_id)",
                              i);
    }
    return KW_OK;
}

static bool rule_matches(json_t *rule, json_t *labels)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(rule, "match"), k, v)
    {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!have || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    return true;
}

/* The first matching rule's value of member k, or NULL. */
static json_t *rule_value(json_t *rules, json_t *labels, const char *k)
{
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *v = json_object_get(r, k);
        if (v && rule_matches(r, labels))
            return v;
    }
    return NULL;
}

static enum kw_code open_ticket(struct kw_unit *u, const struct kw_actor *who,
                                const struct kw_intake *s, const struct kw_alert_in *a, int64_t *id,
                                struct kw_err *err)
{
    json_t *org = rule_value(s->rules, a->labels, "org_id");
    json_t *team = rule_value(s->rules, a->labels, "team_id");
    json_t *level = rule_value(s->rules, a->labels, "level");
    json_t *cat = rule_value(s->rules, a->labels, "category");
    struct kw_ticket_in in = {
        .org_id = org ? (int64_t)json_integer_value(org) : s->org_id,
        .title = a->summary,
        .level = level ? json_string_value(level) : s->level,
        .category = cat ? json_string_value(cat) : s->category,
        .channel = "monitoring",
        .via = "monitoring",
        .description = a->details,
    };
    bool existed;
    enum kw_code rc = kw_ticket_create(u, who, &in, id, &existed, err);
    int64_t team_id = team ? (int64_t)json_integer_value(team) : s->team_id;
    if (rc == KW_OK && team_id > 0) {
        int64_t fire_at = u->fire_at;
        struct kw_ticket_change c = {.team_id = team_id, .reason = "monitoring"};
        rc = kw_ticket_change(u, who, *id, &c, err);
        if (u->fire_at == KW_STORE_NO_TIME)
            u->fire_at = fire_at;
    }
    return rc;
}

enum kw_code kw_intake_apply(struct kw_unit *u, const struct kw_actor *who,
                             const struct kw_intake *s, const struct kw_alert_in *a,
                             struct kw_alert_out *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *out = (struct kw_alert_out){.outcome = "ignored", .fire_at = KW_STORE_NO_TIME};
    u->fire_at = KW_STORE_NO_TIME;
    struct kw_alert_row row = {0};
    enum kw_code rc = kw_store_alert_get(u->st, s->id, a->key, &row, err);
    if (rc != KW_OK && rc != KW_NOT_FOUND)
        return rc;
    bool open = rc == KW_OK && row.open;
    if (open) { /* a ticket archived by hand ends the alert there too */
        struct kw_ticket_row t;
        if ((rc = kw_store_ticket_get(u->st, row.ticket_id, &t, err)) != KW_OK)
            return rc;
        open = strcmp(t.state, "archived") != 0;
    }
    char note[TITLE_MAX + 200];
    rc = KW_OK;
    switch (a->action) {
    case KW_ALERT_TRIGGER:
        if (open) {
            /* every repeat is counted; a note only at the 1st, 2nd, 4th,
             * 8th… (docs/channels.md), so a storm of repeats costs the
             * ticket a few notes and the writer a counter, not an event each */
            row.repeats++;
            if ((row.repeats & (row.repeats - 1)) == 0) {
                snprintf(note, sizeof(note), "%s: the alert fired again (repeat %lld): %s", s->name,
                         (long long)row.repeats, a->summary);
                rc = kw_ticket_comment(u, who, row.ticket_id, note, true, err);
            }
            out->outcome = "updated";
        } else {
            row = (struct kw_alert_row){.open = true};
            rc = open_ticket(u, who, s, a, &row.ticket_id, err);
            out->outcome = "created";
        }
        break;
    case KW_ALERT_ACK:
        if (!open)
            return KW_OK;
        snprintf(note, sizeof(note), "%s: the alert was acknowledged there", s->name);
        rc = kw_ticket_comment(u, who, row.ticket_id, note, true, err);
        out->outcome = "acknowledged";
        break;
    case KW_ALERT_RESOLVE:
        if (!open)
            return KW_OK;
        snprintf(note, sizeof(note), "%s: the alert resolved: %s", s->name, a->summary);
        rc = kw_ticket_comment(u, who, row.ticket_id, note, true, err);
        if (rc == KW_OK && s->restore)
            rc = kw_ticket_milestone(u, who, row.ticket_id, "restored", err);
        row.open = false;
        out->outcome = "resolved";
        break;
    }
    row.updated_at = u->now;
    if (rc == KW_OK)
        rc = kw_store_alert_put(u->st, s->id, a->key, &row, err);
    out->ticket = row.ticket_id;
    out->fire_at = u->fire_at;
    return rc;
}
