-- SPDX-License-Identifier: MIT
-- 46 (#20): log_nodes keeps the complete subtrees of two leaves or more.
-- A leaf's own node (level 0) is the hash of its data, SHA-256(0x00 ||
-- data) of its row in log_leaves, which the store computes when a proof or
-- a root needs it (store/sqlite/log.c, leaf_node): a row fewer a create,
-- half of the table's rows. Roots and proofs are the same; `keepword copy`
-- computes these nodes for PostgreSQL, which keeps them (pg/copy.c).
DELETE FROM log_nodes WHERE level = 0;
