/* Session fuzzing of the HTTP gateway: keep-alive request sequences
 * (GET /healthz with its store job, /metrics, pipelining, bodies with
 * Content-Length and chunked transfer coding, errors that close) with
 * resets, half-closes and timeouts anywhere. The prelude is one healthz
 * request. See session-harness.h for the input format. */
#include "autoconf.h"
#include "session-harness.h"
#include "config.h"
#include "http-session.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_context ctx;
	static struct fuzz_variant variants[1];
	struct fuzz_env *env = fuzz_env_get();
	if (ctx.cfg == NULL) {
		ctx.cfg = env->cfg;
		ctx.pool = env->pool;
		variants[0] = (struct fuzz_variant){ "http", METRICS_HTTP, http_session_accept, &ctx,
			"GET /healthz HTTP/1.1\r\nHost: mx.fuzz.test\r\n\r\n" };
	}
	return fuzz_session_run(env, variants, 1, data, size);
}
