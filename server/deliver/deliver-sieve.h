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

/* Install the Sieve stage into the delivery pipeline (deliver.c's hook)
 * for this configuration; call once before the worker pool starts. Loads
 * and checks the global scripts: -1 with *error_r when one does not compile
 * or cannot be read. */
int deliver_sieve_setup(const struct config *cfg, char **error_r);
/* Release what deliver_sieve_setup built (the cache, the global scripts). */
void deliver_sieve_cleanup(void);

#endif
