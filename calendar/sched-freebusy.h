/* Free/busy for scheduling (RFC 6638 5.2.2.1 / 5.2.5, RFC 7953): the POST of a
 * VFREEBUSY request to a scheduling outbox, and the busy time of local
 * calendar users read from the busy-time index (migration 0026: dav_busy),
 * which the CalDAV kind fills at PUT time; objects not (or not far enough)
 * indexed are expanded with libical at query time and their rows written.
 * Everything runs on a worker thread inside the DAV request's transaction. */
#ifndef CAIRN_SCHED_FREEBUSY_H
#define CAIRN_SCHED_FREEBUSY_H

#include <stddef.h>
#include <stdint.h>

#include "dav.h"

struct config;
struct store;

/* POST to a scheduling outbox (RFC 6638 5.2.2.1): body is a VCALENDAR METHOD:REQUEST with a
   VFREEBUSY; answer CALDAV:schedule-response with one CALDAV:response per ATTENDEE (users,
   groups expanded, resources), each with recipient, request-status and calendar-data. Fills the
   dav response; returns the HTTP status it set. */
int sched_outbox_post(struct dav_ctx *ctx);

/* Busy time of one local calendar user over [start,end) (UTC seconds), merged periods
   with FBTYPE, for the resource policy and the REPORT. */
struct sched_busy { int64_t start, end; int fbtype; /* 0 BUSY 1 TENTATIVE 2 UNAVAILABLE */ };
/* user: a calendar user address (with or without "mailto:") of an account;
 * except_uid (NULL: none) leaves out the objects with that UID (a meeting
 * being rescheduled does not conflict with itself). Periods are merged per
 * FBTYPE and sorted by start; *busy_r is malloc'ed (NULL when none).
 * Working hours (the inbox's CALDAV:calendar-availability) are included as
 * BUSY-UNAVAILABLE. STORE_OK, STORE_NOTFOUND (no such user) or another
 * store_result with *error_r. */
int sched_busy_lookup(struct store *st, const struct config *cfg, const char *user,
		      int64_t start, int64_t end, const char *except_uid,
		      struct sched_busy **busy_r, size_t *n_r, const char **error_r);

/* PROPPATCH of CALDAV:calendar-availability on a scheduling inbox (RFC 7953
 * 7.2.4): 200 when removed or when the value is iCalendar text of
 * VAVAILABILITY components that ical_availability_parse accepts (the core
 * stores it as a dead property), 409 otherwise. */
int sched_availability_set_prop(struct dav_ctx *ctx, const struct dav_propop *op);

#endif
