/* Internals shared by the HTTP gateway's files: the session struct and the
 * response writer (http-session.c), and the DAV routing (http-dav.c). */
#ifndef CAIRN_HTTP_PRIVATE_H
#define CAIRN_HTTP_PRIVATE_H

#include "http-session.h"
#include "http_parser.h"
#include "session.h"

struct http_session {
	struct session rt;		/* first: the runtime's part */
	struct conn *conn;		/* = rt.conn */
	struct http_context *hctx;
	struct http_parser *parser;
	uint64_t requests;
	bool continue_sent;
	bool shutting_down;
	/* DAV: credentials accepted on this connection (SHA-256 of the
	 * Authorization value) and the principal they name, so a keep-alive
	 * client is authenticated once per connection. */
	unsigned char auth_digest[32];
	char *auth_user;
};

/* Reason phrase of an HTTP status. */
const char *http_status_text(int status);
/* Queue one complete response. content_type NULL or "": no Content-Type;
 * extra_headers is "" or CRLF-terminated lines. Closes unless keep_alive. */
void http_respond(struct http_session *s, int status, const char *content_type,
		  const char *extra_headers, const char *body, size_t body_len,
		  bool head, bool keep_alive);
void http_respond_text(struct http_session *s, int status, const char *extra_headers,
		       const char *text, bool head, bool keep_alive);

/* Serve req if its path is a DAV one (/dav, /.well-known/caldav|carddav):
 * true when it was taken (answered or a job submitted). */
bool http_dav_route(struct http_session *s, const struct http_request *req, bool head,
		    bool keep_alive);
/* Free the session's DAV state. */
void http_dav_session_free(struct http_session *s);

#endif
