/* calendar/ical-recur: the recurrence set of an object (RRULE, RDATE,
 * EXDATE, RECURRENCE-ID overrides with THISANDFUTURE), bounded by the
 * limits, the screening that keeps libical's iterator from running away,
 * and the time-range semantics of RFC 4791 9.9. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ical-private.h"
#include "util.h"

/* ---- rule screening -------------------------------------------------- */

static unsigned nby(const short *a, size_t size)
{
	unsigned n = 0;

	while (n < size && a[n] != ICAL_RECURRENCE_ARRAY_MAX)
		n++;
	return n;
}

#define NBY(r, f, size) nby((r)->f, size)

static bool in_list(const short *a, size_t size, int v)
{
	for (size_t i = 0; i < size && a[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if (a[i] == v)
			return true;
	return false;
}

static bool day_in_list(const short *a, size_t size, int wday /* 1=SU..7=SA */)
{
	for (size_t i = 0; i < size && a[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		if ((int)icalrecurrencetype_day_day_of_week(a[i]) == wday)
			return true;
	return false;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y_r, unsigned *m_r, unsigned *d_r)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = doy - (153 * mp + 2) / 5 + 1;
	*m_r = mp < 10 ? mp + 3 : mp - 9;
	*y_r = (int)(y + (*m_r <= 2));
}

static unsigned month_days(int y, unsigned m)
{
	static const unsigned md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : md[m - 1];
}

static int64_t gcd64(int64_t a, int64_t b)
{
	while (b != 0) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static int screen_fail(struct ical_error *err_r, const char *why)
{
	ical_set_error(err_r, ICAL_MAX_INSTANCES, "RRULE refused: %s", why);
	return -1;
}

/* Days simulated to prove that a DAILY rule with limits produces instances:
 * 28 years cover every weekday/date combination of the Julian cycle. */
#define SCREEN_DAYS 10300

int ical_rrule_screen(const struct icalrecurrencetype *r, struct icaltimetype dtstart,
		      bool in_vtimezone, struct ical_error *err_r)
{
	unsigned bsec = NBY(r, by_second, ICAL_BY_SECOND_SIZE);
	unsigned bmin = NBY(r, by_minute, ICAL_BY_MINUTE_SIZE);
	unsigned bhour = NBY(r, by_hour, ICAL_BY_HOUR_SIZE);
	unsigned bday = NBY(r, by_day, ICAL_BY_DAY_SIZE);
	unsigned bmday = NBY(r, by_month_day, ICAL_BY_MONTHDAY_SIZE);
	unsigned byday = NBY(r, by_year_day, ICAL_BY_YEARDAY_SIZE);
	unsigned bwno = NBY(r, by_week_no, ICAL_BY_WEEKNO_SIZE);
	unsigned bmon = NBY(r, by_month, ICAL_BY_MONTH_SIZE);
	unsigned bpos = NBY(r, by_set_pos, ICAL_BY_SETPOS_SIZE);
	bool day_positions = false;

	if (r->freq == ICAL_NO_RECURRENCE || r->interval < 1) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "RRULE without a valid FREQ or INTERVAL");
		return -1;
	}
	if (r->rscale != NULL && *r->rscale != '\0' && str_casecmp(r->rscale, "GREGORIAN") != 0)
		return screen_fail(err_r, "only the Gregorian RSCALE is supported");
	if (icaltime_is_null_time(dtstart))
		return screen_fail(err_r, "no DTSTART");
	for (unsigned i = 0; i < bday; i++)
		if (icalrecurrencetype_day_position(r->by_day[i]) != 0)
			day_positions = true;
	if (in_vtimezone) {
		/* libical expands every zone rule from its DTSTART on each
		 * conversion: only small YEARLY rules keep that bounded. */
		if (r->freq != ICAL_YEARLY_RECURRENCE)
			return screen_fail(err_r, "a VTIMEZONE rule must be FREQ=YEARLY");
		if (bsec || bmin || bhour || bpos || bwno || byday > 2 || bmon > 2 || bmday > 7 ||
		    bday > 7 || r->interval > 1)
			return screen_fail(err_r, "VTIMEZONE rule too complex");
		return 0;
	}
	switch (r->freq) {
	case ICAL_SECONDLY_RECURRENCE:
		/* libical steps one second at a time and filters: any BYxxx
		 * part could make it step for centuries inside one call. */
		if (bsec || bmin || bhour || bday || bmday || byday || bwno || bmon || bpos)
			return screen_fail(err_r, "FREQ=SECONDLY with BYxxx parts");
		return 0;
	case ICAL_MINUTELY_RECURRENCE:
	case ICAL_HOURLY_RECURRENCE: {
		bool minutely = r->freq == ICAL_MINUTELY_RECURRENCE;
		int64_t unit = minutely ? 60 : 3600, step, period, t0;
		bool limited = bhour || bday || (minutely && bmin);

		if (bmday || byday || bwno || bmon || bpos || day_positions)
			return screen_fail(err_r, "FREQ=MINUTELY/HOURLY with BYMONTH, BYMONTHDAY, BYYEARDAY, BYWEEKNO, BYSETPOS or ordinal BYDAY");
		if (!limited)
			return 0;
		/* The weekday and time of day of a tick repeat with the period
		 * below: check within one period that some tick matches, so
		 * the gap between two instances is at most that many ticks. */
		step = unit * (int64_t)r->interval;
		period = 604800 / gcd64(step % 604800 ? step % 604800 : 604800, 604800);
		t0 = days_from_civil(dtstart.year, (unsigned)dtstart.month, (unsigned)dtstart.day) * 86400 +
		     dtstart.hour * 3600 + dtstart.minute * 60 + dtstart.second;
		for (int64_t k = 0; k < period; k++) {
			int64_t t = t0 + k * step;
			int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
			int64_t tod = t - days * 86400;
			int wday = (int)(((days + 4) % 7 + 7) % 7) + 1;

			if (bday && !day_in_list(r->by_day, ICAL_BY_DAY_SIZE, wday))
				continue;
			if (bhour && !in_list(r->by_hour, ICAL_BY_HOUR_SIZE, (int)(tod / 3600)))
				continue;
			if (minutely && bmin && !in_list(r->by_minute, ICAL_BY_MINUTE_SIZE, (int)(tod / 60 % 60)))
				continue;
			return 0;
		}
		return screen_fail(err_r, "the rule never produces an instance");
	}
	case ICAL_DAILY_RECURRENCE: {
		int64_t d0;

		if (byday || bwno || day_positions)
			return screen_fail(err_r, "FREQ=DAILY with BYYEARDAY, BYWEEKNO or ordinal BYDAY");
		if (!bday && !bmday && !bmon)
			return 0;
		/* libical steps one day at a time up to its last year when no
		 * day matches: prove a match within SCREEN_DAYS. */
		d0 = days_from_civil(dtstart.year, (unsigned)dtstart.month, (unsigned)dtstart.day);
		for (int64_t k = 0; k * r->interval < SCREEN_DAYS; k++) {
			int64_t days = d0 + k * r->interval;
			int y;
			unsigned m, d, ml;
			int wday = (int)(((days + 4) % 7 + 7) % 7) + 1;

			civil_from_days(days, &y, &m, &d);
			ml = month_days(y, m);
			if (bmon && !in_list(r->by_month, ICAL_BY_MONTH_SIZE, (int)m))
				continue;
			if (bday && !day_in_list(r->by_day, ICAL_BY_DAY_SIZE, wday))
				continue;
			if (bmday && !in_list(r->by_month_day, ICAL_BY_MONTHDAY_SIZE, (int)d) &&
			    !in_list(r->by_month_day, ICAL_BY_MONTHDAY_SIZE, (int)d - (int)ml - 1))
				continue;
			return 0;
		}
		return screen_fail(err_r, "the rule never produces an instance");
	}
	default:
		/* WEEKLY and coarser: libical's own search for a match is bounded
		 * by its last year at one step per week or more. */
		return 0;
	}
}

static int64_t cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ical_rrule_probe(const struct icalrecurrencetype *rule, struct icaltimetype dtstart,
		     const struct ical_limits *limits, int64_t *spent_ns,
		     struct ical_error *err_r)
{
	int64_t t0 = cpu_ns(), used;
	icalrecur_iterator *ri;

	dtstart.zone = NULL;	/* the search runs in local time: no zone needed */
	ri = icalrecur_iterator_new(*rule, dtstart);
	if (ri != NULL) {
		for (int i = 0; i < 3; i++)
			if (icaltime_is_null_time(icalrecur_iterator_next(ri)))
				break;
		icalrecur_iterator_free(ri);
	}
	*spent_ns += cpu_ns() - t0;
	used = *spent_ns / 1000000;
	if (used > (int64_t)limits->max_rrule_probe_ms) {
		ical_set_error(err_r, ICAL_MAX_INSTANCES,
			       "RRULE refused: the object's instances take %lld ms to find (limit %u ms)",
			       (long long)used, limits->max_rrule_probe_ms);
		return -1;
	}
	if (ri == NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "RRULE not understood or never matches");
		return -1;
	}
	return 0;
}

/* ---- instances ------------------------------------------------------- */

struct ovr {
	icalcomponent *comp;
	int64_t rid_utc;
	int64_t start_utc;	/* its DTSTART, or rid_utc without one */
	bool has_start;
	bool future;		/* RANGE=THISANDFUTURE */
	struct icaltimetype rid, start;
};

struct occ {
	int64_t utc;
	struct icaltimetype t;
	bool has_end;		/* RDATE;VALUE=PERIOD */
	int64_t end;
};

static int occ_cmp(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;

	return x->utc < y->utc ? -1 : x->utc > y->utc;
}

static int count_step(unsigned *steps, uint64_t *work, const struct ical_limits *limits,
		      struct ical_error *err_r)
{
	if (++*steps > limits->max_instances) {
		ical_set_error(err_r, ICAL_MAX_INSTANCES,
			       "more than %u instances in the range of the request",
			       limits->max_instances);
		return -1;
	}
	if (work != NULL && ++*work > limits->max_recur_work) {
		ical_set_error(err_r, ICAL_MAX_INSTANCES,
			       "recurrence expansion passed %llu steps",
			       (unsigned long long)limits->max_recur_work);
		return -1;
	}
	return 0;
}

static void occ_add(struct occ **v, size_t *n, size_t *cap, int64_t utc, struct icaltimetype t)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[*n].utc = utc;
	(*v)[*n].has_end = false;
	(*v)[(*n)++].t = t;
}

