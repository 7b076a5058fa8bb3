-- SPDX-License-Identifier: MIT
-- 14: a firing's warning or breach runs a trigger of its own (#17). Every
-- event of the types events_notify names called kw_notify_event, which
-- first parses the body as jsonb, reads its "internal" flag and the
-- actor's role (a query), whatever the type: for the engine's sla_warning
-- and sla_breach, which need neither, that was about a fifth of their
-- event's statement on the server. Their notifications (the assignee and
-- each active staff watcher, the metric as detail) are now written by
-- kw_notify_sla, which reads the body only for the rows it inserts; the
-- other types are kw_notify_event's as before.
CREATE FUNCTION kw_notify_sla() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
        SELECT who, NEW.ticket_id, NEW.seq, NEW.type, NEW.actor_id, NEW.at,
               NEW.body::jsonb->>'metric'
        FROM (SELECT assignee_id AS who FROM tickets
              WHERE id = NEW.ticket_id AND assignee_id IS NOT NULL
              UNION
              SELECT w.user_id FROM watchers w JOIN users u ON u.id = w.user_id
              WHERE w.ticket_id = NEW.ticket_id AND u.role <> 'customer'
                    AND u.deactivated_at IS NULL) s;
    RETURN NULL;
END $$;
DROP TRIGGER events_notify ON events;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.type IN ('assigned', 'comment', 'state', 'reopened'))
    EXECUTE FUNCTION kw_notify_event();
CREATE TRIGGER events_notify_sla AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.type IN ('sla_warning', 'sla_breach'))
    EXECUTE FUNCTION kw_notify_sla();
