-- SPDX-License-Identifier: MIT
-- 37: the KPI facts GET /kpis reads by period, without the events (#15).
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
-- The runs stopped in a period (most of the runs GET /kpis counts) are read
-- from the index alone, in stop order: it holds every column the figures
-- read (a run stopped is never measured again, so the index costs one
-- insert per stop). Without it each run was one look-up of its row.
DROP INDEX kpi_runs_by_stop;
CREATE INDEX kpi_runs_by_stop ON kpi_runs(stopped_at, org_id, commitment_id, status, started_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, team_id, assignee_id, calendar, level, tier, organisation, category, region, channel) WHERE stopped_at IS NOT NULL;
