/* IMAP SEARCH answered from the store: per-message metadata (flags,
 * keywords, dates, sizes, modseq), the decoded header columns of
 * message_blobs and the decoded, case-folded text of message_text (BODY,
 * TEXT), queried with prepared statements; the boolean structure of the
 * program (AND/OR/NOT, sequence sets) is applied in C. Also the upkeep of
 * message_text (extraction, reindex) and FETCH PREVIEW (RFC 8970). */
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

/* Body text kept per message for BODY/TEXT (bytes of decoded UTF-8); a
 * longer text is cut there and SEARCH decodes such messages in full. */
#define STORE_TEXT_BODY_MAX (1024 * 1024)

/* Extract the searchable text and the preview of a message (raw bytes) and
 * store them as blob_id's row of message_text, marking the blob as no longer
 * pending. Inside or outside a transaction. Returns a store_result. */
int mail_text_store(struct store *st, uint64_t blob_id, const char *raw, size_t size);

/* cairnctl mail reindex: extract the text of every pending blob (with all,
 * of every blob), in batches; progress (may be NULL) is called with the
 * blobs done so far and the total. *done_r counts them. */
int store_text_reindex(struct store *st, bool all,
		       void (*progress)(uint64_t done, uint64_t total, void *ctx), void *ctx,
		       uint64_t *done_r, const char **error_r);

/* FETCH PREVIEW: cb(uid, preview) for each message of set in uid order.
 * A message whose text is not extracted yet gets preview NULL when lazy
 * (RFC 8970 LAZY: NIL), else it is extracted and stored now. */
int store_fetch_previews(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
			 size_t set_count, bool lazy,
			 void (*cb)(uint32_t uid, const char *preview, void *ctx), void *ctx,
			 const char **error_r);

#endif
