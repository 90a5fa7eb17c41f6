/* The outbound queue runners inside cairnd: threads that claim due
 * recipients from PostgreSQL by destination, send them over the remote SMTP
 * client (smtp-client.h) along static routes or MX (route.h, dns.h), sign
 * with DKIM, and record every outcome with the DSNs it causes. */
#ifndef CAIRN_QUEUE_H
#define CAIRN_QUEUE_H

#include <stddef.h>

struct config;
struct directory;
struct queue;

/* Start [queue] runners runner threads (and a LISTEN thread that wakes them
 * when mail is queued). Returns NULL when runners = 0. Fatal on a broken
 * environment (TLS context). */
struct queue *queue_start(const struct config *cfg, struct directory *dir);
/* Wake one idle runner of this process: mail was just queued here. Safe to
 * call at any time, also before queue_start or after queue_destroy (then
 * it does nothing): the delivery pipeline calls it (deliver_set_queued_hook). */
void queue_wake(void);
/* Sieve for the DSNs the queue writes to a local sender (issue 16: every
 * local delivery runs the user's scripts). The hook runs account's scripts
 * on the DSN data (without Return-Path) sent from <>: 0 with *txn_r and
 * *plan_r (freed with free_fn) to carry out in the outcome's transaction,
 * or with *txn_r NULL when the account has no scripts (plain INBOX append);
 * -1 on an error (the DSN then goes to INBOX). Set once before the
 * runners start (deliver_sieve_setup), NULL to remove. */
struct store;
struct store_sieve_txn;
typedef int queue_dsn_sieve_fn(struct store *st, const char *account, const char *data,
			       size_t size, struct store_sieve_txn **txn_r, void **plan_r);
typedef void queue_dsn_sieve_free_fn(void *plan);
void queue_set_dsn_sieve_hook(queue_dsn_sieve_fn *fn, queue_dsn_sieve_free_fn *free_fn);
/* Ask the runners to stop after their current message (SIGTERM). */
void queue_stop(struct queue *q);
/* Stop, wait for every thread and free; *q = NULL. */
void queue_destroy(struct queue **q);

#endif
