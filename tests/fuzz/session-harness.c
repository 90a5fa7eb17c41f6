/* The session fuzz harness (see session-harness.h): a fake worker pool that
 * runs each job on the loop thread one iteration after it was submitted,
 * and the driver that feeds an input to a real session over a socketpair
 * and runs it until the session is gone. */
#include "autoconf.h"
#include "session-harness.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "session.h"
#include "worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the worker pool double ----
 * Same thread, so no races and every run is reproducible; a job submitted
 * during iteration i runs (run, then done) at the end of iteration i+1, so
 * the session sees a job in flight while input, closes and timers of one
 * iteration arrive, as it would with real workers. Jobs submitted from a
 * done() wait for the next round. */
struct worker_pool {
	struct job *head, *tail;
	unsigned queued;
};

static struct worker fake_worker;

void worker_pool_submit(struct worker_pool *pool, struct job *job)
{
	job->next = NULL;
	if (pool->tail != NULL)
		pool->tail->next = job;
	else
		pool->head = job;
	pool->tail = job;
	pool->queued++;
}

/* Run the jobs that were queued before this round; returns how many. */
static unsigned pool_run(struct worker_pool *pool, struct job *upto)
{
	unsigned n = 0;
	struct job *stop = upto != NULL ? upto->next : NULL;
	if (upto == NULL)
		return 0;
	while (pool->head != NULL && pool->head != stop) {
		struct job *job = pool->head;
		pool->head = job->next;
		if (pool->head == NULL)
			pool->tail = NULL;
		pool->queued--;
		job->next = NULL;
		job->run(job, &fake_worker);
		job->done(job);
		n++;
	}
	return n;
}

/* ---- environment ---- */

static struct fuzz_env env;

static void set_str(char **p, const char *v)
{
	free(*p);
	*p = xstrdup(v);
}

struct fuzz_env *fuzz_env_get(void)
{
	if (env.loop != NULL)
		return &env;
	log_set_level(LOG_LEVEL_ERR);
	struct config *cfg = config_defaults();
	set_str(&cfg->server.hostname, "mx.fuzz.test");
	cfg->server.loopback_is_secure = true;
	cfg->server.max_output = 16 * 1024;	/* back-pressure within reach */
	cfg->directory.auth_delay_ms = 0;
	cfg->pop3.plaintext_auth = true;
	cfg->imap.plaintext_auth = true;
	cfg->smtp.auth_without_tls = true;
	cfg->smtp.max_message_size = 256 * 1024;
	cfg->imap.max_append = 256 * 1024;
	cfg->http.max_body = 64 * 1024;
	env.cfg = cfg;
	env.loop = loop_create();
	env.pool = xcalloc(1, sizeof(*env.pool));
	env.notify = store_double_notify();
	conn_set_limits((size_t)cfg->server.max_output, (size_t)cfg->server.max_output_total,
			cfg->server.tls_handshake_timeout_ms, cfg->server.line_timeout_ms);
	session_set_body_timeout(cfg->server.body_timeout_ms);
	conn_set_compress_quiet_ms(5000);
	return &env;
}

/* ---- one input ---- */

/* FUZZ_SESSION_TRACE=1 in the environment: what the server sent goes to
 * stderr (to see which states a seed or a reproducer reaches). */
static int trace = -1;

#define MAX_CHUNKS 8
#define QUIET_MAX_ITER 200000	/* more is a livelock: abort */
#define END_MAX_ROUNDS 100000

struct run {
	struct fuzz_env *env;
	int cfd;		/* the client's end, -1 once closed */
	bool reading;		/* the client reads (and discards) output */
	bool wr_shut;
	size_t out_read;
};


static void drain(struct run *r)
{
	char buf[65536];
	if (r->cfd < 0)
		return;
	for (;;) {
		ssize_t n = read(r->cfd, buf, sizeof(buf));
		if (n <= 0)
			break;
		r->out_read += (size_t)n;
		if (trace)
			fwrite(buf, 1, (size_t)n, stderr);
	}
}

/* One round: a loop iteration, then the jobs queued before it. */
static bool round_once(struct run *r)
{
	struct job *last = r->env->pool->tail;
	bool busy = fuzz_loop_step(r->env->loop);
	if (pool_run(r->env->pool, last) > 0)
		busy = true;
	if (r->reading)
		drain(r);
	return busy || r->env->pool->queued > 0;
}

/* A conn that waits (a held reply, a job) while its peer has hung up gets
 * EPOLLHUP at every iteration (it cannot be masked): the real loop spins
 * until the wait ends, which on a socketpair (unlike TCP, where a FIN is
 * maskable) happens after every close. Time passes meanwhile, so after a
 * run of busy rounds the clock moves to the next timer. */
#define SPIN_ROUNDS 256

static void spin_check(struct run *r, unsigned i)
{
	if (i > 0 && i % SPIN_ROUNDS == 0) {
		if (trace)
			fprintf(stderr, "[fuzz-session: %u busy rounds, time moves on]\n", i);
		fuzz_loop_advance(r->env->loop, 24 * 3600 * 1000ull);
	}
}

static void run_quiet(struct run *r)
{
	for (unsigned i = 0; i < QUIET_MAX_ITER; i++) {
		if (!round_once(r))
			return;
		spin_check(r, i + 1);
	}
	fprintf(stderr, "fuzz-session: no quiescence after %u loop iterations (livelock)\n",
		QUIET_MAX_ITER);
	abort();
}

