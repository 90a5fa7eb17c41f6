/* The mail store (migration 0002): mailboxes, messages, flags, quota, the
 * calls every gateway (SMTP delivery, IMAP, POP3) and cairnctl make.
 *
 * Messages are kept exactly as received (CRLF or LF, as they came); each
 * distinct content is stored once (SHA-256) with its parsed metadata, so no
 * gateway parses a message again. Every call that changes a mailbox is one
 * transaction that locks the mailbox row first (uidnext/highestmodseq), then
 * the account's mail_usage row (quota), so UIDs are strictly increasing,
 * modseqs monotonic and quota usage exact under concurrency. After a change
 * the transaction sends NOTIFY on channel "cairn_mailbox" with the payload
 * "<mailbox id>:<highestmodseq>" (decimal), delivered at COMMIT, so IDLE on
 * any node can wake and ask for changes since its modseq.
 *
 * Mailbox names are UTF-8 with '/' as the hierarchy separator; "INBOX" is
 * case-insensitive and always stored as "INBOX" (also as a parent). */
#ifndef CAIRN_STORE_MAIL_H
#define CAIRN_STORE_MAIL_H

#include "store.h"

#include <time.h>

/* System flags, as kept in mailbox_messages.flags. */
#define STORE_FLAG_SEEN 0x01
#define STORE_FLAG_ANSWERED 0x02
#define STORE_FLAG_FLAGGED 0x04
#define STORE_FLAG_DELETED 0x08
#define STORE_FLAG_DRAFT 0x10
#define STORE_FLAGS_ALL 0x1f

#define STORE_MAILBOX_NAME_MAX 512	/* bytes of UTF-8 */
#define STORE_KEYWORD_MAX 64		/* bytes of one keyword */

struct store_mailbox_info {
	uint64_t id;
	char name[STORE_MAILBOX_NAME_MAX + 1];
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	char special_use[16];	/* "\Sent" ..., "" if none */
	bool subscribed;
	bool noselect;		/* deleted but kept for its children */
	bool has_children;	/* set by store_mailbox_list only */
};

struct store_mailbox_status {
	uint32_t messages;
	uint32_t recent;	/* uid >= first_recent_uid: not yet claimed by a session */
	uint32_t unseen;
	uint32_t uidnext;
	uint32_t uidvalidity;
	uint64_t highestmodseq;
	uint64_t size;		/* sum of message sizes (RFC 8438 STATUS SIZE) */
};

/* A set of UIDs: ranges lo..hi inclusive. A NULL set means every message. */
struct store_uid_range {
	uint32_t lo, hi;
};

/* One message to append. data is not copied; it must stay valid during the
 * call. keywords: IMAP atoms without '\' (at most STORE_KEYWORD_MAX bytes). */
struct store_append_msg {
	const char *data;
	size_t size;
	time_t internaldate;	/* 0 = now */
	int internaldate_zone;	/* minutes east of UTC it was given in */
	unsigned flags;		/* STORE_FLAG_* */
	const char *const *keywords;
	size_t keyword_count;
};

/* What a FETCH needs, handed to a callback; strings borrowed for the call. */
struct store_msg_meta {
	uint32_t uid;
	uint64_t modseq;
	unsigned flags;
	const char *keywords;	/* space-separated, "" if none */
	time_t internaldate;
	int internaldate_zone;	/* minutes east of UTC (APPEND's zone, else 0) */
	time_t savedate;
	uint64_t size;
	uint64_t lines;
	const char *envelope;	/* NULL unless STORE_FETCH_ENVELOPE */
	const char *bodystructure;	/* NULL unless STORE_FETCH_BODYSTRUCTURE */
	const char *body;	/* NULL unless STORE_FETCH_BODYSTRUCTURE */
	uint64_t blob_id;	/* the content's id (OBJECTID EMAILID); store_fetch only */
};

#define STORE_FETCH_ENVELOPE 0x01
#define STORE_FETCH_BODYSTRUCTURE 0x02

