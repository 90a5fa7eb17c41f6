-- 0025: CalDAV scheduling (RFC 6638). A scheduling object resource has a
-- schedule tag (3.2.10) besides its ETag: it changes when the organizer
-- changes the object, not when the server merges an attendee's reply, so
-- that clients can write back without losing a colleague's answer. NULL:
-- not a scheduling object resource.
ALTER TABLE dav_objects ADD COLUMN schedule_tag text;

-- One UID is one scheduling object resource per calendar user (3.2.4.1):
-- the lookup across a user's calendars goes by UID first.
CREATE INDEX dav_objects_sched_uid ON dav_objects (uid) WHERE uid IS NOT NULL;
