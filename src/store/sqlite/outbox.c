// SPDX-License-Identifier: MIT
/* Where notifications go (endpoints, people's subscriptions) and the
 * outbox they wait in, written in the transaction of the event causing them. */
#include "sqlite_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kw_buf.h"

enum stmt {
    S_OUTBOX_ADD,
    S_OUTBOX_SUBS,
    S_OUTBOX_DUE,
    S_OUTBOX_NEXT,
    S_OUTBOX_DONE,
    S_OUTBOX_LIST,
    S_OUTBOX_RETRY,
    S_OUTBOX_POSTPONE,
    S_ENDPOINT_ADD,
    S_ENDPOINTS,
    S_ENDPOINT_TEST,
    S_ENDPOINT_SET,
    S_ENDPOINT_DELETE,
    S_ENDPOINT_DROP_PENDING,
    S_ENDPOINT_DROP_SUBS,
    S_SUB_ADD,
    S_SUBS,
    S_SUB_DELETE,
    S_OUTBOX_PERSON,
    S_OUTBOX_HAS,
    S_TARGET_ENDPOINTS,
    S_TARGET_SUBS,
    S_OUTBOX_PUT,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    /* the rows kw_store_outbox_add writes outside a transaction: one per
     * endpoint listening, then one per subscription (events '[]': every kind) */
    [S_OUTBOX_ADD] =
        "INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key, next_at, created_at)"
        " SELECT id, ?1, ?2, ?5, ?6, ?7, ?7 FROM endpoints WHERE active AND mailbox_id IS NULL"
        " AND (org_id IS NULL OR org_id = ?3) AND (team_id IS NULL OR team_id = nullif(?4, 0))"
        " AND (events = '[]' OR EXISTS (SELECT 1 FROM json_each(endpoints.events)"
        " WHERE value = ?1)) ON CONFLICT DO NOTHING",
    [S_OUTBOX_SUBS] =
        "INSERT INTO outbox(endpoint_id, user_id, kind, ticket_id, payload, idem_key, next_at,"
        " created_at) SELECT s.endpoint_id, s.user_id, ?1, ?2, ?5, ?6 || '/u' || s.user_id, ?7, ?7"
        " FROM subscriptions s JOIN endpoints e ON e.id = s.endpoint_id AND e.active"
        " AND e.mailbox_id IS NULL"
        " WHERE (s.org_id IS NULL OR s.org_id = ?3) AND (s.team_id IS NULL OR s.team_id ="
        " nullif(?4, 0)) AND (s.events = '[]' OR EXISTS (SELECT 1 FROM json_each(s.events)"
        " WHERE value = ?1)) ON CONFLICT DO NOTHING",
    [S_OUTBOX_DUE] = "SELECT o.id, o.kind, o.payload, o.idem_key, o.attempts, e.id, e.kind,"
                     " e.url, coalesce(e.secret, (SELECT b.username || ':' || b.password"
                     " FROM mailboxes b WHERE b.id = e.mailbox_id)), coalesce(o.user_id, 0), "
                     "u.email, coalesce(u.team_id, 0),"
                     " s.quiet_tz, s.quiet_from, s.quiet_to, s.lang, u.tz"
                     " FROM outbox o JOIN endpoints e ON e.id = o.endpoint_id"
                     " LEFT JOIN users u ON u.id = o.user_id"
                     " LEFT JOIN subscriptions s ON s.user_id = o.user_id"
                     " AND s.endpoint_id = o.endpoint_id"
                     " WHERE o.state = 'pending' AND o.next_at <= ?1 ORDER BY o.next_at, o.id"
                     " LIMIT ?2",
    [S_OUTBOX_NEXT] = "SELECT min(next_at) FROM outbox WHERE state = 'pending'",
    [S_OUTBOX_DONE] = "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_error = ?3,"
                      " next_at = ?4, delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 END"
                      " WHERE id = ?1 AND state = 'pending'",
    [S_OUTBOX_LIST] = "SELECT o.id, o.endpoint_id, o.kind, o.ticket_id, o.idem_key, o.state,"
                      " o.attempts, o.next_at, o.last_error, o.created_at, o.delivered_at,"
                      " o.payload FROM outbox o WHERE o.id > ?1 AND (?2 IS NULL OR o.state = ?2)"
                      " AND (?3 = 0 OR o.ticket_id = ?3) ORDER BY o.id LIMIT ?4",
    [S_OUTBOX_RETRY] = "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2,"
                       " last_error = NULL WHERE id = ?1 AND state = 'dead' AND endpoint_id IN"
                       " (SELECT id FROM endpoints WHERE deleted_at IS NULL)",
    [S_OUTBOX_POSTPONE] = "UPDATE outbox SET next_at = ?2 WHERE id = ?1 AND state = 'pending'",
    [S_ENDPOINT_ADD] = "INSERT INTO endpoints(name, kind, url, secret, events, org_id, team_id,"
                       " created_at) VALUES (?1, ?2, ?3, ?4, coalesce(?5, '[]'), nullif(?6, 0),"
                       " nullif(?7, 0), ?8)",
    [S_ENDPOINTS] = "SELECT id, name, kind, url, events, coalesce(org_id, 0),"
                    " coalesce(team_id, 0), active, secret IS NOT NULL FROM endpoints"
                    " WHERE deleted_at IS NULL AND mailbox_id IS NULL AND (?1 = 0 OR id = ?1)"
                    " ORDER BY id",
    [S_ENDPOINT_TEST] =
        "INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key, next_at, created_at)"
        " SELECT id, 'test', NULL, ?2, ?3, ?4, ?4 FROM endpoints WHERE id = ?1"
        " AND deleted_at IS NULL AND mailbox_id IS NULL",
    [S_ENDPOINT_SET] = "UPDATE endpoints SET name = ?2, kind = ?3, url = ?4, secret = CASE WHEN ?5"
                       " IS NOT NULL THEN ?5 WHEN ?6 THEN secret END, events = coalesce(?7, '[]'),"
                       " org_id = nullif(?8, 0), team_id = nullif(?9, 0), active = ?10"
                       " WHERE id = ?1 AND deleted_at IS NULL AND mailbox_id IS NULL",
    [S_ENDPOINT_DELETE] = "UPDATE endpoints SET deleted_at = ?2, active = 0"
                          " WHERE id = ?1 AND deleted_at IS NULL AND mailbox_id IS NULL",
    [S_ENDPOINT_DROP_PENDING] = "UPDATE outbox SET state = 'dead', last_error = 'endpoint deleted'"
                                " WHERE endpoint_id = ?1 AND state = 'pending'",
    [S_ENDPOINT_DROP_SUBS] = "DELETE FROM subscriptions WHERE endpoint_id = ?1",
    [S_SUB_ADD] = "INSERT INTO subscriptions(user_id, endpoint_id, events, org_id, team_id,"
                  " quiet_tz, quiet_from, quiet_to, created_at, lang) SELECT ?1, ?2,"
                  " coalesce(?3, '[]'), nullif(?4, 0), nullif(?5, 0), ?6, ?7, ?8, ?9, ?10"
                  " WHERE NOT EXISTS (SELECT 1 FROM endpoints WHERE id = ?2 AND (deleted_at"
                  " IS NOT NULL OR mailbox_id IS NOT NULL)) ON CONFLICT(user_id, endpoint_id) DO "
                  "UPDATE SET events = excluded.events,"
                  " org_id = excluded.org_id, team_id = excluded.team_id,"
                  " quiet_tz = excluded.quiet_tz, quiet_from = excluded.quiet_from,"
                  " quiet_to = excluded.quiet_to, lang = excluded.lang RETURNING id",
    [S_SUBS] = "SELECT id, user_id, endpoint_id, events, coalesce(org_id, 0),"
               " coalesce(team_id, 0), quiet_tz, coalesce(quiet_from, 0), coalesce(quiet_to, 0),"
               " lang FROM subscriptions WHERE (?1 = 0 OR user_id = ?1) ORDER BY id",
    [S_SUB_DELETE] = "DELETE FROM subscriptions WHERE id = ?1 AND (?2 = 0 OR user_id = ?2)",
    [S_OUTBOX_PERSON] =
        "INSERT INTO outbox(endpoint_id, user_id, kind, ticket_id, payload, idem_key, next_at,"
        " created_at) SELECT id, ?2, ?3, NULL, ?4, ?5, ?6, ?6 FROM endpoints WHERE id = ?1"
        " AND active AND mailbox_id IS NULL ON CONFLICT DO NOTHING",
    [S_OUTBOX_HAS] = "SELECT 1 FROM outbox WHERE endpoint_id = ?1 AND idem_key = ?2",
    /* the same rows, read once per write transaction (struct kws_targets) */
    [S_TARGET_ENDPOINTS] = "SELECT id, 0, org_id, team_id, events FROM endpoints"
                           " WHERE active AND mailbox_id IS NULL ORDER BY id",
    [S_TARGET_SUBS] = "SELECT s.endpoint_id, s.user_id, s.org_id, s.team_id, s.events"
                      " FROM subscriptions s JOIN endpoints e ON e.id = s.endpoint_id"
                      " AND e.active AND e.mailbox_id IS NULL ORDER BY s.id",
    [S_OUTBOX_PUT] = "INSERT INTO outbox(endpoint_id, user_id, kind, ticket_id, payload, idem_key,"
                     " next_at, created_at) VALUES (?1, nullif(?2, 0), ?3, ?4, ?5,"
                     " CASE WHEN ?2 = 0 THEN ?6 ELSE ?6 || '/u' || ?2 END, ?7, ?7)"
                     " ON CONFLICT DO NOTHING",
};

