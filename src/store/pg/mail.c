// SPDX-License-Identifier: MIT
/* E-mail on PostgreSQL: mailboxes, the mails each took (once, by
 * Message-ID: the primary key, so two nodes polling one mailbox record a
 * mail once), the message ids of tickets that replies are threaded by, and
 * mail out through a sending mailbox's endpoint; the same meaning as the
 * SQLite backend's mail.c. */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool col_bool(const PGresult *res, int r, int c)
{
    return strcmp(PQgetvalue(res, r, c), "t") == 0;
}

/* The endpoint a sending mailbox's mail waits in the outbox for: its SMTP
 * URL with from= its reply_from; the login is read from the mailbox when
 * the mail is sent (PGS_OUTBOX_DUE). */
static enum kw_code sender_url(const struct kw_mailbox *m, char url[1024], struct kw_err *err)
{
    int n = snprintf(url, 1024, "%s%cfrom=%s", m->smtp_url, strchr(m->smtp_url, '?') ? '&' : '?',
                     m->reply_from);
    if (n < 0 || n >= 1024)
        return kw_err_set(err, KW_INVALID, "/smtp_url", "smtp_url: too long");
    return KW_OK;
}

static enum kw_code sender_add(struct kw_store *st, int64_t id, const struct kw_mailbox *m,
                               struct kw_err *err)
{
    char url[1024];
    if (sender_url(m, url, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_text(&p, url);
    kwp_int(&p, m->created_at);
    return kwp_exec(st, PGS_MAIL_SENDER_ADD, &p, "store the mailbox's sender", err);
}

/* A mailbox insert or update PostgreSQL refused with SQLSTATE state. */
static enum kw_code mailbox_refused(const char *state, const struct kw_mailbox *m,
                                    struct kw_err *err)
{
    if (strcmp(state, "23505") == 0) /* unique_violation: the name */
        return kw_err_set(err, KW_CONFLICT, "/name", "name: a mailbox named \"%s\" exists",
                          m->name);
    if (strcmp(state, "23503") == 0) /* foreign_key_violation */
        return kw_err_set(err, KW_INVALID, "/org_id", "org_id or team_id: no such one");
    return err->code;
}

static enum kw_code mailbox_insert(struct kw_store *st, const struct kw_mailbox *m, int64_t *id,
                                   struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_text(&p, m->name);
    kwp_text(&p, m->url);
    kwp_text(&p, m->username);
    kwp_text(&p, m->password);
    kwp_text(&p, m->folder ? m->folder : "INBOX");
    kwp_int(&p, m->acting_user);
    kwp_int(&p, m->org_id);
    kwp_text(&p, m->category);
    kwp_text(&p, m->level);
    kwp_text(&p, m->reply_from);
    kwp_text(&p, m->unknown ? m->unknown : "triage");
    kwp_int(&p, m->max_bytes);
    kwp_int(&p, m->per_sender_hour);
    kwp_int(&p, m->poll_s);
    kwp_int(&p, m->created_at);
    kwp_text(&p, m->smtp_url);
    kwp_text(&p, m->ack ? "true" : "false");
    kwp_int(&p, m->team_id);
    char state[6];
    PGresult *res = kwp_run(st, PGS_MAILBOX_INSERT, &p, "store the mailbox", state, err);
    if (!res)
        return mailbox_refused(state, m, err);
    *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return m->smtp_url ? sender_add(st, *id, m, err) : KW_OK;
}

enum kw_code kw_store_mailbox_insert(struct kw_store *st, const struct kw_mailbox *m, int64_t *id,
                                     struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, mailbox_insert(st, m, id, err), err);
}

enum kw_code kw_store_mailboxes(struct kw_store *st, bool active_only,
                                bool (*fn)(const struct kw_mailbox *m, void *ctx), void *ctx,
                                struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, active_only ? "true" : "false");
    PGresult *res = kwp_run(st, PGS_MAILBOXES, &p, "read mailboxes", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_mailbox m = {
            .id = kwp_col_int(res, r, 0),
            .name = kwp_col_text(res, r, 1),
            .url = kwp_col_text(res, r, 2),
            .username = kwp_col_text(res, r, 3),
            .password = kwp_col_text(res, r, 4),
            .folder = kwp_col_text(res, r, 5),
            .acting_user = kwp_col_int(res, r, 6),
            .org_id = kwp_col_int(res, r, 7),
            .category = kwp_col_text(res, r, 8),
            .level = kwp_col_text(res, r, 9),
            .reply_from = kwp_col_text(res, r, 10),
            .unknown = kwp_col_text(res, r, 11),
            .max_bytes = kwp_col_int(res, r, 12),
            .per_sender_hour = kwp_col_int(res, r, 13),
            .poll_s = kwp_col_int(res, r, 14),
            .uidvalidity = kwp_col_int(res, r, 15),
            .last_uid = kwp_col_int(res, r, 16),
            .last_error = kwp_col_text(res, r, 17),
            .active = col_bool(res, r, 18),
            .created_at = kwp_col_int(res, r, 19),
            .smtp_url = kwp_col_text(res, r, 20),
            .ack = col_bool(res, r, 21),
            .failed = kwp_col_int(res, r, 22),
            .last_failed_uid = kwp_col_int(res, r, 23),
            .last_failed = kwp_col_text(res, r, 24),
            .team_id = kwp_col_int(res, r, 25),
            .fetched_at = kwp_col_instant(res, r, 26),
            .taken = kwp_col_int(res, r, 27),
            .created = kwp_col_int(res, r, 28),
        };
        if (!fn(&m, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

static enum kw_code mailbox_update(struct kw_store *st, const struct kw_mailbox *m,
                                   struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, m->id);
    kwp_text(&p, m->name);
    kwp_text(&p, m->url);
    kwp_text(&p, m->username);
    kwp_text(&p, m->password);
    kwp_text(&p, m->folder ? m->folder : "INBOX");
    kwp_int(&p, m->org_id);
    kwp_text(&p, m->category);
    kwp_text(&p, m->level);
    kwp_text(&p, m->reply_from);
    kwp_text(&p, m->unknown ? m->unknown : "triage");
    kwp_int(&p, m->max_bytes);
    kwp_int(&p, m->per_sender_hour);
    kwp_int(&p, m->poll_s);
    kwp_text(&p, m->smtp_url);
    kwp_text(&p, m->ack ? "true" : "false");
    kwp_int(&p, m->team_id);
    char state[6];
    PGresult *res = kwp_run(st, PGS_MAILBOX_UPDATE, &p, "change the mailbox", state, err);
    if (!res)
        return mailbox_refused(state, m, err);
    if (kwp_changed(res) == 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such mailbox");
    struct kwp_params q = {0};
    kwp_int(&q, m->id);
    if (!m->smtp_url) /* it no longer sends: as when it is stopped */
        return kwp_exec(st, PGS_MAIL_SENDER_STOP, &q, "stop the mailbox's sender", err);
    char url[1024];
    if (sender_url(m, url, err) != KW_OK)
        return err->code;
    kwp_text(&q, url);
    res = kwp_run(st, PGS_MAIL_SENDER_SET, &q, "change the mailbox's sender", NULL, err);
    if (!res)
        return err->code;
    return kwp_changed(res) ? KW_OK : sender_add(st, m->id, m, err);
}

/* Replace what a manager may edit of mailbox m->id, in a transaction or a
 * savepoint of its own: a refused change (a name in use) leaves the
 * caller's transaction usable. */
enum kw_code kw_store_mailbox_update(struct kw_store *st, const struct kw_mailbox *m,
                                     struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, mailbox_update(st, m, err), err);
}

enum kw_code kw_store_mailbox_fetched(struct kw_store *st, int64_t id, int64_t at,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, at);
    return kwp_exec(st, PGS_MAILBOX_FETCHED, &p, "store when the mailbox was fetched", err);
}

static enum kw_code mailbox_stop(struct kw_store *st, int64_t id, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, PGS_MAILBOX_STOP, &p, "stop the mailbox", NULL, err);
    if (!res)
        return err->code;
    if (kwp_changed(res) == 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such mailbox");
    /* its mail not sent yet stays queued, sent nowhere */
    return kwp_exec(st, PGS_MAIL_SENDER_STOP, &p, "stop the mailbox's sender", err);
}

enum kw_code kw_store_mailbox_deactivate(struct kw_store *st, int64_t id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, mailbox_stop(st, id, err), err);
}

enum kw_code kw_store_mailbox_password(struct kw_store *st, int64_t id, const char *password,
                                       struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_text(&p, password);
    PGresult *res =
        kwp_run(st, PGS_MAILBOX_PASSWORD, &p, "store the mailbox's password", NULL, err);
    if (!res)
        return err->code;
    return kwp_changed(res) ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such mailbox");
}

enum kw_code kw_store_mailbox_cursor(struct kw_store *st, int64_t id, int64_t uidvalidity,
                                     int64_t last_uid, const char *last_error, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, uidvalidity);
    kwp_int(&p, last_uid);
    kwp_text(&p, last_error);
    return kwp_exec(st, PGS_MAILBOX_CURSOR, &p, "store where the mailbox stands", err);
}