/* Seconds from DTSTART to DTEND/DUE, or of DURATION (exact part only). */
static int64_t comp_span(const struct ical_object *obj, icalcomponent *comp, icaltimezone *floating)
{
	icalproperty *s = icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY);
	icalproperty *e = icalcomponent_get_first_property(comp, ICAL_DTEND_PROPERTY);
	icalproperty *d = icalcomponent_get_first_property(comp, ICAL_DURATION_PROPERTY);

	if (e == NULL)
		e = icalcomponent_get_first_property(comp, ICAL_DUE_PROPERTY);
	if (s != NULL && e != NULL)
		return ical_time_utc(ical_prop_time(obj, e), floating) -
		       ical_time_utc(ical_prop_time(obj, s), floating);
	if (d != NULL)
		return icaldurationtype_as_int(icalproperty_get_duration(d)) + 3600;
	if (s != NULL && ical_prop_time(obj, s).is_date)
		return 86400;
	return 0;
}

/* State of one walk: the master's recurrence set is produced in order by
 * merging the RRULE iterator with the sorted RDATEs (DTSTART among them),
 * so the callback can stop the walk early. */
struct walk {
	const struct ical_object *obj;
	icalcomponent *vcal, *master;
	icaltimezone *floating;
	int64_t *ex;		/* EXDATE-TIMEs in UTC, sorted */
	size_t nex;
	int *exdays;		/* EXDATE DATEs as yyyymmdd, sorted */
	size_t nexdays;
	struct ovr *ovrs;
	size_t novr;
	int64_t dts_utc;
	int64_t last;		/* last occurrence emitted (dedupe) */
	bool any;
	ical_inst_cb *cb;
	void *ctx;
};

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* Collect the master's EXDATEs once, sorted for bsearch. A DATE EXDATE
 * removes every instance of that day (of a DATE-TIME master). */
