/* Internals shared by the store's .c files: struct store, the one registry of
 * prepared statements, and the helpers every store function goes through
 * (execute a registered statement, map SQLSTATEs to store_result codes, keep
 * the last error text). Nothing outside server/store/ includes this. */
#ifndef CAIRN_STORE_PRIVATE_H
#define CAIRN_STORE_PRIVATE_H

#include "store.h"

#include <stdio.h>

/* The prepared-statement registry. Each group lists X(id, sql, nparams) for one
 * store file; a new store file adds its group here and to STORE_STATEMENTS.
 * Statements are prepared on a connection when first used there.
 * Parameters are always text; SQL is never built from input. */
#define STORE_STATEMENTS_CORE(X)                                                        \
	X(STMT_PING, "SELECT 1", 0)                                                     \
	X(STMT_SESSION_SETUP,                                                           \
	  "SELECT set_config('statement_timeout', $1, false),"                          \
	  " set_config('synchronous_commit', 'on', false)", 1)

/* store-migrate.c. The advisory lock key is 'cairn' in ASCII. */
#define STORE_STATEMENTS_MIGRATE(X)                                                     \
	X(STMT_MIGRATE_LOCK, "SELECT pg_advisory_xact_lock(426852102766)", 0)           \
	X(STMT_MIGRATE_NO_TIMEOUT, "SET LOCAL statement_timeout = 0", 0)                \
	X(STMT_MIGRATE_CREATE,                                                          \
	  "CREATE TABLE IF NOT EXISTS cairn_migrations ("                               \
	  " version int PRIMARY KEY,"                                                   \
	  " name text NOT NULL,"                                                        \
	  " sha256 text NOT NULL,"                                                      \
	  " applied_at timestamptz NOT NULL DEFAULT now())", 0)                         \
	X(STMT_MIGRATE_LIST,                                                            \
	  "SELECT version, name, sha256 FROM cairn_migrations ORDER BY version", 0)     \
	X(STMT_MIGRATE_INSERT,                                                          \
	  "INSERT INTO cairn_migrations (version, name, sha256) VALUES ($1, $2, $3)", 3)

/* store-account.c */
#define STORE_STATEMENTS_ACCOUNT(X)                                                     \
	X(STMT_DOMAIN_ADD, "INSERT INTO domains (name) VALUES ($1)", 1)                 \
	X(STMT_DOMAIN_DEL,                                                              \
	  "WITH d AS (SELECT id FROM domains WHERE name = $1),"                         \
	  " n AS (SELECT count(*) AS accounts FROM accounts"                            \
	  "       WHERE domain_id IN (SELECT id FROM d)),"                              \
	  " del AS (DELETE FROM domains WHERE id IN (SELECT id FROM d)"                 \
	  "         AND (SELECT accounts FROM n) = 0 RETURNING id)"                     \
	  " SELECT (SELECT count(*) FROM d), (SELECT accounts FROM n),"                 \
	  " (SELECT count(*) FROM del)", 1)                                             \
	X(STMT_DOMAIN_LIST, "SELECT name FROM domains ORDER BY name", 0)                \
	X(STMT_ACCOUNT_ADD,                                                             \
	  "INSERT INTO accounts (domain_id, localpart, address, password_hash,"         \
	  " display_name) SELECT id, $2, $3, $4, $5 FROM domains WHERE name = $1"       \
	  " RETURNING id", 5)                                                           \
	X(STMT_ACCOUNT_DEL, "DELETE FROM accounts WHERE address = $1", 1)               \
	X(STMT_ACCOUNT_SET_PASSWORD,                                                    \
	  "UPDATE accounts SET password_hash = $2, updated_at = now()"                  \
	  " WHERE address = $1", 2)                                                     \
	X(STMT_ACCOUNT_PASSWORD,                                                        \
	  "SELECT password_hash, enabled FROM accounts WHERE address = $1", 1)          \
	X(STMT_ACCOUNT_LIST_ALL,                                                        \
	  "SELECT address, display_name FROM accounts WHERE domain_id IS NOT NULL"   \
	  " ORDER BY address", 0)             \
	X(STMT_ACCOUNT_LIST_DOMAIN,                                                     \
	  "SELECT a.address, a.display_name FROM domains d"                             \
	  " LEFT JOIN accounts a ON a.domain_id = d.id"                                 \
	  " WHERE d.name = $1 ORDER BY a.address", 1)

/* Larger areas keep their statement group in a header of their own. */
#include "store-stmts-mail.h"
#include "store-stmts-quota.h"
#include "store-stmts-metadata.h"
#include "store-stmts-directory.h"
#include "store-stmts-pop3.h"
#include "store-stmts-search.h"
#include "store-stmts-deliver.h"
#include "store-stmts-notify.h"
#include "store-stmts-queue.h"
#include "store-stmts-sort.h"
#include "store-stmts-acl.h"
#include "store-stmts-dkim.h"
#include "store-stmts-urlauth.h"
#include "store-stmts-sieve.h"
#include "store-stmts-scan.h"
#include "store-stmts-bayes.h"
#include "store-stmts-greylist.h"
#include "store-stmts-webadmin.h"
#include "store-stmts-dav.h"
#include "store-stmts-carddav.h"
#include "store-stmts-resource.h"
#include "store-stmts-dav-proxy.h"
#include "store-stmts-imip.h"
#include "store-stmts-sched.h"
#include "store-stmts-freebusy.h"

