/* calendar/ical-object: the text scan that bounds what libical is given,
 * parsing, time helpers, the floating timezone, validation of calendar
 * object resources (RFC 4791 4.1) and their index fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ical-private.h"
#include "util.h"

/* ---- scan ------------------------------------------------------------ */

static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) { i++; continue; }
		if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
		else return false;
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += n + 1;
	}
	return true;
}

#define SCAN_MAX_DEPTH 16

int ical_scan_text(const char *data, size_t len, const struct ical_limits *limits,
		   bool stream, struct ical_scan *scan_r, struct ical_error *err_r)
{
	char stack[SCAN_MAX_DEPTH][48];
	unsigned depth = 0, line_no = 0, tz_props = 0, tz_depth = 0;
	size_t pos = 0;

	memset(scan_r, 0, sizeof(*scan_r));
	if (len > limits->max_resource_size) {
		ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "%zu bytes, more than the limit of %zu",
			       len, limits->max_resource_size);
		return -1;
	}
	if (memchr(data, '\0', len) != NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "NUL byte in the data");
		return -1;
	}
	if (!utf8_valid((const unsigned char *)data, len)) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "the data is not valid UTF-8");
		return -1;
	}
	while (pos < len) {
		/* One content line: physical lines joined while the next starts
		 * with a space or a tab. Only its head is kept for BEGIN/END. */
		size_t line_start = pos;
		char head[48];
		size_t head_len = 0, line_len = 0;
		unsigned first_line = line_no + 1;
		bool cont = false;

		for (;;) {
			const char *nl = memchr(data + pos, '\n', len - pos);
			size_t end = nl ? (size_t)(nl - data) : len;
			const char *p = data + pos;
			size_t n = end - pos;

			line_no++;
			if (n > 0 && p[n - 1] == '\r')
				n--;
			if (cont && n > 0) {	/* a folded line: drop its leading blank */
				p++;
				n--;
			}
			for (size_t k = 0; k < n && head_len < sizeof(head) - 1; k++)
				head[head_len++] = p[k];
			line_len += n;
			pos = nl ? end + 1 : len;
			if (line_len > limits->max_line_len) {
				ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE,
					       "line %u: content line longer than %zu bytes",
					       first_line, limits->max_line_len);
				return -1;
			}
			if (pos >= len || (data[pos] != ' ' && data[pos] != '\t'))
				break;
			cont = true;
		}
		head[head_len] = '\0';
		if (line_len == 0)
			continue;	/* blank lines are tolerated */
		if (str_ncasecmp(head, "BEGIN:", 6) == 0) {
			const char *name = head + 6;

			if (depth == 0) {
				if (str_casecmp(name, "VCALENDAR") != 0) {
					ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
						       "line %u: BEGIN:%s outside VCALENDAR", line_no, name);
					return -1;
				}
				scan_r->calendars++;
			}
			if (depth >= limits->max_depth || depth >= SCAN_MAX_DEPTH) {
				ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
					       "line %u: components nested deeper than %u", line_no,
					       limits->max_depth);
				return -1;
			}
			if (++scan_r->components > limits->max_components && !stream) {
				ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE,
					       "line %u: more than %u components", line_no,
					       limits->max_components);
				return -1;
			}
			snprintf(stack[depth], sizeof(stack[depth]), "%s", name);
			depth++;
			if (str_casecmp(name, "VTIMEZONE") == 0 && tz_depth == 0) {
				tz_depth = depth;
				tz_props = 0;
				if (depth == 2 && scan_r->ntz < ICAL_SCAN_TZ)
					scan_r->tz_off[scan_r->ntz] = line_start;
			}
			continue;
		}
		if (str_ncasecmp(head, "END:", 4) == 0) {
			if (depth == 0 || str_casecmp(stack[depth - 1], head + 4) != 0) {
				ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
					       "line %u: %s does not close %s", line_no, head,
					       depth ? stack[depth - 1] : "any component");
				return -1;
			}
			if (depth == tz_depth) {
				if (depth == 2 && scan_r->ntz < ICAL_SCAN_TZ) {
					scan_r->tz_len[scan_r->ntz] = pos - scan_r->tz_off[scan_r->ntz];
					scan_r->ntz++;
				}
				tz_depth = 0;
			}
			depth--;
			continue;
		}
		if (depth == 0) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
				       "line %u: content outside VCALENDAR", first_line);
			return -1;
		}
		if (++scan_r->properties > limits->max_properties && !stream) {
			ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "line %u: more than %u properties",
				       first_line, limits->max_properties);
			return -1;
		}
		if (tz_depth != 0 && ++tz_props > limits->max_vtimezone_props) {
			ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE,
				       "line %u: VTIMEZONE with more than %u properties", first_line,
				       limits->max_vtimezone_props);
			return -1;
		}
		if (line_len > limits->max_text_len + 256) {
			ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE,
				       "line %u: value longer than %zu bytes", first_line,
				       limits->max_text_len);
			return -1;
		}
	}
	if (depth != 0) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "END:%s missing at the end",
			       stack[depth - 1]);
		return -1;
	}
	if (scan_r->calendars == 0) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "no VCALENDAR");
		return -1;
	}
	return 0;
}

