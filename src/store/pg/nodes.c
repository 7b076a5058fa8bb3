// SPDX-License-Identifier: MIT
/* Several nodes on one database (docs/operations.md, "Several nodes"): the
 * change log's announcements (LISTEN kw_changes; migration 004 sends them
 * at commit), desk-wide singletons under session advisory locks, and the
 * log's lock for a unit of work. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* The newest seq among the notifications received so far into *seq. */
static void drain(struct kw_store *st, int64_t *seq)
{
    PGnotify *n;
    while ((n = PQnotifies(st->conn))) {
        int64_t v = n->extra ? strtoll(n->extra, NULL, 10) : 0;
        if (v > *seq)
            *seq = v;
        PQfreemem(n);
    }
}

/* Connect again when the connection broke (a database restart, a network
 * cut); false when it is still down. */
static bool connected(struct kw_store *st)
{
    if (PQstatus(st->conn) == CONNECTION_OK)
        return true;
    st->listening = false;
    PQreset(st->conn);
    return PQstatus(st->conn) == CONNECTION_OK;
}

enum kw_code kw_store_changes_wait(struct kw_store *st, int timeout_ms, int64_t *seq,
                                   struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *seq = 0;
    if (!connected(st))
        return kw_err_set(err, KW_STORE, "", "listen for changes on %s: %s", st->where,
                          PQerrorMessage(st->conn));
    if (!st->listening) {
        PGresult *res = PQexec(st->conn, "LISTEN kw_changes");
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok)
            return kw_err_set(err, KW_STORE, "", "listen for changes on %s: %s", st->where,
                              PQerrorMessage(st->conn));
        st->listening = true;
        *seq = -1; /* anything before this was not announced to us */
        return KW_OK;
    }
    drain(st, seq);
    if (*seq)
        return KW_OK;
    struct pollfd p = {.fd = PQsocket(st->conn), .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return KW_OK;
    if (!PQconsumeInput(st->conn)) { /* the connection broke: the next call reconnects */
        st->listening = false;
        if (connected(st))
            return kw_store_changes_wait(st, 0, seq, err);
        return kw_err_set(err, KW_STORE, "", "listen for changes on %s: %s", st->where,
                          PQerrorMessage(st->conn));
    }
    drain(st, seq);
    return KW_OK;
}

enum kw_code kw_store_singleton(struct kw_store *st, int64_t key, bool *held, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *held = false;
    if (!connected(st))
        return kw_err_set(err, KW_STORE, "", "take a singleton on %s: %s", st->where,
                          PQerrorMessage(st->conn));
    /* already ours: keep it (a second pg_try_advisory_lock would stack it);
     * else try to take it (a session lock: it ends with the connection) */
    char k[24];
    snprintf(k, sizeof(k), "%lld", (long long)key);
    const char *v[1] = {k};
    PGresult *res = PQexecParams(
        st->conn,
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
        " AND pid = pg_backend_pid() AND granted AND classid = 0 AND objsubid = 1"
        " AND objid::bigint = $1::bigint) THEN true ELSE pg_try_advisory_lock($1::bigint) END",
        1, NULL, v, NULL, NULL, 0);
    enum kw_code rc = KW_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        rc = kw_err_set(err, KW_STORE, "", "take a singleton on %s: %s", st->where,
                        PQerrorMessage(st->conn));
    else
        *held = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}

enum kw_code kw_store_log_lock(struct kw_store *st, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    /* the leaves this transaction kept go first, under the lock */
    if (kwp_log_settle(st, err) != KW_OK)
        return err->code;
    st->log_locked = true; /* its commit as a settled one's (kwp_run) */
    return kwp_exec(st, PGS_LOG_LOCK, NULL, "lock the log", err);
}
