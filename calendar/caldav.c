/* CalDAV (RFC 4791) as a kind of the WebDAV core: calendar collections in
 * the "calendars" home, PUT validation with the 5.3.2.1 preconditions, the
 * collection properties, calendar-data (with expand and
 * limit-recurrence-set), and the calendar-query, calendar-multiget and
 * free-busy-query reports. Every iCalendar computation is calendar/ical's:
 * this file only maps XML to its structures and back. A time-range query
 * selects candidates by the indexed bounds in SQL (store_dav_obj_range) and
 * confirms each with ical_filter_match. */
#include "autoconf.h"
#include "caldav.h"
#include "config.h"
#include "ical.h"
#include "caldav-filter.h"
#include "sched-fbindex.h"
#include "sched-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ---- */

static void limits_of(struct dav_ctx *ctx, struct ical_limits *lim)
{
	const struct config *cfg = dav_ctx_config(ctx);
	ical_limits_default(lim);
	lim->max_resource_size = (size_t)cfg->http.dav_max_resource_size;
	lim->max_instances = (unsigned)cfg->http.dav_max_instances;
	/* the scheduling cap (RFC 6638 max-attendees-per-instance) */
	if (cfg->sched.max_attendees > 0 && cfg->sched.max_attendees < lim->max_attendees)
		lim->max_attendees = (unsigned)cfg->sched.max_attendees;
}

struct find_prop {
	const char *ns, *name;
	char *xml;
};

static void find_prop_cb(const char *ns, const char *name, const char *xml, void *vctx)
{
	struct find_prop *f = vctx;
	if (f->xml == NULL && strcmp(ns, f->ns) == 0 && strcmp(name, f->name) == 0)
		f->xml = xstrdup(xml);
}

/* The stored (dead) value of a collection property, malloc'ed, or NULL. */
static char *coll_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name)
{
	struct find_prop f = { DAV_NS_CALDAV, name, NULL };
	const char *error;
	store_dav_props(dav_ctx_store(ctx), coll->id, "", find_prop_cb, &f, &error);
	return f.xml;
}

static unsigned coll_comp_set(struct dav_ctx *ctx, const struct store_dav_coll *coll)
{
	char *xml = coll_prop(ctx, coll, "supported-calendar-component-set");
	unsigned set = ICAL_COMP_DEFAULT_SET;
	if (xml != NULL) {
		struct dav_xml_limits lim = { 64 * 1024, 8, 1000 };
		xmlDocPtr doc;
		const char *error;
		if (dav_xml_parse(xml, strlen(xml), &lim, &doc, &error) == 0) {
			unsigned s = caldav_comp_set_of(xmlDocGetRootElement(doc));
			if (s != 0)
				set = s;
			xmlFreeDoc(doc);
		}
		free(xml);
	}
	return set;
}

/* The collection's calendar-timezone as a zone (NULL: none or unusable). */
static struct ical_tz *coll_tz(struct dav_ctx *ctx, const struct store_dav_coll *coll)
{
	char *xml = coll_prop(ctx, coll, "calendar-timezone");
	if (xml == NULL)
		return NULL;
	struct ical_tz *tz = NULL;
	struct dav_xml_limits lim = { 1024 * 1024, 8, 10000 };
	xmlDocPtr doc;
	const char *error;
	if (dav_xml_parse(xml, strlen(xml), &lim, &doc, &error) == 0) {
		char *text = dav_xml_text(xmlDocGetRootElement(doc));
		struct ical_limits il;
		struct ical_error err;
		limits_of(ctx, &il);
		if (ical_tz_parse(text, strlen(text), &il, &tz, &err) < 0)
			tz = NULL;
		xmlFree(text);
		xmlFreeDoc(doc);
	}
	free(xml);
	return tz;
}

static void comp_set_xml(struct buf *out, unsigned set)
{
	buf_append_str(out, "<C:supported-calendar-component-set>");
	for (unsigned bit = 1; bit <= ICAL_COMP_VFREEBUSY; bit <<= 1) {
		if (set & bit)
			buf_printf(out, "<C:comp name=\"%s\"/>", ical_comp_name((enum ical_comp)bit));
	}
	buf_append_str(out, "</C:supported-calendar-component-set>");
}

