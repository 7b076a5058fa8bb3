-- SPDX-License-Identifier: MIT
-- 7: mailbox administration, as SQLite's 029: the team a mailbox's new
-- tickets go to, and when the fetcher last went to the server.
ALTER TABLE mailboxes ADD COLUMN team_id bigint REFERENCES teams(id);
ALTER TABLE mailboxes ADD COLUMN fetched_at bigint;
