// SPDX-License-Identifier: MIT
/*
 * mailboxes.c - the managers' mailboxes (e-mail in, docs/channels.md): the
 * server fetches each active one (engine/fetch.h). The password is kept
 * sealed under the server's mail key (kw_seal) to log in with and never
 * shown again; "test" logs in and opens the folder and says what happened.
 * PATCH changes any setting (the password only when one is given).
 * Creating, changing and deactivating a mailbox are audit entries (kind
 * "mailbox", docs/policy.md "The audit trail") that never hold the
 * password: it is "(set)", or "(changed)" after a PATCH that gave one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "kw_crypto.h"
#include "internal.h"
#include "watch.h"

static json_t *mailbox_json(const struct kw_mailbox *m)
{
    json_t *j = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:I, s:o, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, "
        "s:b, s:o, s:o, s:b, s:I, s:o}",
        "id", (json_int_t)m->id, "name", m->name, "url", m->url, "username", m->username, "folder",
        m->folder, "org_id", (json_int_t)m->org_id, "category", kwh_nullable(m->category), "level",
        m->level, "reply_from", m->reply_from, "unknown", m->unknown, "max_bytes",
        (json_int_t)m->max_bytes, "per_sender_hour", (json_int_t)m->per_sender_hour, "poll_s",
        (json_int_t)m->poll_s, "last_uid", (json_int_t)m->last_uid, "last_error",
        kwh_nullable(m->last_error), "active", m->active, "created_at",
        kwh_instant_json(m->created_at), "smtp_url", kwh_nullable(m->smtp_url), "ack", m->ack,
        "failed", (json_int_t)m->failed, "last_failed",
        m->last_failed ? json_pack("{s:I, s:s}", "uid", (json_int_t)m->last_failed_uid, "outcome",
                                   m->last_failed)
                       : json_null());
    if (j && json_object_update_new(
                 j, json_pack("{s:o, s:o, s:I, s:I}", "team_id", kwh_id_or_null(m->team_id),
                              "last_fetch_at", kwh_instant_json(m->fetched_at), "taken",
                              (json_int_t)m->taken, "created", (json_int_t)m->created)) != 0) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static bool push(const struct kw_mailbox *m, void *ctx)
{
    json_array_append_new(ctx, mailbox_json(m));
    return true;
}

struct kwh_reply kwh_mailboxes_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    json_t *list = json_array();
    if (kw_store_mailboxes(x->wk->st, false, push, list, &err) != KW_OK) {
        json_decref(list);
        return kwh_problem(&err);
    }
    return kwh_ok(200, json_pack("{s:o}", "mailboxes", list));
}

/* ---- the audit trail: a mailbox's settings before and after ---- */

/* What a manager set on m as an audit snapshot (caller frees; NULL on no
 * memory): never the password, sealed or not (password: "(set)" or
 * "(changed)"); the fetcher's state (cursor, last error, counts) is no
 * administrative change and is left out. */
static char *mailbox_audit_json(const struct kw_mailbox *m, const char *password)
{
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:b, "
        "s:b, s:I}",
        "id", (json_int_t)m->id, "name", m->name, "url", m->url, "username", m->username,
        "password", password, "folder", m->folder, "org_id", (json_int_t)m->org_id, "team_id",
        kwh_id_or_null(m->team_id), "category", kwh_nullable(m->category), "level", m->level,
        "reply_from", m->reply_from, "unknown", m->unknown, "max_bytes", (json_int_t)m->max_bytes,
        "per_sender_hour", (json_int_t)m->per_sender_hour, "poll_s", (json_int_t)m->poll_s,
        "smtp_url", kwh_nullable(m->smtp_url), "ack", m->ack, "active", m->active, "acting_user",
        (json_int_t)m->acting_user);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

struct snapshot {
    int64_t id;
    const char *password;
    bool found;
    char *json;
};

