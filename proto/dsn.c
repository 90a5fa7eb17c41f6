/* RFC 3464 delivery status notifications: the multipart/report (RFC 6522)
 * with a human-readable part, the machine-readable message/delivery-status
 * and the returned message or its header, with the RFC 6533 types when the
 * original was SMTPUTF8. Pure: the queue decides when to report, this file
 * only writes the message. */
#include "dsn.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* Header values are folded near this column and cut below 998 octets. */
#define FOLD_COLUMN 78
#define LINE_MAX_OCTETS 998
#define VALUE_MAX 900

static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const month_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* An RFC 5322 date-time in UTC, independent of the locale. */
static void format_date(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", day_names[tm.tm_wday % 7],
		 tm.tm_mday, month_names[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

static bool has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return true;
	}
	return false;
}

/* A field value we must not alter (address, status, ...): no control
 * characters (header injection), and ASCII unless the report is UTF-8. */
static bool value_ok(const char *s, bool utf8)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			return false;
	}
	return true;
}

/* A remote server's text (diagnostic): multi-line replies become one line,
 * control characters spaces, and 8-bit bytes '?' unless the report is UTF-8. */
static void clean_text(const char *s, bool utf8, char *out, size_t outlen)
{
	size_t n = 0;
	bool space = false;
	for (; *s != '\0' && n + 1 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f) {
			space = n > 0;
			continue;
		}
		if (space) {
			if (n + 2 >= outlen)
				break;
			out[n++] = ' ';
			space = false;
		}
		out[n++] = c >= 0x80 && !utf8 ? '?' : (char)c;
	}
	/* Do not leave a cut UTF-8 sequence at the end. */
	if (*s != '\0') {
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)out[n - 1] >= 0xc0)
			n--;
	}
	out[n] = '\0';
}

/* "Name: value" folded at spaces so lines stay near FOLD_COLUMN; a word too
 * long to fit is left whole (values are cut below 998 octets beforehand). */
static void put_field(struct buf *out, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;
	buf_printf(out, "%s: ", name);
	const char *p = value;
	bool first = true;
	while (*p != '\0') {
		const char *end = strchr(p, ' ');
		size_t wlen = end != NULL ? (size_t)(end - p) : strlen(p);
		if (!first && col + 1 + wlen > FOLD_COLUMN) {
			buf_append_str(out, "\r\n ");
			col = 1;
		} else if (!first) {
			buf_append_str(out, " ");
			col++;
		}
		buf_append(out, p, wlen);
		col += wlen;
		first = false;
		p += wlen;
		while (*p == ' ')
			p++;
	}
	buf_append_str(out, "\r\n");
}

static bool action_known(const char *a)
{
	static const char *const actions[] = { "failed", "delayed", "delivered", "relayed",
					       "expanded" };
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(a, actions[i]) == 0)
			return true;
	}
	return false;
}

/* RFC 3463 status-code: class "." subject "." detail, 1-3 digits each. */
static bool status_ok(const char *s)
{
	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			s++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return false;
		if (part == 0 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

/* The length of the original's header section including the empty line (or
 * the whole text when it has no body). */
static size_t header_length(const char *msg, size_t len)
{
	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 2;
	for (size_t i = 0; i + 3 < len; i++) {
		if (msg[i] == '\r' && msg[i + 1] == '\n' && msg[i + 2] == '\r' && msg[i + 3] == '\n')
			return i + 4;
	}
	return len;
}

/* Whether every line of text is at most 998 octets (without the CRLF). */
static bool lines_short(const char *s, size_t len)
{
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			line = 0;
			continue;
		}
		if (s[i] != '\r' && ++line > LINE_MAX_OCTETS)
			return false;
	}
	return true;
}

/* Does needle occur in hay? (memmem, written out to stay within C11.) */
static bool contains(const char *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0 || n > haylen)
		return false;
	for (size_t i = 0; i + n <= haylen; i++) {
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return true;
	}
	return false;
}

/* A random boundary; "=_" cannot start a quoted-printable or base64 line, and
 * any collision with the content is checked and retried. */
