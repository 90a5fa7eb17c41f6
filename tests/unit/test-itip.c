/* Unit tests for calendar/itip: parsing per RFC 5546 section 3, the
 * messages organizer and attendee changes send (RFC 6638 3.2), applying
 * every method to stored copies, and the builders. Each scenario runs the
 * messages through itip_parse() again, as the receiving side does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "itip.h"
#include "util.h"

static struct ical_limits limits;

/* "\n" lines to CRLF lines. */
static char *crlf(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "");
	for (; *s; s++) {
		if (*s == '\n')
			buf_append(&b, "\r\n", 2);
		else
			buf_append(&b, s, 1);
	}
	return b.data;
}

/* Unfold (RFC 5545 3.1) and drop CRs, so that tests can look for text. */
static char *unfold(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "");
	for (; *s; s++) {
		if (s[0] == '\r')
			continue;
		if (s[0] == '\n' && (s[1] == ' ' || s[1] == '\t')) {
			s++;
			continue;
		}
		buf_append(&b, s, 1);
	}
	return b.data;
}

/* s with the first from replaced by to (malloc'ed); from must occur. */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);

	assert_non_null(p);
	return xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

static bool has(const char *data, const char *needle)
{
	char *u = unfold(data);
	bool r = strstr(u, needle) != NULL;

	free(u);
	return r;
}

/* The PARTSTAT of addr's first ATTENDEE line in data ("" when none). */
static const char *partstat(const char *data, const char *addr)
{
	static char out[32];
	char *u = unfold(data), *line = u;
	char *want = xasprintf(":mailto:%s", addr);

	out[0] = '\0';
	while (line != NULL && *line) {
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (strncmp(line, "ATTENDEE", 8) == 0 && strlen(line) >= strlen(want) &&
		    strcasecmp(line + strlen(line) - strlen(want), want) == 0) {
			char *p = strstr(line, "PARTSTAT=");

			if (p != NULL)
				snprintf(out, sizeof(out), "%.*s", (int)strcspn(p + 9, ";:"), p + 9);
			else
				snprintf(out, sizeof(out), "NEEDS-ACTION");
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(want);
	free(u);
	return out;
}

static unsigned count(const char *data, const char *needle)
{
	char *u = unfold(data);
	unsigned n = 0;

	for (const char *p = u; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(u);
	return n;
}

static struct ical_object *obj_lf(const char *lf)
{
	char *t = crlf(lf);
	struct ical_object *obj = NULL;
	struct ical_error err;

	if (ical_object_parse(t, strlen(t), ICAL_COMP_DEFAULT_SET, &limits, &obj, &err) != 0)
		fail_msg("object: %s", err.text);
	free(t);
	return obj;
}

static struct ical_object *obj_text(const char *t)
{
	struct ical_object *obj = NULL;
	struct ical_error err;

	if (ical_object_parse(t, strlen(t), ICAL_COMP_DEFAULT_SET, &limits, &obj, &err) != 0)
		fail_msg("object: %s\n%s", err.text, t);
	return obj;
}

static struct itip_message *msg_text(const char *t)
{
	struct itip_message *m = NULL;
	struct ical_error err;

	if (itip_parse(t, strlen(t), &limits, &m, &err) != 0)
		fail_msg("itip_parse: %s\n%s", err.text, t);
	return m;
}

static struct itip_message *msg_lf(const char *lf)
{
	char *t = crlf(lf);
	struct itip_message *m = msg_text(t);

	free(t);
	return m;
}

/* Parse fails; returns the error text (static). */
static const char *parse_fails(const char *lf)
{
	static struct ical_error err;
	char *t = crlf(lf);
	struct itip_message *m = NULL;

	assert_int_equal(itip_parse(t, strlen(t), &limits, &m, &err), -1);
	assert_null(m);
	free(t);
	return err.text;
}

static char *apply_ok(const struct ical_object *cur, const char *msg_text_, const char *rcpt,
		      enum itip_apply_result want);

static const struct itip_out *find_out(const struct itip_out *o, size_t n, const char *rcpt,
				       enum itip_method m)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(o[i].recipient, rcpt) == 0 && o[i].method == m)
			return &o[i];
	return NULL;
}

#define HDR "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n"
#define TZ_BERLIN \
	"BEGIN:VTIMEZONE\nTZID:Europe/Berlin\n" \
	"BEGIN:DAYLIGHT\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nTZNAME:CEST\n" \
	"DTSTART:19700329T020000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nEND:DAYLIGHT\n" \
	"BEGIN:STANDARD\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nTZNAME:CET\n" \
	"DTSTART:19701025T030000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\n" \
	"END:VTIMEZONE\n"

/* The organizer's meeting: alice organizes, bob (server), carol (client). */
#define MEETING(seq, extra) \
	HDR "BEGIN:VEVENT\nUID:m1@example.com\nDTSTAMP:20270101T090000Z\n" \
	"DTSTART:20270110T100000Z\nDTEND:20270110T110000Z\nSUMMARY:Planning\n" \
	"SEQUENCE:" seq "\n" \
	"ORGANIZER;CN=Alice:mailto:alice@example.com\n" \
	"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\n" \
	"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;SCHEDULE-STATUS=1.2:mailto:Bob@Example.com\n" \
	"ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:carol@example.com\n" \
	extra \
	"BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:x\nTRIGGER:-PT15M\nEND:VALARM\n" \
	"END:VEVENT\nEND:VCALENDAR\n"

/* A weekly series of bob's and dave's, in Berlin time. */
#define SERIES_MASTER(seq, exdates) \
	"BEGIN:VEVENT\nUID:s1@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:" seq "\n" \
	"DTSTART;TZID=Europe/Berlin:20270104T090000\nDTEND;TZID=Europe/Berlin:20270104T093000\n" \
	"RRULE:FREQ=WEEKLY;COUNT=6\n" exdates "SUMMARY:Standup\n" \
	"ORGANIZER:mailto:alice@example.com\n" \
	"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\n" \
	"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\n" \
	"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:dave@example.com\n" \
	"END:VEVENT\n"

/* ---- parsing ------------------------------------------------------------- */

static void test_parse_accessors(void **state)
{
	struct itip_message *m;
	char *s;
	size_t len;
	int64_t t;

	(void)state;
	m = msg_lf(HDR "METHOD:REPLY\nBEGIN:VEVENT\nUID:u1\nDTSTAMP:20270101T000000Z\n"
		   "SEQUENCE:3\nSUMMARY:Lunch\nDTSTART:20270105T120000Z\n"
		   "ORGANIZER;SENT-BY=\"mailto:Sec@Example.com\":MAILTO:Org@Example.COM\n"
		   "ATTENDEE;PARTSTAT=tentative;SENT-BY=\"mailto:deleg@example.com\":mailto:B@example.com\n"
		   "END:VEVENT\nEND:VCALENDAR\n");
	assert_int_equal(itip_method(m), ITIP_REPLY);
	assert_string_equal(itip_method_name(itip_method(m)), "REPLY");
	assert_string_equal(itip_uid(m), "u1");
	assert_string_equal(itip_organizer(m), "org@example.com");
	assert_string_equal(itip_organizer_sent_by(m), "sec@example.com");
	assert_string_equal(itip_sender(m), "b@example.com");
	assert_string_equal(itip_sender_sent_by(m), "deleg@example.com");
	assert_string_equal(itip_sender_partstat(m), "TENTATIVE");
	assert_int_equal(itip_sequence(m), 3);
	assert_int_equal(itip_comp(m), ICAL_COMP_VEVENT);
	assert_string_equal(itip_summary(m), "Lunch");
	assert_int_equal(itip_attendee_count(m), 1);
	assert_string_equal(itip_attendee(m, 0), "b@example.com");
	assert_null(itip_attendee(m, 1));
	assert_false(itip_has_instances(m));
	assert_true(itip_dtstart(m, &t));
	assert_int_equal(t, 1799150400);	/* 2027-01-05T12:00:00Z */
	s = itip_to_string(m, &len);
	assert_int_equal(strlen(s), len);
	assert_true(has(s, "METHOD:REPLY"));
	free(s);
	itip_free(&m);
	assert_null(m);
	itip_free(&m);
}

static void test_parse_method_names(void **state)
{
	enum itip_method m;

	(void)state;
	for (int i = ITIP_PUBLISH; i <= ITIP_DECLINECOUNTER; i++) {
		assert_int_equal(itip_method_from_name(itip_method_name((enum itip_method)i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(itip_method_from_name("request", &m), 0);
	assert_int_equal(m, ITIP_REQUEST);
	assert_int_equal(itip_method_from_name("X-FOO", &m), -1);
	assert_null(itip_method_name((enum itip_method)42));
}

#define EV(props) "BEGIN:VEVENT\nUID:u1\nDTSTAMP:20270101T000000Z\nDTSTART:20270105T120000Z\n" \
	props "END:VEVENT\n"
#define ORG "ORGANIZER:mailto:o@example.com\n"
#define ATT(x) "ATTENDEE:mailto:" x "@example.com\n"

static void test_parse_rules(void **state)
{
	(void)state;
	assert_non_null(strstr(parse_fails(HDR EV(ORG ATT("a")) "END:VCALENDAR\n"), "METHOD"));
	assert_non_null(strstr(parse_fails(HDR "METHOD:X-PROPOSE\n" EV(ORG ATT("a")) "END:VCALENDAR\n"),
			       "METHOD: X-PROPOSE"));
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\nMETHOD:REPLY\n" EV(ORG ATT("a"))
					   "END:VCALENDAR\n"), "exactly one METHOD"));
	/* REPLY: exactly one ATTENDEE per component (3.2.3) */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REPLY\n" EV(ORG ATT("a") ATT("b"))
					   "END:VCALENDAR\n"), "exactly one ATTENDEE"));
	assert_non_null(strstr(parse_fails(HDR "METHOD:REPLY\n" EV(ORG) "END:VCALENDAR\n"),
			       "ATTENDEE"));
	/* a REPLY comes from one attendee across its components */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REPLY\n" EV(ORG ATT("a"))
					   "BEGIN:VEVENT\nUID:u1\nDTSTAMP:20270101T000000Z\n"
					   "RECURRENCE-ID:20270112T120000Z\n" ORG ATT("b")
					   "END:VEVENT\nEND:VCALENDAR\n"), "one attendee"));
	/* REQUEST: ORGANIZER and ATTENDEE required (3.2.2) */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\n" EV(ATT("a")) "END:VCALENDAR\n"),
			       "ORGANIZER"));
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\n" EV(ORG) "END:VCALENDAR\n"),
			       "ATTENDEE"));
	/* CANCEL: SEQUENCE required (3.2.5) */
	assert_non_null(strstr(parse_fails(HDR "METHOD:CANCEL\n" EV(ORG ATT("a")) "END:VCALENDAR\n"),
			       "SEQUENCE"));
	/* ADD: SEQUENCE required, no RECURRENCE-ID (3.2.4) */
	assert_non_null(strstr(parse_fails(HDR "METHOD:ADD\n" EV(ORG ATT("a")) "END:VCALENDAR\n"),
			       "SEQUENCE"));
	/* UID on every component, one UID per message */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\nBEGIN:VEVENT\nDTSTAMP:20270101T000000Z\n"
					   "DTSTART:20270105T120000Z\n" ORG ATT("a")
					   "END:VEVENT\nEND:VCALENDAR\n"), "UID"));
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\n" EV(ORG ATT("a"))
					   "BEGIN:VEVENT\nUID:u2\nDTSTAMP:20270101T000000Z\n"
					   "DTSTART:20270105T120000Z\nRECURRENCE-ID:20270105T120000Z\n"
					   ORG ATT("a") "END:VEVENT\nEND:VCALENDAR\n"), "one UID"));
	/* DTSTAMP required */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\nBEGIN:VEVENT\nUID:u1\n"
					   "DTSTART:20270105T120000Z\n" ORG ATT("a")
					   "END:VEVENT\nEND:VCALENDAR\n"), "DTSTAMP"));
	/* VJOURNAL has no REQUEST (3.5) */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\nBEGIN:VJOURNAL\nUID:u1\n"
					   "DTSTAMP:20270101T000000Z\n" ORG ATT("a")
					   "END:VJOURNAL\nEND:VCALENDAR\n"), "not defined for VJOURNAL"));
	/* PARTSTAT values */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REPLY\n"
					   EV(ORG "ATTENDEE;PARTSTAT=COMPLETED:mailto:a@example.com\n")
					   "END:VCALENDAR\n"), "PARTSTAT"));
	/* two ORGANIZERs */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\n"
					   EV(ORG "ORGANIZER:mailto:x@example.com\n" ATT("a"))
					   "END:VCALENDAR\n"), "ORGANIZER"));
	/* VERSION */
	assert_non_null(strstr(parse_fails("BEGIN:VCALENDAR\nPRODID:x\nMETHOD:REQUEST\n" EV(ORG ATT("a"))
					   "END:VCALENDAR\n"), "VERSION"));
	/* not iCalendar at all, and unbalanced */
	assert_non_null(parse_fails("hello\n"));
	assert_non_null(parse_fails(HDR "METHOD:REQUEST\nBEGIN:VEVENT\n"));
	/* two VCALENDARs */
	assert_non_null(strstr(parse_fails(HDR "METHOD:REQUEST\n" EV(ORG ATT("a")) "END:VCALENDAR\n"
					   HDR "METHOD:REQUEST\n" EV(ORG ATT("a")) "END:VCALENDAR\n"),
			       "exactly one VCALENDAR"));
}

