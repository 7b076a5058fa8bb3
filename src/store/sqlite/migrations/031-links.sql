-- SPDX-License-Identifier: MIT
-- 31: links between tickets and canned replies.
-- A link is one row: "duplicate" from the duplicate to its original,
-- "related" from the lower id to the higher (it has no direction), and
-- "merged" from a duplicate merged into its original (never removed). One
-- link per pair of tickets; the `linked`, `unlinked` and `merged` events on
-- both tickets keep the history.
CREATE TABLE ticket_links(
    from_id INTEGER NOT NULL REFERENCES tickets(id),
    to_id INTEGER NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL CHECK (kind IN ('duplicate', 'related', 'merged')),
    created_by INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id),
    CHECK (from_id <> to_id),
    CHECK (kind <> 'related' OR from_id < to_id));
CREATE INDEX ticket_links_to ON ticket_links(to_id);
CREATE UNIQUE INDEX ticket_links_merged ON ticket_links(from_id) WHERE kind = 'merged';
CREATE TRIGGER ticket_links_merged_stays BEFORE DELETE ON ticket_links WHEN old.kind = 'merged'
BEGIN
    SELECT RAISE(ABORT, 'a merge is never undone');
END;
-- Canned replies: a team's texts in Chinese and English with placeholders
-- ({{ticket.id}}...: app/canned.h), filled in when a reply is taken.
CREATE TABLE canned_replies(
    id INTEGER PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    body_zh TEXT NOT NULL,
    body_en TEXT NOT NULL,
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (team_id, name));
