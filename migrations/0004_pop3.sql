-- POP3 maildrop locks (RFC 1939 8: the server locks the maildrop at login).
-- A row is held by one POP3 session (holder = node:pid:session) until QUIT,
-- disconnect or expiry; expiry lets another node take over the lock of a
-- session whose node died. IMAP never looks at it.
CREATE TABLE pop3_locks (
	account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	holder text NOT NULL,
	locked_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL
);
