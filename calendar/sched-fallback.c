/* Until res15's calendar/sched-resource.c is merged: a weak stand-in so
 * that the scheduling code links (fb15's sched_outbox_post is merged). A
 * resource gives no automatic answer (its PARTSTAT stays NEEDS-ACTION, as in manual mode).
 * Delete each one when the real implementation is merged (a weak
 * definition in an archive member pulled first would hide the real one). */
#include "autoconf.h"
#include "sched-resource.h"

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
