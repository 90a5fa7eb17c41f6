/* calendar/itip: iTIP (RFC 5546) messages on libical: parsing with the
 * per-method rules of section 3, the messages an organizer's or attendee's
 * change sends (RFC 6638 3.2), and the application of received messages to
 * stored copies. See itip.h and docs/scheduling-itip.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ical-private.h"
#include "itip.h"
#include "util.h"

#define ITIP_PRODID "-//Cairn//iTIP 1.0//EN"

struct itip_message {
	icalcomponent *vcal;
	struct ical_object *obj;	/* view of vcal for time helpers (vcal owned here) */
	enum itip_method method;
	enum ical_comp comp;
	icalcomponent_kind kind;
	char *uid;
	char *organizer, *organizer_sent_by;
	char *sender, *sender_sent_by, *sender_partstat;
	char *summary;
	int sequence;
	bool has_instances, has_master;
	char **attendees;
	size_t nattendees;
};

static const char *const method_names[] = {
	[ITIP_PUBLISH] = "PUBLISH", [ITIP_REQUEST] = "REQUEST", [ITIP_REPLY] = "REPLY",
	[ITIP_ADD] = "ADD", [ITIP_CANCEL] = "CANCEL", [ITIP_REFRESH] = "REFRESH",
	[ITIP_COUNTER] = "COUNTER", [ITIP_DECLINECOUNTER] = "DECLINECOUNTER",
};

const char *itip_method_name(enum itip_method m)
{
	if ((unsigned)m >= ARRAY_SIZE(method_names))
		return NULL;
	return method_names[m];
}

int itip_method_from_name(const char *name, enum itip_method *m_r)
{
	for (size_t i = 0; i < ARRAY_SIZE(method_names); i++) {
		if (name != NULL && str_casecmp(name, method_names[i]) == 0) {
			*m_r = (enum itip_method)i;
			return 0;
		}
	}
	return -1;
}

/* ---- addresses and parameters ----------------------------------------- */

char *itip_address(const char *value)
{
	char *s;

	if (value == NULL)
		return NULL;
	while (*value == ' ' || *value == '\t')
		value++;
	if (str_ncasecmp(value, "mailto:", 7) == 0)
		value += 7;
	s = xstrdup(value);
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

struct strpos {
	const char *s;
	size_t pos;
};

static int cmp_strpos(const void *a, const void *b)
{
	const struct strpos *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	return c != 0 ? c : x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Drop repeated strings of v (malloc'ed, freed here), keeping the first of
 * each in order. Returns the new count. O(n log n). */
static size_t dedupe(char **v, size_t n)
{
	struct strpos *sp;
	bool *drop;
	size_t m = 0;

	if (n < 2)
		return n;
	sp = xcalloc(n, sizeof(*sp));
	drop = xcalloc(n, sizeof(*drop));
	for (size_t i = 0; i < n; i++) {
		sp[i].s = v[i];
		sp[i].pos = i;
	}
	qsort(sp, n, sizeof(*sp), cmp_strpos);
	for (size_t i = 1; i < n; i++)
		if (strcmp(sp[i].s, sp[i - 1].s) == 0)
			drop[sp[i].pos] = true;
	for (size_t i = 0; i < n; i++) {
		if (drop[i])
			free(v[i]);
		else
			v[m++] = v[i];
	}
	free(sp);
	free(drop);
	return m;
}

/* Address equality: "mailto:" optional on either side, case-insensitive. */
static bool addr_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	while (*a == ' ' || *a == '\t')
		a++;
	while (*b == ' ' || *b == '\t')
		b++;
	if (str_ncasecmp(a, "mailto:", 7) == 0)
		a += 7;
	if (str_ncasecmp(b, "mailto:", 7) == 0)
		b += 7;
	return *a != '\0' && str_casecmp(a, b) == 0;
}

static const char *prop_addr(icalproperty *p)
{
	icalvalue *v = icalproperty_get_value(p);

	return v ? icalvalue_as_ical_string(v) : NULL;
}

/* A parameter's value (libical temporary buffer), NULL when absent. */
static const char *param(icalproperty *p, const char *name)
{
	return icalproperty_get_parameter_as_string(p, name);
}

static bool param_is(icalproperty *p, const char *name, const char *value)
{
	const char *v = param(p, name);

	return v != NULL && str_casecmp(v, value) == 0;
}

static void set_param(icalproperty *p, const char *name, const char *value)
{
	icalproperty_remove_parameter_by_name(p, name);
	if (value != NULL)
		icalproperty_set_parameter_from_string(p, name, value);
}

/* SCHEDULE-AGENT of a property: SERVER unless CLIENT, NONE or other. */
static bool agent_is_server(icalproperty *p)
{
	const char *v = param(p, "SCHEDULE-AGENT");

	return v == NULL || str_casecmp(v, "SERVER") == 0;
}

static void strip_sched_params(icalproperty *p)
{
	icalproperty_remove_parameter_by_name(p, "SCHEDULE-AGENT");
	icalproperty_remove_parameter_by_name(p, "SCHEDULE-STATUS");
	icalproperty_remove_parameter_by_name(p, "SCHEDULE-FORCE-SEND");
}

static icalproperty *find_attendee(icalcomponent *c, const char *addr)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY))
		if (addr_eq(prop_addr(p), addr))
			return p;
	return NULL;
}

static unsigned count_props(icalcomponent *c, icalproperty_kind kind)
{
	unsigned n = 0;

	for (icalproperty *p = icalcomponent_get_first_property(c, kind); p != NULL;
	     p = icalcomponent_get_next_property(c, kind))
		n++;
	return n;
}

static int comp_sequence(icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY);

	return p ? icalproperty_get_sequence(p) : 0;
}

static void set_sequence(icalcomponent *c, int seq)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY);

	if (p != NULL)
		icalproperty_set_sequence(p, seq);
	else
		icalcomponent_add_property(c, icalproperty_new_sequence(seq));
}

static int64_t comp_dtstamp(icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_DTSTAMP_PROPERTY);

	return p ? ical_time_utc(icalproperty_get_dtstamp(p), NULL) : 0;
}

static void set_dtstamp_now(icalcomponent *c)
{
	icalproperty *p;

	while ((p = icalcomponent_get_first_property(c, ICAL_DTSTAMP_PROPERTY)) != NULL) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
	icalcomponent_add_property(c, icalproperty_new_dtstamp(ical_utc_time((int64_t)time(NULL))));
}

static void remove_props(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty *p;

	while ((p = icalcomponent_get_first_property(c, kind)) != NULL) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
}

static void remove_alarms(icalcomponent *c)
{
	icalcomponent *a;

	while ((a = icalcomponent_get_first_component(c, ICAL_VALARM_COMPONENT)) != NULL) {
		icalcomponent_remove_component(c, a);
		icalcomponent_free(a);
	}
}

static const char *status_text(icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);

	return p ? icalproperty_get_value_as_string(p) : NULL;
}

static bool is_cancelled(icalcomponent *c)
{
	const char *s = status_text(c);

	return s != NULL && str_casecmp(s, "CANCELLED") == 0;
}

static bool is_content_kind(icalcomponent_kind k)
{
	return ical_kind_comp(k) != 0;
}

/* The content components of a VCALENDAR (VTIMEZONEs and unknown kinds
 * skipped), at most max, into a malloc'ed array. */
static size_t content_comps(icalcomponent *vcal, icalcomponent ***out)
{
	size_t n = 0, cap = 0;
	icalcomponent **v = NULL;

	for (icalcompiter it = icalcomponent_begin_component(vcal, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);

		if (!is_content_kind(icalcomponent_isa(c)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = c;
	}
	*out = v;
	return n;
}

/* The kind properties of c in a malloc'ed array: libical's property
 * iterator is one per component, so loops that call code iterating the
 * same component's properties walk an array instead. */
static size_t props_of(icalcomponent *c, icalproperty_kind kind, icalproperty ***out)
{
	size_t n = 0;
	icalproperty **v = NULL;

	for (icalproperty *p = icalcomponent_get_first_property(c, kind); p != NULL;
	     p = icalcomponent_get_next_property(c, kind)) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = p;
	}
	*out = v;
	return n;
}

/* ---- RECURRENCE-IDs ----------------------------------------------------- */

/* The key of a RECURRENCE-ID or EXDATE/RDATE time: its UTC seconds
 * (floating and DATE values as UTC; a zone's time through its VTIMEZONE). */
#define RID_NONE INT64_MIN

static int64_t time_key(const struct ical_object *obj, icalproperty *p)
{
	struct icaltimetype t = ical_prop_time(obj, p);

	if (icaltime_is_null_time(t))
		return RID_NONE + 1;
	return ical_time_utc(t, NULL);
}

static int64_t comp_rid(const struct ical_object *obj, icalcomponent *c)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);

	return p ? time_key(obj, p) : RID_NONE;
}

