/* The pure half of the resource booking policy (calendar/sched-resource.h):
 * sched_resource_judge weighs the facts sched_resource_decide gathered. No
 * SQL, no libical, so unit tests drive it with made-up requests. */
#include "autoconf.h"
#include "sched-resource.h"
#include "store-resource.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *sched_res_partstat(enum sched_res_answer answer)
{
	switch (answer) {
	case SCHED_RES_ACCEPT:
		return "ACCEPTED";
	case SCHED_RES_DECLINE:
		return "DECLINED";
	default:
		return "NEEDS-ACTION";
	}
}

static void fmt_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, size, "%" PRId64, t);
}

/* The first busy period that overlaps one of the instances (both sorted by
 * start), or NULL. */
static const struct sched_res_period *first_conflict(const struct sched_res_request *req,
						     const struct sched_res_period **inst_r)
{
	size_t b = 0;
	for (size_t i = 0; i < req->ninstances; i++) {
		const struct sched_res_period *in = &req->instances[i];
		/* busy periods ending before the first instance meet none */
		while (b < req->nbusy && req->busy[b].end <= req->instances[0].start)
			b++;
		for (size_t k = b; k < req->nbusy && req->busy[k].start < in->end; k++) {
			if (req->busy[k].end > in->start && req->busy[k].start < in->end) {
				*inst_r = in;
				return &req->busy[k];
			}
		}
	}
	return NULL;
}

enum sched_res_answer sched_resource_judge(const struct store_resource *res,
					   const struct sched_res_request *req, char *why,
					   size_t why_size)
{
	char t1[40], t2[40];
	const char *name = res->display_name[0] != '\0' ? res->display_name : res->address;
	if (!res->enabled) {
		snprintf(why, why_size, "%s is out of service", name);
		return SCHED_RES_DECLINE;
	}
	if (req->cancelled) {
		snprintf(why, why_size, "the meeting is cancelled: nothing to book");
		return SCHED_RES_ACCEPT;
	}
	if (res->policy == STORE_RES_NONE) {
		snprintf(why, why_size, "%s does not answer automatically", name);
		return SCHED_RES_MANUAL;
	}
	if (!req->requester_allowed) {
		snprintf(why, why_size, "you may not book %s", name);
		return SCHED_RES_DECLINE;
	}
	if (res->window_days > 0) {
		int64_t limit = req->now + (int64_t)res->window_days * 86400;
		if (req->unbounded) {
			snprintf(why, why_size, "%s can be booked at most %u days ahead, and this "
				 "meeting repeats without end", name, res->window_days);
			return SCHED_RES_DECLINE;
		}
		if (req->last_end > limit) {
			fmt_time(req->last_end, t1, sizeof(t1));
			snprintf(why, why_size, "%s can be booked at most %u days ahead; this "
				 "meeting %s until %s", name, res->window_days,
				 req->ninstances > 1 ? "repeats" : "lasts", t1);
			return SCHED_RES_DECLINE;
		}
	}
	if (res->capacity > 0 && req->attendees > res->capacity) {
		snprintf(why, why_size, "%s holds %u people and the meeting has %u attendees", name,
			 res->capacity, req->attendees);
		return SCHED_RES_DECLINE;
	}
	const struct sched_res_period *inst = NULL;
	const struct sched_res_period *busy = first_conflict(req, &inst);
	if (busy != NULL) {
		fmt_time(inst->start, t1, sizeof(t1));
		fmt_time(busy->start, t2, sizeof(t2));
		snprintf(why, why_size, "%s is already booked at %s (a booking from %s)", name, t1,
			 t2);
		return SCHED_RES_DECLINE;
	}
	if (res->policy == STORE_RES_MANUAL) {
		if (res->delegate[0] != '\0')
			snprintf(why, why_size, "%s is free; the booking waits for approval by %s",
				 name, res->delegate);
		else
			snprintf(why, why_size, "%s is free; the booking waits for approval", name);
		return SCHED_RES_MANUAL;
	}
	snprintf(why, why_size, "%s is free and booked", name);
	return SCHED_RES_ACCEPT;
}

