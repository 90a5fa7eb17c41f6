/* The scheduling collections of RFC 6638 as kinds of the DAV core: the
 * scheduling inbox (kind "schedinbox", CALDAV:schedule-inbox) where every
 * iTIP message delivered to the user is kept until a client deletes it, and
 * the outbox (kind "schedoutbox", CALDAV:schedule-outbox) that takes POSTs of
 * VFREEBUSY requests (sched_outbox_post, calendar/sched-freebusy.c). Both
 * live in the "calendars" home as /dav/calendars/<user>/inbox/ and
 * .../outbox/, created with the home. Also here: the principal properties
 * (calendar-user-address-set from the directory, schedule-inbox-URL,
 * schedule-outbox-URL, calendar-user-type) and the default calendar. */
#include "autoconf.h"
#include "sched-private.h"
#include "dav-private.h"
#include "sched-freebusy.h"
#include "config.h"
#include "store-sched.h"
#include "store-directory.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- addresses ---- */

static const char *strip_mailto(const char *a)
{
	if (str_ncasecmp(a, "mailto:", 7) == 0)
		return a + 7;
	return a;
}

struct addr_match {
	const char *want;
	bool found;
};

static void addr_match_cb(const char *address, void *vctx)
{
	struct addr_match *m = vctx;
	if (str_casecmp(address, m->want) == 0)
		m->found = true;
}

bool sched_is_user_address(struct store *st, const char *user, const char *address)
{
	const char *a = strip_mailto(address);
	if (str_casecmp(a, user) == 0)
		return true;
	struct addr_match m = { a, false };
	const char *error;
	store_sched_addresses(st, user, addr_match_cb, &m, &error);
	return m.found;
}

void sched_new_tag(char tag[80])
{
	unsigned char r[12];
	if (RAND_bytes(r, sizeof(r)) != 1) {
		static unsigned long n;
		snprintf(tag, 80, "\"s-%lx-%lx\"", (unsigned long)time(NULL), ++n);
		return;
	}
	static const char hex[] = "0123456789abcdef";
	char *p = tag;
	*p++ = '"';
	*p++ = 's';
	*p++ = '-';
	for (size_t i = 0; i < sizeof(r); i++) {
		*p++ = hex[r[i] >> 4];
		*p++ = hex[r[i] & 15];
	}
	*p++ = '"';
	*p = '\0';
}

/* ---- provisioning and the default calendar ---- */

int sched_provision_user(struct store *st, const char *user, const char **error_r)
{
	static const struct { const char *name, *kind; } boxes[] = {
		{ SCHED_INBOX_NAME, "schedinbox" },
		{ SCHED_OUTBOX_NAME, "schedoutbox" },
	};
	for (size_t i = 0; i < sizeof(boxes) / sizeof(boxes[0]); i++) {
		struct store_dav_coll c;
		int ret = store_dav_coll_get(st, user, "calendars", boxes[i].name, false, &c, error_r);
		if (ret == STORE_OK)
			continue;
		if (ret != STORE_NOTFOUND)
			return ret;
		ret = store_dav_coll_create(st, user, "calendars", boxes[i].name, boxes[i].kind, &c,
					    error_r);
		if (ret == STORE_EXISTS)	/* the name is a calendar of the user's */
			ret = STORE_OK;
		if (ret != STORE_OK)
			return ret;
	}
	return STORE_OK;
}

struct first_cal {
	char name[STORE_DAV_NAME_MAX + 1];
};

static void first_cal_cb(const struct store_dav_coll *coll, void *vctx)
{
	struct first_cal *f = vctx;
	if (f->name[0] == '\0' && strcmp(coll->kind, "calendar") == 0)
		snprintf(f->name, sizeof(f->name), "%s", coll->name);
}

/* The collection named by the inbox's schedule-default-calendar-URL dead
 * property, or "" . */
struct find_dead {
	char *xml;
};

