-- SPDX-License-Identifier: MIT
-- 37: the CHECKs of the two tables a firing writes a row of per event
-- (#20) say their lists as comparisons. SQLite checks `x IN ('a','b','c')`
-- (more than two constants) by building a temporary b-tree of the list for
-- every row it writes: of the 48,000 instructions of an outbox row, about
-- 30,000 (opening, filling and closing that tree); `x = 'a' OR x = 'b' OR
-- x = 'c'` allows exactly the same values. SQLite cannot change a CHECK,
-- so each table is made again with its rows, ids and indexes.
CREATE TABLE outbox_37(id INTEGER PRIMARY KEY, endpoint_id INTEGER NOT NULL REFERENCES endpoints(id), kind TEXT NOT NULL, ticket_id INTEGER, payload TEXT NOT NULL, idem_key TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending' CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead'), attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT, created_at INTEGER NOT NULL, delivered_at INTEGER, user_id INTEGER REFERENCES users(id), UNIQUE (endpoint_id, idem_key));
INSERT INTO outbox_37(id, endpoint_id, kind, ticket_id, payload, idem_key, state, attempts, next_at, last_error, created_at, delivered_at, user_id)
    SELECT id, endpoint_id, kind, ticket_id, payload, idem_key, state, attempts, next_at, last_error, created_at, delivered_at, user_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_37 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state = 'pending';
-- The triggers on events that write notifications name the table: the
-- legacy rename leaves them as they are (they name the new one once it
-- has the name), where the current one would refuse while it is missing.
PRAGMA legacy_alter_table = ON;
CREATE TABLE notifications_37(
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind = 'assigned' OR kind = 'sla_warning' OR kind = 'sla_breach'
                              OR kind = 'customer_reply' OR kind = 'comment' OR kind = 'state'
                              OR kind = 'watch_list'),
    actor_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT,
    read_at INTEGER);
INSERT INTO notifications_37(id, user_id, ticket_id, seq, kind, actor_id, at, detail, read_at)
    SELECT id, user_id, ticket_id, seq, kind, actor_id, at, detail, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_37 RENAME TO notifications;
PRAGMA legacy_alter_table = OFF;
CREATE INDEX notifications_by_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