static icalcomponent *find_comp(const struct ical_object *obj, int64_t rid)
{
	for (icalcompiter it = icalcomponent_begin_component(obj->vcal, ICAL_ANY_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *c = icalcompiter_deref(&it);

		if (!is_content_kind(icalcomponent_isa(c)))
			continue;
		if (comp_rid(obj, c) == rid)
			return c;
	}
	return NULL;
}

static icalcomponent *master_of(const struct ical_object *obj)
{
	return obj ? find_comp(obj, RID_NONE) : NULL;
}

static bool has_exdate(const struct ical_object *obj, icalcomponent *master, int64_t key)
{
	if (master == NULL)
		return false;
	for (icalproperty *p = icalcomponent_get_first_property(master, ICAL_EXDATE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(master, ICAL_EXDATE_PROPERTY))
		if (time_key(obj, p) == key)
			return true;
	return false;
}

/* ---- parsing ------------------------------------------------------------ */

static void itip_err(struct ical_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void itip_err(struct ical_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->precond = ICAL_VALID_CALENDAR_DATA;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
}

/* Prefix err->text with a request-status ("3.6;..."). */
static void prefix_status(struct ical_error *err, const char *status)
{
	size_t sl = strlen(status) + 1, tl;

	if (err == NULL)
		return;
	tl = strnlen(err->text, sizeof(err->text) - 1 - sl);
	memmove(err->text + sl, err->text, tl);
	memcpy(err->text, status, sl - 1);
	err->text[sl - 1] = ';';
	err->text[sl + tl] = '\0';
}

/* Properties per method (RFC 5546 3.2-3.5 tables); required ones. */
struct prop_rule {
	icalproperty_kind kind;
	const char *name;
};

static bool partstat_valid(const char *v, icalcomponent_kind k)
{
	static const char *const ev[] = { "NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE",
					  "DELEGATED" };

	if (v == NULL)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(ev); i++)
		if (str_casecmp(v, ev[i]) == 0)
			return true;
	if (k == ICAL_VTODO_COMPONENT &&
	    (str_casecmp(v, "COMPLETED") == 0 || str_casecmp(v, "IN-PROCESS") == 0))
		return true;
	return str_ncasecmp(v, "X-", 2) == 0;
}

static bool method_allowed(enum itip_method m, icalcomponent_kind k)
{
	switch (k) {
	case ICAL_VEVENT_COMPONENT:
	case ICAL_VTODO_COMPONENT:
		return true;
	case ICAL_VJOURNAL_COMPONENT:	/* RFC 5546 3.4 */
		return m == ITIP_PUBLISH || m == ITIP_ADD || m == ITIP_CANCEL;
	case ICAL_VFREEBUSY_COMPONENT:	/* RFC 5546 3.3 */
		return m == ITIP_PUBLISH || m == ITIP_REQUEST || m == ITIP_REPLY;
	default:
		return false;
	}
}

static int check_comp(struct itip_message *m, icalcomponent *c, const struct ical_limits *lim,
		      struct ical_error *err_r)
{
	const char *kn = icalcomponent_kind_to_string(icalcomponent_isa(c));
	const char *mn = method_names[m->method];
	icalcomponent_kind k = icalcomponent_isa(c);
	unsigned natt = count_props(c, ICAL_ATTENDEE_PROPERTY);
	unsigned norg = count_props(c, ICAL_ORGANIZER_PROPERTY);
	bool is_fb = k == ICAL_VFREEBUSY_COMPONENT;
	icalproperty *p;

	if (count_props(c, ICAL_DTSTAMP_PROPERTY) != 1) {
		itip_err(err_r, "3.11;DTSTAMP: every %s of an iTIP message has exactly one", kn);
		return -1;
	}
	if (count_props(c, ICAL_SEQUENCE_PROPERTY) > 1 || count_props(c, ICAL_RECURRENCEID_PROPERTY) > 1 ||
	    count_props(c, ICAL_DTSTART_PROPERTY) > 1 || norg > 1) {
		itip_err(err_r, "3.1;%s: SEQUENCE, RECURRENCE-ID, DTSTART and ORGANIZER occur at most once",
			 kn);
		return -1;
	}
	if (natt > lim->max_attendees) {
		itip_err(err_r, "3.10;ATTENDEE: %u in one %s, more than the limit of %u", natt, kn,
			 lim->max_attendees);
		return -1;
	}
	/* ORGANIZER: required by every method (PUBLISH included, 3.2.1) */
	if (norg != 1) {
		itip_err(err_r, "3.11;ORGANIZER: required in every %s of a %s", kn, mn);
		return -1;
	}
	p = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY);
	if (prop_addr(p) == NULL || *prop_addr(p) == '\0') {
		itip_err(err_r, "3.1;ORGANIZER: empty calendar user address");
		return -1;
	}
	if (m->organizer == NULL) {
		m->organizer = itip_address(prop_addr(p));
		if (param(p, "SENT-BY") != NULL)
			m->organizer_sent_by = itip_address(param(p, "SENT-BY"));
	} else if (!addr_eq(prop_addr(p), m->organizer)) {
		itip_err(err_r, "3.1;ORGANIZER: differs between the components of one message");
		return -1;
	}
	switch (m->method) {
	case ITIP_PUBLISH:
		if ((k == ICAL_VEVENT_COMPONENT || is_fb) &&
		    icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY) == NULL) {
			itip_err(err_r, "3.11;DTSTART: required in a PUBLISH %s", kn);
			return -1;
		}
		break;
	case ITIP_REQUEST:
	case ITIP_ADD:
		if (natt == 0) {
			itip_err(err_r, "3.11;ATTENDEE: a %s %s has at least one", mn, kn);
			return -1;
		}
		if ((k == ICAL_VEVENT_COMPONENT || is_fb) &&
		    icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY) == NULL) {
			itip_err(err_r, "3.11;DTSTART: required in a %s %s", mn, kn);
			return -1;
		}
		if (is_fb && icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY) == NULL) {
			itip_err(err_r, "3.11;DTEND: required in a REQUEST VFREEBUSY");
			return -1;
		}
		if (m->method == ITIP_ADD) {
			if (icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY) == NULL) {
				itip_err(err_r, "3.11;SEQUENCE: required in an ADD %s", kn);
				return -1;
			}
			if (icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY) != NULL) {
				itip_err(err_r, "3.1;RECURRENCE-ID: not allowed in an ADD %s", kn);
				return -1;
			}
		}
		break;
	case ITIP_REPLY:
	case ITIP_REFRESH:
		if (natt != 1) {
			itip_err(err_r, "3.1;ATTENDEE: a %s has exactly one ATTENDEE per %s (%u here)", mn,
				 kn, natt);
			return -1;
		}
		break;
	case ITIP_COUNTER:
		if (natt == 0) {
			itip_err(err_r, "3.11;ATTENDEE: a COUNTER %s has at least one", kn);
			return -1;
		}
		if (k == ICAL_VEVENT_COMPONENT &&
		    icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY) == NULL) {
			itip_err(err_r, "3.11;DTSTART: required in a COUNTER VEVENT");
			return -1;
		}
		break;
	case ITIP_CANCEL:
		if (icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY) == NULL) {
			itip_err(err_r, "3.11;SEQUENCE: required in a CANCEL %s", kn);
			return -1;
		}
		break;
	case ITIP_DECLINECOUNTER:
		break;
	}
	for (p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
		const char *a = prop_addr(p);

		if (a == NULL || *a == '\0') {
			itip_err(err_r, "3.1;ATTENDEE: empty calendar user address");
			return -1;
		}
		if (!partstat_valid(param(p, "PARTSTAT"), k)) {
			itip_err(err_r, "3.3;ATTENDEE: PARTSTAT=%.40s is not valid in a %s",
				 param(p, "PARTSTAT"), kn);
			return -1;
		}
		/* repeats are dropped once all components are read */
		m->attendees = xrealloc(m->attendees, (m->nattendees + 1) * sizeof(char *));
		m->attendees[m->nattendees++] = itip_address(a);
		if (m->method == ITIP_REPLY || m->method == ITIP_REFRESH ||
		    (m->method == ITIP_COUNTER && natt == 1)) {
			if (m->sender == NULL) {
				m->sender = itip_address(a);
				if (param(p, "SENT-BY") != NULL)
					m->sender_sent_by = itip_address(param(p, "SENT-BY"));
				if (param(p, "PARTSTAT") != NULL) {
					m->sender_partstat = itip_address(param(p, "PARTSTAT"));
					for (char *q = m->sender_partstat; *q; q++)
						if (*q >= 'a' && *q <= 'z')
							*q = (char)(*q - 'a' + 'A');
				}
			} else if (!addr_eq(a, m->sender)) {
				itip_err(err_r, "3.1;ATTENDEE: a %s comes from one attendee; %.60s and %.60s",
					 mn, m->sender, a);
				return -1;
			}
		}
	}
	if (m->method == ITIP_REPLY && m->sender_partstat == NULL && !is_fb)
		m->sender_partstat = xstrdup("NEEDS-ACTION");
	return 0;
}

void itip_free(struct itip_message **mp)
{
	struct itip_message *m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	if (m->obj != NULL) {
		m->obj->vcal = NULL;
		ical_object_free(&m->obj);
	}
	if (m->vcal != NULL)
		icalcomponent_free(m->vcal);
	free(m->uid);
	free(m->organizer);
	free(m->organizer_sent_by);
	free(m->sender);
	free(m->sender_sent_by);
	free(m->sender_partstat);
	free(m->summary);
	for (size_t i = 0; i < m->nattendees; i++)
		free(m->attendees[i]);
	free(m->attendees);
	free(m);
}

static int validate_msg(struct itip_message *m, const struct ical_limits *lim,
			struct ical_error *err_r)
{
	icalcomponent *vcal = m->vcal;
	icalproperty *p;
	icalcomponent **comps = NULL;
	size_t n, masters = 0;
	int ret = -1;
	int64_t *rids = NULL;
	size_t nrids = 0;

	if (icalcomponent_isa(vcal) != ICAL_VCALENDAR_COMPONENT) {
		itip_err(err_r, "3.12;not a VCALENDAR");
		return -1;
	}
	p = icalcomponent_get_first_property(vcal, ICAL_VERSION_PROPERTY);
	if (p == NULL || count_props(vcal, ICAL_VERSION_PROPERTY) != 1 ||
	    icalproperty_get_version(p) == NULL || strcmp(icalproperty_get_version(p), "2.0") != 0) {
		itip_err(err_r, "3.9;VERSION: exactly one VERSION:2.0 is required");
		return -1;
	}
	if (count_props(vcal, ICAL_PRODID_PROPERTY) != 1) {
		itip_err(err_r, "3.11;PRODID: exactly one is required");
		return -1;
	}
	if (count_props(vcal, ICAL_METHOD_PROPERTY) != 1) {
		itip_err(err_r, "3.11;METHOD: an iTIP message has exactly one METHOD");
		return -1;
	}
	p = icalcomponent_get_first_property(vcal, ICAL_METHOD_PROPERTY);
	if (itip_method_from_name(icalproperty_get_value_as_string(p), &m->method) < 0) {
		itip_err(err_r, "3.14;METHOD: %.60s is not an iTIP method",
			 icalproperty_get_value_as_string(p) ? icalproperty_get_value_as_string(p) : "");
		return -1;
	}
	p = icalcomponent_get_first_property(vcal, ICAL_CALSCALE_PROPERTY);
	if (p != NULL && (icalproperty_get_value_as_string(p) == NULL ||
			  str_casecmp(icalproperty_get_value_as_string(p), "GREGORIAN") != 0)) {
		itip_err(err_r, "3.1;CALSCALE: only GREGORIAN is supported");
		return -1;
	}
	for (icalcomponent *c = icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT); c != NULL;
	     c = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind k = icalcomponent_isa(c);

		if (k == ICAL_VTIMEZONE_COMPONENT)
			continue;
		if (!is_content_kind(k)) {
			itip_err(err_r, "3.13;%s: not supported in an iTIP message",
				 k == ICAL_X_COMPONENT ? "an X- component" : icalcomponent_kind_to_string(k));
			return -1;
		}
	}
	n = content_comps(vcal, &comps);
	if (n == 0) {
		itip_err(err_r, "3.11;no VEVENT, VTODO, VJOURNAL or VFREEBUSY in the message");
		goto out;
	}
	rids = xcalloc(n, sizeof(*rids));
	for (size_t i = 0; i < n; i++) {
		icalcomponent *c = comps[i];
		icalcomponent_kind k = icalcomponent_isa(c);
		const char *kn = icalcomponent_kind_to_string(k);
		icalproperty *up = icalcomponent_get_first_property(c, ICAL_UID_PROPERTY);
		const char *uid = up ? icalproperty_get_uid(up) : NULL;
		int64_t rid;

		if (m->kind == ICAL_NO_COMPONENT) {
			m->kind = k;
			m->comp = ical_kind_comp(k);
			if (!method_allowed(m->method, k)) {
				itip_err(err_r, "3.14;METHOD: %s is not defined for %s (RFC 5546 3)",
					 method_names[m->method], kn);
				goto out;
			}
		} else if (m->kind != k) {
			itip_err(err_r, "3.1;%s and %s in one iTIP message",
				 icalcomponent_kind_to_string(m->kind), kn);
			goto out;
		}
		if (count_props(c, ICAL_UID_PROPERTY) != 1 || uid == NULL || *uid == '\0') {
			itip_err(err_r, "3.11;UID: every %s has exactly one", kn);
			goto out;
		}
		if (m->uid == NULL) {
			m->uid = xstrdup(uid);
		} else if (strcmp(m->uid, uid) != 0) {
			itip_err(err_r, "3.1;UID: one iTIP message is about one UID (%.60s, %.60s)", m->uid,
				 uid);
			goto out;
		}
		if (check_comp(m, c, lim, err_r) < 0)
			goto out;
		if (comp_sequence(c) > m->sequence)
			m->sequence = comp_sequence(c);
		rid = comp_rid(m->obj, c);
		if (rid == RID_NONE) {
			m->has_master = true;
			if (++masters > 1) {
				itip_err(err_r, "3.1;RECURRENCE-ID: two %s without one in one message", kn);
				goto out;
			}
			if (m->summary == NULL && icalcomponent_get_first_property(c, ICAL_SUMMARY_PROPERTY))
				m->summary = xstrdup(icalcomponent_get_summary(c) ?
						     icalcomponent_get_summary(c) : "");
		} else {
			m->has_instances = true;
			for (size_t j = 0; j < nrids; j++) {
				if (rids[j] == rid) {
					itip_err(err_r, "3.1;RECURRENCE-ID: two %s for one instance", kn);
					goto out;
				}
			}
			rids[nrids++] = rid;
		}
		if (icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) != NULL &&
		    icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY) == NULL) {
			itip_err(err_r, "3.11;DTSTART: required with RRULE");
			goto out;
		}
	}
	if (m->summary == NULL && icalcomponent_get_first_property(comps[0], ICAL_SUMMARY_PROPERTY))
		m->summary = xstrdup(icalcomponent_get_summary(comps[0]) ?
				     icalcomponent_get_summary(comps[0]) : "");
	m->nattendees = dedupe(m->attendees, m->nattendees);
	if (m->nattendees > lim->max_attendees) {
		itip_err(err_r, "3.10;ATTENDEE: %zu distinct attendees, more than the limit of %u",
			 m->nattendees, lim->max_attendees);
		goto out;
	}
	if ((m->method == ITIP_REPLY || m->method == ITIP_REFRESH) && m->sender == NULL) {
		itip_err(err_r, "3.11;ATTENDEE: a %s names the attendee it is from",
			 method_names[m->method]);
		goto out;
	}
	ret = 0;
out:
	free(rids);
	free(comps);
	return ret;
}

/* Everything libical expands must be bounded before times are used:
 * VTIMEZONE rules and RRULEs, as for calendar object resources. */
static int check_bounded(struct itip_message *m, const struct ical_limits *lim,
			 struct ical_error *err_r)
{
	int64_t spent = 0;
	unsigned ntz = 0;