static void find_dead_cb(const char *ns, const char *name, const char *xml, void *vctx)
{
	struct find_dead *f = vctx;
	if (f->xml == NULL && strcmp(ns, DAV_NS_CALDAV) == 0 &&
	    strcmp(name, "schedule-default-calendar-URL") == 0)
		f->xml = xstrdup(xml);
}

/* The last path segment of the href inside the stored property, when it
 * names a collection of user's calendars home. */
static bool default_from_prop(struct store *st, const char *user, char *name, size_t size)
{
	struct store_dav_coll inbox;
	const char *error;
	if (store_dav_coll_get(st, user, "calendars", SCHED_INBOX_NAME, false, &inbox, &error) !=
	    STORE_OK)
		return false;
	struct find_dead f = { NULL };
	store_dav_props(st, inbox.id, "", find_dead_cb, &f, &error);
	if (f.xml == NULL)
		return false;
	bool ok = false;
	char *h = strstr(f.xml, "href>");
	if (h != NULL) {
		h += 5;
		char *end = strchr(h, '<');
		if (end != NULL && end > h) {
			if (end[-1] == '/')
				end--;
			char *seg = end;
			while (seg > h && seg[-1] != '/')
				seg--;
			size_t n = (size_t)(end - seg);
			if (n > 0 && n < size) {
				/* percent-decoding: names we create are plain */
				memcpy(name, seg, n);
				name[n] = '\0';
				ok = strchr(name, '%') == NULL;
			}
		}
	}
	free(f.xml);
	return ok;
}

int sched_default_calendar(struct store *st, const char *user, bool create,
			   struct store_dav_coll *coll_r, const char **error_r)
{
	char name[STORE_DAV_NAME_MAX + 1];
	if (default_from_prop(st, user, name, sizeof(name))) {
		int ret = store_dav_coll_get(st, user, "calendars", name, true, coll_r, error_r);
		if (ret == STORE_OK && strcmp(coll_r->kind, "calendar") == 0)
			return STORE_OK;
		if (ret != STORE_OK && ret != STORE_NOTFOUND)
			return ret;
	}
	int ret = store_dav_coll_get(st, user, "calendars", SCHED_DEFAULT_CALENDAR, true, coll_r,
				     error_r);
	if (ret == STORE_OK && strcmp(coll_r->kind, "calendar") == 0)
		return STORE_OK;
	if (ret != STORE_OK && ret != STORE_NOTFOUND)
		return ret;
	struct first_cal f = { "" };
	ret = store_dav_coll_list(st, user, "calendars", first_cal_cb, &f, error_r);
	if (ret != STORE_OK)
		return ret;
	if (f.name[0] != '\0')
		return store_dav_coll_get(st, user, "calendars", f.name, true, coll_r, error_r);
	if (!create) {
		*error_r = "no calendar";
		return STORE_NOTFOUND;
	}
	ret = store_dav_coll_create(st, user, "calendars", SCHED_DEFAULT_CALENDAR, "calendar",
				    coll_r, error_r);
	if (ret == STORE_OK)
		ret = store_dav_prop_set(st, coll_r->id, "", DAV_NS, "displayname",
					 "<D:displayname xmlns:D=\"DAV:\">Calendar</D:displayname>",
					 error_r);
	if (ret != STORE_OK)
		return ret;
	return store_dav_coll_get(st, user, "calendars", SCHED_DEFAULT_CALENDAR, true, coll_r,
				  error_r);
}

/* ---- principal properties ---- */

static void href_coll(struct buf *out, const char *user, const char *name)
{
	struct store_dav_coll c;
	memset(&c, 0, sizeof(c));
	snprintf(c.owner, sizeof(c.owner), "%s", user);
	snprintf(c.home, sizeof(c.home), "calendars");
	snprintf(c.name, sizeof(c.name), "%s", name);
	dav_href(out, &c, NULL);
}

