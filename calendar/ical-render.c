/* calendar/ical-render: calendar-data output (RFC 4791 9.6: the comp/prop
 * subset, expand, limit-recurrence-set, limit-freebusy-set), free-busy
 * accumulation and rendering (7.10), and .ics split/join for import and
 * export. Every output is bounded by limits->max_output. */
#include <stdlib.h>
#include <string.h>

#include "ical-private.h"
#include "util.h"

/* ---- comp/prop selection builders ------------------------------------ */

struct ical_comp_select *ical_comp_select_new(const char *name)
{
	struct ical_comp_select *cs = xcalloc(1, sizeof(*cs));

	cs->name = xstrdup(name);
	cs->allprop = true;
	cs->allcomp = true;
	return cs;
}

struct ical_comp_select *ical_comp_select_add_comp(struct ical_comp_select *parent, const char *name)
{
	struct ical_comp_select *cs = ical_comp_select_new(name), **pp = &parent->comps;

	parent->allcomp = false;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = cs;
	return cs;
}

struct ical_prop_select *ical_comp_select_add_prop(struct ical_comp_select *parent, const char *name,
						   bool novalue)
{
	struct ical_prop_select *ps = xcalloc(1, sizeof(*ps)), **pp = &parent->props;

	parent->allprop = false;
	ps->name = xstrdup(name);
	ps->novalue = novalue;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = ps;
	return ps;
}

void ical_comp_select_free(struct ical_comp_select **csp)
{
	struct ical_comp_select *cs = *csp;

	*csp = NULL;
	while (cs != NULL) {
		struct ical_comp_select *next = cs->next;
		struct ical_prop_select *ps = cs->props;

		while (ps != NULL) {
			struct ical_prop_select *pn = ps->next;

			free(ps->name);
			free(ps);
			ps = pn;
		}
		ical_comp_select_free(&cs->comps);
		free(cs->name);
		free(cs);
		cs = next;
	}
}

/* ---- serialisation with selection ------------------------------------ */

static const char *comp_name(icalcomponent *c)
{
	return icalcomponent_kind_to_string(icalcomponent_isa(c));
}

/* Append one property; with novalue, its name and parameters only. */
static int ser_prop(struct buf *b, icalproperty *p, bool novalue)
{
	char *s = icalproperty_as_ical_string_r(p);
	int r;

	if (s == NULL)
		return 0;
	if (!novalue) {
		r = buf_append_str(b, s);
	} else {
		/* unfold, then cut at the first ':' outside quotes */
		struct buf u;
		bool q = false;
		size_t i;

		buf_init(&u, 0);
		for (i = 0; s[i] != '\0'; i++) {
			if (s[i] == '\r' && s[i + 1] == '\n' && (s[i + 2] == ' ' || s[i + 2] == '\t')) {
				i += 2;
				continue;
			}
			if (s[i] == '"')
				q = !q;
			if (s[i] == ':' && !q)
				break;
			buf_append(&u, &s[i], 1);
		}
		buf_append_str(&u, ":\r\n");
		r = buf_append(b, u.data, u.len);
		buf_free(&u);
	}
	icalmemory_free_buffer(s);
	return r;
}

/* The selection for a child component named name: NULL means all of it;
 * *skip_r is set when the selection leaves it out. */
static const struct ical_comp_select *child_select(const struct ical_comp_select *sel,
						   const char *name, bool *skip_r)
{
	const struct ical_comp_select *cs;

	*skip_r = false;
	if (sel == NULL || sel->allcomp)
		return NULL;
	for (cs = sel->comps; cs != NULL; cs = cs->next)
		if (str_casecmp(cs->name, name) == 0)
			return cs;
	*skip_r = true;
	return NULL;
}

static int ser_props(struct buf *b, icalcomponent *c, const struct ical_comp_select *sel)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		const struct ical_prop_select *ps = NULL;

		if (sel != NULL && !sel->allprop) {
			const char *name = icalproperty_get_property_name(p);

			for (ps = sel->props; ps != NULL; ps = ps->next)
				if (name != NULL && str_casecmp(ps->name, name) == 0)
					break;
			if (ps == NULL)
				continue;
		}
		if (ser_prop(b, p, ps != NULL && ps->novalue) < 0)
			return -1;
	}
	return 0;
}

