/* In-memory double of store-sieve.h for fuzz-session-managesieve: one
 * account's scripts in a small table, with the quota, activation, delete
 * and rename rules of the real store-sieve.c, so the session's every reply
 * path is reachable. Script names starting with "tempfail" fail as a
 * database outage would. Reset before each input (fuzz_msieve_reset). */
#include "autoconf.h"
#include "store-sieve.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SCRIPTS 8

struct script {
	char *name;
	struct buf content;
	bool active;
};

static struct script scripts[MAX_SCRIPTS];

void fuzz_msieve_reset(void);

void fuzz_msieve_reset(void)
{
	for (size_t i = 0; i < MAX_SCRIPTS; i++) {
		free(scripts[i].name);
		buf_free(&scripts[i].content);
		memset(&scripts[i], 0, sizeof(scripts[i]));
	}
}

static int failed(const char **error_r, int ret, const char *msg)
{
	*error_r = msg;
	return ret;
}

static bool tempfail(const char *name)
{
	return name != NULL && strncmp(name, "tempfail", 8) == 0;
}

static struct script *find(const char *name)
{
	for (size_t i = 0; i < MAX_SCRIPTS; i++)
		if (scripts[i].name != NULL && strcmp(scripts[i].name, name) == 0)
			return &scripts[i];
	return NULL;
}

int store_sieve_list(struct store *st, const char *address,
		     void (*cb)(const char *name, bool active, uint64_t size, void *ctx),
		     void *ctx, const char **error_r)
{
	(void)st;
	(void)address;
	(void)error_r;
	for (size_t i = 0; i < MAX_SCRIPTS; i++)
		if (scripts[i].name != NULL)
			cb(scripts[i].name, scripts[i].active, scripts[i].content.len, ctx);
	return STORE_OK;
}

int store_sieve_get(struct store *st, const char *address, const char *name, struct buf *out,
		    bool *active_r, const char **error_r)
{
	(void)st;
	(void)address;
	if (tempfail(name))
		return failed(error_r, STORE_TEMPFAIL, "fuzz double: database down");
	struct script *s = find(name);
	if (s == NULL)
		return failed(error_r, STORE_NOTFOUND, "no such script");
	buf_append(out, s->content.data != NULL ? s->content.data : "", s->content.len);
	if (active_r != NULL)
		*active_r = s->active;
	return STORE_OK;
}

static int space(const char *name, uint64_t size, const struct store_sieve_limits *lim,
		 const char **error_r)
{
	uint64_t n = 0, bytes = 0;
	for (size_t i = 0; i < MAX_SCRIPTS; i++) {
		if (scripts[i].name != NULL && strcmp(scripts[i].name, name) != 0) {
			n++;
			bytes += scripts[i].content.len;
		}
	}
	if (n + 1 > MAX_SCRIPTS || (lim->max_scripts > 0 && n + 1 > lim->max_scripts))
		return failed(error_r, STORE_OVERQUOTA, "at most 8 scripts allowed");
	if (lim->max_total_size > 0 && bytes + size > lim->max_total_size)
		return failed(error_r, STORE_OVERQUOTA, "scripts would use too much");
	return STORE_OK;
}

int store_sieve_havespace(struct store *st, const char *address, const char *name,
			  uint64_t size, const struct store_sieve_limits *lim,
			  const char **error_r)
{
	(void)st;
	(void)address;
	if (tempfail(name))
		return failed(error_r, STORE_TEMPFAIL, "fuzz double: database down");
	return space(name, size, lim, error_r);
}

int store_sieve_put(struct store *st, const char *address, const char *name,
		    const char *content, size_t len, const struct store_sieve_limits *lim,
		    const char **error_r)
{
	(void)st;
	(void)address;
	if (tempfail(name))
		return failed(error_r, STORE_TEMPFAIL, "fuzz double: database down");
	int ret = space(name, len, lim, error_r);
	if (ret != STORE_OK)
		return ret;
	struct script *s = find(name);
	for (size_t i = 0; s == NULL && i < MAX_SCRIPTS; i++) {
		if (scripts[i].name == NULL) {
			s = &scripts[i];
			s->name = xstrdup(name);
			buf_init(&s->content, 0);
		}
	}
	buf_reset(&s->content);
	buf_append(&s->content, content, len);
	return STORE_OK;
}

int store_sieve_activate(struct store *st, const char *address, const char *name,
			 const char **error_r)
{
	(void)st;
	(void)address;
	if (tempfail(name))
		return failed(error_r, STORE_TEMPFAIL, "fuzz double: database down");
	struct script *s = name != NULL && name[0] != '\0' ? find(name) : NULL;
	if (name != NULL && name[0] != '\0' && s == NULL)
		return failed(error_r, STORE_NOTFOUND, "no such script");
	for (size_t i = 0; i < MAX_SCRIPTS; i++)
		scripts[i].active = false;
	if (s != NULL)
		s->active = true;
	return STORE_OK;
}

int store_sieve_delete(struct store *st, const char *address, const char *name,
		       const char **error_r)
{
	(void)st;
	(void)address;
	if (tempfail(name))
		return failed(error_r, STORE_TEMPFAIL, "fuzz double: database down");
	struct script *s = find(name);
	if (s == NULL)
		return failed(error_r, STORE_NOTFOUND, "no such script");
	if (s->active)
		return failed(error_r, STORE_CONFLICT, "active");
	free(s->name);
	buf_free(&s->content);
	memset(s, 0, sizeof(*s));
	return STORE_OK;
}

int store_sieve_rename(struct store *st, const char *address, const char *old_name,
		       const char *new_name, const char **error_r)
{
	(void)st;
	(void)address;
	if (tempfail(old_name))
		return failed(error_r, STORE_TEMPFAIL, "fuzz double: database down");
	struct script *s = find(old_name);
	if (s == NULL)
		return failed(error_r, STORE_NOTFOUND, "no such script");
	if (strcmp(old_name, new_name) != 0 && find(new_name) != NULL)
		return failed(error_r, STORE_EXISTS, "exists");
	free(s->name);
	s->name = xstrdup(new_name);
	return STORE_OK;
}
