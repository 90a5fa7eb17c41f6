/* Outbound iMIP (RFC 6047): one iTIP message becomes a mail message,
 *   multipart/mixed
 *     multipart/alternative
 *       text/plain; charset=UTF-8 (what, when, where, who; quoted-printable)
 *       text/calendar; method=M; charset=UTF-8 (7bit or quoted-printable)
 *     application/ics; name="invite.ics" (base64, as Outlook and Google send)
 * queued with the store's Sieve-stage queue insert (store_sieve_deliver_locked)
 * inside the caller's transaction, so it leaves only if the calendar change
 * commits; pg_notify at commit wakes the runners, which DKIM-sign it. */
#include "autoconf.h"
#include "imip.h"
#include "config.h"
#include "ical-private.h"
#include "itip.h"
#include "log.h"
#include "mime-imip.h"
#include "store-imip.h"
#include "store-sieve.h"
#include "store.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IMIP_ADDRESS_MAX 320

static _Thread_local bool suppress_auto;

bool imip_suppress_auto(bool suppress)
{
	bool prev = suppress_auto;
	suppress_auto = suppress;
	return prev;
}

/* A bare address we can put in a header and an envelope. */
static bool address_ok(const char *a)
{
	if (a == NULL || a[0] == '\0' || strlen(a) > IMIP_ADDRESS_MAX)
		return false;
	const char *at = strrchr(a, '@');
	if (at == NULL || at == a || at[1] == '\0')
		return false;
	for (const char *p = a; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"' || *p == '(' ||
		    *p == ')' || *p == ',' || *p == ';' || *p == '\\' || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

/* "mailto:x" or "x" -> x (borrowed). */
static const char *strip_mailto(const char *v)
{
	return v != NULL && str_ncasecmp(v, "mailto:", 7) == 0 ? v + 7 : v;
}

/* What the readable part says, read from the VCALENDAR with libical. */
struct summary {
	icalcomponent *cal;
	icalcomponent *comp;	/* the master (or first) VEVENT/VTODO/... */
	const char *summary, *location, *description;
	const char *organizer_cn, *organizer;
	int sequence;
	const char *reply_partstat;	/* REPLY: the one attendee's PARTSTAT */
	const char *reply_cn, *reply_address;
};

static const char *param_text(icalproperty *p, icalparameter_kind kind)
{
	icalparameter *par = icalproperty_get_first_parameter(p, kind);
	if (par == NULL)
		return NULL;
	switch (kind) {
	case ICAL_CN_PARAMETER:
		return icalparameter_get_cn(par);
	case ICAL_TZID_PARAMETER:
		return icalparameter_get_tzid(par);
	default:
		return NULL;
	}
}

static const char *partstat_name(icalproperty *p)
{
	icalparameter *par = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
	if (par == NULL)
		return "NEEDS-ACTION";
	switch (icalparameter_get_partstat(par)) {
	case ICAL_PARTSTAT_ACCEPTED: return "ACCEPTED";
	case ICAL_PARTSTAT_DECLINED: return "DECLINED";
	case ICAL_PARTSTAT_TENTATIVE: return "TENTATIVE";
	case ICAL_PARTSTAT_DELEGATED: return "DELEGATED";
	case ICAL_PARTSTAT_COMPLETED: return "COMPLETED";
	case ICAL_PARTSTAT_INPROCESS: return "IN-PROCESS";
	default: return "NEEDS-ACTION";
	}
}

static void summary_read(struct summary *s, const char *data, size_t len)
{
	memset(s, 0, sizeof(s[0]));
	ical_lib_init();
	char *text = xstrndup(data, len);
	s->cal = icalparser_parse_string(text);
	free(text);
	if (s->cal == NULL)
		return;
	icalcomponent *first = NULL;
	for (icalcomponent *c = icalcomponent_get_first_component(s->cal, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(s->cal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind k = icalcomponent_isa(c);
		if (k != ICAL_VEVENT_COMPONENT && k != ICAL_VTODO_COMPONENT &&
		    k != ICAL_VJOURNAL_COMPONENT && k != ICAL_VFREEBUSY_COMPONENT)
			continue;
		if (first == NULL)
			first = c;
		if (icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY) == NULL) {
			first = c;
			break;
		}
	}
	s->comp = first;
	if (first == NULL)
		return;
	icalproperty *p;
	if ((p = icalcomponent_get_first_property(first, ICAL_SUMMARY_PROPERTY)) != NULL)
		s->summary = icalproperty_get_summary(p);
	if ((p = icalcomponent_get_first_property(first, ICAL_LOCATION_PROPERTY)) != NULL)
		s->location = icalproperty_get_location(p);
	if ((p = icalcomponent_get_first_property(first, ICAL_DESCRIPTION_PROPERTY)) != NULL)
		s->description = icalproperty_get_description(p);
	if ((p = icalcomponent_get_first_property(first, ICAL_SEQUENCE_PROPERTY)) != NULL)
		s->sequence = icalproperty_get_sequence(p);
	if ((p = icalcomponent_get_first_property(first, ICAL_ORGANIZER_PROPERTY)) != NULL) {
		s->organizer = strip_mailto(icalproperty_get_organizer(p));
		s->organizer_cn = param_text(p, ICAL_CN_PARAMETER);
	}
	if ((p = icalcomponent_get_first_property(first, ICAL_ATTENDEE_PROPERTY)) != NULL) {
		s->reply_partstat = partstat_name(p);
		s->reply_cn = param_text(p, ICAL_CN_PARAMETER);
		s->reply_address = strip_mailto(icalproperty_get_attendee(p));
	}
}

static void summary_free(struct summary *s)
{
	if (s->cal != NULL)
		icalcomponent_free(s->cal);
	memset(s, 0, sizeof(*s));
}

/* "2026-12-10 10:00 (Europe/Paris)", "2026-12-10 (all day)", "... UTC". */
static void when_text(icalproperty *p, struct buf *out)
{
	struct icaltimetype t = icalproperty_get_datetime_with_component(p, NULL);
	if (icaltime_is_null_time(t)) {
		buf_append_str(out, "?");
		return;
	}
	if (t.is_date) {
		buf_printf(out, "%04d-%02d-%02d (all day)", t.year, t.month, t.day);
		return;
	}
	buf_printf(out, "%04d-%02d-%02d %02d:%02d", t.year, t.month, t.day, t.hour, t.minute);
	const char *tzid = param_text(p, ICAL_TZID_PARAMETER);
	if (tzid != NULL)
		buf_printf(out, " (%s)", tzid);
	else if (icaltime_is_utc(t))
		buf_append_str(out, " UTC");
}

static const char *verb(enum itip_method m, const struct summary *s)
{
	switch (m) {
	case ITIP_REQUEST:
		return s->sequence > 0 ? "updated the invitation to" : "invited you to";
	case ITIP_CANCEL:
		return "cancelled";
	case ITIP_ADD:
		return "added instances to";
	case ITIP_REFRESH:
		return "asks for the latest version of";
	case ITIP_COUNTER:
		return "proposes a change to";
	case ITIP_DECLINECOUNTER:
		return "declined your proposed change to";
	case ITIP_PUBLISH:
		return "published";
	case ITIP_REPLY:
		break;
	}
	const char *ps = s->reply_partstat != NULL ? s->reply_partstat : "";
	return strcmp(ps, "ACCEPTED") == 0 ? "accepted" : strcmp(ps, "DECLINED") == 0 ?
	       "declined" : strcmp(ps, "TENTATIVE") == 0 ? "tentatively accepted" :
	       strcmp(ps, "DELEGATED") == 0 ? "delegated" : "replied to";
}

/* The Subject: per method (and the REPLY's PARTSTAT). */
static char *subject_of(enum itip_method m, const struct summary *s, const char *title)
{
	const char *prefix;
	switch (m) {
	case ITIP_REQUEST:
		prefix = s->sequence > 0 ? "Updated invitation" : "Invitation";
		break;
	case ITIP_CANCEL:
		prefix = "Cancelled";
		break;
	case ITIP_ADD:
		prefix = "Updated invitation";
		break;
	case ITIP_REFRESH:
		prefix = "Refresh request";
		break;
	case ITIP_COUNTER:
		prefix = "New time proposed";
		break;
	case ITIP_DECLINECOUNTER:
		prefix = "Proposal declined";
		break;
	case ITIP_PUBLISH:
		prefix = "Event";
		break;
	case ITIP_REPLY:
	default: {
		const char *ps = s->reply_partstat != NULL ? s->reply_partstat : "";
		prefix = strcmp(ps, "ACCEPTED") == 0 ? "Accepted" : strcmp(ps, "DECLINED") == 0 ?
			 "Declined" : strcmp(ps, "TENTATIVE") == 0 ? "Tentative" :
			 strcmp(ps, "DELEGATED") == 0 ? "Delegated" : "Reply";
		break;
	}
	}
	return xasprintf("%s: %s", prefix, title);
}

/* The readable text/plain part (UTF-8, LF lines; QP-encoded later). */
static void text_part(enum itip_method m, const struct summary *s, const char *title,
		      const char *from, struct buf *out)
{
	const char *who = from;
	if (m == ITIP_REPLY || m == ITIP_REFRESH || m == ITIP_COUNTER) {
		if (s->reply_cn != NULL && s->reply_cn[0] != '\0')
			who = s->reply_cn;
	} else if (s->organizer_cn != NULL && s->organizer_cn[0] != '\0') {
		who = s->organizer_cn;
	}
	buf_printf(out, "%s has %s: %s\n\n", who, verb(m, s), title);
	if (s->comp != NULL) {
		icalproperty *p;
		if ((p = icalcomponent_get_first_property(s->comp, ICAL_DTSTART_PROPERTY)) != NULL) {
			buf_append_str(out, "When:      ");
			when_text(p, out);
			if ((p = icalcomponent_get_first_property(s->comp, ICAL_DTEND_PROPERTY)) != NULL ||
			    (p = icalcomponent_get_first_property(s->comp, ICAL_DUE_PROPERTY)) != NULL) {
				buf_append_str(out, " - ");
				when_text(p, out);
			}
			buf_append_str(out, "\n");
		}
		if ((p = icalcomponent_get_first_property(s->comp, ICAL_RRULE_PROPERTY)) != NULL) {
			struct icalrecurrencetype r = icalproperty_get_rrule(p);
			char *rs = icalrecurrencetype_as_string_r(&r);
			if (rs != NULL) {
				buf_printf(out, "Repeats:   %s\n", rs);
				icalmemory_free_buffer(rs);
			}
		}
		if (s->location != NULL && s->location[0] != '\0')
			buf_printf(out, "Where:     %s\n", s->location);
		if (s->organizer != NULL) {
			if (s->organizer_cn != NULL && s->organizer_cn[0] != '\0')
				buf_printf(out, "Organizer: %s <%s>\n", s->organizer_cn, s->organizer);
			else
				buf_printf(out, "Organizer: %s\n", s->organizer);
		}
		bool head = false;
		unsigned shown = 0, total = 0;
		for (p = icalcomponent_get_first_property(s->comp, ICAL_ATTENDEE_PROPERTY); p != NULL;
		     p = icalcomponent_get_next_property(s->comp, ICAL_ATTENDEE_PROPERTY)) {
			total++;
			if (shown >= 50)
				continue;
			if (!head) {
				buf_append_str(out, "Who:\n");
				head = true;
			}
			const char *cn = param_text(p, ICAL_CN_PARAMETER);
			const char *a = strip_mailto(icalproperty_get_attendee(p));
			if (cn != NULL && cn[0] != '\0')
				buf_printf(out, "  - %s <%s> (%s)\n", cn, a != NULL ? a : "", partstat_name(p));
			else
				buf_printf(out, "  - %s (%s)\n", a != NULL ? a : "", partstat_name(p));
			shown++;
		}
		if (total > shown)
			buf_printf(out, "  ... and %u more\n", total - shown);
		if (s->description != NULL && s->description[0] != '\0' && m != ITIP_REPLY)
			buf_printf(out, "\n%s\n", s->description);
	}
	buf_append_str(out, "\nThis message carries an iCalendar object (RFC 6047); "
			    "your calendar program can add it to your calendar");
	buf_append_str(out, m == ITIP_REQUEST ? " and answer it.\n" : ".\n");
}

static char *make_boundary(const char *kind)
{
	static atomic_uint_fast64_t seq;
	unsigned char rnd[9];
	if (getentropy(rnd, sizeof(rnd)) != 0)
		memset(rnd, 0x5a, sizeof(rnd));
	return xasprintf("=_cairn-%s-%02x%02x%02x%02x%02x%02x%02x%02x%02x-%lx", kind, rnd[0],
			 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8],
			 (unsigned long)atomic_fetch_add(&seq, 1));
}

static void rfc5322_date(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	snprintf(out, size, "%s, %d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The whole message (CRLF) into out. */
static void compose(const struct config *cfg, const char *from, const char *sent_by,
		    const char *recipient, const struct itip_out *msg, const char *summary,
		    bool automatic, struct buf *out)
{
	struct summary s;
	summary_read(&s, msg->data, msg->len);
	const char *title = summary != NULL && summary[0] != '\0' ? summary :
			    s.summary != NULL && s.summary[0] != '\0' ? s.summary : "(no title)";
	const char *method = itip_method_name(msg->method);
	if (method == NULL)
		method = "REQUEST";
	char date[64];
	rfc5322_date(date, sizeof(date));
	const char *from_cn = NULL;
	if (msg->method == ITIP_REPLY || msg->method == ITIP_REFRESH ||
	    msg->method == ITIP_COUNTER) {
		if (s.reply_address != NULL && str_casecmp(s.reply_address, from) == 0)
			from_cn = s.reply_cn;
	} else if (s.organizer != NULL && str_casecmp(s.organizer, from) == 0) {
		from_cn = s.organizer_cn;
	}
	buf_printf(out, "Date: %s\r\n", date);
	imip_header_mailbox("From", from_cn, from, out);
	if (sent_by != NULL && sent_by[0] != '\0' && str_casecmp(sent_by, from) != 0)
		imip_header_mailbox("Sender", NULL, sent_by, out);
	imip_header_mailbox("To", NULL, recipient, out);
	char *subject = subject_of(msg->method, &s, title);
	imip_header("Subject", subject, out);
	free(subject);
	static atomic_uint_fast64_t seq;
	buf_printf(out, "Message-ID: <imip.%lx.%lx.%lx@%s>\r\n", (unsigned long)time(NULL),
		   (unsigned long)getpid(), (unsigned long)atomic_fetch_add(&seq, 1),
		   cfg->server.hostname);
	if (automatic)
		buf_append_str(out, "Auto-Submitted: auto-generated\r\n");
	char *outer = make_boundary("mixed");
	char *inner = make_boundary("alt");
	buf_printf(out, "MIME-Version: 1.0\r\n"
			"Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n"
			"This is a multi-part message in MIME format.\r\n\r\n"
			"--%s\r\n"
			"Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", outer, outer,
		   inner);
	struct buf text;
	buf_init(&text, 0);
	text_part(msg->method, &s, title, from, &text);
	buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n\r\n", inner);
	imip_qp_encode(text.data != NULL ? text.data : "", text.len, out);
	buf_free(&text);
	bool seven = imip_is_7bit(msg->data, msg->len);
	buf_printf(out, "\r\n--%s\r\nContent-Type: text/calendar; method=%s; charset=UTF-8\r\n"
			"Content-Transfer-Encoding: %s\r\n\r\n", inner, method,
		   seven ? "7bit" : "quoted-printable");
	if (seven) {
		/* normalise bare LF to CRLF */
		for (size_t i = 0; i < msg->len; i++) {
			if (msg->data[i] == '\n' && (i == 0 || msg->data[i - 1] != '\r'))
				buf_append(out, "\r", 1);
			buf_append(out, msg->data + i, 1);
		}
		if (msg->len > 0 && msg->data[msg->len - 1] != '\n')
			buf_append(out, "\r\n", 2);
	} else {
		imip_qp_encode(msg->data, msg->len, out);
	}
	buf_printf(out, "\r\n--%s--\r\n\r\n--%s\r\n"
			"Content-Type: application/ics; name=\"invite.ics\"\r\n"
			"Content-Disposition: attachment; filename=\"invite.ics\"\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n", inner, outer);
	imip_base64_lines(msg->data, msg->len, out);
	buf_printf(out, "\r\n--%s--\r\n", outer);
	free(outer);
	free(inner);
	summary_free(&s);
}

/* The SEQUENCE of the first component, for the automatic replies' cap. */
static int sequence_of(const char *data, size_t len)
{
	for (size_t i = 0; i + 9 < len; i++) {
		if ((i == 0 || data[i - 1] == '\n') && str_ncasecmp(data + i, "SEQUENCE:", 9) == 0) {
			long v = strtol(data + i + 9, NULL, 10);
			return v < 0 || v > 1000000000 ? 0 : (int)v;
		}
	}
	return 0;
}

static const char *uid_of(const char *data, size_t len, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i + 4 < len; i++) {
		if ((i == 0 || data[i - 1] == '\n') && str_ncasecmp(data + i, "UID:", 4) == 0) {
			size_t n = 0;
			for (size_t k = i + 4; k < len && data[k] != '\r' && data[k] != '\n' &&
			     n + 1 < size; k++)
				out[n++] = (unsigned char)data[k] < 0x20 || data[k] == '"' ||
						   data[k] == '\\' ? '_' : data[k];
			out[n] = '\0';
			break;
		}
	}
	return out;
}

int imip_send_ex(struct store *st, const struct config *cfg, const char *from,
		 const char *sent_by, const char *recipient, const struct itip_out *msg,
		 const char *summary, unsigned flags, const char **error_r)
{
	*error_r = NULL;
	if (!address_ok(from) || !address_ok(recipient) ||
	    (sent_by != NULL && sent_by[0] != '\0' && !address_ok(sent_by)) || msg == NULL ||
	    msg->data == NULL || msg->len == 0) {
		*error_r = "iMIP: invalid address or empty message";
		return STORE_INVALID;
	}
	bool automatic = (flags & IMIP_SEND_AUTO) != 0;
	const char *method = itip_method_name(msg->method);
	char uid[256];
	uid_of(msg->data, msg->len, uid, sizeof(uid));
	if (automatic && suppress_auto) {
		log_info("imip event=auto-reply-suppressed from=<%s> to=<%s> method=%s uid=\"%s\" "
			 "reason=\"the message answered must not be answered automatically\"",
			 from, recipient, method != NULL ? method : "?", uid);
		return STORE_OK;
	}
	if (automatic) {
		char *handle = xasprintf("%s/%d/%s", uid, sequence_of(msg->data, msg->len),
					 method != NULL ? method : "?");
		bool allowed = false;
		int ret = store_imip_auto_claim(st, from, recipient, handle,
						cfg->imip.auto_reply_period_ms / 1000, &allowed,
						error_r);
		free(handle);
		if (ret != STORE_OK)
			return ret;
		if (!allowed) {
			log_info("imip event=auto-reply-capped from=<%s> to=<%s> method=%s uid=\"%s\"",
				 from, recipient, method != NULL ? method : "?", uid);
			return STORE_OK;
		}
	}
	struct buf data;
	buf_init(&data, 0);
	compose(cfg, from, sent_by, recipient, msg, summary, automatic, &data);
	struct store_deliver_rcpt rcpt = { .address = recipient };
	struct store_sieve_out out = {
		/* automatic answers go from <> (RFC 3834 3.3), invitations
		 * from the organizer, who wants to hear of a bounce */
		.from = automatic ? "" : sent_by != NULL && sent_by[0] != '\0' ? sent_by : from,
		.data = data.data, .size = data.len, .rcpts = &rcpt, .nrcpts = 1,
		.body = "7BIT", .target = SIZE_MAX,
	};
	struct store_sieve_txn txn = { .outs = &out, .nouts = 1 };
	int ret = store_sieve_deliver_locked(st, &txn);
	if (ret == STORE_OK && txn.queued)
		ret = store_imip_queue_notify(st, error_r);
	else if (ret != STORE_OK)
		*error_r = "iMIP: queueing failed";
	if (ret == STORE_OK)
		log_info("imip event=queued from=<%s> to=<%s> method=%s uid=\"%s\" size=%zu%s", from,
			 recipient, method != NULL ? method : "?", uid, data.len,
			 automatic ? " auto=yes" : "");
	buf_free(&data);
	return ret;
}

int imip_send(struct store *st, const struct config *cfg, const char *from, const char *sent_by,
	      const char *recipient, const struct itip_out *msg, const char *summary,
	      const char **error_r)
{
	return imip_send_ex(st, cfg, from, sent_by, recipient, msg, summary, 0, error_r);
}

int imip_send_auto(struct store *st, const struct config *cfg, const char *from,
		   const char *sent_by, const char *recipient, const struct itip_out *msg,
		   const char *summary, const char **error_r)
{
	return imip_send_ex(st, cfg, from, sent_by, recipient, msg, summary, IMIP_SEND_AUTO,
			    error_r);
}
