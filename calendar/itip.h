/* calendar/itip: iTIP (RFC 5546) on libical, with the scheduling parameters
 * of CalDAV scheduling (RFC 6638: SCHEDULE-AGENT, SCHEDULE-STATUS,
 * SCHEDULE-FORCE-SEND). Pure: no SQL, no DAV, no sockets, no logging.
 *
 * - itip_parse() checks a message against RFC 5546 section 3 (METHOD, the
 *   per-method property rules, one UID, limits);
 * - itip_organizer_changes() / itip_attendee_changes() compute the messages
 *   a stored change sends (implicit scheduling, RFC 6638 3.2);
 * - itip_apply() applies a received message to the recipient's stored copy;
 * - builders for the replies a CUA or server answers with (REPLY, REFRESH,
 *   DECLINECOUNTER).
 *
 * Calendar user addresses are given and returned without "mailto:", in
 * lower case; arguments may carry "mailto:" (any case) and are compared
 * case-insensitively. See docs/scheduling-itip.md. */
#ifndef CAIRN_ITIP_H
#define CAIRN_ITIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ical.h"

enum itip_method { ITIP_PUBLISH, ITIP_REQUEST, ITIP_REPLY, ITIP_ADD, ITIP_CANCEL,
		   ITIP_REFRESH, ITIP_COUNTER, ITIP_DECLINECOUNTER };

/* A parsed VCALENDAR with METHOD, checked per RFC 5546 section 3. */
struct itip_message;

/* Parse and check an iTIP message. lim NULL: ical_limits_default(). The
 * attendee cap is lim->max_attendees per component. Returns 0 and a new
 * message (free with itip_free()), or -1 with err_r: err_r->text names the
 * property and the rule, prefixed with the iTIP request-status to answer
 * ("3.1;ATTENDEE: a REPLY has exactly one ATTENDEE per VEVENT"). */
int itip_parse(const char *data, size_t len, const struct ical_limits *lim,
	       struct itip_message **msg_r, struct ical_error *err_r);
void itip_free(struct itip_message **msg);

enum itip_method itip_method(const struct itip_message *m);
/* "REQUEST" etc. (static string); NULL for a value outside the enum. */
const char *itip_method_name(enum itip_method m);
/* Parse a METHOD value (case-insensitive). Returns 0, or -1 if unknown. */
int itip_method_from_name(const char *name, enum itip_method *m_r);

const char *itip_uid(const struct itip_message *m);
/* ORGANIZER address without "mailto:", lower-case; NULL when none. */
const char *itip_organizer(const struct itip_message *m);
/* ORGANIZER's SENT-BY address (lower-case, without mailto:) or NULL. */
const char *itip_organizer_sent_by(const struct itip_message *m);
enum ical_comp itip_comp(const struct itip_message *m);
/* REPLY/COUNTER/REFRESH: the one attendee it is from (address), its
 * SENT-BY or NULL; NULL for other methods. */
const char *itip_sender(const struct itip_message *m);
const char *itip_sender_sent_by(const struct itip_message *m);
/* REPLY: the sender's PARTSTAT in the first component (upper-case), or
 * NULL. */
const char *itip_sender_partstat(const struct itip_message *m);
/* Highest SEQUENCE of the components (0 when absent). */
int itip_sequence(const struct itip_message *m);
/* Distinct ATTENDEE addresses of all components (lower-case, without
 * mailto:), in order of appearance; owned by m. */
size_t itip_attendee_count(const struct itip_message *m);
const char *itip_attendee(const struct itip_message *m, size_t i);
/* Whether some component has a RECURRENCE-ID (the message is about
 * instances only). */
bool itip_has_instances(const struct itip_message *m);
/* The whole message as text (CRLF lines), malloc'ed. */
char *itip_to_string(const struct itip_message *m, size_t *len_r);
/* SUMMARY of the master (or first component), for iMIP subjects; NULL. */
const char *itip_summary(const struct itip_message *m);
/* First DTSTART of the master (or first component) as UTC seconds, for
 * iMIP text; false when none. */
bool itip_dtstart(const struct itip_message *m, int64_t *utc_r);

/* What one stored change must send. */
struct itip_out {
	char *recipient;	/* address without mailto:, lower-case */
	enum itip_method method;
	char *data; size_t len;	/* whole VCALENDAR with METHOD */
};
/* Free an array of n messages (the array too). */
void itip_out_free(struct itip_out *out, size_t n);
/* Free the fields of one message (not the struct), leaving it zeroed. */
void itip_out_clear(struct itip_out *out);

/* Organizer changed its object (old or new NULL: created/deleted): REQUEST
 * to current attendees (only the instances each attends), CANCEL to removed
 * attendees and for removed/cancelled instances, honouring SCHEDULE-AGENT
 * (only SERVER, the default, is scheduled) and SCHEDULE-FORCE-SEND; no
 * message to an attendee whose view did not change, none to the organizer
 * itself. sent_by: delegate address or NULL (set as SENT-BY on ORGANIZER).
 * Returns 0 with a malloc'ed array (possibly empty: *out_r NULL, *n_r 0),
 * or -1 with err_r. */
int itip_organizer_changes(const struct ical_object *old, const struct ical_object *new,
			   const char *organizer, const char *sent_by,
			   struct itip_out **out_r, size_t *n_r, struct ical_error *err_r);
