/* Incremental HTTP/1.1 request parser (RFC 9110/9112) with hard limits.
 * Pure: no sockets, no globals. The caller feeds whatever bytes it has; the
 * parser copies what it keeps (head and body) into its own bounded buffers, so
 * the caller's input buffer can be consumed at once. Pipelined bytes after one
 * complete request are left unconsumed for the next round. */
#ifndef CAIRN_HTTP_PARSER_H
#define CAIRN_HTTP_PARSER_H

#include "util.h"

struct http_limits {
	size_t max_head;	/* request line + all header lines, bytes (431 past it) */
	size_t max_target;	/* request-target length (414 past it) */
	size_t max_headers;	/* number of header fields (431 past it) */
	size_t max_body;	/* decoded body size (413 past it) */
};

struct http_header {
	const char *name;	/* NUL-terminated, as sent (compare case-insensitively) */
	const char *value;	/* NUL-terminated, leading/trailing OWS removed */
};

struct http_request {
	const char *method;	/* NUL-terminated token, case-sensitive per RFC 9110 */
	const char *target;	/* the request-target as sent */
	const char *path;	/* target up to '?', not percent-decoded */
	const char *query;	/* after '?', or NULL */
	int version_minor;	/* 0 for HTTP/1.0, 1 for HTTP/1.1 */
	const struct http_header *headers;
	size_t header_count;
	const char *body;	/* decoded (de-chunked) body, NUL-terminated; "" if none */
	size_t body_len;
	bool keep_alive;	/* from the version and the Connection header */
	bool expect_continue;	/* "Expect: 100-continue" was sent */
};

struct http_parser;

/* Create a parser with the given limits (copied). Never returns NULL. */
struct http_parser *http_parser_create(const struct http_limits *limits);
/* Free the parser and set *p to NULL. */
void http_parser_destroy(struct http_parser **p);

/* Feed up to len bytes. *consumed_r says how many were used (the rest belong
 * to the next request). Returns 1 when a complete request is ready (see
 * http_parser_request), 0 when more input is needed, -1 on a malformed or
 * over-limit request (see http_parser_error_status / http_parser_error); after
 * -1 the connection must be closed once the error response is sent. */
int http_parser_feed(struct http_parser *p, const char *data, size_t len, size_t *consumed_r);
/* True once the whole head is parsed but the body is still incomplete; the
 * session uses it to answer "Expect: 100-continue". */
bool http_parser_head_done(const struct http_parser *p);
/* The parsed request, valid after feed returned 1 (or head_done), until the
 * next reset/destroy. */
const struct http_request *http_parser_request(const struct http_parser *p);
/* The first header value named name (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* HTTP status for the last error: 400, 413, 414, 431, 501 or 505. */
int http_parser_error_status(const struct http_parser *p);
/* Human-readable reason for the last error. */
const char *http_parser_error(const struct http_parser *p);
/* Forget the current request, keeping memory, ready for the next one. */
void http_parser_reset(struct http_parser *p);

#endif
