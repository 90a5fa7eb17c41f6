/* The booking policy of resources (rooms, equipment): what a resource
 * answers to a scheduling REQUEST (issue 15 item 4). sched_deliver (sched15)
 * calls sched_resource_decide for a resource recipient, stores the answer
 * as the resource's PARTSTAT and puts `why` in the REPLY's COMMENT. The
 * judgement itself (sched_resource_judge) is pure, for unit tests. */
#ifndef CAIRN_SCHED_RESOURCE_H
#define CAIRN_SCHED_RESOURCE_H

#include "util.h"

struct config;
struct store;
struct itip_message;
struct store_resource;

enum sched_res_answer { SCHED_RES_ACCEPT, SCHED_RES_DECLINE, SCHED_RES_MANUAL };

/* Decide a resource's answer to a REQUEST from requester (the organizer or its SENT-BY):
   free -> ACCEPT, conflict -> DECLINE, outside the booking window or not allowed -> DECLINE,
   manual-approval mode -> MANUAL (left NEEDS-ACTION for the delegate). why: a human reason.
   Also DECLINE when the request has more attendees than the resource's capacity. Runs
   inside the caller's store transaction. Returns 0, or -1 with *error_r (not a resource,
   database failure, unusable message). */
int sched_resource_decide(struct store *st, const struct config *cfg, const char *resource,
			  const struct itip_message *msg, const char *requester,
			  enum sched_res_answer *answer_r, char *why, size_t why_size,
			  const char **error_r);

/* One instance of the request, UTC seconds [start, end). */
struct sched_res_period {
	int64_t start, end;
};

/* The facts about one request that the policy weighs. */
struct sched_res_request {
	int64_t now;			/* UTC seconds */
	const struct sched_res_period *instances;	/* the request's instances, sorted */
	size_t ninstances;
	bool unbounded;			/* recurs without end (instances: the first ones) */
	int64_t last_end;		/* end of the last instance (INT64_MAX when unbounded) */
	unsigned attendees;		/* people (CUTYPE not ROOM/RESOURCE), organizer included */
	bool requester_allowed;		/* store_resource_may_book */
	bool cancelled;			/* STATUS:CANCELLED: nothing to book */
	const struct sched_res_period *busy;	/* the resource's busy time (other UIDs), sorted */
	size_t nbusy;
};

/* The policy: ACCEPT, DECLINE or MANUAL for req against res, with a human
 * reason in why (always set). Pure. */
enum sched_res_answer sched_resource_judge(const struct store_resource *res,
					   const struct sched_res_request *req, char *why,
					   size_t why_size);

/* "ACCEPTED", "DECLINED" or "NEEDS-ACTION": the PARTSTAT for an answer. */
const char *sched_res_partstat(enum sched_res_answer answer);

#endif
