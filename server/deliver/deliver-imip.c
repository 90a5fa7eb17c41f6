/* Inbound iMIP: deliver.c's iMIP hook. Before the delivery transaction the
 * message is parsed (MIME, the calendar part, iTIP), the sender checked and
 * the loop-prevention fields read; inside it, once the INBOX copies are
 * stored, every local recipient that got a copy has the iTIP message
 * delivered to its calendars by sched_deliver (SCHED_ORIGIN_IMIP), in a
 * savepoint of the delivery transaction (store_deliver_run_after): a
 * failure there never costs the mail. */
#include "autoconf.h"
#include "deliver-imip.h"
#include "deliver.h"
#include "config.h"
#include "directory.h"
#include "imip.h"
#include "itip.h"
#include "log.h"
#include "mime-imip.h"
#include "schedule.h"
#include "store.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct config *g_cfg;

/* One message's iTIP, checked. */
struct imip_in {
	struct itip_message *msg;
	char *from;		/* the From: address, lower-case */
	char *identity;		/* who it speaks for, to sched_deliver: from, or
				 * the organizer named in Sender: */
	bool verified;		/* DMARC (or authenticated submission) vouches for it */
	const char *no_reply;	/* why no automatic answer may go out, or NULL */
	char uid[128];		/* for the log */
};

static void imip_in_free(void *ptr)
{
	struct imip_in *in = ptr;
	if (in == NULL)
		return;
	itip_free(&in->msg);
	free(in->from);
	free(in->identity);
	free(in);
}

static bool addr_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && str_casecmp(a, b) == 0;
}

/* The identity the message claims: the ORGANIZER for what organizers send,
 * the one ATTENDEE for what attendees send; each with its SENT-BY. */
static bool from_matches(const struct itip_message *m, const char *from, const char **who_r)
{
	switch (itip_method(m)) {
	case ITIP_REPLY:
	case ITIP_REFRESH:
	case ITIP_COUNTER:
		*who_r = "ATTENDEE";
		return addr_eq(itip_sender(m), from) || addr_eq(itip_sender_sent_by(m), from);
	case ITIP_REQUEST:
	case ITIP_ADD:
	case ITIP_CANCEL:
	case ITIP_DECLINECOUNTER:
	case ITIP_PUBLISH:
		*who_r = "ORGANIZER";
		return addr_eq(itip_organizer(m), from) || addr_eq(itip_organizer_sent_by(m), from);
	}
	*who_r = "?";
	return false;
}

/* An organizer's message may name it in Sender: instead of From: (sent on
 * its behalf), when both are of one domain, the one DMARC checks. */
static bool sender_matches(const struct itip_message *m, const char *data, size_t size,
			   const char *from, char **identity_r)
{
	enum itip_method meth = itip_method(m);
	if (meth == ITIP_REPLY || meth == ITIP_REFRESH || meth == ITIP_COUNTER)
		return false;
	struct deliver_from f;
	if (deliver_from_parse(data, size, &f) < 0)
		return false;
	const char *fa = strrchr(from, '@');
	const char *sa = f.sender != NULL ? strrchr(f.sender, '@') : NULL;
	bool ok = sa != NULL && fa != NULL && str_casecmp(sa, fa) == 0 &&
		  addr_eq(itip_organizer(m), f.sender);
	if (ok)
		*identity_r = xstrdup(f.sender);
	deliver_from_free(&f);
	return ok;
}

static const char *dmarc_name(enum deliver_dmarc d)
{
	switch (d) {
	case DELIVER_DMARC_NONE: return "none";
	case DELIVER_DMARC_PASS: return "pass";
	case DELIVER_DMARC_FAIL: return "fail";
	case DELIVER_DMARC_TEMPERROR: return "temperror";
	case DELIVER_DMARC_PERMERROR: return "permerror";
	case DELIVER_DMARC_UNKNOWN: break;
	}
	return "unknown";
}

