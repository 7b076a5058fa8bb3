// SPDX-License-Identifier: MIT
/* E-mail in: mailboxes, the mails each took (once, by Message-ID), and the
 * message ids of tickets that replies are threaded by. */
#include <stdio.h>
#include <string.h>

#include "sqlite_int.h"

enum stmt {
    S_INSERT,
    S_LIST,
    S_STOP,
    S_CURSOR,
    S_SEEN,
    S_PUT,
    S_COUNT_FROM,
    S_ID_GET,
    S_ID_PUT,
    S_SENDER_ADD,
    S_SENDER_STOP,
    S_PASSWORD,
    S_THREAD,
    S_READERS,
    S_QUEUE,
    S_UPDATE,
    S_SENDER_SET,
    S_FETCHED,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    /* ?1: the acting user (insert) or the id (update); ?2-?17 the settings
     * (bind_settings) */
    [S_INSERT] = "INSERT INTO mailboxes(acting_user, name, url, username, password, folder, org_id,"
                 " category, level, reply_from, unknown, max_bytes, per_sender_hour, poll_s,"
                 " smtp_url, ack, team_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                 " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    [S_UPDATE] = "UPDATE mailboxes SET name = ?2, url = ?3, username = ?4, password = ?5,"
                 " folder = ?6, org_id = ?7, category = ?8, level = ?9, reply_from = ?10,"
                 " unknown = ?11, max_bytes = ?12, per_sender_hour = ?13, poll_s = ?14,"
                 " smtp_url = ?15, ack = ?16, team_id = ?17 WHERE id = ?1",
    /* the active sender of a mailbox takes its new SMTP URL */
    [S_SENDER_SET] = "UPDATE endpoints SET url = ?2 WHERE mailbox_id = ?1 AND active",
    [S_FETCHED] = "UPDATE mailboxes SET fetched_at = ?2 WHERE id = ?1",
    [S_LIST] = "SELECT id, name, url, username, password, folder, acting_user, org_id, category,"
               " level, reply_from, unknown, max_bytes, per_sender_hour, poll_s, uidvalidity,"
               " last_uid, last_error, active, created_at, smtp_url, ack,"
               " (SELECT count(*) FROM mails f WHERE f.mailbox_id = mailboxes.id"
               " AND f.outcome LIKE 'failed:%'), (SELECT f.uid FROM mails f"
               " WHERE f.mailbox_id = mailboxes.id AND f.outcome LIKE 'failed:%'"
               " ORDER BY f.at DESC, f.uid DESC LIMIT 1), (SELECT f.outcome FROM mails f"
               " WHERE f.mailbox_id = mailboxes.id AND f.outcome LIKE 'failed:%'"
               " ORDER BY f.at DESC, f.uid DESC LIMIT 1), team_id, fetched_at,"
               " (SELECT count(*) FROM mails f WHERE f.mailbox_id = mailboxes.id),"
               " (SELECT count(*) FROM mails f WHERE f.mailbox_id = mailboxes.id"
               " AND f.outcome = 'created') FROM mailboxes"
               " WHERE (?1 = 0 OR active = 1) ORDER BY id",
    [S_STOP] = "UPDATE mailboxes SET active = 0 WHERE id = ?1",
    [S_PASSWORD] = "UPDATE mailboxes SET password = ?2 WHERE id = ?1",
    /* a sending mailbox's endpoint: its mail only (events), never listed */
    [S_SENDER_ADD] = "INSERT INTO endpoints(name, kind, url, events, mailbox_id, created_at)"
                     " VALUES ('mailbox ' || ?1, 'email', ?2, '[\"mail_reply\",\"mail_ack\"]',"
                     " ?1, ?3)",
    [S_SENDER_STOP] = "UPDATE endpoints SET active = 0 WHERE mailbox_id = ?1",
    /* the newest mail taken onto the ticket, through a mailbox that sends */
    [S_THREAD] = "SELECT b.id, coalesce(e.id, 0), b.ack, b.reply_from, m.message_id"
                 " FROM mails m JOIN mailboxes b ON b.id = m.mailbox_id"
                 " LEFT JOIN endpoints e ON e.mailbox_id = b.id AND e.active"
                 " WHERE m.ticket_id = ?1 AND m.outcome IN ('created', 'comment', 'note')"
                 " ORDER BY (e.id IS NOT NULL) DESC, m.at DESC, m.uid DESC LIMIT 1",
    [S_READERS] = "SELECT u.id, lower(u.email), u.name, u.lang, u.tz FROM tickets t"
                  " JOIN users u ON u.id = t.requester_id WHERE t.id = ?1"
                  " AND u.deactivated_at IS NULL"
                  " UNION SELECT coalesce(u.id, 0), m.sender, u.name, u.lang, u.tz FROM mails m"
                  " LEFT JOIN users u ON lower(u.email) = m.sender WHERE m.ticket_id = ?1"
                  " AND m.sender IS NOT NULL AND m.outcome IN ('created', 'comment')"
                  " AND (u.id IS NULL OR (u.role = 'customer' AND u.deactivated_at IS NULL))"
                  /* customers following it: of its organisation only, active */
                  " UNION SELECT u.id, lower(u.email), u.name, u.lang, u.tz FROM watchers w"
                  " JOIN tickets t ON t.id = w.ticket_id JOIN users u ON u.id = w.user_id"
                  " WHERE w.ticket_id = ?1 AND u.role = 'customer' AND u.org_id = t.org_id"
                  " AND u.deactivated_at IS NULL"
                  " ORDER BY 2",
    [S_QUEUE] = "INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key, next_at,"
                " created_at) SELECT id, ?2, ?3, ?4, ?5, ?6, ?6 FROM endpoints WHERE id = ?1"
                " AND active AND mailbox_id IS NOT NULL ON CONFLICT DO NOTHING",
    [S_CURSOR] =
        "UPDATE mailboxes SET uidvalidity = ?2, last_uid = ?3, last_error = ?4 WHERE id = ?1",
    /* a mail refused once is taken when it comes again (put back after the
     * mailbox or the commitment was fixed) */
    [S_SEEN] = "SELECT 1 FROM mails WHERE mailbox_id = ?1 AND message_id = ?2"
               " AND outcome NOT LIKE 'failed:%'",
    [S_PUT] = ("INSERT INTO mails(mailbox_id, message_id, uid, sender, ticket_id, outcome, at)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(mailbox_id, message_id) DO"
               " UPDATE SET uid = excluded.uid, sender = excluded.sender,"
               " ticket_id = excluded.ticket_id, outcome = excluded.outcome, at = excluded.at"
               " WHERE mails.outcome LIKE 'failed:%'"),
    [S_COUNT_FROM] =
        "SELECT count(*) FROM mails WHERE mailbox_id = ?1 AND sender = ?2 AND at >= ?3",
    [S_ID_GET] = "SELECT ticket_id FROM mail_ids WHERE message_id = ?1",
    [S_ID_PUT] = "INSERT OR IGNORE INTO mail_ids(message_id, ticket_id) VALUES (?1, ?2)",
};

