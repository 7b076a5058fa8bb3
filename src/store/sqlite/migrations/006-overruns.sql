-- SPDX-License-Identifier: MIT
-- 6: overrun records (超时处理): one per breached clock run, with the reason told to
-- the customer and a follow-up tracked to done
CREATE TABLE overruns(id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets(id), org_id INTEGER NOT NULL, commitment_id INTEGER, metric TEXT NOT NULL, deadline INTEGER NOT NULL, stopped_at INTEGER, recorded_at INTEGER NOT NULL, reason TEXT CHECK (reason IN ('technology','staffing','process','customer','third_party')), note TEXT, explained_by INTEGER, explained_at INTEGER, rca TEXT, action TEXT, owner_id INTEGER REFERENCES users(id), due INTEGER, done_at INTEGER, UNIQUE (ticket_id, metric, deadline));
CREATE INDEX overruns_by_org ON overruns(org_id, id);
