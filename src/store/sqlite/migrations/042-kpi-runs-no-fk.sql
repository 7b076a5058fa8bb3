-- SPDX-License-Identifier: MIT
-- 42 (#15): kpi_runs without its foreign key to tickets. The runs are
-- facts the store derives from a ticket it has just written or read in the
-- same transaction (store/sqlite/kpi.c), never a client's reference, and a
-- ticket is never deleted; the key's check looked the ticket up for every
-- run written, and made a statement of many runs (a commit's new tickets'
-- runs, kws_runs_flush) keep a statement journal: about a third of what
-- keeping the facts cost a create. The columns, their order, the primary
-- key and the three indexes are as before (PostgreSQL keeps its key).
CREATE TABLE kpi_runs_new(ticket_id INTEGER NOT NULL, metric TEXT NOT NULL, run INTEGER NOT NULL, org_id INTEGER NOT NULL, commitment_id INTEGER, status TEXT NOT NULL, started_at INTEGER NOT NULL, stopped_at INTEGER, deadline INTEGER, breached_at INTEGER, target INTEGER NOT NULL, working INTEGER NOT NULL, wall INTEGER NOT NULL, paused_wall INTEGER NOT NULL, measured_at INTEGER NOT NULL, steady_from INTEGER NOT NULL, calendar TEXT, level TEXT, tier TEXT, organisation TEXT, team_id INTEGER, assignee_id INTEGER, category TEXT, region TEXT, channel TEXT, PRIMARY KEY (ticket_id, metric, run)) WITHOUT ROWID;
INSERT INTO kpi_runs_new(ticket_id, metric, run, org_id, commitment_id, status, started_at, stopped_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, calendar, level, tier, organisation, team_id, assignee_id, category, region, channel)
    SELECT ticket_id, metric, run, org_id, commitment_id, status, started_at, stopped_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, calendar, level, tier, organisation, team_id, assignee_id, category, region, channel FROM kpi_runs ORDER BY ticket_id, metric, run;
DROP TABLE kpi_runs;
ALTER TABLE kpi_runs_new RENAME TO kpi_runs;
CREATE INDEX kpi_runs_by_stop ON kpi_runs(stopped_at, org_id, commitment_id, status, started_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, team_id, assignee_id, calendar, level, tier, organisation, category, region, channel) WHERE stopped_at IS NOT NULL;
CREATE INDEX kpi_runs_by_breach ON kpi_runs(breached_at) WHERE breached_at IS NOT NULL;
CREATE INDEX kpi_runs_open ON kpi_runs(deadline) WHERE stopped_at IS NULL AND breached_at IS NULL;
