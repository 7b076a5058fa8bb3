-- SPDX-License-Identifier: MIT
-- 27: the organisation in the search index. Each text also carries its
-- ticket's organisation in a column of its own (scope: three characters of
-- the Private Use Area, U+E000 + id % 6400, + id / 6400 % 6400, + id /
-- 6400^2, so that each organisation is one trigram and its texts are one
-- doclist); a search limited to one organisation (every customer's) asks
-- FTS5 for its scope and the words together instead of reading all of a
-- frequent word's matches to find the organisation's share. The table is
-- built again with the same rowids (the newest texts keep the highest).
CREATE VIRTUAL TABLE search_scoped USING fts5(text, scope, ticket UNINDEXED, kind UNINDEXED,
                                              tokenize = 'trigram');
INSERT INTO search_scoped(rowid, text, scope, ticket, kind)
    SELECT search.rowid, search.text,
           char(57344 + org_id % 6400, 57344 + org_id / 6400 % 6400, 57344 + org_id / 40960000),
           search.ticket, search.kind
        FROM search JOIN tickets ON tickets.id = search.ticket
        ORDER BY search.rowid;
DROP TABLE search;
ALTER TABLE search_scoped RENAME TO search;
