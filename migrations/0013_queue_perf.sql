-- 0013: the outbound queue at relay rates (issue 9).
-- Never edit this file once it has landed: add a new migration instead.

-- The NOTIFY of 0006 fired in every transaction that queued mail. A
-- transaction that notifies holds a database-wide lock from its commit
-- until the commit is flushed, so every SMTP delivery for a remote
-- recipient waited for the previous one's WAL flush: no group commit. The
-- node that accepts a message now wakes its own runners in the process, and
-- a node without runners sends the NOTIFY after its commit, in a
-- transaction of its own that does not wait for a flush
-- (server/deliver/deliver.c); `cairnctl queue flush` still notifies.
DROP TRIGGER queue_recipients_notify ON queue_recipients;
DROP FUNCTION queue_recipients_notify();

-- Deleting a blob checks that no queued message still refers to it (the
-- foreign key of 0005); without an index that check read the whole
-- queue_messages table for every blob that any delivery or expunge freed.
CREATE INDEX queue_messages_blob ON queue_messages (blob_id);
