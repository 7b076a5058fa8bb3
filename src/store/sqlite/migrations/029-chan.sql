-- SPDX-License-Identifier: MIT
-- 29: mailbox administration. A mailbox's new tickets may go to a team
-- (team_id, NULL: none), and the fetcher records when it last went to the
-- server (fetched_at, UTC seconds; last_error says how that went).
ALTER TABLE mailboxes ADD COLUMN team_id INTEGER REFERENCES teams(id);
ALTER TABLE mailboxes ADD COLUMN fetched_at INTEGER;
