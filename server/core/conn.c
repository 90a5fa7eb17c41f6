/* Connection I/O: reads into a bounded input buffer and hands it to the
 * session, writes a queued output buffer, drives OpenSSL handshakes, reads
 * and writes without blocking, and closes exactly once. An idle connection
 * holds only this struct: both buffers are freed whenever they are empty.
 * Optional raw-deflate compression (IMAP COMPRESS, RFC 4978) sits between
 * the session's buffers and TLS/the socket; see "compression" below. */
#include "autoconf.h"
#include "conn.h"
#include "log.h"
#include "loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#define CONN_READ_CHUNK 16384
#define CONN_READ_BUDGET (256 * 1024)	/* per event, for fairness */

enum conn_state {
	CONN_HANDSHAKE,		/* TLS handshake in progress */
	CONN_OPEN,
	CONN_CLOSING,		/* flushing output, then close */
	CONN_CLOSED,
};

struct conn {
	struct loop *loop;
	struct loop_io *io;
	int fd;
	int refcount;
	enum conn_state state;
	enum metrics_proto proto;
	SSL *ssl;
	bool paused;
	bool peer_eof;
	bool starttls_pending;	/* handshake starts once output is flushed */
	bool ssl_read_wants_write;
	bool ssl_write_wants_read;
	bool in_callback;
	bool in_io;		/* conn_io is running: it finishes a close itself */
	bool aborted;		/* output dropped: never write again */
	bool throttled;		/* input stopped: output over its bound */
	bool want_writable;	/* tell ops->writable when output is below it */
	bool partial;		/* the session holds a partial line it consumed */
	bool corked;
	SSL_CTX *starttls_ctx;
	struct buf in, out;
	uint64_t idle_ms;
	struct loop_timer idle_timer;
	struct loop_timer kick_timer;	/* deferred input processing and closing */
	struct loop_timer line_timer;	/* a partial command line must complete */
	size_t accounted;		/* out_pending() as counted in out_total */
	const struct conn_ops *ops;
	void *ctx;
	void (*release)(void *ctx);
	void *release_ctx;
	struct conn *prev, *next;
	char peer[INET6_ADDRSTRLEN];
	char id[17];
	bool loopback;
	struct conn_zlib *z;	/* NULL unless compression is active */
};

/* Compression. Output: the session's plaintext (out) is deflated in chunks
 * into zout, which is what goes to TLS/the socket; every batch ends with
 * Z_SYNC_FLUSH so the peer can decode all of it at once. Input: wire bytes
 * land in zin and are inflated into in, only as far as in has room, so a
 * small compressed packet cannot expand past the session's input limit.
 * After CONN_ZLIB_QUIET_MS without traffic both streams are released (the
 * deflate state is dropped after a sync flush, which leaves the stream at a
 * byte-aligned block boundary where a fresh deflater may continue; the
 * inflate window is kept as a dictionary of only the bytes it holds), so an
 * idle compressed connection costs about what a plain one does (measured:
 * +38 KB per conn while its streams are live, ~0 once released; with
 * zlib's defaults and no release it was +200 KB). */
#define CONN_DEFLATE_WBITS (-15)	/* raw deflate (RFC 4978 wants -8..-15) */
/* memLevel 6: a 16 KiB hash head that deflateInit clears (8 would be 64
 * KiB) for the same ratio on IMAP traffic (tests/bench/bench-imap-compress.py). */
#define CONN_DEFLATE_MEMLEVEL 6
#define CONN_DEFLATE_CHUNK (64 * 1024)	/* input taken per deflate round */
#define CONN_ZOUT_STEP 16384
#define CONN_ZLIB_QUIET_MS 5000

static uint64_t zlib_quiet_ms = CONN_ZLIB_QUIET_MS;

struct conn_zlib {
	z_stream def, inf;
	bool def_live, inf_live;	/* streams initialised (else released) */
	bool inf_failed;		/* corrupt input: read nothing more */
	bool inf_out_full;		/* inflate may still hold output */
	struct buf zin;			/* compressed bytes not yet inflated */
	struct buf zout;		/* compressed bytes not yet sent */
	unsigned char *dict;		/* the inflate window while released */
	unsigned dict_len;
	struct loop_timer quiet_timer;
};

static struct conn *conn_list;
static unsigned conn_live;
static uint64_t conn_next_id;

/* Back-pressure and slow-client bounds (conn_set_limits). */
static size_t out_high = 256 * 1024;	/* per conn: stop reading above it */
static size_t out_total_max;		/* all conns: 0 = no limit */
static size_t out_total;		/* sum of out_pending() over every conn */
static uint64_t handshake_ms = 30000;
static uint64_t line_ms = 60000;

