-- SPDX-License-Identifier: MIT
-- 11: the KPI facts GET /kpis reads by period (#15), as SQLite's 037: the
-- "resolved" milestones by time with their ticket, and each ticket's state
-- after each state or reopened event, written by triggers in the
-- transaction that appends the event.
CREATE TABLE kpi_resolved(at bigint NOT NULL, ticket_id bigint NOT NULL, seq bigint NOT NULL, PRIMARY KEY (at, ticket_id, seq));
CREATE FUNCTION kw_kpi_resolved_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.type = 'milestone' AND NEW.body::jsonb->>'milestone' = 'resolved' THEN
        INSERT INTO kpi_resolved(at, ticket_id, seq) VALUES (NEW.at, NEW.ticket_id, NEW.seq);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER kpi_resolved_add AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.type = 'milestone') EXECUTE FUNCTION kw_kpi_resolved_add();
INSERT INTO kpi_resolved(at, ticket_id, seq)
    SELECT at, ticket_id, seq FROM events
    WHERE type = 'milestone' AND body::jsonb->>'milestone' = 'resolved';
CREATE TABLE kpi_states(ticket_id bigint NOT NULL, seq bigint NOT NULL, at bigint NOT NULL, state text, PRIMARY KEY (ticket_id, seq));
CREATE FUNCTION kw_kpi_states_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_states(ticket_id, seq, at, state) VALUES (NEW.ticket_id, NEW.seq, NEW.at,
        CASE WHEN NEW.type = 'reopened' THEN coalesce(NEW.body::jsonb->>'state', 'handling')
        ELSE NEW.body::jsonb->>'state' END);
    RETURN NULL;
END $$;
CREATE TRIGGER kpi_states_add AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.type IN ('state', 'reopened')) EXECUTE FUNCTION kw_kpi_states_add();
INSERT INTO kpi_states(ticket_id, seq, at, state)
    SELECT ticket_id, seq, at, CASE WHEN type = 'reopened' THEN coalesce(body::jsonb->>'state',
        'handling') ELSE body::jsonb->>'state' END
    FROM events WHERE type IN ('state', 'reopened');
