-- SPDX-License-Identifier: MIT
-- 8: the receipts issued at a ticket's closure, as SQLite's 030, so that
-- keepword copy keeps them (docs/receipts.md). The PostgreSQL backend does
-- not issue them yet (tests/pg/gaps.sh lists kw_store_receipts and its kin).
CREATE TABLE receipts(ticket_id bigint NOT NULL REFERENCES tickets(id), seq bigint NOT NULL, closed_at bigint NOT NULL, issued_at bigint, tree_size bigint, receipt_hash text, body text, PRIMARY KEY (ticket_id, seq));
CREATE INDEX receipts_pending ON receipts(closed_at, ticket_id) WHERE body IS NULL;
CREATE FUNCTION kw_receipt_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.body IS NOT NULL THEN
        RAISE EXCEPTION 'an issued receipt is kept as issued';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER receipts_kept BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION kw_receipt_kept();
