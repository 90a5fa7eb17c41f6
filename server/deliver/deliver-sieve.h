/* Sieve at delivery (issue 16): for every local recipient of a message, the
 * admin's global-before script, the user's active script and the global-
 * after script run (sieve-exec), and their result is carried out in the
 * delivery transaction: fileinto/keep with flags into the right mailboxes,
 * discard, reject (refused at SMTP/LMTP time, else a DSN), edited headers,
 * redirects and vacation replies through the outbound queue (with loop
 * detection, a daily cap per user and SRS), duplicate tracking. A script
 * error keeps the message in INBOX and is logged: mail is never lost. */
#ifndef CAIRN_DELIVER_SIEVE_H
#define CAIRN_DELIVER_SIEVE_H

#include "config.h"
#include "sieve.h"

#include <string.h>

/* The limits of the Sieve language as cairn.conf configures them. */
static inline void deliver_sieve_limits(const struct config *cfg, struct sieve_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_script_size = (size_t)cfg->sieve.max_script_size;
	l->max_redirects = (unsigned)cfg->sieve.max_redirects;
	l->vacation_min_period = cfg->sieve.vacation_min_period_ms / 1000;
	l->vacation_max_period = cfg->sieve.vacation_max_period_ms / 1000;
	l->vacation_default_period = cfg->sieve.vacation_default_period_ms / 1000;
	sieve_limits_fill(l);
}

struct store;

/* The include resolver (RFC 6609) for account: :personal scripts are its
 * stored scripts, :global ones files NAME.sieve in [sieve] global_dir (at
 * most max_size bytes). Returns as sieve_include_fn: 0 with *source_r
 * (malloc'ed), 1 when there is no such script, -1 with *error_r. On a
 * worker (SQL, file I/O). Used at delivery, by ManageSieve and cairnctl. */
int deliver_sieve_include_load(struct store *st, const struct config *cfg, size_t max_size,
			       const char *account, enum sieve_include_location loc,
			       const char *name, char **source_r, size_t *len_r,
			       const char **error_r);

/* A sieve_include_fn over deliver_sieve_include_load, for
 * sieve_compile_params.include (ctx: a struct deliver_sieve_include_ctx). */
struct deliver_sieve_include_ctx {
	struct store *st;
	const struct config *cfg;
	size_t max_size;
	const char *account;
};
int deliver_sieve_include_cb(void *ctx, enum sieve_include_location loc, const char *name,
			     char **source_r, size_t *len_r, const char **error_r);

/* Install the Sieve stage into the delivery pipeline (deliver.c's hook)
 * for this configuration; call once before the worker pool starts. Loads
 * and checks the global scripts: -1 with *error_r when one does not compile
 * or cannot be read. */
int deliver_sieve_setup(const struct config *cfg, char **error_r);
/* Release what deliver_sieve_setup built (the cache, the global scripts). */
void deliver_sieve_cleanup(void);

#endif
