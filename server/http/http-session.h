/* The HTTP gateway: HTTP/1.1 keep-alive sessions on the HTTP and HTTPS
 * listeners. It serves GET /healthz (store status) and GET /metrics
 * (Prometheus); CalDAV/CardDAV will be routed here later. */
#ifndef CAIRN_HTTP_SESSION_H
#define CAIRN_HTTP_SESSION_H

struct config;
struct conn;
struct worker_pool;

struct http_context {
	const struct config *cfg;
	struct worker_pool *pool;
};

/* listener_accept_cb for HTTP listeners; ctx is a struct http_context that
 * outlives every session. */
void http_session_accept(struct conn *c, void *ctx);

#endif
