/* The remote SMTP client: a non-blocking socket driven by poll() with one
 * deadline per step (RFC 5321 4.5.3.2), optionally wrapped in OpenSSL after
 * STARTTLS. Replies are read line by line with a hard line limit; a server
 * that sends junk gets the connection closed, never a crash or a hang. */
#include "autoconf.h"
#include "smtp-client.h"
#include "route.h"
#include "sasl.h"
#include "smtp_parser.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Longest reply line we accept (RFC 5321 4.5.3.1.5 says 512 with CRLF). */
#define REPLY_LINE_MAX 4096
/* Lines of one multi-line reply at most (EHLO lists are short). */
#define REPLY_LINES_MAX 100
/* Poll slice, so a shutdown is noticed during long waits. */
#define POLL_SLICE_MS 200

struct smtp_client {
	int fd;
	SSL *ssl;
	const struct smtp_client_params *p;
	unsigned ext;
	uint64_t size_limit;
	bool broken;		/* no more commands on this connection */
	bool ignore_abort;	/* waiting for the reply to the final dot */
	int tls;		/* enum route_tls in force (may drop to none) */
	bool tls_failed;	/* the handshake failed (tls=may falls back) */
	char in[REPLY_LINE_MAX + 2];
	size_t in_len;
	struct buf out;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_reply(struct smtp_reply *r, int code, const char *status, const char *fmt, ...)
	ATTR_PRINTF(4, 5);
static void set_reply(struct smtp_reply *r, int code, const char *status, const char *fmt, ...)
{
	va_list ap;
	r->code = code;
	snprintf(r->status, sizeof(r->status), "%s", status != NULL ? status : "");
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/* Wait until fd is ready for events or the deadline passes. 1 ready, 0
 * timeout, -1 aborted. */
static int wait_fd(struct smtp_client *c, short events, uint64_t deadline)
{
	for (;;) {
		if (!c->ignore_abort && c->p->abort != NULL && atomic_load(c->p->abort))
			return -1;
		if (c->p->abort_hard != NULL && atomic_load(c->p->abort_hard))
			return -1;
		uint64_t now = now_ms();
		if (now >= deadline)
			return 0;
		uint64_t left = deadline - now;
		struct pollfd pfd = { .fd = c->fd, .events = events };
		int r = poll(&pfd, 1, (int)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS));
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;	/* let the read/write report the error */
	}
}

/* Read some bytes. >0 count, 0 EOF, -1 error/timeout (why in reply). */
static ssize_t io_read(struct smtp_client *c, char *buf, size_t len, uint64_t deadline,
		       struct smtp_reply *reply)
{
	for (;;) {
		short ev = POLLIN;
		if (c->ssl != NULL) {
			ERR_clear_error();
			int n = SSL_read(c->ssl, buf, (int)len);
			if (n > 0)
				return n;
			int e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_WANT_WRITE)
				ev = POLLOUT;
			else if (e != SSL_ERROR_WANT_READ) {
				if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
					return 0;
				set_reply(reply, 0, "4.4.2", "TLS read error");
				return -1;
			}
		} else {
			ssize_t n = read(c->fd, buf, len);
			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				set_reply(reply, 0, "4.4.2", "read error: %s", strerror(errno));
				return -1;
			}
		}
		int w = wait_fd(c, ev, deadline);
		if (w == 0) {
			set_reply(reply, 0, "4.4.2", "timeout waiting for the server");
			return -1;
		}
		if (w < 0) {
			set_reply(reply, 0, "4.3.2", "shutting down");
			return -1;
		}
	}
}

