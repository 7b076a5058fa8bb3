-- SPDX-License-Identifier: MIT
-- 41: each searchable text written once (#13). search_text was a rowid
-- table and search_text_by_scope (migration 035) a covering index holding
-- every column again, so each text was written twice (a quarter of what
-- an indexed create cost). The texts now live by organisation and id, in
-- a table without rowid keyed (org, id): an organisation's texts are pages
-- in a row, as the index made them. The key is the organisation's id, not
-- its scope (three characters, compared as text at every step of every
-- look-up); scope, which the FTS5 index reads as its content, is computed
-- from it as migration 027 defined it. search_text_by_id finds a text
-- by its id (the FTS5 index's rowid, content_rowid = 'id') and holds its
-- ticket and kind, which is all that a search whose words need no check
-- in the text reads of a match (tickets.c, S_TICKETS_FIND), and the newest
-- id. The ids, and so the FTS5 index, are unchanged.
CREATE TABLE search_text_041(org INTEGER NOT NULL, id INTEGER NOT NULL, kind TEXT NOT NULL,
                             ticket INTEGER NOT NULL, text TEXT NOT NULL,
                             scope TEXT GENERATED ALWAYS AS (char(57344 + org % 6400,
                                 57344 + org / 6400 % 6400, 57344 + org / 40960000)) VIRTUAL,
                             PRIMARY KEY (org, id)) WITHOUT ROWID;
INSERT INTO search_text_041(org, id, kind, ticket, text)
    SELECT tickets.org_id, search_text.id, kind, ticket, text
        FROM search_text JOIN tickets ON tickets.id = search_text.ticket
        ORDER BY tickets.org_id, search_text.id;
DROP TABLE search_text;
ALTER TABLE search_text_041 RENAME TO search_text;
CREATE INDEX search_text_by_id ON search_text(id, ticket, kind);
