-- 0021: Sieve (issue 16): users' scripts, vacation memory, duplicate
-- tracking and the per-day redirect counters, all in PostgreSQL so that
-- every cairnd node sharing the database agrees.
-- Never edit this file once it has landed: add a new migration instead.

-- A user's scripts (RFC 5804): at most one active. Names are the
-- ManageSieve names (UTF-8, validated by the gateway, RFC 5804 1.6).
-- size is the octet length of content, kept so HAVESPACE and the quota
-- check need not read the scripts.
CREATE TABLE sieve_scripts (
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name text NOT NULL
		CONSTRAINT sieve_scripts_name_length CHECK (length(name) BETWEEN 1 AND 512),
	content text NOT NULL,
	size bigint NOT NULL CONSTRAINT sieve_scripts_size CHECK (size = octet_length(content)),
	active boolean NOT NULL DEFAULT false,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (account_id, name)
);
CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts (account_id) WHERE active;

-- Vacation (RFC 5230 4.2): who was answered, for which :handle, until
-- when. The reply is sent only by the delivery whose INSERT ... ON
-- CONFLICT ... WHERE until <= now() returns a row, so two nodes racing on
-- the same message answer once.
CREATE TABLE sieve_vacation (
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	sender text NOT NULL,
	handle text NOT NULL,
	until timestamptz NOT NULL,
	PRIMARY KEY (account_id, sender, handle)
);
CREATE INDEX sieve_vacation_until ON sieve_vacation (until);

-- duplicate (RFC 7352): values (a hash of the unique id) seen per handle,
-- until their period ends.
CREATE TABLE sieve_duplicate (
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	handle text NOT NULL,
	value_hash text NOT NULL,
	until timestamptz NOT NULL,
	PRIMARY KEY (account_id, handle, value_hash)
);
CREATE INDEX sieve_duplicate_until ON sieve_duplicate (until);

-- Redirects per account per day (UTC), for the daily cap.
CREATE TABLE sieve_redirects (
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	day date NOT NULL,
	count integer NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, day)
);
