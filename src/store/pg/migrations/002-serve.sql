-- SPDX-License-Identifier: MIT
-- 2: what `keepword serve` needs for the core desk, with the meaning of the
-- SQLite tables of the same names: tokens (sessions and API tokens, by
-- digest), calendars and their versions, the clock projection and the
-- engine's schedule (fire_at, projected_seq) with its claims, on-call
-- rotas, endpoints, the outbox and people's subscriptions, overruns, the
-- KPI runs, saved views and staff notifications (written by triggers with
-- the events that call for them, as SQLite's migration 021).
CREATE TABLE tokens(id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), hash bytea NOT NULL UNIQUE, kind text NOT NULL CHECK (kind IN ('session','api')), label text, created_at bigint NOT NULL, expires_at bigint, revoked_at bigint);
CREATE INDEX tokens_by_user ON tokens(user_id, id);
CREATE TABLE calendars(id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, spec text NOT NULL, created_at bigint NOT NULL);
CREATE TABLE calendar_versions(calendar_id bigint NOT NULL REFERENCES calendars(id), version bigint NOT NULL, spec text NOT NULL, saved_at bigint NOT NULL, PRIMARY KEY (calendar_id, version));
ALTER TABLE tickets ADD COLUMN fire_at bigint;
ALTER TABLE tickets ADD COLUMN projected_seq bigint NOT NULL DEFAULT 0;
CREATE INDEX tickets_fire ON tickets(fire_at) WHERE fire_at IS NOT NULL;
CREATE INDEX tickets_stale ON tickets(id) WHERE projected_seq <> last_seq;
CREATE INDEX tickets_by_assignee ON tickets(assignee_id, id) WHERE assignee_id IS NOT NULL;
CREATE TABLE clocks(ticket_id bigint NOT NULL REFERENCES tickets(id), metric text NOT NULL, status text NOT NULL, deadline bigint, next_due bigint, next_pct integer, PRIMARY KEY (ticket_id, metric));
-- a node's claim on a ticket's due work until `until` (kw_store_due_claim)
CREATE TABLE claims(ticket bigint PRIMARY KEY, node bigint NOT NULL, until bigint NOT NULL);
CREATE TABLE oncall(id bigserial PRIMARY KEY, name text NOT NULL, team_id bigint NOT NULL REFERENCES teams(id), level integer NOT NULL DEFAULT 1, spec text NOT NULL, created_at bigint NOT NULL, UNIQUE (team_id, level));
CREATE TABLE endpoints(id bigserial PRIMARY KEY, name text NOT NULL, kind text NOT NULL CHECK (kind IN ('webhook','email','dingtalk','feishu','wecom')), url text NOT NULL, secret text, events text NOT NULL DEFAULT '[]', org_id bigint REFERENCES orgs(id), team_id bigint REFERENCES teams(id), active boolean NOT NULL DEFAULT true, created_at bigint NOT NULL, deleted_at bigint);
CREATE TABLE outbox(id bigserial PRIMARY KEY, endpoint_id bigint NOT NULL REFERENCES endpoints(id), kind text NOT NULL, ticket_id bigint, payload text NOT NULL, idem_key text NOT NULL, state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','dead')), attempts integer NOT NULL DEFAULT 0, next_at bigint NOT NULL, last_error text, created_at bigint NOT NULL, delivered_at bigint, user_id bigint REFERENCES users(id), leased_by bigint, leased_until bigint, UNIQUE (endpoint_id, idem_key));
-- leased_by, leased_until: the connection (pg_backend_pid) a due notification
-- was handed to, and until when (kw_store_outbox_due)
CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state = 'pending';
CREATE TABLE subscriptions(id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), endpoint_id bigint NOT NULL REFERENCES endpoints(id), events text NOT NULL DEFAULT '[]', org_id bigint REFERENCES orgs(id), team_id bigint REFERENCES teams(id), quiet_tz text, quiet_from integer, quiet_to integer, created_at bigint NOT NULL, lang text CHECK (lang IN ('zh','en')), UNIQUE (user_id, endpoint_id));
CREATE TABLE overruns(id bigserial PRIMARY KEY, ticket_id bigint NOT NULL REFERENCES tickets(id), org_id bigint NOT NULL, commitment_id bigint, metric text NOT NULL, deadline bigint NOT NULL, stopped_at bigint, recorded_at bigint NOT NULL, reason text CHECK (reason IN ('technology','staffing','process','customer','third_party')), note text, explained_by bigint, explained_at bigint, rca text, action text, owner_id bigint REFERENCES users(id), due bigint, done_at bigint, UNIQUE (ticket_id, metric, deadline));
CREATE INDEX overruns_by_org ON overruns(org_id, id);
CREATE TABLE kpi_runs(ticket_id bigint NOT NULL REFERENCES tickets(id), metric text NOT NULL, run integer NOT NULL, org_id bigint NOT NULL, commitment_id bigint, status text NOT NULL, started_at bigint NOT NULL, stopped_at bigint, deadline bigint, breached_at bigint, target bigint NOT NULL, working bigint NOT NULL, wall bigint NOT NULL, paused_wall bigint NOT NULL, measured_at bigint NOT NULL, steady_from bigint NOT NULL, calendar text, level text, tier text, organisation text, team_id bigint, assignee_id bigint, category text, region text, channel text, PRIMARY KEY (ticket_id, metric, run));
CREATE INDEX kpi_runs_by_stop ON kpi_runs(stopped_at) WHERE stopped_at IS NOT NULL;
CREATE INDEX kpi_runs_by_breach ON kpi_runs(breached_at) WHERE breached_at IS NOT NULL;
CREATE TABLE views(id bigserial PRIMARY KEY, owner_id bigint NOT NULL REFERENCES users(id), team_id bigint REFERENCES teams(id), name text NOT NULL, filters text NOT NULL DEFAULT '{}', sort text, columns text NOT NULL DEFAULT '[]', created_at bigint NOT NULL, updated_at bigint NOT NULL, UNIQUE (owner_id, name));
CREATE INDEX views_by_team ON views(team_id) WHERE team_id IS NOT NULL;
CREATE TABLE notifications(id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), ticket_id bigint NOT NULL REFERENCES tickets(id), seq bigint NOT NULL, kind text NOT NULL CHECK (kind IN ('assigned', 'sla_warning', 'sla_breach', 'customer_reply')), actor_id bigint NOT NULL, at bigint NOT NULL, detail text, read_at bigint);
CREATE INDEX notifications_by_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
-- the notifications an event calls for, in its transaction (SQLite's
-- notify_assigned, notify_clock and notify_reply triggers in one)
CREATE FUNCTION kw_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    body jsonb := NEW.body::jsonb;
BEGIN
    IF NEW.type = 'assigned' AND body ? 'assignee_id' AND jsonb_typeof(body->'assignee_id') = 'number'
       AND (body->>'assignee_id')::bigint <> NEW.actor_id THEN
        INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at)
            SELECT id, NEW.ticket_id, NEW.seq, 'assigned', NEW.actor_id, NEW.at FROM users
            WHERE id = (body->>'assignee_id')::bigint AND role <> 'customer';
    ELSIF NEW.type IN ('sla_warning', 'sla_breach') THEN
        INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
            SELECT assignee_id, id, NEW.seq, NEW.type, NEW.actor_id, NEW.at, body->>'metric'
            FROM tickets WHERE id = NEW.ticket_id AND assignee_id IS NOT NULL;
    ELSIF NEW.type = 'comment' AND NOT coalesce((body->>'internal')::boolean, false)
          AND (SELECT role FROM users WHERE id = NEW.actor_id) = 'customer' THEN
        INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)
            SELECT assignee_id, id, NEW.seq, 'customer_reply', NEW.actor_id, NEW.at,
                   substr(body->>'text', 1, 200)
            FROM tickets WHERE id = NEW.ticket_id AND assignee_id IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.type IN ('assigned', 'sla_warning', 'sla_breach', 'comment'))
    EXECUTE FUNCTION kw_notify_event();
