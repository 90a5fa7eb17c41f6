/* One HTTP/1.1 connection: feed the parser, route the request, answer, and
 * keep the connection for the next request (bounded by [http] max_requests
 * and idle_timeout). Requests that need the store run as a job; the session
 * is paused meanwhile, so pipelined requests are answered in order. */
#include "autoconf.h"
#include "http-session.h"
#include "http-private.h"
#include "config.h"
#include "conn.h"
#include "http_parser.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "store-jobs.h"
#include "store.h"
#include "worker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>


struct health_job {
	struct session_job base;	/* first: the runtime's part */
	bool head;
	bool keep_alive;
	int result;
	char error[256];
};

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 207: return "Multi-Status";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 424: return "Failed Dependency";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Error";
	}
}

void http_respond(struct http_session *s, int status, const char *content_type,
		  const char *extra_headers, const char *body, size_t body_len,
		  bool head, bool keep_alive)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);

	struct buf out;
	buf_init(&out, 0);
	buf_printf(&out, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: Cairn/" PACKAGE_VERSION "\r\n",
		   status, http_status_text(status), date);
	/* RFC 9110 8.6: no Content-Length in a 204 or a 304. */
	if (content_type != NULL && content_type[0] != '\0')
		buf_printf(&out, "Content-Type: %s\r\n", content_type);
	if (status != 204 && status != 304)
		buf_printf(&out, "Content-Length: %zu\r\n", body_len);
	buf_printf(&out,
		   "Cache-Control: no-store\r\n"
		   "X-Content-Type-Options: nosniff\r\n"
		   "%s"
		   "Connection: %s\r\n\r\n",
		   extra_headers, keep_alive ? "keep-alive" : "close");
	if (!head && status != 204 && status != 304)
		buf_append(&out, body, body_len);
	conn_write(s->conn, out.data, out.len);
	buf_free(&out);
	metrics_inc(&metrics.http_requests);
	if (!keep_alive)
		session_close(&s->rt);
}

void http_respond_text(struct http_session *s, int status, const char *extra_headers,
		       const char *text, bool head, bool keep_alive)
{
	http_respond(s, status, "text/plain; charset=utf-8", extra_headers, text, strlen(text),
		     head, keep_alive);
}

/* Append s as the inside of a JSON string. */
static void json_escape(struct buf *out, const char *str)
{
	for (const unsigned char *p = (const unsigned char *)str; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(out, "\\%c", *p);
		else if (*p < 0x20)
			buf_printf(out, "\\u%04x", *p);
		else
			buf_append(out, p, 1);
	}
}

static void health_run(struct session_job *job, struct worker *worker)
{
	struct health_job *hj = (struct health_job *)job;
	const char *error = NULL;
	struct store *st = store_jobs_get(worker);
	hj->result = store_ping(st, &error);
	store_jobs_note(worker);
	if (hj->result != STORE_OK) {
		metrics_inc(&metrics.store_errors);
		snprintf(hj->error, sizeof(hj->error), "%s", error != NULL ? error : "unavailable");
	}
}


static void health_free(struct session_job *job, bool orphaned)
{
	(void)orphaned;
	free(job);
}

static void health_done(struct session *rt, struct session_job *job)
{
	struct health_job *hj = (struct health_job *)job;
	struct http_session *s = (struct http_session *)rt;
	{
		struct buf body;
		buf_init(&body, 0);
		int status = 200;
		if (hj->result == STORE_OK) {
			buf_printf(&body, "{\"status\":\"ok\",\"store\":\"ok\"}\n");
		} else {
			status = 503;
			buf_printf(&body, "{\"status\":\"unavailable\",\"store\":\"");
			json_escape(&body, hj->error);
			buf_printf(&body, "\"}\n");
		}
		bool keep = hj->keep_alive && !s->shutting_down;
		http_respond(s, status, "application/json", "", body.data, body.len, hj->head, keep);
		buf_free(&body);
		if (keep)
			http_parser_reset(s->parser);
	}
}

