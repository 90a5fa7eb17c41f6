/* The include resolver (RFC 6609) shared by delivery, ManageSieve and
 * cairnctl: :personal scripts are the user's stored scripts, :global ones
 * files NAME.sieve in [sieve] global_dir. Runs on a worker (SQL, file I/O). */
#include "autoconf.h"
#include "deliver-sieve.h"
#include "store-sieve.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int deliver_sieve_include_load(struct store *st, const struct config *cfg, size_t max_size,
			       const char *account, enum sieve_include_location loc,
			       const char *name, char **source_r, size_t *len_r,
			       const char **error_r)
{
	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL)
		return 1;
	struct buf b;
	buf_init(&b, max_size);
	if (loc == SIEVE_INCLUDE_PERSONAL) {
		if (st == NULL || account == NULL) {	/* no user: no personal scripts */
			buf_free(&b);
			return 1;
		}
		int ret = store_sieve_get(st, account, name, &b, NULL, error_r);
		if (ret != STORE_OK) {
			buf_free(&b);
			return ret == STORE_NOTFOUND ? 1 : -1;
		}
	} else {
		if (cfg->sieve.global_dir[0] == '\0')
			return 1;
		char *path = xasprintf("%s/%s.sieve", cfg->sieve.global_dir, name);
		FILE *f = fopen(path, "rb");
		free(path);
		if (f == NULL) {
			*error_r = strerror(errno);
			return errno == ENOENT ? 1 : -1;
		}
		char chunk[8192];
		size_t r;
		bool too_big = false;
		while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
			too_big = too_big || buf_append(&b, chunk, r) < 0;
		fclose(f);
		if (too_big) {
			buf_free(&b);
			*error_r = "script too large";
			return -1;
		}
	}
	*len_r = b.len;
	*source_r = b.data != NULL ? b.data : xstrdup("");
	return 0;
}

int deliver_sieve_include_cb(void *ctx, enum sieve_include_location loc, const char *name,
			     char **source_r, size_t *len_r, const char **error_r)
{
	const struct deliver_sieve_include_ctx *c = ctx;
	return deliver_sieve_include_load(c->st, c->cfg, c->max_size, c->account, loc, name,
					  source_r, len_r, error_r);
}
