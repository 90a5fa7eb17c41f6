/* Delegation in the WebDAV core: the CalendarServer calendar-proxy
 * extension (caldav-proxy.txt) that Apple Calendar and other clients use.
 *
 * Every user principal /dav/principals/<user>/ has two child principals,
 * calendar-proxy-read/ and calendar-proxy-write/ (resourcetype DAV:principal
 * with CS:calendar-proxy-read or -write). Their DAV:group-member-set names
 * the user's delegates (accounts or directory groups), which the user sets
 * with PROPPATCH; a delegate's own principal shows, to that delegate,
 * DAV:group-membership (the proxy principals it is in) and
 * CS:calendar-proxy-read-for / -write-for (whose delegate it is). The
 * delegates are stored by store_dav_proxy_* (migration 0028); dav.c turns a
 * delegate's mode into read or read-write access to every collection of the
 * owner's calendar home (scheduling inbox and outbox included), on every
 * method, through dav_proxy_access.
 *
 * Clients read the -for properties with the DAV:expand-property REPORT
 * (RFC 3253 3.8), which is here for every resource but objects
 * (dav_proxy_expand_property): the properties asked for, with the DAV:href
 * values of those that have nested DAV:property elements replaced by a
 * DAV:response describing the resource named (principal, home or
 * collection the requester may read; else a 404 response), recursively. */
#include "autoconf.h"
#include "caldav.h"
#include "dav-private.h"
#include "log.h"

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most delegates one group-member-set may name. */
#define PROXY_MAX_MEMBERS 256
/* expand-property: nesting of DAV:property, and responses in all. */
#define EXPAND_MAX_LEVEL 4
#define EXPAND_MAX_RESPONSES 2000

int dav_proxy_of_segment(const char *seg)
{
	if (strcmp(seg, "calendar-proxy-read") == 0)
		return STORE_DAV_PROXY_READ;
	if (strcmp(seg, "calendar-proxy-write") == 0)
		return STORE_DAV_PROXY_WRITE;
	return STORE_DAV_PROXY_NONE;
}

const char *dav_proxy_segment(int proxy)
{
	return proxy == STORE_DAV_PROXY_WRITE ? "calendar-proxy-write" : "calendar-proxy-read";
}

int dav_proxy_access(struct dav_ctx *ctx, const char *owner, const char *home, int *access_r,
		     const char **error_r)
{
	*access_r = STORE_DAV_NONE;
	if (strcmp(home, caldav_kind.home) != 0 || strcmp(owner, ctx->req->user) == 0)
		return STORE_OK;
	int mode;
	int ret = store_dav_proxy_mode(ctx->st, owner, ctx->req->user, &mode, error_r);
	if (ret != STORE_OK)
		return ret;
	*access_r = mode == STORE_DAV_PROXY_WRITE ? STORE_DAV_WRITE :
		    mode == STORE_DAV_PROXY_READ ? STORE_DAV_READ : STORE_DAV_NONE;
	return STORE_OK;
}

int dav_proxy_principal_access(struct dav_ctx *ctx, const char *owner, int *access_r,
			       const char **error_r)
{
	*access_r = STORE_DAV_OWNER;
	if (strcmp(owner, ctx->req->user) == 0)
		return STORE_OK;
	int mode;
	int ret = store_dav_proxy_mode(ctx->st, owner, ctx->req->user, &mode, error_r);
	if (ret != STORE_OK)
		return ret;
	*access_r = mode != STORE_DAV_PROXY_NONE ? STORE_DAV_READ : STORE_DAV_NONE;
	return STORE_OK;
}

/* ---- properties ---- */

struct for_list {
	struct buf *out;
	int mode;		/* the -for property's mode, 0: group-membership */
};

static void proxy_for_cb(const char *owner, int mode, void *vctx)
{
	struct for_list *l = vctx;
	if (l->mode != 0 && mode != l->mode)
		return;
	buf_append_str(l->out, "<D:href>");
	dav_href_principal(l->out, owner);
	if (l->mode == 0)
		buf_printf(l->out, "%s/", dav_proxy_segment(mode));
	buf_append_str(l->out, "</D:href>");
}

static void member_cb(const char *delegate, int mode, void *vctx)
{
	(void)mode;
	struct buf *out = vctx;
	buf_append_str(out, "<D:href>");
	dav_href_principal(out, delegate);
	buf_append_str(out, "</D:href>");
}

