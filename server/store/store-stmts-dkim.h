/* Prepared statements of the DKIM key table (store-dkim.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_DKIM_H
#define CAIRN_STORE_STMTS_DKIM_H

#define DKIM_KEY_COLUMNS                                                                \
	"domain, selector, algorithm, private_pem,"                                     \
	" to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), active"

#define STORE_STATEMENTS_DKIM(X)                                                        \
	X(STMT_DKIM_ADD,                                                                \
	  "INSERT INTO dkim_keys (domain, selector, algorithm, private_pem, active)"    \
	  " VALUES ($1, $2, $3, $4, $5::boolean)", 5)                                   \
	X(STMT_DKIM_ACTIVE,                                                             \
	  "SELECT " DKIM_KEY_COLUMNS " FROM dkim_keys WHERE domain = $1 AND active"     \
	  " ORDER BY algorithm, created, selector", 1)                                  \
	X(STMT_DKIM_LIST_ALL,                                                           \
	  "SELECT " DKIM_KEY_COLUMNS " FROM dkim_keys ORDER BY domain, selector", 0)    \
	X(STMT_DKIM_LIST_DOMAIN,                                                        \
	  "SELECT " DKIM_KEY_COLUMNS " FROM dkim_keys WHERE domain = $1"                \
	  " ORDER BY selector", 1)                                                      \
	X(STMT_DKIM_FIND,                                                               \
	  "SELECT " DKIM_KEY_COLUMNS " FROM dkim_keys WHERE domain = $1"                \
	  " AND selector = $2", 2)                                                      \
	X(STMT_DKIM_SET_ACTIVE,                                                         \
	  "UPDATE dkim_keys SET active = $3::boolean WHERE domain = $1"                 \
	  " AND selector = $2", 3)                                                      \
	X(STMT_DKIM_DELETE,                                                             \
	  "DELETE FROM dkim_keys WHERE domain = $1 AND selector = $2", 2)

#endif
