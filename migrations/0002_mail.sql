-- 0002: the mail store. Mailboxes per account, message blobs stored once per
-- distinct content (SHA-256), the per-mailbox message rows IMAP sees (uid,
-- modseq, flags), expunge tombstones for CONDSTORE/QRESYNC, exact quota usage
-- and mailbox ACLs. See server/store/store-mail.h for the locking rules.
-- Never edit this file once it has landed: add a new migration instead.

-- UIDVALIDITY must grow whenever a name is reused (RFC 3501 2.3.1.1), also
-- across a dump and restore of an older database; one sequence for every
-- mailbox, started at the current Unix time, gives that. 32 bits last to 2106.
DO $$
BEGIN
	EXECUTE format('CREATE SEQUENCE mailbox_uidvalidity_seq AS bigint'
		       ' MINVALUE 1 MAXVALUE 4294967295 START %s',
		       extract(epoch FROM now())::bigint);
END
$$;

CREATE TABLE mailboxes (
	id bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	-- UTF-8, '/' separates levels; INBOX is always spelled "INBOX".
	name text NOT NULL
		CONSTRAINT mailboxes_name_syntax CHECK (name <> '' AND length(name) <= 512
			AND left(name, 1) <> '/' AND right(name, 1) <> '/'
			AND position('//' IN name) = 0),
	uidvalidity bigint NOT NULL DEFAULT nextval('mailbox_uidvalidity_seq'),
	uidnext bigint NOT NULL DEFAULT 1
		CONSTRAINT mailboxes_uidnext_range CHECK (uidnext BETWEEN 1 AND 4294967296),
	highestmodseq bigint NOT NULL DEFAULT 1,
	-- Messages with uid >= first_recent_uid are \Recent to the next session
	-- that claims them (store_mailbox_claim_recent moves it to uidnext).
	first_recent_uid bigint NOT NULL DEFAULT 1,
	special_use text
		CONSTRAINT mailboxes_special_use CHECK (special_use IN
			('\All', '\Archive', '\Drafts', '\Flagged', '\Junk', '\Sent', '\Trash')),
	subscribed boolean NOT NULL DEFAULT false,
	-- A deleted mailbox that still has children stays as a \Noselect name.
	noselect boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT mailboxes_account_name_key UNIQUE (account_id, name)
);

-- One row per distinct message content. raw is the message exactly as it was
-- received or imported (CRLF or LF as it came); the parsed columns are what
-- the gateways serve without parsing again. refcount counts mailbox_messages
-- rows and is kept by the triggers below; a blob whose count drops to 0 is
-- deleted in the same statement.
CREATE TABLE message_blobs (
	id bigserial PRIMARY KEY,
	sha256 bytea NOT NULL CONSTRAINT message_blobs_sha256_key UNIQUE
		CONSTRAINT message_blobs_sha256_length CHECK (length(sha256) = 32),
	size bigint NOT NULL CONSTRAINT message_blobs_size CHECK (size >= 0),
	lines bigint NOT NULL,
	raw bytea NOT NULL,
	envelope text NOT NULL,		-- IMAP ENVELOPE
	bodystructure text NOT NULL,	-- IMAP BODYSTRUCTURE (extended)
	body text NOT NULL,		-- IMAP BODY (non-extended)
	-- Decoded (RFC 2047) to UTF-8, for SEARCH and SORT.
	hdr_subject text,
	hdr_from text,
	hdr_to text,
	hdr_cc text,
	hdr_bcc text,
	hdr_date timestamptz,		-- NULL when absent or unparseable
	hdr_message_id text,
	hdr_in_reply_to text,
	hdr_references text,
	fts tsvector NOT NULL,		-- 'simple' config over headers and text parts
	refcount bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now()
);
-- lz4 compresses large messages several times faster than the default pglz;
-- a server built without lz4 keeps pglz.
DO $$
BEGIN
	ALTER TABLE message_blobs ALTER COLUMN raw SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
	RAISE NOTICE 'lz4 not available: message blobs use pglz';
END
$$;
CREATE INDEX message_blobs_fts ON message_blobs USING gin (fts);
CREATE INDEX message_blobs_hdr_date ON message_blobs (hdr_date);
CREATE INDEX message_blobs_message_id ON message_blobs (hdr_message_id);

