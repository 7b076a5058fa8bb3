-- SPDX-License-Identifier: MIT
-- 30: the service receipt issued at a ticket's closure (docs/receipts.md).
-- The row is written in the transaction that closes the ticket (its state
-- becomes archived), pending; the receipt's bytes are kept once made and
-- never change after (a trigger refuses it), nor is a receipt deleted.
CREATE TABLE receipts(ticket_id INTEGER NOT NULL REFERENCES tickets(id), seq INTEGER NOT NULL, closed_at INTEGER NOT NULL, issued_at INTEGER, tree_size INTEGER, receipt_hash TEXT, body TEXT, PRIMARY KEY (ticket_id, seq)) WITHOUT ROWID;
CREATE INDEX receipts_pending ON receipts(closed_at, ticket_id) WHERE body IS NULL;
CREATE TRIGGER receipts_kept BEFORE UPDATE ON receipts WHEN OLD.body IS NOT NULL BEGIN SELECT RAISE(ABORT, 'an issued receipt is kept as issued'); END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts BEGIN SELECT RAISE(ABORT, 'receipts are kept'); END;