static void ical_date(struct buf *out, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	char s[32];
	strftime(s, sizeof(s), "%Y%m%dT%H%M%SZ", &tm);
	buf_append_str(out, s);
}

/* ---- the kind's callbacks ---- */

struct caldav_put {
	struct ical_index index;
	char comp[16];
	struct sched_fbindex fb;	/* busy-time rows (events and free/busy) */
};

static int caldav_validate(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			   const char *name, const char *data, size_t len,
			   const char *content_type, struct dav_put *put)
{
	(void)name;
	struct ical_limits lim;
	limits_of(ctx, &lim);
	put->err_ns = DAV_NS_CALDAV;
	if (content_type != NULL && content_type[0] != '\0' &&
	    str_ncasecmp(content_type, "text/calendar", 13) != 0) {
		put->err_name = "supported-calendar-data";
		snprintf(put->err_text, sizeof(put->err_text), "not text/calendar: %.100s",
			 content_type);
		return 403;
	}
	if (len > lim.max_resource_size) {
		put->err_name = "max-resource-size";
		snprintf(put->err_text, sizeof(put->err_text), "%zu bytes", len);
		return 403;
	}
	unsigned supported = coll_comp_set(ctx, coll);
	struct ical_object *obj = NULL;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	if (ical_object_parse(data, len, supported, &lim, &obj, &err) < 0) {
		put->err_name = err.precond != ICAL_PRECOND_NONE ? ical_precond_name(err.precond) :
				"valid-calendar-data";
		snprintf(put->err_text, sizeof(put->err_text), "%s", err.text);
		return 403;
	}
	struct caldav_put *cp = xcalloc(1, sizeof(*cp));
	struct ical_tz *tz = coll_tz(ctx, coll);
	int ret = ical_object_index(obj, tz, &lim, &cp->index, &err);
	bool busy = false;
	if (ret == 0 && (cp->index.comp == ICAL_COMP_VEVENT || cp->index.comp == ICAL_COMP_VFREEBUSY)) {
		const char *serr;
		busy = sched_fbindex_compute(dav_ctx_store(ctx), dav_ctx_config(ctx), coll->owner, obj,
					     tz, &cp->index, &cp->fb, &serr) == STORE_OK;
	}
	ical_tz_free(&tz);
	ical_object_free(&obj);
	if (ret < 0) {
		ical_index_free(&cp->index);
		free(cp);
		put->err_name = err.precond != ICAL_PRECOND_NONE ? ical_precond_name(err.precond) :
				"valid-calendar-object-resource";
		snprintf(put->err_text, sizeof(put->err_text), "%s", err.text);
		return 403;
	}
	const char *cname = ical_comp_name(cp->index.comp);
	snprintf(cp->comp, sizeof(cp->comp), "%s", cname != NULL ? cname : "");
	put->priv = cp;
	put->idx.uid = cp->index.uid;
	put->idx.comp = cp->comp[0] != '\0' ? cp->comp : NULL;
	put->idx.summary = cp->index.summary;
	put->idx.dtstart = cp->index.dtstart == ICAL_TIME_MIN ? STORE_DAV_NO_TIME :
			   cp->index.dtstart;
	put->idx.dtend = STORE_DAV_NO_TIME;
	put->idx.rstart = cp->index.first_start == ICAL_TIME_MIN ? STORE_DAV_NO_TIME :
			  cp->index.first_start;
	put->idx.rend = cp->index.last_end == ICAL_TIME_MAX ? STORE_DAV_NO_TIME :
			cp->index.last_end;
	put->idx.busy = busy ? &cp->fb.rows : NULL;
	put->content_type = "text/calendar; charset=utf-8";
	return 0;
}

static void caldav_put_free(struct dav_put *put)
{
	struct caldav_put *cp = put->priv;
	if (cp != NULL) {
		ical_index_free(&cp->index);
		sched_fbindex_free(&cp->fb);
		free(cp);
	}
	put->priv = NULL;
}

