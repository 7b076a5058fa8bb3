-- SPDX-License-Identifier: MIT
-- 34: the watch list's count on a range (#20).
-- kw_store_watch_count reads an organisation's overruns whose deadline falls
-- in the window: a range of this index, not every overrun it ever had.
CREATE INDEX overruns_by_org_deadline ON overruns(org_id, deadline);
