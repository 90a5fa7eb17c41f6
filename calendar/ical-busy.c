/* Free/busy for scheduling, the pure part (see ical-busy.h): the busy time
 * one object gives its owner, period lists, VAVAILABILITY (RFC 7953) and
 * the VFREEBUSY reply. Instances come from calendar/ical's iterator, so
 * recurrence (RRULE, RDATE, EXDATE, overrides, THISANDFUTURE) and time zones
 * behave exactly as in calendar-query and free-busy-query. */
#include "autoconf.h"
#include "ical-busy.h"
#include "ical-private.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- period lists ------------------------------------------------------ */

void ical_busy_add(struct ical_busy_list *l, int64_t start, int64_t end, int type)
{
	int base = type >= ICAL_BUSY_DECLINED ? type - ICAL_BUSY_DECLINED : type;

	if (end <= start || base < ICAL_FB_BUSY || base >= ICAL_FB_FREE)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->p = xrealloc(l->p, l->cap * sizeof(*l->p));
	}
	l->p[l->n].start = start;
	l->p[l->n].end = end;
	l->p[l->n++].type = type;
}

void ical_busy_clip(struct ical_busy_list *l, int64_t start, int64_t end)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct ical_busy_period p = l->p[i];

		if (p.start < start)
			p.start = start;
		if (p.end > end)
			p.end = end;
		if (p.end > p.start)
			l->p[k++] = p;
	}
	l->n = k;
}

static int by_type_start(const void *a, const void *b)
{
	const struct ical_busy_period *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

static int by_start_type(const void *a, const void *b)
{
	const struct ical_busy_period *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

void ical_busy_merge(struct ical_busy_list *l)
{
	size_t k = 0, i = 0;

	if (l->n == 0)
		return;
	qsort(l->p, l->n, sizeof(*l->p), by_type_start);
	while (i < l->n) {
		struct ical_busy_period cur = l->p[i++];

		while (i < l->n && l->p[i].type == cur.type && l->p[i].start <= cur.end) {
			if (l->p[i].end > cur.end)
				cur.end = l->p[i].end;
			i++;
		}
		l->p[k++] = cur;
	}
	l->n = k;
	qsort(l->p, l->n, sizeof(*l->p), by_start_type);
}

void ical_busy_drop_declined(struct ical_busy_list *l)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (l->p[i].type < ICAL_BUSY_DECLINED)
			l->p[k++] = l->p[i];
	}
	l->n = k;
}

void ical_busy_clear(struct ical_busy_list *l)
{
	free(l->p);
	l->p = NULL;
	l->n = l->cap = 0;
}

/* ---- one object -------------------------------------------------------- */

/* Whether prop's value (a calendar address) is one of self. */
static bool is_self(const char *value, const char *const *self, size_t nself)
{
	if (value == NULL)
		return false;
	if (strncasecmp(value, "mailto:", 7) == 0)
		value += 7;
	for (size_t i = 0; i < nself; i++) {
		if (strcasecmp(value, self[i]) == 0)
			return true;
	}
	return false;
}

/* Whether the owner declined this instance (RFC 6638: an attendee's own
 * PARTSTAT=DECLINED takes the event out of its free/busy). */
static bool declined_by_self(icalcomponent *c, const char *const *self, size_t nself)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
		icalparameter *ps;

		if (!is_self(icalproperty_get_attendee(p), self, nself))
			continue;
		ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
		if (ps != NULL && icalparameter_get_partstat(ps) == ICAL_PARTSTAT_DECLINED)
			return true;
	}
	return false;
}

struct busy_walk {
	struct ical_object *obj;
	icaltimezone *floating;
	const char *const *self;
	size_t nself;
	int64_t start, end;
	struct ical_busy_list tmp;
};

