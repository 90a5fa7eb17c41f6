/* The outbound queue in PostgreSQL (migrations 0005 and 0006): runners claim
 * due recipients of one destination under a lease (FOR UPDATE SKIP LOCKED, so
 * nodes share the queue), load their messages, and record each outcome in a
 * transaction that also stores the DSNs it causes and deletes messages whose
 * every recipient is final. `cairnctl queue` lists, flushes and drops. */
#ifndef CAIRN_STORE_QUEUE_H
#define CAIRN_STORE_QUEUE_H

#include "store.h"

#include <time.h>

/* One claimed recipient. Strings malloc'ed (freed with the batch). */
struct store_queue_rcpt {
	uint64_t id;
	uint64_t message_id;
	char *address;
	char *domain;
	char *dsn_notify;	/* NULL if absent */
	char *dsn_orcpt;	/* NULL if absent */
	unsigned attempts;	/* before this one */
	bool warned;		/* the delay DSN was sent */
};

/* One message of a batch, with its content. */
struct store_queue_msg {
	uint64_t id;
	char *envelope_from;	/* "" = null reverse-path */
	uint64_t size;
	char *dsn_ret;		/* "FULL", "HDRS" or NULL */
	char *dsn_envid;	/* NULL if absent */
	char *body;		/* "7BIT" / "8BITMIME" */
	bool smtputf8;
	time_t created;
	char *dkim_signature;	/* NULL = not signed yet; "" = nothing to sign with */
	char *data;		/* the message (CRLF) */
	size_t data_len;
};

/* Claimed recipients, and their messages. */
struct store_queue_batch {
	struct store_queue_rcpt *rcpts;	/* ordered by domain, message id, id */
	size_t nrcpts;
	struct store_queue_msg *msgs;	/* one per distinct message id */
	size_t nmsgs;
};

/* Claim up to limit due recipients, oldest first (of domain, or of any
 * domain not in exclude, a newline-separated list) for node with a lease of
 * lease_ms, and load their messages. The runner sends them domain by
 * domain. An empty batch (nrcpts 0) means nothing is due.
 * Returns STORE_OK or a failure with *error_r. */
int store_queue_claim(struct store *st, const char *node, const char *domain, const char *exclude,
		      unsigned limit, uint64_t lease_ms, struct store_queue_batch *batch,
		      const char **error_r);
void store_queue_batch_free(struct store_queue_batch *batch);
/* The message of a claimed recipient, or NULL. */
struct store_queue_msg *store_queue_batch_msg(struct store_queue_batch *batch, uint64_t id);

/* Extend every lease node holds. */
int store_queue_renew(struct store *st, const char *node, uint64_t lease_ms, const char **error_r);
/* Settle leases given up (expired, or of an earlier process of this host:
 * host = "name", prefix = "name/pid/"): rows without dot_sent become due
 * again, rows with it are presumed delivered, and finished messages go.
 * *reclaimed_r and *presumed_r count rows. */
int store_queue_reclaim(struct store *st, const char *host, const char *prefix,
			size_t *reclaimed_r, size_t *presumed_r, const char **error_r);

/* A new outcome for one claimed recipient. */
struct store_queue_update {
	uint64_t rcpt_id;
	uint64_t message_id;	/* its message */
	const char *state;	/* "delivered", "failed", "deferred", or "queued" (released) */
	const char *status;	/* RFC 3463 code or NULL */
	const char *error;	/* the remote reply or our reason, NULL if none */
	const char *remote_host;	/* NULL keeps the previous one */
	int64_t retry_in_ms;	/* next attempt from now; -1 keeps it */
	bool attempted;		/* this counts as one more attempt */
	bool warned;		/* a delay DSN is stored with this change */
	bool dsn_sent;		/* a final DSN is stored with this change */
};

/* A DSN (bounce, delay or success report) for a message's sender, stored in
 * the same transaction as the outcomes it reports. */
