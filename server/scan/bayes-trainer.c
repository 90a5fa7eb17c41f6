/* The Bayes trainer (see bayes-trainer.h). */
#include "autoconf.h"
#include "bayes-trainer.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bayes.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "mime.h"
#include "store-bayes.h"
#include "store-jobs.h"
#include "worker.h"

struct trainer {
	struct loop *loop;
	struct worker_pool *pool;
	const struct config *cfg;
	struct loop_timer timer;
	bool running;		/* a job is in flight */
	bool stopped;
};

static struct trainer trainer;

struct train_job {
	struct job job;
	unsigned batch;
	unsigned hapax_days, token_days;
	size_t taken, learned, failed;
	bool expire_failed;
};

struct train_ctx {
	struct store *st;
	struct train_job *j;
};

static void train_one(uint64_t account_id, bool spam, const char *raw, size_t size, void *vctx)
{
	struct train_ctx *c = vctx;
	enum store_bayes_learned r;
	const char *error;
	if (bayes_train_message(c->st, account_id, spam, raw, size, &r, &error) < 0) {
		c->j->failed++;
		log_warn("bayes train account=%llu status=error error=\"%s\"",
			 (unsigned long long)account_id, error);
		return;
	}
	if (r != STORE_BAYES_ALREADY)
		c->j->learned++;
}

static void train_run(struct job *job, struct worker *worker)
{
	struct train_job *j = (struct train_job *)job;
	struct store *st = store_jobs_get(worker);
	struct train_ctx c = { .st = st, .j = j };
	const char *error;
	if (store_bayes_queue_take(st, j->batch, train_one, &c, &j->taken, &error) != 0)
		log_warn("bayes train status=error error=\"%s\"", error);
	uint64_t *ids;
	size_t n;
	if (store_bayes_expire_due(st, &ids, &n, &error) == 0) {
		for (size_t i = 0; i < n; i++) {
			uint64_t deleted;
			if (store_bayes_expire(st, ids[i], j->hapax_days, j->token_days, &deleted,
					       &error) == 0) {
				if (deleted > 0)
					log_info("bayes expire account=%llu tokens=%llu",
						 (unsigned long long)ids[i], (unsigned long long)deleted);
			} else {
				j->expire_failed = true;
			}
		}
		free(ids);
	}
	store_jobs_note(worker);
}

static void trainer_tick(void *ctx);

static void train_done(struct job *job)
{
	struct train_job *j = (struct train_job *)job;
	trainer.running = false;
	if (j->learned > 0 || j->failed > 0)
		log_info("bayes train taken=%zu learned=%zu failed=%zu", j->taken, j->learned,
			 j->failed);
	bool more = j->taken == j->batch;
	free(j);
	if (!trainer.stopped)
		loop_timer_set(trainer.loop, &trainer.timer,
			       more ? 0 : trainer.cfg->bayes.train_interval_ms, trainer_tick, NULL);
}

static void trainer_tick(void *ctx)
{
	(void)ctx;
	if (trainer.stopped || trainer.running)
		return;
	struct train_job *j = xcalloc(1, sizeof(*j));
	j->job.run = train_run;
	j->job.done = train_done;
	j->batch = (unsigned)trainer.cfg->bayes.train_batch;
	j->hapax_days = (unsigned)trainer.cfg->bayes.hapax_expire_days;
	j->token_days = (unsigned)trainer.cfg->bayes.token_expire_days;
	trainer.running = true;
	worker_pool_submit(trainer.pool, &j->job);
}

void bayes_trainer_start(struct loop *loop, struct worker_pool *pool, const struct config *cfg)
{
	trainer.loop = loop;
	trainer.pool = pool;
	trainer.cfg = cfg;
	trainer.stopped = false;
	if (!cfg->bayes.enabled)
		return;
	loop_timer_set(loop, &trainer.timer, cfg->bayes.train_interval_ms, trainer_tick, NULL);
}

void bayes_trainer_stop(void)
{
	trainer.stopped = true;
	if (trainer.loop != NULL)
		loop_timer_cancel(trainer.loop, &trainer.timer);
}
