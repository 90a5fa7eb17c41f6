/* The free/busy store (migration 0026): calendar user addresses resolved
 * to accounts and groups, and the busy-time index: per calendar object its
 * busy periods (instances expanded up to a window, cut into pieces of at
 * most STORE_FB_PIECE seconds so a range query is one index range scan),
 * and per object the window it was expanded over. A trigger marks every
 * new or changed VEVENT/VFREEBUSY object of a "calendar" collection as
 * pending; writing its rows (store_fb_index_write, from the DAV store's put
 * when the kind computed them) clears that mark, and the free/busy lookup
 * expands what is still pending and writes it (lazy fill). Calls run inside
 * the caller's transaction and return a store_result. */
#ifndef CAIRN_STORE_FREEBUSY_H
#define CAIRN_STORE_FREEBUSY_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* Longest busy row: longer periods are stored as several rows. */
#define STORE_FB_PIECE (7 * 86400)

/* What one address names. */
enum store_fb_kind { STORE_FB_UNKNOWN = 0, STORE_FB_ACCOUNT = 1, STORE_FB_GROUP = 2 };

struct store_fb_addr {
	enum store_fb_kind kind;
	uint64_t account_id;		/* STORE_FB_ACCOUNT */
	char account[321];		/* its primary address */
};

/* Resolve n addresses (lower-case, without "mailto:") into out[n]: an
 * account by its address or by an alias whose only target it is, or a group. */
int store_fb_resolve(struct store *st, const char *const *addrs, size_t n,
		     struct store_fb_addr *out, const char **error_r);
/* The members of a group, nested groups expanded (loop-safe, 16 levels),
 * each address once, groups themselves left out. */
int store_fb_group_members(struct store *st, const char *group,
			   void (*cb)(const char *address, void *ctx), void *ctx,
			   const char **error_r);
/* Every calendar address of an account (its primary address and the
 * aliases that point at it alone). */
int store_fb_self_addresses(struct store *st, const char *account,
			    void (*cb)(const char *address, void *ctx), void *ctx,
			    const char **error_r);

/* The busy rows of one object, computed over [from, until): before/after
 * say the object has busy time outside it (so a query there expands it). */
struct store_fb_rows {
	int64_t from, until;
	bool before, after;
	const int64_t *start, *end;
	const int *type;
	size_t n;
};
/* Replace the busy rows of object id (of collection coll_id, account
 * account_id) and clear its pending mark. */
int store_fb_index_write(struct store *st, uint64_t object_id, uint64_t coll_id,
			 uint64_t account_id, const struct store_fb_rows *rows,
			 const char **error_r);

/* An object read for expansion; valid during the callback only. For
 * store_fb_outside the window fields say what its rows cover. */
struct store_fb_obj {
	uint64_t id, coll_id, account_id;
	const char *account;	/* owner's primary address */
	const char *uid;	/* "" if none */
	const char *data;	/* NUL-terminated */
	size_t len;
	const char *tz_xml;	/* the calendar's calendar-timezone element, or NULL */
	int64_t win_from, win_until;
	bool before, after;
};
typedef void store_fb_obj_cb(const struct store_fb_obj *obj, void *ctx);

/* Pending objects of the accounts (ids[n]); or (ids NULL) the next limit
 * pending objects of anyone. */
int store_fb_pending(struct store *st, const uint64_t *ids, size_t n, uint64_t limit,
		     store_fb_obj_cb *cb, void *ctx, const char **error_r);
/* How many objects are pending in all. */
int store_fb_pending_count(struct store *st, uint64_t *count_r, const char **error_r);
/* Mark every event and free/busy object of every calendar pending (a full
 * reindex, e.g. after the window options changed). */
int store_fb_mark_all(struct store *st, const char **error_r);
/* Indexed objects of the accounts, in non-transparent calendars, with busy
 * time outside their window that [start, end) reaches. */
int store_fb_outside(struct store *st, const uint64_t *ids, size_t n, int64_t start,
		     int64_t end, store_fb_obj_cb *cb, void *ctx, const char **error_r);
/* Busy rows of the accounts meeting [start, end), in non-transparent
 * calendars, leaving out objects with UID except_uid (NULL: none), merged
 * per account and type (overlapping and touching periods united, unclipped,
 * in no particular order; object_id is always 0). */
int store_fb_busy(struct store *st, const uint64_t *ids, size_t n, int64_t start, int64_t end,
		  const char *except_uid,
		  void (*cb)(uint64_t account_id, int64_t start, int64_t end, int type,
			     uint64_t object_id, void *ctx),
		  void *ctx, const char **error_r);
/* For the free-busy-query REPORT of one calendar of account_id: its rows
 * (any transparency, declined ones included) and its objects with busy
 * time outside their window that [start, end) reaches. */
int store_fb_coll_busy(struct store *st, uint64_t account_id, uint64_t coll_id, int64_t start,
		       int64_t end,
		       void (*cb)(uint64_t account_id, int64_t start, int64_t end, int type,
				  uint64_t object_id, void *ctx),
		       void *ctx, const char **error_r);
int store_fb_coll_outside(struct store *st, uint64_t account_id, uint64_t coll_id,
			  int64_t start, int64_t end, store_fb_obj_cb *cb, void *ctx,
			  const char **error_r);
/* The CALDAV:calendar-availability element stored on the scheduling inboxes
 * of the accounts. */
int store_fb_availability(struct store *st, const uint64_t *ids, size_t n,
			  void (*cb)(uint64_t account_id, const char *xml, void *ctx), void *ctx,
			  const char **error_r);
#endif
