/* Unit tests for calendar/ical: validation, index, filters (RFC 4791 9.7,
 * 9.9), calendar-data, free-busy, split/join and the limits. Golden inputs
 * and outputs live in tests/unit/data/ical/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ical.h"
#include "util.h"

#define DATA TEST_DATADIR "/ical/"

static char *load(const char *name, size_t *len_r)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), DATA "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len_r != NULL)
		*len_r = (size_t)n;
	return buf;
}

/* Turn "\n" lines into CRLF lines. */
static char *crlf(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	for (; *s; s++) {
		if (*s == '\n')
			buf_append(&b, "\r\n", 2);
		else
			buf_append(&b, s, 1);
	}
	return b.data;
}

static struct ical_limits limits;

static struct ical_object *parse_ok(const char *text)
{
	struct ical_object *obj = NULL;
	struct ical_error err;
	int r = ical_object_parse(text, strlen(text), ICAL_COMP_DEFAULT_SET | ICAL_COMP_VFREEBUSY,
				  &limits, &obj, &err);

	if (r != 0)
		fail_msg("parse failed: %s: %s", ical_precond_name(err.precond), err.text);
	return obj;
}

static struct ical_object *parse_file(const char *name)
{
	char *text = load(name, NULL);
	struct ical_object *obj = parse_ok(text);

	free(text);
	return obj;
}

static enum ical_precond parse_err(const char *text_lf, unsigned supported, char *msg, size_t size)
{
	char *text = crlf(text_lf);
	struct ical_object *obj = NULL;
	struct ical_error err;
	int r = ical_object_parse(text, strlen(text), supported, &limits, &obj, &err);

	free(text);
	if (r == 0) {
		ical_object_free(&obj);
		return ICAL_PRECOND_NONE;
	}
	assert_null(obj);
	if (msg != NULL)
		snprintf(msg, size, "%s", err.text);
	return err.precond;
}

static int64_t utc(const char *s)
{
	struct ical_time_range tr;
	struct ical_error err;

	assert_int_equal(ical_time_range_parse(s, NULL, &tr, &err), 0);
	return tr.start;
}

static struct ical_tz *tz_file(const char *name)
{
	char *body = load(name, NULL);
	char *text = xasprintf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//x//y//EN\n%sEND:VCALENDAR\n", body);
	char *t2 = crlf(text);
	struct ical_tz *tz = NULL;
	struct ical_error err;

	if (ical_tz_parse(t2, strlen(t2), &limits, &tz, &err) != 0)
		fail_msg("tz: %s", err.text);
	free(body);
	free(text);
	free(t2);
	return tz;
}

/* A filter VCALENDAR > comp with a time-range. */
static struct ical_comp_filter *tr_filter(const char *comp, const char *start, const char *end)
{
	struct ical_comp_filter *root = ical_comp_filter_new("VCALENDAR");
	struct ical_comp_filter *cf = ical_comp_filter_add_comp(root, comp);
	struct ical_time_range tr;
	struct ical_error err;

	assert_int_equal(ical_time_range_parse(start, end, &tr, &err), 0);
	ical_comp_filter_set_time_range(cf, &tr);
	return root;
}

static bool matches_tz(struct ical_comp_filter *root, struct ical_object *obj, struct ical_tz *tz)
{
	struct ical_error err;
	bool m = false;

	assert_int_equal(ical_filter_check(root, &err), 0);
	if (ical_filter_match(root, obj, tz, &limits, &m, &err) != 0)
		fail_msg("match failed: %s", err.text);
	return m;
}

static bool matches(struct ical_comp_filter *root, struct ical_object *obj)
{
	return matches_tz(root, obj, NULL);
}

static bool in_range(struct ical_object *obj, const char *comp, const char *start, const char *end)
{
	struct ical_comp_filter *f = tr_filter(comp, start, end);
	bool m = matches(f, obj);

	ical_comp_filter_free(&f);
	return m;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ical_precond_name(ICAL_MAX_INSTANCES), "max-instances");
	assert_string_equal(ical_precond_name(ICAL_VALID_CALENDAR_OBJECT_RESOURCE),
			    "valid-calendar-object-resource");
	assert_int_equal(ical_comp_from_name("vtodo"), ICAL_COMP_VTODO);
	assert_string_equal(ical_comp_name(ICAL_COMP_VJOURNAL), "VJOURNAL");
}

static void test_recurring_berlin(void **state)
{
	struct ical_object *obj = parse_file("berlin-weekly.ics");
	struct ical_index idx;
	struct ical_error err;

	(void)state;
	assert_string_equal(ical_object_uid(obj), "weekly-berlin@example.test");
	assert_int_equal(ical_object_comp(obj), ICAL_COMP_VEVENT);
	assert_int_equal(ical_object_index(obj, NULL, &limits, &idx, &err), 0);
	/* 10:00 CET = 09:00Z; the last instance, Apr 9 10:00 CEST, ends 09:00Z */
	assert_true(idx.first_start == utc("20260305T090000Z"));
	assert_true(idx.last_end == utc("20260409T090000Z"));
	assert_true(idx.recurs);
	assert_false(idx.has_floating);
	assert_string_equal(idx.summary, "Weekly sync");
	assert_string_equal(idx.organizer, "mailto:ann@example.test");
	assert_int_equal(idx.attendee_count, 2);
	assert_string_equal(idx.attendees[1], "mailto:carl@example.test");
	ical_index_free(&idx);

	/* Mar 12, before DST: 09:00Z */
	assert_true(in_range(obj, "VEVENT", "20260312T090000Z", "20260312T091500Z"));
	assert_false(in_range(obj, "VEVENT", "20260312T080000Z", "20260312T090000Z"));
	/* Mar 19 excluded by EXDATE */
	assert_false(in_range(obj, "VEVENT", "20260319T000000Z", "20260320T000000Z"));
	/* RDATE Mar 20 15:00 CET = 14:00Z, one hour like the master */
	assert_true(in_range(obj, "VEVENT", "20260320T144500Z", "20260320T150000Z"));
	assert_false(in_range(obj, "VEVENT", "20260320T150000Z", "20260320T160000Z"));
	/* Apr 9 after DST (Mar 29): 10:00 CEST = 08:00Z */
	assert_true(in_range(obj, "VEVENT", "20260409T080000Z", "20260409T081000Z"));
	assert_false(in_range(obj, "VEVENT", "20260409T090000Z", "20260409T100000Z"));
	/* Apr 2 moved by its override to 14:00-15:30 CEST */
	assert_false(in_range(obj, "VEVENT", "20260402T080000Z", "20260402T090000Z"));
	assert_true(in_range(obj, "VEVENT", "20260402T131500Z", "20260402T133000Z"));
	/* after COUNT */
	assert_false(in_range(obj, "VEVENT", "20260416T000000Z", "20260501T000000Z"));
	/* open-ended ranges */
	assert_true(in_range(obj, "VEVENT", "20260409T000000Z", NULL));
	assert_false(in_range(obj, "VEVENT", "20260410T000000Z", NULL));
	assert_true(in_range(obj, "VEVENT", NULL, "20260305T091000Z"));
	assert_false(in_range(obj, "VEVENT", NULL, "20260305T090000Z"));
	assert_false(in_range(obj, "VTODO", "20260301T000000Z", "20260501T000000Z"));
	ical_object_free(&obj);
}

