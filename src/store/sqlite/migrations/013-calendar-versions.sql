-- SPDX-License-Identifier: MIT
-- 13: calendars keep their versions. Each save of a calendar is a new
-- version with the instant it was saved; a commitment that names a stored
-- calendar counts working time before a save on the version then in force
-- and after it on the new one. calendars.spec stays the latest version's.
-- What is stored already becomes version 1.
CREATE TABLE calendar_versions(calendar_id INTEGER NOT NULL REFERENCES calendars(id), version INTEGER NOT NULL, spec TEXT NOT NULL, saved_at INTEGER NOT NULL, PRIMARY KEY (calendar_id, version)) WITHOUT ROWID;
INSERT INTO calendar_versions(calendar_id, version, spec, saved_at) SELECT id, 1, spec, created_at FROM calendars;