#define STORE_STATEMENTS(X)           \
	STORE_STATEMENTS_CORE(X)      \
	STORE_STATEMENTS_MIGRATE(X)   \
	STORE_STATEMENTS_ACCOUNT(X)   \
	STORE_STATEMENTS_MAIL(X)      \
	STORE_STATEMENTS_QUOTA(X)     \
	STORE_STATEMENTS_METADATA(X)  \
	STORE_STATEMENTS_DIRECTORY(X)  \
	STORE_STATEMENTS_POP3(X)       \
	STORE_STATEMENTS_SEARCH(X)     \
	STORE_STATEMENTS_DELIVER(X)    \
	STORE_STATEMENTS_NOTIFY(X)     \
	STORE_STATEMENTS_QUEUE(X)      \
	STORE_STATEMENTS_SORT(X)      \
	STORE_STATEMENTS_ACL(X)       \
	STORE_STATEMENTS_DKIM(X)      \
	STORE_STATEMENTS_URLAUTH(X)   \
	STORE_STATEMENTS_SIEVE(X)     \
	STORE_STATEMENTS_SCAN(X)      \
	STORE_STATEMENTS_BAYES(X)     \
	STORE_STATEMENTS_GREYLIST(X)  \
	STORE_STATEMENTS_WEBADMIN(X)  \
	STORE_STATEMENTS_DAV(X)       \
	STORE_STATEMENTS_CARDDAV(X)   \
	STORE_STATEMENTS_RESOURCE(X)  \
	STORE_STATEMENTS_DAV_PROXY(X) \
	STORE_STATEMENTS_IMIP(X)      \
	STORE_STATEMENTS_SCHED(X)     \
	STORE_STATEMENTS_FREEBUSY(X)

enum store_stmt_id {
#define STORE_STMT_ENUM(id, sql, nparams) id,
	STORE_STATEMENTS(STORE_STMT_ENUM)
#undef STORE_STMT_ENUM
	STMT_COUNT
};

/* Most parameters any registered statement takes. */
#define STORE_MAX_PARAMS 16

struct store_stmt {
	const char *name;	/* the prepared statement's name on the server */
	const char *sql;
	int nparams;
};

/* The registry table, indexed by enum store_stmt_id (defined in store.c). */
extern const struct store_stmt store_stmts[STMT_COUNT];

struct store {
	PGconn *conn;			/* NULL while disconnected */
	char *conninfo;
	uint64_t connect_timeout_ms;
	uint64_t statement_timeout_ms;
	uint64_t reconnect_interval_ms;
	uint64_t last_connect_ms;	/* CLOCK_MONOTONIC of the last attempt */
	bool connect_tried;		/* last_connect_ms is meaningful */
	bool in_tx;			/* inside store_tx: never reconnect */
	bool async_commit;		/* synchronous_commit = off on each connection */
	bool prepared[STMT_COUNT];	/* on the current connection */
	char sqlstate[6];		/* of the last failed statement, "" if none */
	int error_position;		/* 1-based character the server blamed, 0 if none */
	char conn_error[256];		/* why the last connect failed or the link dropped */
	char error[1024];		/* the last error, handed out via error_r */
};

/* Run registered statement id with its nparams text parameters passed as
 * const char * varargs (NULL = SQL NULL). Connects first if needed (never
 * inside store_tx). Returns a store_result; on STORE_OK and res_r != NULL the
 * caller owns *res_r and must PQclear() it. Failure text is in st->error. */
int store_exec_prepared(struct store *st, enum store_stmt_id id, PGresult **res_r, ...);
/* The same with the parameters in an array of the statement's nparams. */
int store_exec_params(struct store *st, enum store_stmt_id id, const char *const *params,
		      PGresult **res_r);
/* store_exec_params with every result column in binary format (bytea comes
 * back as raw bytes: no hex text to decode, half the traffic). */
int store_exec_binary(struct store *st, enum store_stmt_id id, const char *const *params,
		      PGresult **res_r);
/* Run constant or trusted SQL text (BEGIN, COMMIT, a migration file) with
 * PQexec. Never pass text that contains input. Same result rules as above. */
int store_exec_trusted(struct store *st, const char *sql, PGresult **res_r);
/* Format st->error and return result, so callers can `return store_fail(...)`. */
int store_fail(struct store *st, int result, const char *fmt, ...) ATTR_PRINTF(3, 4);
/* Make sure a connection is up (reconnecting at most once per reconnect
 * interval, never inside a transaction). Returns STORE_OK or STORE_TEMPFAIL. */
int store_connect(struct store *st);
/* Milliseconds on the monotonic clock. */
uint64_t store_now_ms(void);

#endif