const struct kws_catalogue kws_mail_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_MAIL, (int)s);
}

static void read_mailbox(sqlite3_stmt *x, struct kw_mailbox *out)
{
    *out = (struct kw_mailbox){
        .id = sqlite3_column_int64(x, 0),
        .name = column_text(x, 1),
        .url = column_text(x, 2),
        .username = column_text(x, 3),
        .password = column_text(x, 4),
        .folder = column_text(x, 5),
        .acting_user = sqlite3_column_int64(x, 6),
        .org_id = sqlite3_column_int64(x, 7),
        .category = column_text(x, 8),
        .level = column_text(x, 9),
        .reply_from = column_text(x, 10),
        .unknown = column_text(x, 11),
        .max_bytes = sqlite3_column_int64(x, 12),
        .per_sender_hour = sqlite3_column_int64(x, 13),
        .poll_s = sqlite3_column_int64(x, 14),
        .uidvalidity = sqlite3_column_int64(x, 15),
        .last_uid = sqlite3_column_int64(x, 16),
        .last_error = column_text(x, 17),
        .active = sqlite3_column_int(x, 18) != 0,
        .created_at = sqlite3_column_int64(x, 19),
        .smtp_url = column_text(x, 20),
        .ack = sqlite3_column_int(x, 21) != 0,
        .failed = sqlite3_column_int64(x, 22),
        .last_failed_uid = sqlite3_column_int64(x, 23),
        .last_failed = column_text(x, 24),
        .team_id = sqlite3_column_int64(x, 25),
        .fetched_at = column_instant(x, 26),
        .taken = sqlite3_column_int64(x, 27),
        .created = sqlite3_column_int64(x, 28),
    };
}
KWS_ROW_MAPPER(read_mailbox, struct kw_mailbox)

