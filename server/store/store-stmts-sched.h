/* Prepared statements of the scheduling store (store-sched.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_SCHED_H
#define CAIRN_STORE_STMTS_SCHED_H

#define STORE_STATEMENTS_SCHED(X)                                                       \
	/* The calendar object of owner $1 with UID $2 in any calendar collection, \
	 * except collection $3 / name $4.                                       */ \
	X(STMT_SCHED_UID_FIND,                                                          \
	  "SELECT c.name, o.name FROM dav_objects o"                                    \
	  " JOIN dav_collections c ON c.id = o.collection_id"                           \
	  " JOIN accounts a ON a.id = c.account_id"                                     \
	  " WHERE a.address = lower($1) AND c.home = 'calendars' AND c.kind = 'calendar'" \
	  " AND o.uid = $2 AND NOT (c.id = $3::bigint AND o.name = $4)"                 \
	  " ORDER BY c.name, o.name LIMIT 1", 4)                                        \
	X(STMT_SCHED_TAG_GET,                                                           \
	  "SELECT schedule_tag FROM dav_objects WHERE collection_id = $1::bigint"       \
	  " AND name = $2", 2)                                                          \
	X(STMT_SCHED_TAG_SET,                                                           \
	  "UPDATE dav_objects SET schedule_tag = $3 WHERE collection_id = $1::bigint"   \
	  " AND name = $2", 3)                                                          \
	/* Every address of an account: itself and the aliases routing to it.  */ \
	X(STMT_SCHED_ADDRESSES,                                                         \
	  "SELECT address FROM accounts WHERE address = lower($1)"                      \
	  " UNION SELECT l.address FROM aliases l JOIN alias_targets t"                 \
	  " ON t.alias_id = l.id WHERE t.target = lower($1)"                            \
	  " AND EXISTS (SELECT 1 FROM accounts WHERE address = lower($1))"              \
	  " ORDER BY 1", 1)                                                             \
	/* The account an address is, directly or as an alias with one target.  */ \
	X(STMT_SCHED_ACCOUNT_OF,                                                        \
	  "SELECT a.address FROM accounts a WHERE a.address = lower($1)"                \
	  " UNION ALL SELECT a.address FROM aliases l"                                  \
	  " JOIN alias_targets t ON t.alias_id = l.id"                                  \
	  " JOIN accounts a ON a.address = t.target"                                    \
	  " WHERE l.address = lower($1)"                                                \
	  " AND (SELECT count(*) FROM alias_targets t2 WHERE t2.alias_id = l.id) = 1"   \
	  " LIMIT 1", 1)

#endif
