// SPDX-License-Identifier: MIT
/* SQLite backend of store.h: WAL, foreign keys, numbered migrations,
 * statements prepared once per connection, one transaction per write. */
#include "chain.h"
#include "store.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Migrations are append-only: migration i brings the schema to version i+1. */
static const char *const migrations[] = {
    /* 1: the core tables; events are append-only (triggers refuse changes). */
    "CREATE TABLE orgs("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, tier TEXT, region TEXT,"
    " calendar TEXT, contract_value_cents INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE teams(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE users("
    " id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " role TEXT NOT NULL CHECK (role IN ('admin','manager','agent','customer')),"
    " org_id INTEGER REFERENCES orgs(id), team_id INTEGER REFERENCES teams(id),"
    " skills TEXT NOT NULL DEFAULT '[]', password_hash TEXT, created_at INTEGER NOT NULL);"
    "CREATE TABLE calendars(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " spec TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE commitments(id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,"
    " effective_from INTEGER NOT NULL, doc TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " UNIQUE (name, version));"
    "CREATE TABLE tickets("
    " id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id),"
    " commitment_id INTEGER REFERENCES commitments(id), title TEXT NOT NULL,"
    " state TEXT NOT NULL, level TEXT NOT NULL, tier TEXT, category TEXT, region TEXT,"
    " channel TEXT, assignee_id INTEGER REFERENCES users(id), team_id INTEGER REFERENCES teams(id),"
    " created_by INTEGER, idempotency_key TEXT, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL, head_hash BLOB NOT NULL,"
    " next_due INTEGER, UNIQUE (created_by, idempotency_key));"
    "CREATE INDEX tickets_by_org ON tickets(org_id, id);"
    "CREATE INDEX tickets_by_due ON tickets(next_due) WHERE next_due IS NOT NULL;"
    "CREATE TABLE events("
    " ticket_id INTEGER NOT NULL REFERENCES tickets(id), seq INTEGER NOT NULL,"
    " at INTEGER NOT NULL, type TEXT NOT NULL, actor_id INTEGER NOT NULL DEFAULT 0,"
    " body TEXT NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (ticket_id, seq)) WITHOUT ROWID;"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TABLE clocks(ticket_id INTEGER NOT NULL REFERENCES tickets(id), metric TEXT NOT NULL,"
    " status TEXT NOT NULL, deadline INTEGER, next_due INTEGER, body TEXT NOT NULL,"
    " PRIMARY KEY (ticket_id, metric)) WITHOUT ROWID;",
    /* 2: session and API tokens, stored as hashes only */
    "CREATE TABLE tokens(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),"
    " hash BLOB NOT NULL UNIQUE, kind TEXT NOT NULL CHECK (kind IN ('session','api')),"
    " label TEXT, created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);",
    /* 3: assignment, the clock projection on the ticket (next_due: the
     * earliest breach deadline of a running clock; breached_at: the first
     * breach already recorded), teams with a lead, tokens per user. */
    "ALTER TABLE tickets ADD COLUMN breached_at INTEGER;"
    "ALTER TABLE tickets ADD COLUMN projected_seq INTEGER NOT NULL DEFAULT 0;"
    "DROP TABLE clocks;"
    "CREATE TABLE clocks(ticket_id INTEGER NOT NULL REFERENCES tickets(id), metric TEXT NOT NULL,"
    " status TEXT NOT NULL, deadline INTEGER, next_due INTEGER, next_pct INTEGER,"
    " PRIMARY KEY (ticket_id, metric)) WITHOUT ROWID;"
    "ALTER TABLE teams ADD COLUMN lead_id INTEGER REFERENCES users(id);"
    "ALTER TABLE teams ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;"
    "DROP INDEX tickets_by_due;"
    "CREATE INDEX tickets_by_due ON tickets(coalesce(next_due, 9223372036854775807), id);"
    "CREATE INDEX tickets_by_assignee ON tickets(assignee_id, id) WHERE assignee_id IS NOT NULL;"
    "CREATE INDEX tickets_breached ON tickets(id) WHERE breached_at IS NOT NULL;"
    "CREATE INDEX tokens_by_user ON tokens(user_id, id);",
    /* 4: the live engine: when a ticket's next threshold falls due, where
     * notifications go, and the outbox they wait in (written in the same
     * transaction as the event that causes them). */
    "ALTER TABLE tickets ADD COLUMN fire_at INTEGER;"
    "CREATE INDEX tickets_fire ON tickets(fire_at) WHERE fire_at IS NOT NULL;"
    "CREATE TABLE endpoints(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('webhook','email','dingtalk','feishu','wecom')),"
    " url TEXT NOT NULL, secret TEXT, events TEXT NOT NULL DEFAULT '[]',"
    " org_id INTEGER REFERENCES orgs(id), team_id INTEGER REFERENCES teams(id),"
    " active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);"
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY,"
    " endpoint_id INTEGER NOT NULL REFERENCES endpoints(id), kind TEXT NOT NULL,"
    " ticket_id INTEGER, payload TEXT NOT NULL, idem_key TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT,"
    " created_at INTEGER NOT NULL, delivered_at INTEGER, UNIQUE (endpoint_id, idem_key));"
    "CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state = 'pending';",
    /* 5: on-call rotas, one per team and level */
    "CREATE TABLE oncall(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " team_id INTEGER NOT NULL REFERENCES teams(id), level INTEGER NOT NULL DEFAULT 1,"
    " spec TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (team_id, level));",
    /* 6: overrun records (超时处理): one per breached clock run, with the
     * reason told to the customer and a follow-up tracked to done */
    "CREATE TABLE overruns(id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES"
    " tickets(id), org_id INTEGER NOT NULL, commitment_id INTEGER, metric TEXT NOT NULL,"
    " deadline INTEGER NOT NULL, stopped_at INTEGER, recorded_at INTEGER NOT NULL,"
    " reason TEXT CHECK (reason IN ('technology','staffing','process','customer',"
    "'third_party')), note TEXT, explained_by INTEGER, explained_at INTEGER,"
    " rca TEXT, action TEXT, owner_id INTEGER REFERENCES users(id), due INTEGER,"
    " done_at INTEGER, UNIQUE (ticket_id, metric, deadline));"
    "CREATE INDEX overruns_by_org ON overruns(org_id, id);",
    /* 7: each customer organisation's account manager (escalations notify them) */
    "ALTER TABLE orgs ADD COLUMN account_manager_id INTEGER REFERENCES users(id);",
    /* 8: people's own subscriptions, with quiet hours; notifications for a person */
    "CREATE TABLE subscriptions(id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES users(id),"
    " endpoint_id INTEGER NOT NULL REFERENCES endpoints(id), events TEXT NOT NULL DEFAULT '[]',"
    " org_id INTEGER REFERENCES orgs(id), team_id INTEGER REFERENCES teams(id),"
    " quiet_tz TEXT, quiet_from INTEGER, quiet_to INTEGER, created_at INTEGER NOT NULL,"
    " UNIQUE (user_id, endpoint_id));"
    "ALTER TABLE outbox ADD COLUMN user_id INTEGER REFERENCES users(id);",
    /* 9: the language a person's notifications are written in (NULL: both) */
    "ALTER TABLE subscriptions ADD COLUMN lang TEXT CHECK (lang IN ('zh','en'));",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_ORG_INSERT,
    S_ORG_EXISTS,
    S_TICKET_BY_KEY,
    S_TICKET_INSERT,
    S_TICKET_HEAD,
    S_TICKET_ADVANCE,
    S_EVENT_INSERT,
    S_EVENTS,
    S_TICKET_STATE,
    S_USER_INSERT,
    S_USER_COUNT,
    S_USER_BY_EMAIL,
    S_TOKEN_USER,
    S_TOKEN_REVOKE,
    S_USER_GET,
    S_TICKET_GET,
    S_COMMITMENT_INSERT,
    S_COMMITMENT_DOC,
    S_TICKETS,
    S_TICKETS_DUE,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_TICKET_SET,
    S_CLOCK_PUT,
    S_CLOCK_CLEAR,
    S_TICKET_DUE,
    S_ORGS,
    S_ORG_GET,
    S_USERS,
    S_TEAM_INSERT,
    S_TEAMS,
    S_TEAM_GET,
    S_CALENDAR_PUT,
    S_CALENDARS,
    S_CALENDAR_GET,
    S_COMMITMENTS,
    S_API_TOKEN_INSERT,
    S_TOKENS,
    S_TOKEN_REVOKE_ID,
    S_COMMITMENT_AT,
    S_STALE,
    S_TOKEN_CALLER,
    S_FIRE_ALL,
    S_FIRE_ONE,
    S_OUTBOX_ADD,
    S_OUTBOX_DUE,
    S_OUTBOX_NEXT,
    S_OUTBOX_DONE,
    S_OUTBOX_LIST,
    S_OUTBOX_RETRY,
    S_ENDPOINT_ADD,
    S_ENDPOINTS,
    S_ENDPOINT_TEST,
    S_ONCALL_PUT,
    S_ONCALLS,
    S_OVERRUN_ADD,
    S_OVERRUN_STOP,
    S_OVERRUNS,
    S_OVERRUN_EXPLAIN,
    S_OVERRUN_FOLLOW,
    S_OUTBOX_SUBS,
    S_OUTBOX_POSTPONE,
    S_CLOCKS_OF,
    S_SUB_ADD,
    S_SUBS,
    S_SUB_DELETE,
    S_COUNT
};

/* The columns read_user() reads, in its order (users as u). */
#define USER_COLS                                                                                  \
    "u.id, coalesce(u.org_id, 0), coalesce(u.team_id, 0), u.email, u.name, u.role, u.skills"
/* The columns read_ticket() reads, in its order. */
#define TICKET_COLS                                                                                \
    "id, org_id, coalesce(created_by, 0), created_at, updated_at, last_seq, title, state, level,"  \
    " tier, category, region, channel, head_hash, coalesce(commitment_id, 0),"                     \
    " coalesce(assignee_id, 0), coalesce(team_id, 0), next_due, breached_at"
/* The filters of struct kw_ticket_filter; ?7: 0 any, 1 breached, 2 not
 * breached as of ?8 (a running clock past its deadline counts). */
#define DUE_KEY "coalesce(next_due, 9223372036854775807)"
#define TICKET_FILTER                                                                              \
    "(?2 = 0 OR org_id = ?2) AND (?3 IS NULL OR state = ?3 OR (?3 = 'open' AND state <> "          \
    "'archived')) AND (?4 IS NULL OR level = ?4)"                                                  \
    " AND (?6 = 0 OR assignee_id = ?6) AND (?11 = 0 OR team_id = ?11)"                             \
    " AND (?7 = 0 OR (?7 = 1) = (breached_at IS NOT NULL OR " DUE_KEY " <= ?8))"                   \
    " AND (?9 IS NULL OR next_due < ?9)"

static const char *const sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_ORG_INSERT] = "INSERT INTO orgs(name, tier, region, calendar, contract_value_cents,"
                     " created_at, account_manager_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                     " nullif(?7, 0))",
    [S_ORG_EXISTS] = "SELECT 1 FROM orgs WHERE id = ?1",
    [S_TICKET_BY_KEY] = "SELECT id FROM tickets WHERE created_by = ?1 AND idempotency_key = ?2",
    [S_TICKET_INSERT] =
        "INSERT INTO tickets(org_id, title, state, level, tier, category, region, channel,"
        " created_by, idempotency_key, created_at, updated_at, last_seq, head_hash, commitment_id)"
        " VALUES (?1, ?2, 'registered', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, 0, zeroblob(32),"
        " (SELECT id FROM commitments WHERE effective_from <= ?10"
        "  ORDER BY effective_from DESC, id DESC LIMIT 1))",
    [S_TICKET_HEAD] = "SELECT last_seq, head_hash, updated_at FROM tickets WHERE id = ?1",
    [S_TICKET_ADVANCE] = "UPDATE tickets SET last_seq = ?2, head_hash = ?3, updated_at = ?4,"
                         " state = coalesce(?5, state) WHERE id = ?1",
    [S_EVENT_INSERT] = "INSERT INTO events(ticket_id, seq, at, type, actor_id, body, hash)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_EVENTS] = "SELECT seq, at, type, actor_id, body, hash FROM events WHERE ticket_id = ?1"
                 " ORDER BY seq",
    [S_TICKET_STATE] = "SELECT state FROM tickets WHERE id = ?1",
    [S_USER_INSERT] = "INSERT INTO users(email, name, role, org_id, team_id, password_hash,"
                      " created_at, skills) VALUES (?1, ?2, ?3, nullif(?4, 0), nullif(?5, 0), ?6,"
                      " ?7, coalesce(?8, '[]'))",
    [S_USER_COUNT] = "SELECT count(*) FROM users WHERE role = ?1",
    [S_USER_BY_EMAIL] = "SELECT id, password_hash FROM users WHERE email = ?1",
    [S_TOKEN_USER] = "SELECT user_id FROM tokens WHERE hash = ?1 AND revoked_at IS NULL"
                     " AND (expires_at IS NULL OR expires_at > ?2)",
    [S_USER_GET] = "SELECT " USER_COLS " FROM users u WHERE id = ?1",
    [S_TICKET_GET] = "SELECT " TICKET_COLS " FROM tickets WHERE id = ?1",
    [S_COMMITMENT_INSERT] = "INSERT INTO commitments(name, version, effective_from, doc,"
                            " created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_COMMITMENT_DOC] = "SELECT doc FROM commitments WHERE id = ?1",
    [S_TICKETS] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER
                  " AND id > ?1 ORDER BY id LIMIT ?5",
    [S_TICKETS_DUE] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER " AND (" DUE_KEY
                      ", id) > (?10, ?1) ORDER BY " DUE_KEY ", id LIMIT ?5",
    [S_SAVEPOINT] = "SAVEPOINT kw",
    [S_RELEASE] = "RELEASE kw",
    [S_ROLLBACK_TO] = "ROLLBACK TO kw",
    [S_TICKET_SET] = "UPDATE tickets SET level = coalesce(?2, level),"
                     " category = coalesce(?3, category),"
                     " assignee_id = CASE WHEN ?4 < 0 THEN NULL WHEN ?4 > 0 THEN ?4"
                     " ELSE assignee_id END,"
                     " team_id = CASE WHEN ?5 < 0 THEN NULL WHEN ?5 > 0 THEN ?5 ELSE team_id END"
                     " WHERE id = ?1",
    [S_CLOCK_PUT] = "INSERT OR REPLACE INTO clocks(ticket_id, metric, status, deadline, next_due,"
                    " next_pct) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CLOCK_CLEAR] = "DELETE FROM clocks WHERE ticket_id = ?1",
    [S_TICKET_DUE] = "UPDATE tickets SET next_due = ?2, breached_at = ?3, fire_at = ?4,"
                     " projected_seq = last_seq WHERE id = ?1",
    [S_FIRE_ALL] = "SELECT id, fire_at FROM tickets WHERE fire_at IS NOT NULL",
    [S_FIRE_ONE] = "SELECT fire_at FROM tickets WHERE id = ?1",
    [S_OUTBOX_ADD] =
        "INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key, next_at, created_at)"
        " SELECT id, ?1, ?2, ?5, ?6, ?7, ?7 FROM endpoints WHERE active"
        " AND (org_id IS NULL OR org_id = ?3) AND (team_id IS NULL OR team_id = nullif(?4, 0))"
        " AND (events = '[]' OR EXISTS (SELECT 1 FROM json_each(endpoints.events)"
        " WHERE value = ?1)) ON CONFLICT DO NOTHING",
    [S_OUTBOX_DUE] = "SELECT o.id, o.kind, o.payload, o.idem_key, o.attempts, e.id, e.kind,"
                     " e.url, e.secret, coalesce(o.user_id, 0), u.email, coalesce(u.team_id, 0),"
                     " s.quiet_tz, s.quiet_from, s.quiet_to, s.lang"
                     " FROM outbox o JOIN endpoints e ON e.id = o.endpoint_id"
                     " LEFT JOIN users u ON u.id = o.user_id"
                     " LEFT JOIN subscriptions s ON s.user_id = o.user_id"
                     " AND s.endpoint_id = o.endpoint_id"
                     " WHERE o.state = 'pending' AND o.next_at <= ?1 ORDER BY o.next_at, o.id"
                     " LIMIT ?2",
    [S_OUTBOX_SUBS] =
        "INSERT INTO outbox(endpoint_id, user_id, kind, ticket_id, payload, idem_key, next_at,"
        " created_at) SELECT s.endpoint_id, s.user_id, ?1, ?2, ?5, ?6 || '/u' || s.user_id, ?7, ?7"
        " FROM subscriptions s JOIN endpoints e ON e.id = s.endpoint_id AND e.active"
        " WHERE (s.org_id IS NULL OR s.org_id = ?3) AND (s.team_id IS NULL OR s.team_id ="
        " nullif(?4, 0)) AND (s.events = '[]' OR EXISTS (SELECT 1 FROM json_each(s.events)"
        " WHERE value = ?1)) ON CONFLICT DO NOTHING",
    [S_OUTBOX_POSTPONE] = "UPDATE outbox SET next_at = ?2 WHERE id = ?1 AND state = 'pending'",
    [S_CLOCKS_OF] =
        "SELECT metric, status, deadline, next_due, coalesce(next_pct, 0) FROM clocks"
        " WHERE ticket_id = ?1 ORDER BY coalesce(deadline, 9223372036854775807), metric",
    [S_SUB_ADD] = "INSERT INTO subscriptions(user_id, endpoint_id, events, org_id, team_id,"
                  " quiet_tz, quiet_from, quiet_to, created_at, lang) VALUES (?1, ?2,"
                  " coalesce(?3, '[]'), nullif(?4, 0), nullif(?5, 0), ?6, ?7, ?8, ?9, ?10)"
                  " ON CONFLICT(user_id, endpoint_id) DO UPDATE SET events = excluded.events,"
                  " org_id = excluded.org_id, team_id = excluded.team_id,"
                  " quiet_tz = excluded.quiet_tz, quiet_from = excluded.quiet_from,"
                  " quiet_to = excluded.quiet_to, lang = excluded.lang RETURNING id",
    [S_SUBS] = "SELECT id, user_id, endpoint_id, events, coalesce(org_id, 0),"
               " coalesce(team_id, 0), quiet_tz, coalesce(quiet_from, 0), coalesce(quiet_to, 0),"
               " lang FROM subscriptions WHERE (?1 = 0 OR user_id = ?1) ORDER BY id",
    [S_SUB_DELETE] = "DELETE FROM subscriptions WHERE id = ?1 AND (?2 = 0 OR user_id = ?2)",
    [S_OUTBOX_NEXT] = "SELECT min(next_at) FROM outbox WHERE state = 'pending'",
    [S_OUTBOX_DONE] = "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_error = ?3,"
                      " next_at = ?4, delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 END"
                      " WHERE id = ?1 AND state = 'pending'",
    [S_OUTBOX_LIST] = "SELECT o.id, o.endpoint_id, o.kind, o.ticket_id, o.idem_key, o.state,"
                      " o.attempts, o.next_at, o.last_error, o.created_at, o.delivered_at,"
                      " o.payload FROM outbox o WHERE o.id > ?1 AND (?2 IS NULL OR o.state = ?2)"
                      " AND (?3 = 0 OR o.ticket_id = ?3) ORDER BY o.id LIMIT ?4",
    [S_OUTBOX_RETRY] = "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2,"
                       " last_error = NULL WHERE id = ?1 AND state = 'dead'",
    [S_ENDPOINT_ADD] = "INSERT INTO endpoints(name, kind, url, secret, events, org_id, team_id,"
                       " created_at) VALUES (?1, ?2, ?3, ?4, coalesce(?5, '[]'), nullif(?6, 0),"
                       " nullif(?7, 0), ?8)",
    [S_ENDPOINTS] = "SELECT id, name, kind, url, events, coalesce(org_id, 0),"
                    " coalesce(team_id, 0), active, secret IS NOT NULL FROM endpoints ORDER BY id",
    [S_ONCALL_PUT] = "INSERT INTO oncall(name, team_id, level, spec, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(team_id, level)"
                     " DO UPDATE SET name = excluded.name, spec = excluded.spec RETURNING id",
    [S_ONCALLS] = "SELECT id, name, team_id, level, spec FROM oncall WHERE (?1 = 0 OR team_id = ?1)"
                  " AND (?2 = 0 OR level = ?2) AND (?3 = 0 OR id = ?3) ORDER BY team_id, level",
    [S_OVERRUN_ADD] = "INSERT INTO overruns(ticket_id, org_id, commitment_id, metric, deadline,"
                      " recorded_at) VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6)"
                      " ON CONFLICT DO NOTHING",
    [S_OVERRUN_STOP] = "UPDATE overruns SET stopped_at = ?3 WHERE ticket_id = ?1 AND metric = ?2"
                       " AND stopped_at IS NULL",
    [S_OVERRUNS] = "SELECT id, ticket_id, org_id, coalesce(commitment_id, 0), metric, deadline,"
                   " stopped_at, recorded_at, reason, note, explained_at, rca, action,"
                   " coalesce(owner_id, 0), due, done_at FROM overruns"
                   " WHERE id > ?1 AND (?2 = 0 OR org_id = ?2) AND (?3 = 0 OR ticket_id = ?3)"
                   " AND (?4 IS NULL OR metric = ?4) AND (?5 IS NULL OR (?5 = 'open' AND reason"
                   " IS NULL) OR (?5 = 'explained' AND reason IS NOT NULL AND done_at IS NULL)"
                   " OR (?5 = 'done' AND done_at IS NOT NULL)) AND (?6 = 0 OR id = ?6)"
                   " ORDER BY id LIMIT ?7",
    [S_OVERRUN_EXPLAIN] = "UPDATE overruns SET reason = ?2, note = ?3, explained_by = ?4,"
                          " explained_at = ?5 WHERE id = ?1",
    [S_OVERRUN_FOLLOW] = "UPDATE overruns SET rca = coalesce(?2, rca), action = coalesce(?3,"
                         " action), owner_id = coalesce(nullif(?4, 0), owner_id),"
                         " due = coalesce(?5, due), done_at = CASE WHEN ?6 THEN"
                         " coalesce(done_at, ?7) ELSE done_at END WHERE id = ?1",
    [S_ENDPOINT_TEST] =
        "INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key, next_at, created_at)"
        " SELECT id, 'test', NULL, ?2, ?3, ?4, ?4 FROM endpoints WHERE id = ?1",
    [S_TOKEN_CALLER] = "SELECT " USER_COLS " FROM tokens t JOIN users u ON u.id = t.user_id"
                       " WHERE t.hash = ?1 AND t.revoked_at IS NULL"
                       " AND (t.expires_at IS NULL OR t.expires_at > ?2)",
    [S_STALE] = "SELECT id FROM tickets WHERE projected_seq <> last_seq AND id > ?1"
                " ORDER BY id LIMIT ?2",
    [S_ORGS] = "SELECT id, name, tier, region, calendar, contract_value_cents,"
               " coalesce(account_manager_id, 0) FROM orgs"
               " WHERE id > ?1 AND (?2 = 0 OR id = ?2) ORDER BY id LIMIT ?3",
    [S_ORG_GET] = "SELECT id, name, tier, region, calendar, contract_value_cents,"
                  " coalesce(account_manager_id, 0) FROM orgs WHERE id = ?1",
    [S_USERS] = "SELECT " USER_COLS " FROM users u WHERE id > ?1 AND (?2 = 0 OR org_id = ?2)"
                " ORDER BY id LIMIT ?3",
    [S_TEAM_INSERT] = "INSERT INTO teams(name, lead_id, created_at) VALUES (?1, nullif(?2, 0), ?3)",
    [S_TEAMS] = "SELECT id, name, coalesce(lead_id, 0) FROM teams ORDER BY id",
    [S_TEAM_GET] = "SELECT id, name, coalesce(lead_id, 0) FROM teams WHERE id = ?1",
    [S_CALENDAR_PUT] = "INSERT INTO calendars(name, spec, created_at) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT(name) DO UPDATE SET spec = excluded.spec",
    [S_CALENDARS] = "SELECT id, name, spec FROM calendars ORDER BY name",
    [S_CALENDAR_GET] = "SELECT id, name, spec FROM calendars WHERE name = ?1",
    [S_COMMITMENTS] = "SELECT id, name, version, effective_from, created_at FROM commitments"
                      " ORDER BY effective_from, id",
    [S_API_TOKEN_INSERT] = "INSERT INTO tokens(user_id, hash, kind, label, created_at, expires_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_TOKENS] = "SELECT id, kind, label, created_at, expires_at FROM tokens WHERE user_id = ?1"
                 " AND kind = 'api' AND revoked_at IS NULL"
                 " AND (expires_at IS NULL OR expires_at > ?2) ORDER BY id",
    [S_COMMITMENT_AT] = "SELECT id FROM commitments WHERE effective_from <= ?1"
                        " ORDER BY effective_from DESC, id DESC LIMIT 1",
    [S_TOKEN_REVOKE_ID] = "UPDATE tokens SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2"
                          " AND kind = 'api' AND revoked_at IS NULL",
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
};

