/* Prepared statements of the Sieve store (store-sieve.c): scripts, vacation
 * memory, duplicate tracking, redirect counters. One X(id, sql, nparams) per
 * statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_SIEVE_H
#define CAIRN_STORE_STMTS_SIEVE_H

#define STORE_STATEMENTS_SIEVE(X)                                                       \
	X(STMT_SIEVE_ACCOUNT_LOCK,                                                      \
	  "SELECT id FROM accounts WHERE address = $1 FOR UPDATE", 1)                    \
	X(STMT_SIEVE_USAGE,                                                             \
	  "SELECT count(*), coalesce(sum(size), 0) FROM sieve_scripts"                  \
	  " WHERE account_id = $1::bigint AND name <> $2", 2)                            \
	X(STMT_SIEVE_PUT,                                                               \
	  "INSERT INTO sieve_scripts (account_id, name, content, size)"                  \
	  " VALUES ($1::bigint, $2, $3, octet_length($3))"                               \
	  " ON CONFLICT (account_id, name) DO UPDATE SET content = EXCLUDED.content,"    \
	  " size = EXCLUDED.size, updated_at = now()", 3)                               \
	X(STMT_SIEVE_LIST,                                                              \
	  "SELECT s.name, s.active, s.size FROM sieve_scripts s"                        \
	  " JOIN accounts a ON a.id = s.account_id WHERE a.address = $1"                \
	  " ORDER BY s.name", 1)                                                        \
	X(STMT_SIEVE_GET,                                                               \
	  "SELECT s.content, s.active FROM sieve_scripts s"                             \
	  " JOIN accounts a ON a.id = s.account_id WHERE a.address = $1"                \
	  " AND s.name = $2", 2)                                                        \
	X(STMT_SIEVE_GET_ACTIVE,                                                        \
	  "SELECT s.name, s.content FROM sieve_scripts s"                               \
	  " JOIN accounts a ON a.id = s.account_id WHERE a.address = $1"                \
	  " AND s.active", 1)                                                           \
	X(STMT_SIEVE_DEACTIVATE,                                                        \
	  "UPDATE sieve_scripts SET active = false"                                     \
	  " WHERE account_id = $1::bigint AND active", 1)                               \
	X(STMT_SIEVE_ACTIVATE,                                                          \
	  "UPDATE sieve_scripts SET active = true"                                      \
	  " WHERE account_id = $1::bigint AND name = $2", 2)                             \
	X(STMT_SIEVE_DELETE,                                                            \
	  "DELETE FROM sieve_scripts WHERE account_id = $1::bigint AND name = $2"       \
	  " AND NOT active", 2)                                                         \
	X(STMT_SIEVE_EXISTS,                                                            \
	  "SELECT active FROM sieve_scripts WHERE account_id = $1::bigint AND name = $2", \
	  2)                                                                            \
	X(STMT_SIEVE_RENAME,                                                            \
	  "UPDATE sieve_scripts SET name = $3, updated_at = now()"                      \
	  " WHERE account_id = $1::bigint AND name = $2", 3)                             \
	X(STMT_SIEVE_VACATION,                                                          \
	  "INSERT INTO sieve_vacation (account_id, sender, handle, until)"              \
	  " SELECT id, $2, $3, now() + make_interval(secs => $4::bigint)"               \
	  " FROM accounts WHERE address = $1"                                           \
	  " ON CONFLICT (account_id, sender, handle) DO UPDATE SET until = EXCLUDED.until" \
	  " WHERE sieve_vacation.until <= now() RETURNING 1", 4)                        \
	X(STMT_SIEVE_VACATION_CHECK,                                                    \
	  "SELECT 1 FROM sieve_vacation v JOIN accounts a ON a.id = v.account_id"       \
	  " WHERE a.address = $1 AND v.sender = $2 AND v.handle = $3"                   \
	  " AND v.until > now()", 3)                                                    \
	X(STMT_SIEVE_DUP_CHECK,                                                         \
	  "SELECT 1 FROM sieve_duplicate d JOIN accounts a ON a.id = d.account_id"      \
	  " WHERE a.address = $1 AND d.handle = $2 AND d.value_hash = $3"               \
	  " AND d.until > now()", 3)                                                    \
	X(STMT_SIEVE_DUP_RECORD,                                                        \
	  "INSERT INTO sieve_duplicate (account_id, handle, value_hash, until)"         \
	  " SELECT id, $2, $3, now() + make_interval(secs => $4::bigint)"               \
	  " FROM accounts WHERE address = $1"                                           \
	  " ON CONFLICT (account_id, handle, value_hash) DO UPDATE"                     \
	  " SET until = EXCLUDED.until", 4)                                             \
	X(STMT_SIEVE_REDIRECT_COUNT,                                                    \
	  "INSERT INTO sieve_redirects (account_id, day, count)"                        \
	  " SELECT id, (now() AT TIME ZONE 'UTC')::date, 1 FROM accounts"               \
	  " WHERE address = $1"                                                         \
	  " ON CONFLICT (account_id, day) DO UPDATE"                                    \
	  " SET count = sieve_redirects.count + 1"                                      \
	  " WHERE sieve_redirects.count < $2::integer RETURNING count", 2)              \
	X(STMT_SIEVE_EXPIRE,                                                            \
	  "WITH v AS (DELETE FROM sieve_vacation WHERE until < now() - interval '1 day')," \
	  " d AS (DELETE FROM sieve_duplicate WHERE until < now())"                     \
	  " DELETE FROM sieve_redirects WHERE day < (now() AT TIME ZONE 'UTC')::date - 7", 0)

#endif