static int ser_comp(struct buf *b, icalcomponent *c, const struct ical_comp_select *sel)
{
	icalcompiter it;

	if (buf_printf(b, "BEGIN:%s\r\n", comp_name(c)) < 0 || ser_props(b, c, sel) < 0)
		return -1;
	for (it = icalcomponent_begin_component(c, ICAL_ANY_COMPONENT); icalcompiter_deref(&it) != NULL;
	     icalcompiter_next(&it)) {
		icalcomponent *kid = icalcompiter_deref(&it);
		bool skip;
		const struct ical_comp_select *cs = child_select(sel, comp_name(kid), &skip);

		if (!skip && ser_comp(b, kid, cs) < 0)
			return -1;
	}
	return buf_printf(b, "END:%s\r\n", comp_name(c));
}

/* ---- expand and limit ------------------------------------------------ */

/* Rewrite every DATE-TIME with a TZID (or floating) in c as UTC. DATE
 * values stay dates. */
static void to_utc(const struct ical_object *src, icalcomponent *c, icaltimezone *floating)
{
	icalcompiter it;

	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		icalvalue *v = icalproperty_get_value(p);
		struct icaltimetype t;
		icalparameter *tz;

		if (v == NULL || icalvalue_isa(v) != ICAL_DATETIME_VALUE)
			continue;
		t = ical_prop_time(src, p);
		if (icaltime_is_null_time(t) || t.is_date || icaltime_is_utc(t))
			continue;
		icalvalue_set_datetime(v, ical_utc_time(ical_time_utc(t, floating)));
		while ((tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) != NULL)
			icalproperty_remove_parameter_by_ref(p, tz);
	}
	for (it = icalcomponent_begin_component(c, ICAL_ANY_COMPONENT); icalcompiter_deref(&it) != NULL;
	     icalcompiter_next(&it))
		to_utc(src, icalcompiter_deref(&it), floating);
}

static void remove_props(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty *p;

	while ((p = icalcomponent_get_first_property(c, kind)) != NULL) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
}

/* Set a date or date-time property of an expanded instance. */
static void set_time_prop(icalcomponent *c, icalproperty_kind kind, struct icaltimetype local,
			  int64_t utc)
{
	icalproperty *p;
	struct icaltimetype t;

	remove_props(c, kind);
	if (local.is_date) {
		t = icaltime_null_date();
		t.year = local.year;
		t.month = local.month;
		t.day = local.day;
		t.is_date = 1;
	} else {
		t = ical_utc_time(utc);
	}
	p = icalproperty_new(kind);
	icalproperty_set_value(p, t.is_date ? icalvalue_new_date(t) : icalvalue_new_datetime(t));
	icalcomponent_add_property(c, p);
}

/* Expanded instances are serialised one at a time into the bounded
 * output, so an expansion never holds more than max_output in memory. */
struct expand_ctx {
	struct ical_object *obj;
	icaltimezone *floating;
	const struct ical_time_range *tr;
	const struct ical_comp_select *sel;	/* the VCALENDAR selection */
	const struct ical_time_range *fb_range;	/* limit-freebusy-set, or NULL */
	struct buf *b;
	size_t count;
	bool full;
};

static void limit_periods(icalcomponent *c, icaltimezone *floating, const struct ical_time_range *tr);

