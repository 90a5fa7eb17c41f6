/* Tests for server/core/conn.c over a socketpair: a tiny line-echo session
 * on the loop thread, a blocking client in a second thread. Covers pipelined
 * input, STARTTLS discarding plaintext sent before the handshake, pause and
 * resume, close-after-flush of a large reply, and the idle timeout. */
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

#include "conn.h"
#include "loop.h"

struct fixture {
	struct loop *loop;
	struct conn *conn;
	int client_fd;
	SSL_CTX *server_ctx;
	struct loop_timer poll_timer, resume_timer;
	atomic_bool client_done;
	bool closed;
	struct buf seen;	/* every line the session received, '|'-separated */
	/* What the session had received when the resume timer fired: while
	 * paused it must not have been given a single further line. */
	char seen_at_resume[256];
	bool resumed;
	/* The client thread's script. */
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

static void resume_fired(void *ctx)
{
	struct fixture *f = ctx;
	snprintf(f->seen_at_resume, sizeof(f->seen_at_resume), "%s",
		 f->seen.data != NULL ? f->seen.data : "");
	f->resumed = true;
	conn_pause(f->conn, false);
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
		if (strcmp(line, "STARTTLS") == 0) {
			conn_printf(c, "OK begin TLS\r\n");
			assert_int_equal(conn_starttls(c, f->server_ctx), 0);
			return;
		} else if (strcmp(line, "PAUSE") == 0) {
			conn_printf(c, "PAUSED\r\n");
			conn_pause(c, true);
			loop_timer_set(f->loop, &f->resume_timer, 50, resume_fired, f);
			return;
		} else if (strcmp(line, "BIG") == 0) {
			char *big = malloc(1024 * 1024);
			memset(big, 'x', 1024 * 1024);
			conn_write(c, big, 1024 * 1024);
			free(big);
			conn_close(c);
			return;
		} else if (strcmp(line, "QUIT") == 0) {
			conn_printf(c, "BYE\r\n");
			conn_close(c);
			return;
		} else {
			conn_printf(c, "ECHO %s TLS=%d\r\n", line, conn_is_tls(c) ? 1 : 0);
		}
	}
}

static void echo_closed(struct conn *c, void *ctx)
{
	struct fixture *f = ctx;
	f->closed = true;
	f->conn = NULL;
}

static const struct conn_ops echo_ops = {
	.input = echo_input,
	.closed = echo_closed,
};

/* ---- a throwaway certificate ---- */

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

/* ---- client helpers (blocking, on the client thread) ---- */

static int read_until(int fd, SSL *ssl, char *out, size_t max, const char *needle)
{
	size_t len = 0;
	out[0] = '\0';
	while (strstr(out, needle) == NULL && len < max - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (ssl == NULL || SSL_pending(ssl) == 0) {
			if (poll(&p, 1, 3000) <= 0)
				return -1;
		}
		ssize_t n = ssl != NULL ? SSL_read(ssl, out + len, (int)(max - 1 - len)) :
					  read(fd, out + len, max - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		out[len] = '\0';
	}
	return (int)len;
}

static void client_starttls(struct fixture *f)
{
	char buf[4096];
	/* The injection: a command pipelined after STARTTLS in the same packet. */
	const char *req = "HELLO\r\nSTARTTLS\r\nINJECTED\r\n";
	if (write(f->client_fd, req, strlen(req)) != (ssize_t)strlen(req))
		return client_fail(f, "write");
	if (read_until(f->client_fd, NULL, buf, sizeof(buf), "OK begin TLS\r\n") < 0)
		return client_fail(f, "no STARTTLS reply");
	if (strstr(buf, "ECHO HELLO TLS=0") == NULL)
		return client_fail(f, "HELLO not answered in plaintext");
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(cctx);
	SSL_set_fd(ssl, f->client_fd);
	if (SSL_connect(ssl) != 1) {
		client_fail(f, "TLS handshake failed");
	} else {
		SSL_write(ssl, "AFTER\r\nQUIT\r\n", 13);
		if (read_until(f->client_fd, ssl, buf, sizeof(buf), "BYE\r\n") < 0)
			client_fail(f, "no reply over TLS");
		else if (strstr(buf, "ECHO AFTER TLS=1\r\n") == NULL || strstr(buf, "INJECTED") != NULL)
			client_fail(f, "wrong reply over TLS");
	}
	SSL_free(ssl);
	SSL_CTX_free(cctx);
}

static void client_pipelined_pause(struct fixture *f)
{
	char buf[4096];
	const char *req = "A\r\nPAUSE\r\nB\nC\r\nQUIT\r\n";
	if (write(f->client_fd, req, strlen(req)) != (ssize_t)strlen(req))
		return client_fail(f, "write");
	if (read_until(f->client_fd, NULL, buf, sizeof(buf), "BYE\r\n") < 0)
		return client_fail(f, "no BYE");
	if (strcmp(buf, "ECHO A TLS=0\r\nPAUSED\r\nECHO B TLS=0\r\nECHO C TLS=0\r\nBYE\r\n") != 0)
		client_fail(f, "replies out of order");
	if (read(f->client_fd, buf, 1) != 0)
		client_fail(f, "no EOF after BYE");
}

static void client_big(struct fixture *f)
{
	if (write(f->client_fd, "BIG\r\n", 5) != 5)
		return client_fail(f, "write");
	/* Read slowly at first so the server's socket buffer fills up. */
	usleep(100 * 1000);
	size_t total = 0;
	char buf[65536];
	for (;;) {
		ssize_t n = read(f->client_fd, buf, sizeof(buf));
		if (n < 0)
			return client_fail(f, "read error");
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != 'x')
				return client_fail(f, "corrupt byte");
		}
		total += (size_t)n;
	}
	if (total != 1024 * 1024)
		client_fail(f, "short reply before close");
}