static void conn_update_events(struct conn *c);
static void conn_finish_close(struct conn *c);
static void conn_process_input(struct conn *c);
static int conn_deflate(struct conn *c);
static void conn_inflate(struct conn *c);
static void conn_zlib_touch(struct conn *c);
static void conn_zlib_free(struct conn *c);
static void kick_fired(void *ctx);
static void close_fired(void *ctx);

/* Output not yet handed to the socket, compressed or not. */
static size_t out_pending(const struct conn *c)
{
	return c->out.len + (c->z != NULL ? c->z->zout.len : 0);
}

/* Output over the bound: stop taking input from this client until it
 * reads. Past the global bound, every conn with output waiting stops. */
static bool over_high(const struct conn *c)
{
	size_t pending = out_pending(c);
	return pending >= out_high || (out_total_max > 0 && pending > 0 && out_total > out_total_max);
}

/* Keep out_total and its gauge current with this conn's pending output. */
static void account(struct conn *c)
{
	size_t now = c->state == CONN_CLOSED ? 0 : out_pending(c);
	if (now == c->accounted)
		return;
	out_total = out_total + now - c->accounted;
	c->accounted = now;
	atomic_store_explicit(&metrics.output_pending, out_total, memory_order_relaxed);
}

void conn_set_limits(size_t output_max, size_t output_total_max, uint64_t tls_handshake_ms,
		     uint64_t line_timeout_ms)
{
	out_high = output_max > 0 ? output_max : 1;
	out_total_max = output_total_max;
	handshake_ms = tls_handshake_ms;
	line_ms = line_timeout_ms;
}

size_t conn_output_total(void)
{
	return out_total;
}

bool conn_output_blocked(const struct conn *c)
{
	return over_high(c);
}

/* Where raw bytes from the socket go: the session's input, or zin. */
static struct buf *wire_in(struct conn *c)
{
	return c->z != NULL ? &c->z->zin : &c->in;
}

static void set_peer(struct conn *c, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, c->peer, sizeof(c->peer));
		c->loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *a = sin6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, a + 12, c->peer, sizeof(c->peer));
			c->loopback = a[12] == 127;
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, c->peer, sizeof(c->peer));
			c->loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		}
	} else {
		snprintf(c->peer, sizeof(c->peer), "local");
		c->loopback = false;
	}
}

struct conn *conn_create(struct loop *loop, int fd, const struct sockaddr *peer,
			 socklen_t peer_len, enum metrics_proto proto, SSL_CTX *tls_ctx)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->fd = fd;
	c->refcount = 1;
	c->proto = proto;
	/* Lazy: consuming a command or a sent chunk is O(1), not a move of
	 * everything behind it (quadratic on pipelined input and big output). */
	buf_init(&c->in, 64 * 1024);
	c->in.lazy = true;
	buf_init(&c->out, 0);
	c->out.lazy = true;
	if (peer != NULL && peer_len > 0)
		set_peer(c, peer);
	else
		snprintf(c->peer, sizeof(c->peer), "unknown");
	snprintf(c->id, sizeof(c->id), "%llx", (unsigned long long)++conn_next_id);
	c->state = CONN_OPEN;
	if (tls_ctx != NULL) {
		c->ssl = SSL_new(tls_ctx);
		if (c->ssl == NULL)
			panic("conn: SSL_new failed");
		SSL_set_fd(c->ssl, fd);
		SSL_set_accept_state(c->ssl);
		c->state = CONN_HANDSHAKE;
	}
	c->next = conn_list;
	if (conn_list != NULL)
		conn_list->prev = c;
	conn_list = c;
	conn_live++;
	metrics_inc(&metrics.conn_current[proto]);
	metrics_inc(&metrics.conn_total[proto]);
	return c;
}

void conn_set_ops(struct conn *c, const struct conn_ops *ops, void *ctx)
{
	c->ops = ops;
	c->ctx = ctx;
}

void conn_set_release(struct conn *c, void (*release)(void *ctx), void *ctx)
{
	c->release = release;
	c->release_ctx = ctx;
}

struct buf *conn_input(struct conn *c)
{
	return &c->in;
}

void conn_set_input_max(struct conn *c, size_t max)
{
	c->in.max = max;
}

static void timeout_fired(struct conn *c, enum conn_timeout why)
{
	if (c->state != CONN_CLOSING)
		metrics_inc(&metrics.timeouts);
	if (c->state == CONN_HANDSHAKE)
		log_info("conn session=%s peer=%s proto=%s event=tls-handshake-timeout", c->id,
			 c->peer, metrics_proto_name(c->proto));
	else
		log_debug("conn session=%s peer=%s event=%s", c->id, c->peer,
			  why == CONN_TIMEOUT_LINE ? "line-timeout" : "idle-timeout");
	if (c->state == CONN_OPEN && c->ops != NULL && c->ops->timeout != NULL) {
		conn_ref(c);
		c->ops->timeout(c, c->ctx, why);
		conn_unref(&c);
	} else {
		conn_abort(c);
	}
}

