/* Resources (migration 0027): rooms and equipment that meetings book. A
 * resource is an account (it owns DAV calendars like a user) marked by a
 * row in resources with its booking policy. cairnctl resource, the web
 * admin and LDAP directory sync create and change them here; scheduling
 * asks store_resource_get. Results are store_result codes; error texts
 * name the field (option) they refuse, as cairnctl and the web admin show
 * them. */
#ifndef CAIRN_STORE_RESOURCE_H
#define CAIRN_STORE_RESOURCE_H

#include "store.h"

enum store_res_kind { STORE_RES_ROOM, STORE_RES_EQUIPMENT };

/* auto: accept when free, else decline; manual: a request that passes the
 * checks waits (NEEDS-ACTION) for the delegate; none: never answered
 * automatically. */
enum store_res_policy { STORE_RES_AUTO, STORE_RES_MANUAL, STORE_RES_NONE };

/* One resource. Strings are malloc'ed (never NULL; "" when not set); free
 * with store_resource_free. */
struct store_resource {
	char *address;		/* the account's primary address, lower-case */
	char *display_name;
	enum store_res_kind kind;
	unsigned capacity;	/* people; 0 = not limited */
	char *location;
	enum store_res_policy policy;
	unsigned window_days;	/* bookings at most this many days ahead; 0 = no limit */
	bool everyone;		/* anyone may book; else only bookers */
	char **bookers;		/* addresses of users or groups, lower-case, sorted */
	size_t nbookers;
	char *delegate;		/* approves in manual mode; "" = nobody */
	bool enabled;
	char *source;		/* "local" or "ldap" */
};

/* What to set. NULL keeps a field as it is (update) or takes its default
 * (add: kind room, capacity 0, policy auto, window 0, bookers everyone).
 * bookers: "everyone", "" (nobody) or addresses separated by ',' or
 * spaces; window and capacity are decimal, "0" = no limit. */
struct store_resource_fields {
	const char *display_name;
	const char *kind;	/* "room", "equipment" */
	const char *capacity;
	const char *location;
	const char *policy;	/* "auto", "manual", "none" */
	const char *window;	/* days */
	const char *bookers;
	const char *delegate;	/* an address, "" = nobody */
	const char *enabled;	/* "true"/"false" */
};

/* Is address (a resource account's address or an alias routing only to it;
 * "mailto:" prefix and case ignored) a resource? STORE_OK with *res_r
 * filled, STORE_NOTFOUND if not, or an error. */
int store_resource_get(struct store *st, const char *address, struct store_resource *res_r,
		       const char **error_r);
/* Free the resource's contents (not the struct), leaving it zeroed. */
void store_resource_free(struct store_resource *res);

/* Names of kinds and policies, and their parsers (0, or -1 for an unknown
 * name). */
const char *store_res_kind_name(enum store_res_kind kind);
const char *store_res_policy_name(enum store_res_policy policy);
int store_res_kind_parse(const char *name, enum store_res_kind *kind_r);
int store_res_policy_parse(const char *name, enum store_res_policy *policy_r);

/* Check every non-NULL field of f without touching the database: STORE_OK,
 * or STORE_INVALID with *error_r (st's buffer) naming the field, e.g.
 * "capacity \"x\": not a whole number between 0 and 100000". */
int store_resource_check(struct store *st, const struct store_resource_fields *f,
			 const char **error_r);

/* Create a resource: an account at address (its domain must exist; no
 * password: a resource never logs in) with source "local" and the fields.
 * STORE_EXISTS when the address is taken, STORE_INVALID naming a bad field. */
int store_resource_add(struct store *st, const char *address,
		       const struct store_resource_fields *f, const char **error_r);
/* Change the non-NULL fields. STORE_NOTFOUND when address is no resource. */
int store_resource_update(struct store *st, const char *address,
			  const struct store_resource_fields *f, const char **error_r);
/* Delete the resource and its account (its calendars and mail go with it).
 * STORE_NOTFOUND when address is no resource. */
int store_resource_del(struct store *st, const char *address, const char **error_r);

/* Sort orders of store_resource_list. */
enum store_res_sort { STORE_RES_SORT_ADDRESS, STORE_RES_SORT_NAME, STORE_RES_SORT_LOCATION,
		      STORE_RES_SORT_CAPACITY, STORE_RES_SORT_KIND };
/* Resources of domains (NULL = all domains; else an array of ndomains
 * names) whose address, name or location contains query (case-insensitive,
 * "" = all), sorted by sort (descending when desc, then by address),
 * skipping offset, at most limit; cb per resource (valid during the call).
 * *total_r (may be NULL) gets the number matching before offset/limit. */
int store_resource_list(struct store *st, const char *const *domains, size_t ndomains,
			const char *query, enum store_res_sort sort, bool desc, unsigned offset,
			unsigned limit, void (*cb)(const struct store_resource *res, void *ctx),
			void *ctx, unsigned *total_r, const char **error_r);

/* Directory sync: create (source "ldap", no password) or refresh and
 * re-enable the resource at address with fields f, adding its domain if
 * needed. *created_r: 1 created, 2 re-enabled, 0 refreshed. STORE_EXISTS
 * when a local account or a non-resource holds the address. */
int store_resource_provision(struct store *st, const char *address,
			     const struct store_resource_fields *f, int *created_r,
			     const char **error_r);

/* May requester book res? true when everyone may, or requester is one of
 * the bookers or a member (nested) of a booker group. STORE_OK with
 * *allowed_r, or an error. */
int store_resource_may_book(struct store *st, const struct store_resource *res,
			    const char *requester, bool *allowed_r, const char **error_r);

#endif
