-- SPDX-License-Identifier: MIT
-- 3: the watch list (服务黑名单), accident levels and the audit trail, with
-- the meaning of SQLite's migration 025 (docs/policy.md "The watch list",
-- "Accident levels", "The audit trail").
-- Settings of the deployment (whole numbers), with 025's defaults.
CREATE TABLE watch_settings(k text PRIMARY KEY, v bigint NOT NULL);
INSERT INTO watch_settings VALUES ('overruns', 3), ('window_months', 12),
    ('accident_major', 50000000), ('accident_serious', 0), ('accident_general', 1);
-- A flag on an organisation; at most one open flag per organisation.
CREATE TABLE watch_flags(id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs(id), flagged_at bigint NOT NULL, ticket_id bigint REFERENCES tickets(id), overrun_id bigint REFERENCES overruns(id), overruns bigint NOT NULL, window_from bigint NOT NULL, cleared_at bigint, cleared_by bigint REFERENCES users(id), reason text);
CREATE UNIQUE INDEX watch_flags_open ON watch_flags(org_id) WHERE cleared_at IS NULL;
CREATE INDEX watch_flags_by_org ON watch_flags(org_id, id);
-- The loss recorded on an overrun (minor units), who recorded it and when.
ALTER TABLE overruns ADD COLUMN loss bigint, ADD COLUMN loss_by bigint, ADD COLUMN loss_at bigint;
-- The audit trail: one deployment-wide hash chain (seq = id; hashed as a
-- ticket event with organisation 0, type "audit"), each hash a leaf of the
-- Merkle log. body: {"kind","object","action","before","after"} in
-- canonical JSON. Append-only: an UPDATE or DELETE raises.
CREATE TABLE audit(id bigint PRIMARY KEY, at bigint NOT NULL, actor bigint NOT NULL, kind text NOT NULL, object bigint NOT NULL DEFAULT 0, action text NOT NULL, body text NOT NULL, hash bytea NOT NULL);
CREATE INDEX audit_by_kind ON audit(kind, id);
CREATE INDEX audit_by_actor ON audit(actor, id);
CREATE FUNCTION kw_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION kw_audit_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION kw_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION kw_audit_append_only();
-- In-app notifications get the watch list's kind (SQLite's 025 rebuilds
-- the table for it; here the check is replaced).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('assigned', 'sla_warning', 'sla_breach', 'customer_reply', 'comment', 'state', 'watch_list'));
