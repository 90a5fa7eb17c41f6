/* Prepared statements of IMAP SORT/THREAD and QRESYNC (store-mail-sort.c),
 * one X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_SORT_H
#define CAIRN_STORE_STMTS_SORT_H

/* STMT_SORT_META: every message of a mailbox with its sort keys from the
 * narrow message_sort_keys (0009); a NULL key row or one computed with an
 * older key scheme than $4 (0032; column 5 true) means the keys of that
 * blob are (again) to be computed. The sent date falls back
 * to the internal date (RFC 5256 2.2). $2: the threading columns, $3: the
 * string keys, so SORT (DATE) reads only numbers. No ORDER BY: the rows
 * are put in uid order in C, where it costs no sort spilled to disk. */
#define STORE_STATEMENTS_SORT(X)                                                        \
	X(STMT_SORT_META,                                                               \
	  "SELECT m.uid, extract(epoch FROM m.internaldate)::bigint,"                   \
	  " coalesce(k.sent_date, extract(epoch FROM m.internaldate)::bigint),"         \
	  " m.size, m.blob_id, k.blob_id IS NULL OR k.key_version < $4::smallint,"      \
	  " CASE WHEN $2::boolean THEN k.base_subject END, k.is_reply,"                 \
	  " CASE WHEN $3::boolean THEN k.subject_key END,"                              \
	  " CASE WHEN $3::boolean THEN k.from_key END,"                                 \
	  " CASE WHEN $3::boolean THEN k.to_key END,"                                   \
	  " CASE WHEN $3::boolean THEN k.cc_key END,"                                   \
	  " CASE WHEN $3::boolean THEN k.displayfrom_key END,"                          \
	  " CASE WHEN $3::boolean THEN k.displayto_key END,"                            \
	  " CASE WHEN $2::boolean THEN k.message_id END,"                               \
	  " CASE WHEN $2::boolean THEN k.refs END"                                      \
	  " FROM mailbox_messages m LEFT JOIN message_sort_keys k ON k.blob_id = m.blob_id" \
	  " WHERE m.mailbox_id = $1", 4)                                                \
	/* What the keys of the blobs $1 are computed from. */                        \
	X(STMT_SORT_KEYS_SOURCE,                                                        \
	  "SELECT id, coalesce(hdr_subject, ''), envelope,"                             \
	  " extract(epoch FROM hdr_date)::bigint, hdr_message_id, hdr_in_reply_to,"     \
	  " hdr_references FROM message_blobs WHERE id = ANY ($1::bigint[])", 1)        \
	/* A batch of computed keys, one array per column, of key scheme $13:  \
	 * a row of an older scheme is replaced, a current one wins. */           \
	X(STMT_SORT_KEYS_INSERT,                                                        \
	  "INSERT INTO message_sort_keys (blob_id, sent_date, base_subject, is_reply,"  \
	  " subject_key, from_key, to_key, cc_key, displayfrom_key, displayto_key,"     \
	  " message_id, refs, key_version)"                                             \
	  " SELECT *, $13::smallint FROM unnest($1::bigint[], $2::bigint[], $3::text[],"  \
	  " $4::boolean[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],"  \
	  " $10::text[], $11::text[], $12::text[])"                                     \
	  " ON CONFLICT (blob_id) DO UPDATE SET sent_date = EXCLUDED.sent_date,"        \
	  " base_subject = EXCLUDED.base_subject, is_reply = EXCLUDED.is_reply,"        \
	  " subject_key = EXCLUDED.subject_key, from_key = EXCLUDED.from_key,"          \
	  " to_key = EXCLUDED.to_key, cc_key = EXCLUDED.cc_key,"                        \
	  " displayfrom_key = EXCLUDED.displayfrom_key,"                                \
	  " displayto_key = EXCLUDED.displayto_key, message_id = EXCLUDED.message_id,"  \
	  " refs = EXCLUDED.refs, key_version = EXCLUDED.key_version"                   \
	  " WHERE message_sort_keys.key_version < EXCLUDED.key_version", 13)            \
	/* `mail reindex-sort`: how many rows are stale, and the next batch of    \
	 * stale blobs after blob $2 (keyset over the primary key). */             \
	X(STMT_SORT_KEYS_STALE_COUNT,                                                   \
	  "SELECT count(*) FROM message_sort_keys WHERE key_version < $1::smallint", 1) \
	X(STMT_SORT_KEYS_STALE_NEXT,                                                    \
	  "SELECT blob_id FROM message_sort_keys WHERE key_version < $1::smallint"      \
	  " AND blob_id > $2::bigint ORDER BY blob_id LIMIT $3::int", 3)                \
	/* QRESYNC: tombstones newer than the client's modseq. */                     \
	X(STMT_SORT_VANISHED,                                                           \
	  "SELECT coalesce(array_agg(uid ORDER BY uid), '{}'::int8[])"                  \
	  " FROM mailbox_expunged WHERE mailbox_id = $1 AND modseq > $2::bigint", 2)

#endif
