-- SPDX-License-Identifier: MIT
-- 24: time accounting and cost (docs/kpi.md "Time spent and cost"). Time
-- spent is an event on the ticket (time_spent; a correction is a new
-- event naming the entry it corrects), read by time like the ratings; a
-- team's hourly cost (minor units of its currency) is set by a manager.
CREATE INDEX events_time ON events(at) WHERE type = 'time_spent';
CREATE TABLE team_costs(team_id INTEGER PRIMARY KEY REFERENCES teams(id), hourly_minor INTEGER NOT NULL CHECK (hourly_minor >= 0), currency TEXT NOT NULL, set_at INTEGER NOT NULL, set_by INTEGER NOT NULL);
