-- SPDX-License-Identifier: MIT
-- 6: force majeure as an overrun reason (不可抗力), as SQLite's 028.
ALTER TABLE overruns DROP CONSTRAINT IF EXISTS overruns_reason_check;
ALTER TABLE overruns ADD CONSTRAINT overruns_reason_check CHECK (reason IN ('technology','staffing','process','customer','third_party','force_majeure'));
