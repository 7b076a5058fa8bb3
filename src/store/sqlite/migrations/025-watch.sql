-- SPDX-License-Identifier: MIT
-- 25: the watch list (服务黑名单), accident levels
-- and the audit trail (docs/policy.md "The watch list", "Accident levels",
-- "The audit trail").
-- Settings of the deployment (whole numbers): how many overruns within how
-- many months flag an organisation, and the smallest recorded loss (minor
-- units) of each accident level (0: that level is not given by amount).
CREATE TABLE watch_settings(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO watch_settings VALUES ('overruns', 3), ('window_months', 12),
    ('accident_major', 50000000), ('accident_serious', 0), ('accident_general', 1);
-- A flag on an organisation: when and on which overrun (its ticket) it was
-- raised, how many overruns counted from when; cleared only by a manager's
-- recorded decision (who, when, why). At most one open flag per organisation.
CREATE TABLE watch_flags(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id), flagged_at INTEGER NOT NULL, ticket_id INTEGER REFERENCES tickets(id), overrun_id INTEGER REFERENCES overruns(id), overruns INTEGER NOT NULL, window_from INTEGER NOT NULL, cleared_at INTEGER, cleared_by INTEGER REFERENCES users(id), reason TEXT);
CREATE UNIQUE INDEX watch_flags_open ON watch_flags(org_id) WHERE cleared_at IS NULL;
CREATE INDEX watch_flags_by_org ON watch_flags(org_id, id);
-- The loss recorded on an overrun (minor units), who recorded it and when.
ALTER TABLE overruns ADD COLUMN loss INTEGER;
ALTER TABLE overruns ADD COLUMN loss_by INTEGER;
ALTER TABLE overruns ADD COLUMN loss_at INTEGER;
-- The audit trail: every administrative change (docs/policy.md "The audit
-- trail"), one deployment-wide hash chain (seq = id; hashed as a ticket
-- event with organisation 0, type "audit"), each hash a leaf of the Merkle
-- log. body: {"kind","object","action","before","after"} in canonical JSON.
CREATE TABLE audit(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor INTEGER NOT NULL, kind TEXT NOT NULL, object INTEGER NOT NULL DEFAULT 0, action TEXT NOT NULL, body TEXT NOT NULL, hash BLOB NOT NULL);
CREATE INDEX audit_by_kind ON audit(kind, id);
CREATE INDEX audit_by_actor ON audit(actor, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- In-app notifications get a kind for the watch list: the table is made
-- again with the wider check, and 023's triggers with it (unchanged).
DROP TRIGGER notify_assigned;
DROP TRIGGER notify_clock;
DROP TRIGGER notify_reply;
DROP TRIGGER notify_watch_comment;
DROP TRIGGER notify_watch_state;
CREATE TABLE notifications_25(
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('assigned', 'sla_warning', 'sla_breach', 'customer_reply',
                                       'comment', 'state', 'watch_list')),
    actor_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT,
    read_at INTEGER);
INSERT INTO notifications_25(id, user_id, ticket_id, seq, kind, actor_id, at, detail, read_at)
    SELECT id, user_id, ticket_id, seq, kind, actor_id, at, detail, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_25 RENAME TO notifications;
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
