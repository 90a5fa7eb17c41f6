-- 0024: the web admin (issue 17): browser sessions, the audit log, app
-- passwords, domain administrators, hourly mail counters for the
-- dashboard, and indexes for searching 100,000 users.
-- Never edit this file once it has landed: add a new migration instead.

-- A web admin session. The browser holds a 128-bit random id; only its
-- SHA-256 (hex) is stored, so a read of this table gives no live cookie.
-- csrf is the per-session token every state-changing form carries.
CREATE TABLE web_sessions (
	id_hash text PRIMARY KEY CONSTRAINT web_sessions_id_hash_hex CHECK (id_hash ~ '^[0-9a-f]{64}$'),
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	csrf text NOT NULL CONSTRAINT web_sessions_csrf_hex CHECK (csrf ~ '^[0-9a-f]{32,64}$'),
	created_at timestamptz NOT NULL DEFAULT now(),
	last_seen timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	client_ip text NOT NULL DEFAULT '' CONSTRAINT web_sessions_client_ip_length CHECK (length(client_ip) <= 64)
);
CREATE INDEX web_sessions_account ON web_sessions (account_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- Who changed what, when and from where. actor is the address as it was
-- (the account may be gone since); target names what was changed.
CREATE TABLE audit_log (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	actor text NOT NULL CONSTRAINT audit_log_actor_length CHECK (length(actor) <= 320),
	client_ip text NOT NULL DEFAULT '' CONSTRAINT audit_log_client_ip_length CHECK (length(client_ip) <= 64),
	action text NOT NULL CONSTRAINT audit_log_action_length CHECK (length(action) BETWEEN 1 AND 64),
	target text NOT NULL DEFAULT '' CONSTRAINT audit_log_target_length CHECK (length(target) <= 400),
	detail text NOT NULL DEFAULT '' CONSTRAINT audit_log_detail_length CHECK (length(detail) <= 1000)
);
-- Paging runs newest first by id (keyset); searches by actor, target or
-- action use trigram indexes (pg_trgm, created by 0010).
CREATE INDEX audit_log_actor_trgm ON audit_log USING gin (actor gin_trgm_ops);
CREATE INDEX audit_log_target_trgm ON audit_log USING gin (target gin_trgm_ops);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- App passwords: a random password per mail or DAV client, shown once,
-- stored as a crypt(3) hash, revocable one by one.
CREATE TABLE app_passwords (
	id bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name text NOT NULL CONSTRAINT app_passwords_name_length CHECK (length(name) BETWEEN 1 AND 64),
	password_hash text NOT NULL CONSTRAINT app_passwords_hash_crypt CHECK (password_hash ~ '^\$'),
	created_at timestamptz NOT NULL DEFAULT now(),
	last_used timestamptz,
	CONSTRAINT app_passwords_account_name_key UNIQUE (account_id, name)
);

-- Domain administrators: an account that manages the users, aliases and
-- groups of these domains only.
CREATE TABLE domain_admins (
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	domain_id bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
	PRIMARY KEY (account_id, domain_id)
);
CREATE INDEX domain_admins_domain ON domain_admins (domain_id);

-- Mail per hour for the dashboard: 'in' counts messages stored (a new
-- blob: delivered or appended), 'out' messages queued for remote delivery.
-- Rows are spread over 8 shards by backend so that concurrent deliveries
-- do not queue on one counter row.
CREATE TABLE mail_stats_hourly (
	hour timestamptz NOT NULL,
	direction text NOT NULL CONSTRAINT mail_stats_direction CHECK (direction IN ('in', 'out')),
	shard smallint NOT NULL,
	messages bigint NOT NULL DEFAULT 0,
	bytes bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (hour, direction, shard)
);

CREATE FUNCTION mail_stats_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO mail_stats_hourly (hour, direction, shard, messages, bytes)
	VALUES (date_trunc('hour', now()), TG_ARGV[0], pg_backend_pid() % 8, 1, NEW.size)
	ON CONFLICT (hour, direction, shard) DO UPDATE
	SET messages = mail_stats_hourly.messages + 1,
	    bytes = mail_stats_hourly.bytes + EXCLUDED.bytes;
	RETURN NULL;
END
$$;
CREATE TRIGGER message_blobs_stats AFTER INSERT ON message_blobs
	FOR EACH ROW EXECUTE FUNCTION mail_stats_count('in');
CREATE TRIGGER queue_messages_stats AFTER INSERT ON queue_messages
	FOR EACH ROW EXECUTE FUNCTION mail_stats_count('out');

-- Substring search over users, aliases and groups (the admin's search box)
-- without a sequential scan of 100,000 rows.
CREATE INDEX accounts_address_trgm ON accounts USING gin (address gin_trgm_ops);
CREATE INDEX accounts_display_name_trgm ON accounts USING gin (display_name gin_trgm_ops);
-- The users list sorted by name, a page at a time.
CREATE INDEX accounts_display_name_order ON accounts (display_name, address);
CREATE INDEX aliases_address_trgm ON aliases USING gin (address gin_trgm_ops);
CREATE INDEX groups_address_trgm ON groups USING gin (address gin_trgm_ops);

-- TOTP (RFC 6238) for the web admin's login: a 160-bit secret per account,
-- enabled once the user has entered a first code; last_step keeps a code
-- from being used twice.
CREATE TABLE totp_secrets (
	account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	secret text NOT NULL CONSTRAINT totp_secrets_base32 CHECK (secret ~ '^[A-Z2-7]{32}$'),
	enabled boolean NOT NULL DEFAULT false,
	last_step bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now()
);
