/* The outbound queue runners inside cairnd: threads that claim due
 * recipients from PostgreSQL by destination, send them over the remote SMTP
 * client (smtp-client.h) along static routes or MX (route.h, dns.h), sign
 * with DKIM, and record every outcome with the DSNs it causes. */
#ifndef CAIRN_QUEUE_H
#define CAIRN_QUEUE_H

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
/* Ask the runners to stop after their current message (SIGTERM). */
void queue_stop(struct queue *q);
/* Stop, wait for every thread and free; *q = NULL. */
void queue_destroy(struct queue **q);

#endif
