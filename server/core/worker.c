/* Thread pool with a mutex/condvar job queue and an eventfd that wakes the
 * loop when results are ready. Workers never touch connections: they only
 * run job->run; job->done runs on the loop thread. */
#include "autoconf.h"
#include "worker.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct worker_hook {
	void *(*init)(struct worker *worker);
	void (*deinit)(void *state);
};

static struct worker_hook hooks[WORKER_MAX_SLOTS];
static unsigned hook_count;

struct worker_thread {
	struct worker_pool *pool;
	pthread_t thread;
	struct worker worker;
};

struct worker_pool {
	struct loop *loop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *queue_head, *queue_tail;
	struct job *done_head, *done_tail;
	bool stopping;
	unsigned busy;		/* queued + running, loop-thread view */
	int efd;
	struct loop_io *io;
	unsigned n;
	struct worker_thread *threads;
};

int worker_hook_add(void *(*init)(struct worker *worker), void (*deinit)(void *state))
{
	if (hook_count >= WORKER_MAX_SLOTS)
		return -1;
	hooks[hook_count].init = init;
	hooks[hook_count].deinit = deinit;
	return (int)hook_count++;
}

static void *worker_main(void *arg)
{
	struct worker_thread *t = arg;
	struct worker_pool *pool = t->pool;

	for (unsigned i = 0; i < hook_count; i++)
		t->worker.slots[i] = hooks[i].init != NULL ? hooks[i].init(&t->worker) : NULL;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->queue_head == NULL && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		struct job *job = pool->queue_head;
		if (job == NULL)
			break;	/* stopping and the queue is drained */
		pool->queue_head = job->next;
		if (pool->queue_head == NULL)
			pool->queue_tail = NULL;
		pthread_mutex_unlock(&pool->lock);

		metrics_dec(&metrics.jobs_queued);
		metrics_inc(&metrics.jobs_running);
		job->run(job, &t->worker);
		metrics_dec(&metrics.jobs_running);
		metrics_inc(&metrics.jobs_total);

		pthread_mutex_lock(&pool->lock);
		job->next = NULL;
		if (pool->done_tail != NULL)
			pool->done_tail->next = job;
		else
			pool->done_head = job;
		pool->done_tail = job;
		uint64_t one = 1;
		ssize_t ret = write(pool->efd, &one, sizeof(one));
		(void)ret;
	}
	pthread_mutex_unlock(&pool->lock);

	for (unsigned i = hook_count; i-- > 0;) {
		if (hooks[i].deinit != NULL)
			hooks[i].deinit(t->worker.slots[i]);
	}
	return NULL;
}

static void run_done(struct worker_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	struct job *job = pool->done_head;
	pool->done_head = pool->done_tail = NULL;
	pthread_mutex_unlock(&pool->lock);
	while (job != NULL) {
		struct job *next = job->next;
		pool->busy--;
		job->done(job);
		job = next;
	}
}

static void pool_wakeup(void *ctx, unsigned events)
{
	struct worker_pool *pool = ctx;
	uint64_t count;
	if (read(pool->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		panic("worker: read(eventfd): %s", strerror(errno));
	run_done(pool);
}

struct worker_pool *worker_pool_create(struct loop *loop, unsigned n)
{
	struct worker_pool *pool = xcalloc(1, sizeof(*pool));
	pool->loop = loop;
	pool->n = n;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->efd < 0)
		fatal("worker: eventfd: %s", strerror(errno));
	pool->io = loop_add(loop, pool->efd, LOOP_READ, pool_wakeup, pool);
	pool->threads = xcalloc(n, sizeof(*pool->threads));
	atomic_store(&metrics.workers, n);
	for (unsigned i = 0; i < n; i++) {
		pool->threads[i].pool = pool;
		pool->threads[i].worker.id = i;
		int err = pthread_create(&pool->threads[i].thread, NULL, worker_main,
					 &pool->threads[i]);
		if (err != 0)
			fatal("worker: pthread_create: %s", strerror(err));
	}
	return pool;
}

void worker_pool_submit(struct worker_pool *pool, struct job *job)
{
	job->next = NULL;
	pool->busy++;
	metrics_inc(&metrics.jobs_queued);
	pthread_mutex_lock(&pool->lock);
	if (pool->queue_tail != NULL)
		pool->queue_tail->next = job;
	else
		pool->queue_head = job;
	pool->queue_tail = job;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

unsigned worker_pool_busy(const struct worker_pool *pool)
{
	return pool->busy;
}

void worker_pool_destroy(struct worker_pool **poolp)
{
	struct worker_pool *pool = *poolp;
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->n; i++)
		pthread_join(pool->threads[i].thread, NULL);
	run_done(pool);
	loop_remove(&pool->io);
	close(pool->efd);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->cond);
	free(pool->threads);
	free(pool);
	*poolp = NULL;
}
