/* Session fuzzing of the IMAP gateway: from the greeting through LOGIN or
 * AUTHENTICATE to the selected state (h[3] picks "logged in" or "INBOX
 * selected" as the prelude), every command family over the store double
 * (FETCH, STORE, SEARCH, SORT/THREAD, APPEND with literals and CATENATE,
 * COPY/MOVE, EXPUNGE, IDLE/DONE with notifications, NOTIFY, ACL, QUOTA,
 * METADATA, URLAUTH, COMPRESS). See session-harness.h for the input format. */
#include "autoconf.h"
#include "session-harness.h"
#include "config.h"
#include "imap-session.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imap_context ctx;
	static struct fuzz_variant variants[2];
	struct fuzz_env *env = fuzz_env_get();
	if (ctx.cfg == NULL) {
		ctx.cfg = env->cfg;
		ctx.pool = env->pool;
		ctx.notify = env->notify;
		snprintf(ctx.hostname, sizeof(ctx.hostname), "%s", env->cfg->server.hostname);
		variants[0] = (struct fuzz_variant){ "selected", METRICS_IMAP, imap_session_accept,
			&ctx, "a LOGIN u@fuzz.test p\r\nb SELECT INBOX\r\n" };
		variants[1] = (struct fuzz_variant){ "authenticated", METRICS_IMAP,
			imap_session_accept, &ctx, "a LOGIN u@fuzz.test p\r\n" };
	}
	return fuzz_session_run(env, variants, 2, data, size);
}
