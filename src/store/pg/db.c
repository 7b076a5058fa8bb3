// SPDX-License-Identifier: MIT
/* The PostgreSQL connection: open (connect, migrate under an advisory lock,
 * prepare the catalogue), close, transactions and savepoints, parameters and
 * columns, and the statement catalogue itself. A write is acknowledged after
 * its COMMIT returned, which with PostgreSQL's synchronous_commit = on (the
 * default; docs/operations.md) is after the commit record is on disk; one
 * that took the Merkle log's lock commits without waiting for the flush and
 * is acknowledged after a barrier that waits for it (kwp_run), so other
 * connections may see it up to one WAL flush before it is durable. */
#include "pg_int.h"

#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns kwp_read_user() reads, in its order (users as u), and whether
 * neither the person nor their organisation is deactivated. */
#define USER_ACTIVE                                                                                \
    "(u.deactivated_at IS NULL AND NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = u.org_id"         \
    " AND o.deactivated_at IS NOT NULL))"
#define USER_COLS                                                                                  \
    "u.id, coalesce(u.org_id, 0), coalesce(u.team_id, 0), u.email, u.name, u.role, u.skills,"      \
    " u.lang, u.tz, u.deactivated_at, " USER_ACTIVE
/* a live token: neither revoked nor expired at $2 */
#define TOKEN_LIVE                                                                                 \
    "t.hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
/* a clock that has not stopped */
#define CLOCK_OPEN "c.status IN ('pending', 'running', 'paused', 'breached')"

#define TF_COLS                                                                                    \
    "t.id, t.org_id, coalesce(t.commitment_id, 0), coalesce(t.team_id, 0),"                        \
    " coalesce(t.assignee_id, 0), t.level, t.tier, o.name, t.category, t.region, t.channel"
#define TF_EVENTS(type)                                                                            \
    "SELECT " TF_COLS ", e.at, coalesce((e.body::jsonb->>'satisfaction')::numeric::int, 0),"       \
    " coalesce((e.body::jsonb->>'nps')::numeric::int, -1) FROM events e JOIN tickets t"            \
    " ON t.id = e.ticket_id JOIN orgs o ON o.id = t.org_id WHERE e.type = '" type "'"              \
    " AND e.at >= $1 AND e.at < $2 AND ($3::bigint = 0 OR t.org_id = $3)"
#define TF_FROM " FROM tickets t JOIN orgs o ON o.id = t.org_id"
/* a ticket's dated KPI facts (kw_store_ticket_marks) */
#define MARKS_RESOLVED "SELECT ticket_id, seq, at, 1, 0, -1, 0::bigint, 0::bigint FROM events"
#define MARKS_REOPENED                                                                             \
    "SELECT ticket_id, seq, at, 2, 0, -1, 0, 0 FROM events WHERE type = 'reopened'"
#define MARKS_RATED                                                                                \
    "SELECT ticket_id, seq, at, 3, coalesce((body::jsonb->>'satisfaction')::numeric::int, 0),"     \
    " coalesce((body::jsonb->>'nps')::numeric::int, -1), 0, 0 FROM events WHERE type = 'rating'"
#define MARKS_TIME                                                                                 \
    "SELECT e.ticket_id, e.seq, e.at, 5, 0, -1, coalesce((SELECT (c.body::jsonb->>'seconds')"      \
    "::numeric::bigint FROM events c WHERE c.ticket_id = e.ticket_id AND c.type = 'time_spent'"    \
    " AND (c.body::jsonb->>'corrects')::numeric = e.seq ORDER BY c.seq DESC LIMIT 1),"             \
    " (e.body::jsonb->>'seconds')::numeric::bigint, 0), coalesce((e.body::jsonb->>'team_id')"      \
    "::numeric::bigint, 0) FROM events e WHERE e.type = 'time_spent'"                              \
    " AND e.body::jsonb->>'corrects' IS NULL"
/* the state at $2 by the events before it (a reopening without one: handling) */
#define TF_STATE_AT_END(end)                                                                       \
    "coalesce((SELECT s.state FROM kpi_states s WHERE s.ticket_id = t.id AND s.at < " end          \
    " ORDER BY s.seq DESC LIMIT 1), 'registered')"
#define TF_STATE_AT TF_STATE_AT_END("$2")
#define TF_OPEN_STATES "('registered', 'analysing', 'handling', 'waiting_customer')"
#define RUN_COLS                                                                                   \
    "ticket_id, metric, run, org_id, coalesce(commitment_id, 0), status, started_at, stopped_at,"  \
    " deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from,"        \
    " coalesce(team_id, 0), coalesce(assignee_id, 0), calendar, level, tier, organisation,"        \
    " category, region, channel"

#define CONTRACT_COLS                                                                              \
    "id, org_id, coalesce(commitment_id, 0), value, currency, billing, period_start,"              \
    " period_end, coalesce(deposit_percent, -1), coalesce(deposit_amount, -1), deposit_held,"      \
    " dual_above, created_at, updated_at"
#define LEDGER_COLS                                                                                \
    "id, org_id, seq, coalesce(contract_id, 0), coalesce(ticket_id, 0), coalesce(overrun_id, 0),"  \
    " actor, coalesce(approved_by, 0), at, kind, body, against, amount, quantity, hash"
#define INTAKE_COLS                                                                                \
    "SELECT id, name, kind, acting_user, org_id, coalesce(team_id, 0), category, level, rules,"    \
    " on_resolve, per_minute, active, created_at FROM intake_sources"