/* Whether new differs from old in a way that needs a higher SEQUENCE (RFC
 * 5546 2.1.4: times, recurrence, location, summary, description, status,
 * the attendee list...), for the organizer side to bump SEQUENCE when the
 * client did not. False when old or new is NULL. */
bool itip_needs_sequence_bump(const struct ical_object *old, const struct ical_object *new);
/* SEQUENCE of new's master (or its highest one), for that comparison. */
int itip_object_sequence(const struct ical_object *obj);
/* Set SEQUENCE to seq on every component of obj (organizer-side bump). */
void itip_object_set_sequence(struct ical_object *obj, int seq);

/* RFC 6638 3.2.8: in the organizer's new object, reset to NEEDS-ACTION the
 * PARTSTAT of every attendee (SCHEDULE-AGENT SERVER, the organizer
 * excepted) of each component rescheduled since old (DTSTART, DTEND,
 * DURATION, DUE, RRULE, RDATE or EXDATE changed; an override that moves its
 * instance). Call before itip_organizer_changes(). Returns how many
 * PARTSTATs were reset. */
int itip_reset_partstat(const struct ical_object *old, struct ical_object *new,
			const char *organizer);
/* Remove SCHEDULE-FORCE-SEND from every ATTENDEE and ORGANIZER of obj: it
 * acts once and is not stored (RFC 6638 7.3). */
void itip_object_strip_force_send(struct ical_object *obj);

/* Attendee changed (or deleted: new NULL) its copy: a REPLY to the organizer
 * for the instances whose own PARTSTAT changed (deleted: DECLINED), carrying
 * only that attendee's ATTENDEE (with SENT-BY when sent_by is set). Nothing
 * when the ORGANIZER's SCHEDULE-AGENT is not SERVER. */
int itip_attendee_changes(const struct ical_object *old, const struct ical_object *new,
			  const char *attendee, const char *sent_by,
			  struct itip_out **out_r, size_t *n_r, struct ical_error *err_r);

/* What itip_apply_ex() did. */
enum itip_apply_result {
	ITIP_APPLY_STORE,	/* *data_r is the new object to store */
	ITIP_APPLY_UNCHANGED,	/* nothing to change (stale SEQUENCE/DTSTAMP, REFRESH,
				   COUNTER, DECLINECOUNTER); *data_r is cur's text or NULL */
	ITIP_APPLY_DELETE,	/* the stored copy is to be deleted (*data_r NULL); not
				   produced today: a CANCEL marks the copy cancelled */
};
/* Apply a message to the recipient's stored copy (cur NULL when none):
 * REQUEST/ADD/CANCEL into an attendee copy, REPLY into the organizer copy
 * (PARTSTAT merged per instance, overrides created for one-instance
 * replies, organizer's other data kept), REFRESH -> nothing to store
 * (caller re-sends). New object text into *data_r (malloc'ed) or *data_r
 * NULL when the object is to be deleted or there is nothing to store; a
 * stale message (lower SEQUENCE, or same SEQUENCE and older DTSTAMP) is
 * accepted without change (request-status 2.0, *data_r NULL). Returns 0, or
 * -1 with err_r (the RFC 6638 request-status to answer in err_r->text, e.g.
 * "3.8;No authority" or "5.3;No scheduling"). */
int itip_apply(const struct ical_object *cur, const struct itip_message *msg,
	       const char *recipient, char **data_r, size_t *len_r, struct ical_error *err_r);
/* Same, telling what happened in *res_r. */
int itip_apply_ex(const struct ical_object *cur, const struct itip_message *msg,
		  const char *recipient, char **data_r, size_t *len_r,
		  enum itip_apply_result *res_r, struct ical_error *err_r);

/* Set SCHEDULE-STATUS on the ATTENDEE (or ORGANIZER) property of address
 * in every component. Returns the number of properties set (0: address not
 * found). */
int itip_set_schedule_status(struct ical_object *obj, const char *address, const char *status);

/* Builders. Each fills *out (free with itip_out_clear(out)) and returns
 * 0, or -1 with err_r. */
/* REPLY from attendee to a received REQUEST with the given PARTSTAT
 * ("ACCEPTED", "DECLINED", "TENTATIVE"...), for every component of the
 * request in which attendee appears (a resource's automatic answer). */
int itip_build_reply(const struct itip_message *req, const char *attendee,
		     const char *partstat, const char *sent_by, const char *comment,
		     struct itip_out *out, struct ical_error *err_r);
/* REFRESH from attendee for its copy obj (RFC 5546 3.2.6): ORGANIZER,
 * ATTENDEE, UID, DTSTAMP (and RECURRENCE-ID when rid is set: "YYYYMMDD" or
 * "YYYYMMDDTHHMMSS[Z]"). */
int itip_build_refresh(const struct ical_object *obj, const char *attendee, const char *rid,
		       struct itip_out *out, struct ical_error *err_r);
/* DECLINECOUNTER from the organizer to the sender of a COUNTER (RFC 5546
 * 3.2.8). */
int itip_build_declinecounter(const struct itip_message *counter, const char *organizer,
			      const char *comment, struct itip_out *out,
			      struct ical_error *err_r);
/* The organizer's current object as a REQUEST for one attendee (answer to
 * a REFRESH): only the components the attendee appears in. */
int itip_build_request(const struct ical_object *obj, const char *attendee,
		       const char *sent_by, struct itip_out *out, struct ical_error *err_r);

/* Normalise a calendar user address: strip "mailto:" (any case), lower-
 * case. Returns a malloc'ed string. */
char *itip_address(const char *value);

#endif
