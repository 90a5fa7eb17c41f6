-- 0011: IMAP METADATA (RFC 5464) entries on the server and on mailboxes.
-- A /shared entry is one row for everybody (account_id NULL); a /private
-- entry is one row per user who set it (account_id = that user). Entries
-- of a mailbox follow its id, so RENAME carries them over; they go with
-- the mailbox when it is deleted, also when DELETE leaves a \Noselect name
-- behind for its children (trigger below). Names are lower-case (the RFC
-- makes them case-insensitive); /private/specialuse and /shared/admin are
-- not stored here (mailboxes.special_use, the [imap] configuration).
-- SAVEDATE (RFC 8514) needs nothing new: mailbox_messages.savedate (0002)
-- defaults to the time of the INSERT, which every append, copy, move and
-- delivery performs. Never edit this file once it has landed.

CREATE TABLE metadata_entries (
	-- NULL: a server entry (GETMETADATA "")
	mailbox_id bigint REFERENCES mailboxes (id) ON DELETE CASCADE,
	-- /private entries: whose; NULL for /shared ones
	account_id bigint REFERENCES accounts (id) ON DELETE CASCADE,
	name text NOT NULL
		CONSTRAINT metadata_entries_name CHECK (name = lower(name)
			AND length(name) BETWEEN 2 AND 1024
			AND (name LIKE '/private/%' OR name LIKE '/shared/%')),
	value bytea NOT NULL,
	CONSTRAINT metadata_entries_scope CHECK ((account_id IS NULL) = (name LIKE '/shared/%'))
);
-- The one key (NULLs as 0) that SETMETADATA upserts on.
CREATE UNIQUE INDEX metadata_entries_key
	ON metadata_entries ((coalesce(mailbox_id, 0)), (coalesce(account_id, 0)), name);
-- For the cascades of a mailbox or an account delete.
CREATE INDEX metadata_entries_mailbox ON metadata_entries (mailbox_id) WHERE mailbox_id IS NOT NULL;
CREATE INDEX metadata_entries_account ON metadata_entries (account_id) WHERE account_id IS NOT NULL;

-- DELETE of a mailbox with children keeps the row as \Noselect: its
-- annotations go all the same (RFC 5464 3.3: they belong to the mailbox
-- that was deleted, not to a later one of that name).
CREATE FUNCTION metadata_entries_noselect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM metadata_entries WHERE mailbox_id = NEW.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER mailboxes_metadata_noselect AFTER UPDATE OF noselect ON mailboxes
	FOR EACH ROW WHEN (NEW.noselect AND NOT OLD.noselect)
	EXECUTE FUNCTION metadata_entries_noselect();
