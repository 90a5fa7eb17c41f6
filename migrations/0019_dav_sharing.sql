-- 0019: sharing of DAV collections and read-only calendar feeds.
-- A share grants one grantee (an account's or a directory group's address)
-- read or read-write access to a collection; WebDAV ACL (RFC 3744) and the
-- CalendarServer sharing invitations both write here. A feed is a secret
-- link to a read-only .ics of a calendar: only the token's SHA-256 is
-- stored, with its last use.

CREATE TABLE dav_shares (
	collection_id bigint NOT NULL REFERENCES dav_collections (id) ON DELETE CASCADE,
	grantee text NOT NULL
		CONSTRAINT dav_shares_grantee CHECK (grantee = lower(grantee) AND length(grantee) BETWEEN 3 AND 320),
	access text NOT NULL CONSTRAINT dav_shares_access CHECK (access IN ('read', 'read-write')),
	-- CalendarServer invitations: 'accepted' unless the sharee declined.
	status text NOT NULL DEFAULT 'accepted'
		CONSTRAINT dav_shares_status CHECK (status IN ('accepted', 'declined')),
	summary text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (collection_id, grantee)
);
CREATE INDEX dav_shares_grantee ON dav_shares (grantee);

CREATE TABLE dav_feeds (
	id bigserial PRIMARY KEY,
	collection_id bigint NOT NULL REFERENCES dav_collections (id) ON DELETE CASCADE,
	token_sha256 bytea NOT NULL UNIQUE CONSTRAINT dav_feeds_token CHECK (length(token_sha256) = 32),
	created_at timestamptz NOT NULL DEFAULT now(),
	last_used timestamptz
);
CREATE INDEX dav_feeds_collection ON dav_feeds (collection_id);
