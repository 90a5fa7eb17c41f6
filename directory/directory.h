/* The directory: who the users are and where mail goes, behind one
 * interface with two backends, sql (the PostgreSQL store, the embedded
 * default) and ldap (libldap). A struct directory is shared by all threads
 * (config, lookup cache); each thread works through its own struct
 * dir_handle (one LDAP connection, the thread's store). Every call tells
 * "not found" (SMTP 550) from "temporary failure" (451): see enum dir_status.
 * Addresses are NUL-terminated; protocol code refuses NUL bytes first. */
#ifndef CAIRN_DIRECTORY_H
#define CAIRN_DIRECTORY_H

#include "util.h"

#include <stdio.h>

struct config;
struct store;
struct worker;
struct directory;
struct dir_handle;

enum dir_status {
	DIR_OK = 0,
	DIR_NOTFOUND = 1,	/* a domain of ours, but no such address (550) */
	DIR_NOTOURS = 2,	/* the domain is not ours: relay or refuse */
	DIR_TEMPFAIL = -1,	/* directory or database unreachable (451) */
	DIR_ERROR = -2,		/* bad configuration or data; logged */
};

/* What an address turned out to be. */
enum dir_kind { DIR_KIND_USER, DIR_KIND_ALIAS, DIR_KIND_GROUP, DIR_KIND_CATCHALL };

/* One place a message for the address goes. */
struct dir_target {
	char *address;		/* lower-case */
	bool local;		/* an account of ours; else a remote address */
};

/* The result of dir_resolve: free with dir_route_free. Targets are unique. */
struct dir_route {
	enum dir_kind kind;
	char *address;		/* the address resolved, lower-cased */
	struct dir_target *targets;
	size_t ntargets;
};

/* A user's attributes (dir_user_info) or one address-book entry (dir_search).
 * Free with dir_user_free. Empty strings for attributes not set. */
struct dir_user {
	char *address;
	char *display_name;
	char *phone;
	char *department;
	char *title;
	uint64_t quota_bytes;	/* 0 = none */
	bool enabled;
	bool is_admin;
};

enum dir_auth_status {
	DIR_AUTH_OK = 0,
	DIR_AUTH_FAIL = 1,	/* bad credentials, unknown or disabled user: one answer */
	DIR_AUTH_LOCKED = 2,	/* too many failures: refused even with the right password */
	DIR_AUTH_TEMPFAIL = -1,	/* directory or database down: try again later */
};

/* Result of dir_authenticate. */
struct dir_auth {
	enum dir_auth_status status;
	char address[321];	/* the account's primary address when OK */
	uint64_t delay_ms;	/* FAIL: hold the answer this long (grows per failure) */
	uint64_t retry_after_ms;	/* LOCKED: when to try again */
	unsigned failures;	/* FAIL: failures of this user in the window */
};

/* Counts printed by dir_sync. */
struct dir_sync_stats {
	unsigned users, created, enabled, updated, disabled, skipped, errors;
	unsigned resources, res_created, res_errors;	/* rooms and equipment */
};

/* Create the directory for cfg ([directory] section), which must outlive it.
 * Checks the filters; NULL with *error_r set when the config is unusable. */
struct directory *dir_create(const struct config *cfg, const char **error_r);
/* Free the directory (after every handle); sets *dir to NULL. */
void dir_destroy(struct directory **dir);
/* "sql" or "ldap". */
const char *dir_backend_name(const struct directory *dir);

/* A per-thread handle using st (not owned; may be NULL until set). The LDAP
 * connection is opened on first use and re-opened after a server restart. */
struct dir_handle *dir_handle_create(struct directory *dir, struct store *st);
/* Close the handle's connections and free it; sets *h to NULL. */
void dir_handle_destroy(struct dir_handle **h);
/* Point the handle at another store handle (a worker's). */
void dir_handle_set_store(struct dir_handle *h, struct store *st);

/* Register a worker hook giving each worker thread its own dir_handle; call
 * before worker_pool_create. Returns 0 or -1 (no free worker slot). */
int dir_worker_register(struct directory *dir);
/* The calling worker's handle, set to use st for this job. */
struct dir_handle *dir_worker_handle(struct worker *worker, struct store *st);

