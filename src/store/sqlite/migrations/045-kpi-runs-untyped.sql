-- SPDX-License-Identifier: MIT
-- 45 (#20): kpi_runs with no declared type and no NOT NULL on the columns
-- outside its key. Every row was checked and converted column by column
-- on its way in (12 NOT NULL checks and the affinity of 25 columns, about
-- 600 instructions a run, three runs a new ticket), though the store is its
-- only writer and binds each column as what it holds (store/sqlite/kpi.c,
-- from struct kw_run_row: integers, instants or NULL, and text), so the
-- values stored, their comparisons and what reads give back are the same
-- (docs/operations.md: the write13 paragraph). The columns mean what 017
-- says: metric, status, calendar, level, tier, organisation, category,
-- region and channel are text; the others integers (seconds, instants,
-- ids), stopped_at, deadline, breached_at, commitment_id, team_id,
-- assignee_id and the texts but metric and status may be NULL. The key
-- keeps its types; the columns' order, the key and the two indexes are as
-- before. PostgreSQL keeps its typed columns (it checks them at no such
-- cost per column).
CREATE TABLE kpi_runs_new(ticket_id INTEGER NOT NULL, metric TEXT NOT NULL, run INTEGER NOT NULL, org_id, commitment_id, status, started_at, stopped_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, calendar, level, tier, organisation, team_id, assignee_id, category, region, channel, PRIMARY KEY (ticket_id, metric, run)) WITHOUT ROWID;
INSERT INTO kpi_runs_new(ticket_id, metric, run, org_id, commitment_id, status, started_at, stopped_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, calendar, level, tier, organisation, team_id, assignee_id, category, region, channel)
    SELECT ticket_id, metric, run, org_id, commitment_id, status, started_at, stopped_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, calendar, level, tier, organisation, team_id, assignee_id, category, region, channel FROM kpi_runs ORDER BY ticket_id, metric, run;
DROP TABLE kpi_runs;
ALTER TABLE kpi_runs_new RENAME TO kpi_runs;
CREATE INDEX kpi_runs_by_stop ON kpi_runs(stopped_at, org_id, commitment_id, status, started_at, deadline, breached_at, target, working, wall, paused_wall, measured_at, steady_from, team_id, assignee_id, calendar, level, tier, organisation, category, region, channel) WHERE stopped_at IS NOT NULL;
CREATE INDEX kpi_runs_by_breach ON kpi_runs(breached_at) WHERE breached_at IS NOT NULL;
