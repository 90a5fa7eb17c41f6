/* The sql directory backend's tables (migration 0003): lookups of what an
 * address names, aliases and catch-alls, groups and members, address-book
 * fields, accounts created by directory sync and the shared failed-login
 * counters. Input is checked and lower-cased here, then goes to one
 * registered statement as a parameter; no SQL is built from it. */
#include "autoconf.h"
#include "store-directory.h"
#include "store-private.h"
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DIR_DOMAIN_MAX 255
#define DIR_LOCALPART_MAX 64
#define DIR_NAME_MAX 256

struct dir_address {
	char address[DIR_LOCALPART_MAX + 1 + DIR_DOMAIN_MAX + 1];
	char localpart[DIR_LOCALPART_MAX + 1];
	char domain[DIR_DOMAIN_MAX + 1];
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* A shortened copy of input without control characters, for messages. */
static const char *shown(const char *in, char *out, size_t size)
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

/* NULL or why the domain (already lower-cased in out) is refused. */
static const char *domain_why(const char *in, char out[DIR_DOMAIN_MAX + 1])
{
	size_t len = strlen(in), label = 0;
	if (len == 0)
		return "empty";
	if (len > DIR_DOMAIN_MAX)
		return "longer than 255 characters";
	for (size_t i = 0; i <= len; i++) {
		char c = lower(in[i]);
		out[i] = c;
		if (c == '.' || c == '\0') {
			if (label == 0)
				return "empty label";
			if (in[i - 1] == '-')
				return "label ends with '-'";
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			if (c == '-' && label == 0)
				return "label starts with '-'";
			if (++label > 63)
				return "label longer than 63 characters";
		} else {
			return "only letters, digits, '-' and '.' are allowed";
		}
	}
	return NULL;
}

static bool is_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Split and check localpart@domain (dot-atom local part, LDH domain) into a.
 * allow_catchall accepts "@domain" too. Returns STORE_OK or STORE_INVALID
 * with st->error saying why, what naming the role ("alias", "member"). */
static int dir_address_parse(struct store *st, const char *in, bool allow_catchall,
			     const char *what, struct dir_address *a)
{
	char buf[128];
	const char *at = strrchr(in, '@');
	const char *why = NULL;
	size_t n = at != NULL ? (size_t)(at - in) : 0;
	if (at == NULL)
		why = "no '@'";
	else if (n == 0 && !allow_catchall)
		why = "empty local part";
	else if (n > DIR_LOCALPART_MAX)
		why = "local part longer than 64 characters";
	for (size_t i = 0; why == NULL && i < n; i++) {
		if (in[i] == '.') {
			if (i == 0 || i == n - 1 || in[i - 1] == '.')
				why = "misplaced '.' in the local part";
		} else if (!is_atext(in[i])) {
			why = "local part may only hold letters, digits, '.' and "
			      "!#$%&'*+-/=?^_`{|}~";
		}
		a->localpart[i] = lower(in[i]);
	}
	if (why == NULL) {
		a->localpart[n] = '\0';
		const char *dwhy = domain_why(at + 1, a->domain);
		if (dwhy != NULL)
			return store_fail(st, STORE_INVALID, "invalid %s address \"%s\": domain %s", what,
					  shown(in, buf, sizeof(buf)), dwhy);
		snprintf(a->address, sizeof(a->address), "%s@%s", a->localpart, a->domain);
		return STORE_OK;
	}
	return store_fail(st, STORE_INVALID, "invalid %s address \"%s\": %s", what,
			  shown(in, buf, sizeof(buf)), why);
}

static int done(struct store *st, int ret, const char **error_r)
{
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

/* Rows a statement touched. */
static bool touched(PGresult *res)
{
	return strcmp(PQcmdTuples(res), "0") != 0;
}

int store_dir_domain_exists(struct store *st, const char *domain, const char **error_r)
{
	char name[DIR_DOMAIN_MAX + 1];
	PGresult *res;
	if (domain_why(domain, name) != NULL)
		return done(st, store_fail(st, STORE_NOTFOUND, "no such domain"), error_r);
	int ret = store_exec_prepared(st, STMT_DIR_DOMAIN_EXISTS, &res, name);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	bool found = PQntuples(res) > 0;
	PQclear(res);
	if (!found)
		ret = store_fail(st, STORE_NOTFOUND, "unknown domain %s", name);
	return done(st, ret, error_r);
}

int store_dir_domain_ensure(struct store *st, const char *domain, const char **error_r)
{
	char name[DIR_DOMAIN_MAX + 1], buf[128];
	const char *why = domain_why(domain, name);
	if (why != NULL)
		return done(st, store_fail(st, STORE_INVALID, "invalid domain name \"%s\": %s",
					   shown(domain, buf, sizeof(buf)), why), error_r);
	return done(st, store_exec_prepared(st, STMT_DIR_DOMAIN_ENSURE, NULL, name), error_r);
}

void store_dir_entry_free(struct store_dir_entry *e)
{
	for (size_t i = 0; i < e->nrefs; i++)
		free(e->refs[i]);
	free(e->refs);
	free(e->address);
	memset(e, 0, sizeof(*e));
}

int store_dir_lookup(struct store *st, const char *address, struct store_dir_entry *entry_r,
		     const char **error_r)
{
	struct dir_address a;
	PGresult *res;
	memset(entry_r, 0, sizeof(*entry_r));
	if (dir_address_parse(st, address, true, "", &a) != STORE_OK)
		return done(st, store_fail(st, STORE_NOTFOUND, "no such address"), error_r);
	int ret = store_exec_prepared(st, STMT_DIR_LOOKUP, &res, a.address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	int rows = PQntuples(res);
	if (rows == 0) {
		PQclear(res);
		return done(st, store_fail(st, STORE_NOTFOUND, "no such address %s", a.address),
			    error_r);
	}
	/* The trigger of migration 0003 keeps one kind per address; should two
	 * rows of different kinds still appear, the first kind wins. */
	const char *kind = PQgetvalue(res, 0, 0);
	entry_r->kind = strcmp(kind, "account") == 0 ? STORE_DIR_ACCOUNT :
			strcmp(kind, "group") == 0 ? STORE_DIR_GROUP : STORE_DIR_ALIAS;
	entry_r->address = xstrdup(PQgetvalue(res, 0, 1));
	entry_r->enabled = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	entry_r->refs = xcalloc((size_t)rows, sizeof(char *));
	for (int i = 0; i < rows; i++) {
		if (strcmp(PQgetvalue(res, i, 0), kind) != 0 || PQgetisnull(res, i, 3))
			continue;
		entry_r->refs[entry_r->nrefs++] = xstrdup(PQgetvalue(res, i, 3));
	}
	PQclear(res);
	return STORE_OK;
}

/* A target or member whose domain is ours must name something. */
static int ref_check(struct store *st, const struct dir_address *ref, const char *what)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DIR_DOMAIN_EXISTS, &res, ref->domain);
	if (ret != STORE_OK)
		return ret;
	bool local = PQntuples(res) > 0;
	PQclear(res);
	if (!local)
		return STORE_OK;
	ret = store_exec_prepared(st, STMT_DIR_LOOKUP, &res, ref->address);
	if (ret != STORE_OK)
		return ret;
	bool found = PQntuples(res) > 0;
	PQclear(res);
	if (!found)
		return store_fail(st, STORE_INVALID, "unknown %s %s (its domain is local, but no "
				  "account, alias or group has that address)", what, ref->address);
	return STORE_OK;
}

struct alias_add_ctx {
	struct dir_address alias, target;
};

static int alias_add_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct alias_add_ctx *c = _ctx;
	PGresult *res;
	int ret = ref_check(st, &c->target, "target");
	if (ret != STORE_OK)
		return ret;
	ret = store_exec_prepared(st, STMT_DIR_ALIAS_ENSURE, &res, c->alias.domain,
				  c->alias.localpart, c->alias.address);
	if (ret == STORE_EXISTS)
		return store_fail(st, ret, "address %s is already in use by an account or group",
				  c->alias.address);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return store_fail(st, STORE_INVALID, "unknown domain %s for %s", c->alias.domain,
				  c->alias.address);
	}
	char id[32];
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	ret = store_exec_prepared(st, STMT_DIR_ALIAS_TARGET_ADD, NULL, id, c->target.address);
	if (ret == STORE_EXISTS)
		return store_fail(st, ret, "alias %s already routes to %s", c->alias.address,
				  c->target.address);
	return ret;
}

