-- 0018: WebDAV collections and resources (CalDAV calendars, CardDAV address
-- books, plain WebDAV collections), their dead properties, and the change log
-- behind sync-collection (RFC 6578) tokens. Generic on purpose: a collection
-- has a kind, an object its raw data plus the fields each kind indexes.
-- Object bytes count against the owner's quota (mail_usage.bytes).

CREATE TABLE dav_collections (
	id bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	-- The home the collection lives in: its URL is /dav/<home>/<owner>/<name>/.
	home text NOT NULL CONSTRAINT dav_collections_home CHECK (home ~ '^[a-z]{1,32}$'),
	name text NOT NULL
		CONSTRAINT dav_collections_name CHECK (length(name) BETWEEN 1 AND 255
			AND name <> '.' AND name <> '..' AND position('/' IN name) = 0),
	kind text NOT NULL CONSTRAINT dav_collections_kind CHECK (kind ~ '^[a-z]{1,32}$'),
	-- The last change's number: sync tokens and CalendarServer getctag.
	synctoken bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT dav_collections_key UNIQUE (account_id, home, name)
);

CREATE TABLE dav_objects (
	id bigserial PRIMARY KEY,
	collection_id bigint NOT NULL REFERENCES dav_collections (id) ON DELETE CASCADE,
	name text NOT NULL
		CONSTRAINT dav_objects_name CHECK (length(name) BETWEEN 1 AND 255
			AND name <> '.' AND name <> '..' AND position('/' IN name) = 0),
	content_type text NOT NULL,
	etag text NOT NULL,
	data bytea NOT NULL,
	size bigint NOT NULL,
	-- Indexed fields (NULL when the kind has none): the UID, the component
	-- type (VEVENT, VTODO, VCARD...), the first instance's bounds, the bounds
	-- of all instances (rend NULL: the recurrence has no end), search text.
	uid text,
	comp text,
	dtstart timestamptz,
	dtend timestamptz,
	rstart timestamptz,
	rend timestamptz,
	summary text,
	modseq bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT dav_objects_key UNIQUE (collection_id, name)
);
CREATE INDEX dav_objects_uid ON dav_objects (collection_id, uid);
CREATE INDEX dav_objects_range ON dav_objects (collection_id, rstart, rend);

-- Dead properties, stored as the serialised element (namespace declarations
-- included) so that they come back byte for byte. object_name '' is the
-- collection itself.
CREATE TABLE dav_properties (
	collection_id bigint NOT NULL REFERENCES dav_collections (id) ON DELETE CASCADE,
	object_name text NOT NULL,
	ns text NOT NULL,
	name text NOT NULL,
	xml text NOT NULL,
	PRIMARY KEY (collection_id, object_name, ns, name)
);

-- One row per resource name: the change number of its last change and
-- whether that change removed it. A sync token names (collection, number).
CREATE TABLE dav_changes (
	collection_id bigint NOT NULL REFERENCES dav_collections (id) ON DELETE CASCADE,
	name text NOT NULL,
	modseq bigint NOT NULL,
	deleted boolean NOT NULL,
	PRIMARY KEY (collection_id, name)
);
CREATE INDEX dav_changes_modseq ON dav_changes (collection_id, modseq);
