-- SPDX-License-Identifier: MIT
-- 41: each searchable text written once (#13). search_text was a rowid
-- table and search_text_by_scope (migration 035) a covering index holding
-- every column again, so each text was written twice (a quarter of what
-- an indexed create cost). The texts now live by organisation and id, in
-- a table without rowid keyed (scope, id): an organisation's texts are
-- pages in a row, as the index made them; search_text_by_id, narrow,
-- finds a text by its id (the FTS5 index's rowid, content_rowid = 'id')
-- and the newest id. The ids, and so the FTS5 index, are unchanged.
CREATE TABLE search_text_041(scope TEXT NOT NULL, id INTEGER NOT NULL, kind TEXT NOT NULL,
                             ticket INTEGER NOT NULL, text TEXT NOT NULL,
                             PRIMARY KEY (scope, id)) WITHOUT ROWID;
INSERT INTO search_text_041(scope, id, kind, ticket, text)
    SELECT coalesce(scope, ''), id, kind, ticket, text FROM search_text ORDER BY scope, id;
DROP TABLE search_text;
ALTER TABLE search_text_041 RENAME TO search_text;
CREATE INDEX search_text_by_id ON search_text(id, ticket, kind);
