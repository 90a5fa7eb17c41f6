/* The store: the only code in Cairn that speaks SQL. One struct store is one
 * PostgreSQL connection owned by one thread (a worker, or cairnctl). Every
 * statement is a prepared statement registered in one table per module, with
 * parameters; no SQL text is ever built from input. A lost connection is
 * re-established on the next call (at most once per reconnect interval);
 * meanwhile calls fail with STORE_TEMPFAIL and the daemon keeps running. */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include "util.h"
#include <libpq-fe.h>

struct config;
struct store;

/* Result codes shared by every store function (0 = ok). */
enum store_result {
	STORE_OK = 0,
	STORE_ERROR = -1,	/* a bug or a broken database: logged */
	STORE_NOTFOUND = -2,
	STORE_EXISTS = -3,	/* unique violation: duplicate name/address */
	STORE_CONFLICT = -4,	/* serialization failure after all retries */
	STORE_TEMPFAIL = -5,	/* database unreachable: try again later */
	STORE_INVALID = -6,	/* input refused (bad name, foreign key) */
	STORE_OVERQUOTA = -7,	/* the account's storage or message quota would be passed */
};

/* Create a store handle for the config's conninfo and timeouts. It connects
 * lazily: this never fails, the first call reports TEMPFAIL if the database is
 * down. */
struct store *store_open(const struct config *cfg);
/* Close the connection and free the handle; sets *st to NULL. */
void store_close(struct store **st);
/* Commit without waiting for the WAL flush on this handle's connections
 * (synchronous_commit = off, set again after every reconnect): for
 * connections whose every transaction may be lost with a database crash
 * and redone (the queue runners'); never for one that acknowledges mail. */
void store_set_async_commit(struct store *st);

/* True when the handle currently holds an established connection (no I/O). */
bool store_connected(const struct store *st);

/* Check the connection with a trivial prepared query, reconnecting if needed.
 * Returns STORE_OK or STORE_TEMPFAIL with *error_r set. */
int store_ping(struct store *st, const char **error_r);

/* Run fn inside BEGIN ... COMMIT. fn returns a store_result; anything but
 * STORE_OK rolls back. A serialization failure or deadlock (SQLSTATE 40001 or
 * 40P01) retries fn up to 5 times; a lost connection returns STORE_TEMPFAIL.
 * *error_r points to a static or store-owned string valid until the next call. */
int store_tx(struct store *st, int (*fn)(struct store *st, void *ctx, const char **error_r),
	     void *ctx, const char **error_r);

/* Apply every migrations/NNNN_name.sql in dir not yet applied, in order, each
 * in its own transaction, recording name and SHA-256 in cairn_migrations.
 * Prints one progress line per file to progress. Refuses (-1, *error_r naming
 * the file) when an applied file changed or went missing, or a file name is
 * malformed. Returns the number applied, or -1. */
int store_migrate(struct store *st, const char *dir, FILE *progress, char **error_r);

/* Domains and accounts (migration 0001). Names are stored lower-case. */
int store_domain_add(struct store *st, const char *name, const char **error_r);
int store_domain_del(struct store *st, const char *name, const char **error_r);
/* Calls cb for each domain in name order. */
int store_domain_list(struct store *st, void (*cb)(const char *name, void *ctx), void *ctx,
		      const char **error_r);
/* Add an account; its domain must exist (STORE_INVALID otherwise). */
int store_account_add(struct store *st, const char *address, const char *password_hash,
		      const char *display_name, const char **error_r);
int store_account_del(struct store *st, const char *address, const char **error_r);
int store_account_set_password(struct store *st, const char *address, const char *password_hash,
			       const char **error_r);
/* Fetch an account's password hash (malloc'ed into *hash_r) for authentication. */
int store_account_password(struct store *st, const char *address, char **hash_r,
			   const char **error_r);
int store_account_list(struct store *st, const char *domain,
		       void (*cb)(const char *address, const char *display_name, void *ctx),
		       void *ctx, const char **error_r);

/* Human-readable name of a store_result. */
const char *store_result_str(int result);

#endif
