/* The SQL side of the sql directory backend and of directory bookkeeping
 * that every backend shares: what an address names (account, alias, group),
 * aliases with catch-alls, groups and their members, address-book fields,
 * accounts created by directory sync, and the failed-login counters that
 * throttle authentication across nodes. Results are store_result codes;
 * error texts name the address as the admin typed it (lower-cased). */
#ifndef CAIRN_STORE_DIRECTORY_H
#define CAIRN_STORE_DIRECTORY_H

#include "store.h"

enum store_dir_kind { STORE_DIR_ACCOUNT, STORE_DIR_ALIAS, STORE_DIR_GROUP };

/* What one address names. refs are an alias's targets or a group's members
 * (addresses, lower-case). Free with store_dir_entry_free. */
struct store_dir_entry {
	enum store_dir_kind kind;
	char *address;
	bool enabled;		/* accounts only; aliases and groups are always */
	char **refs;
	size_t nrefs;
};

/* One account as the directory and the address book see it. Strings are
 * owned by the store call and valid during the callback only. */
struct store_dir_account {
	const char *address;
	const char *display_name;
	bool enabled;
	bool is_admin;
	uint64_t quota_bytes;	/* 0 = no quota */
	const char *phone;
	const char *department;
	const char *title;
	const char *source;	/* "local" or "ldap" */
	bool has_password;
};

/* Fields for store_dir_account_update and _provision; NULL keeps a field as
 * it is (update) or means empty (provision). */
struct store_dir_account_fields {
	const char *display_name;
	const char *phone;
	const char *department;
	const char *title;
	const char *quota;	/* decimal bytes, "0" = no quota */
	const char *is_admin;	/* "true"/"false" */
	const char *enabled;	/* "true"/"false" */
};

/* STORE_OK when domain (any case) is one of ours, else STORE_NOTFOUND. */
int store_dir_domain_exists(struct store *st, const char *domain, const char **error_r);
/* Add domain if it is missing (sync). */
int store_dir_domain_ensure(struct store *st, const char *domain, const char **error_r);

/* What address names: STORE_OK with *entry_r filled, STORE_NOTFOUND, or an
 * error. Syntactically impossible input is simply not found. */
int store_dir_lookup(struct store *st, const char *address, struct store_dir_entry *entry_r,
		     const char **error_r);
/* Free the entry's contents (not the struct itself). */
void store_dir_entry_free(struct store_dir_entry *entry);

/* Route alias (or "@domain" for the domain's catch-all) to target, creating
 * the alias on its first target. target must be a valid address; when its
 * domain is ours it must name an account, alias or group. STORE_EXISTS when
 * the alias already routes there or the address is an account or group. */
int store_dir_alias_add(struct store *st, const char *alias, const char *target,
			const char **error_r);
/* Remove one target (the alias goes with its last one), or with target NULL
 * the whole alias. STORE_NOTFOUND if there was nothing to remove. */
int store_dir_alias_del(struct store *st, const char *alias, const char *target,
			const char **error_r);
/* Calls cb for each (alias, target) pair, of one domain or of all (NULL). */
int store_dir_alias_list(struct store *st, const char *domain,
			 void (*cb)(const char *alias, const char *target, void *ctx), void *ctx,
			 const char **error_r);

/* Create an empty group. STORE_INVALID for an unknown domain, STORE_EXISTS
 * when the address is taken. */
int store_dir_group_add(struct store *st, const char *address, const char *display_name,
			const char **error_r);
/* Delete a group and its memberships (not the members). */
int store_dir_group_del(struct store *st, const char *address, const char **error_r);
/* Calls cb for each group, of one domain or of all (NULL). */
int store_dir_group_list(struct store *st, const char *domain,
			 void (*cb)(const char *address, const char *display_name,
				    unsigned members, void *ctx),
			 void *ctx, const char **error_r);
/* Add member (an address; when its domain is ours it must exist) to group. */
int store_dir_group_member_add(struct store *st, const char *group, const char *member,
			       const char **error_r);
/* Remove member from group. STORE_NOTFOUND if it was not a member. */
int store_dir_group_member_del(struct store *st, const char *group, const char *member,
			       const char **error_r);

/* One account's directory view: cb called once, or STORE_NOTFOUND. */
int store_dir_account_info(struct store *st, const char *address,
			   void (*cb)(const struct store_dir_account *a, void *ctx), void *ctx,
			   const char **error_r);
/* Accounts whose address, name, department or title contains query (case
 * insensitive; "" = all), of one domain or all (NULL), at most limit. */
int store_dir_account_search(struct store *st, const char *domain, const char *query,
			     unsigned limit,
			     void (*cb)(const struct store_dir_account *a, void *ctx), void *ctx,
			     const char **error_r);
/* Change the non-NULL fields of an account. STORE_NOTFOUND if unknown. */
int store_dir_account_update(struct store *st, const char *address,
			     const struct store_dir_account_fields *f, const char **error_r);

/* Create (source 'ldap', no password) or refresh and re-enable the account
 * of a directory user, adding its domain if needed. *created_r is 1 when it
 * was created, 2 when a disabled one was enabled again, 0 when refreshed;
 * STORE_EXISTS when a local account holds the address. */
int store_dir_account_provision(struct store *st, const char *address,
				const struct store_dir_account_fields *f, int *created_r,
				const char **error_r);
/* Calls cb for each account created by source ("ldap"). */
int store_dir_account_list_source(struct store *st, const char *source,
				  void (*cb)(const char *address, bool enabled, void *ctx),
				  void *ctx, const char **error_r);
/* Disable an account (never deletes mail); STORE_NOTFOUND if unknown or
 * already disabled. */
int store_dir_account_disable(struct store *st, const char *address, const char **error_r);

/* Failed-login throttling. kind is "account" (key "ACCOUNT NETWORK": one
 * account from one client network) or "net" (key: the client network). */
/* *retry_ms_r = milliseconds until the account key or the net key may try
 * again (0 = not locked; "" matches nothing); *kind_r names which one is
 * locked ("account"/"net", else NULL). */
int store_dir_auth_locked(struct store *st, const char *account_key, const char *net,
			  uint64_t *retry_ms_r, const char **kind_r, const char **error_r);
/* Count a failure for key: max failures within window_ms lock it for
 * lockout_ms. Returns the count in *failures_r, the lock left in *locked_ms_r. */
int store_dir_auth_failed(struct store *st, const char *kind, const char *key, unsigned max,
			  uint64_t window_ms, uint64_t lockout_ms, unsigned *failures_r,
			  uint64_t *locked_ms_r, const char **error_r);
/* Forget the failures of key (after a successful login). */
int store_dir_auth_reset(struct store *st, const char *kind, const char *key,
			 const char **error_r);
/* Drop counters quiet for longer than window_ms and not locked. */
int store_dir_auth_purge(struct store *st, uint64_t window_ms, const char **error_r);

#endif