enum kw_code kw_store_mail_seen(struct kw_store *st, int64_t mailbox, const char *message_id,
                                bool *seen, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, mailbox);
    kwp_text(&p, message_id);
    PGresult *res = kwp_run(st, PGS_MAIL_SEEN, &p, "read the mails", NULL, err);
    if (!res)
        return err->code;
    *seen = PQntuples(res) > 0;
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_mail_put(struct kw_store *st, int64_t mailbox, const char *message_id,
                               int64_t uid, const char *sender, int64_t ticket, const char *outcome,
                               int64_t at, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, mailbox);
    kwp_text(&p, message_id);
    kwp_int(&p, uid);
    kwp_text(&p, sender);
    kwp_int(&p, ticket);
    kwp_text(&p, outcome);
    kwp_int(&p, at);
    return kwp_exec(st, PGS_MAIL_PUT, &p, "record the mail", err);
}

enum kw_code kw_store_mail_count(struct kw_store *st, int64_t mailbox, const char *sender,
                                 int64_t since, int64_t *n, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, mailbox);
    kwp_text(&p, sender);
    kwp_int(&p, since);
    PGresult *res = kwp_run(st, PGS_MAIL_COUNT, &p, "count the sender's mails", NULL, err);
    if (!res)
        return err->code;
    *n = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_mail_ticket(struct kw_store *st, const char *message_id, int64_t *ticket,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, message_id);
    PGresult *res = kwp_run(st, PGS_MAIL_ID_GET, &p, "read message ids", NULL, err);
    if (!res)
        return err->code;
    *ticket = PQntuples(res) ? kwp_col_int(res, 0, 0) : 0;
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_mail_id_put(struct kw_store *st, const char *message_id, int64_t ticket,
                                  struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_text(&p, message_id);
    kwp_int(&p, ticket);
    return kwp_exec(st, PGS_MAIL_ID_PUT, &p, "record the message id", err);
}