static bool snapshot_of(const struct kw_mailbox *m, void *ctx)
{
    struct snapshot *s = ctx;
    if (m->id != s->id)
        return true;
    s->found = true;
    s->json = mailbox_audit_json(m, s->password);
    return false;
}

/* Mailbox id as an audit snapshot, read in the unit (*json NULL when there
 * is no such mailbox; caller frees). */
static enum kw_code mailbox_snapshot(struct kw_store *st, int64_t id, const char *password,
                                     char **json, struct kw_err *err)
{
    struct snapshot s = {.id = id, .password = password};
    enum kw_code rc = kw_store_mailboxes(st, false, snapshot_of, &s, err);
    if (rc == KW_OK && s.found && !s.json)
        rc = kw_err_set(err, KW_NOMEM, "", "no memory for the audit trail");
    if (rc != KW_OK) {
        free(s.json);
        return rc;
    }
    *json = s.json;
    return KW_OK;
}

/* Write the entry of a change to mailbox id made in this unit: before (NULL
 * for a new one, borrowed) and the mailbox as it is now; nothing when the
 * change left it as it was. */
static enum kw_code mailbox_audit(struct kw_store *st, const struct kw_actor *who, int64_t now,
                                  int64_t id, const char *action, const char *before,
                                  const char *password, struct kw_err *err)
{
    char *after = NULL;
    enum kw_code rc = mailbox_snapshot(st, id, password, &after, err);
    if (rc == KW_OK && !(before && after && strcmp(before, after) == 0))
        rc = kw_audit(st, who, now, "mailbox", id, action, before, after, err);
    free(after);
    return rc;
}

struct mailbox_unit {
    struct kw_mailbox m;
    int64_t id;
    json_t *category, *smtp_url; /* PATCH: null clears them */
    struct kw_actor who;
    int64_t now;
    bool new_password; /* PATCH: one was given */
};

static enum kw_code mailbox_insert(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct mailbox_unit *c = ctx;
    enum kw_code rc = kw_store_mailbox_insert(st, &c->m, &c->id, err);
    return rc == KW_OK ? mailbox_audit(st, &c->who, c->now, c->id, "create", NULL, "(set)", err)
                       : rc;
}

#define MB(f) offsetof(struct mailbox_unit, m.f)
static const struct kwh_field fields[] = {
    {.name = "name", .type = KWH_STR, .required = true, .max = 100, .offset = MB(name)},
    {.name = "url",
     .type = KWH_STR,
     .required = true,
     .max = 500,
     .offset = MB(url),
     .missing = "missing (imaps://host[:port] or imap://host[:port])"},
    {.name = "username", .type = KWH_STR, .required = true, .max = 255, .offset = MB(username)},
    {.name = "password",
     .type = KWH_STR,
     .controls = true,
     .required = true,
     .max = 255,
     .offset = MB(password)},
    {.name = "folder", .type = KWH_STR, .max = 255, .offset = MB(folder)},
    {.name = "org_id", .type = KWH_ID, .required = true, .offset = MB(org_id)},
    {.name = "category", .type = KWH_STR, .max = 47, .offset = MB(category)},
    {.name = "level", .type = KWH_STR, .required = true, .max = 47, .offset = MB(level)},
    {.name = "reply_from", .type = KWH_STR, .required = true, .max = 254, .offset = MB(reply_from)},
    {.name = "unknown", .type = KWH_STR, .max = 15, .offset = MB(unknown)},
    {.name = "max_bytes", .type = KWH_INT, .lo = 1024, .hi = 52428800, .offset = MB(max_bytes)},
    {.name = "per_sender_hour",
     .type = KWH_INT,
     .lo = 1,
     .hi = 10000,
     .offset = MB(per_sender_hour)},
    {.name = "poll_s", .type = KWH_INT, .lo = 1, .hi = 3600, .offset = MB(poll_s)},
    {.name = "smtp_url", .type = KWH_STR, .max = 500, .offset = MB(smtp_url)},
    {.name = "ack", .type = KWH_BOOL, .offset = MB(ack)},
    {.name = "team_id", .type = KWH_ID, .nullable = true, .offset = MB(team_id)},
};
/* PATCH: the same members, none required, and null clears category,
 * smtp_url and team_id */
