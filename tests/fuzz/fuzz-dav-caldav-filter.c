/* libFuzzer target: CalDAV REPORT bodies through the hardened XML parser
 * and the mapping of CALDAV:filter, calendar-data requests, time-ranges and
 * supported-calendar-component-set to calendar/ical structures (what
 * calendar-query, multiget and MKCALENDAR feed to libical). */
#include "caldav-filter.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(xmlNode *node, unsigned depth)
{
	for (xmlNode *n = dav_xml_elem(node); n != NULL && depth < 64; n = dav_xml_elem(n->next)) {
		struct ical_error err = { ICAL_PRECOND_NONE, "" };
		if (dav_xml_is(n, DAV_NS_CALDAV, "filter")) {
			struct ical_comp_filter *f = NULL;
			if (caldav_filter_of(n, &f, &err) == 0) {
				unsigned comps;
				struct ical_time_range tr;
				ical_filter_hints(f, &comps, &tr);
				ical_comp_filter_free(&f);
			}
		} else if (dav_xml_is(n, DAV_NS_CALDAV, "calendar-data")) {
			struct ical_calendar_data cd;
			bool plain;
			if (caldav_calendar_data_of(n, &cd, &plain, &err) == 0)
				ical_comp_select_free(&cd.comp);
		} else if (dav_xml_is(n, DAV_NS_CALDAV, "time-range")) {
			struct ical_time_range tr;
			caldav_time_range_of(n, &tr, &err);
		} else if (dav_xml_is(n, DAV_NS_CALDAV, "supported-calendar-component-set")) {
			(void)caldav_comp_set_of(n);
		}
		walk(n->children, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dav_xml_limits lim = { 64 * 1024, 32, 4000 };
	xmlDocPtr doc;
	const char *error = NULL;
	if (dav_xml_parse((const char *)data, size, &lim, &doc, &error) != 0)
		return 0;
	walk(xmlDocGetRootElement(doc), 0);
	xmlFreeDoc(doc);
	return 0;
}