const struct kws_catalogue kws_outbox_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_OUTBOX, (int)s);
}

static void read_delivery(sqlite3_stmt *x, struct kw_delivery *out)
{
    *out = (struct kw_delivery){
        .id = sqlite3_column_int64(x, 0),
        .kind = (const char *)sqlite3_column_text(x, 1),
        .payload = (const char *)sqlite3_column_text(x, 2),
        .key = (const char *)sqlite3_column_text(x, 3),
        .attempts = sqlite3_column_int(x, 4),
        .endpoint_id = sqlite3_column_int64(x, 5),
        .channel = (const char *)sqlite3_column_text(x, 6),
        .url = (const char *)sqlite3_column_text(x, 7),
        .secret = (const char *)sqlite3_column_text(x, 8),
        .user_id = sqlite3_column_int64(x, 9),
        .user_email = (const char *)sqlite3_column_text(x, 10),
        .user_team = sqlite3_column_int64(x, 11),
        .quiet_tz = (const char *)sqlite3_column_text(x, 12),
        .quiet_from = sqlite3_column_int(x, 13),
        .quiet_to = sqlite3_column_int(x, 14),
        .lang = (const char *)sqlite3_column_text(x, 15),
        .user_tz = (const char *)sqlite3_column_text(x, 16),
    };
}
KWS_ROW_MAPPER(read_delivery, struct kw_delivery)

