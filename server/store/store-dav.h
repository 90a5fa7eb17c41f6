/* The WebDAV store (migration 0018): collections of a kind (calendar,
 * addressbook, plain) in a user's homes, their objects with raw data, strong
 * ETag and the fields each kind indexes, dead properties kept byte for byte,
 * and a change log per collection for sync tokens. The calls are primitives
 * meant to run inside one store_tx per DAV request (calendar/dav.c), so a
 * request is stored whole or not at all; each returns a store_result with
 * *error_r set unless STORE_OK. Object bytes count against the owner's
 * quota (the mail_usage row the mail store keeps). */
#ifndef CAIRN_STORE_DAV_H
#define CAIRN_STORE_DAV_H

#include "store.h"

#define STORE_DAV_NAME_MAX 255
/* An absent time bound. */
#define STORE_DAV_NO_TIME INT64_MIN

struct store_dav_coll {
	uint64_t id;
	uint64_t account_id;
	char owner[321];
	char home[33];
	char name[STORE_DAV_NAME_MAX + 1];
	char kind[33];
	uint64_t synctoken;
	int access;		/* the requester's: STORE_DAV_* below (owner when read by owner) */
};

/* Access to a collection. */
#define STORE_DAV_NONE 0
#define STORE_DAV_READ 1
#define STORE_DAV_WRITE 2
#define STORE_DAV_OWNER 3

/* An object as read back. data is malloc'ed (NUL-terminated) when asked for,
 * else NULL; free it with store_dav_obj_clear. */
struct store_dav_obj {
	uint64_t id;
	char name[STORE_DAV_NAME_MAX + 1];
	char content_type[128];
	char etag[80];
	char uid[256];		/* "" if none */
	char comp[32];		/* "" if none */
	uint64_t size;
	uint64_t modseq;
	char *data;
	size_t len;
	int64_t mtime;		/* last change, seconds since the epoch */
};

struct store_fb_rows;

/* What a kind indexes for an object (NULL strings and STORE_DAV_NO_TIME for
 * none). rend STORE_DAV_NO_TIME with rstart set: the recurrence has no end.
 * busy (NULL: none computed): the object's rows of the busy-time index
 * (store-freebusy.h), written with it; without them an event of a calendar
 * is left pending for the free/busy lookup to index. */
struct store_dav_index {
	const char *uid;
	const char *comp;
	const char *summary;
	int64_t dtstart, dtend;
	int64_t rstart, rend;
	const struct store_fb_rows *busy;
};

void store_dav_obj_clear(struct store_dav_obj *o);

/* The collection home/name of owner: STORE_OK, STORE_NOTFOUND. With lock,
 * its row is locked until the transaction ends (writers of one collection
 * are serialised by it). */
int store_dav_coll_get(struct store *st, const char *owner, const char *home, const char *name,
		       bool lock, struct store_dav_coll *coll_r, const char **error_r);
/* owner's collections in home (NULL: every home), by name. */
int store_dav_coll_list(struct store *st, const char *owner, const char *home,
			void (*cb)(const struct store_dav_coll *coll, void *ctx), void *ctx,
			const char **error_r);
/* Create a collection; STORE_EXISTS if the name is taken, STORE_NOTFOUND if
 * owner has no account. */
int store_dav_coll_create(struct store *st, const char *owner, const char *home,
			  const char *name, const char *kind, struct store_dav_coll *coll_r,
			  const char **error_r);
/* Delete a collection with its objects and its descendant collections,
 * giving their bytes back to quota. */
int store_dav_coll_delete(struct store *st, const struct store_dav_coll *coll,
			  const char **error_r);
/* Give a collection another name in its home (MOVE), its descendants
 * (nested collections, "name/...") following it; STORE_EXISTS if taken. */
int store_dav_coll_rename(struct store *st, const struct store_dav_coll *coll,
			  const char *name, const char **error_r);
/* The child collections of a nested collection (all: every descendant),
 * by name (a parent before its children). */