static void test_open_ended_new_york(void **state)
{
	struct ical_object *obj = parse_file("ny-daily-open.ics");
	struct ical_index idx;
	struct ical_error err;

	(void)state;
	assert_int_equal(ical_object_index(obj, NULL, &limits, &idx, &err), 0);
	assert_true(idx.first_start == utc("20260306T140000Z"));
	assert_true(idx.last_end == ICAL_TIME_MAX);
	assert_true(idx.recurs);
	ical_index_free(&idx);
	/* Mar 6 EST 14:00Z; Mar 9 EDT (DST from Mar 8) 13:00Z */
	assert_true(in_range(obj, "VEVENT", "20260306T140000Z", "20260306T140100Z"));
	assert_true(in_range(obj, "VEVENT", "20260309T131500Z", "20260309T132000Z"));
	assert_false(in_range(obj, "VEVENT", "20260309T140000Z", "20260309T143000Z"));
	/* far in the future: no walk from 2026, the iterator jumps */
	assert_true(in_range(obj, "VEVENT", "20990105T141000Z", "20990105T141100Z"));
	assert_false(in_range(obj, "VEVENT", "20990105T131000Z", "20990105T132000Z"));
	assert_true(in_range(obj, "VEVENT", "20990705T131000Z", "20990705T132000Z"));
	ical_object_free(&obj);
}

static void test_allday_and_floating(void **state)
{
	struct ical_object *obj = parse_file("allday.ics");
	struct ical_tz *ny = tz_file("tz-ny.txt");
	struct ical_comp_filter *f;
	struct ical_index idx;
	struct ical_error err;

	(void)state;
	assert_int_equal(ical_object_index(obj, NULL, &limits, &idx, &err), 0);
	assert_true(idx.has_floating);
	assert_true(idx.first_start == utc("20260310T000000Z") - 14 * 3600);
	assert_true(idx.last_end == utc("20260312T000000Z") + 14 * 3600);
	ical_index_free(&idx);
	assert_true(in_range(obj, "VEVENT", "20260311T230000Z", "20260311T233000Z"));
	assert_false(in_range(obj, "VEVENT", "20260312T000000Z", "20260312T010000Z"));
	/* in New York the days end at 04:00Z (EDT) */
	f = tr_filter("VEVENT", "20260312T030000Z", "20260312T033000Z");
	assert_false(matches(f, obj));
	assert_true(matches_tz(f, obj, ny));
	ical_comp_filter_free(&f);
	ical_object_free(&obj);

	obj = parse_file("floating.ics");
	f = tr_filter("VEVENT", "20260311T030000Z", "20260311T040000Z");
	assert_false(matches(f, obj));
	assert_true(matches_tz(f, obj, ny));	/* 23:00 EDT = 03:00Z */
	ical_comp_filter_free(&f);
	ical_object_free(&obj);
	ical_tz_free(&ny);
	assert_null(ny);
}

/* The VTODO table of RFC 4791 9.9, one row at a time, with a range on each
 * side of the decision. */
static struct ical_object *todo(const char *props)
{
	char *lf = xasprintf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//x//y//EN\nBEGIN:VTODO\n"
			     "UID:t@x\nDTSTAMP:20260101T000000Z\n%sEND:VTODO\nEND:VCALENDAR\n", props);
	char *text = crlf(lf);
	struct ical_object *obj = parse_ok(text);

	free(lf);
	free(text);
	return obj;
}

static void test_vtodo_table(void **state)
{
	struct ical_object *o;

	(void)state;
	/* DTSTART + DURATION: start <= DTSTART+DURATION AND (end > DTSTART OR end >= DTSTART+DURATION) */
	o = todo("DTSTART:20260310T100000Z\nDURATION:PT2H\n");
	assert_true(in_range(o, "VTODO", "20260310T110000Z", "20260310T113000Z"));
	assert_true(in_range(o, "VTODO", "20260310T120000Z", "20260310T130000Z"));	/* start == end of todo */
	assert_false(in_range(o, "VTODO", "20260310T120001Z", "20260310T130000Z"));
	assert_false(in_range(o, "VTODO", "20260310T090000Z", "20260310T100000Z"));
	ical_object_free(&o);
	/* DTSTART + DUE: (start < DUE OR start <= DTSTART) AND (end > DTSTART OR end >= DUE) */
	o = todo("DTSTART:20260310T100000Z\nDUE:20260310T120000Z\n");
	assert_true(in_range(o, "VTODO", "20260310T113000Z", "20260310T114500Z"));
	assert_false(in_range(o, "VTODO", "20260310T120000Z", "20260310T130000Z"));
	assert_false(in_range(o, "VTODO", "20260310T090000Z", "20260310T100000Z"));
	assert_true(in_range(o, "VTODO", "20260310T090000Z", "20260310T100001Z"));
	ical_object_free(&o);
	/* DTSTART alone: start <= DTSTART AND end > DTSTART */
	o = todo("DTSTART:20260310T100000Z\n");
	assert_true(in_range(o, "VTODO", "20260310T100000Z", "20260310T100001Z"));
	assert_false(in_range(o, "VTODO", "20260310T100001Z", "20260310T110000Z"));
	assert_false(in_range(o, "VTODO", "20260310T090000Z", "20260310T100000Z"));
	ical_object_free(&o);
	/* DUE alone: start < DUE AND end >= DUE */
	o = todo("DUE:20260310T120000Z\n");
	assert_true(in_range(o, "VTODO", "20260310T110000Z", "20260310T120000Z"));
	assert_false(in_range(o, "VTODO", "20260310T120000Z", "20260310T130000Z"));
	assert_false(in_range(o, "VTODO", "20260310T100000Z", "20260310T115959Z"));
	ical_object_free(&o);
	/* COMPLETED + CREATED */
	o = todo("CREATED:20260301T000000Z\nCOMPLETED:20260305T000000Z\n");
	assert_true(in_range(o, "VTODO", "20260302T000000Z", "20260303T000000Z"));
	assert_false(in_range(o, "VTODO", "20260201T000000Z", "20260228T000000Z"));
	assert_true(in_range(o, "VTODO", "20260301T000000Z", "20260302T000000Z"));
	assert_true(in_range(o, "VTODO", "20260228T000000Z", "20260301T000000Z"));
	assert_true(in_range(o, "VTODO", "20260305T000000Z", "20260306T000000Z"));
	assert_false(in_range(o, "VTODO", "20260305T000001Z", "20260306T000000Z"));
	ical_object_free(&o);
	/* COMPLETED alone: start <= COMPLETED AND end >= COMPLETED */
	o = todo("COMPLETED:20260305T000000Z\n");
	assert_true(in_range(o, "VTODO", "20260304T000000Z", "20260305T000000Z"));
	assert_true(in_range(o, "VTODO", "20260305T000000Z", "20260306T000000Z"));
	assert_false(in_range(o, "VTODO", "20260305T000001Z", "20260306T000000Z"));
	ical_object_free(&o);
	/* CREATED alone: end > CREATED */
	o = todo("CREATED:20260301T000000Z\n");
	assert_true(in_range(o, "VTODO", "20300101T000000Z", "20300102T000000Z"));
	assert_false(in_range(o, "VTODO", "20260201T000000Z", "20260301T000000Z"));
	ical_object_free(&o);
	/* nothing: TRUE */
	o = todo("SUMMARY:anytime\n");
	assert_true(in_range(o, "VTODO", "19990101T000000Z", "19990102T000000Z"));
	ical_object_free(&o);
}