	for (icalcomponent *c = icalcomponent_get_first_component(m->vcal, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(m->vcal, ICAL_ANY_COMPONENT)) {
		icalproperty *rr, *ds;

		if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT) {
			if (++ntz > ICAL_SCAN_TZ || ical_vtimezone_check(c, lim, &spent, err_r) < 0) {
				if (ntz > ICAL_SCAN_TZ)
					itip_err(err_r, "3.10;VTIMEZONE: more than %d in one message",
						 ICAL_SCAN_TZ);
				else
					prefix_status(err_r, "3.6");
				return -1;
			}
			continue;
		}
		rr = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
		ds = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
		if (count_props(c, ICAL_RRULE_PROPERTY) > 1) {
			itip_err(err_r, "3.1;RRULE: at most one per component");
			return -1;
		}
		if (count_props(c, ICAL_RDATE_PROPERTY) + count_props(c, ICAL_EXDATE_PROPERTY) >
		    lim->max_instances) {
			itip_err(err_r, "3.10;RDATE/EXDATE: more than %u", lim->max_instances);
			return -1;
		}
		if (rr != NULL && ds != NULL) {
			struct icalrecurrencetype r = icalproperty_get_rrule(rr);
			struct icaltimetype t = icalproperty_get_dtstart(ds);

			if (ical_rrule_screen(&r, t, false, err_r) < 0 ||
			    ical_rrule_probe(&r, t, lim, &spent, err_r) < 0) {
				prefix_status(err_r, "3.6");
				return -1;
			}
		}
	}
	return 0;
}

int itip_parse(const char *data, size_t len, const struct ical_limits *lim,
	       struct itip_message **msg_r, struct ical_error *err_r)
{
	struct ical_limits deflim;
	struct ical_scan scan;
	struct itip_message *m;
	icalcomponent *root;

	*msg_r = NULL;
	if (err_r != NULL)
		memset(err_r, 0, sizeof(*err_r));
	if (lim == NULL) {
		ical_limits_default(&deflim);
		lim = &deflim;
	}
	if (ical_scan_text(data, len, lim, false, &scan, err_r) < 0) {
		prefix_status(err_r, err_r != NULL && err_r->precond == ICAL_MAX_RESOURCE_SIZE ?
			      "3.10" : "3.1");
		return -1;
	}
	if (scan.calendars != 1) {
		itip_err(err_r, "3.1;an iTIP message is exactly one VCALENDAR (%u here)", scan.calendars);
		return -1;
	}
	root = ical_parse_root(data, len, err_r);
	if (root == NULL) {
		prefix_status(err_r, "3.1");
		return -1;
	}
	m = xcalloc(1, sizeof(*m));
	m->vcal = root;
	m->obj = xcalloc(1, sizeof(*m->obj));
	m->obj->vcal = root;
	if (check_bounded(m, lim, err_r) < 0) {
		itip_free(&m);
		return -1;
	}
	ical_tzcache_attach(m->obj, data, &scan);
	m->kind = ICAL_NO_COMPONENT;
	if (validate_msg(m, lim, err_r) < 0) {
		itip_free(&m);
		return -1;
	}
	m->obj->kind = m->kind;
	m->obj->comp = m->comp;
	m->obj->uid = xstrdup(m->uid);
	*msg_r = m;
	return 0;
}

/* ---- accessors ---------------------------------------------------------- */

enum itip_method itip_method(const struct itip_message *m) { return m->method; }
const char *itip_uid(const struct itip_message *m) { return m->uid; }
const char *itip_organizer(const struct itip_message *m) { return m->organizer; }
const char *itip_organizer_sent_by(const struct itip_message *m) { return m->organizer_sent_by; }
enum ical_comp itip_comp(const struct itip_message *m) { return m->comp; }
const char *itip_sender(const struct itip_message *m) { return m->sender; }
const char *itip_sender_sent_by(const struct itip_message *m) { return m->sender_sent_by; }
const char *itip_sender_partstat(const struct itip_message *m) { return m->sender_partstat; }
int itip_sequence(const struct itip_message *m) { return m->sequence; }
size_t itip_attendee_count(const struct itip_message *m) { return m->nattendees; }
bool itip_has_instances(const struct itip_message *m) { return m->has_instances; }
const char *itip_summary(const struct itip_message *m) { return m->summary; }

const char *itip_attendee(const struct itip_message *m, size_t i)
{
	return i < m->nattendees ? m->attendees[i] : NULL;
}

bool itip_dtstart(const struct itip_message *m, int64_t *utc_r)
{
	icalcomponent *c = master_of(m->obj);
	icalproperty *p;

	if (c == NULL)
		c = icalcomponent_get_first_component(m->vcal, m->kind);
	p = c ? icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY) : NULL;
	if (p == NULL)
		return false;
	*utc_r = ical_time_utc(ical_prop_time(m->obj, p), NULL);
	return true;
}

static char *comp_to_string(icalcomponent *c, size_t *len_r)
{
	char *s = icalcomponent_as_ical_string_r(c);
	char *out = xstrdup(s ? s : "");

	icalmemory_free_buffer(s);
	if (len_r != NULL)
		*len_r = strlen(out);
	return out;
}

char *itip_to_string(const struct itip_message *m, size_t *len_r)
{
	return comp_to_string(m->vcal, len_r);
}


/* ---- signatures (what makes a change significant) ----------------------- */

/* A set of RECURRENCE-ID keys. */
struct keyset {
	int64_t *v;
	size_t n;
};

static bool keyset_has(const struct keyset *k, int64_t x)
{
	for (size_t i = 0; k != NULL && i < k->n; i++)
		if (k->v[i] == x)
			return true;
	return false;
}

static bool keyset_add(struct keyset *k, int64_t x)
{
	if (keyset_has(k, x))
		return false;
	k->v = xrealloc(k->v, (k->n + 1) * sizeof(*k->v));
	k->v[k->n++] = x;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Append the text of every kind property of c, sorted. */
static void sig_props(struct buf *b, icalcomponent *c, icalproperty_kind kind)
{
	char **v = NULL;
	size_t n = 0;

	for (icalproperty *p = icalcomponent_get_first_property(c, kind); p != NULL;
	     p = icalcomponent_get_next_property(c, kind)) {
		char *s = icalproperty_as_ical_string_r(p);

		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrdup(s ? s : "");
		icalmemory_free_buffer(s);
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		buf_append_str(b, v[i]);
		free(v[i]);
	}
	free(v);
}

/* The signature of a component: the reschedule properties of RFC 6638
 * 3.2.8 (DTSTART, DTEND, DURATION, DUE, RRULE, RDATE, EXDATE), and when
 * full the other significant ones of RFC 5546 2.1.4 (LOCATION, SUMMARY,
 * DESCRIPTION, STATUS, the attendee list). EXDATEs in skip are left out. */
static char *comp_sig(const struct ical_object *obj, icalcomponent *c, bool full,
		      const struct keyset *skip)
{
	static const icalproperty_kind tk[] = {
		ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY, ICAL_DURATION_PROPERTY,
		ICAL_DUE_PROPERTY, ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY,
	};
	static const icalproperty_kind sk[] = {
		ICAL_LOCATION_PROPERTY, ICAL_SUMMARY_PROPERTY, ICAL_DESCRIPTION_PROPERTY,
		ICAL_STATUS_PROPERTY,
	};
	struct buf b;
	int64_t *ex = NULL;
	size_t nex = 0;

	buf_init(&b, 0);
	buf_append_str(&b, "");
	for (size_t i = 0; i < ARRAY_SIZE(tk); i++)
		sig_props(&b, c, tk[i]);
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
		int64_t k = time_key(obj, p);

		if (keyset_has(skip, k))
			continue;
		ex = xrealloc(ex, (nex + 1) * sizeof(*ex));
		ex[nex++] = k;
	}
	if (nex > 1)
		qsort(ex, nex, sizeof(*ex), cmp_i64);
	for (size_t i = 0; i < nex; i++)
		buf_printf(&b, "EX:%lld\n", (long long)ex[i]);
	free(ex);
	if (full) {
		char **v = NULL;
		size_t n = 0;

		for (size_t i = 0; i < ARRAY_SIZE(sk); i++)
			sig_props(&b, c, sk[i]);
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = itip_address(prop_addr(p) ? prop_addr(p) : "");
		}
		if (n > 1)
			qsort(v, n, sizeof(*v), cmp_str);
		for (size_t i = 0; i < n; i++) {
			buf_printf(&b, "AT:%s\n", v[i]);
			free(v[i]);
		}
		free(v);
	}
	return b.data;
}

static bool sig_differs(const struct ical_object *a, icalcomponent *ca, const struct ical_object *b,
			icalcomponent *cb, bool full, const struct keyset *skip)
{
	char *x = comp_sig(a, ca, full, skip), *y = comp_sig(b, cb, full, skip);
	bool d = strcmp(x, y) != 0;

	free(x);
	free(y);
	return d;
}

struct ridcomp {
	int64_t rid;
	icalcomponent *c;
};

static int cmp_ridcomp(const void *a, const void *b)
{
	const struct ridcomp *x = a, *y = b;

	return x->rid < y->rid ? -1 : x->rid > y->rid;
}

/* An object's components with their signatures, computed once per
 * itip_organizer_changes() call (not once per attendee). */
struct sigset {
	const struct ical_object *obj;
	icalcomponent **comps;
	int64_t *rids;
	char **sigs;		/* full signatures without skip, lazily */
	size_t n;
};

static void sigset_init(struct sigset *ss, const struct ical_object *obj)
{
	memset(ss, 0, sizeof(*ss));
	ss->obj = obj;
	if (obj == NULL)
		return;
	ss->n = content_comps(obj->vcal, &ss->comps);
	ss->rids = xcalloc(ss->n + 1, sizeof(*ss->rids));
	ss->sigs = xcalloc(ss->n + 1, sizeof(*ss->sigs));
	for (size_t i = 0; i < ss->n; i++)
		ss->rids[i] = comp_rid(obj, ss->comps[i]);
}

static void sigset_free(struct sigset *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		free(ss->sigs[i]);
	free(ss->sigs);
	free(ss->rids);
	free(ss->comps);
	memset(ss, 0, sizeof(*ss));
}

/* The components of the object attendee a is in (skip left out), sorted by
 * RECURRENCE-ID, as indexes into ss. Returns the count; *idx_r malloc'ed. */
static size_t view_of(const struct sigset *ss, const char *a, const struct keyset *skip,
		      struct ridcomp **rc_r)
{
	struct ridcomp *rc = xcalloc(ss->n + 1, sizeof(*rc));
	size_t m = 0;

	for (size_t i = 0; i < ss->n; i++) {
		if ((ss->rids[i] != RID_NONE && keyset_has(skip, ss->rids[i])) ||
		    find_attendee(ss->comps[i], a) == NULL)
			continue;
		rc[m].rid = ss->rids[i];
		rc[m++].c = (icalcomponent *)(uintptr_t)i;	/* the index */
	}
	if (m > 1)
		qsort(rc, m, sizeof(*rc), cmp_ridcomp);
	*rc_r = rc;
	return m;
}

static const char *sig_at(struct sigset *ss, size_t i, const struct keyset *skip, char **tmp)
{
	*tmp = NULL;
	if (skip != NULL && skip->n > 0)
		return *tmp = comp_sig(ss->obj, ss->comps[i], true, skip);
	if (ss->sigs[i] == NULL)
		ss->sigs[i] = comp_sig(ss->obj, ss->comps[i], true, NULL);
	return ss->sigs[i];
}

/* Whether attendee a sees the same in both objects: the same components
 * (by RECURRENCE-ID) with equal signatures, the instances in skip
 * (cancelled separately) left out. */
static bool view_equal(struct sigset *oss, struct sigset *nss, const char *a,
		       const struct keyset *skip)
{
	struct ridcomp *orc, *nrc;
	size_t on = view_of(oss, a, skip, &orc), nn = view_of(nss, a, skip, &nrc);
	bool same = on == nn;

	for (size_t i = 0; i < on && same; i++) {
		size_t oi = (size_t)(uintptr_t)orc[i].c, ni = (size_t)(uintptr_t)nrc[i].c;
		char *t1 = NULL, *t2 = NULL;

		same = orc[i].rid == nrc[i].rid &&
		       strcmp(sig_at(oss, oi, skip, &t1), sig_at(nss, ni, skip, &t2)) == 0;
		free(t1);
		free(t2);
	}
	free(orc);
	free(nrc);
	return same;
}

bool itip_needs_sequence_bump(const struct ical_object *old, const struct ical_object *new)
{
	icalcomponent **nv, **ov;
	size_t nn, on;
	bool sig = false;

	if (old == NULL || new == NULL)
		return false;
	nn = content_comps(new->vcal, &nv);
	on = content_comps(old->vcal, &ov);
	for (size_t i = 0; i < nn && !sig; i++) {
		icalcomponent *oc = find_comp(old, comp_rid(new, nv[i]));

		sig = oc == NULL || sig_differs(old, oc, new, nv[i], true, NULL);
	}
	for (size_t i = 0; i < on && !sig; i++)
		sig = find_comp(new, comp_rid(old, ov[i])) == NULL;
	free(nv);
	free(ov);
	return sig;
}

