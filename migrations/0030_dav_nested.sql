-- 0030: nested collections for plain WebDAV (the "files" home). A
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
