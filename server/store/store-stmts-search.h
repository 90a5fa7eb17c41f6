/* Prepared statements of IMAP SEARCH/SORT/THREAD queries (store-mail-search.c),
 * one X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_SEARCH_H
#define CAIRN_STORE_STMTS_SEARCH_H

/* SENTBEFORE/SENTON/SENTSINCE compare the Date: field's calendar date in
 * its own zone (RFC 3501 6.4.4 "disregarding time and timezone"): the
 * sent time is shifted by the zone written in the field, which the stored
 * ENVELOPE's date string keeps (hdr_date is UTC). No numeric zone (GMT,
 * UT): no shift. */
#define SEARCH_SENT_ZONE                                                                \
	" + coalesce((SELECT CASE WHEN substr(z, 1, 1) = '-' THEN -1 ELSE 1 END"        \
	"   * (substr(z, 2, 2)::int * 3600 + substr(z, 4, 2)::int * 60)"                \
	"   FROM (SELECT substring(b.envelope FROM '^\\(\"[^\"]*([+-][0-9]{4})') AS z) q), 0)"

/* $2 of STMT_SEARCH_FIELD picks the decoded header column by name. */
#define STORE_STATEMENTS_SEARCH(X)                                                      \
	X(STMT_SEARCH_META,                                                             \
	  "SELECT m.uid, m.flags, array_to_string(m.keywords, ' '),"                    \
	  " extract(epoch FROM m.internaldate)::bigint, m.size, m.modseq,"              \
	  " coalesce(extract(epoch FROM b.hdr_date)::bigint" SEARCH_SENT_ZONE ","       \
	  "          extract(epoch FROM m.internaldate)::bigint),"                      \
	  " extract(epoch FROM m.savedate)::bigint, m.blob_id,"                         \
	  " extract(epoch FROM m.internaldate)::bigint + m.internaldate_zone * 60"      \
	  " FROM mailbox_messages m JOIN message_blobs b ON b.id = m.blob_id"           \
	  " WHERE m.mailbox_id = $1 ORDER BY m.uid", 1)                                 \
	/* The same (same columns: keep the two in step) for the messages one    \
	 * AND-ed text key left (uid = ANY $2), so that a rare word does not     \
	 * cost a read of every message's row.                                    */ \
	X(STMT_SEARCH_META_UIDS,                                                        \
	  "SELECT m.uid, m.flags, array_to_string(m.keywords, ' '),"                    \
	  " extract(epoch FROM m.internaldate)::bigint, m.size, m.modseq,"              \
	  " coalesce(extract(epoch FROM b.hdr_date)::bigint" SEARCH_SENT_ZONE ","       \
	  "          extract(epoch FROM m.internaldate)::bigint),"                      \
	  " extract(epoch FROM m.savedate)::bigint, m.blob_id,"                         \
	  " extract(epoch FROM m.internaldate)::bigint + m.internaldate_zone * 60"      \
	  " FROM mailbox_messages m JOIN message_blobs b ON b.id = m.blob_id"           \
	  " WHERE m.mailbox_id = $1 AND m.uid = ANY ($2::bigint[]) ORDER BY m.uid", 2)  \
	X(STMT_SEARCH_FIELD,                                                            \
	  "SELECT m.uid FROM mailbox_messages m JOIN message_blobs b ON b.id = m.blob_id" \
	  " WHERE m.mailbox_id = $1 AND strpos(lower(CASE $2::text"                     \
	  "  WHEN 'from' THEN b.hdr_from WHEN 'to' THEN b.hdr_to"                       \
	  "  WHEN 'cc' THEN b.hdr_cc WHEN 'bcc' THEN b.hdr_bcc"                         \
	  "  WHEN 'subject' THEN b.hdr_subject END), lower($3)) > 0 ORDER BY m.uid", 3) \
	/* BODY and TEXT: $2 is a LIKE pattern "%needle%" over the case-folded    \
	 * text of message_text (migration 0010); the pg_trgm GIN indexes find    \
	 * the candidates of needles with a trigram. One statement per key, so a  \
	 * bitmap scan's recheck is the whole condition, evaluated once.          */ \
	X(STMT_SEARCH_BODY,                                                             \
	  "SELECT m.uid FROM mailbox_messages m JOIN message_text t"                    \
	  " ON t.blob_id = m.blob_id WHERE m.mailbox_id = $1 AND t.body LIKE $2"        \
	  " ORDER BY m.uid", 2)                                                         \
	/* TEXT is BODY or this (the header lines): two statements whose uid    \
	 * sets are merged, which plans better than one OR over two columns.    */ \
	X(STMT_SEARCH_HEADER_LINES,                                                     \
	  "SELECT m.uid FROM mailbox_messages m JOIN message_text t"                    \
	  " ON t.blob_id = m.blob_id WHERE m.mailbox_id = $1 AND t.headers LIKE $2"     \
	  " ORDER BY m.uid", 2)                                                         \
	/* The same for needles without a trigram (1-2 characters, "a.b"):       \
	 * textlike() is LIKE in function form, which no index matches, so the   \
	 * planner reads the mailbox's rows instead of a whole GIN index.          */ \
	X(STMT_SEARCH_BODY_SHORT,                                                       \
	  "SELECT m.uid FROM mailbox_messages m JOIN message_text t"                    \
	  " ON t.blob_id = m.blob_id WHERE m.mailbox_id = $1 AND textlike(t.body, $2)"  \
	  " ORDER BY m.uid", 2)                                                         \
	X(STMT_SEARCH_HEADER_LINES_SHORT,                                               \
	  "SELECT m.uid FROM mailbox_messages m JOIN message_text t"                    \
	  " ON t.blob_id = m.blob_id WHERE m.mailbox_id = $1"                           \
	  " AND textlike(t.headers, $2) ORDER BY m.uid", 2)                             \
	/* Blobs of the mailbox whose text is not extracted yet (stored before    \
	 * 0010): SEARCH extracts them first. Uses the partial index, so it is    \
	 * one empty index probe once everything is indexed.                       */ \
	X(STMT_SEARCH_TEXT_PENDING,                                                     \
	  "SELECT b.id, b.raw FROM message_blobs b WHERE b.text_pending"                \
	  " AND EXISTS (SELECT 1 FROM mailbox_messages m WHERE m.blob_id = b.id"        \
	  "  AND m.mailbox_id = $1) ORDER BY b.id LIMIT $2", 2)                         \
	/* Messages whose stored text was cut at its limit: SEARCH decodes them.  */ \
	X(STMT_SEARCH_TEXT_INCOMPLETE,                                                  \
	  "SELECT m.uid, m.blob_id FROM message_text t JOIN mailbox_messages m"         \
	  " ON m.blob_id = t.blob_id WHERE NOT t.complete AND m.mailbox_id = $1"        \
	  " ORDER BY m.uid", 1)                                                         \
	X(STMT_TEXT_BLOB_RAW,                                                           \
	  "SELECT raw FROM message_blobs WHERE id = $1", 1)                             \
	/* Store (or replace) a blob's text; it is then no longer pending.        */ \
	X(STMT_TEXT_STORE,                                                              \
	  "WITH t AS (INSERT INTO message_text (blob_id, body, headers, preview, complete)" \
	  "  SELECT id, $2, $3, $4, $5::boolean FROM message_blobs WHERE id = $1"       \
	  "  ON CONFLICT (blob_id) DO UPDATE SET body = EXCLUDED.body,"                 \
	  "  headers = EXCLUDED.headers, preview = EXCLUDED.preview,"                   \
	  "  complete = EXCLUDED.complete RETURNING blob_id)"                           \
	  " UPDATE message_blobs SET text_pending = false"                              \
	  " WHERE id IN (SELECT blob_id FROM t) AND text_pending", 5)                   \
	/* cairnctl mail reindex: pending blobs in id order, keyset batches.      */ \
	X(STMT_TEXT_REINDEX_NEXT,                                                       \
	  "SELECT id, raw FROM message_blobs WHERE text_pending AND id > $1"            \
	  " ORDER BY id LIMIT $2", 2)                                                   \
	X(STMT_TEXT_PENDING_COUNT,                                                      \
	  "SELECT count(*) FROM message_blobs WHERE text_pending", 0)                   \
	X(STMT_TEXT_MARK_ALL,                                                           \
	  "UPDATE message_blobs SET text_pending = true WHERE NOT text_pending", 0)     \
	/* FETCH PREVIEW: the stored preview, NULL when the text is pending.      */ \
	X(STMT_TEXT_PREVIEWS,                                                           \
	  "SELECT m.uid, t.preview, m.blob_id FROM mailbox_messages m"                  \
	  " LEFT JOIN message_text t ON t.blob_id = m.blob_id"                          \
	  " WHERE m.mailbox_id = $1 AND m.uid <@ $2::int8multirange AND m.uid >= $3"    \
	  " ORDER BY m.uid LIMIT $4", 4)                                                \
	X(STMT_SEARCH_HEADERS,                                                          \
	  "SELECT m.uid, substring(b.raw FROM 1 FOR 65536)"                             \
	  " FROM mailbox_messages m JOIN message_blobs b ON b.id = m.blob_id"           \
	  " WHERE m.mailbox_id = $1 ORDER BY m.uid", 1)                                 \
	/* SELECT's [UNSEEN n]: one probe of mailbox_messages_unseen. */              \
	X(STMT_SEARCH_FIRST_UNSEEN,                                                     \
	  "SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 AND flags & 1 = 0"    \
	  " ORDER BY uid LIMIT 1", 1)                                                   \
	/* SELECT's sequence map: one binary int8[] value, not a row per uid. */     \
	X(STMT_SEARCH_VIEW_UIDS,                                                        \
	  "SELECT coalesce(array_agg(uid ORDER BY uid), '{}'::int8[])"                  \
	  " FROM mailbox_messages WHERE mailbox_id = $1", 1)

#endif
