-- SPDX-License-Identifier: MIT
-- 23: watchers, and in-app notifications for them. A watcher is a person
-- who follows a ticket (user_id), added by themselves or by staff
-- (added_by) at `at`; who may watch which ticket is app/watchers.c's (staff,
-- and customers of the ticket's organisation).
CREATE TABLE watchers(
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    added_by INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, user_id)) WITHOUT ROWID;
CREATE INDEX watchers_by_user ON watchers(user_id);
-- Notifications now also reach watchers, customers among them: two more
-- kinds, "comment" (a comment on a ticket one watches; a customer only a
-- public one) and "state" (a watched ticket changed state, detail the new
-- state). The table is made again for its wider CHECK (SQLite cannot
-- change one), its triggers with it.
DROP TRIGGER notify_assigned;
DROP TRIGGER notify_clock;
DROP TRIGGER notify_reply;
CREATE TABLE notifications_23(
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('assigned', 'sla_warning', 'sla_breach', 'customer_reply',
                                       'comment', 'state')),
    actor_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT,
    read_at INTEGER);
INSERT INTO notifications_23(id, user_id, ticket_id, seq, kind, actor_id, at, detail, read_at)
    SELECT id, user_id, ticket_id, seq, kind, actor_id, at, detail, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_23 RENAME TO notifications;
CREATE INDEX notifications_by_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
-- As in 021: the assignee when someone else assigns them.
CREATE TRIGGER notify_assigned AFTER INSERT ON events
    WHEN new.type = 'assigned' AND json_extract(new.body, '$.assignee_id') IS NOT NULL
         AND json_extract(new.body, '$.assignee_id') <> new.actor_id
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at)
        SELECT id, new.ticket_id, new.seq, 'assigned', new.actor_id, new.at FROM users
        WHERE id = json_extract(new.body, '$.assignee_id') AND role <> 'customer';
END;
-- A warning or breach: the assignee and the staff who watch the ticket
-- (once each; clocks are the provider's business, not told to customers).
CREATE TRIGGER notify_clock AFTER INSERT ON events
    WHEN new.type IN ('sla_warning', 'sla_breach')
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
        SELECT who, new.ticket_id, new.seq, new.type, new.actor_id, new.at,
               json_extract(new.body, '$.metric')
        FROM (SELECT assignee_id AS who FROM tickets
              WHERE id = new.ticket_id AND assignee_id IS NOT NULL
              UNION
              SELECT w.user_id FROM watchers w JOIN users u ON u.id = w.user_id
              WHERE w.ticket_id = new.ticket_id AND u.role <> 'customer'
                    AND u.deactivated_at IS NULL);
END;
-- A customer's public comment: the assignee and the staff who watch.
CREATE TRIGGER notify_reply AFTER INSERT ON events
    WHEN new.type = 'comment' AND NOT coalesce(json_extract(new.body, '$.internal'), 0)
         AND (SELECT role FROM users WHERE id = new.actor_id) = 'customer'
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
        SELECT who, new.ticket_id, new.seq, 'customer_reply', new.actor_id, new.at,
               substr(json_extract(new.body, '$.text'), 1, 200)
        FROM (SELECT assignee_id AS who FROM tickets
              WHERE id = new.ticket_id AND assignee_id IS NOT NULL
              UNION
              SELECT w.user_id FROM watchers w JOIN users u ON u.id = w.user_id
              WHERE w.ticket_id = new.ticket_id AND u.role <> 'customer'
                    AND u.deactivated_at IS NULL);
END;
-- Any other comment for the watchers (not its author): customers of the
-- ticket's organisation only public ones; staff every one but a customer's
-- public comment, which notify_reply told them of already.
CREATE TRIGGER notify_watch_comment AFTER INSERT ON events
    WHEN new.type = 'comment'
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
        SELECT w.user_id, new.ticket_id, new.seq, 'comment', new.actor_id, new.at,
               substr(json_extract(new.body, '$.text'), 1, 200)
        FROM watchers w JOIN users u ON u.id = w.user_id JOIN tickets t ON t.id = w.ticket_id
        WHERE w.ticket_id = new.ticket_id AND w.user_id <> new.actor_id
              AND u.deactivated_at IS NULL
              AND CASE WHEN u.role = 'customer'
                       THEN u.org_id = t.org_id
                            AND NOT coalesce(json_extract(new.body, '$.internal'), 0)
                       ELSE coalesce(json_extract(new.body, '$.internal'), 0)
                            OR coalesce((SELECT role FROM users WHERE id = new.actor_id), '')
                               <> 'customer' END;
END;
-- A state change (a move or a reopen) for the watchers but the one who made it.
CREATE TRIGGER notify_watch_state AFTER INSERT ON events
    WHEN new.type IN ('state', 'reopened')
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
        SELECT w.user_id, new.ticket_id, new.seq, 'state', new.actor_id, new.at,
               json_extract(new.body, '$.state')
        FROM watchers w JOIN users u ON u.id = w.user_id JOIN tickets t ON t.id = w.ticket_id
        WHERE w.ticket_id = new.ticket_id AND w.user_id <> new.actor_id
              AND u.deactivated_at IS NULL AND (u.role <> 'customer' OR u.org_id = t.org_id);
END;
