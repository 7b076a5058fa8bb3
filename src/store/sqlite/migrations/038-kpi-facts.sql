-- SPDX-License-Identifier: MIT
-- 38: the KPI facts GET /kpis reads by period, without the events (#15).
-- The tickets resolved in a period: one row per "resolved" milestone, in
-- time order with its ticket, written by the trigger below in the
-- transaction that appends the event (events are append-only, so a row
-- never changes). Reading events_resolved instead looked each event up to
-- parse its body again: a year of 1,000,000 tickets spent 5 s of CPU there.
CREATE TABLE kpi_resolved(at INTEGER NOT NULL, ticket_id INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (at, ticket_id, seq)) WITHOUT ROWID;
CREATE TRIGGER kpi_resolved_add AFTER INSERT ON events
    WHEN new.type = 'milestone' AND json_extract(new.body, '$.milestone') = 'resolved'
BEGIN
    INSERT INTO kpi_resolved(at, ticket_id, seq) VALUES (new.at, new.ticket_id, new.seq);
END;
INSERT INTO kpi_resolved(at, ticket_id, seq)
    SELECT at, ticket_id, seq FROM events
    WHERE type = 'milestone' AND json_extract(body, '$.milestone') = 'resolved';
-- A ticket's state after each of its state and reopened events (a
-- reopening without one: handling), by (ticket, seq) with the instant: the
-- backlog at an instant reads each candidate ticket's last one before it
-- here, not from the events' bodies. Written like kpi_resolved.
CREATE TABLE kpi_states(ticket_id INTEGER NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, state TEXT, PRIMARY KEY (ticket_id, seq)) WITHOUT ROWID;
CREATE TRIGGER kpi_states_add AFTER INSERT ON events
    WHEN new.type IN ('state', 'reopened')
BEGIN
    INSERT INTO kpi_states(ticket_id, seq, at, state) VALUES (new.ticket_id, new.seq, new.at,
        CASE WHEN new.type = 'reopened' THEN coalesce(json_extract(new.body, '$.state'), 'handling')
        ELSE json_extract(new.body, '$.state') END);
END;
INSERT INTO kpi_states(ticket_id, seq, at, state)
    SELECT ticket_id, seq, at, CASE WHEN type = 'reopened' THEN coalesce(json_extract(body,
        '$.state'), 'handling') ELSE json_extract(body, '$.state') END
    FROM events WHERE type IN ('state', 'reopened');
-- The runs stopped in a period (most of the runs GET /kpis counts) are read
-- from the index alone, in stop order: it holds every column the figures
-- read (a run stopped is never measured again, so the index costs one
-- insert per stop). Without it each run was one look-up of its row.
DROP INDEX kpi_runs_by_stop;
CREATE INDEX kpi_runs_by_stop ON kpi_runs(stopped_at, org_id, commitment_id, status, started_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, team_id, assignee_id, calendar, level, tier, organisation, category, region, channel) WHERE stopped_at IS NOT NULL;
