/* Domains and accounts (migration 0001): syntax checks and lower-casing of
 * domain names and addresses, then one registered statement per operation.
 * Error texts name the domain or address so cairnctl and the web admin can
 * show them as they are. */
#include "autoconf.h"
#include "store-private.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#define DOMAIN_MAX 255
#define LABEL_MAX 63
#define LOCALPART_MAX 64
#define DISPLAY_NAME_MAX 256

/* A printable, shortened copy of untrusted input for an error message. */
static const char *printable(const char *in, char *out, size_t size)
{
	size_t o = 0;
	for (const char *p = in; *p != '\0' && o + 4 < size; p++)
		out[o++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
	if (in[o] != '\0' && o + 4 >= size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Dot-separated LDH labels (letters, digits, '-' not at either end, 1-63
 * each), at most 255 in all. Writes the lower-cased name to out. Returns NULL
 * or the reason it is refused. */
static const char *domain_check(const char *name, size_t len, char out[DOMAIN_MAX + 1])
{
	if (len == 0)
		return "empty";
	if (len > DOMAIN_MAX)
		return "longer than 255 characters";
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = ascii_lower(name[i]);
		if (c == '.') {
			if (label == 0)
				return "empty label";
			if (out[i - 1] == '-')
				return "label ends with '-'";
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			if (c == '-' && label == 0)
				return "label starts with '-'";
			if (++label > LABEL_MAX)
				return "label longer than 63 characters";
		} else {
			return "only letters, digits, '-' and '.' are allowed";
		}
		out[i] = c;
	}
	if (label == 0)
		return "empty label";
	if (out[len - 1] == '-')
		return "label ends with '-'";
	out[len] = '\0';
	return NULL;
}

static bool is_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

struct address {
	char address[LOCALPART_MAX + 1 + DOMAIN_MAX + 1];	/* lower-cased */
	char localpart[LOCALPART_MAX + 1];
	char domain[DOMAIN_MAX + 1];
};

/* localpart@domain with a dot-atom localpart (RFC 5322 atext, at most 64). */
static int address_parse(struct store *st, const char *in, struct address *a)
{
	char shown[128];
	const char *at = strchr(in, '@');
	const char *why = NULL;
	if (at == NULL) {
		why = "no '@'";
	} else if (at == in) {
		why = "empty local part";
	} else if ((size_t)(at - in) > LOCALPART_MAX) {
		why = "local part longer than 64 characters";
	} else {
		size_t n = (size_t)(at - in);
		for (size_t i = 0; i < n && why == NULL; i++) {
			if (in[i] == '.') {
				if (i == 0 || i == n - 1 || in[i - 1] == '.')
					why = "misplaced '.' in the local part";
			} else if (!is_atext(in[i])) {
				why = "local part may only hold letters, digits, '.' and "
				      "!#$%&'*+-/=?^_`{|}~";
			}
			a->localpart[i] = ascii_lower(in[i]);
		}
		a->localpart[n] = '\0';
		if (why == NULL) {
			const char *dwhy = domain_check(at + 1, strlen(at + 1), a->domain);
			if (dwhy != NULL)
				return store_fail(st, STORE_INVALID, "invalid address \"%s\": domain %s",
						  printable(in, shown, sizeof(shown)), dwhy);
		}
	}
	if (why != NULL)
		return store_fail(st, STORE_INVALID, "invalid address \"%s\": %s",
				  printable(in, shown, sizeof(shown)), why);
	snprintf(a->address, sizeof(a->address), "%s@%s", a->localpart, a->domain);
	return STORE_OK;
}

static int domain_parse(struct store *st, const char *in, char out[DOMAIN_MAX + 1])
{
	char shown[128];
	const char *why = domain_check(in, strlen(in), out);
	if (why != NULL)
		return store_fail(st, STORE_INVALID, "invalid domain name \"%s\": %s",
				  printable(in, shown, sizeof(shown)), why);
	return STORE_OK;
}

/* Shared exit: hand out st->error on failure. */
static int done(struct store *st, int ret, const char **error_r)
{
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

int store_domain_add(struct store *st, const char *name, const char **error_r)
{
	char domain[DOMAIN_MAX + 1];
	int ret = domain_parse(st, name, domain);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DOMAIN_ADD, NULL, domain);
	if (ret == STORE_EXISTS)
		ret = store_fail(st, ret, "domain %s already exists", domain);
	if (ret == STORE_OK)
		log_info("store: domain=%s status=added", domain);
	return done(st, ret, error_r);
}

int store_domain_del(struct store *st, const char *name, const char **error_r)
{
	char domain[DOMAIN_MAX + 1];
	PGresult *res = NULL;
	int ret = domain_parse(st, name, domain);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DOMAIN_DEL, &res, domain);
	if (ret == STORE_INVALID && strcmp(st->sqlstate, "23503") == 0) {
		/* An account was added while we deleted. */
		ret = store_fail(st, ret, "domain %s still has accounts; delete them first", domain);
	}
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	long found = atol(PQgetvalue(res, 0, 0));
	long accounts = atol(PQgetvalue(res, 0, 1));
	long deleted = atol(PQgetvalue(res, 0, 2));
	PQclear(res);
	if (found == 0)
		ret = store_fail(st, STORE_NOTFOUND, "unknown domain %s", domain);
	else if (deleted == 0)
		ret = store_fail(st, STORE_INVALID, "domain %s still has %ld account%s; delete %s first",
				 domain, accounts, accounts == 1 ? "" : "s",
				 accounts == 1 ? "it" : "them");
	else
		log_info("store: domain=%s status=deleted", domain);
	return done(st, ret, error_r);
}

int store_domain_list(struct store *st, void (*cb)(const char *name, void *ctx), void *ctx,
		      const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DOMAIN_LIST, &res);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), ctx);
	PQclear(res);
	return STORE_OK;
}

