-- The outbound queue runner (issue 9) on top of the hand-off tables of 0005.
--
-- Leases: a runner claims due recipients with FOR UPDATE SKIP LOCKED and
-- marks them state 'sending', claimed_by (node/pid) and claimed_until; the
-- lease is renewed while it works. A node that dies leaves its rows
-- 'sending': they are claimed again once claimed_until has passed (or at
-- once by the same node when it restarts).
--
-- dot_sent: set (and committed) just before the final "." of DATA is written.
-- A row still 'sending' with dot_sent set after a crash is presumed delivered
-- (the remote most probably took it; sending again would duplicate it). Rows
-- without dot_sent are simply retried.
ALTER TABLE queue_recipients
	ADD COLUMN domain text GENERATED ALWAYS AS
		(lower(substring(address FROM '@([^@]*)$'))) STORED,
	ADD COLUMN claimed_by text,
	ADD COLUMN claimed_until timestamptz,
	ADD COLUMN dot_sent timestamptz,
	ADD COLUMN remote_host text,		-- last host tried, for DSNs and cairnctl
	ADD COLUMN last_attempt timestamptz,
	ADD COLUMN status text,			-- RFC 3463 code of the last outcome
	ADD COLUMN warned boolean NOT NULL DEFAULT false,	-- delay DSN sent
	ADD COLUMN dsn_sent boolean NOT NULL DEFAULT false,	-- final DSN written
	ADD COLUMN finished timestamptz;

-- Due work, grouped by destination.
CREATE INDEX queue_recipients_due_domain ON queue_recipients (domain, next_attempt)
	WHERE state IN ('queued', 'deferred');
-- Leases that may have expired.
CREATE INDEX queue_recipients_leased ON queue_recipients (claimed_until)
	WHERE state = 'sending';

-- The DKIM-Signature fields made for a message at its first attempt, so a
-- retry sends exactly the same bytes without signing again. NULL = not yet.
ALTER TABLE queue_messages
	ADD COLUMN dkim_signature text;

-- Runners LISTEN on cairn_queue and wake at once when work is added.
CREATE FUNCTION queue_recipients_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('cairn_queue', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER queue_recipients_notify AFTER INSERT ON queue_recipients
	FOR EACH STATEMENT EXECUTE FUNCTION queue_recipients_notify();