/* deliver_after_fn: inside the delivery transaction. */
static int imip_after(struct store *st, void *ctx, const char *const *accounts, size_t n)
{
	struct imip_in *in = ctx;
	const char *method = itip_method_name(itip_method(in->msg));
	for (size_t i = 0; i < n; i++) {
		if (addr_eq(accounts[i], in->from)) {
			/* our own message coming back: the calendar already has it */
			log_info("imip event=ignored user=%s from=<%s> method=%s uid=\"%s\" "
				 "reason=\"from the recipient itself\"", accounts[i], in->from, method,
				 in->uid);
			continue;
		}
		char status[16] = "";
		const char *error = NULL;
		bool prev = imip_suppress_auto(in->no_reply != NULL);
		int ret = sched_deliver(st, g_cfg, accounts[i], in->msg, SCHED_ORIGIN_IMIP,
					in->identity, in->verified, status, &error);
		imip_suppress_auto(prev);
		if (ret != STORE_OK) {
			log_warn("imip event=deliver-failed user=%s from=<%s> method=%s uid=\"%s\" "
				 "result=\"%s\" reason=\"%s\"", accounts[i], in->from, method, in->uid,
				 store_result_str(ret), error != NULL ? error : "?");
			return ret;
		}
		log_info("imip event=delivered user=%s from=<%s> method=%s uid=\"%s\" status=%s "
			 "verified=%s%s%s", accounts[i], in->from, method, in->uid,
			 status[0] != '\0' ? status : "?", in->verified ? "yes" : "no",
			 in->no_reply != NULL ? " no-auto-reply=" : "",
			 in->no_reply != NULL ? in->no_reply : "");
	}
	return STORE_OK;
}

/* A printable copy of s for the log (quotes and controls replaced). */
static void log_copy(const char *s, char *out, size_t size)
{
	size_t n = 0;
	for (; s != NULL && s[n] != '\0' && n + 1 < size; n++)
		out[n] = (unsigned char)s[n] < 0x20 || s[n] == '"' || s[n] == '\\' ? '_' : s[n];
	out[n] = '\0';
}

/* Whether data mentions text/calendar or application/ics anywhere: a cheap
 * scan that spares the MIME parse for nearly all mail. */
static bool mentions_calendar(const char *data, size_t size)
{
	const char *p = data, *end = data + size;
	while ((p = memchr(p, '/', (size_t)(end - p))) != NULL) {
		size_t before = (size_t)(p - data), after = (size_t)(end - p - 1);
		if ((before >= 4 && after >= 8 && str_ncasecmp(p - 4, "text", 4) == 0 &&
		     str_ncasecmp(p + 1, "calendar", 8) == 0) ||
		    (before >= 11 && after >= 3 && str_ncasecmp(p - 11, "application", 11) == 0 &&
		     str_ncasecmp(p + 1, "ics", 3) == 0))
			return true;
		p++;
	}
	return false;
}

