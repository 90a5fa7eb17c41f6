/* Internals of calendar/sched*.c shared with the DAV core (dav.c calls the
 * write hooks; caldav.c the calendar properties). */
#ifndef CAIRN_SCHED_PRIVATE_H
#define CAIRN_SCHED_PRIVATE_H

#include "dav.h"
#include "ical.h"
#include "schedule.h"

struct itip_out;

/* Create the user's scheduling inbox and outbox if missing (a store_result). */
int sched_provision_user(struct store *st, const char *user, const char **error_r);
/* The user's default calendar for scheduling (schedule-default-calendar-URL,
 * else the first calendar supporting VEVENT, else a new "calendar"), locked,
 * into coll_r. A store_result. */
int sched_default_calendar(struct store *st, const char *user, bool create,
			   struct store_dav_coll *coll_r, const char **error_r);
/* Is address (any case, with or without "mailto:") one of user's calendar
 * user addresses? */
bool sched_is_user_address(struct store *st, const char *user, const char *address);

/* A principal property of scheduling: 200 appended, 404 not one. */
int sched_principal_prop(struct dav_ctx *ctx, const char *principal,
			 const struct dav_propname *p, struct buf *out);
/* Scheduling properties of a calendar collection or object
 * (schedule-calendar-transp, schedule-tag): 200 appended, 404. */
int sched_calendar_prop(struct dav_ctx *ctx, enum dav_level level,
			const struct store_dav_coll *coll, const struct store_dav_obj *obj,
			const struct dav_propname *p, struct buf *out);

/* What implicit scheduling decided for a write of a calendar object. */
struct sched_write {
	char *data;		/* the body to store instead of the request's (malloc'ed), or NULL */
	size_t len;
	char tag[80];		/* the schedule tag to store after the write, "" for none */
	bool scheduling;	/* a scheduling object resource */
};
/* Before PUT (or a MOVE's put) of data as name in a calendar collection;
 * old: the object there now, its data read, or NULL. Checks
 * If-Schedule-Tag-Match and the RFC 6638 3.2.4 preconditions, then sends
 * what the change means to attendees or the organizer. 0 to go on with sw
 * filled (free with sched_write_free), or an HTTP status already answered
 * (a store_result < 0 for a store failure). */
int sched_before_put(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		     const struct store_dav_obj *old, const char *data, size_t len,
		     struct sched_write *sw);
/* Before DELETE of a calendar object (old with data): CANCEL or REPLY. */
int sched_before_delete(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			const struct store_dav_obj *old);
/* After the write: store the tag, add the Schedule-Tag header. A store_result. */
int sched_after_put(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		    const struct sched_write *sw);
void sched_write_free(struct sched_write *sw);

/* ---- sched-deliver.c ---- */

/* The iCalendar limits of scheduling (the DAV ones, the attendee cap). */
void sched_limits(const struct config *cfg, struct ical_limits *lim);
/* Store calendar data (already valid) as name in coll, indexed. */
int sched_store_object(struct store *st, const struct config *cfg,
		       const struct store_dav_coll *coll, const char *name, const char *data,
		       size_t len, const char **error_r);
/* Send one message of implicit scheduling from `from` (SENT-BY sent_by):
 * to a local calendar user by sched_deliver, else by iMIP. status_r: the
 * SCHEDULE-STATUS to record (RFC 6638 3.2.9: 1.2 delivered, 1.1 sent, 3.7
 * invalid user, 3.8 no authority, 5.x failure). A store_result. */
int sched_send(struct store *st, const struct config *cfg, const char *from, const char *sent_by,
	       const struct itip_out *out, const char *summary, char status_r[16],
	       const char **error_r);
/* The iMIP leg of sched_send (sched-imip.c). */
int sched_send_external(struct store *st, const struct config *cfg, const char *from,
			const char *sent_by, const struct itip_out *out, const char *summary,
			char status_r[16], const char **error_r);
/* While on, external messages are automatic answers (imip_send_auto).
 * Returns the previous value. */
bool sched_auto_sending(bool on);
/* Bracket a write whose deliveries may produce further messages (a room's
 * REPLY): they wait until sched_write_end, which sends them when flush. */
void sched_write_begin(void);
int sched_write_end(struct store *st, const struct config *cfg, bool flush, const char **error_r);
/* A local resource's automatic answer to a REQUEST just applied to its
 * calendar (queued until the write ends). */
int sched_resource_request(struct store *st, const struct config *cfg, const char *account,
			   const char *address, const struct itip_message *msg,
			   const char **error_r);

/* ---- sched-res.c ---- */

/* The booking decision for account: *answer_r 0 accept, 1 decline, -1 no
 * automatic answer (manual approval, or no policy); STORE_NOTFOUND when
 * account is no resource. */
int sched_resource_answer(struct store *st, const struct config *cfg, const char *account,
			  const struct itip_message *msg, int *answer_r, char *why, size_t size,
			  const char **error_r);
/* Is address a resource? "ROOM", "RESOURCE", or NULL. */
const char *sched_resource_type(struct store *st, const char *address);

/* ---- sched-put.c ---- */

/* Set PARTSTAT of address's ATTENDEE in every component of obj (and drop
 * its RSVP); the new text into *data_r (malloc'ed). 0, or -1 when address
 * is no attendee. */
int sched_set_partstat(struct ical_object *obj, const char *address, const char *partstat,
		       char **data_r, size_t *len_r);

/* A new opaque schedule tag (quoted) into tag (80 bytes). */
void sched_new_tag(char tag[80]);

#endif
