-- SPDX-License-Identifier: MIT
-- 39: a smaller search index (#13). Its tokenizer, kw_trigram
-- (search_tok.c, registered on each connection the store opens: the
-- sqlite3 shell cannot read or drop this table), is SQLite's trigram
-- tokenizer less the trigrams that hold a space (ASCII, tab or U+3000),
-- which no search term holds (they separate the terms) and which were one
-- in three of a text's trigrams and most of its distinct ones; and
-- detail=column keeps no positions. FTS5 then refuses phrases (the
-- positions of the trigrams kept are not the text's anyway), so a word of
-- four characters or more is asked for by the trigrams that cover it and
-- checked in the text (tickets.c, word_query). Built again from
-- search_text with the same ids; every text is indexed then.
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5(text, scope, ticket UNINDEXED, kind UNINDEXED,
                                       content = 'search_text', content_rowid = 'id',
                                       columnsize = 0, detail = column, tokenize = 'kw_trigram');
INSERT INTO search(search) VALUES ('rebuild');
INSERT INTO search(search, rank) VALUES ('automerge', 16);
UPDATE search_upto SET id = (SELECT coalesce(max(id), 0) FROM search_text);
