/* Session fuzzing of the ManageSieve gateway (RFC 5804): the greeting,
 * AUTHENTICATE (with SASL continuations and held failures), then the
 * script commands with literals of every size, over the in-memory script
 * store of fuzz-managesieve-store.c and the real Sieve compiler. See
 * session-harness.h for the input format. */
#include "autoconf.h"
#include "session-harness.h"
#include "config.h"
#include "managesieve-session.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_msieve_reset(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct managesieve_context ctx;
	static struct fuzz_variant variants[1];
	struct fuzz_env *env = fuzz_env_get();
	if (ctx.cfg == NULL) {
		env->cfg->managesieve.plaintext_auth = true;
		env->cfg->sieve.max_script_size = 4096;
		env->cfg->sieve.max_total_size = 16384;
		ctx.cfg = env->cfg;
		ctx.pool = env->pool;
		snprintf(ctx.hostname, sizeof(ctx.hostname), "%s", env->cfg->server.hostname);
		variants[0] = (struct fuzz_variant){ "managesieve", METRICS_MANAGESIEVE,
			managesieve_session_accept, &ctx,
			"AUTHENTICATE \"PLAIN\" \"AHVAZnV6ei50ZXN0AHA=\"\r\n" };
	}
	fuzz_msieve_reset();
	int ret = fuzz_session_run(env, variants, 1, data, size);
	fuzz_msieve_reset();
	return ret;
}