static void collect_exdates(struct walk *w)
{
	size_t cap = 0, capd = 0;

	for (icalproperty *p = icalcomponent_get_first_property(w->master, ICAL_EXDATE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(w->master, ICAL_EXDATE_PROPERTY)) {
		struct icaltimetype x = ical_prop_time(w->obj, p);

		if (icaltime_is_null_time(x))
			continue;
		if (w->nex == cap) {
			cap = cap ? cap * 2 : 8;
			w->ex = xrealloc(w->ex, cap * sizeof(*w->ex));
		}
		w->ex[w->nex++] = ical_time_utc(x, w->floating);
		if (x.is_date) {
			if (w->nexdays == capd) {
				capd = capd ? capd * 2 : 8;
				w->exdays = xrealloc(w->exdays, capd * sizeof(*w->exdays));
			}
			w->exdays[w->nexdays++] = x.year * 10000 + x.month * 100 + x.day;
		}
	}
	if (w->nex > 1)
		qsort(w->ex, w->nex, sizeof(*w->ex), i64_cmp);
	if (w->nexdays > 1)
		qsort(w->exdays, w->nexdays, sizeof(*w->exdays), int_cmp);
}

/* Emit one occurrence of the master unless excluded or overridden.
 * Returns the callback's answer. */
static int emit_occ(struct walk *w, const struct occ *o)
{
	const struct ovr *fut = NULL;
	struct ical_inst inst;

	if (w->any && o->utc == w->last)
		return 0;
	w->any = true;
	w->last = o->utc;
	if (w->nex > 0 && bsearch(&o->utc, w->ex, w->nex, sizeof(*w->ex), i64_cmp) != NULL)
		return 0;
	if (w->nexdays > 0 && !o->t.is_date) {
		int day = o->t.year * 10000 + o->t.month * 100 + o->t.day;

		if (bsearch(&day, w->exdays, w->nexdays, sizeof(*w->exdays), int_cmp) != NULL)
			return 0;
	}
	for (size_t k = 0; k < w->novr; k++) {
		if (w->ovrs[k].rid_utc == o->utc)
			return 0;
		if (w->ovrs[k].future && w->ovrs[k].rid_utc < o->utc &&
		    (fut == NULL || w->ovrs[k].rid_utc > fut->rid_utc))
			fut = &w->ovrs[k];
	}
	memset(&inst, 0, sizeof(inst));
	inst.recurring = true;
	inst.has_start = true;
	inst.rid = o->t;
	inst.has_period_end = o->has_end;
	inst.period_end = o->end;
	if (fut == NULL) {
		inst.comp = w->master;
		inst.start = o->t;
		inst.start_utc = o->utc;
		inst.shift = o->utc - w->dts_utc;
	} else {
		/* THISANDFUTURE: the override's changes, shifted by its move,
		 * apply to every later instance. */
		int64_t move = fut->start_utc - fut->rid_utc;

		inst.comp = fut->comp;
		inst.start_utc = o->utc + move;
		inst.start = icaltime_add(o->t, icaldurationtype_from_int((int)move));
		inst.shift = inst.start_utc - fut->start_utc;
	}
	return w->cb(&inst, w->ctx);
}

int ical_foreach_instance(struct ical_object *obj, icaltimezone *floating,
			  int64_t range_start, int64_t range_end,
			  const struct ical_limits *limits, uint64_t *work,
			  ical_inst_cb *cb, void *ctx, struct ical_error *err_r)
{
	icalcomponent *vcal = obj->vcal, *master = NULL;
	struct ovr *ovrs = NULL;
	size_t novr = 0, nocc = 0, capocc = 0;
	struct occ *occs = NULL;
	int64_t lo, hi, slop, span, maxshift = 0;
	unsigned steps = 0;
	icalcompiter it;
	icalrecur_iterator *ri = NULL;
	struct walk w;
	int ret = -1;

	memset(&w, 0, sizeof(w));

	for (it = icalcomponent_begin_component(vcal, obj->kind); icalcompiter_deref(&it) != NULL;
	     icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);
		icalproperty *rp = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
		icalproperty *sp;
		icalparameter *rg;
		struct ovr *o;

		if (rp == NULL) {
			if (master == NULL)
				master = c;
			continue;
		}
		ovrs = xrealloc(ovrs, (novr + 1) * sizeof(*ovrs));
		o = &ovrs[novr++];
		memset(o, 0, sizeof(*o));
		o->comp = c;
		o->rid = ical_prop_time(obj, rp);
		o->rid_utc = ical_time_utc(o->rid, floating);
		rg = icalproperty_get_first_parameter(rp, ICAL_RANGE_PARAMETER);
		o->future = rg != NULL && icalparameter_get_range(rg) == ICAL_RANGE_THISANDFUTURE;
		sp = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
		o->has_start = sp != NULL;
		o->start = sp ? ical_prop_time(obj, sp) : o->rid;
		o->start_utc = ical_time_utc(o->start, floating);
		if (o->future && llabs((long long)(o->start_utc - o->rid_utc)) > maxshift)
			maxshift = llabs((long long)(o->start_utc - o->rid_utc));
	}

	slop = 2 * ICAL_FLOAT_SLOP + 86400 + maxshift;
	span = 0;
	if (master != NULL) {
		span = comp_span(obj, master, floating);
		if (span < 0)
			span = 0;
		slop += span;
	}
	lo = range_start < INT64_MIN / 2 ? ICAL_TIME_MIN : range_start - slop;
	hi = range_end > INT64_MAX / 2 ? ICAL_TIME_MAX : range_end + slop;

	if (master != NULL) {
		icalproperty *sp = icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY);
		icalproperty *rr = icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY);
		icalproperty *rd = icalcomponent_get_first_property(master, ICAL_RDATE_PROPERTY);
		struct ical_inst inst;

		memset(&inst, 0, sizeof(inst));
		inst.comp = master;
		if (sp == NULL) {
			/* VTODO/VJOURNAL without DTSTART: one timeless instance. */
			if (cb(&inst, ctx) != 0)
				goto done;
		} else if (rr == NULL && rd == NULL) {
			inst.has_start = true;
			inst.start = inst.rid = ical_prop_time(obj, sp);
			inst.start_utc = ical_time_utc(inst.start, floating);
			inst.recurring = novr > 0;
			if (count_step(&steps, work, limits, err_r) < 0)
				goto out;
			if (cb(&inst, ctx) != 0)
				goto done;
		} else {
			struct icaltimetype dts = ical_prop_time(obj, sp);
			size_t next_rd = 0;

			w.obj = obj;
			w.vcal = vcal;
			w.master = master;
			w.floating = floating;
			w.ovrs = ovrs;
			w.novr = novr;
			w.cb = cb;
			w.ctx = ctx;

			w.dts_utc = ical_time_utc(dts, floating);
			/* RDATEs and DTSTART, which always counts as the first. */
			if (w.dts_utc >= lo && w.dts_utc <= hi)
				occ_add(&occs, &nocc, &capocc, w.dts_utc, dts);
			for (icalproperty *p = rd; p != NULL;
			     p = icalcomponent_get_next_property(master, ICAL_RDATE_PROPERTY)) {
				struct icaltimetype t = ical_prop_time(obj, p);
				int64_t u;

				if (icaltime_is_null_time(t))
					continue;
				if (count_step(&steps, work, limits, err_r) < 0)
					goto out;
				u = ical_time_utc(t, floating);
				if (u >= lo && u <= hi) {
					struct icalperiodtype per = icalproperty_get_rdate(p).period;

					occ_add(&occs, &nocc, &capocc, u, t);
					{
						if (!icaltime_is_null_time(per.start)) {
							per.end.zone = t.zone;
							occs[nocc - 1].has_end = true;
							occs[nocc - 1].end = icaltime_is_null_time(per.end) ?
								u + icaldurationtype_as_int(per.duration) :
								ical_time_utc(per.end, floating);
						}
					}
				}
			}
			if (nocc > 1)
				qsort(occs, nocc, sizeof(*occs), occ_cmp);
			/* after the RDATE loop: it walks master's property iterator too */
			collect_exdates(&w);
			if (rr != NULL) {
				struct icalrecurrencetype rule = icalproperty_get_rrule(rr);
				/* The jump target is exact: an instance starting before
				 * it cannot reach the range (floating times aside). */
				int64_t jump = range_start < INT64_MIN / 2 ? ICAL_TIME_MIN :
					       range_start - span - maxshift -
					       (ical_time_floating(dts) ? 2 * ICAL_FLOAT_SLOP + 86400 : 0) - 1;

				if (ical_rrule_screen(&rule, dts, false, err_r) < 0)
					goto out;
				ri = icalrecur_iterator_new(rule, dts);
				if (ri == NULL) {
					ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
						       "RRULE not understood by the recurrence engine");
					goto out;
				}
				/* Jump near the range when COUNT does not need the
				 * instances before it. */
				if (rule.count == 0 && jump != ICAL_TIME_MIN && jump > w.dts_utc) {
					icaltimezone *z = dts.zone ? (icaltimezone *)dts.zone :
						icaltime_is_utc(dts) ? icaltimezone_get_utc_timezone() : floating;
					struct icaltimetype from = icaltime_from_timet_with_zone(
						(time_t)jump, dts.is_date, z ? z : icaltimezone_get_utc_timezone());

					if (!icaltime_is_utc(dts))
						from.zone = dts.zone;
					icalrecur_iterator_set_start(ri, from);
				}
				for (;;) {
					struct icaltimetype t = icalrecur_iterator_next(ri);
					struct occ o;

					if (icaltime_is_null_time(t))
						break;
					if (count_step(&steps, work, limits, err_r) < 0)
						goto out;
					if (!icaltime_is_utc(dts))
						t.zone = dts.zone;
					t.is_date = dts.is_date;
					o.t = t;
					o.has_end = false;
					o.end = 0;
					o.utc = ical_time_utc(t, floating);
					if (o.utc > hi)
						break;
					while (next_rd < nocc && occs[next_rd].utc <= o.utc)
						if (emit_occ(&w, &occs[next_rd++]) != 0)
							goto done;
					if (o.utc >= lo && emit_occ(&w, &o) != 0)
						goto done;
				}
			}
			while (next_rd < nocc)
				if (emit_occ(&w, &occs[next_rd++]) != 0)
					goto done;
		}
	}
	for (size_t k = 0; k < novr; k++) {
		struct ical_inst inst;

		memset(&inst, 0, sizeof(inst));
		inst.comp = ovrs[k].comp;
		inst.is_override = true;
		inst.recurring = true;
		inst.has_start = ovrs[k].has_start;
		inst.start = ovrs[k].start;
		inst.rid = ovrs[k].rid;
		inst.start_utc = ovrs[k].start_utc;
		if (inst.has_start && (inst.start_utc < lo || inst.start_utc > hi))
			continue;
		if (count_step(&steps, work, limits, err_r) < 0)
			goto out;
		if (cb(&inst, ctx) != 0)
			goto done;
	}
