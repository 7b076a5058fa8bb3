-- SPDX-License-Identifier: MIT
-- 15: endpoints can be edited, disabled and deleted. A deleted endpoint
-- keeps its row (deleted_at) so that the outbox's history of what was sent
-- through it stays readable; it is no longer listed and receives nothing.
ALTER TABLE endpoints ADD COLUMN deleted_at INTEGER;
