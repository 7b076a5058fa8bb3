// SPDX-License-Identifier: MIT
/* Links between tickets, the copies of attachments a merge makes, and
 * canned replies on PostgreSQL (store.h; migration 9), as the SQLite
 * backend's links.c: the same rows, refusals and orders. Each write runs in
 * a transaction of its own or a savepoint in the caller's, so a refused one
 * (an unknown ticket or team, a taken name: PostgreSQL ends the whole
 * transaction on an error) leaves the caller's unit usable. */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stmt {
    S_LINK_ADD,
    S_LINK_KIND,
    S_LINK_REMOVE,
    S_LINKS,
    S_ATT_COPY,
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
                   " VALUES ($1, $2, $3, $4, $5)",
    [S_LINK_KIND] = "SELECT kind FROM ticket_links WHERE (from_id = $1 AND to_id = $2)"
                    " OR (from_id = $2 AND to_id = $1)",
    [S_LINK_REMOVE] = "DELETE FROM ticket_links WHERE kind <> 'merged'"
                      " AND ((from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1))",
    [S_LINKS] = "SELECT l.other, t.org_id, l.created_by, l.at, l.link, t.title, t.state FROM"
                " (SELECT to_id AS other, created_by, at, CASE kind WHEN 'duplicate'"
                " THEN 'duplicate_of' WHEN 'merged' THEN 'merged_into' ELSE kind END AS link"
                " FROM ticket_links WHERE from_id = $1"
                " UNION ALL SELECT from_id, created_by, at, CASE kind WHEN 'duplicate'"
                " THEN 'duplicated_by' WHEN 'merged' THEN 'merged_from' ELSE kind END"
                " FROM ticket_links WHERE to_id = $1) l"
                " JOIN tickets t ON t.id = l.other ORDER BY l.other",
    /* the row and its bytes in one statement (no row back: no such file) */
    [S_ATT_COPY] = "WITH a AS (INSERT INTO attachments(ticket_id, name, content_type,"
                   " declared_type, size, sha256, internal, comment_seq, created_by, created_at)"
                   " SELECT $2::bigint, name, content_type, declared_type, size, sha256, internal,"
                   " nullif($3::bigint, 0), $4::bigint, $5::bigint FROM attachments"
                   " WHERE id = $1 RETURNING id),"
                   " b AS (INSERT INTO attachment_blobs(attachment_id, data)"
                   " SELECT a.id, d.data FROM a, attachment_blobs d WHERE d.attachment_id = $1)"
                   " SELECT id FROM a",
    [S_CAN_INSERT] = "INSERT INTO canned_replies(team_id, name, body_zh, body_en, created_by,"
                     " created_at, updated_at) VALUES ($2, $3, $4, $5, $1, $6, $6) RETURNING id",
    [S_CAN_UPDATE] = "UPDATE canned_replies SET team_id = $2, name = $3, body_zh = $4,"
                     " body_en = $5, updated_at = $6 WHERE id = $1",
    [S_CAN_DELETE] = "DELETE FROM canned_replies WHERE id = $1",
    [S_CAN_GET] = "SELECT " CANNED_COLS " WHERE c.id = $1",
    /* byte order, as SQLite's BINARY collation sorts */
    [S_CAN_LIST] = "SELECT " CANNED_COLS " WHERE $1 = 0 OR c.team_id = $1"
                   " ORDER BY t.name COLLATE \"C\", c.team_id, c.name COLLATE \"C\", c.id",
};

const struct kwp_catalogue kwp_links_sql = {sql, S_COUNT};

/* Run s; the result, or NULL with err KW_STORE (and *state its SQLSTATE). */
static PGresult *run(struct kw_store *st, enum stmt s, const struct kwp_params *p, const char *what,
                     char state[6], struct kw_err *err)
{
    return kwp_run_part(st, KWP_LINKS, (int)s, p, what, state, err);
}

/* ---- links ---- */

/* The kind of the link between a and b, either way, into kind ("" if
 * none). */
