-- SPDX-License-Identifier: MIT
-- 41 (#20): the log's complete subtrees, log_nodes, are kept in the order
-- they are written. Keyed (level, idx) in a WITHOUT ROWID table, each
-- append wrote at the end of every level it completed: a group commit of
-- 16 creates changed about 14 of the table's pages (of 61 a commit), each
-- copied into the WAL with its checksum, and an index B-tree splits its
-- full pages in half. Now a rowid table whose rowid is the node's place in
-- append order: the last leaf it covers, ((idx + 1) << level) - 1, times 64,
-- plus its level (an append writes its leaf's node first, then the nodes
-- it completes level by level, all with that last leaf). The columns are
-- the same (copy.c, PostgreSQL's log_nodes keyed (level, idx)), and a node
-- is read by the rowid its (level, idx) gives (store/sqlite/log.c).
CREATE TABLE log_nodes_new(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL);
INSERT INTO log_nodes_new(rowid, level, idx, hash)
    SELECT ((((idx + 1) << level) - 1) << 6) + level, level, idx, hash FROM log_nodes
    ORDER BY 1;
DROP TABLE log_nodes;
ALTER TABLE log_nodes_new RENAME TO log_nodes;
CREATE TRIGGER log_nodes_no_update BEFORE UPDATE ON log_nodes BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