int itip_object_sequence(const struct ical_object *obj)
{
	icalcomponent **v;
	size_t n = content_comps(obj->vcal, &v);
	icalcomponent *m = master_of(obj);
	int seq = 0;

	if (m != NULL) {
		free(v);
		return comp_sequence(m);
	}
	for (size_t i = 0; i < n; i++)
		if (comp_sequence(v[i]) > seq)
			seq = comp_sequence(v[i]);
	free(v);
	return seq;
}

void itip_object_set_sequence(struct ical_object *obj, int seq)
{
	icalcomponent **v;
	size_t n = content_comps(obj->vcal, &v);

	for (size_t i = 0; i < n; i++)
		set_sequence(v[i], seq);
	free(v);
}

/* Whether an override moves its instance: DTSTART other than the
 * RECURRENCE-ID, or a duration other than the master's. */
static int64_t comp_duration(const struct ical_object *obj, icalcomponent *c, bool *has_r)
{
	icalproperty *s = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	icalproperty *e = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY);
	icalproperty *d = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY);

	if (e == NULL)
		e = icalcomponent_get_first_property(c, ICAL_DUE_PROPERTY);
	*has_r = true;
	if (s != NULL && e != NULL)
		return time_key(obj, e) - time_key(obj, s);
	if (d != NULL)
		return icaldurationtype_as_int(icalproperty_get_duration(d));
	*has_r = false;
	return 0;
}

static bool instance_moved(const struct ical_object *obj, icalcomponent *ov,
			   const struct ical_object *mobj, icalcomponent *master)
{
	icalproperty *s = icalcomponent_get_first_property(ov, ICAL_DTSTART_PROPERTY);
	bool h1, h2;
	int64_t d1, d2;

	if (s != NULL && time_key(obj, s) != comp_rid(obj, ov))
		return true;
	d1 = comp_duration(obj, ov, &h1);
	d2 = comp_duration(mobj, master, &h2);
	return h1 != h2 || d1 != d2;
}

/* RFC 6638 3.2.8: the organizer's server resets PARTSTAT of every attendee
 * (SCHEDULE-AGENT SERVER) of a rescheduled component to NEEDS-ACTION. */
int itip_reset_partstat(const struct ical_object *old, struct ical_object *new,
			const char *organizer)
{
	icalcomponent **v;
	size_t n;
	int count = 0;

	if (old == NULL || new == NULL)
		return 0;
	n = content_comps(new->vcal, &v);
	for (size_t i = 0; i < n; i++) {
		int64_t rid = comp_rid(new, v[i]);
		icalcomponent *oc = find_comp(old, rid), *om;
		bool resched;

		if (oc != NULL)
			resched = sig_differs(old, oc, new, v[i], false, NULL);
		else if (rid != RID_NONE && (om = master_of(old)) != NULL)
			resched = instance_moved(new, v[i], old, om);
		else
			resched = false;
		if (!resched)
			continue;
		for (icalproperty *p = icalcomponent_get_first_property(v[i], ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(v[i], ICAL_ATTENDEE_PROPERTY)) {
			if (addr_eq(prop_addr(p), organizer) || !agent_is_server(p) ||
			    param_is(p, "PARTSTAT", "NEEDS-ACTION"))
				continue;
			set_param(p, "PARTSTAT", "NEEDS-ACTION");
			count++;
		}
	}
	free(v);
	return count;
}

void itip_object_strip_force_send(struct ical_object *obj)
{
	icalcomponent **v;
	size_t n = content_comps(obj->vcal, &v);

	for (size_t i = 0; i < n; i++) {
		for (icalproperty *p = icalcomponent_get_first_property(v[i], ICAL_ANY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(v[i], ICAL_ANY_PROPERTY)) {
			icalproperty_kind k = icalproperty_isa(p);

			if (k == ICAL_ATTENDEE_PROPERTY || k == ICAL_ORGANIZER_PROPERTY)
				icalproperty_remove_parameter_by_name(p, "SCHEDULE-FORCE-SEND");
		}
	}
	free(v);
}

/* ---- building messages -------------------------------------------------- */

static icalproperty_method method_value(enum itip_method m)
{
	switch (m) {
	case ITIP_PUBLISH: return ICAL_METHOD_PUBLISH;
	case ITIP_REQUEST: return ICAL_METHOD_REQUEST;
	case ITIP_REPLY: return ICAL_METHOD_REPLY;
	case ITIP_ADD: return ICAL_METHOD_ADD;
	case ITIP_CANCEL: return ICAL_METHOD_CANCEL;
	case ITIP_REFRESH: return ICAL_METHOD_REFRESH;
	case ITIP_COUNTER: return ICAL_METHOD_COUNTER;
	case ITIP_DECLINECOUNTER: return ICAL_METHOD_DECLINECOUNTER;
	}
	return ICAL_METHOD_NONE;
}

static icalcomponent *new_vcal(enum itip_method m)
{
	icalcomponent *v = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);

	icalcomponent_add_property(v, icalproperty_new_version("2.0"));
	icalcomponent_add_property(v, icalproperty_new_prodid(ITIP_PRODID));
	icalcomponent_add_property(v, icalproperty_new_method(method_value(m)));
	return v;
}

/* A VCALENDAR with src's calendar properties (METHOD dropped), no
 * components: the shell of a stored copy. */
static icalcomponent *copy_shell(icalcomponent *src)
{
	icalcomponent *v = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	bool version = false, prodid = false;

	for (icalproperty *p = icalcomponent_get_first_property(src, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(src, ICAL_ANY_PROPERTY)) {
		icalproperty_kind k = icalproperty_isa(p);

		if (k == ICAL_METHOD_PROPERTY)
			continue;
		if (k == ICAL_VERSION_PROPERTY) {
			if (version)
				continue;
			version = true;
		}
		if (k == ICAL_PRODID_PROPERTY) {
			if (prodid)
				continue;
			prodid = true;
		}
		icalcomponent_add_property(v, icalproperty_new_clone(p));
	}
	if (!version)
		icalcomponent_add_property(v, icalproperty_new_version("2.0"));
	if (!prodid)
		icalcomponent_add_property(v, icalproperty_new_prodid(ITIP_PRODID));
	return v;
}

static icalcomponent *find_vtimezone(icalcomponent *vcal, const char *tzid)
{
	for (icalcompiter it = icalcomponent_begin_component(vcal, ICAL_VTIMEZONE_COMPONENT);
	     icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
		icalcomponent *z = icalcompiter_deref(&it);
		icalproperty *p = icalcomponent_get_first_property(z, ICAL_TZID_PROPERTY);

		if (p != NULL && icalproperty_get_tzid(p) != NULL &&
		    strcmp(icalproperty_get_tzid(p), tzid) == 0)
			return z;
	}
	return NULL;
}

/* Copy into dst the VTIMEZONEs of src that dst's components use and dst
 * lacks. Components nest at most twice (VEVENT/VALARM). */
static void copy_tzids_of(icalcomponent *dst, icalcomponent *src, icalcomponent *c, int depth)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		icalparameter *par = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
		const char *tzid = par ? icalparameter_get_tzid(par) : NULL;
		icalcomponent *z;

		if (tzid == NULL || find_vtimezone(dst, tzid) != NULL)
			continue;
		z = find_vtimezone(src, tzid);
		if (z != NULL)
			icalcomponent_add_component(dst, icalcomponent_new_clone(z));
	}
	if (depth > 0)
		for (icalcomponent *s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s != NULL;
		     s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
			copy_tzids_of(dst, src, s, depth - 1);
}

static void copy_timezones(icalcomponent *dst, icalcomponent *src)
{
	icalcomponent **v;
	size_t n = content_comps(dst, &v);

	for (size_t i = 0; i < n; i++)
		copy_tzids_of(dst, src, v[i], 1);
	free(v);
}

/* What is sent to others: DTSTAMP now, no VALARM, no scheduling
 * parameters (RFC 6638 7.1-7.3), SENT-BY on the ORGANIZER for a delegate. */
static void prep_out(icalcomponent *c, const char *org_sent_by)
{
	icalproperty *org = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY);

	remove_alarms(c);
	set_dtstamp_now(c);
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY))
		strip_sched_params(p);
	if (org != NULL) {
		strip_sched_params(org);
		if (org_sent_by != NULL) {
			char *a = itip_address(org_sent_by), *v = xasprintf("mailto:%s", a);

			set_param(org, "SENT-BY", v);
			free(v);
			free(a);
		}
	}
}

/* Every message itip sends must be one it accepts: an object whose
 * scheduling data breaks RFC 5546 section 3 (two ORGANIZERs, components
 * with different ORGANIZERs, an invalid PARTSTAT...) is not scheduled. */
static int out_check(const char *data, size_t len, struct ical_error *err_r)
{
	struct itip_message *m;
	struct ical_error e;

	if (itip_parse(data, len, NULL, &m, &e) < 0) {
		itip_err(err_r, "%.*s (the object cannot be scheduled)", 200, e.text);
		return -1;
	}
	itip_free(&m);
	return 0;
}

static int out_push(struct itip_out **v, size_t *n, const char *rcpt, enum itip_method m,
		    icalcomponent *vcal, bool check, struct ical_error *err_r)
{
	struct itip_out o;

	o.recipient = itip_address(rcpt);
	o.method = m;
	o.data = comp_to_string(vcal, &o.len);
	icalcomponent_free(vcal);
	if (check && out_check(o.data, o.len, err_r) < 0) {
		free(o.recipient);
		free(o.data);
		return -1;
	}
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = o;
	return 0;
}

static int out_single(struct itip_out *out, const char *rcpt, enum itip_method m,
		      icalcomponent *vcal, struct ical_error *err_r)
{
	out->recipient = itip_address(rcpt);
	out->method = m;
	out->data = comp_to_string(vcal, &out->len);
	icalcomponent_free(vcal);
	if (out_check(out->data, out->len, err_r) < 0) {
		itip_out_clear(out);
		return -1;
	}
	return 0;
}

void itip_out_free(struct itip_out *out, size_t n)
{
	for (size_t i = 0; i < n && out != NULL; i++) {
		free(out[i].recipient);
		free(out[i].data);
	}
	free(out);
}

void itip_out_clear(struct itip_out *out)
{
	free(out->recipient);
	free(out->data);
	memset(out, 0, sizeof(*out));
}

/* A time property (RECURRENCE-ID, EXDATE, DTSTART) as another kind, same
 * time and TZID. */
static icalproperty *time_prop_as(icalproperty *src, icalproperty_kind kind)
{
	icalvalue *val = icalproperty_get_value(src);
	struct icaltimetype t = val ? icalvalue_get_datetime(val) : icaltime_null_time();
	icalparameter *tz = icalproperty_get_first_parameter(src, ICAL_TZID_PARAMETER);
	icalproperty *p;

	switch (kind) {
	case ICAL_RECURRENCEID_PROPERTY: p = icalproperty_new_recurrenceid(t); break;
	case ICAL_EXDATE_PROPERTY: p = icalproperty_new_exdate(t); break;
	case ICAL_RDATE_PROPERTY: {
		struct icaldatetimeperiodtype dp;

		memset(&dp, 0, sizeof(dp));
		dp.time = t;
		dp.period = icalperiodtype_null_period();
		p = icalproperty_new_rdate(dp);
		break;
	}
	default: p = icalproperty_new_dtstart(t); break;
	}
	if (tz != NULL && !t.is_date && !icaltime_is_utc(t))
		icalproperty_add_parameter(p, icalparameter_new_clone(tz));
	return p;
}

static void add_clone(icalcomponent *dst, icalcomponent *src, icalproperty_kind kind)
{
	icalproperty *p = icalcomponent_get_first_property(src, kind);

	if (p != NULL)
		icalcomponent_add_property(dst, icalproperty_new_clone(p));
}

static icalproperty *new_attendee(const char *addr)
{
	char *a = itip_address(addr), *v = xasprintf("mailto:%s", a);
	icalproperty *p = icalproperty_new_attendee(v);

	free(v);
	free(a);
	return p;
}

/* A CANCEL component for the whole of src (rid NULL) or the instance rid
 * (a RECURRENCE-ID or EXDATE property), to attendee a. */
