/* The WebDAV core: resolve the path, check rights, and run the method in
 * one store transaction on a worker thread (see dav.h). Kinds (CalDAV,
 * CardDAV, plain files) plug in through struct dav_kind. */
#include "autoconf.h"
#include "dav.h"
#include "dav-private.h"
#include "sched-freebusy.h"
#include "sched-private.h"
#include "store-sched.h"
#include "config.h"
#include "log.h"
#include "store.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char dav_allow_methods[] =
	"OPTIONS, GET, HEAD, POST, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, MKCALENDAR, COPY, MOVE, "
	"REPORT, ACL";


/* ---- small helpers ---- */

const struct dav_kind *dav_kind_by_name(const char *name)
{
	for (size_t i = 0; dav_kinds[i] != NULL; i++) {
		if (strcmp(dav_kinds[i]->name, name) == 0)
			return dav_kinds[i];
	}
	return NULL;
}

static const struct dav_kind *kind_by_home(const char *home)
{
	for (size_t i = 0; dav_kinds[i] != NULL; i++) {
		if (strcmp(dav_kinds[i]->home, home) == 0)
			return dav_kinds[i];
	}
	return NULL;
}

/* A collection of a kind that stands for another: read that one (0, or -1). */
static int resolve_coll(struct dav_ctx *ctx, struct store_dav_coll *coll)
{
	const struct dav_kind *k = dav_kind_by_name(coll->kind);
	if (k != NULL && k->readonly && coll->access > STORE_DAV_READ)
		coll->access = STORE_DAV_READ;
	if (k == NULL || k->resolve == NULL)
		return 0;
	return k->resolve(ctx, coll);
}

const struct dav_request *dav_ctx_request(const struct dav_ctx *ctx) { return ctx->req; }
struct store *dav_ctx_store(const struct dav_ctx *ctx) { return ctx->st; }
const struct config *dav_ctx_config(const struct dav_ctx *ctx) { return ctx->cfg; }
xmlDocPtr dav_ctx_doc(const struct dav_ctx *ctx) { return ctx->doc; }
struct buf *dav_ctx_body(struct dav_ctx *ctx) { return &ctx->resp->body; }
struct dav_response *dav_ctx_response(struct dav_ctx *ctx) { return ctx->resp; }

const struct store_dav_coll *dav_ctx_coll(const struct dav_ctx *ctx)
{
	return ctx->coll_exists ? &ctx->coll : NULL;
}

const char *dav_ctx_object(const struct dav_ctx *ctx)
{
	return ctx->type == T_OBJ ? ctx->obj_name : NULL;
}

void dav_ctx_note(struct dav_ctx *ctx, const char *fmt, ...)
{
	if (ctx->note[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->note, sizeof(ctx->note), fmt, ap);
	va_end(ap);
}

const char *dav_status_line(int status)
{
	switch (status) {
	case 200: return "HTTP/1.1 200 OK";
	case 201: return "HTTP/1.1 201 Created";
	case 204: return "HTTP/1.1 204 No Content";
	case 400: return "HTTP/1.1 400 Bad Request";
	case 403: return "HTTP/1.1 403 Forbidden";
	case 404: return "HTTP/1.1 404 Not Found";
	case 409: return "HTTP/1.1 409 Conflict";
	case 412: return "HTTP/1.1 412 Precondition Failed";
	case 424: return "HTTP/1.1 424 Failed Dependency";
	case 507: return "HTTP/1.1 507 Insufficient Storage";
	default: return "HTTP/1.1 500 Internal Server Error";
	}
}

void dav_options_header(struct buf *out)
{
	buf_append_str(out, "DAV: 1, 3, extended-mkcol, access-control, calendarserver-sharing, "
			    "calendar-proxy");
	for (size_t i = 0; dav_kinds[i] != NULL; i++) {
		if (dav_kinds[i]->dav_class != NULL)
			buf_printf(out, ", %s", dav_kinds[i]->dav_class);
	}
	buf_append_str(out, "\r\n");
}

static void reset_response(struct dav_response *resp)
{
	resp->status = 500;
	buf_reset(&resp->headers);
	buf_reset(&resp->body);
	resp->content_type[0] = '\0';
}

static void text_response(struct dav_ctx *ctx, int status, const char *text)
{
	dav_text_response(ctx, status, text);
}

static void set_status(struct dav_ctx *ctx, int status)
{
	ctx->resp->status = status;
}

void dav_text_response(struct dav_ctx *ctx, int status, const char *text)
{
	reset_response(ctx->resp);
	ctx->resp->status = status;
	snprintf(ctx->resp->content_type, sizeof(ctx->resp->content_type),
		 "text/plain; charset=utf-8");
	buf_printf(&ctx->resp->body, "%s\n", text);
	dav_ctx_note(ctx, "%s", text);
}

struct buf *dav_ctx_headers(struct dav_ctx *ctx)
{
	return &ctx->resp->headers;
}

void dav_text(struct dav_ctx *ctx, int status, const char *text)
{
	text_response(ctx, status, text);
}

static const char *ns_prefix_decl(const char *ns)
{
	if (strcmp(ns, DAV_NS_CALDAV) == 0)
		return "C";
	if (strcmp(ns, DAV_NS_CARDDAV) == 0)
		return "CR";
	if (strcmp(ns, DAV_NS_CS) == 0)
		return "CS";
	return NULL;
}

void dav_error(struct dav_ctx *ctx, int status, const char *ns, const char *name,
	       const char *inner)
{
	reset_response(ctx->resp);
	ctx->resp->status = status;
	snprintf(ctx->resp->content_type, sizeof(ctx->resp->content_type),
		 "application/xml; charset=utf-8");
	struct buf *b = &ctx->resp->body;
	buf_append_str(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"");
	const char *prefix = ns_prefix_decl(ns);
	if (strcmp(ns, DAV_NS) == 0) {
		buf_printf(b, "><D:%s", name);
	} else if (prefix != NULL) {
		buf_printf(b, " xmlns:%s=\"%s\"><%s:%s", prefix, ns, prefix, name);
	} else {
		buf_append_str(b, " xmlns:X=\"");
		dav_xml_escape(b, ns);
		buf_printf(b, "\"><X:%s", name);
		prefix = "X";
	}
	if (inner == NULL || inner[0] == '\0') {
		buf_append_str(b, "/></D:error>\n");
	} else {
		buf_printf(b, ">%s</%s:%s></D:error>\n", inner,
			   strcmp(ns, DAV_NS) == 0 ? "D" : prefix, name);
	}
	dav_ctx_note(ctx, "precondition %s", name);
}

/* An IMF-fixdate (RFC 9110 5.6.7) of t. */
static void http_date(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ---- hrefs and paths ---- */

static void href_segment(struct buf *out, const char *seg)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)seg; *p != '\0'; p++) {
		if (isalnum(*p) || strchr("-._~+,=:!$'()*;", *p) != NULL) {
			buf_append(out, p, 1);
		} else {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			buf_append(out, enc, 3);
		}
	}
}

static void href_home(struct buf *out, const char *home, const char *user)
{
	buf_printf(out, "/dav/%s/", home);
	href_segment(out, user);
	buf_append_str(out, "/");
}

static void href_principal(struct buf *out, const char *user)
{
	href_home(out, "principals", user);
}

void dav_href_principal(struct buf *out, const char *user)
{
	href_principal(out, user);
}

void dav_href(struct buf *out, const struct store_dav_coll *coll, const char *name)
{
	href_home(out, coll->home, coll->owner);
	href_segment(out, coll->name);
	buf_append_str(out, "/");
	if (name != NULL)
		href_segment(out, name);
}

/* Decode one percent-encoded segment into out (size bytes). 0, or -1 when
 * malformed, too long, or a name that must not be one (".", "..", a NUL or a
 * slash once decoded). */
static int decode_segment(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -1;
			char h[3] = { s[i + 1], s[i + 2], '\0' };
			c = (unsigned char)strtoul(h, NULL, 16);
			i += 2;
		}
		if (c == '\0' || c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
			return -1;
		if (n + 1 >= size)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return -1;
	return 0;
}

struct target {
	enum target_type type;
	const struct dav_kind *home_kind;
	char user[321];
	char coll[STORE_DAV_NAME_MAX + 1];
	char obj[STORE_DAV_NAME_MAX + 1];
	bool trailing_slash;
	int proxy;		/* a proxy principal (dav-proxy.c) */
};

/* Parse a request path ("/dav/..."). 0, 400 (malformed) or 404. */
static int parse_path(const char *path, struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (strncmp(path, "/dav", 4) != 0 || (path[4] != '\0' && path[4] != '/'))
		return 404;
	const char *p = path + 4;
	char segs[4][STORE_DAV_NAME_MAX + 1];
	size_t nseg = 0;
	while (*p == '/') {
		p++;
		if (*p == '\0') {
			t->trailing_slash = true;
			break;
		}
		const char *end = strchr(p, '/');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (nseg == 4)	/* below an object: its "parent" is no collection */
			return strncmp(path, "/dav/principals/", 16) == 0 ? 404 : 409;
		if (decode_segment(p, len, segs[nseg], sizeof(segs[nseg])) < 0)
			return 400;
		nseg++;
		p += len;
	}
	if (*p != '\0')
		return 400;
	if (nseg == 0) {
		t->type = T_ROOT;
		return 0;
	}
	if (strcmp(segs[0], "principals") == 0) {
		if (nseg == 1) {
			t->type = T_PRINCIPALS;
			return 0;
		}
		if (nseg > 3 || (nseg == 3 && (t->proxy = dav_proxy_of_segment(segs[2])) == 0))
			return 404;
		t->type = T_PRINCIPAL;
		snprintf(t->user, sizeof(t->user), "%s", segs[1]);
	} else {
		t->home_kind = kind_by_home(segs[0]);
		if (t->home_kind == NULL || nseg < 2)
			return 404;
		snprintf(t->user, sizeof(t->user), "%s", segs[1]);
		t->type = T_HOME;
		if (nseg >= 3) {
			t->type = T_COLL;
			snprintf(t->coll, sizeof(t->coll), "%s", segs[2]);
		}
		if (nseg == 4) {
			t->type = T_OBJ;
			snprintf(t->obj, sizeof(t->obj), "%s", segs[3]);
		}
	}
	for (char *c = t->user; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

/* The path of an href or absolute URL (scheme://authority/path), or NULL. */
static const char *href_path(const char *href)
{
	const char *scheme = strstr(href, "://");
	if (scheme != NULL && strchr(href, '/') > scheme) {
		const char *p = strchr(scheme + 3, '/');
		return p;
	}
	return href[0] == '/' ? href : NULL;
}

int dav_principal_of_href(const char *href, char *addr, size_t size)
{
	const char *path = href_path(href);
	struct target t;
	if (path == NULL || parse_path(path, &t) != 0 || t.type != T_PRINCIPAL || t.proxy != 0)
		return -1;
	snprintf(addr, size, "%s", t.user);
	return 0;
}

int dav_principal_parse_href(const char *href, char *addr, size_t size, int *proxy_r)
{
	const char *path = href_path(href);
	struct target t;
	if (path == NULL || parse_path(path, &t) != 0 || t.type != T_PRINCIPAL)
		return -1;
	snprintf(addr, size, "%s", t.user);
	*proxy_r = t.proxy;
	return 0;
}

int dav_coll_of_href(struct dav_ctx *ctx, const char *href, struct store_dav_coll *coll_r)
{
	const char *path = href_path(href);
	struct target t;
	if (path == NULL)
		return 400;
	int ret = parse_path(path, &t);
	if (ret != 0)
		return ret;
	if (t.type != T_COLL)
		return 404;
	const char *error;
	ret = store_dav_coll_get(ctx->st, t.user, t.home_kind->home, t.coll, false, coll_r, &error);
	return ret == STORE_OK ? 0 : 404;
}

/* The requester's access to another user's collection: the best of what a
 * share and delegation (dav-proxy.c) give. A store_result. */
static int others_access(struct dav_ctx *ctx, const struct store_dav_coll *coll, int *access_r,
			 const char **error_r)
{
	int shared, delegated = ctx->delegated;
	int ret = store_dav_share_access(ctx->st, coll->id, ctx->req->user, &shared, error_r);
	/* the target's home: handle_tx has looked the delegation up already */
	bool known = ctx->home_kind != NULL && strcmp(coll->owner, ctx->user) == 0 &&
		     strcmp(coll->home, ctx->home_kind->home) == 0;
	if (ret == STORE_OK && !known)
		ret = dav_proxy_access(ctx, coll->owner, coll->home, &delegated, error_r);
	if (ret != STORE_OK)
		return ret;
	*access_r = shared > delegated ? shared : delegated;
	return STORE_OK;
}

int dav_resolve_href(struct dav_ctx *ctx, const char *href, struct store_dav_coll *coll_r,
		     char name_r[STORE_DAV_NAME_MAX + 1])
{
	const char *path = href_path(href);
	struct target t;
	if (path == NULL || strchr(path, '?') != NULL || strchr(path, '#') != NULL)
		return 400;
	int ret = parse_path(path, &t);
	if (ret != 0)
		return ret;
	if (t.type != T_OBJ)
		return 404;
	const char *error;
	ret = store_dav_coll_get(ctx->st, t.user, t.home_kind->home, t.coll, false, coll_r, &error);
	if (ret == STORE_NOTFOUND)
		return strcmp(t.user, ctx->req->user) != 0 ? 403 : 404;
	if (ret != STORE_OK)
		return 500;
	if (strcmp(t.user, ctx->req->user) != 0) {
		int access;
		if (others_access(ctx, coll_r, &access, &error) != STORE_OK ||
		    access < STORE_DAV_READ)
			return 403;
		coll_r->access = access;
	}
	if (resolve_coll(ctx, coll_r) < 0)
		return 500;
	snprintf(name_r, STORE_DAV_NAME_MAX + 1, "%s", t.obj);
	return 0;
}

/* ---- multistatus ---- */

void dav_ms_begin(struct dav_ctx *ctx)
{
	reset_response(ctx->resp);
	ctx->resp->status = 207;
	snprintf(ctx->resp->content_type, sizeof(ctx->resp->content_type),
		 "application/xml; charset=utf-8");
	buf_append_str(&ctx->resp->body,
		       "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		       "<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"" DAV_NS_CALDAV "\""
		       " xmlns:CR=\"" DAV_NS_CARDDAV "\" xmlns:CS=\"" DAV_NS_CS "\">\n");
}

void dav_ms_end(struct dav_ctx *ctx)
{
	buf_append_str(&ctx->resp->body, "</D:multistatus>\n");
}

void dav_ms_status(struct dav_ctx *ctx, const char *href, int status)
{
	struct buf *b = &ctx->resp->body;
	buf_append_str(b, "<D:response><D:href>");
	dav_xml_escape(b, href);
	buf_printf(b, "</D:href><D:status>%s</D:status></D:response>\n", dav_status_line(status));
}

/* Property results of one resource, grouped by status for the propstats. */
#define PS_MAX 6
struct propstats {
	int status[PS_MAX];
	struct buf xml[PS_MAX];
	size_t n;
};

static struct buf *ps_slot(struct propstats *ps, int status)
{
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->status[i] == status)
			return &ps->xml[i];
	}
	if (ps->n == PS_MAX)
		return &ps->xml[PS_MAX - 1];
	ps->status[ps->n] = status;
	buf_init(&ps->xml[ps->n], 0);
	return &ps->xml[ps->n++];
}

