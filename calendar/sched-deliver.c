/* Local delivery of iTIP messages (RFC 6638 4, RFC 5546): sched_deliver()
 * keeps the message in the recipient's scheduling inbox and applies it to
 * the recipient's copy of the event (itip_apply) in the caller's store
 * transaction; sched_send() routes one outgoing message of implicit
 * scheduling to a local calendar user or, for others, out by iMIP. What a
 * delivery produces in turn (a room's automatic REPLY) waits in a
 * per-thread queue until the write that caused it is stored
 * (sched_flush()), so that the reply merges into the organizer's new copy
 * rather than the old one. */
#include "autoconf.h"
#include "sched-private.h"
#include "config.h"
#include "ical.h"
#include "itip.h"
#include "log.h"
#include "store-sched.h"

#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sched_limits(const struct config *cfg, struct ical_limits *lim)
{
	ical_limits_default(lim);
	lim->max_resource_size = (size_t)cfg->http.dav_max_resource_size;
	lim->max_instances = (unsigned)cfg->http.dav_max_instances;
	if (cfg->sched.max_attendees > 0 && cfg->sched.max_attendees < lim->max_attendees)
		lim->max_attendees = (unsigned)cfg->sched.max_attendees;
}

static void set_status(char status_r[16], const char *text)
{
	/* "3.8;No authority" -> "3.8" */
	size_t n = strcspn(text, ";");
	if (n == 0 || n > 15) {
		snprintf(status_r, 16, "5.1");
		return;
	}
	memcpy(status_r, text, n);
	status_r[n] = '\0';
}

/* A resource name for an object of uid: the UID itself when it is a safe
 * path segment, else hex of random bytes. */
static void object_name(const char *uid, char name[STORE_DAV_NAME_MAX + 1])
{
	size_t n = strlen(uid);
	bool safe = n > 0 && n <= 200 && uid[0] != '.';
	for (size_t i = 0; safe && i < n; i++) {
		char c = uid[i];
		safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		       c == '-' || c == '_' || c == '.' || c == '@';
	}
	if (safe) {
		snprintf(name, STORE_DAV_NAME_MAX + 1, "%s.ics", uid);
		return;
	}
	unsigned char r[16];
	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));
	char *p = name;
	for (size_t i = 0; i < sizeof(r); i++)
		p += sprintf(p, "%02x", r[i]);
	strcpy(p, ".ics");
}

int sched_store_object(struct store *st, const struct config *cfg,
		       const struct store_dav_coll *coll, const char *name, const char *data,
		       size_t len, const char **error_r)
{
	struct ical_limits lim;
	sched_limits(cfg, &lim);
	struct ical_object *obj = NULL;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	if (ical_object_load(data, len, &lim, &obj, &err) < 0) {
		*error_r = "the scheduled object does not parse";
		log_warn("sched: %s/%s: %s", coll->owner, name, err.text);
		return STORE_INVALID;
	}
	struct ical_index index;
	memset(&index, 0, sizeof(index));
	int ret = ical_object_index(obj, NULL, &lim, &index, &err);
	ical_object_free(&obj);
	if (ret < 0) {
		*error_r = "the scheduled object cannot be indexed";
		log_warn("sched: %s/%s: %s", coll->owner, name, err.text);
		return STORE_INVALID;
	}
	struct store_dav_index idx = {
		.uid = index.uid,
		.comp = ical_comp_name(index.comp),
		.summary = index.summary,
		.dtstart = index.dtstart == ICAL_TIME_MIN ? STORE_DAV_NO_TIME : index.dtstart,
		.dtend = STORE_DAV_NO_TIME,
		.rstart = index.first_start == ICAL_TIME_MIN ? STORE_DAV_NO_TIME : index.first_start,
		.rend = index.last_end == ICAL_TIME_MAX ? STORE_DAV_NO_TIME : index.last_end,
	};
	char etag[80];
	ret = store_dav_obj_put(st, coll, name, "text/calendar; charset=utf-8", data, len, &idx,
				etag, error_r);
	ical_index_free(&index);
	return ret;
}

