-- 0020: CardDAV. The global address list (GAL) is one address book that
-- every user reads: its dav_collections row belongs to no account (one per
-- home and name), and every user's address book home holds a collection of
-- kind 'gal' standing for it. `cairnctl directory sync` rewrites its
-- objects from the directory; their ETags are the same SHA-256 form the
-- DAV store gives every object, so an unchanged entry keeps its ETag.
-- Never edit this file once it has landed: add a new migration instead.

ALTER TABLE dav_collections ALTER COLUMN account_id DROP NOT NULL;
CREATE UNIQUE INDEX dav_collections_shared_key ON dav_collections (home, name)
	WHERE account_id IS NULL;