/* calendar-data of obj as asked by node (NULL: whole). 200, or 403/500
 * with nothing appended. */
static int calendar_data_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			      const struct store_dav_obj *obj, xmlNode *node, struct buf *out)
{
	struct store_dav_obj full;
	const struct store_dav_obj *o = obj;
	bool fetched = false;
	if (obj->data == NULL) {
		const char *error;
		if (store_dav_obj_get(dav_ctx_store(ctx), coll->id, obj->name, true, false, &full,
				      &error) != STORE_OK)
			return 404;
		o = &full;
		fetched = true;
	}
	struct ical_calendar_data cd;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	bool plain;
	int status = 200;
	if (caldav_calendar_data_of(node, &cd, &plain, &err) < 0) {
		status = 403;
	} else if (plain) {
		buf_append_str(out, "<C:calendar-data>");
		dav_xml_escape_n(out, o->data, o->len);
		buf_append_str(out, "</C:calendar-data>");
	} else {
		struct ical_limits lim;
		limits_of(ctx, &lim);
		struct ical_object *io = NULL;
		char *text = NULL;
		size_t tlen = 0;
		struct ical_tz *tz = coll_tz(ctx, coll);
		if (ical_object_load(o->data, o->len, &lim, &io, &err) == 0 &&
		    ical_object_render(io, &cd, tz, &lim, &text, &tlen, &err) == 0) {
			buf_append_str(out, "<C:calendar-data>");
			dav_xml_escape_n(out, text, tlen);
			buf_append_str(out, "</C:calendar-data>");
		} else {
			status = 403;
			dav_ctx_note(ctx, "calendar-data: %s", err.text);
		}
		free(text);
		ical_object_free(&io);
		ical_tz_free(&tz);
		ical_comp_select_free(&cd.comp);
	}
	if (fetched)
		store_dav_obj_clear(&full);
	return status;
}

static int caldav_prop(struct dav_ctx *ctx, enum dav_level level, const struct store_dav_coll *coll,
		       const struct store_dav_obj *obj, const struct dav_propname *p, struct buf *out)
{
	if (strcmp(p->ns, DAV_NS_CALDAV) != 0)
		return 404;
	const struct config *cfg = dav_ctx_config(ctx);
	if (level == DAV_LEVEL_OBJ) {
		if (strcmp(p->name, "calendar-data") == 0)
			return calendar_data_prop(ctx, coll, obj, p->node, out);
		return sched_calendar_prop(ctx, level, coll, obj, p, out);
	}
	if (level != DAV_LEVEL_COLL)
		return 404;
	if (strcmp(p->name, "supported-calendar-component-set") == 0) {
		comp_set_xml(out, coll_comp_set(ctx, coll));
		return 200;
	}
	if (strcmp(p->name, "supported-calendar-data") == 0) {
		buf_append_str(out, "<C:supported-calendar-data><C:calendar-data"
				    " content-type=\"text/calendar\" version=\"2.0\"/>"
				    "</C:supported-calendar-data>");
		return 200;
	}
	if (strcmp(p->name, "max-resource-size") == 0) {
		buf_printf(out, "<C:max-resource-size>%" PRIu64 "</C:max-resource-size>",
			   cfg->http.dav_max_resource_size);
		return 200;
	}
	if (strcmp(p->name, "max-instances") == 0) {
		buf_printf(out, "<C:max-instances>%" PRIu64 "</C:max-instances>",
			   cfg->http.dav_max_instances);
		return 200;
	}
	if (strcmp(p->name, "min-date-time") == 0 || strcmp(p->name, "max-date-time") == 0) {
		struct ical_limits lim;
		limits_of(ctx, &lim);
		buf_printf(out, "<C:%s>", p->name);
		ical_date(out, p->name[1] == 'i' ? lim.min_date_time : lim.max_date_time);
		buf_printf(out, "</C:%s>", p->name);
		return 200;
	}
	if (strcmp(p->name, "schedule-calendar-transp") == 0) {
		/* RFC 6638 9.1: whether its events count as busy time */
		char *xml = coll_prop(ctx, coll, "schedule-calendar-transp");
		if (xml != NULL) {
			buf_append_str(out, xml);
			free(xml);
		} else {
			buf_append_str(out, "<C:schedule-calendar-transp><C:opaque/>"
					    "</C:schedule-calendar-transp>");
		}
		return 200;
	}
	if (strcmp(p->name, "max-attendees-per-instance") == 0) {
		struct ical_limits lim;
		limits_of(ctx, &lim);
		buf_printf(out, "<C:max-attendees-per-instance>%u</C:max-attendees-per-instance>",
			   lim.max_attendees);
		return 200;
	}
	return 404;
}