/* deliver_imip_fn */
static bool imip_hook(struct dir_handle *dh, const struct deliver_envelope *env,
		      const char *data, size_t size, deliver_after_fn **after_r, void **ctx_r,
		      void (**free_r)(void *ctx))
{
	*after_r = NULL;
	*ctx_r = NULL;
	*free_r = NULL;
	if (g_cfg == NULL || !g_cfg->imip.inbound || !mentions_calendar(data, size))
		return false;
	struct mime_message *mm = mime_parse(data, size, NULL);
	struct imip_part part;
	if (imip_find_calendar(mm, &part) < 0) {
		mime_free(&mm);
		return false;
	}
	const char *no_reply = imip_no_auto_reply(mm);
	mime_free(&mm);

	struct ical_limits lim;
	ical_limits_default(&lim);
	struct ical_error err;
	memset(&err, 0, sizeof(err));
	struct itip_message *msg = NULL;
	int pr = itip_parse(part.data.data, part.data.len, &lim, &msg, &err);
	bool method_param = part.method[0] != '\0';
	char method_param_copy[sizeof(part.method)];
	memcpy(method_param_copy, part.method, sizeof(part.method));
	imip_part_free(&part);
	if (pr < 0) {
		char why[256];
		log_copy(err.text, why, sizeof(why));
		log_info("imip event=malformed from=<%s> reason=\"%s\" action=plain-mail", env->from,
			 why);
		return false;
	}
	struct imip_in *in = xcalloc(1, sizeof(*in));
	in->msg = msg;
	log_copy(itip_uid(msg), in->uid, sizeof(in->uid));
	const char *method = itip_method_name(itip_method(msg));
	const char *refuse = NULL;
	char from[DELIVER_FROM_ADDRESS_MAX + 1];
	const char *who = "?";
	if (method_param && str_casecmp(method_param_copy, method) != 0) {
		refuse = "the Content-Type method differs from the METHOD inside (RFC 6047 2.4)";
	} else if (itip_method(msg) == ITIP_PUBLISH) {
		refuse = "PUBLISH schedules nothing";
	} else if (deliver_header_from(data, size, from, sizeof(from)) < 0) {
		refuse = "no single From: address";
	} else {
		in->from = xstrdup(from);
		if (from_matches(msg, from, &who))
			in->identity = xstrdup(from);
		else if (!sender_matches(msg, data, size, from, &in->identity))
			refuse = "neither From: nor Sender: is the iTIP sender (or its SENT-BY)";
	}
	bool submitted = false;
	if (refuse == NULL) {
		const char *at = strrchr(from, '@');
		const char *domain = at != NULL ? at + 1 : "";
		bool dmarc_here = env->dmarc != DELIVER_DMARC_UNKNOWN &&
				  str_casecmp(env->dmarc_domain, domain) == 0;
		const char *error = NULL;
		if (dmarc_here && env->dmarc == DELIVER_DMARC_PASS) {
			in->verified = true;
		} else if (dmarc_here && env->dmarc != DELIVER_DMARC_NONE) {
			refuse = "DMARC does not pass for the From: domain";
		} else if (env->listener == DELIVER_LISTENER_SUBMISSION && env->auth_user != NULL &&
			   deliver_sender_owned(dh, from, env->auth_user, &error) == DELIVER_OK) {
			in->verified = true;	/* a local user's own client sending iMIP */
			submitted = true;
		} else if (g_cfg->imip.require_dmarc_pass) {
			refuse = "DMARC did not pass ([imip] require_dmarc_pass)";
		}
		if (refuse == NULL && env->dmarc != DELIVER_DMARC_UNKNOWN && !dmarc_here &&
		    g_cfg->imip.require_dmarc_pass && !in->verified)
			refuse = "DMARC did not evaluate the From: domain";
		log_info("imip event=sender-check from=<%s> method=%s uid=\"%s\" dmarc=%s "
			 "verified=%s", from, method, in->uid,
			 dmarc_here ? dmarc_name(env->dmarc) : "unknown", in->verified ? "yes" : "no");
	}
	if (refuse != NULL) {
		log_warn("imip event=refused from=<%s> envelope=<%s> method=%s uid=\"%s\" "
			 "claimed=%s reason=\"%s\" action=plain-mail",
			 in->from != NULL ? in->from : "?", env->from, method, in->uid, who, refuse);
		imip_in_free(in);
		return false;
	}
	/* Loop prevention: what we must never answer automatically. */
	if (no_reply == NULL && env->from[0] == '\0')
		no_reply = "null envelope sender";
	if (no_reply == NULL) {
		struct dir_route route;
		memset(&route, 0, sizeof(route));
		const char *error = NULL;
		int r = dir_resolve(dh, in->from, &route, &error);
		if (r == DIR_OK)
			dir_route_free(&route);
		/* our own domains (or unknown: be safe), unless a local user's
		 * own client sent it through authenticated submission */
		if (r != DIR_NOTOURS && !submitted)
			no_reply = "from ourselves";
	}
	in->no_reply = no_reply;
	*after_r = imip_after;
	*ctx_r = in;
	*free_r = imip_in_free;
	return true;
}

void deliver_imip_setup(const struct config *cfg)
{
	g_cfg = cfg;
	deliver_set_imip_hook(imip_hook);
}

void deliver_imip_cleanup(void)
{
	deliver_set_imip_hook(NULL);
}