/* Write all of data before deadline. 0 or -1 (why in reply). */
static int io_write(struct smtp_client *c, const char *data, size_t len, uint64_t deadline,
		    struct smtp_reply *reply)
{
	size_t done = 0;
	while (done < len) {
		short ev = POLLOUT;
		if (c->ssl != NULL) {
			ERR_clear_error();
			int n = SSL_write(c->ssl, data + done, (int)(len - done > INT32_MAX ? INT32_MAX : len - done));
			if (n > 0) {
				done += (size_t)n;
				continue;
			}
			int e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				ev = POLLIN;
			else if (e != SSL_ERROR_WANT_WRITE) {
				set_reply(reply, 0, "4.4.2", "TLS write error");
				return -1;
			}
		} else {
			ssize_t n = send(c->fd, data + done, len - done, MSG_NOSIGNAL);
			if (n > 0) {
				done += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				set_reply(reply, 0, "4.4.2", "write error: %s", strerror(errno));
				return -1;
			}
		}
		int w = wait_fd(c, ev, deadline);
		if (w == 0) {
			set_reply(reply, 0, "4.4.2", "timeout sending to the server");
			return -1;
		}
		if (w < 0) {
			set_reply(reply, 0, "4.3.2", "shutting down");
			return -1;
		}
	}
	return 0;
}

/* One line without CRLF into line (NUL-terminated). 0 or -1. */
static int read_line(struct smtp_client *c, char *line, size_t cap, uint64_t deadline,
		     struct smtp_reply *reply)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->in_len);
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->in);
			size_t keep = n;
			if (keep > 0 && c->in[keep - 1] == '\r')
				keep--;
			if (keep >= cap)
				keep = cap - 1;
			memcpy(line, c->in, keep);
			line[keep] = '\0';
			memmove(c->in, nl + 1, c->in_len - n - 1);
			c->in_len -= n + 1;
			return 0;
		}
		if (c->in_len >= REPLY_LINE_MAX) {
			set_reply(reply, 0, "4.4.2", "reply line too long");
			return -1;
		}
		ssize_t n = io_read(c, c->in + c->in_len, REPLY_LINE_MAX - c->in_len, deadline, reply);
		if (n == 0) {
			set_reply(reply, 0, "4.4.2", "connection closed by the server");
			return -1;
		}
		if (n < 0)
			return -1;
		c->in_len += (size_t)n;
	}
}

/* Read a whole (multi-line) reply. With ehlo, collect the keywords. 0 or -1
 * (connection unusable; reply says why). */