/* The endpoint a sending mailbox's mail waits in the outbox for: its SMTP
 * URL with from= its reply_from; the login is read from the mailbox when
 * the mail is sent (outbox.c). */
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
    sqlite3_stmt *x = prep(st, S_SENDER_ADD);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, url);
    sqlite3_bind_int64(x, 3, m->created_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "store the mailbox's sender");
}

/* The settings of m, as S_INSERT and S_UPDATE number them (?2-?17). */
static void bind_settings(sqlite3_stmt *x, const struct kw_mailbox *m)
{
    bind_text(x, 2, m->name);
    bind_text(x, 3, m->url);
    bind_text(x, 4, m->username);
    bind_text(x, 5, m->password);
    bind_text(x, 6, m->folder ? m->folder : "INBOX");
    sqlite3_bind_int64(x, 7, m->org_id);
    bind_text(x, 8, m->category);
    bind_text(x, 9, m->level);
    bind_text(x, 10, m->reply_from);
    bind_text(x, 11, m->unknown ? m->unknown : "triage");
    sqlite3_bind_int64(x, 12, m->max_bytes);
    sqlite3_bind_int64(x, 13, m->per_sender_hour);
    sqlite3_bind_int64(x, 14, m->poll_s);
    bind_text(x, 15, m->smtp_url);
    sqlite3_bind_int(x, 16, m->ack);
    if (m->team_id > 0)
        sqlite3_bind_int64(x, 17, m->team_id);
    else
        sqlite3_bind_null(x, 17);
}

enum kw_code kw_store_mailbox_insert(struct kw_store *st, const struct kw_mailbox *m, int64_t *id,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_INSERT);
    sqlite3_bind_int64(x, 1, m->acting_user);
    bind_settings(x, m);
    sqlite3_bind_int64(x, 18, m->created_at);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(st->db);
        return m->smtp_url ? sender_add(st, *id, m, err) : KW_OK;
    }
    if (ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/name", "name: a mailbox named \"%s\" exists",
                          m->name);
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_INVALID, "/org_id", "org_id or team_id: no such one");
    return kws_fail(st, err, "store the mailbox");
}

enum kw_code kw_store_mailbox_update(struct kw_store *st, const struct kw_mailbox *m,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_UPDATE);
    sqlite3_bind_int64(x, 1, m->id);
    bind_settings(x, m);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE) {
        if (ext == SQLITE_CONSTRAINT_UNIQUE)
            return kw_err_set(err, KW_CONFLICT, "/name", "name: a mailbox named \"%s\" exists",
                              m->name);
        if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
            return kw_err_set(err, KW_INVALID, "/org_id", "org_id or team_id: no such one");
        return kws_fail(st, err, "change the mailbox");
    }
    if (!sqlite3_changes(st->db))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such mailbox");
    if (!m->smtp_url) { /* it no longer sends: as when it is stopped */
        x = prep(st, S_SENDER_STOP);
        sqlite3_bind_int64(x, 1, m->id);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
        return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "stop the mailbox's sender");
    }
    char url[1024];
    if (sender_url(m, url, err) != KW_OK)
        return err->code;
    x = prep(st, S_SENDER_SET);
    sqlite3_bind_int64(x, 1, m->id);
    bind_text(x, 2, url);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "change the mailbox's sender");
    return sqlite3_changes(st->db) ? KW_OK : sender_add(st, m->id, m, err);
}

enum kw_code kw_store_mailbox_fetched(struct kw_store *st, int64_t id, int64_t at,
                                      struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_FETCHED);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "store when the mailbox was fetched");
}

enum kw_code kw_store_mailboxes(struct kw_store *st, bool active_only,
                                bool (*fn)(const struct kw_mailbox *m, void *ctx), void *ctx,
                                struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LIST);
    sqlite3_bind_int(x, 1, active_only);
    return EACH_ROW(st, x, read_mailbox, fn, ctx, "read mailboxes", err);
}

enum kw_code kw_store_mailbox_deactivate(struct kw_store *st, int64_t id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_STOP);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "stop the mailbox");
    if (!sqlite3_changes(st->db))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such mailbox");
    x = prep(st, S_SENDER_STOP); /* its mail not sent yet stays queued, sent nowhere */
    sqlite3_bind_int64(x, 1, id);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "stop the mailbox's sender");
}

enum kw_code kw_store_mailbox_cursor(struct kw_store *st, int64_t id, int64_t uidvalidity,
                                     int64_t last_uid, const char *last_error, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CURSOR);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, uidvalidity);
    sqlite3_bind_int64(x, 3, last_uid);
    bind_text(x, 4, last_error);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "store where the mailbox stands");
}

