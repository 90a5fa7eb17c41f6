-- 0001: domains and accounts, the foundation the rest of the schema hangs off.
-- Names and addresses are stored lower-case (store-account.c normalises and
-- validates the syntax; the checks here are the last line of defence).
-- Never edit this file once it has landed: add a new migration instead.

CREATE TABLE domains (
	id bigserial PRIMARY KEY,
	name text NOT NULL UNIQUE
		CONSTRAINT domains_name_lower CHECK (name = lower(name))
		CONSTRAINT domains_name_length CHECK (length(name) BETWEEN 1 AND 255),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
	id bigserial PRIMARY KEY,
	-- A domain with accounts cannot be deleted: delete the accounts first.
	domain_id bigint NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
	localpart text NOT NULL
		CONSTRAINT accounts_localpart_lower CHECK (localpart = lower(localpart))
		CONSTRAINT accounts_localpart_length CHECK (length(localpart) BETWEEN 1 AND 64),
	address text NOT NULL UNIQUE
		CONSTRAINT accounts_address_lower CHECK (address = lower(address))
		CONSTRAINT accounts_address_localpart CHECK (left(address, length(localpart) + 1) = localpart || '@'),
	-- crypt(3) format ($y$ yescrypt for new passwords), '*' or '!' for "no
	-- password login", NULL when another backend authenticates. Anything else
	-- would be a plaintext password slipping through: refuse it.
	password_hash text
		CONSTRAINT accounts_password_hash_crypt CHECK (password_hash ~ '^(\$|\*|!)'),
	display_name text NOT NULL DEFAULT ''
		CONSTRAINT accounts_display_name_length CHECK (length(display_name) <= 256),
	enabled boolean NOT NULL DEFAULT true,
	is_admin boolean NOT NULL DEFAULT false,
	quota_bytes bigint CONSTRAINT accounts_quota_bytes_positive CHECK (quota_bytes >= 0),
	quota_messages bigint CONSTRAINT accounts_quota_messages_positive CHECK (quota_messages >= 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	-- Also the index behind the foreign key (domain delete, per-domain lists).
	CONSTRAINT accounts_domain_localpart_key UNIQUE (domain_id, localpart)
);
