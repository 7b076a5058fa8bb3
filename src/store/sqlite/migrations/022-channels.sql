-- SPDX-License-Identifier: MIT
-- 20: monitoring intake. A source (Alertmanager, Grafana or the generic
-- events API) is authenticated by its own key (only the key's digest is
-- kept) and acts for the manager who created it; its defaults and mapping
-- rules say which organisation, team, category and level its tickets get.
-- An alert is one dedup key (fingerprint or dedup_key) of a source: the
-- ticket it opened, and whether it is still open there.
CREATE TABLE intake_sources(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL CHECK (kind IN ('alertmanager','grafana','events')), key_digest BLOB NOT NULL UNIQUE, acting_user INTEGER NOT NULL REFERENCES users(id), org_id INTEGER NOT NULL REFERENCES orgs(id), team_id INTEGER REFERENCES teams(id), category TEXT, level TEXT NOT NULL, rules TEXT NOT NULL DEFAULT '[]', on_resolve TEXT NOT NULL DEFAULT 'restored' CHECK (on_resolve IN ('restored','comment')), per_minute INTEGER NOT NULL DEFAULT 600, active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
CREATE TABLE alerts(source_id INTEGER NOT NULL REFERENCES intake_sources(id), dedup_key TEXT NOT NULL, ticket_id INTEGER NOT NULL REFERENCES tickets(id), open INTEGER NOT NULL, repeats INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL, PRIMARY KEY (source_id, dedup_key)) WITHOUT ROWID;
CREATE INDEX alerts_by_ticket ON alerts(ticket_id);
-- E-mail in: mailboxes a manager configured (fetched over IMAP), each mail
-- taken once (by Message-ID per mailbox), and the message ids of each
-- ticket's mail (in and out), which replies are threaded by.
CREATE TABLE mailboxes(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL, username TEXT NOT NULL, password TEXT NOT NULL, folder TEXT NOT NULL DEFAULT 'INBOX', acting_user INTEGER NOT NULL REFERENCES users(id), org_id INTEGER NOT NULL REFERENCES orgs(id), category TEXT, level TEXT NOT NULL, reply_from TEXT NOT NULL, unknown TEXT NOT NULL DEFAULT 'triage' CHECK (unknown IN ('triage','refuse')), max_bytes INTEGER NOT NULL, per_sender_hour INTEGER NOT NULL, poll_s INTEGER NOT NULL, uidvalidity INTEGER NOT NULL DEFAULT 0, last_uid INTEGER NOT NULL DEFAULT 0, last_error TEXT, active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
CREATE TABLE mails(mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id), message_id TEXT NOT NULL, uid INTEGER NOT NULL, sender TEXT, ticket_id INTEGER, outcome TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (mailbox_id, message_id)) WITHOUT ROWID;
CREATE INDEX mails_by_sender ON mails(mailbox_id, sender, at);
CREATE TABLE mail_ids(message_id TEXT PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets(id)) WITHOUT ROWID;
