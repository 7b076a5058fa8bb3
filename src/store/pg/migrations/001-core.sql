-- SPDX-License-Identifier: MIT
-- 1: the PostgreSQL schema's first step, with the meaning of the SQLite
-- tables of the same names (src/store/sqlite/migrations/, as of SQLite's
-- version 19): organisations, the people they refer to, commitments,
-- tickets and their append-only hash-chained events, the change log and the
-- Merkle log's leaves and nodes. Instants are UTC seconds (bigint), hashes
-- bytea. The other tables come with the calls that use them.
CREATE TABLE teams(id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, lead_id bigint, created_at bigint NOT NULL DEFAULT 0);
CREATE TABLE orgs(id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, tier text, region text, calendar text, contract_value_cents bigint NOT NULL DEFAULT 0, created_at bigint NOT NULL, account_manager_id bigint, deactivated_at bigint);
CREATE TABLE users(id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, role text NOT NULL CHECK (role IN ('admin','manager','agent','customer')), org_id bigint REFERENCES orgs(id), team_id bigint REFERENCES teams(id), skills text NOT NULL DEFAULT '[]', password_hash text, created_at bigint NOT NULL, lang text CHECK (lang IS NULL OR lang IN ('zh', 'en')), tz text, deactivated_at bigint);
ALTER TABLE orgs ADD FOREIGN KEY (account_manager_id) REFERENCES users(id);
ALTER TABLE teams ADD FOREIGN KEY (lead_id) REFERENCES users(id);
CREATE TABLE commitments(id bigserial PRIMARY KEY, name text NOT NULL, version text NOT NULL, effective_from bigint NOT NULL, doc text NOT NULL, created_at bigint NOT NULL, UNIQUE (name, version));
CREATE TABLE tickets(id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs(id), commitment_id bigint REFERENCES commitments(id), title text NOT NULL, state text NOT NULL, level text NOT NULL, tier text, category text, region text, channel text, assignee_id bigint REFERENCES users(id), team_id bigint REFERENCES teams(id), created_by bigint, requester_id bigint REFERENCES users(id), idempotency_key text, request_digest bytea, created_at bigint NOT NULL, updated_at bigint NOT NULL, last_seq bigint NOT NULL, head_hash bytea NOT NULL, next_due bigint, breached_at bigint, UNIQUE (created_by, idempotency_key));
CREATE INDEX tickets_by_org ON tickets(org_id, id);
CREATE INDEX tickets_by_due ON tickets(next_due) WHERE next_due IS NOT NULL;
CREATE TABLE events(ticket_id bigint NOT NULL REFERENCES tickets(id), seq bigint NOT NULL, at bigint NOT NULL, type text NOT NULL, actor_id bigint NOT NULL DEFAULT 0, body text NOT NULL, hash bytea NOT NULL, PRIMARY KEY (ticket_id, seq));
CREATE FUNCTION kw_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are append-only', TG_ARGV[0];
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION kw_append_only('events');
CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION kw_append_only('events');
-- the change log: seq from a sequence, so numbers are unique across nodes
-- but not always in commit order (store.h: readers look for gaps)
CREATE TABLE changes(seq bigserial PRIMARY KEY, ticket bigint NOT NULL, at bigint NOT NULL);
-- the Merkle log (docs/receipts.md): leaves are appended under an advisory
-- lock held to the end of the transaction, so idx is gapless across nodes
CREATE TABLE log_leaves(idx bigint PRIMARY KEY, kind text NOT NULL, ticket bigint, seq bigint, data bytea NOT NULL);
CREATE INDEX log_leaves_event ON log_leaves(ticket, seq) WHERE kind = 'event';
CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves FOR EACH ROW EXECUTE FUNCTION kw_append_only('log leaves');
CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves FOR EACH ROW EXECUTE FUNCTION kw_append_only('log leaves');
CREATE TABLE log_nodes(level int NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (level, idx));
CREATE TRIGGER log_nodes_no_update BEFORE UPDATE ON log_nodes FOR EACH ROW EXECUTE FUNCTION kw_append_only('log nodes');
CREATE TABLE log_checkpoints(size bigint PRIMARY KEY, at bigint NOT NULL, note text NOT NULL);
