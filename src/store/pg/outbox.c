// SPDX-License-Identifier: MIT
/* Where notifications go (endpoints, people's subscriptions) and the outbox
 * they wait in, written in the transaction of the event causing them, as
 * the SQLite backend's outbox.c. Several nodes share the outbox: what is due
 * is leased to one connection at a time (PGS_OUTBOX_DUE). */
#include "pg_int.h"

#include <stdlib.h>
#include <string.h>

/* How long a node holds the notifications it took before another node may
 * take them (it died before recording the attempt). The engine records a
 * batch's attempts after its last one: a batch of 16 to one slow receiver,
 * each answered just inside the 5 s time-out (engine.c, deliver.h), takes
 * 80 s, and a lease shorter than that would let a second node send the
 * rest again while the first still sends. */
#define OUTBOX_LEASE_S 180

static int64_t touched(PGresult *res)
{
    const char *n = PQcmdTuples(res);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

/* Run s for its effect; *n (may be NULL) gets how many rows it touched. */
static enum kw_code exec_n(struct kw_store *st, enum pgs s, const struct kwp_params *p, int64_t *n,
                           const char *what, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = kwp_run(st, s, p, what, NULL, err);
    if (!res)
        return err->code;
    if (n)
        *n = touched(res);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_outbox_add(struct kw_store *st, const char *kind, int64_t ticket,
                                 int64_t org_id, int64_t team_id, const char *payload,
                                 const char *key, int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, kind);
    kwp_int(&p, ticket);
    kwp_int(&p, org_id);
    kwp_int(&p, team_id);
    kwp_text(&p, payload);
    kwp_text(&p, key);
    kwp_int(&p, now);
    /* one for each endpoint, and one for each person subscribed, in one
     * statement; inside a transaction with the next statement
     * (kwp_exec_later): nothing reads its answer, and ON CONFLICT DO
     * NOTHING leaves it nothing to fail on but a broken database (or a
     * payload that is not UTF-8, which the transaction's next statement
     * then reports) */
    return kwp_exec_later(st, PGS_OUTBOX_ADD, &p, "queue notifications", err);
}

enum kw_code kw_store_outbox_due(struct kw_store *st, int64_t now, size_t limit,
                                 bool (*fn)(const struct kw_delivery *d, void *ctx), void *ctx,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, now);
    kwp_int(&p, (int64_t)limit);
    kwp_int(&p, OUTBOX_LEASE_S);
    PGresult *res = kwp_run(st, PGS_OUTBOX_DUE, &p, "read the outbox", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_delivery d = {
            .id = kwp_col_int(res, r, 0),
            .kind = kwp_col_text(res, r, 1),
            .payload = kwp_col_text(res, r, 2),
            .key = kwp_col_text(res, r, 3),
            .attempts = (int)kwp_col_int(res, r, 4),
            .endpoint_id = kwp_col_int(res, r, 5),
            .channel = kwp_col_text(res, r, 6),
            .url = kwp_col_text(res, r, 7),
            .secret = kwp_col_text(res, r, 8),
            .user_id = kwp_col_int(res, r, 9),
            .user_email = kwp_col_text(res, r, 10),
            .user_team = kwp_col_int(res, r, 11),
            .quiet_tz = kwp_col_text(res, r, 12),
            .quiet_from = (int32_t)kwp_col_int(res, r, 13),
            .quiet_to = (int32_t)kwp_col_int(res, r, 14),
            .lang = kwp_col_text(res, r, 15),
        };
        if (!fn(&d, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_outbox_next(struct kw_store *st, int64_t *next_at, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = kwp_run(st, PGS_OUTBOX_NEXT, NULL, "read the outbox", NULL, err);
    *next_at = res ? kwp_col_instant(res, 0, 0) : KW_STORE_NO_TIME;
    PQclear(res);
    return res ? KW_OK : err->code;
}

enum kw_code kw_store_outbox_done(struct kw_store *st, int64_t id, const char *state,
                                  const char *error, int64_t next_at, int64_t now,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_text(&p, state);
    kwp_text(&p, error);
    kwp_int(&p, next_at);
    kwp_int(&p, now);
    return exec_n(st, PGS_OUTBOX_DONE, &p, NULL, "record a delivery", err);
}

enum kw_code kw_store_outbox_list(struct kw_store *st, const char *state, int64_t ticket,
                                  int64_t after, size_t limit,
                                  bool (*fn)(const struct kw_outbox_row *r, void *ctx), void *ctx,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, after);
    kwp_text(&p, state);
    kwp_int(&p, ticket);
    kwp_int(&p, (int64_t)limit);
    PGresult *res = kwp_run(st, PGS_OUTBOX_LIST, &p, "list the outbox", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_outbox_row o = {
            .id = kwp_col_int(res, r, 0),
            .endpoint_id = kwp_col_int(res, r, 1),
            .kind = kwp_col_text(res, r, 2),
            .ticket_id = kwp_col_int(res, r, 3),
            .key = kwp_col_text(res, r, 4),
            .state = kwp_col_text(res, r, 5),
            .attempts = (int)kwp_col_int(res, r, 6),
            .next_at = kwp_col_int(res, r, 7),
            .last_error = kwp_col_text(res, r, 8),
            .created_at = kwp_col_int(res, r, 9),
            .delivered_at = kwp_col_instant(res, r, 10),
            .payload = kwp_col_text(res, r, 11),
        };
        if (!fn(&o, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_outbox_retry(struct kw_store *st, int64_t id, int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, now);
    int64_t n = 0;
    if (exec_n(st, PGS_OUTBOX_RETRY, &p, &n, "retry a notification", err) != KW_OK)
        return err->code;
    return n ? KW_OK
             : kw_err_set(err, KW_NOT_FOUND, "", "no dead notification %lld", (long long)id);
}

enum kw_code kw_store_outbox_postpone(struct kw_store *st, int64_t id, int64_t next_at,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, next_at);
    return exec_n(st, PGS_OUTBOX_POSTPONE, &p, NULL, "postpone a notification", err);
}

enum kw_code kw_store_outbox_person(struct kw_store *st, int64_t endpoint_id, int64_t user_id,
                                    const char *kind, const char *payload, const char *key,
                                    int64_t now, bool *queued, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, endpoint_id);
    kwp_int(&p, user_id);
    kwp_text(&p, kind);
    kwp_text(&p, payload);
    kwp_text(&p, key);
    kwp_int(&p, now);
    int64_t n = 0;
    enum kw_code rc = exec_n(st, PGS_OUTBOX_PERSON, &p, &n, "queue a notification", err);
    if (queued)
        *queued = rc == KW_OK && n > 0;
    return rc;
}

enum kw_code kw_store_outbox_has(struct kw_store *st, int64_t endpoint_id, const char *key,
                                 bool *has, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, endpoint_id);
    kwp_text(&p, key);
    PGresult *res = kwp_run(st, PGS_OUTBOX_HAS, &p, "read the outbox", NULL, err);
    *has = res && PQntuples(res) > 0;
    PQclear(res);
    return res ? KW_OK : err->code;
}

/* ---- endpoints ---- */

enum kw_code kw_store_endpoint_add(struct kw_store *st, const struct kw_endpoint *e, int64_t now,
                                   int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_refs(st, (const int64_t[4]){e->org_id, e->team_id, 0, 0},
                 (const char *const[4]){"/org_id", "/team_id", "", ""}, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_text(&p, e->name);
    kwp_text(&p, e->kind);
    kwp_text(&p, e->url);
    kwp_text(&p, e->secret);
    kwp_text(&p, e->events);
    kwp_int(&p, e->org_id);
    kwp_int(&p, e->team_id);
    kwp_int(&p, now);
    PGresult *res = kwp_run(st, PGS_ENDPOINT_ADD, &p, "insert endpoint", NULL, err);
    if (!res)
        return err->code;
    *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_endpoints(struct kw_store *st, int64_t id,
                                bool (*fn)(const struct kw_endpoint *e, void *ctx), void *ctx,
                                struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    PGresult *res = kwp_run(st, PGS_ENDPOINTS, &p, "list endpoints", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_endpoint e = {
            .id = kwp_col_int(res, r, 0),
            .name = kwp_col_text(res, r, 1),
            .kind = kwp_col_text(res, r, 2),
            .url = kwp_col_text(res, r, 3),
            .events = kwp_col_text(res, r, 4),
            .org_id = kwp_col_int(res, r, 5),
            .team_id = kwp_col_int(res, r, 6),
            .active = strcmp(PQgetvalue(res, r, 7), "t") == 0,
            .has_secret = strcmp(PQgetvalue(res, r, 8), "t") == 0,
        };
        if (!fn(&e, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_endpoint_set(struct kw_store *st, const struct kw_endpoint *e,
                                   struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_refs(st, (const int64_t[4]){e->org_id, e->team_id, 0, 0},
                 (const char *const[4]){"/org_id", "/team_id", "", ""}, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_int(&p, e->id);
    kwp_text(&p, e->name);
    kwp_text(&p, e->kind);
    kwp_text(&p, e->url);
    kwp_text(&p, e->secret);
    kwp_text(&p, e->has_secret ? "true" : "false");
    kwp_text(&p, e->events);
    kwp_int(&p, e->org_id);
    kwp_int(&p, e->team_id);
    kwp_text(&p, e->active ? "true" : "false");
    int64_t n = 0;
    if (exec_n(st, PGS_ENDPOINT_SET, &p, &n, "update endpoint", err) != KW_OK)
        return err->code;
    return n ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no endpoint %lld", (long long)e->id);
}

/* Deleting: the endpoint is marked; what waited for it will not be sent,
 * people's subscriptions to it end. */
static enum kw_code endpoint_delete(struct kw_store *st, int64_t id, int64_t now,
                                    struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, now);
    int64_t n = 0;
    if (exec_n(st, PGS_ENDPOINT_DELETE, &p, &n, "delete endpoint", err) != KW_OK)
        return err->code;
    if (!n)
        return kw_err_set(err, KW_NOT_FOUND, "", "no endpoint %lld", (long long)id);
    p.n = 1;
    if (exec_n(st, PGS_ENDPOINT_DROP_PENDING, &p, NULL, "delete endpoint", err) != KW_OK)
        return err->code;
    return exec_n(st, PGS_ENDPOINT_DROP_SUBS, &p, NULL, "delete endpoint", err);
}

enum kw_code kw_store_endpoint_delete(struct kw_store *st, int64_t id, int64_t now,
                                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, endpoint_delete(st, id, now, err), err);
}

enum kw_code kw_store_endpoint_test(struct kw_store *st, int64_t id, const char *payload,
                                    const char *key, int64_t now, int64_t *row, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_text(&p, payload);
    kwp_text(&p, key);
    kwp_int(&p, now);
    PGresult *res = kwp_run(st, PGS_ENDPOINT_TEST, &p, "queue a test notification", NULL, err);
    if (!res)
        return err->code;
    bool found = PQntuples(res) == 1;
    if (found && row)
        *row = kwp_col_int(res, 0, 0);
    PQclear(res);
    return found ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no endpoint %lld", (long long)id);
}

/* ---- people's subscriptions ---- */

enum kw_code kw_store_subscription_put(struct kw_store *st, const struct kw_subscription *s,
                                       int64_t now, int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_refs(st, (const int64_t[4]){s->org_id, s->team_id, s->user_id, s->endpoint_id},
                 (const char *const[4]){"/org_id", "/team_id", "/user_id", "/endpoint_id"},
                 err) != KW_OK) {
        if (strcmp(err->field, "/endpoint_id") == 0) /* as SQLite words it */
            kw_err_set(err, KW_NOT_FOUND, "/endpoint_id", "endpoint_id: no such endpoint");
        return err->code;
    }
    struct kwp_params p = {0};
    kwp_int(&p, s->user_id);
    kwp_int(&p, s->endpoint_id);
    kwp_text(&p, s->events);
    kwp_int(&p, s->org_id);
    kwp_int(&p, s->team_id);
    kwp_text(&p, s->quiet_tz);
    if (s->quiet_tz) {
        kwp_int(&p, s->quiet_from);
        kwp_int(&p, s->quiet_to);
    } else {
        kwp_text(&p, NULL);
        kwp_text(&p, NULL);
    }
    kwp_int(&p, now);
    kwp_text(&p, s->lang);
    PGresult *res = kwp_run(st, PGS_SUB_ADD, &p, "store a subscription", NULL, err);
    if (!res)
        return err->code;
    bool stored = PQntuples(res) == 1;
    if (stored)
        *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return stored ? KW_OK
                  : kw_err_set(err, KW_NOT_FOUND, "/endpoint_id", "endpoint_id: no such endpoint");
}

enum kw_code kw_store_subscriptions(struct kw_store *st, int64_t user_id,
                                    bool (*fn)(const struct kw_subscription *s, void *ctx),
                                    void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, user_id);
    PGresult *res = kwp_run(st, PGS_SUBS, &p, "list subscriptions", NULL, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_subscription s = {
            .id = kwp_col_int(res, r, 0),
            .user_id = kwp_col_int(res, r, 1),
            .endpoint_id = kwp_col_int(res, r, 2),
            .events = kwp_col_text(res, r, 3),
            .org_id = kwp_col_int(res, r, 4),
            .team_id = kwp_col_int(res, r, 5),
            .quiet_tz = kwp_col_text(res, r, 6),
            .quiet_from = (int32_t)kwp_col_int(res, r, 7),
            .quiet_to = (int32_t)kwp_col_int(res, r, 8),
            .lang = kwp_col_text(res, r, 9),
        };
        if (!fn(&s, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_subscription_delete(struct kw_store *st, int64_t id, int64_t user_id,
                                          struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    kwp_int(&p, user_id);
    int64_t n = 0;
    if (exec_n(st, PGS_SUB_DELETE, &p, &n, "delete a subscription", err) != KW_OK)
        return err->code;
    return n ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no subscription %lld", (long long)id);
}
