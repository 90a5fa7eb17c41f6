/* Until fb15's calendar/sched-freebusy.c and res15's
 * calendar/sched-resource.c are merged: weak stand-ins so that the scheduling
 * code links. A POST to a scheduling outbox answers 501; a resource gives no
 * automatic answer (its PARTSTAT stays NEEDS-ACTION, as in manual mode).
 * Delete each one when the real implementation is merged (a weak
 * definition in an archive member pulled first would hide the real one). */
#include "autoconf.h"
#include "sched-freebusy.h"
#include "sched-resource.h"

__attribute__((weak)) int sched_outbox_post(struct dav_ctx *ctx)
{
	dav_text(ctx, 501, "free/busy requests to the outbox are not available yet");
	return 501;
}

__attribute__((weak)) int sched_resource_decide(struct store *st, const struct config *cfg,
						const char *resource,
						const struct itip_message *msg,
						const char *requester,
						enum sched_res_answer *answer_r, char *why,
						size_t why_size, const char **error_r)
{
	(void)st, (void)cfg, (void)resource, (void)msg, (void)requester, (void)why, (void)why_size;
	*answer_r = SCHED_RES_MANUAL;
	*error_r = "no booking policy in this build";
	return -1;
}