static void idle_fired(void *ctx)
{
	timeout_fired(ctx, CONN_TIMEOUT_IDLE);
}

static void line_fired(void *ctx)
{
	timeout_fired(ctx, CONN_TIMEOUT_LINE);
}

static void idle_restart(struct conn *c)
{
	if (c->state == CONN_CLOSED)
		return;
	uint64_t ms = c->idle_ms;
	/* A TLS handshake gets its own, shorter bound: bytes trickling in
	 * during it do not extend it. */
	if (c->state == CONN_HANDSHAKE && handshake_ms > 0 && (ms == 0 || handshake_ms < ms)) {
		if (!loop_timer_armed(&c->idle_timer))
			loop_timer_set(c->loop, &c->idle_timer, handshake_ms, idle_fired, c);
		return;
	}
	if (ms > 0)
		loop_timer_set(c->loop, &c->idle_timer, ms, idle_fired, c);
	else
		loop_timer_cancel(c->loop, &c->idle_timer);
}

void conn_idle_restart(struct conn *c)
{
	if (c->state == CONN_OPEN || c->state == CONN_HANDSHAKE)
		idle_restart(c);
}

void conn_set_idle_timeout(struct conn *c, uint64_t ms)
{
	c->idle_ms = ms;
	if (ms == 0)
		loop_timer_cancel(c->loop, &c->idle_timer);
	else
		idle_restart(c);
}

size_t conn_output_pending(const struct conn *c)
{
	return out_pending(c);
}

bool conn_is_closing(const struct conn *c)
{
	return c->state >= CONN_CLOSING;
}

bool conn_is_tls(const struct conn *c)
{
	return c->ssl != NULL && c->state != CONN_HANDSHAKE;
}

bool conn_is_loopback(const struct conn *c)
{
	return c->loopback;
}

bool conn_is_secure(const struct conn *c, bool loopback_is_secure)
{
	return conn_is_tls(c) || (loopback_is_secure && c->loopback);
}

const char *conn_peer_addr(const struct conn *c)
{
	return c->peer;
}

const char *conn_id(const struct conn *c)
{
	return c->id;
}

struct loop *conn_loop(const struct conn *c)
{
	return c->loop;
}

unsigned conn_count(void)
{
	return conn_live;
}

void conn_ref(struct conn *c)
{
	c->refcount++;
}