static bool want_minimal(const struct dav_ctx *ctx)
{
	const struct dav_request *r = ctx->req;
	return (r->prefer != NULL && strstr(r->prefer, "return=minimal") != NULL) ||
	       (r->brief != NULL && str_casecmp(r->brief, "t") == 0);
}

static void ps_write(struct dav_ctx *ctx, struct propstats *ps, const char *href)
{
	struct buf *b = &ctx->resp->body;
	buf_append_str(b, "<D:response><D:href>");
	dav_xml_escape(b, href);
	buf_append_str(b, "</D:href>");
	bool minimal = want_minimal(ctx);
	bool any = false;
	for (size_t i = 0; i < ps->n; i++) {
		if (minimal && ps->status[i] == 404)
			continue;
		buf_append_str(b, "<D:propstat><D:prop>");
		buf_append(b, ps->xml[i].data != NULL ? ps->xml[i].data : "", ps->xml[i].len);
		buf_printf(b, "</D:prop><D:status>%s</D:status></D:propstat>",
			   dav_status_line(ps->status[i]));
		any = true;
	}
	if (!any)
		buf_append_str(b, "<D:propstat><D:prop/><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
	buf_append_str(b, "</D:response>\n");
	for (size_t i = 0; i < ps->n; i++)
		buf_free(&ps->xml[i]);
	ps->n = 0;
}

/* ---- properties ---- */

/* The live properties the core answers, with whether allprop lists them. */
static const struct dav_propdef core_props[] = {
	{ DAV_NS, "resourcetype", true },
	{ DAV_NS, "getetag", true },
	{ DAV_NS, "getcontenttype", true },
	{ DAV_NS, "getcontentlength", true },
	{ DAV_NS, "getlastmodified", true },
	{ DAV_NS, "current-user-principal", false },
	{ DAV_NS, "principal-URL", false },
	{ DAV_NS, "principal-collection-set", false },
	{ DAV_NS, "owner", false },
	{ DAV_NS, "current-user-privilege-set", false },
	{ DAV_NS, "supported-report-set", false },
	{ DAV_NS, "sync-token", false },
	{ DAV_NS, "quota-available-bytes", false },
	{ DAV_NS, "quota-used-bytes", false },
	{ DAV_NS, "acl", false },
	{ DAV_NS, "supported-privilege-set", false },
	{ DAV_NS_CS, "getctag", false },
	{ DAV_NS_CS, "invite", false },
	{ DAV_NS_CS, "allowed-sharing-modes", false },
	{ NULL, NULL, false },
};

static bool is_core_prop(const char *ns, const char *name)
{
	for (size_t i = 0; core_props[i].name != NULL; i++) {
		if (strcmp(core_props[i].ns, ns) == 0 && strcmp(core_props[i].name, name) == 0)
			return true;
	}
	return false;
}

static bool is_kind_prop(const struct dav_kind *k, const char *ns, const char *name)
{
	if (k == NULL || k->props == NULL)
		return false;
	for (size_t i = 0; k->props[i].name != NULL; i++) {
		if (strcmp(k->props[i].ns, ns) == 0 && strcmp(k->props[i].name, name) == 0)
			return true;
	}
	return false;
}

/* A resource being described: exactly one of these levels. */
struct res {
	enum target_type type;
	const struct dav_kind *kind;		/* home's kind, or the collection's */
	const char *user;
	const struct store_dav_coll *coll;	/* T_COLL, T_OBJ */
	const struct store_dav_obj *obj;	/* T_OBJ */
	int proxy;				/* T_PRINCIPAL: a proxy principal of user */
};

struct quota_cache {
	bool done;
	int ret;
	uint64_t used;
	int64_t limit;
};

static void sync_token(struct buf *out, const struct store_dav_coll *coll)
{
	buf_printf(out, "urn:cairn:sync:%" PRIu64 ":%" PRIu64, coll->id, coll->synctoken);
}

static void privileges(struct buf *out, int access)
{
	buf_append_str(out, "<D:current-user-privilege-set>");
	if (access >= STORE_DAV_OWNER)
		buf_append_str(out, "<D:privilege><D:all/></D:privilege>"
				    "<D:privilege><D:read-acl/></D:privilege>"
				    "<D:privilege><D:write-acl/></D:privilege>");
	if (access >= STORE_DAV_READ)
		buf_append_str(out, "<D:privilege><D:read/></D:privilege>"
				    "<D:privilege><D:read-current-user-privilege-set/></D:privilege>");
	if (access >= STORE_DAV_WRITE)
		buf_append_str(out, "<D:privilege><D:write/></D:privilege>"
				    "<D:privilege><D:write-content/></D:privilege>"
				    "<D:privilege><D:bind/></D:privilege>"
				    "<D:privilege><D:unbind/></D:privilege>");
	if (access >= STORE_DAV_OWNER)
		buf_append_str(out, "<D:privilege><D:write-properties/></D:privilege>");
	buf_append_str(out, "</D:current-user-privilege-set>");
}

/* A core live property: 200 appended to out, or 404. */
static int core_prop(struct dav_ctx *ctx, const struct res *r, const char *ns, const char *name,
		     struct quota_cache *qc, struct buf *out)
{
	if (strcmp(ns, DAV_NS_CS) == 0 && strcmp(name, "getctag") == 0) {
		if (r->type != T_COLL)
			return 404;
		buf_append_str(out, "<CS:getctag>");
		sync_token(out, r->coll);
		buf_append_str(out, "</CS:getctag>");
		return 200;
	}
	if (strcmp(ns, DAV_NS_CS) == 0 && r->type == T_COLL)
		return dav_acl_cs_prop(ctx, r->coll, name, out);
	if (strcmp(ns, DAV_NS) != 0)
		return 404;
	if (strcmp(name, "resourcetype") == 0) {
		buf_append_str(out, "<D:resourcetype>");
		if (r->type != T_OBJ && r->proxy == 0)
			buf_append_str(out, "<D:collection/>");
		if (r->type == T_PRINCIPAL)
			buf_append_str(out, "<D:principal/>");
		if (r->proxy != 0)
			buf_printf(out, "<CS:%s/>", dav_proxy_segment(r->proxy));
		if (r->type == T_COLL && r->kind != NULL && r->kind->type != NULL)
			dav_xml_empty_elem(out, r->kind->ns, r->kind->type);
		buf_append_str(out, "</D:resourcetype>");
		return 200;
	}
	if (strcmp(name, "getetag") == 0 || strcmp(name, "getcontenttype") == 0 ||
	    strcmp(name, "getcontentlength") == 0) {
		if (r->type != T_OBJ)
			return 404;
		buf_printf(out, "<D:%s>", name);
		if (name[3] == 'e')
			dav_xml_escape(out, r->obj->etag);
		else if (name[10] == 't')
			dav_xml_escape(out, r->obj->content_type);
		else
			buf_printf(out, "%" PRIu64, r->obj->size);
		buf_printf(out, "</D:%s>", name);
		return 200;
	}
	if (strcmp(name, "getlastmodified") == 0) {
		if (r->type != T_OBJ)
			return 404;
		char date[64];
		http_date(r->obj->mtime, date, sizeof(date));
		buf_printf(out, "<D:getlastmodified>%s</D:getlastmodified>", date);
		return 200;
	}
	if (strcmp(name, "current-user-principal") == 0) {
		buf_append_str(out, "<D:current-user-principal><D:href>");
		href_principal(out, ctx->req->user);
		buf_append_str(out, "</D:href></D:current-user-principal>");
		return 200;
	}
	if (strcmp(name, "principal-URL") == 0 || strcmp(name, "owner") == 0) {
		if (r->type == T_ROOT || r->type == T_PRINCIPALS)
			return 404;
		if (name[0] == 'p' && r->type != T_PRINCIPAL)
			return 404;
		buf_printf(out, "<D:%s><D:href>", name);
		href_principal(out, r->user);
		if (name[0] == 'p' && r->proxy != 0)
			buf_printf(out, "%s/", dav_proxy_segment(r->proxy));
		buf_printf(out, "</D:href></D:%s>", name);
		return 200;
	}
	if (strcmp(name, "principal-collection-set") == 0) {
		buf_append_str(out, "<D:principal-collection-set><D:href>/dav/principals/</D:href>"
				    "</D:principal-collection-set>");
		return 200;
	}
	if (strcmp(name, "current-user-privilege-set") == 0) {
		int access = STORE_DAV_OWNER;
		if ((r->type == T_COLL || r->type == T_OBJ) && r->coll != NULL)
			access = r->coll->access;
		else if (r->user != NULL && strcmp(r->user, ctx->req->user) != 0)
			access = STORE_DAV_READ;
		privileges(out, access);
		return 200;
	}
	if ((strcmp(name, "acl") == 0 || strcmp(name, "supported-privilege-set") == 0) &&
	    (r->type == T_COLL || r->type == T_OBJ))
		return dav_acl_prop(ctx, r->coll, name, out);
	if (strcmp(name, "supported-report-set") == 0) {
		if (r->type == T_PRINCIPAL) {
			buf_append_str(out, "<D:supported-report-set><D:supported-report><D:report>"
					    "<D:expand-property/></D:report></D:supported-report>"
					    "</D:supported-report-set>");
			return 200;
		}
		if (r->type != T_COLL && r->type != T_HOME)
			return 404;
		buf_append_str(out, "<D:supported-report-set>");
		if (r->type == T_COLL)
			buf_append_str(out, "<D:supported-report><D:report><D:sync-collection/>"
					    "</D:report></D:supported-report>");
		if (r->kind != NULL && r->kind->reports != NULL)
			buf_append_str(out, r->kind->reports);
		buf_append_str(out, "</D:supported-report-set>");
		return 200;
	}
	if (strcmp(name, "sync-token") == 0) {
		if (r->type != T_COLL)
			return 404;
		buf_append_str(out, "<D:sync-token>");
		sync_token(out, r->coll);
		buf_append_str(out, "</D:sync-token>");
		return 200;
	}
	if (strcmp(name, "quota-used-bytes") == 0 || strcmp(name, "quota-available-bytes") == 0) {
		if (r->type != T_COLL && r->type != T_HOME)
			return 404;
		if (!qc->done) {
			const char *error;
			qc->done = true;
			qc->ret = store_dav_quota(ctx->st, r->user, &qc->used, &qc->limit, &error);
		}
		if (qc->ret != STORE_OK)
			return 404;
		if (name[6] == 'u') {
			buf_printf(out, "<D:quota-used-bytes>%" PRIu64 "</D:quota-used-bytes>", qc->used);
			return 200;
		}
		if (qc->limit < 0)
			return 404;	/* RFC 4331 3: no quota, no property */
		uint64_t avail = (uint64_t)qc->limit > qc->used ? (uint64_t)qc->limit - qc->used : 0;
		buf_printf(out, "<D:quota-available-bytes>%" PRIu64 "</D:quota-available-bytes>",
			   avail);
		return 200;
	}
	return 404;
}

/* Principal-level properties: the home sets and the kinds' own. */
static int principal_prop(struct dav_ctx *ctx, const char *user, const struct dav_propname *p,
			  struct buf *out)
{
	if (strcmp(p->ns, DAV_NS) == 0 && strcmp(p->name, "displayname") == 0) {
		buf_append_str(out, "<D:displayname>");
		dav_xml_escape(out, user);
		buf_append_str(out, "</D:displayname>");
		return 200;
	}
	if (strcmp(p->ns, DAV_NS) == 0 && strcmp(p->name, "alternate-URI-set") == 0) {
		buf_append_str(out, "<D:alternate-URI-set><D:href>mailto:");
		dav_xml_escape(out, user);
		buf_append_str(out, "</D:href></D:alternate-URI-set>");
		return 200;
	}
	for (size_t i = 0; dav_kinds[i] != NULL; i++) {
		const struct dav_kind *k = dav_kinds[i];
		if (k->home_set != NULL && strcmp(p->ns, k->ns) == 0 &&
		    strcmp(p->name, k->home_set) == 0) {
			buf_printf(out, "<X:%s xmlns:X=\"%s\"><D:href>", k->home_set, k->ns);
			href_home(out, k->home, user);
			buf_printf(out, "</D:href></X:%s>", k->home_set);
			return 200;
		}
		if (k->principal_prop != NULL) {
			int st = k->principal_prop(ctx, user, p, out);
			if (st != 404)
				return st;
		}
	}
	return 404;
}

/* A property of a principal or proxy principal: the home sets and the
 * kinds' (user principals only), delegation (dav-proxy.c), then the core's. */
static int principal_value(struct dav_ctx *ctx, const struct res *r, const struct dav_propname *p,
			   struct quota_cache *qc, struct buf *out)
{
	int status = r->proxy == 0 ? principal_prop(ctx, r->user, p, out) : 404;
	if (status == 404)
		status = dav_proxy_prop(ctx, r->user, r->proxy, p, out);
	if (status == 404)
		status = core_prop(ctx, r, p->ns, p->name, qc, out);
	return status;
}

int dav_principal_value(struct dav_ctx *ctx, const char *user, int proxy,
			const struct dav_propname *p, struct buf *out)
{
	struct res r = { T_PRINCIPAL, NULL, user, NULL, NULL, proxy };
	struct quota_cache qc = { .done = false };
	struct buf tmp;
	buf_init(&tmp, 0);
	int status = principal_value(ctx, &r, p, &qc, &tmp);
	if (status == 200)
		buf_append(out, tmp.data, tmp.len);
	buf_free(&tmp);
	return status;
}

/* Dead properties of one resource, collected for propstats. */
struct dead_prop {
	char *ns, *name, *xml;
};
struct dead_props {
	struct dead_prop *v;
	size_t n;
};

static void dead_collect(const char *ns, const char *name, const char *xml, void *vctx)
{
	struct dead_props *d = vctx;
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	d->v[d->n].ns = xstrdup(ns);
	d->v[d->n].name = xstrdup(name);
	d->v[d->n].xml = xstrdup(xml);
	d->n++;
}

static void dead_free(struct dead_props *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].ns);
		free(d->v[i].name);
		free(d->v[i].xml);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static bool needs_dead(const struct dav_propfind *pf, const struct dav_kind *k)
{
	if (pf->mode != DAV_PROPFIND_PROP)
		return true;
	for (size_t i = 0; i < pf->count; i++) {
		if (!is_core_prop(pf->props[i].ns, pf->props[i].name) &&
		    !is_kind_prop(k, pf->props[i].ns, pf->props[i].name))
			return true;
	}
	return false;
}

