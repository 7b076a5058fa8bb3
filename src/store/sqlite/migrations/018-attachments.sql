-- SPDX-License-Identifier: MIT
-- 18: attachments on tickets, and people and organisations that can be
-- edited and deactivated.
-- An attachment's row says what it is (the file name as given, the type
-- sniffed from its bytes, its size and SHA-256, whether it belongs to an
-- internal note); its bytes are a row of their own, so listing attachments
-- never reads them. Neither is ever changed or deleted: the ticket's
-- `attachment` event records the same SHA-256 in its hash chain.
CREATE TABLE attachments(id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets(id), name TEXT NOT NULL, content_type TEXT NOT NULL, declared_type TEXT, size INTEGER NOT NULL, sha256 BLOB NOT NULL, internal INTEGER NOT NULL DEFAULT 0, comment_seq INTEGER, created_by INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX attachments_by_ticket ON attachments(ticket_id, id);
CREATE TABLE attachment_blobs(attachment_id INTEGER PRIMARY KEY REFERENCES attachments(id), data BLOB NOT NULL);
CREATE TRIGGER attachments_no_update BEFORE UPDATE ON attachments BEGIN SELECT RAISE(ABORT, 'attachments are append-only'); END;
CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments BEGIN SELECT RAISE(ABORT, 'attachments are append-only'); END;
CREATE TRIGGER attachment_blobs_no_update BEFORE UPDATE ON attachment_blobs BEGIN SELECT RAISE(ABORT, 'attachments are append-only'); END;
CREATE TRIGGER attachment_blobs_no_delete BEFORE DELETE ON attachment_blobs BEGIN SELECT RAISE(ABORT, 'attachments are append-only'); END;
-- People: their language and time zone (NULL: the browser's), and when
-- they were deactivated (NULL: active). A deactivated person's tokens are
-- revoked at that moment; nothing of theirs is deleted.
ALTER TABLE users ADD COLUMN lang TEXT CHECK (lang IS NULL OR lang IN ('zh', 'en'));
ALTER TABLE users ADD COLUMN tz TEXT;
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
-- Organisations: deactivated_at (NULL: active); its customers cannot log in
-- meanwhile and no new ticket is opened for it.
ALTER TABLE orgs ADD COLUMN deactivated_at INTEGER;