done:
	ret = 0;
out:
	if (ri != NULL)
		icalrecur_iterator_free(ri);
	free(w.ex);
	free(w.exdays);
	free(occs);
	free(ovrs);
	return ret;
}

/* ---- time-range semantics (RFC 4791 9.9) ----------------------------- */

static int64_t prop_utc(const struct ical_object *obj, icalcomponent *comp, icalproperty_kind kind,
			icaltimezone *floating, bool *has_r)
{
	icalproperty *p = icalcomponent_get_first_property(comp, kind);
	struct icaltimetype t;

	*has_r = false;
	if (p == NULL)
		return 0;
	t = ical_prop_time(obj, p);
	if (icaltime_is_null_time(t))
		return 0;
	*has_r = true;
	return ical_time_utc(t, floating);
}

/* End of a duration added to the instance start: days and weeks are
 * nominal (same local time), the rest exact. */
static int64_t add_duration(const struct ical_inst *inst, struct icaldurationtype d,
			    icaltimezone *floating)
{
	if (d.days != 0 || d.weeks != 0) {
		struct icaldurationtype nominal = icaldurationtype_null_duration();
		struct icaltimetype t = inst->start;
		int64_t exact = (int64_t)d.hours * 3600 + d.minutes * 60 + d.seconds;

		nominal.days = d.days + 7 * d.weeks;
		nominal.is_neg = d.is_neg;
		t = icaltime_add(t, nominal);
		return ical_time_utc(t, floating) + (d.is_neg ? -exact : exact);
	}
	return inst->start_utc + icaldurationtype_as_int(d);
}

