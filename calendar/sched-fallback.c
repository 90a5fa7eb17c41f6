/* Until fb15's calendar/sched-freebusy.c is merged: a weak stand-in so that
 * the scheduling code links (res15's calendar/sched-resource.c is merged, so
 * its stand-in is gone). A POST to a scheduling outbox answers 501.
 * Delete it when the real implementation is merged (a weak
 * definition in an archive member pulled first would hide the real one). */
#include "autoconf.h"
#include "sched-freebusy.h"

__attribute__((weak)) int sched_outbox_post(struct dav_ctx *ctx)
{
	dav_text(ctx, 501, "free/busy requests to the outbox are not available yet");
	return 501;
}
