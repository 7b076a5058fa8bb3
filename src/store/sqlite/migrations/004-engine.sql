-- SPDX-License-Identifier: MIT
-- 4: the live engine: when a ticket's next threshold falls due, where
-- notifications go, and the outbox they wait in (written in the same
-- transaction as the event that causes them).
ALTER TABLE tickets ADD COLUMN fire_at INTEGER;
CREATE INDEX tickets_fire ON tickets(fire_at) WHERE fire_at IS NOT NULL;
CREATE TABLE endpoints(id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('webhook','email','dingtalk','feishu','wecom')), url TEXT NOT NULL, secret TEXT, events TEXT NOT NULL DEFAULT '[]', org_id INTEGER REFERENCES orgs(id), team_id INTEGER REFERENCES teams(id), active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
CREATE TABLE outbox(id INTEGER PRIMARY KEY, endpoint_id INTEGER NOT NULL REFERENCES endpoints(id), kind TEXT NOT NULL, ticket_id INTEGER, payload TEXT NOT NULL, idem_key TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','dead')), attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT, created_at INTEGER NOT NULL, delivered_at INTEGER, UNIQUE (endpoint_id, idem_key));
CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state = 'pending';