static enum kw_code link_kind(struct kw_store *st, int64_t a, int64_t b, char kind[16],
                              struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, a);
    kwp_int(&p, b);
    PGresult *res = run(st, S_LINK_KIND, &p, "read link", NULL, err);
    if (!res)
        return err->code;
    kind[0] = '\0';
    if (PQntuples(res) > 0)
        snprintf(kind, 16, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_link_add(struct kw_store *st, int64_t from, int64_t to, const char *kind,
                               int64_t by, int64_t at, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    char had[16];
    if (link_kind(st, from, to, had, err) != KW_OK)
        return err->code;
    if (had[0])
        return kw_err_set(err, KW_CONFLICT, "/ticket", "ticket: #%lld and #%lld are linked already",
                          (long long)from, (long long)to);
    bool related = kind && strcmp(kind, "related") == 0;
    struct kwp_params p = {0};
    kwp_int(&p, related && to < from ? to : from);
    kwp_int(&p, related && to < from ? from : to);
    kwp_text(&p, kind);
    kwp_int(&p, by);
    kwp_int(&p, at);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    char state[6] = "";
    PGresult *res = run(st, S_LINK_ADD, &p, "add link", state, err);
    enum kw_code rc = res ? KW_OK : err->code;
    PQclear(res);
    rc = kwp_tx_finish(st, outer, rc, err);
    if (rc == KW_OK)
        return KW_OK;
    if (strcmp(state, "23503") == 0) /* foreign_key_violation */
        return kw_err_set(err, KW_NOT_FOUND, "/ticket", "ticket: no such ticket");
    /* check, not-null or unique (a second merge of one ticket) violations */
    if (strncmp(state, "23", 2) == 0)
        return kw_err_set(err, KW_INVALID, "/ticket", "ticket: cannot link #%lld as %s to #%lld",
                          (long long)from, kind ? kind : "?", (long long)to);
    return rc;
}

enum kw_code kw_store_link_remove(struct kw_store *st, int64_t a, int64_t b, bool *removed,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *removed = false;
    char had[16];
    if (link_kind(st, a, b, had, err) != KW_OK)
        return err->code;
    if (strcmp(had, "merged") == 0)
        return kw_err_set(err, KW_CONFLICT, "/ticket",
                          "ticket: #%lld and #%lld were merged, and a merge is never undone",
                          (long long)a, (long long)b);
    struct kwp_params p = {0};
    kwp_int(&p, a);
    kwp_int(&p, b);
    PGresult *res = run(st, S_LINK_REMOVE, &p, "remove link", NULL, err);
    if (!res)
        return err->code;
    *removed = kwp_changed(res) > 0;
    return KW_OK;
}

enum kw_code kw_store_links(struct kw_store *st, int64_t ticket,
                            bool (*fn)(const struct kw_link_row *l, void *ctx), void *ctx,
                            struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res = run(st, S_LINKS, &p, "list links", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_link_row l = {
            .ticket_id = kwp_col_int(res, r, 0),
            .org_id = kwp_col_int(res, r, 1),
            .created_by = kwp_col_int(res, r, 2),
            .at = kwp_col_int(res, r, 3),
            .link = kwp_col_text(res, r, 4),
            .title = kwp_col_text(res, r, 5),
            .state = kwp_col_text(res, r, 6),
        };
        if (!fn(&l, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_attachment_copy(struct kw_store *st, int64_t id, int64_t ticket,
                                      int64_t comment_seq, int64_t by, int64_t at, int64_t *new_id,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, ticket);
    kwp_int(&p, comment_seq);
    kwp_int(&p, by);
    kwp_int(&p, at);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    char state[6] = "";
    PGresult *res = run(st, S_ATT_COPY, &p, "copy attachment", state, err);
    enum kw_code rc = res ? KW_OK : err->code;
    if (res && PQntuples(res) == 1)
        *new_id = kwp_col_int(res, 0, 0);
    else if (res)
        rc = kw_err_set(err, KW_NOT_FOUND, "", "no attachment %lld", (long long)id);
    PQclear(res);
    rc = kwp_tx_finish(st, outer, rc, err);
    if (rc != KW_OK && strcmp(state, "23503") == 0) /* foreign_key_violation: the ticket */
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    return rc;
}

/* ---- canned replies ---- */

static void read_canned(const PGresult *res, int r, struct kw_canned *c)
{
    *c = (struct kw_canned){
        .id = kwp_col_int(res, r, 0),
        .team_id = kwp_col_int(res, r, 1),
        .created_by = kwp_col_int(res, r, 2),
        .created_at = kwp_col_int(res, r, 3),
        .updated_at = kwp_col_int(res, r, 4),
        .name = kwp_col_text(res, r, 5),
        .body_zh = kwp_col_text(res, r, 6),
        .body_en = kwp_col_text(res, r, 7),
        .team = kwp_col_text(res, r, 8),
    };
}

/* Run S_CAN_INSERT or S_CAN_UPDATE ($1: the author or the id, $2-$6 from
 * c and at) in a transaction or savepoint of its own; *changed: the rows it
 * changed, *id (may be NULL) the row's id back from an insert. */
static enum kw_code write_canned(struct kw_store *st, enum stmt s, int64_t first,
                                 const struct kw_canned *c, int64_t at, int64_t *changed,
                                 int64_t *id, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, first);
    kwp_int(&p, c->team_id);
    kwp_text(&p, c->name);
    kwp_text(&p, c->body_zh);
    kwp_text(&p, c->body_en);
    kwp_int(&p, at);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    char state[6] = "";
    PGresult *res = run(st, s, &p, "write canned reply", state, err);
    enum kw_code rc = res ? KW_OK : err->code;
    if (res) {
        *changed = strtoll(PQcmdTuples(res), NULL, 10);
        if (id && PQntuples(res) == 1)
            *id = kwp_col_int(res, 0, 0);
    }
    PQclear(res);
    rc = kwp_tx_finish(st, outer, rc, err);
    if (rc == KW_OK)
        return KW_OK;
    if (strcmp(state, "23505") == 0) /* unique_violation */
        return kw_err_set(err, KW_CONFLICT, "/name",
                          "name: the team already has a canned reply called %.80s", c->name);
    if (strcmp(state, "23503") == 0) /* foreign_key_violation */
        return kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                          (long long)c->team_id);
    if (strncmp(state, "23", 2) == 0)
        return kw_err_set(err, KW_INVALID, "", "a canned reply needs a name and both texts");
    return rc;
}

enum kw_code kw_store_canned_insert(struct kw_store *st, const struct kw_canned *c, int64_t *id,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    int64_t changed = 0;
    return write_canned(st, S_CAN_INSERT, c->created_by, c, c->created_at, &changed, id, err);
}

enum kw_code kw_store_canned_update(struct kw_store *st, const struct kw_canned *c,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    int64_t changed = 0;
    if (write_canned(st, S_CAN_UPDATE, c->id, c, c->updated_at, &changed, NULL, err) != KW_OK)
        return err->code;
    return changed > 0
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no canned reply %lld", (long long)c->id);
}

enum kw_code kw_store_canned_delete(struct kw_store *st, int64_t id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = run(st, S_CAN_DELETE, &p, "delete canned reply", NULL, err);
    if (!res)
        return err->code;
    return kwp_changed(res) > 0
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no canned reply %lld", (long long)id);
}

enum kw_code kw_store_canned_get(struct kw_store *st, int64_t id, struct kw_canned *out,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = run(st, S_CAN_GET, &p, "read canned reply", NULL, err);
    if (!res)
        return err->code;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return kw_err_set(err, KW_NOT_FOUND, "", "no canned reply %lld", (long long)id);
    }
    read_canned(res, 0, out);
    kwp_lend(st, res); /* its strings live until the next call (store.h) */
    return KW_OK;
}

enum kw_code kw_store_canned_list(struct kw_store *st, int64_t team,
                                  bool (*fn)(const struct kw_canned *c, void *ctx), void *ctx,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, team);
    PGresult *res = run(st, S_CAN_LIST, &p, "list canned replies", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_canned c;
        read_canned(res, r, &c);
        if (!fn(&c, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}