/* Keep msg in the inbox of account. */
static int inbox_store(struct store *st, const char *account, const struct itip_message *msg,
		       const char **error_r)
{
	struct store_dav_coll inbox;
	int ret = sched_provision_user(st, account, error_r);
	if (ret == STORE_OK)
		ret = store_dav_coll_get(st, account, "calendars", SCHED_INBOX_NAME, true, &inbox,
					 error_r);
	if (ret != STORE_OK)
		return ret;
	size_t len;
	char *data = itip_to_string(msg, &len);
	unsigned char r[12];
	if (RAND_bytes(r, sizeof(r)) != 1) {
		free(data);
		*error_r = "no randomness";
		return STORE_ERROR;
	}
	char name[64], *p = name;
	for (size_t i = 0; i < sizeof(r); i++)
		p += sprintf(p, "%02x", r[i]);
	strcpy(p, ".ics");
	const char *comp = ical_comp_name(itip_comp(msg));
	struct store_dav_index idx = {
		.uid = itip_uid(msg), .comp = comp, .summary = itip_summary(msg),
		.dtstart = STORE_DAV_NO_TIME, .dtend = STORE_DAV_NO_TIME,
		.rstart = STORE_DAV_NO_TIME, .rend = STORE_DAV_NO_TIME,
	};
	char etag[80];
	ret = store_dav_obj_put(st, &inbox, name, "text/calendar; charset=utf-8", data, len, &idx,
				etag, error_r);
	free(data);
	return ret;
}

/* ---- messages waiting for the end of the write that produced them ---- */

struct pending {
	char *from, *sent_by, *summary;
	struct itip_out out;
	struct pending *next;
};
static __thread struct pending *pending_head;
static __thread unsigned write_depth;

void sched_write_begin(void)
{
	write_depth++;
}

/* The contents of one itip_out that is not an array of its own
 * (itip_out_free frees the array too). */
static void out_clear(struct itip_out *out)
{
	free(out->recipient);
	free(out->data);
	memset(out, 0, sizeof(*out));
}

static void pending_free(struct pending *p)
{
	free(p->from);
	free(p->sent_by);
	free(p->summary);
	out_clear(&p->out);
	free(p);
}

int sched_write_end(struct store *st, const struct config *cfg, bool flush, const char **error_r)
{
	if (write_depth > 0)
		write_depth--;
	int ret = STORE_OK;
	if (write_depth > 0)
		return ret;
	/* each delivery may queue more (bounded: a resource answers REQUESTs only) */
	for (unsigned rounds = 0; pending_head != NULL && rounds < 16; rounds++) {
		struct pending *list = pending_head;
		pending_head = NULL;
		write_depth++;
		/* what waits here are the server's own answers (resources) */
		bool was = sched_auto_sending(true);
		while (list != NULL) {
			struct pending *p = list;
			list = p->next;
			if (flush && ret == STORE_OK) {
				char status[16];
				ret = sched_send(st, cfg, p->from, p->sent_by, &p->out, p->summary,
						 status, error_r);
			}
			pending_free(p);
		}
		sched_auto_sending(was);
		write_depth--;
	}
	while (pending_head != NULL) {
		struct pending *p = pending_head;
		pending_head = p->next;
		pending_free(p);
	}
	return ret;
}

static void pending_add(const char *from, const char *sent_by, struct itip_out *out,
			const char *summary)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	p->from = xstrdup(from);
	p->sent_by = sent_by != NULL ? xstrdup(sent_by) : NULL;
	p->summary = summary != NULL ? xstrdup(summary) : NULL;
	p->out = *out;
	memset(out, 0, sizeof(*out));
	struct pending **tail = &pending_head;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = p;
}

/* ---- sending ---- */

