-- 0029: iMIP (issue 15): the automatic iMIP answers already sent (a
-- resource's REPLY to a REQUEST that came by mail), so that two systems
-- answering each other automatically cannot loop: one answer per
-- (from, to, handle = UID/SEQUENCE/METHOD) within [imip] auto_reply_period.
-- Addresses, not account ids: the sender may be an alias or a resource.
CREATE TABLE imip_auto_replies (
	sender text NOT NULL,
	recipient text NOT NULL,
	handle text NOT NULL,
	until timestamptz NOT NULL,
	PRIMARY KEY (sender, recipient, handle)
);
CREATE INDEX imip_auto_replies_until ON imip_auto_replies (until);
