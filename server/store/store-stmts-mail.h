/* Prepared statements of the mail store (mailboxes, messages, flags, quota),
 * one X(id, sql, nparams) per statement; included by store-private.h only.
 * Uid sets travel as int8multirange text ("{[1,5],[9,9]}"), keyword lists
 * as one space-separated string (IMAP atoms hold no space), bytea as hex. */
#ifndef CAIRN_STORE_STMTS_MAIL_H
#define CAIRN_STORE_STMTS_MAIL_H

#define STORE_STATEMENTS_MAIL(X)                                                        \
	X(STMT_MAIL_ACCOUNT_ID, "SELECT id FROM accounts WHERE address = lower($1)", 1) \
	X(STMT_MBOX_INSERT,                                                             \
	  "INSERT INTO mailboxes (account_id, name, special_use, subscribed)"          \
	  " VALUES ($1, $2, $3, $4::boolean)"                                           \
	  " ON CONFLICT (account_id, name) DO NOTHING RETURNING id", 4)                 \
	X(STMT_MBOX_GET,                                                                \
	  "SELECT id, uidvalidity, uidnext, highestmodseq, coalesce(special_use, ''),"  \
	  " subscribed, noselect FROM mailboxes WHERE account_id = $1 AND name = $2", 2) \
	X(STMT_MBOX_GET_LOCK,                                                           \
	  "SELECT id, uidvalidity, uidnext, highestmodseq, coalesce(special_use, ''),"  \
	  " subscribed, noselect FROM mailboxes WHERE account_id = $1 AND name = $2"    \
	  " FOR UPDATE", 2)                                                             \
	X(STMT_MBOX_REVIVE,                                                             \
	  "UPDATE mailboxes SET noselect = false,"                                      \
	  " special_use = coalesce($2, special_use) WHERE id = $1", 2)                  \
	X(STMT_MBOX_HAS_CHILDREN,                                                       \
	  "SELECT EXISTS (SELECT 1 FROM mailboxes WHERE account_id = $1"                \
	  " AND left(name, length($2) + 1) = $2 || '/')", 2)                            \
	X(STMT_MBOX_RENAME_TREE,                                                        \
	  "UPDATE mailboxes SET name = $3 || substr(name, length($2) + 1)"              \
	  " WHERE account_id = $1"                                                      \
	  " AND (name = $2 OR left(name, length($2) + 1) = $2 || '/')", 3)              \
	X(STMT_MBOX_DELETE,                                                             \
	  "WITH s AS (SELECT count(*) AS n, coalesce(sum(size), 0) AS b"                \
	  "  FROM mailbox_messages WHERE mailbox_id = $1),"                             \
	  " u AS (UPDATE mail_usage SET bytes = bytes - s.b, messages = messages - s.n" \
	  "  FROM s WHERE account_id = $2)"                                             \
	  " DELETE FROM mailboxes WHERE id = $1", 2)                                    \
	X(STMT_MBOX_SET_NOSELECT,                                                       \
	  "UPDATE mailboxes SET noselect = true, subscribed = false WHERE id = $1", 1)  \
	X(STMT_MBOX_LIST,                                                               \
	  "SELECT m.id, m.name, m.uidvalidity, m.uidnext, m.highestmodseq,"             \
	  " coalesce(m.special_use, ''), m.subscribed, m.noselect,"                     \
	  " EXISTS (SELECT 1 FROM mailboxes c WHERE c.account_id = m.account_id"        \
	  "  AND left(c.name, length(m.name) + 1) = m.name || '/')"                     \
	  " FROM mailboxes m WHERE m.account_id = $1 ORDER BY m.name COLLATE \"C\"", 1) \
	X(STMT_MBOX_SUBSCRIBE,                                                          \
	  "UPDATE mailboxes SET subscribed = $3::boolean"                               \
	  " WHERE account_id = $1 AND name = $2", 3)                                    \
	/* Subscriptions of deleted mailboxes (migration 0016).                   */ \
	X(STMT_SUB_KEPT_LIST,                                                           \
	  "SELECT k.name FROM mailbox_subscriptions_kept k WHERE k.account_id = $1"     \
	  " AND NOT EXISTS (SELECT 1 FROM mailboxes b WHERE b.account_id = k.account_id" \
	  "  AND b.name = k.name) ORDER BY k.name", 1)                                  \
	X(STMT_SUB_KEPT_DELETE,                                                         \
	  "DELETE FROM mailbox_subscriptions_kept WHERE account_id = $1 AND name = $2", 2) \
	X(STMT_MBOX_STATUS,                                                             \
	  "SELECT m.uidnext, m.uidvalidity, m.highestmodseq, count(mm.uid),"            \
	  " count(mm.uid) FILTER (WHERE mm.uid >= m.first_recent_uid),"                 \
	  " count(mm.uid) FILTER (WHERE mm.flags & 1 = 0), coalesce(sum(mm.size), 0)"   \
	  " FROM mailboxes m LEFT JOIN mailbox_messages mm ON mm.mailbox_id = m.id"     \
	  " WHERE m.id = $1 GROUP BY m.id", 1)                                          \
	X(STMT_MBOX_CLAIM_RECENT,                                                       \
	  "UPDATE mailboxes m SET first_recent_uid = m.uidnext"                         \
	  " FROM (SELECT id, first_recent_uid FROM mailboxes WHERE id = $1"             \
	  "       FOR UPDATE) o WHERE m.id = o.id"                                      \
	  " RETURNING o.first_recent_uid, m.uidnext", 1)                                \
	X(STMT_MBOX_LOCK,                                                               \
	  "SELECT account_id, uidvalidity, uidnext, highestmodseq, noselect"            \
	  " FROM mailboxes WHERE id = $1 FOR UPDATE", 1)                                \
	X(STMT_MBOX_EXISTS, "SELECT uidvalidity FROM mailboxes WHERE id = $1", 1)       \
	X(STMT_MBOX_ADVANCE,                                                            \
	  "UPDATE mailboxes SET uidnext = $2::bigint, highestmodseq = $3::bigint"       \
	  " WHERE id = $1", 3)                                                          \
	X(STMT_MBOX_NOTIFY, "SELECT pg_notify('cairn_mailbox', $1)", 1)                 \
	X(STMT_QUOTA_ADD,                                                               \
	  "UPDATE mail_usage u SET bytes = u.bytes + $2::bigint,"                       \
	  " messages = u.messages + $3::bigint FROM accounts a"                         \
	  " WHERE u.account_id = $1 AND a.id = u.account_id"                            \
	  " RETURNING u.bytes, u.messages, coalesce(a.quota_bytes, -1),"                \
	  " coalesce(a.quota_messages, -1)", 3)                                         \
	X(STMT_QUOTA_GET,                                                               \
	  "SELECT u.bytes, u.messages, coalesce(a.quota_bytes, -1),"                    \
	  " coalesce(a.quota_messages, -1) FROM accounts a"                             \
	  " JOIN mail_usage u ON u.account_id = a.id WHERE a.address = lower($1)", 1)   \
	/* Column 2: the blob has no search text although it is not pending (it \
	 * was stored for the outbound queue only, mail_blob_get_queued).      */ \
	X(STMT_BLOB_FIND,                                                               \
	  "SELECT b.id, b.size, NOT b.text_pending AND NOT EXISTS"                      \
	  " (SELECT 1 FROM message_text t WHERE t.blob_id = b.id)"                      \
	  " FROM message_blobs b WHERE b.sha256 = $1::bytea FOR KEY SHARE OF b", 1)     \
	X(STMT_BLOB_INSERT,                                                             \
	  "INSERT INTO message_blobs (sha256, size, lines, raw, envelope, bodystructure," \
	  " body, hdr_subject, hdr_from, hdr_to, hdr_cc, hdr_bcc, hdr_date,"            \
	  " hdr_message_id, hdr_in_reply_to, hdr_references, fts)"                      \
	  " VALUES ($1::bytea, octet_length($3::bytea), $2::bigint, $3::bytea,"         \
	  " $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text,"     \
	  " $11::text, to_timestamp($12::double precision), $13::text, $14::text,"      \
	  " $15::text, to_tsvector('simple', concat_ws(' ', $7::text, $8::text,"        \
	  " $9::text, $10::text, $11::text, $16::text)))"                               \
	  " ON CONFLICT (sha256) DO UPDATE SET refcount = message_blobs.refcount"       \
	  " RETURNING id, size", 16)                                                    \
	X(STMT_MM_INSERT,                                                               \
	  "INSERT INTO mailbox_messages (mailbox_id, uid, modseq, internaldate, flags,"  \
	  " keywords, blob_id, size, internaldate_zone)"                                \
	  " SELECT $1, t.uid, $2::bigint, to_timestamp(t.d), t.f,"                      \
	  " string_to_array(t.k, ' '), t.b, b.size, t.z"                                \
	  " FROM unnest($3::bigint[], $4::float8[], $5::integer[], $6::text[],"         \
	  "             $7::bigint[], $8::smallint[]) AS t(uid, d, f, k, b, z)"         \
	  " JOIN message_blobs b ON b.id = t.b", 8)                                     \
	X(STMT_MM_COPY,                                                                 \
	  "WITH s AS (SELECT uid, row_number() OVER (ORDER BY uid) AS rn, internaldate," \
	  "  flags, keywords, blob_id, size, internaldate_zone FROM mailbox_messages"   \
	  "  WHERE mailbox_id = $1 AND uid <@ $2::int8multirange),"                     \
	  " i AS (INSERT INTO mailbox_messages (mailbox_id, uid, modseq, internaldate,"  \
	  "  flags, keywords, blob_id, size, internaldate_zone)"                        \
	  "  SELECT $3, $4::bigint + rn - 1, $5::bigint, internaldate, flags, keywords," \
	  "  blob_id, size, internaldate_zone FROM s)"                                  \
	  " SELECT uid, $4::bigint + rn - 1, size FROM s ORDER BY rn", 5)               \
	X(STMT_MM_EXPUNGE,                                                              \
	  "WITH d AS (DELETE FROM mailbox_messages WHERE mailbox_id = $1"               \
	  "  AND uid <@ $2::int8multirange AND (NOT $3::boolean OR flags & 8 <> 0)"     \
	  "  RETURNING uid, size),"                                                     \
	  " t AS (INSERT INTO mailbox_expunged (mailbox_id, uid, modseq)"               \
	  "  SELECT $1, uid, $4::bigint FROM d)"                                        \
	  " SELECT uid, size FROM d ORDER BY uid", 4)                                   \
	X(STMT_MM_FLAGS,                                                                \
	  "WITH c AS (SELECT uid, flags AS of, keywords AS ok,"                         \
	  "  CASE $3 WHEN '+' THEN flags | $4::integer"                                 \
	  "   WHEN '-' THEN flags & ~$4::integer ELSE $4::integer END AS nf,"           \
	  "  CASE $3 WHEN '+' THEN ARRAY(SELECT DISTINCT k COLLATE \"C\" FROM"           \
	  "    unnest(keywords || string_to_array($5, ' ')) k ORDER BY 1)"              \
	  "   WHEN '-' THEN ARRAY(SELECT k FROM unnest(keywords) k"                     \
	  "    WHERE k <> ALL (string_to_array($5, ' ')) ORDER BY k COLLATE \"C\")"     \
	  "   ELSE ARRAY(SELECT DISTINCT k COLLATE \"C\""                                \
	  "    FROM unnest(string_to_array($5, ' ')) k ORDER BY 1) END AS nk"           \
	  "  FROM mailbox_messages WHERE mailbox_id = $1"                               \
	  "  AND uid <@ $2::int8multirange AND modseq <= $6::bigint)"                   \
	  " UPDATE mailbox_messages m SET flags = c.nf, keywords = c.nk,"               \
	  " modseq = $7::bigint FROM c WHERE m.mailbox_id = $1 AND m.uid = c.uid"       \
	  " AND (c.nf <> c.of OR c.nk <> c.ok) RETURNING m.uid", 7)                     \
	X(STMT_MM_FLAGS_FAILED,                                                         \
	  "SELECT uid FROM mailbox_messages WHERE mailbox_id = $1"                      \
	  " AND uid <@ $2::int8multirange AND modseq > $3::bigint ORDER BY uid", 3)     \
	X(STMT_MM_FETCH,                                                                \
	  "SELECT mm.uid, mm.modseq, mm.flags, array_to_string(mm.keywords, ' '),"      \
	  " extract(epoch FROM mm.internaldate)::bigint,"                               \
	  " extract(epoch FROM mm.savedate)::bigint, mm.size, b.lines,"                 \
	  " CASE WHEN $3::boolean THEN b.envelope END,"                                 \
	  " CASE WHEN $4::boolean THEN b.bodystructure END,"                            \
	  " CASE WHEN $4::boolean THEN b.body END, mm.blob_id, mm.internaldate_zone"    \
	  " FROM mailbox_messages mm JOIN message_blobs b ON b.id = mm.blob_id"         \
	  " WHERE mm.mailbox_id = $1 AND mm.uid BETWEEN $5::bigint AND $6::bigint"      \
	  " AND mm.uid <@ $2::int8multirange ORDER BY mm.uid LIMIT $7::integer", 7)     \
	X(STMT_MM_RAW,                                                                  \
	  "SELECT b.raw FROM mailbox_messages mm JOIN message_blobs b"                  \
	  " ON b.id = mm.blob_id WHERE mm.mailbox_id = $1 AND mm.uid = $2::bigint", 2)  \
	X(STMT_MM_UIDS,                                                                 \
	  "SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 ORDER BY uid", 1)     \
	X(STMT_MM_CHANGED,                                                              \
	  "SELECT uid, modseq, flags, array_to_string(keywords, ' '),"                  \
	  " extract(epoch FROM internaldate)::bigint,"                                  \
	  " extract(epoch FROM savedate)::bigint, size, internaldate_zone"              \
	  " FROM mailbox_messages WHERE mailbox_id = $1 AND modseq > $2::bigint"        \
	  " ORDER BY uid", 2)                                                           \
	X(STMT_MM_VANISHED,                                                             \
	  "SELECT uid FROM mailbox_expunged WHERE mailbox_id = $1"                      \
	  " AND modseq > $2::bigint ORDER BY uid", 2)                                   \
	X(STMT_MM_CONTENT_COUNT,                                                        \
	  "SELECT count(*) FROM message_blobs b JOIN mailbox_messages mm"               \
	  " ON mm.blob_id = b.id WHERE b.sha256 = $2::bytea AND mm.mailbox_id = $1", 2)

#endif
