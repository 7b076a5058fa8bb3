-- SPDX-License-Identifier: MIT
-- 11: due work claimed by a node (kw_store_due_claim): who holds the ticket's
-- due thresholds, and until when (a lease; a new projection ends it).
ALTER TABLE tickets ADD COLUMN claimed_by INTEGER; -- the node, hashed (tickets.c)
ALTER TABLE tickets ADD COLUMN claimed_until INTEGER;
