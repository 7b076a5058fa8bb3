-- SPDX-License-Identifier: MIT
-- 44 (#20): clocks without its foreign key to tickets, as kpi_runs in 042.
-- A clock's row is written by the store for a ticket it has just inserted
-- or read in the same transaction (store/sqlite/tickets.c, the clocks'
-- projection), never from a client's reference, and a ticket is never
-- deleted; the key's check looked the ticket up for each row written, and
-- made a new ticket's three rows in one statement (S_CLOCK_ADD3) keep a
-- statement journal, since a row of it could abort. The columns, their
-- order and the primary key are as before (PostgreSQL keeps its key).
CREATE TABLE clocks_new(ticket_id INTEGER NOT NULL, metric TEXT NOT NULL, status TEXT NOT NULL, deadline INTEGER, next_due INTEGER, next_pct INTEGER, PRIMARY KEY (ticket_id, metric)) WITHOUT ROWID;
INSERT INTO clocks_new(ticket_id, metric, status, deadline, next_due, next_pct)
    SELECT ticket_id, metric, status, deadline, next_due, next_pct FROM clocks ORDER BY ticket_id, metric;
DROP TABLE clocks;
ALTER TABLE clocks_new RENAME TO clocks;
