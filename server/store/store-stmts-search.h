/* Prepared statements of IMAP SEARCH/SORT/THREAD queries (store-mail-search.c),
 * one X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_SEARCH_H
#define CAIRN_STORE_STMTS_SEARCH_H

/* $2 of STMT_SEARCH_FIELD picks the decoded header column by name. */
#define STORE_STATEMENTS_SEARCH(X)                                                      \
	X(STMT_SEARCH_META,                                                             \
	  "SELECT m.uid, m.flags, array_to_string(m.keywords, ' '),"                    \
	  " extract(epoch FROM m.internaldate)::bigint, m.size, m.modseq,"              \
	  " coalesce(extract(epoch FROM b.hdr_date)::bigint,"                           \
	  "          extract(epoch FROM m.internaldate)::bigint)"                       \
	  " FROM mailbox_messages m JOIN message_blobs b ON b.id = m.blob_id"           \
	  " WHERE m.mailbox_id = $1 ORDER BY m.uid", 1)                                 \
	X(STMT_SEARCH_FIELD,                                                            \
	  "SELECT m.uid FROM mailbox_messages m JOIN message_blobs b ON b.id = m.blob_id" \
	  " WHERE m.mailbox_id = $1 AND strpos(lower(CASE $2::text"                     \
	  "  WHEN 'from' THEN b.hdr_from WHEN 'to' THEN b.hdr_to"                       \
	  "  WHEN 'cc' THEN b.hdr_cc WHEN 'bcc' THEN b.hdr_bcc"                         \
	  "  WHEN 'subject' THEN b.hdr_subject END), lower($3)) > 0 ORDER BY m.uid", 3) \
	X(STMT_SEARCH_FTS,                                                              \
	  "SELECT m.uid FROM mailbox_messages m JOIN message_blobs b ON b.id = m.blob_id" \
	  " WHERE m.mailbox_id = $1 AND b.fts @@ plainto_tsquery('simple', $2)"         \
	  " ORDER BY m.uid", 2)                                                         \
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