/* One property of r into ps. */
static void one_prop(struct dav_ctx *ctx, const struct res *r, const struct dav_propname *p,
		     const struct dead_props *dead, struct quota_cache *qc, struct propstats *ps)
{
	struct buf tmp;
	buf_init(&tmp, 0);
	int status = 404;
	if (r->type == T_PRINCIPAL)
		status = principal_value(ctx, r, p, qc, &tmp);
	else
		status = core_prop(ctx, r, p->ns, p->name, qc, &tmp);
	if (status == 404 && r->kind != NULL && r->kind->prop != NULL &&
	    (r->type == T_HOME || r->type == T_COLL || r->type == T_OBJ)) {
		enum dav_level level = r->type == T_HOME ? DAV_LEVEL_HOME :
				       r->type == T_COLL ? DAV_LEVEL_COLL : DAV_LEVEL_OBJ;
		buf_reset(&tmp);
		status = r->kind->prop(ctx, level, r->coll, r->obj, p, &tmp);
	}
	if (status == 404 && dead != NULL) {
		for (size_t i = 0; i < dead->n; i++) {
			if (strcmp(dead->v[i].ns, p->ns) == 0 && strcmp(dead->v[i].name, p->name) == 0) {
				buf_reset(&tmp);
				buf_append_str(&tmp, dead->v[i].xml);
				status = 200;
				break;
			}
		}
	}
	struct buf *slot = ps_slot(ps, status);
	if (status == 200 || (status == 403 && tmp.len > 0))
		buf_append(slot, tmp.data, tmp.len);
	else
		dav_xml_empty_elem(slot, p->ns, p->name);
	buf_free(&tmp);
}

/* Describe r with pf into the multistatus body. dead: its dead properties
 * (NULL: read them here if needed). */
static void describe(struct dav_ctx *ctx, const struct res *r, const struct dav_propfind *pf,
		     const struct dead_props *dead_in, struct quota_cache *qc)
{
	struct buf href;
	buf_init(&href, 0);
	switch (r->type) {
	case T_ROOT: buf_append_str(&href, "/dav/"); break;
	case T_PRINCIPALS: buf_append_str(&href, "/dav/principals/"); break;
	case T_PRINCIPAL:
		href_principal(&href, r->user);
		if (r->proxy != 0)
			buf_printf(&href, "%s/", dav_proxy_segment(r->proxy));
		break;
	case T_HOME: href_home(&href, r->kind->home, r->user); break;
	case T_COLL: dav_href(&href, r->coll, NULL); break;
	case T_OBJ: dav_href(&href, r->coll, r->obj->name); break;
	}
	struct dead_props dead = { NULL, 0 };
	const struct dead_props *dp = dead_in;
	if (dp == NULL && (r->type == T_COLL || r->type == T_OBJ) && needs_dead(pf, r->kind)) {
		const char *error;
		store_dav_props(ctx->st, r->coll->id, r->type == T_OBJ ? r->obj->name : "",
				dead_collect, &dead, &error);
		dp = &dead;
	}
	struct propstats ps = { .n = 0 };
	if (pf->mode == DAV_PROPFIND_PROP) {
		for (size_t i = 0; i < pf->count; i++)
			one_prop(ctx, r, &pf->props[i], dp, qc, &ps);
	} else {
		bool names = pf->mode == DAV_PROPFIND_PROPNAME;
		/* every live property that exists here, then the dead ones */
		for (size_t i = 0; core_props[i].name != NULL; i++) {
			if (!names && !core_props[i].allprop)
				continue;
			struct dav_propname p = { core_props[i].ns, core_props[i].name, NULL };
			struct buf tmp;
			buf_init(&tmp, 0);
			if (core_prop(ctx, r, p.ns, p.name, qc, &tmp) == 200) {
				struct buf *slot = ps_slot(&ps, 200);
				if (names)
					dav_xml_empty_elem(slot, p.ns, p.name);
				else
					buf_append(slot, tmp.data, tmp.len);
			}
			buf_free(&tmp);
		}
		if (r->kind != NULL && r->kind->props != NULL && r->kind->prop != NULL &&
		    (r->type == T_COLL || r->type == T_OBJ || r->type == T_HOME)) {
			enum dav_level level = r->type == T_HOME ? DAV_LEVEL_HOME :
					       r->type == T_COLL ? DAV_LEVEL_COLL : DAV_LEVEL_OBJ;
			for (size_t i = 0; r->kind->props[i].name != NULL; i++) {
				const struct dav_propdef *d = &r->kind->props[i];
				if (!names && !d->allprop)
					continue;
				struct dav_propname p = { d->ns, d->name, NULL };
				struct buf tmp;
				buf_init(&tmp, 0);
				if (r->kind->prop(ctx, level, r->coll, r->obj, &p, &tmp) == 200) {
					struct buf *slot = ps_slot(&ps, 200);
					if (names)
						dav_xml_empty_elem(slot, p.ns, p.name);
					else
						buf_append(slot, tmp.data, tmp.len);
				}
				buf_free(&tmp);
			}
		}
		if (dp != NULL) {
			for (size_t i = 0; i < dp->n; i++) {
				struct buf *slot = ps_slot(&ps, 200);
				if (names)
					dav_xml_empty_elem(slot, dp->v[i].ns, dp->v[i].name);
				else
					buf_append_str(slot, dp->v[i].xml);
			}
		}
		/* allprop's include: the named ones too */
		for (size_t i = 0; !names && i < pf->count; i++) {
			if (!is_core_prop(pf->props[i].ns, pf->props[i].name))
				one_prop(ctx, r, &pf->props[i], NULL, qc, &ps);
		}
	}
	ps_write(ctx, &ps, href.data);
	dead_free(&dead);
	buf_free(&href);
}

void dav_ms_object(struct dav_ctx *ctx, const struct store_dav_coll *coll,
		   const struct store_dav_obj *obj, const struct dav_propfind *pf)
{
	struct res r = { T_OBJ, dav_kind_by_name(coll->kind), coll->owner, coll, obj, 0 };
	struct quota_cache qc = { .done = false };
	describe(ctx, &r, pf, NULL, &qc);
}

/* ---- preconditions ---- */

/* Does etag appear in an If-Match / If-None-Match list ("*" matches any)?
 * If-Match compares strongly (a weak tag never matches), If-None-Match
 * weakly (RFC 9110 13.1.2): weak_ok. */
static bool etag_listed_cmp(const char *list, const char *etag, bool weak_ok);

static bool etag_listed(const char *list, const char *etag)
{
	return etag_listed_cmp(list, etag, false);
}

static bool etag_listed_cmp(const char *list, const char *etag, bool weak_ok)
{
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return true;
		bool weak = strncmp(p, "W/", 2) == 0;
		if (weak)
			p += 2;
		if (*p != '"')
			return false;
		const char *end = strchr(p + 1, '"');
		if (end == NULL)
			return false;
		size_t len = (size_t)(end - p + 1);
		if ((!weak || weak_ok) && strlen(etag) == len && memcmp(p, etag, len) == 0)
			return true;
		p = end + 1;
	}
	return false;
}