/* Send len bytes, running the loop while the socket is full. Returns false
 * when the server stopped taking input for good. */
static bool send_chunk(struct run *r, const uint8_t *p, size_t len)
{
	unsigned stuck = 0;
	while (len > 0 && r->cfd >= 0) {
		ssize_t n = send(r->cfd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			stuck = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return false;	/* the server closed */
		if (round_once(r))
			continue;
		/* Quiet and full: the client must read, or time must pass. */
		drain(r);
		if (++stuck > 3) {
			if (!fuzz_loop_advance(r->env->loop, 120000))
				return false;
			fuzz_loop_step(r->env->loop);
			if (stuck > 50)
				return false;
		}
	}
	return r->cfd >= 0;
}

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void client_close(struct run *r)
{
	if (r->cfd >= 0)
		close(r->cfd);
	r->cfd = -1;
}

int fuzz_session_run(struct fuzz_env *e, const struct fuzz_variant *variants, size_t count,
		     const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	if (trace < 0)
		trace = getenv("FUZZ_SESSION_TRACE") != NULL;
	uint8_t h0 = data[0], h1 = data[1], h2 = data[2], h3 = data[3];
	data += 4;
	size -= 4;
	const struct fuzz_variant *v = &variants[h3 % count];

	store_double_reset();
	store_double_set_auth_delay((h0 & 0x40) ? 2000 : 0);

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		abort();
	}
	if (h0 & 0x04) {
		int small = 4096;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	}
	struct sockaddr_in peer;
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_port = htons(40000);
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	struct run r = { .env = e, .cfd = sv[1], .reading = !(h0 & 0x02) };
	unsigned conns_before = conn_count();
	struct conn *c = conn_create(e->loop, sv[0], (struct sockaddr *)&peer, sizeof(peer),
				     v->metrics, NULL);
	v->accept(c, v->ctx);
	run_quiet(&r);	/* the greeting */

	bool open = true;
	if ((h0 & 0x01) && v->login != NULL) {
		open = send_chunk(&r, (const uint8_t *)v->login, strlen(v->login));
		run_quiet(&r);
		drain(&r);
	}

	/* Split the rest into chunks at pseudo-random points. */
	unsigned nchunks = (h1 & 7) + 1;
	unsigned steps = (h1 >> 3) & 3;
	uint32_t seed = ((uint32_t)h2 << 8 | h3) * 2654435761u | 1;
	size_t cuts[MAX_CHUNKS + 1];
	cuts[0] = 0;
	for (unsigned i = 1; i < nchunks; i++)
		cuts[i] = size > 0 ? rng_next(&seed) % (size + 1) : 0;
	cuts[nchunks] = size;
	for (unsigned i = 1; i < nchunks; i++)	/* sort the few cut points */
		for (unsigned k = i; k > 1 && cuts[k] < cuts[k - 1]; k--) {
			size_t t = cuts[k];
			cuts[k] = cuts[k - 1];
			cuts[k - 1] = t;
		}
	for (unsigned i = 0; i < nchunks && open; i++) {
		size_t from = cuts[i], to = cuts[i + 1] < cuts[i] ? cuts[i] : cuts[i + 1];
		if (to > from)
			open = send_chunk(&r, data + from, to - from);
		if (steps == 0)
			run_quiet(&r);
		else
			for (unsigned k = 0; k < steps; k++)
				round_once(&r);
		if (h1 & 0x20) {
			store_double_external_change(i + h2);
			store_double_notify_fire(e->notify);
		}
		if (h1 & 0x40)
			store_double_set_failing(true);
		if (h0 & 0x80) {
			fuzz_loop_advance(e->loop, 24 * 3600 * 1000ull);
			round_once(&r);
		}
	}

	/* The end. */
	unsigned how = (h0 >> 3) & 7;
	switch (how) {
	case 1:
		drain(&r);
		client_close(&r);
		break;
	case 2:
		break;	/* wait for the idle timeout */
	case 3:
		conn_shutdown_all();
		break;
	case 4:
		shutdown(r.cfd, SHUT_RDWR);
		break;
	case 5:
		shutdown(r.cfd, SHUT_WR);
		client_close(&r);
		break;
	case 6:
		client_close(&r);
		break;
	default:
		shutdown(r.cfd, SHUT_WR);
		break;
	}
	r.reading = true;
	unsigned rounds = 0;
	for (;;) {
		if (++rounds > END_MAX_ROUNDS) {
			fprintf(stderr, "fuzz-session: session still alive after %u rounds\n", rounds);
			abort();
		}
		if (round_once(&r)) {
			spin_check(&r, rounds);
			continue;
		}
		if (conn_count() == conns_before && e->pool->queued == 0)
			break;
		/* Quiet: time passes (timeouts, held replies, flush limits). */
		if (fuzz_loop_advance(e->loop, 24 * 3600 * 1000ull))
			continue;
		if (r.cfd >= 0) {
			/* No timer left: the client gives up and goes away. */
			client_close(&r);
			continue;
		}
		fprintf(stderr, "fuzz-session: client gone, no timer, no job, but %u conn(s) "
			"still open: the session is stuck\n", conn_count() - conns_before);
		abort();
	}
	client_close(&r);
	store_double_set_failing(false);
	if (!store_double_clean()) {
		fprintf(stderr, "fuzz-session: the session left state behind in the store double\n");
		abort();
	}
	store_double_clear();
	return 0;
}
