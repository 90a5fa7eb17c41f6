/* The sql directory backend: accounts, aliases and groups live in the
 * PostgreSQL store (store-directory.c); passwords are yescrypt hashes checked
 * with password.c. Group members and alias targets are addresses. */
#include "autoconf.h"
#include "directory-private.h"
#include "password.h"
#include "store.h"
#include "store-directory.h"
#include "store-webadmin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A valid yescrypt hash of a random password, verified against when the user
 * is unknown so that the answer takes as long as for a wrong password. */
static const char dummy_hash[] =
	"$y$j9T$QJ7W7Yk0b0nqH2oV2p8oL/$y15eqvSN1sl.tz0OtwR/BbkfbcogYkHmLCLZ/JOFRU9";

static int sql_store(struct dir_handle *h, const char **error_r)
{
	if (h->store == NULL)
		return dir_fail(h, DIR_ERROR, error_r, "directory handle has no store");
	return DIR_OK;
}

static int sql_lookup(struct dir_handle *h, const char *address, struct dir_entry *e_r,
		      const char **error_r)
{
	struct store_dir_entry se;
	const char *error;
	memset(e_r, 0, sizeof(*e_r));
	int ret = sql_store(h, error_r);
	if (ret != DIR_OK)
		return ret;
	ret = store_dir_lookup(h->store, address, &se, &error);
	if (ret != STORE_OK)
		return dir_from_store(h, ret, error, error_r);
	e_r->kind = se.kind == STORE_DIR_ACCOUNT ? DIR_ENTRY_USER :
		    se.kind == STORE_DIR_GROUP ? DIR_ENTRY_GROUP : DIR_ENTRY_ALIAS;
	e_r->key = xstrdup(se.address);
	e_r->address = xstrdup(se.address);
	e_r->enabled = se.enabled;
	for (size_t i = 0; i < se.nrefs; i++)
		dir_entry_add_ref(e_r, se.refs[i]);
	store_dir_entry_free(&se);
	return DIR_OK;
}

static int sql_verify(struct dir_handle *h, const char *user, const char *password,
		      dir_auth_gate_fn *gate, void *gate_ctx, char **address_r,
		      const char **error_r)
{
	char *hash = NULL;
	const char *error;
	*address_r = NULL;
	h->auth_check = "none";
	int ret = sql_store(h, error_r);
	if (ret != DIR_OK)
		return ret;
	/* Logins name the account's primary address; anything else is an
	 * unknown name and is counted as typed. */
	ret = gate(gate_ctx, user);
	if (ret != DIR_OK)
		return ret;
	ret = store_account_password(h->store, user, &hash, &error);
	if (ret != STORE_OK && ret != STORE_NOTFOUND && ret != STORE_INVALID)
		return dir_from_store(h, ret, error, error_r);
	/* Unknown, disabled and password-less accounts ("*") run the same
	 * crypt as a wrong password, so the time taken tells nothing. */
	bool ok;
	if (hash == NULL || hash[0] == '*' || hash[0] == '!' || hash[0] == '\0') {
		h->auth_check = "dummy-hash";
		(void)password_verify(password, dummy_hash);
		ok = false;
	} else {
		h->auth_check = "hash";
		ok = password_verify(password, hash);
		if (!ok && dir_app_password_ok(h, user, password)) {
			h->auth_check = "app-password";
			ok = true;
		}
	}
	free(hash);
	if (!ok)
		return dir_fail(h, DIR_NOTFOUND, error_r, "bad credentials");
	*address_r = xstrdup(user);
	return DIR_OK;
}

static void user_from_account(const struct store_dir_account *a, struct dir_user *u)
{
	u->address = xstrdup(a->address);
	u->display_name = xstrdup(a->display_name);
	u->phone = xstrdup(a->phone);
	u->department = xstrdup(a->department);
	u->title = xstrdup(a->title);
	u->quota_bytes = a->quota_bytes;
	u->enabled = a->enabled;
	u->is_admin = a->is_admin;
}

static void info_cb(const struct store_dir_account *a, void *ctx)
{
	user_from_account(a, ctx);
}

static int sql_user_info(struct dir_handle *h, const char *address, struct dir_user *u_r,
			 const char **error_r)
{
	const char *error;
	int ret = sql_store(h, error_r);
	if (ret != DIR_OK)
		return ret;
	ret = store_dir_account_info(h->store, address, info_cb, u_r, &error);
	if (ret == STORE_NOTFOUND) {
		/* An alias of exactly one account stands for that account. */
		struct store_dir_entry se;
		ret = store_dir_lookup(h->store, address, &se, &error);
		if (ret == STORE_OK) {
			if (se.kind == STORE_DIR_ALIAS && se.nrefs == 1)
				ret = store_dir_account_info(h->store, se.refs[0], info_cb, u_r, &error);
			else
				ret = STORE_NOTFOUND;
			store_dir_entry_free(&se);
		}
		if (ret == STORE_NOTFOUND)
			return dir_fail(h, DIR_NOTFOUND, error_r, "no user %s", address);
	}
	return dir_from_store(h, ret, error, error_r);
}

struct search_ctx {
	void (*cb)(const struct dir_user *u, void *ctx);
	void *ctx;
};

static void search_cb(const struct store_dir_account *a, void *_ctx)
{
	struct search_ctx *c = _ctx;
	struct dir_user u;
	if (!a->enabled)
		return;
	user_from_account(a, &u);
	c->cb(&u, c->ctx);
	dir_user_free(&u);
}

static int sql_search(struct dir_handle *h, const char *query, unsigned limit,
		      void (*cb)(const struct dir_user *u, void *ctx), void *ctx,
		      const char **error_r)
{
	struct search_ctx c = { cb, ctx };
	const char *error;
	int ret = sql_store(h, error_r);
	if (ret != DIR_OK)
		return ret;
	ret = store_dir_account_search(h->store, NULL, query, limit, search_cb, &c, &error);
	return dir_from_store(h, ret, error, error_r);
}

const struct dir_backend dir_backend_sql = {
	.name = "sql",
	.lookup = sql_lookup,
	.lookup_ref = sql_lookup,
	.verify = sql_verify,
	.user_info = sql_user_info,
	.search = sql_search,
};