/* If-Match/If-None-Match for a write on a resource with etag (NULL: it does
 * not exist). 0 to go on, or 412. */
static int check_conditions(const struct dav_request *req, const char *etag)
{
	if (req->if_match != NULL) {
		if (etag == NULL || !etag_listed(req->if_match, etag))
			return 412;
	}
	if (req->if_none_match != NULL && etag != NULL) {
		if (strchr(req->if_none_match, '*') != NULL ||
		    etag_listed_cmp(req->if_none_match, etag, true))
			return 412;
	}
	return 0;
}

static int depth_of(const struct dav_request *req, int dflt)
{
	if (req->depth == NULL)
		return dflt;
	if (strcmp(req->depth, "0") == 0)
		return 0;
	if (strcmp(req->depth, "1") == 0)
		return 1;
	if (str_casecmp(req->depth, "infinity") == 0)
		return 2;
	return -1;
}

/* Answer a store failure; returns ret (a store_result) so that callers can
 * return it and roll back (STORE_CONFLICT makes store_tx retry). */
static int store_status(struct dav_ctx *ctx, int ret, const char *error)
{
	switch (ret) {
	case STORE_OK: return 0;
	case STORE_NOTFOUND: text_response(ctx, 404, "not found"); break;
	case STORE_EXISTS: text_response(ctx, 405, "already exists"); break;
	case STORE_OVERQUOTA:
		dav_error(ctx, 507, DAV_NS, "quota-not-exceeded", NULL);
		break;
	case STORE_INVALID: text_response(ctx, 409, error != NULL ? error : "invalid"); break;
	case STORE_TEMPFAIL:
		text_response(ctx, 503, "the store is temporarily unavailable");
		buf_append_str(&ctx->resp->headers, "Retry-After: 5\r\n");
		break;
	default:
		text_response(ctx, 500, "internal error");
		if (error != NULL)
			dav_ctx_note(ctx, "store: %s", error);
		break;
	}
	return ret;
}

/* Load the target collection (locked for writes). 0, or a status set. */
static int load_coll(struct dav_ctx *ctx, bool lock)
{
	const char *error;
	int ret = store_dav_coll_get(ctx->st, ctx->user, ctx->home_kind->home, ctx->coll_name, lock,
				     &ctx->coll, &error);
	if (ret == STORE_NOTFOUND) {
		ctx->coll_exists = false;
		return 0;
	}
	if (ret != STORE_OK)
		return store_status(ctx, ret, error);
	ctx->coll_exists = true;
	ctx->coll.access = STORE_DAV_OWNER;
	if (strcmp(ctx->user, ctx->req->user) != 0) {
		int access;
		ret = others_access(ctx, &ctx->coll, &access, &error);
		if (ret != STORE_OK)
			return store_status(ctx, ret, error);
		ctx->coll.access = access;
	}
	if (resolve_coll(ctx, &ctx->coll) < 0) {
		text_response(ctx, 500, "internal error");
		return STORE_ERROR;
	}
	ctx->access = ctx->coll.access;
	return 0;
}

/* ---- PROPFIND ---- */

struct list_ctx {
	struct dav_ctx *ctx;
	const struct dav_propfind *pf;
	const struct dav_kind *kind;
	struct quota_cache *qc;
	const struct store_dav_coll *coll;
	/* all dead properties of the collection's objects, by object name */
	struct dead_props *dead;
	char **dead_names;
	size_t ndead;
	int access_cap;		/* the requester's access to what is listed (0: as read) */
};

static void list_coll_cb(const struct store_dav_coll *coll, void *vctx)
{
	struct list_ctx *lc = vctx;
	const struct dav_kind *k = dav_kind_by_name(coll->kind);
	struct store_dav_coll c = *coll;
	if (lc->access_cap != 0 && c.access > lc->access_cap)
		c.access = lc->access_cap;
	if (resolve_coll(lc->ctx, &c) < 0)
		return;
	struct res r = { T_COLL, k != NULL ? k : lc->kind, coll->owner, &c, NULL, 0 };
	describe(lc->ctx, &r, lc->pf, NULL, lc->qc);
}

static void list_obj_cb(const struct store_dav_obj *obj, void *vctx)
{
	struct list_ctx *lc = vctx;
	struct res r = { T_OBJ, lc->kind, lc->coll->owner, lc->coll, obj, 0 };
	describe(lc->ctx, &r, lc->pf, NULL, lc->qc);
}

static int do_propfind(struct dav_ctx *ctx)
{
	int depth = depth_of(ctx->req, 2);
	if (depth < 0) {
		text_response(ctx, 400, "bad Depth header");
		return 0;
	}
	if (ctx->type == T_PRINCIPAL && strcmp(ctx->user, ctx->req->user) != 0) {
		int kind;
		const char *perr;
		if (store_dav_principal_kind(ctx->st, ctx->user, &kind, &perr) != STORE_OK ||
		    kind != 1) {
			text_response(ctx, 404, "no such principal");
			return 0;
		}
	}
	if (depth == 2) {
		dav_error(ctx, 403, DAV_NS, "propfind-finite-depth", NULL);
		return 0;
	}
	struct dav_propfind pf;
	const char *error = NULL;
	int status = dav_propfind_parse(ctx->doc, &pf, &error);
	if (status != 0) {
		text_response(ctx, status, error);
		return 0;
	}
	struct quota_cache qc = { .done = false };
	const char *serr;
	int ret;
	switch (ctx->type) {
	case T_ROOT: {
		dav_ms_begin(ctx);
		struct res r = { T_ROOT, NULL, ctx->req->user, NULL, NULL, 0 };
		describe(ctx, &r, &pf, NULL, &qc);
		if (depth == 1) {
			struct res pr = { T_PRINCIPALS, NULL, ctx->req->user, NULL, NULL, 0 };
			describe(ctx, &pr, &pf, NULL, &qc);
		}
		break;
	}
	case T_PRINCIPALS: {
		dav_ms_begin(ctx);
		struct res r = { T_PRINCIPALS, NULL, ctx->req->user, NULL, NULL, 0 };
		describe(ctx, &r, &pf, NULL, &qc);
		if (depth == 1) {
			struct res pr = { T_PRINCIPAL, NULL, ctx->req->user, NULL, NULL, 0 };
			describe(ctx, &pr, &pf, NULL, &qc);
		}
		break;
	}
	case T_PRINCIPAL: {
		dav_ms_begin(ctx);
		struct res r = { T_PRINCIPAL, NULL, ctx->user, NULL, NULL, ctx->proxy };
		describe(ctx, &r, &pf, NULL, &qc);
		/* a user's principal holds its two proxy principals, which its
		 * owner and delegates may read (dav-proxy.c) */
		int paccess = STORE_DAV_NONE;
		if (depth == 1 && ctx->proxy == 0 &&
		    (ret = dav_proxy_principal_access(ctx, ctx->user, &paccess, &serr)) != STORE_OK) {
			dav_propfind_free(&pf);
			return store_status(ctx, ret, serr);
		}
		for (int mode = STORE_DAV_PROXY_READ; paccess >= STORE_DAV_READ &&
		     mode <= STORE_DAV_PROXY_WRITE; mode++) {
			struct res pr = { T_PRINCIPAL, NULL, ctx->user, NULL, NULL, mode };
			describe(ctx, &pr, &pf, NULL, &qc);
		}
		break;
	}
	case T_HOME: {
		dav_ms_begin(ctx);
		struct res r = { T_HOME, ctx->home_kind, ctx->user, NULL, NULL, 0 };
		describe(ctx, &r, &pf, NULL, &qc);
		if (depth == 1) {
			bool self = strcmp(ctx->user, ctx->req->user) == 0;
			struct list_ctx lc = { ctx, &pf, ctx->home_kind, &qc, NULL, NULL, NULL, 0,
					       self ? STORE_DAV_OWNER : ctx->delegated };
			ret = store_dav_coll_list(ctx->st, ctx->user, ctx->home_kind->home,
						  list_coll_cb, &lc, &serr);
			/* collections shared with the user show up in the home (not
			 * in a home a delegate lists) */
			if (ret == STORE_OK && self)
				ret = store_dav_shared_colls(ctx->st, ctx->user, ctx->home_kind->home,
							     list_coll_cb, &lc, &serr);
			if (ret != STORE_OK) {
				store_status(ctx, ret, serr);
				dav_propfind_free(&pf);
				return ret;
			}
		}
		break;
	}
	case T_COLL: {
		if (!ctx->coll_exists) {
			text_response(ctx, 404, "no such collection");
			break;
		}
		const struct dav_kind *k = dav_kind_by_name(ctx->coll.kind);
		dav_ms_begin(ctx);
		struct res r = { T_COLL, k, ctx->user, &ctx->coll, NULL, 0 };
		describe(ctx, &r, &pf, NULL, &qc);
		if (depth == 1) {
			struct list_ctx lc = { ctx, &pf, k, &qc, &ctx->coll, NULL, NULL, 0, 0 };
			ret = store_dav_obj_list(ctx->st, ctx->coll.id, NULL, 0, false, list_obj_cb,
						 &lc, &serr);
			if (ret != STORE_OK) {
				store_status(ctx, ret, serr);
				dav_propfind_free(&pf);
				return ret;
			}
		}
		break;
	}
	case T_OBJ: {
		struct store_dav_obj obj;
		if (!ctx->coll_exists) {
			text_response(ctx, 404, "no such resource");
			break;
		}
		ret = store_dav_obj_get(ctx->st, ctx->coll.id, ctx->obj_name, false, false, &obj, &serr);
		if (ret != STORE_OK) {
			store_status(ctx, ret, serr);
			break;
		}
		dav_ms_begin(ctx);
		dav_ms_object(ctx, &ctx->coll, &obj, &pf);
		store_dav_obj_clear(&obj);
		break;
	}
	}
	if (ctx->resp->status == 207)
		dav_ms_end(ctx);
	dav_propfind_free(&pf);
	return 0;
}

/* ---- PROPPATCH and MKCOL properties ---- */

static bool protected_prop(const char *ns, const char *name)
{
	if (is_core_prop(ns, name))
		return true;
	if (strcmp(ns, DAV_NS) == 0) {
		static const char *const names[] = { "creationdate", "getlastmodified",
			"lockdiscovery", "supportedlock", "acl", "principal-URL", NULL };
		for (size_t i = 0; names[i] != NULL; i++) {
			if (strcmp(names[i], name) == 0)
				return true;
		}
	}
	return false;
}

/* Apply (or, with dry_run, only check) ops on the collection (object NULL)
 * or an object. statuses[i] gets each op's status. Returns the first
 * failure (0 if none) or a store error code via *store_ret. */
static int apply_props(struct dav_ctx *ctx, const struct store_dav_coll *coll,
		       const char *object, const struct dav_proppatch *pp, bool creating,
		       int *statuses, bool dry_run, int *store_ret)
{
	const struct dav_kind *k = dav_kind_by_name(coll->kind);
	int failed = 0;
	*store_ret = STORE_OK;
	for (size_t i = 0; i < pp->count; i++) {
		const struct dav_propop *op = &pp->ops[i];
		int st = 0;
		if (creating && strcmp(op->ns, DAV_NS) == 0 && strcmp(op->name, "resourcetype") == 0) {
			statuses[i] = 200;
			continue;
		}
		if (object == NULL && k != NULL && k->set_prop != NULL)
			st = k->set_prop(ctx, coll, op, creating);
		if (st == 0 && protected_prop(op->ns, op->name))
			st = 403;
		if (st == 0 || st == 200)
			st = 200;
		statuses[i] = st;
		if (st != 200) {
			if (failed == 0)
				failed = st;
			continue;
		}
		if (dry_run)
			continue;
		const char *error;
		struct buf xml;
		buf_init(&xml, 0);
		if (!op->remove)
			dav_xml_serialize(op->node, &xml);
		int ret = store_dav_prop_set(ctx->st, coll->id, object != NULL ? object : "", op->ns,
					     op->name, op->remove ? NULL : xml.data, &error);
		buf_free(&xml);
		if (ret != STORE_OK) {
			*store_ret = ret;
			return 500;
		}
	}
	return failed;
}

