/* Internals shared by directory.c and its backends (dir-sql.c, dir-ldap.c):
 * the backend operations, the raw entries they return, struct directory and
 * struct dir_handle. Nothing outside directory/ includes this. */
#ifndef CAIRN_DIRECTORY_PRIVATE_H
#define CAIRN_DIRECTORY_PRIVATE_H

#include "directory.h"

#include <pthread.h>

enum dir_entry_kind { DIR_ENTRY_USER, DIR_ENTRY_GROUP, DIR_ENTRY_ALIAS };

/* One directory object as a backend found it. refs are a group's members or
 * an alias's targets: addresses (sql) or DNs (ldap, refs_are_dns). */
struct dir_entry {
	enum dir_entry_kind kind;
	char *key;		/* identity for loop detection: address or normalised DN */
	char *address;		/* primary address, lower-case; NULL if it has none */
	bool enabled;
	bool refs_are_dns;
	char **refs;
	size_t nrefs;
};

/* Free an entry's contents. */
void dir_entry_free(struct dir_entry *e);
/* Append a copy of ref to e->refs. */
void dir_entry_add_ref(struct dir_entry *e, const char *ref);

/* A resource (room, equipment) as the ldap backend found it, for sync.
 * Strings are NULL when the attribute is absent; bookers and the delegate
 * are raw values (DNs or addresses). Valid during the callback. */
struct dir_resource {
	const char *address;	/* lower-case */
	const char *display_name;
	bool enabled;
	const char *kind;	/* "room" / "equipment" (from the attribute or the class) */
	const char *capacity;
	const char *location;
	const char *policy;
	const char *window;
	char **bookers;		/* NULL-ended; empty: everyone */
	const char *delegate;
};

/* Login throttling's hook into a backend's verify: account is the primary
 * address of the entry the login name found, or the name as typed when it
 * found none (so unknown names are throttled alike). Returns DIR_OK to go on
 * with the password check, or another status that verify returns at once. */
typedef int dir_auth_gate_fn(void *ctx, const char *account);
/* verify's status when the gate refused (not a public dir_status). */
#define DIR_GATED 3

/* A backend. Every operation returns DIR_OK, DIR_NOTFOUND, DIR_TEMPFAIL or
 * DIR_ERROR with *error_r set for the last two. Addresses handed in are
 * already checked and lower-cased. */
struct dir_backend {
	const char *name;
	/* Per-handle state (connections); may return NULL. */
	void *(*handle_init)(struct dir_handle *h);
	void (*handle_deinit)(void *state);
	/* The entry owning address (as primary or alternate address). */
	int (*lookup)(struct dir_handle *h, const char *address, struct dir_entry *e_r,
		      const char **error_r);
	/* The entry a group member or alias target refers to. */
	int (*lookup_ref)(struct dir_handle *h, const char *ref, struct dir_entry *e_r,
			  const char **error_r);
	/* Check a password: DIR_OK with the primary address in *address_r
	 * (malloc'ed), DIR_NOTFOUND for bad credentials, unknown or disabled,
	 * DIR_GATED when gate refused. gate is called once user is resolved,
	 * before any password check, with the account the failures count
	 * against. Unknown, disabled and password-less accounts cost the same
	 * work as a wrong password (a dummy hash, a dummy bind); h->auth_check
	 * names what ran, for the log. */
	int (*verify)(struct dir_handle *h, const char *user, const char *password,
		      dir_auth_gate_fn *gate, void *gate_ctx, char **address_r,
		      const char **error_r);
	int (*user_info)(struct dir_handle *h, const char *address, struct dir_user *u_r,
			 const char **error_r);
	int (*search)(struct dir_handle *h, const char *query, unsigned limit,
		      void (*cb)(const struct dir_user *u, void *ctx), void *ctx,
		      const char **error_r);
	/* Every user for sync, with alternate addresses in alt (NULL-ended);
	 * NULL in backends that own their accounts. */
	int (*list_users)(struct dir_handle *h,
			  void (*cb)(const struct dir_user *u, char *const *alt, void *ctx),
			  void *ctx, const char **error_r);
	/* Every bookable resource for sync (resource_list_filter); NULL in
	 * backends that own their accounts. */
	int (*list_resources)(struct dir_handle *h,
			      void (*cb)(const struct dir_resource *r, void *ctx), void *ctx,
			      const char **error_r);
};

/* Initialise libldap's global state once, before worker threads use it. */
void dir_ldap_library_init(void);

extern const struct dir_backend dir_backend_sql;
extern const struct dir_backend dir_backend_ldap;

struct dir_cache;

struct directory {
	const struct config *cfg;
	const struct dir_backend *backend;
	char **uris;		/* [directory] uri split at spaces */
	size_t nuris;
	struct dir_cache *cache;	/* NULL when cache_ttl is 0 */
	unsigned auth_count;	/* failures seen, for occasional purges (atomic) */
};

struct dir_handle {
	struct directory *dir;
	struct store *store;
	void *backend_state;
	/* What the last verify ran: "hash", "dummy-hash" (sql), "bind",
	 * "dummy-bind" (ldap), "none"; for the log line of a failure. */
	const char *auth_check;
	char error[512];	/* handed out through error_r */
};

/* Format h->error and return status, for `return dir_fail(h, ...)`. */
int dir_fail(struct dir_handle *h, int status, const char **error_r, const char *fmt, ...)
	ATTR_PRINTF(4, 5);
/* Map a store_result to a dir_status, copying the store's error text. */
int dir_from_store(struct dir_handle *h, int store_ret, const char *store_error,
		   const char **error_r);

#endif