int sched_send(struct store *st, const struct config *cfg, const char *from, const char *sent_by,
	       const struct itip_out *out, const char *summary, char status_r[16],
	       const char **error_r)
{
	char account[321];
	int ret = store_sched_account_of(st, out->recipient, account, error_r);
	if (ret == STORE_NOTFOUND)
		return sched_send_external(st, cfg, from, sent_by, out, summary, status_r, error_r);
	if (ret != STORE_OK)
		return ret;
	struct ical_limits lim;
	sched_limits(cfg, &lim);
	struct itip_message *msg = NULL;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	if (itip_parse(out->data, out->len, &lim, &msg, &err) < 0) {
		log_warn("sched: a message to %s does not parse: %s", out->recipient, err.text);
		snprintf(status_r, 16, "5.1");
		return STORE_OK;
	}
	char st_deliver[16];
	ret = sched_deliver(st, cfg, out->recipient, msg, SCHED_ORIGIN_CALDAV,
			    sent_by != NULL ? sent_by : from, true, st_deliver, error_r);
	itip_free(&msg);
	if (ret != STORE_OK)
		return ret;
	/* RFC 6638 3.2.9: 1.2 delivered; a refusal keeps its own code */
	snprintf(status_r, 16, "%s", st_deliver[0] == '2' ? "1.2" : st_deliver);
	return STORE_OK;
}

/* ---- delivery ---- */

struct cur_copy {
	bool found;
	struct store_dav_coll coll;
	char name[STORE_DAV_NAME_MAX + 1];
	struct store_dav_obj obj;
	struct ical_object *io;
};

static void cur_clear(struct cur_copy *c)
{
	if (c->found)
		store_dav_obj_clear(&c->obj);
	ical_object_free(&c->io);
}

static int cur_load(struct store *st, const struct ical_limits *lim, const char *account,
		    const char *uid, struct cur_copy *c, const char **error_r)
{
	memset(c, 0, sizeof(*c));
	char coll[STORE_DAV_NAME_MAX + 1];
	int ret = store_sched_uid_find(st, account, uid, 0, "", coll, c->name, error_r);
	if (ret == STORE_NOTFOUND)
		return STORE_OK;
	if (ret == STORE_OK)
		ret = store_dav_coll_get(st, account, "calendars", coll, true, &c->coll, error_r);
	if (ret == STORE_OK)
		ret = store_dav_obj_get(st, c->coll.id, c->name, true, true, &c->obj, error_r);
	if (ret != STORE_OK)
		return ret;
	c->found = true;
	struct ical_error err;
	if (ical_object_load(c->obj.data, c->obj.len, lim, &c->io, &err) < 0) {
		log_warn("sched: stored copy %s/%s does not load: %s", account, c->name, err.text);
		c->io = NULL;
	}
	return STORE_OK;
}

static const char *addr_of_mailto(const char *a)
{
	return a != NULL && str_ncasecmp(a, "mailto:", 7) == 0 ? a + 7 : (a != NULL ? a : "");
}

/* Who must have sent msg for it to be believed: the organizer for what
 * organizers send, the attendee for what attendees send. */
static bool sender_allowed(const struct itip_message *msg, const char *sender)
{
	if (sender == NULL)
		return false;
	char *s = itip_address(sender);
	bool ok = false;
	switch (itip_method(msg)) {
	case ITIP_REPLY:
	case ITIP_REFRESH:
	case ITIP_COUNTER: {
		const char *a = itip_sender(msg), *by = itip_sender_sent_by(msg);
		ok = (a != NULL && strcmp(a, s) == 0) || (by != NULL && strcmp(by, s) == 0);
		break;
	}
	default: {
		const char *o = itip_organizer(msg), *by = itip_organizer_sent_by(msg);
		ok = (o != NULL && strcmp(o, s) == 0) || (by != NULL && strcmp(by, s) == 0);
		break;
	}
	}
	free(s);
	return ok;
}

