-- SPDX-License-Identifier: MIT
-- 6: force majeure as an overrun reason (不可抗力), and the billing periods
-- closed, as SQLite's 028.
ALTER TABLE overruns DROP CONSTRAINT IF EXISTS overruns_reason_check;
ALTER TABLE overruns ADD CONSTRAINT overruns_reason_check CHECK (reason IN ('technology','staffing','process','customer','third_party','force_majeure'));
-- the billing periods the engine (or `keepword credits close`) closed, once each
CREATE TABLE period_closes(contract_id bigint NOT NULL REFERENCES contracts(id), period_end bigint NOT NULL, closed_at bigint NOT NULL, closed_by text NOT NULL, entries bigint NOT NULL, PRIMARY KEY (contract_id, period_end));
