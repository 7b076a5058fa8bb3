-- SPDX-License-Identifier: MIT
-- 32: the write path (#20).
-- A new ticket takes the commitment in force at its creation (the newest
-- effective_from at or before it): an index instead of sorting the table
-- once per create.
CREATE INDEX commitments_by_effective ON commitments(effective_from, id);
-- FTS5 merges the search index's segments sixteen at a time instead of
-- four: each text is rewritten about half as often as the index grows (the
-- merges were most of a create's index cost), for a few more segments to
-- read per search. The results are the same; the setting is kept in the
-- index (search_config).
INSERT INTO search(search, rank) VALUES ('automerge', 16);