static void test_vjournal_and_valarm(void **state)
{
	struct ical_object *obj = parse_file("journal.ics");
	struct ical_comp_filter *root, *ev, *al;
	struct ical_time_range tr;
	struct ical_error err;

	(void)state;
	{
		struct ical_index idx;
		struct ical_object *nd = parse_ok("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
						  "BEGIN:VJOURNAL\r\nUID:j\r\nSUMMARY:undated\r\n"
						  "END:VJOURNAL\r\nEND:VCALENDAR\r\n");

		assert_int_equal(ical_object_index(nd, NULL, &limits, &idx, &err), 0);
		assert_true(idx.first_start == ICAL_TIME_MIN && idx.last_end == ICAL_TIME_MAX);
		ical_index_free(&idx);
		assert_false(in_range(nd, "VJOURNAL", "20260310T120000Z", "20260310T130000Z"));
		ical_object_free(&nd);
		assert_int_equal(ical_object_index(obj, NULL, &limits, &idx, &err), 0);
		assert_true(idx.first_start == utc("20260310T000000Z") - 14 * 3600);
		assert_true(idx.last_end == utc("20260311T000000Z") + 14 * 3600);
		ical_index_free(&idx);
	}
	assert_true(in_range(obj, "VJOURNAL", "20260310T120000Z", "20260310T130000Z"));
	assert_false(in_range(obj, "VJOURNAL", "20260311T000000Z", "20260312T000000Z"));
	ical_object_free(&obj);

	obj = parse_file("alarm.ics");
	/* instances at 12:00Z on Mar 10-12; alarms at 11:45, 11:50, 11:55 */
	root = ical_comp_filter_new("VCALENDAR");
	ev = ical_comp_filter_add_comp(root, "VEVENT");
	al = ical_comp_filter_add_comp(ev, "VALARM");
	assert_int_equal(ical_time_range_parse("20260311T115000Z", "20260311T115100Z", &tr, &err), 0);
	ical_comp_filter_set_time_range(al, &tr);
	assert_true(matches(root, obj));
	assert_int_equal(ical_time_range_parse("20260311T115600Z", "20260311T115900Z", &tr, &err), 0);
	ical_comp_filter_set_time_range(al, &tr);
	assert_false(matches(root, obj));
	assert_int_equal(ical_time_range_parse("20260313T114000Z", "20260313T120000Z", &tr, &err), 0);
	ical_comp_filter_set_time_range(al, &tr);
	assert_false(matches(root, obj));
	assert_int_equal(ical_time_range_parse("20260312T114500Z", "20260312T114501Z", &tr, &err), 0);
	ical_comp_filter_set_time_range(al, &tr);
	assert_true(matches(root, obj));
	ical_comp_filter_free(&root);
	ical_object_free(&obj);
}

static void test_text_match(void **state)
{
	struct ical_object *ev = parse_file("berlin-weekly.ics");
	struct ical_object *jo = parse_file("journal.ics");
	struct ical_comp_filter *root = ical_comp_filter_new("VCALENDAR");
	struct ical_comp_filter *cf = ical_comp_filter_add_comp(root, "VEVENT");
	struct ical_prop_filter *pf = ical_comp_filter_add_prop(cf, "SUMMARY");
	struct ical_param_filter *par;
	enum ical_collation c;

	(void)state;
	assert_int_equal(ical_collation_parse("i;unicode-casemap", &c), 0);
	assert_int_equal(c, ICAL_COLLATION_UNICODE_CASEMAP);
	assert_int_equal(ical_collation_parse("i;basic", &c), -1);
	ical_prop_filter_set_text_match(pf, "WEEKLY", ICAL_COLLATION_ASCII_CASEMAP, false);
	assert_true(matches(root, ev));
	ical_prop_filter_set_text_match(pf, "weekly", ICAL_COLLATION_OCTET, false);
	assert_false(matches(root, ev));
	ical_prop_filter_set_text_match(pf, "Weekly", ICAL_COLLATION_OCTET, false);
	assert_true(matches(root, ev));
	ical_prop_filter_set_text_match(pf, "weekly", ICAL_COLLATION_ASCII_CASEMAP, true);
	/* the override's SUMMARY also contains it: negate fails on both */
	assert_false(matches(root, ev));
	ical_prop_filter_set_text_match(pf, "moved", ICAL_COLLATION_ASCII_CASEMAP, true);
	assert_true(matches(root, ev));	/* the master does not contain "moved" */
	ical_prop_filter_set_text_match(pf, "moved", ICAL_COLLATION_ASCII_CASEMAP, false);
	assert_true(matches(root, ev));
	/* is-not-defined */
	pf = ical_comp_filter_add_prop(cf, "LOCATION");
	pf->is_not_defined = true;
	assert_true(matches(root, ev));
	pf->is_not_defined = false;
	assert_false(matches(root, ev));
	ical_comp_filter_free(&root);

	/* param-filter on ATTENDEE;PARTSTAT */
	root = ical_comp_filter_new("VCALENDAR");
	cf = ical_comp_filter_add_comp(root, "VEVENT");
	pf = ical_comp_filter_add_prop(cf, "ATTENDEE");
	ical_prop_filter_set_text_match(pf, "carl@", ICAL_COLLATION_ASCII_CASEMAP, false);
	par = ical_prop_filter_add_param(pf, "PARTSTAT");
	ical_param_filter_set_text_match(par, "needs-action", ICAL_COLLATION_ASCII_CASEMAP, false);
	assert_true(matches(root, ev));
	ical_param_filter_set_text_match(par, "accepted", ICAL_COLLATION_ASCII_CASEMAP, false);
	assert_false(matches(root, ev));	/* carl has not accepted */
	par->is_not_defined = true;
	assert_false(matches(root, ev));
	ical_comp_filter_free(&root);

	/* comp-filter is-not-defined */
	root = ical_comp_filter_new("VCALENDAR");
	cf = ical_comp_filter_add_comp(root, "VTODO");
	cf->is_not_defined = true;
	assert_true(matches(root, ev));
	cf->is_not_defined = false;
	assert_false(matches(root, ev));
	ical_comp_filter_free(&root);

	/* i;unicode-casemap folds non-ASCII letters, i;ascii-casemap does not */
	root = ical_comp_filter_new("VCALENDAR");
	cf = ical_comp_filter_add_comp(root, "VJOURNAL");
	pf = ical_comp_filter_add_prop(cf, "DESCRIPTION");
	ical_prop_filter_set_text_match(pf, "über DIE", ICAL_COLLATION_UNICODE_CASEMAP, false);
	assert_true(matches(root, jo));
	ical_prop_filter_set_text_match(pf, "über DIE", ICAL_COLLATION_ASCII_CASEMAP, false);
	assert_false(matches(root, jo));
	ical_prop_filter_set_text_match(pf, "ÜBER DIE", ICAL_COLLATION_ASCII_CASEMAP, false);
	assert_true(matches(root, jo));
	/* decomposed U+0308 against the precomposed Ü of the data (RFC 5051) */
	ical_prop_filter_set_text_match(pf, "u\xcc\x88" "ber", ICAL_COLLATION_UNICODE_CASEMAP, false);
	assert_true(matches(root, jo));
	ical_prop_filter_set_text_match(pf, "u\xcc\x88" "ber", ICAL_COLLATION_OCTET, false);
	assert_false(matches(root, jo));
	ical_prop_filter_set_text_match(pf, "uber", ICAL_COLLATION_UNICODE_CASEMAP, false);
	assert_false(matches(root, jo));	/* the accent still counts */
	ical_comp_filter_free(&root);
	ical_object_free(&ev);
	ical_object_free(&jo);
}

