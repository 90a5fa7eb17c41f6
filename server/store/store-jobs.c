/* Per-worker store handles for cairnd. Connections are opened lazily by the
 * store itself, so a database that is down at start only delays the first
 * successful job; it never stops the daemon. */
#include "autoconf.h"
#include "store-jobs.h"
#include "metrics.h"
#include "store.h"
#include "worker.h"

#include <stdlib.h>

struct store_slot {
	struct store *store;
	bool connected;		/* last state reported to the metrics gauge */
};

static const struct config *jobs_cfg;
static int jobs_slot = -1;

static void *store_worker_init(struct worker *worker)
{
	struct store_slot *s = xcalloc(1, sizeof(*s));
	s->store = store_open(jobs_cfg);
	/* Connect now rather than on the first job, so the first clients do
	 * not wait for it; a database that is down is retried later. */
	const char *error;
	if (store_ping(s->store, &error) == STORE_OK) {
		s->connected = true;
		metrics_inc(&metrics.store_connected);
	}
	return s;
}

static void store_worker_deinit(void *state)
{
	struct store_slot *s = state;
	if (s->connected)
		metrics_dec(&metrics.store_connected);
	store_close(&s->store);
	free(s);
}

int store_jobs_register(const struct config *cfg)
{
	jobs_cfg = cfg;
	jobs_slot = worker_hook_add(store_worker_init, store_worker_deinit);
	return jobs_slot < 0 ? -1 : 0;
}

struct store *store_jobs_get(struct worker *worker)
{
	struct store_slot *s = worker->slots[jobs_slot];
	return s->store;
}

void store_jobs_note(struct worker *worker)
{
	struct store_slot *s = worker->slots[jobs_slot];
	bool up = store_connected(s->store);
	if (up && !s->connected)
		metrics_inc(&metrics.store_connected);
	else if (!up && s->connected)
		metrics_dec(&metrics.store_connected);
	s->connected = up;
}
