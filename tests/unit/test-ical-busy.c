/* Unit tests of calendar/ical-busy: period merging, busy time of objects
 * (transparency, status, the owner's PARTSTAT, recurrence), VAVAILABILITY
 * evaluation (RFC 7953) and the free/busy request parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ical-busy.h"

static void test_merge(void **state)
{
	struct ical_busy_list l = { NULL, 0, 0 };

	(void)state;
	ical_busy_add(&l, 100, 200, ICAL_FB_BUSY);
	ical_busy_add(&l, 150, 300, ICAL_FB_BUSY);
	ical_busy_add(&l, 300, 400, ICAL_FB_BUSY);		/* touching: merged */
	ical_busy_add(&l, 500, 600, ICAL_FB_BUSY);
	ical_busy_add(&l, 120, 130, ICAL_FB_BUSY_TENTATIVE);	/* other type: kept */
	ical_busy_add(&l, 700, 700, ICAL_FB_BUSY);		/* empty: dropped */
	ical_busy_add(&l, 800, 900, ICAL_FB_FREE);		/* free: dropped */
	ical_busy_merge(&l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.p[0].start, 100);
	assert_int_equal(l.p[0].end, 400);
	assert_int_equal(l.p[0].type, ICAL_FB_BUSY);
	assert_int_equal(l.p[1].start, 120);
	assert_int_equal(l.p[1].type, ICAL_FB_BUSY_TENTATIVE);
	assert_int_equal(l.p[2].start, 500);
	ical_busy_clip(&l, 150, 550);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.p[0].start, 150);
	assert_int_equal(l.p[1].end, 550);
	ical_busy_clear(&l);
}

#define CAL_HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
#define CAL_TAIL "END:VCALENDAR\r\n"

static struct ical_object *load(const char *text)
{
	struct ical_limits lim;
	struct ical_error err;
	struct ical_object *obj = NULL;

	ical_limits_default(&lim);
	if (ical_object_parse(text, strlen(text), ICAL_COMP_VEVENT | ICAL_COMP_VFREEBUSY, &lim,
			      &obj, &err) < 0)
		fail_msg("parse: %s", err.text);
	return obj;
}

/* 2026-01-05T10:00:00Z */
#define T0 1767607200

static void test_object_busy(void **state)
{
	static const char *const self[] = { "bob@example.test" };
	const char *text = CAL_HEAD
		"BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\n"
		"DTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\n"
		"RRULE:FREQ=DAILY;COUNT=5\r\nEXDATE:20260106T100000Z\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:Bob@Example.test\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\n"
		"RECURRENCE-ID:20260107T100000Z\r\nDTSTART:20260107T150000Z\r\n"
		"DTEND:20260107T160000Z\r\nSTATUS:TENTATIVE\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\n"
		"RECURRENCE-ID:20260108T100000Z\r\nDTSTART:20260108T100000Z\r\n"
		"DTEND:20260108T110000Z\r\n"
		"ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.test\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\n"
		"RECURRENCE-ID:20260109T100000Z\r\nDTSTART:20260109T100000Z\r\n"
		"DTEND:20260109T110000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n" CAL_TAIL;
	struct ical_object *obj = load(text);
	struct ical_limits lim;
	struct ical_error err;
	struct ical_busy_list l = { NULL, 0, 0 };

	(void)state;
	ical_limits_default(&lim);
	assert_int_equal(ical_busy_of_object(obj, NULL, self, 1, T0 - 86400, T0 + 10 * 86400,
					     &lim, &l, &err), 0);
	ical_busy_merge(&l);
	/* the declined one is marked, for the free-busy-query of the calendar */
	assert_int_equal(l.n, 3);
	assert_int_equal(l.p[2].start, T0 + 3 * 86400);
	assert_int_equal(l.p[2].type, ICAL_FB_BUSY + ICAL_BUSY_DECLINED);
	ical_busy_drop_declined(&l);
	/* 5th BUSY, 6th excluded, 7th moved and tentative, 8th declined, 9th transparent */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.p[0].start, T0);
	assert_int_equal(l.p[0].end, T0 + 3600);
	assert_int_equal(l.p[0].type, ICAL_FB_BUSY);
	assert_int_equal(l.p[1].start, T0 + 2 * 86400 + 5 * 3600);
	assert_int_equal(l.p[1].type, ICAL_FB_BUSY_TENTATIVE);
	ical_busy_clear(&l);
	/* someone else sees the declined instance as busy */
	assert_int_equal(ical_busy_of_object(obj, NULL, NULL, 0, T0 - 86400, T0 + 10 * 86400,
					     &lim, &l, &err), 0);
	ical_busy_merge(&l);
	assert_int_equal(l.n, 3);
	ical_busy_clear(&l);
	ical_object_free(&obj);

	obj = load(CAL_HEAD "BEGIN:VEVENT\r\nUID:e2\r\nDTSTAMP:20260101T000000Z\r\n"
		   "DTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nSTATUS:CANCELLED\r\n"
		   "END:VEVENT\r\n" CAL_TAIL);
	assert_int_equal(ical_busy_of_object(obj, NULL, NULL, 0, T0 - 86400, T0 + 86400, &lim, &l,
					     &err), 0);
	assert_int_equal(l.n, 0);
	ical_object_free(&obj);

	obj = load(CAL_HEAD "BEGIN:VFREEBUSY\r\nUID:f1\r\nDTSTAMP:20260101T000000Z\r\n"
		   "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260105T100000Z/PT2H\r\n"
		   "FREEBUSY;FBTYPE=FREE:20260105T130000Z/PT2H\r\n"
		   "END:VFREEBUSY\r\n" CAL_TAIL);
	assert_int_equal(ical_busy_of_object(obj, NULL, NULL, 0, T0 - 86400, T0 + 86400, &lim, &l,
					     &err), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.p[0].end, T0 + 7200);
	assert_int_equal(l.p[0].type, ICAL_FB_BUSY_UNAVAILABLE);
	ical_busy_clear(&l);
	ical_object_free(&obj);
}

