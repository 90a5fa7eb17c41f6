/* The session runtime every protocol gateway is built on (SMTP, LMTP,
 * submission, IMAP, POP3, HTTP, and DAV and ManageSieve after them). It owns
 * what used to be copied into each gateway and is where the crash class of
 * wave 1 lived: one job in flight at a time with input paused meanwhile,
 * background jobs, a reply held back (failed logins), deferred close, the
 * shutdown hand-over, slow-body deadlines and the session's lifetime.
 *
 * Rules it guarantees:
 * - A protocol callback (input, timeout, shutdown, writable, a job's done)
 *   never runs after the conn is gone, and the session is never freed under
 *   one: ops->free runs on the loop, once the conn is closed AND no job of
 *   the session is in flight.
 * - A job's run() executes on a worker thread and must use only the job's
 *   own fields (copies made when it was created); results go back through
 *   the job and are applied in done() on the loop thread.
 * - session_close/conn_close only ask: the close completes later on the loop.
 *
 * Embed struct session as a member of the protocol's session struct and get
 * back to it with container_of-style arithmetic (or make it the first
 * member). Everything here runs on the loop thread. */
#ifndef CAIRN_SESSION_H
#define CAIRN_SESSION_H

#include "conn.h"
#include "loop.h"
#include "worker.h"

struct session;
struct session_job;

struct session_ops {
	/* Input is waiting in conn_input(s->conn). Never called while a job is
	 * in flight, a reply is held or session_wait is on. */
	void (*input)(struct session *s);
	/* Idle timeout, a command line or a body that took too long: say
	 * goodbye and session_close. NULL: the conn is closed. Never called
	 * while a foreground job is in flight (the idle timer is restarted). */
	void (*timeout)(struct session *s, enum conn_timeout why);
	/* The server is stopping: say goodbye and session_close. Delivered once
	 * the job in flight (if any) is done. NULL: the conn is closed. */
	void (*shutdown)(struct session *s);
	/* Optional: after session_notify_writable, output fell below its bound. */
	void (*writable)(struct session *s);
	/* The conn is gone and no job is in flight: free the protocol state,
	 * including the struct that embeds s. Required. */
	void (*free)(struct session *s);
};

struct session_job {
	/* Worker thread: only the job's own fields, never the session. */
	void (*run)(struct session_job *j, struct worker *w);
	/* Loop thread, session alive: apply the result. Optional. It may call
	 * session_job_again to run the job once more. */
	void (*done)(struct session *s, struct session_job *j);
	/* Loop thread: free the job. orphaned: the session was gone when the
	 * job finished, so done was not called (release what run acquired,
	 * such as a lock). Required. */
	void (*free)(struct session_job *j, bool orphaned);
	/* private to the runtime */
	struct job job;
	struct session *session;
	bool background;
	bool again;
};

struct session {
	struct conn *conn;		/* referenced until ops->free has run */
	struct worker_pool *pool;
	const struct session_ops *ops;
	const char *proto;		/* "imap", ... for log lines */
	/* private to the runtime */
	struct session_job *job;	/* the foreground job in flight */
	unsigned jobs;			/* every job in flight, background ones too */
	char *held;			/* a reply sent when hold_timer fires */
	size_t held_len;
	struct loop_timer hold_timer;
	struct loop_timer body_timer;
	bool waiting;			/* session_wait */
	bool closed;			/* the conn is gone */
	bool shutdown_pending;
	bool again_waiting;		/* s->job waits for the client to read */
};

/* Attach s to an accepted conn (before conn_start): the conn's callbacks go
 * through the runtime to ops. proto names the protocol in log lines. */
void session_init(struct session *s, struct conn *c, struct worker_pool *pool,
		  const struct session_ops *ops, const char *proto);

/* Initialise a job before filling in its fields; run and free are required. */
void session_job_init(struct session_job *j,
		      void (*run)(struct session_job *j, struct worker *w),
		      void (*done)(struct session *s, struct session_job *j),
		      void (*free)(struct session_job *j, bool orphaned));
/* Run j on a worker; input is paused until its done() has run. One
 * foreground job at a time: panics if one is already in flight. */
void session_submit(struct session *s, struct session_job *j);
/* Run j on a worker without pausing input (read-ahead, cleanup). */
void session_submit_background(struct session *s, struct session_job *j);
/* Run j with no session: done is never called, free(j, true) is. For work
 * that must happen after the session is gone (releasing a lock). */
void session_submit_detached(struct worker_pool *pool, struct session_job *j);
/* From j's done(): run j again (foreground) instead of freeing it, as soon
 * as the client has read the output queued so far below its bound. */
void session_job_again(struct session *s, struct session_job *j);

/* Send data (copied) after delay_ms and take no input until then: the
 * answer to a failed login, held to slow down password guessing. */
void session_reply_later(struct session *s, const void *data, size_t len, uint64_t delay_ms);
/* Stop (true) or resume (false) input while the protocol waits for
 * something of its own (a background job's result). */
void session_wait(struct session *s, bool waiting);
/* A job in flight, a reply held, a wait, a close under way, or output
 * over its bound (the client is not reading): the input callback must stop
 * taking commands. The runtime calls it again when that changes. */
bool session_busy(const struct session *s);

/* A message body or literal is being received (true) or is complete
 * (false): it must complete within the body timeout, however slowly it
 * trickles in; past it, ops->timeout(CONN_TIMEOUT_BODY). */
void session_body_deadline(struct session *s, bool on);
/* The body timeout for every session (0: none). */
void session_set_body_timeout(uint64_t ms);

/* Ask for ops->writable once output is below its bound. */
void session_notify_writable(struct session *s);
/* Close after the queued output is sent (deferred: see conn_close). */
void session_close(struct session *s);

#endif
