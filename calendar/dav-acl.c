/* Sharing in the WebDAV core: the WebDAV ACL subset Thunderbird and DAVx5
 * use (RFC 3744: DAV:acl, DAV:current-user-privilege-set, the ACL method
 * granting read or read-write to a user or a directory group) and the
 * CalendarServer sharing Apple Calendar uses (POST CS:share, the CS:invite
 * property, CS:invite-reply from the sharee). Both write the same shares
 * (store_dav_share_*); a shared collection appears in the sharee's home and
 * every method checks the access it needs (dav.c, method_needs). */
#include "autoconf.h"
#include "dav-private.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct acl_list {
	struct buf *out;
	bool cs;
};

static void acl_ace_cb(const char *grantee, const char *access, const char *status, void *vctx)
{
	struct acl_list *l = vctx;
	struct buf *out = l->out;
	if (l->cs) {
		buf_append_str(out, "<CS:user><D:href>mailto:");
		dav_xml_escape(out, grantee);
		buf_printf(out, "</D:href>%s<CS:access>%s</CS:access></CS:user>",
			   strcmp(status, "declined") == 0 ? "<CS:invite-declined/>" :
			   "<CS:invite-accepted/>",
			   strcmp(access, "read-write") == 0 ? "<CS:read-write/>" : "<CS:read/>");
		return;
	}
	if (strcmp(status, "declined") == 0)
		return;
	buf_append_str(out, "<D:ace><D:principal><D:href>");
	dav_href_principal(out, grantee);
	buf_append_str(out, "</D:href></D:principal><D:grant><D:privilege><D:read/></D:privilege>");
	if (strcmp(access, "read-write") == 0)
		buf_append_str(out, "<D:privilege><D:write/></D:privilege>");
	buf_append_str(out, "</D:grant></D:ace>");
}

int dav_acl_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		 struct buf *out)
{
	if (strcmp(name, "supported-privilege-set") == 0) {
		buf_append_str(out,
			"<D:supported-privilege-set><D:supported-privilege><D:privilege><D:all/>"
			"</D:privilege><D:abstract/><D:description>everything</D:description>"
			"<D:supported-privilege><D:privilege><D:read/></D:privilege>"
			"<D:description>read</D:description></D:supported-privilege>"
			"<D:supported-privilege><D:privilege><D:write/></D:privilege>"
			"<D:description>write</D:description>"
			"<D:supported-privilege><D:privilege><D:write-content/></D:privilege>"
			"<D:description>write content</D:description></D:supported-privilege>"
			"<D:supported-privilege><D:privilege><D:bind/></D:privilege>"
			"<D:description>add members</D:description></D:supported-privilege>"
			"<D:supported-privilege><D:privilege><D:unbind/></D:privilege>"
			"<D:description>remove members</D:description></D:supported-privilege>"
			"</D:supported-privilege>"
			"<D:supported-privilege><D:privilege><D:read-acl/></D:privilege>"
			"<D:description>read the ACL</D:description></D:supported-privilege>"
			"<D:supported-privilege><D:privilege><D:write-acl/></D:privilege>"
			"<D:description>change the ACL</D:description></D:supported-privilege>"
			"</D:supported-privilege></D:supported-privilege-set>");
		return 200;
	}
	/* DAV:acl: the owner's (protected) entry, then one per share. Only
	 * the owner may read it (read-acl). */
	if (coll->access < STORE_DAV_OWNER)
		return 403;
	buf_append_str(out, "<D:acl><D:ace><D:principal><D:href>");
	dav_href_principal(out, coll->owner);
	buf_append_str(out, "</D:href></D:principal><D:grant><D:privilege><D:all/></D:privilege>"
			    "</D:grant><D:protected/></D:ace>");
	struct acl_list l = { out, false };
	const char *error;
	if (store_dav_shares(ctx->st, coll->id, acl_ace_cb, &l, &error) != STORE_OK)
		return 500;
	buf_append_str(out, "</D:acl>");
	return 200;
}

int dav_acl_cs_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		    struct buf *out)
{
	if (strcmp(name, "allowed-sharing-modes") == 0) {
		if (coll->access < STORE_DAV_OWNER)
			return 404;
		buf_append_str(out, "<CS:allowed-sharing-modes><CS:can-be-shared/>"
				    "</CS:allowed-sharing-modes>");
		return 200;
	}
	if (strcmp(name, "invite") == 0) {
		buf_append_str(out, "<CS:invite><CS:organizer><D:href>mailto:");
		dav_xml_escape(out, coll->owner);
		buf_append_str(out, "</D:href></CS:organizer>");
		struct acl_list l = { out, true };
		const char *error;
		if (store_dav_shares(ctx->st, coll->id, acl_ace_cb, &l, &error) != STORE_OK)
			return 500;
		buf_append_str(out, "</CS:invite>");
		return 200;
	}
	return 404;
}