static int expand_cb(const struct ical_inst *inst, void *ctx)
{
	struct expand_ctx *ec = ctx;
	icalcomponent *c;
	bool has_end;
	int64_t end;
	icalproperty_kind endkind;

	if (ec->tr != NULL && !ical_inst_in_range(inst, ec->obj, ec->floating, ec->tr))
		return 0;
	c = icalcomponent_new_clone(inst->comp);
	endkind = icalcomponent_isa(c) == ICAL_VTODO_COMPONENT ? ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY;
	end = ical_comp_end_utc(ec->obj, inst->comp, inst, ec->floating, &has_end);
	if (inst->has_start) {
		bool had_end = icalcomponent_get_first_property(c, endkind) != NULL;

		if (inst->has_period_end) {	/* RDATE;VALUE=PERIOD */
			remove_props(c, ICAL_DURATION_PROPERTY);
			had_end = true;
		}

		set_time_prop(c, ICAL_DTSTART_PROPERTY, inst->start, inst->start_utc);
		if (had_end) {
			struct icaltimetype el = inst->start;

			if (el.is_date) {
				struct icaldurationtype days = icaldurationtype_null_duration();

				days.days = (unsigned)((end - inst->start_utc + 43200) / 86400);
				el = icaltime_add(inst->start, days);
			}
			set_time_prop(c, endkind, el, end);
		}
	}
	remove_props(c, ICAL_RRULE_PROPERTY);
	remove_props(c, ICAL_RDATE_PROPERTY);
	remove_props(c, ICAL_EXDATE_PROPERTY);
	remove_props(c, ICAL_RECURRENCEID_PROPERTY);
	if (inst->recurring)
		set_time_prop(c, ICAL_RECURRENCEID_PROPERTY, inst->rid,
			      ical_time_utc(inst->rid, ec->floating));
	to_utc(ec->obj, c, ec->floating);
	if (ec->fb_range != NULL)
		limit_periods(c, ec->floating, ec->fb_range);
	{
		bool skip;
		const struct ical_comp_select *cs = child_select(ec->sel, comp_name(c), &skip);

		if (!skip && ser_comp(ec->b, c, cs) < 0)
			ec->full = true;
	}
	icalcomponent_free(c);
	ec->count++;
	return ec->full ? 1 : 0;
}

/* Whether an override affects an instance overlapping tr (9.6.6). */
static bool override_in_range(struct ical_object *obj, icalcomponent *c, icaltimezone *floating,
			      const struct ical_time_range *tr)
{
	icalproperty *rp = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
	icalparameter *rg = rp ? icalproperty_get_first_parameter(rp, ICAL_RANGE_PARAMETER) : NULL;
	struct ical_inst inst;
	icalproperty *sp = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	int64_t rid;

	if (rp == NULL)
		return true;
	rid = ical_time_utc(ical_prop_time(obj, rp), floating);
	if (rg != NULL && icalparameter_get_range(rg) == ICAL_RANGE_THISANDFUTURE)
		return !tr->has_end || rid < tr->end;
	memset(&inst, 0, sizeof(inst));
	inst.comp = c;
	inst.is_override = true;
	inst.has_start = sp != NULL;
	inst.start = sp ? ical_prop_time(obj, sp) : ical_prop_time(obj, rp);
	inst.start_utc = ical_time_utc(inst.start, floating);
	if (ical_inst_in_range(&inst, obj, floating, tr))
		return true;
	/* the instance it replaces, at its original time */
	inst.start = ical_prop_time(obj, rp);
	inst.start_utc = rid;
	return ical_inst_in_range(&inst, obj, floating, tr);
}

static bool period_overlaps(icalproperty *p, icaltimezone *floating, const struct ical_time_range *tr)
{
	struct icalperiodtype per = icalproperty_get_freebusy(p);
	int64_t s = ical_time_utc(per.start, floating), e;

	e = icaltime_is_null_time(per.end) ? s + icaldurationtype_as_int(per.duration) :
	    ical_time_utc(per.end, floating);
	return (!tr->has_start || e > tr->start) && (!tr->has_end || s < tr->end);
}

/* limit-freebusy-set: drop the FREEBUSY properties outside tr. */
static void limit_periods(icalcomponent *c, icaltimezone *floating, const struct ical_time_range *tr)
{
	icalproperty *p, *next;

	if (icalcomponent_isa(c) != ICAL_VFREEBUSY_COMPONENT)
		return;
	for (p = icalcomponent_get_first_property(c, ICAL_FREEBUSY_PROPERTY); p != NULL; p = next) {
		next = icalcomponent_get_next_property(c, ICAL_FREEBUSY_PROPERTY);
		if (!period_overlaps(p, floating, tr)) {
			icalcomponent_remove_property(c, p);
			icalproperty_free(p);
		}
	}
}

