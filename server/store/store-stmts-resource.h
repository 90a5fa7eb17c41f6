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
	  " LIMIT 1", 1)                                                                \
	X(STMT_RES_ADD,                                                                 \
	  "INSERT INTO resources (account_id, kind, capacity, location, policy,"        \
	  " window_days, bookers_everyone, delegate)"                                   \
	  " SELECT id, coalesce($2, 'room'), coalesce($3::int, 0), coalesce($4, ''),"   \
	  " coalesce($5, 'auto'), coalesce($6::int, 0), coalesce($7::boolean, true),"   \
	  " coalesce($8, '') FROM accounts WHERE address = $1"                          \
	  " ON CONFLICT (account_id) DO UPDATE SET kind = EXCLUDED.kind,"               \
	  " capacity = EXCLUDED.capacity, location = EXCLUDED.location,"                \
	  " policy = EXCLUDED.policy, window_days = EXCLUDED.window_days,"              \
	  " bookers_everyone = EXCLUDED.bookers_everyone, delegate = EXCLUDED.delegate,"\
	  " updated_at = now() RETURNING account_id", 8)                                \
	/* NULL leaves a field as it is. */                                            \
	X(STMT_RES_UPDATE,                                                              \
	  "UPDATE resources r SET kind = coalesce($2, r.kind),"                         \
	  " capacity = coalesce($3::int, r.capacity), location = coalesce($4, r.location)," \
	  " policy = coalesce($5, r.policy), window_days = coalesce($6::int, r.window_days)," \
	  " bookers_everyone = coalesce($7::boolean, r.bookers_everyone),"              \
	  " delegate = coalesce($8, r.delegate), updated_at = now()"                    \
	  " FROM accounts a WHERE a.id = r.account_id AND a.address = $1"               \
	  " RETURNING r.account_id", 8)                                                 \
	X(STMT_RES_ACCOUNT_UPDATE,                                                      \
	  "UPDATE accounts SET display_name = coalesce($2, display_name),"              \
	  " enabled = coalesce($3::boolean, enabled), updated_at = now()"               \
	  " WHERE address = $1 AND id IN (SELECT account_id FROM resources)", 3)        \
	X(STMT_RES_BOOKERS_CLEAR,                                                       \
	  "DELETE FROM resource_bookers b USING accounts a"                             \
	  " WHERE b.account_id = a.id AND a.address = $1", 1)                           \
	X(STMT_RES_BOOKER_ADD,                                                          \
	  "INSERT INTO resource_bookers (account_id, booker)"                           \
	  " SELECT r.account_id, $2 FROM resources r JOIN accounts a"                   \
	  " ON a.id = r.account_id WHERE a.address = $1 ON CONFLICT DO NOTHING", 2)     \
	X(STMT_RES_DEL,                                                                 \
	  "DELETE FROM accounts a USING resources r"                                    \
	  " WHERE r.account_id = a.id AND a.address = $1", 1)                           \
	/* Is the address an account that is not a resource? */                       \
	X(STMT_RES_ACCOUNT_KIND,                                                        \
	  "SELECT a.source, EXISTS (SELECT 1 FROM resources r"                          \
	  " WHERE r.account_id = a.id) FROM accounts a WHERE a.address = $1", 1)        \
	/* $1 domains (text[] or NULL), $2 query, $3 sort key, $4 descending, */       \
	/* $5 offset, $6 limit. */                                                     \
	X(STMT_RES_LIST,                                                                \
	  "SELECT " STORE_RES_COLUMNS " FROM resources r"                               \
	  " JOIN accounts a ON a.id = r.account_id"                                     \
	  " JOIN domains d ON d.id = a.domain_id"                                       \
	  " WHERE ($1::text[] IS NULL OR d.name = ANY ($1::text[])) AND ($2 = ''"       \
	  " OR strpos(lower(a.address), lower($2)) > 0"                                 \
	  " OR strpos(lower(a.display_name), lower($2)) > 0"                            \
	  " OR strpos(lower(r.location), lower($2)) > 0)"                               \
	  " ORDER BY CASE WHEN NOT $4::boolean THEN CASE $3 WHEN 'name'"                \
	  "  THEN lower(a.display_name) WHEN 'location' THEN lower(r.location)"         \
	  "  WHEN 'kind' THEN r.kind END END ASC,"                                      \
	  " CASE WHEN $4::boolean THEN CASE $3 WHEN 'name'"                             \
	  "  THEN lower(a.display_name) WHEN 'location' THEN lower(r.location)"         \
	  "  WHEN 'kind' THEN r.kind END END DESC,"                                     \
	  " CASE WHEN $3 = 'capacity' AND NOT $4::boolean THEN r.capacity END ASC,"     \
	  " CASE WHEN $3 = 'capacity' AND $4::boolean THEN r.capacity END DESC,"        \
	  " CASE WHEN $3 = 'address' AND $4::boolean THEN a.address END DESC,"          \
	  " a.address ASC OFFSET $5::int LIMIT $6::int", 6)                             \
	X(STMT_RES_COUNT,                                                               \
	  "SELECT count(*) FROM resources r JOIN accounts a ON a.id = r.account_id"     \
	  " JOIN domains d ON d.id = a.domain_id"                                       \
	  " WHERE ($1::text[] IS NULL OR d.name = ANY ($1::text[])) AND ($2 = ''"       \
	  " OR strpos(lower(a.address), lower($2)) > 0"                                 \
	  " OR strpos(lower(a.display_name), lower($2)) > 0"                            \
	  " OR strpos(lower(r.location), lower($2)) > 0)", 2)                           \
	/* Is $2 (or an account an alias $2 routes to) one of the bookers of   */    \
	/* resource $1 or a member of a booker group, nested up to 8 deep?     */    \
	X(STMT_RES_MAY_BOOK,                                                            \
	  "WITH RECURSIVE g (address, depth) AS ("                                      \
	  " SELECT b.booker, 0 FROM resource_bookers b JOIN accounts a"                 \
	  "  ON a.id = b.account_id WHERE a.address = $1"                               \
	  " UNION SELECT m.member, g.depth + 1 FROM g JOIN groups gr"                   \
	  "  ON gr.address = g.address JOIN group_members m ON m.group_id = gr.id"      \
	  "  WHERE g.depth < 8)"                                                        \
	  " SELECT 1 FROM g WHERE g.address = $2 OR g.address IN (SELECT t.target"      \
	  "  FROM aliases l JOIN alias_targets t ON t.alias_id = l.id"                  \
	  "  WHERE l.address = $2) LIMIT 1", 2)
#endif
