/* iMIP (RFC 6047): iTIP messages as mail. Outbound, imip_send() composes
 * the message (a readable text/plain part and the text/calendar part with
 * its METHOD, plus an application/ics copy for Outlook) and puts it on the
 * outbound queue inside the caller's store transaction, so it leaves only
 * when the calendar change commits; the queue DKIM-signs it like all mail.
 * Inbound iMIP is deliver-imip.c (the delivery pipeline). See
 * docs/scheduling-imip.md. Blocks (SQL): call it from a worker job. */
#ifndef CAIRN_IMIP_H
#define CAIRN_IMIP_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct store;
struct itip_out;

/* Queue an iTIP message as iMIP mail (RFC 6047: multipart/alternative with a
 * readable text/plain and text/calendar; method=...; charset=utf-8) from
 * `from` (Sender: sent_by when set) to `recipient`, inside the caller's
 * transaction; the queue DKIM-signs and sends it after commit. summary: the
 * event's SUMMARY for the Subject (NULL: taken from the data). Returns
 * STORE_OK, or a store_result with *error_r (the caller rolls back). */
int imip_send(struct store *st, const struct config *cfg, const char *from, const char *sent_by,
	      const char *recipient, const struct itip_out *msg, const char *summary,
	      const char **error_r);

/* Flags of imip_send_ex(). */
enum imip_send_flags {
	/* An answer the server made by itself (a resource's REPLY): marked
	 * Auto-Submitted: auto-generated (RFC 3834), sent at most once per
	 * (from, recipient, UID, SEQUENCE, METHOD) within [imip]
	 * auto_reply_period, and never while an inbound message that must
	 * not be answered (auto-submitted, list or bulk mail, a message from
	 * ourselves) is being delivered on this thread. */
	IMIP_SEND_AUTO = 1u << 0,
};

/* imip_send() with flags. A suppressed automatic message returns STORE_OK
 * (nothing queued, logged). */
int imip_send_ex(struct store *st, const struct config *cfg, const char *from,
		 const char *sent_by, const char *recipient, const struct itip_out *msg,
		 const char *summary, unsigned flags, const char **error_r);

/* imip_send_ex(..., IMIP_SEND_AUTO, ...): for sched_deliver's automatic
 * answers (resources). */
int imip_send_auto(struct store *st, const struct config *cfg, const char *from,
		   const char *sent_by, const char *recipient, const struct itip_out *msg,
		   const char *summary, const char **error_r);

/* While set on this thread, automatic messages (IMIP_SEND_AUTO) are not
 * sent: the inbound pipeline sets it around sched_deliver() for a message
 * that must never be answered (mail loop prevention). Returns the previous
 * value. */
bool imip_suppress_auto(bool suppress);

#endif