int store_dir_alias_add(struct store *st, const char *alias, const char *target,
			const char **error_r)
{
	struct alias_add_ctx c;
	int ret = dir_address_parse(st, alias, true, "alias", &c.alias);
	if (ret == STORE_OK)
		ret = dir_address_parse(st, target, false, "target", &c.target);
	if (ret == STORE_OK && strcmp(c.alias.address, c.target.address) == 0)
		ret = store_fail(st, STORE_INVALID, "alias %s cannot route to itself", c.alias.address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	ret = store_tx(st, alias_add_tx, &c, error_r);
	if (ret == STORE_OK)
		log_info("store: alias=%s target=%s status=added", c.alias.address, c.target.address);
	return ret;
}

struct alias_del_ctx {
	struct dir_address alias, target;
	bool one;
};

static int alias_del_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct alias_del_ctx *c = _ctx;
	PGresult *res;
	int ret;
	if (!c->one) {
		ret = store_exec_prepared(st, STMT_DIR_ALIAS_DEL, &res, c->alias.address);
	} else {
		ret = store_exec_prepared(st, STMT_DIR_ALIAS_TARGET_DEL, &res, c->alias.address,
					  c->target.address);
	}
	if (ret != STORE_OK)
		return ret;
	bool hit = touched(res);
	PQclear(res);
	if (!hit && c->one)
		return store_fail(st, STORE_NOTFOUND, "alias %s does not route to %s",
				  c->alias.address, c->target.address);
	if (!hit)
		return store_fail(st, STORE_NOTFOUND, "unknown alias %s", c->alias.address);
	if (c->one)
		ret = store_exec_prepared(st, STMT_DIR_ALIAS_DEL_EMPTY, NULL, c->alias.address);
	return ret;
}

