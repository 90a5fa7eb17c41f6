-- 0017: the zone an INTERNALDATE was given in (issue 13).
-- Never edit this file once it has landed: add a new migration instead.

-- APPEND's date-time carries a zone ("17-Jul-1996 02:44:25 -0700"); the
-- time itself is internaldate (timestamptz, UTC). The zone, in minutes
-- east of UTC, is kept so that SEARCH BEFORE/ON/SINCE compare its calendar
-- date in that zone (RFC 3501 6.4.4 "disregarding time and timezone").
-- Rows stored before, and delivered messages, have 0 (UTC); COPY and MOVE
-- keep it.
ALTER TABLE mailbox_messages ADD COLUMN internaldate_zone smallint NOT NULL DEFAULT 0
	CONSTRAINT mailbox_messages_zone_range CHECK (internaldate_zone BETWEEN -1439 AND 1439);