struct kw_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    char path[256];
    char dummy_hash[crypto_pwhash_STRBYTES]; /* checked for unknown e-mails; made on first use */
    int64_t *changed; /* KW_STORE_CHANGES tickets given events since the last take, on first use */
    size_t n_changed;
    bool changes_lost; /* more than fit */
};

static enum kw_code fail(struct kw_store *st, struct kw_err *err, const char *what)
{
    return kw_err_set(err, KW_STORE, "", "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    sqlite3_stmt *x = st->stmt[s];
    sqlite3_reset(x);
    sqlite3_clear_bindings(x);
    return x;
}

static bool exec1(struct kw_store *st, enum stmt s)
{
    sqlite3_stmt *x = prep(st, s);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE;
}

static void bind_text(sqlite3_stmt *x, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(x, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(x, i);
}

int kw_store_schema_latest(void)
{
    return N_MIGRATIONS;
}

int kw_store_schema_version(struct kw_store *st)
{
    sqlite3_stmt *x;
    int v = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_migrations", -1, &x, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(x) == SQLITE_ROW)
            v = sqlite3_column_int(x, 0);
        sqlite3_finalize(x);
    }
    return v;
}

static enum kw_code migrate(struct kw_store *st, struct kw_err *err)
{
    if (sqlite3_exec(st->db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations("
                     "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return fail(st, err, "create schema_migrations");
    int have = kw_store_schema_version(st);
    if (have > N_MIGRATIONS)
        return kw_err_set(err, KW_STORE, "",
                          "%s: schema version %d is newer than this build knows (%d); "
                          "use a newer keepword",
                          st->path, have, N_MIGRATIONS);
    for (int v = have; v < N_MIGRATIONS; v++) {
        char ins[128];
        snprintf(ins, sizeof(ins),
                 "INSERT INTO schema_migrations VALUES (%d, CAST(strftime('%%s','now') AS "
                 "INTEGER))",
                 v + 1);
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->db, ins, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            enum kw_code rc = fail(st, err, "migration");
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return KW_OK;
}

/* Each handle is used by one thread at a time (store.h), so SQLite's own
 * locking is only cost: multi-thread mode, and no global memory statistics
 * (whose mutex every allocation would take). Once per process. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

struct kw_store *kw_store_open(const char *path, struct kw_err *err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    struct kw_store *st = calloc(1, sizeof(*st));
    if (!st) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the store");
        return NULL;
    }
    snprintf(st->path, sizeof(st->path), "%s", path);
    if (sodium_init() < 0) {
        kw_err_set(err, KW_STORE, "", "libsodium failed to initialise");
        goto fail;
    }
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        fail(st, err, "open");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    /* WAL: readers never block the writer; synchronous=FULL: a committed
     * write survives power loss, since writes are acknowledged after commit. */
    if (sqlite3_exec(st->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                     " PRAGMA temp_store=MEMORY;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fail(st, err, "configure");
        goto fail;
    }
    if (migrate(st, err) != KW_OK)
        goto fail;
    for (int s = 0; s < S_COUNT; s++) {
        if (sqlite3_prepare_v3(st->db, sql[s], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[s], NULL) !=
            SQLITE_OK) {
            fail(st, err, sql[s]);
            goto fail;
        }
    }
    return st;
fail:
    kw_store_close(st);
    return NULL;
}

void kw_store_idle(struct kw_store *st)
{
    for (int s = 0; s < S_COUNT; s++)
        sqlite3_reset(st->stmt[s]);
}

void kw_store_close(struct kw_store *st)
{
    if (!st)
        return;
    for (int s = 0; s < S_COUNT; s++)
        sqlite3_finalize(st->stmt[s]);
    sqlite3_close(st->db);
    free(st->changed);
    free(st);
}

static enum kw_code text_ok(const char *s, const char *field, struct kw_err *err)
{
    if (s && strlen(s) > KW_STORE_TEXT_MAX)
        return kw_err_set(err, KW_TOO_BIG, field, "%s: longer than %d bytes", field + 1,
                          KW_STORE_TEXT_MAX);
    return KW_OK;
}

enum kw_code kw_store_org_insert(struct kw_store *st, const struct kw_org *org, int64_t now,
                                 int64_t *id, struct kw_err *err)
{
    if (!org->name || !*org->name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (text_ok(org->name, "/name", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_ORG_INSERT);
    bind_text(x, 1, org->name);
    bind_text(x, 2, org->tier);
    bind_text(x, 3, org->region);
    bind_text(x, 4, org->calendar);
    sqlite3_bind_int64(x, 5, org->contract_value_cents);
    sqlite3_bind_int64(x, 6, now);
    sqlite3_bind_int64(x, 7, org->account_manager_id);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/account_manager_id",
                          "account_manager_id: no user %lld", (long long)org->account_manager_id);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_CONFLICT, "/name", "an organisation named \"%.60s\" exists",
                          org->name);
    if (rc != SQLITE_DONE)
        return fail(st, err, "insert organisation");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

/* Append inside an open transaction. */
/* Note that ticket changed (for kw_store_changes_take). */
static void note_change(struct kw_store *st, int64_t ticket)
{
    if (st->n_changed && st->changed[st->n_changed - 1] == ticket)
        return;
    if (!st->changed)
        st->changed = malloc(KW_STORE_CHANGES * sizeof(*st->changed));
    if (!st->changed || st->n_changed == KW_STORE_CHANGES)
        st->changes_lost = true;
    else
        st->changed[st->n_changed++] = ticket;
}

size_t kw_store_changes_take(struct kw_store *st, int64_t *ids, size_t max, bool *lost)
{
    size_t n = st->n_changed < max ? st->n_changed : max;
    if (n)
        memcpy(ids, st->changed, n * sizeof(*ids));
    *lost = st->changes_lost || n < st->n_changed;
    st->n_changed = 0;
    st->changes_lost = false;
    return n;
}

static enum kw_code append(struct kw_store *st, int64_t ticket, const char *type, const char *body,
                           int64_t actor, int64_t at, const char *state, int64_t *seq,
                           struct kw_err *err)
{
    note_change(st, ticket);
    unsigned char prev[KW_HASH_BYTES], hash[KW_HASH_BYTES];
    sqlite3_stmt *x = prep(st, S_TICKET_HEAD);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(x);
        return rc == SQLITE_DONE
                   ? kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket)
                   : fail(st, err, "read ticket");
    }
    int64_t n = sqlite3_column_int64(x, 0) + 1;
    if (sqlite3_column_bytes(x, 1) != KW_HASH_BYTES) {
        sqlite3_reset(x);
        return kw_err_set(err, KW_STORE, "", "ticket %lld has a damaged chain head",
                          (long long)ticket);
    }
    memcpy(prev, sqlite3_column_blob(x, 1), KW_HASH_BYTES);
    /* a ticket's events are in time order even if the clock steps back */
    if (at < sqlite3_column_int64(x, 2))
        at = sqlite3_column_int64(x, 2);
    sqlite3_reset(x);
    char *canon = kw_chain_canonical(body, err);
    if (!canon)
        return err ? err->code : KW_INVALID;
    kw_event_hash(prev, ticket, n, at, type, actor, canon, hash);
    x = prep(st, S_EVENT_INSERT);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, n);
    sqlite3_bind_int64(x, 3, at);
    bind_text(x, 4, type);
    sqlite3_bind_int64(x, 5, actor);
    bind_text(x, 6, canon);
    sqlite3_bind_blob(x, 7, hash, KW_HASH_BYTES, SQLITE_STATIC);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    free(canon);
    if (rc != SQLITE_DONE)
        return fail(st, err, "insert event");
    x = prep(st, S_TICKET_ADVANCE);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, n);
    sqlite3_bind_blob(x, 3, hash, KW_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(x, 4, at);
    bind_text(x, 5, state);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return fail(st, err, "advance ticket");
    if (seq)
        *seq = n;
    return KW_OK;
}

/* Open a transaction, or a savepoint when one is already open (a caller's
 * transaction, such as a group-commit batch); *outer says which. */
static enum kw_code tx_begin(struct kw_store *st, bool *outer, struct kw_err *err)
{
    *outer = sqlite3_get_autocommit(st->db) != 0;
    if (!exec1(st, *outer ? S_BEGIN : S_SAVEPOINT))
        return fail(st, err, "begin");
    return KW_OK;
}

/* Commit or roll back what tx_begin opened, by rc. */
static enum kw_code finish(struct kw_store *st, bool outer, enum kw_code rc, struct kw_err *err)
{
    if (!outer) {
        if (rc != KW_OK)
            exec1(st, S_ROLLBACK_TO);
        if (!exec1(st, S_RELEASE) && rc == KW_OK)
            rc = fail(st, err, "release savepoint");
        return rc;
    }
    if (rc == KW_OK && !exec1(st, S_COMMIT))
        rc = fail(st, err, "commit");
    if (rc != KW_OK)
        exec1(st, S_ROLLBACK);
    return rc;
}

enum kw_code kw_store_begin(struct kw_store *st, struct kw_err *err)
{
    return exec1(st, S_BEGIN) ? KW_OK : fail(st, err, "begin");
}

enum kw_code kw_store_commit(struct kw_store *st, struct kw_err *err)
{
    if (exec1(st, S_COMMIT))
        return KW_OK;
    enum kw_code rc = fail(st, err, "commit");
    exec1(st, S_ROLLBACK);
    return rc;
}

void kw_store_rollback(struct kw_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        exec1(st, S_ROLLBACK);
}

enum kw_code kw_store_savepoint(struct kw_store *st, struct kw_err *err)
{
    return exec1(st, S_SAVEPOINT) ? KW_OK : fail(st, err, "savepoint");
}

enum kw_code kw_store_release(struct kw_store *st, bool keep, struct kw_err *err)
{
    if (!keep)
        exec1(st, S_ROLLBACK_TO);
    return exec1(st, S_RELEASE) ? KW_OK : fail(st, err, "release savepoint");
}

enum kw_code kw_store_event_append(struct kw_store *st, int64_t ticket, const char *type,
                                   const char *body, int64_t actor, int64_t at, const char *state,
                                   int64_t *seq, struct kw_err *err)
{
    bool outer;
    if (tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return finish(st, outer, append(st, ticket, type, body, actor, at, state, seq, err), err);
}

enum kw_code kw_store_ticket_create(struct kw_store *st, const struct kw_ticket_new *t, int64_t *id,
                                    bool *existed, struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    *existed = false;
    if (!t->title || !*t->title)
        return kw_err_set(err, KW_INVALID, "/title", "title: missing");
    if (!t->level || !*t->level)
        return kw_err_set(err, KW_INVALID, "/level", "level: missing");
    if (text_ok(t->title, "/title", err) != KW_OK ||
        text_ok(t->idempotency_key, "/idempotency_key", err) != KW_OK)
        return err->code;
    bool outer;
    if (tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    sqlite3_stmt *x;
    if (t->idempotency_key) {
        x = prep(st, S_TICKET_BY_KEY);
        sqlite3_bind_int64(x, 1, t->created_by);
        bind_text(x, 2, t->idempotency_key);
        if (sqlite3_step(x) == SQLITE_ROW) {
            *id = sqlite3_column_int64(x, 0);
            *existed = true;
            sqlite3_reset(x);
            return finish(st, outer, KW_OK, err);
        }
        sqlite3_reset(x);
    }
    x = prep(st, S_ORG_EXISTS);
    sqlite3_bind_int64(x, 1, t->org_id);
    int found = sqlite3_step(x);
    sqlite3_reset(x);
    if (found != SQLITE_ROW) {
        rc = found == SQLITE_DONE ? kw_err_set(err, KW_NOT_FOUND, "/org_id",
                                               "org_id: no organisation %lld", (long long)t->org_id)
                                  : fail(st, err, "read organisation");
        return finish(st, outer, rc, err);
    }
    x = prep(st, S_TICKET_INSERT);
    sqlite3_bind_int64(x, 1, t->org_id);
    bind_text(x, 2, t->title);
    bind_text(x, 3, t->level);
    bind_text(x, 4, t->tier);
    bind_text(x, 5, t->category);
    bind_text(x, 6, t->region);
    bind_text(x, 7, t->channel);
    sqlite3_bind_int64(x, 8, t->created_by);
    bind_text(x, 9, t->idempotency_key);
    sqlite3_bind_int64(x, 10, t->at);
    int step = sqlite3_step(x);
    sqlite3_reset(x);
    if (step != SQLITE_DONE)
        return finish(st, outer, fail(st, err, "insert ticket"), err);
    *id = sqlite3_last_insert_rowid(st->db);
    /* The created event carries what the clocks need (see sla_json.h). */
    json_t *body = json_pack("{s:s, s:s}", "title", t->title, "level", t->level);
    const char *const keys[] = {"tier", "category", "region", "channel", "organisation"};
    const char *const vals[] = {t->tier, t->category, t->region, t->channel, t->organisation};
    for (int i = 0; body && i < 5; i++)
        if (vals[i])
            json_object_set_new(body, keys[i], json_string(vals[i]));
    json_object_set_new(body, "org_id", json_integer(t->org_id));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return finish(st, outer, kw_err_set(err, KW_NOMEM, "", "no memory for the event"), err);
    rc = append(st, *id, "created", text, t->created_by, t->at, NULL, NULL, err);
    free(text);
    return finish(st, outer, rc, err);
}

enum kw_code kw_store_events(struct kw_store *st, int64_t ticket,
                             bool (*fn)(const struct kw_stored_event *ev, void *ctx), void *ctx,
                             struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_EVENTS);
    sqlite3_bind_int64(x, 1, ticket);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_stored_event ev = {
            .ticket = ticket,
            .seq = sqlite3_column_int64(x, 0),
            .at = sqlite3_column_int64(x, 1),
            .type = (const char *)sqlite3_column_text(x, 2),
            .actor = sqlite3_column_int64(x, 3),
            .body = (const char *)sqlite3_column_text(x, 4),
        };
        if (sqlite3_column_bytes(x, 5) == KW_HASH_BYTES)
            memcpy(ev.hash, sqlite3_column_blob(x, 5), KW_HASH_BYTES);
        if (!fn(&ev, ctx))
            break;
    }
    sqlite3_reset(x);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st, err, "read events");
    return KW_OK;
}

struct verify {
    unsigned char prev[KW_HASH_BYTES];
    int64_t expect_seq, bad_seq;
    const char *why;
};

static bool verify_one(const struct kw_stored_event *ev, void *ctx)
{
    struct verify *v = ctx;
    unsigned char h[KW_HASH_BYTES];
    if (ev->seq != v->expect_seq) {
        v->bad_seq = v->expect_seq;
        v->why = "is missing";
        return false;
    }
    kw_event_hash(v->prev, ev->ticket, ev->seq, ev->at, ev->type ? ev->type : "", ev->actor,
                  ev->body ? ev->body : "", h);
    if (sodium_memcmp(h, ev->hash, KW_HASH_BYTES) != 0) {
        v->bad_seq = ev->seq;
        v->why = "does not match its hash (changed after it was written)";
        return false;
    }
    memcpy(v->prev, h, KW_HASH_BYTES);
    v->expect_seq++;
    return true;
}

enum kw_code kw_store_verify(struct kw_store *st, int64_t ticket, unsigned char *head,
                             struct kw_err *err)
{
    struct verify v = {.expect_seq = 1};
    sqlite3_stmt *x = prep(st, S_TICKET_HEAD);
    sqlite3_bind_int64(x, 1, ticket);
    if (sqlite3_step(x) != SQLITE_ROW) {
        sqlite3_reset(x);
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    }
    int64_t last = sqlite3_column_int64(x, 0);
    unsigned char stored[KW_HASH_BYTES] = {0};
    if (sqlite3_column_bytes(x, 1) == KW_HASH_BYTES)
        memcpy(stored, sqlite3_column_blob(x, 1), KW_HASH_BYTES);
    sqlite3_reset(x);
    enum kw_code rc = kw_store_events(st, ticket, verify_one, &v, err);
    if (rc != KW_OK)
        return rc;
    if (!v.why && v.expect_seq - 1 != last) {
        v.bad_seq = v.expect_seq;
        v.why = "is missing";
    }
    if (!v.why && sodium_memcmp(v.prev, stored, KW_HASH_BYTES) != 0) {
        v.bad_seq = last;
        v.why = "is not the ticket's recorded chain head";
    }
    if (v.why)
        return kw_err_set(err, KW_CONFLICT, "", "ticket %lld: event %lld %s", (long long)ticket,
                          (long long)v.bad_seq, v.why);
    if (head)
        memcpy(head, v.prev, KW_HASH_BYTES);
    return KW_OK;
}

static void read_ticket(sqlite3_stmt *x, struct kw_ticket_row *out);

static int64_t column_instant(sqlite3_stmt *x, int i)
{
    return sqlite3_column_type(x, i) == SQLITE_NULL ? KW_STORE_NO_TIME : sqlite3_column_int64(x, i);
}

static void bind_instant(sqlite3_stmt *x, int i, int64_t t)
{
    if (t == KW_STORE_NO_TIME)
        sqlite3_bind_null(x, i);
    else
        sqlite3_bind_int64(x, i, t);
}

enum kw_code kw_store_ticket_get(struct kw_store *st, int64_t id, struct kw_ticket_row *out,
                                 struct kw_err *err)
{
    /* The row stays current until the next call resets the statement. */
    sqlite3_stmt *x = prep(st, S_TICKET_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)id);
    if (rc != SQLITE_ROW)
        return fail(st, err, "read ticket");
    read_ticket(x, out);
    return KW_OK;
}

/* The columns id .. commitment_id of S_TICKET_GET / S_TICKETS into a row. */
static void read_ticket(sqlite3_stmt *x, struct kw_ticket_row *out)
{
    *out = (struct kw_ticket_row){
        .id = sqlite3_column_int64(x, 0),
        .org_id = sqlite3_column_int64(x, 1),
        .created_by = sqlite3_column_int64(x, 2),
        .created_at = sqlite3_column_int64(x, 3),
        .updated_at = sqlite3_column_int64(x, 4),
        .last_seq = sqlite3_column_int64(x, 5),
        .title = (const char *)sqlite3_column_text(x, 6),
        .state = (const char *)sqlite3_column_text(x, 7),
        .level = (const char *)sqlite3_column_text(x, 8),
        .tier = (const char *)sqlite3_column_text(x, 9),
        .category = (const char *)sqlite3_column_text(x, 10),
        .region = (const char *)sqlite3_column_text(x, 11),
        .channel = (const char *)sqlite3_column_text(x, 12),
    };
    if (sqlite3_column_bytes(x, 13) == KW_HASH_BYTES)
        memcpy(out->head, sqlite3_column_blob(x, 13), KW_HASH_BYTES);
    out->commitment_id = sqlite3_column_int64(x, 14);
    out->assignee_id = sqlite3_column_int64(x, 15);
    out->team_id = sqlite3_column_int64(x, 16);
    out->next_due = column_instant(x, 17);
    out->breached_at = column_instant(x, 18);
}

enum kw_code kw_store_tickets(struct kw_store *st, const struct kw_ticket_filter *f,
                              bool (*fn)(const struct kw_ticket_row *t, void *ctx), void *ctx,
                              struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, f->by_due ? S_TICKETS_DUE : S_TICKETS);
    sqlite3_bind_int64(x, 1, f->after);
    sqlite3_bind_int64(x, 2, f->org_id);
    bind_text(x, 3, f->state);
    bind_text(x, 4, f->level);
    sqlite3_bind_int64(x, 5, (sqlite3_int64)(f->limit ? f->limit : 50));
    sqlite3_bind_int64(x, 6, f->assignee_id);
    sqlite3_bind_int(x, 7, f->breached);
    sqlite3_bind_int64(x, 8, f->now);
    bind_instant(x, 9, f->due_before);
    sqlite3_bind_int64(x, 10, f->after_due);
    sqlite3_bind_int64(x, 11, f->team_id);
    int rc;
    struct kw_ticket_row t;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        read_ticket(x, &t);
        if (!fn(&t, ctx))
            break;
    }
    sqlite3_reset(x);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st, err, "list tickets");
    return KW_OK;
}

