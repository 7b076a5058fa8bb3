-- SPDX-License-Identifier: MIT
-- 48: log_nodes keeps each node's place in append order (041's rowid:
-- the last leaf it covers, times 64, plus its level) in a column of its
-- own, `place INTEGER PRIMARY KEY`. An implicit rowid is not kept by
-- VACUUM, which numbers the rows of a table without an INTEGER PRIMARY KEY
-- afresh: after an operator's `VACUUM` the store looked nodes up by places
-- no row had and called the log damaged. An INTEGER PRIMARY KEY is the
-- rowid under a name (no byte more a row) and VACUUM keeps it. The places
-- are computed again from (level, idx), so a desk vacuumed before this
-- migration is mended by it.
CREATE TABLE log_nodes_new(place INTEGER PRIMARY KEY, level INTEGER NOT NULL,
                           idx INTEGER NOT NULL, hash BLOB NOT NULL);
INSERT INTO log_nodes_new(place, level, idx, hash)
    SELECT ((((idx + 1) << level) - 1) << 6) + level, level, idx, hash FROM log_nodes
    ORDER BY 1;
DROP TABLE log_nodes;
ALTER TABLE log_nodes_new RENAME TO log_nodes;
CREATE TRIGGER log_nodes_no_update BEFORE UPDATE ON log_nodes BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