/* The endpoints and subscriptions a notification may go to, as
 * S_OUTBOX_ADD and S_OUTBOX_SUBS select them, read once per write
 * transaction: a firing batch queues two notifications per ticket, and
 * each INSERT ... SELECT scanned both tables and parsed their event lists
 * with json_each again (60,000 instructions per notification, #20). The
 * transaction (BEGIN IMMEDIATE) holds the write lock, so only this
 * connection changes them meanwhile, and its changes mark them stale. */
struct kws_target {
    int64_t endpoint, user; /* user 0: the endpoint's own row */
    int64_t org, team;      /* 0: any */
    size_t first, n;        /* its kinds in kinds[first..first+n); all_kinds: any */
    bool all_kinds;
};
struct kws_targets {
    uint64_t seq; /* st->tx_seq when read */
    struct kws_target *t;
    size_t n, cap;
    char **kinds;
    size_t n_kinds, cap_kinds;
};

static void targets_clear(struct kws_targets *g)
{
    for (size_t i = 0; i < g->n_kinds; i++)
        free(g->kinds[i]);
    g->n = g->n_kinds = 0;
}

void kws_targets_free(struct kw_store *st)
{
    struct kws_targets *g = st->targets;
    if (!g)
        return;
    targets_clear(g);
    free(g->t);
    free(g->kinds);
    free(g);
    st->targets = NULL;
}