static void props_result(struct dav_ctx *ctx, const struct dav_proppatch *pp, const int *statuses,
			 bool failed)
{
	struct propstats ps = { .n = 0 };
	for (size_t i = 0; i < pp->count; i++) {
		int st = statuses[i];
		if (failed && st == 200)
			st = 424;
		dav_xml_empty_elem(ps_slot(&ps, st), pp->ops[i].ns, pp->ops[i].name);
	}
	struct buf *b = &ctx->resp->body;
	for (size_t i = 0; i < ps.n; i++) {
		buf_append_str(b, "<D:propstat><D:prop>");
		buf_append(b, ps.xml[i].data, ps.xml[i].len);
		buf_printf(b, "</D:prop><D:status>%s</D:status></D:propstat>",
			   dav_status_line(ps.status[i]));
		buf_free(&ps.xml[i]);
	}
}

static int do_proppatch(struct dav_ctx *ctx)
{
	if (ctx->doc == NULL) {
		text_response(ctx, 400, "PROPPATCH needs a body");
		return 0;
	}
	struct dav_proppatch pp;
	const char *error = NULL;
	int status = dav_proppatch_parse(ctx->doc, NULL, NULL, &pp, &error);
	if (status != 0) {
		text_response(ctx, status, error);
		return 0;
	}
	if (ctx->type == T_PRINCIPAL && ctx->proxy != 0) {
		/* the delegates of the owner (group-member-set) */
		int ret = dav_proxy_proppatch(ctx, &pp);
		dav_proppatch_free(&pp);
		return ret;
	}
	if ((ctx->type != T_COLL && ctx->type != T_OBJ) || !ctx->coll_exists) {
		if (ctx->type == T_COLL || ctx->type == T_OBJ)
			text_response(ctx, 404, "no such resource");
		else
			dav_error(ctx, 403, DAV_NS, "cannot-modify-protected-property", NULL);
		dav_proppatch_free(&pp);
		return 0;
	}
	const char *object = ctx->type == T_OBJ ? ctx->obj_name : NULL;
	if (object != NULL) {
		struct store_dav_obj obj;
		const char *serr;
		int ret = store_dav_obj_get(ctx->st, ctx->coll.id, object, false, true, &obj, &serr);
		if (ret != STORE_OK) {
			dav_proppatch_free(&pp);
			return store_status(ctx, ret, serr);
		}
		int c = check_conditions(ctx->req, obj.etag);
		store_dav_obj_clear(&obj);
		if (c != 0) {
			text_response(ctx, c, "precondition failed");
			dav_proppatch_free(&pp);
			return 0;
		}
	}
	int *statuses = xcalloc(pp.count + 1, sizeof(int));
	int sret;
	int failed = apply_props(ctx, &ctx->coll, object, &pp, false, statuses, true, &sret);
	if (failed == 0) {
		failed = apply_props(ctx, &ctx->coll, object, &pp, false, statuses, false, &sret);
		const char *serr = NULL;
		if (sret == STORE_OK)
			sret = store_dav_coll_touch(ctx->st, &ctx->coll, &serr);
		if (sret != STORE_OK) {
			free(statuses);
			dav_proppatch_free(&pp);
			store_status(ctx, sret, serr);
			return sret;
		}
	}
	dav_ms_begin(ctx);
	struct buf href;
	buf_init(&href, 0);
	dav_href(&href, &ctx->coll, object);
	buf_append_str(&ctx->resp->body, "<D:response><D:href>");
	dav_xml_escape(&ctx->resp->body, href.data);
	buf_append_str(&ctx->resp->body, "</D:href>");
	props_result(ctx, &pp, statuses, failed != 0);
	buf_append_str(&ctx->resp->body, "</D:response>\n");
	dav_ms_end(ctx);
	buf_free(&href);
	free(statuses);
	dav_proppatch_free(&pp);
	/* Nothing was written when something failed: commit is harmless. */
	return 0;
}

/* ---- MKCOL / MKCALENDAR ---- */

static int do_mkcol(struct dav_ctx *ctx, const char *method)
{
	if (ctx->type != T_COLL) {
		if (ctx->type == T_OBJ && !ctx->coll_exists) {
			text_response(ctx, 409, "the parent collection does not exist");
		} else if (ctx->type == T_OBJ) {
			const struct dav_kind *k = ctx->home_kind;
			if (k->mkcol_method != NULL && strcmp(method, k->mkcol_method) == 0)
				dav_error(ctx, 403, k->ns, "calendar-collection-location-ok", NULL);
			else
				text_response(ctx, 403, "collections cannot be nested here");
		} else {
			text_response(ctx, 405, "a collection exists here");
			buf_printf(&ctx->resp->headers, "Allow: %s\r\n", dav_allow_methods);
		}
		return 0;
	}
	if (strcmp(ctx->user, ctx->req->user) != 0) {
		dav_error(ctx, 403, DAV_NS, "need-privileges", NULL);
		return 0;
	}
	if (ctx->coll_exists) {
		text_response(ctx, 405, "the collection exists");
		buf_printf(&ctx->resp->headers, "Allow: %s\r\n", dav_allow_methods);
		return 0;
	}
	/* Which kind: MKCALENDAR names it; extended MKCOL's resourcetype does;
	 * a plain MKCOL makes a collection of the home's first kind. */
	const struct dav_kind *kind = ctx->home_kind;
	const char *root_ns = NULL, *root_name = NULL;
	bool special = strcmp(method, "MKCOL") != 0;
	if (special) {
		kind = NULL;
		for (size_t i = 0; dav_kinds[i] != NULL; i++) {
			const struct dav_kind *k = dav_kinds[i];
			if (k->mkcol_method != NULL && strcmp(k->mkcol_method, method) == 0 &&
			    strcmp(k->home, ctx->home_kind->home) == 0)
				kind = k;
		}
		if (kind == NULL) {
			text_response(ctx, 403, "this home holds no collections of that kind");
			return 0;
		}
		root_ns = kind->ns;
		root_name = "mkcalendar";
	} else if (ctx->req->body_len > 0) {
		if (ctx->doc == NULL) {
			text_response(ctx, 415, "MKCOL body must be an extended MKCOL XML document");
			return 0;
		}
		root_ns = DAV_NS;
		root_name = "mkcol";
		xmlNode *root = xmlDocGetRootElement(ctx->doc);
		if (!dav_xml_is(root, DAV_NS, "mkcol")) {
			text_response(ctx, 415, "unsupported MKCOL body");
			return 0;
		}
	}
	struct dav_proppatch pp = { NULL, 0 };
	if (ctx->doc != NULL) {
		const char *error = NULL;
		int status = dav_proppatch_parse(ctx->doc, root_ns, root_name, &pp, &error);
		if (status != 0) {
			text_response(ctx, status, error);
			return 0;
		}
		/* extended MKCOL: the resourcetype picks the kind */
		for (size_t i = 0; !special && i < pp.count; i++) {
			if (!dav_xml_is(pp.ops[i].node, DAV_NS, "resourcetype") || pp.ops[i].remove)
				continue;
			const struct dav_kind *found = NULL;
			bool plain = true;
			for (xmlNode *t = dav_xml_elem(pp.ops[i].node->children); t != NULL;
			     t = dav_xml_elem(t->next)) {
				if (dav_xml_is(t, DAV_NS, "collection"))
					continue;
				plain = false;
				for (size_t j = 0; dav_kinds[j] != NULL; j++) {
					const struct dav_kind *k = dav_kinds[j];
					if (k->type != NULL && !k->readonly && dav_xml_is(t, k->ns, k->type) &&
					    strcmp(k->home, ctx->home_kind->home) == 0)
						found = k;
				}
				if (found == NULL)
					break;
			}
			if (!plain && found == NULL) {
				dav_proppatch_free(&pp);
				dav_error(ctx, 403, DAV_NS, "valid-resourcetype", NULL);
				return 0;
			}
			if (found != NULL)
				kind = found;
		}
	}
	const char *serr;
	int ret = store_dav_coll_create(ctx->st, ctx->user, ctx->home_kind->home, ctx->coll_name,
					kind->name, &ctx->coll, &serr);
	if (ret != STORE_OK) {
		dav_proppatch_free(&pp);
		if (ret == STORE_EXISTS) {
			text_response(ctx, 405, "the collection exists");
			return 0;
		}
		return store_status(ctx, ret, serr);
	}
	ctx->coll_exists = true;
	if (pp.count > 0) {
		int *statuses = xcalloc(pp.count, sizeof(int));
		int sret;
		int failed = apply_props(ctx, &ctx->coll, NULL, &pp, true, statuses, true, &sret);
		if (failed == 0)
			failed = apply_props(ctx, &ctx->coll, NULL, &pp, true, statuses, false, &sret);
		if (sret != STORE_OK) {
			free(statuses);
			dav_proppatch_free(&pp);
			store_status(ctx, sret, NULL);
			return sret;
		}
		if (failed != 0) {
			/* RFC 5689 3 / RFC 4791 5.3.1: nothing is created. */
			reset_response(ctx->resp);
			ctx->resp->status = 403;
			snprintf(ctx->resp->content_type, sizeof(ctx->resp->content_type),
				 "application/xml; charset=utf-8");
			buf_printf(&ctx->resp->body,
				   "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
				   "<%s xmlns:D=\"DAV:\" xmlns:C=\"" DAV_NS_CALDAV "\">",
				   special ? "C:mkcalendar-response" : "D:mkcol-response");
			props_result(ctx, &pp, statuses, true);
			buf_printf(&ctx->resp->body, "</%s>\n",
				   special ? "C:mkcalendar-response" : "D:mkcol-response");
			free(statuses);
			dav_proppatch_free(&pp);
			dav_ctx_note(ctx, "a property of the new collection was refused");
			return STORE_INVALID;	/* roll back the creation */
		}
		free(statuses);
	}
	dav_proppatch_free(&pp);
	reset_response(ctx->resp);
	set_status(ctx, 201);
	buf_append_str(&ctx->resp->headers, "Cache-Control: no-cache\r\n");
	return 0;
}

/* ---- GET / HEAD ---- */

static int do_get(struct dav_ctx *ctx)
{
	if (ctx->type != T_OBJ) {
		if (ctx->type == T_COLL && !ctx->coll_exists) {
			text_response(ctx, 404, "no such collection");
			return 0;
		}
		text_response(ctx, 200, "This is a WebDAV collection: use a CalDAV or CardDAV client.");
		return 0;
	}
	if (!ctx->coll_exists) {
		text_response(ctx, 404, "no such resource");
		return 0;
	}
	struct store_dav_obj obj;
	const char *serr;
	int ret = store_dav_obj_get(ctx->st, ctx->coll.id, ctx->obj_name, true, false, &obj, &serr);
	if (ret != STORE_OK)
		return store_status(ctx, ret, serr);
	reset_response(ctx->resp);
	char date[64];
	http_date(obj.mtime, date, sizeof(date));
	buf_printf(&ctx->resp->headers, "ETag: %s\r\nLast-Modified: %s\r\n", obj.etag, date);
	if (ctx->req->if_none_match != NULL &&
	    (strcmp(ctx->req->if_none_match, "*") == 0 ||
	     etag_listed_cmp(ctx->req->if_none_match, obj.etag, true))) {
		set_status(ctx, 304);
	} else if (ctx->req->if_match != NULL && !etag_listed(ctx->req->if_match, obj.etag)) {
		text_response(ctx, 412, "precondition failed");
	} else {
		set_status(ctx, 200);
		const struct dav_kind *k = dav_kind_by_name(ctx->coll.kind);
		if (k == NULL || k->get_body == NULL ||
		    k->get_body(ctx, &obj, &ctx->resp->body, ctx->resp->content_type,
				sizeof(ctx->resp->content_type)) == 0) {
			snprintf(ctx->resp->content_type, sizeof(ctx->resp->content_type), "%s",
				 obj.content_type);
			buf_append(&ctx->resp->body, obj.data, obj.len);
		}
	}
	store_dav_obj_clear(&obj);
	return 0;
}

/* ---- PUT ---- */

/* Validate data for coll with its kind and check the UID is free. 0 with
 * put filled (free with the kind's put_free), or a status answered. */
