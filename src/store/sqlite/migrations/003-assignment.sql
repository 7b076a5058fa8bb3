-- SPDX-License-Identifier: MIT
-- 3: assignment, the clock projection on the ticket (next_due: the earliest
-- breach deadline of a running clock; breached_at: the first breach already
-- recorded), teams with a lead, tokens per user.
ALTER TABLE tickets ADD COLUMN breached_at INTEGER;
ALTER TABLE tickets ADD COLUMN projected_seq INTEGER NOT NULL DEFAULT 0;
DROP TABLE clocks;
CREATE TABLE clocks(ticket_id INTEGER NOT NULL REFERENCES tickets(id), metric TEXT NOT NULL, status TEXT NOT NULL, deadline INTEGER, next_due INTEGER, next_pct INTEGER, PRIMARY KEY (ticket_id, metric)) WITHOUT ROWID;
ALTER TABLE teams ADD COLUMN lead_id INTEGER REFERENCES users(id);
ALTER TABLE teams ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
DROP INDEX tickets_by_due;
CREATE INDEX tickets_by_due ON tickets(coalesce(next_due, 9223372036854775807), id);
CREATE INDEX tickets_by_assignee ON tickets(assignee_id, id) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_breached ON tickets(id) WHERE breached_at IS NOT NULL;
CREATE INDEX tokens_by_user ON tokens(user_id, id);