enum kw_code kw_store_ticket_set(struct kw_store *st, int64_t id, const struct kw_ticket_patch *p,
                                 struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TICKET_SET);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, p->level);
    bind_text(x, 3, p->category);
    sqlite3_bind_int64(x, 4, p->assignee_id);
    sqlite3_bind_int64(x, 5, p->team_id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, p->team_id > 0 ? "/team_id" : "/assignee_id",
                          "no such user or team");
    if (rc != SQLITE_DONE)
        return fail(st, err, "update ticket");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)id);
}

enum kw_code kw_store_clocks_put(struct kw_store *st, int64_t ticket, bool fresh,
                                 const struct kw_clock_row *rows, size_t n, int64_t next_due,
                                 int64_t breached_at, int64_t fire_at, struct kw_err *err)
{
    sqlite3_stmt *x;
    int rc = SQLITE_DONE;
    if (!fresh) {
        x = prep(st, S_CLOCK_CLEAR);
        sqlite3_bind_int64(x, 1, ticket);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    for (size_t i = 0; rc == SQLITE_DONE && i < n; i++) {
        x = prep(st, S_CLOCK_PUT);
        sqlite3_bind_int64(x, 1, ticket);
        bind_text(x, 2, rows[i].metric);
        bind_text(x, 3, rows[i].status);
        bind_instant(x, 4, rows[i].deadline);
        bind_instant(x, 5, rows[i].next_due);
        if (rows[i].next_due == KW_STORE_NO_TIME)
            sqlite3_bind_null(x, 6);
        else
            sqlite3_bind_int(x, 6, rows[i].next_pct);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    if (rc == SQLITE_DONE) {
        x = prep(st, S_TICKET_DUE);
        sqlite3_bind_int64(x, 1, ticket);
        bind_instant(x, 2, next_due);
        bind_instant(x, 3, breached_at);
        bind_instant(x, 4, fire_at);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    return rc == SQLITE_DONE ? KW_OK : fail(st, err, "store clocks");
}

enum kw_code kw_store_ticket_state(struct kw_store *st, int64_t ticket, char *buf, size_t cap,
                                   struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TICKET_STATE);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(x, 0));
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    return rc == SQLITE_ROW ? KW_OK : fail(st, err, "read ticket");
}

/* ---- users and tokens ---- */

static const char *const roles[] = {"admin", "manager", "agent", "customer"};

/* The columns USER_COLS of the row x is on. */
static struct kw_user_row read_user(sqlite3_stmt *x)
{
    return (struct kw_user_row){
        .id = sqlite3_column_int64(x, 0),
        .org_id = sqlite3_column_int64(x, 1),
        .team_id = sqlite3_column_int64(x, 2),
        .email = (const char *)sqlite3_column_text(x, 3),
        .name = (const char *)sqlite3_column_text(x, 4),
        .role = (const char *)sqlite3_column_text(x, 5),
        .skills = (const char *)sqlite3_column_text(x, 6),
    };
}
_Static_assert(KW_PASSWORD_HASH_BUF == crypto_pwhash_STRBYTES, "password hash buffer");

static enum kw_code user_check(const struct kw_user *u, struct kw_err *err)
{
    bool role_ok = false;
    for (size_t i = 0; u->role && i < sizeof(roles) / sizeof(roles[0]); i++)
        role_ok = role_ok || strcmp(u->role, roles[i]) == 0;
    if (!role_ok)
        return kw_err_set(err, KW_INVALID, "/role",
                          "role: expected admin, manager, agent or customer");
    if (!u->email || !strchr(u->email, '@') || strlen(u->email) > 254)
        return kw_err_set(err, KW_INVALID, "/email", "email: expected an e-mail address");
    if (!u->name || !*u->name || text_ok(u->name, "/name", err) != KW_OK)
        return u->name && *u->name ? err->code
                                   : kw_err_set(err, KW_INVALID, "/name", "name: missing");
    return KW_OK;
}

enum kw_code kw_password_hash(const char *password, char out[KW_PASSWORD_HASH_BUF],
                              struct kw_err *err)
{
    size_t n = strlen(password);
    if (n < 8 || n > 1024)
        return kw_err_set(err, KW_INVALID, "/password", "password: expected 8 to 1024 bytes");
    if (sodium_init() < 0)
        return kw_err_set(err, KW_STORE, "", "libsodium failed to initialise");
    /* argon2id with libsodium's interactive limits */
    if (crypto_pwhash_str(out, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return kw_err_set(err, KW_NOMEM, "", "no memory to hash the password");
    return KW_OK;
}

enum kw_code kw_store_user_insert_hashed(struct kw_store *st, const struct kw_user *u,
                                         const char *hash, int64_t now, int64_t *id,
                                         struct kw_err *err)
{
    if (user_check(u, err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_USER_INSERT);
    bind_text(x, 1, u->email);
    bind_text(x, 2, u->name);
    bind_text(x, 3, u->role);
    sqlite3_bind_int64(x, 4, u->org_id);
    sqlite3_bind_int64(x, 5, u->team_id);
    bind_text(x, 6, hash);
    sqlite3_bind_int64(x, 7, now);
    bind_text(x, 8, u->skills);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/email", "email: %.80s is taken", u->email);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, "/org_id", "no such organisation or team");
    if (rc != SQLITE_DONE)
        return fail(st, err, "insert user");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_user_insert(struct kw_store *st, const struct kw_user *u,
                                  const char *password, int64_t now, int64_t *id,
                                  struct kw_err *err)
{
    char hash[KW_PASSWORD_HASH_BUF];
    if (user_check(u, err) != KW_OK || (password && kw_password_hash(password, hash, err) != KW_OK))
        return err->code;
    return kw_store_user_insert_hashed(st, u, password ? hash : NULL, now, id, err);
}

enum kw_code kw_store_user_get(struct kw_store *st, int64_t id, struct kw_user_row *out,
                               struct kw_err *err)
{
    /* The statement stays on its row until the next call resets it, which
     * keeps the strings valid as the contract says. */
    sqlite3_stmt *x = prep(st, S_USER_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no user %lld", (long long)id);
    if (rc != SQLITE_ROW)
        return fail(st, err, "read user");
    *out = read_user(x);
    return KW_OK;
}

enum kw_code kw_store_user_count(struct kw_store *st, const char *role, int64_t *n,
                                 struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_USER_COUNT);
    bind_text(x, 1, role);
    int rc = sqlite3_step(x);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : fail(st, err, "count users");
}

static void token_hash(const char *token, unsigned char out[KW_HASH_BYTES])
{
    crypto_generichash(out, KW_HASH_BYTES, (const unsigned char *)token, strlen(token), NULL, 0);
}

enum kw_code kw_store_password_check(struct kw_store *st, const char *email, const char *password,
                                     int64_t *user_id, struct kw_err *err)
{
    /* A hash to check against when the e-mail is unknown, so that both
     * failures cost the same argon2id verification. */
    char *dummy = st->dummy_hash, stored[crypto_pwhash_STRBYTES] = "";
    int64_t uid = 0;
    if (!dummy[0] &&
        crypto_pwhash_str(dummy, "not a password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return kw_err_set(err, KW_NOMEM, "", "no memory to check the password");
    sqlite3_stmt *x = prep(st, S_USER_BY_EMAIL);
    bind_text(x, 1, email);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW && sqlite3_column_type(x, 1) == SQLITE_TEXT) {
        uid = sqlite3_column_int64(x, 0);
        snprintf(stored, sizeof(stored), "%s", (const char *)sqlite3_column_text(x, 1));
    }
    sqlite3_reset(x);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st, err, "read user");
    size_t n = password ? strlen(password) : 0;
    bool ok = crypto_pwhash_str_verify(uid ? stored : dummy, password ? password : "", n) == 0;
    if (!ok || !uid)
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "wrong e-mail or password");
    *user_id = uid;
    return KW_OK;
}

enum kw_code kw_store_token_issue(struct kw_store *st, int64_t user_id, const char *kind,
                                  const char *label, int64_t now, int64_t expires_at, char *token,
                                  int64_t *token_id, struct kw_err *err)
{
    unsigned char raw[32], h[KW_HASH_BYTES];
    randombytes_buf(raw, sizeof(raw));
    memcpy(token, "kw_", 3);
    sodium_bin2base64(token + 3, KW_TOKEN_BUF - 3, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    token_hash(token, h);
    sqlite3_stmt *x = prep(st, S_API_TOKEN_INSERT);
    sqlite3_bind_int64(x, 1, user_id);
    sqlite3_bind_blob(x, 2, h, KW_HASH_BYTES, SQLITE_STATIC);
    bind_text(x, 3, kind);
    bind_text(x, 4, label);
    sqlite3_bind_int64(x, 5, now);
    bind_instant(x, 6, expires_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return fail(st, err, "store token");
    if (token_id)
        *token_id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_login(struct kw_store *st, const char *email, const char *password,
                            int64_t now, int64_t ttl, char *token, int64_t *user_id,
                            struct kw_err *err)
{
    if (kw_store_password_check(st, email, password, user_id, err) != KW_OK)
        return err->code;
    return kw_store_token_issue(st, *user_id, "session", NULL, now, now + ttl, token, NULL, err);
}

enum kw_code kw_store_tokens(struct kw_store *st, int64_t user_id, int64_t now,
                             bool (*fn)(const struct kw_token_row *t, void *ctx), void *ctx,
                             struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TOKENS);
    sqlite3_bind_int64(x, 1, user_id);
    sqlite3_bind_int64(x, 2, now);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_token_row t = {
            .id = sqlite3_column_int64(x, 0),
            .kind = (const char *)sqlite3_column_text(x, 1),
            .label = (const char *)sqlite3_column_text(x, 2),
            .created_at = sqlite3_column_int64(x, 3),
            .expires_at = column_instant(x, 4),
        };
        if (!fn(&t, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "list tokens");
}

enum kw_code kw_store_token_revoke_id(struct kw_store *st, int64_t user_id, int64_t token_id,
                                      int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TOKEN_REVOKE_ID);
    sqlite3_bind_int64(x, 1, token_id);
    sqlite3_bind_int64(x, 2, user_id);
    sqlite3_bind_int64(x, 3, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return fail(st, err, "revoke token");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no token %lld", (long long)token_id);
}

enum kw_code kw_store_token_user(struct kw_store *st, const char *token, int64_t now,
                                 int64_t *user_id, struct kw_err *err)
{
    unsigned char h[KW_HASH_BYTES];
    if (!token || strlen(token) >= KW_TOKEN_BUF)
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "not a valid token");
    token_hash(token, h);
    sqlite3_stmt *x = prep(st, S_TOKEN_USER);
    sqlite3_bind_blob(x, 1, h, KW_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *user_id = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "the token is unknown, expired or revoked");
    return rc == SQLITE_ROW ? KW_OK : fail(st, err, "read token");
}

enum kw_code kw_store_token_revoke(struct kw_store *st, const char *token, int64_t now,
                                   struct kw_err *err)
{
    unsigned char h[KW_HASH_BYTES];
    token_hash(token ? token : "", h);
    sqlite3_stmt *x = prep(st, S_TOKEN_REVOKE);
    sqlite3_bind_blob(x, 1, h, KW_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : fail(st, err, "revoke token");
}

/* ---- commitments ---- */

enum kw_code kw_store_commitment_insert(struct kw_store *st, const char *name, const char *version,
                                        int64_t effective_from, const char *doc, int64_t now,
                                        int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENT_INSERT);
    bind_text(x, 1, name);
    bind_text(x, 2, version);
    sqlite3_bind_int64(x, 3, effective_from);
    bind_text(x, 4, doc);
    sqlite3_bind_int64(x, 5, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_CONFLICT, "/version",
                          "version %.40s of \"%.60s\" exists; give the new one its own version",
                          version, name);
    if (rc != SQLITE_DONE)
        return fail(st, err, "insert commitment");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_commitment_doc(struct kw_store *st, int64_t id, char **doc,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENT_DOC);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        *doc = strdup((const char *)sqlite3_column_text(x, 0));
        sqlite3_reset(x);
        return *doc ? KW_OK : kw_err_set(err, KW_NOMEM, "", "no memory");
    }
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no commitment %lld", (long long)id);
    return fail(st, err, "read commitment");
}

enum kw_code kw_store_commitments(struct kw_store *st,
                                  bool (*fn)(const struct kw_commitment_row *c, void *ctx),
                                  void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENTS);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_commitment_row c = {
            .id = sqlite3_column_int64(x, 0),
            .name = (const char *)sqlite3_column_text(x, 1),
            .version = (const char *)sqlite3_column_text(x, 2),
            .effective_from = sqlite3_column_int64(x, 3),
            .created_at = sqlite3_column_int64(x, 4),
        };
        if (!fn(&c, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "list commitments");
}

/* ---- organisations, users, teams, calendars: lists ---- */

static void read_org(sqlite3_stmt *x, struct kw_org *o)
{
    *o = (struct kw_org){
        .id = sqlite3_column_int64(x, 0),
        .name = (const char *)sqlite3_column_text(x, 1),
        .tier = (const char *)sqlite3_column_text(x, 2),
        .region = (const char *)sqlite3_column_text(x, 3),
        .calendar = (const char *)sqlite3_column_text(x, 4),
        .contract_value_cents = sqlite3_column_int64(x, 5),
        .account_manager_id = sqlite3_column_int64(x, 6),
    };
}

enum kw_code kw_store_orgs(struct kw_store *st, int64_t only, int64_t after, size_t limit,
                           bool (*fn)(const struct kw_org *o, void *ctx), void *ctx,
                           struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ORGS);
    sqlite3_bind_int64(x, 1, after);
    sqlite3_bind_int64(x, 2, only);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)limit);
    int rc;
    struct kw_org o;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        read_org(x, &o);
        if (!fn(&o, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "list organisations");
}

enum kw_code kw_store_org_get(struct kw_store *st, int64_t id, struct kw_org *out,
                              struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ORG_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        read_org(x, out); /* strings live until the next call resets x */
        return KW_OK;
    }
    sqlite3_reset(x);
    return rc == SQLITE_DONE
               ? kw_err_set(err, KW_NOT_FOUND, "", "no organisation %lld", (long long)id)
               : fail(st, err, "read organisation");
}

enum kw_code kw_store_users(struct kw_store *st, int64_t org_id, int64_t after, size_t limit,
                            bool (*fn)(const struct kw_user_row *u, void *ctx), void *ctx,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_USERS);
    sqlite3_bind_int64(x, 1, after);
    sqlite3_bind_int64(x, 2, org_id);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_user_row u = read_user(x);
        if (!fn(&u, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "list users");
}

enum kw_code kw_store_team_insert(struct kw_store *st, const char *name, int64_t lead_id,
                                  int64_t now, int64_t *id, struct kw_err *err)
{
    if (!name || !*name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (text_ok(name, "/name", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_TEAM_INSERT);
    bind_text(x, 1, name);
    sqlite3_bind_int64(x, 2, lead_id);
    sqlite3_bind_int64(x, 3, now);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/name", "a team named \"%.60s\" exists", name);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, "/lead_id", "lead_id: no user %lld",
                          (long long)lead_id);
    if (rc != SQLITE_DONE)
        return fail(st, err, "insert team");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

static enum kw_code each_named(struct kw_store *st, sqlite3_stmt *x,
                               bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                               const char *what, struct kw_err *err)
{
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_named_row r = {
            .id = sqlite3_column_int64(x, 0),
            .name = (const char *)sqlite3_column_text(x, 1),
        };
        if (sqlite3_column_type(x, 2) == SQLITE_TEXT)
            r.text = (const char *)sqlite3_column_text(x, 2);
        else
            r.ref = sqlite3_column_int64(x, 2);
        if (!fn(&r, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, what);
}

enum kw_code kw_store_teams(struct kw_store *st, int64_t only,
                            bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, only ? S_TEAM_GET : S_TEAMS);
    if (only)
        sqlite3_bind_int64(x, 1, only);
    return each_named(st, x, fn, ctx, "list teams", err);
}

enum kw_code kw_store_calendar_put(struct kw_store *st, const char *name, const char *spec,
                                   int64_t now, int64_t *id, struct kw_err *err)
{
    if (!name || !*name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    sqlite3_stmt *x = prep(st, S_CALENDAR_PUT);
    bind_text(x, 1, name);
    bind_text(x, 2, spec);
    sqlite3_bind_int64(x, 3, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return fail(st, err, "store calendar");
    x = prep(st, S_CALENDAR_GET);
    bind_text(x, 1, name);
    rc = sqlite3_step(x);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : fail(st, err, "read calendar");
}

enum kw_code kw_store_calendars(struct kw_store *st, const char *only,
                                bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                                struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, only ? S_CALENDAR_GET : S_CALENDARS);
    if (only)
        bind_text(x, 1, only);
    return each_named(st, x, fn, ctx, "list calendars", err);
}

enum kw_code kw_store_commitment_at(struct kw_store *st, int64_t t, int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENT_AT);
    sqlite3_bind_int64(x, 1, t);
    int rc = sqlite3_step(x);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "read commitments");
}

enum kw_code kw_store_stale(struct kw_store *st, int64_t after, size_t max, int64_t *ids, size_t *n,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_STALE);
    sqlite3_bind_int64(x, 1, after);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)max);
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW)
        ids[(*n)++] = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : fail(st, err, "find stale tickets");
}

