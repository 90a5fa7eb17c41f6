/* The session runtime: the conn callbacks of every gateway go through here,
 * so job completion, held replies, deferred close, shutdown and freeing
 * follow one set of rules (see session.h). The session's memory lives until
 * its conn is closed and its last job has come back. */
#include "autoconf.h"
#include "session.h"
#include "log.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static uint64_t body_timeout_ms = 30 * 60 * 1000;

void session_set_body_timeout(uint64_t ms)
{
	body_timeout_ms = ms;
}

/* Input flows only when nothing else holds the session. */
static void update_input(struct session *s)
{
	if (s->closed)
		return;
	conn_pause(s->conn, s->job != NULL || s->held != NULL || s->waiting);
}

static void final_free(struct session *s)
{
	struct conn *c = s->conn;
	loop_timer_cancel(conn_loop(c), &s->hold_timer);
	loop_timer_cancel(conn_loop(c), &s->body_timer);
	free(s->held);
	s->held = NULL;
	s->ops->free(s);
	conn_unref(&c);
}

/* Deliver a shutdown that waited for the job in flight. */
static void maybe_shutdown(struct session *s)
{
	if (!s->shutdown_pending || s->closed || s->job != NULL || s->held != NULL ||
	    conn_is_closing(s->conn))
		return;
	s->shutdown_pending = false;
	if (s->ops->shutdown != NULL)
		s->ops->shutdown(s);
	else
		conn_close(s->conn);
}

/* ---- conn callbacks ---- */

static void rt_input(struct conn *c, void *ctx)
{
	struct session *s = ctx;
	(void)c;
	if (session_busy(s))
		return;
	s->ops->input(s);
}

static void rt_timeout(struct conn *c, void *ctx, enum conn_timeout why)
{
	struct session *s = ctx;
	if (s->job != NULL) {
		/* Not the client's fault: wait for the job, then start over. */
		conn_idle_restart(c);
		return;
	}
	log_info("%s session=%s peer=%s event=timeout reason=%s", s->proto, conn_id(c),
		 conn_peer_addr(c), why == CONN_TIMEOUT_LINE ? "command-line" :
		 why == CONN_TIMEOUT_BODY ? "body" : "idle");
	if (s->ops->timeout != NULL)
		s->ops->timeout(s, why);
	else
		conn_close(c);
}

static void rt_shutdown(struct conn *c, void *ctx)
{
	struct session *s = ctx;
	(void)c;
	s->shutdown_pending = true;
	maybe_shutdown(s);
}

static void rt_writable(struct conn *c, void *ctx)
{
	struct session *s = ctx;
	(void)c;
	if (s->again_waiting && s->job != NULL) {
		s->again_waiting = false;
		s->jobs++;
		worker_pool_submit(s->pool, &s->job->job);
		return;
	}
	if (s->ops->writable != NULL)
		s->ops->writable(s);
}

static void rt_closed(struct conn *c, void *ctx)
{
	struct session *s = ctx;
	(void)c;
	s->closed = true;
	loop_timer_cancel(conn_loop(s->conn), &s->hold_timer);
	loop_timer_cancel(conn_loop(s->conn), &s->body_timer);
	if (s->again_waiting && s->job != NULL) {
		/* A job between rounds runs nowhere: free it now. */
		struct session_job *j = s->job;
		s->job = NULL;
		s->again_waiting = false;
		j->free(j, true);
	}
	if (s->jobs == 0)
		final_free(s);
	/* else: the last job's completion frees the session */
}

static const struct conn_ops rt_ops = {
	.input = rt_input,
	.timeout = rt_timeout,
	.shutdown = rt_shutdown,
	.writable = rt_writable,
	.closed = rt_closed,
};

void session_init(struct session *s, struct conn *c, struct worker_pool *pool,
		  const struct session_ops *ops, const char *proto)
{
	s->conn = c;
	conn_ref(c);
	s->pool = pool;
	s->ops = ops;
	s->proto = proto;
	conn_set_ops(c, &rt_ops, s);
}

/* ---- jobs ---- */

static void job_run_cb(struct job *job, struct worker *w)
{
	struct session_job *j = (struct session_job *)((char *)job - offsetof(struct session_job, job));
	j->run(j, w);
}

