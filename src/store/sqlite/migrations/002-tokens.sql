-- SPDX-License-Identifier: MIT
-- 2: session and API tokens, stored as hashes only
CREATE TABLE tokens(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), hash BLOB NOT NULL UNIQUE, kind TEXT NOT NULL CHECK (kind IN ('session','api')), label TEXT, created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);
