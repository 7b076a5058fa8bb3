// SPDX-License-Identifier: MIT
/* The watch list, accident levels and the audit trail (watch.h). */
#include "watch.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

static bool manager(const struct kw_actor *who)
{
    return who->role == KW_ROLE_ADMIN || who->role == KW_ROLE_MANAGER;
}

enum kw_code kw_audit(struct kw_store *st, const struct kw_actor *who, int64_t now,
                      const char *kind, int64_t object, const char *action, const char *before,
                      const char *after, struct kw_err *err)
{
    struct kw_audit_row a = {
        .actor = who ? who->id : 0,
        .object = object,
        .at = now,
        .kind = kind,
        .action = action,
        .before = before,
        .after = after,
    };
    return kw_store_audit_append(st, &a, NULL, err);
}

/* json_dumps of o (taking it), NULL on no memory. */
static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

const char *kw_accident_level(const struct kw_watch_settings *s, int64_t loss)
{
    if (loss < 0)
        return NULL;
    if (s->accident_major > 0 && loss >= s->accident_major)
        return "major";
    if (s->accident_serious > 0 && loss >= s->accident_serious)
        return "serious";
    if (s->accident_general > 0 && loss >= s->accident_general)
        return "general";
    return NULL;
}

static json_t *settings_json(const struct kw_watch_settings *s)
{
    return json_pack("{s:I, s:I, s:{s:I, s:I, s:I}}", "overruns", (json_int_t)s->overruns,
                     "window_months", (json_int_t)s->window_months, "accident", "major",
                     (json_int_t)s->accident_major, "serious", (json_int_t)s->accident_serious,
                     "general", (json_int_t)s->accident_general);
}

enum kw_code kw_watch_settings_save(struct kw_unit *u, const struct kw_actor *who,
                                    const struct kw_watch_settings *s, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!manager(who))
        return kw_err_set(err, KW_FORBIDDEN, "", "only admins and managers change the watch list");
    if (s->overruns < 1 || s->overruns > 1000)
        return kw_err_set(err, KW_INVALID, "/overruns",
                          "overruns: %lld is not a count of overruns (expected 1-1000)",
                          (long long)s->overruns);
    if (s->window_months < 1 || s->window_months > 120)
        return kw_err_set(err, KW_INVALID, "/window_months",
                          "window_months: %lld is not a window (expected 1-120 months)",
                          (long long)s->window_months);
    static const char *const names[] = {"general", "serious", "major"};
    const int64_t v[] = {s->accident_general, s->accident_serious, s->accident_major};
    int64_t below = 0;
    const char *below_name = NULL;
    for (size_t i = 0; i < 3; i++) {
        char ptr[32];
        snprintf(ptr, sizeof(ptr), "/accident/%s", names[i]);
        if (v[i] < 0 || v[i] > 1000000000000000)
            return kw_err_set(err, KW_INVALID, ptr,
                              "accident.%s: %lld is not a loss (expected 0-10^15 minor units; 0: "
                              "not by amount)",
                              names[i], (long long)v[i]);
        if (v[i] == 0)
            continue;
        if (v[i] < below)
            return kw_err_set(err, KW_INVALID, ptr,
                              "accident.%s: %lld is below accident.%s's %lld (expected general "
                              "<= serious <= major)",
                              names[i], (long long)v[i], below_name, (long long)below);
        below = v[i];
        below_name = names[i];
    }
    struct kw_watch_settings old;
    enum kw_code rc = kw_store_watch_settings(u->st, &old, err);
    if (rc != KW_OK)
        return rc;
    if ((rc = kw_store_watch_settings_put(u->st, s, err)) != KW_OK)
        return rc;
    char *before = dump(settings_json(&old)), *after = dump(settings_json(s));
    if (!before || !after)
        rc = kw_err_set(err, KW_NOMEM, "", "no memory for the audit entry");
    else if (strcmp(before, after) != 0) /* saving the same settings changes nothing */
        rc = kw_audit(u->st, who, u->now, "settings", 0, "update", before, after, err);
    free(before);
    free(after);
    return rc;
}

int64_t kw_watch_window_from(const struct kw_watch_settings *s, int64_t now)
{
    return kw_months_after(now, -s->window_months);
}

static bool any_flag(const struct kw_watch_flag *f, void *ctx)
{
    (void)f;
    *(bool *)ctx = true;
    return false;
}

