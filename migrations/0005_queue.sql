-- The outbound queue hand-off (issue 5): SMTP submission stores one row per
-- accepted message for remote recipients and one row per remote recipient,
-- in the same transaction as the local deliveries. The queue runner (issue 9)
-- reads them; the message content is the shared blob (refcounted like any
-- mailbox message), so a message for 1 local and 3 remote users is stored once.
CREATE TABLE queue_messages (
	id bigserial PRIMARY KEY,
	blob_id bigint NOT NULL REFERENCES message_blobs (id),
	envelope_from text NOT NULL,		-- '' for the null reverse-path <>
	size bigint NOT NULL,
	dsn_ret text CHECK (dsn_ret IN ('FULL', 'HDRS')),	-- RFC 3461 RET, NULL if absent
	dsn_envid text,				-- RFC 3461 ENVID, xtext-decoded
	body text NOT NULL DEFAULT '7BIT',	-- BODY= as declared
	smtputf8 boolean NOT NULL DEFAULT false,
	auth_user text,				-- the submitting account, NULL for MX
	client_ip text,
	created timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE queue_recipients (
	id bigserial PRIMARY KEY,
	message_id bigint NOT NULL REFERENCES queue_messages (id) ON DELETE CASCADE,
	address text NOT NULL,
	dsn_notify text,			-- e.g. 'SUCCESS,FAILURE'; NULL if absent
	dsn_orcpt text,				-- 'rfc822;user@example.net', NULL if absent
	state text NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'sending', 'delivered', 'deferred', 'failed')),
	attempts integer NOT NULL DEFAULT 0,
	next_attempt timestamptz NOT NULL DEFAULT now(),
	last_error text
);
CREATE INDEX queue_recipients_due ON queue_recipients (next_attempt)
	WHERE state IN ('queued', 'deferred');
CREATE INDEX queue_recipients_message ON queue_recipients (message_id);

-- A queued message holds a reference on its blob like a mailbox row does,
-- so expunging the last local copy cannot delete content still queued, and
-- the queue runner's DELETE of a finished message frees the blob.
CREATE TRIGGER queue_messages_ref AFTER INSERT ON queue_messages
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION message_blobs_ref();
CREATE TRIGGER queue_messages_unref AFTER DELETE ON queue_messages
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION message_blobs_unref();