static int caldav_set_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			   const struct dav_propop *op, bool creating)
{
	(void)coll;
	if (strcmp(op->ns, DAV_NS_CALDAV) != 0)
		return 0;
	if (strcmp(op->name, "supported-calendar-component-set") == 0) {
		/* RFC 4791 5.2.3: set at creation only. */
		if (!creating || op->remove)
			return 403;
		return caldav_comp_set_of(op->node) != 0 ? 200 : 409;
	}
	if (strcmp(op->name, "schedule-calendar-transp") == 0) {
		if (op->remove)
			return 200;
		bool one = dav_xml_child(op->node, DAV_NS_CALDAV, "opaque") != NULL ||
			   dav_xml_child(op->node, DAV_NS_CALDAV, "transparent") != NULL;
		return one ? 200 : 409;
	}
	if (strcmp(op->name, "calendar-timezone") == 0) {
		if (op->remove)
			return 200;
		char *text = dav_xml_text(op->node);
		struct ical_limits lim;
		struct ical_error err;
		struct ical_tz *tz = NULL;
		limits_of(ctx, &lim);
		int ok = ical_tz_parse(text, strlen(text), &lim, &tz, &err) == 0;
		ical_tz_free(&tz);
		xmlFree(text);
		return ok ? 200 : 409;
	}
	static const char *const protected_names[] = {
		"supported-calendar-data", "max-resource-size", "min-date-time", "max-date-time",
		"max-instances", "max-attendees-per-instance", "calendar-data", "schedule-tag", NULL };
	for (size_t i = 0; protected_names[i] != NULL; i++) {
		if (strcmp(op->name, protected_names[i]) == 0)
			return 403;
	}
	return 0;
}

static int caldav_principal_prop(struct dav_ctx *ctx, const char *principal,
				 const struct dav_propname *p, struct buf *out)
{
	/* calendar-user-address-set and the RFC 6638 principal properties */
	return sched_principal_prop(ctx, principal, p, out);
}

/* ---- REPORTs ---- */


/* Answer a CalDAV precondition failure of a report. */
static void report_error(struct dav_ctx *ctx, const struct ical_error *err)
{
	const char *name = err->precond != ICAL_PRECOND_NONE ? ical_precond_name(err->precond) :
			   "valid-filter";
	dav_error(ctx, 403, DAV_NS_CALDAV, name, NULL);
	dav_ctx_note(ctx, "%s: %s", name, err->text);
}

struct query_ctx {
	struct dav_ctx *ctx;
	const struct store_dav_coll *coll;
	const struct dav_propfind *pf;
	const struct ical_comp_filter *filter;
	const struct ical_tz *tz;
	struct ical_limits lim;
	struct ical_freebusy *fb;
	const char *only;		/* evaluate only this object (a query on a resource) */
	struct ical_error err;
	bool failed;
	unsigned matched;
};