static const struct kwh_field patch_fields[] = {
    {.name = "name", .type = KWH_STR, .max = 100, .offset = MB(name)},
    {.name = "url", .type = KWH_STR, .max = 500, .offset = MB(url)},
    {.name = "username", .type = KWH_STR, .max = 255, .offset = MB(username)},
    {.name = "password", .type = KWH_STR, .controls = true, .max = 255, .offset = MB(password)},
    {.name = "folder", .type = KWH_STR, .max = 255, .offset = MB(folder)},
    {.name = "org_id", .type = KWH_ID, .offset = MB(org_id)},
    {.name = "category", .type = KWH_ANY, .offset = offsetof(struct mailbox_unit, category)},
    {.name = "level", .type = KWH_STR, .max = 47, .offset = MB(level)},
    {.name = "reply_from", .type = KWH_STR, .max = 254, .offset = MB(reply_from)},
    {.name = "unknown", .type = KWH_STR, .max = 15, .offset = MB(unknown)},
    {.name = "max_bytes", .type = KWH_INT, .lo = 1024, .hi = 52428800, .offset = MB(max_bytes)},
    {.name = "per_sender_hour",
     .type = KWH_INT,
     .lo = 1,
     .hi = 10000,
     .offset = MB(per_sender_hour)},
    {.name = "poll_s", .type = KWH_INT, .lo = 1, .hi = 3600, .offset = MB(poll_s)},
    {.name = "smtp_url", .type = KWH_ANY, .offset = offsetof(struct mailbox_unit, smtp_url)},
    {.name = "ack", .type = KWH_BOOL, .offset = MB(ack)},
    {.name = "team_id", .type = KWH_ID, .nullable = true, .offset = MB(team_id)},
};
#undef MB

/* Whether s has no control characters (they would break an IMAP command). */
static bool printable(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
            return false;
    return true;
}

/* smtps://host[:port] or smtp://host[:port], optionally "/", and optionally
 * "?starttls=1": the server mail out goes through. */
static bool smtp_url_ok(const char *url)
{
    const char *host = strncmp(url, "smtps://", 8) == 0  ? url + 8
                       : strncmp(url, "smtp://", 7) == 0 ? url + 7
                                                         : NULL;
    if (!host || !printable(url))
        return false;
    size_t n = strcspn(host, "/?");
    if (!n || memchr(host, '@', n) || memchr(host, ' ', n) || memchr(host, '#', n))
        return false;
    const char *rest = host + n;
    if (*rest == '/')
        rest++;
    return !*rest || strcmp(rest, "?starttls=1") == 0;
}

static bool team_seen(const struct kw_named_row *r, void *ctx)
{
    (void)r;
    *(bool *)ctx = true;
    return false;
}

/* Check m's settings as a whole (after a POST or a PATCH); false with the
 * problem, naming the member at fault. */