static void client_idle(struct fixture *f)
{
	char c;
	struct pollfd p = { .fd = f->client_fd, .events = POLLIN };
	if (poll(&p, 1, 3000) != 1 || read(f->client_fd, &c, 1) != 0)
		client_fail(f, "idle connection not closed");
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

static void run_case(void (*client)(struct fixture *f), uint64_t idle_ms, bool expect_closed,
		     const char *expect_seen, const char *expect_seen_at_resume)
{
	struct fixture f;
	memset(&f, 0, sizeof(f));
	buf_init(&f.seen, 0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	/* The client side blocks. */
	assert_int_equal(fcntl(sv[1], F_SETFL, 0), 0);
	f.loop = loop_create();
	f.server_ctx = make_server_ctx();
	f.client_fd = sv[1];
	f.client = client;
	f.conn = conn_create(f.loop, sv[0], NULL, 0, METRICS_IMAP, NULL);
	conn_set_ops(f.conn, &echo_ops, &f);
	if (idle_ms > 0)
		conn_set_idle_timeout(f.conn, idle_ms);
	conn_start(f.conn);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, client_main, &f), 0);
	loop_timer_set(f.loop, &f.poll_timer, 5, poll_done, &f);
	loop_run(f.loop);
	pthread_join(th, NULL);
	if (f.client_failures > 0)
		fail_msg("client: %s (session saw: %s)", f.client_error, f.seen.data ? f.seen.data : "");
	assert_int_equal(f.closed, expect_closed);
	/* What the session was given, line by line: nothing else. */
	assert_string_equal(f.seen.data != NULL ? f.seen.data : "", expect_seen);
	if (expect_seen_at_resume != NULL) {
		assert_true(f.resumed);
		assert_string_equal(f.seen_at_resume, expect_seen_at_resume);
	}
	if (f.conn != NULL)
		conn_abort(f.conn);
	assert_int_equal(conn_count(), 0);
	loop_timer_cancel(f.loop, &f.poll_timer);
	loop_timer_cancel(f.loop, &f.resume_timer);
	close(sv[1]);
	SSL_CTX_free(f.server_ctx);
	loop_destroy(&f.loop);
	buf_free(&f.seen);
}

static void test_starttls_discards_injected_plaintext(void **state)
{
	run_case(client_starttls, 0, true, "HELLO|STARTTLS|AFTER|QUIT|", NULL);
}

static void test_pipelined_with_pause(void **state)
{
	/* B, C and QUIT were in the socket (most likely in the very read that
	 * brought PAUSE), yet the session saw none of them until it resumed. */
	run_case(client_pipelined_pause, 0, true, "A|PAUSE|B|C|QUIT|", "A|PAUSE|");
}

static void test_close_flushes_large_reply(void **state)
{
	run_case(client_big, 0, true, "BIG|", NULL);
}

static void test_idle_timeout_closes(void **state)
{
	run_case(client_idle, 100, true, "", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_with_pause),
		cmocka_unit_test(test_starttls_discards_injected_plaintext),
		cmocka_unit_test(test_close_flushes_large_reply),
		cmocka_unit_test(test_idle_timeout_closes),
	};
	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
