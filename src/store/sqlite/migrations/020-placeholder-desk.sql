-- SPDX-License-Identifier: MIT
-- 20: intentionally empty on the desk branch. Number 20 belongs to a branch
-- merged before this one (migrations are numbered without gaps); the lead
-- drops this file when merging and renumbers 021-desk.sql as needed.
SELECT 1;