static int validate_into(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
			 const char *data, size_t len, const char *ctype, struct dav_put *put)
{
	const struct dav_kind *k = dav_kind_by_name(coll->kind);
	memset(put, 0, sizeof(*put));
	put->idx.dtstart = put->idx.dtend = put->idx.rstart = put->idx.rend = STORE_DAV_NO_TIME;
	if (k == NULL) {
		text_response(ctx, 500, "collection of an unknown kind");
		return 500;
	}
	int status = k->validate(ctx, coll, name, data, len, ctype, put);
	if (status != 0) {
		if (put->err_name != NULL) {
			dav_error(ctx, status, put->err_ns, put->err_name, NULL);
			dav_ctx_note(ctx, "%s: %s", put->err_name, put->err_text);
		} else {
			text_response(ctx, status, put->err_text);
		}
		if (k->put_free != NULL)
			k->put_free(put);
		return status;
	}
	if (put->idx.uid != NULL) {
		char other[STORE_DAV_NAME_MAX + 1];
		const char *serr;
		int ret = store_dav_obj_uid_taken(ctx->st, coll->id, put->idx.uid, name, other, &serr);
		if (ret == STORE_OK) {
			struct buf inner;
			buf_init(&inner, 0);
			buf_append_str(&inner, "<D:href>");
			struct buf href;
			buf_init(&href, 0);
			dav_href(&href, coll, other);
			dav_xml_escape(&inner, href.data);
			buf_append_str(&inner, "</D:href>");
			dav_error(ctx, 403, k->ns, "no-uid-conflict", inner.data);
			buf_free(&inner);
			buf_free(&href);
			if (k->put_free != NULL)
				k->put_free(put);
			return 403;
		}
		if (ret != STORE_NOTFOUND) {
			if (k->put_free != NULL)
				k->put_free(put);
			return store_status(ctx, ret, serr);
		}
	}
	return 0;
}

static void put_release(const struct store_dav_coll *coll, struct dav_put *put)
{
	const struct dav_kind *k = dav_kind_by_name(coll->kind);
	if (k != NULL && k->put_free != NULL)
		k->put_free(put);
}

static int do_put(struct dav_ctx *ctx)
{
	if (ctx->type != T_OBJ) {
		text_response(ctx, 405, "PUT needs a resource inside a collection");
		buf_printf(&ctx->resp->headers, "Allow: %s\r\n", dav_allow_methods);
		return 0;
	}
	if (!ctx->coll_exists) {
		text_response(ctx, 409, "the collection does not exist");
		return 0;
	}
	const char *serr;
	struct store_dav_obj old;
	/* a calendar object's old text is what implicit scheduling compares */
	bool sched = strcmp(ctx->coll.kind, "calendar") == 0;
	int ret = store_dav_obj_get(ctx->st, ctx->coll.id, ctx->obj_name, sched, true, &old, &serr);
	if (ret != STORE_OK && ret != STORE_NOTFOUND)
		return store_status(ctx, ret, serr);
	bool exists = ret == STORE_OK;
	int c = check_conditions(ctx->req, exists ? old.etag : NULL);
	if (c != 0) {
		if (exists)
			store_dav_obj_clear(&old);
		text_response(ctx, c, "precondition failed");
		return 0;
	}
	const struct dav_kind *k = dav_kind_by_name(ctx->coll.kind);
	const char *ctype = ctx->req->content_type;
	struct dav_put put;
	if (validate_into(ctx, &ctx->coll, ctx->obj_name, ctx->req->body, ctx->req->body_len, ctype,
			  &put) != 0) {
		if (exists)
			store_dav_obj_clear(&old);
		return 0;
	}
	if (put.content_type != NULL)
		ctype = put.content_type;
	if (ctype == NULL || ctype[0] == '\0')
		ctype = k->content_type;
	/* RFC 6638 3.2: implicit scheduling; the stored text may gain
	 * SCHEDULE-STATUS and a higher SEQUENCE */
	struct sched_write sw;
	sched_write_begin();
	ret = sched_before_put(ctx, &ctx->coll, ctx->obj_name, exists ? &old : NULL, ctx->req->body,
			       ctx->req->body_len, &sw);
	if (exists)
		store_dav_obj_clear(&old);
	if (ret != 0) {
		put_release(&ctx->coll, &put);
		sched_write_end(ctx->st, ctx->cfg, false, &serr);
		return ret < 0 ? ret : 0;
	}
	const char *body = sw.data != NULL ? sw.data : ctx->req->body;
	size_t body_len = sw.data != NULL ? sw.len : ctx->req->body_len;
	char etag[80];
	ret = store_dav_obj_put(ctx->st, &ctx->coll, ctx->obj_name, ctype, body, body_len, &put.idx,
				etag, &serr);
	put_release(&ctx->coll, &put);
	reset_response(ctx->resp);
	if (ret == STORE_OK)
		ret = sched_after_put(ctx, &ctx->coll, ctx->obj_name, &sw);
	int fret = sched_write_end(ctx->st, ctx->cfg, ret == STORE_OK, &serr);
	if (ret == STORE_OK)
		ret = fret;
	bool modified = sw.data != NULL;
	sched_write_free(&sw);
	if (ret != STORE_OK) {
		store_status(ctx, ret, serr);
		return ret;
	}
	set_status(ctx, exists ? 204 : 201);
	/* RFC 4791 5.3.4: no ETag when the stored text is not the one sent */
	if (!modified)
		buf_printf(&ctx->resp->headers, "ETag: %s\r\n", etag);
	return 0;
}

/* ---- DELETE ---- */

static int do_delete(struct dav_ctx *ctx)
{
	const char *serr;
	int ret;
	if (ctx->type == T_COLL) {
		if (!ctx->coll_exists) {
			text_response(ctx, 404, "no such collection");
			return 0;
		}
		if (ctx->req->if_match != NULL) {
			text_response(ctx, 412, "collections have no ETag");
			return 0;
		}
		ret = store_dav_coll_delete(ctx->st, &ctx->coll, &serr);
		if (ret != STORE_OK)
			return store_status(ctx, ret, serr);
		reset_response(ctx->resp);
		set_status(ctx, 204);
		return 0;
	}
	if (ctx->type != T_OBJ) {
		text_response(ctx, 403, "this resource cannot be deleted");
		return 0;
	}
	if (!ctx->coll_exists) {
		text_response(ctx, 404, "no such resource");
		return 0;
	}
	struct store_dav_obj obj;
	bool sched = strcmp(ctx->coll.kind, "calendar") == 0;
	ret = store_dav_obj_get(ctx->st, ctx->coll.id, ctx->obj_name, sched, true, &obj, &serr);
	if (ret != STORE_OK)
		return store_status(ctx, ret, serr);
	int c = check_conditions(ctx->req, obj.etag);
	if (c != 0) {
		store_dav_obj_clear(&obj);
		text_response(ctx, c, "precondition failed");
		return 0;
	}
	/* RFC 6638 3.2: CANCEL to the attendees, or a DECLINED reply */
	sched_write_begin();
	c = sched_before_delete(ctx, &ctx->coll, &obj);
	store_dav_obj_clear(&obj);
	int fret = sched_write_end(ctx->st, ctx->cfg, c == 0, &serr);
	if (c != 0)
		return c < 0 ? c : 0;
	if (fret != STORE_OK)
		return store_status(ctx, fret, serr);
	ret = store_dav_obj_delete(ctx->st, &ctx->coll, ctx->obj_name, &serr);
	if (ret != STORE_OK)
		return store_status(ctx, ret, serr);
	reset_response(ctx->resp);
	set_status(ctx, 204);
	return 0;
}

/* ---- COPY / MOVE ---- */

struct copy_ctx {
	struct dav_ctx *ctx;
	const struct store_dav_coll *src;
	const struct store_dav_coll *dst;
	int ret;
	int status;
	int64_t delta;		/* bytes added to the owner's usage */
};

static void copy_obj_cb(const struct store_dav_obj *obj, void *vctx)
{
	struct copy_ctx *cc = vctx;
	if (cc->ret != STORE_OK || cc->status != 0)
		return;
	struct dav_put put;
	cc->status = validate_into(cc->ctx, cc->dst, obj->name, obj->data, obj->len,
				   obj->content_type, &put);
	if (cc->status != 0)
		return;
	char etag[80];
	const char *serr;
	uint64_t old_size;
	/* one change number for the whole copy (the new collection's first) */
	cc->ret = store_dav_obj_put_bulk(cc->ctx->st, cc->dst, obj->name, obj->content_type,
					 obj->data, obj->len, &put.idx, etag, &old_size, &serr);
	cc->delta += (int64_t)obj->len - (int64_t)old_size;
	put_release(cc->dst, &put);
	if (cc->ret == STORE_OK)
		cc->ret = store_dav_props_copy(cc->ctx->st, cc->src->id, obj->name, cc->dst->id,
					       obj->name, &serr);
}