int store_dir_alias_del(struct store *st, const char *alias, const char *target,
			const char **error_r)
{
	struct alias_del_ctx c;
	c.one = target != NULL;
	int ret = dir_address_parse(st, alias, true, "alias", &c.alias);
	if (ret == STORE_OK && c.one)
		ret = dir_address_parse(st, target, false, "target", &c.target);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	ret = store_tx(st, alias_del_tx, &c, error_r);
	if (ret == STORE_OK)
		log_info("store: alias=%s target=%s status=deleted", c.alias.address,
			 c.one ? c.target.address : "*");
	return ret;
}

/* The domain filter of a list statement: NULL for all, else the checked name. */
static int list_domain(struct store *st, const char *domain, char name[DIR_DOMAIN_MAX + 1],
		       const char **param_r)
{
	char buf[128];
	*param_r = NULL;
	if (domain == NULL)
		return STORE_OK;
	const char *why = domain_why(domain, name);
	if (why != NULL)
		return store_fail(st, STORE_INVALID, "invalid domain name \"%s\": %s",
				  shown(domain, buf, sizeof(buf)), why);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DIR_DOMAIN_EXISTS, &res, name);
	if (ret != STORE_OK)
		return ret;
	bool found = PQntuples(res) > 0;
	PQclear(res);
	if (!found)
		return store_fail(st, STORE_NOTFOUND, "unknown domain %s", name);
	*param_r = name;
	return STORE_OK;
}

int store_dir_alias_list(struct store *st, const char *domain,
			 void (*cb)(const char *alias, const char *target, void *ctx), void *ctx,
			 const char **error_r)
{
	char name[DIR_DOMAIN_MAX + 1];
	const char *param;
	PGresult *res;
	int ret = list_domain(st, domain, name, &param);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_ALIAS_LIST, &res, param);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), ctx);
	PQclear(res);
	return STORE_OK;
}

