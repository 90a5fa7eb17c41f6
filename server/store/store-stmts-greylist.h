/* Prepared statements of greylisting (store-greylist.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_GREYLIST_H
#define CAIRN_STORE_STMTS_GREYLIST_H

/* $4 delay ms, $5 retry window ms: a retry after the delay and within the
 * window passes the triplet for good; one after the window starts over. */
#define STORE_STATEMENTS_GREYLIST(X)                                                    \
	X(STMT_GREYLIST_CHECK,                                                          \
	  "INSERT INTO greylist (client_net, sender, recipient) VALUES ($1, $2, $3)"    \
	  " ON CONFLICT (client_net, sender, recipient) DO UPDATE SET last_seen = now()," \
	  " passed = greylist.passed OR (greylist.first_seen <= now() - $4::bigint * interval '1 millisecond'" \
	  " AND greylist.first_seen >= now() - $5::bigint * interval '1 millisecond')," \
	  " first_seen = CASE WHEN NOT greylist.passed AND greylist.first_seen"         \
	  " < now() - $5::bigint * interval '1 millisecond' THEN now()"                 \
	  " ELSE greylist.first_seen END"                                               \
	  " RETURNING passed", 5)                                                       \
	X(STMT_GREYLIST_EXPIRE,                                                         \
	  "DELETE FROM greylist WHERE last_seen < now() - $1::bigint * interval '1 millisecond'", 1)

#endif
