/* calendar/ical internals shared by ical*.c: the parsed object, libical
 * set-up, time conversion and the instance iterator. */
#ifndef CAIRN_ICAL_PRIVATE_H
#define CAIRN_ICAL_PRIVATE_H

#include <libical/ical.h>

#include "ical.h"

struct ical_tz {
	icalcomponent *vcal;	/* the VCALENDAR that owns the VTIMEZONE */
	icaltimezone *zone;	/* points into vcal */
	char *tzid;
};

struct ical_object {
	icalcomponent *vcal;
	enum ical_comp comp;
	icalcomponent_kind kind;
	char *uid;
};

/* Once per process: libical errors non-fatal, UTC zone initialised. */
void ical_lib_init(void);
void ical_set_error(struct ical_error *err, enum ical_precond precond,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