static int name_check(struct store *st, const char *name)
{
	char buf[128];
	if (strlen(name) > DIR_NAME_MAX)
		return store_fail(st, STORE_INVALID, "display name longer than %d characters",
				  DIR_NAME_MAX);
	for (const char *p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return store_fail(st, STORE_INVALID, "display name \"%s\" holds control characters",
					  shown(name, buf, sizeof(buf)));
	}
	return STORE_OK;
}

int store_dir_group_add(struct store *st, const char *address, const char *display_name,
			const char **error_r)
{
	struct dir_address a;
	PGresult *res;
	if (display_name == NULL)
		display_name = "";
	int ret = dir_address_parse(st, address, false, "group", &a);
	if (ret == STORE_OK)
		ret = name_check(st, display_name);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_GROUP_ADD, &res, a.domain, a.localpart,
					  a.address, display_name);
	if (ret == STORE_EXISTS)
		ret = store_fail(st, ret, "address %s is already in use", a.address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	int rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		return done(st, store_fail(st, STORE_INVALID, "unknown domain %s for %s", a.domain,
					   a.address), error_r);
	log_info("store: group=%s status=added", a.address);
	return STORE_OK;
}

int store_dir_group_del(struct store *st, const char *address, const char **error_r)
{
	struct dir_address a;
	PGresult *res;
	int ret = dir_address_parse(st, address, false, "group", &a);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_GROUP_DEL, &res, a.address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	bool hit = touched(res);
	PQclear(res);
	if (!hit)
		return done(st, store_fail(st, STORE_NOTFOUND, "unknown group %s", a.address),
			    error_r);
	log_info("store: group=%s status=deleted", a.address);
	return STORE_OK;
}

int store_dir_group_list(struct store *st, const char *domain,
			 void (*cb)(const char *address, const char *display_name,
				    unsigned members, void *ctx),
			 void *ctx, const char **error_r)
{
	char name[DIR_DOMAIN_MAX + 1];
	const char *param;
	PGresult *res;
	int ret = list_domain(st, domain, name, &param);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_GROUP_LIST, &res, param);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		   (unsigned)strtoul(PQgetvalue(res, i, 2), NULL, 10), ctx);
	PQclear(res);
	return STORE_OK;
}

struct member_ctx {
	struct dir_address group, member;
};

static int member_add_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct member_ctx *c = _ctx;
	PGresult *res;
	int ret = ref_check(st, &c->member, "member");
	if (ret != STORE_OK)
		return ret;
	ret = store_exec_prepared(st, STMT_DIR_GROUP_MEMBER_ADD, &res, c->group.address,
				  c->member.address);
	if (ret == STORE_EXISTS)
		return store_fail(st, ret, "%s is already a member of %s", c->member.address,
				  c->group.address);
	if (ret != STORE_OK)
		return ret;
	int rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		return store_fail(st, STORE_NOTFOUND, "unknown group %s", c->group.address);
	return STORE_OK;
}

int store_dir_group_member_add(struct store *st, const char *group, const char *member,
			       const char **error_r)
{
	struct member_ctx c;
	int ret = dir_address_parse(st, group, false, "group", &c.group);
	if (ret == STORE_OK)
		ret = dir_address_parse(st, member, false, "member", &c.member);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	ret = store_tx(st, member_add_tx, &c, error_r);
	if (ret == STORE_OK)
		log_info("store: group=%s member=%s status=added", c.group.address, c.member.address);
	return ret;
}

int store_dir_group_member_del(struct store *st, const char *group, const char *member,
			       const char **error_r)
{
	struct member_ctx c;
	PGresult *res;
	int ret = dir_address_parse(st, group, false, "group", &c.group);
	if (ret == STORE_OK)
		ret = dir_address_parse(st, member, false, "member", &c.member);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_GROUP_MEMBER_DEL, &res, c.group.address,
					  c.member.address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	bool hit = touched(res);
	PQclear(res);
	if (!hit)
		return done(st, store_fail(st, STORE_NOTFOUND, "%s is not a member of %s",
					   c.member.address, c.group.address), error_r);
	log_info("store: group=%s member=%s status=deleted", c.group.address, c.member.address);
	return STORE_OK;
}

