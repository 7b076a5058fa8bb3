-- SPDX-License-Identifier: MIT
-- 23: reserved for another branch of this session (numbers run without
-- gaps; 024-time.sql is dash's). Replaced by that branch's 023 at merge.
SELECT 1;
