/* DKIM signing keys (migration 0007): add, list, find, switch on and off,
 * delete, and the active keys of a domain for the queue runner. Domain and
 * selector are lower-cased here, so lookups by any spelling find the key. */
#include "autoconf.h"
#include "store-dkim.h"
#include "store-private.h"

#include <stdlib.h>
#include <string.h>

#define DKIM_NAME_MAX 253

/* Lower-case name into out; false when it is empty, too long or holds a
 * byte other than letters, digits, '-', '_' and '.'. */
static bool lower_name(const char *name, char out[DKIM_NAME_MAX + 1])
{
	size_t len = strlen(name);
	if (len == 0 || len > DKIM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
		out[i] = c;
	}
	out[len] = '\0';
	return true;
}

/* Copy the store's error text out and return ret. */
static int done(struct store *st, int ret, char *error, size_t errlen)
{
	if (ret != STORE_OK)
		snprintf(error, errlen, "%s", st->error);
	return ret;
}

/* Rows of DKIM_KEY_COLUMNS into a new array. */
static void rows_to_keys(PGresult *res, struct store_dkim_key **keys_r, size_t *count_r)
{
	size_t n = (size_t)PQntuples(res);
	struct store_dkim_key *keys = xcalloc(n > 0 ? n : 1, sizeof(*keys));
	for (size_t i = 0; i < n; i++) {
		keys[i].domain = xstrdup(PQgetvalue(res, (int)i, 0));
		keys[i].selector = xstrdup(PQgetvalue(res, (int)i, 1));
		keys[i].algorithm = xstrdup(PQgetvalue(res, (int)i, 2));
		keys[i].private_pem = xstrdup(PQgetvalue(res, (int)i, 3));
		keys[i].created = xstrdup(PQgetvalue(res, (int)i, 4));
		keys[i].active = strcmp(PQgetvalue(res, (int)i, 5), "t") == 0;
	}
	*keys_r = keys;
	*count_r = n;
}

void store_dkim_key_clear(struct store_dkim_key *k)
{
	free(k->domain);
	free(k->selector);
	free(k->algorithm);
	/* The private key should not linger in freed memory. */
	if (k->private_pem != NULL)
		memset(k->private_pem, 0, strlen(k->private_pem));
	free(k->private_pem);
	free(k->created);
	memset(k, 0, sizeof(*k));
}

