-- SPDX-License-Identifier: MIT
-- 12: claims on due work move out of the tickets table into their own small
-- table. A claim written into a ticket's row grew the row on a random page of
-- a large table, and the next projection shrank it again; here a claim is a
-- row in a table that holds only the tickets being fired, whose few pages
-- stay in the cache.
CREATE TABLE claims(ticket INTEGER PRIMARY KEY, node INTEGER NOT NULL, until INTEGER NOT NULL);
ALTER TABLE tickets DROP COLUMN claimed_by;
ALTER TABLE tickets DROP COLUMN claimed_until;
