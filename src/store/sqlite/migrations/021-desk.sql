-- SPDX-License-Identifier: MIT
-- 21: saved views of the ticket list. A view is a person's (owner_id) or,
-- with team_id, shared with everyone of that team. filters is a JSON object
-- of the list's filters, columns a JSON array of the columns shown, sort
-- the column the list is sorted by ("-" first: descending; NULL: the
-- list's default). Names are unique per owner.
CREATE TABLE views(
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    team_id INTEGER REFERENCES teams(id),
    name TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    sort TEXT,
    columns TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner_id, name));
CREATE INDEX views_by_team ON views(team_id) WHERE team_id IS NOT NULL;
-- In-app notifications for staff, one row per person and event: a ticket
-- assigned to them (by someone else), a warning or breach of a clock on a
-- ticket assigned to them, a customer's public comment on a ticket
-- assigned to them. The trigger writes them in the transaction that
-- appends the event, whichever channel appends it (HTTP, the engine, the
-- CLI); detail is the metric of a warning or breach, the first 200
-- characters of a comment. read_at: when the person marked it read.
CREATE TABLE notifications(
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('assigned', 'sla_warning', 'sla_breach', 'customer_reply')),
    actor_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT,
    read_at INTEGER);
CREATE INDEX notifications_by_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
CREATE TRIGGER notify_assigned AFTER INSERT ON events
    WHEN new.type = 'assigned' AND json_extract(new.body, '$.assignee_id') IS NOT NULL
         AND json_extract(new.body, '$.assignee_id') <> new.actor_id
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at)
        SELECT id, new.ticket_id, new.seq, 'assigned', new.actor_id, new.at FROM users
        WHERE id = json_extract(new.body, '$.assignee_id') AND role <> 'customer';
END;
CREATE TRIGGER notify_clock AFTER INSERT ON events
    WHEN new.type IN ('sla_warning', 'sla_breach')
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
        SELECT assignee_id, id, new.seq, new.type, new.actor_id, new.at,
               json_extract(new.body, '$.metric')
        FROM tickets WHERE id = new.ticket_id AND assignee_id IS NOT NULL;
END;
CREATE TRIGGER notify_reply AFTER INSERT ON events
    WHEN new.type = 'comment' AND NOT coalesce(json_extract(new.body, '$.internal'), 0)
         AND (SELECT role FROM users WHERE id = new.actor_id) = 'customer'
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
        SELECT assignee_id, id, new.seq, 'customer_reply', new.actor_id, new.at,
               substr(json_extract(new.body, '$.text'), 1, 200)
        FROM tickets WHERE id = new.ticket_id AND assignee_id IS NOT NULL;
END;
