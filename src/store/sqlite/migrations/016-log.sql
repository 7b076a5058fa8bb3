-- The deployment-wide Merkle log (docs/receipts.md): one leaf per ticket
-- event (its chain hash), ledger entry and administrative change, in
-- commit order; the complete subtrees' hashes; the signed checkpoints.
CREATE TABLE log_leaves(idx INTEGER PRIMARY KEY, kind TEXT NOT NULL, ticket INTEGER, seq INTEGER, data BLOB NOT NULL);
CREATE INDEX log_leaves_event ON log_leaves(ticket, seq) WHERE kind = 'event';
CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TABLE log_nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TRIGGER log_nodes_no_update BEFORE UPDATE ON log_nodes BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TABLE log_checkpoints(size INTEGER PRIMARY KEY, at INTEGER NOT NULL, note TEXT NOT NULL);
-- events written before the log existed are appended at the next open
CREATE TABLE log_meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO log_meta VALUES ('backfill', 1);
