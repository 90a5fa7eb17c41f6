-- 0008: shared and public folders (RFC 4314 ACLs). Public folders belong
-- to the organisation: one pseudo-account of kind 'public' with no domain
-- and no password, which cannot log in and receives no mail (created with
-- the first public folder); its mailboxes appear to users as
-- "Shared/<name>" and its quota is the public folders' quota. A user's own
-- \Seen on a mailbox he does not own is kept apart from the owner's
-- (mailbox_user_seen), so every reader of a shared folder has his own read
-- state; his subscriptions likewise. See docs/shared-folders.md.
-- Never edit this file once it has landed: add a new migration instead.

ALTER TABLE accounts
	ADD COLUMN kind text NOT NULL DEFAULT 'user'
		CONSTRAINT accounts_kind_known CHECK (kind IN ('user', 'public'));
ALTER TABLE accounts ALTER COLUMN domain_id DROP NOT NULL;
-- Only the organisation's pseudo-account lives outside every domain, and
-- it can never log in (no usable password, disabled).
ALTER TABLE accounts ADD CONSTRAINT accounts_public_kind CHECK (
	(kind = 'user' AND domain_id IS NOT NULL)
	OR (kind = 'public' AND domain_id IS NULL AND NOT enabled
	    AND password_hash = '!' AND NOT is_admin));
CREATE UNIQUE INDEX accounts_one_public ON accounts (kind) WHERE kind = 'public';

-- The pseudo-account itself ("public@": no domain, so no address a
-- directory could route or a user could log in with is ever equal to it)
-- is created by the first `cairnctl public create` (store_acl_public_ensure).

-- Identifiers: "anyone", "authenticated", a lower-case address, "$" and a
-- group address, each optionally prefixed by "-" (negative rights).
-- Rights: the RFC 4314 letters in canonical order lrswipkxtea (the
-- obsolete c and d are mapped to k/x/t/e before they are stored). Rows of
-- an earlier version are not checked (NOT VALID): none were ever written.
ALTER TABLE mailbox_acl
	ADD CONSTRAINT mailbox_acl_identifier_form CHECK (
		identifier ~ '^-?(anyone|authenticated|\$?[^\s$@-][^\s]*@[^\s@]+)$'
		AND length(identifier) <= 322) NOT VALID,
	ADD CONSTRAINT mailbox_acl_rights_known CHECK (rights ~ '^l?r?s?w?i?p?k?x?t?e?a?$') NOT VALID;
-- "Which mailboxes are shared with me": by identifier, and every group
-- entry (membership is the directory's to decide).
CREATE INDEX mailbox_acl_identifier ON mailbox_acl (identifier);
CREATE INDEX mailbox_acl_groups ON mailbox_acl (mailbox_id) WHERE left(identifier, 1) = '$';

-- A non-owner's \Seen: the uids he has seen, as one multirange per mailbox
-- and reader (compact for long runs of read mail). Uids are never reused
-- in a mailbox, so ranges of expunged messages are harmless.
CREATE TABLE mailbox_user_seen (
	mailbox_id bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	seen int8multirange NOT NULL DEFAULT '{}',
	PRIMARY KEY (mailbox_id, account_id)
);
CREATE INDEX mailbox_user_seen_account ON mailbox_user_seen (account_id);

-- A user's subscription to a mailbox he does not own (his own, not the
-- owner's mailboxes.subscribed); it follows the mailbox through renames
-- and goes with it.
CREATE TABLE mailbox_user_subscriptions (
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	mailbox_id bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	PRIMARY KEY (account_id, mailbox_id)
);
CREATE INDEX mailbox_user_subscriptions_mailbox ON mailbox_user_subscriptions (mailbox_id);
