/* Prepared statements of the Bayes classifier (store-bayes.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_BAYES_H
#define CAIRN_STORE_STMTS_BAYES_H

#define STORE_STATEMENTS_BAYES(X)                                                       \
	X(STMT_BAYES_ACCOUNT, "SELECT id FROM accounts WHERE address = $1", 1)          \
	X(STMT_BAYES_VARS,                                                              \
	  "SELECT account_id, nspam, nham FROM bayes_vars WHERE account_id = ANY ($1::bigint[])", 1) \
	X(STMT_BAYES_LOOKUP,                                                            \
	  "SELECT token, nspam, nham FROM bayes_tokens WHERE account_id = $1"           \
	  " AND token = ANY ($2::bigint[])", 2)                                         \
	X(STMT_BAYES_TOUCH,                                                             \
	  "UPDATE bayes_tokens SET atime = current_date WHERE account_id = $1"          \
	  " AND token = ANY ($2::bigint[]) AND atime < current_date", 2)                \
	X(STMT_BAYES_SEEN_GET,                                                          \
	  "SELECT spam FROM bayes_seen WHERE account_id = $1 AND msg_key = $2 FOR UPDATE", 2) \
	X(STMT_BAYES_SEEN_PUT,                                                          \
	  "INSERT INTO bayes_seen (account_id, msg_key, spam) VALUES ($1, $2, $3)"      \
	  " ON CONFLICT (account_id, msg_key) DO UPDATE SET spam = EXCLUDED.spam,"      \
	  " learned_at = now()", 3)                                                     \
	X(STMT_BAYES_TOKENS_ADD,                                                        \
	  "INSERT INTO bayes_tokens (account_id, token, nspam, nham)"                   \
	  " SELECT $1, t, greatest($3::int, 0), greatest($4::int, 0)"                   \
	  " FROM unnest($2::bigint[]) AS t"                                             \
	  " ON CONFLICT (account_id, token) DO UPDATE SET"                              \
	  " nspam = greatest(bayes_tokens.nspam + $3::int, 0),"                         \
	  " nham = greatest(bayes_tokens.nham + $4::int, 0), atime = current_date", 4)  \
	X(STMT_BAYES_VARS_ADD,                                                          \
	  "INSERT INTO bayes_vars (account_id, nspam, nham)"                            \
	  " VALUES ($1, greatest($2::int, 0), greatest($3::int, 0))"                    \
	  " ON CONFLICT (account_id) DO UPDATE SET"                                     \
	  " nspam = greatest(bayes_vars.nspam + $2::int, 0),"                           \
	  " nham = greatest(bayes_vars.nham + $3::int, 0)", 3)                          \
	X(STMT_BAYES_EXPIRE,                                                            \
	  "DELETE FROM bayes_tokens WHERE account_id = $1 AND ((nspam + nham <= 1"      \
	  " AND atime < current_date - $2::int) OR atime < current_date - $3::int"      \
	  " OR nspam + nham = 0)", 3)                                                   \
	X(STMT_BAYES_EXPIRE_MARK,                                                       \
	  "UPDATE bayes_vars SET last_expire = now() WHERE account_id = $1", 1)         \
	X(STMT_BAYES_EXPIRE_DUE,                                                        \
	  "SELECT account_id FROM bayes_vars WHERE last_expire < now() - interval '1 day'" \
	  " ORDER BY last_expire LIMIT 10", 0)                                          \
	X(STMT_BAYES_QUEUE_TAKE,                                                        \
	  "DELETE FROM bayes_train_queue WHERE id IN (SELECT id FROM bayes_train_queue" \
	  " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)"                               \
	  " RETURNING account_id, spam, blob_id", 1)                                    \
	X(STMT_BAYES_BLOB, "SELECT raw FROM message_blobs WHERE id = $1", 1)

#endif