int64_t ical_comp_end_utc(const struct ical_object *obj, icalcomponent *comp, const struct ical_inst *inst,
			  icaltimezone *floating, bool *has_r)
{
	icalproperty *d = icalcomponent_get_first_property(comp, ICAL_DURATION_PROPERTY);
	bool has_start, has_end;
	int64_t s, e;

	*has_r = false;
	if (inst->has_period_end) {
		*has_r = true;
		return inst->period_end;
	}
	if (d != NULL && inst->has_start) {
		*has_r = true;
		return add_duration(inst, icalproperty_get_duration(d), floating);
	}
	s = prop_utc(obj, comp, ICAL_DTSTART_PROPERTY, floating, &has_start);
	e = prop_utc(obj, comp, icalcomponent_isa(comp) == ICAL_VTODO_COMPONENT ?
		     ICAL_DUE_PROPERTY : ICAL_DTEND_PROPERTY, floating, &has_end);
	if (!has_end)
		return 0;
	*has_r = true;
	if (!has_start || !inst->has_start)
		return e + inst->shift;
	/* the same exact duration for every instance (RFC 5545 3.8.5.3) */
	return inst->start_utc + (e - s);
}

static int64_t next_day_utc(const struct ical_inst *inst, icaltimezone *floating)
{
	struct icaldurationtype one = icaldurationtype_null_duration();

	one.days = 1;
	return ical_time_utc(icaltime_add(inst->start, one), floating);
}

