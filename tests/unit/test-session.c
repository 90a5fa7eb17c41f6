/* Tests for the session runtime (server/core/session.c) over a socketpair
 * with a real loop and worker pool: the client goes away while a job is in
 * flight, while a failed-login reply is held back, and while a batched job
 * waits for the client to read; a client that never reads; a close asked
 * for from a job's completion; the body deadline. Under ASan a use after
 * free in any of these paths fails the test. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conn.h"
#include "loop.h"
#include "session.h"
#include "worker.h"

struct test_session {
	struct session rt;	/* first */
	unsigned inputs;	/* input callbacks */
	unsigned lines;		/* command lines taken */
	unsigned timeouts[3];
	bool *freed;		/* set by ops->free, which must run once */
	unsigned *frees;
};

struct test_job {
	struct session_job base;
	atomic_bool *release;	/* run() blocks until it is set */
	unsigned rounds;	/* "again" rounds still to run */
	bool close_in_done;
	unsigned *done_calls, *orphaned_frees, *frees;
};

static struct loop *loop;
static int last_timeout = -1;	/* the reason of the last ops->timeout */
static struct worker_pool *pool;
static struct loop_timer stop_timer;

static void stop_fired(void *ctx)
{
	(void)ctx;
	loop_stop(loop);
}

/* Run the loop for ms milliseconds. */
static void run_for(uint64_t ms)
{
	loop_timer_set(loop, &stop_timer, ms, stop_fired, NULL);
	loop_run(loop);
}

static void ts_input(struct session *rt)
{
	struct test_session *s = (struct test_session *)rt;
	struct buf *in = conn_input(rt->conn);
	s->inputs++;
	while (!session_busy(rt)) {
		char *lf = memchr(in->data, '\n', in->len);
		if (lf == NULL)
			return;
		buf_consume(in, (size_t)(lf - in->data) + 1);
		s->lines++;
		/* Every command answers 1 KiB: a client that never reads
		 * fills the output. */
		char reply[1024];
		memset(reply, 'r', sizeof(reply) - 2);
		memcpy(reply + sizeof(reply) - 2, "\r\n", 2);
		conn_write(rt->conn, reply, sizeof(reply));
	}
}

static void ts_timeout(struct session *rt, enum conn_timeout why)
{
	struct test_session *s = (struct test_session *)rt;
	s->timeouts[why]++;
	last_timeout = (int)why;
	session_close(rt);
}

static void ts_free(struct session *rt)
{
	struct test_session *s = (struct test_session *)rt;
	assert_false(*s->freed);
	*s->freed = true;
	(*s->frees)++;
	free(s);
}

static const struct session_ops ts_ops = {
	.input = ts_input,
	.timeout = ts_timeout,
	.free = ts_free,
};

static void tj_run(struct session_job *job, struct worker *w)
{
	struct test_job *j = (struct test_job *)job;
	(void)w;
	while (j->release != NULL && !atomic_load(j->release))
		usleep(1000);
}

static void tj_done(struct session *rt, struct session_job *job)
{
	struct test_job *j = (struct test_job *)job;
	(*j->done_calls)++;
	/* Writing and closing here must not free the session under us. */
	conn_write(rt->conn, "DONE\r\n", 6);
	if (j->rounds > 0) {
		j->rounds--;
		char big[64 * 1024];
		memset(big, 'b', sizeof(big));
		conn_write(rt->conn, big, sizeof(big));
		session_job_again(rt, job);
		return;
	}
	if (j->close_in_done)
		session_close(rt);
	/* Still usable after asking to close. */
	assert_non_null(rt->conn);
}

static void tj_free(struct session_job *job, bool orphaned)
{
	struct test_job *j = (struct test_job *)job;
	(*j->frees)++;
	if (orphaned)
		(*j->orphaned_frees)++;
	free(j);
}