CREATE TABLE mailbox_messages (
	mailbox_id bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid bigint NOT NULL CONSTRAINT mailbox_messages_uid_range CHECK (uid BETWEEN 1 AND 4294967295),
	modseq bigint NOT NULL,
	internaldate timestamptz NOT NULL,
	savedate timestamptz NOT NULL DEFAULT now(),
	-- 1 \Seen, 2 \Answered, 4 \Flagged, 8 \Deleted, 16 \Draft
	flags integer NOT NULL DEFAULT 0 CONSTRAINT mailbox_messages_flags CHECK (flags BETWEEN 0 AND 31),
	keywords text[] NOT NULL DEFAULT '{}',	-- sorted, no duplicates
	blob_id bigint NOT NULL REFERENCES message_blobs (id),
	size bigint NOT NULL,	-- = the blob's size, here so quota and STATUS need no join
	PRIMARY KEY (mailbox_id, uid)
);
-- CHANGEDSINCE / QRESYNC
CREATE INDEX mailbox_messages_modseq ON mailbox_messages (mailbox_id, modseq);
-- Blob references (refcount, "is this content already in the mailbox")
CREATE INDEX mailbox_messages_blob ON mailbox_messages (blob_id, mailbox_id);
-- SEARCH by date received / flags within a mailbox
CREATE INDEX mailbox_messages_internaldate ON mailbox_messages (mailbox_id, internaldate);
CREATE INDEX mailbox_messages_unseen ON mailbox_messages (mailbox_id, uid) WHERE flags & 1 = 0;

-- What VANISHED (RFC 7162) reports: uids expunged, with the modseq of the
-- expunge. Removed with their mailbox.
CREATE TABLE mailbox_expunged (
	mailbox_id bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid bigint NOT NULL,
	modseq bigint NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX mailbox_expunged_modseq ON mailbox_expunged (mailbox_id, modseq);

-- Exact usage per account, changed by the same transaction as the messages
-- (UPDATE ... SET bytes = bytes + n): its row lock serialises the quota check
-- of concurrent appends. Limits are accounts.quota_bytes/quota_messages.
CREATE TABLE mail_usage (
	account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	bytes bigint NOT NULL DEFAULT 0 CONSTRAINT mail_usage_bytes CHECK (bytes >= 0),
	messages bigint NOT NULL DEFAULT 0 CONSTRAINT mail_usage_messages CHECK (messages >= 0)
);
INSERT INTO mail_usage (account_id) SELECT id FROM accounts;

CREATE FUNCTION mail_usage_account_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO mail_usage (account_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
	RETURN NULL;
END
$$;
CREATE TRIGGER accounts_mail_usage AFTER INSERT ON accounts
	FOR EACH ROW EXECUTE FUNCTION mail_usage_account_added();

-- RFC 4314 rights per identifier ("anyone", an address, "-address" for
-- negative rights). The owner's rights are implicit and not stored.
CREATE TABLE mailbox_acl (
	mailbox_id bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	identifier text NOT NULL CONSTRAINT mailbox_acl_identifier CHECK (identifier <> ''),
	rights text NOT NULL CONSTRAINT mailbox_acl_rights CHECK (rights ~ '^[a-z0-9]*$'),
	PRIMARY KEY (mailbox_id, identifier)
);

-- Blob reference counting, one UPDATE per statement (not per row). Deleting
-- the last reference deletes the blob. A concurrent append that found the
-- blob holds FOR KEY SHARE on it, so the DELETE waits and then sees the new
-- reference (refcount > 0) and skips it.
CREATE FUNCTION message_blobs_ref() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE message_blobs b SET refcount = b.refcount + n.c
		FROM (SELECT blob_id, count(*) AS c FROM new_rows GROUP BY blob_id) n
		WHERE b.id = n.blob_id;
	RETURN NULL;
END
$$;
CREATE FUNCTION message_blobs_unref() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE message_blobs b SET refcount = b.refcount - o.c
		FROM (SELECT blob_id, count(*) AS c FROM old_rows GROUP BY blob_id) o
		WHERE b.id = o.blob_id;
	DELETE FROM message_blobs b WHERE b.id IN (SELECT blob_id FROM old_rows)
		AND b.refcount <= 0;
	RETURN NULL;
END
$$;
CREATE TRIGGER mailbox_messages_ref AFTER INSERT ON mailbox_messages
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION message_blobs_ref();
CREATE TRIGGER mailbox_messages_unref AFTER DELETE ON mailbox_messages
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION message_blobs_unref();
