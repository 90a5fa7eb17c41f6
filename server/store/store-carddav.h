/* The CardDAV side of the store: the shared global address list collection
 * (migration 0020) and its rewrite by directory sync, the SQL directory as
 * the GAL sees it, and address-book query candidates by the searchable text
 * each address object keeps in dav_objects.summary (the i;unicode-casemap
 * form of its names, addresses and numbers). Calls run inside a store_tx
 * of the caller's where they write. */
#ifndef CAIRN_STORE_CARDDAV_H
#define CAIRN_STORE_CARDDAV_H

#include "store-dav.h"

/* The shared GAL collection (home "addressbooks", name "gal"), created when
 * missing and create is set: STORE_OK, or STORE_NOTFOUND. owner is "". */
int store_carddav_gal_coll(struct store *st, bool create, struct store_dav_coll *coll_r,
			   const char **error_r);

/* The name of the GAL's card with an address as an EMAIL into name_r;
 * key: the address as the search summary holds it (carddav_summary:
 * i;unicode-casemap). STORE_OK, or STORE_NOTFOUND. */
int store_carddav_gal_card_of(struct store *st, const char *key,
			      char name_r[STORE_DAV_NAME_MAX + 1], const char **error_r);

/* One GAL object as directory sync computed it. */
struct store_carddav_gal_obj {
	const char *name;
	const char *data;
	size_t len;
	const char *uid;
	const char *summary;
};

struct store_carddav_gal_stats {
	unsigned added, changed, removed, unchanged;
};

/* Make the GAL collection hold exactly objs: new and changed ones are
 * written (an unchanged one keeps its row and ETag), missing ones deleted,
 * each change logged under one new sync token. Locks the collection row. */
int store_carddav_gal_replace(struct store *st, const struct store_dav_coll *coll,
			      const struct store_carddav_gal_obj *objs, size_t count,
			      struct store_carddav_gal_stats *stats_r, const char **error_r);

/* Write many objects into an address book of coll's owner (import): like
 * PUTs of each (same names replace), but under one new sync token and one
 * quota update (STORE_OVERQUOTA past the owner's limit), so a large import
 * costs one statement per card. Locks the collection row. */
int store_carddav_put_many(struct store *st, const struct store_dav_coll *coll,
			   const struct store_carddav_gal_obj *objs, size_t count,
			   struct store_carddav_gal_stats *stats_r, const char **error_r);

/* The sql directory for the GAL: every enabled account, and every group
 * with its member addresses (NULL-terminated array valid during cb). */
int store_carddav_dir_accounts(struct store *st,
			       void (*cb)(uint64_t id, const char *address, const char *name,
					  const char *phone, const char *department,
					  const char *title, void *ctx),
			       void *ctx, const char **error_r);
int store_carddav_dir_groups(struct store *st,
			     void (*cb)(uint64_t id, const char *address, const char *name,
					const char *const *members, void *ctx),
			     void *ctx, const char **error_r);

/* Objects of coll whose summary contains one of needles (already in the
 * summary's casemapped form), or that have no summary: candidates that the
 * caller confirms with its filter. */
int store_carddav_candidates(struct store *st, uint64_t coll_id, const char *const *needles,
			     size_t count, bool with_data,
			     void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx,
			     const char **error_r);

#endif