static icalproperty *find_xlicerror(icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
	icalcompiter it;

	if (p != NULL)
		return p;
	for (it = icalcomponent_begin_component(c, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		p = find_xlicerror(icalcompiter_deref(&it));
		if (p != NULL)
			return p;
	}
	return NULL;
}

icalcomponent *ical_parse_root(const char *data, size_t len, struct ical_error *err_r)
{
	char *text = xstrndup(data, len);
	icalcomponent *root;
	icalproperty *bad;

	ical_lib_init();
	root = icalparser_parse_string(text);
	free(text);
	if (root == NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "not iCalendar data");
		return NULL;
	}
	bad = find_xlicerror(root);
	if (bad != NULL) {
		const char *msg = icalproperty_get_xlicerror(bad);

		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s", msg ? msg : "parse error");
		icalcomponent_free(root);
		return NULL;
	}
	return root;
}

/* ---- time helpers ---------------------------------------------------- */

struct icaltimetype ical_prop_time(const struct ical_object *obj, icalproperty *prop)
{
	icalvalue *v = icalproperty_get_value(prop);
	struct icaltimetype t = icaltime_null_time();
	icalparameter *par;

	if (v == NULL)
		return t;
	switch (icalvalue_isa(v)) {
	case ICAL_DATETIME_VALUE:
	case ICAL_DATE_VALUE:
		t = icalvalue_get_datetime(v);
		break;
	case ICAL_DATETIMEPERIOD_VALUE: {
		struct icaldatetimeperiodtype dp = icalvalue_get_datetimeperiod(v);

		t = icaltime_is_null_time(dp.time) ? dp.period.start : dp.time;
		break;
	}
	case ICAL_PERIOD_VALUE:
		t = icalvalue_get_period(v).start;
		break;
	default:
		return t;
	}
	if (icaltime_is_null_time(t) || t.is_date || icaltime_is_utc(t))
		return t;
	t.zone = NULL;
	par = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
	if (par != NULL && obj != NULL) {
		const char *tzid = icalparameter_get_tzid(par);
		icaltimezone *z = tzid ? ical_tzcache_lookup(obj, tzid) : NULL;

		if (z == NULL && tzid != NULL)
			z = icalcomponent_get_timezone(obj->vcal, tzid);

		if (z != NULL)
			t.zone = z;
	}
	return t;
}

bool ical_time_floating(struct icaltimetype t)
{
	return t.is_date || (t.zone == NULL && !icaltime_is_utc(t));
}

int64_t ical_time_utc(struct icaltimetype t, icaltimezone *floating)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	icaltimezone *zone;

	if (icaltime_is_null_time(t))
		return 0;
	if (t.is_date) {
		t.is_date = 0;
		t.hour = t.minute = t.second = 0;
		zone = floating ? floating : utc;
	} else if (icaltime_is_utc(t)) {
		zone = utc;
	} else if (t.zone != NULL) {
		zone = (icaltimezone *)t.zone;
	} else {
		zone = floating ? floating : utc;
	}
	t.zone = NULL;
	return (int64_t)icaltime_as_timet_with_zone(t, zone);
}

struct icaltimetype ical_utc_time(int64_t t)
{
	return icaltime_from_timet_with_zone((time_t)t, 0, icaltimezone_get_utc_timezone());
}

void ical_format_utc(int64_t t, char *buf, size_t size)
{
	struct icaltimetype tt = ical_utc_time(t);

	snprintf(buf, size, "%04d%02d%02dT%02d%02d%02dZ", tt.year, tt.month, tt.day, tt.hour,
		 tt.minute, tt.second);
}

icalcomponent_kind ical_comp_kind(enum ical_comp comp)
{
	switch (comp) {
	case ICAL_COMP_VEVENT: return ICAL_VEVENT_COMPONENT;
	case ICAL_COMP_VTODO: return ICAL_VTODO_COMPONENT;
	case ICAL_COMP_VJOURNAL: return ICAL_VJOURNAL_COMPONENT;
	case ICAL_COMP_VFREEBUSY: return ICAL_VFREEBUSY_COMPONENT;
	}
	return ICAL_NO_COMPONENT;
}

enum ical_comp ical_kind_comp(icalcomponent_kind kind)
{
	switch (kind) {
	case ICAL_VEVENT_COMPONENT: return ICAL_COMP_VEVENT;
	case ICAL_VTODO_COMPONENT: return ICAL_COMP_VTODO;
	case ICAL_VJOURNAL_COMPONENT: return ICAL_COMP_VJOURNAL;
	case ICAL_VFREEBUSY_COMPONENT: return ICAL_COMP_VFREEBUSY;
	default: return 0;
	}
}

/* ---- VTIMEZONE checks ------------------------------------------------ */

/* Every VTIMEZONE must be expandable within bounds: libical expands each
 * STANDARD/DAYLIGHT rule from its DTSTART up to a fixed year whenever a
 * time is converted, so only YEARLY rules of bounded size are accepted. */
