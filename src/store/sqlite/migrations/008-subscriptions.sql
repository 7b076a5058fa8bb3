-- SPDX-License-Identifier: MIT
-- 8: people's own subscriptions, with quiet hours; notifications for a person
CREATE TABLE subscriptions(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), endpoint_id INTEGER NOT NULL REFERENCES endpoints(id), events TEXT NOT NULL DEFAULT '[]', org_id INTEGER REFERENCES orgs(id), team_id INTEGER REFERENCES teams(id), quiet_tz TEXT, quiet_from INTEGER, quiet_to INTEGER, created_at INTEGER NOT NULL, UNIQUE (user_id, endpoint_id));
ALTER TABLE outbox ADD COLUMN user_id INTEGER REFERENCES users(id);
