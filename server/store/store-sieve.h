/* Sieve in the store (migration 0021): a user's scripts with at most one
 * active (ManageSieve, cairnctl sieve, delivery), and the state delivery
 * needs to agree on across nodes: vacation replies already sent, duplicate
 * tracking (RFC 7352) and the per-day redirect counter. Addresses are the
 * accounts' primary addresses. */
#ifndef CAIRN_STORE_SIEVE_H
#define CAIRN_STORE_SIEVE_H

#include "store.h"

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

#endif
