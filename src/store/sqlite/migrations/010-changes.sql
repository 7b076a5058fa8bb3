-- SPDX-License-Identifier: MIT
-- 10: the change log: one row per ticket and unit of work that gave it
-- events, in commit order, written with the events; live feeds in any process
-- read it with a cursor (seq). kw_store_maintain keeps the newest 100,000.
CREATE TABLE changes(seq INTEGER PRIMARY KEY, ticket INTEGER NOT NULL, at INTEGER NOT NULL);