static void query_cb(const struct store_dav_obj *obj, void *vctx)
{
	struct query_ctx *q = vctx;
	if (q->failed || (q->only != NULL && strcmp(q->only, obj->name) != 0))
		return;
	struct ical_object *io = NULL;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	/* Stored objects passed ical_object_parse() at PUT: load them without
	 * the costly checks (the RRULE probe measures CPU time, which a loaded
	 * machine could push past its limit and so skip a valid object). */
	if (ical_object_load(obj->data, obj->len, &q->lim, &io, &err) < 0) {
		/* stored before a limit was lowered: skip it, say so in the log */
		dav_ctx_note(q->ctx, "skipped %s: %s", obj->name, err.text);
		return;
	}
	if (q->fb != NULL) {
		if (ical_freebusy_add(q->fb, io, q->tz, &q->lim, &err) < 0) {
			q->failed = true;
			q->err = err;
		}
		ical_object_free(&io);
		return;
	}
	bool match = false;
	if (ical_filter_match(q->filter, io, q->tz, &q->lim, &match, &err) < 0) {
		q->failed = true;
		q->err = err;
	}
	ical_object_free(&io);
	if (match && !q->failed) {
		q->matched++;
		dav_ms_object(q->ctx, q->coll, obj, q->pf);
	}
}

/* The query's own timezone (CALDAV:timezone) or the collection's. */
static struct ical_tz *query_tz(struct dav_ctx *ctx, xmlNode *root, const struct store_dav_coll *coll,
				struct ical_error *err, bool *bad_r)
{
	*bad_r = false;
	xmlNode *tzn = dav_xml_child(root, DAV_NS_CALDAV, "timezone");
	if (tzn == NULL)
		return coll_tz(ctx, coll);
	char *text = dav_xml_text(tzn);
	struct ical_limits lim;
	limits_of(ctx, &lim);
	struct ical_tz *tz = NULL;
	if (ical_tz_parse(text, strlen(text), &lim, &tz, err) < 0) {
		*bad_r = true;
		tz = NULL;
	}
	xmlFree(text);
	return tz;
}

static int calendar_query(struct dav_ctx *ctx, xmlNode *root)
{
	const struct store_dav_coll *coll = dav_ctx_coll(ctx);
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	struct ical_comp_filter *filter = NULL;
	if (caldav_filter_of(dav_xml_child(root, DAV_NS_CALDAV, "filter"), &filter, &err) < 0) {
		report_error(ctx, &err);
		return 0;
	}
	bool bad;
	struct ical_tz *tz = query_tz(ctx, root, coll, &err, &bad);
	if (bad) {
		ical_comp_filter_free(&filter);
		err.precond = ICAL_VALID_CALENDAR_DATA;
		report_error(ctx, &err);
		return 0;
	}
	struct dav_propfind pf;
	const char *perr;
	dav_prop_list_parse(root, &pf, &perr);
	unsigned comps;
	struct ical_time_range tr;
	ical_filter_hints(filter, &comps, &tr);
	const char *comp = NULL;
	if (comps != 0 && (comps & (comps - 1)) == 0)
		comp = ical_comp_name((enum ical_comp)comps);
	struct query_ctx q = { .ctx = ctx, .coll = coll, .pf = &pf, .filter = filter, .tz = tz,
			       .only = dav_ctx_object(ctx) };
	limits_of(ctx, &q.lim);
	dav_ms_begin(ctx);
	const char *serr;
	/* Depth: 0 on a calendar asks about the collection itself, which is no
	 * calendar object (RFC 4791 7.8); a missing Depth is taken as 1, what
	 * every client means. */
	const char *depth = dav_ctx_request(ctx)->depth;
	if (q.only == NULL && depth != NULL && strcmp(depth, "0") == 0) {
		dav_ms_end(ctx);
		dav_propfind_free(&pf);
		ical_comp_filter_free(&filter);
		ical_tz_free(&tz);
		return 0;
	}
	int ret = store_dav_obj_range(dav_ctx_store(ctx), coll->id, comp,
				      tr.has_start ? tr.start : STORE_DAV_NO_TIME,
				      tr.has_end ? tr.end : STORE_DAV_NO_TIME, true, query_cb, &q,
				      &serr);
	dav_ms_end(ctx);
	dav_propfind_free(&pf);
	ical_comp_filter_free(&filter);
	ical_tz_free(&tz);
	if (ret != STORE_OK) {
		dav_error(ctx, 500, DAV_NS, "internal-error", NULL);
		return 0;
	}
	if (q.failed)
		report_error(ctx, &q.err);
	return 0;
}

