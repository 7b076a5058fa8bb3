-- SPDX-License-Identifier: MIT
-- 40: the seven AFTER INSERT ON events triggers of 025 and
-- 038 are dropped; the event's append (store/sqlite/events.c, derive())
-- writes the same rows into the same tables with the same statements, in
-- the same order, right after the event's row (#20). SQLite runs every
-- trigger as a sub-program whose registers it allocates and zeroes even
-- when its WHEN is false, about 3,500 instructions apiece: the seven cost
-- every event (a creation's, a clock's start) some 25,000 instructions for
-- nothing, and one trigger with their statements and the WHENs combined
-- cost more still (its frame holds every statement's registers). The
-- append is the only way an event is written (copy.c writes PostgreSQL,
-- whose triggers stay).
DROP TRIGGER notify_assigned;
DROP TRIGGER notify_clock;
DROP TRIGGER notify_reply;
DROP TRIGGER notify_watch_comment;
DROP TRIGGER notify_watch_state;
DROP TRIGGER kpi_resolved_add;
DROP TRIGGER kpi_states_add;