int store_dav_coll_descendants(struct store *st, const struct store_dav_coll *coll, bool all,
			       void (*cb)(const struct store_dav_coll *coll, void *ctx), void *ctx,
			       const char **error_r);
/* Total bytes and objects of a collection. */
int store_dav_coll_usage(struct store *st, uint64_t coll_id, uint64_t *bytes_r,
			 uint64_t *count_r, const char **error_r);

/* One object; STORE_NOTFOUND if none. with_data reads its bytes; lock locks
 * the row until the transaction ends. */
int store_dav_obj_get(struct store *st, uint64_t coll_id, const char *name, bool with_data,
		      bool lock, struct store_dav_obj *obj_r, const char **error_r);
/* Every object of a collection (names NULL) or those named (count names),
 * by name; the object passed to cb is valid during the call only. */
int store_dav_obj_list(struct store *st, uint64_t coll_id, const char *const *names,
		       size_t count, bool with_data,
		       void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx,
		       const char **error_r);
/* Objects of component comp (NULL: any) whose indexed instance bounds may
 * meet [start, end) (STORE_DAV_NO_TIME: unbounded): candidates a kind then
 * confirms. */
int store_dav_obj_range(struct store *st, uint64_t coll_id, const char *comp, int64_t start,
			int64_t end, bool with_data,
			void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx,
			const char **error_r);
/* The name of another object (not except_name) with this UID into name_r
 * (STORE_DAV_NAME_MAX + 1 bytes): STORE_OK, or STORE_NOTFOUND if none. */
int store_dav_obj_uid_taken(struct store *st, uint64_t coll_id, const char *uid,
			    const char *except_name, char *name_r, const char **error_r);
/* A UID that two objects of the collection share (after bulk puts) into
 * uid_r (256 bytes): STORE_OK, or STORE_NOTFOUND when every UID is unique. */
int store_dav_uid_duplicate(struct store *st, uint64_t coll_id, char *uid_r,
			    const char **error_r);
/* Create or replace an object in coll (whose row the caller locked), log the
 * change, adjust the owner's usage (STORE_OVERQUOTA if it grows past the
 * limit) and NOTIFY cairn_dav. The ETag is computed from the data into
 * etag_r (80 bytes, quoted). */
int store_dav_obj_put(struct store *st, const struct store_dav_coll *coll, const char *name,
		      const char *content_type, const void *data, size_t len,
		      const struct store_dav_index *idx, char *etag_r, const char **error_r);
/* Bulk writes (an import): every object put with store_dav_obj_put_bulk
 * gets the same change number, the next one of coll (whose row the caller
 * locked), and store_dav_bulk_finish then sets the collection's sync token
 * to it and adds delta_bytes (the sum of the growth) to the owner's usage
 * (STORE_OVERQUOTA past the limit): one update of those two rows instead
 * of one per object. *old_size_r: the size of the object replaced (0 if
 * new). Call store_dav_bulk_begin first in the transaction. */
int store_dav_bulk_begin(struct store *st, const char **error_r);
int store_dav_obj_put_bulk(struct store *st, const struct store_dav_coll *coll, const char *name,
			   const char *content_type, const void *data, size_t len,
			   const struct store_dav_index *idx, char *etag_r, uint64_t *old_size_r,
			   const char **error_r);
int store_dav_bulk_finish(struct store *st, const struct store_dav_coll *coll, int64_t delta_bytes,
			  const char **error_r);
/* Delete an object with its dead properties and log it; STORE_NOTFOUND. */
int store_dav_obj_delete(struct store *st, const struct store_dav_coll *coll, const char *name,
			 const char **error_r);

/* Changes after token since (0: everything there is) in change order: the
 * resource name and whether it is gone. */
int store_dav_changes(struct store *st, uint64_t coll_id, uint64_t since,
		      void (*cb)(const char *name, bool deleted, void *ctx), void *ctx,
		      const char **error_r);

/* A page of changes in (change number, name) order after position
 * (since, after_name) (after_name NULL: every change after since), at
 * most limit (0: all). */