int ical_vtimezone_check(icalcomponent *tz, const struct ical_limits *limits,
			int64_t *spent_ns, struct ical_error *err_r)
{
	icalproperty *p = icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY);
	icalcompiter it;
	unsigned rules = 0;

	if (p == NULL || icalproperty_get_tzid(p) == NULL || *icalproperty_get_tzid(p) == '\0') {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "VTIMEZONE without TZID");
		return -1;
	}
	for (it = icalcomponent_begin_component(tz, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *sub = icalcompiter_deref(&it);
		icalcomponent_kind k = icalcomponent_isa(sub);
		icalproperty *rp;

		if (k != ICAL_XSTANDARD_COMPONENT && k != ICAL_XDAYLIGHT_COMPONENT) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
				       "VTIMEZONE %s: unexpected %s component", icalproperty_get_tzid(p),
				       icalcomponent_kind_to_string(k));
			return -1;
		}
		if (icalcomponent_get_first_property(sub, ICAL_DTSTART_PROPERTY) == NULL ||
		    icalcomponent_get_first_property(sub, ICAL_TZOFFSETTO_PROPERTY) == NULL) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
				       "VTIMEZONE %s: STANDARD/DAYLIGHT without DTSTART or TZOFFSETTO",
				       icalproperty_get_tzid(p));
			return -1;
		}
		struct icaltimetype dts = icalproperty_get_dtstart(
			icalcomponent_get_first_property(sub, ICAL_DTSTART_PROPERTY));

		for (rp = icalcomponent_get_first_property(sub, ICAL_RRULE_PROPERTY); rp != NULL;
		     rp = icalcomponent_get_next_property(sub, ICAL_RRULE_PROPERTY)) {
			struct icalrecurrencetype r = icalproperty_get_rrule(rp);

			if (++rules > 64 || ical_rrule_screen(&r, dts, true, err_r) < 0 ||
			    ical_rrule_probe(&r, dts, limits, spent_ns, err_r) < 0) {
				if (rules > 64)
					ical_set_error(err_r, ICAL_MAX_INSTANCES,
						       "VTIMEZONE %s: more than 64 RRULEs",
						       icalproperty_get_tzid(p));
				return -1;
			}
		}
	}
	return 0;
}

/* ---- floating timezone ----------------------------------------------- */

int ical_tz_parse(const char *data, size_t len, const struct ical_limits *limits,
		  struct ical_tz **tz_r, struct ical_error *err_r)
{
	struct ical_scan scan;
	icalcomponent *root, *vtz = NULL;
	icalcompiter it;
	unsigned n = 0;
	struct ical_tz *tz;
	int64_t spent = 0;

	*tz_r = NULL;
	if (ical_scan_text(data, len, limits, false, &scan, err_r) < 0)
		return -1;
	if (scan.calendars != 1) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "more than one VCALENDAR");
		return -1;
	}
	root = ical_parse_root(data, len, err_r);
	if (root == NULL)
		return -1;
	for (it = icalcomponent_begin_component(root, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		n++;
		if (icalcomponent_isa(icalcompiter_deref(&it)) == ICAL_VTIMEZONE_COMPONENT)
			vtz = icalcompiter_deref(&it);
	}
	if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT || n != 1 || vtz == NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
			       "a calendar-timezone holds exactly one VTIMEZONE in a VCALENDAR");
		icalcomponent_free(root);
		return -1;
	}
	if (ical_vtimezone_check(vtz, limits, &spent, err_r) < 0) {
		icalcomponent_free(root);
		return -1;
	}
	tz = xcalloc(1, sizeof(*tz));
	tz->vcal = root;
	tz->tzid = xstrdup(icalproperty_get_tzid(
		icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY)));
	tz->zone = icalcomponent_get_timezone(root, tz->tzid);
	if (tz->zone == NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "VTIMEZONE %s unusable", tz->tzid);
		ical_tz_free(&tz);
		return -1;
	}
	*tz_r = tz;
	return 0;
}

const char *ical_tz_id(const struct ical_tz *tz)
{
	return tz->tzid;
}

void ical_tz_free(struct ical_tz **tzp)
{
	struct ical_tz *tz = *tzp;

	if (tz == NULL)
		return;
	*tzp = NULL;
	if (tz->vcal != NULL)
		icalcomponent_free(tz->vcal);
	free(tz->tzid);
	free(tz);
}

/* ---- validation ------------------------------------------------------ */

static bool kind_is_known_content(icalcomponent_kind k)
{
	return k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT ||
	       k == ICAL_VJOURNAL_COMPONENT || k == ICAL_VFREEBUSY_COMPONENT ||
	       k == ICAL_VAVAILABILITY_COMPONENT || k == ICAL_VPOLL_COMPONENT ||
	       k == ICAL_X_COMPONENT;
}

