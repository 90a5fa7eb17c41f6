/* Resources (migration 0027): rooms and equipment as accounts with a
 * booking policy. Input is checked here (errors name the field, as the
 * cairnctl option and the web admin form field are called), then goes to
 * registered statements as parameters; no SQL is built from it. */
#include "autoconf.h"
#include "store-resource.h"
#include "store-private.h"
#include "log.h"

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
