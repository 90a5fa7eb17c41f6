/* Glue between the worker pool and the store: each worker thread owns one
 * struct store (one PostgreSQL connection), opened by a worker init hook. */
#ifndef CAIRN_STORE_JOBS_H
#define CAIRN_STORE_JOBS_H

struct config;
struct store;
struct worker;

/* Register the per-worker store hook; call once before worker_pool_create.
 * cfg must outlive the pool. Returns 0 or -1 (no free worker slot). */
int store_jobs_register(const struct config *cfg);
/* The calling worker's store handle. */
struct store *store_jobs_get(struct worker *worker);
/* Record, after a job used the store, whether its connection is up; keeps
 * the cairn_store_pool_connected gauge right. */
void store_jobs_note(struct worker *worker);

#endif
