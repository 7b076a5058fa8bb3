-- SPDX-License-Identifier: MIT
-- 14: a ticket created with an Idempotency-Key keeps the digest of the
-- request that created it (BLAKE2b-256 of the canonical request, made by the
-- application layer), so that the same key with a different request can be
-- refused instead of answering with the first ticket. Older rows have none.
ALTER TABLE tickets ADD COLUMN request_digest BLOB;