static void test_parse_attendee_cap(void **state)
{
	struct ical_limits small = limits;
	struct itip_message *m = NULL;
	struct ical_error err;
	char *t = crlf(HDR "METHOD:REQUEST\n" EV(ORG ATT("a") ATT("b") ATT("c")) "END:VCALENDAR\n");

	(void)state;
	small.max_attendees = 2;
	assert_int_equal(itip_parse(t, strlen(t), &small, &m, &err), -1);
	assert_non_null(strstr(err.text, "3.10;ATTENDEE"));
	small.max_attendees = 3;
	assert_int_equal(itip_parse(t, strlen(t), &small, &m, &err), 0);
	assert_int_equal(itip_attendee_count(m), 3);
	itip_free(&m);
	/* NULL limits: the defaults */
	assert_int_equal(itip_parse(t, strlen(t), NULL, &m, &err), 0);
	itip_free(&m);
	free(t);
}

/* ---- organizer side ---------------------------------------------------------- */

static void test_organizer_create(void **state)
{
	struct ical_object *obj = obj_lf(MEETING("0", ""));
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	const struct itip_out *o;
	struct itip_message *m;

	(void)state;
	assert_int_equal(itip_organizer_changes(NULL, obj, "mailto:ALICE@example.com", NULL, &out, &n,
						&err), 0);
	/* bob only: alice is the organizer, carol's client schedules */
	assert_int_equal(n, 1);
	o = find_out(out, n, "bob@example.com", ITIP_REQUEST);
	assert_non_null(o);
	assert_true(has(o->data, "METHOD:REQUEST"));
	assert_false(has(o->data, "SCHEDULE-STATUS"));
	assert_false(has(o->data, "SCHEDULE-AGENT"));
	assert_false(has(o->data, "BEGIN:VALARM"));
	assert_false(has(o->data, "DTSTAMP:20270101T090000Z"));	/* DTSTAMP is now */
	assert_true(has(o->data, "SEQUENCE:0"));
	assert_false(has(o->data, "SENT-BY"));
	m = msg_text(o->data);
	assert_int_equal(itip_method(m), ITIP_REQUEST);
	assert_string_equal(itip_organizer(m), "alice@example.com");
	itip_free(&m);
	itip_out_free(out, n);

	/* a delegate acts for alice: SENT-BY on the ORGANIZER */
	assert_int_equal(itip_organizer_changes(NULL, obj, "alice@example.com", "Sec@example.com", &out,
						&n, &err), 0);
	assert_int_equal(n, 1);
	assert_true(has(out[0].data, "SENT-BY=\"mailto:sec@example.com\""));
	m = msg_text(out[0].data);
	assert_string_equal(itip_organizer_sent_by(m), "sec@example.com");
	itip_free(&m);
	itip_out_free(out, n);

	ical_object_free(&obj);
	/* an object whose scheduling data breaks RFC 5546 is not scheduled */
	obj = obj_lf(MEETING("0", "ORGANIZER:mailto:mallory@example.com\n"));
	assert_int_equal(itip_organizer_changes(NULL, obj, "alice@example.com", NULL, &out, &n,
						&err), -1);
	assert_non_null(strstr(err.text, "ORGANIZER"));
	assert_null(out);
	assert_int_equal(n, 0);
	ical_object_free(&obj);
	obj = obj_lf(MEETING("0", ""));
	/* someone else cannot schedule alice's meeting */
	assert_int_equal(itip_organizer_changes(NULL, obj, "mallory@example.com", NULL, &out, &n,
						&err), -1);
	assert_non_null(strstr(err.text, "3.8"));
	assert_null(out);
	ical_object_free(&obj);
}

