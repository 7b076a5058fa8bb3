// SPDX-License-Identifier: MIT
/* Staff's in-app notifications on PostgreSQL, as the SQLite backend's
 * (sqlite/views.c): the rows are written by the events' triggers
 * (kw_notify_event, migrations 2 and 5; kw_notify_sla, 14) and the watch
 * list's flags (watch.c); here they are read, counted and marked read. A
 * customer's list holds only their organisation's tickets. */
#include "pg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stmt { N_LIST, N_UNREAD, N_READ_SOME, N_READ_ALL, N_COUNT };

#define OWN_ORG "(u.role <> 'customer' OR t.org_id = u.org_id)"

static const char *const sql[N_COUNT] = {
    [N_LIST] = "SELECT n.id, n.user_id, n.ticket_id, n.seq, n.actor_id, n.at, n.read_at, n.kind,"
               " n.detail, t.title FROM notifications n JOIN tickets t ON t.id = n.ticket_id"
               " JOIN users u ON u.id = n.user_id WHERE n.user_id = $1 AND " OWN_ORG
               " AND ($2::bigint = 0 OR n.id < $2) AND (NOT $3::boolean OR n.read_at IS NULL)"
               " ORDER BY n.id DESC LIMIT $4",
    [N_UNREAD] = "SELECT count(*) FROM notifications n JOIN tickets t ON t.id = n.ticket_id"
                 " JOIN users u ON u.id = n.user_id WHERE n.user_id = $1 AND n.read_at IS NULL"
                 " AND " OWN_ORG,
    /* $2: the ids as an array's text, "{1,2,3}" */
    [N_READ_SOME] = "UPDATE notifications SET read_at = $3 WHERE user_id = $1"
                    " AND id = ANY($2::bigint[]) AND read_at IS NULL",
    [N_READ_ALL] = "UPDATE notifications SET read_at = $3 WHERE user_id = $1 AND read_at IS NULL"
                   " AND $2::text IS NULL",
};

const struct kwp_catalogue kwp_notify_sql = {sql, N_COUNT};

static PGresult *run(struct kw_store *st, enum stmt s, const struct kwp_params *p, const char *what,
                     struct kw_err *err)
{
    return kwp_run_part(st, KWP_NOTIFY, (int)s, p, what, NULL, err);
}

enum kw_code kw_store_notifications(struct kw_store *st, int64_t user, bool unread_only,
                                    int64_t before, size_t limit,
                                    bool (*fn)(const struct kw_notification *n, void *ctx),
                                    void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, user);
    kwp_int(&p, before);
    kwp_text(&p, unread_only ? "t" : "f");
    kwp_int(&p, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    PGresult *res = run(st, N_LIST, &p, "list notifications", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_notification n = {
            .id = kwp_col_int(res, r, 0),
            .user_id = kwp_col_int(res, r, 1),
            .ticket_id = kwp_col_int(res, r, 2),
            .seq = kwp_col_int(res, r, 3),
            .actor_id = kwp_col_int(res, r, 4),
            .at = kwp_col_int(res, r, 5),
            .read_at = kwp_col_instant(res, r, 6),
            .kind = kwp_col_text(res, r, 7),
            .detail = kwp_col_text(res, r, 8),
            .title = kwp_col_text(res, r, 9),
        };
        if (!fn(&n, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_notification_unread(struct kw_store *st, int64_t user, int64_t *n,
                                          struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, user);
    PGresult *res = run(st, N_UNREAD, &p, "count notifications", err);
    if (!res)
        return err->code;
    *n = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_notifications_read(struct kw_store *st, int64_t user, const int64_t *ids,
                                         size_t n, int64_t now, int64_t *changed,
                                         struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *changed = 0;
    /* the ids as one array parameter: one statement however many */
    char *list = NULL;
    if (n) {
        if (n > (SIZE_MAX - 3) / 21 || !(list = malloc(KWP_INT_ARRAY_BYTES(n))))
            return kw_err_set(err, KW_NOMEM, "", "no memory for %zu notification ids", n);
        kwp_int_array(list, ids, n);
    }
    struct kwp_params p = {0};
    kwp_int(&p, user);
    kwp_text(&p, list);
    kwp_int(&p, now);
    PGresult *res = run(st, n ? N_READ_SOME : N_READ_ALL, &p, "mark notifications read", err);
    free(list);
    if (!res)
        return err->code;
    *changed = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return KW_OK;
}
