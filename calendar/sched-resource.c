/* The booking policy of resources: what a room or a piece of equipment
 * answers to a REQUEST. sched_resource_decide gathers the facts (the
 * resource's settings, the request's instances and attendees, who asks, the
 * resource's own bookings over the same time) and sched_resource_judge, which
 * is pure, weighs them. Runs on a worker inside sched_deliver's transaction. */
#include "autoconf.h"
#include "sched-resource.h"
#include "ical-private.h"
#include "itip.h"
#include "log.h"
#include "store-dav.h"
#include "store-resource.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Without a booking window, an endless recurrence is checked this far ahead. */
#define RES_HORIZON (366 * 86400LL)

/* ---- gathering the facts ---- */

struct periods {
	struct sched_res_period *v;
	size_t n, cap;
};

static void periods_add(struct periods *p, int64_t start, int64_t end)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n].start = start;
	p->v[p->n++].end = end;
}

static int period_cmp(const void *a, const void *b)
{
	const struct sched_res_period *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start ? 1 :
	       x->end < y->end ? -1 : x->end > y->end ? 1 : 0;
}

struct inst_ctx {
	struct ical_object *obj;
	struct periods *out;
	int64_t from, to;
	bool honour_transp;	/* stored bookings: TRANSPARENT and CANCELLED take no time */
};

static int inst_cb(const struct ical_inst *inst, void *vctx)
{
	struct inst_ctx *c = vctx;
	icalcomponent *comp = inst->comp;
	bool has_end;
	if (!inst->has_start)
		return 0;
	icalproperty *p = icalcomponent_get_first_property(comp, ICAL_STATUS_PROPERTY);
	if (p != NULL && icalproperty_get_status(p) == ICAL_STATUS_CANCELLED)
		return 0;
	if (c->honour_transp) {
		p = icalcomponent_get_first_property(comp, ICAL_TRANSP_PROPERTY);
		if (p != NULL && icalproperty_get_transp(p) == ICAL_TRANSP_TRANSPARENT)
			return 0;
	}
	int64_t end = ical_comp_end_utc(c->obj, comp, inst, NULL, &has_end);
	if (!has_end) {
		if (!inst->start.is_date)
			end = inst->start_utc;	/* an instant */
		else
			end = ical_time_utc(icaltime_add(inst->start, icaldurationtype_from_int(86400)),
					    NULL);
	}
	if (end < c->from || inst->start_utc >= c->to)
		return 0;
	/* an instant still occupies the room for that moment */
	periods_add(c->out, inst->start_utc, end > inst->start_utc ? end : inst->start_utc + 1);
	return 0;
}

/* Does comp name address as an ATTENDEE whose PARTSTAT is DECLINED? */
static bool declined_by(icalcomponent *comp, const char *address)
{
	for (icalproperty *p = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(comp, ICAL_ATTENDEE_PROPERTY)) {
		const char *v = icalproperty_get_attendee(p);
		if (v == NULL)
			continue;
		if (str_ncasecmp(v, "mailto:", 7) == 0)
			v += 7;
		if (str_casecmp(v, address) != 0)
			continue;
		icalparameter *ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
		return ps != NULL && icalparameter_get_partstat(ps) == ICAL_PARTSTAT_DECLINED;
	}
	return false;
}

/* The request's facts from its components. */
struct req_facts {
	unsigned attendees;
	bool cancelled;
};

