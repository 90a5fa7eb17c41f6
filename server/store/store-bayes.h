/* The Bayes classifier's data in PostgreSQL (migration 0023): token counts
 * per account and global (account 0), trained-message bookkeeping, expiry,
 * and the queue of trainings that IMAP actions ask for. */
#ifndef CAIRN_STORE_BAYES_H
#define CAIRN_STORE_BAYES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_BAYES_GLOBAL 0

struct store_bayes_count {
	int64_t token;
	uint32_t nspam, nham;
};

/* The id of the account address (STORE_NOTFOUND when none). */
int store_bayes_account(struct store *st, const char *address, uint64_t *id_r,
			const char **error_r);
/* Messages trained into the account's database and into the global one. */
int store_bayes_vars(struct store *st, uint64_t account_id, uint32_t *nspam_r, uint32_t *nham_r,
		     uint32_t *gspam_r, uint32_t *gham_r, const char **error_r);
/* Counts of the given tokens in database account_id (0 = global); tokens
 * never trained are absent. *counts_r is malloc'ed. */
int store_bayes_lookup(struct store *st, uint64_t account_id, const int64_t *tokens, size_t n,
		       struct store_bayes_count **counts_r, size_t *count_r, const char **error_r);

enum store_bayes_learned {
	STORE_BAYES_LEARNED,	/* new */
	STORE_BAYES_RELEARNED,	/* moved from the other class */
	STORE_BAYES_ALREADY,	/* already trained as that class: nothing done */
};

/* Train one message (msg_key: a hash of its bytes) with its tokens as spam
 * or ham into the account's database and the global one, in one
 * transaction. */
int store_bayes_learn(struct store *st, uint64_t account_id, uint64_t msg_key, bool spam,
		      const int64_t *tokens, size_t n, enum store_bayes_learned *result_r,
		      const char **error_r);
/* Drop tokens of database account_id: hapaxes (seen once) not seen for
 * hapax_days, any token not seen for token_days. */
int store_bayes_expire(struct store *st, uint64_t account_id, unsigned hapax_days,
		       unsigned token_days, uint64_t *deleted_r, const char **error_r);
/* The databases whose last expiry is over a day old (at most 10). */
int store_bayes_expire_due(struct store *st, uint64_t **ids_r, size_t *count_r,
			   const char **error_r);

/* Take up to max queued trainings (removing them); for each, cb gets the
 * account, the class and the message bytes (a message already gone is
 * skipped). Returns the number taken through *taken_r. */
int store_bayes_queue_take(struct store *st, unsigned max,
			   void (*cb)(uint64_t account_id, bool spam, const char *raw, size_t size,
				      void *ctx),
			   void *ctx, size_t *taken_r, const char **error_r);

#endif
