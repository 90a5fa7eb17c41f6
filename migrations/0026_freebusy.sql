-- 0026: the busy-time index behind free/busy (RFC 6638 scheduling, the
-- CalDAV free-busy-query). The busy time a calendar object gives its owner
-- (transparency, status, the owner's own PARTSTAT applied; recurrences
-- expanded over a window around the time it was written) is stored as rows
-- of at most 7 days (longer periods are cut), so that the busy time of many
-- users over a range is one index range scan per user. Computing it needs
-- libical, so SQL cannot fill it: a trigger marks every new or changed
-- event/free-busy object of a calendar as pending, the server clears the
-- mark when it writes the rows in the same transaction, and what stays
-- pending (objects stored before this migration, or by a writer that did
-- not compute rows) is expanded when a free/busy lookup meets it, or by
-- `cairnctl calendar reindex-busy`. Never edit this file once it has landed.

CREATE TABLE dav_busy (
	object_id bigint NOT NULL REFERENCES dav_objects (id) ON DELETE CASCADE,
	collection_id bigint NOT NULL,
	account_id bigint NOT NULL,
	-- UTC seconds, [start_at, end_at), end_at - start_at <= 7 days
	start_at bigint NOT NULL,
	end_at bigint NOT NULL CONSTRAINT dav_busy_period CHECK (end_at > start_at
		AND end_at - start_at <= 604800),
	-- 0 BUSY, 1 BUSY-TENTATIVE, 2 BUSY-UNAVAILABLE; 4, 5, 6: the same for
	-- an instance the owner declined (busy for the calendar's
	-- free-busy-query, not for the owner's scheduling free/busy)
	fbtype smallint NOT NULL CONSTRAINT dav_busy_fbtype CHECK (fbtype IN (0, 1, 2, 4, 5, 6))
);
CREATE INDEX dav_busy_account ON dav_busy (account_id, start_at) INCLUDE (end_at, fbtype, collection_id, object_id);
CREATE INDEX dav_busy_object ON dav_busy (object_id);

-- Per indexed object: the window its rows cover, and whether it has busy
-- time before (before) or after (after) it, which a query reaching there
-- expands from the object itself.
CREATE TABLE dav_busy_objects (
	object_id bigint PRIMARY KEY REFERENCES dav_objects (id) ON DELETE CASCADE,
	collection_id bigint NOT NULL,
	account_id bigint NOT NULL,
	win_from bigint NOT NULL,
	win_until bigint NOT NULL,
	before boolean NOT NULL,
	after boolean NOT NULL
);
CREATE INDEX dav_busy_objects_before ON dav_busy_objects (account_id, win_from) WHERE before;
CREATE INDEX dav_busy_objects_after ON dav_busy_objects (account_id, win_until) WHERE after;

-- Objects whose rows are missing or stale.
CREATE TABLE dav_busy_pending (
	object_id bigint PRIMARY KEY REFERENCES dav_objects (id) ON DELETE CASCADE,
	account_id bigint NOT NULL
);
CREATE INDEX dav_busy_pending_account ON dav_busy_pending (account_id);

CREATE FUNCTION dav_busy_mark() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	acc bigint;
BEGIN
	DELETE FROM dav_busy WHERE object_id = NEW.id;
	DELETE FROM dav_busy_objects WHERE object_id = NEW.id;
	IF NEW.comp IN ('VEVENT', 'VFREEBUSY') THEN
		SELECT account_id INTO acc FROM dav_collections
			WHERE id = NEW.collection_id AND kind = 'calendar';
		IF acc IS NOT NULL THEN
			INSERT INTO dav_busy_pending (object_id, account_id) VALUES (NEW.id, acc)
				ON CONFLICT (object_id) DO NOTHING;
			RETURN NULL;
		END IF;
	END IF;
	DELETE FROM dav_busy_pending WHERE object_id = NEW.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER dav_busy_mark AFTER INSERT OR UPDATE OF data, comp, collection_id ON dav_objects
	FOR EACH ROW EXECUTE FUNCTION dav_busy_mark();

-- What was there before this migration: all of it pending.
INSERT INTO dav_busy_pending (object_id, account_id)
	SELECT o.id, c.account_id FROM dav_objects o
	JOIN dav_collections c ON c.id = o.collection_id
	WHERE c.kind = 'calendar' AND c.account_id IS NOT NULL AND o.comp IN ('VEVENT', 'VFREEBUSY');