#define BERLIN_TZ \
	"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n" \
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n" \
	"END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\n" \
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n" \
	"END:DAYLIGHT\r\nEND:VTIMEZONE\r\n"

static void test_availability(void **state)
{
	/* Mon-Fri 09:00-17:00 Berlin; one lower-priority week-wide block;
	 * a higher-priority VAVAILABILITY making Wednesday all free. */
	const char *text = CAL_HEAD BERLIN_TZ
		"BEGIN:VAVAILABILITY\r\nUID:a1\r\nDTSTAMP:20260101T000000Z\r\nPRIORITY:9\r\n"
		"BEGIN:AVAILABLE\r\nUID:a1-1\r\nDTSTAMP:20260101T000000Z\r\n"
		"DTSTART;TZID=Europe/Berlin:20260105T090000\r\n"
		"DTEND;TZID=Europe/Berlin:20260105T170000\r\n"
		"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nEND:AVAILABLE\r\n"
		"END:VAVAILABILITY\r\n"
		"BEGIN:VAVAILABILITY\r\nUID:a2\r\nDTSTAMP:20260101T000000Z\r\nPRIORITY:1\r\n"
		"BUSYTYPE:BUSY\r\n"
		"DTSTART;TZID=Europe/Berlin:20260107T000000\r\n"
		"DTEND;TZID=Europe/Berlin:20260108T000000\r\n"
		"BEGIN:AVAILABLE\r\nUID:a2-1\r\nDTSTAMP:20260101T000000Z\r\n"
		"DTSTART;TZID=Europe/Berlin:20260107T000000\r\n"
		"DTEND;TZID=Europe/Berlin:20260108T000000\r\nEND:AVAILABLE\r\n"
		"END:VAVAILABILITY\r\n" CAL_TAIL;
	struct ical_limits lim;
	struct ical_error err;
	struct ical_availability *av = NULL;
	struct ical_busy_list l = { NULL, 0, 0 };
	/* Mon 2026-01-05 00:00 Berlin = 2026-01-04T23:00Z; three days */
	int64_t s = 1767567600, e = s + 3 * 86400;

	(void)state;
	ical_limits_default(&lim);
	assert_int_equal(ical_availability_parse(text, strlen(text), &lim, &av, &err), 0);
	assert_int_equal(ical_availability_busy(av, s, e, &lim, &l, &err), 0);
	/* Mon 00-09, Mon 17 - Tue 09, Tue 17 - Wed 00 unavailable; Wed free */
	for (size_t i = 0; i < l.n; i++)
		print_message("%lld-%lld %d\n", (long long)(l.p[i].start - s),
			      (long long)(l.p[i].end - s), l.p[i].type);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.p[0].start, s);
	assert_int_equal(l.p[0].end, s + 9 * 3600);
	assert_int_equal(l.p[0].type, ICAL_FB_BUSY_UNAVAILABLE);
	assert_int_equal(l.p[1].start, s + 17 * 3600);
	assert_int_equal(l.p[1].end, s + 86400 + 9 * 3600);
	assert_int_equal(l.p[2].start, s + 86400 + 17 * 3600);
	assert_int_equal(l.p[2].end, s + 2 * 86400);
	ical_busy_clear(&l);
	ical_availability_free(&av);

	/* junk is refused */
	const char *bad = CAL_HEAD "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n"
			  "DTSTART:20260105T100000Z\r\nEND:VEVENT\r\n" CAL_TAIL;
	assert_int_equal(ical_availability_parse(bad, strlen(bad), &lim, &av, &err), -1);
	assert_null(av);
}

