-- SPDX-License-Identifier: MIT
-- 13: a firing's claim reads only its unit, its clocks change in place
-- (#17). The engine claims the due tickets in (fire_at, id) order, LIMIT a
-- unit: on an index of fire_at alone the plan sorted each run of equal
-- fire_at (the 1,000 tickets that fall due in one second) before its first
-- row came out, so each claim of 64 read, checked against the claims and
-- sorted every ticket due so far, and took the longer the further the
-- engine was behind. On (fire_at, id) the index gives the order, and the
-- claim stops after its unit.
CREATE INDEX tickets_fire_order ON tickets(fire_at, id) WHERE fire_at IS NOT NULL;
DROP INDEX tickets_fire;
-- A firing updates its ticket's clocks in place (PGS_CLOCK_PUT) instead of
-- deleting and inserting them again: room on each page for their new
-- versions, so that the update is HOT (clocks has no index but its key).
ALTER TABLE clocks SET (fillfactor = 80);