int store_dav_changes_page(struct store *st, uint64_t coll_id, uint64_t since,
			   const char *after_name, uint64_t limit,
			   void (*cb)(const char *name, bool deleted, uint64_t modseq, void *ctx),
			   void *ctx, const char **error_r);
/* A page of a collection's objects in (change number, name) order after
 * position (since, after_name), at most limit (0: all). */
int store_dav_obj_page(struct store *st, uint64_t coll_id, uint64_t since,
		       const char *after_name, uint64_t limit, bool with_data,
		       void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx,
		       const char **error_r);

/* Dead properties of the collection (object_name "") or of an object. */
int store_dav_props(struct store *st, uint64_t coll_id, const char *object_name,
		    void (*cb)(const char *ns, const char *name, const char *xml, void *ctx),
		    void *ctx, const char **error_r);
/* Set (xml != NULL) or remove (xml NULL) one dead property. */
int store_dav_prop_set(struct store *st, uint64_t coll_id, const char *object_name,
		       const char *ns, const char *name, const char *xml, const char **error_r);
/* Copy every dead property of one resource to another (replacing none:
 * the target's are dropped first). */
int store_dav_props_copy(struct store *st, uint64_t from_coll, const char *from_name,
			 uint64_t to_coll, const char *to_name, const char **error_r);
/* Log a change of a member name of a collection whose row the caller
 * locked (a child collection's "segment/"): a new sync token. */
int store_dav_change_log(struct store *st, const struct store_dav_coll *coll, const char *name,
			 bool deleted, const char **error_r);
/* Log a change of the collection's own properties (new sync token). */
int store_dav_coll_touch(struct store *st, const struct store_dav_coll *coll,
			 const char **error_r);

/* ---- sharing (migration 0019) ---- */

/* The best access user has to a collection through shares (directly or as
 * a member of a SQL-directory group): STORE_DAV_NONE/READ/WRITE. */
int store_dav_share_access(struct store *st, uint64_t coll_id, const char *user, int *access_r,
			   const char **error_r);
/* The shares of a collection: grantee, access ("read"/"read-write"),
 * status ("accepted"/"declined"). */
int store_dav_shares(struct store *st, uint64_t coll_id,
		     void (*cb)(const char *grantee, const char *access, const char *status,
				void *ctx), void *ctx, const char **error_r);
/* Grant (access "read" or "read-write") or revoke (access NULL). */
int store_dav_share_set(struct store *st, uint64_t coll_id, const char *grantee,
			const char *access, const char *summary, const char **error_r);
/* Revoke every share of a collection (an ACL request replaces them). */
int store_dav_shares_clear(struct store *st, uint64_t coll_id, const char **error_r);
/* A sharee accepts or declines: STORE_NOTFOUND if there is no such share. */
int store_dav_share_reply(struct store *st, uint64_t coll_id, const char *grantee, bool accept,
			  const char **error_r);
/* Collections of other users in home shared with user (access filled). */
int store_dav_shared_colls(struct store *st, const char *user, const char *home,
			   void (*cb)(const struct store_dav_coll *coll, void *ctx), void *ctx,
			   const char **error_r);
/* What address names: 1 an account, 2 a group, 0 neither. */
int store_dav_principal_kind(struct store *st, const char *address, int *kind_r,
			     const char **error_r);
/* Feeds: add one with the hex SHA-256 of its token; use one (records the
 * use; STORE_NOTFOUND when unknown or revoked) giving its collection; revoke
 * every feed of a collection; list them (id, created, last use or ""). */
int store_dav_feed_add(struct store *st, uint64_t coll_id, const char *token_sha256_hex,
		       const char **error_r);
int store_dav_feed_use(struct store *st, const char *token_sha256_hex,
		       struct store_dav_coll *coll_r, const char **error_r);
int store_dav_feed_revoke(struct store *st, uint64_t coll_id, const char **error_r);
int store_dav_feeds(struct store *st, uint64_t coll_id,
		    void (*cb)(uint64_t id, const char *created, const char *last_used, void *ctx),
		    void *ctx, const char **error_r);