/* TZIDs used in comp (and its alarms) must have a VTIMEZONE in vcal. */
static int check_tzids(icalcomponent *vcal, icalcomponent *comp, struct ical_error *err_r)
{
	icalproperty *p;
	icalcompiter it;

	for (p = icalcomponent_get_first_property(comp, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(comp, ICAL_ANY_PROPERTY)) {
		icalparameter *par = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
		const char *tzid = par ? icalparameter_get_tzid(par) : NULL;

		if (par == NULL)
			continue;
		if (tzid == NULL || icalcomponent_get_timezone(vcal, tzid) == NULL) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
				       "%s: TZID=%s has no VTIMEZONE in the object",
				       icalproperty_get_property_name(p), tzid ? tzid : "");
			return -1;
		}
	}
	for (it = icalcomponent_begin_component(comp, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it))
		if (check_tzids(vcal, icalcompiter_deref(&it), err_r) < 0)
			return -1;
	return 0;
}

static unsigned count_props(icalcomponent *c, icalproperty_kind kind)
{
	unsigned n = 0;

	for (icalproperty *p = icalcomponent_get_first_property(c, kind); p != NULL;
	     p = icalcomponent_get_next_property(c, kind))
		n++;
	return n;
}

static int check_date_limits(const struct ical_object *obj, icalcomponent *comp,
			     const struct ical_limits *limits, struct ical_error *err_r)
{
	static const icalproperty_kind kinds[] = {
		ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY, ICAL_DUE_PROPERTY,
		ICAL_RECURRENCEID_PROPERTY, ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY,
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		for (icalproperty *p = icalcomponent_get_first_property(comp, kinds[i]); p != NULL;
		     p = icalcomponent_get_next_property(comp, kinds[i])) {
			struct icaltimetype t = ical_prop_time(obj, p);
			int64_t u;

			if (icaltime_is_null_time(t)) {
				if (kinds[i] == ICAL_RDATE_PROPERTY)
					continue;
				ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s: not a date or date-time",
					       icalproperty_get_property_name(p));
				return -1;
			}
			if (!icaltime_is_valid_time(t) || t.year < 1 || t.year > 9999) {
				ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s: invalid date",
					       icalproperty_get_property_name(p));
				return -1;
			}
			/* Floating: compare with the widest offsets so that no zone
			 * can place it outside the limits. */
			u = ical_time_utc(t, NULL);
			if (u < limits->min_date_time + (ical_time_floating(t) ? ICAL_FLOAT_SLOP : 0)) {
				ical_set_error(err_r, ICAL_MIN_DATE_TIME, "%s: before the earliest date accepted",
					       icalproperty_get_property_name(p));
				return -1;
			}
			if (u > limits->max_date_time - (ical_time_floating(t) ? ICAL_FLOAT_SLOP : 0)) {
				ical_set_error(err_r, ICAL_MAX_DATE_TIME, "%s: after the latest date accepted",
					       icalproperty_get_property_name(p));
				return -1;
			}
		}
	}
	return 0;
}

static int check_component(struct ical_object *obj, icalcomponent *comp,
			   const struct ical_limits *limits, struct ical_error *err_r)
{
	icalcomponent_kind k = icalcomponent_isa(comp);
	const char *kname = icalcomponent_kind_to_string(k);
	icalproperty *dtstart = icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY);
	icalproperty *dtend = icalcomponent_get_first_property(comp, ICAL_DTEND_PROPERTY);
	icalproperty *due = icalcomponent_get_first_property(comp, ICAL_DUE_PROPERTY);
	icalproperty *dur = icalcomponent_get_first_property(comp, ICAL_DURATION_PROPERTY);
	icalproperty *rrule;
	unsigned attendees = count_props(comp, ICAL_ATTENDEE_PROPERTY);

	if (count_props(comp, ICAL_DTSTART_PROPERTY) > 1 || count_props(comp, ICAL_DTEND_PROPERTY) > 1 ||
	    count_props(comp, ICAL_DUE_PROPERTY) > 1 || count_props(comp, ICAL_DURATION_PROPERTY) > 1 ||
	    count_props(comp, ICAL_RECURRENCEID_PROPERTY) > 1 || count_props(comp, ICAL_RRULE_PROPERTY) > 1) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
			       "%s: DTSTART, DTEND, DUE, DURATION, RECURRENCE-ID and RRULE may occur once",
			       kname);
		return -1;
	}
	if (k == ICAL_VEVENT_COMPONENT && dtstart == NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "VEVENT without DTSTART");
		return -1;
	}
	if ((dtend != NULL && dur != NULL) || (due != NULL && dur != NULL)) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s: DURATION with DTEND or DUE", kname);
		return -1;
	}
	if (dur != NULL && dtstart == NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s: DURATION without DTSTART", kname);
		return -1;
	}
	if (dur != NULL) {
		struct icaldurationtype d = icalproperty_get_duration(dur);

		if (icaldurationtype_is_bad_duration(d) || d.is_neg) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s: DURATION invalid or negative",
				       kname);
			return -1;
		}
	}
	if (dtstart != NULL && (dtend != NULL || due != NULL)) {
		struct icaltimetype s = ical_prop_time(obj, dtstart);
		struct icaltimetype e = ical_prop_time(obj, dtend ? dtend : due);

		if (s.is_date != e.is_date) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA,
				       "%s: DTSTART and %s differ in value type (DATE vs DATE-TIME)",
				       kname, dtend ? "DTEND" : "DUE");
			return -1;
		}
		if (ical_time_utc(e, NULL) < ical_time_utc(s, NULL) -
			    (ical_time_floating(s) != ical_time_floating(e) ? 2 * ICAL_FLOAT_SLOP : 0)) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s: %s before DTSTART", kname,
				       dtend ? "DTEND" : "DUE");
			return -1;
		}
	}
	if (attendees > limits->max_attendees) {
		ical_set_error(err_r, ICAL_MAX_ATTENDEES_PER_INSTANCE, "%s: %u attendees, limit %u",
			       kname, attendees, limits->max_attendees);
		return -1;
	}
	if (check_date_limits(obj, comp, limits, err_r) < 0)
		return -1;
	rrule = icalcomponent_get_first_property(comp, ICAL_RRULE_PROPERTY);
	if (rrule != NULL) {
		struct icalrecurrencetype r = icalproperty_get_rrule(rrule);

		if (dtstart == NULL) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s: RRULE without DTSTART", kname);
			return -1;
		}
		if (ical_rrule_screen(&r, ical_prop_time(obj, dtstart), false, err_r) < 0 ||
		    ical_rrule_probe(&r, ical_prop_time(obj, dtstart), limits, &obj->probe_ns,
				     err_r) < 0)
			return -1;
		if (r.count > 0 && (unsigned)r.count > limits->max_instances) {
			ical_set_error(err_r, ICAL_MAX_INSTANCES, "%s: RRULE COUNT=%d, limit %u", kname,
				       r.count, limits->max_instances);
			return -1;
		}
	}
	if ((count_props(comp, ICAL_RDATE_PROPERTY) > limits->max_instances)) {
		ical_set_error(err_r, ICAL_MAX_INSTANCES, "%s: more than %u RDATEs", kname,
			       limits->max_instances);
		return -1;
	}
	return check_tzids(obj->vcal, comp, err_r);
}