static void make_boundary(char *out, size_t outlen, const struct buf *parts,
			  const char *orig, size_t origlen, time_t now)
{
	for (unsigned attempt = 0;; attempt++) {
		unsigned char rnd[12];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			/* No entropy: a counter and the time are still unique
			 * enough, since the content check below is what matters. */
			for (size_t i = 0; i < sizeof(rnd); i++)
				rnd[i] = (unsigned char)((uint64_t)now >> (8 * (i % 8))) ^
					 (unsigned char)(attempt * 131 + i);
		}
		int n = snprintf(out, outlen, "=_cairn-dsn-");
		for (size_t i = 0; i < sizeof(rnd) && (size_t)n + 3 < outlen; i++)
			n += snprintf(out + n, outlen - (size_t)n, "%02x", rnd[i]);
		if (!contains(parts->data, parts->len, out) &&
		    (orig == NULL || !contains(orig, origlen, out)))
			return;
	}
}

/* Plain-language text for one recipient in the first part. */
static void describe(struct buf *out, const struct dsn_recipient *rc, const char *diag)
{
	buf_printf(out, "<%s>: ", rc->address);
	if (strcmp(rc->action, "failed") == 0)
		buf_append_str(out, "delivery failed permanently");
	else if (strcmp(rc->action, "delayed") == 0)
		buf_append_str(out, "delivery is delayed; the mail system keeps trying");
	else if (strcmp(rc->action, "delivered") == 0)
		buf_append_str(out, "delivered to the recipient's mailbox");
	else if (strcmp(rc->action, "relayed") == 0)
		buf_append_str(out, "relayed to a system that does not report delivery");
	else
		buf_append_str(out, "delivered and forwarded to further addresses");
	if (rc->remote_mta != NULL)
		buf_printf(out, "\r\n    host %s", rc->remote_mta);
	if (diag[0] != '\0')
		buf_printf(out, " said:\r\n    %s", diag);
	else
		buf_printf(out, " (status %s)", rc->status);
	buf_append_str(out, "\r\n\r\n");
}

static int build(const struct dsn_report *r, struct buf *out, const char **error_r);

int dsn_build(const struct dsn_report *r, struct buf *out, const char **error_r)
{
	/* Built whole in an unlimited buffer, then appended at once, so a
	 * limited out either gets the complete report or nothing. */
	struct buf msg;
	buf_init(&msg, 0);
	int ret = build(r, &msg, error_r);
	if (ret == 0 && buf_append(out, msg.data, msg.len) < 0) {
		*error_r = "DSN: the report does not fit in the output buffer";
		ret = -1;
	}
	buf_free(&msg);
	return ret;
}

