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