static int validate(struct ical_object *obj, icalcomponent *vcal, const char *data,
		    const struct ical_scan *scan, unsigned supported,
		    const struct ical_limits *limits, struct ical_error *err_r)
{
	icalproperty *p;
	icalcompiter it;
	icalcomponent_kind kind = ICAL_NO_COMPONENT;
	const char *uid = NULL;
	unsigned masters = 0, n = 0;
	char **rids = NULL;
	int ret = -1;

	if (icalcomponent_isa(vcal) != ICAL_VCALENDAR_COMPONENT) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "not one VCALENDAR");
		return -1;
	}
	p = icalcomponent_get_first_property(vcal, ICAL_VERSION_PROPERTY);
	if (p == NULL || count_props(vcal, ICAL_VERSION_PROPERTY) != 1 ||
	    icalproperty_get_version(p) == NULL || strcmp(icalproperty_get_version(p), "2.0") != 0) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "VERSION:2.0 missing");
		return -1;
	}
	if (count_props(vcal, ICAL_PRODID_PROPERTY) != 1) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "PRODID missing or repeated");
		return -1;
	}
	if (icalcomponent_get_first_property(vcal, ICAL_METHOD_PROPERTY) != NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
			       "METHOD is not allowed in a calendar object resource");
		return -1;
	}
	p = icalcomponent_get_first_property(vcal, ICAL_CALSCALE_PROPERTY);
	if (p != NULL && (icalproperty_get_value_as_string(p) == NULL ||
			  str_casecmp(icalproperty_get_value_as_string(p), "GREGORIAN") != 0)) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "CALSCALE other than GREGORIAN");
		return -1;
	}
	/* VTIMEZONEs first: each bounded, each TZID once. */
	for (it = icalcomponent_begin_component(vcal, ICAL_VTIMEZONE_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *tz = icalcompiter_deref(&it);
		const char *tzid;

		if (ical_vtimezone_check(tz, limits, &obj->probe_ns, err_r) < 0)
			return -1;
		tzid = icalproperty_get_tzid(icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY));
		for (icalcompiter j = icalcomponent_begin_component(vcal, ICAL_VTIMEZONE_COMPONENT);
		     icalcompiter_deref(&j) != tz; icalcompiter_next(&j)) {
			icalproperty *q = icalcomponent_get_first_property(icalcompiter_deref(&j),
									   ICAL_TZID_PROPERTY);

			if (strcmp(icalproperty_get_tzid(q), tzid) == 0) {
				ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "VTIMEZONE %s twice", tzid);
				return -1;
			}
		}
	}
	/* every zone is sane: resolve them through the thread's cache */
	ical_tzcache_attach(obj, data, scan);
	for (it = icalcomponent_begin_component(vcal, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);
		icalcomponent_kind k = icalcomponent_isa(c);
		icalproperty *up, *rp;
		const char *cuid;

		if (k == ICAL_VTIMEZONE_COMPONENT)
			continue;
		if (!kind_is_known_content(k)) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_DATA, "%s is not allowed in VCALENDAR",
				       icalcomponent_kind_to_string(k));
			goto out;
		}
		if (ical_kind_comp(k) == 0 || (ical_kind_comp(k) & supported) == 0) {
			ical_set_error(err_r, ICAL_SUPPORTED_CALENDAR_COMPONENT,
				       "%s is not supported by this calendar collection",
				       k == ICAL_X_COMPONENT ? "an X- component" : icalcomponent_kind_to_string(k));
			goto out;
		}
		if (kind != ICAL_NO_COMPONENT && k != kind) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
				       "%s and %s in one resource", icalcomponent_kind_to_string(kind),
				       icalcomponent_kind_to_string(k));
			goto out;
		}
		kind = k;
		if (count_props(c, ICAL_UID_PROPERTY) != 1 ||
		    (up = icalcomponent_get_first_property(c, ICAL_UID_PROPERTY)) == NULL ||
		    (cuid = icalproperty_get_uid(up)) == NULL || *cuid == '\0') {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE, "%s without one UID",
				       icalcomponent_kind_to_string(k));
			goto out;
		}
		if (uid == NULL) {
			uid = cuid;
		} else if (strcmp(uid, cuid) != 0) {
			ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
				       "two UIDs in one resource (%.80s, %.80s)", uid, cuid);
			goto out;
		}
		rp = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
		if (rp == NULL) {
			if (++masters > 1) {
				ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
					       "two %s without RECURRENCE-ID", icalcomponent_kind_to_string(k));
				goto out;
			}
		} else {
			char buf[32];
			struct icaltimetype rt = ical_prop_time(obj, rp);

			snprintf(buf, sizeof(buf), "%lld", (long long)ical_time_utc(rt, NULL));
			for (unsigned i = 0; i < n; i++) {
				if (strcmp(rids[i], buf) == 0) {
					ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
						       "two overrides with RECURRENCE-ID %s",
						       icalproperty_get_value_as_string(rp));
					goto out;
				}
			}
			if (n >= limits->max_components)
				goto out;
			rids = xrealloc(rids, (n + 1) * sizeof(*rids));
			rids[n++] = xstrdup(buf);
		}
		if (check_component(obj, c, limits, err_r) < 0)
			goto out;
	}
	if (kind == ICAL_NO_COMPONENT) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
			       "no VEVENT, VTODO, VJOURNAL or VFREEBUSY in the VCALENDAR");
		goto out;
	}
	obj->kind = kind;
	obj->comp = ical_kind_comp(kind);
	obj->uid = xstrdup(uid);
	ret = 0;