bool ical_inst_in_range(const struct ical_inst *inst, const struct ical_object *obj,
			icaltimezone *floating, const struct ical_time_range *tr)
{
	int64_t start = tr->has_start ? tr->start : ICAL_TIME_MIN;
	int64_t end = tr->has_end ? tr->end : ICAL_TIME_MAX;
	icalcomponent *comp = inst->comp;
	int64_t ds = inst->start_utc, de;
	bool has_end;

	switch (icalcomponent_isa(comp)) {
	case ICAL_VEVENT_COMPONENT: {
		icalproperty *dp = icalcomponent_get_first_property(comp, ICAL_DURATION_PROPERTY);

		if (!inst->has_start)
			return false;
		if (inst->has_period_end ||
		    icalcomponent_get_first_property(comp, ICAL_DTEND_PROPERTY) != NULL) {
			de = ical_comp_end_utc(obj, comp, inst, floating, &has_end);
			return start < de && end > ds;
		}
		if (dp != NULL) {
			de = ical_comp_end_utc(obj, comp, inst, floating, &has_end);
			if (de > ds)
				return start < de && end > ds;
			return start <= ds && end > ds;
		}
		if (!inst->start.is_date)
			return start <= ds && end > ds;
		return start < next_day_utc(inst, floating) && end > ds;
	}
	case ICAL_VTODO_COMPONENT: {
		bool has_due, has_completed, has_created;
		icalproperty *dp = icalcomponent_get_first_property(comp, ICAL_DURATION_PROPERTY);
		int64_t due = prop_utc(obj, comp, ICAL_DUE_PROPERTY, floating, &has_due);
		int64_t completed = prop_utc(obj, comp, ICAL_COMPLETED_PROPERTY, floating, &has_completed);
		int64_t created = prop_utc(obj, comp, ICAL_CREATED_PROPERTY, floating, &has_created);

		if (inst->has_start && dp != NULL) {
			de = ical_comp_end_utc(obj, comp, inst, floating, &has_end);
			return start <= de && (end > ds || end >= de);
		}
		if (inst->has_start && has_due) {
			de = ical_comp_end_utc(obj, comp, inst, floating, &has_end);
			return (start < de || start <= ds) && (end > ds || end >= de);
		}
		if (inst->has_start)
			return start <= ds && end > ds;
		if (has_due) {
			due += inst->shift;
			return start < due && end >= due;
		}
		if (has_completed && has_created)
			return (start <= created || start <= completed) &&
			       (end >= created || end >= completed);
		if (has_completed)
			return start <= completed && end >= completed;
		if (has_created)
			return end > created;
		return true;
	}
	case ICAL_VJOURNAL_COMPONENT:
		if (!inst->has_start)
			return false;
		if (!inst->start.is_date)
			return start <= ds && end > ds;
		return start < next_day_utc(inst, floating) && end > ds;
	case ICAL_VFREEBUSY_COMPONENT: {
		bool any = false, has_s;

		for (icalproperty *p = icalcomponent_get_first_property(comp, ICAL_FREEBUSY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(comp, ICAL_FREEBUSY_PROPERTY)) {
			struct icalperiodtype per = icalproperty_get_freebusy(p);
			int64_t ps = ical_time_utc(per.start, floating), pe;

			any = true;
			if (!icaltime_is_null_time(per.end))
				pe = ical_time_utc(per.end, floating);
			else
				pe = ps + icaldurationtype_as_int(per.duration);
			if (start < pe && end > ps)
				return true;
		}
		if (any)
			return false;
		ds = prop_utc(obj, comp, ICAL_DTSTART_PROPERTY, floating, &has_s);
		de = prop_utc(obj, comp, ICAL_DTEND_PROPERTY, floating, &has_end);
		if (has_s && has_end)
			return start <= de && end > ds;
		return false;
	}
	default:
		return false;
	}
}