void conn_unref(struct conn **cp)
{
	struct conn *c = *cp;
	*cp = NULL;
	if (c == NULL || --c->refcount > 0)
		return;
	if (c->state != CONN_CLOSED)
		panic("conn: session=%s freed while open", c->id);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

/* ---- TLS ---- */

static void log_tls_failure(struct conn *c, int ret)
{
	unsigned long e = ERR_peek_error();
	char reason[160] = "connection closed";
	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	else if (ret < 0 && errno != 0)
		snprintf(reason, sizeof(reason), "%s", strerror(errno));
	ERR_clear_error();
	metrics_inc(&metrics.tls_handshake_failures);
	log_info("conn session=%s peer=%s proto=%s event=tls-failed reason=\"%s\"", c->id, c->peer,
		 metrics_proto_name(c->proto), reason);
}

/* Returns 1 when done, 0 when waiting for the socket, -1 after closing. */
static int conn_handshake(struct conn *c)
{
	ERR_clear_error();
	errno = 0;
	int ret = SSL_do_handshake(c->ssl);
	if (ret == 1) {
		c->state = CONN_OPEN;
		log_debug("conn session=%s peer=%s event=tls version=%s cipher=%s", c->id, c->peer,
			  SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
		return 1;
	}
	int err = SSL_get_error(c->ssl, ret);
	if (err == SSL_ERROR_WANT_READ) {
		c->ssl_read_wants_write = false;
		return 0;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		c->ssl_read_wants_write = true;
		return 0;
	}
	log_tls_failure(c, ret);
	conn_abort(c);
	return -1;
}

static void conn_begin_starttls(struct conn *c)
{
	c->starttls_pending = false;
	c->ssl = SSL_new(c->starttls_ctx);
	if (c->ssl == NULL)
		panic("conn: SSL_new failed");
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_accept_state(c->ssl);
	c->state = CONN_HANDSHAKE;
	/* Whatever the client sent before the handshake is plaintext injection. */
	buf_free(&c->in);
	c->peer_eof = false;
	loop_timer_cancel(c->loop, &c->idle_timer);
	loop_timer_cancel(c->loop, &c->line_timer);
	idle_restart(c);
}

int conn_starttls(struct conn *c, SSL_CTX *tls_ctx)
{
	/* TLS under compression would need a second compression layer
	 * order; RFC 4978 puts compression inside TLS only. */
	if (c->ssl != NULL || c->starttls_pending || c->z != NULL)
		return -1;
	buf_free(&c->in);
	c->starttls_ctx = tls_ctx;
	c->starttls_pending = true;
	conn_update_events(c);
	return 0;
}

/* ---- writing ---- */

/* Write as much queued output as the socket takes. Returns 0, or -1 after the
 * connection was aborted. */
static int conn_flush(struct conn *c)
{
	c->ssl_write_wants_read = false;
	for (;;) {
		struct buf *wire = &c->out;
		if (c->z != NULL) {
			/* Compress the next chunk only once the last one is
			 * sent: zout stays small and backpressure still works. */
			wire = &c->z->zout;
			while (wire->len == 0 && c->out.len > 0) {
				if (conn_deflate(c) < 0) {
					conn_abort(c);
					return -1;
				}
			}
		}
		if (wire->len == 0)
			break;
		ssize_t n;
		if (c->ssl != NULL) {
			ERR_clear_error();
			int ret = SSL_write(c->ssl, wire->data,
					    wire->len > INT32_MAX ? INT32_MAX : (int)wire->len);
			if (ret <= 0) {
				int err = SSL_get_error(c->ssl, ret);
				if (err == SSL_ERROR_WANT_WRITE)
					break;
				if (err == SSL_ERROR_WANT_READ) {
					c->ssl_write_wants_read = true;
					break;
				}
				ERR_clear_error();
				conn_abort(c);
				return -1;
			}
			n = ret;
		} else {
			n = send(c->fd, wire->data, wire->len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				log_debug("conn session=%s peer=%s event=write-error reason=\"%s\"",
					  c->id, c->peer, strerror(errno));
				conn_abort(c);
				return -1;
			}
		}
		buf_consume(wire, (size_t)n);
	}
	if (out_pending(c) == 0) {
		buf_free(&c->out);
		if (c->z != NULL) {
			buf_free(&c->z->zout);
			conn_zlib_touch(c);
		}
		if (c->starttls_pending && c->state == CONN_OPEN)
			conn_begin_starttls(c);
	}
	return 0;
}

int conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->state >= CONN_CLOSING)
		return -1;
	if (buf_append(&c->out, data, len) < 0)
		return -1;
	if (!c->in_callback && !c->corked && c->state == CONN_OPEN) {
		if (conn_flush(c) < 0)
			return -1;
	}
	conn_update_events(c);
	return 0;
}

void conn_cork(struct conn *c, bool corked)
{
	c->corked = corked;
	if (!corked && c->state == CONN_OPEN && out_pending(c) > 0 && !c->in_callback) {
		if (conn_flush(c) < 0)
			return;
		conn_update_events(c);
	}
}

int conn_printf(struct conn *c, const char *fmt, ...)
{
	if (c->state >= CONN_CLOSING)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int ret = buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -1;
	return conn_write(c, "", 0);
}

/* ---- reading ---- */

/* Read what the socket has, up to the input maximum and a fairness budget. */
static void conn_read(struct conn *c)
{
	char chunk[CONN_READ_CHUNK];
	size_t total = 0;

	c->ssl_read_wants_write = false;
	while (!c->peer_eof && total < CONN_READ_BUDGET && !c->starttls_pending) {
		if (c->z != NULL)
			conn_inflate(c);
		size_t room = buf_room(wire_in(c));
		if (room == 0)
			break;
		size_t want = room < sizeof(chunk) ? room : sizeof(chunk);
		ssize_t n;
		if (c->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			int ret = SSL_read(c->ssl, chunk, (int)want);
			if (ret <= 0) {
				int err = SSL_get_error(c->ssl, ret);
				if (err == SSL_ERROR_WANT_READ)
					break;
				if (err == SSL_ERROR_WANT_WRITE) {
					c->ssl_read_wants_write = true;
					break;
				}
				int saved = errno;
				ERR_clear_error();
				if (err == SSL_ERROR_ZERO_RETURN ||
				    (err == SSL_ERROR_SYSCALL && saved == 0)) {
					/* close_notify, or TCP EOF without it: what
					 * the client asked for is still answered. */
					c->peer_eof = true;
					break;
				}
				/* A reset or a broken record: nobody is left to
				 * answer, not even a job in flight. */
				c->peer_eof = true;
				conn_abort(c);
				return;
			}
			n = ret;
		} else {
			n = recv(c->fd, chunk, want, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				/* ECONNRESET and the like: abort, even with a job
				 * in flight (its result is dropped). */
				c->peer_eof = true;
				conn_abort(c);
				return;
			}
			if (n == 0) {
				c->peer_eof = true;
				break;
			}
		}
		buf_append(wire_in(c), chunk, (size_t)n);
		total += (size_t)n;
	}
	if (c->z != NULL) {
		conn_inflate(c);
		conn_zlib_touch(c);
	}
	if (total > 0)
		idle_restart(c);
}

