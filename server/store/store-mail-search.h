/* IMAP SEARCH answered from the store: per-message metadata (flags,
 * keywords, dates, sizes, modseq) and the decoded header columns and
 * tsvector of message_blobs, queried with prepared statements; the boolean
 * structure of the program (AND/OR/NOT, sequence sets) is applied in C. */
#ifndef CAIRN_STORE_MAIL_SEARCH_H
#define CAIRN_STORE_MAIL_SEARCH_H

#include "store-mail.h"
#include "imap_args.h"

/* The caller's view of the mailbox: sequence numbers and \Recent. */
struct store_search_view {
	const uint32_t *uids;		/* seq n -> uids[n-1], ascending */
	size_t count;
	const struct store_uid_range *recent;	/* uids \Recent to the session */
	size_t recent_count;
};

/* Evaluate prog on the messages of mailbox_id that are in view; *uids_r
 * (malloc'ed, ascending, may be NULL) gets the matching uids and
 * *max_modseq_r the highest modseq among them. STORE_OK or an error. */
int store_search(struct store *st, uint64_t mailbox_id, const struct imap_search_program *prog,
		 const struct store_search_view *view, uint32_t **uids_r, size_t *count_r,
		 uint64_t *max_modseq_r, const char **error_r);

/* The uid of the first message without \Seen (0: none), for SELECT's
 * [UNSEEN n]; one index probe instead of reading every message. */
int store_search_first_unseen(struct store *st, uint64_t mailbox_id, uint32_t *uid_r,
			      const char **error_r);
/* All uids of a mailbox ascending (malloc'ed, NULL when empty): the same as
 * store_uids, fetched as one binary array so a 100,000-message SELECT
 * does not parse 100,000 result rows. */
int store_search_view_uids(struct store *st, uint64_t mailbox_id, uint32_t **uids_r,
			   size_t *count_r, const char **error_r);

#endif
