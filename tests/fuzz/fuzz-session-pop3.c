/* Session fuzzing of the POP3 gateway: AUTHORIZATION (USER/PASS, APOP-less
 * AUTH PLAIN, held failures), TRANSACTION over the store double's INBOX
 * (STAT, LIST, UIDL, RETR with read-ahead, TOP, DELE, RSET, NOOP) and
 * UPDATE, with the maildrop lock checked released after every session.
 * See session-harness.h for the input format. */
#include "autoconf.h"
#include "session-harness.h"
#include "config.h"
#include "pop3-session.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pop3_context ctx;
	static struct fuzz_variant variants[1];
	struct fuzz_env *env = fuzz_env_get();
	if (ctx.cfg == NULL) {
		ctx.cfg = env->cfg;
		ctx.pool = env->pool;
		snprintf(ctx.hostname, sizeof(ctx.hostname), "%s", env->cfg->server.hostname);
		variants[0] = (struct fuzz_variant){ "pop3", METRICS_POP3, pop3_session_accept, &ctx,
			"USER u@fuzz.test\r\nPASS p\r\n" };
	}
	return fuzz_session_run(env, variants, 1, data, size);
}