out:
	for (unsigned i = 0; i < n; i++)
		free(rids[i]);
	free(rids);
	return ret;
}

int ical_object_parse(const char *data, size_t len, unsigned supported,
		      const struct ical_limits *limits, struct ical_object **obj_r,
		      struct ical_error *err_r)
{
	struct ical_scan scan;
	struct ical_object *obj;
	icalcomponent *root;

	*obj_r = NULL;
	if (err_r != NULL)
		memset(err_r, 0, sizeof(*err_r));
	if (ical_scan_text(data, len, limits, false, &scan, err_r) < 0)
		return -1;
	if (scan.calendars != 1) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
			       "%u VCALENDARs; a resource holds exactly one", scan.calendars);
		return -1;
	}
	root = ical_parse_root(data, len, err_r);
	if (root == NULL)
		return -1;
	obj = xcalloc(1, sizeof(*obj));
	obj->vcal = root;
	if (validate(obj, root, data, &scan, supported ? supported : ICAL_COMP_DEFAULT_SET, limits,
		     err_r) < 0) {
		if (err_r != NULL && err_r->precond == ICAL_PRECOND_NONE)
			ical_set_error(err_r, ICAL_MAX_RESOURCE_SIZE, "too many components");
		ical_object_free(&obj);
		return -1;
	}
	*obj_r = obj;
	return 0;
}

int ical_object_load(const char *data, size_t len, const struct ical_limits *limits,
		     struct ical_object **obj_r, struct ical_error *err_r)
{
	struct ical_scan scan;
	struct ical_object *obj;
	icalcomponent *root;
	icalcompiter it;

	*obj_r = NULL;
	if (ical_scan_text(data, len, limits, false, &scan, err_r) < 0)
		return -1;
	if (scan.calendars != 1) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE, "not one VCALENDAR");
		return -1;
	}
	root = ical_parse_root(data, len, err_r);
	if (root == NULL)
		return -1;
	obj = xcalloc(1, sizeof(*obj));
	obj->vcal = root;
	for (it = icalcomponent_begin_component(root, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);
		icalproperty *up = icalcomponent_get_first_property(c, ICAL_UID_PROPERTY);

		if (ical_kind_comp(icalcomponent_isa(c)) == 0)
			continue;
		if (obj->uid == NULL && up != NULL && icalproperty_get_uid(up) != NULL) {
			obj->kind = icalcomponent_isa(c);
			obj->comp = ical_kind_comp(obj->kind);
			obj->uid = xstrdup(icalproperty_get_uid(up));
		}
	}
	if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT || obj->uid == NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE, "no component with a UID");
		ical_object_free(&obj);
		return -1;
	}
	ical_tzcache_attach(obj, data, &scan);
	*obj_r = obj;
	return 0;
}