static bool kind_add(struct kws_targets *g, struct kws_target *t, json_t *v)
{
    if (!json_is_string(v))
        return true;
    if (!kw_grow((void **)&g->kinds, &g->cap_kinds, g->n_kinds + 1, sizeof(*g->kinds)) ||
        !(g->kinds[g->n_kinds] = strdup(json_string_value(v))))
        return false;
    g->n_kinds++;
    t->n++;
    return true;
}

/* One row of S_TARGET_ENDPOINTS or S_TARGET_SUBS. The kinds are the
 * strings json_each's "value = kind" matched: an array's elements, an
 * object's values, a string itself; events exactly '[]' is every kind;
 * text that is not JSON fails, as json_each did. */
static enum kw_code target_add(struct kw_store *st, struct kws_targets *g, sqlite3_stmt *x,
                               struct kw_err *err)
{
    if (!kw_grow((void **)&g->t, &g->cap, g->n + 1, sizeof(*g->t)))
        return kw_err_set(err, KW_NOMEM, "", "no memory for the notification targets");
    const char *events = (const char *)sqlite3_column_text(x, 4);
    struct kws_target t = {
        .endpoint = sqlite3_column_int64(x, 0),
        .user = sqlite3_column_int64(x, 1),
        .org = sqlite3_column_int64(x, 2), /* NULL reads 0: ids begin at 1 */
        .team = sqlite3_column_int64(x, 3),
        .first = g->n_kinds,
        .all_kinds = events && strcmp(events, "[]") == 0,
    };
    if (!t.all_kinds) {
        json_t *a = events ? json_loads(events, JSON_DECODE_ANY, NULL) : NULL;
        if (!a)
            return kw_err_set(err, KW_STORE, "",
                              "%s: queue notifications: endpoint %lld: its events are not JSON",
                              st->path, (long long)t.endpoint);
        bool ok = true;
        size_t i;
        const char *name;
        json_t *v;
        if (json_is_array(a)) {
            json_array_foreach(a, i, v) ok = ok && kind_add(g, &t, v);
        } else if (json_is_object(a)) {
            json_object_foreach(a, name, v) ok = ok && kind_add(g, &t, v);
        } else {
            ok = kind_add(g, &t, a);
        }
        json_decref(a);
        if (!ok)
            return kw_err_set(err, KW_NOMEM, "", "no memory for the notification targets");
    }
    g->t[g->n++] = t;
    return KW_OK;
}

static enum kw_code targets_read(struct kw_store *st, struct kw_err *err)
{
    struct kws_targets *g = st->targets;
    if (!g && !(g = st->targets = calloc(1, sizeof(*g))))
        return kw_err_set(err, KW_NOMEM, "", "no memory for the notification targets");
    targets_clear(g);
    g->seq = st->tx_seq - 1; /* not valid until read whole */
    for (int s = S_TARGET_ENDPOINTS; s <= S_TARGET_SUBS; s++) {
        sqlite3_stmt *x = prep(st, (enum stmt)s);
        int rc;
        enum kw_code code = KW_OK;
        while (code == KW_OK && (rc = sqlite3_step(x)) == SQLITE_ROW)
            code = target_add(st, g, x, err);
        if (code != KW_OK) {
            sqlite3_reset(x);
            return code;
        }
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "queue notifications");
    }
    g->seq = st->tx_seq;
    return KW_OK;
}

static bool target_wants(const struct kws_targets *g, const struct kws_target *t, const char *kind,
                         int64_t org_id, int64_t team_id)
{
    if ((t->org && t->org != org_id) || (t->team && t->team != team_id))
        return false;
    if (t->all_kinds)
        return true;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(g->kinds[t->first + i], kind) == 0)
            return true;
    return false;
}

