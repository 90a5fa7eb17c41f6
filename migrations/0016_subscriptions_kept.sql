-- 0016: a subscription outlives its mailbox (issue 13).
-- Never edit this file once it has landed: add a new migration instead.

-- RFC 3501 6.3.6: "A server MUST NOT unilaterally remove an existing
-- mailbox name from the subscription list even if a mailbox by that name
-- no longer exists." The subscription is mailboxes.subscribed, so DELETE
-- used to drop it with the row. Now the name of a deleted subscribed
-- mailbox is kept here (LSUB and LIST (SUBSCRIBED) show it, the latter as
-- \NonExistent, RFC 5258 3.1) until it is unsubscribed, or a mailbox of
-- that name is created again, which then starts out subscribed. Deleting
-- the account forgets them (the trigger sees no account row then).
CREATE TABLE mailbox_subscriptions_kept (
	account_id bigint NOT NULL,
	name text NOT NULL,
	PRIMARY KEY (account_id, name)
);

CREATE FUNCTION mailbox_subscription_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.subscribed AND EXISTS (SELECT 1 FROM accounts WHERE id = OLD.account_id) THEN
		INSERT INTO mailbox_subscriptions_kept (account_id, name)
		VALUES (OLD.account_id, OLD.name) ON CONFLICT DO NOTHING;
	END IF;
	RETURN OLD;
END
$$;
CREATE TRIGGER mailboxes_keep_subscription BEFORE DELETE ON mailboxes
	FOR EACH ROW EXECUTE FUNCTION mailbox_subscription_keep();

CREATE FUNCTION mailbox_subscription_revive() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM mailbox_subscriptions_kept WHERE account_id = NEW.account_id AND name = NEW.name;
	IF FOUND THEN
		NEW.subscribed := true;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER mailboxes_revive_subscription BEFORE INSERT ON mailboxes
	FOR EACH ROW EXECUTE FUNCTION mailbox_subscription_revive();

CREATE FUNCTION mailbox_subscriptions_forget_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM mailbox_subscriptions_kept WHERE account_id = OLD.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER accounts_forget_kept_subscriptions AFTER DELETE ON accounts
	FOR EACH ROW EXECUTE FUNCTION mailbox_subscriptions_forget_account();