enum kw_code kw_store_mail_thread(struct kw_store *st, int64_t ticket, struct kw_mail_thread *out,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *out = (struct kw_mail_thread){0};
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res = kwp_run(st, PGS_MAIL_THREAD, &p, "read the ticket's mail", NULL, err);
    if (!res)
        return err->code;
    if (PQntuples(res)) {
        out->mailbox_id = kwp_col_int(res, 0, 0);
        out->endpoint_id = kwp_col_int(res, 0, 1);
        out->ack = col_bool(res, 0, 2);
        const char *from = kwp_col_text(res, 0, 3), *id = kwp_col_text(res, 0, 4);
        snprintf(out->reply_from, sizeof(out->reply_from), "%s", from ? from : "");
        if (id && strlen(id) < sizeof(out->last_id) && strncmp(id, "uid:", 4) != 0)
            snprintf(out->last_id, sizeof(out->last_id), "%s", id);
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_mail_readers(struct kw_store *st, int64_t ticket,
                                   bool (*fn)(const struct kw_mail_reader *r, void *ctx), void *ctx,
                                   struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res =
        kwp_run(st, PGS_MAIL_READERS, &p, "read who the ticket's mail goes to", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_mail_reader m = {
            .user_id = kwp_col_int(res, r, 0),
            .address = kwp_col_text(res, r, 1),
            .name = kwp_col_text(res, r, 2),
            .lang = kwp_col_text(res, r, 3),
            .tz = kwp_col_text(res, r, 4),
        };
        if (!fn(&m, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_mail_queue(struct kw_store *st, int64_t endpoint_id, int64_t ticket,
                                 const char *kind, const char *payload, const char *key,
                                 int64_t now, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, endpoint_id);
    kwp_text(&p, kind);
    kwp_int(&p, ticket);
    kwp_text(&p, payload);
    kwp_text(&p, key);
    kwp_int(&p, now);
    return kwp_exec(st, PGS_MAIL_QUEUE, &p, "queue the mail", err);
}
