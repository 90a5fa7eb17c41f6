/* Free/busy for scheduling (see sched-freebusy.h): the outbox POST of a
 * VFREEBUSY request (RFC 6638 5.2.2.1/5.2.5), one answer per attendee,
 * groups expanded, from the busy-time index plus working hours from the
 * inbox's CALDAV:calendar-availability (RFC 7953). All time is UTC here;
 * the zones of the events were resolved when their rows were computed. */
#include "autoconf.h"
#include "sched-freebusy.h"
#include "sched-fbindex.h"
#include "ical-busy.h"
#include "config.h"
#include "store-freebusy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most recipients one POST may name after group expansion. */
#define FB_MAX_RECIPIENTS 1000

static void limits_of(const struct config *cfg, struct ical_limits *lim)
{
	ical_limits_default(lim);
	lim->max_resource_size = (size_t)cfg->http.dav_max_resource_size;
	lim->max_instances = (unsigned)cfg->http.dav_max_instances;
}

/* One answer of the schedule-response. */
struct fb_answer {
	char *recipient;	/* as named (member address for expanded groups) */
	const char *status;	/* request-status */
	uint64_t account_id;	/* 0 unless a local user */
	char account[321];
	struct ical_busy_list busy;
};

struct fb_answers {
	struct fb_answer *a;
	size_t n;
};

static struct fb_answer *answer_add(struct fb_answers *as, const char *recipient)
{
	for (size_t i = 0; i < as->n; i++) {
		if (strcmp(as->a[i].recipient, recipient) == 0)
			return NULL;	/* named twice (directly and by a group) */
	}
	as->a = xrealloc(as->a, (as->n + 1) * sizeof(*as->a));
	memset(&as->a[as->n], 0, sizeof(as->a[0]));
	as->a[as->n].recipient = xstrdup(recipient);
	return &as->a[as->n++];
}

static void answers_free(struct fb_answers *as)
{
	for (size_t i = 0; i < as->n; i++) {
		free(as->a[i].recipient);
		ical_busy_clear(&as->a[i].busy);
	}
	free(as->a);
	as->a = NULL;
	as->n = 0;
}

struct strv {
	char **v;
	size_t n;
};