static void addr_href_cb(const char *address, void *vctx)
{
	struct buf *out = vctx;
	buf_append_str(out, "<D:href>mailto:");
	dav_xml_escape(out, address);
	buf_append_str(out, "</D:href>");
}

int sched_principal_prop(struct dav_ctx *ctx, const char *principal,
			 const struct dav_propname *p, struct buf *out)
{
	if (strcmp(p->ns, DAV_NS_CALDAV) != 0)
		return 404;
	struct store *st = dav_ctx_store(ctx);
	const char *error;
	if (strcmp(p->name, "calendar-user-address-set") == 0) {
		buf_append_str(out, "<C:calendar-user-address-set>");
		size_t mark = out->len;
		int ret = store_sched_addresses(st, principal, addr_href_cb, out, &error);
		if (ret != STORE_OK || out->len == mark)
			addr_href_cb(principal, out);
		buf_append_str(out, "</C:calendar-user-address-set>");
		return 200;
	}
	if (strcmp(p->name, "schedule-inbox-URL") == 0 ||
	    strcmp(p->name, "schedule-outbox-URL") == 0) {
		bool inbox = p->name[9] == 'i';
		buf_printf(out, "<C:%s><D:href>", p->name);
		href_coll(out, principal, inbox ? SCHED_INBOX_NAME : SCHED_OUTBOX_NAME);
		buf_printf(out, "</D:href></C:%s>", p->name);
		return 200;
	}
	if (strcmp(p->name, "calendar-user-type") == 0) {
		int kind = 0;
		const char *type = "UNKNOWN";
		if (store_dav_principal_kind(st, principal, &kind, &error) == STORE_OK) {
			const char *rt = kind == 1 ? sched_resource_type(st, principal) : NULL;
			if (rt != NULL)
				type = rt;	/* a room or equipment (res15's directory) */
			else if (kind == 1)
				type = "INDIVIDUAL";
			else if (kind == 2)
				type = "GROUP";
		}
		buf_printf(out, "<C:calendar-user-type>%s</C:calendar-user-type>", type);
		return 200;
	}
	return 404;
}

/* ---- the inbox and outbox kinds ---- */

static int box_validate(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
			const char *data, size_t len, const char *content_type, struct dav_put *put)
{
	(void)ctx, (void)name, (void)data, (void)len, (void)content_type;
	/* RFC 6638 2.1.1, 2.2.1: nothing is stored there by clients */
	put->err_ns = DAV_NS;
	put->err_name = "need-privileges";
	snprintf(put->err_text, sizeof(put->err_text), "the scheduling %s takes no PUT",
		 strcmp(coll->kind, "schedinbox") == 0 ? "inbox" : "outbox");
	return 403;
}

static int inbox_prop(struct dav_ctx *ctx, enum dav_level level, const struct store_dav_coll *coll,
		      const struct store_dav_obj *obj, const struct dav_propname *p,
		      struct buf *out)
{
	if (strcmp(p->ns, DAV_NS_CALDAV) != 0)
		return 404;
	if (level == DAV_LEVEL_OBJ && strcmp(p->name, "calendar-data") == 0) {
		struct store_dav_obj full;
		const char *error;
		const struct store_dav_obj *o = obj;
		bool fetched = false;
		if (obj->data == NULL) {
			if (store_dav_obj_get(dav_ctx_store(ctx), coll->id, obj->name, true, false,
					      &full, &error) != STORE_OK)
				return 404;
			o = &full;
			fetched = true;
		}
		buf_append_str(out, "<C:calendar-data>");
		dav_xml_escape_n(out, o->data, o->len);
		buf_append_str(out, "</C:calendar-data>");
		if (fetched)
			store_dav_obj_clear(&full);
		return 200;
	}
	if (level != DAV_LEVEL_COLL)
		return 404;
	if (strcmp(p->name, "schedule-default-calendar-URL") == 0) {
		struct store_dav_coll def;
		const char *error;
		char name[STORE_DAV_NAME_MAX + 1];
		struct store *st = dav_ctx_store(ctx);
		if (default_from_prop(st, coll->owner, name, sizeof(name)) &&
		    store_dav_coll_get(st, coll->owner, "calendars", name, false, &def, &error) ==
			    STORE_OK &&
		    strcmp(def.kind, "calendar") == 0) {
			/* as stored */
		} else if (sched_default_calendar(st, coll->owner, false, &def, &error) != STORE_OK) {
			return 404;
		}
		buf_append_str(out, "<C:schedule-default-calendar-URL><D:href>");
		href_coll(out, coll->owner, def.name);
		buf_append_str(out, "</D:href></C:schedule-default-calendar-URL>");
		return 200;
	}
	if (strcmp(p->name, "supported-calendar-component-set") == 0) {
		buf_append_str(out, "<C:supported-calendar-component-set><C:comp name=\"VEVENT\"/>"
				    "<C:comp name=\"VTODO\"/><C:comp name=\"VFREEBUSY\"/>"
				    "</C:supported-calendar-component-set>");
		return 200;
	}
	return 404;
}