/* ---- delegation (migration 0028): the CalendarServer calendar-proxy ---- */

/* Proxy modes. */
#define STORE_DAV_PROXY_NONE 0
#define STORE_DAV_PROXY_READ 1
#define STORE_DAV_PROXY_WRITE 2

/* Delegation: delegate gets read (write=false) or read-write access to every calendar of owner,
   including the scheduling inbox and outbox, and may answer invitations for owner (SENT-BY).
   mode: 0 remove, 1 read, 2 write. delegate is an account's or a directory group's address
   (STORE_NOTFOUND when it names neither, or when owner has no account); STORE_INVALID for
   the owner itself or a mode out of range. Removing a delegate that is not there is STORE_OK. */
int store_dav_proxy_set(struct store *st, const char *owner, const char *delegate, int mode,
			const char **error_r);
/* The mode user has as owner's delegate, directly or as a member of a (SQL
   directory) group that is one; the best of them: STORE_DAV_PROXY_NONE/READ/WRITE. */
int store_dav_proxy_mode(struct store *st, const char *owner, const char *delegate,
			 int *mode_r, const char **error_r);
/* owner's delegates (as named: accounts and groups) of mode (0: both), by address. */
int store_dav_proxies(struct store *st, const char *owner, int mode,
		      void (*cb)(const char *delegate, int mode, void *ctx), void *ctx,
		      const char **error_r);
/* Remove every delegate of mode (1 or 2) of owner (group-member-set replaces them). */
int store_dav_proxy_clear(struct store *st, const char *owner, int mode, const char **error_r);
/* The owners user is a delegate of (directly or through a group), each once with the
   best mode, by address. */
int store_dav_proxy_for(struct store *st, const char *user,
			void (*cb)(const char *owner, int mode, void *ctx), void *ctx,
			const char **error_r);
/* ---- locks (migration 0030) ---- */

/* A WebDAV lock as read back (strings valid during the callback). path:
 * the resource below the home ("coll/sub/" for a collection,
 * "coll/name" for an object). */
struct store_dav_lock {
	const char *token;
	const char *path;
	bool depth_infinity;
	bool exclusive;
	const char *owner_xml;		/* "" without one */
	const char *principal;
	int timeout_s;
	int64_t remaining_s;
};

/* The live locks of owner's home that cover path (its own, and a
 * depth-infinity lock of an ancestor), with descendants those below it
 * too, and the lock of parent ("" or NULL: none), by path. */
int store_dav_locks(struct store *st, const char *owner, const char *home, const char *path,
		    bool descendants, const char *parent,
		    void (*cb)(const struct store_dav_lock *lock, void *ctx), void *ctx,
		    const char **error_r);
/* Add a lock (expired ones are purged first); STORE_NOTFOUND without
 * such an owner. */
int store_dav_lock_add(struct store *st, const char *owner, const char *home,
		       const struct store_dav_lock *lock, const char **error_r);
/* A new timeout for a lock; remove one; drop the locks of a resource that
 * is gone (with descendants, those below it). */
int store_dav_lock_refresh(struct store *st, const char *token, int timeout_s,
			   const char **error_r);
int store_dav_lock_remove(struct store *st, const char *token, const char **error_r);
int store_dav_locks_drop(struct store *st, const char *owner, const char *home, const char *path,
			 bool descendants, const char **error_r);

/* Accounts and groups matching a principal-property-search: display name
 * or address containing name (NULL: no such test), address containing
 * address (NULL: none), calendar user type cutype (INDIVIDUAL, GROUP, ROOM
 * or RESOURCE for a resource account; NULL: none), any of the tests (anyof)
 * or all of them; at most limit, by address. */
int store_dav_principal_search(struct store *st, const char *name, const char *address,
			       const char *cutype, bool anyof, unsigned limit,
			       void (*cb)(const char *address, void *ctx), void *ctx,
			       const char **error_r);

/* owner's used bytes and limit (-1: none). */
int store_dav_quota(struct store *st, const char *owner, uint64_t *used_r, int64_t *limit_r,
		    const char **error_r);

#endif
