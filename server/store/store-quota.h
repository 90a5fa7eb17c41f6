/* Quota roots for IMAP QUOTA (RFC 9208) and cairnctl: one root per account,
 * whose limits are accounts.quota_bytes/quota_messages and whose usage is
 * the exact mail_usage row the mail store keeps in its own transactions.
 * A mailbox's root is its owner's, whoever asks: a mailbox in another
 * user's namespace counts against that user. */
#ifndef CAIRN_STORE_QUOTA_H
#define CAIRN_STORE_QUOTA_H

#include "store.h"

/* Pass as a limit to store_quota_set to leave it as it is. */
#define STORE_QUOTA_KEEP (-2)

/* One account's quota: its address, what it uses and its limits. */
struct store_quota {
	char owner[321];	/* the account's address, lower-case */
	uint64_t bytes;
	uint64_t messages;
	int64_t limit_bytes;	/* -1 = no limit */
	int64_t limit_messages;	/* -1 = no limit */
};

/* The quota of the account address. STORE_NOTFOUND if unknown. */
int store_quota_account(struct store *st, const char *address, struct store_quota *q_r,
			const char **error_r);
/* The quota that mailbox_id counts against: its owner's (STORE_NOTFOUND if
 * the mailbox is gone). */
int store_quota_mailbox(struct store *st, uint64_t mailbox_id, struct store_quota *q_r,
			const char **error_r);
/* Set an account's limits: a number >= 0, -1 to remove the limit, or
 * STORE_QUOTA_KEEP. Usage may exceed a lowered limit: only growth is then
 * refused. STORE_NOTFOUND if the account is unknown. */
int store_quota_set(struct store *st, const char *address, int64_t limit_bytes,
		    int64_t limit_messages, const char **error_r);
/* Whether address is an enabled administrator (accounts.is_admin); false for
 * an unknown address. */
int store_quota_is_admin(struct store *st, const char *address, bool *admin_r,
			 const char **error_r);
/* Bytes of the \Deleted messages of a mailbox: what EXPUNGE would give back
 * to the quota (STATUS DELETED-STORAGE). */
int store_quota_deleted_bytes(struct store *st, uint64_t mailbox_id, uint64_t *bytes_r,
			      const char **error_r);

#endif
