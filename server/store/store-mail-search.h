/* Message search answered from the store: per-message metadata (flags,
 * keywords, dates, sizes, modseq), the decoded header columns of
 * message_blobs and the decoded, case-folded text of message_text (BODY,
 * TEXT), queried with prepared statements; the boolean structure of the
 * program (AND/OR/NOT, uid ranges) is applied in C. The program is the
 * store's own (struct store_search_node): a gateway translates its
 * protocol's query into it (IMAP: server/imap/imap-search-xlate.c). Also
 * the upkeep of message_text (extraction, reindex) and FETCH PREVIEW
 * (RFC 8970). */
#ifndef CAIRN_STORE_MAIL_SEARCH_H
#define CAIRN_STORE_MAIL_SEARCH_H

#include "store-mail.h"

/* ---- the search program (protocol-neutral) ---- */

enum store_search_op {
	STORE_SEARCH_ALL,		/* every message */
	STORE_SEARCH_NONE,		/* no message */
	STORE_SEARCH_AND,		/* children: all of them (none: ALL) */
	STORE_SEARCH_OR,		/* children: any of them (none: NONE) */
	STORE_SEARCH_NOT,		/* one child */
	STORE_SEARCH_FLAGS_SET,		/* flags: every STORE_FLAG_* bit set */
	STORE_SEARCH_FLAGS_UNSET,	/* flags: none of the bits set */
	STORE_SEARCH_KEYWORD,		/* str: the keyword is set (ASCII case-insensitive) */
	STORE_SEARCH_FIELD,		/* field contains str (decoded, case-insensitive);
					   an address field with str "": the field exists */
	STORE_SEARCH_HEADER,		/* header (any name) contains str; "": it exists */
	STORE_SEARCH_BODY,		/* str in the decoded body text */
	STORE_SEARCH_TEXT,		/* str in the decoded headers or body text */
	STORE_SEARCH_DATE_BEFORE,	/* date of which < day */
	STORE_SEARCH_DATE_ON,		/* date of which is day */
	STORE_SEARCH_DATE_SINCE,	/* date of which >= day */
	STORE_SEARCH_LARGER,		/* size > number (octets) */
	STORE_SEARCH_SMALLER,		/* size < number */
	STORE_SEARCH_OLDER,		/* internal date at least number seconds ago */
	STORE_SEARCH_YOUNGER,		/* internal date at most number seconds ago */
	STORE_SEARCH_MODSEQ,		/* modseq >= number (modseq_entry/_type kept) */
	STORE_SEARCH_UIDS,		/* uid in ranges[range_count] (also saved results) */
	STORE_SEARCH_EMAILID,		/* number: the message's content (blob) id */
};

/* The header fields with a decoded column of their own. */
enum store_search_field {
	STORE_FIELD_FROM, STORE_FIELD_TO, STORE_FIELD_CC, STORE_FIELD_BCC, STORE_FIELD_SUBJECT,
};

/* The dates of a message, compared as calendar days. */
enum store_search_date {
	STORE_DATE_INTERNAL,		/* arrival, in the zone it was given in */
	STORE_DATE_SENT,		/* Date: header (UTC) */
	STORE_DATE_SAVED,		/* when the row was stored (UTC) */
};

enum store_search_modseq_type { STORE_MODSEQ_ALL, STORE_MODSEQ_PRIV, STORE_MODSEQ_SHARED };

struct store_search_node {
	enum store_search_op op;
	unsigned flags;				/* FLAGS_SET/UNSET: STORE_FLAG_* */
	enum store_search_field field;		/* FIELD */
	enum store_search_date which;		/* DATE_* */
	char *header;				/* HEADER: the field name */
	char *str;				/* KEYWORD, FIELD, HEADER, BODY, TEXT */
	size_t str_len;				/* (a NUL inside is refused) */
	int64_t day;				/* DATE_*: days since 1970-01-01 */
	uint64_t number;			/* sizes, seconds, modseq, blob id */
	char *modseq_entry;			/* MODSEQ: "/flags/\\Seen", or NULL */
	enum store_search_modseq_type modseq_type;
	struct store_uid_range *ranges;		/* UIDS: ascending or not, may overlap */
	size_t range_count;
	struct store_search_node *children;	/* first child */
	struct store_search_node *next;		/* next sibling */
};

struct store_search_program {
	struct store_search_node *root;
	bool need_modseq;		/* the caller wants *max_modseq_r exact */
};

/* A node of op (zeroed, malloc'ed); append it to parent's children when
 * parent is not NULL. */
struct store_search_node *store_search_node_new(struct store_search_node *parent,
						enum store_search_op op);
/* Free a program and its nodes; *prog becomes NULL. */
void store_search_program_free(struct store_search_program **prog);

/* The caller's view of the mailbox: only these messages can match. */
struct store_search_view {
	const uint32_t *uids;		/* ascending */
	size_t count;
};

/* Evaluate prog on the messages of mailbox_id that are in view; *uids_r
 * (malloc'ed, ascending, may be NULL) gets the matching uids and
 * *max_modseq_r the highest modseq among them. STORE_OK or an error. */
int store_search(struct store *st, uint64_t mailbox_id, const struct store_search_program *prog,
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
