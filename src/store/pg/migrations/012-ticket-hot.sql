-- SPDX-License-Identifier: MIT
-- 12: fewer index entries per ticket write (#17). Each event rewrites its
-- ticket's row (the chain's head), and PostgreSQL writes a new version of
-- a row into every index of its table unless no indexed column changed and
-- the page has room (a HOT update). tickets_stale's predicate named
-- last_seq, so every event wrote an entry into each of the table's
-- indexes: it goes, and the stale tickets' read (kw_store_stale, at a
-- server's start and after a commitment is republished) scans the table as
-- SQLite's does (it has no such index). fillfactor 90 keeps room on each
-- page for the versions a new ticket's first event and schedule write.
-- The idempotency key's uniqueness covers only the rows that have a key:
-- a ticket without one (most) adds no entry to it.
DROP INDEX tickets_stale;
ALTER TABLE tickets SET (fillfactor = 90);
ALTER TABLE tickets DROP CONSTRAINT tickets_created_by_idempotency_key_key;
CREATE UNIQUE INDEX tickets_by_key ON tickets(created_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
