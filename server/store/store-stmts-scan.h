/* Prepared statements of the scan stage's tables (store-scan.c, migration
 * 0022), one X(id, sql, nparams) per statement; included by
 * store-private.h only. */
#ifndef CAIRN_STORE_STMTS_SCAN_H
#define CAIRN_STORE_STMTS_SCAN_H

#define SCAN_POLICY_COLUMNS                                                             \
	"target, enabled, tag_threshold, junk_threshold, quarantine_threshold,"         \
	" reject_threshold, virus_action"

#define SCAN_QUARANTINE_COLUMNS                                                         \
	"id, account, to_char(received AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')," \
	" envelope_from, client_ip, reason, score, tests, subject, size"

#define STORE_STATEMENTS_SCAN(X)                                                        \
	X(STMT_SCAN_POLICY_GET,                                                         \
	  "SELECT " SCAN_POLICY_COLUMNS " FROM scan_policy WHERE target = $1", 1)       \
	X(STMT_SCAN_POLICY_LIST,                                                        \
	  "SELECT " SCAN_POLICY_COLUMNS " FROM scan_policy ORDER BY target", 0)         \
	X(STMT_SCAN_POLICY_SET,                                                         \
	  "INSERT INTO scan_policy (" SCAN_POLICY_COLUMNS ")"                           \
	  " VALUES ($1, $2::boolean, $3::float8, $4::float8, $5::float8, $6::float8, $7)" \
	  " ON CONFLICT (target) DO UPDATE SET enabled = EXCLUDED.enabled,"             \
	  " tag_threshold = EXCLUDED.tag_threshold,"                                    \
	  " junk_threshold = EXCLUDED.junk_threshold,"                                  \
	  " quarantine_threshold = EXCLUDED.quarantine_threshold,"                      \
	  " reject_threshold = EXCLUDED.reject_threshold,"                              \
	  " virus_action = EXCLUDED.virus_action, updated_at = now()", 7)               \
	X(STMT_SCAN_POLICY_DELETE, "DELETE FROM scan_policy WHERE target = $1", 1)      \
	X(STMT_SCAN_Q_ADD,                                                              \
	  "INSERT INTO scan_quarantine (account, envelope_from, client_ip, reason,"     \
	  " score, tests, subject, size, raw)"                                          \
	  " VALUES ($1, $2, $3, $4, $5::float8, $6, $7, $8::bigint, $9::bytea)"         \
	  " RETURNING id", 9)                                                           \
	X(STMT_SCAN_Q_LIST_ALL,                                                         \
	  "SELECT " SCAN_QUARANTINE_COLUMNS " FROM scan_quarantine ORDER BY id", 0)     \
	X(STMT_SCAN_Q_LIST_ACCOUNT,                                                     \
	  "SELECT " SCAN_QUARANTINE_COLUMNS " FROM scan_quarantine WHERE account = $1"  \
	  " ORDER BY id", 1)                                                            \
	X(STMT_SCAN_Q_GET,                                                              \
	  "SELECT " SCAN_QUARANTINE_COLUMNS ", raw FROM scan_quarantine"                \
	  " WHERE id = $1::bigint", 1)                                                  \
	X(STMT_SCAN_Q_DELETE, "DELETE FROM scan_quarantine WHERE id = $1::bigint", 1)   \
	X(STMT_SCAN_Q_EXPIRE,                                                           \
	  "DELETE FROM scan_quarantine WHERE received < now() - $1::bigint"             \
	  " * interval '1 second'", 1)                                                  \
	X(STMT_SCAN_Q_CLAIM,                                                            \
	  "UPDATE scan_quarantine SET released = now() WHERE id = $1::bigint"           \
	  " AND (released IS NULL OR released < now() - interval '10 minutes')"         \
	  " RETURNING account, raw", 1)                                                 \
	X(STMT_SCAN_Q_UNCLAIM,                                                          \
	  "UPDATE scan_quarantine SET released = NULL WHERE id = $1::bigint", 1)

#endif
