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

-- Delegation goes with the account or group it names (as ACL entries do,
-- 0015): a new account created later with the same address inherits nothing.
CREATE FUNCTION dav_proxies_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM dav_proxies WHERE delegate = OLD.address;
	RETURN NULL;
END
$$;
CREATE TRIGGER accounts_forget_dav_proxies AFTER DELETE ON accounts
	FOR EACH ROW WHEN (OLD.address IS NOT NULL)
	EXECUTE FUNCTION dav_proxies_forget();
CREATE TRIGGER groups_forget_dav_proxies AFTER DELETE ON groups
	FOR EACH ROW EXECUTE FUNCTION dav_proxies_forget();