static int build(const struct dsn_report *r, struct buf *out, const char **error_r)
{
	if (r->reporting_mta == NULL || r->from == NULL || r->to == NULL ||
	    r->message_id == NULL || r->rcpts == NULL || r->nrcpts == 0) {
		*error_r = "DSN: reporting MTA, From, To, Message-ID and a recipient are required";
		return -1;
	}
	if (r->to[0] == '\0') {
		*error_r = "DSN: the null sender <> never gets a report (RFC 3464 section 2)";
		return -1;
	}
	if (!value_ok(r->reporting_mta, false) || !value_ok(r->from, r->utf8) ||
	    !value_ok(r->to, r->utf8) || !value_ok(r->message_id, false) ||
	    (r->envid != NULL && !value_ok(r->envid, false))) {
		*error_r = "DSN: control or non-ASCII character in a header value";
		return -1;
	}
	bool failed = false, delayed = false;
	for (size_t i = 0; i < r->nrcpts; i++) {
		const struct dsn_recipient *rc = &r->rcpts[i];
		if (rc->address == NULL || rc->action == NULL || rc->status == NULL) {
			*error_r = "DSN: a recipient without address, action or status";
			return -1;
		}
		if (!action_known(rc->action)) {
			*error_r = "DSN: unknown recipient action";
			return -1;
		}
		if (!status_ok(rc->status)) {
			*error_r = "DSN: recipient status is not an RFC 3463 code";
			return -1;
		}
		if (!value_ok(rc->address, r->utf8) ||
		    (rc->orcpt != NULL && !value_ok(rc->orcpt, r->utf8)) ||
		    (rc->remote_mta != NULL && !value_ok(rc->remote_mta, false)) ||
		    strlen(rc->address) > VALUE_MAX ||
		    (rc->orcpt != NULL && strlen(rc->orcpt) > VALUE_MAX)) {
			*error_r = "DSN: bad character or length in a recipient field";
			return -1;
		}
		failed = failed || strcmp(rc->action, "failed") == 0;
		delayed = delayed || strcmp(rc->action, "delayed") == 0;
	}

	char date[64];
	struct buf text, status;
	buf_init(&text, 0);
	buf_init(&status, 0);

	/* Part 1: for people. */
	buf_printf(&text, "This is the mail system at host %s.\r\n\r\n", r->reporting_mta);
	if (failed)
		buf_append_str(&text, "I'm sorry to have to inform you that your message could not\r\n"
				      "be delivered to one or more recipients. The details are below.\r\n\r\n");
	else if (delayed)
		buf_append_str(&text, "Your message could not be delivered yet to one or more\r\n"
				      "recipients. The mail system keeps trying; you do not need\r\n"
				      "to send it again.\r\n\r\n");
	else
		buf_append_str(&text, "Your message was successfully delivered as listed below.\r\n\r\n");
	bool text_8bit = false;
	for (size_t i = 0; i < r->nrcpts; i++) {
		const struct dsn_recipient *rc = &r->rcpts[i];
		char diag[VALUE_MAX + 1] = "";
		if (rc->diagnostic != NULL)
			clean_text(rc->diagnostic, r->utf8, diag, sizeof(diag));
		describe(&text, rc, diag);
		if (rc->will_retry_until != 0 && strcmp(rc->action, "delayed") == 0) {
			format_date(rc->will_retry_until, date, sizeof(date));
			buf_printf(&text, "    The mail system gives up on <%s> after %s.\r\n\r\n",
				   rc->address, date);
		}
	}
	text_8bit = has_8bit(text.data, text.len);

	/* Part 2: for programs (RFC 3464 section 2.2 and 2.3). */
	buf_printf(&status, "Reporting-MTA: dns; %s\r\n", r->reporting_mta);
	if (r->envid != NULL)
		put_field(&status, "Original-Envelope-Id", r->envid);
	if (r->arrival != 0) {
		format_date(r->arrival, date, sizeof(date));
		put_field(&status, "Arrival-Date", date);
	}
	for (size_t i = 0; i < r->nrcpts; i++) {
		const struct dsn_recipient *rc = &r->rcpts[i];
		char value[VALUE_MAX + 32];
		buf_append_str(&status, "\r\n");
		if (rc->orcpt != NULL)
			put_field(&status, "Original-Recipient", rc->orcpt);
		/* RFC 6533 section 3: "utf-8" is the address type of a
		 * non-ASCII address. */
		snprintf(value, sizeof(value), "%s; %s",
			 has_8bit(rc->address, strlen(rc->address)) ? "utf-8" : "rfc822", rc->address);
		put_field(&status, "Final-Recipient", value);
		buf_printf(&status, "Action: %s\r\n", rc->action);
		buf_printf(&status, "Status: %s\r\n", rc->status);
		if (rc->remote_mta != NULL) {
			snprintf(value, sizeof(value), "dns; %s", rc->remote_mta);
			put_field(&status, "Remote-MTA", value);
		}
		if (rc->diagnostic != NULL) {
			char diag[VALUE_MAX + 1];
			clean_text(rc->diagnostic, r->utf8, diag, sizeof(diag));
			if (diag[0] != '\0') {
				snprintf(value, sizeof(value), "smtp; %s", diag);
				put_field(&status, "Diagnostic-Code", value);
			}
		}
		if (rc->last_attempt != 0) {
			format_date(rc->last_attempt, date, sizeof(date));
			put_field(&status, "Last-Attempt-Date", date);
		}
		if (rc->will_retry_until != 0 && strcmp(rc->action, "delayed") == 0) {
			format_date(rc->will_retry_until, date, sizeof(date));
			put_field(&status, "Will-Retry-Until", date);
		}
	}

	/* Part 3: the message, or its header when RET=HDRS, when too big, or
	 * when it has lines no relay would pass. */
	const char *orig = r->original;
	size_t origlen = r->original != NULL ? r->original_len : 0;
	size_t hdrlen = header_length(orig != NULL ? orig : "", origlen);
	bool full = r->return_full && origlen > 0 &&
		    (r->max_original == 0 || origlen <= r->max_original) && lines_short(orig, origlen);
	size_t partlen = full ? origlen : hdrlen;
	bool include = origlen > 0 && lines_short(orig, hdrlen);

	struct buf both;
	buf_init(&both, 0);
	buf_append(&both, text.data, text.len);
	buf_append(&both, status.data, status.len);
	char boundary[64];
	make_boundary(boundary, sizeof(boundary), &both, include ? orig : NULL,
		      include ? partlen : 0, r->now);
	buf_free(&both);

	/* The report's header. */
	char subject[64];
	snprintf(subject, sizeof(subject), "%s",
		 failed ? "Undelivered Mail Returned to Sender" :
		 delayed ? "Delayed Mail (still being retried)" : "Successful Mail Delivery Report");
	format_date(r->now, date, sizeof(date));
	char value[VALUE_MAX + 64];
	snprintf(value, sizeof(value), "Mail Delivery System <%s>", r->from);
	put_field(out, "From", value);
	snprintf(value, sizeof(value), "<%s>", r->to);
	put_field(out, "To", value);
	put_field(out, "Subject", subject);
	put_field(out, "Date", date);
	put_field(out, "Message-ID", r->message_id);
	buf_append_str(out, "Auto-Submitted: auto-replied\r\n");
	buf_append_str(out, "MIME-Version: 1.0\r\n");
	buf_printf(out, "Content-Type: multipart/report; report-type=%s;\r\n\tboundary=\"%s\"\r\n",
		   r->utf8 ? "global-delivery-status" : "delivery-status", boundary);
	buf_append_str(out, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");

	buf_printf(out, "--%s\r\n", boundary);
	buf_printf(out, "Content-Description: Notification\r\n"
			"Content-Type: text/plain; charset=%s\r\n"
			"Content-Transfer-Encoding: %s\r\n\r\n",
		   text_8bit ? "utf-8" : "us-ascii", text_8bit ? "8bit" : "7bit");
	buf_append(out, text.data, text.len);

	bool status_8bit = has_8bit(status.data, status.len);
	buf_printf(out, "--%s\r\n", boundary);
	buf_printf(out, "Content-Description: Delivery report\r\n"
			"Content-Type: message/%s\r\n",
		   r->utf8 ? "global-delivery-status" : "delivery-status");
	if (status_8bit)
		buf_append_str(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_append_str(out, "\r\n");
	buf_append(out, status.data, status.len);
	buf_append_str(out, "\r\n");

	if (include) {
		bool part_8bit = has_8bit(orig, partlen);
		buf_printf(out, "--%s\r\n", boundary);
		buf_printf(out, "Content-Description: %s\r\n"
				"Content-Type: %s\r\n",
			   full ? "Undelivered Message" : "Undelivered Message Headers",
			   full ? (r->utf8 ? "message/global" : "message/rfc822")
				: (r->utf8 ? "message/global-headers" : "text/rfc822-headers"));
		if (part_8bit)
			buf_append_str(out, "Content-Transfer-Encoding: 8bit\r\n");
		buf_append_str(out, "\r\n");
		buf_append(out, orig, partlen);
		if (partlen < 2 || orig[partlen - 2] != '\r' || orig[partlen - 1] != '\n')
			buf_append_str(out, "\r\n");
	}
	buf_printf(out, "--%s--\r\n", boundary);
	buf_free(&text);
	buf_free(&status);
	return 0;
}