static bool mailbox_check(struct kwh_call *x, const struct kw_mailbox *m, struct kwh_reply *out)
{
    const char *host = strncmp(m->url, "imaps://", 8) == 0  ? m->url + 8
                       : strncmp(m->url, "imap://", 7) == 0 ? m->url + 7
                                                            : NULL;
    if (!host || !*host || strpbrk(host, "/?#@ ") || !printable(m->url)) {
        *out = kwh_problem_of(KW_INVALID, "/url",
                              "url: expected imaps://host[:port] or imap://host[:port] (the "
                              "folder goes in folder, the login in username)");
        return false;
    }
    if (!printable(m->folder)) {
        *out = kwh_problem_of(KW_INVALID, "/folder",
                              "folder: no control characters, quotes or backslashes");
        return false;
    }
    if (!printable(m->username)) {
        *out = kwh_problem_of(KW_INVALID, "/username",
                              "username: no control characters, quotes or backslashes");
        return false;
    }
    const char *at = strchr(m->reply_from, '@');
    if (!at || at == m->reply_from || !at[1] || strchr(at + 1, '@') ||
        strpbrk(m->reply_from, " <>\r\n")) {
        *out = kwh_problem_of(KW_INVALID, "/reply_from",
                              "reply_from: expected an e-mail address (support@example.cn)");
        return false;
    }
    if (m->smtp_url && !smtp_url_ok(m->smtp_url)) {
        *out = kwh_problem_of(KW_INVALID, "/smtp_url",
                              "smtp_url: expected smtps://host[:port] or smtp://host[:port] with "
                              "an optional ?starttls=1 (the login is the mailbox's username and "
                              "password)");
        return false;
    }
    if (m->ack && !m->smtp_url) {
        *out = kwh_problem_of(KW_INVALID, "/ack", "ack: needs smtp_url (a mailbox that sends)");
        return false;
    }
    if (strcmp(m->unknown, "triage") != 0 && strcmp(m->unknown, "refuse") != 0) {
        *out = kwh_problem_of(KW_INVALID, "/unknown", "unknown: expected triage or refuse");
        return false;
    }
    struct kw_org o;
    struct kw_err err = {0};
    if (kw_store_org_get(x->wk->st, m->org_id, &o, &err) != KW_OK) {
        *out = kwh_problemf(KW_INVALID, "/org_id", "org_id: no organisation %lld",
                            (long long)m->org_id);
        return false;
    }
    bool seen = false;
    if (m->team_id > 0 &&
        (kw_store_teams(x->wk->st, m->team_id, team_seen, &seen, &err) != KW_OK || !seen)) {
        *out = kwh_problemf(KW_INVALID, "/team_id", "team_id: no team %lld", (long long)m->team_id);
        return false;
    }
    kw_store_end_read(x->wk->st);
    return true;
}

/* Seal password into sealed (KW_SEAL_BUF(255) bytes); false with the problem. */
static bool seal(struct kwh_call *x, const char *password, char *sealed, size_t cap,
                 struct kwh_reply *out)
{
    struct kw_err err = {0};
    if (!x->h->mail_key) {
        *out = kwh_problem_of(KW_STORE, "", "the server has no mail key to seal the password with");
        return false;
    }
    if (kw_seal(x->h->mail_key, password, sealed, cap, &err) != KW_OK) {
        *out = kwh_problem(&err);
        return false;
    }
    return true;
}

struct kwh_reply kwh_mailboxes_create(struct kwh_call *x)
{
    struct kwh_reply out;
    json_t *j = kwh_body_object(x, &out);
    if (!j)
        return out;
    struct mailbox_unit c = {.m = {.folder = "INBOX",
                                   .unknown = "triage",
                                   .max_bytes = 10485760,
                                   .per_sender_hour = 20,
                                   .poll_s = 60}};
    char sealed[KW_SEAL_BUF(255)];
    if (!kwh_decode(j, fields, KWH_NFIELDS(fields), &c, &out))
        goto done;
    if (c.m.team_id < 0)
        c.m.team_id = 0;
    if (!mailbox_check(x, &c.m, &out) || !seal(x, c.m.password, sealed, sizeof(sealed), &out))
        goto done;
    c.m.password = sealed;
    c.m.acting_user = x->me.id;
    c.m.created_at = x->now;
    c.m.fetched_at = KW_STORE_NO_TIME;
    c.m.active = true;
    c.who = kwh_actor(x);
    c.now = x->now;
    if (kwh_write_unit(x, mailbox_insert, &c, &out)) {
        c.m.id = c.id;
        out = kwh_ok(201, mailbox_json(&c.m));
        kwh_log_event(x->h, "mod=mailin event=mailbox.created mailbox=%lld actor=%lld",
                      (long long)c.id, (long long)x->me.id);
    }
done:
    json_decref(j);
    return out;
}

