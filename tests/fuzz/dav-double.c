/* A double of calendar/dav.c for the HTTP session fuzz target: the real
 * routing, Basic parsing and authentication job of server/http/http-dav.c
 * run against it, while the DAV semantics (which need PostgreSQL) are
 * fuzzed through fuzz-dav-xml and the integration tests. It answers like
 * the real core does in shape: a status, headers and a body. */
#include "autoconf.h"
#include "dav.h"

#include <string.h>

const char dav_allow_methods[] = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, REPORT";

void dav_options_header(struct buf *out)
{
	buf_append_str(out, "DAV: 1, 3, calendar-access\r\n");
}

void dav_handle(struct store *st, const struct config *cfg, const struct dav_request *req,
		struct dav_response *resp)
{
	(void)st;
	(void)cfg;
	buf_init(&resp->headers, 0);
	buf_init(&resp->body, 0);
	resp->content_type[0] = '\0';
	if (strcmp(req->method, "PUT") == 0) {
		resp->status = req->body_len > 0 ? 201 : 400;
		buf_append_str(&resp->headers, "ETag: \"0\"\r\n");
	} else if (strcmp(req->method, "DELETE") == 0) {
		resp->status = 204;
	} else if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
		resp->status = 200;
		strcpy(resp->content_type, "text/calendar");
		buf_append_str(&resp->body, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
	} else {
		resp->status = 207;
		strcpy(resp->content_type, "application/xml; charset=utf-8");
		buf_printf(&resp->body, "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>%.200s"
			   "</D:href></D:response></D:multistatus>", req->path);
	}
}

void dav_response_free(struct dav_response *resp)
{
	buf_free(&resp->headers);
	buf_free(&resp->body);
}

void dav_feed(struct store *st, const struct config *cfg, const char *token,
	      struct dav_response *resp)
{
	(void)st;
	(void)cfg;
	buf_init(&resp->headers, 0);
	buf_init(&resp->body, 0);
	resp->status = strlen(token) == 64 ? 200 : 404;
	strcpy(resp->content_type, "text/calendar");
}