static icalcomponent *cancel_comp(icalcomponent *src, icalproperty *rid, const char *a, int seq,
				  const char *sent_by)
{
	icalcomponent *c = icalcomponent_new(icalcomponent_isa(src));
	icalproperty *ap = find_attendee(src, a);

	add_clone(c, src, ICAL_UID_PROPERTY);
	add_clone(c, src, ICAL_ORGANIZER_PROPERTY);
	icalcomponent_add_property(c, ap ? icalproperty_new_clone(ap) : new_attendee(a));
	if (rid != NULL) {
		icalcomponent_add_property(c, time_prop_as(rid, ICAL_RECURRENCEID_PROPERTY));
		icalcomponent_add_property(c, time_prop_as(rid, ICAL_DTSTART_PROPERTY));
	} else {
		add_clone(c, src, ICAL_DTSTART_PROPERTY);
	}
	add_clone(c, src, ICAL_SUMMARY_PROPERTY);
	icalcomponent_add_property(c, icalproperty_new_sequence(seq));
	icalcomponent_add_property(c, icalproperty_new_status(ICAL_STATUS_CANCELLED));
	prep_out(c, sent_by);
	return c;
}

/* The REQUEST obj makes for attendee a: the components a is in; a master
 * gets an EXDATE for each override a is not invited to (RFC 6638 3.2.6).
 * NULL when a is in none. */
static icalcomponent *request_for(const struct ical_object *obj, const char *a,
				  const char *sent_by)
{
	icalcomponent **v, *vcal = NULL;
	size_t n = content_comps(obj->vcal, &v);

	for (size_t i = 0; i < n; i++) {
		icalcomponent *c;

		if (find_attendee(v[i], a) == NULL)
			continue;
		if (vcal == NULL)
			vcal = new_vcal(ITIP_REQUEST);
		c = icalcomponent_new_clone(v[i]);
		if (comp_rid(obj, v[i]) == RID_NONE) {
			for (size_t j = 0; j < n; j++) {
				int64_t k = comp_rid(obj, v[j]);
				icalproperty *rp;

				if (k == RID_NONE || find_attendee(v[j], a) != NULL ||
				    has_exdate(obj, v[i], k))
					continue;
				rp = icalcomponent_get_first_property(v[j], ICAL_RECURRENCEID_PROPERTY);
				icalcomponent_add_property(c, time_prop_as(rp, ICAL_EXDATE_PROPERTY));
			}
		}
		prep_out(c, sent_by);
		icalcomponent_add_component(vcal, c);
	}
	free(v);
	if (vcal != NULL)
		copy_timezones(vcal, obj->vcal);
	return vcal;
}

/* The ORGANIZER of an object: its master's, else its first component's. */
static icalproperty *organizer_prop(const struct ical_object *obj)
{
	icalcomponent *c = master_of(obj);
	icalcomponent **v;

	if (c == NULL && content_comps(obj->vcal, &v) > 0) {
		c = v[0];
		free(v);
	} else if (c == NULL) {
		free(v);
	}
	return c ? icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY) : NULL;
}

/* ---- organizer side ------------------------------------------------------ */

#define ITIP_MAX_RECIPIENTS 10000

/* Append obj's attendee addresses but the organizer's (normalised, with
 * repeats; dedupe() afterwards). */
