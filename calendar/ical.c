/* calendar/ical: parsing and validation of calendar object resources, their
 * index fields, and the libical set-up every other ical-*.c file relies on.
 * (First commit: the API compiles; the implementation follows.) */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ical-private.h"
#include "util.h"

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init_once(void)
{
	icalerror_set_errors_are_fatal(0);
	(void)icaltimezone_get_utc_timezone();
}

void ical_lib_init(void)
{
	pthread_once(&lib_once, lib_init_once);
}

void ical_set_error(struct ical_error *err, enum ical_precond precond, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->precond = precond;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
}

static const char *const precond_names[] = {
	[ICAL_PRECOND_NONE] = "",
	[ICAL_VALID_CALENDAR_DATA] = "valid-calendar-data",
	[ICAL_VALID_CALENDAR_OBJECT_RESOURCE] = "valid-calendar-object-resource",
	[ICAL_SUPPORTED_CALENDAR_COMPONENT] = "supported-calendar-component",
	[ICAL_MAX_RESOURCE_SIZE] = "max-resource-size",
	[ICAL_MIN_DATE_TIME] = "min-date-time",
	[ICAL_MAX_DATE_TIME] = "max-date-time",
	[ICAL_MAX_INSTANCES] = "max-instances",
	[ICAL_MAX_ATTENDEES_PER_INSTANCE] = "max-attendees-per-instance",
	[ICAL_VALID_FILTER] = "valid-filter",
	[ICAL_SUPPORTED_COLLATION] = "supported-collation",
};

const char *ical_precond_name(enum ical_precond precond)
{
	if ((unsigned)precond >= ARRAY_SIZE(precond_names))
		return "";
	return precond_names[precond];
}

const char *ical_comp_name(enum ical_comp comp)
{
	switch (comp) {
	case ICAL_COMP_VEVENT: return "VEVENT";
	case ICAL_COMP_VTODO: return "VTODO";
	case ICAL_COMP_VJOURNAL: return "VJOURNAL";
	case ICAL_COMP_VFREEBUSY: return "VFREEBUSY";
	}
	return NULL;
}

enum ical_comp ical_comp_from_name(const char *name)
{
	if (str_casecmp(name, "VEVENT") == 0) return ICAL_COMP_VEVENT;
	if (str_casecmp(name, "VTODO") == 0) return ICAL_COMP_VTODO;
	if (str_casecmp(name, "VJOURNAL") == 0) return ICAL_COMP_VJOURNAL;
	if (str_casecmp(name, "VFREEBUSY") == 0) return ICAL_COMP_VFREEBUSY;
	return 0;
}

void ical_limits_default(struct ical_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_resource_size = 1024 * 1024;
	l->max_components = 1000;
	l->max_properties = 10000;
	l->max_depth = 4;
	l->max_text_len = 64 * 1024;
	l->max_line_len = 128 * 1024;
	l->max_vtimezone_props = 2000;
	l->max_attendees = 1000;
	l->max_instances = 5000;
	l->max_recur_work = 1000000;
	l->min_date_time = -2208988800LL;	/* 1900-01-01T00:00:00Z */
	l->max_date_time = 7258118400LL;	/* 2200-01-01T00:00:00Z */
	l->max_split_objects = 100000;
	l->max_output = 64 * 1024 * 1024;
	l->max_rrule_probe_ms = 100;
}
