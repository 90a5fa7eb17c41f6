/* Prepared statements of calendar delegation (store-dav-proxy.c, migration
 * 0028), one X(id, sql, nparams) per statement; included by
 * store-private.h only. Modes are 1 (read) and 2 (write) on the wire. */
#ifndef CAIRN_STORE_STMTS_DAV_PROXY_H
#define CAIRN_STORE_STMTS_DAV_PROXY_H

/* The delegates that stand for user $n: itself and the (SQL directory)
 * groups it is a member of. */
#define STORE_DAV_PROXY_AS(n)                                                           \
	"(p.delegate = lower(" n ") OR p.delegate IN (SELECT g.address FROM groups g"    \
	" JOIN group_members m ON m.group_id = g.id WHERE m.member = lower(" n ")))"

#define STORE_DAV_PROXY_MODE_INT "CASE p.mode WHEN 'write' THEN 2 ELSE 1 END"

#define STORE_STATEMENTS_DAV_PROXY(X)                                                   \
	X(STMT_DAV_PROXY_SET,                                                           \
	  "INSERT INTO dav_proxies (account_id, delegate, mode)"                        \
	  " VALUES ($1::bigint, lower($2), $3) ON CONFLICT (account_id, delegate)"      \
	  " DO UPDATE SET mode = EXCLUDED.mode", 3)                                     \
	X(STMT_DAV_PROXY_DEL,                                                           \
	  "DELETE FROM dav_proxies WHERE account_id = $1::bigint"                       \
	  " AND delegate = lower($2)", 2)                                               \
	X(STMT_DAV_PROXY_CLEAR,                                                         \
	  "DELETE FROM dav_proxies p USING accounts a WHERE p.account_id = a.id"        \
	  " AND a.address = lower($1) AND p.mode = $2", 2)                              \
	X(STMT_DAV_PROXY_MODE,                                                          \
	  "SELECT coalesce(max(" STORE_DAV_PROXY_MODE_INT "), 0)"                       \
	  " FROM dav_proxies p JOIN accounts a ON a.id = p.account_id"                  \
	  " WHERE a.address = lower($1) AND " STORE_DAV_PROXY_AS("$2"), 2)              \
	X(STMT_DAV_PROXIES,                                                             \
	  "SELECT p.delegate, " STORE_DAV_PROXY_MODE_INT                                \
	  " FROM dav_proxies p JOIN accounts a ON a.id = p.account_id"                  \
	  " WHERE a.address = lower($1) AND ($2::int = 0 OR p.mode ="                   \
	  " CASE $2::int WHEN 2 THEN 'write' ELSE 'read' END) ORDER BY p.delegate", 2)  \
	X(STMT_DAV_PROXY_FOR,                                                           \
	  "SELECT a.address, max(" STORE_DAV_PROXY_MODE_INT ")"                         \
	  " FROM dav_proxies p JOIN accounts a ON a.id = p.account_id"                  \
	  " WHERE a.address <> lower($1) AND " STORE_DAV_PROXY_AS("$1")                 \
	  " GROUP BY a.address ORDER BY a.address", 1)

#endif
