/* (Named schedule.h, not sched.h: with -Icalendar a calendar/sched.h would
 * shadow the system <sched.h> that <pthread.h> includes.) */
/* CalDAV scheduling (RFC 6638) on the DAV core: the scheduling inbox and
 * outbox kinds, the principal properties, implicit scheduling when a
 * calendar object resource is written (PUT, DELETE, MOVE) by an organizer or
 * an attendee, schedule tags, and sched_deliver(): the one entry point that
 * hands an iTIP message (RFC 5546) to a local calendar user, whether it came
 * from a CalDAV client of a colleague or by mail (iMIP, server/deliver). The
 * iTIP computations are calendar/itip's; SQL is server/store/store-sched's. */
#ifndef CAIRN_SCHEDULE_H
#define CAIRN_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct store;
struct itip_message;

enum sched_origin { SCHED_ORIGIN_CALDAV, SCHED_ORIGIN_IMIP };

/* Deliver one iTIP message to a local calendar user (account or resource) inside the caller's
   store transaction: keep a copy in their scheduling inbox, apply it to their default calendar
   (itip_apply), run the resource booking policy for resources (sched_resource_decide), and
   send what that produces (a resource's REPLY). sender: who it comes from (address);
   sender_verified: DMARC/authentication vouches for it (iMIP) or it is local (CalDAV).
   status_r: the request-status ("2.0", "3.7", "3.8", "5.1"...). STORE_OK or a store_result.
   The sender must be the message's organizer (REQUEST, ADD, CANCEL, ...) or replying attendee
   (REPLY, REFRESH, COUNTER), or their SENT-BY; an unverified iMIP sender may not be one of our
   own users (those come through CalDAV or authenticated submission): else "3.8", nothing
   stored. */
int sched_deliver(struct store *st, const struct config *cfg, const char *recipient,
		  const struct itip_message *msg, enum sched_origin origin, const char *sender,
		  bool sender_verified, char status_r[16], const char **error_r);

/* The names of the scheduling collections in the "calendars" home. */
#define SCHED_INBOX_NAME "inbox"
#define SCHED_OUTBOX_NAME "outbox"
#define SCHED_DEFAULT_CALENDAR "calendar"

#endif
