-- SPDX-License-Identifier: MIT
-- 19: search, and who a ticket is for.
-- One row per searchable text of a ticket: its title (kind 'title', from the
-- created event), its description (given with the ticket by staff who log
-- a call: 'comment'), each public comment ('comment') and each internal note
-- ('note'), in the order written, so that the highest rowids are the newest
-- texts (the one- and two-character search scans only the newest). The
-- trigram tokenizer finds any substring of three or more characters in any
-- script, case-insensitively. events.c adds a row in the transaction that
-- appends the event; the backfill below indexes what older builds wrote.
CREATE VIRTUAL TABLE search USING fts5(text, ticket UNINDEXED, kind UNINDEXED, tokenize = 'trigram');
INSERT INTO search(text, ticket, kind)
    SELECT v, ticket_id, k FROM (
        SELECT at, ticket_id, seq, 0 AS part, json_extract(body, '$.title') AS v, 'title' AS k
            FROM events WHERE type = 'created'
        UNION ALL
        SELECT at, ticket_id, seq, 1, json_extract(body, '$.description'), 'comment'
            FROM events WHERE type = 'created'
        UNION ALL
        SELECT at, ticket_id, seq, 0, json_extract(body, '$.text'),
               CASE WHEN json_extract(body, '$.internal') THEN 'note' ELSE 'comment' END
            FROM events WHERE type = 'comment')
    WHERE typeof(v) = 'text'
    ORDER BY at, ticket_id, seq, part;
-- The customer a ticket is for (a user of its organisation): whoever opened
-- it when a customer did, else the one staff named when logging it.
ALTER TABLE tickets ADD COLUMN requester_id INTEGER REFERENCES users(id);
UPDATE tickets SET requester_id = created_by
    WHERE created_by IN (SELECT id FROM users WHERE role = 'customer');
CREATE INDEX tickets_by_requester ON tickets(requester_id) WHERE requester_id IS NOT NULL;