enum kw_code kw_store_token_caller(struct kw_store *st, const char *token, int64_t now,
                                   struct kw_user_row *out, struct kw_err *err)
{
    unsigned char h[KW_HASH_BYTES];
    if (!token || strlen(token) >= KW_TOKEN_BUF)
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "not a valid token");
    token_hash(token, h);
    sqlite3_stmt *x = prep(st, S_TOKEN_CALLER);
    sqlite3_bind_blob(x, 1, h, KW_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        /* the row stays current until the next call resets the statement */
        *out = read_user(x);
        return KW_OK;
    }
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_UNAUTHENTICATED, "", "the token is unknown, expired or revoked");
    return fail(st, err, "read token");
}

void kw_store_autocheckpoint(struct kw_store *st, bool on)
{
    sqlite3_wal_autocheckpoint(st->db, on ? 1000 : 0);
}

enum kw_code kw_store_checkpoint(struct kw_store *st, int *wal_pages, struct kw_err *err)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (wal_pages)
        *wal_pages = log;
    /* Readers that never stop keep the log from starting over, so a log
     * that has grown past 16 MiB and is all copied is truncated: TRUNCATE
     * waits for the writer to finish its batch and blocks the next one
     * until the log is empty (readers are not blocked). */
    if (rc == SQLITE_OK && log > 4096 && done == log) {
        rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
        if (wal_pages)
            *wal_pages = log;
    }
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? KW_OK : fail(st, err, "checkpoint");
}

