-- SPDX-License-Identifier: MIT
-- 33: the search index in batches (#13).
-- The texts move to an ordinary table, search_text (same ids as the rowids
-- they had), written in the transaction that appends their event; the FTS5
-- table indexes it as external content (columnsize=0: no ranking reads the
-- lengths) and is brought up to date in batches (events.c, kws_search_flush:
-- once KWS_SEARCH_BATCH texts wait, in the commit that adds the last), since
-- FTS5 writes a segment at every commit it took part in, which was most of
-- what the index cost a create. search_upto holds the last id indexed; a
-- search reads the texts after it by scanning them (tickets.c), so a text is
-- found from the commit of its event as before.
CREATE TABLE search_text(id INTEGER PRIMARY KEY, text TEXT NOT NULL, scope TEXT,
                         ticket INTEGER NOT NULL, kind TEXT NOT NULL);
INSERT INTO search_text(id, text, scope, ticket, kind)
    SELECT rowid, text, scope, ticket, kind FROM search ORDER BY rowid;
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5(text, scope, ticket UNINDEXED, kind UNINDEXED,
                                       content = 'search_text', content_rowid = 'id',
                                       columnsize = 0, tokenize = 'trigram');
INSERT INTO search(search) VALUES ('rebuild');
INSERT INTO search(search, rank) VALUES ('automerge', 16);
CREATE TABLE search_upto(id INTEGER NOT NULL);
INSERT INTO search_upto(id) SELECT coalesce(max(id), 0) FROM search_text;
