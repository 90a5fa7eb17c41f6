/* calendar/caldav-filter: CALDAV:filter and calendar-data request elements
 * mapped to calendar/ical structures, and their refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "caldav-filter.h"

static const struct dav_xml_limits lim = { 65536, 32, 10000 };

#define Q_HEAD "<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"

static xmlDocPtr parse(const char *s)
{
	xmlDocPtr doc = NULL;
	const char *error;
	assert_int_equal(dav_xml_parse(s, strlen(s), &lim, &doc, &error), 0);
	return doc;
}

static int filter(const char *xml, struct ical_comp_filter **f, struct ical_error *err)
{
	xmlDocPtr doc = parse(xml);
	int ret = caldav_filter_of(dav_xml_child(xmlDocGetRootElement(doc), DAV_NS_CALDAV, "filter"),
				   f, err);
	xmlFreeDoc(doc);
	return ret;
}

static void test_filter_tree(void **state)
{
	(void)state;
	struct ical_comp_filter *f = NULL;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	assert_int_equal(filter(Q_HEAD "<C:filter><C:comp-filter name=\"VCALENDAR\">"
				"<C:comp-filter name=\"VEVENT\"><C:time-range start=\"20060104T000000Z\""
				" end=\"20060105T000000Z\"/><C:prop-filter name=\"SUMMARY\">"
				"<C:text-match negate-condition=\"yes\" collation=\"i;unicode-casemap\">"
				"Meeting</C:text-match></C:prop-filter><C:prop-filter name=\"ATTENDEE\">"
				"<C:param-filter name=\"PARTSTAT\"><C:is-not-defined/></C:param-filter>"
				"</C:prop-filter></C:comp-filter></C:comp-filter></C:filter>"
				"</C:calendar-query>", &f, &err), 0);
	assert_string_equal(f->name, "VCALENDAR");
	struct ical_comp_filter *ev = f->comps;
	assert_non_null(ev);
	assert_string_equal(ev->name, "VEVENT");
	assert_non_null(ev->time_range);
	assert_true(ev->time_range->has_start && ev->time_range->has_end);
	assert_int_equal(ev->time_range->end - ev->time_range->start, 86400);
	assert_string_equal(ev->props->name, "SUMMARY");
	assert_string_equal(ev->props->text_match->text, "Meeting");
	assert_true(ev->props->text_match->negate);
	assert_int_equal(ev->props->text_match->collation, ICAL_COLLATION_UNICODE_CASEMAP);
	assert_string_equal(ev->props->next->params->name, "PARTSTAT");
	assert_true(ev->props->next->params->is_not_defined);
	unsigned comps;
	struct ical_time_range tr;
	ical_filter_hints(f, &comps, &tr);
	assert_int_equal(comps, ICAL_COMP_VEVENT);
	ical_comp_filter_free(&f);
}

static void test_filter_refused(void **state)
{
	(void)state;
	struct ical_comp_filter *f = NULL;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	/* no filter at all */
	assert_int_equal(filter(Q_HEAD "</C:calendar-query>", &f, &err), -1);
	assert_int_equal(err.precond, ICAL_VALID_FILTER);
	/* the top comp-filter must be VCALENDAR */
	err.precond = ICAL_PRECOND_NONE;
	assert_int_equal(filter(Q_HEAD "<C:filter><C:comp-filter name=\"VEVENT\"/></C:filter>"
				"</C:calendar-query>", &f, &err), -1);
	assert_int_equal(err.precond, ICAL_VALID_FILTER);
	/* a comp-filter without a name */
	err.precond = ICAL_PRECOND_NONE;
	assert_int_equal(filter(Q_HEAD "<C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter/>"
				"</C:comp-filter></C:filter></C:calendar-query>", &f, &err), -1);
	assert_int_equal(err.precond, ICAL_VALID_FILTER);
	/* a time-range that is not UTC */
	err.precond = ICAL_PRECOND_NONE;
	assert_int_equal(filter(Q_HEAD "<C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter "
				"name=\"VEVENT\"><C:time-range start=\"20060104T000000\"/></C:comp-filter>"
				"</C:comp-filter></C:filter></C:calendar-query>", &f, &err), -1);
	assert_int_equal(err.precond, ICAL_VALID_FILTER);
	/* an unknown collation */
	err.precond = ICAL_PRECOND_NONE;
	assert_int_equal(filter(Q_HEAD "<C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter "
				"name=\"VEVENT\"><C:prop-filter name=\"SUMMARY\"><C:text-match "
				"collation=\"x-nope\">a</C:text-match></C:prop-filter></C:comp-filter>"
				"</C:comp-filter></C:filter></C:calendar-query>", &f, &err), -1);
	assert_int_equal(err.precond, ICAL_SUPPORTED_COLLATION);
	assert_null(f);
}

static void test_calendar_data(void **state)
{
	(void)state;
	xmlDocPtr doc = parse("<C:calendar-data xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
			      "<C:comp name=\"VCALENDAR\"><C:allprop/><C:comp name=\"VEVENT\">"
			      "<C:prop name=\"SUMMARY\" novalue=\"yes\"/></C:comp></C:comp>"
			      "<C:expand start=\"20060103T000000Z\" end=\"20060105T000000Z\"/>"
			      "</C:calendar-data>");
	struct ical_calendar_data cd;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	bool plain;
	assert_int_equal(caldav_calendar_data_of(xmlDocGetRootElement(doc), &cd, &plain, &err), 0);
	assert_false(plain);
	assert_true(cd.expand);
	assert_int_equal(cd.expand_range.end - cd.expand_range.start, 2 * 86400);
	assert_string_equal(cd.comp->name, "VCALENDAR");
	assert_true(cd.comp->allprop);
	assert_string_equal(cd.comp->comps->name, "VEVENT");
	assert_true(cd.comp->comps->props->novalue);
	ical_comp_select_free(&cd.comp);
	xmlFreeDoc(doc);
	/* no children: the whole object */
	doc = parse("<C:calendar-data xmlns:C=\"urn:ietf:params:xml:ns:caldav\"/>");
	assert_int_equal(caldav_calendar_data_of(xmlDocGetRootElement(doc), &cd, &plain, &err), 0);
	assert_true(plain);
	xmlFreeDoc(doc);
	/* expand needs both ends */
	doc = parse("<C:calendar-data xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
		    "<C:expand start=\"20060103T000000Z\"/></C:calendar-data>");
	assert_int_equal(caldav_calendar_data_of(xmlDocGetRootElement(doc), &cd, &plain, &err), -1);
	xmlFreeDoc(doc);
	/* component sets */
	doc = parse("<C:supported-calendar-component-set xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
		    "<C:comp name=\"VEVENT\"/><C:comp name=\"VTODO\"/></C:supported-calendar-component-set>");
	assert_int_equal(caldav_comp_set_of(xmlDocGetRootElement(doc)),
			 ICAL_COMP_VEVENT | ICAL_COMP_VTODO);
	xmlFreeDoc(doc);
	doc = parse("<C:supported-calendar-component-set xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
		    "<C:comp name=\"VBOGUS\"/></C:supported-calendar-component-set>");
	assert_int_equal(caldav_comp_set_of(xmlDocGetRootElement(doc)), 0);
	xmlFreeDoc(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_tree),
		cmocka_unit_test(test_filter_refused),
		cmocka_unit_test(test_calendar_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