/* A partial command line sitting in the input must complete within
 * line_ms, however slowly its bytes trickle in (slow-loris). Input that
 * waits because the session is busy or the client does not read is not
 * the client's partial line. */
static void line_deadline_update(struct conn *c)
{
	if (line_ms == 0)
		return;
	bool partial = c->state == CONN_OPEN && !c->paused && !c->throttled &&
		       (c->in.len > 0 || c->partial);
	if (!partial)
		loop_timer_cancel(c->loop, &c->line_timer);
	else if (!loop_timer_armed(&c->line_timer))
		loop_timer_set(c->loop, &c->line_timer, line_ms, line_fired, c);
}

static void conn_process_input(struct conn *c)
{
	while (c->state == CONN_OPEN && !c->paused && c->ops != NULL) {
		if (over_high(c)) {
			c->throttled = true;
			break;
		}
		/* What the session consumed made room for more inflated input. */
		if (c->z != NULL)
			conn_inflate(c);
		if (c->in.len == 0)
			break;
		size_t before = c->in.len;
		c->in_callback = true;
		c->ops->input(c, c->ctx);
		c->in_callback = false;
		if (c->in.len == before || c->state != CONN_OPEN)
			break;
	}
	if (c->in.len == 0)
		buf_free(&c->in);
	line_deadline_update(c);
	if (c->state == CONN_OPEN && !c->paused && c->peer_eof && !c->starttls_pending &&
	    !c->throttled) {
		/* The client is gone: send what we have and close. */
		conn_close(c);
	}
}

static void conn_update_events(struct conn *c)
{
	account(c);
	if (c->io == NULL || c->state == CONN_CLOSED)
		return;
	if (c->throttled && !over_high(c) && c->state == CONN_OPEN) {
		/* The client read enough: take its buffered input again. */
		c->throttled = false;
		if (!c->in_io)
			loop_timer_set(c->loop, &c->kick_timer, 0, kick_fired, c);
	}
	if (c->want_writable && !over_high(c) && !c->in_io)
		loop_timer_set(c->loop, &c->kick_timer, 0, kick_fired, c);
	unsigned ev = 0;
	if (c->state == CONN_HANDSHAKE) {
		ev = c->ssl_read_wants_write ? LOOP_WRITE : LOOP_READ;
	} else {
		bool want_read = c->state == CONN_OPEN && !c->peer_eof && !c->starttls_pending &&
				 !over_high(c) && buf_room(wire_in(c)) > 0;
		if (want_read || c->ssl_write_wants_read)
			ev |= LOOP_READ;
		if (out_pending(c) > 0 || c->ssl_read_wants_write)
			ev |= LOOP_WRITE;
	}
	loop_modify(c->io, ev);
}

static void conn_io(void *ctx, unsigned events)
{
	struct conn *c = ctx;
	conn_ref(c);
	c->in_io = true;
	if (c->state == CONN_HANDSHAKE) {
		if (conn_handshake(c) <= 0)
			goto out;
		idle_restart(c);
	}
	if (out_pending(c) > 0 && (events & (LOOP_WRITE | LOOP_READ))) {
		if (conn_flush(c) < 0)
			goto out;
	}
	if (c->state == CONN_HANDSHAKE) {
		/* STARTTLS began after the flush: start the handshake now. */
		if (conn_handshake(c) <= 0)
			goto out;
	}
	if (c->state == CONN_CLOSING)
		goto out;
	if (c->state == CONN_OPEN && c->want_writable && !over_high(c) && c->ops != NULL &&
	    c->ops->writable != NULL) {
		c->want_writable = false;
		c->in_callback = true;
		c->ops->writable(c, c->ctx);
		c->in_callback = false;
	}
	if (c->state == CONN_OPEN) {
		if (!over_high(c))
			conn_read(c);
		if (c->in.len == 0 && c->peer_eof && !c->paused &&
		    (c->z == NULL || c->z->zin.len == 0)) {
			conn_close(c);
			goto out;
		}
		conn_process_input(c);
		if (c->state == CONN_OPEN && out_pending(c) > 0)
			conn_flush(c);
		/* OpenSSL may hold decrypted bytes that did not fit before: no
		 * socket event will announce them, so come back for them. */
		if (c->state == CONN_OPEN && !c->paused && c->ssl != NULL && !c->peer_eof &&
		    SSL_pending(c->ssl) > 0 && buf_room(wire_in(c)) > 0 && !over_high(c))
			loop_timer_set(c->loop, &c->kick_timer, 0, kick_fired, c);
	}
out:
	c->in_io = false;
	/* The one place a close completes (besides the shutdown hard limit):
	 * never under a session's callback, timer or job completion. */
	if (c->state == CONN_CLOSING && (out_pending(c) == 0 || (events & LOOP_ERROR)))
		conn_finish_close(c);
	conn_update_events(c);
	conn_unref(&c);
}

