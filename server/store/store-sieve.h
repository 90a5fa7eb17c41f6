/* Sieve in the store (migration 0021): a user's scripts with at most one
 * active (ManageSieve, cairnctl sieve, delivery), and the state delivery
 * needs to agree on across nodes: vacation replies already sent, duplicate
 * tracking (RFC 7352) and the per-day redirect counter. Addresses are the
 * accounts' primary addresses. */
#ifndef CAIRN_STORE_SIEVE_H
#define CAIRN_STORE_SIEVE_H

#include "store.h"
#include "store-deliver.h"

/* Quotas checked when a script is stored (0: no limit). */
struct store_sieve_limits {
	uint64_t max_scripts;		/* scripts per account */
	uint64_t max_total_size;	/* octets of all the account's scripts */
};

/* cb(name, active, size, ctx) for each script of address, by name.
 * STORE_OK also when there is none (an unknown account lists nothing). */
int store_sieve_list(struct store *st, const char *address,
		     void (*cb)(const char *name, bool active, uint64_t size, void *ctx),
		     void *ctx, const char **error_r);
/* Append script name's content to out; *active_r tells whether it is the
 * active one (active_r may be NULL). STORE_NOTFOUND if there is no such
 * script. */
int store_sieve_get(struct store *st, const char *address, const char *name, struct buf *out,
		    bool *active_r, const char **error_r);
/* The active script: its name (malloc'ed into *name_r) and content appended
 * to out. STORE_NOTFOUND when none is active. */
int store_sieve_get_active(struct store *st, const char *address, char **name_r,
			   struct buf *out, const char **error_r);
/* Would a script of size octets stored as name (replacing one of that name)
 * fit the limits? STORE_OK, STORE_OVERQUOTA (the reason in *error_r says
 * which quota), STORE_NOTFOUND for an unknown account. */
int store_sieve_havespace(struct store *st, const char *address, const char *name,
			  uint64_t size, const struct store_sieve_limits *lim,
			  const char **error_r);
/* Store (create or replace) a script, checking the limits under a lock on
 * the account, so concurrent uploads cannot pass them together. The active
 * flag of a replaced script is kept. STORE_OK, STORE_OVERQUOTA,
 * STORE_NOTFOUND (account). */
int store_sieve_put(struct store *st, const char *address, const char *name,
		    const char *content, size_t len, const struct store_sieve_limits *lim,
		    const char **error_r);
/* Make name the active script (NULL or "": none is active any more).
 * STORE_NOTFOUND if there is no such script (nothing changed). */
int store_sieve_activate(struct store *st, const char *address, const char *name,
			 const char **error_r);
/* Delete a script. STORE_NOTFOUND, or STORE_CONFLICT when it is the active
 * one (RFC 5804 2.10: it must be deactivated first). */
int store_sieve_delete(struct store *st, const char *address, const char *name,
		       const char **error_r);
/* Rename a script (keeping its active flag). STORE_NOTFOUND, STORE_EXISTS
 * when new_name is taken. */
int store_sieve_rename(struct store *st, const char *address, const char *old_name,
		       const char *new_name, const char **error_r);

/* Vacation (RFC 5230 4.2): claim the right to answer sender for handle now.
 * *answer_r is true when no reply was sent within the last period (then the
 * period restarts at now and lasts seconds), false when one was: atomic
 * across nodes, so of two deliveries racing exactly one gets true. */
int store_sieve_vacation_claim(struct store *st, const char *address, const char *sender,
			       const char *handle, uint64_t seconds, bool *answer_r,
			       const char **error_r);
/* Was sender answered for handle within its period? (no claim made) */
int store_sieve_vacation_answered(struct store *st, const char *address, const char *sender,
				  const char *handle, bool *answered_r, const char **error_r);
/* duplicate (RFC 7352): *seen_r tells whether value_hash was recorded under
 * handle and has not expired. */
int store_sieve_duplicate_check(struct store *st, const char *address, const char *handle,
				const char *value_hash, bool *seen_r, const char **error_r);
/* Record value_hash under handle for seconds (restarting its period). */
int store_sieve_duplicate_record(struct store *st, const char *address, const char *handle,
				 const char *value_hash, uint64_t seconds, const char **error_r);
/* Count one redirect of address today (UTC). *allowed_r is false (and
 * nothing counted) when cap redirects were already counted today. */
int store_sieve_redirect_count(struct store *st, const char *address, uint64_t cap,
			       bool *allowed_r, const char **error_r);
/* Forget expired vacation, duplicate and redirect rows. */
int store_sieve_expire(struct store *st, const char **error_r);

/* A delivery decided by Sieve, carried out in ONE transaction: local
 * copies into given mailboxes with flags, messages queued (the original
 * for its remote recipients, redirects, vacation replies, rejection
 * notices), vacation claims, redirect counts and duplicate records. */
struct store_sieve_copy {
	const char *account;
	uint64_t mailbox_id;
	const char *data;		/* the whole message as stored (Return-Path: first) */
	size_t size;
	unsigned flags;			/* STORE_FLAG_* */
	const char *const *keywords;
	size_t keyword_count;
	size_t target;			/* index of the recipient it belongs to */
	/* Store it only if outs[only_if_unsent] was not sent (a redirect
	 * refused by the daily cap keeps the message); SIZE_MAX: always. */
	size_t only_if_unsent;
	uint32_t uid;			/* out */
};

struct store_sieve_out {
	const char *from;		/* envelope sender, "" for <> */
	const char *data;
	size_t size;
	struct store_deliver_rcpt *rcpts;	/* remote recipients (results out) */
	size_t nrcpts;
	const char *dsn_ret, *dsn_envid, *body, *auth_user, *client_ip;
	bool smtputf8;
	size_t target;			/* recipient it belongs to, SIZE_MAX: none */
	/* Send only if this vacation claim succeeds (store_sieve_vacation_claim). */
	const char *claim_sender, *claim_handle;
	uint64_t claim_seconds;
	/* Send only if the account's daily redirect count stays within cap. */
	bool count_redirect;
	uint64_t redirect_cap;
	bool sent;			/* out: queued (false: claim or cap refused it) */
};

struct store_sieve_dup {
	const char *handle;		/* RFC 7352: the id is already hashed with it */
	const char *id;
	uint64_t seconds;
	size_t target;
};

struct store_sieve_txn {
	const char *const *accounts;	/* per target: the account, NULL for remote */
	int *results;			/* per target, out: STORE_OK, STORE_OVERQUOTA, ... */
	size_t ntargets;
	struct store_sieve_copy *copies;
	size_t ncopies;
	struct store_sieve_out *outs;
	size_t nouts;
	struct store_sieve_dup *dups;
	size_t ndups;
	bool partial;			/* LMTP: a target's failure is its own */
	bool queued;			/* out: something was queued */
	/* As store_deliver_msg.after: run last, for the accounts that got a
	 * copy stored (store_deliver_run_after). NULL: nothing. */
	store_deliver_after_fn *after;
	void *after_ctx;
};

/* Run t in one transaction. With partial, a target refused by its quota
 * (or gone) gets that result and the rest is committed; else any refusal
 * rolls everything back and is returned. STORE_OK once committed. */
int store_sieve_deliver(struct store *st, struct store_sieve_txn *t, const char **error_r);
/* The same inside the caller's transaction (e.g. a DSN the queue stores with
 * its outcomes): returns the store_result, the caller rolls back on error.
 * May run again when the caller's transaction is retried. */
int store_sieve_deliver_locked(struct store *st, struct store_sieve_txn *t);

#endif
