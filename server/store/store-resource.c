/* Resources (migration 0027): rooms and equipment as accounts with a
 * booking policy. Input is checked here (errors name the field, as the
 * cairnctl option and the web admin form field are called), then goes to
 * registered statements as parameters; no SQL is built from it. */
#include "autoconf.h"
#include "store-resource.h"
#include "store-private.h"
#include "store-directory.h"
#include "log.h"
#include "resource_fields.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = { "room", "equipment" };
static const char *const policy_names[] = { "auto", "manual", "none" };

const char *store_res_kind_name(enum store_res_kind kind)
{
	return (unsigned)kind < 2 ? kind_names[kind] : "room";
}

const char *store_res_policy_name(enum store_res_policy policy)
{
	return (unsigned)policy < 3 ? policy_names[policy] : "auto";
}

int store_res_kind_parse(const char *name, enum store_res_kind *kind_r)
{
	for (unsigned i = 0; i < 2; i++) {
		if (strcasecmp(name, kind_names[i]) == 0) {
			*kind_r = (enum store_res_kind)i;
			return 0;
		}
	}
	return -1;
}

int store_res_policy_parse(const char *name, enum store_res_policy *policy_r)
{
	for (unsigned i = 0; i < 3; i++) {
		if (strcasecmp(name, policy_names[i]) == 0) {
			*policy_r = (enum store_res_policy)i;
			return 0;
		}
	}
	return -1;
}

static int done(struct store *st, int ret, const char **error_r)
{
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

/* The address to look up: "mailto:" dropped, lower-cased into out; false
 * when it cannot be an address (too long, no '@'). */
static bool res_key(const char *in, char *out, size_t size)
{
	if (strncasecmp(in, "mailto:", 7) == 0)
		in += 7;
	size_t len = strlen(in);
	if (len < 3 || len >= size || strchr(in, '@') == NULL)
		return false;
	for (size_t i = 0; i <= len; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	return true;
}

/* Split the space-separated bookers column into res. */
static void res_bookers_split(struct store_resource *res, const char *list)
{
	size_t n = 0;
	for (const char *p = list; *p != '\0'; p++)
		if (*p != ' ' && (p == list || p[-1] == ' '))
			n++;
	res->bookers = n > 0 ? xcalloc(n, sizeof(*res->bookers)) : NULL;
	res->nbookers = 0;
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		const char *e = strchr(p, ' ');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		char *b = xmalloc(len + 1);
		memcpy(b, p, len);
		b[len] = '\0';
		res->bookers[res->nbookers++] = b;
		p += len;
	}
}

/* Fill res from row of a STORE_RES_COLUMNS result. */
static void res_from_row(PGresult *r, int row, struct store_resource *res)
{
	memset(res, 0, sizeof(*res));
	res->address = xstrdup(PQgetvalue(r, row, 0));
	res->display_name = xstrdup(PQgetvalue(r, row, 1));
	enum store_res_kind kind = STORE_RES_ROOM;
	(void)store_res_kind_parse(PQgetvalue(r, row, 2), &kind);
	res->kind = kind;
	res->capacity = (unsigned)strtoul(PQgetvalue(r, row, 3), NULL, 10);
	res->location = xstrdup(PQgetvalue(r, row, 4));
	enum store_res_policy policy = STORE_RES_AUTO;
	(void)store_res_policy_parse(PQgetvalue(r, row, 5), &policy);
	res->policy = policy;
	res->window_days = (unsigned)strtoul(PQgetvalue(r, row, 6), NULL, 10);
	res->everyone = PQgetvalue(r, row, 7)[0] == 't';
	res->delegate = xstrdup(PQgetvalue(r, row, 8));
	res->enabled = PQgetvalue(r, row, 9)[0] == 't';
	res->source = xstrdup(PQgetvalue(r, row, 10));
	res_bookers_split(res, PQgetvalue(r, row, 11));
}

void store_resource_free(struct store_resource *res)
{
	free(res->address);
	free(res->display_name);
	free(res->location);
	free(res->delegate);
	free(res->source);
	for (size_t i = 0; i < res->nbookers; i++)
		free(res->bookers[i]);
	free(res->bookers);
	memset(res, 0, sizeof(*res));
}

int store_resource_get(struct store *st, const char *address, struct store_resource *res_r,
		       const char **error_r)
{
	char key[321];
	PGresult *r;
	memset(res_r, 0, sizeof(*res_r));
	if (!res_key(address, key, sizeof(key)))
		return done(st, store_fail(st, STORE_NOTFOUND, "not a resource"), error_r);
	int ret = store_exec_prepared(st, STMT_RES_GET, &r, key);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return done(st, store_fail(st, STORE_NOTFOUND, "%s is not a resource", key), error_r);
	}
	res_from_row(r, 0, res_r);
	PQclear(r);
	return STORE_OK;
}