/* A conn closed before conn_start (no io yet). */
static void close_fired(void *ctx)
{
	struct conn *c = ctx;
	if (c->state == CONN_CLOSING)
		conn_finish_close(c);
}

static void kick_fired(void *ctx)
{
	struct conn *c = ctx;
	/* The session resumed: buffered input (and TLS records OpenSSL holds
	 * decrypted) may be waiting without a socket event to announce it. */
	conn_io(c, LOOP_READ);
}

void conn_pause(struct conn *c, bool paused)
{
	if (c->paused == paused)
		return;
	c->paused = paused;
	if (!paused && c->state == CONN_OPEN)
		loop_timer_set(c->loop, &c->kick_timer, 0, kick_fired, c);
	line_deadline_update(c);
	conn_update_events(c);
}

void conn_start(struct conn *c)
{
	c->io = loop_add(c->loop, c->fd, LOOP_READ, conn_io, c);
	idle_restart(c);
	conn_update_events(c);
}

/* ---- compression ---- */

/* zlib's big blocks (windows, hash chains, pending output: 8-64 KiB each)
 * get their own anonymous mappings: pages are only resident once zlib
 * touches them, and releasing a quiet conn's streams really gives the
 * memory back to the system instead of leaving holes in the heap. When
 * mappings run out (vm.max_map_count), the heap serves instead. */
#define ZLIB_MMAP_MIN 8192
#define ZLIB_HDR 16	/* length and kind; keeps the block aligned */
_Static_assert(2 * sizeof(size_t) <= ZLIB_HDR, "zlib block header too small");

