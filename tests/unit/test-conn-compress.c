/* Tests for the deflate layer of server/core/conn.c (COMPRESS=DEFLATE, RFC
 * 4978) over a socketpair: a line-echo session on the loop thread, a
 * blocking client with its own zlib streams in a second thread. Covers
 * bytes pipelined after the switch, a large reply through compression with
 * the backpressure of a slow reader, the same under TLS, corrupt input
 * (the conn closes, nothing after the corruption reaches the session), and
 * the release of both zlib streams while quiet followed by input that
 * refers back into the saved inflate window. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "conn.h"
#include "loop.h"

#define BIG_SIZE (2 * 1024 * 1024)

struct fixture {
	struct loop *loop;
	struct conn *conn;
	int client_fd;
	SSL_CTX *server_ctx;
	bool tls;
	struct loop_timer poll_timer, probe_timer;
	atomic_bool client_done;
	atomic_bool released;	/* the session saw both streams released */
	bool closed;
	struct buf seen;	/* every line the session received, '|'-separated */
	void (*client)(struct fixture *f);
	int client_failures;
	char client_error[256];
};

static void client_fail(struct fixture *f, const char *msg)
{
	if (f->client_failures++ == 0)
		snprintf(f->client_error, sizeof(f->client_error), "%s", msg);
}

/* ---- the session under test ---- */

static void probe_fired(void *ctx)
{
	struct fixture *f = ctx;
	conn_printf(f->conn, "RELEASED %d\r\n", conn_compress_released(f->conn) ? 1 : 0);
}