static void account_row(PGresult *res, int i, struct store_dir_account *a)
{
	a->address = PQgetvalue(res, i, 0);
	a->display_name = PQgetvalue(res, i, 1);
	a->enabled = strcmp(PQgetvalue(res, i, 2), "t") == 0;
	a->is_admin = strcmp(PQgetvalue(res, i, 3), "t") == 0;
	a->quota_bytes = PQgetisnull(res, i, 4) ? 0 : strtoull(PQgetvalue(res, i, 4), NULL, 10);
	a->phone = PQgetvalue(res, i, 5);
	a->department = PQgetvalue(res, i, 6);
	a->title = PQgetvalue(res, i, 7);
	a->source = PQgetvalue(res, i, 8);
	a->has_password = strcmp(PQgetvalue(res, i, 9), "t") == 0;
}

int store_dir_account_info(struct store *st, const char *address,
			   void (*cb)(const struct store_dir_account *a, void *ctx), void *ctx,
			   const char **error_r)
{
	struct dir_address a;
	PGresult *res;
	if (dir_address_parse(st, address, false, "account", &a) != STORE_OK)
		return done(st, store_fail(st, STORE_NOTFOUND, "no such account"), error_r);
	int ret = store_exec_prepared(st, STMT_DIR_ACCOUNT_INFO, &res, a.address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return done(st, store_fail(st, STORE_NOTFOUND, "unknown account %s", a.address),
			    error_r);
	}
	struct store_dir_account acc;
	account_row(res, 0, &acc);
	cb(&acc, ctx);
	PQclear(res);
	return STORE_OK;
}

int store_dir_account_search(struct store *st, const char *domain, const char *query,
			     unsigned limit,
			     void (*cb)(const struct store_dir_account *a, void *ctx), void *ctx,
			     const char **error_r)
{
	char name[DIR_DOMAIN_MAX + 1], lim[16];
	const char *param;
	PGresult *res;
	snprintf(lim, sizeof(lim), "%u", limit);
	int ret = list_domain(st, domain, name, &param);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_ACCOUNT_SEARCH, &res, param,
					  query != NULL ? query : "", lim);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_dir_account acc;
		account_row(res, i, &acc);
		cb(&acc, ctx);
	}
	PQclear(res);
	return STORE_OK;
}

/* Check the text fields and the quota of f. */
static int fields_check(struct store *st, const struct store_dir_account_fields *f)
{
	const struct {
		const char *value, *what;
		size_t max;
	} text[] = {
		{ f->display_name, "display name", DIR_NAME_MAX },
		{ f->phone, "phone", 64 },
		{ f->department, "department", 128 },
		{ f->title, "title", 128 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(text); i++) {
		if (text[i].value == NULL)
			continue;
		if (strlen(text[i].value) > text[i].max)
			return store_fail(st, STORE_INVALID, "%s longer than %zu characters",
					  text[i].what, text[i].max);
		for (const char *p = text[i].value; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return store_fail(st, STORE_INVALID, "%s holds control characters",
						  text[i].what);
		}
	}
	uint64_t q;
	if (f->quota != NULL && str_to_u64(f->quota, strlen(f->quota), INT64_MAX, &q) < 0)
		return store_fail(st, STORE_INVALID, "quota must be a number of bytes");
	return STORE_OK;
}

int store_dir_account_update(struct store *st, const char *address,
			     const struct store_dir_account_fields *f, const char **error_r)
{
	struct dir_address a;
	PGresult *res;
	int ret = dir_address_parse(st, address, false, "account", &a);
	if (ret == STORE_OK)
		ret = fields_check(st, f);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_ACCOUNT_UPDATE, &res, a.address,
					  f->display_name, f->phone, f->department, f->title,
					  f->quota, f->is_admin, f->enabled);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	bool hit = touched(res);
	PQclear(res);
	if (!hit)
		return done(st, store_fail(st, STORE_NOTFOUND, "unknown account %s", a.address),
			    error_r);
	log_info("store: account=%s status=updated", a.address);
	return STORE_OK;
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

int store_dir_account_provision(struct store *st, const char *address,
				const struct store_dir_account_fields *f, int *created_r,
				const char **error_r)
{
	struct dir_address a;
	PGresult *res;
	*created_r = 0;
	int ret = dir_address_parse(st, address, false, "account", &a);
	if (ret == STORE_OK)
		ret = fields_check(st, f);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_DOMAIN_ENSURE, NULL, a.domain);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DIR_ACCOUNT_PROVISION, &res, a.domain,
					  a.localpart, a.address, or_empty(f->display_name),
					  f->quota != NULL ? f->quota : "0", or_empty(f->phone),
					  or_empty(f->department), or_empty(f->title),
					  f->is_admin != NULL ? f->is_admin : "false");
	if (ret == STORE_EXISTS)
		ret = store_fail(st, ret, "address %s is already used by an alias or group",
				 a.address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return done(st, store_fail(st, STORE_EXISTS, "a local account %s already exists; "
					   "left as it is", a.address), error_r);
	}
	bool inserted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	bool was_enabled = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	*created_r = inserted ? 1 : was_enabled ? 0 : 2;
	if (*created_r != 0)
		log_info("store: account=%s source=ldap status=%s", a.address,
			 inserted ? "provisioned" : "enabled");
	return STORE_OK;
}

