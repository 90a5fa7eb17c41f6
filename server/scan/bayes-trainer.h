/* The Bayes trainer of cairnd: a timer that, every [bayes] train_interval,
 * runs one job on the worker pool to do the trainings the IMAP triggers of
 * migration 0023 queued (moves into and out of Junk, $Junk/$NotJunk) and
 * the daily token expiry. One job at a time per node; several nodes share
 * the queue (rows are taken with SKIP LOCKED). */
#ifndef CAIRN_BAYES_TRAINER_H
#define CAIRN_BAYES_TRAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct loop;
struct worker_pool;

/* Start the timer (no-op when [bayes] enabled = no). cfg must outlive it. */
void bayes_trainer_start(struct loop *loop, struct worker_pool *pool, const struct config *cfg);
/* Stop it: no job is submitted after this (call before the pool stops). */
void bayes_trainer_stop(void);

/* Train one message into account_id's database (and the global one).
 * Returns 0, or -1 with *error_r. Used by the trainer and cairnctl. */
struct store;
enum store_bayes_learned;
int bayes_train_message(struct store *st, uint64_t account_id, bool spam, const char *raw,
			size_t size, enum store_bayes_learned *result_r, const char **error_r);

#endif
