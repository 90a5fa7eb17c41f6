/* DAV on the HTTP gateway: /.well-known redirects (RFC 6764), OPTIONS
 * without credentials, HTTP Basic authentication through the directory
 * (with the same failure counting, delays and lock-out as IMAP and POP3,
 * and only over TLS unless [http] plaintext_auth), then the request runs as
 * one job on a worker: calendar/dav.c does the rest inside one store
 * transaction. The job carries copies of everything it needs. */
#include "autoconf.h"
#include "config.h"
#include "conn.h"
#include "dav.h"
#include "directory.h"
#include "http-private.h"
#include "log.h"
#include "sasl.h"
#include "store-jobs.h"
#include "store.h"
#include "worker.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define DAV_REALM "Cairn"
#define FEED_PREFIX "/feeds/"

struct dav_job {
	struct session_job base;	/* first: the runtime's part */
	const struct config *cfg;
	bool head;
	bool keep_alive;
	bool feed;			/* GET /feeds/<token> */
	/* copies of the request */
	char *method, *path, *depth, *destination, *overwrite, *if_match, *if_none_match,
		*content_type, *prefer, *brief, *accept, *if_schedule_tag_match, *schedule_reply;
	char *body;
	size_t body_len;
	/* authentication: needed when auth_user is NULL */
	char *auth_user;		/* already authenticated on this connection */
	char *login;			/* to check */
	char *password;
	char client_ip[64];
	unsigned char digest[32];
	/* results */
	struct dir_auth auth;
	int auth_status;		/* dir_auth_status; DIR_AUTH_OK when cached */
	char address[321];
	struct dav_response resp;
	bool answered;
	uint64_t started_ms;
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void dav_job_run(struct session_job *job, struct worker *w)
{
	struct dav_job *j = (struct dav_job *)job;
	struct store *st = store_jobs_get(w);
	if (j->feed) {
		/* A read-only feed: the secret token is the credential. */
		j->auth_status = DIR_AUTH_OK;
		snprintf(j->address, sizeof(j->address), "-");
		dav_feed(st, j->cfg, j->path + strlen(FEED_PREFIX), &j->resp);
		j->answered = true;
		store_jobs_note(w);
		return;
	}
	if (j->auth_user == NULL) {
		struct dir_handle *dh = dir_worker_handle(w, st);
		const char *error = NULL;
		if (dir_authenticate(dh, j->login, j->password, j->client_ip, &j->auth, &error) < 0)
			j->auth.status = DIR_AUTH_TEMPFAIL;
		OPENSSL_cleanse(j->password, strlen(j->password));
		j->auth_status = j->auth.status;
		if (j->auth.status == DIR_AUTH_OK &&
		    dir_provision(dh, j->auth.address, &error) == DIR_TEMPFAIL)
			j->auth_status = DIR_AUTH_TEMPFAIL;
		if (j->auth_status != DIR_AUTH_OK) {
			store_jobs_note(w);
			return;
		}
		snprintf(j->address, sizeof(j->address), "%s", j->auth.address);
	} else {
		j->auth_status = DIR_AUTH_OK;
		snprintf(j->address, sizeof(j->address), "%s", j->auth_user);
	}
	struct dav_request req = {
		.method = j->method, .path = j->path, .user = j->address, .depth = j->depth,
		.destination = j->destination, .overwrite = j->overwrite, .if_match = j->if_match,
		.if_none_match = j->if_none_match, .content_type = j->content_type,
		.prefer = j->prefer, .brief = j->brief, .accept = j->accept,
		.if_schedule_tag_match = j->if_schedule_tag_match, .schedule_reply = j->schedule_reply,
		.body = j->body != NULL ? j->body : "", .body_len = j->body_len, .head = j->head,
	};
	dav_handle(st, j->cfg, &req, &j->resp);
	j->answered = true;
	store_jobs_note(w);
}

static void dav_job_free(struct session_job *job, bool orphaned)
{
	(void)orphaned;
	struct dav_job *j = (struct dav_job *)job;
	free(j->method);
	free(j->path);
	free(j->depth);
	free(j->destination);
	free(j->overwrite);
	free(j->if_match);
	free(j->if_none_match);
	free(j->content_type);
	free(j->prefer);
	free(j->if_schedule_tag_match);
	free(j->schedule_reply);
	free(j->brief);
	free(j->accept);
	free(j->body);
	free(j->auth_user);
	free(j->login);
	if (j->password != NULL) {
		OPENSSL_cleanse(j->password, strlen(j->password));
		free(j->password);
	}
	if (j->answered)
		dav_response_free(&j->resp);
	free(j);
}

static void unauthorized(struct http_session *s, bool head, bool keep, const char *text)
{
	http_respond_text(s, 401, "WWW-Authenticate: Basic realm=\"" DAV_REALM "\", charset=\"UTF-8\"\r\n",
			  text, head, keep);
}

static void dav_job_done(struct session *rt, struct session_job *job)
{
	struct http_session *s = (struct http_session *)rt;
	struct dav_job *j = (struct dav_job *)job;
	bool keep = j->keep_alive && !s->shutting_down;
	const char *id = conn_id(s->conn);
	switch (j->auth_status) {
	case DIR_AUTH_OK:
		break;
	case DIR_AUTH_FAIL: {
		log_info("http session=%s peer=%s user=%s event=auth-failed failures=%u", id,
			 conn_peer_addr(s->conn), j->login, j->auth.failures);
		if (j->auth.delay_ms > 0) {
			/* Hold the answer, as IMAP and POP3 do: slows down guessing. */
			static const char failed[] =
				"HTTP/1.1 401 Unauthorized\r\n"
				"WWW-Authenticate: Basic realm=\"" DAV_REALM "\", charset=\"UTF-8\"\r\n"
				"Content-Type: text/plain; charset=utf-8\r\n"
				"Content-Length: 22\r\n\r\n"
				"authentication failed\n";
			session_reply_later(&s->rt, failed, sizeof(failed) - 1, j->auth.delay_ms);
			http_parser_reset(s->parser);
			return;
		}
		unauthorized(s, j->head, keep, "authentication failed\n");
		if (keep)
			http_parser_reset(s->parser);
		return;
	}
	case DIR_AUTH_LOCKED: {
		log_info("http session=%s peer=%s user=%s event=auth-locked retry_after_ms=%llu", id,
			 conn_peer_addr(s->conn), j->login,
			 (unsigned long long)j->auth.retry_after_ms);
		char hdr[64];
		snprintf(hdr, sizeof(hdr), "Retry-After: %llu\r\n",
			 (unsigned long long)(j->auth.retry_after_ms / 1000 + 1));
		http_respond_text(s, 429, hdr, "too many failed logins; try again later\n", j->head,
				  false);
		return;
	}
	default:
		log_warn("http session=%s user=%s event=auth-tempfail", id,
			 j->login != NULL ? j->login : "");
		http_respond_text(s, 503, "Retry-After: 5\r\n",
				  "authentication is temporarily unavailable\n", j->head, false);
		return;
	}
	if (j->auth_user == NULL && !j->feed) {
		/* Remember these credentials for the rest of the connection. */
		memcpy(s->auth_digest, j->digest, sizeof(s->auth_digest));
		free(s->auth_user);
		s->auth_user = xstrdup(j->address);
		log_info("http session=%s peer=%s user=%s event=login", id, conn_peer_addr(s->conn),
			 j->address);
	}
	struct dav_response *r = &j->resp;
	log_debug("http session=%s user=%s method=%s path=%s status=%d", id, j->address, j->method,
		  j->path, r->status);
	http_respond(s, r->status, r->content_type, r->headers.data != NULL ? r->headers.data : "",
		     r->body.data != NULL ? r->body.data : "", r->body.len, j->head, keep);
	if (keep)
		http_parser_reset(s->parser);
}

static bool path_is(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void digest(const char *value, unsigned char out[32])
{
	unsigned int len = 32;
	if (EVP_Digest(value, strlen(value), out, &len, EVP_sha256(), NULL) != 1)
		fatal("http: SHA-256 failed");
}

bool http_dav_route(struct http_session *s, const struct http_request *req, bool head,
		    bool keep)
{
	const struct config *cfg = s->hctx->cfg;
	if (strcmp(req->path, "/.well-known/caldav") == 0 ||
	    strcmp(req->path, "/.well-known/carddav") == 0) {
		/* RFC 6764 5: the context path; clients then ask it for
		 * current-user-principal. */
		http_respond_text(s, 301, "Location: /dav/\r\n", "moved to /dav/\n", head, keep);
		return true;
	}
	if (strncmp(req->path, FEED_PREFIX, strlen(FEED_PREFIX)) == 0) {
		if (strcmp(req->method, "GET") != 0 && !head) {
			http_respond_text(s, 405, "Allow: GET, HEAD\r\n", "method not allowed\n",
					  false, keep);
			return true;
		}
		struct dav_job *j = xcalloc(1, sizeof(*j));
		session_job_init(&j->base, dav_job_run, dav_job_done, dav_job_free);
		j->cfg = cfg;
		j->head = head;
		j->keep_alive = keep;
		j->feed = true;
		j->method = xstrdup(head ? "HEAD" : "GET");
		j->path = xstrdup(req->path);
		session_submit(&s->rt, &j->base);
		return true;
	}
	if (!path_is(req->path, "/dav"))
		return false;
	if (strcmp(req->method, "OPTIONS") == 0) {
		struct buf h;
		buf_init(&h, 0);
		buf_printf(&h, "Allow: %s\r\n", dav_allow_methods);
		dav_options_header(&h);
		http_respond(s, 200, NULL, h.data, "", 0, false, keep);
		buf_free(&h);
		return true;
	}
	bool secure = cfg->http.plaintext_auth ||
		      conn_is_secure(s->conn, cfg->server.loopback_is_secure);
	if (!secure) {
		/* No 401 here: it would invite a password over plain text. */
		http_respond_text(s, 403, "",
				  "CalDAV/CardDAV credentials are accepted over HTTPS only\n", head,
				  keep);
		return true;
	}
	const char *authz = http_request_header(req, "Authorization");
	struct dav_job *j = xcalloc(1, sizeof(*j));
	if (authz != NULL && s->auth_user != NULL) {
		unsigned char d[32];
		digest(authz, d);
		if (CRYPTO_memcmp(d, s->auth_digest, sizeof(d)) == 0)
			j->auth_user = xstrdup(s->auth_user);
	}
	if (j->auth_user == NULL) {
		if (authz == NULL || str_ncasecmp(authz, "Basic ", 6) != 0) {
			free(j);
			unauthorized(s, head, keep, "authentication required\n");
			return true;
		}
		const char *b64 = authz + 6;
		while (*b64 == ' ')
			b64++;
		struct buf plain;
		buf_init(&plain, 1024);
		int ok = base64_decode_strict(b64, strlen(b64), &plain);
		char *colon = ok == 0 && plain.data != NULL ? memchr(plain.data, ':', plain.len) : NULL;
		if (colon == NULL || memchr(plain.data, '\0', plain.len) != NULL || colon == plain.data) {
			if (plain.data != NULL)
				OPENSSL_cleanse(plain.data, plain.len);
			buf_free(&plain);
			free(j);
			unauthorized(s, head, keep, "malformed Basic credentials\n");
			return true;
		}
		j->login = xstrndup(plain.data, (size_t)(colon - plain.data));
		j->password = xstrndup(colon + 1, plain.len - (size_t)(colon - plain.data) - 1);
		OPENSSL_cleanse(plain.data, plain.len);
		buf_free(&plain);
		digest(authz, j->digest);
		snprintf(j->client_ip, sizeof(j->client_ip), "%s", conn_peer_addr(s->conn));
	}
	session_job_init(&j->base, dav_job_run, dav_job_done, dav_job_free);
	j->cfg = cfg;
	j->head = head;
	j->keep_alive = keep;
	j->method = xstrdup(head ? "HEAD" : req->method);
	j->path = xstrdup(req->path);
	j->depth = dup_or_null(http_request_header(req, "Depth"));
	j->destination = dup_or_null(http_request_header(req, "Destination"));
	j->overwrite = dup_or_null(http_request_header(req, "Overwrite"));
	j->if_match = dup_or_null(http_request_header(req, "If-Match"));
	j->if_none_match = dup_or_null(http_request_header(req, "If-None-Match"));
	j->content_type = dup_or_null(http_request_header(req, "Content-Type"));
	j->prefer = dup_or_null(http_request_header(req, "Prefer"));
	j->if_schedule_tag_match = dup_or_null(http_request_header(req, "If-Schedule-Tag-Match"));
	j->schedule_reply = dup_or_null(http_request_header(req, "Schedule-Reply"));
	j->brief = dup_or_null(http_request_header(req, "Brief"));
	j->accept = dup_or_null(http_request_header(req, "Accept"));
	if (req->body_len > 0) {
		j->body = xmalloc(req->body_len + 1);
		memcpy(j->body, req->body, req->body_len);
		j->body[req->body_len] = '\0';
		j->body_len = req->body_len;
	}
	session_submit(&s->rt, &j->base);
	return true;
}

void http_dav_session_free(struct http_session *s)
{
	free(s->auth_user);
	s->auth_user = NULL;
}