static int setup(void **state)
{
	(void)state;
	loop = loop_create();
	pool = worker_pool_create(loop, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	conn_abort_all();
	run_for(20);
	worker_pool_destroy(&pool);
	loop_destroy(&loop);
	return 0;
}

/* A connected pair of TCP sockets on loopback (a reset needs TCP). */
static void tcp_pair(int sv[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	sv[1] = socket(AF_INET, SOCK_STREAM, 0);
	/* Small kernel buffers: what the server holds is what is measured. */
	int small = 8192;
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(connect(sv[1], (struct sockaddr *)&sin, sizeof(sin)), 0);
	sv[0] = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	assert_true(sv[0] >= 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	close(l);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

/* Close with a TCP reset (SO_LINGER 0), as an attacker does. */
static void reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* A session on one end of a socketpair; the other end is returned. */
static struct test_session *new_session(int *client_r, bool *freed, unsigned *frees)
{
	int sv[2];
	tcp_pair(sv);
	struct conn *c = conn_create(loop, sv[0], NULL, 0, METRICS_IMAP, NULL);
	struct test_session *s = calloc(1, sizeof(*s));
	s->freed = freed;
	s->frees = frees;
	session_init(&s->rt, c, pool, &ts_ops, "test");
	conn_start(c);
	*client_r = sv[1];
	return s;
}

static struct test_job *new_job(atomic_bool *release, unsigned *done_calls,
				unsigned *orphaned, unsigned *frees)
{
	struct test_job *j = calloc(1, sizeof(*j));
	session_job_init(&j->base, tj_run, tj_done, tj_free);
	j->release = release;
	j->done_calls = done_calls;
	j->orphaned_frees = orphaned;
	j->frees = frees;
	return j;
}

/* The client resets while a job runs: done is never called, the job is
 * freed as orphaned, and the session is freed once, after the job. */
static void test_reset_during_job(void **state)
{
	(void)state;
	bool freed = false;
	unsigned sess_frees = 0, done_calls = 0, orphaned = 0, job_frees = 0;
	atomic_bool release = false;
	int client;
	struct test_session *s = new_session(&client, &freed, &sess_frees);
	session_submit(&s->rt, &new_job(&release, &done_calls, &orphaned, &job_frees)->base);
	assert_true(session_busy(&s->rt));
	reset(client);
	run_for(50);
	/* The conn is gone, the job is not: the session must still exist. */
	assert_false(freed);
	atomic_store(&release, true);
	run_for(100);
	assert_true(freed);
	assert_int_equal(sess_frees, 1);
	assert_int_equal(done_calls, 0);
	assert_int_equal(job_frees, 1);
	assert_int_equal(orphaned, 1);
}

/* A failed login's answer is held back; the client is gone when it is
 * finally written: the write fails, the close is deferred, and the timer
 * callback goes on with a live session (wave 1's double free). */
static void test_reset_during_held_reply(void **state)
{
	(void)state;
	bool freed = false;
	unsigned sess_frees = 0;
	int client;
	struct test_session *s = new_session(&client, &freed, &sess_frees);
	session_reply_later(&s->rt, "a NO [AUTHENTICATIONFAILED]\r\n", 29, 30);
	assert_true(session_busy(&s->rt));
	/* Seen when read or when the reply is written, whichever first. */
	reset(client);
	run_for(150);
	assert_true(freed);
	assert_int_equal(sess_frees, 1);
}

/* A job's done() writes, then asks to close: the session lives until the
 * loop completes the close after done() returned; output is flushed. */
static void test_close_from_job_done(void **state)
{
	(void)state;
	bool freed = false;
	unsigned sess_frees = 0, done_calls = 0, orphaned = 0, job_frees = 0;
	int client;
	struct test_session *s = new_session(&client, &freed, &sess_frees);
	struct test_job *j = new_job(NULL, &done_calls, &orphaned, &job_frees);
	j->close_in_done = true;
	session_submit(&s->rt, &j->base);
	run_for(100);
	assert_int_equal(done_calls, 1);
	assert_int_equal(orphaned, 0);
	assert_true(freed);
	char buf[64];
	ssize_t n = read(client, buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "DONE\r\n", 6);
	assert_int_equal(read(client, buf, sizeof(buf)), 0);	/* closed after the flush */
	close(client);
}

/* A client that sends commands and never reads: the session stops getting
 * input once the output is over its bound, so the output stays bounded. */
static void test_never_reading_client_is_bounded(void **state)
{
	(void)state;
	bool freed = false;
	unsigned sess_frees = 0;
	int client;
	conn_set_limits(64 * 1024, 0, 30000, 60000);
	struct test_session *s = new_session(&client, &freed, &sess_frees);
	char cmds[100 * 8];
	for (size_t i = 0; i < sizeof(cmds); i += 8)
		memcpy(cmds + i, "a NOOP\r\n", 8);
	size_t sent = 0;
	for (int round = 0; round < 200; round++) {
		ssize_t n = write(client, cmds, sizeof(cmds));
		if (n > 0)
			sent += (size_t)n;
		run_for(2);
	}
	/* About 64 KiB of replies (plus what the socket buffers hold) and
	 * then nothing more: 1 KiB per line, 160,000 lines offered. */
	assert_true(sent > 0);
	print_message("lines=%u pending=%zu\n", s->lines, conn_output_pending(s->rt.conn));
	assert_true(s->lines < 1000);
	assert_true(conn_output_pending(s->rt.conn) < 64 * 1024 + 2048);
	assert_true(conn_output_blocked(s->rt.conn));
	/* It reads everything: the session takes commands again. */
	unsigned before = s->lines;
	char sink[65536];
	for (int round = 0; round < 50; round++) {
		while (read(client, sink, sizeof(sink)) > 0)
			;
		run_for(2);
	}
	assert_true(s->lines > before);
	close(client);
	run_for(50);
	assert_true(freed);
	conn_set_limits(256 * 1024, 0, 30000, 60000);
}

/* A batched job runs again only once the client has read its output; if
 * the client goes away between rounds, the job is freed as orphaned and the
 * session right after it. */
static void test_batched_job_waits_for_reader(void **state)
{
	(void)state;
	bool freed = false;
	unsigned sess_frees = 0, done_calls = 0, orphaned = 0, job_frees = 0;
	int client;
	conn_set_limits(64 * 1024, 0, 30000, 60000);
	struct test_session *s = new_session(&client, &freed, &sess_frees);
	struct test_job *j = new_job(NULL, &done_calls, &orphaned, &job_frees);
	j->rounds = 100;
	session_submit(&s->rt, &j->base);
	run_for(200);
	/* 64 KiB per round; the socket buffer takes some; then it waits. */
	assert_true(done_calls >= 1);
	assert_true(done_calls < 10);
	unsigned waited = done_calls;
	run_for(100);
	assert_int_equal(done_calls, waited);
	assert_false(freed);
	close(client);
	run_for(100);
	assert_true(freed);
	assert_int_equal(job_frees, 1);
	assert_int_equal(orphaned, 1);
	conn_set_limits(256 * 1024, 0, 30000, 60000);
}

/* A partial command line trickling in hits the line bound; a body that
 * trickles in hits the body bound; whole lines in time are fine. */
static void test_line_and_body_deadlines(void **state)
{
	(void)state;
	bool freed = false;
	unsigned sess_frees = 0;
	int client;
	conn_set_limits(256 * 1024, 0, 30000, 100);
	struct test_session *s = new_session(&client, &freed, &sess_frees);
	conn_set_idle_timeout(s->rt.conn, 10000);
	last_timeout = -1;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(write(client, "x", 1), 1);	/* never a whole line */
		run_for(10);
		if (freed)
			break;
	}
	assert_true(freed);
	assert_int_equal(last_timeout, CONN_TIMEOUT_LINE);
	close(client);

	freed = false;
	last_timeout = -1;
	session_set_body_timeout(100);
	s = new_session(&client, &freed, &sess_frees);
	conn_set_idle_timeout(s->rt.conn, 10000);
	session_body_deadline(&s->rt, true);
	for (int i = 0; i < 30 && !freed; i++) {
		assert_int_equal(write(client, "line\n", 5), 5);	/* whole lines: no line bound */
		run_for(10);
	}
	assert_true(freed);
	assert_int_equal(last_timeout, CONN_TIMEOUT_BODY);
	close(client);
	session_set_body_timeout(30 * 60 * 1000);
	conn_set_limits(256 * 1024, 0, 30000, 60000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_during_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_during_held_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_from_job_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_reading_client_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batched_job_waits_for_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_and_body_deadlines, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