enum kw_code kw_store_outbox_add(struct kw_store *st, const char *kind, int64_t ticket,
                                 int64_t org_id, int64_t team_id, const char *payload,
                                 const char *key, int64_t now, struct kw_err *err)
{
    int rc = SQLITE_DONE;
    if (sqlite3_get_autocommit(st->db)) { /* no transaction to hold targets for */
        for (int s = S_OUTBOX_ADD; s <= S_OUTBOX_SUBS && rc == SQLITE_DONE; s++) {
            sqlite3_stmt *x = prep(st, (enum stmt)s);
            bind_text(x, 1, kind);
            sqlite3_bind_int64(x, 2, ticket);
            sqlite3_bind_int64(x, 3, org_id);
            sqlite3_bind_int64(x, 4, team_id);
            bind_text(x, 5, payload);
            bind_text(x, 6, key);
            sqlite3_bind_int64(x, 7, now);
            rc = sqlite3_step(x);
            sqlite3_reset(x);
        }
        return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "queue notifications");
    }
    if (!st->targets || st->targets->seq != st->tx_seq) {
        enum kw_code code = targets_read(st, err);
        if (code != KW_OK)
            return code;
    }
    const struct kws_targets *g = st->targets;
    sqlite3_stmt *x = NULL;
    for (size_t i = 0; i < g->n && rc == SQLITE_DONE; i++) {
        const struct kws_target *t = &g->t[i];
        if (!target_wants(g, t, kind, org_id, team_id))
            continue;
        if (!x) {
            x = prep(st, S_OUTBOX_PUT);
            bind_text(x, 3, kind);
            sqlite3_bind_int64(x, 4, ticket);
            bind_text(x, 5, payload);
            bind_text(x, 6, key);
            sqlite3_bind_int64(x, 7, now);
        }
        sqlite3_bind_int64(x, 1, t->endpoint);
        sqlite3_bind_int64(x, 2, t->user);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "queue notifications");
}

enum kw_code kw_store_outbox_due(struct kw_store *st, int64_t now, size_t limit,
                                 bool (*fn)(const struct kw_delivery *d, void *ctx), void *ctx,
                                 struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_DUE);
    sqlite3_bind_int64(x, 1, now);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)limit);
    return EACH_ROW(st, x, read_delivery, fn, ctx, "read the outbox", err);
}

static void read_outbox(sqlite3_stmt *x, struct kw_outbox_row *out)
{
    *out = (struct kw_outbox_row){
        .id = sqlite3_column_int64(x, 0),
        .endpoint_id = sqlite3_column_int64(x, 1),
        .kind = (const char *)sqlite3_column_text(x, 2),
        .ticket_id = sqlite3_column_int64(x, 3),
        .key = (const char *)sqlite3_column_text(x, 4),
        .state = (const char *)sqlite3_column_text(x, 5),
        .attempts = sqlite3_column_int(x, 6),
        .next_at = sqlite3_column_int64(x, 7),
        .last_error = (const char *)sqlite3_column_text(x, 8),
        .created_at = sqlite3_column_int64(x, 9),
        .delivered_at = column_instant(x, 10),
        .payload = (const char *)sqlite3_column_text(x, 11),
    };
}
KWS_ROW_MAPPER(read_outbox, struct kw_outbox_row)

enum kw_code kw_store_outbox_next(struct kw_store *st, int64_t *next_at, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_NEXT);
    int rc = sqlite3_step(x);
    *next_at = rc == SQLITE_ROW ? column_instant(x, 0) : KW_STORE_NO_TIME;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read the outbox");
}

enum kw_code kw_store_outbox_done(struct kw_store *st, int64_t id, const char *state,
                                  const char *error, int64_t next_at, int64_t now,
                                  struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_DONE);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, state);
    bind_text(x, 3, error);
    sqlite3_bind_int64(x, 4, next_at);
    sqlite3_bind_int64(x, 5, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "record a delivery");
}

enum kw_code kw_store_outbox_list(struct kw_store *st, const char *state, int64_t ticket,
                                  int64_t after, size_t limit,
                                  bool (*fn)(const struct kw_outbox_row *r, void *ctx), void *ctx,
                                  struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_LIST);
    sqlite3_bind_int64(x, 1, after);
    bind_text(x, 2, state);
    sqlite3_bind_int64(x, 3, ticket);
    sqlite3_bind_int64(x, 4, (sqlite3_int64)limit);
    return EACH_ROW(st, x, read_outbox, fn, ctx, "list the outbox", err);
}