struct multiget {
	struct dav_ctx *ctx;
	const struct store_dav_coll *coll;
	const struct dav_propfind *pf;
	char **names;
	bool *found;
	size_t n;
};

static void multiget_cb(const struct store_dav_obj *obj, void *vctx)
{
	struct multiget *mg = vctx;
	for (size_t i = 0; i < mg->n; i++) {
		if (strcmp(mg->names[i], obj->name) == 0)
			mg->found[i] = true;
	}
	dav_ms_object(mg->ctx, mg->coll, obj, mg->pf);
}

static int calendar_multiget(struct dav_ctx *ctx, xmlNode *root)
{
	const struct store_dav_coll *coll = dav_ctx_coll(ctx);
	struct dav_propfind pf;
	const char *perr;
	dav_prop_list_parse(root, &pf, &perr);
	dav_ms_begin(ctx);
	char **names = NULL;
	size_t n = 0;
	for (xmlNode *h = dav_xml_elem(root->children); h != NULL; h = dav_xml_elem(h->next)) {
		if (!dav_xml_is(h, DAV_NS, "href"))
			continue;
		char *href = dav_xml_text(h);
		struct store_dav_coll hc;
		char name[STORE_DAV_NAME_MAX + 1];
		int st = dav_resolve_href(ctx, href, &hc, name);
		if (st == 0 && hc.id != coll->id)
			st = 404;
		if (st != 0) {
			dav_ms_status(ctx, href, st == 400 ? 404 : st);
		} else {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(name);
		}
		xmlFree(href);
	}
	int ret = STORE_OK;
	if (n > 0) {
		bool *found = xcalloc(n, sizeof(bool));
		struct multiget mg = { ctx, coll, &pf, names, found, n };
		const char *serr;
		ret = store_dav_obj_list(dav_ctx_store(ctx), coll->id, (const char *const *)names, n,
					 true, multiget_cb, &mg, &serr);
		for (size_t i = 0; i < n; i++) {
			if (!found[i]) {
				struct buf href;
				buf_init(&href, 0);
				dav_href(&href, coll, names[i]);
				dav_ms_status(ctx, href.data, 404);
				buf_free(&href);
			}
			free(names[i]);
		}
		free(found);
	}
	free(names);
	dav_ms_end(ctx);
	dav_propfind_free(&pf);
	if (ret != STORE_OK)
		dav_error(ctx, 500, DAV_NS, "internal-error", NULL);
	return 0;
}

static int free_busy_query(struct dav_ctx *ctx, xmlNode *root)
{
	const struct store_dav_coll *coll = dav_ctx_coll(ctx);
	xmlNode *trn = dav_xml_child(root, DAV_NS_CALDAV, "time-range");
	struct ical_time_range tr;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	if (trn == NULL || caldav_time_range_of(trn, &tr, &err) < 0 || !tr.has_start || !tr.has_end) {
		err.precond = ICAL_VALID_FILTER;
		snprintf(err.text, sizeof(err.text), "free-busy-query needs a closed time-range");
		report_error(ctx, &err);
		return 0;
	}
	struct query_ctx q = { .ctx = ctx, .coll = coll };
	limits_of(ctx, &q.lim);
	q.fb = ical_freebusy_new(&tr);
	const char *serr;
	/* From the busy-time index (migration 0026), which holds what
	 * ical_freebusy_add() would compute for each object. */
	int ret = sched_fbindex_report(dav_ctx_store(ctx), dav_ctx_config(ctx), coll, tr.start,
				       tr.end, q.fb, &serr);
	if (ret != STORE_OK || q.failed) {
		ical_freebusy_free(&q.fb);
		if (q.failed)
			report_error(ctx, &q.err);
		else
			dav_error(ctx, 500, DAV_NS, "internal-error", NULL);
		return 0;
	}
	size_t len;
	char *text = ical_freebusy_render(q.fb, (int64_t)time(NULL), &len);
	ical_freebusy_free(&q.fb);
	struct dav_response *resp = dav_ctx_response(ctx);
	resp->status = 200;
	snprintf(resp->content_type, sizeof(resp->content_type), "text/calendar; charset=utf-8");
	buf_reset(&resp->body);
	buf_append(&resp->body, text, len);
	free(text);
	return 0;
}

