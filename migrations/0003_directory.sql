-- 0003: the sql directory backend beyond accounts: address-book fields and
-- the origin of each account, aliases (including per-domain catch-alls),
-- groups (distribution lists, nested by member address) and the shared
-- failed-login counters that throttle authentication across nodes.
-- Never edit this file once it has landed: add a new migration instead.

-- Where an account came from: 'local' (cairnctl, web admin) or 'ldap'
-- (directory sync). Sync only ever disables accounts it created.
ALTER TABLE accounts
	ADD COLUMN source text NOT NULL DEFAULT 'local'
		CONSTRAINT accounts_source_known CHECK (source IN ('local', 'ldap')),
	ADD COLUMN phone text NOT NULL DEFAULT ''
		CONSTRAINT accounts_phone_length CHECK (length(phone) <= 64),
	ADD COLUMN department text NOT NULL DEFAULT ''
		CONSTRAINT accounts_department_length CHECK (length(department) <= 128),
	ADD COLUMN title text NOT NULL DEFAULT ''
		CONSTRAINT accounts_title_length CHECK (length(title) <= 128);

-- An alias routes one address to one or more targets (a local account, a
-- group, another alias, or a remote address). localpart '' is the domain's
-- catch-all, written '@domain'.
CREATE TABLE aliases (
	id bigserial PRIMARY KEY,
	domain_id bigint NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
	localpart text NOT NULL
		CONSTRAINT aliases_localpart_lower CHECK (localpart = lower(localpart))
		CONSTRAINT aliases_localpart_length CHECK (length(localpart) <= 64),
	address text NOT NULL UNIQUE
		CONSTRAINT aliases_address_lower CHECK (address = lower(address))
		CONSTRAINT aliases_address_localpart CHECK (left(address, length(localpart) + 1) = localpart || '@'),
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT aliases_domain_localpart_key UNIQUE (domain_id, localpart)
);

CREATE TABLE alias_targets (
	alias_id bigint NOT NULL REFERENCES aliases (id) ON DELETE CASCADE,
	target text NOT NULL
		CONSTRAINT alias_targets_target_lower CHECK (target = lower(target))
		CONSTRAINT alias_targets_target_length CHECK (length(target) BETWEEN 3 AND 320),
	PRIMARY KEY (alias_id, target)
);

-- A group is a distribution list; members are addresses, so a member may be
-- an account, an alias, another group (nesting; loops are allowed here and
-- broken by the expansion) or a remote address.
CREATE TABLE groups (
	id bigserial PRIMARY KEY,
	domain_id bigint NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
	localpart text NOT NULL
		CONSTRAINT groups_localpart_lower CHECK (localpart = lower(localpart))
		CONSTRAINT groups_localpart_length CHECK (length(localpart) BETWEEN 1 AND 64),
	address text NOT NULL UNIQUE
		CONSTRAINT groups_address_lower CHECK (address = lower(address))
		CONSTRAINT groups_address_localpart CHECK (left(address, length(localpart) + 1) = localpart || '@'),
	display_name text NOT NULL DEFAULT ''
		CONSTRAINT groups_display_name_length CHECK (length(display_name) <= 256),
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT groups_domain_localpart_key UNIQUE (domain_id, localpart)
);

CREATE TABLE group_members (
	group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	member text NOT NULL
		CONSTRAINT group_members_member_lower CHECK (member = lower(member))
		CONSTRAINT group_members_member_length CHECK (length(member) BETWEEN 3 AND 320),
	PRIMARY KEY (group_id, member)
);
CREATE INDEX group_members_member_idx ON group_members (member);

-- One address names one thing: an account, an alias or a group. The unique
-- constraints cover each table; this trigger covers the three together and
-- raises unique_violation (23505) like they do. The advisory lock serialises
-- two transactions inserting the same address into different tables.
CREATE FUNCTION directory_address_unique() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('cairn-address:' || NEW.address));
	IF (TG_TABLE_NAME <> 'accounts' AND EXISTS (SELECT 1 FROM accounts WHERE address = NEW.address))
	   OR (TG_TABLE_NAME <> 'aliases' AND EXISTS (SELECT 1 FROM aliases WHERE address = NEW.address))
	   OR (TG_TABLE_NAME <> 'groups' AND EXISTS (SELECT 1 FROM groups WHERE address = NEW.address)) THEN
		RAISE unique_violation USING MESSAGE = format('address %s is already in use', NEW.address);
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER accounts_address_unique BEFORE INSERT OR UPDATE OF address ON accounts
	FOR EACH ROW EXECUTE FUNCTION directory_address_unique();
CREATE TRIGGER aliases_address_unique BEFORE INSERT OR UPDATE OF address ON aliases
	FOR EACH ROW EXECUTE FUNCTION directory_address_unique();
CREATE TRIGGER groups_address_unique BEFORE INSERT OR UPDATE OF address ON groups
	FOR EACH ROW EXECUTE FUNCTION directory_address_unique();

-- Failed logins per user and per client IP, shared by every node. A row is
-- counted from first_failure; after the window it starts again from one.
CREATE TABLE auth_failures (
	kind text NOT NULL CONSTRAINT auth_failures_kind_known CHECK (kind IN ('user', 'ip')),
	key text NOT NULL CONSTRAINT auth_failures_key_length CHECK (length(key) BETWEEN 1 AND 320),
	failures integer NOT NULL CONSTRAINT auth_failures_failures_positive CHECK (failures > 0),
	first_failure timestamptz NOT NULL,
	last_failure timestamptz NOT NULL,
	locked_until timestamptz,
	PRIMARY KEY (kind, key)
);
CREATE INDEX auth_failures_last_failure_idx ON auth_failures (last_failure);