static void read_endpoint(sqlite3_stmt *x, struct kw_endpoint *out)
{
    *out = (struct kw_endpoint){
        .id = sqlite3_column_int64(x, 0),
        .name = (const char *)sqlite3_column_text(x, 1),
        .kind = (const char *)sqlite3_column_text(x, 2),
        .url = (const char *)sqlite3_column_text(x, 3),
        .events = (const char *)sqlite3_column_text(x, 4),
        .org_id = sqlite3_column_int64(x, 5),
        .team_id = sqlite3_column_int64(x, 6),
        .active = sqlite3_column_int(x, 7) != 0,
        .has_secret = sqlite3_column_int(x, 8) != 0,
    };
}
KWS_ROW_MAPPER(read_endpoint, struct kw_endpoint)

enum kw_code kw_store_outbox_retry(struct kw_store *st, int64_t id, int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_RETRY);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "retry a notification");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no dead notification %lld", (long long)id);
}

enum kw_code kw_store_outbox_postpone(struct kw_store *st, int64_t id, int64_t next_at,
                                      struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_POSTPONE);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, next_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "postpone a notification");
}

enum kw_code kw_store_endpoint_add(struct kw_store *st, const struct kw_endpoint *e, int64_t now,
                                   int64_t *id, struct kw_err *err)
{
    kws_targets_stale(st);
    sqlite3_stmt *x = prep(st, S_ENDPOINT_ADD);
    bind_text(x, 1, e->name);
    bind_text(x, 2, e->kind);
    bind_text(x, 3, e->url);
    bind_text(x, 4, e->secret);
    bind_text(x, 5, e->events);
    sqlite3_bind_int64(x, 6, e->org_id);
    sqlite3_bind_int64(x, 7, e->team_id);
    sqlite3_bind_int64(x, 8, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT)
        return kws_missing(st,
                           (const struct kws_ref[]){{KWS_ORGS, e->org_id, "/org_id"},
                                                    {KWS_TEAMS, e->team_id, "/team_id"}},
                           2, "no such organisation or team", err);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "insert endpoint");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_endpoints(struct kw_store *st, int64_t id,
                                bool (*fn)(const struct kw_endpoint *e, void *ctx), void *ctx,
                                struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ENDPOINTS);
    sqlite3_bind_int64(x, 1, id);
    return EACH_ROW(st, x, read_endpoint, fn, ctx, "list endpoints", err);
}

enum kw_code kw_store_endpoint_set(struct kw_store *st, const struct kw_endpoint *e,
                                   struct kw_err *err)
{
    kws_targets_stale(st);
    sqlite3_stmt *x = prep(st, S_ENDPOINT_SET);
    sqlite3_bind_int64(x, 1, e->id);
    bind_text(x, 2, e->name);
    bind_text(x, 3, e->kind);
    bind_text(x, 4, e->url);
    bind_text(x, 5, e->secret);
    sqlite3_bind_int(x, 6, e->has_secret);
    bind_text(x, 7, e->events);
    sqlite3_bind_int64(x, 8, e->org_id);
    sqlite3_bind_int64(x, 9, e->team_id);
    sqlite3_bind_int(x, 10, e->active);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, "", "no such organisation or team");
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "update endpoint");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no endpoint %lld", (long long)e->id);
}

enum kw_code kw_store_endpoint_delete(struct kw_store *st, int64_t id, int64_t now,
                                      struct kw_err *err)
{
    kws_targets_stale(st);
    sqlite3_stmt *x = prep(st, S_ENDPOINT_DELETE);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "delete endpoint");
    if (!sqlite3_changes(st->db))
        return kw_err_set(err, KW_NOT_FOUND, "", "no endpoint %lld", (long long)id);
    /* what waited for it will not be sent; people's subscriptions to it end */
    for (int s = S_ENDPOINT_DROP_PENDING; s <= S_ENDPOINT_DROP_SUBS; s++) {
        x = prep(st, (enum stmt)s);
        sqlite3_bind_int64(x, 1, id);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "delete endpoint");
    }
    return KW_OK;
}

