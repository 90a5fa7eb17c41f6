/* Prepared statements of store-metadata.c (IMAP METADATA, migration 0011),
 * one X(id, sql, nparams) each; included by store-private.h only. Mailbox
 * id 0 stands for the server; values travel as bytea (hex in, binary out). */
#ifndef CAIRN_STORE_STMTS_METADATA_H
#define CAIRN_STORE_STMTS_METADATA_H

#define STORE_STATEMENTS_METADATA(X)                                                    \
	/* Serialises the entry-count check of one user's writes. */                   \
	X(STMT_META_LOCK_ACCOUNT,                                                       \
	  "SELECT id FROM accounts WHERE address = lower($1) FOR NO KEY UPDATE", 1)     \
	X(STMT_META_ACCOUNT, "SELECT id FROM accounts WHERE address = lower($1)", 1)    \
	X(STMT_META_MAILBOX,                                                            \
	  "SELECT coalesce(special_use, ''), noselect FROM mailboxes"                   \
	  " WHERE id = $1::bigint", 1)                                                  \
	/* $3 the entry asked for, $4 depth: 0, 1 or -1 (infinity). */                \
	X(STMT_META_GET,                                                                \
	  "SELECT name, value FROM metadata_entries"                                    \
	  " WHERE coalesce(mailbox_id, 0) = $1::bigint"                                 \
	  " AND (account_id IS NULL OR account_id = $2::bigint)"                        \
	  " AND (name = $3 OR ($4::int <> 0 AND left(name, length($3) + 1) = $3 || '/'" \
	  "  AND ($4::int < 0 OR position('/' IN substr(name, length($3) + 2)) = 0)))"  \
	  " ORDER BY name COLLATE \"C\"", 4)                                            \
	X(STMT_META_SET,                                                                \
	  "INSERT INTO metadata_entries (mailbox_id, account_id, name, value)"         \
	  " VALUES (nullif($1::bigint, 0), $2::bigint, $3, $4::bytea)"                  \
	  " ON CONFLICT ((coalesce(mailbox_id, 0)), (coalesce(account_id, 0)), name)"   \
	  " DO UPDATE SET value = EXCLUDED.value", 4)                                   \
	X(STMT_META_DEL,                                                                \
	  "DELETE FROM metadata_entries WHERE coalesce(mailbox_id, 0) = $1::bigint"     \
	  " AND coalesce(account_id, 0) = coalesce($2::bigint, 0) AND name = $3", 3)    \
	/* What one user sees on the server or a mailbox (TOOMANY). */                 \
	X(STMT_META_COUNT,                                                              \
	  "SELECT count(*) FROM metadata_entries WHERE coalesce(mailbox_id, 0) = $1::bigint" \
	  " AND (account_id IS NULL OR account_id = $2::bigint)", 2)                    \
	X(STMT_META_SET_SPECIALUSE,                                                     \
	  "UPDATE mailboxes SET special_use = nullif($2, '') WHERE id = $1::bigint", 2)

#endif
