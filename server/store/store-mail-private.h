/* Helpers shared by the mail store's files (store-mail-*.c): account and
 * mailbox-name checks, the mailbox row lock every change starts with, quota
 * accounting, NOTIFY, and the text encodings of uid sets, keyword lists and
 * bytea parameters. Only server/store/store-mail-*.c include this. */
#ifndef CAIRN_STORE_MAIL_PRIVATE_H
#define CAIRN_STORE_MAIL_PRIVATE_H

#include "store-private.h"
#include "store-mail.h"

/* A mailbox row locked FOR UPDATE inside a transaction. */
struct mail_lock {
	uint64_t id;
	uint64_t account_id;
	uint32_t uidvalidity;
	uint64_t uidnext;
	uint64_t highestmodseq;
	bool noselect;
};

/* Hand out st->error through error_r when ret is not STORE_OK. */
int mail_done(struct store *st, int ret, const char **error_r);
/* The account id of address (STORE_NOTFOUND naming it if unknown). */
int mail_account_id(struct store *st, const char *address, uint64_t *id_r);
/* Check and normalise a mailbox name into out ("inbox" -> "INBOX", also as
 * the first level). STORE_INVALID with the reason on a bad name. */
int mail_name_normalize(struct store *st, const char *name, char out[STORE_MAILBOX_NAME_MAX + 1]);
/* Lock mailbox id (SELECT ... FOR UPDATE). STORE_NOTFOUND if it is gone;
 * with selectable, STORE_INVALID if it is \Noselect. */
int mail_lock(struct store *st, uint64_t id, bool selectable, struct mail_lock *l);
/* Write l's uidnext and highestmodseq back and NOTIFY "id:modseq". */
int mail_advance(struct store *st, const struct mail_lock *l);
/* Add bytes/messages (may be negative) to the account's usage; when check
 * and anything grows past a limit, STORE_OVERQUOTA. */
int mail_quota_add(struct store *st, uint64_t account_id, int64_t bytes, int64_t messages,
		   bool check);
/* Format a uid set as int8multirange text into out (NULL set = every uid),
 * with its lowest and highest uid. STORE_INVALID for an empty/bad range. */
int mail_uidset(struct store *st, const struct store_uid_range *set, size_t count,
		struct buf *out, uint32_t *min_r, uint32_t *max_r);
/* Join keywords with spaces into out after checking each is an IMAP atom. */
int mail_keywords(struct store *st, const char *const *keywords, size_t count, struct buf *out);
/* Append "\x" and the hex of data to out (bytea text input). */
void mail_hex(struct buf *out, const void *data, size_t size);
/* Decode a bytea hex output value ("\x...") and append it to out. -1 on bad
 * input or when out's maximum is passed. */
int mail_unhex(const char *in, size_t len, struct buf *out);
/* Parse a decimal column value. */
uint64_t mail_u64(const PGresult *res, int row, int col);
/* Copy (or move) set of l_src into l_dst inside a transaction. The result
 * arrays are malloc'ed into result. */
int mail_copy_locked(struct store *st, struct mail_lock *src, struct mail_lock *dst,
		     const char *uidset, bool move, struct store_copy_result *result);
/* Expunge uidset of l (only \Deleted ones when only_deleted) inside a
 * transaction: tombstones, modseq, and usage when quota. uids_r may be NULL. */
int mail_expunge_locked(struct store *st, struct mail_lock *l, const char *uidset,
			bool only_deleted, bool quota, uint32_t **uids_r, size_t *count_r);

/* The id and size of the blob with this content (sha = its SHA-256),
 * storing it first if new; the row stays locked FOR KEY SHARE until the
 * caller's transaction ends. For appends inside a caller's transaction. */
int mail_blob_get(struct store *st, const struct store_append_msg *msg, const unsigned char sha[32],
		  uint64_t *id_r, uint64_t *size_r);
/* The same for content stored only for the outbound queue: a new blob gets
 * no search text or SORT keys now (made lazily if a mailbox ever shares it). */
int mail_blob_get_queued(struct store *st, const struct store_append_msg *msg,
			 const unsigned char sha[32], uint64_t *id_r, uint64_t *size_r);
/* Inside a caller's transaction: lock mailbox_id, add bytes/count to the
 * quota (STORE_OVERQUOTA past it), insert msgs[i] as blob_of[i] with new
 * uids (uids_r[count]) and advance modseq with NOTIFY. */
int mail_append_locked(struct store *st, uint64_t mailbox_id, const struct store_append_msg *msgs,
		       size_t count, const uint64_t *blob_of, int64_t bytes,
		       uint32_t *uidvalidity_r, uint32_t *uids_r);

/* Compute and store the SORT/THREAD keys of a new blob (message_sort_keys,
 * 0009, store-mail-sort.c) from the columns it was stored with. */
int mail_sort_keys_store(struct store *st, uint64_t blob_id, const char *subject,
			 const char *envelope, bool has_date, int64_t date, const char *message_id,
			 const char *in_reply_to, const char *references);

#endif
