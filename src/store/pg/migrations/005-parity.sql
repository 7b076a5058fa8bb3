-- SPDX-License-Identifier: MIT
-- 5: every table SQLite's schema (version 26) has that PostgreSQL lacked,
-- with the same meaning, constraints and append-only triggers, so that
-- `keepword copy` can move a whole desk: attachments and their bytes,
-- contracts and the credit ledger, monitoring intake, mailboxes, watchers
-- (and the notifications they get, as SQLite's 023/025 triggers), teams'
-- hourly costs, the search index (pg_trgm), and SQLite's other indexes.
-- Attachments (SQLite 018): rows never changed or deleted; bytes apart.
CREATE TABLE attachments(id bigserial PRIMARY KEY, ticket_id bigint NOT NULL REFERENCES tickets(id), name text NOT NULL, content_type text NOT NULL, declared_type text, size bigint NOT NULL, sha256 bytea NOT NULL, internal boolean NOT NULL DEFAULT false, comment_seq bigint, created_by bigint NOT NULL, created_at bigint NOT NULL);
CREATE INDEX attachments_by_ticket ON attachments(ticket_id, id);
CREATE TABLE attachment_blobs(attachment_id bigint PRIMARY KEY REFERENCES attachments(id), data bytea NOT NULL);
CREATE TRIGGER attachments_no_update BEFORE UPDATE ON attachments FOR EACH ROW EXECUTE FUNCTION kw_append_only('attachments');
CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments FOR EACH ROW EXECUTE FUNCTION kw_append_only('attachments');
CREATE TRIGGER attachment_blobs_no_update BEFORE UPDATE ON attachment_blobs FOR EACH ROW EXECUTE FUNCTION kw_append_only('attachments');
CREATE TRIGGER attachment_blobs_no_delete BEFORE DELETE ON attachment_blobs FOR EACH ROW EXECUTE FUNCTION kw_append_only('attachments');
-- Who a ticket is for (SQLite 019), and the KPI and time reads' indexes
-- (SQLite 017, 024).
CREATE INDEX tickets_by_requester ON tickets(requester_id) WHERE requester_id IS NOT NULL;
CREATE INDEX kpi_runs_open ON kpi_runs(deadline) WHERE stopped_at IS NULL AND breached_at IS NULL;
CREATE INDEX events_milestones ON events(at) WHERE type = 'milestone';
CREATE INDEX events_reopened ON events(at) WHERE type = 'reopened';
CREATE INDEX events_ratings ON events(at) WHERE type = 'rating';
CREATE INDEX events_time ON events(at) WHERE type = 'time_spent';
-- Contracts and the credit ledger (SQLite 020): one hash chain per
-- organisation, never updated or deleted; adjustments awaiting a second
-- manager (双签), decided once.
CREATE TABLE contracts(id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs(id), value bigint NOT NULL CHECK (value > 0), currency text NOT NULL, period_start bigint NOT NULL, period_end bigint NOT NULL, billing text NOT NULL CHECK (billing IN ('monthly','annual')), commitment_id bigint REFERENCES commitments(id), deposit_percent bigint, deposit_amount bigint, deposit_held bigint NOT NULL DEFAULT 0, dual_above bigint NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL, CHECK (period_end > period_start));
CREATE INDEX contracts_by_org ON contracts(org_id, period_start);
CREATE TABLE ledger(id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs(id), seq bigint NOT NULL, contract_id bigint REFERENCES contracts(id), kind text NOT NULL CHECK (kind IN ('accrual','adjustment','claim','settlement','remedy')), amount bigint NOT NULL DEFAULT 0, quantity bigint NOT NULL DEFAULT 0, against text CHECK (against IN ('invoice','deposit')), ticket_id bigint REFERENCES tickets(id), overrun_id bigint REFERENCES overruns(id), actor bigint NOT NULL, approved_by bigint, at bigint NOT NULL, body text NOT NULL, hash bytea NOT NULL, UNIQUE (org_id, seq));
CREATE INDEX ledger_by_contract ON ledger(contract_id, at);
CREATE INDEX ledger_by_overrun ON ledger(overrun_id) WHERE overrun_id IS NOT NULL;
CREATE FUNCTION kw_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only';
END $$;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger FOR EACH ROW EXECUTE FUNCTION kw_ledger_append_only();
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger FOR EACH ROW EXECUTE FUNCTION kw_ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger FOR EACH STATEMENT EXECUTE FUNCTION kw_ledger_append_only();
CREATE TABLE ledger_requests(id bigserial PRIMARY KEY, contract_id bigint NOT NULL REFERENCES contracts(id), amount bigint NOT NULL, reason text NOT NULL, ticket_id bigint REFERENCES tickets(id), requested_by bigint NOT NULL, requested_at bigint NOT NULL, decided_by bigint, decided_at bigint, approved boolean, entry_id bigint REFERENCES ledger(id));
-- Monitoring intake (SQLite 022): sources with their key's digest, and one
-- row per dedup key of a source with the ticket it opened.
CREATE TABLE intake_sources(id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, kind text NOT NULL CHECK (kind IN ('alertmanager','grafana','events')), key_digest bytea NOT NULL UNIQUE, acting_user bigint NOT NULL REFERENCES users(id), org_id bigint NOT NULL REFERENCES orgs(id), team_id bigint REFERENCES teams(id), category text, level text NOT NULL, rules text NOT NULL DEFAULT '[]', on_resolve text NOT NULL DEFAULT 'restored' CHECK (on_resolve IN ('restored','comment')), per_minute bigint NOT NULL DEFAULT 600, active boolean NOT NULL DEFAULT true, created_at bigint NOT NULL);
CREATE TABLE alerts(source_id bigint NOT NULL REFERENCES intake_sources(id), dedup_key text NOT NULL, ticket_id bigint NOT NULL REFERENCES tickets(id), open boolean NOT NULL, repeats bigint NOT NULL DEFAULT 0, updated_at bigint NOT NULL, PRIMARY KEY (source_id, dedup_key));
CREATE INDEX alerts_by_ticket ON alerts(ticket_id);
-- E-mail in and out (SQLite 022, 026): mailboxes, each mail taken once,
-- the message ids of each ticket's mail; a sending mailbox's endpoint.
CREATE TABLE mailboxes(id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, url text NOT NULL, username text NOT NULL, password text NOT NULL, folder text NOT NULL DEFAULT 'INBOX', acting_user bigint NOT NULL REFERENCES users(id), org_id bigint NOT NULL REFERENCES orgs(id), category text, level text NOT NULL, reply_from text NOT NULL, unknown text NOT NULL DEFAULT 'triage' CHECK (unknown IN ('triage','refuse')), max_bytes bigint NOT NULL, per_sender_hour bigint NOT NULL, poll_s bigint NOT NULL, uidvalidity bigint NOT NULL DEFAULT 0, last_uid bigint NOT NULL DEFAULT 0, last_error text, active boolean NOT NULL DEFAULT true, created_at bigint NOT NULL, smtp_url text, ack boolean NOT NULL DEFAULT false);
CREATE TABLE mails(mailbox_id bigint NOT NULL REFERENCES mailboxes(id), message_id text NOT NULL, uid bigint NOT NULL, sender text, ticket_id bigint, outcome text NOT NULL, at bigint NOT NULL, PRIMARY KEY (mailbox_id, message_id));
CREATE INDEX mails_by_sender ON mails(mailbox_id, sender, at);
CREATE INDEX mails_by_ticket ON mails(ticket_id) WHERE ticket_id IS NOT NULL;
CREATE TABLE mail_ids(message_id text PRIMARY KEY, ticket_id bigint NOT NULL REFERENCES tickets(id));
ALTER TABLE endpoints ADD COLUMN mailbox_id bigint;
-- A team's hourly cost (SQLite 024).
CREATE TABLE team_costs(team_id bigint PRIMARY KEY REFERENCES teams(id), hourly_minor bigint NOT NULL CHECK (hourly_minor >= 0), currency text NOT NULL, set_at bigint NOT NULL, set_by bigint NOT NULL);
-- Watchers (SQLite 023), and the notifications an event calls for with
-- them, as SQLite's 025 triggers: warnings and breaches and a customer's
-- public comment also reach the staff who watch; any other comment reaches
-- the watchers but its author (customers of the ticket's organisation only
-- public ones); a state change (a move or a reopen) the watchers but the
-- one who made it.
-- Whether a JSON value is true as SQLite's json_extract reads it in a
-- condition: true, or a number other than 0.
CREATE FUNCTION kw_truthy(v jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE jsonb_typeof(v) WHEN 'boolean' THEN v = 'true'::jsonb
                                WHEN 'number' THEN (v #>> '{}')::numeric <> 0
                                ELSE false END
$$;
CREATE TABLE watchers(ticket_id bigint NOT NULL REFERENCES tickets(id), user_id bigint NOT NULL REFERENCES users(id), added_by bigint NOT NULL, at bigint NOT NULL, PRIMARY KEY (ticket_id, user_id));
CREATE INDEX watchers_by_user ON watchers(user_id);
CREATE OR REPLACE FUNCTION kw_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    body jsonb := NEW.body::jsonb;
    internal boolean := kw_truthy(body->'internal');
    actor_role text := (SELECT role FROM users WHERE id = NEW.actor_id);
BEGIN
    IF NEW.type = 'assigned' AND body ? 'assignee_id' AND jsonb_typeof(body->'assignee_id') = 'number'
       AND (body->>'assignee_id')::bigint <> NEW.actor_id THEN
        INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at)
            SELECT id, NEW.ticket_id, NEW.seq, 'assigned', NEW.actor_id, NEW.at FROM users
            WHERE id = (body->>'assignee_id')::bigint AND role <> 'customer';
    ELSIF NEW.type IN ('sla_warning', 'sla_breach') THEN
        INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
            SELECT who, NEW.ticket_id, NEW.seq, NEW.type, NEW.actor_id, NEW.at, body->>'metric'
            FROM (SELECT assignee_id AS who FROM tickets
                  WHERE id = NEW.ticket_id AND assignee_id IS NOT NULL
                  UNION
                  SELECT w.user_id FROM watchers w JOIN users u ON u.id = w.user_id
                  WHERE w.ticket_id = NEW.ticket_id AND u.role <> 'customer'
                        AND u.deactivated_at IS NULL) s;
    ELSIF NEW.type = 'comment' THEN
        IF NOT internal AND actor_role = 'customer' THEN
            INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
                SELECT who, NEW.ticket_id, NEW.seq, 'customer_reply', NEW.actor_id, NEW.at,
                       substr(body->>'text', 1, 200)
                FROM (SELECT assignee_id AS who FROM tickets
                      WHERE id = NEW.ticket_id AND assignee_id IS NOT NULL
                      UNION
                      SELECT w.user_id FROM watchers w JOIN users u ON u.id = w.user_id
                      WHERE w.ticket_id = NEW.ticket_id AND u.role <> 'customer'
                            AND u.deactivated_at IS NULL) s;
        END IF;
        INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
            SELECT w.user_id, NEW.ticket_id, NEW.seq, 'comment', NEW.actor_id, NEW.at,
                   substr(body->>'text', 1, 200)
            FROM watchers w JOIN users u ON u.id = w.user_id JOIN tickets t ON t.id = w.ticket_id
            WHERE w.ticket_id = NEW.ticket_id AND w.user_id <> NEW.actor_id
                  AND u.deactivated_at IS NULL
                  AND CASE WHEN u.role = 'customer' THEN u.org_id = t.org_id AND NOT internal
                           ELSE internal OR coalesce(actor_role, '') <> 'customer' END;
    ELSIF NEW.type IN ('state', 'reopened') THEN
        INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
            SELECT w.user_id, NEW.ticket_id, NEW.seq, 'state', NEW.actor_id, NEW.at,
                   body->>'state'
            FROM watchers w JOIN users u ON u.id = w.user_id JOIN tickets t ON t.id = w.ticket_id
            WHERE w.ticket_id = NEW.ticket_id AND w.user_id <> NEW.actor_id
                  AND u.deactivated_at IS NULL AND (u.role <> 'customer' OR u.org_id = t.org_id);
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER events_notify ON events;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.type IN ('assigned', 'sla_warning', 'sla_breach', 'comment', 'state', 'reopened'))
    EXECUTE FUNCTION kw_notify_event();
-- Search (SQLite 019): one row per searchable text of a ticket, in the
-- order written (id: the highest are the newest, which the one- and
-- two-character search scans): its title ('title'), its description and
-- each public comment ('comment'), each internal note ('note'). pg_trgm's
-- trigram index finds any substring of three or more characters in any
-- script, case-insensitively, like SQLite's trigram tokenizer. A trigger
-- adds the rows in the transaction that appends the event; the backfill
-- indexes what older versions wrote.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE search(id bigserial PRIMARY KEY, ticket bigint NOT NULL, kind text NOT NULL CHECK (kind IN ('title','comment','note')), text text NOT NULL);
-- the operator class from wherever the extension lives (a database may
-- hold several desks, each in a schema of its own, and one pg_trgm)
DO $$
BEGIN
    EXECUTE format('CREATE INDEX search_trgm ON search USING gin (text %I.gin_trgm_ops)',
                   (SELECT n.nspname FROM pg_extension e
                    JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'));
END $$;
CREATE INDEX search_by_ticket ON search(ticket);
CREATE FUNCTION kw_search_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    body jsonb := NEW.body::jsonb;
BEGIN
    IF NEW.type = 'created' THEN
        IF jsonb_typeof(body->'title') = 'string' THEN
            INSERT INTO search(ticket, kind, text) VALUES (NEW.ticket_id, 'title', body->>'title');
        END IF;
        IF jsonb_typeof(body->'description') = 'string' THEN
            INSERT INTO search(ticket, kind, text)
                VALUES (NEW.ticket_id, 'comment', body->>'description');
        END IF;
    ELSIF jsonb_typeof(body->'text') = 'string' THEN
        INSERT INTO search(ticket, kind, text)
            VALUES (NEW.ticket_id,
                    CASE WHEN kw_truthy(body->'internal') THEN 'note'
                         ELSE 'comment' END,
                    body->>'text');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER events_search AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.type IN ('created', 'comment')) EXECUTE FUNCTION kw_search_event();
INSERT INTO search(ticket, kind, text)
    SELECT ticket_id, k, v FROM (
        SELECT at, ticket_id, seq, 0 AS part, body::jsonb->>'title' AS v, 'title' AS k,
               jsonb_typeof(body::jsonb->'title') AS t
            FROM events WHERE type = 'created'
        UNION ALL
        SELECT at, ticket_id, seq, 1, body::jsonb->>'description', 'comment',
               jsonb_typeof(body::jsonb->'description')
            FROM events WHERE type = 'created'
        UNION ALL
        SELECT at, ticket_id, seq, 0, body::jsonb->>'text',
               CASE WHEN kw_truthy(body::jsonb->'internal') THEN 'note'
                    ELSE 'comment' END,
               jsonb_typeof(body::jsonb->'text')
            FROM events WHERE type = 'comment') x
    WHERE t = 'string'
    ORDER BY at, ticket_id, seq, part;
