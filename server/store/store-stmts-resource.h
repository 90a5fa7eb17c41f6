/* Prepared statements of resources (migration 0027), one X(id, sql,
 * nparams) per statement; included by store-private.h only. Used by
 * store-resource.c. */
#ifndef CAIRN_STORE_STMTS_RESOURCE_H
#define CAIRN_STORE_STMTS_RESOURCE_H

/* Columns of one resource, in this order everywhere; the bookers come as
 * one text, sorted and separated by spaces (no address holds one). */
#define STORE_RES_COLUMNS                                                               \
	"a.address, a.display_name, r.kind, r.capacity, r.location, r.policy,"          \
	" r.window_days, r.bookers_everyone, r.delegate, a.enabled, a.source,"          \
	" array_to_string(ARRAY(SELECT b.booker FROM resource_bookers b"                \
	"  WHERE b.account_id = r.account_id ORDER BY b.booker), ' ')"

#define STORE_STATEMENTS_RESOURCE(X)                                                    \
	/* By the account's address, or an alias whose only target it is. */          \
	X(STMT_RES_GET,                                                                 \
	  "SELECT " STORE_RES_COLUMNS " FROM resources r"                               \
	  " JOIN accounts a ON a.id = r.account_id WHERE a.address = $1"                \
	  " UNION ALL SELECT " STORE_RES_COLUMNS " FROM resources r"                    \
	  " JOIN accounts a ON a.id = r.account_id"                                     \
	  " JOIN alias_targets t ON t.target = a.address"                               \
	  " JOIN aliases l ON l.id = t.alias_id AND l.address = $1"                     \
	  " WHERE NOT EXISTS (SELECT 1 FROM alias_targets o"                            \
	  "  WHERE o.alias_id = l.id AND o.target <> a.address)"                        \
	  " LIMIT 1", 1)
#endif