static void test_filter_check(void **state)
{
	struct ical_comp_filter *root = ical_comp_filter_new("VEVENT");
	struct ical_time_range tr;
	struct ical_error err;
	unsigned comps;

	(void)state;
	assert_int_equal(ical_filter_check(root, &err), -1);
	assert_int_equal(err.precond, ICAL_VALID_FILTER);
	ical_comp_filter_free(&root);
	root = tr_filter("VEVENT", "20260101T000000Z", "20260201T000000Z");
	assert_int_equal(ical_filter_check(root, &err), 0);
	ical_filter_hints(root, &comps, &tr);
	assert_int_equal(comps, ICAL_COMP_VEVENT);
	assert_true(tr.has_start && tr.has_end && tr.start == utc("20260101T000000Z"));
	ical_prop_filter_set_time_range(ical_comp_filter_add_prop(root->comps, "SUMMARY"), &tr);
	assert_int_equal(ical_filter_check(root, &err), -1);
	ical_comp_filter_free(&root);
	assert_int_equal(ical_time_range_parse("20260101T000000", NULL, &tr, &err), -1);
	assert_int_equal(ical_time_range_parse("20260201T000000Z", "20260101T000000Z", &tr, &err), -1);
	assert_int_equal(ical_time_range_parse(NULL, NULL, &tr, &err), -1);
}

#define HDR "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//x//y//EN\n"
#define EV(body) "BEGIN:VEVENT\nUID:u@x\nDTSTAMP:20260101T000000Z\n" body "END:VEVENT\n"

static void test_invalid(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\n") "END:VCALENDAR\n", 0, NULL, 0),
			 ICAL_PRECOND_NONE);
	/* valid-calendar-data */
	assert_int_equal(parse_err("BEGIN:VCALENDAR\nPRODID:x\n" EV("DTSTART:20260101T100000Z\n")
				   "END:VCALENDAR\n", 0, msg, sizeof(msg)), ICAL_VALID_CALENDAR_DATA);
	assert_non_null(strstr(msg, "VERSION"));
	assert_int_equal(parse_err("BEGIN:VCALENDAR\nVERSION:2.0\n" EV("DTSTART:20260101T100000Z\n")
				   "END:VCALENDAR\n", 0, NULL, 0), ICAL_VALID_CALENDAR_DATA);
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\n") "END:VTODO\nEND:VCALENDAR\n", 0,
				   msg, sizeof(msg)), ICAL_VALID_CALENDAR_DATA);
	assert_non_null(strstr(msg, "line 9"));
	assert_int_equal(parse_err(HDR EV("DTSTART:2026010\n") "END:VCALENDAR\n", 0, NULL, 0),
			 ICAL_VALID_CALENDAR_DATA);
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\nDTEND:20251231T100000Z\n")
				   "END:VCALENDAR\n", 0, NULL, 0), ICAL_VALID_CALENDAR_DATA);
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\nRRULE:FREQ=SOMETIMES\n")
				   "END:VCALENDAR\n", 0, NULL, 0), ICAL_VALID_CALENDAR_DATA);
	assert_int_equal(parse_err(HDR EV("SUMMARY:no start\n") "END:VCALENDAR\n", 0, NULL, 0),
			 ICAL_VALID_CALENDAR_DATA);
	assert_int_equal(parse_err("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:a\xff\n"
				   "END:VEVENT\nEND:VCALENDAR\n", 0, NULL, 0), ICAL_VALID_CALENDAR_DATA);
	/* valid-calendar-object-resource */
	assert_int_equal(parse_err(HDR "METHOD:REQUEST\n" EV("DTSTART:20260101T100000Z\n")
				   "END:VCALENDAR\n", 0, NULL, 0), ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\n")
				   "BEGIN:VEVENT\nUID:other@x\nDTSTART:20260101T100000Z\nRECURRENCE-ID:20260101T100000Z\nEND:VEVENT\n"
				   "END:VCALENDAR\n", 0, msg, sizeof(msg)), ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	assert_non_null(strstr(msg, "UID"));
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\n") EV("DTSTART:20260102T100000Z\n")
				   "END:VCALENDAR\n", 0, NULL, 0), ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\nRRULE:FREQ=DAILY\n")
				   EV("RECURRENCE-ID:20260102T100000Z\nDTSTART:20260102T110000Z\n")
				   EV("RECURRENCE-ID:20260102T100000Z\nDTSTART:20260102T120000Z\n")
				   "END:VCALENDAR\n", 0, NULL, 0), ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\n")
				   "BEGIN:VTODO\nUID:u@x\nEND:VTODO\nEND:VCALENDAR\n", 0, NULL, 0),
			 ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	assert_int_equal(parse_err(HDR EV("DTSTART;TZID=Europe/Paris:20260101T100000\n")
				   "END:VCALENDAR\n", 0, msg, sizeof(msg)), ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	assert_non_null(strstr(msg, "Europe/Paris"));
	assert_int_equal(parse_err(HDR "END:VCALENDAR\n", 0, NULL, 0), ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\n") "END:VCALENDAR\n"
				   HDR EV("DTSTART:20260101T100000Z\n") "END:VCALENDAR\n", 0, NULL, 0),
			 ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	/* supported-calendar-component */
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\n") "END:VCALENDAR\n",
				   ICAL_COMP_VTODO, msg, sizeof(msg)), ICAL_SUPPORTED_CALENDAR_COMPONENT);
	assert_non_null(strstr(msg, "VEVENT"));
	/* min-date-time, max-date-time */
	assert_int_equal(parse_err(HDR EV("DTSTART:18000101T100000Z\n") "END:VCALENDAR\n", 0, NULL, 0),
			 ICAL_MIN_DATE_TIME);
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\nDTEND:23000101T100000Z\n")
				   "END:VCALENDAR\n", 0, NULL, 0), ICAL_MAX_DATE_TIME);
	/* max-instances */
	assert_int_equal(parse_err(HDR EV("DTSTART:20260101T100000Z\nRRULE:FREQ=DAILY;COUNT=100000\n")
				   "END:VCALENDAR\n", 0, NULL, 0), ICAL_MAX_INSTANCES);
}