int sched_deliver(struct store *st, const struct config *cfg, const char *recipient,
		  const struct itip_message *msg, enum sched_origin origin, const char *sender,
		  bool sender_verified, char status_r[16], const char **error_r)
{
	/* sender_verified false (iMIP): no DMARC pass or authenticated
	 * submission vouches for the sender; such a message is applied only
	 * when the sender is not one of our own users (see above). */
	char account[321];
	snprintf(status_r, 16, "5.1");
	char *rcpt = itip_address(recipient);
	int ret = store_sched_account_of(st, rcpt, account, error_r);
	if (ret == STORE_NOTFOUND) {
		free(rcpt);
		snprintf(status_r, 16, "3.7");	/* invalid calendar user */
		return STORE_OK;
	}
	if (ret != STORE_OK) {
		free(rcpt);
		return ret;
	}
	enum itip_method method = itip_method(msg);
	/* Only the organizer (for what organizers send) or the attendee (for
	 * what attendees send) may change a copy. A message by mail that no
	 * authentication vouches for may not speak for one of our own users:
	 * those come through CalDAV or authenticated submission. */
	char local[321];
	const char *why = NULL;
	if (!sender_allowed(msg, sender))
		why = "not the organizer or attendee";
	else if (!sender_verified && origin == SCHED_ORIGIN_IMIP &&
		 store_sched_account_of(st, addr_of_mailto(sender), local, error_r) == STORE_OK)
		why = "unauthenticated mail from a local address";
	else if (!sender_verified && origin == SCHED_ORIGIN_CALDAV)
		why = "sender not verified";
	if (why != NULL) {
		log_info("sched: refused %s for %s from %s (%s)", itip_method_name(method), account,
			 sender != NULL ? sender : "?", why);
		free(rcpt);
		snprintf(status_r, 16, "3.8");
		return STORE_OK;
	}
	struct ical_limits lim;
	sched_limits(cfg, &lim);
	struct cur_copy cur;
	ret = cur_load(st, &lim, account, itip_uid(msg), &cur, error_r);
	if (ret != STORE_OK) {
		free(rcpt);
		return ret;
	}
	/* The copy must be the same meeting: same organizer. */
	const char *morg = itip_organizer(msg);
	if (cur.found && cur.io != NULL && morg != NULL) {
		struct ical_index ix;
		struct ical_error e;
		memset(&ix, 0, sizeof(ix));
		if (ical_object_index(cur.io, NULL, &lim, &ix, &e) == 0 && ix.organizer != NULL) {
			char *co = itip_address(ix.organizer);
			bool same = strcmp(co, morg) == 0;
			free(co);
			if (!same) {
				ical_index_free(&ix);
				cur_clear(&cur);
				free(rcpt);
				snprintf(status_r, 16, "3.8");
				return STORE_OK;
			}
		}
		ical_index_free(&ix);
	}
	char *data = NULL;
	size_t len = 0;
	enum itip_apply_result res;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	/* apply to the account's own address as it appears in the message */
	if (itip_apply_ex(cur.io, msg, rcpt, &data, &len, &res, &err) < 0) {
		log_info("sched: %s for %s not applied: %s", itip_method_name(method), account,
			 err.text);
		set_status(status_r, err.text);
		cur_clear(&cur);
		free(rcpt);
		return STORE_OK;
	}
	ret = inbox_store(st, account, msg, error_r);
	if (ret == STORE_OK && res == ITIP_APPLY_DELETE && cur.found) {
		ret = store_dav_obj_delete(st, &cur.coll, cur.name, error_r);
	} else if (ret == STORE_OK && res == ITIP_APPLY_STORE && data != NULL) {
		struct store_dav_coll coll;
		char name[STORE_DAV_NAME_MAX + 1];
		if (cur.found) {
			coll = cur.coll;
			snprintf(name, sizeof(name), "%s", cur.name);
		} else {
			ret = sched_default_calendar(st, account, true, &coll, error_r);
			object_name(itip_uid(msg), name);
			struct store_dav_obj probe;
			if (ret == STORE_OK &&
			    store_dav_obj_get(st, coll.id, name, false, false, &probe, error_r) ==
				    STORE_OK) {
				store_dav_obj_clear(&probe);
				object_name("", name);	/* taken: a random name */
			}
		}
		if (ret == STORE_OK)
			ret = sched_store_object(st, cfg, &coll, name, data, len, error_r);
		/* RFC 6638 3.2.10: an attendee's tag changes with the organizer's
		 * updates; the organizer's does not change for merged replies. */
		if (ret == STORE_OK) {
			char tag[80] = "";
			if (method == ITIP_REPLY && cur.found)
				ret = store_sched_tag_get(st, coll.id, name, tag, error_r);
			if (ret == STORE_OK && tag[0] == '\0')
				sched_new_tag(tag);
			if (ret == STORE_OK)
				ret = store_sched_tag_set(st, coll.id, name, tag, error_r);
		}
	}
	if (ret == STORE_OK && res == ITIP_APPLY_STORE && method == ITIP_REQUEST)
		ret = sched_resource_request(st, cfg, account, rcpt, msg, error_r);
	if (ret == STORE_OK && method == ITIP_REFRESH && cur.found && cur.io != NULL) {
		/* RFC 5546 3.2.6: the organizer answers a REFRESH with the event
		 * as it is now (after this write, like a room's answer) */
		struct itip_out out;
		memset(&out, 0, sizeof(out));
		const char *who = itip_sender(msg);
		if (who != NULL && itip_build_request(cur.io, who, NULL, &out, &err) == 0)
			pending_add(rcpt, NULL, &out, itip_summary(msg));
		out_clear(&out);
	}
	free(data);
	cur_clear(&cur);
	free(rcpt);
	if (ret == STORE_OK)
		snprintf(status_r, 16, "2.0");
	(void)origin;
	if (write_depth == 0 && pending_head != NULL) {
		/* not inside a DAV write (iMIP): send what this produced now, or
		 * drop it when the delivery failed (the transaction rolls back) */
		sched_write_begin();
		int fret = sched_write_end(st, cfg, ret == STORE_OK, error_r);
		if (ret == STORE_OK)
			ret = fret;
	}
	return ret;
}

