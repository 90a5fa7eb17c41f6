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
 * absolute URL) into addr. 0, or -1. */
int dav_principal_of_href(const char *href, char *addr, size_t size);
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

#endif
