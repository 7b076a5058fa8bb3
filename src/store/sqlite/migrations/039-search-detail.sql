-- SPDX-License-Identifier: MIT
-- 39: the search index without positions (#13). detail=column keeps, for
-- each trigram, the texts and the columns it is in but not where: its
-- doclists are a few times smaller, and so is what FTS5 writes for each
-- batch of texts and rewrites at each merge of segments (half of what the
-- index cost a create). FTS5 then refuses phrases, so a word of four
-- characters or more is asked for by the trigrams that cover it and
-- checked in the text (tickets.c, word_query). Built again from
-- search_text with the same ids; every text is indexed then.
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5(text, scope, ticket UNINDEXED, kind UNINDEXED,
                                       content = 'search_text', content_rowid = 'id',
                                       columnsize = 0, detail = column, tokenize = 'kw_trigram');
INSERT INTO search(search) VALUES ('rebuild');
INSERT INTO search(search, rank) VALUES ('automerge', 16);
UPDATE search_upto SET id = (SELECT coalesce(max(id), 0) FROM search_text);