static int busy_inst_cb(const struct ical_inst *inst, void *ctx)
{
	struct busy_walk *w = ctx;
	icalcomponent *c = inst->comp;
	icalproperty *p;
	int type = ICAL_FB_BUSY;
	bool has_end;
	int64_t end;

	if (!inst->has_start)
		return 0;
	p = icalcomponent_get_first_property(c, ICAL_TRANSP_PROPERTY);
	if (p != NULL && icalproperty_get_transp(p) == ICAL_TRANSP_TRANSPARENT)
		return 0;
	p = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
	if (p != NULL && icalproperty_get_status(p) == ICAL_STATUS_CANCELLED)
		return 0;
	if (p != NULL && icalproperty_get_status(p) == ICAL_STATUS_TENTATIVE)
		type = ICAL_FB_BUSY_TENTATIVE;
	if (w->nself > 0 && declined_by_self(c, w->self, w->nself))
		type += ICAL_BUSY_DECLINED;
	end = ical_comp_end_utc(w->obj, c, inst, w->floating, &has_end);
	if (!has_end) {
		if (!inst->start.is_date)
			return 0;	/* an instant takes no time */
		end = ical_time_utc(icaltime_add(inst->start, icaldurationtype_from_int(86400)),
				    w->floating);
	}
	if (end <= w->start || inst->start_utc >= w->end)
		return 0;
	ical_busy_add(&w->tmp, inst->start_utc, end, type);
	return 0;
}

static int fbtype_of(icalproperty *p)
{
	icalparameter *ft = icalproperty_get_first_parameter(p, ICAL_FBTYPE_PARAMETER);

	if (ft == NULL)
		return ICAL_FB_BUSY;
	switch (icalparameter_get_fbtype(ft)) {
	case ICAL_FBTYPE_FREE: return ICAL_FB_FREE;
	case ICAL_FBTYPE_BUSYTENTATIVE: return ICAL_FB_BUSY_TENTATIVE;
	case ICAL_FBTYPE_BUSYUNAVAILABLE: return ICAL_FB_BUSY_UNAVAILABLE;
	default: return ICAL_FB_BUSY;	/* BUSY, and x-name/iana-token (RFC 5545 3.2.9) */
	}
}

int ical_busy_of_object(struct ical_object *obj, const struct ical_tz *floating_tz,
			const char *const *self, size_t nself, int64_t start, int64_t end,
			const struct ical_limits *limits, struct ical_busy_list *out,
			struct ical_error *err_r)
{
	icaltimezone *floating = floating_tz != NULL ? floating_tz->zone : NULL;

	if (obj->kind == ICAL_VEVENT_COMPONENT) {
		struct busy_walk w = { obj, floating, self, nself, start, end, { NULL, 0, 0 } };
		uint64_t steps = 0;

		if (ical_foreach_instance(obj, floating, start, end, limits, &steps, busy_inst_cb,
					  &w, err_r) < 0) {
			ical_busy_clear(&w.tmp);
			return -1;
		}
		for (size_t i = 0; i < w.tmp.n; i++)
			ical_busy_add(out, w.tmp.p[i].start, w.tmp.p[i].end, w.tmp.p[i].type);
		ical_busy_clear(&w.tmp);
		return 0;
	}
	if (obj->kind != ICAL_VFREEBUSY_COMPONENT)
		return 0;
	for (icalcompiter it = icalcomponent_begin_component(obj->vcal, ICAL_VFREEBUSY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);

		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_FREEBUSY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_FREEBUSY_PROPERTY)) {
			struct icalperiodtype per = icalproperty_get_freebusy(p);
			int64_t s = ical_time_utc(per.start, floating), e;

			e = icaltime_is_null_time(per.end) ? s + icaldurationtype_as_int(per.duration) :
			    ical_time_utc(per.end, floating);
			if (e > start && s < end)
				ical_busy_add(out, s, e, fbtype_of(p));
		}
	}
	return 0;
}

/* ---- VAVAILABILITY ----------------------------------------------------- */

/* One VAVAILABILITY: its bounds, priority, busy type, and one object per
 * AVAILABLE UID (master and overrides, with the VTIMEZONEs) to walk. */
struct avail_comp {
	bool has_start, has_end;
	int64_t start, end;
	int priority;		/* 1 highest .. 9 lowest; 0 (none) is lowest of all */
	int busytype;
	struct ical_object **avail;
	size_t navail;
};

struct ical_availability {
	icalcomponent *root;
	struct avail_comp *c;
	size_t n;
};