int store_dir_account_list_source(struct store *st, const char *source,
				  void (*cb)(const char *address, bool enabled, void *ctx),
				  void *ctx, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DIR_ACCOUNT_LIST_SOURCE, &res, source);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), strcmp(PQgetvalue(res, i, 1), "t") == 0, ctx);
	PQclear(res);
	return STORE_OK;
}

int store_dir_account_disable(struct store *st, const char *address, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DIR_ACCOUNT_DISABLE, &res, address);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	bool hit = touched(res);
	PQclear(res);
	if (!hit)
		return done(st, store_fail(st, STORE_NOTFOUND, "no enabled account %s", address),
			    error_r);
	log_info("store: account=%s status=disabled", address);
	return STORE_OK;
}

int store_dir_auth_locked(struct store *st, const char *user, const char *ip,
			  uint64_t *retry_ms_r, const char **kind_r, const char **error_r)
{
	PGresult *res;
	*retry_ms_r = 0;
	*kind_r = NULL;
	int ret = store_exec_prepared(st, STMT_DIR_AUTH_LOCKED, &res, user, ip);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	if (PQntuples(res) > 0) {
		*kind_r = strcmp(PQgetvalue(res, 0, 0), "net") == 0 ? "net" : "account";
		*retry_ms_r = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
		if (*retry_ms_r == 0)
			*retry_ms_r = 1;
	}
	PQclear(res);
	return STORE_OK;
}

int store_dir_auth_failed(struct store *st, const char *kind, const char *key, unsigned max,
			  uint64_t window_ms, uint64_t lockout_ms, unsigned *failures_r,
			  uint64_t *locked_ms_r, const char **error_r)
{
	char smax[16], swindow[24], slockout[24];
	PGresult *res;
	snprintf(smax, sizeof(smax), "%u", max);
	snprintf(swindow, sizeof(swindow), "%" PRIu64, window_ms);
	snprintf(slockout, sizeof(slockout), "%" PRIu64, lockout_ms);
	*failures_r = 0;
	*locked_ms_r = 0;
	int ret = store_exec_prepared(st, STMT_DIR_AUTH_FAILED, &res, kind, key, smax, swindow,
				      slockout);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	*failures_r = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	long long left = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	*locked_ms_r = left > 0 ? (uint64_t)left : 0;
	PQclear(res);
	return STORE_OK;
}

int store_dir_auth_reset(struct store *st, const char *kind, const char *key,
			 const char **error_r)
{
	return done(st, store_exec_prepared(st, STMT_DIR_AUTH_RESET, NULL, kind, key), error_r);
}

int store_dir_auth_purge(struct store *st, uint64_t window_ms, const char **error_r)
{
	char swindow[24];
	snprintf(swindow, sizeof(swindow), "%" PRIu64, window_ms);
	return done(st, store_exec_prepared(st, STMT_DIR_AUTH_PURGE, NULL, swindow), error_r);
}