static void collect_attendees(const struct ical_object *obj, const char *organizer, char ***list,
			      size_t *n)
{
	icalcomponent **v;
	size_t nc;

	if (obj == NULL)
		return;
	nc = content_comps(obj->vcal, &v);
	for (size_t i = 0; i < nc; i++) {
		for (icalproperty *p = icalcomponent_get_first_property(v[i], ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(v[i], ICAL_ATTENDEE_PROPERTY)) {
			const char *a = prop_addr(p);

			if (a == NULL || *a == '\0' || addr_eq(a, organizer))
				continue;
			*list = xrealloc(*list, (*n + 1) * sizeof(char *));
			(*list)[(*n)++] = itip_address(a);
		}
	}
	free(v);
}

/* The first ATTENDEE property of a in obj's components, NULL if none. */
static icalproperty *attendee_in(const struct ical_object *obj, const char *a)
{
	icalcomponent **v;
	size_t n;
	icalproperty *p = NULL;

	if (obj == NULL)
		return NULL;
	n = content_comps(obj->vcal, &v);
	for (size_t i = 0; i < n && p == NULL; i++)
		p = find_attendee(v[i], a);
	free(v);
	return p;
}

struct cancels {
	struct keyset keys;
	icalcomponent *vcal;
	const struct ical_object *tzsrc;
};

static void cancel_add(struct cancels *cx, const struct ical_object *obj, icalcomponent *src,
		       icalproperty *rid, int64_t key, const char *a, int seq, const char *sent_by)
{
	if (!keyset_add(&cx->keys, key))
		return;
	if (cx->vcal == NULL)
		cx->vcal = new_vcal(ITIP_CANCEL);
	icalcomponent_add_component(cx->vcal, cancel_comp(src, rid, a, seq, sent_by));
	copy_timezones(cx->vcal, obj->vcal);
}

static int organizer_one(const struct ical_object *old, const struct ical_object *new,
			 struct sigset *oss, struct sigset *nss,
			 const char *a, const char *sent_by, struct itip_out **out, size_t *nout,
			 struct ical_error *err_r)
{
	icalproperty *ap = attendee_in(new, a), *oap = attendee_in(old, a);
	icalcomponent *nm = new ? master_of(new) : NULL, *om = old ? master_of(old) : NULL;
	bool in_nm = nm != NULL && find_attendee(nm, a) != NULL;
	bool in_om = om != NULL && find_attendee(om, a) != NULL;
	struct cancels cx;
	icalcomponent **nv = NULL, **ov = NULL;
	size_t nn = 0, on = 0;
	bool force = false;
	int ret = 0;

	if (!agent_is_server(ap ? ap : oap))
		return 0;	/* SCHEDULE-AGENT=CLIENT or NONE: not ours to send */
	memset(&cx, 0, sizeof(cx));
	if (new != NULL)
		nn = content_comps(new->vcal, &nv);
	if (old != NULL)
		on = content_comps(old->vcal, &ov);
	if (ap == NULL) {
		/* removed from the event, or the event deleted: CANCEL what a had */
		int seq = new ? itip_object_sequence(new) : itip_object_sequence(old) + 1;

		if (in_om) {
			cancel_add(&cx, old, om, NULL, RID_NONE, a, seq, sent_by);
		} else {
			for (size_t i = 0; i < on; i++) {
				int64_t k = comp_rid(old, ov[i]);

				if (k == RID_NONE || find_attendee(ov[i], a) == NULL || is_cancelled(ov[i]))
					continue;
				cancel_add(&cx, old, ov[i],
					   icalcomponent_get_first_property(ov[i], ICAL_RECURRENCEID_PROPERTY),
					   k, a, seq, sent_by);
			}
		}
		goto send;
	}
	for (size_t i = 0; i < nn; i++) {
		icalproperty *p = find_attendee(nv[i], a);

		if (p != NULL && param_is(p, "SCHEDULE-FORCE-SEND", "REQUEST"))
			force = true;
	}
	{
		int seq = itip_object_sequence(new);

		/* (a) instances removed by a new EXDATE */
		if (in_nm && in_om) {
			icalproperty **ex;
			size_t nex = props_of(nm, ICAL_EXDATE_PROPERTY, &ex);

			for (size_t i = 0; i < nex; i++) {
				int64_t k = time_key(new, ex[i]);
				icalcomponent *o = find_comp(old, k);

				if (has_exdate(old, om, k) ||
				    (o != NULL && (find_attendee(o, a) == NULL || is_cancelled(o))))
					continue;
				cancel_add(&cx, new, nm, ex[i], k, a, seq, sent_by);
			}
			free(ex);
		}
		/* (b) overrides set to STATUS:CANCELLED */
		for (size_t i = 0; i < nn; i++) {
			int64_t k = comp_rid(new, nv[i]);
			icalcomponent *o;

			if (k == RID_NONE || !is_cancelled(nv[i]) || find_attendee(nv[i], a) == NULL)
				continue;
			o = old ? find_comp(old, k) : NULL;
			if ((o != NULL && find_attendee(o, a) != NULL && !is_cancelled(o)) ||
			    (o == NULL && in_om && !has_exdate(old, om, k)))
				cancel_add(&cx, new, nv[i],
					   icalcomponent_get_first_property(nv[i], ICAL_RECURRENCEID_PROPERTY),
					   k, a, seq, sent_by);
		}
		/* (c) instances a had as an override and no longer has */
		for (size_t i = 0; i < on; i++) {
			int64_t k = comp_rid(old, ov[i]);
			icalcomponent *n;

			if (k == RID_NONE || find_attendee(ov[i], a) == NULL || is_cancelled(ov[i]))
				continue;
			n = find_comp(new, k);
			if (n != NULL ? find_attendee(n, a) != NULL
				      : (in_nm && !has_exdate(new, nm, k)))
				continue;
			cancel_add(&cx, old, ov[i],
				   icalcomponent_get_first_property(ov[i], ICAL_RECURRENCEID_PROPERTY), k, a,
				   seq, sent_by);
		}
		/* (d) a new override of the series a attends, without a */
		if (in_nm && in_om) {
			for (size_t i = 0; i < nn; i++) {
				int64_t k = comp_rid(new, nv[i]);

				if (k == RID_NONE || find_attendee(nv[i], a) != NULL ||
				    find_comp(old, k) != NULL || has_exdate(old, om, k))
					continue;
				cancel_add(&cx, new, nv[i],
					   icalcomponent_get_first_property(nv[i], ICAL_RECURRENCEID_PROPERTY),
					   k, a, seq, sent_by);
			}
		}
	}
	{
		bool same = old != NULL && view_equal(oss, nss, a, &cx.keys);

		if (force || !same) {
			icalcomponent *r = request_for(new, a, sent_by);

			if (r != NULL && out_push(out, nout, a, ITIP_REQUEST, r, false, err_r) < 0)
				ret = -1;
		}
	}
send:
	if (cx.vcal != NULL && out_push(out, nout, a, ITIP_CANCEL, cx.vcal, true, err_r) < 0)
		ret = -1;
	free(cx.keys.v);
	free(nv);
	free(ov);
	return ret;
}

/* The organizer's object, all components as one PUBLISH, must parse as
 * iTIP: then every REQUEST made of its components does (each holds the
 * attendee it goes to), and is not parsed again one by one. */
static int whole_check(const struct ical_object *obj, struct ical_error *err_r)
{
	icalcomponent **v, *vcal = new_vcal(ITIP_PUBLISH);
	size_t n = content_comps(obj->vcal, &v), len;
	char *text;
	int r;

	for (size_t i = 0; i < n; i++) {
		icalcomponent *c = icalcomponent_new_clone(v[i]);

		prep_out(c, NULL);
		icalcomponent_add_component(vcal, c);
	}
	free(v);
	copy_timezones(vcal, obj->vcal);
	text = comp_to_string(vcal, &len);
	icalcomponent_free(vcal);
	r = out_check(text, len, err_r);
	free(text);
	return r;
}

int itip_organizer_changes(const struct ical_object *old, const struct ical_object *new,
			   const char *organizer, const char *sent_by,
			   struct itip_out **out_r, size_t *n_r, struct ical_error *err_r)
{
	const struct ical_object *ref = new ? new : old;
	icalproperty *org;
	char **att = NULL;
	size_t natt = 0;
	struct sigset oss, nss;
	int ret = -1;

	memset(&oss, 0, sizeof(oss));
	memset(&nss, 0, sizeof(nss));

	*out_r = NULL;
	*n_r = 0;
	if (ref == NULL)
		return 0;
	if (old != NULL && new != NULL && strcmp(old->uid, new->uid) != 0) {
		itip_err(err_r, "3.1;UID: the old and new objects differ (%.60s, %.60s)", old->uid,
			 new->uid);
		return -1;
	}
	org = organizer_prop(ref);
	if (org == NULL) {
		if (old != NULL && new != NULL && organizer_prop(old) != NULL) {
			/* ORGANIZER dropped: everyone invited is cancelled */
			return itip_organizer_changes(old, NULL, organizer, sent_by, out_r, n_r, err_r);
		}
		return 0;	/* not a scheduling object */
	}
	if (!addr_eq(prop_addr(org), organizer)) {
		itip_err(err_r, "3.8;ORGANIZER: %.80s is not the calendar user %.80s", prop_addr(org),
			 organizer);
		return -1;
	}
	if (ref->comp != ICAL_COMP_VEVENT && ref->comp != ICAL_COMP_VTODO)
		return 0;	/* RFC 6638 3.1: only events and to-dos are scheduled */
	if (new != NULL && whole_check(new, err_r) < 0)
		return -1;
	collect_attendees(old, organizer, &att, &natt);
	collect_attendees(new, organizer, &att, &natt);
	natt = dedupe(att, natt);
	if (natt > ITIP_MAX_RECIPIENTS) {
		itip_err(err_r, "3.10;ATTENDEE: %zu distinct attendees, more than %d", natt,
			 ITIP_MAX_RECIPIENTS);
		goto out;
	}
	sigset_init(&oss, old);
	sigset_init(&nss, new);
	for (size_t i = 0; i < natt; i++)
		if (organizer_one(old, new, &oss, &nss, att[i], sent_by, out_r, n_r, err_r) < 0)
			goto out;
	ret = 0;
out:
	sigset_free(&oss);
	sigset_free(&nss);
	if (ret < 0) {
		itip_out_free(*out_r, *n_r);
		*out_r = NULL;
		*n_r = 0;
	}
	for (size_t i = 0; i < natt; i++)
		free(att[i]);
	free(att);
	return ret;
}

int itip_build_request(const struct ical_object *obj, const char *attendee,
		       const char *sent_by, struct itip_out *out, struct ical_error *err_r)
{
	icalcomponent *r;

	memset(out, 0, sizeof(*out));
	r = request_for(obj, attendee, sent_by);
	if (r == NULL) {
		itip_err(err_r, "3.7;ATTENDEE: %.80s is not invited to this event", attendee);
		return -1;
	}
	return out_single(out, attendee, ITIP_REQUEST, r, err_r);
}

/* ---- attendee side ------------------------------------------------------- */

static const char *partstat_of(icalproperty *p)
{
	const char *v = p ? param(p, "PARTSTAT") : NULL;

	return v ? v : "NEEDS-ACTION";
}

/* A REPLY component from attendee ap for src (its own RECURRENCE-ID) or for
 * the instance rid (a RECURRENCE-ID or EXDATE property) of a master. */
static icalcomponent *reply_comp(icalcomponent *src, icalproperty *rid, icalproperty *ap,
				 const char *partstat, const char *sent_by)
{
	icalcomponent *c = icalcomponent_new(icalcomponent_isa(src));
	icalproperty *a = icalproperty_new_clone(ap);

	add_clone(c, src, ICAL_UID_PROPERTY);
	add_clone(c, src, ICAL_ORGANIZER_PROPERTY);
	set_param(a, "PARTSTAT", partstat);
	icalproperty_remove_parameter_by_name(a, "RSVP");
	strip_sched_params(a);
	if (sent_by != NULL) {
		char *s = itip_address(sent_by), *v = xasprintf("mailto:%s", s);

		set_param(a, "SENT-BY", v);
		free(v);
		free(s);
	}
	icalcomponent_add_property(c, a);
	if (rid != NULL) {
		icalcomponent_add_property(c, time_prop_as(rid, ICAL_RECURRENCEID_PROPERTY));
		icalcomponent_add_property(c, time_prop_as(rid, ICAL_DTSTART_PROPERTY));
	} else {
		add_clone(c, src, ICAL_RECURRENCEID_PROPERTY);
		add_clone(c, src, ICAL_DTSTART_PROPERTY);
		add_clone(c, src, ICAL_DTEND_PROPERTY);
		add_clone(c, src, ICAL_DURATION_PROPERTY);
		add_clone(c, src, ICAL_DUE_PROPERTY);
	}
	add_clone(c, src, ICAL_SUMMARY_PROPERTY);
	icalcomponent_add_property(c, icalproperty_new_sequence(comp_sequence(src)));
	prep_out(c, NULL);
	return c;
}

static void reply_add(icalcomponent **vcal, struct keyset *keys, int64_t key, icalcomponent *c)
{
	if (!keyset_add(keys, key)) {
		icalcomponent_free(c);
		return;
	}
	if (*vcal == NULL)
		*vcal = new_vcal(ITIP_REPLY);
	icalcomponent_add_component(*vcal, c);
}

int itip_attendee_changes(const struct ical_object *old, const struct ical_object *new,
			  const char *attendee, const char *sent_by,
			  struct itip_out **out_r, size_t *n_r, struct ical_error *err_r)
{
	const struct ical_object *ref = new ? new : old;
	icalproperty *org;
	icalcomponent **nv = NULL, **ov = NULL, *vcal = NULL;
	icalcomponent *nm, *om;
	size_t nn = 0, on = 0;
	struct keyset keys = { NULL, 0 };
	char *orgaddr;
	int ret = 0;

	*out_r = NULL;
	*n_r = 0;
	if (ref == NULL)
		return 0;
	if (old != NULL && new != NULL && strcmp(old->uid, new->uid) != 0) {
		itip_err(err_r, "3.1;UID: the old and new objects differ");
		return -1;
	}
	org = organizer_prop(ref);
	if (org == NULL || prop_addr(org) == NULL ||
	    (ref->comp != ICAL_COMP_VEVENT && ref->comp != ICAL_COMP_VTODO))
		return 0;	/* not a scheduling object (RFC 6638 3.1) */
	if (addr_eq(prop_addr(org), attendee)) {
		itip_err(err_r, "3.8;ORGANIZER: %.80s is the organizer, not an attendee", attendee);
		return -1;
	}
	if (!agent_is_server(org))
		return 0;	/* the organizer's client schedules (SCHEDULE-AGENT) */
	orgaddr = itip_address(prop_addr(org));
	nm = new ? master_of(new) : NULL;
	om = old ? master_of(old) : NULL;
	if (new != NULL)
		nn = content_comps(new->vcal, &nv);
	if (old != NULL)
		on = content_comps(old->vcal, &ov);
	if (new == NULL) {
		/* the copy was deleted: DECLINED for what the attendee had */
		icalproperty *ap = om ? find_attendee(om, attendee) : NULL;

		if (ap != NULL) {
			if (str_casecmp(partstat_of(ap), "DECLINED") != 0)
				reply_add(&vcal, &keys, RID_NONE,
					  reply_comp(om, NULL, ap, "DECLINED", sent_by));
		} else {
			for (size_t i = 0; i < on; i++) {
				icalproperty *p = find_attendee(ov[i], attendee);

				if (p == NULL || comp_rid(old, ov[i]) == RID_NONE ||
				    str_casecmp(partstat_of(p), "DECLINED") == 0 || is_cancelled(ov[i]))
					continue;
				reply_add(&vcal, &keys, comp_rid(old, ov[i]),
					  reply_comp(ov[i], NULL, p, "DECLINED", sent_by));
			}
		}
		goto send;
	}
	/* PARTSTAT changed, per component */
	for (size_t i = 0; i < nn; i++) {
		icalproperty *ap = find_attendee(nv[i], attendee), *op = NULL;
		int64_t k = comp_rid(new, nv[i]);
		icalcomponent *oc;

		if (ap == NULL || !agent_is_server(ap))
			continue;
		oc = old ? find_comp(old, k) : NULL;
		if (oc != NULL)
			op = find_attendee(oc, attendee);
		else if (k != RID_NONE && om != NULL)
			op = find_attendee(om, attendee);	/* the instance came from the series */
		if (param_is(ap, "SCHEDULE-FORCE-SEND", "REPLY") ||
		    (old == NULL ? str_casecmp(partstat_of(ap), "NEEDS-ACTION") != 0
				 : str_casecmp(partstat_of(ap), partstat_of(op)) != 0))
			reply_add(&vcal, &keys, k, reply_comp(nv[i], NULL, ap, partstat_of(ap), sent_by));
	}
	/* instances the attendee removed with an EXDATE: DECLINED */
	if (nm != NULL && om != NULL && find_attendee(nm, attendee) != NULL) {
		icalproperty *ap = find_attendee(nm, attendee), **ex;
		size_t nex = props_of(nm, ICAL_EXDATE_PROPERTY, &ex);

		for (size_t i = 0; i < nex; i++) {
			icalproperty *p = ex[i];
			int64_t k = time_key(new, p);
			icalcomponent *o = find_comp(old, k);

			if (has_exdate(old, om, k) || (o != NULL && is_cancelled(o)))
				continue;
			if (o != NULL && str_casecmp(partstat_of(find_attendee(o, attendee)), "DECLINED") == 0)
				continue;
			reply_add(&vcal, &keys, k, reply_comp(nm, p, ap, "DECLINED", sent_by));
		}
		free(ex);
	}
	/* overrides the attendee had and deleted (not reverted to the series) */
	for (size_t i = 0; i < on; i++) {
		int64_t k = comp_rid(old, ov[i]);
		icalproperty *p = find_attendee(ov[i], attendee);

		if (k == RID_NONE || p == NULL || is_cancelled(ov[i]) || find_comp(new, k) != NULL ||
		    str_casecmp(partstat_of(p), "DECLINED") == 0)
			continue;
		if (nm != NULL && find_attendee(nm, attendee) != NULL && !has_exdate(new, nm, k))
			continue;
		reply_add(&vcal, &keys, k, reply_comp(ov[i], NULL, p, "DECLINED", sent_by));
	}
send:
	if (vcal != NULL) {
		copy_timezones(vcal, (new ? new : old)->vcal);
		if (out_push(out_r, n_r, orgaddr, ITIP_REPLY, vcal, true, err_r) < 0)
			ret = -1;
	}
	free(orgaddr);
	free(keys.v);
	free(nv);
	free(ov);
	return ret;
}

/* ---- applying received messages ----------------------------------------- */

static const struct ical_limits *apply_limits(struct ical_limits *l)
{
	ical_limits_default(l);
	return l;
}

struct inst_find {
	int64_t rid;
	bool found;
};

static int inst_find_cb(const struct ical_inst *inst, void *ctx)
{
	struct inst_find *f = ctx;

	if (ical_time_utc(inst->rid, NULL) == f->rid) {
		f->found = true;
		return 1;
	}
	return 0;
}

/* Whether rid is an instance of obj's recurrence set (bounded walk). */
static bool is_instance(const struct ical_object *obj, int64_t rid)
{
	struct ical_limits l;
	struct inst_find f = { rid, false };
	struct ical_error err;
	uint64_t work = 0;
	icalcomponent *m = master_of(obj);

	if (m == NULL || (icalcomponent_get_first_property(m, ICAL_RRULE_PROPERTY) == NULL &&
			  icalcomponent_get_first_property(m, ICAL_RDATE_PROPERTY) == NULL))
		return false;
	if (has_exdate(obj, m, rid))
		return false;
	apply_limits(&l);
	if (ical_foreach_instance((struct ical_object *)obj, NULL, rid - 2 * ICAL_FLOAT_SLOP,
				  rid + 2 * ICAL_FLOAT_SLOP, &l, &work, inst_find_cb, &f, &err) < 0)
		return false;
	return f.found;
}

/* An override for the instance rid (a RECURRENCE-ID property) of master:
 * the master's data at that time, without recurrence rules. */
static icalcomponent *instance_of(const struct ical_object *obj, icalcomponent *master,
				  icalproperty *rid)
{
	icalcomponent *c = icalcomponent_new_clone(master);
	icalproperty *ds = icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY);
	icalproperty *np;
	bool has;
	int64_t dur = comp_duration(obj, master, &has);
	icalproperty *de = icalcomponent_get_first_property(master, ICAL_DTEND_PROPERTY);
	icalproperty *du = icalcomponent_get_first_property(master, ICAL_DUE_PROPERTY);

	remove_props(c, ICAL_RRULE_PROPERTY);
	remove_props(c, ICAL_RDATE_PROPERTY);
	remove_props(c, ICAL_EXDATE_PROPERTY);
	remove_props(c, ICAL_RECURRENCEID_PROPERTY);
	icalcomponent_add_property(c, time_prop_as(rid, ICAL_RECURRENCEID_PROPERTY));
	if (ds != NULL) {
		remove_props(c, ICAL_DTSTART_PROPERTY);
		np = time_prop_as(rid, ICAL_DTSTART_PROPERTY);
		icalcomponent_add_property(c, np);
		if (has && (de != NULL || du != NULL)) {
			/* keep the length: DTEND/DUE becomes a DURATION */
			struct icaldurationtype d = icaldurationtype_from_int((int)(dur > 0 ? dur : 0));

			remove_props(c, ICAL_DTEND_PROPERTY);
			remove_props(c, ICAL_DUE_PROPERTY);
			if (icalproperty_get_dtstart(np).is_date && dur % 86400 == 0) {
				d = icaldurationtype_null_duration();
				d.days = (unsigned)(dur / 86400);
			}
			icalcomponent_add_property(c, icalproperty_new_duration(d));
		}
	}
	return c;
}

static bool stale(icalcomponent *mc, icalcomponent *cc)
{
	int ms = comp_sequence(mc), cs = comp_sequence(cc);

	return ms < cs || (ms == cs && comp_dtstamp(mc) < comp_dtstamp(cc));
}