static void test_organizer_insignificant_and_force(void **state)
{
	struct ical_object *a = obj_lf(MEETING("0", ""));
	struct ical_object *b = obj_lf(MEETING("0", "CATEGORIES:work\nX-FOO:bar\n"));
	struct ical_object *c = obj_lf(MEETING("0", "LOCATION:Room 1\n"));
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	char *t;
	size_t len;

	(void)state;
	/* no significant change: nothing sent, no SEQUENCE bump needed */
	assert_int_equal(itip_organizer_changes(a, b, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(out);
	assert_false(itip_needs_sequence_bump(a, b));
	/* a new LOCATION is significant (RFC 5546 2.1.4) */
	assert_true(itip_needs_sequence_bump(a, c));
	assert_int_equal(itip_organizer_changes(a, c, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_non_null(find_out(out, n, "bob@example.com", ITIP_REQUEST));
	itip_out_free(out, n);
	/* but no PARTSTAT reset: a new location does not reschedule */
	assert_int_equal(itip_reset_partstat(a, c, "alice@example.com"), 0);
	ical_object_free(&b);
	ical_object_free(&c);

	/* SCHEDULE-FORCE-SEND=REQUEST sends anyway, and is not sent */
	t = crlf(MEETING("0", ""));
	{
		char *p = strstr(t, "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;");
		char *f = xasprintf("%.*sATTENDEE;SCHEDULE-FORCE-SEND=REQUEST;%s", (int)(p - t), t,
				    p + strlen("ATTENDEE;"));

		b = obj_text(f);
		free(f);
	}
	free(t);
	assert_int_equal(itip_organizer_changes(a, b, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_false(has(out[0].data, "SCHEDULE-FORCE-SEND"));
	itip_out_free(out, n);
	/* the stored object loses it */
	itip_object_strip_force_send(b);
	t = ical_object_to_string(b, &len);
	assert_false(has(t, "SCHEDULE-FORCE-SEND"));
	free(t);
	ical_object_free(&a);
	ical_object_free(&b);
}

static void test_organizer_remove_and_delete(void **state)
{
	struct ical_object *a = obj_lf(MEETING("1", "ATTENDEE:mailto:erin@example.com\n"));
	struct ical_object *b = obj_lf(MEETING("2", ""));
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	const struct itip_out *o;

	(void)state;
	assert_true(itip_needs_sequence_bump(a, b));
	assert_int_equal(itip_organizer_changes(a, b, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 2);
	o = find_out(out, n, "erin@example.com", ITIP_CANCEL);
	assert_non_null(o);
	assert_true(has(o->data, "STATUS:CANCELLED"));
	assert_true(has(o->data, "SEQUENCE:2"));
	assert_true(has(o->data, "ATTENDEE:mailto:erin@example.com"));
	assert_false(has(o->data, "RECURRENCE-ID"));
	/* the attendee list changed: bob sees it */
	assert_non_null(find_out(out, n, "bob@example.com", ITIP_REQUEST));
	itip_out_free(out, n);

	/* delete: CANCEL to every scheduled attendee, SEQUENCE bumped */
	assert_int_equal(itip_organizer_changes(b, NULL, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 1);
	o = find_out(out, n, "bob@example.com", ITIP_CANCEL);
	assert_non_null(o);
	assert_true(has(o->data, "SEQUENCE:3"));
	{
		struct itip_message *m = msg_text(o->data);

		assert_int_equal(itip_method(m), ITIP_CANCEL);
		itip_free(&m);
	}
	itip_out_free(out, n);
	ical_object_free(&a);
	ical_object_free(&b);
}

/* One instance moved, one cancelled by an override, one by an EXDATE. */
static void test_organizer_recurrence(void **state)
{
	struct ical_object *a = obj_lf(HDR TZ_BERLIN SERIES_MASTER("0", "") "END:VCALENDAR\n");
	struct ical_object *b = obj_lf(HDR TZ_BERLIN SERIES_MASTER("1", "EXDATE;TZID=Europe/Berlin:20270125T090000\n")
		"BEGIN:VEVENT\nUID:s1@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:1\n"
		"RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000\n"
		"DTSTART;TZID=Europe/Berlin:20270111T140000\nDTEND;TZID=Europe/Berlin:20270111T143000\n"
		"SUMMARY:Standup (moved)\nORGANIZER:mailto:alice@example.com\n"
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:dave@example.com\n"
		"END:VEVENT\n"
		"BEGIN:VEVENT\nUID:s1@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:1\n"
		"RECURRENCE-ID;TZID=Europe/Berlin:20270118T090000\n"
		"DTSTART;TZID=Europe/Berlin:20270118T090000\nDTEND;TZID=Europe/Berlin:20270118T093000\n"
		"STATUS:CANCELLED\nSUMMARY:Standup\nORGANIZER:mailto:alice@example.com\n"
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:dave@example.com\n"
		"END:VEVENT\nEND:VCALENDAR\n");
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	const struct itip_out *req, *can;

	(void)state;
	assert_true(itip_needs_sequence_bump(a, b));
	assert_int_equal(itip_organizer_changes(a, b, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 4);
	req = find_out(out, n, "bob@example.com", ITIP_REQUEST);
	can = find_out(out, n, "bob@example.com", ITIP_CANCEL);
	assert_non_null(req);
	assert_non_null(can);
	/* the update carries the moved instance; VTIMEZONE included */
	assert_true(has(req->data, "SUMMARY:Standup (moved)"));
	assert_true(has(req->data, "BEGIN:VTIMEZONE"));
	/* the CANCEL names both removed instances */
	assert_int_equal(count(can->data, "BEGIN:VEVENT"), 2);
	assert_true(has(can->data, "RECURRENCE-ID;TZID=Europe/Berlin:20270118T090000"));
	assert_true(has(can->data, "RECURRENCE-ID;TZID=Europe/Berlin:20270125T090000"));
	assert_true(has(can->data, "SEQUENCE:1"));
	assert_true(has(can->data, "BEGIN:VTIMEZONE"));
	{
		struct itip_message *m = msg_text(can->data);

		assert_true(itip_has_instances(m));
		itip_free(&m);
	}
	itip_out_free(out, n);
	/* rescheduling the moved instance resets its PARTSTATs only */
	assert_int_equal(itip_reset_partstat(a, b, "alice@example.com"), 0);
	ical_object_free(&a);
	ical_object_free(&b);
}

/* dave attends only one instance: he gets that override, not the series;
 * bob is not invited to that instance: his master carries an EXDATE. */
static void test_organizer_instance_only_attendee(void **state)
{
	struct ical_object *obj = obj_lf(HDR TZ_BERLIN
		"BEGIN:VEVENT\nUID:s2@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:0\n"
		"DTSTART;TZID=Europe/Berlin:20270104T090000\nDTEND;TZID=Europe/Berlin:20270104T093000\n"
		"RRULE:FREQ=WEEKLY;COUNT=4\nSUMMARY:Review\nORGANIZER:mailto:alice@example.com\n"
		"ATTENDEE:mailto:alice@example.com\nATTENDEE:mailto:bob@example.com\n"
		"END:VEVENT\n"
		"BEGIN:VEVENT\nUID:s2@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:0\n"
		"RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000\n"
		"DTSTART;TZID=Europe/Berlin:20270111T090000\nDTEND;TZID=Europe/Berlin:20270111T093000\n"
		"SUMMARY:Review with Dave\nORGANIZER:mailto:alice@example.com\n"
		"ATTENDEE:mailto:alice@example.com\nATTENDEE:mailto:dave@example.com\n"
		"END:VEVENT\nEND:VCALENDAR\n");
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	const struct itip_out *d, *b;

	(void)state;
	assert_int_equal(itip_organizer_changes(NULL, obj, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 2);
	d = find_out(out, n, "dave@example.com", ITIP_REQUEST);
	b = find_out(out, n, "bob@example.com", ITIP_REQUEST);
	assert_non_null(d);
	assert_non_null(b);
	assert_int_equal(count(d->data, "BEGIN:VEVENT"), 1);
	assert_true(has(d->data, "RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000"));
	assert_false(has(d->data, "RRULE:FREQ=WEEKLY"));
	assert_int_equal(count(b->data, "BEGIN:VEVENT"), 1);
	assert_true(has(b->data, "RRULE:FREQ=WEEKLY"));
	assert_true(has(b->data, "EXDATE;TZID=Europe/Berlin:20270111T090000"));
	itip_out_free(out, n);
	ical_object_free(&obj);
}

/* dave is dropped from one instance of the series (case: an override
 * without him), then erin, invited to one override only, loses it. */
static void test_organizer_instance_removed(void **state)
{
	const char *ov_with = "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\n"
			      "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\n"
			      "ATTENDEE:mailto:erin@example.com\n";
	char *t_old = xasprintf(HDR TZ_BERLIN SERIES_MASTER("0", "")
		"BEGIN:VEVENT\nUID:s1@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:0\n"
		"RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000\n"
		"DTSTART;TZID=Europe/Berlin:20270111T090000\nDURATION:PT30M\n"
		"SUMMARY:Standup\nORGANIZER:mailto:alice@example.com\n%s"
		"ATTENDEE:mailto:dave@example.com\nEND:VEVENT\nEND:VCALENDAR\n", ov_with);
	char *t_new = xasprintf(HDR TZ_BERLIN SERIES_MASTER("1", "")
		"BEGIN:VEVENT\nUID:s1@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:1\n"
		"RECURRENCE-ID;TZID=Europe/Berlin:20270118T090000\n"
		"DTSTART;TZID=Europe/Berlin:20270118T090000\nDURATION:PT30M\n"
		"SUMMARY:Standup\nORGANIZER:mailto:alice@example.com\n"
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\n"
		"END:VEVENT\nEND:VCALENDAR\n");
	struct ical_object *a = obj_lf(t_old), *b = obj_lf(t_new);
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	const struct itip_out *o;

	(void)state;
	assert_int_equal(itip_organizer_changes(a, b, "alice@example.com", NULL, &out, &n, &err), 0);
	/* erin: her only instance is gone */
	o = find_out(out, n, "erin@example.com", ITIP_CANCEL);
	assert_non_null(o);
	assert_true(has(o->data, "RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000"));
	assert_null(find_out(out, n, "erin@example.com", ITIP_REQUEST));
	/* dave: not invited to the 18th any more; his series copy is updated
	 * with an EXDATE for it and the instance is cancelled */
	o = find_out(out, n, "dave@example.com", ITIP_CANCEL);
	assert_non_null(o);
	assert_true(has(o->data, "RECURRENCE-ID;TZID=Europe/Berlin:20270118T090000"));
	o = find_out(out, n, "dave@example.com", ITIP_REQUEST);
	assert_non_null(o);
	assert_true(has(o->data, "EXDATE;TZID=Europe/Berlin:20270118T090000"));
	/* bob: the override of the 11th went back to the series, the 18th has
	 * a new override: an update, nothing cancelled */
	assert_non_null(find_out(out, n, "bob@example.com", ITIP_REQUEST));
	assert_null(find_out(out, n, "bob@example.com", ITIP_CANCEL));
	assert_null(find_out(out, n, "carol@example.com", ITIP_REQUEST));
	itip_out_free(out, n);
	free(t_old);
	free(t_new);
	ical_object_free(&a);
	ical_object_free(&b);
}

/* Only events and to-dos are scheduled; a VTODO goes through. */
static void test_component_types(void **state)
{
	struct ical_object *j = obj_lf(HDR "BEGIN:VJOURNAL\nUID:j1\nDTSTAMP:20270101T090000Z\n"
				       "ORGANIZER:mailto:alice@example.com\n"
				       "ATTENDEE:mailto:bob@example.com\nEND:VJOURNAL\nEND:VCALENDAR\n");
	struct ical_object *t = obj_lf(HDR "BEGIN:VTODO\nUID:t1\nDTSTAMP:20270101T090000Z\n"
				       "DUE:20270110T100000Z\nSUMMARY:Report\n"
				       "ORGANIZER:mailto:alice@example.com\n"
				       "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\n"
				       "END:VTODO\nEND:VCALENDAR\n");
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	char *s;

	(void)state;
	assert_int_equal(itip_organizer_changes(NULL, j, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(itip_attendee_changes(j, NULL, "bob@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(itip_organizer_changes(NULL, t, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_true(has(out[0].data, "BEGIN:VTODO"));
	s = apply_ok(NULL, out[0].data, "bob@example.com", ITIP_APPLY_STORE);
	assert_true(has(s, "SUMMARY:Report"));
	free(s);
	itip_out_free(out, n);
	ical_object_free(&j);
	ical_object_free(&t);
}

static void test_reset_partstat(void **state)
{
	struct ical_object *a = obj_lf(MEETING("0", "")), *b;
	char *t = crlf(MEETING("1", ""));
	char *moved = subst(t, "DTSTART:20270110T100000Z", "DTSTART:20270110T093000Z");
	char *acc = subst(moved, "PARTSTAT=NEEDS-ACTION;RSVP", "PARTSTAT=ACCEPTED;RSVP");
	char *s;
	size_t len;

	(void)state;
	/* bob's PARTSTAT is already NEEDS-ACTION; alice (organizer) and carol
	 * (client scheduling) are left alone */
	b = obj_text(moved);
	assert_int_equal(itip_reset_partstat(a, b, "alice@example.com"), 0);
	s = ical_object_to_string(b, &len);
	assert_true(has(s, "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com"));
	free(s);
	ical_object_free(&b);
	/* bob had accepted: reset (RFC 6638 3.2.8) */
	b = obj_text(acc);
	assert_int_equal(itip_reset_partstat(a, b, "alice@example.com"), 1);
	s = ical_object_to_string(b, &len);
	assert_false(has(s, "PARTSTAT=ACCEPTED;RSVP"));
	assert_int_equal(count(s, "PARTSTAT=NEEDS-ACTION"), 1);
	free(s);
	ical_object_free(&b);
	/* not moved (only SEQUENCE): nothing */
	b = obj_text(t);
	assert_int_equal(itip_reset_partstat(a, b, "alice@example.com"), 0);
	ical_object_free(&b);
	free(t);
	free(moved);
	free(acc);
	ical_object_free(&a);
}

/* ---- attendee side ------------------------------------------------------------ */

#define BOB_COPY(partstat, extra) \
	HDR "BEGIN:VEVENT\nUID:m1@example.com\nDTSTAMP:20270101T090000Z\n" \
	"DTSTART:20270110T100000Z\nDTEND:20270110T110000Z\nSUMMARY:Planning\nSEQUENCE:0\n" \
	"ORGANIZER;CN=Alice:mailto:alice@example.com\n" \
	"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\n" \
	"ATTENDEE;PARTSTAT=" partstat ";RSVP=TRUE:mailto:bob@example.com\n" \
	extra "END:VEVENT\nEND:VCALENDAR\n"

static void test_attendee_reply(void **state)
{
	struct ical_object *a = obj_lf(BOB_COPY("NEEDS-ACTION", ""));
	struct ical_object *b = obj_lf(BOB_COPY("ACCEPTED", "BEGIN:VALARM\nACTION:DISPLAY\n"
						"DESCRIPTION:x\nTRIGGER:-PT5M\nEND:VALARM\n"));
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	struct itip_message *m;

	(void)state;
	assert_int_equal(itip_attendee_changes(a, b, "bob@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].recipient, "alice@example.com");
	assert_int_equal(out[0].method, ITIP_REPLY);
	assert_false(has(out[0].data, "RSVP"));
	assert_false(has(out[0].data, "VALARM"));
	assert_int_equal(count(out[0].data, "ATTENDEE"), 1);
	m = msg_text(out[0].data);
	assert_string_equal(itip_sender(m), "bob@example.com");
	assert_string_equal(itip_sender_partstat(m), "ACCEPTED");
	assert_null(itip_sender_sent_by(m));
	itip_free(&m);
	itip_out_free(out, n);

	/* a delegate answers for bob: SENT-BY */
	assert_int_equal(itip_attendee_changes(a, b, "bob@example.com", "eve@example.com", &out, &n,
					       &err), 0);
	assert_int_equal(n, 1);
	m = msg_text(out[0].data);
	assert_string_equal(itip_sender_sent_by(m), "eve@example.com");
	itip_free(&m);
	itip_out_free(out, n);

	/* no PARTSTAT change (an alarm added): nothing */
	assert_int_equal(itip_attendee_changes(b, b, "bob@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 0);

	/* deleting the copy declines */
	assert_int_equal(itip_attendee_changes(b, NULL, "bob@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 1);
	m = msg_text(out[0].data);
	assert_string_equal(itip_sender_partstat(m), "DECLINED");
	itip_free(&m);
	itip_out_free(out, n);

	/* the organizer is not an attendee here */
	assert_int_equal(itip_attendee_changes(a, b, "alice@example.com", NULL, &out, &n, &err), -1);
	ical_object_free(&a);
	ical_object_free(&b);

	/* ORGANIZER;SCHEDULE-AGENT=CLIENT: the client replies itself */
	a = obj_lf(HDR "BEGIN:VEVENT\nUID:m9\nDTSTAMP:20270101T090000Z\nDTSTART:20270110T100000Z\n"
		   "ORGANIZER;SCHEDULE-AGENT=CLIENT:mailto:alice@example.com\n"
		   "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");
	assert_int_equal(itip_attendee_changes(a, NULL, "bob@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 0);
	ical_object_free(&a);
}

#define BOB_SERIES(ps, exdate, overrides) \
	HDR TZ_BERLIN "BEGIN:VEVENT\nUID:s1@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:0\n" \
	"DTSTART;TZID=Europe/Berlin:20270104T090000\nDTEND;TZID=Europe/Berlin:20270104T093000\n" \
	"RRULE:FREQ=WEEKLY;COUNT=6\n" exdate "SUMMARY:Standup\nORGANIZER:mailto:alice@example.com\n" \
	"ATTENDEE;PARTSTAT=" ps ":mailto:bob@example.com\nEND:VEVENT\n" overrides "END:VCALENDAR\n"
#define BOB_OVERRIDE(rid, ps) \
	"BEGIN:VEVENT\nUID:s1@example.com\nDTSTAMP:20270101T090000Z\nSEQUENCE:0\n" \
	"RECURRENCE-ID;TZID=Europe/Berlin:" rid "\nDTSTART;TZID=Europe/Berlin:" rid "\n" \
	"DURATION:PT30M\nSUMMARY:Standup\nORGANIZER:mailto:alice@example.com\n" \
	"ATTENDEE;PARTSTAT=" ps ":mailto:bob@example.com\nEND:VEVENT\n"

static void test_attendee_instances(void **state)
{
	struct ical_object *a = obj_lf(BOB_SERIES("ACCEPTED", "", ""));
	struct ical_object *b = obj_lf(BOB_SERIES("ACCEPTED", "EXDATE;TZID=Europe/Berlin:20270125T090000\n",
						  BOB_OVERRIDE("20270111T090000", "DECLINED")
						  BOB_OVERRIDE("20270118T090000", "ACCEPTED")));
	struct itip_out *out;
	size_t n;
	struct ical_error err;

	(void)state;
	assert_int_equal(itip_attendee_changes(a, b, "bob@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 1);
	/* one REPLY, two instances: the declined override and the EXDATE; the
	 * override with an unchanged PARTSTAT is not in it */
	assert_int_equal(count(out[0].data, "BEGIN:VEVENT"), 2);
	assert_true(has(out[0].data, "RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000"));
	assert_true(has(out[0].data, "RECURRENCE-ID;TZID=Europe/Berlin:20270125T090000"));
	assert_false(has(out[0].data, "20270118T090000"));
	assert_int_equal(count(out[0].data, "PARTSTAT=DECLINED"), 2);
	assert_true(has(out[0].data, "BEGIN:VTIMEZONE"));
	{
		struct itip_message *m = msg_text(out[0].data);

		itip_free(&m);
	}
	itip_out_free(out, n);
	ical_object_free(&a);
	ical_object_free(&b);
}

/* ---- apply ---------------------------------------------------------------- */

static char *apply_ok(const struct ical_object *cur, const char *msg_text_, const char *rcpt,
		      enum itip_apply_result want)
{
	struct itip_message *m = msg_text(msg_text_);
	char *data = NULL;
	size_t len = 0;
	enum itip_apply_result res;
	struct ical_error err;

	if (itip_apply_ex(cur, m, rcpt, &data, &len, &res, &err) != 0)
		fail_msg("apply: %s", err.text);
	assert_int_equal(res, want);
	if (want == ITIP_APPLY_STORE) {
		assert_non_null(data);
		assert_int_equal(strlen(data), len);
	} else {
		assert_null(data);
	}
	itip_free(&m);
	return data;
}

static const char *apply_fails(const struct ical_object *cur, const char *msg_text_,
			       const char *rcpt)
{
	static struct ical_error err;
	struct itip_message *m = msg_text(msg_text_);
	char *data = NULL;
	size_t len;

	assert_int_equal(itip_apply(cur, m, rcpt, &data, &len, &err), -1);
	assert_null(data);
	itip_free(&m);
	return err.text;
}

static char *first_request(const struct ical_object *old, const struct ical_object *new,
			   const char *to)
{
	struct itip_out *out;
	size_t n;
	struct ical_error err;
	const struct itip_out *o;
	char *r;

	assert_int_equal(itip_organizer_changes(old, new, "alice@example.com", NULL, &out, &n, &err), 0);
	o = find_out(out, n, to, ITIP_REQUEST);
	r = o ? xstrdup(o->data) : NULL;
	itip_out_free(out, n);
	return r;
}

static void test_apply_request_flow(void **state)
{
	struct ical_object *org0 = obj_lf(MEETING("0", ""));
	char *req = first_request(NULL, org0, "bob@example.com");
	char *copy, *copy2, *t;
	struct ical_object *bob, *org1, *org2;

	(void)state;
	/* no copy yet: a new one, without METHOD */
	copy = apply_ok(NULL, req, "bob@example.com", ITIP_APPLY_STORE);
	assert_false(has(copy, "METHOD"));
	assert_true(has(copy, "SUMMARY:Planning"));
	free(req);
	/* bob accepts, adds an alarm, makes it transparent */
	t = copy;
	{
		struct buf b;
		char *p = strstr(t, "PARTSTAT=NEEDS-ACTION");
		char *e = strstr(t, "END:VEVENT");

		assert_non_null(p);
		buf_init(&b, 0);
		buf_append(&b, t, (size_t)(p - t));
		buf_append_str(&b, "PARTSTAT=ACCEPTED");
		p += strlen("PARTSTAT=NEEDS-ACTION");
		buf_append(&b, p, (size_t)(e - p));
		buf_append_str(&b, "TRANSP:TRANSPARENT\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:mine\r\n"
			       "TRIGGER:-PT1H\r\nEND:VALARM\r\n");
		buf_append_str(&b, e);
		bob = obj_text(b.data);
		buf_free(&b);
	}
	free(copy);

	/* the organizer changes the summary (not a reschedule): bob keeps his
	 * PARTSTAT, alarm and TRANSP */
	org1 = obj_lf(MEETING("1", "DESCRIPTION:agenda attached\n"));
	req = first_request(org0, org1, "bob@example.com");
	assert_non_null(req);
	copy2 = apply_ok(bob, req, "bob@example.com", ITIP_APPLY_STORE);
	assert_true(has(copy2, "DESCRIPTION:agenda attached"));
	assert_string_equal(partstat(copy2, "bob@example.com"), "ACCEPTED");
	assert_true(has(copy2, "DESCRIPTION:mine"));
	assert_true(has(copy2, "TRANSP:TRANSPARENT"));
	assert_false(has(copy2, "TRIGGER:-PT15M"));	/* the organizer's alarm is not taken */
	assert_true(has(copy2, "SEQUENCE:1"));
	free(copy2);

	/* the same message again (same SEQUENCE and DTSTAMP) is harmless */
	copy2 = apply_ok(bob, req, "bob@example.com", ITIP_APPLY_STORE);
	free(copy2);
	/* an older SEQUENCE is ignored: request-status 2.0, no change */
	{
		char *older = first_request(NULL, org0, "bob@example.com");
		struct ical_object *bob1;

		copy2 = apply_ok(bob, req, "bob@example.com", ITIP_APPLY_STORE);
		bob1 = obj_text(copy2);
		free(copy2);
		assert_null(apply_ok(bob1, older, "bob@example.com", ITIP_APPLY_UNCHANGED));
		free(older);
		ical_object_free(&bob1);
	}
	free(req);

	/* the organizer moves it: PARTSTAT back to NEEDS-ACTION */
	t = crlf(MEETING("2", ""));
	memcpy(strstr(t, "DTSTART:20270110T100000Z"), "DTSTART:20270111T100000Z", 24);
	memcpy(strstr(t, "DTEND:20270110T110000Z"), "DTEND:20270111T110000Z", 22);
	org2 = obj_text(t);
	free(t);
	req = first_request(org1, org2, "bob@example.com");
	copy2 = apply_ok(bob, req, "bob@example.com", ITIP_APPLY_STORE);
	assert_string_equal(partstat(copy2, "bob@example.com"), "NEEDS-ACTION");
	assert_true(has(copy2, "DESCRIPTION:mine"));
	free(copy2);

	/* not bob's invitation: carol's copy is not bob's to take */
	assert_non_null(strstr(apply_fails(NULL, req, "zed@example.com"), "3.7"));
	/* the organizer does not deliver to itself */
	assert_non_null(strstr(apply_fails(NULL, req, "alice@example.com"), "3.8"));
	free(req);
	ical_object_free(&bob);
	ical_object_free(&org0);
	ical_object_free(&org1);
	ical_object_free(&org2);
}

static void test_apply_stale_dtstamp(void **state)
{
	struct ical_object *cur = obj_lf(BOB_COPY("ACCEPTED", ""));
	char *older = crlf(HDR "METHOD:REQUEST\nBEGIN:VEVENT\nUID:m1@example.com\n"
			   "DTSTAMP:20261231T090000Z\nDTSTART:20270110T100000Z\nSEQUENCE:0\n"
			   "SUMMARY:Old\nORGANIZER:mailto:alice@example.com\n"
			   "ATTENDEE:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");

	(void)state;
	/* same SEQUENCE, older DTSTAMP: ignored */
	assert_null(apply_ok(cur, older, "bob@example.com", ITIP_APPLY_UNCHANGED));
	free(older);
	ical_object_free(&cur);
}

static void test_apply_forged_organizer(void **state)
{
	struct ical_object *cur = obj_lf(BOB_COPY("ACCEPTED", ""));
	char *forged = crlf(HDR "METHOD:REQUEST\nBEGIN:VEVENT\nUID:m1@example.com\n"
			    "DTSTAMP:20270105T090000Z\nDTSTART:20270110T100000Z\nSEQUENCE:5\n"
			    "SUMMARY:Hijack\nORGANIZER:mailto:mallory@example.com\n"
			    "ATTENDEE:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");
	char *cancel = crlf(HDR "METHOD:CANCEL\nBEGIN:VEVENT\nUID:m1@example.com\n"
			    "DTSTAMP:20270105T090000Z\nSEQUENCE:5\n"
			    "ORGANIZER:mailto:mallory@example.com\n"
			    "ATTENDEE:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");

	(void)state;
	assert_non_null(strstr(apply_fails(cur, forged, "bob@example.com"), "3.8"));
	assert_non_null(strstr(apply_fails(cur, cancel, "bob@example.com"), "3.8"));
	free(forged);
	free(cancel);
	ical_object_free(&cur);
}

static void test_apply_cancel(void **state)
{
	struct ical_object *cur = obj_lf(BOB_SERIES("ACCEPTED", "", ""));
	char *whole = crlf(HDR "METHOD:CANCEL\nBEGIN:VEVENT\nUID:s1@example.com\n"
			   "DTSTAMP:20270105T090000Z\nSEQUENCE:1\nORGANIZER:mailto:alice@example.com\n"
			   "ATTENDEE:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");
	char *inst = crlf(HDR TZ_BERLIN "METHOD:CANCEL\nBEGIN:VEVENT\nUID:s1@example.com\n"
			  "DTSTAMP:20270105T090000Z\nSEQUENCE:1\nORGANIZER:mailto:alice@example.com\n"
			  "RECURRENCE-ID;TZID=Europe/Berlin:20270118T090000\n"
			  "ATTENDEE:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");
	char *bad = crlf(HDR "METHOD:CANCEL\nBEGIN:VEVENT\nUID:s1@example.com\n"
			 "DTSTAMP:20270105T090000Z\nSEQUENCE:1\nORGANIZER:mailto:alice@example.com\n"
			 "RECURRENCE-ID:20270118T100000Z\n"
			 "ATTENDEE:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");
	char *s;

	(void)state;
	s = apply_ok(cur, whole, "bob@example.com", ITIP_APPLY_STORE);
	assert_int_equal(count(s, "STATUS:CANCELLED"), 1);
	assert_true(has(s, "SEQUENCE:1"));
	free(s);
	/* one instance: a cancelled override */
	s = apply_ok(cur, inst, "bob@example.com", ITIP_APPLY_STORE);
	assert_int_equal(count(s, "BEGIN:VEVENT"), 2);
	assert_true(has(s, "RECURRENCE-ID;TZID=Europe/Berlin:20270118T090000"));
	assert_int_equal(count(s, "STATUS:CANCELLED"), 1);
	assert_true(has(s, "RRULE:FREQ=WEEKLY;COUNT=6"));
	free(s);
	/* not an instance of the series: nothing changes */
	assert_null(apply_ok(cur, bad, "bob@example.com", ITIP_APPLY_UNCHANGED));
	/* nothing stored: nothing to cancel */
	assert_null(apply_ok(NULL, whole, "bob@example.com", ITIP_APPLY_UNCHANGED));
	free(whole);
	free(inst);
	free(bad);
	ical_object_free(&cur);
}

static void test_apply_override_only_request(void **state)
{
	struct ical_object *cur = obj_lf(BOB_SERIES("ACCEPTED", "", ""));
	char *req = crlf(HDR TZ_BERLIN "METHOD:REQUEST\nBEGIN:VEVENT\nUID:s1@example.com\n"
			 "DTSTAMP:20270105T090000Z\nSEQUENCE:1\n"
			 "RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000\n"
			 "DTSTART;TZID=Europe/Berlin:20270111T090000\nDURATION:PT30M\n"
			 "SUMMARY:Standup with demo\nORGANIZER:mailto:alice@example.com\n"
			 "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\n"
			 "END:VEVENT\nEND:VCALENDAR\n");
	char *s;

	(void)state;
	s = apply_ok(cur, req, "bob@example.com", ITIP_APPLY_STORE);
	/* merged into the series; same time, so bob's PARTSTAT carries over */
	assert_int_equal(count(s, "BEGIN:VEVENT"), 2);
	assert_true(has(s, "RRULE:FREQ=WEEKLY;COUNT=6"));
	assert_true(has(s, "SUMMARY:Standup with demo"));
	assert_int_equal(count(s, "PARTSTAT=ACCEPTED"), 2);
	free(s);
	free(req);
	ical_object_free(&cur);
}

static void test_apply_add(void **state)
{
	struct ical_object *cur = obj_lf(BOB_SERIES("ACCEPTED", "", ""));
	char *add = crlf(HDR "METHOD:ADD\nBEGIN:VEVENT\nUID:s1@example.com\n"
			 "DTSTAMP:20270105T090000Z\nSEQUENCE:0\nDTSTART:20270301T080000Z\n"
			 "DURATION:PT30M\nSUMMARY:Extra standup\nORGANIZER:mailto:alice@example.com\n"
			 "ATTENDEE:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");
	char *s;

	(void)state;
	s = apply_ok(cur, add, "bob@example.com", ITIP_APPLY_STORE);
	assert_true(has(s, "RDATE:20270301T080000Z"));
	assert_true(has(s, "RECURRENCE-ID:20270301T080000Z"));
	assert_true(has(s, "SUMMARY:Extra standup"));
	free(s);
	/* ADD for an event never received */
	assert_non_null(strstr(apply_fails(NULL, add, "bob@example.com"), "3.8"));
	free(add);
	ical_object_free(&cur);
}

#define ORG_SERIES \
	HDR TZ_BERLIN SERIES_MASTER("0", "") "END:VCALENDAR\n"

static char *reply_msg(const char *who, const char *ps, const char *rid_line, int seq)
{
	char *lf = xasprintf(HDR TZ_BERLIN "METHOD:REPLY\nBEGIN:VEVENT\nUID:s1@example.com\n"
			     "DTSTAMP:20270105T090000Z\nSEQUENCE:%d\n%s"
			     "ORGANIZER:mailto:alice@example.com\n"
			     "ATTENDEE;PARTSTAT=%s:mailto:%s\nEND:VEVENT\nEND:VCALENDAR\n",
			     seq, rid_line, ps, who);
	char *t = crlf(lf);

	free(lf);
	return t;
}

static void test_apply_reply(void **state)
{
	struct ical_object *org = obj_lf(ORG_SERIES), *org2;
	char *r, *s, *s2;

	(void)state;
	/* bob accepts the series */
	r = reply_msg("bob@example.com", "ACCEPTED", "", 0);
	s = apply_ok(org, r, "alice@example.com", ITIP_APPLY_STORE);
	assert_true(has(s, "ATTENDEE;PARTSTAT=ACCEPTED;SCHEDULE-STATUS=2.0:mailto:bob@example.com") ||
		    has(s, "ATTENDEE;SCHEDULE-STATUS=2.0;PARTSTAT=ACCEPTED:mailto:bob@example.com"));
	assert_true(has(s, "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:dave@example.com"));
	assert_true(has(s, "SUMMARY:Standup"));
	free(r);
	org2 = obj_text(s);
	free(s);

	/* dave declines one instance: an override from the series, the
	 * master untouched */
	r = reply_msg("dave@example.com", "DECLINED",
		      "RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000\n", 0);
	s2 = apply_ok(org2, r, "alice@example.com", ITIP_APPLY_STORE);
	assert_int_equal(count(s2, "BEGIN:VEVENT"), 2);
	assert_true(has(s2, "RECURRENCE-ID;TZID=Europe/Berlin:20270111T090000"));
	assert_int_equal(count(s2, "PARTSTAT=DECLINED"), 1);
	assert_int_equal(count(s2, "RRULE:FREQ=WEEKLY"), 1);
	assert_string_equal(partstat(s2, "dave@example.com"), "NEEDS-ACTION");	/* the series */
	free(r);
	free(s2);

	/* a reply for an instance that is not one */
	r = reply_msg("dave@example.com", "DECLINED", "RECURRENCE-ID;TZID=Europe/Berlin:20270111T100000\n", 0);
	assert_non_null(strstr(apply_fails(org2, r, "alice@example.com"), "3.1;RECURRENCE-ID"));
	free(r);
	/* a forged reply from someone not invited */
	r = reply_msg("mallory@example.com", "ACCEPTED", "", 0);
	assert_non_null(strstr(apply_fails(org2, r, "alice@example.com"), "3.7"));
	/* a reply for an event the recipient never had */
	assert_non_null(strstr(apply_fails(NULL, r, "alice@example.com"), "3.8"));
	free(r);
	/* a reply delivered to someone other than the organizer */
	r = reply_msg("bob@example.com", "ACCEPTED", "", 0);
	assert_non_null(strstr(apply_fails(org2, r, "dave@example.com"), "3.8"));
	free(r);
	ical_object_free(&org);
	ical_object_free(&org2);
}

static void test_apply_reply_sequence(void **state)
{
	struct ical_object *org = obj_lf(HDR TZ_BERLIN SERIES_MASTER("3", "") "END:VCALENDAR\n");
	char *r = reply_msg("bob@example.com", "ACCEPTED", "", 2);

	(void)state;
	/* a reply to an older version is ignored */
	assert_null(apply_ok(org, r, "alice@example.com", ITIP_APPLY_UNCHANGED));
	free(r);
	ical_object_free(&org);
}

static void test_apply_delegation(void **state)
{
	struct ical_object *org = obj_lf(ORG_SERIES);
	char *r = crlf(HDR "METHOD:REPLY\nBEGIN:VEVENT\nUID:s1@example.com\nDTSTAMP:20270105T090000Z\n"
		       "SEQUENCE:0\nORGANIZER:mailto:alice@example.com\n"
		       "ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=\"mailto:frank@example.com\":"
		       "mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");
	char *s = apply_ok(org, r, "alice@example.com", ITIP_APPLY_STORE);

	(void)state;
	assert_true(has(s, "DELEGATED-FROM=\"mailto:bob@example.com\""));
	assert_true(has(s, "mailto:frank@example.com"));
	assert_true(has(s, "PARTSTAT=DELEGATED"));
	free(s);
	free(r);
	ical_object_free(&org);
}

static void test_refresh_counter_declinecounter(void **state)
{
	struct ical_object *org = obj_lf(ORG_SERIES);
	struct ical_object *bob = obj_lf(BOB_SERIES("ACCEPTED", "", ""));
	struct itip_out o;
	struct ical_error err;
	struct itip_message *m;
	char *counter;

	(void)state;
	/* bob asks for the current version */
	assert_int_equal(itip_build_refresh(bob, "bob@example.com", NULL, &o, &err), 0);
	assert_string_equal(o.recipient, "alice@example.com");
	assert_int_equal(o.method, ITIP_REFRESH);
	assert_null(apply_ok(org, o.data, "alice@example.com", ITIP_APPLY_UNCHANGED));
	m = msg_text(o.data);
	assert_string_equal(itip_sender(m), "bob@example.com");
	itip_free(&m);
	itip_out_clear(&o);
	assert_null(o.data);
	/* with a RECURRENCE-ID, or a bad one */
	assert_int_equal(itip_build_refresh(bob, "bob@example.com", "20270111T080000Z", &o, &err), 0);
	assert_true(has(o.data, "RECURRENCE-ID:20270111T080000Z"));
	itip_out_clear(&o);
	assert_int_equal(itip_build_refresh(bob, "bob@example.com", "garbage", &o, &err), -1);
	assert_int_equal(itip_build_refresh(bob, "zed@example.com", NULL, &o, &err), -1);
	/* the organizer re-sends */
	assert_int_equal(itip_build_request(org, "bob@example.com", NULL, &o, &err), 0);
	assert_string_equal(o.recipient, "bob@example.com");
	itip_out_clear(&o);
	assert_int_equal(itip_build_request(org, "zed@example.com", NULL, &o, &err), -1);

	/* COUNTER: stored by the caller, the event unchanged */
	counter = crlf(HDR "METHOD:COUNTER\nBEGIN:VEVENT\nUID:s1@example.com\n"
		       "DTSTAMP:20270105T090000Z\nSEQUENCE:0\nDTSTART:20270104T100000Z\n"
		       "SUMMARY:Standup later?\nORGANIZER:mailto:alice@example.com\n"
		       "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n");
	assert_null(apply_ok(org, counter, "alice@example.com", ITIP_APPLY_UNCHANGED));
	m = msg_text(counter);
	assert_string_equal(itip_sender(m), "bob@example.com");
	/* declined */
	assert_int_equal(itip_build_declinecounter(m, "bob@example.com", NULL, &o, &err), -1);
	assert_int_equal(itip_build_declinecounter(m, "alice@example.com", "No, sorry", &o, &err), 0);
	assert_string_equal(o.recipient, "bob@example.com");
	assert_true(has(o.data, "COMMENT:No\\, sorry"));
	assert_null(apply_ok(bob, o.data, "bob@example.com", ITIP_APPLY_UNCHANGED));
	assert_non_null(strstr(apply_fails(NULL, o.data, "bob@example.com"), "3.8"));
	itip_out_clear(&o);
	itip_free(&m);
	free(counter);
	ical_object_free(&org);
	ical_object_free(&bob);
}

static void test_build_reply(void **state)
{
	struct ical_object *org = obj_lf(MEETING("0", ""));
	char *req = first_request(NULL, org, "bob@example.com");
	struct itip_message *m = msg_text(req), *r;
	struct itip_out o;
	struct ical_error err;

	(void)state;
	assert_int_equal(itip_build_reply(m, "bob@example.com", "ACCEPTED", "sec@example.com",
					  "see you", &o, &err), 0);
	assert_string_equal(o.recipient, "alice@example.com");
	r = msg_text(o.data);
	assert_string_equal(itip_sender(r), "bob@example.com");
	assert_string_equal(itip_sender_partstat(r), "ACCEPTED");
	assert_string_equal(itip_sender_sent_by(r), "sec@example.com");
	itip_free(&r);
	itip_out_clear(&o);
	assert_int_equal(itip_build_reply(m, "zed@example.com", "ACCEPTED", NULL, NULL, &o, &err), -1);
	assert_int_equal(itip_build_reply(m, "bob@example.com", "MAYBE", NULL, NULL, &o, &err), -1);
	itip_free(&m);
	free(req);
	ical_object_free(&org);
}

static void test_schedule_status(void **state)
{
	struct ical_object *obj = obj_lf(ORG_SERIES);
	char *s;
	size_t len;

	(void)state;
	assert_int_equal(itip_set_schedule_status(obj, "MAILTO:Bob@example.com", "1.2"), 1);
	assert_int_equal(itip_set_schedule_status(obj, "alice@example.com", "1.1"), 2);
	assert_int_equal(itip_set_schedule_status(obj, "zed@example.com", "1.1"), 0);
	s = ical_object_to_string(obj, &len);
	assert_true(has(s, "SCHEDULE-STATUS=1.2:mailto:bob@example.com"));
	free(s);
	assert_int_equal(itip_object_sequence(obj), 0);
	itip_object_set_sequence(obj, 4);
	assert_int_equal(itip_object_sequence(obj), 4);
	ical_object_free(&obj);
}

/* Organizer -> attendee copy -> reply -> organizer copy, through text. */
static void test_round_trip(void **state)
{
	struct ical_object *org = obj_lf(ORG_SERIES), *bob, *bob2, *org2;
	char *req = first_request(NULL, org, "bob@example.com");
	char *copy = apply_ok(NULL, req, "bob@example.com", ITIP_APPLY_STORE);
	char *t, *p;
	struct itip_out *out;
	size_t n;
	struct ical_error err;

	(void)state;
	bob = obj_text(copy);
	/* bob accepts */
	p = strstr(copy, "PARTSTAT=NEEDS-ACTION:mailto:bob");
	assert_non_null(p);
	t = xasprintf("%.*sPARTSTAT=ACCEPTED%s", (int)(p - copy), copy,
		      p + strlen("PARTSTAT=NEEDS-ACTION"));
	bob2 = obj_text(t);
	assert_int_equal(itip_attendee_changes(bob, bob2, "bob@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 1);
	{
		char *s = apply_ok(org, out[0].data, out[0].recipient, ITIP_APPLY_STORE);

		org2 = obj_text(s);
		assert_true(has(s, "PARTSTAT=ACCEPTED"));
		free(s);
	}
	/* the organizer's copy changed only in bob's PARTSTAT: nothing to send */
	itip_out_free(out, n);
	assert_int_equal(itip_organizer_changes(org, org2, "alice@example.com", NULL, &out, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_false(itip_needs_sequence_bump(org, org2));
	free(t);
	free(copy);
	free(req);
	ical_object_free(&org);
	ical_object_free(&org2);
	ical_object_free(&bob);
	ical_object_free(&bob2);
}

static int setup(void **state)
{
	(void)state;
	ical_limits_default(&limits);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accessors),
		cmocka_unit_test(test_parse_method_names),
		cmocka_unit_test(test_parse_rules),
		cmocka_unit_test(test_parse_attendee_cap),
		cmocka_unit_test(test_organizer_create),
		cmocka_unit_test(test_organizer_insignificant_and_force),
		cmocka_unit_test(test_organizer_remove_and_delete),
		cmocka_unit_test(test_organizer_recurrence),
		cmocka_unit_test(test_organizer_instance_only_attendee),
		cmocka_unit_test(test_organizer_instance_removed),
		cmocka_unit_test(test_component_types),
		cmocka_unit_test(test_reset_partstat),
		cmocka_unit_test(test_attendee_reply),
		cmocka_unit_test(test_attendee_instances),
		cmocka_unit_test(test_apply_request_flow),
		cmocka_unit_test(test_apply_stale_dtstamp),
		cmocka_unit_test(test_apply_forged_organizer),
		cmocka_unit_test(test_apply_cancel),
		cmocka_unit_test(test_apply_override_only_request),
		cmocka_unit_test(test_apply_add),
		cmocka_unit_test(test_apply_reply),
		cmocka_unit_test(test_apply_reply_sequence),
		cmocka_unit_test(test_apply_delegation),
		cmocka_unit_test(test_refresh_counter_declinecounter),
		cmocka_unit_test(test_build_reply),
		cmocka_unit_test(test_schedule_status),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
