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

#pragma GCC diagnostic ignored "-Wunused-function" /* API commit only */
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

	for (icalcomponent *c = icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT); c != NULL;
	     c = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
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
	for (icalcomponent *c = icalcomponent_get_first_component(obj->vcal, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(obj->vcal, ICAL_ANY_COMPONENT)) {
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
		bool dup = false;

		if (a == NULL || *a == '\0') {
			itip_err(err_r, "3.1;ATTENDEE: empty calendar user address");
			return -1;
		}
		if (!partstat_valid(param(p, "PARTSTAT"), k)) {
			itip_err(err_r, "3.3;ATTENDEE: PARTSTAT=%.40s is not valid in a %s",
				 param(p, "PARTSTAT"), kn);
			return -1;
		}
		for (size_t i = 0; i < m->nattendees && !dup; i++)
			dup = addr_eq(a, m->attendees[i]);
		if (!dup) {
			if (m->nattendees >= lim->max_attendees) {
				itip_err(err_r, "3.10;ATTENDEE: more than %u distinct attendees",
					 lim->max_attendees);
				return -1;
			}
			m->attendees = xrealloc(m->attendees, (m->nattendees + 1) * sizeof(char *));
			m->attendees[m->nattendees++] = itip_address(a);
		}
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

/* ---- API commit: the functions below land in the next commits ---------- */

void itip_out_free(struct itip_out *out, size_t n)
{
	for (size_t i = 0; i < n && out != NULL; i++) {
		free(out[i].recipient);
		free(out[i].data);
	}
	free(out);
}

static int later(struct ical_error *err_r)
{
	itip_err(err_r, "5.1;iTIP processing is not in this build yet");
	return -1;
}

int itip_organizer_changes(const struct ical_object *old, const struct ical_object *new,
			   const char *organizer, const char *sent_by,
			   struct itip_out **out_r, size_t *n_r, struct ical_error *err_r)
{
	(void)old; (void)new; (void)organizer; (void)sent_by;
	*out_r = NULL; *n_r = 0;
	return later(err_r);
}

bool itip_needs_sequence_bump(const struct ical_object *old, const struct ical_object *new)
{
	(void)old; (void)new;
	return false;
}

int itip_object_sequence(const struct ical_object *obj)
{
	icalcomponent *m = master_of(obj);

	return m ? comp_sequence(m) : 0;
}

void itip_object_set_sequence(struct ical_object *obj, int seq)
{
	icalcomponent **v;
	size_t n = content_comps(obj->vcal, &v);

	for (size_t i = 0; i < n; i++)
		set_sequence(v[i], seq);
	free(v);
}

int itip_attendee_changes(const struct ical_object *old, const struct ical_object *new,
			  const char *attendee, const char *sent_by,
			  struct itip_out **out_r, size_t *n_r, struct ical_error *err_r)
{
	(void)old; (void)new; (void)attendee; (void)sent_by;
	*out_r = NULL; *n_r = 0;
	return later(err_r);
}

int itip_apply_ex(const struct ical_object *cur, const struct itip_message *msg,
		  const char *recipient, char **data_r, size_t *len_r,
		  enum itip_apply_result *res_r, struct ical_error *err_r)
{
	(void)cur; (void)msg; (void)recipient;
	*data_r = NULL; *len_r = 0; *res_r = ITIP_APPLY_UNCHANGED;
	return later(err_r);
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

int itip_build_reply(const struct itip_message *req, const char *attendee,
		     const char *partstat, const char *sent_by, const char *comment,
		     struct itip_out *out, struct ical_error *err_r)
{
	(void)req; (void)attendee; (void)partstat; (void)sent_by; (void)comment;
	memset(out, 0, sizeof(*out));
	return later(err_r);
}

int itip_build_refresh(const struct ical_object *obj, const char *attendee, const char *rid,
		       struct itip_out *out, struct ical_error *err_r)
{
	(void)obj; (void)attendee; (void)rid;
	memset(out, 0, sizeof(*out));
	return later(err_r);
}

int itip_build_declinecounter(const struct itip_message *counter, const char *organizer,
			      const char *comment, struct itip_out *out,
			      struct ical_error *err_r)
{
	(void)counter; (void)organizer; (void)comment;
	memset(out, 0, sizeof(*out));
	return later(err_r);
}

int itip_build_request(const struct ical_object *obj, const char *attendee,
		       const char *sent_by, struct itip_out *out, struct ical_error *err_r)
{
	(void)obj; (void)attendee; (void)sent_by;
	memset(out, 0, sizeof(*out));
	return later(err_r);
}