/* The mailbox x->arg.id as read, its strings kept in keep (a JSON array
 * the caller frees). */
struct current {
    int64_t id;
    struct kw_mailbox m;
    json_t *keep;
};

static const char *kept(json_t *keep, const char *s)
{
    if (!s)
        return NULL;
    json_array_append_new(keep, json_string(s));
    return json_string_value(json_array_get(keep, json_array_size(keep) - 1));
}

static bool current_of(const struct kw_mailbox *m, void *ctx)
{
    struct current *c = ctx;
    if (m->id != c->id)
        return true;
    c->m = *m;
    c->keep = json_array();
    c->m.name = kept(c->keep, m->name);
    c->m.url = kept(c->keep, m->url);
    c->m.username = kept(c->keep, m->username);
    c->m.password = kept(c->keep, m->password);
    c->m.folder = kept(c->keep, m->folder);
    c->m.category = kept(c->keep, m->category);
    c->m.level = kept(c->keep, m->level);
    c->m.reply_from = kept(c->keep, m->reply_from);
    c->m.unknown = kept(c->keep, m->unknown);
    c->m.last_error = kept(c->keep, m->last_error);
    c->m.smtp_url = kept(c->keep, m->smtp_url);
    c->m.last_failed = kept(c->keep, m->last_failed);
    return false;
}

static enum kw_code mailbox_update(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct mailbox_unit *c = ctx;
    char *before = NULL;
    enum kw_code rc = mailbox_snapshot(st, c->m.id, "(set)", &before, err);
    if (rc == KW_OK)
        rc = kw_store_mailbox_update(st, &c->m, err);
    if (rc == KW_OK)
        rc = mailbox_audit(st, &c->who, c->now, c->m.id, "update", before,
                           c->new_password ? "(changed)" : "(set)", err);
    free(before);
    return rc;
}

/* PATCH /mailboxes/{id}: change what is given; the rest stays. */
struct kwh_reply kwh_mailbox_patch(struct kwh_call *x)
{
    struct kwh_reply out;
    struct kw_err err = {0};
    struct current cur = {.id = x->arg.id};
    if (kw_store_mailboxes(x->wk->st, false, current_of, &cur, &err) != KW_OK)
        return kwh_problem(&err);
    kw_store_end_read(x->wk->st);
    if (!cur.keep)
        return kwh_problemf(KW_NOT_FOUND, "", "no mailbox %lld", (long long)x->arg.id);
    json_t *j = kwh_body_object(x, &out);
    if (!j) {
        json_decref(cur.keep);
        return out;
    }
    struct mailbox_unit c = {.m = cur.m};
    const char *stored = cur.m.password;
    c.m.password = NULL;
    char sealed[KW_SEAL_BUF(255)];
    if (!kwh_decode(j, patch_fields, KWH_NFIELDS(patch_fields), &c, &out))
        goto done;
    if (c.m.team_id < 0)
        c.m.team_id = 0;
    if (!kwh_str_or_null(c.category, "category", 47, &c.m.category, &out) ||
        !kwh_str_or_null(c.smtp_url, "smtp_url", 500, &c.m.smtp_url, &out))
        goto done;
    if (c.smtp_url && json_is_null(c.smtp_url) && !json_object_get(j, "ack"))
        c.m.ack = false; /* a mailbox that no longer sends acknowledges nothing */
    if (!mailbox_check(x, &c.m, &out))
        goto done;
    if (c.m.password) {
        if (!seal(x, c.m.password, sealed, sizeof(sealed), &out))
            goto done;
        c.m.password = sealed;
        c.new_password = true;
    } else {
        c.m.password = stored;
    }
    c.who = kwh_actor(x);
    c.now = x->now;
    if (kwh_write_unit(x, mailbox_update, &c, &out)) {
        out = kwh_ok(200, mailbox_json(&c.m));
        kwh_log_event(x->h, "mod=mailin event=mailbox.changed mailbox=%lld actor=%lld",
                      (long long)c.m.id, (long long)x->me.id);
    }
done:
    kw_wipe(sealed, sizeof(sealed));
    json_decref(j);
    json_decref(cur.keep);
    return out;
}

