/* The scheduling store (RFC 6638, migration 0025): schedule tags of
 * calendar objects, the one scheduling object resource of a UID among a
 * user's calendars, and the calendar user addresses of an account (its
 * address and the aliases that route to it). Primitives for one store_tx;
 * each returns a store_result with *error_r set unless STORE_OK. */
#ifndef CAIRN_STORE_SCHED_H
#define CAIRN_STORE_SCHED_H

#include "store-dav.h"

/* The object of owner with uid in one of its calendar collections, other
 * than (except_coll, except_name): collection name into coll_r and object
 * name into name_r (each STORE_DAV_NAME_MAX + 1 bytes). STORE_NOTFOUND. */
int store_sched_uid_find(struct store *st, const char *owner, const char *uid,
			 uint64_t except_coll, const char *except_name, char *coll_r,
			 char *name_r, const char **error_r);
/* The schedule tag of an object into tag_r (80 bytes, "" when it has none);
 * STORE_NOTFOUND when there is no such object. */
int store_sched_tag_get(struct store *st, uint64_t coll_id, const char *name, char *tag_r,
			const char **error_r);
/* Set (tag NULL: clear) the schedule tag of an object. */
int store_sched_tag_set(struct store *st, uint64_t coll_id, const char *name, const char *tag,
			const char **error_r);
/* Every address of the account address (itself first when it sorts so,
 * then its aliases), lower-case, by callback. STORE_NOTFOUND when address
 * is no account. */
int store_sched_addresses(struct store *st, const char *address,
			  void (*cb)(const char *address, void *ctx), void *ctx,
			  const char **error_r);
/* The account address names (itself, or an alias with that account as its
 * only target) into account_r (321 bytes). STORE_NOTFOUND. */
int store_sched_account_of(struct store *st, const char *address, char *account_r,
			   const char **error_r);

#endif
