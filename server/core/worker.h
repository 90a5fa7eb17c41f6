/* The worker pool: threads that run blocking jobs (PostgreSQL, LDAP,
 * scanners) for the loop. Each worker runs the init hooks registered before
 * the pool starts (the store opens one connection per worker, the directory
 * one LDAP handle) and keeps the results in its slots. A finished job's done
 * callback runs back on the loop thread, woken through an eventfd. */
#ifndef CAIRN_WORKER_H
#define CAIRN_WORKER_H

#include "util.h"

#define WORKER_MAX_SLOTS 8

struct loop;
struct worker_pool;

struct worker {
	unsigned id;
	void *slots[WORKER_MAX_SLOTS];	/* per-hook state, by hook slot number */
};

struct job {
	/* Runs on a worker thread; may block. */
	void (*run)(struct job *job, struct worker *worker);
	/* Runs on the loop thread after run returned; owns the job then. */
	void (*done)(struct job *job);
	struct job *next;	/* queue link, owned by the pool */
};

/* Register per-worker state: init runs on each worker thread before its first
 * job, deinit when the pool stops. Returns the slot number, or -1 when all
 * WORKER_MAX_SLOTS are taken. Call before worker_pool_create. */
int worker_hook_add(void *(*init)(struct worker *worker), void (*deinit)(void *state));

/* Start n worker threads whose results are delivered on loop. */
struct worker_pool *worker_pool_create(struct loop *loop, unsigned n);
/* Queue a job (loop thread only). */
void worker_pool_submit(struct worker_pool *pool, struct job *job);
/* Jobs queued or running. */
unsigned worker_pool_busy(const struct worker_pool *pool);
/* Finish queued jobs, stop the threads (running deinit hooks) and free the
 * pool; done callbacks of jobs still in flight are run. Sets *pool NULL. */
void worker_pool_destroy(struct worker_pool **pool);

#endif
