-- SPDX-License-Identifier: MIT
-- 1: the core tables; events are append-only (triggers refuse changes).
CREATE TABLE orgs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, tier TEXT, region TEXT, calendar TEXT, contract_value_cents INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE TABLE teams(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('admin','manager','agent','customer')), org_id INTEGER REFERENCES orgs(id), team_id INTEGER REFERENCES teams(id), skills TEXT NOT NULL DEFAULT '[]', password_hash TEXT, created_at INTEGER NOT NULL);
CREATE TABLE calendars(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, spec TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE commitments(id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, effective_from INTEGER NOT NULL, doc TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (name, version));
CREATE TABLE tickets(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id), commitment_id INTEGER REFERENCES commitments(id), title TEXT NOT NULL, state TEXT NOT NULL, level TEXT NOT NULL, tier TEXT, category TEXT, region TEXT, channel TEXT, assignee_id INTEGER REFERENCES users(id), team_id INTEGER REFERENCES teams(id), created_by INTEGER, idempotency_key TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL, head_hash BLOB NOT NULL, next_due INTEGER, UNIQUE (created_by, idempotency_key));
CREATE INDEX tickets_by_org ON tickets(org_id, id);
CREATE INDEX tickets_by_due ON tickets(next_due) WHERE next_due IS NOT NULL;
CREATE TABLE events(ticket_id INTEGER NOT NULL REFERENCES tickets(id), seq INTEGER NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL, actor_id INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (ticket_id, seq)) WITHOUT ROWID;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE clocks(ticket_id INTEGER NOT NULL REFERENCES tickets(id), metric TEXT NOT NULL, status TEXT NOT NULL, deadline INTEGER, next_due INTEGER, body TEXT NOT NULL, PRIMARY KEY (ticket_id, metric)) WITHOUT ROWID;
