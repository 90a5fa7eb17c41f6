/* Resources in scheduling: what kind of calendar user an address is (a room
 * or equipment from res15's directory), and the booking decision
 * (sched_resource_decide, calendar/sched-resource.c) turned into the answer
 * sched_deliver sends. */
#include "autoconf.h"
#include "sched-private.h"
#include "sched-resource.h"
#include "store-resource.h"
#include "itip.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

const char *sched_resource_type(struct store *st, const char *address)
{
	struct store_resource res;
	const char *error;
	memset(&res, 0, sizeof(res));
	if (store_resource_get(st, address, &res, &error) != STORE_OK)
		return NULL;
	const char *type = res.kind == STORE_RES_ROOM ? "ROOM" : "RESOURCE";
	store_resource_free(&res);
	return type;
}

int sched_resource_answer(struct store *st, const struct config *cfg, const char *account,
			  const struct itip_message *msg, int *answer_r, char *why, size_t size,
			  const char **error_r)
{
	*answer_r = -1;
	struct store_resource res;
	memset(&res, 0, sizeof(res));
	int ret = store_resource_get(st, account, &res, error_r);
	if (ret != STORE_OK)
		return ret;
	store_resource_free(&res);
	const char *requester = itip_organizer_sent_by(msg);
	if (requester == NULL)
		requester = itip_organizer(msg);
	enum sched_res_answer answer;
	if (sched_resource_decide(st, cfg, account, msg, requester != NULL ? requester : "",
				  &answer, why, size, error_r) < 0) {
		log_warn("sched: resource %s: no decision: %s", account, *error_r);
		return STORE_OK;	/* left NEEDS-ACTION */
	}
	if (answer == SCHED_RES_ACCEPT)
		*answer_r = 0;
	else if (answer == SCHED_RES_DECLINE)
		*answer_r = 1;
	return STORE_OK;
}
