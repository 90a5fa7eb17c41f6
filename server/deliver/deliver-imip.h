/* Inbound iMIP (RFC 6047) in the delivery pipeline: a message for local
 * users that carries an iTIP message (text/calendar with METHOD) is stored
 * in INBOX as always and, in the same transaction, handed to the calendar
 * side (sched_deliver, SCHED_ORIGIN_IMIP) after the sender checks: the
 * ORGANIZER (REQUEST, ADD, CANCEL, DECLINECOUNTER) or the replying ATTENDEE
 * (REPLY, REFRESH, COUNTER), or its SENT-BY, must be the From: address, and
 * the scan stage's DMARC result for the From: domain must not be a failure.
 * Malformed calendar data leaves plain mail. Messages that must not be
 * answered (auto-submitted, list, bulk, from <> or from ourselves) are
 * applied without any automatic answer. See docs/scheduling-imip.md. */
#ifndef CAIRN_DELIVER_IMIP_H
#define CAIRN_DELIVER_IMIP_H

struct config;

/* Install the iMIP hook into the delivery pipeline (deliver_set_imip_hook)
 * for this configuration; call once before the worker pool starts. */
void deliver_imip_setup(const struct config *cfg);
/* Remove it. */
void deliver_imip_cleanup(void);

#endif
