/* The iMIP leg of implicit scheduling: a recipient that is no local
 * calendar user gets the message as mail (imip_send, server/deliver/imip.c)
 * through the outbound queue, inside the same transaction. A room's
 * automatic answer goes out as an automatic message (imip_send_auto: no
 * answer loops, at most one per period). */
#include "autoconf.h"
#include "sched-private.h"
#include "imip.h"
#include "itip.h"
#include "log.h"

#include <stdio.h>

static __thread bool sending_auto;

bool sched_auto_sending(bool on)
{
	bool was = sending_auto;
	sending_auto = on;
	return was;
}

int sched_send_external(struct store *st, const struct config *cfg, const char *from,
			const char *sent_by, const struct itip_out *out, const char *summary,
			char status_r[16], const char **error_r)
{
	int ret = sending_auto ?
		imip_send_auto(st, cfg, from, sent_by, out->recipient, out, summary, error_r) :
		imip_send(st, cfg, from, sent_by, out->recipient, out, summary, error_r);
	if (ret != STORE_OK) {
		if (ret == STORE_INVALID) {
			/* the address cannot take mail: the attendee is unreachable */
			log_info("sched: iMIP to %s refused: %s", out->recipient, *error_r);
			snprintf(status_r, 16, "3.7");
			return STORE_OK;
		}
		return ret;
	}
	snprintf(status_r, 16, "1.1");	/* RFC 6638 3.2.9: sent */
	return STORE_OK;
}
