-- 0009: IMAP SORT and THREAD keys (RFC 5256, RFC 5957) per message content.
-- One narrow row per blob, so SORT and THREAD over a big mailbox read a few
-- dozen bytes per message instead of the wide message_blobs rows. The keys
-- are computed in C (server/store/store-mail-sort.c with proto/imap_sort.c:
-- base subject, i;unicode-casemap, first ENVELOPE address, normalised
-- message ids), so SQL cannot fill them: a new blob gets its row when it is
-- stored (blob_insert in store-mail-msg.c); rows missing for blobs stored
-- before this migration are computed the first time a SORT or THREAD meets
-- them, and kept.
-- Never edit this file once it has landed: add a new migration instead.

CREATE TABLE message_sort_keys (
	blob_id bigint PRIMARY KEY REFERENCES message_blobs (id) ON DELETE CASCADE,
	sent_date bigint,		-- Date: in Unix time; NULL: absent or unparseable
	base_subject text NOT NULL,	-- RFC 5256 2.1, as decoded
	is_reply boolean NOT NULL,	-- a reply/forward marker was removed from it
	-- i;unicode-casemap forms (RFC 5051), compared octet by octet
	subject_key text NOT NULL,
	from_key text NOT NULL,		-- addr-mailbox of the first From address
	to_key text NOT NULL,
	cc_key text NOT NULL,
	displayfrom_key text NOT NULL,	-- RFC 5957: display name, else mailbox@host
	displayto_key text NOT NULL,
	-- THREAD=REFERENCES: normalised "<id>" values; refs is References, or
	-- the first In-Reply-To id when References has none
	message_id text,
	refs text NOT NULL
);
