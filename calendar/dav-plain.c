/* The plain WebDAV kind: a "files" home of ordinary collections holding
 * resources of any media type, stored as sent (no index). It is what a
 * generic WebDAV client or a compliance suite works in. */
#include "autoconf.h"
#include "dav.h"

#include <stdio.h>
#include <string.h>

static int plain_validate(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			  const char *name, const char *data, size_t len,
			  const char *content_type, struct dav_put *put)
{
	(void)ctx;
	(void)coll;
	(void)name;
	(void)data;
	(void)len;
	if (content_type != NULL && strlen(content_type) >= 128) {
		snprintf(put->err_text, sizeof(put->err_text), "Content-Type too long");
		return 400;
	}
	return 0;
}

const struct dav_kind dav_plain_kind = {
	.name = "plain",
	.home = "files",
	.ns = DAV_NS,
	.type = NULL,
	.home_set = NULL,
	.mkcol_method = NULL,
	.dav_class = NULL,
	.content_type = "application/octet-stream",
	.reports = NULL,
	.props = NULL,
	.validate = plain_validate,
	.nested = true,
};