enum kw_code kw_store_mail_seen(struct kw_store *st, int64_t mailbox, const char *message_id,
                                bool *seen, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_SEEN);
    sqlite3_bind_int64(x, 1, mailbox);
    bind_text(x, 2, message_id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    *seen = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read the mails");
}

enum kw_code kw_store_mail_put(struct kw_store *st, int64_t mailbox, const char *message_id,
                               int64_t uid, const char *sender, int64_t ticket, const char *outcome,
                               int64_t at, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_PUT);
    sqlite3_bind_int64(x, 1, mailbox);
    bind_text(x, 2, message_id);
    sqlite3_bind_int64(x, 3, uid);
    bind_text(x, 4, sender);
    if (ticket > 0)
        sqlite3_bind_int64(x, 5, ticket);
    else
        sqlite3_bind_null(x, 5);
    bind_text(x, 6, outcome);
    sqlite3_bind_int64(x, 7, at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "record the mail");
}

enum kw_code kw_store_mail_count(struct kw_store *st, int64_t mailbox, const char *sender,
                                 int64_t since, int64_t *n, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COUNT_FROM);
    sqlite3_bind_int64(x, 1, mailbox);
    bind_text(x, 2, sender);
    sqlite3_bind_int64(x, 3, since);
    int rc = sqlite3_step(x);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count the sender's mails");
}

enum kw_code kw_store_mail_ticket(struct kw_store *st, const char *message_id, int64_t *ticket,
                                  struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ID_GET);
    bind_text(x, 1, message_id);
    int rc = sqlite3_step(x);
    *ticket = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read message ids");
}

enum kw_code kw_store_mail_id_put(struct kw_store *st, const char *message_id, int64_t ticket,
                                  struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ID_PUT);
    bind_text(x, 1, message_id);
    sqlite3_bind_int64(x, 2, ticket);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "record the message id");
}

enum kw_code kw_store_mail_thread(struct kw_store *st, int64_t ticket, struct kw_mail_thread *out,
                                  struct kw_err *err)
{
    *out = (struct kw_mail_thread){0};
    sqlite3_stmt *x = prep(st, S_THREAD);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        out->mailbox_id = sqlite3_column_int64(x, 0);
        out->endpoint_id = sqlite3_column_int64(x, 1);
        out->ack = sqlite3_column_int(x, 2) != 0;
        const char *from = column_text(x, 3), *id = column_text(x, 4);
        snprintf(out->reply_from, sizeof(out->reply_from), "%s", from ? from : "");
        if (id && strlen(id) < sizeof(out->last_id) && strncmp(id, "uid:", 4) != 0)
            snprintf(out->last_id, sizeof(out->last_id), "%s", id);
    }
    sqlite3_reset(x);
    if (rc == SQLITE_ROW)
        return KW_OK;
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read the ticket's mail");
}

static void read_reader(sqlite3_stmt *x, struct kw_mail_reader *out)
{
    *out = (struct kw_mail_reader){
        .user_id = sqlite3_column_int64(x, 0),
        .address = column_text(x, 1),
        .name = column_text(x, 2),
        .lang = column_text(x, 3),
        .tz = column_text(x, 4),
    };
}
KWS_ROW_MAPPER(read_reader, struct kw_mail_reader)

enum kw_code kw_store_mail_readers(struct kw_store *st, int64_t ticket,
                                   bool (*fn)(const struct kw_mail_reader *r, void *ctx), void *ctx,
                                   struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_READERS);
    sqlite3_bind_int64(x, 1, ticket);
    return EACH_ROW(st, x, read_reader, fn, ctx, "read who the ticket's mail goes to", err);
}

enum kw_code kw_store_mail_queue(struct kw_store *st, int64_t endpoint_id, int64_t ticket,
                                 const char *kind, const char *payload, const char *key,
                                 int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_QUEUE);
    sqlite3_bind_int64(x, 1, endpoint_id);
    bind_text(x, 2, kind);
    sqlite3_bind_int64(x, 3, ticket);
    bind_text(x, 4, payload);
    bind_text(x, 5, key);
    sqlite3_bind_int64(x, 6, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "queue the mail");
}

enum kw_code kw_store_mailbox_password(struct kw_store *st, int64_t id, const char *password,
                                       struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_PASSWORD);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, password);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "store the mailbox's password");
    return sqlite3_changes(st->db) ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such mailbox");
}
