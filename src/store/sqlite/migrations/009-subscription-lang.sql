-- SPDX-License-Identifier: MIT
-- 9: the language a person's notifications are written in (NULL: both)
ALTER TABLE subscriptions ADD COLUMN lang TEXT CHECK (lang IN ('zh','en'));