static int do_copy_move(struct dav_ctx *ctx, bool move)
{
	const struct dav_request *req = ctx->req;
	if (req->destination == NULL) {
		text_response(ctx, 400, "Destination header missing");
		return 0;
	}
	const char *path = href_path(req->destination);
	if (path == NULL) {
		text_response(ctx, 400, "bad Destination");
		return 0;
	}
	struct target dt;
	int pr = parse_path(path, &dt);
	if (pr == 404 && strncmp(path, "/dav/", 5) != 0) {
		text_response(ctx, 502, "the destination is not on this server");
		return 0;
	}
	if (pr != 0) {
		text_response(ctx, pr == 400 ? 400 : 409, "bad Destination");
		return 0;
	}
	if (strcmp(dt.user, req->user) != 0) {
		dav_error(ctx, 403, DAV_NS, "need-privileges", NULL);
		return 0;
	}
	bool overwrite = req->overwrite == NULL || str_casecmp(req->overwrite, "T") == 0;
	if (req->overwrite != NULL && !overwrite && str_casecmp(req->overwrite, "F") != 0) {
		text_response(ctx, 400, "bad Overwrite header");
		return 0;
	}
	const char *serr;
	int ret;
	if (ctx->type == T_COLL) {
		if (!ctx->coll_exists) {
			text_response(ctx, 404, "no such collection");
			return 0;
		}
		if (dt.type != T_COLL || dt.home_kind != ctx->home_kind) {
			text_response(ctx, 403, "a collection can only go to a collection of its home");
			return 0;
		}
		if (strcmp(dt.coll, ctx->coll_name) == 0) {
			text_response(ctx, 403, "source and destination are the same");
			return 0;
		}
		struct store_dav_coll dst;
		ret = store_dav_coll_get(ctx->st, dt.user, dt.home_kind->home, dt.coll, true, &dst, &serr);
		bool existed = ret == STORE_OK;
		if (ret != STORE_OK && ret != STORE_NOTFOUND)
			return store_status(ctx, ret, serr);
		const struct dav_kind *dk = existed ? dav_kind_by_name(dst.kind) : NULL;
		if (dk != NULL && dk->readonly) {
			dav_error(ctx, 403, DAV_NS, "need-privileges", NULL);
			return 0;
		}
		if (existed && !overwrite) {
			text_response(ctx, 412, "the destination exists");
			return 0;
		}
		if (existed && (ret = store_dav_coll_delete(ctx->st, &dst, &serr)) != STORE_OK)
			return store_status(ctx, ret, serr);
		if (move) {
			ret = store_dav_coll_rename(ctx->st, &ctx->coll, dt.coll, &serr);
			if (ret != STORE_OK)
				return store_status(ctx, ret, serr);
		} else {
			ret = store_dav_coll_create(ctx->st, dt.user, dt.home_kind->home, dt.coll,
						    ctx->coll.kind, &dst, &serr);
			if (ret == STORE_OK)
				ret = store_dav_props_copy(ctx->st, ctx->coll.id, "", dst.id, "", &serr);
			if (ret != STORE_OK)
				return store_status(ctx, ret, serr);
			if (depth_of(req, 2) != 0) {
				struct copy_ctx cc = { ctx, &ctx->coll, &dst, STORE_OK, 0, 0 };
				ret = store_dav_bulk_begin(ctx->st, &serr);
				if (ret == STORE_OK)
					ret = store_dav_obj_list(ctx->st, ctx->coll.id, NULL, 0, true,
								 copy_obj_cb, &cc, &serr);
				if (ret == STORE_OK)
					ret = cc.ret;
				if (ret == STORE_OK && cc.status == 0)
					ret = store_dav_bulk_finish(ctx->st, &dst, cc.delta, &serr);
				if (cc.status != 0)
					return STORE_INVALID;
				if (ret != STORE_OK)
					return store_status(ctx, ret, serr);
			}
		}
		reset_response(ctx->resp);
		set_status(ctx, existed ? 204 : 201);
		return 0;
	}
	if (ctx->type != T_OBJ) {
		text_response(ctx, 403, "this resource cannot be copied or moved");
		return 0;
	}
	if (dt.type != T_OBJ) {
		text_response(ctx, 409, "the destination must be inside a collection");
		return 0;
	}
	if (!ctx->coll_exists) {
		text_response(ctx, 404, "no such resource");
		return 0;
	}
	struct store_dav_obj obj;
	ret = store_dav_obj_get(ctx->st, ctx->coll.id, ctx->obj_name, true, true, &obj, &serr);
	if (ret != STORE_OK)
		return store_status(ctx, ret, serr);
	struct store_dav_coll dst;
	ret = store_dav_coll_get(ctx->st, dt.user, dt.home_kind->home, dt.coll, true, &dst, &serr);
	if (ret == STORE_NOTFOUND) {
		store_dav_obj_clear(&obj);
		text_response(ctx, 409, "the destination collection does not exist");
		return 0;
	}
	const struct dav_kind *dk = ret == STORE_OK ? dav_kind_by_name(dst.kind) : NULL;
	if (dk != NULL && dk->readonly) {
		store_dav_obj_clear(&obj);
		dav_error(ctx, 403, DAV_NS, "need-privileges", NULL);
		return 0;
	}
	if (ret != STORE_OK) {
		store_dav_obj_clear(&obj);
		return store_status(ctx, ret, serr);
	}
	if (dst.id == ctx->coll.id && strcmp(dt.obj, ctx->obj_name) == 0) {
		store_dav_obj_clear(&obj);
		text_response(ctx, 403, "source and destination are the same");
		return 0;
	}
	struct store_dav_obj dobj;
	ret = store_dav_obj_get(ctx->st, dst.id, dt.obj, false, true, &dobj, &serr);
	bool existed = ret == STORE_OK;
	if (ret != STORE_OK && ret != STORE_NOTFOUND) {
		store_dav_obj_clear(&obj);
		return store_status(ctx, ret, serr);
	}
	if (existed && !overwrite) {
		store_dav_obj_clear(&obj);
		text_response(ctx, 412, "the destination exists");
		return 0;
	}
	/* A MOVE within a collection keeps the UID; elsewhere it must be free. */
	if (move && dst.id == ctx->coll.id) {
		ret = store_dav_obj_delete(ctx->st, &ctx->coll, ctx->obj_name, &serr);
		if (ret != STORE_OK) {
			store_dav_obj_clear(&obj);
			return store_status(ctx, ret, serr);
		}
	}
	char stag[80] = "";
	if (move && strcmp(ctx->coll.kind, "calendar") == 0 &&
	    store_sched_tag_get(ctx->st, ctx->coll.id, ctx->obj_name, stag, &serr) != STORE_OK)
		stag[0] = '\0';
	struct dav_put put;
	if (validate_into(ctx, &dst, dt.obj, obj.data, obj.len, obj.content_type, &put) != 0) {
		store_dav_obj_clear(&obj);
		return STORE_INVALID;
	}
	char etag[80];
	ret = store_dav_obj_put(ctx->st, &dst, dt.obj, obj.content_type, obj.data, obj.len,
				&put.idx, etag, &serr);
	put_release(&dst, &put);
	if (ret == STORE_OK)
		ret = store_dav_props_copy(ctx->st, ctx->coll.id, ctx->obj_name, dst.id, dt.obj, &serr);
	if (ret == STORE_OK && move && dst.id != ctx->coll.id)
		ret = store_dav_obj_delete(ctx->st, &ctx->coll, ctx->obj_name, &serr);
	/* RFC 6638 3.2.10: a moved scheduling object keeps its schedule tag
	 * (a MOVE between the owner's calendars schedules nothing) */
	if (ret == STORE_OK && move && stag[0] != '\0' && strcmp(dst.kind, "calendar") == 0) {
		ret = store_sched_tag_set(ctx->st, dst.id, dt.obj, stag, &serr);
	}
	store_dav_obj_clear(&obj);
	if (ret != STORE_OK)
		return store_status(ctx, ret, serr);
	reset_response(ctx->resp);
	set_status(ctx, existed ? 204 : 201);
	buf_printf(&ctx->resp->headers, "ETag: %s\r\n", etag);
	if (move && stag[0] != '\0')
		buf_printf(&ctx->resp->headers, "Schedule-Tag: %s\r\n", stag);
	return 0;
}

/* ---- REPORT sync-collection (RFC 6578) ---- */

struct sync_ctx {
	char **names;
	size_t n;
	char **gone;
	size_t ngone;
};

static void sync_change_cb(const char *name, bool deleted, void *vctx)
{
	struct sync_ctx *sc = vctx;
	if (deleted) {
		sc->gone = xrealloc(sc->gone, (sc->ngone + 1) * sizeof(char *));
		sc->gone[sc->ngone++] = xstrdup(name);
	} else {
		sc->names = xrealloc(sc->names, (sc->n + 1) * sizeof(char *));
		sc->names[sc->n++] = xstrdup(name);
	}
}

/* Parse our token for coll: 0 with *since_r, -1 when it is not one of its. */
static int parse_sync_token(const char *token, const struct store_dav_coll *coll,
			    uint64_t *since_r)
{
	uint64_t id, n;
	char tail;
	if (sscanf(token, "urn:cairn:sync:%" SCNu64 ":%" SCNu64 "%c", &id, &n, &tail) != 2)
		return -1;
	if (id != coll->id || n > coll->synctoken)
		return -1;
	*since_r = n;
	return 0;
}

static int do_sync_collection(struct dav_ctx *ctx, xmlNode *root)
{
	if (ctx->type != T_COLL || !ctx->coll_exists) {
		dav_error(ctx, 403, DAV_NS, "supported-report", NULL);
		return 0;
	}
	xmlNode *tok = dav_xml_child(root, DAV_NS, "sync-token");
	xmlNode *level = dav_xml_child(root, DAV_NS, "sync-level");
	if (level != NULL) {
		char *lv = dav_xml_text(level);
		bool ok = strcmp(lv, "1") == 0 || strcmp(lv, "infinite") == 0;
		xmlFree(lv);
		if (!ok) {
			text_response(ctx, 400, "bad sync-level");
			return 0;
		}
	}
	uint64_t since = 0;
	if (tok != NULL) {
		char *t = dav_xml_text(tok);
		int bad = t[0] != '\0' && parse_sync_token(t, &ctx->coll, &since) < 0;
		xmlFree(t);
		if (bad) {
			dav_error(ctx, 403, DAV_NS, "valid-sync-token", NULL);
			return 0;
		}
	}
	struct dav_propfind pf;
	const char *error = NULL;
	dav_prop_list_parse(root, &pf, &error);
	const char *serr;
	int ret;
	dav_ms_begin(ctx);
	const struct dav_kind *k = dav_kind_by_name(ctx->coll.kind);
	struct quota_cache qc = { .done = false };
	bool with_data = false;
	for (size_t i = 0; i < pf.count; i++) {
		if (is_kind_prop(k, pf.props[i].ns, pf.props[i].name) &&
		    !is_core_prop(pf.props[i].ns, pf.props[i].name))
			with_data = true;
	}
	struct list_ctx lc = { ctx, &pf, k, &qc, &ctx->coll, NULL, NULL, 0, 0 };
	/* DAV:limit (RFC 6578 3.6): more results than the client takes is
	 * refused whole; the client asks again without a limit or later. */
	uint64_t limit = UINT64_MAX;
	xmlNode *nres = dav_xml_child(dav_xml_child(root, DAV_NS, "limit"), DAV_NS, "nresults");
	if (nres != NULL) {
		char *t = dav_xml_text(nres);
		uint64_t v;
		bool ok = str_to_u64(t, strlen(t), UINT64_MAX - 1, &v) == 0 && v > 0;
		xmlFree(t);
		if (!ok) {
			dav_propfind_free(&pf);
			text_response(ctx, 400, "bad DAV:nresults");
			return 0;
		}
		limit = v;
	}
	if (since == 0) {
		uint64_t bytes, count = 0;
		ret = limit == UINT64_MAX ? STORE_OK :
		      store_dav_coll_usage(ctx->st, ctx->coll.id, &bytes, &count, &serr);
		if (ret == STORE_OK && count > limit) {
			dav_propfind_free(&pf);
			dav_error(ctx, 507, DAV_NS, "number-of-matches-within-limits", NULL);
			return 0;
		}
		if (ret == STORE_OK)
			ret = store_dav_obj_list(ctx->st, ctx->coll.id, NULL, 0, with_data,
						 list_obj_cb, &lc, &serr);
	} else {
		struct sync_ctx sc = { NULL, 0, NULL, 0 };
		ret = store_dav_changes(ctx->st, ctx->coll.id, since, sync_change_cb, &sc, &serr);
		if (ret == STORE_OK && (uint64_t)(sc.n + sc.ngone) > limit) {
			for (size_t i = 0; i < sc.ngone; i++)
				free(sc.gone[i]);
			for (size_t i = 0; i < sc.n; i++)
				free(sc.names[i]);
			free(sc.names);
			free(sc.gone);
			dav_propfind_free(&pf);
			dav_error(ctx, 507, DAV_NS, "number-of-matches-within-limits", NULL);
			return 0;
		}
		if (ret == STORE_OK && sc.n > 0)
			ret = store_dav_obj_list(ctx->st, ctx->coll.id, (const char *const *)sc.names,
						 sc.n, with_data, list_obj_cb, &lc, &serr);
		for (size_t i = 0; i < sc.ngone; i++) {
			struct buf href;
			buf_init(&href, 0);
			dav_href(&href, &ctx->coll, sc.gone[i]);
			dav_ms_status(ctx, href.data, 404);
			buf_free(&href);
			free(sc.gone[i]);
		}
		for (size_t i = 0; i < sc.n; i++)
			free(sc.names[i]);
		free(sc.names);
		free(sc.gone);
	}
	dav_propfind_free(&pf);
	if (ret != STORE_OK)
		return store_status(ctx, ret, serr);
	buf_append_str(&ctx->resp->body, "<D:sync-token>");
	sync_token(&ctx->resp->body, &ctx->coll);
	buf_append_str(&ctx->resp->body, "</D:sync-token>\n");
	dav_ms_end(ctx);
	return 0;
}

static int do_report(struct dav_ctx *ctx)
{
	if (ctx->doc == NULL) {
		text_response(ctx, 400, "REPORT needs a body");
		return 0;
	}
	xmlNode *root = xmlDocGetRootElement(ctx->doc);
	if (dav_xml_is(root, DAV_NS, "sync-collection"))
		return do_sync_collection(ctx, root);
	if (dav_xml_is(root, DAV_NS, "expand-property") && ctx->type == T_PRINCIPAL)
		return dav_proxy_expand_property(ctx, root);
	if ((ctx->type == T_COLL || ctx->type == T_OBJ) && !ctx->coll_exists) {
		text_response(ctx, 404, "no such collection");
		return 0;
	}
	const struct dav_kind *k = ctx->coll_exists ? dav_kind_by_name(ctx->coll.kind) :
				   ctx->home_kind;
	if (k != NULL && k->report != NULL && ctx->type != T_ROOT && ctx->type != T_PRINCIPAL &&
	    ctx->type != T_PRINCIPALS) {
		int r = k->report(ctx, root);
		if (r == 0)
			return ctx->resp->status >= 500 ? STORE_ERROR : 0;
	}
	dav_error(ctx, 403, DAV_NS, "supported-report", NULL);
	return 0;
}

/* ---- dispatch ---- */

static bool method_writes(const char *m)
{
	return strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 || strcmp(m, "PROPPATCH") == 0 ||
	       strcmp(m, "MKCOL") == 0 || strcmp(m, "MKCALENDAR") == 0 || strcmp(m, "COPY") == 0 ||
	       strcmp(m, "MOVE") == 0 || strcmp(m, "ACL") == 0 || strcmp(m, "POST") == 0;
}

/* The access a method needs on the target (rights enforced on every
 * method): reading, changing objects, or owning the collection. */
