/* CalDAV request elements to calendar/ical structures: a CALDAV:filter to
 * an ical_comp_filter tree, a calendar-data request to ical_calendar_data,
 * time-range attributes, supported-calendar-component-set. Pure (no store):
 * fuzzed by fuzz-dav-caldav-filter. */
#ifndef CAIRN_CALDAV_FILTER_H
#define CAIRN_CALDAV_FILTER_H

#include "dav-xml.h"
#include "ical.h"

/* The component set named by a supported-calendar-component-set element;
 * 0 when it names none or one that is unknown. */
unsigned caldav_comp_set_of(xmlNode *node);
/* A time-range element's start/end attributes. 0, or -1 with err. */
int caldav_time_range_of(xmlNode *node, struct ical_time_range *tr, struct ical_error *err);
/* A calendar-data request element (NULL: the whole object). 0 with cd
 * filled (free cd->comp with ical_comp_select_free; *plain_r: nothing but
 * the whole object asked), or -1 with err (valid-filter). */
int caldav_calendar_data_of(xmlNode *node, struct ical_calendar_data *cd, bool *plain_r,
			    struct ical_error *err);
/* The filter tree of a CALDAV:filter element, checked (ical_filter_check).
 * 0 with *root_r (free with ical_comp_filter_free), or -1 with err naming
 * valid-filter or supported-collation. */
int caldav_filter_of(xmlNode *filter, struct ical_comp_filter **root_r, struct ical_error *err);

#endif
