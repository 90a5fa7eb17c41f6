/* Prepared statements of the sql directory backend (aliases, groups,
 * memberships, catch-alls, address-book fields, sync and failed-login
 * counters), one X(id, sql, nparams) per statement; included by
 * store-private.h only. Used by store-directory.c. */
#ifndef CAIRN_STORE_STMTS_DIRECTORY_H
#define CAIRN_STORE_STMTS_DIRECTORY_H

/* Columns of one account's directory view, in this order everywhere. */
#define STORE_DIR_ACCOUNT_COLUMNS                                                       \
	"a.address, a.display_name, a.enabled, a.is_admin, a.quota_bytes, a.phone,"     \
	" a.department, a.title, a.source, a.password_hash IS NOT NULL"

#define STORE_STATEMENTS_DIRECTORY(X)                                                   \
	X(STMT_DIR_DOMAIN_EXISTS, "SELECT 1 FROM domains WHERE name = $1", 1)           \
	X(STMT_DIR_DOMAIN_ENSURE,                                                       \
	  "INSERT INTO domains (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", 1)    \
	/* What an address names: one row for an account, one per target or    */    \
	/* member for an alias or group (ref NULL when it has none).           */    \
	X(STMT_DIR_LOOKUP,                                                              \
	  "SELECT 'account', a.address, a.enabled, NULL FROM accounts a"                \
	  " WHERE a.address = $1"                                                       \
	  " UNION ALL SELECT 'group', g.address, true, m.member FROM groups g"          \
	  " LEFT JOIN group_members m ON m.group_id = g.id WHERE g.address = $1"        \
	  " UNION ALL SELECT 'alias', l.address, true, t.target FROM aliases l"         \
	  " LEFT JOIN alias_targets t ON t.alias_id = l.id WHERE l.address = $1", 1)    \
	X(STMT_DIR_ALIAS_ENSURE,                                                        \
	  "WITH d AS (SELECT id FROM domains WHERE name = $1),"                         \
	  " ins AS (INSERT INTO aliases (domain_id, localpart, address)"                \
	  "  SELECT id, $2, $3 FROM d ON CONFLICT (address) DO NOTHING RETURNING id)"   \
	  " SELECT id FROM ins UNION ALL SELECT id FROM aliases WHERE address = $3", 3)  \
	X(STMT_DIR_ALIAS_TARGET_ADD,                                                    \
	  "INSERT INTO alias_targets (alias_id, target) VALUES ($1, $2)", 2)            \
	X(STMT_DIR_ALIAS_TARGET_DEL,                                                    \
	  "DELETE FROM alias_targets t USING aliases l"                                 \
	  " WHERE t.alias_id = l.id AND l.address = $1 AND t.target = $2", 2)           \
	X(STMT_DIR_ALIAS_DEL_EMPTY,                                                     \
	  "DELETE FROM aliases l WHERE l.address = $1 AND NOT EXISTS"                   \
	  " (SELECT 1 FROM alias_targets t WHERE t.alias_id = l.id)", 1)                \
	X(STMT_DIR_ALIAS_DEL, "DELETE FROM aliases WHERE address = $1", 1)              \
	X(STMT_DIR_ALIAS_LIST,                                                          \
	  "SELECT l.address, t.target FROM aliases l"                                   \
	  " JOIN domains d ON d.id = l.domain_id"                                       \
	  " JOIN alias_targets t ON t.alias_id = l.id"                                  \
	  " WHERE $1::text IS NULL OR d.name = $1 ORDER BY l.address, t.target", 1)     \
	X(STMT_DIR_GROUP_ADD,                                                           \
	  "INSERT INTO groups (domain_id, localpart, address, display_name)"            \
	  " SELECT id, $2, $3, $4 FROM domains WHERE name = $1 RETURNING id", 4)        \
	X(STMT_DIR_GROUP_DEL, "DELETE FROM groups WHERE address = $1", 1)               \
	X(STMT_DIR_GROUP_LIST,                                                          \
	  "SELECT g.address, g.display_name,"                                           \
	  " (SELECT count(*) FROM group_members m WHERE m.group_id = g.id)"             \
	  " FROM groups g JOIN domains d ON d.id = g.domain_id"                         \
	  " WHERE $1::text IS NULL OR d.name = $1 ORDER BY g.address", 1)               \
	X(STMT_DIR_GROUP_MEMBER_ADD,                                                    \
	  "INSERT INTO group_members (group_id, member)"                                \
	  " SELECT id, $2 FROM groups WHERE address = $1 RETURNING group_id", 2)        \
	X(STMT_DIR_GROUP_MEMBER_DEL,                                                    \
	  "DELETE FROM group_members m USING groups g"                                  \
	  " WHERE m.group_id = g.id AND g.address = $1 AND m.member = $2", 2)           \
	X(STMT_DIR_ACCOUNT_INFO,                                                        \
	  "SELECT " STORE_DIR_ACCOUNT_COLUMNS " FROM accounts a WHERE a.address = $1", 1) \
	/* Address book: a case-insensitive substring of the address, name,   */    \
	/* department or title; no LIKE, so '%' and '_' in the query are text. */    \
	X(STMT_DIR_ACCOUNT_SEARCH,                                                      \
	  "SELECT " STORE_DIR_ACCOUNT_COLUMNS " FROM accounts a"                        \
	  " JOIN domains d ON d.id = a.domain_id"                                       \
	  " WHERE ($1::text IS NULL OR d.name = $1) AND ($2 = ''"                       \
	  " OR strpos(lower(a.address), lower($2)) > 0"                                 \
	  " OR strpos(lower(a.display_name), lower($2)) > 0"                            \
	  " OR strpos(lower(a.department), lower($2)) > 0"                              \
	  " OR strpos(lower(a.title), lower($2)) > 0)"                                  \
	  " ORDER BY a.address LIMIT $3::int", 3)                                       \
	/* NULL leaves a field as it is. */                                            \
	X(STMT_DIR_ACCOUNT_UPDATE,                                                      \
	  "UPDATE accounts SET display_name = coalesce($2, display_name),"              \
	  " phone = coalesce($3, phone), department = coalesce($4, department),"        \
	  " title = coalesce($5, title),"                                               \
	  " quota_bytes = CASE WHEN $6::text IS NULL THEN quota_bytes"                  \
	  "  WHEN $6 = '0' THEN NULL ELSE $6::bigint END,"                              \
	  " is_admin = coalesce($7::boolean, is_admin),"                                \
	  " enabled = coalesce($8::boolean, enabled), updated_at = now()"               \
	  " WHERE address = $1", 8)                                                     \
	/* Sync: create a directory user's account, or refresh and re-enable */     \
	/* one sync created before. A local account of that address is left   */     \
	/* alone (no row returned).                                           */     \
	X(STMT_DIR_ACCOUNT_PROVISION,                                                   \
	  "INSERT INTO accounts AS a (domain_id, localpart, address, password_hash,"    \
	  " display_name, quota_bytes, phone, department, title, is_admin, source)"     \
	  " SELECT id, $2, $3, NULL, $4, nullif($5, '0')::bigint, $6, $7, $8,"          \
	  " $9::boolean, 'ldap' FROM domains WHERE name = $1"                           \
	  " ON CONFLICT (address) DO UPDATE SET display_name = EXCLUDED.display_name,"  \
	  " quota_bytes = EXCLUDED.quota_bytes, phone = EXCLUDED.phone,"                \
	  " department = EXCLUDED.department, title = EXCLUDED.title,"                  \
	  " is_admin = EXCLUDED.is_admin, enabled = true, updated_at = now()"           \
	  " WHERE a.source = 'ldap'"                                                    \
	  " RETURNING (xmax = 0), (SELECT enabled FROM accounts WHERE address = $3)", 9) \
	X(STMT_DIR_ACCOUNT_LIST_SOURCE,                                                 \
	  "SELECT address, enabled FROM accounts WHERE source = $1 ORDER BY address", 1) \
	X(STMT_DIR_ACCOUNT_DISABLE,                                                     \
	  "UPDATE accounts SET enabled = false, updated_at = now()"                     \
	  " WHERE address = $1 AND enabled", 1)                                         \
	/* Milliseconds until the (account, network) pair or the network may  */    \
	/* try again, if either is locked out now.                             */    \
	X(STMT_DIR_AUTH_LOCKED,                                                         \
	  "SELECT kind, ceil(extract(epoch FROM locked_until - now()) * 1000)::bigint"  \
	  " FROM auth_failures WHERE ((kind = 'account' AND key = $1)"                  \
	  " OR (kind = 'net' AND key = $2)) AND locked_until > now()"                   \
	  " ORDER BY locked_until DESC LIMIT 1", 2)                                     \
	/* Count one failure: $3 failures within $4 ms lock the key for $5 ms. */    \
	X(STMT_DIR_AUTH_FAILED,                                                         \
	  "INSERT INTO auth_failures AS f (kind, key, failures, first_failure,"         \
	  " last_failure, locked_until) VALUES ($1, $2, 1, now(), now(),"               \
	  " CASE WHEN $3::int <= 1 THEN now() + $5::bigint * interval '1 ms' END)"      \
	  " ON CONFLICT (kind, key) DO UPDATE SET"                                      \
	  " failures = CASE WHEN f.first_failure < now() - $4::bigint * interval '1 ms'" \
	  "  THEN 1 ELSE f.failures + 1 END,"                                           \
	  " first_failure = CASE WHEN f.first_failure < now() - $4::bigint * interval '1 ms'" \
	  "  THEN now() ELSE f.first_failure END,"                                      \
	  " last_failure = now(),"                                                      \
	  " locked_until = CASE WHEN (CASE WHEN f.first_failure < now()"                \
	  "  - $4::bigint * interval '1 ms' THEN 1 ELSE f.failures + 1 END) >= $3::int" \
	  "  THEN now() + $5::bigint * interval '1 ms' ELSE f.locked_until END"         \
	  " RETURNING failures, coalesce(ceil(extract(epoch FROM"                       \
	  "  locked_until - now()) * 1000)::bigint, 0)", 5)                             \
	X(STMT_DIR_AUTH_RESET, "DELETE FROM auth_failures WHERE kind = $1 AND key = $2", 2) \
	X(STMT_DIR_AUTH_PURGE,                                                          \
	  "DELETE FROM auth_failures WHERE last_failure < now() - $1::bigint * interval '1 ms'" \
	  " AND (locked_until IS NULL OR locked_until < now())", 1)

#endif