static void avail_comp_free(struct avail_comp *ac)
{
	for (size_t i = 0; i < ac->navail; i++)
		ical_object_free(&ac->avail[i]);
	free(ac->avail);
}

void ical_availability_free(struct ical_availability **avp)
{
	struct ical_availability *av = *avp;

	if (av == NULL)
		return;
	*avp = NULL;
	for (size_t i = 0; i < av->n; i++)
		avail_comp_free(&av->c[i]);
	free(av->c);
	if (av->root != NULL)
		icalcomponent_free(av->root);
	free(av);
}

/* Every TZID used in c has a VTIMEZONE in vcal. */
static bool tzids_defined(icalcomponent *vcal, icalcomponent *c, struct ical_error *err_r)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		icalparameter *tp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
		const char *tzid = tp != NULL ? icalparameter_get_tzid(tp) : NULL;

		if (tzid != NULL && icalcomponent_get_timezone(vcal, tzid) == NULL) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "no VTIMEZONE for TZID %.80s",
				       tzid);
			return false;
		}
	}
	return true;
}

static int busytype_of(icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_BUSYTYPE_PROPERTY);

	if (p == NULL)
		return ICAL_FB_BUSY_UNAVAILABLE;
	switch (icalproperty_get_busytype(p)) {
	case ICAL_BUSYTYPE_BUSY: return ICAL_FB_BUSY;
	case ICAL_BUSYTYPE_BUSYTENTATIVE: return ICAL_FB_BUSY_TENTATIVE;
	default: return ICAL_FB_BUSY_UNAVAILABLE;
	}
}

/* A bounded time property of comp in vcal's zones: false when absent. */
static bool comp_time(icalcomponent *vcal, icalcomponent *comp, icalproperty_kind kind,
		      int64_t *t_r)
{
	struct ical_object tmp;
	icalproperty *p = icalcomponent_get_first_property(comp, kind);

	if (p == NULL)
		return false;
	memset(&tmp, 0, sizeof(tmp));
	tmp.vcal = vcal;
	*t_r = ical_time_utc(ical_prop_time(&tmp, p), NULL);
	return true;
}

/* Build the walkable objects of one VAVAILABILITY's AVAILABLE children. */
static int avail_collect(icalcomponent *root, icalcomponent *va, struct avail_comp *ac,
			 struct ical_error *err_r)
{
	/* external iterators: looking up a zone moves libical's internal one */
	for (icalcompiter it = icalcomponent_begin_component(va, ICAL_XAVAILABLE_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *a = icalcompiter_deref(&it);
		icalproperty *up = icalcomponent_get_first_property(a, ICAL_UID_PROPERTY);
		const char *uid = up != NULL ? icalproperty_get_uid(up) : NULL;
		struct ical_object *obj = NULL;
		int64_t s, e;

		if (uid == NULL || icalcomponent_get_first_property(a, ICAL_DTSTAMP_PROPERTY) == NULL) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "AVAILABLE without UID or DTSTAMP");
			return -1;
		}
		if (!comp_time(root, a, ICAL_DTSTART_PROPERTY, &s)) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "AVAILABLE without DTSTART");
			return -1;
		}
		if (comp_time(root, a, ICAL_DTEND_PROPERTY, &e) && e <= s) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "AVAILABLE ends before it starts");
			return -1;
		}
		if (!tzids_defined(root, a, err_r))
			return -1;
		for (size_t i = 0; i < ac->navail; i++) {
			if (strcmp(ac->avail[i]->uid, uid) == 0) {
				obj = ac->avail[i];
				break;
			}
		}
		if (obj == NULL) {
			obj = xcalloc(1, sizeof(*obj));
			obj->vcal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
			obj->kind = ICAL_XAVAILABLE_COMPONENT;
			obj->uid = xstrdup(uid);
			for (icalcompiter zt = icalcomponent_begin_component(root,
							ICAL_VTIMEZONE_COMPONENT);
			     icalcompiter_deref(&zt) != NULL; icalcompiter_next(&zt))
				icalcomponent_add_component(obj->vcal,
					icalcomponent_new_clone(icalcompiter_deref(&zt)));
			ac->avail = xrealloc(ac->avail, (ac->navail + 1) * sizeof(*ac->avail));
			ac->avail[ac->navail++] = obj;
		}
		icalcomponent_add_component(obj->vcal, icalcomponent_new_clone(a));
	}
	return 0;
}

