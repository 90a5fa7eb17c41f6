-- 0010: full-text SEARCH with the substring semantics of RFC 9051 6.4.4
-- (BODY and TEXT match "if the string is a substring" of the decoded text,
-- case-insensitively, also for one- or two-character strings), and the
-- RFC 8970 PREVIEW stored with it. One row per blob: the decoded text of its
-- text/ parts (HTML stripped) and its decoded header fields, both case-
-- folded by the server (proto/mime-text.c), so that a LIKE on them is an
-- exact case-insensitive substring test; pg_trgm's GIN indexes find the
-- candidates for strings of three characters or more.
-- Never edit this file once it has landed: add a new migration instead.

-- Trusted in PostgreSQL 13 and later: the database owner that runs the
-- migrations may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE message_text (
	blob_id bigint PRIMARY KEY REFERENCES message_blobs (id) ON DELETE CASCADE,
	body text NOT NULL,		-- folded text of the text/ parts, at most 1 MiB
	headers text NOT NULL,		-- folded "Name: value" lines, at most 64 KiB
	preview text NOT NULL,		-- RFC 8970: <= 256 characters, not folded
	-- false: body or headers were cut at their limit; SEARCH then decodes
	-- the whole message for the rest (server/store/store-mail-search.c).
	complete boolean NOT NULL
);
-- Stored uncompressed (out of line): a SEARCH that must read the text of
-- many messages (a common word, a one- or two-character string) then scans
-- it without decompressing; pglz made such scans 4 to 5 times slower. It
-- costs the space: about 1.7 times what pglz would take.
ALTER TABLE message_text ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX message_text_body_trgm ON message_text USING gin (body gin_trgm_ops);
CREATE INDEX message_text_headers_trgm ON message_text USING gin (headers gin_trgm_ops);
CREATE INDEX message_text_incomplete ON message_text (blob_id) WHERE NOT complete;

-- Blobs stored before this migration have no text yet: they are pending
-- until `cairnctl mail reindex` (or the first SEARCH of their mailbox)
-- extracts it. New blobs get their text in the transaction that stores them.
ALTER TABLE message_blobs ADD COLUMN text_pending boolean NOT NULL DEFAULT true;
ALTER TABLE message_blobs ALTER COLUMN text_pending SET DEFAULT false;
CREATE INDEX message_blobs_text_pending ON message_blobs (id) WHERE text_pending;

-- The tsvector of 0002 (whole words only) answers nothing any more; new
-- blobs store an empty one, and its index would only cost every insert.
DROP INDEX IF EXISTS message_blobs_fts;