const char *ical_object_uid(const struct ical_object *obj)
{
	return obj->uid;
}

enum ical_comp ical_object_comp(const struct ical_object *obj)
{
	return obj->comp;
}

char *ical_object_to_string(const struct ical_object *obj, size_t *len_r)
{
	char *s = icalcomponent_as_ical_string_r(obj->vcal);
	char *out = xstrdup(s ? s : "");

	icalmemory_free_buffer(s);
	*len_r = strlen(out);
	return out;
}

void ical_object_free(struct ical_object **objp)
{
	struct ical_object *obj = *objp;

	if (obj == NULL)
		return;
	*objp = NULL;
	if (obj->vcal != NULL)
		icalcomponent_free(obj->vcal);
	free(obj->uid);
	free(obj);
}

/* ---- index ----------------------------------------------------------- */

struct index_ctx {
	struct ical_object *obj;
	icaltimezone *floating;
	struct ical_index *idx;
};

static void widen(struct ical_index *idx, int64_t lo, int64_t hi)
{
	if (lo < idx->first_start)
		idx->first_start = lo;
	if (hi > idx->last_end)
		idx->last_end = hi;
}

/* The span of one instance within which a time-range can match it. */
static int index_inst(const struct ical_inst *inst, void *ctx)
{
	struct index_ctx *ic = ctx;
	struct ical_object *obj = ic->obj;
	icalcomponent *c = inst->comp;
	int64_t s = inst->start_utc, e;
	bool has;

	if (inst->has_start && ical_time_floating(inst->start))
		ic->idx->has_floating = true;
	switch (icalcomponent_isa(c)) {
	case ICAL_VEVENT_COMPONENT:
	case ICAL_VJOURNAL_COMPONENT:
		if (!inst->has_start)
			break;
		e = ical_comp_end_utc(ic->obj, c, inst, ic->floating, &has);
		if (!has)
			e = inst->start.is_date ? s + 86400 : s;
		widen(ic->idx, s, e > s ? e : s);
		break;
	case ICAL_VTODO_COMPONENT: {
		icalproperty *due = icalcomponent_get_first_property(c, ICAL_DUE_PROPERTY);
		icalproperty *comp = icalcomponent_get_first_property(c, ICAL_COMPLETED_PROPERTY);
		icalproperty *cre = icalcomponent_get_first_property(c, ICAL_CREATED_PROPERTY);

		if (inst->has_start) {
			e = ical_comp_end_utc(ic->obj, c, inst, ic->floating, &has);
			widen(ic->idx, s, has && e > s ? e : s);
		} else if (due != NULL) {
			struct icaltimetype t = ical_prop_time(obj, due);

			if (ical_time_floating(t))
				ic->idx->has_floating = true;
			e = ical_time_utc(t, ic->floating) + inst->shift;
			widen(ic->idx, e, e);
		} else if (comp != NULL || cre != NULL) {
			int64_t a = comp ? ical_time_utc(ical_prop_time(obj, comp), ic->floating) : 0;
			int64_t b = cre ? ical_time_utc(ical_prop_time(obj, cre), ic->floating) : 0;

			if (comp && cre)
				widen(ic->idx, a < b ? a : b, a > b ? a : b);
			else if (comp)
				widen(ic->idx, a, a);
			else
				widen(ic->idx, b, ICAL_TIME_MAX);
		} else {
			widen(ic->idx, ICAL_TIME_MIN, ICAL_TIME_MAX);
		}
		break;
	}
	case ICAL_VFREEBUSY_COMPONENT: {
		icalproperty *sp = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
		icalproperty *ep = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY);

		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_FREEBUSY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_FREEBUSY_PROPERTY)) {
			struct icalperiodtype per = icalproperty_get_freebusy(p);
			int64_t ps = ical_time_utc(per.start, ic->floating);
			int64_t pe = icaltime_is_null_time(per.end) ?
				ps + icaldurationtype_as_int(per.duration) :
				ical_time_utc(per.end, ic->floating);

			widen(ic->idx, ps, pe);
		}
		if (sp != NULL && ep != NULL)
			widen(ic->idx, ical_time_utc(ical_prop_time(obj, sp), ic->floating),
			      ical_time_utc(ical_prop_time(obj, ep), ic->floating));
		break;
	}
	default:
		break;
	}
	return 0;
}

static char *prop_text(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty *p = icalcomponent_get_first_property(c, kind);
	const char *v;

	if (p == NULL)
		return NULL;
	v = icalproperty_get_value_as_string(p);
	return v ? xstrdup(v) : NULL;
}

static bool is_open_ended(icalcomponent *master)
{
	icalproperty *rr = master ? icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY) : NULL;
	struct icalrecurrencetype r;

	if (rr == NULL)
		return false;
	r = icalproperty_get_rrule(rr);
	return r.count == 0 && icaltime_is_null_time(r.until);
}