int ical_object_render(struct ical_object *obj, const struct ical_calendar_data *cd,
		       const struct ical_tz *floating_tz, const struct ical_limits *limits,
		       char **out_r, size_t *len_r, struct ical_error *err_r)
{
	icaltimezone *floating = floating_tz ? floating_tz->zone : NULL;
	const struct ical_comp_select *sel = cd != NULL && cd->comp != NULL &&
		str_casecmp(cd->comp->name, "VCALENDAR") == 0 ? cd->comp : NULL;
	icalcomponent *work;
	struct buf b;
	icalcompiter it;

	*out_r = NULL;
	*len_r = 0;
	if (cd != NULL && cd->expand) {
		struct expand_ctx ec;
		uint64_t steps = 0;

		if (!cd->expand_range.has_start || !cd->expand_range.has_end) {
			ical_set_error(err_r, ICAL_VALID_FILTER, "expand needs a start and an end");
			return -1;
		}
		buf_init(&b, limits->max_output);
		memset(&ec, 0, sizeof(ec));
		ec.obj = obj;
		ec.floating = floating;
		ec.tr = &cd->expand_range;
		ec.sel = sel;
		ec.fb_range = cd->limit_freebusy ? &cd->limit_freebusy_range : NULL;
		ec.b = &b;
		if (buf_append_str(&b, "BEGIN:VCALENDAR\r\n") < 0 || ser_props(&b, obj->vcal, sel) < 0)
			ec.full = true;
		if (!ec.full && ical_foreach_instance(obj, floating, cd->expand_range.start,
						      cd->expand_range.end, limits, &steps, expand_cb,
						      &ec, err_r) < 0) {
			buf_free(&b);
			return -1;
		}
		if (ec.full || buf_append_str(&b, "END:VCALENDAR\r\n") < 0) {
			buf_free(&b);
			ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "calendar-data larger than %zu bytes",
				       limits->max_output);
			return -1;
		}
		*out_r = b.data;
		*len_r = b.len;
		return 0;
	}
	work = icalcomponent_new_clone(obj->vcal);
	if (cd != NULL && cd->limit_recurrence) {
		icalcomponent **drop = NULL;
		size_t nd = 0, cap = 0;

		for (it = icalcomponent_begin_component(work, obj->kind); icalcompiter_deref(&it) != NULL;
		     icalcompiter_next(&it)) {
			icalcomponent *c = icalcompiter_deref(&it);

			if (override_in_range(obj, c, floating, &cd->limit_recurrence_range))
				continue;
			if (nd == cap) {
				cap = cap ? cap * 2 : 8;
				drop = xrealloc(drop, cap * sizeof(*drop));
			}
			drop[nd++] = c;
		}
		for (size_t i = 0; i < nd; i++) {
			icalcomponent_remove_component(work, drop[i]);
			icalcomponent_free(drop[i]);
		}
		free(drop);
	}
	if (cd != NULL && cd->limit_freebusy)
		for (it = icalcomponent_begin_component(work, ICAL_VFREEBUSY_COMPONENT);
		     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it))
			limit_periods(icalcompiter_deref(&it), floating, &cd->limit_freebusy_range);
	buf_init(&b, limits->max_output);
	if (ser_comp(&b, work, sel) < 0) {
		icalcomponent_free(work);
		buf_free(&b);
		ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "calendar-data larger than %zu bytes",
			       limits->max_output);
		return -1;
	}
	icalcomponent_free(work);
	if (b.data == NULL)
		buf_append_str(&b, "");
	*out_r = b.data;
	*len_r = b.len;
	return 0;
}

/* ---- free-busy ------------------------------------------------------- */

struct fb_period {
	int64_t start, end;
	enum ical_fbtype type;
};

struct ical_freebusy {
	struct ical_time_range range;
	struct fb_period *p;
	size_t n, cap;
};

