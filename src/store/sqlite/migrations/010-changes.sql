-- SPDX-License-Identifier: MIT
-- 10: the change log: one row per ticket and unit of work that gave it
-- events, in commit order, written with the events; live feeds in any process
-- read it with a cursor (seq). The newest 100,000 are kept (events.c prunes
-- older ones in the writer's transactions).
CREATE TABLE changes(seq INTEGER PRIMARY KEY, ticket INTEGER NOT NULL, at INTEGER NOT NULL);
