// SPDX-License-Identifier: MIT
/* Links between tickets, the copies of attachments a merge makes, and
 * canned replies (store.h; migration 029). One row per linked pair: who
 * may link what, and the events on both tickets, are app/links.c's. */
#include "sqlite_int.h"

#include <string.h>

enum stmt {
    S_LINK_ADD,
    S_LINK_KIND,
    S_LINK_REMOVE,
    S_LINKS,
    S_ATT_COPY,
    S_ATT_COPY_BLOB,
    S_CAN_INSERT,
    S_CAN_UPDATE,
    S_CAN_DELETE,
    S_CAN_GET,
    S_CAN_LIST,
    S_COUNT
};

#define CANNED_COLS                                                                                \
    "c.id, c.team_id, c.created_by, c.created_at, c.updated_at, c.name, c.body_zh, c.body_en,"     \
    " t.name FROM canned_replies c JOIN teams t ON t.id = c.team_id"

static const char *const sql[S_COUNT] = {
    [S_LINK_ADD] = "INSERT INTO ticket_links(from_id, to_id, kind, created_by, at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_LINK_KIND] = "SELECT kind FROM ticket_links WHERE (from_id = ?1 AND to_id = ?2)"
                    " OR (from_id = ?2 AND to_id = ?1)",
    [S_LINK_REMOVE] = "DELETE FROM ticket_links WHERE kind <> 'merged'"
                      " AND ((from_id = ?1 AND to_id = ?2) OR (from_id = ?2 AND to_id = ?1))",
    [S_LINKS] = "SELECT l.other, t.org_id, l.created_by, l.at, l.link, t.title, t.state FROM"
                " (SELECT to_id AS other, created_by, at, CASE kind WHEN 'duplicate'"
                " THEN 'duplicate_of' WHEN 'merged' THEN 'merged_into' ELSE kind END AS link"
                " FROM ticket_links WHERE from_id = ?1"
                " UNION ALL SELECT from_id, created_by, at, CASE kind WHEN 'duplicate'"
                " THEN 'duplicated_by' WHEN 'merged' THEN 'merged_from' ELSE kind END"
                " FROM ticket_links WHERE to_id = ?1) l"
                " JOIN tickets t ON t.id = l.other ORDER BY l.other",
    [S_ATT_COPY] = "INSERT INTO attachments(ticket_id, name, content_type, declared_type, size,"
                   " sha256, internal, comment_seq, created_by, created_at)"
                   " SELECT ?2, name, content_type, declared_type, size, sha256, internal,"
                   " nullif(?3, 0), ?4, ?5 FROM attachments WHERE id = ?1",
    [S_ATT_COPY_BLOB] = "INSERT INTO attachment_blobs(attachment_id, data)"
                        " SELECT ?2, data FROM attachment_blobs WHERE attachment_id = ?1",
    [S_CAN_INSERT] = "INSERT INTO canned_replies(team_id, name, body_zh, body_en, created_by,"
                     " created_at, updated_at) VALUES (?2, ?3, ?4, ?5, ?1, ?6, ?6)",
    [S_CAN_UPDATE] = "UPDATE canned_replies SET team_id = ?2, name = ?3, body_zh = ?4,"
                     " body_en = ?5, updated_at = ?6 WHERE id = ?1",
    [S_CAN_DELETE] = "DELETE FROM canned_replies WHERE id = ?1",
    [S_CAN_GET] = "SELECT " CANNED_COLS " WHERE c.id = ?1",
    [S_CAN_LIST] = "SELECT " CANNED_COLS " WHERE ?1 = 0 OR c.team_id = ?1"
                   " ORDER BY t.name, c.team_id, c.name, c.id",
};

const struct kws_catalogue kws_links_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_LINKS, (int)s);
}

/* ---- links ---- */

enum kw_code kw_store_link_add(struct kw_store *st, int64_t from, int64_t to, const char *kind,
                               int64_t by, int64_t at, struct kw_err *err)
{
    sqlite3_stmt *k = prep(st, S_LINK_KIND);
    sqlite3_bind_int64(k, 1, from);
    sqlite3_bind_int64(k, 2, to);
    int rc = sqlite3_step(k);
    sqlite3_reset(k);
    if (rc == SQLITE_ROW)
        return kw_err_set(err, KW_CONFLICT, "/ticket", "ticket: #%lld and #%lld are linked already",
                          (long long)from, (long long)to);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "read link");
    bool related = kind && strcmp(kind, "related") == 0;
    sqlite3_stmt *x = prep(st, S_LINK_ADD);
    sqlite3_bind_int64(x, 1, related && to < from ? to : from);
    sqlite3_bind_int64(x, 2, related && to < from ? from : to);
    bind_text(x, 3, kind);
    sqlite3_bind_int64(x, 4, by);
    sqlite3_bind_int64(x, 5, at);
    rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/ticket", "ticket: no such ticket");
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_INVALID, "/ticket", "ticket: cannot link #%lld as %s to #%lld",
                          (long long)from, kind ? kind : "?", (long long)to);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "add link");
    return KW_OK;
}