static void http_handle(struct http_session *s, const struct http_request *req)
{
	const struct config *cfg = s->hctx->cfg;
	bool head = strcmp(req->method, "HEAD") == 0;
	bool get = head || strcmp(req->method, "GET") == 0;
	bool keep = req->keep_alive && !s->shutting_down && ++s->requests < cfg->http.max_requests;

	log_debug("http session=%s peer=%s method=%s path=%s", conn_id(s->conn),
		  conn_peer_addr(s->conn), req->method, req->path);

	if (strcmp(req->path, "/healthz") == 0) {
		if (!get) {
			http_respond_text(s, 405, "Allow: GET, HEAD\r\n", "method not allowed\n",
					  false, keep);
			return;
		}
		struct health_job *hj = xcalloc(1, sizeof(*hj));
		session_job_init(&hj->base, health_run, health_done, health_free);
		hj->head = head;
		hj->keep_alive = keep;
		session_submit(&s->rt, &hj->base);
		return;
	}
	if (http_dav_route(s, req, head, keep))
		return;
	if (strcmp(req->path, "/metrics") == 0) {
		if (!get) {
			http_respond_text(s, 405, "Allow: GET, HEAD\r\n", "method not allowed\n",
					  false, keep);
			return;
		}
		struct buf body;
		buf_init(&body, 0);
		metrics_write(&body);
		http_respond(s, 200, "text/plain; version=0.0.4; charset=utf-8", "", body.data,
			     body.len, head, keep);
		buf_free(&body);
		return;
	}
	http_respond_text(s, 404, "", "not found\n", head, keep);
}

/* Parse and answer requests from the input until one needs a job or the
 * input runs out. */
static void http_session_input(struct session *rt)
{
	struct http_session *s = (struct http_session *)rt;
	struct conn *c = s->conn;
	struct buf *in = conn_input(c);

	while (in->len > 0 && !session_busy(&s->rt)) {
		size_t consumed = 0;
		int ret = http_parser_feed(s->parser, in->data, in->len, &consumed);
		buf_consume(in, consumed);
		if (ret < 0) {
			int status = http_parser_error_status(s->parser);
			log_info("http session=%s peer=%s status=%d error=\"%s\"", conn_id(c),
				 conn_peer_addr(c), status, http_parser_error(s->parser));
			char text[300];
			snprintf(text, sizeof(text), "%s\n", http_parser_error(s->parser));
			conn_set_partial(c, false);
			session_body_deadline(&s->rt, false);
			http_respond_text(s, status, "", text, false, false);
			return;
		}
		if (ret == 0) {
			/* A request under way: its head must come within the line
			 * bound, its body within the body bound. */
			bool head_done = http_parser_head_done(s->parser);
			conn_set_partial(c, !head_done);
			session_body_deadline(&s->rt, head_done);
			if (head_done && !s->continue_sent &&
			    http_parser_request(s->parser)->expect_continue) {
				s->continue_sent = true;
				conn_printf(c, "HTTP/1.1 100 Continue\r\n\r\n");
			}
			if (consumed == 0)
				return;
			continue;
		}
		conn_set_partial(c, false);
		session_body_deadline(&s->rt, false);
		s->continue_sent = false;
		http_handle(s, http_parser_request(s->parser));
		if (s->rt.job == NULL)
			http_parser_reset(s->parser);
	}
}

static void http_session_timeout(struct session *rt, enum conn_timeout why)
{
	struct http_session *s = (struct http_session *)rt;
	if (why == CONN_TIMEOUT_IDLE) {
		session_close(&s->rt);	/* between requests: nothing to say */
		return;
	}
	http_respond_text(s, 408, "", "request timeout\n", false, false);
}

static void http_session_shutdown(struct session *rt)
{
	struct http_session *s = (struct http_session *)rt;
	s->shutting_down = true;
	session_close(&s->rt);
}

static void http_session_free(struct session *rt)
{
	struct http_session *s = (struct http_session *)rt;
	http_dav_session_free(s);
	http_parser_destroy(&s->parser);
	free(s);
}

static const struct session_ops http_ops = {
	.input = http_session_input,
	.timeout = http_session_timeout,
	.shutdown = http_session_shutdown,
	.free = http_session_free,
};

void http_session_accept(struct conn *c, void *ctx)
{
	struct http_context *hctx = ctx;
	const struct config *cfg = hctx->cfg;
	struct http_session *s = xcalloc(1, sizeof(*s));
	session_init(&s->rt, c, hctx->pool, &http_ops, "http");
	s->conn = c;
	s->hctx = hctx;
	struct http_limits limits = {
		.max_head = cfg->http.max_head,
		.max_target = cfg->http.max_head / 2,
		.max_headers = 100,
		.max_body = cfg->http.max_body,
	};
	s->parser = http_parser_create(&limits);
	conn_set_idle_timeout(c, cfg->http.idle_timeout_ms);
	conn_start(c);
}