/* Where mail for address goes: a user, an alias of one, a group expanded to
 * its members (nested, each once, loop-safe), or a domain's catch-all.
 * A domain is ours when the store's domains table lists it, for either
 * backend (directory sync adds the domains of LDAP users' addresses).
 * DIR_OK with *route_r filled, DIR_NOTFOUND, DIR_NOTOURS, DIR_TEMPFAIL or
 * DIR_ERROR (*error_r set unless DIR_OK). Definite answers are cached for
 * cache_ttl; failures never are. */
int dir_resolve(struct dir_handle *h, const char *address, struct dir_route *route_r,
		const char **error_r);
/* Free the route's contents. */
void dir_route_free(struct dir_route *route);
/* Members of the group with this address (or the targets of an alias),
 * expanded like dir_resolve but never cached; DIR_NOTFOUND for a user. */
int dir_expand(struct dir_handle *h, const char *address, struct dir_route *route_r,
	       const char **error_r);

/* Check user's password (a plain password; SASL mechanisms build on it),
 * counting failures per user and per client_ip (may be NULL) in PostgreSQL
 * and locking either out past the limits. The password is never logged and
 * the result never cached. Returns 0 with *result_r filled (see its status),
 * or -1 (*error_r) for a bug or a client_ip that is not a numeric address. */
int dir_authenticate(struct dir_handle *h, const char *user, const char *password,
		     const char *client_ip, struct dir_auth *result_r, const char **error_r);

/* True when the last successful dir_authenticate on h matched one of the
 * account's app passwords (sql backend) rather than its password: the web
 * admin refuses those for its own login. */
bool dir_auth_was_app_password(const struct dir_handle *h);

/* A user's attributes by primary or alternate address. DIR_OK, DIR_NOTFOUND,
 * DIR_TEMPFAIL. */
int dir_user_info(struct dir_handle *h, const char *address, struct dir_user *user_r,
		  const char **error_r);
/* Free the user's strings. */
void dir_user_free(struct dir_user *user);
/* Address book: users whose name, address, department or title contains
 * query (case-insensitive; "" = everyone; enabled users only), at most
 * limit, cb per user in address order. DIR_OK (also for no match),
 * DIR_NOTFOUND for an unusable query, DIR_TEMPFAIL or DIR_ERROR. */
int dir_search(struct dir_handle *h, const char *query, unsigned limit,
	       void (*cb)(const struct dir_user *user, void *ctx), void *ctx,
	       const char **error_r);

/* Make sure address (a directory user's primary address) has an account
 * and its default mailboxes; cairnd calls it on first login or delivery.
 * A no-op for accounts that exist. DIR_OK, DIR_NOTFOUND, DIR_TEMPFAIL. */
int dir_provision(struct dir_handle *h, const char *address, const char **error_r);
/* LDAP backend: create accounts for directory users without one, refresh
 * the others, disable those gone from the directory (never delete mail),
 * printing one line per change to progress and filling *stats. DIR_OK,
 * DIR_TEMPFAIL (nothing is disabled then) or DIR_ERROR. */
int dir_sync(struct dir_handle *h, FILE *progress, struct dir_sync_stats *stats,
	     const char **error_r);

/* For the global address list (calendar/carddav-gal.c), LDAP backend only:
 * every entry under base_dn matching filter, cb called with its DN in
 * canonical form (dir_ldap_dn_key) and the values of attrs (NULL-ended;
 * binary values as they are, valid during the call). DIR_OK, DIR_TEMPFAIL,
 * or DIR_ERROR (also for the sql backend). */
struct vcard_gal_attr;
int dir_ldap_list(struct dir_handle *h, const char *filter, const char *const *attrs,
		  void (*cb)(const char *dn_key, const struct vcard_gal_attr *attrs, size_t nattrs,
			     void *ctx),
		  void *ctx, const char **error_r);
/* A DN in the canonical form dir_ldap_list reports (malloc'ed). */
char *dir_ldap_dn_key(const char *dn);

/* Human-readable name of a dir_status. */
const char *dir_status_str(int status);

#endif
