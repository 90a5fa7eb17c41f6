/* The LISTEN side of the store's change notifications. A single libpq
 * connection, driven without blocking from the event loop (PQconnectStart/
 * PQconnectPoll, PQconsumeInput, PQnotifies), re-established on a timer
 * when it drops; subscribers are kept in a small hash by mailbox id. The
 * NOTIFY side is in store-mail-util.c (pg_notify after every change) and,
 * for mailbox list changes ("a<account id>"), in store-mail-box.c. */
#include "autoconf.h"
#include "store-notify.h"
#include "config.h"
#include "log.h"
#include "loop.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTIFY_BUCKETS 1024

enum notify_state { NOTIFY_IDLE, NOTIFY_CONNECTING, NOTIFY_LISTEN_SENT, NOTIFY_LISTENING };

struct store_notify {
	struct loop *loop;
	const struct config *cfg;
	PGconn *pg;
	enum notify_state state;
	struct loop_io *io;
	int io_fd;
	unsigned io_events;
	struct loop_timer retry;
	struct store_notify_sub *buckets[NOTIFY_BUCKETS];
	bool warned;
	/* store_notify_create_channel(): one callback for every notification */
	const char *channel;
	void (*chan_cb)(void *ctx);
	void *chan_ctx;
};

static void notify_io(void *ctx, unsigned events);
static void notify_connect(void *ctx);

static void watch(struct store_notify *n, unsigned events)
{
	int fd = n->pg != NULL ? PQsocket(n->pg) : -1;
	if (n->io != NULL && (fd != n->io_fd || fd < 0)) {
		loop_remove(&n->io);
		n->io_fd = -1;
	}
	if (fd < 0)
		return;
	if (n->io == NULL) {
		n->io = loop_add(n->loop, fd, events, notify_io, n);
		n->io_fd = fd;
	} else if (events != n->io_events) {
		loop_modify(n->io, events);
	}
	n->io_events = events;
}

static void dispatch_all(struct store_notify *n)
{
	/* After a reconnect anything may have changed: every subscriber checks. */
	for (size_t i = 0; i < NOTIFY_BUCKETS; i++) {
		struct store_notify_sub *sub = n->buckets[i], *next;
		for (; sub != NULL; sub = next) {
			next = sub->next;
			sub->cb(sub->mailbox_id, 0, sub->ctx);
		}
	}
}

static void fail(struct store_notify *n, const char *what)
{
	if (!n->warned)
		log_warn("store-notify event=%s reason=\"%s\" retry_ms=%llu", what,
			 n->pg != NULL ? PQerrorMessage(n->pg) : "",
			 (unsigned long long)n->cfg->store.reconnect_interval_ms);
	n->warned = true;
	if (n->io != NULL)
		loop_remove(&n->io);
	n->io_fd = -1;
	if (n->pg != NULL)
		PQfinish(n->pg);
	n->pg = NULL;
	n->state = NOTIFY_IDLE;
	loop_timer_set(n->loop, &n->retry, n->cfg->store.reconnect_interval_ms, notify_connect, n);
}

static void poll_connect(struct store_notify *n)
{
	switch (PQconnectPoll(n->pg)) {
	case PGRES_POLLING_READING:
		watch(n, LOOP_READ);
		return;
	case PGRES_POLLING_WRITING:
		watch(n, LOOP_WRITE);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		fail(n, "connect-failed");
		return;
	}
	char query[96];
	snprintf(query, sizeof(query), "LISTEN %s", n->channel);
	if (PQsetnonblocking(n->pg, 1) != 0 || !PQsendQuery(n->pg, query)) {
		fail(n, "listen-failed");
		return;
	}
	n->state = NOTIFY_LISTEN_SENT;
	watch(n, LOOP_READ | (PQflush(n->pg) == 1 ? LOOP_WRITE : 0));
}

static void dispatch(struct store_notify *n, const char *payload)
{
	char *end;
	/* "a<account id>": that account's mailbox list changed (NOTIFY). */
	bool account = payload[0] == 'a';
	unsigned long long id = strtoull(payload + account, &end, 10);
	if (account ? *end != '\0' : *end != ':')
		return;
	unsigned long long modseq = account ? 1 : strtoull(end + 1, NULL, 10);
	struct store_notify_sub *sub = n->buckets[id % NOTIFY_BUCKETS], *next;
	for (; sub != NULL; sub = next) {
		next = sub->next;
		if (sub->mailbox_id == id && sub->account == account)
			sub->cb(id, modseq == 0 ? 1 : modseq, sub->ctx);
	}
}

