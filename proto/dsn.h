/* RFC 3464 delivery status notifications (bounces, delay and success
 * reports) as multipart/report messages, with the RFC 6533 variants for
 * SMTPUTF8 originals. Pure: libc only; the queue fills the structs. */
#ifndef CAIRN_DSN_H
#define CAIRN_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "util.h"

/* One per-recipient block of the message/delivery-status part. */
struct dsn_recipient {
	const char *address;		/* final recipient as queued */
	const char *orcpt;		/* RFC 3461 ORCPT "rfc822;addr" or NULL */
	const char *action;		/* "failed", "delayed", "delivered", "relayed", "expanded" */
	const char *status;		/* e.g. "5.1.1" */
	const char *remote_mta;		/* remote host name, or NULL */
	const char *diagnostic;		/* remote reply e.g. "550 5.1.1 no such user", or NULL */
	time_t last_attempt;		/* 0 = omit */
	time_t will_retry_until;	/* "delayed" only; 0 = omit */
};

/* Everything one report needs. Strings are borrowed for the call only. */
struct dsn_report {
	const char *reporting_mta;	/* our host name */
	const char *from;		/* header From address, e.g. "MAILER-DAEMON@host" */
	const char *to;			/* the envelope sender the report goes to */
	const char *envid;		/* RFC 3461 ENVID or NULL */
	time_t arrival;			/* when the message was accepted */
	time_t now;			/* Date: */
	const char *message_id;		/* "<...>" for the report; the caller makes it unique */
	bool return_full;		/* RET=FULL: whole message, else text/rfc822-headers */
	const char *original;		/* the original message (CRLF) */
	size_t original_len;
	uint64_t max_original;		/* include at most this much FULL content, else headers only */
	bool utf8;			/* SMTPUTF8 original: message/global-delivery-status etc. (RFC 6533) */
	const struct dsn_recipient *rcpts;
	size_t nrcpts;
};

/* The whole RFC 3464 multipart/report; report-type=delivery-status message
 * (headers and body, CRLF line ends, lines <= 998 octets) appended to out.
 * Returns 0, or -1 with *error_r set. */
int dsn_build(const struct dsn_report *r, struct buf *out, const char **error_r);

#endif