static void test_invalid_sizes(void **state)
{
	struct buf b;
	struct ical_limits small = limits;
	struct ical_object *obj = NULL;
	struct ical_error err;
	char *text;

	(void)state;
	/* max-attendees-per-instance */
	buf_init(&b, 0);
	buf_append_str(&b, HDR "BEGIN:VEVENT\nUID:u@x\nDTSTART:20260101T100000Z\n");
	for (int i = 0; i < 20; i++)
		buf_printf(&b, "ATTENDEE:mailto:a%d@x\n", i);
	buf_append_str(&b, "END:VEVENT\nEND:VCALENDAR\n");
	text = crlf(b.data);
	small.max_attendees = 10;
	assert_int_equal(ical_object_parse(text, strlen(text), 0, &small, &obj, &err), -1);
	assert_int_equal(err.precond, ICAL_MAX_ATTENDEES_PER_INSTANCE);
	/* max-resource-size */
	small = limits;
	small.max_resource_size = 100;
	assert_int_equal(ical_object_parse(text, strlen(text), 0, &small, &obj, &err), -1);
	assert_int_equal(err.precond, ICAL_MAX_RESOURCE_SIZE);
	small = limits;
	small.max_properties = 10;
	assert_int_equal(ical_object_parse(text, strlen(text), 0, &small, &obj, &err), -1);
	assert_int_equal(err.precond, ICAL_MAX_RESOURCE_SIZE);
	free(text);
	buf_free(&b);
	/* nesting */
	text = crlf(HDR "BEGIN:VEVENT\nUID:u@x\nDTSTART:20260101T100000Z\nBEGIN:VALARM\nBEGIN:X-A\nBEGIN:X-B\n"
		    "END:X-B\nEND:X-A\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n");
	assert_int_equal(ical_object_parse(text, strlen(text), 0, &limits, &obj, &err), -1);
	assert_int_equal(err.precond, ICAL_VALID_CALENDAR_DATA);
	free(text);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Recurrence bombs end with max-instances, quickly; the time printed is
 * for the reader, the assertion is on the error. */
static void test_recurrence_bomb(void **state)
{
	static const char *const refused[] = {
		"FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=SECONDLY;BYHOUR=3",
		"FREQ=MINUTELY;BYMONTHDAY=29;BYMONTH=2",
		"FREQ=HOURLY;INTERVAL=24;BYHOUR=5",
		"FREQ=MINUTELY;INTERVAL=1440;BYDAY=MO;BYHOUR=1",
		"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
	};
	struct ical_object *obj;
	struct ical_comp_filter *f;
	struct ical_error err;
	double t0 = now_s();
	bool m;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		char *lf = xasprintf(HDR EV("DTSTART:20260105T100000Z\nRRULE:%s\n") "END:VCALENDAR\n",
				     refused[i]);

		assert_int_equal(parse_err(lf, 0, NULL, 0), ICAL_MAX_INSTANCES);
		free(lf);
	}
	/* libical searches for the first match of these itself: refused either
	 * because the search took too long or because it found nothing */
	{
		static const char *const searched[] = {
			"FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
			"FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31",
		};

		for (size_t i = 0; i < ARRAY_SIZE(searched); i++) {
			char *lf = xasprintf(HDR EV("DTSTART:20260105T100000Z\nRRULE:%s\n") "END:VCALENDAR\n",
					     searched[i]);
			enum ical_precond p = parse_err(lf, 0, NULL, 0);

			assert_true(p == ICAL_MAX_INSTANCES || p == ICAL_VALID_CALENDAR_DATA);
			free(lf);
		}
	}
	/* many components with rules that are each slow to probe: the probe
	 * budget is per object, not per rule */
	{
		struct buf b;
		char *text;
		struct ical_error e2;
		struct ical_object *o2 = NULL;

		buf_init(&b, 0);
		buf_append_str(&b, HDR EV("DTSTART:20260105T100000Z\nRRULE:FREQ=DAILY\n"));
		for (int i = 1; i <= 300; i++)
			buf_printf(&b, "BEGIN:VEVENT\nUID:u@x\nRECURRENCE-ID:2026%02d%02dT100000Z\n"
				   "DTSTART:20260105T100000Z\nRRULE:FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO\n"
				   "END:VEVENT\n", 1 + i / 28, 1 + i % 28);
		buf_append_str(&b, "END:VCALENDAR\n");
		text = crlf(b.data);
		assert_int_equal(ical_object_parse(text, strlen(text), 0, &limits, &o2, &e2), -1);
		if (e2.precond != ICAL_MAX_INSTANCES)
			fail_msg("%s", e2.text);
		free(text);
		buf_free(&b);
	}
	/* accepted, but every tick is an instance: a long query hits the limit */
	obj = parse_ok("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:b@x\r\n"
		       "DTSTART:20260101T000000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
	f = tr_filter("VEVENT", "20270101T000000Z", "20280101T000000Z");
	if (ical_filter_match(f, obj, NULL, &limits, &m, &err) != 0)
		fail_msg("%s", err.text);
	assert_true(m);	/* jumped to the range, first tick matches */
	ical_comp_filter_free(&f);
	{
		struct ical_comp_filter *root = ical_comp_filter_new("VCALENDAR");
		struct ical_comp_filter *cf = ical_comp_filter_add_comp(root, "VEVENT");
		struct ical_time_range tr;
		struct ical_prop_filter *pf;

		assert_int_equal(ical_time_range_parse("20270101T000000Z", "20280101T000000Z", &tr, &err), 0);
		ical_comp_filter_set_time_range(cf, &tr);
		pf = ical_comp_filter_add_prop(cf, "SUMMARY");	/* absent: every instance fails */
		(void)pf;
		assert_int_equal(ical_filter_match(root, obj, NULL, &limits, &m, &err), -1);
		assert_int_equal(err.precond, ICAL_MAX_INSTANCES);
		ical_comp_filter_free(&root);
	}
	ical_object_free(&obj);
	print_message("recurrence bombs refused in %.3f s\n", now_s() - t0);
	assert_true(now_s() - t0 < 20);	/* a hang would never get here */
}

static void test_huge_vtimezone(void **state)
{
	struct buf b;
	struct ical_object *obj = NULL;
	struct ical_error err;
	char *text;
	double t0 = now_s();

	(void)state;
	buf_init(&b, 0);
	buf_append_str(&b, HDR "BEGIN:VTIMEZONE\nTZID:Huge\n");
	for (int i = 0; i < 3000; i++)
		buf_printf(&b, "BEGIN:STANDARD\nDTSTART:%04d0101T000000\nTZOFFSETFROM:+0100\n"
			   "TZOFFSETTO:+0100\nEND:STANDARD\n", 1601 + i % 400);
	buf_append_str(&b, "END:VTIMEZONE\n" EV("DTSTART;TZID=Huge:20260101T100000\n") "END:VCALENDAR\n");
	text = crlf(b.data);
	assert_int_equal(ical_object_parse(text, strlen(text), 0, &limits, &obj, &err), -1);
	assert_int_equal(err.precond, ICAL_MAX_RESOURCE_SIZE);
	free(text);
	buf_free(&b);
	/* a small zone with a rule that would expand every second */
	text = crlf(HDR "BEGIN:VTIMEZONE\nTZID:Bomb\nBEGIN:STANDARD\nDTSTART:16010101T000000\n"
		    "TZOFFSETFROM:+0100\nTZOFFSETTO:+0100\nRRULE:FREQ=SECONDLY\nEND:STANDARD\nEND:VTIMEZONE\n"
		    EV("DTSTART;TZID=Bomb:20260101T100000\n") "END:VCALENDAR\n");
	assert_int_equal(ical_object_parse(text, strlen(text), 0, &limits, &obj, &err), -1);
	assert_int_equal(err.precond, ICAL_MAX_INSTANCES);
	free(text);
	print_message("huge VTIMEZONEs refused in %.3f s\n", now_s() - t0);
}


/* Compare with a golden file; ICAL_GOLDEN_WRITE=1 rewrites it (then check
 * the diff by eye before committing). */
static void golden(const char *name, const char *text, size_t len)
{
	char *want;
	size_t wlen;

	if (getenv("ICAL_GOLDEN_WRITE") != NULL) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), DATA "%s", name);
		f = fopen(path, "wb");
		assert_non_null(f);
		fwrite(text, 1, len, f);
		fclose(f);
	}
	want = load(name, &wlen);
	if (wlen != len || memcmp(want, text, len) != 0)
		fail_msg("%s differs; got:\n%.*s", name, (int)len, text);
	free(want);
}