static void *zlib_alloc(void *opaque, unsigned items, unsigned size)
{
	(void)opaque;
	if (size != 0 && items > (SIZE_MAX - ZLIB_HDR) / size)
		return Z_NULL;
	size_t hdr[2] = { (size_t)items * size + ZLIB_HDR, 0 };
	char *p = MAP_FAILED;
	if (hdr[0] >= ZLIB_MMAP_MIN)
		p = mmap(NULL, hdr[0], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		p = xmalloc(hdr[0]);
	else
		hdr[1] = 1;
	memcpy(p, hdr, sizeof(hdr));
	return p + ZLIB_HDR;
}

static void zlib_free_cb(void *opaque, void *ptr)
{
	(void)opaque;
	char *p = (char *)ptr - ZLIB_HDR;
	size_t hdr[2];
	memcpy(hdr, p, sizeof(hdr));
	if (hdr[1] == 1)
		munmap(p, hdr[0]);
	else
		free(p);
}

/* A z_stream on our allocator, ready for deflateInit2/inflateInit2. */
static void zstream_init(z_stream *zs)
{
	memset(zs, 0, sizeof(*zs));
	zs->zalloc = zlib_alloc;
	zs->zfree = zlib_free_cb;
}

/* Deflate the next chunk of out into zout. The chunk that empties out ends
 * with Z_SYNC_FLUSH: everything queued so far becomes decodable at once. */
static int conn_deflate(struct conn *c)
{
	struct conn_zlib *z = c->z;
	if (!z->def_live) {
		zstream_init(&z->def);
		if (deflateInit2(&z->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, CONN_DEFLATE_WBITS,
				 CONN_DEFLATE_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
			panic("conn: deflateInit2 failed");
		z->def_live = true;
	}
	size_t take = c->out.len < CONN_DEFLATE_CHUNK ? c->out.len : CONN_DEFLATE_CHUNK;
	int flush = take == c->out.len ? Z_SYNC_FLUSH : Z_NO_FLUSH;
	z->def.next_in = (Bytef *)c->out.data;
	z->def.avail_in = (uInt)take;
	for (;;) {
		if (buf_reserve(&z->zout, CONN_ZOUT_STEP) < 0)
			return -1;
		z->def.next_out = (Bytef *)z->zout.data + z->zout.len;
		z->def.avail_out = CONN_ZOUT_STEP;
		int ret = deflate(&z->def, flush);
		z->zout.len += CONN_ZOUT_STEP - z->def.avail_out;
		z->zout.data[z->zout.len] = '\0';
		if (ret == Z_STREAM_ERROR) {
			log_warn("conn session=%s peer=%s event=deflate-failed", c->id, c->peer);
			return -1;
		}
		/* Room left over: the input is taken and the flush complete. */
		if (z->def.avail_out != 0)
			break;
	}
	buf_consume(&c->out, take);
	return 0;
}

/* Corrupt (or ended) deflate input: stop reading, log, let the conn close. */
static void conn_inflate_fail(struct conn *c, const char *reason)
{
	struct conn_zlib *z = c->z;
	log_info("conn session=%s peer=%s proto=%s event=inflate-failed reason=\"%s\"", c->id,
		 c->peer, metrics_proto_name(c->proto), reason != NULL ? reason : "corrupt data");
	z->inf_failed = true;
	z->inf_out_full = false;
	buf_free(&z->zin);
	/* Treated like the peer going away: what was decoded is still served,
	 * then the conn closes after its output is flushed. */
	c->peer_eof = true;
}

/* Inflate zin into the session's input while it has room. */
static void conn_inflate(struct conn *c)
{
	struct conn_zlib *z = c->z;
	while (!z->inf_failed && (z->zin.len > 0 || z->inf_out_full)) {
		size_t room = buf_room(&c->in);
		if (room == 0)
			return;
		if (room > CONN_READ_CHUNK)
			room = CONN_READ_CHUNK;
		if (!z->inf_live) {
			zstream_init(&z->inf);
			if (inflateInit2(&z->inf, CONN_DEFLATE_WBITS) != Z_OK)
				panic("conn: inflateInit2 failed");
			z->inf_live = true;
			if (z->dict != NULL) {
				if (inflateSetDictionary(&z->inf, z->dict, z->dict_len) != Z_OK)
					panic("conn: inflateSetDictionary failed");
				free(z->dict);
				z->dict = NULL;
				z->dict_len = 0;
			}
		}
		buf_reserve(&c->in, room);
		z->inf.next_in = (Bytef *)z->zin.data;
		z->inf.avail_in = (uInt)z->zin.len;
		z->inf.next_out = (Bytef *)c->in.data + c->in.len;
		z->inf.avail_out = (uInt)room;
		int ret = inflate(&z->inf, Z_SYNC_FLUSH);
		size_t used = z->zin.len - z->inf.avail_in;
		size_t made = room - z->inf.avail_out;
		c->in.len += made;
		c->in.data[c->in.len] = '\0';
		buf_consume(&z->zin, used);
		z->inf_out_full = z->inf.avail_out == 0;
		if (ret == Z_STREAM_END) {
			/* RFC 4978 has no way to end compression. */
			conn_inflate_fail(c, "deflate stream ended");
			return;
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			conn_inflate_fail(c, z->inf.msg);
			return;
		}
		if (used == 0 && made == 0)
			break;		/* an incomplete block: wait for more */
	}
	if (z->zin.len == 0)
		buf_free(&z->zin);
}

/* Release both zlib streams of a conn that has been quiet. */
static void zlib_quiet_fired(void *ctx)
{
	struct conn *c = ctx;
	struct conn_zlib *z = c->z;
	bool again = false;
	if (z->def_live) {
		/* out and zout empty: the last round ended with a sync flush. */
		if (out_pending(c) == 0) {
			deflateEnd(&z->def);
			z->def_live = false;
		} else {
			again = true;
		}
	}
	/* data_type 128 exactly: between blocks, byte-aligned, no pending
	 * output, not in the last block; the window is all that matters. */
	if (z->inf_live) {
		if (z->zin.len == 0 && !z->inf_out_full && z->inf.data_type == 128) {
			uInt len = 0;
			inflateGetDictionary(&z->inf, NULL, &len);
			if (len > 0) {
				z->dict = xmalloc(len);
				inflateGetDictionary(&z->inf, z->dict, &len);
			}
			z->dict_len = len;
			inflateEnd(&z->inf);
			z->inf_live = false;
		} else if (!z->inf_failed) {
			again = true;
		}
	}
	if (again)
		loop_timer_set(c->loop, &z->quiet_timer, zlib_quiet_ms, zlib_quiet_fired, c);
}

/* Traffic happened: push back the release of the zlib streams. */
static void conn_zlib_touch(struct conn *c)
{
	if (c->z != NULL && (c->z->def_live || c->z->inf_live) && c->state != CONN_CLOSED)
		loop_timer_set(c->loop, &c->z->quiet_timer, zlib_quiet_ms, zlib_quiet_fired, c);
}

/* The conn is closing: free both streams, buffers and the saved window. */
static void conn_zlib_free(struct conn *c)
{
	struct conn_zlib *z = c->z;
	if (z == NULL)
		return;
	loop_timer_cancel(c->loop, &z->quiet_timer);
	if (z->def_live)
		deflateEnd(&z->def);
	if (z->inf_live)
		inflateEnd(&z->inf);
	buf_free(&z->zin);
	buf_free(&z->zout);
	free(z->dict);
	free(z);
	c->z = NULL;
}

int conn_compress_start(struct conn *c)
{
	if (c->z != NULL || c->starttls_pending || c->state != CONN_OPEN)
		return -1;
	struct conn_zlib *z = xcalloc(1, sizeof(*z));
	/* Output queued so far (the reply that agreed) goes out as it is. */
	z->zout = c->out;
	buf_init(&c->out, c->out.max);
	c->out.lazy = true;
	/* Input the session has not consumed yet is already compressed. */
	z->zin = c->in;
	buf_init(&c->in, c->in.max);
	c->in.lazy = true;
	c->z = z;
	log_debug("conn session=%s peer=%s event=compress mech=deflate", c->id, c->peer);
	conn_inflate(c);
	conn_zlib_touch(c);
	conn_update_events(c);
	if (!c->in_callback && c->in.len > 0)
		loop_timer_set(c->loop, &c->kick_timer, 0, kick_fired, c);
	return 0;
}

bool conn_is_compressed(const struct conn *c)
{
	return c->z != NULL;
}

void conn_set_compress_quiet_ms(uint64_t ms)
{
	zlib_quiet_ms = ms;
}

bool conn_compress_released(const struct conn *c)
{
	return c->z != NULL && !c->z->def_live && !c->z->inf_live;
}

/* ---- closing ---- */

static void conn_finish_close(struct conn *c)
{
	if (c->state == CONN_CLOSED)
		return;
	c->state = CONN_CLOSED;
	loop_timer_cancel(c->loop, &c->idle_timer);
	loop_timer_cancel(c->loop, &c->kick_timer);
	loop_timer_cancel(c->loop, &c->line_timer);
	loop_remove(&c->io);
	if (c->ssl != NULL) {
		/* Best effort close_notify (not after a failure); never wait for
		 * the peer's. */
		ERR_clear_error();
		if (!c->aborted)
			SSL_shutdown(c->ssl);
		ERR_clear_error();
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
	conn_zlib_free(c);
	account(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conn_list = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	conn_live--;
	metrics_dec(&metrics.conn_current[c->proto]);
	if (c->ops != NULL && c->ops->closed != NULL)
		c->ops->closed(c, c->ctx);
	c->ops = NULL;
	if (c->release != NULL)
		c->release(c->release_ctx);
	/* The reference conn_create gave the loop. */
	conn_unref(&c);
}

/* Let the loop finish what was asked: conn_io completes a close, so a
 * close requested by a timer or a job completion never frees the session
 * under its caller. */
static void conn_schedule(struct conn *c)
{
	if (c->in_io)
		return;
	loop_timer_set(c->loop, &c->kick_timer, 0, c->io != NULL ? kick_fired : close_fired, c);
}

void conn_close(struct conn *c)
{
	if (c->state >= CONN_CLOSING)
		return;
	if (c->state == CONN_HANDSHAKE) {
		conn_abort(c);	/* nothing can be sent before TLS is up */
		return;
	}
	c->state = CONN_CLOSING;
	loop_timer_cancel(c->loop, &c->line_timer);
	/* Flush what is queued; give up when the idle timer fires. */
	if (out_pending(c) > 0) {
		if (c->idle_ms == 0)
			c->idle_ms = 30000;
		loop_timer_set(c->loop, &c->idle_timer, c->idle_ms, idle_fired, c);
	}
	conn_update_events(c);
	conn_schedule(c);
}

void conn_abort(struct conn *c)
{
	if (c->state == CONN_CLOSED)
		return;
	buf_free(&c->out);
	if (c->z != NULL)
		buf_free(&c->z->zout);
	c->aborted = true;
	c->state = CONN_CLOSING;
	loop_timer_cancel(c->loop, &c->line_timer);
	conn_update_events(c);
	conn_schedule(c);
}

void conn_set_partial(struct conn *c, bool partial)
{
	c->partial = partial;
	line_deadline_update(c);
}

void conn_notify_writable(struct conn *c)
{
	c->want_writable = true;
	if (!over_high(c))
		conn_schedule(c);
}

void conn_shutdown_all(void)
{
	struct conn *c = conn_list;
	while (c != NULL) {
		struct conn *next = c->next;
		conn_ref(c);
		if (c->state == CONN_OPEN && c->ops != NULL && c->ops->shutdown != NULL)
			c->ops->shutdown(c, c->ctx);
		else
			conn_close(c);
		next = c->next;
		conn_unref(&c);
		c = next;
	}
}

void conn_abort_all(void)
{
	while (conn_list != NULL)
		conn_finish_close(conn_list);
}
