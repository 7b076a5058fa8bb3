-- SPDX-License-Identifier: MIT
-- 17: KPI facts (docs/kpi.md). One row per run of each SLA clock of a
-- ticket, written by the writer in the transaction that projects the
-- ticket's clocks, so the facts never lag the events; `keepword kpi
-- rebuild` writes them all again from the events. A run still open is
-- measured as of measured_at (its last projection), and has stood as it is
-- (running or paused, no event) since steady_from; a stopped run is fixed.
CREATE TABLE kpi_runs(ticket_id INTEGER NOT NULL REFERENCES tickets(id), metric TEXT NOT NULL, run INTEGER NOT NULL, org_id INTEGER NOT NULL, commitment_id INTEGER, status TEXT NOT NULL, started_at INTEGER NOT NULL, stopped_at INTEGER, deadline INTEGER, breached_at INTEGER, target INTEGER NOT NULL, working INTEGER NOT NULL, wall INTEGER NOT NULL, paused_wall INTEGER NOT NULL, measured_at INTEGER NOT NULL, steady_from INTEGER NOT NULL, calendar TEXT, level TEXT, tier TEXT, organisation TEXT, team_id INTEGER, assignee_id INTEGER, category TEXT, region TEXT, channel TEXT, PRIMARY KEY (ticket_id, metric, run)) WITHOUT ROWID;
CREATE INDEX kpi_runs_by_stop ON kpi_runs(stopped_at) WHERE stopped_at IS NOT NULL;
CREATE INDEX kpi_runs_by_breach ON kpi_runs(breached_at) WHERE breached_at IS NOT NULL;
CREATE INDEX kpi_runs_open ON kpi_runs(deadline) WHERE stopped_at IS NULL AND breached_at IS NULL;
-- The ticket counts and ratings of a period read these events by time (one
-- partial index per type: SQLite uses one only for a query naming its type).
CREATE INDEX events_milestones ON events(at) WHERE type = 'milestone';
CREATE INDEX events_reopened ON events(at) WHERE type = 'reopened';
CREATE INDEX events_ratings ON events(at) WHERE type = 'rating';
-- Tickets stored before this version have no facts yet: mark their clock
-- projection stale, so the server projects each once at its next start
-- (which writes its facts), as `keepword kpi rebuild` would.
UPDATE tickets SET projected_seq = -1;