int dav_proxy_prop(struct dav_ctx *ctx, const char *user, int proxy, const struct dav_propname *p,
		   struct buf *out)
{
	const char *error = NULL;
	bool dav = strcmp(p->ns, DAV_NS) == 0, cs = strcmp(p->ns, DAV_NS_CS) == 0;
	if (proxy == STORE_DAV_PROXY_NONE) {
		int mode = -1;
		if (dav && strcmp(p->name, "group-membership") == 0)
			mode = 0;
		else if (cs && strcmp(p->name, "calendar-proxy-read-for") == 0)
			mode = STORE_DAV_PROXY_READ;
		else if (cs && strcmp(p->name, "calendar-proxy-write-for") == 0)
			mode = STORE_DAV_PROXY_WRITE;
		if (mode < 0)
			return 404;
		/* whose delegate someone is, is theirs to know */
		if (strcmp(user, ctx->req->user) != 0)
			return 403;
		const char *elem = mode == 0 ? "D:group-membership" :
				   mode == STORE_DAV_PROXY_READ ? "CS:calendar-proxy-read-for" :
				   "CS:calendar-proxy-write-for";
		struct buf tmp;
		buf_init(&tmp, 0);
		struct for_list l = { &tmp, mode };
		int ret = store_dav_proxy_for(ctx->st, user, proxy_for_cb, &l, &error);
		if (ret != STORE_OK) {
			buf_free(&tmp);
			dav_ctx_note(ctx, "store: %s", error != NULL ? error : "error");
			return 500;
		}
		buf_printf(out, "<%s>", elem);
		buf_append(out, tmp.data != NULL ? tmp.data : "", tmp.len);
		buf_printf(out, "</%s>", elem);
		buf_free(&tmp);
		return 200;
	}
	if (dav && strcmp(p->name, "group-member-set") == 0) {
		struct buf tmp;
		buf_init(&tmp, 0);
		int ret = store_dav_proxies(ctx->st, user, proxy, member_cb, &tmp, &error);
		if (ret != STORE_OK) {
			buf_free(&tmp);
			dav_ctx_note(ctx, "store: %s", error != NULL ? error : "error");
			return 500;
		}
		buf_append_str(out, "<D:group-member-set>");
		buf_append(out, tmp.data != NULL ? tmp.data : "", tmp.len);
		buf_append_str(out, "</D:group-member-set>");
		buf_free(&tmp);
		return 200;
	}
	if (dav && strcmp(p->name, "group-membership") == 0) {
		buf_append_str(out, "<D:group-membership/>");
		return 200;
	}
	if (dav && strcmp(p->name, "alternate-URI-set") == 0) {
		buf_append_str(out, "<D:alternate-URI-set/>");
		return 200;
	}
	if (dav && strcmp(p->name, "displayname") == 0) {
		buf_append_str(out, "<D:displayname>");
		dav_xml_escape(out, user);
		buf_printf(out, " %s</D:displayname>", proxy == STORE_DAV_PROXY_WRITE ?
			   "(calendar delegates, read-write)" : "(calendar delegates, read)");
		return 200;
	}
	return 404;
}

/* ---- PROPPATCH of group-member-set ---- */

/* The address a member href names: a user's or group's principal URL or a
 * mailto: URI, lower-cased. 0, or -1. */
static int member_of_href(const char *href, char *addr, size_t size)
{
	int proxy = 0;
	if (str_ncasecmp(href, "mailto:", 7) == 0)
		snprintf(addr, size, "%s", href + 7);
	else if (dav_principal_parse_href(href, addr, size, &proxy) < 0 || proxy != 0)
		return -1;
	for (char *c = addr; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	}
	return strchr(addr, '@') != NULL && strlen(addr) >= 3 ? 0 : -1;
}

struct members {
	char (*addr)[321];
	size_t n;
};

/* Read and check one group-member-set value into m: 200, or 409 with a
 * reason into why. STORE_* errors go to *store_ret. */