static void notify_io(void *ctx, unsigned events)
{
	struct store_notify *n = ctx;
	if (n->state == NOTIFY_CONNECTING) {
		poll_connect(n);
		return;
	}
	if ((events & LOOP_WRITE) != 0 && PQflush(n->pg) == 0)
		watch(n, LOOP_READ);
	if (!PQconsumeInput(n->pg)) {
		fail(n, "connection-lost");
		return;
	}
	while (!PQisBusy(n->pg)) {
		PGresult *res = PQgetResult(n->pg);
		if (res == NULL)
			break;
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok) {
			fail(n, "listen-failed");
			return;
		}
		if (n->state == NOTIFY_LISTEN_SENT) {
			n->state = NOTIFY_LISTENING;
			log_info("store-notify event=listening channel=%s", n->channel);
			n->warned = false;
			if (n->chan_cb != NULL)
				n->chan_cb(n->chan_ctx);
			else
				dispatch_all(n);
		}
	}
	PGnotify *nt;
	bool any = false;
	while ((nt = PQnotifies(n->pg)) != NULL) {
		if (n->chan_cb == NULL)
			dispatch(n, nt->extra);
		any = true;
		PQfreemem(nt);
	}
	if (any && n->chan_cb != NULL)
		n->chan_cb(n->chan_ctx);
	if (PQstatus(n->pg) == CONNECTION_BAD)
		fail(n, "connection-lost");
}

static void notify_connect(void *ctx)
{
	struct store_notify *n = ctx;
	const char *keys[] = { "application_name", "dbname", NULL };
	const char *values[] = { "cairnd-listen", n->cfg->store.conninfo, NULL };
	n->pg = PQconnectStartParams(keys, values, 1);
	if (n->pg == NULL || PQstatus(n->pg) == CONNECTION_BAD) {
		fail(n, "connect-failed");
		return;
	}
	n->state = NOTIFY_CONNECTING;
	watch(n, LOOP_WRITE);
}

struct store_notify *store_notify_create(struct loop *loop, const struct config *cfg)
{
	struct store_notify *n = xcalloc(1, sizeof(*n));
	n->loop = loop;
	n->cfg = cfg;
	n->io_fd = -1;
	n->channel = "cairn_mailbox";
	notify_connect(n);
	return n;
}

struct store_notify *store_notify_create_channel(struct loop *loop, const struct config *cfg,
						 const char *channel, void (*cb)(void *ctx),
						 void *ctx)
{
	struct store_notify *n = xcalloc(1, sizeof(*n));
	n->loop = loop;
	n->cfg = cfg;
	n->io_fd = -1;
	n->channel = channel;
	n->chan_cb = cb;
	n->chan_ctx = ctx;
	notify_connect(n);
	return n;
}

void store_notify_destroy(struct store_notify **np)
{
	struct store_notify *n = *np;
	if (n == NULL)
		return;
	loop_timer_cancel(n->loop, &n->retry);
	if (n->io != NULL)
		loop_remove(&n->io);
	if (n->pg != NULL)
		PQfinish(n->pg);
	for (size_t i = 0; i < NOTIFY_BUCKETS; i++)
		for (struct store_notify_sub *s = n->buckets[i]; s != NULL; s = s->next)
			s->linked = false;
	free(n);
	*np = NULL;
}

void store_notify_subscribe(struct store_notify *n, struct store_notify_sub *sub,
			    uint64_t mailbox_id, store_notify_cb *cb, void *ctx)
{
	store_notify_unsubscribe(n, sub);
	sub->mailbox_id = mailbox_id;
	sub->cb = cb;
	sub->ctx = ctx;
	struct store_notify_sub **head = &n->buckets[mailbox_id % NOTIFY_BUCKETS];
	sub->prev = NULL;
	sub->next = *head;
	if (*head != NULL)
		(*head)->prev = sub;
	*head = sub;
	sub->linked = true;
	sub->account = false;
}

void store_notify_subscribe_account(struct store_notify *n, struct store_notify_sub *sub,
				    uint64_t account_id, store_notify_cb *cb, void *ctx)
{
	store_notify_subscribe(n, sub, account_id, cb, ctx);
	sub->account = true;
}

void store_notify_unsubscribe(struct store_notify *n, struct store_notify_sub *sub)
{
	if (n == NULL || !sub->linked)
		return;
	if (sub->prev != NULL)
		sub->prev->next = sub->next;
	else
		n->buckets[sub->mailbox_id % NOTIFY_BUCKETS] = sub->next;
	if (sub->next != NULL)
		sub->next->prev = sub->prev;
	sub->prev = sub->next = NULL;
	sub->linked = false;
}

bool store_notify_listening(const struct store_notify *n)
{
	return n != NULL && n->state == NOTIFY_LISTENING;
}