enum kw_code kw_watch_check(struct kw_store *st, int64_t org, int64_t ticket, int64_t now,
                            bool *flagged, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *flagged = false;
    struct kw_watch_settings s;
    enum kw_code rc = kw_store_watch_settings(st, &s, err);
    if (rc != KW_OK)
        return rc;
    /* An organisation already on the list is not flagged again (one open
     * flag each): the count, which reads every overrun of the window, is
     * left out then; on a busy desk it was most of a breach's firing. */
    bool open = false;
    if ((rc = kw_store_watch_flags(st, org, true, any_flag, &open, err)) != KW_OK || open)
        return rc;
    int64_t n = 0, since = 0;
    if ((rc = kw_store_watch_count(st, org, kw_watch_window_from(&s, now), now, &n, &since, err)) !=
            KW_OK ||
        n < s.overruns)
        return rc;
    struct kw_watch_flag f = {
        .org_id = org,
        .flagged_at = now,
        .ticket_id = ticket,
        .overruns = n,
        .window_from = since,
    };
    int64_t id = 0;
    if ((rc = kw_store_watch_flag(st, &f, &id, err)) != KW_OK || !id)
        return rc;
    *flagged = true;
    struct kw_org o;
    if ((rc = kw_store_org_get(st, org, &o, err)) != KW_OK)
        return rc;
    json_t *p = json_pack(
        "{s:s, s:{s:I, s:s, s:o}, s:I, s:{s:I}, s:I, s:I, s:I}", "kind", "watch_list", "org", "id",
        (json_int_t)o.id, "name", o.name, "account_manager_id",
        o.account_manager_id ? json_integer(o.account_manager_id) : json_null(), "flag",
        (json_int_t)id, "ticket", "id", (json_int_t)ticket, "overruns", (json_int_t)n,
        "window_months", (json_int_t)s.window_months, "threshold", (json_int_t)s.overruns);
    char *payload = dump(p);
    if (!payload)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the watch list's notification");
    char key[64];
    snprintf(key, sizeof(key), "watch-%lld", (long long)id);
    rc = kw_store_outbox_add(st, "watch_list", ticket, org, 0, payload, key, now, err);
    if (rc == KW_OK)
        rc = kw_audit(st, NULL, now, "watch_list", org, "flag", NULL, payload, err);
    free(payload);
    return rc;
}

enum kw_code kw_watch_clear(struct kw_unit *u, const struct kw_actor *who, int64_t org,
                            const char *reason, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!manager(who))
        return kw_err_set(err, KW_FORBIDDEN, "",
                          "only admins and managers take an organisation off the watch list");
    size_t len = reason ? strlen(reason) : 0;
    while (len && (reason[len - 1] == ' ' || reason[len - 1] == '\n'))
        len--;
    if (len == 0 || strlen(reason) > 1000)
        return kw_err_set(err, KW_INVALID, "/reason",
                          "reason: the decision needs a reason (1-1000 bytes)");
    int64_t id = 0;
    enum kw_code rc = kw_store_watch_clear(u->st, org, who->id, reason, u->now, &id, err);
    if (rc != KW_OK)
        return rc;
    char *before = dump(json_pack("{s:I, s:b}", "flag", (json_int_t)id, "watched", 1));
    char *after =
        dump(json_pack("{s:I, s:b, s:s}", "flag", (json_int_t)id, "watched", 0, "reason", reason));
    rc = before && after
             ? kw_audit(u->st, who, u->now, "watch_list", org, "clear", before, after, err)
             : kw_err_set(err, KW_NOMEM, "", "no memory for the audit entry");
    free(before);
    free(after);
    return rc;
}

static char *loss_json(const struct kw_watch_settings *s, int64_t loss)
{
    const char *level = kw_accident_level(s, loss);
    return dump(json_pack("{s:o, s:o}", "loss", loss >= 0 ? json_integer(loss) : json_null(),
                          "accident", level ? json_string(level) : json_null()));
}

enum kw_code kw_overrun_loss_save(struct kw_unit *u, const struct kw_actor *who, int64_t overrun,
                                  int64_t loss, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!manager(who))
        return kw_err_set(err, KW_FORBIDDEN, "/loss", "only admins and managers record a loss");
    if (loss < -1 || loss > 1000000000000000)
        return kw_err_set(err, KW_INVALID, "/loss",
                          "loss: %lld is not an amount (expected 0-10^15 minor units, or null)",
                          (long long)loss);
    struct kw_watch_settings s;
    int64_t old = -1;
    enum kw_code rc = kw_store_watch_settings(u->st, &s, err);
    if (rc == KW_OK)
        rc = kw_store_overrun_loss_get(u->st, overrun, &old, err);
    if (rc == KW_OK)
        rc = kw_store_overrun_loss(u->st, overrun, loss, who->id, u->now, err);
    if (rc != KW_OK || old == loss)
        return rc;
    char *before = loss_json(&s, old), *after = loss_json(&s, loss);
    rc = before && after
             ? kw_audit(u->st, who, u->now, "overrun", overrun, "loss", before, after, err)
             : kw_err_set(err, KW_NOMEM, "", "no memory for the audit entry");
    free(before);
    free(after);
    return rc;
}

enum kw_code kw_audit_before(struct kw_store *st, const char *kind, int64_t id, const char *name,
                             char **before, struct kw_err *err)
{
    return kw_store_audit_row(st, kind, id, name, before, err);
}

enum kw_code kw_audit_after(struct kw_store *st, const struct kw_actor *who, int64_t now,
                            const char *kind, int64_t id, const char *name, const char *action,
                            const char *before, struct kw_err *err)
{
    char *after = NULL;
    enum kw_code rc = kw_store_audit_row(st, kind, id, name, &after, err);
    if (rc == KW_OK && name && after) { /* the object's id, for the entry */
        json_t *o = json_loads(after, 0, NULL);
        id = o ? json_integer_value(json_object_get(o, "id")) : 0;
        json_decref(o);
    }
    if (rc == KW_OK && !(before && after && strcmp(before, after) == 0)) /* nothing changed */
        rc = kw_audit(st, who, now, kind, id, action, before, after, err);
    free(after);
    return rc;
}