/* ---- checking input ---- */

#define RES_NAME_MAX 256
#define RES_LOCATION_MAX 256
#define RES_CAPACITY_MAX 100000
#define RES_WINDOW_MAX 36600
#define RES_BOOKERS_MAX 1000

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

static int text_check(struct store *st, const char *field, const char *v, size_t max)
{
	char buf[64];
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return store_fail(st, STORE_INVALID, "%s \"%s\": control characters are not "
					  "allowed", field, shown(v, buf, sizeof(buf)));
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	if (chars > max)
		return store_fail(st, STORE_INVALID, "%s: longer than %zu characters", field, max);
	return STORE_OK;
}

struct booker_check {
	struct store *st;
	unsigned n;
};

static int booker_check_cb(const char *addr, size_t len, void *vctx)
{
	struct booker_check *c = vctx;
	char buf[64], copy[400];
	size_t l = len < sizeof(copy) - 1 ? len : sizeof(copy) - 1;
	memcpy(copy, addr, l);
	copy[l] = '\0';
	const char *why = len > 320 ? "longer than 320 characters" : res_address_why(addr, len);
	if (why != NULL)
		return store_fail(c->st, STORE_INVALID, "bookers: \"%s\" is not an address (%s); "
				  "give addresses of users or groups, or \"everyone\"",
				  shown(copy, buf, sizeof(buf)), why);
	if (++c->n > RES_BOOKERS_MAX)
		return store_fail(c->st, STORE_INVALID, "bookers: more than %d addresses",
				  RES_BOOKERS_MAX);
	return 0;
}

int store_resource_check(struct store *st, const struct store_resource_fields *f,
			 const char **error_r)
{
	char buf[64];
	unsigned n;
	enum store_res_kind kind;
	enum store_res_policy policy;
	int ret = STORE_OK;
	if (f->display_name != NULL)
		ret = text_check(st, "name", f->display_name, RES_NAME_MAX);
	if (ret == STORE_OK && f->location != NULL)
		ret = text_check(st, "location", f->location, RES_LOCATION_MAX);
	if (ret == STORE_OK && f->kind != NULL && store_res_kind_parse(f->kind, &kind) < 0)
		ret = store_fail(st, STORE_INVALID, "kind \"%s\": must be room or equipment",
				 shown(f->kind, buf, sizeof(buf)));
	if (ret == STORE_OK && f->policy != NULL && store_res_policy_parse(f->policy, &policy) < 0)
		ret = store_fail(st, STORE_INVALID, "policy \"%s\": must be auto, manual or none",
				 shown(f->policy, buf, sizeof(buf)));
	if (ret == STORE_OK && f->capacity != NULL &&
	    !res_parse_count(f->capacity, RES_CAPACITY_MAX, &n))
		ret = store_fail(st, STORE_INVALID, "capacity \"%s\": must be a whole number of "
				 "people from 0 (no limit) to %d", shown(f->capacity, buf, sizeof(buf)),
				 RES_CAPACITY_MAX);
	if (ret == STORE_OK && f->window != NULL && !res_parse_count(f->window, RES_WINDOW_MAX, &n))
		ret = store_fail(st, STORE_INVALID, "window \"%s\": must be a whole number of days "
				 "from 0 (no limit) to %d", shown(f->window, buf, sizeof(buf)),
				 RES_WINDOW_MAX);
	if (ret == STORE_OK && f->bookers != NULL && !res_bookers_everyone(f->bookers)) {
		struct booker_check c = { st, 0 };
		ret = res_bookers_each(f->bookers, booker_check_cb, &c);
	}
	if (ret == STORE_OK && f->delegate != NULL && f->delegate[0] != '\0') {
		const char *d = f->delegate;
		if (strncasecmp(d, "mailto:", 7) == 0)
			d += 7;
		const char *why = strlen(d) > 320 ? "longer than 320 characters" :
						   res_address_why(d, strlen(d));
		if (why != NULL)
			ret = store_fail(st, STORE_INVALID, "delegate \"%s\": not an address (%s)",
					 shown(f->delegate, buf, sizeof(buf)), why);
	}
	if (ret == STORE_OK && f->enabled != NULL && strcmp(f->enabled, "true") != 0 &&
	    strcmp(f->enabled, "false") != 0)
		ret = store_fail(st, STORE_INVALID, "enabled \"%s\": must be true or false",
				 shown(f->enabled, buf, sizeof(buf)));
	return done(st, ret, error_r);
}

