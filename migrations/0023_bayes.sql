-- 0023: the Bayes classifier of the scan stage (issue 14) and greylisting.
-- Never edit this file once it has landed.

-- Token counts: per account, and account_id 0 for the global database that
-- every training also feeds (the fallback for accounts with too little
-- training). token is a 64-bit hash of the token text; atime the day it
-- was last trained or seen, for expiry.
CREATE TABLE bayes_tokens (
	account_id bigint NOT NULL,
	token bigint NOT NULL,
	nspam integer NOT NULL DEFAULT 0 CONSTRAINT bayes_tokens_nspam CHECK (nspam >= 0),
	nham integer NOT NULL DEFAULT 0 CONSTRAINT bayes_tokens_nham CHECK (nham >= 0),
	atime date NOT NULL DEFAULT current_date,
	PRIMARY KEY (account_id, token)
);
CREATE INDEX bayes_tokens_atime ON bayes_tokens (account_id, atime);

-- Messages trained per database (account_id 0 = global).
CREATE TABLE bayes_vars (
	account_id bigint PRIMARY KEY,
	nspam integer NOT NULL DEFAULT 0 CONSTRAINT bayes_vars_nspam CHECK (nspam >= 0),
	nham integer NOT NULL DEFAULT 0 CONSTRAINT bayes_vars_nham CHECK (nham >= 0),
	last_expire timestamptz NOT NULL DEFAULT now()
);

-- What each account trained, so that training a message twice counts once
-- and training it as the other class moves it (unlearn, then learn).
-- msg_key is a 64-bit hash of the message bytes.
CREATE TABLE bayes_seen (
	account_id bigint NOT NULL,
	msg_key bigint NOT NULL,
	spam boolean NOT NULL,
	learned_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (account_id, msg_key)
);

-- A deleted account takes its Bayes data along (account_id 0 is global and
-- no account).
CREATE FUNCTION bayes_forget_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM bayes_tokens WHERE account_id = OLD.id;
	DELETE FROM bayes_vars WHERE account_id = OLD.id;
	DELETE FROM bayes_seen WHERE account_id = OLD.id;
	RETURN OLD;
END $$;
CREATE TRIGGER accounts_bayes_forget AFTER DELETE ON accounts
	FOR EACH ROW EXECUTE FUNCTION bayes_forget_account();

-- Training asked for by users over IMAP, done later by cairnd's trainer
-- (server/scan/bayes-trainer.c): a message copied or moved into a \Junk
-- mailbox, or flagged $Junk, is spam; one moved or copied out of \Junk into
-- another mailbox (not \Trash), or flagged $NotJunk, is ham. The triggers below
-- write the rows, so every IMAP path (MOVE, COPY, APPEND, STORE) trains
-- without code in the IMAP gateway.
CREATE TABLE bayes_train_queue (
	id bigserial PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	blob_id bigint NOT NULL,
	spam boolean NOT NULL,
	queued_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION bayes_queue_train() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	acct bigint;
	use text;
	other boolean;
BEGIN
	SELECT account_id, special_use INTO acct, use FROM mailboxes WHERE id = NEW.mailbox_id;
	IF TG_OP = 'INSERT' THEN
		IF '$Junk' = ANY (NEW.keywords) THEN
			INSERT INTO bayes_train_queue (account_id, blob_id, spam) VALUES (acct, NEW.blob_id, true);
		ELSIF use = '\Junk' THEN
			-- copied or moved in by the user: the message is already in
			-- another of the account's mailboxes (a MOVE copies first,
			-- then expunges). Delivery to Junk by the scan stage is a new
			-- message there and trains nothing: no learning from our own
			-- verdicts.
			SELECT EXISTS (SELECT 1 FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id
				WHERE m.account_id = acct AND mm.blob_id = NEW.blob_id
				AND m.id <> NEW.mailbox_id) INTO other;
			IF other THEN
				INSERT INTO bayes_train_queue (account_id, blob_id, spam)
					VALUES (acct, NEW.blob_id, true);
			END IF;
		ELSIF '$NotJunk' = ANY (NEW.keywords) THEN
			INSERT INTO bayes_train_queue (account_id, blob_id, spam) VALUES (acct, NEW.blob_id, false);
		ELSIF use IS DISTINCT FROM '\Trash' THEN
			-- copied out of Junk while the Junk copy still exists (MOVE)
			SELECT EXISTS (SELECT 1 FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id
				WHERE m.account_id = acct AND mm.blob_id = NEW.blob_id
				AND m.special_use = '\Junk') INTO other;
			IF other THEN
				INSERT INTO bayes_train_queue (account_id, blob_id, spam)
					VALUES (acct, NEW.blob_id, false);
			END IF;
		END IF;
	ELSE
		IF '$Junk' = ANY (NEW.keywords) AND NOT '$Junk' = ANY (OLD.keywords) THEN
			INSERT INTO bayes_train_queue (account_id, blob_id, spam) VALUES (acct, NEW.blob_id, true);
		ELSIF '$NotJunk' = ANY (NEW.keywords) AND NOT '$NotJunk' = ANY (OLD.keywords) THEN
			INSERT INTO bayes_train_queue (account_id, blob_id, spam) VALUES (acct, NEW.blob_id, false);
		END IF;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER mailbox_messages_bayes_insert AFTER INSERT ON mailbox_messages
	FOR EACH ROW EXECUTE FUNCTION bayes_queue_train();
CREATE TRIGGER mailbox_messages_bayes_keywords AFTER UPDATE OF keywords ON mailbox_messages
	FOR EACH ROW EXECUTE FUNCTION bayes_queue_train();

-- Greylisting triplets (client network, sender, recipient), shared by every
-- node: first_seen starts the delay, passed is set once a retry came after
-- it, last_seen drives expiry.
CREATE TABLE greylist (
	client_net text NOT NULL,
	sender text NOT NULL,
	recipient text NOT NULL,
	first_seen timestamptz NOT NULL DEFAULT now(),
	last_seen timestamptz NOT NULL DEFAULT now(),
	passed boolean NOT NULL DEFAULT false,
	PRIMARY KEY (client_net, sender, recipient)
);
CREATE INDEX greylist_last_seen ON greylist (last_seen);