enum store_flag_op {
	STORE_FLAGS_ADD,	/* +FLAGS */
	STORE_FLAGS_REMOVE,	/* -FLAGS */
	STORE_FLAGS_REPLACE,	/* FLAGS */
};

/* No UNCHANGEDSINCE given. */
#define STORE_NO_UNCHANGEDSINCE UINT64_MAX

/* Outcome of store_flags_update: malloc'ed arrays, free with
 * store_flags_result_free. */
struct store_flags_result {
	uint64_t modseq;	/* the modseq given to the changed messages */
	uint32_t *modified;	/* uids whose flags changed, ascending */
	size_t modified_count;
	uint32_t *failed;	/* uids refused by UNCHANGEDSINCE, ascending */
	size_t failed_count;
};

/* Outcome of store_copy (COPYUID): src[i] became dst[i]; malloc'ed arrays,
 * free with store_copy_result_free. */
struct store_copy_result {
	uint32_t uidvalidity;	/* of the destination */
	uint32_t *src;
	uint32_t *dst;
	size_t count;
};

/* ---- mailboxes ---- */

/* Create mailbox name for account address, creating missing parents too.
 * special_use is NULL or one of "\All" "\Archive" "\Drafts" "\Flagged" "\Junk"
 * "\Sent" "\Trash". STORE_EXISTS if it exists (a \Noselect one is revived). */
int store_mailbox_create(struct store *st, const char *address, const char *name,
			 const char *special_use, uint64_t *id_r, const char **error_r);
/* Rename a mailbox and its children (ids and uidvalidity kept). Renaming
 * INBOX moves its messages to a new mailbox and leaves INBOX empty. */
int store_mailbox_rename(struct store *st, const char *address, const char *from,
			 const char *to, const char **error_r);
/* Delete a mailbox (INBOX refused). One with children becomes \Noselect and
 * loses its messages; one with children that is already \Noselect is refused. */
int store_mailbox_delete(struct store *st, const char *address, const char *name,
			 const char **error_r);
/* Call cb for every mailbox of the account, in name order. */
int store_mailbox_list(struct store *st, const char *address,
		       void (*cb)(const struct store_mailbox_info *info, void *ctx), void *ctx,
		       const char **error_r);
/* Set or clear the subscribed flag of an existing mailbox. */
/* The subscribed names whose mailbox was deleted (RFC 3501 6.3.6 keeps
 * them), ascending; cb gets each UTF-8 name. STORE_OK or an error. */
int store_subscriptions_kept(struct store *st, const char *address,
			     void (*cb)(const char *name, void *ctx), void *ctx,
			     const char **error_r);
int store_mailbox_subscribe(struct store *st, const char *address, const char *name,
			    bool subscribed, const char **error_r);
/* Look a mailbox up by name (SELECT/EXAMINE/APPEND). STORE_NOTFOUND if it
 * does not exist; a \Noselect one is returned with noselect set. */
int store_mailbox_open(struct store *st, const char *address, const char *name,
		       struct store_mailbox_info *info_r, const char **error_r);
/* Counts for STATUS / SELECT. */
int store_mailbox_status(struct store *st, uint64_t mailbox_id,
			 struct store_mailbox_status *status_r, const char **error_r);
/* A session claims the \Recent messages: returns in *first_recent_r the
 * first uid that is \Recent for it (all uids >= it, below *uidnext_r) and
 * moves the mailbox's first_recent_uid to uidnext so no other session sees
 * them as \Recent. */
int store_mailbox_claim_recent(struct store *st, uint64_t mailbox_id, uint32_t *first_recent_r,
			       uint32_t *uidnext_r, const char **error_r);
/* Create INBOX, Drafts (\Drafts), Sent (\Sent), Trash (\Trash), Junk (\Junk)
 * and Archive (\Archive), subscribed, where missing. Idempotent and safe
 * against concurrent callers. */
int store_mailbox_provision_defaults(struct store *st, const char *address,
				     const char **error_r);
