-- SPDX-License-Identifier: MIT
-- 28: force majeure as an overrun reason (不可抗力), and the billing periods
-- the engine closed (docs/policy.md "The credit ledger").
-- The reason's CHECK is part of the table, so overruns is rebuilt: the rows
-- are kept with their ids, and the rows that point at them (ledger,
-- watch_flags) are not touched. With foreign keys on, dropping a parent
-- counts its children as violations until a parent with their id is
-- inserted again; deferred, that happens before the commit checks.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE overruns_copy AS SELECT * FROM overruns;
DROP TABLE overruns;
CREATE TABLE overruns(id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets(id), org_id INTEGER NOT NULL, commitment_id INTEGER, metric TEXT NOT NULL, deadline INTEGER NOT NULL, stopped_at INTEGER, recorded_at INTEGER NOT NULL, reason TEXT CHECK (reason IN ('technology','staffing','process','customer','third_party','force_majeure')), note TEXT, explained_by INTEGER, explained_at INTEGER, rca TEXT, action TEXT, owner_id INTEGER REFERENCES users(id), due INTEGER, done_at INTEGER, loss INTEGER, loss_by INTEGER, loss_at INTEGER, UNIQUE (ticket_id, metric, deadline));
INSERT INTO overruns(id, ticket_id, org_id, commitment_id, metric, deadline, stopped_at, recorded_at, reason, note, explained_by, explained_at, rca, action, owner_id, due, done_at, loss, loss_by, loss_at) SELECT id, ticket_id, org_id, commitment_id, metric, deadline, stopped_at, recorded_at, reason, note, explained_by, explained_at, rca, action, owner_id, due, done_at, loss, loss_by, loss_at FROM overruns_copy;
DROP TABLE overruns_copy;
CREATE INDEX overruns_by_org ON overruns(org_id, id);
-- A contract's billing period closed (its end): once, whoever closes it
-- first (the engine on any node, or keepword credits close) records it
-- in the transaction that writes its accruals; the key refuses a second.
CREATE TABLE period_closes(contract_id INTEGER NOT NULL REFERENCES contracts(id), period_end INTEGER NOT NULL, closed_at INTEGER NOT NULL, closed_by TEXT NOT NULL, entries INTEGER NOT NULL, PRIMARY KEY (contract_id, period_end));
