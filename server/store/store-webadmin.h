/* The web admin's SQL (migration 0024 and reads of the directory, queue and
 * usage tables): browser sessions, domain administrators, paged and
 * searchable lists for 100,000 users (LIMIT/OFFSET over an index, substring
 * search over trigram indexes), the audit log (keyset paging), app
 * passwords and the dashboard's figures. Changes reuse the store's own
 * functions (store_account_*, store_dir_*, store_queue_*, store_dkim_*). */
#ifndef CAIRN_STORE_WEBADMIN_H
#define CAIRN_STORE_WEBADMIN_H

#include "store.h"

/* One result row: ncols text columns (never NULL; "" for SQL NULL), valid
 * during the call only. */
typedef void store_wa_row_fn(const char *const *cols, size_t ncols, void *ctx);

/* A session as store_wa_session_get finds it. */
struct store_wa_session {
	char address[321];
	char csrf[65];
	char display_name[257];
	bool is_admin;		/* accounts.is_admin */
};

/* Store a new session for address (an enabled account) with the SHA-256 hex
 * of its id, its CSRF token, a lifetime of ttl_s seconds and the client's
 * address. STORE_NOTFOUND when the account is unknown or disabled. Expired
 * sessions of everyone are purged on the way. */
int store_wa_session_create(struct store *st, const char *id_hash, const char *address,
			    const char *csrf, uint64_t ttl_s, const char *client_ip,
			    const char **error_r);
/* The live session with this id hash, sliding its expiry to idle_s from now
 * but never past max_s after its creation. STORE_NOTFOUND when unknown,
 * expired, or its account is disabled. */
int store_wa_session_get(struct store *st, const char *id_hash, uint64_t idle_s, uint64_t max_s,
			 struct store_wa_session *s_r, const char **error_r);
/* Delete one session (logout). */
int store_wa_session_delete(struct store *st, const char *id_hash, const char **error_r);
/* Delete the account's other sessions (after a password change); keep may
 * be "" to delete them all. */
int store_wa_session_delete_others(struct store *st, const char *address, const char *keep,
				   const char **error_r);

/* Domains address administers, in name order. */
int store_wa_admin_domains(struct store *st, const char *address,
			   void (*cb)(const char *domain, void *ctx), void *ctx,
			   const char **error_r);
/* Make address an administrator of domain (on) or not. STORE_NOTFOUND when
 * the account or domain is unknown (on) or it was not one (off). */
int store_wa_domain_admin_set(struct store *st, const char *address, const char *domain, bool on,
			      const char **error_r);

enum store_wa_list {
	STORE_WA_DOMAINS,	/* name, accounts, bytes */
	STORE_WA_USERS,		/* address, display_name, enabled, is_admin, source,
				 * quota_bytes (0 = none), used bytes */
	STORE_WA_ALIASES,	/* address, targets (", "-separated) */
	STORE_WA_GROUPS,	/* address, display_name, members */
	STORE_WA_QUEUE,		/* id, from, size, created (UTC), recipients,
				 * "rcpt (state)" list, a last error */
	STORE_WA_QUARANTINE,	/* id, account, received (UTC), envelope sender,
				 * reason, score, subject, size; sort "date",
				 * "from", "subject", "score" or "rcpt" */
	STORE_WA_MY_QUARANTINE,	/* the same, of the account scope names only */
	STORE_WA_LIST_COUNT
};

/* What page of a list: a substring to search for ("" = all), the sort
 * column ("name" sorts users by display name; anything else by address),
 * direction, the domain administrator whose domains bound the list ("" =
 * no bound: a full admin), and limit/offset (limit at most 500). */
struct store_wa_page {
	const char *query;
	const char *sort;
	bool desc;
	const char *scope;
	unsigned limit;
	unsigned offset;
};

/* Call cb for each row of one page of list what. */
int store_wa_list(struct store *st, enum store_wa_list what, const struct store_wa_page *page,
		  store_wa_row_fn *cb, void *ctx, const char **error_r);
/* Members of group (member), paged. */
int store_wa_group_members(struct store *st, const char *group, unsigned limit, unsigned offset,
			   store_wa_row_fn *cb, void *ctx, const char **error_r);
