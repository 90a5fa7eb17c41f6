/* A client connection: non-blocking socket, optional TLS (implicit or
 * STARTTLS), bounded input and output buffers and an idle timer. Protocol
 * sessions sit on top through struct conn_ops and never call read/write/SSL_*
 * themselves. Everything here runs on the loop thread. */
#ifndef CAIRN_CONN_H
#define CAIRN_CONN_H

#include "util.h"
#include "metrics.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

struct loop;
struct conn;

enum conn_timeout {
	CONN_TIMEOUT_IDLE,	/* nothing read for the idle timeout */
	CONN_TIMEOUT_LINE,	/* a command line took too long to complete */
	CONN_TIMEOUT_BODY,	/* a message body or literal took too long (session.c) */
};

struct conn_ops {
	/* New bytes are in conn_input(c); consume what was used with
	 * buf_consume(). Not called while the conn is paused. */
	void (*input)(struct conn *c, void *ctx);
	/* The idle timer fired, or a partial command line did not complete in
	 * time (conn_set_limits). NULL: the conn is closed. */
	void (*timeout)(struct conn *c, void *ctx, enum conn_timeout why);
	/* Output fell below its bound after conn_notify_writable. Optional. */
	void (*writable)(struct conn *c, void *ctx);
	/* The server is shutting down: finish the current work and close.
	 * NULL: the conn is closed once its output is flushed. */
	void (*shutdown)(struct conn *c, void *ctx);
	/* The conn is going away (closed by either side): free session state.
	 * Called exactly once; ctx must not be used by the conn afterwards. */
	void (*closed)(struct conn *c, void *ctx);
};

/* Wrap an accepted, non-blocking fd. With tls_ctx != NULL the TLS handshake
 * (implicit TLS) runs before any input is delivered. The conn owns fd. It
 * starts with one reference, which conn_close/conn_abort gives up. */
struct conn *conn_create(struct loop *loop, int fd, const struct sockaddr *peer,
			 socklen_t peer_len, enum metrics_proto proto, SSL_CTX *tls_ctx);
/* Attach the session; call before conn_start. */
void conn_set_ops(struct conn *c, const struct conn_ops *ops, void *ctx);
/* Called when the conn is freed, to release connection-limit slots. */
void conn_set_release(struct conn *c, void (*release)(void *ctx), void *ctx);
/* Begin serving: TLS handshake if implicit, then reading. */
void conn_start(struct conn *c);

/* Pending input, bounded by conn_set_input_max (default 64 KiB). */
struct buf *conn_input(struct conn *c);
void conn_set_input_max(struct conn *c, size_t max);
/* Idle timeout in ms, restarted by every read; 0 disables. */
void conn_set_idle_timeout(struct conn *c, uint64_t ms);
/* Start the idle timeout over (the wait was not the client's). */
void conn_idle_restart(struct conn *c);

/* Queue bytes for sending (sent as soon as the socket allows). Returns 0, or
 * -1 when the conn is closing. */
int conn_write(struct conn *c, const void *data, size_t len);
int conn_printf(struct conn *c, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* While corked, writes are only queued; uncorking sends them at once, so a
 * status line and the data after it leave in one segment. */
void conn_cork(struct conn *c, bool corked);
/* Bytes queued but not yet written. */
size_t conn_output_pending(const struct conn *c);

/* Back-pressure and slow-client bounds for every conn: above output_max
 * bytes of pending output a conn stops reading (and its session gets no
 * input) until the client has read below it; above output_total_max over
 * all conns (0: none), every conn with output waiting stops. A TLS
 * handshake must finish within tls_handshake_ms, a partial command line
 * within line_timeout_ms (0: no bound). */
void conn_set_limits(size_t output_max, size_t output_total_max, uint64_t tls_handshake_ms,
		     uint64_t line_timeout_ms);
/* Pending output over all conns, in bytes. */
size_t conn_output_total(void);
/* True while c's output is over its bound (input is held back). */
bool conn_output_blocked(const struct conn *c);
/* The session consumed the start of a command (or request head) it keeps
 * itself: the line bound applies as if the bytes were still in the input. */
void conn_set_partial(struct conn *c, bool partial);
/* Call ops->writable once, from the loop, when c's output is below its
 * bound (at once if it already is). */
void conn_notify_writable(struct conn *c);

/* Stop (true) or resume (false) delivering input: a job is in flight. Input
 * that arrives meanwhile waits in the buffer (up to its max). */
void conn_pause(struct conn *c, bool paused);
/* Close after the queued output is flushed. Idempotent. The close always
 * completes later, on the loop (ops->closed never runs under the caller),
 * so a caller may go on using its session after asking. */
void conn_close(struct conn *c);
/* Close without sending what is queued. Idempotent; deferred the same way. */
void conn_abort(struct conn *c);
/* True once conn_close/conn_abort was called or the peer went away. */
bool conn_is_closing(const struct conn *c);

/* STARTTLS: discard any input buffered so far (plaintext that a client
 * pipelined after the command must not be read as if it came over TLS),
 * flush the queued plaintext reply, then run the TLS handshake. Returns -1
 * if TLS is already active. */
int conn_starttls(struct conn *c, SSL_CTX *tls_ctx);
bool conn_is_tls(const struct conn *c);

/* Compression (IMAP COMPRESS=DEFLATE, RFC 4978): from now on both
 * directions are a raw deflate stream (RFC 1951) inside TLS, if any. Output
 * queued before the call (the reply agreeing to it) is still sent as is;
 * input the session has not consumed yet is compressed data. Every batch of
 * output ends with a sync flush; corrupt input closes the conn after its
 * output is flushed. Returns -1 if already active or STARTTLS is pending. */
int conn_compress_start(struct conn *c);
bool conn_is_compressed(const struct conn *c);
/* How long a compressed conn must be quiet before its zlib streams are
 * released (default 5 s; tests shorten it), and whether they are. */
void conn_set_compress_quiet_ms(uint64_t ms);
bool conn_compress_released(const struct conn *c);
/* The peer is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool conn_is_loopback(const struct conn *c);
/* TLS is active, or loopback_is_secure and the peer is loopback. */
bool conn_is_secure(const struct conn *c, bool loopback_is_secure);

/* "203.0.113.7" / "2001:db8::1": the peer address as text. */
const char *conn_peer_addr(const struct conn *c);
/* A short hex id for log lines ("session=7f3a01"). */
const char *conn_id(const struct conn *c);
struct loop *conn_loop(const struct conn *c);

/* Keep c allocated across asynchronous work (a job). */
void conn_ref(struct conn *c);
/* Drop a reference; frees the conn at zero. Sets *c to NULL. */
void conn_unref(struct conn **c);

/* Number of live connections (all protocols). */
unsigned conn_count(void);
/* Ask every connection to finish (ops->shutdown or close). */
void conn_shutdown_all(void);
/* Close every connection at once (shutdown timeout passed). */
void conn_abort_all(void);

#endif
