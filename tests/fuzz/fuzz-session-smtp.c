/* Session fuzzing of the SMTP gateway: MX, submission and LMTP sessions
 * (h[3] picks one) from the greeting through EHLO/AUTH, MAIL, RCPT,
 * DATA/BDAT and the delivery job into the store double (the real
 * server/deliver pipeline), with resets, half-closes, timeouts and
 * shutdowns at any point. See session-harness.h for the input format. */
#include "autoconf.h"
#include "session-harness.h"
#include "config.h"
#include "smtp-session.h"
#include "../deliver/deliver.h"

#include <stdio.h>
#include <string.h>

/* The scan stage's verdicts, chosen by the message: a header names them. */
static void fuzz_scan(const struct deliver_envelope *env, const char *data, size_t size,
		      struct deliver_verdict *verdict_r)
{
	(void)env;
	if (memmem(data, size, "X-Fuzz-Reject", 13) != NULL) {
		verdict_r->reject = true;
		snprintf(verdict_r->reason, sizeof(verdict_r->reason), "fuzz says no");
	} else if (memmem(data, size, "X-Fuzz-Tempfail", 15) != NULL) {
		verdict_r->tempfail = true;
		snprintf(verdict_r->reason, sizeof(verdict_r->reason), "scanner down");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_context ctx;
	static struct fuzz_variant variants[3];
	struct fuzz_env *env = fuzz_env_get();
	if (ctx.cfg == NULL) {
		/* Reach the optional checks and the limits within a few lines. */
		env->cfg->submission.check_from = true;
		env->cfg->smtp.vrfy = true;
		env->cfg->smtp.max_recipients = 6;
		env->cfg->smtp.max_messages = 4;
		deliver_set_scan_hook(fuzz_scan);
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