enum kw_code kw_store_link_remove(struct kw_store *st, int64_t a, int64_t b, bool *removed,
                                  struct kw_err *err)
{
    *removed = false;
    sqlite3_stmt *k = prep(st, S_LINK_KIND);
    sqlite3_bind_int64(k, 1, a);
    sqlite3_bind_int64(k, 2, b);
    int rc = sqlite3_step(k);
    bool merged = rc == SQLITE_ROW && strcmp(column_text(k, 0), "merged") == 0;
    sqlite3_reset(k);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kws_fail(st, err, "read link");
    if (merged)
        return kw_err_set(err, KW_CONFLICT, "/ticket",
                          "ticket: #%lld and #%lld were merged, and a merge is never undone",
                          (long long)a, (long long)b);
    sqlite3_stmt *x = prep(st, S_LINK_REMOVE);
    sqlite3_bind_int64(x, 1, a);
    sqlite3_bind_int64(x, 2, b);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "remove link");
    *removed = sqlite3_changes(st->db) > 0;
    return KW_OK;
}

static void read_link(sqlite3_stmt *x, struct kw_link_row *l)
{
    l->ticket_id = sqlite3_column_int64(x, 0);
    l->org_id = sqlite3_column_int64(x, 1);
    l->created_by = sqlite3_column_int64(x, 2);
    l->at = sqlite3_column_int64(x, 3);
    l->link = column_text(x, 4);
    l->title = column_text(x, 5);
    l->state = column_text(x, 6);
}
KWS_ROW_MAPPER(read_link, struct kw_link_row)

enum kw_code kw_store_links(struct kw_store *st, int64_t ticket,
                            bool (*fn)(const struct kw_link_row *l, void *ctx), void *ctx,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_LINKS);
    sqlite3_bind_int64(x, 1, ticket);
    return EACH_ROW(st, x, read_link, fn, ctx, "list links", err);
}

enum kw_code kw_store_attachment_copy(struct kw_store *st, int64_t id, int64_t ticket,
                                      int64_t comment_seq, int64_t by, int64_t at, int64_t *new_id,
                                      struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ATT_COPY);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, ticket);
    sqlite3_bind_int64(x, 3, comment_seq);
    sqlite3_bind_int64(x, 4, by);
    sqlite3_bind_int64(x, 5, at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "copy attachment");
    if (sqlite3_changes(st->db) == 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "no attachment %lld", (long long)id);
    *new_id = sqlite3_last_insert_rowid(st->db);
    sqlite3_stmt *b = prep(st, S_ATT_COPY_BLOB);
    sqlite3_bind_int64(b, 1, id);
    sqlite3_bind_int64(b, 2, *new_id);
    rc = sqlite3_step(b);
    sqlite3_reset(b);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "copy attachment bytes");
}

/* ---- canned replies ---- */

static void read_canned(sqlite3_stmt *x, struct kw_canned *c)
{
    c->id = sqlite3_column_int64(x, 0);
    c->team_id = sqlite3_column_int64(x, 1);
    c->created_by = sqlite3_column_int64(x, 2);
    c->created_at = sqlite3_column_int64(x, 3);
    c->updated_at = sqlite3_column_int64(x, 4);
    c->name = column_text(x, 5);
    c->body_zh = column_text(x, 6);
    c->body_en = column_text(x, 7);
    c->team = column_text(x, 8);
}
KWS_ROW_MAPPER(read_canned, struct kw_canned)

/* Bind ?2 .. ?6 of S_CAN_INSERT / S_CAN_UPDATE and run it. */
static enum kw_code write_canned(struct kw_store *st, sqlite3_stmt *x, const struct kw_canned *c,
                                 int64_t at, struct kw_err *err)
{
    sqlite3_bind_int64(x, 2, c->team_id);
    bind_text(x, 3, c->name);
    bind_text(x, 4, c->body_zh);
    bind_text(x, 5, c->body_en);
    sqlite3_bind_int64(x, 6, at);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/name",
                          "name: the team already has a canned reply called %.80s", c->name);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                          (long long)c->team_id);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_INVALID, "", "a canned reply needs a name and both texts");
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "write canned reply");
}

enum kw_code kw_store_canned_insert(struct kw_store *st, const struct kw_canned *c, int64_t *id,
                                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CAN_INSERT);
    sqlite3_bind_int64(x, 1, c->created_by);
    if (write_canned(st, x, c, c->created_at, err) != KW_OK)
        return err->code;
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_canned_update(struct kw_store *st, const struct kw_canned *c,
                                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CAN_UPDATE);
    sqlite3_bind_int64(x, 1, c->id);
    if (write_canned(st, x, c, c->updated_at, err) != KW_OK)
        return err->code;
    return sqlite3_changes(st->db) > 0
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no canned reply %lld", (long long)c->id);
}

enum kw_code kw_store_canned_delete(struct kw_store *st, int64_t id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CAN_DELETE);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "delete canned reply");
    return sqlite3_changes(st->db) > 0
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no canned reply %lld", (long long)id);
}

enum kw_code kw_store_canned_get(struct kw_store *st, int64_t id, struct kw_canned *out,
                                 struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CAN_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        read_canned(x, out); /* the row's strings live until the next reset */
        return KW_OK;
    }
    sqlite3_reset(x);
    return rc == SQLITE_DONE
               ? kw_err_set(err, KW_NOT_FOUND, "", "no canned reply %lld", (long long)id)
               : kws_fail(st, err, "read canned reply");
}

enum kw_code kw_store_canned_list(struct kw_store *st, int64_t team,
                                  bool (*fn)(const struct kw_canned *c, void *ctx), void *ctx,
                                  struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CAN_LIST);
    sqlite3_bind_int64(x, 1, team);
    return EACH_ROW(st, x, read_canned, fn, ctx, "list canned replies", err);
}