/* ---- the engine: due tickets, endpoints and the outbox ---- */

enum kw_code kw_store_fire_all(struct kw_store *st,
                               bool (*fn)(int64_t ticket, int64_t fire_at, void *ctx), void *ctx,
                               struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_FIRE_ALL);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW)
        if (!fn(sqlite3_column_int64(x, 0), sqlite3_column_int64(x, 1), ctx))
            break;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "read due tickets");
}

enum kw_code kw_store_fire_at(struct kw_store *st, int64_t ticket, int64_t *fire_at,
                              struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_FIRE_ONE);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    *fire_at = rc == SQLITE_ROW ? column_instant(x, 0) : KW_STORE_NO_TIME;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "read ticket");
}

enum kw_code kw_store_outbox_add(struct kw_store *st, const char *kind, int64_t ticket,
                                 int64_t org_id, int64_t team_id, const char *payload,
                                 const char *key, int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_ADD);
    bind_text(x, 1, kind);
    sqlite3_bind_int64(x, 2, ticket);
    sqlite3_bind_int64(x, 3, org_id);
    sqlite3_bind_int64(x, 4, team_id);
    bind_text(x, 5, payload);
    bind_text(x, 6, key);
    sqlite3_bind_int64(x, 7, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_DONE) { /* and one for each person subscribed */
        x = prep(st, S_OUTBOX_SUBS);
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
    return rc == SQLITE_DONE ? KW_OK : fail(st, err, "queue notifications");
}