static int read_reply(struct smtp_client *c, uint64_t timeout_ms, struct smtp_reply *reply,
		      bool ehlo)
{
	uint64_t deadline = now_ms() + timeout_ms;
	char line[REPLY_LINE_MAX + 1];
	size_t tlen = 0;
	reply->text[0] = '\0';
	reply->status[0] = '\0';
	if (ehlo) {
		c->ext = 0;
		c->size_limit = 0;
	}
	for (int n = 0;; n++) {
		if (read_line(c, line, sizeof(line), deadline, reply) < 0) {
			c->broken = true;
			return -1;
		}
		if (n >= REPLY_LINES_MAX || strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			set_reply(reply, 0, "4.5.0", "malformed reply from the server: %.80s", line);
			c->broken = true;
			return -1;
		}
		int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (n > 0 && code != reply->code) {
			set_reply(reply, 0, "4.5.0", "reply codes differ within one reply");
			c->broken = true;
			return -1;
		}
		reply->code = code;
		const char *text = line[3] != '\0' ? line + 4 : "";
		if (n == 0 || tlen == 0) {
			/* RFC 3463 status at the start of the text. */
			unsigned a, b, d;
			int used = 0;
			if (sscanf(text, "%1u.%3u.%3u%n", &a, &b, &d, &used) == 3 &&
			    (unsigned)(line[0] - '0') == a && (text[used] == ' ' || text[used] == '\0'))
				snprintf(reply->status, sizeof(reply->status), "%u.%u.%u", a, b, d);
		}
		if (ehlo && n > 0) {
			char kw[32];
			size_t k = 0;
			while (text[k] != '\0' && text[k] != ' ' && text[k] != '=' && k + 1 < sizeof(kw)) {
				kw[k] = text[k];
				k++;
			}
			kw[k] = '\0';
			const char *arg = text + k;
			while (*arg == ' ' || *arg == '=')
				arg++;
			if (str_casecmp(kw, "PIPELINING") == 0)
				c->ext |= SMTPC_EXT_PIPELINING;
			else if (str_casecmp(kw, "SIZE") == 0) {
				c->ext |= SMTPC_EXT_SIZE;
				c->size_limit = strtoull(arg, NULL, 10);
			} else if (str_casecmp(kw, "8BITMIME") == 0)
				c->ext |= SMTPC_EXT_8BITMIME;
			else if (str_casecmp(kw, "SMTPUTF8") == 0)
				c->ext |= SMTPC_EXT_SMTPUTF8;
			else if (str_casecmp(kw, "DSN") == 0)
				c->ext |= SMTPC_EXT_DSN;
			else if (str_casecmp(kw, "STARTTLS") == 0)
				c->ext |= SMTPC_EXT_STARTTLS;
			else if (str_casecmp(kw, "ENHANCEDSTATUSCODES") == 0)
				c->ext |= SMTPC_EXT_ENHANCED;
			else if (str_casecmp(kw, "AUTH") == 0) {
				char mechs[256];
				snprintf(mechs, sizeof(mechs), " %.250s ", arg);
				for (char *p = mechs; *p != '\0'; p++)
					if (*p >= 'a' && *p <= 'z')
						*p = (char)(*p - 'a' + 'A');
				if (strstr(mechs, " PLAIN ") != NULL)
					c->ext |= SMTPC_EXT_AUTH_PLAIN;
				if (strstr(mechs, " LOGIN ") != NULL)
					c->ext |= SMTPC_EXT_AUTH_LOGIN;
			}
		}
		/* Keep the text for diagnostics (DSN Diagnostic-Code, logs). */
		int w = snprintf(reply->text + tlen, sizeof(reply->text) - tlen, "%s%s",
				 tlen > 0 ? " " : "", n == 0 ? line : text);
		if (w > 0)
			tlen += (size_t)w < sizeof(reply->text) - tlen ? (size_t)w : sizeof(reply->text) - tlen - 1;
		if (line[3] != '-')
			break;
	}
	/* Control characters would end up in logs and DSN headers. */
	for (char *p = reply->text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (reply->code == 421)
		c->broken = true;
	return 0;
}

static int command(struct smtp_client *c, const char *line, uint64_t timeout_ms,
		   struct smtp_reply *reply, bool ehlo)
{
	if (io_write(c, line, strlen(line), now_ms() + c->p->command_timeout_ms, reply) < 0) {
		c->broken = true;
		return -1;
	}
	return read_reply(c, timeout_ms, reply, ehlo);
}

static int ehlo(struct smtp_client *c, struct smtp_reply *reply)
{
	char line[300];
	snprintf(line, sizeof(line), "EHLO %s\r\n", c->p->helo);
	if (command(c, line, c->p->command_timeout_ms, reply, true) < 0)
		return -1;
	if (reply->code / 100 == 2)
		return 0;
	if (reply->code != 500 && reply->code != 502 && reply->code != 550)
		return -1;
	/* An SMTP-only server (RFC 5321 3.2). */
	snprintf(line, sizeof(line), "HELO %s\r\n", c->p->helo);
	if (command(c, line, c->p->command_timeout_ms, reply, false) < 0)
		return -1;
	c->ext = 0;
	return reply->code / 100 == 2 ? 0 : -1;
}

static int tls_handshake(struct smtp_client *c, struct smtp_reply *reply)
{
	c->ssl = SSL_new(c->p->ssl_ctx);
	if (c->ssl == NULL) {
		set_reply(reply, 0, "4.7.0", "TLS: SSL_new failed");
		return -1;
	}
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_connect_state(c->ssl);
	const char *name = c->p->server_name;
	bool is_name = name != NULL && name[0] != '\0' && strspn(name, "0123456789.:") != strlen(name);
	if (is_name)
		SSL_set_tlsext_host_name(c->ssl, name);
	if (c->tls == ROUTE_TLS_VERIFY) {
		SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
		if (is_name) {
			SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			SSL_set1_host(c->ssl, name);
		} else if (name != NULL) {
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name);
		}
	}
	uint64_t deadline = now_ms() + c->p->command_timeout_ms;
	for (;;) {
		ERR_clear_error();
		int r = SSL_do_handshake(c->ssl);
		if (r == 1)
			break;
		int e = SSL_get_error(c->ssl, r);
		short ev;
		if (e == SSL_ERROR_WANT_READ)
			ev = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			ev = POLLOUT;
		else {
			c->tls_failed = true;
			long v = SSL_get_verify_result(c->ssl);
			if (v != X509_V_OK)
				set_reply(reply, 0, "4.7.5", "TLS: certificate verification failed: %s",
					  X509_verify_cert_error_string(v));
			else
				set_reply(reply, 0, "4.7.0", "TLS handshake failed: %s",
					  ERR_reason_error_string(ERR_peek_last_error()) != NULL
						  ? ERR_reason_error_string(ERR_peek_last_error())
						  : "connection closed");
			c->broken = true;
			return -1;
		}
		int w = wait_fd(c, ev, deadline);
		if (w <= 0) {
			set_reply(reply, 0, "4.7.0", w == 0 ? "TLS handshake timed out" : "shutting down");
			c->broken = true;
			return -1;
		}
	}
	return 0;
}