struct ical_freebusy *ical_freebusy_new(const struct ical_time_range *range)
{
	struct ical_freebusy *fb = xcalloc(1, sizeof(*fb));

	fb->range = *range;
	if (!fb->range.has_start)
		fb->range.start = ICAL_TIME_MIN;
	if (!fb->range.has_end)
		fb->range.end = ICAL_TIME_MAX;
	return fb;
}

void ical_freebusy_add_period(struct ical_freebusy *fb, int64_t start, int64_t end,
			      enum ical_fbtype type)
{
	if (start < fb->range.start)
		start = fb->range.start;
	if (end > fb->range.end)
		end = fb->range.end;
	if (end <= start || type == ICAL_FB_FREE)
		return;
	if (fb->n == fb->cap) {
		fb->cap = fb->cap ? fb->cap * 2 : 32;
		fb->p = xrealloc(fb->p, fb->cap * sizeof(*fb->p));
	}
	fb->p[fb->n].start = start;
	fb->p[fb->n].end = end;
	fb->p[fb->n++].type = type;
}

struct fb_ctx {
	struct ical_freebusy *fb;
	struct ical_object *obj;
	icaltimezone *floating;
	struct fb_period *tmp;
	size_t n, cap;
};

static int fb_inst_cb(const struct ical_inst *inst, void *ctx)
{
	struct fb_ctx *fc = ctx;
	icalcomponent *c = inst->comp;
	icalproperty *p;
	enum ical_fbtype type = ICAL_FB_BUSY;
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
	end = ical_comp_end_utc(fc->obj, c, inst, fc->floating, &has_end);
	if (!has_end) {
		if (!inst->start.is_date)
			return 0;	/* an instant takes no time */
		end = ical_time_utc(icaltime_add(inst->start, icaldurationtype_from_int(86400)),
				    fc->floating);
	}
	if (end <= fc->fb->range.start || inst->start_utc >= fc->fb->range.end)
		return 0;
	if (fc->n == fc->cap) {
		fc->cap = fc->cap ? fc->cap * 2 : 16;
		fc->tmp = xrealloc(fc->tmp, fc->cap * sizeof(*fc->tmp));
	}
	fc->tmp[fc->n].start = inst->start_utc;
	fc->tmp[fc->n].end = end;
	fc->tmp[fc->n++].type = type;
	return 0;
}

int ical_freebusy_add(struct ical_freebusy *fb, struct ical_object *obj,
		      const struct ical_tz *floating_tz, const struct ical_limits *limits,
		      struct ical_error *err_r)
{
	struct fb_ctx fc = { fb, obj, floating_tz ? floating_tz->zone : NULL, NULL, 0, 0 };
	uint64_t steps = 0;

	if (obj->kind == ICAL_VEVENT_COMPONENT) {
		if (ical_foreach_instance(obj, fc.floating, fb->range.start, fb->range.end, limits,
					  &steps, fb_inst_cb, &fc, err_r) < 0) {
			free(fc.tmp);
			return -1;
		}
		for (size_t i = 0; i < fc.n; i++)
			ical_freebusy_add_period(fb, fc.tmp[i].start, fc.tmp[i].end, fc.tmp[i].type);
		free(fc.tmp);
		return 0;
	}
	if (obj->kind != ICAL_VFREEBUSY_COMPONENT)
		return 0;
	for (icalcompiter it = icalcomponent_begin_component(obj->vcal, ICAL_VFREEBUSY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);

		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_FREEBUSY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_FREEBUSY_PROPERTY)) {
			icalparameter *ft = icalproperty_get_first_parameter(p, ICAL_FBTYPE_PARAMETER);
			struct icalperiodtype per = icalproperty_get_freebusy(p);
			enum ical_fbtype type = ICAL_FB_BUSY;
			int64_t s = ical_time_utc(per.start, fc.floating), e;

			e = icaltime_is_null_time(per.end) ? s + icaldurationtype_as_int(per.duration) :
			    ical_time_utc(per.end, fc.floating);
			if (ft != NULL) {
				switch (icalparameter_get_fbtype(ft)) {
				case ICAL_FBTYPE_FREE: type = ICAL_FB_FREE; break;
				case ICAL_FBTYPE_BUSYTENTATIVE: type = ICAL_FB_BUSY_TENTATIVE; break;
				case ICAL_FBTYPE_BUSYUNAVAILABLE: type = ICAL_FB_BUSY_UNAVAILABLE; break;
				default: type = ICAL_FB_BUSY; break;
				}
			}
			ical_freebusy_add_period(fb, s, e, type);
		}
	}
	return 0;
}