enum kw_code kw_store_outbox_due(struct kw_store *st, int64_t now, size_t limit,
                                 bool (*fn)(const struct kw_delivery *d, void *ctx), void *ctx,
                                 struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_DUE);
    sqlite3_bind_int64(x, 1, now);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_delivery d = {
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
        };
        if (!fn(&d, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "read the outbox");
}

enum kw_code kw_store_outbox_next(struct kw_store *st, int64_t *next_at, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_NEXT);
    int rc = sqlite3_step(x);
    *next_at = rc == SQLITE_ROW ? column_instant(x, 0) : KW_STORE_NO_TIME;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : fail(st, err, "read the outbox");
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
    return rc == SQLITE_DONE ? KW_OK : fail(st, err, "record a delivery");
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
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_outbox_row r = {
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
        if (!fn(&r, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "list the outbox");
}

enum kw_code kw_store_outbox_retry(struct kw_store *st, int64_t id, int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_RETRY);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return fail(st, err, "retry a notification");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no dead notification %lld", (long long)id);
}

enum kw_code kw_store_endpoint_add(struct kw_store *st, const struct kw_endpoint *e, int64_t now,
                                   int64_t *id, struct kw_err *err)
{
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
        return kw_err_set(err, KW_NOT_FOUND, "", "no such organisation or team");
    if (rc != SQLITE_DONE)
        return fail(st, err, "insert endpoint");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_endpoints(struct kw_store *st,
                                bool (*fn)(const struct kw_endpoint *e, void *ctx), void *ctx,
                                struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ENDPOINTS);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_endpoint e = {
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
        if (!fn(&e, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "list endpoints");
}

enum kw_code kw_store_endpoint_test(struct kw_store *st, int64_t id, const char *payload,
                                    const char *key, int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ENDPOINT_TEST);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, payload);
    bind_text(x, 3, key);
    sqlite3_bind_int64(x, 4, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return fail(st, err, "queue a test notification");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no endpoint %lld", (long long)id);
}

/* ---- on-call rotas ---- */

enum kw_code kw_store_oncall_put(struct kw_store *st, const char *name, int64_t team_id, int level,
                                 const char *spec, int64_t now, int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ONCALL_PUT);
    bind_text(x, 1, name);
    sqlite3_bind_int64(x, 2, team_id);
    sqlite3_bind_int(x, 3, level);
    bind_text(x, 4, spec);
    sqlite3_bind_int64(x, 5, now);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(x, 0);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, "/team_id", "team_id: no team %lld",
                          (long long)team_id);
    return rc == SQLITE_ROW ? KW_OK : fail(st, err, "store the rota");
}

