/* Internals of the WebDAV core shared by its files (dav.c, dav-acl.c):
 * the request context and the sharing/ACL entry points. */
#ifndef CAIRN_DAV_PRIVATE_H
#define CAIRN_DAV_PRIVATE_H

#include "dav.h"
#include "dav-if.h"

enum target_type { T_ROOT, T_PRINCIPALS, T_PRINCIPAL, T_HOME, T_COLL, T_OBJ };

struct dav_ctx {
	struct store *st;
	const struct config *cfg;
	const struct dav_request *req;
	struct dav_response *resp;
	xmlDocPtr doc;
	/* the target */
	enum target_type type;
	const struct dav_kind *home_kind;	/* T_HOME, T_COLL, T_OBJ */
	char user[321];				/* whose namespace */
	char coll_name[STORE_DAV_NAME_MAX + 1];
	char obj_name[STORE_DAV_NAME_MAX + 1];
	bool trailing_slash;
	int proxy;		/* T_PRINCIPAL: 0, or a proxy principal (STORE_DAV_PROXY_*) */
	int delegated;		/* the requester's access to user's home as a delegate */
	struct store_dav_coll coll;
	bool coll_exists;
	int access;		/* the requester's access to the target (STORE_DAV_*) */
	struct dav_if ifh;	/* the If header, parsed (nlists 0 without one) */
	char note[200];
};

/* Text body response with status (the reason is logged). */
void dav_text_response(struct dav_ctx *ctx, int status, const char *text);
/* Append the href of a principal. */
void dav_href_principal(struct buf *out, const char *user);

/* The address of a principal href (/dav/principals/<address>/, maybe an
 * absolute URL) into addr. 0, or -1 (also for a proxy principal). */
int dav_principal_of_href(const char *href, char *addr, size_t size);
/* The same, accepting proxy principals too: *proxy_r 0 for the user's
 * principal, or STORE_DAV_PROXY_READ/WRITE for its calendar-proxy-read/-write. */
int dav_principal_parse_href(const char *href, char *addr, size_t size, int *proxy_r);
/* One property of a principal (proxy 0) or of a proxy principal of user:
 * 200 with the element appended to out, else 404 (or 403/500) and nothing. */
int dav_principal_value(struct dav_ctx *ctx, const char *user, int proxy,
			const struct dav_propname *p, struct buf *out);
/* A resource an href names (root, principals, principal, home or
 * collection) that the requester may read, for expand-property: 0 with
 * *ref_r, 404 (unknown, unreadable, an object) or 500 (store error). */
struct dav_resref;
int dav_resref_open(struct dav_ctx *ctx, const char *href, struct dav_resref **ref_r);
/* One property of it: 200 with the element appended to out, else its status. */
int dav_resref_value(struct dav_ctx *ctx, struct dav_resref *ref, const struct dav_propname *p,
		     struct buf *out);
/* Its canonical href. */
void dav_resref_href(const struct dav_resref *ref, struct buf *out);
void dav_resref_free(struct dav_resref *ref);
/* The collection an href names (with or without a trailing slash): 0, or
 * 400/404. Any owner: the caller checks rights. */
int dav_coll_of_href(struct dav_ctx *ctx, const char *href, struct store_dav_coll *coll_r);

/* dav-acl.c: DAV:acl and DAV:supported-privilege-set of a collection or
 * object (200 appended). */
int dav_acl_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		 struct buf *out);
/* CalendarServer sharing properties of a collection: CS:invite,
 * CS:allowed-sharing-modes (200 appended) or 404. */
int dav_acl_cs_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		    struct buf *out);
/* The ACL method (RFC 3744 8.1) on a collection: replaces its shares. */
int dav_acl_method(struct dav_ctx *ctx);
/* POST of CS:share to a collection (owner) or CS:invite-reply to a home
 * (sharee). */
int dav_acl_post(struct dav_ctx *ctx);

/* dav-proxy.c: delegation, the CalendarServer calendar-proxy extension. */
/* "calendar-proxy-read" 1, "calendar-proxy-write" 2, anything else 0. */
int dav_proxy_of_segment(const char *seg);
/* The URL segment (and resourcetype element) of a proxy principal. */
const char *dav_proxy_segment(int proxy);
/* The access the requester has to owner's collections in home through
 * delegation (STORE_DAV_NONE/READ/WRITE; only the calendars home). A
 * store_result. */
int dav_proxy_access(struct dav_ctx *ctx, const char *owner, const char *home, int *access_r,
		     const char **error_r);
/* May the requester read the proxy principals of owner (the owner, or one
 * of its delegates)? STORE_DAV_NONE or STORE_DAV_READ/OWNER into *access_r. */
int dav_proxy_principal_access(struct dav_ctx *ctx, const char *owner, int *access_r,
			       const char **error_r);
/* A delegation property of a user principal (proxy 0: group-membership,
 * calendar-proxy-read-for/-write-for) or any property of a proxy principal
 * that the core does not answer: 200 appended, 404 not one, 500. */
int dav_proxy_prop(struct dav_ctx *ctx, const char *user, int proxy, const struct dav_propname *p,
		   struct buf *out);
/* PROPPATCH of a proxy principal (group-member-set): answers and returns 0,
 * or a store_result. */
int dav_proxy_proppatch(struct dav_ctx *ctx, const struct dav_proppatch *pp);
/* REPORT DAV:expand-property (RFC 3253 3.8) on any resource but an
 * object: answers and returns 0, or a store_result. */
int dav_proxy_expand_property(struct dav_ctx *ctx, xmlNode *root);

#endif