/* Account usage and limits (limit -1 = none). */
int store_quota_get(struct store *st, const char *address, uint64_t *bytes_r,
		    uint64_t *messages_r, int64_t *limit_bytes_r, int64_t *limit_messages_r,
		    const char **error_r);

/* ---- messages ---- */

/* Append count messages in one transaction (MULTIAPPEND): blobs deduplicated
 * by SHA-256, consecutive new uids written to uids_r[count], quota checked
 * (STORE_OVERQUOTA, nothing appended). */
int store_append(struct store *st, uint64_t mailbox_id, const struct store_append_msg *msgs,
		 size_t count, uint32_t *uidvalidity_r, uint32_t *uids_r, const char **error_r);
/* Deliver one message to the INBOX of address (provisioning the default
 * mailboxes if the account has none yet). */
int store_deliver(struct store *st, const char *address, const struct store_append_msg *msg,
		  uint64_t *mailbox_id_r, uint32_t *uid_r, const char **error_r);
/* Copy (or move) the messages of set from src to dst, sharing the blobs, in
 * uid order. STORE_OVERQUOTA on copy past the quota. */
int store_copy(struct store *st, uint64_t src_id, uint64_t dst_id,
	       const struct store_uid_range *set, size_t set_count, bool move,
	       struct store_copy_result *result_r, const char **error_r);
/* Free the arrays of a copy result. */
void store_copy_result_free(struct store_copy_result *result);
/* Change flags and keywords of the messages of set (NULL = all); with
 * unchangedsince != STORE_NO_UNCHANGEDSINCE messages whose modseq is higher
 * are left alone and listed as failed (RFC 7162 STORE UNCHANGEDSINCE). */
int store_flags_update(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		       size_t set_count, enum store_flag_op op, unsigned flags,
		       const char *const *keywords, size_t keyword_count, uint64_t unchangedsince,
		       struct store_flags_result *result_r, const char **error_r);
/* Free the arrays of a flags result. */
void store_flags_result_free(struct store_flags_result *result);
/* Remove the \Deleted messages (of set, or all when set is NULL), leaving
 * tombstones for changes-since. *uids_r (malloc'ed, may be NULL) lists them. */
int store_expunge(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		  size_t set_count, uint32_t **uids_r, size_t *count_r, const char **error_r);
/* Call cb for each message of set in uid order; what = STORE_FETCH_* bits. */
int store_fetch(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		size_t set_count, unsigned what,
		void (*cb)(const struct store_msg_meta *meta, void *ctx), void *ctx,
		const char **error_r);
/* Append the raw bytes of one message to out (STORE_NOTFOUND if no such uid,
 * STORE_INVALID if out's maximum is too small). */
int store_fetch_raw(struct store *st, uint64_t mailbox_id, uint32_t uid, struct buf *out,
		    const char **error_r);
/* All uids of a mailbox, ascending (malloc'ed, may be NULL when empty), for
 * mapping sequence numbers. */
int store_uids(struct store *st, uint64_t mailbox_id, uint32_t **uids_r, size_t *count_r,
	       const char **error_r);
/* Changes since modseq: cb for each message whose modseq is higher (no
 * envelope), and *vanished_r (malloc'ed) lists uids expunged since then. */
int store_changes_since(struct store *st, uint64_t mailbox_id, uint64_t modseq,
			void (*cb)(const struct store_msg_meta *meta, void *ctx), void *ctx,
			uint32_t **vanished_r, size_t *vanished_count_r, const char **error_r);
/* How many messages of the mailbox have exactly this content (SHA-256);
 * lets an import be resumed without duplicating what it already stored. */
int store_mailbox_content_count(struct store *st, uint64_t mailbox_id,
				const unsigned char sha256[32], uint64_t *count_r,
				const char **error_r);

/* SHA-256 of data, as the store keys blobs. */
void store_mail_sha256(const void *data, size_t size, unsigned char out[32]);

#endif