static struct ical_calendar_data *cd_range(struct ical_calendar_data *cd, struct ical_time_range *tr,
					   const char *start, const char *end)
{
	struct ical_error err;

	memset(cd, 0, sizeof(*cd));
	assert_int_equal(ical_time_range_parse(start, end, tr, &err), 0);
	return cd;
}

static void test_expand(void **state)
{
	struct ical_object *obj = parse_file("berlin-weekly.ics");
	struct ical_calendar_data cd;
	struct ical_error err;
	char *out;
	size_t len;

	(void)state;
	cd_range(&cd, &cd.expand_range, "20260301T000000Z", "20260404T000000Z");
	cd.expand = true;
	assert_int_equal(ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err), 0);
	assert_null(strstr(out, "VTIMEZONE"));
	assert_null(strstr(out, "RRULE"));
	golden("berlin-weekly.expand.ref", out, len);
	free(out);
	/* limit-recurrence-set: the master, and only the override in range */
	cd_range(&cd, &cd.limit_recurrence_range, "20260301T000000Z", "20260310T000000Z");
	cd.limit_recurrence = true;
	assert_int_equal(ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err), 0);
	assert_null(strstr(out, "RECURRENCE-ID"));
	assert_non_null(strstr(out, "RRULE:FREQ=WEEKLY;COUNT=6"));
	assert_non_null(strstr(out, "BEGIN:VTIMEZONE"));
	free(out);
	cd_range(&cd, &cd.limit_recurrence_range, "20260401T000000Z", "20260403T000000Z");
	cd.limit_recurrence = true;
	assert_int_equal(ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err), 0);
	golden("berlin-weekly.limit.ref", out, len);
	free(out);
	ical_object_free(&obj);

	/* all-day: dates stay dates */
	obj = parse_file("allday.ics");
	cd_range(&cd, &cd.expand_range, "20260301T000000Z", "20260401T000000Z");
	cd.expand = true;
	assert_int_equal(ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err), 0);
	assert_non_null(strstr(out, "DTSTART;VALUE=DATE:20260310\r\n"));
	assert_non_null(strstr(out, "DTEND;VALUE=DATE:20260312\r\n"));
	free(out);
	ical_object_free(&obj);

	/* an open-ended rule expands within the range only */
	obj = parse_file("ny-daily-open.ics");
	cd_range(&cd, &cd.expand_range, "20260307T000000Z", "20260310T000000Z");
	cd.expand = true;
	assert_int_equal(ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err), 0);
	golden("ny-daily-open.expand.ref", out, len);
	free(out);
	ical_object_free(&obj);
}

static void test_comp_prop_subset(void **state)
{
	struct ical_object *obj = parse_file("berlin-weekly.ics");
	struct ical_calendar_data cd;
	struct ical_comp_select *cal, *ev;
	struct ical_error err;
	char *out;
	size_t len;

	(void)state;
	memset(&cd, 0, sizeof(cd));
	cal = ical_comp_select_new("VCALENDAR");
	ical_comp_select_add_prop(cal, "VERSION", false);
	ev = ical_comp_select_add_comp(cal, "VEVENT");
	ical_comp_select_add_prop(ev, "SUMMARY", false);
	ical_comp_select_add_prop(ev, "UID", false);
	ical_comp_select_add_prop(ev, "DTSTART", true);
	ical_comp_select_add_comp(cal, "VTIMEZONE");
	cd.comp = cal;
	assert_int_equal(ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err), 0);
	golden("berlin-weekly.subset.ref", out, len);
	free(out);
	ical_comp_select_free(&cal);
	assert_null(cal);
	ical_object_free(&obj);
}

