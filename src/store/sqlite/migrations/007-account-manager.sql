-- SPDX-License-Identifier: MIT
-- 7: each customer organisation's account manager (escalations notify them)
ALTER TABLE orgs ADD COLUMN account_manager_id INTEGER REFERENCES users(id);