static int fb_cmp(const void *a, const void *b)
{
	const struct fb_period *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

char *ical_freebusy_render(struct ical_freebusy *fb, int64_t dtstamp, size_t *len_r)
{
	static const char *const types[] = { "BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE", "FREE" };
	struct buf b;
	char s[32], e[32];
	size_t i = 0;

	ical_lib_init();
	if (fb->n > 1)
		qsort(fb->p, fb->n, sizeof(*fb->p), fb_cmp);
	buf_init(&b, 0);
	buf_append_str(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cairn//CalDAV//EN\r\n"
			   "BEGIN:VFREEBUSY\r\n");
	ical_format_utc(dtstamp, s, sizeof(s));
	buf_printf(&b, "DTSTAMP:%s\r\n", s);
	if (fb->range.has_start) {
		ical_format_utc(fb->range.start, s, sizeof(s));
		buf_printf(&b, "DTSTART:%s\r\n", s);
	}
	if (fb->range.has_end) {
		ical_format_utc(fb->range.end, s, sizeof(s));
		buf_printf(&b, "DTEND:%s\r\n", s);
	}
	/* merge overlapping or touching periods of one type */
	while (i < fb->n) {
		struct fb_period cur = fb->p[i++];

		while (i < fb->n && fb->p[i].type == cur.type && fb->p[i].start <= cur.end) {
			if (fb->p[i].end > cur.end)
				cur.end = fb->p[i].end;
			i++;
		}
		ical_format_utc(cur.start, s, sizeof(s));
		ical_format_utc(cur.end, e, sizeof(e));
		if (cur.type == ICAL_FB_BUSY)
			buf_printf(&b, "FREEBUSY:%s/%s\r\n", s, e);
		else
			buf_printf(&b, "FREEBUSY;FBTYPE=%s:%s/%s\r\n", types[cur.type], s, e);
	}
	buf_append_str(&b, "END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
	*len_r = b.len;
	return b.data;
}

void ical_freebusy_free(struct ical_freebusy **fbp)
{
	struct ical_freebusy *fb = *fbp;

	if (fb == NULL)
		return;
	*fbp = NULL;
	free(fb->p);
	free(fb);
}

/* ---- split and join -------------------------------------------------- */

struct group {
	char *uid;
	icalcomponent_kind kind;
	icalcomponent **comps;
	size_t n;
};

static void collect_tzids(icalcomponent *c, char ***ids, size_t *n)
{
	icalcompiter it;

	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		icalparameter *par = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
		const char *id = par ? icalparameter_get_tzid(par) : NULL;
		bool dup = false;

		if (id == NULL)
			continue;
		for (size_t i = 0; i < *n && !dup; i++)
			dup = strcmp((*ids)[i], id) == 0;
		if (!dup) {
			*ids = xrealloc(*ids, (*n + 1) * sizeof(char *));
			(*ids)[(*n)++] = xstrdup(id);
		}
	}
	for (it = icalcomponent_begin_component(c, ICAL_ANY_COMPONENT); icalcompiter_deref(&it) != NULL;
	     icalcompiter_next(&it))
		collect_tzids(icalcompiter_deref(&it), ids, n);
}

static icalcomponent *find_tz(icalcomponent **cals, size_t ncal, const char *tzid)
{
	for (size_t i = 0; i < ncal; i++)
		for (icalcompiter it = icalcomponent_begin_component(cals[i], ICAL_VTIMEZONE_COMPONENT);
		     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
			icalproperty *p = icalcomponent_get_first_property(icalcompiter_deref(&it),
									   ICAL_TZID_PROPERTY);

			if (p != NULL && icalproperty_get_tzid(p) != NULL &&
			    strcmp(icalproperty_get_tzid(p), tzid) == 0)
				return icalcompiter_deref(&it);
		}
	return NULL;
}

int ical_split(const char *data, size_t len, unsigned supported, const struct ical_limits *limits,
	       struct ical_split_item **items_r, size_t *count_r, struct ical_error *err_r)
{
	struct ical_limits whole = *limits;
	struct ical_scan scan;
	icalcomponent *root, **cals = NULL;
	size_t ncal = 0, ngroups = 0;
	struct group *groups = NULL;
	struct ical_split_item *items = NULL;
	size_t nitems = 0;
	int ret = -1;

	*items_r = NULL;
	*count_r = 0;
	whole.max_resource_size = limits->max_output;
	if (ical_scan_text(data, len, &whole, true, &scan, err_r) < 0)
		return -1;
	root = ical_parse_root(data, len, err_r);
	if (root == NULL)
		return -1;
	if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
		cals = xmalloc(sizeof(*cals));
		cals[ncal++] = root;
	} else {
		for (icalcompiter it = icalcomponent_begin_component(root, ICAL_VCALENDAR_COMPONENT);
		     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
			cals = xrealloc(cals, (ncal + 1) * sizeof(*cals));
			cals[ncal++] = icalcompiter_deref(&it);
		}
	}
	/* group the components by UID, in order of appearance */
	for (size_t i = 0; i < ncal; i++) {
		for (icalcompiter it = icalcomponent_begin_component(cals[i], ICAL_ANY_COMPONENT);
		     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
			icalcomponent *c = icalcompiter_deref(&it);
			icalproperty *up;
			const char *uid;
			struct group *g = NULL;

			if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT)
				continue;
			up = icalcomponent_get_first_property(c, ICAL_UID_PROPERTY);
			uid = up ? icalproperty_get_uid(up) : NULL;
			if (uid == NULL || *uid == '\0') {
				ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
					       "a %s without UID", comp_name(c));
				goto out;
			}
			for (size_t k = ngroups; k > 0 && g == NULL; k--)
				if (strcmp(groups[k - 1].uid, uid) == 0)
					g = &groups[k - 1];
			if (g == NULL) {
				if (ngroups >= limits->max_split_objects) {
					ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE,
						       "more than %zu objects", limits->max_split_objects);
					goto out;
				}
				groups = xrealloc(groups, (ngroups + 1) * sizeof(*groups));
				g = &groups[ngroups++];
				memset(g, 0, sizeof(*g));
				g->uid = xstrdup(uid);
				g->kind = icalcomponent_isa(c);
			}
			g->comps = xrealloc(g->comps, (g->n + 1) * sizeof(*g->comps));
			g->comps[g->n++] = c;
		}
	}
	items = xcalloc(ngroups ? ngroups : 1, sizeof(*items));
	for (size_t k = 0; k < ngroups; k++) {
		struct group *g = &groups[k];
		char **ids = NULL;
		size_t nids = 0;
		struct buf b;
		struct ical_object *obj = NULL;
		struct ical_error e;
		icalproperty *prodid = icalcomponent_get_first_property(cals[0], ICAL_PRODID_PROPERTY);

		buf_init(&b, limits->max_resource_size);
		buf_printf(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:%s\r\n",
			   prodid && icalproperty_get_prodid(prodid) ? icalproperty_get_prodid(prodid) :
			   "-//Cairn//import//EN");
		for (size_t i = 0; i < g->n; i++)
			collect_tzids(g->comps[i], &ids, &nids);
		for (size_t i = 0; i < nids; i++) {
			icalcomponent *tz = find_tz(cals, ncal, ids[i]);

			if (tz != NULL)
				ser_comp(&b, tz, NULL);
			free(ids[i]);
		}
		free(ids);
		for (size_t i = 0; i < g->n; i++)
			ser_comp(&b, g->comps[i], NULL);
		if (buf_append_str(&b, "END:VCALENDAR\r\n") < 0) {
			ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "UID %.80s: larger than %zu bytes",
				       g->uid, limits->max_resource_size);
			buf_free(&b);
			goto out;
		}
		if (ical_object_parse(b.data, b.len, supported, limits, &obj, &e) < 0) {
			ical_set_error(err_r, e.precond, "UID %.80s: %s", g->uid, e.text);
			buf_free(&b);
			goto out;
		}
		ical_object_free(&obj);
		items[nitems].uid = xstrdup(g->uid);
		items[nitems].comp = ical_kind_comp(g->kind);
		items[nitems].data = b.data;
		items[nitems++].len = b.len;
	}
	*items_r = items;
	*count_r = nitems;
	items = NULL;
	ret = 0;
