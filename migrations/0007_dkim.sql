-- DKIM signing keys (issue 9), shared by every node so all sign alike.
-- `cairnctl dkim keygen` adds a key; the queue runner signs outbound mail of
-- a domain with each of its active keys (a domain may have an rsa-sha256 and
-- an ed25519-sha256 key at once). Rotation: generate a key under a new
-- selector, publish its DNS record, then deactivate or delete the old one.
CREATE TABLE dkim_keys (
	id bigserial PRIMARY KEY,
	domain text NOT NULL CHECK (domain = lower(domain) AND domain <> ''),
	selector text NOT NULL CHECK (selector = lower(selector) AND selector <> ''),
	algorithm text NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
	private_pem text NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	active boolean NOT NULL DEFAULT true,
	UNIQUE (domain, selector)
);

CREATE INDEX dkim_keys_active ON dkim_keys (domain) WHERE active;