/* STORE_OK when scope administers domain, else STORE_NOTFOUND. */
int store_wa_in_scope(struct store *st, const char *scope, const char *domain,
		      const char **error_r);

/* The first max_bytes of queued message id (its header, for display) into
 * a malloc'ed *data_r. STORE_NOTFOUND if there is no such message. */
int store_wa_queue_head(struct store *st, uint64_t id, size_t max_bytes, char **data_r,
			size_t *len_r, const char **error_r);

/* Append to the audit log. */
int store_wa_audit(struct store *st, const char *actor, const char *client_ip, const char *action,
		   const char *target, const char *detail, const char **error_r);
/* Audit rows newest first, older than before_id (0 = from the newest),
 * whose actor, action or target contains query: id, at (UTC), actor,
 * client_ip, action, target, detail. */
int store_wa_audit_list(struct store *st, const char *query, uint64_t before_id, unsigned limit,
			store_wa_row_fn *cb, void *ctx, const char **error_r);

/* Add an app password (its crypt hash) named name for address; *id_r its
 * id. STORE_EXISTS when the name is taken, STORE_NOTFOUND for an unknown
 * account or one that has 20 already. */
int store_wa_app_password_add(struct store *st, const char *address, const char *name,
			      const char *hash, uint64_t *id_r, const char **error_r);
/* The app passwords of address (an enabled account), at most 20: id and
 * crypt hash per row, for the directory to verify a login against. */
int store_wa_app_password_hashes(struct store *st, const char *address, store_wa_row_fn *cb,
				 void *ctx, const char **error_r);
/* Record that app password id was just used. */
int store_wa_app_password_used(struct store *st, const char *id, const char **error_r);
/* address's app passwords: id, name, created (UTC), last used or "". */
int store_wa_app_password_list(struct store *st, const char *address, store_wa_row_fn *cb,
			       void *ctx, const char **error_r);
/* Revoke one. STORE_NOTFOUND when address has no such app password. */
int store_wa_app_password_del(struct store *st, const char *address, uint64_t id,
			      const char **error_r);

/* TOTP for the web login (RFC 6238). The secret (base32, 32 characters)
 * of address, whether it is enabled, and the last time step used; or
 * STORE_NOTFOUND when the account has none. */
int store_wa_totp_get(struct store *st, const char *address, char secret_r[33], bool *enabled_r,
		      uint64_t *last_step_r, const char **error_r);
/* Store a new, not yet enabled secret; STORE_EXISTS when TOTP is already
 * enabled (disable it first). */
int store_wa_totp_begin(struct store *st, const char *address, const char *secret,
			const char **error_r);
/* Record the use of a code of time step step, enabling TOTP: STORE_CONFLICT
 * when that step (or a later one) was used already (a replay). */
int store_wa_totp_use(struct store *st, const char *address, uint64_t step, const char **error_r);
/* Remove the account's TOTP; STORE_NOTFOUND if it had none. */
int store_wa_totp_delete(struct store *st, const char *address, const char **error_r);

/* Dashboard. Mail per hour of the last 48 h: epoch seconds, "in"/"out",
 * messages. */
int store_wa_mail_hourly(struct store *st, store_wa_row_fn *cb, void *ctx, const char **error_r);
/* Storage per domain, largest first (at most limit): name, bytes, accounts. */
int store_wa_domain_storage(struct store *st, unsigned limit, store_wa_row_fn *cb, void *ctx,
			    const char **error_r);
/* The hosts connected to this database as Cairn (cairnd nodes, cairnctl,
 * the web admin): client address ("local socket" for Unix sockets),
 * connections, the oldest connection's start (UTC). */
int store_wa_nodes(struct store *st, store_wa_row_fn *cb, void *ctx, const char **error_r);
/* One row: web logins in 24 h, failed web logins in 24 h, failed logins
 * counted by the shared throttle in 24 h (every protocol), live web
 * sessions, accounts, disabled accounts. */
int store_wa_counters(struct store *st, store_wa_row_fn *cb, void *ctx, const char **error_r);

/* "%q%" for LIKE with q's '%', '_' and '\' escaped, malloc'ed. */
char *store_wa_like(const char *q);

#endif
