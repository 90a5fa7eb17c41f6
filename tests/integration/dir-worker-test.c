/* The directory through the worker pool, as cairnd will use it: a worker
 * hook gives each worker thread its own dir_handle (its own LDAP connection)
 * next to its own store; jobs resolve addresses concurrently and share the
 * lookup cache. Usage: dir-worker-test CONFIG WORKERS ROUNDS ADDRESS...
 * Resolves every address ROUNDS times, checks that every answer for one
 * address is the same, and prints one line per address plus the number of
 * distinct handles used. Exit 0, or 1 on a mismatch. Run by test_directory.py. */
#include "autoconf.h"
#include "config.h"
#include "directory.h"
#include "log.h"
#include "loop.h"
#include "store.h"
#include "worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct config *test_cfg;
static int store_slot = -1;

struct result_job {
	struct job job;
	const char *address;
	size_t index;
	int status;
	char *text;		/* kind and sorted targets */
	void *handle;
};

static struct loop *loop;
static size_t pending;
static char **first_text;
static int *first_status;
static bool mismatch;
static void *handles[256];
static size_t nhandles;

static void *store_init(struct worker *worker)
{
	return store_open(test_cfg);
}

static void store_deinit(void *state)
{
	struct store *st = state;
	store_close(&st);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void job_run(struct job *_job, struct worker *worker)
{
	struct result_job *job = (struct result_job *)_job;
	struct dir_handle *h = dir_worker_handle(worker, worker->slots[store_slot]);
	struct dir_route r;
	const char *error;
	job->handle = h;
	job->status = dir_resolve(h, job->address, &r, &error);
	struct buf b;
	buf_init(&b, 0);
	if (job->status == DIR_OK) {
		char **t = xcalloc(r.ntargets + 1, sizeof(*t));
		for (size_t i = 0; i < r.ntargets; i++)
			t[i] = r.targets[i].address;
		qsort(t, r.ntargets, sizeof(*t), cmp_str);
		buf_printf(&b, "%d", (int)r.kind);
		for (size_t i = 0; i < r.ntargets; i++)
			buf_printf(&b, " %s", t[i]);
		free(t);
		dir_route_free(&r);
	}
	buf_append_str(&b, "");
	job->text = b.data;
}

static void job_done(struct job *_job)
{
	struct result_job *job = (struct result_job *)_job;
	if (first_text[job->index] == NULL) {
		first_text[job->index] = job->text;
		first_status[job->index] = job->status;
	} else {
		if (first_status[job->index] != job->status ||
		    strcmp(first_text[job->index], job->text) != 0) {
			fprintf(stderr, "MISMATCH %s: %d '%s' vs %d '%s'\n", job->address,
				first_status[job->index], first_text[job->index], job->status,
				job->text);
			mismatch = true;
		}
		free(job->text);
	}
	bool known = false;
	for (size_t i = 0; i < nhandles; i++)
		known |= handles[i] == job->handle;
	if (!known && nhandles < ARRAY_SIZE(handles))
		handles[nhandles++] = job->handle;
	free(job);
	if (--pending == 0)
		loop_stop(loop);
}

int main(int argc, char **argv)
{
	struct config *cfg;
	struct buf errors;
	const char *error;
	if (argc < 5) {
		fprintf(stderr, "usage: dir-worker-test CONFIG WORKERS ROUNDS ADDRESS...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	log_open("dir-worker-test", false);
	log_set_level(LOG_LEVEL_ERR);
	buf_init(&errors, 0);
	if (config_load(argv[1], &cfg, &errors) < 0) {
		fprintf(stderr, "%s", errors.data);
		return 2;
	}
	buf_free(&errors);
	test_cfg = cfg;
	struct directory *dir = dir_create(cfg, &error);
	if (dir == NULL) {
		fprintf(stderr, "%s\n", error);
		return 2;
	}
	store_slot = worker_hook_add(store_init, store_deinit);
	if (store_slot < 0 || dir_worker_register(dir) < 0) {
		fprintf(stderr, "no free worker slot\n");
		return 2;
	}
	unsigned workers = (unsigned)atoi(argv[2]);
	unsigned rounds = (unsigned)atoi(argv[3]);
	size_t naddr = (size_t)(argc - 4);
	first_text = xcalloc(naddr, sizeof(*first_text));
	first_status = xcalloc(naddr, sizeof(*first_status));
	loop = loop_create();
	struct worker_pool *pool = worker_pool_create(loop, workers);
	for (unsigned r = 0; r < rounds; r++) {
		for (size_t i = 0; i < naddr; i++) {
			struct result_job *job = xcalloc(1, sizeof(*job));
			job->job.run = job_run;
			job->job.done = job_done;
			job->address = argv[4 + i];
			job->index = i;
			pending++;
			worker_pool_submit(pool, &job->job);
		}
	}
	loop_run(loop);
	worker_pool_destroy(&pool);
	loop_destroy(&loop);
	for (size_t i = 0; i < naddr; i++) {
		printf("%s %s %s\n", argv[4 + i], dir_status_str(first_status[i]), first_text[i]);
		free(first_text[i]);
	}
	printf("handles=%zu\n", nhandles);
	free(first_text);
	free(first_status);
	dir_destroy(&dir);
	config_free(&cfg);
	return mismatch ? 1 : 0;
}
