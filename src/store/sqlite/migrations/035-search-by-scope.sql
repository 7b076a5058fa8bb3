-- SPDX-License-Identifier: MIT
-- 35: each organisation's texts together (#13). A search within one
-- organisation for a word of one or two characters reads its newest texts
-- (tickets.c, S_TICKETS_SCAN_ORG); through the FTS5 scope's doclist each
-- was a row of search_text on a page of its own (an organisation of 100
-- has one text in 100), 40,000 page reads for one search at 1,000,000
-- tickets. This index holds what that search reads, by organisation and
-- newest last, so that they are a few pages in a row.
CREATE INDEX search_text_by_scope ON search_text(scope, id, kind, ticket, text);