static int auth(struct smtp_client *c, struct smtp_reply *reply)
{
	struct buf cred, line;
	buf_init(&cred, 0);
	buf_init(&line, 0);
	int ret = -1;
	const char *user = c->p->auth_user, *pass = c->p->auth_password != NULL ? c->p->auth_password : "";
	if (c->ext & SMTPC_EXT_AUTH_PLAIN) {
		buf_append(&cred, "", 1);
		buf_append_str(&cred, user);
		buf_append(&cred, "", 1);
		buf_append_str(&cred, pass);
		buf_append_str(&line, "AUTH PLAIN ");
		base64_encode(cred.data, cred.len, &line);
		buf_append_str(&line, "\r\n");
		ret = command(c, line.data, c->p->command_timeout_ms, reply, false);
	} else if (c->ext & SMTPC_EXT_AUTH_LOGIN) {
		ret = command(c, "AUTH LOGIN\r\n", c->p->command_timeout_ms, reply, false);
		for (int step = 0; step < 2 && ret == 0 && reply->code == 334; step++) {
			buf_reset(&line);
			base64_encode(step == 0 ? user : pass, strlen(step == 0 ? user : pass), &line);
			buf_append_str(&line, "\r\n");
			ret = command(c, line.data, c->p->command_timeout_ms, reply, false);
		}
	} else {
		set_reply(reply, 0, "4.7.0", "the server offers neither AUTH PLAIN nor AUTH LOGIN");
	}
	if (ret == 0 && reply->code != 235) {
		char text[sizeof(reply->text)];
		snprintf(text, sizeof(text), "%s", reply->text);
		/* A refused login is our configuration's fault: retry, never bounce. */
		set_reply(reply, reply->code / 100 == 5 ? 454 : reply->code, "4.7.0",
			  "authentication failed: %s", text);
		ret = -1;
	}
	if (cred.data != NULL)
		memset(cred.data, 0, cred.len);
	if (line.data != NULL)
		memset(line.data, 0, line.len);
	buf_free(&cred);
	buf_free(&line);
	return ret;
}

static int do_connect(struct smtp_client *c, const struct sockaddr *sa, socklen_t salen,
		      struct smtp_reply *reply)
{
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		set_reply(reply, 0, "4.4.1", "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, sa, salen) < 0 && errno != EINPROGRESS) {
		set_reply(reply, 0, "4.4.1", "connect: %s", strerror(errno));
		return -1;
	}
	int w = wait_fd(c, POLLOUT, now_ms() + c->p->connect_timeout_ms);
	if (w <= 0) {
		set_reply(reply, 0, w == 0 ? "4.4.1" : "4.3.2",
			  w == 0 ? "connection timed out" : "shutting down");
		return -1;
	}
	int err = 0;
	socklen_t elen = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
		set_reply(reply, 0, "4.4.1", "connect: %s", strerror(err != 0 ? err : errno));
		return -1;
	}
	return 0;
}

/* One connection attempt with STARTTLS per tls. *tls_failed_r tells a
 * failed handshake from other failures. */