int ical_availability_parse(const char *data, size_t len, const struct ical_limits *limits,
			    struct ical_availability **av_r, struct ical_error *err_r)
{
	struct ical_scan scan;
	struct ical_availability *av;
	icalcomponent *root;

	*av_r = NULL;
	if (len > limits->max_resource_size) {
		ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "%zu bytes", len);
		return -1;
	}
	if (ical_scan_text(data, len, limits, false, &scan, err_r) < 0)
		return -1;
	if (scan.calendars != 1) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "not one VCALENDAR");
		return -1;
	}
	root = ical_parse_root(data, len, err_r);
	if (root == NULL)
		return -1;
	av = xcalloc(1, sizeof(*av));
	av->root = root;
	for (icalcompiter it = icalcomponent_begin_component(root, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);
		icalcomponent_kind k = icalcomponent_isa(c);
		struct avail_comp *ac;
		icalproperty *pp;

		if (k == ICAL_VTIMEZONE_COMPONENT)
			continue;
		if (k != ICAL_VAVAILABILITY_COMPONENT) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
				       "%s in calendar-availability", icalcomponent_kind_to_string(k));
			goto fail;
		}
		if (icalcomponent_get_first_property(c, ICAL_UID_PROPERTY) == NULL ||
		    icalcomponent_get_first_property(c, ICAL_DTSTAMP_PROPERTY) == NULL) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
				       "VAVAILABILITY without UID or DTSTAMP");
			goto fail;
		}
		if (!tzids_defined(root, c, err_r))
			goto fail;
		av->c = xrealloc(av->c, (av->n + 1) * sizeof(*av->c));
		ac = &av->c[av->n++];
		memset(ac, 0, sizeof(*ac));
		ac->has_start = comp_time(root, c, ICAL_DTSTART_PROPERTY, &ac->start);
		ac->has_end = comp_time(root, c, ICAL_DTEND_PROPERTY, &ac->end);
		if (!ac->has_end && ac->has_start &&
		    (pp = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY)) != NULL) {
			ac->has_end = true;
			ac->end = ac->start + icaldurationtype_as_int(icalproperty_get_duration(pp));
		}
		if (ac->has_start && ac->has_end && ac->end <= ac->start) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
				       "VAVAILABILITY ends before it starts");
			goto fail;
		}
		pp = icalcomponent_get_first_property(c, ICAL_PRIORITY_PROPERTY);
		ac->priority = pp != NULL ? icalproperty_get_priority(pp) : 0;
		if (ac->priority < 0 || ac->priority > 9)
			ac->priority = 0;
		ac->busytype = busytype_of(c);
		if (avail_collect(root, c, ac, err_r) < 0)
			goto fail;
	}
	if (av->n == 0) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "no VAVAILABILITY");
		goto fail;
	}
	*av_r = av;
	return 0;
fail:
	ical_availability_free(&av);
	return -1;
}

/* Rank for painting order: lowest priority first. 0 (undefined) is lower
 * than 9 (RFC 7953 3.1, PRIORITY). */
static int prio_rank(int priority)
{
	return priority == 0 ? 0 : 10 - priority;
}

/* A timeline of [start,end) cut into segments, each with a state: -1 free,
 * else an fbtype. Painting a range sets the state of everything inside. */
struct seg {
	int64_t start;
	int state;
};

struct timeline {
	struct seg *s;		/* sorted by start; segment i ends at s[i+1].start or end */
	size_t n, cap;
	int64_t end;
};

