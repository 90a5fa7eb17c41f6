/* libFuzzer target for calendar/ical: each input is validated as a calendar
 * object resource, indexed, matched against a fixed calendar-query filter
 * (time-range, VALARM range, text-match, param-filter), expanded, limited,
 * added to a free-busy set, and split as an import. Limits are small so
 * that a slow input shows up as a timeout. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ical.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ical_comp_filter *make_filter(void)
{
	struct ical_comp_filter *root = ical_comp_filter_new("VCALENDAR");
	struct ical_comp_filter *ev = ical_comp_filter_add_comp(root, "VEVENT");
	struct ical_comp_filter *al = ical_comp_filter_add_comp(ev, "VALARM");
	struct ical_prop_filter *pf = ical_comp_filter_add_prop(ev, "ATTENDEE");
	struct ical_param_filter *par = ical_prop_filter_add_param(pf, "PARTSTAT");
	struct ical_time_range tr;
	struct ical_error err;

	ical_time_range_parse("20260101T000000Z", "20270101T000000Z", &tr, &err);
	ical_comp_filter_set_time_range(ev, &tr);
	ical_comp_filter_set_time_range(al, &tr);
	ical_prop_filter_set_text_match(pf, "mailto:", ICAL_COLLATION_UNICODE_CASEMAP, false);
	ical_param_filter_set_text_match(par, "accepted", ICAL_COLLATION_ASCII_CASEMAP, true);
	return root;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ical_comp_filter *filter;
	struct ical_limits limits;
	struct ical_object *obj;
	struct ical_error err;
	struct ical_index idx;
	struct ical_calendar_data cd = { 0 };
	struct ical_split_item *items;
	size_t n, len;
	char *out;
	bool m;

	if (filter == NULL)
		filter = make_filter();
	ical_limits_default(&limits);
	limits.max_instances = 500;
	limits.max_recur_work = 5000;
	limits.max_resource_size = 64 * 1024;
	if (ical_object_parse((const char *)data, size, ICAL_COMP_DEFAULT_SET | ICAL_COMP_VFREEBUSY,
			      &limits, &obj, &err) == 0) {
		struct ical_freebusy *fb;

		if (ical_object_index(obj, NULL, &limits, &idx, &err) == 0)
			ical_index_free(&idx);
		(void)ical_filter_match(filter, obj, NULL, &limits, &m, &err);
		ical_time_range_parse("20260101T000000Z", "20260301T000000Z", &cd.expand_range, &err);
		cd.expand = true;
		if (ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err) == 0)
			free(out);
		cd.expand = false;
		cd.limit_recurrence = true;
		cd.limit_recurrence_range = cd.expand_range;
		if (ical_object_render(obj, &cd, NULL, &limits, &out, &len, &err) == 0)
			free(out);
		fb = ical_freebusy_new(&cd.expand_range);
		(void)ical_freebusy_add(fb, obj, NULL, &limits, &err);
		out = ical_freebusy_render(fb, 0, &len);
		free(out);
		ical_freebusy_free(&fb);
		ical_object_free(&obj);
	}
	if (ical_split((const char *)data, size, 0, &limits, &items, &n, &err) == 0)
		ical_split_free(items, n);
	{
		struct ical_tz *tz;

		if (ical_tz_parse((const char *)data, size, &limits, &tz, &err) == 0)
			ical_tz_free(&tz);
	}
	return 0;
}
