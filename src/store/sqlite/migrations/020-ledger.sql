-- SPDX-License-Identifier: MIT
-- 20: contracts per organisation and the credit ledger (docs/policy.md
-- "Contracts" and "The credit ledger").
-- A contract: its value per billing period in minor units of currency, the
-- period it runs, the commitment it follows, the service deposit it requires
-- (a whole percent of the value or an amount) and what is held, and the
-- amount above which a manual adjustment needs a second manager (双签).
CREATE TABLE contracts(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id), value INTEGER NOT NULL CHECK (value > 0), currency TEXT NOT NULL, period_start INTEGER NOT NULL, period_end INTEGER NOT NULL, billing TEXT NOT NULL CHECK (billing IN ('monthly','annual')), commitment_id INTEGER REFERENCES commitments(id), deposit_percent INTEGER, deposit_amount INTEGER, deposit_held INTEGER NOT NULL DEFAULT 0, dual_above INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, CHECK (period_end > period_start));
CREATE INDEX contracts_by_org ON contracts(org_id, period_start);
-- The ledger: one hash chain per organisation (seq from 1; hash as a ticket
-- event's, core/event.h, with the organisation in the ticket's place), each
-- entry also a leaf of the Merkle log. Never updated or deleted.
CREATE TABLE ledger(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id), seq INTEGER NOT NULL, contract_id INTEGER REFERENCES contracts(id), kind TEXT NOT NULL CHECK (kind IN ('accrual','adjustment','claim','settlement','remedy')), amount INTEGER NOT NULL DEFAULT 0, quantity INTEGER NOT NULL DEFAULT 0, against TEXT CHECK (against IN ('invoice','deposit')), ticket_id INTEGER REFERENCES tickets(id), overrun_id INTEGER REFERENCES overruns(id), actor INTEGER NOT NULL, approved_by INTEGER, at INTEGER NOT NULL, body TEXT NOT NULL, hash BLOB NOT NULL, UNIQUE (org_id, seq));
CREATE INDEX ledger_by_contract ON ledger(contract_id, at);
CREATE INDEX ledger_by_overrun ON ledger(overrun_id) WHERE overrun_id IS NOT NULL;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
-- Adjustments waiting for a second manager (双签): decided once.
CREATE TABLE ledger_requests(id INTEGER PRIMARY KEY, contract_id INTEGER NOT NULL REFERENCES contracts(id), amount INTEGER NOT NULL, reason TEXT NOT NULL, ticket_id INTEGER REFERENCES tickets(id), requested_by INTEGER NOT NULL, requested_at INTEGER NOT NULL, decided_by INTEGER, decided_at INTEGER, approved INTEGER, entry_id INTEGER REFERENCES ledger(id));