enum kw_code kw_store_oncalls(struct kw_store *st, int64_t team_id, int level, int64_t id,
                              bool (*fn)(const struct kw_oncall_row *r, void *ctx), void *ctx,
                              struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ONCALLS);
    sqlite3_bind_int64(x, 1, team_id);
    sqlite3_bind_int(x, 2, level);
    sqlite3_bind_int64(x, 3, id);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_oncall_row r = {
            .id = sqlite3_column_int64(x, 0),
            .name = (const char *)sqlite3_column_text(x, 1),
            .team_id = sqlite3_column_int64(x, 2),
            .level = sqlite3_column_int(x, 3),
            .spec = (const char *)sqlite3_column_text(x, 4),
        };
        if (!fn(&r, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "read rotas");
}

/* ---- overruns ---- */

enum kw_code kw_store_overrun_add(struct kw_store *st, int64_t ticket, int64_t org_id,
                                  int64_t commitment_id, const char *metric, int64_t deadline,
                                  int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_ADD);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, org_id);
    sqlite3_bind_int64(x, 3, commitment_id);
    bind_text(x, 4, metric);
    sqlite3_bind_int64(x, 5, deadline);
    sqlite3_bind_int64(x, 6, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : fail(st, err, "record an overrun");
}

enum kw_code kw_store_overrun_stop(struct kw_store *st, int64_t ticket, const char *metric,
                                   int64_t stopped_at, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_STOP);
    sqlite3_bind_int64(x, 1, ticket);
    bind_text(x, 2, metric);
    sqlite3_bind_int64(x, 3, stopped_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : fail(st, err, "close an overrun");
}