static size_t tl_split(struct timeline *tl, int64_t at)
{
	size_t lo = 0, hi = tl->n;

	/* the first segment starting at or after at */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (tl->s[mid].start < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < tl->n && tl->s[lo].start == at)
		return lo;
	if (at >= tl->end)
		return tl->n;
	if (tl->n == tl->cap) {
		tl->cap = tl->cap ? tl->cap * 2 : 16;
		tl->s = xrealloc(tl->s, tl->cap * sizeof(*tl->s));
	}
	memmove(&tl->s[lo + 1], &tl->s[lo], (tl->n - lo) * sizeof(*tl->s));
	tl->s[lo].start = at;
	tl->s[lo].state = lo > 0 ? tl->s[lo - 1].state : -1;
	tl->n++;
	return lo;
}

static void tl_paint(struct timeline *tl, int64_t start, int64_t end, int state)
{
	size_t a, b;

	if (start < tl->s[0].start)
		start = tl->s[0].start;
	if (end > tl->end)
		end = tl->end;
	if (end <= start)
		return;
	a = tl_split(tl, start);
	b = tl_split(tl, end);
	for (size_t i = a; i < b; i++)
		tl->s[i].state = state;
}

struct avail_walk {
	struct ical_object *obj;
	struct timeline *tl;
	int64_t lo, hi;		/* the VAVAILABILITY's range within the query */
};

static int avail_inst_cb(const struct ical_inst *inst, void *ctx)
{
	struct avail_walk *w = ctx;
	bool has_end;
	int64_t end;

	if (!inst->has_start)
		return 0;
	end = ical_comp_end_utc(w->obj, inst->comp, inst, NULL, &has_end);
	if (!has_end)
		return 0;	/* RFC 7953 3.1: AVAILABLE needs DTEND or DURATION */
	tl_paint(w->tl, inst->start_utc > w->lo ? inst->start_utc : w->lo, end < w->hi ? end : w->hi,
		 -1);
	return 0;
}

static int by_rank(const void *a, const void *b)
{
	const struct avail_comp *const *x = a, *const *y = b;
	int rx = prio_rank((*x)->priority), ry = prio_rank((*y)->priority);

	return (rx > ry) - (rx < ry);
}

int ical_availability_busy(struct ical_availability *av, int64_t start, int64_t end,
			   const struct ical_limits *limits, struct ical_busy_list *out,
			   struct ical_error *err_r)
{
	struct timeline tl = { NULL, 0, 0, end };
	struct avail_comp **order;
	int ret = 0;

	if (end <= start)
		return 0;
	tl.cap = 16;
	tl.s = xmalloc(tl.cap * sizeof(*tl.s));
	tl.s[0].start = start;
	tl.s[0].state = -1;
	tl.n = 1;
	order = xmalloc(av->n * sizeof(*order));
	for (size_t i = 0; i < av->n; i++)
		order[i] = &av->c[i];
	/* stable for equal ranks: document order, later ones painted later */
	for (size_t i = 1; i < av->n; i++) {
		for (size_t j = i; j > 0 && by_rank(&order[j - 1], &order[j]) > 0; j--) {
			struct avail_comp *t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	}
	for (size_t i = 0; i < av->n && ret == 0; i++) {
		struct avail_comp *ac = order[i];
		int64_t lo = ac->has_start && ac->start > start ? ac->start : start;
		int64_t hi = ac->has_end && ac->end < end ? ac->end : end;

		if (hi <= lo)
			continue;
		tl_paint(&tl, lo, hi, ac->busytype);
		for (size_t k = 0; k < ac->navail && ret == 0; k++) {
			struct avail_walk w = { ac->avail[k], &tl, lo, hi };
			uint64_t steps = 0;

			ret = ical_foreach_instance(ac->avail[k], NULL, lo, hi, limits, &steps,
						    avail_inst_cb, &w, err_r);
		}
	}
	if (ret == 0) {
		for (size_t i = 0; i < tl.n; i++) {
			int64_t e = i + 1 < tl.n ? tl.s[i + 1].start : tl.end;

			if (tl.s[i].state >= 0)
				ical_busy_add(out, tl.s[i].start, e, tl.s[i].state);
		}
		ical_busy_merge(out);
	}
	free(order);
	free(tl.s);
	return ret;
}

/* ---- the reply --------------------------------------------------------- */

static void append_text(struct buf *b, const char *name, const char *value)
{
	/* a TEXT value (UID): escape per RFC 5545 3.3.11, fold at 75 octets */
	struct buf line;
	size_t col = 0;

	buf_init(&line, 0);
	buf_append_str(&line, name);
	buf_append_str(&line, ":");
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\\' || *p == ';' || *p == ',') {
			buf_append(&line, "\\", 1);
			buf_append(&line, p, 1);
		} else if (*p == '\n') {
			buf_append_str(&line, "\\n");
		} else if ((unsigned char)*p >= 0x20 || *p == '\t') {
			buf_append(&line, p, 1);
		}
	}
	for (size_t i = 0; i < line.len; i++) {
		/* fold before 75 octets, never inside a UTF-8 sequence */
		if (col >= 74 && ((unsigned char)line.data[i] & 0xc0) != 0x80) {
			buf_append_str(b, "\r\n ");
			col = 1;
		}
		buf_append(b, &line.data[i], 1);
		col++;
	}
	buf_append_str(b, "\r\n");
	buf_free(&line);
}

