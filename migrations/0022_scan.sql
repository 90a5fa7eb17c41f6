-- 0022: the scan stage (issue 14): per-domain and per-user policy overrides,
-- and the quarantine. Never edit this file once it has landed.

-- One row per domain ("example.org") or account ("ann@example.org"): the
-- user's row overrides the domain's, which overrides [scan] in cairn.conf.
-- NULL inherits; a threshold of 'Infinity' is "off".
CREATE TABLE scan_policy (
	target text PRIMARY KEY
		CONSTRAINT scan_policy_target_lower CHECK (target = lower(target))
		CONSTRAINT scan_policy_target_length CHECK (length(target) BETWEEN 1 AND 320),
	enabled boolean,
	tag_threshold double precision CONSTRAINT scan_policy_tag_nan CHECK (tag_threshold <> 'NaN'),
	junk_threshold double precision CONSTRAINT scan_policy_junk_nan CHECK (junk_threshold <> 'NaN'),
	quarantine_threshold double precision
		CONSTRAINT scan_policy_quarantine_nan CHECK (quarantine_threshold <> 'NaN'),
	reject_threshold double precision
		CONSTRAINT scan_policy_reject_nan CHECK (reject_threshold <> 'NaN'),
	virus_action text CONSTRAINT scan_policy_virus_action
		CHECK (virus_action IN ('reject', 'quarantine')),
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- Messages held back from one account: invisible to the user (no mailbox
-- row), released into the INBOX or deleted by cairnctl quarantine. raw is
-- the copy as it would have been stored (Return-Path: and the scan headers
-- included). released is set while a release is in progress, so two
-- releases of one message cannot both deliver it.
CREATE TABLE scan_quarantine (
	id bigserial PRIMARY KEY,
	account text NOT NULL
		CONSTRAINT scan_quarantine_account_lower CHECK (account = lower(account)),
	received timestamptz NOT NULL DEFAULT now(),
	envelope_from text NOT NULL,
	client_ip text NOT NULL DEFAULT '',
	reason text NOT NULL DEFAULT '',
	score double precision NOT NULL DEFAULT 0,
	tests text NOT NULL DEFAULT '',
	subject text NOT NULL DEFAULT '',
	size bigint NOT NULL CONSTRAINT scan_quarantine_size CHECK (size >= 0),
	raw bytea NOT NULL,
	released timestamptz
);
CREATE INDEX scan_quarantine_account ON scan_quarantine (account, id);
CREATE INDEX scan_quarantine_received ON scan_quarantine (received);
