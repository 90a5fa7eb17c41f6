/* Prepared statements of iMIP (store-imip.c): the automatic answers'
 * memory. One X(id, sql, nparams) per statement; included by
 * store-private.h only. */
#ifndef CAIRN_STORE_STMTS_IMIP_H
#define CAIRN_STORE_STMTS_IMIP_H

#define STORE_STATEMENTS_IMIP(X)                                                        \
	X(STMT_IMIP_AUTO_CLAIM,                                                         \
	  "INSERT INTO imip_auto_replies (sender, recipient, handle, until)"            \
	  " VALUES (lower($1), lower($2), $3, now() + make_interval(secs => $4::bigint))" \
	  " ON CONFLICT (sender, recipient, handle) DO UPDATE SET until = EXCLUDED.until" \
	  " WHERE imip_auto_replies.until <= now() RETURNING 1", 4)                     \
	X(STMT_IMIP_AUTO_EXPIRE,                                                        \
	  "DELETE FROM imip_auto_replies WHERE ctid IN (SELECT ctid"                    \
	  " FROM imip_auto_replies WHERE until <= now() LIMIT 100)", 0)               \
	X(STMT_IMIP_QUEUE_NOTIFY, "SELECT pg_notify('cairn_queue', '')", 0)

#endif
