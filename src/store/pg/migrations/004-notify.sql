-- SPDX-License-Identifier: MIT
-- 4: the change log announces itself to every node. Each statement that
-- adds changes sends NOTIFY kw_changes with the newest seq it added, from
-- the writing transaction, so PostgreSQL delivers it at commit (never after
-- a rollback) to each node's listening connection (nodes.c). The payload is
-- a number, far below NOTIFY's 8,000 bytes: a wake-up only, since
-- notifications are not replayed; the change log stays the truth. Changes
-- are added under the log's advisory lock, held to commit (kwp_append), so
-- their seq order is their commit order across nodes.
CREATE FUNCTION kw_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kw_changes', (SELECT max(seq)::text FROM added));
    RETURN NULL;
END $$;
CREATE TRIGGER changes_notify AFTER INSERT ON changes REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION kw_changes_notify();