static int read_members(struct dav_ctx *ctx, const struct dav_propop *op, struct members *m,
			char *why, size_t why_size, int *store_ret)
{
	m->n = 0;
	if (op->remove)
		return 200;
	for (xmlNode *c = dav_xml_elem(op->node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (!dav_xml_is(c, DAV_NS, "href")) {
			snprintf(why, why_size, "group-member-set holds DAV:href elements only");
			return 409;
		}
		if (m->n == PROXY_MAX_MEMBERS) {
			snprintf(why, why_size, "more than %d delegates", PROXY_MAX_MEMBERS);
			return 409;
		}
		char addr[321];
		char *h = dav_xml_text(c);
		int bad = member_of_href(h, addr, sizeof(addr));
		if (bad < 0) {
			snprintf(why, why_size, "not a principal: %.200s", h);
			xmlFree(h);
			return 409;
		}
		xmlFree(h);
		if (strcmp(addr, ctx->user) == 0) {
			snprintf(why, why_size, "a user cannot be its own delegate");
			return 409;
		}
		int kind = 0;
		const char *error = NULL;
		int ret = store_dav_principal_kind(ctx->st, addr, &kind, &error);
		if (ret != STORE_OK) {
			*store_ret = ret;
			dav_ctx_note(ctx, "store: %s", error != NULL ? error : "error");
			return 500;
		}
		if (kind == 0) {
			snprintf(why, why_size, "no such user or group: %.200s", addr);
			return 409;
		}
		bool dup = false;
		for (size_t i = 0; i < m->n && !dup; i++)
			dup = strcmp(m->addr[i], addr) == 0;
		if (dup)
			continue;
		m->addr = xrealloc(m->addr, (m->n + 1) * sizeof(*m->addr));
		snprintf(m->addr[m->n++], sizeof(*m->addr), "%s", addr);
	}
	return 200;
}

int dav_proxy_proppatch(struct dav_ctx *ctx, const struct dav_proppatch *pp)
{
	if (strcmp(ctx->user, ctx->req->user) != 0) {
		dav_error(ctx, 403, DAV_NS, "need-privileges", NULL);
		return 0;
	}
	int *statuses = xcalloc(pp->count + 1, sizeof(int));
	struct members m = { NULL, 0 };
	char why[300] = "";
	int store_ret = STORE_OK;
	int failed = 0;
	/* check everything first: nothing is written unless all of it can be */
	for (size_t i = 0; i < pp->count; i++) {
		const struct dav_propop *op = &pp->ops[i];
		int st = 403;
		if (strcmp(op->ns, DAV_NS) == 0 && strcmp(op->name, "group-member-set") == 0)
			st = read_members(ctx, op, &m, why, sizeof(why), &store_ret);
		else if (why[0] == '\0')
			snprintf(why, sizeof(why), "only DAV:group-member-set can be changed here");
		statuses[i] = st;
		if (st != 200 && failed == 0)
			failed = st;
		if (store_ret != STORE_OK)
			break;
	}
	const char *error = NULL;
	size_t total = 0;
	for (size_t i = 0; failed == 0 && i < pp->count && store_ret == STORE_OK; i++) {
		if (read_members(ctx, &pp->ops[i], &m, why, sizeof(why), &store_ret) != 200)
			break;
		store_ret = store_dav_proxy_clear(ctx->st, ctx->user, ctx->proxy, &error);
		for (size_t j = 0; j < m.n && store_ret == STORE_OK; j++)
			store_ret = store_dav_proxy_set(ctx->st, ctx->user, m.addr[j], ctx->proxy,
							&error);
		total = m.n;
	}
	free(m.addr);
	if (store_ret != STORE_OK) {
		free(statuses);
		dav_text_response(ctx, store_ret == STORE_TEMPFAIL ? 503 : 500,
				  "the delegates could not be changed");
		if (error != NULL)
			dav_ctx_note(ctx, "store: %s", error);
		return store_ret;
	}
	dav_ms_begin(ctx);
	struct buf *b = dav_ctx_body(ctx);
	buf_append_str(b, "<D:response><D:href>");
	dav_href_principal(b, ctx->user);
	buf_printf(b, "%s/</D:href>", dav_proxy_segment(ctx->proxy));
	for (size_t i = 0; i < pp->count; i++) {
		int st = statuses[i] == 200 && failed != 0 ? 424 : statuses[i];
		buf_append_str(b, "<D:propstat><D:prop>");
		dav_xml_empty_elem(b, pp->ops[i].ns, pp->ops[i].name);
		buf_printf(b, "</D:prop><D:status>%s</D:status></D:propstat>", dav_status_line(st));
	}
	if (failed != 0) {
		buf_append_str(b, "<D:responsedescription>");
		dav_xml_escape(b, why);
		buf_append_str(b, "</D:responsedescription>");
		dav_ctx_note(ctx, "%s", why);
	}
	buf_append_str(b, "</D:response>\n");
	dav_ms_end(ctx);
	free(statuses);
	if (failed == 0)
		log_info("dav user=%s event=delegates mode=%s count=%zu", ctx->req->user,
			 ctx->proxy == STORE_DAV_PROXY_WRITE ? "write" : "read", total);
	return 0;
}

/* ---- REPORT expand-property ---- */

struct expand {
	struct dav_ctx *ctx;
	unsigned responses;
	int store_ret;
};

static const char *known_prefix(const char *ns)
{
	if (strcmp(ns, DAV_NS) == 0)
		return "D";
	if (strcmp(ns, DAV_NS_CALDAV) == 0)
		return "C";
	if (strcmp(ns, DAV_NS_CARDDAV) == 0)
		return "CR";
	if (strcmp(ns, DAV_NS_CS) == 0)
		return "CS";
	return NULL;
}

/* The start tag of an element (the prefixes of dav_ms_begin, else one of
 * its own); its end tag with open false. */
static void elem_tag(struct buf *out, const char *ns, const char *name, bool open)
{
	const char *prefix = known_prefix(ns);
	if (!open) {
		buf_printf(out, "</%s:%s>", prefix != NULL ? prefix : "X", name);
		return;
	}
	if (prefix != NULL) {
		buf_printf(out, "<%s:%s>", prefix, name);
		return;
	}
	buf_printf(out, "<X:%s xmlns:X=\"", name);
	dav_xml_escape(out, ns);
	buf_append_str(out, "\">");
}

/* Results of one resource by status. */
#define EX_SLOTS 5
struct ex_ps {
	int status[EX_SLOTS];
	struct buf xml[EX_SLOTS];
	size_t n;
};

static struct buf *ex_slot(struct ex_ps *ps, int status)
{
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->status[i] == status)
			return &ps->xml[i];
	}
	if (ps->n == EX_SLOTS)
		return &ps->xml[EX_SLOTS - 1];
	ps->status[ps->n] = status;
	buf_init(&ps->xml[ps->n], 0);
	return &ps->xml[ps->n++];
}

