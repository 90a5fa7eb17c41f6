-- 0030: nested collections for plain WebDAV (the "files" home), and WebDAV
-- locks (below). A
-- collection's name is its path below the home, its segments joined with
-- '/' ("docs/2024/reports"); its parent is the collection named by the path
-- without its last segment, and a top-level collection has no '/'. Only
-- plain collections nest: calendars and address books hold no collections
-- (RFC 4791 4.2, RFC 6352 5.2), so their names stay one segment. A child
-- collection's creation and removal are logged in its parent's change log
-- under the name "<segment>/", so sync-collection reports member collections.
-- Never edit this file once it has landed: add a new migration instead.

ALTER TABLE dav_collections DROP CONSTRAINT dav_collections_name;
ALTER TABLE dav_collections ADD CONSTRAINT dav_collections_name CHECK (
	length(name) BETWEEN 1 AND 255
	AND name !~ '(^|/)\.\.?(/|$)'
	AND name !~ '(^/|/$|//)'
	AND (position('/' IN name) = 0 OR kind = 'plain'));

-- Descendants of a collection are found by name prefix.
CREATE INDEX dav_collections_prefix ON dav_collections (account_id, home, name text_pattern_ops);

-- WebDAV write locks (RFC 4918 6, 7, 9.10, 9.11), kept here so that every
-- node sees them. path is the locked resource below the owner's home: a
-- collection's name followed by '/' ("docs/2024/"), or an object's
-- "collection/name". A depth-infinity lock on a collection covers every
-- path it prefixes. A lock past expires is gone (ignored, then deleted).
CREATE TABLE dav_locks (
	token text PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	home text NOT NULL,
	path text NOT NULL CONSTRAINT dav_locks_path CHECK (length(path) BETWEEN 2 AND 600),
	depth_infinity boolean NOT NULL,
	exclusive boolean NOT NULL,
	-- the DAV:owner element the client sent, serialised ('' without one)
	owner_xml text NOT NULL DEFAULT '',
	-- who holds it: only that principal may use its token
	principal text NOT NULL,
	timeout_s integer NOT NULL CONSTRAINT dav_locks_timeout CHECK (timeout_s > 0),
	expires timestamptz NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dav_locks_resource ON dav_locks (account_id, home, path text_pattern_ops);
