-- SPDX-License-Identifier: MIT
-- 9: links between tickets and canned replies, as SQLite's 031, so that
-- keepword copy keeps them. The PostgreSQL backend does not link, merge or
-- fill canned replies yet (tests/pg/gaps.sh lists kw_store_link_add and its kin).
CREATE TABLE ticket_links(from_id bigint NOT NULL REFERENCES tickets(id), to_id bigint NOT NULL REFERENCES tickets(id), kind text NOT NULL CHECK (kind IN ('duplicate', 'related', 'merged')), created_by bigint NOT NULL, at bigint NOT NULL, PRIMARY KEY (from_id, to_id), CHECK (from_id <> to_id), CHECK (kind <> 'related' OR from_id < to_id));
CREATE INDEX ticket_links_to ON ticket_links(to_id);
CREATE UNIQUE INDEX ticket_links_merged ON ticket_links(from_id) WHERE kind = 'merged';
CREATE FUNCTION kw_link_merged_stays() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a merge is never undone';
END $$;
CREATE TRIGGER ticket_links_merged_stays BEFORE DELETE ON ticket_links
    FOR EACH ROW WHEN (OLD.kind = 'merged') EXECUTE FUNCTION kw_link_merged_stays();
CREATE TABLE canned_replies(id bigserial PRIMARY KEY, team_id bigint NOT NULL REFERENCES teams(id), name text NOT NULL, body_zh text NOT NULL, body_en text NOT NULL, created_by bigint NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL, UNIQUE (team_id, name));
