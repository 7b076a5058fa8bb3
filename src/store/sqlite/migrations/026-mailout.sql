-- SPDX-License-Identifier: MIT
-- 26: mail out. A mailbox may send: staff replies on tickets its mail
-- opened go to the requester through its SMTP server (smtp_url, its
-- login the mailbox's), and, with ack, new tickets by mail are
-- acknowledged. Each sending mailbox has an e-mail endpoint of its own
-- (endpoints.mailbox_id), so its mail waits in the outbox (exactly once,
-- retried) like any notification; those endpoints are not listed with the
-- notification endpoints and receive no notifications.
ALTER TABLE mailboxes ADD COLUMN smtp_url TEXT;
ALTER TABLE mailboxes ADD COLUMN ack INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN mailbox_id INTEGER;
-- a ticket's mail: which mailbox answers it, who reads it
CREATE INDEX mails_by_ticket ON mails(ticket_id) WHERE ticket_id IS NOT NULL;