const char *const kwp_sql[PGS_COUNT] = {
    [PGS_BEGIN] = "BEGIN",
    [PGS_COMMIT] = "COMMIT",
    [PGS_ROLLBACK] = "ROLLBACK",
    [PGS_SAVEPOINT] = "SAVEPOINT kw",
    [PGS_RELEASE] = "RELEASE SAVEPOINT kw",
    /* a transaction that holds the Merkle log's lock commits without
     * waiting for its WAL flush: its locks go when its commit record is
     * written, so the next holder's commit is flushed with it (one flush
     * for several, PostgreSQL's group commit) instead of after it */
    [PGS_COMMIT_ASYNC] = "SELECT set_config('synchronous_commit', 'off', true)",
    /* then, in the same round trip, a transaction of its own that writes
     * WAL under a transaction id (a transactional logical message, 8 bytes
     * of payload; a transaction id alone writes nothing, and such a
     * commit is not flushed): its commit, at the session's
     * synchronous_commit (the operator's), waits for the WAL flushed (and
     * replicated, when that is asked) past its own commit record, which
     * lies after the one before */
    [PGS_COMMIT_BARRIER] = "SELECT pg_logical_emit_message(true, 'keepword', 'barrier')",
    [PGS_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT kw",
    [PGS_ORG_INSERT] = "INSERT INTO orgs(name, tier, region, calendar, contract_value_cents,"
                       " created_at, account_manager_id) VALUES ($1, $2, $3, $4, $5, $6,"
                       " nullif($7::bigint, 0)) ON CONFLICT (name) DO NOTHING RETURNING id",
    [PGS_ORGS] = "SELECT id, name, tier, region, calendar, contract_value_cents,"
                 " coalesce(account_manager_id, 0), deactivated_at FROM orgs"
                 " WHERE id > $1 AND ($2 = 0 OR id = $2) ORDER BY id LIMIT $3",
    [PGS_ORG_GET] = "SELECT id, name, tier, region, calendar, contract_value_cents,"
                    " coalesce(account_manager_id, 0), deactivated_at FROM orgs WHERE id = $1",
    /* PGS_ORG_GET's columns (NULL: no organisation $1) and the commitment
     * in force at $2 (PGS_COMMITMENT_AT), one snapshot */
    [PGS_ORG_TERMS] = "SELECT o.id, o.name, o.tier, o.region, o.calendar, o.contract_value_cents,"
                      " coalesce(o.account_manager_id, 0), o.deactivated_at,"
                      " coalesce((SELECT id FROM commitments WHERE effective_from <= $2"
                      " ORDER BY effective_from DESC, id DESC LIMIT 1), 0),"
                      " nextval('tickets_id_seq')" /* the create's id (kw_store.next_ticket) */
                      " FROM (SELECT 1) one LEFT JOIN orgs o ON o.id = $1",
    [PGS_TICKET_BY_KEY] =
        "SELECT id, request_digest FROM tickets WHERE created_by = $1 AND idempotency_key = $2",
/* org_id NULL (SQLSTATE 23502, not-null violation) when there is no
 * organisation $1: the check and the insert in one round trip; the
 * commitment the caller read ($13), so that its checks, the clocks it
 * projects and the ticket follow one version even when another node
 * adds one in between (read committed); PGS_TICKET_INSERT_AT looks up
 * the one in force at $10 itself. Two statements, not a CASE on a
 * parameter: with both branches in one plan, a custom plan (without the
 * branch not taken) was always cheaper than the generic one, so each
 * insert was planned again (0.07 ms of server time, pg_stat_statements'
 * track_planning) */
#define TICKET_INSERT(id, seq, head, commitment)                                                   \
    "INSERT INTO tickets(" id "org_id, title, state, level, tier, category, region, channel,"      \
    " created_by, idempotency_key, created_at, updated_at, last_seq, head_hash, commitment_id,"    \
    " request_digest, requester_id)"                                                               \
    " VALUES (" seq "(SELECT id FROM orgs WHERE id = $1), $2, 'registered', $3, $4, $5, $6, $7,"   \
    " $8, $9, $10, $10, " head ", " commitment ", $11, nullif($12::bigint, 0))"                    \
    " ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL"                 \
    " DO NOTHING RETURNING id"
#define ZERO_HEAD "0, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea"
    [PGS_TICKET_INSERT] = TICKET_INSERT("", "", ZERO_HEAD, "nullif($13::bigint, 0)"),
    [PGS_TICKET_INSERT_AT] = TICKET_INSERT("", "", ZERO_HEAD,
                                           "(SELECT id FROM commitments WHERE effective_from <= $10"
                                           " ORDER BY effective_from DESC, id DESC LIMIT 1)"),
    /* PGS_TICKET_INSERT as ticket $14 (the id PGS_ORG_TERMS reserved) with
     * its first event ($15, at $10) as its head: PGS_EVENT_FIRST then
     * writes no second version of the row */
    [PGS_TICKET_INSERT_ID] = TICKET_INSERT("id, ", "$14, ", "1, $15", "nullif($13::bigint, 0)"),
#undef ZERO_HEAD
#undef TICKET_INSERT
    /* FOR UPDATE: two nodes appending to one ticket take turns, so each
     * event's prev is the head the other committed */
    [PGS_TICKET_HEAD] =
        "SELECT last_seq, head_hash, updated_at FROM tickets WHERE id = $1 FOR UPDATE",
/* a ticket's clocks (rows: a JSON array of objects) as PGS_CLOCK_PUT
 * writes them, and the end of a claim on its old schedule (t: the ticket) */
#define CLOCK_ROWS(t, rows, fresh)                                                                 \
    "n AS (SELECT * FROM json_to_recordset(" rows "::json) AS c(metric text,"                      \
    " status text, deadline bigint, next_due bigint, next_pct integer)),"                          \
    " d AS (DELETE FROM clocks WHERE " fresh "::boolean AND ticket_id = " t                        \
    " AND metric NOT IN (SELECT metric FROM n)),"                                                  \
    " c AS (INSERT INTO clocks(ticket_id, metric, status, deadline, next_due,"                     \
    " next_pct) SELECT " t ", metric, status, deadline, next_due, next_pct FROM n"                 \
    " ON CONFLICT (ticket_id, metric) DO UPDATE"                                                   \
    " SET status = excluded.status, deadline = excluded.deadline,"                                 \
    " next_due = excluded.next_due, next_pct = excluded.next_pct"                                  \
    " WHERE (clocks.status, clocks.deadline, clocks.next_due, clocks.next_pct)"                    \
    " IS DISTINCT FROM (excluded.status, excluded.deadline, excluded.next_due,"                    \
    " excluded.next_pct)),"                                                                        \
    " cl AS (DELETE FROM claims WHERE ticket = " t ")"
/* an event in one statement: the event and the ticket's new head (its
 * leaf and its change row are kept for the transaction's final step,
 * kwp_log_settle); each a statement of its own cost the server its
 * per-statement overhead (parse, bind, locks, executor) */
#define EVENT_ROWS                                                                                 \
    "WITH ev AS (INSERT INTO events(ticket_id, seq, at, type, actor_id, body,"                     \
    " hash) VALUES ($1, $2, $3, $4, $5, $6, $7))"
    [PGS_EVENT_INSERT] = EVENT_ROWS " UPDATE tickets SET last_seq = $2, head_hash = $7,"
                                    " updated_at = $3, state = coalesce($8, state) WHERE id = $1",
    /* PGS_EVENT_INSERT of a ticket's first event when its insert wrote the
     * head (PGS_TICKET_INSERT_ID): the data-modifying WITH parts run all
     * the same; $8 is named only to keep the parameters' types */
    [PGS_EVENT_FIRST] = EVENT_ROWS " SELECT $8::text",
    /* PGS_EVENT_INSERT and then PGS_CLOCK_PUT of the same ticket ($9 to
     * $13: PGS_CLOCK_PUT's $2 to $6) as one statement
     * (kwp_exec_later_clocks): the ticket's row gets its head and its
     * schedule in one new version instead of two, and the server one
     * statement's overhead less a firing; projected_seq is the event's seq,
     * the last_seq PGS_CLOCK_PUT would have read */
    [PGS_EVENT_CLOCKS] = EVENT_ROWS
    "," CLOCK_ROWS("$1", "$9", "$10") " UPDATE tickets SET last_seq = $2, head_hash = $7,"
                                      " updated_at = $3, state = coalesce($8, state),"
                                      " next_due = $11, breached_at = $12, fire_at = $13,"
                                      " projected_seq = $2 WHERE id = $1",
#undef EVENT_ROWS
    [PGS_EVENTS] = "SELECT seq, at, type, actor_id, body, hash, ticket_id FROM events"
                   " WHERE ticket_id = $1 ORDER BY seq",
    [PGS_CHANGES_SINCE] =
        "SELECT seq, ticket, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
    [PGS_CHANGES_FIRST] = "SELECT min(seq) FROM changes",
    [PGS_CHANGES_HEAD] = "SELECT coalesce(max(seq), 0) FROM changes",
    [PGS_CHANGES_PRUNE] = "DELETE FROM changes WHERE seq <= $1",
    /* the Merkle log has one writer at a time across all nodes: this lock,
     * held to the end of the transaction that appends */
    [PGS_LOG_LOCK] = "SELECT pg_advisory_xact_lock(7238001)",
    [PGS_LOG_SIZE] = "SELECT coalesce(max(idx) + 1, 0) FROM log_leaves",
    /* the log's size and its frontier at that size, the nodes an append
     * there reads: (level g, (size >> g) - 1) for each bit g of size that
     * is 1 (one row with g NULL when there are none), read in one round
     * trip under the log's lock (kwp_log_settle). Each node by a subquery
     * on both key columns, not a join: the statement is prepared once per
     * connection and its plan made at its first run, and made on a new
     * desk's empty tables the join looked nodes up by level alone and
     * filtered the index (a whole level read at each append: 229 buffers
     * against 33 at 14,000 leaves, and growing with the log, until an
     * ANALYZE made the plan again); the subquery's index scan takes both */
    [PGS_LOG_TAIL] = "SELECT x.s, g.g, (SELECT n.hash FROM log_nodes n WHERE n.level = g.g"
                     " AND n.idx = (x.s >> g.g) - 1) FROM (SELECT coalesce(max(idx) + 1, 0)"
                     " AS s FROM log_leaves) x LEFT JOIN LATERAL (SELECT g FROM"
                     " generate_series(0, 62) g WHERE (x.s >> g) & 1 = 1) g ON true",
    /* leaves $1, $1 + 1, ... of kinds $2, tickets $3 and seqs $4 (0: NULL),
     * their data $5 in slots of 64 bytes with lengths $6, and the nodes
     * their appends write: levels $7, indexes $8, hashes $9 (32 bytes
     * each), all in one statement */
    [PGS_LEAVES_ADD] = "WITH lf AS (INSERT INTO log_leaves(idx, kind, ticket, seq, data)"
                       " SELECT $1::bigint + o - 1, k, nullif(t, 0), nullif(q, 0),"
                       " substring($5::bytea FROM (o::int - 1) * 64 + 1 FOR l::int)"
                       " FROM unnest($2::text[], $3::bigint[], $4::bigint[], $6::bigint[])"
                       " WITH ORDINALITY AS u(k, t, q, l, o))"
                       " INSERT INTO log_nodes(level, idx, hash) SELECT lv, ix,"
                       " substring($9::bytea FROM (o::int - 1) * 32 + 1 FOR 32)"
                       " FROM unnest($7::int[], $8::bigint[]) WITH ORDINALITY AS u(lv, ix, o)",
    /* the change rows of tickets $1 at $2, in that order (and, when one's
     * number is a multiple of $3, the pruning of those more than $4
     * before the last) */
    [PGS_CHANGES_ADD] = "WITH c AS (INSERT INTO changes(ticket, at) SELECT t, a FROM"
                        " unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS u(t, a, o)"
                        " ORDER BY o RETURNING seq) DELETE FROM changes WHERE"
                        " EXISTS (SELECT 1 FROM c WHERE c.seq % $3 = 0)"
                        " AND seq <= (SELECT max(seq) FROM c) - $4",
    /* the audit trail has one writer at a time across all nodes: this
     * lock, held to the end of the transaction that appends (its leaf
     * goes to the log at the end, kwp_log_settle) */
    [PGS_AUDIT_LOCK] = "SELECT pg_advisory_xact_lock(7238003)",
    [PGS_NODE_GET] = "SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2",
    [PGS_TICKET_GET] = "SELECT " TICKET_COLS " FROM tickets WHERE id = $1",
    [PGS_TICKET_STATE] = "SELECT state FROM tickets WHERE id = $1",
    [PGS_EVENT_LEAF] = "SELECT idx FROM log_leaves WHERE ticket = $1 AND seq = $2"
                       " AND kind = 'event'",
    [PGS_LEAF] = "SELECT kind, coalesce(ticket, 0), coalesce(seq, 0), data FROM log_leaves"
                 " WHERE idx = $1",
    [PGS_CP_ADD] = "INSERT INTO log_checkpoints(size, at, note) VALUES ($1, $2, $3)"
                   " ON CONFLICT (size) DO NOTHING",
    [PGS_CP_LAST] = "SELECT size, at, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
    [PGS_CP_AT] = "SELECT size, at, note FROM log_checkpoints WHERE size >= $1 ORDER BY size"
                  " LIMIT 1",
    [PGS_COMMITMENT_INSERT] = "INSERT INTO commitments(name, version, effective_from, doc,"
                              " created_at) VALUES ($1, $2, $3, $4, $5)"
                              " ON CONFLICT (name, version) DO NOTHING RETURNING id",
    [PGS_COMMITMENT_DOC] = "SELECT doc FROM commitments WHERE id = $1",
    [PGS_COMMITMENTS] = "SELECT id, name, version, effective_from, created_at FROM commitments"
                        " ORDER BY effective_from, id",
    [PGS_COMMITMENT_AT] = "SELECT id FROM commitments WHERE effective_from <= $1"
                          " ORDER BY effective_from DESC, id DESC LIMIT 1",
    [PGS_USER_INSERT] = "INSERT INTO users(email, name, role, org_id, team_id, password_hash,"
                        " created_at, skills) VALUES ($1, $2, $3, nullif($4::bigint, 0),"
                        " nullif($5::bigint, 0), $6, $7, coalesce($8, '[]'))"
                        " ON CONFLICT (email) DO NOTHING RETURNING id",
    [PGS_USER_COUNT] = "SELECT count(*) FROM users WHERE role = $1",
    /* $10 (the due cursor) is the other listing's: typed here so that both
     * take the same parameters */
    [PGS_TICKETS] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER
                    " AND id > $1 AND ($10::bigint IS NULL OR true) ORDER BY id LIMIT $5",
    [PGS_TICKETS_DUE] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER " AND (" DUE_KEY
                        ", id) > ($10, $1) ORDER BY " DUE_KEY ", id LIMIT $5",
/* kw_ticket_filter.order: $14 is its index in KW_TICKET_ORDERS, $1 the
 * offset; texts in byte order, as SQLite's BINARY collation sorts */
#define ORDER_KEYS(dir)                                                                            \
    "(CASE WHEN $14::int = 1 THEN title END) COLLATE \"C\" " dir ","                               \
    " (CASE WHEN $14 = 2 THEN state END) COLLATE \"C\" " dir ","                                   \
    " (CASE WHEN $14 = 3 THEN level END) COLLATE \"C\" " dir ","                                   \
    " (CASE WHEN $14 = 4 THEN " DUE_KEY " END) " dir                                               \
    ", (CASE WHEN $14 = 5 THEN updated_at END) " dir                                               \
    ", (CASE WHEN $14 = 6 THEN created_at END) " dir ", id " dir
    [PGS_TICKETS_ASC] =
        "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER
        " AND ($10::bigint IS NULL OR true) ORDER BY " ORDER_KEYS("ASC") " LIMIT $5 OFFSET $1",
    [PGS_TICKETS_DESC] =
        "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER
        " AND ($10::bigint IS NULL OR true) ORDER BY " ORDER_KEYS("DESC") " LIMIT $5 OFFSET $1",
#undef ORDER_KEYS
    [PGS_COMMITMENT_USED] = "SELECT EXISTS(SELECT 1 FROM tickets WHERE org_id = $1"
                            " AND commitment_id = $2)",
    [PGS_USER_BY_EMAIL] = "SELECT id, password_hash FROM users WHERE email = $1",
    [PGS_USER_GET] = "SELECT " USER_COLS " FROM users u WHERE id = $1",
    [PGS_USERS] =
        "SELECT " USER_COLS " FROM users u WHERE id > $1 AND ($2::bigint = 0 OR org_id = $2)"
        " ORDER BY id LIMIT $3",
    [PGS_TOKEN_USER] = "SELECT t.user_id FROM tokens t JOIN users u ON u.id = t.user_id"
                       " WHERE " TOKEN_LIVE " AND " USER_ACTIVE,
    [PGS_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = $2 WHERE hash = $1 AND revoked_at IS NULL",
    [PGS_TOKEN_INSERT] = "INSERT INTO tokens(user_id, hash, kind, label, created_at, expires_at)"
                         " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    [PGS_TOKENS] = "SELECT id, kind, label, created_at, expires_at FROM tokens WHERE user_id = $1"
                   " AND kind = 'api' AND revoked_at IS NULL"
                   " AND (expires_at IS NULL OR expires_at > $2) ORDER BY id",
    [PGS_TOKEN_REVOKE_ID] = "UPDATE tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2"
                            " AND kind = 'api' AND revoked_at IS NULL",
    [PGS_TOKEN_CALLER] = "SELECT " USER_COLS " FROM tokens t JOIN users u ON u.id = t.user_id"
                         " WHERE " TOKEN_LIVE " AND " USER_ACTIVE,
    [PGS_TEAM_INSERT] =
        "INSERT INTO teams(name, lead_id, created_at)"
        " VALUES ($1, nullif($2::bigint, 0), $3) ON CONFLICT (name) DO NOTHING RETURNING id",
    [PGS_TEAMS] = "SELECT id, name, coalesce(lead_id, 0) FROM teams ORDER BY id",
    [PGS_TEAM_GET] = "SELECT id, name, coalesce(lead_id, 0) FROM teams WHERE id = $1",
    [PGS_CALENDAR_PUT] = "INSERT INTO calendars(name, spec, created_at) VALUES ($1, $2, $3)"
                         " ON CONFLICT (name) DO UPDATE SET spec = excluded.spec RETURNING id",
    [PGS_CALENDARS] = "SELECT id, name, spec, (SELECT max(version) FROM calendar_versions v"
                      " WHERE v.calendar_id = c.id) FROM calendars c ORDER BY name",
    [PGS_CALENDAR_GET] = "SELECT id, name, spec, (SELECT max(version) FROM calendar_versions v"
                         " WHERE v.calendar_id = c.id) FROM calendars c WHERE name = $1",
    /* FOR UPDATE: two nodes saving one calendar take turns for its next
     * version number */
    [PGS_CALENDAR_LATEST] = "SELECT c.id, v.version, v.spec, v.saved_at FROM calendars c"
                            " LEFT JOIN calendar_versions v ON v.calendar_id = c.id"
                            " WHERE c.name = $1 ORDER BY v.version DESC NULLS LAST LIMIT 1"
                            " FOR UPDATE OF c",
    [PGS_CALENDAR_VERSION_ADD] = "INSERT INTO calendar_versions(calendar_id, version, spec,"
                                 " saved_at) VALUES ($1, $2, $3, $4)",
    [PGS_CALENDAR_VERSIONS] = "SELECT c.id, c.name, v.version, v.spec, v.saved_at"
                              " FROM calendars c JOIN calendar_versions v ON v.calendar_id = c.id"
                              " WHERE c.name = $1 ORDER BY v.version",
    [PGS_TICKET_SET] = "UPDATE tickets SET level = coalesce($2, level),"
                       " category = coalesce($3, category),"
                       " assignee_id = CASE WHEN $4::bigint < 0 THEN NULL WHEN $4 > 0 THEN $4"
                       " ELSE assignee_id END,"
                       " team_id = CASE WHEN $5::bigint < 0 THEN NULL WHEN $5 > 0 THEN $5"
                       " ELSE team_id END, title = coalesce($6, title),"
                       " region = coalesce($7, region), requester_id = CASE WHEN $8::bigint > 0"
                       " THEN $8 ELSE requester_id END WHERE id = $1",
    /* a ticket's clocks ($2: a JSON array of objects) and its schedule in
     * one statement: each a statement of its own cost the server its
     * per-statement overhead. When $3 its old clocks of metrics not in $2
     * are deleted, and one kept under its metric is updated in place, only
     * if it changed (it was deleted and inserted again: a new row version
     * and index entry for each clock a firing, where an update of no
     * indexed column is HOT). A new schedule ends a claim on the old one
     * (kw_store_due_claim). */
    [PGS_CLOCK_PUT] = "WITH " CLOCK_ROWS(
        "$1", "$2", "$3") " UPDATE tickets SET next_due = $4, breached_at = $5, fire_at = $6,"
                          " projected_seq = last_seq WHERE id = $1",
#undef CLOCK_ROWS
    [PGS_CLOCKS_OF] =
        "SELECT metric, status, deadline, next_due, coalesce(next_pct, 0) FROM clocks"
        " WHERE ticket_id = $1 ORDER BY coalesce(deadline, 9223372036854775807),"
        " metric COLLATE \"C\"", /* byte order, as SQLite's and kw_store_clocks_put's kept rows */
    [PGS_CLOCK_RUNS] = "SELECT c.metric, c.status, c.deadline, c.next_due, coalesce(c.next_pct, 0),"
                       " c.ticket_id FROM clocks c JOIN tickets t ON t.id = c.ticket_id"
                       " WHERE c.metric = $1 AND c.status IN ('running', 'breached')"
                       " AND ($2::bigint = 0 OR t.team_id = $2)"
                       " ORDER BY coalesce(c.deadline, 9223372036854775807), c.ticket_id LIMIT $3",
    [PGS_STALE] = "SELECT id FROM tickets WHERE projected_seq <> last_seq AND id > $1"
                  " ORDER BY id LIMIT $2",
    [PGS_UNSTOPPED] = "SELECT count(*) FROM tickets t WHERE commitment_id = $1 AND EXISTS"
                      " (SELECT 1 FROM clocks c WHERE c.ticket_id = t.id AND " CLOCK_OPEN ")",
    [PGS_RESTALE] = "UPDATE tickets t SET projected_seq = -1 WHERE commitment_id = $1 AND EXISTS"
                    " (SELECT 1 FROM clocks c WHERE c.ticket_id = t.id AND " CLOCK_OPEN ")",
    [PGS_FIRE_ALL] = "SELECT id, fire_at FROM tickets WHERE fire_at IS NOT NULL",
    [PGS_FIRE_ONE] = "SELECT fire_at FROM tickets WHERE id = $1",
    /* a firing unit's tickets (kw_store_prefetch): the rows FOR UPDATE as
     * an append's head (PGS_TICKET_HEAD) locks them, in id order; then
     * their events, read after the lock (no append of theirs can come
     * between) */
    [PGS_PRE_TICKETS] = "SELECT " TICKET_COLS ", fire_at FROM tickets WHERE id = ANY($1::bigint[])"
                        " ORDER BY id FOR UPDATE",
    [PGS_PRE_EVENTS] = "SELECT seq, at, type, actor_id, body, hash, ticket_id FROM events"
                       " WHERE ticket_id = ANY($1::bigint[]) ORDER BY ticket_id, seq",
#define NOT_HELD                                                                                   \
    " AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.ticket = t.id AND c.until > $1"               \
    " AND c.node <> $2)"
#define DUE_ROWS                                                                                   \
    "WITH hinted AS MATERIALIZED (SELECT id, fire_at FROM tickets t WHERE id = ANY($4::bigint[])"  \
    " AND fire_at <= $1" NOT_HELD " ORDER BY fire_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),"        \
    " rest AS MATERIALIZED (SELECT id, fire_at FROM tickets t WHERE fire_at <= $1"                 \
    " AND id <> ALL($4::bigint[])" NOT_HELD " ORDER BY fire_at, id"                                \
    " LIMIT $3 - (SELECT count(*) FROM hinted) FOR UPDATE SKIP LOCKED),"                           \
    " due AS (SELECT id, fire_at FROM hinted UNION ALL SELECT id, fire_at FROM rest)"
    /* Due tickets no other node holds ($1: now, $2: the node), the hinted
     * ones ($4) first, on the primary key, then the others oldest due
     * first, $3 in all: their rows are locked FOR UPDATE SKIP LOCKED, so a
     * node never waits for, nor takes, what another node (or another
     * writer of its own) is firing in its open transaction, and a writer
     * claims what its engine handed it; a claim left by a node that
     * committed it and died runs out at `until` ($5). */
    [PGS_DUE_CLAIM] = DUE_ROWS " INSERT INTO claims(ticket, node, until) SELECT id, $2, $5 FROM due"
                               " ON CONFLICT (ticket) DO UPDATE SET node = excluded.node,"
                               " until = excluded.until"
                               /* a claim another node committed after this statement's
                                * snapshot (its NOT EXISTS saw none) stays that node's */
                               " WHERE claims.until <= $1 OR claims.node = $2 RETURNING ticket",
    /* PGS_DUE_CLAIM inside a transaction: the due rows no other node
     * holds, locked FOR UPDATE SKIP LOCKED to its end, and no claim row
     * written (their firing would delete it again in the same
     * transaction): kwp_claims_keep writes one at the commit for those it
     * gave no new schedule */
    [PGS_DUE_LOCK] = DUE_ROWS " SELECT id, fire_at FROM due",
#undef DUE_ROWS
#undef NOT_HELD
    /* the claims ($1, claimed at the fire_at $2 each) of the tickets whose
     * schedule is still the one claimed (not fired, or their firing
     * rolled back), as PGS_DUE_CLAIM writes them */
    [PGS_CLAIM_KEEP] = "INSERT INTO claims(ticket, node, until) SELECT t.id, $3, $4"
                       " FROM unnest($1::bigint[], $2::bigint[]) AS c(id, fire_at)"
                       " JOIN tickets t ON t.id = c.id AND t.fire_at = c.fire_at"
                       " ON CONFLICT (ticket) DO UPDATE SET node = excluded.node,"
                       " until = excluded.until WHERE claims.until <= $5 OR claims.node = $3",
    [PGS_CENSUS] = "SELECT 'tickets', state, count(*) FROM tickets GROUP BY state UNION ALL"
                   " SELECT 'outbox', state, count(*) FROM outbox GROUP BY state",
    /* ---- overruns.c ---- */
    [PGS_OVERRUN_ADD] = "INSERT INTO overruns(ticket_id, org_id, commitment_id, metric, deadline,"
                        " recorded_at) VALUES ($1, $2, nullif($3::bigint, 0), $4, $5, $6)"
                        " ON CONFLICT DO NOTHING",
    [PGS_OVERRUN_STOP] = "UPDATE overruns SET stopped_at = $3 WHERE ticket_id = $1"
                         " AND metric = $2 AND stopped_at IS NULL",
    [PGS_OVERRUNS] = "SELECT id, ticket_id, org_id, coalesce(commitment_id, 0), metric, deadline,"
                     " stopped_at, recorded_at, reason, note, explained_at, rca, action,"
                     " coalesce(owner_id, 0), due, done_at, coalesce(loss, -1) FROM overruns"
                     " WHERE id > $1 AND ($2::bigint = 0 OR org_id = $2)"
                     " AND ($3::bigint = 0 OR ticket_id = $3) AND ($4::text IS NULL OR metric = $4)"
                     " AND ($5::text IS NULL OR ($5 = 'open' AND reason IS NULL)"
                     " OR ($5 = 'explained' AND reason IS NOT NULL AND done_at IS NULL)"
                     " OR ($5 = 'done' AND done_at IS NOT NULL)) AND ($6::bigint = 0 OR id = $6)"
                     " ORDER BY id LIMIT $7",
    /* one ticket's, on its unique (ticket_id, metric, deadline) index: a
     * generic plan of the filter above walks the table by id */
    [PGS_OVERRUNS_TICKET] =
        "SELECT id, ticket_id, org_id, coalesce(commitment_id, 0), metric, deadline,"
        " stopped_at, recorded_at, reason, note, explained_at, rca, action,"
        " coalesce(owner_id, 0), due, done_at, coalesce(loss, -1) FROM overruns"
        " WHERE ticket_id = $3 AND id > $1 AND ($2::bigint = 0 OR org_id = $2)"
        " AND ($4::text IS NULL OR metric = $4)"
        " AND ($5::text IS NULL OR ($5 = 'open' AND reason IS NULL)"
        " OR ($5 = 'explained' AND reason IS NOT NULL AND done_at IS NULL)"
        " OR ($5 = 'done' AND done_at IS NOT NULL)) AND ($6::bigint = 0 OR id = $6)"
        " ORDER BY id LIMIT $7",
    [PGS_OVERRUN_EXPLAIN] = "UPDATE overruns SET reason = $2, note = $3, explained_by = $4,"
                            " explained_at = $5 WHERE id = $1",
    /* a range of the unique (ticket_id, metric, deadline) index; metric
     * in byte order, as SQLite's BINARY */
    [PGS_OVERRUN_REASONS] = "SELECT ticket_id, metric, deadline, reason FROM overruns"
                            " WHERE ticket_id >= $1 AND ticket_id <= $2 AND reason IS NOT NULL"
                            " ORDER BY ticket_id, metric COLLATE \"C\", deadline",
    [PGS_OVERRUN_FOLLOW] = "UPDATE overruns SET rca = coalesce($2, rca), action = coalesce($3,"
                           " action), owner_id = coalesce(nullif($4::bigint, 0), owner_id),"
                           " due = coalesce($5::bigint, due), done_at = CASE WHEN $6::boolean"
                           " THEN coalesce(done_at, $7::bigint) ELSE done_at END WHERE id = $1",
    /* ---- ledger.c ---- */
    [PGS_CONTRACT_INSERT] =
        "INSERT INTO contracts(org_id, commitment_id, value, currency, billing, period_start,"
        " period_end, deposit_percent, deposit_amount, deposit_held, dual_above, created_at,"
        " updated_at) VALUES ($1, nullif($2::bigint, 0), $3, $4, $5, $6, $7,"
        " nullif($8::bigint, -1), nullif($9::bigint, -1), $10, $11, $12, $12) RETURNING id",
    [PGS_CONTRACT_UPDATE] =
        "UPDATE contracts SET commitment_id = nullif($2::bigint, 0), value = $3, currency = $4,"
        " billing = $5, period_start = $6, period_end = $7,"
        " deposit_percent = nullif($8::bigint, -1), deposit_amount = nullif($9::bigint, -1),"
        " deposit_held = $10, dual_above = $11, updated_at = $12 WHERE id = $1",
    [PGS_CONTRACTS] = "SELECT " CONTRACT_COLS " FROM contracts WHERE ($1::bigint = 0 OR id = $1)"
                      " AND ($2::bigint = 0 OR org_id = $2) AND id > $3 ORDER BY id LIMIT $4",
    [PGS_CONTRACT_AT] = "SELECT id FROM contracts WHERE org_id = $1 AND period_start <= $2"
                        " AND $2 < period_end ORDER BY period_start DESC, id DESC LIMIT 1",
    /* an organisation's ledger has one writer at a time across all nodes:
     * its row, locked to the end of the transaction that appends (the
     * ticket inserts' foreign key checks take a lock this one allows) */
    [PGS_LEDGER_LOCK] = "SELECT id FROM orgs WHERE id = $1 FOR NO KEY UPDATE",
    /* the same locks, taken by a read of the ledger inside a write
     * transaction: what an accrual is computed from stays as read until
     * it is appended (another node's accrual for the same run waits, then
     * reads it) */
    [PGS_LEDGER_LOCK_READ] = "SELECT id FROM orgs WHERE id IN ($1, (SELECT org_id FROM contracts"
                             " WHERE id = $2), (SELECT org_id FROM overruns WHERE id = $3))"
                             " ORDER BY id FOR NO KEY UPDATE",
    [PGS_LEDGER_HEAD] = "SELECT seq, hash, at FROM ledger WHERE org_id = $1"
                        " ORDER BY seq DESC LIMIT 1",
    [PGS_LEDGER_INSERT] = "INSERT INTO ledger(org_id, seq, contract_id, kind, amount, quantity,"
                          " against, ticket_id, overrun_id, actor, approved_by, at, body, hash)"
                          " VALUES ($1, $2, nullif($3::bigint, 0), $4, $5, $6, $7,"
                          " nullif($8::bigint, 0), nullif($9::bigint, 0), $10,"
                          " nullif($11::bigint, 0), $12, $13, $14) RETURNING id",
    [PGS_LEDGER] = "SELECT " LEDGER_COLS " FROM ledger WHERE ($1::bigint = 0 OR org_id = $1)"
                   " AND ($2::bigint = 0 OR contract_id = $2) AND ($3::bigint = 0"
                   " OR overrun_id = $3) AND id > $4 AND at >= $5 AND at < $6 ORDER BY id"
                   " LIMIT $7",
    [PGS_LEDGER_SUMS] = "SELECT coalesce(sum(CASE WHEN kind IN ('accrual','adjustment')"
                        " AND ($2::bigint = 0 OR ticket_id = $2) AND at >= $3 AND at < $4"
                        " THEN amount END), 0),"
                        " coalesce(sum(CASE WHEN kind = 'claim' THEN amount END), 0),"
                        " coalesce(sum(CASE WHEN kind = 'settlement' THEN amount END), 0),"
                        " coalesce(sum(CASE WHEN kind = 'settlement' AND against = 'deposit'"
                        " THEN amount END), 0) FROM ledger WHERE contract_id = $1",
    [PGS_LEDGER_CHAIN] = "SELECT " LEDGER_COLS " FROM ledger WHERE ($1::bigint = 0"
                         " OR org_id = $1) AND (org_id, seq) > ($2, $3) ORDER BY org_id, seq"
                         " LIMIT $4",
    [PGS_REQUEST_ADD] = "INSERT INTO ledger_requests(contract_id, amount, reason, ticket_id,"
                        " requested_by, requested_at) VALUES ($1, $2, $3, nullif($4::bigint, 0),"
                        " $5, $6) RETURNING id",
    [PGS_REQUESTS] = "SELECT id, contract_id, amount, coalesce(ticket_id, 0), requested_by,"
                     " requested_at, coalesce(decided_by, 0), decided_at, coalesce(entry_id, 0),"
                     " coalesce(approved::int, -1), reason FROM ledger_requests"
                     " WHERE ($1::bigint = 0 OR id = $1) AND ($2::bigint = 0 OR contract_id = $2)"
                     " AND (NOT $3::boolean OR decided_at IS NULL) ORDER BY id",
    /* the first decision wins: a second node's finds it decided */
    [PGS_REQUEST_DECIDE] = "UPDATE ledger_requests SET decided_by = $2, approved = $3,"
                           " entry_id = nullif($4::bigint, 0), decided_at = $5"
                           " WHERE id = $1 AND decided_at IS NULL",
    /* the unique key decides who closes a period: a second node's is ignored */
    [PGS_CLOSE_ADD] = "INSERT INTO period_closes(contract_id, period_end, closed_at, closed_by,"
                      " entries) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    [PGS_CLOSE_COUNT] = "UPDATE period_closes SET entries = $3 WHERE contract_id = $1"
                        " AND period_end = $2",
    [PGS_CLOSE_LAST] = "SELECT max(period_end) FROM period_closes WHERE contract_id = $1",
    /* ---- intake.c ---- */
    [PGS_INTAKE_INSERT] =
        "INSERT INTO intake_sources(name, kind, key_digest, acting_user, org_id, team_id,"
        " category, level, rules, on_resolve, per_minute, created_at)"
        " VALUES ($1, $2, $3, $4, $5, nullif($6::bigint, 0), $7, $8, $9, $10, $11, $12)"
        " RETURNING id",
    [PGS_INTAKE_BY_DIGEST] = INTAKE_COLS " WHERE key_digest = $1",
    [PGS_INTAKE_BY_ID] = INTAKE_COLS " WHERE id = $1",
    [PGS_INTAKES] = INTAKE_COLS " ORDER BY id",
    [PGS_INTAKE_DEACTIVATE] = "UPDATE intake_sources SET active = false WHERE id = $1",
    [PGS_INTAKE_UPDATE] = "UPDATE intake_sources SET name = $2, org_id = $3,"
                          " team_id = nullif($4::bigint, 0), category = $5, level = $6,"
                          " rules = $7, on_resolve = $8, per_minute = $9 WHERE id = $1",
    [PGS_INTAKE_REKEY] = "UPDATE intake_sources SET key_digest = $2 WHERE id = $1",
    [PGS_ALERT_GET] = "SELECT ticket_id, open, repeats, updated_at FROM alerts"
                      " WHERE source_id = $1 AND dedup_key = $2",
    [PGS_ALERT_PUT] = "INSERT INTO alerts(source_id, dedup_key, ticket_id, open, repeats,"
                      " updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
                      " ON CONFLICT (source_id, dedup_key) DO UPDATE SET"
                      " ticket_id = excluded.ticket_id, open = excluded.open,"
                      " repeats = excluded.repeats, updated_at = excluded.updated_at",
    /* ---- mail.c ---- */
    [PGS_MAILBOX_INSERT] =
        "INSERT INTO mailboxes(name, url, username, password, folder, acting_user, org_id,"
        " category, level, reply_from, unknown, max_bytes, per_sender_hour, poll_s, created_at,"
        " smtp_url, ack, team_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
        " $13, $14, $15, $16, $17, CASE WHEN $18::bigint > 0 THEN $18::bigint END) RETURNING id",
    /* numbered as SQLite's S_UPDATE (mail.c's mailbox_update) */
    [PGS_MAILBOX_UPDATE] =
        "UPDATE mailboxes SET name = $2, url = $3, username = $4, password = $5, folder = $6,"
        " org_id = $7, category = $8, level = $9, reply_from = $10, unknown = $11,"
        " max_bytes = $12, per_sender_hour = $13, poll_s = $14, smtp_url = $15, ack = $16,"
        " team_id = CASE WHEN $17::bigint > 0 THEN $17::bigint END WHERE id = $1",
    [PGS_MAILBOX_FETCHED] = "UPDATE mailboxes SET fetched_at = $2 WHERE id = $1",
    /* the active sender of a mailbox takes its new SMTP URL */
    [PGS_MAIL_SENDER_SET] = "UPDATE endpoints SET url = $2 WHERE mailbox_id = $1 AND active",
    [PGS_MAILBOXES] =
        "SELECT id, name, url, username, password, folder, acting_user, org_id, category,"
        " level, reply_from, unknown, max_bytes, per_sender_hour, poll_s, uidvalidity,"
        " last_uid, last_error, active, created_at, smtp_url, ack,"
        " (SELECT count(*) FROM mails f WHERE f.mailbox_id = b.id"
        " AND f.outcome LIKE 'failed:%'), (SELECT f.uid FROM mails f"
        " WHERE f.mailbox_id = b.id AND f.outcome LIKE 'failed:%'"
        " ORDER BY f.at DESC, f.uid DESC LIMIT 1), (SELECT f.outcome FROM mails f"
        " WHERE f.mailbox_id = b.id AND f.outcome LIKE 'failed:%'"
        " ORDER BY f.at DESC, f.uid DESC LIMIT 1), coalesce(team_id, 0), fetched_at,"
        " (SELECT count(*) FROM mails f WHERE f.mailbox_id = b.id),"
        " (SELECT count(*) FROM mails f WHERE f.mailbox_id = b.id AND f.outcome = 'created')"
        " FROM mailboxes b WHERE (NOT $1::boolean OR active) ORDER BY id",
    [PGS_MAILBOX_STOP] = "UPDATE mailboxes SET active = false WHERE id = $1",
    [PGS_MAILBOX_PASSWORD] = "UPDATE mailboxes SET password = $2 WHERE id = $1",
    [PGS_MAILBOX_CURSOR] =
        "UPDATE mailboxes SET uidvalidity = $2, last_uid = $3, last_error = $4 WHERE id = $1",
    /* a sending mailbox's endpoint: its mail only (events), never listed */
    [PGS_MAIL_SENDER_ADD] = "INSERT INTO endpoints(name, kind, url, events, mailbox_id,"
                            " created_at) VALUES ('mailbox ' || $1::bigint, 'email', $2,"
                            " '[\"mail_reply\",\"mail_ack\"]', $1::bigint, $3)",
    [PGS_MAIL_SENDER_STOP] = "UPDATE endpoints SET active = false WHERE mailbox_id = $1",
    /* a mail refused once is taken when it comes again (put back after the
     * mailbox or the commitment was fixed) */
    [PGS_MAIL_SEEN] = "SELECT 1 FROM mails WHERE mailbox_id = $1 AND message_id = $2"
                      " AND outcome NOT LIKE 'failed:%'",
    [PGS_MAIL_PUT] = "INSERT INTO mails(mailbox_id, message_id, uid, sender, ticket_id, outcome,"
                     " at) VALUES ($1, $2, $3, $4, nullif($5::bigint, 0), $6, $7)"
                     " ON CONFLICT (mailbox_id, message_id) DO UPDATE SET uid = excluded.uid,"
                     " sender = excluded.sender, ticket_id = excluded.ticket_id,"
                     " outcome = excluded.outcome, at = excluded.at"
                     " WHERE mails.outcome LIKE 'failed:%'",
    [PGS_MAIL_COUNT] =
        "SELECT count(*) FROM mails WHERE mailbox_id = $1 AND sender = $2 AND at >= $3",
    [PGS_MAIL_ID_GET] = "SELECT ticket_id FROM mail_ids WHERE message_id = $1",
    [PGS_MAIL_ID_PUT] = "INSERT INTO mail_ids(message_id, ticket_id) VALUES ($1, $2)"
                        " ON CONFLICT DO NOTHING",
    /* the newest mail taken onto the ticket, through a mailbox that sends */
    [PGS_MAIL_THREAD] = "SELECT b.id, coalesce(e.id, 0), b.ack, b.reply_from, m.message_id"
                        " FROM mails m JOIN mailboxes b ON b.id = m.mailbox_id"
                        " LEFT JOIN endpoints e ON e.mailbox_id = b.id AND e.active"
                        " WHERE m.ticket_id = $1 AND m.outcome IN ('created', 'comment', 'note')"
                        " ORDER BY (e.id IS NOT NULL) DESC, m.at DESC, m.uid DESC LIMIT 1",
    [PGS_MAIL_READERS] =
        "SELECT u.id, lower(u.email), u.name, u.lang, u.tz FROM tickets t"
        " JOIN users u ON u.id = t.requester_id WHERE t.id = $1 AND u.deactivated_at IS NULL"
        " UNION SELECT coalesce(u.id, 0), m.sender, u.name, u.lang, u.tz FROM mails m"
        " LEFT JOIN users u ON lower(u.email) = m.sender WHERE m.ticket_id = $1"
        " AND m.sender IS NOT NULL AND m.outcome IN ('created', 'comment')"
        " AND (u.id IS NULL OR (u.role = 'customer' AND u.deactivated_at IS NULL))"
        /* customers following it: of its organisation only, active */
        " UNION SELECT u.id, lower(u.email), u.name, u.lang, u.tz FROM watchers w"
        " JOIN tickets t ON t.id = w.ticket_id JOIN users u ON u.id = w.user_id"
        " WHERE w.ticket_id = $1 AND u.role = 'customer' AND u.org_id = t.org_id"
        " AND u.deactivated_at IS NULL ORDER BY 2",
    [PGS_MAIL_QUEUE] = "INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key,"
                       " next_at, created_at) SELECT id, $2, $3, $4, $5, $6, $6 FROM endpoints"
                       " WHERE id = $1 AND active AND mailbox_id IS NOT NULL"
                       " ON CONFLICT DO NOTHING",
    /* one row for each endpoint, then (the second insert's one-time
     * filter reads the first's rows first, so the ids stay in that order)
     * one for each person subscribed: one statement */
    [PGS_OUTBOX_ADD] =
        "WITH ep AS (INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key, next_at,"
        " created_at) SELECT id, $1, $2, $5, $6, $7, $7 FROM endpoints WHERE active"
        " AND mailbox_id IS NULL AND (org_id IS NULL OR org_id = $3) AND (team_id IS NULL OR "
        "team_id = nullif($4::bigint, 0))"
        " AND (events = '[]' OR events::jsonb ? $1) ON CONFLICT DO NOTHING RETURNING 1)"
        " INSERT INTO outbox(endpoint_id, user_id, kind, ticket_id, payload, idem_key, next_at,"
        " created_at) SELECT s.endpoint_id, s.user_id, $1, $2, $5, $6 || '/u' || s.user_id, $7, $7"
        " FROM subscriptions s JOIN endpoints e ON e.id = s.endpoint_id AND e.active"
        " AND e.mailbox_id IS NULL"
        " WHERE (SELECT count(*) FROM ep) >= 0"
        " AND (s.org_id IS NULL OR s.org_id = $3) AND (s.team_id IS NULL OR s.team_id ="
        " nullif($4::bigint, 0)) AND (s.events = '[]' OR s.events::jsonb ? $1)"
        " ON CONFLICT DO NOTHING",
    /* Pending notifications due by $1, oldest first, leased to this
     * connection (this node's deliverer) until $1 + $3: their rows are
     * taken FOR UPDATE SKIP LOCKED and those another connection leased are
     * passed over until its lease runs out (that node died before it
     * recorded the attempt), so two nodes never hand out one notification
     * at once. Recording the attempt (PGS_OUTBOX_DONE) ends the lease. */
    [PGS_OUTBOX_DUE] = "WITH due AS (SELECT id FROM outbox WHERE state = 'pending'"
                       " AND next_at <= $1 AND (leased_until IS NULL OR leased_until <= $1"
                       " OR leased_by = pg_backend_pid()) ORDER BY next_at, id LIMIT $2"
                       " FOR UPDATE SKIP LOCKED),"
                       " leased AS (UPDATE outbox x SET leased_by = pg_backend_pid(),"
                       " leased_until = $1 + $3 FROM due WHERE x.id = due.id RETURNING x.*)"
                       " SELECT o.id, o.kind, o.payload, o.idem_key, o.attempts, e.id, e.kind,"
                       " e.url, coalesce(e.secret, (SELECT b.username || ':' || b.password"
                       " FROM mailboxes b WHERE b.id = e.mailbox_id)), coalesce(o.user_id, 0), "
                       "u.email, coalesce(u.team_id, 0),"
                       " s.quiet_tz, s.quiet_from, s.quiet_to, s.lang"
                       " FROM leased o JOIN endpoints e ON e.id = o.endpoint_id"
                       " LEFT JOIN users u ON u.id = o.user_id"
                       " LEFT JOIN subscriptions s ON s.user_id = o.user_id"
                       " AND s.endpoint_id = o.endpoint_id ORDER BY o.next_at, o.id",
    [PGS_OUTBOX_NEXT] = "SELECT min(next_at) FROM outbox WHERE state = 'pending'",
    [PGS_OUTBOX_DONE] = "UPDATE outbox SET state = $2, attempts = attempts + 1, last_error = $3,"
                        " next_at = $4, delivered_at = CASE WHEN $2 = 'delivered' THEN $5::bigint"
                        " END, leased_by = NULL, leased_until = NULL"
                        " WHERE id = $1 AND state = 'pending'",
    [PGS_OUTBOX_LIST] = "SELECT o.id, o.endpoint_id, o.kind, o.ticket_id, o.idem_key, o.state,"
                        " o.attempts, o.next_at, o.last_error, o.created_at, o.delivered_at,"
                        " o.payload FROM outbox o WHERE o.id > $1 AND ($2::text IS NULL"
                        " OR o.state = $2) AND ($3::bigint = 0 OR o.ticket_id = $3)"
                        " ORDER BY o.id LIMIT $4",
    [PGS_OUTBOX_RETRY] = "UPDATE outbox SET state = 'pending', attempts = 0, next_at = $2,"
                         " last_error = NULL, leased_until = NULL WHERE id = $1 AND state = 'dead' "
                         "AND endpoint_id IN"
                         " (SELECT id FROM endpoints WHERE deleted_at IS NULL)",
    [PGS_OUTBOX_POSTPONE] = "UPDATE outbox SET next_at = $2, leased_until = NULL"
                            " WHERE id = $1 AND state = 'pending'",
    [PGS_ENDPOINT_ADD] = "INSERT INTO endpoints(name, kind, url, secret, events, org_id, team_id,"
                         " created_at) VALUES ($1, $2, $3, $4, coalesce($5, '[]'),"
                         " nullif($6::bigint, 0), nullif($7::bigint, 0), $8) RETURNING id",
    [PGS_ENDPOINTS] = "SELECT id, name, kind, url, events, coalesce(org_id, 0),"
                      " coalesce(team_id, 0), active, secret IS NOT NULL FROM endpoints"
                      " WHERE deleted_at IS NULL AND mailbox_id IS NULL AND ($1::bigint = 0 OR id "
                      "= $1) ORDER BY id",
    [PGS_ENDPOINT_TEST] =
        "INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key, next_at, created_at)"
        " SELECT id, 'test', NULL, $2, $3, $4, $4 FROM endpoints WHERE id = $1"
        " AND deleted_at IS NULL AND mailbox_id IS NULL RETURNING id",
    [PGS_ENDPOINT_SET] = "UPDATE endpoints SET name = $2, kind = $3, url = $4, secret = CASE WHEN"
                         " $5::text IS NOT NULL THEN $5 WHEN $6::boolean THEN secret END,"
                         " events = coalesce($7, '[]'), org_id = nullif($8::bigint, 0),"
                         " team_id = nullif($9::bigint, 0), active = $10"
                         " WHERE id = $1 AND deleted_at IS NULL AND mailbox_id IS NULL",
    [PGS_ENDPOINT_DELETE] = "UPDATE endpoints SET deleted_at = $2, active = false"
                            " WHERE id = $1 AND deleted_at IS NULL AND mailbox_id IS NULL",
    [PGS_ENDPOINT_DROP_PENDING] = "UPDATE outbox SET state = 'dead',"
                                  " last_error = 'endpoint deleted'"
                                  " WHERE endpoint_id = $1 AND state = 'pending'",
    [PGS_ENDPOINT_DROP_SUBS] = "DELETE FROM subscriptions WHERE endpoint_id = $1",
    [PGS_SUB_ADD] =
        "INSERT INTO subscriptions(user_id, endpoint_id, events, org_id, team_id,"
        " quiet_tz, quiet_from, quiet_to, created_at, lang) SELECT $1, $2,"
        " coalesce($3, '[]'), nullif($4::bigint, 0), nullif($5::bigint, 0), $6, $7, $8, $9, $10"
        " WHERE NOT EXISTS (SELECT 1 FROM endpoints WHERE id = $2 AND (deleted_at"
        " IS NOT NULL OR mailbox_id IS NOT NULL)) ON CONFLICT (user_id, endpoint_id) DO UPDATE SET "
        "events = excluded.events,"
        " org_id = excluded.org_id, team_id = excluded.team_id,"
        " quiet_tz = excluded.quiet_tz, quiet_from = excluded.quiet_from,"
        " quiet_to = excluded.quiet_to, lang = excluded.lang RETURNING id",
    [PGS_SUBS] = "SELECT id, user_id, endpoint_id, events, coalesce(org_id, 0),"
                 " coalesce(team_id, 0), quiet_tz, coalesce(quiet_from, 0), coalesce(quiet_to, 0),"
                 " lang FROM subscriptions WHERE ($1::bigint = 0 OR user_id = $1) ORDER BY id",
    [PGS_SUB_DELETE] = "DELETE FROM subscriptions WHERE id = $1 AND ($2::bigint = 0"
                       " OR user_id = $2)",
    [PGS_OUTBOX_PERSON] =
        "INSERT INTO outbox(endpoint_id, user_id, kind, ticket_id, payload, idem_key, next_at,"
        " created_at) SELECT id, $2, $3, NULL, $4, $5, $6, $6 FROM endpoints WHERE id = $1"
        " AND active AND mailbox_id IS NULL ON CONFLICT DO NOTHING",
    [PGS_OUTBOX_HAS] = "SELECT 1 FROM outbox WHERE endpoint_id = $1 AND idem_key = $2",
    [PGS_REFS] = "SELECT $1::bigint <= 0 OR EXISTS (SELECT 1 FROM orgs WHERE id = $1),"
                 " $2::bigint <= 0 OR EXISTS (SELECT 1 FROM teams WHERE id = $2),"
                 " $3::bigint <= 0 OR EXISTS (SELECT 1 FROM users WHERE id = $3),"
                 " $4::bigint <= 0 OR EXISTS (SELECT 1 FROM endpoints WHERE id = $4"
                 " AND deleted_at IS NULL)",
    [PGS_RUNS_DEL] = "DELETE FROM kpi_runs WHERE ticket_id = $1",
    /* a ticket's runs ($2: a JSON array of objects, kwp_runs_json) in one
     * statement, not one each, after its old ones are deleted when $3 (the
     * insert's one-time filter reads d first, as PGS_CLOCK_PUT's) */
    [PGS_RUN_ADD] =
        "WITH d AS (DELETE FROM kpi_runs WHERE $3::boolean AND ticket_id = $1 RETURNING 1)"
        " INSERT INTO kpi_runs(ticket_id, metric, run, org_id, commitment_id, status,"
        " started_at, stopped_at, deadline, breached_at, target, working, wall,"
        " paused_wall, measured_at, steady_from, team_id, assignee_id, calendar, level, tier,"
        " organisation, category, region, channel) SELECT $1, r.metric, r.run, t.org_id,"
        " t.commitment_id, r.status, r.started_at, r.stopped_at, r.deadline, r.breached_at,"
        " r.target, r.working, r.wall, r.paused_wall, r.measured_at, r.steady_from,"
        " nullif(r.team_id, 0), nullif(r.assignee_id, 0), r.calendar, r.level, r.tier,"
        " r.organisation, r.category, r.region, r.channel"
        " FROM tickets t, json_to_recordset($2::json) AS r(metric text, run integer,"
        " status text, started_at bigint, stopped_at bigint, deadline bigint, breached_at bigint,"
        " target bigint, working bigint, wall bigint, paused_wall bigint, measured_at bigint,"
        " steady_from bigint, team_id bigint, assignee_id bigint, calendar text, level text,"
        " tier text, organisation text, category text, region text, channel text)"
        " WHERE t.id = $1 AND (SELECT count(*) FROM d) >= 0",
    /* PGS_RUN_ADD of several tickets ($1: a JSON array of objects, each
     * with its ticket_id and, true when that ticket's old runs are deleted
     * first, clear), kwp_exec_later_rows */
    [PGS_RUNS_MANY] =
        "WITH r AS (SELECT * FROM json_to_recordset($1::json) AS r(ticket_id bigint,"
        " clear boolean, metric text, run integer,"
        " status text, started_at bigint, stopped_at bigint, deadline bigint, breached_at bigint,"
        " target bigint, working bigint, wall bigint, paused_wall bigint, measured_at bigint,"
        " steady_from bigint, team_id bigint, assignee_id bigint, calendar text, level text,"
        " tier text, organisation text, category text, region text, channel text)),"
        " d AS (DELETE FROM kpi_runs WHERE ticket_id ="
        " ANY(ARRAY(SELECT ticket_id FROM r WHERE clear)) RETURNING 1)"
        " INSERT INTO kpi_runs(ticket_id, metric, run, org_id, commitment_id, status,"
        " started_at, stopped_at, deadline, breached_at, target, working, wall,"
        " paused_wall, measured_at, steady_from, team_id, assignee_id, calendar, level, tier,"
        " organisation, category, region, channel) SELECT r.ticket_id, r.metric, r.run, t.org_id,"
        " t.commitment_id, r.status, r.started_at, r.stopped_at, r.deadline, r.breached_at,"
        " r.target, r.working, r.wall, r.paused_wall, r.measured_at, r.steady_from,"
        " nullif(r.team_id, 0), nullif(r.assignee_id, 0), r.calendar, r.level, r.tier,"
        " r.organisation, r.category, r.region, r.channel"
        /* each ticket's row by its key (OFFSET 0: never a scan of them all) */
        " FROM r, LATERAL (SELECT org_id, commitment_id FROM tickets WHERE id = r.ticket_id"
        " OFFSET 0) t WHERE (SELECT count(*) FROM d) >= 0",
    [PGS_RUNS_PERIOD] = "SELECT " RUN_COLS " FROM kpi_runs WHERE ($3::bigint = 0 OR org_id = $3)"
                        " AND ((stopped_at >= $1 AND stopped_at < $2) OR (breached_at >= $1 AND"
                        " breached_at < $2 AND (stopped_at IS NULL OR stopped_at >= $2)) OR"
                        " (stopped_at IS NULL AND breached_at IS NULL AND deadline >= $1 AND"
                        " deadline < $2 AND deadline < $4)) ORDER BY ticket_id, metric, run",
    [PGS_RUNS_TICKET] = "SELECT " RUN_COLS " FROM kpi_runs WHERE ticket_id = $1"
                        " ORDER BY ticket_id, metric, run",
    /* a page of every run, on the primary key (app/kpi_cache.c) */
    [PGS_RUNS_ALL] = "SELECT " RUN_COLS " FROM kpi_runs WHERE ticket_id > $1"
                     " ORDER BY ticket_id, metric, run LIMIT $2",
    [PGS_TF_CREATED] = "SELECT " TF_COLS ", t.created_at, 0, -1" TF_FROM
                       " WHERE t.created_at >= $1 AND t.created_at < $2"
                       " AND ($3::bigint = 0 OR t.org_id = $3) ORDER BY t.id",
    /* the resolved milestones from their own table (kpi_resolved, 011) */
    [PGS_TF_RESOLVED] = "SELECT " TF_COLS ", r.at, 0, -1 FROM kpi_resolved r JOIN tickets t"
                        " ON t.id = r.ticket_id JOIN orgs o ON o.id = t.org_id WHERE r.at >= $1"
                        " AND r.at < $2 AND ($3::bigint = 0 OR t.org_id = $3) ORDER BY t.id, r.at",
    [PGS_TF_REOPENED] = TF_EVENTS("reopened") " ORDER BY t.id, e.at",
    [PGS_TF_RATED] = TF_EVENTS("rating") " ORDER BY t.id, e.at",
    /* a ticket closed now whose last event came before $2 was closed then */
    [PGS_TF_OPEN] = "SELECT " TF_COLS ", t.created_at, 0, -1" TF_FROM
                    " WHERE t.created_at < $2 AND ($1::bigint IS NULL OR true)"
                    " AND ($3::bigint = 0 OR t.org_id = $3) AND (t.state IN"
                    " ('registered', 'analysing', 'handling', 'waiting_customer') OR t.updated_at"
                    " >= $2) AND " TF_STATE_AT
                    " IN ('registered', 'analysing', 'handling', 'waiting_customer') ORDER BY t.id",
    /* PGS_TF_OPEN at each end of the array $4 ($1, $2: the first and the
     * last), in one pass over the tickets */
    [PGS_TF_BACKLOG] =
        "SELECT " TF_COLS ", t.created_at, 0, -1, b.e" TF_FROM
        " CROSS JOIN unnest($4::bigint[]) AS b(e) WHERE t.created_at < $2"
        " AND ($3::bigint = 0 OR t.org_id = $3) AND (t.state IN " TF_OPEN_STATES
        " OR t.updated_at >= $1) AND t.created_at < b.e AND (t.state IN " TF_OPEN_STATES
        " OR t.updated_at >= b.e) AND " TF_STATE_AT_END("b.e") " IN " TF_OPEN_STATES
                                                               " ORDER BY t.id, b.e",
    /* a page of tickets by id with their states (app/kpi_cache.c) */
    [PGS_TICKET_STATES] =
        "SELECT " TF_COLS
        ", t.created_at, 0, -1, t.updated_at, CASE WHEN t.state IN " TF_OPEN_STATES
        " THEN 1 ELSE 0 END, s.at, CASE WHEN s.state IS NULL OR s.state IN " TF_OPEN_STATES
        " THEN 1 ELSE 0 END FROM (SELECT * FROM tickets WHERE id > $1 ORDER BY id"
        " LIMIT $2) t JOIN orgs o ON o.id = t.org_id LEFT JOIN kpi_states s ON s.ticket_id = t.id"
        " ORDER BY t.id, s.seq",
    /* one ticket's dated facts from its events, as PGS_TF_RESOLVED,
     * _REOPENED, _RATED and _TIME give them (app/kpi_cache.c; the kinds are
     * enum kw_ticket_fact's numbers); every ticket's, in no order */
    [PGS_TICKET_MARKS] =
        MARKS_RESOLVED " WHERE ticket_id = $1 AND type = 'milestone' AND"
                       " body::jsonb->>'milestone' = 'resolved' UNION ALL " MARKS_REOPENED
                       " AND ticket_id = $1 UNION ALL " MARKS_RATED " AND ticket_id = $1"
                       " UNION ALL " MARKS_TIME " AND e.ticket_id = $1 ORDER BY 4, 3, 2",
    [PGS_TICKET_MARKS_ALL] = MARKS_RESOLVED " WHERE type = 'milestone' AND body::jsonb->>"
                                            "'milestone' = 'resolved' UNION ALL " MARKS_REOPENED
                                            " UNION ALL " MARKS_RATED " UNION ALL " MARKS_TIME,
    [PGS_RESOLVED_CLEAR] = "DELETE FROM kpi_resolved",
    [PGS_RESOLVED_FILL] = "INSERT INTO kpi_resolved(at, ticket_id, seq) SELECT at, ticket_id, seq"
                          " FROM events WHERE type = 'milestone'"
                          " AND body::jsonb->>'milestone' = 'resolved'",
    [PGS_STATES_CLEAR] = "DELETE FROM kpi_states",
    [PGS_STATES_FILL] = "INSERT INTO kpi_states(ticket_id, seq, at, state) SELECT ticket_id, seq,"
                        " at, CASE WHEN type = 'reopened' THEN coalesce(body::jsonb->>'state',"
                        " 'handling') ELSE body::jsonb->>'state' END FROM events"
                        " WHERE type IN ('state', 'reopened')",
    /* time entries recorded in the period, each with its latest correction's
     * seconds (a correction is an entry naming the seq it corrects) */
    [PGS_TF_TIME] = "SELECT " TF_COLS ", e.at, 0, -1, coalesce((SELECT (c.body::jsonb->>"
                    "'seconds')::numeric::bigint FROM events c WHERE c.ticket_id = e.ticket_id"
                    " AND c.type = 'time_spent' AND (c.body::jsonb->>'corrects')::numeric = e.seq"
                    " ORDER BY c.seq DESC LIMIT 1), (e.body::jsonb->>'seconds')::numeric::bigint,"
                    " 0), coalesce((e.body::jsonb->>'team_id')::numeric::bigint, 0) FROM events e"
                    " JOIN tickets t ON t.id = e.ticket_id JOIN orgs o ON o.id = t.org_id"
                    " WHERE e.type = 'time_spent' AND e.at >= $1 AND e.at < $2"
                    " AND ($3::bigint = 0 OR t.org_id = $3) AND e.body::jsonb->>'corrects' IS NULL"
                    " ORDER BY t.id, e.at",
    /* watch.c: the watch list, accident levels and the audit trail */
    [PGS_WATCH_SETTINGS] = "SELECT k, v FROM watch_settings",
    [PGS_WATCH_SETTING_PUT] = "INSERT INTO watch_settings(k, v) VALUES ($1, $2)"
                              " ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    /* $2: the window's start; the last clearing moves it on */
    [PGS_WATCH_COUNT] = "SELECT count(*), greatest($2::bigint, coalesce((SELECT max(cleared_at)"
                        " FROM watch_flags WHERE org_id = $1::bigint), $2::bigint)) FROM overruns"
                        " WHERE org_id = $1::bigint AND deadline <= $3::bigint"
                        " AND deadline >= greatest($2::bigint, coalesce((SELECT max(cleared_at)"
                        " FROM watch_flags WHERE org_id = $1::bigint), $2::bigint))"
                        " AND coalesce(reason, '') <> 'customer'",
    [PGS_WATCH_FLAG] =
        "INSERT INTO watch_flags(org_id, flagged_at, ticket_id, overrun_id, overruns,"
        " window_from) VALUES ($1, $2, nullif($3::bigint, 0), nullif($4::bigint, 0),"
        " $5, $6) ON CONFLICT DO NOTHING RETURNING id",
    [PGS_WATCH_NOTIFY] = "INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at,"
                         " detail) SELECT u.id, $2::bigint, (SELECT coalesce(max(seq), 0) FROM"
                         " events WHERE ticket_id = $2::bigint), 'watch_list', 0, $3::bigint,"
                         " o.name FROM users u, orgs o WHERE o.id = $1::bigint"
                         " AND u.deactivated_at IS NULL AND (u.role = 'manager'"
                         " OR u.id = o.account_manager_id) AND u.role <> 'customer'",
    [PGS_WATCH_CLEAR] = "UPDATE watch_flags SET cleared_at = $3, cleared_by = $2, reason = $4"
                        " WHERE org_id = $1 AND cleared_at IS NULL RETURNING id",
    [PGS_WATCH_FLAGS] = "SELECT f.id, f.org_id, f.flagged_at, coalesce(f.ticket_id, 0),"
                        " coalesce(f.overrun_id, 0), f.overruns, f.window_from, f.cleared_at,"
                        " coalesce(f.cleared_by, 0), f.reason, o.name FROM watch_flags f"
                        " JOIN orgs o ON o.id = f.org_id WHERE ($1::bigint = 0 OR f.org_id = $1)"
                        " AND (NOT $2::boolean OR f.cleared_at IS NULL) ORDER BY f.id DESC",
    /* PGS_WATCH_FLAGS of one organisation's open flag (watch_flags_open):
     * each ticket's answer to staff reads it, and PGS_WATCH_FLAGS's
     * parameters made a custom plan cheaper than the generic one, so that
     * each read was planned again (0.14 ms of server time, 30 times its
     * execution) */
    [PGS_WATCH_OPEN] = "SELECT f.id, f.org_id, f.flagged_at, coalesce(f.ticket_id, 0),"
                       " coalesce(f.overrun_id, 0), f.overruns, f.window_from, f.cleared_at,"
                       " coalesce(f.cleared_by, 0), f.reason, o.name FROM watch_flags f"
                       " JOIN orgs o ON o.id = f.org_id WHERE f.org_id = $1"
                       " AND f.cleared_at IS NULL",
    [PGS_LOSS] = "UPDATE overruns SET loss = nullif($2::bigint, -1), loss_by = $3, loss_at = $4"
                 " WHERE id = $1",
    [PGS_LOSS_GET] = "SELECT coalesce(loss, -1) FROM overruns WHERE id = $1",
    [PGS_AUDIT_HEAD] = "SELECT id, hash, at FROM audit ORDER BY id DESC LIMIT 1",
    [PGS_AUDIT_INSERT] = "INSERT INTO audit(id, at, actor, kind, object, action, body, hash)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    /* json (not jsonb): before and after keep the body's canonical text */
    [PGS_AUDIT] = "SELECT id, actor, object, at, kind, action, body::json -> 'before',"
                  " body::json -> 'after', hash FROM audit WHERE ($1::text IS NULL OR kind = $1)"
                  " AND ($2::bigint = 0 OR actor = $2) AND at >= $3 AND at < $4"
                  " AND ($5::bigint = 0 OR id < $5) ORDER BY id DESC LIMIT $6",
    [PGS_AUDIT_CHAIN] = "SELECT id, at, actor, body, hash FROM audit ORDER BY id",
#define AUDIT_ROW(t)                                                                               \
    "SELECT * FROM " t " WHERE CASE WHEN $1::text IS NULL THEN id = $2::bigint ELSE name = $1"     \
    " END ORDER BY id LIMIT 1"
    [PGS_AUDIT_CALENDAR] = AUDIT_ROW("calendars"),
    [PGS_AUDIT_COMMITMENT] = AUDIT_ROW("commitments"),
    [PGS_AUDIT_ROTA] = AUDIT_ROW("oncall"),
    [PGS_AUDIT_ENDPOINT] = AUDIT_ROW("endpoints"),
    [PGS_AUDIT_USER] = AUDIT_ROW("users"),
    [PGS_AUDIT_ORG] = AUDIT_ROW("orgs"),
    [PGS_AUDIT_TEAM] = AUDIT_ROW("teams"),
    /* contracts have no name: by id only */
    [PGS_AUDIT_CONTRACT] = "SELECT * FROM contracts WHERE id = $2::bigint AND ($1::text IS NULL"
                           " OR false)",
#undef AUDIT_ROW
    [PGS_ONCALL_PUT] = "INSERT INTO oncall(name, team_id, level, spec, created_at)"
                       " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id, level)"
                       " DO UPDATE SET name = excluded.name, spec = excluded.spec RETURNING id",
    [PGS_ONCALLS] = "SELECT id, name, team_id, level, spec FROM oncall"
                    " WHERE ($1::bigint = 0 OR team_id = $1) AND ($2::int = 0 OR level = $2)"
                    " AND ($3::bigint = 0 OR id = $3) ORDER BY team_id, level",
};

/* Generated from migrations/NNN-*.sql (CMakeLists.txt): migration i brings
 * the schema to version i+1. Append only. */
extern const char *const kwpg_migrations[];
extern const int kwpg_migrations_n;

/* Any number that names the migration lock among a database's advisory locks. */
#define MIGRATE_LOCK "7238000"

/* ---- parameters and columns ---- */

void kwp_int(struct kwp_params *p, int64_t v)
{
    int i = p->n++;
    snprintf(p->num[i], sizeof(p->num[i]), "%" PRId64, v);
    p->v[i] = p->num[i];
    p->len[i] = 0;
    p->fmt[i] = 0;
}

void kwp_text(struct kwp_params *p, const char *s)
{
    int i = p->n++;
    p->v[i] = s;
    p->len[i] = 0;
    p->fmt[i] = 0;
}

size_t kwp_int_array(char *buf, const int64_t *v, size_t n)
{
    size_t at = 0;
    buf[at++] = '{';
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(buf + at, 22, i ? ",%" PRId64 : "%" PRId64, v[i]);
    buf[at++] = '}';
    buf[at] = '\0';
    return at;
}

void kwp_bytes(struct kwp_params *p, const void *b, int n)
{
    int i = p->n++;
    p->v[i] = b;
    p->len[i] = n;
    p->fmt[i] = 1;
}

void kwp_instant(struct kwp_params *p, int64_t t)
{
    if (t == KW_STORE_NO_TIME)
        kwp_text(p, NULL);
    else
        kwp_int(p, t);
}

int64_t kwp_col_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int64_t kwp_col_instant(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? KW_STORE_NO_TIME : kwp_col_int(res, row, col);
}

const char *kwp_col_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool kwp_col_bytes(const PGresult *res, int row, int col, unsigned char *out, size_t n)
{
    /* results are text: bytea comes as "\x" and two hex digits a byte */
    const char *s = kwp_col_text(res, row, col);
    if (!s || strncmp(s, "\\x", 2) != 0 || strlen(s) != 2 + 2 * n)
        return false;
    return kwp_col_bytes_prefix(s, out, n);
}

bool kwp_col_bytes_prefix(const char *s, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* ---- running statements ---- */

/* PostgreSQL's message without its trailing newline. */
static const char *pg_message(const struct kw_store *st, const PGresult *res, char *buf, size_t n)
{
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(buf, n, "%s", m ? m : PQerrorMessage(st->conn));
    for (char *c = buf; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' '; /* one line (libpq's connection errors have several) */
    size_t len = strlen(buf);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    return buf;
}

json_t *kwp_json_text(const char *s)
{
    /* the database checks the text's encoding, as a text parameter's */
    return s ? json_string_nocheck(s) : json_null();
}

json_t *kwp_json_instant(int64_t t)
{
    return t == KW_STORE_NO_TIME ? json_null() : json_integer(t);
}

void kwp_lend(struct kw_store *st, PGresult *res)
{
    PQclear(st->lent);
    st->lent = res;
}

static const char *const deferred_what[PGS_COUNT] = {[PGS_BEGIN] = "begin",
                                                     [PGS_SAVEPOINT] = "savepoint",
                                                     [PGS_RELEASE] = "release savepoint",
                                                     [PGS_LOG_LOCK] = "lock the log",
                                                     [PGS_COMMIT_ASYNC] = "commit",
                                                     [PGS_COMMIT] = "commit"};

static void pending_clear(struct kwp_pending *d)
{
    free(d->buf);
    d->buf = NULL;
}

/* Forget what was deferred without sending it. */
static void drop_deferred(struct kw_store *st)
{
    for (int i = 0; i < st->n_deferred; i++)
        pending_clear(&st->deferred[i]);
    st->n_deferred = 0;
    st->merge_at = -1;
}

void kwp_defer(struct kw_store *st, enum pgs s)
{
    st->due_ticket = 0;
    if (s == PGS_BEGIN || s == PGS_SAVEPOINT || s == PGS_RELEASE)
        kwp_tail_track(st, s);
    if (st->n_deferred == KWPG_MAX_DEFERRED)
        kwp_exec(st, s, NULL, deferred_what[s], NULL); /* full: sends them all now */
    else
        st->deferred[st->n_deferred++] = (struct kwp_pending){.s = s, .what = deferred_what[s]};
    if (s == PGS_BEGIN) {
        st->log_size = -1;
        st->log_locked = false;
    }
}

enum kw_code kwp_exec_later(struct kw_store *st, enum pgs s, const struct kwp_params *p,
                            const char *what, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    st->due_ticket = 0;
    if (!st->in_tx || st->n_deferred == KWPG_MAX_DEFERRED)
        return kwp_exec(st, s, p, what, err); /* sends the deferred ones with it */
    struct kwp_pending d = {.s = s, .what = what, .n = p ? p->n : 0};
    size_t bytes = 0;
    for (int i = 0; i < d.n; i++)
        if (p->v[i])
            bytes += p->fmt[i] ? (size_t)p->len[i] : strlen(p->v[i]) + 1;
    if (bytes && !(d.buf = malloc(bytes)))
        return kw_err_set(err, KW_NOMEM, "", "%s: no memory to %s", st->where, what);
    char *at = d.buf;
    for (int i = 0; i < d.n; i++) {
        d.len[i] = p->len[i];
        d.fmt[i] = p->fmt[i];
        d.v[i] = NULL;
        if (p->v[i]) {
            size_t k = p->fmt[i] ? (size_t)p->len[i] : strlen(p->v[i]) + 1;
            memcpy(at, p->v[i], k);
            d.v[i] = at;
            at += k;
        }
    }
    st->deferred[st->n_deferred++] = d;
    return KW_OK;
}

/* Whether statement s, kept for later, writes what a statement of rows
 * (kwp_exec_later_rows) writes, or starts or ends a transaction or a
 * savepoint: rows are not moved past it. (The log's lock is not: the rows'
 * tickets are locked already, kw_store_prefetch.) */
static bool merge_barrier(enum pgs s)
{
    return s == PGS_BEGIN || s == PGS_SAVEPOINT || s == PGS_RELEASE || s == PGS_ROLLBACK_TO ||
           s == PGS_RUNS_DEL || s == PGS_RUN_ADD;
}

enum kw_code kwp_exec_later_rows(struct kw_store *st, enum pgs s, int64_t key, const char *rows,
                                 const char *what, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    int at = -1;
    if (st->in_tx && st->merge_at >= 0 && st->merge_at < st->n_deferred &&
        st->deferred[st->merge_at].s == s && st->n_merged < KWPG_MAX_PREFETCH) {
        at = st->merge_at;
        for (int i = at + 1; at >= 0 && i < st->n_deferred; i++)
            if (merge_barrier(st->deferred[i].s) || st->deferred[i].s == s)
                at = -1;
        for (int i = 0; at >= 0 && i < st->n_merged; i++)
            if (st->merged[i] == key)
                at = -1;
    }
    size_t add = strlen(rows);
    if (at >= 0 && add > 2) {
        /* "[a]" and "[b]" become "[a,b]" */
        struct kwp_pending *d = &st->deferred[at];
        size_t have = strlen(d->v[0]);
        char *buf = malloc(have + add);
        if (!buf)
            return kw_err_set(err, KW_NOMEM, "", "%s: no memory to %s", st->where, what);
        memcpy(buf, d->v[0], have - 1);
        buf[have - 1] = ',';
        memcpy(buf + have, rows + 1, add); /* with its NUL */
        free(d->buf);
        d->buf = buf;
        d->v[0] = buf;
        st->merged[st->n_merged++] = key;
        st->due_ticket = 0;
        return KW_OK;
    }
    struct kwp_params p = {0};
    kwp_text(&p, rows);
    if (kwp_exec_later(st, s, &p, what, err) != KW_OK)
        return err->code;
    if (st->in_tx && st->n_deferred > 0 && st->deferred[st->n_deferred - 1].s == s) {
        st->merge_at = st->n_deferred - 1;
        st->merged[0] = key;
        st->n_merged = 1;
    }
    return KW_OK;
}

enum kw_code kwp_exec_later_clocks(struct kw_store *st, const struct kwp_params *p,
                                   struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    /* the outbox's rows name no event and change no ticket: the event can
     * go out after them. A savepoint, a release, the log's lock or any
     * other write between the two keeps them apart. */
    int at = -1;
    for (int i = st->n_deferred - 1; st->in_tx && i >= 0; i--) {
        const struct kwp_pending *d = &st->deferred[i];
        if (d->s == PGS_EVENT_INSERT && d->v[0] && strcmp(d->v[0], p->v[0]) == 0)
            at = i;
        if (d->s != PGS_OUTBOX_ADD)
            break;
    }
    if (at < 0)
        return kwp_exec_later(st, PGS_CLOCK_PUT, p, "store clocks", err);
    struct kwp_pending ev = st->deferred[at];
    memmove(&st->deferred[at], &st->deferred[at + 1],
            (size_t)(st->n_deferred - at - 1) * sizeof(st->deferred[0]));
    st->n_deferred--;
    if (st->merge_at > at)
        st->merge_at--;
    else if (st->merge_at == at)
        st->merge_at = -1;
    struct kwp_params both = {.n = ev.n};
    for (int i = 0; i < ev.n; i++) {
        both.v[i] = ev.v[i];
        both.len[i] = ev.len[i];
        both.fmt[i] = ev.fmt[i];
    }
    for (int i = 1; i < p->n && both.n < KWPG_MAX_PARAMS; i++, both.n++) {
        both.v[both.n] = p->v[i];
        both.len[both.n] = p->len[i];
        both.fmt[both.n] = p->fmt[i];
    }
    /* on failure (no memory to copy them) the transaction fails: the event
     * taken out is rolled back with it */
    enum kw_code rc =
        kwp_exec_later(st, PGS_EVENT_CLOCKS, &both, "insert event and store clocks", err);
    pending_clear(&ev); /* kwp_exec_later copied its parameters */
    return rc;
}

/* Send the deferred statements and s in one pipeline and read their
 * results: s's result, or NULL with *failed the first that failed (its
 * index in st->deferred, or -1 for s itself) and *bad its result. A
 * transaction's BEGIN and savepoints, and the writes nobody reads the
 * answer of, thus cost no round trip of their own (a create in the
 * writer's unit had four, and the log's append as many again). The
 * deferred ones' parameters are freed; their `what` stays for the message. */
static PGresult *pipelined(struct kw_store *st, const char *name, const struct kwp_params *p,
                           int *failed, PGresult **bad)
{
    int n = st->n_deferred;
    st->n_deferred = 0;
    st->merge_at = -1;
    *failed = -1;
    *bad = NULL;
    bool sent = PQenterPipelineMode(st->conn) == 1;
    for (int i = 0; sent && i < n; i++) {
        const struct kwp_pending *d = &st->deferred[i];
        char dname[16];
        snprintf(dname, sizeof(dname), "s%d", (int)d->s);
        sent = PQsendQueryPrepared(st->conn, dname, d->n, d->n ? d->v : NULL, d->n ? d->len : NULL,
                                   d->n ? d->fmt : NULL, 0) == 1;
    }
    sent = sent &&
           PQsendQueryPrepared(st->conn, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                               p ? p->fmt : NULL, p && p->binary_result) == 1 &&
           PQpipelineSync(st->conn) == 1;
    for (int i = 0; i < n; i++)
        pending_clear(&st->deferred[i]); /* libpq copied them into its buffer */
    PGresult *out = NULL;
    if (sent) {
        /* each query's result then NULL; then the sync's */
        for (int i = 0; i <= n; i++) {
            PGresult *res = PQgetResult(st->conn);
            ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
            bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
            if (!ok && !*bad && status != PGRES_PIPELINE_ABORTED) {
                *failed = i < n ? i : -1;
                *bad = res;
                res = NULL;
            }
            if (i == n && ok)
                out = res;
            else
                PQclear(res);
            while ((res = PQgetResult(st->conn)) != NULL) /* to the query's end */
                PQclear(res);
        }
        PGresult *sync;
        while ((sync = PQgetResult(st->conn)) != NULL &&
               PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
            PQclear(sync);
        PQclear(sync);
    }
    PQexitPipelineMode(st->conn);
    if (*bad || !sent) {
        PQclear(out);
        return NULL;
    }
    return out;
}

/* Run the statement prepared as name (kwp_run, kwp_run_part). */
static PGresult *run_named(struct kw_store *st, const char *name, const struct kwp_params *p,
                           const char *what, char sqlstate[6], struct kw_err *err)
{
    kwp_lend(st, NULL); /* what the last call lent dies now (store.h) */
    st->due_ticket = 0;
    st->merge_at = -1; /* whatever was kept goes out now */
    PGresult *res;
    int failed = -1;
    if (st->n_deferred) {
        PGresult *bad;
        res = pipelined(st, name, p, &failed, &bad);
        if (!res) {
            if (failed >= 0) /* the array keeps what was sent */
                what = st->deferred[failed].what;
            res = bad; /* for its message and SQLSTATE below */
        }
    } else
        res = PQexecPrepared(st->conn, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                             p ? p->fmt : NULL, p && p->binary_result);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (failed < 0 && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) {
        if (sqlstate)
            sqlstate[0] = '\0';
        return res;
    }
    const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (sqlstate)
        snprintf(sqlstate, 6, "%s", code ? code : "");
    char msg[160];
    kw_err_set(err, KW_STORE, "", "%s: %s: %s", st->where, what,
               pg_message(st, res, msg, sizeof(msg)));
    PQclear(res);
    return NULL;
}

PGresult *kwp_run(struct kw_store *st, enum pgs s, const struct kwp_params *p, const char *what,
                  char sqlstate[6], struct kw_err *err)
{
    if (s == PGS_ROLLBACK) /* everything not sent yet goes with it; sent, */
        drop_deferred(st); /* a failed one would skip the ROLLBACK itself */
    if (s == PGS_ROLLBACK) /* its claims' row locks end with it */
        st->claims.n = 0;
    if (s == PGS_ROLLBACK_TO) /* the schedules it gave may be undone */
        for (int i = 0; i < st->claims.n; i++)
            st->claims.t[i].done = false;
    if (s == PGS_COMMIT || s == PGS_ROLLBACK || s == PGS_ROLLBACK_TO) {
        kwp_tail_track(st, s);
        st->log_size = -1; /* the log as this transaction saw it ends here */
        st->next_ticket = 0;
        kwp_pre_drop(st);
    }
    if (s == PGS_COMMIT && st->log_locked) {
        /* acknowledged after the barrier's answer: the WAL is flushed in
         * order, so past the barrier's commit record it holds this one; a
         * crash before that loses a commit nobody was told of, and what
         * waited for its lock commits after it (docs/operations.md) */
        st->log_locked = false;
        kwp_defer(st, PGS_COMMIT_ASYNC);
        kwp_defer(st, PGS_COMMIT);
        s = PGS_COMMIT_BARRIER;
        what = "wait for the commit's flush";
    }
    if (s == PGS_ROLLBACK)
        st->log_locked = false;
    char name[16];
    snprintf(name, sizeof(name), "s%d", (int)s);
    return run_named(st, name, p, what, sqlstate, err);
}

PGresult *kwp_run_part(struct kw_store *st, enum kwp_part part, int s, const struct kwp_params *p,
                       const char *what, char sqlstate[6], struct kw_err *err)
{
    char name[16];
    snprintf(name, sizeof(name), "p%d_%d", (int)part, s);
    return run_named(st, name, p, what, sqlstate, err);
}

/* Send what was deferred now (before a statement outside the catalogue);
 * KW_OK, or KW_STORE naming the first that failed. */
static enum kw_code flush_deferred(struct kw_store *st, struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    if (st->n_deferred) {
        /* the last one goes as the pipeline's own statement */
        struct kwp_pending d = st->deferred[--st->n_deferred];
        struct kwp_params p = {.n = d.n};
        for (int i = 0; i < d.n; i++) {
            p.v[i] = d.v[i];
            p.len[i] = d.len[i];
            p.fmt[i] = d.fmt[i];
        }
        rc = kwp_exec(st, d.s, &p, d.what, err);
        pending_clear(&d);
    }
    return rc;
}

void kwp_flush(struct kw_store *st)
{
    flush_deferred(st, NULL);
}

enum kw_code kw_store_flush(struct kw_store *st, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    return flush_deferred(st, err);
}

enum kw_code kwp_exec(struct kw_store *st, enum pgs s, const struct kwp_params *p, const char *what,
                      struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    PGresult *res = kwp_run(st, s, p, what, NULL, err);
    PQclear(res);
    return res ? KW_OK : err->code;
}

enum kw_code kwp_text_ok(const char *s, const char *field, struct kw_err *err)
{
    if (s && strlen(s) > KW_STORE_TEXT_MAX)
        return kw_err_set(err, KW_TOO_BIG, field, "%s: longer than %d bytes", field + 1,
                          KW_STORE_TEXT_MAX);
    return KW_OK;
}

/* ---- open and close ---- */

/* Run text (one or more statements of our own, no parameters); KW_STORE. */
static enum kw_code plain(struct kw_store *st, const char *text, const char *what,
                          struct kw_err *err)
{
    PGresult *res = PQexec(st->conn, text);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    enum kw_code rc = KW_OK;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        char msg[160];
        rc = kw_err_set(err, KW_STORE, "", "%s: %s: %s", st->where, what,
                        pg_message(st, res, msg, sizeof(msg)));
    }
    PQclear(res);
    return rc;
}

int kw_store_schema_newest(struct kw_store *st)
{
    (void)st;
    return kwpg_migrations_n;
}

int kw_store_schema_version(struct kw_store *st)
{
    flush_deferred(st, NULL);
    PGresult *res = PQexec(st->conn, "SELECT max(version) FROM schema_migrations");
    int v = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                ? (int)kwp_col_int(res, 0, 0)
                : 0;
    PQclear(res);
    return v;
}

/* Bring the schema up to date: every node may open at once, so the whole
 * upgrade is one transaction under an advisory lock (DDL is transactional
 * in PostgreSQL: a failed migration leaves nothing behind). */
static enum kw_code migrate(struct kw_store *st, struct kw_err *err)
{
    if (plain(st,
              "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
              " CREATE TABLE IF NOT EXISTS schema_migrations("
              "version integer PRIMARY KEY, applied_at bigint NOT NULL)",
              "create schema_migrations", err) != KW_OK)
        goto fail;
    int have = kw_store_schema_version(st);
    if (have > kwpg_migrations_n) {
        kw_err_set(err, KW_STORE, "",
                   "%s: schema version %d is newer than this build knows (%d); use a newer "
                   "keepword",
                   st->where, have, kwpg_migrations_n);
        goto fail;
    }
    for (int v = have; v < kwpg_migrations_n; v++) {
        char what[64], ins[128];
        snprintf(what, sizeof(what), "migration %d", v + 1);
        snprintf(ins, sizeof(ins),
                 "INSERT INTO schema_migrations VALUES (%d, extract(epoch FROM now())::bigint)",
                 v + 1);
        if (plain(st, kwpg_migrations[v], what, err) != KW_OK || plain(st, ins, what, err) != KW_OK)
            goto fail;
    }
    if (plain(st, "COMMIT", "commit the migrations", err) == KW_OK)
        return KW_OK;
fail:
    PQclear(PQexec(st->conn, "ROLLBACK"));
    return err ? err->code : KW_STORE;
}

/* Whether the database is one of ours or empty: a database with tables of
 * something else is refused rather than mixed with ours. */
static enum kw_code ours_or_empty(struct kw_store *st, struct kw_err *err)
{
    PGresult *res = PQexec(st->conn, "SELECT to_regclass('schema_migrations') IS NOT NULL,"
                                     " (SELECT count(*) FROM pg_tables"
                                     "  WHERE schemaname = current_schema())");
    bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    bool ours = ok && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    int64_t tables = ok ? kwp_col_int(res, 0, 1) : 0;
    PQclear(res);
    if (!ok)
        return plain(st, "SELECT 1", "read the catalogue", err);
    if (!ours && tables > 0)
        return kw_err_set(err, KW_STORE, "",
                          "%s: not a keepword database (it has %lld other tables and no "
                          "schema_migrations)",
                          st->where, (long long)tables);
    return KW_OK;
}

/* The location as given, for messages, with any password replaced by "***":
 * a URL's user:password@, or a password=... keyword. */
static void redact(const char *loc, char *out, size_t cap)
{
    snprintf(out, cap, "%s", loc);
    char *p, *end;
    if ((p = strstr(out, "://")) != NULL) {
        char *at = strchr(p + 3, '@'), *colon = strchr(p + 3, ':');
        if (at && colon && colon < at && (end = at) > colon + 1) {
            memmove(colon + 4, end, strlen(end) + 1);
            memcpy(colon + 1, "***", 3);
        }
    }
    if ((p = strstr(out, "password")) != NULL && (p = strchr(p, '=')) != NULL) {
        p++;
        while (*p == ' ')
            p++;
        if (*p == '\'') {
            end = p + 1;
            while (*end && *end != '\'')
                end += end[0] == '\\' && end[1] ? 2 : 1;
            if (*end)
                end++;
        } else {
            end = p;
            while (*end && *end != ' ' && *end != '&')
                end++;
        }
        if (end > p && strlen(out) + 3 < cap) {
            memmove(p + 3, end, strlen(end) + 1);
            memcpy(p, "***", 3);
        }
    }
    /* a URL's query: password=... stops at & (handled above) */
}

/* The files' own catalogues, by part. */
static const struct kwp_catalogue *const parts[KWP_PARTS] = {
    [KWP_PEOPLE] = &kwp_people_sql, [KWP_ATTACH] = &kwp_attach_sql,
    [KWP_VIEWS] = &kwp_views_sql,   [KWP_NOTIFY] = &kwp_notify_sql,
    [KWP_LINKS] = &kwp_links_sql,   [KWP_RECEIPTS] = &kwp_receipts_sql,
    [KWP_LOG] = &kwp_log_sql,
};

/* Prepare sql as name on st's connection; KW_STORE naming it. */
static enum kw_code prepare(struct kw_store *st, const char *name, const char *sql,
                            struct kw_err *err)
{
    PGresult *res = PQprepare(st->conn, name, sql, 0, NULL);
    enum kw_code rc = KW_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        char msg[160];
        rc = kw_err_set(err, KW_STORE, "", "%s: prepare %.40s: %s", st->where, sql,
                        pg_message(st, res, msg, sizeof(msg)));
    }
    PQclear(res);
    return rc;
}

struct kw_store *kw_store_open(const char *conninfo, struct kw_err *err)
{
    struct kw_store *st = calloc(1, sizeof(*st));
    if (!st) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the store");
        return NULL;
    }
    st->log_size = -1;
    st->merge_at = -1;
    st->conn = PQconnectdb(conninfo);
    if (!st->conn) {
        kw_err_set(err, KW_NOMEM, "", "no memory for a PostgreSQL connection");
        goto fail;
    }
    redact(conninfo, st->where, sizeof(st->where));
    if (PQstatus(st->conn) != CONNECTION_OK) {
        char msg[160];
        kw_err_set(err, KW_STORE, "", "%s: connect: %s", st->where,
                   pg_message(st, NULL, msg, sizeof(msg)));
        goto fail;
    }
    if (plain(st, "SET client_min_messages = warning; SET TIME ZONE 'UTC'", "configure", err) !=
            KW_OK ||
        ours_or_empty(st, err) != KW_OK || migrate(st, err) != KW_OK)
        goto fail;
    for (int s = 0; s < PGS_COUNT; s++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", s);
        if (prepare(st, name, kwp_sql[s], err) != KW_OK)
            goto fail;
    }
    for (int part = 0; part < KWP_PARTS; part++)
        for (int s = 0; s < parts[part]->n; s++) {
            char name[16];
            snprintf(name, sizeof(name), "p%d_%d", part, s);
            if (prepare(st, name, parts[part]->sql[s], err) != KW_OK)
                goto fail;
        }
    return st;
fail:
    kw_store_close(st);
    return NULL;
}

struct kw_store *kw_store_open_writer(const char *conninfo, struct kw_err *err)
{
    /* PostgreSQL's upkeep (checkpoints, autovacuum) is the server's own */
    return kw_store_open(conninfo, err);
}

void kw_store_close(struct kw_store *st)
{
    if (!st)
        return;
    drop_deferred(st);
    kwp_pre_drop(st);
    kwp_tail_free(st);
    PQclear(st->lent);
    PQfinish(st->conn);
    free(st);
}

void kw_store_end_read(struct kw_store *st)
{
    kwp_lend(st, NULL);
}

void kw_store_small_reads(struct kw_store *st)
{
    (void)st; /* nothing is mapped */
}

enum kw_code kw_store_maintain(struct kw_store *st, struct kw_store_upkeep *out, struct kw_err *err)
{
    (void)st;
    (void)err;
    if (out)
        *out = (struct kw_store_upkeep){0};
    return KW_OK;
}

/* ---- transactions ---- */

enum kw_code kwp_tx_begin(struct kw_store *st, bool *outer, struct kw_err *err)
{
    *outer = !st->in_tx;
    if (*outer)
        st->in_tx = true;
    (void)err; /* a failed BEGIN or SAVEPOINT fails the next statement */
    kwp_defer(st, *outer ? PGS_BEGIN : PGS_SAVEPOINT);
    return KW_OK;
}

enum kw_code kwp_tx_finish(struct kw_store *st, bool outer, enum kw_code rc, struct kw_err *err)
{
    if (!outer) {
        if (rc != KW_OK) {
            kwp_exec(st, PGS_ROLLBACK_TO, NULL, "roll back", NULL);
            st->changed_ticket = 0; /* its change row is gone too */
        }
        kwp_defer(st, PGS_RELEASE); /* sent with the next statement */
        return rc;
    }
    if (rc == KW_OK)
        rc = kwp_claims_keep(st, err);
    if (rc == KW_OK)
        rc = kwp_log_settle(st, err);
    st->in_tx = false;
    st->changed_ticket = 0;
    if (rc == KW_OK && kwp_exec(st, PGS_COMMIT, NULL, "commit", err) != KW_OK)
        rc = KW_STORE;
    if (rc != KW_OK)
        kwp_exec(st, PGS_ROLLBACK, NULL, "roll back", NULL);
    return rc;
}

enum kw_code kw_store_begin(struct kw_store *st, struct kw_err *err)
{
    (void)err; /* sent with the next statement, which fails if it fails */
    st->changed_ticket = 0;
    st->next_ticket = 0;
    st->claims.n = 0;
    /* the log's lock is taken at the end (kwp_log_settle), after every row
     * lock, and its holder waits for no row: two nodes' transactions cannot
     * deadlock (SQLSTATE 40P01) on a ticket and the log */
    kwp_defer(st, PGS_BEGIN);
    st->in_tx = true;
    return KW_OK;
}

enum kw_code kw_store_commit(struct kw_store *st, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    enum kw_code rc = st->in_tx ? kwp_claims_keep(st, err) : KW_OK;
    if (rc == KW_OK)
        rc = kwp_log_settle(st, err);
    st->changed_ticket = 0;
    st->next_ticket = 0;
    st->in_tx = false;
    if (rc == KW_OK && kwp_exec(st, PGS_COMMIT, NULL, "commit", err) == KW_OK)
        return KW_OK;
    kwp_exec(st, PGS_ROLLBACK, NULL, "roll back", NULL);
    return err->code;
}

void kw_store_rollback(struct kw_store *st)
{
    st->changed_ticket = 0;
    st->next_ticket = 0;
    if (st->in_tx)
        kwp_exec(st, PGS_ROLLBACK, NULL, "roll back", NULL);
    st->in_tx = false;
}

enum kw_code kw_store_savepoint(struct kw_store *st, struct kw_err *err)
{
    (void)err; /* sent with the next statement, which fails if it fails */
    st->changed_ticket = 0;
    st->next_ticket = 0;
    kwp_defer(st, PGS_SAVEPOINT);
    return KW_OK;
}

enum kw_code kw_store_release(struct kw_store *st, bool keep, struct kw_err *err)
{
    st->changed_ticket = 0;
    st->next_ticket = 0;
    if (!keep) {
        kwp_exec(st, PGS_ROLLBACK_TO, NULL, "roll back to savepoint", NULL);
        kwp_tail_track(st, PGS_RELEASE);
        return kwp_exec(st, PGS_RELEASE, NULL, "release savepoint", err);
    }
    kwp_defer(st, PGS_RELEASE); /* sent with the next statement */
    return KW_OK;
}

enum kw_code kwp_refs(struct kw_store *st, const int64_t ids[4], const char *const fields[4],
                      struct kw_err *err)
{
    static const char *const what[] = {"organisation", "team", "user", "endpoint"};
    KW_ERR_ENSURE(err);
    struct kwp_params p = {0};
    for (int i = 0; i < 4; i++)
        kwp_int(&p, ids[i]);
    PGresult *res = kwp_run(st, PGS_REFS, &p, "look up a reference", NULL, err);
    if (!res)
        return err->code;
    enum kw_code rc = KW_OK;
    for (int i = 0; i < 4 && rc == KW_OK; i++)
        if (strcmp(PQgetvalue(res, 0, i), "t") != 0)
            rc = kw_err_set(err, KW_NOT_FOUND, fields[i], "%s: no %s %lld", fields[i] + 1, what[i],
                            (long long)ids[i]);
    PQclear(res);
    return rc;
}
