-- 0015: ACL entries go with the account or group they name (issue 18).
-- Never edit this file once it has landed: add a new migration instead.

-- mailbox_acl names its grantees by address (RFC 4314 identifiers), not by
-- row id, so deleting an account left its entries behind, and a new
-- account created later with the same address inherited every right the
-- old one had been given. Entries for "ADDRESS" and "-ADDRESS" now go when
-- the account goes, "$GROUP" and "-$GROUP" when the group goes (groups of
-- the sql backend; LDAP groups and users are never deleted from the store:
-- directory sync disables accounts). Entries for names that never had an
-- account row stay: an LDAP user is given rights before the first login
-- provisions his account.
CREATE FUNCTION mailbox_acl_forget_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM mailbox_acl WHERE identifier IN (OLD.address, '-' || OLD.address);
	RETURN NULL;
END
$$;
CREATE TRIGGER accounts_forget_acl AFTER DELETE ON accounts
	FOR EACH ROW WHEN (OLD.address IS NOT NULL)
	EXECUTE FUNCTION mailbox_acl_forget_account();

CREATE FUNCTION mailbox_acl_forget_group() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM mailbox_acl WHERE identifier IN ('$' || OLD.address, '-$' || OLD.address);
	RETURN NULL;
END
$$;
CREATE TRIGGER groups_forget_acl AFTER DELETE ON groups
	FOR EACH ROW EXECUTE FUNCTION mailbox_acl_forget_group();