static int method_needs(const struct dav_ctx *ctx)
{
	const char *m = ctx->req->method;
	if (strcmp(m, "PROPFIND") == 0 || strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
	    strcmp(m, "REPORT") == 0 || strcmp(m, "COPY") == 0)
		return STORE_DAV_READ;
	if (ctx->type == T_OBJ && (strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 ||
				   strcmp(m, "PROPPATCH") == 0 || strcmp(m, "MOVE") == 0))
		return STORE_DAV_WRITE;
	/* RFC 6638 6.1.1 schedule-send: a write delegate sends from the outbox */
	if (ctx->type == T_COLL && strcmp(m, "POST") == 0 && ctx->coll_exists &&
	    strcmp(ctx->coll.kind, "schedoutbox") == 0)
		return STORE_DAV_WRITE;
	return STORE_DAV_OWNER;
}

static bool method_has_xml(const char *m)
{
	return strcmp(m, "PROPFIND") == 0 || strcmp(m, "PROPPATCH") == 0 ||
	       strcmp(m, "REPORT") == 0 || strcmp(m, "MKCOL") == 0 ||
	       strcmp(m, "MKCALENDAR") == 0 || strcmp(m, "ACL") == 0 || strcmp(m, "POST") == 0;
}

/* Let the kinds of the target's home create the user's default
 * collections. 0, or a store_result with the response set. */
static int provision(struct dav_ctx *ctx)
{
	for (size_t i = 0; dav_kinds[i] != NULL; i++) {
		const struct dav_kind *k = dav_kinds[i];
		if (k->provision == NULL || strcmp(k->home, ctx->home_kind->home) != 0)
			continue;
		int ret = k->provision(ctx, ctx->user);
		if (ret != STORE_OK)
			return store_status(ctx, ret, NULL);
	}
	return 0;
}

static int handle_tx(struct store *st, void *vctx, const char **error_r)
{
	(void)st;
	struct dav_ctx *ctx = vctx;
	const char *m = ctx->req->method;
	reset_response(ctx->resp);
	ctx->note[0] = '\0';
	int ret = 0;
	bool self = strcmp(ctx->user, ctx->req->user) == 0;
	/* A delegate (dav-proxy.c) reads or writes the owner's calendars,
	 * which are provisioned for it as they would be for the owner. */
	const char *perr = NULL;
	ctx->delegated = STORE_DAV_NONE;
	if (!self && ctx->home_kind != NULL &&
	    (ret = dav_proxy_access(ctx, ctx->user, ctx->home_kind->home, &ctx->delegated,
				    &perr)) != STORE_OK) {
		store_status(ctx, ret, perr);
		*error_r = ctx->note;
		return ret;
	}
	bool as_owner = self || ctx->delegated >= STORE_DAV_READ;
	if (ctx->type == T_HOME && as_owner)
		ret = provision(ctx);
	if (ret == 0 && (ctx->type == T_COLL || ctx->type == T_OBJ)) {
		ret = load_coll(ctx, method_writes(m));
		if (ret == 0 && !ctx->coll_exists && as_owner) {
			/* a default collection asked for before the home ever was */
			ret = provision(ctx);
			if (ret == 0)
				ret = load_coll(ctx, method_writes(m));
		}
	}
	if (ret != 0) {
		*error_r = ctx->note;
		return ret;
	}
	if (ctx->coll_exists && method_writes(m) && strcmp(m, "COPY") != 0) {
		const struct dav_kind *k = dav_kind_by_name(ctx->coll.kind);
		if (k != NULL && k->readonly) {
			dav_error(ctx, 403, DAV_NS, "need-privileges", NULL);
			dav_ctx_note(ctx, "read-only collection");
			*error_r = ctx->note;
			return STORE_INVALID;
		}
	}
	if (strcmp(ctx->user, ctx->req->user) != 0 && ctx->type != T_ROOT &&
	    ctx->type != T_PRINCIPALS) {
		/* Another user's namespace: only what a share grants. A missing
		 * collection looks the same as one not shared (no probing). */
		int need = method_needs(ctx);
		if (ctx->type == T_PRINCIPAL && ctx->proxy != 0) {
			/* proxy principals: their owner's and delegates' to read */
			ret = dav_proxy_principal_access(ctx, ctx->user, &ctx->access, &perr);
			if (ret != STORE_OK) {
				store_status(ctx, ret, perr);
				*error_r = ctx->note;
				return ret;
			}
			if (ctx->access > STORE_DAV_READ)
				ctx->access = STORE_DAV_READ;
		} else if (ctx->type == T_PRINCIPAL) {
			ctx->access = STORE_DAV_READ;
		} else if (ctx->type == T_HOME) {
			/* a delegate lists the owner's home, nothing more */
			ctx->access = ctx->delegated > STORE_DAV_READ ? STORE_DAV_READ : ctx->delegated;
		} else if (!ctx->coll_exists) {
			ctx->access = STORE_DAV_NONE;
		}
		if (ctx->access < need) {
			dav_error(ctx, 403, DAV_NS, "need-privileges", NULL);
			*error_r = ctx->note;
			return STORE_INVALID;
		}
	}
	if (strcmp(m, "PROPFIND") == 0)
		ret = do_propfind(ctx);
	else if (strcmp(m, "PROPPATCH") == 0)
		ret = do_proppatch(ctx);
	else if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		ret = do_get(ctx);
	else if (strcmp(m, "PUT") == 0)
		ret = do_put(ctx);
	else if (strcmp(m, "DELETE") == 0)
		ret = do_delete(ctx);
	else if (strcmp(m, "MKCOL") == 0 || strcmp(m, "MKCALENDAR") == 0)
		ret = do_mkcol(ctx, m);
	else if (strcmp(m, "COPY") == 0 || strcmp(m, "MOVE") == 0)
		ret = do_copy_move(ctx, m[0] == 'M');
	else if (strcmp(m, "REPORT") == 0)
		ret = do_report(ctx);
	else if (strcmp(m, "ACL") == 0)
		ret = dav_acl_method(ctx);
	else if (strcmp(m, "POST") == 0 && ctx->type == T_COLL && ctx->coll_exists &&
		 strcmp(ctx->coll.kind, "schedoutbox") == 0)
		sched_outbox_post(ctx);
	else if (strcmp(m, "POST") == 0)
		ret = dav_acl_post(ctx);
	else {
		text_response(ctx, 405, "method not allowed here");
		buf_printf(&ctx->resp->headers, "Allow: %s\r\n", dav_allow_methods);
	}
	/* Any failure answered above rolls the transaction back. */
	if (ret == 0 && ctx->resp->status >= 400 && method_writes(m))
		ret = STORE_INVALID;
	if (ret > 0)
		ret = STORE_INVALID;
	*error_r = ctx->note;
	return ret;
}

void dav_response_free(struct dav_response *resp)
{
	buf_free(&resp->headers);
	buf_free(&resp->body);
}

void dav_handle(struct store *st, const struct config *cfg, const struct dav_request *req,
		struct dav_response *resp)
{
	buf_init(&resp->headers, 0);
	buf_init(&resp->body, 0);
	reset_response(resp);
	struct dav_ctx ctx = { .st = st, .cfg = cfg, .req = req, .resp = resp };
	struct target t;
	int pr = parse_path(req->path, &t);
	if (pr == 409) {
		/* RFC 4918 9.7.1, 9.3.1: a PUT or MKCOL whose parent does not
		 * exist is a conflict; anything else there is simply absent. */
		bool creates = strcmp(req->method, "PUT") == 0 || strcmp(req->method, "MKCOL") == 0 ||
			       strcmp(req->method, "MKCALENDAR") == 0;
		text_response(&ctx, creates ? 409 : 404,
			      creates ? "the parent collection does not exist" : "not found");
		return;
	}
	if (pr != 0) {
		text_response(&ctx, pr, pr == 400 ? "malformed path" : "not found");
		return;
	}
	ctx.type = t.type;
	ctx.home_kind = t.home_kind;
	ctx.trailing_slash = t.trailing_slash;
	ctx.proxy = t.proxy;
	snprintf(ctx.user, sizeof(ctx.user), "%s", t.user);
	snprintf(ctx.coll_name, sizeof(ctx.coll_name), "%s", t.coll);
	snprintf(ctx.obj_name, sizeof(ctx.obj_name), "%s", t.obj);
	ctx.access = STORE_DAV_OWNER;
	/* a POST of iCalendar (a free/busy request to an outbox) is no XML */
	bool ical_post = strcmp(req->method, "POST") == 0 && req->content_type != NULL &&
			 str_ncasecmp(req->content_type, "text/calendar", 13) == 0;
	if (method_has_xml(req->method) && req->body_len > 0 && !ical_post) {
		struct dav_xml_limits lim = {
			.max_bytes = cfg->http.dav_max_xml,
			.max_depth = (unsigned)cfg->http.dav_xml_depth,
			.max_nodes = 100000,
		};
		const char *error = NULL;
		int st_code = dav_xml_parse(req->body, req->body_len, &lim, &ctx.doc, &error);
		if (st_code != 0) {
			bool mkcol = strcmp(req->method, "MKCOL") == 0;
			text_response(&ctx, mkcol && st_code == 400 ? 415 : st_code, error);
			return;
		}
	}
	const char *error = NULL;
	int ret = store_tx(st, handle_tx, &ctx, &error);
	if (ret != STORE_OK && resp->status < 400) {
		/* commit failed after an answer was built */
		store_status(&ctx, ret, error);
	}
	if (ctx.doc != NULL)
		xmlFreeDoc(ctx.doc);
	if (ctx.note[0] != '\0' && resp->status >= 400)
		log_info("dav user=%s method=%s path=%s status=%d reason=\"%s\"", req->user,
			 req->method, req->path, resp->status, ctx.note);
}

/* ---- feeds ---- */

static void hex_of(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void token_hash(const char *token, char *hash_r)
{
	unsigned char md[32];
	unsigned int len = sizeof(md);
	if (EVP_Digest(token, strlen(token), md, &len, EVP_sha256(), NULL) != 1)
		fatal("dav: SHA-256 failed");
	hex_of(md, sizeof(md), hash_r);
}

int dav_feed_token(char *token_r, char *hash_r)
{
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	hex_of(raw, sizeof(raw), token_r);
	token_hash(token_r, hash_r);
	return 0;
}

struct feed_ctx {
	const struct config *cfg;
	const char *hash;
	struct dav_response *resp;
};

static int feed_tx(struct store *st, void *vctx, const char **error_r)
{
	struct feed_ctx *f = vctx;
	struct store_dav_coll coll;
	reset_response(f->resp);
	int ret = store_dav_feed_use(st, f->hash, &coll, error_r);
	if (ret == STORE_NOTFOUND) {
		f->resp->status = 404;
		return STORE_OK;
	}
	if (ret != STORE_OK)
		return ret;
	const struct dav_kind *k = dav_kind_by_name(coll.kind);
	const char *ctype = NULL;
	if (k == NULL || k->export == NULL) {
		f->resp->status = 404;
		return STORE_OK;
	}
	if (k->export(st, f->cfg, &coll, &f->resp->body, &ctype, error_r) < 0)
		return STORE_ERROR;
	f->resp->status = 200;
	snprintf(f->resp->content_type, sizeof(f->resp->content_type), "%s", ctype);
	buf_printf(&f->resp->headers, "Content-Disposition: inline; filename=\"%s.ics\"\r\n",
		   "calendar");
	return STORE_OK;
}

void dav_feed(struct store *st, const struct config *cfg, const char *token,
	      struct dav_response *resp)
{
	buf_init(&resp->headers, 0);
	buf_init(&resp->body, 0);
	reset_response(resp);
	size_t n = strlen(token);
	if (n > 4 && strcmp(token + n - 4, ".ics") == 0)
		n -= 4;
	bool ok = n == 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = isxdigit((unsigned char)token[i]) && !isupper((unsigned char)token[i]);
	if (!ok) {
		resp->status = 404;
		return;
	}
	char plain[65], hash[65];
	memcpy(plain, token, 64);
	plain[64] = '\0';
	token_hash(plain, hash);
	struct feed_ctx f = { cfg, hash, resp };
	const char *error = NULL;
	int ret = store_tx(st, feed_tx, &f, &error);
	if (ret != STORE_OK) {
		reset_response(resp);
		resp->status = ret == STORE_TEMPFAIL ? 503 : 500;
		log_warn("dav feed status=%d error=\"%s\"", resp->status, error != NULL ? error : "");
	}
	if (resp->status != 200) {
		snprintf(resp->content_type, sizeof(resp->content_type), "text/plain; charset=utf-8");
		buf_reset(&resp->body);
		buf_append_str(&resp->body, resp->status == 404 ? "no such feed\n" : "error\n");
	}
}
