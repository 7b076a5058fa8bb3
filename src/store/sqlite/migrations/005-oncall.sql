-- SPDX-License-Identifier: MIT
-- 5: on-call rotas, one per team and level
CREATE TABLE oncall(id INTEGER PRIMARY KEY, name TEXT NOT NULL, team_id INTEGER NOT NULL REFERENCES teams(id), level INTEGER NOT NULL DEFAULT 1, spec TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (team_id, level));