static void strv_add_cb(const char *s, void *ctx)
{
	struct strv *sv = ctx;

	sv->v = xrealloc(sv->v, (sv->n + 1) * sizeof(*sv->v));
	sv->v[sv->n++] = xstrdup(s);
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* Whether an address is a mail address we could look up (else "3.7"). */
static bool is_mail_address(const char *a)
{
	const char *at = strchr(a, '@');

	return at != NULL && at != a && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
	       strchr(a, ':') == NULL;
}

/* Resolve the attendees: local users (and resources) get an account, groups
 * are replaced by their members, the rest answer 3.7. */
static int resolve_recipients(struct store *st, char **attendees, size_t n,
			      struct fb_answers *as, const char **error_r)
{
	struct store_fb_addr *res = xcalloc(n > 0 ? n : 1, sizeof(*res));
	int ret = store_fb_resolve(st, (const char *const *)attendees, n, res, error_r);

	for (size_t i = 0; ret == STORE_OK && i < n; i++) {
		struct fb_answer *a;

		if (res[i].kind == STORE_FB_GROUP) {
			struct strv members = { NULL, 0 };
			struct store_fb_addr *mres;

			ret = store_fb_group_members(st, attendees[i], strv_add_cb, &members, error_r);
			if (ret != STORE_OK)
				break;
			mres = xcalloc(members.n > 0 ? members.n : 1, sizeof(*mres));
			ret = store_fb_resolve(st, (const char *const *)members.v, members.n, mres,
					       error_r);
			for (size_t k = 0; ret == STORE_OK && k < members.n; k++) {
				if (as->n >= FB_MAX_RECIPIENTS)
					break;
				a = answer_add(as, members.v[k]);
				if (a == NULL)
					continue;
				if (mres[k].kind == STORE_FB_ACCOUNT) {
					a->account_id = mres[k].account_id;
					snprintf(a->account, sizeof(a->account), "%s", mres[k].account);
					a->status = "2.0;Success";
				} else {
					a->status = "3.7;Invalid calendar user";
				}
			}
			free(mres);
			strv_free(&members);
			continue;
		}
		if (as->n >= FB_MAX_RECIPIENTS)
			break;
		a = answer_add(as, attendees[i]);
		if (a == NULL)
			continue;
		if (res[i].kind == STORE_FB_ACCOUNT) {
			a->account_id = res[i].account_id;
			snprintf(a->account, sizeof(a->account), "%s", res[i].account);
			a->status = "2.0;Success";
		} else {
			/* Not ours (or no such user): we have no free/busy for it
			 * (RFC 6638 3.2.10 request-status 3.7). */
			a->status = is_mail_address(a->recipient) ? "3.7;Invalid calendar user" :
				    "3.7;Invalid calendar user address";
		}
	}
	free(res);
	return ret;
}

int sched_busy_lookup(struct store *st, const struct config *cfg, const char *user,
		      int64_t start, int64_t end, const char *except_uid,
		      struct sched_busy **busy_r, size_t *n_r, const char **error_r)
{
	char addr[321];
	const char *a = user;
	struct store_fb_addr res;
	struct sched_fbq q;
	int ret;

	*busy_r = NULL;
	*n_r = 0;
	if (strncasecmp(a, "mailto:", 7) == 0)
		a += 7;
	snprintf(addr, sizeof(addr), "%s", a);
	for (char *p = addr; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	a = addr;
	ret = store_fb_resolve(st, &a, 1, &res, error_r);
	if (ret != STORE_OK)
		return ret;
	if (res.kind != STORE_FB_ACCOUNT) {
		*error_r = "no such calendar user";
		return STORE_NOTFOUND;
	}
	memset(&q, 0, sizeof(q));
	q.start = start;
	q.end = end;
	q.except_uid = except_uid;
	q.n = 1;
	q.account_id = &res.account_id;
	q.account = (const char *const[]){ res.account };
	q.busy = xcalloc(1, sizeof(*q.busy));
	ret = sched_fbq_run(st, cfg, &q, error_r);
	if (ret == STORE_OK && q.busy[0].n > 0) {
		*busy_r = xcalloc(q.busy[0].n, sizeof(**busy_r));
		for (size_t i = 0; i < q.busy[0].n; i++) {
			(*busy_r)[i].start = q.busy[0].p[i].start;
			(*busy_r)[i].end = q.busy[0].p[i].end;
			(*busy_r)[i].fbtype = q.busy[0].p[i].type;
		}
		*n_r = q.busy[0].n;
	}
	ical_busy_clear(&q.busy[0]);
	free(q.busy);
	return ret;
}

/* ---- the POST ---------------------------------------------------------- */

static int post_error(struct dav_ctx *ctx, int status, const char *ns, const char *name,
		      const char *why)
{
	dav_error(ctx, status, ns, name, NULL);
	dav_ctx_note(ctx, "free-busy POST: %s", why);
	return status;
}

/* Is org one of the outbox owner's addresses? */
static int organizer_allowed(struct store *st, const char *owner, const char *org, bool *ok_r,
			     const char **error_r)
{
	struct strv self = { NULL, 0 };
	int ret = store_fb_self_addresses(st, owner, strv_add_cb, &self, error_r);

	*ok_r = false;
	for (size_t i = 0; ret == STORE_OK && i < self.n; i++) {
		if (strcmp(self.v[i], org) == 0)
			*ok_r = true;
	}
	strv_free(&self);
	return ret;
}

int sched_outbox_post(struct dav_ctx *ctx)
{
	const struct dav_request *req = dav_ctx_request(ctx);
	const struct store_dav_coll *coll = dav_ctx_coll(ctx);
	struct store *st = dav_ctx_store(ctx);
	const struct config *cfg = dav_ctx_config(ctx);
	struct ical_limits lim;
	struct ical_fbrequest fr;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	struct fb_answers as = { NULL, 0 };
	struct sched_fbq q;
	struct dav_response *resp;
	const char *error = "";
	bool ok;
	int ret;

	if (coll == NULL)
		return post_error(ctx, 405, DAV_NS, "need-privileges", "not an outbox");
	/* The owner (or a delegate with write access) sends from an outbox. */
	if (coll->access < STORE_DAV_WRITE)
		return post_error(ctx, 403, DAV_NS, "need-privileges", "no schedule-send right");
	if (req->content_type == NULL ||
	    str_ncasecmp(req->content_type, "text/calendar", 13) != 0)
		return post_error(ctx, 415, DAV_NS_CALDAV, "supported-calendar-data",
				  "not text/calendar");
	limits_of(cfg, &lim);
	if (ical_fbrequest_parse(req->body != NULL ? req->body : "", req->body_len, &lim, &fr,
				 &err) < 0) {
		const char *name = err.precond == ICAL_VALID_CALENDAR_DATA ? "valid-calendar-data" :
				   err.precond == ICAL_PRECOND_NONE ? "valid-scheduling-message" :
				   ical_precond_name(err.precond);
		return post_error(ctx, err.precond == ICAL_VALID_CALENDAR_DATA ? 400 : 403,
				  DAV_NS_CALDAV, name, err.text);
	}
	ret = organizer_allowed(st, coll->owner, fr.organizer, &ok, &error);
	if (ret == STORE_OK && !ok) {
		ical_fbrequest_clear(&fr);
		return post_error(ctx, 403, DAV_NS_CALDAV, "organizer-allowed",
				  "ORGANIZER is not the outbox owner's address");
	}
	if (ret == STORE_OK)
		ret = resolve_recipients(st, fr.attendees, fr.nattendees, &as, &error);
	memset(&q, 0, sizeof(q));
	if (ret == STORE_OK) {
		size_t nlocal = 0;
		uint64_t *ids = xcalloc(as.n + 1, sizeof(*ids));
		const char **names = xcalloc(as.n + 1, sizeof(*names));

		q.start = fr.start;
		q.end = fr.end;
		q.busy = xcalloc(as.n + 1, sizeof(*q.busy));
		for (size_t i = 0; i < as.n; i++) {
			if (as.a[i].account_id == 0)
				continue;
			ids[nlocal] = as.a[i].account_id;
			names[nlocal++] = as.a[i].account;
		}
		q.account_id = ids;
		q.account = names;
		q.n = nlocal;
		ret = sched_fbq_run(st, cfg, &q, &error);
		for (size_t i = 0, k = 0; ret == STORE_OK && i < as.n; i++) {
			if (as.a[i].account_id == 0)
				continue;
			as.a[i].busy = q.busy[k];
			memset(&q.busy[k++], 0, sizeof(q.busy[0]));
		}
		for (size_t k = 0; k < q.n; k++)
			ical_busy_clear(&q.busy[k]);
		free(q.busy);
		free(names);
		free(ids);
	}
	if (ret != STORE_OK) {
		answers_free(&as);
		ical_fbrequest_clear(&fr);
		dav_ctx_note(ctx, "free-busy POST: %s", error);
		dav_error(ctx, ret == STORE_TEMPFAIL ? 503 : 500, DAV_NS, "internal-error", NULL);
		return ret == STORE_TEMPFAIL ? 503 : 500;
	}
	resp = dav_ctx_response(ctx);
	buf_reset(&resp->body);
	buf_append_str(&resp->body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
				    "<C:schedule-response xmlns:D=\"DAV:\""
				    " xmlns:C=\"urn:ietf:params:xml:ns:caldav\">");
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < as.n; i++) {
		struct fb_answer *a = &as.a[i];

		buf_append_str(&resp->body, "<C:response><C:recipient><D:href>");
		if (strchr(a->recipient, ':') == NULL)
			buf_append_str(&resp->body, "mailto:");
		dav_xml_escape(&resp->body, a->recipient);
		buf_append_str(&resp->body, "</D:href></C:recipient><C:request-status>");
		dav_xml_escape(&resp->body, a->status);
		buf_append_str(&resp->body, "</C:request-status>");
		if (a->account_id != 0) {
			size_t len;
			char *text = ical_busy_reply(&a->busy, fr.uid, now, fr.start, fr.end,
						     fr.organizer, a->recipient, &len);

			buf_append_str(&resp->body, "<C:calendar-data>");
			dav_xml_escape_n(&resp->body, text, len);
			buf_append_str(&resp->body, "</C:calendar-data>");
			free(text);
		}
		buf_append_str(&resp->body, "</C:response>");
	}
	buf_append_str(&resp->body, "</C:schedule-response>\n");
	resp->status = 200;
	snprintf(resp->content_type, sizeof(resp->content_type), "application/xml; charset=utf-8");
	answers_free(&as);
	ical_fbrequest_clear(&fr);
	return 200;
}

int sched_availability_set_prop(struct dav_ctx *ctx, const struct dav_propop *op)
{
	struct ical_limits lim;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	struct ical_availability *av = NULL;
	char *text;
	int ok;

	if (op->remove)
		return 200;
	limits_of(dav_ctx_config(ctx), &lim);
	text = dav_xml_text(op->node);
	ok = ical_availability_parse(text, strlen(text), &lim, &av, &err) == 0;
	ical_availability_free(&av);
	xmlFree(text);
	if (!ok)
		dav_ctx_note(ctx, "calendar-availability: %s", err.text);
	return ok ? 200 : 409;
}