void store_dkim_keys_free(struct store_dkim_key *keys, size_t count)
{
	if (keys == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		store_dkim_key_clear(&keys[i]);
	free(keys);
}

/* A key name pair checked and lower-cased, or STORE_INVALID in st->error. */
static int check_names(struct store *st, const char *domain, const char *selector,
		       char d[DKIM_NAME_MAX + 1], char s[DKIM_NAME_MAX + 1])
{
	if (!lower_name(domain, d))
		return store_fail(st, STORE_INVALID, "DKIM domain '%.100s' is not a domain name",
				  domain);
	if (selector != NULL && !lower_name(selector, s))
		return store_fail(st, STORE_INVALID, "DKIM selector '%.100s' is not a valid selector",
				  selector);
	return STORE_OK;
}

int store_dkim_key_add(struct store *st, const char *domain, const char *selector,
		       const char *algorithm, const char *private_pem, bool active, char *error,
		       size_t errlen)
{
	char d[DKIM_NAME_MAX + 1], s[DKIM_NAME_MAX + 1];
	int ret = check_names(st, domain, selector, d, s);
	if (ret != STORE_OK)
		return done(st, ret, error, errlen);
	if (strcmp(algorithm, "rsa-sha256") != 0 && strcmp(algorithm, "ed25519-sha256") != 0)
		return done(st, store_fail(st, STORE_INVALID, "DKIM algorithm '%.40s' unknown",
					   algorithm), error, errlen);
	ret = store_exec_prepared(st, STMT_DKIM_ADD, NULL, d, s, algorithm, private_pem,
				  active ? "true" : "false");
	if (ret == STORE_EXISTS)
		store_fail(st, ret, "DKIM key %s._domainkey.%s exists already", s, d);
	return done(st, ret, error, errlen);
}

int store_dkim_keys_get(struct store *st, const char *domain, struct store_dkim_key **keys_r,
			size_t *count_r, char *error, size_t errlen)
{
	char d[DKIM_NAME_MAX + 1];
	*keys_r = NULL;
	*count_r = 0;
	int ret = check_names(st, domain, NULL, d, NULL);
	if (ret != STORE_OK)
		return done(st, ret, error, errlen);
	PGresult *res;
	ret = store_exec_prepared(st, STMT_DKIM_ACTIVE, &res, d);
	if (ret != STORE_OK)
		return done(st, ret, error, errlen);
	rows_to_keys(res, keys_r, count_r);
	PQclear(res);
	return STORE_OK;
}

int store_dkim_keys_list(struct store *st, const char *domain, struct store_dkim_key **keys_r,
			 size_t *count_r, char *error, size_t errlen)
{
	char d[DKIM_NAME_MAX + 1];
	PGresult *res;
	int ret;
	*keys_r = NULL;
	*count_r = 0;
	if (domain != NULL) {
		ret = check_names(st, domain, NULL, d, NULL);
		if (ret != STORE_OK)
			return done(st, ret, error, errlen);
		ret = store_exec_prepared(st, STMT_DKIM_LIST_DOMAIN, &res, d);
	} else {
		ret = store_exec_prepared(st, STMT_DKIM_LIST_ALL, &res);
	}
	if (ret != STORE_OK)
		return done(st, ret, error, errlen);
	rows_to_keys(res, keys_r, count_r);
	PQclear(res);
	return STORE_OK;
}

int store_dkim_key_find(struct store *st, const char *domain, const char *selector,
			struct store_dkim_key *key_r, char *error, size_t errlen)
{
	char d[DKIM_NAME_MAX + 1], s[DKIM_NAME_MAX + 1];
	memset(key_r, 0, sizeof(*key_r));
	int ret = check_names(st, domain, selector, d, s);
	if (ret != STORE_OK)
		return done(st, ret, error, errlen);
	PGresult *res;
	ret = store_exec_prepared(st, STMT_DKIM_FIND, &res, d, s);
	if (ret != STORE_OK)
		return done(st, ret, error, errlen);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return done(st, store_fail(st, STORE_NOTFOUND, "no DKIM key %s._domainkey.%s", s, d),
			    error, errlen);
	}
	struct store_dkim_key *keys;
	size_t n;
	rows_to_keys(res, &keys, &n);
	PQclear(res);
	*key_r = keys[0];
	free(keys);
	return STORE_OK;
}

/* Run an UPDATE/DELETE on one key; STORE_NOTFOUND when no row matched. */
static int one_key(struct store *st, enum store_stmt_id id, const char *domain,
		   const char *selector, const char *arg, char *error, size_t errlen)
{
	char d[DKIM_NAME_MAX + 1], s[DKIM_NAME_MAX + 1];
	int ret = check_names(st, domain, selector, d, s);
	if (ret != STORE_OK)
		return done(st, ret, error, errlen);
	PGresult *res;
	ret = arg != NULL ? store_exec_prepared(st, id, &res, d, s, arg)
			  : store_exec_prepared(st, id, &res, d, s);
	if (ret != STORE_OK)
		return done(st, ret, error, errlen);
	bool touched = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (!touched)
		return done(st, store_fail(st, STORE_NOTFOUND, "no DKIM key %s._domainkey.%s", s, d),
			    error, errlen);
	return STORE_OK;
}

int store_dkim_key_set_active(struct store *st, const char *domain, const char *selector,
			      bool active, char *error, size_t errlen)
{
	return one_key(st, STMT_DKIM_SET_ACTIVE, domain, selector, active ? "true" : "false",
		       error, errlen);
}

int store_dkim_key_delete(struct store *st, const char *domain, const char *selector,
			  char *error, size_t errlen)
{
	return one_key(st, STMT_DKIM_DELETE, domain, selector, NULL, error, errlen);
}
