-- URLAUTH (RFC 4467): one secret access key per mailbox, from which the
-- INTERNAL mechanism's verifiers are computed (HMAC-SHA256 over the URL).
-- RESETKEY deletes keys; the next GENURLAUTH makes a fresh one, so every URL
-- issued before stops working. Keys go with their mailbox.
CREATE TABLE urlauth_keys (
	mailbox_id bigint PRIMARY KEY REFERENCES mailboxes (id) ON DELETE CASCADE,
	key bytea NOT NULL CONSTRAINT urlauth_keys_length CHECK (octet_length(key) = 32),
	created_at timestamptz NOT NULL DEFAULT now()
);
