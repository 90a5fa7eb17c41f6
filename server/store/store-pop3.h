/* The POP3 maildrop lock and the UPDATE state, in the store. The lock lives
 * in PostgreSQL (pop3_locks) so it holds across cairnd nodes; it expires
 * after ttl_ms unless refreshed, so a crashed node does not lock a user out
 * for long. */
#ifndef CAIRN_STORE_POP3_H
#define CAIRN_STORE_POP3_H

#include "store.h"

/* Take address's maildrop lock for holder. STORE_OK, STORE_CONFLICT when
 * another live session holds it or (with *too_soon_r set) the last login
 * was less than login_delay_ms ago, STORE_NOTFOUND for an unknown account. */
int store_pop3_lock(struct store *st, const char *address, const char *holder, uint64_t ttl_ms,
		    uint64_t login_delay_ms, bool *too_soon_r, const char **error_r);
/* Push the lock's expiry to now + ttl_ms. STORE_CONFLICT if holder lost it. */
int store_pop3_refresh(struct store *st, const char *address, const char *holder,
		       uint64_t ttl_ms, const char **error_r);
/* Release the lock if holder has it (no error when it does not). */
int store_pop3_unlock(struct store *st, const char *address, const char *holder,
		      const char **error_r);
/* Fetch the raw bytes of several messages of mailbox_id in one query (RETR
 * with read-ahead): cb(uid, data, size, ctx) for each that still exists, in
 * no particular order; data is valid during the call. */
int store_pop3_fetch_many(struct store *st, uint64_t mailbox_id, const uint32_t *uids,
			  size_t count,
			  void (*cb)(uint32_t uid, const char *data, size_t size, void *ctx),
			  void *ctx, const char **error_r);
/* The UPDATE state (RFC 1939 6): in one transaction, check holder still has
 * the lock, mark the retrieved messages seen[0..seen_count) \Seen (for IMAP
 * users), expunge deleted[0..deleted_count) from mailbox_id whatever their
 * flags (messages already gone are skipped), and release the lock.
 * STORE_CONFLICT (nothing changed) when the lock was lost. */
int store_pop3_commit(struct store *st, const char *address, const char *holder,
		      uint64_t mailbox_id, const uint32_t *seen, size_t seen_count,
		      const uint32_t *deleted, size_t deleted_count, const char **error_r);

#endif