struct store_queue_dsn {
	const char *data;	/* the whole message, CRLF */
	size_t size;
	const char *to;		/* the original envelope sender */
	uint64_t mailbox_id;	/* the sender's INBOX when local (data starts with
				 * Return-Path: <>), else 0: queued with MAIL FROM:<> */
	/* Local and the sender has Sieve scripts: what they decided
	 * (deliver-sieve's plan), carried out instead of the INBOX append in
	 * the same transaction (store_sieve_deliver_locked). */
	struct store_sieve_txn *sieve;
};

/* One transaction of outcomes. */
struct store_queue_txn {
	const struct store_queue_update *updates;
	size_t nupdates;
	uint64_t dot_message;		/* their message */
	const uint64_t *dot_ids;	/* recipients whose final dot is about to go */
	size_t ndot;
	const char *dot_host;
	const struct store_queue_dsn *dsns;
	size_t ndsns;
	const uint64_t *message_ids;	/* delete those whose recipients are all final */
	size_t nmessages;
	const uint64_t *dkim_ids;	/* messages whose DKIM-Signature fields to keep */
	const char *const *dkim_sigs;
	size_t ndkim;
	size_t lost;			/* out: updates whose lease another runner has taken */
	size_t dsns_dropped;		/* out: local DSNs refused by the sender's quota */
};

/* Apply t in one transaction for node. A local DSN that the sender's quota
 * refuses is dropped (counted) rather than blocking the outcomes. */
int store_queue_apply(struct store *st, const char *node, struct store_queue_txn *t,
		      const char **error_r);

/* The same in two halves around the final dot of a message: _begin runs
 * every statement and sends COMMIT without waiting; the caller writes the
 * dot at once, then _end waits for the COMMIT's result. A kill between the
 * two halves leaves PostgreSQL to finish the COMMIT it has received, so
 * "dot_sent committed" and "dot written" are two back-to-back system calls
 * apart instead of a round trip and a thread wake-up. _begin failing means
 * nothing was applied (fall back to store_queue_apply); _end failing means
 * the COMMIT failed (nothing applied either). */
int store_queue_apply_begin(struct store *st, const char *node, struct store_queue_txn *t,
			    const char **error_r);
int store_queue_apply_end(struct store *st, const char **error_r);

/* Messages and recipients waiting, and the age of the oldest message. */
int store_queue_stats(struct store *st, uint64_t *messages_r, uint64_t *rcpts_r,
		      uint64_t *oldest_s_r, const char **error_r);

/* Delete the messages whose recipients are all final but whose row is still
 * there: two runners finishing different recipients of one message at the
 * same moment each see the other's rows as unfinished, so neither deletes it.
 * Older than 30 s only, so a runner's own finish always comes first. */
int store_queue_sweep(struct store *st, size_t *deleted_r, const char **error_r);

/* LISTEN for new queue work on this connection; store_queue_wait then waits
 * up to timeout_ms and returns 1 when notified, 0 on timeout, or a store
 * failure (the caller reconnects and listens again). */
int store_queue_listen(struct store *st, const char **error_r);
/* Tell the runners of every node (their LISTEN) that mail was queued: a
 * transaction of its own that does not wait for the WAL flush, so the
 * database-wide lock of NOTIFY is held only for an instant (migration
 * 0013). Outside a transaction only. */
int store_queue_notify(struct store *st, const char **error_r);
int store_queue_wait(struct store *st, uint64_t timeout_ms, const char **error_r);

/* One row of `cairnctl queue list/show`: every field as text. */
struct store_queue_row {
	const char *id, *from, *size, *created, *rcpt, *state, *attempts, *next_attempt;
	const char *last_error, *status, *remote_host, *notify, *orcpt, *ret, *envid, *body;
	const char *smtputf8, *claimed_by;
};
/* Call cb per recipient of message id (or every message if id is 0). */
int store_queue_list(struct store *st, uint64_t id,
		     void (*cb)(const struct store_queue_row *row, void *ctx), void *ctx,
		     const char **error_r);
/* Make recipients of message id (0 = all) due now and wake the runners;
 * *count_r recipients. */
int store_queue_flush(struct store *st, uint64_t id, uint64_t *count_r, const char **error_r);
/* Delete message id without DSNs. STORE_NOTFOUND if there is none,
 * STORE_CONFLICT while a runner is sending it. */
int store_queue_drop(struct store *st, uint64_t id, const char **error_r);

#endif