static void test_limit_freebusy_and_freebusy(void **state)
{
	struct ical_object *fbobj = parse_file("freebusy.ics");
	struct ical_object *ev = parse_file("berlin-weekly.ics");
	struct ical_object *ad = parse_file("allday.ics");
	struct ical_calendar_data cd;
	struct ical_time_range tr;
	struct ical_freebusy *fb;
	struct ical_error err;
	char *out, *tent, *canc, *transp;
	size_t len;

	(void)state;
	cd_range(&cd, &cd.limit_freebusy_range, "20260310T093000Z", "20260310T120000Z");
	cd.limit_freebusy = true;
	assert_int_equal(ical_object_render(fbobj, &cd, NULL, &limits, &out, &len, &err), 0);
	assert_null(strstr(out, "20260310T080000Z"));
	assert_non_null(strstr(out, "FREEBUSY:20260310T100000Z/PT1H"));
	free(out);
	/* with expand too, and an expansion larger than max_output fails */
	cd.expand = true;
	cd.expand_range = cd.limit_freebusy_range;
	assert_int_equal(ical_object_render(fbobj, &cd, NULL, &limits, &out, &len, &err), 0);
	assert_null(strstr(out, "20260310T080000Z"));
	assert_non_null(strstr(out, "FREEBUSY:20260310T100000Z/PT1H"));
	free(out);
	{
		struct ical_limits small = limits;

		small.max_output = 200;
		cd_range(&cd, &cd.expand_range, "20260301T000000Z", "20260501T000000Z");
		cd.expand = true;
		assert_int_equal(ical_object_render(ev, &cd, NULL, &small, &out, &len, &err), -1);
		assert_int_equal(err.precond, ICAL_MAX_RESOURCE_SIZE);
	}

	tent = crlf(HDR EV("DTSTART:20260312T083000Z\nDTEND:20260312T100000Z\nSTATUS:TENTATIVE\n") "END:VCALENDAR\n");
	canc = crlf(HDR EV("DTSTART:20260312T120000Z\nDTEND:20260312T130000Z\nSTATUS:CANCELLED\n") "END:VCALENDAR\n");
	transp = crlf(HDR EV("DTSTART:20260312T140000Z\nDTEND:20260312T150000Z\nTRANSP:TRANSPARENT\n") "END:VCALENDAR\n");
	assert_int_equal(ical_time_range_parse("20260310T000000Z", "20260313T000000Z", &tr, &err), 0);
	fb = ical_freebusy_new(&tr);
	assert_int_equal(ical_freebusy_add(fb, fbobj, NULL, &limits, &err), 0);
	assert_int_equal(ical_freebusy_add(fb, ev, NULL, &limits, &err), 0);
	assert_int_equal(ical_freebusy_add(fb, ad, NULL, &limits, &err), 0);
	{
		struct ical_object *o;

		o = parse_ok(tent);
		assert_int_equal(ical_freebusy_add(fb, o, NULL, &limits, &err), 0);
		ical_object_free(&o);
		o = parse_ok(canc);
		assert_int_equal(ical_freebusy_add(fb, o, NULL, &limits, &err), 0);
		ical_object_free(&o);
		o = parse_ok(transp);
		assert_int_equal(ical_freebusy_add(fb, o, NULL, &limits, &err), 0);
		ical_object_free(&o);
	}
	ical_freebusy_add_period(fb, utc("20260312T093000Z"), utc("20260312T103000Z"), ICAL_FB_BUSY_TENTATIVE);
	out = ical_freebusy_render(fb, utc("20260301T000000Z"), &len);
	golden("freebusy.ref", out, len);
	free(out);
	ical_freebusy_free(&fb);
	free(tent);
	free(canc);
	free(transp);
	ical_object_free(&fbobj);
	ical_object_free(&ev);
	ical_object_free(&ad);
}

static void test_split_join(void **state)
{
	size_t len, n, jlen;
	char *text = load("import.ics", &len);
	struct ical_split_item *items;
	struct ical_join *j;
	struct ical_error err;
	char *joined;

	(void)state;
	assert_int_equal(ical_split(text, len, 0, &limits, &items, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[0].uid, "a@example.test");
	assert_int_equal(items[0].comp, ICAL_COMP_VEVENT);
	assert_non_null(strstr(items[0].data, "TZID:Europe/Berlin"));
	assert_null(strstr(items[0].data, "America/New_York"));
	assert_non_null(strstr(items[0].data, "RECURRENCE-ID"));	/* override kept with its master */
	assert_string_equal(items[1].uid, "b@example.test");
	assert_non_null(strstr(items[1].data, "TZID:America/New_York"));
	assert_null(strstr(items[1].data, "Europe/Berlin"));
	assert_int_equal(items[2].comp, ICAL_COMP_VTODO);
	assert_null(strstr(items[2].data, "VTIMEZONE"));
	assert_null(strstr(items[0].data, "METHOD"));
	j = ical_join_new("-//Cairn//export//EN");
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ical_join_add(j, items[i].data, items[i].len, &limits, &err), 0);
	joined = ical_join_finish(&j, &jlen);
	assert_null(j);
	golden("import.joined.ref", joined, jlen);
	ical_split_free(items, n);
	/* round trip: splitting the export gives the same resources */
	{
		struct ical_split_item *again;
		size_t n2;

		assert_int_equal(ical_split(joined, jlen, 0, &limits, &again, &n2, &err), 0);
		assert_int_equal(n2, 3);
		assert_int_equal(ical_split(text, len, 0, &limits, &items, &n, &err), 0);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(again[i].uid, items[i].uid);
			assert_int_equal(again[i].len, items[i].len - (strstr(items[i].data, "PRODID:-//Other") ?
					 strlen("-//Other//Import//EN") - strlen("-//Cairn//export//EN") : 0));
		}
		ical_split_free(again, n2);
		ical_split_free(items, n);
	}
	free(joined);
	free(text);
	/* a component without UID, or an invalid one, fails the whole import */
	text = crlf(HDR EV("DTSTART:20260101T100000Z\n") "BEGIN:VEVENT\nDTSTART:20260101T100000Z\nEND:VEVENT\n"
		    "END:VCALENDAR\n");
	assert_int_equal(ical_split(text, strlen(text), 0, &limits, &items, &n, &err), -1);
	assert_int_equal(err.precond, ICAL_VALID_CALENDAR_OBJECT_RESOURCE);
	free(text);
}

static void test_rdate_period(void **state)
{
	char *text = crlf(HDR EV("DTSTART:20260301T100000Z\nDURATION:PT1H\n"
				 "RDATE;VALUE=PERIOD:20260305T080000Z/20260305T120000Z,20260306T080000Z/PT30M\n")
			  "END:VCALENDAR\n");
	struct ical_object *obj = parse_ok(text);
	struct ical_calendar_data cd;
	struct ical_error err;
	char *out;
	size_t len;

	(void)state;
	assert_true(in_range(obj, "VEVENT", "20260305T113000Z", "20260305T114500Z"));
	assert_false(in_range(obj, "VEVENT", "20260305T120000Z", "20260305T130000Z"));
	assert_true(in_range(obj, "VEVENT", "20260306T082000Z", "20260306T082500Z"));
	assert_false(in_range(obj, "VEVENT", "20260306T083000Z", "20260306T090000Z"));
	assert_true(in_range(obj, "VEVENT", "20260301T103000Z", "20260301T104000Z"));
	cd_range(&cd, &cd.expand_range, "20260305T000000Z", "20260306T000000Z");
	cd.expand = true;
	assert_int_equal(ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err), 0);
	assert_non_null(strstr(out, "DTEND:20260305T120000Z\r\n"));
	assert_null(strstr(out, "DURATION"));
	free(out);
	ical_object_free(&obj);
	free(text);
}