static void count_attendees(struct ical_object *obj, const char *organizer, struct req_facts *f)
{
	unsigned best = 0;
	bool all_cancelled = true, any = false;
	for (icalcomponent *c = icalcomponent_get_first_component(obj->vcal, obj->kind); c != NULL;
	     c = icalcomponent_get_next_component(obj->vcal, obj->kind)) {
		any = true;
		icalproperty *st = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
		if (st == NULL || icalproperty_get_status(st) != ICAL_STATUS_CANCELLED)
			all_cancelled = false;
		unsigned n = 0;
		bool organizer_seen = false;
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
			icalparameter *cu = icalproperty_get_first_parameter(p, ICAL_CUTYPE_PARAMETER);
			if (cu != NULL && (icalparameter_get_cutype(cu) == ICAL_CUTYPE_ROOM ||
					   icalparameter_get_cutype(cu) == ICAL_CUTYPE_RESOURCE))
				continue;
			icalparameter *ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
			if (ps != NULL && icalparameter_get_partstat(ps) == ICAL_PARTSTAT_DECLINED)
				continue;
			const char *v = icalproperty_get_attendee(p);
			if (v != NULL && str_ncasecmp(v, "mailto:", 7) == 0)
				v += 7;
			if (v != NULL && organizer != NULL && str_casecmp(v, organizer) == 0)
				organizer_seen = true;
			n++;
		}
		if (organizer != NULL && !organizer_seen)
			n++;	/* the organizer comes too */
		if (n > best)
			best = n;
	}
	f->attendees = best;
	f->cancelled = any && all_cancelled;
}

struct busy_ctx {
	struct store *st;
	const char *uid;
	const char *resource;
	const struct ical_limits *lim;
	struct periods *busy;
	int64_t from, to;
	const char *error;
};

static void busy_obj_cb(const struct store_dav_obj *o, void *vctx)
{
	struct busy_ctx *c = vctx;
	struct ical_object *obj = NULL;
	struct ical_error err;
	if (c->error != NULL || o->data == NULL)
		return;
	if (c->uid != NULL && strcmp(o->uid, c->uid) == 0)
		return;	/* the same meeting moved: it does not conflict with itself */
	if (ical_object_load(o->data, o->len, c->lim, &obj, &err) < 0)
		return;	/* stored before, unreadable now: takes no time */
	if (obj->kind == ICAL_VEVENT_COMPONENT) {
		icalcomponent *first = icalcomponent_get_first_component(obj->vcal, obj->kind);
		/* a booking the resource declined (kept in its calendar) is free time */
		if (first == NULL || !declined_by(first, c->resource)) {
			struct inst_ctx ic = { obj, c->busy, c->from, c->to, true };
			uint64_t work = 0;
			if (ical_foreach_instance(obj, NULL, c->from, c->to, c->lim, &work, inst_cb,
						  &ic, &err) < 0)
				log_warn("sched: resource=%s object=%s status=skipped: %s", c->resource,
					 o->name, err.text);
		}
	}
	ical_object_free(&obj);
}

struct coll_ctx {
	uint64_t *ids;
	size_t n;
};

static void coll_cb(const struct store_dav_coll *coll, void *vctx)
{
	struct coll_ctx *c = vctx;
	/* calendars only: not the scheduling inbox and outbox */
	if (strcmp(coll->kind, "calendar") != 0)
		return;
	c->ids = xrealloc(c->ids, (c->n + 1) * sizeof(*c->ids));
	c->ids[c->n++] = coll->id;
}

/* The resource's busy time over [from, to), bookings of uid left out. */
static int resource_busy(struct store *st, const char *resource, const char *uid, int64_t from,
			 int64_t to, const struct ical_limits *lim, struct periods *busy,
			 const char **error_r)
{
	struct coll_ctx cc = { NULL, 0 };
	int ret = store_dav_coll_list(st, resource, "calendars", coll_cb, &cc, error_r);
	for (size_t i = 0; ret == STORE_OK && i < cc.n; i++) {
		struct busy_ctx bc = { st, uid, resource, lim, busy, from, to, NULL };
		ret = store_dav_obj_range(st, cc.ids[i], "VEVENT", from, to, true, busy_obj_cb, &bc,
					  error_r);
	}
	free(cc.ids);
	if (ret == STORE_NOTFOUND)
		ret = STORE_OK;	/* no calendars yet: free */
	return ret;
}