out:
	if (items != NULL)
		ical_split_free(items, nitems);
	for (size_t k = 0; k < ngroups; k++) {
		free(groups[k].uid);
		free(groups[k].comps);
	}
	free(groups);
	free(cals);
	icalcomponent_free(root);
	return ret;
}

void ical_split_free(struct ical_split_item *items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(items[i].uid);
		free(items[i].data);
	}
	free(items);
}

struct ical_join {
	char *prodid;
	struct buf tzs;		/* serialised VTIMEZONEs */
	struct buf comps;	/* serialised components */
	char **tzids;
	size_t ntz;
};

struct ical_join *ical_join_new(const char *prodid)
{
	struct ical_join *j = xcalloc(1, sizeof(*j));

	j->prodid = xstrdup(prodid ? prodid : "-//Cairn//export//EN");
	buf_init(&j->tzs, 0);
	buf_init(&j->comps, 0);
	return j;
}

int ical_join_add(struct ical_join *j, const char *data, size_t len, const struct ical_limits *limits,
		  struct ical_error *err_r)
{
	struct ical_scan scan;
	icalcomponent *root;
	int ret = 0;

	if (ical_scan_text(data, len, limits, false, &scan, err_r) < 0)
		return -1;
	root = ical_parse_root(data, len, err_r);
	if (root == NULL)
		return -1;
	if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		icalcomponent_free(root);
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "not one VCALENDAR");
		return -1;
	}
	for (icalcompiter it = icalcomponent_begin_component(root, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL && ret == 0; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);

		if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT) {
			icalproperty *p = icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY);
			const char *id = p ? icalproperty_get_tzid(p) : NULL;
			bool dup = false;

			if (id == NULL)
				continue;
			for (size_t i = 0; i < j->ntz && !dup; i++)
				dup = strcmp(j->tzids[i], id) == 0;
			if (dup)
				continue;
			j->tzids = xrealloc(j->tzids, (j->ntz + 1) * sizeof(char *));
			j->tzids[j->ntz++] = xstrdup(id);
			ret = ser_comp(&j->tzs, c, NULL);
		} else {
			ret = ser_comp(&j->comps, c, NULL);
		}
		if (j->tzs.len + j->comps.len > limits->max_output)
			ret = -1;
	}
	icalcomponent_free(root);
	if (ret < 0) {
		ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "export larger than %zu bytes",
			       limits->max_output);
		return -1;
	}
	return 0;
}

char *ical_join_finish(struct ical_join **jp, size_t *len_r)
{
	struct ical_join *j = *jp;
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:%s\r\n", j->prodid);
	if (j->tzs.len)
		buf_append(&b, j->tzs.data, j->tzs.len);
	if (j->comps.len)
		buf_append(&b, j->comps.data, j->comps.len);
	buf_append_str(&b, "END:VCALENDAR\r\n");
	ical_join_free(jp);
	*len_r = b.len;
	return b.data;
}

void ical_join_free(struct ical_join **jp)
{
	struct ical_join *j = *jp;

	if (j == NULL)
		return;
	*jp = NULL;
	for (size_t i = 0; i < j->ntz; i++)
		free(j->tzids[i]);
	free(j->tzids);
	buf_free(&j->tzs);
	buf_free(&j->comps);
	free(j->prodid);
	free(j);
}