/* The address a principal href or mailto: URI names, lower-cased. 0, or -1. */
static int grantee_of(const char *href, char *addr, size_t size)
{
	if (str_ncasecmp(href, "mailto:", 7) == 0) {
		snprintf(addr, size, "%s", href + 7);
	} else if (dav_principal_of_href(href, addr, size) < 0) {
		return -1;
	}
	for (char *p = addr; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return strchr(addr, '@') != NULL && strlen(addr) >= 3 ? 0 : -1;
}

/* Check that addr names an account or a group, other than the owner. */
static int check_grantee(struct dav_ctx *ctx, const char *addr)
{
	int kind = 0;
	const char *error;
	if (strcmp(addr, ctx->coll.owner) == 0)
		return -1;
	if (store_dav_principal_kind(ctx->st, addr, &kind, &error) != STORE_OK || kind == 0)
		return -1;
	return 0;
}

struct grant {
	char addr[321];
	bool write;
};

int dav_acl_method(struct dav_ctx *ctx)
{
	if (ctx->type != T_COLL || !ctx->coll_exists) {
		dav_text_response(ctx, ctx->type == T_COLL ? 404 : 403,
				  "ACL applies to collections");
		return 0;
	}
	xmlNode *root = ctx->doc != NULL ? xmlDocGetRootElement(ctx->doc) : NULL;
	if (!dav_xml_is(root, DAV_NS, "acl")) {
		dav_text_response(ctx, 400, "the body must be a DAV:acl");
		return 0;
	}
	struct grant *grants = NULL;
	size_t n = 0;
	const char *fail = NULL;
	for (xmlNode *ace = dav_xml_elem(root->children); ace != NULL && fail == NULL;
	     ace = dav_xml_elem(ace->next)) {
		if (!dav_xml_is(ace, DAV_NS, "ace"))
			continue;
		if (dav_xml_child(ace, DAV_NS, "protected") != NULL ||
		    dav_xml_child(ace, DAV_NS, "inherited") != NULL)
			continue;
		if (dav_xml_child(ace, DAV_NS, "deny") != NULL) {
			fail = "grant-only";
			break;
		}
		xmlNode *principal = dav_xml_child(ace, DAV_NS, "principal");
		xmlNode *href = dav_xml_child(principal, DAV_NS, "href");
		xmlNode *grant = dav_xml_child(ace, DAV_NS, "grant");
		if (href == NULL || grant == NULL) {
			fail = "allowed-principal";
			break;
		}
		struct grant g = { "", false };
		char *h = dav_xml_text(href);
		int bad = grantee_of(h, g.addr, sizeof(g.addr));
		xmlFree(h);
		if (bad < 0) {
			fail = "recognized-principal";
			break;
		}
		if (strcmp(g.addr, ctx->coll.owner) == 0)
			continue;	/* the owner's rights are implicit */
		if (check_grantee(ctx, g.addr) < 0) {
			fail = "recognized-principal";
			break;
		}
		bool any = false;
		for (xmlNode *pr = dav_xml_elem(grant->children); pr != NULL; pr = dav_xml_elem(pr->next)) {
			xmlNode *p = dav_xml_elem(pr->children);
			if (!dav_xml_is(pr, DAV_NS, "privilege") || p == NULL ||
			    strcmp(dav_xml_ns(p), DAV_NS) != 0) {
				fail = "not-supported-privilege";
				break;
			}
			const char *name = (const char *)p->name;
			if (strcmp(name, "read") == 0 ||
			    strcmp(name, "read-current-user-privilege-set") == 0) {
				any = true;
			} else if (strcmp(name, "write") == 0 || strcmp(name, "write-content") == 0 ||
				   strcmp(name, "bind") == 0 || strcmp(name, "unbind") == 0 ||
				   strcmp(name, "all") == 0) {
				any = true;
				g.write = true;
			} else {
				fail = "not-supported-privilege";
				break;
			}
		}
		if (fail == NULL && !any)
			fail = "not-supported-privilege";
		if (fail == NULL) {
			grants = xrealloc(grants, (n + 1) * sizeof(*grants));
			grants[n++] = g;
		}
	}
	if (fail != NULL) {
		free(grants);
		dav_error(ctx, 403, DAV_NS, fail, NULL);
		return 0;
	}
	const char *error;
	int ret = store_dav_shares_clear(ctx->st, ctx->coll.id, &error);
	for (size_t i = 0; i < n && ret == STORE_OK; i++)
		ret = store_dav_share_set(ctx->st, ctx->coll.id, grants[i].addr,
					  grants[i].write ? "read-write" : "read", NULL, &error);
	free(grants);
	if (ret != STORE_OK) {
		dav_text_response(ctx, 500, "internal error");
		return ret;
	}
	log_info("dav user=%s event=acl collection=%s/%s shares=%zu", ctx->req->user,
		 ctx->coll.home, ctx->coll.name, n);
	dav_text_response(ctx, 200, "ACL set");
	return 0;
}

/* CS:share (owner, on the collection). */
static int cs_share(struct dav_ctx *ctx, xmlNode *root)
{
	const char *error;
	for (xmlNode *c = dav_xml_elem(root->children); c != NULL; c = dav_xml_elem(c->next)) {
		bool set = dav_xml_is(c, DAV_NS_CS, "set");
		if (!set && !dav_xml_is(c, DAV_NS_CS, "remove"))
			continue;
		xmlNode *href = dav_xml_child(c, DAV_NS, "href");
		if (href == NULL) {
			dav_text_response(ctx, 400, "CS:set/CS:remove needs a DAV:href");
			return 0;
		}
		char addr[321];
		char *h = dav_xml_text(href);
		int bad = grantee_of(h, addr, sizeof(addr));
		xmlFree(h);
		if (bad < 0 || (set && check_grantee(ctx, addr) < 0)) {
			dav_error(ctx, 403, DAV_NS, "recognized-principal", NULL);
			return 0;
		}
		int ret;
		if (set) {
			bool rw = dav_xml_child(c, DAV_NS_CS, "read-write") != NULL;
			xmlNode *summary = dav_xml_child(c, DAV_NS_CS, "summary");
			char *sum = summary != NULL ? dav_xml_text(summary) : NULL;
			ret = store_dav_share_set(ctx->st, ctx->coll.id, addr, rw ? "read-write" : "read",
						  sum, &error);
			if (sum != NULL)
				xmlFree(sum);
		} else {
			ret = store_dav_share_set(ctx->st, ctx->coll.id, addr, NULL, NULL, &error);
		}
		if (ret != STORE_OK) {
			dav_text_response(ctx, 500, "internal error");
			return ret;
		}
	}
	log_info("dav user=%s event=share collection=%s/%s", ctx->req->user, ctx->coll.home,
		 ctx->coll.name);
	dav_text_response(ctx, 200, "sharing updated");
	return 0;
}

/* CS:invite-reply (sharee, on its home): accept or decline a share. */
static int cs_invite_reply(struct dav_ctx *ctx, xmlNode *root)
{
	xmlNode *host = dav_xml_child(dav_xml_child(root, DAV_NS_CS, "hosturl"), DAV_NS, "href");
	bool accept = dav_xml_child(root, DAV_NS_CS, "invite-accepted") != NULL;
	bool decline = dav_xml_child(root, DAV_NS_CS, "invite-declined") != NULL;
	if (host == NULL || accept == decline) {
		dav_text_response(ctx, 400, "invite-reply needs a hosturl and accepted or declined");
		return 0;
	}
	char *h = dav_xml_text(host);
	struct store_dav_coll coll;
	int st = dav_coll_of_href(ctx, h, &coll);
	xmlFree(h);
	if (st != 0) {
		dav_text_response(ctx, st, "no such shared collection");
		return 0;
	}
	const char *error;
	int ret = store_dav_share_reply(ctx->st, coll.id, ctx->req->user, accept, &error);
	if (ret == STORE_NOTFOUND) {
		dav_text_response(ctx, 403, "that collection is not shared with you");
		return 0;
	}
	if (ret != STORE_OK) {
		dav_text_response(ctx, 500, "internal error");
		return ret;
	}
	dav_text_response(ctx, 200, accept ? "accepted" : "declined");
	return 0;
}

int dav_acl_post(struct dav_ctx *ctx)
{
	xmlNode *root = ctx->doc != NULL ? xmlDocGetRootElement(ctx->doc) : NULL;
	if (ctx->type == T_COLL && ctx->coll_exists && dav_xml_is(root, DAV_NS_CS, "share"))
		return cs_share(ctx, root);
	if (ctx->type == T_HOME && (dav_xml_is(root, DAV_NS_CS, "invite-reply") ||
				    dav_xml_is(root, DAV_NS_CS, "share-reply")))
		return cs_invite_reply(ctx, root);
	dav_text_response(ctx, root == NULL ? 415 : 403, "unsupported POST");
	return 0;
}