int sched_resource_decide(struct store *st, const struct config *cfg, const char *resource,
			  const struct itip_message *msg, const char *requester,
			  enum sched_res_answer *answer_r, char *why, size_t why_size,
			  const char **error_r)
{
	struct store_resource res;
	struct ical_limits lim;
	struct ical_error err;
	struct ical_object *obj = NULL;
	struct periods inst = { NULL, 0, 0 }, busy = { NULL, 0, 0 };
	struct ical_index idx;
	(void)cfg;
	*answer_r = SCHED_RES_MANUAL;
	if (why_size > 0)
		why[0] = '\0';
	int ret = store_resource_get(st, resource, &res, error_r);
	if (ret != STORE_OK)
		return -1;
	enum itip_method m = itip_method(msg);
	if (m != ITIP_REQUEST && m != ITIP_ADD) {
		store_resource_free(&res);
		*error_r = "a resource only answers REQUEST and ADD";
		return -1;
	}
	ical_limits_default(&lim);
	size_t len;
	char *text = itip_to_string(msg, &len);
	if (text == NULL || ical_object_load(text, len, &lim, &obj, &err) < 0) {
		free(text);
		store_resource_free(&res);
		*error_r = "the request cannot be read as a calendar object";
		return -1;
	}
	free(text);
	memset(&idx, 0, sizeof(idx));
	if (ical_object_index(obj, NULL, &lim, &idx, &err) < 0) {
		ical_object_free(&obj);
		store_resource_free(&res);
		snprintf(why, why_size, "the request is too large to check: %s", err.text);
		*answer_r = SCHED_RES_DECLINE;
		return 0;
	}
	int64_t now = (int64_t)time(NULL);
	struct req_facts facts = { 0, false };
	count_attendees(obj, itip_organizer(msg), &facts);
	/* the instances that matter: from now to the last end (an endless
	 * recurrence: as far as the window, or a year, reaches) */
	bool unbounded = idx.last_end == ICAL_TIME_MAX;
	int64_t to = unbounded ? now + (res.window_days > 0 ? (int64_t)res.window_days * 86400 :
					RES_HORIZON) : idx.last_end;
	if (!unbounded && res.window_days > 0 && to > now + (int64_t)res.window_days * 86400)
		to = now + (int64_t)res.window_days * 86400 + 1;	/* declined anyway */
	struct inst_ctx ic = { obj, &inst, now, to, false };
	uint64_t work = 0;
	bool too_many = to > now &&
			ical_foreach_instance(obj, NULL, now, to, &lim, &work, inst_cb, &ic, &err) < 0;
	if (!too_many && inst.n > 0) {
		qsort(inst.v, inst.n, sizeof(*inst.v), period_cmp);
		ret = resource_busy(st, res.address, ical_object_uid(obj), inst.v[0].start,
				    inst.v[inst.n - 1].end, &lim, &busy, error_r);
		if (busy.n > 0)
			qsort(busy.v, busy.n, sizeof(*busy.v), period_cmp);
	}
	bool allowed = false;
	if (ret == STORE_OK)
		ret = store_resource_may_book(st, &res, requester, &allowed, error_r);
	if (ret == STORE_OK) {
		struct sched_res_request req = {
			.now = now, .instances = inst.v, .ninstances = inst.n,
			.unbounded = unbounded, .last_end = idx.last_end,
			.attendees = facts.attendees, .requester_allowed = allowed,
			.cancelled = facts.cancelled, .busy = busy.v, .nbusy = busy.n,
		};
		if (too_many) {
			snprintf(why, why_size, "the meeting has more instances than can be checked "
				 "(%u)", lim.max_instances);
			*answer_r = SCHED_RES_DECLINE;
		} else {
			*answer_r = sched_resource_judge(&res, &req, why, why_size);
		}
		log_info("sched: resource=%s uid=%s requester=%s answer=%s why=\"%s\"", res.address,
			 ical_object_uid(obj), requester != NULL ? requester : "",
			 sched_res_partstat(*answer_r), why);
	}
	ical_index_free(&idx);
	ical_object_free(&obj);
	free(inst.v);
	free(busy.v);
	store_resource_free(&res);
	return ret == STORE_OK ? 0 : -1;
}
