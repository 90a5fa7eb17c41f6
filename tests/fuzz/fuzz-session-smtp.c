/* Session fuzzing of the SMTP gateway: MX, submission and LMTP sessions
 * (h[3] picks one) from the greeting through EHLO/AUTH, MAIL, RCPT,
 * DATA/BDAT and the delivery job into the store double (the real
 * server/deliver pipeline), with resets, half-closes, timeouts and
 * shutdowns at any point. See session-harness.h for the input format. */
#include "autoconf.h"
#include "session-harness.h"
#include "config.h"
#include "smtp-session.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_context ctx;
	static struct fuzz_variant variants[3];
	struct fuzz_env *env = fuzz_env_get();
	if (ctx.cfg == NULL) {
		ctx.cfg = env->cfg;
		ctx.pool = env->pool;
		snprintf(ctx.hostname, sizeof(ctx.hostname), "%s", env->cfg->server.hostname);
		variants[0] = (struct fuzz_variant){ "mx", METRICS_SMTP, smtp_session_accept_mx,
			&ctx, "EHLO client.example.test\r\n" };
		variants[1] = (struct fuzz_variant){ "submission", METRICS_SUBMISSION,
			smtp_session_accept_submission, &ctx,
			"EHLO client.example.test\r\nAUTH PLAIN AHVAZnV6ei50ZXN0AHA=\r\n" };
		variants[2] = (struct fuzz_variant){ "lmtp", METRICS_SMTP, smtp_session_accept_lmtp,
			&ctx, "LHLO client.example.test\r\n" };
	}
	return fuzz_session_run(env, variants, 3, data, size);
}
