/* The scan stage's tables (migration 0022): per-domain and per-user policy
 * overrides, and the quarantine (messages kept out of every mailbox until
 * released into the INBOX or deleted). */
#ifndef CAIRN_STORE_SCAN_H
#define CAIRN_STORE_SCAN_H

#include "store.h"

/* One policy row. A field left at its "inherit" value takes the value of
 * the wider scope (domain, then [scan]). */
struct store_scan_policy {
	char target[321];	/* "example.org" or "ann@example.org", lower-case */
	int enabled;		/* -1 inherit, 0 off, 1 on */
	double tag, junk, quarantine, reject;	/* NAN inherit, INFINITY off */
	int virus_quarantine;	/* -1 inherit, 0 reject, 1 quarantine */
};

/* Set every field of p to "inherit" (target kept). */
void store_scan_policy_init(struct store_scan_policy *p);
/* The row of target (lower-cased here) into *p. STORE_OK, STORE_NOTFOUND
 * (p all-inherit) or an error. */
int store_scan_policy_get(struct store *st, const char *target, struct store_scan_policy *p,
			  const char **error_r);
/* Insert or replace the row of p->target. */
int store_scan_policy_set(struct store *st, const struct store_scan_policy *p,
			  const char **error_r);
/* Delete the row of target: STORE_OK or STORE_NOTFOUND. */
int store_scan_policy_delete(struct store *st, const char *target, const char **error_r);
/* Every row, ordered by target. */
int store_scan_policy_list(struct store *st,
			   void (*cb)(const struct store_scan_policy *p, void *ctx), void *ctx,
			   const char **error_r);

/* A quarantined message without its content. */
struct store_quarantine_item {
	int64_t id;
	const char *account;
	const char *received;	/* "YYYY-MM-DDTHH:MM:SSZ" */
	const char *envelope_from;
	const char *client_ip;
	const char *reason;
	double score;
	const char *tests;
	const char *subject;
	uint64_t size;
};

/* The message held for each of accounts (one row each, one transaction).
 * data is the copy as it would be stored. ids_r[naccounts] gets the ids. */
int store_scan_quarantine_add(struct store *st, const char *const *accounts, size_t naccounts,
			      const char *data, size_t size, const struct store_quarantine_item *meta,
			      int64_t *ids_r, const char **error_r);
/* Call cb for each message of account (NULL = all), oldest first; strings
 * borrowed for the call. */
int store_scan_quarantine_list(struct store *st, const char *account,
			       void (*cb)(const struct store_quarantine_item *item, void *ctx),
			       void *ctx, const char **error_r);
/* One message: its listing to cb (may be NULL) and its content appended to
 * raw (may be NULL). STORE_NOTFOUND when there is no such id. */
int store_scan_quarantine_get(struct store *st, int64_t id,
			      void (*cb)(const struct store_quarantine_item *item, void *ctx),
			      void *ctx, struct buf *raw, const char **error_r);
/* Delete messages by id: STORE_OK or STORE_NOTFOUND. */
int store_scan_quarantine_delete(struct store *st, int64_t id, const char **error_r);
/* Delete the messages older than max_age_s (0 = none); count to *n_r. */
int store_scan_quarantine_expire(struct store *st, uint64_t max_age_s, uint64_t *n_r,
				 const char **error_r);
/* Deliver the message into its account's INBOX and remove it from the
 * quarantine. A claim on the row keeps two releases from both delivering.
 * STORE_NOTFOUND (no such id or released by another), STORE_OVERQUOTA, or
 * an error (the message stays quarantined). The new uid to *uid_r. */
int store_scan_quarantine_release(struct store *st, int64_t id, char *account_r,
				  size_t account_size, uint32_t *uid_r, const char **error_r);
/* Deliver data to the account's \Junk mailbox ("Junk" created, with the
 * \Junk special use, when the account has none), with $Junk set. */
int store_scan_deliver_junk(struct store *st, const char *account, const char *data,
			    size_t size, uint32_t *uid_r, const char **error_r);

#endif