static int open_once(const struct sockaddr *sa, socklen_t salen, const struct smtp_client_params *p,
		     int tls, struct smtp_client **c_r, struct smtp_reply *reply, bool *tls_failed_r)
{
	struct smtp_client *c = xcalloc(1, sizeof(*c));
	c->p = p;
	c->fd = -1;
	c->tls = tls;
	*tls_failed_r = false;
	buf_init(&c->out, 0);
	*c_r = NULL;
	memset(reply, 0, sizeof(*reply));
	if (do_connect(c, sa, salen, reply) < 0)
		goto fail;
	if (read_reply(c, p->command_timeout_ms, reply, false) < 0)
		goto fail;
	if (reply->code != 220) {
		/* 554 greeting: "no service here" (RFC 5321 3.1). */
		goto fail;
	}
	if (ehlo(c, reply) < 0)
		goto fail;
	bool want_tls = tls != ROUTE_TLS_NONE && p->ssl_ctx != NULL;
	bool need_tls = tls == ROUTE_TLS_REQUIRE || tls == ROUTE_TLS_VERIFY;
	if (want_tls && (c->ext & SMTPC_EXT_STARTTLS)) {
		if (command(c, "STARTTLS\r\n", p->command_timeout_ms, reply, false) < 0)
			goto fail;
		if (reply->code != 220) {
			if (need_tls) {
				char text[sizeof(reply->text)];
				snprintf(text, sizeof(text), "%s", reply->text);
				set_reply(reply, 0, "4.7.10", "TLS is required but STARTTLS was refused: %s", text);
				goto fail;
			}
		} else {
			if (c->in_len > 0) {
				/* Plaintext sent after 220 would be read as if protected. */
				set_reply(reply, 0, "4.7.0", "data after the STARTTLS reply (injection attempt?)");
				goto fail;
			}
			if (tls_handshake(c, reply) < 0)
				goto fail;
			if (ehlo(c, reply) < 0)
				goto fail;
		}
	} else if (need_tls) {
		set_reply(reply, 0, "4.7.10", "TLS is required but %s does not offer STARTTLS",
			  p->server_name != NULL ? p->server_name : "the server");
		goto fail;
	}
	if (p->auth_user != NULL && p->auth_user[0] != '\0') {
		if (c->ssl == NULL) {
			set_reply(reply, 0, "4.7.10", "not sending a password without TLS");
			goto fail;
		}
		if (auth(c, reply) < 0)
			goto fail;
	}
	*c_r = c;
	return 0;
fail:
	*tls_failed_r = c->tls_failed;
	smtp_client_close(&c, false);
	if (reply->code == 0 && reply->text[0] == '\0')
		set_reply(reply, 0, "4.4.2", "connection failed");
	return -1;
}

int smtp_client_open(const struct sockaddr *sa, socklen_t salen, const struct smtp_client_params *p,
		     struct smtp_client **c_r, struct smtp_reply *reply)
{
	bool tls_failed;
	int ret = open_once(sa, salen, p, p->tls, c_r, reply, &tls_failed);
	if (ret < 0 && tls_failed && p->tls == ROUTE_TLS_MAY) {
		/* Opportunistic TLS that does not work: plaintext, as if it
		 * had not been offered (RFC 3207 does not forbid it; Postfix
		 * does the same at its default security level). */
		ret = open_once(sa, salen, p, ROUTE_TLS_NONE, c_r, reply, &tls_failed);
	}
	return ret;
}

unsigned smtp_client_extensions(const struct smtp_client *c)
{
	return c->ext;
}

uint64_t smtp_client_size_limit(const struct smtp_client *c)
{
	return c->size_limit;
}

bool smtp_client_tls_active(const struct smtp_client *c)
{
	return c->ssl != NULL;
}

const char *smtp_client_tls_version(const struct smtp_client *c)
{
	return c->ssl != NULL ? SSL_get_version(c->ssl) : "none";
}