static void read_subscription(sqlite3_stmt *x, struct kw_subscription *out)
{
    *out = (struct kw_subscription){
        .id = sqlite3_column_int64(x, 0),
        .user_id = sqlite3_column_int64(x, 1),
        .endpoint_id = sqlite3_column_int64(x, 2),
        .events = (const char *)sqlite3_column_text(x, 3),
        .org_id = sqlite3_column_int64(x, 4),
        .team_id = sqlite3_column_int64(x, 5),
        .quiet_tz = (const char *)sqlite3_column_text(x, 6),
        .quiet_from = sqlite3_column_int(x, 7),
        .quiet_to = sqlite3_column_int(x, 8),
        .lang = (const char *)sqlite3_column_text(x, 9),
    };
}
KWS_ROW_MAPPER(read_subscription, struct kw_subscription)

enum kw_code kw_store_endpoint_test(struct kw_store *st, int64_t id, const char *payload,
                                    const char *key, int64_t now, int64_t *row, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ENDPOINT_TEST);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, payload);
    bind_text(x, 3, key);
    sqlite3_bind_int64(x, 4, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "queue a test notification");
    if (!sqlite3_changes(st->db))
        return kw_err_set(err, KW_NOT_FOUND, "", "no endpoint %lld", (long long)id);
    if (row)
        *row = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_subscription_put(struct kw_store *st, const struct kw_subscription *s,
                                       int64_t now, int64_t *id, struct kw_err *err)
{
    kws_targets_stale(st);
    sqlite3_stmt *x = prep(st, S_SUB_ADD);
    sqlite3_bind_int64(x, 1, s->user_id);
    sqlite3_bind_int64(x, 2, s->endpoint_id);
    bind_text(x, 3, s->events);
    sqlite3_bind_int64(x, 4, s->org_id);
    sqlite3_bind_int64(x, 5, s->team_id);
    bind_text(x, 6, s->quiet_tz);
    if (s->quiet_tz) {
        sqlite3_bind_int(x, 7, s->quiet_from);
        sqlite3_bind_int(x, 8, s->quiet_to);
    }
    sqlite3_bind_int64(x, 9, now);
    bind_text(x, 10, s->lang);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT || rc == SQLITE_DONE) /* DONE: the endpoint was deleted */
        return kws_missing(st,
                           (const struct kws_ref[]){{KWS_ENDPOINTS, s->endpoint_id, "/endpoint_id"},
                                                    {KWS_USERS, s->user_id, "/user_id"},
                                                    {KWS_ORGS, s->org_id, "/org_id"},
                                                    {KWS_TEAMS, s->team_id, "/team_id"}},
                           4, "endpoint_id: no such endpoint", err);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "store a subscription");
}

enum kw_code kw_store_subscriptions(struct kw_store *st, int64_t user_id,
                                    bool (*fn)(const struct kw_subscription *s, void *ctx),
                                    void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_SUBS);
    sqlite3_bind_int64(x, 1, user_id);
    return EACH_ROW(st, x, read_subscription, fn, ctx, "list subscriptions", err);
}

enum kw_code kw_store_subscription_delete(struct kw_store *st, int64_t id, int64_t user_id,
                                          struct kw_err *err)
{
    kws_targets_stale(st);
    sqlite3_stmt *x = prep(st, S_SUB_DELETE);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, user_id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "delete a subscription");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no subscription %lld", (long long)id);
}

enum kw_code kw_store_outbox_person(struct kw_store *st, int64_t endpoint_id, int64_t user_id,
                                    const char *kind, const char *payload, const char *key,
                                    int64_t now, bool *queued, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_PERSON);
    sqlite3_bind_int64(x, 1, endpoint_id);
    sqlite3_bind_int64(x, 2, user_id);
    bind_text(x, 3, kind);
    bind_text(x, 4, payload);
    bind_text(x, 5, key);
    sqlite3_bind_int64(x, 6, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (queued)
        *queued = rc == SQLITE_DONE && sqlite3_changes(st->db) > 0;
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "queue a notification");
}

enum kw_code kw_store_outbox_has(struct kw_store *st, int64_t endpoint_id, const char *key,
                                 bool *has, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_HAS);
    sqlite3_bind_int64(x, 1, endpoint_id);
    bind_text(x, 2, key);
    int rc = sqlite3_step(x);
    *has = rc == SQLITE_ROW;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read the outbox");
}
