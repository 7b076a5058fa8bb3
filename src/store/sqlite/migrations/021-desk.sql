-- SPDX-License-Identifier: MIT
-- 21: saved views of the ticket list. A view is a person's (owner_id) or,
-- with team_id, shared with everyone of that team. filters is a JSON object
-- of the list's filters, columns a JSON array of the columns shown, sort
-- the column the list is sorted by ("-" first: descending; NULL: the
-- list's default). Names are unique per owner.
CREATE TABLE views(
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    team_id INTEGER REFERENCES teams(id),
    name TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    sort TEXT,
    columns TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner_id, name));
CREATE INDEX views_by_team ON views(team_id) WHERE team_id IS NOT NULL;