/* Carry the attendee's own data from its copy cc into the organizer's new
 * component nc: VALARMs, TRANSP, and its PARTSTAT unless the component was
 * rescheduled (RFC 6638 3.2.8: then NEEDS-ACTION). */
static void attendee_keep(icalcomponent *nc, const struct ical_object *mobj, icalcomponent *cc,
			  const struct ical_object *cobj, const char *recipient)
{
	icalproperty *na = find_attendee(nc, recipient), *ca;
	bool resched;

	remove_alarms(nc);
	if (cc == NULL)
		return;
	for (icalcomponent *a = icalcomponent_get_first_component(cc, ICAL_VALARM_COMPONENT); a != NULL;
	     a = icalcomponent_get_next_component(cc, ICAL_VALARM_COMPONENT))
		icalcomponent_add_component(nc, icalcomponent_new_clone(a));
	if (icalcomponent_get_first_property(cc, ICAL_TRANSP_PROPERTY) != NULL) {
		remove_props(nc, ICAL_TRANSP_PROPERTY);
		add_clone(nc, cc, ICAL_TRANSP_PROPERTY);
	}
	ca = find_attendee(cc, recipient);
	if (na == NULL || ca == NULL)
		return;
	if (comp_rid(mobj, nc) == comp_rid(cobj, cc))
		resched = sig_differs(mobj, nc, cobj, cc, false, NULL);
	else	/* a new override of the series the attendee has */
		resched = instance_moved(mobj, nc, cobj, cc);
	set_param(na, "PARTSTAT", resched ? "NEEDS-ACTION" : partstat_of(ca));
}

static void remove_exdate(const struct ical_object *obj, icalcomponent *master, int64_t key)
{
	icalproperty **ex;
	size_t nex = props_of(master, ICAL_EXDATE_PROPERTY, &ex);

	for (size_t i = 0; i < nex; i++) {
		if (time_key(obj, ex[i]) == key) {
			icalcomponent_remove_property(master, ex[i]);
			icalproperty_free(ex[i]);
		}
	}
	free(ex);
}

/* A working copy of cur: same zones, its own VCALENDAR. */
static void work_copy(const struct ical_object *cur, struct ical_object *w)
{
	*w = *cur;
	w->vcal = icalcomponent_new_clone(cur->vcal);
	remove_props(w->vcal, ICAL_METHOD_PROPERTY);
}

static int apply_request(const struct ical_object *cur, const struct itip_message *msg,
			 const char *recipient, icalcomponent **out)
{
	icalcomponent **mv, **cv = NULL, *v;
	size_t mn = content_comps(msg->vcal, &mv), cn = 0, applied = 0;

	*out = NULL;
	if (cur == NULL) {
		v = copy_shell(msg->vcal);
		for (size_t i = 0; i < mn; i++) {
			icalcomponent *c = icalcomponent_new_clone(mv[i]);

			remove_alarms(c);
			icalcomponent_add_component(v, c);
		}
		copy_timezones(v, msg->vcal);
		*out = v;
		free(mv);
		return 0;
	}
	cn = content_comps(cur->vcal, &cv);
	if (msg->has_master) {
		icalcomponent *mm = master_of(msg->obj), *cm = master_of(cur);
		bool resched;

		if (cm != NULL && stale(mm, cm))
			goto done;	/* an older version: ignored */
		resched = cm == NULL || sig_differs(msg->obj, mm, cur, cm, false, NULL);
		v = copy_shell(cur->vcal);
		for (size_t i = 0; i < mn; i++) {
			icalcomponent *nc = icalcomponent_new_clone(mv[i]);
			int64_t k = comp_rid(msg->obj, mv[i]);
			icalcomponent *cc = find_comp(cur, k);

			attendee_keep(nc, msg->obj, cc ? cc : (k != RID_NONE ? cm : NULL), cur, recipient);
			icalcomponent_add_component(v, nc);
		}
		/* the attendee's own overrides (answers per instance) survive an
		 * update that does not reschedule the series */
		for (size_t i = 0; i < cn && !resched; i++) {
			int64_t k = comp_rid(cur, cv[i]);

			if (k == RID_NONE || find_comp(msg->obj, k) != NULL || has_exdate(msg->obj, mm, k))
				continue;
			icalcomponent_add_component(v, icalcomponent_new_clone(cv[i]));
		}
		copy_timezones(v, msg->vcal);
		copy_timezones(v, cur->vcal);
		*out = v;
		goto done;
	}
	/* overrides only: merged into the series */
	{
		struct ical_object w;
		icalcomponent *cm;

		work_copy(cur, &w);
		cm = master_of(&w);
		for (size_t i = 0; i < mn; i++) {
			int64_t k = comp_rid(msg->obj, mv[i]);
			icalcomponent *cc = find_comp(&w, k), *nc;

			if (cc != NULL && stale(mv[i], cc))
				continue;
			nc = icalcomponent_new_clone(mv[i]);
			attendee_keep(nc, msg->obj, cc ? cc : cm, &w, recipient);
			if (cc != NULL) {
				icalcomponent_remove_component(w.vcal, cc);
				icalcomponent_free(cc);
			}
			if (cm != NULL)
				remove_exdate(&w, cm, k);
			icalcomponent_add_component(w.vcal, nc);
			applied++;
		}
		if (applied == 0) {
			icalcomponent_free(w.vcal);
			goto done;
		}
		copy_timezones(w.vcal, msg->vcal);
		*out = w.vcal;
	}
done:
	free(mv);
	free(cv);
	return 0;
}

static int apply_add(const struct ical_object *cur, const struct itip_message *msg,
		     icalcomponent **out, struct ical_error *err_r)
{
	struct ical_object w;
	icalcomponent **mv, *wm;
	size_t mn, added = 0;

	*out = NULL;
	if (cur == NULL) {
		itip_err(err_r, "3.8;No authority: ADD for an event this calendar does not have "
			 "(the attendee sends a REFRESH)");
		return -1;
	}
	work_copy(cur, &w);
	wm = master_of(&w);
	if (wm == NULL) {
		icalcomponent_free(w.vcal);
		itip_err(err_r, "3.1;ADD: the stored event has no series to add instances to");
		return -1;
	}
	if (msg->sequence < comp_sequence(wm)) {
		icalcomponent_free(w.vcal);
		return 0;	/* older than the copy: ignored */
	}
	mn = content_comps(msg->vcal, &mv);
	for (size_t i = 0; i < mn; i++) {
		icalproperty *ds = icalcomponent_get_first_property(mv[i], ICAL_DTSTART_PROPERTY);
		int64_t k;
		icalcomponent *nc;

		if (ds == NULL)
			continue;
		k = time_key(msg->obj, ds);
		if (find_comp(&w, k) != NULL)
			continue;
		icalcomponent_add_property(wm, time_prop_as(ds, ICAL_RDATE_PROPERTY));
		nc = icalcomponent_new_clone(mv[i]);
		remove_alarms(nc);
		icalcomponent_add_property(nc, time_prop_as(ds, ICAL_RECURRENCEID_PROPERTY));
		icalcomponent_add_component(w.vcal, nc);
		added++;
	}
	free(mv);
	if (added == 0) {
		icalcomponent_free(w.vcal);
		return 0;
	}
	copy_timezones(w.vcal, msg->vcal);
	*out = w.vcal;
	return 0;
}

static int apply_cancel(const struct ical_object *cur, const struct itip_message *msg,
			icalcomponent **out)
{
	struct ical_object w;
	icalcomponent **mv, **wv, *wm;
	size_t mn, wn, changed = 0;

	*out = NULL;
	if (cur == NULL)
		return 0;	/* nothing to cancel */
	work_copy(cur, &w);
	wm = master_of(&w);
	mn = content_comps(msg->vcal, &mv);
	for (size_t i = 0; i < mn; i++) {
		int64_t k = comp_rid(msg->obj, mv[i]);
		int seq = comp_sequence(mv[i]);
		icalcomponent *cc = find_comp(&w, k);

		if (k == RID_NONE) {
			/* the whole event */
			wn = content_comps(w.vcal, &wv);
			if (wn > 0 && !stale(mv[i], wm ? wm : wv[0])) {
				for (size_t j = 0; j < wn; j++) {
					remove_props(wv[j], ICAL_STATUS_PROPERTY);
					icalcomponent_add_property(wv[j],
								   icalproperty_new_status(ICAL_STATUS_CANCELLED));
					set_sequence(wv[j], seq);
				}
				changed++;
			}
			free(wv);
			continue;
		}
		if (cc != NULL) {
			if (stale(mv[i], cc) || is_cancelled(cc))
				continue;
		} else {
			/* RFC 6638 3.2.6: the instance becomes a cancelled override */
			if (wm == NULL || stale(mv[i], wm) || !is_instance(&w, k))
				continue;
			cc = instance_of(&w, wm,
					 icalcomponent_get_first_property(mv[i], ICAL_RECURRENCEID_PROPERTY));
			icalcomponent_add_component(w.vcal, cc);
		}
		remove_props(cc, ICAL_STATUS_PROPERTY);
		icalcomponent_add_property(cc, icalproperty_new_status(ICAL_STATUS_CANCELLED));
		set_sequence(cc, seq);
		changed++;
	}
	free(mv);
	if (changed == 0) {
		icalcomponent_free(w.vcal);
		return 0;
	}
	copy_timezones(w.vcal, msg->vcal);
	*out = w.vcal;
	return 0;
}

/* Record a reply's PARTSTAT on the organizer's ATTENDEE property. */
static void set_reply(icalproperty *ta, icalproperty *ap)
{
	const char *dt = param(ap, "DELEGATED-TO");
	char *keep = dt ? xstrdup(dt) : NULL;

	set_param(ta, "PARTSTAT", partstat_of(ap));
	set_param(ta, "DELEGATED-TO", keep);
	set_param(ta, "SCHEDULE-STATUS", "2.0");
	free(keep);
}

/* A delegation (PARTSTAT=DELEGATED;DELEGATED-TO=...) adds the delegates to
 * the component (RFC 5546 2.1.5), within the attendee cap. */
static void add_delegates(icalcomponent *c, icalproperty *ap, const char *from)
{
	const char *dt = param(ap, "DELEGATED-TO");
	char *list, *save = NULL;
	struct ical_limits l;

	if (dt == NULL || str_casecmp(partstat_of(ap), "DELEGATED") != 0)
		return;
	apply_limits(&l);
	list = xstrdup(dt);
	for (char *tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *t = tok;
		size_t n;
		icalproperty *np;
		char *f;

		while (*t == ' ' || *t == '"')
			t++;
		n = strlen(t);
		while (n > 0 && (t[n - 1] == '"' || t[n - 1] == ' '))
			t[--n] = '\0';
		if (*t == '\0' || find_attendee(c, t) != NULL ||
		    count_props(c, ICAL_ATTENDEE_PROPERTY) >= l.max_attendees)
			continue;
		np = new_attendee(t);
		f = xasprintf("mailto:%s", from);
		set_param(np, "DELEGATED-FROM", f);
		free(f);
		set_param(np, "PARTSTAT", "NEEDS-ACTION");
		set_param(np, "RSVP", "TRUE");
		if (param(ap, "ROLE") != NULL) {
			char *r = xstrdup(param(ap, "ROLE"));

			set_param(np, "ROLE", r);
			free(r);
		}
		icalcomponent_add_property(c, np);
	}
	free(list);
}

