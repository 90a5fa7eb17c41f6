/* The MIME side of iMIP (RFC 6047), pure: finding the iCalendar part of a
 * received message (text/calendar with a METHOD parameter at the top level
 * or inside multipart/alternative, mixed or related, else an
 * application/ics attachment; never inside a forwarded message/rfc822),
 * decoded to UTF-8; the header fields that mean "never answer this
 * automatically" (RFC 3834, lists, bulk mail); and the encoders outbound
 * iMIP needs (quoted-printable, base64 lines, RFC 2047 header fields, all
 * with CRLF and lines of at most 76 characters). No I/O, no globals. */
#ifndef CAIRN_MIME_IMIP_H
#define CAIRN_MIME_IMIP_H

#include "mime.h"

/* The iCalendar part found in a message. */
struct imip_part {
	const struct mime_part *part;	/* in the parsed message */
	bool text_calendar;		/* text/calendar (false: application/ics) */
	char method[24];		/* the Content-Type "method" parameter,
					 * upper-cased; "" when absent or too long */
	struct buf data;		/* the content, transfer-decoded, UTF-8 */
};

/* Largest iCalendar content taken from a message (decoded bytes). */
#define IMIP_MAX_CALENDAR (4u * 1024 * 1024)

/* Find the iCalendar part of msg: the first text/calendar part that has a
 * method parameter (RFC 6047 2.4), else the first text/calendar part, else
 * the first application/ics part, searched depth-first through multipart
 * containers only. Its content is decoded from its transfer encoding and
 * charset (default UTF-8) into part_r->data (at most IMIP_MAX_CALENDAR
 * bytes). Returns 0, or -1 when there is none, it is empty or too large
 * (part_r->data is then freed). Free part_r with imip_part_free(). */
int imip_find_calendar(const struct mime_message *msg, struct imip_part *part_r);
void imip_part_free(struct imip_part *part);

/* Why a message must never get an automatic answer, or NULL: an
 * Auto-Submitted field other than "no" (RFC 3834 5), a List-Id (RFC 2919)
 * or List-Post field, Precedence bulk, list or junk, or an
 * X-Auto-Response-Suppress asking for no automatic reply. */
const char *imip_no_auto_reply(const struct mime_message *msg);

/* Append in as quoted-printable (RFC 2045 6.7): CRLF line breaks of the
 * input (CRLF or bare LF) kept as hard breaks, soft breaks keep every line
 * within 76 characters, trailing whitespace encoded. */
void imip_qp_encode(const char *in, size_t len, struct buf *out);
/* Append in as base64 in lines of 76 characters, each ending in CRLF. */
void imip_base64_lines(const void *in, size_t len, struct buf *out);
/* Append "Name: value\r\n": value (CR, LF and TAB as spaces, runs of
 * spaces collapsed, trimmed) as it is when it is printable ASCII, else as RFC 2047 "=?UTF-8?B?...?=" words of
 * at most 75 characters, split on UTF-8 character boundaries and folded,
 * so no line exceeds 78 characters for a value of any length. */
void imip_header(const char *name, const char *value, struct buf *out);
/* Append "Name: display <address>\r\n" (just the address when display is
 * NULL or empty): an ASCII display name as a quoted-string, else as RFC
 * 2047 words (RFC 2047 5(3)), folded like imip_header(). */
void imip_header_mailbox(const char *name, const char *display, const char *address,
			 struct buf *out);
/* Whether every line of data[0..len) (CRLF or LF ended) is 7-bit, NUL-free
 * and at most 998 octets long, so the part may go as 7bit. */
bool imip_is_7bit(const char *data, size_t len);

#endif
