// SPDX-License-Identifier: MIT
/* E-mail in: mailboxes, the mails each took (once, by Message-ID), and the
 * message ids of tickets that replies are threaded by. */
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
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_INSERT] = "INSERT INTO mailboxes(name, url, username, password, folder, acting_user, org_id,"
                 " category, level, reply_from, unknown, max_bytes, per_sender_hour, poll_s,"
                 " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                 " ?15)",
    [S_LIST] = "SELECT id, name, url, username, password, folder, acting_user, org_id, category,"
               " level, reply_from, unknown, max_bytes, per_sender_hour, poll_s, uidvalidity,"
               " last_uid, last_error, active, created_at FROM mailboxes"
               " WHERE (?1 = 0 OR active = 1) ORDER BY id",
    [S_STOP] = "UPDATE mailboxes SET active = 0 WHERE id = ?1",
    [S_CURSOR] =
        "UPDATE mailboxes SET uidvalidity = ?2, last_uid = ?3, last_error = ?4 WHERE id = ?1",
    [S_SEEN] = "SELECT 1 FROM mails WHERE mailbox_id = ?1 AND message_id = ?2",
    [S_PUT] = ("INSERT INTO mails(mailbox_id, message_id, uid, sender, ticket_id, outcome, at)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
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
    };
}
KWS_ROW_MAPPER(read_mailbox, struct kw_mailbox)

enum kw_code kw_store_mailbox_insert(struct kw_store *st, const struct kw_mailbox *m, int64_t *id,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_INSERT);
    bind_text(x, 1, m->name);
    bind_text(x, 2, m->url);
    bind_text(x, 3, m->username);
    bind_text(x, 4, m->password);
    bind_text(x, 5, m->folder ? m->folder : "INBOX");
    sqlite3_bind_int64(x, 6, m->acting_user);
    sqlite3_bind_int64(x, 7, m->org_id);
    bind_text(x, 8, m->category);
    bind_text(x, 9, m->level);
    bind_text(x, 10, m->reply_from);
    bind_text(x, 11, m->unknown ? m->unknown : "triage");
    sqlite3_bind_int64(x, 12, m->max_bytes);
    sqlite3_bind_int64(x, 13, m->per_sender_hour);
    sqlite3_bind_int64(x, 14, m->poll_s);
    sqlite3_bind_int64(x, 15, m->created_at);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(st->db);
        return KW_OK;
    }
    if (ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/name", "name: a mailbox named \"%s\" exists",
                          m->name);
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_INVALID, "/org_id", "org_id: no such organisation");
    return kws_fail(st, err, "store the mailbox");
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
    return sqlite3_changes(st->db) ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no such mailbox");
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