static void echo_input(struct conn *c, void *ctx)
{
	struct fixture *f = ctx;
	struct buf *in = conn_input(c);
	for (;;) {
		char *lf = memchr(in->data, '\n', in->len);
		if (lf == NULL)
			return;
		size_t len = (size_t)(lf - in->data);
		char line[256];
		size_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
		memcpy(line, in->data, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		buf_consume(in, len + 1);
		buf_printf(&f->seen, "%s|", line);
		if (strcmp(line, "COMPRESS") == 0) {
			conn_printf(c, "OK compressing\r\n");
			assert_int_equal(conn_compress_start(c), 0);
			/* A second switch is refused. */
			assert_int_equal(conn_compress_start(c), -1);
			/* What followed the line is now inflated input. */
			in = conn_input(c);
		} else if (strcmp(line, "BIG") == 0) {
			char *big = malloc(BIG_SIZE);
			for (size_t i = 0; i < BIG_SIZE; i++)
				big[i] = (char)('a' + (i * 7 + i / 1000) % 26);
			conn_write(c, big, BIG_SIZE);
			free(big);
			conn_printf(c, "\r\nEND\r\n");
		} else if (strcmp(line, "RELEASED?") == 0) {
			/* Look once the conn has been quiet for a while: this
			 * line itself brought the streams back. */
			loop_timer_set(f->loop, &f->probe_timer, 300, probe_fired, f);
		} else if (strcmp(line, "QUIT") == 0) {
			conn_printf(c, "BYE\r\n");
			conn_close(c);
			return;
		} else {
			conn_printf(c, "ECHO %s TLS=%d Z=%d\r\n", line, conn_is_tls(c) ? 1 : 0,
				    conn_is_compressed(c) ? 1 : 0);
		}
	}
}

static void echo_closed(struct conn *c, void *ctx)
{
	struct fixture *f = ctx;
	(void)c;
	f->closed = true;
	f->conn = NULL;
}

static const struct conn_ops echo_ops = {
	.input = echo_input,
	.closed = echo_closed,
};

static SSL_CTX *make_server_ctx(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	assert_non_null(key);
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

/* ---- the client: blocking, plain or TLS, optionally compressing ---- */

struct client {
	int fd;
	SSL *ssl;
	SSL_CTX *ctx;
	bool z;
	z_stream def, inf;
	struct buf plain;	/* decoded bytes received, not yet matched */
};

static int cl_send_raw(struct client *cl, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = cl->ssl != NULL ? SSL_write(cl->ssl, p, (int)len) : write(cl->fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Deflate with a sync flush, as an IMAP client does per command. */
static void cl_deflate(struct client *cl, const char *text, struct buf *out)
{
	unsigned char tmp[65536];
	cl->def.next_in = (Bytef *)text;
	cl->def.avail_in = (uInt)strlen(text);
	do {
		cl->def.next_out = tmp;
		cl->def.avail_out = sizeof(tmp);
		assert_int_not_equal(deflate(&cl->def, Z_SYNC_FLUSH), Z_STREAM_ERROR);
		buf_append(out, tmp, sizeof(tmp) - cl->def.avail_out);
	} while (cl->def.avail_out == 0);
}

static int cl_send(struct client *cl, const char *text)
{
	if (!cl->z)
		return cl_send_raw(cl, text, strlen(text));
	struct buf b;
	buf_init(&b, 0);
	cl_deflate(cl, text, &b);
	int ret = cl_send_raw(cl, b.data, b.len);
	buf_free(&b);
	return ret;
}

/* Read until the decoded stream contains needle; returns 0, or -1 on EOF,
 * timeout or a decode error. The decoded bytes stay in cl->plain. */
static int cl_read_until(struct client *cl, const char *needle)
{
	char raw[16384], out[65536];
	while (cl->plain.data == NULL || strstr(cl->plain.data, needle) == NULL) {
		struct pollfd p = { .fd = cl->fd, .events = POLLIN };
		if (cl->ssl == NULL || SSL_pending(cl->ssl) == 0) {
			if (poll(&p, 1, 5000) <= 0)
				return -1;
		}
		ssize_t n = cl->ssl != NULL ? SSL_read(cl->ssl, raw, sizeof(raw)) :
					      read(cl->fd, raw, sizeof(raw));
		if (n <= 0)
			return -1;
		if (!cl->z) {
			buf_append(&cl->plain, raw, (size_t)n);
			continue;
		}
		cl->inf.next_in = (Bytef *)raw;
		cl->inf.avail_in = (uInt)n;
		do {
			cl->inf.next_out = (Bytef *)out;
			cl->inf.avail_out = sizeof(out);
			int ret = inflate(&cl->inf, Z_SYNC_FLUSH);
			if (ret != Z_OK && ret != Z_BUF_ERROR)
				return -1;
			buf_append(&cl->plain, out, sizeof(out) - cl->inf.avail_out);
		} while (cl->inf.avail_out == 0);
	}
	return 0;
}

/* Expect the decoded stream to start with exactly text; consume it. */
static bool cl_expect(struct client *cl, const char *text)
{
	if (cl_read_until(cl, text) < 0 || cl->plain.len < strlen(text) ||
	    memcmp(cl->plain.data, text, strlen(text)) != 0)
		return false;
	buf_consume(&cl->plain, strlen(text));
	return true;
}

/* True once the server has closed: EOF (TLS may end without close_notify). */
static bool cl_eof(struct client *cl)
{
	char c[256];
	for (;;) {
		struct pollfd p = { .fd = cl->fd, .events = POLLIN };
		if ((cl->ssl == NULL || SSL_pending(cl->ssl) == 0) && poll(&p, 1, 5000) <= 0)
			return false;
		ssize_t n = cl->ssl != NULL ? SSL_read(cl->ssl, c, sizeof(c)) : read(cl->fd, c, sizeof(c));
		if (n <= 0)
			return true;
	}
}

static int cl_open(struct fixture *f, struct client *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->fd = f->client_fd;
	buf_init(&cl->plain, 0);
	if (f->tls) {
		cl->ctx = SSL_CTX_new(TLS_client_method());
		cl->ssl = SSL_new(cl->ctx);
		SSL_set_fd(cl->ssl, cl->fd);
		if (SSL_connect(cl->ssl) != 1)
			return -1;
	}
	return 0;
}

static void cl_start_z(struct client *cl)
{
	assert_int_equal(deflateInit2(&cl->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	assert_int_equal(inflateInit2(&cl->inf, -15), Z_OK);
	cl->z = true;
}

static void cl_close(struct client *cl)
{
	if (cl->z) {
		deflateEnd(&cl->def);
		inflateEnd(&cl->inf);
	}
	if (cl->ssl != NULL)
		SSL_free(cl->ssl);
	if (cl->ctx != NULL)
		SSL_CTX_free(cl->ctx);
	buf_free(&cl->plain);
}

/* HELLO, then COMPRESS with two commands deflated into the same write. */
static bool cl_switch(struct fixture *f, struct client *cl)
{
	struct buf req;
	buf_init(&req, 0);
	buf_append_str(&req, "HELLO\r\nCOMPRESS\r\n");
	cl_start_z(cl);
	cl_deflate(cl, "A\r\nB\r\n", &req);
	bool ok = cl_send_raw(cl, req.data, req.len) == 0;
	buf_free(&req);
	int tls = f->tls ? 1 : 0;
	char hello[64];
	snprintf(hello, sizeof(hello), "ECHO HELLO TLS=%d Z=0\r\nOK compressing\r\n", tls);
	/* The replies up to the OK are plaintext, the rest is deflated. */
	cl->z = false;
	if (!ok || !cl_expect(cl, hello)) {
		client_fail(f, "no plaintext reply before the switch");
		return false;
	}
	cl->z = true;
	if (cl->plain.len > 0) {
		/* Plain bytes read past the OK are compressed: decode them. */
		struct buf raw = cl->plain;
		buf_init(&cl->plain, 0);
		char out[4096];
		cl->inf.next_in = (Bytef *)raw.data;
		cl->inf.avail_in = (uInt)raw.len;
		do {
			cl->inf.next_out = (Bytef *)out;
			cl->inf.avail_out = sizeof(out);
			inflate(&cl->inf, Z_SYNC_FLUSH);
			buf_append(&cl->plain, out, sizeof(out) - cl->inf.avail_out);
		} while (cl->inf.avail_out == 0);
		buf_free(&raw);
	}
	char ab[128];
	snprintf(ab, sizeof(ab), "ECHO A TLS=%d Z=1\r\nECHO B TLS=%d Z=1\r\n", tls, tls);
	if (!cl_expect(cl, ab)) {
		client_fail(f, "pipelined compressed commands not answered compressed");
		return false;
	}
	return true;
}

static void client_big(struct fixture *f)
{
	struct client cl;
	if (cl_open(f, &cl) < 0)
		return client_fail(f, "TLS handshake failed");
	if (!cl_switch(f, &cl))
		goto out;
	if (cl_send(&cl, "BIG\r\n") < 0)
		return client_fail(f, "write");
	/* A slow reader first, so the server's output backs up. */
	usleep(100 * 1000);
	if (cl_read_until(&cl, "\r\nEND\r\n") < 0) {
		client_fail(f, "big reply not decoded");
		goto out;
	}
	if (cl.plain.len != BIG_SIZE + 7) {
		client_fail(f, "big reply has the wrong length");
		goto out;
	}
	for (size_t i = 0; i < BIG_SIZE; i++) {
		if (cl.plain.data[i] != (char)('a' + (i * 7 + i / 1000) % 26)) {
			client_fail(f, "big reply corrupt");
			goto out;
		}
	}
	buf_reset(&cl.plain);
	/* A long line in one deflated write: inflated in bounded steps. */
	struct buf longline;
	buf_init(&longline, 0);
	for (int i = 0; i < 200; i++)
		buf_append_str(&longline, "x");
	buf_append_str(&longline, "\r\nQUIT\r\n");
	if (cl_send(&cl, longline.data) < 0 || !cl_expect(&cl, "ECHO ") ||
	    cl_read_until(&cl, "BYE\r\n") < 0)
		client_fail(f, "no answer after the big reply");
	else if (!cl_eof(&cl))
		client_fail(f, "no EOF after BYE");
	buf_free(&longline);
out:
	cl_close(&cl);
}

static void client_garbage(struct fixture *f)
{
	struct client cl;
	if (cl_open(f, &cl) < 0)
		return client_fail(f, "TLS handshake failed");
	if (!cl_switch(f, &cl))
		goto out;
	/* 0xff starts a block of reserved type 3: a data error at once. */
	const char junk[] = "\xff\xff\xff\xffNOT DEFLATE\r\n";
	if (cl_send_raw(&cl, junk, sizeof(junk) - 1) < 0)
		client_fail(f, "write");
	else if (!cl_eof(&cl))
		client_fail(f, "conn not closed after corrupt input");
out:
	cl_close(&cl);
}

static void client_release(struct fixture *f)
{
	struct client cl;
	if (cl_open(f, &cl) < 0)
		return client_fail(f, "TLS handshake failed");
	if (!cl_switch(f, &cl))
		goto out;
	/* Long enough for back-references once it is sent again. */
	const char *cmd = "REPEAT-ME-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789\r\n";
	char want[256];
	snprintf(want, sizeof(want), "ECHO %.*s TLS=%d Z=1\r\n", (int)strlen(cmd) - 2, cmd,
		 f->tls ? 1 : 0);
	if (cl_send(&cl, cmd) < 0 || !cl_expect(&cl, want))
		return client_fail(f, "first command");
	/* The server looks 300 ms later (quiet time is 50 ms). */
	if (cl_send(&cl, "RELEASED?\r\n") < 0 || !cl_expect(&cl, "RELEASED 1\r\n")) {
		client_fail(f, "zlib streams not released while quiet");
		goto out;
	}
	usleep(300 * 1000);
	/* The deflated form of cmd is now mostly a back-reference into the
	 * window the server saved as a dictionary. */
	uLong before = cl.def.total_out;
	if (cl_send(&cl, cmd) < 0 || !cl_expect(&cl, want)) {
		client_fail(f, "back-reference across a release not decoded");
		goto out;
	}
	if (cl.def.total_out - before >= strlen(cmd) / 2)
		client_fail(f, "the test did not send a back-reference");
	if (cl_send(&cl, "QUIT\r\n") < 0 || !cl_expect(&cl, "BYE\r\n"))
		client_fail(f, "no BYE");
out:
	cl_close(&cl);
}

static void *client_main(void *arg)
{
	struct fixture *f = arg;
	f->client(f);
	atomic_store(&f->client_done, true);
	return NULL;
}

static void poll_done(void *ctx)
{
	struct fixture *f = ctx;
	if (atomic_load(&f->client_done))
		loop_stop(f->loop);
	else
		loop_timer_set(f->loop, &f->poll_timer, 5, poll_done, f);
}

static void run_case(void (*client)(struct fixture *f), bool tls, const char *expect_seen)
{
	struct fixture f;
	memset(&f, 0, sizeof(f));
	buf_init(&f.seen, 0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, 0), 0);
	/* Small socket buffers, so a big reply really backs up. */
	int small = 16384;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	f.loop = loop_create();
	f.server_ctx = make_server_ctx();
	f.tls = tls;
	f.client_fd = sv[1];
	f.client = client;
	conn_set_compress_quiet_ms(50);
	f.conn = conn_create(f.loop, sv[0], NULL, 0, METRICS_IMAP, tls ? f.server_ctx : NULL);
	conn_set_ops(f.conn, &echo_ops, &f);
	conn_start(f.conn);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, client_main, &f), 0);
	loop_timer_set(f.loop, &f.poll_timer, 5, poll_done, &f);
	loop_run(f.loop);
	pthread_join(th, NULL);
	if (f.client_failures > 0)
		fail_msg("client: %s (session saw: %s)", f.client_error, f.seen.data ? f.seen.data : "");
	assert_true(f.closed);
	assert_string_equal(f.seen.data != NULL ? f.seen.data : "", expect_seen);
	if (f.conn != NULL)
		conn_abort(f.conn);
	assert_int_equal(conn_count(), 0);
	loop_timer_cancel(f.loop, &f.poll_timer);
	loop_timer_cancel(f.loop, &f.probe_timer);
	close(sv[1]);
	SSL_CTX_free(f.server_ctx);
	loop_destroy(&f.loop);
	buf_free(&f.seen);
}

/* What the session sees in the big case: the 200-byte line in one piece. */
static char *big_seen(void)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "HELLO|COMPRESS|A|B|BIG|");
	for (int i = 0; i < 200; i++)
		buf_append_str(&b, "x");
	buf_append_str(&b, "|QUIT|");
	return b.data;
}

#define REL_SEEN "HELLO|COMPRESS|A|B|REPEAT-ME-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789|" \
	"RELEASED?|REPEAT-ME-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789|QUIT|"

static void test_big_plain(void **state)
{
	(void)state;
	char *seen = big_seen();
	run_case(client_big, false, seen);
	free(seen);
}

static void test_big_tls(void **state)
{
	(void)state;
	char *seen = big_seen();
	run_case(client_big, true, seen);
	free(seen);
}

static void test_garbage_closes(void **state)
{
	(void)state;
	run_case(client_garbage, false, "HELLO|COMPRESS|A|B|");
}

static void test_garbage_closes_tls(void **state)
{
	(void)state;
	run_case(client_garbage, true, "HELLO|COMPRESS|A|B|");
}

static void test_release_and_resume(void **state)
{
	(void)state;
	run_case(client_release, false, REL_SEEN);
}

static void test_release_and_resume_tls(void **state)
{
	(void)state;
	run_case(client_release, true, REL_SEEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_plain),
		cmocka_unit_test(test_big_tls),
		cmocka_unit_test(test_garbage_closes),
		cmocka_unit_test(test_garbage_closes_tls),
		cmocka_unit_test(test_release_and_resume),
		cmocka_unit_test(test_release_and_resume_tls),
	};
	return cmocka_run_group_tests_name("conn-compress", tests, NULL, NULL);
}
