/* Keeping the global address list current inside cairnd (see
 * carddav-gal-refresh.h). All state lives on the loop thread; the refresh
 * itself (directory reads, one store transaction) runs as a worker job,
 * never more than one at a time. */
#include "autoconf.h"
#include "carddav-gal-refresh.h"
#include "carddav.h"
#include "config.h"
#include "directory.h"
#include "log.h"
#include "loop.h"
#include "store-carddav.h"
#include "store-jobs.h"
#include "store-notify.h"
#include "store.h"
#include "worker.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct refresher {
	struct loop *loop;
	struct worker_pool *pool;
	const struct config *cfg;
	struct store_notify *notify;	/* sql: LISTEN cairn_gal */
	struct loop_timer timer;
	bool sql;
	bool running;			/* a job is in flight */
	bool dirty;			/* sql: a change came after the last start */
	bool started;			/* last_start is set */
	bool stopped;
	uint64_t last_start;		/* loop_now() of the last job submitted */
};

static struct refresher rf;

struct refresh_job {
	struct job job;
	int ret;
	struct store_carddav_gal_stats stats;
	char error[256];
};

static void refresh_run(struct job *job, struct worker *worker)
{
	struct refresh_job *j = (struct refresh_job *)job;
	struct store *st = store_jobs_get(worker);
	struct dir_handle *dh = dir_worker_handle(worker, st);
	const char *error = NULL;
	j->ret = carddav_gal_sync(rf.cfg, st, dh, NULL, &j->stats, &error);
	if (j->ret != STORE_OK)
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "failed");
	store_jobs_note(worker);
}

static void refresh_tick(void *ctx);

/* sql: run soon, but not sooner than gal_refresh_delay after the last start. */
static void schedule_debounced(uint64_t min_delay)
{
	if (rf.stopped || rf.running || loop_timer_armed(&rf.timer))
		return;
	uint64_t now = loop_now(rf.loop), delay = 0;
	uint64_t due = rf.started ? rf.last_start + rf.cfg->directory.gal_refresh_delay_ms : now;
	if (due > now)
		delay = due - now;
	if (delay < min_delay)
		delay = min_delay;
	loop_timer_set(rf.loop, &rf.timer, delay, refresh_tick, NULL);
}

static void refresh_done(struct job *job)
{
	struct refresh_job *j = (struct refresh_job *)job;
	rf.running = false;
	uint64_t retry = 0;
	if (j->ret != STORE_OK) {
		log_warn("gal-refresh status=%s error=\"%s\"",
			 j->ret == STORE_TEMPFAIL ? "tempfail" : "error", j->error);
		if (rf.sql) {
			/* Try again, no faster than the store reconnects. */
			rf.dirty = true;
			retry = rf.cfg->store.reconnect_interval_ms;
		}
	} else if (j->stats.added + j->stats.changed + j->stats.removed > 0) {
		log_info("gal-refresh status=ok entries=%u added=%u changed=%u removed=%u",
			 j->stats.added + j->stats.changed + j->stats.unchanged, j->stats.added,
			 j->stats.changed, j->stats.removed);
	}
	free(j);
	if (rf.stopped)
		return;
	if (rf.sql) {
		if (rf.dirty)
			schedule_debounced(retry);
	} else {
		loop_timer_set(rf.loop, &rf.timer, rf.cfg->directory.gal_refresh_interval_ms,
			       refresh_tick, NULL);
	}
}

static void refresh_tick(void *ctx)
{
	(void)ctx;
	if (rf.stopped || rf.running)
		return;
	struct refresh_job *j = xcalloc(1, sizeof(*j));
	j->job.run = refresh_run;
	j->job.done = refresh_done;
	rf.dirty = false;
	rf.running = true;
	rf.started = true;
	rf.last_start = loop_now(rf.loop);
	worker_pool_submit(rf.pool, &j->job);
}

/* NOTIFY cairn_gal, or the LISTEN (re)established. */
static void on_gal_notify(void *ctx)
{
	(void)ctx;
	rf.dirty = true;
	schedule_debounced(0);
}

void carddav_gal_refresh_start(struct loop *loop, struct worker_pool *pool,
			       const struct config *cfg)
{
	rf = (struct refresher){ .loop = loop, .pool = pool, .cfg = cfg };
	if (!cfg->directory.gal)
		return;
	rf.sql = cfg->directory.backend == CONFIG_DIR_SQL;
	if (rf.sql) {
		/* The first refresh (the LISTEN established: changes made while
		 * cairnd was down) also waits gal_refresh_delay after startup. */
		rf.started = true;
		rf.last_start = loop_now(loop);
		rf.notify = store_notify_create_channel(loop, cfg, "cairn_gal", on_gal_notify, NULL);
	} else if (cfg->directory.gal_refresh_interval_ms > 0)
		loop_timer_set(loop, &rf.timer, cfg->directory.gal_refresh_interval_ms, refresh_tick,
			       NULL);
}

void carddav_gal_refresh_stop(void)
{
	rf.stopped = true;
	if (rf.loop != NULL)
		loop_timer_cancel(rf.loop, &rf.timer);
	store_notify_destroy(&rf.notify);
}
