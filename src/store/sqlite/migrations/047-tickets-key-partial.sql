-- SPDX-License-Identifier: MIT
-- keepword: foreign keys off while this runs
-- 47 (#20): the key of a create repeated, (created_by, idempotency_key),
-- is a partial unique index of the tickets that have one (tickets_by_key)
-- instead of the table's UNIQUE constraint, whose index held an entry for
-- every ticket, most with no key: an index insert fewer a create. The same
-- rule (NULL keys never clashed), and the look-up of a repeated create
-- (tickets.c, S_TICKET_BY_KEY: idempotency_key = ?) uses the index. A
-- constraint's index cannot be dropped, so the table is rebuilt (columns,
-- their order, foreign keys and the other indexes as before; ids kept, so
-- the tables that name a ticket are unchanged), with the keys' checks off
-- and checked before the commit (schema.c). PostgreSQL keeps its UNIQUE.
CREATE TABLE tickets_new(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id), commitment_id INTEGER REFERENCES commitments(id), title TEXT NOT NULL, state TEXT NOT NULL, level TEXT NOT NULL, tier TEXT, category TEXT, region TEXT, channel TEXT, assignee_id INTEGER REFERENCES users(id), team_id INTEGER REFERENCES teams(id), created_by INTEGER, idempotency_key TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL, head_hash BLOB NOT NULL, next_due INTEGER, breached_at INTEGER, projected_seq INTEGER NOT NULL DEFAULT 0, fire_at INTEGER, request_digest BLOB, requester_id INTEGER REFERENCES users(id));
INSERT INTO tickets_new(id, org_id, commitment_id, title, state, level, tier, category, region, channel, assignee_id, team_id, created_by, idempotency_key, created_at, updated_at, last_seq, head_hash, next_due, breached_at, projected_seq, fire_at, request_digest, requester_id)
    SELECT id, org_id, commitment_id, title, state, level, tier, category, region, channel, assignee_id, team_id, created_by, idempotency_key, created_at, updated_at, last_seq, head_hash, next_due, breached_at, projected_seq, fire_at, request_digest, requester_id FROM tickets ORDER BY id;
DROP TABLE tickets;
ALTER TABLE tickets_new RENAME TO tickets;
CREATE UNIQUE INDEX tickets_by_key ON tickets(created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX tickets_by_org ON tickets(org_id, id);
CREATE INDEX tickets_by_due ON tickets(coalesce(next_due, 9223372036854775807), id);
CREATE INDEX tickets_by_assignee ON tickets(assignee_id, id) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_breached ON tickets(id) WHERE breached_at IS NOT NULL;
CREATE INDEX tickets_fire ON tickets(fire_at) WHERE fire_at IS NOT NULL;
CREATE INDEX tickets_by_requester ON tickets(requester_id) WHERE requester_id IS NOT NULL;
CREATE INDEX tickets_by_created ON tickets(created_at);