enum kw_code kw_store_overruns(struct kw_store *st, const struct kw_overrun_filter *f,
                               bool (*fn)(const struct kw_overrun_row *r, void *ctx), void *ctx,
                               struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUNS);
    sqlite3_bind_int64(x, 1, f->after);
    sqlite3_bind_int64(x, 2, f->org_id);
    sqlite3_bind_int64(x, 3, f->ticket_id);
    bind_text(x, 4, f->metric);
    bind_text(x, 5, f->state);
    sqlite3_bind_int64(x, 6, f->id);
    sqlite3_bind_int64(x, 7, (sqlite3_int64)(f->limit ? f->limit : 100));
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_overrun_row r = {
            .id = sqlite3_column_int64(x, 0),
            .ticket_id = sqlite3_column_int64(x, 1),
            .org_id = sqlite3_column_int64(x, 2),
            .commitment_id = sqlite3_column_int64(x, 3),
            .metric = (const char *)sqlite3_column_text(x, 4),
            .deadline = sqlite3_column_int64(x, 5),
            .stopped_at = column_instant(x, 6),
            .recorded_at = sqlite3_column_int64(x, 7),
            .reason = (const char *)sqlite3_column_text(x, 8),
            .note = (const char *)sqlite3_column_text(x, 9),
            .explained_at = column_instant(x, 10),
            .rca = (const char *)sqlite3_column_text(x, 11),
            .action = (const char *)sqlite3_column_text(x, 12),
            .owner_id = sqlite3_column_int64(x, 13),
            .due = column_instant(x, 14),
            .done_at = column_instant(x, 15),
        };
        if (!fn(&r, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "list overruns");
}

enum kw_code kw_store_overrun_explain(struct kw_store *st, int64_t id, const char *reason,
                                      const char *note, int64_t by, int64_t now, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_EXPLAIN);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, reason);
    bind_text(x, 3, note);
    sqlite3_bind_int64(x, 4, by);
    sqlite3_bind_int64(x, 5, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return fail(st, err, "explain an overrun");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
}

enum kw_code kw_store_overrun_follow(struct kw_store *st, int64_t id,
                                     const struct kw_overrun_followup *f, int64_t now,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OVERRUN_FOLLOW);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, f->rca);
    bind_text(x, 3, f->action);
    sqlite3_bind_int64(x, 4, f->owner_id);
    bind_instant(x, 5, f->due);
    sqlite3_bind_int(x, 6, f->done);
    sqlite3_bind_int64(x, 7, now);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/owner_id", "owner_id: no user %lld",
                          (long long)f->owner_id);
    if (rc != SQLITE_DONE)
        return fail(st, err, "record a follow-up");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no overrun %lld", (long long)id);
}

/* ---- subscriptions ---- */

enum kw_code kw_store_outbox_postpone(struct kw_store *st, int64_t id, int64_t next_at,
                                      struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_OUTBOX_POSTPONE);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, next_at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : fail(st, err, "postpone a notification");
}

enum kw_code kw_store_subscription_put(struct kw_store *st, const struct kw_subscription *s,
                                       int64_t now, int64_t *id, struct kw_err *err)
{
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
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, "/endpoint_id",
                          "no such endpoint, organisation or team");
    return rc == SQLITE_ROW ? KW_OK : fail(st, err, "store a subscription");
}

enum kw_code kw_store_subscriptions(struct kw_store *st, int64_t user_id,
                                    bool (*fn)(const struct kw_subscription *s, void *ctx),
                                    void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_SUBS);
    sqlite3_bind_int64(x, 1, user_id);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_subscription s = {
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
        if (!fn(&s, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "list subscriptions");
}

enum kw_code kw_store_subscription_delete(struct kw_store *st, int64_t id, int64_t user_id,
                                          struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_SUB_DELETE);
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int64(x, 2, user_id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return fail(st, err, "delete a subscription");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no subscription %lld", (long long)id);
}

enum kw_code kw_store_ticket_clocks(struct kw_store *st, int64_t ticket,
                                    bool (*fn)(const struct kw_clock_row *c, void *ctx), void *ctx,
                                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CLOCKS_OF);
    sqlite3_bind_int64(x, 1, ticket);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
        struct kw_clock_row c = {
            .metric = (const char *)sqlite3_column_text(x, 0),
            .status = (const char *)sqlite3_column_text(x, 1),
            .deadline = sqlite3_column_type(x, 2) == SQLITE_NULL ? KW_STORE_NO_TIME
                                                                 : sqlite3_column_int64(x, 2),
            .next_due = sqlite3_column_type(x, 3) == SQLITE_NULL ? KW_STORE_NO_TIME
                                                                 : sqlite3_column_int64(x, 3),
            .next_pct = sqlite3_column_int(x, 4),
        };
        if (!fn(&c, ctx))
            break;
    }
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : fail(st, err, "read the clocks");
}
