-- The global address list follows the sql directory: any statement that
-- changes what the GAL shows (accounts and their display name, phone,
-- department, title or enabled flag; groups and members; aliases;
-- resources) sends NOTIFY cairn_gal, on which cairnd refreshes the GAL
-- (debounced by [directory] gal_refresh_delay). NOTIFY is sent at commit
-- only and identical notifications of one transaction are folded into one.
CREATE FUNCTION cairn_gal_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('cairn_gal', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER accounts_gal_notify
	AFTER INSERT OR DELETE OR UPDATE OF address, display_name, phone, department, title, enabled
	ON accounts FOR EACH STATEMENT EXECUTE FUNCTION cairn_gal_notify();
CREATE TRIGGER groups_gal_notify
	AFTER INSERT OR UPDATE OR DELETE ON groups
	FOR EACH STATEMENT EXECUTE FUNCTION cairn_gal_notify();
CREATE TRIGGER group_members_gal_notify
	AFTER INSERT OR UPDATE OR DELETE ON group_members
	FOR EACH STATEMENT EXECUTE FUNCTION cairn_gal_notify();
CREATE TRIGGER aliases_gal_notify
	AFTER INSERT OR UPDATE OR DELETE ON aliases
	FOR EACH STATEMENT EXECUTE FUNCTION cairn_gal_notify();
CREATE TRIGGER alias_targets_gal_notify
	AFTER INSERT OR UPDATE OR DELETE ON alias_targets
	FOR EACH STATEMENT EXECUTE FUNCTION cairn_gal_notify();
CREATE TRIGGER resources_gal_notify
	AFTER INSERT OR UPDATE OR DELETE ON resources
	FOR EACH STATEMENT EXECUTE FUNCTION cairn_gal_notify();