static enum kw_code stop_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    const struct kwh_call *x = ctx;
    struct kw_actor who = kwh_actor(x);
    char *before = NULL;
    enum kw_code rc = mailbox_snapshot(st, x->arg.id, "(set)", &before, err);
    if (rc == KW_OK)
        rc = kw_store_mailbox_deactivate(st, x->arg.id, err);
    if (rc == KW_OK)
        rc = mailbox_audit(st, &who, x->now, x->arg.id, "deactivate", before, "(set)", err);
    free(before);
    return rc;
}

/* DELETE /mailboxes/{id}: deactivated (kept, with the mail it took). */
struct kwh_reply kwh_mailbox_delete(struct kwh_call *x)
{
    struct kwh_reply out;
    if (!kwh_write_unit(x, stop_unit, x, &out))
        return out;
    kwh_log_event(x->h, "mod=mailin event=mailbox.stopped mailbox=%lld actor=%lld",
                  (long long)x->arg.id, (long long)x->me.id);
    return kwh_ok(204, NULL);
}

/* The mailbox x->arg.id, copied. */
struct found {
    int64_t id;
    bool ok;
    char url[512], user[256], password[256], folder[256];
};

static bool find(const struct kw_mailbox *m, void *ctx)
{
    struct found *f = ctx;
    if (m->id != f->id)
        return true;
    snprintf(f->url, sizeof(f->url), "%s", m->url);
    snprintf(f->user, sizeof(f->user), "%s", m->username);
    snprintf(f->password, sizeof(f->password), "%s", m->password);
    snprintf(f->folder, sizeof(f->folder), "%s", m->folder);
    f->ok = true;
    return false;
}

struct kwh_reply kwh_mailbox_test(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct found f = {.id = x->arg.id};
    if (kw_store_mailboxes(x->wk->st, false, find, &f, &err) != KW_OK)
        return kwh_problem(&err);
    if (!f.ok)
        return kwh_problem_of(KW_NOT_FOUND, "", "no such mailbox");
    kw_store_end_read(x->wk->st);
    char plain[256];
    enum kw_code rc = KW_OK;
    if (!kw_sealed(f.password))
        snprintf(plain, sizeof(plain), "%s", f.password);
    else if (!x->h->mail_key)
        rc = kw_err_set(&err, KW_INVALID, "",
                        "the password is sealed and the server has no mail key");
    else
        rc = kw_unseal(x->h->mail_key, f.password, plain, sizeof(plain), &err);
    struct kw_mailin_probe_out p = {.outcome = "key_error"};
    if (rc == KW_OK)
        rc = kw_mailin_probe(f.url, f.user, plain, f.folder, x->h->allow, &p, &err);
    kw_wipe(plain, sizeof(plain));
    kw_wipe(f.password, sizeof(f.password));
    if (rc != KW_OK)
        return kwh_ok(200, json_pack("{s:b, s:s, s:s, s:n, s:n}", "ok", false, "outcome", p.outcome,
                                     "detail", err.msg, "messages", "idle"));
    char detail[160];
    snprintf(detail, sizeof(detail), "logged in and opened the folder: %lld messages; %s",
             (long long)p.messages,
             p.idle ? "the server offers IDLE, so new mail is taken as it arrives"
                    : "the server does not offer IDLE, so the mailbox is polled");
    return kwh_ok(200, json_pack("{s:b, s:s, s:s, s:I, s:b}", "ok", true, "outcome", "ok", "detail",
                                 detail, "messages", (json_int_t)p.messages, "idle", p.idle));
}