/* A resource's automatic answer to a REQUEST (res15's policy), queued. */
int sched_resource_request(struct store *st, const struct config *cfg, const char *account,
			   const char *address, const struct itip_message *msg,
			   const char **error_r)
{
	int answer;
	char why[200] = "";
	int ret = sched_resource_answer(st, cfg, account, msg, &answer, why, sizeof(why), error_r);
	if (ret != STORE_OK || answer < 0)
		return ret == STORE_NOTFOUND ? STORE_OK : ret;
	const char *partstat = answer == 0 ? "ACCEPTED" : "DECLINED";
	struct itip_out out;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	if (itip_build_reply(msg, address, partstat, NULL, why[0] != '\0' ? why : NULL, &out,
			     &err) < 0) {
		log_warn("sched: resource %s: no reply: %s", account, err.text);
		return STORE_OK;
	}
	/* the resource's own copy shows its answer */
	struct itip_message *reply = NULL;
	struct ical_limits lim;
	sched_limits(cfg, &lim);
	if (itip_parse(out.data, out.len, &lim, &reply, &err) == 0) {
		struct cur_copy cur;
		ret = cur_load(st, &lim, account, itip_uid(msg), &cur, error_r);
		if (ret == STORE_OK && cur.found && cur.io != NULL) {
			/* set the resource's PARTSTAT in its copy */
			char *data = NULL;
			size_t len = 0;
			if (sched_set_partstat(cur.io, address, partstat, &data, &len) == 0) {
				ret = sched_store_object(st, cfg, &cur.coll, cur.name, data, len,
							 error_r);
				free(data);
			}
		}
		cur_clear(&cur);
		itip_free(&reply);
	}
	if (ret == STORE_OK)
		pending_add(address, NULL, &out, itip_summary(msg));
	out_clear(&out);
	return ret;
}
