// SPDX-License-Identifier: MIT
/* What `keepword serve` needs of PostgreSQL for the core desk: people and
 * their tokens (kept as the digests app/auth.c computed), teams, calendars
 * with their versions, the clock projection and the engine's schedule with
 * its claims (FOR UPDATE SKIP LOCKED: several nodes on one database never
 * fire one threshold twice), on-call rotas, as the SQLite backend's auth.c,
 * org.c, tickets.c and oncall.c. */
#include "pg_int.h"

#include <jansson.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run s; for a listing, the result (caller clears it), else NULL and err. */
static PGresult *run(struct kw_store *st, enum pgs s, const struct kwp_params *p, const char *what,
                     struct kw_err *err)
{
    return kwp_run(st, s, p, what, NULL, err);
}

/* The rows an UPDATE or DELETE touched. */
static int64_t touched(PGresult *res)
{
    const char *n = PQcmdTuples(res);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

/* ---- users and tokens ---- */

/* The columns USER_COLS of row r; strings lent from res. */
static void read_user(const PGresult *res, int r, struct kw_user_row *out)
{
    *out = (struct kw_user_row){
        .id = kwp_col_int(res, r, 0),
        .org_id = kwp_col_int(res, r, 1),
        .team_id = kwp_col_int(res, r, 2),
        .email = kwp_col_text(res, r, 3),
        .name = kwp_col_text(res, r, 4),
        .role = kwp_col_text(res, r, 5),
        .skills = kwp_col_text(res, r, 6),
        .lang = kwp_col_text(res, r, 7),
        .tz = kwp_col_text(res, r, 8),
        .deactivated_at = kwp_col_instant(res, r, 9),
        .active = strcmp(PQgetvalue(res, r, 10), "t") == 0,
    };
}

enum kw_code kw_store_user_password(struct kw_store *st, const char *email, int64_t *user_id,
                                    char hash[KW_PASSWORD_HASH_BUF], struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    hash[0] = '\0';
    struct kwp_params p = {0};
    kwp_text(&p, email);
    PGresult *res = run(st, PGS_USER_BY_EMAIL, &p, "read user", err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 0)
        rc = kw_err_set(err, KW_NOT_FOUND, "/email", "no user with that e-mail");
    else {
        *user_id = kwp_col_int(res, 0, 0);
        if (!PQgetisnull(res, 0, 1))
            snprintf(hash, KW_PASSWORD_HASH_BUF, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

/* One user by s (PGS_USER_GET or PGS_TOKEN_CALLER) into out, the row lent. */
static enum kw_code one_user(struct kw_store *st, enum pgs s, const struct kwp_params *p,
                             struct kw_user_row *out, enum kw_code none, const char *what,
                             struct kw_err *err)
{
    PGresult *res = run(st, s, p, what, err);
    if (!res)
        return err->code;
    if (PQntuples(res) == 0) {
        PQclear(res);
        if (none == KW_UNAUTHENTICATED)
            return kw_err_set(err, none, "", "the token is unknown, expired or revoked");
        return kw_err_set(err, none, "", "no user %s", p->v[0]);
    }
    read_user(res, 0, out);
    kwp_lend(st, res); /* the strings live until the next call */
    return KW_OK;
}

enum kw_code kw_store_user_get(struct kw_store *st, int64_t id, struct kw_user_row *out,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, id);
    return one_user(st, PGS_USER_GET, &p, out, KW_NOT_FOUND, "read user", err);
}

enum kw_code kw_store_users(struct kw_store *st, int64_t org_id, int64_t after, size_t limit,
                            bool (*fn)(const struct kw_user_row *u, void *ctx), void *ctx,
                            struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, after);
    kwp_int(&p, org_id);
    kwp_int(&p, (int64_t)limit);
    PGresult *res = run(st, PGS_USERS, &p, "list users", err);
    if (!res)
        return err->code;
    /* the callback may call the store: the rows are this call's own */
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_user_row u;
        read_user(res, r, &u);
        if (!fn(&u, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_token_insert(struct kw_store *st, int64_t user_id,
                                   const unsigned char digest[KW_HASH_BYTES], const char *kind,
                                   const char *label, int64_t now, int64_t expires_at,
                                   int64_t *token_id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, user_id);
    kwp_bytes(&p, digest, KW_HASH_BYTES);
    kwp_text(&p, kind);
    kwp_text(&p, label);
    kwp_int(&p, now);
    kwp_instant(&p, expires_at);
    PGresult *res = run(st, PGS_TOKEN_INSERT, &p, "store token", err);
    if (!res)
        return err->code;
    if (token_id)
        *token_id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_tokens(struct kw_store *st, int64_t user_id, int64_t now,
                             bool (*fn)(const struct kw_token_row *t, void *ctx), void *ctx,
                             struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, user_id);
    kwp_int(&p, now);
    PGresult *res = run(st, PGS_TOKENS, &p, "list tokens", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_token_row t = {
            .id = kwp_col_int(res, r, 0),
            .kind = kwp_col_text(res, r, 1),
            .label = kwp_col_text(res, r, 2),
            .created_at = kwp_col_int(res, r, 3),
            .expires_at = kwp_col_instant(res, r, 4),
        };
        if (!fn(&t, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_token_revoke_id(struct kw_store *st, int64_t user_id, int64_t token_id,
                                      int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, token_id);
    kwp_int(&p, user_id);
    kwp_int(&p, now);
    PGresult *res = run(st, PGS_TOKEN_REVOKE_ID, &p, "revoke token", err);
    if (!res)
        return err->code;
    int64_t n = touched(res);
    PQclear(res);
    return n ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no token %lld", (long long)token_id);
}

enum kw_code kw_store_token_user(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                 int64_t now, int64_t *user_id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_bytes(&p, digest, KW_HASH_BYTES);
    kwp_int(&p, now);
    PGresult *res = run(st, PGS_TOKEN_USER, &p, "read token", err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    if (PQntuples(res) == 0)
        rc = kw_err_set(err, KW_UNAUTHENTICATED, "", "the token is unknown, expired or revoked");
    else
        *user_id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return rc;
}

enum kw_code kw_store_token_caller(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                   int64_t now, struct kw_user_row *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_bytes(&p, digest, KW_HASH_BYTES);
    kwp_int(&p, now);
    return one_user(st, PGS_TOKEN_CALLER, &p, out, KW_UNAUTHENTICATED, "read token", err);
}

enum kw_code kw_store_token_revoke(struct kw_store *st, const unsigned char digest[KW_HASH_BYTES],
                                   int64_t now, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_bytes(&p, digest, KW_HASH_BYTES);
    kwp_int(&p, now);
    return kwp_exec(st, PGS_TOKEN_REVOKE, &p, "revoke token", err);
}

/* ---- teams and calendars ---- */

enum kw_code kw_store_team_insert(struct kw_store *st, const char *name, int64_t lead_id,
                                  int64_t now, int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!name || !*name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (kwp_text_ok(name, "/name", err) != KW_OK)
        return err->code;
    if (kwp_refs(st, (const int64_t[4]){0, 0, lead_id, 0},
                 (const char *const[4]){"", "", "/lead_id", ""}, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_text(&p, name);
    kwp_int(&p, lead_id);
    kwp_int(&p, now);
    PGresult *res = run(st, PGS_TEAM_INSERT, &p, "insert team", err);
    if (!res)
        return err->code;
    if (PQntuples(res) == 0) { /* ON CONFLICT (name) DO NOTHING */
        PQclear(res);
        return kw_err_set(err, KW_CONFLICT, "/name", "a team named \"%.60s\" exists", name);
    }
    *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}

/* id, name, and a text (calendars: the spec, then the latest version) or a
 * reference (teams) of row r. */
static void read_named(const PGresult *res, int r, bool calendar, struct kw_named_row *out)
{
    *out = (struct kw_named_row){
        .id = kwp_col_int(res, r, 0),
        .name = kwp_col_text(res, r, 1),
    };
    if (calendar) {
        out->text = kwp_col_text(res, r, 2);
        out->ref = kwp_col_int(res, r, 3);
    } else
        out->ref = kwp_col_int(res, r, 2);
}

static enum kw_code each_named(struct kw_store *st, enum pgs s, const struct kwp_params *p,
                               bool calendar, bool (*fn)(const struct kw_named_row *r, void *ctx),
                               void *ctx, const char *what, struct kw_err *err)
{
    PGresult *res = run(st, s, p, what, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_named_row row;
        read_named(res, r, calendar, &row);
        if (!fn(&row, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_teams(struct kw_store *st, int64_t only,
                            bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                            struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    if (only)
        kwp_int(&p, only);
    return each_named(st, only ? PGS_TEAM_GET : PGS_TEAMS, &p, false, fn, ctx, "list teams", err);
}

enum kw_code kw_store_calendars(struct kw_store *st, const char *only,
                                bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                                struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    if (only)
        kwp_text(&p, only);
    return each_named(st, only ? PGS_CALENDAR_GET : PGS_CALENDARS, &p, true, fn, ctx,
                      "list calendars", err);
}

/* The save itself, inside a transaction: the calendar's row is locked while
 * its next version is numbered. */
static enum kw_code calendar_save(struct kw_store *st, const char *name, const char *spec,
                                  int64_t now, struct kw_calendar_saved *out, struct kw_err *err)
{
    struct kwp_params p = {0};
    kwp_text(&p, name);
    PGresult *res = run(st, PGS_CALENDAR_LATEST, &p, "read calendar", err);
    if (!res)
        return err->code;
    int64_t last_at = INT64_MIN;
    if (PQntuples(res) == 1) {
        out->id = kwp_col_int(res, 0, 0);
        out->version = kwp_col_int(res, 0, 1);
        if (!PQgetisnull(res, 0, 3))
            last_at = kwp_col_int(res, 0, 3);
        const char *was = kwp_col_text(res, 0, 2);
        if (was && strcmp(was, spec) == 0) { /* a save that changes nothing adds none */
            out->saved_at = last_at;
            PQclear(res);
            return KW_OK;
        }
    }
    PQclear(res);
    p = (struct kwp_params){0};
    kwp_text(&p, name);
    kwp_text(&p, spec);
    kwp_int(&p, now);
    if (!(res = run(st, PGS_CALENDAR_PUT, &p, "store calendar", err)))
        return err->code;
    out->id = kwp_col_int(res, 0, 0);
    PQclear(res);
    /* versions apply in the order they were saved, even when the clock
     * stepped back in between */
    out->saved_at = now > last_at ? now : last_at;
    out->version++;
    out->added = true;
    p = (struct kwp_params){0};
    kwp_int(&p, out->id);
    kwp_int(&p, out->version);
    kwp_text(&p, spec);
    kwp_int(&p, out->saved_at);
    return kwp_exec(st, PGS_CALENDAR_VERSION_ADD, &p, "store calendar version", err);
}

enum kw_code kw_store_calendar_save(struct kw_store *st, const char *name, const char *spec,
                                    int64_t now, struct kw_calendar_saved *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *out = (struct kw_calendar_saved){0};
    if (!name || !*name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (kwp_text_ok(name, "/name", err) != KW_OK || kwp_text_ok(spec, "/spec", err) != KW_OK)
        return err->code;
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(st, outer, calendar_save(st, name, spec, now, out, err), err);
}

enum kw_code kw_store_calendar_put(struct kw_store *st, const char *name, const char *spec,
                                   int64_t now, int64_t *id, struct kw_err *err)
{
    struct kw_calendar_saved saved;
    enum kw_code rc = kw_store_calendar_save(st, name, spec, now, &saved, err);
    *id = saved.id;
    return rc;
}

enum kw_code kw_store_calendar_versions(struct kw_store *st, const char *name,
                                        bool (*fn)(const struct kw_calendar_version *v, void *ctx),
                                        void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, name);
    PGresult *res = run(st, PGS_CALENDAR_VERSIONS, &p, "list calendar versions", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_calendar_version v = {
            .calendar_id = kwp_col_int(res, r, 0),
            .name = kwp_col_text(res, r, 1),
            .version = kwp_col_int(res, r, 2),
            .spec = kwp_col_text(res, r, 3),
            .saved_at = kwp_col_int(res, r, 4),
        };
        if (!fn(&v, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

/* ---- the ticket row, its clocks and the engine's schedule ---- */

enum kw_code kw_store_ticket_set(struct kw_store *st, int64_t id, const struct kw_ticket_patch *p,
                                 struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params q = {0};
    kwp_int(&q, id);
    kwp_text(&q, p->level);
    kwp_text(&q, p->category);
    kwp_int(&q, p->assignee_id);
    kwp_int(&q, p->team_id);
    kwp_text(&q, p->title);
    kwp_text(&q, p->region);
    kwp_int(&q, p->requester_id);
    if (kwp_refs(st, (const int64_t[4]){0, p->team_id, p->assignee_id, 0},
                 (const char *const[4]){"", "/team_id", "/assignee_id", ""}, err) != KW_OK)
        return err->code;
    kwp_pre_forget(st, id);
    PGresult *res = run(st, PGS_TICKET_SET, &q, "update ticket", err);
    if (!res)
        return err->code;
    int64_t n = touched(res);
    PQclear(res);
    return n ? KW_OK : kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)id);
}

/* The order of PGS_CLOCKS_OF: deadline (none last), then metric. */
static int clock_order(const void *a, const void *b)
{
    const struct kwp_clock_kept *x = a, *y = b;
    int64_t dx = x->deadline == KW_STORE_NO_TIME ? INT64_MAX : x->deadline,
            dy = y->deadline == KW_STORE_NO_TIME ? INT64_MAX : y->deadline;
    return dx < dy ? -1 : dx > dy ? 1 : strcmp(x->metric, y->metric);
}

/* Keep the rows clocks_put wrote as PGS_CLOCKS_OF would read them back
 * (next_pct 0 where it stored none), unless they do not fit. */
static void keep_clocks(struct kw_store *st, const struct kw_clock_row *rows, size_t n)
{
    const size_t cap = sizeof(st->clocks) / sizeof(st->clocks[0]);
    st->clocks_kept = false;
    if (n > cap)
        return;
    for (size_t i = 0; i < n; i++) {
        struct kwp_clock_kept *k = &st->clocks[i];
        if (!rows[i].metric || !rows[i].status || strlen(rows[i].metric) >= sizeof(k->metric) ||
            strlen(rows[i].status) >= sizeof(k->status))
            return;
        strcpy(k->metric, rows[i].metric);
        strcpy(k->status, rows[i].status);
        k->deadline = rows[i].deadline;
        k->next_due = rows[i].next_due;
        k->next_pct = rows[i].next_due == KW_STORE_NO_TIME ? 0 : rows[i].next_pct;
    }
    qsort(st->clocks, n, sizeof(st->clocks[0]), clock_order);
    st->n_clocks = (int)n;
    st->clocks_kept = true;
}

static enum kw_code clocks_put(struct kw_store *st, int64_t ticket, bool fresh,
                               const struct kw_clock_row *rows, size_t n, int64_t next_due,
                               int64_t breached_at, int64_t fire_at, struct kw_err *err)
{
    kwp_pre_forget(st, ticket); /* its schedule and row change */
    /* the clocks as one JSON array, with the deletion of the old ones and
     * the schedule one statement; a write whose answer nothing reads: with
     * the next statement */
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *o = json_object();
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            a = NULL;
            break;
        }
        json_object_set_new(o, "metric", kwp_json_text(rows[i].metric));
        json_object_set_new(o, "status", kwp_json_text(rows[i].status));
        json_object_set_new(o, "deadline", kwp_json_instant(rows[i].deadline));
        json_object_set_new(o, "next_due", kwp_json_instant(rows[i].next_due));
        json_object_set_new(o, "next_pct",
                            rows[i].next_due == KW_STORE_NO_TIME ? json_null()
                                                                 : json_integer(rows[i].next_pct));
    }
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!text)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the clocks");
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    kwp_text(&p, text);
    kwp_text(&p, fresh ? "f" : "t");
    kwp_instant(&p, next_due);
    kwp_instant(&p, breached_at);
    kwp_instant(&p, fire_at);
    enum kw_code rc = kwp_exec_later_clocks(st, &p, err); /* with its event, if it can */
    free(text);                                           /* kwp_exec_later copied it */
    if (rc != KW_OK)
        return rc;
    st->due_ticket = ticket; /* what the unit reads next (kw_store_fire_at) */
    st->due_fire_at = fire_at;
    keep_clocks(st, rows, n);
    kwp_claim_done(st, ticket); /* a new schedule ends its claim */
    return KW_OK;
}

enum kw_code kw_store_clocks_put(struct kw_store *st, int64_t ticket, bool fresh,
                                 const struct kw_clock_row *rows, size_t n, int64_t next_due,
                                 int64_t breached_at, int64_t fire_at, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    /* inside the caller's transaction (the engine's and every action's):
     * no savepoint, which would cost two more round trips */
    if (st->in_tx)
        return clocks_put(st, ticket, fresh, rows, n, next_due, breached_at, fire_at, err);
    bool outer;
    if (kwp_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kwp_tx_finish(
        st, outer, clocks_put(st, ticket, fresh, rows, n, next_due, breached_at, fire_at, err),
        err);
}

static void read_clock(const PGresult *res, int r, struct kw_clock_row *out)
{
    *out = (struct kw_clock_row){
        .metric = kwp_col_text(res, r, 0),
        .status = kwp_col_text(res, r, 1),
        .deadline = kwp_col_instant(res, r, 2),
        .next_due = kwp_col_instant(res, r, 3),
        .next_pct = (int)kwp_col_int(res, r, 4),
    };
}

enum kw_code kw_store_ticket_clocks(struct kw_store *st, int64_t ticket,
                                    bool (*fn)(const struct kw_clock_row *c, void *ctx), void *ctx,
                                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (ticket && st->due_ticket == ticket && st->clocks_kept) { /* written by the call before */
        struct kwp_clock_kept k[sizeof(st->clocks) / sizeof(st->clocks[0])];
        int n = st->n_clocks;
        memcpy(k, st->clocks, (size_t)n * sizeof(k[0])); /* fn may call the store */
        for (int i = 0; i < n; i++) {
            struct kw_clock_row c = {k[i].metric, k[i].status, k[i].deadline, k[i].next_due,
                                     k[i].next_pct};
            if (!fn(&c, ctx))
                break;
        }
        return KW_OK;
    }
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res = run(st, PGS_CLOCKS_OF, &p, "read the clocks", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_clock_row c;
        read_clock(res, r, &c);
        if (!fn(&c, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

enum kw_code
kw_store_clock_runs(struct kw_store *st, const char *metric, int64_t team_id, size_t limit,
                    bool (*fn)(int64_t ticket, const struct kw_clock_row *c, void *ctx), void *ctx,
                    struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_text(&p, metric);
    kwp_int(&p, team_id);
    kwp_int(&p, (int64_t)limit);
    PGresult *res = run(st, PGS_CLOCK_RUNS, &p, "list running clocks", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_clock_row c;
        read_clock(res, r, &c);
        if (!fn(kwp_col_int(res, r, 5), &c, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}

/* Column 0 of every row into ids (as many as the statement's LIMIT). */
static enum kw_code ids_of(struct kw_store *st, enum pgs s, const struct kwp_params *p,
                           int64_t *ids, size_t *n, const char *what, struct kw_err *err)
{
    *n = 0;
    PGresult *res = run(st, s, p, what, err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++)
        ids[(*n)++] = kwp_col_int(res, r, 0);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_stale(struct kw_store *st, int64_t after, size_t max, int64_t *ids, size_t *n,
                            struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, after);
    kwp_int(&p, (int64_t)max);
    return ids_of(st, PGS_STALE, &p, ids, n, "find stale tickets", err);
}

enum kw_code kw_store_clocks_unstopped(struct kw_store *st, int64_t commitment_id, int64_t *n,
                                       struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, commitment_id);
    PGresult *res = run(st, PGS_UNSTOPPED, &p, "count open clocks", err);
    *n = res ? kwp_col_int(res, 0, 0) : 0;
    PQclear(res);
    return res ? KW_OK : err->code;
}

enum kw_code kw_store_clocks_restale(struct kw_store *st, int64_t commitment_id, int64_t *n,
                                     struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, commitment_id);
    PGresult *res = run(st, PGS_RESTALE, &p, "mark tickets for projection", err);
    *n = res ? touched(res) : 0;
    PQclear(res);
    return res ? KW_OK : err->code;
}

enum kw_code kw_store_fire_all(struct kw_store *st,
                               bool (*fn)(int64_t ticket, int64_t fire_at, void *ctx), void *ctx,
                               struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = run(st, PGS_FIRE_ALL, NULL, "read due tickets", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++)
        if (!fn(kwp_col_int(res, r, 0), kwp_col_int(res, r, 1), ctx))
            break;
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_fire_at(struct kw_store *st, int64_t ticket, int64_t *fire_at,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (ticket && st->due_ticket == ticket) { /* set by the call before */
        *fire_at = st->due_fire_at;
        return KW_OK;
    }
    if (kwp_pre_fire_at(st, ticket, fire_at)) /* read ahead (kw_store_prefetch) */
        return KW_OK;
    struct kwp_params p = {0};
    kwp_int(&p, ticket);
    PGresult *res = run(st, PGS_FIRE_ONE, &p, "read ticket", err);
    *fire_at = res && PQntuples(res) == 1 ? kwp_col_instant(res, 0, 0) : KW_STORE_NO_TIME;
    PQclear(res);
    return res ? KW_OK : err->code;
}

/* The node as stored with a claim: a 31-bit FNV-1a hash of its name, as on
 * SQLite (tickets.c there says why a collision still fires once). */
static int64_t node_key(const char *node)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)(node ? node : ""); *c; c++)
        h = (h ^ *c) * 16777619u;
    return (int64_t)(h & 0x7fffffff);
}

enum kw_code kw_store_due_claim(struct kw_store *st, int64_t now, int64_t lease_s, const char *node,
                                const int64_t *hints, size_t n_hints, size_t limit,
                                int64_t *tickets, size_t *n, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_claims *c = &st->claims;
    int64_t key = node_key(node), until = now + lease_s;
    char hinted[KWP_INT_ARRAY_BYTES(KW_STORE_CLAIM_HINTS)];
    kwp_int_array(hinted, hints, n_hints < KW_STORE_CLAIM_HINTS ? n_hints : KW_STORE_CLAIM_HINTS);
    struct kwp_params p = {0};
    kwp_int(&p, now);
    kwp_int(&p, key);
    kwp_int(&p, (int64_t)limit);
    kwp_text(&p, hinted);
    /* Inside a transaction the row locks are the claim until its end, and
     * a claim row written now would be deleted by the firing's new
     * schedule in the same transaction: three row changes a firing for
     * nothing. Only what the transaction leaves unfired gets its row, at
     * the commit (kwp_claims_keep). (Outside a transaction, or past what
     * the handle keeps: the rows now, as before.) */
    if (!st->in_tx || limit > KWPG_MAX_CLAIMS - (size_t)c->n ||
        (c->n && (c->node != key || c->until != until))) {
        kwp_int(&p, until);
        return ids_of(st, PGS_DUE_CLAIM, &p, tickets, n, "claim due tickets", err);
    }
    PGresult *res = run(st, PGS_DUE_LOCK, &p, "claim due tickets", err);
    *n = 0;
    if (!res)
        return err->code;
    c->node = key;
    c->until = until;
    c->now = now;
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t id = kwp_col_int(res, r, 0);
        tickets[(*n)++] = id;
        int i = 0;
        while (i < c->n && c->t[i].id != id) /* claimed again in this transaction */
            i++;
        c->t[i] = (struct kwp_claim){.id = id, .fire_at = kwp_col_int(res, r, 1)};
        c->n += i == c->n;
    }
    PQclear(res);
    return KW_OK;
}

void kwp_claim_done(struct kw_store *st, int64_t ticket)
{
    for (int i = 0; i < st->claims.n; i++)
        if (st->claims.t[i].id == ticket)
            st->claims.t[i].done = true;
}

enum kw_code kwp_claims_keep(struct kw_store *st, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_claims *c = &st->claims;
    int64_t id[KWPG_MAX_CLAIMS], fire_at[KWPG_MAX_CLAIMS];
    size_t k = 0;
    for (int i = 0; i < c->n; i++)
        if (!c->t[i].done) { /* a ticket the transaction gave no new schedule */
            id[k] = c->t[i].id;
            fire_at[k++] = c->t[i].fire_at;
        }
    if (k == 0) { /* every claimed ticket got its new schedule: nothing to keep */
        c->n = 0;
        return KW_OK;
    }
    char ids[KWP_INT_ARRAY_BYTES(KWPG_MAX_CLAIMS)], at[KWP_INT_ARRAY_BYTES(KWPG_MAX_CLAIMS)];
    kwp_int_array(ids, id, k);
    kwp_int_array(at, fire_at, k);
    struct kwp_params p = {0};
    kwp_text(&p, ids);
    kwp_text(&p, at);
    kwp_int(&p, c->node);
    kwp_int(&p, c->until);
    kwp_int(&p, c->now);
    c->n = 0;
    /* with the COMMIT, in its round trip */
    return kwp_exec_later(st, PGS_CLAIM_KEEP, &p, "keep claims", err);
}

enum kw_code kw_store_census(struct kw_store *st,
                             void (*fn)(const char *table, const char *state, int64_t n, void *ctx),
                             void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = run(st, PGS_CENSUS, NULL, "count tickets and outbox rows", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++)
        fn(PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), kwp_col_int(res, r, 2), ctx);
    PQclear(res);
    return KW_OK;
}

/* ---- on-call rotas ---- */

enum kw_code kw_store_oncall_put(struct kw_store *st, const char *name, int64_t team_id, int level,
                                 const char *spec, int64_t now, int64_t *id, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kwp_refs(st, (const int64_t[4]){0, team_id, 0, 0},
                 (const char *const[4]){"", "/team_id", "", ""}, err) != KW_OK)
        return err->code;
    struct kwp_params p = {0};
    kwp_text(&p, name);
    kwp_int(&p, team_id);
    kwp_int(&p, level);
    kwp_text(&p, spec);
    kwp_int(&p, now);
    PGresult *res = run(st, PGS_ONCALL_PUT, &p, "store the rota", err);
    if (!res)
        return err->code;
    *id = kwp_col_int(res, 0, 0);
    PQclear(res);
    return KW_OK;
}

enum kw_code kw_store_oncalls(struct kw_store *st, int64_t team_id, int level, int64_t id,
                              bool (*fn)(const struct kw_oncall_row *r, void *ctx), void *ctx,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    kwp_int(&p, team_id);
    kwp_int(&p, level);
    kwp_int(&p, id);
    PGresult *res = run(st, PGS_ONCALLS, &p, "read rotas", err);
    if (!res)
        return err->code;
    for (int r = 0; r < PQntuples(res); r++) {
        struct kw_oncall_row o = {
            .id = kwp_col_int(res, r, 0),
            .name = kwp_col_text(res, r, 1),
            .team_id = kwp_col_int(res, r, 2),
            .level = (int)kwp_col_int(res, r, 3),
            .spec = kwp_col_text(res, r, 4),
        };
        if (!fn(&o, ctx))
            break;
    }
    PQclear(res);
    return KW_OK;
}