static int apply_reply(const struct ical_object *cur, const struct itip_message *msg,
		       icalcomponent **out, struct ical_error *err_r)
{
	struct ical_object w;
	icalcomponent **mv, *wm;
	size_t mn, changed = 0;
	const char *who = msg->sender;

	*out = NULL;
	work_copy(cur, &w);
	wm = master_of(&w);
	mn = content_comps(msg->vcal, &mv);
	for (size_t i = 0; i < mn; i++) {
		icalproperty *ap = find_attendee(mv[i], who), *ta;
		int64_t k = comp_rid(msg->obj, mv[i]);
		icalcomponent *to = find_comp(&w, k);

		if (ap == NULL)
			continue;
		if (to == NULL && k != RID_NONE) {
			/* a reply for one instance: an override from the series */
			if (wm == NULL || find_attendee(wm, who) == NULL) {
				itip_err(err_r, "3.7;ATTENDEE: %.80s is not invited to this instance", who);
				goto fail;
			}
			if (!is_instance(&w, k)) {
				itip_err(err_r, "3.1;RECURRENCE-ID: not an instance of event %.80s", msg->uid);
				goto fail;
			}
			to = instance_of(&w, wm,
					 icalcomponent_get_first_property(mv[i], ICAL_RECURRENCEID_PROPERTY));
			icalcomponent_add_component(w.vcal, to);
		}
		if (to == NULL) {
			/* the organizer's copy holds instances only: reply for each */
			icalcomponent **wv;
			size_t wn = content_comps(w.vcal, &wv);
			bool any = false;

			for (size_t j = 0; j < wn; j++) {
				if ((ta = find_attendee(wv[j], who)) == NULL || comp_sequence(mv[i]) < comp_sequence(wv[j]))
					continue;
				set_reply(ta, ap);
				add_delegates(wv[j], ap, who);
				any = true;
			}
			free(wv);
			if (!any) {
				itip_err(err_r, "3.7;ATTENDEE: %.80s is not invited to this event", who);
				goto fail;
			}
			changed++;
			continue;
		}
		ta = find_attendee(to, who);
		if (ta == NULL) {
			itip_err(err_r, "3.7;ATTENDEE: %.80s is not invited to this %s", who,
				 k == RID_NONE ? "event" : "instance");
			goto fail;
		}
		if (comp_sequence(mv[i]) < comp_sequence(to))
			continue;	/* a reply to an older version: ignored (RFC 5546 2.1.5) */
		if (k == RID_NONE) {
			/* the series: overrides answered like the series follow it */
			char *was = xstrdup(partstat_of(ta));
			icalcomponent **wv;
			size_t wn = content_comps(w.vcal, &wv);

			for (size_t j = 0; j < wn; j++) {
				icalproperty *oa = find_attendee(wv[j], who);

				if (wv[j] == to || oa == NULL || comp_rid(&w, wv[j]) == RID_NONE ||
				    str_casecmp(partstat_of(oa), was) != 0)
					continue;
				set_reply(oa, ap);
			}
			free(wv);
			free(was);
		}
		set_reply(ta, ap);
		add_delegates(to, ap, who);
		changed++;
	}
	free(mv);
	if (changed == 0) {
		icalcomponent_free(w.vcal);
		return 0;
	}
	*out = w.vcal;
	return 0;
fail:
	free(mv);
	icalcomponent_free(w.vcal);
	return -1;
}

static bool attendee_anywhere(const struct ical_object *obj, const char *a)
{
	return attendee_in(obj, a) != NULL;
}

int itip_apply_ex(const struct ical_object *cur, const struct itip_message *msg,
		  const char *recipient, char **data_r, size_t *len_r,
		  enum itip_apply_result *res_r, struct ical_error *err_r)
{
	icalproperty *corg = cur ? organizer_prop(cur) : NULL;
	icalcomponent *out = NULL;
	int r = 0;

	*data_r = NULL;
	*len_r = 0;
	*res_r = ITIP_APPLY_UNCHANGED;
	if (err_r != NULL)
		memset(err_r, 0, sizeof(*err_r));
	if (cur != NULL && (strcmp(cur->uid, msg->uid) != 0 || cur->comp != msg->comp)) {
		itip_err(err_r, "3.1;UID: the stored object is another event");
		return -1;
	}
	if (msg->comp == ICAL_COMP_VFREEBUSY) {
		itip_err(err_r, "5.3;VFREEBUSY: free-busy messages are answered, not stored");
		return -1;
	}
	switch (msg->method) {
	case ITIP_PUBLISH:
	case ITIP_REQUEST:
	case ITIP_ADD:
	case ITIP_CANCEL:
	case ITIP_DECLINECOUNTER:
		/* from the organizer to an attendee's copy */
		if (addr_eq(recipient, msg->organizer)) {
			itip_err(err_r, "3.8;No authority: %s from the organizer to itself",
				 method_names[msg->method]);
			return -1;
		}
		if ((msg->method == ITIP_REQUEST || msg->method == ITIP_ADD) &&
		    !attendee_anywhere(msg->obj, recipient)) {
			itip_err(err_r, "3.7;ATTENDEE: %.80s is not an attendee of this %s", recipient,
				 method_names[msg->method]);
			return -1;
		}
		if (cur != NULL && (corg == NULL || !addr_eq(prop_addr(corg), msg->organizer))) {
			itip_err(err_r, "3.8;No authority: ORGANIZER %.80s is not the organizer of the "
				 "stored event", msg->organizer);
			return -1;
		}
		if (msg->method == ITIP_DECLINECOUNTER) {
			if (cur == NULL) {
				itip_err(err_r, "3.8;No authority: DECLINECOUNTER for an event this calendar "
					 "does not have");
				return -1;
			}
			return 0;	/* noted by its inbox copy; the event is unchanged */
		}
		if (msg->method == ITIP_ADD)
			r = apply_add(cur, msg, &out, err_r);
		else if (msg->method == ITIP_CANCEL)
			r = apply_cancel(cur, msg, &out);
		else
			r = apply_request(cur, msg, recipient, &out);
		break;
	case ITIP_REPLY:
	case ITIP_REFRESH:
	case ITIP_COUNTER:
		/* from an attendee to the organizer's copy */
		if (cur == NULL) {
			itip_err(err_r, "3.8;No authority: %s for event %.80s, which this calendar "
				 "does not have", method_names[msg->method], msg->uid);
			return -1;
		}
		if (corg == NULL || !addr_eq(prop_addr(corg), recipient) ||
		    !addr_eq(msg->organizer, recipient)) {
			itip_err(err_r, "3.8;No authority: %.80s is not the organizer of event %.80s",
				 recipient, msg->uid);
			return -1;
		}
		if (msg->sender == NULL || !attendee_anywhere(cur, msg->sender)) {
			itip_err(err_r, "3.7;ATTENDEE: %.80s is not invited to event %.80s",
				 msg->sender ? msg->sender : "(none)", msg->uid);
			return -1;
		}
		if (msg->method == ITIP_REPLY)
			r = apply_reply(cur, msg, &out, err_r);
		break;
	}
	if (r < 0)
		return -1;
	if (out != NULL) {
		struct ical_limits l;
		struct ical_object *check;
		struct ical_error cerr;
		char *text = comp_to_string(out, len_r);

		icalcomponent_free(out);
		/* what is stored must be a valid calendar object resource */
		if (ical_object_parse(text, *len_r, ICAL_COMP_DEFAULT_SET, apply_limits(&l), &check,
				      &cerr) < 0) {
			itip_err(err_r, "3.1;the result is not a valid calendar object: %.200s", cerr.text);
			free(text);
			*len_r = 0;
			return -1;
		}
		ical_object_free(&check);
		*data_r = text;
		*res_r = ITIP_APPLY_STORE;
	}
	return 0;
}

int itip_apply(const struct ical_object *cur, const struct itip_message *msg,
	       const char *recipient, char **data_r, size_t *len_r, struct ical_error *err_r)
{
	enum itip_apply_result res;

	return itip_apply_ex(cur, msg, recipient, data_r, len_r, &res, err_r);
}

int itip_set_schedule_status(struct ical_object *obj, const char *address, const char *status)
{
	icalcomponent **v;
	size_t n = content_comps(obj->vcal, &v);
	int set = 0;

	for (size_t i = 0; i < n; i++) {
		icalproperty *p = find_attendee(v[i], address);
		icalproperty *o = icalcomponent_get_first_property(v[i], ICAL_ORGANIZER_PROPERTY);

		if (p != NULL) {
			set_param(p, "SCHEDULE-STATUS", status);
			set++;
		}
		if (o != NULL && addr_eq(prop_addr(o), address)) {
			set_param(o, "SCHEDULE-STATUS", status);
			set++;
		}
	}
	free(v);
	return set;
}

/* ---- builders ------------------------------------------------------------ */

int itip_build_reply(const struct itip_message *req, const char *attendee,
		     const char *partstat, const char *sent_by, const char *comment,
		     struct itip_out *out, struct ical_error *err_r)
{
	icalcomponent **v, *vcal = NULL;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (req->method != ITIP_REQUEST && req->method != ITIP_ADD) {
		itip_err(err_r, "3.14;REPLY: only a REQUEST or ADD is replied to (this is a %s)",
			 method_names[req->method]);
		return -1;
	}
	if (!partstat_valid(partstat, req->kind) || partstat == NULL) {
		itip_err(err_r, "3.3;PARTSTAT=%.40s is not valid", partstat ? partstat : "");
		return -1;
	}
	n = content_comps(req->vcal, &v);
	for (size_t i = 0; i < n; i++) {
		icalproperty *ap = find_attendee(v[i], attendee);
		icalcomponent *c;

		if (ap == NULL)
			continue;
		c = reply_comp(v[i], NULL, ap, partstat, sent_by);
		if (comment != NULL)
			icalcomponent_add_property(c, icalproperty_new_comment(comment));
		if (vcal == NULL)
			vcal = new_vcal(ITIP_REPLY);
		icalcomponent_add_component(vcal, c);
	}
	free(v);
	if (vcal == NULL) {
		itip_err(err_r, "3.7;ATTENDEE: %.80s is not invited by this request", attendee);
		return -1;
	}
	copy_timezones(vcal, req->vcal);
	return out_single(out, req->organizer, ITIP_REPLY, vcal, err_r);
}

int itip_build_refresh(const struct ical_object *obj, const char *attendee, const char *rid,
		       struct itip_out *out, struct ical_error *err_r)
{
	icalproperty *org = organizer_prop(obj), *ap = attendee_in(obj, attendee);
	icalcomponent *vcal, *c;
	char *orgaddr;

	memset(out, 0, sizeof(*out));
	if (org == NULL || prop_addr(org) == NULL) {
		itip_err(err_r, "3.11;ORGANIZER: the event has none to ask");
		return -1;
	}
	if (ap == NULL) {
		itip_err(err_r, "3.7;ATTENDEE: %.80s is not an attendee of the event", attendee);
		return -1;
	}
	c = icalcomponent_new(obj->kind);
	icalcomponent_add_property(c, icalproperty_new_uid(obj->uid));
	icalcomponent_add_property(c, icalproperty_new_clone(org));
	icalcomponent_add_property(c, icalproperty_new_clone(ap));
	if (rid != NULL) {
		struct icaltimetype t = icaltime_from_string(rid);

		if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t)) {
			icalcomponent_free(c);
			itip_err(err_r, "3.5;RECURRENCE-ID: %.40s is not a date or date-time", rid);
			return -1;
		}
		icalcomponent_add_property(c, icalproperty_new_recurrenceid(t));
	}
	prep_out(c, NULL);
	vcal = new_vcal(ITIP_REFRESH);
	icalcomponent_add_component(vcal, c);
	orgaddr = itip_address(prop_addr(org));
	{
		int r = out_single(out, orgaddr, ITIP_REFRESH, vcal, err_r);

		free(orgaddr);
		return r;
	}
}

int itip_build_declinecounter(const struct itip_message *counter, const char *organizer,
			      const char *comment, struct itip_out *out,
			      struct ical_error *err_r)
{
	icalcomponent **v, *vcal;
	size_t n;
	const char *to = counter->sender ? counter->sender :
			 counter->nattendees > 0 ? counter->attendees[0] : NULL;

	memset(out, 0, sizeof(*out));
	if (counter->method != ITIP_COUNTER) {
		itip_err(err_r, "3.14;DECLINECOUNTER: answers a COUNTER (this is a %s)",
			 method_names[counter->method]);
		return -1;
	}
	if (!addr_eq(organizer, counter->organizer)) {
		itip_err(err_r, "3.8;No authority: %.80s is not the organizer of the countered event",
			 organizer);
		return -1;
	}
	if (to == NULL) {
		itip_err(err_r, "3.11;ATTENDEE: the COUNTER names no attendee");
		return -1;
	}
	vcal = new_vcal(ITIP_DECLINECOUNTER);
	n = content_comps(counter->vcal, &v);
	for (size_t i = 0; i < n; i++) {
		icalcomponent *c = icalcomponent_new(icalcomponent_isa(v[i]));

		add_clone(c, v[i], ICAL_UID_PROPERTY);
		add_clone(c, v[i], ICAL_ORGANIZER_PROPERTY);
		for (icalproperty *p = icalcomponent_get_first_property(v[i], ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(v[i], ICAL_ATTENDEE_PROPERTY))
			icalcomponent_add_property(c, icalproperty_new_clone(p));
		add_clone(c, v[i], ICAL_RECURRENCEID_PROPERTY);
		icalcomponent_add_property(c, icalproperty_new_sequence(comp_sequence(v[i])));
		if (comment != NULL)
			icalcomponent_add_property(c, icalproperty_new_comment(comment));
		prep_out(c, NULL);
		icalcomponent_add_component(vcal, c);
	}
	free(v);
	copy_timezones(vcal, counter->vcal);
	return out_single(out, to, ITIP_DECLINECOUNTER, vcal, err_r);
}
