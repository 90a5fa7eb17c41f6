-- 0028: calendar delegation (the CalendarServer calendar-proxy extension).
-- An owner (an account) names delegates: an account's or a directory
-- group's address, each with mode 'read' (calendar-proxy-read) or 'write'
-- (calendar-proxy-write). A delegate reads, or reads and writes, every
-- calendar collection of the owner, including the scheduling inbox and
-- outbox, and may answer invitations for the owner (SENT-BY). A group
-- delegate gives that access to each of its members. One mode per
-- delegate: setting the other one replaces it.
-- Never edit this file once it has landed: add a new migration instead.

CREATE TABLE dav_proxies (
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	delegate text NOT NULL
		CONSTRAINT dav_proxies_delegate CHECK (delegate = lower(delegate) AND length(delegate) BETWEEN 3 AND 320),
	mode text NOT NULL CONSTRAINT dav_proxies_mode CHECK (mode IN ('read', 'write')),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (account_id, delegate)
);
-- calendar-proxy-*-for: whom a user is a delegate of.
CREATE INDEX dav_proxies_delegate ON dav_proxies (delegate);
