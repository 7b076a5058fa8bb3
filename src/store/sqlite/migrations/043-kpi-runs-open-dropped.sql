-- SPDX-License-Identifier: MIT
-- 43 (#15): kpi_runs without the partial index kpi_runs_open (the open
-- runs by deadline). Every new ticket's runs are open, so each wrote an
-- entry there, a third of what keeping the KPI facts cost a create; it was
-- read only by the store's periods (reports, breaches, drills: the third
-- range of store/sqlite/kpi.c's S_RUNS_PERIOD), and on a desk whose engine
-- lags most open runs are past their deadline, where reading them behind
-- the index was no faster than the table's scan. GET /kpis reads its runs
-- in memory (app/kpi_cache.c). PostgreSQL keeps its index.
DROP INDEX kpi_runs_open;