static void test_request(void **state)
{
	const char *text = CAL_HEAD "METHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:r1\r\n"
		"DTSTAMP:20260101T000000Z\r\nORGANIZER:MAILTO:Alice@Example.test\r\n"
		"DTSTART:20260105T000000Z\r\nDTEND:20260112T000000Z\r\n"
		"ATTENDEE:mailto:bob@example.test\r\nATTENDEE:mailto:BOB@example.test\r\n"
		"ATTENDEE:mailto:team@example.test\r\nEND:VFREEBUSY\r\n" CAL_TAIL;
	struct ical_limits lim;
	struct ical_error err;
	struct ical_fbrequest req;

	(void)state;
	ical_limits_default(&lim);
	assert_int_equal(ical_fbrequest_parse(text, strlen(text), &lim, &req, &err), 0);
	assert_string_equal(req.organizer, "alice@example.test");
	assert_string_equal(req.uid, "r1");
	assert_int_equal(req.nattendees, 2);
	assert_string_equal(req.attendees[1], "team@example.test");
	assert_int_equal(req.end - req.start, 7 * 86400);
	ical_fbrequest_clear(&req);

	const char *nomethod = CAL_HEAD "BEGIN:VFREEBUSY\r\nUID:r1\r\n"
		"DTSTAMP:20260101T000000Z\r\nORGANIZER:mailto:a@example.test\r\n"
		"DTSTART:20260105T000000Z\r\nDTEND:20260112T000000Z\r\n"
		"ATTENDEE:mailto:bob@example.test\r\nEND:VFREEBUSY\r\n" CAL_TAIL;
	assert_int_equal(ical_fbrequest_parse(nomethod, strlen(nomethod), &lim, &req, &err), -1);
	assert_int_equal(err.precond, ICAL_PRECOND_NONE);
	assert_int_equal(ical_fbrequest_parse("garbage", 7, &lim, &req, &err), -1);
	assert_int_not_equal(err.precond, ICAL_PRECOND_NONE);
}

static void test_reply(void **state)
{
	struct ical_busy_list l = { NULL, 0, 0 };
	size_t len;
	char *text;

	(void)state;
	ical_busy_add(&l, T0, T0 + 3600, ICAL_FB_BUSY);
	ical_busy_add(&l, T0 + 7200, T0 + 9000, ICAL_FB_BUSY_TENTATIVE);
	text = ical_busy_reply(&l, "r1", T0, T0 - 3600, T0 + 86400, "alice@example.test",
			       "bob@example.test", &len);
	assert_non_null(strstr(text, "METHOD:REPLY\r\n"));
	assert_non_null(strstr(text, "UID:r1\r\n"));
	assert_non_null(strstr(text, "ATTENDEE:mailto:bob@example.test\r\n"));
	assert_non_null(strstr(text, "FREEBUSY:20260105T100000Z/20260105T110000Z\r\n"));
	assert_non_null(strstr(text, "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260105T120000Z/"
				     "20260105T123000Z\r\n"));
	free(text);
	ical_busy_clear(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_object_busy),
		cmocka_unit_test(test_availability),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