static int inbox_set_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			  const struct dav_propop *op, bool creating)
{
	(void)creating;
	if (strcmp(op->ns, DAV_NS_CALDAV) != 0)
		return 0;
	if (strcmp(op->name, "calendar-availability") == 0)
		return sched_availability_set_prop(ctx, op);	/* RFC 7953 7.2.4 (fb15) */
	if (strcmp(op->name, "schedule-default-calendar-URL") != 0)
		return 403;
	if (op->remove)
		return 200;
	/* RFC 6638 9.2: must name one of the owner's calendars */
	xmlNode *h = dav_xml_child(op->node, DAV_NS, "href");
	if (h == NULL)
		return 409;
	char *href = dav_xml_text(h);
	struct store_dav_coll target;
	int st = dav_coll_of_href(ctx, href, &target);
	xmlFree(href);
	if (st != 0 || strcmp(target.owner, coll->owner) != 0 ||
	    strcmp(target.kind, "calendar") != 0)
		return 409;
	return 200;
}

static int box_report(struct dav_ctx *ctx, xmlNode *root)
{
	extern const struct dav_kind caldav_kind;
	if (dav_xml_is(root, DAV_NS_CALDAV, "calendar-multiget"))
		return caldav_kind.report(ctx, root);
	return 1;
}

static int box_provision(struct dav_ctx *ctx, const char *user)
{
	const char *error;
	return sched_provision_user(dav_ctx_store(ctx), user, &error);
}

static const struct dav_propdef inbox_props[] = {
	{ DAV_NS_CALDAV, "schedule-default-calendar-URL", true },
	{ DAV_NS_CALDAV, "supported-calendar-component-set", false },
	{ DAV_NS_CALDAV, "calendar-data", false },
	{ NULL, NULL, false },
};

static const struct dav_propdef outbox_props[] = {
	{ NULL, NULL, false },
};

const struct dav_kind sched_inbox_kind = {
	.name = "schedinbox",
	.home = "calendars",
	.ns = DAV_NS_CALDAV,
	.type = "schedule-inbox",
	.dav_class = "calendar-auto-schedule",
	.content_type = "text/calendar; charset=utf-8",
	.reports = "<D:supported-report><D:report><C:calendar-multiget/></D:report>"
		   "</D:supported-report>",
	.props = inbox_props,
	.validate = box_validate,
	.prop = inbox_prop,
	.set_prop = inbox_set_prop,
	.report = box_report,
	.provision = box_provision,
};

const struct dav_kind sched_outbox_kind = {
	.name = "schedoutbox",
	.home = "calendars",
	.ns = DAV_NS_CALDAV,
	.type = "schedule-outbox",
	.content_type = "text/calendar; charset=utf-8",
	.props = outbox_props,
	.validate = box_validate,
};