/* Refuse something that is not crypt(3) output, so a plaintext password can
 * never be stored by mistake. NULL (no password) is fine. */
static int hash_check(struct store *st, const char *hash)
{
	if (hash != NULL && hash[0] != '$' && hash[0] != '*' && hash[0] != '!')
		return store_fail(st, STORE_INVALID, "password hash is not in crypt(3) format");
	return STORE_OK;
}

int store_account_add(struct store *st, const char *address, const char *password_hash,
		      const char *display_name, const char **error_r)
{
	struct address a;
	PGresult *res = NULL;
	char shown[128];
	if (display_name == NULL)
		display_name = "";
	int ret = address_parse(st, address, &a);
	if (ret == STORE_OK)
		ret = hash_check(st, password_hash);
	if (ret == STORE_OK && strlen(display_name) > DISPLAY_NAME_MAX * 4)
		ret = store_fail(st, STORE_INVALID, "display name longer than %d characters",
				 DISPLAY_NAME_MAX);
	for (const char *p = display_name; ret == STORE_OK && *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ret = store_fail(st, STORE_INVALID, "display name \"%s\" holds control characters",
					 printable(display_name, shown, sizeof(shown)));
	}
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_ACCOUNT_ADD, &res, a.domain, a.localpart,
					  a.address, password_hash, display_name);
	if (ret == STORE_EXISTS)
		ret = store_fail(st, ret, "account %s already exists", a.address);
	else if (ret == STORE_INVALID && strcmp(st->sqlstate, "23514") == 0 &&
		 strstr(st->error, "display_name") != NULL)
		ret = store_fail(st, ret, "display name longer than %d characters", DISPLAY_NAME_MAX);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	int rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		ret = store_fail(st, STORE_INVALID, "unknown domain %s for %s", a.domain, a.address);
	else
		log_info("store: account=%s status=added", a.address);
	return done(st, ret, error_r);
}

/* Run a statement that takes the address first and must touch one row. */
static int account_update(struct store *st, enum store_stmt_id id, const char *address,
			  const char *value, const char *verb, const char **error_r)
{
	struct address a;
	PGresult *res = NULL;
	int ret = address_parse(st, address, &a);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, id, &res, a.address, value);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	bool touched = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (!touched)
		return done(st, store_fail(st, STORE_NOTFOUND, "unknown account %s", a.address),
			    error_r);
	log_info("store: account=%s status=%s", a.address, verb);
	return STORE_OK;
}

int store_account_del(struct store *st, const char *address, const char **error_r)
{
	return account_update(st, STMT_ACCOUNT_DEL, address, NULL, "deleted", error_r);
}

int store_account_set_password(struct store *st, const char *address, const char *password_hash,
			       const char **error_r)
{
	int ret = hash_check(st, password_hash);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	return account_update(st, STMT_ACCOUNT_SET_PASSWORD, address, password_hash,
			       "password-changed", error_r);
}

int store_account_password(struct store *st, const char *address, char **hash_r,
			   const char **error_r)
{
	struct address a;
	PGresult *res = NULL;
	*hash_r = NULL;
	int ret = address_parse(st, address, &a);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_ACCOUNT_PASSWORD, &res, a.address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return done(st, store_fail(st, STORE_NOTFOUND, "unknown account %s", a.address),
			    error_r);
	}
	/* A disabled account or one without a password gets "*", which
	 * password_verify() refuses: the caller needs no special case. */
	bool enabled = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	if (!enabled || PQgetisnull(res, 0, 0))
		*hash_r = xstrdup("*");
	else
		*hash_r = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

int store_account_list(struct store *st, const char *domain,
		       void (*cb)(const char *address, const char *display_name, void *ctx),
		       void *ctx, const char **error_r)
{
	char name[DOMAIN_MAX + 1];
	PGresult *res;
	int ret;
	if (domain == NULL) {
		ret = store_exec_prepared(st, STMT_ACCOUNT_LIST_ALL, &res);
	} else {
		ret = domain_parse(st, domain, name);
		if (ret == STORE_OK)
			ret = store_exec_prepared(st, STMT_ACCOUNT_LIST_DOMAIN, &res, name);
	}
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	/* The per-domain query returns one all-NULL row for a domain without
	 * accounts and no row at all for an unknown domain. */
	if (domain != NULL && PQntuples(res) == 0) {
		PQclear(res);
		return done(st, store_fail(st, STORE_NOTFOUND, "unknown domain %s", name), error_r);
	}
	for (int i = 0; i < PQntuples(res); i++) {
		if (!PQgetisnull(res, i, 0))
			cb(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), ctx);
	}
	PQclear(res);
	return STORE_OK;
}
