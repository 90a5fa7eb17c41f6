-- 0014: login throttling per (account, client network) and per client
-- network (issue 18).
-- Never edit this file once it has landed: add a new migration instead.

-- Before, failures counted per login name as typed ('user': every alias had
-- an allowance of its own, and anyone could lock any user out for everyone)
-- and per full client address ('ip': a fresh IPv6 address per attempt
-- escaped it). Now a failure counts against the account the name resolves
-- to from one client network ('account', key "ACCOUNT NETWORK"), and against
-- the network ('net', key from net_key(): IPv4 /32 and IPv6 /64 by
-- default). The old counters mean nothing under the new keys: drop them.
DELETE FROM auth_failures;
ALTER TABLE auth_failures DROP CONSTRAINT auth_failures_kind_known;
ALTER TABLE auth_failures DROP CONSTRAINT auth_failures_key_length;
ALTER TABLE auth_failures ADD CONSTRAINT auth_failures_kind_known
	CHECK (kind IN ('account', 'net'));
-- An address (320) + ' ' + a network key (under 64).
ALTER TABLE auth_failures ADD CONSTRAINT auth_failures_key_length
	CHECK (length(key) BETWEEN 1 AND 400);