static int caldav_report(struct dav_ctx *ctx, xmlNode *root)
{
	if (dav_ctx_coll(ctx) == NULL)
		return 1;
	if (dav_xml_is(root, DAV_NS_CALDAV, "calendar-query"))
		return calendar_query(ctx, root);
	if (dav_xml_is(root, DAV_NS_CALDAV, "calendar-multiget"))
		return calendar_multiget(ctx, root);
	if (dav_xml_is(root, DAV_NS_CALDAV, "free-busy-query"))
		return free_busy_query(ctx, root);
	return 1;
}

struct export_ctx {
	struct ical_join *join;
	struct ical_limits lim;
	bool failed;
	struct ical_error err;
};

static void export_cb(const struct store_dav_obj *obj, void *vctx)
{
	struct export_ctx *e = vctx;
	if (!e->failed && ical_join_add(e->join, obj->data, obj->len, &e->lim, &e->err) < 0)
		e->failed = true;
}

int caldav_export(struct store *st, const struct config *cfg, const struct store_dav_coll *coll,
		  struct buf *out, const char **ctype_r, const char **error_r)
{
	struct export_ctx e = { .join = ical_join_new("-//Cairn//CalDAV//EN") };
	ical_limits_default(&e.lim);
	e.lim.max_resource_size = (size_t)cfg->http.dav_max_resource_size;
	e.lim.max_output = 256u * 1024 * 1024;
	int ret = store_dav_obj_list(st, coll->id, NULL, 0, true, export_cb, &e, error_r);
	if (ret != STORE_OK || e.failed) {
		ical_join_free(&e.join);
		if (e.failed)
			*error_r = "a stored object could not be exported";
		return -1;
	}
	size_t len;
	char *text = ical_join_finish(&e.join, &len);
	buf_append(out, text, len);
	free(text);
	*ctype_r = "text/calendar; charset=utf-8";
	return 0;
}

static const struct dav_propdef caldav_props[] = {
	{ DAV_NS_CALDAV, "supported-calendar-component-set", true },
	{ DAV_NS_CALDAV, "supported-calendar-data", false },
	{ DAV_NS_CALDAV, "max-resource-size", false },
	{ DAV_NS_CALDAV, "min-date-time", false },
	{ DAV_NS_CALDAV, "max-date-time", false },
	{ DAV_NS_CALDAV, "max-instances", false },
	{ DAV_NS_CALDAV, "max-attendees-per-instance", false },
	{ DAV_NS_CALDAV, "calendar-data", false },
	{ DAV_NS_CALDAV, "schedule-calendar-transp", true },
	{ DAV_NS_CALDAV, "schedule-tag", false },
	{ NULL, NULL, false },
};

const struct dav_kind caldav_kind = {
	.name = "calendar",
	.home = "calendars",
	.ns = DAV_NS_CALDAV,
	.type = "calendar",
	.home_set = "calendar-home-set",
	.mkcol_method = "MKCALENDAR",
	.dav_class = "calendar-access",
	.content_type = "text/calendar; charset=utf-8",
	.reports = "<D:supported-report><D:report><C:calendar-query/></D:report></D:supported-report>"
		   "<D:supported-report><D:report><C:calendar-multiget/></D:report></D:supported-report>"
		   "<D:supported-report><D:report><C:free-busy-query/></D:report></D:supported-report>",
	.props = caldav_props,
	.validate = caldav_validate,
	.put_free = caldav_put_free,
	.prop = caldav_prop,
	.set_prop = caldav_set_prop,
	.report = caldav_report,
	.export = caldav_export,
	.principal_prop = caldav_principal_prop,
};