static void describe_res(struct expand *ex, struct dav_resref *ref, const xmlNode *spec, int level,
			 struct buf *out);

/* value: a property element as the core wrote it; its DAV:href children
 * replaced by descriptions of the principals they name with the
 * properties of spec's DAV:property children. */
static void expand_value(struct expand *ex, const struct dav_propname *p, const char *value,
			 size_t len, const xmlNode *spec, int level, struct buf *out)
{
	struct buf doc;
	buf_init(&doc, 0);
	buf_append_str(&doc, "<R xmlns:D=\"DAV:\" xmlns:C=\"" DAV_NS_CALDAV "\" xmlns:CR=\""
			     DAV_NS_CARDDAV "\" xmlns:CS=\"" DAV_NS_CS "\">");
	buf_append(&doc, value, len);
	buf_append_str(&doc, "</R>");
	struct dav_xml_limits lim = { doc.len + 1, 64, 100000 };
	xmlDocPtr d = NULL;
	const char *error = NULL;
	xmlNode *prop = NULL;
	if (dav_xml_parse(doc.data, doc.len, &lim, &d, &error) == 0)
		prop = dav_xml_elem(xmlDocGetRootElement(d)->children);
	buf_free(&doc);
	if (prop == NULL) {
		/* not XML we can walk: the value as it is */
		buf_append(out, value, len);
		if (d != NULL)
			xmlFreeDoc(d);
		return;
	}
	elem_tag(out, p->ns, p->name, true);
	for (xmlNode *c = dav_xml_elem(prop->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (!dav_xml_is(c, DAV_NS, "href")) {
			dav_xml_serialize(c, out);
			continue;
		}
		char *h = dav_xml_text(c);
		struct dav_resref *ref = NULL;
		int st = ex->responses < EXPAND_MAX_RESPONSES && ex->store_ret == STORE_OK ?
			 dav_resref_open(ex->ctx, h, &ref) : 404;
		if (st == 500)
			ex->store_ret = STORE_ERROR;
		if (ref != NULL) {
			describe_res(ex, ref, spec, level, out);
			dav_resref_free(ref);
		} else {
			buf_append_str(out, "<D:response><D:href>");
			dav_xml_escape(out, h);
			buf_printf(out, "</D:href><D:status>%s</D:status></D:response>",
				   dav_status_line(404));
		}
		xmlFree(h);
	}
	elem_tag(out, p->ns, p->name, false);
	xmlFreeDoc(d);
}

/* One DAV:response for a resource with the properties spec asks for. */
static void describe_res(struct expand *ex, struct dav_resref *ref, const xmlNode *spec, int level,
			 struct buf *out)
{
	ex->responses++;
	buf_append_str(out, "<D:response><D:href>");
	struct buf href;
	buf_init(&href, 0);
	dav_resref_href(ref, &href);
	dav_xml_escape(out, href.data != NULL ? href.data : "");
	buf_free(&href);
	buf_append_str(out, "</D:href>");
	struct ex_ps ps = { .n = 0 };
	for (xmlNode *c = dav_xml_elem(spec->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (!dav_xml_is(c, DAV_NS, "property"))
			continue;
		xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
		xmlChar *ns = xmlGetProp(c, (const xmlChar *)"namespace");
		struct dav_propname p = { ns != NULL ? (const char *)ns : DAV_NS,
					  name != NULL ? (const char *)name : "", NULL };
		struct buf tmp;
		buf_init(&tmp, 0);
		int st = p.name[0] != '\0' ? dav_resref_value(ex->ctx, ref, &p, &tmp) : 404;
		if (st == 500)
			ex->store_ret = STORE_ERROR;
		if (st == 200 && dav_xml_child(c, DAV_NS, "property") != NULL && level < EXPAND_MAX_LEVEL)
			expand_value(ex, &p, tmp.data, tmp.len, c, level + 1, ex_slot(&ps, 200));
		else if (st == 200)
			buf_append(ex_slot(&ps, 200), tmp.data, tmp.len);
		else if (p.name[0] != '\0')
			dav_xml_empty_elem(ex_slot(&ps, st), p.ns, p.name);
		buf_free(&tmp);
		xmlFree(name);
		xmlFree(ns);
	}
	if (ps.n == 0)
		buf_append_str(out, "<D:propstat><D:prop/><D:status>HTTP/1.1 200 OK</D:status>"
				    "</D:propstat>");
	for (size_t i = 0; i < ps.n; i++) {
		buf_append_str(out, "<D:propstat><D:prop>");
		buf_append(out, ps.xml[i].data != NULL ? ps.xml[i].data : "", ps.xml[i].len);
		buf_printf(out, "</D:prop><D:status>%s</D:status></D:propstat>",
			   dav_status_line(ps.status[i]));
		buf_free(&ps.xml[i]);
	}
	buf_append_str(out, "</D:response>\n");
}

int dav_proxy_expand_property(struct dav_ctx *ctx, xmlNode *root)
{
	for (xmlNode *c = dav_xml_elem(root->children); c != NULL; c = dav_xml_elem(c->next)) {
		xmlChar *name = dav_xml_is(c, DAV_NS, "property") ?
				xmlGetProp(c, (const xmlChar *)"name") : NULL;
		bool ok = name != NULL && name[0] != '\0';
		xmlFree(name);
		if (!ok) {
			dav_text_response(ctx, 400, "expand-property holds DAV:property elements "
					  "with a name");
			return 0;
		}
	}
	struct expand ex = { ctx, 0, STORE_OK };
	struct dav_resref *ref = NULL;
	int st = dav_resref_open(ctx, ctx->req->path, &ref);
	if (st == 500) {
		dav_text_response(ctx, 500, "internal error");
		return STORE_ERROR;
	}
	if (ref == NULL) {
		dav_text_response(ctx, 404, "no such resource");
		return 0;
	}
	struct buf out;
	buf_init(&out, 0);
	describe_res(&ex, ref, root, 1, &out);
	dav_resref_free(ref);
	if (ex.store_ret != STORE_OK) {
		buf_free(&out);
		dav_text_response(ctx, 500, "internal error");
		return ex.store_ret;
	}
	dav_ms_begin(ctx);
	buf_append(dav_ctx_body(ctx), out.data, out.len);
	dav_ms_end(ctx);
	buf_free(&out);
	return 0;
}
