-- SPDX-License-Identifier: MIT
-- 10: the watch list's count on a range (#20), as SQLite's 034.
CREATE INDEX overruns_by_org_deadline ON overruns(org_id, deadline);