char *ical_busy_reply(const struct ical_busy_list *l, const char *uid, int64_t dtstamp,
		      int64_t start, int64_t end, const char *organizer, const char *attendee,
		      size_t *len_r)
{
	static const char *const types[] = { "BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE" };
	struct buf b, v;
	char s[32], e[32];

	ical_lib_init();
	buf_init(&b, 0);
	buf_init(&v, 0);
	buf_append_str(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn//CalDAV//EN\r\n"
			   "METHOD:REPLY\r\nBEGIN:VFREEBUSY\r\n");
	append_text(&b, "UID", uid != NULL ? uid : "");
	ical_format_utc(dtstamp, s, sizeof(s));
	buf_printf(&b, "DTSTAMP:%s\r\n", s);
	ical_format_utc(start, s, sizeof(s));
	buf_printf(&b, "DTSTART:%s\r\n", s);
	ical_format_utc(end, s, sizeof(s));
	buf_printf(&b, "DTEND:%s\r\n", s);
	buf_printf(&v, "mailto:%s", organizer);
	append_text(&b, "ORGANIZER", v.data);
	buf_reset(&v);
	buf_printf(&v, "mailto:%s", attendee);
	append_text(&b, "ATTENDEE", v.data);
	buf_free(&v);
	for (size_t i = 0; i < l->n; i++) {
		ical_format_utc(l->p[i].start, s, sizeof(s));
		ical_format_utc(l->p[i].end, e, sizeof(e));
		if (l->p[i].type == ICAL_FB_BUSY)
			buf_printf(&b, "FREEBUSY:%s/%s\r\n", s, e);
		else
			buf_printf(&b, "FREEBUSY;FBTYPE=%s:%s/%s\r\n", types[l->p[i].type], s, e);
	}
	buf_append_str(&b, "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
	*len_r = b.len;
	return b.data;
}

/* ---- the request ------------------------------------------------------- */

void ical_fbrequest_clear(struct ical_fbrequest *req)
{
	free(req->uid);
	free(req->organizer);
	for (size_t i = 0; i < req->nattendees; i++)
		free(req->attendees[i]);
	free(req->attendees);
	memset(req, 0, sizeof(*req));
}

/* A calendar address normalised: "mailto:" dropped, lower-cased ASCII. */
static char *norm_address(const char *v)
{
	char *s;

	if (v == NULL)
		return NULL;
	while (*v == ' ')
		v++;
	if (strncasecmp(v, "mailto:", 7) == 0)
		v += 7;
	if (*v == '\0')
		return NULL;
	s = xstrdup(v);
	for (char *p = s; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return s;
}

int ical_fbrequest_parse(const char *data, size_t len, const struct ical_limits *limits,
			 struct ical_fbrequest *req_r, struct ical_error *err_r)
{
	struct ical_scan scan;
	struct ical_object tmp;
	icalcomponent *root, *fb = NULL;
	icalproperty *p;
	bool has_s, has_e;
	int ret = -1;

	memset(req_r, 0, sizeof(*req_r));
	if (len > limits->max_resource_size) {
		ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "%zu bytes", len);
		return -1;
	}
	if (ical_scan_text(data, len, limits, false, &scan, err_r) < 0)
		return -1;
	if (scan.calendars != 1) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "not one VCALENDAR");
		return -1;
	}
	root = ical_parse_root(data, len, err_r);
	if (root == NULL)
		return -1;
	p = icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY);
	if (p == NULL || icalproperty_get_method(p) != ICAL_METHOD_REQUEST) {
		ical_set_error(err_r, ICAL_PRECOND_NONE, "METHOD must be REQUEST");
		goto out;
	}
	for (icalcompiter it = icalcomponent_begin_component(root, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);
		icalcomponent_kind k = icalcomponent_isa(c);

		if (k == ICAL_VTIMEZONE_COMPONENT)
			continue;
		if (k != ICAL_VFREEBUSY_COMPONENT || fb != NULL) {
			ical_set_error(err_r, ICAL_PRECOND_NONE, "the request must hold one VFREEBUSY"
				       " and nothing else");
			goto out;
		}
		fb = c;
	}
	if (fb == NULL) {
		ical_set_error(err_r, ICAL_PRECOND_NONE, "no VFREEBUSY");
		goto out;
	}
	memset(&tmp, 0, sizeof(tmp));
	tmp.vcal = root;
	if (!tzids_defined(root, fb, err_r))
		goto out;
	p = icalcomponent_get_first_property(fb, ICAL_UID_PROPERTY);
	if (p != NULL && icalproperty_get_uid(p) != NULL)
		req_r->uid = xstrdup(icalproperty_get_uid(p));
	p = icalcomponent_get_first_property(fb, ICAL_ORGANIZER_PROPERTY);
	req_r->organizer = p != NULL ? norm_address(icalproperty_get_organizer(p)) : NULL;
	if (req_r->organizer == NULL) {
		ical_set_error(err_r, ICAL_PRECOND_NONE, "no ORGANIZER");
		goto out;
	}
	has_s = (p = icalcomponent_get_first_property(fb, ICAL_DTSTART_PROPERTY)) != NULL;
	if (has_s)
		req_r->start = ical_time_utc(ical_prop_time(&tmp, p), NULL);
	has_e = (p = icalcomponent_get_first_property(fb, ICAL_DTEND_PROPERTY)) != NULL;
	if (has_e)
		req_r->end = ical_time_utc(ical_prop_time(&tmp, p), NULL);
	if (!has_s || !has_e || req_r->end <= req_r->start) {
		ical_set_error(err_r, ICAL_PRECOND_NONE, "DTSTART and a later DTEND are required");
		goto out;
	}
	if (req_r->start < limits->min_date_time || req_r->end > limits->max_date_time) {
		ical_set_error(err_r, req_r->start < limits->min_date_time ? ICAL_MIN_DATE_TIME :
			       ICAL_MAX_DATE_TIME, "range outside the supported dates");
		goto out;
	}
	for (p = icalcomponent_get_first_property(fb, ICAL_ATTENDEE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(fb, ICAL_ATTENDEE_PROPERTY)) {
		char *a = norm_address(icalproperty_get_attendee(p));
		bool dup = false;

		if (a == NULL)
			continue;
		for (size_t i = 0; i < req_r->nattendees && !dup; i++)
			dup = strcmp(req_r->attendees[i], a) == 0;
		if (dup) {
			free(a);
			continue;
		}
		if (req_r->nattendees >= limits->max_attendees) {
			free(a);
			ical_set_error(err_r, ICAL_MAX_ATTENDEES_PER_INSTANCE, "more than %u ATTENDEEs",
				       limits->max_attendees);
			goto out;
		}
		req_r->attendees = xrealloc(req_r->attendees,
					    (req_r->nattendees + 1) * sizeof(*req_r->attendees));
		req_r->attendees[req_r->nattendees++] = a;
	}
	if (req_r->nattendees == 0) {
		ical_set_error(err_r, ICAL_PRECOND_NONE, "no ATTENDEE");
		goto out;
	}
	ret = 0;
out:
	icalcomponent_free(root);
	if (ret < 0)
		ical_fbrequest_clear(req_r);
	return ret;
}