int ical_object_index(struct ical_object *obj, const struct ical_tz *floating_tz,
		      const struct ical_limits *limits, struct ical_index *idx,
		      struct ical_error *err_r)
{
	icaltimezone *floating = floating_tz ? floating_tz->zone : NULL;
	icalcomponent *master = NULL, *first = NULL;
	struct index_ctx ic = { obj, floating, idx };
	size_t cap = 0;
	icalcompiter it;

	memset(idx, 0, sizeof(*idx));
	idx->uid = xstrdup(obj->uid);
	idx->comp = obj->comp;
	idx->first_start = ICAL_TIME_MAX;
	idx->last_end = ICAL_TIME_MIN;
	idx->due = idx->completed = idx->created = idx->dtstart = ICAL_TIME_MIN;
	for (it = icalcomponent_begin_component(obj->vcal, obj->kind); icalcompiter_deref(&it) != NULL;
	     icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);

		if (first == NULL)
			first = c;
		if (icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY) == NULL) {
			if (master == NULL)
				master = c;
		} else {
			idx->recurs = true;
		}
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
			const char *a = icalproperty_get_attendee(p);
			bool dup = false;

			if (a == NULL)
				continue;
			for (size_t i = 0; i < idx->attendee_count && !dup; i++)
				dup = str_casecmp(idx->attendees[i], a) == 0;
			if (dup)
				continue;
			if (idx->attendee_count == cap) {
				cap = cap ? cap * 2 : 8;
				idx->attendees = xrealloc(idx->attendees, cap * sizeof(char *));
			}
			idx->attendees[idx->attendee_count++] = xstrdup(a);
		}
	}
	if (first == NULL) {
		ical_set_error(err_r, ICAL_VALID_CALENDAR_OBJECT_RESOURCE, "no component");
		ical_index_free(idx);
		return -1;
	}
	{
		icalcomponent *m = master ? master : first;
		icalproperty *p;

		idx->summary = prop_text(m, ICAL_SUMMARY_PROPERTY);
		idx->organizer = prop_text(m, ICAL_ORGANIZER_PROPERTY);
		if (master != NULL && (icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY) ||
				       icalcomponent_get_first_property(master, ICAL_RDATE_PROPERTY)))
			idx->recurs = true;
		if ((p = icalcomponent_get_first_property(m, ICAL_DTSTART_PROPERTY)) != NULL)
			idx->dtstart = ical_time_utc(ical_prop_time(obj, p), floating);
		if ((p = icalcomponent_get_first_property(m, ICAL_DUE_PROPERTY)) != NULL)
			idx->due = ical_time_utc(ical_prop_time(obj, p), floating);
		if ((p = icalcomponent_get_first_property(m, ICAL_COMPLETED_PROPERTY)) != NULL)
			idx->completed = ical_time_utc(ical_prop_time(obj, p), floating);
		if ((p = icalcomponent_get_first_property(m, ICAL_CREATED_PROPERTY)) != NULL)
			idx->created = ical_time_utc(ical_prop_time(obj, p), floating);
	}
	if (is_open_ended(master)) {
		/* Only the first instance bounds it; instances before the master's
		 * DTSTART can come only from overrides or RDATEs. */
		uint64_t work = 0;
		icalproperty *sp = icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY);
		struct ical_inst inst;
		int64_t s = ical_time_utc(ical_prop_time(obj, sp), floating);

		memset(&inst, 0, sizeof(inst));
		inst.comp = master;
		inst.has_start = true;
		inst.start = ical_prop_time(obj, sp);
		inst.start_utc = s;
		index_inst(&inst, &ic);
		/* RDATEs and overrides before the DTSTART: walk up to it */
		if (ical_foreach_instance(obj, floating, ICAL_TIME_MIN, s, limits, &work,
					  index_inst, &ic, err_r) < 0) {
			ical_index_free(idx);
			return -1;
		}
		idx->last_end = ICAL_TIME_MAX;
	} else {
		uint64_t work = 0;

		if (ical_foreach_instance(obj, floating, ICAL_TIME_MIN, ICAL_TIME_MAX, limits, &work,
					  index_inst, &ic, err_r) < 0) {
			ical_index_free(idx);
			return -1;
		}
	}
	if (idx->first_start > idx->last_end) {
		/* no time-range can match it (a VJOURNAL without DTSTART):
		 * unbounded keeps the store's range columns meaningful */
		idx->first_start = ICAL_TIME_MIN;
		idx->last_end = ICAL_TIME_MAX;
	}
	if (idx->has_floating) {
		if (idx->first_start != ICAL_TIME_MIN && idx->first_start != ICAL_TIME_MAX)
			idx->first_start -= ICAL_FLOAT_SLOP;
		if (idx->last_end != ICAL_TIME_MAX && idx->last_end != ICAL_TIME_MIN)
			idx->last_end += ICAL_FLOAT_SLOP;
	}
	return 0;
}

void ical_index_free(struct ical_index *idx)
{
	free(idx->uid);
	free(idx->summary);
	free(idx->organizer);
	for (size_t i = 0; i < idx->attendee_count; i++)
		free(idx->attendees[i]);
	free(idx->attendees);
	memset(idx, 0, sizeof(*idx));
}