static void test_allday_recurring(void **state)
{
	char *text = crlf(HDR EV("DTSTART;VALUE=DATE:20260302\nDTEND;VALUE=DATE:20260303\n"
				 "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE;VALUE=DATE:20260309\n")
			  EV("RECURRENCE-ID;VALUE=DATE:20260316\nDTSTART;VALUE=DATE:20260318\n"
			     "DTEND;VALUE=DATE:20260319\n") "END:VCALENDAR\n");
	struct ical_object *obj = parse_ok(text);
	struct ical_calendar_data cd;
	struct ical_error err;
	char *out;
	size_t len;

	(void)state;
	assert_true(in_range(obj, "VEVENT", "20260302T230000Z", "20260302T235900Z"));
	assert_false(in_range(obj, "VEVENT", "20260309T000000Z", "20260310T000000Z"));
	assert_false(in_range(obj, "VEVENT", "20260316T000000Z", "20260317T000000Z"));
	assert_true(in_range(obj, "VEVENT", "20260318T120000Z", "20260318T130000Z"));
	assert_true(in_range(obj, "VEVENT", "20260323T000000Z", "20260323T000100Z"));
	assert_false(in_range(obj, "VEVENT", "20260330T000000Z", "20260331T000000Z"));
	cd_range(&cd, &cd.expand_range, "20260301T000000Z", "20260401T000000Z");
	cd.expand = true;
	assert_int_equal(ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err), 0);
	golden("allday-recurring.expand.ref", out, len);
	free(out);
	ical_object_free(&obj);
	free(text);
}

static void test_thisandfuture(void **state)
{
	char *text = crlf(HDR EV("DTSTART:20260301T100000Z\nDTEND:20260301T110000Z\nRRULE:FREQ=DAILY;COUNT=5\n")
			  EV("RECURRENCE-ID;RANGE=THISANDFUTURE:20260303T100000Z\nDTSTART:20260303T120000Z\n"
			     "DTEND:20260303T130000Z\nSUMMARY:later\n") "END:VCALENDAR\n");
	struct ical_object *obj = parse_ok(text);

	(void)state;
	assert_true(in_range(obj, "VEVENT", "20260302T100000Z", "20260302T103000Z"));
	assert_false(in_range(obj, "VEVENT", "20260303T100000Z", "20260303T103000Z"));
	assert_true(in_range(obj, "VEVENT", "20260303T120000Z", "20260303T123000Z"));
	assert_false(in_range(obj, "VEVENT", "20260304T100000Z", "20260304T103000Z"));
	assert_true(in_range(obj, "VEVENT", "20260304T120000Z", "20260304T123000Z"));
	assert_true(in_range(obj, "VEVENT", "20260305T124500Z", "20260305T125000Z"));
	assert_false(in_range(obj, "VEVENT", "20260306T120000Z", "20260306T123000Z"));
	ical_object_free(&obj);
	free(text);
}

/* Many threads at once on their own objects: libical's shared state must
 * hold (run under ASan; a race shows as a wrong answer or a crash). */
static void *thread_main(void *arg)
{
	char *text = arg;
	long bad = 0;

	for (int i = 0; i < 40; i++) {
		struct ical_object *obj = NULL;
		struct ical_error err;
		struct ical_comp_filter *f = tr_filter("VEVENT", "20260409T080000Z", "20260409T081000Z");
		struct ical_calendar_data cd;
		char *out;
		size_t len;
		bool m = false;

		if (ical_object_parse(text, strlen(text), 0, &limits, &obj, &err) != 0) {
			bad++;
			ical_comp_filter_free(&f);
			continue;
		}
		if (ical_filter_match(f, obj, NULL, &limits, &m, &err) != 0 || !m)
			bad++;
		memset(&cd, 0, sizeof(cd));
		cd.expand = true;
		ical_time_range_parse("20260301T000000Z", "20260501T000000Z", &cd.expand_range, &err);
		if (ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err) != 0 ||
		    strstr(out, "DTSTART:20260409T080000Z") == NULL)
			bad++;
		else
			free(out);
		ical_comp_filter_free(&f);
		ical_object_free(&obj);
	}
	return (void *)bad;
}

/* An object parsed on one thread and evaluated on another resolves its
 * zones without the first thread's cache. */
static void *foreign_main(void *arg)
{
	struct ical_object *obj = arg;

	return (void *)(long)(in_range(obj, "VEVENT", "20260409T080000Z", "20260409T081000Z") &&
			      !in_range(obj, "VEVENT", "20260409T090000Z", "20260409T100000Z"));
}

static void test_load_and_foreign_thread(void **state)
{
	size_t len;
	char *text = load("berlin-weekly.ics", &len);
	struct ical_object *obj = NULL;
	struct ical_error err;
	pthread_t t;
	void *ok;

	(void)state;
	assert_int_equal(ical_object_load(text, len, &limits, &obj, &err), 0);
	assert_string_equal(ical_object_uid(obj), "weekly-berlin@example.test");
	assert_int_equal(ical_object_comp(obj), ICAL_COMP_VEVENT);
	assert_true(in_range(obj, "VEVENT", "20260402T131500Z", "20260402T133000Z"));
	assert_int_equal(pthread_create(&t, NULL, foreign_main, obj), 0);
	assert_int_equal(pthread_join(t, &ok), 0);
	assert_true((long)ok);
	ical_object_free(&obj);
	assert_int_equal(ical_object_load("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
					  strlen("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), &limits, &obj, &err), -1);
	free(text);
}

static void test_threads(void **state)
{
	char *text = load("berlin-weekly.ics", NULL);
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, text), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;

		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_int_equal((long)bad, 0);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_recurring_berlin),
		cmocka_unit_test(test_open_ended_new_york),
		cmocka_unit_test(test_allday_and_floating),
		cmocka_unit_test(test_vtodo_table),
		cmocka_unit_test(test_vjournal_and_valarm),
		cmocka_unit_test(test_text_match),
		cmocka_unit_test(test_filter_check),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_invalid_sizes),
		cmocka_unit_test(test_recurrence_bomb),
		cmocka_unit_test(test_huge_vtimezone),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_comp_prop_subset),
		cmocka_unit_test(test_limit_freebusy_and_freebusy),
		cmocka_unit_test(test_split_join),
		cmocka_unit_test(test_thisandfuture),
		cmocka_unit_test(test_allday_recurring),
		cmocka_unit_test(test_rdate_period),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_load_and_foreign_thread),
	};

	ical_limits_default(&limits);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
