/* calendar/ical-busy: the pure part of free/busy for scheduling (RFC 6638
 * 5.2.2.1, RFC 7953) on calendar/ical: busy periods of one object as seen by
 * its owner (transparency, status, the owner's own PARTSTAT), period lists
 * merged per FBTYPE, working hours from VAVAILABILITY, and the VFREEBUSY
 * METHOD:REPLY text. No SQL, no sockets; thread-safe like calendar/ical. */
#ifndef CAIRN_ICAL_BUSY_H
#define CAIRN_ICAL_BUSY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ical.h"

/* One busy period, UTC seconds [start, end); type an enum ical_fbtype
 * (never ICAL_FB_FREE in a list), plus ICAL_BUSY_DECLINED for an instance
 * the owner declined (busy for a calendar's free-busy-query, RFC 4791
 * 7.10, but not in the owner's scheduling free/busy, RFC 6638). */
#define ICAL_BUSY_DECLINED 4
struct ical_busy_period {
	int64_t start, end;
	int type;
};

/* A growable list of periods; zero-initialise, free with ical_busy_clear. */
struct ical_busy_list {
	struct ical_busy_period *p;
	size_t n, cap;
};

/* Append one period (dropped when empty, FREE or of no known type). */
void ical_busy_add(struct ical_busy_list *l, int64_t start, int64_t end, int type);
/* Clip every period to [start, end), dropping what falls outside. */
void ical_busy_clip(struct ical_busy_list *l, int64_t start, int64_t end);
/* Merge overlapping or touching periods of one type and sort the list by
 * start (then type). Periods of different types may still overlap. */
void ical_busy_merge(struct ical_busy_list *l);
/* Drop the periods marked ICAL_BUSY_DECLINED. */
void ical_busy_drop_declined(struct ical_busy_list *l);
/* Free the periods, leaving the list empty. */
void ical_busy_clear(struct ical_busy_list *l);

/* The busy time an object gives its owner over [start, end) (ICAL_TIME_MIN/
 * MAX for open ends), appended to out unclipped: VEVENT instances, skipping
 * TRANSP:TRANSPARENT and STATUS:CANCELLED ones and those where one of the
 * owner's addresses (self, without "mailto:", any case) is an ATTENDEE with
 * PARTSTAT=DECLINED are marked ICAL_BUSY_DECLINED; STATUS:TENTATIVE is BUSY-TENTATIVE; an all-day instance
 * without an end lasts one day, other instants none. VFREEBUSY: its FREEBUSY
 * periods with their FBTYPE (FREE dropped). Floating and DATE times resolve
 * in floating (NULL: UTC). Returns 0, or -1 with err_r when a limit is hit
 * (nothing appended). */
int ical_busy_of_object(struct ical_object *obj, const struct ical_tz *floating,
			const char *const *self, size_t nself, int64_t start, int64_t end,
			const struct ical_limits *limits, struct ical_busy_list *out,
			struct ical_error *err_r);

/* ---- VAVAILABILITY (RFC 7953) ------------------------------------------ */

struct ical_availability;
/* Parse a VCALENDAR holding one or more VAVAILABILITY components (each with
 * AVAILABLE subcomponents) and the VTIMEZONEs they use: the value of
 * CALDAV:calendar-availability. Returns 0 and a new object, or -1 with err_r
 * (valid-calendar-data) when it does not parse, lacks DTSTAMP/UID, has an
 * AVAILABLE without DTSTART or with an end before its start, names a TZID
 * with no VTIMEZONE, or passes the limits. */
int ical_availability_parse(const char *data, size_t len, const struct ical_limits *limits,
			    struct ical_availability **av_r, struct ical_error *err_r);
/* The unavailable time over [start, end) per RFC 7953 section 4: each
 * VAVAILABILITY, from the lowest priority to the highest (PRIORITY 1 is the
 * highest, 0 or none the lowest; a later one wins within its own time
 * range), makes its range busy with its BUSYTYPE (default BUSY-UNAVAILABLE)
 * except the instances of its AVAILABLE components. Appended to out, merged.
 * Returns 0, or -1 with err_r when a limit is hit. */
int ical_availability_busy(struct ical_availability *av, int64_t start, int64_t end,
			   const struct ical_limits *limits, struct ical_busy_list *out,
			   struct ical_error *err_r);
void ical_availability_free(struct ical_availability **av);

/* ---- the request ------------------------------------------------------ */

/* A free/busy request (RFC 5546 3.3.2, RFC 6638 5): a VCALENDAR with
 * METHOD:REQUEST holding one VFREEBUSY. Addresses are lower-cased with any
 * "mailto:" removed (other URI schemes kept whole). */
struct ical_fbrequest {
	char *uid;		/* NULL when the request has none */
	char *organizer;
	int64_t start, end;	/* UTC seconds, start < end */
	char **attendees;	/* in request order, duplicates dropped */
	size_t nattendees;
};
/* Parse a free/busy request body. Returns 0, or -1 with err_r: precond
 * ICAL_VALID_CALENDAR_DATA when it is no iCalendar object, ICAL_PRECOND_NONE
 * (the caller's valid-scheduling-message) when the method, component or a
 * required property (ORGANIZER, DTSTART, DTEND after it, an ATTENDEE) is
 * wrong or missing, ICAL_MAX_ATTENDEES_PER_INSTANCE past limits->max_attendees. */
int ical_fbrequest_parse(const char *data, size_t len, const struct ical_limits *limits,
			 struct ical_fbrequest *req_r, struct ical_error *err_r);
void ical_fbrequest_clear(struct ical_fbrequest *req);

/* ---- the reply --------------------------------------------------------- */

/* A VCALENDAR with METHOD:REPLY and one VFREEBUSY (RFC 5546 3.3.2): UID (the
 * request's), DTSTAMP, DTSTART, DTEND, ORGANIZER and ATTENDEE (addresses
 * without "mailto:"), and one FREEBUSY line per period of the (merged)
 * list, in UTC, with FBTYPE unless BUSY. Returns the malloc'ed text (CRLF
 * lines), its length in *len_r. */
char *ical_busy_reply(const struct ical_busy_list *l, const char *uid, int64_t dtstamp,
		      int64_t start, int64_t end, const char *organizer, const char *attendee,
		      size_t *len_r);

#endif
