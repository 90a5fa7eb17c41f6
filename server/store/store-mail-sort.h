/* What IMAP SORT/THREAD (RFC 5256, RFC 5957) and QRESYNC (RFC 7162) read
 * from the store: per-message sort keys from message_sort_keys (0009),
 * computed when a blob is stored (or, for blobs older than 0009 or keys of
 * an older scheme, the first time a SORT or THREAD needs them), and the expunge tombstones newer than
 * a client's modseq. */
#ifndef CAIRN_STORE_MAIL_SORT_H
#define CAIRN_STORE_MAIL_SORT_H

#include "store-mail.h"

/* One message as SORT/THREAD see it; strings borrowed for the callback.
 * String keys are in i;unicode-casemap form ("" when absent), NULL when
 * not asked for. */
struct store_sort_row {
	uint32_t uid;
	int64_t internaldate;		/* Unix time */
	int64_t sentdate;		/* Date: header, else the internal date */
	uint64_t size;
	/* STORE_SORT_THREADING */
	const char *base_subject;	/* RFC 5256 2.1, not casemapped */
	bool is_reply;
	const char *message_id;		/* "<id>" normalised, NULL if none */
	const char *references;		/* "<a> <b>": References, else In-Reply-To */
	/* STORE_SORT_KEYS */
	const char *subject_key;
	const char *from_key, *to_key, *cc_key;
	const char *displayfrom_key, *displayto_key;
};

#define STORE_SORT_THREADING 0x01
#define STORE_SORT_KEYS 0x02

/* Call cb for every message of mailbox_id in uid order with the columns
 * that what (STORE_SORT_*) asks for, computing and storing the keys of
 * blobs that have none yet or only keys of an older scheme. */
int store_sort_load(struct store *st, uint64_t mailbox_id, unsigned what,
		    void (*cb)(const struct store_sort_row *row, void *ctx), void *ctx,
		    const char **error_r);

/* The version of the key scheme (message_sort_keys.key_version, 0032):
 * raised whenever the keys are computed differently, so that rows of an
 * older scheme are computed again (lazily by store_sort_load, or by
 * store_sort_reindex). 2: a group start marker is a field's first address
 * (its group name the addr-mailbox), as Dovecot sorts. */
#define STORE_SORT_KEY_VERSION 2

/* Compute again the keys of every row of an older key scheme, in batches;
 * progress (if not NULL) is called before the first batch and after each
 * with the rows done and the stale rows counted at the start. */
int store_sort_reindex(struct store *st,
		       void (*progress)(uint64_t done, uint64_t total, void *ctx), void *ctx,
		       uint64_t *done_r, const char **error_r);

/* The uids of mailbox_id expunged after modseq (tombstones), ascending,
 * malloc'ed (NULL when none). */
int store_vanished_since(struct store *st, uint64_t mailbox_id, uint64_t modseq,
			 uint32_t **uids_r, size_t *count_r, const char **error_r);

#endif