/* Append data dot-stuffed (RFC 5321 4.5.2), ending in CRLF. */
static void stuff(struct buf *out, const char *data, size_t len)
{
	bool bol = true;
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (bol && data[i] == '.') {
			buf_append(out, data + start, i - start);
			buf_append(out, ".", 1);
			start = i;
		}
		bol = data[i] == '\n';
	}
	buf_append(out, data + start, len - start);
	if (len > 0 && !(len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n'))
		buf_append_str(out, "\r\n");
}

static void copy_reply(struct smtp_reply *dst, const struct smtp_reply *src)
{
	*dst = *src;
}

int smtp_client_send(struct smtp_client *c, struct smtp_client_txn *t)
{
	struct smtp_reply r;
	bool pipe = (c->ext & SMTPC_EXT_PIPELINING) != 0;
	memset(&t->mail_reply, 0, sizeof(t->mail_reply));
	memset(&t->data_reply, 0, sizeof(t->data_reply));
	t->dot_sent = false;
	if (c->broken) {
		set_reply(&t->mail_reply, 0, "4.4.2", "connection lost");
		return -1;
	}
	buf_reset(&c->out);
	buf_printf(&c->out, "MAIL FROM:<%s>%s\r\n", t->from, t->mail_params);
	size_t accepted = 0;
	if (pipe) {
		for (size_t i = 0; i < t->nrcpts; i++)
			buf_printf(&c->out, "RCPT TO:<%s>%s\r\n", t->rcpts[i].address, t->rcpts[i].params);
		buf_append_str(&c->out, "DATA\r\n");
		if (io_write(c, c->out.data, c->out.len, now_ms() + c->p->command_timeout_ms, &r) < 0)
			goto broken;
		if (read_reply(c, c->p->command_timeout_ms, &t->mail_reply, false) < 0) {
			r = t->mail_reply;
			goto broken;
		}
		for (size_t i = 0; i < t->nrcpts; i++) {
			if (read_reply(c, c->p->command_timeout_ms, &t->rcpts[i].reply, false) < 0) {
				r = t->rcpts[i].reply;
				goto broken;
			}
			if (t->mail_reply.code / 100 == 2 && t->rcpts[i].reply.code / 100 == 2)
				accepted++;
		}
		if (read_reply(c, c->p->data_init_timeout_ms, &t->data_reply, false) < 0) {
			r = t->data_reply;
			goto broken;
		}
		if (t->mail_reply.code / 100 != 2) {
			for (size_t i = 0; i < t->nrcpts; i++)
				copy_reply(&t->rcpts[i].reply, &t->mail_reply);
		}
	} else {
		if (command(c, c->out.data, c->p->command_timeout_ms, &t->mail_reply, false) < 0) {
			r = t->mail_reply;
			goto broken;
		}
		if (t->mail_reply.code / 100 != 2) {
			for (size_t i = 0; i < t->nrcpts; i++)
				copy_reply(&t->rcpts[i].reply, &t->mail_reply);
			goto rset;
		}
		for (size_t i = 0; i < t->nrcpts; i++) {
			buf_reset(&c->out);
			buf_printf(&c->out, "RCPT TO:<%s>%s\r\n", t->rcpts[i].address, t->rcpts[i].params);
			if (command(c, c->out.data, c->p->command_timeout_ms, &t->rcpts[i].reply, false) < 0) {
				r = t->rcpts[i].reply;
				goto broken;
			}
			if (t->rcpts[i].reply.code / 100 == 2)
				accepted++;
		}
		if (accepted == 0)
			goto rset;
		if (command(c, "DATA\r\n", c->p->data_init_timeout_ms, &t->data_reply, false) < 0) {
			r = t->data_reply;
			goto broken;
		}
	}
	if (c->broken) {
		r = t->data_reply;
		goto broken;
	}
	if (t->data_reply.code != 354) {
		if (t->data_reply.code / 100 == 2) {
			/* 2xx to DATA is a protocol error: do not send the data. */
			set_reply(&t->data_reply, 0, "4.5.0", "unexpected reply to DATA");
			c->broken = true;
			r = t->data_reply;
			goto broken;
		}
		goto rset;
	}
	if (accepted == 0) {
		/* RFC 2920 3.1: 354 with no valid recipient: send an empty
		 * message and forget its reply. */
		if (io_write(c, ".\r\n", 3, now_ms() + c->p->data_block_timeout_ms, &r) < 0 ||
		    read_reply(c, c->p->data_done_timeout_ms, &r, false) < 0)
			goto broken;
		goto rset;
	}
	buf_reset(&c->out);
	if (t->prefix != NULL)
		stuff(&c->out, t->prefix, t->prefix_len);
	stuff(&c->out, t->data, t->data_len);
	/* Each write is one "data block" of RFC 5321 4.5.3.2.5. */
	for (size_t off = 0; off < c->out.len;) {
		size_t n = c->out.len - off < 65536 ? c->out.len - off : 65536;
		if (io_write(c, c->out.data + off, n, now_ms() + c->p->data_block_timeout_ms, &r) < 0)
			goto broken;
		off += n;
	}
	if (t->before_dot != NULL && t->before_dot(t->ctx) < 0) {
		set_reply(&r, 0, "4.3.0", "aborted before the end of data");
		c->broken = true;
		goto broken;
	}
	t->dot_sent = true;
	int wr = io_write(c, ".\r\n", 3, now_ms() + c->p->data_block_timeout_ms, &r);
	if (t->after_dot != NULL)
		t->after_dot(t->ctx);
	if (wr < 0)
		goto broken;
	/* The final reply is awaited even during a shutdown: it decides
	 * whether the message was delivered. */
	c->ignore_abort = true;
	int rr = read_reply(c, c->p->data_done_timeout_ms, &t->data_reply, false);
	c->ignore_abort = false;
	if (rr < 0) {
		r = t->data_reply;
		goto broken;
	}
	return c->broken ? -1 : 1;
rset:
	if (c->broken) {
		r = t->mail_reply.code == 421 ? t->mail_reply : t->data_reply;
		goto broken;
	}
	if (command(c, "RSET\r\n", c->p->command_timeout_ms, &r, false) < 0 || r.code / 100 != 2) {
		c->broken = true;
	}
	return 0;
broken:
	c->broken = true;
	/* Whatever has no reply yet gets the reason the connection ended. */
	if (t->mail_reply.code == 0 && t->mail_reply.text[0] == '\0')
		copy_reply(&t->mail_reply, &r);
	for (size_t i = 0; i < t->nrcpts; i++)
		if (t->rcpts[i].reply.code == 0 && t->rcpts[i].reply.text[0] == '\0')
			copy_reply(&t->rcpts[i].reply, t->mail_reply.code / 100 == 2 ? &r : &t->mail_reply);
	if (t->data_reply.code == 0 && t->data_reply.text[0] == '\0')
		copy_reply(&t->data_reply, &r);
	else if (t->data_reply.code == 354)
		copy_reply(&t->data_reply, &r);
	return -1;
}

bool smtp_client_reusable(struct smtp_client *c)
{
	if (c == NULL || c->broken || c->in_len > 0)
		return false;
	if (c->ssl != NULL && SSL_pending(c->ssl) > 0)
		return false;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) != 0)
		return false;	/* readable: EOF, 421, or junk */
	return true;
}

void smtp_client_close(struct smtp_client **cp, bool quit)
{
	struct smtp_client *c = *cp;
	if (c == NULL)
		return;
	if (quit && !c->broken && c->fd >= 0) {
		struct smtp_reply r;
		c->ignore_abort = true;	/* a polite QUIT during shutdown too */
		if (io_write(c, "QUIT\r\n", 6, now_ms() + 2000, &r) == 0)
			read_reply(c, 2000, &r, false);
	}
	if (c->ssl != NULL) {
		if (!c->broken)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->out);
	free(c);
	*cp = NULL;
}

SSL_CTX *smtp_client_ssl_ctx(const char *ca_file, char *why, size_t why_size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		snprintf(why, why_size, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	int ok = ca_file != NULL && ca_file[0] != '\0'
			 ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
			 : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		snprintf(why, why_size, "cannot load CA certificates%s%s", ca_file != NULL && ca_file[0] ? " from " : "",
			 ca_file != NULL ? ca_file : "");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Opportunistic TLS does not verify; routes with tls=verify set
	 * SSL_VERIFY_PEER on their SSL. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}