/* ---- changing resources ---- */

/* Lower-cased copies of the values the statements take. */
struct res_params {
	char *kind, *policy, *delegate, *everyone;
};

static char *lower_dup(const char *s)
{
	if (s == NULL)
		return NULL;
	if (strncasecmp(s, "mailto:", 7) == 0)
		s += 7;
	char *d = xstrdup(s);
	for (char *p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

static void res_params_init(struct res_params *p, const struct store_resource_fields *f)
{
	p->kind = lower_dup(f->kind);
	p->policy = lower_dup(f->policy);
	p->delegate = lower_dup(f->delegate);
	p->everyone = f->bookers == NULL ? NULL : xstrdup(res_bookers_everyone(f->bookers) ? "true" :
							 "false");
}

static void res_params_free(struct res_params *p)
{
	free(p->kind);
	free(p->policy);
	free(p->delegate);
	free(p->everyone);
}

struct booker_add {
	struct store *st;
	const char *address;
};

static int booker_add_cb(const char *addr, size_t len, void *vctx)
{
	struct booker_add *c = vctx;
	char *b = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		b[i] = (addr[i] >= 'A' && addr[i] <= 'Z') ? (char)(addr[i] - 'A' + 'a') : addr[i];
	b[len] = '\0';
	int ret = store_exec_prepared(c->st, STMT_RES_BOOKER_ADD, NULL, c->address, b);
	free(b);
	return ret;
}

/* Replace the bookers of the resource at address (lower-case) by list. */
static int res_bookers_set(struct store *st, const char *address, const char *list)
{
	int ret = store_exec_prepared(st, STMT_RES_BOOKERS_CLEAR, NULL, address);
	if (ret != STORE_OK || res_bookers_everyone(list))
		return ret;
	struct booker_add c = { st, address };
	return res_bookers_each(list, booker_add_cb, &c);
}

/* Run fn in a transaction of its own, or in the caller's. */
static int res_tx(struct store *st, int (*fn)(struct store *st, void *ctx, const char **error_r),
		  void *ctx, const char **error_r)
{
	if (st->in_tx) {
		int ret = fn(st, ctx, error_r);
		return ret;
	}
	return store_tx(st, fn, ctx, error_r);
}

struct res_op {
	const char *address;	/* lower-case */
	const struct store_resource_fields *f;
	int created;		/* provision */
};

/* Write the resource row (insert or full refresh) and the bookers. */
static int res_write(struct store *st, const char *address, const struct store_resource_fields *f)
{
	struct res_params p;
	PGresult *r;
	res_params_init(&p, f);
	int ret = store_exec_prepared(st, STMT_RES_ADD, &r, address, p.kind, f->capacity,
				      f->location, p.policy, f->window, p.everyone, p.delegate);
	res_params_free(&p);
	if (ret != STORE_OK)
		return ret;
	int rows = PQntuples(r);
	PQclear(r);
	if (rows == 0)
		return store_fail(st, STORE_NOTFOUND, "no account %s", address);
	if (f->bookers != NULL)
		ret = res_bookers_set(st, address, f->bookers);
	return ret;
}

static int res_add_tx(struct store *st, void *vctx, const char **error_r)
{
	struct res_op *op = vctx;
	int ret = store_account_add(st, op->address, "!", op->f->display_name, error_r);
	if (ret == STORE_OK)
		ret = res_write(st, op->address, op->f);
	if (ret == STORE_OK && op->f->enabled != NULL)
		ret = store_exec_prepared(st, STMT_RES_ACCOUNT_UPDATE, NULL, op->address, NULL,
					  op->f->enabled);
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

int store_resource_add(struct store *st, const char *address,
		       const struct store_resource_fields *f, const char **error_r)
{
	char key[321], buf[64];
	if (!res_key(address, key, sizeof(key)))
		return done(st, store_fail(st, STORE_INVALID, "invalid resource address \"%s\"",
					   shown(address, buf, sizeof(buf))), error_r);
	int ret = store_resource_check(st, f, error_r);
	if (ret != STORE_OK)
		return ret;
	if (f->delegate != NULL && strcasecmp(f->delegate, key) == 0)
		return done(st, store_fail(st, STORE_INVALID, "delegate: a resource cannot be its "
					   "own delegate"), error_r);
	struct res_op op = { key, f, 0 };
	ret = res_tx(st, res_add_tx, &op, error_r);
	if (ret == STORE_OK)
		log_info("store: resource=%s status=added", key);
	return ret;
}

static int res_update_tx(struct store *st, void *vctx, const char **error_r)
{
	struct res_op *op = vctx;
	const struct store_resource_fields *f = op->f;
	struct res_params p;
	PGresult *r;
	res_params_init(&p, f);
	int ret = store_exec_prepared(st, STMT_RES_UPDATE, &r, op->address, p.kind, f->capacity,
				      f->location, p.policy, f->window, p.everyone, p.delegate);
	res_params_free(&p);
	if (ret == STORE_OK) {
		int rows = PQntuples(r);
		PQclear(r);
		if (rows == 0)
			ret = store_fail(st, STORE_NOTFOUND, "%s is not a resource", op->address);
	}
	if (ret == STORE_OK && (f->display_name != NULL || f->enabled != NULL))
		ret = store_exec_prepared(st, STMT_RES_ACCOUNT_UPDATE, NULL, op->address,
					  f->display_name, f->enabled);
	if (ret == STORE_OK && f->bookers != NULL)
		ret = res_bookers_set(st, op->address, f->bookers);
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

int store_resource_update(struct store *st, const char *address,
			  const struct store_resource_fields *f, const char **error_r)
{
	char key[321];
	if (!res_key(address, key, sizeof(key)))
		return done(st, store_fail(st, STORE_NOTFOUND, "not a resource"), error_r);
	int ret = store_resource_check(st, f, error_r);
	if (ret != STORE_OK)
		return ret;
	if (f->delegate != NULL && strcasecmp(f->delegate, key) == 0)
		return done(st, store_fail(st, STORE_INVALID, "delegate: a resource cannot be its "
					   "own delegate"), error_r);
	struct res_op op = { key, f, 0 };
	return res_tx(st, res_update_tx, &op, error_r);
}

int store_resource_del(struct store *st, const char *address, const char **error_r)
{
	char key[321];
	PGresult *r;
	if (!res_key(address, key, sizeof(key)))
		return done(st, store_fail(st, STORE_NOTFOUND, "not a resource"), error_r);
	int ret = store_exec_prepared(st, STMT_RES_DEL, &r, key);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	bool gone = strcmp(PQcmdTuples(r), "0") != 0;
	PQclear(r);
	if (!gone)
		return done(st, store_fail(st, STORE_NOTFOUND, "%s is not a resource", key), error_r);
	log_info("store: resource=%s status=deleted", key);
	return STORE_OK;
}

static const char *const sort_names[] = { "address", "name", "location", "capacity", "kind" };

/* The domains as a PostgreSQL array literal (checked names only) or NULL. */
static char *domains_param(struct store *st, const char *const *domains, size_t n, int *ret_r)
{
	*ret_r = STORE_OK;
	if (domains == NULL)
		return NULL;
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len += strlen(domains[i]) + 1;
	char *s = xmalloc(len);
	size_t o = 0;
	s[o++] = '{';
	for (size_t i = 0; i < n; i++) {
		for (const char *p = domains[i]; *p != '\0'; p++) {
			char c = *p;
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			      c == '.')) {
				free(s);
				*ret_r = store_fail(st, STORE_INVALID, "invalid domain name");
				return NULL;
			}
		}
		if (domains[i][0] == '\0')
			continue;
		if (o > 1)
			s[o++] = ',';
		memcpy(s + o, domains[i], strlen(domains[i]));
		o += strlen(domains[i]);
	}
	s[o++] = '}';
	s[o] = '\0';
	return s;
}

int store_resource_list(struct store *st, const char *const *domains, size_t ndomains,
			const char *query, enum store_res_sort sort, bool desc, unsigned offset,
			unsigned limit, void (*cb)(const struct store_resource *res, void *ctx),
			void *ctx, unsigned *total_r, const char **error_r)
{
	int ret;
	char *dom = domains_param(st, domains, ndomains, &ret);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	char off[16], lim[16];
	snprintf(off, sizeof(off), "%u", offset);
	snprintf(lim, sizeof(lim), "%u", limit > 100000 ? 100000 : limit);
	PGresult *r;
	if (query == NULL)
		query = "";
	const char *sname = (unsigned)sort < ARRAY_SIZE(sort_names) ? sort_names[sort] : "address";
	ret = store_exec_prepared(st, STMT_RES_LIST, &r, dom, query, sname, desc ? "true" : "false",
				  off, lim);
	if (ret == STORE_OK) {
		for (int i = 0; i < PQntuples(r); i++) {
			struct store_resource res;
			res_from_row(r, i, &res);
			cb(&res, ctx);
			store_resource_free(&res);
		}
		PQclear(r);
	}
	if (ret == STORE_OK && total_r != NULL) {
		ret = store_exec_prepared(st, STMT_RES_COUNT, &r, dom, query);
		if (ret == STORE_OK) {
			*total_r = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
			PQclear(r);
		}
	}
	free(dom);
	return done(st, ret, error_r);
}

static int res_provision_tx(struct store *st, void *vctx, const char **error_r)
{
	struct res_op *op = vctx;
	PGresult *r;
	/* A local account (resource or not) is the admin's: left alone. */
	int ret = store_exec_prepared(st, STMT_RES_ACCOUNT_KIND, &r, op->address);
	if (ret != STORE_OK) {
		*error_r = st->error;
		return ret;
	}
	bool local = PQntuples(r) > 0 && strcmp(PQgetvalue(r, 0, 0), "local") == 0;
	PQclear(r);
	if (local)
		return done(st, store_fail(st, STORE_EXISTS, "a local account %s already exists; "
					   "left as it is", op->address), error_r);
	struct store_dir_account_fields af;
	memset(&af, 0, sizeof(af));
	af.display_name = op->f->display_name;
	ret = store_dir_account_provision(st, op->address, &af, &op->created, error_r);
	if (ret == STORE_OK)
		ret = res_write(st, op->address, op->f);
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

int store_resource_provision(struct store *st, const char *address,
			     const struct store_resource_fields *f, int *created_r,
			     const char **error_r)
{
	char key[321], buf[64];
	*created_r = 0;
	if (!res_key(address, key, sizeof(key)))
		return done(st, store_fail(st, STORE_INVALID, "invalid resource address \"%s\"",
					   shown(address, buf, sizeof(buf))), error_r);
	int ret = store_resource_check(st, f, error_r);
	if (ret != STORE_OK)
		return ret;
	struct res_op op = { key, f, 0 };
	ret = res_tx(st, res_provision_tx, &op, error_r);
	if (ret == STORE_OK)
		*created_r = op.created;
	return ret;
}

int store_resource_may_book(struct store *st, const struct store_resource *res,
			    const char *requester, bool *allowed_r, const char **error_r)
{
	char key[321];
	PGresult *r;
	*allowed_r = res->everyone;
	if (res->everyone)
		return STORE_OK;
	if (requester == NULL || !res_key(requester, key, sizeof(key)))
		return STORE_OK;
	int ret = store_exec_prepared(st, STMT_RES_MAY_BOOK, &r, res->address, key);
	if (ret != STORE_OK)
		return done(st, ret, error_r);
	*allowed_r = PQntuples(r) > 0;
	PQclear(r);
	return STORE_OK;
}