static void job_done_cb(struct job *job)
{
	struct session_job *j = (struct session_job *)((char *)job - offsetof(struct session_job, job));
	struct session *s = j->session;
	if (s == NULL) {
		j->free(j, true);	/* detached */
		return;
	}
	bool foreground = !j->background;
	s->jobs--;
	if (s->closed) {
		if (s->job == j)
			s->job = NULL;
		j->free(j, true);
		if (s->jobs == 0 && s->job == NULL)
			final_free(s);
		return;
	}
	if (s->job == j)
		s->job = NULL;	/* done() may submit the next job */
	j->again = false;
	if (j->done != NULL)
		j->done(s, j);
	if (j->again) {
		/* The job stays the session's foreground job between rounds. */
		if (s->job != NULL)
			panic("%s session=%s: a job ran again beside another", s->proto,
			      conn_id(s->conn));
		j->again = false;
		s->job = j;
		j->background = false;
		if (conn_is_closing(s->conn)) {
			/* Nobody reads the rest: end it as if orphaned. */
			s->job = NULL;
			j->free(j, true);
		} else if (conn_output_blocked(s->conn)) {
			s->again_waiting = true;
			conn_notify_writable(s->conn);
		} else {
			s->jobs++;
			worker_pool_submit(s->pool, &j->job);
		}
		if (s->job != NULL)
			return;
	} else {
		j->free(j, false);
	}
	if (foreground) {
		update_input(s);
		maybe_shutdown(s);
	}
}

void session_job_init(struct session_job *j,
		      void (*run)(struct session_job *j, struct worker *w),
		      void (*done)(struct session *s, struct session_job *j),
		      void (*free_fn)(struct session_job *j, bool orphaned))
{
	j->run = run;
	j->done = done;
	j->free = free_fn;
	j->job.run = job_run_cb;
	j->job.done = job_done_cb;
	j->job.next = NULL;
}

void session_submit(struct session *s, struct session_job *j)
{
	if (s->job != NULL)
		panic("%s session=%s: a second foreground job", s->proto, conn_id(s->conn));
	j->session = s;
	j->background = false;
	s->job = j;
	s->jobs++;
	update_input(s);
	worker_pool_submit(s->pool, &j->job);
}

void session_submit_background(struct session *s, struct session_job *j)
{
	j->session = s;
	j->background = true;
	s->jobs++;
	worker_pool_submit(s->pool, &j->job);
}

void session_submit_detached(struct worker_pool *pool, struct session_job *j)
{
	j->session = NULL;
	j->background = true;
	worker_pool_submit(pool, &j->job);
}

void session_job_again(struct session *s, struct session_job *j)
{
	(void)s;
	j->again = true;
}

/* ---- held replies, waits, deadlines ---- */

static void hold_fired(void *ctx)
{
	struct session *s = ctx;
	char *data = s->held;
	size_t len = s->held_len;
	s->held = NULL;
	s->held_len = 0;
	/* A failed write only marks the conn for closing: s stays valid. */
	conn_write(s->conn, data, len);
	free(data);
	update_input(s);
	maybe_shutdown(s);
}

void session_reply_later(struct session *s, const void *data, size_t len, uint64_t delay_ms)
{
	free(s->held);
	s->held = xmalloc(len + 1);
	memcpy(s->held, data, len);
	s->held[len] = '\0';
	s->held_len = len;
	update_input(s);
	loop_timer_set(conn_loop(s->conn), &s->hold_timer, delay_ms, hold_fired, s);
}

void session_wait(struct session *s, bool waiting)
{
	s->waiting = waiting;
	update_input(s);
}

bool session_busy(const struct session *s)
{
	return s->job != NULL || s->held != NULL || s->waiting || s->closed ||
	       conn_is_closing(s->conn) || conn_output_blocked(s->conn);
}

static void body_fired(void *ctx)
{
	struct session *s = ctx;
	metrics_inc(&metrics.timeouts);
	rt_timeout(s->conn, s, CONN_TIMEOUT_BODY);
}

void session_body_deadline(struct session *s, bool on)
{
	struct loop *loop = conn_loop(s->conn);
	if (!on || body_timeout_ms == 0 || s->closed)
		loop_timer_cancel(loop, &s->body_timer);
	else if (!loop_timer_armed(&s->body_timer))
		loop_timer_set(loop, &s->body_timer, body_timeout_ms, body_fired, s);
}

void session_notify_writable(struct session *s)
{
	if (!s->closed)
		conn_notify_writable(s->conn);
}

void session_close(struct session *s)
{
	if (!s->closed)
		conn_close(s->conn);
}
