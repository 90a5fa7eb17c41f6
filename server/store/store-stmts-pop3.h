/* Prepared statements of the POP3 maildrop lock (store-pop3.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_POP3_H
#define CAIRN_STORE_STMTS_POP3_H

/* Take the lock when it is free or expired, and the last login (locked_at,
 * kept after an unlock) is at least $4 ms ago (LOGIN-DELAY, RFC 2449);
 * returns the row only then. An unlocked row has expires_at -infinity. */
#define STORE_STATEMENTS_POP3(X)                                                        \
	X(STMT_POP3_LOCK,                                                               \
	  "INSERT INTO pop3_locks (account_id, holder, expires_at)"                     \
	  " SELECT id, $2, now() + $3::bigint * interval '1 millisecond'"               \
	  " FROM accounts WHERE address = $1"                                           \
	  " ON CONFLICT (account_id) DO UPDATE SET holder = EXCLUDED.holder,"           \
	  " locked_at = now(), expires_at = EXCLUDED.expires_at"                        \
	  " WHERE (pop3_locks.expires_at < now()"                                       \
	  " AND pop3_locks.locked_at <= now() - $4::bigint * interval '1 millisecond')" \
	  " OR pop3_locks.holder = EXCLUDED.holder"                                     \
	  " RETURNING account_id", 4)                                                   \
	X(STMT_POP3_LOCK_BUSY,                                                          \
	  "SELECT expires_at >= now() FROM pop3_locks"                                  \
	  " WHERE account_id = (SELECT id FROM accounts WHERE address = $1)", 1)        \
	X(STMT_POP3_REFRESH,                                                            \
	  "UPDATE pop3_locks SET expires_at = now() + $3::bigint * interval '1 millisecond'" \
	  " WHERE account_id = (SELECT id FROM accounts WHERE address = $1)"            \
	  " AND holder = $2 RETURNING account_id", 3)                                   \
	X(STMT_POP3_UNLOCK,                                                             \
	  "UPDATE pop3_locks SET expires_at = '-infinity', holder = ''"                 \
	  " WHERE account_id = (SELECT id FROM accounts WHERE address = $1)"            \
	  " AND holder = $2", 2)                                                        \
	X(STMT_POP3_SEEN,                                                               \
	  "UPDATE mailbox_messages SET flags = flags | 1, modseq = $3::bigint"          \
	  " WHERE mailbox_id = $1 AND uid <@ $2::int8multirange AND flags & 1 = 0"      \
	  " RETURNING uid", 3)                                                          \
	X(STMT_POP3_RAW_MANY,                                                           \
	  "SELECT mm.uid, b.raw FROM mailbox_messages mm JOIN message_blobs b"          \
	  " ON b.id = mm.blob_id WHERE mm.mailbox_id = $1"                              \
	  " AND mm.uid = ANY ($2::bigint[])", 2)                                        \
	X(STMT_POP3_HELD,                                                               \
	  "SELECT 1 FROM pop3_locks"                                                    \
	  " WHERE account_id = (SELECT id FROM accounts WHERE address = $1)"            \
	  " AND holder = $2 FOR UPDATE", 2)

#endif
