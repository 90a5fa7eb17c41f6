/* Prepared statements of store-quota.c, one X(id, sql, nparams) each;
 * included by store-private.h only. Limits come back as -1 when unset. */
#ifndef CAIRN_STORE_STMTS_QUOTA_H
#define CAIRN_STORE_STMTS_QUOTA_H

#define STORE_QUOTA_COLUMNS                                                             \
	"SELECT a.address, u.bytes, u.messages, coalesce(a.quota_bytes, -1),"          \
	" coalesce(a.quota_messages, -1) FROM accounts a"                               \
	" JOIN mail_usage u ON u.account_id = a.id"

#define STORE_STATEMENTS_QUOTA(X)                                                       \
	X(STMT_QUOTA_OF_ACCOUNT, STORE_QUOTA_COLUMNS " WHERE a.address = lower($1)", 1) \
	X(STMT_QUOTA_OF_MAILBOX,                                                        \
	  STORE_QUOTA_COLUMNS " JOIN mailboxes m ON m.account_id = a.id"                \
	  " WHERE m.id = $1::bigint", 1)                                                \
	/* -2 keeps a limit, -1 removes it. */                                         \
	X(STMT_QUOTA_SET_LIMITS,                                                        \
	  "UPDATE accounts SET"                                                         \
	  " quota_bytes = CASE WHEN $2::bigint = -2 THEN quota_bytes"                   \
	  "  WHEN $2::bigint < 0 THEN NULL ELSE $2::bigint END,"                        \
	  " quota_messages = CASE WHEN $3::bigint = -2 THEN quota_messages"             \
	  "  WHEN $3::bigint < 0 THEN NULL ELSE $3::bigint END, updated_at = now()"     \
	  " WHERE address = lower($1) RETURNING id", 3)                                 \
	X(STMT_QUOTA_IS_ADMIN,                                                          \
	  "SELECT is_admin AND enabled FROM accounts WHERE address = lower($1)", 1)     \
	X(STMT_QUOTA_DELETED_BYTES,                                                     \
	  "SELECT coalesce(sum(size), 0) FROM mailbox_messages"                         \
	  " WHERE mailbox_id = $1::bigint AND flags & 8 <> 0", 1)

#endif
